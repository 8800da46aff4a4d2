//! What the server remembers: templates, builds, logs, tags and uploaded archives.
//!
//! Behind the [`Store`] trait so `sandbox-template serve --data DIR` can keep it on disk;
//! [`MemoryStore`] keeps it in memory (archives in a temporary folder).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::cloud::api::{BuildState, LogEntry, StatusReason, TemplateTag};

use super::util::{new_build_id, new_template_id, now_rfc3339};

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
/// `DiskStore` keeps the same and writes it to `state.json` after each change, so the two
/// cannot drift apart in what a request does.
#[derive(Default)]
pub(crate) struct Records {
    pub(crate) templates: BTreeMap<String, TemplateRecord>,
    pub(crate) builds: BTreeMap<(String, String), BuildRecord>,
}

impl Records {
    /// A template by ID, or by name (a `name:tag` alias finds `name`).
    pub(crate) fn find(&self, id_or_name: &str) -> Option<&TemplateRecord> {
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
    pub(crate) fn create_build(
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
    pub(crate) fn delete(&mut self, id_or_name: &str) -> Result<TemplateRecord, StoreError> {
        let id = self.find_id(id_or_name)?;
        let t = self.templates.remove(&id).ok_or_else(|| StoreError::NotFound(id.clone()))?;
        self.builds.retain(|(tid, _), _| *tid != id);
        Ok(t)
    }

    /// See [`Store::template`].
    pub(crate) fn template(&self, id_or_name: &str) -> Option<TemplateRecord> {
        self.find(id_or_name).cloned()
    }

    /// See [`Store::templates`]: ordered by ID.
    pub(crate) fn templates(&self) -> Vec<TemplateRecord> {
        self.templates.values().cloned().collect()
    }

    /// See [`Store::build`].
    pub(crate) fn build(&self, template_id: &str, build_id: &str) -> Option<BuildRecord> {
        self.builds.get(&(template_id.to_owned(), build_id.to_owned())).cloned()
    }

    /// See [`Store::start_build`].
    pub(crate) fn start_build(
        &mut self,
        template_id: &str,
        build_id: &str,
        request: serde_json::Value,
    ) -> Result<(), StoreError> {
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
    pub(crate) fn set_status(
        &mut self,
        template_id: &str,
        build_id: &str,
        status: BuildState,
        reason: Option<StatusReason>,
    ) {
        if let Some(b) = self.builds.get_mut(&(template_id.to_owned(), build_id.to_owned())) {
            b.status = status;
            b.reason = reason;
        }
    }

    /// See [`Store::assign_tags`].
    pub(crate) fn assign_tags(&mut self, name: &str, from_tag: &str, tags: &[String]) -> Result<String, StoreError> {
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
    pub(crate) fn remove_tags(&mut self, name: &str, tags: &[String]) -> Result<(), StoreError> {
        let id = self.find_id(name)?;
        if let Some(t) = self.templates.get_mut(&id) {
            for tag in tags {
                t.tags.remove(tag);
            }
        }
        Ok(())
    }

    /// See [`Store::tags`].
    pub(crate) fn tags(&self, id_or_name: &str) -> Option<Vec<TemplateTag>> {
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

#[derive(Default)]
struct State {
    records: Records,
    logs: BTreeMap<(String, String), Vec<LogEntry>>,
}

/// A [`Store`] in memory; archives live in a temporary folder removed on drop.
pub struct MemoryStore {
    state: Mutex<State>,
    uploads: tempfile::TempDir,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> std::io::Result<Self> {
        Ok(MemoryStore { state: Mutex::new(State::default()), uploads: tempfile::tempdir()? })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters more than losing the server; keep serving.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Store for MemoryStore {
    fn create_build(
        &self,
        name: &str,
        tags: &[String],
        cpu_count: Option<u32>,
        memory_mb: Option<u32>,
    ) -> Result<(TemplateRecord, BuildRecord), StoreError> {
        self.lock().records.create_build(name, tags, cpu_count, memory_mb)
    }

    fn template(&self, id_or_name: &str) -> Option<TemplateRecord> {
        self.lock().records.template(id_or_name)
    }

    fn templates(&self) -> Vec<TemplateRecord> {
        self.lock().records.templates()
    }

    fn delete_template(&self, id_or_name: &str) -> Result<(), StoreError> {
        let mut s = self.lock();
        let t = s.records.delete(id_or_name)?;
        s.logs.retain(|(tid, _), _| *tid != t.id);
        Ok(())
    }

    fn build(&self, template_id: &str, build_id: &str) -> Option<BuildRecord> {
        self.lock().records.build(template_id, build_id)
    }

    fn start_build(&self, template_id: &str, build_id: &str, request: serde_json::Value) -> Result<(), StoreError> {
        self.lock().records.start_build(template_id, build_id, request)
    }

    fn set_status(&self, template_id: &str, build_id: &str, status: BuildState, reason: Option<StatusReason>) {
        self.lock().records.set_status(template_id, build_id, status, reason);
    }

    fn append_log(&self, template_id: &str, build_id: &str, entry: LogEntry) {
        self.lock().logs.entry((template_id.to_owned(), build_id.to_owned())).or_default().push(entry);
    }

    fn logs(&self, template_id: &str, build_id: &str, offset: usize, limit: usize) -> Vec<LogEntry> {
        let s = self.lock();
        s.logs
            .get(&(template_id.to_owned(), build_id.to_owned()))
            .map(|l| l.iter().skip(offset).take(limit).cloned().collect())
            .unwrap_or_default()
    }

    fn assign_tags(&self, name: &str, from_tag: &str, tags: &[String]) -> Result<String, StoreError> {
        self.lock().records.assign_tags(name, from_tag, tags)
    }

    fn remove_tags(&self, name: &str, tags: &[String]) -> Result<(), StoreError> {
        self.lock().records.remove_tags(name, tags)
    }

    fn tags(&self, id_or_name: &str) -> Option<Vec<TemplateTag>> {
        self.lock().records.tags(id_or_name)
    }

    fn uploads_dir(&self) -> &Path {
        self.uploads.path()
    }
}
