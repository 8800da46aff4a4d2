//! The build client: create, upload what the service lacks, start, follow the log (`logs.rs`).
//! Its options and progress events are in `options.rs`.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::Instrument;

use super::api::{
    AliasResponse, AssignTagsRequest, AssignedTags, BuildStatus, CreateTemplateRequest, CreateTemplateResponse,
    DeleteTagsRequest, FileUploadInfo, TemplateTag,
};
use super::config::{ClientConfig, ConnectionOptions};
use super::error::{CloudError, ConfigError, UploadError, joined};
use super::http::{Call, RetryPolicy, Transport, encode_segment, permit};
use super::logs;
use super::options::{BuildEvent, CloudBuildOptions, EventHandler, emit};
use super::upload;
use crate::provider::Provider;
use crate::step::{CopyStep, StepKind};
use crate::template::Template;

/// What a finished (or started, for [`Client::build_in_background`]) build is called.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildInfo {
    /// Template ID.
    pub template_id: String,
    /// Build ID.
    pub build_id: String,
    /// The name passed to `build`.
    pub name: String,
    /// The tags of the build, as the service reports them.
    pub tags: Vec<String>,
}

/// A client of one build service (E2B, Novita, or a `sandbox-template serve`).
///
/// ```no_run
/// # async fn run() -> Result<(), sandbox_template_runtime::cloud::CloudError> {
/// use sandbox_template_runtime::{Provider, Template, wait_for_port};
/// use sandbox_template_runtime::cloud::{CloudBuildOptions, Client};
///
/// let template = Template::new()
///     .from_python_image("3.12")
///     .set_start_cmd("python -m http.server 8000", wait_for_port(8000));
/// let client = Client::from_env(Provider::E2b)?; // E2B_API_KEY
/// let info = client.build(&template, "my-template", &CloudBuildOptions::default().tag("v1")).await?;
/// println!("built {} ({})", info.template_id, info.build_id);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    transport: Transport,
}

/// Builds `template` as `name` on the service `provider`, configured from the environment.
/// Shorthand for [`Client::from_env`] + [`Client::build`].
pub async fn build(
    template: &Template,
    name: &str,
    provider: Provider,
    options: &CloudBuildOptions,
) -> Result<BuildInfo, CloudError> {
    Client::from_env(provider)?.build(template, name, options).await
}

struct Prepared {
    template: Arc<Template>,
    hashes: Vec<Option<String>>,
    body: String,
}

impl Client {
    /// A client for `config`.
    pub fn new(config: ClientConfig) -> Result<Self, CloudError> {
        Ok(Client { transport: Transport::new(config)? })
    }

    /// A client configured from the provider's environment variables.
    pub fn from_env(provider: Provider) -> Result<Self, CloudError> {
        Self::new(ClientConfig::from_env(provider)?)
    }

    /// A client configured from `options`, then the environment.
    pub fn with_options(provider: Provider, options: ConnectionOptions) -> Result<Self, CloudError> {
        Self::new(ClientConfig::with_options(provider, options)?)
    }

    /// The resolved configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.transport.config
    }

    fn provider(&self) -> Provider {
        self.transport.config.provider()
    }

    /// Builds `template` as `name` (`name` or `name:tag`) and waits until the service reports it
    /// ready, streaming the build log to `options.on_event`.
    ///
    /// Unlike the official SDKs, everything that can be checked locally is checked first
    /// (validation, every COPY source hashed, secrets read), so a bad template creates nothing
    /// on the service. Dropping the returned future cancels the build locally: uploads and
    /// archive writers stop, nothing keeps running.
    pub async fn build(
        &self,
        template: &Template,
        name: &str,
        options: &CloudBuildOptions,
    ) -> Result<BuildInfo, CloudError> {
        let span = tracing::info_span!("template_build", name, provider = %self.provider());
        let work = async {
            let prepared = self.prepare(template, name, options).await?;
            let info = self.create_upload_start(&prepared, name, options).await?;
            logs::follow(&self.transport_for(options), &prepared.template, &info, options).await?;
            Ok(info)
        };
        with_timeout(options.timeout, work.instrument(span)).await
    }

    /// Like [`Client::build`] but returns once the build has started.
    pub async fn build_in_background(
        &self,
        template: &Template,
        name: &str,
        options: &CloudBuildOptions,
    ) -> Result<BuildInfo, CloudError> {
        let span = tracing::info_span!("template_build", name, provider = %self.provider(), background = true);
        let work = async {
            let prepared = self.prepare(template, name, options).await?;
            self.create_upload_start(&prepared, name, options).await
        };
        with_timeout(options.timeout, work.instrument(span)).await
    }

    /// Waits for a build started with [`Client::build_in_background`], delivering its log.
    /// `template` maps a failing step back to its source line.
    pub async fn wait_for_build(
        &self,
        template: &Template,
        info: &BuildInfo,
        options: &CloudBuildOptions,
    ) -> Result<(), CloudError> {
        with_timeout(options.timeout, logs::follow(&self.transport_for(options), template, info, options)).await
    }

    /// One status request: state, and log lines from `logs_offset` (one page).
    pub async fn build_status(
        &self,
        template_id: &str,
        build_id: &str,
        logs_offset: usize,
    ) -> Result<BuildStatus, CloudError> {
        logs::status_page(&self.transport, template_id, build_id, logs_offset).await
    }

    /// Whether a template with this name (or `name:tag`) exists: also true when it belongs to
    /// another team (403), as in the SDKs.
    pub async fn exists(&self, name: &str) -> Result<bool, CloudError> {
        let call = Call {
            method: Method::GET,
            path: format!("/templates/aliases/{}", encode_segment(name)),
            query: vec![],
            body: None,
            retry: RetryPolicy::Idempotent,
        };
        match self.transport.json::<AliasResponse>(&call).await {
            Ok(_) => Ok(true),
            Err(CloudError::Api { status: 404, .. }) => Ok(false),
            Err(CloudError::Api { status: 403, .. }) => Ok(true),
            Err(e) => Err(e),
        }
    }

    /// Points `tags` at the build named `target` (`name:tag`).
    pub async fn assign_tags(&self, target: &str, tags: &[String]) -> Result<AssignedTags, CloudError> {
        let body = AssignTagsRequest { target: target.to_owned(), tags: tags.to_vec() };
        let call = Call {
            method: Method::POST,
            path: "/templates/tags".to_owned(),
            query: vec![],
            body: Some(to_json(&body)),
            retry: RetryPolicy::Idempotent,
        };
        self.transport.json(&call).await
    }

    /// Removes `tags` from the template `name`.
    pub async fn remove_tags(&self, name: &str, tags: &[String]) -> Result<(), CloudError> {
        let body = DeleteTagsRequest { name: name.to_owned(), tags: tags.to_vec() };
        let call = Call {
            method: Method::DELETE,
            path: "/templates/tags".to_owned(),
            query: vec![],
            body: Some(to_json(&body)),
            retry: RetryPolicy::Idempotent,
        };
        self.transport.send(&call).await.map(|_| ())
    }

    /// The tags of a template (by ID or name).
    pub async fn get_tags(&self, template: &str) -> Result<Vec<TemplateTag>, CloudError> {
        let call = Call {
            method: Method::GET,
            path: format!("/templates/{}/tags", encode_segment(template)),
            query: vec![],
            body: None,
            retry: RetryPolicy::Idempotent,
        };
        self.transport.json(&call).await
    }

    // ----- the build, step by step -------------------------------------------------------

    /// Validates, hashes every COPY source and renders the start body: nothing is sent.
    async fn prepare(
        &self,
        template: &Template,
        name: &str,
        options: &CloudBuildOptions,
    ) -> Result<Prepared, CloudError> {
        if name.trim().is_empty() {
            return Err(ConfigError::MissingTemplateName.into());
        }
        let mut template = template.clone();
        if options.skip_cache {
            template = template.force_rebuild();
        }
        template.validate_for(self.provider()).map_err(crate::Error::from)?;
        let template = Arc::new(template);
        let provider = self.provider();
        let t = template.clone();
        // Hashing reads every file: off the async threads.
        let hashing = tokio::task::spawn_blocking(move || -> Result<_, CloudError> {
            let hashes = t.files_hashes()?;
            let request = t.build_request_with_hashes(provider, &hashes)?;
            Ok((hashes, to_json(&request)))
        });
        let (hashes, body) = joined(hashing.await, "hashing the build context")??;
        Ok(Prepared { template, hashes, body })
    }

    async fn create_upload_start(
        &self,
        prepared: &Prepared,
        name: &str,
        options: &CloudBuildOptions,
    ) -> Result<BuildInfo, CloudError> {
        let transport = self.transport_for(options);
        let created = self.create(&transport, name, options).await?;
        emit(
            options,
            BuildEvent::Created { template_id: created.template_id.clone(), build_id: created.build_id.clone() },
        );
        tracing::info!(template_id = %created.template_id, build_id = %created.build_id, "template created");
        self.upload_all(&transport, prepared, &created.template_id, options).await?;
        let call = Call {
            method: Method::POST,
            path: format!(
                "/v2/templates/{}/builds/{}",
                encode_segment(&created.template_id),
                encode_segment(&created.build_id)
            ),
            query: vec![],
            body: Some(prepared.body.clone()),
            // Starting twice is not known to be harmless on every service: only repeat when the
            // service certainly did not act on the first request.
            retry: RetryPolicy::NotProcessed,
        };
        transport.send(&call).await?;
        emit(options, BuildEvent::Started);
        Ok(BuildInfo {
            template_id: created.template_id,
            build_id: created.build_id,
            name: name.to_owned(),
            tags: created.tags,
        })
    }

    async fn create(
        &self,
        transport: &Transport,
        name: &str,
        options: &CloudBuildOptions,
    ) -> Result<CreateTemplateResponse, CloudError> {
        let (cpu, memory, disk) = match self.provider() {
            Provider::E2b => (options.cpu_count, options.memory_mb, options.min_free_disk_mb),
            Provider::Novita => (Some(options.cpu_count.unwrap_or(2)), Some(options.memory_mb.unwrap_or(1024)), None),
        };
        let body = CreateTemplateRequest {
            name: Some(name.to_owned()),
            tags: (!options.tags.is_empty()).then(|| options.tags.clone()),
            alias: None,
            cpu_count: cpu,
            memory_mb: memory,
            min_free_disk_mb: disk,
        };
        let call = Call {
            method: Method::POST,
            path: "/v3/templates".to_owned(),
            query: vec![],
            body: Some(to_json(&body)),
            // A repeated create names the same template: the service keys templates by name
            // (a second request makes a new build of the same template, which is never started),
            // so retrying cannot create a second template.
            retry: RetryPolicy::Idempotent,
        };
        transport.json(&call).await
    }

    /// Asks which archives the service lacks and uploads those, `upload_concurrency` at a time.
    /// The tasks live in a `JoinSet`: dropping this future aborts them.
    async fn upload_all(
        &self,
        transport: &Transport,
        prepared: &Prepared,
        template_id: &str,
        options: &CloudBuildOptions,
    ) -> Result<(), CloudError> {
        let limit = Arc::new(Semaphore::new(options.upload_concurrency.max(1)));
        let mut tasks = JoinSet::new();
        let mut seen = std::collections::HashSet::new();
        for (index, hash) in prepared.hashes.iter().enumerate() {
            let Some(hash) = hash else { continue };
            if !seen.insert(hash.clone()) {
                continue; // same content as an earlier step: one upload serves both
            }
            let StepKind::Copy(copy) = &prepared.template.steps()[index].kind else { continue };
            let job = UploadJob {
                transport: transport.clone(),
                template: prepared.template.clone(),
                template_id: template_id.to_owned(),
                index,
                hash: hash.clone(),
                copy: copy.clone(),
                force: copy.force_upload.unwrap_or(false),
                upload_timeout: options.upload_timeout,
                on_event: options.on_event.clone(),
            };
            let limit = limit.clone();
            let span = tracing::info_span!("upload", step = index + 1, src = %copy.src);
            tasks.spawn(
                async move {
                    let _permit = permit(&limit).await;
                    job.run().await
                }
                .instrument(span),
            );
        }
        while let Some(done) = tasks.join_next().await {
            // An error returns at once: dropping `tasks` aborts the other uploads.
            joined(done, "uploading a build context")??;
        }
        Ok(())
    }

    fn transport_for(&self, options: &CloudBuildOptions) -> Transport {
        let mut t = self.transport.clone();
        if let Some(timeout) = options.request_timeout {
            t.request_timeout = (!timeout.is_zero()).then_some(timeout);
        }
        t
    }
}

struct UploadJob {
    transport: Transport,
    template: Arc<Template>,
    template_id: String,
    index: usize,
    hash: String,
    copy: CopyStep,
    force: bool,
    upload_timeout: Duration,
    on_event: Option<EventHandler>,
}

impl UploadJob {
    async fn run(self) -> Result<(), CloudError> {
        let step = self.index + 1;
        let src = &self.copy.src;
        let call = Call {
            method: Method::GET,
            path: format!("/templates/{}/files/{}", encode_segment(&self.template_id), encode_segment(&self.hash)),
            query: vec![],
            body: None,
            retry: RetryPolicy::Idempotent,
        };
        let info: FileUploadInfo = self.transport.json(&call).await.map_err(|e| match e {
            CloudError::Api { status, message } => {
                CloudError::Upload { src: src.clone(), source: UploadError::Rejected { status, message } }
            }
            other => other,
        })?;
        let fire = |event: BuildEvent| {
            if let Some(h) = &self.on_event {
                h(&event);
            }
        };
        let url = match info.url {
            Some(url) if !info.present || self.force => url,
            _ => {
                fire(BuildEvent::UploadSkipped { step, src: src.clone() });
                tracing::info!("already cached, not uploaded");
                return Ok(());
            }
        };
        let archive = {
            let _turn = permit(&self.transport.spooling).await;
            upload::spool(self.template.clone(), self.copy.clone()).await?
        };
        let total = archive.len;
        fire(BuildEvent::UploadStarted { step, src: src.clone(), bytes: total });
        let on_event = self.on_event.clone();
        let progress: Arc<dyn Fn(u64) + Send + Sync> = Arc::new(move |sent| {
            if let Some(h) = &on_event {
                h(&BuildEvent::UploadProgress { step, sent, total });
            }
        });
        let headers = info.headers.unwrap_or_default();
        upload::put(&self.transport, &url, &headers, &archive, Some(self.upload_timeout), progress)
            .await
            .map_err(|source| CloudError::Upload { src: src.clone(), source })?;
        fire(BuildEvent::UploadDone { step, src: src.clone(), bytes: total });
        tracing::info!(bytes = total, "uploaded");
        Ok(())
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    // Serializing these plain data types (strings, numbers, vectors) cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

async fn with_timeout<T>(
    timeout: Option<Duration>,
    work: impl std::future::Future<Output = Result<T, CloudError>>,
) -> Result<T, CloudError> {
    match timeout {
        Some(limit) => tokio::time::timeout(limit, work).await.map_err(|_| CloudError::BuildTimeout { limit })?,
        None => work.await,
    }
}
