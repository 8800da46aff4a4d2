//! # sandbox-template
//!
//! Cloud sandbox templates (the images [E2B](https://e2b.dev) and [Novita](https://novita.ai)
//! sandboxes boot from) as compile-checked Rust.
//!
//! ```
//! use sandbox_template::{Template, wait_for_port};
//!
//! let template = Template::new()
//!     .from_python_image("3.12")
//!     .pip_install(["fastapi", "uvicorn"])
//!     .set_start_cmd("uvicorn main:app --port 8000", wait_for_port(8000));
//! assert!(template.validate().is_ok());
//! ```
//!
//! The [`template!`] macro checks the same template while `cargo build` runs and expands into the
//! builder calls above:
//!
//! ```
//! use sandbox_template::template;
//!
//! let api = template! {
//!     from python "3.12";
//!     env APP_ENV = "production";
//!     pip install "fastapi", "uvicorn";
//!     start "uvicorn main:app --port 8000" ready port 8000;
//! };
//! assert_eq!(api.steps().len(), 2);
//! ```
//!
//! Templates can also be module-level constants, several per invocation:
//!
//! ```
//! sandbox_template::template! {
//!     /// The worker image.
//!     pub static WORKER = {
//!         from node "22";
//!         npm install "bullmq" (global);
//!     };
//! }
//! assert!(WORKER.to_json().unwrap().contains("node:22"));
//! ```
//!
//! Paths (`copy` sources, `from dockerfile`, `context`) are relative to the source file that
//! writes the template, like `include_str!`, and the copied files are tracked so that editing one
//! rebuilds the crate. The template's context is that absolute folder; a binary run on another
//! machine points it elsewhere with [`Template::with_context`] at run time, or compiles the files
//! in with `embed;`.
//!
//! `{expr}` in place of any string takes the value from Rust at run time; it is checked by the
//! same rules when the template is validated or built. What is read at compile time takes
//! literals only: the `from dockerfile` path and its build args
//! (`from dockerfile "Dockerfile" (arg VERSION = "3.12");`).

pub use sandbox_template_runtime::*;

/// The template build API on this machine (`sandbox-template serve`), feature `server`.
#[cfg(feature = "server")]
pub use sandbox_template_server as server;

// The DSL reference, kept in the repository as docs/dsl.md so that it reads the same there and
// on docs.rs; its examples run as doctests.
#[doc = include_str!("../docs/dsl.md")]
pub use sandbox_template_macros::template;

/// The build.rs API (feature `build-script`): compile every `.tmpl` file of a folder into Rust
/// constants.
///
/// ```no_run
/// // build.rs
/// fn main() -> Result<(), sandbox_template::build_script::BuildError> {
///     sandbox_template::build_script::compile_dir("templates")
/// }
/// ```
/// then, in the crate, `mod templates { sandbox_template::include_templates!(); }`.
#[cfg(feature = "build-script")]
pub mod build_script {
    pub use sandbox_template_dsl::build::{BuildError, OUT_FILE, compile_dir, const_name, generate};
}

/// Includes the constants a build script generated with `build_script::compile_dir`
/// (`templates/api.tmpl` becomes `API: LazyLock<Template>`). `examples/buildrs` uses it (a
/// doctest cannot: it has no build script, hence no `OUT_DIR`):
///
/// ```ignore
/// mod templates {
///     sandbox_template::include_templates!();
/// }
/// let json = templates::API.to_json()?;
/// ```
#[macro_export]
macro_rules! include_templates {
    () => {
        ::core::include!(::core::concat!(::core::env!("OUT_DIR"), "/sandbox_templates.rs"));
    };
}

/// Implementation details used by `template!` expansions. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use ::std::convert::Into;
    pub use ::std::string::String;
    pub use ::std::sync::LazyLock;
    pub use ::std::time::Duration;
    pub use sandbox_template_runtime;
    pub use sandbox_template_runtime::{
        AptOptions, CopyOptions, FileOptions, GcpServiceAccount, GitCloneOptions, JsInstallOptions, MakeDirOptions,
        PipOptions, RemoveOptions, RunOptions, Secret, Strings, Template, wait_for_file, wait_for_port,
        wait_for_process, wait_for_timeout, wait_for_url, wait_for_url_status,
    };
}

/// Keeps the README's Rust examples compiling and running (`cargo test --doc`).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;
