//! `sandbox-template serve` as a user runs it: the binary, a client building against it, Ctrl-C,
//! and a second start over the same data folder that still knows the build and its log.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use sandbox_template_runtime::cloud::{Client, CloudBuildOptions, ConnectionOptions};
use sandbox_template_runtime::{Provider, Template};

const KEY: &str = "cli-serve-key";

/// Starts the binary on a free port with no engine; returns it and its URL (from its banner).
fn serve(data: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sandbox-template"))
        .args(["serve", "--addr", "127.0.0.1:0", "--engine", "none", "--data"])
        .arg(data)
        .env("SANDBOX_TEMPLATE_API_KEY", KEY)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first.rsplit(' ').next().unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{first}");
    let engine = lines.next().unwrap().unwrap();
    assert!(engine.contains("no engine") && engine.contains("no image is built"), "{engine}");
    std::thread::spawn(move || lines.for_each(drop));
    (child, url)
}

fn stop(mut child: Child) {
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    assert!(child.wait().unwrap().success(), "serve should exit 0 on Ctrl-C");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_build_and_its_log_survive_a_restart_of_serve() {
    let data = tempfile::tempdir().unwrap();
    let (child, url) = serve(data.path());
    let client = |url: &str| {
        Client::with_options(Provider::E2b, ConnectionOptions::with_api_key(KEY).api_url(url.to_owned())).unwrap()
    };
    let template = Template::new().from_image("busybox").run_cmd("echo hi");
    let info = client(&url).build(&template, "cli-served", &CloudBuildOptions::default()).await.unwrap();
    let before = client(&url).build_status(&info.template_id, &info.build_id, 0).await.unwrap();
    stop(child);

    let (child, url) = serve(data.path());
    let after = client(&url).build_status(&info.template_id, &info.build_id, 0).await.unwrap();
    assert_eq!(after.status, before.status);
    assert_eq!(after.log_entries, before.log_entries);
    assert!(after.log_entries.iter().any(|e| e.message.contains("NO IMAGE WAS BUILT")), "{:?}", after.log_entries);
    stop(child);
}

#[test]
fn an_unknown_engine_is_refused_with_the_choices() {
    let out = Command::new(env!("CARGO_BIN_EXE_sandbox-template"))
        .args(["serve", "--engine", "lxc", "--api-key", "k"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("expected auto, docker, podman or none"), "{err}");
}
