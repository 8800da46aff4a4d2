//! [`EngineRunner`]: the [`BuildRunner`] of `sandbox-template serve`. Rebuilds the template from the
//! request, stages the uploaded archives as its context, then builds (and starts, when the template
//! has a start command) with the local engine; without an engine it stages only.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use sandbox_template_runtime::local::{
    Engine, LocalBuildOptions, LocalDockerfile, LocalDockerfileOptions, LocalError, LocalEvent, StartOptions,
    StepOrigin, env_semantics,
};
use sandbox_template_runtime::{__private, Template};

use super::{BoxFuture, BuildJob, BuildLog, BuildRunner, StepFailure, UnpackLimits, unpack};

/// The log line a build without an engine ends with (its status is `ready`).
pub const NO_IMAGE_BUILT: &str = "No container engine: the template was validated and its context and Dockerfile \
                                  staged, but NO IMAGE WAS BUILT";

/// How long a started template may take to pass its ready check before the build fails.
pub const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// Builds with a local engine, or (engine `None`) validates and stages only.
///
/// Each build gets `DATA/builds/BUILD_ID/` (mode `0700`) holding `context/` (`0700`: the uploaded
/// archives unpacked into one folder, each archive holding its files at their paths in the
/// client's context, within [`UnpackLimits`] and without setuid/setgid/sticky bits) and the
/// `Dockerfile`. With an engine the context is removed when the build ends, whether it succeeded
/// or failed; without one, the staged context is what the build produces and stays for
/// inspection (a failed build removes it too). The image is tagged with the template name; when the template has
/// a start command, a container is started, its ready check awaited (up to [`READY_TIMEOUT`]) and
/// the container removed: like the cloud, a template that never gets ready fails its build, at
/// step `finalize`.
pub struct EngineRunner {
    engine: Option<Engine>,
    builds: PathBuf,
    options: LocalBuildOptions,
    limits: UnpackLimits,
}

impl EngineRunner {
    /// A runner that stages builds under `builds_dir` (one folder per build ID).
    pub fn new(engine: Option<Engine>, builds_dir: impl Into<PathBuf>) -> Self {
        EngineRunner {
            engine,
            builds: builds_dir.into(),
            options: LocalBuildOptions::new(),
            limits: UnpackLimits::default(),
        }
    }

    /// Bounds on what each uploaded archive may unpack into (default [`UnpackLimits::default`]).
    pub fn with_limits(mut self, limits: UnpackLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Engine build options (e.g. the image standing for the provider's default base).
    pub fn with_options(mut self, options: LocalBuildOptions) -> Self {
        self.options = options;
        self
    }

    /// The engine, if any.
    pub fn engine(&self) -> Option<&Engine> {
        self.engine.as_ref()
    }
}

fn step_name(origin: &StepOrigin) -> String {
    match origin {
        StepOrigin::Base => "base".to_owned(),
        StepOrigin::Step(i) => (i + 1).to_string(),
        StepOrigin::Finalize => "finalize".to_owned(),
    }
}

fn failure_of(e: LocalError) -> StepFailure {
    let step = match &e {
        LocalError::StepFailed { step, .. } => Some(step_name(&step.origin)),
        LocalError::Exited { .. } | LocalError::NotReady { .. } => Some("finalize".to_owned()),
        LocalError::Login { .. } => Some("base".to_owned()),
        _ => None,
    };
    StepFailure { step, message: e.to_string() }
}

impl BuildRunner for EngineRunner {
    fn remove_image<'a>(&'a self, template_name: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let Some(engine) = self.engine.clone() else { return };
            let name = template_name.to_owned();
            let removed = tokio::task::spawn_blocking(move || {
                if engine.has_image(&name) { engine.remove_image(&name).map(|()| true) } else { Ok(false) }
            })
            .await;
            match removed {
                Ok(Ok(true)) => tracing::info!(image = template_name, "removed the image of a deleted template"),
                Ok(Ok(false)) => {}
                Ok(Err(e)) => {
                    tracing::warn!(image = template_name, "cannot remove the image of a deleted template: {e}")
                }
                Err(e) => tracing::warn!(image = template_name, "cannot remove the image of a deleted template: {e}"),
            }
        })
    }

    fn run<'a>(&'a self, job: &'a BuildJob, log: &'a BuildLog) -> BoxFuture<'a, Result<(), StepFailure>> {
        Box::pin(async move {
            let dir = self.builds.join(&job.build_id);
            let job = job.clone();
            let log = log.clone();
            let engine = self.engine.clone();
            let options = self.options.clone();
            let limits = self.limits;
            let abandoned = Abandoned::default();
            let flag = abandoned.0.clone();
            let cancel = job.cancel.clone();
            let (program, image) = (engine.as_ref().map(|e| e.kind().program()), job.template_name.clone());
            let process = Arc::new(AtomicU32::new(0));
            let engine_process = process.clone();
            // Engine calls block (they run the engine's CLI): off the async workers.
            let mut task = tokio::task::spawn_blocking(move || {
                let watch = Watch { abandoned: &flag, engine_process: &engine_process };
                let result = run_blocking(engine.as_ref(), &options, &limits, &dir, &job, &log, &watch);
                // With an engine the image holds the files; without one, a staged context is
                // the result of a successful build.
                if engine.is_some() || result.is_err() {
                    let _ = std::fs::remove_dir_all(dir.join("context"));
                }
                result
            });
            let ended = tokio::select! {
                ended = &mut task => ended,
                () = cancel.cancelled() => {
                    // The next engine event unwinds the build; a silent step sends none, so the
                    // engine's process tree is killed too. Then wait for the build to end, so
                    // its files can be removed.
                    abandoned.0.store(true, Ordering::SeqCst);
                    // Read after the flag is set (the build thread records the process before
                    // it reads the flag): either this sees the process or the build unwinds.
                    let pid = process.load(Ordering::SeqCst);
                    if let Some(program) = program && pid != 0 {
                        let _ = tokio::task::spawn_blocking(move || kill_engine_build(pid, program, &image)).await;
                    }
                    task.await
                }
            };
            drop(abandoned);
            ended.unwrap_or_else(|e| {
                if e.is_panic() && cancel.is_cancelled() {
                    Err(StepFailure { step: None, message: CANCELLED.to_owned() })
                } else {
                    Err(StepFailure { step: None, message: format!("the build task stopped: {e}") })
                }
            })
        })
    }
}

/// Why a build stopped when its template was deleted.
const CANCELLED: &str = "the build was cancelled: its template was deleted";

/// Kills the engine process `pid` this build started (its [`LocalEvent::EngineProcess`]) with
/// every process under it: as the runtime does when a build is abandoned, since Podman leaves a
/// running step behind otherwise. Only this build's engine: another build of the same image
/// name, in this server or another one in this process, runs on. `pid` is checked first to still
/// be this process's child running `PROGRAM build ... -t IMAGE` (it may have ended and its number
/// been reused since).
fn kill_engine_build(pid: u32, program: &str, image: &str) {
    let me = std::process::id();
    if !__private::processes().contains(&(pid, me)) {
        return;
    }
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else { return };
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    let is_engine = args.first().is_some_and(|a| a.ends_with(program.as_bytes()));
    let builds_image =
        args.contains(&&b"build"[..]) && args.windows(2).any(|w| w[0] == b"-t" && w[1] == image.as_bytes());
    if !(is_engine && builds_image) {
        return;
    }
    let mut pids = __private::descendants(pid);
    pids.push(pid);
    tracing::info!(image, ?pids, "killing the engine build of a cancelled build");
    let _ = std::process::Command::new("kill")
        .arg("-KILL")
        .args(pids.iter().map(u32::to_string))
        .stderr(std::process::Stdio::null())
        .status();
}

/// Set when the build's task is dropped (the server is shutting down): the engine build is then
/// abandoned at its next event, which kills the engine's CLI and everything under it, instead of
/// running on unseen. The build stays `building` in the store and is marked interrupted on the
/// next start.
#[derive(Default)]
struct Abandoned(Arc<AtomicBool>);

impl Drop for Abandoned {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// What the build thread shares with the task that may cancel it.
struct Watch<'a> {
    /// Set when the build must stop (see [`Abandoned`]).
    abandoned: &'a AtomicBool,
    /// The PID of the engine's build process while it runs (0: none).
    engine_process: &'a AtomicU32,
}

/// Unwinds out of the engine's event callback: `Engine::build` and `start` clean up (kill the
/// engine process tree, remove the container) when their callback unwinds. `resume_unwind` skips
/// the panic hook, so nothing is printed; `spawn_blocking` catches it.
fn abandon_if(flag: &AtomicBool) {
    if flag.load(Ordering::SeqCst) {
        std::panic::resume_unwind(Box::new("build abandoned: the server is stopping"));
    }
}

/// Creates `path` with mode `0700` (and its parents with the default mode).
fn owner_only_dir(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(path)?;
    // An existing folder keeps its mode through `create`.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
}

fn stage(dir: &Path, job: &BuildJob, limits: &UnpackLimits) -> Result<PathBuf, StepFailure> {
    let context = dir.join("context");
    let _ = std::fs::remove_dir_all(&context);
    owner_only_dir(dir).and_then(|()| owner_only_dir(&context)).map_err(|e| StepFailure {
        step: None,
        message: format!("cannot create the build folder {}: {e}", context.display()),
    })?;
    for (i, archive) in job.archives.iter().enumerate() {
        if let Some(archive) = archive {
            unpack(archive, &context, limits)
                .map_err(|e| StepFailure { step: Some((i + 1).to_string()), message: e.to_string() })?;
        }
    }
    Ok(context)
}

fn run_blocking(
    engine: Option<&Engine>,
    options: &LocalBuildOptions,
    limits: &UnpackLimits,
    dir: &Path,
    job: &BuildJob,
    log: &BuildLog,
    watch: &Watch<'_>,
) -> Result<(), StepFailure> {
    log.info(Some("base"), format!("Building template {} ({})", job.template_name, job.template_id));
    let context = stage(dir, job, limits)?;
    let template = Template::from_build_request(&job.request, &context)
        .map_err(|e| StepFailure { step: Some(e.step), message: e.message })?;
    template.validate().map_err(|e| StepFailure { step: None, message: e.to_string() })?;
    // What `$` in an env value means depends on the client's provider (read off the request).
    if let Some(note) = env_semantics(&template, options.provider.unwrap_or(template.provider())) {
        log.info(Some("base"), note);
    }

    let Some(engine) = engine else {
        let mut df_options = LocalDockerfileOptions::default();
        if let Some(base) = &options.default_base {
            df_options.default_base = base.clone();
        }
        let df = LocalDockerfile::for_template(&template, &df_options).map_err(failure_of)?;
        let path = dir.join("Dockerfile");
        std::fs::write(&path, &df.text)
            .map_err(|e| StepFailure { step: None, message: format!("cannot write {}: {e}", path.display()) })?;
        for (i, step) in template.steps().iter().enumerate() {
            log.info(
                Some(&(i + 1).to_string()),
                format!("[staged {}/{}] {}", i + 1, template.steps().len(), step.describe()),
            );
        }
        log.info(
            Some("finalize"),
            format!("Staged the context in {} and the Dockerfile in {}", context.display(), path.display()),
        );
        log.info(Some("finalize"), NO_IMAGE_BUILT);
        return Ok(());
    };

    let mut current = "base".to_owned();
    let mut show = |event: LocalEvent| match event {
        LocalEvent::Started { engine, image } => {
            log.info(Some(&current), format!("{} build of image {image}", engine.program()))
        }
        LocalEvent::StepStarted { number, total, origin } => {
            current = step_name(&origin);
            log.info(Some(&current), format!("[builder {number}/{total}]"));
        }
        LocalEvent::Log(line) => log.info(Some(&current), line),
        LocalEvent::Finished { image, id } => {
            current = "finalize".to_owned();
            log.info(Some("finalize"), format!("Built image {image} ({id})"));
        }
        LocalEvent::ContainerStarted { id } => log.info(Some("finalize"), format!("Started container {id}")),
        LocalEvent::Ready { attempts } => {
            log.info(Some("finalize"), format!("Ready check passed (attempt {attempts})"))
        }
        // An event the runtime adds later shows nothing until it is given a log line here.
        _ => {}
    };
    let mut on_event = |event: LocalEvent| {
        // Recorded before the flag is read (see the cancel in `run`).
        if let LocalEvent::EngineProcess { pid } = event {
            watch.engine_process.store(pid, Ordering::SeqCst);
        }
        abandon_if(watch.abandoned);
        show(event)
    };
    // The request's Dockerfile is kept beside the context for inspection.
    if let Ok(df) = engine.dockerfile(&template, options) {
        let _ = std::fs::write(dir.join("Dockerfile"), &df.text);
    }
    let built = engine.build(&template, &job.template_name, options, &mut on_event);
    watch.engine_process.store(0, Ordering::SeqCst);
    let image = built.map_err(failure_of)?;
    if template.start_cmd().is_some() {
        let start = StartOptions::new().ready_timeout(READY_TIMEOUT);
        let sandbox = engine.start(&template, &image, &start, &mut on_event).map_err(failure_of)?;
        // The cloud snapshots the running sandbox; locally the image is the result, the probe
        // container is not kept.
        if let Err(e) = sandbox.remove() {
            log.info(Some("finalize"), format!("could not remove the probe container: {e}"));
        }
    }
    log.info(Some("finalize"), format!("Build finished: image {} ({})", image.name, image.id));
    Ok(())
}
