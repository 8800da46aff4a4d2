use std::path::PathBuf;
use std::process::ExitCode;

/// Check `.tmpl` files: every problem, rustc-style; exits non-zero if any file has one.
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
