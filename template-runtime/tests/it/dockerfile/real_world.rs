//! Ten real-world Dockerfiles (`tests/fixtures/dockerfiles/`) convert correctly.
//!
//! Each test asserts what matters about its file, then snapshots the whole conversion
//! (`snapshots/` beside this file, reviewed by hand) so that any change in the output is seen in review.

use std::fmt::Write as _;
use std::path::Path;

use sandbox_template_runtime::dockerfile::{Converted, DockerfileOptions, convert};
use sandbox_template_runtime::{Provider, Rule, Step, StepKind, Template};

fn dockerfile(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dockerfiles").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn conv(name: &str) -> Converted {
    convert(&dockerfile(name), &DockerfileOptions::new()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The conversion as a reviewer reads it: the base, each step as sent (with its Dockerfile
/// line), the start and ready command, and the warnings.
fn render(c: &Converted) -> String {
    let mut out = format!("FROM {}\n", c.base_image);
    for s in &c.steps {
        let i =
            Step { kind: s.kind.clone(), force: false, location: sandbox_template_runtime::SourceLocation::caller() }
                .to_wire();
        let args = serde_json::to_string(&i.args).unwrap();
        writeln!(out, "{:>3} {} {args}", s.line, i.kind).unwrap();
    }
    writeln!(out, "start: {:?}", c.start_cmd).unwrap();
    writeln!(out, "ready: {:?}", c.ready_cmd.as_ref().map(|r| r.command(Provider::E2b))).unwrap();
    for w in &c.warnings {
        writeln!(out, "{w}").unwrap();
    }
    out
}

fn runs(c: &Converted) -> Vec<String> {
    c.steps
        .iter()
        .filter_map(|s| match &s.kind {
            StepKind::Run { commands, .. } => Some(commands.join(" && ")),
            _ => None,
        })
        .collect()
}

fn has(c: &Converted, kind: &StepKind) -> bool {
    c.steps.iter().any(|s| &s.kind == kind)
}

fn copies(c: &Converted) -> Vec<(String, String, Option<String>, Option<u32>)> {
    c.steps
        .iter()
        .filter_map(|s| match &s.kind {
            StepKind::Copy(cp) => Some((cp.src.clone(), cp.dest.clone(), cp.user.clone(), cp.mode)),
            _ => None,
        })
        .collect()
}

fn no_env_named(c: &Converted, name: &str) -> bool {
    !c.steps.iter().any(|s| matches!(&s.kind, StepKind::Env { vars: p, .. } if p.iter().any(|(k, _)| k == name)))
}

#[test]
fn python_fastapi() {
    let c = conv("python-fastapi.Dockerfile");
    assert_eq!(c.base_image, "python:3.12-slim");
    // The comment line inside the continued RUN is dropped, the indentation kept.
    assert!(runs(&c)[0].starts_with("apt-get update     && apt-get install"));
    assert!(!runs(&c)[0].contains("psycopg"));
    assert!(has(&c, &StepKind::User("app".into())));
    assert_eq!(copies(&c)[1], ("src/".into(), "./src/".into(), Some("app:app".into()), None));
    assert_eq!(c.start_cmd.as_deref(), Some("uvicorn src.main:app --host 0.0.0.0 --port 8000"));
    assert!(c.warnings[0].message.starts_with("HEALTHCHECK"));
    insta::assert_snapshot!(render(&c));
}

#[test]
fn node_express() {
    let c = conv("node-express.Dockerfile");
    assert_eq!(copies(&c)[0].0, "package.json");
    assert_eq!(copies(&c)[1].0, "package-lock.json");
    assert_eq!(runs(&c)[0], "npm ci --omit=dev");
    assert_eq!(c.start_cmd.as_deref(), Some("docker-entrypoint.sh node server.js"));
    assert!(c.warnings[0].message.contains("--mount=type=cache is ignored"));
    insta::assert_snapshot!(render(&c));
}

#[test]
fn rust_cli() {
    let c = conv("rust-cli.Dockerfile");
    assert!(has(
        &c,
        &StepKind::Env {
            vars: vec![
                ("CARGO_HOME".into(), "/usr/local/cargo".into()),
                ("PATH".into(), "/usr/local/cargo/bin:$PATH".into()),
            ],
            literal: false,
        }
    ));
    assert_eq!(
        runs(&c)[1],
        "export CRATE=ripgrep CRATE_VERSION=14.1.1; cargo install --locked \"${CRATE}@${CRATE_VERSION}\""
    );
    assert!(no_env_named(&c, "CRATE"));
    assert_eq!(c.start_cmd.as_deref(), Some("/usr/local/bin/app --help"));
    assert!(c.warnings.is_empty());
    insta::assert_snapshot!(render(&c));
}

#[test]
fn arg_parameterised_from() {
    let c = conv("arg-from.Dockerfile");
    assert_eq!(c.base_image, "python:3.11-slim-bookworm");
    let other =
        convert(&dockerfile("arg-from.Dockerfile"), &DockerfileOptions::new().build_arg("PYTHON_VERSION", "3.13"))
            .unwrap();
    assert_eq!(other.base_image, "python:3.13-slim-bookworm");
    assert!(runs(&other)[0].starts_with("export PYTHON_VERSION=3.13 POETRY_VERSION=1.8.3; pip install"));
    assert!(has(&c, &StepKind::Workdir("/opt/app-1.8.3".into())));
    assert!(no_env_named(&c, "POETRY_VERSION"));
    assert_eq!(c.start_cmd.as_deref(), Some("python -m app"));
    insta::assert_snapshot!(render(&c));
}

#[test]
fn heredocs() {
    let c = conv("heredocs.Dockerfile");
    let runs = runs(&c);
    assert_eq!(runs[0], "export SERVER_NAME=sandbox.local; set -eux\napk add --no-cache curl\nmkdir -p /srv/www\n");
    // COPY <<EOF: the ARG is substituted (the build's shell does not know it).
    assert!(runs[1].contains("server_name sandbox.local;"), "{}", runs[1]);
    assert!(runs[1].starts_with("E2B_HEREDOC_DEST=/etc/nginx/conf.d/default.conf\n"));
    // Quoted delimiter: written as is, with the mode.
    assert!(runs[2].contains("<<'E2B_HEREDOC_HTML'") && runs[2].contains("chmod 0644"));
    assert!(runs[2].contains("\n<h1>Served by $hostname</h1>\n"));
    // `<<-EOT sh`: the shell reads the heredoc and strips the tabs itself.
    assert!(runs[3].ends_with("<<-EOT sh\n\techo \"tab-indented script\"\n\tnginx -t\nEOT"), "{}", runs[3]);
    assert!(runs[4].ends_with("python3 - <<'PY' || true\nprint(\"heredoc read by a command\")\nPY"));
    assert_eq!(c.start_cmd.as_deref(), Some("nginx -g 'daemon off;'"));
    insta::assert_snapshot!(render(&c));
}

#[test]
fn ubuntu_devtools() {
    let c = conv("ubuntu-devtools.Dockerfile");
    let runs = runs(&c);
    // ARG DEBIAN_FRONTEND reaches apt-get through the environment, as under Docker, and the
    // SHELL instruction's pipefail applies.
    assert!(
        runs[0].starts_with(
            "export DEBIAN_FRONTEND=noninteractive NODE_MAJOR=22; /bin/bash -o pipefail -c 'apt-get update"
        ),
        "{}",
        runs[0]
    );
    assert!(runs[0].contains("setup_${NODE_MAJOR}.x | bash -"));
    assert!(!runs[0].contains("editors"));
    assert!(no_env_named(&c, "DEBIAN_FRONTEND"));
    assert!(has(&c, &StepKind::Workdir("/home/dev/workspace".into())));
    assert_eq!(c.start_cmd.as_deref(), Some("bash"));
    assert!(c.warnings[0].message.starts_with("STOPSIGNAL"));
    insta::assert_snapshot!(render(&c));
}

#[test]
fn go_service() {
    let c = conv("go-service.Dockerfile");
    assert_eq!(c.base_image, "golang:1.23-bookworm");
    assert!(
        runs(&c)[1].starts_with("export TARGETOS=linux TARGETARCH=amd64; GOOS=$TARGETOS GOARCH=$TARGETARCH go build")
    );
    assert_eq!(c.start_cmd.as_deref(), Some("/usr/local/bin/service --listen :8080"));
    assert!(c.warnings[0].message.contains("FROM --platform is ignored"));
    insta::assert_snapshot!(render(&c));
}

#[test]
fn jupyter_datascience() {
    let c = conv("jupyter-datascience.Dockerfile");
    // NB_UID comes from the base image: left for the build service, with a warning.
    assert!(has(&c, &StepKind::User("${NB_UID}".into())));
    assert_eq!(copies(&c)[0].2.as_deref(), Some("${NB_UID}:${NB_GID}"));
    assert!(c.warnings.iter().any(|w| w.message.starts_with("`NB_UID` is not an ARG or ENV")));
    assert!(runs(&c)[1].contains("'polars==1.1.0'"));
    assert_eq!(c.start_cmd.as_deref(), Some("jupyter lab --ip=0.0.0.0 --no-browser --NotebookApp.token=''"));
    insta::assert_snapshot!(render(&c));
}

#[test]
fn legacy_php() {
    let c = conv("legacy-php.Dockerfile");
    assert!(has(
        &c,
        &StepKind::Env { vars: vec![("APACHE_DOCUMENT_ROOT".into(), "/var/www/html/public".into())], literal: false }
    ));
    assert!(runs(&c)[0].contains("s!/var/www/html!${APACHE_DOCUMENT_ROOT}!g"));
    assert_eq!(copies(&c).len(), 3);
    assert_eq!(copies(&c)[2].0, ".");
    assert_eq!(c.start_cmd.as_deref(), Some("apache2-foreground"));
    assert!(c.warnings.is_empty());
    insta::assert_snapshot!(render(&c));
}

#[test]
fn ruby_rails() {
    let c = conv("ruby-rails.Dockerfile");
    assert_eq!(c.base_image, "docker.io/library/ruby:3.3.4-slim");
    assert!(has(
        &c,
        &StepKind::Env {
            vars: vec![
                ("RAILS_ENV".into(), "production".into()),
                ("BUNDLE_DEPLOYMENT".into(), "1".into()),
                ("BUNDLE_PATH".into(), "/usr/local/bundle".into()),
                ("BUNDLE_WITHOUT".into(), "development test".into()),
            ],
            literal: false,
        }
    ));
    // RAILS_ENV is also an ENV, so RUN sees it from there and it is not exported again.
    assert!(runs(&c)[0].starts_with("apt-get update -qq"));
    assert!(copies(&c).contains(&("bin/docker-entrypoint".into(), "/rails/bin/".into(), None, Some(0o755))));
    assert!(has(&c, &StepKind::User("1000:1000".into())));
    assert_eq!(c.start_cmd.as_deref(), Some("/rails/bin/docker-entrypoint ./bin/rails server"));
    insta::assert_snapshot!(render(&c));
}

#[test]
fn every_file_builds_a_valid_template() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dockerfiles");
    let (mut count, mut refused, mut not_debian) = (0, 0, 0);
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let t = Template::new().from_dockerfile(&text).unwrap();
        // Novita builds on Debian-family images only, so it refuses a base known to be Alpine
        // (`node:20-alpine`) and nothing else.
        if let Err(errors) = t.validate_for(Provider::Novita) {
            assert!(errors.iter().all(|e| matches!(e.rule, Rule::NotOnProvider { .. })), "{errors}");
            not_debian += 1;
        }
        // Novita expands `$PATH` in `ENV PATH=/x:$PATH`; E2B would set the text, so it refuses
        // exactly those values.
        if let Err(errors) = t.validate_for(Provider::E2b) {
            assert!(errors.iter().all(|e| matches!(e.rule, Rule::EnvReference { .. })), "{errors}");
            refused += 1;
        }
        count += 1;
    }
    assert_eq!(
        (count, refused, not_debian),
        (10, 1, 1),
        "only rust-cli.Dockerfile extends PATH with `$PATH`; only node-express.Dockerfile is on Alpine"
    );
}
