//! What every response goes through on its way out, whatever answered it:
//! the security headers, the API's error format for rejections a handler
//! never saw (a wrong method, a path that matched no route's shape), and a
//! last resort for a handler that panics. Input is bounded where it becomes
//! a domain value, so the last resort should never be used; it is there so
//! that a bug costs one request a 500, not the connection.

use crate::base::error::{ApiError, AppError};
use axum::extract::{MatchedPath, Request};
use axum::http::header::{
    CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

/// No inline script or style anywhere: the pages load `/static/app.css`
/// and, the chat's pages only, `/static/chat.js` (a family's own pages,
/// `/static/family.js`, which registers the service worker `/sw.js`); nothing may frame them,
/// and forms post only here.
pub const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Adds the security headers to every response, pages and API alike.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY_VALUE));
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    resp
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

/// Under `/api/`, an error answered by the framework rather than by our
/// handlers (405 for a wrong method, a rejection no extractor of ours
/// turned into an `ApiError`) becomes the API's JSON error with the same
/// status. Answers that are already JSON pass untouched.
pub async fn api_errors_as_json(req: Request, next: Next) -> Response {
    let api = is_api(req.uri().path());
    let resp = next.run(req).await;
    let status = resp.status();
    if !api || !(status.is_client_error() || status.is_server_error()) || is_json(&resp) {
        return resp;
    }
    let mut json = crate::base::error::api_error_for_status(status);
    // Keep what the framework said about the method (`Allow`) and the like.
    for name in [axum::http::header::ALLOW, axum::http::header::WWW_AUTHENTICATE] {
        if let Some(v) = resp.headers().get(&name) {
            json.headers_mut().insert(name, v.clone());
        }
    }
    json
}

fn is_json(resp: &Response) -> bool {
    resp.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).and_then(|v| v.split(';').next()).is_some_and(|v| {
        let v = v.trim();
        v == "application/json" || v.ends_with("+json")
    })
}

/// A handler that panics answers 500 (JSON under `/api/`, a page
/// elsewhere) instead of dropping the connection. The panic is logged
/// without its message, which may hold input.
pub async fn catch_panic(req: Request, next: Next) -> Response {
    let api = is_api(req.uri().path());
    match (CatchUnwind { inner: Box::pin(next.run(req)) }).await {
        Ok(resp) => resp,
        Err(()) => {
            tracing::error!("handler panicked; answered 500");
            if api {
                ApiError(AppError::Internal).into_response()
            } else {
                AppError::Internal.into_response()
            }
        }
    }
}

/// Polls a future, turning a panic inside it into `Err(())`.
struct CatchUnwind<F> {
    inner: Pin<Box<F>>,
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, ()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.get_mut().inner.as_mut();
        // The future is dropped after a panic, never polled again, so no
        // broken state of it is observed.
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => Poll::Ready(Err(())),
        }
    }
}

/// One log line per request: method, route pattern (never the raw path or
/// query, which can hold names), status and duration.
pub async fn log_request(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let route =
        req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "unmatched".to_owned());
    let started = std::time::Instant::now();
    let resp = next.run(req).await;
    tracing::info!(
        http.method = %method,
        http.route = %route,
        http.status = resp.status().as_u16(),
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pages must render under the policy: no inline script, style or
    /// event handler in any template (a new one would be blocked silently).
    #[test]
    fn templates_hold_nothing_the_policy_blocks() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("html") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap().to_ascii_lowercase();
            // A script of our own, from /static/ (script-src 'self'), is the only script a page may load.
            let text = text
                .replace("<script src=\"/static/chat.js\" defer></script>", "")
                .replace("<script src=\"/static/chat-notices.js\" defer></script>", "")
                .replace("<script src=\"/static/family.js\" defer></script>", "");
            for needle in ["<script", "<style", "style=", "javascript:"] {
                assert!(!text.contains(needle), "{} has {needle}", path.display());
            }
            // Event-handler attributes: ` on…=`.
            for (at, _) in text.match_indices(" on") {
                let name: String = text[at + 1..].chars().take_while(|c| c.is_ascii_alphabetic()).collect();
                let handler = name.len() > 2 && text[at + 1 + name.len()..].starts_with('=');
                assert!(!handler, "{} has an inline handler {name}", path.display());
            }
            checked += 1;
        }
        assert!(checked > 20, "only {checked} templates found");
        assert!(!CONTENT_SECURITY_POLICY_VALUE.contains("unsafe"));
    }
}
