//! `sandbox-template import` (`sandbox_template_dsl::write`): every recorded SDK build request
//! (`vectors/{expected,js,py,novita}/*.json`) written as a `.tmpl` and read back gives the same
//! request, and every Dockerfile fixture of the runtime written as a `.tmpl` gives the same
//! request as importing the Dockerfile.
//!
//! "The same request": the JSON printed from the `.tmpl` (COPY steps hashed against the context
//! the vector was recorded with) equals the recorded file re-serialized by this crate, which is
//! the recorded bytes themselves for `expected/`, `js/` and `novita/` (asserted). `py/` files
//! differ from them in key order only (the Python SDK's `json.dumps`). `js/` and `novita/` hold
//! the JS SDK's `filesHash`, which walks folders in file-system order (SPEC §C.3); ours is put in
//! its place, as `conformance::vectors` does for Novita.

use std::path::{Path, PathBuf};

use crate::support::{data_names, fixture, read_data, recorded_error};
use sandbox_template::wire::BuildRequest;
use sandbox_template::{JsonOptions, Provider, Template};
use sandbox_template_dsl::tmpl;
use sandbox_template_dsl::write::{WriteError, WriteOptions, dockerfile_to_tmpl, request_to_tmpl, to_tmpl};

/// Vectors the DSL cannot write, and why; each must fail with a `WriteError::Unsupported` naming
/// this part, or, for the part `check`, with `WriteError::Check` (a value the DSL's checks refuse),
/// so a new DSL form that covers one makes this list fail until it is updated.
const NOT_WRITABLE: &[(&str, &str, &str)] = &[
    (
        "expected/run_cmd_array",
        "check",
        "`apt-get` as the default user `user`: the package-manager check refuses it (issue 14)",
    ),
    (
        "js/run_cmd_array",
        "check",
        "`apt-get` as the default user `user`: the package-manager check refuses it (issue 14)",
    ),
    ("expected/from_gcp_registry_file", "base", "registry credentials as values: a .tmpl never holds a secret"),
    ("expected/from_gcp_registry_object", "base", "registry credentials as values: a .tmpl never holds a secret"),
    ("expected/from_registry_then_image", "base", "registry credentials as values: a .tmpl never holds a secret"),
    ("js/from_gcp_registry_file", "base", "registry credentials as values: a .tmpl never holds a secret"),
    ("js/from_gcp_registry_object", "base", "registry credentials as values: a .tmpl never holds a secret"),
    ("js/from_registry_then_image", "base", "registry credentials as values: a .tmpl never holds a secret"),
    ("py/from_gcp_registry_object", "base", "registry credentials as values: a .tmpl never holds a secret"),
    ("novita/from_aws_registry", "base", "registry credentials as values: a .tmpl never holds a secret"),
    ("novita/from_huawei_registry", "base", "registry credentials as values: a .tmpl never holds a secret"),
    ("novita/from_oci_registry", "base", "registry credentials as values: a .tmpl never holds a secret"),
];

/// Vectors written, but not read back into the same request, and why (asserted to differ).
const NOT_THE_SAME: &[(&str, &str)] = &[
    // `fileIgnorePatterns` is a template option the request does not carry: the `.tmpl` copies
    // the log files and `nested/` too, so the hash differs.
    // (`js/copy_ignore_patterns` is compared with our hash in place of the recorded one.)
    ("expected/copy_ignore_patterns", "the ignore patterns are not part of the request"),
    ("py/copy_ignore_patterns", "the ignore patterns are not part of the request"),
    // The Python SDK hashes with the symlinks resolved but leaves `resolveSymlinks` out of the
    // request, so the `.tmpl` copies the links themselves.
    ("py/copy_quirk_dirlink_resolve", "the Python SDK leaves `resolveSymlinks` out of the request"),
    ("py/copy_symlink_resolve", "the Python SDK leaves `resolveSymlinks` out of the request"),
];

/// The context folder a vector was recorded with (`CTX` of the SDK scripts, unless named here).
fn context_of(name: &str) -> PathBuf {
    let f = fixture();
    if name == "copy_dockerignore" { f.ctx_ignore() } else { f.ctx() }
}

/// `text` with the value of every `"filesHash": "..."` replaced, in order, by `hashes`.
fn with_hashes(text: &str, hashes: &[String]) -> String {
    const KEY: &str = "\"filesHash\": \"";
    let mut out = String::new();
    let mut rest = text;
    let mut hashes = hashes.iter();
    while let Some(at) = rest.find(KEY) {
        let (head, tail) = rest.split_at(at + KEY.len());
        out.push_str(head);
        out.push_str(hashes.next().expect("as many hashes as COPY steps"));
        rest = &tail[tail.find('"').expect("a closed string")..];
    }
    out.push_str(rest);
    out
}

enum Outcome {
    /// The request printed from the written `.tmpl`, and the one it should be.
    Json { got: String, want: String },
    /// The writer refused it.
    Refused(WriteError),
}

fn round_trip(dir: &str, name: &str, recorded: &str, scratch: &Path) -> Result<Outcome, String> {
    let request: BuildRequest = serde_json::from_str(recorded).map_err(|e| format!("not a build request: {e}"))?;
    let normalized = serde_json::to_string_pretty(&request).expect("serializes");
    if dir != "py" && normalized != recorded {
        return Err(format!("re-serializing changes the recorded bytes:\n{normalized}"));
    }
    let context = context_of(name);
    let options = WriteOptions::new().context(context.display().to_string());
    let imported = match request_to_tmpl(&request, &options) {
        Ok(imported) => imported,
        Err(e) => return Ok(Outcome::Refused(e)),
    };
    // `sandbox-template check` on the written file: the full check, COPY sources included.
    let file = scratch.join(format!("{dir}-{name}.tmpl"));
    std::fs::write(&file, &imported.text).expect("write the .tmpl");
    tmpl::check_file(&file).map_err(|e| format!("check refuses the written file:\n{e}\n{}", imported.text))?;
    let template = tmpl::load(&file).map_err(|e| e.to_string())?;
    let provider = if dir == "novita" { Provider::Novita } else { Provider::E2b };
    let mut json_options = JsonOptions::for_provider(provider);
    if !recorded.contains("\"filesHash\"") {
        json_options = json_options.without_hashes();
    }
    let got = template.to_json_with(json_options).map_err(|e| format!("to_json: {e}\n{}", imported.text))?;
    let want = if matches!(dir, "js" | "novita") {
        let ours: Vec<String> = template.files_hashes().map_err(|e| e.to_string())?.into_iter().flatten().collect();
        with_hashes(&normalized, &ours)
    } else {
        normalized
    };
    Ok(Outcome::Json { got, want })
}

#[test]
fn every_recorded_request_round_trips_through_a_tmpl() {
    let scratch = tempfile::tempdir().expect("scratch folder");
    let mut failures = Vec::new();
    let mut compared = 0;
    for dir in ["expected", "js", "py", "novita"] {
        for name in data_names(&format!("vectors/{dir}"), "json") {
            let recorded = read_data(&format!("vectors/{dir}/{name}.json"));
            if recorded_error(&recorded).is_some() {
                continue;
            }
            let key = format!("{dir}/{name}");
            let refused = NOT_WRITABLE.iter().find(|(k, ..)| *k == key);
            let differs = NOT_THE_SAME.iter().find(|(k, _)| *k == key);
            match (round_trip(dir, &name, &recorded, scratch.path()), refused, differs) {
                (Err(e), ..) => failures.push(format!("--- {key}: {e}")),
                (Ok(Outcome::Json { got, want }), None, None) => {
                    compared += 1;
                    if got != want {
                        failures.push(format!("--- {key}: differs\n=== want\n{want}\n=== got\n{got}"));
                    }
                }
                (Ok(Outcome::Json { got, want }), None, Some((_, why))) => {
                    if got == want {
                        failures.push(format!("--- {key}: now round-trips ({why}): remove it from NOT_THE_SAME"));
                    }
                }
                (Ok(Outcome::Json { .. }), Some((_, _, why)), _) => {
                    failures.push(format!("--- {key}: now written ({why}): remove it from NOT_WRITABLE"));
                }
                (Ok(Outcome::Refused(e)), Some((_, part, _)), _) => match &e {
                    WriteError::Unsupported { what, help, .. } if what == part && !help.is_empty() => {}
                    WriteError::Check(_) if *part == "check" => {}
                    _ => failures.push(format!("--- {key}: refused, but not as `{part}` unsupported: {e}")),
                },
                (Ok(Outcome::Refused(e)), None, _) => failures.push(format!("--- {key}: refused: {e}")),
            }
        }
    }
    for key in NOT_WRITABLE.iter().map(|(k, ..)| *k).chain(NOT_THE_SAME.iter().map(|(k, _)| *k)) {
        let (dir, name) = key.split_once('/').expect("dir/name");
        if !data_names(&format!("vectors/{dir}"), "json").iter().any(|n| n == name) {
            failures.push(format!("--- {key}: listed, but there is no such vector"));
        }
    }
    assert!(failures.is_empty(), "{} vectors failed:\n{}", failures.len(), failures.join("\n"));
    assert!(compared > 100, "only {compared} vectors compared");
}

/// The SDKs' RUN forms become their statements, with their options (not `run`).
#[test]
fn sdk_run_forms_become_their_statements() {
    let expect = [
        (
            "pip_install",
            "pip install;\npip install \"numpy\";\npip install \"pandas\", \"scikit-learn==1.5\";\npip install \"requests\" (global = false);\npip install (global = false);\n",
        ),
        (
            "npm_install",
            "npm install;\nnpm install \"express\";\nnpm install \"typescript\", \"tsx\" (global);\nnpm install \"vitest\" (dev);\nnpm install \"x\" (global, dev);\n",
        ),
        (
            "devcontainer",
            "from template \"devcontainer\";\ngit clone \"https://example.com/p.git\" => \"/my-devcontainer\";\n\
             devcontainer prebuild \"/my-devcontainer\";\ndevcontainer start \"/my-devcontainer\";\n",
        ),
        ("mcp_gateway", "from template \"mcp-gateway\";\nmcp server \"exa\", \"brave\";\n"),
        ("start_wait_for_url", "start \"npm start\" ready url \"http://localhost:3000/health\";\n"),
        ("start_wait_for_file", "start \"./init.sh\" ready file \"/tmp/ready\";\n"),
        ("start_wait_for_timeout_small", "start \"sleep infinity\" ready timeout 1s;\n"),
        ("skip_cache_before_from", "skip_cache;\nfrom python \"3\";\nrun \"a\";\n"),
        ("copy_skip_cache", "run \"a\";\nskip_cache;\ncopy \"top.txt\" => \"/t\";\nrun \"b\";\n"),
        (
            "copy_options",
            "copy \"fixture/run.sh\" => \"/usr/local/bin/run\" (user = \"root:root\", mode = 0o755, force_upload, resolve_symlinks, gzip = false);\n",
        ),
    ];
    for (name, part) in expect {
        let request: BuildRequest = serde_json::from_str(&read_data(&format!("vectors/expected/{name}.json"))).unwrap();
        let text = request_to_tmpl(&request, &WriteOptions::new()).unwrap().text;
        assert!(text.contains(part), "{name}: expected\n{part}\nin\n{text}");
    }
    // Novita's pre-boot script: a request that has one is Novita's.
    let request: BuildRequest = serde_json::from_str(&read_data("vectors/novita/patch_cmd.json")).unwrap();
    let text = request_to_tmpl(&request, &WriteOptions::new()).unwrap().text;
    assert_eq!(text, "provider novita;\nfrom ubuntu \"22.04\";\npatch \"echo patched > /etc/patched\";\n");
    let request: BuildRequest = serde_json::from_str(&read_data("novita-deviations/shell_quote.json")).unwrap();
    let text = request_to_tmpl(&request, &WriteOptions::new()).unwrap().text;
    assert!(text.contains("mkdir \"with space\", \"it's\";\n"), "{text}");
    assert!(text.contains("git clone \"https://x/y.git\" => \"my dir\" (branch = \"a b\");\n"), "{text}");
}

#[test]
fn file_operations_and_apt_round_trip_with_their_options() {
    use sandbox_template::{AptOptions, FileOptions, MakeDirOptions, RemoveOptions};
    let t = Template::new()
        .from_ubuntu_image("24.04")
        .apt_install_with(["curl", "git"], AptOptions::new().no_install_recommends(true).fix_missing(true))
        .make_dir_with(["/srv/a b", "/srv/c"], MakeDirOptions::new().mode(0o750).user("app"))
        .remove_with("/tmp/x", RemoveOptions::new().recursive(true).force(true))
        .rename_with("/a", "/b", FileOptions::new().force(true))
        .make_symlink_with("/opt/bin/run", "/usr/local/bin/run", FileOptions::new().force(true).user("root"));
    // Through the wire, where all of these are RUN commands.
    let request = t.build_request(Provider::E2b, false).unwrap();
    let text = request_to_tmpl(&request, &WriteOptions::new()).unwrap().text;
    assert_eq!(
        text,
        "from ubuntu \"24.04\";\n\
         apt install \"curl\", \"git\" (no_install_recommends, fix_missing);\n\
         mkdir \"/srv/a b\", \"/srv/c\" (mode = 0o750, user = \"app\");\n\
         remove \"/tmp/x\" (recursive, force);\n\
         rename \"/a\" => \"/b\" (force);\n\
         symlink \"/opt/bin/run\" => \"/usr/local/bin/run\" (force, user = \"root\");\n"
    );
    let back = tmpl::load_str(&text, "t.tmpl", None).unwrap();
    assert_eq!(back.to_json_with(JsonOptions::default().without_hashes()).unwrap(), t.to_json().unwrap());
}

#[test]
fn a_command_that_only_starts_like_an_sdk_form_stays_a_run() {
    let json = r#"{"fromImage":"python:3","steps":[
        {"type":"RUN","args":["pip install flask && rm -rf /root/.cache","root"]},
        {"type":"RUN","args":["pip install flask"]},
        {"type":"RUN","args":["rm -rf /tmp/*"]},
        {"type":"RUN","args":["pip install --no-cache-dir flask","root"]}]}"#;
    let request: BuildRequest = serde_json::from_str(json).unwrap();
    let text = request_to_tmpl(&request, &WriteOptions::new()).unwrap().text;
    assert_eq!(
        text,
        "from python \"3\";\n\
         run \"pip install flask && rm -rf /root/.cache\" (user = \"root\");\n\
         run \"pip install flask\";\n\
         run \"rm -rf /tmp/*\";\n\
         run \"pip install --no-cache-dir flask\" (user = \"root\");\n"
    );
}

#[test]
fn what_the_dsl_cannot_write_is_refused_with_the_part_and_a_way_out() {
    let refused = |json: &str| request_to_tmpl(&serde_json::from_str(json).unwrap(), &WriteOptions::new()).unwrap_err();
    let e = refused(
        r#"{"fromImage":"r.example/i:1","fromImageRegistry":{"type":"registry","username":"u","password":"hunter2"}}"#,
    );
    let text = e.to_string();
    assert!(text.starts_with("base: the request holds the registry credentials"), "{text}");
    assert!(text.contains(r#"from image "r.example/i:1" (username = env("REGISTRY_USERNAME")"#), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    // OCI: the OCIDs, fingerprint and region are not secrets and are written as sent; the key is not.
    let e = refused(
        r#"{"fromImage":"iad.ocir.io/ns/r:1","fromImageRegistry":{"type":"oci","tenancyOcid":"ocid1.tenancy","userOcid":"ocid1.user","fingerprint":"aa:bb","privateKey":"-----BEGIN hunter2","region":"us-ashburn-1"}}"#,
    );
    let text = e.to_string();
    assert!(
        text.contains(r#"`from oci "iad.ocir.io/ns/r:1" (tenancy_ocid = "ocid1.tenancy", user_ocid = "ocid1.user", fingerprint = "aa:bb", private_key = env("OCI_PRIVATE_KEY"), region = "us-ashburn-1");`"#),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
    let e = refused(r#"{"fromImage":"a","startCmd":"x"}"#);
    assert!(matches!(&e, WriteError::Unsupported { what, .. } if what == "startCmd"), "{e}");
    let e =
        refused(r#"{"fromImage":"a","steps":[{"type":"RUN","args":["a"],"force":true},{"type":"RUN","args":["b"]}]}"#);
    assert!(matches!(&e, WriteError::Unsupported { what, .. } if what == "step 2"), "{e}");
    let e = refused(r#"{"fromImage":"a","steps":[{"type":"RUN","args":[""]}]}"#);
    assert!(matches!(e, WriteError::Check(_)), "{e}");
    let e = refused(r#"{"fromImage":"a","steps":[{"type":"ADD","args":["x","/y"]}]}"#);
    assert!(matches!(&e, WriteError::Request(s) if s.step == "1"), "{e}");
}

fn dockerfile_fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("template-runtime/tests/fixtures/dockerfiles");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "Dockerfile"))
        .collect();
    files.sort();
    files
}

/// A Dockerfile written as a `.tmpl` gives the request that importing the Dockerfile gives.
#[test]
fn dockerfile_fixtures_written_as_tmpl_give_the_same_request() {
    let files = dockerfile_fixtures();
    assert!(files.len() >= 10, "{files:?}");
    let options = JsonOptions::default().without_hashes();
    let mut written_files = 0;
    let count = files.len();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.display();
        let direct = Template::new().from_dockerfile(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let imported = match dockerfile_to_tmpl(&text, &Default::default(), &WriteOptions::new()) {
            Ok(imported) => imported,
            // What the DSL's checks refuse, `validate()` refuses in the imported Dockerfile too.
            Err(WriteError::Check(e)) => {
                assert!(direct.validate().is_err(), "{name}: refused, but the Dockerfile import is valid:\n{e}");
                continue;
            }
            Err(e) => panic!("{name}: {e}"),
        };
        written_files += 1;
        let written = tmpl::load_str(&imported.text, "imported.tmpl", None)
            .unwrap_or_else(|e| panic!("{name}: the written .tmpl is refused:\n{e}\n{}", imported.text));
        assert_eq!(
            written.to_json_with(options).unwrap(),
            direct.to_json_with(options).unwrap(),
            "{name}:\n{}",
            imported.text
        );
        // Written again from what it reads back into, the text is the same.
        assert_eq!(to_tmpl(&written, &WriteOptions::new()).unwrap(), imported.text, "{name}");
    }
    assert!(written_files + 2 >= count, "only {written_files} of {count} Dockerfiles written");
}

/// A template with the forms of novita-sandbox's own methods (`from oci` with its private key
/// from the environment, `patch`) is written with them and reads back into the same template.
#[test]
fn novita_only_forms_round_trip() {
    use sandbox_template::{OciCredentials, Secret};
    let oci = OciCredentials {
        tenancy_ocid: "ocid1.tenancy".into(),
        user_ocid: "ocid1.user".into(),
        fingerprint: "aa:bb".into(),
        private_key: Secret::from_env("OCI_PRIVATE_KEY"),
        region: "us-ashburn-1".into(),
    };
    let t = Template::new()
        .for_provider(Provider::Novita)
        .from_oci_registry("iad.ocir.io/ns/r:1", oci)
        .run_cmd("echo hi")
        .set_patch_cmd("echo patched > /etc/patched");
    let text = to_tmpl(&t, &WriteOptions::new()).unwrap();
    assert_eq!(
        text,
        "provider novita;\n\
         from oci \"iad.ocir.io/ns/r:1\" (tenancy_ocid = \"ocid1.tenancy\", user_ocid = \"ocid1.user\", fingerprint = \"aa:bb\", private_key = env(\"OCI_PRIVATE_KEY\"), region = \"us-ashburn-1\");\n\
         run \"echo hi\";\n\
         patch \"echo patched > /etc/patched\";\n"
    );
    let back = tmpl::load_str(&text, "t.tmpl", None).unwrap();
    assert_eq!(back.registry(), t.registry());
    assert_eq!(back.pre_boot_script(), t.pre_boot_script());
    // Written for E2B, the same template is refused by the DSL's checks, as by `validate()`.
    let e2b = t.clone().for_provider(Provider::E2b);
    assert!(matches!(to_tmpl(&e2b, &WriteOptions::new()), Err(WriteError::Check(_))));
}
