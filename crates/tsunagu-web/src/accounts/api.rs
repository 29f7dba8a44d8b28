//! Accounts and the audit log in the JSON API, for the administrator.

use crate::accounts::{self, AuditParams};
use crate::base::api::{ApiJson, ApiPath};
use crate::base::error::{permit_municipality, require, ApiError, AppError};
use crate::base::session::ApiCaller;
use crate::base::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tsunagu_domain::audit::AuditAction;
use tsunagu_domain::policy::{authorize, Action, Resource};
use tsunagu_domain::AccountId;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/accounts", get(list_accounts).post(create_account))
        .route("/api/v1/accounts/{id}/disable", post(disable_account))
        .route("/api/v1/accounts/{id}/enable", post(enable_account))
        .route("/api/v1/accounts/{id}/password", post(reset_password))
        .route("/api/v1/accounts/{id}/totp-reset", post(reset_totp))
        .route("/api/v1/audit", get(search_audit))
}

fn require_admin(caller: &ApiCaller) -> Result<(), AppError> {
    require(authorize(&caller.actor, Action::ManageAccounts, &Resource::Municipality(caller.actor.municipality_id)))
}

/// Accounts of the municipality (administrators)
#[utoipa::path(get, path = "/api/v1/accounts", tag = "accounts",
    responses(
        (status = 200, description = "The accounts", body = super::api_doc::AccountList),
        (status = 403, description = "Not an administrator (`forbidden`)")))]
async fn list_accounts(State(state): State<AppState>, caller: ApiCaller) -> Result<Response, ApiError> {
    require_admin(&caller)?;
    let accounts: Vec<accounts::AccountView> =
        state.store.accounts(caller.actor.municipality_id).await?.iter().map(accounts::AccountView::from).collect();
    Ok(Json(json!({ "accounts": accounts })).into_response())
}

/// Create an account (administrators)
#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts", request_body = accounts::AccountInput,
    responses(
        (status = 201, description = "Created", body = accounts::AccountView),
        (status = 403, description = "Not an administrator (`forbidden`)"),
        (status = 409, description = "The user name is taken"),
        (status = 422, description = "Fields that did not pass (`invalid_input`)"),
        (status = 503, description = "No turn to hash the password in time (`busy`), or the database cannot be reached (`unavailable`)")))]
async fn create_account(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<accounts::AccountInput>,
) -> Result<Response, ApiError> {
    require_admin(&caller)?;
    let created = accounts::create(&state, &caller.account, &caller.audit("create account"), input).await?;
    Ok((StatusCode::CREATED, Json(accounts::AccountView::from(&created))).into_response())
}

/// Disable an account; its sessions end
#[utoipa::path(post, path = "/api/v1/accounts/{id}/disable", tag = "accounts",
    params(("id" = i64, Path, description = "Account id")),
    responses(
        (status = 204, description = "Disabled"),
        (status = 403, description = "Not an administrator (`forbidden`)"),
        (status = 409, description = "The municipality's last active administrator account, the caller's own included (`last_administrator`)")))]
async fn disable_account(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    require_admin(&caller)?;
    accounts::set_disabled(&state, &caller.account, &caller.audit("disable account"), AccountId(id), true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Enable an account
#[utoipa::path(post, path = "/api/v1/accounts/{id}/enable", tag = "accounts",
    params(("id" = i64, Path, description = "Account id")),
    responses(
        (status = 204, description = "Enabled"),
        (status = 403, description = "Not an administrator (`forbidden`)"),
        (status = 409, description = "The municipality's last active administrator account, the caller's own included (`last_administrator`)")))]
async fn enable_account(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    require_admin(&caller)?;
    accounts::set_disabled(&state, &caller.account, &caller.audit("enable account"), AccountId(id), false).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct PasswordReset {
    #[schema(min_length = 12)]
    password: String,
}

/// Set a new password; the account's sessions end
#[utoipa::path(post, path = "/api/v1/accounts/{id}/password", tag = "accounts",
    params(("id" = i64, Path, description = "Account id")), request_body = PasswordReset,
    responses(
        (status = 204, description = "Changed"),
        (status = 403, description = "Not an administrator (`forbidden`)"),
        (status = 422, description = "The password does not pass (`invalid_input`)"),
        (status = 503, description = "No turn to hash the password in time (`busy`), or the database cannot be reached (`unavailable`)")))]
async fn reset_password(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<PasswordReset>,
) -> Result<StatusCode, ApiError> {
    require_admin(&caller)?;
    accounts::reset_password(&state, &caller.account, &caller.audit("reset password"), AccountId(id), &body.password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove the second factor so the user enrols again; sessions end
#[utoipa::path(post, path = "/api/v1/accounts/{id}/totp-reset", tag = "accounts",
    params(("id" = i64, Path, description = "Account id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Not an administrator (`forbidden`)")))]
async fn reset_totp(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    require_admin(&caller)?;
    accounts::reset_totp(&state, &caller.account, &caller.audit("reset second factor"), AccountId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
struct AuditPage {
    lines: Vec<tsunagu_domain::audit::AuditLine>,
}

/// Search the audit log, newest first (administrators)
#[utoipa::path(get, path = "/api/v1/audit", tag = "accounts", params(AuditParams),
    responses(
        (status = 200, description = "The lines found", body = AuditPage),
        (status = 403, description = "Not an administrator (`forbidden`)")))]
async fn search_audit(
    State(state): State<AppState>,
    caller: ApiCaller,
    params: Result<Query<AuditParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let allowed = permit_municipality(&caller.actor, Action::ViewAudit)?;
    let Query(params) = params.map_err(|_| AppError::BadRequest("bad_query"))?;
    let q = params.query()?;
    let lines = state.store.search_audit(caller.actor.municipality_id, &q).await?;
    state
        .store
        .write_audit(&caller.audit("audit search").allowed(&allowed), AuditAction::AuditSearch, q.family_id, "")
        .await?;
    Ok(Json(AuditPage { lines }).into_response())
}
