//! `sandbox-template exists NAME`: whether a template name is taken.

use std::process::ExitCode;

use crate::manage::{Service, print_json, with_client};

/// Whether a template with this name (or `name:tag`) exists. Exits 0 if it does, 1 if it does
/// not, 2 on error (like `grep`). A name another team owns exists too.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Template name, or `name:tag`.
    name: String,
    #[command(flatten)]
    service: Service,
}

/// Runs the subcommand.
pub fn run(args: &Args) -> ExitCode {
    let exists = match with_client(&args.service, 2, |client| async move { client.exists(&args.name).await }) {
        Ok(e) => e,
        Err(code) => return code,
    };
    if args.service.json {
        print_json(&serde_json::json!({ "name": args.name, "exists": exists }));
    } else if exists {
        println!("{} exists", args.name);
    } else {
        println!("{} does not exist", args.name);
    }
    if exists { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
