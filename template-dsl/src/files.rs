//! Reading the build context at compile time: which files a `copy` source names (for the
//! "matches nothing" and "symlink escapes" checks, rebuild tracking and `embed;`).
//!
//! ADAPTER. The real enumeration (Docker's `.dockerignore` rules and the SDK's glob semantics,
//! exactly as the runtime hashes and uploads) is `template_runtime::context::{BuildContext,
//! plan_embedding}`, written on the `context` branch. Until it is merged this module carries a
//! small `std::fs` fallback with the same interface; swapping in the real one is replacing the
//! bodies of `Context::open`, `Context::entries` and `plan_embedding` with calls to
//! `BuildContext::open(..)?.with_ignore_patterns(..)`, `BuildContext::entries(src, resolve)` and
//! `context::plan_embedding` (mapping `Error::NoFiles` / `Error::SymlinkEscapes` to
//! [`FilesError`]).

use std::path::{Path, PathBuf};

/// At most this many copied files are tracked for rebuilds with `include_bytes!` (each tracked file
/// is read by rustc on every build of the crate). Beyond it, edits to the remaining files do not
/// trigger a rebuild by themselves; `embed;` still compiles every file.
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
}

/// One file, folder or symlink a `copy` source names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Path relative to the context folder, `/`-separated.
    pub rel: String,
    /// Absolute path on this machine.
    pub abs: PathBuf,
    /// What it is.
    pub kind: EntryKind,
    /// Full `st_mode`, file type bits included (`0o100644` for a plain file).
    pub mode: u32,
}

/// Why a `copy` source cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FilesError {
    /// Nothing matches (after ignore rules).
    NoMatch,
    /// A symlink inside the copied tree points outside the context folder.
    SymlinkEscapes(String),
    /// The folder could not be read.
    Io(String),
}

/// A context folder with its ignore rules.
#[derive(Clone, Debug)]
pub struct Context {
    root: PathBuf,
    ignore: Vec<String>,
}

impl Context {
    /// Opens `root`, reading its `.dockerignore` (if any) followed by `extra_ignore`.
    pub fn open(root: &Path, extra_ignore: &[String]) -> Result<Context, String> {
        if !root.is_dir() {
            return Err(format!("context folder `{}` does not exist", root.display()));
        }
        let mut ignore = Vec::new();
        if let Ok(text) = std::fs::read_to_string(root.join(".dockerignore")) {
            ignore
                .extend(text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(String::from));
        }
        ignore.extend(extra_ignore.iter().cloned());
        Ok(Context { root: root.to_owned(), ignore })
    }

    /// The context folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Everything `src` (a path or glob relative to the context) names, folders expanded. With
    /// `resolve_symlinks`, a symlink leading out of the context is an error (a link copied as a
    /// link is fine wherever it points).
    pub fn entries(&self, src: &str, resolve_symlinks: bool) -> Result<Vec<Entry>, FilesError> {
        let src = normalize(src);
        let mut all = Vec::new();
        self.walk(&self.root, "", &mut all)?;
        let is_glob = src.contains(['*', '?', '[']);
        let hits: Vec<Entry> = all
            .into_iter()
            .filter(|e| {
                if src.is_empty() {
                    return true;
                }
                let top = if is_glob { glob(&src, &e.rel) } else { e.rel == src };
                top || ancestors(&e.rel).any(|a| if is_glob { glob(&src, a) } else { a == src })
            })
            .collect();
        if hits.is_empty() {
            return Err(FilesError::NoMatch);
        }
        let canon_root = self.root.canonicalize().map_err(|e| FilesError::Io(e.to_string()))?;
        for e in hits.iter().filter(|_| resolve_symlinks) {
            if let EntryKind::Symlink(_) = e.kind {
                if let Ok(target) = e.abs.canonicalize() {
                    if !target.starts_with(&canon_root) {
                        return Err(FilesError::SymlinkEscapes(e.rel.clone()));
                    }
                }
            }
        }
        Ok(hits)
    }

    fn ignored(&self, rel: &str) -> bool {
        let mut ignored = false;
        for pattern in &self.ignore {
            let (negate, p) = match pattern.strip_prefix('!') {
                Some(p) => (true, p),
                None => (false, pattern.as_str()),
            };
            let p = normalize(p);
            if glob(&p, rel) || ancestors(rel).any(|a| glob(&p, a)) {
                ignored = !negate;
            }
        }
        ignored
    }

    fn walk(&self, dir: &Path, prefix: &str, out: &mut Vec<Entry>) -> Result<(), FilesError> {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| FilesError::Io(format!("{}: {e}", dir.display())))?
            .filter_map(|e| e.ok())
            .collect();
        names.sort_by_key(|e| e.file_name());
        for entry in names {
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
            if self.ignored(&rel) {
                continue;
            }
            let abs = entry.path();
            let Ok(meta) = std::fs::symlink_metadata(&abs) else { continue };
            let mode = mode_of(&meta);
            if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&abs).map(|t| t.to_string_lossy().into_owned()).unwrap_or_default();
                out.push(Entry { rel, abs, kind: EntryKind::Symlink(target), mode });
            } else if meta.is_dir() {
                out.push(Entry { rel: rel.clone(), abs: abs.clone(), kind: EntryKind::Dir, mode });
                self.walk(&abs, &rel, out)?;
            } else {
                out.push(Entry { rel, abs, kind: EntryKind::File, mode });
            }
        }
        Ok(())
    }
}

#[cfg(unix)]
fn mode_of(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::MetadataExt;
    meta.mode()
}

#[cfg(not(unix))]
fn mode_of(meta: &std::fs::Metadata) -> u32 {
    if meta.is_dir() { 0o040755 } else { 0o100644 }
}

/// What `embed;` compiles in for the copies `sources` (`(src, resolve_symlinks)`): what they
/// select, their parent folders, the context folder (`.`) and its `.dockerignore`, sorted by path.
pub fn plan_embedding(cx: &Context, sources: &[(String, bool)]) -> Result<Vec<Entry>, FilesError> {
    let mut all: std::collections::BTreeMap<String, Entry> = std::collections::BTreeMap::new();
    let root_meta = std::fs::metadata(&cx.root).map_err(|e| FilesError::Io(e.to_string()))?;
    all.insert(
        ".".into(),
        Entry { rel: ".".into(), abs: cx.root.clone(), kind: EntryKind::Dir, mode: mode_of(&root_meta) },
    );
    let ignore_file = cx.root.join(".dockerignore");
    if let Ok(meta) = std::fs::metadata(&ignore_file) {
        let e = Entry { rel: ".dockerignore".into(), abs: ignore_file, kind: EntryKind::File, mode: mode_of(&meta) };
        all.insert(e.rel.clone(), e);
    }
    for (src, resolve) in sources {
        for e in cx.entries(src, *resolve)? {
            for parent in ancestors(&e.rel) {
                if !all.contains_key(parent) {
                    let abs = cx.root.join(parent);
                    let meta = std::fs::metadata(&abs).map_err(|e| FilesError::Io(e.to_string()))?;
                    all.insert(
                        parent.to_owned(),
                        Entry { rel: parent.to_owned(), abs, kind: EntryKind::Dir, mode: mode_of(&meta) },
                    );
                }
            }
            all.insert(e.rel.clone(), e);
        }
    }
    Ok(all.into_values().collect())
}

/// `./a//b/` -> `a/b`.
fn normalize(p: &str) -> String {
    p.split('/').filter(|s| !s.is_empty() && *s != ".").collect::<Vec<_>>().join("/")
}

/// `a/b/c` -> `a/b`, `a`.
fn ancestors(rel: &str) -> impl Iterator<Item = &str> {
    rel.char_indices().rev().filter(|(_, c)| *c == '/').map(move |(i, _)| &rel[..i])
}

/// Glob match over `/`-separated segments: `**` spans segments, `*` and `?` stay within one.
fn glob(pattern: &str, path: &str) -> bool {
    fn segs(p: &[&str], s: &[&str]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some((&"**", rest)) => (0..=s.len()).any(|i| segs(rest, &s[i..])),
            Some((first, rest)) => {
                s.split_first().is_some_and(|(h, t)| seg(first.as_bytes(), h.as_bytes()) && segs(rest, t))
            }
        }
    }
    fn seg(p: &[u8], s: &[u8]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some((b'*', rest)) => (0..=s.len()).any(|i| seg(rest, &s[i..])),
            Some((b'?', rest)) => !s.is_empty() && seg(rest, &s[1..]),
            Some((c, rest)) => s.first() == Some(c) && seg(rest, &s[1..]),
        }
    }
    let p: Vec<&str> = pattern.split('/').collect();
    let s: Vec<&str> = path.split('/').collect();
    segs(&p, &s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("*.py", "main.py"));
        assert!(!glob("*.py", "app/main.py"));
        assert!(glob("**/*.py", "app/main.py"));
        assert!(glob("**/*.py", "main.py"));
        assert!(glob("a?c", "abc"));
    }

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
