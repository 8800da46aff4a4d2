//! The compile-time checks, one failing template per file (`tests/ui/fail/*.rs` + `.stderr`), and
//! templates that must compile (`tests/ui/pass/*.rs`). Regenerate the expected output with
//! `TRYBUILD=overwrite cargo test --test ui` and read the diff.

use std::path::{Path, PathBuf};

#[test]
fn ui() {
    // Dropped last, after `t` has run the cases.
    let _escape = OutOfTree::link(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui/fail/files/escape"), "/etc");
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}

/// A symlink leading out of the tree (`copy_symlink_escapes.rs` needs one), made for the run and
/// removed after it: committed, `cargo package` would follow it and pack `/etc`.
struct OutOfTree(PathBuf);

impl OutOfTree {
    fn link(path: PathBuf, target: &str) -> Self {
        // Left behind by a killed run: replace it, whatever it points to.
        let _ = std::fs::remove_file(&path);
        std::os::unix::fs::symlink(target, &path)
            .unwrap_or_else(|e| panic!("cannot make the symlink {} -> {target}: {e}", path.display()));
        OutOfTree(path)
    }
}

impl Drop for OutOfTree {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
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

/// The source build.rs generates (`build_script::generate`) compiles with `#![deny(warnings)]` in
/// a crate that uses none of it, and its `ALL` lists every template.
#[test]
fn build_script_output() {
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui/build-script");
    let (code, _) = sandbox_template_dsl::build::generate(&cases.join("templates")).unwrap();
    let generated = cases.join("generated");
    std::fs::create_dir_all(&generated).unwrap();
    std::fs::write(generated.join(sandbox_template_dsl::build::OUT_FILE), code).unwrap();
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/build-script/*.rs");
}
