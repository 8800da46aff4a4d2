//! `GET /v2/templates` and `GET /templates/{templateID}`: the template list and details, read by
//! our client as it reads E2B, paged with `limit` and `X-Next-Token`.

use std::collections::BTreeSet;

use sandbox_template_runtime::cloud::{BuildState, Client, CloudBuildOptions, ConnectionOptions, TemplateListQuery};
use sandbox_template_runtime::{Provider, Template};
use sandbox_template_server::api::{Server, ServerConfig};
use serde_json::Value;

const KEY: &str = "templates-test-key";

fn client(url: &str) -> Client {
    Client::with_options(Provider::E2b, ConnectionOptions::with_api_key(KEY).api_url(url.to_owned())).unwrap()
}

async fn get(url: &str) -> (u16, Option<String>, Value) {
    let resp = reqwest::Client::new().get(url).header("X-API-KEY", KEY).send().await.unwrap();
    let status = resp.status().as_u16();
    let next = resp.headers().get("x-next-token").map(|v| v.to_str().unwrap().to_owned());
    (status, next, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_are_listed_page_by_page_and_read_with_their_builds_newest_first() {
    let server = Server::start(ServerConfig::new(KEY)).await.unwrap();
    let url = server.url();
    let client = client(&url);
    let template = Template::new().from_base_image().run_cmd("echo listed");
    let options = CloudBuildOptions::default().cpu_count(2).memory_mb(1024);
    let first = client.build(&template, "listed-a", &options).await.unwrap();
    let second = client.build(&template, "listed-a", &options).await.unwrap();
    client.build(&template, "listed-b", &CloudBuildOptions::default()).await.unwrap();
    client.build(&template, "listed-c", &CloudBuildOptions::default()).await.unwrap();
    // A third build of `listed-a`, created but never started: the newest, but not the last ready.
    let resp = reqwest::Client::new()
        .post(format!("{url}/v3/templates"))
        .header("X-API-KEY", KEY)
        .json(&serde_json::json!({"name": "listed-a"}))
        .send()
        .await
        .unwrap();
    let waiting: Value = resp.json().await.unwrap();
    let waiting = waiting["buildID"].as_str().unwrap().to_owned();

    // Two pages of two: the client follows X-Next-Token; no template twice, none left out.
    let page = client.list_templates_page(&TemplateListQuery::default().limit(2)).await.unwrap();
    assert_eq!(page.templates.len(), 2);
    let next = page.next.clone().expect("a next page");
    let last = client.list_templates_page(&TemplateListQuery::default().limit(2).cursor(next)).await.unwrap();
    assert_eq!((last.templates.len(), last.next), (1, None));
    let paged: BTreeSet<String> = page.templates.iter().chain(&last.templates).flat_map(|t| t.names.clone()).collect();
    assert_eq!(paged, BTreeSet::from(["listed-a".to_owned(), "listed-b".to_owned(), "listed-c".to_owned()]));
    let all = client.list_templates().await.unwrap();
    assert_eq!(all.len(), 3);
    let a = all.iter().find(|t| t.names == ["listed-a"]).unwrap();
    assert_eq!(a.template_id, first.template_id);
    assert_eq!((a.build_id.as_str(), a.build_status), (second.build_id.as_str(), Some(BuildState::Ready)));
    assert_eq!((a.build_count, a.cpu_count, a.memory_mb), (3, 2, 1024));
    assert!(!a.created_at.is_empty() && a.updated_at >= a.created_at, "{a:?}");

    // By name and by ID: the same template, its builds newest first.
    let by_name = client.get_template("listed-a").await.unwrap();
    let by_id = client.get_template(&first.template_id).await.unwrap();
    assert_eq!(by_name, by_id);
    assert_eq!(by_name.template.build_id, second.build_id);
    let builds: Vec<(&str, BuildState)> = by_name.builds.iter().map(|b| (b.build_id.as_str(), b.status)).collect();
    assert_eq!(
        builds,
        [
            (waiting.as_str(), BuildState::Waiting),
            (second.build_id.as_str(), BuildState::Ready),
            (first.build_id.as_str(), BuildState::Ready)
        ]
    );
    assert_eq!(by_name.builds[0].finished_at, None, "a waiting build has not finished");
    assert!(by_name.builds[1].finished_at.as_ref().is_some_and(|f| *f >= by_name.builds[1].created_at));
    assert_eq!((by_name.builds[1].cpu_count, by_name.builds[1].memory_mb), (2, 1024));

    // The builds page by X-Next-Token too, one at a time.
    let mut seen = Vec::new();
    let mut query = "limit=1".to_owned();
    for _ in 0..10 {
        let (status, next, body) = get(&format!("{url}/templates/listed-a?{query}")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["templateID"], first.template_id.as_str());
        seen.extend(body["builds"].as_array().unwrap().iter().map(|b| b["buildID"].as_str().unwrap().to_owned()));
        match next {
            Some(token) => query = format!("limit=1&nextToken={token}"),
            None => break,
        }
    }
    assert_eq!(seen, [waiting.clone(), second.build_id.clone(), first.build_id.clone()]);

    // The wire shape the SDKs read.
    let (_, next, listed) = get(&format!("{url}/v2/templates")).await;
    assert_eq!(next, None, "the only page is the last");
    let entry = listed.as_array().unwrap().iter().find(|t| t["names"] == serde_json::json!(["listed-a"])).unwrap();
    for field in [
        "templateID",
        "buildID",
        "buildStatus",
        "names",
        "aliases",
        "cpuCount",
        "memoryMB",
        "diskSizeMB",
        "buildCount",
        "spawnCount",
        "envdVersion",
        "public",
        "createdAt",
        "updatedAt",
        "lastSpawnedAt",
        "createdBy",
    ] {
        assert!(entry.get(field).is_some(), "`{field}` missing from {entry}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_pages_and_unknown_templates_are_refused_with_a_message() {
    let server = Server::start(ServerConfig::new(KEY)).await.unwrap();
    let url = server.url();
    client(&url).build(&Template::new().from_base_image().run_cmd("true"), "known", &Default::default()).await.unwrap();
    for (query, field) in [
        ("/v2/templates?limit=0", "limit"),
        ("/v2/templates?limit=101", "limit"),
        ("/v2/templates?limit=ten", "limit"),
        ("/templates/known?limit=-1", "limit"),
        ("/templates/known?nextToken=abc", "nextToken"),
    ] {
        let (status, _, body) = get(&format!("{url}{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(body["message"].as_str().unwrap().contains(&format!("`{field}`")), "{query}: {body}");
    }
    let long = "x".repeat(10_000);
    let (status, _, body) = get(&format!("{url}/v2/templates?nextToken={long}")).await;
    assert_eq!(status, 400, "{body}");
    let (status, _, body) = get(&format!("{url}/templates/unknown")).await;
    assert_eq!(status, 404, "{body}");
    assert!(body["message"].as_str().unwrap().contains("`unknown` not found"), "{body}");
    let err = client(&url).get_template("unknown").await.unwrap_err().to_string();
    assert!(err.contains("404") || err.contains("not found"), "{err}");
    // Without the key nothing is listed.
    let resp = reqwest::Client::new().get(format!("{url}/v2/templates")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    server.shutdown().await;
}
