//! `sandbox-template list`: the team's templates on E2B or Novita.

use std::process::ExitCode;

use crate::manage::{Service, print_json, print_table, with_client};

/// List the templates of your team on the build service (every page).
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    service: Service,
}

/// Runs the subcommand.
pub fn run(args: &Args) -> ExitCode {
    let templates = match with_client(&args.service, 1, |client| async move { client.list_templates().await }) {
        Ok(t) => t,
        Err(code) => return code,
    };
    if args.service.json {
        print_json(&templates);
        return ExitCode::SUCCESS;
    }
    if templates.is_empty() {
        println!("no templates");
        return ExitCode::SUCCESS;
    }
    let rows: Vec<Vec<String>> = templates
        .iter()
        .map(|t| {
            vec![
                t.template_id.clone(),
                if t.names.is_empty() { "-".to_owned() } else { t.names.join(", ") },
                t.build_status.map_or("-".to_owned(), |s| format!("{s:?}").to_lowercase()),
                if t.build_id.is_empty() { "-".to_owned() } else { t.build_id.clone() },
                t.cpu_count.to_string(),
                format!("{} MiB", t.memory_mb),
                t.updated_at.clone(),
            ]
        })
        .collect();
    print_table(&["TEMPLATE", "NAMES", "STATUS", "BUILD", "CPU", "MEMORY", "UPDATED"], &rows);
    ExitCode::SUCCESS
}
