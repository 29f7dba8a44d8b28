//! A family's record at the edge: home, search, the pregnancy notification,
//! the record (with its timeline and referrals, read through `base`), a
//! birth, and a family's own record.

use crate::base::AppState;
use axum::Router;

pub mod api;
mod api_doc;
pub mod pages;

/// What this capability's API operations are, for the API's OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    <api_doc::ApiDoc as utoipa::OpenApi>::openapi()
}

/// The record's pages and API.
pub fn routes() -> Router<AppState> {
    Router::new().merge(pages::routes()).merge(api::routes())
}
