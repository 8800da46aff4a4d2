//! The one error type of the cloud client.

use std::time::Duration;

use crate::step::SourceLocation;

/// Everything that can go wrong talking to a build service. Messages carry the server's own
/// message; they never contain the API key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CloudError {
    /// The service rejected the credentials (401).
    #[error("Unauthorized, please check your credentials. - {message}")]
    Authentication {
        /// The server's message.
        message: String,
    },
    /// Still rate limited (429) after the allowed retries.
    #[error("Rate limit exceeded, please try again later - {message}")]
    RateLimit {
        /// The server's message.
        message: String,
        /// The last `Retry-After` the server sent.
        retry_after: Option<Duration>,
    },
    /// The service is overloaded or a gateway failed (502/503/504) after the allowed retries.
    #[error("Service temporarily unavailable, please retry - {status}: {message}")]
    ServiceBusy {
        /// HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// Any other non-success answer of the API.
    #[error("{status}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// The server's message (the body's `message`, else the body, else the status text).
        message: String,
    },
    /// Uploading a build context failed.
    #[error("Failed to upload file '{src}': {message}")]
    Upload {
        /// The COPY source whose archive failed.
        src: String,
        /// What went wrong.
        message: String,
    },
    /// The build service reported the build as failed.
    #[error("build failed{}: {message}{}", step_label(.step), at(.location))]
    BuildFailed {
        /// The reason the service gave.
        message: String,
        /// The failing step as the service names it: `base`, `finalize` or a 1-based number.
        step: Option<String>,
        /// The builder call or DSL statement that added the failing step.
        location: Option<SourceLocation>,
        /// Log lines attached to the reason.
        logs: Vec<String>,
    },
    /// A request, upload or the whole build took longer than allowed.
    #[error("timed out: {0}")]
    Timeout(String),
    /// The connection could not be made or was lost (after the allowed retries).
    #[error("connection to the build service failed: {0}")]
    Connection(String),
    /// Missing or invalid configuration (no API key, bad URL, bad option). Nothing was sent.
    #[error("{0}")]
    Config(String),
    /// The template is invalid or its context cannot be read. Nothing was sent.
    #[error(transparent)]
    Validation(#[from] crate::Error),
    /// A local file could not be read or written.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The service answered something this client does not understand.
    #[error("unexpected response from the build service: {0}")]
    Protocol(String),
}

fn step_label(step: &Option<String>) -> String {
    match step.as_deref() {
        Some("base") => " at the base image".to_owned(),
        Some("finalize") => " at the start command".to_owned(),
        Some(n) => format!(" at step {n}"),
        None => String::new(),
    }
}

fn at(location: &Option<SourceLocation>) -> String {
    location.map(|l| format!(" (added at {l})")).unwrap_or_default()
}

impl CloudError {
    /// Whether retrying the whole operation later could succeed (rate limit, busy, timeout,
    /// connection).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            CloudError::RateLimit { .. }
                | CloudError::ServiceBusy { .. }
                | CloudError::Timeout(_)
                | CloudError::Connection(_)
        )
    }
}
