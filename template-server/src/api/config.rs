//! How a server is run: its address, its API keys, and what it accepts.

use std::net::SocketAddr;

use sandbox_template_runtime::cloud::ApiKey;

/// How to run the server.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Address to listen on (default `127.0.0.1:0`: loopback, any free port).
    pub addr: SocketAddr,
    /// Accepted API keys (`X-API-KEY`, or `Authorization: Bearer`).
    pub api_keys: Vec<ApiKey>,
    /// Accept uploads without `Content-Length` (chunked). Off by default: presigned URLs refuse
    /// them, and a client that works here must work there. On for benchmark baselines
    /// (`curl -T -`).
    pub accept_chunked_uploads: bool,
    /// Keep every request for [`ServerHandle::requests`](super::ServerHandle::requests) (default on, for tests; a long-running
    /// server turns it off).
    pub record_requests: bool,
}

impl ServerConfig {
    /// Loopback on a free port, accepting `api_key`.
    pub fn new(api_key: impl Into<String>) -> Self {
        ServerConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            api_keys: vec![ApiKey::new(api_key)],
            accept_chunked_uploads: false,
            record_requests: true,
        }
    }

    /// Listens on `addr`.
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }
}
