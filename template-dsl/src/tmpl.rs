//! `.tmpl` files: the text between the braces of `template! { ... }`, in a file of its own.
//!
//! The text is lexed with `proc_macro2` (outside a proc macro it keeps line/column positions) and
//! parsed and checked by the same code as the macro; problems are rendered the way rustc renders
//! them (`file:line:column`, the source line, carets, `= help:`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use proc_macro2::TokenStream;
use sandbox_template_runtime::Template;

use crate::check::Env;
use crate::diag::Diagnostic;
use crate::model::Checked;

/// Everything wrong with a `.tmpl` file, rendered rustc-style.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TmplError {
    /// The diagnostics, rendered (with the source lines).
    pub rendered: String,
    /// How many problems.
    pub count: usize,
}

impl fmt::Display for TmplError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.rendered.trim_end())
    }
}

impl std::error::Error for TmplError {}

/// Renders diagnostics against the text they were found in, the way rustc renders its own:
///
/// ```text
/// error: no file matches `mian.py` in `/srv/app`
///  --> api.tmpl:3:6
///   |
/// 3 | copy "mian.py" => "/app/main.py";
///   |      ^^^^^^^^^
///   |
///   = help: did you mean `main.py`?
/// ```
///
/// The `template!` macro prints the same message and help, with the help on the line after the
/// message (all a stable proc macro can do, see [`Diagnostic::text`]).
pub fn render(diags: &[Diagnostic], text: &str, file_name: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::new();
    for d in diags {
        let start = d.span.start();
        let end = d.span.end();
        // A zero-width span at the very start is `Span::call_site()`: the file as a whole.
        let snippet = if start == end && start.line <= 1 && start.column == 0 {
            None
        } else {
            let source = lines.get(start.line.wrapping_sub(1)).copied().unwrap_or("");
            let len = if end.line == start.line {
                end.column.saturating_sub(start.column)
            } else {
                source.chars().count().saturating_sub(start.column)
            };
            Some(Snippet { line: start.line, column: start.column, len, source })
        };
        push_rendered(&mut out, &d.message, file_name, snippet, d.help.as_deref());
    }
    let n = diags.len();
    out.push_str(&format!(
        "error: could not check `{file_name}` due to {n} previous error{}\n",
        if n == 1 { "" } else { "s" }
    ));
    out
}

/// The source line a diagnostic points into: 1-based `line`, 0-based `column` (in characters),
/// and how many characters the carets cover.
pub(crate) struct Snippet<'a> {
    pub line: usize,
    pub column: usize,
    pub len: usize,
    pub source: &'a str,
}

/// One diagnostic in rustc's layout, followed by an empty line: `error: message` (further lines
/// of the message indented under the first, as rustc does), the `-->` arrow to `file` (with the
/// line and column when there is a `snippet`), the source line with carets, and `= help:` last.
/// Also what build.rs prints for a file it cannot use at all (no snippet: the arrow names the
/// file).
pub(crate) fn push_rendered(out: &mut String, message: &str, file: &str, snippet: Option<Snippet>, help: Option<&str>) {
    let mut message_lines = message.lines();
    out.push_str(&format!("error: {}\n", message_lines.next().unwrap_or("")));
    for more in message_lines {
        out.push_str(&format!("       {more}\n"));
    }
    let pad = " ".repeat(snippet.as_ref().map_or(1, |s| s.line.to_string().len()));
    match &snippet {
        Some(s) => {
            out.push_str(&format!("{pad}--> {file}:{}:{}\n", s.line, s.column + 1));
            out.push_str(&format!("{pad} |\n{} | {}\n", s.line, s.source));
            out.push_str(&format!("{pad} | {}{}\n", " ".repeat(s.column), "^".repeat(s.len.max(1))));
        }
        None => out.push_str(&format!("{pad}--> {file}\n")),
    }
    if let Some(help) = help {
        out.push_str(&format!("{pad} |\n"));
        let mut help_lines = help.lines();
        out.push_str(&format!("{pad} = help: {}\n", help_lines.next().unwrap_or("")));
        for more in help_lines {
            out.push_str(&format!("{pad}         {more}\n"));
        }
    }
    out.push('\n');
}

/// Parses and checks template text. `dir` is the folder relative paths resolve against (and the
/// default context); `None` skips file checks.
pub fn check_str(text: &str, file_name: &str, dir: Option<&Path>) -> Result<Checked, TmplError> {
    let env = Env { base_dir: dir.map(Path::to_owned), allow_exprs: false, check_copy_sources: true };
    check_text(text, file_name, &env)
}

fn check_text(text: &str, file_name: &str, env: &Env) -> Result<Checked, TmplError> {
    let tokens = match TokenStream::from_str(text) {
        Ok(t) => t,
        Err(e) => {
            let d = Diagnostic::new(e.span(), format!("cannot read the template: {e}"))
                .help("check for an unclosed string, `(`, `[` or `{`");
            return Err(TmplError { rendered: render(&[d], text, file_name), count: 1 });
        }
    };
    crate::check_tokens(tokens, env)
        .map_err(|diags| TmplError { rendered: render(&diags, text, file_name), count: diags.len() })
}

/// [`check_str`], then builds the runtime template.
pub fn load_str(text: &str, file_name: &str, dir: Option<&Path>) -> Result<Template, TmplError> {
    to_template(check_str(text, file_name, dir)?, file_name)
}

/// The runtime template of checked text.
fn to_template(checked: Checked, file_name: &str) -> Result<Template, TmplError> {
    // Steps record `&'static str` file names (like `Location::caller()`); one small leak per
    // loaded file, so that build errors can name the `.tmpl` line.
    let file: &'static str = Box::leak(file_name.to_owned().into_boxed_str());
    crate::interp::interpret_in(&checked, Some(file)).map_err(|_| TmplError {
        rendered: format!("error: `{file_name}` uses Rust expressions, which only `template!` can evaluate\n"),
        count: 1,
    })
}

fn read(path: &Path) -> Result<(String, PathBuf), TmplError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| TmplError { rendered: format!("error: cannot read `{}`: {e}\n", path.display()), count: 1 })?;
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let dir = abs.parent().map(Path::to_owned).unwrap_or_default();
    Ok((text, dir))
}

/// Reads and checks a `.tmpl` file; its folder is the default context.
pub fn check_file(path: &Path) -> Result<Checked, TmplError> {
    let (text, dir) = read(path)?;
    check_str(&text, &path.display().to_string(), Some(&dir))
}

/// Reads, checks and builds a `.tmpl` file.
///
/// ```no_run
/// let template = sandbox_template_dsl::tmpl::load(std::path::Path::new("templates/api.tmpl"))?;
/// println!("{}", template.to_json()?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load(path: &Path) -> Result<Template, TmplError> {
    let (text, dir) = read(path)?;
    load_str(&text, &path.display().to_string(), Some(&dir))
}

/// [`load`], except that COPY sources are not enumerated yet: for a caller that reads the
/// context right away (hashing for `to_json`, uploading for a build), which enumerates every
/// source and finds the same problems (a source matching nothing, a symlink leading out), so each
/// tree is walked once instead of twice. When reading the context then fails, [`check_file`]
/// gives the problems as diagnostics spanned in the file.
///
/// ```no_run
/// use sandbox_template_dsl::tmpl;
/// let path = std::path::Path::new("templates/api.tmpl");
/// let template = tmpl::load_deferring_copy_checks(path)?;
/// match template.to_json() {
///     Ok(json) => println!("{json}"),
///     // The spanned diagnostics, when the check finds the problem.
///     Err(e) => eprintln!("{}", tmpl::check_file(path).err().map_or(e.to_string(), |d| d.to_string())),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load_deferring_copy_checks(path: &Path) -> Result<Template, TmplError> {
    let (text, dir) = read(path)?;
    let file_name = path.display().to_string();
    let env = Env { base_dir: Some(dir), allow_exprs: false, check_copy_sources: false };
    to_template(check_text(&text, &file_name, &env)?, &file_name)
}
