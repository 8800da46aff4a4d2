//! `sandbox-template serve`: the template build API ([`crate::server`]) building with a local
//! container engine, its state kept in a data folder. Needs features `server` and `local`.
//!
//! Any E2B client (this crate's [`crate::cloud::Client`], the official SDKs with `E2B_API_URL`
//! pointing here) can build against it:
//!
//! - each build is rebuilt into a [`crate::Template`] from the request's wire-form steps
//!   ([`template_from_request`]) with the uploaded COPY archives as its context, built by the
//!   engine into an image tagged with the template name, and — when it has a start command —
//!   started once to pass its ready check, as the cloud does;
//! - templates, builds, tags, logs and uploads live in the data folder ([`DiskStore`]) and
//!   survive a restart; a build the server was running when it stopped is marked `error` with
//!   [`INTERRUPTED`] as its reason;
//! - with no engine (`engine: None`, or none found with `Auto`) a build validates the template,
//!   stages its context and Dockerfile under `DATA/builds/BUILD_ID/`, ends `ready`, and its last
//!   log line says [`NO_IMAGE_BUILT`]. `ready` rather than a status of its own: the API has no
//!   other success state, and clients (the official SDKs) must finish normally;
//! - builds run on server tasks: a client that disconnects does not stop them.
//!
//! ```no_run
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use sandbox_template_runtime::serve::{EngineChoice, ServeOptions};
//!
//! let serve = ServeOptions::new("./serve-data", "my-key").engine(EngineChoice::Auto).start().await?;
//! println!("E2B_API_URL={} ({})", serve.server.url(), serve.engine_description());
//! serve.server.shutdown().await;
//! # Ok(()) }
//! ```

mod disk;
mod runner;
mod target;
mod wire;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

pub use disk::{DiskStore, INTERRUPTED};
pub use runner::{EngineRunner, NO_IMAGE_BUILT, READY_TIMEOUT};
pub use target::{Target, TargetError, build_on};
pub use wire::{ready_from_wire, template_from_request};

use crate::local::{Engine, EnginePreference, LocalBuildOptions, LocalError};
use crate::server::{Server, ServerConfig, ServerHandle, StoreError};

/// Which engine `serve` builds with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EngineChoice {
    /// Docker or Podman, whichever works (see [`Engine::detect`]); none found → no engine.
    #[default]
    Auto,
    /// Docker; an error when it does not work.
    Docker,
    /// Podman; an error when it does not work.
    Podman,
    /// No engine: validate and stage only.
    None,
}

impl std::str::FromStr for EngineChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(EngineChoice::Auto),
            "docker" => Ok(EngineChoice::Docker),
            "podman" => Ok(EngineChoice::Podman),
            "none" => Ok(EngineChoice::None),
            _ => Err(format!("unknown engine `{s}`: expected auto, docker, podman or none")),
        }
    }
}

/// Why `serve` could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The named engine does not work.
    #[error(transparent)]
    Engine(#[from] LocalError),
    /// The data folder cannot be used.
    #[error("cannot use the data folder: {0}")]
    Store(#[from] StoreError),
    /// The address cannot be listened on.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
}

/// How to run `serve`.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Listen address and accepted API keys.
    pub config: ServerConfig,
    /// The data folder.
    pub data: PathBuf,
    /// The engine.
    pub engine: EngineChoice,
    /// Options of every engine build (e.g. the image standing for the default base).
    pub build: LocalBuildOptions,
}

impl ServeOptions {
    /// Loopback on a free port, data in `data`, accepting `api_key`, engine [`EngineChoice::Auto`].
    pub fn new(data: impl Into<PathBuf>, api_key: impl Into<String>) -> Self {
        ServeOptions {
            config: ServerConfig::new(api_key),
            data: data.into(),
            engine: EngineChoice::Auto,
            build: LocalBuildOptions::new(),
        }
    }

    /// Listens on `addr`.
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.config = self.config.addr(addr);
        self
    }

    /// Builds with `engine`.
    pub fn engine(mut self, engine: EngineChoice) -> Self {
        self.engine = engine;
        self
    }

    /// Opens the data folder, finds the engine and starts listening.
    pub async fn start(self) -> Result<Serving, ServeError> {
        let choice = self.engine;
        let (engine, engine_problem) = tokio::task::spawn_blocking(move || match choice {
            EngineChoice::None => Ok((None, None)),
            EngineChoice::Docker => Engine::detect(EnginePreference::Docker).map(|e| (Some(e), None)),
            EngineChoice::Podman => Engine::detect(EnginePreference::Podman).map(|e| (Some(e), None)),
            EngineChoice::Auto => Ok(match Engine::detect(EnginePreference::Auto) {
                Ok(e) => (Some(e), None),
                Err(e) => (None, Some(e.to_string())),
            }),
        })
        .await
        .map_err(|e| ServeError::Store(StoreError::Io(std::io::Error::other(e.to_string()))))??;
        let data = self.data.clone();
        let store = tokio::task::spawn_blocking(move || DiskStore::open(data))
            .await
            .map_err(|e| ServeError::Store(StoreError::Io(std::io::Error::other(e.to_string()))))??;
        let runner = EngineRunner::new(engine.clone(), store.root().join("builds")).with_options(self.build);
        let addr = self.config.addr;
        let server = Server::start_with(self.config, Arc::new(store), Arc::new(runner))
            .await
            .map_err(|source| ServeError::Listen { addr, source })?;
        Ok(Serving { server, engine, engine_problem, data: self.data })
    }
}

/// A running `serve`.
pub struct Serving {
    /// The API server (its URL is the clients' `E2B_API_URL`).
    pub server: ServerHandle,
    /// The engine builds use; `None`: staging only.
    pub engine: Option<Engine>,
    /// Why [`EngineChoice::Auto`] found no engine.
    pub engine_problem: Option<String>,
    /// The data folder.
    pub data: PathBuf,
}

impl Serving {
    /// `podman 4.3.1`, or `no engine (...): builds are validated and staged, no image is built`.
    pub fn engine_description(&self) -> String {
        match &self.engine {
            Some(e) => format!("{} {}", e.kind().program(), e.version()),
            None => format!(
                "no engine{}: builds are validated and staged, no image is built",
                self.engine_problem.as_ref().map(|p| format!(" ({p})")).unwrap_or_default()
            ),
        }
    }
}
