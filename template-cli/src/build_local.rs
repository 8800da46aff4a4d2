//! `sandbox-template build FILE.tmpl --name N --local`: the same build, on this machine's Docker or
//! Podman, through the same client and API as a cloud build (see `sandbox_template_server::Target`),
//! so the progress display and the exit codes are the cloud's.

use sandbox_template_runtime::Template;
use sandbox_template_runtime::cloud::{BuildInfo, CloudBuildOptions};
use sandbox_template_runtime::local::EnginePreference;
use sandbox_template_server::{Target, TargetError, build_on};

/// Builds `template` as `name` on `runtime` with `options`; `None` when Ctrl-C cancelled it.
/// Reporting the outcome is the `build` command's (this module imports nothing from it).
pub fn run(
    runtime: &tokio::runtime::Runtime,
    template: &Template,
    name: &str,
    options: &CloudBuildOptions,
) -> Option<Result<BuildInfo, TargetError>> {
    runtime.block_on(async {
        tokio::select! {
            r = build(template, name, options) => Some(r),
            _ = tokio::signal::ctrl_c() => None,
        }
    })
}

/// Builds `template` locally as `name`.
pub async fn build(template: &Template, name: &str, options: &CloudBuildOptions) -> Result<BuildInfo, TargetError> {
    build_on(template, name, Target::Local(EnginePreference::Auto), options).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use sandbox_template_runtime::local::Engine;

    /// Needs Docker or Podman and `.ci/setup-podman.sh`'s base image: fails in CI without them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn builds_locally_and_a_failing_step_is_a_build_error() {
        let base = "localhost/sandbox-base:latest";
        let engine = match Engine::detect(EnginePreference::Auto) {
            Ok(e) if e.has_image(base) => e,
            other => {
                let problem = format!("no engine with {base}: {:?}; run `bash .ci/setup-podman.sh`", other.err());
                assert!(std::env::var("CI").is_err(), "{problem}");
                eprintln!("!!!!!!!! SKIPPED !!!!!!!! {problem}");
                return;
            }
        };
        let name = format!("sandbox-template-test/cli-local-{}", std::process::id());
        // Steps run as `user`, as in the cloud: `/tmp`, not `/`.
        let template = Template::new().from_image(base).run_cmd("echo built > /tmp/built");
        let info = build(&template, &name, &CloudBuildOptions::default()).await.unwrap();
        let out =
            std::process::Command::new(engine.program()).args(["run", "--rm", &name, "cat", "/tmp/built"]).output();
        let _ = engine.remove_image(&name);
        assert_eq!(String::from_utf8_lossy(&out.unwrap().stdout), "built\n");
        assert_eq!(info.name, name);

        let err = build(&template.run_cmd("exit 4"), &name, &CloudBuildOptions::default()).await.unwrap_err();
        assert!(matches!(err, TargetError::Build(_)), "{err:?}");
    }
}
