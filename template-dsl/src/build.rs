//! The build.rs API: every `.tmpl` file of a folder becomes a `pub static` in `OUT_DIR`.
//!
//! ```no_run
//! // build.rs (with `sandbox-template = { features = ["build-script"] }` in [build-dependencies])
//! fn main() -> Result<(), sandbox_template_dsl::build::BuildError> {
//!     sandbox_template_dsl::build::compile_dir("templates")
//! }
//! ```
//!
//! ```ignore
//! // src/lib.rs (not a doctest: it needs the build script's OUT_DIR; see examples/buildrs): `templates/api-server.tmpl` is `templates::API_SERVER`.
//! mod templates {
//!     sandbox_template::include_templates!();
//! }
//! ```
//!
//! Cargo reruns the build script when a template, the folder, or a file a template copies
//! changes. Problems fail the build with the same rustc-style diagnostics as `sandbox-template
//! check`.

use std::fmt;
use std::path::{Path, PathBuf};

use quote::{format_ident, quote};

/// The file written into `OUT_DIR` (included by `sandbox_template::include_templates!()`).
pub const OUT_FILE: &str = "sandbox_templates.rs";

/// The name of the generated list of every template; no `.tmpl` file may take it.
const ALL: &str = "ALL";

/// Why the templates could not be compiled: the rendered diagnostics of every file.
#[derive(Clone, PartialEq, Eq)]
pub struct BuildError(pub String);

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.trim_end())
    }
}

// `fn main() -> Result<(), BuildError>` prints `Error: {err:?}`: the `Debug` form is the
// diagnostics without the first one's own `error: `, so the build log reads `Error: <message>`
// and not `Error:` followed by `error: <message>`.
impl fmt::Debug for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.trim_end();
        f.write_str(text.strip_prefix("error: ").unwrap_or(text))
    }
}

impl std::error::Error for BuildError {}

/// The constant name for a template file: `api-server.tmpl` -> `API_SERVER`.
pub fn const_name(file: &Path) -> Option<String> {
    let stem = file.file_stem()?.to_str()?;
    let name: String =
        stem.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    let ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && name != "_";
    ok.then_some(name)
}

/// Compiles every `*.tmpl` in `dir` (relative to the package root) into `OUT_DIR/sandbox_templates.rs`.
pub fn compile_dir(dir: impl AsRef<Path>) -> Result<(), BuildError> {
    let out_dir = std::env::var_os("OUT_DIR")
        .ok_or_else(|| BuildError("error: OUT_DIR is not set: call `compile_dir` from a build script".into()))?;
    let (code, inputs) = generate(dir.as_ref())?;
    for input in inputs {
        println!("cargo:rerun-if-changed={}", input.display());
    }
    let out = Path::new(&out_dir).join(OUT_FILE);
    std::fs::write(&out, code).map_err(|e| BuildError(format!("error: cannot write `{}`: {e}", out.display())))
}

/// The generated Rust source for `dir`, and every file it depends on (for `rerun-if-changed`).
///
/// The source is formatted like `rustfmt` would (one item per line), so that a user who opens
/// it from an error message or "go to definition" can read it. Each template is a
/// `pub static NAME: LazyLock<Template>`, and `ALL` lists them with their names (the file names
/// without `.tmpl`), in file name order. Every item is `#[allow(dead_code)]`: a new `.tmpl` that the
/// crate does not use yet is no warning pointing into `OUT_DIR`.
///
/// Errors name every file by its absolute path, the one that was tried.
pub fn generate(dir: &Path) -> Result<(String, Vec<PathBuf>), BuildError> {
    let abs = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&abs)
        .map_err(|e| {
            let mut out = String::new();
            crate::tmpl::push_rendered(
                &mut out,
                &format!("cannot read the template folder `{}`: {e}", abs.display()),
                &abs.display().to_string(),
                None,
                Some("the folder is relative to the package root (where its Cargo.toml is)"),
            );
            BuildError(out)
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "tmpl"))
        .collect();
    files.sort();
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut inputs = vec![abs.clone()];
    let mut errors = String::new();
    let mut items = Vec::new();
    let mut all = Vec::new();
    let mut names = std::collections::BTreeMap::new();
    for file in &files {
        inputs.push(file.clone());
        // Problems with the file as a whole: rendered like its diagnostics, the arrow naming it.
        let shown = file.display().to_string();
        let mut file_error = |message: String, help: &str| {
            crate::tmpl::push_rendered(&mut errors, &message, &shown, None, Some(help));
        };
        let Some(name) = const_name(file) else {
            file_error(
                format!("the file name of `{shown}` cannot name a Rust constant"),
                "start the file name with a letter, e.g. `api.tmpl`",
            );
            continue;
        };
        if name == ALL {
            file_error(
                format!("`{shown}` would become the constant `{ALL}`, which lists every template"),
                "rename the file",
            );
            continue;
        }
        if let Some(other) = names.insert(name.clone(), file.clone()) {
            file_error(
                format!("`{}` and `{shown}` both become the constant `{name}`", other.display()),
                "rename one of them",
            );
            continue;
        }
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                file_error(format!("cannot read `{shown}`: {e}"), "check that the file is readable");
                continue;
            }
        };
        let parent = file.parent().map(Path::to_owned);
        match crate::tmpl::check_str(&text, &file.display().to_string(), parent.as_deref()) {
            Ok(checked) => {
                inputs.extend(checked.tracked.iter().cloned());
                let expr = crate::lower::lower(&checked);
                let ident = format_ident!("{name}");
                // The doc names the file as the user's crate does (relative to its root).
                let doc = format!(" The template in `{}`.", file.strip_prefix(&cwd).unwrap_or(file).display());
                items.push(quote! {
                    #[doc = #doc]
                    #[allow(dead_code)]
                    pub static #ident: ::sandbox_template::__private::LazyLock<::sandbox_template::__private::Template> =
                        ::sandbox_template::__private::LazyLock::new(|| #expr);
                });
                let stem = file.file_stem().unwrap_or_default().to_string_lossy().into_owned();
                all.push(quote!((#stem, &#ident)));
            }
            Err(e) => errors.push_str(&e.rendered),
        }
    }
    if !errors.is_empty() {
        return Err(BuildError(errors));
    }
    let shown = abs.strip_prefix(&cwd).unwrap_or(&abs).display().to_string();
    let all_doc =
        format!(" Every template in `{shown}`, with its name (the file name without `.tmpl`), in file name order.");
    items.push(quote! {
        #[doc = #all_doc]
        #[allow(dead_code)]
        pub static ALL: &[(
            &str,
            &::sandbox_template::__private::LazyLock<::sandbox_template::__private::Template>,
        )] = &[#(#all),*];
    });
    let code: Vec<String> = items.into_iter().map(pretty).collect();
    Ok((
        format!("// Generated by sandbox-template's build script from `{shown}`. Do not edit.\n\n{}", code.join("\n")),
        inputs,
    ))
}

/// Formats a generated item like `rustfmt`. Should the tokens not parse (they are built from
/// checked statements, so that is a bug), the unformatted tokens still compile.
fn pretty(code: proc_macro2::TokenStream) -> String {
    match syn::parse2::<syn::File>(code.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(_) => format!("{code}\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_names_come_from_file_names() {
        assert_eq!(const_name(Path::new("t/api-server.tmpl")).as_deref(), Some("API_SERVER"));
        assert_eq!(const_name(Path::new("worker.v2.tmpl")).as_deref(), Some("WORKER_V2"));
        assert_eq!(const_name(Path::new("1st.tmpl")), None);
    }

    #[test]
    fn generates_one_static_per_file_and_fails_with_diagnostics() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("api.tmpl"), "from python \"3.12\";\nrun \"echo hi\";\n").unwrap();
        std::fs::write(dir.path().join("web-app.tmpl"), "from node;\nnpm install \"express\";\n").unwrap();
        let (code, inputs) = generate(dir.path()).unwrap();
        assert!(code.contains("pub static API: "), "{code}");
        assert!(code.contains("pub static WEB_APP: "), "{code}");
        assert!(inputs.iter().any(|p| p.ends_with("api.tmpl")));

        std::fs::write(dir.path().join("bad.tmpl"), "from python \"3.12\";\nrnu \"x\";\n").unwrap();
        let err = generate(dir.path()).unwrap_err();
        let shown = err.to_string();
        assert!(shown.contains("unknown statement `rnu`"), "{shown}");
        // The absolute path that was read, whatever the current folder.
        let bad = std::path::absolute(dir.path().join("bad.tmpl")).unwrap();
        assert!(shown.contains(&format!("{}:2:1", bad.display())), "{shown}");
    }

    #[test]
    fn generated_source_is_formatted_and_lists_every_template() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("api.tmpl"), "from python \"3.12\";\nrun \"echo hi\";\n").unwrap();
        std::fs::write(dir.path().join("queue-worker.tmpl"), "from node;\n").unwrap();
        let (code, _) = generate(dir.path()).unwrap();
        let lines: Vec<&str> = code.lines().collect();
        assert!(lines.len() > 10, "one item per line, not one long line:\n{code}");
        assert!(lines.iter().all(|l| l.len() <= 120), "{code}");
        // Items start their own lines, docs are `///` and the body is indented.
        assert!(lines.iter().any(|l| l.starts_with("pub static API: ")), "{code}");
        assert!(lines.iter().any(|l| l.starts_with("pub static QUEUE_WORKER: ")), "{code}");
        assert!(lines.iter().any(|l| l.starts_with("/// The template in `")), "{code}");
        assert!(lines.iter().any(|l| l.starts_with("    ")), "{code}");
        let all = code.find("pub static ALL: &[").expect("the list of every template");
        let list = &code[all..];
        let (api, worker) =
            (list.find("(\"api\", &API)").unwrap(), list.find("(\"queue-worker\", &QUEUE_WORKER)").unwrap());
        assert!(api < worker, "file name order:\n{list}");
        // No `dead_code` warning for a template the crate does not use (yet).
        assert_eq!(code.matches("#[allow(dead_code)]\npub static ").count(), 3, "{code}");
    }

    #[test]
    fn empty_folder_gives_an_empty_list() {
        let dir = tempfile::tempdir().unwrap();
        let (code, _) = generate(dir.path()).unwrap();
        assert!(code.contains("= &[];"), "{code}");
    }

    #[test]
    fn a_file_that_would_shadow_the_list_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("all.tmpl"), "from node;\n").unwrap();
        let err = generate(dir.path()).unwrap_err().to_string();
        assert!(err.contains("would become the constant `ALL`, which lists every template"), "{err}");
    }

    #[test]
    fn a_missing_folder_is_named_by_its_absolute_path_without_a_doubled_prefix() {
        let err = generate(Path::new("no-such-templates")).unwrap_err();
        let tried = std::env::current_dir().unwrap().join("no-such-templates");
        let shown = err.to_string();
        assert!(shown.starts_with(&format!("error: cannot read the template folder `{}`", tried.display())), "{shown}");
        // rustc's layout, as for a template's own diagnostics: the arrow, then the help.
        let layout = format!(" --> {}\n  |\n  = help: the folder is relative to the package root", tried.display());
        assert!(shown.contains(&layout), "{shown}");
        // `fn main() -> Result<(), BuildError>` prints `Error: ` and then the `Debug` form.
        let printed = format!("Error: {err:?}");
        assert!(printed.starts_with("Error: cannot read the template folder `/"), "{printed}");
        assert!(!printed.to_lowercase().contains("error: error"), "{printed}");
    }
}
