//! The sandbox-template DSL: the grammar of `template! { ... }` and `.tmpl` files, its
//! compile-time checks, and what it turns into.
//!
//! ```text
//! tokens ──ast::Body::parse──▶ statements ──check::check──▶ model::Checked ─┬─lower::lower──▶ Rust (template!, build.rs)
//!                                                                         └─interp::interpret_in──▶ Template (.tmpl, CLI)
//! ```
//!
//! Problems are collected in a [`Diagnostics`] and reported all at once, each spanned at the offending
//! token with what to write instead. The rules are the runtime's own ([`sandbox_template_runtime::rules`]).
//!
//! Most users meet this crate through `sandbox_template::template!` and the CLI; the entry points
//! here are [`expand`] (the macro), [`tmpl::load`] (a `.tmpl` file) and [`build::compile_dir`]
//! (build.rs).
//!
//! # What the DSL means (beyond the grammar of `docs/dsl.md`, the rustdoc of `sandbox_template::template!`)
//!
//! * **Paths.** `copy` sources are relative to the template's context folder: the `context`
//!   header (itself relative to the source file that writes the template), else the folder of
//!   that source file (like `include_str!`; the compiler names it through
//!   `proc_macro::Span::local_file`, with `CARGO_MANIFEST_DIR` as the fallback). A `.tmpl` file's
//!   context defaults to its own folder. `from dockerfile "path"` is relative to the source file.
//!   Copy sources that are absolute, climb out with `..`, match nothing after `.dockerignore` and
//!   `ignore` rules, or (with `resolve_symlinks`) lead out through a symlink are compile errors:
//!   the enumeration is the runtime's own `BuildContext`, so the macro and the build agree.
//! * **Rebuilds.** Every copied file (at most 2,000 per template) and every
//!   Dockerfile is named in an `include_bytes!` of the expansion, so editing one rebuilds the
//!   crate. Beyond the cap, edits to the other files do not trigger a rebuild by themselves.
//! * **Context at run time.** Without `embed;`, the expansion calls `.with_context(DIR)` with the
//!   absolute folder of the machine that compiled it; a binary run elsewhere points the template
//!   at its files with `.with_context(dir)`. With `embed;` the copied files (and the context's
//!   `.dockerignore`) are compiled in, and hashing and upload read them from memory with the same
//!   `filesHash` as from disk.
//! * **`{expr}`.** In a single-string position the expression is anything `Into<String>`; a list
//!   position holding one `{expr}` takes anything `Into<Strings>`, so it may be a `Vec`, an array
//!   or a slice of strings; in a list mixing literals and expressions each expression is an
//!   `Into<String>`. Each goes through a trait of the facade's `__private` (`src/holes.rs`) that
//!   accepts exactly that, so a value of the wrong type is reported at the `{expr}` with what to
//!   write, not as a missing `From` impl. After `ready`, `{expr}` is anything that converts
//!   into a `ReadyCmd` (e.g. `{wait_for_port(port)}`); in a secret position it converts into a
//!   `Secret`; `context {expr}` is a folder chosen at run time (compile-time file checks and
//!   `embed` then do not apply). Values from Rust are checked by the same rules when the
//!   template is validated, exported or built.
//! * **Build args.** `from dockerfile "Dockerfile" (arg VERSION = "3.12", arg "BASE" = "x");`
//!   converts the Dockerfile with those build args (like `docker build --build-arg`): each name
//!   (an identifier or a string) must be declared by an `ARG` of the Dockerfile and given once.
//!   The values are string literals, not `{expr}`: the Dockerfile is converted while the crate
//!   compiles, so a value known only at run time could not change the steps the macro writes;
//!   for that, convert at run time with `Template::from_dockerfile_with(include_str!(...),
//!   &DockerfileOptions::new().build_arg(NAME, value))`.
//! * **Secrets** are never literals: `env("VAR")` is read when the build runs, `file("path")` is
//!   read when the build runs (relative to the context folder; never compiled in), `{expr}` is a
//!   `Secret` made by the program.
//! * **Errors** are all reported at once. The macro then still expands to a value of the right
//!   type (`Template::new()`, or the statics of the item form), so the rest of the crate shows no
//!   follow-on errors.
//! * **`.tmpl` files** take literal strings only (no `{expr}`, no `embed`); `env("VAR")` secrets
//!   are read when the template is exported or built (e.g. by `sandbox-template json`).
//!
//! ```
//! let text = r#"from python "3.12"; run "echo hi";"#;
//! let template = sandbox_template_dsl::tmpl::load_str(text, "inline.tmpl", None).unwrap();
//! assert_eq!(template.steps().len(), 1);
//! ```

// The stages of the pipeline are this crate's own business; what other crates call is the macro's
// `expand`, `.tmpl` files (`tmpl`), the build.rs API (`build`) and the few types below.
mod ast;
#[cfg(feature = "build-script")]
pub mod build;
mod check;
mod diag;
mod dockerfile;
mod files;
mod interp;
mod lower;
mod model;
pub mod tmpl;
pub mod write;

use std::path::PathBuf;

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::Parser;

/// The grammar's keywords: every statement, and every base after `from` (for tools: completion,
/// the never-panics fuzz test's word list).
pub use ast::{BASES, STATEMENTS};
pub use check::Env;
pub use diag::{Diagnostic, Diagnostics};
pub use model::Checked;

/// Parses and checks a template body (the text between the braces of `template! { ... }`).
pub fn check_tokens(tokens: TokenStream, env: &Env) -> Result<Checked, Vec<Diagnostic>> {
    check_tokens_at(tokens, env, proc_macro2::Span::call_site())
}

/// [`check_tokens`], reporting problems of the template as a whole at `site`.
fn check_tokens_at(tokens: TokenStream, env: &Env, site: proc_macro2::Span) -> Result<Checked, Vec<Diagnostic>> {
    let mut cx = Diagnostics::default();
    let body = ast::Body::parse(tokens, &mut cx);
    let checked = check::check(&body, env, site, &mut cx);
    if cx.is_empty() {
        return Ok(checked);
    }
    // Checks that need every statement (a step before the base, copy sources) report after the
    // per-statement ones: put everything back in source order, as rustc does (stable, so problems
    // at the same token keep the order they were found in).
    let mut diags = cx.into_vec();
    diags.sort_by_key(|d| {
        let start = d.span.start();
        (start.line, start.column)
    });
    Err(diags)
}

fn errors(diags: &[Diagnostic]) -> TokenStream {
    diags.iter().map(Diagnostic::to_compile_error).collect()
}

/// The `template!` macro. `base_dir` is the folder of the source file that invokes it (relative
/// paths resolve against it); `None` skips file checks.
///
/// Expression form (`template! { from ...; ... }`) gives a `Template`; item form
/// (`template! { pub static NAME = { ... }; ... }`) gives `LazyLock<Template>` statics. On errors
/// the output is the `compile_error!`s plus a value of the right type, so the user's code shows no
/// follow-on errors.
pub fn expand(input: TokenStream, base_dir: Option<PathBuf>) -> TokenStream {
    let env = Env { base_dir, allow_exprs: true, check_copy_sources: true };
    let p = quote!(::sandbox_template::__private);
    if !ast::is_item_form(&input) {
        return match check_tokens(input, &env) {
            Ok(checked) => lower::lower(&checked),
            Err(diags) => {
                let errors = errors(&diags);
                quote!({ #errors #p::Template::new() })
            }
        };
    }
    let items = match ast::parse_items.parse2(input) {
        Ok(items) => items,
        Err(e) => return e.to_compile_error(),
    };
    let mut out = TokenStream::new();
    for item in items {
        let ast::ItemDef { attrs, vis, static_token, name, body, .. } = item;
        let value = match check_tokens_at(body, &env, name.span()) {
            Ok(checked) => {
                let expr = lower::lower(&checked);
                quote!(#p::LazyLock::new(|| #expr))
            }
            Err(diags) => {
                out.extend(errors(&diags));
                quote!(#p::LazyLock::new(#p::Template::new))
            }
        };
        out.extend(quote! {
            #attrs
            #vis #static_token #name: #p::LazyLock<#p::Template> = #value;
        });
    }
    out
}
