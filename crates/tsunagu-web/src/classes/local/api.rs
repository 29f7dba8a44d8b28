//! Local information in the JSON API [000] 地域おでかけ情報: browsing by area
//! and stage (a family's own by default), one entry with the upcoming
//! sessions held there, and the keepers' add, edit and retire.

use crate::base::api::{ApiJson, ApiPath};
use crate::base::error::{ApiError, AppError};
use crate::base::session::ApiCaller;
use crate::base::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tsunagu_domain::classes::local::LocalPlaceInput;
use tsunagu_domain::LocalPlaceId;
use tsunagu_store::LocalPlaceEntry;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/classes/local", get(browse).post(create))
        .route("/api/v1/classes/local/{id}", get(one).put(update))
        .route("/api/v1/classes/local/{id}/retire", post(retire))
}

pub(crate) fn entry_json(e: &LocalPlaceEntry) -> Value {
    let p = &e.place;
    json!({
        "id": e.id, "area_id": p.area_id, "kind": p.kind, "name_ja": p.name_ja, "name_en": p.name_en,
        "address": p.address, "access": p.access, "hours": p.hours, "offers_ja": p.offers_ja,
        "offers_en": p.offers_en, "stages": p.stages.iter().collect::<Vec<_>>(), "venue_id": p.venue_id,
        "retired": e.retired,
    })
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct BrowseParams {
    /// An area id, or `all` (default: a family's own area; staff: every area).
    #[serde(default)]
    area: Option<String>,
    /// A stage (`pregnant`, `newborn`, `three_months`, `six_months`, `one_year`, `two_years`, `preschool`) or `all` (default: a family's stage today; staff: every stage).
    #[serde(default)]
    stage: Option<String>,
    /// A kind (`childrens_hall`, `hub`, `support_room`, `outing_spot`, `service`); default every kind.
    #[serde(default)]
    kind: Option<String>,
}

/// The local-information directory by area and stage (no personal data: no audit line, but for a family's default stage read from its own record)
#[utoipa::path(get, path = "/api/v1/classes/local", tag = "classes", params(BrowseParams),
    responses(
        (status = 200, description = "The entries, with the filters applied", body = crate::classes::api_doc::LocalDirectory),
        (status = 403, description = "A role that does not browse local information (`forbidden`)"),
        (status = 422, description = "An area, stage or kind that is not one (`invalid_input`)")))]
pub(crate) async fn browse(
    State(state): State<AppState>,
    caller: ApiCaller,
    params: Result<Query<BrowseParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = params.map_err(|_| AppError::BadRequest("bad_query"))?;
    let ask = super::Browse::parse(p.area.as_deref(), p.stage.as_deref(), p.kind.as_deref())?;
    let today = state.clock.today();
    let dir = super::browse(&state, &caller.actor, &caller.audit("local information"), ask, today).await?;
    Ok(Json(json!({
        "area_id": dir.area, "stage": dir.stage, "kind": dir.kind,
        "entries": dir.entries.iter().map(entry_json).collect::<Vec<_>>(),
    }))
    .into_response())
}

/// One entry and the upcoming sessions held at its venue
#[utoipa::path(get, path = "/api/v1/classes/local/{id}", tag = "classes",
    params(("id" = i64, Path, description = "Entry id")),
    responses(
        (status = 200, description = "The entry and its sessions", body = crate::classes::api_doc::LocalPlaceWithSessions),
        (status = 403, description = "A role that does not browse local information (`forbidden`)"),
        (status = 404, description = "No such entry (or a retired one, to a reader who does not keep it)")))]
pub(crate) async fn one(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let today = state.clock.today();
    let (entry, sessions) = super::place(&state, &caller.actor, LocalPlaceId(id), today).await?;
    let sessions: Vec<Value> = sessions.iter().map(crate::classes::api::session_json).collect();
    Ok(Json(json!({ "entry": entry_json(&entry), "sessions": sessions })).into_response())
}

/// Add an entry to an area the caller keeps (the area's coordinators, the administrator)
#[utoipa::path(post, path = "/api/v1/classes/local", tag = "classes", request_body = LocalPlaceInput,
    responses(
        (status = 201, description = "Added", body = crate::classes::api_doc::LocalPlaceView),
        (status = 403, description = "Not an area the caller keeps (`forbidden`)"),
        (status = 422, description = "Fields that did not pass; nothing stored (`invalid_input`)")))]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<LocalPlaceInput>,
) -> Result<Response, ApiError> {
    let e = super::create(&state, &caller.actor, &caller.audit("local information"), &input).await?;
    Ok((StatusCode::CREATED, Json(entry_json(&e))).into_response())
}

/// Replace an entry's fields (the caller keeps its area and the area it moves to)
#[utoipa::path(put, path = "/api/v1/classes/local/{id}", tag = "classes", request_body = LocalPlaceInput,
    params(("id" = i64, Path, description = "Entry id")),
    responses(
        (status = 200, description = "Saved", body = crate::classes::api_doc::LocalPlaceView),
        (status = 403, description = "Not an area the caller keeps (`forbidden`)"),
        (status = 404, description = "No such entry"),
        (status = 422, description = "Fields that did not pass; nothing stored (`invalid_input`)")))]
pub(crate) async fn update(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<LocalPlaceInput>,
) -> Result<Response, ApiError> {
    let e = super::update(&state, &caller.actor, &caller.audit("local information"), LocalPlaceId(id), &input).await?;
    Ok(Json(entry_json(&e)).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RetireBody {
    /// `true` retires the entry (families no longer see it), `false` brings it back.
    retired: bool,
}

/// Retire an entry, or bring it back
#[utoipa::path(post, path = "/api/v1/classes/local/{id}/retire", tag = "classes", request_body = RetireBody,
    params(("id" = i64, Path, description = "Entry id")),
    responses(
        (status = 200, description = "Saved", body = crate::classes::api_doc::LocalPlaceView),
        (status = 403, description = "Not an area the caller keeps (`forbidden`)"),
        (status = 404, description = "No such entry")))]
pub(crate) async fn retire(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RetireBody>,
) -> Result<Response, ApiError> {
    let e = super::retire(&state, &caller.actor, &caller.audit("local information"), LocalPlaceId(id), body.retired)
        .await?;
    Ok(Json(entry_json(&e)).into_response())
}
