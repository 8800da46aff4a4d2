//! The cloud client's and the server's only contact with the build context
//! ([`crate::context::BuildContext`]): hashing COPY steps, writing their upload archives, and
//! re-hashing an unpacked upload.

use std::io::Write;
#[cfg(feature = "server")]
use std::path::Path;

use super::error::CloudError;
use crate::context::BuildContext;
use crate::error::Error;
use crate::step::{CopyStep, StepKind};
use crate::template::Template;

/// The `filesHash` of every COPY step (`None` for other steps), in step order. Opens the
/// context (and reads its `.dockerignore`) once; steps are hashed in parallel, one thread per
/// core.
pub(crate) fn files_hashes(template: &Template) -> Result<Vec<Option<String>>, Error> {
    let copies: Vec<usize> = template
        .steps()
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s.kind, StepKind::Copy(_)))
        .map(|(i, _)| i)
        .collect();
    let mut hashes = vec![None; template.steps().len()];
    if copies.is_empty() {
        return Ok(hashes);
    }
    let ctx = template.build_context()?;
    let hash_one = |i: usize| -> Result<String, Error> {
        let step = &template.steps()[i];
        match &step.kind {
            StepKind::Copy(copy) => ctx.copy(copy, Some(step.location))?.files_hash(),
            _ => unreachable!("only COPY steps are listed"),
        }
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(copies.len());
    let results: Vec<(usize, Result<String, Error>)> = if threads <= 1 {
        copies.iter().map(|&i| (i, hash_one(i))).collect()
    } else {
        let next = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some(&i) = copies.get(k) else { break done };
                            done.push((i, hash_one(i)));
                        }
                    })
                })
                .collect();
            workers.into_iter().flat_map(|w| w.join().unwrap_or_default()).collect()
        })
    };
    let mut results = results;
    // Report the first failing step in template order.
    results.sort_by_key(|(i, _)| *i);
    for (i, result) in results {
        hashes[i] = Some(result?);
    }
    if copies.iter().any(|&i| hashes[i].is_none()) {
        return Err(Error::Unsupported("a hashing thread stopped unexpectedly".to_owned()));
    }
    Ok(hashes)
}

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
