//! Wire types of the template build API (`openapi-templates.yml`), shared by the client and the
//! loopback server so both speak exactly the same JSON. The build request itself
//! ([`BuildRequest`](crate::wire::BuildRequest)) lives in [`crate::wire`]: JSON export writes it
//! without the cloud feature.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `TemplateBuildRequestV3`: body of `POST /v3/templates`. Absent fields are omitted, like the
/// JS SDK does.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct CreateTemplateRequest {
    /// Template name, optionally `name:tag`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Tags for the new build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// Deprecated alias of `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// CPU cores.
    #[serde(rename = "cpuCount", default, skip_serializing_if = "Option::is_none")]
    pub cpu_count: Option<u32>,
    /// Memory in MiB.
    #[serde(rename = "memoryMB", default, skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<u32>,
    /// Minimum free disk after the build, in MiB.
    #[serde(rename = "minFreeDiskMb", default, skip_serializing_if = "Option::is_none")]
    pub min_free_disk_mb: Option<u32>,
}

/// `TemplateRequestResponseV3`: answer of `POST /v3/templates` (202).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct CreateTemplateResponse {
    /// Template ID.
    #[serde(rename = "templateID")]
    pub template_id: String,
    /// The new build's ID.
    #[serde(rename = "buildID")]
    pub build_id: String,
    /// Public template.
    #[serde(default)]
    pub public: bool,
    /// Names of the template.
    #[serde(default)]
    pub names: Vec<String>,
    /// Tags of the new build.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Deprecated aliases.
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// `TemplateBuildFileUpload`: answer of `GET /templates/{id}/files/{hash}` (201).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct FileUploadInfo {
    /// Whether the service already has this content.
    pub present: bool,
    /// Where to `PUT` the archive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Headers to send with the `PUT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
}

/// `BuildLogEntry`: one line of the build log.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// RFC 3339 time.
    pub timestamp: String,
    /// `debug`, `info`, `warn` or `error`.
    pub level: String,
    /// The text.
    pub message: String,
    /// `base`, `1`..`N` (1-based step), `finalize`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
}

/// `BuildStatusReason`: why a build ended in `error`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct StatusReason {
    /// What failed.
    pub message: String,
    /// Which step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// Related log lines.
    #[serde(rename = "logEntries", default, skip_serializing_if = "Vec::is_empty")]
    pub log_entries: Vec<LogEntry>,
}

/// The states of a build.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum BuildState {
    /// Queued.
    Waiting,
    /// Running.
    Building,
    /// Done.
    Ready,
    /// Failed.
    Error,
}

impl BuildState {
    /// `ready` or `error`.
    pub fn is_terminal(self) -> bool {
        matches!(self, BuildState::Ready | BuildState::Error)
    }
}

/// `TemplateBuildInfo`: answer of `GET .../builds/{bid}/status`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct BuildStatus {
    /// Template ID.
    #[serde(rename = "templateID")]
    pub template_id: String,
    /// Build ID.
    #[serde(rename = "buildID")]
    pub build_id: String,
    /// State.
    pub status: BuildState,
    /// Deprecated, always empty.
    #[serde(default)]
    pub logs: Vec<String>,
    /// Log lines from `logsOffset` on (at most one page).
    #[serde(rename = "logEntries", default)]
    pub log_entries: Vec<LogEntry>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<StatusReason>,
}

/// `TemplateAliasResponse`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct AliasResponse {
    /// Template ID.
    #[serde(rename = "templateID")]
    pub template_id: String,
    /// Public template.
    pub public: bool,
}

/// `AssignTemplateTagsRequest`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct AssignTagsRequest {
    /// `name:tag` of the build to tag.
    pub target: String,
    /// Tags to add.
    pub tags: Vec<String>,
}

/// `AssignedTemplateTags`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct AssignedTags {
    /// The build the tags now point to.
    #[serde(rename = "buildID")]
    pub build_id: String,
    /// The tags.
    pub tags: Vec<String>,
}

/// `DeleteTemplateTagsRequest`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct DeleteTagsRequest {
    /// Template name.
    pub name: String,
    /// Tags to delete.
    pub tags: Vec<String>,
}

/// `TemplateTag`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TemplateTag {
    /// Tag.
    pub tag: String,
    /// Build it points to.
    #[serde(rename = "buildID")]
    pub build_id: String,
    /// RFC 3339 time.
    #[serde(rename = "createdAt")]
    pub created_at: String,
}

/// A template as the service lists it: E2B's `Template` (`GET /v2/templates`), an item of
/// Novita's template page (`templates[]`), and the template part of
/// [`TemplateDetails`]. Fields a service leaves out (or sends as `null`) read as empty or zero,
/// as the SDKs read them.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TemplateInfo {
    /// Template ID.
    #[serde(rename = "templateID")]
    pub template_id: String,
    /// The last successful build (empty when there is none).
    #[serde(rename = "buildID", default, deserialize_with = "or_default")]
    pub build_id: String,
    /// The state of that build.
    #[serde(rename = "buildStatus", default, skip_serializing_if = "Option::is_none")]
    pub build_status: Option<BuildState>,
    /// Names of the template (`namespace/alias` when namespaced).
    #[serde(default, deserialize_with = "or_default")]
    pub names: Vec<String>,
    /// Deprecated aliases.
    #[serde(default, deserialize_with = "or_default")]
    pub aliases: Vec<String>,
    /// Novita: `template_build` or `snapshot_template`.
    #[serde(rename = "templateType", default, skip_serializing_if = "Option::is_none")]
    pub template_type: Option<String>,
    /// How many times it was built.
    #[serde(rename = "buildCount", default, deserialize_with = "or_default")]
    pub build_count: u64,
    /// CPU cores.
    #[serde(rename = "cpuCount", default, deserialize_with = "or_default")]
    pub cpu_count: u64,
    /// Memory in MiB.
    #[serde(rename = "memoryMB", default, deserialize_with = "or_default")]
    pub memory_mb: u64,
    /// Disk size in MiB.
    #[serde(rename = "diskSizeMB", default, deserialize_with = "or_default")]
    pub disk_size_mb: u64,
    /// How many sandboxes were started from it.
    #[serde(rename = "spawnCount", default, deserialize_with = "or_default")]
    pub spawn_count: u64,
    /// Version of the sandbox daemon in its image.
    #[serde(rename = "envdVersion", default, deserialize_with = "or_default")]
    pub envd_version: String,
    /// Whether anyone may use it (otherwise only its team).
    #[serde(default, deserialize_with = "or_default")]
    pub public: bool,
    /// RFC 3339 time it was created.
    #[serde(rename = "createdAt", default, deserialize_with = "or_default")]
    pub created_at: String,
    /// RFC 3339 time it was last updated.
    #[serde(rename = "updatedAt", default, deserialize_with = "or_default")]
    pub updated_at: String,
    /// RFC 3339 time a sandbox was last started from it.
    #[serde(rename = "lastSpawnedAt", default)]
    pub last_spawned_at: Option<String>,
    /// Who created it.
    #[serde(rename = "createdBy", default)]
    pub created_by: Option<TeamUser>,
    /// Novita: the template's metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
}

/// `TeamUser`: who created a template.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TeamUser {
    /// User ID.
    pub id: String,
    /// E-mail (deprecated; may be absent).
    #[serde(default)]
    pub email: Option<String>,
}

/// `TemplateBuild`: one build of a template ([`TemplateDetails::builds`]).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TemplateBuild {
    /// Build ID.
    #[serde(rename = "buildID")]
    pub build_id: String,
    /// Its state.
    pub status: BuildState,
    /// CPU cores.
    #[serde(rename = "cpuCount", default, deserialize_with = "or_default")]
    pub cpu_count: u64,
    /// Memory in MiB.
    #[serde(rename = "memoryMB", default, deserialize_with = "or_default")]
    pub memory_mb: u64,
    /// Disk size in MiB.
    #[serde(rename = "diskSizeMB", default, skip_serializing_if = "Option::is_none")]
    pub disk_size_mb: Option<u64>,
    /// Version of the sandbox daemon in its image.
    #[serde(rename = "envdVersion", default, skip_serializing_if = "Option::is_none")]
    pub envd_version: Option<String>,
    /// RFC 3339 time it was created.
    #[serde(rename = "createdAt", default, deserialize_with = "or_default")]
    pub created_at: String,
    /// RFC 3339 time it was last updated.
    #[serde(rename = "updatedAt", default, deserialize_with = "or_default")]
    pub updated_at: String,
    /// RFC 3339 time it finished.
    #[serde(rename = "finishedAt", default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
}

/// `TemplateWithBuilds`: answer of `GET /templates/{templateID}` ([`Client::get_template`](super::Client::get_template)).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TemplateDetails {
    /// The template. When the service names no last build, the client fills
    /// [`TemplateInfo::build_id`] and [`TemplateInfo::build_status`] from the newest build, as
    /// novita-sandbox's `Template.get` does.
    #[serde(flatten)]
    pub template: TemplateInfo,
    /// Its builds, newest first.
    #[serde(default, deserialize_with = "or_default")]
    pub builds: Vec<TemplateBuild>,
}

/// Novita's answer of `GET /v2/templates` (`TemplateListResponse`).
#[derive(Deserialize, Debug)]
pub(crate) struct NovitaTemplatePage {
    #[serde(default, deserialize_with = "or_default")]
    pub templates: Vec<TemplateInfo>,
    #[serde(default)]
    pub page: Option<u64>,
    #[serde(rename = "totalPages", default)]
    pub total_pages: Option<u64>,
}

/// The answer of `GET /v2/templates`: E2B sends a list (the next page's token in `X-Next-Token`),
/// Novita a page object. Either is read, whichever provider was asked.
#[derive(Deserialize, Debug)]
#[serde(untagged)]
pub(crate) enum TemplateListAnswer {
    E2b(Vec<TemplateInfo>),
    Novita(NovitaTemplatePage),
}

/// A value the service may send as `null`, read as its default (the SDKs' `?? 0`, `?? []`).
fn or_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Option::<T>::deserialize(d).map(Option::unwrap_or_default)
}

/// `Error`: body of every 4xx/5xx answer.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ApiErrorBody {
    /// HTTP status.
    pub code: u16,
    /// What went wrong.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_request_omits_unset_fields_in_sdk_order() {
        let body = CreateTemplateRequest {
            name: Some("wire-ok:v1".into()),
            tags: Some(vec!["stable".into()]),
            cpu_count: Some(2),
            memory_mb: Some(1024),
            ..Default::default()
        };
        // Captured JS body (wire-transcript.md [1]).
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"name":"wire-ok:v1","tags":["stable"],"cpuCount":2,"memoryMB":1024}"#
        );
    }
}
