//! The options of a cloud build and the progress events it reports.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::api::{BuildState, LogEntry};

/// Progress of a build, in order: (Novita: `ImageConfigUnavailable` when the base image's config
/// could not be read), `Created`, uploads (`UploadStarted`, `UploadProgress`…,
/// `UploadDone`, or `UploadSkipped`), `Started`, `Log`…, `Finished`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum BuildEvent {
    /// Novita: the base image's config could not be read, so the template is built without its
    /// ENV, WORKDIR and start command ([`Template::inherit_config`](crate::Template::inherit_config)).
    /// The build goes on, as with novita-sandbox (which logs this as a warning).
    ImageConfigUnavailable(super::ImageConfigWarning),
    /// The service created the template build.
    Created {
        /// Template ID.
        template_id: String,
        /// Build ID.
        build_id: String,
    },
    /// An archive is being uploaded.
    UploadStarted {
        /// 1-based step number (the service's numbering).
        step: usize,
        /// The COPY source.
        src: String,
        /// Archive size.
        bytes: u64,
    },
    /// Bytes sent so far for one upload.
    UploadProgress {
        /// 1-based step number.
        step: usize,
        /// Bytes sent.
        sent: u64,
        /// Archive size.
        total: u64,
    },
    /// The service already has this content.
    UploadSkipped {
        /// 1-based step number.
        step: usize,
        /// The COPY source.
        src: String,
    },
    /// An upload finished.
    UploadDone {
        /// 1-based step number.
        step: usize,
        /// The COPY source.
        src: String,
        /// Archive size.
        bytes: u64,
    },
    /// The build was started on the service.
    Started,
    /// A line of the build log (made [`terminal_safe`](super::terminal_safe): colours and other
    /// terminal controls removed), each delivered exactly once.
    Log(LogEntry),
    /// The build had ended but the service kept sending log pages; the client stopped reading
    /// them after this many lines (a bound, so a misbehaving service cannot keep it busy).
    LogTruncated {
        /// Lines delivered before the log was cut.
        lines: usize,
    },
    /// The build reached `ready` or `error`.
    Finished {
        /// The final state.
        status: BuildState,
    },
}

/// Receives [`BuildEvent`]s. Called from the build's task; keep it quick.
pub type EventHandler = Arc<dyn Fn(&BuildEvent) + Send + Sync>;

/// Options of [`Client::build`](super::Client::build).
#[derive(Clone)]
#[non_exhaustive]
pub struct CloudBuildOptions {
    /// Tags for the new build.
    pub tags: Vec<String>,
    /// CPU cores (Novita: default 2).
    pub cpu_count: Option<u32>,
    /// Memory in MiB (Novita: default 1024).
    pub memory_mb: Option<u32>,
    /// Minimum free disk after the build, in MiB (E2B only: a Novita build refuses it with
    /// [`Rule::NotOnProvider`](crate::Rule::NotOnProvider), as novita-sandbox has no such option).
    pub min_free_disk_mb: Option<u32>,
    /// Rebuild every step instead of using the service's cache.
    pub skip_cache: bool,
    /// Per-request timeout for API calls, overriding the client's.
    pub request_timeout: Option<Duration>,
    /// Timeout of each archive upload (default 1 hour, as the SDKs;
    /// [`UploadError::Timeout`](super::UploadError::Timeout)).
    pub upload_timeout: Duration,
    /// Give up on the whole build (uploads, the build and its log) after this long
    /// ([`CloudError::BuildTimeout`](super::CloudError::BuildTimeout)); `None`: wait as long as
    /// it takes. Default [`DEFAULT_BUILD_TIMEOUT`](Self::DEFAULT_BUILD_TIMEOUT), 60 minutes.
    pub timeout: Option<Duration>,
    /// How many archives are prepared and uploaded at once (default 4).
    pub upload_concurrency: usize,
    /// Status poll interval (default 200 ms, as the SDKs).
    pub poll_interval: Duration,
    /// Progress callback.
    pub on_event: Option<EventHandler>,
}

impl Default for CloudBuildOptions {
    fn default() -> Self {
        CloudBuildOptions {
            tags: Vec::new(),
            cpu_count: None,
            memory_mb: None,
            min_free_disk_mb: None,
            skip_cache: false,
            request_timeout: None,
            upload_timeout: Duration::from_secs(3600),
            timeout: Some(Self::DEFAULT_BUILD_TIMEOUT),
            upload_concurrency: 4,
            poll_interval: Duration::from_millis(200),
            on_event: None,
        }
    }
}

impl fmt::Debug for CloudBuildOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloudBuildOptions")
            .field("tags", &self.tags)
            .field("cpu_count", &self.cpu_count)
            .field("memory_mb", &self.memory_mb)
            .field("min_free_disk_mb", &self.min_free_disk_mb)
            .field("skip_cache", &self.skip_cache)
            .field("timeout", &self.timeout)
            .field("upload_concurrency", &self.upload_concurrency)
            .field("on_event", &self.on_event.as_ref().map(|_| "<callback>"))
            .finish_non_exhaustive()
    }
}

impl CloudBuildOptions {
    /// The default overall build timeout: 60 minutes. The SDKs have none; a client that follows
    /// a build which never ends (or a service that never says so) would wait forever. Raise it
    /// with [`timeout`](Self::timeout), or remove it with [`no_timeout`](Self::no_timeout).
    ///
    /// ```
    /// use std::time::Duration;
    /// use sandbox_template_runtime::cloud::CloudBuildOptions;
    ///
    /// assert_eq!(CloudBuildOptions::default().timeout, Some(Duration::from_secs(3600)));
    /// let long = CloudBuildOptions::default().timeout(Duration::from_secs(3 * 3600));
    /// assert_eq!(long.timeout, Some(Duration::from_secs(10800)));
    /// assert_eq!(CloudBuildOptions::default().no_timeout().timeout, None);
    /// ```
    pub const DEFAULT_BUILD_TIMEOUT: Duration = Duration::from_secs(60 * 60);

    /// Adds a tag.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }
    /// Sets CPU cores.
    pub fn cpu_count(mut self, n: u32) -> Self {
        self.cpu_count = Some(n);
        self
    }
    /// Sets memory in MiB.
    pub fn memory_mb(mut self, mb: u32) -> Self {
        self.memory_mb = Some(mb);
        self
    }
    /// Sets the minimum free disk in MiB.
    pub fn min_free_disk_mb(mut self, mb: u32) -> Self {
        self.min_free_disk_mb = Some(mb);
        self
    }
    /// Rebuilds everything.
    pub fn skip_cache(mut self, yes: bool) -> Self {
        self.skip_cache = yes;
        self
    }
    /// Sets the overall build timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
    /// Waits for the build as long as it takes (no overall timeout).
    pub fn no_timeout(mut self) -> Self {
        self.timeout = None;
        self
    }
    /// Sets the per-request timeout.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = Some(timeout);
        self
    }
    /// Sets how many uploads run at once (at least 1).
    pub fn upload_concurrency(mut self, n: usize) -> Self {
        self.upload_concurrency = n.max(1);
        self
    }
    /// Sets the status poll interval.
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }
    /// Receives progress events.
    pub fn on_event(mut self, handler: impl Fn(&BuildEvent) + Send + Sync + 'static) -> Self {
        self.on_event = Some(Arc::new(handler));
        self
    }
}

/// Hands `event` to the build's handler, if it has one.
pub(super) fn emit(options: &CloudBuildOptions, event: BuildEvent) {
    if let Some(h) = &options.on_event {
        h(&event);
    }
}
