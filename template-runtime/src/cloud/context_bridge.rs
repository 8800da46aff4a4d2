//! The cloud client's only contact with the build context ([`crate::context::BuildContext`])
//! beyond `Template::files_hashes`: writing the upload archives of COPY steps.

use std::io::Write;

use super::error::CloudError;
use crate::step::CopyStep;
use crate::template::Template;

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
