//! End to end over loopback HTTP: our client against our server.
use crate::support::cloud::*;
use sandbox_template_runtime::cloud::{BuildEvent, BuildState};

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
    // Upload events: started with the archive size, progress up to it, done; the size is
    // the Content-Length the server received.
    let total = events
        .iter()
        .find_map(|e| match e {
            BuildEvent::UploadStarted { step: 3, bytes, .. } => Some(*bytes),
            _ => None,
        })
        .unwrap();
    assert_eq!(put.header("content-length"), Some(total.to_string().as_str()));
    let last_progress = events.iter().rev().find_map(|e| match e {
        BuildEvent::UploadProgress { step: 3, sent, total: t } => Some((*sent, *t)),
        _ => None,
    });
    assert_eq!(last_progress, Some((total, total)));
    assert!(events.iter().any(|e| matches!(e, BuildEvent::UploadDone { step: 3, bytes, .. } if *bytes == total)));
    assert_eq!(events.last(), Some(&BuildEvent::Finished { status: BuildState::Ready }));
}

use std::time::Duration;

use sandbox_template_runtime::cloud::{CloudBuildOptions, CloudError};
use sandbox_template_runtime::{
    AptOptions, CopyOptions, FileOptions, GitCloneOptions, JsInstallOptions, MakeDirOptions, PipOptions, Provider,
    RemoveOptions, RunOptions, Secret, Template, wait_for_file, wait_for_url,
};

/// One template per step kind (and per base kind), each built end to end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_step_kind_builds_end_to_end() {
    let ctx = seed_context();
    let c = ctx.path();
    let base = || Template::new().with_context(c).from_base_image();
    let templates: Vec<(&str, Template)> = vec![
        ("run", base().run_cmd_with(["apt-get update", "echo hi"], RunOptions::new().user("root"))),
        (
            "copy-file",
            base().copy_with("fixture/run.sh", "/usr/local/bin/run", CopyOptions::new().user("root:root").mode(0o755)),
        ),
        ("copy-dir-no-gzip", base().copy_with("fixture", "/app/", CopyOptions::new().gzip(false))),
        ("copy-dot", base().copy(".", "/ctx/")),
        ("copy-glob", base().copy("fixture/*.txt", "/app/")),
        ("copy-ignoring", base().with_ignore_patterns(["**/*.log", "fixture/nested"]).copy("fixture", "/app/")),
        ("copy-symlink", base().copy("fixture/link-to-hello", "/app/l")),
        (
            "copy-symlink-resolved",
            base().copy_with("fixture/link-to-hello", "/app/l", CopyOptions::new().resolve_symlinks(true)),
        ),
        ("copy-force-upload", base().copy_with("top.txt", "/t", CopyOptions::new().force_upload(true))),
        ("env", base().set_envs([("A", "1"), ("B", "two words")])),
        ("workdir", base().set_workdir("/app")),
        ("user", base().set_user("root").run_cmd("id").set_user("user")),
        ("pip", base().pip_install(["numpy"]).pip_install_with("requests", PipOptions::new().global(false))),
        ("npm", base().npm_install_with(["typescript"], JsInstallOptions::new().global(true).dev(true))),
        ("bun", base().bun_install(["zod"])),
        ("apt", base().apt_install_with(["curl", "git"], AptOptions::new().no_install_recommends(true))),
        (
            "git",
            base()
                .git_clone_with("https://example.com/r.git", GitCloneOptions::new().path("/r").branch("main").depth(1)),
        ),
        ("remove", base().remove_with(["/tmp/a b"], RemoveOptions::new().recursive(true).force(true))),
        ("rename", base().rename_with("/a", "/b", FileOptions::new().force(true))),
        ("mkdir", base().make_dir_with(["/data"], MakeDirOptions::new().mode(0o700))),
        ("symlink", base().make_symlink("/a", "/b")),
        ("skip-cache", base().run_cmd("a").skip_cache().run_cmd("b")),
        ("start-url", base().set_start_cmd("npm start", wait_for_url("http://localhost:3000/health"))),
        ("ready-only", base().set_ready_cmd(wait_for_file("/tmp/ok"))),
        ("from-template", Template::new().from_template("seed").run_cmd("echo hi")),
        (
            "from-private-image",
            Template::new().from_image_with_credentials("ghcr.io/acme/app:1", Secret::new("u"), Secret::new("p")),
        ),
    ];
    let server = server().await;
    let client = client(&server);
    for (name, template) in &templates {
        let (options, events) = recording();
        let result = client.build(template, name, &options).await;
        assert!(result.is_ok(), "{name}: {result:?}");
        let events = events.lock().unwrap();
        assert_eq!(events.last(), Some(&BuildEvent::Finished { status: BuildState::Ready }), "{name}");
        // The server received one step per template step, of the same kinds.
        let start =
            server.requests().into_iter().rfind(|r| r.path.starts_with("/v2/templates/")).and_then(|r| r.body).unwrap();
        let body: serde_json::Value = serde_json::from_str(&start).unwrap();
        let kinds: Vec<&str> = body["steps"].as_array().unwrap().iter().map(|s| s["type"].as_str().unwrap()).collect();
        let want: Vec<String> = template.steps().iter().map(|s| s.to_wire().kind).collect();
        assert_eq!(kinds, want, "{name}");
    }
    // Registry credentials reached the server but are not kept in its request log.
    let private = server.requests().into_iter().rfind(|r| r.path.starts_with("/v2/templates/")).unwrap();
    let body = private.body.unwrap();
    assert!(
        body.contains(r#""fromImageRegistry":{"type":"registry","username":"<redacted>","password":"<redacted>"}"#),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_context_is_not_uploaded_again_unless_forced() {
    let ctx = seed_context();
    let server = server().await;
    let client = client(&server);
    let template = seed_template(ctx.path());
    client.build(&template, "cached", &recording().0).await.unwrap();
    let (options, events) = recording();
    client.build(&template, "cached", &options).await.unwrap();
    let puts = server.requests().iter().filter(|r| r.method == "PUT").count();
    assert_eq!(puts, 1, "the second build must reuse the uploaded archive");
    assert!(events.lock().unwrap().iter().any(|e| matches!(e, BuildEvent::UploadSkipped { step: 3, .. })));

    // force_upload: uploaded even though the server has it.
    let forced = Template::new().with_context(ctx.path()).from_base_image().copy_with(
        "fixture",
        "/app/fixture",
        CopyOptions::new().force_upload(true),
    );
    let forced_plain = Template::new().with_context(ctx.path()).from_base_image().copy("top.txt", "/t");
    client.build(&forced_plain, "plain", &recording().0).await.unwrap();
    client.build(&forced_plain, "plain", &recording().0).await.unwrap();
    client.build(&forced, "forced", &recording().0).await.unwrap();
    client.build(&forced, "forced", &recording().0).await.unwrap();
    let puts = server.requests().iter().filter(|r| r.method == "PUT").count();
    // 1 (seed) + 1 (plain, once) + 2 (forced: both times, though it has the seed's hash)
    assert_eq!(puts, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_template_creates_nothing_on_the_server() {
    let ctx = seed_context();
    let server = server().await;
    let client = client(&server);
    let missing = Template::new().with_context(ctx.path()).from_base_image().copy("does-not-exist", "/x");
    let err = client.build(&missing, "missing", &CloudBuildOptions::default()).await.unwrap_err();
    assert!(matches!(err, CloudError::Validation(_)), "{err:?}");
    assert!(err.to_string().contains("does-not-exist"), "{err}");
    let invalid = Template::new().from_base_image().set_envs([("1BAD KEY", "x")]);
    let err = client.build(&invalid, "invalid", &CloudBuildOptions::default()).await.unwrap_err();
    assert!(matches!(err, CloudError::Validation(_)), "{err:?}");
    let secret = Template::new().from_image_with_credentials(
        "ghcr.io/a/b:1",
        Secret::new("u"),
        Secret::from_env("SANDBOX_TEMPLATE_SURELY_UNSET_VAR"),
    );
    let err = client.build(&secret, "secret", &CloudBuildOptions::default()).await.unwrap_err();
    assert!(err.to_string().contains("SANDBOX_TEMPLATE_SURELY_UNSET_VAR"), "{err}");
    let err = client.build(&Template::new(), " ", &CloudBuildOptions::default()).await.unwrap_err();
    assert!(matches!(err, CloudError::Config(_)), "{err:?}");
    assert_eq!(server.requests(), vec![], "nothing may be sent for a template that cannot build");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_build_names_the_step_and_the_line_that_added_it() {
    let server = server().await;
    server.faults().fail_build("fails", "2", "failed to run command 'pip install flask': exit status 1");
    let line = line!() + 1;
    let template = Template::new().from_python_image("3.12").run_cmd("echo one").run_cmd("pip install flask");
    let (options, events) = recording();
    let err = client(&server).build(&template, "fails", &options).await.unwrap_err();
    match &err {
        CloudError::BuildFailed { step, location, message, .. } => {
            assert_eq!(step.as_deref(), Some("2"));
            assert!(message.contains("exit status 1"));
            let loc = location.expect("the failing step's source location");
            assert_eq!((loc.file, loc.line), (file!(), line));
        }
        other => panic!("expected BuildFailed, got {other:?}"),
    }
    let shown = err.to_string();
    assert!(shown.contains("step 2") && shown.contains(&format!("{}:{line}", file!())), "{shown}");
    assert_eq!(events.lock().unwrap().last(), Some(&BuildEvent::Finished { status: BuildState::Error }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_is_an_authentication_error_and_not_retried() {
    let server = server().await;
    let client = client_with(&server, Provider::E2b, |o| o.api_key("e2b_wrong"));
    let err = client.build(&Template::new().from_base_image(), "x", &CloudBuildOptions::default()).await.unwrap_err();
    assert!(matches!(err, CloudError::Authentication { .. }), "{err:?}");
    assert_eq!(err.to_string(), "Unauthorized, please check your credentials. - Invalid API key");
    assert!(!format!("{err:?} {client:?}").contains("e2b_wrong"));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_build_status_and_wait() {
    let ctx = seed_context();
    let server = server().await;
    let client = client(&server);
    let template = seed_template(ctx.path());
    let options = recording().0;
    let info = client.build_in_background(&template, "bg", &options).await.unwrap();
    client.wait_for_build(&template, &info, &options).await.unwrap();
    let status = client.build_status(&info.template_id, &info.build_id, 0).await.unwrap();
    assert_eq!(status.status, BuildState::Ready);
    assert!(status.log_entries.iter().any(|l| l.message.starts_with("[builder 1/3] ENV")));
    let err = client.build_status("tplunknown", "b1", 5).await.unwrap_err();
    assert!(matches!(err, CloudError::Api { status: 404, .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exists_and_tags() {
    let server = server().await;
    let client = client(&server);
    let info = client.build(&Template::new().from_base_image(), "ns/app:v1", &recording().0).await.unwrap();
    assert!(client.exists("ns/app").await.unwrap());
    assert!(client.exists("ns/app:v1").await.unwrap());
    assert!(!client.exists("missing-x").await.unwrap());
    assert!(server.requests().iter().any(|r| r.path == "/templates/aliases/ns%2Fapp%3Av1"));

    let assigned = client.assign_tags("ns/app:v1", &["prod".into(), "stable".into()]).await.unwrap();
    assert_eq!(assigned.build_id, info.build_id);
    let tags: Vec<String> = client.get_tags("ns/app").await.unwrap().into_iter().map(|t| t.tag).collect();
    assert_eq!(tags, ["prod", "stable", "v1"]);
    client.remove_tags("ns/app", &["prod".into()]).await.unwrap();
    let tags: Vec<String> = client.get_tags(&info.template_id).await.unwrap().into_iter().map(|t| t.tag).collect();
    assert_eq!(tags, ["stable", "v1"]);
    let err = client.assign_tags("nope:v1", &["x".into()]).await.unwrap_err();
    assert!(matches!(err, CloudError::Api { status: 404, .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn novita_sends_its_defaults_and_env_step() {
    let ctx = seed_context();
    let server = server().await;
    let client = client_with(&server, Provider::Novita, |o| o);
    client.build(&seed_template(ctx.path()), "nov", &recording().0).await.unwrap();
    let requests = server.requests();
    let create = requests.iter().find(|r| r.path == "/v3/templates").unwrap();
    assert_eq!(create.body.as_deref(), Some(r#"{"name":"nov","cpuCount":2,"memoryMB":1024}"#));
    assert_eq!(create.header("publisher"), Some("Novita"));
    assert!(create.header("x-novita-sdk-version").is_some());
    let start = requests.iter().find(|r| r.path.starts_with("/v2/")).unwrap();
    let body: serde_json::Value = serde_json::from_str(start.body.as_deref().unwrap()).unwrap();
    let last = body["steps"].as_array().unwrap().last().unwrap();
    assert!(last["args"][0].as_str().unwrap().contains("/tmp/.novita-image-env.sh"));
    assert_eq!(body["readyCmd"], "ss -tuln | grep :8000");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_request_timeout_option_is_applied() {
    let server = server().await;
    server.faults().add(None, "/status", 10, sandbox_template_server::api::FaultAction::Delay(Duration::from_secs(5)));
    let options = recording().0.request_timeout(Duration::from_millis(200));
    let err = client(&server).build(&Template::new().from_base_image(), "slow", &options).await.unwrap_err();
    assert!(matches!(err, CloudError::RequestTimeout { .. }), "{err:?}");
}
