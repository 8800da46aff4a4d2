//! Image-config inheritance (Novita) against a real registry on loopback (`docker-registry`,
//! images pushed with `skopeo`; `support/registry.rs`), compared byte for byte with what
//! novita-sandbox 2.1.1's `toJSON` prints against the same registry. What the SDK printed is also
//! kept in `tests/conformance/sdk/vectors/novita-inherit/` (the registries' addresses as
//! `<registry>` and `<auth-registry>`); `SANDBOX_TEMPLATE_RECORD_INHERIT=1` re-records it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sandbox_template_runtime::cloud::{ImageConfigClient, ImageConfigError, ImageConfigOptions, TokenService};
use sandbox_template_runtime::{JsonOptions, Provider, Secret, Template, wait_for_file, wait_for_port};
use serde_json::json;

use crate::support::registry::{Format, Platform, Registry, node, novita_sdk};

const USER: &str = "reader";
const PASSWORD: &str = "s3cret-pass";

/// What the main test image declares.
fn app_config() -> serde_json::Value {
    json!({
        "Env": ["PATH=/opt/app/bin:/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "HOME=/root", "APP_MODE=image", "NOEQUALS"],
        "WorkingDir": "/srv/app",
        "Entrypoint": ["/usr/bin/tini", "--"],
        "Cmd": ["serve", "--port=8080", "it's here"],
    })
}

fn client(registries: &[&Registry]) -> ImageConfigClient {
    let mut options = ImageConfigOptions::default().retries(3, Duration::from_millis(10));
    for r in registries {
        options = options.root_certificate(r.cert_pem.clone());
    }
    ImageConfigClient::with_options(options).unwrap()
}

fn novita_json(t: &Template) -> String {
    t.to_json_with(JsonOptions::for_provider(Provider::Novita).without_hashes()).unwrap()
}

/// One template written twice: in Rust, and as the novita-sandbox expression after `Template()`.
struct Case {
    name: &'static str,
    rust: Template,
    js: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn novita_json_with_inherited_config_matches_novita_sandbox() {
    let Some(anon) = Registry::start(None) else { return };
    let Some(auth) = Registry::start(Some((USER, PASSWORD))) else { return };
    let Some(modules) = novita_sdk() else { return };
    let app = anon.push("team/app:1", &[Platform::amd64(app_config())]);
    let multi = anon.push(
        "multi:2",
        &[
            Platform::arm64(json!({"Env": ["ARCH=arm64"], "Cmd": ["arm"]})),
            Platform::amd64(json!({"Env": ["ARCH=amd64", "PATH=/amd64/bin"], "WorkingDir": "/amd", "Cmd": ["amd"]})),
        ],
    );
    let arm_only = anon.push("armonly:1", &[Platform::arm64(json!({"Env": ["ARCH=arm64"], "Cmd": ["arm"]}))]);
    // Docker's media types: a schema 2 manifest, and a manifest list.
    let docker = anon.push_as("docker/app:1", &[Platform::amd64(app_config())], Format::Docker);
    let docker_list = anon.push_as(
        "docker/multi:1",
        &[
            Platform::arm64(json!({"Env": ["ARCH=arm64"]})),
            Platform::amd64(
                json!({"Env": ["ARCH=amd64"], "Entrypoint": ["/bin/sh", "-c"], "Cmd": ["exec app \"$@\""]}),
            ),
        ],
        Format::Docker,
    );
    let private = auth.push("private/app:1", &[Platform::amd64(json!({"Env": ["SECRET_HOME=/p"], "Cmd": ["run"]}))]);
    assert_eq!(anon.media_type(&docker), "application/vnd.docker.distribution.manifest.v2+json");
    assert_eq!(anon.media_type(&docker_list), "application/vnd.docker.distribution.manifest.list.v2+json");
    assert_eq!(anon.media_type(&multi), "application/vnd.oci.image.index.v1+json");
    let unreachable = "127.0.0.1:1/nothing:1";

    let q = |s: &str| serde_json::to_string(s).unwrap();
    let cases = vec![
        Case {
            name: "env_workdir_start",
            rust: Template::new()
                .from_image(&app)
                .set_envs([("APP_MODE", "user"), ("EXTRA", "$PATH:/x")])
                .run_cmd("echo hi"),
            js: format!(".fromImage({}).setEnvs({{APP_MODE: 'user', EXTRA: '$PATH:/x'}}).runCmd('echo hi')", q(&app)),
        },
        Case {
            name: "own_workdir_and_start",
            rust: Template::new().from_image(&app).set_workdir("/w").set_start_cmd("./run", wait_for_port(3000)),
            js: format!(".fromImage({}).setWorkdir('/w').setStartCmd('./run', novita.waitForPort(3000))", q(&app)),
        },
        Case {
            name: "own_ready_only",
            rust: Template::new().from_image(&app).set_ready_cmd(wait_for_file("/tmp/ready")),
            js: format!(".fromImage({}).setReadyCmd(novita.waitForFile('/tmp/ready'))", q(&app)),
        },
        Case {
            name: "inherit_off",
            rust: Template::new().from_image(&app).inherit_config(false).run_cmd("echo hi"),
            js: format!(".fromImage({}, undefined, {{inheritConfig: false}}).runCmd('echo hi')", q(&app)),
        },
        Case {
            name: "index_amd64",
            rust: Template::new().from_image(&multi),
            js: format!(".fromImage({})", q(&multi)),
        },
        Case {
            name: "docker_manifest",
            rust: Template::new().from_image(&docker).set_envs([("LANG", "en_US.UTF-8")]),
            js: format!(".fromImage({}).setEnvs({{LANG: 'en_US.UTF-8'}})", q(&docker)),
        },
        Case {
            name: "docker_manifest_list",
            rust: Template::new().from_image(&docker_list),
            js: format!(".fromImage({})", q(&docker_list)),
        },
        Case {
            name: "index_without_amd64",
            rust: Template::new().from_image(&arm_only).run_cmd("echo hi"),
            js: format!(".fromImage({}).runCmd('echo hi')", q(&arm_only)),
        },
        Case {
            name: "basic_auth",
            rust: Template::new().from_image_with_credentials(&private, Secret::new(USER), Secret::new(PASSWORD)),
            js: format!(".fromImage({}, {{username: {}, password: {}}})", q(&private), q(USER), q(PASSWORD)),
        },
        Case {
            name: "basic_auth_missing",
            rust: Template::new().from_image(&private),
            js: format!(".fromImage({})", q(&private)),
        },
        Case {
            name: "dockerfile",
            rust: Template::new().from_dockerfile(&format!("FROM {app}\nRUN echo hi\n")).unwrap(),
            js: format!(".fromDockerfile({})", q(&format!("FROM {app}\nRUN echo hi\n"))),
        },
        Case {
            name: "unreachable",
            rust: Template::new().from_image(unreachable).run_cmd("echo hi"),
            js: format!(".fromImage({}).runCmd('echo hi')", q(unreachable)),
        },
    ];

    let mut script = String::from(
        "const novita = require('novita-sandbox'); const { Template } = novita;\n(async () => { const out = {};\n",
    );
    for c in &cases {
        script.push_str(&format!(
            "out[{}] = await Template.toJSON(Template({{ fileContextPath: '.' }}){}, false);\n",
            q(c.name),
            c.js
        ));
    }
    script.push_str(
        "process.stdout.write(JSON.stringify(out)); })().catch((e) => { console.error(e); process.exit(1) });\n",
    );
    let sdk: serde_json::Map<String, serde_json::Value> = {
        let modules = modules.clone();
        let certs = vec![anon.cert_path(), auth.cert_path()];
        let text = tokio::task::spawn_blocking(move || node(&modules, &certs, &script)).await.unwrap();
        serde_json::from_str(&text).unwrap()
    };

    // The SDK did read the registries (so the comparison is not of two templates left alone).
    let read = |name: &str, wanted: &str| {
        let json = sdk[name].as_str().unwrap();
        assert!(json.contains(wanted), "novita-sandbox's {name} lacks `{wanted}`:\n{json}");
    };
    read("env_workdir_start", "\"startCmd\": \"/usr/bin/tini -- serve --port=8080 'it'\\\\''s here'\"");
    read("env_workdir_start", "\"/srv/app\"");
    read("index_amd64", "\"startCmd\": \"amd\"");
    read("basic_auth", "\"startCmd\": \"run\"");
    read("docker_manifest", "\"/srv/app\"");
    read("docker_manifest_list", "\"startCmd\": \"/bin/sh -c 'exec app");
    read("dockerfile", "\"startCmd\": \"/usr/bin/tini");

    // The recordings, with the registries' loopback addresses as placeholders.
    let vectors =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance/sdk/vectors/novita-inherit");
    let placeholders = |text: &str| text.replace(&anon.host, "<registry>").replace(&auth.host, "<auth-registry>");
    let record = std::env::var_os("SANDBOX_TEMPLATE_RECORD_INHERIT").is_some();
    let mut failures = Vec::new();
    for c in &cases {
        let (json, js) = (placeholders(sdk[c.name].as_str().unwrap()), placeholders(&c.js));
        let (json_file, js_file) = (vectors.join(format!("{}.json", c.name)), vectors.join(format!("{}.js", c.name)));
        if record {
            std::fs::create_dir_all(&vectors).unwrap();
            std::fs::write(&json_file, &json).unwrap();
            std::fs::write(&js_file, format!("Template(){js}\n")).unwrap();
        } else if std::fs::read_to_string(&json_file).ok().as_deref() != Some(json.as_str()) {
            failures.push(format!(
                "--- {}: novita-sandbox's output differs from {} (re-record with SANDBOX_TEMPLATE_RECORD_INHERIT=1 if the SDK or the test images changed on purpose)\n{json}",
                c.name,
                json_file.display()
            ));
        }
    }

    let images = client(&[&anon, &auth]);
    for c in cases {
        let resolved = images.resolve(c.rust.clone().for_provider(Provider::Novita), Provider::Novita).await;
        let ours = novita_json(&resolved.template);
        let theirs = sdk[c.name].as_str().unwrap();
        if ours != theirs {
            failures.push(format!("--- {}\n=== novita-sandbox\n{theirs}\n=== ours\n{ours}", c.name));
        }
        let expect_warning = matches!(c.name, "index_without_amd64" | "basic_auth_missing" | "unreachable");
        if resolved.warning.is_some() != expect_warning {
            failures.push(format!("--- {}: warning {:?}", c.name, resolved.warning));
        }
    }
    assert!(failures.is_empty(), "{} differ:\n{}", failures.len(), failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_image_config_is_applied_as_declared() {
    let Some(anon) = Registry::start(None) else { return };
    let app = anon.push("team/app:1", &[Platform::amd64(app_config())]);
    let t = Template::new().for_provider(Provider::Novita).from_image(&app).set_envs([("APP_MODE", "user")]);
    let resolved = client(&[&anon]).resolve(t, Provider::Novita).await;
    assert!(resolved.warning.is_none(), "{:?}", resolved.warning);
    let t = resolved.template;
    assert_eq!(
        t.image_env(),
        [
            ("PATH".to_owned(), "/opt/app/bin:/usr/local/bin:/usr/bin:/bin".to_owned()),
            ("LANG".to_owned(), "C.UTF-8".to_owned()),
            ("APP_MODE".to_owned(), "image".to_owned()),
        ],
        "HOME is left out, as is an entry without `=`"
    );
    assert_eq!(t.start_cmd(), Some("/usr/bin/tini -- serve --port=8080 'it'\\''s here'"));
    assert_eq!(t.ready_cmd().unwrap().command(Provider::Novita), "sleep 20");
    assert!(!t.inherits_config(), "applied once");
    let json: serde_json::Value = serde_json::from_str(&novita_json(&t)).unwrap();
    let steps = json["steps"].as_array().unwrap();
    assert_eq!(steps[steps.len() - 2]["type"], "WORKDIR");
    assert_eq!(steps[steps.len() - 2]["args"], json!(["/srv/app"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_resolve_reads_nothing_and_a_config_is_read_once_per_digest() {
    let Some(anon) = Registry::start(None) else { return };
    let config = app_config();
    let one = anon.push("cache/a:1", &[Platform::amd64(config.clone())]);
    let two = anon.push("cache/a:2", &[Platform::amd64(config)]);
    let images = client(&[&anon]);
    let before = anon.reads().len();
    let first = images.resolve(Template::new().from_image(&one), Provider::Novita).await;
    assert!(first.warning.is_none());
    let after_first = anon.reads();
    assert_eq!(after_first.len() - before, 2, "a manifest and a config blob: {after_first:?}");
    // The same image again, from a clone of the client: the cache is shared, nothing is sent.
    let again = images.clone().resolve(Template::new().from_image(&one), Provider::Novita).await;
    assert_eq!(again.template.start_cmd(), first.template.start_cmd());
    assert_eq!(anon.reads().len(), after_first.len(), "a cached image is not read again");
    // Another tag naming the same config: only its manifest is read.
    let other = images.resolve(Template::new().from_image(&two), Provider::Novita).await;
    assert!(other.warning.is_none());
    let reads = anon.reads();
    assert_eq!(reads.len(), after_first.len() + 1, "{reads:?}");
    assert!(reads.last().unwrap().contains("/manifests/2"), "{reads:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2b_and_templates_that_do_not_inherit_read_nothing() {
    let Some(anon) = Registry::start(None) else { return };
    let app = anon.push("team/app:1", &[Platform::amd64(app_config())]);
    let images = client(&[&anon]);
    let before = anon.reads().len();
    let t = Template::new().from_image(&app).run_cmd("echo hi");
    let e2b_before = t.to_json_with(JsonOptions::for_provider(Provider::E2b)).unwrap();
    let e2b = images.resolve(t.clone(), Provider::E2b).await;
    assert!(e2b.warning.is_none());
    assert_eq!(e2b.template.to_json_with(JsonOptions::for_provider(Provider::E2b)).unwrap(), e2b_before);
    for t in [t.clone().inherit_config(false), Template::new().from_template("base"), Template::new()] {
        let r = images.resolve(t.clone(), Provider::Novita).await;
        assert_eq!(novita_json(&r.template), novita_json(&t));
    }
    assert_eq!(anon.reads().len(), before, "{:?}", anon.reads());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_that_cannot_be_read_is_a_warning_naming_it_and_the_way_out() {
    let images = client(&[]);
    let t = Template::new().from_image("127.0.0.1:1/app:1").run_cmd("echo hi");
    let resolved = images.resolve(t.clone(), Provider::Novita).await;
    assert_eq!(novita_json(&resolved.template), novita_json(&t), "the template is sent without the image's config");
    let warning = resolved.warning.expect("a warning");
    assert_eq!(warning.registry, "127.0.0.1:1");
    assert!(matches!(warning.error, ImageConfigError::Unreachable { .. }), "{:?}", warning.error);
    let text = warning.to_string();
    for wanted in [
        "Could not read 127.0.0.1:1/app:1",
        "cannot reach the registry 127.0.0.1:1",
        "inherit_config(false)",
        "--no-inherit-config",
    ] {
        assert!(text.contains(wanted), "`{wanted}` missing from: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_amd64_variant_and_no_such_image_are_unusable() {
    let Some(anon) = Registry::start(None) else { return };
    let arm = anon.push("arm:1", &[Platform::arm64(json!({"Cmd": ["x"]}))]);
    let images = client(&[&anon]);
    let err = images.fetch(&arm, None).await.unwrap_err();
    assert!(err.is_unusable());
    assert!(err.to_string().contains("has no linux/amd64 variant (offers linux/arm64/v8)"), "{err}");
    let missing = format!("{}/nope:1", anon.host);
    let err = images.fetch(&missing, None).await.unwrap_err();
    assert!(matches!(err, ImageConfigError::NotFound { status: 404, .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_reads_a_private_image_and_wrong_credentials_are_refused() {
    let Some(auth) = Registry::start(Some((USER, PASSWORD))) else { return };
    let private = auth.push("private/app:1", &[Platform::amd64(json!({"Env": ["P=1"], "Cmd": ["run"]}))]);
    let images = client(&[&auth]);
    let config = images.fetch(&private, Some((USER, PASSWORD))).await.unwrap();
    assert_eq!(config.env, [("P".to_owned(), "1".to_owned())]);
    let err = images.fetch(&private, Some((USER, "wrong"))).await.unwrap_err();
    assert!(matches!(err, ImageConfigError::Unauthorized { status: 401, .. }), "{err:?}");
    assert!(!err.to_string().contains("wrong"), "no credential in the message: {err}");
}

/// The token request carries the template's credentials (basic auth), as novita-sandbox's does;
/// the registry here wants none, so the read goes on whatever the token (the token-auth registry
/// is the next test).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_service_is_asked_for_a_pull_token() {
    let Some(anon) = Registry::start(None) else { return };
    let app = anon.push("team/app:1", &[Platform::amd64(app_config())]);
    /// Each token request: its query and `Authorization` header.
    type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;
    let seen: Seen = Arc::default();
    let record = seen.clone();
    let router = axum::Router::new().route(
        "/token",
        axum::routing::get(move |uri: axum::http::Uri, headers: axum::http::HeaderMap| {
            let record = record.clone();
            async move {
                let auth = headers.get("authorization").map(|v| v.to_str().unwrap().to_owned());
                record.lock().unwrap().push((uri.query().unwrap_or("").to_owned(), auth));
                axum::Json(json!({"token": "tok-123"}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/token", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let options = ImageConfigOptions::default()
        .root_certificate(anon.cert_pem.clone())
        .token_service(TokenService::new(anon.host.clone(), url, "test-registry"));
    let images = ImageConfigClient::with_options(options).unwrap();
    let config = images.fetch(&app, Some(("u", "p"))).await.unwrap();
    assert_eq!(config.workdir.as_deref(), Some("/srv/app"));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].0, "service=test-registry&scope=repository%3Ateam%2Fapp%3Apull");
    assert_eq!(seen[0].1.as_deref(), Some("Basic dTpw"), "the template's credentials go to the token service");
}

fn build_api(r: &crate::support::fake_api::Recorded) -> axum::response::Response {
    use crate::support::fake_api::{empty, json as answer};
    let (m, p) = (r.method.as_str(), r.path.as_str());
    match m {
        "POST" if p == "/v3/templates" => answer(202, json!({"templateID": "tpl-1", "buildID": "b-1", "tags": []})),
        "POST" if p == "/v2/templates/tpl-1/builds/b-1" => empty(202),
        "GET" if p.ends_with("/status") => answer(
            200,
            json!({"templateID": "tpl-1", "buildID": "b-1", "status": "ready", "logs": [], "logEntries": []}),
        ),
        _ => answer(500, json!({"code": 500, "message": "unexpected"})),
    }
}

/// A Novita cloud build sends the template with its image's config, as novita-sandbox's `build`
/// does; an image that cannot be read is reported as an event and the build goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_novita_build_sends_the_inherited_config_and_warns_when_it_cannot() {
    use sandbox_template_runtime::cloud::{BuildEvent, Client, CloudBuildOptions, ConnectionOptions};
    let Some(anon) = Registry::start(None) else { return };
    let app = anon.push("team/app:1", &[Platform::amd64(app_config())]);
    let api = crate::support::fake_api::FakeApi::start(build_api).await;
    let connect = || ConnectionOptions::with_api_key("sk_test_key").api_url(api.url.clone());
    let novita = Client::with_options(Provider::Novita, connect()).unwrap().with_image_config_client(client(&[&anon]));
    let events: Arc<Mutex<Vec<BuildEvent>>> = Arc::default();
    let sink = events.clone();
    let options = CloudBuildOptions::default().no_timeout().on_event(move |e| sink.lock().unwrap().push(e.clone()));

    let t = Template::new().from_image(&app).run_cmd("echo hi");
    novita.build(&t, "app", &options).await.unwrap();
    let started = api.requests().into_iter().rfind(|r| r.path == "/v2/templates/tpl-1/builds/b-1").unwrap();
    let expected = client(&[&anon]).resolve(t.clone(), Provider::Novita).await.template;
    let sent: serde_json::Value = serde_json::from_slice(&started.body).unwrap();
    let want: serde_json::Value = serde_json::from_str(&novita_json(&expected)).unwrap();
    assert_eq!(sent, want);
    assert_eq!(sent["startCmd"], "/usr/bin/tini -- serve --port=8080 'it'\\''s here'");
    assert!(!events.lock().unwrap().iter().any(|e| matches!(e, BuildEvent::ImageConfigUnavailable(_))));

    let t = Template::new().from_image("127.0.0.1:1/app:1").run_cmd("echo hi");
    novita.build(&t, "app", &options).await.unwrap();
    let warned = events.lock().unwrap().iter().any(
        |e| matches!(e, BuildEvent::ImageConfigUnavailable(w) if w.registry == "127.0.0.1:1" && w.error.to_string().contains("cannot reach")),
    );
    assert!(warned, "{:?}", events.lock().unwrap());
    let started = api.requests().into_iter().rfind(|r| r.path == "/v2/templates/tpl-1/builds/b-1").unwrap();
    let sent: serde_json::Value = serde_json::from_slice(&started.body).unwrap();
    assert_eq!(sent["startCmd"], serde_json::Value::Null, "built without the image's config");
}

// ----- A registry that misbehaves (a loopback stand-in read over plain HTTP) -----------------

mod hostile {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use axum::body::Body;
    use axum::response::Response;
    use sandbox_template_runtime::cloud::{ImageConfigClient, ImageConfigError, ImageConfigOptions};
    use serde_json::json;
    use sha2::{Digest, Sha256};

    use crate::support::fake_api::{FakeApi, Recorded, json as answer};

    fn images(api: &FakeApi) -> (ImageConfigClient, String) {
        let host = api.url.trim_start_matches("http://").to_owned();
        let options =
            ImageConfigOptions::default().plain_http_registry(host.clone()).retries(3, Duration::from_millis(10));
        (ImageConfigClient::with_options(options).unwrap(), host)
    }

    fn digest(bytes: &[u8]) -> String {
        format!("sha256:{:x}", Sha256::digest(bytes))
    }

    fn manifest(config_digest: &str) -> Response {
        answer(200, json!({"schemaVersion": 2, "config": {"digest": config_digest}, "layers": []}))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_huge_manifest_is_not_read_whole() {
        let api = FakeApi::start(|_: &Recorded| Response::new(Body::from(vec![b' '; 5 << 20]))).await;
        let (images, host) = images(&api);
        let err = images.fetch(&format!("{host}/big:1"), None).await.unwrap_err();
        assert!(matches!(err, ImageConfigError::Invalid { .. }), "{err:?}");
        assert!(err.to_string().contains("larger than 4 MiB"), "{err}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_config_blob_must_match_its_digest() {
        let claimed = digest(b"what the manifest names");
        let api = FakeApi::start(move |r: &Recorded| {
            if r.path.contains("/manifests/") {
                manifest(&claimed)
            } else {
                answer(200, json!({"config": {"Env": ["PATH=/evil"]}}))
            }
        })
        .await;
        let (images, host) = images(&api);
        let err = images.fetch(&format!("{host}/app:1"), None).await.unwrap_err();
        assert!(err.to_string().contains("does not match its digest"), "{err}");
    }

    /// Registries send blob reads to their storage: the redirect is followed, and the
    /// template's credentials stay with the registry.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_blob_redirect_is_followed_without_the_credentials() {
        let blob = serde_json::to_vec(&json!({"config": {"Cmd": ["stored"]}})).unwrap();
        let blob_digest = digest(&blob);
        let storage = FakeApi::start(move |_: &Recorded| Response::new(Body::from(blob.clone()))).await;
        let storage_url = format!("{}/bucket/config", storage.url);
        let api = FakeApi::start(move |r: &Recorded| {
            if r.path.contains("/manifests/") {
                manifest(&blob_digest)
            } else {
                Response::builder().status(307).header("location", &storage_url).body(Body::empty()).unwrap()
            }
        })
        .await;
        let (images, host) = images(&api);
        let config = images.fetch(&format!("{host}/app:1"), Some(("user", "pass"))).await.unwrap();
        assert_eq!(config.cmd, ["stored"]);
        assert!(api.requests().iter().all(|r| r.headers.contains_key("authorization")));
        let stored = storage.requests();
        assert_eq!(stored.len(), 1);
        assert!(!stored[0].headers.contains_key("authorization"), "credentials went to the storage host");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_busy_registry_is_asked_again_and_a_missing_image_is_not() {
        let blob = serde_json::to_vec(&json!({"config": {"Cmd": ["ok"]}})).unwrap();
        let blob_digest = digest(&blob);
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let api = FakeApi::start(move |r: &Recorded| {
            if r.path.contains("/missing/") {
                return answer(404, json!({"errors": [{"code": "MANIFEST_UNKNOWN"}]}));
            }
            if r.path.contains("/manifests/") && counter.fetch_add(1, Ordering::SeqCst) == 0 {
                return answer(503, json!({}));
            }
            if r.path.contains("/manifests/") {
                manifest(&blob_digest)
            } else {
                Response::new(Body::from(blob.clone()))
            }
        })
        .await;
        let (images, host) = images(&api);
        let config = images.fetch(&format!("{host}/app:1"), None).await.unwrap();
        assert_eq!(config.cmd, ["ok"]);
        assert_eq!(calls.load(Ordering::SeqCst), 2, "the 503 was retried once");
        api.clear();
        let err = images.fetch(&format!("{host}/missing:1"), None).await.unwrap_err();
        assert!(err.is_unusable(), "{err:?}");
        assert_eq!(api.requests().len(), 1, "a 404 is final");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn what_the_registry_names_is_made_terminal_safe() {
        let api = FakeApi::start(|_: &Recorded| {
            answer(200, json!({"manifests": [{"digest": "sha256:1", "platform": {"os": "linux\u{1b}]0;pwned\u{7}", "architecture": "arm64"}}]}))
        })
        .await;
        let (images, host) = images(&api);
        let err = images.fetch(&format!("{host}/app:1"), None).await.unwrap_err();
        let text = err.to_string();
        assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'), "{text:?}");
        assert!(text.contains("has no linux/amd64 variant"), "{text}");
    }
}

/// A registry that wants bearer tokens (docker-registry's token auth, trusting a signing
/// certificate made here): the read goes through the token service named for its host, as
/// novita-sandbox's does for Docker Hub and GHCR; without one, the registry refuses the read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_with_token_auth_is_read_with_a_token_from_its_service() {
    use crate::support::registry::{TokenAuth, signed_token, tools_present};
    if !tools_present() {
        return;
    }
    let keys = tempfile::tempdir().unwrap();
    let token = signed_token(keys.path(), "test-issuer", "test-registry", "team/app", &["pull", "push"]);
    let asked: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = asked.clone();
    let router = axum::Router::new().route(
        "/token",
        axum::routing::get(move |uri: axum::http::Uri| {
            let (log, token) = (log.clone(), token.clone());
            async move {
                log.lock().unwrap().push(uri.query().unwrap_or("").to_owned());
                axum::Json(json!({"token": token}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let realm = format!("http://{}/token", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let auth = TokenAuth {
        realm: realm.clone(),
        service: "test-registry".into(),
        issuer: "test-issuer".into(),
        root_cert: keys.path().join("token.pem"),
    };
    let registry = Registry::start_with_token_auth(&auth).unwrap();
    let image = tokio::task::block_in_place(|| registry.push("team/app:1", &[Platform::amd64(app_config())]));
    asked.lock().unwrap().clear();

    let without = client(&[&registry]);
    let err = without.fetch(&image, None).await.unwrap_err();
    assert!(matches!(err, ImageConfigError::Unauthorized { status: 401, .. }), "{err:?}");

    let options = ImageConfigOptions::default()
        .root_certificate(registry.cert_pem.clone())
        .token_service(TokenService::new(registry.host.clone(), realm, "test-registry"));
    let with = ImageConfigClient::with_options(options).unwrap();
    let config = with.fetch(&image, None).await.unwrap();
    assert_eq!(config.workdir.as_deref(), Some("/srv/app"));
    assert_eq!(*asked.lock().unwrap(), ["service=test-registry&scope=repository%3Ateam%2Fapp%3Apull"]);
}

/// An image the engine built (its config as Podman writes it: the base's ENV with the
/// Dockerfile's on top, history, labels) inherits as novita-sandbox inherits it. Needs `local`
/// (the engine rules of `support/engine.rs`).
#[cfg(feature = "local")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_built_by_podman_inherits_as_with_novita_sandbox() {
    use crate::support::engine::{Images, base_image, engine};
    let Some(engine) = engine("image-config engine test") else { return };
    if engine.program().file_name().is_none_or(|p| p != "podman") {
        // `docker push` cannot be told to trust the registry's throwaway CA.
        return crate::support::registry::skip_or_fail("the image-config engine test pushes with Podman");
    }
    let Some(registry) = Registry::start(None) else { return };
    let Some(modules) = novita_sdk() else { return };
    let tag = format!("localhost/image-config-test:{}", std::process::id());
    let _images = Images(engine.clone(), vec![tag.clone()]);
    let dockerfile = format!(
        "FROM {}\nENV APP_HOME=/opt/app PATH=/opt/app/bin:$PATH\nWORKDIR /opt/app\nENTRYPOINT [\"/bin/sh\", \"-c\"]\nCMD [\"echo started && sleep 1000\"]\n",
        base_image()
    );
    let ctx = tempfile::tempdir().unwrap();
    std::fs::write(ctx.path().join("Dockerfile"), dockerfile).unwrap();
    let program = engine.program().to_path_buf();
    let reference = format!("{}/engine/app:1", registry.host);
    let (t, r, c) = (tag.clone(), reference.clone(), ctx.path().to_path_buf());
    tokio::task::spawn_blocking(move || {
        for args in [
            vec!["build".to_owned(), "-t".to_owned(), t.clone(), c.display().to_string()],
            vec!["push".to_owned(), "--tls-verify=false".to_owned(), t, format!("docker://{r}")],
        ] {
            let out = std::process::Command::new(&program).args(&args).output().unwrap();
            assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        }
    })
    .await
    .unwrap();

    let js = format!(".fromImage({}).setEnvs({{APP_HOME: '/srv'}})", serde_json::to_string(&reference).unwrap());
    let script = format!(
        "const {{ Template }} = require('novita-sandbox');\nTemplate.toJSON(Template({{ fileContextPath: '.' }}){js}, false).then((j) => process.stdout.write(j));\n"
    );
    let certs = vec![registry.cert_path()];
    let theirs = tokio::task::spawn_blocking(move || node(&modules, &certs, &script)).await.unwrap();
    assert!(theirs.contains("\"startCmd\": \"/bin/sh -c 'echo started && sleep 1000'\""), "{theirs}");

    let t = Template::new().for_provider(Provider::Novita).from_image(&reference).set_envs([("APP_HOME", "/srv")]);
    let resolved = client(&[&registry]).resolve(t, Provider::Novita).await;
    assert!(resolved.warning.is_none(), "{:?}", resolved.warning);
    assert!(resolved.template.image_env().iter().any(|(k, v)| k == "PATH" && v.starts_with("/opt/app/bin:")));
    assert_eq!(novita_json(&resolved.template), theirs);
}
