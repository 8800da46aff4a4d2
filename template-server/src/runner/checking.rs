//! [`CheckingRunner`]: builds nothing, checks what was uploaded.

use sandbox_template_runtime::wire::WireStep;

use super::{BoxFuture, BuildJob, BuildLog, BuildRunner, StepFailure, UnpackLimits, verify};

/// Builds nothing: checks that every COPY archive unpacks (within the default [`UnpackLimits`],
/// in the system's temporary folder) and matches its `filesHash`, and logs each step as
/// `[builder i/N] ...`.
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
                    let checked = tokio::task::spawn_blocking(move || {
                        verify(&archive, &step_in, &std::env::temp_dir(), &UnpackLimits::default())
                            .map_err(|e| e.to_string())
                    })
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
