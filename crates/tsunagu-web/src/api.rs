//! The JSON API under `/api/v1`, described by `/api/openapi.json`. Same
//! policy, same store, same audit as the pages.

use crate::accounts;
use crate::base::access::family_for;
use crate::base::api::{ApiJson, ApiPath};
use crate::base::error::{require, ApiError, AppError};
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
use tsunagu_domain::kana;
use tsunagu_domain::policy::{authorize, family_filter, Action, Resource};
use tsunagu_domain::records::{BirthInput, NotificationInput};
use tsunagu_domain::{AccountId, FamilyId, PregnancyId};
use tsunagu_store::{AuditQuery, SessionStage};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/token", post(issue_token))
        .route("/api/v1/auth/signout", post(revoke_token))
        .route("/api/v1/areas", get(list_areas))
        .route("/api/v1/families", get(search_families).post(register_notification))
        .route("/api/v1/families/{id}", get(open_family))
        .route("/api/v1/families/{id}/pregnancies/{pregnancy}/births", post(record_birth))
        .route("/api/v1/me/family", get(my_family))
        .route("/api/v1/accounts", get(list_accounts).post(create_account))
        .route("/api/v1/accounts/{id}/disable", post(disable_account))
        .route("/api/v1/accounts/{id}/enable", post(enable_account))
        .route("/api/v1/accounts/{id}/password", post(reset_password))
        .route("/api/v1/accounts/{id}/totp-reset", post(reset_totp))
        .route("/api/v1/audit", get(search_audit))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenRequest {
    municipality: String,
    username: String,
    password: String,
    /// The current TOTP code; required for staff accounts.
    #[serde(default)]
    otp: Option<String>,
}

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

async fn revoke_token(State(state): State<AppState>, caller: ApiCaller) -> Result<StatusCode, ApiError> {
    state.store.delete_session(&caller.token_hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_areas(State(state): State<AppState>, caller: ApiCaller) -> Result<Response, ApiError> {
    let areas = state.store.areas(caller.actor.municipality_id).await?;
    Ok(Json(json!({ "areas": areas })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    limit: Option<u32>,
}

async fn search_families(
    State(state): State<AppState>,
    caller: ApiCaller,
    params: Result<Query<SearchParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|_| AppError::BadRequest("bad_query"))?;
    let filter = family_filter(&caller.actor).ok_or(AppError::Forbidden)?;
    if params.q.chars().count() > 50 {
        return Err(AppError::BadRequest("bad_query").into());
    }
    let key = kana::search_key(&params.q);
    let limit = params.limit.unwrap_or(50).clamp(1, 200);
    let rows = state.store.search_families(&caller.audit("search"), &filter, &key, limit).await?;
    Ok(Json(json!({ "families": rows })).into_response())
}

async fn register_notification(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<NotificationInput>,
) -> Result<Response, ApiError> {
    require(authorize(
        &caller.actor,
        Action::RegisterNotification,
        &Resource::Municipality(caller.actor.municipality_id),
    ))?;
    let n = input.check(state.clock.today()).map_err(AppError::Invalid)?;
    let id = state.store.register_notification(&caller.audit("pregnancy notification"), &n).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

async fn open_family(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let id = FamilyId(id);
    family_for(&state, &caller.actor, id, Action::ViewFamily).await?;
    let record = state.store.open_family(&caller.audit("view record"), id).await?.ok_or(AppError::NotFound)?;
    Ok(Json(record).into_response())
}

async fn my_family(State(state): State<AppState>, caller: ApiCaller) -> Result<Response, ApiError> {
    let id = caller.actor.family_id.ok_or(AppError::Forbidden)?;
    family_for(&state, &caller.actor, id, Action::ViewFamily).await?;
    let record = state.store.open_family(&caller.audit("own record"), id).await?.ok_or(AppError::NotFound)?;
    Ok(Json(record).into_response())
}

async fn record_birth(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, pregnancy)): ApiPath<(i64, i64)>,
    ApiJson(input): ApiJson<BirthInput>,
) -> Result<Response, ApiError> {
    let id = FamilyId(id);
    family_for(&state, &caller.actor, id, Action::EditFamily).await?;
    let record = state.store.open_family(&caller.audit("record birth"), id).await?.ok_or(AppError::NotFound)?;
    let p = record.pregnancies.iter().find(|p| p.id == PregnancyId(pregnancy)).ok_or(AppError::NotFound)?;
    let babies = input.check(p, state.clock.today()).map_err(AppError::Invalid)?;
    let ids = state.store.record_birth(&caller.audit("record birth"), id, p.id, &babies).await?;
    Ok((StatusCode::CREATED, Json(json!({ "baby_ids": ids }))).into_response())
}

fn require_admin(caller: &ApiCaller) -> Result<(), AppError> {
    require(authorize(&caller.actor, Action::ManageAccounts, &Resource::Municipality(caller.actor.municipality_id)))
}

async fn list_accounts(State(state): State<AppState>, caller: ApiCaller) -> Result<Response, ApiError> {
    require_admin(&caller)?;
    let accounts: Vec<accounts::AccountView> =
        state.store.accounts(caller.actor.municipality_id).await?.iter().map(accounts::AccountView::from).collect();
    Ok(Json(json!({ "accounts": accounts })).into_response())
}

async fn create_account(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<accounts::AccountInput>,
) -> Result<Response, ApiError> {
    require_admin(&caller)?;
    let created = accounts::create(&state, &caller.account, &caller.audit("create account"), input).await?;
    Ok((StatusCode::CREATED, Json(accounts::AccountView::from(&created))).into_response())
}

async fn disable_account(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    require_admin(&caller)?;
    accounts::set_disabled(&state, &caller.account, &caller.audit("disable account"), AccountId(id), true).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn enable_account(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    require_admin(&caller)?;
    accounts::set_disabled(&state, &caller.account, &caller.audit("enable account"), AccountId(id), false).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordReset {
    password: String,
}

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

async fn reset_totp(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    require_admin(&caller)?;
    accounts::reset_totp(&state, &caller.account, &caller.audit("reset second factor"), AccountId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditParams {
    #[serde(default)]
    pub actor: Option<i64>,
    #[serde(default)]
    pub family: Option<i64>,
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub before: Option<i64>,
    #[serde(default)]
    pub limit: Option<u32>,
}

impl AuditParams {
    pub(crate) fn query(&self) -> Result<AuditQuery, AppError> {
        let action = match self.action.as_deref().filter(|a| !a.is_empty()) {
            None => None,
            Some(a) => Some(AuditAction::parse(a).ok_or(AppError::BadRequest("bad_query"))?),
        };
        Ok(AuditQuery {
            actor: self.actor.map(AccountId),
            family_id: self.family.map(FamilyId),
            action,
            from: None,
            to: None,
            before_seq: self.before,
            limit: self.limit.unwrap_or(100).clamp(1, 500),
        })
    }
}

#[derive(Serialize)]
struct AuditPage {
    lines: Vec<tsunagu_domain::audit::AuditLine>,
}

async fn search_audit(
    State(state): State<AppState>,
    caller: ApiCaller,
    params: Result<Query<AuditParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    require(authorize(&caller.actor, Action::ViewAudit, &Resource::Municipality(caller.actor.municipality_id)))?;
    let Query(params) = params.map_err(|_| AppError::BadRequest("bad_query"))?;
    let q = params.query()?;
    let lines = state.store.search_audit(caller.actor.municipality_id, &q).await?;
    state.store.write_audit(&caller.audit("audit search"), AuditAction::AuditSearch, q.family_id, "").await?;
    Ok(Json(AuditPage { lines }).into_response())
}

// --- postpartum care ---------------------------------------------------------

// --- referrals ----------------------------------------------------------------------

// --- follow-ups, talks, incidents ------------------------------------------------------

// --- screening ------------------------------------------------------------------------
