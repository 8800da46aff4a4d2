//! Running a started build, behind the [`BuildRunner`] trait: [`EngineRunner`] builds the
//! template with the local container engine (`sandbox-template serve`); [`CheckingRunner`] builds
//! nothing, but unpacks and checks every COPY archive and logs each step (tests, benchmarks).
//!
//! ```
//! use sandbox_template_server::runner::{BoxFuture, BuildJob, BuildLog, BuildRunner, StepFailure};
//!
//! /// Fails every build at its first step.
//! struct Refuse;
//!
//! impl BuildRunner for Refuse {
//!     fn run<'a>(&'a self, _: &'a BuildJob, log: &'a BuildLog) -> BoxFuture<'a, Result<(), StepFailure>> {
//!         Box::pin(async move {
//!             log.info(Some("1"), "refusing");
//!             Err(StepFailure { step: Some("1".to_owned()), message: "builds are off".to_owned() })
//!         })
//!     }
//! }
//! ```

mod archive;
mod checking;
mod engine;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use sandbox_template_runtime::cloud::LogEntry;
use sandbox_template_runtime::wire::BuildRequest;

pub use archive::{DEFAULT_MAX_ENTRIES, DEFAULT_MAX_PATH_LEN, DEFAULT_MAX_UNPACKED_BYTES, UnpackLimits};
pub(crate) use archive::{check_limits, unpack, verify};
pub use checking::CheckingRunner;
pub use engine::{EngineRunner, NO_IMAGE_BUILT, READY_TIMEOUT};

use crate::ids::now_rfc3339;
use crate::store::Store;

/// A boxed future, so the trait stays object safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A build to run.
///
/// Its `Debug` output leaves the registry credentials out (`fromImageRegistry` shows its `type`
/// only): a job may be logged, its password never is.
///
/// ```
/// use sandbox_template_server::runner::{BuildJob, Cancel};
/// use sandbox_template_runtime::wire::BuildRequest;
///
/// let request: BuildRequest = serde_json::from_value(serde_json::json!({
///     "fromImage": "registry.example.com/base:1",
///     "fromImageRegistry": {"type": "registry", "username": "me", "password": "hunter2"},
/// }))
/// .unwrap();
/// let job = BuildJob {
///     template_id: "tpl1".to_owned(),
///     build_id: "b1".to_owned(),
///     template_name: "app".to_owned(),
///     request,
///     archives: vec![],
///     cancel: Cancel::new(),
/// };
/// assert!(!format!("{job:?}").contains("hunter2"));
/// ```
#[derive(Clone)]
pub struct BuildJob {
    /// Template ID.
    pub template_id: String,
    /// Build ID.
    pub build_id: String,
    /// Template name (without tag).
    pub template_name: String,
    /// The start request.
    pub request: BuildRequest,
    /// For each step (same index as `request.steps`), the uploaded archive of a COPY step.
    pub archives: Vec<Option<PathBuf>>,
    /// Set when the build must stop (its template was deleted). A runner that runs for long
    /// watches it ([`Cancel::cancelled`]) and stops what it started; the server waits a bounded
    /// time for [`BuildRunner::run`] to return, then removes the build's files.
    pub cancel: Cancel,
}

impl std::fmt::Debug for BuildJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `BuildRequest`'s own Debug prints `fromImageRegistry` whole, password included.
        let mut request = self.request.clone();
        request.from_image_registry = request.from_image_registry.map(|registry| {
            let kind = registry.get("type").cloned().unwrap_or(serde_json::Value::Null);
            serde_json::json!({"type": kind, "credentials": "<redacted>"})
        });
        f.debug_struct("BuildJob")
            .field("template_id", &self.template_id)
            .field("build_id", &self.build_id)
            .field("template_name", &self.template_name)
            .field("request", &request)
            .field("archives", &self.archives)
            .field("cancel", &self.cancel)
            .finish()
    }
}

/// Asks a running build to stop. Clones share one flag.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use sandbox_template_server::runner::Cancel;
///
/// let cancel = Cancel::new();
/// let watcher = cancel.clone();
/// let waiting = tokio::spawn(async move { watcher.cancelled().await });
/// cancel.cancel();
/// waiting.await.unwrap();
/// assert!(cancel.is_cancelled());
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Cancel(Arc<tokio::sync::watch::Sender<bool>>);

impl Default for Cancel {
    fn default() -> Self {
        Cancel(Arc::new(tokio::sync::watch::channel(false).0))
    }
}

impl Cancel {
    /// Not cancelled yet.
    pub fn new() -> Self {
        Cancel::default()
    }

    /// Cancels (every clone sees it).
    pub fn cancel(&self) {
        self.0.send_replace(true);
    }

    /// Whether [`Cancel::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        *self.0.borrow()
    }

    /// Returns once [`Cancel::cancel`] is called (at once if it was).
    pub async fn cancelled(&self) {
        let mut seen = self.0.subscribe();
        // The sender lives in `self`: `wait_for` cannot fail while this borrow is held.
        let _ = seen.wait_for(|cancelled| *cancelled).await;
    }
}

/// Why a build failed: the step as the API names it (`base`, `1`.., `finalize`) and a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepFailure {
    /// The failing step.
    pub step: Option<String>,
    /// What went wrong.
    pub message: String,
}

/// Appends lines to a build's log (what clients page through with `logsOffset`).
#[derive(Clone)]
pub struct BuildLog {
    store: Store,
    build_id: String,
}

impl BuildLog {
    pub(crate) fn new(store: Store, build_id: &str) -> Self {
        BuildLog { store, build_id: build_id.to_owned() }
    }

    /// Appends one line (queued: callable from async code and from blocking threads alike).
    pub fn line(&self, level: &str, step: Option<&str>, message: impl Into<String>) {
        let entry = LogEntry {
            timestamp: now_rfc3339(),
            level: level.to_owned(),
            message: message.into(),
            step: step.map(str::to_owned),
        };
        self.store.append_log(&self.build_id, entry);
    }

    /// Appends an `info` line.
    pub fn info(&self, step: Option<&str>, message: impl Into<String>) {
        self.line("info", step, message);
    }
}

/// Runs builds. Called once per started build, on its own task; the build's status is set from
/// the result (`ready` / `error` with `reason.step`).
pub trait BuildRunner: Send + Sync + 'static {
    /// Runs `job`, writing progress to `log`.
    fn run<'a>(&'a self, job: &'a BuildJob, log: &'a BuildLog) -> BoxFuture<'a, Result<(), StepFailure>>;

    /// Removes what builds of the template `template_name` left outside the data folder (an
    /// engine's image), once its template is deleted and its builds have stopped. Nothing by
    /// default.
    fn remove_image<'a>(&'a self, template_name: &'a str) -> BoxFuture<'a, ()> {
        let _ = template_name;
        Box::pin(async {})
    }
}
