//! What the server remembers: templates, builds, tags and log lines in an SQLite database
//! (`DATA/state.db`), uploaded archives as files beside it.
//!
//! One type, [`Store`], for `serve` and for tests alike ([`Store::temporary`] is the same store in
//! a temporary folder): there is one implementation, so no trait sits in front of it.
//!
//! Layout of the data folder (created `0700`; `state.db` and its `-wal`/`-shm` files are `0600`):
//! - `state.db`: SQLite in WAL mode, one transaction per change, schema versions applied in
//!   order on open ([`Store::open`] refuses a database from a newer version). Log lines are rows,
//!   paged by their number through the primary key, never held in memory;
//! - `uploads/FILES_HASH`: the uploaded COPY archives, named by their content hash, verified
//!   (`FILES_HASH.unverified` until the first build that names them checks them; see
//!   [`api`](crate::api)'s upload design). A new `state.db` starts with an empty `uploads/`: an
//!   older server kept unverified archives there under the verified names;
//! - `builds/BUILD_ID/`: what a build's runner staged (context, Dockerfile).
//!
//! Registry credentials never reach the disk: [`Store::start_build`] stores the request without
//! them (the running build has them in memory only). Opening a store fails the builds that were
//! running when the server stopped ([`INTERRUPTED`], or [`INTERRUPTED_CREDENTIALS`] when the
//! build needed credentials that are now gone), removes their staged files and what uploads and
//! upload verifications cut off by the stop left in `uploads/` (`.part-*`, `.verify-*`).
//!
//! Every call that touches the database is `async` and runs on a blocking thread (writes on the
//! store's one writer thread), never on the async workers.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), sandbox_template_server::store::StoreError> {
//! use sandbox_template_server::store::Store;
//!
//! let store = Store::temporary()?;
//! let (template, build) = store.create_build("my-template", &["v1".to_owned()], None, None).await?;
//! assert_eq!(store.template("my-template").await?.unwrap().id, template.id);
//! assert!(store.build(&template.id, &build.build_id).await?.is_some());
//! # Ok(()) }
//! ```

mod db;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use sandbox_template_runtime::cloud::{BuildState, LogEntry, StatusReason, TemplateTag};

use crate::ids::{new_build_id, new_template_id, now_rfc3339};
use db::Db;

/// Why a build that was running when the server stopped is marked failed on the next start.
pub const INTERRUPTED: &str =
    "the server stopped while this build was running, so it was interrupted; start the build again";

/// Why a build that was running when the server stopped, and that had registry credentials, is
/// marked failed on the next start: the credentials were kept in memory only.
pub const INTERRUPTED_CREDENTIALS: &str = "the server stopped while this build was running, so it was \
     interrupted; its registry credentials were kept in memory only and are gone: resubmit the build with them";

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
    /// The start request body as stored: registry credentials removed
    /// (`fromImageRegistry` keeps its `type` only).
    pub request: Option<serde_json::Value>,
    /// Why it failed.
    pub reason: Option<StatusReason>,
    /// Requested CPU cores.
    pub cpu_count: Option<u32>,
    /// Requested memory.
    pub memory_mb: Option<u32>,
}

/// One build as the template list and details show it ([`Store::list_templates`],
/// [`Store::template_details`]).
#[derive(Clone, Debug, PartialEq)]
pub struct BuildSummary {
    /// Build ID.
    pub build_id: String,
    /// Its state.
    pub status: BuildState,
    /// Requested CPU cores.
    pub cpu_count: Option<u32>,
    /// Requested memory.
    pub memory_mb: Option<u32>,
    /// RFC 3339 time it was created.
    pub created_at: String,
    /// RFC 3339 time it last changed state.
    pub updated_at: String,
    /// RFC 3339 time it ended (`ready` or `error`).
    pub finished_at: Option<String>,
}

/// A template as the template list and details show it.
#[derive(Clone, Debug, PartialEq)]
pub struct TemplateSummary {
    /// `tpl…`.
    pub id: String,
    /// Name without tag.
    pub name: String,
    /// RFC 3339 time it was created.
    pub created_at: String,
    /// RFC 3339 time it or one of its builds last changed.
    pub updated_at: String,
    /// How many builds it has.
    pub build_count: u64,
    /// Its newest `ready` build, else its newest build (`None`: no build).
    pub last_build: Option<BuildSummary>,
}

/// A template with one page of its builds ([`Store::template_details`]).
#[derive(Clone, Debug, PartialEq)]
pub struct TemplateDetailsPage {
    /// The template.
    pub template: TemplateSummary,
    /// Its builds on this page, newest first.
    pub builds: Vec<BuildSummary>,
    /// Where the next page of builds starts; `None` on the last page.
    pub next: Option<u64>,
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
    /// A file or folder of the data folder cannot be used.
    #[error("cannot use {}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The database failed.
    #[error("{} failed ({what}): {source}", path.display())]
    Database {
        /// `state.db`.
        path: PathBuf,
        /// What was being done.
        what: &'static str,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// The file is not an SQLite database.
    #[error("{} is damaged or not a database ({source}); move it away to start with an empty store", path.display())]
    Damaged {
        /// `state.db`.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// The database was written by a newer version of this server.
    #[error(
        "{} has schema version {found}, newer than the {supported} this server knows: run the newer \
         sandbox-template that wrote it, or move the data folder away to start with an empty store",
        path.display()
    )]
    NewerSchema {
        /// `state.db`.
        path: PathBuf,
        /// Its `user_version`.
        found: i64,
        /// The newest this server knows.
        supported: i64,
    },
    /// The store is shutting down (its writer stopped, or the async runtime cancelled the call).
    #[error("the store is closed: the server is shutting down")]
    Closed,
}

struct Inner {
    root: PathBuf,
    uploads: PathBuf,
    builds: PathBuf,
    db: Db,
    /// Keeps a temporary store's folder until the store is dropped (after `db`: the database
    /// closes first).
    _temporary: Option<tempfile::TempDir>,
}

/// The server's state (see the [module documentation](self)). Cheap to clone: clones share one
/// database.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("root", &self.inner.root).finish_non_exhaustive()
    }
}

/// Maps SQLite's error to [`StoreError::Database`], naming the database file and the action.
fn sql<'a>(store: &'a Path, what: &'static str) -> impl Fn(rusqlite::Error) -> StoreError + 'a {
    move |source| StoreError::Database { path: store.to_owned(), what, source }
}

impl Store {
    /// Opens (creating if needed) the store in the data folder `root` (blocking: from async code,
    /// call it through `spawn_blocking`).
    ///
    /// Builds that were running when the server last stopped are marked failed, with
    /// [`INTERRUPTED`] (or [`INTERRUPTED_CREDENTIALS`]) as their reason and in their log; their
    /// staged files and the leftovers of cut-off uploads and verifications (`uploads/.part-*`,
    /// `uploads/.verify-*`) are removed; complete uploads (`HASH`, `HASH.unverified`) are kept.
    /// When `state.db` is new, whatever `uploads/` already held is removed: an older server kept
    /// uploads there unverified. Nothing else is read.
    pub fn open(root: impl Into<PathBuf>) -> Result<Store, StoreError> {
        Self::open_in(root.into(), None)
    }

    /// An empty store in a temporary folder, removed when the last clone is dropped (tests,
    /// benchmarks, [`Server::start`](crate::api::Server::start)).
    pub fn temporary() -> Result<Store, StoreError> {
        let dir = tempfile::tempdir().map_err(|source| StoreError::Io { path: std::env::temp_dir(), source })?;
        Self::open_in(dir.path().to_owned(), Some(dir))
    }

    fn open_in(root: PathBuf, temporary: Option<tempfile::TempDir>) -> Result<Store, StoreError> {
        db::private_dir(&root)?;
        let uploads = root.join("uploads");
        let builds = root.join("builds");
        db::private_dir(&uploads)?;
        db::private_dir(&builds)?;
        if root.join("state.json").exists() {
            tracing::warn!(
                data = %root.display(),
                "state.json of an older sandbox-template is not read (state is in state.db now); \
                 it may hold registry passwords: delete it"
            );
        }
        let mut interrupted = Vec::new();
        let mut new_database = false;
        let db = Db::open(root.join("state.db"), |conn, version| {
            new_database = version == 0;
            interrupted = fail_interrupted(conn, &root.join("state.db"))?;
            Ok(())
        })?;
        if new_database {
            remove_unknown_uploads(&uploads);
        }
        remove_leftovers(&uploads, &builds, &interrupted);
        Ok(Store { inner: Arc::new(Inner { root, uploads, builds, db, _temporary: temporary }) })
    }

    /// The data folder.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// The folder a build's runner stages its files in (`builds/BUILD_ID`).
    pub fn build_dir(&self, build_id: &str) -> PathBuf {
        self.inner.builds.join(build_id)
    }

    /// Folder holding uploaded archives, one file per `filesHash`.
    pub fn uploads_dir(&self) -> &Path {
        &self.inner.uploads
    }

    /// The archive uploaded for `hash`, if any.
    pub fn upload(&self, hash: &str) -> Option<PathBuf> {
        let p = self.inner.uploads.join(hash);
        p.is_file().then_some(p)
    }

    /// Runs `read` on a read connection, off the async workers.
    async fn read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Connection, &Path) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.db.read(|conn| read(conn, inner.db.path()))).await.unwrap_or_else(
            |e| if e.is_panic() { std::panic::resume_unwind(e.into_panic()) } else { Err(StoreError::Closed) },
        )
    }

    /// Runs `change` in one transaction on the writer thread and waits for it.
    async fn write<T: Send + 'static>(
        &self,
        change: impl FnOnce(&Transaction, &Path) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let path = self.inner.db.path().to_owned();
        self.inner.db.send(Box::new(move |conn: &mut Connection| {
            let result = (|| {
                let t = conn.transaction().map_err(sql(&path, "begin a change"))?;
                let value = change(&t, &path)?;
                t.commit().map_err(sql(&path, "commit a change"))?;
                Ok(value)
            })();
            let _ = tx.send(result);
        }))?;
        rx.await.unwrap_or(Err(StoreError::Closed))
    }

    /// Creates a build of the template `name`, creating the template on first use (templates
    /// are keyed by name: asking twice never makes a second template). `tags` point at the new
    /// build.
    pub async fn create_build(
        &self,
        name: &str,
        tags: &[String],
        cpu_count: Option<u32>,
        memory_mb: Option<u32>,
    ) -> Result<(TemplateRecord, BuildRecord), StoreError> {
        let (name, tags) = (name.to_owned(), tags.to_vec());
        self.write(move |t, path| {
            let now = now_rfc3339();
            let existing: Option<String> = t
                .query_row("SELECT id FROM templates WHERE name = ?1", [&name], |r| r.get(0))
                .optional()
                .map_err(sql(path, "find a template"))?;
            let id = match existing {
                Some(id) => id,
                None => {
                    let id = new_template_id();
                    t.execute(
                        "INSERT INTO templates (id, name, created_at) VALUES (?1, ?2, ?3)",
                        params![id, name, now],
                    )
                    .map_err(sql(path, "create a template"))?;
                    id
                }
            };
            let build_id = new_build_id();
            t.execute(
                "INSERT INTO builds (build_id, template_id, status, cpu_count, memory_mb, created_at)
                 VALUES (?1, ?2, 'waiting', ?3, ?4, ?5)",
                params![build_id, id, cpu_count, memory_mb, now],
            )
            .map_err(sql(path, "create a build"))?;
            for tag in &tags {
                t.execute(
                    "INSERT OR REPLACE INTO tags (template_id, tag, build_id, assigned_at) VALUES (?1, ?2, ?3, ?4)",
                    params![id, tag, build_id, now],
                )
                .map_err(sql(path, "tag a build"))?;
            }
            tracing::info!(template_id = %id, build_id = %build_id, state = "waiting", "build created");
            let template = load_template(t, path, id.clone(), name)?;
            let build = BuildRecord {
                template_id: id,
                build_id,
                status: BuildState::Waiting,
                started: false,
                request: None,
                reason: None,
                cpu_count,
                memory_mb,
            };
            Ok((template, build))
        })
        .await
    }

    /// A template by ID or name (a `name:tag` alias finds `name`).
    pub async fn template(&self, id_or_name: &str) -> Result<Option<TemplateRecord>, StoreError> {
        let id_or_name = id_or_name.to_owned();
        self.read(move |conn, path| match find(conn, path, &id_or_name)? {
            Some((id, name)) => load_template(conn, path, id, name).map(Some),
            None => Ok(None),
        })
        .await
    }

    /// Every template, ordered by ID.
    pub async fn templates(&self) -> Result<Vec<TemplateRecord>, StoreError> {
        self.read(|conn, path| {
            let mut list = conn.prepare("SELECT id, name FROM templates ORDER BY id").map_err(sql(path, "list"))?;
            let rows: Vec<(String, String)> = list
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .and_then(Iterator::collect)
                .map_err(sql(path, "list templates"))?;
            rows.into_iter().map(|(id, name)| load_template(conn, path, id, name)).collect()
        })
        .await
    }

    /// One page of templates, in ID order: at most `limit` (1 to [`MAX_PAGE`]) after the
    /// template ID `after` (the first page: `None`), and the ID to pass as `after` for the next
    /// page (`None` on the last one).
    pub async fn list_templates(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<TemplateSummary>, Option<String>), StoreError> {
        let (after, limit) = (after.unwrap_or("").to_owned(), limit.clamp(1, MAX_PAGE));
        self.read(move |conn, path| {
            let rows: Vec<(String, String, String)> = conn
                .prepare_cached("SELECT id, name, created_at FROM templates WHERE id > ?1 ORDER BY id LIMIT ?2")
                .and_then(|mut s| {
                    s.query_map(params![after, limit as i64 + 1], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect()
                })
                .map_err(sql(path, "list templates"))?;
            let more = rows.len() > limit;
            let page = rows
                .into_iter()
                .take(limit)
                .map(|(id, name, created_at)| summarize(conn, path, id, name, created_at))
                .collect::<Result<Vec<_>, _>>()?;
            let next = if more { page.last().map(|t| t.id.clone()) } else { None };
            Ok((page, next))
        })
        .await
    }

    /// The template `id_or_name` with one page of its builds, newest first: at most `limit` (1 to
    /// [`MAX_PAGE`]) older than the build cursor `before` (the first page: `None`), and the cursor
    /// of the next page (`None` on the last one). `None` when there is no such template.
    pub async fn template_details(
        &self,
        id_or_name: &str,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Option<TemplateDetailsPage>, StoreError> {
        let (id_or_name, limit) = (id_or_name.to_owned(), limit.clamp(1, MAX_PAGE));
        let before = before.map_or(i64::MAX, |b| i64::try_from(b).unwrap_or(i64::MAX));
        self.read(move |conn, path| {
            let Some((id, name)) = find(conn, path, &id_or_name)? else { return Ok(None) };
            let created_at: String = conn
                .query_row("SELECT created_at FROM templates WHERE id = ?1", [&id], |r| r.get(0))
                .map_err(sql(path, "read a template"))?;
            let template = summarize(conn, path, id.clone(), name, created_at)?;
            let rows: Vec<(i64, BuildSummary)> = conn
                .prepare_cached(&format!(
                    "SELECT n, {BUILD_SUMMARY} FROM builds WHERE template_id = ?1 AND n < ?2 ORDER BY n DESC LIMIT ?3"
                ))
                .and_then(|mut s| {
                    s.query_map(params![id, before, limit as i64 + 1], |r| Ok((r.get(0)?, build_summary(r, 1)?)))?
                        .collect()
                })
                .map_err(sql(path, "list builds"))?;
            let more = rows.len() > limit;
            let builds: Vec<(i64, BuildSummary)> = rows.into_iter().take(limit).collect();
            let next = if more { builds.last().and_then(|(n, _)| u64::try_from(*n).ok()) } else { None };
            Ok(Some(TemplateDetailsPage { template, builds: builds.into_iter().map(|(_, b)| b).collect(), next }))
        })
        .await
    }

    /// Deletes a template by ID or name, with its builds, tags and log lines; returns what was
    /// deleted, so the caller can stop its running builds and remove their files and image
    /// ([`Store::remove_build_files`]).
    pub async fn delete_template(&self, id_or_name: &str) -> Result<TemplateRecord, StoreError> {
        let id_or_name = id_or_name.to_owned();
        self.write(move |t, path| {
            let (id, name) = find(t, path, &id_or_name)?
                .ok_or_else(|| StoreError::NotFound(format!("template `{id_or_name}` not found")))?;
            let record = load_template(t, path, id.clone(), name)?;
            t.execute("DELETE FROM templates WHERE id = ?1", [&id]).map_err(sql(path, "delete a template"))?;
            tracing::info!(template_id = %id, builds = record.builds.len(), "template deleted");
            Ok(record)
        })
        .await
    }

    /// Removes what the runners staged for these builds (`builds/BUILD_ID`), off the async
    /// workers.
    pub async fn remove_build_files(&self, build_ids: Vec<String>) {
        let builds = self.inner.builds.clone();
        let _ = tokio::task::spawn_blocking(move || {
            for id in build_ids {
                remove_dir(&builds.join(id));
            }
        })
        .await;
    }

    /// A build.
    pub async fn build(&self, template_id: &str, build_id: &str) -> Result<Option<BuildRecord>, StoreError> {
        let (template_id, build_id) = (template_id.to_owned(), build_id.to_owned());
        self.read(move |conn, path| read_build(conn, path, &template_id, &build_id)).await
    }

    /// What a status request answers, read at one instant: the build of the template
    /// `id_or_name` and its log lines `offset..offset + limit`. [`StoreError::NotFound`] names
    /// the template or the build that is missing.
    pub async fn build_with_logs(
        &self,
        id_or_name: &str,
        build_id: &str,
        offset: usize,
        limit: usize,
    ) -> Result<(BuildRecord, Vec<LogEntry>), StoreError> {
        let (id_or_name, build_id) = (id_or_name.to_owned(), build_id.to_owned());
        self.read(move |conn, path| {
            // One read transaction: the state and the lines are of the same moment.
            let snapshot = conn.unchecked_transaction().map_err(sql(path, "begin a read"))?;
            let (template_id, _) = find(&snapshot, path, &id_or_name)?
                .ok_or_else(|| StoreError::NotFound(format!("template `{id_or_name}` not found")))?;
            let build = read_build(&snapshot, path, &template_id, &build_id)?
                .ok_or_else(|| StoreError::NotFound(format!("build `{build_id}` not found")))?;
            let logs = read_logs(&snapshot, path, &template_id, &build_id, offset, limit)?;
            Ok((build, logs))
        })
        .await
    }

    /// Marks a build started (`building`) with its request body. Fails if it was already started.
    ///
    /// The body is stored without its registry credentials: `fromImageRegistry` keeps only its
    /// `type`, and the build is remembered as needing credentials, so a restart that interrupts
    /// it says to resubmit ([`INTERRUPTED_CREDENTIALS`]).
    pub async fn start_build(
        &self,
        template_id: &str,
        build_id: &str,
        mut request: serde_json::Value,
    ) -> Result<(), StoreError> {
        let (template_id, build_id) = (template_id.to_owned(), build_id.to_owned());
        let needs_credentials = strip_credentials(&mut request);
        let request = request.to_string();
        self.write(move |t, path| {
            let started: Option<bool> = t
                .query_row("SELECT started FROM builds WHERE build_id = ?1 AND template_id = ?2", [&build_id, &template_id], |r| r.get(0))
                .optional()
                .map_err(sql(path, "read a build"))?;
            match started {
                None => {
                    return Err(StoreError::NotFound(format!("build `{build_id}` of template `{template_id}` not found")));
                }
                Some(true) => return Err(StoreError::Conflict(format!("build `{build_id}` was already started"))),
                Some(false) => {}
            }
            t.execute(
                "UPDATE builds SET started = 1, status = 'building', request = ?2, needs_credentials = ?3, updated_at = ?4
                 WHERE build_id = ?1",
                params![build_id, request, needs_credentials, now_rfc3339()],
            )
            .map_err(sql(path, "start a build"))?;
            tracing::debug!(%template_id, %build_id, from = "waiting", to = "building", "build state changed");
            Ok(())
        })
        .await
    }

    /// Sets a build's state; an unknown (e.g. deleted) build is left alone.
    pub async fn set_status(
        &self,
        template_id: &str,
        build_id: &str,
        status: BuildState,
        reason: Option<StatusReason>,
    ) -> Result<(), StoreError> {
        let (template_id, build_id) = (template_id.to_owned(), build_id.to_owned());
        self.write(move |t, path| set_state(t, path, &template_id, &build_id, status, reason.as_ref())).await
    }

    /// Appends a log line, in order with every other change, without waiting (callable from any
    /// thread). A line for a build that no longer exists is dropped.
    pub fn append_log(&self, build_id: &str, entry: LogEntry) {
        self.inner.db.log(build_id, entry);
    }

    /// Log lines `offset..offset + limit`, read by line number through the index.
    pub async fn logs(
        &self,
        template_id: &str,
        build_id: &str,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<LogEntry>, StoreError> {
        let (template_id, build_id) = (template_id.to_owned(), build_id.to_owned());
        self.read(move |conn, path| read_logs(conn, path, &template_id, &build_id, offset, limit)).await
    }

    /// Points `tags` of template `name` at the build currently tagged `from_tag` (`default`
    /// falls back to the newest build); returns that build's ID.
    pub async fn assign_tags(&self, name: &str, from_tag: &str, tags: &[String]) -> Result<String, StoreError> {
        let (name, from_tag, tags) = (name.to_owned(), from_tag.to_owned(), tags.to_vec());
        self.write(move |t, path| {
            let (id, _) =
                find(t, path, &name)?.ok_or_else(|| StoreError::NotFound(format!("template `{name}` not found")))?;
            let tagged: Option<String> = t
                .query_row("SELECT build_id FROM tags WHERE template_id = ?1 AND tag = ?2", [&id, &from_tag], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(sql(path, "read a tag"))?;
            let build = match tagged {
                Some(b) => b,
                None if from_tag == "default" => t
                    .query_row(
                        "SELECT build_id FROM builds WHERE template_id = ?1 ORDER BY n DESC LIMIT 1",
                        [&id],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(sql(path, "read a build"))?
                    .ok_or_else(|| StoreError::NotFound(format!("template `{name}` has no build")))?,
                None => return Err(StoreError::NotFound(format!("tag `{from_tag}` of template `{name}` not found"))),
            };
            let now = now_rfc3339();
            for tag in &tags {
                t.execute(
                    "INSERT OR REPLACE INTO tags (template_id, tag, build_id, assigned_at) VALUES (?1, ?2, ?3, ?4)",
                    params![id, tag, build, now],
                )
                .map_err(sql(path, "tag a build"))?;
            }
            Ok(build)
        })
        .await
    }

    /// Removes tags from template `name`.
    pub async fn remove_tags(&self, name: &str, tags: &[String]) -> Result<(), StoreError> {
        let (name, tags) = (name.to_owned(), tags.to_vec());
        self.write(move |t, path| {
            let (id, _) =
                find(t, path, &name)?.ok_or_else(|| StoreError::NotFound(format!("template `{name}` not found")))?;
            for tag in &tags {
                t.execute("DELETE FROM tags WHERE template_id = ?1 AND tag = ?2", [&id, tag])
                    .map_err(sql(path, "remove a tag"))?;
            }
            Ok(())
        })
        .await
    }

    /// The tags of a template, ordered by tag; `None` when there is no such template.
    pub async fn tags(&self, id_or_name: &str) -> Result<Option<Vec<TemplateTag>>, StoreError> {
        let id_or_name = id_or_name.to_owned();
        self.read(move |conn, path| {
            let Some((id, name)) = find(conn, path, &id_or_name)? else { return Ok(None) };
            let t = load_template(conn, path, id, name)?;
            Ok(Some(
                t.tags
                    .into_iter()
                    .map(|(tag, (build_id, created_at))| TemplateTag { tag, build_id, created_at })
                    .collect(),
            ))
        })
        .await
    }
}

fn state_name(s: BuildState) -> &'static str {
    match s {
        BuildState::Waiting => "waiting",
        BuildState::Building => "building",
        BuildState::Ready => "ready",
        BuildState::Error => "error",
    }
}

fn parse_state(s: &str) -> BuildState {
    match s {
        "waiting" => BuildState::Waiting,
        "building" => BuildState::Building,
        "ready" => BuildState::Ready,
        // Only this module writes the column; anything else is a damaged row, shown as failed.
        _ => BuildState::Error,
    }
}

/// The most templates or builds [`Store::list_templates`] and [`Store::template_details`] return
/// at once.
pub const MAX_PAGE: usize = 100;

/// The columns [`build_summary`] reads.
const BUILD_SUMMARY: &str =
    "build_id, status, cpu_count, memory_mb, created_at, COALESCE(updated_at, created_at), finished_at";

/// A [`BuildSummary`] from the [`BUILD_SUMMARY`] columns starting at `first`.
fn build_summary(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<BuildSummary> {
    Ok(BuildSummary {
        build_id: r.get(first)?,
        status: parse_state(&r.get::<_, String>(first + 1)?),
        cpu_count: r.get(first + 2)?,
        memory_mb: r.get(first + 3)?,
        created_at: r.get(first + 4)?,
        updated_at: r.get(first + 5)?,
        finished_at: r.get(first + 6)?,
    })
}

/// The template's list entry: its build count and last build, read through the
/// `builds_by_template` index.
fn summarize(
    conn: &Connection,
    path: &Path,
    id: String,
    name: String,
    created_at: String,
) -> Result<TemplateSummary, StoreError> {
    let (build_count, updated): (i64, Option<String>) = conn
        .prepare_cached("SELECT count(*), max(COALESCE(updated_at, created_at)) FROM builds WHERE template_id = ?1")
        .and_then(|mut s| s.query_row([&id], |r| Ok((r.get(0)?, r.get(1)?))))
        .map_err(sql(path, "count builds"))?;
    let last_build = conn
        .prepare_cached(&format!(
            "SELECT {BUILD_SUMMARY} FROM builds WHERE template_id = ?1 ORDER BY status = 'ready' DESC, n DESC LIMIT 1"
        ))
        .and_then(|mut s| s.query_row([&id], |r| build_summary(r, 0)).optional())
        .map_err(sql(path, "read the last build"))?;
    let updated_at = updated.filter(|u| *u > created_at).unwrap_or_else(|| created_at.clone());
    Ok(TemplateSummary { id, name, created_at, updated_at, build_count: build_count as u64, last_build })
}

/// The ID and name of the template `id_or_name` (a `name:tag` alias finds `name`).
fn find(conn: &Connection, path: &Path, id_or_name: &str) -> Result<Option<(String, String)>, StoreError> {
    let name = id_or_name.split(':').next().unwrap_or(id_or_name);
    conn.prepare_cached(
        "SELECT id, name FROM templates WHERE id = ?1 UNION ALL SELECT id, name FROM templates WHERE name = ?2 LIMIT 1",
    )
    .and_then(|mut s| s.query_row([id_or_name, name], |r| Ok((r.get(0)?, r.get(1)?))).optional())
    .map_err(sql(path, "find a template"))
}

fn read_build(
    conn: &Connection,
    path: &Path,
    template_id: &str,
    build_id: &str,
) -> Result<Option<BuildRecord>, StoreError> {
    conn.prepare_cached(
        "SELECT status, started, request, reason, cpu_count, memory_mb FROM builds
         WHERE build_id = ?1 AND template_id = ?2",
    )
    .and_then(|mut s| {
        s.query_row([build_id, template_id], |r| {
            Ok(BuildRecord {
                template_id: template_id.to_owned(),
                build_id: build_id.to_owned(),
                status: parse_state(&r.get::<_, String>(0)?),
                started: r.get(1)?,
                request: r.get::<_, Option<String>>(2)?.and_then(|r| serde_json::from_str(&r).ok()),
                reason: r.get::<_, Option<String>>(3)?.and_then(|r| serde_json::from_str(&r).ok()),
                cpu_count: r.get(4)?,
                memory_mb: r.get(5)?,
            })
        })
        .optional()
    })
    .map_err(sql(path, "read a build"))
}

/// Log lines `offset..offset + limit`: a seek on the primary key (build, line), not a scan.
fn read_logs(
    conn: &Connection,
    path: &Path,
    template_id: &str,
    build_id: &str,
    offset: usize,
    limit: usize,
) -> Result<Vec<LogEntry>, StoreError> {
    let (offset, limit) = (i64::try_from(offset).unwrap_or(i64::MAX), i64::try_from(limit).unwrap_or(i64::MAX));
    conn.prepare_cached(
        "SELECT l.timestamp, l.level, l.message, l.step FROM logs l JOIN builds b ON l.build_n = b.n
         WHERE b.build_id = ?1 AND b.template_id = ?2 AND l.line >= ?3 ORDER BY l.line LIMIT ?4",
    )
    .and_then(|mut page| {
        page.query_map(params![build_id, template_id, offset, limit], |r| {
            Ok(LogEntry { timestamp: r.get(0)?, level: r.get(1)?, message: r.get(2)?, step: r.get(3)? })
        })?
        .collect()
    })
    .map_err(sql(path, "read a log"))
}

fn load_template(conn: &Connection, path: &Path, id: String, name: String) -> Result<TemplateRecord, StoreError> {
    let builds = conn
        .prepare_cached("SELECT build_id FROM builds WHERE template_id = ?1 ORDER BY n")
        .and_then(|mut s| s.query_map([&id], |r| r.get(0))?.collect())
        .map_err(sql(path, "read builds"))?;
    let tags = conn
        .prepare_cached("SELECT tag, build_id, assigned_at FROM tags WHERE template_id = ?1 ORDER BY tag")
        .and_then(|mut s| s.query_map([&id], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?.collect())
        .map_err(sql(path, "read tags"))?;
    Ok(TemplateRecord { id, name, builds, tags })
}

/// See [`Store::set_status`]: logs the change (template, build, old → new state, reason).
fn set_state(
    t: &Connection,
    path: &Path,
    template_id: &str,
    build_id: &str,
    status: BuildState,
    reason: Option<&StatusReason>,
) -> Result<(), StoreError> {
    let old: Option<String> = t
        .query_row("SELECT status FROM builds WHERE build_id = ?1 AND template_id = ?2", [build_id, template_id], |r| {
            r.get(0)
        })
        .optional()
        .map_err(sql(path, "read a build"))?;
    let Some(old) = old else { return Ok(()) };
    let reason_json = reason.map(|r| serde_json::to_string(r).unwrap_or_default());
    let now = now_rfc3339();
    let finished = matches!(status, BuildState::Ready | BuildState::Error).then_some(&now);
    t.execute(
        "UPDATE builds SET status = ?2, reason = ?3, updated_at = ?4, finished_at = ?5 WHERE build_id = ?1",
        params![build_id, state_name(status), reason_json, now, finished],
    )
    .map_err(sql(path, "set a build's state"))?;
    let to = state_name(status);
    match reason {
        Some(r) => {
            tracing::debug!(template_id, build_id, from = %old, to, reason = %r.message, step = ?r.step, "build state changed")
        }
        None => tracing::debug!(template_id, build_id, from = %old, to, "build state changed"),
    }
    Ok(())
}

/// Replaces `fromImageRegistry` by its `type` alone; returns whether it held anything else
/// (credentials the build needs and the disk must not see).
fn strip_credentials(request: &mut serde_json::Value) -> bool {
    let Some(registry) = request.get_mut("fromImageRegistry") else { return false };
    let kind = registry.get("type").cloned();
    let had = match registry.as_object() {
        Some(o) => o.keys().any(|k| k != "type"),
        None => !registry.is_null(),
    };
    *registry = match kind {
        Some(kind) => serde_json::json!({ "type": kind }),
        None => serde_json::Value::Null,
    };
    had
}

/// At open: marks started, unfinished builds failed (they were interrupted), with the reason in
/// their log too; returns their IDs.
fn fail_interrupted(conn: &mut Connection, path: &Path) -> Result<Vec<String>, StoreError> {
    let tx = conn.transaction().map_err(sql(path, "recover"))?;
    let rows: Vec<(String, String, bool)> = tx
        .prepare("SELECT template_id, build_id, needs_credentials FROM builds WHERE status IN ('waiting', 'building') AND started = 1")
        .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect())
        .map_err(sql(path, "recover"))?;
    for (template_id, build_id, needs_credentials) in &rows {
        let message = if *needs_credentials { INTERRUPTED_CREDENTIALS } else { INTERRUPTED };
        tx.execute(
            "INSERT INTO logs (build_n, line, timestamp, level, step, message)
             SELECT b.n, COALESCE((SELECT MAX(line) + 1 FROM logs WHERE build_n = b.n), 0), ?2, 'error', NULL, ?3
             FROM builds b WHERE b.build_id = ?1",
            params![build_id, now_rfc3339(), format!("ERROR: {message}")],
        )
        .map_err(sql(path, "recover"))?;
        let reason = StatusReason { message: message.to_owned(), step: None, log_entries: vec![] };
        set_state(&tx, path, template_id, build_id, BuildState::Error, Some(&reason))?;
    }
    tx.commit().map_err(sql(path, "recover"))?;
    Ok(rows.into_iter().map(|(_, b, _)| b).collect())
}

/// When the database is new: removes whatever `uploads/` already holds. Those files come from a
/// data folder of an older server (`state.json`, whose templates are not carried over) that
/// stored uploads as `uploads/HASH` without verifying them: kept, they would count as verified
/// archives. A client re-uploads what a build needs.
fn remove_unknown_uploads(uploads: &Path) {
    let Ok(entries) = std::fs::read_dir(uploads) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let removed = match entry.file_type() {
            Ok(t) if t.is_dir() => std::fs::remove_dir_all(&path),
            _ => std::fs::remove_file(&path),
        };
        match removed {
            Ok(()) => {
                tracing::info!(file = %path.display(), "removed an upload of an older data folder (never verified)")
            }
            Err(e) => tracing::warn!(file = %path.display(), "cannot remove an upload of an older data folder: {e}"),
        }
    }
}

/// At open: removes the staged files of interrupted builds and the `.part-*` files and
/// `.verify-*` folders of uploads and verifications cut off when the server stopped (nothing is running yet, so nothing else can be writing them).
fn remove_leftovers(uploads: &Path, builds: &Path, interrupted: &[String]) {
    for id in interrupted {
        remove_dir(&builds.join(id));
    }
    let Ok(entries) = std::fs::read_dir(uploads) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let path = entry.path();
        // `.part-*`: an upload cut off mid-stream; `.verify-*`: the scratch folder of a
        // verification cut off mid-way. `HASH.unverified` is a complete upload: it stays, to be
        // verified by the build that names it.
        let removed = if name.starts_with(".part") {
            std::fs::remove_file(&path)
        } else if name.starts_with(".verify-") {
            std::fs::remove_dir_all(&path)
        } else {
            continue;
        };
        match removed {
            Ok(()) => {
                tracing::info!(file = %path.display(), "removed an upload or verification cut off by the last stop")
            }
            Err(e) => tracing::warn!(file = %path.display(), "cannot remove an unfinished upload or verification: {e}"),
        }
    }
}

fn remove_dir(dir: &Path) {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => tracing::info!(folder = %dir.display(), "removed a build's staged files"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(folder = %dir.display(), "cannot remove a build's staged files: {e}"),
    }
}
