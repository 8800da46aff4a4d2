//! Shared by the CLI's tests: the binary and its `.tmpl` fixtures (`tests/fixtures/`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `sandbox-template` binary of this package.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sandbox-template"))
}

/// A fixture of this package: `tests/fixtures/NAME`.
pub fn tmpl(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// Runs the binary with `args`.
pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

/// Output bytes as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
