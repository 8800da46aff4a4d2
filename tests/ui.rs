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
/// COPY sources that match nothing, each named with its Dockerfile line; and an import that gives
/// the same template as `Template::from_dockerfile`.
#[test]
fn dockerfile_import_checks() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/dockerfile/*.rs");
    t.pass("tests/ui/dockerfile-pass/*.rs");
}
