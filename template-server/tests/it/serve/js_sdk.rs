//! Conformance with a client we did not write: the official E2B JS SDK (npm `e2b@2.51.0`) builds
//! against `serve` with the local engine, and the images hold what the templates say.
//!
//! The SDK is installed once into `CARGO_TARGET_TMPDIR/e2b-js-2.51.0` (npm registry access
//! needed the first time). Needs Node, npm, Podman or Docker and the busybox base image of
//! `.ci/setup-podman.sh`: without them the test fails when `CI` is set and prints a loud notice
//! elsewhere. pip/npm/apt/git steps cannot run on the offline busybox base; they are covered
//! without an engine in `serve/local.rs`.
use std::path::{Path, PathBuf};
use std::process::Command;

use sandbox_template_runtime::local::{Engine, EnginePreference};
use sandbox_template_server::ServeOptions;

use crate::support::engine::{Images, base_image, run_in};

const KEY: &str = "e2b_serve_js_sdk_test_key";
const SDK_VERSION: &str = "2.51.0";

fn skip_or_fail(problem: &str) {
    crate::support::engine::skip_or_fail(&format!("JS SDK conformance test cannot run: {problem}"));
}

/// `node_modules` holding the SDK, installed with npm unless already there.
fn sdk_modules() -> Result<PathBuf, String> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("e2b-js-{SDK_VERSION}"));
    let package = dir.join("node_modules/e2b/package.json");
    let installed = std::fs::read_to_string(&package)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .is_some_and(|p| p["version"] == SDK_VERSION);
    if !installed {
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let out = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--no-save", "--prefix"])
            .arg(&dir)
            .arg(format!("e2b@{SDK_VERSION}"))
            .output()
            .map_err(|e| format!("cannot run npm ({e}); install Node.js and npm"))?;
        if !out.status.success() {
            return Err(format!("`npm install e2b@{SDK_VERSION}` failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
    }
    Ok(dir.join("node_modules"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_js_sdk_builds_the_seed_and_every_step_kind_against_serve() {
    let engine = match Engine::detect(EnginePreference::Podman).or_else(|_| Engine::detect(EnginePreference::Auto)) {
        Ok(e) if e.has_image(&base_image()) => e,
        Ok(_) => {
            return skip_or_fail(&format!(
                "the base image `{}` is missing; run `bash .ci/setup-podman.sh`",
                base_image()
            ));
        }
        Err(e) => return skip_or_fail(&format!("{e}\nfix: run `bash .ci/setup-podman.sh` as root")),
    };
    let modules = match tokio::task::spawn_blocking(sdk_modules).await.unwrap() {
        Ok(m) => m,
        Err(problem) => return skip_or_fail(&problem),
    };
    let choice = if engine.kind().program() == "podman" { EnginePreference::Podman } else { EnginePreference::Docker };
    let pid = std::process::id();
    let (seed, all) = (format!("sdk-seed-{pid}"), format!("sdk-all-{pid}"));
    let _images = Images(engine.clone(), vec![seed.clone(), all.clone()]);

    let ctx = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(ctx.path().join("fixture/sub")).unwrap();
    std::fs::write(ctx.path().join("fixture/hello.txt"), "hello fixture\n").unwrap();
    std::fs::write(ctx.path().join("fixture/sub/data.json"), "{\"a\":1}\n").unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut options = ServeOptions::new(data.path(), KEY).engine(choice);
    // `serve` records nothing by default; this test reads the SDK's requests back.
    options.config.record_requests = true;
    let serving = options.start().await.unwrap();

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js/serve_build.js");
    let out = tokio::process::Command::new("node")
        .arg(&script)
        .arg(ctx.path())
        .args([base_image(), seed.clone(), all.clone()])
        .env("NODE_PATH", &modules)
        .env("E2B_API_URL", serving.server.url())
        .env("E2B_API_KEY", KEY)
        .output()
        .await
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "the SDK's build failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.lines().filter(|l| l.starts_with("BUILT ")).count(), 2, "{stdout}");
    // It really was the official SDK talking.
    let create = serving.server.requests().into_iter().find(|r| r.path == "/v3/templates").unwrap();
    assert_eq!(create.header("user-agent"), Some(format!("e2b-js-sdk/{SDK_VERSION}").as_str()));
    serving.server.shutdown().await;

    assert_eq!(
        run_in(
            &engine,
            &seed,
            "cat /seed.txt /app/fixture/hello.txt /app/fixture/sub/data.json; echo \"$APP_ENV|$GREETING\""
        ),
        "seeded\nhello fixture\n{\"a\":1}\nprod|hello world\n"
    );
    assert_eq!(
        run_in(
            &engine,
            &all,
            "cat /app/hello.txt /app/sub/data.json /app/ran.txt /app/moved.txt /tmp/whoami; \
             echo \"$STEP_ENV|$SECOND\"; pwd; id -un; readlink /app/link.txt; \
             stat -c '%a %U' /app/hello.txt /app/made; [ -e /app/doomed ] || echo doomed-gone; \
             [ -e /app/to-move.txt ] || echo moved-gone"
        ),
        "hello fixture\n{\"a\":1}\nran\nmoved\nuser\nfrom-env|two words\n/app\nuser\n/app/hello.txt\n\
         640 user\n750 root\ndoomed-gone\nmoved-gone\n"
    );
}
