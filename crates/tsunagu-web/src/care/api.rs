//! Follow-up work around a family in the JSON API: referrals (concerns raised
//! and the nurse's actions on them), online follow-up consultations, online
//! talks and incident reports.

use crate::base::api::{ApiJson, ApiPath};
use crate::base::error::{permit_municipality, ApiError, AppError};
use crate::base::session::ApiCaller;
use crate::base::views::referral_json;
use crate::base::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use tsunagu_domain::policy::{authorize, Action, Resource};
use tsunagu_domain::FamilyId;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/referrals", get(list_referrals).post(create_referral))
        .route("/api/v1/referrals/{id}", get(show_referral))
        .route("/api/v1/referrals/{id}/{action}", post(act_referral))
        .route("/api/v1/postpartum/followups", get(list_followups).post(create_followup))
        .route("/api/v1/postpartum/followups/slots", get(followup_slots))
        .route("/api/v1/postpartum/followups/{id}/cancel", post(cancel_followup))
        .route("/api/v1/postpartum/talks", get(list_talks).post(create_talk))
        .route("/api/v1/postpartum/talks/{id}/join", post(join_talk))
        .route("/api/v1/postpartum/incidents", get(list_incidents).post(create_incident))
}

fn manages_referrals(actor: &tsunagu_domain::roles::Actor) -> bool {
    authorize(actor, Action::ManageReferrals, &Resource::Municipality(actor.municipality_id)).is_allowed()
}

/// Raise a concern about a family (becomes follow-up work for its nurse)
#[utoipa::path(post, path = "/api/v1/referrals", tag = "care", request_body = crate::care::ConcernInput,
    responses(
        (status = 201, description = "Raised", body = crate::base::openapi::Created),
        (status = 403, description = "Not a family the caller may raise a concern about (`forbidden`)"),
        (status = 422, description = "Fields that did not pass (`invalid_input`)")))]
async fn create_referral(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<crate::care::ConcernInput>,
) -> Result<Response, ApiError> {
    let id = crate::care::raise_concern(&state, &caller.actor, &caller.audit("concern"), &input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ReferralParams {
    #[serde(default)]
    family: Option<i64>,
    #[serde(default)]
    open: Option<bool>,
}

/// Referrals: all for nurses (`open=true` for open ones), else those the caller raised, status only
#[utoipa::path(get, path = "/api/v1/referrals", tag = "care", params(ReferralParams),
    responses(
        (status = 200, description = "The referrals", body = super::api_doc::ReferralList),
        (status = 403, description = "Not a family the caller may see (`forbidden`)")))]
async fn list_referrals(
    State(state): State<AppState>,
    caller: ApiCaller,
    params: Result<Query<ReferralParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = params.map_err(|_| AppError::BadRequest("bad_query"))?;
    let list = crate::base::access::referrals_for(
        &state,
        &caller.actor,
        &caller.audit("referrals"),
        p.family.map(FamilyId),
        p.open.unwrap_or(false),
    )
    .await?;
    let full = manages_referrals(&caller.actor);
    let list: Vec<_> = list.iter().map(|r| referral_json(r, full)).collect();
    Ok(Json(json!({ "referrals": list })).into_response())
}

/// One referral with its history (nurses)
#[utoipa::path(get, path = "/api/v1/referrals/{id}", tag = "care",
    params(("id" = i64, Path, description = "Referral id")),
    responses(
        (status = 200, description = "The referral", body = super::api_doc::ReferralWithHistory),
        (status = 403, description = "Not a nurse (`forbidden`)")))]
async fn show_referral(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let ctx = caller.audit("referral").allowed(&permit_municipality(&caller.actor, Action::ManageReferrals)?);
    let id = tsunagu_domain::ReferralId(id);
    let (r, events) = state.store.referral_with_events(&ctx, id).await?.ok_or(AppError::NotFound)?;
    let events: Vec<_> =
        events.into_iter().map(|e| json!({"action": e.action, "by": e.by, "at": e.at, "note": e.note})).collect();
    Ok(Json(json!({ "referral": referral_json(&r, true), "events": events })).into_response())
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ReferralActionBody {
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    note: String,
}

/// A nurse's step on a referral
///
/// `receive`, `start`, `escalate`, `mark_specified_expectant_mother`,
/// `clear_specified_expectant_mother`, or `close` (with a `reason`).
#[utoipa::path(post, path = "/api/v1/referrals/{id}/{action}", tag = "care",
    params(("id" = i64, Path, description = "Referral id"), ("action" = String, Path, description = "The step")),
    request_body = ReferralActionBody,
    responses(
        (status = 204, description = "Done"),
        (status = 400, description = "No such step, or `close` without a reason"),
        (status = 403, description = "Not a nurse (`forbidden`)"),
        (status = 409, description = "The referral is not where the step starts from")))]
async fn act_referral(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, action)): ApiPath<(i64, String)>,
    ApiJson(body): ApiJson<ReferralActionBody>,
) -> Result<Response, ApiError> {
    let action = crate::care::parse_action(&action, body.reason.as_deref())?;
    let ctx = caller.audit(&format!("referral {}", action.as_str()));
    crate::care::act_on_referral(&state, &caller.actor, &ctx, tsunagu_domain::ReferralId(id), action, &body.note)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The family a call is about: a family member's own, else the one named.
fn family_of(caller: &ApiCaller, named: Option<i64>) -> Result<FamilyId, AppError> {
    // A query without the family it needs is a bad query.
    crate::care::own_or_named(&caller.actor, named).map_err(|_| AppError::BadRequest("bad_query"))
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct SlotParams {
    #[serde(default)]
    family: Option<i64>,
    venue: i64,
}

/// Free follow-up slots of the next four weeks for a family at a facility
#[utoipa::path(get, path = "/api/v1/postpartum/followups/slots", tag = "care", params(SlotParams),
    responses(
        (status = 200, description = "The slots", body = super::api_doc::SlotList),
        (status = 403, description = "Not a family the caller may book for (`forbidden`)"),
        (status = 404, description = "No such facility or family (`not_found`)"),
        (status = 409, description = "The family may not book a follow-up")))]
async fn followup_slots(
    State(state): State<AppState>,
    caller: ApiCaller,
    params: Result<Query<SlotParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = params.map_err(|_| AppError::BadRequest("bad_query"))?;
    let family = family_of(&caller, p.family)?;
    let slots = crate::care::open_followup_slots(
        &state,
        &caller.actor,
        &caller.audit("follow-up slots"),
        family,
        tsunagu_domain::VenueId(p.venue),
    )
    .await?;
    let slots: Vec<_> = slots.iter().map(|s| json!({"start": s.start, "end": s.end})).collect();
    Ok(Json(json!({ "slots": slots })).into_response())
}

/// Book a 20-minute follow-up slot (former users, baby under 1 year)
#[utoipa::path(post, path = "/api/v1/postpartum/followups", tag = "care", request_body = crate::care::BookingInput,
    responses(
        (status = 201, description = "Booked", body = crate::base::openapi::Created),
        (status = 403, description = "Not a family the caller may book for (`forbidden`)"),
        (status = 404, description = "No such facility or family (`not_found`)"),
        (status = 409, description = "The slot is taken, or the family may not book"),
        (status = 422, description = "Fields that did not pass (`invalid_input`)")))]
async fn create_followup(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<crate::care::BookingInput>,
) -> Result<Response, ApiError> {
    let id = crate::care::book(&state, &caller.actor, &caller.audit("follow-up"), &input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct VenueParams {
    #[serde(default)]
    venue: Option<i64>,
    #[serde(default)]
    fy: Option<String>,
}

fn fiscal_range(state: &AppState, fy: Option<&str>) -> Result<tsunagu_domain::dates::DateRange, AppError> {
    let fy = match fy {
        Some(s) => tsunagu_domain::fiscal::FiscalYear::parse(s).map_err(|_| AppError::BadRequest("bad_query"))?,
        None => tsunagu_domain::fiscal::FiscalYear::of(state.clock.today()).map_err(|_| AppError::Internal)?,
    };
    Ok(fy.range())
}

/// Online follow-up bookings and the fiscal year's count
#[utoipa::path(get, path = "/api/v1/postpartum/followups", tag = "care", params(VenueParams),
    responses(
        (status = 200, description = "The bookings", body = super::api_doc::FollowupList),
        (status = 403, description = "Not the caller's facility, or no role that sees bookings (`forbidden`)")))]
async fn list_followups(
    State(state): State<AppState>,
    caller: ApiCaller,
    params: Result<Query<VenueParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = params.map_err(|_| AppError::BadRequest("bad_query"))?;
    let range = fiscal_range(&state, p.fy.as_deref())?;
    crate::base::access::own_health(&state, &caller.actor).await?;
    let (allowed, venue, family) = crate::care::followup_scope(&caller.actor, p.venue.map(tsunagu_domain::VenueId))?;
    let list: Vec<_> = state
        .store
        .followups(&caller.audit("follow-ups").allowed(&allowed), venue, family, range)
        .await?
        .iter()
        .map(|f| json!({"id": f.id, "venue_id": f.venue_id, "family_id": f.family_id, "start": f.start, "cancelled": f.status == tsunagu_store::FollowupStatus::Cancelled}))
        .collect();
    let count = state.store.followup_count(caller.actor.municipality_id, range).await?;
    Ok(Json(json!({ "followups": list, "count_in_fiscal_year": count })).into_response())
}

/// Cancel a follow-up booking
#[utoipa::path(post, path = "/api/v1/postpartum/followups/{id}/cancel", tag = "care",
    params(("id" = i64, Path, description = "Booking id")),
    responses(
        (status = 204, description = "Cancelled"),
        (status = 403, description = "Not the caller's booking (`forbidden`)"),
        (status = 409, description = "Cancelled already")))]
async fn cancel_followup(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    crate::care::cancel_followup(
        &state,
        &caller.actor,
        &caller.audit("cancel follow-up"),
        tsunagu_domain::FollowupId(id),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sessions of the coordinator's online talk in the next 90 days
#[utoipa::path(get, path = "/api/v1/postpartum/talks", tag = "care",
    responses((status = 200, description = "The sessions", body = super::api_doc::TalkList)))]
async fn list_talks(State(state): State<AppState>, caller: ApiCaller) -> Result<Response, ApiError> {
    let range = tsunagu_domain::dates::DateRange::starting(state.clock.today(), 90).ok_or(AppError::Internal)?;
    let list: Vec<_> = state
        .store
        .online_talks(caller.actor.municipality_id, range)
        .await?
        .iter()
        .map(|t| json!({"id": t.id, "venue_id": t.venue_id, "starts": t.starts, "minutes": t.minutes, "title": t.title, "attendees": t.attendees}))
        .collect();
    Ok(Json(json!({ "talks": list })).into_response())
}

/// Add a session (nurse or facility staff)
#[utoipa::path(post, path = "/api/v1/postpartum/talks", tag = "care", request_body = crate::care::TalkInput,
    responses(
        (status = 201, description = "Added", body = crate::base::openapi::Created),
        (status = 403, description = "Not the caller's to add (`forbidden`)"),
        (status = 422, description = "Fields that did not pass (`invalid_input`)")))]
async fn create_talk(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<crate::care::TalkInput>,
) -> Result<Response, ApiError> {
    let id = crate::care::add_talk(&state, &caller.actor, &caller.audit("online talk"), &input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

/// A current user joins a session
#[utoipa::path(post, path = "/api/v1/postpartum/talks/{id}/join", tag = "care",
    params(("id" = i64, Path, description = "Session id")), request_body = crate::care::JoinInput,
    responses(
        (status = 204, description = "Joined"),
        (status = 403, description = "Not a family the caller may sign up (`forbidden`)"),
        (status = 409, description = "Joined already, full, or not a current user")))]
async fn join_talk(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<crate::care::JoinInput>,
) -> Result<StatusCode, ApiError> {
    let talk = tsunagu_domain::TalkId(id);
    crate::care::join(&state, &caller.actor, &caller.audit("join talk"), talk, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Incident reports of the fiscal year
#[utoipa::path(get, path = "/api/v1/postpartum/incidents", tag = "care", params(VenueParams),
    responses(
        (status = 200, description = "The reports", body = super::api_doc::IncidentList),
        (status = 403, description = "Not the caller's facility (`forbidden`)")))]
async fn list_incidents(
    State(state): State<AppState>,
    caller: ApiCaller,
    params: Result<Query<VenueParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = params.map_err(|_| AppError::BadRequest("bad_query"))?;
    let range = fiscal_range(&state, p.fy.as_deref())?;
    let (allowed, venue) = crate::care::incident_scope(&caller.actor, p.venue.map(tsunagu_domain::VenueId))?;
    let list: Vec<_> = state
        .store
        .incidents(&caller.audit("incidents").allowed(&allowed), venue, range)
        .await?
        .iter()
        .map(|i| json!({"id": i.id, "venue_id": i.venue_id, "heading": i.heading.as_str(), "occurred": i.occurred, "summary": i.summary, "family_id": i.family_id, "reported_at": i.reported_at}))
        .collect();
    Ok(Json(json!({ "incidents": list })).into_response())
}

/// Report an incident under the safety manual's headings (facility staff)
#[utoipa::path(post, path = "/api/v1/postpartum/incidents", tag = "care", request_body = crate::care::IncidentInput,
    responses(
        (status = 201, description = "Reported", body = crate::base::openapi::Created),
        (status = 403, description = "Not the caller's facility (`forbidden`)"),
        (status = 422, description = "Fields that did not pass (`invalid_input`)")))]
async fn create_incident(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<crate::care::IncidentInput>,
) -> Result<Response, ApiError> {
    let id = crate::care::report_incident(&state, &caller.actor, &caller.audit("incident report"), &input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}
