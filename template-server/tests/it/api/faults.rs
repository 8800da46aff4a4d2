//! The client against a misbehaving server: rate limits, gateway errors, dropped connections,
//! slow answers. Builds still succeed where retrying is safe, no log line is lost or repeated,
//! and no second template is ever created.
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::cloud::*;
use sandbox_template_runtime::Template;
use sandbox_template_runtime::cloud::{CloudBuildOptions, CloudError, UploadError};
use sandbox_template_server::api::{FaultAction, Server, ServerConfig, ServerHandle};
use sandbox_template_server::runner::{BoxFuture, BuildJob, BuildLog, BuildRunner, StepFailure};
use sandbox_template_server::store::Store;

fn status(code: u16, retry_after: Option<u64>) -> FaultAction {
    FaultAction::Status { code, retry_after, message: format!("injected {code}") }
}

fn count(server: &ServerHandle, method: &str, path_contains: &str) -> usize {
    server.requests().iter().filter(|r| r.method == method && r.path.contains(path_contains)).count()
}

/// Emits `lines` numbered log lines, a few at a time, so the client polls while they appear; the
/// last `held` lines wait for `release`, so that the build is still running while every injected
/// fault is hit, however fast or loaded the machine is.
struct SlowLogRunner {
    lines: usize,
    held: usize,
    release: Arc<std::sync::atomic::AtomicBool>,
}

impl BuildRunner for SlowLogRunner {
    fn run<'a>(&'a self, _job: &'a BuildJob, log: &'a BuildLog) -> BoxFuture<'a, Result<(), StepFailure>> {
        Box::pin(async move {
            for i in 0..self.lines {
                if i == self.lines - self.held {
                    // Bounded: a test that never releases fails on its own assertions, not by hanging.
                    for _ in 0..1200 {
                        if self.release.load(std::sync::atomic::Ordering::SeqCst) {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
                log.info(Some("1"), format!("line {i}"));
                if i % 10 == 9 {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            Ok(())
        })
    }
}

/// Never finishes.
struct StuckRunner;

impl BuildRunner for StuckRunner {
    fn run<'a>(&'a self, _job: &'a BuildJob, log: &'a BuildLog) -> BoxFuture<'a, Result<(), StepFailure>> {
        Box::pin(async move {
            log.info(None, "working");
            std::future::pending().await
        })
    }
}

async fn server_with(runner: impl BuildRunner) -> ServerHandle {
    Server::start_with(ServerConfig::new(KEY), Store::temporary().unwrap(), Arc::new(runner)).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_is_retried_after_retry_after() {
    let ctx = seed_context();
    let server = server().await;
    server.faults().add(Some("POST"), "/v3/templates", 1, status(429, Some(1)));
    let started = Instant::now();
    client(&server).build(&seed_template(ctx.path()), "limited", &recording().0).await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After: 1 must be honoured");
    assert_eq!(count(&server, "POST", "/v3/templates"), 2);
    assert_eq!(server.store().templates().await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_errors_are_retried_everywhere_it_is_safe() {
    let ctx = seed_context();
    let server = server().await;
    let f = server.faults();
    f.add(Some("POST"), "/v3/templates", 1, status(502, None));
    f.add(Some("POST"), "/v3/templates", 1, status(503, None));
    f.add(Some("POST"), "/v3/templates", 1, status(504, None));
    f.add(Some("GET"), "/files/", 1, status(503, None));
    f.add(Some("PUT"), "/upload/", 1, status(500, None));
    f.add(Some("POST"), "/v2/templates/", 1, status(503, None));
    f.add(Some("GET"), "/status", 1, status(502, None));
    f.add(Some("GET"), "/status", 1, status(504, None));
    let (options, events) = recording();
    client(&server).build(&seed_template(ctx.path()), "gateway", &options).await.unwrap();
    assert_eq!(f.pending(), 0, "every fault was hit");
    assert_eq!(server.store().templates().await.unwrap().len(), 1, "retries never create a second template");
    let lines = log_lines(&events.lock().unwrap());
    let unique: std::collections::HashSet<_> = lines.iter().collect();
    assert_eq!(unique.len(), lines.len(), "no repeated log line: {lines:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_are_bounded() {
    let server = server().await;
    server.faults().add(Some("POST"), "/v3/templates", 10, status(503, None));
    let client = client_with(&server, sandbox_template_runtime::Provider::E2b, |o| o.retries(2));
    let err =
        client.build(&Template::new().from_base_image(), "busy", &CloudBuildOptions::default()).await.unwrap_err();
    assert!(matches!(err, CloudError::ServiceBusy { status: 503, .. }), "{err:?}");
    assert_eq!(count(&server, "POST", "/v3/templates"), 3, "1 try + 2 retries");

    server.faults().clear();
    server.faults().add(Some("POST"), "/v3/templates", 10, status(429, Some(0)));
    let err =
        client.build(&Template::new().from_base_image(), "limited", &CloudBuildOptions::default()).await.unwrap_err();
    assert!(matches!(err, CloudError::RateLimit { .. }), "{err:?}");
    assert!(err.to_string().starts_with("Rate limit exceeded"), "{err}");

    // 4xx other than 429 are not retried.
    server.faults().clear();
    server.faults().add(Some("POST"), "/v3/templates", 1, status(403, None));
    let before = count(&server, "POST", "/v3/templates");
    let err =
        client.build(&Template::new().from_base_image(), "forbidden", &CloudBuildOptions::default()).await.unwrap_err();
    assert_eq!(err.to_string(), "403: injected 403");
    assert_eq!(count(&server, "POST", "/v3/templates"), before + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connections_do_not_create_a_second_template() {
    let ctx = seed_context();
    let server = server().await;
    // Dropped before the server acted, then after it acted (the client cannot know which).
    server.faults().add(Some("POST"), "/v3/templates", 1, FaultAction::DropConnection);
    server.faults().add(Some("POST"), "/v3/templates", 1, FaultAction::DropAfterHandling);
    server.faults().add(Some("GET"), "/files/", 1, FaultAction::DropConnection);
    server.faults().add(Some("GET"), "/status", 2, FaultAction::DropAfterHandling);
    client(&server).build(&seed_template(ctx.path()), "dropped", &recording().0).await.unwrap();
    assert_eq!(server.faults().pending(), 0);
    let templates = server.store().templates().await.unwrap();
    assert_eq!(templates.len(), 1, "{templates:#?}");
    assert_eq!(templates[0].builds.len(), 2, "the create that was acted on left one unstarted build");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_that_may_have_been_acted_on_is_not_repeated() {
    let server = server().await;
    server.faults().add(Some("POST"), "/v2/templates/", 1, FaultAction::DropAfterHandling);
    let err = client(&server).build(&Template::new().from_base_image(), "once", &recording().0).await.unwrap_err();
    assert!(matches!(err, CloudError::Connection { .. }), "{err:?}");
    assert!(err.to_string().starts_with("connection to the build service failed while sending the request: "), "{err}");
    assert_eq!(count(&server, "POST", "/v2/templates/"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_answers_time_out_and_are_retried() {
    let server = server().await;
    let fast_timeout =
        |o: sandbox_template_runtime::cloud::ConnectionOptions| o.request_timeout(Duration::from_millis(300));
    // One slow status answer: timed out, retried, the build completes.
    server.faults().add(Some("GET"), "/status", 1, FaultAction::Delay(Duration::from_secs(3)));
    let client = client_with(&server, sandbox_template_runtime::Provider::E2b, fast_timeout);
    client.build(&Template::new().from_base_image(), "slow-once", &recording().0).await.unwrap();
    // Always slow: a timeout error after the retries.
    server.faults().add(Some("GET"), "/status", 10, FaultAction::Delay(Duration::from_secs(3)));
    let err = client.build(&Template::new().from_base_image(), "slow", &recording().0).await.unwrap_err();
    assert!(matches!(err, CloudError::RequestTimeout { .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_lines_survive_transient_failures_exactly_once_in_order() {
    let release = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let server = server_with(SlowLogRunner { lines: 330, held: 30, release: release.clone() }).await;
    let f = server.faults();
    // Spread over the polls: each failure is followed by successful polls.
    let faults = [
        status(502, None),
        FaultAction::DropConnection,
        FaultAction::DropAfterHandling,
        status(429, Some(0)),
        status(503, None),
        FaultAction::Delay(Duration::from_secs(2)),
        status(504, None),
        FaultAction::DropAfterHandling,
    ];
    for (i, fault) in faults.into_iter().enumerate() {
        f.add_after(Some("GET"), "/status", 2 * i as u32, 1, fault);
    }
    let client = client_with(&server, sandbox_template_runtime::Provider::E2b, |o| {
        o.request_timeout(Duration::from_millis(500))
    });
    let (options, events) = recording();
    // The last lines are held back until every fault was hit (at most a minute).
    let all_hit = async {
        for _ in 0..1200 {
            if f.pending() == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        release.store(true, std::sync::atomic::Ordering::SeqCst);
    };
    let template = Template::new().from_base_image();
    let (built, ()) = tokio::join!(client.build(&template, "logs", &options), all_hit);
    built.unwrap();
    assert_eq!(f.pending(), 0, "every fault was hit");
    let lines = log_lines(&events.lock().unwrap());
    let want: Vec<String> = (0..330).map(|i| format!("line {i}")).collect();
    assert_eq!(lines, want);
    // Drained to the end: the last answered poll asked past the last line (an empty page).
    let offsets: Vec<String> = server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/status") && r.status == 200)
        .map(|r| r.query.clone())
        .collect();
    assert_eq!(offsets.last().map(String::as_str), Some("logsOffset=330"), "{offsets:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_errors_name_the_source() {
    let ctx = seed_context();
    let server = server().await;
    server.faults().add(Some("PUT"), "/upload/", 1, status(403, None));
    let err = client(&server).build(&seed_template(ctx.path()), "denied", &recording().0).await.unwrap_err();
    match &err {
        CloudError::Upload { src, source } => {
            assert_eq!(src, "fixture");
            assert!(matches!(source, UploadError::Rejected { status: 403, .. }), "{source:?}");
            assert!(err.to_string().contains("403"), "{err}");
        }
        other => panic!("expected an upload error, got {other:?}"),
    }
    assert_eq!(count(&server, "POST", "/v2/templates/"), 0, "a build whose upload failed is not started");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overall_timeout_stops_a_build_that_never_ends() {
    let server = server_with(StuckRunner).await;
    let options = recording().0.timeout(Duration::from_millis(500));
    let err = client(&server).build(&Template::new().from_base_image(), "stuck", &options).await.unwrap_err();
    assert!(matches!(err, CloudError::BuildTimeout { limit } if limit == Duration::from_millis(500)), "{err:?}");
    assert!(err.to_string().contains("did not finish"), "{err}");
}

/// Dropping the build future cancels everything: no task of the client is left running, and no
/// request is sent after the drop.
#[test]
fn a_cancelled_build_leaves_nothing_running() {
    let server_rt = tokio::runtime::Runtime::new().unwrap();
    let server = server_rt.block_on(server_with(StuckRunner));
    let ctx = seed_context();
    // Uploads in flight (slow PUT) while polling would be next: cancel mid-upload, then mid-poll.
    for (name, fault) in [("cancel-upload", "/upload/"), ("cancel-poll", "/status")] {
        server.faults().add(None, fault, 1, FaultAction::Delay(Duration::from_secs(30)));
        let client_rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let client = client(&server);
        let template = seed_template(ctx.path());
        let task = client_rt.spawn({
            let client = client.clone();
            async move { client.build(&template, name, &CloudBuildOptions::default().tag(name)).await }
        });
        // Wait until the slow request is in flight.
        let deadline = Instant::now() + Duration::from_secs(20);
        while !server.requests().iter().any(|r| r.path.contains(fault)) {
            assert!(Instant::now() < deadline, "{name}: the build never reached {fault}");
            std::thread::sleep(Duration::from_millis(10));
        }
        task.abort();
        drop(client);
        let sent = server.requests().len();
        // Every task of the client's runtime ends (pooled connections close with the client).
        let deadline = Instant::now() + Duration::from_secs(20);
        while client_rt.metrics().num_alive_tasks() > 0 {
            assert!(Instant::now() < deadline, "{name}: tasks still alive after cancel");
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(server.requests().len(), sent, "{name}: no request after the cancel");
        client_rt.shutdown_timeout(Duration::from_secs(5));
    }
    drop(server);
}
