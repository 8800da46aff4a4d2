use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Print a `.tmpl` file as a Dockerfile, for reading
///
/// Users, file modes and the ready check have no Dockerfile form and are left out: build the
/// template itself with `build`.
#[derive(clap::Args)]
pub struct Args {
    /// The template file.
    file: PathBuf,
}

/// Runs the subcommand.
pub fn run(args: &Args) -> ExitCode {
    let Some(template) = crate::load(&args.file) else { return ExitCode::FAILURE };
    match template.to_dockerfile() {
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
