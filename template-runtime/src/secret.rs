//! Secrets: registry passwords, cloud keys, service-account JSON.
//!
//! A [`Secret`] says *where* a value comes from (a value handed over at run time, an environment
//! variable, a file) and is read only when a build needs it. Its `Debug` and `Display` never show
//! the value, so a template can be logged or printed in an error without leaking credentials.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::Error;

/// A credential used to pull a private base image.
///
/// ```
/// use sandbox_template_runtime::Secret;
/// let password = Secret::from_env("REGISTRY_PASSWORD");
/// assert_eq!(format!("{password:?}"), r#"Secret(env "REGISTRY_PASSWORD")"#);
/// let inline = Secret::new("hunter2");
/// assert_eq!(format!("{inline:?}"), "Secret(<redacted>)");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Source);

#[derive(Clone, PartialEq, Eq)]
enum Source {
    Value(String),
    Env(String),
    File(PathBuf),
}

impl Secret {
    /// A secret whose value is already known (read from a vault, a config file, an argument).
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Source::Value(value.into()))
    }

    /// A secret read from the environment variable `var` when the build runs.
    pub fn from_env(var: impl Into<String>) -> Self {
        Secret(Source::Env(var.into()))
    }

    /// A secret read from a file when the build runs. A relative path is resolved against the
    /// template's context folder.
    pub fn from_file(path: impl Into<PathBuf>) -> Self {
        Secret(Source::File(path.into()))
    }

    /// Whether this is a value handed over in code that is empty (a missing credential).
    pub fn is_empty_value(&self) -> bool {
        matches!(&self.0, Source::Value(v) if v.is_empty())
    }

    /// The environment variable this secret is read from, if any.
    pub fn env_var(&self) -> Option<&str> {
        match &self.0 {
            Source::Env(var) => Some(var),
            _ => None,
        }
    }

    /// The file this secret is read from, if any.
    pub fn file_path(&self) -> Option<&Path> {
        match &self.0 {
            Source::File(path) => Some(path),
            _ => None,
        }
    }

    /// Reads the value. `context` resolves relative file paths.
    ///
    /// Errors name the variable or file, never the value.
    pub fn reveal(&self, context: &Path) -> Result<String, Error> {
        match &self.0 {
            Source::Value(v) => Ok(v.clone()),
            Source::Env(var) => match std::env::var(var) {
                Ok(v) if !v.is_empty() => Ok(v),
                Ok(_) => Err(Error::SecretUnavailable {
                    what: format!("environment variable `{var}` is empty"),
                    help: format!("set `{var}` to the credential before building"),
                }),
                Err(_) => Err(Error::SecretUnavailable {
                    what: format!("environment variable `{var}` is not set"),
                    help: format!("set `{var}` to the credential before building"),
                }),
            },
            Source::File(path) => {
                let full = context.join(path);
                std::fs::read_to_string(&full).map_err(|e| Error::SecretUnavailable {
                    what: format!("cannot read secret file `{}`: {e}", full.display()),
                    help: "check the path; relative paths are resolved against the template's context folder"
                        .to_owned(),
                })
            }
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Source::Value(_) => f.write_str("Secret(<redacted>)"),
            Source::Env(var) => write!(f, "Secret(env {var:?})"),
            Source::File(path) => write!(f, "Secret(file {:?})", path.display().to_string()),
        }
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("p@ssw0rd-very-secret");
        assert!(!format!("{s:?} {s}").contains("p@ssw0rd"));
    }

    #[test]
    fn missing_env_var_names_the_variable_not_a_value() {
        let s = Secret::from_env("SANDBOX_TEMPLATE_TEST_SURELY_UNSET");
        let err = s.reveal(Path::new(".")).unwrap_err().to_string();
        assert!(err.contains("SANDBOX_TEMPLATE_TEST_SURELY_UNSET"), "{err}");
    }
}
