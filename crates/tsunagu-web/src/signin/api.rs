//! Sign-in in the JSON API: a bearer token for a password (and the current
//! code, for staff), and signing out.

use crate::base::api::ApiJson;
use crate::base::error::{ApiError, AppError};
use crate::base::session::ApiCaller;
use crate::base::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use tsunagu_store::SessionStage;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/auth/token", post(issue_token)).route("/api/v1/auth/signout", post(revoke_token))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct TokenRequest {
    /// The 6-digit local government code, with its check digit.
    #[schema(pattern = "^[0-9]{6}$")]
    municipality: String,
    username: String,
    password: String,
    /// The current TOTP code; required for staff accounts.
    #[serde(default)]
    otp: Option<String>,
}

/// Sign in and receive a bearer token
///
/// Staff accounts must send the current TOTP code as `otp`. Wrong passwords
/// and wrong codes count against the account (from its last full sign-in)
/// and the address within a window; past the limit every sign-in, right or
/// wrong, gets 429 `too_many_attempts` until `Retry-After` seconds have
/// passed. When the service has no turn to check a password in time it
/// answers 503 `busy` with `Retry-After`.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "signin", request_body = TokenRequest, security(()),
    responses(
        (status = 200, description = "Signed in", body = super::api_doc::TokenIssued),
        (status = 400, description = "The municipality code does not parse: six digits with the check digit (`bad_municipality_code`)"),
        (status = 401, description = "Wrong municipality, user name, password or code (`unauthenticated`)"),
        (status = 429, description = "Too many failed sign-ins"),
        (status = 503, description = "No turn to check a password in time (`busy`), or the database cannot be reached (`unavailable`)")))]
async fn issue_token(
    State(state): State<AppState>,
    ctx: crate::base::session::RequestCtx,
    ApiJson(req): ApiJson<TokenRequest>,
) -> Result<Response, ApiError> {
    let signed = crate::signin::check_password(
        &state,
        &ctx.remote_addr,
        &req.municipality,
        &req.username,
        &req.password,
        ctx.now,
    )
    .await
    .map_err(|e| match e {
        AppError::BadRequest("invalid_credentials") => AppError::Unauthenticated,
        e => e,
    })?;
    if signed.needs_second_factor() {
        crate::signin::second_factor_with_password(&state, &signed, req.otp.as_deref(), ctx.now).await?;
    } else {
        crate::signin::settle(&state, signed.attempt, tsunagu_store::SigninOutcome::SignedIn).await?;
    }
    let account = signed.account;
    let token = crate::signin::start_session(&state, &account, SessionStage::Full, &ctx.remote_addr, ctx.now).await?;
    let expires = state.config.idle_timeout.as_secs();
    Ok(Json(json!({ "token": token, "token_type": "Bearer", "idle_timeout_seconds": expires, "role": account.role }))
        .into_response())
}

/// End the session of this token
#[utoipa::path(post, path = "/api/v1/auth/signout", tag = "signin",
    responses((status = 204, description = "Signed out")))]
async fn revoke_token(State(state): State<AppState>, caller: ApiCaller) -> Result<StatusCode, ApiError> {
    state.store.delete_session(caller.account.municipality_id, &caller.token_hash).await?;
    // The sockets opened with this token close (on every node).
    let kind = crate::base::events::SESSION_EVENT;
    state.events.publish_change(kind, caller.account.municipality_id.0, caller.account.id.0);
    Ok(StatusCode::NO_CONTENT)
}
