use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use sandbox_template_dsl::write::{Imported, WriteError, WriteOptions, dockerfile_to_tmpl, request_to_tmpl};
use sandbox_template_runtime::dockerfile::DockerfileOptions;
use sandbox_template_runtime::wire::BuildRequest;

/// Write a `.tmpl` file from a Dockerfile or an official SDK's build request JSON
///
/// FILE is a Dockerfile (read with the semantics of `from dockerfile`) or a build request as an
/// official SDK's `Template.toJSON` prints it (E2B or Novita). The SDKs' RUN forms become their
/// statements; every statement is read back and compared, so nothing is dropped silently.
#[derive(clap::Args)]
pub struct Args {
    /// The Dockerfile or the build request JSON.
    file: PathBuf,
    /// What FILE is [default: a build request when its name ends in `.json` or its text starts
    /// with `{`, else a Dockerfile].
    #[arg(long, value_parser = ["dockerfile", "json"])]
    from: Option<String>,
    /// Write the template to this file instead of printing it.
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
    /// Replace OUT if it exists.
    #[arg(long)]
    force: bool,
    /// Add `context "DIR";`: the folder COPY sources are read from, relative to the written file
    /// [default: the written file's folder].
    #[arg(long, value_name = "DIR")]
    context: Option<String>,
    /// A Dockerfile build arg, like `docker build --build-arg`.
    #[arg(long = "build-arg", value_name = "NAME=VALUE")]
    build_args: Vec<String>,
}

/// Runs the subcommand.
pub fn run(args: &Args) -> ExitCode {
    match import(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn import(args: &Args) -> Result<(), String> {
    let file = &args.file;
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read `{}`: {e}", file.display()))?;
    let mut options = WriteOptions::new();
    if let Some(dir) = &args.context {
        options = options.context(dir.clone());
    }
    let json = match args.from.as_deref() {
        Some(from) => from == "json",
        None => file.extension().is_some_and(|x| x == "json") || text.trim_start().starts_with('{'),
    };
    let imported = if json {
        if !args.build_args.is_empty() {
            return Err("`--build-arg` is for Dockerfiles; this is a build request JSON".to_owned());
        }
        let request: BuildRequest = serde_json::from_str(&text).map_err(|e| {
            format!(
                "`{}` is not a build request JSON: {e}\n  help: give the output of the SDK's `Template.toJSON`, or \
                 `--from dockerfile` for a Dockerfile",
                file.display()
            )
        })?;
        request_to_tmpl(&request, &options)
    } else {
        dockerfile_to_tmpl(&text, &build_args(&args.build_args)?, &options)
    };
    let Imported { text: tmpl, notes, .. } = imported.map_err(|e| match e {
        WriteError::Dockerfile(e) => e.with_file(file.clone()).to_string(),
        e => format!("`{}`: {e}", file.display()),
    })?;
    for note in notes {
        eprintln!("note: {note}");
    }
    match &args.output {
        Some(out) => write_new(out, &tmpl, args.force),
        None => {
            // A closed pipe (`| head`) is not an error worth a panic.
            let _ = write!(std::io::stdout().lock(), "{tmpl}");
            Ok(())
        }
    }
}

fn build_args(args: &[String]) -> Result<DockerfileOptions, String> {
    let mut options = DockerfileOptions::new();
    for arg in args {
        let Some((name, value)) = arg.split_once('=') else {
            return Err(format!("`--build-arg {arg}` has no value\n  help: write `--build-arg {arg}=VALUE`"));
        };
        options = options.build_arg(name, value);
    }
    Ok(options)
}

/// Writes `text` to `out`, which must not exist unless `force`.
fn write_new(out: &Path, text: &str, force: bool) -> Result<(), String> {
    let mut open = std::fs::OpenOptions::new();
    open.write(true);
    if force {
        open.create(true).truncate(true);
    } else {
        open.create_new(true);
    }
    let result = open.open(out).and_then(|mut f| f.write_all(text.as_bytes()));
    match result {
        Ok(()) => {
            eprintln!("wrote {}", out.display());
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(format!("`{}` exists\n  help: pass `--force` to replace it, or choose another `-o`", out.display()))
        }
        Err(e) => Err(format!("cannot write `{}`: {e}", out.display())),
    }
}
