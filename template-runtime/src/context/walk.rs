//! Enumeration of one COPY source, exactly as the Python SDK's `get_all_files_in_path`:
//!
//! 1. Expand `src` like `wcmatch.glob(src, GLOBSTAR | DOTMATCH, root_dir=ctx)`: `*`, `?`,
//!    `[...]` within a name (dotfiles included), `**` for any depth; symlinked directories are
//!    never entered, not even by a literal path (`link/file` matches nothing); `.`/`..` are
//!    literal steps through real directories; a trailing `/` only matches directories.
//! 2. Visit the matches parents first; skip those under a directory already walked, and those
//!    the ignore rules exclude (never the root). A real directory is added and walked; anything
//!    else is added as is.
//! 3. The walk adds every entry not excluded, and descends into real directories that are not
//!    excluded or under which a `!` pattern could re-include something.
//! 4. Sort by path (byte order = code-point order of the absolute paths Python sorts; the root
//!    comes first).

use std::collections::HashSet;
use std::path::Path;

use super::fs::{EntryKind, Fs, Meta, join};
use super::glob::{SrcPattern, SrcSegment};
use super::ignore::IgnoreRules;
use crate::error::Error;

/// An enumerated path (relative, `/`-separated; empty for the root) with its `lstat` data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Found {
    pub rel: Vec<u8>,
    pub meta: Meta,
}

/// Bytes of a relative path, `/`-separated.
pub(crate) fn path_bytes(p: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    p.as_os_str().as_bytes().to_vec()
}

/// Lexical `normpath` of a relative path whose every step before the last is a real directory
/// (so `..` can be resolved by text). `None` if it climbs above the root.
fn normalize(raw: &[u8]) -> Option<Vec<u8>> {
    let mut parts: Vec<&[u8]> = Vec::new();
    for c in raw.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join(&b'/'))
}

fn depth(rel: &[u8]) -> usize {
    if rel.is_empty() { 0 } else { rel.iter().filter(|&&b| b == b'/').count() + 1 }
}

/// All paths under the real directory `dir` (not entering symlinked directories), for `**`.
fn descendants(fs: &Fs<'_>, dir: &[u8], dirs_only: bool, out: &mut Vec<Vec<u8>>) -> Result<(), Error> {
    let mut stack = vec![dir.to_vec()];
    while let Some(d) = stack.pop() {
        for (name, meta) in fs.read_dir(&d)? {
            let p = join(&d, &name);
            let is_dir = meta.kind == EntryKind::Dir;
            if is_dir {
                stack.push(p.clone());
            }
            if is_dir || !dirs_only {
                out.push(p);
            }
        }
    }
    Ok(())
}

/// Step 1: the glob matches of `src`, normalized, de-duplicated.
fn expand(fs: &Fs<'_>, src: &str) -> Result<Vec<Vec<u8>>, Error> {
    let pattern = SrcPattern::parse(src);
    let mut state: Vec<Vec<u8>> = vec![Vec::new()];
    let count = pattern.segments.len();
    for (i, seg) in pattern.segments.iter().enumerate() {
        let last = i + 1 == count;
        let want_dir = !last || pattern.dir_only;
        let mut next = Vec::new();
        for cur in &state {
            match seg {
                SrcSegment::Literal(name) => {
                    let Some(p) = normalize(&join(cur, name.as_bytes())) else { continue };
                    match fs.lstat(&p)? {
                        Some(m) if !want_dir || m.kind == EntryKind::Dir => next.push(p),
                        _ => {}
                    }
                }
                SrcSegment::Wild(_) => {
                    for (name, meta) in fs.read_dir(cur)? {
                        if seg.matches_name(&name) && (!want_dir || meta.kind == EntryKind::Dir) {
                            next.push(join(cur, &name));
                        }
                    }
                }
                SrcSegment::Globstar => {
                    // Zero or more directories; the context root itself is never a `**` result.
                    if !last || !cur.is_empty() {
                        next.push(cur.clone());
                    }
                    descendants(fs, cur, want_dir, &mut next)?;
                }
            }
        }
        let mut seen = HashSet::new();
        next.retain(|p| seen.insert(p.clone()));
        state = next;
    }
    if count == 0 {
        // `src` was only slashes; the rules reject that earlier.
        return Ok(Vec::new());
    }
    Ok(state)
}

/// Steps 1-4: the sorted entries of `src`.
pub(crate) fn enumerate(fs: &Fs<'_>, src: &str, ignore: &IgnoreRules) -> Result<Vec<Found>, Error> {
    let mut matches = expand(fs, src)?;
    matches.sort_by_key(|m| depth(m));
    let mut found: Vec<Found> = Vec::new();
    let mut walked: HashSet<Vec<u8>> = HashSet::new();
    let under_walked = |rel: &[u8], walked: &HashSet<Vec<u8>>| {
        if walked.contains(&b""[..]) {
            return true;
        }
        let mut end = rel.len();
        while let Some(p) = rel[..end].iter().rposition(|&b| b == b'/') {
            if walked.contains(&rel[..p]) {
                return true;
            }
            end = p;
        }
        false
    };
    for rel in matches {
        if under_walked(&rel, &walked) || (!rel.is_empty() && ignore.matches(&rel)) {
            continue;
        }
        let Some(meta) = fs.lstat(&rel)? else { continue };
        if meta.kind == EntryKind::Dir {
            walk(fs, &rel, ignore, &mut found)?;
            found.push(Found { rel: rel.clone(), meta });
            walked.insert(rel);
        } else {
            found.push(Found { rel, meta });
        }
    }
    found.sort_unstable_by(|a, b| a.rel.cmp(&b.rel));
    found.dedup_by(|a, b| a.rel == b.rel);
    Ok(found)
}

/// Step 3.
fn walk(fs: &Fs<'_>, dir: &[u8], ignore: &IgnoreRules, out: &mut Vec<Found>) -> Result<(), Error> {
    let mut stack = vec![dir.to_vec()];
    while let Some(d) = stack.pop() {
        for (name, meta) in fs.read_dir(&d)? {
            let rel = join(&d, &name);
            let ignored = !ignore.is_empty() && ignore.matches(&rel);
            if meta.kind == EntryKind::Dir && (!ignored || ignore.may_match_under(&rel)) {
                stack.push(rel.clone());
            }
            if !ignored {
                out.push(Found { rel, meta });
            }
        }
    }
    Ok(())
}

/// For [`super::Error::SymlinkEscapes`] on a source that matched nothing: the first symlink
/// among the literal leading steps of `src` (before any wildcard), which the glob never enters.
pub(crate) fn symlink_on_the_way(fs: &Fs<'_>, src: &str) -> Result<Option<Vec<u8>>, Error> {
    let pattern = SrcPattern::parse(src);
    let mut cur = Vec::new();
    let steps = pattern.segments.len().saturating_sub(1);
    for seg in &pattern.segments[..steps] {
        let SrcSegment::Literal(name) = seg else { break };
        let Some(p) = normalize(&join(&cur, name.as_bytes())) else { break };
        match fs.lstat(&p)? {
            Some(m) if m.kind == EntryKind::Symlink => return Ok(Some(p)),
            Some(m) if m.kind == EntryKind::Dir => cur = p,
            _ => break,
        }
    }
    Ok(None)
}
