//! Conformance with the official SDKs: every recorded vector
//! (`tests/conformance/sdk/vectors`) rebuilt with this crate's builder and compared byte for byte.
//!
//! * `expected/NAME.json` — `Template::to_json()` must print exactly these bytes, or, for a file
//!   that starts with `ERROR:`, the template must be rejected with the right typed error whose
//!   message contains the SDK's.
//! * `js/NAME.dockerfile` — `Template::to_dockerfile()` likewise.
//! * `novita/NAME.json`, `NAME.dockerfile` — the same for `novita-sandbox`, through
//!   `JsonOptions::for_provider(Provider::Novita)`, with the deviations documented in
//!   `tests/conformance/novita-deviations/README.md`.
//!
//! Each entry of the `E2B` table is the Rust twin of `vectors/js/NAME.js` (a comment explains the
//! calls that do not map one to one). The tests list the vector folders rather than trusting the
//! table, so a new vector without a twin fails `every_recorded_vector_has_a_template` instead of
//! being skipped.
//!
//! The COPY fixture is `vectors/make_fixture.sh` run in a scratch folder (see `support`); run the
//! tests as root, like CI, for the fixture's `chown`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::{Fixture, data_names, fixture, read_data, recorded_error};
use sandbox_template::{
    CopyOptions, Error, GcpServiceAccount, GitCloneOptions, JsInstallOptions, JsonOptions, OciCredentials, PipOptions,
    Provider, Rule, RunOptions, Secret, Strings, Template, Version, wait_for_file, wait_for_port, wait_for_timeout,
    wait_for_url,
};

/// `from_dockerfile_*` vectors: Dockerfile import, checked by `conformance::dockerfile`.
const CHECKED_BY_CONFORMANCE_DOCKERFILE: &[&str] = &[
    "from_dockerfile_basic",
    "from_dockerfile_copy_chmod_from",
    "from_dockerfile_entrypoint_shell",
    "from_dockerfile_file",
    "from_dockerfile_minimal",
    "from_dockerfile_multistage",
    "from_dockerfile_nofrom",
    "from_dockerfile_skip_cache",
];

/// What the recorded output demands of the template.
#[derive(Clone, Copy)]
enum Expect {
    /// `to_json()` prints the expected bytes.
    Json,
    /// JS `Template.toJSON(t, false)`: `to_json_with(JsonOptions::default().without_hashes())`.
    JsonWithoutHashes,
    /// Rejected by [`Template::validate`] with a rule this predicate accepts.
    Rule(fn(&Rule) -> bool),
    /// Rejected while reading the context: the copy source matches no file.
    NoFiles,
    /// A deliberate difference (`tests/conformance/deviations/README.md`): the SDK prints this
    /// template, whose build then fails on the cloud; [`Template::validate`] refuses it with a
    /// rule this predicate accepts, so `to_json()` and `to_dockerfile()` do too.
    Refused(fn(&Rule) -> bool),
    /// The SDK has no such method (its recording is `TypeError: ... is not a function`: the call
    /// is novita-sandbox's alone); [`Template::validate`] refuses the template for E2B with
    /// [`Rule::NotOnProvider`] naming this feature, and `to_json()` with it.
    NotInSdk(&'static str),
}

struct Vector {
    name: &'static str,
    expect: Expect,
    template: fn(&Fixture) -> Template,
}

const fn vector(name: &'static str, expect: Expect, template: fn(&Fixture) -> Template) -> Vector {
    Vector { name, expect, template }
}

/// `vectors/js/seed.js`, also the template behind `vectors/novita/seed.json`.
fn seed(f: &Fixture) -> Template {
    Template::new()
        .with_context(f.ctx())
        .from_python_image("3.12")
        .set_envs([("APP_ENV", "prod"), ("GREETING", "hello world")])
        .run_cmd("pip install --no-cache-dir flask")
        .copy("fixture", "/app/fixture")
        .set_start_cmd("python -m http.server 8000", wait_for_port(8000))
}

/// `vectors/novita/env_expand.js`: values that refer to the image's and earlier variables.
fn env_expand(_: &Fixture) -> Template {
    Template::new()
        .from_template("t")
        .set_envs([("VIRTUAL_ENV", "/opt/venv"), ("PATH", "/opt/venv/bin:$PATH")])
        .set_envs([("PYTHONPATH", "${VIRTUAL_ENV}/lib:${PYTHONPATH:-none}"), ("GREETING", "hi from $VIRTUAL_ENV")])
        .set_envs([("VIRTUAL_ENV", "/srv/venv")])
}

/// `vectors/novita/env_quoting.js`: every character the env script quotes.
fn env_quoting(_: &Fixture) -> Template {
    Template::new().from_template("t").set_envs([
        ("DQ", r#"say "hi""#),
        ("SQ", "it's"),
        ("BS", r"C:\tmp\$HOME"),
        ("BT", "run `date` and $(date) and $((1+2))"),
        ("NL", "line one\nline two"),
        ("MIXED", r#"${HOME}/"x" 'y' \z `w` 5$ $"#),
    ])
}

/// `Template({ fileContextPath: CTX }).fromBaseImage()`, the start of most COPY vectors.
fn ctx_base(f: &Fixture) -> Template {
    Template::new().with_context(f.ctx()).from_base_image()
}

use Expect::{Json, JsonWithoutHashes, NoFiles};

#[rustfmt::skip]
const E2B: &[Vector] = &[
    vector("base_default", Json, |_| Template::new()),
    vector("copy_absolute", Expect::Rule(|r| matches!(r, Rule::AbsoluteSource(s) if s == "/etc/passwd")),
        |f| ctx_base(f).copy("/etc/passwd", "/x")),
    vector("copy_dir", Json, |f| ctx_base(f).copy("fixture", "/app/")),
    vector("copy_dockerignore", Json,
        |f| Template::new().with_context(f.ctx_ignore()).from_base_image().copy("app", "/app/")),
    vector("copy_dot", Json, |f| ctx_base(f).copy(".", "/app/")),
    vector("copy_dotslash", Json, |f| ctx_base(f).copy("./fixture", "/app/")),
    vector("copy_escape", Expect::Rule(|r| matches!(r, Rule::EscapingSource(s) if s == "fixture/../../x")),
        |f| ctx_base(f).copy("fixture/../../x", "/x")),
    vector("copy_file", Json, |f| ctx_base(f).copy("fixture/hello.txt", "/home/user/hello.txt")),
    vector("copy_glob", Json, |f| ctx_base(f).copy("fixture/*.txt", "/app/")),
    vector("copy_ignore_patterns", Json, |f| {
        Template::new()
            .with_context(f.ctx())
            .with_ignore_patterns(["**/*.log", "fixture/nested/**"])
            .from_base_image()
            .copy("fixture", "/app/")
    }),
    // A deliberate improvement: the JS SDK drops mode 0 (`""`); expected/ holds "0000" like Python.
    vector("copy_mode_zero", Json, |f| ctx_base(f).copy_with("fixture/hello.txt", "/x", CopyOptions::new().mode(0))),
    vector("copy_no_hash", JsonWithoutHashes, |f| ctx_base(f).copy("top.txt", "/t")),
    vector("copy_nofiles", NoFiles, |f| ctx_base(f).copy("does-not-exist", "/x")),
    vector("copy_options", Json, |f| {
        ctx_base(f).copy_with(
            "fixture/run.sh",
            "/usr/local/bin/run",
            CopyOptions::new().force_upload(true).user("root:root").mode(0o755).resolve_symlinks(true).gzip(false),
        )
    }),
    vector("copy_quirk_broken_symlink_direct", Json, |f| ctx_base(f).copy("quirks-broken/broken-link", "/q/")),
    vector("copy_quirk_dirlink_resolve", Json,
        |f| ctx_base(f).copy_with("quirks-dirlink", "/q/", CopyOptions::new().resolve_symlinks(true))),
    vector("copy_skip_cache", Json,
        |f| ctx_base(f).run_cmd("a").skip_cache().copy("top.txt", "/t").run_cmd("b")),
    vector("copy_symlink_noresolve", Json, |f| ctx_base(f).copy("fixture/link-to-hello", "/app/l")),
    vector("copy_symlink_resolve", Json,
        |f| ctx_base(f).copy_with("fixture/link-to-hello", "/app/l", CopyOptions::new().resolve_symlinks(true))),
    vector("devcontainer", Json, |_| {
        Template::new()
            .from_template("devcontainer")
            .git_clone_with("https://example.com/p.git", GitCloneOptions::new().path("/my-devcontainer"))
            .beta_dev_container_prebuild("/my-devcontainer")
            .beta_set_dev_container_start("/my-devcontainer")
    }),
    vector("devcontainer_start_wrong_base", Expect::Rule(|r| matches!(r, Rule::DevContainerWrongBase)),
        |_| Template::new().from_base_image().beta_set_dev_container_start("/my-devcontainer")),
    vector("devcontainer_wrong_base", Expect::Rule(|r| matches!(r, Rule::DevContainerWrongBase)),
        |_| Template::new().from_base_image().beta_dev_container_prebuild("/my-devcontainer")),
    vector("from_alpine_image_default", Json, |_| Template::new().from_alpine_image(Version::Default)),
    vector("from_arch_image_default", Json, |_| Template::new().from_arch_image(Version::Default)),
    vector("from_base_image", Json, |_| Template::new().from_base_image()),
    vector("from_bun_image", Json, |_| Template::new().from_bun_image("1.1")),
    vector("from_bun_image_default", Json, |_| Template::new().from_bun_image(Version::Default)),
    vector("from_debian_image", Json, |_| Template::new().from_debian_image("bookworm")),
    vector("from_debian_image_default", Json, |_| Template::new().from_debian_image(Version::Default)),
    vector("from_fedora_image_default", Json, |_| Template::new().from_fedora_image(Version::Default)),
    // serviceAccountJSON as a string = a file relative to the context (`<vectors>/sa.json`).
    vector("from_gcp_registry_file", Json, |f| {
        Template::new().with_context(f.root()).from_gcp_registry("gcr.io/proj/img:1", GcpServiceAccount::file("sa.json"))
    }),
    // serviceAccountJSON as an object: the JS SDK sends `JSON.stringify(obj)`; this is that text.
    vector("from_gcp_registry_object", Json, |_| {
        let sa = r#"{"type":"service_account","project_id":"proj","private_key":"-----BEGIN KEY-----\nabc\n-----END KEY-----\n"}"#;
        Template::new().from_gcp_registry("us-docker.pkg.dev/proj/repo/img:1", GcpServiceAccount::json(Secret::new(sa)))
    }),
    vector("from_huawei_registry", Expect::NotInSdk("Huawei Cloud registry"), |_| {
        Template::new().from_huawei_registry(
            "swr.cn-north-4.myhuaweicloud.com/org/img:1", Secret::new("AK"), Secret::new("SK"), "cn-north-4")
    }),
    vector("from_image", Json, |_| Template::new().from_image("ghcr.io/acme/app:1.2.3")),
    vector("from_image_credentials_missing", Expect::Rule(|r| matches!(r, Rule::IncompleteCredentials)),
        |_| Template::new().from_image_with_credentials("x:y", Secret::new("u"), Secret::new(""))),
    vector("from_image_then_template", Json, |_| Template::new().from_image("python:3").from_template("base-tpl")),
    vector("from_node_image", Json, |_| Template::new().from_node_image("22")),
    vector("from_node_image_default", Json, |_| Template::new().from_node_image(Version::Default)),
    vector("from_oci_registry", Expect::NotInSdk("Oracle Cloud registry"), |_| {
        Template::new().from_oci_registry("iad.ocir.io/ns/repo:tag", OciCredentials {
            tenancy_ocid: "ocid1.tenancy".into(),
            user_ocid: "ocid1.user".into(),
            fingerprint: "aa:bb".into(),
            private_key: Secret::new("k"),
            region: "us-ashburn-1".into(),
        })
    }),
    vector("from_python_image", Json, |_| Template::new().from_python_image("3.11-slim")),
    vector("from_python_image_default", Json, |_| Template::new().from_python_image(Version::Default)),
    // The registry credentials survive a later from_image without credentials, as in the SDKs.
    vector("from_registry_then_image", Json, |_| {
        Template::new()
            .from_aws_registry("a/b:c", Secret::new("k"), Secret::new("s"), "r")
            .from_image("python:3")
    }),
    vector("from_template", Json, |_| Template::new().from_template("my-base-template").run_cmd("echo hi")),
    vector("from_ubuntu_image", Json, |_| Template::new().from_ubuntu_image("24.04")),
    vector("from_ubuntu_image_default", Json, |_| Template::new().from_ubuntu_image(Version::Default)),
    vector("mcp_gateway", Json, |_| Template::new().from_template("mcp-gateway").add_mcp_server(["exa", "brave"])),
    vector("mcp_wrong_base", Expect::Rule(|r| matches!(r, Rule::McpWrongBase)),
        |_| Template::new().from_base_image().add_mcp_server("exa")),
    vector("npm_install", Json, |_| {
        Template::new()
            .from_node_image(Version::Default)
            .npm_install(Strings::default())
            .npm_install("express")
            .npm_install_with(["typescript", "tsx"], JsInstallOptions::new().global(true))
            .npm_install_with("vitest", JsInstallOptions::new().dev(true))
            .npm_install_with("x", JsInstallOptions::new().global(true).dev(true))
    }),
    vector("patch_cmd", Expect::NotInSdk("pre-boot script"),
        |_| Template::new().from_image("ubuntu:22.04").set_patch_cmd("echo patched > /etc/patched")),
    vector("pip_install", Json, |_| {
        Template::new()
            .from_python_image(Version::Default)
            .pip_install(Strings::default())
            .pip_install("numpy")
            .pip_install(["pandas", "scikit-learn==1.5"])
            .pip_install_with("requests", PipOptions::new().global(false))
            .pip_install_with(Strings::default(), PipOptions::new().global(false))
    }),
    vector("run_cmd", Json, |_| Template::new().from_base_image().run_cmd("echo hello")),
    vector("run_cmd_array", Expect::Refused(|r| matches!(r, Rule::PackageManagerNotRoot { .. })),
        |_| Template::new().from_base_image().run_cmd(["apt-get update", "apt-get install -y vim"])),
    vector("run_cmd_user", Json, |_| {
        Template::new()
            .from_base_image()
            .run_cmd_with("whoami", RunOptions::new().user("root"))
            .run_cmd_with(["a", "b"], RunOptions::new().user("user"))
    }),
    vector("run_cmd_user_empty", Json,
        |_| Template::new().from_base_image().run_cmd_with("whoami", RunOptions::new().user(""))),
    vector("seed", Json, seed),
    vector("set_envs_empty", Json, |_| Template::new().from_base_image().set_envs::<&str, &str>([])),
    vector("set_ready_cmd_only", Json, |_| Template::new().from_base_image().set_ready_cmd(wait_for_file("/tmp/ok"))),
    vector("set_user", Json, |_| Template::new().from_base_image().set_user("root").run_cmd("id").set_user("user")),
    vector("set_workdir", Json, |_| Template::new().from_base_image().set_workdir("/app")),
    vector("skip_cache_before_from", Json, |_| Template::new().skip_cache().from_python_image("3").run_cmd("a")),
    vector("start_string_ready", Json,
        |_| Template::new().from_base_image().set_start_cmd("node app.js", "curl -f localhost:3000")),
    vector("start_wait_for_file", Json,
        |_| Template::new().from_base_image().set_start_cmd("./init.sh", wait_for_file("/tmp/ready"))),
    vector("start_wait_for_port", Json,
        |_| Template::new().from_base_image().set_start_cmd("python -m http.server 8000", wait_for_port(8000))),
    vector("start_wait_for_timeout_small", Json, |_| {
        Template::new().from_base_image().set_start_cmd("sleep infinity", wait_for_timeout(Duration::from_millis(10)))
    }),
    vector("start_wait_for_url", Json, |_| {
        Template::new().from_base_image().set_start_cmd("npm start", wait_for_url("http://localhost:3000/health"))
    }),
];

/// How a `vectors/novita/NAME.json` is compared.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Novita {
    /// Byte for byte.
    Exact,
    /// Byte for byte after putting our `filesHash` in place of novita-sandbox's: its hash walks
    /// the folder unsorted, in file-system order, so it differs between machines (SPEC §C.3);
    /// this project sends the Python SDK's file-system-independent hash to Novita as well.
    OurFilesHash,
    /// Against `tests/conformance/novita-deviations/NAME.json`: novita-sandbox does not shell-quote
    /// paths, branches and URLs; this project does (see that folder's README).
    Deviation,
}

struct NovitaVector {
    name: &'static str,
    compare: Novita,
    template: fn(&Fixture) -> Template,
}

const fn novita(name: &'static str, compare: Novita, template: fn(&Fixture) -> Template) -> NovitaVector {
    NovitaVector { name, compare, template }
}

// There are no .js files for these: the templates are read off the recorded JSON and the e2b twin
// (SPEC §G); `Template::new()` with no base is Novita's `novita/base` under `Provider::Novita`.
#[rustfmt::skip]
const NOVITA: &[NovitaVector] = &[
    novita("base_default", Novita::Exact, |_| Template::new()),
    novita("devcontainer", Novita::Exact, |_| {
        Template::new()
            .from_template("devcontainer")
            .git_clone_with("https://example.com/p.git", GitCloneOptions::new().path("/my-devcontainer"))
            .beta_dev_container_prebuild("/my-devcontainer")
            .beta_set_dev_container_start("/my-devcontainer")
    }),
    novita("copy_dir", Novita::OurFilesHash,
        |f| Template::new().with_context(f.ctx()).from_template("t").copy("fixture", "/app/")),
    novita("from_aws_registry", Novita::Exact, |_| {
        Template::new().from_aws_registry(
            "1.dkr.ecr.us-west-2.amazonaws.com/a:b", Secret::new("AK"), Secret::new("SK"), "us-west-2")
    }),
    novita("from_huawei_registry", Novita::Exact, |_| {
        Template::new().from_huawei_registry(
            "swr.cn-north-4.myhuaweicloud.com/org/img:1", Secret::new("AK"), Secret::new("SK"), "cn-north-4")
    }),
    novita("from_oci_registry", Novita::Exact, |_| {
        Template::new().from_oci_registry("iad.ocir.io/ns/repo:tag", OciCredentials {
            tenancy_ocid: "ocid1.tenancy".into(),
            user_ocid: "ocid1.user".into(),
            fingerprint: "aa:bb".into(),
            private_key: Secret::new("-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n"),
            region: "us-ashburn-1".into(),
        })
    }),
    novita("from_template", Novita::Exact, |_| Template::new().from_template("my-base").run_cmd("echo hi")),
    novita("mcp_gateway", Novita::Exact,
        |_| Template::new().from_template("mcp-gateway").add_mcp_server(["exa", "brave"])),
    novita("patch_cmd", Novita::Exact,
        |_| Template::new().from_image("ubuntu:22.04").set_patch_cmd("echo patched > /etc/patched")),
    novita("env_expand", Novita::Exact, env_expand),
    novita("env_quoting", Novita::Exact, env_quoting),
    // Includes the RUN step that writes the ENV values into /etc/profile.d and /etc/environment.
    novita("seed", Novita::OurFilesHash, seed),
    novita("shell_quote", Novita::Deviation, |_| {
        Template::new()
            .from_template("t")
            .make_dir(["with space", "it's"])
            .git_clone_with("https://x/y.git", GitCloneOptions::new().branch("a b").path("my dir"))
    }),
    novita("start_wait_for_url", Novita::Deviation, |_| {
        Template::new().from_template("t").set_start_cmd("npm start", wait_for_url("http://localhost:3000/health?a=1&b=2"))
    }),
];

/// Failures of one test, reported together so one run shows every vector that is off.
#[derive(Default)]
struct Failures(Vec<String>);

impl Failures {
    fn add(&mut self, name: &str, what: impl std::fmt::Display) {
        self.0.push(format!("--- {name}: {what}"));
    }

    fn mismatch(&mut self, name: &str, file: &str, expected: &str, got: &str) {
        self.add(name, format!("differs from {file}\n=== expected\n{expected}\n=== got\n{got}\n==="));
    }

    /// A Dockerfile `result` against the recorded one: the same text, or an error whose message
    /// contains the SDK's.
    fn dockerfile(&mut self, name: &str, file: &str, recorded: &str, result: Result<String, Error>) {
        match (recorded_error(recorded), result) {
            (None, Ok(df)) if df == recorded => {}
            (None, Ok(df)) => self.mismatch(name, file, recorded, &df),
            (None, Err(e)) => self.add(name, format!("no Dockerfile: {e}")),
            (Some((_, message)), Ok(df)) => {
                self.add(name, format!("printed a Dockerfile, but {file} is an error: {message}\n{df}"))
            }
            (Some((_, message)), Err(e)) if !e.to_string().contains(message) => {
                self.add(name, format!("error message does not contain the SDK's\n  SDK:  {message}\n  ours: {e}"))
            }
            (Some(_), Err(_)) => {}
        }
    }

    fn assert_none(self, what: &str) {
        assert!(self.0.is_empty(), "{} {what} failed:\n{}", self.0.len(), self.0.join("\n"));
    }
}

/// Checks that `result` is the recorded SDK error: the typed error `expect` names, with a message
/// that contains the SDK's (`<vectors>` stands for the fixture folder).
fn check_error<T: std::fmt::Debug>(
    failures: &mut Failures,
    name: &str,
    file: &str,
    recorded: &str,
    expect: Expect,
    result: Result<T, Error>,
    f: &Fixture,
) {
    let Some((_, message)) = recorded_error(recorded) else {
        return failures.add(name, format!("{file} is not an ERROR vector"));
    };
    let message = message.replace("<vectors>", &f.root().display().to_string());
    let error = match result {
        Ok(value) => return failures.add(name, format!("accepted, but {file} is an error: {message}\ngot: {value:?}")),
        Err(e) => e,
    };
    let typed = match (expect, &error) {
        (Expect::Rule(wanted), Error::Validation(errors)) => errors.iter().any(|e| wanted(&e.rule)),
        (Expect::NoFiles, Error::NoFiles { .. }) => true,
        _ => false,
    };
    if !typed {
        failures.add(name, format!("rejected with the wrong kind of error: {error:?}"));
    }
    if !error.to_string().contains(&message) {
        failures.add(name, format!("error message does not contain the SDK's\n  SDK:  {message}\n  ours: {error}"));
    }
}

#[test]
fn every_recorded_vector_has_a_template() {
    let mut failures = Failures::default();
    let known = |name: &str| E2B.iter().any(|v| v.name == name) || CHECKED_BY_CONFORMANCE_DOCKERFILE.contains(&name);
    let expected = data_names("vectors/expected", "json");
    for name in &expected {
        if !known(name) {
            failures.add(name, "expected/ has it, but no test builds it: add its template to `E2B`");
        }
    }
    for name in E2B.iter().map(|v| v.name).chain(CHECKED_BY_CONFORMANCE_DOCKERFILE.iter().copied()) {
        if !expected.iter().any(|e| e == name) {
            failures.add(name, "listed here, but expected/ has no such vector");
        }
        if E2B.iter().filter(|v| v.name == name).count()
            + usize::from(CHECKED_BY_CONFORMANCE_DOCKERFILE.contains(&name))
            > 1
        {
            failures.add(name, "listed twice");
        }
    }
    let novita_recorded = data_names("vectors/novita", "json");
    for name in &novita_recorded {
        if !NOVITA.iter().any(|v| v.name == name) {
            failures.add(name, "novita/ has it, but no test builds it: add its template to `NOVITA`");
        }
    }
    for v in NOVITA {
        if !novita_recorded.iter().any(|n| n == v.name) {
            failures.add(v.name, "in `NOVITA`, but novita/ has no such vector");
        }
    }
    let deviations = data_names("novita-deviations", "json");
    for v in NOVITA {
        let has_file = deviations.iter().any(|d| d == v.name);
        if has_file != (v.compare == Novita::Deviation) {
            failures.add(v.name, "a novita-deviations/ file exists exactly for the `Novita::Deviation` entries");
        }
    }
    failures.assert_none("vector coverage checks");
}

#[test]
fn e2b_json_matches_the_sdk() {
    let f = fixture();
    let mut failures = Failures::default();
    for v in E2B {
        let file = format!("vectors/expected/{}.json", v.name);
        let recorded = read_data(&file);
        let template = (v.template)(f);
        match v.expect {
            Json | JsonWithoutHashes => {
                if recorded.starts_with("ERROR") {
                    failures.add(v.name, format!("the table expects JSON, {file} an error: {recorded}"));
                    continue;
                }
                let options = match v.expect {
                    JsonWithoutHashes => JsonOptions::default().without_hashes(),
                    _ => JsonOptions::default(),
                };
                match template.to_json_with(options) {
                    Ok(json) if json == recorded => {}
                    Ok(json) => failures.mismatch(v.name, &file, &recorded, &json),
                    Err(e) => failures.add(v.name, format!("to_json failed: {e}")),
                }
            }
            Expect::Refused(wanted) => {
                if recorded.starts_with("ERROR") {
                    failures.add(v.name, format!("the SDK refuses it too: {recorded}; use `Expect::Rule`"));
                }
                match template.to_json() {
                    Ok(_) => failures.add(v.name, "to_json() accepts it"),
                    Err(Error::Validation(errors)) if errors.iter().any(|e| wanted(&e.rule)) => {}
                    Err(e) => failures.add(v.name, format!("refused for another reason: {e}")),
                }
            }
            Expect::NotInSdk(feature) => {
                let missing = recorded_error(&recorded)
                    .is_some_and(|(kind, message)| kind == "TypeError" && message.ends_with("is not a function"));
                if !missing {
                    failures.add(v.name, format!("{file} is not the SDK lacking the method: {recorded}"));
                }
                let refused = |e: &sandbox_template::ValidationError| matches!(&e.rule, Rule::NotOnProvider { provider: Provider::E2b, feature: f, .. } if f.starts_with(feature));
                match template.to_json() {
                    Ok(_) => failures.add(v.name, "to_json() accepts it"),
                    Err(Error::Validation(errors)) if errors.iter().any(refused) => {}
                    Err(e) => failures.add(v.name, format!("refused for another reason: {e}")),
                }
            }
            Expect::Rule(_) | NoFiles => {
                if let Expect::Rule(wanted) = v.expect {
                    // The builder's own check, without reading the context, already rejects it.
                    match template.validate() {
                        Ok(()) => failures.add(v.name, "validate() accepts it"),
                        Err(errors) if !errors.iter().any(|e| wanted(&e.rule)) => {
                            failures.add(v.name, format!("validate() reports other rules: {errors}"))
                        }
                        Err(_) => {}
                    }
                }
                check_error(&mut failures, v.name, &file, &recorded, v.expect, template.to_json(), f);
            }
        }
    }
    failures.assert_none("JSON vectors");
}

#[test]
fn e2b_dockerfile_matches_the_sdk() {
    let f = fixture();
    let mut failures = Failures::default();
    let recorded_names = data_names("vectors/js", "dockerfile");
    for v in E2B.iter().filter(|v| recorded_names.iter().any(|n| n == v.name)) {
        let file = format!("vectors/js/{}.dockerfile", v.name);
        let recorded = read_data(&file);
        let dockerfile = (v.template)(f).to_dockerfile();
        if let Expect::Refused(_) | Expect::NotInSdk(_) = v.expect {
            if dockerfile.is_ok() {
                failures.add(v.name, "to_dockerfile() prints a template validate() refuses");
            }
            continue;
        }
        failures.dockerfile(v.name, &file, &recorded, dockerfile);
    }
    failures.assert_none("Dockerfile vectors");
}

/// `text` with the value of every `"filesHash": "..."` replaced, in order, by `hashes`.
fn replace_files_hashes(text: &str, hashes: &[String]) -> Result<String, String> {
    const KEY: &str = "\"filesHash\": \"";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut hashes = hashes.iter();
    while let Some(at) = rest.find(KEY) {
        let (head, tail) = rest.split_at(at + KEY.len());
        let end = tail.find('"').ok_or("unterminated filesHash")?;
        out.push_str(head);
        out.push_str(hashes.next().ok_or("more filesHash values than COPY steps")?);
        rest = &tail[end..];
    }
    out.push_str(rest);
    if hashes.next().is_some() {
        return Err("fewer filesHash values than COPY steps".into());
    }
    Ok(out)
}

#[test]
fn novita_json_matches_novita_sandbox() {
    let f = fixture();
    let mut failures = Failures::default();
    for v in NOVITA {
        let template = (v.template)(f);
        let json = match template.to_json_with(JsonOptions::for_provider(Provider::Novita)) {
            Ok(json) => json,
            Err(e) => {
                failures.add(v.name, format!("to_json_with(Novita) failed: {e}"));
                continue;
            }
        };
        let (file, expected) = match v.compare {
            Novita::Exact => {
                let file = format!("vectors/novita/{}.json", v.name);
                let expected = read_data(&file);
                (file, expected)
            }
            Novita::OurFilesHash => {
                let file = format!("vectors/novita/{}.json", v.name);
                let ours: Vec<String> = match template.files_hashes() {
                    Ok(hashes) => hashes.into_iter().flatten().collect(),
                    Err(e) => {
                        failures.add(v.name, format!("files_hashes failed: {e}"));
                        continue;
                    }
                };
                match replace_files_hashes(&read_data(&file), &ours) {
                    Ok(expected) => (file, expected),
                    Err(e) => {
                        failures.add(v.name, format!("{file}: {e}"));
                        continue;
                    }
                }
            }
            Novita::Deviation => {
                let file = format!("novita-deviations/{}.json", v.name);
                (file.clone(), read_data(&file))
            }
        };
        if json != expected {
            failures.mismatch(v.name, &file, &expected, &json);
        }
    }
    failures.assert_none("Novita JSON vectors");
}

#[test]
fn novita_dockerfile_matches_novita_sandbox() {
    let f = fixture();
    let mut failures = Failures::default();
    for v in NOVITA {
        let file = format!("vectors/novita/{}.dockerfile", v.name);
        let recorded = read_data(&file);
        failures.dockerfile(v.name, &file, &recorded, (v.template)(f).to_dockerfile_for(Provider::Novita));
    }
    failures.assert_none("Novita Dockerfile vectors");
}

/// Every place a deviation file differs from novita-sandbox's output, as `(json path, sdk, ours)`.
fn differences(path: &str, sdk: &serde_json::Value, ours: &serde_json::Value, out: &mut Vec<(String, String, String)>) {
    use serde_json::Value;
    match (sdk, ours) {
        (Value::Object(a), Value::Object(b)) if a.keys().eq(b.keys()) => {
            for (k, v) in a {
                differences(&format!("{path}/{k}"), v, &b[k], out);
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                differences(&format!("{path}/{i}"), x, y, out);
            }
        }
        _ if sdk == ours => {}
        _ => out.push((path.to_owned(), sdk.to_string(), ours.to_string())),
    }
}

/// The deviation files differ from novita-sandbox's output only in command strings, and only by
/// quoting: each differing string is a RUN command or the ready command.
#[test]
fn novita_deviations_differ_only_in_commands() {
    for v in NOVITA.iter().filter(|v| v.compare == Novita::Deviation) {
        let parse = |file: &str| -> serde_json::Value {
            serde_json::from_str(&read_data(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
        };
        let sdk = parse(&format!("vectors/novita/{}.json", v.name));
        let ours = parse(&format!("novita-deviations/{}.json", v.name));
        let mut diffs = Vec::new();
        differences("", &sdk, &ours, &mut diffs);
        assert!(!diffs.is_empty(), "{}: the deviation file is the same as novita-sandbox's; delete it", v.name);
        for (path, a, b) in &diffs {
            let is_command = path == "/readyCmd" || (path.starts_with("/steps/") && path.ends_with("/args/0"));
            assert!(is_command, "{}: deviates at {path} ({a} vs {b}), which is not a command string", v.name);
        }
    }
}

/// Runs `script` with `sh` in `dir`.
fn sh(dir: &Path, script: &str) -> std::process::Output {
    Command::new("sh").arg("-c").arg(script).current_dir(dir).output().expect("cannot run sh")
}

fn command_in(file: &str, pointer: &str) -> String {
    let json: serde_json::Value = serde_json::from_str(&read_data(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    json.pointer(pointer)
        .and_then(|v| v.as_str())
        .unwrap_or_else(|| panic!("{file} has no string at {pointer}"))
        .to_owned()
}

/// Why the Novita deviation is a fix: run both commands with `sh` and look at what they do.
#[test]
fn novita_deviations_quote_what_novita_sandbox_leaves_bare() {
    // mkdir of "with space" and "it's": novita-sandbox's command is a shell syntax error.
    let ours = command_in("novita-deviations/shell_quote.json", "/steps/0/args/0");
    let sdk = command_in("vectors/novita/shell_quote.json", "/steps/0/args/0");
    let dir = tempfile::tempdir().expect("scratch folder");
    let out = sh(dir.path(), &ours);
    assert!(out.status.success(), "{ours}: {}", String::from_utf8_lossy(&out.stderr));
    let mut made: Vec<String> = std::fs::read_dir(dir.path())
        .expect("list scratch folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    made.sort();
    assert_eq!(made, ["it's", "with space"]);
    let sdk_dir = tempfile::tempdir().expect("scratch folder");
    assert!(!sh(sdk_dir.path(), &sdk).status.success(), "`{sdk}` no longer fails in sh: revisit the deviation");

    // wait_for_url with `&` in the query: unquoted, the shell cuts the URL at `&` and runs `curl`
    // in the background. A `curl` stand-in records the URL it was given.
    let ours = command_in("novita-deviations/start_wait_for_url.json", "/readyCmd");
    let sdk = command_in("vectors/novita/start_wait_for_url.json", "/readyCmd");
    let url_seen = |ready: &str| {
        let dir = tempfile::tempdir().expect("scratch folder");
        let script = format!("curl() {{ for a; do u=$a; done; printf '%s' \"$u\" > url; echo 200; }}\n{ready}\nwait");
        sh(dir.path(), &script);
        std::fs::read_to_string(dir.path().join("url")).unwrap_or_default()
    };
    assert_eq!(url_seen(&ours), "http://localhost:3000/health?a=1&b=2");
    assert_eq!(url_seen(&sdk), "http://localhost:3000/health?a=1");
}

/// The script of a Novita env-files step (`echo BASE64 | base64 -d > ... && sh ...`), decoded with
/// `base64 -d` as the step does it.
fn novita_env_script(json: &str) -> String {
    let request: serde_json::Value = serde_json::from_str(json).expect("request JSON");
    let steps = request["steps"].as_array().expect("steps");
    let command = steps.last().and_then(|s| s["args"][0].as_str()).expect("a last RUN step");
    let encoded = command.strip_prefix("echo ").and_then(|c| c.split(' ').next()).expect("echo BASE64 | ...");
    let mut child = Command::new("base64")
        .arg("-d")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("cannot run base64");
    use std::io::Write as _;
    child.stdin.take().expect("stdin").write_all(encoded.as_bytes()).expect("write to base64");
    let out = child.wait_with_output().expect("base64 -d");
    assert!(out.status.success(), "base64 -d failed");
    String::from_utf8(out.stdout).expect("the script is UTF-8")
}

/// What the env vectors' scripts must leave: `(name, value)` in the order written, for a build
/// whose environment has `PATH=path` and `HOME=home` (and no `PYTHONPATH`).
fn novita_env_expected(vector: &str, path: &str, home: &str) -> Vec<(&'static str, String)> {
    match vector {
        "env_expand" => vec![
            ("VIRTUAL_ENV", "/srv/venv".into()),
            ("PATH", format!("/opt/venv/bin:{path}")),
            ("PYTHONPATH", "/srv/venv/lib:none".into()),
            ("GREETING", "hi from /srv/venv".into()),
        ],
        "env_quoting" => vec![
            ("DQ", r#"say "hi""#.into()),
            ("SQ", "it's".into()),
            ("BS", format!(r"C:\tmp\{home}")),
            ("BT", "run `date` and $(date) and $((1+2))".into()),
            ("NL", "line one\nline two".into()),
            ("MIXED", format!(r#"{home}/"x" 'y' \z `w` 5$ $"#)),
        ],
        other => panic!("no expectation for {other}"),
    }
}

/// The `/etc/environment` lines the script writes: only values it can hold (no `"`, no newline).
fn environment_lines(expected: &[(&str, String)]) -> String {
    expected
        .iter()
        .filter(|(_, v)| !v.is_empty() && !v.contains('"') && !v.contains('\n'))
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect()
}

/// A shell snippet that prints each variable's value, NUL-terminated.
fn print_vars(expected: &[(&str, String)]) -> String {
    let vars: Vec<String> = expected.iter().map(|(k, _)| format!("\"${k}\"")).collect();
    format!("printf '%s\\0' {}", vars.join(" "))
}

fn nul_separated(out: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(out).split_terminator('\0').map(str::to_owned).collect()
}

const ENV_VECTORS: &[&str] = &["env_expand", "env_quoting"];

/// The env script (novita-sandbox's bytes, which ours equal: see `novita_json_matches_novita_sandbox`)
/// run by `sh` with its files redirected into a scratch folder: `$VAR` expands against the build's
/// environment and earlier values, quotes, backslashes, backticks and `$(` stay text, and the
/// profile file gives a login shell the same values.
#[test]
fn novita_env_script_expands_like_novita_sandbox_under_sh() {
    let (path, home) = ("/usr/bin:/bin", "/home/test");
    for name in ENV_VECTORS {
        let dir = tempfile::tempdir().expect("scratch folder");
        let profile = dir.path().join("profile.sh");
        let environment = dir.path().join("environment");
        let script = novita_env_script(&read_data(&format!("vectors/novita/{name}.json")))
            .replace("/etc/profile.d/99-image-env.sh", &profile.display().to_string())
            .replace("/etc/environment", &environment.display().to_string());
        assert!(!script.contains("/etc/"), "{name}: a path was not redirected:\n{script}");
        let sh_clean = |snippet: &str| {
            Command::new("sh")
                .arg("-c")
                .arg(snippet)
                .current_dir(dir.path())
                .env_clear()
                .env("PATH", path)
                .env("HOME", home)
                .output()
                .expect("cannot run sh")
        };
        let expected = novita_env_expected(name, path, home);
        let run = sh_clean(&format!("{script}\n{}", print_vars(&expected)));
        assert!(run.status.success(), "{name}: {}", String::from_utf8_lossy(&run.stderr));
        let values: Vec<String> = expected.iter().map(|(_, v)| v.clone()).collect();
        assert_eq!(nul_separated(&run.stdout), values, "{name}: values exported by the script");

        let login = sh_clean(&format!(". {}\n{}", profile.display(), print_vars(&expected)));
        assert!(login.status.success(), "{name}: {}", String::from_utf8_lossy(&login.stderr));
        assert_eq!(nul_separated(&login.stdout), values, "{name}: values a login shell reads from the profile");
        let written = std::fs::read_to_string(&environment).expect("environment file");
        assert_eq!(written, environment_lines(&expected), "{name}: /etc/environment");
    }
}

/// An engine for the container variant of the test above: `podman` or `docker` with the test base
/// image. `None` (skip) without one, except under `CI=true`, where it fails.
fn engine_with_base(image: &str) -> Option<&'static str> {
    for program in ["podman", "docker"] {
        let found = Command::new(program).args(["image", "inspect", image]).output();
        if found.is_ok_and(|o| o.status.success()) {
            return Some(program);
        }
    }
    let problem = format!("no podman or docker with {image}: run `bash .ci/setup-podman.sh`");
    assert!(std::env::var("CI").is_err(), "{problem}");
    eprintln!("!!!!!!!! SKIPPED !!!!!!!! {problem}");
    None
}

/// The same scripts as root in a container, writing the real `/etc/profile.d` and
/// `/etc/environment`, against the image's own PATH and HOME.
#[test]
fn novita_env_script_expands_like_novita_sandbox_in_a_container() {
    let image = "localhost/sandbox-base:latest";
    let Some(engine) = engine_with_base(image) else { return };
    for name in ENV_VECTORS {
        let script = novita_env_script(&read_data(&format!("vectors/novita/{name}.json")));
        // Placeholders first: the image's PATH and HOME, printed by the same shell. The test image
        // (Alpine) has no /etc/profile.d, which Novita's images have.
        let probe = novita_env_expected(name, "@PATH@", "@HOME@");
        let snippet = format!(
            "printf '%s\\0%s\\0' \"$PATH\" \"$HOME\"\nmkdir -p /etc/profile.d\n{script}\nenv -i HOME=\"$HOME\" sh -c '. /etc/profile.d/99-image-env.sh; {}'\ncat /etc/environment",
            print_vars(&probe).replace('\'', "'\\''")
        );
        let out = Command::new(engine)
            .args(["run", "--rm", "--user", "root", "--entrypoint", "sh", image, "-c", &snippet])
            .output()
            .expect("cannot run the engine");
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let fields = nul_separated(&out.stdout);
        let (path, home) = (&fields[0], &fields[1]);
        let expected = novita_env_expected(name, path, home);
        let values: Vec<String> = expected.iter().map(|(_, v)| v.clone()).collect();
        assert_eq!(fields[2..2 + values.len()], values[..], "{name}: values a login shell reads in the container");
        assert_eq!(fields[2 + values.len()..].concat(), environment_lines(&expected), "{name}: /etc/environment");
    }
}
