//! Edge cases of enumeration and hashing: empty folders, symlinks of every kind, non-ASCII and
//! long names, ignored folders with re-included children, globs, hand-built embedded files.

use std::os::unix::fs::symlink;
use std::path::Path;

use sandbox_template_runtime::Error;
use sandbox_template_runtime::context::{BuildContext, EmbeddedDir, EmbeddedEntry, EmbeddedKind, Entry, EntryKind};
use sha2::{Digest, Sha256};

use crate::support::context::{ctx, mkdir, write};

fn paths(entries: &[Entry]) -> Vec<String> {
    entries.iter().map(|e| e.path().display().to_string()).collect()
}

/// The SDK's hash stream, built from the spec (SPEC §C.3) rather than from our code.
fn spec_hash(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    format!("{:x}", h.finalize())
}

#[test]
fn empty_directory() {
    let tmp = tempfile::tempdir().unwrap();
    mkdir(tmp.path(), "empty");
    let c = ctx(tmp.path());
    let copy = c.source("empty", "/e", false).unwrap();
    assert_eq!(paths(copy.entries()), ["empty"]);
    assert_eq!(copy.files_hash().unwrap(), spec_hash(&[b"COPY empty /e", b"empty", b"16877"]), "no size for dirs");
}

#[test]
fn symlinks_kept_as_links() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(d, "s/file.txt", b"data\n", 0o644);
    mkdir(d, "s/sub");
    write(d, "s/sub/inner.txt", b"in\n", 0o644);
    symlink("file.txt", d.join("s/to-file")).unwrap();
    symlink("sub", d.join("s/to-dir")).unwrap();
    symlink("missing", d.join("s/broken")).unwrap();
    symlink("/etc/hostname", d.join("s/outside")).unwrap();
    let c = ctx(d);
    let copy = c.source("s", "/s", false).unwrap();
    assert_eq!(
        paths(copy.entries()),
        ["s", "s/broken", "s/file.txt", "s/outside", "s/sub", "s/sub/inner.txt", "s/to-dir", "s/to-file"],
        "links listed, symlinked dir not entered"
    );
    let kinds: Vec<EntryKind> = copy.entries().iter().map(Entry::kind).collect();
    assert_eq!(kinds[1], EntryKind::Symlink);
    assert_eq!(kinds[6], EntryKind::Symlink);
    assert_eq!(copy.entries()[3].link_target(), Some(Path::new("/etc/hostname")));
    let want = spec_hash(&[
        b"COPY s /s",
        b"s",
        b"16877",
        b"s/broken",
        b"41471",
        b"7",
        b"missing",
        b"s/file.txt",
        b"33188",
        b"5",
        b"data\n",
        b"s/outside",
        b"41471",
        b"13",
        b"/etc/hostname",
        b"s/sub",
        b"16877",
        b"s/sub/inner.txt",
        b"33188",
        b"3",
        b"in\n",
        b"s/to-dir",
        b"41471",
        b"3",
        b"sub",
        b"s/to-file",
        b"41471",
        b"8",
        b"file.txt",
    ]);
    assert_eq!(copy.files_hash().unwrap(), want);
}

#[test]
fn symlinks_resolved() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(d, "s/file.txt", b"data\n", 0o600);
    mkdir(d, "s/sub");
    write(d, "s/sub/inner.txt", b"in\n", 0o644);
    symlink("file.txt", d.join("s/to-file")).unwrap();
    symlink("sub", d.join("s/to-dir")).unwrap();
    symlink("missing", d.join("s/broken")).unwrap();
    let c = ctx(d);
    let copy = c.source("s", "/s", true).unwrap();
    let e: Vec<(String, EntryKind, u32, bool)> = copy
        .entries()
        .iter()
        .map(|e| (e.path().display().to_string(), e.kind(), e.mode(), e.is_resolved_link()))
        .collect();
    assert_eq!(
        e,
        [
            ("s".into(), EntryKind::Dir, 0o040755, false),
            ("s/broken".into(), EntryKind::Symlink, 0o120777, false),
            ("s/file.txt".into(), EntryKind::File, 0o100600, false),
            ("s/sub".into(), EntryKind::Dir, 0o040755, false),
            ("s/sub/inner.txt".into(), EntryKind::File, 0o100644, false),
            ("s/to-dir".into(), EntryKind::Dir, 0o040755, true),
            ("s/to-file".into(), EntryKind::File, 0o100600, true),
        ],
        "a resolved dir link is the dir itself, still not entered; a broken link stays a link"
    );
    let want = spec_hash(&[
        b"COPY s /s",
        b"s",
        b"16877",
        b"s/broken",
        b"41471",
        b"7",
        b"missing",
        b"s/file.txt",
        b"33152",
        b"5",
        b"data\n",
        b"s/sub",
        b"16877",
        b"s/sub/inner.txt",
        b"33188",
        b"3",
        b"in\n",
        b"s/to-dir",
        b"16877",
        b"s/to-file",
        b"33152",
        b"5",
        b"data\n",
    ]);
    assert_eq!(copy.files_hash().unwrap(), want);
}

#[test]
fn symlinks_leading_out_are_refused() {
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "secret/key", b"k", 0o600);
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(d, "s/ok.txt", b"ok", 0o644);
    symlink(outside.path().join("secret/key"), d.join("s/key")).unwrap();
    symlink(outside.path().join("secret"), d.join("dirlink")).unwrap();
    symlink("../s/ok.txt", d.join("s/inside")).unwrap();
    let c = ctx(d);
    // Kept as a link: allowed, nothing is read through it.
    assert!(c.source("s", "/s", false).is_ok());
    // Resolved: the target would be uploaded.
    let err = c.source("s", "/s", true).unwrap_err();
    assert!(matches!(&err, Error::SymlinkEscapes { path, .. } if path.ends_with("s/key")), "{err:?}");
    assert!(err.to_string().contains("points outside the context folder"), "{err}");
    // A source path through a symlinked directory that points outside.
    let err = c.entries("dirlink/key", false).unwrap_err();
    assert!(matches!(&err, Error::SymlinkEscapes { path, .. } if path.ends_with("dirlink")), "{err:?}");
    // A resolved link that stays inside is fine.
    let inside = c.source("s/inside", "/x", true).unwrap();
    assert_eq!(inside.entries()[0].kind(), EntryKind::File);
}

#[test]
fn non_ascii_and_long_names_sort_by_code_point() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let long = format!("n/{}/{}.txt", "a".repeat(60), "b".repeat(80));
    write(d, &long, b"long", 0o644);
    write(d, "n/z.txt", b"z", 0o644);
    write(d, "n/é.txt", b"e", 0o644);
    write(d, "n/Z.txt", b"Z", 0o644);
    write(d, "n/😀.txt", b"smile", 0o644);
    write(d, "n/\u{ff5e}.txt", b"wave", 0o644);
    let c = ctx(d);
    let copy = c.source("n", "/n", false).unwrap();
    let got = paths(copy.entries());
    let a = format!("n/{}", "a".repeat(60));
    // Python sorts str by code point: U+FF5E before U+1F600 (JS's UTF-16 order would swap them).
    assert_eq!(got, ["n", "n/Z.txt", &a, &long, "n/z.txt", "n/é.txt", "n/\u{ff5e}.txt", "n/😀.txt"]);
    let h = copy.files_hash().unwrap();
    let want = spec_hash(&[
        b"COPY n /n",
        b"n",
        b"16877",
        b"n/Z.txt",
        b"33188",
        b"1",
        b"Z",
        a.as_bytes(),
        b"16877",
        long.as_bytes(),
        b"33188",
        b"4",
        b"long",
        b"n/z.txt",
        b"33188",
        b"1",
        b"z",
        "n/é.txt".as_bytes(),
        b"33188",
        b"1",
        b"e",
        "n/\u{ff5e}.txt".as_bytes(),
        b"33188",
        b"4",
        b"wave",
        "n/😀.txt".as_bytes(),
        b"33188",
        b"5",
        b"smile",
    ]);
    assert_eq!(h, want);
}

#[test]
fn ignored_directories_with_reincluded_children() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(d, "app/main.py", b"m", 0o644);
    write(d, "app/node_modules/keep/index.js", b"k", 0o644);
    write(d, "app/node_modules/drop/index.js", b"d", 0o644);
    write(d, "app/logs/a.log", b"a", 0o644);
    write(d, "app/logs/important.log", b"i", 0o644);
    write(d, ".dockerignore", b"app/node_modules\n!app/node_modules/keep\n", 0o644);
    let c = BuildContext::open(d).unwrap().with_ignore_patterns(["app/logs", "!app/logs/important.log"]).unwrap();
    assert_eq!(
        c.ignore_patterns(),
        ["app/node_modules", "!app/node_modules/keep", "app/logs", "!app/logs/important.log"]
    );
    let got = paths(&c.entries("app", false).unwrap());
    assert_eq!(
        got,
        ["app", "app/logs/important.log", "app/main.py", "app/node_modules/keep", "app/node_modules/keep/index.js",],
        "the excluded folders themselves stay out, their re-included children are in"
    );
    // The same through a glob source, and a source inside an excluded folder.
    assert_eq!(
        paths(&c.entries("app/*/keep", false).unwrap()),
        ["app/node_modules/keep", "app/node_modules/keep/index.js"]
    );
    assert!(matches!(c.entries("app/node_modules/drop", false), Err(Error::NoFiles { .. })));
}

#[test]
fn globs() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(d, "a/x.txt", b"", 0o644);
    write(d, "a/.hidden.txt", b"", 0o644);
    write(d, "a/b/y.txt", b"", 0o644);
    write(d, "a/b/c/z.md", b"", 0o644);
    write(d, "top.txt", b"", 0o644);
    let c = ctx(d);
    assert_eq!(paths(&c.entries("a/*.txt", false).unwrap()), ["a/.hidden.txt", "a/x.txt"], "dotfiles match");
    assert_eq!(paths(&c.entries("**/*.txt", false).unwrap()), ["a/.hidden.txt", "a/b/y.txt", "a/x.txt", "top.txt"]);
    assert_eq!(paths(&c.entries("a/**/*.md", false).unwrap()), ["a/b/c/z.md"]);
    assert_eq!(paths(&c.entries("a/?/", false).unwrap()), ["a/b", "a/b/c", "a/b/c/z.md", "a/b/y.txt"]);
    assert_eq!(paths(&c.entries("[t]op.txt", false).unwrap()), ["top.txt"]);
    assert_eq!(paths(&c.entries("a/b/../x.txt", false).unwrap()), ["a/x.txt"]);
    assert!(matches!(c.entries("top.txt/", false), Err(Error::NoFiles { .. })), "a trailing / only matches folders");
    let all = paths(&c.entries(".", false).unwrap());
    assert_eq!(all.first().map(String::as_str), Some("."), "the context itself, hashed as `.`");
}

#[test]
fn bad_ignore_patterns_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join(".dockerignore"), "ok\n[z-\n").unwrap();
    let err = BuildContext::open(tmp.path()).unwrap_err();
    assert_eq!(err.to_string(), "invalid ignore pattern `[z-`: syntax error in pattern");
}

#[test]
fn hand_built_embedded_dir() {
    static FILES: EmbeddedDir = EmbeddedDir::new(
        "/nowhere",
        &[
            EmbeddedEntry { path: ".", mode: 0o040755, kind: EmbeddedKind::Dir },
            EmbeddedEntry { path: "fixture", mode: 0o040755, kind: EmbeddedKind::Dir },
            EmbeddedEntry { path: "fixture/hello.txt", mode: 0o100644, kind: EmbeddedKind::File(b"hello world\n") },
            EmbeddedEntry { path: "fixture/link-to-hello", mode: 0o120777, kind: EmbeddedKind::Symlink("hello.txt") },
        ],
    );
    let c = BuildContext::embedded(&FILES).unwrap();
    // The vectors copy_file, copy_symlink_noresolve and copy_symlink_resolve.
    let h = |src: &str, dest: &str, r: bool| c.source(src, dest, r).unwrap().files_hash().unwrap();
    assert_eq!(
        h("fixture/hello.txt", "/home/user/hello.txt", false),
        "29aae1c64d79a1360ad7330edadfec814ab4f2edffff2fac4d23c8d4902ca6d8"
    );
    assert_eq!(
        h("fixture/link-to-hello", "/app/l", false),
        "9946bd2b7ac8169ae13d832b5e2af0ae52f5bd73cf7cde67c5d4dd6bc87958e9"
    );
    assert_eq!(
        h("fixture/link-to-hello", "/app/l", true),
        "09c8d21dcbe3d7ece9c252eec084365e8104b8840a682cb9fbd86b04e22be34c"
    );
    assert!(matches!(c.entries("nothing", false), Err(Error::NoFiles { .. })));
}
