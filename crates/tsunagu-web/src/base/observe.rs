//! The outermost layer: gives every request an id, runs it inside a
//! tracing span that carries the id (so every log line written while it is
//! answered names it, the request log's included), counts it in the
//! metrics by route pattern and status, and puts the id on the response
//! (`x-request-id`).
//!
//! An id a client sends is taken only when the service stands behind
//! proxies we trust (`--trusted-proxies`): the proxy's id then ties its
//! logs to ours. Even then it must look like an id — 1 to 64 letters,
//! digits, `-`, `_`, `.` — or a new one is made: a client must not write
//! into our logs.

use crate::base::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request's id, in the request's extensions for whoever wants to show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// An incoming id, if it looks like one.
pub fn sane_id(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    ok.then(|| s.to_owned())
}

/// A new id: 128 random bits in hex.
pub fn new_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::getrandom(&mut bytes).is_err() {
        // No randomness: still unique within the process, which is what a log needs.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        bytes[..8].copy_from_slice(&n.to_be_bytes());
        bytes[8..].copy_from_slice(&u64::from(std::process::id()).to_be_bytes());
    }
    hex::encode(bytes)
}

pub async fn observe(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let id = if state.config.forwarded_hops() > 0 { req.headers().get(&REQUEST_ID).and_then(sane_id) } else { None }
        .unwrap_or_else(new_id);
    let method = req.method().clone();
    let route =
        req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "unmatched".to_owned());
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", request_id = %id);
    let metrics = state.metrics.clone();
    let in_flight = metrics.start();
    let started = std::time::Instant::now();
    let mut resp = next.run(req).instrument(span).await;
    drop(in_flight);
    metrics.record(&method, &route, resp.status().as_u16(), started.elapsed());
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_id_shaped_values_are_taken() {
        let ok = |s: &str| sane_id(&HeaderValue::from_str(s).unwrap());
        assert_eq!(ok("3f2a-9c.e_1"), Some("3f2a-9c.e_1".to_owned()));
        assert_eq!(ok(&"a".repeat(64)), Some("a".repeat(64)));
        assert_eq!(ok(&"a".repeat(65)), None);
        assert_eq!(ok(""), None);
        assert_eq!(ok("a b"), None);
        assert_eq!(ok("id\"}{"), None);
        assert_eq!(sane_id(&HeaderValue::from_bytes("ヤマダ".as_bytes()).unwrap()), None);
        assert_eq!(new_id().len(), 32);
        assert_ne!(new_id(), new_id());
    }
}
