//! The build request as it travels between a client and a build service
//! (`TemplateBuildStartV2` in `openapi-templates.yml`): the one model of it, written by JSON
//! export ([`Template::build_request`](crate::Template::build_request), which the cloud client
//! sends) and read by a server ([`Template::from_build_request`](crate::Template::from_build_request)).
//!
//! Serializing follows the JS SDK byte for byte (key order, absent keys left out, see
//! `e2b-reference/CONFORMANCE.md`); deserializing fills in what a client may leave out (`args`,
//! `force`, `steps`), as the API does.
//!
//! ```
//! use sandbox_template_runtime::Template;
//! use sandbox_template_runtime::wire::BuildRequest;
//!
//! let sent = Template::new().from_image("alpine:3").run_cmd("echo hi").to_json().unwrap();
//! let request: BuildRequest = serde_json::from_str(&sent).unwrap();
//! assert_eq!(request.steps[0].kind, "RUN");
//! let rebuilt = Template::from_build_request(&request, std::path::Path::new(".")).unwrap();
//! assert_eq!(rebuilt.to_json().unwrap(), sent);
//! ```
//!
//! A leaf module: the model depends on it, it depends on nothing but serde.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One step as sent to the build service (`TemplateStep`). The SDKs send five kinds: package
/// installs, `git clone` and the file operations travel as `RUN` commands.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct WireStep {
    /// `RUN`, `COPY`, `ENV`, `WORKDIR`, `USER`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Arguments, per kind: `RUN [command, user?]`, `COPY [src, dest, user, mode]`,
    /// `ENV [name, value, ...]`, `WORKDIR [path]`, `USER [name]`.
    #[serde(default)]
    pub args: Vec<String>,
    /// Skip the cache.
    #[serde(default)]
    pub force: bool,
    /// COPY: upload even if cached.
    #[serde(rename = "forceUpload", default, skip_serializing_if = "Option::is_none")]
    pub force_upload: Option<bool>,
    /// COPY: resolve symlinks.
    #[serde(rename = "resolveSymlinks", default, skip_serializing_if = "Option::is_none")]
    pub resolve_symlinks: Option<bool>,
    /// COPY: gzip the upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gzip: Option<bool>,
    /// COPY: content hash of the source.
    #[serde(rename = "filesHash", default, skip_serializing_if = "Option::is_none")]
    pub files_hash: Option<String>,
}

/// The build request body (`TemplateBuildStartV2`), keys in the JS SDK's order.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct BuildRequest {
    /// Start command.
    #[serde(rename = "startCmd", default, skip_serializing_if = "Option::is_none")]
    pub start_cmd: Option<String>,
    /// Ready command.
    #[serde(rename = "readyCmd", default, skip_serializing_if = "Option::is_none")]
    pub ready_cmd: Option<String>,
    /// Novita's pre-boot script.
    #[serde(rename = "preBootScript", default, skip_serializing_if = "Option::is_none")]
    pub pre_boot_script: Option<String>,
    /// Steps.
    #[serde(default)]
    pub steps: Vec<WireStep>,
    /// Rebuild everything.
    #[serde(default)]
    pub force: bool,
    /// Base image.
    #[serde(rename = "fromImage", default, skip_serializing_if = "Option::is_none")]
    pub from_image: Option<String>,
    /// Base template.
    #[serde(rename = "fromTemplate", default, skip_serializing_if = "Option::is_none")]
    pub from_template: Option<String>,
    /// Registry credentials (contains secrets: never log this).
    #[serde(rename = "fromImageRegistry", default, skip_serializing_if = "Option::is_none")]
    pub from_image_registry: Option<Value>,
}

/// Why a request cannot be turned back into a template: the step as the build API names it
/// (`base`, `1`..) and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("step {step}: {message}")]
pub struct StepError {
    /// The step: `base` or its 1-based number.
    pub step: String,
    /// What is wrong, and what to send instead.
    pub message: String,
}
