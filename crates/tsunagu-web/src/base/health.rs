//! `/healthz` and `/readyz`, for a load balancer or an orchestrator.
//!
//! `/healthz` answers while the process does (it reads nothing): restart
//! the node when it stops answering. `/readyz` answers 200 only while the
//! node can serve: the database answers and its migrations are this
//! build's, and the node is not shutting down; otherwise 503 with the
//! reason in one line — send it no requests meanwhile.

use crate::base::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use std::sync::atomic::Ordering;

pub fn routes() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz))
}

async fn healthz() -> impl IntoResponse {
    (StatusCode::OK, "ok")
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if state.draining.load(Ordering::Relaxed) {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down".to_owned());
    }
    if state.store.ping().await.is_err() {
        return (StatusCode::SERVICE_UNAVAILABLE, "database unreachable".to_owned());
    }
    match state.store.schema_status().await {
        Ok(s) if s.is_current() => (StatusCode::OK, "ready".to_owned()),
        Ok(s) => {
            let list = |v: &[i64]| v.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            let mut why = Vec::new();
            if !s.pending.is_empty() {
                why.push(format!("migrations pending: {}", list(&s.pending)));
            }
            if !s.changed.is_empty() {
                why.push(format!("migrations changed: {}", list(&s.changed)));
            }
            (StatusCode::SERVICE_UNAVAILABLE, why.join("; "))
        }
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unreachable".to_owned()),
    }
}
