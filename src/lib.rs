//! # sandbox-template
//!
//! Cloud sandbox templates (the images [E2B](https://e2b.dev) and [Novita](https://novita.ai)
//! sandboxes boot from) as compile-checked Rust.
//!
//! ```
//! use sandbox_template::{Template, wait_for_port};
//!
//! let template = Template::new()
//!     .from_python_image("3.12")
//!     .pip_install(["fastapi", "uvicorn"])
//!     .set_start_cmd("uvicorn main:app --port 8000", wait_for_port(8000));
//! assert!(template.validate().is_ok());
//! ```
//!
//! The `template!` macro checks the same template while `cargo build` runs and expands into the
//! builder calls above; see the crate README for the DSL.

pub use template_runtime::*;

/// Implementation details used by `template!` expansions. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use template_runtime;
}
