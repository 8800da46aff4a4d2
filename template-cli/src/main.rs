//! `sandbox-template`: check `.tmpl` files, print their build request JSON or Dockerfile, build
//! them on E2B or Novita or with a local engine, manage templates on those services (list,
//! status, exists, tags, delete), and serve the template build API locally.

use std::process::ExitCode;

use clap::Parser;

/// Declares the subcommands, one line each: `Variant(module::ArgsType)`, where `module` (a file
/// of this crate) has `ArgsType` (clap `Args`; its doc comment is the command's help) and
/// `pub fn run(args: &ArgsType) -> ExitCode`.
macro_rules! subcommands {
    ($($variant:ident($module:ident::$args:ident)),* $(,)?) => {
        $(mod $module;)*

        #[derive(clap::Subcommand)]
        enum Command {
            $($variant($module::$args),)*
        }

        impl Command {
            fn run(&self) -> ExitCode {
                match self {
                    $(Command::$variant(args) => $module::run(args),)*
                }
            }
        }
    };
}

subcommands! {
    Check(check::Args),
    Json(json::Args),
    Dockerfile(dockerfile::Args),
    Build(build::BuildArgs),
    Serve(serve::ServeArgs),
    List(list::Args),
    Status(status::Args),
    Exists(exists::Args),
    Tags(tags::Args),
    Delete(delete::Args),
}

// `build --local` (used by `build`).
mod build_local;
// The service, client and safe printing of the management commands (list … delete).
mod manage;

/// Sandbox templates (E2B, Novita) as compile-checked code.
#[derive(Parser)]
#[command(name = "sandbox-template", version, about = "Cloud sandbox templates: check, export and build them.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

fn main() -> ExitCode {
    Cli::parse().command.run()
}

/// Loads a `.tmpl` file, printing its diagnostics to stderr on failure.
fn load(path: &std::path::Path) -> Option<sandbox_template_runtime::Template> {
    match sandbox_template_dsl::tmpl::load(path) {
        Ok(t) => Some(t),
        Err(e) => {
            eprintln!("{e}");
            None
        }
    }
}

/// Loads a `.tmpl` file for a command that reads its context right away (`json` hashes every
/// COPY source, `build` hashes and uploads them): the sources are enumerated by that command
/// only, so each tree is walked once. On failure the file's diagnostics are printed.
fn load_for_reading(path: &std::path::Path) -> Option<sandbox_template_runtime::Template> {
    match sandbox_template_dsl::tmpl::load_deferring_copy_checks(path) {
        Ok(t) => Some(t),
        // The full check, so that every problem is reported at once, as `check` does.
        Err(e) => {
            eprintln!("{}", diagnostics(path).unwrap_or(e));
            None
        }
    }
}

/// The diagnostics of a full check of `path` (COPY sources included), if it finds problems: what
/// to show when reading the context of a template loaded by [`load_for_reading`] failed.
fn diagnostics(path: &std::path::Path) -> Option<sandbox_template_dsl::tmpl::TmplError> {
    sandbox_template_dsl::tmpl::check_file(path).err()
}

/// The async runtime of the subcommands that talk to a server or an engine (`build`, `serve`);
/// on failure the error is printed and the exit code returned.
fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(|e| {
        eprintln!("error: cannot start the async runtime: {e}");
        ExitCode::FAILURE
    })
}
