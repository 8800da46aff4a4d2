//! From text to instructions, with BuildKit's parser rules: parser directives, comments, line
//! continuations and heredocs. Keeps a map from the joined text back to lines and columns.

use super::DockerfileError;
use super::words::{Word, split_keep_quotes};

/// One instruction: the keyword and its arguments joined across continuation lines.
#[derive(Clone, Debug)]
pub(super) struct Instruction {
    /// The keyword, lower-case.
    pub keyword: String,
    /// The instruction's text, starting at the keyword.
    pub text: String,
    /// Byte offset in `text` where the arguments start (after the keyword and whitespace).
    pub args_offset: usize,
    /// `(offset in text, line, characters before that point on the line)`, one per source line.
    segments: Vec<(usize, usize, usize)>,
    /// Heredoc bodies attached to this instruction, in order.
    pub heredocs: Vec<Heredoc>,
}

/// A heredoc (`<<EOF` ... `EOF`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Heredoc {
    /// The delimiter (quotes removed). For `COPY`, the file name.
    pub name: String,
    /// The delimiter was not quoted: variables in the body are substituted.
    pub expand: bool,
    /// `<<-`: leading tabs are removed from the body lines.
    pub chomp: bool,
    /// The body, each line ending in `\n`.
    pub content: String,
    /// Byte offset of the `<<` word in the instruction text.
    pub offset: usize,
    /// The whole `<<WORD` as written.
    pub word: String,
}

impl Instruction {
    /// The line of the keyword.
    pub fn line(&self) -> usize {
        self.segments.first().map_or(1, |s| s.1)
    }

    /// 1-based line and column of a byte offset in `text`.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let seg = self.segments.iter().rev().find(|s| s.0 <= offset).or(self.segments.first());
        let Some(&(start, line, before)) = seg else { return (1, 1) };
        let chars = self.text.get(start..offset).map_or(0, |s| s.chars().count());
        (line, before + chars + 1)
    }

    /// The arguments (after the keyword).
    pub fn args(&self) -> &str {
        &self.text[self.args_offset..]
    }

    /// An error at a byte offset of `text`.
    pub fn error_at(&self, offset: usize, message: impl Into<String>) -> DockerfileError {
        let (line, column) = self.position(offset);
        DockerfileError::new(line, column, message)
    }
}

/// What the reader found: the escape character and the instructions.
#[derive(Debug)]
pub(super) struct Parsed {
    pub escape: char,
    pub instructions: Vec<Instruction>,
}

const HEREDOC_KEYWORDS: [&str; 3] = ["run", "copy", "add"];

/// Reads `text` into instructions.
pub(super) fn read(text: &str) -> Result<Parsed, DockerfileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
    // A final newline does not start another line.
    let count = if text.ends_with('\n') { lines.len() - 1 } else { lines.len() };
    let mut escape = '\\';
    let mut directives_done = false;
    let mut seen_directives: Vec<String> = Vec::new();
    let mut instructions = Vec::new();
    let mut i = 0;
    while i < count {
        let raw = lines[i];
        let number = i + 1;
        i += 1;
        if !directives_done {
            match directive(raw) {
                Some((key, value)) if matches!(key.as_str(), "escape" | "syntax" | "check") => {
                    if seen_directives.contains(&key) {
                        return Err(DockerfileError::new(
                            number,
                            1,
                            format!("only one `{key}` parser directive can be used"),
                        )
                        .with_help("remove the repeated directive"));
                    }
                    if key == "escape" {
                        escape = match value.as_str() {
                            "\\" => '\\',
                            "`" => '`',
                            other => {
                                return Err(DockerfileError::new(
                                    number,
                                    1,
                                    format!("invalid escape character `{other}`"),
                                )
                                .with_help("write `# escape=\\` or `# escape=`` ` ``"));
                            }
                        };
                    }
                    seen_directives.push(key);
                    continue;
                }
                _ => directives_done = true,
            }
        }
        let stripped = raw.trim_start();
        if stripped.starts_with('#') || stripped.is_empty() {
            continue;
        }
        let lead = raw.chars().count() - stripped.chars().count();
        let (first, mut continued) = trim_continuation(stripped, escape);
        let mut joined = first.to_owned();
        let mut segments = vec![(0, number, lead)];
        while continued && i < count {
            let raw = lines[i];
            i += 1;
            let t = raw.trim_start();
            if t.starts_with('#') || t.is_empty() {
                continue;
            }
            let (part, more) = trim_continuation(raw, escape);
            segments.push((joined.len(), i, 0));
            joined.push_str(part);
            continued = more;
        }
        let keyword_end = joined.find(char::is_whitespace).unwrap_or(joined.len());
        let keyword = joined[..keyword_end].to_ascii_lowercase();
        let args_offset = keyword_end + (joined[keyword_end..].len() - joined[keyword_end..].trim_start().len());
        let mut instruction = Instruction { keyword, text: joined, args_offset, segments, heredocs: Vec::new() };
        if can_contain_heredoc(&instruction) {
            let words = split_keep_quotes(instruction.args(), instruction.args_offset, escape);
            for Word { offset, text: word } in words {
                let Some((name, expand, chomp)) = heredoc_word(&word) else { continue };
                let mut content = String::new();
                let mut terminated = false;
                while i < count {
                    let body = lines[i];
                    i += 1;
                    let candidate = if chomp { body.trim_start_matches('\t') } else { body };
                    if candidate == name {
                        terminated = true;
                        break;
                    }
                    content.push_str(body);
                    content.push('\n');
                }
                if !terminated {
                    return Err(instruction
                        .error_at(offset, format!("unterminated heredoc: no line `{name}` ends `{word}`"))
                        .with_help(format!("end the heredoc with a line containing only `{name}`")));
                }
                instruction.heredocs.push(Heredoc { name, expand, chomp, content, offset, word });
            }
        }
        instructions.push(instruction);
    }
    Ok(Parsed { escape, instructions })
}

/// BuildKit reads heredocs for RUN, COPY and ADD in shell form, also under ONBUILD.
fn can_contain_heredoc(i: &Instruction) -> bool {
    let (keyword, args) = if i.keyword == "onbuild" {
        let args = i.args();
        let end = args.find(char::is_whitespace).unwrap_or(args.len());
        (args[..end].to_ascii_lowercase(), args[end..].trim_start())
    } else {
        (i.keyword.clone(), i.args())
    };
    HEREDOC_KEYWORDS.contains(&keyword.as_str()) && !is_json(args)
}

/// `# key=value` at the top of the file (BuildKit's `^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`).
fn directive(line: &str) -> Option<(String, String)> {
    let rest = line.trim_start().strip_prefix('#')?.trim_start();
    let key_len = rest.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len());
    let key = &rest[..key_len];
    if key.is_empty() || !key.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let value = rest[key_len..].trim_start().strip_prefix('=')?.trim();
    if value.is_empty() {
        return None;
    }
    Some((key.to_ascii_lowercase(), value.to_owned()))
}

/// Removes a trailing line-continuation escape (and the blanks after it). BuildKit's rule: the
/// escape is the last non-blank character and is not itself escaped.
fn trim_continuation(line: &str, escape: char) -> (&str, bool) {
    let t = line.trim_end_matches([' ', '\t']);
    match t.strip_suffix(escape) {
        Some(before) if before.is_empty() || !before.ends_with(escape) => (before, true),
        _ => (line, false),
    }
}

/// Whether arguments are a JSON array (exec form); heredocs are not looked for there.
pub(super) fn is_json(args: &str) -> bool {
    matches!(parse_json_array(args), Some(Ok(_)))
}

/// `Some(Ok(items))` for a JSON array of strings, `Some(Err(()))` for a JSON array with other
/// items (Docker rejects it), `None` when the text is not a JSON array (shell form).
pub(super) fn parse_json_array(args: &str) -> Option<Result<Vec<String>, ()>> {
    let args = args.trim_start();
    if !args.starts_with('[') {
        return None;
    }
    // Like Go's json.Decoder: the first value counts, anything after it is ignored.
    let mut stream = serde_json::Deserializer::from_str(args).into_iter::<serde_json::Value>();
    match stream.next() {
        Some(Ok(serde_json::Value::Array(items))) => Some(
            items.into_iter().map(|v| if let serde_json::Value::String(s) = v { Ok(s) } else { Err(()) }).collect(),
        ),
        _ => None,
    }
}

/// `<<[-]WORD` (BuildKit's `^(\d*)<<(-?)([^<]*)$`): the delimiter, whether the body is
/// expanded (the delimiter is unquoted) and whether tabs are chomped.
fn heredoc_word(word: &str) -> Option<(String, bool, bool)> {
    let digits = word.len() - word.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let rest = word[digits..].strip_prefix("<<")?;
    let (chomp, rest) = match rest.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    if rest.is_empty() || rest.contains('<') {
        return None;
    }
    let quoted = rest.contains(['\'', '"']);
    let mut name = String::new();
    let mut quote: Option<char> = None;
    for c in rest.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => name.push(c),
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c.is_whitespace() => return None,
            None => name.push(c),
        }
    }
    Some((name, !quoted, chomp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuations_comments_and_positions() {
        let p = read("FROM a\nRUN one \\\n# comment\n\n    two\n  USER  x\n").unwrap();
        assert_eq!(p.instructions.len(), 3);
        let run = &p.instructions[1];
        assert_eq!(run.text, "RUN one     two");
        assert_eq!(run.position(run.text.find("two").unwrap()), (5, 5));
        let user = &p.instructions[2];
        assert_eq!((user.keyword.as_str(), user.args(), user.line()), ("user", "x", 6));
        assert_eq!(user.position(0), (6, 3));
    }

    #[test]
    fn escape_directive_changes_the_continuation_character() {
        let p = read("# escape=`\nFROM a\nRUN a `\n  b\n").unwrap();
        assert_eq!(p.escape, '`');
        assert_eq!(p.instructions[1].text, "RUN a   b");
        // After the first instruction, a directive is a comment.
        let p = read("FROM a\n# escape=`\nRUN a \\\n b\n").unwrap();
        assert_eq!(p.escape, '\\');
    }

    #[test]
    fn heredocs_are_read_after_their_line() {
        let p = read("FROM a\nRUN <<EOF cat <<-'END'\necho $x\nEOF\n\tquoted\n\tEND\nUSER b\n").unwrap();
        let run = &p.instructions[1];
        assert_eq!(run.heredocs.len(), 2);
        assert_eq!(
            run.heredocs[0],
            Heredoc {
                name: "EOF".into(),
                expand: true,
                chomp: false,
                content: "echo $x\n".into(),
                offset: 4,
                word: "<<EOF".into()
            }
        );
        assert_eq!(
            (run.heredocs[1].name.as_str(), run.heredocs[1].expand, run.heredocs[1].chomp),
            ("END", false, true)
        );
        assert_eq!(run.heredocs[1].content, "\tquoted\n");
        assert_eq!(p.instructions[2].keyword, "user");
    }

    #[test]
    fn unterminated_heredoc_points_at_it() {
        let e = read("FROM a\nRUN  <<EOF\necho\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 6));
    }
}
