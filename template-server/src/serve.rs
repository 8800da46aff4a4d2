//! `sandbox-template serve`: the HTTP API ([`crate::api`]) over a [`Store`] in the data folder, building with the
//! [`EngineRunner`]. See the [crate documentation](crate).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use sandbox_template_runtime::local::{Engine, EnginePreference, LocalBuildOptions, LocalError};
use tokio::task::JoinError;

use crate::api::{Server, ServerConfig, ServerHandle};
use crate::runner::{BoxFuture, BuildJob, BuildLog, BuildRunner, EngineRunner, StepFailure};
use crate::store::{Store, StoreError};

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
    /// Listen address, accepted API keys, limits and timeouts. [`ServeOptions::new`] turns
    /// request recording off (a long-running server keeps no copy of what it was sent).
    pub config: ServerConfig,
    /// The data folder.
    pub data: PathBuf,
    /// The engine builds use: `Some(EnginePreference::Auto)` is Docker or Podman, whichever
    /// works, and none found means no engine (not an error); `Some(Docker|Podman)` is an error
    /// when that engine does not work; `None` builds no image (validate and stage only).
    pub engine: Option<EnginePreference>,
    /// Options of every engine build (e.g. the image standing for the default base).
    pub build: LocalBuildOptions,
}

impl ServeOptions {
    /// Loopback on a free port, data in `data`, accepting `api_key`, engine
    /// [`EnginePreference::Auto`], the default limits, no request recording.
    pub fn new(data: impl Into<PathBuf>, api_key: impl Into<String>) -> Self {
        let mut config = ServerConfig::new(api_key);
        config.record_requests = false;
        ServeOptions {
            config,
            data: data.into(),
            engine: Some(EnginePreference::Auto),
            build: LocalBuildOptions::new(),
        }
    }

    /// Listens on `addr`.
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.config = self.config.addr(addr);
        self
    }

    /// Builds with `engine`.
    pub fn engine(mut self, engine: EnginePreference) -> Self {
        self.engine = Some(engine);
        self
    }

    /// Builds no image: each build is validated and its context and Dockerfile are staged under
    /// the data folder, then it ends `ready` (see the [crate documentation](crate)).
    pub fn without_engine(mut self) -> Self {
        self.engine = None;
        self
    }

    /// Opens the data folder, finds the engine and starts listening.
    pub async fn start(self) -> Result<Serving, ServeError> {
        let choice = self.engine;
        let (engine, engine_problem) = blocking("finding the container engine", move || match choice {
            None => Ok((None, None)),
            Some(EnginePreference::Auto) => Ok(match Engine::detect(EnginePreference::Auto) {
                Ok(e) => (Some(e), None),
                Err(e) => (None, Some(e.to_string())),
            }),
            Some(named) => Engine::detect(named).map(|e| (Some(e), None)),
        })
        .await??;
        let data = self.data.clone();
        let store = blocking("opening the data folder", move || Store::open(data)).await??;
        let runner = EngineRunner::new(engine.clone(), store.root().join("builds"))
            .with_options(self.build)
            .with_limits(self.config.unpack);
        let addr = self.config.addr;
        let server = Server::start_with(self.config, store, Arc::new(Logged(runner)))
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
    /// Why [`EnginePreference::Auto`] found no engine.
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

/// Logs each build of `serve` at `info` (target `sandbox_template_server::serve`, shown by
/// default): one line when it starts building, one when it is ready or failed, with the
/// template, the build ID, the failed step and the duration, so that the terminal shows what
/// the request lines alone do not. The failure message stays in the build's log (it quotes the
/// user's commands). The store logs every state change, with its reason, at `debug`.
struct Logged<R>(R);

impl<R: BuildRunner> BuildRunner for Logged<R> {
    fn run<'a>(&'a self, job: &'a BuildJob, log: &'a BuildLog) -> BoxFuture<'a, Result<(), StepFailure>> {
        Box::pin(async move {
            // The API lets only letters, digits, `-`, `_` and `/` into names; build IDs are its own UUIDs.
            let (template, build_id) = (&job.template_name, &job.build_id);
            tracing::info!(%template, %build_id, "build started");
            let started = std::time::Instant::now();
            let result = self.0.run(job, log).await;
            let secs = format!("{:.1}", started.elapsed().as_secs_f64());
            match &result {
                Ok(()) => tracing::info!(%template, %build_id, duration_s = %secs, "build ready"),
                Err(failure) => {
                    let step = failure.step.as_deref().unwrap_or("-");
                    tracing::info!(%template, %build_id, %step, duration_s = %secs, "build failed");
                }
            }
            result
        })
    }

    fn remove_image<'a>(&'a self, template_name: &'a str) -> BoxFuture<'a, ()> {
        self.0.remove_image(template_name)
    }
}
