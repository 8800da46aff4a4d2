//! The database plumbing under [`Store`](super::Store): how `state.db` is opened, migrated and
//! shared.
//!
//! - One **writer thread** owns the only connection that writes. Every change is a closure sent to
//!   it and run in its own transaction; the caller awaits the answer. One writer means changes
//!   never wait on SQLite's file lock (whose busy handler sleeps), and they apply in the order
//!   they were sent, so a build's log lines are stored before the state that ends it.
//! - Log lines are sent without waiting for an answer (a build's runner logs from any thread);
//!   lines queued back to back are stored in one transaction.
//! - **Reads** take a connection from a small pool, on a blocking thread (the async wrappers in
//!   `Store` call [`Db::read`] through `spawn_blocking`). In WAL mode they never wait on the
//!   writer.
//! - **Migrations** are an ordered list of SQL scripts; `PRAGMA user_version` counts how many are
//!   applied. A database written by a newer version (a higher count) is refused, not guessed at.

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, mpsc};
use std::thread::JoinHandle;

use rusqlite::{Connection, OpenFlags, params};
use sandbox_template_runtime::cloud::LogEntry;

use super::{StoreError, sql as db_error};

/// The schema, one script per version: `MIGRATIONS[i]` takes a database from version `i` to
/// `i + 1`. Append only: a released script never changes.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: templates, builds, tags and log lines.
    "CREATE TABLE templates (
         id TEXT PRIMARY KEY NOT NULL,
         name TEXT NOT NULL UNIQUE,
         created_at TEXT NOT NULL
     ) STRICT;
     CREATE TABLE builds (
         n INTEGER PRIMARY KEY,
         build_id TEXT NOT NULL UNIQUE,
         template_id TEXT NOT NULL REFERENCES templates(id) ON DELETE CASCADE,
         status TEXT NOT NULL,
         started INTEGER NOT NULL DEFAULT 0,
         request TEXT,
         needs_credentials INTEGER NOT NULL DEFAULT 0,
         reason TEXT,
         cpu_count INTEGER,
         memory_mb INTEGER,
         created_at TEXT NOT NULL
     ) STRICT;
     CREATE INDEX builds_by_template ON builds(template_id, n);
     CREATE INDEX builds_unfinished ON builds(status) WHERE status IN ('waiting', 'building');
     CREATE TABLE tags (
         template_id TEXT NOT NULL REFERENCES templates(id) ON DELETE CASCADE,
         tag TEXT NOT NULL,
         build_id TEXT NOT NULL REFERENCES builds(build_id) ON DELETE CASCADE,
         assigned_at TEXT NOT NULL,
         PRIMARY KEY (template_id, tag)
     ) STRICT, WITHOUT ROWID;
     CREATE INDEX tags_by_build ON tags(build_id);
     CREATE TABLE logs (
         build_n INTEGER NOT NULL REFERENCES builds(n) ON DELETE CASCADE,
         line INTEGER NOT NULL,
         timestamp TEXT NOT NULL,
         level TEXT NOT NULL,
         step TEXT,
         message TEXT NOT NULL,
         PRIMARY KEY (build_n, line)
     ) STRICT, WITHOUT ROWID;",
    // 2: when a build last changed and when it finished (the template list and details show
    // them); a build from version 1 reads its creation time for both.
    "ALTER TABLE builds ADD COLUMN updated_at TEXT;
     ALTER TABLE builds ADD COLUMN finished_at TEXT;",
];

/// Connections kept for reads (more are opened when all are busy, and closed after use).
const READERS: usize = 4;
/// Changes queued for the writer before senders wait (bounds the memory of a log flood).
const QUEUE: usize = 4096;
/// Most log lines stored in one transaction.
const LOG_BATCH: usize = 1024;

/// A change for the writer thread.
pub(super) type Change = Box<dyn FnOnce(&mut Connection) + Send>;

enum Command {
    Change(Change),
    Log { build_id: String, entry: LogEntry },
}

/// `state.db`: its writer thread and its read connections.
pub(super) struct Db {
    path: PathBuf,
    writer: Option<mpsc::SyncSender<Command>>,
    thread: Option<JoinHandle<()>>,
    readers: Mutex<Vec<Connection>>,
}

/// Creates `dir` (and missing parents) readable by the owner only, and makes it so if it existed.
pub(super) fn private_dir(dir: &Path) -> Result<(), StoreError> {
    let io = |source| StoreError::Io { path: dir.to_owned(), source };
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(io)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)
}

/// Creates `file` (if missing) readable and writable by the owner only, and makes it so if it
/// existed, before SQLite opens it (SQLite gives its `-wal` and `-shm` files the same mode).
fn private_file(file: &Path) -> Result<(), StoreError> {
    let io = |source| StoreError::Io { path: file.to_owned(), source };
    std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(file).map_err(io)?;
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600)).map_err(io)
}

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(db_error(path, "open"))?;
    // NORMAL in WAL mode: a commit survives the server's crash; a power cut may lose the last
    // ones, never the database. FULL would sync the disk on every log line.
    conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000;")
        .map_err(|source| damaged(path, "configure", source))?;
    Ok(conn)
}

/// Brings the schema to the newest version, one transaction per migration; returns the version
/// found (0: a new database).
pub(super) fn migrate(conn: &mut Connection, path: &Path) -> Result<i64, StoreError> {
    let found: i64 =
        conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(db_error(path, "read the version"))?;
    let supported = MIGRATIONS.len() as i64;
    if found > supported {
        return Err(StoreError::NewerSchema { path: path.to_owned(), found, supported });
    }
    for (done, script) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction().map_err(db_error(path, "migrate"))?;
        tx.execute_batch(script).map_err(db_error(path, "migrate"))?;
        tx.pragma_update(None, "user_version", done as i64 + 1).map_err(db_error(path, "migrate"))?;
        tx.commit().map_err(db_error(path, "migrate"))?;
    }
    Ok(found)
}

impl Db {
    /// Opens (creating it 0600 if needed) and migrates `path`, runs `recover` on the write
    /// connection before anything else can use it (with the schema version found: 0 for a new
    /// database), then starts the writer thread.
    pub(super) fn open(
        path: PathBuf,
        recover: impl FnOnce(&mut Connection, i64) -> Result<(), StoreError>,
    ) -> Result<Db, StoreError> {
        private_file(&path)?;
        let mut conn = connect(&path)?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(|source| damaged(&path, "switch to WAL mode", source))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Database {
                path: path.clone(),
                what: "switch to WAL mode",
                source: rusqlite::Error::InvalidQuery,
            });
        }
        for suffix in ["-wal", "-shm"] {
            let side = PathBuf::from(format!("{}{suffix}", path.display()));
            if side.exists() {
                private_file(&side)?;
            }
        }
        let found = migrate(&mut conn, &path)?;
        recover(&mut conn, found)?;
        let (writer, queue) = mpsc::sync_channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("state.db writer".to_owned())
            .spawn(move || write_loop(conn, queue))
            .map_err(|source| StoreError::Io { path: path.clone(), source })?;
        Ok(Db { path, writer: Some(writer), thread: Some(thread), readers: Mutex::new(Vec::new()) })
    }

    /// The database file.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `change` on the writer thread; `change` opens its own transaction.
    pub(super) fn send(&self, change: Change) -> Result<(), StoreError> {
        let writer = self.writer.as_ref().ok_or(StoreError::Closed)?;
        writer.send(Command::Change(change)).map_err(|_| StoreError::Closed)
    }

    /// Queues a log line; stored in order with every other change, without an answer. A line
    /// for a build that no longer exists is dropped there.
    pub(super) fn log(&self, build_id: &str, entry: LogEntry) {
        if let Some(writer) = &self.writer {
            let _ = writer.send(Command::Log { build_id: build_id.to_owned(), entry });
        }
    }

    /// Runs `read` on a pooled read connection (blocking: call it off the async workers).
    pub(super) fn read<T>(&self, read: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let pooled = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match pooled {
            Some(c) => c,
            None => {
                let c = connect(&self.path)?;
                c.execute_batch("PRAGMA query_only = ON;").map_err(db_error(&self.path, "configure"))?;
                c
            }
        };
        let result = read(&conn);
        let mut pool = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < READERS {
            pool.push(conn);
        }
        result
    }
}

/// `file is not a database` gets the fix with it.
fn damaged(path: &Path, what: &'static str, source: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(e, _) = &source
        && e.code == rusqlite::ErrorCode::NotADatabase
    {
        return StoreError::Damaged { path: path.to_owned(), source };
    }
    StoreError::Database { path: path.to_owned(), what, source }
}

impl Drop for Db {
    /// Stores what is queued, then closes the database: a store opened again over the same
    /// folder sees every change made through this one.
    fn drop(&mut self) {
        drop(self.writer.take());
        if let Some(thread) = self.thread.take()
            && thread.thread().id() != std::thread::current().id()
        {
            let _ = thread.join();
        }
    }
}

fn write_loop(mut conn: Connection, queue: mpsc::Receiver<Command>) {
    let mut next = queue.recv().ok();
    while let Some(command) = next.take() {
        match command {
            Command::Change(change) => {
                change(&mut conn);
                next = queue.recv().ok();
            }
            Command::Log { build_id, entry } => {
                let mut batch = vec![(build_id, entry)];
                // Lines queued behind this one go into the same transaction; anything else is
                // kept for the next round, so the order is unchanged.
                while batch.len() < LOG_BATCH {
                    match queue.try_recv() {
                        Ok(Command::Log { build_id, entry }) => batch.push((build_id, entry)),
                        Ok(other) => {
                            next = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                if let Err(e) = store_lines(&mut conn, &batch) {
                    tracing::error!(lines = batch.len(), "cannot store build log lines: {e}");
                }
                if next.is_none() {
                    next = queue.recv().ok();
                }
            }
        }
    }
}

fn store_lines(conn: &mut Connection, batch: &[(String, LogEntry)]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    {
        // A line of a deleted build matches no build and inserts nothing: it cannot come back
        // as an orphan.
        let mut insert = tx.prepare_cached(
            "INSERT INTO logs (build_n, line, timestamp, level, step, message)
             SELECT b.n, COALESCE((SELECT MAX(line) + 1 FROM logs WHERE build_n = b.n), 0), ?2, ?3, ?4, ?5
             FROM builds b WHERE b.build_id = ?1",
        )?;
        for (build_id, e) in batch {
            insert.execute(params![build_id, e.timestamp, e.level, e.step, e.message])?;
        }
    }
    tx.commit()
}
