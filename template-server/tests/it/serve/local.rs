//! `serve`: the build API with the local engine and a data folder. Our cloud client builds
//! against it; restarts keep state; builds without an engine stage only and say so.
//!
//! The engine tests need Podman or Docker and the busybox base image `.ci/setup-podman.sh` makes:
//! without them they fail when `CI` is set and print a loud notice elsewhere.
use std::path::Path;
use std::time::Duration;

use sandbox_template_runtime::cloud::{BuildState, Client, CloudBuildOptions, ConnectionOptions};
use sandbox_template_runtime::local::EnginePreference;
use sandbox_template_runtime::{
    AptOptions, CopyOptions, EnvOptions, FileOptions, GitCloneOptions, MakeDirOptions, PipOptions, Provider,
    RemoveOptions, Template, wait_for_port,
};
use sandbox_template_server::runner::NO_IMAGE_BUILT;
use sandbox_template_server::store::{INTERRUPTED, Store};
use sandbox_template_server::{ServeOptions, Serving};

use crate::support::engine::{Images, base_image, run_in};

const KEY: &str = "serve-test-key";

/// The engine, or `None` (with a loud notice) when none can run here and `CI` is unset.
fn engine() -> Option<crate::support::engine::EngineTest> {
    crate::support::engine::engine("serve engine tests")
}

fn client(serving: &Serving) -> Client {
    Client::with_options(Provider::E2b, ConnectionOptions::with_api_key(KEY).api_url(serving.server.url())).unwrap()
}

fn context() -> tempfile::TempDir {
    let ctx = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(ctx.path().join("app/sub")).unwrap();
    std::fs::write(ctx.path().join("app/hello.txt"), "hello from the context\n").unwrap();
    std::fs::write(ctx.path().join("app/sub/data.json"), "{\"a\": 1}\n").unwrap();
    ctx
}

async fn status_json(serving: &Serving, template_id: &str, build_id: &str) -> serde_json::Value {
    let url = format!("{}/templates/{template_id}/builds/{build_id}/status", serving.server.url());
    let resp = reqwest::Client::new().get(url).header("X-API-KEY", KEY).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

fn messages(status: &serde_json::Value) -> Vec<String> {
    status["logEntries"].as_array().unwrap().iter().map(|e| e["message"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_engine_a_build_is_staged_says_no_image_was_built_and_survives_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let ctx = context();
    let serving = ServeOptions::new(data.path(), KEY).without_engine().start().await.unwrap();
    assert!(serving.engine_description().contains("no image is built"));
    let template = Template::new()
        .with_context(ctx.path())
        .from_image("busybox:latest")
        .set_envs([("GREETING", "hi")])
        .copy("app", "/app")
        .set_start_cmd("sleep 1000", wait_for_port(8000));
    let info = client(&serving).build(&template, "staged", &CloudBuildOptions::default()).await.unwrap();

    let status = status_json(&serving, &info.template_id, &info.build_id).await;
    assert_eq!(status["status"], "ready");
    assert_eq!(messages(&status).last().map(String::as_str), Some(NO_IMAGE_BUILT));
    let staged = data.path().join("builds").join(&info.build_id);
    assert_eq!(std::fs::read_to_string(staged.join("context/app/hello.txt")).unwrap(), "hello from the context\n");
    let dockerfile = std::fs::read_to_string(staged.join("Dockerfile")).unwrap();
    assert!(dockerfile.contains("FROM busybox:latest"), "{dockerfile}");
    assert!(dockerfile.contains("COPY"), "{dockerfile}");
    serving.server.shutdown().await;

    // A new server over the same folder knows the template, the build, its status and its log.
    let serving = ServeOptions::new(data.path(), KEY).without_engine().start().await.unwrap();
    let again = status_json(&serving, &info.template_id, &info.build_id).await;
    assert_eq!(again["status"], "ready");
    assert_eq!(messages(&again), messages(&status));
    assert!(client(&serving).exists("staged").await.unwrap());
    // The uploaded archive is still there: a second build skips the upload.
    let (options, uploads_skipped) = {
        let skipped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let s = skipped.clone();
        let o = CloudBuildOptions::default().on_event(move |e| {
            if matches!(e, sandbox_template_runtime::cloud::BuildEvent::UploadSkipped { .. }) {
                s.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        });
        (o, skipped)
    };
    client(&serving).build(&template, "staged", &options).await.unwrap();
    assert!(uploads_skipped.load(std::sync::atomic::Ordering::SeqCst), "the upload should be cached across restarts");
    serving.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_build_running_when_the_server_stopped_is_marked_failed_on_restart() {
    let data = tempfile::tempdir().unwrap();
    let (template_id, build_id) = {
        let store = Store::open(data.path()).unwrap();
        let (t, b) = store.create_build("half", &["default".to_owned()], None, None).await.unwrap();
        store.start_build(&t.id, &b.build_id, serde_json::json!({"steps": []})).await.unwrap();
        assert_eq!(store.build(&t.id, &b.build_id).await.unwrap().unwrap().status, BuildState::Building);
        (t.id, b.build_id)
    }; // the "server" stops here, mid-build
    let store = Store::open(data.path()).unwrap();
    let build = store.build(&template_id, &build_id).await.unwrap().unwrap();
    assert_eq!(build.status, BuildState::Error);
    assert_eq!(build.reason.unwrap().message, INTERRUPTED);
    let log = store.logs(&template_id, &build_id, 0, 100).await.unwrap();
    assert!(log.last().unwrap().message.contains(INTERRUPTED), "{log:?}");
    // Opening again changes nothing more: the build is terminal now.
    drop(store);
    let store = Store::open(data.path()).unwrap();
    assert_eq!(store.logs(&template_id, &build_id, 0, 100).await.unwrap().len(), log.len());
}

/// pip, npm, apt and git cannot run on the offline busybox base: their steps are covered here,
/// without an engine: validated, staged, and rendered into the Dockerfile as the SDKs send them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn package_and_git_steps_are_validated_and_staged_without_an_engine() {
    let data = tempfile::tempdir().unwrap();
    let serving = ServeOptions::new(data.path(), KEY).without_engine().start().await.unwrap();
    let template = Template::new()
        .from_image("python:3.12")
        .pip_install_with(["flask"], PipOptions::new().global(false))
        .npm_install(["left-pad"])
        .apt_install_with(["curl"], AptOptions::new().no_install_recommends(true))
        .git_clone_with("https://example.com/r.git", GitCloneOptions::new().path("/src").depth(1));
    let info = client(&serving).build(&template, "packages", &CloudBuildOptions::default()).await.unwrap();
    let status = status_json(&serving, &info.template_id, &info.build_id).await;
    assert_eq!(status["status"], "ready");
    let dockerfile =
        std::fs::read_to_string(data.path().join("builds").join(&info.build_id).join("Dockerfile")).unwrap();
    for wanted in ["pip install --user flask", "npm install left-pad", "--no-install-recommends curl", "git clone"] {
        assert!(dockerfile.contains(wanted), "`{wanted}` missing from\n{dockerfile}");
    }
    serving.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_and_keys_are_refused_with_a_message() {
    let data = tempfile::tempdir().unwrap();
    let serving = ServeOptions::new(data.path(), KEY).without_engine().start().await.unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/v3/templates", serving.server.url());
    let resp = http.post(&url).header("X-API-KEY", "wrong").body("{}").send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let resp = http.post(&url).header("X-API-KEY", KEY).body("{\"name\": 5}").send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("`name` must be a string"));
    serving.server.shutdown().await;
}

/// Every step kind busybox can run, through our client and `serve` into a real image, which then
/// holds the copied files, the env and the results of the file operations. The client only
/// starts the build and goes away: the build finishes on the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_builds_a_real_image_that_holds_the_files_and_env() {
    let Some(engine) = engine() else { return };
    let name = format!("sandbox-template-test/serve-{}", std::process::id());
    let _guard = Images(engine.clone(), vec![name.clone()]);
    let data = tempfile::tempdir().unwrap();
    let ctx = context();
    let serving = ServeOptions::new(data.path(), KEY).engine(EnginePreference::Auto).start().await.unwrap();
    assert!(serving.engine.is_some());
    let template = every_step_kind(ctx.path());
    let info = client(&serving).build_in_background(&template, &name, &CloudBuildOptions::default()).await.unwrap();
    // The client is gone; the build goes on. Poll the server's own record.
    let store = serving.server.store().clone();
    let deadline = std::time::Instant::now() + Duration::from_secs(600);
    let status = loop {
        let b = store.build(&info.template_id, &info.build_id).await.unwrap().unwrap();
        if b.status.is_terminal() || std::time::Instant::now() > deadline {
            break b;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let log: Vec<String> = store
        .logs(&info.template_id, &info.build_id, 0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.message)
        .collect();
    assert_eq!(status.status, BuildState::Ready, "{:?}\n{}", status.reason, log.join("\n"));
    assert!(log.iter().any(|l| l.starts_with("Ready check passed")), "{}", log.join("\n"));

    let out = run_in(
        &engine,
        &name,
        "cat /app/hello.txt /app/sub/data.json; echo \"$GREETING|$MODE\"; pwd; id -un; \
         ls /data; readlink /app/link; cat /app/renamed.txt; [ -e /app/gone ] || echo gone",
    );
    assert_eq!(
        out,
        "hello from the context\n{\"a\": 1}\nhello world|prod\n/app\nuser\nkept\n/app/hello.txt\nmoved\ngone\n"
    );
    serving.server.shutdown().await;
}

fn every_step_kind(ctx: &Path) -> Template {
    // Steps run as `user` unless the template says otherwise, as in the cloud: folders at `/`
    // need root.
    Template::new()
        .with_context(ctx)
        .from_image(base_image())
        .set_user("root")
        .set_envs([("GREETING", "hello world"), ("MODE", "prod")])
        .copy_with("app", "/app", CopyOptions::new().user("user"))
        .run_cmd("echo moved > /tmp/move.txt && touch /app/gone")
        .make_dir_with("/data", MakeDirOptions::new().mode(0o755))
        .run_cmd("touch /data/kept")
        .rename_with("/tmp/move.txt", "/app/renamed.txt", FileOptions::new())
        .make_symlink("/app/hello.txt", "/app/link")
        .remove_with("/app/gone", RemoveOptions::new().force(true))
        .set_workdir("/app")
        .set_user("user")
        .set_start_cmd("busybox httpd -f -p 8000 -h /app", wait_for_port(8000))
}

/// `Target::Local` gives what a cloud build gives: the same events, `BuildInfo`, and a failing
/// step reported as `BuildFailed` at that step, pointing at the builder call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn building_on_the_local_target_reports_like_the_cloud() {
    use sandbox_template_runtime::cloud::{BuildEvent, CloudError};
    use sandbox_template_server::{Target, TargetError, build_on};
    let Some(engine) = engine() else { return };
    let name = format!("sandbox-template-test/target-{}", std::process::id());
    let _guard = Images(engine.clone(), vec![name.clone()]);
    let ctx = context();
    let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = events.clone();
    let options = CloudBuildOptions::default().on_event(move |e| sink.lock().unwrap().push(e.clone()));
    let template = Template::new().with_context(ctx.path()).from_image(base_image()).copy("app", "/app");
    let target: Target = "local".parse().unwrap();
    let info = build_on(&template, &name, target, &options).await.unwrap();
    assert_eq!(info.name, name);
    assert_eq!(run_in(&engine, &name, "cat /app/hello.txt"), "hello from the context\n");
    let events = events.lock().unwrap().clone();
    assert!(matches!(events.first(), Some(BuildEvent::Created { .. })), "{events:?}");
    assert!(events.iter().any(|e| matches!(e, BuildEvent::UploadDone { step: 1, .. })), "{events:?}");
    assert_eq!(events.last(), Some(&BuildEvent::Finished { status: BuildState::Ready }));

    let failing = template.run_cmd("echo about to fail && exit 3");
    let line = line!() - 1;
    let err = build_on(&failing, &name, target, &CloudBuildOptions::default()).await.unwrap_err();
    let TargetError::Build(CloudError::BuildFailed { step, location, message, .. }) = err else {
        panic!("expected BuildFailed, got {err:?}")
    };
    assert_eq!(step.as_deref(), Some("2"));
    assert_eq!(location.map(|l| (l.file, l.line)), Some((file!(), line)));
    assert!(message.contains("exit 3") || message.contains("exit status 3"), "{message}");
}

/// Processes whose command line contains `marker`.
fn processes_with(marker: &str) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(Result::ok)
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
            String::from_utf8_lossy(&cmdline).contains(marker).then_some(pid)
        })
        .collect()
}

/// Stopping the server stops its running builds (the engine and the step's processes), and the
/// next start over the same data folder reports them interrupted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_server_stops_a_running_build_which_is_then_reported_interrupted() {
    let Some(engine) = engine() else { return };
    let marker = format!("tick-{}", std::process::id());
    let name = format!("sandbox-template-test/stopped-{}", std::process::id());
    let _guard = Images(engine.clone(), vec![name.clone()]);
    let data = tempfile::tempdir().unwrap();
    let serving = ServeOptions::new(data.path(), KEY).engine(EnginePreference::Auto).start().await.unwrap();
    let template =
        Template::new().from_image(base_image()).run_cmd(format!("while true; do echo {marker}; sleep 1; done"));
    let info = client(&serving).build_in_background(&template, &name, &CloudBuildOptions::default()).await.unwrap();
    let store = serving.server.store().clone();
    let mut running = false;
    for _ in 0..600 {
        let log = store.logs(&info.template_id, &info.build_id, 0, 100_000).await.unwrap();
        running = log.iter().any(|e| e.message == marker) && !processes_with(&marker).is_empty();
        if running {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(running, "the step never started");
    serving.server.shutdown().await;
    let mut left = processes_with(&marker);
    for _ in 0..150 {
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        left = processes_with(&marker);
    }
    assert!(left.is_empty(), "the step still runs after the server stopped: pids {left:?}");
    drop(store);

    let serving = ServeOptions::new(data.path(), KEY).without_engine().start().await.unwrap();
    let status = status_json(&serving, &info.template_id, &info.build_id).await;
    assert_eq!(status["status"], "error");
    assert_eq!(status["reason"]["message"], INTERRUPTED);
    serving.server.shutdown().await;
}

/// The same template gives the same Dockerfile whether the local engine builds it directly or it
/// travels through a client and `serve` (wire form and back), for every step kind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_sent_through_serve_gives_the_dockerfile_of_a_direct_local_build() {
    use sandbox_template_runtime::local::{LocalDockerfile, LocalDockerfileOptions};
    let data = tempfile::tempdir().unwrap();
    let ctx = context();
    let serving = ServeOptions::new(data.path(), KEY).without_engine().start().await.unwrap();
    let template = Template::new()
        .with_context(ctx.path())
        .from_image("python:3.12")
        .set_envs([("A", "1"), ("B", "two words")])
        .copy_with("app", "/app", CopyOptions::new().user("user").mode(0o750))
        .copy("app/sub/*.json", "/data/")
        .pip_install_with(["flask"], PipOptions::new().global(false))
        .apt_install(["curl"])
        .git_clone("https://example.com/r.git")
        .make_dir("/made")
        .rename("/a", "/b")
        .make_symlink("/b", "/c")
        .remove_with("/tmp/x", RemoveOptions::new().recursive(true).force(true))
        .set_workdir("/app")
        .set_user("user")
        .run_cmd("echo done")
        .set_start_cmd("python -m http.server", wait_for_port(8000));
    let info = client(&serving).build(&template, "same", &CloudBuildOptions::default()).await.unwrap();
    let staged = std::fs::read_to_string(data.path().join("builds").join(&info.build_id).join("Dockerfile")).unwrap();
    let direct = LocalDockerfile::for_template(&template, &LocalDockerfileOptions::default()).unwrap();
    assert_eq!(staged, direct.text);
    serving.server.shutdown().await;
}

/// `$` in env values: the build log says which provider's semantics the build applied (read off
/// the request: a Novita request carries its env script), and the staged Dockerfile follows them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_says_which_env_semantics_a_build_applied() {
    let data = tempfile::tempdir().unwrap();
    let serving = ServeOptions::new(data.path(), KEY).without_engine().start().await.unwrap();
    let cases = [
        (
            Provider::E2b,
            Template::new().set_envs_with([("PS1", "$USER> ")], EnvOptions::new().literal(true)),
            "env values with `$`: set `PS1` as written, `$` included (E2B's semantics)",
            "ENV PS1=\"\\$USER> \"",
        ),
        (
            Provider::Novita,
            Template::new().set_envs([("PATH", "/opt/bin:$PATH")]),
            "env values with `$`: expanded `$VAR` in `PATH` against the image's and earlier variables (Novita's semantics)",
            "ENV PATH=\"/opt/bin:$PATH\"",
        ),
    ];
    for (provider, template, line, env) in cases {
        let client =
            Client::with_options(provider, ConnectionOptions::with_api_key(KEY).api_url(serving.server.url())).unwrap();
        let template = template.from_image("busybox:latest").run_cmd("true");
        let info = client.build(&template, "env", &CloudBuildOptions::default()).await.unwrap();
        let status = status_json(&serving, &info.template_id, &info.build_id).await;
        assert!(messages(&status).iter().any(|m| m == line), "{provider}: {:?}", messages(&status));
        let staged = data.path().join("builds").join(&info.build_id);
        let dockerfile = std::fs::read_to_string(staged.join("Dockerfile")).unwrap();
        assert!(dockerfile.contains(env), "{provider}: {dockerfile}");
    }
    serving.server.shutdown().await;
}

/// Deleting a template stops its running build even in a silent step, which sends the engine no
/// event to stop at (the engine's process tree is killed). Its staged files, logs and image are
/// removed, and its log does not come back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_template_kills_its_running_build_and_removes_its_image() {
    let Some(engine) = engine() else { return };
    let marker = format!("silent-{}", std::process::id());
    let name = format!("sandbox-template-test/deleted-{}", std::process::id());
    let _guard = Images(engine.clone(), vec![name.clone()]);
    let data = tempfile::tempdir().unwrap();
    let serving = ServeOptions::new(data.path(), KEY).engine(EnginePreference::Auto).start().await.unwrap();
    let client = client(&serving);
    // A first build leaves an image behind.
    let done = Template::new().from_image(base_image()).run_cmd("echo built > /tmp/built");
    client.build(&done, &name, &CloudBuildOptions::default()).await.unwrap();
    assert!(engine.has_image(&name));
    // The second prints once, then stays silent.
    let silent = Template::new().from_image(base_image()).run_cmd(format!("echo {marker}; sleep 600; : {marker}"));
    let info = client.build_in_background(&silent, &name, &CloudBuildOptions::default()).await.unwrap();
    let store = serving.server.store().clone();
    wait_running(&store, &info.template_id, &info.build_id, &marker).await;

    assert_eq!(delete_template(&serving, &info.template_id).await, 204);
    let left = processes_left(&marker).await;
    assert!(left.is_empty(), "the step still runs after its template was deleted: pids {left:?}");
    assert!(!data.path().join("builds").join(&info.build_id).exists(), "the build's staged files are still there");
    assert!(!engine.has_image(&name), "the deleted template's image is still there");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(store.logs(&info.template_id, &info.build_id, 0, 100).await.unwrap().is_empty());
    let db = rusqlite::Connection::open(data.path().join("state.db")).unwrap();
    assert_eq!(db.query_row("SELECT count(*) FROM logs", [], |r| r.get::<_, i64>(0)).unwrap(), 0, "orphan log lines");
    drop(store);
    serving.server.shutdown().await;
}

/// Waits (up to a minute) until the build logged `marker` and a process with `marker` in its
/// command line runs.
async fn wait_running(store: &sandbox_template_server::store::Store, template_id: &str, build_id: &str, marker: &str) {
    for _ in 0..600 {
        let log = store.logs(template_id, build_id, 0, 100_000).await.unwrap();
        if log.iter().any(|e| e.message == marker) && !processes_with(marker).is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the step printing {marker} never started");
}

/// `DELETE /templates/{id}` on `serving`: the answer's status.
async fn delete_template(serving: &Serving, template_id: &str) -> u16 {
    let url = format!("{}/templates/{template_id}", serving.server.url());
    reqwest::Client::new().delete(url).header("X-API-KEY", KEY).send().await.unwrap().status().as_u16()
}

/// The processes with `marker` in their command line still running after up to ten seconds.
async fn processes_left(marker: &str) -> Vec<u32> {
    let mut left = processes_with(marker);
    for _ in 0..100 {
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        left = processes_with(marker);
    }
    left
}

/// Deleting a template kills its own build's engine process only: a build of the same image
/// name by another server in this process (as tests, or an embedding program, run them) goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_template_kills_only_its_own_builds_engine() {
    let Some(engine) = engine() else { return };
    let pid = std::process::id();
    let name = format!("sandbox-template-test/same-name-{pid}");
    let _guard = Images(engine.clone(), vec![name.clone()]);
    let (data_a, data_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = ServeOptions::new(data_a.path(), KEY).engine(EnginePreference::Auto).start().await.unwrap();
    let b = ServeOptions::new(data_b.path(), KEY).engine(EnginePreference::Auto).start().await.unwrap();
    let (marker_a, marker_b) = (format!("deleted-a-{pid}"), format!("kept-b-{pid}"));
    let silent = |marker: &str| {
        Template::new().from_image(base_image()).run_cmd(format!("echo {marker}; sleep 600; : {marker}"))
    };
    let info_a =
        client(&a).build_in_background(&silent(&marker_a), &name, &CloudBuildOptions::default()).await.unwrap();
    let info_b =
        client(&b).build_in_background(&silent(&marker_b), &name, &CloudBuildOptions::default()).await.unwrap();
    wait_running(a.server.store(), &info_a.template_id, &info_a.build_id, &marker_a).await;
    wait_running(b.server.store(), &info_b.template_id, &info_b.build_id, &marker_b).await;

    assert_eq!(delete_template(&a, &info_a.template_id).await, 204);
    let left = processes_left(&marker_a).await;
    assert!(left.is_empty(), "the deleted template's step still runs: pids {left:?}");
    assert!(!processes_with(&marker_b).is_empty(), "the other server's build of the same name was killed too");
    let status = status_json(&b, &info_b.template_id, &info_b.build_id).await;
    assert_eq!(status["status"], "building", "{status}");

    assert_eq!(delete_template(&b, &info_b.template_id).await, 204);
    a.server.shutdown().await;
    b.server.shutdown().await;
}
