//! The server's integration tests, one binary (one link, one process; `cargo test --test it`),
//! with modules mirroring `src/`.

/// `api`: the HTTP build API, spoken to by our client and by a plain HTTP client.
mod api {
    /// The server attacked as an exposed service: one test per finding of issue 10.
    mod attacks;
    /// The server's own contract: validation, auth, uploads, hash checks, log paging.
    mod contract;
    /// End to end over loopback HTTP: our client against our server.
    mod e2e;
    /// The client against a misbehaving server (`api::faults`).
    mod faults;
    /// The template list and details, paged, read by our client.
    mod templates;
}

/// `runner`: what a runner is given (no secrets in its Debug output).
mod runner;

/// `serve`: the API with the local engine and a data folder.
mod serve {
    /// The official E2B JS SDK building against `serve`.
    mod js_sdk;
    /// Our cloud client building against `serve`; restarts keep state.
    mod local;
}

/// `store`: the SQLite state: no secrets or loose modes on disk, restarts, paging, migrations,
/// deleting a running build.
mod store;

mod support;
