//! Template management (list, get, delete, exists, tags, build status) sends what the official
//! SDKs send: the same calls as `tests/conformance/sdk/vectors/management/record.js` made with
//! e2b 2.51.0 and novita-sandbox 2.1.1 (`requests.json`), and `record_py.py` with the E2B Python
//! SDK 2.63.0 for E2B's list and get, which the JS SDK lacks (`requests_py.json`), against a
//! stand-in answering as those scripts' servers do, compared request by request.

use std::path::PathBuf;

use axum::response::Response;
use sandbox_template_runtime::Provider;
use sandbox_template_runtime::cloud::{
    BuildState, Client, CloudError, ConfigError, ConnectionOptions, PageCursor, TemplateListQuery, TemplateType,
};
use serde_json::{Value, json};

use crate::support::fake_api::{FakeApi, Recorded, empty, json};

/// The key `record.js` uses.
const KEY: &str = "e2b_0123456789abcdef0123456789abcdef01234567";

fn vectors() -> Value {
    let dir = std::env::var_os("SANDBOX_TEMPLATE_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance/sdk/vectors"));
    let read = |file: &str| -> serde_json::Map<String, Value> {
        serde_json::from_str(&std::fs::read_to_string(dir.join("management").join(file)).unwrap()).unwrap()
    };
    let mut all = read("requests.json");
    all.extend(read("requests_py.json"));
    Value::Object(all)
}

fn template() -> Value {
    json!({"templateID": "tpl-1", "buildID": "b-1", "buildStatus": "ready", "aliases": [], "names": ["ns/app"],
        "buildCount": 2, "cpuCount": 2, "memoryMB": 1024, "diskSizeMB": 5120, "spawnCount": 0, "envdVersion": "0.2.0",
        "public": false, "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z",
        "lastSpawnedAt": null, "createdBy": null})
}

/// `record.js`'s `answer`.
fn answer(r: &Recorded) -> Response {
    let (m, p) = (r.method.as_str(), r.path.as_str());
    match m {
        "GET" if p == "/v2/templates" => {
            let page: u64 = r.query.iter().find(|(k, _)| k == "page").map_or(1, |(_, v)| v.parse().unwrap());
            json(200, json!({"templates": [template()], "total": 3, "page": page, "limit": 1, "totalPages": 2}))
        }
        "GET" if p.starts_with("/templates/aliases/") => json(200, json!({"templateID": "tpl-1", "public": false})),
        "POST" if p == "/templates/tags" => json(201, json!({"buildID": "b-1", "tags": ["prod"]})),
        "DELETE" if p == "/templates/tags" => empty(204),
        "GET" if p.ends_with("/tags") => {
            json(200, json!([{"tag": "prod", "buildID": "b-1", "createdAt": "2026-01-01T00:00:00Z"}]))
        }
        "GET" if p.ends_with("/status") => {
            json(200, json!({"templateID": "tpl-1", "buildID": "b-1", "status": "ready", "logs": [], "logEntries": []}))
        }
        "DELETE" if p == "/templates/missing" => json(404, json!({"code": 404, "message": "not found"})),
        "DELETE" => empty(204),
        "GET" => {
            let mut t = template();
            let o = t.as_object_mut().unwrap();
            o.remove("buildID");
            o.remove("buildStatus");
            o.insert(
                "builds".into(),
                json!([{"buildID": "b-2", "status": "building", "cpuCount": 2, "memoryMB": 1024,
                "createdAt": "2026-01-02T00:00:00Z", "updatedAt": "2026-01-02T00:00:00Z"}]),
            );
            json(200, t)
        }
        _ => json(500, json!({"code": 500, "message": "unexpected"})),
    }
}

/// The requests as `requests.json` writes them.
fn as_recorded(requests: &[Recorded]) -> Vec<Value> {
    requests
        .iter()
        .map(|r| {
            let body = (!r.body.is_empty()).then(|| String::from_utf8(r.body.clone()).unwrap());
            json!({"method": r.method, "path": r.path, "query": r.query, "body": body,
                "apiKey": r.headers.get("x-api-key").is_some_and(|v| v == KEY)})
        })
        .collect()
}

/// Compares what the client sent for `case` with the SDK's requests.
fn same_as_sdk(api: &FakeApi, case: &str) {
    let vectors = vectors();
    let expected = &vectors[case]["requests"];
    assert!(expected.is_array(), "no vector `{case}`");
    let sent = as_recorded(&api.requests());
    // Bodies: the same JSON (key order and spacing are the serializer's).
    let parse = |v: &Value| v.as_str().map(|s| serde_json::from_str::<Value>(s).unwrap());
    let normal = |list: &[Value]| -> Vec<Value> {
        list.iter()
            .map(|r| {
                let mut r = r.clone();
                r["body"] = json!(parse(&r["body"]));
                r
            })
            .collect()
    };
    assert_eq!(normal(&sent), normal(expected.as_array().unwrap()), "{case}");
    api.clear();
}

fn client(provider: Provider, api: &FakeApi) -> Client {
    Client::with_options(provider, ConnectionOptions::with_api_key(KEY).api_url(api.url.clone())).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn management_calls_send_what_the_sdks_send() {
    let api = FakeApi::start(answer).await;
    let vectors = vectors();
    for (provider, name) in [(Provider::E2b, "e2b"), (Provider::Novita, "novita")] {
        let c = client(provider, &api);
        assert!(c.exists("ns/app:v1").await.unwrap());
        same_as_sdk(&api, &format!("{name} exists"));
        let assigned = c.assign_tags("ns/app:v1", &["prod".into(), "stable".into()]).await.unwrap();
        assert_eq!((assigned.build_id.as_str(), assigned.tags.as_slice()), ("b-1", &["prod".to_owned()][..]));
        same_as_sdk(&api, &format!("{name} tags add"));
        c.remove_tags("ns/app", &["prod".into()]).await.unwrap();
        same_as_sdk(&api, &format!("{name} tags remove"));
        let tags = c.get_tags("ns/app").await.unwrap();
        assert_eq!(tags.len(), 1);
        assert_eq!((tags[0].tag.as_str(), tags[0].build_id.as_str()), ("prod", "b-1"));
        same_as_sdk(&api, &format!("{name} tags list"));
        let status = c.build_status("tpl-1", "b-1", 7).await.unwrap();
        assert_eq!(status.status, BuildState::Ready);
        same_as_sdk(&api, &format!("{name} status"));
        let delete = if provider == Provider::E2b { "e2b delete" } else { "novita delete" };
        assert_eq!(c.delete_template("ns/app").await.unwrap(), vectors[delete]["result"] == json!(true));
        same_as_sdk(&api, delete);
        let missing = format!("{delete} missing");
        assert_eq!(c.delete_template("missing").await.unwrap(), vectors[&missing]["result"] == json!(true));
        same_as_sdk(&api, &missing);
    }

    // Novita's list and get, and what its SDK made of the answers.
    let c = client(Provider::Novita, &api);
    let first = c.list_templates_page(&TemplateListQuery::default()).await.unwrap();
    let second =
        c.list_templates_page(&TemplateListQuery::default().cursor(first.next.clone().unwrap())).await.unwrap();
    same_as_sdk(&api, "novita list");
    let sdk = &vectors["novita list"]["result"];
    assert_eq!(first.next, Some(PageCursor("2".into())));
    assert_eq!(second.next.is_some(), sdk[2].as_bool().unwrap());
    let t = &first.templates[0];
    let s = &sdk[0]["templates"][0];
    assert_eq!(t.template_id, s["templateId"].as_str().unwrap());
    assert_eq!(t.template_type.as_deref(), s["templateType"].as_str());
    assert_eq!(t.names, ["ns/app"]);
    assert_eq!((t.cpu_count, t.memory_mb, t.disk_size_mb, t.build_count), (2, 1024, 5120, 2));
    c.list_templates_page(&TemplateListQuery::default().limit(50).cursor(PageCursor("3".into()))).await.unwrap();
    same_as_sdk(&api, "novita list limit");
    let snapshots =
        c.list_templates_page(&TemplateListQuery::default().template_type(TemplateType::Snapshot)).await.unwrap();
    same_as_sdk(&api, "novita list snapshots");
    let sdk = &vectors["novita list snapshots"]["result"]["templates"][0];
    assert_eq!(snapshots.templates[0].template_type.as_deref(), sdk["templateType"].as_str());
    assert_eq!(sdk["templateType"], "snapshot_template");

    let details = c.get_template("ns/app:v1").await.unwrap();
    same_as_sdk(&api, "novita get");
    let sdk = &vectors["novita get"]["result"];
    assert_eq!(details.template.build_id, sdk["buildId"].as_str().unwrap());
    assert_eq!(details.template.build_status, Some(BuildState::Building));
    assert_eq!(sdk["buildStatus"], "building");
    assert_eq!(details.builds.len(), 1);
}

/// E2B's list and get, as the Python SDK's generated client sends them (the JS SDK has neither):
/// `GET /v2/templates` with `limit` (100 by default) and `nextToken`, the next token in the
/// `X-Next-Token` header; `GET /templates/{id}?limit=100`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_e2b_list_and_get_send_what_the_python_sdk_sends() {
    let api = FakeApi::start(|r| {
        let token = r.query.iter().find(|(k, _)| k == "nextToken").map(|(_, v)| v.clone());
        if r.path != "/v2/templates" {
            return answer(r);
        }
        let mut t = template();
        if token.is_some() {
            t["templateID"] = json!("tpl-2");
        }
        let mut response = json(200, json!([t]));
        if token.is_none() {
            response.headers_mut().insert("x-next-token", "tok+/=2".parse().unwrap());
        }
        response
    })
    .await;
    let c = client(Provider::E2b, &api);
    let first = c.list_templates_page(&TemplateListQuery::default()).await.unwrap();
    same_as_sdk(&api, "e2b list");
    assert_eq!(first.next, Some(PageCursor(vectors()["e2b list"]["result"]["nextToken"].as_str().unwrap().into())));
    let second =
        c.list_templates_page(&TemplateListQuery::default().limit(50).cursor(first.next.unwrap())).await.unwrap();
    same_as_sdk(&api, "e2b list next");
    assert_eq!(second.next, None);
    assert_eq!((first.templates[0].template_id.as_str(), second.templates[0].template_id.as_str()), ("tpl-1", "tpl-2"));
    assert_eq!(first.templates[0].build_status, Some(BuildState::Ready));

    let all = c.list_templates().await.unwrap();
    assert_eq!(all.iter().map(|t| t.template_id.as_str()).collect::<Vec<_>>(), ["tpl-1", "tpl-2"]);
    api.clear();

    c.get_template("ns/app:v1").await.unwrap();
    same_as_sdk(&api, "e2b get");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_list_arguments_and_empty_names_are_refused_before_sending() {
    let api = FakeApi::start(answer).await;
    let c = client(Provider::Novita, &api);
    let err = c.list_templates_page(&TemplateListQuery::default().limit(101)).await.unwrap_err();
    assert!(matches!(err, CloudError::Config(ConfigError::InvalidListLimit { limit: 101 })), "{err:?}");
    assert_eq!(err.to_string(), "a template list page holds 1 to 100 templates, not 101");
    let err = c.list_templates_page(&TemplateListQuery::default().cursor(PageCursor("x".into()))).await.unwrap_err();
    assert!(err.to_string().contains("`x` is not a Novita template page"), "{err}");
    let e2b = client(Provider::E2b, &api);
    let err =
        e2b.list_templates_page(&TemplateListQuery::default().template_type(TemplateType::Build)).await.unwrap_err();
    assert!(matches!(err, CloudError::Config(ConfigError::TemplateTypeOnE2b)), "{err:?}");
    assert!(err.to_string().contains("leave it out for E2B"), "{err}");
    assert!(matches!(c.delete_template(" ").await, Err(CloudError::Config(ConfigError::MissingTemplateName))));
    assert!(matches!(c.get_template("").await, Err(CloudError::Config(ConfigError::MissingTemplateName))));
    assert!(api.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_always_naming_a_next_page_is_read_a_bounded_number_of_times() {
    let api = FakeApi::start(|r| {
        let page: u64 = r.query.iter().find(|(k, _)| k == "page").map_or(1, |(_, v)| v.parse().unwrap());
        json(200, json!({"templates": [], "page": page, "totalPages": u64::MAX}))
    })
    .await;
    let all = client(Provider::Novita, &api).list_templates().await.unwrap();
    assert!(all.is_empty());
    assert_eq!(api.requests().len(), Client::MAX_LIST_PAGES);
}
