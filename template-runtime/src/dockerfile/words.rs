//! Words of an instruction: splitting, flags, and Docker's variable substitution.
//!
//! Written by hand after BuildKit's `shell` lexer and `parser` word splitting: the rules are
//! Docker's own (not POSIX shell's: no command substitution, no field splitting of values), and
//! no crate implements them; the shell-word crates follow POSIX and would accept or expand
//! things Docker does not.

/// A word and the byte offset of its first character in the instruction text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Word {
    pub offset: usize,
    pub text: String,
}

/// A problem at a byte offset of the instruction text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct WordError {
    pub offset: usize,
    pub message: String,
    pub help: Option<String>,
}

impl WordError {
    pub fn new(offset: usize, message: impl Into<String>) -> Self {
        WordError { offset, message: message.into(), help: None }
    }
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Splits on whitespace, keeping quotes and escapes in the words (BuildKit's `parseWords`).
pub(super) fn split_keep_quotes(text: &str, base: usize, escape: char) -> Vec<Word> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut start = 0;
    let mut in_word = false;
    let mut blank_ok = false;
    let mut quote: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            } else if c == escape && q != '\'' {
                if let Some((_, next)) = chars.next() {
                    word.push(c);
                    word.push(next);
                }
                continue;
            }
            word.push(c);
            continue;
        }
        if c.is_whitespace() {
            if in_word && (blank_ok || !word.is_empty()) {
                words.push(Word { offset: base + start, text: std::mem::take(&mut word) });
            }
            word.clear();
            in_word = false;
            blank_ok = false;
            continue;
        }
        if !in_word {
            in_word = true;
            start = i;
        }
        if c == '\'' || c == '"' {
            quote = Some(c);
            blank_ok = true;
        } else if c == escape {
            if let Some((_, next)) = chars.next() {
                word.push(c);
                word.push(next);
            }
            continue;
        }
        word.push(c);
    }
    if in_word && (blank_ok || !word.is_empty()) {
        words.push(Word { offset: base + start, text: word });
    }
    words
}

/// Splits on whitespace only (BuildKit's `parseStringsWhitespaceDelimited`).
pub(super) fn split_whitespace(text: &str, base: usize) -> Vec<Word> {
    let mut words = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                words.push(Word { offset: base + s, text: text[s..i].to_owned() });
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        words.push(Word { offset: base + s, text: text[s..].to_owned() });
    }
    words
}

/// A `--name[=value]` flag before an instruction's arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Flag {
    pub offset: usize,
    pub name: String,
    pub value: Option<String>,
}

/// Takes the leading `--flags` off `text` (BuildKit's `extractBuilderFlags`): returns them and
/// the byte offset (in `text`) where the arguments start.
pub(super) fn extract_flags(text: &str, base: usize) -> (Vec<Flag>, usize) {
    let mut flags = Vec::new();
    let mut pos = 0;
    loop {
        let rest = &text[pos..];
        let trimmed = rest.trim_start();
        let start = pos + (rest.len() - trimmed.len());
        if !trimmed.starts_with("--") {
            return (flags, start);
        }
        // One flag word: quotes group, a backslash escapes (as in BuildKit).
        let mut word = String::new();
        let mut quote: Option<char> = None;
        let mut end = text.len();
        let mut chars = text[start..].char_indices();
        while let Some((i, c)) = chars.next() {
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) if c == '\\' => {
                    if let Some((_, n)) = chars.next() {
                        word.push(n);
                    }
                }
                Some(_) => word.push(c),
                None if c.is_whitespace() => {
                    end = start + i;
                    break;
                }
                None if c == '\'' || c == '"' => quote = Some(c),
                None if c == '\\' => {
                    if let Some((_, n)) = chars.next() {
                        word.push(n);
                    }
                }
                None => word.push(c),
            }
        }
        if word == "--" {
            let after = &text[end..];
            return (flags, end + (after.len() - after.trim_start().len()));
        }
        let body = &word[2..];
        let (name, value) = match body.split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (body.to_owned(), None),
        };
        flags.push(Flag { offset: base + start, name, value });
        pos = end;
    }
}

/// What a variable name refers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Lookup {
    /// An `ARG` or `ENV` of this Dockerfile with this value.
    Value(String),
    /// An `ARG` declared without a value that no build arg sets.
    Unset,
    /// Not declared by the Dockerfile (it may come from the base image).
    Unknown,
}

/// What to do with a reference to a variable the Dockerfile does not declare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Unknown {
    /// Leave `$NAME` as written (for the build service, which knows the base image's env).
    Keep,
    /// Substitute the empty string (Docker's rule in `FROM`).
    Empty,
}

/// A variable reference that was not resolved from the Dockerfile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Unresolved {
    pub offset: usize,
    pub name: String,
    pub declared: bool,
}

/// The result of [`expand`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Expanded {
    pub text: String,
    pub unresolved: Vec<Unresolved>,
}

/// Removes quotes and escapes and substitutes variables in one word, as BuildKit's
/// `ProcessWord` does.
pub(super) fn expand(
    word: &str,
    base: usize,
    escape: char,
    lookup: &dyn Fn(&str) -> Lookup,
    unknown: Unknown,
) -> Result<Expanded, WordError> {
    let mut lexer =
        Lexer { chars: word.char_indices().collect(), pos: 0, src: word, base, escape, lookup, unknown, depth: 0 };
    let mut unresolved = Vec::new();
    let text = lexer.process(None, false, &mut unresolved)?;
    Ok(Expanded { text, unresolved })
}

struct Lexer<'a> {
    chars: Vec<(usize, char)>,
    pos: usize,
    src: &'a str,
    base: usize,
    escape: char,
    lookup: &'a dyn Fn(&str) -> Lookup,
    unknown: Unknown,
    /// Nesting of `${NAME:-${...}}`, bounded so that no input can exhaust the stack.
    depth: usize,
}

const MAX_NESTING: usize = 32;

/// A `${NAME<op>word}` operator.
#[derive(Clone, Copy)]
enum Op {
    /// `-`, `:-`.
    Default { colon: bool },
    /// `+`, `:+`.
    Alternative { colon: bool },
    /// `?`, `:?`.
    Required { colon: bool },
    /// `#`, `##`.
    TrimPrefix { greedy: bool },
    /// `%`, `%%`.
    TrimSuffix { greedy: bool },
    /// `/`, `//`.
    Replace { all: bool },
}

/// Shell glob patterns (`*`, `?`, `[...]`, `\x`) for `${NAME#pattern}` and friends, matched with
/// a small NFA so every prefix is tried in one pass.
mod glob {
    #[derive(Clone, Debug, PartialEq)]
    enum Token {
        Char(char),
        Any,
        One,
        Class { negated: bool, ranges: Vec<(char, char)> },
    }

    fn compile(pattern: &str) -> Vec<Token> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut tokens = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '*' => tokens.push(Token::Any),
                '?' => tokens.push(Token::One),
                '\\' if i + 1 < chars.len() => {
                    i += 1;
                    tokens.push(Token::Char(chars[i]));
                }
                '[' => {
                    let mut j = i + 1;
                    let negated = matches!(chars.get(j), Some('!' | '^'));
                    if negated {
                        j += 1;
                    }
                    let mut ranges = Vec::new();
                    let mut first = true;
                    while j < chars.len() && (chars[j] != ']' || first) {
                        let lo = chars[j];
                        if chars.get(j + 1) == Some(&'-') && chars.get(j + 2).is_some_and(|c| *c != ']') {
                            ranges.push((lo, chars[j + 2]));
                            j += 3;
                        } else {
                            ranges.push((lo, lo));
                            j += 1;
                        }
                        first = false;
                    }
                    if j < chars.len() {
                        tokens.push(Token::Class { negated, ranges });
                        i = j;
                    } else {
                        // No closing `]`: a literal `[`.
                        tokens.push(Token::Char('['));
                    }
                }
                c => tokens.push(Token::Char(c)),
            }
            i += 1;
        }
        tokens
    }

    fn accepts(token: &Token, c: char) -> bool {
        match token {
            Token::Char(t) => *t == c,
            Token::Any | Token::One => true,
            Token::Class { negated, ranges } => ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated,
        }
    }

    /// The lengths `k` (ascending) for which `tokens` matches `s[..k]` exactly.
    fn prefix_matches(tokens: &[Token], s: &[char]) -> Vec<usize> {
        let n = tokens.len();
        // States: how many tokens are consumed; `*` may consume nothing.
        let close = |states: &mut Vec<bool>| {
            for t in 0..n {
                if states[t] && tokens[t] == Token::Any {
                    states[t + 1] = true;
                }
            }
        };
        let mut states = vec![false; n + 1];
        states[0] = true;
        close(&mut states);
        let mut lengths = Vec::new();
        for (k, &c) in s.iter().enumerate() {
            if states[n] {
                lengths.push(k);
            }
            let mut next = vec![false; n + 1];
            let mut any = false;
            for t in 0..n {
                if states[t] && accepts(&tokens[t], c) {
                    if tokens[t] == Token::Any {
                        next[t] = true;
                    } else {
                        next[t + 1] = true;
                    }
                    any = true;
                }
            }
            if !any {
                return lengths;
            }
            close(&mut next);
            states = next;
        }
        if states[n] {
            lengths.push(s.len());
        }
        lengths
    }

    fn pick(lengths: &[usize], greedy: bool) -> Option<usize> {
        if greedy { lengths.last().copied() } else { lengths.first().copied() }
    }

    pub(super) fn trim_prefix(value: &str, pattern: &str, greedy: bool) -> String {
        let s: Vec<char> = value.chars().collect();
        match pick(&prefix_matches(&compile(pattern), &s), greedy) {
            Some(k) => s[k..].iter().collect(),
            None => value.to_owned(),
        }
    }

    pub(super) fn trim_suffix(value: &str, pattern: &str, greedy: bool) -> String {
        // A suffix match is a prefix match of both reversed.
        let mut s: Vec<char> = value.chars().collect();
        s.reverse();
        let mut tokens = compile(pattern);
        tokens.reverse();
        match pick(&prefix_matches(&tokens, &s), greedy) {
            Some(k) => s[k..].iter().rev().collect(),
            None => value.to_owned(),
        }
    }

    /// Replaces the longest match at the leftmost position (every such match with `all`).
    pub(super) fn replace(value: &str, pattern: &str, replacement: &str, all: bool) -> String {
        let tokens = compile(pattern);
        if tokens.is_empty() {
            return value.to_owned();
        }
        let s: Vec<char> = value.chars().collect();
        let mut out = String::new();
        let mut i = 0;
        let mut replaced = false;
        while i < s.len() {
            if (!replaced || all)
                && let Some(k) = prefix_matches(&tokens, &s[i..]).last().copied().filter(|k| *k > 0)
            {
                out.push_str(replacement);
                i += k;
                replaced = true;
                continue;
            }
            out.push(s[i]);
            i += 1;
        }
        out
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn trims_and_replaces_like_a_shell() {
            assert_eq!(trim_prefix("v1.2.3", "v", false), "1.2.3");
            assert_eq!(trim_prefix("a/b/c", "*/", false), "b/c");
            assert_eq!(trim_prefix("a/b/c", "*/", true), "c");
            assert_eq!(trim_suffix("app.tar.gz", ".*", false), "app.tar");
            assert_eq!(trim_suffix("app.tar.gz", ".*", true), "app");
            assert_eq!(trim_suffix("x**", "\\**", true), "x");
            assert_eq!(trim_prefix("linux/amd64", "[a-z]*/", false), "amd64");
            assert_eq!(trim_prefix("abc", "[!a]", false), "abc");
            assert_eq!(replace("a-b-c", "-", "_", false), "a_b-c");
            assert_eq!(replace("a-b-c", "-", "_", true), "a_b_c");
            assert_eq!(replace("hello", "l*", "L", false), "heL");
            assert_eq!(replace("abc", "", "x", true), "abc");
        }
    }
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).map(|&(_, c)| c)
    }
    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }
    fn byte(&self, pos: usize) -> usize {
        self.chars.get(pos).map_or(self.src.len(), |&(b, _)| b)
    }
    fn err(&self, pos: usize, message: &str) -> WordError {
        WordError::new(self.base + self.byte(pos), message)
    }

    /// Reads up to `stop` (or the end). `raw_escapes` keeps escapes in the result, for glob
    /// patterns where `\*` means a literal `*`.
    fn process(
        &mut self,
        stop: Option<char>,
        raw_escapes: bool,
        unresolved: &mut Vec<Unresolved>,
    ) -> Result<String, WordError> {
        let start = self.pos;
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if Some(c) == stop {
                self.pos += 1;
                return Ok(out);
            }
            match c {
                '\'' => out.push_str(&self.single_quote()?),
                '"' => out.push_str(&self.double_quote(unresolved)?),
                '$' => out.push_str(&self.dollar(unresolved)?),
                _ => {
                    self.pos += 1;
                    if c == self.escape {
                        match self.next() {
                            Some(n) => {
                                if raw_escapes {
                                    out.push('\\');
                                }
                                out.push(n);
                            }
                            None => break,
                        }
                    } else {
                        out.push(c);
                    }
                }
            }
        }
        match stop {
            Some(s) => Err(self
                .err(start.saturating_sub(1), &format!("unterminated `${{`: no matching `{s}`"))
                .help("close the substitution, e.g. `${NAME:-default}`")),
            None => Ok(out),
        }
    }

    fn single_quote(&mut self) -> Result<String, WordError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.next() {
                None => {
                    return Err(self.err(start, "unterminated single-quoted string").help("add the closing `'`"));
                }
                Some('\'') => return Ok(out),
                Some(c) => out.push(c),
            }
        }
    }

    fn double_quote(&mut self, unresolved: &mut Vec<Unresolved>) -> Result<String, WordError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => {
                    return Err(self.err(start, "unterminated double-quoted string").help("add the closing `\"`"));
                }
                Some('"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some('$') => out.push_str(&self.dollar(unresolved)?),
                Some(c) => {
                    self.pos += 1;
                    if c == self.escape {
                        match self.peek() {
                            None => continue,
                            Some(n) if n == '"' || n == '$' || n == self.escape => {
                                self.pos += 1;
                                out.push(n);
                                continue;
                            }
                            Some(_) => {}
                        }
                    }
                    out.push(c);
                }
            }
        }
    }

    fn name(&mut self) -> String {
        let mut name = String::new();
        if let Some(c) = self.peek() {
            if c.is_ascii_digit() {
                while let Some(d) = self.peek().filter(char::is_ascii_digit) {
                    name.push(d);
                    self.pos += 1;
                }
                return name;
            }
            if matches!(c, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0') {
                self.pos += 1;
                return c.to_string();
            }
        }
        while let Some(c) = self.peek().filter(|c| c.is_alphanumeric() || *c == '_') {
            name.push(c);
            self.pos += 1;
        }
        name
    }

    fn dollar(&mut self, unresolved: &mut Vec<Unresolved>) -> Result<String, WordError> {
        let start = self.pos;
        self.pos += 1;
        if self.peek() != Some('{') {
            let name = self.name();
            if name.is_empty() {
                return Ok("$".to_owned());
            }
            return Ok(self.resolve(start, &name, unresolved).unwrap_or_default());
        }
        self.pos += 1;
        match self.peek() {
            None => return Err(self.err(start, "unterminated `${`").help("close it with `}`")),
            Some('{' | '}' | ':') => {
                return Err(self.err(start, "bad substitution").help("write `${NAME}` or `${NAME:-default}`"));
            }
            _ => {}
        }
        let name = self.name();
        let Some(c) = self.next() else {
            return Err(self.err(start, "unterminated `${`").help("close it with `}`"));
        };
        if c == '}' {
            return Ok(self.resolve(start, &name, unresolved).unwrap_or_default());
        }
        let op = match c {
            ':' => match self.next() {
                Some('-') => Op::Default { colon: true },
                Some('+') => Op::Alternative { colon: true },
                Some('?') => Op::Required { colon: true },
                _ => return Err(self.unsupported(start)),
            },
            '-' => Op::Default { colon: false },
            '+' => Op::Alternative { colon: false },
            '?' => Op::Required { colon: false },
            '#' | '%' => {
                let greedy = self.peek() == Some(c);
                if greedy {
                    self.pos += 1;
                }
                if c == '#' { Op::TrimPrefix { greedy } } else { Op::TrimSuffix { greedy } }
            }
            '/' => {
                let all = self.peek() == Some('/');
                if all {
                    self.pos += 1;
                }
                Op::Replace { all }
            }
            _ => return Err(self.unsupported(start)),
        };
        // The words after the operator may themselves contain substitutions.
        if self.depth >= MAX_NESTING {
            return Err(self.err(start, "substitutions nested too deeply").help("simplify the `${...}` expression"));
        }
        self.depth += 1;
        let mut inner_unresolved = Vec::new();
        let words = match op {
            Op::Replace { .. } => self.process(Some('/'), true, &mut inner_unresolved).and_then(|pattern| {
                let replacement = self.process(Some('}'), true, &mut inner_unresolved)?;
                Ok((pattern, replacement))
            }),
            Op::TrimPrefix { .. } | Op::TrimSuffix { .. } => {
                self.process(Some('}'), true, &mut inner_unresolved).map(|p| (p, String::new()))
            }
            _ => self.process(Some('}'), false, &mut inner_unresolved).map(|w| (w, String::new())),
        };
        self.depth -= 1;
        let (word, replacement) = words?;
        let raw = self.raw(start);
        let value = match (self.lookup)(&name) {
            Lookup::Value(v) => Some(v),
            Lookup::Unset => None,
            Lookup::Unknown => {
                unresolved.push(Unresolved {
                    offset: self.base + self.byte(start),
                    name: name.clone(),
                    declared: false,
                });
                if self.unknown == Unknown::Keep {
                    return Ok(raw);
                }
                None
            }
        };
        let present = |colon: bool| match &value {
            Some(v) => !colon || !v.is_empty(),
            None => false,
        };
        match op {
            Op::Default { colon } => {
                if present(colon) {
                    Ok(value.unwrap_or_default())
                } else {
                    unresolved.extend(inner_unresolved);
                    Ok(word)
                }
            }
            Op::Alternative { colon } => {
                if present(colon) {
                    unresolved.extend(inner_unresolved);
                    Ok(word)
                } else {
                    Ok(String::new())
                }
            }
            Op::Required { colon } => {
                if present(colon) {
                    Ok(value.unwrap_or_default())
                } else {
                    let message = if word.is_empty() { format!("{name}: parameter not set") } else { word };
                    Err(self
                        .err(start, &format!("`{raw}`: {message}"))
                        .help(format!("set `{name}` with an ARG default or a build arg")))
                }
            }
            Op::TrimPrefix { greedy } => Ok(glob::trim_prefix(&value.unwrap_or_default(), &word, greedy)),
            Op::TrimSuffix { greedy } => Ok(glob::trim_suffix(&value.unwrap_or_default(), &word, greedy)),
            Op::Replace { all } => Ok(glob::replace(&value.unwrap_or_default(), &word, &replacement, all)),
        }
    }

    fn unsupported(&self, start: usize) -> WordError {
        self.err(start, &format!("unsupported substitution in `{}`", self.raw(start))).help(
            "Docker supports `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:+alt}`, `${NAME+alt}`, `${NAME:?message}`, `${NAME?message}`, `${NAME#pattern}`, `${NAME%pattern}` and `${NAME/pattern/replacement}`",
        )
    }

    /// The source text from `start` to the current position.
    fn raw(&self, start: usize) -> String {
        self.src[self.byte(start)..self.byte(self.pos)].to_owned()
    }

    /// The value of a plain reference; `None` keeps nothing (empty).
    fn resolve(&mut self, start: usize, name: &str, unresolved: &mut Vec<Unresolved>) -> Option<String> {
        let offset = self.base + self.byte(start);
        match (self.lookup)(name) {
            Lookup::Value(v) => Some(v),
            Lookup::Unset => {
                unresolved.push(Unresolved { offset, name: name.to_owned(), declared: true });
                None
            }
            Lookup::Unknown => {
                unresolved.push(Unresolved { offset, name: name.to_owned(), declared: false });
                match self.unknown {
                    Unknown::Keep => Some(self.raw(start)),
                    Unknown::Empty => None,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Lookup {
        match name {
            "A" => Lookup::Value("1".into()),
            "E" => Lookup::Value(String::new()),
            "U" => Lookup::Unset,
            _ => Lookup::Unknown,
        }
    }

    fn x(word: &str) -> String {
        expand(word, 0, '\\', &env, Unknown::Keep).unwrap().text
    }

    #[test]
    fn quotes_escapes_and_substitutions_follow_docker() {
        assert_eq!(x(r#""two words""#), "two words");
        assert_eq!(x(r#"'$A'"#), "$A");
        assert_eq!(x(r#""$A-${A}""#), "1-1");
        assert_eq!(x(r"\$A"), "$A");
        assert_eq!(x(r#""a\"b\x""#), r#"a"b\x"#);
        // `${E-f}` keeps the empty value: only `:-` treats empty as missing.
        assert_eq!(x("${U:-d}${E:-e}${E-f}${A:+p}${U+q}"), "dep");
        assert_eq!(x("$PATH:${HOME}/x"), "$PATH:${HOME}/x");
        assert_eq!(x("${MISSING:-x}"), "${MISSING:-x}");
        assert_eq!(x("cost $"), "cost $");
        assert_eq!(x("${A#1}|${A%%*}|${A/1/one}|${U#x}|${MISSING#x}"), "||one||${MISSING#x}");
        assert_eq!(expand("$PATH${U}", 0, '\\', &env, Unknown::Empty).unwrap().text, "");
    }

    #[test]
    fn malformed_substitutions_are_errors_with_offsets() {
        let e = expand("ab ${A", 10, '\\', &env, Unknown::Keep).unwrap_err();
        assert_eq!(e.offset, 13);
        assert!(expand("${U:?need it}", 0, '\\', &env, Unknown::Keep).unwrap_err().message.contains("need it"));
        assert!(expand("${A=x}", 0, '\\', &env, Unknown::Keep).unwrap_err().message.contains("unsupported"));
        assert!(expand("${A:#x}", 0, '\\', &env, Unknown::Keep).is_err());
        assert!(expand("${A/x}", 0, '\\', &env, Unknown::Keep).is_err());
        assert!(expand("'open", 0, '\\', &env, Unknown::Keep).is_err());
    }

    #[test]
    fn flags_come_off_the_front() {
        let (flags, at) = extract_flags("--chown=a:b --chmod=755  src dest", 5);
        assert_eq!(flags.len(), 2);
        assert_eq!((flags[0].name.as_str(), flags[0].value.as_deref(), flags[0].offset), ("chown", Some("a:b"), 5));
        assert_eq!(&"--chown=a:b --chmod=755  src dest"[at..], "src dest");
        let (flags, at) = extract_flags("--link -- --weird dest", 0);
        assert_eq!(flags[0].value, None);
        assert_eq!(&"--link -- --weird dest"[at..], "--weird dest");
    }

    #[test]
    fn words_keep_their_quotes_and_offsets() {
        let w = split_keep_quotes(r#"A=1 B="two words"  C"#, 0, '\\');
        let texts: Vec<_> = w.iter().map(|w| (w.offset, w.text.as_str())).collect();
        assert_eq!(texts, [(0, "A=1"), (4, r#"B="two words""#), (19, "C")]);
    }
}
