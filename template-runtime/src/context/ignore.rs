//! `.dockerignore` rules: which paths of the context are left out.
//!
//! Semantics of Docker (moby `patternmatcher`, as ported by the Python SDK to
//! `e2b_dockerfile_utils.PatternMatcher`): patterns are anchored at the context root and
//! `Clean`ed, `!` re-includes, the last matching pattern wins, and a pattern that matches a
//! directory also matches everything under it. An excluded directory is still walked when a `!`
//! pattern could re-include something under it ([`IgnoreRules::may_match_under`]).

use std::path::Path;

use super::glob::{DockerPattern, decode};
use crate::error::Error;

#[derive(Clone, Debug)]
struct Rule {
    exclusion: bool,
    /// The cleaned pattern split on `/` (for [`IgnoreRules::may_match_under`]).
    dirs: Vec<String>,
    pattern: DockerPattern,
}

/// Compiled ignore patterns.
#[derive(Clone, Debug, Default)]
pub(crate) struct IgnoreRules {
    rules: Vec<Rule>,
}

/// Python's `str.strip()` with no argument: Unicode whitespace plus the ASCII separators
/// `\x1c`..`\x1f` that Rust's `trim` keeps.
pub(crate) fn py_strip(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || ('\x1c'..='\x1f').contains(&c))
}

/// Python's `posixpath.normpath`.
pub(crate) fn py_normpath(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let initial = if path.starts_with("//") && !path.starts_with("///") {
        2
    } else if path.starts_with('/') {
        1
    } else {
        0
    };
    let mut parts: Vec<&str> = Vec::new();
    for comp in path.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                if (initial == 0 && parts.is_empty()) || parts.last() == Some(&"..") {
                    parts.push("..");
                } else if !parts.is_empty() {
                    parts.pop();
                }
            }
            c => parts.push(c),
        }
    }
    let out = "/".repeat(initial) + &parts.join("/");
    if out.is_empty() { ".".into() } else { out }
}

/// The lines of a `.dockerignore` file, as the Python SDK reads them (`read_dockerignore`): a
/// UTF-8 byte order mark is dropped, lines starting with `#` (before trimming) are comments,
/// lines are trimmed, empty lines dropped.
pub(crate) fn parse_dockerignore(text: &str) -> Vec<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.split('\n')
        .filter(|line| !line.starts_with('#'))
        .map(py_strip)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `_normalize_ignore_pattern`: an absolute pattern that points into the context becomes
/// relative to it; other patterns are kept (a leading `/` is dropped later).
fn normalize_pattern(pattern: &str, abs_context: &str) -> String {
    let pattern = py_strip(pattern);
    let (negated, rest) = match pattern.strip_prefix('!') {
        Some(rest) => (true, py_strip(rest)),
        None => (false, pattern),
    };
    let mut out = rest.to_owned();
    if rest.starts_with('/') {
        let norm = py_normpath(rest);
        let prefix = if abs_context == "/" { "/".to_owned() } else { format!("{abs_context}/") };
        if let Some(rel) = norm.strip_prefix(&prefix).filter(|r| !r.is_empty()) {
            out = rel.to_owned();
        }
    }
    if negated { format!("!{out}") } else { out }
}

/// Go's `filepath.Clean` on a slash-separated pattern (`/+` collapsed, then `normpath`).
fn clean(pattern: &str) -> String {
    let mut collapsed = String::with_capacity(pattern.len());
    for c in pattern.chars() {
        if !(c == '/' && collapsed.ends_with('/')) {
            collapsed.push(c);
        }
    }
    py_normpath(&collapsed)
}

impl IgnoreRules {
    /// Compiles `patterns` (`.dockerignore` lines first, then the template's own) for a context
    /// whose absolute, normalized path is `abs_context`.
    pub(crate) fn new(patterns: &[String], abs_context: &Path) -> Result<IgnoreRules, Error> {
        let abs_context = abs_context.to_string_lossy();
        let mut rules = Vec::new();
        for original in patterns {
            let normalized = normalize_pattern(original, &abs_context);
            if normalized.starts_with('#') {
                continue;
            }
            let mut pattern = py_strip(&normalized);
            if pattern.is_empty() {
                continue;
            }
            let exclusion = pattern.starts_with('!');
            if exclusion {
                pattern = py_strip(&pattern[1..]);
                if pattern.is_empty() {
                    return Err(Error::InvalidIgnorePattern {
                        pattern: original.clone(),
                        reason: "illegal exclusion pattern".into(),
                    });
                }
            }
            let mut cleaned = clean(pattern);
            if cleaned.len() > 1 && cleaned.starts_with('/') {
                cleaned.remove(0);
            }
            let compiled = DockerPattern::compile(&cleaned)
                .map_err(|reason| Error::InvalidIgnorePattern { pattern: original.clone(), reason: reason.into() })?;
            rules.push(Rule { exclusion, dirs: cleaned.split('/').map(str::to_owned).collect(), pattern: compiled });
        }
        Ok(IgnoreRules { rules })
    }

    /// No patterns at all (the common case; skips all matching work).
    pub(crate) fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether `path` (relative to the context, `/`-separated, not the root) is excluded.
    ///
    /// Like BuildKit, the patterns are evaluated on each parent first; a pattern that matched a
    /// parent also matches the paths under it.
    pub(crate) fn matches(&self, path: &[u8]) -> bool {
        if self.rules.is_empty() {
            return false;
        }
        let chars = decode(path);
        let mut ends: Vec<usize> =
            chars.iter().enumerate().filter(|(_, c)| **c == '/' as u32).map(|(i, _)| i).collect();
        ends.push(chars.len());
        let mut parent: Vec<bool> = Vec::new();
        let mut current: Vec<bool> = Vec::with_capacity(self.rules.len());
        let mut matched = false;
        for end in ends {
            let prefix = &chars[..end];
            current.clear();
            matched = false;
            for (i, rule) in self.rules.iter().enumerate() {
                let mut hit = parent.get(i).copied().unwrap_or(false);
                if !hit {
                    // An inclusion can't change an already matched path, and an exclusion can't
                    // change a path that hasn't matched yet.
                    if rule.exclusion != matched {
                        current.push(false);
                        continue;
                    }
                    hit = rule.pattern.matches(prefix);
                }
                current.push(hit);
                if hit {
                    matched = !rule.exclusion;
                }
            }
            std::mem::swap(&mut parent, &mut current);
        }
        matched
    }

    /// Whether a `!` pattern could re-include a path under the directory `dir`, in which case an
    /// excluded directory must still be walked.
    pub(crate) fn may_match_under(&self, dir: &[u8]) -> bool {
        let segments: Vec<&[u8]> = dir.split(|&b| b == b'/').collect();
        self.rules.iter().filter(|r| r.exclusion).any(|rule| {
            for (i, seg) in segments.iter().enumerate() {
                let Some(pat) = rule.dirs.get(i) else { return false };
                if pat.contains("**") {
                    return true;
                }
                let wild = pat.contains(['*', '?', '[', '\\']);
                if !wild && pat.as_bytes() != *seg {
                    return false;
                }
            }
            rule.dirs.len() > segments.len()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(p: &[&str]) -> IgnoreRules {
        IgnoreRules::new(&p.iter().map(|s| s.to_string()).collect::<Vec<_>>(), Path::new("/ctx")).unwrap()
    }

    #[test]
    fn normpath_like_python() {
        for (i, o) in [
            ("", "."),
            ("a/./b/", "a/b"),
            ("a/../..", ".."),
            ("/../a", "/a"),
            ("//a", "//a"),
            ("///a", "/a"),
            ("./", "."),
            ("a/b/../../c", "c"),
        ] {
            assert_eq!(py_normpath(i), o, "{i}");
        }
    }

    #[test]
    fn dockerignore_file_parsing() {
        let text = "\u{feff}# comment\n*.log\r\n  # indented is a pattern\n\n!keep.log  \n\t\n";
        assert_eq!(parse_dockerignore(text), ["*.log", "# indented is a pattern", "!keep.log"]);
    }

    #[test]
    fn last_match_wins_and_reinclusion() {
        let r = rules(&["*.log", "!important.log"]);
        assert!(r.matches(b"debug.log"));
        assert!(!r.matches(b"important.log"));
        let r = rules(&["!important.log", "*.log"]);
        assert!(r.matches(b"important.log"), "a later exclusion wins");
    }

    #[test]
    fn matched_directory_excludes_subtree() {
        let r = rules(&["node_modules"]);
        assert!(r.matches(b"node_modules"));
        assert!(r.matches(b"node_modules/pkg/index.js"));
        assert!(!r.matches(b"app/node_modules"), "anchored at the root");
        let r = rules(&["**/node_modules"]);
        assert!(r.matches(b"app/node_modules/x"));
    }

    #[test]
    fn reinclude_under_excluded_directory() {
        let r = rules(&["app", "!app/keep"]);
        assert!(r.matches(b"app"));
        assert!(r.matches(b"app/other"));
        assert!(!r.matches(b"app/keep"));
        assert!(!r.matches(b"app/keep/inner"), "the re-included dir re-includes its subtree");
        assert!(r.may_match_under(b"app"));
        assert!(!r.may_match_under(b"lib"));
        let r = rules(&["app"]);
        assert!(!r.may_match_under(b"app"), "no ! pattern: an excluded dir is not walked");
        let r = rules(&["*", "!**/*.md"]);
        assert!(r.may_match_under(b"deep"));
    }

    #[test]
    fn cleaning() {
        let r = rules(&["/a//b/", "./c", "/ctx/d/e", "  f  ", "#g"]);
        assert!(r.matches(b"a/b"));
        assert!(r.matches(b"c"));
        assert!(r.matches(b"d/e"), "absolute pattern inside the context becomes relative");
        assert!(r.matches(b"f"));
        assert!(!r.matches(b"#g"), "comment");
    }

    #[test]
    fn bad_patterns_are_reported() {
        let err = IgnoreRules::new(&["!".to_string()], Path::new("/ctx")).unwrap_err();
        assert_eq!(err.to_string(), "invalid ignore pattern `!`: illegal exclusion pattern");
        let err = IgnoreRules::new(&["[a-".to_string()], Path::new("/ctx")).unwrap_err();
        assert!(err.to_string().contains("syntax error in pattern"), "{err}");
    }
}
