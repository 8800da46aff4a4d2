use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use sandbox_template_runtime::{JsonOptions, Provider};

/// Print the build request JSON of a `.tmpl` file
///
/// The JSON is exactly what `Template::to_json` makes and the build service is sent. Secrets
/// written as `env("VAR")` are read from the environment now.
#[derive(clap::Args)]
pub struct Args {
    /// The template file.
    file: PathBuf,
    /// The build service (default: the template's `provider`, else e2b).
    #[arg(long, value_parser = ["e2b", "novita"])]
    provider: Option<String>,
    /// One line, as sent on the wire.
    #[arg(long)]
    compact: bool,
    /// Leave out the COPY steps' `filesHash` and do not read the context (the SDKs'
    /// `toJSON(computeHashes = false)`).
    #[arg(long)]
    no_hashes: bool,
}

/// Runs the subcommand.
pub fn run(args: &Args) -> ExitCode {
    let Some(template) = crate::load_for_reading(&args.file) else { return ExitCode::FAILURE };
    let provider = match args.provider.as_deref() {
        Some("novita") => Provider::Novita,
        Some(_) => Provider::E2b,
        None => template.provider(),
    };
    let mut options = JsonOptions::for_provider(provider);
    if args.compact {
        options = options.compact();
    }
    if args.no_hashes {
        options = options.without_hashes();
    }
    match template.to_json_with(options) {
        Ok(json) => {
            // A closed pipe (`| head`) is not an error worth a panic.
            let _ = writeln!(std::io::stdout().lock(), "{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            // A COPY source matching nothing is shown where the file names it.
            match crate::diagnostics(&args.file) {
                Some(diagnostics) => eprintln!("{diagnostics}"),
                None => eprintln!("error: {}: {e}", args.file.display()),
            }
            ExitCode::FAILURE
        }
    }
}
