//! Serialization: the build request JSON (`to_json`) and the display Dockerfile (`to_dockerfile`).
//!
//! The JSON follows the JS SDK byte for byte (key order, 2-space indent), see
//! `tests/conformance/sdk/CONFORMANCE.md` in the repository; `filesHash` follows the Python SDK's algorithm.

use serde_json::{Map, Value};

use crate::error::Error;
use crate::provider::Provider;
use crate::registry::RegistryCredentials;
use crate::step::StepKind;
use crate::template::{Base, Template};
use crate::wire::{BuildRequest, WireStep};

/// How to serialize a template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct JsonOptions {
    /// Target service.
    pub provider: Provider,
    /// Compute `filesHash` for COPY steps (reads the context). The SDKs' `computeHashes`.
    pub compute_hashes: bool,
    /// 2-space indented (like `Template.toJSON`) instead of compact (like the wire body).
    pub pretty: bool,
}

impl Default for JsonOptions {
    fn default() -> Self {
        JsonOptions { provider: Provider::E2b, compute_hashes: true, pretty: true }
    }
}

impl JsonOptions {
    /// Defaults for `provider`.
    pub fn for_provider(provider: Provider) -> Self {
        JsonOptions { provider, ..Self::default() }
    }
    /// Compact output (as sent on the wire).
    pub fn compact(mut self) -> Self {
        self.pretty = false;
        self
    }
    /// Leave out `filesHash`.
    pub fn without_hashes(mut self) -> Self {
        self.compute_hashes = false;
        self
    }
}

impl Template {
    /// The build request as the official JS SDK's `Template.toJSON` prints it for the template's
    /// provider (E2B unless [`Template::for_provider`] says otherwise): 2-space indented, with
    /// `filesHash` for every COPY step.
    ///
    /// Validates first; reads the context (to hash COPY sources) and secrets. Reads no registry:
    /// novita-sandbox's `toJSON` also applies the base image's config
    /// ([`Template::inherit_config`]), which `cloud::ImageConfigClient::resolve` does before this
    /// (as `sandbox-template json` and Novita builds do); without it, the output is
    /// novita-sandbox's for a registry it cannot read.
    ///
    /// ```
    /// use sandbox_template_runtime::{Template, wait_for_port};
    /// let json = Template::new()
    ///     .from_python_image("3.12")
    ///     .run_cmd("pip install flask")
    ///     .set_start_cmd("python app.py", wait_for_port(8000))
    ///     .to_json()
    ///     .unwrap();
    /// assert!(json.starts_with("{\n  \"startCmd\": \"python app.py\","));
    /// ```
    pub fn to_json(&self) -> Result<String, Error> {
        self.to_json_with(JsonOptions::for_provider(self.provider))
    }

    /// [`Template::to_json`] for another provider or format.
    pub fn to_json_with(&self, options: JsonOptions) -> Result<String, Error> {
        let request = self.build_request(options.provider, options.compute_hashes)?;
        let text =
            if options.pretty { serde_json::to_string_pretty(&request) } else { serde_json::to_string(&request) };
        Ok(text.expect("a BuildRequest always serializes"))
    }

    /// The build request as a value (validated, hashed, secrets read).
    pub fn build_request(&self, provider: Provider, compute_hashes: bool) -> Result<BuildRequest, Error> {
        self.validate_for(provider)?;
        let hashes = if compute_hashes { self.files_hashes()? } else { vec![None; self.steps.len()] };
        self.build_request_with_hashes(provider, &hashes)
    }

    /// The `filesHash` of every COPY step (`None` for other steps), in step order.
    /// Hashed in parallel ([`BuildContext::files_hashes`](crate::context::BuildContext::files_hashes));
    /// the context is only read when there is a COPY step.
    pub fn files_hashes(&self) -> Result<Vec<Option<String>>, Error> {
        if !self.steps.iter().any(|s| matches!(s.kind, StepKind::Copy(_))) {
            return Ok(vec![None; self.steps.len()]);
        }
        self.build_context()?.files_hashes(&self.steps)
    }

    /// The build request with hashes computed elsewhere (the cloud client hashes while it
    /// prepares the uploads).
    pub(crate) fn build_request_with_hashes(
        &self,
        provider: Provider,
        hashes: &[Option<String>],
    ) -> Result<BuildRequest, Error> {
        let mut steps: Vec<WireStep> = self
            .steps
            .iter()
            .zip(hashes.iter().chain(std::iter::repeat(&None)))
            .map(|(step, hash)| {
                let wire = step.to_wire();
                // novita-sandbox has no `gzip` option and never sends the key (it always
                // compresses); `gzip = false` was refused by validation.
                let gzip = if provider == Provider::Novita { None } else { wire.gzip };
                WireStep { files_hash: hash.clone(), gzip, ..wire }
            })
            .collect();
        if provider == Provider::Novita
            && let Some(step) = novita_env_files_step(self)
        {
            steps.push(step);
        }
        let (from_image, from_template) = match &self.base {
            Base::ProviderDefault => (Some(provider.default_base_image().to_owned()), None),
            Base::Image(i) => (Some(i.clone()), None),
            Base::Template(t) => (None, Some(t.clone())),
        };
        let from_image_registry = match &self.registry {
            Some(r) => Some(registry_json(r, self)?),
            None => None,
        };
        Ok(BuildRequest {
            start_cmd: self.start_cmd.clone(),
            ready_cmd: self.ready_cmd.as_ref().map(|r| r.command(provider)),
            // E2B refuses a pre-boot script in validation.
            pre_boot_script: self.pre_boot_script.clone(),
            steps,
            force: self.force,
            from_image,
            from_template,
            from_image_registry,
        })
    }

    /// A Dockerfile showing the template, as the SDKs' `Template.toDockerfile` prints it.
    ///
    /// Lossy and for display: users, modes, the ready check and registry credentials are not
    /// represented. Templates based on another template cannot be shown this way.
    ///
    /// ```
    /// use sandbox_template_runtime::Template;
    /// let df = Template::new().from_node_image("22").npm_install("express").to_dockerfile().unwrap();
    /// assert_eq!(df, "FROM node:22\nRUN npm install express\n");
    /// ```
    pub fn to_dockerfile(&self) -> Result<String, Error> {
        self.to_dockerfile_for(self.provider)
    }

    /// [`Template::to_dockerfile`] for `provider` (which decides the default base image).
    pub fn to_dockerfile_for(&self, provider: Provider) -> Result<String, Error> {
        // The SDKs reject these templates when the builder call is made, so they never print one.
        self.validate_for(provider)?;
        let image = match &self.base {
            Base::Template(_) => {
                let api = match provider {
                    Provider::E2b => "E2B API",
                    Provider::Novita => "Novita AI sandbox API",
                };
                return Err(Error::Unsupported(format!(
                    "Cannot convert template built from another template to Dockerfile. Templates based on other templates can only be built using the {api}."
                )));
            }
            Base::ProviderDefault => provider.default_base_image().to_owned(),
            Base::Image(i) => i.clone(),
        };
        let mut out = format!("FROM {image}\n");
        for step in &self.steps {
            let i = step.to_wire();
            let line = match i.kind.as_str() {
                "RUN" => format!("RUN {}", i.args[0]),
                "COPY" => format!("COPY {} {}", i.args[0], i.args[1]),
                "ENV" => {
                    let pairs: Vec<String> = i.args.chunks(2).map(|kv| format!("{}={}", kv[0], kv[1])).collect();
                    format!("ENV {}", pairs.join(" "))
                }
                kind => format!("{kind} {}", i.args.join(" ")),
            };
            out.push_str(&line);
            out.push('\n');
        }
        if let Some(start) = &self.start_cmd {
            out.push_str(&format!("ENTRYPOINT {start}\n"));
        }
        Ok(out)
    }
}

fn registry_json(registry: &RegistryCredentials, t: &Template) -> Result<Value, Error> {
    let ctx = t.context_dir();
    let mut m = Map::new();
    m.insert("type".into(), registry.kind().into());
    let mut put = |k: &str, v: String| {
        m.insert(k.to_owned(), Value::String(v));
    };
    match registry {
        RegistryCredentials::Basic { username, password } => {
            put("username", username.reveal(ctx)?);
            put("password", password.reveal(ctx)?);
        }
        RegistryCredentials::Aws { access_key_id, secret_access_key, region } => {
            put("awsAccessKeyId", access_key_id.reveal(ctx)?);
            put("awsSecretAccessKey", secret_access_key.reveal(ctx)?);
            put("awsRegion", region.clone());
        }
        RegistryCredentials::Gcp(sa) => put("serviceAccountJson", sa.secret().reveal(ctx)?),
        RegistryCredentials::Huawei { access_key_id, secret_access_key, region } => {
            put("accessKeyId", access_key_id.reveal(ctx)?);
            put("secretAccessKey", secret_access_key.reveal(ctx)?);
            put("region", region.clone());
        }
        RegistryCredentials::Oci(oci) => {
            put("tenancyOcid", oci.tenancy_ocid.clone());
            put("userOcid", oci.user_ocid.clone());
            put("fingerprint", oci.fingerprint.clone());
            put("privateKey", oci.private_key.reveal(ctx)?);
            put("region", oci.region.clone());
        }
    }
    Ok(Value::Object(m))
}

/// Novita sandboxes read environment variables from `/etc/profile.d` and `/etc/environment`, not
/// from the image config; novita-sandbox appends one root `RUN` that writes every `ENV` there
/// (`envFiles.ts`). Same script, so templates behave the same on Novita whichever SDK built them.
///
/// The script expands each value against the build's environment (`$VAR`, `${VAR}`), exporting
/// it before the next, as novita-sandbox 2.1.1 does; values set with
/// [`EnvOptions::literal`](crate::EnvOptions::literal) are written with every `$` escaped.
fn novita_env_files_step(t: &Template) -> Option<WireStep> {
    let envs = merged_envs(t);
    if envs.is_empty() {
        return None;
    }
    let script = novita_env_script(&envs);
    Some(WireStep {
        kind: "RUN".to_owned(),
        args: vec![
            format!(
                "echo {} | base64 -d > /tmp/.novita-image-env.sh && sh /tmp/.novita-image-env.sh && rm -f /tmp/.novita-image-env.sh",
                base64(script.as_bytes())
            ),
            "root".to_owned(),
        ],
        force: t.force_next_layer,
        force_upload: None,
        resolve_symlinks: None,
        gzip: None,
        files_hash: None,
    })
}

/// Every variable the template sets (after the base image's, when inherited), as novita-sandbox accumulates them (`{...envs, ...more}`): in
/// the order first set, with the last value, and whether that value is literal.
fn merged_envs(t: &Template) -> Vec<(&str, &str, bool)> {
    // The base image's ENV first (`{...image.env, ...envs}`, `resolveInheritedConfig`).
    let mut envs: Vec<(&str, &str, bool)> = t.image_env.iter().map(|(k, v)| (k.as_str(), v.as_str(), false)).collect();
    for step in &t.steps {
        if let StepKind::Env { vars, literal } = &step.kind {
            for (k, v) in vars {
                match envs.iter_mut().find(|(key, _, _)| key == k) {
                    Some(slot) => (slot.1, slot.2) = (v, *literal),
                    None => envs.push((k, v, *literal)),
                }
            }
        }
    }
    envs
}

/// The script itself (`envFilesScript`), byte for byte.
fn novita_env_script(envs: &[(&str, &str, bool)]) -> String {
    let mut script = String::from("set -e\n: > /etc/profile.d/99-image-env.sh\n: > /etc/environment\n");
    for (k, v, literal) in envs {
        let value = if *literal { literal_double_quoted(v) } else { expandable_double_quoted(v) };
        script.push_str(&format!(
            "v=\"{value}\"\nexport {k}=\"$v\"\nprintf \"export {k}='%s'\\n\" \"$(printf '%s' \"$v\" | sed \"s/'/'\\\\\\\\''/g\")\" >> /etc/profile.d/99-image-env.sh\ncase \"$v\" in\n  *'\"'*) v= ;;\nesac\n[ -n \"$v\" ] && [ \"$(printf '%s' \"$v\" | wc -l)\" -eq 0 ] && printf '{k}=%s\\n' \"$v\" >> /etc/environment\ntrue\n",
        ));
    }
    script.push_str("chmod 0644 /etc/profile.d/99-image-env.sh /etc/environment");
    script
}

/// The inside of novita-sandbox's `expandableDoubleQuote`: `\`, `"` and backticks escaped, and
/// `$(` (no command substitution), so `$VAR` and `${VAR}` expand and nothing else runs.
fn expandable_double_quoted(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('`', "\\`").replace("$(", "\\$(")
}

/// The inside of a shell double-quoted string that expands nothing: a literal value.
fn literal_double_quoted(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if matches!(c, '\\' | '"' | '$' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Standard base64 with padding. Hand-written: this is its only use, 15 lines, and it keeps the
/// macro's dependency tree (which includes this crate) free of another crate.
pub(crate) fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_pads() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }
}
