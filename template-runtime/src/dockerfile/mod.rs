//! Dockerfile import: a Dockerfile read with Docker's rules and turned into template steps.
//!
//! "When your Dockerfile is already the source of truth": [`convert`] reads Dockerfile text the
//! way Docker (BuildKit) does and maps it onto template steps the way the official Python SDK's
//! `Template.from_dockerfile` does; [`Template::from_dockerfile`] applies the result to a
//! template. The `template!` macro runs the same [`convert`] at compile time.
//!
//! ```
//! use sandbox_template_runtime::Template;
//!
//! let template = Template::new()
//!     .from_dockerfile(
//!         "FROM python:3.12-slim\n\
//!          ENV APP_ENV=production\n\
//!          WORKDIR /app\n\
//!          RUN pip install --no-cache-dir flask\n\
//!          CMD [\"python\", \"-m\", \"flask\", \"run\"]\n",
//!     )
//!     .unwrap();
//! assert_eq!(template.start_cmd(), Some("python -m flask run"));
//! ```
//!
//! # What is read, and how
//!
//! The reader follows BuildKit's parser: the `# escape=` parser directive (`# syntax=` and
//! `# check=` are accepted and ignored), comments, line continuations (comment and blank lines
//! inside a continued instruction are skipped), heredocs (`<<EOF`, `<<-EOF`, quoted delimiters)
//! on `RUN`, `COPY` and `ADD`, JSON (exec) and shell forms, `ENV` in both forms, and variable
//! substitution (`$VAR`, `${VAR}`, `${VAR:-x}`, `${VAR-x}`, `${VAR:+x}`, `${VAR+x}`,
//! `${VAR:?msg}`, `${VAR?msg}`, and the glob forms `${VAR#pat}`, `${VAR##pat}`, `${VAR%pat}`,
//! `${VAR%%pat}`, `${VAR/pat/repl}`, `${VAR//pat/repl}`) in the instructions where Docker substitutes (`FROM`, `ENV`,
//! `ARG`, `WORKDIR`, `USER`, `COPY`/`ADD` and their flags, `COPY <<EOF` bodies).
//!
//! # How instructions map onto the template
//!
//! As in the Python SDK, the steps start with `USER root` and `WORKDIR /`, and end with
//! `USER user` / `WORKDIR /home/user` when the Dockerfile sets no user / working folder.
//!
//! | instruction | template |
//! |---|---|
//! | `FROM image [AS name]` | the base image (global `ARG`s substituted; `--platform` is ignored with a warning) |
//! | `RUN cmd` / `RUN ["exe", "arg"]` | a run step; the exec form is joined with shell quoting (`shlex.join`) |
//! | `RUN <<EOF` | a run step with the heredoc as the script (a `#!` first line runs it with that interpreter) |
//! | `COPY`/`ADD src... dest` | one copy step per source; `--chown` → user, `--chmod` → mode |
//! | `COPY <<EOF dest` | a run step as root that writes the file |
//! | `ENV` | an env step (values substituted) |
//! | `ARG` | nothing in the image: see below |
//! | `WORKDIR`, `USER` | a workdir / user step |
//! | `CMD`, `ENTRYPOINT` | the start command, combined as Docker combines them; ready check `sleep 20` |
//! | `SHELL` | later shell-form `RUN`/`CMD`/`ENTRYPOINT` run through that shell |
//! | `EXPOSE`, `VOLUME`, `LABEL`, `MAINTAINER` | ignored (no template equivalent, no effect on the files) |
//! | `HEALTHCHECK`, `STOPSIGNAL`, `ONBUILD` | ignored with a [`DockerfileWarning`] |
//!
//! **`ARG` values never become `ENV` steps** (both official SDKs leak them into the sandbox's
//! environment; this is a deliberate difference). They are substituted where Docker substitutes
//! them, and, as Docker does, handed to each later `RUN` through that command's environment:
//! the run step starts with `export NAME=value;`. Build args
//! ([`DockerfileOptions::build_arg`]) override `ARG` defaults. The automatic platform args
//! (`TARGETPLATFORM`, `TARGETOS`, `TARGETARCH`, `BUILDPLATFORM`, ...) are `linux/amd64`, the
//! platform sandboxes run on.
//!
//! A variable that is neither an `ARG` nor an `ENV` of this Dockerfile (e.g. `$PATH` or `$HOME`,
//! which come from the base image) is left as written for the build service to expand, except in
//! `FROM`, where Docker only knows the global `ARG`s and substitutes an empty string. An `ARG`
//! declared without a value that no build arg sets is unset, as in Docker. Both cases are
//! reported as warnings (except `$PATH`-style references in `ENV` values, which are routine).
//!
//! Smaller points that follow Docker: a `COPY` source is inside the context even when written
//! with a leading `/`; several sources need a destination ending in `/`; the body of
//! `COPY <<EOF` (unquoted delimiter) has this Dockerfile's `ARG`s substituted and its other
//! variables expanded by the build's shell, but no command substitution; an instruction whose
//! arguments start with `[` but are not a JSON array of strings runs in shell form (with a
//! warning); a later `CMD` or `ENTRYPOINT` replaces an earlier one.
//!
//! # What is refused
//!
//! Every error names the line and column and says what to write instead ([`DockerfileError`]):
//! multi-stage builds (a second `FROM`), `COPY --from`, `ADD` of a URL or git repository, `ADD` of
//! a local archive (Docker would unpack it; recognized by its name: `.tar`, `.tar.gz`, `.tgz`,
//! ...), `RUN --mount` of type `bind`, `secret` or `ssh` (the files would be missing), unknown
//! flags and instructions, a missing `FROM`, unterminated heredocs and quotes, JSON arrays with
//! non-string items. `COPY --link`, `RUN --mount=type=cache|tmpfs`, `RUN --network` and
//! `RUN --security` are ignored with a warning: the step does the same without them.

mod convert;
mod reader;
mod words;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::ready::ReadyCmd;
use crate::step::{SourceLocation, StepKind};
use crate::template::Template;

/// Options of [`convert`] and [`Template::from_dockerfile_with`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DockerfileOptions {
    /// Build args (`docker build --build-arg NAME=value`): override the defaults of `ARG NAME`.
    pub build_args: Vec<(String, String)>,
}

impl DockerfileOptions {
    /// No build args.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets build arg `name` to `value` (a later value for the same name wins).
    ///
    /// ```
    /// use sandbox_template_runtime::dockerfile::{convert, DockerfileOptions};
    /// let options = DockerfileOptions::new().build_arg("PY", "3.13");
    /// let converted = convert("ARG PY=3.12\nFROM python:${PY}-slim\n", &options).unwrap();
    /// assert_eq!(converted.base_image, "python:3.13-slim");
    /// assert_eq!(converted.declared_args, ["PY"]);
    /// ```
    pub fn build_arg(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.build_args.push((name.into(), value.into()));
        self
    }

    /// Sets several build args.
    pub fn build_args<K: Into<String>, V: Into<String>>(mut self, args: impl IntoIterator<Item = (K, V)>) -> Self {
        self.build_args.extend(args.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    fn build_arg_value(&self, name: &str) -> Option<&str> {
        self.build_args.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// A Dockerfile converted into template parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Converted {
    /// The base image (`FROM`, with build args substituted).
    pub base_image: String,
    /// The steps, in order, starting with `USER root` and `WORKDIR /`.
    pub steps: Vec<ConvertedStep>,
    /// The start command: `CMD` and `ENTRYPOINT` combined as Docker combines them.
    pub start_cmd: Option<String>,
    /// The ready check: `sleep 20` when there is a start command (as the SDKs do).
    pub ready_cmd: Option<ReadyCmd>,
    /// Instructions and flags that have no template equivalent and were skipped.
    pub warnings: Vec<DockerfileWarning>,
    /// The names the Dockerfile declares with `ARG`, in order of first declaration (what a build
    /// arg may set; the `template!` DSL checks its `arg NAME = ...` options against them).
    pub declared_args: Vec<String>,
}

/// One step of a [`Converted`] Dockerfile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvertedStep {
    /// What the step does.
    pub kind: StepKind,
    /// The 1-based Dockerfile line of the instruction it comes from (0 for the `USER`/`WORKDIR`
    /// steps added before and after the instructions).
    pub line: usize,
}

/// Something in the Dockerfile that was skipped or may not behave as under Docker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DockerfileWarning {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// What was skipped and why.
    pub message: String,
}

impl fmt::Display for DockerfileWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "Dockerfile: warning: {}", self.message)
        } else {
            write!(f, "Dockerfile:{}:{}: warning: {}", self.line, self.column, self.message)
        }
    }
}

/// A Dockerfile that cannot be converted: where, what, and what to write instead.
///
/// `Display` prints `Dockerfile:LINE:COLUMN: message`, the offending line with a caret under
/// the column, and the help:
///
/// ```
/// use sandbox_template_runtime::dockerfile::{convert, DockerfileOptions};
/// let err = convert("FROM alpine\nCOPY --from=build /out /app\n", &DockerfileOptions::new()).unwrap_err();
/// assert_eq!((err.line, err.column), (2, 6));
/// assert!(err.to_string().starts_with("Dockerfile:2:6: COPY --from is not supported"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DockerfileError {
    /// 1-based line (0 when the error is not about one line, e.g. the file cannot be read).
    pub line: usize,
    /// 1-based column, in characters (0 when unknown).
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// What to write instead.
    pub help: Option<String>,
    /// The text of the offending line, for display.
    pub source_line: String,
    /// The Dockerfile's path when it was read from a file (shown instead of `Dockerfile`).
    pub file: Option<PathBuf>,
}

impl DockerfileError {
    /// An error at `line`:`column` (1-based; 0 when not about one place).
    pub(crate) fn new(line: usize, column: usize, message: impl Into<String>) -> Self {
        DockerfileError { line, column, message: message.into(), help: None, source_line: String::new(), file: None }
    }

    /// The same error, saying what to write instead.
    pub(crate) fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The same error, naming `file` as the Dockerfile.
    pub fn with_file(mut self, file: impl Into<PathBuf>) -> Self {
        self.file = Some(file.into());
        self
    }
}

impl fmt::Display for DockerfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.file.as_deref().map_or_else(|| "Dockerfile".to_owned(), |p| p.display().to_string());
        if self.line == 0 {
            write!(f, "{name}: {}", self.message)?;
        } else {
            write!(f, "{name}:{}:{}: {}", self.line, self.column, self.message)?;
            if !self.source_line.is_empty() {
                let number = self.line.to_string();
                let pad = " ".repeat(number.len());
                write!(f, "\n {number} | {}", self.source_line)?;
                if self.column > 0 {
                    // Tabs are kept so the caret lines up under the same characters.
                    let lead: String = self
                        .source_line
                        .chars()
                        .take(self.column - 1)
                        .map(|c| if c == '\t' { '\t' } else { ' ' })
                        .collect();
                    write!(f, "\n {pad} | {lead}^")?;
                }
            }
        }
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for DockerfileError {}

/// Reads Dockerfile `text` with Docker's rules and converts it into template parts.
///
/// Pure: reads no file (COPY sources are checked later, with the build context), so the
/// `template!` macro can run it at compile time.
///
/// ```
/// use sandbox_template_runtime::dockerfile::{convert, DockerfileOptions};
/// use sandbox_template_runtime::StepKind;
///
/// let c = convert(
///     "FROM node:20\nARG PORT=3000\nENV PORT=$PORT\nENTRYPOINT [\"node\", \"server.js\"]\nCMD [\"--port\", \"3000\"]\n",
///     &DockerfileOptions::new(),
/// )
/// .unwrap();
/// assert_eq!(c.base_image, "node:20");
/// assert_eq!(c.steps[2].kind, StepKind::Env { vars: vec![("PORT".into(), "3000".into())], literal: false });
/// assert_eq!(c.start_cmd.as_deref(), Some("node server.js --port 3000"));
/// ```
pub fn convert(text: &str, options: &DockerfileOptions) -> Result<Converted, DockerfileError> {
    let lines: Vec<&str> = text.split('\n').collect();
    convert::convert(text, options).map_err(|mut e| {
        if e.line > 0 && e.source_line.is_empty() {
            e.source_line = lines.get(e.line - 1).map(|l| l.trim_end_matches('\r').to_owned()).unwrap_or_default();
        }
        e
    })
}

impl Template {
    /// Sets the base image, steps and start command from a Dockerfile (text, or the path of a
    /// Dockerfile file).
    ///
    /// `content_or_path` is read as a file when it is a single line naming an existing file,
    /// absolute or relative to the template's context folder ([`Template::with_context`]);
    /// otherwise it is the Dockerfile's text. Call [`Template::skip_cache`] first to rebuild
    /// every step. Later builder calls add steps after the Dockerfile's.
    ///
    /// Warnings (skipped instructions) are logged with `tracing`; use [`convert`] to get them.
    /// The steps' source location is this call (the Dockerfile line of each step is in
    /// [`ConvertedStep::line`]).
    ///
    /// ```
    /// use sandbox_template_runtime::Template;
    /// let t = Template::new().from_dockerfile("FROM alpine:3.20\nRUN apk add curl\nCMD sleep infinity\n").unwrap();
    /// assert_eq!(t.steps().len(), 5); // USER root, WORKDIR /, RUN, USER user, WORKDIR /home/user
    /// assert_eq!(t.start_cmd(), Some("sleep infinity"));
    /// ```
    #[track_caller]
    pub fn from_dockerfile(self, content_or_path: &str) -> Result<Template, DockerfileError> {
        self.from_dockerfile_with(content_or_path, &DockerfileOptions::new())
    }

    /// [`Template::from_dockerfile`] with build args.
    #[track_caller]
    pub fn from_dockerfile_with(
        self,
        content_or_path: &str,
        options: &DockerfileOptions,
    ) -> Result<Template, DockerfileError> {
        let location = SourceLocation::caller();
        let (text, file) = match dockerfile_path(content_or_path, self.context_dir()) {
            Some(path) => match std::fs::read_to_string(&path) {
                Ok(text) => (text, Some(path)),
                Err(e) => {
                    return Err(DockerfileError::new(0, 0, format!("cannot read the Dockerfile: {e}"))
                        .with_file(path)
                        .with_help("pass a readable Dockerfile, or the Dockerfile's text"));
                }
            },
            None if looks_like_a_path(content_or_path) => {
                let dir = self.context_dir().display().to_string();
                return Err(DockerfileError::new(0, 0, format!("no Dockerfile at `{content_or_path}`")).with_help(format!(
                    "pass the Dockerfile's text, or the path of an existing file: absolute or relative to the context folder `{dir}`"
                )));
            }
            None => (content_or_path.to_owned(), None),
        };
        let converted = convert(&text, options).map_err(|e| match &file {
            Some(path) => e.with_file(path.clone()),
            None => e,
        })?;
        for w in &converted.warnings {
            match &file {
                Some(path) => tracing::warn!("{}: {}", path.display(), w),
                None => tracing::warn!("{w}"),
            }
        }
        Ok(self.apply_dockerfile(converted, location))
    }

    /// Applies a converted Dockerfile: base, steps (located at `location`), start and ready
    /// command. Used by [`Template::from_dockerfile`] and by `template!` expansions.
    #[doc(hidden)]
    pub fn apply_dockerfile(self, converted: Converted, location: SourceLocation) -> Template {
        let mut t = self.from_image(converted.base_image);
        t.base_location = Some(location);
        for step in converted.steps {
            t = t.push_step(step.kind, location);
        }
        if converted.start_cmd.is_some() || converted.ready_cmd.is_some() {
            t.start_cmd = converted.start_cmd;
            t.ready_cmd = converted.ready_cmd;
            t.finish_location = Some(location);
        }
        t
    }
}

/// One word that cannot be a Dockerfile (which needs at least `FROM image`) but reads like a
/// file name: `Dockerfile`, `docker/Dockerfile.dev`.
fn looks_like_a_path(content_or_path: &str) -> bool {
    let t = content_or_path.trim();
    !t.is_empty() && !t.contains(char::is_whitespace)
}

/// The file `content_or_path` names, if it is a single line naming an existing file.
fn dockerfile_path(content_or_path: &str, context_dir: &Path) -> Option<PathBuf> {
    let candidate = content_or_path.trim_end_matches(['\n', '\r']);
    if candidate.is_empty() || candidate.contains('\n') {
        return None;
    }
    let path = Path::new(candidate);
    let path = if path.is_absolute() { path.to_path_buf() } else { context_dir.join(path) };
    path.is_file().then_some(path)
}
