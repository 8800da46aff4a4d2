//! The server's own contract, spoken to with a plain HTTP client: validation (400), auth (401),
//! uploads (411 without a length), hash checks, log paging.
use std::time::Duration;

use crate::support::cloud::*;
use serde_json::{Value, json};

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        call_api(&self.http, &self.base, method, path, body).await
    }

    async fn create(&self, name: &str) -> (String, String) {
        let (status, body) = self.call(reqwest::Method::POST, "/v3/templates", Some(json!({"name": name}))).await;
        assert_eq!(status, 202, "{body}");
        (body["templateID"].as_str().unwrap().to_owned(), body["buildID"].as_str().unwrap().to_owned())
    }
}

async fn api() -> (sandbox_template_server::api::ServerHandle, Api) {
    let server = server().await;
    let api = Api { http: reqwest::Client::new(), base: server.url() };
    (server, api)
}

#[tokio::test]
async fn bodies_are_validated_with_a_message() {
    let (_server, api) = api().await;
    use reqwest::Method;
    let cases = [
        (json!({"tags": ["x"]}), "`name` is required"),
        (json!({"name": "a", "cpuCount": "two"}), "`cpuCount` must be a non-negative 32-bit integer"),
        (json!({"name": "a", "tags": "x"}), "`tags` must be an array of strings"),
        (json!(["a"]), "JSON object"),
    ];
    for (body, message) in cases {
        let (status, answer) = api.call(Method::POST, "/v3/templates", Some(body)).await;
        assert_eq!(status, 400, "{answer}");
        assert!(answer["message"].as_str().unwrap().contains(message), "{answer}");
        assert_eq!(answer["code"], 400);
    }
    let (tid, bid) = api.create("valid").await;
    let start = format!("/v2/templates/{tid}/builds/{bid}");
    let cases = [
        (json!({"steps": []}), "one of `fromImage` or `fromTemplate` is required"),
        (json!({"fromImage": "a", "steps": [{"type": "FOO", "args": []}]}), "\"FOO\" is not a step type"),
        (json!({"fromImage": "a", "steps": [{"type": "RUN"}]}), "`steps[0].args` has 0 values"),
        (
            json!({"fromImage": "a", "steps": [{"type": "COPY", "args": ["a", "b", "", ""], "filesHash": "00"}]}),
            "filesHash",
        ),
        (
            json!({"fromImage": "a", "steps": [{"type": "COPY", "args": ["a", "b", "", ""], "filesHash": "a".repeat(64)}]}),
            "were never uploaded",
        ),
        (json!({"fromImage": "a", "force": "yes"}), "`force` must be a boolean"),
    ];
    for (body, message) in cases {
        let (status, answer) = api.call(Method::POST, &start, Some(body)).await;
        assert_eq!(status, 400, "{answer}");
        assert!(answer["message"].as_str().unwrap().contains(message), "{message}: {answer}");
    }
    let (status, _) = api.call(Method::POST, "/v2/templates/tplnope/builds/b", Some(json!({"fromImage": "a"}))).await;
    assert_eq!(status, 404);
    let (status, answer) =
        api.call(Method::GET, &format!("/templates/{tid}/builds/{bid}/status?logsOffset=-1"), None).await;
    assert_eq!(status, 400, "{answer}");
    let (status, answer) = api.call(Method::GET, "/nowhere", None).await;
    assert_eq!((status, answer["message"].as_str().unwrap()), (404, "no route GET /nowhere"));
}

#[tokio::test]
async fn the_api_key_is_required() {
    let (server, api) = api().await;
    let resp =
        api.http.post(format!("{}/v3/templates", server.url())).json(&json!({"name": "x"})).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("X-API-KEY"), "{body}");
    let resp = api
        .http
        .post(format!("{}/v3/templates", server.url()))
        .header("X-API-KEY", "wrong")
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = api
        .http
        .post(format!("{}/v3/templates", server.url()))
        .header("Authorization", format!("Bearer {KEY}"))
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    assert!(server.store().templates().await.unwrap().len() == 1);
}

#[tokio::test]
async fn templates_are_keyed_by_name() {
    let (server, api) = api().await;
    let (t1, b1) = api.create("same:v1").await;
    let (t2, b2) = api.create("same:v2").await;
    assert_eq!(t1, t2);
    assert_ne!(b1, b2);
    assert_eq!(server.store().templates().await.unwrap().len(), 1);
}

fn tar_gz_of(name: &str, content: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    {
        let mut tar = tar::Builder::new(&mut gz);
        let mut header = tar::Header::new_ustar();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, name, content).unwrap();
        tar.finish().unwrap();
    }
    gz.finish().unwrap()
}

#[tokio::test]
async fn uploads_need_a_length_and_must_match_their_files_hash() {
    let (server, api) = api().await;
    let (tid, bid) = api.create("mismatch").await;
    let hash = "b".repeat(64);
    let (status, info) = api.call(reqwest::Method::GET, &format!("/templates/{tid}/files/{hash}"), None).await;
    assert_eq!((status, info["present"].as_bool()), (201, Some(false)));
    let url = info["url"].as_str().unwrap().to_owned();

    // Chunked (no Content-Length) is refused, like a presigned URL would.
    let chunks = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(b"abc".to_vec())]);
    let resp = api.http.put(&url).body(reqwest::Body::wrap_stream(chunks)).send().await.unwrap();
    assert_eq!(resp.status(), 411);

    let archive = tar_gz_of("a.txt", b"not what was hashed\n");
    let resp = api.http.put(&url).body(archive).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    // Kept, but not present until a build has verified it: a client uploads again rather than
    // trust it.
    let (_, info) = api.call(reqwest::Method::GET, &format!("/templates/{tid}/files/{hash}"), None).await;
    assert_eq!(info["present"], false);

    // The build that names it verifies it, refuses the mismatch naming the step, keeps nothing.
    let body = json!({"fromImage": "alpine", "steps": [
        {"type": "RUN", "args": ["echo"], "force": false},
        {"type": "COPY", "args": ["a.txt", "/a.txt", "", ""], "force": false, "filesHash": hash},
    ]});
    let start = format!("/v2/templates/{tid}/builds/{bid}");
    let (status, answer) = api.call(reqwest::Method::POST, &start, Some(body.clone())).await;
    assert_eq!(status, 400, "{answer}");
    let message = answer["message"].as_str().unwrap();
    assert!(message.contains("step 2 (COPY a.txt /a.txt)") && message.contains("do not match filesHash"), "{answer}");
    let kept: Vec<_> =
        std::fs::read_dir(server.store().uploads_dir()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(kept.is_empty(), "nothing of the refused upload is kept: {kept:?}");
    let (status, answer) = api.call(reqwest::Method::POST, &start, Some(body)).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer["message"].as_str().unwrap().contains("were never uploaded"), "{answer}");

    // The build was not started by the refused request: it starts once, then conflicts.
    let plain = json!({"fromImage": "alpine", "steps": [{"type": "RUN", "args": ["echo"], "force": false}]});
    let (status, _) = api.call(reqwest::Method::POST, &start, Some(plain.clone())).await;
    assert_eq!(status, 202);
    let (status, answer) = api.call(reqwest::Method::POST, &start, Some(plain)).await;
    assert_eq!(status, 409, "starting twice: {answer}");
    drop(server);
}

#[tokio::test]
async fn logs_are_paged_100_at_a_time() {
    let (server, api) = api().await;
    let (tid, bid) = api.create("paged").await;
    let steps: Vec<Value> = (0..150).map(|i| json!({"type": "RUN", "args": [format!("echo {i}")]})).collect();
    let (status, _) = api
        .call(
            reqwest::Method::POST,
            &format!("/v2/templates/{tid}/builds/{bid}"),
            Some(json!({"fromImage": "a", "steps": steps})),
        )
        .await;
    assert_eq!(status, 202);
    let path = format!("/templates/{tid}/builds/{bid}/status");
    loop {
        let (_, s) = api.call(reqwest::Method::GET, &path, None).await;
        if s["status"] == "ready" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_, first) = api.call(reqwest::Method::GET, &format!("{path}?logsOffset=0"), None).await;
    let (_, second) = api.call(reqwest::Method::GET, &format!("{path}?logsOffset=100"), None).await;
    let (_, small) = api.call(reqwest::Method::GET, &format!("{path}?logsOffset=2&limit=3"), None).await;
    let total = 2 + 150 + 1;
    assert_eq!(first["logEntries"].as_array().unwrap().len(), 100);
    assert_eq!(second["logEntries"].as_array().unwrap().len(), total - 100);
    let small = small["logEntries"].as_array().unwrap();
    assert_eq!(small.len(), 3);
    assert_eq!(small[0]["message"], "[builder 1/150] RUN echo 0");
    assert_eq!(small[0]["step"], "1");
    drop(server);
}
