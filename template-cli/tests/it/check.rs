//! `sandbox-template check` on real `.tmpl` files.

use crate::support::{run, text, tmpl};

#[test]
fn check_reports_every_problem_rustc_style_and_fails() {
    let out = run(&["check", tmpl("broken.tmpl").to_str().unwrap()]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("error: unknown base `pyhton`"), "{err}");
    assert!(err.contains("broken.tmpl:1:6"), "{err}");
    assert!(err.contains("1 | from pyhton \"3.12\";"), "{err}");
    assert!(err.contains("= help: did you mean `python`?"), "{err}");
    // rustc's layout: the help comes last, under the carets, after a `|` line.
    assert!(
        err.contains("1 | from pyhton \"3.12\";\n  |      ^^^^^^\n  |\n  = help: did you mean `python`?\n"),
        "{err}"
    );
    assert!(err.contains("broken.tmpl:2:5"), "{err}");
    assert!(err.contains("broken.tmpl:3:6"), "{err}");
    assert!(err.contains("broken.tmpl:4:24"), "{err}");
    assert!(err.contains("due to 4 previous errors"), "{err}");
}

#[test]
fn check_passes_good_files() {
    let out = run(&["check", tmpl("api.tmpl").to_str().unwrap(), tmpl("private.tmpl").to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// What the provider's SDK lacks is refused by `check`, at the token, with the runtime's rule
/// text; the same text with the other provider passes.
#[test]
fn check_applies_the_provider_rules() {
    let dir = tempfile::tempdir().unwrap();
    let patch = dir.path().join("patch.tmpl");
    std::fs::write(&patch, "from base;\npatch \"echo hi\";\n").unwrap();
    let out = run(&["check", patch.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("error: E2B has no pre-boot script"), "{err}");
    assert!(err.contains("patch.tmpl:2:1"), "{err}");
    std::fs::write(&patch, "provider novita;\nfrom base;\npatch \"echo hi\";\n").unwrap();
    let out = run(&["check", patch.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let gzip = dir.path().join("gzip.tmpl");
    std::fs::write(&gzip, "provider novita;\nfrom base;\ncopy \"gzip.tmpl\" => \"/t\" (gzip = false);\n").unwrap();
    let out = run(&["check", gzip.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("error: Novita has no `gzip = false` copy option"), "{err}");
    assert!(err.contains("gzip.tmpl:3:27"), "{err}");
}
