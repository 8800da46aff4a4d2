//! [`DiskStore`]: the server's state in a data folder, so templates, builds, logs and uploads
//! survive a restart.
//!
//! Layout of the folder:
//! - `state.json`: templates (names, build IDs, tags) and builds (status, reason, request),
//!   rewritten whole (to a temporary file, then renamed) on every change: it is small, and a
//!   crash leaves the old or the new version, never half of one;
//! - `logs/BUILD_ID.jsonl`: one log entry per line, appended as the build runs;
//! - `uploads/FILES_HASH`: the uploaded COPY archives;
//! - `builds/BUILD_ID/`: what the build runner staged (context, Dockerfile).

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use sandbox_template_runtime::cloud::{BuildState, LogEntry, StatusReason, TemplateTag};

use super::{BuildRecord, Records, Store, StoreError, TemplateRecord};
use crate::ids::now_rfc3339;

/// Why a build that was running when the server stopped is marked failed on the next start.
pub const INTERRUPTED: &str =
    "the server stopped while this build was running, so it was interrupted; start the build again";

#[derive(Serialize, Deserialize, Clone)]
struct TemplateFile {
    id: String,
    name: String,
    builds: Vec<String>,
    tags: BTreeMap<String, (String, String)>,
}

#[derive(Serialize, Deserialize, Clone)]
struct BuildFile {
    template_id: String,
    build_id: String,
    status: BuildState,
    started: bool,
    request: Option<serde_json::Value>,
    reason: Option<StatusReason>,
    cpu_count: Option<u32>,
    memory_mb: Option<u32>,
}

#[derive(Serialize, Deserialize, Default)]
struct StateFile {
    templates: Vec<TemplateFile>,
    builds: Vec<BuildFile>,
}

#[derive(Default)]
struct State {
    /// The same record keeping as [`MemoryStore`](super::MemoryStore); this store only adds the disk.
    records: Records,
    /// Log lines by build ID (build IDs are unique across templates; the files are named so).
    logs: BTreeMap<String, Vec<LogEntry>>,
}

impl State {
    fn to_file(&self) -> StateFile {
        StateFile {
            templates: self
                .records
                .templates
                .values()
                .map(|t| TemplateFile {
                    id: t.id.clone(),
                    name: t.name.clone(),
                    builds: t.builds.clone(),
                    tags: t.tags.clone(),
                })
                .collect(),
            builds: self
                .records
                .builds
                .values()
                .map(|b| BuildFile {
                    template_id: b.template_id.clone(),
                    build_id: b.build_id.clone(),
                    status: b.status,
                    started: b.started,
                    request: b.request.clone(),
                    reason: b.reason.clone(),
                    cpu_count: b.cpu_count,
                    memory_mb: b.memory_mb,
                })
                .collect(),
        }
    }
}

/// A [`Store`] kept in a data folder (see the module docs for the layout).
pub struct DiskStore {
    root: PathBuf,
    uploads: PathBuf,
    state: Mutex<State>,
}

impl DiskStore {
    /// Opens (creating if needed) the store in `root`. Builds that were running when the server
    /// last stopped are marked failed with [`INTERRUPTED`] as the reason, and say so in their log.
    pub fn open(root: impl Into<PathBuf>) -> Result<DiskStore, StoreError> {
        let root = root.into();
        let uploads = root.join("uploads");
        fs::create_dir_all(&uploads)?;
        fs::create_dir_all(root.join("logs"))?;
        fs::create_dir_all(root.join("builds"))?;
        let path = root.join("state.json");
        let file: StateFile = match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                StoreError::Io(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{} is damaged ({e}); move it away to start with an empty store", path.display()),
                ))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => StateFile::default(),
            Err(e) => return Err(e.into()),
        };
        let mut state = State::default();
        for t in file.templates {
            let record = TemplateRecord { id: t.id.clone(), name: t.name, builds: t.builds, tags: t.tags };
            state.records.templates.insert(t.id, record);
        }
        for b in file.builds {
            state.logs.insert(b.build_id.clone(), read_log(&root.join("logs").join(format!("{}.jsonl", b.build_id))));
            let record = BuildRecord {
                template_id: b.template_id.clone(),
                build_id: b.build_id.clone(),
                status: b.status,
                started: b.started,
                request: b.request,
                reason: b.reason,
                cpu_count: b.cpu_count,
                memory_mb: b.memory_mb,
            };
            state.records.builds.insert((b.template_id, b.build_id), record);
        }
        let store = DiskStore { root, uploads, state: Mutex::new(state) };
        store.fail_interrupted()?;
        Ok(store)
    }

    /// The data folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder a build's runner stages its files in (`builds/BUILD_ID`).
    pub fn build_dir(&self, build_id: &str) -> PathBuf {
        self.root.join("builds").join(build_id)
    }

    fn fail_interrupted(&self) -> Result<(), StoreError> {
        let interrupted: Vec<(String, String)> = self
            .lock()
            .records
            .builds
            .values()
            .filter(|b| b.started && !b.status.is_terminal())
            .map(|b| (b.template_id.clone(), b.build_id.clone()))
            .collect();
        for (t, b) in &interrupted {
            self.append_log(
                t,
                b,
                LogEntry {
                    timestamp: now_rfc3339(),
                    level: "error".to_owned(),
                    message: format!("ERROR: {INTERRUPTED}"),
                    step: None,
                },
            );
            let reason = StatusReason { message: INTERRUPTED.to_owned(), step: None, log_entries: vec![] };
            self.try_set_status(t, b, BuildState::Error, Some(reason))?;
        }
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every change is written through at once; a panicking holder loses at most its own change.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes `state.json` (under the lock, so writes never interleave).
    fn save(&self, state: &State) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec_pretty(&state.to_file())
            .map_err(|e| StoreError::Io(std::io::Error::other(e.to_string())))?;
        let tmp = self.root.join(".state.json.tmp");
        let mut f = fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_data()?;
        fs::rename(&tmp, self.root.join("state.json"))?;
        Ok(())
    }

    fn try_set_status(
        &self,
        template_id: &str,
        build_id: &str,
        status: BuildState,
        reason: Option<StatusReason>,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        s.records.set_status(template_id, build_id, status, reason);
        self.save(&s)
    }
}

fn read_log(path: &Path) -> Vec<LogEntry> {
    let Ok(f) = fs::File::open(path) else { return Vec::new() };
    // A line cut short by a crash is skipped; every complete line before it is kept.
    BufReader::new(f).lines().map_while(Result::ok).filter_map(|l| serde_json::from_str(&l).ok()).collect()
}

impl Store for DiskStore {
    fn create_build(
        &self,
        name: &str,
        tags: &[String],
        cpu_count: Option<u32>,
        memory_mb: Option<u32>,
    ) -> Result<(TemplateRecord, BuildRecord), StoreError> {
        let mut s = self.lock();
        let created = s.records.create_build(name, tags, cpu_count, memory_mb)?;
        self.save(&s)?;
        Ok(created)
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
        for b in &t.builds {
            s.logs.remove(b);
            let _ = fs::remove_file(self.root.join("logs").join(format!("{b}.jsonl")));
            let _ = fs::remove_dir_all(self.build_dir(b));
        }
        self.save(&s)
    }

    fn build(&self, template_id: &str, build_id: &str) -> Option<BuildRecord> {
        self.lock().records.build(template_id, build_id)
    }

    fn start_build(&self, template_id: &str, build_id: &str, request: serde_json::Value) -> Result<(), StoreError> {
        let mut s = self.lock();
        s.records.start_build(template_id, build_id, request)?;
        self.save(&s)
    }

    fn set_status(&self, template_id: &str, build_id: &str, status: BuildState, reason: Option<StatusReason>) {
        if let Err(e) = self.try_set_status(template_id, build_id, status, reason) {
            tracing::error!(build_id, "cannot save the build's status: {e}");
        }
    }

    fn append_log(&self, template_id: &str, build_id: &str, entry: LogEntry) {
        let _ = template_id;
        let mut s = self.lock();
        let path = self.root.join("logs").join(format!("{build_id}.jsonl"));
        let written = serde_json::to_string(&entry).map_err(std::io::Error::other).and_then(|mut line| {
            line.push('\n');
            OpenOptions::new().create(true).append(true).open(&path)?.write_all(line.as_bytes())
        });
        if let Err(e) = written {
            tracing::error!(build_id, "cannot save a log line to {}: {e}", path.display());
        }
        s.logs.entry(build_id.to_owned()).or_default().push(entry);
    }

    fn logs(&self, template_id: &str, build_id: &str, offset: usize, limit: usize) -> Vec<LogEntry> {
        let _ = template_id;
        self.lock().logs.get(build_id).map(|l| l.iter().skip(offset).take(limit).cloned().collect()).unwrap_or_default()
    }

    fn assign_tags(&self, name: &str, from_tag: &str, tags: &[String]) -> Result<String, StoreError> {
        let mut s = self.lock();
        let build = s.records.assign_tags(name, from_tag, tags)?;
        self.save(&s)?;
        Ok(build)
    }

    fn remove_tags(&self, name: &str, tags: &[String]) -> Result<(), StoreError> {
        let mut s = self.lock();
        s.records.remove_tags(name, tags)?;
        self.save(&s)
    }

    fn tags(&self, id_or_name: &str) -> Option<Vec<TemplateTag>> {
        self.lock().records.tags(id_or_name)
    }

    fn uploads_dir(&self) -> &Path {
        &self.uploads
    }
}
