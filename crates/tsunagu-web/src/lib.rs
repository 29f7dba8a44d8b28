//! tsunagu's HTTP edge: the pages (server-rendered, Japanese first), the
//! JSON API, sign-in and sessions. Handlers resolve who is asking, ask the
//! domain's policy, then call the store; they hold no rules of their own.

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;
use tsunagu_domain::clock::Clock;
use tsunagu_store::Store;

pub mod accounts;
pub mod api;
pub mod api_meetings;
pub mod api_timeline;
pub mod auth;
pub mod care;
pub mod care_pages;
pub mod config;
pub mod edge;
pub mod error;
pub mod forwarded;
pub mod i18n;
pub mod local_path;
pub mod meetings;
pub mod meetings_pages;
pub mod pages;
pub mod postpartum;
pub mod postpartum_pages;
pub mod screening;
pub mod screening_pages;
pub mod session;
pub mod signin;
pub mod timeline;
pub mod timeline_pages;

pub use config::WebConfig;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<WebConfig>,
    /// Password hashing, bounded to `config.hash_concurrency` at once.
    pub hashing: auth::HashLimiter,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, config: WebConfig) -> Self {
        let hashing = auth::HashLimiter::new(config.hash_concurrency, config.hash_wait);
        Self { store, clock, config: Arc::new(config), hashing }
    }
}

/// The whole service as one router.
pub fn router(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    Router::new()
        .route("/healthz", get(healthz))
        .merge(api_timeline::routes())
        .merge(api_meetings::routes())
        .merge(api::routes())
        .merge(postpartum_pages::routes())
        .merge(care_pages::routes())
        .merge(timeline_pages::routes())
        .merge(screening_pages::routes())
        .merge(meetings_pages::routes())
        .merge(pages::routes())
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn(edge::catch_panic))
        .layer(middleware::from_fn(edge::api_errors_as_json))
        .layer(middleware::from_fn(edge::security_headers))
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response(),
    }
}

/// One log line per request: method, route pattern (never the raw path or
/// query, which can hold names), status and duration.
async fn log_request(req: Request, next: Next) -> Response {
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
