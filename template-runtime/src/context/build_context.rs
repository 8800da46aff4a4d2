//! [`BuildContext`]: a context's files with its ignore rules, and what each COPY step takes
//! from them.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::embedded::EmbeddedDir;
use super::entry::Entry;
use super::ignore::{self, IgnoreRules};
use super::meta::EntryKind;
use super::source::ContextSource;
use super::{hash, walk};
use crate::error::{Error, ValidationError, ValidationErrors};
use crate::step::{CopyStep, SourceLocation, Step, StepKind};

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
    source: ContextSource,
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
        Self::with_patterns(ContextSource::Dir(dir), abs, patterns)
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
        Self::with_patterns(ContextSource::Embedded(files), abs, patterns)
    }

    /// The files of `source` (a folder, or embedded files) with their `.dockerignore`.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # std::fs::write(dir.path().join("a.txt"), "a").unwrap();
    /// use sandbox_template_runtime::context::{BuildContext, ContextSource};
    /// let ctx = BuildContext::from_source(&ContextSource::Dir(dir.path().into())).unwrap();
    /// assert_eq!(ctx.entries("a.txt", false).unwrap().len(), 1);
    /// ```
    pub fn from_source(source: &ContextSource) -> Result<Self, Error> {
        match source {
            ContextSource::Dir(dir) => Self::open(dir.clone()),
            ContextSource::Embedded(files) => Self::embedded(files),
        }
    }

    fn with_patterns(source: ContextSource, abs: PathBuf, patterns: Vec<String>) -> Result<Self, Error> {
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
        self.source.dir()
    }

    /// All ignore patterns in effect, in order (`.dockerignore` lines first).
    pub fn ignore_patterns(&self) -> &[String] {
        &self.patterns
    }

    fn fs(&self) -> &ContextSource {
        &self.source
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
        let found = walk::enumerate(fs, src, &self.rules).map_err(|e| match e {
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

    /// The `filesHash` of every COPY step among `steps` (`None` for the other steps), in step
    /// order. All steps share this context (its `.dockerignore` was read once) and each source is
    /// enumerated once; steps are hashed in parallel, one thread per core (each step also reads
    /// its files on several threads). Errors name the first failing step in step order.
    ///
    /// This is the one implementation behind `Template::files_hashes`, the JSON export, the CLI
    /// and the cloud client.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # std::fs::write(dir.path().join("hello.txt"), "hello world\n").unwrap();
    /// # use std::os::unix::fs::PermissionsExt;
    /// # std::fs::set_permissions(dir.path().join("hello.txt"), std::fs::Permissions::from_mode(0o644)).unwrap();
    /// use sandbox_template_runtime::Template;
    /// use sandbox_template_runtime::context::BuildContext;
    ///
    /// let t = Template::new().from_base_image().run_cmd("true").copy("hello.txt", "/home/user/hello.txt");
    /// let hashes = BuildContext::open(dir.path()).unwrap().files_hashes(t.steps()).unwrap();
    /// assert_eq!(hashes[0], None);
    /// assert_eq!(hashes[1].as_deref(), Some("4be0dee33eeea6ce62a00353cc48147d022985da66b23bb353beee90daf72fb1"));
    /// ```
    pub fn files_hashes(&self, steps: &[Step]) -> Result<Vec<Option<String>>, Error> {
        let copies: Vec<(usize, &CopyStep, SourceLocation)> = steps
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match &s.kind {
                StepKind::Copy(copy) => Some((i, copy, s.location)),
                _ => None,
            })
            .collect();
        let hash_one = |k: usize| {
            let (_, copy, location) = copies[k];
            self.copy(copy, Some(location))?.files_hash()
        };
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(copies.len());
        let mut results: Vec<(usize, Result<String, Error>)> = if threads <= 1 {
            (0..copies.len()).map(|k| (k, hash_one(k))).collect()
        } else {
            // Workers take the next step from a shared counter; once a step failed, the steps
            // after it are not worth hashing (only the first failure in step order is reported).
            let next = AtomicUsize::new(0);
            let first_failed = AtomicUsize::new(usize::MAX);
            std::thread::scope(|scope| {
                let workers: Vec<_> = (0..threads)
                    .map(|_| {
                        scope.spawn(|| {
                            let mut done = Vec::new();
                            loop {
                                let k = next.fetch_add(1, Ordering::Relaxed);
                                if k >= copies.len() || k > first_failed.load(Ordering::Relaxed) {
                                    break done;
                                }
                                let result = hash_one(k);
                                if result.is_err() {
                                    first_failed.fetch_min(k, Ordering::Relaxed);
                                }
                                done.push((k, result));
                            }
                        })
                    })
                    .collect();
                // A panic in a worker is a bug: resume it here rather than disguise it as an error.
                workers
                    .into_iter()
                    .flat_map(|w| w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
                    .collect()
            })
        };
        results.sort_unstable_by_key(|(k, _)| *k);
        let mut hashes = vec![None; steps.len()];
        for (k, result) in results {
            hashes[copies[k].0] = Some(result?);
        }
        Ok(hashes)
    }

    /// Writes the tar (gzip-compressed if `gzip`) of `entries` to `out` as a stream and returns
    /// the number of bytes written. See [`CopySource::write_archive`].
    #[cfg(feature = "archive")]
    pub fn write_archive<W: std::io::Write>(&self, entries: &[Entry], gzip: bool, out: W) -> Result<u64, Error> {
        super::archive::write(self.fs(), entries, gzip, out)
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
        hash::files_hash(self.ctx.fs(), &self.src, &self.dest, &self.entries)
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
