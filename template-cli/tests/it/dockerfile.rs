//! `sandbox-template dockerfile` on real `.tmpl` files.

use crate::support::{run, text, tmpl};

#[test]
fn dockerfile_prints_the_template_as_a_dockerfile() {
    let out = run(&["dockerfile", tmpl("api.tmpl").to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let df = text(&out.stdout);
    assert!(df.starts_with("FROM python:3.12\nENV APP_ENV=production PORT=8000\nWORKDIR /app\n"), "{df}");
}
