//! The API's operations (`openapi-templates.yml`): create a template, upload its files, start a
//! build, page its status and logs, manage tags, and list and read templates (E2B's
//! `GET /v2/templates` and `GET /templates/{templateID}`, paged by `limit` and `nextToken`, the
//! next page's token in `X-Next-Token`).

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use sandbox_template_runtime::__private::api::{
    AliasResponse, ApiErrorBody, AssignTagsRequest, CreateTemplateResponse, DeleteTagsRequest, FileUploadInfo,
};
use sandbox_template_runtime::cloud::{
    AssignedTags, BuildState, BuildStatus, StatusReason, TemplateBuild, TemplateDetails, TemplateInfo,
};
use sandbox_template_runtime::wire::WireStep;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;

use super::{AppState, LOG_PAGE, uploads, validate};
use crate::runner::{BuildJob, BuildLog, Cancel, StepFailure, check_limits, verify};
use crate::store::{MAX_PAGE, StoreError, TemplateRecord, TemplateSummary};

pub(super) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(ApiErrorBody { code: status.as_u16(), message: message.into() })).into_response()
}

fn json<T: serde::Serialize>(status: StatusCode, value: &T) -> Response {
    (status, axum::Json(value)).into_response()
}

fn store_error(e: StoreError) -> Response {
    match e {
        StoreError::NotFound(m) => error(StatusCode::NOT_FOUND, m),
        StoreError::Conflict(m) => error(StatusCode::CONFLICT, m),
        e => {
            tracing::error!("storage error: {e}");
            error(StatusCode::INTERNAL_SERVER_ERROR, format!("storage error: {e}"))
        }
    }
}

/// The template `id_or_name`, or the answer when there is none (404) or the store failed (500).
async fn template_or_answer(state: &AppState, id_or_name: &str) -> Result<TemplateRecord, Response> {
    match state.store.template(id_or_name).await {
        Ok(Some(t)) => Ok(t),
        Ok(None) => Err(error(StatusCode::NOT_FOUND, format!("template `{id_or_name}` not found"))),
        Err(e) => Err(store_error(e)),
    }
}

pub(super) async fn create_template(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
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
    match state.store.create_build(&name, &tags, req.cpu_count, req.memory_mb).await {
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

pub(super) async fn file_upload_info(
    State(state): State<Arc<AppState>>,
    Path((template_id, hash)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let template = match template_or_answer(&state, &template_id).await {
        Ok(t) => t,
        Err(answer) => return answer,
    };
    if !validate::is_sha256_hex(&hash) {
        return error(StatusCode::BAD_REQUEST, "the files hash must be 64 lowercase hex digits (SHA-256)");
    }
    // Only a verified archive is present; the URL is given even then, so `force_upload` can
    // replace it. It names the template by ID whatever the request used, and is signed.
    let present = state.store.upload(&hash).is_some();
    let base = match &state.public_url {
        Some(url) => url.clone(),
        // The Host was checked (see `origin`): it is a name this server answers to.
        None => {
            let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
            format!("http://{host}")
        }
    };
    let query = state.signer.sign(&template.id, &hash);
    let url = format!("{base}/upload/{}/{hash}?{query}", template.id);
    json(StatusCode::CREATED, &FileUploadInfo { present, url: Some(url), headers: None })
}

/// `PUT /upload/{templateID}/{hash}`: see [`uploads`](super::uploads) for the design. The
/// signature is checked before anything else, and the body read only after the size checks.
pub(super) async fn upload(
    State(state): State<Arc<AppState>>,
    Path((template_id, hash)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Err(e) = state.signer.check(&template_id, &hash, query.as_deref()) {
        return error(StatusCode::FORBIDDEN, e.to_string());
    }
    // Signed for an ID, so a name never gets here; the template may have been deleted since.
    match state.store.template(&template_id).await {
        Ok(Some(t)) if t.id == template_id => {}
        Ok(_) => return error(StatusCode::NOT_FOUND, format!("template `{template_id}` not found")),
        Err(e) => return store_error(e),
    }
    // Like S3 presigned URLs: an exact length is required, chunked uploads are refused.
    let expected =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if expected.is_none() && !state.accept_chunked_uploads {
        return error(StatusCode::LENGTH_REQUIRED, "Content-Length is required (chunked uploads are not accepted)");
    }
    let limit = state.max_upload_bytes;
    let too_large = || {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the upload is over {limit} bytes, the upload size limit (raise it with `serve --max-upload-bytes`)"
            ),
        )
    };
    if expected.is_some_and(|n| n > limit) {
        return too_large();
    }
    let dir = state.store.uploads_dir().to_owned();
    // A `.part-` file is removed when dropped: any early return below keeps nothing.
    let tmp = match tempfile::Builder::new().prefix(".part-").tempfile_in(&dir) {
        Ok(t) => t,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, format!("cannot store the upload: {e}")),
    };
    let (std_file, tmp_path) = tmp.into_parts();
    let mut file = tokio::io::BufWriter::with_capacity(1 << 20, tokio::fs::File::from_std(std_file));
    let mut received: u64 = 0;
    let mut stream = body.into_data_stream();
    loop {
        let chunk = match tokio::time::timeout(state.body_timeout, stream.next()).await {
            Err(_) => {
                return error(
                    StatusCode::REQUEST_TIMEOUT,
                    format!("the upload sent nothing for {} s", state.body_timeout.as_secs_f64()),
                );
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => return error(StatusCode::BAD_REQUEST, format!("upload interrupted: {e}")),
            Ok(Some(Ok(c))) => c,
        };
        received += chunk.len() as u64;
        if received > limit {
            return too_large();
        }
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
    // Read through once for the unpack limits, so an archive that could never be built is not kept.
    let limits = state.unpack;
    let checked = {
        let path = tmp_path.to_path_buf();
        tokio::task::spawn_blocking(move || check_limits(&path, &limits)).await
    };
    match checked {
        Ok(Ok(_)) => {}
        Ok(Err(e)) if e.is_limit() => return error(StatusCode::PAYLOAD_TOO_LARGE, e.to_string()),
        Ok(Err(e)) => return error(StatusCode::BAD_REQUEST, e.to_string()),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, format!("the upload check stopped: {e}")),
    }
    if let Err(e) = tmp_path.persist(uploads::unverified_path(&dir, &hash)) {
        return error(StatusCode::INTERNAL_SERVER_ERROR, format!("cannot store the upload: {e}"));
    }
    StatusCode::OK.into_response()
}

/// The verified archive for a COPY step's `filesHash`, verifying an unverified upload first (see
/// [`uploads`](super::uploads)). `Err` is the response the build request gets.
async fn verified_archive(state: &Arc<AppState>, index: usize, step: &WireStep) -> Result<PathBuf, Response> {
    let hash = step.files_hash.clone().unwrap_or_default();
    let _one_at_a_time = state.verifying.lock().await;
    let dir = state.store.uploads_dir().to_owned();
    let pending = uploads::unverified_path(&dir, &hash);
    if let Some(p) = state.store.upload(&hash) {
        // A forced re-upload of verified files: the same content by its hash, not kept twice.
        let _ = std::fs::remove_file(&pending);
        return Ok(p);
    }
    let describe = |step: &WireStep| {
        format!("step {} (COPY {})", index + 1, step.args.iter().take(2).cloned().collect::<Vec<_>>().join(" "))
    };
    if !pending.is_file() {
        return Err(error(
            StatusCode::BAD_REQUEST,
            format!("the files of {} (filesHash {hash}) were never uploaded", describe(step)),
        ));
    }
    let (limits, step_in, archive, scratch) = (state.unpack, step.clone(), pending.clone(), dir.clone());
    let checked = tokio::task::spawn_blocking(move || verify(&archive, &step_in, &scratch, &limits)).await;
    match checked {
        Ok(Ok(_)) => {
            let verified = dir.join(&hash);
            std::fs::rename(&pending, &verified).map_err(|e| {
                error(StatusCode::INTERNAL_SERVER_ERROR, format!("cannot keep the verified upload: {e}"))
            })?;
            Ok(verified)
        }
        Ok(Err(e)) => {
            // Nothing of a refused archive is kept.
            let _ = std::fs::remove_file(&pending);
            let status = if e.is_limit() { StatusCode::PAYLOAD_TOO_LARGE } else { StatusCode::BAD_REQUEST };
            Err(error(status, format!("{}: {e}", describe(step))))
        }
        Err(e) => Err(error(StatusCode::INTERNAL_SERVER_ERROR, format!("the upload check stopped: {e}"))),
    }
}

pub(super) async fn start_build(
    State(state): State<Arc<AppState>>,
    Path((template_id, build_id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let template = match template_or_answer(&state, &template_id).await {
        Ok(t) => t,
        Err(answer) => return answer,
    };
    match state.store.build(&template.id, &build_id).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            return error(StatusCode::NOT_FOUND, format!("build `{build_id}` of template `{template_id}` not found"));
        }
        Err(e) => return store_error(e),
    }
    let (request, raw) = match validate::start_request(&body) {
        Ok(r) => r,
        Err(m) => return error(StatusCode::BAD_REQUEST, m),
    };
    let mut archives = Vec::with_capacity(request.steps.len());
    for (i, step) in request.steps.iter().enumerate() {
        let archive = match (&step.kind[..], &step.files_hash) {
            ("COPY", Some(_)) => match verified_archive(&state, i, step).await {
                Ok(p) => Some(p),
                Err(resp) => return resp,
            },
            _ => None,
        };
        archives.push(archive);
    }
    let job = BuildJob {
        template_id: template.id.clone(),
        build_id: build_id.clone(),
        template_name: template.name.clone(),
        request,
        archives,
        cancel: Cancel::new(),
    };
    // Registered before the build is marked started: a delete from then on finds it and cancels
    // it (a delete before it makes `start_build` fail). Dropped when the build's task ends (or is
    // aborted): a delete waits for that.
    let (ended, ended_rx) = tokio::sync::watch::channel(());
    {
        let mut running = state.running.lock().unwrap_or_else(|p| p.into_inner());
        // A second start of one build must not replace the first one's registration.
        let std::collections::hash_map::Entry::Vacant(slot) = running.entry(build_id.clone()) else {
            return error(StatusCode::CONFLICT, format!("build `{build_id}` was already started"));
        };
        slot.insert(RunningBuild { template_id: template.id.clone(), cancel: job.cancel.clone(), ended: ended_rx });
    }
    // Stored without its registry credentials: `job.request` keeps them, in memory only.
    if let Err(e) = state.store.start_build(&template.id, &build_id, raw).await {
        state.running.lock().unwrap_or_else(|p| p.into_inner()).remove(&build_id);
        return store_error(e);
    }
    let task_state = state.clone();
    // The build runs on its own task: a client that disconnects does not stop it.
    let mut builds = state.builds.lock().unwrap_or_else(|p| p.into_inner());
    while builds.try_join_next().is_some() {} // forget finished builds
    builds.spawn(async move {
        run_build(&task_state, job).await;
        drop(ended);
    });
    StatusCode::ACCEPTED.into_response()
}

/// A started build, until its task ends.
pub(super) struct RunningBuild {
    template_id: String,
    cancel: Cancel,
    /// Closed when the build's task ends.
    ended: tokio::sync::watch::Receiver<()>,
}

/// How long deleting a template waits for each of its running builds to stop.
const STOP_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

async fn run_build(state: &AppState, job: BuildJob) {
    let log = BuildLog::new(state.store.clone(), &job.build_id);
    if job.cancel.is_cancelled() {
        // Its template was deleted before the build began: nothing to run, nothing to record.
        state.running.lock().unwrap_or_else(|p| p.into_inner()).remove(&job.build_id);
        return;
    }
    let result = match state.faults.build_failure(&job.template_name) {
        Some(f) => {
            log.info(Some(&f.step), "running step");
            Err(StepFailure { step: Some(f.step), message: f.message })
        }
        None => state.runner.run(&job, &log).await,
    };
    let set = match result {
        Ok(()) => state.store.set_status(&job.template_id, &job.build_id, BuildState::Ready, None).await,
        Err(f) => {
            log.line("error", f.step.as_deref(), format!("ERROR: {}", f.message));
            let reason = StatusReason { message: f.message, step: f.step, log_entries: vec![] };
            state.store.set_status(&job.template_id, &job.build_id, BuildState::Error, Some(reason)).await
        }
    };
    if let Err(e) = set {
        tracing::error!(template_id = %job.template_id, build_id = %job.build_id, "cannot save the build's state: {e}");
    }
    state.running.lock().unwrap_or_else(|p| p.into_inner()).remove(&job.build_id);
}

/// The query of a status request; both numbers are parsed by hand so a bad one gets a message
/// that names it.
#[derive(Deserialize)]
pub(super) struct StatusQuery {
    #[serde(rename = "logsOffset")]
    logs_offset: Option<String>,
    limit: Option<String>,
}

pub(super) async fn build_status(
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
    // The state and the lines are read at one instant: a terminal state implies every line is there.
    let (build, entries) = match state.store.build_with_logs(&template_id, &build_id, offset, limit).await {
        Ok(found) => found,
        Err(e) => return store_error(e),
    };
    json(
        StatusCode::OK,
        &BuildStatus {
            template_id: build.template_id,
            build_id,
            status: build.status,
            logs: vec![],
            log_entries: entries,
            reason: build.reason,
        },
    )
}

pub(super) async fn alias(State(state): State<Arc<AppState>>, Path(alias): Path<String>) -> Response {
    match template_or_answer(&state, &alias).await {
        Ok(t) => json(StatusCode::OK, &AliasResponse { template_id: t.id, public: false }),
        Err(answer) => answer,
    }
}

pub(super) async fn assign_tags(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let req: AssignTagsRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("expected {{\"target\": \"name:tag\", \"tags\": [..]}}: {e}"),
            );
        }
    };
    let (name, tag) = match validate::name_with_tag("target", &req.target) {
        Ok((name, tag)) => (name, tag.unwrap_or_else(|| "default".to_owned())),
        Err(m) => return error(StatusCode::BAD_REQUEST, m),
    };
    let tags = match checked_tags(&req.tags) {
        Ok(t) => t,
        Err(m) => return error(StatusCode::BAD_REQUEST, m),
    };
    match state.store.assign_tags(&name, &tag, &tags).await {
        Ok(build_id) => json(StatusCode::CREATED, &AssignedTags { build_id, tags }),
        Err(e) => store_error(e),
    }
}

pub(super) async fn remove_tags(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let req: DeleteTagsRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("expected {{\"name\": \"..\", \"tags\": [..]}}: {e}")),
    };
    let (name, tags) = match validate::template_name("name", &req.name).and_then(|n| Ok((n, checked_tags(&req.tags)?)))
    {
        Ok(v) => v,
        Err(m) => return error(StatusCode::BAD_REQUEST, m),
    };
    match state.store.remove_tags(&name, &tags).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => store_error(e),
    }
}

/// `tags[i]` of a tags request, each checked and cleaned.
fn checked_tags(tags: &[String]) -> Result<Vec<String>, String> {
    tags.iter().enumerate().map(|(i, t)| validate::tag(&format!("tags[{i}]"), t)).collect()
}

pub(super) async fn list_tags(State(state): State<Arc<AppState>>, Path(template_id): Path<String>) -> Response {
    match state.store.tags(&template_id).await {
        Ok(Some(tags)) => json(StatusCode::OK, &tags),
        Ok(None) => error(StatusCode::NOT_FOUND, format!("template `{template_id}` not found")),
        Err(e) => store_error(e),
    }
}

/// Deletes the template with its builds, tags and logs; then stops its running builds (the
/// engine is killed), removes their staged files and its image, and answers once that is done.
pub(super) async fn delete_template(State(state): State<Arc<AppState>>, Path(template_id): Path<String>) -> Response {
    // Deleted first: from now on the builds' log lines and states are dropped, not stored.
    let template = match state.store.delete_template(&template_id).await {
        Ok(t) => t,
        Err(e) => return store_error(e),
    };
    let stopping: Vec<(String, tokio::sync::watch::Receiver<()>)> = state
        .running
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .filter(|(_, r)| r.template_id == template.id)
        .map(|(id, r)| {
            r.cancel.cancel();
            (id.clone(), r.ended.clone())
        })
        .collect();
    let mut all_stopped = true;
    for (build_id, mut ended) in stopping {
        tracing::info!(template_id = %template.id, %build_id, "cancelling the build of a deleted template");
        // `changed` fails once the build's task has ended and dropped its sender.
        if tokio::time::timeout(STOP_WAIT, async { while ended.changed().await.is_ok() {} }).await.is_err() {
            tracing::warn!(%build_id, "the cancelled build did not stop within {STOP_WAIT:?}; removing its files anyway");
            all_stopped = false;
        }
    }
    state.store.remove_build_files(template.builds.clone()).await;
    // An engine still building would wait on (or re-create) the image: leave it then.
    if all_stopped {
        state.runner.remove_image(&template.name).await;
    } else {
        tracing::warn!(image = %template.name, "not removing the image of a deleted template: a build of it still runs");
    }
    StatusCode::NO_CONTENT.into_response()
}

/// The query of the template list and details: `limit` and `nextToken`, parsed by hand so a bad
/// one gets a message that names it.
#[derive(Deserialize)]
pub(super) struct PageQuery {
    limit: Option<String>,
    #[serde(rename = "nextToken")]
    next_token: Option<String>,
}

/// The longest `nextToken` accepted (this server's tokens are a template ID or a number).
const MAX_TOKEN_LEN: usize = 128;

impl PageQuery {
    /// `limit` (1 to [`MAX_PAGE`], default [`MAX_PAGE`]) and `nextToken` (empty: none).
    fn parse(&self) -> Result<(usize, Option<&str>), String> {
        let limit = match &self.limit {
            None => MAX_PAGE,
            Some(s) => s
                .parse::<usize>()
                .ok()
                .filter(|l| (1..=MAX_PAGE).contains(l))
                .ok_or_else(|| format!("`limit` must be an integer from 1 to {MAX_PAGE}, got {s:?}"))?,
        };
        let token = self.next_token.as_deref().filter(|t| !t.is_empty());
        if token.is_some_and(|t| t.len() > MAX_TOKEN_LEN) {
            return Err(format!(
                "`nextToken` is over {MAX_TOKEN_LEN} bytes: pass the X-Next-Token header of the page before"
            ));
        }
        Ok((limit, token))
    }
}

/// A JSON answer with the next page's token, when there is a next page, in `X-Next-Token`.
fn page<T: serde::Serialize>(value: &T, next: Option<String>) -> Response {
    let mut answer = json(StatusCode::OK, value);
    if let Some(next) = next.and_then(|n| header::HeaderValue::from_str(&n).ok()) {
        answer.headers_mut().insert("x-next-token", next);
    }
    answer
}

fn template_info(t: &TemplateSummary) -> TemplateInfo {
    let last = t.last_build.as_ref();
    TemplateInfo {
        template_id: t.id.clone(),
        build_id: last.map(|b| b.build_id.clone()).unwrap_or_default(),
        build_status: last.map(|b| b.status),
        names: vec![t.name.clone()],
        aliases: vec![t.name.clone()],
        template_type: None,
        build_count: t.build_count,
        cpu_count: last.and_then(|b| b.cpu_count).map_or(0, u64::from),
        memory_mb: last.and_then(|b| b.memory_mb).map_or(0, u64::from),
        disk_size_mb: 0,
        // Nothing is started from a template here: no sandboxes, no envd.
        spawn_count: 0,
        envd_version: String::new(),
        public: false,
        created_at: t.created_at.clone(),
        updated_at: t.updated_at.clone(),
        last_spawned_at: None,
        created_by: None,
        metadata: None,
    }
}

/// `GET /v2/templates`: a page of templates (E2B's answer: a list; `X-Next-Token` when more).
pub(super) async fn list_templates(State(state): State<Arc<AppState>>, Query(q): Query<PageQuery>) -> Response {
    let (limit, after) = match q.parse() {
        Ok(p) => p,
        Err(m) => return error(StatusCode::BAD_REQUEST, m),
    };
    match state.store.list_templates(after, limit).await {
        Ok((templates, next)) => page(&templates.iter().map(template_info).collect::<Vec<_>>(), next),
        Err(e) => store_error(e),
    }
}

/// `GET /templates/{templateID}` (by ID or name): the template and a page of its builds, newest
/// first (`X-Next-Token` when more).
pub(super) async fn get_template(
    State(state): State<Arc<AppState>>,
    Path(template_id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let (limit, before) = match q.parse() {
        Ok((limit, token)) => match token.map(str::parse::<u64>).transpose() {
            Ok(before) => (limit, before),
            Err(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "`nextToken` {:?} is not a token of this template's builds: pass the X-Next-Token header of the page before",
                        token.unwrap_or_default()
                    ),
                );
            }
        },
        Err(m) => return error(StatusCode::BAD_REQUEST, m),
    };
    match state.store.template_details(&template_id, before, limit).await {
        Ok(Some(found)) => {
            let builds = found
                .builds
                .iter()
                .map(|b| TemplateBuild {
                    build_id: b.build_id.clone(),
                    status: b.status,
                    cpu_count: b.cpu_count.map_or(0, u64::from),
                    memory_mb: b.memory_mb.map_or(0, u64::from),
                    disk_size_mb: None,
                    envd_version: None,
                    created_at: b.created_at.clone(),
                    updated_at: b.updated_at.clone(),
                    finished_at: b.finished_at.clone(),
                })
                .collect();
            let details = TemplateDetails { template: template_info(&found.template), builds };
            page(&details, found.next.map(|n| n.to_string()))
        }
        Ok(None) => error(StatusCode::NOT_FOUND, format!("template `{template_id}` not found")),
        Err(e) => store_error(e),
    }
}
