//! How a server is run: its address, its API keys, what it accepts, and the bounds that keep an
//! exposed server up (sizes, counts, waits).

use std::net::SocketAddr;
use std::time::Duration;

use sandbox_template_runtime::cloud::ApiKey;

use crate::runner::UnpackLimits;

/// Default [`ServerConfig::max_upload_bytes`]: 1 GiB of compressed archive per COPY step.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 1 << 30;
/// Default [`ServerConfig::header_timeout`]: a client has 10 s to send a request's headers, and an
/// idle keep-alive connection is closed after as long.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Default [`ServerConfig::body_timeout`]: a body that sends nothing for 30 s is dropped.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// Default [`ServerConfig::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
/// Default [`ServerConfig::upload_url_ttl`]: upload URLs are valid for an hour, as the cloud's
/// presigned URLs are.
pub const DEFAULT_UPLOAD_URL_TTL: Duration = Duration::from_secs(3600);
/// Largest JSON request body (create, start, tags).
pub const MAX_JSON_BODY: usize = 16 << 20;
/// How many requests [`ServerConfig::record_requests`] keeps at most (the oldest are dropped).
pub const MAX_RECORDED_REQUESTS: usize = 10_000;
/// How much of each JSON body a recorded request keeps.
pub const MAX_RECORDED_BODY: usize = 64 << 10;

/// How to run the server.
///
/// ```
/// use std::time::Duration;
/// use sandbox_template_server::ServerConfig;
///
/// let mut config = ServerConfig::new("my-key");
/// config.header_timeout = Duration::from_secs(5);
/// config.max_upload_bytes = 64 << 20;
/// config.public_url = Some("https://templates.example.com".to_owned());
/// ```
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Address to listen on (default `127.0.0.1:0`: loopback, any free port).
    pub addr: SocketAddr,
    /// Accepted API keys (`X-API-KEY`, or `Authorization: Bearer`), compared in constant time
    /// before any request body is read.
    pub api_keys: Vec<ApiKey>,
    /// Accept uploads without `Content-Length` (chunked). Off by default: presigned URLs refuse
    /// them, and a client that works here must work there. On for benchmark baselines
    /// (`curl -T -`). The size limit holds either way.
    pub accept_chunked_uploads: bool,
    /// Keep requests for [`ServerHandle::requests`](super::ServerHandle::requests) (default on,
    /// for tests; `serve` turns it off). Bounded: at most [`MAX_RECORDED_REQUESTS`] requests and
    /// [`MAX_RECORDED_BODY`] bytes of each body, recorded only after the API key was accepted
    /// (a refused request keeps its method, path and headers, never its body).
    pub record_requests: bool,
    /// Largest upload (compressed archive) accepted, in bytes: a bigger `Content-Length` gets 413
    /// before the body is read (default [`DEFAULT_MAX_UPLOAD_BYTES`]).
    pub max_upload_bytes: u64,
    /// Bounds on what one archive may unpack into (bytes, entries, path length).
    pub unpack: UnpackLimits,
    /// How long a client may take to send a request's headers; also how long an idle
    /// keep-alive connection stays open (default [`DEFAULT_HEADER_TIMEOUT`]).
    pub header_timeout: Duration,
    /// How long a request body may send nothing before it is dropped (default
    /// [`DEFAULT_BODY_TIMEOUT`]).
    pub body_timeout: Duration,
    /// Most connections open at once; more wait in the listen backlog (default
    /// [`DEFAULT_MAX_CONNECTIONS`]).
    pub max_connections: usize,
    /// How long an upload URL handed out by `GET /templates/{id}/files/{hash}` stays valid
    /// (default [`DEFAULT_UPLOAD_URL_TTL`]).
    pub upload_url_ttl: Duration,
    /// The URL clients reach this server by, when it is not the listen address (a proxy, a
    /// public name): upload URLs are built on it, and its host is accepted in the `Host`
    /// header. `None`: upload URLs use the request's `Host`.
    pub public_url: Option<String>,
}

impl ServerConfig {
    /// Loopback on a free port, accepting `api_key`, with the default limits.
    pub fn new(api_key: impl Into<String>) -> Self {
        ServerConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            api_keys: vec![ApiKey::new(api_key)],
            accept_chunked_uploads: false,
            record_requests: true,
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            unpack: UnpackLimits::default(),
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            upload_url_ttl: DEFAULT_UPLOAD_URL_TTL,
            public_url: None,
        }
    }

    /// Listens on `addr`.
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }
}
