//! What runs around every request: the request log, the API key check (before any body is read),
//! injected faults, and the bounded record of requests that tests read back.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::faults::FaultAction;
use super::handlers::error;
use super::{AppState, MAX_JSON_BODY, MAX_RECORDED_BODY};

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
    /// Body text of JSON requests whose API key was accepted, its first
    /// [`MAX_RECORDED_BODY`](super::MAX_RECORDED_BODY) bytes (uploads are not recorded).
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

/// Marker payload for a deliberately dropped connection.
struct DropConnection;

/// Ends the connection task without an answer. `resume_unwind` skips the panic hook (nothing
/// is printed); the server's per-connection task catches the unwind and closes the socket.
/// There is no other way to abort a connection from inside an axum handler.
fn drop_connection() -> ! {
    std::panic::resume_unwind(Box::new(DropConnection))
}

/// Logs each request through `tracing` (target `sandbox_template_server::api`): method, path
/// (never the query, which carries upload signatures), status and latency.
pub(super) async fn log_request(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let resp = next.run(req).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(%method, %path, status = resp.status().as_u16(), latency_ms = format_args!("{latency_ms:.1}"), "request");
    resp
}

/// The API key check, then faults and the record. The key is checked before anything reads the
/// body: a refused request costs its headers only. An upload (`/upload/...`) is checked by its
/// handler, against the signature in its URL, before it reads the body. Other bodies are read
/// here, after the check, up to [`MAX_JSON_BODY`] and with [`ServerConfig::body_timeout`]
/// between chunks.
///
/// [`ServerConfig::body_timeout`]: super::ServerConfig::body_timeout
pub(super) async fn guard(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let is_upload = path.starts_with("/upload/");
    let mut record = state.record_requests.then(|| RecordedRequest {
        method: method.clone(),
        path: path.clone(),
        query: if is_upload { "<redacted>".to_owned() } else { req.uri().query().unwrap_or("").to_owned() },
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
    });
    if !is_upload && !authorized(&state, req.headers()) {
        let resp = if req.headers().contains_key("x-api-key") || req.headers().contains_key(header::AUTHORIZATION) {
            error(StatusCode::UNAUTHORIZED, "Invalid API key")
        } else {
            error(StatusCode::UNAUTHORIZED, "missing API key: send it in the X-API-KEY header")
        };
        if let Some(mut record) = record {
            record.status = resp.status().as_u16();
            state.record(record);
        }
        return resp;
    }
    let req = if is_upload {
        req
    } else {
        let (parts, body) = req.into_parts();
        let bytes = match read_body(body, state.body_timeout).await {
            Ok(b) => b,
            Err(resp) => return resp,
        };
        if let Some(record) = &mut record
            && !bytes.is_empty()
        {
            let kept = &bytes[..bytes.len().min(MAX_RECORDED_BODY)];
            record.body = Some(redact_registry(kept));
        }
        Request::from_parts(parts, Body::from(bytes))
    };
    let fault = state.faults.take(&method, &path);
    let index = record.map_or(usize::MAX, |r| state.record(r));
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
    let resp = next.run(req).await;
    if drop_after {
        drop_connection();
    }
    state.answered(index, resp.status().as_u16());
    resp
}

/// Reads a JSON body: at most [`MAX_JSON_BODY`] bytes, each chunk within `timeout`.
async fn read_body(body: Body, timeout: std::time::Duration) -> Result<axum::body::Bytes, Response> {
    use futures_util::StreamExt;
    let mut stream = body.into_data_stream();
    let mut buf = Vec::new();
    loop {
        let chunk = match tokio::time::timeout(timeout, stream.next()).await {
            Err(_) => {
                return Err(error(
                    StatusCode::REQUEST_TIMEOUT,
                    format!("the request body sent nothing for {} s", timeout.as_secs_f64()),
                ));
            }
            Ok(None) => return Ok(buf.into()),
            Ok(Some(Err(e))) => {
                return Err(error(StatusCode::BAD_REQUEST, format!("cannot read the request body: {e}")));
            }
            Ok(Some(Ok(c))) => c,
        };
        if buf.len() + chunk.len() > MAX_JSON_BODY {
            return Err(error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the request body is over {MAX_JSON_BODY} bytes, the limit for JSON requests"),
            ));
        }
        buf.extend_from_slice(&chunk);
    }
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

/// Whether the request carries an accepted key. Each comparison takes the same time wherever the
/// first differing byte is (`subtle`), and every key is compared, so the time says nothing
/// about how much of a key was right.
fn authorized(state: &AppState, headers: &HeaderMap) -> bool {
    use subtle::ConstantTimeEq;
    let key = headers.get("x-api-key").map(|v| v.as_bytes());
    let bearer = headers.get(header::AUTHORIZATION).and_then(|v| v.as_bytes().strip_prefix(b"Bearer "));
    let mut ok = subtle::Choice::from(0);
    for k in &state.api_keys {
        let k = k.expose().as_bytes();
        for given in [key, bearer].into_iter().flatten() {
            ok |= k.ct_eq(given);
        }
    }
    bool::from(ok)
}
