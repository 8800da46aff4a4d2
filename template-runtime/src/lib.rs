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

#[cfg(feature = "cloud")]
pub mod cloud;
pub mod context;
mod distro;
pub mod dockerfile;
mod error;
mod export;
mod image_ref;
#[cfg(feature = "local")]
pub mod local;
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

pub use context::ContextSource;
pub use distro::{DISTROS, Distro, Version};
pub use error::{Error, ValidationError, ValidationErrors};
pub use export::JsonOptions;
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
pub use suggest::did_you_mean;
pub use template::{
    AptOptions, Base, CopyItem, CopyOptions, FileOptions, GitCloneOptions, JsInstallOptions, MakeDirOptions,
    PipOptions, RemoveOptions, RunOptions, Strings, Template,
};
pub use wire::{BuildRequest, WireStep};
