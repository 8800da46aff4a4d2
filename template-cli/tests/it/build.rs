//! `build` as a user runs it, up to the point where it needs the service.

use crate::support::{bin, text};

/// A template that says `provider novita;` is built on Novita unless `--provider` says otherwise:
/// without keys, the error names the key of the provider it chose.
#[test]
fn the_provider_defaults_to_the_templates() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.tmpl");
    std::fs::write(&file, "provider novita;\nfrom base;\nrun \"echo hi\";\n").unwrap();
    let build = |extra: &[&str]| {
        let mut cmd = bin();
        cmd.args(["build", file.to_str().unwrap(), "--name", "t"]).args(extra);
        for var in ["E2B_API_KEY", "E2B_ACCESS_TOKEN", "NOVITA_API_KEY", "NOVITA_ACCESS_TOKEN"] {
            cmd.env_remove(var);
        }
        let out = cmd.output().unwrap();
        assert!(!out.status.success());
        text(&out.stderr)
    };
    let default = build(&[]);
    assert!(default.contains("NOVITA_API_KEY") && !default.contains("E2B_API_KEY"), "{default}");
    let e2b = build(&["--provider", "e2b"]);
    assert!(e2b.contains("E2B_API_KEY"), "{e2b}");
}
