//! The runtime's integration tests, one binary (one link, one process; `cargo test --test it`),
//! with modules mirroring `src/`.
//!
//! Modules that need a feature beyond the defaults are gated here, where it shows, rather than
//! emptied by a `#![cfg]` inside the file: `cargo test -p sandbox-template-runtime` runs the rest,
//! `--all-features` (or `--features local`) runs them all.

/// `cloud`: the E2B/Novita client against loopback stand-ins (needs `cloud`).
#[cfg(feature = "cloud")]
mod cloud {
    /// What a build sends for cpu/memory/disk, skip_cache, copy_items and gzip, per provider.
    mod build;
    /// Redirects, huge answers, terminal escapes, endless log pages, the overall timeout.
    mod hardening;
    /// Image-config inheritance against a real registry, byte for byte with novita-sandbox.
    mod image_config;
    /// list, get, delete, exists, tags and build status, request by request as the SDKs.
    mod manage;
}

/// `context`: enumeration, hashing and the upload archive.
mod context {
    /// The upload archive read back (`BuildContext::write_archive` needs `archive`, a default).
    #[cfg(feature = "archive")]
    mod archive;
    /// Edge cases of enumeration and hashing.
    mod edges;
}

/// `dockerfile`: Dockerfile import.
mod dockerfile {
    /// One Dockerfile built by the engine directly and through the import (needs `local`).
    #[cfg(feature = "local")]
    mod engine;
    /// Unsupported features and malformed input: located errors.
    mod errors;
    /// Arbitrary input never panics.
    mod fuzz;
    /// Ten real-world Dockerfiles (`tests/fixtures/dockerfiles/`), snapshotted.
    mod real_world;
    /// Each reading and mapping rule.
    mod semantics;
}

/// `local`: real builds with Docker or Podman (needs `local`).
#[cfg(feature = "local")]
mod local {
    /// Images built from templates, containers started and probed.
    mod engine;
}

/// `validate`: the provider-specific rules (`$VAR` in env values, what one SDK lacks), and `rebuild`'s reading of
/// a request's provider.
mod validate;

mod support;
