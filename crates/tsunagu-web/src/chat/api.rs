//! The chat in the JSON API: invitations, joining, rooms and their
//! messages (history pages, and `after` with `wait` as a long poll),
//! read state, escalations, supporters, teams, team health, help lines.
//! The same capability functions as the pages; the WebSocket is `socket.rs`.

use crate::base::api::{ApiJson, ApiPath};
use crate::base::error::{permit_municipality, ApiError, AppError};
use crate::base::session::ApiCaller;
use crate::base::AppState;
use crate::chat::{EscalateInput, JoinInput, PostInput, SupporterInput};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;
use tsunagu_domain::chat::helplines::HelpLine;
use tsunagu_domain::chat::teams::Team;
use tsunagu_domain::policy::Action;
use tsunagu_domain::{AccountId, FamilyId, RoomId};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/chat/invitations", post(create_invitation))
        .route("/api/v1/chat/join", post(join))
        .route("/api/v1/chat/rooms", get(list_rooms))
        .route("/api/v1/chat/rooms/{id}/messages", get(list_messages).post(create_message))
        .route("/api/v1/chat/rooms/{id}/read", post(mark_read))
        .route("/api/v1/chat/rooms/{id}/escalations", post(create_escalation))
        .route("/api/v1/chat/rooms/{id}/team", put(set_team))
        .route("/api/v1/chat/escalations", get(list_escalations))
        .route("/api/v1/chat/supporter", put(register_supporter))
        .route("/api/v1/chat/supporters", get(list_supporters))
        .route("/api/v1/chat/supporters/{id}/state", post(set_supporter_state))
        .route("/api/v1/chat/teams/suggestions", get(team_suggestions))
        .route("/api/v1/chat/health", get(health))
        .route("/api/v1/chat/help-lines", get(list_help_lines).put(set_help_lines))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct InvitationInput {
    family_id: i64,
}

/// A nurse issues a one-time invitation for a family (shown once, stored hashed)
#[utoipa::path(post, path = "/api/v1/chat/invitations", tag = "chat", request_body = InvitationInput,
    responses(
        (status = 201, description = "The code to hand out", body = crate::chat::Invitation),
        (status = 403, description = "Not a nurse (`forbidden`)"),
        (status = 422, description = "No such family (`invalid_input`)")))]
async fn create_invitation(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<InvitationInput>,
) -> Result<Response, ApiError> {
    let i =
        crate::chat::invite(&state, &caller.actor, &caller.audit("chat invitation"), FamilyId(input.family_id)).await?;
    Ok((StatusCode::CREATED, Json(i)).into_response())
}

/// A parent joins with an invitation: a chat account (display name only) and a private room
///
/// No sign-in: the invitation is the credential. The parent then signs in
/// with the username and passphrase chosen here (`/api/v1/auth/token`).
#[utoipa::path(post, path = "/api/v1/chat/join", tag = "chat", request_body = crate::chat::JoinInput,
    security(()),
    responses(
        (status = 201, description = "Joined", body = super::api_doc::Joined),
        (status = 409, description = "The invitation was used (`invitation_used`), or the username is taken (`username_taken`)"),
        (status = 422, description = "Fields that did not pass, or an unknown or expired code (`invalid_input`)")))]
async fn join(State(state): State<AppState>, ApiJson(input): ApiJson<JoinInput>) -> Result<Response, ApiError> {
    let room = crate::chat::join(&state, &input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "room": room }))).into_response())
}

/// The rooms the caller may open: a parent's own, a supporter's teams'
#[utoipa::path(get, path = "/api/v1/chat/rooms", tag = "chat",
    responses(
        (status = 200, description = "The rooms (no message text, no real name)", body = super::api_doc::RoomList),
        (status = 403, description = "Neither a parent in the chat nor a supporter (`forbidden`)")))]
async fn list_rooms(State(state): State<AppState>, caller: ApiCaller) -> Result<Response, ApiError> {
    let rooms = crate::chat::my_rooms(&state, &caller.actor).await?;
    Ok(Json(json!({ "rooms": rooms })).into_response())
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct MessageParams {
    /// A page of history before this sequence number (default: the latest).
    #[serde(default)]
    before: Option<i64>,
    /// How many, at most 100 (default 50).
    #[serde(default)]
    limit: Option<u32>,
    /// Instead of history: the messages after this sequence number, in order (what a client missed).
    #[serde(default)]
    after: Option<i64>,
    /// With `after`: wait up to this many seconds (at most 25) for a message when there is none (long poll).
    #[serde(default)]
    wait: Option<u64>,
}

/// A room's messages: a page of history, or what came after a sequence number (a long poll with `wait`)
#[utoipa::path(get, path = "/api/v1/chat/rooms/{id}/messages", tag = "chat",
    params(("id" = i64, Path, description = "Room id"), MessageParams),
    responses(
        (status = 200, description = "Messages in sequence order", body = super::api_doc::MessageList),
        (status = 403, description = "Not the caller's room, nor one of their teams' (`forbidden`)")))]
async fn list_messages(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    params: Result<Query<MessageParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = params.map_err(|_| AppError::BadRequest("bad_query"))?;
    let room = RoomId(id);
    let requester = caller.audit("chat messages");
    let list = match p.after {
        Some(after) => {
            let wait = Duration::from_secs(p.wait.unwrap_or(0).min(crate::chat::MAX_WAIT_SECS));
            crate::chat::since(&state, &caller.actor, &requester, room, after.max(0), wait).await?
        }
        None => crate::chat::history(&state, &caller.actor, &requester, room, p.before, p.limit).await?,
    };
    Ok(Json(json!({ "messages": list })).into_response())
}

/// Post a message: stored (and numbered) before the answer; a resend with the same `client_id` answers the first
///
/// Words of self-harm in a parent's message add `help_lines` to the answer,
/// to be shown at once, and flag the room urgent for the operator.
#[utoipa::path(post, path = "/api/v1/chat/rooms/{id}/messages", tag = "chat",
    params(("id" = i64, Path, description = "Room id")),
    request_body = crate::chat::PostInput,
    responses(
        (status = 201, description = "Stored", body = crate::chat::Posted),
        (status = 403, description = "Not the caller's room, nor one of their teams' (`forbidden`)"),
        (status = 422, description = "Empty, too long or not text; a bad client id (`invalid_input`)")))]
async fn create_message(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<PostInput>,
) -> Result<Response, ApiError> {
    let posted = crate::chat::post(&state, &caller.actor, &caller.audit("chat message"), RoomId(id), &input).await?;
    Ok((StatusCode::CREATED, Json(posted)).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ReadInput {
    seq: i64,
}

/// The caller has read the room up to `seq`
#[utoipa::path(post, path = "/api/v1/chat/rooms/{id}/read", tag = "chat",
    params(("id" = i64, Path, description = "Room id")), request_body = ReadInput,
    responses(
        (status = 204, description = "Recorded"),
        (status = 403, description = "Not the caller's room, nor one of their teams' (`forbidden`)")))]
async fn mark_read(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<ReadInput>,
) -> Result<Response, ApiError> {
    crate::chat::mark_read(&state, &caller.actor, &caller.audit("chat read"), RoomId(id), input.seq).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A supporter marks a message or the room as worrying: a referral to the municipality's nurse
#[utoipa::path(post, path = "/api/v1/chat/rooms/{id}/escalations", tag = "chat",
    params(("id" = i64, Path, description = "Room id")), request_body = crate::chat::EscalateInput,
    responses(
        (status = 201, description = "Passed on; only its status is ever shown", body = crate::chat::EscalationView),
        (status = 403, description = "Not a supporter of the room's team (`forbidden`)"),
        (status = 409, description = "The room is linked to no family (`no_family_link`)"),
        (status = 422, description = "No note, or no such message (`invalid_input`)")))]
async fn create_escalation(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<EscalateInput>,
) -> Result<Response, ApiError> {
    let e = crate::chat::escalate(&state, &caller.actor, &caller.audit("chat escalation"), RoomId(id), &input).await?;
    Ok((StatusCode::CREATED, Json(e)).into_response())
}

/// The escalations the caller raised, each with how far it has got (never the case)
#[utoipa::path(get, path = "/api/v1/chat/escalations", tag = "chat",
    responses(
        (status = 200, description = "The caller's escalations", body = super::api_doc::EscalationList),
        (status = 403, description = "A role that raises no concerns (`forbidden`)")))]
async fn list_escalations(State(state): State<AppState>, caller: ApiCaller) -> Result<Response, ApiError> {
    let list = crate::chat::my_escalations(&state, &caller.actor, &caller.audit("chat escalations")).await?;
    Ok(Json(json!({ "escalations": list })).into_response())
}

/// A peer supporter registers their attributes and capacity, to be vetted by the operator
#[utoipa::path(put, path = "/api/v1/chat/supporter", tag = "chat", request_body = crate::chat::SupporterInput,
    responses(
        (status = 204, description = "Registered; waiting to be vetted"),
        (status = 403, description = "Not a peer supporter (`forbidden`)"),
        (status = 422, description = "Attributes or capacity that do not pass (`invalid_input`)")))]
async fn register_supporter(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<SupporterInput>,
) -> Result<Response, ApiError> {
    crate::chat::register_supporter(&state, &caller.actor, &caller.audit("chat supporter"), &input).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The municipality's supporters with their attributes, state and load (the operator)
#[utoipa::path(get, path = "/api/v1/chat/supporters", tag = "chat",
    responses(
        (status = 200, description = "The supporters", body = super::api_doc::SupporterList),
        (status = 403, description = "Not the operator (`forbidden`)")))]
async fn list_supporters(State(state): State<AppState>, caller: ApiCaller) -> Result<Response, ApiError> {
    let list = crate::chat::supporters(&state, &caller.actor).await?;
    Ok(Json(json!({ "supporters": list })).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct StateInput {
    /// `registered`, `active` or `suspended`.
    state: String,
}

/// The operator vets, activates or suspends a supporter
#[utoipa::path(post, path = "/api/v1/chat/supporters/{id}/state", tag = "chat",
    params(("id" = i64, Path, description = "The supporter's account id")), request_body = StateInput,
    responses(
        (status = 204, description = "Changed"),
        (status = 403, description = "Not the operator (`forbidden`)"),
        (status = 422, description = "No such state (`invalid_input`)")))]
async fn set_supporter_state(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<StateInput>,
) -> Result<Response, ApiError> {
    crate::chat::set_supporter_state(
        &state,
        &caller.actor,
        &caller.audit("chat supporter"),
        AccountId(id),
        &input.state,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Suggested teams for the rooms without a full one, and the rooms no team can be made for (the operator)
#[utoipa::path(get, path = "/api/v1/chat/teams/suggestions", tag = "chat",
    responses(
        (status = 200, description = "Teams that keep the composition and every supporter's capacity",
            body = tsunagu_domain::chat::teams::Suggestion),
        (status = 403, description = "Not the operator (`forbidden`)")))]
async fn team_suggestions(State(state): State<AppState>, caller: ApiCaller) -> Result<Response, ApiError> {
    Ok(Json(crate::chat::suggestions(&state, &caller.actor).await?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct TeamInput {
    professional: i64,
    raising_toddler: i64,
    no_parenting_experience: i64,
}

/// The operator sets a room's team (checked: one per place, active, within capacity)
#[utoipa::path(put, path = "/api/v1/chat/rooms/{id}/team", tag = "chat",
    params(("id" = i64, Path, description = "Room id")), request_body = TeamInput,
    responses(
        (status = 204, description = "Set"),
        (status = 403, description = "Not the operator (`forbidden`)"),
        (status = 409, description = "The team breaks the rule (`same_supporter_twice`, `supporter_not_active`, `supporter_does_not_fit`, `supporter_over_capacity`, `unknown_supporter`)")))]
async fn set_team(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<TeamInput>,
) -> Result<Response, ApiError> {
    let team = Team {
        professional: AccountId(input.professional),
        raising_toddler: AccountId(input.raising_toddler),
        no_parenting_experience: AccountId(input.no_parenting_experience),
    };
    crate::chat::set_team(&state, &caller.actor, &caller.audit("chat team"), RoomId(id), &team).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Team health: every room's activity and team, never message text (the operator)
#[utoipa::path(get, path = "/api/v1/chat/health", tag = "chat",
    responses(
        (status = 200, description = "Rooms' health", body = super::api_doc::HealthList),
        (status = 403, description = "Not the operator (`forbidden`)")))]
async fn health(State(state): State<AppState>, caller: ApiCaller) -> Result<Response, ApiError> {
    let rooms = crate::chat::health(&state, &caller.actor, &caller.audit("chat health")).await?;
    Ok(Json(json!({ "rooms": rooms })).into_response())
}

/// The help lines a parent is shown: the municipality's own, then the national ones, each with its source
#[utoipa::path(get, path = "/api/v1/chat/help-lines", tag = "chat",
    responses((status = 200, description = "The help lines", body = super::api_doc::HelpLineList)))]
async fn list_help_lines(State(state): State<AppState>, caller: ApiCaller) -> Result<Response, ApiError> {
    let lines = crate::chat::help_lines_for(&state, &caller.actor).await?;
    Ok(Json(json!({ "help_lines": lines })).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct HelpLinesInput {
    /// The municipality's own lines, in the order shown (the national ones follow).
    help_lines: Vec<HelpLine>,
}

/// The operator sets the municipality's own help lines
#[utoipa::path(put, path = "/api/v1/chat/help-lines", tag = "chat", request_body = HelpLinesInput,
    responses(
        (status = 204, description = "Set"),
        (status = 403, description = "Not the operator (`forbidden`)"),
        (status = 422, description = "A line without a name, number or source (`invalid_input`)")))]
async fn set_help_lines(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<HelpLinesInput>,
) -> Result<Response, ApiError> {
    let allowed = permit_municipality(&caller.actor, Action::ManageChat)?;
    let complete = |l: &HelpLine| {
        [&l.name_ja, &l.name_en, &l.number, &l.source].iter().all(|s| !s.trim().is_empty() && s.chars().count() <= 200)
            && l.hours_ja.chars().count() <= 200
    };
    if input.help_lines.len() > 20 || !input.help_lines.iter().all(complete) {
        let mut e = tsunagu_domain::validation::FieldErrors::default();
        e.add("help_lines", "invalid");
        return Err(AppError::Invalid(e).into());
    }
    state.store.set_help_lines(&caller.audit("chat help lines").allowed(&allowed), &input.help_lines).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
