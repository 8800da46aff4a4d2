//! The template build HTTP API (SPEC §E) over axum: the routes the E2B SDKs and this crate's
//! client call.
//!
//! Stores uploads, checks each COPY archive against its `filesHash`, validates request bodies
//! against `openapi-templates.yml`, requires the API key, runs builds through a [`BuildRunner`]
//! and pages their logs; it can also misbehave on demand ([`FaultPlan`]) so clients can be tested
//! against rate limits, gateway errors, dropped connections and slow answers.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! use sandbox_template_server::api::{Server, ServerConfig};
//!
//! let server = Server::start(ServerConfig::new("test-key")).await?;
//! println!("E2B_API_URL={}", server.url());
//! server.shutdown().await;
//! # Ok(()) }
//! ```

mod config;
mod faults;
mod handlers;
mod middleware;
mod origin;
mod uploads;
mod validate;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use sandbox_template_runtime::cloud::ApiKey;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

pub use config::{
    DEFAULT_BODY_TIMEOUT, DEFAULT_HEADER_TIMEOUT, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_UPLOAD_BYTES,
    DEFAULT_UPLOAD_URL_TTL, MAX_JSON_BODY, MAX_RECORDED_BODY, MAX_RECORDED_REQUESTS, ServerConfig,
};
pub use faults::{FaultAction, FaultPlan};
pub use middleware::RecordedRequest;

use crate::runner::{BuildRunner, CheckingRunner, UnpackLimits};
use crate::store::Store;

/// Log lines per status page (the SDKs assume at most 100).
pub const LOG_PAGE: usize = 100;

/// Shared state of a running server.
struct AppState {
    store: Store,
    runner: Arc<dyn BuildRunner>,
    faults: Arc<FaultPlan>,
    api_keys: Vec<ApiKey>,
    accept_chunked_uploads: bool,
    record_requests: bool,
    requests: Mutex<Vec<RecordedRequest>>,
    builds: Mutex<JoinSet<()>>,
    /// Started builds by build ID, until their task ends: what deleting a template cancels.
    running: Mutex<HashMap<String, handlers::RunningBuild>>,
    signer: uploads::UploadSigner,
    max_upload_bytes: u64,
    unpack: UnpackLimits,
    body_timeout: Duration,
    public_url: Option<String>,
    hosts: origin::HostPolicy,
    /// Held while an upload is verified (see [`uploads`]).
    verifying: tokio::sync::Mutex<()>,
}

impl AppState {
    /// State over `store` and `runner`, for a server listening on `addr`.
    fn new(
        store: Store,
        runner: Arc<dyn BuildRunner>,
        config: &ServerConfig,
        addr: SocketAddr,
    ) -> std::io::Result<Arc<Self>> {
        let hosts = origin::HostPolicy::new(addr, config.public_url.as_deref())?;
        Ok(Arc::new(AppState {
            store,
            runner,
            faults: Arc::new(FaultPlan::default()),
            api_keys: config.api_keys.clone(),
            accept_chunked_uploads: config.accept_chunked_uploads,
            record_requests: config.record_requests,
            requests: Mutex::new(Vec::new()),
            builds: Mutex::new(JoinSet::new()),
            running: Mutex::new(HashMap::new()),
            signer: uploads::UploadSigner::new(config.upload_url_ttl)?,
            max_upload_bytes: config.max_upload_bytes,
            unpack: config.unpack,
            body_timeout: config.body_timeout,
            public_url: config.public_url.as_ref().map(|u| u.trim_end_matches('/').to_owned()),
            hosts,
            verifying: tokio::sync::Mutex::new(()),
        }))
    }

    /// Records a request on arrival (so a test sees requests still in flight); past
    /// [`MAX_RECORDED_REQUESTS`] nothing more is kept.
    fn record(&self, r: RecordedRequest) -> usize {
        if !self.record_requests {
            return usize::MAX;
        }
        let mut requests = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        if requests.len() >= MAX_RECORDED_REQUESTS {
            return usize::MAX;
        }
        requests.push(r);
        requests.len() - 1
    }

    fn answered(&self, index: usize, status: u16) {
        if let Some(r) = self.requests.lock().unwrap_or_else(|p| p.into_inner()).get_mut(index) {
            r.status = status;
        }
    }
}

/// The API's routes over `state`.
fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/v3/templates", post(handlers::create_template))
        .route("/templates/{template_id}/files/{hash}", get(handlers::file_upload_info))
        .route("/upload/{template_id}/{hash}", put(handlers::upload))
        .route("/v2/templates/{template_id}/builds/{build_id}", post(handlers::start_build))
        .route("/templates/{template_id}/builds/{build_id}/status", get(handlers::build_status))
        .route("/templates/aliases/{alias}", get(handlers::alias))
        .route("/templates/tags", post(handlers::assign_tags).delete(handlers::remove_tags))
        .route("/templates/{template_id}/tags", get(handlers::list_tags))
        .route("/v2/templates", get(handlers::list_templates))
        .route("/templates/{template_id}", get(handlers::get_template).delete(handlers::delete_template))
        .fallback(|req: Request| async move {
            handlers::error(StatusCode::NOT_FOUND, format!("no route {} {}", req.method(), req.uri().path()))
        })
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::guard))
        .layer(axum::middleware::from_fn_with_state(state.clone(), origin::check_host))
        .layer(axum::middleware::from_fn(middleware::log_request))
        .with_state(state)
}

/// A running server; dropping it (or [`ServerHandle::shutdown`]) stops it.
pub struct ServerHandle {
    addr: SocketAddr,
    state: Arc<AppState>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// Starts servers.
pub struct Server;

impl Server {
    /// Starts a server with a store in a temporary folder ([`Store::temporary`]) and the
    /// [`CheckingRunner`].
    pub async fn start(config: ServerConfig) -> std::io::Result<ServerHandle> {
        let store = tokio::task::spawn_blocking(Store::temporary).await.map_err(std::io::Error::other)?;
        Self::start_with(config, store.map_err(std::io::Error::other)?, Arc::new(CheckingRunner)).await
    }

    /// Starts a server over `store` and `runner`.
    ///
    /// Connections are served over HTTP/1.1 by hyper with [`ServerConfig::header_timeout`] (a
    /// slow-loris client, or an idle keep-alive connection, is closed when it runs out) and at
    /// most [`ServerConfig::max_connections`] at once (the rest wait in the listen backlog).
    pub async fn start_with(
        config: ServerConfig,
        store: Store,
        runner: Arc<dyn BuildRunner>,
    ) -> std::io::Result<ServerHandle> {
        let listener = TcpListener::bind(config.addr).await?;
        let addr = listener.local_addr()?;
        let state = AppState::new(store, runner, &config, addr)?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = router(state.clone());
        let task = tokio::spawn(accept_loop(listener, app, config, stopped));
        tracing::info!(%addr, "template build API listening");
        Ok(ServerHandle { addr, state, stop: Some(stop), task: Some(task) })
    }
}

/// Accepts connections until `stopped`, then waits for open requests to finish.
async fn accept_loop(
    listener: TcpListener,
    app: Router,
    config: ServerConfig,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::server::graceful::GracefulShutdown;
    use hyper_util::service::TowerToHyperService;

    let limit = Arc::new(tokio::sync::Semaphore::new(config.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(config.header_timeout);
    loop {
        let permit = tokio::select! {
            p = limit.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = &mut stopped => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut stopped => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let conn = http.serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, "connection closed: {e}");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

impl ServerHandle {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`: the value for `E2B_API_URL`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Faults to inject.
    pub fn faults(&self) -> &FaultPlan {
        &self.state.faults
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.requests.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Stops accepting requests, waits for open ones, and stops running builds.
    pub async fn shutdown(mut self) {
        self.stop_now();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    fn stop_now(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.state.builds.lock().unwrap_or_else(|p| p.into_inner()).abort_all();
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop_now();
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
