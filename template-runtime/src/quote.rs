//! Shell quoting exactly as the official SDKs do it.
//!
//! Written by hand on purpose: the SDKs use Python's `shlex.quote` (and a JS port of it), and
//! the command strings they produce are part of the build request, so the quoting has to match
//! byte for byte. The `shell-words`/`shlex` crates quote differently (they escape instead of
//! wrapping, or treat a different character set as safe).

/// Quotes `s` for a POSIX shell the way `shlex.quote` does.
///
/// * the empty string becomes `''`;
/// * a string made only of ASCII letters, digits and `@%+=:,./-_` is returned unchanged;
/// * anything else is wrapped in single quotes, each `'` inside written as `'"'"'`.
///
/// ```
/// use sandbox_template_runtime::shell_quote;
/// assert_eq!(shell_quote("simple"), "simple");
/// assert_eq!(shell_quote("with space"), "'with space'");
/// assert_eq!(shell_quote("it's"), r#"'it'"'"'s'"#);
/// assert_eq!(shell_quote(""), "''");
/// ```
pub fn shell_quote(s: &str) -> String {
    if s.is_empty() {
        return "''".to_owned();
    }
    if s.chars().all(is_safe) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\"'\"'");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// `shlex.quote`'s safe set: `[\w@%+=:,./-]` with `\w` taken as ASCII.
fn is_safe(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '@' | '%' | '+' | '=' | ':' | ',' | '.' | '/' | '-')
}

#[cfg(test)]
mod tests {
    use super::shell_quote;

    #[test]
    fn matches_the_sdk_vector() {
        // vectors/js/shell_quote: mkdir -p simple 'with space' 'it'"'"'s' '' a@b%c+d=e:f,g./h-i '$VAR' 'semi;colon'
        let quoted: Vec<String> = ["simple", "with space", "it's", "", "a@b%c+d=e:f,g./h-i", "$VAR", "semi;colon"]
            .iter()
            .map(|s| shell_quote(s))
            .collect();
        assert_eq!(quoted.join(" "), r#"simple 'with space' 'it'"'"'s' '' a@b%c+d=e:f,g./h-i '$VAR' 'semi;colon'"#);
    }

    #[test]
    fn non_ascii_is_quoted_like_python() {
        // Python's shlex uses re.ASCII, so `é` is not a word character.
        assert_eq!(shell_quote("café"), "'café'");
        assert_eq!(shell_quote("a\nb"), "'a\nb'");
        assert_eq!(shell_quote("'"), r#"''"'"''"#);
    }
}
