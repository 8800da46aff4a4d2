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
    DeleteTagsRequest, FileUploadInfo, TemplateDetails, TemplateInfo, TemplateListAnswer, TemplateTag,
};
use super::config::{ClientConfig, ConnectionOptions};
use super::error::{CloudError, ConfigError, UploadError, joined};
use super::http::{Call, RetryPolicy, Transport, encode_segment, parse_json, permit};
use super::image_config::ImageConfigClient;
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
    /// Reads Novita base images' configs ([`Template::inherit_config`]).
    images: ImageConfigClient,
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

/// What [`Client::list_templates_page`] asks for.
///
/// ```
/// use sandbox_template_runtime::cloud::TemplateListQuery;
///
/// let query = TemplateListQuery::default().limit(50);
/// assert_eq!(query.limit, Some(50));
/// ```
///
/// Novita also lists snapshot templates, as `Template.list({ templateType: 'snapshot_template' })`:
///
/// ```
/// use sandbox_template_runtime::cloud::{TemplateListQuery, TemplateType};
///
/// let snapshots = TemplateListQuery::default().template_type(TemplateType::Snapshot);
/// assert_eq!(snapshots.template_type.map(TemplateType::as_str), Some("snapshot_template"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TemplateListQuery {
    /// Templates per page, 1 to 100 (default: 100 on E2B, 20 on Novita, as their SDKs).
    pub limit: Option<u32>,
    /// Where to start: [`TemplatePage::next`] of the page before (default: the first page).
    pub cursor: Option<PageCursor>,
    /// Which kind of Novita template to list (default: [`TemplateType::Build`], as novita-sandbox).
    /// E2B has no such filter: setting it for E2B is [`ConfigError::TemplateTypeOnE2b`].
    pub template_type: Option<TemplateType>,
}

/// The kinds of template Novita lists apart (novita-sandbox's `TemplateType`, the API's
/// `template_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TemplateType {
    /// Templates built from a template definition (`template_build`).
    Build,
    /// Templates made from a sandbox snapshot (`snapshot_template`).
    Snapshot,
}

impl TemplateType {
    /// The API's name for the kind: `template_build` or `snapshot_template`.
    pub fn as_str(self) -> &'static str {
        match self {
            TemplateType::Build => "template_build",
            TemplateType::Snapshot => "snapshot_template",
        }
    }
}

impl TemplateListQuery {
    /// Lists only templates of this kind (Novita only).
    pub fn template_type(mut self, kind: TemplateType) -> Self {
        self.template_type = Some(kind);
        self
    }
    /// Sets the page size (1 to 100).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }
    /// Starts at `cursor`.
    pub fn cursor(mut self, cursor: PageCursor) -> Self {
        self.cursor = Some(cursor);
        self
    }
}

/// Where a page of templates starts: E2B's `nextToken`, or Novita's page number, as text.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PageCursor(pub String);

/// One page of templates ([`Client::list_templates_page`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplatePage {
    /// The templates on this page.
    pub templates: Vec<TemplateInfo>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<PageCursor>,
}

struct Prepared {
    template: Arc<Template>,
    hashes: Vec<Option<String>>,
    body: String,
}

impl Client {
    /// A client for `config`.
    pub fn new(config: ClientConfig) -> Result<Self, CloudError> {
        Ok(Client { transport: Transport::new(config)?, images: ImageConfigClient::new()? })
    }

    /// Reads base images' configs with `images` (its options and cache) instead of a client of
    /// its own: for Novita builds of templates that inherit their image's config
    /// ([`Template::inherit_config`]).
    pub fn with_image_config_client(mut self, images: ImageConfigClient) -> Self {
        self.images = images;
        self
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

    /// One status request: state, and log lines from `logs_offset` (one page), as the service
    /// sent them (pass their text through [`terminal_safe`](super::terminal_safe) before printing
    /// it).
    pub async fn build_status(
        &self,
        template_id: &str,
        build_id: &str,
        logs_offset: usize,
    ) -> Result<BuildStatus, CloudError> {
        logs::status_page(&self.transport, template_id, build_id, logs_offset).await
    }

    /// One page of the team's templates: `GET /v2/templates`. E2B is asked with `limit` (default
    /// 100, as the Python SDK) and `nextToken`; Novita with `template_type` (default `template_build`),
    /// `page` and `limit` (default 1 and 20, as novita-sandbox's `Template.list`). Pass
    /// [`TemplatePage::next`] back in [`TemplateListQuery::cursor`] for the page after.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), sandbox_template_runtime::cloud::CloudError> {
    /// use sandbox_template_runtime::Provider;
    /// use sandbox_template_runtime::cloud::{Client, TemplateListQuery};
    ///
    /// let client = Client::from_env(Provider::Novita)?;
    /// let mut query = TemplateListQuery::default().limit(50);
    /// loop {
    ///     let page = client.list_templates_page(&query).await?;
    ///     for t in &page.templates {
    ///         println!("{} {}", t.template_id, t.names.join(","));
    ///     }
    ///     match page.next {
    ///         Some(cursor) => query = query.cursor(cursor),
    ///         None => break,
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list_templates_page(&self, query: &TemplateListQuery) -> Result<TemplatePage, CloudError> {
        if let Some(limit) = query.limit
            && !(1..=100).contains(&limit)
        {
            return Err(ConfigError::InvalidListLimit { limit }.into());
        }
        let mut params: Vec<(&str, String)> = Vec::new();
        let kind = query.template_type.unwrap_or(TemplateType::Build);
        let page_number = match self.provider() {
            Provider::E2b => {
                if query.template_type.is_some() {
                    return Err(ConfigError::TemplateTypeOnE2b.into());
                }
                if let Some(cursor) = &query.cursor {
                    params.push(("nextToken", cursor.0.clone()));
                }
                params.push(("limit", query.limit.unwrap_or(100).to_string()));
                None
            }
            Provider::Novita => {
                let page = match &query.cursor {
                    Some(cursor) => cursor.0.parse::<u64>().map_err(|_| ConfigError::InvalidCursor {
                        cursor: crate::cloud::terminal_safe(&cursor.0).into_owned(),
                    })?,
                    None => 1,
                };
                params.push(("template_type", kind.as_str().to_owned()));
                params.push(("page", page.to_string()));
                params.push(("limit", query.limit.unwrap_or(20).to_string()));
                Some(page)
            }
        };
        let call = Call {
            method: Method::GET,
            path: "/v2/templates".to_owned(),
            query: params,
            body: None,
            retry: RetryPolicy::Idempotent,
        };
        let answer = self.transport.send(&call).await?;
        Ok(match parse_json::<TemplateListAnswer>(&call, &answer.body)? {
            TemplateListAnswer::E2b(templates) => {
                let next = answer
                    .headers
                    .get("x-next-token")
                    .and_then(|v| v.to_str().ok())
                    .filter(|v| !v.is_empty())
                    .map(|v| PageCursor(v.to_owned()));
                TemplatePage { templates, next }
            }
            TemplateListAnswer::Novita(page) => {
                let current = page.page.or(page_number).unwrap_or(1);
                let more = page.total_pages.is_some_and(|total| current < total);
                let mut templates = page.templates;
                // novita-sandbox's `toTemplateInfo`: the type asked for, when the item names none.
                for t in &mut templates {
                    t.template_type.get_or_insert_with(|| kind.as_str().to_owned());
                }
                TemplatePage { templates, next: more.then(|| PageCursor((current + 1).to_string())) }
            }
        })
    }

    /// Every template of the team, page after page (100 a page), at most
    /// [`MAX_LIST_PAGES`](Self::MAX_LIST_PAGES) pages.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), sandbox_template_runtime::cloud::CloudError> {
    /// use sandbox_template_runtime::Provider;
    /// use sandbox_template_runtime::cloud::Client;
    ///
    /// for t in Client::from_env(Provider::E2b)?.list_templates().await? {
    ///     println!("{} {:?}", t.template_id, t.names);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list_templates(&self) -> Result<Vec<TemplateInfo>, CloudError> {
        let mut query = TemplateListQuery::default().limit(100);
        let mut all = Vec::new();
        for _ in 0..Self::MAX_LIST_PAGES {
            let page = self.list_templates_page(&query).await?;
            all.extend(page.templates);
            match page.next {
                Some(cursor) => query = query.cursor(cursor),
                None => return Ok(all),
            }
        }
        tracing::warn!(templates = all.len(), "template list cut after {} pages", Self::MAX_LIST_PAGES);
        Ok(all)
    }

    /// The most pages [`Client::list_templates`] reads (100 000 templates): a service that always
    /// names a next page cannot keep it reading forever.
    pub const MAX_LIST_PAGES: usize = 1000;

    /// A template and its builds: `GET /templates/{templateID}` (by ID or name), as
    /// novita-sandbox's `Template.get` (no query) and the E2B Python SDK's generated
    /// `get_templates_template_id` (`limit=100`: the first 100 builds) send it.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), sandbox_template_runtime::cloud::CloudError> {
    /// use sandbox_template_runtime::Provider;
    /// use sandbox_template_runtime::cloud::Client;
    ///
    /// let details = Client::from_env(Provider::Novita)?.get_template("my-template").await?;
    /// println!("last build {} ({:?})", details.template.build_id, details.template.build_status);
    /// # Ok(()) }
    /// ```
    pub async fn get_template(&self, template: &str) -> Result<TemplateDetails, CloudError> {
        if template.trim().is_empty() {
            return Err(ConfigError::MissingTemplateName.into());
        }
        let query = match self.provider() {
            Provider::E2b => vec![("limit", "100".to_owned())],
            Provider::Novita => vec![],
        };
        let call = Call {
            method: Method::GET,
            path: format!("/templates/{}", encode_segment(template)),
            query,
            body: None,
            retry: RetryPolicy::Idempotent,
        };
        let mut details: TemplateDetails = self.transport.json(&call).await?;
        if details.template.build_id.is_empty()
            && let Some(newest) = details.builds.first()
        {
            details.template.build_id = newest.build_id.clone();
            details.template.build_status = Some(newest.status);
        }
        Ok(details)
    }

    /// Deletes a template (by ID or name) and its builds: `DELETE /templates/{templateID}`.
    /// `Ok(false)` when there was no such template (404), as novita-sandbox's `deleteTemplate`
    /// and the E2B SDKs' `deleteSnapshot`.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), sandbox_template_runtime::cloud::CloudError> {
    /// use sandbox_template_runtime::Provider;
    /// use sandbox_template_runtime::cloud::Client;
    ///
    /// if !Client::from_env(Provider::E2b)?.delete_template("old-template").await? {
    ///     println!("there was no template old-template");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn delete_template(&self, template: &str) -> Result<bool, CloudError> {
        if template.trim().is_empty() {
            return Err(ConfigError::MissingTemplateName.into());
        }
        let call = Call {
            method: Method::DELETE,
            path: format!("/templates/{}", encode_segment(template)),
            query: vec![],
            body: None,
            // A repeated DELETE after a lost answer would say "not found" for a template this
            // call deleted: only repeat when the first certainly did not arrive.
            retry: RetryPolicy::NotProcessed,
        };
        match self.transport.send(&call).await {
            Ok(_) => Ok(true),
            Err(CloudError::Api { status: 404, .. }) => Ok(false),
            Err(e) => Err(e),
        }
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
        if let Err(rule) = crate::rules::min_free_disk_mb(self.provider(), options.min_free_disk_mb) {
            let refused = crate::ValidationErrors(vec![crate::ValidationError { rule, location: None }]);
            return Err(crate::Error::from(refused).into());
        }
        // Novita: the base image's ENV, WORKDIR and start command, as novita-sandbox's `build`
        // applies them (`resolveInheritedConfig`); a failed read is a warning, not a failure.
        if template.inherits_config() && self.provider() == Provider::Novita {
            let resolved = self.images.resolve(template, self.provider()).await;
            template = resolved.template;
            match resolved.warning {
                Some(warning) => {
                    tracing::warn!("{warning}");
                    emit(options, BuildEvent::ImageConfigUnavailable(warning));
                }
                // What the image added is checked like the template's own.
                None => template.validate_for(self.provider()).map_err(crate::Error::from)?,
            }
        }
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
            // `min_free_disk_mb` was refused in `prepare`: novita-sandbox has no such option.
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
