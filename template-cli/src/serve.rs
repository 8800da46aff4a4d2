//! `sandbox-template serve`: the template build API on this machine, building with Docker or
//! Podman, its state in a data folder. Point any E2B client at it with `E2B_API_URL`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use sandbox_template_runtime::local::EnginePreference;
use sandbox_template_server::ServeOptions;
use sandbox_template_server::api::{
    DEFAULT_BODY_TIMEOUT, DEFAULT_HEADER_TIMEOUT, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_UPLOAD_BYTES,
};
use sandbox_template_server::runner::{DEFAULT_MAX_ENTRIES, DEFAULT_MAX_PATH_LEN, DEFAULT_MAX_UNPACKED_BYTES};

/// The environment variable holding the API key (the safe way to pass it, with `--api-key-file`).
pub const API_KEY_ENV: &str = "SANDBOX_TEMPLATE_API_KEY";

/// Run the template build API on this machine, building with Docker or Podman
///
/// Any E2B client (the official SDKs, `sandbox-template build`) builds against it with
/// `E2B_API_URL=http://127.0.0.1:3000` and `E2B_API_KEY` set to the key given here. Templates,
/// builds and their logs are kept in the data folder across restarts. Each request and each
/// build (started, ready or failed, with its duration) is logged to stderr; `RUST_LOG` filters
/// the log (default `sandbox_template_server=info`). Ctrl-C stops it.
#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3000", value_name = "IP:PORT")]
    pub addr: SocketAddr,
    /// Container engine: `auto` (Docker or Podman, else none), `docker`, `podman`, or `none`
    /// (validate and stage builds, build no image).
    #[arg(long, default_value = "auto", value_name = "auto|docker|podman|none", value_parser = parse_engine)]
    pub engine: EngineArg,
    /// Folder keeping templates, builds, logs and uploads across restarts [default: your data
    /// folder's `sandbox-template`]
    ///
    /// The default is `$XDG_DATA_HOME/sandbox-template`, else
    /// `~/.local/share/sandbox-template` (macOS: `~/Library/Application Support/sandbox-template`).
    /// A folder that does not exist is created owner-only (0700): it holds uploads and build logs.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// The API key clients must send (their E2B_API_KEY). Prefer --api-key-file or the
    /// SANDBOX_TEMPLATE_API_KEY environment variable: a key on the command line is visible to
    /// every local user in the process list.
    #[arg(long, value_name = "KEY", conflicts_with = "api_key_file")]
    pub api_key: Option<String>,
    /// Read the API key from this file (its first line; keep the file owner-only).
    #[arg(long, value_name = "PATH")]
    pub api_key_file: Option<PathBuf>,
    /// The URL clients reach this server by, when it is not --addr (a proxy, a public name):
    /// upload URLs are built on it and its host is accepted in the Host header. On loopback,
    /// only localhost, 127.0.0.1 and [::1] are accepted otherwise (DNS rebinding).
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Largest upload (one COPY step's archive), in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_UPLOAD_BYTES)]
    pub max_upload_bytes: u64,
    /// Most bytes one archive may unpack into.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_UNPACKED_BYTES)]
    pub max_unpacked_bytes: u64,
    /// Most entries (files, folders, links) in one archive.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_ENTRIES)]
    pub max_entries: usize,
    /// Longest path in an archive, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_PATH_LEN)]
    pub max_path_len: usize,
    /// Seconds a client has to send a request's headers; also how long an idle connection stays open.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_HEADER_TIMEOUT.as_secs_f64())]
    pub header_timeout: f64,
    /// Seconds a request body may send nothing before it is dropped.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_BODY_TIMEOUT.as_secs_f64())]
    pub body_timeout: f64,
    /// Most connections open at once (more wait to be accepted).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
}

/// The key from `--api-key-file`, `--api-key` or [`API_KEY_ENV`], or what to tell the user.
fn api_key(args: &ServeArgs) -> Result<String, String> {
    let key = if let Some(path) = &args.api_key_file {
        read_key_file(path)?
    } else if let Some(key) = &args.api_key {
        eprintln!(
            "warning: --api-key puts the key in the process list, where every local user can read it; \
             use --api-key-file PATH or {API_KEY_ENV} instead"
        );
        key.clone()
    } else {
        std::env::var(API_KEY_ENV).map_err(|_| {
            format!("no API key: give --api-key-file PATH, or set {API_KEY_ENV} (clients send it as E2B_API_KEY)")
        })?
    };
    if key.trim().is_empty() {
        return Err(format!("the API key must not be empty (--api-key-file PATH or {API_KEY_ENV})"));
    }
    Ok(key)
}

fn read_key_file(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read the API key file {}: {e}", path.display()))?;
    Ok(text.lines().next().unwrap_or("").trim().to_owned())
}

/// A positive, finite number of seconds.
fn seconds(value: f64, flag: &str) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{flag} must be a positive number of seconds, got {value}"))
}

/// The folder `serve` keeps its data in, inside the user's data folder.
pub const DATA_FOLDER: &str = "sandbox-template";

/// `--data`, else [`DATA_FOLDER`] in the user's data folder (`$XDG_DATA_HOME`, else
/// `~/.local/share` on Linux), or what to tell the user.
fn data_dir(args: &ServeArgs) -> Result<PathBuf, String> {
    match &args.data {
        Some(dir) => Ok(dir.clone()),
        None => dirs::data_dir().map(|d| d.join(DATA_FOLDER)).ok_or_else(|| {
            "cannot find your data folder (neither XDG_DATA_HOME nor HOME is set): give --data DIR".to_owned()
        }),
    }
}

/// Creates `dir` and its missing parents owner-only (0700, as XDG asks of the data folder): it
/// holds uploaded contexts and build logs. An existing folder keeps its permissions.
fn create_private(dir: &Path) -> Result<(), String> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| format!("cannot create the data folder {}: {e}", dir.display()))
}

/// `--engine`: `None` for `none`. An alias, so that clap parses the value with [`parse_engine`]
/// instead of treating the argument as optional.
pub type EngineArg = Option<EnginePreference>;

/// `none` is no engine; anything else names an [`EnginePreference`].
fn parse_engine(s: &str) -> Result<Option<EnginePreference>, String> {
    if s.trim().eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    s.parse::<EnginePreference>()
        .map(Some)
        .map_err(|_| format!("unknown engine `{s}`: expected auto, docker, podman or none"))
}

/// Sends the server's log (each request, each build state change) to stderr, filtered by `RUST_LOG`
/// (`sandbox_template_server=info` when unset or invalid; e.g. `RUST_LOG=sandbox_template_server=debug`).
/// Colours only on a terminal: a redirected stderr gets no escape codes.
fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("sandbox_template_server=info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    // Set once per process; a second `serve` in the same process keeps the first subscriber.
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).try_init();
}

/// Runs the server until Ctrl-C.
pub fn run(args: &ServeArgs) -> ExitCode {
    let key = match api_key(args) {
        Ok(k) => k,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let (header_timeout, body_timeout) =
        match (seconds(args.header_timeout, "--header-timeout"), seconds(args.body_timeout, "--body-timeout")) {
            (Ok(h), Ok(b)) => (h, b),
            (Err(message), _) | (_, Err(message)) => {
                eprintln!("error: {message}");
                return ExitCode::from(2);
            }
        };
    let data = match data_dir(args).and_then(|dir| create_private(&dir).map(|()| dir)) {
        Ok(dir) => dir,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::FAILURE;
        }
    };
    init_logging();
    let runtime = match crate::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let code = runtime.block_on(async {
        let mut options = ServeOptions::new(data, key).addr(args.addr);
        let config = &mut options.config;
        config.public_url = args.public_url.clone();
        config.max_upload_bytes = args.max_upload_bytes;
        config.unpack.max_bytes = args.max_unpacked_bytes;
        config.unpack.max_entries = args.max_entries;
        config.unpack.max_path_len = args.max_path_len;
        config.header_timeout = header_timeout;
        config.body_timeout = body_timeout;
        config.max_connections = args.max_connections.max(1);
        let options = match args.engine {
            Some(engine) => options.engine(engine),
            None => options.without_engine(),
        };
        let serving = match options.start().await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        println!("Serving the template build API at {}", serving.server.url());
        println!("  engine: {}", serving.engine_description());
        println!("  data:   {}", serving.data.display());
        println!("  clients: E2B_API_URL={} E2B_API_KEY=<your key>", serving.server.url());
        println!("Press Ctrl-C to stop (running builds are marked interrupted on the next start).");
        let _ = tokio::signal::ctrl_c().await;
        serving.server.shutdown().await;
        println!("stopped");
        ExitCode::SUCCESS
    });
    // A build in a silent step notices the stop only at its next output line; don't wait long.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    code
}
