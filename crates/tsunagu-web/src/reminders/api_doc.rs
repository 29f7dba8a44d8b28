//! The reminders' API operations for the OpenAPI document: none yet (the
//! settings are a page only; a JSON route would be described here).

#[derive(utoipa::OpenApi)]
#[openapi()]
pub struct ApiDoc;
