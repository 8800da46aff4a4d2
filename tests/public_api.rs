//! The public API of the published library crates, pinned: a change to what users can name (a new,
//! renamed or removed item, method or variant) shows up as a diff of `tests/snapshots/*.snap` in
//! review instead of slipping through in a glob re-export.
//!
//! The list comes from rustdoc's JSON output. That output is unstable, and only one toolchain can
//! be installed here, so the test asks the stable rustdoc for it with `RUSTC_BOOTSTRAP=1` (the
//! switch the Rust project itself uses to build std). It builds into its own target folder so it
//! never waits on the `cargo test` that runs it.
//!
//! After a deliberate change: `INSTA_UPDATE=always cargo test --all-features --test public_api`,
//! then read the `.snap` diff before committing it.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Runs rustdoc's JSON output for `package` with every feature; the JSON file's path.
fn rustdoc_json(package: &str) -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("public-api");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(workspace)
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTDOCFLAGS")
        .args(["rustdoc", "-q", "--lib", "--all-features", "-p", package, "--"])
        .args(["-Zunstable-options", "--output-format", "json"])
        .output()
        .expect("cargo runs");
    assert!(out.status.success(), "rustdoc JSON for {package} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    target.join("doc").join(format!("{}.json", package.replace('-', "_")))
}

/// Every public path of the crate, one per line: items with their kind, the inherent methods and
/// associated items of its types, enum variants, and re-exports of other crates' items (named by
/// where they come from, since their members belong to that crate's own list).
fn public_items(json: &Path) -> String {
    let text = std::fs::read_to_string(json).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let mut api = Api { doc: &doc, lines: BTreeSet::new(), seen: HashSet::new() };
    let root = &doc["root"];
    let name = doc["index"][id_key(root)]["name"].as_str().unwrap().to_owned();
    api.module(root, &name);
    api.lines.into_iter().collect::<Vec<_>>().join("\n") + "\n"
}

struct Api<'d> {
    doc: &'d Value,
    lines: BTreeSet<String>,
    seen: HashSet<String>,
}

fn id_key(id: &Value) -> String {
    match id {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        other => panic!("unexpected rustdoc id {other}"),
    }
}

/// The one key of an item's `inner` object: `module`, `struct`, `function`, ...
fn kind(item: &Value) -> &str {
    item["inner"].as_object().and_then(|o| o.keys().next()).map(String::as_str).unwrap_or("?")
}

impl<'d> Api<'d> {
    fn item(&self, id: &Value) -> Option<&'d Value> {
        self.doc["index"].get(id_key(id))
    }

    fn module(&mut self, id: &Value, path: &str) {
        if !self.seen.insert(format!("{}@{path}", id_key(id))) {
            return;
        }
        let Some(module) = self.item(id) else { return };
        for child in module["inner"]["module"]["items"].as_array().into_iter().flatten() {
            let Some(item) = self.item(child) else { continue };
            if item["visibility"] != "public" {
                continue;
            }
            if kind(item) == "use" {
                self.reexport(&item["inner"]["use"], path);
            } else {
                let name = item["name"].as_str().unwrap_or("_");
                self.emit(item, &format!("{path}::{name}"));
            }
        }
    }

    fn reexport(&mut self, reexport: &'d Value, path: &str) {
        let name = reexport["name"].as_str().unwrap_or("_");
        let target = &reexport["id"];
        match self.item(target) {
            Some(item) if reexport["is_glob"] == true => {
                if kind(item) == "module" {
                    self.module(target, path);
                }
            }
            Some(item) => self.emit(item, &format!("{path}::{name}")),
            None => {
                let external = self.doc["paths"].get(id_key(target));
                let (what, from) = match external {
                    Some(p) => (
                        p["kind"].as_str().unwrap_or("?").to_owned(),
                        p["path"].as_array().map(|s| s.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("::")),
                    ),
                    None => ("?".to_owned(), None),
                };
                let glob = if reexport["is_glob"] == true { "::*" } else { "" };
                let from = from.unwrap_or_else(|| reexport["source"].as_str().unwrap_or("?").to_owned());
                self.lines.insert(format!("{path}::{name}{glob} ({what}, re-export of {from})"));
            }
        }
    }

    fn emit(&mut self, item: &'d Value, path: &str) {
        let k = kind(item);
        self.lines.insert(format!("{path} ({k})"));
        match k {
            "module" => self.module(&item["id"], path),
            "struct" | "enum" | "union" | "trait" => {
                let inner = &item["inner"][k];
                for variant in inner["variants"].as_array().into_iter().flatten() {
                    if let Some(v) = self.item(variant) {
                        self.lines.insert(format!("{path}::{} (variant)", v["name"].as_str().unwrap_or("_")));
                    }
                }
                for member in inner["items"].as_array().into_iter().flatten() {
                    if let Some(m) = self.item(member) {
                        self.lines.insert(format!("{path}::{} (trait {})", m["name"].as_str().unwrap_or("_"), kind(m)));
                    }
                }
                for imp in inner["impls"].as_array().into_iter().flatten() {
                    let Some(imp) = self.item(imp) else { continue };
                    let imp = &imp["inner"]["impl"];
                    // Trait impls are part of the API too, but they add hundreds of auto-trait and
                    // blanket lines; inherent members are what a rename or removal changes.
                    if !imp["trait"].is_null() || imp["is_synthetic"] == true || !imp["blanket_impl"].is_null() {
                        continue;
                    }
                    for member in imp["items"].as_array().into_iter().flatten() {
                        let Some(m) = self.item(member) else { continue };
                        if m["visibility"] == "public" {
                            self.lines.insert(format!("{path}::{} ({})", m["name"].as_str().unwrap_or("_"), kind(m)));
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

#[test]
fn public_api_of_every_published_library() {
    for package in ["sandbox-template", "sandbox-template-runtime", "sandbox-template-server", "sandbox-template-dsl"] {
        let items = public_items(&rustdoc_json(package));
        insta::assert_snapshot!(package, items);
    }
}
