//! Finding a container engine (Docker or Podman) and running its CLI.
//!
//! Three types, three questions: [`EnginePreference`] is what the caller asks for (`auto`,
//! `docker`, `podman`), [`EngineKind`] is which of the two an engine is, and [`Engine`] is an
//! engine that was found and answered, the handle that builds and runs templates.

use std::ffi::OsStr;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use super::error::{EngineAttempt, LocalError};

/// The environment variable that picks the engine when the choice is [`EnginePreference::Auto`]:
/// `auto`, `docker` or `podman`.
pub const ENGINE_ENV: &str = "SANDBOX_TEMPLATE_ENGINE";

/// Which container engine the caller wants: a preference that [`Engine::detect`] resolves to a
/// working [`Engine`] (unlike [`EngineKind`], it can leave the choice open with `Auto`).
///
/// ```
/// use sandbox_template_runtime::local::EnginePreference;
/// assert_eq!("podman".parse::<EnginePreference>().unwrap(), EnginePreference::Podman);
/// assert!("lxc".parse::<EnginePreference>().is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum EnginePreference {
    /// `SANDBOX_TEMPLATE_ENGINE` if set, otherwise the first of Docker and Podman that works.
    #[default]
    Auto,
    /// The `docker` CLI and its daemon (or any Docker-compatible API behind `DOCKER_HOST`).
    Docker,
    /// The `podman` CLI.
    Podman,
}

impl FromStr for EnginePreference {
    type Err = LocalError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" | "" => Ok(EnginePreference::Auto),
            "docker" => Ok(EnginePreference::Docker),
            "podman" => Ok(EnginePreference::Podman),
            _ => Err(LocalError::UnknownEngine(s.to_owned())),
        }
    }
}

impl fmt::Display for EnginePreference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EnginePreference::Auto => "auto",
            EnginePreference::Docker => "docker",
            EnginePreference::Podman => "podman",
        })
    }
}

/// Which of the two engines an [`Engine`] is: Docker or Podman, never "either".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EngineKind {
    /// Docker (legacy builder output, `docker --config` for registry logins).
    Docker,
    /// Podman (`podman build`, `--authfile` for registry logins).
    Podman,
}

impl EngineKind {
    /// The CLI's name.
    pub fn program(self) -> &'static str {
        match self {
            EngineKind::Docker => "docker",
            EngineKind::Podman => "podman",
        }
    }
}

/// A container engine found on this machine that answered `info`: its CLI, kind and server
/// version. Made by [`Engine::detect`]; builds images ([`Engine::build`]) and runs them
/// ([`Engine::start`]).
#[derive(Clone, Debug)]
pub struct Engine {
    pub(super) kind: EngineKind,
    pub(super) program: PathBuf,
    pub(super) version: String,
}

/// How long `docker info` / `podman info` may take: a daemon that does not answer in this time is
/// treated as absent rather than hanging the build.
const INFO_TIMEOUT: Duration = Duration::from_secs(20);

impl Engine {
    /// Finds a working engine: `choice`, or for [`EnginePreference::Auto`] the engine named by
    /// `SANDBOX_TEMPLATE_ENGINE`, else Docker then Podman. "Working" means the CLI is on `PATH` and
    /// `docker info` / `podman info` succeeds.
    ///
    /// The error lists every engine tried, what went wrong and how to fix it.
    pub fn detect(choice: EnginePreference) -> Result<Engine, LocalError> {
        let choice = match choice {
            EnginePreference::Auto => match std::env::var(ENGINE_ENV) {
                Ok(v) => v.parse()?,
                Err(_) => EnginePreference::Auto,
            },
            other => other,
        };
        let kinds: &[EngineKind] = match choice {
            EnginePreference::Auto => &[EngineKind::Docker, EngineKind::Podman],
            EnginePreference::Docker => &[EngineKind::Docker],
            EnginePreference::Podman => &[EngineKind::Podman],
        };
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut tried = Vec::new();
        for &kind in kinds {
            match probe(kind, &path) {
                Ok(engine) => {
                    tracing::debug!(engine = kind.program(), version = %engine.version, "container engine found");
                    return Ok(engine);
                }
                Err(attempt) => tried.push(attempt),
            }
        }
        Err(LocalError::NoEngine { tried })
    }

    /// Docker or Podman.
    pub fn kind(&self) -> EngineKind {
        self.kind
    }

    /// The CLI used.
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// The engine's (server) version, as `info` reported it.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// A command for the engine's CLI.
    pub(super) fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        if self.kind == EngineKind::Docker {
            // The legacy builder prints `Step N/M :` lines that map back to template steps, and it
            // is what Podman's Docker-compatible API serves; BuildKit's output has no such numbering.
            cmd.env("DOCKER_BUILDKIT", "0");
        }
        cmd.stdin(Stdio::null());
        cmd
    }

    /// Runs an engine command to completion and returns its stdout; a failure becomes
    /// [`LocalError::Engine`] with the engine's stderr and a hint for known problems.
    pub(super) fn output<I, S>(&self, args: I, timeout: Duration) -> Result<String, LocalError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.command();
        cmd.args(args);
        let line = command_line(&cmd);
        let out = run_with_timeout(&mut cmd, timeout)
            .map_err(|source| LocalError::Io { what: format!("cannot run `{line}`"), source })?;
        if out.status.success() {
            Ok(out.stdout)
        } else {
            let message = if out.timed_out {
                format!("no answer within {}s", timeout.as_secs())
            } else {
                last_lines(&out.stderr, 5)
            };
            Err(LocalError::Engine { help: hint(&message), command: line, message })
        }
    }
}

fn probe(kind: EngineKind, path: &OsStr) -> Result<Engine, EngineAttempt> {
    let name = kind.program();
    let install = match kind {
        EngineKind::Docker => "install Docker (https://docs.docker.com/engine/install/) or use Podman",
        EngineKind::Podman => "install Podman: `apt-get install podman runc` (or run `.ci/setup-podman.sh`)",
    };
    let Some(program) = find_on_path(name, path) else {
        return Err(EngineAttempt {
            program: name.to_owned(),
            problem: "not found on PATH".into(),
            help: install.into(),
        });
    };
    let format = match kind {
        EngineKind::Docker => "{{.ServerVersion}}",
        EngineKind::Podman => "{{.Version.Version}}",
    };
    let mut cmd = Command::new(&program);
    cmd.args(["info", "--format", format]).stdin(Stdio::null());
    let out = match run_with_timeout(&mut cmd, INFO_TIMEOUT) {
        Ok(out) => out,
        Err(e) => {
            return Err(EngineAttempt {
                program: name.to_owned(),
                problem: format!("cannot run `{}`: {e}", program.display()),
                help: install.into(),
            });
        }
    };
    if out.status.success() && !out.timed_out {
        return Ok(Engine { kind, program, version: out.stdout.trim().to_owned() });
    }
    let problem = if out.timed_out {
        format!("`{name} info` gave no answer within {}s", INFO_TIMEOUT.as_secs())
    } else {
        format!("`{name} info` failed: {}", last_lines(&out.stderr, 3).replace('\n', " / "))
    };
    let help = hint(&problem).unwrap_or_else(|| match kind {
        EngineKind::Docker => "start the Docker daemon (`systemctl start docker`), or point DOCKER_HOST at one".into(),
        EngineKind::Podman => "check `podman info`; on hosts like CI run `.ci/setup-podman.sh`".into(),
    });
    Err(EngineAttempt { program: name.to_owned(), problem, help })
}

/// Fixes for engine errors seen on real machines.
pub(super) fn hint(message: &str) -> Option<String> {
    let m = message.to_ascii_lowercase();
    if m.contains("rlimit") {
        Some(
            "this host cannot raise resource limits: set CONTAINERS_CONF to a containers.conf with \
              `default_ulimits = [\"nofile=1024:1024\", \"nproc=1000:1000\"]` (see .ci/containers.conf)"
                .into(),
        )
    } else if m.contains("cgroups in hybrid mode") || m.contains("crun:") {
        Some(
            "crun does not work on this host: set CONTAINERS_CONF to a containers.conf with \
              `[engine] runtime = \"runc\"` (see .ci/containers.conf) and install runc"
                .into(),
        )
    } else if m.contains("cannot connect to the docker daemon") || m.contains("docker.sock") {
        Some("start the Docker daemon, point DOCKER_HOST at one, or use Podman (SANDBOX_TEMPLATE_ENGINE=podman)".into())
    } else if m.contains("permission denied") && m.contains("sock") {
        Some("add your user to the `docker` group, or use rootless Podman".into())
    } else {
        None
    }
}

fn find_on_path(name: &str, path: &OsStr) -> Option<PathBuf> {
    std::env::split_paths(path).map(|dir| dir.join(name)).find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

/// The output of a finished (or timed-out and killed) command.
pub(super) struct Captured {
    pub(super) status: ExitStatus,
    pub(super) stdout: String,
    pub(super) stderr: String,
    pub(super) timed_out: bool,
}

/// Runs `cmd`, killing it after `timeout`. Both pipes are drained on threads so a chatty command
/// cannot block on a full pipe.
pub(super) fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> std::io::Result<Captured> {
    run_with_input(cmd, None, timeout)
}

/// [`run_with_timeout`], writing `input` (if any) to the command's stdin and then closing it.
pub(super) fn run_with_input(
    cmd: &mut Command,
    input: Option<Vec<u8>>,
    timeout: Duration,
) -> std::io::Result<Captured> {
    if input.is_some() {
        cmd.stdin(Stdio::piped());
    }
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        std::thread::spawn(move || {
            use std::io::Write;
            let _ = stdin.write_all(&input);
        });
    }
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if start.elapsed() > timeout {
            timed_out = true;
            let _ = child.kill();
            break child.wait()?;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // A panicking pipe reader is a bug: its panic continues here rather than an empty output.
    let stdout = out.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    let stderr = err.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    Ok(Captured { status, stdout, stderr, timed_out })
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// A path in the temporary folder for a file the engine writes (`--iidfile`, `--cidfile`);
/// the file is removed on drop.
pub(super) struct TempPath(pub(super) PathBuf);

impl TempPath {
    pub(super) fn new(what: &str) -> TempPath {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        TempPath(std::env::temp_dir().join(format!("sandbox-template-{what}-{}-{n}", std::process::id())))
    }

    /// The file's first line, trimmed (empty when the engine wrote nothing).
    pub(super) fn read(&self) -> String {
        std::fs::read_to_string(&self.0).unwrap_or_default().trim().to_owned()
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The last `n` non-empty lines of `text`.
pub(super) fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// `program arg arg`, for messages. Only used for commands that carry no secret.
pub(super) fn command_line(cmd: &Command) -> String {
    let mut s = Path::new(cmd.get_program()).file_name().unwrap_or_default().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&crate::quote::shell_quote(&a.to_string_lossy()));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_names_parse_case_insensitively() {
        assert_eq!("Docker".parse::<EnginePreference>().unwrap(), EnginePreference::Docker);
        assert_eq!(" auto ".parse::<EnginePreference>().unwrap(), EnginePreference::Auto);
        let err = "containerd".parse::<EnginePreference>().unwrap_err().to_string();
        assert!(err.contains("`containerd`") && err.contains("podman"), "{err}");
    }

    #[test]
    fn known_engine_errors_get_a_fix() {
        let h = hint("Error: OCI runtime error: runc: setrlimit `RLIMIT_NOFILE`: Operation not permitted").unwrap();
        assert!(h.contains("CONTAINERS_CONF") && h.contains("nofile=1024:1024"), "{h}");
        // Seen on this project's CI machines without the containers.conf:
        let h = hint("runc create failed: error setting rlimits for ready process: error setting rlimit type 7: operation not permitted").unwrap();
        assert!(h.contains("default_ulimits"), "{h}");
        let h = hint("crun: cgroups in hybrid mode not supported, drop all controllers from cgroupv2").unwrap();
        assert!(h.contains("runc"), "{h}");
        assert!(hint("Cannot connect to the Docker daemon at unix:///var/run/docker.sock").is_some());
        assert_eq!(hint("manifest unknown"), None);
    }

    #[test]
    fn a_command_that_overruns_is_killed() {
        let mut cmd = Command::new("sleep");
        cmd.arg("30");
        let out = run_with_timeout(&mut cmd, Duration::from_millis(100)).unwrap();
        assert!(out.timed_out);
        assert!(!out.status.success());
    }

    #[test]
    fn a_missing_cli_says_how_to_install_it() {
        let empty = tempfile::tempdir().unwrap();
        let attempt = probe(EngineKind::Podman, empty.path().as_os_str()).unwrap_err();
        assert_eq!(attempt.program, "podman");
        assert_eq!(attempt.problem, "not found on PATH");
        assert!(attempt.help.contains("apt-get install podman"), "{}", attempt.help);
    }

    #[test]
    fn a_cli_whose_info_fails_is_skipped_with_the_engine_error_and_a_fix() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("podman");
        std::fs::write(
            &fake,
            "#!/bin/sh\necho 'Error: runc: setrlimit RLIMIT_NPROC: operation not permitted' >&2\nexit 125\n",
        )
        .unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let attempt = probe(EngineKind::Podman, dir.path().as_os_str()).unwrap_err();
        assert!(
            attempt.problem.contains("`podman info` failed") && attempt.problem.contains("setrlimit"),
            "{attempt:?}"
        );
        assert!(attempt.help.contains("CONTAINERS_CONF"), "{attempt:?}");
        let all = LocalError::NoEngine { tried: vec![attempt] }.to_string();
        assert!(all.starts_with("no container engine can be used:\n  - podman: `podman info` failed"), "{all}");
    }

    #[test]
    fn a_working_cli_reports_its_version() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("docker");
        std::fs::write(&fake, "#!/bin/sh\n[ \"$1\" = info ] && echo 28.2.2\n").unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let engine = probe(EngineKind::Docker, dir.path().as_os_str()).unwrap();
        assert_eq!((engine.kind(), engine.version()), (EngineKind::Docker, "28.2.2"));
    }

    #[test]
    fn last_lines_skips_blank_lines() {
        assert_eq!(last_lines("a\n\nb\nc\n\n", 2), "b\nc");
        assert_eq!(last_lines("", 3), "");
    }
}
