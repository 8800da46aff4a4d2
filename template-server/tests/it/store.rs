//! `store`: the SQLite state of `serve`: what reaches the disk (no credentials, private modes),
//! what a restart keeps and cleans up, log paging, migrations, and deleting a running build.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sandbox_template_runtime::cloud::{BuildState, Client, CloudBuildOptions, ConnectionOptions, LogEntry};
use sandbox_template_runtime::{Provider, Secret, Template};
use sandbox_template_server::api::{Server, ServerConfig};
use sandbox_template_server::runner::{BoxFuture, BuildJob, BuildLog, BuildRunner, StepFailure};
use sandbox_template_server::store::{INTERRUPTED, INTERRUPTED_CREDENTIALS, Store, StoreError};
use sandbox_template_server::{ServeOptions, Serving};

const KEY: &str = "store-test-key";

fn client(url: String) -> Client {
    Client::with_options(Provider::E2b, ConnectionOptions::with_api_key(KEY).api_url(url)).unwrap()
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path)
                && bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
            {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn entry(message: String) -> LogEntry {
    LogEntry { timestamp: "2026-01-01T00:00:00.000Z".to_owned(), level: "info".to_owned(), message, step: None }
}

/// A build request with registry credentials, as the SDKs send it.
fn request_with_password(password: &str) -> serde_json::Value {
    serde_json::json!({
        "fromImage": "ghcr.io/acme/private:1",
        "fromImageRegistry": {"type": "registry", "username": "acme-bot", "password": password},
        "steps": [],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_credentials_never_reach_the_data_folder() {
    let data = tempfile::tempdir().unwrap();
    let password = format!("pw-{}-never-on-disk", std::process::id());
    let serving = ServeOptions::new(data.path(), KEY).without_engine().start().await.unwrap();
    let template = Template::new().from_image_with_credentials(
        "ghcr.io/acme/private:1",
        Secret::new("acme-bot"),
        Secret::new(password.clone()),
    );
    let info = client(serving.server.url()).build(&template, "private", &CloudBuildOptions::default()).await.unwrap();
    // The build had its credentials (it ran to the end); the stored request has only the type.
    let build = serving.server.store().build(&info.template_id, &info.build_id).await.unwrap().unwrap();
    assert_eq!(build.status, BuildState::Ready);
    assert_eq!(build.request.unwrap()["fromImageRegistry"], serde_json::json!({"type": "registry"}));
    // While the server runs (the WAL holds the latest writes) and after it stopped.
    assert_eq!(files_containing(data.path(), &password), Vec::<String>::new());
    serving.server.shutdown().await;
    assert_eq!(files_containing(data.path(), &password), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_fails_a_build_that_needed_credentials_and_says_to_resubmit() {
    let data = tempfile::tempdir().unwrap();
    let password = format!("pw-{}-in-flight", std::process::id());
    let (template_id, build_id, plain) = {
        let store = Store::open(data.path()).unwrap();
        let (t, b) = store.create_build("private", &["default".to_owned()], None, None).await.unwrap();
        store.start_build(&t.id, &b.build_id, request_with_password(&password)).await.unwrap();
        let (_, other) = store.create_build("public", &["default".to_owned()], None, None).await.unwrap();
        let other_t = store.template("public").await.unwrap().unwrap().id;
        store.start_build(&other_t, &other.build_id, serde_json::json!({"steps": []})).await.unwrap();
        assert_eq!(files_containing(data.path(), &password), Vec::<String>::new());
        (t.id, b.build_id, (other_t, other.build_id))
    }; // the server stops here, both builds in flight
    let store = Store::open(data.path()).unwrap();
    let build = store.build(&template_id, &build_id).await.unwrap().unwrap();
    assert_eq!(build.status, BuildState::Error);
    let reason = build.reason.unwrap().message;
    assert_eq!(reason, INTERRUPTED_CREDENTIALS);
    assert!(reason.contains("resubmit"), "{reason}");
    let log = store.logs(&template_id, &build_id, 0, 100).await.unwrap();
    assert!(log.last().unwrap().message.contains(INTERRUPTED_CREDENTIALS), "{log:?}");
    // A build without credentials gets the plain reason.
    let other = store.build(&plain.0, &plain.1).await.unwrap().unwrap();
    assert_eq!(other.reason.unwrap().message, INTERRUPTED);
    assert_eq!(files_containing(data.path(), &password), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_folder_and_database_are_private_and_made_so_again_on_open() {
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("data");
    let check = |store: &Store| {
        assert_eq!(mode(store.root()), 0o700, "data folder");
        for file in ["state.db", "state.db-wal", "state.db-shm"] {
            assert_eq!(mode(&data.join(file)), 0o600, "{file}");
        }
        assert_eq!(mode(store.uploads_dir()), 0o700, "uploads");
    };
    let store = Store::open(&data).unwrap();
    store.create_build("t", &[], None, None).await.unwrap();
    check(&store);
    drop(store);
    // Loosened by hand (or made by an older version): tightened on the next open.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(data.join("state.db"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = Store::open(&data).unwrap();
    store.create_build("t", &[], None, None).await.unwrap();
    check(&store);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_are_paged_by_offset_and_a_restart_keeps_templates_builds_tags_and_logs() {
    let data = tempfile::tempdir().unwrap();
    let serving = ServeOptions::new(data.path(), KEY).without_engine().start().await.unwrap();
    let store = serving.server.store().clone();
    let (t, b) = store.create_build("paged", &["v1".to_owned()], Some(2), Some(512)).await.unwrap();
    store.start_build(&t.id, &b.build_id, serde_json::json!({"steps": []})).await.unwrap();
    for i in 0..250 {
        store.append_log(&b.build_id, entry(format!("line {i}")));
    }
    store.set_status(&t.id, &b.build_id, BuildState::Ready, None).await.unwrap();
    store.assign_tags("paged", "v1", &["stable".to_owned()]).await.unwrap();

    let page = |serving: &Serving, offset: usize| {
        let url =
            format!("{}/templates/{}/builds/{}/status?logsOffset={offset}", serving.server.url(), t.id, b.build_id);
        async move {
            let resp = reqwest::Client::new().get(url).header("X-API-KEY", KEY).send().await.unwrap();
            assert_eq!(resp.status(), 200);
            let body: serde_json::Value = resp.json().await.unwrap();
            let lines: Vec<String> = body["logEntries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["message"].as_str().unwrap().to_owned())
                .collect();
            (body["status"].as_str().unwrap().to_owned(), lines)
        }
    };
    let want = |range: std::ops::Range<usize>| range.map(|i| format!("line {i}")).collect::<Vec<_>>();
    let (status, lines) = page(&serving, 150).await;
    assert_eq!(status, "ready");
    assert_eq!(lines, want(150..250));
    assert_eq!(page(&serving, 0).await.1, want(0..100));
    assert_eq!(page(&serving, 240).await.1, want(240..250));
    assert_eq!(page(&serving, 250).await.1, want(0..0));
    let before = (store.templates().await.unwrap(), store.tags("paged").await.unwrap());
    drop(store);
    serving.server.shutdown().await;

    let serving = ServeOptions::new(data.path(), KEY).without_engine().start().await.unwrap();
    let store = serving.server.store().clone();
    assert_eq!((store.templates().await.unwrap(), store.tags("paged").await.unwrap()), before);
    let build = store.build(&t.id, &b.build_id).await.unwrap().unwrap();
    assert_eq!((build.status, build.cpu_count, build.memory_mb), (BuildState::Ready, Some(2), Some(512)));
    assert_eq!(page(&serving, 200).await.1, want(200..250));
    serving.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_removes_cut_off_uploads_and_the_files_of_interrupted_builds() {
    let data = tempfile::tempdir().unwrap();
    let (interrupted, finished) = {
        let store = Store::open(data.path()).unwrap();
        let (t, b) = store.create_build("half", &[], None, None).await.unwrap();
        store.start_build(&t.id, &b.build_id, serde_json::json!({"steps": []})).await.unwrap();
        let (t2, done) = store.create_build("whole", &[], None, None).await.unwrap();
        store.start_build(&t2.id, &done.build_id, serde_json::json!({"steps": []})).await.unwrap();
        store.set_status(&t2.id, &done.build_id, BuildState::Ready, None).await.unwrap();
        for build in [&b.build_id, &done.build_id] {
            std::fs::create_dir_all(store.build_dir(build).join("context/app")).unwrap();
            std::fs::write(store.build_dir(build).join("context/app/big.bin"), [0u8; 4096]).unwrap();
        }
        std::fs::write(store.uploads_dir().join(".part-abc123"), b"half an upload").unwrap();
        std::fs::create_dir_all(store.uploads_dir().join(".verify-xyz/app")).unwrap();
        std::fs::write(store.uploads_dir().join(".verify-xyz/app/big.bin"), [0u8; 4096]).unwrap();
        std::fs::write(store.uploads_dir().join("a".repeat(64)), b"a whole upload").unwrap();
        std::fs::write(store.uploads_dir().join(format!("{}.unverified", "b".repeat(64))), b"to verify").unwrap();
        (store.build_dir(&b.build_id), store.build_dir(&done.build_id))
    };
    let store = Store::open(data.path()).unwrap();
    assert!(!interrupted.exists(), "the interrupted build's context is still there");
    assert!(finished.join("context/app/big.bin").exists(), "a finished build's staged files are kept");
    assert!(!store.uploads_dir().join(".part-abc123").exists(), "the cut-off upload is still there");
    assert!(
        !store.uploads_dir().join(".verify-xyz").exists(),
        "the cut-off verification's scratch folder is still there"
    );
    assert!(store.upload(&"a".repeat(64)).is_some(), "a whole upload is kept");
    assert!(
        store.uploads_dir().join(format!("{}.unverified", "b".repeat(64))).is_file(),
        "a complete upload waiting for verification is kept"
    );
}

#[test]
fn an_empty_or_old_database_is_migrated_and_a_newer_one_refused() {
    let data = tempfile::tempdir().unwrap();
    // An empty file, as `touch` leaves it: version 0, migrated to the newest.
    std::fs::write(data.path().join("state.db"), b"").unwrap();
    drop(Store::open(data.path()).unwrap());
    let db = rusqlite::Connection::open(data.path().join("state.db")).unwrap();
    let version: i64 = db.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert!(version >= 1, "{version}");
    let tables: i64 = db
        .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('templates', 'builds', 'tags', 'logs')", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tables, 4);
    // Written by a newer server: refused with what to do, nothing changed.
    db.pragma_update(None, "user_version", version + 1).unwrap();
    drop(db);
    let e = Store::open(data.path()).unwrap_err();
    assert!(
        matches!(e, StoreError::NewerSchema { found, supported, .. } if found == version + 1 && supported == version),
        "{e:?}"
    );
    let text = e.to_string();
    assert!(
        text.contains(&format!("schema version {}", version + 1)) && text.contains("newer sandbox-template"),
        "{text}"
    );
    let db = rusqlite::Connection::open(data.path().join("state.db")).unwrap();
    assert_eq!(db.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0)).unwrap(), version + 1);
}

#[test]
fn a_damaged_database_is_reported_with_the_fix() {
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join("state.db"), vec![b'x'; 8192]).unwrap();
    let e = Store::open(data.path()).err().unwrap().to_string();
    assert!(e.contains("state.db is damaged") && e.contains("move it away"), "{e}");
}

/// Logs a line every 10 ms until its build is cancelled; records that it saw the cancel.
struct UntilCancelled(Arc<AtomicBool>);

impl BuildRunner for UntilCancelled {
    fn run<'a>(&'a self, job: &'a BuildJob, log: &'a BuildLog) -> BoxFuture<'a, Result<(), StepFailure>> {
        Box::pin(async move {
            let mut i = 0;
            while !job.cancel.is_cancelled() {
                log.info(Some("1"), format!("tick {i}"));
                i += 1;
                tokio::select! {
                    () = job.cancel.cancelled() => {}
                    () = tokio::time::sleep(Duration::from_millis(10)) => {}
                }
            }
            self.0.store(true, Ordering::SeqCst);
            // A runner that logs while it winds down: these lines must not come back.
            for i in 0..20 {
                log.info(Some("1"), format!("after cancel {i}"));
            }
            Err(StepFailure { step: Some("1".to_owned()), message: "cancelled".to_owned() })
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_template_cancels_its_running_build_and_removes_its_logs_and_files() {
    let saw_cancel = Arc::new(AtomicBool::new(false));
    let store = Store::temporary().unwrap();
    let server =
        Server::start_with(ServerConfig::new(KEY), store.clone(), Arc::new(UntilCancelled(saw_cancel.clone())))
            .await
            .unwrap();
    let info = client(server.url())
        .build_in_background(
            &Template::new().from_image("busybox").run_cmd("true"),
            "doomed",
            &CloudBuildOptions::default(),
        )
        .await
        .unwrap();
    let staged = store.build_dir(&info.build_id);
    std::fs::create_dir_all(staged.join("context")).unwrap();
    for _ in 0..300 {
        if store.logs(&info.template_id, &info.build_id, 0, 100).await.unwrap().len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!store.logs(&info.template_id, &info.build_id, 0, 100).await.unwrap().is_empty(), "never started");

    let resp = reqwest::Client::new()
        .delete(format!("{}/templates/{}", server.url(), info.template_id))
        .header("X-API-KEY", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    // By the answer the build has stopped and its files are gone.
    assert!(saw_cancel.load(Ordering::SeqCst), "the runner was not cancelled");
    assert!(!staged.exists(), "the build's staged files are still there");
    assert!(store.template(&info.template_id).await.unwrap().is_none());
    assert!(store.build(&info.template_id, &info.build_id).await.unwrap().is_none());
    // Lines logged after the delete (the runner winding down) do not come back as an orphan.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(store.logs(&info.template_id, &info.build_id, 0, 1000).await.unwrap(), vec![]);
    let db = rusqlite::Connection::open(store.root().join("state.db")).unwrap();
    let rows: i64 = db.query_row("SELECT count(*) FROM logs", [], |r| r.get(0)).unwrap();
    assert_eq!(rows, 0, "log lines of the deleted build are still stored");
    server.shutdown().await;
}

/// 200 create/upload/build/poll flows, 50 at a time, through one `serve` and its store: every
/// build ends `ready` with its log, none is lost or mixed up (the rate is measured by
/// `bench/flows.sh`, not here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_flows_fifty_at_a_time_all_end_ready() {
    let data = tempfile::tempdir().unwrap();
    let ctx = tempfile::tempdir().unwrap();
    std::fs::create_dir(ctx.path().join("data")).unwrap();
    std::fs::write(ctx.path().join("data/hello.txt"), "hello\n").unwrap();
    let serving = ServeOptions::new(data.path(), KEY).without_engine().start().await.unwrap();
    let client = Client::with_options(
        Provider::E2b,
        ConnectionOptions::with_api_key(KEY).api_url(serving.server.url()).max_in_flight(50),
    )
    .unwrap();
    let gate = Arc::new(tokio::sync::Semaphore::new(50));
    let flows = (0..200).map(|i| {
        let (client, gate) = (client.clone(), gate.clone());
        let template = Template::new()
            .with_context(ctx.path())
            .from_image("busybox")
            .copy_with("data", "/data", sandbox_template_runtime::CopyOptions::new().force_upload(true))
            .run_cmd(format!("echo {i}"));
        tokio::spawn(async move {
            let _slot = gate.acquire_owned().await.unwrap();
            let options = CloudBuildOptions::default().poll_interval(Duration::from_millis(50));
            client.build(&template, &format!("flow-{i}"), &options).await
        })
    });
    let infos: Vec<_> = futures_util::future::join_all(flows).await.into_iter().map(|r| r.unwrap().unwrap()).collect();
    let store = serving.server.store().clone();
    assert_eq!(store.templates().await.unwrap().len(), 200);
    for info in &infos {
        let (build, logs) = store.build_with_logs(&info.template_id, &info.build_id, 0, 100).await.unwrap();
        assert_eq!(build.status, BuildState::Ready, "{}", info.name);
        assert!(logs.iter().any(|l| l.message.contains("echo") || l.message.contains("[staged")), "{logs:?}");
    }
    drop(store);
    serving.server.shutdown().await;
}

/// Runs until its build is cancelled (at most 10 s), counting the builds running right now.
struct CountsRunning(Arc<std::sync::atomic::AtomicUsize>);

impl BuildRunner for CountsRunning {
    fn run<'a>(&'a self, job: &'a BuildJob, _: &'a BuildLog) -> BoxFuture<'a, Result<(), StepFailure>> {
        Box::pin(async move {
            self.0.fetch_add(1, Ordering::SeqCst);
            let _ = tokio::time::timeout(Duration::from_secs(10), job.cancel.cancelled()).await;
            self.0.fetch_sub(1, Ordering::SeqCst);
            Err(StepFailure { step: None, message: "cancelled".to_owned() })
        })
    }
}

/// A delete racing the start of its template's build (sent at the same time) never leaves that
/// build running: either the start is refused or the delete cancels it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_racing_a_build_start_leaves_no_build_running() {
    let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let server = Server::start_with(
        ServerConfig::new(KEY),
        Store::temporary().unwrap(),
        Arc::new(CountsRunning(running.clone())),
    )
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let url = server.url();
    for i in 0..100 {
        let created: serde_json::Value = http
            .post(format!("{url}/v3/templates"))
            .header("X-API-KEY", KEY)
            .json(&serde_json::json!({"name": format!("raced-{i}")}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let (template_id, build_id) =
            (created["templateID"].as_str().unwrap().to_owned(), created["buildID"].as_str().unwrap().to_owned());
        let start = http
            .post(format!("{url}/v2/templates/{template_id}/builds/{build_id}"))
            .header("X-API-KEY", KEY)
            .json(&serde_json::json!({"fromImage": "busybox", "steps": []}))
            .send();
        let delete = http.delete(format!("{url}/templates/{template_id}")).header("X-API-KEY", KEY).send();
        let (start, delete) = tokio::join!(start, delete);
        assert!([202, 404].contains(&start.unwrap().status().as_u16()));
        assert_eq!(delete.unwrap().status(), 204);
    }
    // Each delete answered after the builds it cancelled stopped; a build it missed runs on.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(running.load(Ordering::SeqCst), 0, "builds of deleted templates are still running");
    server.shutdown().await;
}

/// A data folder from before signed uploads held `uploads/HASH` files that were never verified:
/// a new database starts with none of them, so none counts as verified; an existing database
/// keeps its uploads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_database_drops_the_unverified_uploads_of_an_older_data_folder() {
    let data = tempfile::tempdir().unwrap();
    let old_upload = data.path().join("uploads").join("c".repeat(64));
    std::fs::create_dir_all(old_upload.parent().unwrap()).unwrap();
    std::fs::write(&old_upload, b"an archive nobody verified").unwrap();
    std::fs::write(data.path().join("uploads/.part-old"), b"half").unwrap();
    std::fs::write(data.path().join("state.json"), b"{}").unwrap();

    let store = Store::open(data.path()).unwrap();
    assert_eq!(store.upload(&"c".repeat(64)), None, "an unverified upload counts as verified");
    assert_eq!(std::fs::read_dir(store.uploads_dir()).unwrap().count(), 0, "uploads/ is not empty");

    // Once the database exists, its uploads are the verified ones and stay across restarts.
    std::fs::write(store.uploads_dir().join("d".repeat(64)), b"verified by this server").unwrap();
    drop(store);
    let store = Store::open(data.path()).unwrap();
    assert!(store.upload(&"d".repeat(64)).is_some(), "a restart dropped a verified upload");
}

/// A database of schema version 1 (before builds had `updated_at`/`finished_at`) keeps its
/// templates and builds through the migration; their times read as the creation time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_one_database_is_migrated_with_its_builds() {
    let data = tempfile::tempdir().unwrap();
    let (template, build) = {
        let store = Store::open(data.path()).unwrap();
        let (t, b) = store.create_build("old", &[], Some(2), Some(512)).await.unwrap();
        (t.id, b.build_id)
    };
    let db = rusqlite::Connection::open(data.path().join("state.db")).unwrap();
    db.execute_batch(
        "ALTER TABLE builds DROP COLUMN updated_at; ALTER TABLE builds DROP COLUMN finished_at; PRAGMA user_version = 1;",
    )
    .unwrap();
    drop(db);
    let store = Store::open(data.path()).unwrap();
    let details = store.template_details("old", None, 10).await.unwrap().unwrap();
    assert_eq!(details.template.id, template);
    assert_eq!(details.builds.len(), 1);
    let b = &details.builds[0];
    assert_eq!(
        (b.build_id.as_str(), b.status, b.cpu_count, b.memory_mb),
        (build.as_str(), BuildState::Waiting, Some(2), Some(512))
    );
    assert_eq!((b.updated_at.as_str(), b.finished_at.as_deref()), (b.created_at.as_str(), None));
    // New changes record their times again.
    store.start_build(&template, &build, serde_json::json!({"steps": []})).await.unwrap();
    store.set_status(&template, &build, BuildState::Ready, None).await.unwrap();
    let (listed, next) = store.list_templates(None, 10).await.unwrap();
    assert_eq!(next, None);
    let last = listed[0].last_build.clone().unwrap();
    assert_eq!((last.build_id.as_str(), last.status), (build.as_str(), BuildState::Ready));
    assert!(last.finished_at.is_some_and(|f| f >= last.created_at));
}
