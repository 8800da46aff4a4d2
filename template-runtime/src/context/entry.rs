//! One path a COPY source selected, with what is hashed and archived for it.

use std::path::Path;

use super::meta::EntryKind;

/// One file, directory or symlink a COPY source selected.
#[derive(Clone, PartialEq, Eq)]
pub struct Entry {
    /// Relative, `/`-separated; empty for the context folder itself.
    pub(super) rel: Vec<u8>,
    pub(super) kind: EntryKind,
    pub(super) mode: u32,
    pub(super) size: u64,
    pub(super) link_target: Option<Vec<u8>>,
    pub(super) resolved_link: bool,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Entry");
        d.field("path", &self.path()).field("kind", &self.kind).field("mode", &format_args!("{:o}", self.mode));
        d.field("size", &self.size);
        if let Some(t) = self.link_target() {
            d.field("link_target", &t);
        }
        d.field("resolved_link", &self.resolved_link).finish()
    }
}

impl Entry {
    /// The path relative to the context folder (`.` for the folder itself).
    pub fn path(&self) -> &Path {
        use std::os::unix::ffi::OsStrExt;
        Path::new(std::ffi::OsStr::from_bytes(self.hash_path()))
    }

    pub(crate) fn rel_bytes(&self) -> &[u8] {
        &self.rel
    }

    /// The path as hashed: `.` for the root.
    pub(crate) fn hash_path(&self) -> &[u8] {
        if self.rel.is_empty() { b"." } else { &self.rel }
    }

    /// What the entry is (for a resolved symlink: what it points to).
    pub fn kind(&self) -> EntryKind {
        self.kind
    }

    /// The full `st_mode`, type bits included, as hashed (`0o100644` for a plain file).
    pub fn mode(&self) -> u32 {
        self.mode
    }

    /// The size in bytes (a symlink: the length of its target; a directory: 0).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The target of a symlink kept as a link.
    pub fn link_target(&self) -> Option<&Path> {
        use std::os::unix::ffi::OsStrExt;
        self.link_target.as_deref().map(|t| Path::new(std::ffi::OsStr::from_bytes(t)))
    }

    /// True for a symlink taken as what it points to (`resolve_symlinks`).
    pub fn is_resolved_link(&self) -> bool {
        self.resolved_link
    }
}
