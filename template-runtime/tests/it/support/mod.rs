//! Shared by the runtime's tests: file trees for the `context` tests, and the engine rules of the
//! tests that build images.

pub mod context;
/// Needs the `local` feature, like the tests that use it.
#[cfg(feature = "local")]
pub mod engine;
/// A recording stand-in for the build API (needs `cloud`, like the tests that use it).
#[cfg(feature = "cloud")]
pub mod fake_api;
/// A real `docker-registry` on loopback and novita-sandbox for the image-config tests (needs
/// `cloud`, like the tests that use it).
#[cfg(feature = "cloud")]
pub mod registry;
