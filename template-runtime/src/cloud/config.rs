//! Where the build service is and how to authenticate: from the environment (the SDKs' variables)
//! or set in code, resolved with the SDKs' precedence (SPEC §E.1, `connection_config*.out`).

use std::fmt;
use std::time::Duration;

use crate::provider::Provider;

use super::error::{CloudError, ConfigError};

/// An API key or access token. Its `Debug` and `Display` never show the value, so a
/// [`ClientConfig`] can be logged or put in an error message.
///
/// ```
/// use sandbox_template_runtime::cloud::ApiKey;
/// let key = ApiKey::new("e2b_0123456789abcdef");
/// assert_eq!(format!("{key:?}"), "ApiKey(<redacted>)");
/// assert!(!format!("{key}").contains("0123"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    /// The key itself, to put in a request header. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Connection settings given in code; every field left `None` falls back to the environment,
/// then to the default (SPEC §E.1: option > env > debug > domain).
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct ConnectionOptions {
    /// API key (`E2B_API_KEY` / `NOVITA_API_KEY`), sent as `X-API-KEY`.
    pub api_key: Option<ApiKey>,
    /// Novita access token (`NOVITA_ACCESS_TOKEN`), sent as `Authorization: Bearer`.
    pub access_token: Option<ApiKey>,
    /// Domain (`E2B_DOMAIN` / `NOVITA_DOMAIN`); the API is at `https://api.<domain>`.
    pub domain: Option<String>,
    /// Full API URL (`E2B_API_URL` / `NOVITA_API_URL`); beats domain and debug.
    pub api_url: Option<String>,
    /// Debug mode (`E2B_DEBUG` / `NOVITA_DEBUG` = `true`): the API is `http://localhost:3000`.
    pub debug: Option<bool>,
    /// Per-request timeout (default 60 s; `Some(Duration::ZERO)` disables it).
    pub request_timeout: Option<Duration>,
    /// How many times a failed request that is safe to repeat is retried (default 3).
    pub retries: Option<u32>,
    /// Extra headers on API requests (not on uploads). A `User-Agent` here replaces ours.
    pub headers: Vec<(String, String)>,
    /// Most requests (API calls and uploads) in flight at once through one client, whatever
    /// the number of concurrent builds (default 32). Bounds open connections.
    pub max_in_flight: Option<usize>,
}

impl ConnectionOptions {
    /// Options with this API key and everything else from the environment.
    pub fn with_api_key(key: impl Into<String>) -> Self {
        ConnectionOptions { api_key: Some(ApiKey::new(key)), ..Self::default() }
    }

    /// Sets the API key.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(ApiKey::new(key));
        self
    }

    /// Sets the Novita access token.
    pub fn access_token(mut self, token: impl Into<String>) -> Self {
        self.access_token = Some(ApiKey::new(token));
        self
    }

    /// Sets the domain.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// Adds a header to every API request.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the API URL (e.g. a local `sandbox-template serve`).
    pub fn api_url(mut self, url: impl Into<String>) -> Self {
        self.api_url = Some(url.into());
        self
    }

    /// Sets the per-request timeout.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = Some(timeout);
        self
    }

    /// Sets the most requests in flight at once.
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = Some(n);
        self
    }

    /// Sets the retry bound.
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = Some(retries);
        self
    }
}

/// The resolved connection: provider, URL, credentials, timeouts.
///
/// ```
/// use sandbox_template_runtime::Provider;
/// use sandbox_template_runtime::cloud::{ClientConfig, ConnectionOptions};
///
/// let env = |name: &str| match name {
///     "E2B_DOMAIN" => Some("example.dev".to_owned()),
///     "E2B_API_KEY" => Some("e2b_x".to_owned()),
///     _ => None,
/// };
/// let config = ClientConfig::resolve(Provider::E2b, ConnectionOptions::default(), env).unwrap();
/// assert_eq!(config.api_url(), "https://api.example.dev");
/// ```
#[derive(Clone, Debug)]
pub struct ClientConfig {
    provider: Provider,
    api_key: Option<ApiKey>,
    access_token: Option<ApiKey>,
    domain: String,
    api_url: String,
    debug: bool,
    request_timeout: Option<Duration>,
    retries: u32,
    headers: Vec<(String, String)>,
    max_in_flight: usize,
}

/// Our own User-Agent: the build service can tell this client from the official SDKs.
pub(crate) const USER_AGENT: &str = concat!("sandbox-template-rust/", env!("CARGO_PKG_VERSION"));

const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const DEFAULT_RETRIES: u32 = 3;
const DEFAULT_MAX_IN_FLIGHT: usize = 32;

struct EnvNames {
    api_key: &'static str,
    access_token: Option<&'static str>,
    domain: &'static str,
    api_url: &'static str,
    debug: &'static str,
    default_domain: &'static str,
}

fn env_names(provider: Provider) -> EnvNames {
    match provider {
        Provider::E2b => EnvNames {
            api_key: "E2B_API_KEY",
            access_token: None,
            domain: "E2B_DOMAIN",
            api_url: "E2B_API_URL",
            debug: "E2B_DEBUG",
            default_domain: "e2b.app",
        },
        Provider::Novita => EnvNames {
            api_key: "NOVITA_API_KEY",
            access_token: Some("NOVITA_ACCESS_TOKEN"),
            domain: "NOVITA_DOMAIN",
            api_url: "NOVITA_API_URL",
            debug: "NOVITA_DEBUG",
            default_domain: "us-phx-1.sandbox.novita.ai",
        },
    }
}

impl ClientConfig {
    /// Everything from the process environment.
    pub fn from_env(provider: Provider) -> Result<Self, CloudError> {
        Self::resolve(provider, ConnectionOptions::default(), |name| std::env::var(name).ok())
    }

    /// `options` first, then the process environment.
    pub fn with_options(provider: Provider, options: ConnectionOptions) -> Result<Self, CloudError> {
        Self::resolve(provider, options, |name| std::env::var(name).ok())
    }

    /// `options` first, then `env` (a lookup such as `std::env::var(name).ok()`), then defaults.
    /// Fails when no credential is found: before any request is made.
    pub fn resolve(
        provider: Provider,
        options: ConnectionOptions,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, CloudError> {
        let names = env_names(provider);
        let env = |name: &str| env(name).filter(|v| !v.is_empty());
        let api_key = options.api_key.or_else(|| env(names.api_key).map(ApiKey::new));
        let access_token = options.access_token.or_else(|| names.access_token.and_then(&env).map(ApiKey::new));
        if api_key.is_none() && access_token.is_none() {
            return Err(ConfigError::MissingApiKey { provider }.into());
        }
        let debug = options.debug.unwrap_or_else(|| env(names.debug).is_some_and(|v| v.eq_ignore_ascii_case("true")));
        let domain = options.domain.or_else(|| env(names.domain)).unwrap_or_else(|| names.default_domain.to_owned());
        let api_url = match options.api_url.or_else(|| env(names.api_url)) {
            Some(url) => with_scheme(url),
            None if debug => "http://localhost:3000".to_owned(),
            None => format!("https://api.{domain}"),
        };
        let api_url = api_url.trim_end_matches('/').to_owned();
        if let Err(source) = reqwest::Url::parse(&api_url) {
            return Err(ConfigError::InvalidApiUrl { url: api_url, source }.into());
        }
        let request_timeout = match options.request_timeout {
            Some(t) if t.is_zero() => None,
            Some(t) => Some(t),
            None => Some(DEFAULT_REQUEST_TIMEOUT),
        };
        Ok(ClientConfig {
            provider,
            api_key,
            access_token,
            domain,
            api_url,
            debug,
            request_timeout,
            retries: options.retries.unwrap_or(DEFAULT_RETRIES),
            headers: options.headers,
            max_in_flight: options.max_in_flight.unwrap_or(DEFAULT_MAX_IN_FLIGHT).max(1),
        })
    }

    /// The build service.
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// The API base URL, without a trailing `/`.
    pub fn api_url(&self) -> &str {
        &self.api_url
    }

    /// The domain.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// Whether debug mode is on.
    pub fn debug(&self) -> bool {
        self.debug
    }

    /// Per-request timeout (`None`: no timeout).
    pub fn request_timeout(&self) -> Option<Duration> {
        self.request_timeout
    }

    /// Retry bound.
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// Most requests in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight
    }

    /// The headers sent on every API request (not on uploads), credentials last.
    /// Credential values are returned as [`ApiKey`] so they stay redacted until sent.
    pub(crate) fn api_headers(&self) -> Vec<(String, HeaderValue)> {
        let mut out: Vec<(String, HeaderValue)> = Vec::new();
        let mut push = |k: &str, v: &str| out.push((k.to_owned(), HeaderValue::Plain(v.to_owned())));
        let publisher = match self.provider {
            Provider::E2b => "e2b",
            Provider::Novita => "Novita",
        };
        push("lang", "rust");
        push("package_version", env!("CARGO_PKG_VERSION"));
        push("publisher", publisher);
        push("sdk_runtime", "rust");
        push("system", std::env::consts::OS);
        if self.provider == Provider::Novita {
            push("X-Novita-SDK-Name", "sandbox-template-rust");
            push("X-Novita-SDK-Version", env!("CARGO_PKG_VERSION"));
        }
        let custom_ua = self.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("user-agent"));
        if !custom_ua {
            push("User-Agent", USER_AGENT);
        }
        for (k, v) in &self.headers {
            push(k, v);
        }
        if let Some(key) = &self.api_key {
            out.push(("X-API-KEY".to_owned(), HeaderValue::Secret(key.clone())));
        }
        if let Some(token) = &self.access_token {
            out.push(("Authorization".to_owned(), HeaderValue::Secret(ApiKey::new(format!("Bearer {}", token.0)))));
        }
        out
    }
}

/// A header value that may be a credential (kept redacted until it is put on the wire).
#[derive(Clone, Debug)]
pub(crate) enum HeaderValue {
    Plain(String),
    Secret(ApiKey),
}

fn with_scheme(url: String) -> String {
    if url.contains("://") { url } else { format!("https://{url}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
    }

    fn e2b(options: ConnectionOptions, env: &'static [(&'static str, &'static str)]) -> ClientConfig {
        ClientConfig::resolve(Provider::E2b, options, env_of(env)).unwrap()
    }

    const KEY: &[(&str, &str)] = &[("E2B_API_KEY", "e2b_x")];

    // Rows of vectors/connection_config.js.out.
    #[test]
    fn resolves_like_the_js_sdk() {
        assert_eq!(e2b(Default::default(), KEY).api_url(), "https://api.e2b.app");
        let c = e2b(Default::default(), &[("E2B_API_KEY", "k"), ("E2B_DOMAIN", "example.dev")]);
        assert_eq!((c.api_url(), c.domain()), ("https://api.example.dev", "example.dev"));
        let opts = ConnectionOptions { domain: Some("other.dev".into()), ..Default::default() };
        let c = e2b(opts, &[("E2B_API_KEY", "k"), ("E2B_DOMAIN", "example.dev")]);
        assert_eq!(c.api_url(), "https://api.other.dev");
        let c = e2b(Default::default(), &[("E2B_API_KEY", "k"), ("E2B_DEBUG", "true")]);
        assert_eq!((c.api_url(), c.debug(), c.domain()), ("http://localhost:3000", true, "e2b.app"));
        let c = e2b(
            Default::default(),
            &[("E2B_API_KEY", "k"), ("E2B_DEBUG", "TRUE"), ("E2B_API_URL", "http://127.0.0.1:9")],
        );
        assert_eq!((c.api_url(), c.debug()), ("http://127.0.0.1:9", true));
        let c = e2b(
            ConnectionOptions::default().api_url("http://a:1"),
            &[("E2B_API_KEY", "k"), ("E2B_API_URL", "http://b:2")],
        );
        assert_eq!(c.api_url(), "http://a:1");
        let c = e2b(Default::default(), KEY);
        assert_eq!((c.request_timeout(), c.retries()), (Some(Duration::from_secs(60)), 3));
        let c = e2b(ConnectionOptions::default().request_timeout(Duration::ZERO).retries(0), KEY);
        assert_eq!((c.request_timeout(), c.retries()), (None, 0));
    }

    #[test]
    fn missing_key_is_a_config_error_that_names_the_variable() {
        let err = ClientConfig::resolve(Provider::E2b, Default::default(), env_of(&[])).unwrap_err();
        assert!(matches!(err, CloudError::Config(ConfigError::MissingApiKey { provider: Provider::E2b })));
        assert!(err.to_string().contains("E2B_API_KEY"), "{err}");
        let err = ClientConfig::resolve(Provider::Novita, Default::default(), env_of(KEY)).unwrap_err();
        assert!(err.to_string().contains("NOVITA_API_KEY"), "{err}");
    }

    #[test]
    fn a_bad_api_url_is_a_config_error_that_shows_the_url_and_the_parse_error() {
        let opts = ConnectionOptions::with_api_key("e2b_secret_789").api_url("http://[::1");
        let err = ClientConfig::resolve(Provider::E2b, opts, env_of(&[])).unwrap_err();
        assert!(
            matches!(&err, CloudError::Config(ConfigError::InvalidApiUrl { url, .. }) if url == "http://[::1"),
            "{err:?}"
        );
        let shown = err.to_string();
        assert!(shown.contains("`http://[::1` is not a valid URL: invalid IPv6 address"), "{shown}");
        assert!(std::error::Error::source(&err).is_some(), "the parse error is kept as the source");
        assert!(!format!("{shown} {err:?}").contains("e2b_secret_789"));
    }

    #[test]
    fn novita_accepts_a_token_and_uses_its_own_domain() {
        let c = ClientConfig::resolve(Provider::Novita, Default::default(), env_of(&[("NOVITA_ACCESS_TOKEN", "tok")]))
            .unwrap();
        assert_eq!(c.api_url(), "https://api.us-phx-1.sandbox.novita.ai");
        let headers = c.api_headers();
        let auth = headers.iter().find(|(k, _)| k == "Authorization").map(|(_, v)| v);
        assert!(matches!(auth, Some(HeaderValue::Secret(t)) if t.expose() == "Bearer tok"));
        let c = ClientConfig::resolve(
            Provider::Novita,
            Default::default(),
            env_of(&[("NOVITA_API_KEY", "sk"), ("NOVITA_API_URL", "api.example.net")]),
        )
        .unwrap();
        assert_eq!(c.api_url(), "https://api.example.net");
    }

    #[test]
    fn debug_output_never_contains_the_key() {
        let secret = "e2b_super_secret_value_123";
        let opts = ConnectionOptions {
            access_token: Some(ApiKey::new("tok_secret_456")),
            ..ConnectionOptions::with_api_key(secret)
        };
        let c = ClientConfig::resolve(Provider::Novita, opts, env_of(&[])).unwrap();
        let shown = format!("{c:?} {:?}", c.api_headers());
        assert!(!shown.contains(secret) && !shown.contains("tok_secret_456"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn custom_user_agent_wins() {
        let opts = ConnectionOptions { headers: vec![("User-Agent".into(), "mine/1".into())], ..Default::default() };
        let c = e2b(opts, KEY);
        let uas: Vec<_> = c.api_headers().into_iter().filter(|(k, _)| k.eq_ignore_ascii_case("user-agent")).collect();
        assert_eq!(uas.len(), 1);
        assert!(matches!(&uas[0].1, HeaderValue::Plain(v) if v == "mine/1"));
    }
}
