//! The runtime of [sandbox-template](https://docs.rs/sandbox-template): the template model and
//! builder, validation rules, JSON and Dockerfile export, and the build context.
//!
//! Most users reach this crate through the `sandbox-template` facade and its `template!` macro;
//! everything here also works on its own, for templates assembled at run time:
//!
//! ```
//! use sandbox_template_runtime::{Template, wait_for_port};
//!
//! let template = Template::new()
//!     .from_python_image("3.12")
//!     .set_envs([("APP_ENV", "prod")])
//!     .run_cmd("pip install --no-cache-dir flask")
//!     .set_start_cmd("python -m http.server 8000", wait_for_port(8000));
//! let json = template.to_json().unwrap();
//! assert!(json.contains("\"fromImage\": \"python:3.12\""));
//! ```

#![warn(missing_docs)]
// docs.rs (nightly, `--cfg docsrs`) marks each feature-gated item with its feature; inert elsewhere.
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "cloud")]
pub mod cloud;
pub mod context;
mod distro;
pub mod dockerfile;
mod error;
mod export;
mod image_config;
mod image_ref;
#[cfg(feature = "local")]
pub mod local;
mod mcp;
mod provider;
mod quote;
mod ready;
mod rebuild;
mod registry;
pub mod rules;
mod secret;
mod step;
mod suggest;
mod template;
mod validate;
pub mod wire;

pub use distro::{DISTROS, Distro, Version};
pub use error::{Error, ValidationError, ValidationErrors};
pub use export::JsonOptions;
pub use image_config::ImageConfig;
pub use image_ref::ImageRef;
pub use provider::{Provider, UnknownProvider};
pub use quote::shell_quote;
pub use ready::{
    ReadyCmd, wait_for_file, wait_for_port, wait_for_process, wait_for_timeout, wait_for_url, wait_for_url_status,
};
pub use registry::{GcpServiceAccount, OciCredentials, RegistryCredentials};
pub use rules::Rule;
pub use secret::Secret;
pub use step::{CopyStep, SourceLocation, Step, StepKind};
pub use template::{
    AptOptions, Base, CopyItem, CopyOptions, EnvOptions, FileOptions, GitCloneOptions, JsInstallOptions,
    MakeDirOptions, PipOptions, RemoveOptions, RunOptions, Strings, Template,
};

/// What the other crates of this workspace need from the runtime and users do not: not a public
/// API, no semver promise. Everything here is `pub` only because another crate (or the code the
/// `template!` macro expands into, compiled in the user's crate) has to name it.
#[doc(hidden)]
pub mod __private {
    use crate::{SourceLocation, Template};

    /// The DSL (`sandbox-template-dsl`): "did you mean" for its keywords, options and build args,
    /// the same helper the Dockerfile reader uses.
    pub use crate::suggest::did_you_mean;

    /// The DSL's `embed;`: it plans at compile time which files the expansion compiles in, with
    /// the run-time enumeration, so the embedded context hashes and archives like the folder.
    pub use crate::context::embed_plan::{EmbedSource, PlannedEntry, PlannedKind, plan_embedding};

    /// The `template!` expansion (through `sandbox_template::__private`): `from python "3.12"`
    /// names the distro table's entry in a `const` block, so an unknown keyword (a macro crate
    /// and runtime of different versions) fails to compile instead of building a wrong image.
    pub const fn distro_named(keyword: &str) -> &'static crate::Distro {
        crate::Distro::named(keyword)
    }

    /// The build server (`sandbox-template-server`): it kills the engine build of a deleted
    /// template with everything under it, as the local engine does when a build is abandoned.
    #[cfg(feature = "local")]
    pub use crate::local::build::{descendants, processes};

    /// The DSL's `.tmpl` interpreter: points what one statement added (steps since the template
    /// had `first_step`, the base if `base`, the start/ready command if `finish`) at that
    /// statement's line instead of the interpreter's builder calls.
    pub fn relocate(
        template: Template,
        first_step: usize,
        base: bool,
        finish: bool,
        location: SourceLocation,
    ) -> Template {
        template.relocate(first_step, base, finish, location)
    }

    /// The build server (`sandbox-template-server`): the request and response bodies of the
    /// template build API that only a server reads or writes (the client's side of them stays
    /// inside `cloud`; what a client returns is public in [`cloud`](crate::cloud)).
    #[cfg(feature = "cloud")]
    pub mod api {
        pub use crate::cloud::api::{
            AliasResponse, ApiErrorBody, AssignTagsRequest, CreateTemplateRequest, CreateTemplateResponse,
            DeleteTagsRequest, FileUploadInfo,
        };
    }
}
