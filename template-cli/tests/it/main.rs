//! The CLI's integration tests, one binary: the `sandbox-template` binary as a user runs it, one
//! module per command (`src/{check,json,dockerfile,serve}.rs`).

mod check;
mod dockerfile;
mod json;
mod serve;
mod support;
