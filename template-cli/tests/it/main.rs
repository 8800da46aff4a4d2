//! The CLI's integration tests, one binary: the `sandbox-template` binary as a user runs it, one
//! module per command (`src/{check,json,dockerfile,serve}.rs`); `manage` covers the template
//! management commands (`list`, `status`, `exists`, `tags`, `delete`).

mod check;
mod dockerfile;
mod json;
mod manage;
mod serve;
mod support;
