//! A family's record in the JSON API (under `/api/v1`, described by
//! `/api/openapi.json`; same policy, same store, same audit as the pages):
//! areas, search, the pregnancy notification, the record, a birth, and a
//! family's own record.

use crate::base::access::{decide_on_family, family_for};
use crate::base::api::{ApiJson, ApiPath};
use crate::base::error::{permit_municipality, ApiError, AppError};
use crate::base::session::{ApiCaller, ApiFamilyCaller};
use crate::base::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use tsunagu_domain::kana;
use tsunagu_domain::policy::{family_filter, Action};
use tsunagu_domain::records::{BirthInput, NotificationInput};
use tsunagu_domain::{FamilyId, PregnancyId};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/areas", get(list_areas))
        .route("/api/v1/families", get(search_families).post(register_notification))
        .route("/api/v1/families/{id}", get(open_family))
        .route("/api/v1/families/{id}/pregnancies/{pregnancy}/births", post(record_birth))
        .route("/api/v1/me/family", get(my_family))
}

/// Areas (districts) of the caller's municipality
#[utoipa::path(get, path = "/api/v1/areas", tag = "records",
    responses((status = 200, description = "The areas", body = super::api_doc::AreaList)))]
async fn list_areas(State(state): State<AppState>, caller: ApiCaller) -> Result<Response, ApiError> {
    let areas = state.store.areas(caller.actor.municipality_id).await?;
    Ok(Json(json!({ "areas": areas })).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct SearchParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    limit: Option<u32>,
}

/// Find families by the mother's kana
///
/// A prefix of family+given or given name; script, width and spaces are
/// ignored. Audited as a search.
#[utoipa::path(get, path = "/api/v1/families", tag = "records", params(SearchParams),
    responses(
        (status = 200, description = "The families found", body = super::api_doc::FamilyList),
        (status = 403, description = "The caller may list no family (`forbidden`)")))]
async fn search_families(
    State(state): State<AppState>,
    caller: ApiCaller,
    params: Result<Query<SearchParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|_| AppError::BadRequest("bad_query"))?;
    let allowed = permit_municipality(&caller.actor, Action::SearchFamilies)?;
    let filter = family_filter(&caller.actor).ok_or(AppError::Forbidden)?;
    if params.q.chars().count() > 50 {
        return Err(AppError::BadRequest("bad_query").into());
    }
    let key = kana::search_key(&params.q);
    let limit = params.limit.unwrap_or(50).clamp(1, 200);
    let rows = state.store.search_families(&caller.audit("search").allowed(&allowed), &filter, &key, limit).await?;
    Ok(Json(json!({ "families": rows })).into_response())
}

/// Register a pregnancy notification (opens a family record)
#[utoipa::path(post, path = "/api/v1/families", tag = "records", request_body = NotificationInput,
    responses(
        (status = 201, description = "Registered: the family's id", body = crate::base::openapi::Created),
        (status = 403, description = "Not the caller's to register (`forbidden`)"),
        (status = 409, description = "The same mother and due month are on record (`duplicate_family`)"),
        (status = 422, description = "Fields that did not pass (`invalid_input`)")))]
async fn register_notification(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<NotificationInput>,
) -> Result<Response, ApiError> {
    let allowed = permit_municipality(&caller.actor, Action::RegisterNotification)?;
    let n = input.check(state.clock.today()).map_err(AppError::Invalid)?;
    let id = state.store.register_notification(&caller.audit("pregnancy notification").allowed(&allowed), &n).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

/// Open a family's record (audited)
#[utoipa::path(get, path = "/api/v1/families/{id}", tag = "records",
    params(("id" = i64, Path, description = "Family id")),
    responses(
        (status = 200, description = "The record", body = tsunagu_domain::records::FamilyRecord),
        (status = 403, description = "Not a family the caller may see (`forbidden`)")))]
async fn open_family(
    State(state): State<AppState>,
    ApiFamilyCaller { caller, family: id, access }: ApiFamilyCaller,
) -> Result<Response, ApiError> {
    // The session and the family's access facts came in one read (#16).
    let (_, allowed) = decide_on_family(&caller.actor, access.as_ref(), Action::ViewFamily)?;
    let record =
        state.store.open_family(&caller.audit("view record").allowed(&allowed), id).await?.ok_or(AppError::NotFound)?;
    Ok(Json(record).into_response())
}

/// The signed-in family member's own record
#[utoipa::path(get, path = "/api/v1/me/family", tag = "records",
    responses(
        (status = 200, description = "The record", body = tsunagu_domain::records::FamilyRecord),
        (status = 403, description = "The caller is no family member (`forbidden`)"),
        (status = 404, description = "No such family (`not_found`)")))]
async fn my_family(State(state): State<AppState>, caller: ApiCaller) -> Result<Response, ApiError> {
    let id = caller.actor.family_id.ok_or(AppError::Forbidden)?;
    let (_, allowed) = family_for(&state, &caller.actor, id, Action::ViewFamily).await?;
    let record =
        state.store.open_family(&caller.audit("own record").allowed(&allowed), id).await?.ok_or(AppError::NotFound)?;
    Ok(Json(record).into_response())
}

/// Record the babies of a birth
#[utoipa::path(post, path = "/api/v1/families/{id}/pregnancies/{pregnancy}/births", tag = "records",
    params(("id" = i64, Path, description = "Family id"), ("pregnancy" = i64, Path, description = "Pregnancy id")),
    request_body = BirthInput,
    responses(
        (status = 201, description = "Recorded", body = super::api_doc::BabiesRecorded),
        (status = 403, description = "Not a family the caller may edit (`forbidden`)"),
        (status = 409, description = "The pregnancy has ended or its babies are recorded"),
        (status = 422, description = "Fields that did not pass (`invalid_input`)")))]
async fn record_birth(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, pregnancy)): ApiPath<(i64, i64)>,
    ApiJson(input): ApiJson<BirthInput>,
) -> Result<Response, ApiError> {
    let id = FamilyId(id);
    let (_, allowed) = family_for(&state, &caller.actor, id, Action::EditFamily).await?;
    // Checked against the pregnancy inside the birth's own transaction: one line.
    let today = state.clock.today();
    let ids = state
        .store
        .record_birth_checked(&caller.audit("record birth").allowed(&allowed), id, PregnancyId(pregnancy), &|p| {
            input.check(p, today)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "baby_ids": ids }))).into_response())
}
