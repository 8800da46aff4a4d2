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

use std::collections::{BTreeSet, HashMap, HashSet};
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
/// associated items of its types, trait items, enum variants, the fields users can name, and
/// re-exports of other crates' items (named by where they come from, since their members belong to
/// that crate's own list). `#[doc(hidden)]` items (the macros' `__private` plumbing) are left out,
/// as rustdoc leaves them out: they are no public API.
///
/// `public` maps where an item of an already listed crate is defined (`sandbox_template_runtime::
/// template::Template`, what rustdoc knows of another crate's item) to the path users name it by
/// (`sandbox_template_runtime::Template`), so a re-export names the latter, and moving an item
/// between private modules changes no line. This crate's items are added to it.
fn public_items(json: &Path, public: &mut HashMap<String, String>) -> String {
    let text = std::fs::read_to_string(json).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let mut api = Api { doc: &doc, lines: BTreeSet::new(), seen: HashSet::new(), public };
    let root = &doc["root"];
    let name = doc["index"][id_key(root)]["name"].as_str().unwrap().to_owned();
    api.module(root, &name);
    api.lines.into_iter().collect::<Vec<_>>().join("\n") + "\n"
}

struct Api<'d, 'p> {
    doc: &'d Value,
    lines: BTreeSet<String>,
    seen: HashSet<String>,
    public: &'p mut HashMap<String, String>,
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

impl<'d> Api<'d, '_> {
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
        if target.is_null() {
            // rustdoc could not resolve it (a primitive, say): named by the path as written.
            let source = reexport["source"].as_str().unwrap_or("?");
            self.lines.insert(format!("{path}::{name} (re-export of {source})"));
            return;
        }
        match self.item(target) {
            Some(item) if reexport["is_glob"] == true => match kind(item) {
                "module" => self.module(target, path),
                // `pub use Enum::*` puts the variants in this module.
                "enum" => {
                    for variant in item["inner"]["enum"]["variants"].as_array().into_iter().flatten() {
                        if let Some(v) = self.item(variant) {
                            self.lines.insert(format!("{path}::{} (variant)", v["name"].as_str().unwrap_or("_")));
                        }
                    }
                }
                _ => {}
            },
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
                let from = match from {
                    Some(defined) => self.public.get(&defined).cloned().unwrap_or(defined),
                    None => reexport["source"].as_str().unwrap_or("?").to_owned(),
                };
                // A glob brings in whatever the other crate has, under this module's own path.
                let line = if reexport["is_glob"] == true {
                    format!("{path}::* (everything in {what} {from})")
                } else {
                    format!("{path}::{name} ({what}, re-export of {from})")
                };
                self.lines.insert(line);
            }
        }
    }

    fn emit(&mut self, item: &'d Value, path: &str) {
        let k = kind(item);
        self.lines.insert(format!("{path} ({k})"));
        self.remember(item, path);
        match k {
            "module" => self.module(&item["id"], path),
            "struct" | "enum" | "union" | "trait" => {
                let inner = &item["inner"][k];
                self.fields(&inner["kind"], path);
                for variant in inner["variants"].as_array().into_iter().flatten() {
                    if let Some(v) = self.item(variant) {
                        let vpath = format!("{path}::{}", v["name"].as_str().unwrap_or("_"));
                        self.lines.insert(format!("{vpath} (variant)"));
                        self.fields(&v["inner"]["variant"]["kind"], &vpath);
                    }
                }
                for member in inner["items"].as_array().into_iter().flatten() {
                    if let Some(m) = self.item(member) {
                        let name = m["name"].as_str().unwrap_or("_");
                        self.lines.insert(format!("{path}::{name} (trait {})", member_kind(m)));
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
                            let name = m["name"].as_str().unwrap_or("_");
                            self.lines.insert(format!("{path}::{name} ({})", member_kind(m)));
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// Records `path` as the public name of `item`: the shortest one (then the first in order),
    /// so `Rule` is `crate::Rule` rather than `crate::rules::Rule`.
    fn remember(&mut self, item: &Value, path: &str) {
        let defined = self.doc["paths"].get(id_key(&item["id"])).and_then(|p| p["path"].as_array());
        let Some(defined) = defined else { return };
        let defined = defined.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("::");
        let shorter = |old: &String| (path.matches("::").count(), path) < (old.matches("::").count(), old.as_str());
        match self.public.get(&defined) {
            Some(old) if !shorter(old) => {}
            _ => {
                self.public.insert(defined, path.to_owned());
            }
        }
    }

    /// The fields users can name: public fields of a struct (`plain`, or `tuple` as `0`, `1`, ...)
    /// and every field of a struct-like variant (variant fields have no visibility of their own).
    fn fields(&mut self, kind: &'d Value, path: &str) {
        let (ids, positional) = match kind {
            Value::Object(o) if o.contains_key("plain") => (&kind["plain"]["fields"], false),
            Value::Object(o) if o.contains_key("struct") => (&kind["struct"]["fields"], false),
            Value::Object(o) if o.contains_key("tuple") => (&kind["tuple"], true),
            _ => return,
        };
        for (i, id) in ids.as_array().into_iter().flatten().enumerate() {
            // A tuple field that is not public shows as `null`.
            let Some(field) = (!id.is_null()).then(|| self.item(id)).flatten() else { continue };
            // Tuple variants' fields are positional parts of the variant itself, not names.
            if positional && field["visibility"] != "public" {
                continue;
            }
            let name = if positional { i.to_string() } else { field["name"].as_str().unwrap_or("_").to_owned() };
            self.lines.insert(format!("{path}::{name} (field)"));
        }
    }
}

/// What an associated item is, named as users call it: a `method` (with or without `self`), an
/// associated `constant` or `type`.
fn member_kind(item: &Value) -> &str {
    match kind(item) {
        "function" => "method",
        "assoc_const" => "associated constant",
        "assoc_type" => "associated type",
        other => other,
    }
}

#[test]
fn public_api_of_every_published_library() {
    // Each crate after the ones it re-exports from, so that their items' public paths are known.
    let mut public = HashMap::new();
    for package in ["sandbox-template-runtime", "sandbox-template-dsl", "sandbox-template-server", "sandbox-template"] {
        let items = public_items(&rustdoc_json(package), &mut public);
        insta::assert_snapshot!(package, items);
    }
}
