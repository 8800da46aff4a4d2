//! `sandbox-template delete TEMPLATE`: deletes a template and its builds.

use std::process::ExitCode;

use crate::manage::{Service, print_json, with_client};

/// Delete a template (by ID or name) and all its builds. Exits 1 if there was no such template.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Template ID or name.
    template: String,
    #[command(flatten)]
    service: Service,
}

/// Runs the subcommand.
pub fn run(args: &Args) -> ExitCode {
    let deleted =
        match with_client(&args.service, 1, |client| async move { client.delete_template(&args.template).await }) {
            Ok(d) => d,
            Err(code) => return code,
        };
    if args.service.json {
        print_json(&serde_json::json!({ "template": args.template, "deleted": deleted }));
    } else if deleted {
        println!("Deleted {}", args.template);
    } else {
        eprintln!("error: there is no template {}", args.template);
    }
    if deleted { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
