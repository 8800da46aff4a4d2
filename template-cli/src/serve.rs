//! `sandbox-template serve`: the template build API on this machine, building with Docker or
//! Podman, its state in a data folder. Point any E2B client at it with `E2B_API_URL`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use sandbox_template_runtime::local::EnginePreference;
use sandbox_template_server::ServeOptions;

/// Arguments of `sandbox-template serve`.
#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3000", value_name = "IP:PORT")]
    pub addr: SocketAddr,
    /// Container engine: `auto` (Docker or Podman, else none), `docker`, `podman`, or `none`
    /// (validate and stage builds, build no image).
    #[arg(long, default_value = "auto", value_name = "auto|docker|podman|none", value_parser = parse_engine)]
    pub engine: EngineArg,
    /// Folder keeping templates, builds, logs and uploads across restarts.
    #[arg(long, default_value = ".sandbox-template-serve", value_name = "DIR")]
    pub data: PathBuf,
    /// The API key clients must send (their E2B_API_KEY).
    #[arg(long, env = "SANDBOX_TEMPLATE_API_KEY", value_name = "KEY", hide_env_values = true)]
    pub api_key: String,
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

/// Sends the server's log (requests, build state changes) to stderr, filtered by `RUST_LOG`
/// (`info` when unset or invalid; e.g. `RUST_LOG=sandbox_template_server=debug`).
fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Set once per process; a second `serve` in the same process keeps the first subscriber.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).try_init();
}

/// Runs the server until Ctrl-C.
pub fn run(args: &ServeArgs) -> ExitCode {
    if args.api_key.trim().is_empty() {
        eprintln!("error: the API key must not be empty (--api-key KEY or SANDBOX_TEMPLATE_API_KEY)");
        return ExitCode::from(2);
    }
    init_logging();
    let runtime = match crate::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let code = runtime.block_on(async {
        let options = ServeOptions::new(&args.data, args.api_key.clone()).addr(args.addr);
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
