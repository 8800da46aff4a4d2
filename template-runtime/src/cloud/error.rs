//! The error type of the cloud client, and the typed causes it carries.

use std::time::Duration;

use crate::provider::Provider;
use crate::step::SourceLocation;

/// Everything that can go wrong talking to a build service. Messages carry the server's own
/// message; they never contain the API key.
///
/// ```no_run
/// # async fn run() -> Result<(), sandbox_template_runtime::cloud::CloudError> {
/// use sandbox_template_runtime::{Provider, Template};
/// use sandbox_template_runtime::cloud::{Client, CloudBuildOptions, CloudError};
///
/// let template = Template::new().from_base_image().run_cmd("make");
/// let client = Client::from_env(Provider::E2b)?;
/// match client.build(&template, "app", &CloudBuildOptions::default()).await {
///     Ok(info) => println!("built {}", info.build_id),
///     Err(CloudError::BuildFailed { logs, .. }) => logs.iter().for_each(|line| eprintln!("| {line}")),
///     Err(e) if e.is_transient() => eprintln!("try again later: {e}"),
///     Err(e) => return Err(e),
/// }
/// # Ok(()) }
/// ```
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
    #[error("Failed to upload file '{src}': {source}")]
    Upload {
        /// The COPY source whose archive failed.
        src: String,
        /// What went wrong.
        #[source]
        source: UploadError,
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
    /// An API request got no answer within the per-request timeout, after the allowed retries.
    #[error(
        "timed out: no answer in time while {phase} (the service may be overloaded: retry later, or raise \
         `ConnectionOptions::request_timeout` / `CloudBuildOptions::request_timeout`)"
    )]
    RequestTimeout {
        /// What the client was doing when the time ran out.
        phase: RequestPhase,
        /// The HTTP client's error (its URL removed).
        #[source]
        source: reqwest::Error,
    },
    /// The whole build took longer than [`CloudBuildOptions::timeout`](super::CloudBuildOptions::timeout).
    /// The client stopped following it; the service may still finish it.
    #[error(
        "timed out: the build did not finish within {}s (raise `CloudBuildOptions::timeout`; the service may \
         still finish the build)",
        .limit.as_secs_f64()
    )]
    BuildTimeout {
        /// The limit that was reached.
        limit: Duration,
    },
    /// The connection could not be made or was lost, after the allowed retries.
    #[error(
        "connection to the build service failed while {phase}: {} (check the API URL and the network)",
        error_chain(.source)
    )]
    Connection {
        /// What the client was doing when the connection failed.
        phase: RequestPhase,
        /// The HTTP client's error (its URL removed: it may carry a presigned signature).
        #[source]
        source: reqwest::Error,
    },
    /// Missing or invalid configuration (no API key, bad URL, no template name). Nothing was sent.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The template is invalid or its context cannot be read. Nothing was sent.
    #[error(transparent)]
    Validation(#[from] crate::Error),
    /// A local file could not be read or written.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The service answered something this client does not understand.
    #[error("unexpected response from the build service to {method} {path}: {source} in `{body}`")]
    Protocol {
        /// The request's method.
        method: reqwest::Method,
        /// The request's path (below the API URL).
        path: String,
        /// The start of the answer's body (lossily decoded as UTF-8, terminal controls removed,
        /// at most 2000 characters).
        body: String,
        /// Why the body is not the expected JSON.
        #[source]
        source: serde_json::Error,
    },
    /// A successful answer was larger than the client reads (32 MiB): the service is not one
    /// this client understands, or is misbehaving. The rest of the answer was not read.
    #[error(
        "the answer of the build service to {method} {path} is larger than {} MiB; stopped reading it (check \
         the API URL points at an E2B-compatible service)",
        .limit >> 20
    )]
    AnswerTooLarge {
        /// The request's method.
        method: reqwest::Method,
        /// The request's path (below the API URL).
        path: String,
        /// The limit, in bytes.
        limit: usize,
    },
    /// Work the client ran on the async runtime (hashing the context, writing an archive, an
    /// upload) was cancelled before it finished: the runtime is shutting down.
    #[error("{task} was cancelled before it finished: the async runtime is shutting down")]
    Cancelled {
        /// The work that was cancelled, e.g. `hashing the build context`.
        task: &'static str,
    },
}

/// What an API request was doing when it failed ([`CloudError::Connection`],
/// [`CloudError::RequestTimeout`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestPhase {
    /// Connecting, sending the request and waiting for the answer's status. The service may
    /// have received the request, unless the connection could not be made.
    Sending,
    /// Reading the answer's body: the service has acted on the request.
    ReadingAnswer,
}

impl std::fmt::Display for RequestPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RequestPhase::Sending => "sending the request",
            RequestPhase::ReadingAnswer => "reading the answer",
        })
    }
}

/// A configuration problem, found before anything is sent ([`CloudError::Config`]). Never
/// contains a credential.
///
/// ```
/// use sandbox_template_runtime::Provider;
/// use sandbox_template_runtime::cloud::{ClientConfig, CloudError, ConfigError, ConnectionOptions};
///
/// let no_env = |_: &str| None;
/// let err = ClientConfig::resolve(Provider::E2b, ConnectionOptions::default(), no_env).unwrap_err();
/// assert!(matches!(err, CloudError::Config(ConfigError::MissingApiKey { provider: Provider::E2b })));
/// assert!(err.to_string().contains("set the E2B_API_KEY environment variable"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Neither an API key nor (Novita) an access token was given or found in the environment.
    #[error("{}", missing_key(.provider))]
    MissingApiKey {
        /// The build service that needs the key.
        provider: Provider,
    },
    /// The API URL (option or `*_API_URL`) does not parse.
    #[error(
        "API URL `{url}` is not a valid URL: {source} (expected e.g. `https://api.e2b.app` or \
         `http://127.0.0.1:3000`)"
    )]
    InvalidApiUrl {
        /// The URL as resolved (a scheme added when it had none).
        url: String,
        /// Why it does not parse.
        #[source]
        source: UrlError,
    },
    /// The HTTP client could not be created (e.g. the TLS backend failed to initialise).
    #[error("cannot create the HTTP client: {}", error_chain(.source))]
    HttpClient {
        /// The HTTP client's error.
        #[source]
        source: reqwest::Error,
    },
    /// The page size asked of [`Client::list_templates_page`](super::Client::list_templates_page)
    /// is outside what the services accept.
    #[error("a template list page holds 1 to 100 templates, not {limit}")]
    InvalidListLimit {
        /// The page size asked for.
        limit: u32,
    },
    /// A Novita page cursor is not a page number.
    #[error("`{cursor}` is not a Novita template page (pass the `next` cursor of the page before, or none)")]
    InvalidCursor {
        /// The cursor given.
        cursor: String,
    },
    /// [`TemplateListQuery::template_type`](super::TemplateListQuery::template_type) was set for
    /// E2B, whose template list has no such filter (only novita-sandbox's `Template.list` has it).
    #[error("E2B's template list has no template type filter (`template_type` is Novita's); leave it out for E2B")]
    TemplateTypeOnE2b,
    /// The template name passed to a build is empty.
    #[error("a template name is required (e.g. \"my-template\" or \"my-template:v1\")")]
    MissingTemplateName,
}

/// The error of parsing a URL (`url::ParseError`), named through reqwest's re-export of `Url` so
/// that the `url` crate needs no dependency of its own.
type UrlError = <reqwest::Url as std::str::FromStr>::Err;

fn missing_key(provider: &Provider) -> &'static str {
    match provider {
        Provider::E2b => {
            "E2B API key is required: set the E2B_API_KEY environment variable or pass \
             `ConnectionOptions::with_api_key(..)` (get a key at https://e2b.dev/dashboard)"
        }
        Provider::Novita => {
            "Novita API key is required: set NOVITA_API_KEY (or NOVITA_ACCESS_TOKEN), or pass \
             `ConnectionOptions::with_api_key(..)`"
        }
    }
}

/// Why the archive of one COPY step could not be uploaded ([`CloudError::Upload`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UploadError {
    /// The service (asked whether it has the files) or the storage behind the upload URL refused
    /// it; uploads are retried on 5xx, not on 4xx.
    #[error("{status}: {message}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// The answer's message (the body's `message`, else the body, else the status text).
        message: String,
    },
    /// The upload did not finish within [`CloudBuildOptions::upload_timeout`](super::CloudBuildOptions::upload_timeout).
    #[error("timed out (raise `CloudBuildOptions::upload_timeout` for large contexts)")]
    Timeout {
        /// The HTTP client's error (its URL removed).
        #[source]
        source: reqwest::Error,
    },
    /// The connection to the upload URL failed, after the allowed retries.
    #[error("{}", error_chain(.source))]
    Connection {
        /// The HTTP client's error (its URL removed: it carries a presigned signature).
        #[source]
        source: reqwest::Error,
    },
    /// The archive written to a temporary file could not be opened again to send it.
    #[error("cannot reopen the archive: {source}")]
    Archive {
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// `error: cause: cause`: reqwest's own message ("error sending request") says little; the
/// useful part (connection refused, DNS, TLS) is in its sources.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

/// The result of a task the client ran on the runtime. A panic in the task is a bug: it
/// continues in the caller rather than becoming an error message. A task is cancelled only when
/// the runtime shuts down: [`CloudError::Cancelled`].
pub(crate) fn joined<T>(result: Result<T, tokio::task::JoinError>, task: &'static str) -> Result<T, CloudError> {
    match result {
        Ok(value) => Ok(value),
        Err(e) => match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(_) => Err(CloudError::Cancelled { task }),
        },
    }
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
                | CloudError::RequestTimeout { .. }
                | CloudError::BuildTimeout { .. }
                | CloudError::Connection { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn join_error(task: impl std::future::Future<Output = ()> + Send + 'static, abort: bool) -> tokio::task::JoinError {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let handle = tokio::spawn(task);
            if abort {
                handle.abort();
            }
            handle.await.unwrap_err()
        })
    }

    #[test]
    fn a_panicking_task_panics_the_caller_with_its_own_payload() {
        let e = join_error(async { std::panic::panic_any("boom in the task") }, false);
        let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            joined::<()>(Err(e), "hashing the build context")
        }))
        .unwrap_err();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom in the task"));
    }

    #[test]
    fn a_cancelled_task_is_an_error_that_names_the_work() {
        let e = join_error(std::future::pending(), true);
        let err = joined::<()>(Err(e), "uploading a build context").unwrap_err();
        assert!(matches!(err, CloudError::Cancelled { task: "uploading a build context" }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "uploading a build context was cancelled before it finished: the async runtime is shutting down"
        );
    }

    #[test]
    fn a_missing_template_name_says_what_to_write() {
        let err = CloudError::from(ConfigError::MissingTemplateName);
        assert_eq!(err.to_string(), r#"a template name is required (e.g. "my-template" or "my-template:v1")"#);
    }
}
