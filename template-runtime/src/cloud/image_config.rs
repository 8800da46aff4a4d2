//! Reading a base image's config from its registry through the OCI distribution API, for
//! image-config inheritance on Novita ([`Template::inherit_config`]), as novita-sandbox 2.1.1's
//! `fetchImageConfig` reads it: the manifest (a multi-arch index resolved to `linux/amd64`),
//! then the config blob it names.
//!
//! Like novita-sandbox: HTTPS (plain HTTP only for registries named in
//! [`ImageConfigOptions::plain_http_registry`]); Docker Hub names (`python:3.12` is
//! `registry-1.docker.io/library/python`); an anonymous (or, with the template's username and
//! password, authenticated) bearer token from Docker Hub's and GHCR's token services; basic auth
//! with the template's username and password elsewhere; 3 attempts for 429/5xx and network
//! failures; every answer cached per image and credentials for the life of the client, failures
//! included. A failed read is not fatal: [`ImageConfigClient::resolve`] returns the template
//! unchanged with an [`ImageConfigWarning`].
//!
//! Unlike it, every answer is read up to a bound (manifests 4 MiB, config blobs 16 MiB, tokens
//! 1 MiB), a config blob must match its digest, and redirects (registries send blob reads to
//! their storage) are followed at most 5 times and never from HTTPS to plain HTTP; reqwest drops
//! the `Authorization` header when a redirect leaves the host. Config blobs are also cached by
//! digest, so two tags of one image read their config once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use sha2::{Digest, Sha256};

use super::error::error_chain;
use super::http::{read_capped, retry_after};
use super::terminal::terminal_safe;
use crate::image_config::ImageConfig;
use crate::image_ref::ImageRef;
use crate::provider::Provider;
use crate::registry::RegistryCredentials;
use crate::template::Template;

/// What the manifest request accepts: image manifests and indexes, Docker's and OCI's.
const MANIFEST_TYPES: &str = "application/vnd.docker.distribution.manifest.v2+json, \
     application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.oci.image.index.v1+json";
/// Docker Hub's registry host (a name without a domain is read from it).
const DOCKER_HUB: &str = "registry-1.docker.io";
/// The most of a manifest or index that is read (the distribution registry's own limit).
const MAX_MANIFEST: usize = 4 << 20;
/// The most of a config blob that is read.
const MAX_CONFIG: usize = 16 << 20;
/// The most of a token answer that is read.
const MAX_TOKEN: usize = 1 << 20;
/// Redirects followed per request.
const MAX_REDIRECTS: usize = 5;

/// A registry's token service: where an (anonymous or basic-authenticated) bearer token for
/// `repository:NAME:pull` is asked for before reading the registry.
///
/// ```
/// use sandbox_template_runtime::cloud::TokenService;
/// let hub = TokenService::new("registry-1.docker.io", "https://auth.docker.io/token", "registry.docker.io");
/// assert_eq!(hub.registry, "registry-1.docker.io");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenService {
    /// The registry host it serves (`registry-1.docker.io`, `ghcr.io`, `localhost:5000`).
    pub registry: String,
    /// The token endpoint (`https://auth.docker.io/token`).
    pub url: String,
    /// The `service` parameter (`registry.docker.io`).
    pub service: String,
}

impl TokenService {
    /// A token service for `registry`.
    pub fn new(registry: impl Into<String>, url: impl Into<String>, service: impl Into<String>) -> Self {
        TokenService { registry: registry.into(), url: url.into(), service: service.into() }
    }
}

/// Options of an [`ImageConfigClient`].
///
/// ```
/// use std::time::Duration;
/// use sandbox_template_runtime::cloud::ImageConfigOptions;
/// let options = ImageConfigOptions::default().request_timeout(Duration::from_secs(5));
/// assert_eq!(options.request_timeout, Duration::from_secs(5));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ImageConfigOptions {
    /// Time for one request, connecting included (default 30 s, as novita-sandbox).
    pub request_timeout: Duration,
    /// Attempts per registry read (default 3, as novita-sandbox); the token request is tried once.
    pub attempts: u32,
    /// The wait before the second attempt, doubled for each later one (default 1 s, as
    /// novita-sandbox); a `Retry-After` of the registry replaces it (at most 10 s).
    pub retry_delay: Duration,
    /// Token services by registry host (default: Docker Hub's and GHCR's, as novita-sandbox).
    pub token_services: Vec<TokenService>,
    /// PEM certificates trusted besides the built-in roots (a registry with a private CA).
    pub root_certificates: Vec<Vec<u8>>,
    /// Registry hosts read over plain HTTP (Docker's `insecure-registries`; novita-sandbox reads
    /// every registry over HTTPS, so none by default).
    pub plain_http: Vec<String>,
}

impl Default for ImageConfigOptions {
    fn default() -> Self {
        ImageConfigOptions {
            request_timeout: Duration::from_secs(30),
            attempts: 3,
            retry_delay: Duration::from_secs(1),
            token_services: vec![
                TokenService::new(DOCKER_HUB, "https://auth.docker.io/token", "registry.docker.io"),
                TokenService::new("ghcr.io", "https://ghcr.io/token", "ghcr.io"),
            ],
            root_certificates: Vec::new(),
            plain_http: Vec::new(),
        }
    }
}

impl ImageConfigOptions {
    /// Sets the time for one request.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }
    /// Sets the attempts per read (at least 1) and the first retry's wait.
    pub fn retries(mut self, attempts: u32, first_delay: Duration) -> Self {
        self.attempts = attempts.max(1);
        self.retry_delay = first_delay;
        self
    }
    /// Adds (or replaces) the token service of `service.registry`.
    pub fn token_service(mut self, service: TokenService) -> Self {
        self.token_services.retain(|s| s.registry != service.registry);
        self.token_services.push(service);
        self
    }
    /// Trusts a PEM certificate (a private CA, or a registry's self-signed certificate).
    pub fn root_certificate(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates.push(pem.into());
        self
    }
    /// Reads the registry `host` (`localhost:5000`) over plain HTTP: only for a registry on a
    /// network you trust, since nothing then authenticates the answers (the config blob is still
    /// checked against its digest).
    pub fn plain_http_registry(mut self, host: impl Into<String>) -> Self {
        self.plain_http.push(host.into());
        self
    }
}

/// Why a base image's config could not be read. The template still builds, without what the
/// image declares ([`ImageConfigWarning`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImageConfigError {
    /// The image reference is not one a registry can be asked for.
    #[error("`{image}` is not an image reference: {reason}")]
    InvalidReference {
        /// The reference.
        image: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The registry could not be reached (name resolution, connection, TLS, timeout).
    #[error("cannot reach the registry {registry}: {message}")]
    Unreachable {
        /// The registry host.
        registry: String,
        /// What failed (the HTTP client's error chain).
        message: String,
    },
    /// The registry has no such image (404; or, on Docker Hub, 401 for an official image that
    /// does not exist).
    #[error("no such image: the registry {registry} has no '{image}' (HTTP {status}); check the spelling and the case")]
    NotFound {
        /// The registry host.
        registry: String,
        /// The image reference.
        image: String,
        /// The status the registry answered.
        status: u16,
    },
    /// The registry refused the read (401/403): the credentials are missing or wrong.
    #[error("the registry {registry} refused to read '{image}' (HTTP {status}): check the credentials")]
    Unauthorized {
        /// The registry host.
        registry: String,
        /// The image reference.
        image: String,
        /// The status.
        status: u16,
    },
    /// Any other answer that is not a success.
    #[error("the registry {registry} answered HTTP {status} for {what}")]
    Status {
        /// The registry host.
        registry: String,
        /// What was read (`the manifest of python:3.12`).
        what: String,
        /// The status.
        status: u16,
    },
    /// A multi-arch image without a `linux/amd64` variant: sandboxes are amd64.
    #[error(
        "{image} has no linux/amd64 variant{}; sandboxes are amd64, so this image cannot be used",
        offered_list(.offered)
    )]
    NoAmd64 {
        /// The image reference.
        image: String,
        /// The platforms it offers (`linux/arm64/v8`, …), sorted.
        offered: Vec<String>,
    },
    /// An answer was not what the distribution API describes (not JSON, no config digest, a
    /// blob that does not match its digest, larger than the bound).
    #[error("the registry {registry} sent an unusable {what}: {reason}")]
    Invalid {
        /// The registry host.
        registry: String,
        /// What was read.
        what: String,
        /// What is wrong with it.
        reason: String,
    },
}

fn offered_list(offered: &[String]) -> String {
    if offered.is_empty() { String::new() } else { format!(" (offers {})", offered.join(", ")) }
}

impl ImageConfigError {
    /// Whether the image cannot be used at all (no such image, no `linux/amd64` variant): a
    /// retry cannot help and the build would fail for the same reason (novita-sandbox's
    /// `unusable`).
    pub fn is_unusable(&self) -> bool {
        matches!(self, ImageConfigError::NotFound { .. } | ImageConfigError::NoAmd64 { .. })
    }
}

/// A base image's config that could not be read: the template was left without it, as
/// novita-sandbox leaves it (it logs a warning and builds). [`Display`](std::fmt::Display)
/// gives novita-sandbox's warning, then names the registry and how to turn inheritance off.
///
/// ```
/// use sandbox_template_runtime::cloud::{ImageConfigError, ImageConfigWarning};
/// let w = ImageConfigWarning {
///     image: "localhost:1/app".into(),
///     registry: "localhost:1".into(),
///     error: ImageConfigError::Unreachable { registry: "localhost:1".into(), message: "refused".into() },
/// };
/// assert!(w.to_string().starts_with("Could not read localhost:1/app: cannot reach the registry localhost:1"));
/// assert!(w.to_string().contains("--no-inherit-config"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "Could not read {image}: {error}. The template will build without the environment, working directory and \
     start command the image declares. To build without reading {registry}, turn inheritance off: \
     `.inherit_config(false)` in Rust, `from image \"...\" (inherit_config = false);` in a template file, or \
     `--no-inherit-config` on the command line"
)]
pub struct ImageConfigWarning {
    /// The base image.
    pub image: String,
    /// The registry host that was asked.
    pub registry: String,
    /// Why it could not be read.
    #[source]
    pub error: ImageConfigError,
}

/// A template after [`ImageConfigClient::resolve`]: with its base image's config applied, or
/// unchanged and a warning saying why.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Resolved {
    /// The template to serialize or build.
    pub template: Template,
    /// Why the image's config is missing, when it is.
    pub warning: Option<ImageConfigWarning>,
}

/// Where an image is read from: novita-sandbox's `parseImageRef`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Location {
    host: String,
    repository: String,
    reference: String,
}

impl Location {
    fn of(image: &str) -> Result<Location, ImageConfigError> {
        let r = ImageRef::parse(image)
            .map_err(|rule| ImageConfigError::InvalidReference { image: image.to_owned(), reason: rule.to_string() })?;
        let hub = r.registry() == "docker.io";
        let host = if hub { DOCKER_HUB.to_owned() } else { r.registry().to_owned() };
        let repository =
            if hub && !r.path().contains('/') { format!("library/{}", r.path()) } else { r.path().to_owned() };
        let reference = r.digest().or(r.tag()).unwrap_or("latest").to_owned();
        Ok(Location { host, repository, reference })
    }
}

type CacheKey = [u8; 32];

/// Reads base images' configs from their registries, caching what it read.
///
/// One client is meant to be shared (it is cheap to clone: clones share the cache and the
/// connections).
///
/// ```no_run
/// # async fn run() {
/// use sandbox_template_runtime::{JsonOptions, Provider, Template};
/// use sandbox_template_runtime::cloud::ImageConfigClient;
///
/// let client = ImageConfigClient::new().unwrap();
/// let template = Template::new().for_provider(Provider::Novita).from_python_image("3.12");
/// let resolved = client.resolve(template, Provider::Novita).await;
/// if let Some(warning) = &resolved.warning {
///     eprintln!("warning: {warning}");
/// }
/// // The image's PATH is in the env step, its CMD is the start command.
/// println!("{}", resolved.template.to_json().unwrap());
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct ImageConfigClient {
    http: reqwest::Client,
    options: Arc<ImageConfigOptions>,
    /// Per image and credentials (hashed, so no password is kept): what was read, failures too.
    by_image: Arc<Mutex<HashMap<CacheKey, Result<ImageConfig, ImageConfigError>>>>,
    /// Per registry and config digest: a config read once serves every tag that names it.
    by_digest: Arc<Mutex<HashMap<String, ImageConfig>>>,
}

impl ImageConfigClient {
    /// A client with the default options.
    pub fn new() -> Result<Self, super::CloudError> {
        Self::with_options(ImageConfigOptions::default())
    }

    /// A client with `options`.
    pub fn with_options(options: ImageConfigOptions) -> Result<Self, super::CloudError> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(options.request_timeout)
            .timeout(options.request_timeout)
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                let downgrade = attempt.url().scheme() != "https"
                    && attempt.previous().last().is_some_and(|u| u.scheme() == "https");
                if attempt.previous().len() > MAX_REDIRECTS || downgrade { attempt.stop() } else { attempt.follow() }
            }));
        for pem in &options.root_certificates {
            let cert =
                reqwest::Certificate::from_pem(pem).map_err(|source| super::ConfigError::HttpClient { source })?;
            builder = builder.add_root_certificate(cert);
        }
        let http = builder.build().map_err(|source| super::ConfigError::HttpClient { source })?;
        Ok(ImageConfigClient { http, options: Arc::new(options), by_image: Arc::default(), by_digest: Arc::default() })
    }

    /// Applies the base image's config to `template` when it inherits it
    /// ([`Template::inherits_config`]) and `provider` is Novita; otherwise returns it unchanged
    /// (E2B never inherits). A failed read leaves the template unchanged, with a warning.
    ///
    /// The credentials are the template's username and password
    /// ([`Template::from_image_with_credentials`]); other registry logins are not used to read.
    pub async fn resolve(&self, template: Template, provider: Provider) -> Resolved {
        let Some(image) = template.inherited_image(provider).filter(|_| provider == Provider::Novita) else {
            return Resolved { template, warning: None };
        };
        let credentials = match template.registry() {
            Some(RegistryCredentials::Basic { username, password }) => {
                let ctx = template.context_dir();
                match (username.reveal(ctx), password.reveal(ctx)) {
                    (Ok(u), Ok(p)) => Some((u, p)),
                    // An unreadable secret fails validation when the template is serialized.
                    _ => None,
                }
            }
            _ => None,
        };
        let creds = credentials.as_ref().map(|(u, p)| (u.as_str(), p.as_str()));
        match self.fetch(&image, creds).await {
            Ok(config) => Resolved { template: template.apply_image_config(&config), warning: None },
            Err(error) => {
                let registry = Location::of(&image).map(|l| l.host).unwrap_or_else(|_| image.clone());
                let warning = ImageConfigWarning { image, registry, error };
                Resolved { template: template.inherit_config(false), warning: Some(warning) }
            }
        }
    }

    /// Reads `image`'s config (with a username and password, if given). Cached: a second read
    /// of the same image with the same credentials sends nothing, and gives the same error if
    /// the first failed (as novita-sandbox's cache).
    pub async fn fetch(&self, image: &str, credentials: Option<(&str, &str)>) -> Result<ImageConfig, ImageConfigError> {
        let key = cache_key(image, credentials);
        if let Some(hit) = lock(&self.by_image).get(&key) {
            return hit.clone();
        }
        let result = self.read(image, credentials).await;
        lock(&self.by_image).insert(key, result.clone());
        result
    }

    async fn read(&self, image: &str, credentials: Option<(&str, &str)>) -> Result<ImageConfig, ImageConfigError> {
        let at = Location::of(image)?;
        let auth = self.authorization(&at, credentials).await;
        let scheme = if self.options.plain_http.contains(&at.host) { "http" } else { "https" };
        let base = format!("{scheme}://{}/v2/{}", at.host, at.repository);
        let manifest_of = format!("the manifest of {image}");
        let body = self.get(&at, image, &format!("{base}/manifests/{}", at.reference), &auth, MAX_MANIFEST).await?;
        let mut manifest: Manifest = parse(&at, &manifest_of, &body)?;
        if let Some(entries) = manifest.manifests.take() {
            let digest = pick_amd64(&entries, image)?;
            let body = self.get(&at, image, &format!("{base}/manifests/{digest}"), &auth, MAX_MANIFEST).await?;
            manifest = parse(&at, &manifest_of, &body)?;
        }
        let Some(digest) = manifest.config.and_then(|c| c.digest) else {
            return Err(invalid(&at, &manifest_of, "it names no config blob"));
        };
        let digest_key = format!("{}/{}@{digest}", at.host, at.repository);
        if let Some(config) = lock(&self.by_digest).get(&digest_key) {
            return Ok(config.clone());
        }
        let what = format!("config blob of {image}");
        let blob = self.get(&at, image, &format!("{base}/blobs/{digest}"), &auth, MAX_CONFIG).await?;
        if let Some(hex) = digest.strip_prefix("sha256:")
            && format!("{:x}", Sha256::digest(&blob)) != hex
        {
            return Err(invalid(&at, &what, &format!("its content does not match its digest {digest}")));
        }
        let config = ImageConfig::from_config_blob(&blob).map_err(|e| invalid(&at, &what, &e.to_string()))?;
        lock(&self.by_digest).insert(digest_key, config.clone());
        Ok(config)
    }

    /// The `Authorization` header of the reads: a bearer token from the registry's token service
    /// if it has one and answers with a token, else basic auth with the credentials, else none
    /// (novita-sandbox's `authHeaders`: a failed token request is not an error).
    async fn authorization(&self, at: &Location, credentials: Option<(&str, &str)>) -> Option<String> {
        let basic = credentials.map(|(u, p)| format!("Basic {}", crate::export::base64(format!("{u}:{p}").as_bytes())));
        let Some(service) = self.options.token_services.iter().find(|s| s.registry == at.host) else {
            return basic;
        };
        let scope = format!("repository:{}:pull", at.repository);
        let mut request =
            self.http.get(&service.url).query(&[("service", service.service.as_str()), ("scope", &scope)]);
        if let Some(b) = &basic {
            request = request.header(reqwest::header::AUTHORIZATION, b);
        }
        #[derive(serde::Deserialize)]
        struct Token {
            token: Option<String>,
        }
        let token = async {
            let mut resp = request.send().await.ok()?;
            if !resp.status().is_success() {
                return None;
            }
            let (body, complete) = read_capped(&mut resp, MAX_TOKEN).await.ok()?;
            if !complete {
                return None;
            }
            serde_json::from_slice::<Token>(&body).ok()?.token
        }
        .await;
        match token {
            Some(t) => Some(format!("Bearer {t}")),
            None => {
                tracing::debug!(registry = %at.host, "no token from the registry's token service; reading without one");
                basic
            }
        }
    }

    /// One read, retried as novita-sandbox retries (429 and 5xx gateway statuses, network failures).
    async fn get(
        &self,
        at: &Location,
        image: &str,
        url: &str,
        auth: &Option<String>,
        limit: usize,
    ) -> Result<Vec<u8>, ImageConfigError> {
        let attempts = self.options.attempts.max(1);
        let mut attempt = 0;
        loop {
            let (error, retry_after) = match self.get_once(at, image, url, auth, limit).await {
                Ok(body) => return Ok(body),
                Err(e) => e,
            };
            attempt += 1;
            if attempt >= attempts || retry_after.is_none() {
                return Err(error);
            }
            let backoff = self.options.retry_delay.saturating_mul(1 << (attempt - 1).min(16));
            let delay = retry_after.flatten().map(|d| d.min(Duration::from_secs(10))).unwrap_or(backoff);
            tracing::debug!(registry = %at.host, attempt, %error, "retrying a registry read");
            tokio::time::sleep(delay).await;
        }
    }

    /// One request. The error comes with `None` when it is final, `Some(retry_after)` when it
    /// may be retried.
    async fn get_once(
        &self,
        at: &Location,
        image: &str,
        url: &str,
        auth: &Option<String>,
        limit: usize,
    ) -> Result<Vec<u8>, (ImageConfigError, Option<Option<Duration>>)> {
        let mut request = self.http.get(url).header(reqwest::header::ACCEPT, MANIFEST_TYPES);
        if let Some(a) = auth {
            request = request.header(reqwest::header::AUTHORIZATION, a);
        }
        let unreachable = |e: reqwest::Error| ImageConfigError::Unreachable {
            registry: at.host.clone(),
            message: terminal_safe(&error_chain(&e.without_url())).into_owned(),
        };
        let mut resp = request.send().await.map_err(|e| (unreachable(e), Some(None)))?;
        let status = resp.status();
        if !status.is_success() {
            let retry_after = retry_after(resp.headers());
            let retry = matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504).then_some(retry_after);
            return Err((status_error(at, image, url, status, auth.is_some()), retry));
        }
        let what = if url.contains("/blobs/") { "config blob" } else { "manifest" };
        match read_capped(&mut resp, limit).await {
            Ok((body, true)) => Ok(body),
            Ok((_, false)) => Err((invalid(at, what, &format!("it is larger than {} MiB", limit >> 20)), None)),
            Err(e) => Err((unreachable(e), Some(None))),
        }
    }
}

fn status_error(at: &Location, image: &str, url: &str, status: StatusCode, authenticated: bool) -> ImageConfigError {
    let registry = at.host.clone();
    let code = status.as_u16();
    match code {
        404 => ImageConfigError::NotFound { registry, image: image.to_owned(), status: code },
        // Docker Hub's `library/` has no private repositories: an anonymous 401 there is a typo.
        401 if at.host == DOCKER_HUB && at.repository.starts_with("library/") && !authenticated => {
            ImageConfigError::NotFound { registry, image: image.to_owned(), status: code }
        }
        401 | 403 => ImageConfigError::Unauthorized { registry, image: image.to_owned(), status: code },
        _ => {
            let what = if url.contains("/blobs/") { "the config blob" } else { "the manifest" };
            ImageConfigError::Status { registry, what: format!("{what} of {image}"), status: code }
        }
    }
}

fn invalid(at: &Location, what: &str, reason: &str) -> ImageConfigError {
    ImageConfigError::Invalid {
        registry: at.host.clone(),
        what: what.to_owned(),
        reason: terminal_safe(reason).into_owned(),
    }
}

fn parse<T: serde::de::DeserializeOwned>(at: &Location, what: &str, body: &[u8]) -> Result<T, ImageConfigError> {
    serde_json::from_slice(body).map_err(|e| invalid(at, what, &e.to_string()))
}

/// A manifest or an index: whichever fields it has.
#[derive(serde::Deserialize)]
struct Manifest {
    #[serde(default)]
    manifests: Option<Vec<IndexEntry>>,
    #[serde(default)]
    config: Option<Descriptor>,
}

#[derive(serde::Deserialize)]
struct Descriptor {
    #[serde(default)]
    digest: Option<String>,
}

#[derive(serde::Deserialize)]
struct IndexEntry {
    #[serde(default)]
    digest: Option<String>,
    #[serde(default)]
    platform: Option<Platform>,
}

#[derive(serde::Deserialize, Default)]
struct Platform {
    #[serde(default)]
    os: Option<String>,
    #[serde(default)]
    architecture: Option<String>,
    #[serde(default)]
    variant: Option<String>,
}

/// The first `linux/amd64` entry of an index (novita-sandbox's `pickAmd64`).
fn pick_amd64(entries: &[IndexEntry], image: &str) -> Result<String, ImageConfigError> {
    for e in entries {
        if let (Some(p), Some(digest)) = (&e.platform, &e.digest)
            && p.architecture.as_deref() == Some("amd64")
            && p.os.as_deref() == Some("linux")
        {
            return Ok(digest.clone());
        }
    }
    let mut offered: Vec<String> = entries
        .iter()
        .filter(|e| e.platform.as_ref().and_then(|p| p.os.as_deref()) != Some("unknown"))
        .map(|e| {
            let none = Platform::default();
            let p = e.platform.as_ref().unwrap_or(&none);
            let base = format!("{}/{}", p.os.as_deref().unwrap_or("?"), p.architecture.as_deref().unwrap_or("?"));
            let name = match &p.variant {
                Some(v) => format!("{base}/{v}"),
                None => base,
            };
            terminal_safe(&name).into_owned()
        })
        .collect();
    offered.sort();
    offered.dedup();
    Err(ImageConfigError::NoAmd64 { image: image.to_owned(), offered })
}

fn cache_key(image: &str, credentials: Option<(&str, &str)>) -> CacheKey {
    let mut h = Sha256::new();
    for part in [Some(image), credentials.map(|c| c.0), credentials.map(|c| c.1)] {
        match part {
            Some(p) => {
                h.update([1]);
                h.update((p.len() as u64).to_le_bytes());
                h.update(p.as_bytes());
            }
            None => h.update([0]),
        }
    }
    h.finalize().into()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(image: &str) -> (String, String, String) {
        let l = Location::of(image).unwrap();
        (l.host, l.repository, l.reference)
    }

    #[test]
    fn references_are_read_like_novita_sandbox() {
        let s = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
        assert_eq!(at("python:3.12"), s(DOCKER_HUB, "library/python", "3.12"));
        assert_eq!(at("docker.io/python"), s(DOCKER_HUB, "library/python", "latest"));
        assert_eq!(at("oven/bun:1"), s(DOCKER_HUB, "oven/bun", "1"));
        assert_eq!(at("localhost:5000/a/b:t"), s("localhost:5000", "a/b", "t"));
        let digest = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(at(&format!("ghcr.io/o/app@{digest}")), s("ghcr.io", "o/app", &digest));
        assert!(matches!(Location::of("Bad Ref"), Err(ImageConfigError::InvalidReference { .. })));
    }

    #[test]
    fn an_index_without_amd64_names_what_it_offers() {
        let entry = |os: &str, arch: &str, variant: Option<&str>| IndexEntry {
            digest: Some("sha256:1".into()),
            platform: Some(Platform {
                os: Some(os.into()),
                architecture: Some(arch.into()),
                variant: variant.map(Into::into),
            }),
        };
        let e =
            pick_amd64(&[entry("linux", "arm64", Some("v8")), entry("unknown", "unknown", None)], "x:1").unwrap_err();
        assert_eq!(
            e.to_string(),
            "x:1 has no linux/amd64 variant (offers linux/arm64/v8); sandboxes are amd64, so this image cannot be used"
        );
        assert!(e.is_unusable());
    }

    #[test]
    fn the_cache_key_separates_credentials() {
        assert_ne!(cache_key("a", None), cache_key("a", Some(("", ""))));
        assert_ne!(cache_key("a", Some(("u", "p"))), cache_key("a", Some(("u", "q"))));
        assert_ne!(cache_key("ab", Some(("c", ""))), cache_key("a", Some(("bc", ""))));
    }
}
