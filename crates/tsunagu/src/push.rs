//! Web push delivery (#10): one encrypted message (RFC 8291, the domain's
//! `push::encrypt`) with a VAPID token (RFC 8292) POSTed to a browser's
//! push service. Push services speak HTTPS only and tsunagu carries no TLS
//! client: every request goes in absolute form (`POST https://push.example/…
//! HTTP/1.1`) to an operator-run forward proxy (`--push-proxy host:port`)
//! that originates the TLS connection (docs/DEPLOY.md), as the LINE outbox
//! goes through its egress proxy. A small HTTP/1.1 client over tokio TCP
//! (`Connection: close`, only the status line is read), a timeout on every step.

use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tsunagu_domain::push::{encrypt, is_scalar, origin, Subscription, VapidKey};

/// How long a push service keeps a message for an offline browser (seconds).
pub const TTL_SECONDS: u32 = 24 * 60 * 60;

/// Where pushes go and as whom.
#[derive(Debug, Clone)]
pub struct Pusher {
    /// `host:port` of the forward proxy that originates TLS (`--push-proxy`).
    pub proxy: String,
    /// The service's VAPID key (derived from the operator's key).
    pub vapid: VapidKey,
    /// The operator's contact for push services: `mailto:…` (`--push-subject`).
    pub subject: String,
    /// The most one step (connect, write, the answer) may take.
    pub timeout: Duration,
}

/// What the push service said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// 2xx: taken.
    Taken,
    /// 404 or 410: the subscription is gone; it is deleted.
    Gone,
}

#[derive(Debug, thiserror::Error)]
pub enum PushSendError {
    #[error("the push service did not answer in time ({0})")]
    Timeout(&'static str),
    #[error("talking to the push proxy: {0}")]
    Io(#[from] std::io::Error),
    #[error("the push service answered {0}")]
    Refused(u16),
    #[error("the answer is not HTTP")]
    Garbled,
    #[error("the message could not be encrypted: {0}")]
    Crypto(#[from] tsunagu_domain::push::PushError),
}

/// A fresh message key (a scalar of the curve) and salt from the system's randomness.
fn fresh_key_and_salt() -> Result<([u8; 32], [u8; 16]), std::io::Error> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(std::io::Error::other)?;
    for _ in 0..16 {
        let mut key = [0u8; 32];
        getrandom::getrandom(&mut key).map_err(std::io::Error::other)?;
        if is_scalar(&key) {
            return Ok((key, salt));
        }
    }
    Err(std::io::Error::other("no message key"))
}

/// Encrypts `payload` for `sub` and POSTs it through the proxy.
pub async fn send(
    pusher: &Pusher,
    sub: &Subscription,
    payload: &[u8],
    now_secs: i64,
) -> Result<Delivery, PushSendError> {
    let (key, salt) = fresh_key_and_salt()?;
    let body = encrypt(payload, &sub.p256dh, &sub.auth, &key, &salt)?;
    let authorization = pusher.vapid.authorization(&sub.endpoint, now_secs, &pusher.subject)?;
    let host = origin(&sub.endpoint)
        .and_then(|o| o.strip_prefix("https://").map(str::to_owned))
        .ok_or(tsunagu_domain::push::PushError::BadEndpoint)?;
    // The endpoint was checked when kept (an https URL of printable ASCII,
    // no spaces): nothing in it can end the request line or a header.
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {authorization}\r\nTTL: {TTL_SECONDS}\r\n\
         Urgency: normal\r\nContent-Type: application/octet-stream\r\nContent-Encoding: aes128gcm\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        sub.endpoint,
        body.len()
    );
    let t = pusher.timeout;
    let mut stream = tokio::time::timeout(t, TcpStream::connect(&pusher.proxy))
        .await
        .map_err(|_| PushSendError::Timeout("connect"))??;
    let mut request = head.into_bytes();
    request.extend_from_slice(&body);
    tokio::time::timeout(t, stream.write_all(&request)).await.map_err(|_| PushSendError::Timeout("write"))??;
    let mut read = BufReader::new(stream);
    let mut status = String::new();
    tokio::time::timeout(t, read.read_line(&mut status)).await.map_err(|_| PushSendError::Timeout("answer"))??;
    let code: u16 = status
        .strip_prefix("HTTP/1.")
        .and_then(|s| s.get(2..5))
        .and_then(|c| c.parse().ok())
        .ok_or(PushSendError::Garbled)?;
    match code {
        200..=299 => Ok(Delivery::Taken),
        404 | 410 => Ok(Delivery::Gone),
        other => Err(PushSendError::Refused(other)),
    }
}
