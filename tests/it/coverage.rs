//! `docs/coverage.md` maps every method and option of the official SDKs' template class to Rust,
//! the DSL and the CLI. These tests keep it true: every recorded SDK member is in the table, every
//! name in it is one the SDKs have, every Rust item it names is public API, and every DSL example
//! compiles as a `.tmpl`. (The CLI column is checked by the CLI's own tests, which can run it.)

use std::collections::BTreeSet;
use std::path::Path;

/// One row of a coverage table: its cells by column.
struct Row {
    line: usize,
    js: Vec<String>,
    py: Vec<String>,
    rust: Vec<String>,
    dsl: Vec<String>,
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The code spans of a cell (`` `a` `b` `` → `a`, `b`); none for `—`.
fn spans(cell: &str) -> Vec<String> {
    cell.split('`').skip(1).step_by(2).map(str::to_owned).collect()
}

/// The rows of every table in docs/coverage.md whose header starts with the JS column.
fn rows() -> Vec<Row> {
    let text = std::fs::read_to_string(root().join("docs/coverage.md")).unwrap();
    let mut rows = Vec::new();
    let mut in_table = false;
    for (i, line) in text.lines().enumerate() {
        if line.starts_with("| JS (e2b, novita-sandbox) | Python (e2b) | Rust | DSL | CLI |") {
            in_table = true;
            continue;
        }
        if !line.starts_with('|') {
            in_table = false;
            continue;
        }
        if !in_table || line.starts_with("|---") {
            continue;
        }
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").collect();
        assert_eq!(cells.len(), 6, "docs/coverage.md:{}: a row has 6 cells: {line}", i + 1);
        rows.push(Row {
            line: i + 1,
            js: spans(cells[0]),
            py: spans(cells[1]),
            rust: spans(cells[2]),
            dsl: spans(cells[3]),
        });
    }
    assert!(rows.len() > 40, "docs/coverage.md: only {} rows found; did the header change?", rows.len());
    rows
}

/// A recorded SDK surface (`vectors/surface/NAME.txt`).
fn surface(name: &str) -> BTreeSet<String> {
    let path = root().join("tests/conformance/sdk/vectors/surface").join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_sdk_method_and_option_is_in_the_table_and_every_name_in_it_is_the_sdks() {
    let rows = rows();
    let js: BTreeSet<String> = surface("e2b-js.txt").into_iter().chain(surface("novita-js.txt")).collect();
    let py = surface("e2b-py.txt");
    for (column, sdk, listed) in [
        ("JS", &js, rows.iter().flat_map(|r| r.js.iter().map(move |n| (r.line, n))).collect::<Vec<_>>()),
        ("Python", &py, rows.iter().flat_map(|r| r.py.iter().map(move |n| (r.line, n))).collect::<Vec<_>>()),
    ] {
        let names: BTreeSet<&String> = listed.iter().map(|(_, n)| *n).collect();
        let missing: Vec<&String> = sdk.iter().filter(|n| !names.contains(n)).collect();
        assert!(missing.is_empty(), "docs/coverage.md's {column} column lacks these SDK members: {missing:?}");
        for (line, name) in listed {
            assert!(sdk.contains(name), "docs/coverage.md:{line}: `{name}` is not in the recorded {column} surface");
        }
    }
}

#[test]
fn every_row_has_a_rust_counterpart_in_the_public_api() {
    let mut api = String::new();
    for snap in ["sandbox-template-runtime", "sandbox-template"] {
        api += &std::fs::read_to_string(root().join(format!("tests/snapshots/public_api__{snap}.snap"))).unwrap();
    }
    // Each line of a snapshot is `path (kind)`; a cell names the path's tail.
    let paths: Vec<&str> = api.lines().filter_map(|l| l.split(" (").next()).collect();
    for row in rows() {
        assert!(!row.rust.is_empty(), "docs/coverage.md:{}: {:?} has no Rust counterpart", row.line, row.js);
        for item in &row.rust {
            let tail = format!("::{item}");
            assert!(
                paths.iter().any(|p| p.ends_with(&tail)),
                "docs/coverage.md:{}: `{item}` is not in the public API (tests/snapshots/public_api__*.snap)",
                row.line
            );
        }
    }
}

#[test]
fn every_dsl_example_compiles() {
    const HEADER: [&str; 5] = ["context ", "ignore ", "provider ", "embed", "skip_cache"];
    // The files the examples name, so that their compile-time file checks run too.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), "FROM debian:bookworm\nRUN true\n").unwrap();
    for file in ["app.py", "a.py", "b.py", "ctx/app.py"] {
        std::fs::create_dir_all(dir.path().join(file).parent().unwrap()).unwrap();
        std::fs::write(dir.path().join(file), "print('hi')\n").unwrap();
    }
    for row in rows() {
        for example in &row.dsl {
            // A header statement goes before the base; a step after one.
            let text = if example.contains("from ") {
                example.clone()
            } else if HEADER.iter().any(|h| example.starts_with(h)) {
                format!("{example}\nfrom base;")
            } else {
                format!("from base;\n{example}")
            };
            if let Err(e) = sandbox_template_dsl::tmpl::load_str(&text, "coverage.tmpl", Some(dir.path())) {
                panic!("docs/coverage.md:{}: `{example}` does not compile:\n{e}", row.line);
            }
        }
    }
}
