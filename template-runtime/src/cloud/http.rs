//! Sending API requests: headers, per-request timeouts, and retries with backoff where a request
//! is safe to repeat.

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;

use super::api::ApiErrorBody;
use super::config::{ClientConfig, HeaderValue};
use super::error::{CloudError, ConfigError, RequestPhase};
use super::terminal::terminal_safe;

/// When a failed request may be sent again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RetryPolicy {
    /// Idempotent (GET, PUT of the same bytes, create deduplicated by name): retry 429,
    /// 502/503/504, connection failures and timeouts.
    Idempotent,
    /// Retry only when the server certainly did not act on it: 429 and 503 (the server says so)
    /// and failures to connect (nothing was sent).
    NotProcessed,
}

/// Backoff bounds (Python SDK: `min(0.1·2^attempt, 10)·U[0.5,1)`).
const BACKOFF_BASE: Duration = Duration::from_millis(100);
const BACKOFF_CAP: Duration = Duration::from_secs(10);
/// A `Retry-After` longer than this is not waited for: the error is returned instead.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);
/// The most of a 2xx answer that is read: a status page or a template list is far smaller; a
/// service sending more gets [`CloudError::AnswerTooLarge`] instead of filling memory.
pub(crate) const MAX_ANSWER_BODY: usize = 32 << 20;
/// The most of an error answer (or of a refused upload's answer) that is read: enough for any
/// message, bounded whatever the server sends.
pub(crate) const MAX_ERROR_BODY: usize = 1 << 20;
/// The most of a server's message an error shows.
pub(crate) const MAX_MESSAGE_CHARS: usize = 2000;

/// `encodeURIComponent`: path parameters travel as one segment (`ns/name:tag` → `ns%2Fname%3Atag`).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

pub(crate) fn encode_segment(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

/// One API call.
pub(crate) struct Call<'a> {
    pub method: Method,
    /// Path with parameters already encoded (use [`encode_segment`]).
    pub path: String,
    pub query: Vec<(&'a str, String)>,
    /// JSON body, already serialized (so the bytes are exactly what was validated).
    pub body: Option<String>,
    pub retry: RetryPolicy,
}

/// The HTTP client plus the resolved configuration.
#[derive(Clone, Debug)]
pub(crate) struct Transport {
    pub http: reqwest::Client,
    pub config: ClientConfig,
    pub request_timeout: Option<Duration>,
    /// Bounds requests in flight (and so open connections) across every build of the client.
    pub in_flight: Arc<Semaphore>,
    /// One archive is written at a time per client: each already uses every core, and this
    /// keeps memory bounded however many COPY steps or builds run at once.
    pub spooling: Arc<Semaphore>,
}

impl Transport {
    pub fn new(config: ClientConfig) -> Result<Self, CloudError> {
        let http = reqwest::Client::builder()
            // No default User-Agent: uploads to presigned URLs carry no SDK headers.
            .connect_timeout(Duration::from_secs(30))
            // Redirects are not followed: reqwest would send the `X-API-KEY` header on to
            // another origin. The Python SDK does the same (httpx, `follow_redirects=False`,
            // also for uploads); the E2B and Novita APIs answer without redirecting. A 3xx
            // becomes an error naming where it pointed.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|source| ConfigError::HttpClient { source })?;
        let request_timeout = config.request_timeout();
        let in_flight = Arc::new(Semaphore::new(config.max_in_flight()));
        Ok(Transport { http, config, request_timeout, in_flight, spooling: Arc::new(Semaphore::new(1)) })
    }

    /// Sends `call`, retrying per its policy; returns a 2xx answer (its body read up to
    /// [`MAX_ANSWER_BODY`]).
    pub async fn send(&self, call: &Call<'_>) -> Result<Answer, CloudError> {
        use tracing::Instrument;
        let span = tracing::debug_span!("api_request", method = %call.method, path = %call.path);
        self.send_with_retries(call).instrument(span).await
    }

    async fn send_with_retries(&self, call: &Call<'_>) -> Result<Answer, CloudError> {
        let url = format!("{}{}", self.config.api_url(), call.path);
        let mut attempt: u32 = 0;
        loop {
            let outcome = self.attempt(&url, call).await;
            let (error, delay) = match outcome {
                Ok(answer) if answer.status.is_success() => {
                    if !answer.complete {
                        return Err(CloudError::AnswerTooLarge {
                            method: call.method.clone(),
                            path: call.path.clone(),
                            limit: MAX_ANSWER_BODY,
                        });
                    }
                    return Ok(answer);
                }
                Ok(answer) => {
                    let retry_after = retry_after(&answer.headers);
                    let error = answer_error(&answer);
                    let retryable = match answer.status.as_u16() {
                        429 | 503 => true,
                        502 | 504 => call.retry == RetryPolicy::Idempotent,
                        _ => false,
                    };
                    if !retryable {
                        return Err(error);
                    }
                    (error, retry_after.unwrap_or_else(|| backoff(attempt)))
                }
                Err(Failure { error, sent }) => {
                    if sent && call.retry == RetryPolicy::NotProcessed {
                        return Err(error);
                    }
                    (error, backoff(attempt))
                }
            };
            if attempt >= self.config.retries() || delay > MAX_RETRY_AFTER {
                return Err(error);
            }
            attempt += 1;
            tracing::debug!(attempt, delay_ms = delay.as_millis() as u64, %error, "retrying");
            tokio::time::sleep(delay).await;
        }
    }

    /// Sends `call` and parses the 2xx JSON answer.
    pub async fn json<T: DeserializeOwned>(&self, call: &Call<'_>) -> Result<T, CloudError> {
        let answer = self.send(call).await?;
        parse_json(call, &answer.body)
    }

    async fn attempt(&self, url: &str, call: &Call<'_>) -> Result<Answer, Failure> {
        let mut req = self.http.request(call.method.clone(), url);
        if !call.query.is_empty() {
            req = req.query(&call.query);
        }
        for (name, value) in self.config.api_headers() {
            let value = match value {
                HeaderValue::Plain(v) => v,
                HeaderValue::Secret(k) => k.expose().to_owned(),
            };
            req = req.header(name, value);
        }
        if let Some(body) = &call.body {
            req = req.header(reqwest::header::CONTENT_TYPE, "application/json").body(body.clone());
        }
        if let Some(t) = self.request_timeout {
            req = req.timeout(t);
        }
        let _permit = permit(&self.in_flight).await;
        let mut resp = req.send().await.map_err(|e| Failure::from_reqwest(e, RequestPhase::Sending))?;
        let status = resp.status();
        let limit = if status.is_success() { MAX_ANSWER_BODY } else { MAX_ERROR_BODY };
        let (body, complete) = read_capped(&mut resp, limit)
            .await
            .map_err(|e| Failure { sent: true, ..Failure::from_reqwest(e, RequestPhase::ReadingAnswer) })?;
        tracing::debug!(status = status.as_u16(), bytes = body.len(), complete, "answer");
        Ok(Answer { status, headers: std::mem::take(resp.headers_mut()), body, complete })
    }
}

/// An answer of the API: its body is read up to a limit ([`MAX_ANSWER_BODY`] for 2xx,
/// [`MAX_ERROR_BODY`] otherwise), never whole whatever its size.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
    /// Whether `body` is the whole body (false: the limit cut it).
    pub complete: bool,
}

/// Parses a 2xx JSON answer of `call`.
pub(crate) fn parse_json<T: DeserializeOwned>(call: &Call<'_>, body: &[u8]) -> Result<T, CloudError> {
    serde_json::from_slice(body).map_err(|source| CloudError::Protocol {
        method: call.method.clone(),
        path: call.path.clone(),
        body: excerpt(&String::from_utf8_lossy(body), false),
        source,
    })
}

/// Reads at most `limit` bytes of `resp`'s body, chunk by chunk; returns them and whether that
/// was all. The rest is never read: dropping the answer closes its connection.
pub(crate) async fn read_capped(resp: &mut reqwest::Response, limit: usize) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        let room = limit - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, false));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, true))
}

/// The delay a `Retry-After: SECONDS` header asks for (the date form is not used by the services).
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// The error of a non-2xx `answer`. A redirect is not followed (the API key would go with it,
/// to wherever it points): its error names the origin it pointed to.
fn answer_error(answer: &Answer) -> CloudError {
    if answer.status.is_redirection() {
        let to = answer
            .headers
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| reqwest::Url::parse(v).ok())
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_else(|| "another address".to_owned());
        let message = format!(
            "the service redirected to {} (not followed, so the API key is not sent there; set the API URL to \
             the address the service really answers at)",
            terminal_safe(&to)
        );
        return CloudError::Api { status: answer.status.as_u16(), message };
    }
    status_error(answer.status, &answer.body, answer.complete, retry_after(&answer.headers))
}

struct Failure {
    error: CloudError,
    /// Whether the request may have reached the server.
    sent: bool,
}

impl Failure {
    fn from_reqwest(e: reqwest::Error, phase: RequestPhase) -> Self {
        // Strip the URL: it may carry a presigned signature; the message stays useful.
        let source = e.without_url();
        let sent = !source.is_connect();
        let error = if source.is_timeout() {
            CloudError::RequestTimeout { phase, source }
        } else {
            CloudError::Connection { phase, source }
        };
        Failure { error, sent }
    }
}

/// A permit of one of the client's semaphores. They are never closed (no code calls `close`),
/// so acquiring waits but cannot fail.
pub(crate) async fn permit(limit: &Semaphore) -> tokio::sync::SemaphorePermit<'_> {
    match limit.acquire().await {
        Ok(permit) => permit,
        Err(_) => unreachable!("the cloud client never closes its semaphores"),
    }
}

/// The typed error of a non-2xx answer; the message is the body's `message`, else the body,
/// else the status text (the JS SDK's `handleApiError`), made terminal-safe and cut to
/// [`MAX_MESSAGE_CHARS`]. `complete` says whether `body` is the whole body.
pub(crate) fn status_error(
    status: StatusCode,
    body: &[u8],
    complete: bool,
    retry_after: Option<Duration>,
) -> CloudError {
    let message = server_message(status, body, complete);
    match status.as_u16() {
        401 => CloudError::Authentication { message },
        429 => CloudError::RateLimit { message, retry_after },
        code @ (502..=504) => CloudError::ServiceBusy { status: code, message },
        code => CloudError::Api { status: code, message },
    }
}

pub(crate) fn server_message(status: StatusCode, body: &[u8], complete: bool) -> String {
    if complete && let Ok(e) = serde_json::from_slice::<ApiErrorBody>(body) {
        return excerpt(&e.message, false);
    }
    let text = String::from_utf8_lossy(body);
    if text.trim().is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        excerpt(&text, !complete)
    }
}

/// `text` made terminal-safe, trimmed and cut to [`MAX_MESSAGE_CHARS`], saying so when it was
/// cut (here, or already when the body was read: `cut`).
pub(crate) fn excerpt(text: &str, cut: bool) -> String {
    let safe = terminal_safe(text);
    let trimmed = safe.trim();
    let mut out: String = trimmed.chars().take(MAX_MESSAGE_CHARS).collect();
    if cut || out.len() < trimmed.len() {
        out.push_str(" … (cut: the rest of the server's answer is not shown)");
    }
    out
}

/// Exponential backoff with jitter: `min(base·2^attempt, cap)·U[0.5, 1)`.
pub(crate) fn backoff(attempt: u32) -> Duration {
    let exp = BACKOFF_BASE.saturating_mul(1u32 << attempt.min(16)).min(BACKOFF_CAP);
    exp.mul_f64(0.5 + 0.5 * unit_random())
}

/// A number in [0, 1) that differs between calls and processes. Jitter needs no more than this;
/// std's per-process random hasher keys avoid a dependency for it.
fn unit_random() -> f64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_encoded_like_encode_uri_component() {
        assert_eq!(encode_segment("ns/name:tag"), "ns%2Fname%3Atag");
        assert_eq!(encode_segment("my-tpl_1.0~(x)"), "my-tpl_1.0~(x)");
    }

    #[test]
    fn backoff_grows_and_is_bounded() {
        for attempt in 0..40 {
            let d = backoff(attempt);
            let full = BACKOFF_BASE.saturating_mul(1u32 << attempt.min(16)).min(BACKOFF_CAP);
            assert!(d >= full / 2 && d < full, "attempt {attempt}: {d:?}");
        }
    }

    #[test]
    fn error_messages_come_from_the_body() {
        let e = status_error(StatusCode::UNAUTHORIZED, br#"{"code":401,"message":"Invalid API key"}"#, true, None);
        assert_eq!(e.to_string(), "Unauthorized, please check your credentials. - Invalid API key");
        let e = status_error(StatusCode::INTERNAL_SERVER_ERROR, b"", true, None);
        assert_eq!(e.to_string(), "500: Internal Server Error");
        let e = status_error(StatusCode::FORBIDDEN, b"<Error>AccessDenied</Error>", true, None);
        assert_eq!(e.to_string(), "403: <Error>AccessDenied</Error>");
    }

    #[test]
    fn error_messages_are_terminal_safe_and_bounded() {
        let body = br#"{"code":400,"message":"bad\u001b]0;title\u0007 name\r"}"#;
        let e = status_error(StatusCode::BAD_REQUEST, body, true, None);
        assert_eq!(e.to_string(), "400: bad name");
        let long = "x".repeat(MAX_MESSAGE_CHARS * 3);
        let e = status_error(StatusCode::BAD_REQUEST, long.as_bytes(), true, None);
        let shown = e.to_string();
        assert!(shown.len() < MAX_MESSAGE_CHARS + 100, "{} chars", shown.len());
        assert!(shown.ends_with("(cut: the rest of the server's answer is not shown)"), "{shown}");
        // A body the reader cut says so even when what was read is short.
        let e = status_error(StatusCode::BAD_REQUEST, b"{\"code\":400,\"mess", false, None);
        assert!(e.to_string().starts_with("400: {\"code\":400,\"mess … (cut"), "{e}");
    }
}
