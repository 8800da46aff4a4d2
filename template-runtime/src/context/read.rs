//! Reading file contents ahead of their consumer (hasher or archive writer).
//!
//! The consumer must take files strictly in entry order (the hash and the tar are sequential),
//! but opening and reading thousands of small files is mostly system-call time, so reader
//! threads prefetch: with `W` readers, reader `k` reads the files `k, k+W, k+2W, ...` into
//! batches of up to [`BATCH`] bytes and hands each batch over through its own bounded channel;
//! the consumer takes file `j` from reader `j % W`. Batching many small files per hand-over keeps
//! thread wake-ups rare. Memory stays bounded: at most [`DEPTH`] batches per reader are in
//! flight, whatever the file sizes (a large file spans several batches).

use std::io::Read;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use super::embedded::EmbeddedDir;
use super::entry::Entry;
use super::meta::EntryKind;
use super::source::ContextSource;
use crate::error::Error;

/// Bytes per batch.
const BATCH: usize = 512 * 1024;
/// Files per batch, at most.
const BATCH_FILES: usize = 256;
/// Batches in flight per reader.
const DEPTH: usize = 4;

/// A piece of one file inside a batch: `buf[start..end]`, and whether the file ends there.
#[derive(Clone, Copy)]
struct Piece {
    start: usize,
    end: usize,
    last: bool,
}

enum Msg {
    Batch(Vec<u8>, Vec<Piece>),
    Failed(Error),
}

/// What the consumer holds of one reader's stream.
struct Stream {
    rx: Receiver<Msg>,
    buf: Vec<u8>,
    pieces: Vec<Piece>,
    next: usize,
}

/// The contents of the regular files among some entries, in order.
pub(crate) struct Contents<'a> {
    inner: Inner<'a>,
    next_file: usize,
}

enum Inner<'a> {
    Threads(Vec<Stream>),
    Embedded(&'static EmbeddedDir, &'a [Entry]),
}

fn stopped() -> Error {
    Error::WorkerStopped { worker: "file reader" }
}

impl Contents<'_> {
    /// Feeds the content of entry `index` (the next regular file) to `sink`.
    pub(crate) fn file(&mut self, index: usize, sink: &mut dyn FnMut(&[u8]) -> Result<(), Error>) -> Result<(), Error> {
        let seq = self.next_file;
        self.next_file += 1;
        match &mut self.inner {
            Inner::Embedded(dir, entries) => {
                let e = &entries[index];
                let data = dir.data(e.rel_bytes()).unwrap_or_default();
                sink(data)
            }
            Inner::Threads(streams) => {
                let n = streams.len();
                let s = &mut streams[seq % n];
                loop {
                    if s.next == s.pieces.len() {
                        match s.rx.recv() {
                            Ok(Msg::Batch(buf, pieces)) => (s.buf, s.pieces, s.next) = (buf, pieces, 0),
                            Ok(Msg::Failed(e)) => return Err(e),
                            Err(_) => return Err(stopped()),
                        }
                        continue;
                    }
                    let p = s.pieces[s.next];
                    s.next += 1;
                    sink(&s.buf[p.start..p.end])?;
                    if p.last {
                        return Ok(());
                    }
                }
            }
        }
    }
}

/// Runs `consume` with the contents of the regular files of `entries` available in order.
pub(crate) fn with_contents<R>(
    fs: &ContextSource,
    entries: &[Entry],
    consume: impl FnOnce(&mut Contents<'_>) -> Result<R, Error>,
) -> Result<R, Error> {
    let files: Vec<&Entry> = entries.iter().filter(|e| e.kind == EntryKind::File).collect();
    let stream = |rx| Stream { rx, buf: Vec::new(), pieces: Vec::new(), next: 0 };
    match fs {
        ContextSource::Embedded(dir) => consume(&mut Contents { inner: Inner::Embedded(dir, entries), next_file: 0 }),
        ContextSource::Dir(_) if files.len() <= 1 && files.iter().all(|e| e.size <= BATCH as u64) => {
            // Not worth a thread: read inline.
            let (tx, rx) = sync_channel(2);
            read_files(fs, &files, &tx);
            drop(tx);
            consume(&mut Contents { inner: Inner::Threads(vec![stream(rx)]), next_file: 0 })
        }
        ContextSource::Dir(_) => {
            let readers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 4).min(files.len());
            std::thread::scope(|scope| {
                let mut streams = Vec::with_capacity(readers);
                for k in 0..readers {
                    let (tx, rx) = sync_channel::<Msg>(DEPTH);
                    streams.push(stream(rx));
                    let mine: Vec<&Entry> = files.iter().skip(k).step_by(readers).copied().collect();
                    scope.spawn(move || read_files(fs, &mine, &tx));
                }
                // Dropping `Contents` (also on error) closes the channels, which stops the readers.
                consume(&mut Contents { inner: Inner::Threads(streams), next_file: 0 })
            })
        }
    }
}

/// Reads `files` in order into batches sent to `tx`; stops at the first error (sent as
/// `Failed` after the batch before it) or when the consumer is gone.
fn read_files(fs: &ContextSource, files: &[&Entry], tx: &SyncSender<Msg>) {
    let mut buf: Vec<u8> = Vec::with_capacity(BATCH);
    let mut pieces: Vec<Piece> = Vec::new();
    let flush = |buf: &mut Vec<u8>, pieces: &mut Vec<Piece>| {
        let full = std::mem::replace(buf, Vec::with_capacity(BATCH));
        tx.send(Msg::Batch(full, std::mem::take(pieces))).is_ok()
    };
    for e in files {
        if let Err(err) = read_one(fs, e, &mut buf, &mut pieces, &flush) {
            if !pieces.is_empty() && !flush(&mut buf, &mut pieces) {
                return;
            }
            let _ = tx.send(Msg::Failed(err));
            return;
        }
        if (buf.len() >= BATCH || pieces.len() >= BATCH_FILES) && !flush(&mut buf, &mut pieces) {
            return;
        }
    }
    if !pieces.is_empty() {
        flush(&mut buf, &mut pieces);
    }
}

/// Appends one file to the batch (flushing full batches on the way).
fn read_one(
    fs: &ContextSource,
    e: &Entry,
    buf: &mut Vec<u8>,
    pieces: &mut Vec<Piece>,
    flush: &dyn Fn(&mut Vec<u8>, &mut Vec<Piece>) -> bool,
) -> Result<(), Error> {
    let path = fs.disk_path(e.rel_bytes());
    let io = |source: std::io::Error| Error::Io { path: path.clone(), source };
    let mut file = std::fs::File::open(&path).map_err(io)?;
    // Exactly the size recorded at enumeration (the size that is hashed and goes in the tar
    // header); a file that shrank meanwhile is an error rather than a silently wrong archive.
    let mut left = e.size;
    loop {
        if buf.len() == BATCH && !flush(buf, pieces) {
            return Err(io(std::io::Error::other("the consumer stopped")));
        }
        let n = left.min((BATCH - buf.len()) as u64) as usize;
        let start = buf.len();
        buf.resize(start + n, 0);
        let mut filled = start;
        while filled < start + n {
            match file.read(&mut buf[filled..start + n]) {
                Ok(0) => {
                    return Err(io(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        format!("the file shrank while being read (expected {} bytes)", e.size),
                    )));
                }
                Ok(k) => filled += k,
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Err(err) => return Err(io(err)),
            }
        }
        left -= n as u64;
        pieces.push(Piece { start, end: start + n, last: left == 0 });
        if left == 0 {
            return Ok(());
        }
    }
}
