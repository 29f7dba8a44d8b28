//! The chat's real time: a WebSocket per room (axum's own) and one per
//! supporter for the in-page notice of new messages in their rooms.
//!
//! A room's socket first sends what was missed after `?after=N`, then each
//! new message as it is stored; a message sent over it is answered with an
//! `ack` only once stored. The policy is asked again before every delivery
//! and every post, so a supporter taken off a team stops at once. Signed in
//! by the page's cookie (the `Origin` must be this host: no other site may
//! open a socket with the reader's cookie) or by an API bearer token.
//!
//! A socket lives no longer than the session it was opened with: when the
//! session ends (signed out, or ended by an administrator: the account
//! disabled, its password or second factor reset) the change is told
//! (`session_ended` / `account_changed`, to every node) and the account's
//! sockets ask whether their own session still stands — if not, they close
//! with [`SESSION_ENDED_CLOSE_CODE`]. Enabling the account again brings no
//! session back: its old sockets are closed, a new sign-in is needed. A
//! socket also asks every [`SESSION_LOOK`] (a change whose wake-up was lost).

use crate::base::error::permit;
use crate::base::error::AppError;
use crate::base::events::Event;
use crate::base::events::{ACCOUNT_EVENT, SESSION_ENDED_CLOSE_CODE, SESSION_EVENT};
use crate::base::session::{actor_of, audit_ctx, resolve_token, RequestCtx};
use crate::base::AppState;
use crate::chat::feed::{Changed, Feed, FeedRoom, Frame, MISSED_EVENT};
use crate::chat::{room_for, PostInput, ACCESS_EVENT, MAX_PAGE, ROOM_EVENT};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::header::{AUTHORIZATION, HOST, ORIGIN};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::SinkExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tracing::Instrument;
use tsunagu_domain::audit::{AuditContext, Requester};
use tsunagu_domain::chat::helplines::HelpLine;
use tsunagu_domain::policy::{Action, Allowed, Resource, RoomAccess};
use tsunagu_domain::roles::Actor;
use tsunagu_domain::{MunicipalityId, RoomId};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/chat/rooms/{id}/ws", get(room_socket))
        .route("/chat/inbox/ws", get(inbox_socket))
        .route("/chat/unread", get(unread))
        .route("/static/chat.js", get(script))
        .route("/static/chat-notices.js", get(notices_script))
        .route("/static/chat.css", get(stylesheet))
}

/// A socket's frames are small: a message is at most 2,000 characters.
const MAX_FRAME_BYTES: usize = 16 * 1024;
/// A socket's read and write buffers. tungstenite's default is 128 KiB
/// each, allocated per connection (most of an idle socket's memory) and the
/// read buffer zero-filled on every read attempt: with every socket of a
/// node woken by each message, that took half the CPU of a busy node (see
/// BENCHMARKS.md, the chat). A longer frame still fits; the buffer grows.
const SOCKET_BUFFER_BYTES: usize = 4 * 1024;
/// What a client that stops reading may leave unsent before its socket
/// fails (then closes), instead of growing without bound.
const MAX_UNSENT_BYTES: usize = 1024 * 1024;

/// The chat's sockets' limits and buffers.
fn sized(upgrade: WebSocketUpgrade) -> WebSocketUpgrade {
    upgrade
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .read_buffer_size(SOCKET_BUFFER_BYTES)
        .write_buffer_size(SOCKET_BUFFER_BYTES)
        .max_write_buffer_size(MAX_UNSENT_BYTES)
}
/// Without a wake-up (another node stored the message and its wake-up was
/// lost), a socket looks again this often — at this node's shared knowledge
/// of the room's last sequence (`Events::known_seq`), which the store is
/// read for at most once per room and node in this time; the messages
/// themselves are read only when that says there is something new.
const LOOK_AGAIN: Duration = Duration::from_secs(5);
/// Without a wake-up, a socket asks whether its session still stands this
/// often (one small read per socket).
const SESSION_LOOK: Duration = Duration::from_secs(60);

async fn script() -> Response {
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (axum::http::header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("./chat.js"),
    )
        .into_response()
}

/// The header's count of rooms with unread messages, live (every page a
/// parent or supporter sees).
async fn notices_script() -> Response {
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (axum::http::header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("./notices.js"),
    )
        .into_response()
}

/// `{"rooms": n}`: how many of the caller's rooms have messages they have
/// not read — what the header shows when its socket cannot be had (polled).
/// The page's cookie (a same-origin read: another site cannot read the
/// answer) or a bearer token.
async fn unread(State(state): State<AppState>, ctx: RequestCtx, headers: HeaderMap) -> Response {
    let actor = if headers.contains_key(AUTHORIZATION) {
        caller(&state, &ctx, &headers).await.map(|(a, _, _)| a)
    } else {
        ctx.signed_in().map(|(_, a)| actor_of(a))
    };
    let answer = match actor {
        Ok(actor) => crate::chat::unread_rooms(&state, &actor).await,
        Err(e) => Err(e),
    };
    match answer {
        Ok(n) => axum::Json(json!({ "rooms": n })).into_response(),
        Err(e) => crate::base::error::ApiError::from(e).into_response(),
    }
}

async fn stylesheet() -> Response {
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (axum::http::header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("./chat.css"),
    )
        .into_response()
}

/// Who opens the socket: a bearer token, or the page's session cookie from
/// this host's page; and the session's token hash (the socket lives no
/// longer than the session).
async fn caller(
    state: &AppState,
    ctx: &RequestCtx,
    headers: &HeaderMap,
) -> Result<(Actor, Requester, SessionKey), AppError> {
    if let Some(token) =
        headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "))
    {
        let (session, account) = resolve_token(state, token.trim(), ctx.now).await?.ok_or(AppError::Unauthenticated)?;
        if session.stage != tsunagu_store::SessionStage::Full {
            return Err(AppError::Unauthenticated);
        }
        let requester = audit_ctx(&account, &ctx.remote_addr, "chat socket", ctx.now);
        return Ok((actor_of(&account), requester, (session.municipality_id, session.token_hash)));
    }
    let host = headers.get(HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let origin = headers.get(ORIGIN).and_then(|v| v.to_str().ok()).unwrap_or("");
    let same = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) == Some(host);
    if !same {
        return Err(AppError::Forbidden);
    }
    let (session, account) = ctx.signed_in()?;
    let requester = audit_ctx(account, &ctx.remote_addr, "chat socket", ctx.now);
    Ok((actor_of(account), requester, (session.municipality_id, session.token_hash.clone())))
}

#[derive(Deserialize, Default)]
struct After {
    #[serde(default)]
    after: Option<i64>,
}

async fn room_socket(
    State(state): State<AppState>,
    ctx: RequestCtx,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<After>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let room = RoomId(id);
    let opened = async {
        let (actor, requester, session) = caller(&state, &ctx, &headers).await?;
        let (_, allowed) = room_for(&state, &actor, room, Action::ViewChatRoom).await?;
        let after = q.after.unwrap_or(0).max(0);
        state.store.mark_subscribed(&requester.allowed(&allowed), room, after).await?;
        Ok::<_, AppError>((Opened { actor, requester, session }, allowed, after))
    }
    .await;
    // The socket's work belongs to the request that opened it (its id in the logs).
    let span = tracing::info_span!("chat socket", room = room.0);
    match opened {
        Ok((opened, allowed, after)) => sized(upgrade)
            .on_upgrade(move |socket| run_room(socket, state, opened, room, allowed, after).instrument(span)),
        Err(e) => crate::base::error::ApiError::from(e).into_response(),
    }
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientFrame {
    Send { client_id: String, body: String },
    Read { seq: i64 },
}

/// Who opened a socket, and with which session (its token hash).
struct Opened {
    actor: Actor,
    requester: Requester,
    session: SessionKey,
}

/// A session as a socket keeps it: its municipality and its token's hash.
type SessionKey = (MunicipalityId, String);

/// Whether the session a socket was opened with still stands: stored, its
/// account enabled. A read that fails keeps the socket (the next look asks again).
async fn session_stands(state: &AppState, (m, token_hash): &SessionKey) -> bool {
    match state.store.session_with_account(*m, token_hash).await {
        Ok(Some((_, Some(account)))) => !account.disabled,
        Ok(_) => false,
        Err(_) => true,
    }
}

/// The session ended: say so, with the code that asks the client to sign in again.
async fn close_for_session(mut socket: WebSocket) {
    let frame = CloseFrame { code: SESSION_ENDED_CLOSE_CODE, reason: "session ended".into() };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

/// The node stops: say so, with the code that asks the client to come back.
async fn close_for_restart(mut socket: WebSocket) {
    let frame = CloseFrame { code: crate::base::events::RESTART_CLOSE_CODE, reason: "service restart".into() };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

fn text(v: serde_json::Value) -> Message {
    Message::Text(v.to_string().into())
}

/// Whether the caller may still see the room, by the policy over the
/// room's facts as this node keeps them (`feed`): the decision's proof, or
/// `None` (the socket ends).
async fn still_allowed(state: &AppState, actor: &Actor, feed: &Feed, room: &FeedRoom) -> Option<Allowed> {
    let access = feed.access(state, room).await.ok()??;
    permit(actor, Action::ViewChatRoom, &Resource::ChatRoom(&access)).ok()
}

/// Sends what is stored after `last` (the reconnect's catch-up: read for
/// this socket alone, once); the new `last`. `None` when the socket closed.
async fn catch_up(
    socket: &mut WebSocket,
    state: &AppState,
    ctx: &AuditContext,
    room: RoomId,
    mut last: i64,
) -> Option<i64> {
    loop {
        let list = state.store.messages_after(ctx, room, last, MAX_PAGE).await.ok()?;
        let full = list.len() == MAX_PAGE as usize;
        for m in list {
            let f = Frame::of(m);
            last = f.seq;
            socket.feed(Message::Text(f.text)).await.ok()?;
        }
        socket.flush().await.ok()?;
        if !full {
            return Some(last);
        }
    }
}

/// Sends the room's messages after `last` up to `wanted` (a wake-up's
/// number), asking the policy first: shared with the node's other sockets
/// of the room (`feed`). The new `last`; `None` when the caller may no
/// longer see the room or the socket closed.
#[allow(clippy::too_many_arguments)]
async fn deliver(
    socket: &mut WebSocket,
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    feed: &Feed,
    room: &FeedRoom,
    mut last: i64,
    wanted: i64,
) -> Option<i64> {
    let allowed = still_allowed(state, actor, feed, room).await?;
    // What the room keeps is sent as it is; the audit context is made only
    // for a read of the store.
    let list = match room.kept_after(last, wanted) {
        Some(list) => list,
        None => room.after(state, &requester.allowed(&allowed), last, wanted).await.ok()?,
    };
    for f in list {
        last = f.seq;
        socket.feed(Message::Text(f.text)).await.ok()?;
    }
    // The frames written together.
    socket.flush().await.ok()?;
    Some(last)
}

/// The safety net's look: how far the room has got, as far as this node
/// knows — its shared knowledge when recent, else one small read (shared
/// with the node's other sockets of the room for `LOOK_AGAIN`). `None`: the
/// room is no more (the socket ends).
async fn room_top(state: &AppState, actor: &Actor, room: RoomId, last: i64) -> Option<i64> {
    let m = actor.municipality_id.0;
    if let Some(seq) = state.events.known_seq(ROOM_EVENT, m, room.0, LOOK_AGAIN) {
        return Some(seq);
    }
    match state.store.room_last_seq(actor.municipality_id, room).await {
        Ok(Some(seq)) => {
            state.events.note_read(Event { kind: ROOM_EVENT, municipality: m, id: room.0, seq });
            Some(seq)
        }
        Ok(None) => None,
        // The full read will say what is wrong.
        Err(_) => Some(last + 1),
    }
}

/// What a wake-up asks of a room's socket.
enum Wake {
    Nothing,
    /// Send what follows, up to this number.
    Upto(i64),
    /// Who may see the room may have changed: ask the policy again.
    Decide,
    /// Wake-ups were missed: look at the room's number and decide again.
    Missed,
    /// The caller's own account or session changed: does the session stand?
    Session,
}

fn wake_for(event: Result<Event, RecvError>, feed: &Feed, me: &Actor, room: RoomId, last: i64) -> Wake {
    let m = me.municipality_id;
    let e = match event {
        Ok(e) => e,
        Err(RecvError::Lagged(_)) => return Wake::Missed,
        Err(RecvError::Closed) => return Wake::Nothing,
    };
    if e.municipality != m.0 && e.kind != MISSED_EVENT {
        return Wake::Nothing;
    }
    match e.kind {
        MISSED_EVENT => Wake::Missed,
        ROOM_EVENT if e.id == room.0 && e.seq > last => Wake::Upto(e.seq),
        ACCESS_EVENT if e.id == room.0 => {
            feed.changed(Changed::Room(m, room), e.seq);
            Wake::Decide
        }
        ACCESS_EVENT if e.id == 0 => {
            feed.changed(Changed::Municipality(m), e.seq);
            Wake::Decide
        }
        SESSION_EVENT if e.id == me.account_id.0 => Wake::Session,
        ACCOUNT_EVENT if e.id == me.account_id.0 => {
            feed.changed(Changed::Municipality(m), e.seq);
            Wake::Session
        }
        ACCOUNT_EVENT => {
            feed.changed(Changed::Municipality(m), e.seq);
            Wake::Decide
        }
        _ => Wake::Nothing,
    }
}

async fn run_room(mut socket: WebSocket, state: AppState, opened: Opened, room: RoomId, allowed: Allowed, after: i64) {
    let Opened { actor, requester, session } = opened;
    let _open = state.metrics.socket_opened();
    let feed = state.shared.get::<Feed>();
    let shared = feed.room(actor.municipality_id, room);
    // The room's wake-ups and the others, before the catch-up's read.
    let mut rx = shared.wakes();
    let mut others = feed.others();
    feed.dispatch(&state.events);
    let m = actor.municipality_id;
    let Some(mut last) = catch_up(&mut socket, &state, &requester.allowed(&allowed), room, after).await else {
        return;
    };
    let mut tick = tokio::time::interval(LOOK_AGAIN);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut session_look = tokio::time::interval_at(tokio::time::Instant::now() + SESSION_LOOK, SESSION_LOOK);
    session_look.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Made once for the socket's life (not again at every frame and wake-up).
    let stopping = state.events.stopping();
    tokio::pin!(stopping);
    loop {
        let wanted = tokio::select! {
            () = &mut stopping => return close_for_restart(socket).await,
            frame = socket.recv() => {
                let Some(Ok(frame)) = frame else { return };
                let (reply, stored) = match frame {
                    Message::Text(t) => on_frame(&state, &actor, &requester, (&feed, &shared), t.as_str()).await,
                    Message::Close(_) => return,
                    _ => continue,
                };
                if socket.feed(Message::Text(reply)).await.is_err() {
                    return;
                }
                // The socket's own new message follows its ack at once (one
                // write for both, not a second on its wake-up) when it is the
                // next this socket owes and the room's kept frames hold it:
                // sent on the decision that let it be posted a moment ago.
                if let Some(seq) = stored.filter(|seq| *seq == last + 1) {
                    for f in shared.kept_after(last, seq).unwrap_or_default() {
                        last = f.seq;
                        if socket.feed(Message::Text(f.text)).await.is_err() {
                            return;
                        }
                    }
                }
                if socket.flush().await.is_err() {
                    return;
                }
                continue;
            }
            event = async {
                tokio::select! {
                    e = rx.recv() => e,
                    e = others.recv() => e,
                }
            } => match wake_for(event, &feed, &actor, room, last) {
                Wake::Nothing => continue,
                Wake::Session => {
                    if !session_stands(&state, &session).await {
                        return close_for_session(socket).await;
                    }
                    if still_allowed(&state, &actor, &feed, &shared).await.is_none() {
                        return;
                    }
                    continue;
                }
                Wake::Upto(seq) => seq,
                Wake::Decide => {
                    if still_allowed(&state, &actor, &feed, &shared).await.is_none() {
                        return;
                    }
                    continue;
                }
                Wake::Missed => {
                    if !session_stands(&state, &session).await {
                        return close_for_session(socket).await;
                    }
                    feed.changed(Changed::Room(m, room), random_tag());
                    let Some(seq) = room_top(&state, &actor, room, last).await else { return };
                    seq
                }
            },
            _ = tick.tick() => {
                let Some(seq) = room_top(&state, &actor, room, last).await else { return };
                seq
            }
            _ = session_look.tick() => {
                if !session_stands(&state, &session).await {
                    return close_for_session(socket).await;
                }
                continue;
            }
        };
        if wanted <= last {
            continue;
        }
        let Some(n) = deliver(&mut socket, &state, &actor, &requester, &feed, &shared, last, wanted).await else {
            return;
        };
        last = n;
    }
}

/// A tag for a change this socket tells itself (its wake-ups were missed).
fn random_tag() -> i64 {
    let mut b = [0u8; 8];
    let _ = getrandom::getrandom(&mut b);
    i64::from_le_bytes(b) & i64::MAX
}

/// The policy's decision to let the caller post in the room, over the
/// room's facts as this node keeps them for its sockets (`feed`: read once,
/// kept until a change of who may see the room is told, as for deliveries).
async fn may_post(
    state: &AppState,
    actor: &Actor,
    feed: &Feed,
    room: &FeedRoom,
) -> Result<(Arc<RoomAccess>, Allowed), AppError> {
    let access = feed.access(state, room).await?.ok_or(AppError::NotFound)?;
    let allowed = permit(actor, Action::ViewChatRoom, &Resource::ChatRoom(&access))?;
    Ok((access, allowed))
}

/// A post's `ack`, serialised as it is (no tree of values).
#[derive(Serialize)]
struct Ack<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    client_id: &'a str,
    seq: i64,
    duplicate: bool,
    help_lines: &'a Option<Vec<HelpLine>>,
}

/// One frame from the client: a message to store (answered once stored) or
/// how far it has read. The answer, and the number of the message this
/// frame stored (not a resend's).
async fn on_frame(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    (feed, shared): (&Feed, &FeedRoom),
    t: &str,
) -> (Utf8Bytes, Option<i64>) {
    let requester = Requester { at: state.clock.now(), ..requester.clone() };
    let room = shared.id();
    match serde_json::from_str::<ClientFrame>(t) {
        Ok(ClientFrame::Send { client_id, body }) => {
            let input = PostInput { client_id: client_id.clone(), body };
            let posted = match may_post(state, actor, feed, shared).await {
                Ok((access, allowed)) => {
                    crate::chat::post_decided(state, actor, &requester, room, &access, &allowed, &input).await
                }
                Err(e) => Err(e),
            };
            match posted {
                Ok(p) => {
                    let ack = Ack {
                        kind: "ack",
                        client_id: &client_id,
                        seq: p.message.seq,
                        duplicate: p.duplicate,
                        help_lines: &p.help_lines,
                    };
                    // Plain fields: cannot fail (else an empty frame, never a wrong one).
                    (serde_json::to_string(&ack).unwrap_or_default().into(), (!p.duplicate).then_some(p.message.seq))
                }
                Err(e) => (text_of(json!({ "type": "error", "client_id": client_id, "code": error_code(&e) })), None),
            }
        }
        Ok(ClientFrame::Read { seq }) => match crate::chat::mark_read(state, actor, &requester, room, seq).await {
            Ok(()) => (text_of(json!({ "type": "read", "seq": seq })), None),
            Err(e) => (text_of(json!({ "type": "error", "code": error_code(&e) })), None),
        },
        Err(_) => (text_of(json!({ "type": "error", "code": "invalid_json" })), None),
    }
}

fn text_of(v: serde_json::Value) -> Utf8Bytes {
    v.to_string().into()
}

fn error_code(e: &AppError) -> String {
    match e {
        AppError::Invalid(f) => f.0.first().map(|x| x.code.to_owned()).unwrap_or_else(|| "invalid_input".into()),
        e => e.code().to_owned(),
    }
}

/// A supporter's notices: a frame `{"type":"new","room":…,"seq":…}` when a
/// message is stored in one of their rooms (never its text), and
/// `{"type":"unread","rooms":n}` at the start and after each message in
/// their rooms (the header's count).
async fn inbox_socket(
    State(state): State<AppState>,
    ctx: RequestCtx,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    match caller(&state, &ctx, &headers).await {
        Ok((actor, _, session)) if crate::base::error::permit_municipality(&actor, Action::UseChat).is_ok() => {
            sized(upgrade).on_upgrade(move |socket| run_inbox(socket, state, actor, session))
        }
        Ok(_) => crate::base::error::ApiError::from(AppError::Forbidden).into_response(),
        Err(e) => crate::base::error::ApiError::from(e).into_response(),
    }
}

/// The caller's rooms (those the policy lets them open) and the count of
/// those with unread messages, as a frame.
async fn inbox_view(state: &AppState, actor: &Actor) -> Option<(HashSet<i64>, Message)> {
    let rooms = crate::chat::my_rooms(state, actor).await.ok()?;
    let unread = rooms.iter().filter(|r| r.read_seq < r.last_seq).count();
    Some((rooms.iter().map(|r| r.id.0).collect(), text(json!({ "type": "unread", "rooms": unread }))))
}

/// A supporter's or parent's notices. A message in a room not theirs costs
/// nothing (their rooms are known from the start, and again after a change
/// of who may see which room); one in theirs, the policy's decision and the
/// count again.
async fn run_inbox(mut socket: WebSocket, state: AppState, actor: Actor, session: SessionKey) {
    let _open = state.metrics.socket_opened();
    let mut rx = state.events.subscribe();
    let m = actor.municipality_id.0;
    let Some((mut rooms, frame)) = inbox_view(&state, &actor).await else { return };
    if socket.send(frame).await.is_err() {
        return;
    }
    let mut session_look = tokio::time::interval_at(tokio::time::Instant::now() + SESSION_LOOK, SESSION_LOOK);
    session_look.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = state.events.stopping() => return close_for_restart(socket).await,
            _ = session_look.tick() => {
                if !session_stands(&state, &session).await {
                    return close_for_session(socket).await;
                }
            }
            frame = socket.recv() => match frame {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                _ => {}
            },
            event = rx.recv() => {
                let e = match event {
                    Ok(e) if e.municipality != m => continue,
                    Ok(e) if e.kind == ROOM_EVENT && rooms.contains(&e.id) => e,
                    // The caller's own account or session changed: does the session stand?
                    Ok(e) if (e.kind == SESSION_EVENT || e.kind == ACCOUNT_EVENT) && e.id == actor.account_id.0 => {
                        if !session_stands(&state, &session).await {
                            return close_for_session(socket).await;
                        }
                        let Some((now, _)) = inbox_view(&state, &actor).await else { return };
                        rooms = now;
                        continue;
                    }
                    Ok(e) if e.kind == ACCESS_EVENT || e.kind == ACCOUNT_EVENT => {
                        let Some((now, _)) = inbox_view(&state, &actor).await else { return };
                        rooms = now;
                        continue;
                    }
                    Ok(_) | Err(RecvError::Closed) => continue,
                    // Wake-ups were missed: the session, the rooms and the count again.
                    Err(RecvError::Lagged(_)) => {
                        if !session_stands(&state, &session).await {
                            return close_for_session(socket).await;
                        }
                        let Some((now, frame)) = inbox_view(&state, &actor).await else { return };
                        rooms = now;
                        if socket.send(frame).await.is_err() {
                            return;
                        }
                        continue;
                    }
                };
                if room_for(&state, &actor, RoomId(e.id), Action::ViewChatRoom).await.is_err() {
                    continue;
                }
                // The supporter's own message is no news to them.
                let own = state
                    .store
                    .room_summary(actor.municipality_id, RoomId(e.id))
                    .await
                    .ok()
                    .flatten()
                    .map(|s| !s.awaiting_answer)
                    .unwrap_or(false);
                if !own && socket.send(text(json!({ "type": "new", "room": e.id, "seq": e.seq }))).await.is_err() {
                    return;
                }
                let Some((now, frame)) = inbox_view(&state, &actor).await else { return };
                rooms = now;
                if socket.send(frame).await.is_err() {
                    return;
                }
            }
        }
    }
}
