//! Dockerfile import: every unsupported feature and malformed input is a clear error at the
//! right line and column, with help saying what to write instead.

use sandbox_template_runtime::dockerfile::{DockerfileError, DockerfileOptions, convert};

fn err(text: &str) -> DockerfileError {
    match convert(text, &DockerfileOptions::new()) {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(e) => e,
    }
}

/// Asserts line, column, that the message contains `message`, and that there is help.
fn check(text: &str, line: usize, column: usize, message: &str) -> DockerfileError {
    let e = err(text);
    assert_eq!((e.line, e.column), (line, column), "{e}");
    assert!(e.message.contains(message), "{e}");
    assert!(e.help.is_some(), "no help in {e}");
    e
}

#[test]
fn display_shows_the_place_the_line_and_the_help() {
    let e = err("FROM alpine\n  COPY --chmod=755 --from=builder /out /app\n");
    assert_eq!(
        e.to_string(),
        "Dockerfile:2:20: COPY --from is not supported (multi-stage builds are not supported)\n 2 |   COPY --chmod=755 --from=builder /out /app\n   |                    ^\n  help: copy from the build context instead: put the files there, or build the other stage into a base image"
    );
    let named = e.with_file("docker/Dockerfile.prod");
    assert!(named.to_string().starts_with("docker/Dockerfile.prod:2:20: "));
}

#[test]
fn multi_stage_builds() {
    let e = check(
        "FROM golang:1.23 AS build\nRUN go build\n\nFROM alpine\n",
        4,
        1,
        "Multi-stage Dockerfiles are not supported",
    );
    assert!(e.message.contains("line 1"));
}

#[test]
fn copy_from_another_stage() {
    check("FROM alpine\nCOPY --from=build /out /app\n", 2, 6, "COPY --from is not supported");
    check("FROM alpine\nADD --from=build /out /app\n", 2, 5, "ADD --from is not supported");
}

#[test]
fn remote_add() {
    check(
        "FROM alpine\nADD https://example.com/x.tgz /x\n",
        2,
        5,
        "ADD from a remote URL is not supported: https://example.com/x.tgz",
    );
    let e = check("FROM alpine\nADD git@github.com:org/repo.git /src\n", 2, 5, "remote URL");
    assert!(e.help.unwrap().contains("git clone"));
    check("FROM alpine\nADD --checksum=sha256:abc https://x/y /y\n", 2, 5, "ADD --checksum is not supported");
}

#[test]
fn add_of_a_local_archive() {
    let e = check(
        "FROM alpine\nADD --chown=app vendor/lib.tar.gz /opt/\n",
        2,
        17,
        "would unpack the archive `vendor/lib.tar.gz`",
    );
    assert!(e.help.unwrap().contains("COPY vendor/lib.tar.gz /tmp/"));
    // ADD of an ordinary file is a copy.
    assert!(convert("FROM alpine\nADD notes.txt /x\n", &DockerfileOptions::new()).is_ok());
}

#[test]
fn unknown_flags() {
    check("FROM alpine\nCOPY --chown=a --frob=1 a /a\n", 2, 16, "unknown flag `--frob` for COPY");
    check("FROM alpine\nWORKDIR --x /a\n", 2, 9, "unknown flag `--x` for WORKDIR");
    check("FROM alpine\nRUN --privileged make\n", 2, 5, "unknown flag `--privileged` for RUN");
    check("FROM --pull alpine\n", 1, 6, "unknown flag `--pull` for FROM");
    check("FROM alpine\nCOPY --parents a/b /x/\n", 2, 6, "COPY --parents is not supported");
    check("FROM alpine\nCOPY --exclude=*.log . /app\n", 2, 6, "COPY --exclude is not supported");
}

#[test]
fn mounts_that_would_leave_files_missing() {
    check("FROM python\nRUN --mount=type=bind,source=req.txt,target=/r pip install -r /r\n", 2, 5, "type=bind");
    check("FROM python\nRUN --mount=source=req.txt,target=/r cat /r\n", 2, 5, "type=bind");
    check("FROM python\nRUN --mount=type=secret,id=npm cat /run/secrets/npm\n", 2, 5, "type=secret is not supported");
}

#[test]
fn missing_from() {
    check("", 1, 1, "Dockerfile must contain a FROM instruction");
    check("# just a comment\n\n", 1, 1, "Dockerfile must contain a FROM instruction");
    check("RUN echo hi\n", 1, 1, "Dockerfile must contain a FROM instruction");
    check("ARG X=1\n", 1, 1, "Dockerfile must contain a FROM instruction");
    check("ENV A=1\nFROM alpine\n", 1, 1, "`ENV` comes before `FROM`");
}

#[test]
fn empty_base_after_substitution() {
    check("ARG BASE\nFROM $BASE\n", 2, 6, "the base image is empty");
    check("FROM ${IMAGE}:1\n", 1, 6, "image reference");
}

#[test]
fn unterminated_heredoc_and_quotes() {
    check("FROM alpine\nRUN <<EOF\necho hi\n", 2, 5, "unterminated heredoc");
    check("FROM alpine\nENV A=\"open\n", 2, 7, "unterminated double-quoted string");
    check("FROM alpine\nWORKDIR '/app\n", 2, 9, "unterminated single-quoted string");
    check("FROM alpine\nUSER ${NAME\n", 2, 6, "unterminated");
}

#[test]
fn json_arrays_of_other_things_than_strings() {
    check("FROM alpine\nCMD [\"sleep\", 10]\n", 2, 5, "only strings");
    check("FROM alpine\nRUN [1]\n", 2, 5, "only strings");
    check("FROM alpine\nSHELL /bin/bash -c\n", 2, 7, "SHELL needs a JSON array");
}

#[test]
fn unknown_instructions_suggest_the_closest() {
    let e = check("FROM alpine\n  RUNN make\n", 2, 3, "unknown instruction `RUNN`");
    assert_eq!(e.help.as_deref(), Some("did you mean `RUN`?"));
    // A script line outside a heredoc.
    let e = check("FROM alpine\nRUN echo a\necho b\n", 3, 1, "unknown instruction `echo`");
    assert!(e.help.unwrap().contains("heredoc"));
}

#[test]
fn parser_directives() {
    check("# escape=x\nFROM alpine\n", 1, 1, "invalid escape character `x`");
    check("# escape=`\n# escape=\\\nFROM alpine\n", 2, 1, "only one `escape` parser directive");
}

#[test]
fn substitution_errors() {
    check("FROM alpine\nARG V\nWORKDIR /${V:?set V}\n", 3, 10, "set V");
    check("FROM alpine\nARG V=x\nWORKDIR /${V=y}\n", 3, 10, "unsupported substitution");
    check("FROM alpine\nWORKDIR /${}\n", 2, 10, "bad substitution");
}

#[test]
fn values_the_template_cannot_hold() {
    check("FROM alpine\nENV my.key=1\n", 2, 5, "my.key");
    check("FROM alpine\nCOPY --chmod=u+x run.sh /x\n", 2, 6, "not an octal mode");
    check("FROM alpine\nCOPY --chmod=77777 run.sh /x\n", 2, 6, "mode");
    check("FROM alpine\nCOPY ../secrets /x\n", 2, 6, "..");
    check("FROM alpine\nUSER bad user\n", 2, 6, "user");
    check("FROM Alpine:Latest\n", 1, 6, "image reference");
}

#[test]
fn missing_arguments() {
    check("FROM alpine\nCOPY only-one\n", 2, 6, "COPY needs a source and a destination");
    check("FROM alpine\nCOPY a b /dest\n", 2, 10, "more than one source needs a folder destination ending in `/`");
    check("FROM alpine\nRUN\n", 2, 4, "RUN needs a command");
    check("FROM alpine\nENV\n", 2, 4, "ENV needs");
    check("FROM alpine\nENV LONELY\n", 2, 5, "ENV needs a value");
    check("FROM alpine\nENV A=1 B\n", 2, 9, "`B` has no `=`");
    check("FROM alpine\nWORKDIR\n", 2, 1, "WORKDIR needs an argument");
    check("FROM alpine\nCMD\n", 2, 4, "CMD needs a command");
    check("FROM\n", 1, 5, "FROM needs an image");
    check("FROM a b\n", 1, 8, "FROM takes an image");
}
