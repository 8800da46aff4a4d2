//! Ready checks: how the platform knows a started sandbox is ready.

use crate::provider::Provider;
use crate::quote::shell_quote;
use std::time::Duration;

/// A command the platform runs until it succeeds, after the start command.
///
/// Build one with the helpers ([`wait_for_port`], [`wait_for_url`], …) or from any shell command:
///
/// ```
/// use sandbox_template_runtime::{ReadyCmd, wait_for_port, Provider};
/// assert_eq!(wait_for_port(8000).command(Provider::E2b), r#"[ -n "$(ss -Htuln sport = :8000)" ]"#);
/// let custom: ReadyCmd = "curl -f localhost:3000".into();
/// assert_eq!(custom.command(Provider::E2b), "curl -f localhost:3000");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadyCmd {
    /// Something listens on this TCP/UDP port.
    Port(u16),
    /// An HTTP GET of the URL answers with this status code.
    Url {
        /// The URL to request (from inside the sandbox).
        url: String,
        /// The expected status code (default 200).
        status: u16,
    },
    /// A process with this name is running.
    Process(String),
    /// This file exists.
    File(String),
    /// Wait this long (rounded down to whole seconds, at least one).
    Timeout(Duration),
    /// Any shell command.
    Command(String),
}

/// Ready when a process listens on `port`.
pub fn wait_for_port(port: u16) -> ReadyCmd {
    ReadyCmd::Port(port)
}

/// Ready when `url` answers HTTP 200.
pub fn wait_for_url(url: impl Into<String>) -> ReadyCmd {
    ReadyCmd::Url { url: url.into(), status: 200 }
}

/// Ready when `url` answers with `status`.
pub fn wait_for_url_status(url: impl Into<String>, status: u16) -> ReadyCmd {
    ReadyCmd::Url { url: url.into(), status }
}

/// Ready when a process called `name` runs.
pub fn wait_for_process(name: impl Into<String>) -> ReadyCmd {
    ReadyCmd::Process(name.into())
}

/// Ready when `path` exists.
pub fn wait_for_file(path: impl Into<String>) -> ReadyCmd {
    ReadyCmd::File(path.into())
}

/// Ready after `duration` (whole seconds, at least one, as the SDKs do).
pub fn wait_for_timeout(duration: Duration) -> ReadyCmd {
    ReadyCmd::Timeout(duration)
}

impl ReadyCmd {
    /// The shell command sent to `provider`.
    pub fn command(&self, provider: Provider) -> String {
        match (self, provider) {
            (ReadyCmd::Port(port), Provider::E2b) => format!("[ -n \"$(ss -Htuln sport = :{port})\" ]"),
            // novita-sandbox's own helper; its base image is what this form was written for.
            (ReadyCmd::Port(port), Provider::Novita) => format!("ss -tuln | grep :{port}"),
            (ReadyCmd::Url { url, status }, _) => {
                format!("curl -s -o /dev/null -w \"%{{http_code}}\" {} | grep -q \"{status}\"", shell_quote(url))
            }
            (ReadyCmd::Process(name), _) => format!("pgrep {} > /dev/null", shell_quote(name)),
            (ReadyCmd::File(path), _) => format!("[ -f {} ]", shell_quote(path)),
            (ReadyCmd::Timeout(d), _) => format!("sleep {}", (d.as_millis() / 1000).max(1)),
            (ReadyCmd::Command(cmd), _) => cmd.clone(),
        }
    }
}

impl From<&str> for ReadyCmd {
    fn from(cmd: &str) -> Self {
        ReadyCmd::Command(cmd.to_owned())
    }
}

impl From<String> for ReadyCmd {
    fn from(cmd: String) -> Self {
        ReadyCmd::Command(cmd)
    }
}

impl From<&String> for ReadyCmd {
    fn from(cmd: &String) -> Self {
        ReadyCmd::Command(cmd.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_render_like_the_sdk() {
        let e = Provider::E2b;
        assert_eq!(
            wait_for_url("http://localhost:3000/health").command(e),
            r#"curl -s -o /dev/null -w "%{http_code}" http://localhost:3000/health | grep -q "200""#
        );
        assert_eq!(wait_for_process("node").command(e), "pgrep node > /dev/null");
        assert_eq!(wait_for_file("/tmp/ready").command(e), "[ -f /tmp/ready ]");
        assert_eq!(wait_for_timeout(Duration::from_millis(5500)).command(e), "sleep 5");
        assert_eq!(wait_for_timeout(Duration::from_millis(10)).command(e), "sleep 1");
        assert_eq!(wait_for_port(8000).command(Provider::Novita), "ss -tuln | grep :8000");
    }
}
