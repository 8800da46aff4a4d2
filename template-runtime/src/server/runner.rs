//! Running a started build. Behind the [`BuildRunner`] trait so `serve` can plug in a container
//! engine; [`CheckingRunner`] unpacks and checks every COPY archive and logs each step.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use crate::cloud::api::LogEntry;
use crate::cloud::context_bridge;
use crate::step::CopyStep;

use super::store::Store;
use super::util::now_rfc3339;
use super::validate::{StartRequest, StepIn};

/// A boxed future, so the trait stays object safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A build to run.
#[derive(Clone, Debug)]
pub struct BuildJob {
    /// Template ID.
    pub template_id: String,
    /// Build ID.
    pub build_id: String,
    /// Template name (without tag).
    pub template_name: String,
    /// The start request.
    pub request: StartRequest,
    /// For each step (same index as `request.steps`), the uploaded archive of a COPY step.
    pub archives: Vec<Option<PathBuf>>,
}

/// Why a build failed: the step as the API names it (`base`, `1`.., `finalize`) and a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepFailure {
    /// The failing step.
    pub step: Option<String>,
    /// What went wrong.
    pub message: String,
}

/// Appends lines to a build's log (what clients page through with `logsOffset`).
#[derive(Clone)]
pub struct BuildLog {
    store: Arc<dyn Store>,
    template_id: String,
    build_id: String,
}

impl BuildLog {
    pub(crate) fn new(store: Arc<dyn Store>, template_id: &str, build_id: &str) -> Self {
        BuildLog { store, template_id: template_id.to_owned(), build_id: build_id.to_owned() }
    }

    /// Appends one line.
    pub fn line(&self, level: &str, step: Option<&str>, message: impl Into<String>) {
        let entry = LogEntry {
            timestamp: now_rfc3339(),
            level: level.to_owned(),
            message: message.into(),
            step: step.map(str::to_owned),
        };
        self.store.append_log(&self.template_id, &self.build_id, entry);
    }

    /// Appends an `info` line.
    pub fn info(&self, step: Option<&str>, message: impl Into<String>) {
        self.line("info", step, message);
    }
}

/// Runs builds. Called once per started build, on its own task; the build's status is set from
/// the result (`ready` / `error` with `reason.step`).
pub trait BuildRunner: Send + Sync + 'static {
    /// Runs `job`, writing progress to `log`.
    fn run<'a>(&'a self, job: &'a BuildJob, log: &'a BuildLog) -> BoxFuture<'a, Result<(), StepFailure>>;
}

/// Builds nothing: checks that every COPY archive unpacks and matches its `filesHash`, and logs
/// each step as `[builder i/N] ...`.
#[derive(Clone, Copy, Debug, Default)]
pub struct CheckingRunner;

impl BuildRunner for CheckingRunner {
    fn run<'a>(&'a self, job: &'a BuildJob, log: &'a BuildLog) -> BoxFuture<'a, Result<(), StepFailure>> {
        Box::pin(async move {
            let r = &job.request;
            log.info(Some("base"), format!("Building template {}", job.template_name));
            let base = match (&r.from_image, &r.from_template) {
                (Some(image), _) => format!("FROM {image}"),
                (None, Some(t)) => format!("FROM template {t}"),
                (None, None) => "FROM (none)".to_owned(),
            };
            log.info(Some("base"), base);
            let n = r.steps.len();
            for (i, step) in r.steps.iter().enumerate() {
                let number = (i + 1).to_string();
                log.info(Some(&number), format!("[builder {}/{n}] {}", i + 1, describe(step)));
                if step.kind == "COPY" {
                    let archive = job.archives.get(i).cloned().flatten().ok_or_else(|| StepFailure {
                        step: Some(number.clone()),
                        message: "no archive was uploaded for this COPY step".to_owned(),
                    })?;
                    let step_in = step.clone();
                    let checked = tokio::task::spawn_blocking(move || check_archive(&archive, &step_in))
                        .await
                        .map_err(|e| format!("checker stopped: {e}"))
                        .and_then(|r| r);
                    match checked {
                        Ok(entries) => {
                            log.info(Some(&number), format!("unpacked {entries} entries, filesHash verified"))
                        }
                        Err(message) => return Err(StepFailure { step: Some(number), message }),
                    }
                }
            }
            if let Some(start) = &r.start_cmd {
                log.info(Some("finalize"), format!("start command: {start}"));
            }
            if let Some(ready) = &r.ready_cmd {
                log.info(Some("finalize"), format!("ready check: {ready}"));
            }
            log.info(Some("finalize"), "Build finished (checked only: no image was built)");
            Ok(())
        })
    }
}

fn describe(step: &StepIn) -> String {
    let args = match step.kind.as_str() {
        "ENV" => step.args.chunks(2).map(|kv| kv.join("=")).collect::<Vec<_>>().join(" "),
        "RUN" => step.args.first().cloned().unwrap_or_default(),
        "COPY" => step.args.iter().take(2).cloned().collect::<Vec<_>>().join(" "),
        _ => step.args.join(" "),
    };
    format!("{} {args}", step.kind)
}

/// Unpacks the archive into a temporary folder and re-hashes it as the context; returns the
/// number of entries.
fn check_archive(archive: &Path, step: &StepIn) -> Result<usize, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot create a scratch folder: {e}"))?;
    let entries = unpack(archive, dir.path())?;
    let copy = CopyStep {
        src: step.args.first().cloned().unwrap_or_default(),
        dest: step.args.get(1).cloned().unwrap_or_default(),
        user: None,
        mode: None,
        force_upload: step.force_upload,
        resolve_symlinks: step.resolve_symlinks,
        gzip: step.gzip,
    };
    let got =
        context_bridge::files_hash_in(dir.path(), &copy).map_err(|e| format!("cannot hash the uploaded files: {e}"))?;
    let want = step.files_hash.as_deref().unwrap_or("");
    if got != want {
        return Err(format!(
            "the uploaded files of `COPY {} {}` do not match filesHash: the request says {want}, the archive hashes to {got}",
            copy.src, copy.dest
        ));
    }
    Ok(entries)
}

/// Unpacks a tar or tar.gz (detected by its magic bytes), keeping permission bits.
pub(crate) fn unpack(archive: &Path, into: &Path) -> Result<usize, String> {
    use std::io::{BufReader, Read, Seek};
    let mut f = std::fs::File::open(archive).map_err(|e| format!("cannot open the archive: {e}"))?;
    let mut magic = [0u8; 2];
    let gz = f.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b];
    f.rewind().map_err(|e| e.to_string())?;
    let reader: Box<dyn Read> =
        if gz { Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(f))) } else { Box::new(BufReader::new(f)) };
    let mut tar = tar::Archive::new(reader);
    tar.set_preserve_permissions(true);
    tar.set_overwrite(true);
    let mut count = 0;
    for entry in tar.entries().map_err(|e| format!("the archive is not a valid tar: {e}"))? {
        let mut entry = entry.map_err(|e| format!("the archive is not a valid tar: {e}"))?;
        entry.unpack_in(into).map_err(|e| format!("cannot unpack the archive: {e}"))?;
        count += 1;
    }
    Ok(count)
}
