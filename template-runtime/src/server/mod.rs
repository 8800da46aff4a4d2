//! A loopback implementation of the template build API (SPEC §E), feature `server`.
//!
//! Stores uploads, checks each COPY archive against its `filesHash`, validates request bodies
//! against `openapi-templates.yml`, requires the API key, runs builds through a [`BuildRunner`]
//! and pages their logs; it can also misbehave on demand ([`FaultPlan`]) so clients can be
//! tested against rate limits, gateway errors, dropped connections and slow answers.
//! `sandbox-template serve` is this server with a container engine as the runner and a store
//! on disk.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! use sandbox_template_runtime::server::{Server, ServerConfig};
//!
//! let server = Server::start(ServerConfig::new("test-key")).await?;
//! println!("E2B_API_URL={}", server.url());
//! server.shutdown().await;
//! # Ok(()) }
//! ```

mod faults;
mod runner;
mod store;
mod util;
pub mod validate;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

pub use faults::{BuildFailure, FaultAction, FaultPlan, FaultRule};
pub use runner::{BoxFuture, BuildJob, BuildLog, BuildRunner, CheckingRunner, StepFailure};
pub use store::{BuildRecord, MemoryStore, Store, StoreError, TemplateRecord};
#[cfg(feature = "local")]
pub(crate) use {
    runner::unpack,
    store::Records,
    util::{new_build_id, now_rfc3339},
};

use crate::cloud::ApiKey;
use crate::cloud::api::{
    AliasResponse, ApiErrorBody, AssignTagsRequest, AssignedTags, BuildState, BuildStatus, CreateTemplateResponse,
    DeleteTagsRequest, FileUploadInfo, StatusReason,
};

/// Log lines per status page (the SDKs assume at most 100).
pub const LOG_PAGE: usize = 100;

/// How to run the server.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Address to listen on (default `127.0.0.1:0`: loopback, any free port).
    pub addr: SocketAddr,
    /// Accepted API keys (`X-API-KEY`, or `Authorization: Bearer`).
    pub api_keys: Vec<ApiKey>,
    /// Accept uploads without `Content-Length` (chunked). Off by default: presigned URLs refuse
    /// them, and a client that works here must work there. On for benchmark baselines
    /// (`curl -T -`).
    pub accept_chunked_uploads: bool,
    /// Keep every request for [`ServerHandle::requests`] (default on, for tests; a long-running
    /// server turns it off).
    pub record_requests: bool,
}

impl ServerConfig {
    /// Loopback on a free port, accepting `api_key`.
    pub fn new(api_key: impl Into<String>) -> Self {
        ServerConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            api_keys: vec![ApiKey::new(api_key)],
            accept_chunked_uploads: false,
            record_requests: true,
        }
    }

    /// Listens on `addr`.
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }
}

/// One request as the server saw it (credentials redacted), for tests and debugging.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// Method.
    pub method: String,
    /// Path (percent-encoded, as sent).
    pub path: String,
    /// Query string.
    pub query: String,
    /// Headers in order, names lower-case; `x-api-key` / `authorization` values redacted.
    pub headers: Vec<(String, String)>,
    /// Body text of JSON requests (uploads are not recorded).
    pub body: Option<String>,
    /// Status answered (0 when the connection was dropped).
    pub status: u16,
}

impl RecordedRequest {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Shared state of a running server.
pub struct AppState {
    store: Arc<dyn Store>,
    runner: Arc<dyn BuildRunner>,
    faults: Arc<FaultPlan>,
    api_keys: Vec<ApiKey>,
    accept_chunked_uploads: bool,
    record_requests: bool,
    requests: Mutex<Vec<RecordedRequest>>,
    builds: Mutex<JoinSet<()>>,
}

impl AppState {
    /// State over `store` and `runner`.
    pub fn new(store: Arc<dyn Store>, runner: Arc<dyn BuildRunner>, config: &ServerConfig) -> Arc<Self> {
        Arc::new(AppState {
            store,
            runner,
            faults: Arc::new(FaultPlan::default()),
            api_keys: config.api_keys.clone(),
            accept_chunked_uploads: config.accept_chunked_uploads,
            record_requests: config.record_requests,
            requests: Mutex::new(Vec::new()),
            builds: Mutex::new(JoinSet::new()),
        })
    }

    /// Records a request on arrival (so a test sees requests still in flight).
    fn record(&self, r: RecordedRequest) -> usize {
        if !self.record_requests {
            return usize::MAX;
        }
        let mut requests = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        requests.push(r);
        requests.len() - 1
    }

    fn answered(&self, index: usize, status: u16) {
        if let Some(r) = self.requests.lock().unwrap_or_else(|p| p.into_inner()).get_mut(index) {
            r.status = status;
        }
    }
}

/// The API's routes over `state`, for embedding in another server (`serve`).
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/v3/templates", post(create_template))
        .route("/templates/{template_id}/files/{hash}", get(file_upload_info))
        .route("/upload/{template_id}/{hash}", put(upload))
        .route("/v2/templates/{template_id}/builds/{build_id}", post(start_build))
        .route("/templates/{template_id}/builds/{build_id}/status", get(build_status))
        .route("/templates/aliases/{alias}", get(alias))
        .route("/templates/tags", post(assign_tags).delete(remove_tags))
        .route("/templates/{template_id}/tags", get(list_tags))
        .route("/templates/{template_id}", axum::routing::delete(delete_template))
        .fallback(|req: Request| async move {
            error(StatusCode::NOT_FOUND, format!("no route {} {}", req.method(), req.uri().path()))
        })
        .layer(middleware::from_fn_with_state(state.clone(), guard))
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
    /// Starts a server with an in-memory store and the [`CheckingRunner`].
    pub async fn start(config: ServerConfig) -> std::io::Result<ServerHandle> {
        Self::start_with(config, Arc::new(MemoryStore::new()?), Arc::new(CheckingRunner)).await
    }

    /// Starts a server over `store` and `runner`.
    pub async fn start_with(
        config: ServerConfig,
        store: Arc<dyn Store>,
        runner: Arc<dyn BuildRunner>,
    ) -> std::io::Result<ServerHandle> {
        let state = AppState::new(store, runner, &config);
        let listener = TcpListener::bind(config.addr).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = router(state.clone());
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                tracing::error!("server stopped: {e}");
            }
        });
        tracing::info!(%addr, "template build API listening");
        Ok(ServerHandle { addr, state, stop: Some(stop), task: Some(task) })
    }
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
    pub fn store(&self) -> &Arc<dyn Store> {
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

// ----- middleware: faults, auth, recording ----------------------------------------------------

/// Marker payload for a deliberately dropped connection.
struct DropConnection;

/// Ends the connection task without an answer. `resume_unwind` skips the panic hook (nothing
/// is printed); the server's per-connection task catches the unwind and closes the socket.
/// There is no other way to abort a connection from inside an axum handler.
fn drop_connection() -> ! {
    std::panic::resume_unwind(Box::new(DropConnection))
}

async fn guard(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let mut record = RecordedRequest {
        method: method.clone(),
        path: path.clone(),
        query: req.uri().query().unwrap_or("").to_owned(),
        headers: req
            .headers()
            .iter()
            .map(|(k, v)| {
                let name = k.as_str().to_ascii_lowercase();
                let value = if name == "x-api-key" || name == "authorization" {
                    "<redacted>".to_owned()
                } else {
                    String::from_utf8_lossy(v.as_bytes()).into_owned()
                };
                (name, value)
            })
            .collect(),
        body: None,
        status: 0,
    };
    let is_upload = path.starts_with("/upload/");
    let req = if is_upload {
        req
    } else {
        let (parts, body) = req.into_parts();
        let bytes = match axum::body::to_bytes(body, 16 << 20).await {
            Ok(b) => b,
            Err(e) => return error(StatusCode::BAD_REQUEST, format!("cannot read the request body: {e}")),
        };
        if !bytes.is_empty() && state.record_requests {
            record.body = Some(redact_registry(&bytes));
        }
        Request::from_parts(parts, Body::from(bytes))
    };
    let fault = state.faults.take(&method, &path);
    let index = state.record(record);
    let mut drop_after = false;
    match fault {
        Some(FaultAction::Status { code, retry_after, message }) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut resp = error(status, message);
            if let Some(s) = retry_after
                && let Ok(v) = header::HeaderValue::from_str(&s.to_string())
            {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            state.answered(index, code);
            return resp;
        }
        Some(FaultAction::DropConnection) => drop_connection(),
        Some(FaultAction::Delay(d)) => tokio::time::sleep(d).await,
        Some(FaultAction::DropAfterHandling) => drop_after = true,
        None => {}
    }
    let resp = if is_upload || authorized(&state, req.headers()) {
        next.run(req).await
    } else if req.headers().contains_key("x-api-key") || req.headers().contains_key(header::AUTHORIZATION) {
        error(StatusCode::UNAUTHORIZED, "Invalid API key")
    } else {
        error(StatusCode::UNAUTHORIZED, "missing API key: send it in the X-API-KEY header")
    };
    if drop_after {
        drop_connection();
    }
    state.answered(index, resp.status().as_u16());
    resp
}

/// The body as text, with registry credentials (`fromImageRegistry`) replaced by
/// `<redacted>`, so recorded requests can be printed.
fn redact_registry(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body).into_owned();
    if !text.contains("\"fromImageRegistry\"") {
        return text;
    }
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(&text) else { return text };
    if let Some(registry) = value.get_mut("fromImageRegistry").and_then(|r| r.as_object_mut()) {
        for (key, v) in registry.iter_mut() {
            if key != "type" && !key.to_ascii_lowercase().contains("region") {
                *v = serde_json::Value::String("<redacted>".to_owned());
            }
        }
    }
    serde_json::to_string(&value).unwrap_or(text)
}

fn authorized(state: &AppState, headers: &HeaderMap) -> bool {
    let key = headers.get("x-api-key").and_then(|v| v.to_str().ok());
    let bearer =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    state.api_keys.iter().any(|k| Some(k.expose()) == key || Some(k.expose()) == bearer)
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(ApiErrorBody { code: status.as_u16(), message: message.into() })).into_response()
}

fn json<T: serde::Serialize>(status: StatusCode, value: &T) -> Response {
    (status, axum::Json(value)).into_response()
}

fn store_error(e: StoreError) -> Response {
    match e {
        StoreError::NotFound(m) => error(StatusCode::NOT_FOUND, m),
        StoreError::Conflict(m) => error(StatusCode::CONFLICT, m),
        StoreError::Io(e) => error(StatusCode::INTERNAL_SERVER_ERROR, format!("storage error: {e}")),
    }
}

// ----- handlers ---------------------------------------------------------------------------------

async fn create_template(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let req = match validate::create_request(&body) {
        Ok(r) => r,
        Err(m) => return error(StatusCode::BAD_REQUEST, m),
    };
    let full = req.name.clone().or(req.alias.clone()).unwrap_or_default();
    let (name, name_tag) = match full.split_once(':') {
        Some((n, t)) => (n.to_owned(), Some(t.to_owned())),
        None => (full.clone(), None),
    };
    let mut tags: Vec<String> = name_tag.into_iter().chain(req.tags.clone().unwrap_or_default()).collect();
    if tags.is_empty() {
        tags.push("default".to_owned());
    }
    match state.store.create_build(&name, &tags, req.cpu_count, req.memory_mb) {
        Ok((template, build)) => json(
            StatusCode::ACCEPTED,
            &CreateTemplateResponse {
                template_id: template.id,
                build_id: build.build_id,
                public: false,
                names: vec![name.clone()],
                tags,
                aliases: vec![name],
            },
        ),
        Err(e) => store_error(e),
    }
}

async fn file_upload_info(
    State(state): State<Arc<AppState>>,
    Path((template_id, hash)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if state.store.template(&template_id).is_none() {
        return error(StatusCode::NOT_FOUND, format!("template `{template_id}` not found"));
    }
    if !validate::is_sha256_hex(&hash) {
        return error(StatusCode::BAD_REQUEST, "the files hash must be 64 lowercase hex digits (SHA-256)");
    }
    // The URL is given even when the archive is present, so `force_upload` can replace it.
    let present = state.store.upload(&hash).is_some();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    let url = format!("http://{host}/upload/{template_id}/{hash}");
    json(StatusCode::CREATED, &FileUploadInfo { present, url: Some(url), headers: None })
}

async fn upload(
    State(state): State<Arc<AppState>>,
    Path((template_id, hash)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if state.store.template(&template_id).is_none() {
        return error(StatusCode::NOT_FOUND, format!("template `{template_id}` not found"));
    }
    if !validate::is_sha256_hex(&hash) {
        return error(StatusCode::BAD_REQUEST, "the files hash must be 64 lowercase hex digits (SHA-256)");
    }
    // Like S3 presigned URLs: an exact length is required, chunked uploads are refused.
    let expected =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if expected.is_none() && !state.accept_chunked_uploads {
        return error(StatusCode::LENGTH_REQUIRED, "Content-Length is required (chunked uploads are not accepted)");
    }
    let dir = state.store.uploads_dir().to_owned();
    let tmp = match tempfile::Builder::new().prefix(".part-").tempfile_in(&dir) {
        Ok(t) => t,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, format!("cannot store the upload: {e}")),
    };
    let (std_file, tmp_path) = tmp.into_parts();
    let mut file = tokio::io::BufWriter::with_capacity(1 << 20, tokio::fs::File::from_std(std_file));
    let mut received: u64 = 0;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => return error(StatusCode::BAD_REQUEST, format!("upload interrupted: {e}")),
        };
        received += chunk.len() as u64;
        if let Err(e) = file.write_all(&chunk).await {
            return error(StatusCode::INTERNAL_SERVER_ERROR, format!("cannot store the upload: {e}"));
        }
    }
    if let Some(expected) = expected
        && received != expected
    {
        return error(StatusCode::BAD_REQUEST, format!("Content-Length says {expected} bytes, received {received}"));
    }
    if let Err(e) = file.flush().await {
        return error(StatusCode::INTERNAL_SERVER_ERROR, format!("cannot store the upload: {e}"));
    }
    drop(file);
    if let Err(e) = tmp_path.persist(dir.join(&hash)) {
        return error(StatusCode::INTERNAL_SERVER_ERROR, format!("cannot store the upload: {e}"));
    }
    StatusCode::OK.into_response()
}

async fn start_build(
    State(state): State<Arc<AppState>>,
    Path((template_id, build_id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let Some(template) = state.store.template(&template_id) else {
        return error(StatusCode::NOT_FOUND, format!("template `{template_id}` not found"));
    };
    if state.store.build(&template.id, &build_id).is_none() {
        return error(StatusCode::NOT_FOUND, format!("build `{build_id}` of template `{template_id}` not found"));
    }
    let (request, raw) = match validate::start_request(&body) {
        Ok(r) => r,
        Err(m) => return error(StatusCode::BAD_REQUEST, m),
    };
    let mut archives = Vec::with_capacity(request.steps.len());
    for (i, step) in request.steps.iter().enumerate() {
        let archive = match (&step.kind[..], &step.files_hash) {
            ("COPY", Some(hash)) => match state.store.upload(hash) {
                Some(p) => Some(p),
                None => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        format!("the files of step {} (filesHash {hash}) were never uploaded", i + 1),
                    );
                }
            },
            _ => None,
        };
        archives.push(archive);
    }
    if let Err(e) = state.store.start_build(&template.id, &build_id, raw) {
        return store_error(e);
    }
    let job = BuildJob {
        template_id: template.id.clone(),
        build_id: build_id.clone(),
        template_name: template.name.clone(),
        request,
        archives,
    };
    let task_state = state.clone();
    // The build runs on its own task: a client that disconnects does not stop it.
    let mut builds = state.builds.lock().unwrap_or_else(|p| p.into_inner());
    while builds.try_join_next().is_some() {} // forget finished builds
    builds.spawn(async move { run_build(task_state, job).await });
    StatusCode::ACCEPTED.into_response()
}

async fn run_build(state: Arc<AppState>, job: BuildJob) {
    let log = BuildLog::new(state.store.clone(), &job.template_id, &job.build_id);
    let result = match state.faults.build_failure(&job.template_name) {
        Some(f) => {
            log.info(Some(&f.step), "running step");
            Err(StepFailure { step: Some(f.step), message: f.message })
        }
        None => state.runner.run(&job, &log).await,
    };
    match result {
        Ok(()) => state.store.set_status(&job.template_id, &job.build_id, BuildState::Ready, None),
        Err(f) => {
            log.line("error", f.step.as_deref(), format!("ERROR: {}", f.message));
            let reason = StatusReason { message: f.message, step: f.step, log_entries: vec![] };
            state.store.set_status(&job.template_id, &job.build_id, BuildState::Error, Some(reason));
        }
    }
}

#[derive(Deserialize)]
struct StatusQuery {
    #[serde(rename = "logsOffset")]
    logs_offset: Option<String>,
    limit: Option<String>,
}

async fn build_status(
    State(state): State<Arc<AppState>>,
    Path((template_id, build_id)): Path<(String, String)>,
    Query(q): Query<StatusQuery>,
) -> Response {
    let parse = |v: &Option<String>, name: &str, default: usize| -> Result<usize, String> {
        match v {
            None => Ok(default),
            Some(s) => s.parse::<usize>().map_err(|_| format!("`{name}` must be a non-negative integer, got {s:?}")),
        }
    };
    let (offset, limit) = match (parse(&q.logs_offset, "logsOffset", 0), parse(&q.limit, "limit", LOG_PAGE)) {
        (Ok(o), Ok(l)) => (o, l.clamp(1, LOG_PAGE)),
        (Err(m), _) | (_, Err(m)) => return error(StatusCode::BAD_REQUEST, m),
    };
    let Some(template) = state.store.template(&template_id) else {
        return error(StatusCode::NOT_FOUND, format!("template `{template_id}` not found"));
    };
    let Some(build) = state.store.build(&template.id, &build_id) else {
        return error(StatusCode::NOT_FOUND, format!("build `{build_id}` not found"));
    };
    // Read the state before the logs: a terminal state implies every line is already stored.
    let entries = state.store.logs(&template.id, &build_id, offset, limit);
    json(
        StatusCode::OK,
        &BuildStatus {
            template_id: template.id,
            build_id,
            status: build.status,
            logs: vec![],
            log_entries: entries,
            reason: build.reason,
        },
    )
}

async fn alias(State(state): State<Arc<AppState>>, Path(alias): Path<String>) -> Response {
    match state.store.template(&alias) {
        Some(t) => json(StatusCode::OK, &AliasResponse { template_id: t.id, public: false }),
        None => error(StatusCode::NOT_FOUND, format!("template `{alias}` not found")),
    }
}

async fn assign_tags(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let req: AssignTagsRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("expected {{\"target\": \"name:tag\", \"tags\": [..]}}: {e}"),
            );
        }
    };
    let (name, tag) = req.target.split_once(':').unwrap_or((&req.target, "default"));
    match state.store.assign_tags(name, tag, &req.tags) {
        Ok(build_id) => json(StatusCode::CREATED, &AssignedTags { build_id, tags: req.tags }),
        Err(e) => store_error(e),
    }
}

async fn remove_tags(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let req: DeleteTagsRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("expected {{\"name\": \"..\", \"tags\": [..]}}: {e}")),
    };
    match state.store.remove_tags(&req.name, &req.tags) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => store_error(e),
    }
}

async fn list_tags(State(state): State<Arc<AppState>>, Path(template_id): Path<String>) -> Response {
    match state.store.tags(&template_id) {
        Some(tags) => json(StatusCode::OK, &tags),
        None => error(StatusCode::NOT_FOUND, format!("template `{template_id}` not found")),
    }
}

async fn delete_template(State(state): State<Arc<AppState>>, Path(template_id): Path<String>) -> Response {
    match state.store.delete_template(&template_id) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => store_error(e),
    }
}
