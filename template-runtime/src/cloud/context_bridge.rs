//! The cloud client's and the server's only contact with the build context
//! ([`crate::context::BuildContext`]) beyond `Template::files_hashes`: writing the upload
//! archives of COPY steps, and re-hashing an unpacked upload.

use std::io::Write;
#[cfg(feature = "server")]
use std::path::Path;

use super::error::CloudError;
#[cfg(feature = "server")]
use crate::context::BuildContext;
#[cfg(feature = "server")]
use crate::error::Error;
use crate::step::CopyStep;
use crate::template::Template;

/// The `filesHash` of `copy` with `dir` as the context (the server re-hashing an upload).
#[cfg(feature = "server")]
pub(crate) fn files_hash_in(dir: &Path, copy: &CopyStep) -> Result<String, Error> {
    BuildContext::open(dir)?.copy(copy, None)?.files_hash()
}

/// Writes the upload archive of one COPY step to `out` as a stream: a tar (gzip unless the step
/// says `gzip = false`; the context module compresses on every core into one ordinary gzip
/// member) of exactly the hashed entries, paths relative to the context folder.
pub(crate) fn write_archive(
    template: &Template,
    copy: &CopyStep,
    out: &mut (dyn Write + Send),
) -> Result<u64, CloudError> {
    let ctx = template.build_context()?;
    Ok(ctx.copy(copy, None)?.write_archive(out)?)
}
