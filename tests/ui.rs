//! The compile-time checks, one failing template per file (`tests/ui/fail/*.rs` + `.stderr`), and
//! templates that must compile (`tests/ui/pass/*.rs`). Regenerate the expected output with
//! `TRYBUILD=overwrite cargo test --test ui` and read the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}

/// `from dockerfile`: missing files, multi-stage builds, unknown and unsupported instructions,
/// COPY sources that match nothing, each named with its Dockerfile line; build args (`arg NAME =
/// STR`) that are misspelt, undeclared, repeated or `{expr}`; and imports that give the same
/// template as `Template::from_dockerfile` / `from_dockerfile_with`.
#[test]
fn dockerfile_import_checks() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/dockerfile/*.rs");
    t.pass("tests/ui/dockerfile-pass/*.rs");
}
