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
