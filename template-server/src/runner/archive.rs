//! Uploaded COPY archives: unpacking them safely and within limits, and checking one against the
//! step it claims to be.
//!
//! Unpacking treats every archive as hostile:
//!
//! - sizes, counts and path lengths are bounded by [`UnpackLimits`]: a declared size over the
//!   limit is refused before anything is written, and the decompressed stream itself is capped,
//!   so a decompression bomb stops at the limit instead of filling the disk; GNU long names and
//!   PAX headers (which the `tar` crate reads into memory whole) are checked against the path
//!   limit in a first pass that reads them raw;
//! - only regular files, directories and symlinks are unpacked (no hard links, devices, FIFOs or
//!   sparse files); paths stay inside the target folder (the `tar` crate's `unpack_in`);
//! - setuid, setgid and sticky bits are dropped and ownership is never restored (files belong to
//!   the server's user). The `rwx` bits are kept: they are part of `filesHash` (SPEC §C.3) and the
//!   engine's `COPY` carries them into the image, so a script must stay executable and a file
//!   readable by the image's user. The folder unpacked into is the owner-only boundary instead:
//!   the runner creates every build folder and context `0700`, so no other local user can reach
//!   a file inside, whatever its own mode.

use std::collections::BTreeSet;
use std::io::{self, BufReader, Read, Seek};
use std::path::{Path, PathBuf};

use sandbox_template_runtime::CopyStep;
use sandbox_template_runtime::context::BuildContext;
use sandbox_template_runtime::wire::WireStep;

/// Default [`UnpackLimits::max_bytes`]: 4 GiB unpacked per archive.
pub const DEFAULT_MAX_UNPACKED_BYTES: u64 = 4 << 30;
/// Default [`UnpackLimits::max_entries`].
pub const DEFAULT_MAX_ENTRIES: usize = 100_000;
/// Default [`UnpackLimits::max_path_len`] (Linux's `PATH_MAX`).
pub const DEFAULT_MAX_PATH_LEN: usize = 4096;

/// Bounds on what one uploaded archive may unpack into. Going over any of them refuses the
/// archive with an error naming the limit (and the `serve` flag that raises it).
///
/// ```
/// use sandbox_template_server::runner::UnpackLimits;
///
/// let limits = UnpackLimits { max_bytes: 512 << 20, ..UnpackLimits::default() };
/// assert_eq!(limits.max_entries, 100_000);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnpackLimits {
    /// Total bytes of file contents (default [`DEFAULT_MAX_UNPACKED_BYTES`],
    /// `--max-unpacked-bytes`).
    pub max_bytes: u64,
    /// Entries: files, folders and links (default [`DEFAULT_MAX_ENTRIES`], `--max-entries`).
    pub max_entries: usize,
    /// Bytes in one entry's path (default [`DEFAULT_MAX_PATH_LEN`], `--max-path-len`).
    pub max_path_len: usize,
}

impl Default for UnpackLimits {
    fn default() -> Self {
        UnpackLimits {
            max_bytes: DEFAULT_MAX_UNPACKED_BYTES,
            max_entries: DEFAULT_MAX_ENTRIES,
            max_path_len: DEFAULT_MAX_PATH_LEN,
        }
    }
}

impl UnpackLimits {
    /// The most decompressed tar bytes an archive within these limits can need: the contents,
    /// plus per entry its header blocks (a long name and a PAX header each take a few), its path
    /// and padding, plus the end blocks. The stream is cut there, whatever the headers claim.
    fn max_stream(&self) -> u64 {
        let per_entry = 6 * 512 + 2 * self.max_path_len as u64;
        self.max_bytes.saturating_add((self.max_entries as u64).saturating_mul(per_entry)).saturating_add(1 << 20)
    }
}

/// Why an archive was not unpacked.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UnpackError {
    /// The contents are over [`UnpackLimits::max_bytes`].
    #[error(
        "the archive unpacks to more than {limit} bytes, the unpacked-bytes limit (raise it with `serve --max-unpacked-bytes`)"
    )]
    TooBig { limit: u64 },
    /// More entries than [`UnpackLimits::max_entries`].
    #[error("the archive holds more than {limit} entries, the entry limit (raise it with `serve --max-entries`)")]
    TooManyEntries { limit: usize },
    /// A path over [`UnpackLimits::max_path_len`].
    #[error(
        "the archive holds a path of {len} bytes, over the path-length limit of {limit} (raise it with `serve --max-path-len`)"
    )]
    PathTooLong { len: usize, limit: usize },
    /// An entry of a kind builds never need.
    #[error("the archive holds `{path}`, a {kind}: only files, folders and symlinks are accepted")]
    Unsupported { path: String, kind: &'static str },
    /// Not a tar or tar.gz.
    #[error("the archive is not a valid tar or tar.gz: {0}")]
    Invalid(#[source] io::Error),
    /// Writing the files failed.
    #[error("cannot unpack the archive: {0}")]
    Write(#[source] io::Error),
}

impl UnpackError {
    /// Whether a limit was hit (the API answers 413 then, 400 otherwise).
    pub(crate) fn is_limit(&self) -> bool {
        matches!(
            self,
            UnpackError::TooBig { .. } | UnpackError::TooManyEntries { .. } | UnpackError::PathTooLong { .. }
        )
    }
}

/// What an unpack produced.
#[derive(Debug, Default)]
pub(crate) struct Unpacked {
    /// Entries unpacked.
    pub(crate) entries: usize,
    /// Paths of the files and symlinks, relative, `/`-separated, without a leading `./`.
    pub(crate) files: BTreeSet<PathBuf>,
}

/// A reader that fails once more than `left` bytes were read through it.
struct Capped<R> {
    inner: R,
    left: u64,
}

/// The error [`Capped`] fails with, recognised by [`unpack`] to name the limit.
#[derive(Debug)]
struct StreamCap;

impl std::fmt::Display for StreamCap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("decompressed stream over the limit")
    }
}

impl std::error::Error for StreamCap {}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left = self.left.checked_sub(n as u64).ok_or_else(|| io::Error::other(StreamCap))?;
        Ok(n)
    }
}

fn is_cap(e: &io::Error) -> bool {
    // The tar crate wraps reader errors in its own; walk the chain.
    let mut source: Option<&(dyn std::error::Error + 'static)> = e.get_ref().map(|r| r as _);
    while let Some(s) = source {
        if s.is::<StreamCap>() {
            return true;
        }
        if let Some(io) = s.downcast_ref::<io::Error>()
            && io.get_ref().is_some_and(|r| r.is::<StreamCap>())
        {
            return true;
        }
        source = s.source();
    }
    false
}

/// Unpacks a tar or tar.gz (detected by its magic bytes) into `into` within `limits`, as the
/// [module documentation](self) describes. On error, what was unpacked so far stays in `into`:
/// callers unpack into a folder they remove.
pub(crate) fn unpack(archive: &Path, into: &Path, limits: &UnpackLimits) -> Result<Unpacked, UnpackError> {
    walk(archive, Some(into), limits)
}

/// Reads the whole archive and checks it against `limits` without writing anything (the upload
/// handler's check, so an archive over a limit is refused before it is kept).
pub(crate) fn check_limits(archive: &Path, limits: &UnpackLimits) -> Result<usize, UnpackError> {
    walk(archive, None, limits).map(|u| u.entries)
}

/// [`unpack`] into `into`, or only read and check every entry (`None`).
fn walk(archive: &Path, into: Option<&Path>, limits: &UnpackLimits) -> Result<Unpacked, UnpackError> {
    let too_big = UnpackError::TooBig { limit: limits.max_bytes };
    let read_error = |e: io::Error| {
        if is_cap(&e) { UnpackError::TooBig { limit: limits.max_bytes } } else { UnpackError::Invalid(e) }
    };
    check_extension_headers(archive, limits)?;
    let mut tar = tar::Archive::new(open(archive, limits)?);
    tar.set_preserve_permissions(false);
    tar.set_preserve_ownerships(false);
    tar.set_unpack_xattrs(false);
    tar.set_mask(0o7000);
    tar.set_overwrite(true);
    let mut done = Unpacked::default();
    let mut bytes: u64 = 0;
    for entry in tar.entries().map_err(read_error)? {
        let mut entry = entry.map_err(read_error)?;
        done.entries += 1;
        if done.entries > limits.max_entries {
            return Err(UnpackError::TooManyEntries { limit: limits.max_entries });
        }
        let len = entry.path_bytes().len();
        if len > limits.max_path_len {
            return Err(UnpackError::PathTooLong { len, limit: limits.max_path_len });
        }
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        let unsupported = match kind {
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::Directory => None,
            tar::EntryType::Symlink => None,
            tar::EntryType::Link => Some("hard link"),
            tar::EntryType::Char | tar::EntryType::Block => Some("device"),
            tar::EntryType::Fifo => Some("FIFO"),
            tar::EntryType::GNUSparse => Some("sparse file"),
            _ => Some("special entry"),
        };
        if let Some(kind) = unsupported {
            return Err(UnpackError::Unsupported { path, kind });
        }
        bytes = bytes.saturating_add(entry.size());
        if bytes > limits.max_bytes {
            return Err(too_big);
        }
        let written = match into {
            Some(into) => entry.unpack_in(into).map_err(|e| {
                if is_cap(&e) { UnpackError::TooBig { limit: limits.max_bytes } } else { UnpackError::Write(e) }
            })?,
            // Reading the contents through is what makes the stream cap see a lying header.
            None => io::copy(&mut entry, &mut io::sink()).map(|_| true).map_err(read_error)?,
        };
        if written && !kind.is_dir() {
            let clean = path.trim_start_matches("./").trim_end_matches('/');
            done.files.insert(PathBuf::from(clean));
        }
    }
    Ok(done)
}

/// The decompressed stream of a tar or tar.gz (detected by its magic bytes), capped at what an
/// archive within `limits` can need.
fn open(archive: &Path, limits: &UnpackLimits) -> Result<Capped<Box<dyn Read>>, UnpackError> {
    let mut f = std::fs::File::open(archive).map_err(UnpackError::Write)?;
    let mut magic = [0u8; 2];
    let gz = f.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b];
    f.rewind().map_err(UnpackError::Write)?;
    let reader: Box<dyn Read> =
        if gz { Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(f))) } else { Box::new(BufReader::new(f)) };
    Ok(Capped { inner: reader, left: limits.max_stream() })
}

/// The `tar` crate reads a GNU long name or a PAX header into memory whole before it yields the
/// entry it belongs to, so their size is checked first, in a pass that sees them raw: at most
/// two paths' worth plus room for the other PAX records.
fn check_extension_headers(archive: &Path, limits: &UnpackLimits) -> Result<(), UnpackError> {
    let read_error = |e: io::Error| {
        if is_cap(&e) { UnpackError::TooBig { limit: limits.max_bytes } } else { UnpackError::Invalid(e) }
    };
    let most = 2 * limits.max_path_len as u64 + 1024;
    let mut tar = tar::Archive::new(open(archive, limits)?);
    for entry in tar.entries().map_err(read_error)?.raw(true) {
        let entry = entry.map_err(read_error)?;
        let kind = entry.header().entry_type();
        let extension = kind.is_gnu_longname()
            || kind.is_gnu_longlink()
            || kind.is_pax_local_extensions()
            || kind.is_pax_global_extensions();
        if extension && entry.size() > most {
            let len = usize::try_from(entry.size()).unwrap_or(usize::MAX);
            return Err(UnpackError::PathTooLong { len, limit: limits.max_path_len });
        }
    }
    Ok(())
}

/// Why an upload does not match the COPY step that names it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum VerifyError {
    /// It did not unpack.
    #[error(transparent)]
    Unpack(#[from] UnpackError),
    /// Its files hash to something else, by either SDK's algorithm.
    #[error(
        "the uploaded files of `COPY {src} {dest}` do not match filesHash: the request says {want}, the archive hashes to {got} \
         (or {js} as the JS SDK hashes, with this server's folder sizes; a JS client whose file system sizes folders \
         differently cannot be verified: build from the same machine, or with the Python SDK or this crate's client)"
    )]
    Mismatch { src: String, dest: String, want: String, got: String, js: String },
    /// It holds a file the step does not copy (it would land in the shared build context).
    #[error("the uploaded archive of `COPY {src} {dest}` holds `{path}`, which that step does not copy")]
    Extra { src: String, dest: String, path: String },
    /// The unpacked files could not be hashed or a scratch folder made.
    #[error("cannot check the uploaded files: {0}")]
    Check(String),
}

impl VerifyError {
    /// Whether an unpack limit was hit.
    pub(crate) fn is_limit(&self) -> bool {
        matches!(self, VerifyError::Unpack(e) if e.is_limit())
    }
}

/// `filesHash` as the JS SDK computes it (SPEC §C.1) over `entries` (the files the step
/// selects in `dir`): the root is `""`, and every entry hashes its path, `st_mode` and `st_size`
/// (folders too), then a kept symlink's target or a file's contents, in path order.
fn js_files_hash(
    dir: &Path,
    copy: &CopyStep,
    entries: &[sandbox_template_runtime::context::Entry],
) -> io::Result<String> {
    use sha2::{Digest, Sha256};
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    let mut h = Sha256::new();
    h.update(format!("COPY {} {}", copy.src, copy.dest).as_bytes());
    let mut paths: Vec<&Path> = entries.iter().map(|e| e.path()).collect();
    paths.sort_by(|a, b| a.as_os_str().as_bytes().cmp(b.as_os_str().as_bytes()));
    let resolve = copy.resolve_symlinks.unwrap_or(false);
    for rel in paths {
        let full = dir.join(rel);
        let rel_bytes = rel.as_os_str().as_bytes();
        h.update(if rel_bytes == b"." { &b""[..] } else { rel_bytes });
        let lstat = std::fs::symlink_metadata(&full)?;
        if lstat.file_type().is_symlink() {
            let target = std::fs::metadata(&full).ok().filter(|m| m.is_file() || m.is_dir());
            if !(resolve && target.is_some()) {
                h.update(lstat.mode().to_string().as_bytes());
                h.update(lstat.size().to_string().as_bytes());
                h.update(std::fs::read_link(&full)?.as_os_str().as_bytes());
                continue;
            }
        }
        let stat = std::fs::metadata(&full)?;
        h.update(stat.mode().to_string().as_bytes());
        h.update(stat.size().to_string().as_bytes());
        if stat.is_file() {
            let mut f = std::fs::File::open(&full)?;
            io::copy(&mut f, &mut h)?;
        }
    }
    Ok(format!("{:x}", h.finalize()))
}

/// The COPY step of a wire step.
fn copy_of(step: &WireStep) -> CopyStep {
    CopyStep {
        src: step.args.first().cloned().unwrap_or_default(),
        dest: step.args.get(1).cloned().unwrap_or_default(),
        user: None,
        mode: None,
        force_upload: step.force_upload,
        resolve_symlinks: step.resolve_symlinks,
        gzip: step.gzip,
    }
}

/// Unpacks `archive` into a scratch folder under `scratch` and hashes it as the context of
/// `step` (`filesHash` covers `COPY src dest` and the files, so only the step can say what an
/// archive should hash to). Fails when the hash differs or the archive holds files the step
/// does not select. Returns the number of entries. The scratch folder is removed either way.
///
/// The two SDK families hash differently (SPEC §H.1, §H.3): the Python SDK, this crate's
/// client and the runtime leave folder sizes out and name the context root `.`; the JS SDK
/// hashes each folder's `st_size` and names the root `""`. An archive carries no folder sizes,
/// so the JS hash is recomputed with the sizes the unpacked folders have here: it matches when
/// the client's context and the server's data folder are on the same kind of file system (a
/// local `serve`, the usual case), and a JS upload from a machine whose file system sizes
/// folders differently is refused with a message that says so. Either algorithm matching
/// verifies the archive.
pub(crate) fn verify(
    archive: &Path,
    step: &WireStep,
    scratch: &Path,
    limits: &UnpackLimits,
) -> Result<usize, VerifyError> {
    let dir = tempfile::Builder::new()
        .prefix(".verify-")
        .tempdir_in(scratch)
        .map_err(|e| VerifyError::Check(format!("cannot create a scratch folder in {}: {e}", scratch.display())))?;
    let unpacked = unpack(archive, dir.path(), limits)?;
    let copy = copy_of(step);
    let context = BuildContext::open(dir.path()).map_err(|e| VerifyError::Check(e.to_string()))?;
    let source = context.copy(&copy, None).map_err(|e| VerifyError::Check(e.to_string()))?;
    let got = source.files_hash().map_err(|e| VerifyError::Check(e.to_string()))?;
    let want = step.files_hash.clone().unwrap_or_default();
    if got != want {
        let js = js_files_hash(dir.path(), &copy, source.entries()).map_err(|e| VerifyError::Check(e.to_string()))?;
        if js != want {
            return Err(VerifyError::Mismatch { src: copy.src, dest: copy.dest, want, got, js });
        }
    }
    let selected: BTreeSet<&Path> = source.entries().iter().map(|e| e.path()).collect();
    if let Some(extra) = unpacked.files.iter().find(|p| !selected.contains(p.as_path())) {
        return Err(VerifyError::Extra { src: copy.src, dest: copy.dest, path: extra.display().to_string() });
    }
    Ok(unpacked.entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> UnpackLimits {
        UnpackLimits { max_bytes: 1 << 20, max_entries: 10, max_path_len: 100 }
    }

    /// A GNU long-name entry of 64 MiB: the tar crate would read it all into memory; it is
    /// refused on its header, naming the path-length limit.
    #[test]
    fn a_giant_long_name_is_refused_before_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bomb.tar.gz");
        let file = std::fs::File::create(&path).unwrap();
        let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::GNULongName);
        header.set_path("././@LongLink").unwrap();
        header.set_size(64 << 20);
        header.set_cksum();
        std::io::Write::write_all(&mut gz, header.as_bytes()).unwrap();
        let chunk = vec![b'a'; 1 << 20];
        for _ in 0..64 {
            std::io::Write::write_all(&mut gz, &chunk).unwrap();
        }
        gz.finish().unwrap();
        let out = tempfile::tempdir().unwrap();
        let err = unpack(&path, out.path(), &limits()).unwrap_err();
        assert!(matches!(err, UnpackError::PathTooLong { .. }), "{err:?}");
        assert!(err.to_string().contains("--max-path-len"), "{err}");
        let err = check_limits(&path, &limits()).unwrap_err();
        assert!(matches!(err, UnpackError::PathTooLong { .. }), "{err:?}");
    }

    /// Entries that declare more than the limit in total are refused, and so is a stream past
    /// its cap whatever its headers say.
    #[test]
    fn a_stream_past_its_limits_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("long.tar");
        let mut tar = tar::Builder::new(std::fs::File::create(&path).unwrap());
        // 10 entries of 300 KiB each: within the entry limit, the total over 1 MiB.
        let data = vec![0u8; 300 << 10];
        for i in 0..10 {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_cksum();
            tar.append_data(&mut header, format!("f{i}"), &data[..]).unwrap();
        }
        tar.finish().unwrap();
        let out = tempfile::tempdir().unwrap();
        let err = unpack(&path, out.path(), &limits()).unwrap_err();
        assert!(matches!(err, UnpackError::TooBig { .. }), "{err:?}");
        assert!(err.to_string().contains("--max-unpacked-bytes"), "{err}");
        // With no room at all, the cap on the stream itself refuses the first block.
        let none = UnpackLimits { max_bytes: 0, max_entries: 0, max_path_len: 0 };
        let mut capped = open(&path, &none).unwrap();
        capped.left = 100;
        let e = std::io::copy(&mut capped, &mut std::io::sink()).unwrap_err();
        assert!(is_cap(&e), "{e}");
    }

    #[test]
    fn links_and_devices_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("link.tar");
        let mut tar = tar::Builder::new(std::fs::File::create(&path).unwrap());
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Link);
        header.set_size(0);
        tar.append_link(&mut header, "shadow", "/etc/shadow").unwrap();
        tar.finish().unwrap();
        let out = tempfile::tempdir().unwrap();
        let err = unpack(&path, out.path(), &limits()).unwrap_err();
        assert!(err.to_string().contains("`shadow`, a hard link"), "{err}");
    }
}
