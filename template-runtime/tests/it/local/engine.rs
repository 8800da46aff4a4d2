//! Real builds with the local container engine: images built from templates on the busybox base
//! that `.ci/setup-podman.sh` creates, containers started and probed.
//!
//! With no usable engine (or no base image) these tests fail when `CI` is set, naming what is
//! missing; elsewhere they print a loud notice and return.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sandbox_template_runtime::local::{
    Engine, EngineKind, LocalBuildOptions, LocalError, LocalEvent, Sandbox, StartOptions, StepOrigin,
};
use sandbox_template_runtime::{
    CopyOptions, EnvOptions, FileOptions, MakeDirOptions, Provider, RemoveOptions, RunOptions, Secret, Template,
    wait_for_file, wait_for_port, wait_for_process, wait_for_url,
};

use crate::support::engine::{base_image, run_in};

/// The engine, or `None` (with a loud notice) when none can run here and `CI` is unset.
fn engine() -> Option<crate::support::engine::EngineTest> {
    crate::support::engine::engine("local engine tests")
}

/// Removes the test's image when the test ends, whatever happens.
struct ImageGuard<'a>(&'a Engine, String);

impl Drop for ImageGuard<'_> {
    fn drop(&mut self) {
        let _ = self.0.remove_image(&self.1);
    }
}

fn name(test: &str) -> String {
    format!("sandbox-template-test/{test}-{}", std::process::id())
}

fn check(sandbox: &Sandbox, command: &str) -> String {
    let out = sandbox.exec(command).unwrap();
    assert_eq!(out.status, 0, "`{command}` failed: {}{}", out.stdout, out.stderr);
    out.stdout
}

fn container_exists(engine: &Engine, id: &str) -> bool {
    Command::new(engine.program()).args(["container", "inspect", id]).output().is_ok_and(|o| o.status.success())
}

fn write(dir: &Path, path: &str, content: &str) {
    let full = dir.join(path);
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::fs::write(full, content).unwrap();
}

#[test]
fn every_step_kind_builds_and_the_image_has_the_files_owners_modes_and_env() {
    let Some(engine) = engine() else { return };
    let ctx = tempfile::tempdir().unwrap();
    write(ctx.path(), "app/main.sh", "echo \"$GREETING\" > /tmp/greeting\ntouch /tmp/ready\nexec sleep 1000\n");
    write(ctx.path(), "app/data/table.txt", "rows\n");
    write(ctx.path(), "app/debug.log", "ignored by .dockerignore\n");
    write(ctx.path(), "app/cache/blob", "ignored by the template's pattern\n");
    write(ctx.path(), "conf.txt", "key=value\n");
    write(ctx.path(), ".dockerignore", "**/*.log\n");

    let template = Template::new()
        .with_context(ctx.path())
        .with_ignore_patterns("app/cache")
        .from_image(base_image())
        .set_envs_with([("GREETING", "say \"hi\" to $HOME"), ("PLAIN", "it's plain")], EnvOptions::new().literal(true))
        .set_workdir("/srv/app")
        .copy_with("app", "/srv/app/", CopyOptions::new().user("user:user").mode(0o750))
        .copy("conf.txt", "/etc/conf.txt")
        .copy("app/**/*.txt", "/flat/")
        .make_dir_with("/srv/shared", MakeDirOptions::new().mode(0o770))
        .run_cmd_with(["id -un > /home/user/who", "touch /home/user/old"], RunOptions::new().user("user"))
        .rename_with("/home/user/old", "/home/user/new", FileOptions::new().user("user"))
        .make_symlink("/srv/app/main.sh", "/usr/bin/start-app")
        .run_cmd("touch /tmp/junk")
        .remove_with("/tmp/junk", RemoveOptions::new().force(true))
        .set_user("user")
        .run_cmd("id -un > /tmp/build-user")
        .set_start_cmd("sh /usr/bin/start-app", wait_for_file("/tmp/ready"));

    let image_name = name("every-step");
    let _cleanup = ImageGuard(&engine, image_name.clone());
    let mut events = Vec::new();
    let (image, sandbox) = engine
        .build_and_start(&template, &image_name, &LocalBuildOptions::new(), &StartOptions::new(), &mut |e| {
            events.push(e)
        })
        .unwrap_or_else(|e| panic!("{e}"));

    assert!(!image.id.is_empty());
    assert!(matches!(events.first(), Some(LocalEvent::Started { .. })), "{:?}", events.first());
    // Every template step was started by the engine, in order.
    let started: Vec<usize> = events
        .iter()
        .filter_map(|e| match e {
            LocalEvent::StepStarted { origin: StepOrigin::Step(i), .. } => Some(*i),
            _ => None,
        })
        .collect();
    let mut distinct = started.clone();
    distinct.dedup();
    assert_eq!(distinct, (0..template.steps().len()).collect::<Vec<_>>());
    assert!(events.iter().any(|e| matches!(e, LocalEvent::Ready { attempts } if *attempts >= 1)));

    assert_eq!(
        check(&sandbox, "stat -c '%U:%G %a' /srv/app/main.sh /srv/app/data/table.txt"),
        "user:user 750\nuser:user 750\n"
    );
    assert_eq!(check(&sandbox, "stat -c '%U:%G %a' /etc/conf.txt && cat /etc/conf.txt"), "root:root 644\nkey=value\n");
    assert_eq!(check(&sandbox, "ls /srv/app | sort | tr '\\n' ' '"), "data main.sh ");
    assert_eq!(check(&sandbox, "stat -c '%a' /srv/shared"), "770\n");
    // `**` matches as in the SDKs (any depth); the matches land in the folder, as Docker copies.
    assert_eq!(check(&sandbox, "ls /flat"), "table.txt\n");
    assert_eq!(check(&sandbox, "cat /home/user/who; ls /home/user | sort | tr '\\n' ' '"), "user\nnew who ");
    assert_eq!(check(&sandbox, "readlink /usr/bin/start-app"), "/srv/app/main.sh\n");
    assert_eq!(check(&sandbox, "[ ! -e /tmp/junk ] && echo removed"), "removed\n");
    assert_eq!(check(&sandbox, "cat /tmp/build-user; id -un; pwd"), "user\nuser\n/srv/app\n");
    assert_eq!(check(&sandbox, "printf '%s|%s' \"$GREETING\" \"$PLAIN\""), "say \"hi\" to $HOME|it's plain");
    // The start command ran with the image's environment.
    assert_eq!(check(&sandbox, "cat /tmp/greeting"), "say \"hi\" to $HOME\n");

    let id = sandbox.id().to_owned();
    drop(sandbox);
    assert!(!container_exists(&engine, &id), "the container outlived its Sandbox");
}

#[test]
fn port_url_and_process_ready_checks_work_on_busybox() {
    let Some(engine) = engine() else { return };
    let image_name = name("httpd");
    let _cleanup = ImageGuard(&engine, image_name.clone());
    let serve = "httpd -f -p 8080 -h /srv/www";
    let base = Template::new()
        .from_image(base_image())
        .make_dir("/srv/www")
        .run_cmd("echo '<h1>hello</h1>' > /srv/www/index.html");
    let image = engine
        .build(
            &base.clone().set_start_cmd(serve, wait_for_port(8080)),
            &image_name,
            &LocalBuildOptions::new(),
            &mut |_| {},
        )
        .unwrap_or_else(|e| panic!("{e}"));
    for ready in [wait_for_port(8080), wait_for_url("http://127.0.0.1:8080/index.html"), wait_for_process("httpd")] {
        let template = base.clone().set_start_cmd(serve, ready.clone());
        let sandbox = engine
            .start(&template, &image, &StartOptions::new().publish(0, 8080), &mut |_| {})
            .unwrap_or_else(|e| panic!("{ready:?}: {e}"));
        assert_eq!(check(&sandbox, "wget -q -O - http://127.0.0.1:8080/index.html"), "<h1>hello</h1>\n");
        // And from this machine, through the published port.
        let port = sandbox.host_port(8080).unwrap();
        let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        conn.write_all(b"GET /index.html HTTP/1.0\r\n\r\n").unwrap();
        let mut response = String::new();
        std::io::Read::read_to_string(&mut conn, &mut response).unwrap();
        assert!(response.starts_with("HTTP/1.") && response.ends_with("<h1>hello</h1>\n"), "{response}");
    }
}

#[test]
fn a_failing_run_step_names_the_step_and_its_source_line() {
    let Some(engine) = engine() else { return };
    let image_name = name("failing");
    let _cleanup = ImageGuard(&engine, image_name.clone());
    let template = Template::new()
        .from_image(base_image())
        .run_cmd("echo fine")
        .run_cmd_with(["echo about to fail", "exit 3"], RunOptions::new().user("user"));
    let line = line!() - 1;
    let mut logs = Vec::new();
    let err = engine
        .build(&template, &image_name, &LocalBuildOptions::new(), &mut |e| {
            if let LocalEvent::Log(l) = e {
                logs.push(l)
            }
        })
        .unwrap_err();
    let LocalError::StepFailed { step, log_tail, .. } = &err else { panic!("expected a step failure, got {err}") };
    assert_eq!(step.origin, StepOrigin::Step(1));
    let location = step.location.expect("the step's location");
    assert_eq!((location.file, location.line), (file!(), line));
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "build failed at step 2 (`RUN echo about to fail && exit 3`) added at {}:{line}:",
            file!()
        )),
        "{text}"
    );
    assert!(log_tail.iter().any(|l| l == "about to fail"), "{log_tail:?}");
    assert!(logs.iter().any(|l| l == "about to fail"), "the failing step's output was not streamed");
}

#[test]
fn a_ready_check_that_never_passes_times_out_with_the_logs_and_leaves_no_container() {
    let Some(engine) = engine() else { return };
    let image_name = name("never-ready");
    let _cleanup = ImageGuard(&engine, image_name.clone());
    let template = Template::new()
        .from_image(base_image())
        .set_start_cmd("echo warming up; sleep 1000", wait_for_file("/tmp/never"));
    let line = line!() - 1;
    let image = engine.build(&template, &image_name, &LocalBuildOptions::new(), &mut |_| {}).unwrap();
    let mut container = None;
    let options = StartOptions::new().ready_timeout(Duration::from_secs(2));
    let err = engine
        .start(&template, &image, &options, &mut |e| {
            if let LocalEvent::ContainerStarted { id } = e {
                container = Some(id)
            }
        })
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, LocalError::NotReady { .. }), "{text}");
    assert!(text.contains("[ -f /tmp/never ]") && text.contains("warming up"), "{text}");
    assert!(text.contains(&format!("{}:{line}", file!())), "{text}");
    let id = container.expect("a container was started");
    assert!(!container_exists(&engine, &id), "the container was left behind");
}

#[test]
fn a_start_command_that_kills_the_container_is_reported_as_exited() {
    let Some(engine) = engine() else { return };
    let image_name = name("exits");
    let _cleanup = ImageGuard(&engine, image_name.clone());
    // `kill 1` stops the container's main process, as `podman stop` or an OOM kill would.
    let template =
        Template::new().from_image(base_image()).set_start_cmd("echo crashing; kill 1", wait_for_file("/tmp/never"));
    let image = engine.build(&template, &image_name, &LocalBuildOptions::new(), &mut |_| {}).unwrap();
    let err = engine.start(&template, &image, &StartOptions::new(), &mut |_| {}).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, LocalError::Exited { .. }), "{text}");
    assert!(text.contains("crashing"), "{text}");
}

#[test]
fn a_template_based_on_a_locally_built_template_builds_from_its_image() {
    let Some(engine) = engine() else { return };
    let parent_name = name("parent");
    let child_name = name("child");
    let _parent = ImageGuard(&engine, parent_name.clone());
    let _child = ImageGuard(&engine, child_name.clone());
    let parent = Template::new().from_image(base_image()).run_cmd("echo from-parent > /parent");
    engine.build(&parent, &parent_name, &LocalBuildOptions::new(), &mut |_| {}).unwrap();
    let child = Template::new().from_template(&parent_name).run_cmd("cat /parent > /child");
    let image =
        engine.build(&child, &child_name, &LocalBuildOptions::new(), &mut |_| {}).unwrap_or_else(|e| panic!("{e}"));
    let sandbox = engine.start(&child, &image, &StartOptions::new(), &mut |_| {}).unwrap();
    assert_eq!(check(&sandbox, "cat /child"), "from-parent\n");

    assert!(engine.has_image(&parent_name) && !engine.has_image("sandbox-template-test/never-built"));
    let orphan = Template::new().from_template("sandbox-template-test/never-built");
    let line = line!() - 1;
    let err = engine.build(&orphan, &name("orphan"), &LocalBuildOptions::new(), &mut |_| {}).unwrap_err().to_string();
    assert!(err.contains("`sandbox-template-test/never-built` has not been built locally"), "{err}");
    assert!(err.contains(&format!("{}:{line}", file!())), "{err}");
}

#[test]
fn a_registry_password_never_shows_in_errors_or_events() {
    let Some(engine) = engine() else { return };
    const PASSWORD: &str = "pa55-Very-Secret-0451";
    // Nothing listens on port 9: the login fails, and its error must not carry the password.
    let template = Template::new().from_image_with_credentials(
        "127.0.0.1:9/private/base:1",
        Secret::new("robot"),
        Secret::new(PASSWORD),
    );
    let mut events = Vec::new();
    let err =
        engine.build(&template, &name("private"), &LocalBuildOptions::new(), &mut |e| events.push(e)).unwrap_err();
    let shown = format!("{err}\n{err:?}\n{events:?}");
    assert!(matches!(err, LocalError::Login { ref registry, .. } if registry == "127.0.0.1:9"), "{shown}");
    assert!(!shown.contains(PASSWORD), "the password leaked: {shown}");
}

#[test]
fn an_engine_error_before_any_step_is_not_blamed_on_a_step() {
    let Some(engine) = engine() else { return };
    let err = engine.build(
        &Template::new().from_image(base_image()),
        "Not A Valid Name",
        &LocalBuildOptions::new(),
        &mut |_| {},
    );
    let err = err.unwrap_err().to_string();
    assert!(err.contains("`Not A Valid Name` cannot be an image name"), "{err}");
}

#[test]
fn containers_of_a_killed_process_are_removed_as_orphans_and_live_ones_are_kept() {
    let Some(engine) = engine() else { return };
    let image_name = name("orphans");
    let _cleanup = ImageGuard(&engine, image_name.clone());
    let template = Template::new().from_image(base_image()).set_start_cmd("sleep 1000", wait_for_process("sleep"));
    let image = engine.build(&template, &image_name, &LocalBuildOptions::new(), &mut |_| {}).unwrap();
    let ours = engine.start(&template, &image, &StartOptions::new(), &mut |_| {}).unwrap();
    // What a process killed with SIGKILL leaves: a container whose owner no longer runs (PIDs never
    // reach 4294967295).
    let out = Command::new(engine.program())
        .args(["run", "-d", "--label", "io.sandbox-template.owner=4294967295", &image.id, "sleep", "1000"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let orphan = String::from_utf8_lossy(&out.stdout).trim().to_owned();

    let removed = engine.remove_orphans().unwrap();
    assert!(removed.iter().any(|id| id.starts_with(&orphan) || orphan.starts_with(id.as_str())), "{removed:?}");
    assert!(!container_exists(&engine, &orphan));
    assert!(container_exists(&engine, ours.id()), "a container of this (live) process was removed");
}

/// A registry that knows one user and no images: `GET /v2/` answers 200 with the right Basic
/// credentials and 401 otherwise; everything else is 404 `MANIFEST_UNKNOWN`. Records the
/// `Authorization` headers it receives.
struct FakeRegistry {
    port: u16,
    seen: Arc<Mutex<Vec<Request>>>,
}

/// A request's path and `Authorization` header.
type Request = (String, Option<String>);

impl FakeRegistry {
    fn start(expected_authorization: String) -> FakeRegistry {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                let _ = reader.read_line(&mut request);
                let path = request.split_whitespace().nth(1).unwrap_or("").to_owned();
                let mut auth = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':')
                        && name.eq_ignore_ascii_case("authorization")
                    {
                        auth = Some(value.trim().to_owned());
                    }
                }
                let authorized = auth.as_deref() == Some(expected_authorization.as_str());
                log.lock().unwrap().push((path.clone(), auth));
                let (status, body, extra) = match (authorized, path == "/v2/") {
                    (false, _) => ("401 Unauthorized", "{}", "WWW-Authenticate: Basic realm=\"test\"\r\n"),
                    (true, true) => ("200 OK", "{}", ""),
                    (true, false) => (
                        "404 Not Found",
                        r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#,
                        "",
                    ),
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nDocker-Distribution-API-Version: registry/2.0\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        FakeRegistry { port, seen }
    }
}

fn basic(user: &str, password: &str) -> String {
    // Standard base64, enough for these ASCII test values.
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let data = format!("{user}:{password}").into_bytes();
    let mut out = String::from("Basic ");
    for chunk in data.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            out.push(if i <= chunk.len() { A[(n >> (18 - 6 * i)) as usize & 63] as char } else { '=' });
        }
    }
    out
}

#[test]
fn registry_credentials_reach_the_registry_through_the_engine_login_and_nowhere_else() {
    let Some(engine) = engine() else { return };
    if engine.kind() != EngineKind::Podman {
        // The fake registry speaks plain HTTP; only Podman can be told so per call.
        eprintln!("registry login test needs Podman (`--tls-verify=false`); skipped for {:?}", engine.kind());
        return;
    }
    const PASSWORD: &str = "pa55-Right-Secret-0451";
    let registry = FakeRegistry::start(basic("robot", PASSWORD));
    let image = format!("127.0.0.1:{}/private/base:1", registry.port);
    let options = LocalBuildOptions::new().insecure_registry(true);

    // Right password: the login passes, then the pull fails (the registry has no images), at the base.
    let template = Template::new().from_image_with_credentials(&image, Secret::new("robot"), Secret::new(PASSWORD));
    let line = line!() - 1;
    let mut events = Vec::new();
    let err = engine.build(&template, &name("private-ok"), &options, &mut |e| events.push(e)).unwrap_err();
    let shown = format!("{err}\n{err:?}\n{events:?}");
    let LocalError::StepFailed { step, .. } = &err else { panic!("expected the pull to fail at the base: {shown}") };
    assert_eq!(step.origin, StepOrigin::Base);
    assert!(shown.contains(&format!("{}:{line}", file!())), "{shown}");
    let seen = registry.seen.lock().unwrap().clone();
    assert!(
        seen.iter().any(|(path, auth)| path == "/v2/" && auth.as_deref() == Some(basic("robot", PASSWORD).as_str())),
        "the registry never got the credentials: {seen:?}"
    );
    assert!(seen.iter().any(|(path, _)| path.contains("/manifests/")), "no pull after the login: {seen:?}");
    assert!(!shown.contains(PASSWORD), "the password leaked: {shown}");

    // Wrong password: a login error naming the registry, without the password.
    const WRONG: &str = "wrong-Secret-7788";
    let template = Template::new().from_image_with_credentials(&image, Secret::new("robot"), Secret::new(WRONG));
    let err = engine.build(&template, &name("private-bad"), &options, &mut |_| {}).unwrap_err();
    let shown = format!("{err}\n{err:?}");
    let expected_registry = format!("127.0.0.1:{}", registry.port);
    assert!(matches!(&err, LocalError::Login { registry, .. } if *registry == expected_registry), "{shown}");
    assert!(!shown.contains(WRONG), "the password leaked: {shown}");
}

#[test]
fn the_layer_cache_is_used_unless_the_template_skips_it() {
    let Some(engine) = engine() else { return };
    let image_name = name("cache");
    let _cleanup = ImageGuard(&engine, image_name.clone());
    let template = Template::new().from_image(base_image()).run_cmd(format!("echo {} > /stamp", image_name));
    let cached_steps = |t: &Template| {
        let mut logs = Vec::new();
        engine
            .build(t, &image_name, &LocalBuildOptions::new(), &mut |e| {
                if let LocalEvent::Log(l) = e {
                    logs.push(l)
                }
            })
            .unwrap_or_else(|e| panic!("{e}"));
        // Podman: `--> Using cache <id>`; Docker: ` ---> Using cache`.
        logs.iter().filter(|l| l.contains("Using cache")).count()
    };
    cached_steps(&template);
    assert_eq!(cached_steps(&template), 1, "a second build reuses the RUN layer");
    assert_eq!(cached_steps(&template.clone().force_rebuild()), 0, "force_rebuild rebuilds every step");
    let skipping =
        Template::new().from_image(base_image()).skip_cache().run_cmd(format!("echo {} > /stamp", image_name));
    assert_eq!(cached_steps(&skipping), 0, "skip_cache rebuilds the steps after it");
}

/// PIDs of processes whose command line is exactly `args` (seen from the host, containers included).
fn processes(args: &[&str]) -> Vec<String> {
    let wanted: Vec<u8> = args.iter().flat_map(|a| a.bytes().chain([0])).collect();
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(Result::ok)
        .filter(|e| std::fs::read(e.path().join("cmdline")).is_ok_and(|c| c == wanted))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn an_abandoned_build_stops_the_engine_and_its_step() {
    let Some(engine) = engine() else { return };
    if engine.kind() != EngineKind::Podman {
        // Docker's daemon cancels a build when its CLI goes away; Podman's Docker-compatible
        // service (which stands in for Docker on CI machines) does not, so this is Podman's check.
        eprintln!("abandoned-build test skipped for {:?}: the daemon owns the build", engine.kind());
        return;
    }
    // A duration no other test uses, so the step's process can be found on the host.
    let seconds = format!("{}", 900 + std::process::id() % 97);
    // A base of its own, so the build container Podman leaves behind has a name only this test uses.
    let base_name = name("abandoned-base");
    let _base = ImageGuard(&engine, base_name.clone());
    engine
        .build(
            &Template::new().from_image(base_image()).run_cmd("true"),
            &base_name,
            &LocalBuildOptions::new(),
            &mut |_| {},
        )
        .unwrap();
    let template = Template::new().from_image(&base_name).run_cmd(format!("echo started; sleep {seconds}"));
    let image_name = name("abandoned");
    let _cleanup = ImageGuard(&engine, image_name.clone());
    let mut saw_step = false;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        engine.build(&template, &image_name, &LocalBuildOptions::new().no_cache(true), &mut |e| {
            if e == LocalEvent::Log("started".into()) {
                // `echo` printed; `sleep` starts right after.
                for _ in 0..100 {
                    saw_step = !processes(&["sleep", &seconds]).is_empty();
                    if saw_step {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                panic!("the caller gives up");
            }
        })
    }));
    assert!(outcome.is_err(), "the build should have been abandoned");
    assert!(saw_step, "the step's process was not seen running");
    // The engine's CLI and everything under it (the step runs as PID 1 of its container) were
    // killed when the build was abandoned.
    let mut left = processes(&["sleep", &seconds]);
    for _ in 0..100 {
        if left.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        left = processes(&["sleep", &seconds]);
    }
    assert!(left.is_empty(), "the build step still runs: pids {left:?}");
    assert!(!engine.has_image(&image_name));
    // What is left is Podman's stopped build container (storage only): remove it.
    let working = format!("{}-working-container", base_name.rsplit('/').next().unwrap_or_default());
    let listed = Command::new(engine.program())
        .args(["ps", "-a", "--external", "--format", "{{.ID}} {{.Names}}"])
        .output()
        .unwrap();
    for line in String::from_utf8_lossy(&listed.stdout).lines() {
        if let Some((id, names)) = line.split_once(' ')
            && names.starts_with(&working)
        {
            let _ = Command::new(engine.program()).args(["rm", "-f", id]).output();
        }
    }
}

#[test]
fn a_base_image_that_cannot_be_had_fails_at_the_base_with_its_source_line() {
    let Some(engine) = engine() else { return };
    let template = Template::new().from_image("sandbox-template-test/absent-base:1").run_cmd("true");
    let line = line!() - 1;
    let err = engine.build(&template, &name("absent"), &LocalBuildOptions::new(), &mut |_| {}).unwrap_err();
    let text = err.to_string();
    let LocalError::StepFailed { step, .. } = &err else { panic!("expected a failure at the base: {text}") };
    assert_eq!(step.origin, StepOrigin::Base);
    assert!(
        text.starts_with(&format!(
            "build failed at the base (`FROM sandbox-template-test/absent-base:1`) added at {}:{line}:",
            file!()
        )),
        "{text}"
    );
    assert!(text.contains("not present locally and cannot be pulled"), "{text}");
    if engine.kind() == EngineKind::Podman {
        // Read as a Docker Hub name, as Docker does, not refused as an unqualified short name.
        assert!(text.contains("docker.io/sandbox-template-test/absent-base:1"), "{text}");
    }
}

/// What a later `RUN` sees of env values with `$`, quotes, backslashes and backticks: E2B's
/// semantics keep the text (values marked literal: E2B refuses `$VAR` otherwise), Novita's expand
/// `$VAR` and `${VAR}` against the image's variables and earlier values, as its env script does.
#[test]
fn a_later_run_sees_env_values_with_each_providers_semantics() {
    let Some(engine) = engine() else { return };
    let image_path = run_in(&engine, &base_image(), "printf '%s' \"$PATH\"");
    // Novita's expansion sees the variables the image declares (`PATH`) and earlier values
    // (`VIRTUAL_ENV`); one the image does not declare, such as `HOME` (set by the container
    // runtime), is empty locally: see the `local` module's docs.
    let quoted = r#"say "hi" 'x' \z `w` $(date) ${VIRTUAL_ENV}"#;
    let envs = |t: Template, options: EnvOptions| {
        t.from_image(base_image())
            .set_envs_with([("VIRTUAL_ENV", "/opt/venv"), ("PATH", "/opt/venv/bin:$PATH")], options.clone())
            .set_envs_with([("PYTHONPATH", "${VIRTUAL_ENV}/lib"), ("QUOTED", quoted)], options)
            .run_cmd("printf '%s|' \"$PATH\" \"$PYTHONPATH\" \"$QUOTED\" > /tmp/seen")
    };
    let cases = [
        (
            "e2b",
            envs(Template::new(), EnvOptions::new().literal(true)),
            format!("/opt/venv/bin:$PATH|${{VIRTUAL_ENV}}/lib|{quoted}|"),
        ),
        (
            "novita",
            envs(Template::new().for_provider(Provider::Novita), EnvOptions::new()),
            format!(r#"/opt/venv/bin:{image_path}|/opt/venv/lib|say "hi" 'x' \z `w` $(date) /opt/venv|"#),
        ),
    ];
    for (provider, template, expected) in cases {
        let image_name = name(&format!("env-{provider}"));
        let _cleanup = ImageGuard(&engine, image_name.clone());
        engine
            .build(&template, &image_name, &LocalBuildOptions::new(), &mut |_| {})
            .unwrap_or_else(|e| panic!("{provider}: {e}"));
        // `cat` by its path: E2B's literal PATH (the trap the check catches) finds no command.
        let seen = Command::new(engine.program())
            .args(["run", "--rm", "--entrypoint", "/bin/cat", &image_name, "/tmp/seen"])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&seen.stdout), expected, "{provider}");
    }
}

/// The local engine's Novita semantics agree with Novita's own env script: the script, run in
/// the image the engine built, exports the very values the image's `ENV` holds.
#[test]
fn novita_env_values_built_locally_equal_what_the_env_script_exports() {
    let Some(engine) = engine() else { return };
    let template = Template::new()
        .for_provider(Provider::Novita)
        .from_image(base_image())
        .set_envs([("A", "/a:$PATH"), ("B", "${A}/b \"q\" 'x' \\ `t` $(x)")])
        .set_envs([("C", "$B:${SHELL_NAME:-sh}")]);
    let image_name = name("env-novita-script");
    let _cleanup = ImageGuard(&engine, image_name.clone());
    engine.build(&template, &image_name, &LocalBuildOptions::new(), &mut |_| {}).unwrap_or_else(|e| panic!("{e}"));
    let request = template.build_request(Provider::Novita, false).unwrap();
    let script_step = request.steps.last().unwrap().args[0].clone();
    // The script's `export`s, run against the base image's environment, then printed.
    let script = script_step.replace(" && rm -f /tmp/.novita-image-env.sh", "");
    let print = "printf '%s|' \"$A\" \"$B\" \"$C\"";
    let from_script = run_in(
        &engine,
        &base_image(),
        &format!("mkdir -p /etc/profile.d && {script} && . /etc/profile.d/99-image-env.sh && {print}"),
    );
    let from_env = run_in(&engine, &image_name, print);
    assert_eq!(from_env, from_script);
    assert!(from_env.starts_with("/a:/"), "{from_env}");
}
