//! What sign-in's API answers, for the OpenAPI document, and its operations.

#![allow(dead_code)] // Described, never built: the handler answers the same shape.

use utoipa::ToSchema;

/// A bearer token for the account.
#[derive(ToSchema)]
pub struct TokenIssued {
    /// Send as `Authorization: Bearer <token>`.
    token: String,
    /// Always `Bearer`.
    token_type: String,
    /// The session ends after this long without a call.
    idle_timeout_seconds: u64,
    role: tsunagu_domain::roles::Role,
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(super::api::issue_token, super::api::revoke_token),
    tags((name = "signin", description = "Bearer tokens: signing in and out"))
)]
pub struct ApiDoc;
