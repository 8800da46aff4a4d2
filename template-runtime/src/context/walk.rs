//! Enumeration of one COPY source, exactly as the Python SDK's `get_all_files_in_path`:
//!
//! 1. Expand `src` like `wcmatch.glob(src, GLOBSTAR | DOTMATCH, root_dir=ctx)`: `*`, `?`,
//!    `[...]` within a name (dotfiles included), `**` for any depth. A step of the pattern
//!    follows symlinked directories (`link/file` matches), `**` does not descend into them;
//!    entries whose `stat` fails other than "missing" (symlink loops) are skipped; a trailing
//!    `/` only matches directories (symlinks to directories included). `glob`, `glob_dir` and
//!    `scan` mirror wcmatch's `_glob`, `_glob_dir` and `_iter`, quirks included.
//! 2. Visit the matches parents first; skip those under a directory already walked, and those
//!    the ignore rules exclude (never the root). A real directory is added and walked; anything
//!    else is added as is.
//! 3. The walk adds every entry not excluded, and descends into real directories that are not
//!    excluded or under which a `!` pattern could re-include something.
//! 4. Sort by path (byte order = code-point order of the absolute paths Python sorts; the root
//!    comes first).

use std::collections::HashSet;

use super::glob::{SrcPattern, SrcSegment};
use super::ignore::IgnoreRules;
use super::meta::{EntryKind, Meta, join};
use super::source::{ContextSource, Follow};
use crate::error::Error;

/// An enumerated path (relative, `/`-separated; empty for the root) with its `lstat` data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Found {
    pub rel: Vec<u8>,
    pub meta: Meta,
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

/// One directory entry as wcmatch sees it: `is_dir` follows symlinks, `is_link` only matters
/// for directories (`**` does not descend into symlinked ones).
struct Scanned {
    name: Vec<u8>,
    is_dir: bool,
    is_link: bool,
}

/// wcmatch's `_iter`: the entries of `cur` (following `cur` itself if it is a symlink); entries
/// whose `stat` fails other than "missing" (a symlink loop) are skipped, as `DirEntry.is_dir`
/// raises for them.
fn scan(fs: &ContextSource, cur: &[u8], dir_only: bool) -> Result<Vec<Scanned>, Error> {
    let listing = match fs.read_dir(cur) {
        Ok(l) => l,
        // wcmatch ignores directories it cannot list (and files are not directories).
        Err(_) => return Ok(Vec::new()),
    };
    let mut out = Vec::with_capacity(listing.len());
    for (name, meta) in listing {
        let (is_dir, is_link) = match meta.kind {
            EntryKind::Symlink => match fs.follow(&join(cur, &name))? {
                Follow::Dir => (true, true),
                Follow::Other | Follow::Missing => (false, false),
                Follow::Unreadable => continue,
            },
            kind => (kind == EntryKind::Dir, false),
        };
        if !dir_only || is_dir {
            out.push(Scanned { name, is_dir, is_link });
        }
    }
    Ok(out)
}

fn is_special(seg: &SrcSegment) -> bool {
    matches!(seg, SrcSegment::Literal(l) if l == "." || l == "..")
}

/// wcmatch's `_glob_dir`. `matcher` is `None` after a final `**` (everything matches).
fn glob_dir(
    fs: &ContextSource,
    cur: &[u8],
    matcher: Option<&SrcSegment>,
    dir_only: bool,
    deep: bool,
    out: &mut Vec<Vec<u8>>,
) -> Result<(), Error> {
    // `.` and `..` are listed first, as directories; only a literal `.`/`..` matches them.
    if let Some(m) = matcher.filter(|m| is_special(m)) {
        let SrcSegment::Literal(name) = m else { unreachable!("is_special") };
        out.push(join(cur, name.as_bytes()));
    }
    for e in scan(fs, cur, dir_only)? {
        let path = join(cur, &e.name);
        let hit = match matcher {
            None => true,
            Some(m) => !is_special(m) && m.matches_name(&e.name),
        };
        let descend = deep && e.is_dir && !e.is_link;
        if hit {
            out.push(path.clone());
        }
        if descend {
            glob_dir(fs, &path, matcher, dir_only, deep, out)?;
        }
    }
    Ok(())
}

/// A pattern part and whether a `/` follows it (wcmatch's `dir_only`).
type Part<'a> = (&'a SrcSegment, bool);

/// wcmatch's `_glob`.
fn glob(
    fs: &ContextSource,
    cur: &[u8],
    part: Part<'_>,
    rest: &[Part<'_>],
    out: &mut Vec<Vec<u8>>,
) -> Result<(), Error> {
    let (seg, dir_only) = part;
    let mut found = Vec::new();
    let next: &[Part<'_>];
    if *seg == SrcSegment::Globstar {
        let (target, after) = match rest.split_first() {
            Some((this, after)) => (Some(*this), after),
            None => (None, rest),
        };
        if target.is_none() && !cur.is_empty() {
            // `dir/**` also matches `dir/` itself (then normalized to `dir`).
            out.push(cur.to_vec());
        }
        let dir_only = target.map_or(dir_only, |t| t.1);
        glob_dir(fs, cur, target.map(|t| t.0), dir_only, true, &mut found)?;
        next = after;
    } else if !dir_only {
        glob_dir(fs, cur, Some(seg), false, false, out)?;
        return Ok(());
    } else {
        glob_dir(fs, cur, Some(seg), true, false, &mut found)?;
        next = rest;
    }
    match next.split_first() {
        Some((this, after)) => {
            for path in found {
                glob(fs, &path, *this, after, out)?;
            }
        }
        None => out.extend(found),
    }
    Ok(())
}

/// Step 1: the glob matches of `src` (wcmatch's `glob`), normalized, de-duplicated.
fn expand(fs: &ContextSource, src: &str) -> Result<Vec<Vec<u8>>, Error> {
    let pattern = SrcPattern::parse(src);
    let n = pattern.segments.len();
    let parts: Vec<Part<'_>> =
        pattern.segments.iter().enumerate().map(|(i, s)| (s, i + 1 < n || pattern.dir_only)).collect();
    let Some((&first, rest)) = parts.split_first() else { return Ok(Vec::new()) };
    let mut raw = Vec::new();
    match first.0 {
        SrcSegment::Literal(name) => {
            // A plain first step is looked up among the root's entries; it only has to be a
            // directory when the whole pattern ends with `/` (so `file/**` matches `file`).
            let starts: Vec<Vec<u8>> = if is_special(first.0) {
                vec![name.as_bytes().to_vec()]
            } else {
                scan(fs, b"", pattern.dir_only)?
                    .into_iter()
                    .filter(|e| e.name == name.as_bytes())
                    .map(|e| e.name)
                    .collect()
            };
            for start in starts {
                match rest.split_first() {
                    Some((this, after)) if first.1 => glob(fs, &start, *this, after, &mut raw)?,
                    _ => raw.push(start),
                }
            }
        }
        _ => glob(fs, b"", first, rest, &mut raw)?,
    }
    let mut seen = HashSet::new();
    Ok(raw.into_iter().filter_map(|r| normalize(&r)).filter(|p| seen.insert(p.clone())).collect())
}

/// Steps 1-4: the sorted entries of `src`.
pub(crate) fn enumerate(fs: &ContextSource, src: &str, ignore: &IgnoreRules) -> Result<Vec<Found>, Error> {
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
    let mut escapes = std::collections::HashMap::new();
    for rel in matches {
        if under_walked(&rel, &walked) || (!rel.is_empty() && ignore.matches(&rel)) {
            continue;
        }
        // wcmatch follows symlinked directories on the way to a match (`link/file`): fine inside
        // the context, refused when the link leads out.
        if let Some(link) = escaping_link(fs, &rel, &mut escapes)? {
            return Err(Error::SymlinkEscapes { path: fs.disk_path(&link), location: None });
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

/// One directory of step 3: its entries that are not excluded go to `out`; the directories to
/// descend into are returned.
fn walk_one(fs: &ContextSource, d: &[u8], ignore: &IgnoreRules, out: &mut Vec<Found>) -> Result<Vec<Vec<u8>>, Error> {
    let mut subdirs = Vec::new();
    for (name, meta) in fs.read_dir(d)? {
        let rel = join(d, &name);
        let ignored = !ignore.is_empty() && ignore.matches(&rel);
        if meta.kind == EntryKind::Dir && (!ignored || ignore.may_match_under(&rel)) {
            subdirs.push(rel.clone());
        }
        if !ignored {
            out.push(Found { rel, meta });
        }
    }
    Ok(subdirs)
}

/// Step 3 on all cores: listing a folder and `lstat`ing its entries is system-call time, and the
/// order does not matter (the result is sorted). The top of the tree is listed breadth-first
/// until there are enough folders to share, then each thread walks its share depth-first (no
/// shared queue, so no wake-ups between threads).
fn walk(fs: &ContextSource, dir: &[u8], ignore: &IgnoreRules, out: &mut Vec<Found>) -> Result<(), Error> {
    let threads = match fs {
        ContextSource::Dir(_) => std::thread::available_parallelism().map_or(1, |n| n.get()).min(4),
        ContextSource::Embedded(_) => 1,
    };
    let mut frontier = vec![dir.to_vec()];
    while !frontier.is_empty() && (threads < 2 || frontier.len() < threads * 8) {
        let mut next = Vec::new();
        for d in &frontier {
            next.extend(walk_one(fs, d, ignore, out)?);
        }
        frontier = next;
    }
    if frontier.is_empty() {
        return Ok(());
    }
    let shares: Vec<Vec<Vec<u8>>> =
        (0..threads).map(|k| frontier.iter().skip(k).step_by(threads).cloned().collect()).collect();
    let results: Vec<Result<Vec<Found>, Error>> = std::thread::scope(|scope| {
        let workers: Vec<_> = shares
            .into_iter()
            .map(|mut stack| {
                scope.spawn(move || {
                    let mut mine = Vec::new();
                    while let Some(d) = stack.pop() {
                        stack.extend(walk_one(fs, &d, ignore, &mut mine)?);
                    }
                    Ok(mine)
                })
            })
            .collect();
        workers
            .into_iter()
            // A panicking walker is a bug: its panic continues here rather than becoming an error.
            .map(|w| w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    });
    for r in results {
        out.extend(r?);
    }
    Ok(())
}

/// A glob match reached through a symlinked directory that leads out of the context: the link.
/// `cache` remembers the verdict per parent directory.
fn escaping_link(
    fs: &ContextSource,
    rel: &[u8],
    cache: &mut std::collections::HashMap<Vec<u8>, Option<Vec<u8>>>,
) -> Result<Option<Vec<u8>>, Error> {
    let Some(slash) = rel.iter().rposition(|&b| b == b'/') else { return Ok(None) };
    let parent = &rel[..slash];
    if let Some(v) = cache.get(parent) {
        return Ok(v.clone());
    }
    let mut verdict = None;
    if !fs.inside(parent)? {
        // Name the first step that leaves.
        let mut end = 0;
        for (i, &b) in parent.iter().chain(std::iter::once(&b'/')).enumerate() {
            if b == b'/' {
                end = i;
                if !fs.inside(&parent[..end])? {
                    break;
                }
            }
        }
        verdict = Some(parent[..end].to_vec());
    }
    cache.insert(parent.to_vec(), verdict.clone());
    Ok(verdict)
}
