//! The peer-support chat [003], shared by its pages, its JSON API and its
//! WebSocket: a parent's private room, the supporters' rooms, the operator's
//! supporters, teams and team health, the nurse's invitations, escalation.
//!
//! Every room is reached through [`room_for`]: the room's facts (its parent,
//! its active team) are read, then the policy decides. A message is stored
//! (and numbered) before anyone is told it was sent; then a wake-up goes out
//! (`base::events`) and whoever waits reads the store from the last number
//! they saw, so a reconnecting client gets what it missed.

use crate::base::error::{permit, permit_municipality, AppError};
use crate::base::events::Event;
use crate::base::AppState;
use axum::Router;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tsunagu_domain::audit::Requester;
use tsunagu_domain::chat::helplines::{self, HelpLine};
use tsunagu_domain::chat::invitations::{self, supporter_view, EscalationStatus, INVITATION_DAYS};
use tsunagu_domain::chat::messages::{ClientId, DisplayName, MessageError, MessageText};
use tsunagu_domain::chat::supporters::{Attributes, Capacity, Profession, Slot, SupporterState};
use tsunagu_domain::chat::teams::{suggest, Suggestion, Team};
use tsunagu_domain::chat::worrying::mentions_self_harm;
use tsunagu_domain::municipality::MunicipalityCode;
use tsunagu_domain::policy::{Action, Allowed, Resource, RoomAccess};
use tsunagu_domain::roles::{Actor, Role};
use tsunagu_domain::validation::FieldErrors;
use tsunagu_domain::{AccountId, FamilyId, RoomId};
use tsunagu_store::{ChatMessage, NewAccount, RoomHealth, RoomSummary, SupporterRecord};

pub mod api;
mod api_doc;
pub mod feed;
pub mod line;
pub mod pages;
pub mod socket;

/// What this capability's API operations are, for the API's OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    <api_doc::ApiDoc as utoipa::OpenApi>::openapi()
}

/// The chat's pages, API, WebSocket and script.
pub fn routes() -> Router<AppState> {
    Router::new().merge(api::routes()).merge(pages::routes()).merge(socket::routes()).merge(line::routes())
}

/// The kind of wake-up a new message in a room is.
pub(crate) const ROOM_EVENT: &str = "chat.room";
/// The kind of wake-up a change of who may see a room is (its team, an
/// escalation): its id is the room, or 0 for every room of the
/// municipality (a supporter's state); its `seq` a random tag
/// (`Events::publish_change`). Sockets decide again (`feed`).
const ACCESS_EVENT: &str = "chat_access";
/// A page of history at most.
pub const MAX_PAGE: u32 = 100;
/// The longest a long poll waits before answering with nothing new.
pub const MAX_WAIT_SECS: u64 = 25;

fn invalid(field: &'static str, code: &'static str) -> AppError {
    let mut e = FieldErrors::default();
    e.add(field, code);
    AppError::Invalid(e)
}

fn message_error(field: &'static str, e: MessageError) -> AppError {
    invalid(field, e.code())
}

/// A room's facts and the policy's decision on `action` over it. A room of
/// another municipality, or none, is `NotFound`; one the caller may not
/// open is `Forbidden`.
pub async fn room_for(
    state: &AppState,
    actor: &Actor,
    room: RoomId,
    action: Action,
) -> Result<(RoomAccess, Allowed), AppError> {
    let access = state.store.room_access(actor.municipality_id, room).await?.ok_or(AppError::NotFound)?;
    let allowed = permit(actor, action, &Resource::ChatRoom(&access))?;
    Ok((access, allowed))
}

/// A message as the chat shows it: the author by their chat name only.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MessageView {
    pub room: RoomId,
    pub seq: i64,
    pub author: AccountId,
    /// `chat_parent` or `peer_supporter`.
    pub author_role: Role,
    /// The author's name in the chat (a parent's chosen display name).
    pub author_name: String,
    pub client_id: String,
    pub body: String,
    pub sent_at: jiff::Timestamp,
}

impl From<ChatMessage> for MessageView {
    fn from(m: ChatMessage) -> Self {
        MessageView {
            room: m.room,
            seq: m.seq,
            author: m.author,
            author_role: m.author_role,
            author_name: m.author_name,
            client_id: m.client_id,
            body: m.body,
            sent_at: m.sent_at,
        }
    }
}

/// What a client sends to post a message (API body, form, socket frame).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostInput {
    /// The client's own id for the message: a resend carries the same one.
    pub client_id: String,
    pub body: String,
}

/// What posting answered: the message as stored (the first one, for a
/// resend), and the help lines to show at once when the parent's words
/// were of self-harm.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Posted {
    pub message: MessageView,
    pub duplicate: bool,
    /// Present when the message had words of self-harm: the municipality's
    /// own lines first, then the national ones, each with its source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help_lines: Option<Vec<HelpLine>>,
}

/// Posts a message in a room the caller may write in; stored before it is answered.
pub async fn post(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    room: RoomId,
    input: &PostInput,
) -> Result<Posted, AppError> {
    let (access, allowed) = room_for(state, actor, room, Action::ViewChatRoom).await?;
    post_decided(state, actor, requester, room, &access, &allowed, input).await
}

/// [`post`], the policy asked already over the room's facts `access` (a
/// room socket asks it over the facts its node keeps for the room's sockets,
/// `feed`: the same decision its deliveries are made on, without a read per
/// message).
pub async fn post_decided(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    room: RoomId,
    access: &RoomAccess,
    allowed: &Allowed,
    input: &PostInput,
) -> Result<Posted, AppError> {
    // The room's parent is the one whose words call for help lines (a
    // supporter quoting them does not).
    let by_parent = access.parent == actor.account_id;
    let client_id = ClientId::parse(&input.client_id).map_err(|e| message_error("client_id", e))?;
    let text = MessageText::parse(&input.body).map_err(|e| message_error("body", e))?;
    let self_harm = by_parent && mentions_self_harm(text.as_str());
    let ctx = requester.allowed(allowed);
    let posted = state.store.post_message(&ctx, room, &client_id, &text, self_harm).await?;
    if !posted.duplicate {
        // This node's sockets of the room send it without reading it again.
        if let Some(r) = state.shared.get::<feed::Feed>().existing(actor.municipality_id, room) {
            r.offer(&posted.message);
        }
        state.events.publish(Event {
            kind: ROOM_EVENT,
            municipality: actor.municipality_id.0,
            id: room.0,
            seq: posted.message.seq,
        });
        if !by_parent {
            // A supporter's message: a reply to a parent on LINE may be in
            // the outbox now (stored with the message), to push at once.
            state.events.publish(Event {
                kind: line::OUTBOX_EVENT,
                municipality: actor.municipality_id.0,
                id: 0,
                seq: 0,
            });
        }
    }
    let help_lines = if self_harm || (posted.duplicate && by_parent && mentions_self_harm(&posted.message.body)) {
        Some(help_lines_for(state, actor).await?)
    } else {
        None
    };
    Ok(Posted { message: posted.message.into(), duplicate: posted.duplicate, help_lines })
}

/// The help lines a parent of the caller's municipality is shown.
pub async fn help_lines_for(state: &AppState, actor: &Actor) -> Result<Vec<HelpLine>, AppError> {
    Ok(helplines::shown(&state.store.help_lines(actor.municipality_id).await?))
}

/// A page of a room's history (the latest, or before `before`).
pub async fn history(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    room: RoomId,
    before: Option<i64>,
    limit: Option<u32>,
) -> Result<Vec<MessageView>, AppError> {
    Ok(history_with_access(state, actor, requester, room, before, limit).await?.1)
}

/// [`history`], with the room's facts the decision was made on (the page
/// decides from them what else it offers, without reading them again).
pub async fn history_with_access(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    room: RoomId,
    before: Option<i64>,
    limit: Option<u32>,
) -> Result<(RoomAccess, Vec<MessageView>), AppError> {
    let (access, allowed) = room_to_read(state, actor, room).await?;
    let limit = limit.unwrap_or(50).clamp(1, MAX_PAGE);
    let list = state.store.history(&requester.allowed(&allowed), room, before, limit).await?;
    Ok((access, list.into_iter().map(MessageView::from).collect()))
}

/// Reading a room is the parent's and the team's `ViewChatRoom`; otherwise
/// `ReadEscalatedRoom` (the nurse and the operator, only once escalated).
async fn room_to_read(state: &AppState, actor: &Actor, room: RoomId) -> Result<(RoomAccess, Allowed), AppError> {
    let access = state.store.room_access(actor.municipality_id, room).await?.ok_or(AppError::NotFound)?;
    let allowed = permit(actor, Action::ViewChatRoom, &Resource::ChatRoom(&access))
        .or_else(|_| permit(actor, Action::ReadEscalatedRoom, &Resource::ChatRoom(&access)))?;
    Ok((access, allowed))
}

/// Messages after `after`, waiting up to `wait` for one when there are none
/// (the long poll a poor connection falls back to). What a wake-up brings
/// is read once per node for every waiter of the room (`feed`).
pub async fn since(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    room: RoomId,
    after: i64,
    wait: Duration,
) -> Result<Vec<MessageView>, AppError> {
    let (_, allowed) = room_for(state, actor, room, Action::ViewChatRoom).await?;
    let ctx = requester.allowed(&allowed);
    // Subscribe before reading, so a message stored in between wakes us.
    let mut rx = state.events.subscribe();
    let deadline = tokio::time::Instant::now() + wait;
    let list = state.store.messages_after(&ctx, room, after, MAX_PAGE).await?;
    if !list.is_empty() || tokio::time::Instant::now() >= deadline {
        return Ok(list.into_iter().map(MessageView::from).collect());
    }
    let shared = state.shared.get::<feed::Feed>().room(actor.municipality_id, room);
    loop {
        match wait_for_room(&mut rx, actor.municipality_id.0, room.0, deadline).await {
            Some(seq) => {
                let list = shared.after(state, &ctx, after, seq).await?;
                if !list.is_empty() {
                    return Ok(list.into_iter().map(|f| MessageView::from((*f.message).clone())).collect());
                }
            }
            // Time is up: one last look (a wake-up may have been lost).
            None => {
                let list = state.store.messages_after(&ctx, room, after, MAX_PAGE).await?;
                return Ok(list.into_iter().map(MessageView::from).collect());
            }
        }
    }
}

/// Waits for a wake-up about `room` until `deadline`: the number it told
/// (`i64::MAX` when wake-ups were missed: read), or `None` when the time is up.
pub(crate) async fn wait_for_room(
    rx: &mut tokio::sync::broadcast::Receiver<Event>,
    municipality: i64,
    room: i64,
    deadline: tokio::time::Instant,
) -> Option<i64> {
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Err(_) => return None,
            Ok(Ok(e)) if e.kind == ROOM_EVENT && e.municipality == municipality && e.id == room => return Some(e.seq),
            Ok(Ok(_)) => continue,
            // Fell behind or closed: read the store again.
            Ok(Err(_)) => return Some(i64::MAX),
        }
    }
}

/// The caller has read the room up to `seq`.
pub async fn mark_read(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    room: RoomId,
    seq: i64,
) -> Result<(), AppError> {
    let (_, allowed) = room_for(state, actor, room, Action::ViewChatRoom).await?;
    Ok(state.store.mark_read(&requester.allowed(&allowed), room, seq).await?)
}

/// A room in a list: no message text, no real name.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RoomView {
    pub id: RoomId,
    /// The parent's chosen display name.
    pub display_name: String,
    pub last_seq: i64,
    /// How far the caller has read.
    pub read_seq: i64,
    pub last_message_at: Option<jiff::Timestamp>,
    /// The parent's message is the last one: nobody has answered yet.
    pub awaiting_answer: bool,
    pub urgent: bool,
    pub escalated: bool,
    /// Whether the team has all three places filled.
    pub team_full: bool,
}

async fn room_view(state: &AppState, actor: &Actor, s: RoomSummary) -> Result<RoomView, AppError> {
    let read = state.store.read_state(actor.municipality_id, s.room).await?;
    let read_seq = read.iter().find(|(a, _)| *a == actor.account_id).map(|(_, n)| *n).unwrap_or(0);
    Ok(RoomView {
        id: s.room,
        display_name: s.display_name,
        last_seq: s.last_seq,
        read_seq,
        last_message_at: s.last_message_at,
        awaiting_answer: s.awaiting_answer,
        urgent: s.urgent,
        escalated: s.escalated,
        team_full: s.team.len() == 3,
    })
}

/// The rooms the caller may open: a parent's own, a supporter's teams'
/// (each decided by the policy).
pub async fn my_rooms(state: &AppState, actor: &Actor) -> Result<Vec<RoomView>, AppError> {
    let m = actor.municipality_id;
    permit_municipality(actor, Action::UseChat)?;
    // A parent's own room, or a supporter's teams' (one of the two is empty).
    let mut summaries = match state.store.room_of_parent(m, actor.account_id).await? {
        Some(r) => state.store.room_summary(m, r).await?.into_iter().collect(),
        None => vec![],
    };
    summaries.extend(state.store.rooms_of_supporter(m, actor.account_id).await?);
    let mut out = vec![];
    for s in summaries {
        if room_for(state, actor, s.room, Action::ViewChatRoom).await.is_ok() {
            out.push(room_view(state, actor, s).await?);
        }
    }
    Ok(out)
}

/// How many of the caller's rooms have messages they have not read (the
/// header's count: for a supporter, mostly parents' messages not yet seen).
pub async fn unread_rooms(state: &AppState, actor: &Actor) -> Result<usize, AppError> {
    Ok(my_rooms(state, actor).await?.iter().filter(|r| r.read_seq < r.last_seq).count())
}

// --- invitations and joining ----------------------------------------------------

/// A nurse hands a family an invitation: the code (shown once) and until when it works.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Invitation {
    pub code: String,
    pub expires_at: jiff::Timestamp,
}

pub async fn invite(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    family: FamilyId,
) -> Result<Invitation, AppError> {
    let allowed = permit_municipality(actor, Action::InviteToChat)?;
    let mut random = [0u8; 8];
    getrandom::getrandom(&mut random).map_err(|_| AppError::Internal)?;
    let code = invitations::code_from(random);
    let normalised = invitations::normalise(&code).ok_or(AppError::Internal)?;
    let expires_at = requester
        .at
        .checked_add(jiff::SignedDuration::from_hours(24 * INVITATION_DAYS))
        .map_err(|_| AppError::Internal)?;
    state
        .store
        .issue_invitation(&requester.allowed(&allowed), family, &invitations::code_hash(&normalised), expires_at)
        .await?;
    Ok(Invitation { code, expires_at })
}

/// What a parent gives to join: the municipality's code and the invitation
/// code, a display name (never a real name), a username and passphrase of
/// their own, and their consent to a worry being passed to the
/// municipality's nurse.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinInput {
    pub municipality: String,
    pub code: String,
    pub display_name: String,
    pub username: String,
    pub passphrase: String,
    pub consent: bool,
}

/// A parent joins: a chat account and a private room. They then sign in with their username and passphrase.
pub async fn join(state: &AppState, input: &JoinInput) -> Result<RoomId, AppError> {
    let mut errors = FieldErrors::default();
    let code = MunicipalityCode::parse(input.municipality.trim()).ok();
    if code.is_none() {
        errors.add("municipality", "invalid");
    }
    let invitation = invitations::normalise(&input.code);
    if invitation.is_none() {
        errors.add("code", "invalid_code");
    }
    let display = DisplayName::parse(&input.display_name).ok();
    if display.is_none() {
        errors.add("display_name", MessageError::BadDisplayName.code());
    }
    let username = input.username.trim();
    let username_ok = (3..=32).contains(&username.len())
        && username.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
    if !username_ok {
        errors.add("username", "invalid");
    }
    if let Err(e) = tsunagu_domain::password::check_new_password(&input.passphrase) {
        errors.add("passphrase", e.code());
    }
    if !input.consent {
        errors.add("consent", "required");
    }
    let (Some(code), Some(invitation), Some(display), true, true) =
        (code, invitation, display, errors.is_empty(), username_ok)
    else {
        return Err(AppError::Invalid(errors));
    };
    let m = state.store.municipality_by_code(code).await?.ok_or_else(|| invalid("code", "invalid_code"))?;
    let hash = crate::base::auth::hash_password_blocking(&state.hashing, input.passphrase.clone()).await?;
    let now = state.clock.now();
    let account = parent_account(m.id, username.to_owned(), display.as_str().to_owned(), hash, now);
    match state.store.join_chat(m.id, &invitations::code_hash(&invitation), &account, now).await {
        Ok((_, room)) => Ok(room),
        Err(tsunagu_store::StoreError::NotFound) => Err(invalid("code", "invalid_code")),
        Err(e) => Err(e.into()),
    }
}

/// A chat parent's new account: a display name only, no family (on the
/// join page, or from LINE in `line.rs`).
pub(crate) fn parent_account(
    m: tsunagu_domain::MunicipalityId,
    username: String,
    display_name: String,
    password_hash: tsunagu_store::Secret,
    now: jiff::Timestamp,
) -> NewAccount {
    NewAccount {
        municipality_id: m,
        username,
        display_name,
        // The account joining is a chat parent's: the role of an account being made.
        role: Role::ChatParent,
        password_hash,
        totp_secret: None,
        family_id: None,
        family_relation: None,
        areas: vec![],
        venues: vec![],
        rooms: vec![],
        created_at: now,
    }
}

// --- escalation -------------------------------------------------------------------

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalateInput {
    /// The message that worried the supporter, if one did (else the room as a whole).
    #[serde(default)]
    pub message_seq: Option<i64>,
    /// What the supporter saw, for the nurse.
    pub note: String,
    /// A crisis: the nurse should see it at once.
    #[serde(default)]
    pub urgent: bool,
}

/// An escalation as its supporter sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EscalationView {
    pub id: i64,
    pub room: RoomId,
    pub message_seq: Option<i64>,
    pub raised_at: jiff::Timestamp,
    /// `received`, `taken_up` or `closed`: never the case.
    pub status: EscalationStatus,
}

pub async fn escalate(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    room: RoomId,
    input: &EscalateInput,
) -> Result<EscalationView, AppError> {
    let (_, allowed) = room_for(state, actor, room, Action::EscalateChat).await?;
    let note = input.note.trim();
    if note.is_empty() {
        return Err(invalid("note", "required"));
    }
    if note.chars().count() > 2000 {
        return Err(invalid("note", "too_long"));
    }
    let e = state.store.escalate(&requester.allowed(&allowed), room, input.message_seq, note, input.urgent).await?;
    state.events.publish_change(ACCESS_EVENT, actor.municipality_id.0, room.0);
    Ok(EscalationView {
        id: e.id,
        room: e.room,
        message_seq: e.message_seq,
        raised_at: e.raised_at,
        status: supporter_view(e.status),
    })
}

/// The escalations the caller raised, with how far each got.
pub async fn my_escalations(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
) -> Result<Vec<EscalationView>, AppError> {
    let allowed = permit_municipality(actor, Action::ListOwnConcerns)?;
    let list = state.store.escalations_by(&requester.allowed(&allowed), actor.account_id).await?;
    Ok(list
        .into_iter()
        .map(|e| EscalationView {
            id: e.id,
            room: e.room,
            message_seq: e.message_seq,
            raised_at: e.raised_at,
            status: supporter_view(e.status),
        })
        .collect())
}

// --- supporters, teams, health (the operator) ---------------------------------------------

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupporterInput {
    /// `medical`, `childcare` or `education`, if any.
    #[serde(default)]
    pub profession: Option<String>,
    #[serde(default)]
    pub raising_toddler: bool,
    #[serde(default)]
    pub no_parenting_experience: bool,
    /// Rooms at once, 1 to 10.
    pub capacity: i64,
}

pub async fn register_supporter(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    input: &SupporterInput,
) -> Result<(), AppError> {
    let allowed = permit_municipality(actor, Action::RegisterAsSupporter)?;
    let profession = match input.profession.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => Some(Profession::parse(p).ok_or_else(|| invalid("profession", "invalid_choice"))?),
        None => None,
    };
    let attributes = Attributes::new(profession, input.raising_toddler, input.no_parenting_experience)
        .map_err(|e| invalid("attributes", e.code()))?;
    let capacity = Capacity::new(input.capacity).map_err(|e| invalid("capacity", e.code()))?;
    state.store.register_supporter(&requester.allowed(&allowed), attributes, capacity).await?;
    // Vetted again: their rooms decide again.
    state.events.publish_change(ACCESS_EVENT, actor.municipality_id.0, 0);
    Ok(())
}

/// A supporter as the operator sees them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SupporterView {
    pub account: AccountId,
    pub display_name: String,
    pub attributes: Attributes,
    pub capacity: Capacity,
    pub state: SupporterState,
    pub load: u32,
}

impl From<SupporterRecord> for SupporterView {
    fn from(s: SupporterRecord) -> Self {
        SupporterView {
            account: s.account,
            display_name: s.display_name,
            attributes: s.attributes,
            capacity: s.capacity,
            state: s.state,
            load: s.load,
        }
    }
}

pub async fn supporters(state: &AppState, actor: &Actor) -> Result<Vec<SupporterView>, AppError> {
    permit_municipality(actor, Action::ManageChat)?;
    Ok(state.store.supporters(actor.municipality_id).await?.into_iter().map(SupporterView::from).collect())
}

pub async fn set_supporter_state(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    account: AccountId,
    new_state: &str,
) -> Result<(), AppError> {
    let allowed = permit_municipality(actor, Action::ManageChat)?;
    let s = SupporterState::parse(new_state).ok_or_else(|| invalid("state", "invalid_choice"))?;
    state.store.set_supporter_state(&requester.allowed(&allowed), account, s).await?;
    // The supporter's rooms: every room of the municipality decides again.
    state.events.publish_change(ACCESS_EVENT, actor.municipality_id.0, 0);
    Ok(())
}

/// The suggested teams for rooms without a full one (`teams::suggest`), and the rooms left flagged.
pub async fn suggestions(state: &AppState, actor: &Actor) -> Result<Suggestion, AppError> {
    permit_municipality(actor, Action::ManageChat)?;
    let (needs, candidates) = state.store.team_needs(actor.municipality_id).await?;
    Ok(suggest(&needs, &candidates))
}

pub async fn set_team(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    room: RoomId,
    team: &Team,
) -> Result<(), AppError> {
    let allowed = permit_municipality(actor, Action::ManageChat)?;
    state.store.set_team(&requester.allowed(&allowed), room, team).await?;
    state.events.publish_change(ACCESS_EVENT, actor.municipality_id.0, room.0);
    Ok(())
}

/// One room's health, for the operator: never message text.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HealthView {
    pub room: RoomId,
    pub display_name: String,
    pub messages: i64,
    pub last_message_at: Option<jiff::Timestamp>,
    /// The parent's message is the last one.
    pub unanswered: bool,
    /// Seconds from the parent's first message to the team's first answer.
    pub first_answer_secs: Option<i64>,
    pub urgent: bool,
    pub escalated: bool,
    /// Active members per place; a room without all three is flagged.
    pub team: Vec<TeamMember>,
    pub team_full: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TeamMember {
    /// `professional`, `raising_toddler` or `no_parenting_experience`.
    #[schema(value_type = String)]
    pub slot: Slot,
    pub account: AccountId,
}

pub async fn health(state: &AppState, actor: &Actor, requester: &Requester) -> Result<Vec<HealthView>, AppError> {
    let allowed = permit_municipality(actor, Action::ManageChat)?;
    let rooms: Vec<RoomHealth> = state.store.team_health(&requester.allowed(&allowed)).await?;
    let active: Vec<AccountId> = state
        .store
        .supporters(actor.municipality_id)
        .await?
        .into_iter()
        .filter(|s| s.state == SupporterState::Active)
        .map(|s| s.account)
        .collect();
    Ok(rooms
        .into_iter()
        .map(|h| {
            let team: Vec<TeamMember> = h
                .summary
                .team
                .iter()
                .filter(|(_, a)| active.contains(a))
                .map(|(slot, account)| TeamMember { slot: *slot, account: *account })
                .collect();
            HealthView {
                room: h.summary.room,
                display_name: h.summary.display_name,
                messages: h.summary.last_seq,
                last_message_at: h.summary.last_message_at,
                unanswered: h.summary.awaiting_answer,
                first_answer_secs: h.first_answer_secs,
                urgent: h.summary.urgent,
                escalated: h.summary.escalated,
                team_full: team.len() == 3,
                team,
            }
        })
        .collect())
}
