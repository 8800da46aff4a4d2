//! Shared by the server's tests: a seeded server and client for the `api` tests, and the engine
//! rules of the `serve` tests.

pub mod cloud;
// One copy of the engine rule (which base image, fail in CI, skip loudly elsewhere, one engine
// test at a time) for both crates' engine tests: the runtime's, read from its test folder (tests
// are not packaged, so this path never leaves the repository).
#[path = "../../../../template-runtime/tests/it/support/engine.rs"]
pub mod engine;
