//! Dockerfile import never panics: arbitrary text, and token soup that looks like Dockerfiles
//! (keywords, flags, quotes, substitutions, heredocs, continuations, directives), always give a
//! conversion or a located error.

use proptest::prelude::*;
use sandbox_template_runtime::StepKind;
use sandbox_template_runtime::dockerfile::{DockerfileOptions, convert};

const TOKENS: &[&str] = &[
    "FROM",
    "from",
    "RUN",
    "COPY",
    "ADD",
    "ENV",
    "ARG",
    "WORKDIR",
    "USER",
    "CMD",
    "ENTRYPOINT",
    "SHELL",
    "EXPOSE",
    "LABEL",
    "HEALTHCHECK",
    "ONBUILD",
    "STOPSIGNAL",
    "VOLUME",
    "MAINTAINER",
    "alpine",
    "python:3.12",
    "AS",
    "a",
    "b",
    "/app/",
    ".",
    "--chown=",
    "--chmod=755",
    "--chmod=",
    "--from=x",
    "--link",
    "--mount=type=cache,target=/c",
    "--mount=type=bind",
    "--platform=$BUILDPLATFORM",
    "--",
    "-",
    "=",
    "A=1",
    "B=\"two words\"",
    "'",
    "\"",
    "\\",
    "`",
    "$",
    "$A",
    "${",
    "}",
    "${A}",
    "${A:-x}",
    "${A:+y}",
    "${A:?z}",
    "${A-",
    "${:",
    "$(",
    "${A#*/}",
    "${A%%.*}",
    "${A//x/y}",
    "${A/",
    "[!a]",
    "[a-",
    "[",
    "]",
    "[\"a\",",
    "\"b\"]",
    "[1]",
    ",",
    "<<EOF",
    "<<-EOF",
    "<<'EOF'",
    "<<\"E F\"",
    "EOF",
    "\tEOF",
    "<<",
    "2<<X",
    "X",
    "#",
    "# escape=`",
    "# escape=\\",
    "# syntax=x",
    "#!/bin/sh",
    "https://x/y.tgz",
    "x.tar.gz",
    " ",
    "  ",
    "\t",
    "\n",
    "\n",
    "\n",
    "\r\n",
    "\\\n",
    "`\n",
    "é",
    "\u{feff}",
    "\0",
    "日本",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..80).prop_map(|tokens| {
        let mut out = String::new();
        for (i, t) in tokens.iter().enumerate() {
            if i > 0 && !t.starts_with(['\n', ' ', '\t']) && i % 3 != 0 {
                out.push(' ');
            }
            out.push_str(t);
        }
        out
    })
}

fn check(text: &str, options: &DockerfileOptions) {
    let lines = text.split('\n').count();
    match convert(text, options) {
        Ok(c) => {
            assert!(!c.base_image.is_empty());
            assert_eq!(c.steps[0].kind, StepKind::User("root".into()));
            assert_eq!(c.steps[1].kind, StepKind::Workdir("/".into()));
            assert_eq!(c.start_cmd.is_some(), c.ready_cmd.is_some());
            for s in &c.steps {
                assert!(s.line <= lines);
            }
            for w in &c.warnings {
                assert!(w.line <= lines);
                let _ = w.to_string();
            }
        }
        Err(e) => {
            assert!(e.line <= lines, "line {} of {lines}: {e}", e.line);
            assert!(!e.message.is_empty());
            let _ = e.to_string();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check(&text, &DockerfileOptions::new());
    }

    #[test]
    fn dockerfile_like_soup_never_panics(body in soup(), prefix in prop::sample::select(vec!["", "FROM alpine\n", "ARG A=1\nFROM alpine:$A\n"])) {
        let text = format!("{prefix}{body}");
        check(&text, &DockerfileOptions::new().build_arg("A", "2"));
    }

    #[test]
    fn soup_after_each_keyword_never_panics(keyword in prop::sample::select(&TOKENS[..20]), body in soup()) {
        check(&format!("FROM alpine\n{keyword} {body}\n"), &DockerfileOptions::new());
    }
}

#[test]
fn deeply_nested_substitutions_are_an_error_not_a_crash() {
    let nested = format!("FROM alpine\nWORKDIR /{}x{}\n", "${A:-".repeat(10_000), "}".repeat(10_000));
    let e = convert(&nested, &DockerfileOptions::new()).unwrap_err();
    assert!(e.message.contains("nested too deeply"), "{e}");
}
