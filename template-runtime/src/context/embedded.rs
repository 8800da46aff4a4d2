//! Context files compiled into the binary (`template! { embed; ... }`).
//!
//! The macro lists what to embed with [`plan_embedding`] (the same enumeration as at run time,
//! so it never re-implements walking), then emits an [`EmbeddedDir`] of `'static` data.
//! Hashing and archiving an embedded context give exactly the `filesHash` and archive entries of
//! the folder it was made from.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::fs::{EntryKind, Fs, Meta, S_IFDIR, kind_of_mode};
use super::{BuildContext, walk};
use crate::error::Error;

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
        let real = super::fs::join(parent.as_bytes(), name);
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

type Wanted = BTreeMap<Vec<u8>, ()>;

fn add_with_parents(rel: &[u8], wanted: &mut Wanted) {
    let mut end = rel.len();
    wanted.insert(rel.to_vec(), ());
    while let Some(p) = rel[..end].iter().rposition(|&b| b == b'/') {
        wanted.insert(rel[..p].to_vec(), ());
        end = p;
    }
}

/// Adds `rel` where it really is (its folder with symlinks followed), plus the symlinks on the
/// way, so the embedded tree resolves `rel` the way the disk does.
fn add_real(fs: &Fs<'_>, dir: &Path, rel: &[u8], wanted: &mut Wanted) -> Result<(), Error> {
    let Some(slash) = rel.iter().rposition(|&b| b == b'/') else {
        add_with_parents(rel, wanted);
        return Ok(());
    };
    let (parent, name) = (&rel[..slash], &rel[slash + 1..]);
    for (i, &b) in parent.iter().enumerate() {
        if b == b'/' && fs.lstat(&parent[..i])?.is_some_and(|m| m.kind == EntryKind::Symlink) {
            add_real(fs, dir, &parent[..i], wanted)?;
        }
    }
    if fs.lstat(parent)?.is_some_and(|m| m.kind == EntryKind::Symlink) {
        add_real(fs, dir, parent, wanted)?;
    }
    let canonical = |p: PathBuf| std::fs::canonicalize(&p).map_err(|source| Error::Io { path: p, source });
    let root = canonical(dir.to_path_buf())?;
    let real_parent = canonical(fs.disk_path(parent))?;
    if let Ok(inside) = real_parent.strip_prefix(&root) {
        let real = super::fs::join(&walk::path_bytes(inside), name);
        add_with_parents(&real, wanted);
    }
    Ok(())
}

/// One entry [`plan_embedding`] says to embed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedEntry {
    /// Path relative to the context, `/`-separated (`.` for the context folder): the
    /// [`EmbeddedEntry::path`] to emit.
    pub path: String,
    /// The file on disk (for `include_bytes!`, which also makes Cargo rebuild when it changes).
    pub disk_path: PathBuf,
    /// Full `st_mode` ([`EmbeddedEntry::mode`]).
    pub mode: u32,
    /// What to emit.
    pub kind: PlannedKind,
}

/// The kind of a [`PlannedEntry`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlannedKind {
    /// Embed the bytes of [`PlannedEntry::disk_path`] as [`EmbeddedKind::File`].
    File,
    /// [`EmbeddedKind::Dir`].
    Dir,
    /// [`EmbeddedKind::Symlink`] with this target.
    Symlink(String),
}

/// A COPY source to embed, for [`plan_embedding`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmbedSource {
    /// The COPY source (glob) as written.
    pub src: String,
    /// The step's `resolve_symlinks`.
    pub resolve_symlinks: bool,
}

/// Lists what to embed so that the copies `sources` of the folder `dir` (with the template's
/// `ignore_patterns`, after `dir/.dockerignore`) hash and archive the same from the embedded
/// files as from disk: every entry the sources select, their parent folders, the context root,
/// `.dockerignore`, and the targets of symlinks that a source resolves. Sorted by path.
///
/// Errors as at run time ([`Error::NoFiles`] for a source that matches nothing,
/// [`Error::SymlinkEscapes`], ...), plus [`Error::Unsupported`] for a name that is not UTF-8.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// std::fs::create_dir(dir.path().join("app")).unwrap();
/// std::fs::write(dir.path().join("app/main.py"), "print(1)\n").unwrap();
/// use sandbox_template_runtime::context::{EmbedSource, PlannedKind, plan_embedding};
/// let plan = plan_embedding(dir.path(), &[], &[EmbedSource { src: "app".into(), resolve_symlinks: false }])
///     .unwrap();
/// let paths: Vec<&str> = plan.iter().map(|e| e.path.as_str()).collect();
/// assert_eq!(paths, [".", "app", "app/main.py"]);
/// assert_eq!(plan[2].kind, PlannedKind::File);
/// ```
pub fn plan_embedding(
    dir: &Path,
    ignore_patterns: &[String],
    sources: &[EmbedSource],
) -> Result<Vec<PlannedEntry>, Error> {
    let ctx = BuildContext::open(dir)?.with_ignore_patterns(ignore_patterns.iter().cloned())?;
    let fs = Fs::Disk(dir);
    let mut wanted: BTreeMap<Vec<u8>, ()> = BTreeMap::new();
    add_with_parents(b"", &mut wanted);
    let mut link_targets: Vec<Vec<u8>> = Vec::new();
    match fs.lstat(b".dockerignore")? {
        Some(m) if m.kind == EntryKind::Symlink => {
            add_with_parents(b".dockerignore", &mut wanted);
            link_targets.push(b".dockerignore".to_vec());
        }
        Some(_) => add_with_parents(b".dockerignore", &mut wanted),
        None => {}
    }
    for source in sources {
        let entries = ctx.entries(&source.src, source.resolve_symlinks)?;
        for e in &entries {
            let rel = e.rel_bytes();
            add_real(&fs, dir, rel, &mut wanted)?;
            if e.resolved_link {
                link_targets.push(rel.to_vec());
            }
        }
    }
    // The embedded tree must contain where resolved links lead.
    let root = std::fs::canonicalize(dir).map_err(|err| Error::Io { path: dir.into(), source: err })?;
    for rel in link_targets {
        let target = std::fs::canonicalize(fs.disk_path(&rel))
            .map_err(|err| Error::Io { path: fs.disk_path(&rel), source: err })?;
        if let Ok(inside) = target.strip_prefix(&root) {
            add_with_parents(&walk::path_bytes(inside), &mut wanted);
        }
    }
    let mut plan = Vec::with_capacity(wanted.len());
    for rel in wanted.into_keys() {
        let path = match std::str::from_utf8(&rel) {
            Ok("") => ".".to_owned(),
            Ok(p) => p.to_owned(),
            Err(_) => {
                return Err(Error::Unsupported(format!(
                    "cannot embed `{}`: its name is not UTF-8 (rename it, or build from the folder instead of embedding)",
                    fs.disk_path(&rel).display()
                )));
            }
        };
        let disk_path = fs.disk_path(&rel);
        let Some(meta) = fs.lstat(&rel)? else { continue };
        let kind = match meta.kind {
            EntryKind::File => PlannedKind::File,
            EntryKind::Dir => PlannedKind::Dir,
            EntryKind::Symlink => {
                let target = fs.read_link(&rel)?;
                PlannedKind::Symlink(String::from_utf8(target).map_err(|_| {
                    Error::Unsupported(format!(
                        "cannot embed the symlink `{}`: its target is not UTF-8",
                        disk_path.display()
                    ))
                })?)
            }
            EntryKind::Other => {
                return Err(Error::Unsupported(format!(
                    "cannot embed `{}`: only files, folders and symlinks can be embedded",
                    disk_path.display()
                )));
            }
        };
        plan.push(PlannedEntry { path, disk_path, mode: meta.mode, kind });
    }
    Ok(plan)
}
