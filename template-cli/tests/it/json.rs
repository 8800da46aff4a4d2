//! `sandbox-template json` on real `.tmpl` files.

use crate::support::{bin, run, text, tmpl};

#[test]
fn json_is_to_json_of_the_interpreted_template() {
    let path = tmpl("api.tmpl");
    let out = run(&["json", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let expected = sandbox_template_dsl::tmpl::load(&path).unwrap().to_json().unwrap();
    assert_eq!(text(&out.stdout), format!("{expected}\n"));
    let compact = run(&["json", "--compact", "--provider", "novita", path.to_str().unwrap()]);
    let expected = sandbox_template_dsl::tmpl::load(&path)
        .unwrap()
        .to_json_with(
            sandbox_template_runtime::JsonOptions::for_provider(sandbox_template_runtime::Provider::Novita).compact(),
        )
        .unwrap();
    assert_eq!(text(&compact.stdout), format!("{expected}\n"));
}

#[test]
fn json_reads_env_secrets_when_it_runs() {
    let path = tmpl("private.tmpl");
    let missing = bin().args(["json", path.to_str().unwrap()]).env_remove("DSL_TMPL_KEY").output().unwrap();
    assert!(!missing.status.success());
    assert!(text(&missing.stderr).contains("DSL_TMPL_KEY"));
    let out = bin()
        .args(["json", "--compact", path.to_str().unwrap()])
        .env("DSL_TMPL_KEY", "key-id")
        .env("DSL_TMPL_SECRET", "s3cr3t")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(r#""awsAccessKeyId":"key-id""#));
}

#[test]
fn missing_file_is_an_error_not_a_panic() {
    let out = run(&["json", "/no/such/file.tmpl"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("cannot read `/no/such/file.tmpl`"));
}

#[test]
fn json_applies_dockerfile_build_args_and_check_reports_undeclared_ones() {
    let out = run(&["json", tmpl("dockerfile_args.tmpl").to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // `ARG PY=3.11` + `FROM python:${PY}` with `arg PY = "3.12"`.
    assert!(text(&out.stdout).contains(r#""fromImage": "python:3.12""#), "{}", text(&out.stdout));

    let dir = std::env::temp_dir().join(format!("cli-dockerfile-args-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("Dockerfile"), "ARG PY=3.11\nFROM python:${PY}\n").unwrap();
    let bad = dir.join("bad.tmpl");
    std::fs::write(&bad, "from dockerfile \"Dockerfile\" (arg PYY = \"3.12\");\n").unwrap();
    let out = run(&["check", bad.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("error: build arg `PYY` is not declared by an `ARG` of `Dockerfile`"), "{err}");
    assert!(err.contains("bad.tmpl:1:35"), "{err}");
    assert!(err.contains("did you mean `PY`?"), "{err}");
}

#[test]
fn json_shows_a_copy_source_matching_nothing_where_the_file_names_it() {
    // `json` leaves COPY sources to the hashing (one walk of each tree); the problem it finds is
    // still shown as `check` shows it, together with the file's other problems.
    let dir = tempfile::tempdir().unwrap();
    let only_copy = dir.path().join("copy.tmpl");
    std::fs::write(&only_copy, "from base;\ncopy \"missing\" => \"/app/\";\n").unwrap();
    let both = dir.path().join("both.tmpl");
    std::fs::write(&both, "from pyhton \"3.12\";\ncopy \"missing\" => \"/app/\";\n").unwrap();
    for (file, problems) in [(&only_copy, "1 previous error"), (&both, "2 previous errors")] {
        let json = run(&["json", file.to_str().unwrap()]);
        let check = run(&["check", file.to_str().unwrap()]);
        assert!(!json.status.success());
        let err = text(&json.stderr);
        assert!(err.contains("error: no file matches `missing`"), "{err}");
        assert!(err.contains(":2:6"), "{err}");
        assert!(err.contains(problems), "{err}");
        assert_eq!(err.trim_end(), text(&check.stderr).trim_end());
    }
}

/// `--no-hashes` is the SDKs' `toJSON(computeHashes = false)`: byte for byte the recorded e2b
/// vector `copy_no_hash`, and the context is not read (the source need not exist yet).
#[test]
fn no_hashes_matches_the_sdk_vector_and_reads_no_context() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.tmpl");
    std::fs::write(&file, "from base;\ncopy \"top.txt\" => \"/t\";\n").unwrap();
    let out = run(&["json", "--no-hashes", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let vector = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/conformance/sdk/vectors/expected/copy_no_hash.json"),
    )
    .unwrap();
    assert_eq!(text(&out.stdout).trim_end(), vector.trim_end());
    // With hashes the context is read, and the missing source is an error.
    let hashed = run(&["json", file.to_str().unwrap()]);
    assert!(!hashed.status.success());
    assert!(text(&hashed.stderr).contains("top.txt"), "{}", text(&hashed.stderr));
}

/// Novita inherits the base image's config from its registry; one that cannot be reached is a
/// warning naming it and the way to turn inheritance off, and the JSON is what novita-sandbox
/// prints then (the template without the image's config). `--no-inherit-config` reads nothing.
#[test]
fn json_for_novita_warns_when_the_registry_cannot_be_read_and_no_inherit_config_reads_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.tmpl");
    std::fs::write(&file, "provider novita;\nfrom image \"127.0.0.1:1/app:1\";\nrun \"echo hi\";\n").unwrap();
    let expected = sandbox_template_dsl::tmpl::load(&file).unwrap().to_json().unwrap();

    let out = run(&["json", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("{expected}\n"));
    let stderr = text(&out.stderr);
    for wanted in
        ["warning: Could not read 127.0.0.1:1/app:1", "cannot reach the registry 127.0.0.1:1", "--no-inherit-config"]
    {
        assert!(stderr.contains(wanted), "`{wanted}` missing from stderr:\n{stderr}");
    }

    let out = run(&["json", "--no-inherit-config", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("{expected}\n"));
    assert_eq!(text(&out.stderr), "", "nothing was read");

    // E2B reads no image config at all.
    let out = run(&["json", "--provider", "e2b", file.to_str().unwrap()]);
    assert_eq!(text(&out.stderr), "");

    // `inherit_config = false` in the file does the same as the flag.
    std::fs::write(
        &file,
        "provider novita;\nfrom image \"127.0.0.1:1/app:1\" (inherit_config = false);\nrun \"echo hi\";\n",
    )
    .unwrap();
    let out = run(&["json", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("{expected}\n"));
    assert_eq!(text(&out.stderr), "");
}
