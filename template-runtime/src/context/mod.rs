//! The build context: COPY source enumeration, ignore rules, `filesHash`, tar.gz.
//! (Being written: see the context helper's brief.)

use crate::error::Error;
use crate::step::{CopyStep, SourceLocation};
use crate::template::Template;

/// Files compiled into the binary by `template! { embed; ... }`.
#[derive(Debug)]
pub struct EmbeddedDir {
    source_dir: &'static str,
}

impl EmbeddedDir {
    /// The folder the files were compiled from.
    pub fn source_dir(&self) -> &'static str {
        self.source_dir
    }
}

/// The `filesHash` of a COPY step.
pub fn files_hash(_t: &Template, _copy: &CopyStep, _location: Option<SourceLocation>) -> Result<String, Error> {
    Err(Error::Unsupported("not yet".into()))
}
