//! Shared by the server's tests that need a container engine (`serve::{local, js_sdk}`):
//! which base image they build on, and what they do when no engine can run here (fail in CI, a
//! loud notice elsewhere). The same rule as the runtime's `tests/it/support/engine.rs`.

use std::process::Command;

use sandbox_template_runtime::local::{Engine, EnginePreference};

/// The image `.ci/setup-podman.sh` creates (override with `SANDBOX_TEMPLATE_TEST_BASE`).
pub fn base_image() -> String {
    std::env::var("SANDBOX_TEMPLATE_TEST_BASE").unwrap_or_else(|_| "localhost/sandbox-base:latest".to_owned())
}

/// Fails with `message` when `CI` is set (a CI run must not pass by skipping); elsewhere prints
/// a loud notice so a skipped engine test is seen.
pub fn skip_or_fail(message: &str) {
    let in_ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
    assert!(!in_ci, "{message}");
    eprintln!("\n!!!!!!!! SKIPPED !!!!!!!! {message}\n");
}

/// The engine holding the base image, or `None` (after [`skip_or_fail`]) when none can run
/// here; `what` names the tests in the notice ("serve engine tests").
pub fn engine(what: &str) -> Option<Engine> {
    let problem = match Engine::detect(EnginePreference::Auto) {
        Ok(engine) if engine.has_image(&base_image()) => return Some(engine),
        Ok(engine) => format!("the base image `{}` is missing ({} found)", base_image(), engine.program().display()),
        Err(e) => e.to_string(),
    };
    skip_or_fail(&format!("{what} cannot run: {problem}\nfix: run `bash .ci/setup-podman.sh` as root"));
    None
}

/// Removes the test's images when the test ends, whatever happens.
pub struct Images(pub Engine, pub Vec<String>);

impl Drop for Images {
    fn drop(&mut self) {
        for image in &self.1 {
            let _ = self.0.remove_image(image);
        }
    }
}

/// Runs `script` with `sh -c` in a throwaway container of `image`; its stdout.
pub fn run_in(engine: &Engine, image: &str, script: &str) -> String {
    let out = Command::new(engine.program()).args(["run", "--rm", image, "sh", "-c", script]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}
