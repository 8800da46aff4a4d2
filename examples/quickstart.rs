//! Quickstart: a small Python web service as a sandbox template.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! Prints the build request the E2B build service receives (the same bytes the official SDKs
//! send, `filesHash` included) and the equivalent Dockerfile. The service's files are in
//! `examples/quickstart/app/`.

use std::path::PathBuf;
use std::process::ExitCode;

use sandbox_template::{Template, wait_for_port};

/// The folder `copy` sources are read from: this example's own folder, wherever it is run from.
fn context_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart")
}

/// The template: Python 3.12, the app's dependencies, the app, and how to start it.
fn template() -> Template {
    Template::new()
        .with_context(context_dir())
        .from_python_image("3.12")
        .set_envs([("APP_ENV", "prod"), ("GREETING", "hello world")])
        .pip_install("flask")
        .copy("app", "/home/user/app")
        .set_workdir("/home/user/app")
        .set_start_cmd("python main.py", wait_for_port(8000))
}

fn run() -> Result<(), sandbox_template::Error> {
    let template = template();
    println!("# Build request (E2B)\n{}\n", template.to_json()?);
    print!("# Dockerfile\n{}", template.to_dockerfile()?);
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
