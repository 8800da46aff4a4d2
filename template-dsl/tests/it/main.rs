//! The DSL crate's integration tests, one binary (one link, one process; `cargo test --test it`).

/// `expand`, the crate's entry point: what the expansion contains.
mod expand;
/// The parser, checker and `.tmpl` loader on arbitrary input: diagnostics, never a panic.
mod never_panics;
/// The forms of SDK methods some providers lack, and the provider rules at compile time.
mod parity;
/// `write`: arbitrary build requests as `.tmpl` text, read back into the same request or refused.
mod write;
