//! `sandbox-template import` on Dockerfiles and SDK build requests.

use std::path::{Path, PathBuf};

use crate::support::{run, text, tmpl};

/// A recorded SDK vector of the workspace (`tests/conformance/sdk/vectors/...`).
fn vector(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance/sdk/vectors").join(path)
}

fn arg(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_build_request_becomes_statements_and_prints_the_same_json_again() {
    let request = vector("expected/npm_install.json");
    let out = run(&["import", arg(&request)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let tmpl_text = text(&out.stdout);
    assert_eq!(
        tmpl_text,
        "from node \"lts\";\nnpm install;\nnpm install \"express\";\nnpm install \"typescript\", \"tsx\" (global);\n\
         npm install \"vitest\" (dev);\nnpm install \"x\" (global, dev);\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("npm.tmpl");
    std::fs::write(&file, &tmpl_text).unwrap();
    let json = run(&["json", arg(&file)]);
    assert!(json.status.success(), "{}", text(&json.stderr));
    assert_eq!(text(&json.stdout), std::fs::read_to_string(&request).unwrap() + "\n");
}

#[test]
fn a_dockerfile_is_written_to_a_file_that_check_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("args.tmpl");
    let dockerfile = tmpl("args.Dockerfile");
    let out = run(&["import", arg(&dockerfile), "--build-arg", "PY=3.12", "-o", arg(&out_file)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("wrote "), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(&out_file).unwrap();
    assert!(written.starts_with("from python \"3.12\";\nuser \"root\";\nworkdir \"/\";\n"), "{written}");
    assert!(written.contains(r##"run r#"export GREETING=hello; echo "$GREETING from python ${PY}""#;"##), "{written}");
    let check = run(&["check", arg(&out_file)]);
    assert!(check.status.success(), "{}", text(&check.stderr));

    // An existing file is only replaced with `--force`.
    let again = run(&["import", arg(&dockerfile), "-o", arg(&out_file)]);
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("exists") && text(&again.stderr).contains("--force"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(std::fs::read_to_string(&out_file).unwrap(), written);
    let forced = run(&["import", arg(&dockerfile), "-o", arg(&out_file), "--force"]);
    assert!(forced.status.success(), "{}", text(&forced.stderr));
    assert!(std::fs::read_to_string(&out_file).unwrap().starts_with("from python \"3.11\";"));
}

#[test]
fn the_kind_is_detected_by_content_and_can_be_given() {
    let dir = tempfile::tempdir().unwrap();
    let request = dir.path().join("request.txt");
    std::fs::write(&request, r#"{"fromTemplate":"base","steps":[{"type":"WORKDIR","args":["/app"]}]}"#).unwrap();
    let out = run(&["import", arg(&request), "--context", "app"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "context \"app\";\nfrom template \"base\";\nworkdir \"/app\";\n");
    let out = run(&["import", arg(&request), "--from", "dockerfile"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains(":1:1:"), "{}", text(&out.stderr));
}

#[test]
fn novita_requests_leave_out_the_env_step_with_a_note() {
    let out = run(&["import", arg(&vector("novita/seed.json"))]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("note: left out the last step (step 4)"), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains("novita-image-env"), "{}", text(&out.stdout));
}

#[test]
fn bad_input_is_an_error_saying_what_and_where() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\"steps\": [").unwrap();
    let out = run(&["import", arg(&broken)]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("is not a build request JSON") && err.contains("Template.toJSON"), "{err}");

    let dockerfile = dir.path().join("Dockerfile");
    std::fs::write(&dockerfile, "FROM a AS b\nFROM c\n").unwrap();
    let out = run(&["import", arg(&dockerfile)]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains(&format!("{}:2:", dockerfile.display())), "{err}");

    let secret = dir.path().join("private.json");
    std::fs::write(&secret, r#"{"fromImage":"r.io/a","fromImageRegistry":{"type":"aws","awsAccessKeyId":"AKIA","awsSecretAccessKey":"s3cr3t","awsRegion":"r"}}"#).unwrap();
    let out = run(&["import", arg(&secret)]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("base: the request holds the registry credentials") && err.contains("from aws"), "{err}");
    assert!(!err.contains("s3cr3t") && !err.contains("AKIA"), "{err}");

    let out = run(&["import", arg(&dir.path().join("missing.json"))]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("cannot read"), "{}", text(&out.stderr));
    let out = run(&["import", arg(&tmpl("args.Dockerfile")), "--build-arg", "PY"]);
    assert!(text(&out.stderr).contains("--build-arg PY=VALUE"), "{}", text(&out.stderr));
}

/// The SDK requests of novita-sandbox's pre-boot script, MCP servers and a dev container are
/// written with their statements (`patch`, `mcp server`, `devcontainer prebuild|start`), which
/// `check` accepts and `json` prints as the same request again.
#[test]
fn patch_mcp_and_devcontainer_requests_round_trip_through_check_and_json() {
    let dir = tempfile::tempdir().unwrap();
    for (vector_path, provider, statement) in [
        ("novita/patch_cmd.json", "novita", "patch \"echo patched > /etc/patched\";\n"),
        ("expected/mcp_gateway.json", "e2b", "mcp server \"exa\", \"brave\";\n"),
        ("py/mcp_gateway.json", "e2b", "mcp server \"exa\", \"brave\";\n"),
        ("novita/devcontainer.json", "novita", "devcontainer start \"/my-devcontainer\";\n"),
        ("expected/devcontainer.json", "e2b", "devcontainer prebuild \"/my-devcontainer\";\n"),
    ] {
        let request = vector(vector_path);
        let file = dir.path().join(vector_path.replace('/', "-").replace(".json", ".tmpl"));
        let out = run(&["import", arg(&request), "-o", arg(&file)]);
        assert!(out.status.success(), "{vector_path}: {}", text(&out.stderr));
        let written = std::fs::read_to_string(&file).unwrap();
        assert!(written.contains(statement), "{vector_path}:\n{written}");
        let out = run(&["check", arg(&file)]);
        assert!(out.status.success(), "{vector_path}: {}", text(&out.stderr));
        let json = run(&["json", "--provider", provider, arg(&file)]);
        assert!(json.status.success(), "{vector_path}: {}", text(&json.stderr));
        let want: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&request).unwrap()).unwrap();
        let got: serde_json::Value = serde_json::from_str(&text(&json.stdout)).unwrap();
        assert_eq!(got, want, "{vector_path}:\n{written}");
    }
}
