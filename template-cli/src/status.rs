//! `sandbox-template status TEMPLATE BUILD`: the state of one build, and its log.

use std::process::ExitCode;

use sandbox_template_runtime::cloud::BuildState;

use crate::manage::{Service, one_line, print_json, with_client};

/// The most log pages `--logs` reads (100 lines each on E2B): a service that keeps sending
/// pages cannot keep the command running.
const MAX_LOG_PAGES: usize = 10_000;

/// Show the state of a build (the template ID and build ID `build` printed), and with `--logs`
/// its whole log.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Template ID (or name).
    template: String,
    /// Build ID.
    build: String,
    /// Print the build log too, page by page as it is read (text output only).
    #[arg(long, conflicts_with = "json")]
    logs: bool,
    /// With `--json`: the log offset of the page to include (the API's `logsOffset`).
    #[arg(long, default_value_t = 0, value_name = "N")]
    offset: usize,
    #[command(flatten)]
    service: Service,
}

/// Runs the subcommand.
pub fn run(args: &Args) -> ExitCode {
    let result = with_client(&args.service, 1, |client| async move {
        let (template, build) = (args.template.as_str(), args.build.as_str());
        if args.service.json {
            let status = client.build_status(template, build, args.offset).await?;
            print_json(&status);
            return Ok(());
        }
        let mut status = client.build_status(template, build, if args.logs { 0 } else { args.offset }).await?;
        if args.logs {
            // Streamed: each page is printed and dropped before the next is asked for.
            let mut offset = 0;
            for _ in 0..MAX_LOG_PAGES {
                if status.log_entries.is_empty() {
                    break;
                }
                for e in &status.log_entries {
                    let step = e.step.as_deref().map(|s| format!("[{}] ", one_line(s))).unwrap_or_default();
                    println!("{:>5} {step}{}", one_line(&e.level), one_line(&e.message));
                }
                offset += status.log_entries.len();
                status = client.build_status(template, build, offset).await?;
            }
        }
        let state = format!("{:?}", status.status).to_lowercase();
        println!("build {} of template {}: {state}", one_line(&status.build_id), one_line(&status.template_id));
        if status.status == BuildState::Error
            && let Some(reason) = &status.reason
        {
            let step = reason.step.as_deref().map(|s| format!(" (step {})", one_line(s))).unwrap_or_default();
            println!("reason{step}: {}", one_line(&reason.message));
            for e in &reason.log_entries {
                println!("  | {}", one_line(&e.message));
            }
        }
        Ok(())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}
