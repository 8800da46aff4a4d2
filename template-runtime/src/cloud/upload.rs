//! Uploading a COPY step's archive: spooled to a temporary file (so its exact length is known:
//! presigned URLs reject chunked bodies), then streamed from disk. Memory stays bounded
//! whatever the context size.

use std::collections::BTreeMap;
use std::io::{self, BufWriter, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::header::CONTENT_LENGTH;
use tokio::io::AsyncReadExt;

use super::context_bridge;
use super::error::{CloudError, UploadError, joined};
use super::http::{MAX_ERROR_BODY, Transport, backoff, permit, read_capped, server_message};
use crate::step::CopyStep;
use crate::template::Template;

/// Read size when streaming the spooled archive.
const CHUNK: usize = 256 * 1024;

/// An archive on disk; deleted when dropped.
pub(crate) struct Spooled {
    pub path: tempfile::TempPath,
    pub len: u64,
}

/// Sets the flag when the future that owns it is dropped (a cancelled build), so the blocking
/// archive writer stops at its next write instead of running on.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

struct CancellableWriter<W> {
    inner: W,
    cancelled: Arc<AtomicBool>,
}

impl<W: Write> Write for CancellableWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.cancelled.load(Ordering::Relaxed) {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "build cancelled"));
        }
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes the archive of `copy`, a COPY step of `template`, to a temporary file, on a blocking
/// thread.
pub(crate) async fn spool(template: Arc<Template>, copy: CopyStep) -> Result<Spooled, CloudError> {
    let cancelled = Arc::new(AtomicBool::new(false));
    let _guard = CancelOnDrop(cancelled.clone());
    let task = tokio::task::spawn_blocking(move || -> Result<Spooled, CloudError> {
        let mut file = tempfile::Builder::new().prefix("sandbox-template-").suffix(".tar.gz").tempfile()?;
        {
            let mut out = CancellableWriter { inner: BufWriter::with_capacity(CHUNK, file.as_file_mut()), cancelled };
            context_bridge::write_archive(&template, &copy, &mut out)?;
            out.flush()?;
        }
        let len = file.as_file().metadata()?.len();
        Ok(Spooled { path: file.into_temp_path(), len })
    });
    joined(task.await, "writing the upload archive")?
}

/// `PUT`s the archive to `url` with the API-supplied `headers` (minus any `Content-Length`) and
/// the exact length; no API key, no SDK headers. Retries connection failures and 5xx (the same
/// bytes to the same URL), not 4xx.
pub(crate) async fn put(
    transport: &Transport,
    url: &str,
    headers: &BTreeMap<String, String>,
    archive: &Spooled,
    timeout: Option<Duration>,
    progress: Arc<dyn Fn(u64) + Send + Sync>,
) -> Result<(), UploadError> {
    let mut attempt = 0;
    loop {
        let result = put_once(transport, url, headers, archive, timeout, progress.clone()).await;
        match result {
            Ok(()) => return Ok(()),
            Err((error, retryable)) => {
                if !retryable || attempt >= transport.config.retries() {
                    return Err(error);
                }
                attempt += 1;
                tracing::debug!(attempt, %error, "retrying upload");
                tokio::time::sleep(backoff(attempt)).await;
            }
        }
    }
}

async fn put_once(
    transport: &Transport,
    url: &str,
    headers: &BTreeMap<String, String>,
    archive: &Spooled,
    timeout: Option<Duration>,
    progress: Arc<dyn Fn(u64) + Send + Sync>,
) -> Result<(), (UploadError, bool)> {
    let file = tokio::fs::File::open(&archive.path).await.map_err(|source| (UploadError::Archive { source }, false))?;
    let stream = futures_util::stream::unfold((file, 0u64), move |(mut file, mut sent)| {
        let progress = progress.clone();
        async move {
            let mut buf = vec![0u8; CHUNK];
            match file.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    sent += n as u64;
                    progress(sent);
                    Some((Ok::<_, io::Error>(buf), (file, sent)))
                }
                Err(e) => Some((Err(e), (file, sent))),
            }
        }
    });
    let mut req = transport.http.put(url);
    for (k, v) in headers {
        if !k.eq_ignore_ascii_case("content-length") {
            req = req.header(k.as_str(), v.as_str());
        }
    }
    req = req.header(CONTENT_LENGTH, archive.len).body(reqwest::Body::wrap_stream(stream));
    if let Some(t) = timeout {
        req = req.timeout(t);
    }
    let _permit = permit(&transport.in_flight).await;
    let resp = req.send().await.map_err(|e| {
        // Strip the URL: it carries the presigned signature.
        let source = e.without_url();
        let error =
            if source.is_timeout() { UploadError::Timeout { source } } else { UploadError::Connection { source } };
        (error, true)
    })?;
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let mut resp = resp;
    // Bounded: a storage service's error page is short; the rest is not read.
    let (body, complete) = read_capped(&mut resp, MAX_ERROR_BODY).await.unwrap_or_default();
    let error = UploadError::Rejected { status: status.as_u16(), message: server_message(status, &body, complete) };
    Err((error, status.is_server_error()))
}
