//! Reading file contents ahead of their consumer (hasher or archive writer).
//!
//! The consumer must take files strictly in entry order (the hash and the tar are sequential),
//! but opening and reading thousands of small files is mostly system-call time, so reader
//! threads prefetch: with `W` readers, reader `k` reads the files `k, k+W, k+2W, ...` and hands
//! them over through its own bounded channel; the consumer takes file `j` from channel `j % W`.
//! Memory stays bounded: at most [`DEPTH`] chunks of at most [`CHUNK`] bytes per reader are in
//! flight, whatever the file sizes.

use std::io::Read;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use super::Entry;
use super::fs::{EntryKind, Fs};
use crate::error::Error;

/// Largest piece of a file handed over at once.
const CHUNK: usize = 256 * 1024;
/// Pieces in flight per reader.
const DEPTH: usize = 8;

enum Msg {
    Data(Vec<u8>),
    End,
    Failed(Error),
}

/// The contents of the regular files among some entries, in order.
pub(crate) struct Contents<'a> {
    inner: Inner<'a>,
    next_file: usize,
}

enum Inner<'a> {
    Threads(Vec<Receiver<Msg>>),
    Embedded(&'static super::EmbeddedDir, &'a [Entry]),
}

impl Contents<'_> {
    /// Feeds the content of entry `index` (the next regular file) to `sink`.
    pub(crate) fn file(&mut self, index: usize, sink: &mut dyn FnMut(&[u8]) -> Result<(), Error>) -> Result<(), Error> {
        let seq = self.next_file;
        self.next_file += 1;
        match &self.inner {
            Inner::Embedded(dir, entries) => {
                let e = &entries[index];
                let data = dir.data(e.rel_bytes()).unwrap_or_default();
                sink(data)
            }
            Inner::Threads(rx) => {
                let rx = &rx[seq % rx.len()];
                loop {
                    match rx.recv() {
                        Ok(Msg::Data(d)) => sink(&d)?,
                        Ok(Msg::End) => return Ok(()),
                        Ok(Msg::Failed(e)) => return Err(e),
                        Err(_) => {
                            return Err(Error::Io {
                                path: Default::default(),
                                source: std::io::Error::other("file reader thread stopped"),
                            });
                        }
                    }
                }
            }
        }
    }
}

/// Runs `consume` with the contents of the regular files of `entries` available in order.
pub(crate) fn with_contents<R>(
    fs: &Fs<'_>,
    entries: &[Entry],
    consume: impl FnOnce(&mut Contents<'_>) -> Result<R, Error>,
) -> Result<R, Error> {
    let files: Vec<usize> =
        entries.iter().enumerate().filter(|(_, e)| e.kind == EntryKind::File).map(|(i, _)| i).collect();
    match fs {
        Fs::Embedded(dir) => consume(&mut Contents { inner: Inner::Embedded(dir, entries), next_file: 0 }),
        Fs::Disk(_) if files.len() <= 1 && files.iter().all(|&i| entries[i].size <= CHUNK as u64) => {
            // Not worth a thread: read inline.
            let (tx, rx) = sync_channel(DEPTH + 2);
            if let Some(&i) = files.first() {
                read_file(fs, &entries[i], &tx);
            }
            drop(tx);
            consume(&mut Contents { inner: Inner::Threads(vec![rx]), next_file: 0 })
        }
        Fs::Disk(_) => {
            let readers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 4).min(files.len());
            std::thread::scope(|scope| {
                let mut receivers = Vec::with_capacity(readers);
                for k in 0..readers {
                    let (tx, rx) = sync_channel::<Msg>(DEPTH);
                    receivers.push(rx);
                    let mine: Vec<&Entry> = files.iter().skip(k).step_by(readers).map(|&i| &entries[i]).collect();
                    let fs = *fs;
                    scope.spawn(move || {
                        for e in mine {
                            if !read_file(&fs, e, &tx) {
                                return;
                            }
                        }
                    });
                }
                // Dropping `Contents` (also on error) closes the channels, which stops the readers.
                consume(&mut Contents { inner: Inner::Threads(receivers), next_file: 0 })
            })
        }
    }
}

/// Sends one file as chunks then `End` (or `Failed`); false if the consumer is gone or on error.
fn read_file(fs: &Fs<'_>, e: &Entry, tx: &SyncSender<Msg>) -> bool {
    let path = fs.disk_path(e.rel_bytes());
    let fail = |source: std::io::Error| {
        let _ = tx.send(Msg::Failed(Error::Io { path: path.clone(), source }));
        false
    };
    let mut file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(err) => return fail(err),
    };
    // Exactly the size recorded at enumeration (the size that is hashed and goes in the tar
    // header); a file that shrank meanwhile is an error rather than a silently wrong archive.
    let mut left = e.size;
    while left > 0 {
        let n = left.min(CHUNK as u64) as usize;
        let mut buf = vec![0u8; n];
        let mut filled = 0;
        while filled < n {
            match file.read(&mut buf[filled..]) {
                Ok(0) => {
                    return fail(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        format!("the file shrank while being read (expected {} bytes)", e.size),
                    ));
                }
                Ok(k) => filled += k,
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Err(err) => return fail(err),
            }
        }
        left -= n as u64;
        if tx.send(Msg::Data(buf)).is_err() {
            return false;
        }
    }
    tx.send(Msg::End).is_ok()
}
