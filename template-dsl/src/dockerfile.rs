//! `from dockerfile "path";`: the Dockerfile is read and converted at compile time by the
//! runtime's converter, the one `Template::from_dockerfile` uses, so the macro and the runtime
//! import agree on every instruction.

pub use sandbox_template_runtime::dockerfile::{Converted, DockerfileError, DockerfileOptions, convert};
