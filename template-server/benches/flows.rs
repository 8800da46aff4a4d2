//! Flow benchmark driver for a running `sandbox-template serve` (not a criterion bench: a flow
//! rate against a separate server process is what matters, timed by `bench/flows.sh` with
//! hyperfine, and that server's RSS read from `/proc`).
//!
//! ```text
//! flows run URL CONTEXT_DIR N CONCURRENCY  # N full flows, CONCURRENCY at a time
//! flows polls URL PID N                    # one flow, then N status polls; VmRSS of PID before/after
//! ```
//!
//! A flow is what a client does for one template: hash, create, files check, upload (forced, so
//! every flow stores an archive), start, and poll the status to `ready` (50 ms apart). The server
//! is meant to run with `--engine none`: each build unpacks its archive and stages a Dockerfile.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sandbox_template_runtime::cloud::{Client, CloudBuildOptions, ConnectionOptions};
use sandbox_template_runtime::{CopyOptions, Provider, Template};

const KEY: &str = "bench-key";

fn client(url: &str, in_flight: usize) -> Client {
    let options = ConnectionOptions::with_api_key(KEY)
        .api_url(url)
        .request_timeout(Duration::from_secs(600))
        .max_in_flight(in_flight);
    Client::with_options(Provider::E2b, options).expect("client")
}

fn unique(prefix: &str, i: usize) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    format!("{prefix}-{}-{nanos}-{i}", std::process::id())
}

fn template(ctx: &str, i: usize) -> Template {
    Template::new()
        .with_context(ctx)
        .from_base_image()
        .copy_with("data", "/data", CopyOptions::new().force_upload(true))
        .run_cmd(format!("echo {i}"))
}

fn options() -> CloudBuildOptions {
    CloudBuildOptions::default().poll_interval(Duration::from_millis(50))
}

/// `VmRSS` of `pid` in KiB.
fn rss_kib(pid: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the server's /proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["run", url, ctx, n, concurrency] => rt.block_on(async {
            let n: usize = n.parse().expect("N");
            let concurrency: usize = concurrency.parse().expect("CONCURRENCY");
            let client = client(url, concurrency);
            let gate = Arc::new(tokio::sync::Semaphore::new(concurrency));
            let t0 = Instant::now();
            let flows = (0..n).map(|i| {
                let (client, gate, template) = (client.clone(), gate.clone(), template(ctx, i));
                tokio::spawn(async move {
                    let _slot = gate.acquire_owned().await.expect("gate");
                    client.build(&template, &unique("flow", i), &options()).await.map(|_| ())
                })
            });
            let results = futures_util::future::join_all(flows).await;
            let failed: Vec<String> = results
                .into_iter()
                .filter_map(|r| match r {
                    Ok(Ok(())) => None,
                    Ok(Err(e)) => Some(e.to_string()),
                    Err(e) => Some(e.to_string()),
                })
                .collect();
            let secs = t0.elapsed().as_secs_f64();
            eprintln!("{n} flows ({concurrency} at a time) in {secs:.2}s: {:.1} flows/s", n as f64 / secs);
            match failed.first() {
                None => ExitCode::SUCCESS,
                Some(first) => {
                    eprintln!("{} failed, first: {first}", failed.len());
                    ExitCode::FAILURE
                }
            }
        }),
        ["polls", url, pid, n] => rt.block_on(async {
            let n: usize = n.parse().expect("N");
            let client = client(url, 8);
            let ctx = std::env::var("FLOWS_CTX").unwrap_or_else(|_| "/tmp/flows-ctx".to_owned());
            let info = client.build(&template(&ctx, 0), &unique("polls", 0), &options()).await.expect("one flow");
            let before = rss_kib(pid);
            let t0 = Instant::now();
            for i in 0..n {
                // Alternate offsets so both the first page and an empty page are served.
                client.build_status(&info.template_id, &info.build_id, i % 2 * 1000).await.expect("status");
            }
            let after = rss_kib(pid);
            println!(
                "{n} status polls in {:.2}s; server VmRSS before {before} KiB, after {after} KiB ({:+} KiB)",
                t0.elapsed().as_secs_f64(),
                after as i64 - before as i64
            );
            ExitCode::SUCCESS
        }),
        _ => {
            eprintln!("usage: flows run URL CONTEXT_DIR N CONCURRENCY | flows polls URL PID N");
            ExitCode::from(2)
        }
    }
}
