//! Dockerfile import: each reading and mapping rule, as a user would notice it in the template.

use sandbox_template_runtime::dockerfile::{Converted, DockerfileOptions, convert};
use sandbox_template_runtime::{CopyStep, Provider, StepKind, Template};

fn conv(text: &str) -> Converted {
    convert(text, &DockerfileOptions::new()).unwrap_or_else(|e| panic!("{e}"))
}

/// The steps that come from instructions (the added `USER`/`WORKDIR` defaults have line 0).
fn body(c: &Converted) -> Vec<StepKind> {
    assert_eq!(c.steps[0].kind, StepKind::User("root".into()));
    assert_eq!(c.steps[1].kind, StepKind::Workdir("/".into()));
    c.steps.iter().filter(|s| s.line > 0).map(|s| s.kind.clone()).collect()
}

fn run(cmd: &str) -> StepKind {
    StepKind::Run { commands: vec![cmd.to_owned()], user: None }
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

fn env(pairs: &[(&str, &str)]) -> StepKind {
    StepKind::Env { vars: pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(), literal: false }
}

fn copy(src: &str, dest: &str, user: Option<&str>, mode: Option<u32>) -> StepKind {
    StepKind::Copy(CopyStep {
        src: src.into(),
        dest: dest.into(),
        user: user.map(Into::into),
        mode,
        force_upload: None,
        resolve_symlinks: None,
        gzip: None,
    })
}

fn warnings(c: &Converted) -> Vec<String> {
    c.warnings.iter().map(|w| format!("{}:{} {}", w.line, w.column, w.message)).collect()
}

// ----- reading ---------------------------------------------------------------------------------

#[test]
fn continuation_lines_join_and_skip_comments_and_blank_lines() {
    let c = conv("FROM alpine\nRUN apk add \\\n    # the tools\n\n    curl \\\n    git\n");
    assert_eq!(runs(&c), ["apk add     curl     git"]);
    assert_eq!(c.steps[2].line, 2);
}

#[test]
fn escape_directive_makes_backtick_the_escape_character() {
    let c = conv("# escape=`\nFROM mcr.microsoft.com/windows/servercore\nENV DIR=C:\\tools\nRUN dir `\n  C:\\\n");
    assert_eq!(body(&c)[0], env(&[("DIR", "C:\\tools")]));
    assert_eq!(runs(&c), ["dir   C:\\"]);
}

#[test]
fn directives_only_count_at_the_top() {
    // `# syntax=` is accepted and ignored; after an instruction, `# escape=` is a comment.
    let c = conv("# syntax=docker/dockerfile:1\nFROM alpine\n# escape=`\nRUN a \\\n b\n");
    assert_eq!(runs(&c), ["a  b"]);
}

#[test]
fn crlf_and_byte_order_mark_are_read_like_docker() {
    let c = conv("\u{feff}FROM alpine\r\nRUN echo a \\\r\n  b\r\n");
    assert_eq!(c.base_image, "alpine");
    assert_eq!(runs(&c), ["echo a   b"]);
}

#[test]
fn keywords_are_case_insensitive() {
    let c = conv("from alpine as base\nrun echo hi\nWorkDir /app\n");
    assert_eq!(body(&c), [run("echo hi"), StepKind::Workdir("/app".into())]);
}

// ----- heredocs --------------------------------------------------------------------------------

#[test]
fn run_heredoc_alone_is_the_script() {
    let c = conv("FROM alpine\nRUN <<EOF\nset -e\napk add curl\nEOF\nUSER app\n");
    assert_eq!(runs(&c), ["set -e\napk add curl\n"]);
    assert_eq!(body(&c)[1], StepKind::User("app".into()));
}

#[test]
fn chomped_heredoc_drops_leading_tabs() {
    let c = conv("FROM alpine\nRUN <<-EOT\n\techo a\n\t\techo b\n\tEOT\n");
    assert_eq!(runs(&c), ["echo a\necho b\n"]);
}

#[test]
fn heredoc_read_by_a_command_is_left_to_the_shell() {
    let c = conv("FROM python:3.12\nRUN python3 <<'PY' > /out.txt\nprint('$HOME')\nPY\n");
    assert_eq!(runs(&c), ["python3 <<'PY' > /out.txt\nprint('$HOME')\nPY"]);
}

#[test]
fn heredoc_with_a_shebang_runs_as_a_script_file() {
    let c = conv("FROM python:3.12\nRUN <<EOF\n#!/usr/bin/env python3\nprint('hi')\nEOF\n");
    let script = &runs(&c)[0];
    assert!(script.starts_with("E2B_HEREDOC_FILE=$(mktemp) && cat >\"$E2B_HEREDOC_FILE\" <<'E2B_HEREDOC_SCRIPT'"));
    assert!(script.contains("chmod +x \"$E2B_HEREDOC_FILE\" && \"$E2B_HEREDOC_FILE\""));
    assert!(script.ends_with("\n#!/usr/bin/env python3\nprint('hi')\nE2B_HEREDOC_SCRIPT"));
}

#[test]
fn copy_heredoc_writes_the_file_as_root() {
    let c = conv("FROM alpine\nCOPY <<CONF /etc/app.conf\nkey=$HOME\nCONF\n");
    let StepKind::Run { commands, user } = &body(&c)[0] else { panic!() };
    assert_eq!(user.as_deref(), Some("root"));
    assert_eq!(
        commands[0],
        "E2B_HEREDOC_DEST=/etc/app.conf\nif [ -d \"$E2B_HEREDOC_DEST\" ]; then E2B_HEREDOC_DEST=\"$E2B_HEREDOC_DEST\"/CONF; fi\nmkdir -p \"$(dirname \"$E2B_HEREDOC_DEST\")\" && cat <<E2B_HEREDOC_CONF >\"$E2B_HEREDOC_DEST\"\nkey=$HOME\nE2B_HEREDOC_CONF"
    );
}

#[test]
fn copy_heredoc_substitutes_args_but_not_commands_and_honours_quotes() {
    let c = conv(
        "FROM alpine\nARG NAME=\"o'brien\"\nCOPY --chown=app --chmod=600 <<EOF <<'RAW' /etc/\nhi $NAME ${NAME} $HOME `id` $(id)\nEOF\n$NAME\nRAW\n",
    );
    let scripts = runs(&c);
    assert_eq!(scripts.len(), 2);
    // Destination folder + heredoc name; chown/chmod applied after writing.
    assert!(scripts[0].starts_with("E2B_HEREDOC_DEST=/etc/EOF\n"), "{}", scripts[0]);
    assert!(
        scripts[0].contains(
            ">\"$E2B_HEREDOC_DEST\" && chown app \"$E2B_HEREDOC_DEST\" && chmod 0600 \"$E2B_HEREDOC_DEST\"\n"
        )
    );
    // ARG substituted (the shell would not know it), $HOME left to the shell, no command
    // substitution (Docker does none).
    assert!(scripts[0].contains("\nhi o'brien o'brien $HOME \\`id\\` \\$(id)\nE2B_HEREDOC_EOF"), "{}", scripts[0]);
    // A quoted delimiter: nothing is substituted.
    assert!(scripts[1].contains("cat <<'E2B_HEREDOC_RAW' >\"$E2B_HEREDOC_DEST\""));
    assert!(scripts[1].ends_with("\n$NAME\nE2B_HEREDOC_RAW"));
}

#[test]
fn heredoc_delimiter_never_collides_with_the_body() {
    let c = conv("FROM alpine\nCOPY <<X /x\nE2B_HEREDOC_X\nX\n");
    assert!(runs(&c)[0].ends_with("\nE2B_HEREDOC_X\nE2B_HEREDOC_X_"));
}

// ----- RUN -------------------------------------------------------------------------------------

#[test]
fn exec_form_run_is_joined_with_shell_quoting() {
    let c = conv("FROM alpine\nRUN [\"sh\", \"-c\", \"echo $HOME && ls\"]\nRUN [\"echo\", \"it's\", \"\"]\n");
    assert_eq!(runs(&c), ["sh -c 'echo $HOME && ls'", "echo 'it'\"'\"'s' ''"]);
}

#[test]
fn shell_form_run_is_not_substituted() {
    let c = conv("FROM alpine\nENV A=1\nRUN echo $A ${B:-x} \"$C\"\n");
    assert_eq!(runs(&c), ["echo $A ${B:-x} \"$C\""]);
}

#[test]
fn shell_instruction_applies_to_later_shell_forms() {
    let c = conv(
        "FROM debian\nRUN echo before\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN curl x | sh\nRUN [\"echo\", \"exec\"]\nCMD ./serve\n",
    );
    assert_eq!(runs(&c), ["echo before", "/bin/bash -o pipefail -c 'curl x | sh'", "echo exec"]);
    assert_eq!(c.start_cmd.as_deref(), Some("/bin/bash -o pipefail -c ./serve"));
}

// ----- ENV and ARG -----------------------------------------------------------------------------

#[test]
fn env_both_forms_with_quoting() {
    let c =
        conv("FROM alpine\nENV A=1 B=\"two words\" C='$A' D=\\$A E=\nENV LEGACY value with  spaces\nENV F=$A G=${B}\n");
    assert_eq!(
        body(&c),
        [
            env(&[("A", "1"), ("B", "two words"), ("C", "$A"), ("D", "$A"), ("E", "")]),
            env(&[("LEGACY", "value with  spaces")]),
            env(&[("F", "1"), ("G", "two words")]),
        ]
    );
}

#[test]
fn one_env_instruction_sees_the_values_from_before_it() {
    let c = conv("FROM alpine\nENV A=old\nENV A=new B=$A\n");
    assert_eq!(body(&c)[1], env(&[("A", "new"), ("B", "old")]));
}

#[test]
fn base_image_variables_are_left_for_the_build_service() {
    let c = conv("FROM rust:1\nENV PATH=/root/.cargo/bin:$PATH\nWORKDIR $HOME/app\n");
    assert_eq!(body(&c), [env(&[("PATH", "/root/.cargo/bin:$PATH")]), StepKind::Workdir("$HOME/app".into())]);
    // No warning for the common `$PATH` in ENV; one for WORKDIR, pointing at `$HOME`.
    assert_eq!(warnings(&c).len(), 1);
    assert!(warnings(&c)[0].starts_with("3:9 `HOME` is not an ARG or ENV of this Dockerfile"));
}

#[test]
fn args_are_substituted_and_never_become_env_steps() {
    let c = conv(
        "FROM node:20\nARG APP=web VERSION=1.2\nARG USER_NAME\nWORKDIR /srv/${APP}\nCOPY dist/$APP-$VERSION.tgz /srv/\nUSER ${USER_NAME:-node}\nENV LABEL=${APP:+app-}$APP\nRUN npm ci\n",
    );
    assert_eq!(
        body(&c),
        [
            StepKind::Workdir("/srv/web".into()),
            copy("dist/web-1.2.tgz", "/srv/", None, None),
            StepKind::User("node".into()),
            env(&[("LABEL", "app-web")]),
            // Docker gives RUN the ARGs with a value through its environment.
            run("export APP=web VERSION=1.2; npm ci"),
        ]
    );
    assert!(c.steps.iter().all(
        |s| !matches!(&s.kind, StepKind::Env { vars: p, .. } if p.iter().any(|(k, _)| k == "APP" || k == "VERSION"))
    ));
}

#[test]
fn pattern_substitutions_trim_and_replace() {
    let c = conv(
        "ARG VERSION=v1.27.3\nFROM nginx:${VERSION#v}-alpine\nARG VERSION\nARG ARCHIVE=app.tar.gz\nWORKDIR /opt/${ARCHIVE%%.*}-${VERSION//./_}\n",
    );
    assert_eq!(c.base_image, "nginx:1.27.3-alpine");
    assert_eq!(body(&c)[0], StepKind::Workdir("/opt/app-v1_27_3".into()));
}

#[test]
fn args_before_from_are_only_seen_by_from_unless_redeclared() {
    let c = conv("ARG PY=3.12\nARG VARIANT=slim\nFROM python:${PY}-${VARIANT}\nRUN echo $PY\nARG PY\nRUN echo $PY\n");
    assert_eq!(c.base_image, "python:3.12-slim");
    assert_eq!(runs(&c), ["echo $PY", "export PY=3.12; echo $PY"]);
}

#[test]
fn build_args_override_defaults() {
    let options = DockerfileOptions::new()
        .build_arg("PY", "3.13")
        .build_arg("MODE", "prod")
        .build_arg("UNUSED", "x")
        .build_arg("TARGETARCH", "arm64");
    let c = convert("ARG PY=3.12\nFROM python:$PY\nARG MODE=dev\nRUN ./setup $MODE\n", &options).unwrap();
    assert_eq!(c.base_image, "python:3.13");
    assert_eq!(runs(&c), ["export MODE=prod; ./setup $MODE"]);
    assert_eq!(warnings(&c), ["0:0 build arg `UNUSED` is not declared by any ARG and is not used"]);
    assert_eq!(
        c.warnings[0].to_string(),
        "Dockerfile: warning: build arg `UNUSED` is not declared by any ARG and is not used"
    );
}

#[test]
fn env_wins_over_an_arg_of_the_same_name() {
    let c = conv("FROM alpine\nARG MODE=dev\nENV MODE=prod\nWORKDIR /$MODE\nRUN echo $MODE\n");
    assert_eq!(body(&c)[1], StepKind::Workdir("/prod".into()));
    assert_eq!(runs(&c), ["echo $MODE"]);
}

#[test]
fn an_arg_without_value_is_unset_like_in_docker() {
    let c = conv("FROM alpine\nARG TAG\nCOPY app-${TAG:-latest}.tar /x\nWORKDIR /v$TAG\nENV T=$TAG\nRUN echo\n");
    assert_eq!(
        body(&c),
        [copy("app-latest.tar", "/x", None, None), StepKind::Workdir("/v".into()), env(&[("T", "")]), run("echo")]
    );
    assert_eq!(warnings(&c).len(), 2);
    assert!(warnings(&c)[0].starts_with("4:11 `TAG` is an ARG without a value"), "{:?}", warnings(&c));
    assert!(warnings(&c)[1].starts_with("5:7 `TAG` is an ARG without a value"), "{:?}", warnings(&c));
}

#[test]
fn platform_args_describe_the_sandbox_platform() {
    let c = conv(
        "FROM --platform=$BUILDPLATFORM golang:1.23\nARG TARGETOS TARGETARCH\nRUN GOOS=$TARGETOS GOARCH=$TARGETARCH go build\n",
    );
    assert_eq!(runs(&c), ["export TARGETOS=linux TARGETARCH=amd64; GOOS=$TARGETOS GOARCH=$TARGETARCH go build"]);
    assert!(warnings(&c)[0].contains("FROM --platform is ignored"));
}

#[test]
fn proxy_build_args_reach_run_without_an_arg() {
    let options = DockerfileOptions::new().build_arg("HTTPS_PROXY", "http://proxy:3128");
    let c = convert("FROM alpine\nRUN apk add curl\n", &options).unwrap();
    assert_eq!(runs(&c), ["export HTTPS_PROXY=http://proxy:3128; apk add curl"]);
    assert!(c.warnings.is_empty());
}

// ----- COPY / ADD ------------------------------------------------------------------------------

#[test]
fn copy_options_and_one_step_per_source() {
    let c = conv(
        "FROM alpine\nARG OWNER=app\nCOPY --chown=$OWNER:$OWNER --chmod=755 bin/a bin/b /usr/local/bin/\nADD /conf.toml ./conf/\nCOPY [\"my file.txt\", \"/data/\"]\n",
    );
    assert_eq!(
        body(&c),
        [
            copy("bin/a", "/usr/local/bin/", Some("app:app"), Some(0o755)),
            copy("bin/b", "/usr/local/bin/", Some("app:app"), Some(0o755)),
            // Docker resolves a leading `/` inside the context.
            copy("conf.toml", "./conf/", None, None),
            copy("my file.txt", "/data/", None, None),
        ]
    );
}

#[test]
fn copy_link_is_ignored_with_a_warning() {
    let c = conv("FROM alpine\nCOPY --link app /app\n");
    assert_eq!(body(&c), [copy("app", "/app", None, None)]);
    assert_eq!(warnings(&c), ["2:6 COPY --link is ignored: the files are copied the same way"]);
}

// ----- CMD / ENTRYPOINT ------------------------------------------------------------------------

fn start(text: &str) -> (Option<String>, Option<String>) {
    let c = conv(text);
    (c.start_cmd, c.ready_cmd.map(|r| r.command(Provider::E2b)))
}

#[test]
fn exec_entrypoint_and_cmd_are_joined() {
    let (s, r) = start("FROM node:20\nCMD [\"--port\", \"3000\"]\nENTRYPOINT [\"node\", \"server.js\"]\n");
    assert_eq!(s.as_deref(), Some("node server.js --port 3000"));
    assert_eq!(r.as_deref(), Some("sleep 20"));
}

#[test]
fn exec_entrypoint_with_shell_cmd_runs_it_through_sh() {
    let (s, _) = start("FROM alpine\nENTRYPOINT [\"tini\", \"--\"]\nCMD echo \"$HOME\"\n");
    assert_eq!(s.as_deref(), Some("tini -- /bin/sh -c 'echo \"$HOME\"'"));
}

#[test]
fn shell_entrypoint_ignores_cmd_with_a_warning() {
    let c = conv("FROM node:20\nENTRYPOINT node server.js\nCMD [\"--port\", \"3000\"]\n");
    assert_eq!(c.start_cmd.as_deref(), Some("node server.js"));
    assert_eq!(warnings(&c), ["3:1 CMD is ignored because ENTRYPOINT uses the shell form, as in Docker"]);
}

#[test]
fn the_last_cmd_wins_and_empty_entrypoint_resets() {
    let (s, _) =
        start("FROM alpine\nCMD first\nENTRYPOINT [\"x\"]\nENTRYPOINT []\nCMD [\"python\", \"app.py\", \"a b\"]\n");
    assert_eq!(s.as_deref(), Some("python app.py 'a b'"));
}

#[test]
fn no_cmd_means_no_start_or_ready_command() {
    assert_eq!(start("FROM alpine\nRUN true\n"), (None, None));
}

#[test]
fn malformed_json_is_a_shell_command_as_in_docker() {
    let c = conv("FROM alpine\nCMD ['python', 'app.py']\n");
    assert_eq!(c.start_cmd.as_deref(), Some("['python', 'app.py']"));
    assert!(warnings(&c)[0].contains("not a JSON array of strings"));
}

// ----- defaults and skipped instructions ------------------------------------------------------

#[test]
fn user_and_workdir_defaults_only_when_the_dockerfile_sets_none() {
    let c = conv("FROM alpine\nUSER app\n");
    let last: Vec<StepKind> = c.steps.iter().rev().take(2).map(|s| s.kind.clone()).collect();
    assert_eq!(last, [StepKind::Workdir("/home/user".into()), StepKind::User("app".into())]);
    let c = conv("FROM alpine\nWORKDIR /app\n");
    let last: Vec<StepKind> = c.steps.iter().rev().take(2).map(|s| s.kind.clone()).collect();
    assert_eq!(last, [StepKind::User("user".into()), StepKind::Workdir("/app".into())]);
}

#[test]
fn metadata_instructions_are_ignored_and_the_rest_reported() {
    let c = conv(
        "FROM alpine\nEXPOSE 8000/tcp\nVOLUME [\"/data\"]\nLABEL org.opencontainers.image.title=\"x y\"\nMAINTAINER me\nHEALTHCHECK --interval=5s CMD wget -q localhost\nSTOPSIGNAL SIGTERM\nONBUILD RUN make\nRUN --mount=type=cache,target=/root/.cache pip install x\n",
    );
    assert_eq!(runs(&c), ["pip install x"]);
    let w = warnings(&c);
    assert_eq!(w.len(), 4, "{w:?}");
    assert!(w[0].starts_with("6:1 HEALTHCHECK"));
    assert!(w[1].starts_with("7:1 STOPSIGNAL"));
    assert!(w[2].starts_with("8:1 ONBUILD"));
    assert!(w[3].starts_with("9:5 RUN --mount=type=cache is ignored"));
}

// ----- Template::from_dockerfile ---------------------------------------------------------------

#[test]
fn from_dockerfile_reads_a_file_in_the_context() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("docker")).unwrap();
    std::fs::write(dir.path().join("docker/Dockerfile"), "FROM alpine\nRUN echo from-file\n").unwrap();
    let t = Template::new().with_context(dir.path()).from_dockerfile("docker/Dockerfile").unwrap();
    assert_eq!(t.steps()[2].kind, run("echo from-file"));
    // Errors name the file.
    std::fs::write(dir.path().join("Bad"), "FROM alpine\nCOPY --from=x a b\n").unwrap();
    let err = Template::new().with_context(dir.path()).from_dockerfile("Bad").unwrap_err();
    assert!(err.to_string().starts_with(&format!("{}:2:6: ", dir.path().join("Bad").display())), "{err}");
}

#[test]
fn a_missing_dockerfile_path_is_reported_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let err = Template::new().with_context(dir.path()).from_dockerfile("Dockerfile").unwrap_err();
    assert_eq!(err.to_string().lines().next(), Some("Dockerfile: no Dockerfile at `Dockerfile`"));
    assert!(err.help.unwrap().contains(&dir.path().display().to_string()));
}

#[test]
fn later_builder_calls_add_steps_after_the_dockerfile() {
    let t = Template::new().from_dockerfile("FROM alpine\nCMD sleep 1\n").unwrap().run_cmd("echo after");
    let last = t.steps().last().unwrap();
    assert_eq!(last.kind, run("echo after"));
    assert_eq!(t.start_cmd(), Some("sleep 1"));
    assert_eq!(t.steps()[0].location.file, file!());
}

#[test]
fn with_options_passes_build_args() {
    let options = DockerfileOptions::new().build_args([("TAG", "3.20")]);
    let t = Template::new().from_dockerfile_with("ARG TAG=3.19\nFROM alpine:$TAG\n", &options).unwrap();
    assert_eq!(t.base(), &sandbox_template_runtime::Base::Image("alpine:3.20".into()));
}
