//! What a build sends, request by request, for the options and steps the conformance vectors do
//! not reach through a build: `cpu_count`/`memory_mb`/`min_free_disk_mb` (SPEC §E: e2b sends
//! only what is set, novita-sandbox always sends cpu 2 / memory 1024 and never `minFreeDiskMb`),
//! `skip_cache`, `copy_items`, and Novita's missing `gzip` option, against a loopback stand-in
//! that has every archive already (`present: true`) and reports every build ready.

use axum::response::Response;
use sandbox_template_runtime::cloud::{Client, CloudBuildOptions, CloudError, ConnectionOptions};
use sandbox_template_runtime::{CopyItem, CopyOptions, Provider, Rule, Template};
use serde_json::{Value, json};

use crate::support::fake_api::{FakeApi, Recorded, empty, json};

const KEY: &str = "e2b_0123456789abcdef0123456789abcdef01234567";

fn answer(r: &Recorded) -> Response {
    let (m, p) = (r.method.as_str(), r.path.as_str());
    match m {
        "POST" if p == "/v3/templates" => json(202, json!({"templateID": "tpl-1", "buildID": "b-1", "tags": []})),
        "GET" if p.starts_with("/templates/tpl-1/files/") => json(200, json!({"present": true})),
        "POST" if p == "/v2/templates/tpl-1/builds/b-1" => empty(202),
        "GET" if p.ends_with("/status") => {
            json(200, json!({"templateID": "tpl-1", "buildID": "b-1", "status": "ready", "logs": [], "logEntries": []}))
        }
        _ => json(500, json!({"code": 500, "message": "unexpected"})),
    }
}

/// Builds `template` on `provider` with `options`; the create and start bodies as JSON.
async fn build(provider: Provider, template: &Template, options: CloudBuildOptions) -> (Value, Value) {
    let api = FakeApi::start(answer).await;
    let client = Client::with_options(provider, ConnectionOptions::with_api_key(KEY).api_url(api.url.clone())).unwrap();
    client.build(template, "app", &options.no_timeout()).await.unwrap();
    let body = |path: &str| {
        let r = api.requests().into_iter().find(|r| r.method == "POST" && r.path == path).unwrap();
        serde_json::from_slice::<Value>(&r.body).unwrap()
    };
    (body("/v3/templates"), body("/v2/templates/tpl-1/builds/b-1"))
}

fn context() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a.txt", "b.txt"] {
        std::fs::write(dir.path().join(name), name).unwrap();
    }
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2b_sends_cpu_memory_and_disk_only_when_set() {
    let t = Template::new().from_image("debian:12").run_cmd("echo hi");
    let (create, _) = build(Provider::E2b, &t, CloudBuildOptions::default()).await;
    assert_eq!(create, json!({"name": "app"}));
    let options = CloudBuildOptions::default().cpu_count(4).memory_mb(2048).min_free_disk_mb(512);
    let (create, _) = build(Provider::E2b, &t, options).await;
    assert_eq!(create, json!({"name": "app", "cpuCount": 4, "memoryMB": 2048, "minFreeDiskMb": 512}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn novita_always_sends_its_cpu_and_memory_defaults_and_refuses_a_disk_minimum() {
    let t = Template::new().from_image("debian:12").run_cmd("echo hi");
    let (create, _) = build(Provider::Novita, &t, CloudBuildOptions::default()).await;
    assert_eq!(create, json!({"name": "app", "cpuCount": 2, "memoryMB": 1024}));
    let (create, _) = build(Provider::Novita, &t, CloudBuildOptions::default().cpu_count(8)).await;
    assert_eq!(create, json!({"name": "app", "cpuCount": 8, "memoryMB": 1024}));

    let api = FakeApi::start(answer).await;
    let client =
        Client::with_options(Provider::Novita, ConnectionOptions::with_api_key(KEY).api_url(api.url.clone())).unwrap();
    let err = client.build(&t, "app", &CloudBuildOptions::default().min_free_disk_mb(512)).await.unwrap_err();
    let CloudError::Validation(sandbox_template_runtime::Error::Validation(errors)) = &err else { panic!("{err:?}") };
    assert!(matches!(errors.0[0].rule, Rule::NotOnProvider { provider: Provider::Novita, .. }), "{err}");
    assert!(api.requests().is_empty(), "nothing is sent");
}

/// The build option `skip_cache` sets the template's top-level `force` and nothing else, as the
/// SDKs' `build(.., { skipCache })` (SPEC §A.4, `index.ts:1057`); the steps keep their own
/// `force` (the `skip_cache()` builder call is what forces steps).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_cache_forces_the_template_as_the_sdks() {
    let t = Template::new().from_image("debian:12").run_cmd("echo one").skip_cache().run_cmd("echo two");
    let forces = |start: &Value| -> Vec<Value> {
        start["steps"].as_array().unwrap().iter().map(|s| s["force"].clone()).collect()
    };
    let (_, start) = build(Provider::E2b, &t, CloudBuildOptions::default()).await;
    assert_eq!(start["force"], json!(false));
    assert_eq!(forces(&start), [json!(false), json!(true)]);
    let (_, start) = build(Provider::E2b, &t, CloudBuildOptions::default().skip_cache(true)).await;
    assert_eq!(start["force"], json!(true));
    assert_eq!(forces(&start), [json!(false), json!(true)]);
    let (_, start) = build(Provider::Novita, &t, CloudBuildOptions::default().skip_cache(true)).await;
    assert_eq!(start["force"], json!(true));
}

/// `copy_items` is repeated `copy` (SPEC §A.2): the same start body, hashes included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_items_sends_what_repeated_copies_send() {
    let dir = context();
    let items = Template::new().with_context(dir.path()).from_image("debian:12").copy_items([
        CopyItem { src: "a.txt".into(), dest: "/a".into(), options: CopyOptions::new().user("root") },
        CopyItem { src: "b.txt".into(), dest: "/b".into(), options: CopyOptions::new().mode(0o644) },
    ]);
    let copies = Template::new()
        .with_context(dir.path())
        .from_image("debian:12")
        .copy_with("a.txt", "/a", CopyOptions::new().user("root"))
        .copy_with("b.txt", "/b", CopyOptions::new().mode(0o644));
    let (_, from_items) = build(Provider::E2b, &items, CloudBuildOptions::default()).await;
    let (_, from_copies) = build(Provider::E2b, &copies, CloudBuildOptions::default()).await;
    assert_eq!(from_items, from_copies);
    let steps = from_items["steps"].as_array().unwrap();
    assert_eq!(steps[0]["args"], json!(["a.txt", "/a", "root", ""]));
    assert_eq!(steps[1]["args"], json!(["b.txt", "/b", "", "0644"]));
    assert!(steps.iter().all(|s| s["filesHash"].as_str().is_some_and(|h| h.len() == 64)), "{from_items}");
}

/// novita-sandbox has no `gzip` option: a Novita build leaves the key out; E2B sends it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_is_sent_to_e2b_and_left_out_for_novita() {
    let dir = context();
    let t = Template::new().with_context(dir.path()).from_image("debian:12").copy_with(
        "a.txt",
        "/a",
        CopyOptions::new().gzip(true),
    );
    let (_, e2b) = build(Provider::E2b, &t, CloudBuildOptions::default()).await;
    assert_eq!(e2b["steps"][0]["gzip"], json!(true));
    let (_, novita) = build(Provider::Novita, &t, CloudBuildOptions::default()).await;
    let step = novita["steps"][0].as_object().unwrap();
    assert!(!step.contains_key("gzip") && step.contains_key("filesHash"), "{novita}");
}
