//! Every use of the build context by the cloud client and the server goes through the three
//! functions of this file, so switching to the `context` module is a change here only.
//!
//! TEMPORARY: until `crate::context` (`BuildContext`, `EmbeddedDir`) lands, this is a minimal
//! implementation of the Python SDK's `filesHash` and of the upload archive for literal COPY
//! sources (a file, a folder, a symlink, `.`), without ignore rules or globs. Swap:
//! - [`files_hashes`] → `template.files_hashes()`,
//! - [`files_hash`] → `crate::context::files_hash(template, copy, None)`,
//! - [`write_archive`] → the context module's archive writer for one COPY step
//!   (`BuildContext::write_archive(copy, out, gzip)` or `EmbeddedDir`'s equivalent).

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::step::{CopyStep, StepKind};
use crate::template::{Context, Template};

/// The `filesHash` of every COPY step (`None` for other steps), in step order.
pub(crate) fn files_hashes(template: &Template) -> Result<Vec<Option<String>>, Error> {
    template
        .steps()
        .iter()
        .map(|step| match &step.kind {
            StepKind::Copy(copy) => files_hash(template, copy).map(Some),
            _ => Ok(None),
        })
        .collect()
}

/// The `filesHash` of one COPY step of `template` (Python SDK algorithm, SPEC §C.3).
pub(crate) fn files_hash(template: &Template, copy: &CopyStep) -> Result<String, Error> {
    let ctx = dir_context(template)?;
    let entries = enumerate(ctx, &copy.src)?;
    let resolve = copy.resolve_symlinks.unwrap_or(false);
    let mut h = Sha256::new();
    h.update(format!("COPY {} {}", copy.src, copy.dest).as_bytes());
    for (rel, abs) in &entries {
        h.update(rel.as_bytes());
        let lmeta = fs::symlink_metadata(abs).map_err(|e| io_err(abs, e))?;
        if lmeta.file_type().is_symlink() {
            let target_ok = fs::metadata(abs).is_ok();
            if !(resolve && target_ok) {
                h.update(mode_of(&lmeta).to_string().as_bytes());
                h.update(lmeta.len().to_string().as_bytes());
                let target = fs::read_link(abs).map_err(|e| io_err(abs, e))?;
                h.update(target.to_string_lossy().as_bytes());
                continue;
            }
        }
        let meta = fs::metadata(abs).map_err(|e| io_err(abs, e))?;
        h.update(mode_of(&meta).to_string().as_bytes());
        if !meta.is_dir() {
            h.update(meta.len().to_string().as_bytes());
        }
        if meta.is_file() {
            let mut f = fs::File::open(abs).map_err(|e| io_err(abs, e))?;
            io::copy(&mut f, &mut HashWriter(&mut h)).map_err(|e| io_err(abs, e))?;
        }
    }
    Ok(format!("{:x}", h.finalize()))
}

/// Writes the upload archive of one COPY step to `out`: a tar (gzip unless the step says
/// `gzip = false`) of exactly the hashed entries, paths relative to the context folder.
pub(crate) fn write_archive(template: &Template, copy: &CopyStep, out: &mut dyn Write) -> Result<(), Error> {
    let ctx = dir_context(template)?;
    let entries = enumerate(ctx, &copy.src)?;
    let resolve = copy.resolve_symlinks.unwrap_or(false);
    let io = |e| Error::Io { path: ctx.to_owned(), source: e };
    if copy.gzip.unwrap_or(true) {
        let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
        append_all(&mut gz, &entries, resolve).map_err(io)?;
        gz.finish().map_err(io)?;
    } else {
        append_all(out, &entries, resolve).map_err(io)?;
    }
    Ok(())
}

fn append_all<W: Write>(out: W, entries: &[(String, PathBuf)], resolve: bool) -> io::Result<()> {
    let mut tar = tar::Builder::new(out);
    tar.follow_symlinks(resolve);
    for (rel, abs) in entries {
        let name = if rel == "." { "./" } else { rel.as_str() };
        tar.append_path_with_name(abs, name)?;
    }
    tar.finish()
}

fn dir_context(template: &Template) -> Result<&Path, Error> {
    match template.context() {
        Context::Dir(d) => Ok(d),
        Context::Embedded(_) => Err(Error::Unsupported(
            "uploading an embedded build context needs the context module (not merged yet)".to_owned(),
        )),
    }
}

/// Entries of a literal source, sorted by path (= the SDKs' absolute-path order).
fn enumerate(ctx: &Path, src: &str) -> Result<Vec<(String, PathBuf)>, Error> {
    if src.contains(['*', '?', '[', '{']) {
        return Err(Error::Unsupported(format!(
            "glob source `{src}` needs the context module (not merged yet); name the files or folder instead"
        )));
    }
    let rel0 = src.trim_start_matches("./").trim_end_matches('/');
    let rel0 = if rel0.is_empty() || rel0 == "." { "." } else { rel0 };
    let root = if rel0 == "." { ctx.to_owned() } else { ctx.join(rel0) };
    let meta = match fs::symlink_metadata(&root) {
        Ok(m) => m,
        Err(_) => return Err(Error::NoFiles { path: ctx.join(src), location: None }),
    };
    let mut out = vec![(rel0.to_owned(), root.clone())];
    if meta.is_dir() {
        walk(&root, if rel0 == "." { "" } else { rel0 }, &mut out)?;
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn walk(dir: &Path, rel: &str, out: &mut Vec<(String, PathBuf)>) -> Result<(), Error> {
    let read = fs::read_dir(dir).map_err(|e| io_err(dir, e))?;
    for entry in read {
        let entry = entry.map_err(|e| io_err(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let child_rel = if rel.is_empty() { name } else { format!("{rel}/{name}") };
        let path = entry.path();
        let is_dir = entry.file_type().map_err(|e| io_err(&path, e))?.is_dir();
        out.push((child_rel.clone(), path.clone()));
        if is_dir {
            walk(&path, &child_rel, out)?;
        }
    }
    Ok(())
}

fn mode_of(meta: &fs::Metadata) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        meta.mode()
    }
    #[cfg(not(unix))]
    {
        if meta.is_dir() { 0o040755 } else { 0o100644 }
    }
}

fn io_err(path: &Path, source: io::Error) -> Error {
    Error::Io { path: path.to_owned(), source }
}

struct HashWriter<'a>(&'a mut Sha256);

impl Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
