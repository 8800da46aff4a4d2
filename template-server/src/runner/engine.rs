//! [`EngineRunner`]: the [`BuildRunner`] of `sandbox-template serve`. Rebuilds the template from the
//! request, stages the uploaded archives as its context, then builds (and starts, when the template
//! has a start command) with the local engine; without an engine it stages only.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sandbox_template_runtime::Template;
use sandbox_template_runtime::local::{
    Engine, LocalBuildOptions, LocalDockerfile, LocalDockerfileOptions, LocalError, LocalEvent, StartOptions,
    StepOrigin, env_semantics,
};

use super::{BoxFuture, BuildJob, BuildLog, BuildRunner, StepFailure, unpack};

/// The log line a build without an engine ends with (its status is `ready`).
pub const NO_IMAGE_BUILT: &str = "No container engine: the template was validated and its context and Dockerfile \
                                  staged, but NO IMAGE WAS BUILT";

/// How long a started template may take to pass its ready check before the build fails.
pub const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// Builds with a local engine, or (engine `None`) validates and stages only.
///
/// Each build gets `DATA/builds/BUILD_ID/` holding `context/` (the uploaded archives unpacked
/// into one folder: each archive holds its files at their paths in the client's context) and the
/// `Dockerfile`. With an engine the image is tagged with the template name; when the template has
/// a start command, a container is started, its ready check awaited (up to [`READY_TIMEOUT`]) and
/// the container removed: like the cloud, a template that never gets ready fails its build, at
/// step `finalize`.
pub struct EngineRunner {
    engine: Option<Engine>,
    builds: PathBuf,
    options: LocalBuildOptions,
}

impl EngineRunner {
    /// A runner that stages builds under `builds_dir` (one folder per build ID).
    pub fn new(engine: Option<Engine>, builds_dir: impl Into<PathBuf>) -> Self {
        EngineRunner { engine, builds: builds_dir.into(), options: LocalBuildOptions::new() }
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
    fn run<'a>(&'a self, job: &'a BuildJob, log: &'a BuildLog) -> BoxFuture<'a, Result<(), StepFailure>> {
        Box::pin(async move {
            let dir = self.builds.join(&job.build_id);
            let job = job.clone();
            let log = log.clone();
            let engine = self.engine.clone();
            let options = self.options.clone();
            let abandoned = Abandoned::default();
            let flag = abandoned.0.clone();
            // Engine calls block (they run the engine's CLI): off the async workers.
            let result =
                tokio::task::spawn_blocking(move || run_blocking(engine.as_ref(), &options, &dir, &job, &log, &flag))
                    .await
                    .unwrap_or_else(|e| {
                        Err(StepFailure { step: None, message: format!("the build task stopped: {e}") })
                    });
            drop(abandoned);
            result
        })
    }
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

/// Unwinds out of the engine's event callback: `Engine::build` and `start` clean up (kill the
/// engine process tree, remove the container) when their callback unwinds. `resume_unwind` skips
/// the panic hook, so nothing is printed; `spawn_blocking` catches it.
fn abandon_if(flag: &AtomicBool) {
    if flag.load(Ordering::SeqCst) {
        std::panic::resume_unwind(Box::new("build abandoned: the server is stopping"));
    }
}

fn stage(dir: &Path, job: &BuildJob) -> Result<PathBuf, StepFailure> {
    let context = dir.join("context");
    let _ = std::fs::remove_dir_all(&context);
    std::fs::create_dir_all(&context).map_err(|e| StepFailure {
        step: None,
        message: format!("cannot create the build folder {}: {e}", context.display()),
    })?;
    for (i, archive) in job.archives.iter().enumerate() {
        if let Some(archive) = archive {
            unpack(archive, &context).map_err(|message| StepFailure { step: Some((i + 1).to_string()), message })?;
        }
    }
    Ok(context)
}

fn run_blocking(
    engine: Option<&Engine>,
    options: &LocalBuildOptions,
    dir: &Path,
    job: &BuildJob,
    log: &BuildLog,
    abandoned: &AtomicBool,
) -> Result<(), StepFailure> {
    log.info(Some("base"), format!("Building template {} ({})", job.template_name, job.template_id));
    let context = stage(dir, job)?;
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
        abandon_if(abandoned);
        show(event)
    };
    // The request's Dockerfile is kept beside the context for inspection.
    if let Ok(df) = engine.dockerfile(&template, options) {
        let _ = std::fs::write(dir.join("Dockerfile"), &df.text);
    }
    let image = engine.build(&template, &job.template_name, options, &mut on_event).map_err(failure_of)?;
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
