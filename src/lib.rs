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
//!
//! # What is where
//!
//! * **Model and builder** (the crate root): [`Template`] and its option types ([`CopyOptions`],
//!   [`RunOptions`], ...), the base ([`Base`], [`Distro`], [`Version`], [`ImageRef`]), the steps a
//!   template holds ([`Step`], [`StepKind`], [`CopyStep`], [`SourceLocation`]), [`Secret`] and the
//!   registry credentials, the ready checks ([`ReadyCmd`], [`wait_for_port`], ...), [`Provider`],
//!   and what [`Template::validate`] reports ([`Error`], [`ValidationErrors`], [`Rule`]).
//! * **Validation rules**: [`rules`], the plain functions `validate()` and the macro both apply.
//! * **Export**: [`JsonOptions`] for [`Template::to_json_with`], the build request as values
//!   ([`wire`]), Dockerfile import ([`dockerfile`], behind [`Template::from_dockerfile`]).
//! * **Build context**: [`context`], the files a COPY step takes, their `filesHash` and (feature
//!   `archive`) their tar.gz.
//! * **Building** (one feature each, so not linked here: the modules exist only with their
//!   feature): `cloud` (feature `cloud`, on by default) builds on E2B or Novita; `local` (feature
//!   `local`) builds and runs with Docker or Podman; `server` (feature `server`) is the template
//!   build API on this machine, as `sandbox-template serve` runs it; `build_script` (feature
//!   `build-script`) compiles `.tmpl` files from a build script, and [`include_templates!`]
//!   includes what it generated.
//!
//! With `default-features = false` the crate is the macro, the builder, validation, export and
//! context hashing: no tokio, no HTTP client, no tar or gzip.

// docs.rs (nightly, `--cfg docsrs`) marks each feature-gated item with its feature; inert elsewhere.
#![cfg_attr(docsrs, feature(doc_cfg))]

// ----- Model and builder ---------------------------------------------------------------------

pub use sandbox_template_runtime::{
    AptOptions, Base, CopyItem, CopyOptions, DISTROS, Distro, EnvOptions, FileOptions, GitCloneOptions, ImageRef,
    JsInstallOptions, MakeDirOptions, PipOptions, Provider, RemoveOptions, RunOptions, Strings, Template,
    UnknownProvider, Version,
};
// The steps a template holds, and where each was added.
pub use sandbox_template_runtime::{CopyStep, SourceLocation, Step, StepKind};
// Secrets and private-registry credentials.
pub use sandbox_template_runtime::{GcpServiceAccount, OciCredentials, RegistryCredentials, Secret};
// The start command's ready check.
pub use sandbox_template_runtime::{
    ReadyCmd, wait_for_file, wait_for_port, wait_for_process, wait_for_timeout, wait_for_url, wait_for_url_status,
};
// What validation and the build report.
pub use sandbox_template_runtime::{Error, Rule, ValidationError, ValidationErrors};
// Quoting a value for a `run_cmd` exactly as the SDKs quote theirs.
pub use sandbox_template_runtime::shell_quote;

/// The validation rules: one plain function per kind of value, returning the [`Rule`] a value
/// breaks. [`Template::validate`] and the `template!` macro (at compile time) apply these same
/// functions; call them to check a value before it goes into a template.
///
/// ```
/// use sandbox_template::rules;
///
/// assert!(rules::env_key("APP_ENV").is_ok());
/// let broken = rules::port(70000).unwrap_err();
/// assert!(broken.to_string().contains("70000"));
/// ```
pub mod rules {
    pub use sandbox_template_runtime::rules::{
        Rule, command, copy_source, env_key, env_keys, file_mode, http_status, image_reference, mcp_server_name,
        package_name, path, port, user,
    };
}

// ----- Export --------------------------------------------------------------------------------

pub use sandbox_template_runtime::JsonOptions;
// What a base image declares, inherited by Novita templates (`Template::apply_image_config`;
// read from the registry by `cloud::ImageConfigClient`).
pub use sandbox_template_runtime::ImageConfig;

/// The build request as values: what [`Template::to_json`] prints, [`Template::build_request`]
/// returns and [`Template::from_build_request`] reads back (Serialize + Deserialize, the JSON of
/// the official SDKs).
///
/// ```
/// use sandbox_template::{Provider, Template};
/// use sandbox_template::wire::BuildRequest;
///
/// let t = Template::new().from_python_image("3.12").run_cmd("echo hi");
/// let request: BuildRequest = t.build_request(Provider::E2b, false).unwrap();
/// assert_eq!(request.steps.len(), 1);
/// let again = Template::from_build_request(&request, std::path::Path::new(".")).unwrap();
/// assert_eq!(again.steps().len(), 1);
/// ```
pub mod wire {
    pub use sandbox_template_runtime::wire::{BuildRequest, StepError, WireStep};
}

/// Dockerfile import: a Dockerfile as template steps, as [`Template::from_dockerfile`] reads it,
/// with [`convert`](dockerfile::convert) for its warnings.
///
/// ```
/// use sandbox_template::dockerfile::DockerfileOptions;
/// use sandbox_template::{Base, Template};
///
/// let dockerfile = "ARG PY=3.12\nFROM python:$PY\nRUN pip install flask\n";
/// let t = Template::new().from_dockerfile_with(dockerfile, &DockerfileOptions::new().build_arg("PY", "3.13")).unwrap();
/// assert_eq!(t.base(), &Base::Image("python:3.13".into()));
/// ```
pub mod dockerfile {
    pub use sandbox_template_runtime::dockerfile::{
        Converted, ConvertedStep, DockerfileError, DockerfileOptions, DockerfileWarning, convert,
    };
}

// ----- Build context -------------------------------------------------------------------------

/// The build context: the files each COPY step takes (`.dockerignore` and the template's ignore
/// patterns applied), their `filesHash`, and (feature `archive`) the tar.gz uploaded for them.
/// Files come from a folder or, with the DSL's `embed;`, from the binary ([`ContextSource`](context::ContextSource)).
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// # std::fs::write(dir.path().join("main.py"), "print(1)\n").unwrap();
/// use sandbox_template::context::BuildContext;
///
/// let ctx = BuildContext::open(dir.path()).unwrap();
/// let main = ctx.source("main.py", "/app/", false).unwrap();
/// assert_eq!(main.entries().len(), 1);
/// assert_eq!(main.files_hash().unwrap().len(), 64);
/// ```
pub mod context {
    pub use sandbox_template_runtime::context::{
        BuildContext, ContextSource, CopySource, EmbeddedDir, EmbeddedEntry, EmbeddedKind, Entry, EntryKind,
    };
}

// ----- Building --------------------------------------------------------------------------------

#[cfg(feature = "cloud")]
#[doc(inline)]
pub use sandbox_template_runtime::cloud;

#[cfg(feature = "local")]
#[doc(inline)]
pub use sandbox_template_runtime::local;

/// The template build API on this machine (`sandbox-template serve`), feature `server`.
#[cfg(feature = "server")]
#[doc(inline)]
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
/// (`templates/api.tmpl` becomes `API: LazyLock<Template>`), and `ALL`, every template with its
/// name (`&[("api", &API), …]`). A template the crate does not use is no `dead_code` warning.
/// `examples/buildrs` uses it (a doctest cannot: it has no build script, hence no `OUT_DIR`):
///
/// ```ignore
/// mod templates {
///     sandbox_template::include_templates!();
/// }
/// let json = templates::API.to_json()?;
/// for (name, template) in templates::ALL {
///     println!("{name}: {}", template.to_json()?);
/// }
/// ```
#[macro_export]
macro_rules! include_templates {
    () => {
        ::core::include!(::core::concat!(::core::env!("OUT_DIR"), "/sandbox_templates.rs"));
    };
}

mod holes;

/// Implementation details used by `template!` expansions (`template-dsl/src/lower.rs`, and the
/// statics `build_script` generates): every path they name, so that the expansion compiles
/// whatever the user has in scope. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::holes::{DirValue, ReadyValue, SecretValue, StrValue, StringsValue};
    pub use ::std::convert::Into;
    pub use ::std::path::PathBuf;
    pub use ::std::string::String;
    pub use ::std::sync::LazyLock;
    pub use ::std::time::Duration;
    pub use sandbox_template_runtime::__private::distro_named;
    pub use sandbox_template_runtime::context::{EmbeddedDir, EmbeddedEntry, EmbeddedKind};
    pub use sandbox_template_runtime::{
        AptOptions, CopyOptions, EnvOptions, FileOptions, GcpServiceAccount, GitCloneOptions, JsInstallOptions,
        MakeDirOptions, OciCredentials, PipOptions, Provider, RemoveOptions, RunOptions, Secret, Strings, Template,
        Version, wait_for_file, wait_for_port, wait_for_process, wait_for_timeout, wait_for_url, wait_for_url_status,
    };
}

/// Keeps the README's Rust examples compiling and running (`cargo test --doc`).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;
