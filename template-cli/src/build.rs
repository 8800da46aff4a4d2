//! `sandbox-template build FILE.tmpl --name N`: builds a template on E2B or Novita, showing
//! upload progress bars and the build log live; exits non-zero when the build fails.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use sandbox_template_runtime::cloud::{BuildEvent, BuildInfo, CloudBuildOptions, Client, CloudError};
use sandbox_template_server::TargetError;
use sandbox_template_runtime::{Provider, Template};

/// Build a `.tmpl` file on E2B or Novita, or locally with `--local`
///
/// The COPY sources are uploaded (with progress bars) and the build log is shown as it comes;
/// the exit code is 0 when the build is ready (with `--background`: started), 1 when it fails,
/// 2 when the file has problems (reported as `check` does) and 130 on Ctrl-C. The service's key comes from E2B_API_KEY or NOVITA_API_KEY, its
/// address from E2B_API_URL or NOVITA_API_URL when set (e.g. a local `serve`). With `--local`
/// the image is built with Docker or Podman and tagged with `--name`.
#[derive(Args, Debug, Clone)]
pub struct BuildArgs {
    /// The template file (`.tmpl`).
    pub file: PathBuf,
    /// Template name (`name` or `name:tag`).
    #[arg(long)]
    pub name: String,
    /// Tag for the build (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// CPU cores.
    #[arg(long, value_name = "N")]
    pub cpu: Option<u32>,
    /// Memory in MiB.
    #[arg(long, value_name = "MB")]
    pub memory: Option<u32>,
    /// Free disk the sandbox must have after the build, in MiB (E2B only: Novita has no such
    /// option and refuses it).
    #[arg(long, value_name = "MB")]
    pub min_free_disk_mb: Option<u32>,
    /// Show build log lines of this level and above, as the SDKs' `defaultBuildLogger({ minLevel })`
    /// [default: every line]. Lines of a level the service invents are always shown.
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub log_level: Option<LogLevel>,
    /// Rebuild every step instead of using the build cache.
    #[arg(long)]
    pub skip_cache: bool,
    /// Return once the build has started instead of following it.
    #[arg(long)]
    pub background: bool,
    /// Build service: `e2b` (E2B_API_KEY) or `novita` (NOVITA_API_KEY) [default: the template's
    /// `provider`, else e2b].
    #[arg(long, value_name = "e2b|novita")]
    pub provider: Option<Provider>,
    /// Give up after this many seconds (default 3600; 0: wait as long as it takes).
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// Do not read the base image's config from its registry (Novita inherits its ENV, WORKDIR
    /// and start command by default, as novita-sandbox does).
    #[arg(long)]
    pub no_inherit_config: bool,
    /// Build on this machine with Docker or Podman instead (image tagged with the name).
    #[arg(long, conflicts_with = "background")]
    pub local: bool,
}

/// A build log level, lowest first: the SDKs' `LogEntry` levels.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Everything.
    Debug,
    /// Progress (the SDKs' default minimum).
    Info,
    /// Warnings and errors.
    Warn,
    /// Errors only.
    Error,
}

impl LogLevel {
    /// The level of a log line as the service writes it; `None` for one the SDKs do not know.
    fn of(level: &str) -> Option<LogLevel> {
        match level.to_ascii_lowercase().as_str() {
            "debug" => Some(LogLevel::Debug),
            "info" => Some(LogLevel::Info),
            "warn" | "warning" => Some(LogLevel::Warn),
            "error" => Some(LogLevel::Error),
            _ => None,
        }
    }
}

/// Runs the subcommand. A template that cannot be loaded exits with 2, like one whose COPY
/// sources turn out unreadable while it is hashed (the file is loaded with
/// [`crate::load_for_reading`], so the build's hashing is the only walk of each tree).
pub fn run(args: &BuildArgs) -> ExitCode {
    let Some(mut template) = crate::load_for_reading(&args.file) else { return ExitCode::from(2) };
    if args.no_inherit_config {
        template = template.inherit_config(false);
    }
    let runtime = match crate::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    if args.local {
        let options = progress_options(args, ProgressDrawTarget::stderr());
        return match crate::build_local::run(&runtime, &template, &args.name, &options) {
            Some(result) => report_local(args, result),
            None => {
                eprintln!("cancelled");
                ExitCode::from(130)
            }
        };
    }
    let result = runtime.block_on(async {
        let client = match Client::from_env(args.provider.unwrap_or(template.provider())) {
            Ok(c) => c,
            Err(e) => return Some(Err(e)),
        };
        tokio::select! {
            result = build_with_progress(&client, &template, args) => Some(result),
            // Dropping the build future cancels uploads and polling.
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    match result {
        Some(result) => report(args, result),
        None => {
            eprintln!("cancelled");
            ExitCode::from(130)
        }
    }
}

fn report(args: &BuildArgs, result: Result<BuildInfo, CloudError>) -> ExitCode {
    if let Err(CloudError::Validation(_)) = &result
        && let Some(diagnostics) = crate::diagnostics(&args.file)
    {
        // Nothing was sent: the template or its context is wrong. Show it where the file says
        // it, as loading would have.
        eprintln!("{diagnostics}");
        return ExitCode::from(2);
    }
    match result {
        Ok(info) => {
            let verb = if args.background { "Started" } else { "Built" };
            // IDs and tags come from the service: printed terminal-safe.
            let tags: Vec<String> = info.tags.iter().map(|t| crate::manage::one_line(t)).collect();
            println!(
                "{verb} {} (template {}, build {}, tags: {})",
                info.name,
                crate::manage::one_line(&info.template_id),
                crate::manage::one_line(&info.build_id),
                if tags.is_empty() { "-".to_owned() } else { tags.join(", ") }
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            // The client already made the server's text safe; this covers every other part.
            eprintln!("error: {}", sandbox_template_runtime::cloud::terminal_safe(&e.to_string()));
            if let CloudError::BuildFailed { logs, .. } = &e {
                for line in logs {
                    eprintln!("  | {line}");
                }
            }
            ExitCode::FAILURE
        }
    }
}

fn report_local(args: &BuildArgs, result: Result<BuildInfo, TargetError>) -> ExitCode {
    match result {
        Ok(info) => report(args, Ok(info)),
        Err(TargetError::Build(e)) => report(args, Err(e)),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Builds `template` with `client` as `args` say, drawing upload bars and printing the build log.
pub async fn build_with_progress(
    client: &Client,
    template: &Template,
    args: &BuildArgs,
) -> Result<BuildInfo, CloudError> {
    build_with_progress_to(client, template, args, ProgressDrawTarget::stderr()).await
}

async fn build_with_progress_to(
    client: &Client,
    template: &Template,
    args: &BuildArgs,
    target: ProgressDrawTarget,
) -> Result<BuildInfo, CloudError> {
    let options = progress_options(args, target);
    if args.background {
        client.build_in_background(template, &args.name, &options).await
    } else {
        client.build(template, &args.name, &options).await
    }
}

/// Build options as `args` say, drawing upload bars and the build log on `target`.
fn progress_options(args: &BuildArgs, target: ProgressDrawTarget) -> CloudBuildOptions {
    let multi = MultiProgress::with_draw_target(target);
    let display = Arc::new(Display { multi, bars: Mutex::new(HashMap::new()), min_level: args.log_level });
    let mut options = CloudBuildOptions::default().skip_cache(args.skip_cache).on_event(move |e| display.show(e));
    options.tags = args.tags.clone();
    options.cpu_count = args.cpu;
    options.memory_mb = args.memory;
    options.min_free_disk_mb = args.min_free_disk_mb;
    if let Some(seconds) = args.timeout {
        options.timeout = (seconds > 0).then(|| Duration::from_secs(seconds));
    }
    options
}

struct Display {
    multi: MultiProgress,
    bars: Mutex<HashMap<usize, ProgressBar>>,
    /// `--log-level`: build log lines below it are not shown.
    min_level: Option<LogLevel>,
}

impl Display {
    fn line(&self, text: String) {
        // A hidden target (not a terminal) drops `println`: print plainly then.
        if self.multi.is_hidden() {
            println!("{text}");
        } else {
            let _ = self.multi.println(text);
        }
    }

    fn show(&self, event: &BuildEvent) {
        let mut bars = self.bars.lock().unwrap_or_else(|p| p.into_inner());
        match event {
            BuildEvent::Created { template_id, build_id } => {
                let (template_id, build_id) = (crate::manage::one_line(template_id), crate::manage::one_line(build_id));
                self.line(format!("Template created: {template_id} (build {build_id})"));
            }
            BuildEvent::UploadStarted { step, src, bytes } => {
                let bar = self.multi.add(ProgressBar::new(*bytes));
                let style = ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}")
                    .map(|s| s.progress_chars("=> "))
                    .unwrap_or_else(|_| ProgressStyle::default_bar());
                bar.set_style(style);
                bar.set_message(format!("step {step}: {src}"));
                bars.insert(*step, bar);
            }
            BuildEvent::UploadProgress { step, sent, .. } => {
                if let Some(bar) = bars.get(step) {
                    bar.set_position(*sent);
                }
            }
            BuildEvent::UploadDone { step, src, bytes } => {
                if let Some(bar) = bars.remove(step) {
                    bar.finish_and_clear();
                }
                self.line(format!("Uploaded '{src}' ({bytes} bytes)"));
            }
            BuildEvent::UploadSkipped { src, .. } => {
                self.line(format!("Skipping upload of '{src}', already cached"));
            }
            BuildEvent::Started => self.line("Build started, waiting for logs...".to_owned()),
            BuildEvent::ImageConfigUnavailable(warning) => self.line(format!(" warn {warning}")),
            BuildEvent::Log(entry) => {
                if let (Some(min), Some(level)) = (self.min_level, LogLevel::of(&entry.level))
                    && level < min
                {
                    return;
                }
                let step = entry.step.as_deref().map(|s| format!("[{s}] ")).unwrap_or_default();
                self.line(format!("{:>5} {step}{}", entry.level, entry.message));
            }
            BuildEvent::LogTruncated { lines } => self.line(format!(
                "(the service kept sending log lines after the build ended; stopped after {lines} lines)"
            )),
            BuildEvent::Finished { status } => self.line(format!("Build finished: {status:?}").to_lowercase()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sandbox_template_runtime::cloud::ConnectionOptions;
    use sandbox_template_server::{Server, ServerConfig};

    fn args(name: &str) -> BuildArgs {
        BuildArgs {
            file: PathBuf::from("t.tmpl"),
            name: name.to_owned(),
            tags: vec!["v1".into()],
            cpu: Some(2),
            memory: None,
            min_free_disk_mb: None,
            log_level: None,
            skip_cache: false,
            background: false,
            provider: Some(Provider::E2b),
            timeout: Some(30),
            local: false,
            no_inherit_config: false,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn builds_against_a_server_and_fails_with_a_non_zero_exit() {
        let server = Server::start(ServerConfig::new("k")).await.unwrap();
        let client =
            Client::with_options(Provider::E2b, ConnectionOptions::with_api_key("k").api_url(server.url())).unwrap();
        let template = Template::new().from_base_image().run_cmd("echo hi");
        let info =
            build_with_progress_to(&client, &template, &args("cli"), ProgressDrawTarget::hidden()).await.unwrap();
        assert_eq!(info.tags, ["v1"]);
        let create = server.requests().into_iter().find(|r| r.path == "/v3/templates").unwrap();
        assert_eq!(create.body.as_deref(), Some(r#"{"name":"cli","tags":["v1"],"cpuCount":2}"#));
        assert_eq!(report(&args("cli"), Ok(info)), ExitCode::SUCCESS);

        server.faults().fail_build("broken", "1", "exit status 1");
        let err = build_with_progress_to(&client, &template, &args("broken"), ProgressDrawTarget::hidden())
            .await
            .unwrap_err();
        assert!(matches!(err, CloudError::BuildFailed { .. }), "{err:?}");
        assert_eq!(report(&args("broken"), Err(err)), ExitCode::FAILURE);
    }

    #[test]
    fn a_missing_template_file_exits_with_2() {
        assert_eq!(run(&args("x")), ExitCode::from(2));
    }

    #[test]
    fn local_conflicts_with_background() {
        use clap::Parser;
        #[derive(Parser, Debug)]
        struct Cli {
            #[command(flatten)]
            build: BuildArgs,
        }
        let e = Cli::try_parse_from(["x", "t.tmpl", "--name", "n", "--local", "--background"]).unwrap_err();
        assert!(e.to_string().contains("--background"), "{e}");
    }

    #[test]
    fn a_local_build_exits_like_a_cloud_build() {
        let failed =
            CloudError::BuildFailed { step: None, location: None, message: "exit status 4".into(), logs: vec![] };
        assert_eq!(report_local(&args("x"), Err(TargetError::Build(failed))), ExitCode::FAILURE);
    }

    #[test]
    fn a_copy_source_matching_nothing_exits_with_2_at_load_or_while_hashing() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.tmpl");
        std::fs::write(&file, "from base;\ncopy \"missing\" => \"/app/\";\n").unwrap();
        let mut a = args("x");
        a.file = file.clone();
        // Loading leaves the sources to the build, which finds the problem while hashing.
        let template = crate::load_for_reading(&file).unwrap();
        let err = template.files_hashes().unwrap_err();
        assert_eq!(report(&a, Err(CloudError::Validation(err))), ExitCode::from(2));
    }
}
