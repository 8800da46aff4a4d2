//! `sandbox-template serve`: the HTTP API ([`crate::api`]) over a [`DiskStore`], building with the
//! [`EngineRunner`]. See the [crate documentation](crate).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use sandbox_template_runtime::local::{Engine, EnginePreference, LocalBuildOptions, LocalError};
use tokio::task::JoinError;

use crate::api::{Server, ServerConfig, ServerHandle};
use crate::runner::EngineRunner;
use crate::store::{DiskStore, StoreError};

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
    EnginePreference(#[from] LocalError),
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
    /// A start-up task (finding the engine, opening the data folder) was cancelled before it
    /// finished: the async runtime is shutting down.
    #[error("`serve` could not start: {what} was cancelled")]
    Cancelled {
        /// What was being done.
        what: &'static str,
        /// The task's end.
        #[source]
        source: JoinError,
    },
}

/// Runs `f` off the async workers. A panic in `f` continues here as the same panic (it is a bug,
/// not a start-up condition); a cancelled task is [`ServeError::Cancelled`].
pub(crate) async fn blocking<T: Send + 'static>(
    what: &'static str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ServeError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(value) => Ok(value),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(source) => Err(ServeError::Cancelled { what, source }),
    }
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
        let (engine, engine_problem) = blocking("finding the container engine", move || match choice {
            EngineChoice::None => Ok((None, None)),
            EngineChoice::Docker => Engine::detect(EnginePreference::Docker).map(|e| (Some(e), None)),
            EngineChoice::Podman => Engine::detect(EnginePreference::Podman).map(|e| (Some(e), None)),
            EngineChoice::Auto => Ok(match Engine::detect(EnginePreference::Auto) {
                Ok(e) => (Some(e), None),
                Err(e) => (None, Some(e.to_string())),
            }),
        })
        .await??;
        let data = self.data.clone();
        let store = blocking("opening the data folder", move || DiskStore::open(data)).await??;
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
