//! Upload URLs as capabilities, and where uploads wait until a build verifies them.
//!
//! **The URL is the permission.** `GET /templates/{id}/files/{hash}` (which needs the API key)
//! answers with `/upload/{templateID}/{hash}?expires=UNIX&signature=HEX`, the signature an
//! HMAC-SHA256 of template ID, hash and expiry under a key drawn at random when the server
//! starts, as the cloud's presigned URLs are. `PUT /upload/...` checks the signature (in
//! constant time) and the expiry before it reads a byte of the body; anything else gets 403.
//! Nothing is stored per URL, and a restart invalidates every URL handed out (a client asks
//! again, as it would after a presigned URL expired).
//!
//! **Verified once, when a build first names it.** `filesHash` covers `COPY src dest` as well as
//! the files (SPEC §C.3), and the upload request carries neither `src` nor `dest`: only the
//! build request that names the hash says what the archive must hash to. So:
//!
//! 1. an upload streams into a `.part-*` file in the uploads folder, is refused over
//!    [`ServerConfig::max_upload_bytes`](super::ServerConfig::max_upload_bytes) (413, before
//!    reading when `Content-Length` says so), is read through once to check the
//!    [`UnpackLimits`](crate::runner::UnpackLimits) (413 naming the limit, or 400 when it is not
//!    a tar), and only then is kept as `HASH.unverified`;
//! 2. `GET .../files/{hash}` reports `present` only for verified archives, so a client uploads
//!    again rather than trust an unverified one;
//! 3. the first build whose COPY step names the hash unpacks the archive into a scratch folder,
//!    hashes it as that step's context, and checks it holds nothing the step does not copy. A
//!    match renames it to `HASH` (content-addressed: any later step naming the hash has the same
//!    `src`, `dest` and files, short of a SHA-256 collision); a mismatch deletes it and the build
//!    request gets 400 naming the step. Verifications run one at a time, so two builds never
//!    race on one file.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The per-process key upload URLs are signed with.
pub(super) struct UploadSigner {
    key: [u8; 32],
    ttl: Duration,
}

impl std::fmt::Debug for UploadSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadSigner").field("key", &"<redacted>").field("ttl", &self.ttl).finish()
    }
}

/// Why an upload URL was refused (the 403's message).
#[derive(Debug, PartialEq, Eq)]
pub(super) enum TokenError {
    /// No `expires`/`signature` in the query.
    Missing,
    /// The signature does not match template, hash and expiry.
    Forged,
    /// Past its expiry.
    Expired,
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TokenError::Missing => {
                "this upload URL is not signed: upload to the URL that GET /templates/{templateID}/files/{hash} answers with"
            }
            TokenError::Forged => {
                "this upload URL's signature is not valid for its template and hash: ask GET /templates/{templateID}/files/{hash} for a new URL"
            }
            TokenError::Expired => "this upload URL has expired: ask GET /templates/{templateID}/files/{hash} for a new URL",
        })
    }
}

type HmacSha256 = Hmac<Sha256>;

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

impl UploadSigner {
    /// A signer with a fresh random key.
    pub(super) fn new(ttl: Duration) -> std::io::Result<Self> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key)
            .map_err(|e| std::io::Error::other(format!("no OS randomness for the upload key: {e}")))?;
        Ok(UploadSigner { key, ttl })
    }

    fn mac(&self, template_id: &str, hash: &str, expires: u64) -> HmacSha256 {
        let mut mac =
            HmacSha256::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        // Template IDs and hashes hold no NUL: the fields cannot run into each other.
        mac.update(template_id.as_bytes());
        mac.update(b"\0");
        mac.update(hash.as_bytes());
        mac.update(b"\0");
        mac.update(expires.to_string().as_bytes());
        mac
    }

    /// The query string (`expires=..&signature=..`) of an upload URL for `template_id`/`hash`.
    pub(super) fn sign(&self, template_id: &str, hash: &str) -> String {
        let expires = now().saturating_add(self.ttl.as_secs());
        let tag = self.mac(template_id, hash, expires).finalize().into_bytes();
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        format!("expires={expires}&signature={hex}")
    }

    /// Checks the query of a `PUT /upload/{template_id}/{hash}`.
    pub(super) fn check(&self, template_id: &str, hash: &str, query: Option<&str>) -> Result<(), TokenError> {
        let (mut expires, mut signature) = (None, None);
        for pair in query.unwrap_or("").split('&') {
            match pair.split_once('=') {
                Some(("expires", v)) => expires = v.parse::<u64>().ok(),
                Some(("signature", v)) => signature = decode_hex(v),
                _ => {}
            }
        }
        let (Some(expires), Some(signature)) = (expires, signature) else { return Err(TokenError::Missing) };
        let want = self.mac(template_id, hash, expires).finalize().into_bytes();
        if !bool::from(want.as_slice().ct_eq(&signature)) {
            return Err(TokenError::Forged);
        }
        if now() > expires {
            return Err(TokenError::Expired);
        }
        Ok(())
    }
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// Where an upload waits for its first build to verify it.
pub(super) fn unverified_path(uploads: &Path, hash: &str) -> PathBuf {
    uploads.join(format!("{hash}.unverified"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_binds_template_hash_and_expiry() {
        let signer = UploadSigner::new(Duration::from_secs(60)).unwrap();
        let q = signer.sign("tpl1", "ab");
        assert_eq!(signer.check("tpl1", "ab", Some(&q)), Ok(()));
        assert_eq!(signer.check("tpl2", "ab", Some(&q)), Err(TokenError::Forged));
        assert_eq!(signer.check("tpl1", "ac", Some(&q)), Err(TokenError::Forged));
        let later = q.replacen("expires=", "expires=9", 1);
        assert_eq!(signer.check("tpl1", "ab", Some(&later)), Err(TokenError::Forged));
        assert_eq!(signer.check("tpl1", "ab", None), Err(TokenError::Missing));
        let other = UploadSigner::new(Duration::from_secs(60)).unwrap();
        assert_eq!(other.check("tpl1", "ab", Some(&q)), Err(TokenError::Forged));
        let expired = UploadSigner { key: signer.key, ttl: Duration::ZERO };
        let q = format!("expires=1&signature={}", {
            let tag = expired.mac("tpl1", "ab", 1).finalize().into_bytes();
            tag.iter().map(|b| format!("{b:02x}")).collect::<String>()
        });
        assert_eq!(signer.check("tpl1", "ab", Some(&q)), Err(TokenError::Expired));
    }
}
