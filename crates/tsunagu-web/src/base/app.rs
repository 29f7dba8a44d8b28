//! The pages as a phone app (#10): the web app manifest, its icon, the
//! service worker and the small script that registers it on a family's own
//! pages (`chrome.own_family()`), so the family's record and next steps stay
//! readable offline. Staff pages never load the script; the worker keeps
//! only the family's own pages and the stylesheet; sign-out forgets them.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

fn file(content_type: &'static str, body: &'static str) -> Response {
    ([(CONTENT_TYPE, content_type), (CACHE_CONTROL, "no-cache")], body).into_response()
}

pub(crate) async fn manifest() -> Response {
    file("application/manifest+json", include_str!("app/manifest.webmanifest"))
}

pub(crate) async fn icon() -> Response {
    file("image/svg+xml", include_str!("app/icon.svg"))
}

pub(crate) async fn worker() -> Response {
    file("text/javascript; charset=utf-8", include_str!("app/sw.js"))
}

pub(crate) async fn script() -> Response {
    file("text/javascript; charset=utf-8", include_str!("app/family.js"))
}
