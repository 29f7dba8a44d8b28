//! Sessions edited by staff (#12 stage 2: "a year's schedule is generated
//! from a pattern, then edited session by session"): for those the policy
//! lets manage classes (`ManageClasses`: the administrator, the nurse), a
//! programme's sessions, one session's day, time and places (never fewer
//! than the places taken), and its cancellation — the booked families'
//! bookings cancelled with an in-page notice, their owed contacts released.
//! Pages and the API call the same functions; the API's handlers are here.

use crate::base::api::{ApiJson, ApiPath};
use crate::base::error::{permit_municipality, ApiError, AppError};
use crate::base::session::ApiCaller;
use crate::base::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use jiff::civil::{Date, Time};
use serde::Deserialize;
use serde_json::json;
use tsunagu_domain::audit::Requester;
use tsunagu_domain::policy::Action;
use tsunagu_domain::roles::Actor;
use tsunagu_domain::validation::FieldErrors;
use tsunagu_domain::{BookingId, ClassSessionId, ProgrammeId};
use tsunagu_store::{ClassSession, SessionEdit, SessionQuery, SessionStaff};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/classes/programmes/{id}/sessions", get(programme_sessions_api))
        .route("/api/v1/classes/sessions/{id}", put(edit_session_api))
        .route("/api/v1/classes/sessions/{id}/cancel", post(cancel_session_api))
        .route("/api/v1/classes/staff-choices", get(staff_choices_api))
}

/// The accounts a session's staff may be chosen from (#12): for those who
/// manage classes; display names of staff accounts only.
pub async fn staff_choices(state: &AppState, actor: &Actor) -> Result<Vec<SessionStaff>, AppError> {
    permit_municipality(actor, Action::ManageClasses)?;
    Ok(state.store.class_staff_choices(actor.municipality_id).await?)
}

/// A session as staff see it in the API: with who runs it (never in a family's answer).
pub(crate) fn staff_session_json(s: &ClassSession) -> serde_json::Value {
    let mut v = super::api::session_json(s);
    if let Some(o) = v.as_object_mut() {
        o.insert("staff".to_owned(), json!(s.staff.iter().map(staff_json).collect::<Vec<_>>()));
    }
    v
}

fn staff_json(a: &SessionStaff) -> serde_json::Value {
    json!({ "account_id": a.account_id, "display_name": a.display_name })
}

/// A session's new day, time and places, from a form or a JSON body.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionEditInput {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// `HH:MM`, Japan's local time.
    pub starts: String,
    /// 15 to 480.
    pub minutes: u32,
    /// 1 to 500, never below the places taken (`capacity_below_taken`).
    pub capacity: u32,
    /// A venue of the municipality to move the session to (the booked
    /// families are told, as of a new time); absent: it stays.
    #[serde(default)]
    pub venue_id: Option<i64>,
    /// The accounts who run it (#12): active staff accounts of the
    /// municipality whose role runs sessions (`GET
    /// /api/v1/classes/staff-choices`); they replace those assigned, `[]`
    /// leaves none; absent: they stay. Another municipality's account
    /// (`unknown_reference`), a disabled one (`account_disabled`) or one
    /// whose role does not run sessions (`not_session_staff`): 422, nothing stored.
    #[serde(default)]
    pub staff_ids: Option<Vec<i64>>,
}

impl SessionEditInput {
    /// Every field's problem at once, beside its field.
    pub fn check(&self, cancelled: bool) -> Result<SessionEdit, AppError> {
        let mut errors = FieldErrors::default();
        let day = self.day.trim().parse::<Date>().ok();
        if day.is_none() {
            errors.add("day", "invalid_date");
        }
        let starts = Time::strptime("%H:%M", self.starts.trim()).ok();
        if starts.is_none() {
            errors.add("starts", "invalid_time");
        }
        if !(15..=480).contains(&self.minutes) {
            errors.add("minutes", "out_of_range");
        }
        if !(1..=500).contains(&self.capacity) {
            errors.add("capacity", "out_of_range");
        }
        match (day, starts, u16::try_from(self.minutes)) {
            (Some(day), Some(starts), Ok(minutes)) if errors.is_empty() => Ok(SessionEdit {
                day,
                starts,
                minutes,
                capacity: self.capacity,
                cancelled,
                venue_id: self.venue_id.map(tsunagu_domain::VenueId),
                staff: self.staff_ids.as_ref().map(|ids| ids.iter().copied().map(tsunagu_domain::AccountId).collect()),
            }),
            _ => Err(AppError::Invalid(errors)),
        }
    }
}

/// A programme's sessions from `from` on (no personal data).
pub async fn programme_sessions(
    state: &AppState,
    actor: &Actor,
    programme: ProgrammeId,
    from: Date,
) -> Result<Vec<ClassSession>, AppError> {
    permit_municipality(actor, Action::ManageClasses)?;
    let programmes = state.store.programmes(actor.municipality_id).await?;
    let p = programmes.iter().find(|p| p.id == programme).ok_or(AppError::NotFound)?;
    let q = SessionQuery { from: Some(from), kind: Some(p.config.kind), limit: 1000, ..SessionQuery::default() };
    let list = state.store.class_sessions(actor.municipality_id, &q).await?;
    Ok(list.into_iter().filter(|s| s.programme_id == programme).collect())
}

/// Edits one session's day, time and places.
pub async fn edit_session(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    id: ClassSessionId,
    input: &SessionEditInput,
) -> Result<ClassSession, AppError> {
    let allowed = permit_municipality(actor, Action::ManageClasses)?;
    let session = state.store.class_session(actor.municipality_id, id).await?.ok_or(AppError::NotFound)?;
    if session.cancelled {
        return Err(AppError::Conflict("session_cancelled"));
    }
    let edit = input.check(false)?;
    state.store.edit_class_session(&requester.allowed(&allowed), id, &edit).await?;
    state.store.class_session(actor.municipality_id, id).await?.ok_or(AppError::NotFound)
}

/// Cancels a session: its bookings cancelled with a notice, contacts released.
pub async fn cancel_session(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    id: ClassSessionId,
) -> Result<Vec<BookingId>, AppError> {
    let allowed = permit_municipality(actor, Action::ManageClasses)?;
    Ok(state.store.cancel_class_session(&requester.allowed(&allowed), id).await?)
}

/// A programme's sessions from today, to edit one by one
#[utoipa::path(get, path = "/api/v1/classes/programmes/{id}/sessions", tag = "classes",
    params(("id" = i64, Path, description = "Programme id")),
    responses(
        (status = 200, description = "The sessions", body = super::api_doc::ClassSessionList),
        (status = 403, description = "Not a role that manages classes (`forbidden`)"),
        (status = 404, description = "No such programme in the caller's municipality")))]
pub(crate) async fn programme_sessions_api(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let list = programme_sessions(&state, &caller.actor, ProgrammeId(id), state.clock.today()).await?;
    Ok(Json(json!({ "sessions": list.iter().map(staff_session_json).collect::<Vec<_>>() })).into_response())
}

/// The accounts a session's staff may be chosen from: active staff accounts whose role runs sessions
#[utoipa::path(get, path = "/api/v1/classes/staff-choices", tag = "classes",
    responses(
        (status = 200, description = "The accounts, by display name", body = super::api_doc::SessionStaffList),
        (status = 403, description = "Not a role that manages classes (`forbidden`)")))]
pub(crate) async fn staff_choices_api(State(state): State<AppState>, caller: ApiCaller) -> Result<Response, ApiError> {
    let list = staff_choices(&state, &caller.actor).await?;
    Ok(Json(json!({ "staff": list.iter().map(staff_json).collect::<Vec<_>>() })).into_response())
}

/// Edit one session's day, time, places, venue and staff (never fewer places than taken; added places go to the waiting list in order)
#[utoipa::path(put, path = "/api/v1/classes/sessions/{id}", tag = "classes", request_body = SessionEditInput,
    params(("id" = i64, Path, description = "Session id")),
    responses(
        (status = 200, description = "The session as saved", body = super::api_doc::ClassSessionView),
        (status = 403, description = "Not a role that manages classes (`forbidden`)"),
        (status = 404, description = "No such session in the caller's municipality"),
        (status = 409, description = "`capacity_below_taken`, `session_cancelled`"),
        (status = 422, description = "Fields that did not pass, a venue not in the municipality, or staff not of it, disabled or not running sessions; nothing stored (`invalid_input`)")))]
pub(crate) async fn edit_session_api(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<SessionEditInput>,
) -> Result<Response, ApiError> {
    let s = edit_session(&state, &caller.actor, &caller.audit("class session"), ClassSessionId(id), &input).await?;
    Ok(Json(staff_session_json(&s)).into_response())
}

/// Cancel a session: every booking on it cancelled, each family left an in-page notice, owed contacts released
#[utoipa::path(post, path = "/api/v1/classes/sessions/{id}/cancel", tag = "classes",
    params(("id" = i64, Path, description = "Session id")),
    responses(
        (status = 200, description = "Cancelled, with the bookings it cancelled", body = super::api_doc::ClassSessionCancelled),
        (status = 403, description = "Not a role that manages classes (`forbidden`)"),
        (status = 404, description = "No such session in the caller's municipality"),
        (status = 409, description = "`session_cancelled`, `attendance_recorded`")))]
pub(crate) async fn cancel_session_api(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let ids = cancel_session(&state, &caller.actor, &caller.audit("class session"), ClassSessionId(id)).await?;
    Ok(Json(json!({ "session_id": id, "cancelled_bookings": ids })).into_response())
}
