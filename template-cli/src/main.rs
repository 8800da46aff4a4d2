//! `sandbox-template`: check `.tmpl` files, print their build request JSON or Dockerfile, and
//! (in their own modules) build and serve templates.

use std::process::ExitCode;

use clap::Parser;

/// Declares the subcommands: one line per subcommand, `Variant(module)`, where `module` has an
/// `Args` type (clap `Args`, its doc comment is the command's help) with `fn run(self) -> ExitCode`.
macro_rules! subcommands {
    ($($variant:ident($module:ident)),* $(,)?) => {
        $(mod $module;)*

        #[derive(clap::Subcommand)]
        enum Command {
            $($variant($module::Args),)*
        }

        impl Command {
            fn run(self) -> ExitCode {
                match self {
                    $(Command::$variant(args) => args.run(),)*
                }
            }
        }
    };
}

subcommands! {
    Check(check),
    Json(json),
    Dockerfile(dockerfile),
}

/// Sandbox templates (E2B, Novita) as compile-checked code.
#[derive(Parser)]
#[command(name = "sandbox-template", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

fn main() -> ExitCode {
    Cli::parse().command.run()
}

/// Loads a `.tmpl` file, printing its diagnostics to stderr on failure.
fn load(path: &std::path::Path) -> Option<template_runtime::Template> {
    match template_dsl::tmpl::load(path) {
        Ok(t) => Some(t),
        Err(e) => {
            eprintln!("{e}");
            None
        }
    }
}
