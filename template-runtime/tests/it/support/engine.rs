//! Shared by the tests that need a container engine (`local::engine`, `dockerfile::engine`, and
//! the server's `serve::{local, js_sdk}`, which include this file):
//! which base image they build on, and what they do when no engine can run here (fail in CI, a
//! loud notice elsewhere), so the rule lives in one place.
// Each crate uses part of it (`run_in` only the server's tests).
#![allow(dead_code)]

use std::process::Command;
use std::sync::{Mutex, MutexGuard};

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
///
/// The engine tests of one test binary run one at a time: the returned handle holds a lock until
/// the test ends. Tests build from the same base with identical first steps, so they share
/// cached layers, and Podman fails a build ("layer not known") when another test removes its
/// images while that build is checking its cache.
pub fn engine(what: &str) -> Option<EngineTest> {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    // A test that failed while holding the lock leaves nothing behind that the next one needs.
    let guard = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let problem = match Engine::detect(EnginePreference::Auto) {
        Ok(engine) if engine.has_image(&base_image()) => return Some(EngineTest { engine, _guard: guard }),
        Ok(engine) => format!("the base image `{}` is missing ({} found)", base_image(), engine.program().display()),
        Err(e) => e.to_string(),
    };
    skip_or_fail(&format!("{what} cannot run: {problem}\nfix: run `bash .ci/setup-podman.sh` as root"));
    None
}

/// An [`Engine`] that this test has to itself (see [`engine`]).
pub struct EngineTest {
    engine: Engine,
    _guard: MutexGuard<'static, ()>,
}

impl std::ops::Deref for EngineTest {
    type Target = Engine;
    fn deref(&self) -> &Engine {
        &self.engine
    }
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
