//! Context files compiled into the binary (`template! { embed; ... }`).
//!
//! The macro lists what to embed with [`plan_embedding`](super::plan_embedding) (the same
//! enumeration as at run time, so it never re-implements walking), then emits an
//! [`EmbeddedDir`] of `'static` data.
//! Hashing and archiving an embedded context give exactly the `filesHash` and archive entries of
//! the folder it was made from.

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use super::meta::{EntryKind, Meta, S_IFDIR, join, kind_of_mode};

/// What an embedded entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmbeddedKind {
    /// A regular file and its bytes (usually `include_bytes!`).
    File(&'static [u8]),
    /// A directory (its entries are listed separately).
    Dir,
    /// A symbolic link and its target, exactly as `readlink` returned it.
    Symlink(&'static str),
}

/// One file, folder or symlink of an [`EmbeddedDir`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmbeddedEntry {
    /// Path relative to the context folder, `/`-separated; `.` is the context folder itself.
    pub path: &'static str,
    /// Full `st_mode`, file type bits included (`0o100644` for a plain file).
    pub mode: u32,
    /// The content.
    pub kind: EmbeddedKind,
}

/// A build context compiled into the binary.
///
/// ```
/// use sandbox_template_runtime::context::{BuildContext, EmbeddedDir, EmbeddedEntry, EmbeddedKind};
///
/// static FILES: EmbeddedDir = EmbeddedDir::new("/src/app", &[
///     EmbeddedEntry { path: ".", mode: 0o040755, kind: EmbeddedKind::Dir },
///     EmbeddedEntry { path: "app", mode: 0o040755, kind: EmbeddedKind::Dir },
///     EmbeddedEntry { path: "app/main.py", mode: 0o100644, kind: EmbeddedKind::File(b"print(1)\n") },
/// ]);
///
/// let ctx = BuildContext::embedded(&FILES).unwrap();
/// let paths: Vec<String> =
///     ctx.entries("app", false).unwrap().iter().map(|e| e.path().display().to_string()).collect();
/// assert_eq!(paths, ["app", "app/main.py"]);
/// ```
pub struct EmbeddedDir {
    source_dir: &'static str,
    entries: &'static [EmbeddedEntry],
    index: OnceLock<Index>,
}

#[derive(Default)]
struct Index {
    by_path: HashMap<&'static str, usize>,
    children: HashMap<&'static str, Vec<usize>>,
}

impl std::fmt::Debug for EmbeddedDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedDir")
            .field("source_dir", &self.source_dir)
            .field("entries", &self.entries.len())
            .finish()
    }
}

/// `.` → `` (the root), other paths unchanged.
fn key(path: &str) -> &str {
    let p = path.trim_end_matches('/');
    if p == "." { "" } else { p.strip_prefix("./").unwrap_or(p) }
}

const ROOT_META: Meta = Meta { kind: EntryKind::Dir, mode: S_IFDIR | 0o755, size: 0 };

impl EmbeddedDir {
    /// Embedded files of the folder `source_dir`. `entries` should contain the root (`.`); a
    /// missing root is a directory with mode `0o755`.
    pub const fn new(source_dir: &'static str, entries: &'static [EmbeddedEntry]) -> Self {
        EmbeddedDir { source_dir, entries, index: OnceLock::new() }
    }

    /// The folder the files were compiled from.
    pub fn source_dir(&self) -> &'static str {
        self.source_dir
    }

    /// The embedded entries, as given.
    pub fn entries(&self) -> &'static [EmbeddedEntry] {
        self.entries
    }

    fn index(&self) -> &Index {
        self.index.get_or_init(|| {
            let mut index = Index::default();
            for (i, e) in self.entries.iter().enumerate() {
                let k = key(e.path);
                index.by_path.insert(k, i);
                if !k.is_empty() {
                    let parent = k.rfind('/').map_or("", |p| &k[..p]);
                    index.children.entry(parent).or_default().push(i);
                }
            }
            index
        })
    }

    pub(crate) fn lookup(&self, rel: &[u8]) -> Option<usize> {
        let rel = std::str::from_utf8(rel).ok()?;
        self.index().by_path.get(rel).copied()
    }

    /// The entries of the directory `rel` (symlinks on the way followed).
    pub(crate) fn children(&self, rel: &[u8]) -> &[usize] {
        match self.resolve(rel) {
            Some(r) => self.index().children.get(r.as_str()).map_or(&[], Vec::as_slice),
            None => &[],
        }
    }

    pub(crate) fn entry_path(&self, i: usize) -> &'static str {
        key(self.entries[i].path)
    }

    pub(crate) fn meta(&self, i: usize) -> Meta {
        let e = &self.entries[i];
        let size = match e.kind {
            EmbeddedKind::File(data) => data.len() as u64,
            EmbeddedKind::Symlink(target) => target.len() as u64,
            EmbeddedKind::Dir => 0,
        };
        Meta { kind: kind_of_mode(e.mode), mode: e.mode, size }
    }

    /// `lstat` of `rel`.
    pub(crate) fn lstat(&self, rel: &[u8]) -> Option<Meta> {
        if rel.is_empty() {
            return Some(self.lookup(rel).map_or(ROOT_META, |i| self.meta(i)));
        }
        // Symlinks on the way are followed, the last step is not.
        let (parent, name) = match rel.iter().rposition(|&b| b == b'/') {
            Some(p) => (&rel[..p], &rel[p + 1..]),
            None => (&b""[..], rel),
        };
        let parent = self.resolve(parent)?;
        let real = join(parent.as_bytes(), name);
        self.lookup(&real).map(|i| self.meta(i))
    }

    /// `stat` of `rel`: symlinks followed inside the embedded tree (absolute targets only when
    /// they point under `source_dir`).
    pub(crate) fn stat(&self, rel: &[u8]) -> Option<Meta> {
        let resolved = self.resolve(rel)?;
        self.lstat(resolved.as_bytes())
    }

    /// The path `rel` leads to with every symlink followed; `None` if it leaves the tree, is
    /// missing or loops.
    pub(crate) fn resolve(&self, rel: &[u8]) -> Option<String> {
        let rel = std::str::from_utf8(rel).ok()?;
        let mut pending: Vec<String> = rel.split('/').rev().map(str::to_owned).collect();
        let mut cur: Vec<String> = Vec::new();
        let mut hops = 0;
        while let Some(c) = pending.pop() {
            match c.as_str() {
                "" | "." => continue,
                ".." => {
                    cur.pop()?;
                    continue;
                }
                _ => {}
            }
            let mut candidate = cur.clone();
            candidate.push(c);
            let path = candidate.join("/");
            let i = self.lookup(path.as_bytes())?;
            match self.entries[i].kind {
                EmbeddedKind::Symlink(target) => {
                    hops += 1;
                    if hops > 40 {
                        return None;
                    }
                    let target = if target.starts_with('/') {
                        cur.clear();
                        let rest = Path::new(target).strip_prefix(self.source_dir).ok()?;
                        rest.to_str()?.to_owned()
                    } else {
                        target.to_owned()
                    };
                    pending.extend(target.split('/').rev().map(str::to_owned));
                }
                EmbeddedKind::Dir => cur = candidate,
                EmbeddedKind::File(_) => {
                    if pending.iter().any(|p| !p.is_empty() && p != ".") {
                        return None;
                    }
                    cur = candidate;
                }
            }
        }
        Some(cur.join("/"))
    }

    /// The bytes of the file `rel` (symlinks followed).
    pub(crate) fn data(&self, rel: &[u8]) -> Option<&'static [u8]> {
        let resolved = self.resolve(rel)?;
        match self.entries[self.lookup(resolved.as_bytes())?].kind {
            EmbeddedKind::File(data) => Some(data),
            _ => None,
        }
    }
}
