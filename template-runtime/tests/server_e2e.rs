//! End to end over loopback HTTP: our client against our server.
#![cfg(feature = "server")]

mod cloud_support;

use cloud_support::*;
use template_runtime::cloud::{BuildEvent, BuildState};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_template_builds_and_sends_the_js_sdk_body() {
    let ctx = seed_context();
    let server = server().await;
    let (options, events) = recording();
    let info = client(&server).build(&seed_template(ctx.path()), "seed:v1", &options.tag("stable")).await.unwrap();
    assert_eq!(info.name, "seed:v1");
    assert_eq!(info.tags, ["v1", "stable"]);

    let requests = server.requests();
    let start = requests.iter().find(|r| r.method == "POST" && r.path.starts_with("/v2/templates/")).unwrap();
    assert_eq!(start.body.as_deref(), Some(SEED_WIRE_BODY));
    let create = requests.iter().find(|r| r.path == "/v3/templates").unwrap();
    assert_eq!(create.body.as_deref(), Some(r#"{"name":"seed:v1","tags":["stable"]}"#));

    // The upload: exact length, no credentials, no SDK headers.
    let put = requests.iter().find(|r| r.method == "PUT").unwrap();
    assert!(put.header("content-length").is_some_and(|l| l.parse::<u64>().unwrap() > 0));
    assert_eq!(put.header("transfer-encoding"), None);
    for h in ["x-api-key", "authorization", "user-agent", "lang", "publisher"] {
        assert_eq!(put.header(h), None, "{h} must not be sent to the upload URL");
    }
    assert_eq!(create.header("x-api-key"), Some("<redacted>"));
    assert!(create.header("user-agent").unwrap().starts_with("sandbox-template-rust/"));

    let events = events.lock().unwrap();
    let lines = log_lines(&events);
    assert!(lines.iter().any(|l| l == "[builder 3/3] COPY fixture /app/fixture"), "{lines:#?}");
    assert!(lines.iter().any(|l| l.contains("filesHash verified")), "{lines:#?}");
    assert!(matches!(events.first(), Some(BuildEvent::Created { .. })));
    assert!(events.iter().any(|e| matches!(e, BuildEvent::UploadDone { step: 3, .. })));
    assert_eq!(events.last(), Some(&BuildEvent::Finished { status: BuildState::Ready }));
}
