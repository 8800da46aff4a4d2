use std::path::PathBuf;
use std::process::ExitCode;

/// Check `.tmpl` files and report every problem, rustc-style
///
/// Each file gets the checks the `template!` macro makes, COPY sources included. Exits 1 if any
/// file has a problem.
#[derive(clap::Args)]
pub struct Args {
    /// The template files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// Runs the subcommand.
pub fn run(args: &Args) -> ExitCode {
    let mut failed = 0;
    for file in &args.files {
        match sandbox_template_dsl::tmpl::check_file(file) {
            Ok(_) => {}
            Err(e) => {
                eprintln!("{e}\n");
                failed += 1;
            }
        }
    }
    if failed == 0 {
        let n = args.files.len();
        eprintln!("checked {n} template{}: no problems", if n == 1 { "" } else { "s" });
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
