//! A loopback stand-in for a build API: answers every request with a function of it, and
//! records what was asked (method, path as sent, query, headers, body).

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;

/// One request as the server received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// The path as sent (percent-encoding kept).
    pub path: String,
    /// Query pairs, decoded and sorted.
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

type Respond = dyn Fn(&Recorded) -> Response + Send + Sync;

/// A running stand-in; stops when dropped.
pub struct FakeApi {
    pub url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeApi {
    /// Starts a server on a free loopback port answering with `respond`.
    pub async fn start(respond: impl Fn(&Recorded) -> Response + Send + Sync + 'static) -> FakeApi {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let respond: Arc<Respond> = Arc::new(respond);
        let log = requests.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: axum::body::Bytes| {
                let respond = respond.clone();
                let log = log.clone();
                async move {
                    let mut query: Vec<(String, String)> = uri
                        .query()
                        .map(|q| {
                            q.split('&')
                                .filter(|p| !p.is_empty())
                                .map(|p| {
                                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                                    (decode(k), decode(v))
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    query.sort();
                    let r = Recorded {
                        method: method.to_string(),
                        path: uri.path().to_owned(),
                        query,
                        headers,
                        body: body.to_vec(),
                    };
                    log.lock().unwrap().push(r.clone());
                    respond(&r)
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeApi { url, requests, task }
    }

    /// What was asked so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    /// Forgets what was asked.
    pub fn clear(&self) {
        self.requests.lock().unwrap().clear();
    }
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn decode(s: &str) -> String {
    let bytes = s.replace('+', " ").into_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A JSON answer.
pub fn json(status: u16, value: serde_json::Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(value.to_string()))
        .unwrap()
}

/// An answer with no body.
pub fn empty(status: u16) -> Response {
    Response::builder().status(status).body(Body::empty()).unwrap()
}
