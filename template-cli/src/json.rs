use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use sandbox_template_runtime::cloud::ImageConfigClient;
use sandbox_template_runtime::{JsonOptions, Provider, Template};

/// Print the build request JSON of a `.tmpl` file
///
/// The JSON is exactly what the build service is sent. Secrets written as `env("VAR")` are read
/// from the environment now. For Novita, the base image's ENV, WORKDIR and start command are read
/// from its registry and applied as novita-sandbox does (a registry that cannot be read is a
/// warning on stderr, and the JSON is printed without them); `--no-inherit-config` reads nothing.
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
    /// Do not read the base image's config from its registry (Novita inherits its ENV, WORKDIR
    /// and start command by default, as novita-sandbox does).
    #[arg(long)]
    no_inherit_config: bool,
}

/// Runs the subcommand.
pub fn run(args: &Args) -> ExitCode {
    let Some(mut template) = crate::load_for_reading(&args.file) else { return ExitCode::FAILURE };
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
    if args.no_inherit_config {
        template = template.inherit_config(false);
    }
    if provider == Provider::Novita && template.inherits_config() {
        match inherit(template) {
            Ok(t) => template = t,
            Err(code) => return code,
        }
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

/// `template` with its base image's config applied (Novita); a registry that cannot be read is
/// reported on stderr and leaves the template as it was.
fn inherit(template: Template) -> Result<Template, ExitCode> {
    let runtime = crate::runtime()?;
    let client = ImageConfigClient::new().map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::FAILURE
    })?;
    let resolved = runtime.block_on(client.resolve(template, Provider::Novita));
    if let Some(warning) = &resolved.warning {
        eprintln!("warning: {warning}");
    }
    Ok(resolved.template)
}
