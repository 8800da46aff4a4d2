//! The CLI's integration tests, one binary: the `sandbox-template` binary as a user runs it, one
//! module per command (`src/{build,check,json,dockerfile,import,serve}.rs`); `manage` covers the template
//! management commands (`list`, `status`, `exists`, `tags`, `delete`); `help` every command's
//! `--help`; `coverage` the CLI column of docs/coverage.md.

mod build;
mod check;
mod coverage;
mod dockerfile;
mod help;
mod import;
mod json;
mod manage;
mod serve;
mod support;
