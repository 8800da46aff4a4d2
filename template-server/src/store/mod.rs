//! What the server remembers: templates, builds, logs, tags and uploaded archives.
//!
//! Behind the [`Store`] trait so `sandbox-template serve --data DIR` keeps it on disk
//! ([`DiskStore`]); [`MemoryStore`] keeps it in memory (archives in a temporary folder). Both keep
//! their records with the same rules (`Records`), so they cannot drift apart in what a request does.
//!
//! ```
//! use sandbox_template_server::store::{MemoryStore, Store};
//!
//! let store = MemoryStore::new().unwrap();
//! let (template, build) = store.create_build("my-template", &["v1".to_owned()], None, None).unwrap();
//! assert_eq!(store.template("my-template").unwrap().id, template.id);
//! assert!(store.build(&template.id, &build.build_id).is_some());
//! ```

mod disk;
mod memory;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sandbox_template_runtime::cloud::{BuildState, LogEntry, StatusReason, TemplateTag};

pub use disk::{DiskStore, INTERRUPTED};
pub use memory::MemoryStore;

use crate::ids::{new_build_id, new_template_id, now_rfc3339};

/// A template: a name and its builds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateRecord {
    /// `tpl…`.
    pub id: String,
    /// Name without tag.
    pub name: String,
    /// Build IDs, oldest first.
    pub builds: Vec<String>,
    /// tag → (build ID, RFC 3339 time assigned).
    pub tags: BTreeMap<String, (String, String)>,
}

/// One build of a template.
#[derive(Clone, Debug, PartialEq)]
pub struct BuildRecord {
    /// Template ID.
    pub template_id: String,
    /// Build ID.
    pub build_id: String,
    /// State (`waiting` until started).
    pub status: BuildState,
    /// Whether `POST /v2/.../builds/{id}` was accepted.
    pub started: bool,
    /// The start request body.
    pub request: Option<serde_json::Value>,
    /// Why it failed.
    pub reason: Option<StatusReason>,
    /// Requested CPU cores.
    pub cpu_count: Option<u32>,
    /// Requested memory.
    pub memory_mb: Option<u32>,
}

/// Errors of a store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No such template, build or tag.
    #[error("{0}")]
    NotFound(String),
    /// The operation does not fit the current state.
    #[error("{0}")]
    Conflict(String),
    /// Disk trouble.
    #[error("storage error: {0}")]
    Io(#[from] std::io::Error),
}

/// The server's state. Implementations must be safe to share between request handlers.
pub trait Store: Send + Sync + 'static {
    /// Creates a build of the template `name`, creating the template on first use (templates
    /// are keyed by name: asking twice never makes a second template). `tags` point at the new
    /// build.
    fn create_build(
        &self,
        name: &str,
        tags: &[String],
        cpu_count: Option<u32>,
        memory_mb: Option<u32>,
    ) -> Result<(TemplateRecord, BuildRecord), StoreError>;
    /// A template by ID or name.
    fn template(&self, id_or_name: &str) -> Option<TemplateRecord>;
    /// Every template.
    fn templates(&self) -> Vec<TemplateRecord>;
    /// Deletes a template by ID or name.
    fn delete_template(&self, id_or_name: &str) -> Result<(), StoreError>;
    /// A build.
    fn build(&self, template_id: &str, build_id: &str) -> Option<BuildRecord>;
    /// Marks a build started with its request body. Fails if it was already started.
    fn start_build(&self, template_id: &str, build_id: &str, request: serde_json::Value) -> Result<(), StoreError>;
    /// Sets a build's state.
    fn set_status(&self, template_id: &str, build_id: &str, status: BuildState, reason: Option<StatusReason>);
    /// Appends a log line.
    fn append_log(&self, template_id: &str, build_id: &str, entry: LogEntry);
    /// Log lines `offset..offset+limit`.
    fn logs(&self, template_id: &str, build_id: &str, offset: usize, limit: usize) -> Vec<LogEntry>;
    /// Points `tags` of template `name` at the build currently tagged `from_tag`.
    fn assign_tags(&self, name: &str, from_tag: &str, tags: &[String]) -> Result<String, StoreError>;
    /// Removes tags from template `name`.
    fn remove_tags(&self, name: &str, tags: &[String]) -> Result<(), StoreError>;
    /// The tags of a template.
    fn tags(&self, id_or_name: &str) -> Option<Vec<TemplateTag>>;
    /// Folder holding uploaded archives, one file per `filesHash`.
    fn uploads_dir(&self) -> &Path;
    /// The archive uploaded for `hash`, if any.
    fn upload(&self, hash: &str) -> Option<PathBuf> {
        let p = self.uploads_dir().join(hash);
        p.is_file().then_some(p)
    }
}

/// The record keeping both stores share: templates keyed by ID, builds keyed by (template ID,
/// build ID), and every rule about how they change. [`MemoryStore`] keeps it behind its mutex;
/// [`DiskStore`] keeps the same and writes it to `state.json` after each change, so the two
/// cannot drift apart in what a request does.
#[derive(Default)]
struct Records {
    templates: BTreeMap<String, TemplateRecord>,
    builds: BTreeMap<(String, String), BuildRecord>,
}

impl Records {
    /// A template by ID, or by name (a `name:tag` alias finds `name`).
    fn find(&self, id_or_name: &str) -> Option<&TemplateRecord> {
        let name = id_or_name.split(':').next().unwrap_or(id_or_name);
        self.templates.get(id_or_name).or_else(|| self.templates.values().find(|t| t.name == name))
    }

    /// The ID of the template `id_or_name`, or the error a request for a missing one gets.
    fn find_id(&self, id_or_name: &str) -> Result<String, StoreError> {
        self.find(id_or_name)
            .map(|t| t.id.clone())
            .ok_or_else(|| StoreError::NotFound(format!("template `{id_or_name}` not found")))
    }

    /// See [`Store::create_build`].
    fn create_build(
        &mut self,
        name: &str,
        tags: &[String],
        cpu_count: Option<u32>,
        memory_mb: Option<u32>,
    ) -> Result<(TemplateRecord, BuildRecord), StoreError> {
        let id = match self.templates.values().find(|t| t.name == name) {
            Some(t) => t.id.clone(),
            None => {
                let id = new_template_id();
                let record =
                    TemplateRecord { id: id.clone(), name: name.to_owned(), builds: vec![], tags: BTreeMap::new() };
                self.templates.insert(id.clone(), record);
                id
            }
        };
        let build_id = new_build_id();
        let build = BuildRecord {
            template_id: id.clone(),
            build_id: build_id.clone(),
            status: BuildState::Waiting,
            started: false,
            request: None,
            reason: None,
            cpu_count,
            memory_mb,
        };
        self.builds.insert((id.clone(), build_id.clone()), build.clone());
        let now = now_rfc3339();
        let t = self.templates.get_mut(&id).ok_or_else(|| StoreError::NotFound(id.clone()))?;
        t.builds.push(build_id.clone());
        for tag in tags {
            t.tags.insert(tag.clone(), (build_id.clone(), now.clone()));
        }
        Ok((t.clone(), build))
    }

    /// Removes a template and its builds; returns the removed template so the caller can drop
    /// what it keeps per build (logs, staged files).
    fn delete(&mut self, id_or_name: &str) -> Result<TemplateRecord, StoreError> {
        let id = self.find_id(id_or_name)?;
        let t = self.templates.remove(&id).ok_or_else(|| StoreError::NotFound(id.clone()))?;
        self.builds.retain(|(tid, _), _| *tid != id);
        Ok(t)
    }

    /// See [`Store::template`].
    fn template(&self, id_or_name: &str) -> Option<TemplateRecord> {
        self.find(id_or_name).cloned()
    }

    /// See [`Store::templates`]: ordered by ID.
    fn templates(&self) -> Vec<TemplateRecord> {
        self.templates.values().cloned().collect()
    }

    /// See [`Store::build`].
    fn build(&self, template_id: &str, build_id: &str) -> Option<BuildRecord> {
        self.builds.get(&(template_id.to_owned(), build_id.to_owned())).cloned()
    }

    /// See [`Store::start_build`].
    fn start_build(&mut self, template_id: &str, build_id: &str, request: serde_json::Value) -> Result<(), StoreError> {
        let b = self
            .builds
            .get_mut(&(template_id.to_owned(), build_id.to_owned()))
            .ok_or_else(|| StoreError::NotFound(format!("build `{build_id}` of template `{template_id}` not found")))?;
        if b.started {
            return Err(StoreError::Conflict(format!("build `{build_id}` was already started")));
        }
        b.started = true;
        b.status = BuildState::Building;
        b.request = Some(request);
        Ok(())
    }

    /// See [`Store::set_status`]; an unknown build is left alone.
    fn set_status(&mut self, template_id: &str, build_id: &str, status: BuildState, reason: Option<StatusReason>) {
        if let Some(b) = self.builds.get_mut(&(template_id.to_owned(), build_id.to_owned())) {
            b.status = status;
            b.reason = reason;
        }
    }

    /// See [`Store::assign_tags`].
    fn assign_tags(&mut self, name: &str, from_tag: &str, tags: &[String]) -> Result<String, StoreError> {
        let id = self.find_id(name)?;
        let now = now_rfc3339();
        let t = self.templates.get_mut(&id).ok_or_else(|| StoreError::NotFound(id.clone()))?;
        let build = match t.tags.get(from_tag) {
            Some((b, _)) => b.clone(),
            None if from_tag == "default" => t
                .builds
                .last()
                .cloned()
                .ok_or_else(|| StoreError::NotFound(format!("template `{name}` has no build")))?,
            None => return Err(StoreError::NotFound(format!("tag `{from_tag}` of template `{name}` not found"))),
        };
        for tag in tags {
            t.tags.insert(tag.clone(), (build.clone(), now.clone()));
        }
        Ok(build)
    }

    /// See [`Store::remove_tags`].
    fn remove_tags(&mut self, name: &str, tags: &[String]) -> Result<(), StoreError> {
        let id = self.find_id(name)?;
        if let Some(t) = self.templates.get_mut(&id) {
            for tag in tags {
                t.tags.remove(tag);
            }
        }
        Ok(())
    }

    /// See [`Store::tags`].
    fn tags(&self, id_or_name: &str) -> Option<Vec<TemplateTag>> {
        self.find(id_or_name).map(|t| {
            t.tags
                .iter()
                .map(|(tag, (build, at))| TemplateTag {
                    tag: tag.clone(),
                    build_id: build.clone(),
                    created_at: at.clone(),
                })
                .collect()
        })
    }
}
