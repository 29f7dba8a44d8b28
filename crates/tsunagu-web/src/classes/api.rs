//! Classes and programmes in the JSON API: offers with their reasons,
//! sessions, bookings (idempotent), cancellation, rosters and attendance.

use crate::base::api::{ApiJson, ApiPath};
use crate::base::error::{api_lang, ApiError, AppError};
use crate::base::session::ApiCaller;
use crate::base::AppState;
use crate::i18n::Lang;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tsunagu_domain::{AreaId, BookingId, ClassSessionId};
use tsunagu_store::{ClassBooking, ClassSession, FamilyBooking};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/classes/offers", get(offers))
        .route("/api/v1/classes/sessions", get(sessions))
        .route("/api/v1/classes/bookings", get(list_bookings).post(create_booking))
        .route("/api/v1/classes/bookings/{id}/cancel", post(cancel_booking))
        .route("/api/v1/classes/sessions/{id}/roster", get(roster))
        .route("/api/v1/classes/sessions/{id}/attendance", post(attendance))
        .route("/api/v1/classes/figures", get(figures))
}

pub(crate) fn session_json(s: &ClassSession) -> Value {
    json!({
        "id": s.id, "programme_id": s.programme_id, "kind": s.programme.kind,
        "programme_name_ja": s.programme.name_ja, "programme_name_en": s.programme.name_en,
        "venue_id": s.venue_id, "venue_name_ja": s.venue_name_ja, "venue_name_en": s.venue_name_en,
        "area_id": s.area_id, "day": s.day, "starts": s.starts.strftime("%H:%M").to_string(),
        "minutes": s.minutes, "capacity": s.capacity, "unit": s.programme.unit.as_str(),
        "taken": s.taken, "waiting": s.waiting, "status": s.status(),
    })
}

pub(crate) fn booking_json(b: &ClassBooking) -> Value {
    json!({
        "id": b.id, "session_id": b.session_id, "family_id": b.family_id, "kind": b.kind, "stage": b.stage,
        "status": b.status.as_str(), "contact_id": b.contact_id, "with_partner": b.with_partner,
        "share_name": b.share_name, "override_rule": b.override_rule, "notice_pending": b.notice_pending,
        "attended": b.attended, "weight_g": b.weight_g, "height_mm": b.height_mm,
    })
}

fn family_booking_json(b: &FamilyBooking) -> Value {
    json!({ "booking": booking_json(&b.booking), "session": session_json(&b.session) })
}

pub(crate) fn reason_text(lang: Lang, r: &tsunagu_domain::classes::Refusal) -> String {
    use tsunagu_domain::classes::Ineligible as I;
    // A municipality's own week or months (programme settings) are named in
    // the reason; the seed's 16 weeks and 5 months keep their own words.
    match r.reason {
        I::TooEarlyInPregnancy { week, .. } if week != 16 => {
            crate::i18n::t(lang, "cl.reason.too_early_week").replace("%N", &week.to_string())
        }
        I::BabyTooOld { months, .. } if months != 5 => {
            crate::i18n::t(lang, "cl.reason.baby_months").replace("%N", &months.to_string())
        }
        _ => crate::i18n::t(lang, &format!("err.{}", super::refusal_code(r))).to_owned(),
    }
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct OfferParams {
    /// Staff: the family to decide for (a family: its own).
    #[serde(default)]
    family: Option<i64>,
    /// An area (default: the family's).
    #[serde(default)]
    area: Option<i64>,
}

/// The sessions from today in an area, each decided for the family: bookable, booked, or why not
#[utoipa::path(get, path = "/api/v1/classes/offers", tag = "classes", params(OfferParams),
    responses(
        (status = 200, description = "The offers", body = super::api_doc::ClassOfferList),
        (status = 403, description = "Not a family the caller may book for (`forbidden`)"),
        (status = 422, description = "Staff must name the family (`invalid_input`)")))]
async fn offers(
    State(state): State<AppState>,
    caller: ApiCaller,
    params: Result<Query<OfferParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = params.map_err(|_| AppError::BadRequest("bad_query"))?;
    let today = state.clock.today();
    let (family, _, offers) =
        super::offers(&state, &caller.actor, &caller.audit("classes"), p.family, p.area.map(AreaId), today).await?;
    let lang = api_lang();
    let list: Vec<Value> = offers
        .iter()
        .map(|o| {
            let refusal = o.decision.as_ref().err();
            json!({
                "session": session_json(&o.session),
                "bookable": o.bookable(),
                "stage": o.decision.as_ref().ok().map(|e| e.stage),
                "reason": refusal.map(|r| r.reason.code()),
                "reason_text": refusal.map(|r| reason_text(lang, r)),
                "overridable": refusal.is_some_and(|r| r.overridable()),
                "booking": o.booking.as_ref().map(booking_json),
            })
        })
        .collect();
    Ok(Json(json!({ "family_id": family, "offers": list })).into_response())
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct SessionParams {
    /// Only this venue's sessions.
    #[serde(default)]
    venue: Option<i64>,
}

/// Sessions from today the caller works with (programme staff: their venues; a coordinator: her areas)
#[utoipa::path(get, path = "/api/v1/classes/sessions", tag = "classes", params(SessionParams),
    responses(
        (status = 200, description = "The sessions", body = super::api_doc::ClassSessionList),
        (status = 403, description = "A role that does not browse classes (`forbidden`)")))]
async fn sessions(
    State(state): State<AppState>,
    caller: ApiCaller,
    params: Result<Query<SessionParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = params.map_err(|_| AppError::BadRequest("bad_query"))?;
    let today = state.clock.today();
    let list = match p.venue {
        Some(v) => super::venue_sessions(&state, &caller.actor, tsunagu_domain::VenueId(v), today).await?,
        None => super::staff_sessions(&state, &caller.actor, today).await?,
    };
    Ok(Json(json!({ "sessions": list.iter().map(session_json).collect::<Vec<_>>() })).into_response())
}

/// Book a session for a family (a place, or a place on the waiting list when full); the same idempotency key books once
#[utoipa::path(post, path = "/api/v1/classes/bookings", tag = "classes", request_body = super::BookInput,
    responses(
        (status = 201, description = "Booked", body = super::api_doc::ClassBookingMade),
        (status = 200, description = "The same idempotency key booked before: that booking", body = super::api_doc::ClassBookingMade),
        (status = 403, description = "Not a family the caller may book for, or may override for (`forbidden`)"),
        (status = 409, description = "Refused: `ineligible_<reason>` (the rule and why), `session_full`, `session_cancelled`, `session_past`, `already_booked`, `stage_already_taken`, `idempotency_key_reused`"),
        (status = 422, description = "Fields that did not pass (`invalid_input`)")))]
async fn create_booking(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<super::BookInput>,
) -> Result<Response, ApiError> {
    let out = super::book(&state, &caller.actor, &caller.audit("class booking"), &input).await?;
    let status = if out.replayed { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(json!({ "booking": booking_json(&out.booking), "replayed": out.replayed }))).into_response())
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct BookingParams {
    /// Staff: the family (a family: its own).
    #[serde(default)]
    family: Option<i64>,
}

/// A family's bookings, with their sessions
#[utoipa::path(get, path = "/api/v1/classes/bookings", tag = "classes", params(BookingParams),
    responses(
        (status = 200, description = "The bookings", body = super::api_doc::ClassBookingList),
        (status = 403, description = "Not a family the caller may book for (`forbidden`)"),
        (status = 422, description = "Staff must name the family (`invalid_input`)")))]
async fn list_bookings(
    State(state): State<AppState>,
    caller: ApiCaller,
    params: Result<Query<BookingParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = params.map_err(|_| AppError::BadRequest("bad_query"))?;
    let (family, list) = super::bookings(&state, &caller.actor, &caller.audit("class bookings"), p.family).await?;
    let list: Vec<Value> = list.iter().map(family_booking_json).collect();
    Ok(Json(json!({ "family_id": family, "bookings": list })).into_response())
}

/// Cancel a booking; the first on the waiting list takes the place
#[utoipa::path(post, path = "/api/v1/classes/bookings/{id}/cancel", tag = "classes",
    params(("id" = i64, Path, description = "Booking id")),
    responses(
        (status = 200, description = "Cancelled", body = super::api_doc::ClassBookingView),
        (status = 403, description = "Not the caller's family (`forbidden`)"),
        (status = 409, description = "`booking_cancelled`, or `attendance_recorded`")))]
async fn cancel_booking(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let b = super::cancel(&state, &caller.actor, &caller.audit("class cancel"), BookingId(id)).await?;
    Ok(Json(booking_json(&b)).into_response())
}

/// A session's roster: confirmed, then the waiting list in order; names as the family allows
#[utoipa::path(get, path = "/api/v1/classes/sessions/{id}/roster", tag = "classes",
    params(("id" = i64, Path, description = "Session id")),
    responses(
        (status = 200, description = "The roster", body = super::api_doc::ClassRoster),
        (status = 403, description = "Not a session of the caller's venues or areas (`forbidden`)")))]
async fn roster(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let (session, roster) = super::roster(&state, &caller.actor, &caller.audit("roster"), ClassSessionId(id)).await?;
    let lines: Vec<Value> = roster
        .iter()
        .map(|r| json!({ "booking": booking_json(&r.booking), "name": r.name, "waiting_position": r.waiting_position }))
        .collect();
    Ok(Json(json!({ "session": super::manage::staff_session_json(&session), "roster": lines })).into_response())
}

/// Record who came (and weight/height where the programme measures); attendees' owed contacts are recorded as done
#[utoipa::path(post, path = "/api/v1/classes/sessions/{id}/attendance", tag = "classes",
    params(("id" = i64, Path, description = "Session id")), request_body = super::api_doc::ClassAttendanceBody,
    responses(
        (status = 204, description = "Recorded"),
        (status = 403, description = "Not a session of the caller's venues (`forbidden`)"),
        (status = 422, description = "A booking not confirmed on this session, or a measurement out of range (`invalid_input`)")))]
async fn attendance(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<AttendanceInput>,
) -> Result<Response, ApiError> {
    super::record_attendance(&state, &caller.actor, &caller.audit("attendance"), ClassSessionId(id), &body.marks)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AttendanceInput {
    marks: Vec<super::MarkInput>,
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct FigureParams {
    /// The fiscal year (April–March), e.g. 2026 for 令和8年度.
    fy: i32,
}

/// Participation per venue and programme in a fiscal year: sessions held, groups, people, couples ([002]'s table), with each programme's totals
#[utoipa::path(get, path = "/api/v1/classes/figures", tag = "classes", params(FigureParams),
    responses(
        (status = 200, description = "The figures", body = super::api_doc::ClassFigures),
        (status = 403, description = "Not a role that reads reports (`forbidden`)"),
        (status = 422, description = "A fiscal year out of range (`invalid_input`)")))]
async fn figures(
    State(state): State<AppState>,
    caller: ApiCaller,
    params: Result<Query<FigureParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = params.map_err(|_| AppError::BadRequest("bad_query"))?;
    let (fy, rows) = super::figures(&state, &caller.actor, p.fy).await?;
    let totals: Vec<Value> = super::totals(&rows).iter().map(|(k, t)| json!({"kind": k, "figures": t})).collect();
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({"venue_id": r.venue_id, "venue_name_ja": r.venue_name_ja, "venue_name_en": r.venue_name_en,
                   "kind": r.kind, "figures": r.figures})
        })
        .collect();
    Ok(Json(json!({"fiscal_year": fy.year(), "label_ja": fy.label_ja(), "rows": rows, "totals": totals}))
        .into_response())
}
