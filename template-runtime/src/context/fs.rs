//! The two places a context's files live: a folder on disk, or [`EmbeddedDir`] data compiled
//! into the binary. Enumeration, hashing and archiving go through [`Fs`] so both give the same
//! entries, hash and archive.
//!
//! Paths here are relative to the context, `/`-separated bytes; the root is the empty path.

use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::embedded::{EmbeddedDir, EmbeddedKind};
use crate::error::Error;

/// What a context entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link (kept as a link).
    Symlink,
    /// A FIFO, socket or device: hashed by mode and size like the SDK does; FIFOs and devices are
    /// archived as such (no content), sockets are left out of the archive (tar has no type for
    /// them, GNU tar skips them too).
    Other,
}

/// `lstat`/`stat` data that matters here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Meta {
    pub kind: EntryKind,
    /// Full `st_mode`, type bits included.
    pub mode: u32,
    pub size: u64,
}

/// `S_IFMT` and the type bits, as on Linux and macOS.
pub(crate) const S_IFMT: u32 = 0o170000;
pub(crate) const S_IFDIR: u32 = 0o040000;
pub(crate) const S_IFREG: u32 = 0o100000;
pub(crate) const S_IFLNK: u32 = 0o120000;
#[cfg_attr(not(feature = "archive"), allow(dead_code))]
pub(crate) const S_IFIFO: u32 = 0o010000;

pub(crate) fn kind_of_mode(mode: u32) -> EntryKind {
    match mode & S_IFMT {
        S_IFREG => EntryKind::File,
        S_IFDIR => EntryKind::Dir,
        S_IFLNK => EntryKind::Symlink,
        _ => EntryKind::Other,
    }
}

impl From<&std::fs::Metadata> for Meta {
    fn from(m: &std::fs::Metadata) -> Meta {
        let mode = m.mode();
        let kind = kind_of_mode(mode);
        // A directory's size depends on the file system; it is never hashed nor archived.
        let size = if kind == EntryKind::Dir { 0 } else { m.size() };
        Meta { kind, mode, size }
    }
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

/// Where the files are.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Fs<'a> {
    Disk(&'a Path),
    Embedded(&'static EmbeddedDir),
}

fn missing(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory)
}

/// `a` + `/` + `b` (or `b` when `a` is the root).
pub(crate) fn join(a: &[u8], b: &[u8]) -> Vec<u8> {
    if a.is_empty() {
        return b.to_vec();
    }
    let mut out = Vec::with_capacity(a.len() + 1 + b.len());
    out.extend_from_slice(a);
    out.push(b'/');
    out.extend_from_slice(b);
    out
}

impl Fs<'_> {
    /// The disk path of `rel`.
    pub(crate) fn disk_path(&self, rel: &[u8]) -> PathBuf {
        let root = match self {
            Fs::Disk(root) => root,
            Fs::Embedded(e) => Path::new(e.source_dir()),
        };
        if rel.is_empty() { root.to_path_buf() } else { root.join(std::ffi::OsStr::from_bytes(rel)) }
    }

    fn io_error(&self, rel: &[u8], source: io::Error) -> Error {
        Error::Io { path: self.disk_path(rel), source }
    }

    /// `lstat`; `None` if nothing is there.
    pub(crate) fn lstat(&self, rel: &[u8]) -> Result<Option<Meta>, Error> {
        match self {
            Fs::Disk(_) => match std::fs::symlink_metadata(self.disk_path(rel)) {
                Ok(m) => Ok(Some(Meta::from(&m))),
                Err(e) if missing(&e) => Ok(None),
                Err(e) => Err(self.io_error(rel, e)),
            },
            Fs::Embedded(e) => Ok(e.lstat(rel)),
        }
    }

    /// `stat` (follows symlinks); `None` if nothing is there or a link is broken.
    pub(crate) fn stat(&self, rel: &[u8]) -> Result<Option<Meta>, Error> {
        match self {
            Fs::Disk(_) => match std::fs::metadata(self.disk_path(rel)) {
                Ok(m) => Ok(Some(Meta::from(&m))),
                Err(e) if missing(&e) || e.raw_os_error() == Some(40 /* ELOOP */) => Ok(None),
                Err(e) => Err(self.io_error(rel, e)),
            },
            Fs::Embedded(e) => Ok(e.stat(rel)),
        }
    }

    /// `stat` classified for the glob.
    pub(crate) fn follow(&self, rel: &[u8]) -> Result<Follow, Error> {
        match self {
            Fs::Disk(_) => Ok(match std::fs::metadata(self.disk_path(rel)) {
                Ok(m) if m.is_dir() => Follow::Dir,
                Ok(_) => Follow::Other,
                Err(e) if e.kind() == io::ErrorKind::NotFound => Follow::Missing,
                Err(_) => Follow::Unreadable,
            }),
            Fs::Embedded(e) => Ok(match e.stat(rel) {
                Some(m) if m.kind == EntryKind::Dir => Follow::Dir,
                Some(_) => Follow::Other,
                None => Follow::Missing,
            }),
        }
    }

    /// Whether the directory `rel`, all symlinks followed, is inside the context.
    pub(crate) fn inside(&self, rel: &[u8]) -> Result<bool, Error> {
        match self {
            Fs::Disk(root) => {
                if rel.is_empty() {
                    return Ok(true);
                }
                let root = std::fs::canonicalize(root).map_err(|e| self.io_error(b"", e))?;
                let real = std::fs::canonicalize(self.disk_path(rel)).map_err(|e| self.io_error(rel, e))?;
                Ok(real.starts_with(&root))
            }
            Fs::Embedded(_) => Ok(true),
        }
    }

    /// The entries of the directory `rel` with their `lstat` data, in no particular order.
    pub(crate) fn read_dir(&self, rel: &[u8]) -> Result<Vec<(Vec<u8>, Meta)>, Error> {
        match self {
            Fs::Disk(_) => {
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
            Fs::Embedded(e) => Ok(e
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
            Fs::Disk(_) => std::fs::read_link(self.disk_path(rel))
                .map(|p| p.into_os_string().into_vec())
                .map_err(|e| self.io_error(rel, e)),
            Fs::Embedded(e) => match e.lookup(rel).map(|i| &e.entries()[i].kind) {
                Some(EmbeddedKind::Symlink(t)) => Ok(t.as_bytes().to_vec()),
                _ => Err(self.io_error(rel, io::Error::new(io::ErrorKind::InvalidInput, "not a symlink"))),
            },
        }
    }

    /// Whether the symlink `rel`, followed, ends inside the context. Embedded links only ever
    /// resolve inside the embedded tree.
    pub(crate) fn link_stays_inside(&self, rel: &[u8]) -> Result<bool, Error> {
        match self {
            Fs::Disk(root) => {
                let root = std::fs::canonicalize(root).map_err(|e| self.io_error(b"", e))?;
                let target = std::fs::canonicalize(self.disk_path(rel)).map_err(|e| self.io_error(rel, e))?;
                Ok(target.starts_with(&root))
            }
            Fs::Embedded(_) => Ok(true),
        }
    }
}
