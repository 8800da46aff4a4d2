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

/// Why the templates could not be compiled: the rendered diagnostics of every file.
#[derive(Clone, PartialEq, Eq)]
pub struct BuildError(pub String);

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.trim_end())
    }
}

// `fn main() -> Result<(), BuildError>` prints the `Debug` form: make it the readable one.
impl fmt::Debug for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\n{self}")
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
pub fn generate(dir: &Path) -> Result<(String, Vec<PathBuf>), BuildError> {
    let abs = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&abs)
        .map_err(|e| BuildError(format!("error: cannot read template folder `{}`: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "tmpl"))
        .collect();
    files.sort();
    let mut inputs = vec![abs.clone()];
    let mut errors = String::new();
    let mut code = quote!();
    let mut names = std::collections::BTreeMap::new();
    for file in &files {
        inputs.push(file.clone());
        let shown = file.strip_prefix(std::env::current_dir().unwrap_or_default()).unwrap_or(file).to_owned();
        let Some(name) = const_name(file) else {
            errors.push_str(&format!(
                "error: `{}`: the file name must start with a letter to name a Rust constant\n\n",
                shown.display()
            ));
            continue;
        };
        if let Some(other) = names.insert(name.clone(), shown.clone()) {
            errors.push_str(&format!(
                "error: `{}` and `{}` both become the constant `{name}`\n  = help: rename one of them\n\n",
                other.display(),
                shown.display()
            ));
            continue;
        }
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                errors.push_str(&format!("error: cannot read `{}`: {e}\n\n", shown.display()));
                continue;
            }
        };
        let dir = file.parent().map(Path::to_owned);
        match crate::tmpl::check_str(&text, &shown.display().to_string(), dir.as_deref()) {
            Ok(checked) => {
                inputs.extend(checked.tracked.iter().cloned());
                let expr = crate::lower::lower(&checked);
                let ident = format_ident!("{name}");
                let doc = format!(" The template in `{}`.", shown.display());
                code.extend(quote! {
                    #[doc = #doc]
                    pub static #ident: ::sandbox_template::__private::LazyLock<::sandbox_template::__private::Template> =
                        ::sandbox_template::__private::LazyLock::new(|| #expr);
                });
            }
            Err(e) => errors.push_str(&e.rendered),
        }
    }
    if !errors.is_empty() {
        return Err(BuildError(errors));
    }
    Ok((format!("// Generated by sandbox-template from `{}`. Do not edit.\n{code}\n", dir.display()), inputs))
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
        assert!(code.contains("pub static API :"), "{code}");
        assert!(code.contains("pub static WEB_APP :"), "{code}");
        assert!(inputs.iter().any(|p| p.ends_with("api.tmpl")));

        std::fs::write(dir.path().join("bad.tmpl"), "from python \"3.12\";\nrnu \"x\";\n").unwrap();
        let err = generate(dir.path()).unwrap_err().to_string();
        assert!(err.contains("unknown statement `rnu`"), "{err}");
        assert!(err.contains("bad.tmpl:2:1"), "{err}");
    }
}
