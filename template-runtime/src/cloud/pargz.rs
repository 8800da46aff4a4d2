//! Parallel gzip, pigz-style: the stream is cut into blocks compressed on every core, written in
//! order as consecutive gzip members. A multi-member file is one valid gzip stream (RFC 1952
//! §2.2; Go's `gzip.Reader`, GNU gzip and flate2's `MultiGzDecoder` read it whole).
//!
//! Hand-written because no well-kept crate offers a bounded-memory parallel gzip `Write` that
//! uses the same flate2 backend (gzp pulls in its own thread pool and compressors).
//! Memory: at most `2 × threads + 2` blocks of [`BLOCK`] bytes are alive at once.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use flate2::Compression;
use flate2::write::GzEncoder;

/// Uncompressed bytes per gzip member.
pub(crate) const BLOCK: usize = 1 << 20;

/// Runs `produce` with a writer whose bytes reach `out` gzip-compressed on `threads` threads.
/// Returns what `produce` returned.
pub(crate) fn compress<T, E: From<io::Error>>(
    threads: usize,
    out: &mut (dyn Write + Send),
    produce: impl FnOnce(&mut dyn Write) -> Result<T, E>,
) -> Result<T, E> {
    let threads = threads.max(1);
    let in_flight = 2 * threads + 2;
    std::thread::scope(|scope| {
        let (job_tx, job_rx) = sync_channel::<(usize, Vec<u8>)>(in_flight);
        let job_rx = Arc::new(Mutex::new(job_rx));
        let (done_tx, done_rx) = sync_channel::<(usize, io::Result<Vec<u8>>)>(in_flight);
        // Tokens bound the blocks alive between the producer and the writer.
        let (token_tx, token_rx) = sync_channel::<()>(in_flight);
        for _ in 0..in_flight {
            let _ = token_tx.send(());
        }
        for _ in 0..threads {
            let job_rx = job_rx.clone();
            let done_tx = done_tx.clone();
            scope.spawn(move || worker(&job_rx, &done_tx));
        }
        drop((job_rx, done_tx));
        let writer = scope.spawn(move || write_in_order(done_rx, token_tx, out));
        let mut blocks = Blocks { buf: Vec::with_capacity(BLOCK), next: 0, jobs: Some(job_tx), tokens: token_rx };
        let produced = produce(&mut blocks);
        let flushed = blocks.finish();
        let written = writer.join().unwrap_or_else(|_| Err(io::Error::other("gzip writer thread panicked")));
        // The writer's error is the cause when there is one (the producer then only saw a
        // closed pipe).
        written?;
        let value = produced?;
        flushed?;
        Ok(value)
    })
}

struct Blocks {
    buf: Vec<u8>,
    next: usize,
    jobs: Option<SyncSender<(usize, Vec<u8>)>>,
    tokens: Receiver<()>,
}

impl Blocks {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let closed = || io::Error::new(io::ErrorKind::BrokenPipe, "gzip writer stopped");
        self.tokens.recv().map_err(|_| closed())?;
        let block = std::mem::replace(&mut self.buf, Vec::with_capacity(BLOCK));
        self.jobs.as_ref().ok_or_else(closed)?.send((self.next, block)).map_err(|_| closed())?;
        self.next += 1;
        Ok(())
    }

    /// Sends the last block and closes the job queue (the workers then stop).
    fn finish(&mut self) -> io::Result<()> {
        let sent = self.send();
        self.jobs = None;
        sent
    }
}

impl Write for Blocks {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = data.len().min(BLOCK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == BLOCK {
            self.send()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Blocks {
    fn drop(&mut self) {
        self.jobs = None;
    }
}

fn worker(jobs: &Mutex<Receiver<(usize, Vec<u8>)>>, done: &SyncSender<(usize, io::Result<Vec<u8>>)>) {
    loop {
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok((index, block)) = job else { return };
        let mut gz = GzEncoder::new(Vec::with_capacity(block.len() / 2), Compression::default());
        let member = gz.write_all(&block).and_then(|()| gz.finish());
        if done.send((index, member)).is_err() {
            return;
        }
    }
}

fn write_in_order(
    done: Receiver<(usize, io::Result<Vec<u8>>)>,
    tokens: SyncSender<()>,
    out: &mut (dyn Write + Send),
) -> io::Result<()> {
    let mut pending = BTreeMap::new();
    let mut next = 0;
    let mut wrote_any = false;
    for (index, member) in done {
        pending.insert(index, member?);
        while let Some(member) = pending.remove(&next) {
            out.write_all(&member)?;
            wrote_any = true;
            next += 1;
            let _ = tokens.send(());
        }
    }
    if !wrote_any {
        // An empty input is still one (empty) gzip member.
        GzEncoder::new(&mut *out, Compression::default()).finish()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn roundtrip(data: &[u8], threads: usize) -> Vec<u8> {
        let mut out = Vec::new();
        compress::<_, io::Error>(threads, &mut out, |w| w.write_all(data)).unwrap();
        let mut back = Vec::new();
        flate2::read::MultiGzDecoder::new(&out[..]).read_to_end(&mut back).unwrap();
        assert_eq!(&out[..2], b"\x1f\x8b");
        back
    }

    #[test]
    fn output_decompresses_to_the_input_in_order() {
        let data: Vec<u8> = (0..(3 * BLOCK + 12345)).map(|i| (i * 7 % 251) as u8).collect();
        for threads in [1, 2, 4] {
            assert_eq!(roundtrip(&data, threads), data);
        }
        assert_eq!(roundtrip(b"", 2), b"");
        assert_eq!(roundtrip(b"small", 2), b"small");
    }

    #[test]
    fn a_failing_output_is_an_error_not_a_hang() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::other("disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let data = vec![0u8; 20 * BLOCK];
        let err = compress::<_, io::Error>(2, &mut Broken, |w| w.write_all(&data)).unwrap_err();
        assert!(err.to_string().contains("disk full"), "{err}");
    }
}
