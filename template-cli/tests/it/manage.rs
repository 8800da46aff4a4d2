//! `list`, `status`, `exists`, `tags` and `delete` as a user runs them: against the real
//! `serve` API in-process, and against stand-ins for Novita's list and for a hostile service
//! (terminal escapes in every field).

use std::process::Output;

use sandbox_template_runtime::cloud::{Client, CloudBuildOptions, ConnectionOptions};
use sandbox_template_runtime::{Provider, Template};
use sandbox_template_server::{Server, ServerConfig};
use serde_json::{Value, json};

use crate::support::text;

const KEY: &str = "cli-manage-key";

/// Runs the binary against `url` as `provider`, off the async threads.
async fn cli(provider: &str, url: &str, args: &[&str]) -> Output {
    let prefix = if provider == "novita" { "NOVITA" } else { "E2B" };
    let mut cmd = crate::support::bin();
    cmd.args(args).arg("--provider").arg(provider);
    for var in [
        "E2B_API_KEY",
        "E2B_API_URL",
        "E2B_DOMAIN",
        "E2B_DEBUG",
        "NOVITA_API_KEY",
        "NOVITA_API_URL",
        "NOVITA_ACCESS_TOKEN",
    ] {
        cmd.env_remove(var);
    }
    cmd.env(format!("{prefix}_API_KEY"), KEY).env(format!("{prefix}_API_URL"), url);
    tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap()
}

fn out(o: &Output) -> String {
    format!("exit {:?}\nstdout:\n{}\nstderr:\n{}", o.status.code(), text(&o.stdout), text(&o.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_are_managed_through_serve() {
    let server = Server::start(ServerConfig::new(KEY)).await.unwrap();
    let url = server.url();
    let client =
        Client::with_options(Provider::E2b, ConnectionOptions::with_api_key(KEY).api_url(url.clone())).unwrap();
    let template = Template::new().from_base_image().run_cmd("echo managed");
    let info = client.build(&template, "cli-manage", &CloudBuildOptions::default().tag("v1")).await.unwrap();
    let (tid, bid) = (info.template_id.as_str(), info.build_id.as_str());

    let o = cli("e2b", &url, &["exists", "cli-manage"]).await;
    assert_eq!((o.status.code(), text(&o.stdout).as_str()), (Some(0), "cli-manage exists\n"), "{}", out(&o));
    let o = cli("e2b", &url, &["exists", "nope", "--json"]).await;
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert_eq!(serde_json::from_slice::<Value>(&o.stdout).unwrap(), json!({"name": "nope", "exists": false}));

    let o = cli("e2b", &url, &["tags", "add", "cli-manage:v1", "prod", "stable"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(text(&o.stdout).starts_with(&format!("Tagged build {bid}: ")), "{}", out(&o));
    let o = cli("e2b", &url, &["tags", "list", tid, "--json"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let tags: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
    for tag in ["prod", "stable", "v1"] {
        assert!(tags.iter().any(|t| t["tag"] == tag && t["buildID"] == bid), "{tag}: {tags:?}");
    }
    let o = cli("e2b", &url, &["tags", "remove", "cli-manage", "prod"]).await;
    assert_eq!(
        (o.status.code(), text(&o.stdout).as_str()),
        (Some(0), "Removed from cli-manage: prod\n"),
        "{}",
        out(&o)
    );
    let o = cli("e2b", &url, &["tags", "list", tid]).await;
    let listed = text(&o.stdout);
    assert!(listed.starts_with("TAG ") && listed.contains("stable") && !listed.contains("prod"), "{}", out(&o));

    let o = cli("e2b", &url, &["list"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let table = text(&o.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "{table}");
    let cells: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(cells[..4], [tid, "cli-manage", "ready", bid], "{table}");
    let o = cli("e2b", &url, &["list", "--json"]).await;
    let listed: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((listed[0]["templateID"].as_str(), listed[0]["buildCount"].as_u64()), (Some(tid), Some(1)), "{listed}");

    let o = cli("e2b", &url, &["status", tid, bid, "--logs"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(text(&o.stdout).ends_with(&format!("build {bid} of template {tid}: ready\n")), "{}", out(&o));
    let o = cli("e2b", &url, &["status", tid, bid, "--json"]).await;
    let status: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((status["status"].as_str(), status["buildID"].as_str()), (Some("ready"), Some(bid)), "{status}");
    let o = cli("e2b", &url, &["status", tid, "no-such-build"]).await;
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(text(&o.stderr).starts_with("error: 404: "), "{}", out(&o));

    let o = cli("e2b", &url, &["delete", tid]).await;
    assert_eq!(
        (o.status.code(), text(&o.stdout).as_str()),
        (Some(0), format!("Deleted {tid}\n").as_str()),
        "{}",
        out(&o)
    );
    let o = cli("e2b", &url, &["delete", tid, "--json"]).await;
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert_eq!(serde_json::from_slice::<Value>(&o.stdout).unwrap(), json!({"template": tid, "deleted": false}));
    let o = cli("e2b", &url, &["exists", "cli-manage"]).await;
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));

    // A wrong key: an error, exit 2 for `exists` (1 would mean "does not exist").
    let mut cmd = crate::support::bin();
    cmd.args(["exists", "cli-manage"]).env("E2B_API_KEY", "wrong").env("E2B_API_URL", &url);
    let o = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(text(&o.stderr).starts_with("error: Unauthorized"), "{}", out(&o));
}

/// A stand-in answering every request (which must carry the key) with `answer(path, query)`.
async fn stand_in_with(answer: impl Fn(&str, &str) -> Value + Clone + Send + Sync + 'static) -> String {
    use axum::http::{HeaderMap, Uri};
    use axum::response::IntoResponse;
    let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
        let answer = answer.clone();
        async move {
            assert_eq!(headers.get("x-api-key").map(|v| v.to_str().unwrap()), Some(KEY));
            axum::Json(answer(uri.path(), uri.query().unwrap_or(""))).into_response()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// A stand-in answering `GET /v2/templates` with `body`.
async fn stand_in(body: Value) -> String {
    stand_in_with(move |path, _| {
        assert_eq!(path, "/v2/templates");
        body.clone()
    })
    .await
}

fn listed(id: &str, name: &str) -> Value {
    json!({"templateID": id, "buildID": "b-1", "buildStatus": "ready", "names": [name], "aliases": [],
        "cpuCount": 2, "memoryMB": 1024, "updatedAt": "2026-01-01T00:00:00Z"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_prints_a_table_or_json_for_both_providers() {
    let e2b = stand_in(json!([listed("tpl-1", "ns/app")])).await;
    let novita = stand_in(json!({"templates": [listed("tpl-2", "other")], "page": 1, "totalPages": 1})).await;
    for (provider, url, id, name) in [("e2b", &e2b, "tpl-1", "ns/app"), ("novita", &novita, "tpl-2", "other")] {
        let o = cli(provider, url, &["list"]).await;
        assert_eq!(o.status.code(), Some(0), "{}", out(&o));
        let table = text(&o.stdout);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 2, "{table}");
        assert!(lines[0].starts_with("TEMPLATE  NAMES"), "{table}");
        let cells: Vec<&str> = lines[1].split_whitespace().collect();
        assert_eq!(cells, [id, name, "ready", "b-1", "2", "1024", "MiB", "2026-01-01T00:00:00Z"], "{table}");
        let o = cli(provider, url, &["list", "--json"]).await;
        let json: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(json[0]["templateID"], id, "{json}");
        assert_eq!(json[0]["names"], json!([name]), "{json}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_service_cannot_drive_the_terminal() {
    let evil = "x\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}31m\r\u{85}\u{7f}y\nz";
    let url = stand_in(json!([listed(evil, evil)])).await;
    let o = cli("e2b", &url, &["list"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let table = text(&o.stdout);
    let cells: Vec<&str> = table.lines().nth(1).unwrap().split("  ").map(str::trim).filter(|c| !c.is_empty()).collect();
    assert_eq!(cells[..3], ["xy z", "xy z", "ready"], "{table:?}");
    let o = cli("e2b", &url, &["list", "--json"]).await;
    for output in [&table, &text(&o.stdout)] {
        let controls: Vec<char> = output.chars().filter(|c| c.is_control() && *c != '\n').collect();
        assert!(controls.is_empty(), "{controls:?} in {output:?}");
    }
    // The JSON still says exactly what the service sent.
    let json: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json[0]["templateID"], evil);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_prints_a_hostile_log_and_reason_safely() {
    let evil = "x\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}31m\r\u{85}y";
    let url = stand_in_with(move |path, query| {
        assert_eq!(path, "/templates/t/builds/b/status");
        let entries = if query == "logsOffset=0" {
            json!([{"timestamp": evil, "level": evil, "message": evil, "step": evil}])
        } else {
            json!([])
        };
        json!({"templateID": "t", "buildID": evil, "status": "error", "logs": [], "logEntries": entries,
            "reason": {"message": evil, "step": evil, "logEntries": [{"timestamp": "", "level": "error", "message": evil}]}})
    })
    .await;
    let o = cli("e2b", &url, &["status", "t", "b", "--logs"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_eq!(text(&o.stdout), "   xy [xy] xy\nbuild xy of template t: error\nreason (step xy): xy\n  | xy\n");
}
