//! What the context module knows about one path: its kind, mode and size (the `lstat` data
//! that is hashed and archived), and the byte-path helpers every other part uses.
//!
//! Paths are relative to the context, `/`-separated bytes; the root is the empty path.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

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

/// Bytes of a relative path, `/`-separated.
pub(crate) fn path_bytes(p: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    p.as_os_str().as_bytes().to_vec()
}
