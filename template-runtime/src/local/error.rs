//! Errors of local builds.

use std::fmt;
use std::time::Duration;

use crate::step::SourceLocation;

/// Which part of a template an engine step came from: the base, a step, or the start command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepOrigin {
    /// `FROM`: the template's base.
    Base,
    /// A template step: its 0-based index in [`Template::steps`](crate::Template::steps).
    Step(usize),
    /// The start command (`CMD`) and ready check.
    Finalize,
}

/// A template step named in an error: which one, what it does, and where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailedStep {
    /// The template part.
    pub origin: StepOrigin,
    /// A short description (`RUN make`, `COPY app /app/`, `FROM python:3.12`).
    pub description: String,
    /// The builder call or `template!` statement that added it.
    pub location: Option<SourceLocation>,
}

impl fmt::Display for FailedStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            StepOrigin::Base => write!(f, "the base (`{}`)", self.description)?,
            StepOrigin::Step(i) => write!(f, "step {} (`{}`)", i + 1, self.description)?,
            StepOrigin::Finalize => write!(f, "the start command (`{}`)", self.description)?,
        }
        if let Some(l) = &self.location {
            write!(f, " added at {l}")?;
        }
        Ok(())
    }
}

/// One engine that detection tried, and why it was not used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineAttempt {
    /// `docker` or `podman`.
    pub program: String,
    /// What went wrong.
    pub problem: String,
    /// How to fix it.
    pub help: String,
}

/// Everything that can go wrong while building or starting a template with Docker or Podman.
///
/// Messages never contain registry passwords: engine output shown here has credentials removed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LocalError {
    /// No usable container engine.
    #[error("no container engine can be used:{}", attempts(.tried))]
    NoEngine {
        /// What was tried, in order.
        tried: Vec<EngineAttempt>,
    },
    /// `SANDBOX_TEMPLATE_ENGINE` (or a `--engine` value) names no engine.
    #[error("unknown container engine `{0}`: expected `auto`, `docker` or `podman`")]
    UnknownEngine(String),
    /// The template is invalid, or its context cannot be read.
    #[error(transparent)]
    Template(#[from] crate::Error),
    /// The template uses something a local engine cannot do.
    #[error("{what}{} (help: {help})", at(.location))]
    Unsupported {
        /// What cannot be done.
        what: String,
        /// The builder call or statement.
        location: Option<SourceLocation>,
        /// What to write instead.
        help: String,
    },
    /// An engine command failed outside of a template step.
    #[error("`{command}` failed: {message}{}", help_note(.help))]
    Engine {
        /// The command line (without secrets).
        command: String,
        /// The engine's error output.
        message: String,
        /// How to fix it, when known.
        help: Option<String>,
    },
    /// A template step failed during the image build.
    #[error("build failed at {step}: {message}{}", tail(.log_tail))]
    StepFailed {
        /// The failing step.
        step: FailedStep,
        /// The engine's error.
        message: String,
        /// The last lines of the build output.
        log_tail: Vec<String>,
    },
    /// Logging in to the base image's registry failed.
    #[error("cannot log in to registry `{registry}` for the base image{}: {message}", at(.location))]
    Login {
        /// Registry host.
        registry: String,
        /// The engine's error (credentials removed).
        message: String,
        /// Where the base was set.
        location: Option<SourceLocation>,
    },
    /// The container stopped before its ready check passed.
    #[error("the container exited with status {status} before it was ready (start command{}){}", at(.location), tail(.logs))]
    Exited {
        /// Exit status.
        status: i32,
        /// The container's last output lines.
        logs: Vec<String>,
        /// Where the start command was set.
        location: Option<SourceLocation>,
    },
    /// The ready check did not pass in time.
    #[error("ready check `{command}` did not pass within {}s{} (help: check the start command, or allow longer with `StartOptions::ready_timeout`){}", .waited.as_secs_f32().round(), at(.location), tail(.logs))]
    NotReady {
        /// The ready command run in the container.
        command: String,
        /// How long it was tried.
        waited: Duration,
        /// The container's last output lines.
        logs: Vec<String>,
        /// Where the ready check was set.
        location: Option<SourceLocation>,
    },
    /// Running an engine command or reading a file failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

fn attempts(tried: &[EngineAttempt]) -> String {
    let mut s = String::new();
    for a in tried {
        s.push_str(&format!("\n  - {}: {} (help: {})", a.program, a.problem, a.help));
    }
    if tried.is_empty() {
        s.push_str(" nothing was tried");
    }
    s
}

fn at(location: &Option<SourceLocation>) -> String {
    location.map(|l| format!(" at {l}")).unwrap_or_default()
}

fn help_note(help: &Option<String>) -> String {
    help.as_ref().map(|h| format!(" (help: {h})")).unwrap_or_default()
}

fn tail(lines: &[String]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    let mut s = String::from("\n  last output:");
    for l in lines {
        s.push_str("\n    ");
        s.push_str(l);
    }
    s
}
