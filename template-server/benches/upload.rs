//! Upload benchmark driver (not a criterion bench: whole-process wall time and peak RSS are
//! what matter, measured by `bench/upload.sh` with hyperfine and `/usr/bin/time`).
//!
//! ```text
//! upload serve PORT                      # the loopback API server (chunked uploads allowed)
//! upload build URL CONTEXT_DIR SRC[,SRC]  # hash + archive + upload each SRC of CONTEXT_DIR, start
//! upload many URL CONTEXT_DIR SRC N      # N templates built concurrently through one client
//! ```

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sandbox_template_runtime::cloud::{BuildEvent, Client, CloudBuildOptions, ConnectionOptions};
use sandbox_template_runtime::{CopyOptions, Provider, Template};
use sandbox_template_server::api::{Server, ServerConfig};
use sandbox_template_server::runner::{BoxFuture, BuildJob, BuildLog, BuildRunner, StepFailure};
use sandbox_template_server::store::Store;

const KEY: &str = "bench-key";

fn client(url: &str) -> Client {
    let options = ConnectionOptions::with_api_key(KEY).api_url(url).request_timeout(Duration::from_secs(600));
    Client::with_options(Provider::E2b, options).expect("client")
}

fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

/// The benchmark times the client's path (hash, compress, upload, start). A checking server
/// unpacks and re-hashes every archive once the build starts, on the same two cores, while the
/// next timed command runs; the baseline's bare PUT never triggers that work. So this server
/// builds nothing and every build ends `ready` at once.
struct NoBuild;

impl BuildRunner for NoBuild {
    fn run<'a>(&'a self, _job: &'a BuildJob, _log: &'a BuildLog) -> BoxFuture<'a, Result<(), StepFailure>> {
        Box::pin(async { Ok(()) })
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["serve", port] => rt.block_on(async {
            let mut config = ServerConfig::new(KEY).addr(format!("127.0.0.1:{port}").parse().expect("port"));
            config.accept_chunked_uploads = true;
            let store = Store::temporary().expect("store");
            let server = Server::start_with(config, store, Arc::new(NoBuild)).await.expect("server");
            println!("{}", server.url());
            std::future::pending::<()>().await;
            ExitCode::SUCCESS
        }),
        ["build", url, ctx, src] => rt.block_on(async {
            let t0 = Instant::now();
            // force_upload: every run uploads, though the server has the archive of the last run.
            let mut template = Template::new().with_context(*ctx).from_base_image();
            for (i, src) in src.split(',').enumerate() {
                template = template.copy_with(src, format!("/data{i}"), CopyOptions::new().force_upload(true));
            }
            // Phase times on stderr: hashed+created, archive spooled, uploaded, started.
            let options = CloudBuildOptions::default().on_event(move |e| {
                let phase = match e {
                    BuildEvent::Created { .. } => "hashed and created",
                    BuildEvent::UploadStarted { .. } => "archive spooled",
                    BuildEvent::UploadDone { .. } => "uploaded",
                    BuildEvent::Started => "started",
                    _ => return,
                };
                eprintln!("{:>7.2}s {phase}", t0.elapsed().as_secs_f64());
            });
            match client(url).build_in_background(&template, &unique("bench"), &options).await {
                Ok(info) => {
                    eprintln!("uploaded and started {} in {:.2}s", info.template_id, t0.elapsed().as_secs_f64());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }),
        ["many", url, ctx, src, n] => rt.block_on(async {
            let n: usize = n.parse().expect("N");
            let client = client(url);
            let t0 = Instant::now();
            let builds = (0..n).map(|i| {
                let client = client.clone();
                let template = Template::new()
                    .with_context(*ctx)
                    .from_base_image()
                    .copy(*src, "/data")
                    .run_cmd(format!("echo {i}"));
                async move { client.build(&template, &unique("many"), &CloudBuildOptions::default()).await }
            });
            let results = futures_util::future::join_all(builds).await;
            let failed: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
            eprintln!("{n} builds in {:.2}s, {} failed {:?}", t0.elapsed().as_secs_f64(), failed.len(), failed.first());
            if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }),
        _ => {
            eprintln!(
                "usage: upload serve PORT | upload build URL CONTEXT_DIR SRC | upload many URL CONTEXT_DIR SRC N"
            );
            ExitCode::from(2)
        }
    }
}
