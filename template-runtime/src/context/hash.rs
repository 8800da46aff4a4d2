//! `filesHash`: the Python SDK's algorithm (`calculate_files_hash`, SPEC §C.3).
//!
//! SHA-256 over `COPY <src> <dest>`, then for every entry in order: its path relative to the
//! context (`.` for the context itself), its decimal `st_mode`, its decimal `st_size` (not for
//! directories: their size depends on the file system), then the link target of a symlink kept
//! as a link, or the content of a regular file. No separators anywhere.

use sha2::{Digest, Sha256};

use super::entry::Entry;
use super::meta::EntryKind;
use super::read::with_contents;
use super::source::ContextSource;
use crate::error::Error;

/// Writes `n` in decimal into `buf`, returning the digits.
fn decimal(n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

/// The hash of `entries` (sorted, as enumerated) for `COPY src dest`.
pub(crate) fn files_hash(fs: &ContextSource, src: &str, dest: &str, entries: &[Entry]) -> Result<String, Error> {
    let mut h = Sha256::new();
    h.update(format!("COPY {src} {dest}").as_bytes());
    let mut buf = [0u8; 20];
    with_contents(fs, entries, |contents| {
        for (i, e) in entries.iter().enumerate() {
            h.update(e.hash_path());
            h.update(decimal(u64::from(e.mode), &mut buf));
            if e.kind != EntryKind::Dir {
                h.update(decimal(e.size, &mut buf));
            }
            match e.kind {
                EntryKind::Symlink => h.update(e.link_target.as_deref().unwrap_or_default()),
                EntryKind::File => contents.file(i, &mut |chunk| {
                    h.update(chunk);
                    Ok(())
                })?,
                EntryKind::Dir | EntryKind::Other => {}
            }
        }
        Ok(())
    })?;
    Ok(format!("{:x}", h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::decimal;

    #[test]
    fn decimal_digits() {
        let mut b = [0; 20];
        assert_eq!(decimal(0, &mut b), b"0");
        assert_eq!(decimal(33188, &mut b), b"33188");
        assert_eq!(decimal(u64::MAX, &mut b), b"18446744073709551615");
    }
}
