//! The build context: COPY source enumeration, ignore rules, `filesHash`, tar.gz.
//! (Being written: see the context helper's brief.)
//!
//! MERGE NOTE (dsl branch): `EmbeddedEntry`, `EmbeddedKind` and `EmbeddedDir::new` below are the
//! exact shapes of the `context` branch, added here only so `template! { embed; ... }` compiles
//! and is tested before that branch lands. On merge, take the `context` branch's version of this
//! file.

use crate::error::Error;
use crate::step::{CopyStep, SourceLocation};
use crate::template::Template;

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

/// Files compiled into the binary by `template! { embed; ... }`.
#[derive(Debug)]
pub struct EmbeddedDir {
    source_dir: &'static str,
    entries: &'static [EmbeddedEntry],
}

impl EmbeddedDir {
    /// Embedded files of the folder `source_dir`.
    pub const fn new(source_dir: &'static str, entries: &'static [EmbeddedEntry]) -> Self {
        EmbeddedDir { source_dir, entries }
    }

    /// The folder the files were compiled from.
    pub fn source_dir(&self) -> &'static str {
        self.source_dir
    }

    /// The embedded entries, as given.
    pub fn entries(&self) -> &'static [EmbeddedEntry] {
        self.entries
    }
}

/// The `filesHash` of a COPY step.
pub fn files_hash(_t: &Template, _copy: &CopyStep, _location: Option<SourceLocation>) -> Result<String, Error> {
    Err(Error::Unsupported("not yet".into()))
}
