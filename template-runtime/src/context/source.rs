//! Where a build context's files come from: a folder on disk, or [`EmbeddedDir`] data compiled
//! into the binary. Enumeration, hashing and archiving read files only through
//! [`ContextSource`], so both give the same entries, hash and archive.
//!
//! Paths here are relative to the context, `/`-separated bytes; the root is the empty path.

use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use super::embedded::{EmbeddedDir, EmbeddedKind};
use super::meta::{EntryKind, Meta, join};
use crate::error::Error;

/// Where the files of a build context (what COPY steps read) come from.
///
/// ```
/// use sandbox_template_runtime::context::ContextSource;
///
/// let source = ContextSource::Dir("app".into());
/// assert_eq!(source.dir(), std::path::Path::new("app"));
/// ```
#[derive(Clone, Debug)]
pub enum ContextSource {
    /// A folder on disk.
    Dir(PathBuf),
    /// Files compiled into the binary by `template! { embed; ... }`.
    Embedded(&'static EmbeddedDir),
}

/// What a path is once symlinks are followed (wcmatch's view of a directory entry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Follow {
    Dir,
    Other,
    /// A broken symlink.
    Missing,
    /// `stat` failed otherwise (a symlink loop, no permission).
    Unreadable,
}

fn missing(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory)
}

impl ContextSource {
    /// The context folder (for embedded files: the folder they were compiled from).
    pub fn dir(&self) -> &Path {
        match self {
            ContextSource::Dir(d) => d,
            ContextSource::Embedded(e) => Path::new(e.source_dir()),
        }
    }

    /// The disk path of `rel`.
    pub(crate) fn disk_path(&self, rel: &[u8]) -> PathBuf {
        let root = self.dir();
        if rel.is_empty() { root.to_path_buf() } else { root.join(std::ffi::OsStr::from_bytes(rel)) }
    }

    fn io_error(&self, rel: &[u8], source: io::Error) -> Error {
        Error::Io { path: self.disk_path(rel), source }
    }

    /// `lstat`; `None` if nothing is there.
    pub(crate) fn lstat(&self, rel: &[u8]) -> Result<Option<Meta>, Error> {
        match self {
            ContextSource::Dir(_) => match std::fs::symlink_metadata(self.disk_path(rel)) {
                Ok(m) => Ok(Some(Meta::from(&m))),
                Err(e) if missing(&e) => Ok(None),
                Err(e) => Err(self.io_error(rel, e)),
            },
            ContextSource::Embedded(e) => Ok(e.lstat(rel)),
        }
    }

    /// `stat` (follows symlinks); `None` if nothing is there or a link is broken.
    pub(crate) fn stat(&self, rel: &[u8]) -> Result<Option<Meta>, Error> {
        match self {
            ContextSource::Dir(_) => match std::fs::metadata(self.disk_path(rel)) {
                Ok(m) => Ok(Some(Meta::from(&m))),
                Err(e) if missing(&e) || e.raw_os_error() == Some(40 /* ELOOP */) => Ok(None),
                Err(e) => Err(self.io_error(rel, e)),
            },
            ContextSource::Embedded(e) => Ok(e.stat(rel)),
        }
    }

    /// `stat` classified for the glob.
    pub(crate) fn follow(&self, rel: &[u8]) -> Result<Follow, Error> {
        match self {
            ContextSource::Dir(_) => Ok(match std::fs::metadata(self.disk_path(rel)) {
                Ok(m) if m.is_dir() => Follow::Dir,
                Ok(_) => Follow::Other,
                Err(e) if e.kind() == io::ErrorKind::NotFound => Follow::Missing,
                Err(_) => Follow::Unreadable,
            }),
            ContextSource::Embedded(e) => Ok(match e.stat(rel) {
                Some(m) if m.kind == EntryKind::Dir => Follow::Dir,
                Some(_) => Follow::Other,
                None => Follow::Missing,
            }),
        }
    }

    /// Whether the directory `rel`, all symlinks followed, is inside the context.
    pub(crate) fn inside(&self, rel: &[u8]) -> Result<bool, Error> {
        match self {
            ContextSource::Dir(root) => {
                if rel.is_empty() {
                    return Ok(true);
                }
                let root = std::fs::canonicalize(root).map_err(|e| self.io_error(b"", e))?;
                let real = std::fs::canonicalize(self.disk_path(rel)).map_err(|e| self.io_error(rel, e))?;
                Ok(real.starts_with(&root))
            }
            ContextSource::Embedded(_) => Ok(true),
        }
    }

    /// The entries of the directory `rel` with their `lstat` data, in no particular order.
    pub(crate) fn read_dir(&self, rel: &[u8]) -> Result<Vec<(Vec<u8>, Meta)>, Error> {
        match self {
            ContextSource::Dir(_) => {
                let dir = self.disk_path(rel);
                let mut out = Vec::new();
                for entry in std::fs::read_dir(&dir).map_err(|e| self.io_error(rel, e))? {
                    let entry = entry.map_err(|e| self.io_error(rel, e))?;
                    let name = entry.file_name().into_vec();
                    // DirEntry::metadata is `fstatat(.., AT_SYMLINK_NOFOLLOW)`: no path walk.
                    match entry.metadata() {
                        Ok(m) => out.push((name, Meta::from(&m))),
                        Err(e) if missing(&e) => {} // removed while we looked
                        Err(e) => return Err(self.io_error(&join(rel, &name), e)),
                    }
                }
                Ok(out)
            }
            ContextSource::Embedded(e) => Ok(e
                .children(rel)
                .iter()
                .map(|&i| {
                    let path = e.entry_path(i);
                    let name = path.rsplit('/').next().unwrap_or(path);
                    (name.as_bytes().to_vec(), e.meta(i))
                })
                .collect()),
        }
    }

    /// The target of the symlink `rel`.
    pub(crate) fn read_link(&self, rel: &[u8]) -> Result<Vec<u8>, Error> {
        match self {
            ContextSource::Dir(_) => std::fs::read_link(self.disk_path(rel))
                .map(|p| p.into_os_string().into_vec())
                .map_err(|e| self.io_error(rel, e)),
            ContextSource::Embedded(e) => match e.lookup(rel).map(|i| &e.entries()[i].kind) {
                Some(EmbeddedKind::Symlink(t)) => Ok(t.as_bytes().to_vec()),
                _ => Err(self.io_error(rel, io::Error::new(io::ErrorKind::InvalidInput, "not a symlink"))),
            },
        }
    }

    /// Whether the symlink `rel`, followed, ends inside the context. Embedded links only ever
    /// resolve inside the embedded tree.
    pub(crate) fn link_stays_inside(&self, rel: &[u8]) -> Result<bool, Error> {
        match self {
            ContextSource::Dir(root) => {
                let root = std::fs::canonicalize(root).map_err(|e| self.io_error(b"", e))?;
                let target = std::fs::canonicalize(self.disk_path(rel)).map_err(|e| self.io_error(rel, e))?;
                Ok(target.starts_with(&root))
            }
            ContextSource::Embedded(_) => Ok(true),
        }
    }
}
