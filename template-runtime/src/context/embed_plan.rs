//! What `template! { embed; ... }` compiles in: every entry the copies select, planned with the
//! run-time enumeration so that the embedded files hash and archive like the folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::build_context::BuildContext;
use super::meta::{EntryKind, join, path_bytes};
use super::source::ContextSource;
use crate::error::Error;

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
fn add_real(fs: &ContextSource, dir: &Path, rel: &[u8], wanted: &mut Wanted) -> Result<(), Error> {
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
        let real = join(&path_bytes(inside), name);
        add_with_parents(&real, wanted);
    }
    Ok(())
}

/// One entry [`plan_embedding`] says to embed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedEntry {
    /// Path relative to the context, `/`-separated (`.` for the context folder): the
    /// [`EmbeddedEntry::path`](crate::context::EmbeddedEntry::path) to emit.
    pub path: String,
    /// The file on disk (for `include_bytes!`, which also makes Cargo rebuild when it changes).
    pub disk_path: PathBuf,
    /// Full `st_mode` ([`EmbeddedEntry::mode`](crate::context::EmbeddedEntry::mode)).
    pub mode: u32,
    /// What to emit.
    pub kind: PlannedKind,
}

/// The kind of a [`PlannedEntry`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlannedKind {
    /// Embed the bytes of [`PlannedEntry::disk_path`] as [`EmbeddedKind::File`](crate::context::EmbeddedKind::File).
    File,
    /// [`EmbeddedKind::Dir`](crate::context::EmbeddedKind::Dir).
    Dir,
    /// [`EmbeddedKind::Symlink`](crate::context::EmbeddedKind::Symlink) with this target.
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
/// use sandbox_template_runtime::__private::{EmbedSource, PlannedKind, plan_embedding};
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
    let fs = ContextSource::Dir(dir.to_path_buf());
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
            if e.is_resolved_link() {
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
            add_with_parents(&path_bytes(inside), &mut wanted);
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
