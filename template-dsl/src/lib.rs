//! The sandbox-template DSL: the grammar of `template! { ... }` and `.tmpl` files, its
//! compile-time checks, and what it turns into.
//!
//! ```text
//! tokens ──ast::Body::parse──▶ statements ──check::check──▶ model::Checked ─┬─lower::lower──▶ Rust (template!, build.rs)
//!                                                                         └─interp::interpret──▶ Template (.tmpl, CLI)
//! ```
//!
//! Problems are collected in a [`Ctxt`] and reported all at once, each spanned at the offending
//! token with what to write instead. The rules are the runtime's own ([`template_runtime::rules`]).
//!
//! Most users meet this crate through `sandbox_template::template!` and the CLI; the entry points
//! here are [`expand`] (the macro), [`tmpl::load`] (a `.tmpl` file) and [`build::compile_dir`]
//! (build.rs).
//!
//! ```
//! let text = r#"from python "3.12"; run "echo hi";"#;
//! let template = template_dsl::tmpl::load_str(text, "inline.tmpl", None).unwrap();
//! assert_eq!(template.steps().len(), 1);
//! ```

pub mod ast;
pub mod build;
pub mod check;
pub mod diag;
pub mod dockerfile;
pub mod files;
pub mod interp;
pub mod lower;
pub mod model;
pub mod tmpl;

use std::path::PathBuf;

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::Parser;

pub use check::Env;
pub use diag::{Ctxt, Diagnostic};
pub use model::Checked;

/// Parses and checks a template body (the text between the braces of `template! { ... }`).
pub fn check_tokens(tokens: TokenStream, env: &Env) -> Result<Checked, Vec<Diagnostic>> {
    let mut cx = Ctxt::default();
    let body = ast::Body::parse(tokens, &mut cx);
    let checked = check::check(&body, env, &mut cx);
    if cx.is_empty() { Ok(checked) } else { Err(cx.into_vec()) }
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
    let env = Env { base_dir, allow_exprs: true };
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
        let value = match check_tokens(body, &env) {
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
