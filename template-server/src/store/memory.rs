//! [`MemoryStore`]: the server's state in memory, for tests and benchmarks.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use sandbox_template_runtime::cloud::{BuildState, LogEntry, StatusReason, TemplateTag};

use super::{BuildRecord, Records, Store, StoreError, TemplateRecord};

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
