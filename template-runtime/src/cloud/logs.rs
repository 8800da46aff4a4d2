//! Following a build: polling its status until it ends, delivering every log line exactly once.

use reqwest::Method;

use super::api::{BuildState, BuildStatus, LogEntry, StatusReason};
use super::client::BuildInfo;
use super::error::CloudError;
use super::http::{Call, RetryPolicy, Transport, encode_segment};
use super::options::{BuildEvent, CloudBuildOptions, emit};
use super::terminal::terminal_safe;
use crate::template::Template;

/// The most log pages read after the build has ended (100 lines each on E2B and `serve`: 100 000
/// lines). A service that keeps sending full pages for a finished build would otherwise keep the
/// client reading forever; past this, [`BuildEvent::LogTruncated`] says the log was cut.
pub(crate) const MAX_DRAIN_PAGES: usize = 1000;

/// Polls the status every `poll_interval`, delivering each log line once: the offset only
/// advances on a successful answer, and transient failures are retried by the transport.
/// After a terminal state, drains the remaining pages, at most [`MAX_DRAIN_PAGES`].
pub(super) async fn follow(
    transport: &Transport,
    template: &Template,
    info: &BuildInfo,
    options: &CloudBuildOptions,
) -> Result<(), CloudError> {
    let mut offset = 0usize;
    loop {
        let status = status_page(transport, &info.template_id, &info.build_id, offset).await?;
        offset += deliver(options, &status.log_entries);
        if status.status.is_terminal() {
            let mut last_page = status.log_entries.len();
            let mut pages = 0;
            while last_page > 0 {
                if pages == MAX_DRAIN_PAGES {
                    tracing::warn!(lines = offset, "the service kept sending log lines for a finished build: log cut");
                    emit(options, BuildEvent::LogTruncated { lines: offset });
                    break;
                }
                pages += 1;
                let more = status_page(transport, &info.template_id, &info.build_id, offset).await?;
                last_page = deliver(options, &more.log_entries);
                offset += last_page;
            }
            emit(options, BuildEvent::Finished { status: status.status });
            return match status.status {
                BuildState::Ready => Ok(()),
                _ => {
                    let reason = status.reason.unwrap_or(StatusReason {
                        message: "Unknown error".into(),
                        step: None,
                        log_entries: vec![],
                    });
                    let location = reason.step.as_deref().and_then(|s| template.locate_step(s));
                    Err(CloudError::BuildFailed {
                        message: terminal_safe(&reason.message).into_owned(),
                        step: reason.step.map(|s| terminal_safe(&s).into_owned()),
                        location,
                        logs: reason.log_entries.iter().map(|e| terminal_safe(&e.message).into_owned()).collect(),
                    })
                }
            };
        }
        tokio::time::sleep(options.poll_interval).await;
    }
}

/// One status request: state, and log lines from `offset` (one page).
pub(super) async fn status_page(
    transport: &Transport,
    template_id: &str,
    build_id: &str,
    offset: usize,
) -> Result<BuildStatus, CloudError> {
    let call = Call {
        method: Method::GET,
        path: format!("/templates/{}/builds/{}/status", encode_segment(template_id), encode_segment(build_id)),
        query: vec![("logsOffset", offset.to_string())],
        body: None,
        retry: RetryPolicy::Idempotent,
    };
    transport.json(&call).await
}

/// Hands one page of log lines (made [`terminal_safe`]) to the event handler; returns how many.
fn deliver(options: &CloudBuildOptions, entries: &[LogEntry]) -> usize {
    for e in entries {
        let clean = LogEntry {
            timestamp: terminal_safe(&e.timestamp).into_owned(),
            level: terminal_safe(&e.level).into_owned(),
            message: terminal_safe(&e.message).into_owned(),
            step: e.step.as_deref().map(|s| terminal_safe(s).into_owned()),
        };
        tracing::debug!(level = %clean.level, step = clean.step.as_deref().unwrap_or(""), "{}", clean.message);
        emit(options, BuildEvent::Log(clean));
    }
    entries.len()
}
