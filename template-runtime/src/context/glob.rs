//! Pattern matching, written by hand for two dialects:
//!
//! * COPY sources: the Python SDK expands them with `wcmatch.glob(src, GLOBSTAR | DOTMATCH)`;
//!   [`SrcSegment`] is one `/`-separated segment of such a pattern.
//! * `.dockerignore` patterns: moby's `patternmatcher` (ported to Python as
//!   `e2b_dockerfile_utils.PatternMatcher`); [`DockerPattern`] reproduces its regex translation,
//!   including its fast paths (`foo**` is a prefix test, `**foo` a suffix test) whose results
//!   differ from the regex in corner cases.
//!
//! Why not `regex`/`globset`: the `template!` proc macro enumerates COPY sources at compile time
//! through this module, and a regex engine would add its build and run time to every user's
//! compilation; both dialects are small enough to match directly with backtracking.
//!
//! Names are matched as sequences of code points, like Python matches `str`: valid UTF-8 decodes
//! to its characters, and each byte of invalid UTF-8 becomes one code point `U+DC80..U+DCFF`
//! (Python's `surrogateescape`), so `?` matches one such byte.

/// Decodes a file name or path the way Python's `os.fsdecode` does.
pub(crate) fn decode(bytes: &[u8]) -> Vec<u32> {
    let mut out = Vec::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.extend(chunk.valid().chars().map(u32::from));
        out.extend(chunk.invalid().iter().map(|&b| 0xDC00 | u32::from(b)));
    }
    out
}

const SLASH: u32 = '/' as u32;
const NEWLINE: u32 = '\n' as u32;

/// A bracket expression `[...]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Class {
    negated: bool,
    items: Vec<ClassItem>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum ClassItem {
    Range(u32, u32),
    /// A POSIX class such as `[:alpha:]` (wcmatch only).
    Posix(usize),
}

impl Class {
    fn matches(&self, c: u32) -> bool {
        let hit = self.items.iter().any(|item| match item {
            ClassItem::Range(lo, hi) => (*lo..=*hi).contains(&c),
            ClassItem::Posix(i) => char::from_u32(c).is_some_and(POSIX[*i].1),
        });
        hit != self.negated
    }
}

/// POSIX classes inside wcmatch brackets (`[[:alpha:]]`).
type CharTest = fn(char) -> bool;
const POSIX: [(&str, CharTest); 14] = [
    ("alnum", |c| c.is_ascii_alphanumeric()),
    ("alpha", |c| c.is_ascii_alphabetic()),
    ("ascii", |c| c.is_ascii()),
    ("blank", |c| c == ' ' || c == '\t'),
    ("cntrl", |c| c.is_ascii_control()),
    ("digit", |c| c.is_ascii_digit()),
    ("graph", |c| c.is_ascii_graphic()),
    ("lower", |c| c.is_ascii_lowercase()),
    ("print", |c| c.is_ascii_graphic() || c == ' '),
    ("punct", |c| c.is_ascii_punctuation()),
    ("space", |c| c.is_ascii_whitespace() || c == '\x0b'),
    ("upper", |c| c.is_ascii_uppercase()),
    ("word", |c| c.is_ascii_alphanumeric() || c == '_'),
    ("xdigit", |c| c.is_ascii_hexdigit()),
];

// ---------------------------------------------------------------------------------------------
// COPY sources (wcmatch)

/// One token of a wcmatch segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum WTok {
    Lit(u32),
    /// `*`: any run of characters (dotfiles included: `DOTMATCH`).
    Star,
    /// `?`: one character.
    Any,
    Class(Class),
}

/// One `/`-separated segment of a COPY source pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SrcSegment {
    /// A name without wildcards (escapes removed); also `.` and `..`.
    Literal(String),
    /// `**`: zero or more directories (symlinked directories are not entered).
    Globstar,
    /// A name with wildcards.
    Wild(Vec<WTok>),
}

/// A parsed COPY source pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SrcPattern {
    pub(crate) segments: Vec<SrcSegment>,
    /// A trailing `/`: only directories match.
    pub(crate) dir_only: bool,
}

impl SrcPattern {
    /// Parses `src` (already checked to be relative and non-empty).
    pub(crate) fn parse(src: &str) -> SrcPattern {
        let dir_only = src.ends_with('/');
        let segments = src.split('/').filter(|s| !s.is_empty()).map(parse_segment).collect();
        SrcPattern { segments, dir_only }
    }
}

fn parse_segment(seg: &str) -> SrcSegment {
    if seg == "**" {
        return SrcSegment::Globstar;
    }
    let chars: Vec<char> = seg.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' => {
                // `a**b` behaves like `a*b`: GLOBSTAR only applies to a whole segment.
                if toks.last() != Some(&WTok::Star) {
                    toks.push(WTok::Star);
                }
                i += 1;
            }
            '?' => {
                toks.push(WTok::Any);
                i += 1;
            }
            '[' => match parse_wc_class(&chars, i + 1) {
                Some((class, next)) => {
                    toks.push(WTok::Class(class));
                    i = next;
                }
                None => {
                    toks.push(WTok::Lit('[' as u32));
                    i += 1;
                }
            },
            '\\' if i + 1 < chars.len() => {
                toks.push(WTok::Lit(chars[i + 1] as u32));
                i += 2;
            }
            c => {
                toks.push(WTok::Lit(c as u32));
                i += 1;
            }
        }
    }
    if toks.iter().all(|t| matches!(t, WTok::Lit(_))) {
        let lit = toks.iter().filter_map(|t| if let WTok::Lit(c) = t { char::from_u32(*c) } else { None }).collect();
        SrcSegment::Literal(lit)
    } else {
        SrcSegment::Wild(toks)
    }
}

/// Parses a wcmatch bracket expression starting after `[`; `None` if unterminated (then `[` is
/// a literal character).
fn parse_wc_class(chars: &[char], mut i: usize) -> Option<(Class, usize)> {
    let mut negated = false;
    if i < chars.len() && (chars[i] == '!' || chars[i] == '^') {
        negated = true;
        i += 1;
    }
    let mut items = Vec::new();
    let mut first = true;
    loop {
        let c = *chars.get(i)?;
        if c == ']' && !first {
            return Some((Class { negated, items }, i + 1));
        }
        first = false;
        if c == '[' && chars.get(i + 1) == Some(&':') {
            let rest: String = chars[i + 2..].iter().collect();
            if let Some(end) = rest.find(":]")
                && let Some(f) = POSIX.iter().position(|(name, _)| *name == &rest[..end])
            {
                items.push(ClassItem::Posix(f));
                i += 2 + rest[..end].chars().count() + 2;
                continue;
            }
        }
        let (lo, next) = class_char(chars, i)?;
        i = next;
        if chars.get(i) == Some(&'-') && chars.get(i + 1).is_some_and(|&c| c != ']') {
            let (hi, next) = class_char(chars, i + 1)?;
            i = next;
            items.push(ClassItem::Range(lo, hi));
        } else {
            items.push(ClassItem::Range(lo, lo));
        }
    }
}

fn class_char(chars: &[char], i: usize) -> Option<(u32, usize)> {
    match chars.get(i)? {
        '\\' => Some((*chars.get(i + 1)? as u32, i + 2)),
        &c => Some((c as u32, i + 1)),
    }
}

impl SrcSegment {
    /// Whether a directory entry named `name` matches this (non-`**`) segment.
    pub(crate) fn matches_name(&self, name: &[u8]) -> bool {
        match self {
            SrcSegment::Literal(l) => l.as_bytes() == name,
            SrcSegment::Globstar => true,
            SrcSegment::Wild(toks) => wild_match(toks, &decode(name)),
        }
    }
}

fn wild_match(toks: &[WTok], s: &[u32]) -> bool {
    match toks.split_first() {
        None => s.is_empty(),
        Some((WTok::Star, rest)) => (0..=s.len()).any(|i| wild_match(rest, &s[i..])),
        Some((tok, rest)) => match s.split_first() {
            Some((&c, tail)) => {
                let ok = match tok {
                    WTok::Lit(l) => *l == c,
                    WTok::Any => true,
                    WTok::Class(class) => class.matches(c),
                    WTok::Star => unreachable!("handled above"),
                };
                ok && wild_match(rest, tail)
            }
            None => false,
        },
    }
}

// ---------------------------------------------------------------------------------------------
// .dockerignore patterns (moby patternmatcher)

/// One token of moby's regex translation.
#[derive(Clone, Debug, PartialEq, Eq)]
enum DTok {
    Lit(u32),
    /// `*` → `[^/]*`
    Star,
    /// `?` → `[^/]`
    Any,
    Class(Class),
    /// `**` at the end → `.*` (`.` does not match a newline, as in Go's and Python's regex).
    Rest,
    /// `**` elsewhere → `(.*/)?`
    Dirs,
}

/// How a compiled pattern is tested, as in moby (`exact`, `prefix`, `suffix`, `regexp`).
#[derive(Clone, Debug, PartialEq, Eq)]
enum DMatch {
    Exact(Vec<u32>),
    Prefix(Vec<u32>),
    Suffix(Vec<u32>),
    Regex(Vec<DTok>),
}

/// A cleaned `.dockerignore` pattern, compiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DockerPattern {
    how: DMatch,
}

/// The message Go's `filepath.Match` (and the Python port) give for a malformed pattern.
pub(crate) const BAD_PATTERN: &str = "syntax error in pattern";

impl DockerPattern {
    /// Compiles a cleaned pattern (`Clean`ed, leading `/` removed).
    pub(crate) fn compile(pattern: &str) -> Result<DockerPattern, &'static str> {
        let p: Vec<char> = pattern.chars().collect();
        validate(&p)?;
        let n = p.len();
        let mut toks = Vec::new();
        #[derive(PartialEq)]
        enum Ty {
            Exact,
            Prefix,
            Suffix,
            Regex,
        }
        let mut ty = Ty::Exact;
        let mut i = 0;
        while i < n {
            let first = i == 0;
            let ch = p[i];
            i += 1;
            match ch {
                '*' if i < n && p[i] == '*' => {
                    i += 1;
                    if i < n && p[i] == '/' {
                        i += 1;
                    }
                    if i >= n {
                        toks.push(DTok::Rest);
                        ty = if ty == Ty::Exact { Ty::Prefix } else { Ty::Regex };
                    } else {
                        toks.push(DTok::Dirs);
                        ty = Ty::Regex;
                    }
                    if first {
                        ty = Ty::Suffix;
                    }
                }
                '*' => {
                    toks.push(DTok::Star);
                    ty = Ty::Regex;
                }
                '?' => {
                    toks.push(DTok::Any);
                    ty = Ty::Regex;
                }
                '[' => {
                    // `validate` guarantees a well-formed expression.
                    let mut j = i;
                    let negated = j < n && p[j] == '^';
                    if negated {
                        j += 1;
                    }
                    let mut items = Vec::new();
                    while j < n && p[j] != ']' {
                        let (lo, next) = docker_class_char(&p, j);
                        j = next;
                        if j < n && p[j] == '-' {
                            let (hi, next) = docker_class_char(&p, j + 1);
                            j = next;
                            items.push(ClassItem::Range(lo, hi));
                        } else {
                            items.push(ClassItem::Range(lo, lo));
                        }
                    }
                    toks.push(DTok::Class(Class { negated, items }));
                    i = j + 1;
                    ty = Ty::Regex;
                }
                ']' => {
                    toks.push(DTok::Lit(']' as u32));
                    ty = Ty::Regex;
                }
                '\\' => {
                    if i < n {
                        toks.push(DTok::Lit(p[i] as u32));
                        i += 1;
                        ty = Ty::Regex;
                    } else {
                        toks.push(DTok::Lit('\\' as u32));
                    }
                }
                c => toks.push(DTok::Lit(c as u32)),
            }
        }
        let chars = |s: &[char]| s.iter().map(|&c| c as u32).collect::<Vec<u32>>();
        let how = match ty {
            Ty::Exact => DMatch::Exact(chars(&p)),
            Ty::Prefix => DMatch::Prefix(chars(&p[..n - 2])),
            Ty::Suffix => DMatch::Suffix(chars(&p[2..])),
            Ty::Regex => DMatch::Regex(toks),
        };
        Ok(DockerPattern { how })
    }

    /// Whether the whole `path` (relative, `/`-separated, decoded) matches.
    pub(crate) fn matches(&self, path: &[u32]) -> bool {
        match &self.how {
            DMatch::Exact(p) => path == p.as_slice(),
            DMatch::Prefix(p) => path.starts_with(p),
            DMatch::Suffix(s) => path.ends_with(s) || (s.first() == Some(&SLASH) && path == &s[1..]),
            DMatch::Regex(toks) => regex_match(toks, path),
        }
    }
}

/// Inside a bracket expression, `\x` is the literal `x` (Go's `filepath.Match`; the Python port
/// pastes the expression into a Python regex, where `[\d]` would mean a digit — we keep Go's
/// meaning, which is what Docker does).
fn docker_class_char(p: &[char], j: usize) -> (u32, usize) {
    if p[j] == '\\' && j + 1 < p.len() { (p[j + 1] as u32, j + 2) } else { (p[j] as u32, j + 1) }
}

/// Rejects what Go's `filepath.Match` rejects (Docker validates patterns with it).
fn validate(p: &[char]) -> Result<(), &'static str> {
    let n = p.len();
    let class_char = |i: usize| -> Result<usize, &'static str> {
        if i >= n || p[i] == '-' || p[i] == ']' {
            return Err(BAD_PATTERN);
        }
        let mut i = i;
        if p[i] == '\\' {
            i += 1;
            if i >= n {
                return Err(BAD_PATTERN);
            }
        }
        i += 1;
        if i >= n {
            return Err(BAD_PATTERN);
        }
        Ok(i)
    };
    let mut i = 0;
    while i < n {
        let ch = p[i];
        i += 1;
        if ch == '\\' {
            if i >= n {
                return Err(BAD_PATTERN);
            }
            i += 1;
        } else if ch == '[' {
            if i < n && p[i] == '^' {
                i += 1;
            }
            let mut ranges = 0;
            while !(ranges > 0 && i < n && p[i] == ']') {
                i = class_char(i)?;
                if p[i] == '-' {
                    i = class_char(i + 1)?;
                }
                ranges += 1;
            }
            i += 1;
        }
    }
    Ok(())
}

fn regex_match(toks: &[DTok], s: &[u32]) -> bool {
    match toks.split_first() {
        None => s.is_empty(),
        Some((DTok::Star, rest)) => {
            let stop = s.iter().position(|&c| c == SLASH).unwrap_or(s.len());
            (0..=stop).any(|i| regex_match(rest, &s[i..]))
        }
        Some((DTok::Rest, rest)) => {
            let stop = s.iter().position(|&c| c == NEWLINE).unwrap_or(s.len());
            (0..=stop).any(|i| regex_match(rest, &s[i..]))
        }
        Some((DTok::Dirs, rest)) => {
            // Either nothing, or `.*/`: any run without a newline that ends in `/`.
            regex_match(rest, s)
                || s.iter()
                    .take_while(|&&c| c != NEWLINE)
                    .enumerate()
                    .any(|(i, &c)| c == SLASH && regex_match(rest, &s[i + 1..]))
        }
        Some((tok, rest)) => match s.split_first() {
            Some((&c, tail)) => {
                let ok = match tok {
                    DTok::Lit(l) => *l == c,
                    DTok::Any => c != SLASH,
                    DTok::Class(class) => class.matches(c),
                    DTok::Star | DTok::Rest | DTok::Dirs => unreachable!("handled above"),
                };
                ok && regex_match(rest, tail)
            }
            None => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(p: &str, path: &str) -> bool {
        DockerPattern::compile(p).unwrap().matches(&decode(path.as_bytes()))
    }

    fn w(p: &str, name: &str) -> bool {
        parse_segment(p).matches_name(name.as_bytes())
    }

    #[test]
    fn wcmatch_segments() {
        assert!(w("*", ".hidden"), "DOTMATCH: * matches dotfiles");
        assert!(w("*.txt", "a.txt"));
        assert!(!w("*.txt", "a.txt.bak"));
        assert!(w("?op", "top"));
        assert!(w("[!a]*", "top"));
        assert!(!w("[!a]*", "abc"));
        assert!(w("[^a]*", "top"));
        assert!(w("[a-c]", "b"));
        assert!(w("[[:alpha:]]x", "qx"));
        assert!(!w("[[:digit:]]x", "qx"));
        assert!(w("[]]", "]"), "a leading ] is literal");
        assert!(w("a[", "a["), "an unterminated [ is literal");
        assert!(w("\\*", "*"));
        assert!(!w("\\*", "x"));
        assert!(w("a**b", "axyb"), "** inside a segment is *");
        assert!(w("{a,b}", "{a,b}"), "no brace expansion");
        assert!(w("ü?", "üx"));
        assert_eq!(parse_segment("a\\b"), SrcSegment::Literal("ab".into()));
    }

    #[test]
    fn invalid_utf8_names_match_per_byte() {
        assert!(parse_segment("a?").matches_name(b"a\xff"));
        assert!(!parse_segment("a?").matches_name(b"a\xff\xfe"));
    }

    #[test]
    fn docker_patterns() {
        assert!(d("*.log", "debug.log"));
        assert!(!d("*.log", "app/debug.log"), "* does not cross /");
        assert!(d("**/*.log", "app/sub/debug.log"));
        assert!(d("**/*.log", "debug.log"));
        assert!(d("app/**", "app/x/y"), "prefix fast path");
        assert!(d("app/**", "app/"));
        assert!(d("**/node_modules", "a/b/node_modules"));
        assert!(d("**/node_modules", "node_modules"));
        assert!(d("**b", "xb"), "suffix fast path: plain ends-with, unlike the regex");
        assert!(!d("a**b", "axb"), "regex: ** inside becomes (.*/)?");
        assert!(d("a**b", "ax/b"));
        assert!(d("a**b", "ab"));
        assert!(d("a?c", "abc"));
        assert!(!d("a?c", "a/c"));
        assert!(d("[^a]b", "xb"));
        assert!(!d("[^a]b", "ab"));
        assert!(d("[a-c]x", "bx"));
        assert!(d("a\\*", "a*"));
        assert!(!d("a\\*", "ab"));
        assert!(d("a.b", "a.b"));
        assert!(!d("a.b", "axb"), ". is literal");
        assert!(d("foo", "foo"));
        assert!(!d("foo", "foo/bar"), "whole-path match; parents are handled by the matcher");
        assert!(!d("x/**", "y\nx/z"));
    }

    #[test]
    fn docker_pattern_validation() {
        for bad in ["[", "a[", "[]", "[a-]", "[-a]", "a\\", "[^]"] {
            assert_eq!(DockerPattern::compile(bad), Err(BAD_PATTERN), "{bad}");
        }
        for good in ["[a]", "[a-z]", "[\\]]", "]", "a]b", "[^a]"] {
            assert!(DockerPattern::compile(good).is_ok(), "{good}");
        }
    }
}
