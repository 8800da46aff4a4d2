//! `sandbox-template serve` as a user runs it: the binary, a client building against it, Ctrl-C,
//! and a second start over the same data folder that still knows the build and its log.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sandbox_template_runtime::cloud::{Client, CloudBuildOptions, ConnectionOptions};
use sandbox_template_runtime::{Provider, Template};

const KEY: &str = "cli-serve-key";

/// Starts the binary on a free port with no engine; returns it and its URL (from its banner).
fn serve(data: &std::path::Path) -> (Child, String) {
    serve_with(data, |c| c.env("SANDBOX_TEMPLATE_API_KEY", KEY))
}

/// [`serve`] with the key (and anything else) given by `key`.
fn serve_with(data: &std::path::Path, key: impl FnOnce(&mut Command) -> &mut Command) -> (Child, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sandbox-template"));
    command.args(["serve", "--addr", "127.0.0.1:0", "--engine", "none", "--data"]).arg(data);
    let mut child = key(command.env_remove("SANDBOX_TEMPLATE_API_KEY"))
        .env("RUST_LOG", "off")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
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

/// Starts the binary like [`serve`], logging as a user's `serve` does (no `RUST_LOG`) to a pipe
/// that [`stop_reading_log`] reads.
fn serve_logging(data: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sandbox-template"))
        .args(["serve", "--addr", "127.0.0.1:0", "--engine", "none", "--data"])
        .arg(data)
        .env("SANDBOX_TEMPLATE_API_KEY", KEY)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = lines.next().unwrap().unwrap().rsplit(' ').next().unwrap().to_owned();
    std::thread::spawn(move || lines.for_each(drop));
    (child, url)
}

/// Stops a [`serve_logging`] server and returns everything it logged.
fn stop_reading_log(mut child: Child) -> String {
    let stderr = child.stderr.take().unwrap();
    stop(child);
    BufReader::new(stderr).lines().map(|l| l.unwrap() + "\n").collect()
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

/// `VmRSS` of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Sends an unauthenticated POST with a `len`-byte body; returns the status line, if any came.
fn unauthenticated_post(addr: &str, len: usize) -> Option<String> {
    let mut tcp = std::net::TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let head = format!(
        "POST /v3/templates HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {len}\r\n\r\n"
    );
    tcp.write_all(head.as_bytes()).unwrap();
    // The server may answer and close before the body is sent: a failed write is expected.
    let chunk = vec![b' '; 1 << 20];
    let mut sent = 0;
    while sent < len {
        let n = chunk.len().min(len - sent);
        if tcp.write_all(&chunk[..n]).is_err() {
            break;
        }
        sent += n;
    }
    let mut answer = Vec::new();
    let _ = tcp.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).lines().next().map(str::to_owned)
}

/// F3: 30 unauthenticated 10 MB POSTs do not grow the server's memory (they took it from 19 to
/// 364 MB when the body was read and recorded before the key was checked).
#[test]
fn unauthenticated_bodies_do_not_grow_the_server() {
    let data = tempfile::tempdir().unwrap();
    let (child, url) = serve(data.path());
    let addr = url.trim_start_matches("http://").to_owned();
    // Warm up the allocator and the connection path with a few small refused requests.
    for _ in 0..5 {
        unauthenticated_post(&addr, 16);
    }
    let before = rss_kib(child.id());
    let mut refused = 0;
    for _ in 0..30 {
        if unauthenticated_post(&addr, 10_000_000).is_some_and(|l| l.starts_with("HTTP/1.1 401")) {
            refused += 1;
        }
    }
    let after = rss_kib(child.id());
    eprintln!("serve VmRSS before {before} KiB, after 30 unauthenticated 10 MB POSTs {after} KiB");
    assert!(refused > 0, "no request was answered 401");
    assert!(after < before + 50 * 1024, "RSS grew from {before} KiB to {after} KiB");
    stop(child);
}

/// The key can come from a file; on the command line it works with a warning that says why not.
#[test]
fn the_key_comes_from_a_file_and_the_command_line_warns() {
    let data = tempfile::tempdir().unwrap();
    let key_file = data.path().join("key");
    std::fs::write(&key_file, format!("{KEY}\n")).unwrap();
    let (child, url) = serve_with(data.path(), |c| c.arg("--api-key-file").arg(&key_file));
    let addr = url.trim_start_matches("http://").to_owned();
    let mut tcp = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        tcp,
        "GET /templates/aliases/none HTTP/1.1\r\nHost: {addr}\r\nX-API-KEY: {KEY}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 404"), "the key from the file is accepted: {answer}");
    stop(child);

    let out = Command::new(env!("CARGO_BIN_EXE_sandbox-template"))
        .args(["serve", "--engine", "none", "--addr", "127.0.0.1:1", "--api-key", KEY, "--public-url", "nope"])
        .arg("--data")
        .arg(data.path())
        .env_remove("SANDBOX_TEMPLATE_API_KEY")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("warning: --api-key puts the key in the process list"), "{err}");
    assert!(err.contains("--api-key-file"), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_sandbox-template"))
        .args(["serve", "--engine", "none"])
        .env_remove("SANDBOX_TEMPLATE_API_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no API key") && err.contains("--api-key-file"), "{err}");
}

/// `serve` logs each request with its method, path, status and latency (never the query, which
/// carries upload signatures).
#[test]
fn each_request_is_logged() {
    let data = tempfile::tempdir().unwrap();
    let (child, url) = serve_logging(data.path());
    let addr = url.trim_start_matches("http://").to_owned();
    let mut tcp = std::net::TcpStream::connect(&addr).unwrap();
    write!(tcp, "PUT /upload/tplx/abc?signature=feed HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    let log = stop_reading_log(child);
    let line = log.lines().find(|l| l.contains("request")).unwrap_or_else(|| panic!("no request line in:\n{log}"));
    for part in ["method=PUT", "path=/upload/tplx/abc", "status=403", "latency_ms="] {
        assert!(line.contains(part), "{part} missing from {line}");
    }
    assert!(!log.contains("feed"), "the query is not logged: {log}");
}

/// Without `--data`, `serve` keeps its data in the user's data folder:
/// `$XDG_DATA_HOME/sandbox-template`, created owner-only (with the parents it lacks).
#[test]
fn data_defaults_to_the_xdg_data_folder_created_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    let xdg = home.path().join("share");
    let mut child = Command::new(env!("CARGO_BIN_EXE_sandbox-template"))
        .args(["serve", "--addr", "127.0.0.1:0", "--engine", "none"])
        .env("XDG_DATA_HOME", &xdg)
        .env("SANDBOX_TEMPLATE_API_KEY", KEY)
        .env("RUST_LOG", "off")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let banner: Vec<String> = lines.by_ref().take(3).map(Result::unwrap).collect();
    // Read to the end, as a terminal would: a closed pipe would fail `serve`'s last lines.
    std::thread::spawn(move || lines.for_each(drop));
    stop(child);
    let data = xdg.join("sandbox-template");
    assert!(banner.iter().any(|l| l.trim() == format!("data:   {}", data.display())), "{banner:?}");
    for dir in [&xdg, &data] {
        let mode = std::fs::metadata(dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{} is {mode:o}", dir.display());
    }
    assert!(std::fs::read_dir(&data).unwrap().next().is_some(), "serve keeps its data there");
}

/// `serve` logs each build by default: when it starts, and when it is ready with its duration.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_build_is_logged() {
    let data = tempfile::tempdir().unwrap();
    let (child, url) = serve_logging(data.path());
    let client = Client::with_options(Provider::E2b, ConnectionOptions::with_api_key(KEY).api_url(url)).unwrap();
    let template = Template::new().from_image("busybox").run_cmd("echo hi");
    let info = client.build(&template, "cli-logged", &CloudBuildOptions::default()).await.unwrap();
    let log = stop_reading_log(child);
    let line = |what: &str| {
        log.lines()
            .find(|l| l.contains(what) && l.contains(&format!("build_id={}", info.build_id)))
            .unwrap_or_else(|| panic!("no `{what}` line for the build in:\n{log}"))
            .to_owned()
    };
    assert!(line("build started").contains("template=cli-logged"));
    let ready = line("build ready");
    assert!(ready.contains("template=cli-logged") && ready.contains("duration_s="), "{ready}");
}
