//! The `sandbox-template` command-line tool.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod build;
mod build_local;
mod serve;

#[derive(Parser)]
#[command(name = "sandbox-template", version, about = "Cloud sandbox templates: check, export and build them.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build a template on E2B or Novita (E2B_API_KEY / NOVITA_API_KEY).
    Build(build::BuildArgs),
    /// Serve the template build API locally, building with Docker or Podman.
    Serve(serve::ServeArgs),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Build(args) => build::run(&args),
        Command::Serve(args) => serve::run(&args),
    }
}
