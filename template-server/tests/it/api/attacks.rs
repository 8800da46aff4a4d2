//! The server attacked as an exposed service would be (issue 10's findings, one test each): forged
//! uploads, poisoned archives, setuid files, decompression bombs, unauthenticated bodies,
//! slow-loris connections, DNS rebinding, hostile names. Each failed on the server before the
//! fixes; each checks what an attacker would get, not how the server is built.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sandbox_template_runtime::context::BuildContext;
use sandbox_template_server::api::{Server, ServerConfig, ServerHandle};
use sandbox_template_server::runner::EngineRunner;
use sandbox_template_server::store::Store;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::cloud::KEY;

/// A server with `config`, an in-memory store and a runner that stages builds (no engine) under
/// `builds`, so what an upload turns into on disk can be inspected.
async fn staging_server(config: ServerConfig, builds: &Path) -> ServerHandle {
    let runner = EngineRunner::new(None, builds);
    Server::start_with(config, Store::temporary().unwrap(), Arc::new(runner)).await.unwrap()
}

async fn call(server: &ServerHandle, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    crate::support::cloud::call_api(&reqwest::Client::new(), &server.url(), method, path, body).await
}

async fn create(server: &ServerHandle, name: &str) -> (String, String) {
    let (status, body) = call(server, reqwest::Method::POST, "/v3/templates", Some(json!({"name": name}))).await;
    assert_eq!(status, 202, "{body}");
    (body["templateID"].as_str().unwrap().to_owned(), body["buildID"].as_str().unwrap().to_owned())
}

/// The signed upload URL the server hands out for `hash`.
async fn upload_url(server: &ServerHandle, template_id: &str, hash: &str) -> String {
    let (status, info) =
        call(server, reqwest::Method::GET, &format!("/templates/{template_id}/files/{hash}"), None).await;
    assert_eq!(status, 201, "{info}");
    info["url"].as_str().unwrap().to_owned()
}

async fn put(url: &str, body: Vec<u8>) -> (u16, String) {
    let resp = reqwest::Client::new().put(url).body(body).send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

/// Sends `request` as is and returns everything the server answers until it closes (or 10 s).
async fn raw(server: &ServerHandle, request: &[u8]) -> String {
    let mut tcp = TcpStream::connect(server.addr()).await.unwrap();
    tcp.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(10);
    while let Ok(Ok(n)) = tokio::time::timeout_at(deadline.into(), tcp.read(&mut buf)).await {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
        // One answer is all these tests need.
        if out.windows(4).any(|w| w == b"\r\n\r\n") && out.ends_with(b"}") {
            break;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every file name in `dir`.
fn files_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
}

/// A tar.gz of `(path, mode, contents)` entries.
fn tar_gz(entries: &[(&str, u32, &[u8])]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (path, mode, content) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(*mode);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        tar.append_data(&mut header, path, *content).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap()
}

/// The `filesHash` a client computes for `COPY src dest` over `ctx`.
fn files_hash(ctx: &Path, src: &str, dest: &str) -> String {
    BuildContext::open(ctx).unwrap().source(src, dest, false).unwrap().files_hash().unwrap()
}

fn copy_step(src: &str, dest: &str, hash: &str) -> Value {
    json!({"type": "COPY", "args": [src, dest, "", ""], "force": false, "filesHash": hash})
}

/// F1: the upload route has no key, so its URL must be the permission. A PUT without a valid
/// signature, with another template's or hash's signature, or naming the template by name, is
/// refused with 403 before its body is read, and nothing is stored.
#[tokio::test]
async fn forged_and_unsigned_uploads_are_refused_before_the_body_and_store_nothing() {
    let server = Server::start(ServerConfig::new(KEY)).await.unwrap();
    let (tid, _) = create(&server, "victim").await;
    let (other, _) = create(&server, "attacker").await;
    let hash = "a".repeat(64);
    let archive = tar_gz(&[("evil.sh", 0o755, b"#!/bin/sh\nid\n")]);

    let unsigned = format!("{}/upload/{tid}/{hash}", server.url());
    let signed = upload_url(&server, &tid, &hash).await;
    let query = signed.split_once('?').unwrap().1.to_owned();
    let other_hash = upload_url(&server, &tid, &"b".repeat(64)).await;
    let other_template = upload_url(&server, &other, &hash).await;
    let forged = [
        unsigned.clone(),
        format!("{unsigned}?expires=99999999999&signature={}", "0".repeat(64)),
        // A valid signature, moved to another hash or template, or used with the name.
        format!("{unsigned}?{}", other_hash.split_once('?').unwrap().1),
        format!("{unsigned}?{}", other_template.split_once('?').unwrap().1),
        format!("{}/upload/victim/{hash}?{query}", server.url()),
    ];
    for url in &forged {
        let (status, body) = put(url, archive.clone()).await;
        assert_eq!(status, 403, "{url}: {body}");
    }
    // Refused on its headers: a 10 MB body that never comes still gets its 403 at once.
    let path = unsigned.strip_prefix(&server.url()).unwrap();
    let answer =
        raw(&server, format!("PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10000000\r\n\r\n").as_bytes())
            .await;
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert_eq!(files_in(server.store().uploads_dir()), Vec::<String>::new());

    // The URL the server handed out works.
    let (status, body) = put(&signed, archive).await;
    assert_eq!(status, 200, "{body}");
}

/// F1: an archive uploaded under a hash it does not match is refused by the build that names
/// it (400 naming the step), deleted, and never reported present; an archive that hashes right
/// but smuggles an extra file into the shared context is refused too.
#[tokio::test]
async fn a_poisoned_archive_is_refused_by_the_build_and_not_kept() {
    let builds = tempfile::tempdir().unwrap();
    let server = staging_server(ServerConfig::new(KEY), builds.path()).await;
    let ctx = tempfile::tempdir().unwrap();
    std::fs::create_dir(ctx.path().join("app")).unwrap();
    std::fs::write(ctx.path().join("app/main.sh"), "echo good\n").unwrap();
    std::fs::set_permissions(ctx.path().join("app/main.sh"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let hash = files_hash(ctx.path(), "app", "/app");

    for (i, poisoned) in [
        tar_gz(&[("app/main.sh", 0o644, b"echo evil\n")]),
        tar_gz(&[("app/main.sh", 0o644, b"echo good\n"), ("other/run.sh", 0o755, b"echo smuggled\n")]),
    ]
    .into_iter()
    .enumerate()
    {
        let (tid, bid) = create(&server, &format!("poisoned-{i}")).await;
        let (status, body) = put(&upload_url(&server, &tid, &hash).await, poisoned).await;
        assert_eq!(status, 200, "{body}");
        let (_, info) = call(&server, reqwest::Method::GET, &format!("/templates/{tid}/files/{hash}"), None).await;
        assert_eq!(info["present"], false, "an unverified upload is not present");
        let start = json!({"fromImage": "alpine", "steps": [copy_step("app", "/app", &hash)]});
        let (status, answer) =
            call(&server, reqwest::Method::POST, &format!("/v2/templates/{tid}/builds/{bid}"), Some(start)).await;
        assert_eq!(status, 400, "{answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains("step 1 (COPY app /app)"), "{message}");
        assert!(message.contains(if i == 0 { "do not match filesHash" } else { "other/run.sh" }), "{message}");
        assert_eq!(files_in(server.store().uploads_dir()), Vec::<String>::new(), "nothing is kept");
    }
}

/// F2, F4: a setuid file is unpacked without its setuid bit (its hash computed, as a client
/// would, over what the server keeps), and the staged context is reachable by its owner only.
#[tokio::test]
async fn setuid_bits_are_stripped_and_contexts_are_owner_only() {
    let builds = tempfile::tempdir().unwrap();
    let server = staging_server(ServerConfig::new(KEY), builds.path()).await;
    let ctx = tempfile::tempdir().unwrap();
    std::fs::create_dir(ctx.path().join("bin")).unwrap();
    std::fs::set_permissions(ctx.path().join("bin"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(ctx.path().join("bin/tool"), "#!/bin/sh\nid\n").unwrap();
    std::fs::set_permissions(ctx.path().join("bin/tool"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let hash = files_hash(ctx.path(), "bin", "/usr/local/bin");
    // The same file with setuid, setgid and sticky set in the archive.
    let archive = {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        let mut dir = tar::Header::new_gnu();
        dir.set_entry_type(tar::EntryType::Directory);
        dir.set_mode(0o7755);
        dir.set_size(0);
        dir.set_cksum();
        tar.append_data(&mut dir, "bin/", std::io::empty()).unwrap();
        let mut file = tar::Header::new_gnu();
        file.set_entry_type(tar::EntryType::Regular);
        file.set_mode(0o7755);
        file.set_uid(0);
        file.set_gid(0);
        file.set_size(13);
        file.set_cksum();
        tar.append_data(&mut file, "bin/tool", &b"#!/bin/sh\nid\n"[..]).unwrap();
        tar.into_inner().unwrap().finish().unwrap()
    };
    let (tid, bid) = create(&server, "setuid").await;
    let (status, body) = put(&upload_url(&server, &tid, &hash).await, archive).await;
    assert_eq!(status, 200, "{body}");
    let start = json!({"fromImage": "alpine", "steps": [copy_step("bin", "/usr/local/bin", &hash)]});
    let (status, answer) =
        call(&server, reqwest::Method::POST, &format!("/v2/templates/{tid}/builds/{bid}"), Some(start)).await;
    assert_eq!(status, 202, "{answer}");
    let status_path = format!("/templates/{tid}/builds/{bid}/status");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, s) = call(&server, reqwest::Method::GET, &status_path, None).await;
        if s["status"] == "ready" {
            break;
        }
        assert!(s["status"] != "error" && Instant::now() < deadline, "{s}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let build = builds.path().join(&bid);
    let mode = |p: &Path| std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&build.join("context/bin/tool")), 0o755, "setuid, setgid and sticky are dropped");
    assert_eq!(mode(&build.join("context/bin")), 0o755);
    assert_eq!(mode(&build), 0o700, "the build folder is owner-only");
    assert_eq!(mode(&build.join("context")), 0o700, "the context is owner-only");
    let upload = server.store().upload(&hash).unwrap();
    assert_eq!(mode(&upload), 0o600, "the kept archive is owner-only");
}

/// F13: a failed build leaves no unpacked context behind (an engine build removes it whether it
/// succeeds or fails; without an engine a successful build's staged context is its result).
#[tokio::test]
async fn a_failed_build_removes_its_context() {
    let builds = tempfile::tempdir().unwrap();
    let server = staging_server(ServerConfig::new(KEY), builds.path()).await;
    let ctx = tempfile::tempdir().unwrap();
    std::fs::write(ctx.path().join("big.bin"), vec![7u8; 1 << 20]).unwrap();
    std::fs::set_permissions(ctx.path().join("big.bin"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let hash = files_hash(ctx.path(), "big.bin", "/big.bin");
    let archive = tar_gz(&[("big.bin", 0o644, &vec![7u8; 1 << 20])]);
    let (tid, bid) = create(&server, "fails-late").await;
    let (status, body) = put(&upload_url(&server, &tid, &hash).await, archive).await;
    assert_eq!(status, 200, "{body}");
    // Staged first, then refused by the template's own rules (an ENV name cannot start with a digit).
    let start = json!({"fromImage": "alpine", "steps": [
        copy_step("big.bin", "/big.bin", &hash),
        {"type": "ENV", "args": ["1BAD", "x"], "force": false},
    ]});
    let (status, answer) =
        call(&server, reqwest::Method::POST, &format!("/v2/templates/{tid}/builds/{bid}"), Some(start)).await;
    assert_eq!(status, 202, "{answer}");
    let status_path = format!("/templates/{tid}/builds/{bid}/status");
    let deadline = Instant::now() + Duration::from_secs(20);
    let s = loop {
        let (_, s) = call(&server, reqwest::Method::GET, &status_path, None).await;
        if s["status"] == "error" || s["status"] == "ready" {
            break s;
        }
        assert!(Instant::now() < deadline, "{s}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(s["status"], "error", "{s}");
    assert!(!builds.path().join(&bid).join("context").exists(), "the failed build's context is gone");
}

/// F6: a small tar.gz that expands far past the unpacked-bytes limit, an archive with too many
/// entries, and a too-long path are refused at upload with 413 naming the limit, and an upload
/// over the size limit is refused on its `Content-Length`. Nothing is kept.
#[tokio::test]
async fn decompression_bombs_and_oversized_uploads_stop_at_their_limits() {
    let mut config = ServerConfig::new(KEY);
    config.unpack.max_bytes = 1 << 20;
    config.unpack.max_entries = 10;
    config.unpack.max_path_len = 100;
    config.max_upload_bytes = 256 << 10;
    let server = Server::start(config).await.unwrap();
    let (tid, _) = create(&server, "bombs").await;

    let zeros = vec![0u8; 64 << 20];
    let bomb = tar_gz(&[("zeros", 0o644, &zeros)]);
    assert!(bomb.len() < 256 << 10, "the bomb is small: {} bytes", bomb.len());
    let many: Vec<(String, u32, &[u8])> = (0..11).map(|i| (format!("f{i}"), 0o644, &b"x"[..])).collect();
    let many = tar_gz(&many.iter().map(|(p, m, c)| (p.as_str(), *m, *c)).collect::<Vec<_>>());
    let long_path = format!("{}/f", "d".repeat(120));
    let long = tar_gz(&[(&long_path, 0o644, b"x")]);
    for (i, (archive, limit)) in
        [(bomb, "unpacked-bytes limit"), (many, "entry limit"), (long, "path-length limit")].into_iter().enumerate()
    {
        let url = upload_url(&server, &tid, &format!("{i:064}")).await;
        let (status, body) = put(&url, archive).await;
        assert_eq!(status, 413, "{body}");
        assert!(body.contains(limit), "{body}");
        assert_eq!(files_in(server.store().uploads_dir()), Vec::<String>::new(), "nothing is kept");
    }
    let url = upload_url(&server, &tid, &"9".repeat(64)).await;
    let (status, body) = put(&url, vec![0; (256 << 10) + 1]).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("upload size limit") && body.contains("--max-upload-bytes"), "{body}");
    assert_eq!(files_in(server.store().uploads_dir()), Vec::<String>::new());
}

/// F3: the key is checked before the body is read: an unauthenticated request announcing a
/// 10 MB body is answered 401 at once, and nothing of its body is recorded.
#[tokio::test]
async fn unauthenticated_bodies_are_never_read_or_recorded() {
    let server = Server::start(ServerConfig::new(KEY)).await.unwrap();
    let started = Instant::now();
    let answer = raw(
        &server,
        b"POST /v3/templates HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{\"name\":",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(5), "answered without waiting for the body");
    let resp = reqwest::Client::new()
        .post(format!("{}/v3/templates", server.url()))
        .header("X-API-KEY", "wrong")
        .json(&json!({"name": "secret-body"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let recorded = server.requests();
    assert_eq!(recorded.len(), 2, "{recorded:?}");
    assert!(recorded.iter().all(|r| r.body.is_none() && r.status == 401), "{recorded:?}");
}

/// F11: connections that never finish their headers (slow-loris) are closed after the header
/// timeout, and at most `max_connections` are served at once while the rest wait.
#[tokio::test]
async fn slow_loris_connections_are_closed_after_the_header_timeout() {
    let mut config = ServerConfig::new(KEY);
    config.header_timeout = Duration::from_millis(500);
    config.max_connections = 20;
    let server = Server::start(config).await.unwrap();
    let mut held = Vec::new();
    for _ in 0..20 {
        let mut tcp = TcpStream::connect(server.addr()).await.unwrap();
        tcp.write_all(b"GET /templates/x/tags HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ").await.unwrap();
        held.push(tcp);
    }
    // While all 20 are held, a 21st connection waits to be accepted.
    let waiting = reqwest::Client::new()
        .get(format!("{}/templates/aliases/x", server.url()))
        .header("X-API-KEY", KEY)
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(waiting.is_err(), "served beyond the connection limit: {waiting:?}");
    let started = Instant::now();
    for mut tcp in held {
        let mut buf = [0u8; 1024];
        let closed = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match tcp.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert!(closed.is_ok(), "a slow-loris connection was held for 10 s");
    }
    assert!(started.elapsed() < Duration::from_secs(5), "closed after {:?}", started.elapsed());
    // With them gone, requests are served again.
    let (status, _) = call(&server, reqwest::Method::GET, "/templates/aliases/x", None).await;
    assert_eq!(status, 404);
}

/// F11: a body that stops sending (an upload or a JSON request) is dropped after the body
/// timeout with 408, and the upload keeps nothing.
#[tokio::test]
async fn stalled_bodies_are_dropped_after_the_body_timeout() {
    let mut config = ServerConfig::new(KEY);
    config.body_timeout = Duration::from_millis(300);
    let server = Server::start(config).await.unwrap();
    let (tid, _) = create(&server, "stalled").await;
    let url = upload_url(&server, &tid, &"d".repeat(64)).await;
    let path = url.strip_prefix(&server.url()).unwrap();
    let started = Instant::now();
    let answer = raw(
        &server,
        format!("PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\nonly ten..").as_bytes(),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(5), "dropped after {:?}", started.elapsed());
    assert_eq!(files_in(server.store().uploads_dir()), Vec::<String>::new());
    let answer = raw(
        &server,
        format!("POST /v3/templates HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-KEY: {KEY}\r\nContent-Length: 100\r\n\r\n{{\"name\"").as_bytes(),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

/// DNS rebinding: a loopback server answers only to loopback names; another `Host` gets 421
/// naming it, before the key is even looked at.
#[tokio::test]
async fn a_foreign_host_is_refused_on_loopback() {
    let server = Server::start(ServerConfig::new(KEY)).await.unwrap();
    let answer = raw(
        &server,
        format!(
            "GET /templates/aliases/x HTTP/1.1\r\nHost: evil.example:{}\r\nX-API-KEY: {KEY}\r\n\r\n",
            server.addr().port()
        )
        .as_bytes(),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 421"), "{answer}");
    assert!(answer.contains("evil.example") && answer.contains("--public-url"), "{answer}");
    for host in ["localhost", "127.0.0.1", "[::1]"] {
        let answer = raw(
            &server,
            format!(
                "GET /templates/aliases/x HTTP/1.1\r\nHost: {host}:{}\r\nX-API-KEY: {KEY}\r\n\r\n",
                server.addr().port()
            )
            .as_bytes(),
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 404"), "{host}: {answer}");
    }
    // A public URL adds its host, and upload URLs are built on it.
    let mut config = ServerConfig::new(KEY);
    config.public_url = Some("https://builds.example.com".to_owned());
    let public = Server::start(config).await.unwrap();
    let answer = raw(
        &public,
        format!("GET /templates/aliases/x HTTP/1.1\r\nHost: builds.example.com\r\nX-API-KEY: {KEY}\r\n\r\n").as_bytes(),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    let (tid, _) = create(&public, "public").await;
    let url = upload_url(&public, &tid, &"c".repeat(64)).await;
    assert!(url.starts_with(&format!("https://builds.example.com/upload/{tid}/")), "{url}");
}

/// F12: names, tags and bases that would reach a path, a shell or the engine's command line are
/// refused with 400 naming the field.
#[tokio::test]
async fn hostile_names_tags_and_bases_are_refused_naming_the_field() {
    let server = Server::start(ServerConfig::new(KEY)).await.unwrap();
    for (body, field) in [
        (json!({"name": "../../etc/x"}), "`name`"),
        (json!({"name": "$(touch /tmp/pwned)"}), "`name`"),
        (json!({"name": "--privileged"}), "`name`"),
        (json!({"name": ":"}), "`name`"),
        (json!({"name": "ok:"}), "`name`"),
        (json!({"alias": "a b"}), "`alias`"),
        (json!({"name": "ok", "tags": ["v1", "../x"]}), "`tags[1]`"),
    ] {
        let (status, answer) = call(&server, reqwest::Method::POST, "/v3/templates", Some(body.clone())).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(answer["message"].as_str().unwrap().starts_with(field), "{body}: {answer}");
    }
    let (tid, bid) = create(&server, "bases").await;
    for (body, field) in [
        (json!({"fromTemplate": "--platform=linux/arm64 alpine"}), "`fromTemplate`"),
        (json!({"fromTemplate": "base:$(id)"}), "`fromTemplate`"),
        (json!({"fromImage": "--platform=linux/arm64 alpine"}), "`fromImage`"),
        (json!({"fromImage": "alpine\nRUN id"}), "`fromImage`"),
    ] {
        let (status, answer) =
            call(&server, reqwest::Method::POST, &format!("/v2/templates/{tid}/builds/{bid}"), Some(body.clone()))
                .await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(answer["message"].as_str().unwrap().starts_with(field), "{body}: {answer}");
    }
    let (status, answer) =
        call(&server, reqwest::Method::POST, "/templates/tags", Some(json!({"target": "bases:-x", "tags": ["v2"]})))
            .await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer["message"].as_str().unwrap().starts_with("`target`"), "{answer}");
}
