//! The `template!` macro of [sandbox-template](https://docs.rs/sandbox-template). Use it through
//! the facade crate (`sandbox_template::template!`); the grammar, checks and expansion live in
//! `template-dsl`, this crate only connects them to the compiler.

use std::path::PathBuf;

use proc_macro::TokenStream;

/// A sandbox template, checked while the crate compiles.
///
/// Expression form: `template! { from python "3.12"; run "..."; }` is a `Template`.
/// Item form: `template! { /// docs
/// pub static NAME = { ... }; }` defines `LazyLock<Template>` statics.
///
/// See the `sandbox-template` crate documentation for the grammar.
#[proc_macro]
pub fn template(input: TokenStream) -> TokenStream {
    sandbox_template_dsl::expand(input.into(), source_dir()).into()
}

/// The folder of the source file that invokes the macro: relative paths resolve against it, like
/// `include_str!`. Falls back to the package root when the compiler cannot name a file.
fn source_dir() -> Option<PathBuf> {
    let file = proc_macro::Span::call_site().local_file();
    let dir = match file {
        Some(f) => f.parent().map(PathBuf::from),
        None => std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from),
    }?;
    // rustc may name the file relative to its working folder.
    std::path::absolute(&dir).ok()
}
