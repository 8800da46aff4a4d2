//! What runs around every request: injected faults, the API key check, and the record of
//! requests that tests read back.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;
use super::faults::FaultAction;
use super::handlers::error;

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

/// Marker payload for a deliberately dropped connection.
struct DropConnection;

/// Ends the connection task without an answer. `resume_unwind` skips the panic hook (nothing
/// is printed); the server's per-connection task catches the unwind and closes the socket.
/// There is no other way to abort a connection from inside an axum handler.
fn drop_connection() -> ! {
    std::panic::resume_unwind(Box::new(DropConnection))
}

pub(super) async fn guard(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
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
