//! The build context: which files a COPY step takes, their `filesHash`, and the tar.gz uploaded
//! for them.
//!
//! Everything follows the Python SDK (`e2b==2.63.0`), whose behaviour does not depend on the
//! file system (CONFORMANCE.md items 3, 4 and 6):
//!
//! * a COPY source is a glob (`*`, `?`, `[...]`, `**`; dotfiles match), expanded from the context
//!   folder; a matched directory brings everything under it;
//! * `<context>/.dockerignore`, then the template's ignore patterns, leave paths out with Docker's
//!   rules (`!` re-includes, the last match wins, an excluded directory drops its subtree unless a
//!   `!` pattern re-includes something under it);
//! * symlinks are kept as links and symlinked directories are never entered; with
//!   `resolve_symlinks`, a link to a file or directory is taken as what it points to.
//!
//! What leaves the context is refused (the SDKs do not check this):
//! absolute sources and sources with `..` climbing out are validation errors; with
//! `resolve_symlinks`, a symlink whose target (all links followed) is outside the context folder
//! is [`Error::SymlinkEscapes`]; so is a source that reaches files through a symlinked directory
//! pointing outside (`link/secret`, or a glob through it: like the SDK's glob we follow
//! symlinked directories on the way to a match, but `**` and the walk of a copied folder never
//! enter them).
//! Links kept as links are archived as links whatever their target: nothing is read through
//! them, and inside the sandbox they point where they pointed on the build machine.
//!
//! ```
//! # let dir = tempfile::tempdir().unwrap();
//! # std::fs::create_dir_all(dir.path().join("app/logs")).unwrap();
//! # std::fs::write(dir.path().join("app/main.py"), "print(1)\n").unwrap();
//! # std::fs::write(dir.path().join("app/logs/x.log"), "").unwrap();
//! # std::fs::write(dir.path().join(".dockerignore"), "**/logs\n").unwrap();
//! use sandbox_template_runtime::context::BuildContext;
//!
//! let ctx = BuildContext::open(dir.path()).unwrap(); // reads `.dockerignore`
//! let entries = ctx.entries("app", false).unwrap();
//! let paths: Vec<String> = entries.iter().map(|e| e.path().display().to_string()).collect();
//! assert_eq!(paths, ["app", "app/main.py"]);
//! ```

mod embedded;
mod fs;
mod glob;
mod hash;
mod ignore;
mod read;
mod walk;

#[cfg(feature = "archive")]
mod archive;

use std::path::{Path, PathBuf};

pub use embedded::{EmbedSource, EmbeddedDir, EmbeddedEntry, EmbeddedKind, PlannedEntry, PlannedKind, plan_embedding};
pub use fs::EntryKind;

use crate::error::{Error, ValidationError, ValidationErrors};
use crate::step::{CopyStep, SourceLocation};
use crate::template::{Context, Template};
use fs::Fs;
use ignore::IgnoreRules;

/// One file, directory or symlink a COPY source selected.
#[derive(Clone, PartialEq, Eq)]
pub struct Entry {
    /// Relative, `/`-separated; empty for the context folder itself.
    rel: Vec<u8>,
    kind: EntryKind,
    mode: u32,
    size: u64,
    link_target: Option<Vec<u8>>,
    resolved_link: bool,
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

#[derive(Clone, Debug)]
enum Source {
    Dir(PathBuf),
    Embedded(&'static EmbeddedDir),
}

/// A context folder (or embedded files) with its ignore rules: enumerates COPY sources, hashes
/// them and writes their archives.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// # std::fs::write(dir.path().join("hello.txt"), "hello world\n").unwrap();
/// # use std::os::unix::fs::PermissionsExt;
/// # std::fs::set_permissions(dir.path().join("hello.txt"), std::fs::Permissions::from_mode(0o644)).unwrap();
/// use sandbox_template_runtime::context::BuildContext;
///
/// let ctx = BuildContext::open(dir.path()).unwrap().with_ignore_patterns(["*.log"]).unwrap();
/// let copy = ctx.source("hello.txt", "/home/user/hello.txt", false).unwrap();
/// assert_eq!(copy.entries().len(), 1);
/// // sha256("COPY hello.txt /home/user/hello.txt" "hello.txt" "33188" "12" "hello world\n"),
/// // what the Python SDK computes for the same copy.
/// assert_eq!(copy.files_hash().unwrap(), "4be0dee33eeea6ce62a00353cc48147d022985da66b23bb353beee90daf72fb1");
/// ```
#[derive(Clone, Debug)]
pub struct BuildContext {
    source: Source,
    patterns: Vec<String>,
    rules: IgnoreRules,
    /// Absolute, normalized path (for absolute ignore patterns).
    abs: PathBuf,
}

fn io_err(path: &Path, source: std::io::Error) -> Error {
    Error::Io { path: path.to_path_buf(), source }
}

impl BuildContext {
    /// The folder `dir`, with the patterns of `dir/.dockerignore` (UTF-8, an optional byte order
    /// mark, `#` comment lines).
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, Error> {
        let dir = dir.into();
        let meta = std::fs::metadata(&dir).map_err(|e| io_err(&dir, e))?;
        if !meta.is_dir() {
            return Err(io_err(&dir, std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a folder")));
        }
        let file = dir.join(".dockerignore");
        let patterns = match std::fs::read(&file) {
            Ok(bytes) => {
                let text = String::from_utf8(bytes).map_err(|_| {
                    io_err(&file, std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"))
                })?;
                ignore::parse_dockerignore(&text)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io_err(&file, e)),
        };
        let abs = std::path::absolute(&dir).map_err(|e| io_err(&dir, e))?;
        let abs = PathBuf::from(ignore::py_normpath(&abs.to_string_lossy()));
        Self::with_patterns(Source::Dir(dir), abs, patterns)
    }

    /// Embedded files, with the patterns of their `.dockerignore` (if it was embedded).
    pub fn embedded(files: &'static EmbeddedDir) -> Result<Self, Error> {
        let patterns = match files.data(b".dockerignore") {
            Some(bytes) => {
                let text = std::str::from_utf8(bytes).map_err(|_| {
                    io_err(
                        &Path::new(files.source_dir()).join(".dockerignore"),
                        std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"),
                    )
                })?;
                ignore::parse_dockerignore(text)
            }
            None => Vec::new(),
        };
        let abs = PathBuf::from(ignore::py_normpath(files.source_dir()));
        Self::with_patterns(Source::Embedded(files), abs, patterns)
    }

    /// The context of a template (its folder or embedded files) with its ignore patterns.
    pub fn for_template(t: &Template) -> Result<Self, Error> {
        let ctx = match t.context() {
            Context::Dir(dir) => Self::open(dir.clone())?,
            Context::Embedded(files) => Self::embedded(files)?,
        };
        ctx.with_ignore_patterns(t.ignore_patterns().iter().cloned())
    }

    fn with_patterns(source: Source, abs: PathBuf, patterns: Vec<String>) -> Result<Self, Error> {
        let rules = IgnoreRules::new(&patterns, &abs)?;
        Ok(BuildContext { source, patterns, rules, abs })
    }

    /// Adds `.dockerignore`-style patterns after the ones already there.
    pub fn with_ignore_patterns<S: Into<String>>(self, patterns: impl IntoIterator<Item = S>) -> Result<Self, Error> {
        let mut all = self.patterns;
        all.extend(patterns.into_iter().map(Into::into));
        Self::with_patterns(self.source, self.abs, all)
    }

    /// The context folder (for embedded files: the folder they were compiled from).
    pub fn dir(&self) -> &Path {
        match &self.source {
            Source::Dir(d) => d,
            Source::Embedded(e) => Path::new(e.source_dir()),
        }
    }

    /// All ignore patterns in effect, in order (`.dockerignore` lines first).
    pub fn ignore_patterns(&self) -> &[String] {
        &self.patterns
    }

    fn fs(&self) -> Fs<'_> {
        match &self.source {
            Source::Dir(d) => Fs::Disk(d),
            Source::Embedded(e) => Fs::Embedded(e),
        }
    }

    /// The entries the COPY source `src` selects, sorted as they are hashed and archived.
    ///
    /// Errors: an absolute or escaping `src` ([`Error::Validation`]), nothing selected
    /// ([`Error::NoFiles`]), a symlink leading out ([`Error::SymlinkEscapes`]), unreadable
    /// files ([`Error::Io`]).
    pub fn entries(&self, src: &str, resolve_symlinks: bool) -> Result<Vec<Entry>, Error> {
        self.entries_at(src, resolve_symlinks, None)
    }

    fn entries_at(
        &self,
        src: &str,
        resolve_symlinks: bool,
        location: Option<SourceLocation>,
    ) -> Result<Vec<Entry>, Error> {
        crate::rules::copy_source(src)
            .map_err(|rule| Error::Validation(ValidationErrors(vec![ValidationError { rule, location }])))?;
        let fs = self.fs();
        let found = walk::enumerate(&fs, src, &self.rules).map_err(|e| match e {
            Error::SymlinkEscapes { path, .. } => Error::SymlinkEscapes { path, location },
            e => e,
        })?;
        if found.is_empty() {
            return Err(Error::NoFiles { path: self.dir().join(src), location });
        }
        let mut entries = Vec::with_capacity(found.len());
        for f in found {
            let mut e = Entry {
                kind: f.meta.kind,
                mode: f.meta.mode,
                size: f.meta.size,
                link_target: None,
                resolved_link: false,
                rel: f.rel,
            };
            if e.kind == EntryKind::Symlink {
                let target = match resolve_symlinks {
                    true => fs.stat(&e.rel)?.filter(|m| matches!(m.kind, EntryKind::File | EntryKind::Dir)),
                    false => None,
                };
                match target {
                    Some(m) => {
                        if !fs.link_stays_inside(&e.rel)? {
                            return Err(Error::SymlinkEscapes { path: fs.disk_path(&e.rel), location });
                        }
                        (e.kind, e.mode, e.size, e.resolved_link) = (m.kind, m.mode, m.size, true);
                    }
                    None => e.link_target = Some(fs.read_link(&e.rel)?),
                }
            }
            entries.push(e);
        }
        Ok(entries)
    }

    /// The entries of a COPY step, ready to hash and archive.
    pub fn copy(&self, copy: &CopyStep, location: Option<SourceLocation>) -> Result<CopySource<'_>, Error> {
        let entries = self.entries_at(&copy.src, copy.resolve_symlinks.unwrap_or(false), location)?;
        Ok(CopySource {
            ctx: self,
            src: copy.src.clone(),
            dest: copy.dest.clone(),
            gzip: copy.gzip.unwrap_or(true),
            entries,
        })
    }

    /// [`BuildContext::copy`] from plain values (`gzip` on).
    pub fn source(&self, src: &str, dest: &str, resolve_symlinks: bool) -> Result<CopySource<'_>, Error> {
        let entries = self.entries(src, resolve_symlinks)?;
        Ok(CopySource { ctx: self, src: src.to_owned(), dest: dest.to_owned(), gzip: true, entries })
    }

    /// Writes the tar (gzip-compressed if `gzip`) of `entries` to `out` as a stream and returns
    /// the number of bytes written. See [`CopySource::write_archive`].
    #[cfg(feature = "archive")]
    pub fn write_archive<W: std::io::Write>(&self, entries: &[Entry], gzip: bool, out: W) -> Result<u64, Error> {
        archive::write(&self.fs(), entries, gzip, out)
    }
}

/// The entries of one COPY step: what is hashed and uploaded for it.
#[derive(Clone, Debug)]
pub struct CopySource<'c> {
    ctx: &'c BuildContext,
    src: String,
    dest: String,
    gzip: bool,
    entries: Vec<Entry>,
}

impl CopySource<'_> {
    /// The selected entries, sorted.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Whether the upload is gzip-compressed (the step's `gzip`, default on).
    pub fn gzip(&self) -> bool {
        self.gzip
    }

    /// The step's `filesHash` (lowercase hex SHA-256).
    pub fn files_hash(&self) -> Result<String, Error> {
        hash::files_hash(&self.ctx.fs(), &self.src, &self.dest, &self.entries)
    }

    /// Writes the upload archive to `out` as a stream and returns the bytes written: a tar
    /// (ustar, PAX headers for long or non-ASCII names) of exactly [`CopySource::entries`], in
    /// order, paths relative to the context folder (directories end in `/`), permission bits
    /// only, owner 0:0 and mtime 0 so that the archive depends only on what is hashed;
    /// gzip-compressed unless the step says `gzip: false`. Memory stays bounded whatever the
    /// sizes.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # std::fs::write(dir.path().join("hello.txt"), "hello world\n").unwrap();
    /// use sandbox_template_runtime::context::BuildContext;
    /// let ctx = BuildContext::open(dir.path()).unwrap();
    /// let mut tar_gz = Vec::new();
    /// let n = ctx.source("hello.txt", "/x", false).unwrap().write_archive(&mut tar_gz).unwrap();
    /// assert_eq!(n as usize, tar_gz.len());
    /// assert_eq!(&tar_gz[..2], b"\x1f\x8b");
    /// ```
    #[cfg(feature = "archive")]
    pub fn write_archive<W: std::io::Write>(&self, out: W) -> Result<u64, Error> {
        self.ctx.write_archive(&self.entries, self.gzip, out)
    }
}

/// The `filesHash` of a COPY step of `t` (used by the JSON export).
pub fn files_hash(t: &Template, copy: &CopyStep, location: Option<SourceLocation>) -> Result<String, Error> {
    BuildContext::for_template(t)?.copy(copy, location)?.files_hash()
}
