//! The cloud client's and the server's only contact with the build context
//! ([`crate::context::BuildContext`]): hashing COPY steps, writing their upload archives, and
//! re-hashing an unpacked upload.

use std::io::Write;
#[cfg(feature = "server")]
use std::path::Path;

use super::error::CloudError;
use super::pargz;
use crate::context::BuildContext;
use crate::error::Error;
use crate::step::{CopyStep, StepKind};
use crate::template::Template;

/// The `filesHash` of every COPY step (`None` for other steps), in step order. Opens the
/// context (and reads its `.dockerignore`) once for all steps.
pub(crate) fn files_hashes(template: &Template) -> Result<Vec<Option<String>>, Error> {
    if !template.steps().iter().any(|s| matches!(s.kind, StepKind::Copy(_))) {
        return Ok(vec![None; template.steps().len()]);
    }
    let ctx = BuildContext::for_template(template)?;
    template
        .steps()
        .iter()
        .map(|step| match &step.kind {
            StepKind::Copy(copy) => ctx.copy(copy, Some(step.location))?.files_hash().map(Some),
            _ => Ok(None),
        })
        .collect()
}

/// The `filesHash` of `copy` with `dir` as the context (the server re-hashing an upload).
#[cfg(feature = "server")]
pub(crate) fn files_hash_in(dir: &Path, copy: &CopyStep) -> Result<String, Error> {
    BuildContext::open(dir)?.copy(copy, None)?.files_hash()
}

/// Writes the upload archive of one COPY step to `out` as a stream: a tar (gzip unless the step
/// says `gzip = false`, compressed on every core) of exactly the hashed entries, paths relative
/// to the context folder.
pub(crate) fn write_archive(
    template: &Template,
    copy: &CopyStep,
    out: &mut (dyn Write + Send),
) -> Result<u64, CloudError> {
    let ctx = BuildContext::for_template(template)?;
    let source = ctx.copy(copy, None)?;
    if !source.gzip() {
        return Ok(source.write_archive(out)?);
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    pargz::compress(threads, out, |tar| Ok(ctx.write_archive(source.entries(), false, tar)?))
}
