//! The upload archive read back, and embedded contexts against the folder they came from.

use std::io::Read;
use std::os::unix::fs::symlink;
use std::path::Path;

use sandbox_template_runtime::__private::{EmbedSource, PlannedKind, plan_embedding};
use sandbox_template_runtime::Template;
use sandbox_template_runtime::context::{BuildContext, EmbeddedDir, EmbeddedEntry, EmbeddedKind, Entry, EntryKind};

use crate::support::context::{ctx, mkdir, write};

// ---------------------------------------------------------------------------------------------
// The archive, read back

/// name, type, permission bits, content, link target
type Unpacked = (String, tar::EntryType, u32, Vec<u8>, Option<String>);

fn unpack(bytes: &[u8], gz: bool) -> Vec<Unpacked> {
    let reader: Box<dyn Read + '_> = if gz { Box::new(flate2::read::GzDecoder::new(bytes)) } else { Box::new(bytes) };
    let mut archive = tar::Archive::new(reader);
    let mut out = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let h = entry.header().clone();
        assert_eq!((h.uid().unwrap(), h.gid().unwrap(), h.mtime().unwrap()), (0, 0, 0), "deterministic owner and time");
        let name = String::from_utf8(entry.path_bytes().into_owned()).unwrap();
        let link = entry.link_name_bytes().map(|l| String::from_utf8(l.into_owned()).unwrap());
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        out.push((name, h.entry_type(), h.mode().unwrap(), data, link));
    }
    out
}

fn expected_archive(c: &BuildContext, entries: &[Entry]) -> Vec<Unpacked> {
    entries
        .iter()
        .map(|e| {
            let mut name = e.path().display().to_string();
            let (ty, data) = match e.kind() {
                EntryKind::Dir => {
                    name.push('/');
                    (tar::EntryType::Directory, Vec::new())
                }
                EntryKind::File => (tar::EntryType::Regular, std::fs::read(c.dir().join(e.path())).unwrap()),
                EntryKind::Symlink => (tar::EntryType::Symlink, Vec::new()),
                EntryKind::Other => unreachable!(),
            };
            let link = e.link_target().map(|l| l.display().to_string());
            (name, ty, e.mode() & 0o7777, data, link)
        })
        .collect()
}

fn archive_tree(d: &Path) {
    write(d, "t/small.txt", b"hello\n", 0o644);
    write(d, "t/run.sh", b"#!/bin/sh\n", 0o755);
    write(d, "t/private", b"p", 0o600);
    mkdir(d, "t/empty");
    // Several compression blocks, compressible and not.
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    write(d, "t/big.bin", &big, 0o644);
    let text: Vec<u8> = b"the quick brown fox jumps over the lazy dog\n".repeat(40_000);
    write(d, "t/text.txt", &text, 0o644);
    write(d, &format!("t/{}/{}.txt", "d".repeat(90), "f".repeat(120)), b"long", 0o644);
    write(d, "t/ünïcödé.txt", b"uni", 0o644);
    symlink("small.txt", d.join("t/link")).unwrap();
    symlink(format!("{}/ü", "x".repeat(120)), d.join("t/longlink")).unwrap();
}

#[test]
fn archive_holds_exactly_the_hashed_entries() {
    let tmp = tempfile::tempdir().unwrap();
    archive_tree(tmp.path());
    let c = ctx(tmp.path());
    let copy = c.source("t", "/t", false).unwrap();
    let want = expected_archive(&c, copy.entries());
    for gzip in [true, false] {
        let mut bytes = Vec::new();
        let n = c.write_archive(copy.entries(), gzip, &mut bytes).unwrap();
        assert_eq!(n as usize, bytes.len());
        if gzip {
            assert_eq!(&bytes[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
        }
        let got = unpack(&bytes, gzip);
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g, w, "entry {}", w.0);
        }
    }
}

#[test]
fn archive_is_deterministic_and_gzip_valid() {
    let tmp = tempfile::tempdir().unwrap();
    archive_tree(tmp.path());
    let c = ctx(tmp.path());
    let copy = c.source("t", "/t", false).unwrap();
    let mut a = Vec::new();
    let mut b = Vec::new();
    copy.write_archive(&mut a).unwrap();
    copy.write_archive(&mut b).unwrap();
    assert_eq!(a, b);
    // One gzip member whose trailer (CRC-32 and length) matches the content.
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(&a[..]).read_to_end(&mut plain).unwrap();
    let mut tar_only = Vec::new();
    c.write_archive(copy.entries(), false, &mut tar_only).unwrap();
    assert_eq!(plain, tar_only);
    assert!(a.len() < tar_only.len() / 2, "the text compresses");
}

#[test]
fn archive_of_resolved_links_has_the_targets() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(d, "s/file.txt", b"data\n", 0o640);
    symlink("file.txt", d.join("s/to-file")).unwrap();
    let c = ctx(d);
    let copy = c.source("s", "/s", true).unwrap();
    let mut bytes = Vec::new();
    copy.write_archive(&mut bytes).unwrap();
    let got = unpack(&bytes, true);
    assert_eq!(got[2], ("s/to-file".into(), tar::EntryType::Regular, 0o640, b"data\n".to_vec(), None));
}

// ---------------------------------------------------------------------------------------------
// Embedded contexts

fn leak_embedded(dir: &Path, sources: &[(&str, bool)]) -> &'static EmbeddedDir {
    let sources: Vec<EmbedSource> =
        sources.iter().map(|(s, r)| EmbedSource { src: s.to_string(), resolve_symlinks: *r }).collect();
    let plan = plan_embedding(dir, &[], &sources).unwrap();
    let entries: Vec<EmbeddedEntry> = plan
        .into_iter()
        .map(|p| EmbeddedEntry {
            path: Box::leak(p.path.into_boxed_str()),
            mode: p.mode,
            kind: match p.kind {
                PlannedKind::File => {
                    EmbeddedKind::File(Box::leak(std::fs::read(&p.disk_path).unwrap().into_boxed_slice()))
                }
                PlannedKind::Dir => EmbeddedKind::Dir,
                PlannedKind::Symlink(t) => EmbeddedKind::Symlink(Box::leak(t.into_boxed_str())),
            },
        })
        .collect();
    let source_dir: &'static str = Box::leak(dir.display().to_string().into_boxed_str());
    Box::leak(Box::new(EmbeddedDir::new(source_dir, Box::leak(entries.into_boxed_slice()))))
}

#[test]
fn embedded_context_hashes_and_archives_like_the_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    archive_tree(d);
    write(d, "t/skip.log", b"log", 0o644);
    write(d, "other/unrelated.txt", b"not embedded", 0o644);
    mkdir(d, "dirs/a");
    symlink("../../t", d.join("dirs/a/up")).unwrap();
    write(d, ".dockerignore", b"**/*.log\n", 0o644);
    let sources = [("t", false), ("t/*.txt", false), ("t/link", true), ("dirs", true), ("dirs/a/up", true)];
    let embedded = leak_embedded(d, &sources);
    assert!(
        embedded.entries().iter().all(|e| !e.path.starts_with("other") && !e.path.ends_with(".log")),
        "only what the sources select is embedded"
    );
    let disk = ctx(d);
    let emb = BuildContext::embedded(embedded).unwrap();
    assert_eq!(emb.ignore_patterns(), ["**/*.log"], ".dockerignore is embedded and read");
    for (src, resolve) in sources {
        let a = disk.source(src, "/dest", resolve).unwrap();
        let b = emb.source(src, "/dest", resolve).unwrap();
        assert_eq!(a.entries(), b.entries(), "{src}");
        assert_eq!(a.files_hash().unwrap(), b.files_hash().unwrap(), "{src}");
        let (mut x, mut y) = (Vec::new(), Vec::new());
        a.write_archive(&mut x).unwrap();
        b.write_archive(&mut y).unwrap();
        assert!(x == y, "{src}: archives differ");
    }
    // Through a template too.
    let t1 = Template::new().with_context(d).from_base_image().copy("t", "/t").to_json().unwrap();
    let t2 = Template::new().with_embedded_context(embedded).from_base_image().copy("t", "/t").to_json().unwrap();
    assert_eq!(t1, t2);
}
