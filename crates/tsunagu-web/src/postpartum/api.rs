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
        .route("/api/v1/postpartum/applications/{id}/review", get(review_application))
        .route("/api/v1/postpartum/applications/{id}/{decision}", post(decide_application))
        .route("/api/v1/postpartum/figures", get(postpartum_figures))
}

/// Price a postpartum-care request on the published fee table [001]. No sign-in.
#[utoipa::path(post, path = "/api/v1/postpartum/quote", tag = "postpartum", request_body = crate::postpartum::QuoteInput,
    security(()),
    responses(
        (status = 200, description = "The quote", body = tsunagu_domain::postpartum::fees::Quote),
        (status = 422, description = "Fields that did not pass (`invalid_input`)")))]
async fn postpartum_quote(ApiJson(input): ApiJson<crate::postpartum::QuoteInput>) -> Result<Response, ApiError> {
    let q = crate::postpartum::public_quote(&input)?;
    Ok(Json(q).into_response())
}

/// Postpartum-care facilities of the caller's municipality and the services each offers
#[utoipa::path(get, path = "/api/v1/postpartum/facilities", tag = "postpartum",
    responses((status = 200, description = "The facilities", body = super::api_doc::FacilityList)))]
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

/// The quote and eligibility for an application, without storing it
#[utoipa::path(post, path = "/api/v1/postpartum/applications/preview", tag = "postpartum",
    request_body = crate::postpartum::ApplicationInput,
    responses(
        (status = 200, description = "What applying would make", body = crate::postpartum::Prepared),
        (status = 403, description = "Not a family the caller may apply for (`forbidden`)"),
        (status = 404, description = "No such family or facility (`not_found`)"),
        (status = 422, description = "Fields that did not pass (`invalid_input`)")))]
async fn preview_application(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<crate::postpartum::ApplicationInput>,
) -> Result<Response, ApiError> {
    let p = crate::postpartum::prepare(&state, &caller.account, &caller.actor, &caller.remote_addr, &input).await?;
    Ok(Json(p).into_response())
}

/// Apply
///
/// The quote and the eligibility check are applied; a nurse may override
/// refusals with a reason.
#[utoipa::path(post, path = "/api/v1/postpartum/applications", tag = "postpartum",
    request_body = crate::postpartum::ApplicationInput,
    responses(
        (status = 201, description = "Applied", body = super::api_doc::ApplicationMade),
        (status = 403, description = "Not a family the caller may apply for (`forbidden`)"),
        (status = 404, description = "No such family or facility (`not_found`)"),
        (status = 409, description = "Refused by the eligibility rules (no override), or overlapping an application"),
        (status = 422, description = "Fields that did not pass (`invalid_input`)")))]
async fn create_application(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<crate::postpartum::ApplicationInput>,
) -> Result<Response, ApiError> {
    let (stored, prepared) =
        crate::postpartum::apply(&state, &caller.account, &caller.actor, &caller.remote_addr, &input).await;
    let id = stored?;
    let p = prepared.ok_or(AppError::Internal)?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id, "quote": p.quote, "refusals": p.refusals }))).into_response())
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ApplicationParams {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    venue: Option<i64>,
    #[serde(default)]
    family: Option<i64>,
}

/// Applications the caller may see (nurse: all; facility staff: their facility; family: their own)
#[utoipa::path(get, path = "/api/v1/postpartum/applications", tag = "postpartum", params(ApplicationParams),
    responses(
        (status = 200, description = "The applications", body = super::api_doc::ApplicationList),
        (status = 403, description = "Not the caller's to list (`forbidden`)")))]
async fn list_applications(
    State(state): State<AppState>,
    caller: ApiCaller,
    params: Result<Query<ApplicationParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = params.map_err(|_| AppError::BadRequest("bad_query"))?;
    let (allowed, filter) = application_filter(&state, &caller.actor, p.status.as_deref(), p.venue, p.family).await?;
    let ctx = caller.audit("postpartum list").allowed(&allowed);
    let list = crate::postpartum::applications_shown(&state, &caller.actor, &ctx, &filter).await?;
    Ok(Json(json!({ "applications": list })).into_response())
}

/// One application with the facility's day records
#[utoipa::path(get, path = "/api/v1/postpartum/applications/{id}", tag = "postpartum",
    params(("id" = i64, Path, description = "Application id")),
    responses(
        (status = 200, description = "The application", body = super::api_doc::ApplicationWithNotes),
        (status = 403, description = "Not the caller's to see (`forbidden`)")))]
async fn show_application(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let id = tsunagu_domain::ApplicationId(id);
    let ctx = caller.audit("postpartum application");
    let (_, app, notes, used_days) = crate::postpartum::application_shown(&state, &caller.actor, &ctx, id).await?;
    let notes: Vec<serde_json::Value> = notes
        .into_iter()
        .map(|n| {
            json!({"day": n.day, "note": n.note, "audience": n.audience, "by": n.by, "at": n.at,
                "care": n.record.care, "mother": n.record.mother, "baby": n.record.baby})
        })
        .collect();
    Ok(Json(json!({ "application": app, "notes": notes, "used_days": used_days })).into_response())
}

/// An application with what its reviewer decides on (#10)
///
/// The family's situation answers (in the application), eligibility as the
/// record stands today with its reasons, the days the family's other
/// applications used (per service, and each application), the latest
/// screening results and the open referrals — what the review page shows,
/// read as one (`postpartum.view`). For whoever reviews applications.
#[utoipa::path(get, path = "/api/v1/postpartum/applications/{id}/review", tag = "postpartum",
    params(("id" = i64, Path, description = "Application id")),
    responses(
        (status = 200, description = "The application and its review", body = super::api_doc::ApplicationReviewDoc),
        (status = 403, description = "Not the caller's to review (`forbidden`)"),
        (status = 404, description = "No such application (`not_found`)")))]
async fn review_application(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let id = tsunagu_domain::ApplicationId(id);
    let ctx = caller.audit("postpartum review");
    let (_, app, notes, used_days, review) =
        crate::postpartum::application_reviewed(&state, &caller.actor, &ctx, id).await?;
    let notes: Vec<serde_json::Value> = notes
        .into_iter()
        .map(|n| {
            json!({"day": n.day, "note": n.note, "audience": n.audience, "by": n.by, "at": n.at,
                "care": n.record.care, "mother": n.record.mother, "baby": n.record.baby})
        })
        .collect();
    let eligibility = review
        .eligibility
        .as_ref()
        .map(|e| json!({"eligible": e.is_eligible(), "reasons": e.codes(), "last_eligible_day": e.last_eligible_day}));
    let used_before: Vec<serde_json::Value> =
        review.used_before.iter().map(|(s, n)| json!({"service": s, "days": n})).collect();
    let others: Vec<serde_json::Value> =
        review.others.iter().map(|(a, n)| json!({"application": a, "used_days": n})).collect();
    let screenings: Vec<serde_json::Value> = review
        .screenings
        .iter()
        .map(|sc| {
            json!({"id": sc.id, "questionnaire": sc.questionnaire, "total": sc.total, "positive": sc.positive,
                "urgent": sc.urgent, "entered_at": sc.entered_at})
        })
        .collect();
    let referrals: Vec<serde_json::Value> = review
        .referrals
        .iter()
        .map(|r| {
            json!({"id": r.id, "source": r.referral.source.as_str(), "status": r.referral.status.as_str(),
                "urgent": r.referral.urgent, "raised_at": r.raised_at})
        })
        .collect();
    Ok(Json(json!({
        "application": app, "notes": notes, "used_days": used_days, "eligibility": eligibility,
        "used_before": used_before, "others": others, "screenings": screenings, "referrals": referrals,
    }))
    .into_response())
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    #[serde(default)]
    note: String,
    /// Whom the note is for: `family` or `office` (the default).
    #[serde(default)]
    audience: Option<String>,
    /// For `notes`, `used`, `not_used`: the day of the stay.
    #[serde(default)]
    day: Option<String>,
    /// For `approve`: the fee (yen) the nurse confirmed, where the
    /// application's amount was to be confirmed.
    #[serde(default)]
    fee_yen: Option<u32>,
    /// For `notes`: the care given that day, codes of the seed's kinds of
    /// care (`mother_care`, `baby_care`, `parenting_advice`, `feeding_advice`,
    /// `bathing_guidance`, `breast_self_care`, `counselling`, `mother_rest`).
    #[serde(default)]
    care: Vec<String>,
    /// For `notes`: the mother's condition that day.
    #[serde(default)]
    mother: String,
    /// For `notes`: the baby's condition that day (feeding, weight, sleep).
    #[serde(default)]
    baby: String,
}

/// A decision on an application, or a facility's note
///
/// `approve`, `reject` or `cancel` (nurse; a family may cancel its own), or
/// `notes` (facility staff: a day's record `{day, care, mother, baby, note}`,
/// a day that has not come refused as `date_in_future`), `used` / `not_used`.
#[utoipa::path(post, path = "/api/v1/postpartum/applications/{id}/{decision}", tag = "postpartum",
    params(("id" = i64, Path, description = "Application id"), ("decision" = String, Path, description = "The decision")),
    request_body = DecisionBody,
    responses(
        (status = 204, description = "Done"),
        (status = 400, description = "No such decision"),
        (status = 403, description = "Not the caller's to decide (`forbidden`)"),
        (status = 409, description = "Not where the decision starts from, or no place left on a day"),
        (status = 422, description = "Fields that did not pass (`invalid_input`)")))]
async fn decide_application(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, decision)): ApiPath<(i64, String)>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> Result<Response, ApiError> {
    let id = tsunagu_domain::ApplicationId(id);
    let ctx = caller.audit(&format!("postpartum {decision}"));
    let fee = body.fee_yen.map(|f| f.to_string());
    let care: Vec<&str> = body.care.iter().map(String::as_str).collect();
    let noted = crate::postpartum::Noted {
        note: &body.note,
        audience: body.audience.as_deref(),
        day: body.day.as_deref(),
        fee_yen: fee.as_deref(),
        care: &care,
        mother: &body.mother,
        baby: &body.baby,
    };
    crate::postpartum::decide(&state, &caller.actor, &ctx, id, &decision, noted).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct FiguresParams {
    /// The fiscal year: `2022`, `FY2022` or `令和4年度`.
    fy: String,
}

/// A fiscal year's figures per facility
///
/// Short-stay days, day-care days, total, outreach visits, families,
/// occupancy; families by area.
#[utoipa::path(get, path = "/api/v1/postpartum/figures", tag = "postpartum", params(FiguresParams),
    responses(
        (status = 200, description = "The figures", body = crate::postpartum::Figures),
        (status = 403, description = "The caller may not see reports (`forbidden`)")))]
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
