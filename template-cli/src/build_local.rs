//! `sandbox-template build FILE.tmpl --name N --local`: the same build, on this machine's Docker or
//! Podman, through the same client and API as a cloud build (see `sandbox_template_server::Target`),
//! so the progress display and the exit codes are the cloud's.

use std::process::ExitCode;

use indicatif::ProgressDrawTarget;
use sandbox_template_runtime::Template;
use sandbox_template_runtime::cloud::BuildInfo;
use sandbox_template_runtime::local::EnginePreference;
use sandbox_template_server::{Target, TargetError, build_on};

use crate::build::{BuildArgs, progress_options, report};

/// Runs a local build on `runtime`; Ctrl-C cancels it (exit 130).
pub fn run(runtime: &tokio::runtime::Runtime, template: &Template, args: &BuildArgs) -> ExitCode {
    let result = runtime.block_on(async {
        tokio::select! {
            r = build(template, args, ProgressDrawTarget::stderr()) => Some(r),
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    match result {
        Some(r) => report_local(args, r),
        None => {
            eprintln!("cancelled");
            ExitCode::from(130)
        }
    }
}

/// Builds `template` locally as `args` say.
pub async fn build(
    template: &Template,
    args: &BuildArgs,
    target: ProgressDrawTarget,
) -> Result<BuildInfo, TargetError> {
    build_on(template, &args.name, Target::Local(EnginePreference::Auto), &progress_options(args, target)).await
}

fn report_local(args: &BuildArgs, result: Result<BuildInfo, TargetError>) -> ExitCode {
    match result {
        Ok(info) => report(args, Ok(info)),
        Err(TargetError::Build(e)) => report(args, Err(e)),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sandbox_template_runtime::local::Engine;

    fn args(name: &str) -> BuildArgs {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            build: BuildArgs,
        }
        Cli::parse_from(["x", "t.tmpl", "--name", name, "--local"]).build
    }

    #[test]
    fn local_conflicts_with_background() {
        use clap::Parser;
        #[derive(Parser, Debug)]
        struct Cli {
            #[command(flatten)]
            build: BuildArgs,
        }
        let e = Cli::try_parse_from(["x", "t.tmpl", "--name", "n", "--local", "--background"]).unwrap_err();
        assert!(e.to_string().contains("--background"), "{e}");
    }

    /// Needs Docker or Podman and `.ci/setup-podman.sh`'s base image: fails in CI without them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn builds_locally_and_a_failing_step_exits_non_zero() {
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
        let template = Template::new().from_image(base).run_cmd("echo built > /built");
        let info = build(&template, &args(&name), ProgressDrawTarget::hidden()).await.unwrap();
        let out = std::process::Command::new(engine.program()).args(["run", "--rm", &name, "cat", "/built"]).output();
        let _ = engine.remove_image(&name);
        assert_eq!(String::from_utf8_lossy(&out.unwrap().stdout), "built\n");
        assert_eq!(report_local(&args(&name), Ok(info)), ExitCode::SUCCESS);

        let err = build(&template.run_cmd("exit 4"), &args(&name), ProgressDrawTarget::hidden()).await.unwrap_err();
        assert!(matches!(err, TargetError::Build(_)), "{err:?}");
        assert_eq!(report_local(&args(&name), Err(err)), ExitCode::FAILURE);
    }
}
