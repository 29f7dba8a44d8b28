//! Postpartum care in the JSON API: the public quote, facilities,
//! applications (preview, submit, list, read, decide) and the figures.

use crate::base::api::{ApiJson, ApiPath};
use crate::base::error::{require, ApiError, AppError};
use crate::base::session::ApiCaller;
use crate::base::AppState;
use crate::postpartum::application_filter;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use tsunagu_domain::policy::{authorize, Action, Resource};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/postpartum/quote", post(postpartum_quote))
        .route("/api/v1/postpartum/facilities", get(postpartum_facilities))
        .route("/api/v1/postpartum/applications", get(list_applications).post(create_application))
        .route("/api/v1/postpartum/applications/preview", post(preview_application))
        .route("/api/v1/postpartum/applications/{id}", get(show_application))
        .route("/api/v1/postpartum/applications/{id}/{decision}", post(decide_application))
        .route("/api/v1/postpartum/figures", get(postpartum_figures))
}

async fn postpartum_quote(ApiJson(input): ApiJson<crate::postpartum::QuoteInput>) -> Result<Response, ApiError> {
    let q = crate::postpartum::public_quote(&input)?;
    Ok(Json(q).into_response())
}

async fn postpartum_facilities(State(state): State<AppState>, caller: ApiCaller) -> Result<Response, ApiError> {
    let list: Vec<serde_json::Value> = state
        .store
        .postpartum_facilities(caller.actor.municipality_id)
        .await?
        .iter()
        .map(|f| {
            let services: Vec<&str> = tsunagu_domain::postpartum::ServiceType::ALL
                .iter()
                .filter(|s| f.calendar.offers(**s))
                .map(|s| s.as_str())
                .collect();
            json!({"venue": f.venue, "operator_ja": f.operator_ja, "operator_en": f.operator_en, "services": services})
        })
        .collect();
    Ok(Json(json!({ "facilities": list })).into_response())
}

async fn preview_application(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<crate::postpartum::ApplicationInput>,
) -> Result<Response, ApiError> {
    let p = crate::postpartum::prepare(&state, &caller.account, &caller.actor, &caller.remote_addr, &input).await?;
    Ok(Json(p).into_response())
}

async fn create_application(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<crate::postpartum::ApplicationInput>,
) -> Result<Response, ApiError> {
    let p = crate::postpartum::prepare(&state, &caller.account, &caller.actor, &caller.remote_addr, &input).await?;
    let id = crate::postpartum::submit(&state, &caller.account, &caller.remote_addr, &p).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id, "quote": p.quote, "refusals": p.refusals }))).into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ApplicationParams {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    venue: Option<i64>,
    #[serde(default)]
    family: Option<i64>,
}

async fn list_applications(
    State(state): State<AppState>,
    caller: ApiCaller,
    params: Result<Query<ApplicationParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = params.map_err(|_| AppError::BadRequest("bad_query"))?;
    let filter = application_filter(&caller.actor, p.status.as_deref(), p.venue, p.family)?;
    let list =
        crate::postpartum::applications_shown(&state, &caller.actor, &caller.audit("postpartum list"), &filter).await?;
    Ok(Json(json!({ "applications": list })).into_response())
}

async fn show_application(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let id = tsunagu_domain::ApplicationId(id);
    let ctx = caller.audit("postpartum application");
    let (_, app, notes) = crate::postpartum::application_shown(&state, &caller.actor, &ctx, id).await?;
    let notes: Vec<serde_json::Value> = notes
        .into_iter()
        .map(|n| json!({"day": n.day, "note": n.note, "audience": n.audience, "by": n.by, "at": n.at}))
        .collect();
    Ok(Json(json!({ "application": app, "notes": notes })).into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    #[serde(default)]
    note: String,
    /// Whom the note is for: `family` or `office` (the default).
    #[serde(default)]
    audience: Option<String>,
    /// For `notes`: the day of the stay the note is about.
    #[serde(default)]
    day: Option<String>,
}

async fn decide_application(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, decision)): ApiPath<(i64, String)>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> Result<Response, ApiError> {
    let id = tsunagu_domain::ApplicationId(id);
    let ctx = caller.audit(&format!("postpartum {decision}"));
    let noted =
        crate::postpartum::Noted { note: &body.note, audience: body.audience.as_deref(), day: body.day.as_deref() };
    crate::postpartum::decide(&state, &caller.actor, &ctx, id, &decision, noted).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FiguresParams {
    fy: String,
}

async fn postpartum_figures(
    State(state): State<AppState>,
    caller: ApiCaller,
    params: Result<Query<FiguresParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    require(authorize(&caller.actor, Action::ViewReports, &Resource::Municipality(caller.actor.municipality_id)))?;
    let Query(p) = params.map_err(|_| AppError::BadRequest("bad_query"))?;
    let fy = tsunagu_domain::fiscal::FiscalYear::parse(&p.fy).map_err(|_| AppError::BadRequest("bad_query"))?;
    let figures = crate::postpartum::figures(&state, caller.actor.municipality_id, fy).await?;
    Ok(Json(figures).into_response())
}
