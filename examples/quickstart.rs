//! Quickstart: a small web service as a sandbox template, built for real.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! What it builds on depends on the machine, first match wins:
//! 1. `E2B_API_KEY` (or `NOVITA_API_KEY`) set: the Python template on that cloud.
//! 2. Docker or Podman working: the image with the local engine, then a container started from
//!    it, its ready check awaited and the service asked for its greeting. When `python:3.12`
//!    is not present and the busybox base made by `bash .ci/setup-podman.sh` is (machines that
//!    cannot pull), the busybox variant is built instead (it says so): same env and files, the
//!    greeting served by busybox `httpd` instead of Flask.
//! 3. Neither: the whole client/server flow (upload, build, logs) against an in-process
//!    `sandbox-template serve` with no engine; it prints the Dockerfile it staged and says what
//!    it skipped (no image built, nothing started).
//!
//! The templates are written with `template!` as module-level statics, the way a service keeps
//! them (`QUICKSTART`, `OFFLINE` below): `cargo build` checks them, each mistake at its token.
//! The service's files are in `examples/quickstart/app/`.

use std::process::ExitCode;

use sandbox_template::{Provider, Template, template};
use sandbox_template_runtime::cloud::{BuildEvent, Client, CloudBuildOptions, ConnectionOptions};
use sandbox_template_runtime::local::{self, Engine, EnginePreference, LocalEvent, StartOptions};
use sandbox_template_server::ServeOptions;

/// The image `.ci/setup-podman.sh` makes from busybox-static where nothing can be pulled.
const LOCAL_BASE: &str = "localhost/sandbox-base:latest";
const PYTHON_IMAGE: &str = "python:3.12";
const NAME: &str = "quickstart";

// The templates, as a service keeps them: module-level constants, checked by `cargo build` (a
// typo in a key, a copy source that does not exist, a port out of range fail the build, each at
// its token) and built into a `Template` on first use. `context` is relative to this file: the
// `copy` sources are in `examples/quickstart/`. Steps run as `user` in `/home/user`, as in the
// cloud, so everything is written under the user's home.
template! {
    /// Python 3.12, Flask, the app, and how to start it.
    static QUICKSTART = {
        context "quickstart";
        from python "3.12";
        env APP_ENV = "prod", GREETING = "hello world";
        pip install "flask";
        copy "app" => "/home/user/app";
        workdir "/home/user/app";
        start "python main.py" ready port 8000;
    };

    /// The same service for a machine that cannot pull `python:3.12`: the busybox base, the same
    /// env and files, and the greeting written as a static page served by busybox `httpd` (no
    /// Python, no Flask, no network needed).
    static OFFLINE = {
        context "quickstart";
        from image "localhost/sandbox-base:latest";
        env APP_ENV = "prod", GREETING = "hello world";
        copy "app" => "/home/user/app";
        workdir "/home/user/app";
        run "mkdir -p www && printf '{\"greeting\": \"%s\", \"env\": \"%s\"}\\n' \"$GREETING\" \"$APP_ENV\" > www/index.html";
        start "busybox httpd -f -p 8000 -h www" ready port 8000;
    };
}

fn cloud_provider() -> Option<Provider> {
    let set = |k: &str| std::env::var(k).is_ok_and(|v| !v.trim().is_empty());
    if set("E2B_API_KEY") {
        Some(Provider::E2b)
    } else if set("NOVITA_API_KEY") {
        Some(Provider::Novita)
    } else {
        None
    }
}

fn print_event(event: &BuildEvent) {
    match event {
        BuildEvent::Created { template_id, build_id } => println!("created template {template_id}, build {build_id}"),
        BuildEvent::UploadDone { src, bytes, .. } => println!("uploaded {src} ({bytes} bytes)"),
        BuildEvent::UploadSkipped { src, .. } => println!("upload of {src} skipped: already there"),
        BuildEvent::Log(entry) => println!("  | {}", entry.message),
        BuildEvent::Finished { status } => println!("build finished: {status:?}"),
        _ => {}
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

fn on_cloud(provider: Provider) -> Result<(), String> {
    println!("== Building `{NAME}` on {provider} (its API key is set)");
    runtime()?.block_on(async {
        let client = Client::from_env(provider).map_err(|e| e.to_string())?;
        let options = CloudBuildOptions::default().on_event(print_event);
        let info = client.build(&QUICKSTART, NAME, &options).await.map_err(|e| e.to_string())?;
        println!("Built {} on {provider}: template {}, build {}", info.name, info.template_id, info.build_id);
        Ok(())
    })
}

fn on_engine(engine: &Engine) -> Result<(), String> {
    let program = engine.kind().program();
    let template: &Template = if !engine.has_image(PYTHON_IMAGE) && engine.has_image(LOCAL_BASE) {
        println!(
            "== `{PYTHON_IMAGE}` is not on this machine and {LOCAL_BASE} is: building the busybox variant \
             (same env and files; busybox httpd serves the greeting instead of Flask)"
        );
        &OFFLINE
    } else {
        println!("== Building the Python template with {program} (pulls {PYTHON_IMAGE} if needed)");
        &QUICKSTART
    };
    let mut show = |event: LocalEvent| match event {
        LocalEvent::Log(line) => println!("  | {line}"),
        LocalEvent::Finished { image, id } => println!("built image {image} ({id})"),
        LocalEvent::ContainerStarted { id } => println!("started container {}", &id[..id.len().min(12)]),
        LocalEvent::Ready { attempts } => println!("ready check passed (attempt {attempts})"),
        _ => {}
    };
    let (image, sandbox) = engine
        .build_and_start(template, NAME, &local::LocalBuildOptions::new(), &StartOptions::new(), &mut show)
        .map_err(|e| e.to_string())?;
    let answer = sandbox
        .exec("wget -qO- http://127.0.0.1:8000/ 2>/dev/null || curl -s http://127.0.0.1:8000/")
        .map_err(|e| e.to_string())?;
    println!("GET http://127.0.0.1:8000/ in the sandbox -> {}", answer.stdout.trim());
    sandbox.remove().map_err(|e| e.to_string())?;
    println!("Done: image `{}` built with {program} and started; the container is removed, the image kept", image.name);
    println!("     (try it: {program} run --rm -it {} sh)", image.name);
    Ok(())
}

fn on_local_server(why: &str) -> Result<(), String> {
    println!("== No container engine ({why})");
    println!("== Running the whole build flow against an in-process `sandbox-template serve` with no engine");
    let data = tempfile::tempdir().map_err(|e| format!("cannot create a data folder: {e}"))?;
    runtime()?.block_on(async {
        let serving = ServeOptions::new(data.path(), "quickstart-key")
            .without_engine()
            .start()
            .await
            .map_err(|e| e.to_string())?;
        let connection = ConnectionOptions::with_api_key("quickstart-key").api_url(serving.server.url());
        let client = Client::with_options(Provider::E2b, connection).map_err(|e| e.to_string())?;
        let options = CloudBuildOptions::default().on_event(print_event);
        let result = client.build(&QUICKSTART, NAME, &options).await;
        serving.server.shutdown().await;
        let info = result.map_err(|e| e.to_string())?;
        let staged = data.path().join("builds").join(&info.build_id).join("Dockerfile");
        let dockerfile =
            std::fs::read_to_string(&staged).map_err(|e| format!("cannot read {}: {e}", staged.display()))?;
        println!("\n# The Dockerfile the server staged\n{dockerfile}");
        println!(
            "Skipped: no image was built and nothing was started (no Docker or Podman). Install one \
             (on Debian: `bash .ci/setup-podman.sh`), or set E2B_API_KEY, and run this again."
        );
        Ok(())
    })
}

fn run() -> Result<(), String> {
    if let Some(provider) = cloud_provider() {
        return on_cloud(provider);
    }
    match Engine::detect(EnginePreference::Auto) {
        Ok(engine) => on_engine(&engine),
        Err(e) => on_local_server(&e.to_string().replace('\n', " ")),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
