//! Shared by the `api` tests: the seed fixture and a client for a local server.

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sandbox_template_runtime::cloud::{BuildEvent, Client, CloudBuildOptions, ConnectionOptions};
use sandbox_template_runtime::{Provider, Template, wait_for_port};
use sandbox_template_server::api::{Server, ServerConfig, ServerHandle};

pub const KEY: &str = "e2b_test_key_0123456789abcdef0123456789ab";

/// The seed build body the official JS SDK sends (wire-transcript.md, JS wire-ok request [4]),
/// with `filesHash` per the Python SDK algorithm (= `vectors/expected/seed.json`, compact).
pub const SEED_WIRE_BODY: &str = r#"{"startCmd":"python -m http.server 8000","readyCmd":"[ -n \"$(ss -Htuln sport = :8000)\" ]","steps":[{"type":"ENV","args":["APP_ENV","prod","GREETING","hello world"],"force":false},{"type":"RUN","args":["pip install --no-cache-dir flask"],"force":false},{"type":"COPY","args":["fixture","/app/fixture","",""],"force":false,"filesHash":"2a59d8fe2add10b0e4a40ae6c7c8e534fb066efaed0914e060294fc2cbb5e5d5"}],"force":false,"fromImage":"python:3.12"}"#;

fn write(path: &Path, text: &str, mode: u32) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn dir(path: &Path) {
    std::fs::create_dir_all(path).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// `vectors/make_fixture.sh`'s `ctx/fixture` (what the seed template copies).
pub fn seed_context() -> tempfile::TempDir {
    let ctx = tempfile::tempdir().unwrap();
    let f = ctx.path().join("fixture");
    dir(ctx.path());
    dir(&f.join("nested/deep"));
    dir(&f.join("nested"));
    dir(&f);
    dir(&f.join("a"));
    write(&f.join("hello.txt"), "hello world\n", 0o644);
    write(&f.join("nested/deep/data.json"), "{\"a\": 1}\n", 0o644);
    write(&f.join("nested/note.md"), "nested text\n", 0o644);
    write(&f.join("run.sh"), "#!/bin/sh\necho run\n", 0o755);
    write(&f.join("ignored.log"), "secret\n", 0o644);
    symlink("hello.txt", f.join("link-to-hello")).unwrap();
    write(&f.join("a-b.txt"), "a-b\n", 0o644);
    write(&f.join("a/z.txt"), "in a\n", 0o644);
    write(&ctx.path().join("top.txt"), "top\n", 0o644);
    ctx
}

/// The seed template of the wire transcript.
pub fn seed_template(ctx: &Path) -> Template {
    Template::new()
        .with_context(ctx)
        .from_python_image("3.12")
        .set_envs([("APP_ENV", "prod"), ("GREETING", "hello world")])
        .run_cmd("pip install --no-cache-dir flask")
        .copy("fixture", "/app/fixture")
        .set_start_cmd("python -m http.server 8000", wait_for_port(8000))
}

pub async fn server() -> ServerHandle {
    Server::start(ServerConfig::new(KEY)).await.unwrap()
}

pub fn client(server: &ServerHandle) -> Client {
    client_with(server, Provider::E2b, |o| o)
}

pub fn client_with(
    server: &ServerHandle,
    provider: Provider,
    f: impl FnOnce(ConnectionOptions) -> ConnectionOptions,
) -> Client {
    let options =
        f(ConnectionOptions::with_api_key(KEY).api_url(server.url()).request_timeout(Duration::from_secs(10)));
    Client::with_options(provider, options).unwrap()
}

/// Build options that record every event.
pub fn recording() -> (CloudBuildOptions, Arc<Mutex<Vec<BuildEvent>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let options = CloudBuildOptions::default()
        .poll_interval(Duration::from_millis(20))
        .on_event(move |e| sink.lock().unwrap().push(e.clone()));
    (options, events)
}

/// The log messages among `events`, in order.
pub fn log_lines(events: &[BuildEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            BuildEvent::Log(l) => Some(l.message.clone()),
            _ => None,
        })
        .collect()
}

/// `method path` on the API at `base` with the test key and an optional JSON body: the status and
/// the answer as JSON (a string when it is not JSON).
pub async fn call_api(
    http: &reqwest::Client,
    base: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut req = http.request(method, format!("{base}{path}")).header("X-API-KEY", KEY);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
}
