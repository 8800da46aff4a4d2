//! Building a template's image with the engine, streaming its output as events.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::ImageRef;
use crate::template::{Base, Template};

use super::dockerfile::{DOCKERFILE_NAME, LocalDockerfile, LocalDockerfileOptions, WORKDIR_LABEL};
use super::engine::{Engine, EngineKind, TempPath, command_line, hint, last_lines};
use super::error::{FailedStep, LocalError, StepOrigin};
use super::login::{AuthDir, login};
use super::{LocalEvent, LocalImage, stage};

/// How many lines of engine output an error shows.
const TAIL: usize = 15;

/// The environment variable naming the image that stands for `from_base_image()` locally (e.g.
/// `localhost/sandbox-base:latest` where `e2bdev/base` cannot be pulled).
pub const DEFAULT_BASE_ENV: &str = "SANDBOX_TEMPLATE_DEFAULT_BASE";

/// How long a pull of the base image may take.
const PULL_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Options of [`Engine::build`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LocalBuildOptions {
    /// Rebuild every step instead of using the engine's layer cache. Also implied by
    /// `Template::force_rebuild` and `skip_cache` (locally the whole image is rebuilt: the engines
    /// have no per-step cache switch).
    pub no_cache: bool,
    /// The image that stands for the provider's default base (`from_base_image()`); default: the
    /// `SANDBOX_TEMPLATE_DEFAULT_BASE` environment variable, else `e2bdev/base`.
    pub default_base: Option<String>,
    /// The network `RUN` steps get (`--network`), e.g. `none`; default: the engine's.
    pub network: Option<String>,
    /// Reach the base image's registry over plain HTTP / without checking its certificate (Podman's
    /// `--tls-verify=false`, for a registry on the local network; Docker takes this from its
    /// daemon's `insecure-registries`).
    pub insecure_registry: bool,
    /// Whose rules and env semantics to build with (default: the template's provider,
    /// [`Template::for_provider`]): E2B sets env values as written, Novita expands `$VAR` in them.
    pub provider: Option<crate::Provider>,
}

impl LocalBuildOptions {
    /// Defaults: layer cache on, `e2bdev/base` as the default base, the engine's network.
    pub fn new() -> Self {
        Self::default()
    }
    /// Rebuild every step.
    pub fn no_cache(mut self, yes: bool) -> Self {
        self.no_cache = yes;
        self
    }
    /// The image used for `from_base_image()`.
    pub fn default_base(mut self, image: impl Into<String>) -> Self {
        self.default_base = Some(image.into());
        self
    }
    /// The network of `RUN` steps.
    pub fn network(mut self, network: impl Into<String>) -> Self {
        self.network = Some(network.into());
        self
    }
    /// Reach the base image's registry without TLS checks (Podman).
    pub fn insecure_registry(mut self, yes: bool) -> Self {
        self.insecure_registry = yes;
        self
    }
    /// Build with `provider`'s rules and env semantics.
    pub fn provider(mut self, provider: crate::Provider) -> Self {
        self.provider = Some(provider);
        self
    }
}

/// Kills the engine process if the build is abandoned (an error, or a panicking event callback),
/// so no build keeps running behind the caller's back.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            // Podman 4 neither stops a running RUN step nor waits for it when it is signalled: the
            // step (PID 1 of its namespace, deaf to SIGTERM) would outlive it. So every process
            // under the engine's CLI is killed with it. (Docker's CLI has none: its daemon cancels
            // the build when the CLI goes away.)
            let mut pids = descendants(self.0.id());
            pids.push(self.0.id());
            let mut kill = std::process::Command::new("kill");
            kill.arg("-KILL").args(pids.iter().map(u32::to_string));
            let _ = kill.stderr(Stdio::null()).status();
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// (PID, parent PID) of every process, read from `/proc` (empty where there is none).
pub fn processes() -> Vec<(u32, u32)> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(Result::ok)
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            // `pid (comm) state ppid ...`; `comm` may hold spaces and parentheses.
            let ppid = stat.get(stat.rfind(')')? + 1..)?.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, ppid))
        })
        .collect()
}

/// Every process below `root`, read from `/proc` (empty where there is none).
pub fn descendants(root: u32) -> Vec<u32> {
    let parents = processes();
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(parents.iter().filter(|(_, ppid)| *ppid == parent).map(|(pid, _)| *pid));
        i += 1;
    }
    found.remove(0);
    found
}

impl Engine {
    /// The Dockerfile this engine builds for `template` (see [`LocalDockerfile::for_template`]),
    /// with the base image's user (and, for a template base, its workdir) looked up when the image
    /// is present.
    pub fn dockerfile(&self, template: &Template, options: &LocalBuildOptions) -> Result<LocalDockerfile, LocalError> {
        let staged = stage::Staged::of(template)?;
        let df = staged.dockerfile(template, &self.dockerfile_options(options, None))?;
        let base = self.image_config(&df.base_image);
        staged.dockerfile(template, &self.dockerfile_options(options, base))
    }

    fn dockerfile_options(&self, options: &LocalBuildOptions, base: Option<ImageConfig>) -> LocalDockerfileOptions {
        let mut opts = LocalDockerfileOptions::default();
        if let Some(base) = options.default_base.clone().or_else(|| std::env::var(DEFAULT_BASE_ENV).ok()) {
            opts.default_base = base;
        }
        if let Some(base) = base {
            opts.base_user = Some(base.user);
            opts.base_workdir = base.workdir;
        }
        opts.provider = options.provider;
        opts.copy_chmod = self.kind == EngineKind::Podman;
        opts
    }

    /// Whether the engine has the image `name` locally (no pull is attempted).
    pub fn has_image(&self, name: &str) -> bool {
        self.image_config(name).is_some()
    }

    /// Removes the image `name` (its tag; layers shared with other images stay).
    pub fn remove_image(&self, name: &str) -> Result<(), LocalError> {
        self.output(["rmi", "-f", name], Duration::from_secs(120)).map(|_| ())
    }

    /// What the Dockerfile needs to know about a local image, or `None` when it is not present.
    fn image_config(&self, image: &str) -> Option<ImageConfig> {
        let out = self
            .output(
                ["image", "inspect", "--format", "{{.Config.User}}\n{{json .Config.Labels}}", image],
                Duration::from_secs(60),
            )
            .ok()?;
        let (user, labels) = out.split_once('\n').unwrap_or((&out, "null"));
        let labels: Option<std::collections::HashMap<String, String>> =
            serde_json::from_str(labels.trim()).ok().flatten();
        let workdir = labels.and_then(|mut l| l.remove(WORKDIR_LABEL));
        Some(ImageConfig { user: user.trim().to_owned(), workdir })
    }

    /// Builds `template` into an image tagged `name`, reporting progress to `on_event`.
    ///
    /// Validates the template and reads its context first. A missing base image is pulled, after
    /// a registry login with the template's credentials (the password goes to the engine's
    /// `login --password-stdin`, into a private temporary auth file removed afterwards); a failing
    /// step is reported as [`LocalError::StepFailed`] with the builder call or `template!`
    /// statement that added it.
    pub fn build(
        &self,
        template: &Template,
        name: &str,
        options: &LocalBuildOptions,
        on_event: &mut dyn FnMut(LocalEvent),
    ) -> Result<LocalImage, LocalError> {
        let _span = tracing::info_span!("local_build", engine = self.kind.program(), image = name).entered();
        template.validate_for(options.provider.unwrap_or(template.provider())).map_err(crate::Error::from)?;
        check_name(name)?;
        let staged = stage::Staged::of(template)?;
        let probe = staged.dockerfile(template, &self.dockerfile_options(options, None))?;
        on_event(LocalEvent::Started { engine: self.kind, image: name.to_owned() });
        let (base_image, base) = self.ensure_base(template, &probe.base_image, options, on_event)?;
        let mut df_options = self.dockerfile_options(options, Some(base));
        df_options.base_image = Some(base_image);
        let df = staged.dockerfile(template, &df_options)?;

        let iid = TempPath::new("iid");
        let mut cmd = self.command();
        cmd.args(["build", "--force-rm", "-f", DOCKERFILE_NAME, "-t", name, "--iidfile"]).arg(&iid.0);
        if options.no_cache || template.is_forced() || template.steps().iter().any(|s| s.force) {
            cmd.arg("--no-cache");
        }
        if let Some(network) = &options.network {
            cmd.args(["--network", network]);
        }
        cmd.arg("-");
        let line = command_line(&cmd);
        tracing::info!(command = %line, "building image");
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let child = cmd.spawn().map_err(|source| LocalError::Io { what: format!("cannot run `{line}`"), source })?;
        let mut child = ChildGuard(child);
        on_event(LocalEvent::EngineProcess { pid: child.0.id() });

        // The context goes in on a thread while this one reads the output: the engine reads its
        // stdin while it prints, so doing both here could deadlock on full pipes.
        let stdin = child.0.stdin.take();
        let context_text = df.text.clone();
        let writer = std::thread::spawn(move || -> Result<(), crate::Error> {
            match stdin {
                Some(stdin) => staged.write(&context_text, stdin),
                None => Ok(()),
            }
        });
        let (tx, rx) = mpsc::channel();
        let readers = [spawn_reader(child.0.stdout.take(), tx.clone()), spawn_reader(child.0.stderr.take(), tx)];

        let mut tail: VecDeque<String> = VecDeque::with_capacity(TAIL + 1);
        let mut current: Option<usize> = None;
        let mut error_line: Option<String> = None;
        for line in rx {
            if let Some((number, total)) = parse_step(&line) {
                current = Some(number);
                if let Some(origin) = df.origin_of(number) {
                    on_event(LocalEvent::StepStarted { number, total, origin: origin.clone() });
                }
            }
            if is_error_line(&line) {
                error_line = Some(line.clone());
            }
            if tail.len() == TAIL {
                tail.pop_front();
            }
            tail.push_back(line.clone());
            on_event(LocalEvent::Log(line));
        }
        // A panicking helper thread is a bug: its panic continues here (and `child`'s guard kills
        // the engine) rather than the build going on without its output or its context.
        for r in readers {
            r.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        }
        let status =
            child.0.wait().map_err(|source| LocalError::Io { what: format!("waiting for `{line}`"), source })?;
        let written = writer.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        if let Err(e @ (crate::Error::Io { .. } | crate::Error::SymlinkEscapes { .. })) = written {
            // The context could not be read (a file vanished or changed type mid-build): that,
            // not the engine's complaint about a cut-off archive, is the problem.
            return Err(e.into());
        }
        if !status.success() {
            let log_tail: Vec<String> = tail.into_iter().collect();
            let message = error_line.unwrap_or_else(|| last_lines(&log_tail.join("\n"), 1));
            return Err(match current.and_then(|n| df.origin_of(n)) {
                Some(origin) => {
                    // A host problem (runtime, rlimits) shows up in the first RUN step.
                    let message = match hint(&message) {
                        Some(help) => format!("{message} (help: {help})"),
                        None => message,
                    };
                    LocalError::StepFailed { step: failed_step(template, &df, origin), message, log_tail }
                }
                None => LocalError::Engine { help: hint(&message), command: line, message },
            });
        }
        written?;
        let id = iid.read();
        on_event(LocalEvent::Finished { image: name.to_owned(), id: id.clone() });
        Ok(LocalImage { name: name.to_owned(), id })
    }

    /// Makes sure the base image is present (pulling it, after a registry login when the template
    /// has credentials) and returns the reference to build `FROM` and what the image says.
    fn ensure_base(
        &self,
        template: &Template,
        image: &str,
        options: &LocalBuildOptions,
        on_event: &mut dyn FnMut(LocalEvent),
    ) -> Result<(String, ImageConfig), LocalError> {
        if let Some(config) = self.image_config(image) {
            return Ok((image.to_owned(), config));
        }
        let as_written = image;
        // Template bases are Docker Hub names (`python:3.12`); Podman refuses to guess a registry
        // for a short name unless the system configures search registries (Debian's does not).
        let image = match self.kind {
            EngineKind::Podman => qualified(image),
            EngineKind::Docker => image.to_owned(),
        };
        let image = image.as_str();
        if let Base::Template(name) = template.base() {
            return Err(LocalError::Unsupported {
                what: format!("the base template `{name}` has not been built locally"),
                location: template.base_location(),
                help: format!(
                    "build that template first with the name `{name}` (locally a template is the image tagged with its name)"
                ),
            });
        }
        let tls: &[&str] = match (self.kind, options.insecure_registry) {
            (EngineKind::Podman, true) => &["--tls-verify=false"],
            _ => &[],
        };
        let auth: Option<AuthDir> = login(self, template, image, tls)?;
        let mut cmd = self.command();
        if let Some(auth) = &auth {
            cmd.args(auth.global_args(self.kind));
        }
        cmd.arg("pull");
        if let Some(auth) = &auth {
            cmd.args(auth.command_args(self.kind));
        }
        cmd.args(tls).arg(image);
        let line = format!("{} pull {image}", self.kind.program());
        on_event(LocalEvent::Log(format!("pulling base image {image}")));
        let out = super::engine::run_with_timeout(&mut cmd, PULL_TIMEOUT)
            .map_err(|source| LocalError::Io { what: format!("cannot run `{line}`"), source })?;
        for l in out.stdout.lines().chain(out.stderr.lines()) {
            on_event(LocalEvent::Log(l.to_owned()));
        }
        if !out.status.success() || out.timed_out {
            let message = if out.timed_out {
                format!("`{line}` did not finish within {} minutes", PULL_TIMEOUT.as_secs() / 60)
            } else {
                last_lines(&out.stderr, 2).replace('\n', " / ")
            };
            let step = FailedStep {
                origin: StepOrigin::Base,
                description: format!("FROM {as_written}"),
                location: template.base_location(),
            };
            let message = format!(
                "{message} (help: the image is not present locally and cannot be pulled; check the name, \
                 or create it locally; on CI machines `.ci/setup-podman.sh` makes `localhost/sandbox-base:latest`)"
            );
            return Err(LocalError::StepFailed { step, message, log_tail: Vec::new() });
        }
        Ok((image.to_owned(), self.image_config(image).unwrap_or_default()))
    }
}

/// What a local image says that the Dockerfile needs.
#[derive(Default)]
struct ImageConfig {
    /// Its `USER` (empty: root).
    user: String,
    /// The workdir the template it was built from set ([`WORKDIR_LABEL`]).
    workdir: Option<String>,
}

/// `python:3.12` → `docker.io/library/python:3.12`, `org/app` → `docker.io/org/app`, as Docker
/// reads a name without a registry ([`ImageRef::normalized`]); names with a registry
/// (`ghcr.io/...`, `localhost:5000/...`, `localhost/...`) stay as they are. A name that does not
/// parse goes to the engine as written, for it to refuse.
fn qualified(image: &str) -> String {
    ImageRef::parse(image).map_or_else(|_| image.to_owned(), |r| r.normalized())
}

/// What [`LocalError::StepFailed`] says about the template part behind an engine step.
fn failed_step(template: &Template, df: &LocalDockerfile, origin: &StepOrigin) -> FailedStep {
    let (description, location) = match origin {
        StepOrigin::Base => (format!("FROM {}", df.base_image), template.base_location()),
        StepOrigin::Step(i) => match template.steps().get(*i) {
            Some(step) => (step.describe(), Some(step.location)),
            None => (String::new(), None),
        },
        StepOrigin::Finalize => (template.start_cmd().unwrap_or_default().to_owned(), template.finish_location()),
    };
    FailedStep { origin: origin.clone(), description, location }
}

fn spawn_reader(pipe: Option<impl Read + Send + 'static>, tx: mpsc::Sender<String>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let Some(pipe) = pipe else { return };
        let mut reader = BufReader::new(pipe);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf).trim_end_matches(['\n', '\r']).to_owned();
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            }
        }
    })
}

/// `STEP 3/7: RUN ...` (Podman/Buildah) or `Step 3/7 : RUN ...` (Docker's builder) → `(3, 7)`.
pub(super) fn parse_step(line: &str) -> Option<(usize, usize)> {
    let rest = line.strip_prefix("STEP ").or_else(|| line.strip_prefix("Step "))?;
    let (numbers, _) = rest.split_once(':')?;
    let (n, total) = numbers.trim().split_once('/')?;
    Some((n.parse().ok()?, total.parse().ok()?))
}

/// The engine's own summary of a failure.
fn is_error_line(line: &str) -> bool {
    line.starts_with("Error:") || line.starts_with("error ") || line.contains("returned a non-zero code")
}

/// Image names the engines accept: the Docker reference grammar, lower case.
fn check_name(name: &str) -> Result<(), LocalError> {
    let bad = name.is_empty()
        || name.chars().any(|c| c.is_ascii_uppercase() || c.is_whitespace())
        || crate::rules::image_reference(name).is_err();
    if bad {
        return Err(LocalError::Unsupported {
            what: format!("`{name}` cannot be an image name"),
            location: None,
            help: "use lower-case letters, digits, `.`, `_`, `-` and `/`, optionally `:tag` (e.g. `my-app:1`)".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_lines_of_both_engines_parse() {
        assert_eq!(parse_step("STEP 3/7: RUN [\"/bin/sh\",\"-c\",\"make\"]"), Some((3, 7)));
        assert_eq!(parse_step("Step 12/12 : CMD [\"/bin/sh\"]"), Some((12, 12)));
        assert_eq!(parse_step("STEP x/7: RUN"), None);
        assert_eq!(parse_step("Steps are fun: 1/2"), None);
        assert_eq!(parse_step("--> 96d4467fdd3"), None);
    }

    fn gone(pid: u32) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) => stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
            Err(_) => true,
        }
    }

    #[test]
    fn a_dropped_guard_kills_the_whole_process_tree() {
        let child = std::process::Command::new("sh").args(["-c", "sleep 31 & sleep 32 & wait"]).spawn().unwrap();
        let root = child.id();
        let mut below = Vec::new();
        for _ in 0..250 {
            below = descendants(root);
            if below.len() == 2 {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(below.len(), 2, "{below:?}");
        drop(ChildGuard(child));
        for _ in 0..250 {
            if below.iter().all(|&pid| gone(pid)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(below.iter().all(|&pid| gone(pid)), "still running: {below:?}");
    }

    #[test]
    fn short_names_are_read_as_docker_hub_names() {
        assert_eq!(qualified("python:3.12"), "docker.io/library/python:3.12");
        assert_eq!(qualified("e2bdev/base"), "docker.io/e2bdev/base");
        assert_eq!(qualified("ghcr.io/org/app:1"), "ghcr.io/org/app:1");
        assert_eq!(qualified("localhost:5000/app"), "localhost:5000/app");
        assert_eq!(qualified("localhost/sandbox-base:latest"), "localhost/sandbox-base:latest");
        assert_eq!(qualified("docker.io/python:3"), "docker.io/library/python:3");
        // Docker reads an upper-case first component as a registry (this used to prefix docker.io).
        assert_eq!(qualified("Registry/app:1"), "Registry/app:1");
        assert_eq!(qualified("not an image"), "not an image");
    }

    #[test]
    fn image_names_follow_the_reference_grammar() {
        assert!(check_name("my-app").is_ok());
        assert!(check_name("localhost/my-app:1.0").is_ok());
        for bad in ["", "My-App", "my app", "-app"] {
            let err = check_name(bad).unwrap_err().to_string();
            assert!(err.contains("cannot be an image name"), "{bad}: {err}");
        }
    }
}
