//! Image-config inheritance (Novita): what a base image declares (ENV, WORKDIR, ENTRYPOINT/CMD)
//! and how it is applied to a template, as novita-sandbox 2.1.1's `resolveInheritedConfig` does.
//!
//! This part is pure (no network): [`ImageConfig`] and [`Template::apply_image_config`]. Reading
//! the config from a registry is [`cloud::ImageConfigClient`](crate::cloud::ImageConfigClient)
//! (feature `cloud`).

use std::time::Duration;

use crate::ready::ReadyCmd;
use crate::step::{SourceLocation, Step, StepKind};
use crate::template::{Base, Template};

/// What a base image declares in its config blob, as novita-sandbox reads it: the environment
/// (without the variables a shell sets for itself), the working folder, the entry point and the
/// command.
///
/// ```
/// use sandbox_template_runtime::ImageConfig;
/// let config = ImageConfig::from_config_blob(
///     br#"{"config": {"Env": ["PATH=/usr/local/bin:/usr/bin", "HOME=/root"], "WorkingDir": "/app", "Cmd": ["python3"]}}"#,
/// )
/// .unwrap();
/// assert_eq!(config.env, [("PATH".to_owned(), "/usr/local/bin:/usr/bin".to_owned())]);
/// assert_eq!(config.workdir.as_deref(), Some("/app"));
/// assert_eq!(config.start_cmd().as_deref(), Some("python3"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImageConfig {
    /// `ENV`, in the image's order; a name set twice keeps its first place and its last value.
    /// `HOSTNAME`, `HOME`, `PWD`, `OLDPWD`, `SHLVL`, `_` and `TERM` are left out, as
    /// novita-sandbox leaves them out.
    pub env: Vec<(String, String)>,
    /// `WORKDIR` (`None` when empty or unset).
    pub workdir: Option<String>,
    /// `ENTRYPOINT`.
    pub entrypoint: Vec<String>,
    /// `CMD`.
    pub cmd: Vec<String>,
}

/// Variables novita-sandbox does not carry over from an image (`SKIP_ENV`): each shell or
/// session sets its own.
const SKIP_ENV: &[&str] = &["HOSTNAME", "HOME", "PWD", "OLDPWD", "SHLVL", "_", "TERM"];

/// How long the ready check waits when the start command came from the image and the template
/// set no ready check: novita-sandbox's `waitForTimeout(20_000)`.
const INHERITED_READY_WAIT: Duration = Duration::from_secs(20);

impl ImageConfig {
    /// An empty config: nothing to inherit.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads an image config blob (the OCI/Docker image configuration JSON). Its `config`
    /// object holds `Env`, `WorkingDir`, `Entrypoint` and `Cmd`; any of them may be missing or
    /// `null`. An `Env` entry without `=` is skipped.
    pub fn from_config_blob(blob: &[u8]) -> Result<ImageConfig, serde_json::Error> {
        #[derive(serde::Deserialize)]
        struct Blob {
            #[serde(default)]
            config: Option<Declared>,
        }
        #[derive(serde::Deserialize, Default)]
        #[serde(rename_all = "PascalCase")]
        struct Declared {
            #[serde(default)]
            env: Option<Vec<String>>,
            #[serde(default)]
            working_dir: Option<String>,
            #[serde(default)]
            entrypoint: Option<Vec<String>>,
            #[serde(default)]
            cmd: Option<Vec<String>>,
        }
        let declared = serde_json::from_slice::<Blob>(blob)?.config.unwrap_or_default();
        let mut env: Vec<(String, String)> = Vec::new();
        for entry in declared.env.unwrap_or_default() {
            let Some((name, value)) = entry.split_once('=') else { continue };
            if SKIP_ENV.contains(&name) {
                continue;
            }
            match env.iter_mut().find(|(k, _)| k == name) {
                Some(slot) => slot.1 = value.to_owned(),
                None => env.push((name.to_owned(), value.to_owned())),
            }
        }
        Ok(ImageConfig {
            env,
            workdir: declared.working_dir.filter(|w| !w.is_empty()),
            entrypoint: declared.entrypoint.unwrap_or_default(),
            cmd: declared.cmd.unwrap_or_default(),
        })
    }

    /// What `docker run` would have started: ENTRYPOINT then CMD, each word shell-quoted unless
    /// it is plain (novita-sandbox's `effectiveStartCmd`); `None` when both are empty.
    ///
    /// ```
    /// use sandbox_template_runtime::ImageConfig;
    /// let mut c = ImageConfig::new();
    /// c.entrypoint = vec!["/bin/sh".into(), "-c".into()];
    /// c.cmd = vec!["echo $HOME".into()];
    /// assert_eq!(c.start_cmd().as_deref(), Some("/bin/sh -c 'echo $HOME'"));
    /// ```
    pub fn start_cmd(&self) -> Option<String> {
        let words: Vec<String> = self.entrypoint.iter().chain(&self.cmd).map(|w| quote_word(w)).collect();
        (!words.is_empty()).then(|| words.join(" "))
    }
}

/// novita-sandbox's `shellQuoteArg`: plain words as they are, anything else single-quoted, a quote
/// inside written `'\''`. Not [`crate::shell_quote`]: that is `shlex.quote`, which writes it
/// `'"'"'`, and these bytes go into JSON that must equal novita-sandbox's.
fn quote_word(word: &str) -> String {
    let plain = !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphanumeric() || b"_./:@%+=,-".contains(&b));
    if plain { word.to_owned() } else { format!("'{}'", word.replace('\'', "'\\''")) }
}

impl Template {
    /// Whether the Novita JSON and the Novita cloud build read the base image's config from its
    /// registry and apply it ([`Template::apply_image_config`]). On by default for an image base
    /// (`from_image`, `from_python_image` & co., `from_base_image`), as novita-sandbox's
    /// `fromImage(image, credentials, { inheritConfig })`; always set by `from_dockerfile`, as
    /// novita-sandbox always does for a Dockerfile's base. Off for a template that names no base
    /// and for a template base. E2B never inherits: its SDK reads no image config.
    ///
    /// Call it after the `from_*` call (which sets it again). Nothing is read until
    /// `cloud::ImageConfigClient::resolve` (feature `cloud`) runs: the sync
    /// [`Template::to_json`] never reads a registry, and prints what novita-sandbox prints when
    /// the registry cannot be read.
    ///
    /// ```
    /// use sandbox_template_runtime::Template;
    /// assert!(Template::new().from_python_image("3.12").inherits_config());
    /// assert!(!Template::new().from_python_image("3.12").inherit_config(false).inherits_config());
    /// assert!(!Template::new().from_template("my-base").inherits_config());
    /// ```
    pub fn inherit_config(mut self, yes: bool) -> Self {
        self.inherit_config = yes;
        self
    }

    /// Whether the base image's config will be inherited ([`Template::inherit_config`]): the
    /// option is on, the base is an image and it was not applied yet.
    pub fn inherits_config(&self) -> bool {
        self.inherit_config && !matches!(self.base, Base::Template(_))
    }

    /// The image whose config would be inherited: the base image, or the provider's default
    /// base for [`Base::ProviderDefault`] (`from_base_image`).
    #[cfg(feature = "cloud")]
    pub(crate) fn inherited_image(&self, provider: crate::Provider) -> Option<String> {
        if !self.inherits_config() {
            return None;
        }
        match &self.base {
            Base::Image(i) => Some(i.clone()),
            Base::ProviderDefault => Some(provider.default_base_image().to_owned()),
            Base::Template(_) => None,
        }
    }

    /// Applies what the base image declares, as novita-sandbox's `resolveInheritedConfig` does,
    /// and turns inheritance off (it is applied once):
    ///
    /// * the image's ENV goes under the template's own variables (a variable the template sets
    ///   keeps the image's place and the template's value) in the env step Novita gets;
    /// * its WORKDIR is added as a last `WORKDIR` step when the template has none;
    /// * its ENTRYPOINT + CMD become the start command when the template has none, with a
    ///   20-second wait as the ready check unless the template set one.
    ///
    /// The template's own settings always win, as a Dockerfile's win over its base image's.
    ///
    /// ```
    /// use sandbox_template_runtime::{ImageConfig, Provider, Template};
    /// let mut config = ImageConfig::new();
    /// config.env = vec![("PATH".into(), "/usr/local/bin:/usr/bin".into())];
    /// config.cmd = vec!["python3".into()];
    /// let t = Template::new().from_python_image("3.12").set_envs([("APP", "1")]).apply_image_config(&config);
    /// assert_eq!(t.start_cmd(), Some("python3"));
    /// assert!(!t.inherits_config());
    /// let json = t.to_json_with(sandbox_template_runtime::JsonOptions::for_provider(Provider::Novita)).unwrap();
    /// assert!(json.contains("\"readyCmd\": \"sleep 20\""));
    /// ```
    #[track_caller]
    pub fn apply_image_config(mut self, config: &ImageConfig) -> Template {
        self.inherit_config = false;
        self.image_env = config.env.clone();
        if let Some(workdir) = &config.workdir
            && !self.steps.iter().any(|s| matches!(s.kind, StepKind::Workdir(_)))
        {
            let location = self.base_location.unwrap_or_else(SourceLocation::caller);
            self.steps.push(Step { kind: StepKind::Workdir(workdir.clone()), force: false, location });
        }
        if let Some(start) = config.start_cmd()
            && self.start_cmd.is_none()
        {
            self.start_cmd = Some(start);
            if self.ready_cmd.is_none() {
                self.ready_cmd = Some(ReadyCmd::Timeout(INHERITED_READY_WAIT));
            }
        }
        self
    }

    /// The environment applied from the base image ([`Template::apply_image_config`]).
    pub fn image_env(&self) -> &[(String, String)] {
        &self.image_env
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_like_novita_sandbox() {
        assert_eq!(quote_word("node"), "node");
        assert_eq!(quote_word("--port=3000"), "--port=3000");
        assert_eq!(quote_word(""), "''");
        assert_eq!(quote_word("it's"), "'it'\\''s'");
        assert_eq!(quote_word("a b"), "'a b'");
    }
}
