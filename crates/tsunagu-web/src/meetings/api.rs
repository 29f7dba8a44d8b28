//! Handbook meetings and 8th-month group sessions in the JSON API [002].

use crate::base::api::{ApiJson, ApiPath};
use crate::base::error::{ApiError, AppError};
use crate::base::session::ApiCaller;
use crate::base::AppState;
use crate::meetings::{area_param, month_param, MeetingParams, MeetingView, ProposalView, SessionView};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use tsunagu_domain::clock::japan_date;
use tsunagu_domain::timeline::meetings::{AttendanceInput, GroupSessionInput, HandbookMeetingInput};
use tsunagu_domain::timeline::DueMonth;
use tsunagu_domain::validation::FieldErrors;
use tsunagu_domain::GroupSessionId;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/handbook-meetings", get(handbook).post(record_meeting))
        .route("/api/v1/group-sessions", get(sessions).post(confirm_session))
        .route("/api/v1/group-sessions/proposals", get(proposals))
        .route("/api/v1/group-sessions/{id}", get(session))
        .route("/api/v1/group-sessions/{id}/attendance", post(attendance))
}

type Params = Result<Query<MeetingParams>, axum::extract::rejection::QueryRejection>;

fn params(p: Params) -> Result<MeetingParams, AppError> {
    p.map(|Query(p)| p).map_err(|_| AppError::BadRequest("bad_query"))
}

fn required<T>(v: Option<T>, field: &'static str) -> Result<T, AppError> {
    v.ok_or_else(|| {
        let mut e = FieldErrors::default();
        e.add(field, "required");
        AppError::Invalid(e)
    })
}

fn due_month(p: &MeetingParams) -> Result<DueMonth, AppError> {
    required(month_param("due_month", p.due_month.as_deref())?, "due_month")
}

/// A month's handbook list of an area (母子手帳会議 [002])
///
/// The pregnancies notified that month, whose handbook-meeting contact is
/// not ended, each with its consent to share with coordinators; the meeting
/// recorded for that month, and the fiscal year's twelve months with theirs.
/// Nurses see every family; coordinators only consenting families of their
/// own areas (403 for another area).
#[utoipa::path(get, path = "/api/v1/handbook-meetings", tag = "meetings",
    params(
        ("area" = String, Query, description = "Area id"),
        ("month" = String, Query, description = "Month of notification, YYYY-MM")),
    responses(
        (status = 200, description = "The list", body = super::api_doc::HandbookList),
        (status = 403, description = "Not the caller's area (`forbidden`)"),
        (status = 422, description = "A missing or unreadable parameter (`invalid_input`)")))]
async fn handbook(State(state): State<AppState>, caller: ApiCaller, p: Params) -> Result<Response, ApiError> {
    let p = params(p)?;
    let area = required(area_param(p.area.as_deref())?, "area")?;
    let month = required(month_param("month", p.month.as_deref())?, "month")?;
    let today = japan_date(caller.now);
    let view =
        crate::meetings::handbook_view(&state, &caller.actor, &caller.audit("handbook list"), area, month).await?;
    let entries: Vec<_> = view.entries.iter().map(|e| crate::meetings::HandbookEntryView::of(e, today)).collect();
    let year: Vec<_> = view
        .year
        .iter()
        .map(|(m, r)| json!({ "month": m.to_string(), "meeting": r.as_ref().map(MeetingView::of) }))
        .collect();
    Ok(Json(json!({
        "area_id": view.area,
        "month": view.month.to_string(),
        "entries": entries,
        "meeting": view.meeting.as_ref().map(MeetingView::of),
        "fiscal_year": year,
    }))
    .into_response())
}

/// Record the meeting of an area and month (nurses)
///
/// In the same transaction, the handbook-meeting contacts of the
/// pregnancies notified that month in that area that still await work are
/// recorded as done (form group), each with its audit line. 409
/// `meeting_recorded` for a second meeting of the same area and month.
#[utoipa::path(post, path = "/api/v1/handbook-meetings", tag = "meetings", request_body = HandbookMeetingInput,
    responses(
        (status = 201, description = "Recorded: the meeting, with contacts_done", body = MeetingView),
        (status = 403, description = "Not a nurse (`forbidden`)"),
        (status = 409, description = "`meeting_recorded`"),
        (status = 422, description = "Fields that did not pass (`invalid_input`)")))]
async fn record_meeting(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<HandbookMeetingInput>,
) -> Result<Response, ApiError> {
    let today = japan_date(caller.now);
    let m = crate::meetings::record_meeting(&state, &caller.actor, &caller.audit("handbook meeting"), &input, today)
        .await?;
    Ok((StatusCode::CREATED, Json(MeetingView::of(&m))).into_response())
}

/// Proposed 8th-month groups for a due month (nurses)
///
/// [002] 同時期出産予定で同地区の妊婦が集団で: per area, the women whose
/// 8th-month interview awaits work and who are in no session, in groups of
/// at most six of sizes differing by at most one, in order of EDD.
#[utoipa::path(get, path = "/api/v1/group-sessions/proposals", tag = "meetings",
    params(("due_month" = String, Query, description = "Due month (EDD), YYYY-MM")),
    responses(
        (status = 200, description = "The groups", body = super::api_doc::ProposalList),
        (status = 403, description = "Not a nurse (`forbidden`)"),
        (status = 422, description = "A missing or unreadable parameter (`invalid_input`)")))]
async fn proposals(State(state): State<AppState>, caller: ApiCaller, p: Params) -> Result<Response, ApiError> {
    let due = due_month(&params(p)?)?;
    let today = japan_date(caller.now);
    let groups = crate::meetings::proposals(&state, &caller.actor, &caller.audit("group proposals"), due).await?;
    let groups: Vec<_> = groups.iter().map(|g| ProposalView::of(g, today)).collect();
    Ok(Json(json!({ "due_month": due.to_string(), "groups": groups })).into_response())
}

/// Confirmed 8th-month group sessions of a due month
///
/// Nurses see all; coordinators the sessions of their areas with the
/// members who consented (`member_count` counts everyone).
#[utoipa::path(get, path = "/api/v1/group-sessions", tag = "meetings",
    params(("due_month" = String, Query, description = "Due month (EDD), YYYY-MM")),
    responses(
        (status = 200, description = "The sessions", body = super::api_doc::SessionList),
        (status = 403, description = "Not a nurse or coordinator (`forbidden`)"),
        (status = 422, description = "A missing or unreadable parameter (`invalid_input`)")))]
async fn sessions(State(state): State<AppState>, caller: ApiCaller, p: Params) -> Result<Response, ApiError> {
    let due = due_month(&params(p)?)?;
    let today = japan_date(caller.now);
    let list = crate::meetings::sessions(&state, &caller.actor, &caller.audit("group sessions"), due).await?;
    let list: Vec<_> = list.iter().map(|s| SessionView::of(s, today)).collect();
    Ok(Json(json!({ "due_month": due.to_string(), "sessions": list })).into_response())
}

/// Confirm a proposed group as a session (nurses)
///
/// A day, a place and the members invited, all from the current proposal of
/// that area and due month (422 `not_proposed` otherwise), at most six. A
/// pregnancy is in at most one session (409 `already_in_session`).
#[utoipa::path(post, path = "/api/v1/group-sessions", tag = "meetings", request_body = GroupSessionInput,
    responses(
        (status = 201, description = "Confirmed: the session", body = SessionView),
        (status = 403, description = "Not a nurse (`forbidden`)"),
        (status = 409, description = "`already_in_session`"),
        (status = 422, description = "Fields that did not pass, or `not_proposed` (`invalid_input`)")))]
async fn confirm_session(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<GroupSessionInput>,
) -> Result<Response, ApiError> {
    let today = japan_date(caller.now);
    let audit = caller.audit("confirm group session");
    let id = crate::meetings::confirm_session(&state, &caller.actor, &audit, &input, today).await?;
    let s = crate::meetings::session(&state, &caller.actor, &audit, id).await?;
    Ok((StatusCode::CREATED, Json(SessionView::of(&s, today))).into_response())
}

/// One session with its members (as the caller may see them) and, once recorded, who came
#[utoipa::path(get, path = "/api/v1/group-sessions/{id}", tag = "meetings",
    params(("id" = i64, Path, description = "Session id")),
    responses(
        (status = 200, description = "The session", body = SessionView),
        (status = 403, description = "Not a session the caller may see (`forbidden`)")))]
async fn session(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let today = japan_date(caller.now);
    let s = crate::meetings::session(&state, &caller.actor, &caller.audit("group session"), GroupSessionId(id)).await?;
    Ok(Json(SessionView::of(&s, today)).into_response())
}

/// Record who came (nurses), once, from the session's day
///
/// Attendees' 8th-month interviews are recorded as done (form group); the
/// others stay owed (offer an individual interview or a home visit through
/// `/api/v1/contacts/{id}/outcome`). 409 `attendance_recorded`, 409
/// `session_not_held`; 422 `not_a_member`.
#[utoipa::path(post, path = "/api/v1/group-sessions/{id}/attendance", tag = "meetings",
    params(("id" = i64, Path, description = "Session id")), request_body = AttendanceInput,
    responses(
        (status = 200, description = "The session with who came", body = SessionView),
        (status = 403, description = "Not a nurse (`forbidden`)"),
        (status = 409, description = "`attendance_recorded` or `session_not_held`"),
        (status = 422, description = "`not_a_member` or fields that did not pass (`invalid_input`)")))]
async fn attendance(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<AttendanceInput>,
) -> Result<Response, ApiError> {
    let today = japan_date(caller.now);
    let audit = caller.audit("group attendance");
    let s =
        crate::meetings::record_attendance(&state, &caller.actor, &audit, GroupSessionId(id), &input, today).await?;
    Ok(Json(SessionView::of(&s, today)).into_response())
}
