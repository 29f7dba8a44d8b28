//! tsunagu's HTTP edge: the pages (server-rendered, Japanese first), the
//! JSON API, sign-in and sessions. Handlers resolve who is asking, ask the
//! domain's policy, then call the store; they hold no rules of their own.
//!
//! One folder per capability, each owning its routes, API handlers and
//! pages; `base` is what they all share. This file only merges their routers
//! and puts the layers around them.

use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::Router;

pub mod accounts;
pub mod base;
pub mod care;
pub mod chat;
pub mod classes;
pub mod i18n;
pub mod meetings;
pub mod postpartum;
pub mod records;
pub mod reminders;
pub mod reports;
pub mod screening;
pub mod signin;
pub mod timeline;

pub use base::config::WebConfig;
pub use base::AppState;

/// The whole service as one router.
pub fn router(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    Router::new()
        .merge(base::health::routes())
        .merge(base::routes())
        .merge(base::openapi::routes(openapi))
        .merge(signin::routes())
        .merge(records::routes())
        .merge(accounts::routes())
        .merge(timeline::routes())
        .merge(meetings::routes())
        .merge(screening::routes())
        .merge(care::routes())
        .merge(postpartum::routes())
        .merge(classes::routes())
        .merge(chat::routes())
        .merge(reports::routes())
        .merge(reminders::routes())
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn(base::edge::catch_panic))
        .layer(middleware::from_fn(base::edge::api_errors_as_json))
        .layer(middleware::from_fn(base::error::api_language))
        .layer(middleware::from_fn(base::edge::security_headers))
        .layer(middleware::from_fn(base::edge::log_request))
        .layer(middleware::from_fn_with_state(state.clone(), base::observe::observe))
        .with_state(state)
}

/// The API's OpenAPI document: what each capability describes of its
/// operations, merged as their routers are (served at `/api/openapi.json`).
pub fn openapi() -> serde_json::Value {
    base::openapi::document([
        signin::openapi(),
        records::openapi(),
        accounts::openapi(),
        timeline::openapi(),
        meetings::openapi(),
        screening::openapi(),
        care::openapi(),
        postpartum::openapi(),
        classes::openapi(),
        chat::openapi(),
        reports::openapi(),
        reminders::openapi(),
    ])
}
