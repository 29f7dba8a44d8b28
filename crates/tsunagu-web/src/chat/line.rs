//! The chat on LINE [003] (coe ran on LINE): the Messaging API webhook a
//! parent's LINE messages arrive by, and the outbox job that pushes the
//! supporters' replies (and the help lines) back to LINE.
//!
//! The webhook `POST /line/webhook/{municipality code}` takes a bounded
//! body, checks `x-line-signature` against the municipality's channel
//! secret (`tsunagu_domain::chat::line`), refuses events it has taken
//! before or that are older than the replay window, and only then reads
//! what the events say. A LINE user who is not linked yet may send their
//! invitation code; a linked one's text goes into their room as that
//! parent (`line::parent_actor`: the policy decides as for the parent
//! signed in), client id = LINE's message id, so a redelivery is stored once.
//!
//! Replies: `post_message` puts a supporter's message for a LINE-linked room
//! in the outbox in the message's own transaction; [`deliver_due`] sends
//! what is due with `POST {api_base}/v2/bot/message/push` and the channel
//! access token, and a failed push is tried again later (never lost, never
//! in the supporter's way). The client speaks plain HTTP only: in
//! production `--line-api-base` names an egress proxy that forwards to
//! `https://api.line.me` over TLS (tsunagu carries no TLS client).

use crate::base::error::{permit_municipality, ApiError, AppError};
use crate::base::events::Event;
use crate::base::session::ApiCaller;
use crate::base::AppState;
use crate::chat::PostInput;
use crate::i18n::{t, Lang};
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use axum::{Json, Router};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashSet;
use std::time::Duration;
use tsunagu_domain::audit::Requester;
use tsunagu_domain::chat::helplines::HelpLine;
use tsunagu_domain::chat::invitations;
use tsunagu_domain::chat::line::{self, LineEvent, LineUserId, MAX_WEBHOOK_BYTES};
use tsunagu_domain::municipality::MunicipalityCode;
use tsunagu_domain::policy::Action;
use tsunagu_domain::MunicipalityId;
use tsunagu_store::prelude::*;
use tsunagu_store::{LineChannel, LineLink, Secret, StoreError};

/// The wake-up the webhook sends when it put a push in the outbox.
pub const OUTBOX_EVENT: &str = "line_outbox";
/// Pushes sent per municipality per round.
const PUSHES_PER_ROUND: u32 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/line/webhook/{municipality}", post(webhook).layer(DefaultBodyLimit::max(MAX_WEBHOOK_BYTES)))
        .route("/api/v1/chat/line-channel", put(set_line_channel))
}

/// Why a webhook was refused; nothing was stored.
#[derive(Debug)]
enum Refused {
    /// No such municipality, or it has no LINE channel.
    NoChannel,
    Unsigned,
    BadSignature,
    NotLineJson,
    /// Every event in it was taken before, or is older than the window.
    Replayed,
    Store(AppError),
}

impl From<AppError> for Refused {
    fn from(e: AppError) -> Self {
        Refused::Store(e)
    }
}

impl From<StoreError> for Refused {
    fn from(e: StoreError) -> Self {
        Refused::Store(e.into())
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let (status, code) = match self {
            Refused::NoChannel => (StatusCode::NOT_FOUND, "not_found"),
            Refused::Unsigned => (StatusCode::UNAUTHORIZED, "signature_missing"),
            Refused::BadSignature => (StatusCode::UNAUTHORIZED, "bad_signature"),
            Refused::NotLineJson => (StatusCode::BAD_REQUEST, "bad_request"),
            Refused::Replayed => (StatusCode::CONFLICT, "replayed"),
            Refused::Store(e) => return ApiError::from(e).into_response(),
        };
        (status, Json(json!({ "error": code }))).into_response()
    }
}

/// LINE's webhook. Answers 200 once every fresh event is handled (LINE
/// redelivers on anything else; handling is idempotent).
async fn webhook(
    State(state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, Refused> {
    let code = MunicipalityCode::parse(code.trim()).map_err(|_| Refused::NoChannel)?;
    let m = state.store.municipality_by_code(code).await?.ok_or(Refused::NoChannel)?.id;
    let channel = state.store.line_channel(m).await?.ok_or(Refused::NoChannel)?;
    let signature = headers.get("x-line-signature").ok_or(Refused::Unsigned)?;
    let signature = signature.to_str().map_err(|_| Refused::BadSignature)?;
    if !line::signature_valid(channel.channel_secret.expose(), &body, Some(signature)) {
        return Err(Refused::BadSignature);
    }
    let events = line::parse_webhook(&body).map_err(|_| Refused::NotLineJson)?;
    if events.is_empty() {
        // LINE's "verify" button sends no events.
        return Ok(StatusCode::OK);
    }
    let now = state.clock.now();
    let window = SignedDuration::try_from(state.config.line_replay_window).unwrap_or(SignedDuration::from_mins(10));
    let ids: Vec<String> = events.iter().map(|e| e.event_id().to_owned()).collect();
    let seen: HashSet<String> = state.store.seen_webhook_events(m, &ids).await?.into_iter().collect();
    let mut taken = HashSet::new();
    let fresh: Vec<&LineEvent> = events
        .iter()
        .filter(|e| !seen.contains(e.event_id()) && line::within_window(e.at(), now, window))
        .filter(|e| taken.insert(e.event_id().to_owned()))
        .collect();
    if fresh.is_empty() {
        return Err(Refused::Replayed);
    }
    let mut pushed = false;
    for event in &fresh {
        pushed |= handle(&state, m, event, now).await?;
    }
    let fresh_ids: Vec<String> = fresh.iter().map(|e| e.event_id().to_owned()).collect();
    state.store.record_webhook_events(m, &fresh_ids, now).await?;
    if pushed {
        state.events.publish(Event { kind: OUTBOX_EVENT, municipality: m.0, id: 0, seq: 0 });
    }
    Ok(StatusCode::OK)
}

/// One fresh event; `true` when it put a push in the outbox.
async fn handle(state: &AppState, m: MunicipalityId, event: &LineEvent, now: Timestamp) -> Result<bool, Refused> {
    match event {
        LineEvent::Text { user, message_id, text, event_id, .. } => match state.store.line_link(m, user).await? {
            Some(link) => post_as_parent(state, m, user, link, message_id, text, now).await,
            None => link_with_code(state, m, user, text, event_id, now).await,
        },
        LineEvent::Follow { user, event_id, .. } => {
            if state.store.line_link(m, user).await?.is_some() {
                return Ok(false);
            }
            let body = t(Lang::Ja, "chat.line.greeting");
            push(state, m, None, user, body, &format!("follow:{event_id}"), now).await?;
            Ok(true)
        }
        LineEvent::Other { .. } => Ok(false),
    }
}

async fn push(
    state: &AppState,
    m: MunicipalityId,
    room: Option<tsunagu_domain::RoomId>,
    to: &LineUserId,
    body: &str,
    key: &str,
    now: Timestamp,
) -> Result<(), Refused> {
    state.store.enqueue_line_push(m, room, to, body, Some(key), now).await?;
    Ok(())
}

/// A linked parent's text goes into their room as they would post it signed in.
async fn post_as_parent(
    state: &AppState,
    m: MunicipalityId,
    user: &LineUserId,
    link: LineLink,
    message_id: &str,
    text: &str,
    now: Timestamp,
) -> Result<bool, Refused> {
    let actor = line::parent_actor(m, link.account);
    let requester = Requester {
        municipality_id: m,
        actor: link.account,
        role: actor.role,
        remote_addr: "line".into(),
        reason: "chat message from LINE".into(),
        at: now,
    };
    let input = PostInput { client_id: line::client_id(message_id), body: text.to_owned() };
    match crate::chat::post(state, &actor, &requester, link.room, &input).await {
        Ok(posted) => match posted.help_lines {
            // Words of self-harm: the help lines at once, on LINE too (the room is flagged by `post`).
            Some(lines) => {
                let body = help_lines_text(&lines);
                push(state, m, Some(link.room), user, &body, &format!("help:{message_id}"), now).await?;
                Ok(true)
            }
            None => Ok(false),
        },
        // Too long, or not text: said back on LINE, nothing stored.
        Err(AppError::Invalid(_)) => {
            let body = t(Lang::Ja, "chat.line.not_taken");
            push(state, m, Some(link.room), user, body, &format!("invalid:{message_id}"), now).await?;
            Ok(true)
        }
        // The parent's account was disabled, or the room is gone: nothing to do.
        Err(AppError::Forbidden | AppError::NotFound) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// An unlinked LINE user's text is read as an invitation code.
async fn link_with_code(
    state: &AppState,
    m: MunicipalityId,
    user: &LineUserId,
    text: &str,
    event_id: &str,
    now: Timestamp,
) -> Result<bool, Refused> {
    let Some(code) = invitations::normalise(text) else {
        push(state, m, None, user, t(Lang::Ja, "chat.line.greeting"), &format!("prompt:{event_id}"), now).await?;
        return Ok(true);
    };
    let mut random = [0u8; 8];
    getrandom::getrandom(&mut random).map_err(|_| AppError::Internal)?;
    let display_name =
        format!("{}{:04}", t(Lang::Ja, "chat.line.display_name"), u16::from_le_bytes([random[0], random[1]]) % 10_000);
    // A neutral name the parent is known by (LINE's profile is never
    // fetched); never signed in with (no passphrase opens it: not a hash).
    let account =
        super::parent_account(m, format!("line-{}", hex::encode(random)), display_name, Secret::new("!line"), now);
    let hash = invitations::code_hash(&code);
    let key = format!("link:{event_id}");
    match state.store.link_line_user(m, &hash, user, &account, now).await {
        Ok(link) => {
            push(state, m, Some(link.room), user, t(Lang::Ja, "chat.line.linked"), &key, now).await?;
        }
        Err(StoreError::NotFound | StoreError::Conflict("invitation_used")) => {
            push(state, m, None, user, t(Lang::Ja, "chat.line.bad_code"), &key, now).await?;
        }
        // Linked meanwhile (a redelivery raced): nothing more to say.
        Err(StoreError::Conflict("line_user_linked")) => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    Ok(true)
}

/// The help lines as one LINE message, Japanese, the municipality's own first.
fn help_lines_text(lines: &[HelpLine]) -> String {
    let mut s = t(Lang::Ja, "chat.line.help_lines").to_owned();
    for l in lines {
        s.push_str(&format!("\n・{} {}", l.name_ja, l.number));
        if !l.hours_ja.is_empty() {
            s.push_str(&format!("（{}）", l.hours_ja));
        }
    }
    s
}

// --- the outbox -----------------------------------------------------------------

/// The HTTP client that pushes to LINE's Messaging API (or the egress proxy before it).
#[derive(Clone)]
pub struct LineClient {
    api_base: String,
    http: Client<HttpConnector, Body>,
}

impl LineClient {
    pub fn new(api_base: &str) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        Self {
            api_base: api_base.trim_end_matches('/').to_owned(),
            http: Client::builder(TokioExecutor::new()).build(connector),
        }
    }

    /// One push; `Err` with what went wrong (an HTTP status or a kind, never a body).
    async fn push(&self, token: &Secret, retry_key: &str, to: &LineUserId, text: &str) -> Result<(), String> {
        if !self.api_base.starts_with("http://") {
            return Err("api_base_not_http".into());
        }
        let body = json!({ "to": to.as_str(), "messages": [{ "type": "text", "text": text }] });
        let request = Request::post(format!("{}/v2/bot/message/push", self.api_base))
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {}", token.expose()))
            // LINE accepts a push with a retry key once: a retry after a lost answer is not sent twice.
            .header("x-line-retry-key", retry_key)
            .body(Body::from(body.to_string()))
            .map_err(|_| "bad_request".to_owned())?;
        let answer = tokio::time::timeout(Duration::from_secs(10), self.http.request(request))
            .await
            .map_err(|_| "timeout".to_owned())?
            .map_err(|_| "unreachable".to_owned())?;
        let status = answer.status();
        // 409 with our retry key: LINE took this push before.
        if status.is_success() || status == StatusCode::CONFLICT {
            Ok(())
        } else {
            Err(status.as_u16().to_string())
        }
    }
}

/// A stable UUID-shaped key for a push (LINE wants a UUID in
/// `X-Line-Retry-Key`): the municipality and the push's id, so every retry
/// of one push carries the same key and no two pushes share one.
fn retry_key(m: MunicipalityId, id: i64) -> String {
    format!("{:08x}-0000-4000-8000-{:012x}", m.0 as u32, (id as u64) & 0xffff_ffff_ffff)
}

/// What one round of the outbox did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    pub sent: usize,
    pub failed: usize,
}

/// Sends every push due at `now`, for every municipality with a channel;
/// a failure is kept and tried again after `line::retry_after`.
pub async fn deliver_due(store: &dyn Store, client: &LineClient, now: Timestamp) -> Result<Delivered, StoreError> {
    let mut done = Delivered::default();
    for m in store.line_municipalities().await? {
        let Some(LineChannel { access_token, .. }) = store.line_channel(m).await? else { continue };
        for p in store.due_line_pushes(m, now, PUSHES_PER_ROUND).await? {
            match client.push(&access_token, &retry_key(m, p.id), &p.to, &p.body).await {
                Ok(()) => {
                    store.line_push_sent(m, p.id, now).await?;
                    done.sent += 1;
                }
                Err(why) => {
                    tracing::warn!(municipality = m.0, push = p.id, error = %why, "a LINE push failed; it will be tried again");
                    let next = now.checked_add(line::retry_after(p.attempts)).unwrap_or(now);
                    store.line_push_failed(m, p.id, &why, next).await?;
                    done.failed += 1;
                }
            }
        }
    }
    Ok(done)
}

/// The outbox job of `tsunagu serve`: a round every few seconds, and at
/// once when the webhook or a supporter's message put something in it.
pub async fn outbox_job(state: AppState) {
    let client = LineClient::new(&state.config.line_api_base);
    // The node's wake-ups but rooms' messages (sorted by the chat's feed):
    // a room's message does not wake this job at all.
    let feed = state.shared.get::<super::feed::Feed>();
    let mut rx = feed.others();
    feed.dispatch(&state.events);
    loop {
        if let Err(e) = deliver_due(state.store.as_ref(), &client, state.clock.now()).await {
            tracing::warn!(error = %e, "the LINE outbox could not be read");
        }
        // Something was put in the outbox: by the webhook, or a supporter's
        // message that may have queued a reply (`post_decided`). Not every
        // room's message: under load that was a read of the outbox per
        // message, back to back (BENCHMARKS.md, the chat, 2026-12-06 13:15 UTC).
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match rx.recv().await {
                    // (Wake-ups the sorting missed: look.)
                    Ok(e) if e.kind == OUTBOX_EVENT || e.kind == super::feed::MISSED_EVENT => return,
                    Ok(_) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => return,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        return;
                    }
                }
            }
        })
        .await;
        if state.draining.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
    }
}

// --- the channel's settings ----------------------------------------------------------

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct LineChannelInput {
    /// The channel secret (LINE Developers console, "Basic settings"); never shown again.
    channel_secret: String,
    /// A long-lived channel access token ("Messaging API"); never shown again.
    access_token: String,
}

/// Sets the municipality's LINE channel (the operator): secret and access token, sealed at rest
///
/// LINE's webhook URL for the channel is `/line/webhook/{municipality code}`.
#[utoipa::path(put, path = "/api/v1/chat/line-channel", tag = "chat", request_body = LineChannelInput,
    responses(
        (status = 204, description = "Set"),
        (status = 403, description = "Not the operator (`forbidden`)"),
        (status = 422, description = "A field is empty or too long (`invalid_input`)")))]
pub(super) async fn set_line_channel(
    State(state): State<AppState>,
    caller: ApiCaller,
    crate::base::api::ApiJson(input): crate::base::api::ApiJson<LineChannelInput>,
) -> Result<Response, ApiError> {
    let allowed = permit_municipality(&caller.actor, Action::ManageChat)?;
    let mut errors = tsunagu_domain::validation::FieldErrors::default();
    for (field, v) in [("channel_secret", &input.channel_secret), ("access_token", &input.access_token)] {
        let v = v.trim();
        if v.is_empty() || v.len() > 1000 || !v.chars().all(|c| c.is_ascii_graphic()) {
            errors.add(field, "invalid");
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors).into());
    }
    let channel = LineChannel {
        channel_secret: Secret::new(input.channel_secret.trim()),
        access_token: Secret::new(input.access_token.trim()),
    };
    state.store.set_line_channel(&caller.audit("chat line channel").allowed(&allowed), &channel).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
