use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use sandbox_template_runtime::Provider;

/// Print a `.tmpl` file as a Dockerfile, for reading
///
/// Users, file modes and the ready check have no Dockerfile form and are left out: build the
/// template itself with `build`.
#[derive(clap::Args)]
pub struct Args {
    /// The template file.
    file: PathBuf,
    /// The build service, which decides the default base image and what is refused (default: the
    /// template's `provider`, else e2b).
    #[arg(long, value_parser = ["e2b", "novita"])]
    provider: Option<String>,
}

/// Runs the subcommand.
pub fn run(args: &Args) -> ExitCode {
    let Some(template) = crate::load(&args.file) else { return ExitCode::FAILURE };
    let provider = match args.provider.as_deref() {
        Some("novita") => Provider::Novita,
        Some(_) => Provider::E2b,
        None => template.provider(),
    };
    match template.to_dockerfile_for(provider) {
        Ok(text) => {
            // A closed pipe (`| head`) is not an error worth a panic.
            let _ = write!(std::io::stdout().lock(), "{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}: {e}", args.file.display());
            ExitCode::FAILURE
        }
    }
}
