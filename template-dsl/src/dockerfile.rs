//! `from dockerfile "path";`: the Dockerfile is read and converted at compile time.
//!
//! ADAPTER. The converter is `template_runtime::dockerfile::convert`, written on the `dockerfile`
//! branch. Until it is merged, this module mirrors its interface (`convert`, `DockerfileOptions`,
//! `Converted`, `ConvertedStep`, `DockerfileWarning`, `DockerfileError`, same fields) and
//! `convert` reports that Dockerfile import is not available yet. When it lands, replace this
//! whole file with
//! `pub use template_runtime::dockerfile::{convert, Converted, DockerfileError, DockerfileOptions};`
//! (the checker only uses those names and their public fields).

use template_runtime::{ReadyCmd, StepKind};

/// Build arguments (`ARG` values) used while converting.
#[derive(Clone, Debug, Default)]
pub struct DockerfileOptions {
    /// `--build-arg NAME=VALUE` pairs.
    pub build_args: Vec<(String, String)>,
}

/// One converted instruction.
#[derive(Clone, Debug)]
pub struct ConvertedStep {
    /// The step.
    pub kind: StepKind,
    /// 1-based Dockerfile line.
    pub line: usize,
}

/// A Dockerfile as a template.
#[derive(Clone, Debug)]
pub struct Converted {
    /// `FROM`.
    pub base_image: String,
    /// Steps, in order.
    pub steps: Vec<ConvertedStep>,
    /// `CMD`/`ENTRYPOINT`.
    pub start_cmd: Option<String>,
    /// `HEALTHCHECK` or a default.
    pub ready_cmd: Option<ReadyCmd>,
    /// Instructions ignored with a warning.
    pub warnings: Vec<DockerfileWarning>,
}

/// Something in the Dockerfile that was skipped.
#[derive(Clone, Debug)]
pub struct DockerfileWarning {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What was skipped and why.
    pub message: String,
}

/// Why a Dockerfile cannot be converted.
#[derive(Clone, Debug)]
pub struct DockerfileError {
    /// 1-based line (0: the file as a whole).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// What to write instead.
    pub help: Option<String>,
    /// The text of the offending line.
    pub source_line: String,
    /// The Dockerfile's path.
    pub file: Option<std::path::PathBuf>,
}

/// Converts Dockerfile text (stand-in until `template_runtime::dockerfile` is merged).
pub fn convert(_text: &str, _options: &DockerfileOptions) -> Result<Converted, DockerfileError> {
    Err(DockerfileError {
        line: 0,
        column: 0,
        message: "Dockerfile import is not available in this build".into(),
        help: Some("convert the Dockerfile into `template!` statements for now".into()),
        source_line: String::new(),
        file: None,
    })
}
