//! A family's record at the edge: home, search, the pregnancy notification,
//! the record (with its timeline and referrals, read through `base`), a
//! birth, and a family's own record.

use crate::base::AppState;
use axum::Router;

pub mod api;
pub mod pages;

/// The record's pages and API.
pub fn routes() -> Router<AppState> {
    Router::new().merge(pages::routes()).merge(api::routes())
}
