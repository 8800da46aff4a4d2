//! `build` as a user runs it, up to the point where it needs the service.

use crate::support::{bin, text};

/// A template that says `provider novita;` is built on Novita unless `--provider` says otherwise:
/// without keys, the error names the key of the provider it chose.
#[test]
fn the_provider_defaults_to_the_templates() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.tmpl");
    std::fs::write(&file, "provider novita;\nfrom base;\nrun \"echo hi\";\n").unwrap();
    let build = |extra: &[&str]| {
        let mut cmd = bin();
        cmd.args(["build", file.to_str().unwrap(), "--name", "t"]).args(extra);
        for var in ["E2B_API_KEY", "E2B_ACCESS_TOKEN", "NOVITA_API_KEY", "NOVITA_ACCESS_TOKEN"] {
            cmd.env_remove(var);
        }
        let out = cmd.output().unwrap();
        assert!(!out.status.success());
        text(&out.stderr)
    };
    let default = build(&[]);
    assert!(default.contains("NOVITA_API_KEY") && !default.contains("E2B_API_KEY"), "{default}");
    let e2b = build(&["--provider", "e2b"]);
    assert!(e2b.contains("E2B_API_KEY"), "{e2b}");
}

/// A build service in-process: the real `serve` API over a temporary store, with a runner that
/// logs one line at each level (and one at a level the SDKs do not know).
async fn leveled_server() -> sandbox_template_server::ServerHandle {
    use sandbox_template_server::runner::{BoxFuture, BuildJob, BuildLog, BuildRunner, StepFailure};
    struct Levels;
    impl BuildRunner for Levels {
        fn run<'a>(&'a self, _: &'a BuildJob, log: &'a BuildLog) -> BoxFuture<'a, Result<(), StepFailure>> {
            Box::pin(async move {
                for level in ["debug", "info", "warn", "error", "notice"] {
                    log.line(level, Some("1"), format!("a {level} line"));
                }
                Ok(())
            })
        }
    }
    let store = tokio::task::spawn_blocking(sandbox_template_server::store::Store::temporary).await.unwrap().unwrap();
    let config = sandbox_template_server::ServerConfig::new(KEY);
    sandbox_template_server::Server::start_with(config, store, std::sync::Arc::new(Levels)).await.unwrap()
}

const KEY: &str = "cli-build-key";

/// Runs `build FILE --name NAME ARGS` against `url` as `provider`, off the async threads.
async fn build_on(provider: &str, url: &str, file: &std::path::Path, args: &[&str]) -> std::process::Output {
    let prefix = if provider == "novita" { "NOVITA" } else { "E2B" };
    let mut cmd = bin();
    cmd.args(["build", file.to_str().unwrap(), "--name", "levels", "--provider", provider]).args(args);
    for var in ["E2B_API_KEY", "E2B_API_URL", "E2B_DOMAIN", "E2B_DEBUG", "NOVITA_API_KEY", "NOVITA_API_URL"] {
        cmd.env_remove(var);
    }
    cmd.env(format!("{prefix}_API_KEY"), KEY).env(format!("{prefix}_API_URL"), url);
    tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap()
}

/// `--log-level` shows the build log lines of that level and above (the SDKs'
/// `defaultBuildLogger({ minLevel })`); lines of an unknown level are never hidden. Without it,
/// every line is shown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_level_hides_the_lines_below_it() {
    let server = leveled_server().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.tmpl");
    std::fs::write(&file, "from base;\nrun \"echo hi\";\n").unwrap();
    let lines = |o: &std::process::Output| {
        assert!(o.status.success(), "{}\n{}", text(&o.stdout), text(&o.stderr));
        let stdout = text(&o.stdout);
        ["debug", "info", "warn", "error", "notice"]
            .into_iter()
            .filter(|level| stdout.contains(&format!("a {level} line")))
            .collect::<Vec<_>>()
    };
    let all = build_on("e2b", &server.url(), &file, &[]).await;
    assert_eq!(lines(&all), ["debug", "info", "warn", "error", "notice"]);
    let warn = build_on("e2b", &server.url(), &file, &["--log-level", "warn"]).await;
    assert_eq!(lines(&warn), ["warn", "error", "notice"]);
    let info = build_on("e2b", &server.url(), &file, &["--log-level", "info"]).await;
    assert_eq!(lines(&info), ["info", "warn", "error", "notice"]);
    let bad = build_on("e2b", &server.url(), &file, &["--log-level", "loud"]).await;
    assert!(!bad.status.success());
    assert!(text(&bad.stderr).contains("debug, info, warn, error"), "{}", text(&bad.stderr));
}

/// `--min-free-disk-mb` is e2b's `minFreeDiskMb` in the create request; Novita has no such
/// option, so a Novita build refuses it before anything is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn min_free_disk_mb_is_sent_to_e2b_and_refused_for_novita() {
    let server = leveled_server().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.tmpl");
    std::fs::write(&file, "from base;\nrun \"echo hi\";\n").unwrap();
    let out = build_on("e2b", &server.url(), &file, &["--min-free-disk-mb", "512", "--cpu", "4"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let create = server.requests().into_iter().find(|r| r.path == "/v3/templates").unwrap();
    assert_eq!(create.body.as_deref(), Some(r#"{"name":"levels","cpuCount":4,"minFreeDiskMb":512}"#));

    let before = server.requests().len();
    let out = build_on("novita", &server.url(), &file, &["--min-free-disk-mb", "512"]).await;
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("Novita has no minimum free disk build option"), "{stderr}");
    assert!(stderr.contains("leave it out for Novita"), "{stderr}");
    assert_eq!(server.requests().len(), before, "nothing was sent");
}

/// A Novita build whose base image's registry cannot be read says so, naming the registry and
/// `--no-inherit-config`, and builds without the image's config (as novita-sandbox does);
/// `--no-inherit-config` reads nothing and says nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_novita_build_warns_when_the_base_image_config_cannot_be_read() {
    let server = leveled_server().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.tmpl");
    std::fs::write(&file, "from image \"127.0.0.1:1/app:1\";\nrun \"echo hi\";\n").unwrap();
    let out = build_on("novita", &server.url(), &file, &[]).await;
    assert!(out.status.success(), "{}\n{}", text(&out.stdout), text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("warn Could not read 127.0.0.1:1/app:1: cannot reach the registry 127.0.0.1:1"),
        "{stdout}"
    );
    assert!(stdout.contains("--no-inherit-config"), "{stdout}");
    let out = build_on("novita", &server.url(), &file, &["--no-inherit-config"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains("Could not read"), "{}", text(&out.stdout));
}
