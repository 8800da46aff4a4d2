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

/// `Error`: body of every 4xx/5xx answer.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ApiErrorBody {
    /// HTTP status.
    pub code: u16,
    /// What went wrong.
    pub message: String,
}

/// Removes ANSI escape sequences (colour codes) from a log line, as the SDKs do.
pub(crate) fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                // CSI: parameters and intermediates up to a final byte in @..~
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_colour_codes() {
        assert_eq!(strip_ansi("\u{1b}[32mpulling\u{1b}[0m base image"), "pulling base image");
        assert_eq!(strip_ansi("plain ü"), "plain ü");
    }

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
