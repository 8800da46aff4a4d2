//! Registry logins for private base images.
//!
//! The password goes to `podman login --password-stdin` / `docker login --password-stdin`: never on a
//! command line, never in a log. The engine stores the login in a private temporary folder (mode
//! 0700, removed when the build ends) instead of the user's own auth file, so nothing is left on
//! disk after the build.

use std::path::PathBuf;
use std::time::Duration;

use crate::ImageRef;
use crate::registry::RegistryCredentials;
use crate::template::Template;

use super::engine::{Engine, EngineKind, last_lines, run_with_input};
use super::error::LocalError;

/// A temporary engine auth store; removed on drop.
pub(super) struct AuthDir {
    dir: PathBuf,
}

impl AuthDir {
    fn create() -> std::io::Result<AuthDir> {
        use std::os::unix::fs::DirBuilderExt;
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        let dir = std::env::temp_dir().join(format!("sandbox-template-auth-{}-{nanos}", std::process::id()));
        std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
        Ok(AuthDir { dir })
    }

    /// The engine arguments that use this store (before the subcommand for Docker, after it for
    /// Podman).
    pub(super) fn global_args(&self, kind: EngineKind) -> Vec<String> {
        match kind {
            EngineKind::Docker => vec!["--config".into(), self.dir.display().to_string()],
            EngineKind::Podman => Vec::new(),
        }
    }

    /// Subcommand arguments (Podman's `--authfile`).
    pub(super) fn command_args(&self, kind: EngineKind) -> Vec<String> {
        match kind {
            EngineKind::Docker => Vec::new(),
            EngineKind::Podman => vec!["--authfile".into(), self.auth_file().display().to_string()],
        }
    }

    fn auth_file(&self) -> PathBuf {
        self.dir.join("auth.json")
    }

    #[cfg(test)]
    pub(super) fn path(&self) -> &std::path::Path {
        &self.dir
    }
}

impl Drop for AuthDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The registry host of an image reference (`docker.io` when the name has none). A reference
/// that does not parse is left to the engine to refuse; its login goes to Docker Hub.
pub(super) fn registry_host(image: &str) -> String {
    ImageRef::parse(image).map_or_else(|_| "docker.io".to_owned(), |r| r.registry().to_owned())
}

/// How long a login may take.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(60);

/// Logs in to the registry of `image` with the template's credentials.
/// `extra` goes to `login` as is (`--tls-verify=false`).
pub(super) fn login(
    engine: &Engine,
    template: &Template,
    image: &str,
    extra: &[&str],
) -> Result<Option<AuthDir>, LocalError> {
    // Without credentials the engine uses its own logins (the user's `podman login`).
    let Some(credentials) = template.registry() else { return Ok(None) };
    let location = template.base_location();
    let context = template.context_dir();
    let (username, password) = match credentials {
        RegistryCredentials::Basic { username, password } => (username.reveal(context)?, password.reveal(context)?),
        // Google's registries take a service-account key as the password of `_json_key`.
        RegistryCredentials::Gcp(sa) => ("_json_key".to_owned(), sa.secret().reveal(context)?),
        other => {
            return Err(LocalError::Unsupported {
                what: format!("`{}` registry credentials need the cloud's own CLI to log in locally", other.kind()),
                location,
                help: format!(
                    "log in once yourself (e.g. `aws ecr get-login-password | {} login --username AWS --password-stdin {}`) \
                     and pull the image; a base image already present locally is used as is",
                    engine.kind.program(),
                    registry_host(image)
                ),
            });
        }
    };
    let registry = registry_host(image);
    let auth = AuthDir::create()
        .map_err(|source| LocalError::Io { what: "cannot create a temporary folder".into(), source })?;
    let mut cmd = engine.command();
    cmd.args(auth.global_args(engine.kind)).arg("login").args(auth.command_args(engine.kind));
    // The user name is not a secret to the registry (it shows in its logs and UIs); the password is.
    cmd.args(extra).args(["--username", &username, "--password-stdin", &registry]);
    let out = run_with_input(&mut cmd, Some(password.clone().into_bytes()), LOGIN_TIMEOUT)
        .map_err(|source| LocalError::Io { what: format!("cannot run `{} login`", engine.kind.program()), source })?;
    if out.status.success() && !out.timed_out {
        return Ok(Some(auth));
    }
    let message = if out.timed_out {
        "no answer from the registry".to_owned()
    } else {
        last_lines(&redact(&out.stderr, &[&password, &username]), 3)
    };
    Err(LocalError::Login { registry, message, location })
}

/// `text` with every non-empty secret replaced by `<redacted>`.
pub(super) fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for s in secrets.iter().filter(|s| s.len() >= 3) {
        out = out.replace(*s, "<redacted>");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_hosts() {
        assert_eq!(registry_host("python:3.12"), "docker.io");
        assert_eq!(registry_host("library/python"), "docker.io");
        assert_eq!(registry_host("ghcr.io/org/img:1"), "ghcr.io");
        assert_eq!(registry_host("localhost:5000/img"), "localhost:5000");
        assert_eq!(registry_host("localhost/img"), "localhost");
        assert_eq!(registry_host("index.docker.io/org/img"), "docker.io");
        // Docker reads an upper-case first component as a registry (this used to say docker.io).
        assert_eq!(registry_host("Registry/img"), "Registry");
    }

    #[test]
    fn redaction_removes_every_occurrence() {
        assert_eq!(redact("bad password hunter2 (hunter2)", &["hunter2"]), "bad password <redacted> (<redacted>)");
    }

    #[test]
    fn the_auth_folder_is_private_and_removed() {
        use std::os::unix::fs::PermissionsExt;
        let auth = AuthDir::create().unwrap();
        let path = auth.path().to_owned();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o700);
        drop(auth);
        assert!(!path.exists());
    }
}
