//! The reports' operations and tag, for the OpenAPI document (the answer's
//! schemas derive `ToSchema` where they are defined, in `mod.rs`).

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(super::api::report, super::nation::api_nation, super::printed::api_get, super::printed::api_save),
    tags((name = "reports", description = "Reports by fiscal year [001][002]: tables (class participation per venue and the chat's figures among them), indicators, small-cell suppression"))
)]
pub struct ApiDoc;
