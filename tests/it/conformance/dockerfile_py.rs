//! Dockerfile import against the Python SDK (the Docker-semantics reference): every
//! `vectors/py/from_dockerfile_*` vector, built through `Template::from_dockerfile`, gives the same
//! steps, start and ready command, or the same error on the same line.
//!
//! The one intended difference (CONFORMANCE.md §5): an `ARG` does not become an `ENV` step; its
//! value reaches later `RUN` commands through their environment (`export NAME=value; ...`), as
//! under Docker. [`apply_arg_difference`] turns the Python SDK's output into ours for that.
//!
//! The vectors are read from this package's `tests/conformance/sdk/vectors`, or from
//! `$SANDBOX_TEMPLATE_VECTORS`.

use std::path::{Path, PathBuf};

use sandbox_template_runtime::{Provider, Template};
use serde_json::{Value, json};

fn vectors_dir() -> PathBuf {
    let dir = std::env::var_os("SANDBOX_TEMPLATE_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/sdk/vectors"));
    assert!(
        dir.join("py").is_dir(),
        "the SDK vectors are not at {}: restore tests/conformance/sdk/vectors or set SANDBOX_TEMPLATE_VECTORS",
        dir.display()
    );
    dir
}

/// The argument of `from_dockerfile(...)` in a vector script: a Python string literal.
fn dockerfile_of(script: &str) -> String {
    let start = script.find("from_dockerfile(").expect("vector calls from_dockerfile") + "from_dockerfile(".len();
    let rest = &script[start..];
    let (quote, body) = if let Some(b) = rest.strip_prefix("\"\"\"") {
        ("\"\"\"", b)
    } else if let Some(b) = rest.strip_prefix('\'') {
        ("'", b)
    } else {
        ("\"", rest.strip_prefix('"').expect("a string literal"))
    };
    let mut out = String::new();
    let mut chars = body.chars().peekable();
    let mut raw = String::new();
    while let Some(c) = chars.next() {
        raw.push(c);
        if raw.ends_with(quote) && !raw.ends_with(&format!("\\{quote}")) {
            for _ in 0..quote.len() - 1 {
                out.pop();
            }
            return out;
        }
        if c == '\\' {
            // Python escapes: backslash-newline joins lines.
            match chars.next() {
                Some('\n') => {}
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(e @ ('\\' | '\'' | '"')) => out.push(e),
                Some(e) => {
                    out.push('\\');
                    out.push(e);
                }
                None => {}
            }
            raw.push('_');
            continue;
        }
        out.push(c);
    }
    panic!("unterminated string literal in vector script");
}

/// ARG declarations of a Dockerfile (name, default), as the vectors write them.
fn args_of(dockerfile: &str) -> Vec<(String, Option<String>)> {
    dockerfile
        .lines()
        .filter_map(|l| l.strip_prefix("ARG "))
        .map(|a| match a.trim().split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (a.trim().to_owned(), None),
        })
        .collect()
}

/// The Python SDK's steps with our ARG handling: the `ENV` steps it makes of ARGs are gone, and
/// every RUN after an ARG with a value sees it through `export`.
fn apply_arg_difference(py_steps: &[Value], args: &[(String, Option<String>)]) -> Vec<Value> {
    let mut out = Vec::new();
    let mut remaining: Vec<&(String, Option<String>)> = args.iter().collect();
    let mut seen: Vec<(String, String)> = Vec::new();
    for step in py_steps {
        if step["type"] == "ENV"
            && let Some(pos) =
                remaining.iter().position(|(n, v)| step["args"] == json!([n, v.clone().unwrap_or_default()]))
        {
            let (n, v) = remaining.remove(pos);
            if let Some(v) = v {
                seen.push((n.clone(), v.clone()));
            }
            continue;
        }
        let mut step = step.clone();
        if step["type"] == "RUN" && !seen.is_empty() {
            let exports: Vec<String> = seen.iter().map(|(n, v)| format!("{n}={v}")).collect();
            let cmd = format!("export {}; {}", exports.join(" "), step["args"][0].as_str().unwrap());
            step["args"][0] = Value::String(cmd);
        }
        out.push(step);
    }
    assert!(remaining.is_empty(), "every ARG shows up as an ENV step in the Python SDK's output");
    out
}

fn our_steps(t: &Template) -> Vec<Value> {
    t.steps()
        .iter()
        .map(|s| {
            let i = s.to_wire();
            json!({ "type": i.kind, "args": i.args, "force": i.force })
        })
        .collect()
}

fn strip_hashes(steps: &[Value]) -> Vec<Value> {
    steps
        .iter()
        .map(|s| {
            let mut s = s.clone();
            if let Some(o) = s.as_object_mut() {
                o.remove("filesHash");
            }
            s
        })
        .collect()
}

/// The error the Python SDK raised: (line, message).
fn py_error(text: &str) -> Option<(usize, String)> {
    let line = text.lines().rev().find(|l| l.contains("Dockerfile parse error on line"))?;
    let rest = &line[line.find("on line ")? + "on line ".len()..];
    let (n, message) = rest.split_once(": ")?;
    Some((n.parse().ok()?, message.trim().to_owned()))
}

#[test]
fn every_python_vector_converts_with_docker_semantics() {
    let py = vectors_dir().join("py");
    let mut names: Vec<String> = std::fs::read_dir(&py)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_prefix("from_dockerfile_")
                .and_then(|n| n.strip_suffix(".py"))
                .map(|n| format!("from_dockerfile_{n}"))
        })
        .collect();
    names.sort();
    assert!(names.len() >= 7, "expected the from_dockerfile_* vectors, found {names:?}");
    for name in &names {
        let script = std::fs::read_to_string(py.join(format!("{name}.py"))).unwrap();
        let dockerfile = dockerfile_of(&script);
        let result = Template::new().from_dockerfile(&dockerfile);
        let expected_text = std::fs::read_to_string(py.join(format!("{name}.json")))
            .or_else(|_| std::fs::read_to_string(py.join(format!("{name}.stderr"))))
            .unwrap();
        if let Some((line, message)) = py_error(&expected_text) {
            let err = result.err().unwrap_or_else(|| panic!("{name}: expected an error, got a template"));
            assert_eq!(err.line, line, "{name}: error line ({err})");
            assert_eq!(err.message, message, "{name}: error message");
            assert!(err.help.is_some(), "{name}: the error says what to write instead");
            continue;
        }
        let t = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        let py_json: Value = serde_json::from_str(&expected_text).unwrap();
        let expected = apply_arg_difference(&strip_hashes(py_json["steps"].as_array().unwrap()), &args_of(&dockerfile));
        assert_eq!(our_steps(&t), expected, "{name}: steps");
        assert_eq!(
            py_json["fromImage"],
            json!(match t.base() {
                sandbox_template_runtime::Base::Image(i) => i.clone(),
                other => panic!("{name}: base {other:?}"),
            })
        );
        assert_eq!(py_json.get("startCmd").and_then(Value::as_str), t.start_cmd(), "{name}: start command");
        assert_eq!(
            py_json.get("readyCmd").and_then(Value::as_str).map(str::to_owned),
            t.ready_cmd().map(|r| r.command(Provider::E2b)),
            "{name}: ready command"
        );
    }
}

#[test]
fn python_literal_decoding_joins_continued_lines() {
    assert_eq!(dockerfile_of(r#"x.from_dockerfile('A\nB \'q\'\n'))"#), "A\nB 'q'\n");
    assert_eq!(dockerfile_of("x.from_dockerfile(\"\"\"RUN a \\\n  b\n\"\"\"))"), "RUN a   b\n");
}
