//! Reminders (#10): a family member's own choice of e-mail reminders of the
//! family's bookings and stays (an address, on or off, how many days ahead),
//! on a page reachable from わが家の記録. The rules are the domain's
//! `reminders`; the job that sends them is `tsunagu::reminders` (the SMTP
//! client `tsunagu::smtp`). No JSON route yet: the API document is empty.

use crate::base::AppState;
use axum::Router;

mod api_doc;
pub mod pages;

/// What this capability's API operations are, for the API's OpenAPI document (none yet).
pub fn openapi() -> utoipa::openapi::OpenApi {
    <api_doc::ApiDoc as utoipa::OpenApi>::openapi()
}

/// The reminders' page.
pub fn routes() -> Router<AppState> {
    Router::new().merge(pages::routes())
}
