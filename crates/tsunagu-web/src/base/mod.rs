//! What every capability shares, and nothing of any one capability: the
//! state handlers are given, the caller and its session, CSRF, passwords and
//! second factors, the error type for pages and API, the page chrome, the
//! API's extractors and description, the layers every response passes, and
//! the policy-facing lookups and views more than one capability needs.
//!
//! *Architecture invariant:* nothing here names a capability (a test reads
//! the source tree to keep it so).

use axum::routing::{any, get};
use axum::Router;

pub mod access;
pub mod api;
pub mod app;
pub mod auth;
pub mod chrome;
pub mod config;
pub mod dates;
pub mod edge;
pub mod error;
pub mod events;
pub mod forwarded;
pub mod health;
pub mod local_path;
pub mod metrics;
pub mod observe;
pub mod openapi;
pub mod screening_words;
pub mod session;
pub mod shared;
pub mod state;
pub mod views;

pub use state::AppState;

/// What belongs to no capability: the stylesheet, the API's 404 and the
/// pages' 404. (The API's description is `openapi::routes`, given by
/// `lib.rs` what each capability describes.)
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/static/app.css", get(chrome::stylesheet))
        .route("/manifest.webmanifest", get(app::manifest))
        .route("/static/icon.svg", get(app::icon))
        .route("/static/family.js", get(app::script))
        .route("/sw.js", get(app::worker))
        .route("/api/{*rest}", any(api::not_found))
        .fallback(chrome::not_found)
}
