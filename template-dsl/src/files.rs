//! Reading the build context at compile time: which files a `copy` source names (for the
//! "matches nothing" and "symlink escapes" checks, rebuild tracking and `embed;`).
//!
//! The enumeration is the runtime's own ([`sandbox_template_runtime::context::BuildContext`]): the same
//! globs, `.dockerignore` rules and symlink handling as when the template is hashed and uploaded,
//! so the macro accepts exactly the copies the build will accept.

use std::path::{Path, PathBuf};

use sandbox_template_runtime::Error;
// The embedding planner is plumbing the runtime keeps out of its public API for this crate.
use sandbox_template_runtime::__private::{EmbedSource, PlannedKind};
use sandbox_template_runtime::context::{self as rt, BuildContext};

/// At most this many copied files are tracked for rebuilds with `include_bytes!` (each tracked file
/// is read by rustc on every build of the crate). Beyond it, edits to the remaining files do not
/// trigger a rebuild by themselves; `embed;` still compiles every file.
// Quoted in the crate docs (lib.rs): keep the two in step.
pub const TRACK_LIMIT: usize = 2000;

/// What a context entry is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A folder.
    Dir,
    /// A symlink, with its target as written.
    Symlink(String),
    /// A FIFO, socket or device (never tracked nor embedded).
    Other,
}

/// One file, folder or symlink a `copy` source names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Path relative to the context folder, `/`-separated (`.`: the folder itself).
    pub rel: String,
    /// Absolute path on this machine.
    pub abs: PathBuf,
    /// What it is.
    pub kind: EntryKind,
    /// Full `st_mode`, file type bits included (`0o100644` for a plain file).
    pub mode: u32,
}

/// Why a `copy` source cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FilesError {
    /// Nothing matches (after ignore rules).
    #[error("no file matches a copy source")]
    NoMatch,
    /// A symlink inside the copied tree points outside the context folder.
    #[error("symlink `{0}` points outside the context folder")]
    SymlinkEscapes(String),
    /// Anything else (unreadable files, names that are not UTF-8, ...): the runtime error's
    /// message, which names the file and the OS error.
    #[error("{0}")]
    Io(String),
}

impl From<Error> for FilesError {
    fn from(e: Error) -> Self {
        match e {
            Error::NoFiles { .. } => FilesError::NoMatch,
            Error::SymlinkEscapes { path, .. } => FilesError::SymlinkEscapes(path.display().to_string()),
            e => FilesError::Io(e.to_string()),
        }
    }
}

/// A context folder with its ignore rules.
#[derive(Clone, Debug)]
pub struct Context {
    root: PathBuf,
    ignore: Vec<String>,
    cx: BuildContext,
}

impl Context {
    /// Opens `root`, reading its `.dockerignore` (if any) followed by `extra_ignore`.
    pub fn open(root: &Path, extra_ignore: &[String]) -> Result<Context, String> {
        let cx = BuildContext::open(root)
            .and_then(|cx| cx.with_ignore_patterns(extra_ignore.iter().cloned()))
            .map_err(|e| e.to_string())?;
        Ok(Context { root: root.to_owned(), ignore: extra_ignore.to_vec(), cx })
    }

    /// The context folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Everything `src` (a path or glob relative to the context) selects, folders expanded.
    pub fn entries(&self, src: &str, resolve_symlinks: bool) -> Result<Vec<Entry>, FilesError> {
        let entries = self.cx.entries(src, resolve_symlinks).map_err(|e| match e {
            // Name the link as the user wrote it: relative to the context.
            Error::SymlinkEscapes { path, .. } => {
                FilesError::SymlinkEscapes(path.strip_prefix(&self.root).unwrap_or(&path).display().to_string())
            }
            e => e.into(),
        })?;
        Ok(entries
            .iter()
            .map(|e| {
                let rel = e.path().to_string_lossy().into_owned();
                let kind = match e.kind() {
                    rt::EntryKind::File => EntryKind::File,
                    rt::EntryKind::Dir => EntryKind::Dir,
                    rt::EntryKind::Symlink => EntryKind::Symlink(
                        e.link_target().map(|t| t.to_string_lossy().into_owned()).unwrap_or_default(),
                    ),
                    rt::EntryKind::Other => EntryKind::Other,
                };
                Entry { abs: self.root.join(&rel), rel, kind, mode: e.mode() }
            })
            .collect())
    }
}

/// What `embed;` compiles in for the copies `sources` (`(src, resolve_symlinks)`), as the runtime
/// plans it: what they select, their parent folders, the context folder (`.`), its
/// `.dockerignore`, and the targets of resolved symlinks, sorted by path.
pub fn plan_embedding(cx: &Context, sources: &[(String, bool)]) -> Result<Vec<Entry>, FilesError> {
    let sources: Vec<EmbedSource> =
        sources.iter().map(|(src, resolve)| EmbedSource { src: src.clone(), resolve_symlinks: *resolve }).collect();
    let plan = sandbox_template_runtime::__private::plan_embedding(&cx.root, &cx.ignore, &sources)?;
    Ok(plan
        .into_iter()
        .map(|p| Entry {
            rel: p.path,
            abs: p.disk_path,
            kind: match p.kind {
                PlannedKind::File => EntryKind::File,
                PlannedKind::Dir => EntryKind::Dir,
                PlannedKind::Symlink(target) => EntryKind::Symlink(target),
            },
            mode: p.mode,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_respect_ignores_and_report_no_match() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("app")).unwrap();
        std::fs::write(dir.path().join("app/main.py"), "x").unwrap();
        std::fs::write(dir.path().join("app/debug.log"), "x").unwrap();
        std::fs::write(dir.path().join(".dockerignore"), "*.tmp\n").unwrap();
        std::fs::write(dir.path().join("x.tmp"), "x").unwrap();
        let cx = Context::open(dir.path(), &["**/*.log".into()]).unwrap();
        let rels: Vec<_> = cx.entries("app", false).unwrap().into_iter().map(|e| e.rel).collect();
        assert_eq!(rels, ["app", "app/main.py"]);
        assert_eq!(cx.entries("x.tmp", false), Err(FilesError::NoMatch));
        assert_eq!(cx.entries("missing", false), Err(FilesError::NoMatch));
        assert_eq!(cx.entries("**/*.py", false).unwrap().len(), 1);
        let plan: Vec<_> =
            plan_embedding(&cx, &[("app/main.py".into(), false)]).unwrap().into_iter().map(|e| e.rel).collect();
        assert_eq!(plan, [".", ".dockerignore", "app", "app/main.py"]);
    }
}
