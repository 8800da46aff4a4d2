//! Errors of the template runtime.

use std::fmt;
use std::path::PathBuf;

use crate::rules::Rule;
use crate::step::SourceLocation;

/// Everything that can go wrong while validating, serializing or packing a template.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The template breaks one or more rules; every broken rule is listed.
    #[error(transparent)]
    Validation(#[from] ValidationErrors),
    /// A copy source matched no file after ignore rules.
    #[error("No files found in {}{}", .path.display(), at(.location))]
    NoFiles {
        /// The context folder joined with the source.
        path: PathBuf,
        /// The `copy` call.
        location: Option<SourceLocation>,
    },
    /// A symlink inside a copied folder points outside the context.
    #[error("symlink `{}` points outside the context folder{}", .path.display(), at(.location))]
    SymlinkEscapes {
        /// The symlink.
        path: PathBuf,
        /// The `copy` call.
        location: Option<SourceLocation>,
    },
    /// An ignore pattern (`.dockerignore` line or template pattern) is malformed.
    #[error("invalid ignore pattern `{pattern}`: {reason}")]
    InvalidIgnorePattern {
        /// The pattern as written.
        pattern: String,
        /// What is wrong (`syntax error in pattern`: an unclosed or empty `[...]`, or a trailing `\\`).
        reason: String,
    },
    /// Reading the build context failed.
    #[error("cannot read `{}`: {source}", .path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Writing the upload archive failed (the output, not the context, is the problem).
    #[error("cannot write the archive: {source}")]
    ArchiveWrite {
        /// The error of the output.
        #[source]
        source: std::io::Error,
    },
    /// A secret could not be read (its value is never part of the message).
    #[error("{what} (help: {help})")]
    SecretUnavailable {
        /// What could not be read.
        what: String,
        /// What to do.
        help: String,
    },
    /// A template that cannot be expressed as a Dockerfile.
    #[error("{0}")]
    Unsupported(String),
    /// A worker thread (reading, hashing or compressing files) ended without delivering its
    /// results. A worker that panicked is not reported this way: its panic continues in the
    /// calling thread.
    #[error("the {worker} thread stopped before it delivered its results")]
    WorkerStopped {
        /// Which worker, e.g. `file reader`.
        worker: &'static str,
    },
}

fn at(location: &Option<SourceLocation>) -> String {
    location.map(|l| format!(" (copy at {l})")).unwrap_or_default()
}

/// One broken rule, with where the offending step was added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationError {
    /// The rule.
    pub rule: Rule,
    /// The builder call or DSL statement that added the value.
    pub location: Option<SourceLocation>,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(l) = &self.location {
            write!(f, "{l}: ")?;
        }
        write!(f, "{}", self.rule)?;
        if let Some(help) = self.rule.help() {
            write!(f, " (help: {help})")?;
        }
        Ok(())
    }
}

/// All rules a template breaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationErrors(pub Vec<ValidationError>);

impl ValidationErrors {
    /// The broken rules, in template order.
    pub fn iter(&self) -> impl Iterator<Item = &ValidationError> {
        self.0.iter()
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [one] => write!(f, "invalid template: {one}"),
            many => {
                write!(f, "invalid template ({} problems):", many.len())?;
                for e in many {
                    write!(f, "\n  - {e}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ValidationErrors {}
