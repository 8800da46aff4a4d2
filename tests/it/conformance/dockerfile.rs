//! Dockerfile import against the SDK conformance vectors `vectors/expected/from_dockerfile_*`:
//! each template is built as `vectors/js/NAME.js` builds it, and `to_json()` must equal the
//! expected file byte for byte, or, where the JS SDK's naive Dockerfile reader is wrong on
//! purpose-built cases, the project's own file in `tests/conformance/deviations/` (its README
//! says what differs and why).
//!
//! The vectors are read where `support` finds them (`tests/conformance/sdk/vectors`, or
//! `$SANDBOX_TEMPLATE_VECTORS`).

use crate::support::{fixture, read_data, recorded_error};
use sandbox_template::{JsonOptions, Template};

fn expected(name: &str) -> String {
    read_data(&format!("vectors/expected/{name}.json"))
}

fn deviation(file: &str) -> String {
    read_data(&format!("deviations/{file}"))
}

/// JSON text with the commas before line ends removed, to compare documents that differ only
/// in the optional last key of an object.
fn strip_trailing_commas(json: &str) -> String {
    json.lines().map(|l| l.trim_end_matches(',')).collect::<Vec<_>>().join("\n")
}

const BASIC: &str = r#"FROM python:3.12-slim
ARG VERSION=1.0
ARG NOVALUE
ENV A=1 B="two words"
ENV LEGACY value with spaces
WORKDIR /app
COPY fixture/hello.txt fixture/run.sh /app/
ADD --chown=user:user fixture/nested /app/nested
RUN pip install flask && \
    echo done
RUN ["echo", "exec form"]
USER appuser
EXPOSE 8000
VOLUME /data
LABEL a=b
HEALTHCHECK CMD curl -f http://localhost/
CMD ["python", "-m", "http.server", "8000"]
"#;

#[test]
fn basic_follows_docker_and_keeps_args_out_of_the_sandbox() {
    let t = Template::new().with_context(fixture().ctx()).from_dockerfile(BASIC).unwrap();
    let expected = deviation("from_dockerfile_basic.json");
    // The steps first, without reading the context; then the exact bytes with `filesHash`.
    let without_hashes: String =
        expected.lines().filter(|l| !l.contains("\"filesHash\"")).collect::<Vec<_>>().join("\n");
    assert_eq!(
        strip_trailing_commas(&t.to_json_with(JsonOptions::default().without_hashes()).unwrap()),
        strip_trailing_commas(&without_hashes)
    );
    assert_eq!(t.to_json().unwrap(), expected);
}

#[test]
fn copy_from_another_stage_is_refused() {
    let err = Template::new()
        .with_context(fixture().ctx())
        .from_dockerfile("FROM alpine\nCOPY --chmod=755 --from=builder fixture/run.sh /x\n")
        .unwrap_err();
    let first_line = err.to_string().lines().next().unwrap().to_owned();
    assert_eq!(format!("{first_line}\n"), deviation("from_dockerfile_copy_chmod_from.err"));
    assert!(err.help.is_some());
}

#[test]
fn shell_form_entrypoint_ignores_cmd() {
    let t = Template::new()
        .from_dockerfile("FROM node:20\nENTRYPOINT node server.js\nCMD [\"--port\", \"3000\"]\n")
        .unwrap();
    assert_eq!(t.to_json().unwrap(), deviation("from_dockerfile_entrypoint_shell.json"));
}

#[test]
fn a_dockerfile_path_is_read() {
    // `fixture()` writes Dockerfile.sample as vectors/js/from_dockerfile_file.js does.
    let f = fixture();
    let t = Template::new().with_context(f.ctx()).from_dockerfile(f.dockerfile_sample().to_str().unwrap()).unwrap();
    assert_eq!(t.to_json().unwrap(), expected("from_dockerfile_file"));
}

#[test]
fn minimal() {
    let t = Template::new().from_dockerfile("FROM ubuntu:22.04\nRUN apt-get update\n").unwrap();
    assert_eq!(t.to_json().unwrap(), expected("from_dockerfile_minimal"));
}

#[test]
fn skip_cache_before_the_dockerfile_forces_every_step() {
    let t = Template::new().skip_cache().from_dockerfile("FROM alpine\nRUN echo 1\n").unwrap();
    assert_eq!(t.to_json().unwrap(), expected("from_dockerfile_skip_cache"));
}

/// The message of an `ERROR: Error: <message>` vector.
fn expected_error(name: &str) -> String {
    let text = expected(name);
    let (class, message) = recorded_error(&text).expect("an ERROR vector");
    assert_eq!(class, "Error");
    message.to_owned()
}

#[test]
fn multistage_is_refused() {
    let err = Template::new().from_dockerfile("FROM a AS b\nFROM c\n").unwrap_err();
    assert!(err.message.starts_with(&expected_error("from_dockerfile_multistage")), "{err}");
    assert_eq!((err.line, err.column), (2, 1));
    assert!(err.help.is_some());
}

#[test]
fn a_dockerfile_without_from_is_refused() {
    let err = Template::new().from_dockerfile("RUN echo hi\n").unwrap_err();
    assert_eq!(err.message, expected_error("from_dockerfile_nofrom"));
    assert_eq!((err.line, err.column), (1, 1));
}
