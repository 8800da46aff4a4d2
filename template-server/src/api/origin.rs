//! The `Host` check against DNS rebinding: a web page on `evil.example` that resolves its own
//! name to `127.0.0.1` can make a browser send requests to a loopback server, but the browser
//! still sends `Host: evil.example`. So a server listening on loopback accepts only loopback names
//! (`localhost`, `127.0.0.1`, `[::1]`, with any port), plus the host of
//! [`ServerConfig::public_url`](super::ServerConfig::public_url) when one is set; a server on
//! another address accepts any host unless a public URL names the one to accept. Anything else
//! gets 421 naming the host.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;
use super::handlers::error;

/// Which `Host` values are accepted.
#[derive(Debug)]
pub(super) struct HostPolicy {
    /// `None`: any host.
    allowed: Option<Vec<String>>,
}

const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// The host part of a `Host` header or URL authority, lower-case, without port.
fn host_of(authority: &str) -> String {
    let authority = authority.trim().to_ascii_lowercase();
    if let Some(rest) = authority.strip_prefix('[') {
        // `[::1]:3000` → `[::1]`
        return match rest.split_once(']') {
            Some((ip, _)) => format!("[{ip}]"),
            None => authority,
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host.to_owned(),
        _ => authority,
    }
}

impl HostPolicy {
    /// The policy of a server listening on `addr`, reached at `public_url` if given.
    pub(super) fn new(addr: SocketAddr, public_url: Option<&str>) -> std::io::Result<Self> {
        let public = match public_url {
            None => None,
            Some(url) => {
                let rest = url.split_once("://").map(|(_, r)| r).ok_or_else(|| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        format!("the public URL {url:?} must start with http:// or https://"),
                    )
                })?;
                let authority = rest.split('/').next().unwrap_or("");
                let host = host_of(authority.rsplit_once('@').map_or(authority, |(_, h)| h));
                if host.is_empty() {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        format!("the public URL {url:?} has no host"),
                    ));
                }
                Some(host)
            }
        };
        let allowed = match (addr.ip().is_loopback(), public) {
            (_, Some(public)) => {
                let mut hosts: Vec<String> = LOOPBACK_NAMES.iter().map(|s| (*s).to_owned()).collect();
                hosts.push(public);
                Some(hosts)
            }
            (true, None) => Some(LOOPBACK_NAMES.iter().map(|s| (*s).to_owned()).collect()),
            (false, None) => None,
        };
        Ok(HostPolicy { allowed })
    }

    /// `Ok` when `host` (a `Host` header value, if any) is accepted; else the message.
    fn check(&self, host: Option<&str>) -> Result<(), String> {
        let Some(allowed) = &self.allowed else { return Ok(()) };
        let Some(host) = host else {
            return Err("the request has no Host header; send the name you reach this server by".to_owned());
        };
        if allowed.iter().any(|a| *a == host_of(host)) {
            Ok(())
        } else {
            Err(format!(
                "this server does not answer to the host {host:?} (accepted: {}); if that is its public name, \
                 start it with `serve --public-url`",
                allowed.join(", ")
            ))
        }
    }
}

/// Refuses requests whose `Host` the [`HostPolicy`] does not accept, with 421.
pub(super) async fn check_host(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let host = req.headers().get(header::HOST).map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned());
    match state.hosts.check(host.as_deref()) {
        Ok(()) => next.run(req).await,
        Err(message) => error(StatusCode::MISDIRECTED_REQUEST, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_accepts_loopback_names_only() {
        let p = HostPolicy::new("127.0.0.1:3000".parse().unwrap(), None).unwrap();
        for ok in ["localhost:3000", "127.0.0.1:3000", "[::1]:3000", "LOCALHOST", "127.0.0.1"] {
            assert_eq!(p.check(Some(ok)), Ok(()), "{ok}");
        }
        for bad in ["evil.example", "evil.example:3000", "127.0.0.1.evil.example", "localhost.evil"] {
            assert!(p.check(Some(bad)).unwrap_err().contains(bad), "{bad}");
        }
        assert!(p.check(None).is_err());
    }

    #[test]
    fn a_public_url_adds_its_host() {
        let p = HostPolicy::new("127.0.0.1:3000".parse().unwrap(), Some("https://build.example.com/")).unwrap();
        assert_eq!(p.check(Some("build.example.com")), Ok(()));
        assert!(p.check(Some("other.example.com")).is_err());
        let any = HostPolicy::new("0.0.0.0:3000".parse().unwrap(), None).unwrap();
        assert_eq!(any.check(Some("whatever")), Ok(()));
        assert!(HostPolicy::new("127.0.0.1:1".parse().unwrap(), Some("build.example.com")).is_err());
    }
}
