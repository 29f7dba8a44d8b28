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

async fn proposals(State(state): State<AppState>, caller: ApiCaller, p: Params) -> Result<Response, ApiError> {
    let due = due_month(&params(p)?)?;
    let today = japan_date(caller.now);
    let groups = crate::meetings::proposals(&state, &caller.actor, &caller.audit("group proposals"), due).await?;
    let groups: Vec<_> = groups.iter().map(|g| ProposalView::of(g, today)).collect();
    Ok(Json(json!({ "due_month": due.to_string(), "groups": groups })).into_response())
}

async fn sessions(State(state): State<AppState>, caller: ApiCaller, p: Params) -> Result<Response, ApiError> {
    let due = due_month(&params(p)?)?;
    let today = japan_date(caller.now);
    let list = crate::meetings::sessions(&state, &caller.actor, &caller.audit("group sessions"), due).await?;
    let list: Vec<_> = list.iter().map(|s| SessionView::of(s, today)).collect();
    Ok(Json(json!({ "due_month": due.to_string(), "sessions": list })).into_response())
}

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

async fn session(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let today = japan_date(caller.now);
    let s = crate::meetings::session(&state, &caller.actor, &caller.audit("group session"), GroupSessionId(id)).await?;
    Ok(Json(SessionView::of(&s, today)).into_response())
}

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
