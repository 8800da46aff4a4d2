//! Shared by the server's tests: a seeded server and client for the `api` tests, and the engine
//! rules of the `serve` tests.

pub mod cloud;
pub mod engine;
