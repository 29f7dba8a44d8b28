//! Postpartum care in the JSON API: the public quote, facilities,
//! applications (preview, submit, list, read, decide) and the figures.

use crate::base::access::application_for;
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
            let opening = f.calendar.opening();
            json!({
                "venue": f.venue,
                "operator_ja": f.operator_ja,
                "operator_en": f.operator_en,
                "services": services,
                "closed_on_public_holidays": opening.closed_on_public_holidays,
                "closures": opening.closures,
            })
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
    let list = state.store.applications(&caller.audit("postpartum list"), &filter).await?;
    Ok(Json(json!({ "applications": list })).into_response())
}

async fn show_application(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let id = tsunagu_domain::ApplicationId(id);
    let ctx = caller.audit("postpartum application");
    let app = application_for(&state, &caller.actor, &ctx, id).await?;
    let used_days = state.store.used_days(&ctx, id).await?;
    let notes: Vec<serde_json::Value> = state
        .store
        .stay_notes(&ctx, id)
        .await?
        .into_iter()
        .map(|n| json!({"day": n.day, "note": n.note, "by": n.by, "at": n.at}))
        .collect();
    Ok(Json(json!({ "application": app, "notes": notes, "used_days": used_days })).into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    #[serde(default)]
    note: String,
    /// For `notes`, `used`, `not_used`: the day of the stay.
    #[serde(default)]
    day: Option<String>,
    /// For `approve`: the fee (yen) the nurse confirmed, where the
    /// application's amount was to be confirmed.
    #[serde(default)]
    fee_yen: Option<u32>,
}

async fn decide_application(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, decision)): ApiPath<(i64, String)>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> Result<Response, ApiError> {
    let id = tsunagu_domain::ApplicationId(id);
    let ctx = caller.audit(&format!("postpartum {decision}"));
    let fee = body.fee_yen.map(|f| f.to_string());
    let extra = crate::postpartum::DecisionExtra { day: body.day.as_deref(), fee_yen: fee.as_deref() };
    crate::postpartum::decide(&state, &caller.actor, &ctx, id, &decision, &body.note, extra).await?;
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
