//! The E2B template build API on this machine: the server behind `sandbox-template serve`, part
//! of [sandbox-template](https://docs.rs/sandbox-template).
//!
//! Any E2B client (the runtime's [`Client`](sandbox_template_runtime::cloud::Client), the official
//! SDKs with `E2B_API_URL` pointing here) can build against it:
//!
//! - each build is rebuilt into a [`Template`](sandbox_template_runtime::Template) from the
//!   request's wire-form steps ([`Template::from_build_request`](sandbox_template_runtime::Template::from_build_request))
//!   with the uploaded COPY archives as its context, built by the engine into an image tagged with
//!   the template name, and — when it has a start command — started once to pass its ready check,
//!   as the cloud does;
//! - templates, builds, tags and logs live in an SQLite database in the data folder, uploads as
//!   files beside it ([`Store`](store::Store)), and survive a restart; registry credentials are
//!   never written there (the running build has them in memory only); a build the server was
//!   running when it stopped is marked `error` with [`INTERRUPTED`](store::INTERRUPTED) (or
//!   [`INTERRUPTED_CREDENTIALS`](store::INTERRUPTED_CREDENTIALS): resubmit it) as its reason;
//! - deleting a template cancels its running builds (the engine is killed) and removes their
//!   logs, staged files and image;
//! - with no engine ([`ServeOptions::without_engine`], or none found with
//!   [`EnginePreference::Auto`](sandbox_template_runtime::local::EnginePreference::Auto)) a build
//!   validates the template, stages its context and Dockerfile under `DATA/builds/BUILD_ID/`, ends
//!   `ready`, and its last log line says [`NO_IMAGE_BUILT`](runner::NO_IMAGE_BUILT). `ready`
//!   rather than a status of its own: the API has no other success state, and clients (the
//!   official SDKs) must finish normally;
//! - builds run on server tasks: a client that disconnects does not stop them;
//! - the port is treated as exposed: the API key is checked (in constant time) before any body is
//!   read, upload URLs are signed capabilities and each archive is verified against its COPY
//!   step once ([`api`]'s `uploads` design), unpacking is bounded and drops setuid bits
//!   ([`runner::UnpackLimits`]), connections have a header timeout and a limit, and on loopback
//!   only loopback `Host` names are answered ([`ServerConfig`] has every bound and its default).
//!
//! ```no_run
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use sandbox_template_runtime::local::EnginePreference;
//! use sandbox_template_server::ServeOptions;
//!
//! let serve = ServeOptions::new("./serve-data", "my-key").engine(EnginePreference::Auto).start().await?;
//! println!("E2B_API_URL={} ({})", serve.server.url(), serve.engine_description());
//! serve.server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! The parts, each usable on its own:
//!
//! - [`api`]: the HTTP API over axum (routes, request validation, API keys, injected faults);
//!   [`Server::start`] runs it with a store in a temporary folder and a runner that only checks
//!   uploads, which is what client tests want;
//! - [`store`]: what the server remembers ([`Store`](store::Store): SQLite in the data folder, or
//!   in a temporary one);
//! - [`runner`]: what a started build does: build with Docker or Podman
//!   ([`EngineRunner`](runner::EngineRunner)) or check the uploads only
//!   ([`CheckingRunner`](runner::CheckingRunner));
//! - [`build_on`]: build a template on E2B, Novita or this machine ([`Target`]), a local build
//!   going through an in-process `serve` so it takes the same path as a cloud one.

pub mod api;
mod ids;
pub mod runner;
mod serve;
pub mod store;
mod target;

pub use api::{Server, ServerConfig, ServerHandle};
pub use serve::{ServeError, ServeOptions, Serving};
pub use target::{Target, TargetError, build_on};
