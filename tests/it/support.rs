//! Shared by the conformance tests (`conformance::{vectors, dockerfile, dsl}`): where the
//! recorded SDK vectors are, and the COPY fixture they were recorded on.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// `tests/conformance`: this project's own expectations where it deliberately differs from the
/// SDKs (see its README).
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance")
}

/// The official SDKs' recorded outputs: `tests/conformance/sdk/vectors` (see its README for where
/// they come from and how to re-record them), or `$SANDBOX_TEMPLATE_VECTORS`.
pub fn vectors_dir() -> PathBuf {
    let dir = std::env::var_os("SANDBOX_TEMPLATE_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/sdk/vectors"));
    assert!(
        dir.join("expected").is_dir(),
        "the SDK vectors are not at {}: restore tests/conformance/sdk/vectors or set SANDBOX_TEMPLATE_VECTORS",
        dir.display()
    );
    dir
}

/// `vectors/...` names a file of the recorded vectors, anything else a file under `tests/conformance`.
fn resolve(relative: &str) -> PathBuf {
    match relative.strip_prefix("vectors/").or(relative.strip_prefix("vectors").filter(|r| r.is_empty())) {
        Some(rest) => vectors_dir().join(rest),
        None => data_dir().join(relative),
    }
}

/// Reads a recorded vector (`vectors/...`) or a project-owned expectation; a missing file is a
/// broken checkout, so it panics with the path.
pub fn read_data(relative: &str) -> String {
    let path = resolve(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The names (file stems) of the files in `tests/conformance/<dir>` ending in `.<ext>`, sorted.
pub fn data_names(dir: &str, ext: &str) -> Vec<String> {
    let path = resolve(dir);
    let entries = std::fs::read_dir(&path).unwrap_or_else(|e| panic!("cannot list {}: {e}", path.display()));
    let mut names: Vec<String> = entries
        .map(|entry| entry.unwrap_or_else(|e| panic!("cannot list {}: {e}", path.display())).path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(str::to_owned))
        .collect();
    names.sort();
    names
}

/// The scratch folder `make_fixture.sh` ran in: the `vectors/` folder of the recording, which the
/// SDKs' error messages call `<vectors>`.
#[derive(Debug)]
pub struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    /// The scratch folder (`<vectors>` in the recorded error messages).
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `CTX` of the JS vectors: the context of most COPY vectors.
    pub fn ctx(&self) -> PathBuf {
        self.root().join("ctx")
    }

    /// `CTX_IGNORE`: a context with a `.dockerignore`.
    pub fn ctx_ignore(&self) -> PathBuf {
        self.root().join("ctx-ignore")
    }

    /// The Dockerfile `from_dockerfile_file.js` writes and imports.
    pub fn dockerfile_sample(&self) -> PathBuf {
        self.root().join("Dockerfile.sample")
    }
}

/// The fixture, made once per test binary: `make_fixture.sh` copied into a fresh folder (it writes
/// beside itself) and run with `sh`, plus the files individual vector scripts write next to `ctx`.
///
/// Run as root, like CI, so the fixture's `chown` applies; as another user it is skipped, which
/// changes no recorded hash (the hash does not include owners).
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(make_fixture)
}

fn make_fixture() -> Fixture {
    // Under the target folder, so `cargo clean` removes folders a killed test run leaves behind.
    let dir = tempfile::Builder::new()
        .prefix("conformance-fixture-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("cannot create a scratch folder for the fixture");
    let script = dir.path().join("make_fixture.sh");
    std::fs::copy(vectors_dir().join("make_fixture.sh"), &script).expect("cannot copy make_fixture.sh");
    let out = Command::new("sh").arg(&script).output().expect("cannot run `sh make_fixture.sh`");
    assert!(
        out.status.success(),
        "make_fixture.sh failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Written by vectors/js/from_gcp_registry_file.js and from_dockerfile_file.js.
    std::fs::write(dir.path().join("sa.json"), "{ \"type\": \"service_account\",\n  \"project_id\": \"proj\" }\n")
        .expect("cannot write sa.json");
    std::fs::write(dir.path().join("Dockerfile.sample"), "FROM alpine:3.20\nRUN apk add curl\nCMD sleep infinity\n")
        .expect("cannot write Dockerfile.sample");
    Fixture { dir }
}

/// Splits a recorded `ERROR: Name: message` line into the SDK's error class and message.
pub fn recorded_error(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix("ERROR: ")?.trim_end_matches('\n');
    Some(rest.split_once(": ").unwrap_or(("", rest)))
}
