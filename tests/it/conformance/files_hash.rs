//! `filesHash` of the COPY vectors (tests/conformance/sdk/vectors/expected/*.json, computed by the
//! official SDKs with the Python SDK's algorithm) on the fixture `make_fixture.sh` builds.

use std::path::{Path, PathBuf};
use std::process::Command;

use sandbox_template_runtime::context::{BuildContext, EntryKind};
use sandbox_template_runtime::{CopyOptions, Error, Template};

/// Builds the fixture in a scratch folder; returns (guard, folder holding ctx/, ctx-ignore/...).
/// `tests/conformance/sdk/vectors` of this package (the recorded SDK outputs), or `$SANDBOX_TEMPLATE_VECTORS`.
fn vectors_dir() -> PathBuf {
    let dir = std::env::var_os("SANDBOX_TEMPLATE_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/sdk/vectors"));
    assert!(
        dir.join("make_fixture.sh").is_file(),
        "the SDK vectors are not at {}: restore tests/conformance/sdk/vectors or set SANDBOX_TEMPLATE_VECTORS",
        dir.display()
    );
    dir
}

/// The SDK fixture tree, made by `make_fixture.sh` in a scratch folder.
pub fn fixture() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let script = tmp.path().join("make_fixture.sh");
    std::fs::copy(vectors_dir().join("make_fixture.sh"), &script).unwrap();
    let status = Command::new("sh").arg(&script).status().unwrap();
    assert!(status.success(), "make_fixture.sh failed");
    let root = tmp.path().to_path_buf();
    (tmp, root)
}

fn hash(ctx: &Path, src: &str, dest: &str, resolve: bool, ignore: &[&str]) -> Result<String, Error> {
    BuildContext::open(ctx)?.with_ignore_patterns(ignore.iter().copied())?.source(src, dest, resolve)?.files_hash()
}

#[test]
fn expected_vectors() {
    let (_guard, root) = fixture();
    let ctx = root.join("ctx");
    // (vector, src, dest, resolveSymlinks, fileIgnorePatterns, filesHash from expected/NAME.json)
    type Case<'a> = (&'a str, &'a str, &'a str, bool, &'a [&'a str], &'a str);
    let cases: &[Case] = &[
        (
            "copy_file",
            "fixture/hello.txt",
            "/home/user/hello.txt",
            false,
            &[],
            "29aae1c64d79a1360ad7330edadfec814ab4f2edffff2fac4d23c8d4902ca6d8",
        ),
        (
            "copy_dir",
            "fixture",
            "/app/",
            false,
            &[],
            "12f43e0ac20204d8b5b5c8e10f8d02d7230219923734779118d745a49a9f3712",
        ),
        ("copy_dot", ".", "/app/", false, &[], "03ba2149b7c2636c71108ae87941154db7f35aa661a28071ced106339b8a222e"),
        (
            "copy_dotslash",
            "./fixture",
            "/app/",
            false,
            &[],
            "a3c9f8f08ac2101cbc896182b6d6bd58490f1896f7bad9c43d84da94f27d494b",
        ),
        (
            "copy_glob",
            "fixture/*.txt",
            "/app/",
            false,
            &[],
            "2e8df4779c0c6d856a27ca0c8976d1df38923d48e845c61362e746beb9aa4150",
        ),
        (
            "copy_ignore_patterns",
            "fixture",
            "/app/",
            false,
            &["**/*.log", "fixture/nested/**"],
            "96d1dac19bd20826451c7bdbfcdc9a72f8eb25bcb4f0fffacc07fca0de581d4d",
        ),
        (
            "copy_mode_zero",
            "fixture/hello.txt",
            "/x",
            false,
            &[],
            "2b1afc4b2943222520817ba43d59c1dce7c78d7d8b3c1a2f297e6aa77d4d4cbf",
        ),
        (
            "copy_options",
            "fixture/run.sh",
            "/usr/local/bin/run",
            true,
            &[],
            "4336d9a457dbbb36f58b1b80fbabcffbf4726aceba2c68a49a6db39b4815e76d",
        ),
        (
            "copy_quirk_broken_symlink_direct",
            "quirks-broken/broken-link",
            "/q/",
            false,
            &[],
            "30f09e61123a73ffed90bb3ea13cfcbf40bcb8b1572ec9e24922fbfab25d51c3",
        ),
        (
            "copy_quirk_dirlink_resolve",
            "quirks-dirlink",
            "/q/",
            true,
            &[],
            "7c782d10421dad30419b9366c4c9596ea41b7aa04b38a7676a9a6ea2874845f0",
        ),
        (
            "copy_skip_cache",
            "top.txt",
            "/t",
            false,
            &[],
            "d176280865cd32f75e5fb0718d67e5d045d72e5aacaae015d47f4f651f5ae1bf",
        ),
        (
            "copy_symlink_noresolve",
            "fixture/link-to-hello",
            "/app/l",
            false,
            &[],
            "9946bd2b7ac8169ae13d832b5e2af0ae52f5bd73cf7cde67c5d4dd6bc87958e9",
        ),
        (
            "copy_symlink_resolve",
            "fixture/link-to-hello",
            "/app/l",
            true,
            &[],
            "09c8d21dcbe3d7ece9c252eec084365e8104b8840a682cb9fbd86b04e22be34c",
        ),
        (
            "seed",
            "fixture",
            "/app/fixture",
            false,
            &[],
            "2a59d8fe2add10b0e4a40ae6c7c8e534fb066efaed0914e060294fc2cbb5e5d5",
        ),
    ];
    let mut failures = Vec::new();
    for (name, src, dest, resolve, ignore, want) in cases {
        match hash(&ctx, src, dest, *resolve, ignore) {
            Ok(got) if got == *want => {}
            other => failures.push(format!("{name}: got {other:?}, want {want}")),
        }
    }
    // copy_dockerignore: context ctx-ignore with its own .dockerignore.
    let got = hash(&root.join("ctx-ignore"), "app", "/app/", false, &[]).unwrap();
    if got != "666cbcc4c5cebf6248a208888a937e0fb70535c88b77fe3150e83fb90c0a6516" {
        failures.push(format!("copy_dockerignore: got {got}"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn template_json_carries_the_hash() {
    let (_guard, root) = fixture();
    let json = Template::new()
        .with_context(root.join("ctx"))
        .from_base_image()
        .copy_with("fixture/run.sh", "/usr/local/bin/run", CopyOptions::new().resolve_symlinks(true))
        .to_json()
        .unwrap();
    assert!(
        json.contains("\"filesHash\": \"4336d9a457dbbb36f58b1b80fbabcffbf4726aceba2c68a49a6db39b4815e76d\""),
        "{json}"
    );
}

#[test]
fn dockerignore_semantics_vector() {
    // ctx-ignore2/.dockerignore = `**/*.log`, `!app/important.log`, `app/node_modules`: the Python
    // SDK (Docker rules) uploads exactly these (SPEC §C.2, vector copy_dockerignore2).
    let (_guard, root) = fixture();
    let ctx = BuildContext::open(root.join("ctx-ignore2")).unwrap();
    let paths: Vec<String> =
        ctx.entries("app", false).unwrap().iter().map(|e| e.path().display().to_string()).collect();
    assert_eq!(paths, ["app", "app/important.log", "app/main.py", "app/sub", "app/sub/keep.txt"]);
}

#[test]
fn missing_escaping_and_absolute_sources_fail() {
    let (_guard, root) = fixture();
    let ctx = BuildContext::open(root.join("ctx")).unwrap();
    let err = ctx.entries("does-not-exist", false).unwrap_err();
    assert!(matches!(err, Error::NoFiles { .. }), "{err:?}");
    assert_eq!(err.to_string(), format!("No files found in {}", root.join("ctx/does-not-exist").display()));
    assert!(matches!(ctx.entries("/etc/passwd", false), Err(Error::Validation(_))));
    assert!(matches!(ctx.entries("fixture/../../x", false), Err(Error::Validation(_))));
}

#[test]
fn symlinked_directory_not_entered_by_the_walk_but_followed_by_a_path() {
    let (_guard, root) = fixture();
    let ctx = BuildContext::open(root.join("ctx")).unwrap();
    let entries = ctx.entries("quirks-dirlink", false).unwrap();
    let list: Vec<(String, EntryKind)> = entries.iter().map(|e| (e.path().display().to_string(), e.kind())).collect();
    assert_eq!(
        list,
        [
            ("quirks-dirlink".to_string(), EntryKind::Dir),
            ("quirks-dirlink/link-to-nested".to_string(), EntryKind::Symlink),
            ("quirks-dirlink/x.txt".to_string(), EntryKind::File),
        ]
    );
    // A path through the link is followed (the Python SDK's glob does), the link stays inside.
    let through = ctx.entries("quirks-dirlink/link-to-nested/note.md", false).unwrap();
    assert_eq!(
        through.iter().map(|e| e.path().display().to_string()).collect::<Vec<_>>(),
        ["quirks-dirlink/link-to-nested/note.md"]
    );
    let deep = ctx.entries("quirks-dirlink/link-to-nested", true).unwrap();
    assert_eq!(deep.len(), 1, "a resolved dir link is not entered: {deep:?}");
}
