//! Starting a built template: its start command in a container, and its ready check.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::provider::Provider;
use crate::quote::shell_quote;
use crate::ready::ReadyCmd;
use crate::template::Template;

use super::engine::{Engine, TempPath, run_with_timeout};
use super::error::LocalError;
use super::{LocalEvent, LocalImage};

/// The label on every container this crate starts (its value: the starting process's ID), so
/// leftovers of a killed process can be found with `podman ps -a --filter label=io.sandbox-template.owner`.
pub const OWNER_LABEL: &str = "io.sandbox-template.owner";

/// How many lines of container output an error shows.
const TAIL: usize = 20;

/// Options of [`Engine::start`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StartOptions {
    /// How long the ready check may keep failing (default 60 s).
    pub ready_timeout: Duration,
    /// Pause between ready checks (default 250 ms).
    pub ready_interval: Duration,
    /// The container's network (`--network`), e.g. `none`; default: the engine's.
    pub network: Option<String>,
    /// Container ports reachable from this machine: `(host port, container port)`, published on
    /// 127.0.0.1 only (host port 0: one the engine picks, see [`Sandbox::host_port`]).
    pub publish: Vec<(u16, u16)>,
}

impl Default for StartOptions {
    fn default() -> Self {
        StartOptions {
            ready_timeout: Duration::from_secs(60),
            ready_interval: Duration::from_millis(250),
            network: None,
            publish: Vec::new(),
        }
    }
}

impl StartOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }
    /// How long the ready check may keep failing.
    pub fn ready_timeout(mut self, timeout: Duration) -> Self {
        self.ready_timeout = timeout;
        self
    }
    /// Pause between ready checks.
    pub fn ready_interval(mut self, interval: Duration) -> Self {
        self.ready_interval = interval;
        self
    }
    /// The container's network.
    pub fn network(mut self, network: impl Into<String>) -> Self {
        self.network = Some(network.into());
        self
    }
    /// Makes `container_port` reachable on `127.0.0.1:host_port` (0: a free port).
    pub fn publish(mut self, host_port: u16, container_port: u16) -> Self {
        self.publish.push((host_port, container_port));
        self
    }
}

/// A running container of a template. Dropping it removes the container (`rm -f`), so an error or
/// a panic leaves nothing running; call [`Sandbox::remove`] to see removal errors.
#[derive(Debug)]
pub struct Sandbox {
    engine: Engine,
    id: String,
    removed: bool,
}

/// The result of [`Sandbox::exec`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecOutput {
    /// Exit status (`-1` when killed by a signal).
    pub status: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Sandbox {
    /// The container ID.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Runs a shell command in the container (as the image's user, in its workdir).
    pub fn exec(&self, command: &str) -> Result<ExecOutput, LocalError> {
        exec(&self.engine, &self.id, command, Duration::from_secs(120))
    }

    /// The host port (on 127.0.0.1) a published container port is reachable on.
    pub fn host_port(&self, container_port: u16) -> Result<u16, LocalError> {
        let out = self.engine.output(["port", &self.id, &format!("{container_port}/tcp")], Duration::from_secs(30))?;
        // `127.0.0.1:43567` (one line per binding).
        out.lines().filter_map(|l| l.trim().rsplit(':').next()?.parse().ok()).next().ok_or_else(|| LocalError::Engine {
            command: format!("{} port {} {container_port}/tcp", self.engine.kind.program(), self.id),
            message: format!("port {container_port} is not published"),
            help: Some(format!("start with `StartOptions::new().publish(0, {container_port})`")),
        })
    }

    /// The container's last `lines` lines of output (the start command's stdout and stderr).
    pub fn logs(&self, lines: usize) -> Vec<String> {
        logs(&self.engine, &self.id, lines)
    }

    /// Stops and removes the container.
    pub fn remove(mut self) -> Result<(), LocalError> {
        self.removed = true;
        remove(&self.engine, &self.id)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if !self.removed
            && let Err(e) = remove(&self.engine, &self.id)
        {
            tracing::warn!(container = %self.id, error = %e, "could not remove the container");
        }
    }
}

fn remove(engine: &Engine, id: &str) -> Result<(), LocalError> {
    // Podman's `rm -f` first waits 10 s for SIGTERM, which a shell as PID 1 ignores; `-t 0` kills
    // at once, as Docker's `rm -f` does.
    let args: &[&str] = match engine.kind {
        super::EngineKind::Podman => &["rm", "-f", "-t", "0", id],
        super::EngineKind::Docker => &["rm", "-f", id],
    };
    engine.output(args, Duration::from_secs(60)).map(|_| ())
}

fn exec(engine: &Engine, id: &str, command: &str, timeout: Duration) -> Result<ExecOutput, LocalError> {
    let mut cmd = engine.command();
    cmd.args(["exec", id, "/bin/sh", "-c", command]);
    let out = run_with_timeout(&mut cmd, timeout)
        .map_err(|source| LocalError::Io { what: format!("cannot run `{} exec`", engine.kind.program()), source })?;
    let status = if out.timed_out { -1 } else { out.status.code().unwrap_or(-1) };
    Ok(ExecOutput { status, stdout: out.stdout, stderr: out.stderr })
}

fn logs(engine: &Engine, id: &str, lines: usize) -> Vec<String> {
    let mut cmd = engine.command();
    cmd.args(["logs", "--tail", &lines.to_string(), id]);
    match run_with_timeout(&mut cmd, Duration::from_secs(30)) {
        Ok(out) => out.stdout.lines().chain(out.stderr.lines()).map(str::to_owned).collect(),
        Err(_) => Vec::new(),
    }
}

/// The ready check as run in a local container: the command the cloud runs, with fallbacks for
/// images that lack its tool (`ss` in slim and busybox images, `pgrep`, `curl`), so the check means
/// the same thing on any Linux image.
///
/// ```
/// use sandbox_template_runtime::{wait_for_file, wait_for_port};
/// use sandbox_template_runtime::local::local_ready_command;
/// assert_eq!(local_ready_command(&wait_for_file("/tmp/ready")), "[ -f /tmp/ready ]");
/// assert!(local_ready_command(&wait_for_port(8080)).contains(":1F90 "));
/// ```
pub fn local_ready_command(ready: &ReadyCmd) -> String {
    let cloud = ready.command(Provider::E2b);
    match ready {
        // /proc/net lists listening TCP sockets (state 0A) and bound UDP sockets (07) by hex port.
        ReadyCmd::Port(port) => format!(
            "{cloud} 2>/dev/null || grep -qsE '^ *[0-9]+: [0-9A-F]+:{port:04X} [0-9A-F]+:[0-9A-F]+ (0A|07) ' \
             /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6"
        ),
        ReadyCmd::Process(name) => format!("{cloud} 2>/dev/null || pidof {} > /dev/null", shell_quote(name)),
        ReadyCmd::Url { url, status } => format!(
            "if command -v curl > /dev/null 2>&1; then {cloud}; \
             else wget -q -S -O /dev/null {} 2>&1 | grep -q \"HTTP/[0-9.]* {status} \"; fi",
            shell_quote(url)
        ),
        _ => cloud,
    }
}

/// The container's main process: the start command in the background, then wait forever, as a
/// sandbox keeps running when its start command returns. The newline before `)` ends a trailing
/// comment in the user's command. As PID 1 the shell would ignore SIGTERM; the trap makes `stop`
/// (or a start command that signals PID 1) end the container, and `sleep & wait` lets the trap run
/// at once.
fn keeper_script(start: Option<&str>) -> String {
    let keep = "trap 'exit 143' TERM INT";
    let wait = "while :; do sleep 3600 & wait $!; done";
    match start {
        Some(start) => format!("{keep}\n(\n{start}\n) &\n{wait}"),
        None => format!("{keep}\n{wait}"),
    }
}

impl Engine {
    /// Starts a container of `image` running the template's start command, and waits until its
    /// ready check passes (or [`StartOptions::ready_timeout`] passes, or the container exits).
    ///
    /// The returned [`Sandbox`] removes the container when dropped; on error the container is
    /// already removed, and the error shows its last output lines.
    pub fn start(
        &self,
        template: &Template,
        image: &LocalImage,
        options: &StartOptions,
        on_event: &mut dyn FnMut(LocalEvent),
    ) -> Result<Sandbox, LocalError> {
        let _span = tracing::info_span!("local_start", engine = self.kind.program(), image = %image.name).entered();
        let cid = TempPath::new("cid");
        let mut cmd = self.command();
        cmd.args(["run", "-d", "--label", &format!("{OWNER_LABEL}={}", std::process::id())])
            .arg("--cidfile")
            .arg(&cid.0);
        if let Some(network) = &options.network {
            cmd.args(["--network", network]);
        }
        for (host, container) in &options.publish {
            let spec = match host {
                0 => format!("127.0.0.1::{container}"),
                _ => format!("127.0.0.1:{host}:{container}"),
            };
            cmd.args(["-p", &spec]);
        }
        let target = if image.id.is_empty() { &image.name } else { &image.id };
        cmd.args([target.as_str(), "/bin/sh", "-c", &keeper_script(template.start_cmd())]);
        let line = format!("{} run -d {} (the start command)", self.kind.program(), image.name);
        let out = run_with_timeout(&mut cmd, Duration::from_secs(120))
            .map_err(|source| LocalError::Io { what: format!("cannot run `{line}`"), source })?;
        let id = cid.read();
        if !out.status.success() || id.is_empty() {
            // `run -d` may have created the container before failing to start it.
            if !id.is_empty() {
                let _ = remove(self, &id);
            }
            let message = super::engine::last_lines(&out.stderr, 3);
            return Err(LocalError::Engine { help: super::engine::hint(&message), command: line, message });
        }
        let sandbox = Sandbox { engine: self.clone(), id, removed: false };
        on_event(LocalEvent::ContainerStarted { id: sandbox.id.clone() });

        let Some(ready) = template.ready_cmd() else {
            on_event(LocalEvent::Ready { attempts: 0 });
            return Ok(sandbox);
        };
        let command = local_ready_command(ready);
        let started = Instant::now();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let remaining = options.ready_timeout.saturating_sub(started.elapsed()).max(Duration::from_secs(1));
            let result = exec(self, &sandbox.id, &command, remaining)?;
            if result.status == 0 {
                on_event(LocalEvent::Ready { attempts });
                return Ok(sandbox);
            }
            // A failed check may mean the container is gone (Podman says so with status 125,
            // Docker with 1, like a failing check): ask the engine.
            if let Some(status) = self.exit_status(&sandbox.id) {
                return Err(LocalError::Exited {
                    status,
                    logs: sandbox.logs(TAIL),
                    location: template.finish_location(),
                });
            }
            if started.elapsed() >= options.ready_timeout {
                return Err(LocalError::NotReady {
                    command: ready.command(Provider::E2b),
                    waited: started.elapsed(),
                    logs: sandbox.logs(TAIL),
                    location: template.finish_location(),
                });
            }
            std::thread::sleep(options.ready_interval);
        }
    }

    /// Removes the containers a process of this crate started and could not remove because it was
    /// killed: those whose [`OWNER_LABEL`] names a process that no longer runs on this machine.
    /// Returns their IDs.
    ///
    /// Not done automatically: with a shared (remote) engine the owner may run on another machine.
    pub fn remove_orphans(&self) -> Result<Vec<String>, LocalError> {
        let timeout = Duration::from_secs(60);
        let filter = format!("label={OWNER_LABEL}");
        let ids = self.output(["ps", "-a", "-q", "--no-trunc", "--filter", &filter], timeout)?;
        let ids: Vec<&str> = ids.split_whitespace().collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let format = format!("{{{{.Id}}}} {{{{index .Config.Labels \"{OWNER_LABEL}\"}}}}");
        let mut args = vec!["inspect", "--format", &format];
        args.extend(&ids);
        let owners = self.output(args, timeout)?;
        let mut removed = Vec::new();
        for line in owners.lines() {
            let Some((id, owner)) = line.trim().split_once(' ') else { continue };
            let alive = owner.parse::<u32>().is_ok_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
            if !alive {
                remove(self, id)?;
                removed.push(id.to_owned());
            }
        }
        Ok(removed)
    }

    /// The exit status of a container that is no longer running.
    fn exit_status(&self, id: &str) -> Option<i32> {
        let state =
            self.output(["inspect", "--format", "{{.State.Running}} {{.State.ExitCode}}", id], Duration::from_secs(30));
        let state = state.ok()?;
        let (running, code) = state.trim().split_once(' ')?;
        if running == "true" { None } else { code.parse().ok() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{wait_for_process, wait_for_url_status};

    #[test]
    fn port_checks_fall_back_to_proc_net() {
        let cmd = local_ready_command(&crate::wait_for_port(8000));
        assert!(cmd.starts_with("[ -n \"$(ss -Htuln sport = :8000)\" ] 2>/dev/null || grep"), "{cmd}");
        assert!(cmd.contains(":1F40 "), "{cmd}");
    }

    #[test]
    fn process_and_url_checks_have_busybox_fallbacks() {
        assert_eq!(
            local_ready_command(&wait_for_process("httpd")),
            "pgrep httpd > /dev/null 2>/dev/null || pidof httpd > /dev/null"
        );
        let url = local_ready_command(&wait_for_url_status("http://localhost:80/", 204));
        assert!(url.contains("wget -q -S -O /dev/null http://localhost:80/") && url.contains(" 204 "), "{url}");
    }

    #[test]
    fn the_start_command_runs_in_the_background_of_a_keeper() {
        assert_eq!(
            keeper_script(Some("httpd -f # serve")),
            "trap 'exit 143' TERM INT\n(\nhttpd -f # serve\n) &\nwhile :; do sleep 3600 & wait $!; done"
        );
    }
}
