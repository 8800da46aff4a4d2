//! [`CheckingRunner`]: builds nothing, checks what was uploaded.

use std::path::Path;

use sandbox_template_runtime::CopyStep;
use sandbox_template_runtime::context::BuildContext;
use sandbox_template_runtime::wire::WireStep;

use super::{BoxFuture, BuildJob, BuildLog, BuildRunner, StepFailure, unpack};

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

fn describe(step: &WireStep) -> String {
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
fn check_archive(archive: &Path, step: &WireStep) -> Result<usize, String> {
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
    // The unpacked upload is the context: hashed as the client hashed its own folder.
    let got = BuildContext::open(dir.path())
        .and_then(|context| context.copy(&copy, None)?.files_hash())
        .map_err(|e| format!("cannot hash the uploaded files: {e}"))?;
    let want = step.files_hash.as_deref().unwrap_or("");
    if got != want {
        return Err(format!(
            "the uploaded files of `COPY {} {}` do not match filesHash: the request says {want}, the archive hashes to {got}",
            copy.src, copy.dest
        ));
    }
    Ok(entries)
}
