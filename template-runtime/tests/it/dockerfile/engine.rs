//! Dockerfile import against the engine itself: one Dockerfile built (a) by `podman build` /
//! `docker build` directly and (b) through `Template::from_dockerfile` and the local engine.
//! The two images must hold the same files (paths, modes, owners, contents) and environment.
//!
//! Needs Podman or Docker and the busybox base image of `.ci/setup-podman.sh`: without them the
//! test fails when `CI` is set and prints a loud notice elsewhere.

use std::path::Path;
use std::process::Command;

use sandbox_template_runtime::Template;
use sandbox_template_runtime::local::{Engine, LocalBuildOptions};

use crate::support::engine::{Images, base_image};

fn engine_cmd(engine: &Engine, args: &[&str]) -> String {
    let out = Command::new(engine.program()).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "`{} {}` failed: {}",
        engine.program().display(),
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every path the Dockerfile touches, with mode, owner and contents; then user, workdir and env.
const SURVEY: &str = r#"for p in $(find /app /data /home/user /usr/local/bin/run.sh | sort); do
  if [ -f "$p" ]; then echo "$p $(stat -c '%a %U:%G' "$p") $(md5sum < "$p")"; else echo "$p $(stat -c '%F %a %U:%G' "$p")"; fi
done
echo "user=$(id -un) pwd=$(pwd)"
env | grep -v -e '^HOSTNAME=' -e '^HOME=' -e '^SHLVL=' -e '^PWD=' -e '^_=' | sort"#;

fn context(dir: &Path, base: &str) {
    std::fs::create_dir_all(dir.join("app/static")).unwrap();
    std::fs::write(dir.join("app/hello.txt"), "hello\n").unwrap();
    std::fs::write(dir.join("app/static/index.html"), "<h1>hi</h1>\n").unwrap();
    std::fs::write(dir.join("run.sh"), "#!/bin/sh\necho running\n").unwrap();
    std::fs::write(
        dir.join("Dockerfile"),
        format!(
            r#"FROM {base}
ARG GREETING=hello
ARG TARGET=/app
ENV APP_ENV=prod GREETING_COPY="${{GREETING}} world"
WORKDIR ${{TARGET}}
COPY app/ ./
COPY --chown=user:user app/hello.txt /home/user/hello.txt
COPY run.sh /usr/local/bin/run.sh
RUN chmod 0755 /usr/local/bin/run.sh && echo "$GREETING from $APP_ENV" > greeting.txt && mkdir -p /data && chown user:user /data
USER user
RUN echo "made by $(id -un) in $(pwd)" > /data/who.txt
WORKDIR /data
"#
        ),
    )
    .unwrap();
}

#[test]
fn a_dockerfile_imported_as_a_template_builds_the_same_image_as_the_engine() {
    let Some(engine) = crate::support::engine::engine("Dockerfile engine test") else { return };
    let pid = std::process::id();
    let (direct, imported) =
        (format!("sandbox-template-test/df-direct-{pid}"), format!("sandbox-template-test/df-imported-{pid}"));
    let _images = Images(engine.clone(), vec![direct.clone(), imported.clone()]);
    let ctx = tempfile::tempdir().unwrap();
    context(ctx.path(), &base_image());

    let dockerfile = ctx.path().join("Dockerfile");
    engine_cmd(
        &engine,
        &["build", "-q", "-t", &direct, "-f", dockerfile.to_str().unwrap(), ctx.path().to_str().unwrap()],
    );
    let template = Template::new().with_context(ctx.path()).from_dockerfile("Dockerfile").unwrap();
    engine.build(&template, &imported, &LocalBuildOptions::new(), &mut |_| {}).unwrap();

    let survey = |image: &str| engine_cmd(&engine, &["run", "--rm", "--user", "0", image, "sh", "-c", SURVEY]);
    let (a, b) = (survey(&direct), survey(&imported));
    assert!(a.contains("/app/greeting.txt 644 root:root"), "{a}");
    assert!(a.contains("GREETING_COPY=hello world"), "{a}");
    assert!(!a.contains("TARGET="), "ARG values are not environment variables: {a}");
    assert_eq!(a, b, "the imported template's image differs from the engine's own build");

    // The default user and working directory as the image runs them.
    let who = |image: &str| engine_cmd(&engine, &["run", "--rm", image, "sh", "-c", "id -un; pwd; cat /data/who.txt"]);
    assert_eq!(who(&direct), "user\n/data\nmade by user in /app\n");
    assert_eq!(who(&imported), who(&direct));
}
