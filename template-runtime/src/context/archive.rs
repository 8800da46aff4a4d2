//! The upload archive: a tar of exactly the hashed entries, gzip-compressed on all cores.
//!
//! Headers come from the `tar` crate (ustar, with a PAX `x` record before an entry whose name or
//! link target is not ASCII or does not fit ustar, or whose size needs more than 11 octal
//! digits). File data is copied straight from the prefetching readers into the compressor, never
//! a whole file at once.
//!
//! Compression is pigz's scheme: the tar stream is cut into [`BLOCK`]-byte blocks, each block is
//! deflated on a worker thread with the previous block's last 32 KiB as dictionary and ends with
//! a sync flush, so the compressed blocks concatenate into one ordinary gzip member; the CRC-32s
//! of the blocks are combined. Any gzip reader accepts the result.

use std::io::{self, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use flate2::{Compress, Compression, Crc, FlushCompress, Status};
use tar::{EntryType, Header};

use super::entry::Entry;
use super::meta::{EntryKind, S_IFIFO, S_IFMT};
use super::read::with_contents;
use super::source::ContextSource;
use crate::error::Error;

/// Deflate level, chosen by measurement (BENCHMARKS.md, "Build context"): level 3 compresses the
/// node_modules-like tree 5% larger than gzip's default level 6 (26.7 vs 25.4 MB, text 1% larger)
/// at half its CPU time; level 1 (zlib-rs's `deflate_quick`, static Huffman codes only) is faster
/// but 50% larger on text and even expands random data. The upload is sent over the network, so
/// a few per cent of size matter less than seconds of CPU on every build.
pub(crate) const LEVEL: u32 = 3;
/// Blocks whose samples do not shrink below this fraction at level 1 are stored uncompressed:
/// deflate spends most of its time searching for matches that random data (media, archives,
/// `.wasm`) does not have, for no gain. The decision depends only on the data (deterministic).
const INCOMPRESSIBLE: f64 = 0.97;
const SAMPLE: usize = 4 * 1024;
/// Uncompressed bytes per compression job (pigz uses 128 KiB; larger blocks cost a little less
/// per block and give the same ratio with the 32 KiB dictionary).
const BLOCK: usize = 256 * 1024;
/// Blocks queued per compression thread: enough slack that a worker always finds its next block
/// while the writer is busy reading files (memory: a few MiB).
const IN_FLIGHT: usize = 3;
/// Deflate window: the dictionary carried from one block to the next.
const WINDOW: usize = 32 * 1024;

fn write_err(source: io::Error) -> Error {
    Error::ArchiveWrite { source }
}

/// Writes the archive of `entries` to `out`; returns the bytes written.
pub(crate) fn write<W: Write>(fs: &ContextSource, entries: &[Entry], gzip: bool, out: W) -> Result<u64, Error> {
    let counted = Counting { inner: out, count: 0 };
    if gzip {
        let mut gz = ParallelGz::new(counted, Compression::new(LEVEL)).map_err(write_err)?;
        write_tar(fs, entries, &mut gz)?;
        Ok(gz.finish().map_err(write_err)?.count)
    } else {
        let mut buffered = io::BufWriter::with_capacity(BLOCK, counted);
        write_tar(fs, entries, &mut buffered)?;
        let counted = buffered.into_inner().map_err(|e| write_err(e.into_error()))?;
        Ok(counted.count)
    }
}

struct Counting<W> {
    inner: W,
    count: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The tar name of an entry: relative path, `/` after directories, `./` for the root.
fn tar_name(e: &Entry) -> Vec<u8> {
    let mut name = e.hash_path().to_vec();
    if e.kind == EntryKind::Dir {
        name.push(b'/');
    }
    name
}

/// The largest size an 11-digit octal ustar field holds.
const USTAR_MAX_SIZE: u64 = 0o77777777777;

fn write_tar(fs: &ContextSource, entries: &[Entry], out: &mut dyn Write) -> Result<(), Error> {
    let mut builder = tar::Builder::new(out);
    with_contents(fs, entries, |contents| {
        for (i, e) in entries.iter().enumerate() {
            let entry_type = match e.kind {
                EntryKind::File => EntryType::Regular,
                EntryKind::Dir => EntryType::Directory,
                EntryKind::Symlink => EntryType::Symlink,
                EntryKind::Other if e.mode & S_IFMT == S_IFIFO => EntryType::Fifo,
                EntryKind::Other => {
                    tracing::warn!(path = %e.path().display(), "not archived: sockets and devices cannot be uploaded");
                    continue;
                }
            };
            let size = if e.kind == EntryKind::File { e.size } else { 0 };
            let mut header = Header::new_ustar();
            header.set_entry_type(entry_type);
            header.set_mode(e.mode & 0o7777);
            header.set_uid(0);
            header.set_gid(0);
            header.set_mtime(0);
            let mut pax: Vec<(&str, Vec<u8>)> = Vec::new();
            let name = tar_name(e);
            let path = std::path::Path::new(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(&name));
            if !name.is_ascii() || header.set_path(path).is_err() {
                pax.push(("path", name.clone()));
                // Readers use the PAX path; the ustar field keeps a recognizable prefix.
                let field = &mut header.as_old_mut().name;
                let n = name.len().min(field.len());
                field[..n].copy_from_slice(&name[..n]);
            }
            if let Some(target) = &e.link_target {
                let fits = target.is_ascii() && target.len() <= 100;
                if !fits || header.set_link_name_literal(target).is_err() {
                    pax.push(("linkpath", target.clone()));
                    let field = &mut header.as_old_mut().linkname;
                    let n = target.len().min(field.len());
                    field[..n].copy_from_slice(&target[..n]);
                }
            }
            if size > USTAR_MAX_SIZE {
                pax.push(("size", size.to_string().into_bytes()));
            } else {
                header.set_size(size);
            }
            header.set_cksum();
            if !pax.is_empty() {
                builder.append_pax_extensions(pax.iter().map(|(k, v)| (*k, v.as_slice()))).map_err(write_err)?;
            }
            let sink = builder.get_mut();
            sink.write_all(header.as_bytes()).map_err(write_err)?;
            if e.kind == EntryKind::File {
                contents.file(i, &mut |chunk| sink.write_all(chunk).map_err(write_err))?;
                let pad = (512 - (size % 512) as usize) % 512;
                sink.write_all(&[0u8; 512][..pad]).map_err(write_err)?;
            }
        }
        Ok(())
    })?;
    builder.into_inner().map_err(write_err)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Parallel gzip

struct Job {
    data: Vec<u8>,
    dictionary: Option<Vec<u8>>,
    last: bool,
}

struct Done {
    compressed: io::Result<Vec<u8>>,
    crc: Crc,
}

struct Worker {
    jobs: SyncSender<Job>,
    done: Receiver<Done>,
    /// Taken when the worker is joined.
    handle: Option<JoinHandle<()>>,
}

/// A gzip writer that deflates blocks on worker threads (see the module docs).
pub(crate) struct ParallelGz<W: Write> {
    out: W,
    buf: Vec<u8>,
    workers: Vec<Worker>,
    /// Jobs sent, and jobs whose output was written.
    sent: usize,
    written: usize,
    crc: Crc,
    dictionary: Option<Vec<u8>>,
}

/// Whether three samples (start, middle, end) of `data` all fail to compress.
fn incompressible(data: &[u8]) -> bool {
    if data.len() < 4 * SAMPLE {
        return false;
    }
    let probe = |sample: &[u8]| {
        let mut z = Compress::new(Compression::fast(), false);
        let mut out = Vec::with_capacity(sample.len() * 2 + 64);
        match z.compress_vec(sample, &mut out, FlushCompress::Finish) {
            Ok(_) => out.len() as f64 >= sample.len() as f64 * INCOMPRESSIBLE,
            Err(_) => false,
        }
    };
    let mid = data.len() / 2;
    [&data[..SAMPLE], &data[mid..mid + SAMPLE], &data[data.len() - SAMPLE..]].into_iter().all(probe)
}

fn deflate_block(level: Compression, job: Job) -> Done {
    let mut crc = Crc::new();
    crc.update(&job.data);
    let level = if incompressible(&job.data) { Compression::none() } else { level };
    let compressed = (|| {
        let mut z = Compress::new(level, false);
        if let Some(d) = &job.dictionary {
            z.set_dictionary(d).map_err(io::Error::other)?;
        }
        let flush = if job.last { FlushCompress::Finish } else { FlushCompress::Sync };
        let mut out = Vec::with_capacity(job.data.len() + job.data.len() / 8 + 128);
        loop {
            let consumed = z.total_in() as usize;
            let status = z.compress_vec(&job.data[consumed..], &mut out, flush).map_err(io::Error::other)?;
            let done_input = z.total_in() as usize == job.data.len();
            let room = out.capacity() > out.len();
            match status {
                Status::StreamEnd => break,
                _ if done_input && room && !job.last => break,
                _ => out.reserve(64 * 1024),
            }
        }
        Ok(out)
    })();
    Done { compressed, crc }
}

impl<W: Write> ParallelGz<W> {
    pub(crate) fn new(mut out: W, level: Compression) -> io::Result<Self> {
        // mtime 0, no extra flags, OS = Unix: the header the JS SDK writes.
        out.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3])?;
        let n = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 4);
        let workers = (0..n)
            .map(|_| {
                let (jobs, job_rx) = sync_channel::<Job>(IN_FLIGHT);
                let (done_tx, done) = sync_channel::<Done>(IN_FLIGHT);
                let handle = std::thread::spawn(move || {
                    for job in job_rx {
                        if done_tx.send(deflate_block(level, job)).is_err() {
                            return;
                        }
                    }
                });
                Worker { jobs, done, handle: Some(handle) }
            })
            .collect();
        Ok(ParallelGz {
            out,
            buf: Vec::with_capacity(BLOCK),
            workers,
            sent: 0,
            written: 0,
            crc: Crc::new(),
            dictionary: None,
        })
    }

    fn collect_one(&mut self) -> io::Result<()> {
        let k = self.written % self.workers.len();
        let Ok(done) = self.workers[k].done.recv() else { return Err(self.stopped(k)) };
        self.out.write_all(&done.compressed?)?;
        self.crc.combine(&done.crc);
        self.written += 1;
        Ok(())
    }

    fn submit(&mut self, last: bool) -> io::Result<()> {
        if self.sent - self.written == IN_FLIGHT * self.workers.len() {
            self.collect_one()?;
        }
        let data = std::mem::replace(&mut self.buf, Vec::with_capacity(BLOCK));
        let next_dictionary = (!last).then(|| data[data.len().saturating_sub(WINDOW)..].to_vec());
        let job = Job { data, dictionary: std::mem::replace(&mut self.dictionary, next_dictionary), last };
        let k = self.sent % self.workers.len();
        if self.workers[k].jobs.send(job).is_err() {
            return Err(self.stopped(k));
        }
        self.sent += 1;
        Ok(())
    }

    /// The error for worker `k`, whose channel closed. A worker ends early only by panicking: that
    /// panic continues here (it is a bug) rather than becoming an I/O error.
    fn stopped(&mut self, k: usize) -> io::Error {
        if let Some(handle) = self.workers[k].handle.take()
            && let Err(panic) = handle.join()
        {
            std::panic::resume_unwind(panic);
        }
        io::Error::other("a compression thread stopped")
    }

    /// Compresses what is left, writes the gzip trailer and returns the inner writer.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        self.submit(true)?;
        while self.written < self.sent {
            self.collect_one()?;
        }
        let (crc, len) = (self.crc.sum(), self.crc.amount());
        self.out.write_all(&crc.to_le_bytes())?;
        self.out.write_all(&len.to_le_bytes())?;
        self.out.flush()?;
        for w in std::mem::take(&mut self.workers) {
            drop(w.jobs);
            if let Some(handle) = w.handle
                && let Err(panic) = handle.join()
            {
                std::panic::resume_unwind(panic);
            }
        }
        let ParallelGz { out, .. } = self;
        Ok(out)
    }
}

impl<W: Write> Write for ParallelGz<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = data.len().min(BLOCK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == BLOCK {
            self.submit(false)?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;

    fn noise(n: usize) -> Vec<u8> {
        let mut x = 0x2545f4914f6cdd1du64;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn random_blocks_are_stored_and_text_is_compressed() {
        assert!(incompressible(&noise(BLOCK)));
        let text = b"fn main() { println!(\"hello\"); }\n".repeat(BLOCK / 32);
        assert!(!incompressible(&text));
    }

    #[test]
    fn parallel_gzip_round_trips_across_blocks() {
        // Random and text blocks interleaved, not a multiple of the block size.
        let mut data = noise(3 * BLOCK + 1234);
        data.extend(b"abcabcabd".repeat(BLOCK / 3));
        data.extend(noise(BLOCK / 2));
        let mut gz = ParallelGz::new(Vec::new(), Compression::new(LEVEL)).unwrap();
        for piece in data.chunks(70_001) {
            gz.write_all(piece).unwrap();
        }
        let out = gz.finish().unwrap();
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&out[..]).read_to_end(&mut back).unwrap();
        assert!(back == data, "round trip");
        assert!(out.len() < data.len(), "the text part compresses");
        assert!(out.len() > data.len() - BLOCK / 3 * 9, "the random part is stored");
    }

    #[test]
    fn empty_archive_stream_is_valid_gzip() {
        let out = ParallelGz::new(Vec::new(), Compression::new(LEVEL)).unwrap().finish().unwrap();
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&out[..]).read_to_end(&mut back).unwrap();
        assert!(back.is_empty());
    }
}
