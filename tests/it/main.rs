//! The facade's integration tests, one binary (one link, one process; `cargo test --test it`).
//!
//! The trybuild UI suite (`tests/ui.rs`) and the public API guard (`tests/public_api.rs`) stay
//! binaries of their own: each runs cargo itself (trybuild builds its cases, the guard runs
//! rustdoc), taking minutes; alone, `--test ui` / `--test public_api` runs just that, and
//! neither holds up or competes with the quick tests here when the harness runs them in parallel.

/// Conformance with the official SDKs: the recorded vectors in `tests/conformance/sdk/vectors`.
mod conformance {
    /// `Template::from_dockerfile` against the JS SDK's `from_dockerfile_*` vectors.
    mod dockerfile;
    /// Dockerfile import against the Python SDK (the Docker-semantics reference).
    mod dockerfile_py;
    /// `template!` against the SDKs' JSON.
    mod dsl;
    /// `filesHash` of the COPY vectors on the fixture `make_fixture.sh` builds.
    mod files_hash;
    /// `sandbox-template import`: every recorded request and Dockerfile fixture as a `.tmpl`.
    mod import;
    /// The SDKs' typed surface (`surface.py`): the MCP server names the rules check against.
    mod surface;
    /// Every vector rebuilt with the builder, JSON and Dockerfile byte for byte.
    mod vectors;
}

/// docs/coverage.md (every SDK method and option in Rust, the DSL and the CLI) is true.
mod coverage;

/// The `template!` macro and `.tmpl` files.
mod dsl {
    /// `embed;`: the COPY sources compiled into the binary.
    mod embed;
    /// Each statement expands into the builder call of the same meaning.
    mod statements;
    /// A `.tmpl` file and the same text in `template!` give the same template.
    mod tmpl;
}

mod support;
