//! The client treats every server as hostile: a redirect does not take the key elsewhere, a
//! huge body does not fill memory, server text cannot drive the terminal, and a finished build
//! that keeps sending log pages does not keep the client busy.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use sandbox_template_runtime::cloud::{
    BuildEvent, BuildInfo, Client, CloudBuildOptions, CloudError, ConnectionOptions, terminal_safe,
};
use sandbox_template_runtime::{Provider, Template};
use serde_json::json;

use crate::support::fake_api::{FakeApi, json};

const KEY: &str = "e2b_secret_key_that_must_stay_home_0123456789";

fn client(provider: Provider, url: &str) -> Client {
    Client::with_options(provider, ConnectionOptions::with_api_key(KEY).api_url(url.to_owned()).retries(0)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_does_not_carry_the_api_key_to_another_origin() {
    let other = FakeApi::start(|_| json(200, json!([]))).await;
    for status in [301u16, 302, 303, 307, 308] {
        let target = format!("{}/templates/app/tags", other.url);
        let first = FakeApi::start(move |_| {
            Response::builder().status(status).header("location", target.as_str()).body(Body::empty()).unwrap()
        })
        .await;
        for provider in [Provider::E2b, Provider::Novita] {
            let err = client(provider, &first.url).get_tags("app").await.unwrap_err();
            assert!(matches!(err, CloudError::Api { status: s, .. } if s == status), "{status}: {err:?}");
            let shown = err.to_string();
            assert!(shown.contains(&other.url) && shown.contains("not followed"), "{shown}");
            assert!(!shown.contains(KEY), "{shown}");
        }
        assert_eq!(first.requests().len(), 2, "{status}");
        assert!(first.requests().iter().all(|r| r.headers.get("x-api-key").is_some_and(|v| v == KEY)));
    }
    let leaked: Vec<_> = other.requests();
    assert!(
        leaked
            .iter()
            .all(|r| r.headers.values().all(|v| !v.as_bytes().windows(KEY.len()).any(|w| w == KEY.as_bytes()))),
        "the key reached the other origin"
    );
    assert!(leaked.is_empty(), "the redirect was followed: {leaked:?}");
}

/// The peak resident set of this process so far (`VmHWM`), in KiB: what reading a body whole
/// would have raised, even after it was freed.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// An answer of `status` whose body is 300 MiB of `fill`, made as it is sent.
fn huge(status: u16, fill: u8) -> Response {
    const CHUNK: usize = 64 * 1024;
    const TOTAL: usize = 300 << 20;
    let chunks = futures_util::stream::iter(
        (0..TOTAL / CHUNK).map(move |_| Ok::<_, std::io::Error>(axum::body::Bytes::from(vec![fill; CHUNK]))),
    );
    Response::builder().status(status).body(Body::from_stream(chunks)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_answer_is_cut_and_memory_stays_bounded() {
    let error = FakeApi::start(|_| huge(500, b'e')).await;
    let success = FakeApi::start(|_| huge(200, b' ')).await;
    let before = peak_rss_kib();
    let err = client(Provider::E2b, &error.url).get_tags("app").await.unwrap_err();
    let shown = err.to_string();
    assert!(matches!(err, CloudError::Api { status: 500, .. }), "{err:?}");
    assert!(shown.len() < 2_200, "the error shows {} bytes", shown.len());
    assert!(shown.ends_with("(cut: the rest of the server's answer is not shown)"), "{}", &shown[shown.len() - 80..]);

    let err = client(Provider::E2b, &success.url).get_tags("app").await.unwrap_err();
    assert!(matches!(err, CloudError::AnswerTooLarge { limit, .. } if limit == 32 << 20), "{err:?}");
    assert!(err.to_string().contains("larger than 32 MiB"), "{err}");
    let grown_mib = peak_rss_kib().saturating_sub(before) / 1024;
    // Reading either body whole took over 600 MB; a 32 MiB cap plus allocator slack stays far
    // below (measured: 42 MiB alone, more only if other tests peak at the same time).
    assert!(grown_mib < 150, "the peak memory grew by {grown_mib} MiB");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_text_is_made_safe_for_the_terminal() {
    let evil = "\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}31mred\r\u{7}\u{85}done";
    let api = FakeApi::start(move |r| {
        if r.path.ends_with("/status") {
            let first = r.query.iter().any(|(k, v)| k == "logsOffset" && v == "0");
            let entries = if first {
                json!([{"timestamp": "2026-01-01T00:00:00Z", "level": "info\u{1b}[0m", "message": evil, "step": "1\u{7}"}])
            } else {
                json!([])
            };
            json(
                200,
                json!({"templateID": "t", "buildID": "b", "status": "error", "logs": [], "logEntries": entries, "reason": {"message": evil, "step": "1", "logEntries": [
                    {"timestamp": "2026-01-01T00:00:00Z", "level": "error", "message": evil}
                ]}}),
            )
        } else {
            json(400, json!({"code": 400, "message": evil}))
        }
    })
    .await;
    let c = client(Provider::E2b, &api.url);
    let err = c.get_tags("app").await.unwrap_err();
    assert_eq!(err.to_string(), "400: reddone");

    let lines = Arc::new(Mutex::new(Vec::new()));
    let seen = lines.clone();
    let options = CloudBuildOptions::default().poll_interval(Duration::ZERO).on_event(move |e| {
        if let BuildEvent::Log(entry) = e {
            seen.lock().unwrap().push(entry.clone());
        }
    });
    let info = BuildInfo { template_id: "t".into(), build_id: "b".into(), name: "app".into(), tags: vec![] };
    let template = Template::new().from_base_image().run_cmd("true");
    let err = c.wait_for_build(&template, &info, &options).await.unwrap_err();
    let CloudError::BuildFailed { message, logs, .. } = &err else { panic!("{err:?}") };
    assert_eq!(message, "reddone");
    assert_eq!(logs, &["reddone"]);
    assert!(err.to_string().starts_with("build failed at step 1: reddone"), "{err}");
    let lines = lines.lock().unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!((lines[0].message.as_str(), lines[0].level.as_str()), ("reddone", "info"));
    assert_eq!(lines[0].step.as_deref(), Some("1"));
    assert_eq!(terminal_safe(&lines[0].message), lines[0].message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_build_that_keeps_sending_full_log_pages_is_drained_a_bounded_number_of_times() {
    let api = FakeApi::start(|r| {
        let offset: usize = r.query.iter().find(|(k, _)| k == "logsOffset").map(|(_, v)| v.parse().unwrap()).unwrap();
        let entries: Vec<_> = (offset..offset + 100)
            .map(|i| json!({"timestamp": "2026-01-01T00:00:00Z", "level": "info", "message": format!("line {i}")}))
            .collect();
        json(200, json!({"templateID": "t", "buildID": "b", "status": "ready", "logs": [], "logEntries": entries}))
    })
    .await;
    let events = Arc::new(Mutex::new((0usize, None)));
    let seen = events.clone();
    let options = CloudBuildOptions::default().on_event(move |e| {
        let mut seen = seen.lock().unwrap();
        match e {
            BuildEvent::Log(_) => seen.0 += 1,
            BuildEvent::LogTruncated { lines } => seen.1 = Some(*lines),
            _ => {}
        }
    });
    let info = BuildInfo { template_id: "t".into(), build_id: "b".into(), name: "app".into(), tags: vec![] };
    let template = Template::new().from_base_image().run_cmd("true");
    let waited = tokio::time::timeout(
        Duration::from_secs(300),
        client(Provider::E2b, &api.url).wait_for_build(&template, &info, &options),
    )
    .await;
    waited.expect("the drain loop did not stop").unwrap();
    let requests = api.requests().len();
    // The first status, then at most 1000 more pages.
    assert_eq!(requests, 1001);
    let (lines, truncated) = *events.lock().unwrap();
    assert_eq!(lines, 100 * 1001);
    assert_eq!(truncated, Some(100 * 1001));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_build_that_never_ends_times_out() {
    let api = FakeApi::start(|_| {
        json(200, json!({"templateID": "t", "buildID": "b", "status": "building", "logs": [], "logEntries": []}))
    })
    .await;
    let info = BuildInfo { template_id: "t".into(), build_id: "b".into(), name: "app".into(), tags: vec![] };
    let template = Template::new().from_base_image().run_cmd("true");
    let options =
        CloudBuildOptions::default().timeout(Duration::from_millis(500)).poll_interval(Duration::from_millis(20));
    let err = client(Provider::E2b, &api.url).wait_for_build(&template, &info, &options).await.unwrap_err();
    assert!(matches!(err, CloudError::BuildTimeout { .. }), "{err:?}");
}
