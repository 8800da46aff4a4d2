//! Cloud builds: the E2B / Novita template build client (feature `cloud`).
//!
//! The conversation follows the official SDKs on the wire (SPEC §D–§E): `POST /v3/templates`,
//! `GET .../files/{hash}` per COPY step and a `PUT` of the archives the service lacks,
//! `POST /v2/.../builds/{id}` with the same JSON body as the JS SDK, then status polling with
//! `logsOffset`. Where this client differs it is on purpose: everything that can fail locally
//! fails before the template is created; 429/502/503/504 and connection failures are retried
//! where repeating is safe; uploads stream from disk with bounded memory; dropping a build
//! future cancels it. Every server is treated as untrusted: redirects are not followed (the API
//! key would go with them, as the Python SDK also declines), answers are read up to a bound
//! (1 MiB for errors, 32 MiB otherwise), server text is made [`terminal_safe`], a build gives up
//! after [`CloudBuildOptions::DEFAULT_BUILD_TIMEOUT`] and the log drained after it ends is
//! bounded.
//!
//! Templates are managed as the SDKs do: [`Client::list_templates`], [`Client::get_template`],
//! [`Client::delete_template`], [`Client::exists`], the tag methods and [`Client::build_status`].
//!
//! ```no_run
//! # async fn run() -> Result<(), sandbox_template_runtime::cloud::CloudError> {
//! use sandbox_template_runtime::{Provider, Template};
//! use sandbox_template_runtime::cloud::{BuildEvent, CloudBuildOptions, Client};
//!
//! let template = Template::new().from_node_image("22").npm_install("express");
//! let options = CloudBuildOptions::default().tag("v1").on_event(|e| {
//!     if let BuildEvent::Log(line) = e {
//!         println!("{}", line.message);
//!     }
//! });
//! let info = Client::from_env(Provider::E2b)?.build(&template, "express-app", &options).await?;
//! # Ok(()) }
//! ```

pub(crate) mod api;
mod client;
mod config;
pub(crate) mod context_bridge;
mod error;
mod http;
mod image_config;
mod logs;
mod options;
mod terminal;
mod upload;

pub use api::{
    AssignedTags, BuildState, BuildStatus, LogEntry, StatusReason, TeamUser, TemplateBuild, TemplateDetails,
    TemplateInfo, TemplateTag,
};
pub use client::{BuildInfo, Client, PageCursor, TemplateListQuery, TemplatePage, TemplateType, build};
pub use config::{ApiKey, ClientConfig, ConnectionOptions};
pub use error::{CloudError, ConfigError, RequestPhase, UploadError};
pub use image_config::{
    ImageConfigClient, ImageConfigError, ImageConfigOptions, ImageConfigWarning, Resolved, TokenService,
};
pub use options::{BuildEvent, CloudBuildOptions, EventHandler};
pub use terminal::terminal_safe;
