//! The chat's real time: a WebSocket per room (axum's own) and one per
//! supporter for the in-page notice of new messages in their rooms.
//!
//! A room's socket first sends what was missed after `?after=N`, then each
//! new message as it is stored; a message sent over it is answered with an
//! `ack` only once stored. The policy is asked again before every delivery
//! and every post, so a supporter taken off a team stops at once. Signed in
//! by the page's cookie (the `Origin` must be this host: no other site may
//! open a socket with the reader's cookie) or by an API bearer token.

use crate::base::error::AppError;
use crate::base::events::Event;
use crate::base::session::{actor_of, audit_ctx, resolve_token, RequestCtx};
use crate::base::AppState;
use crate::chat::{room_for, MessageView, PostInput, MAX_PAGE, ROOM_EVENT};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::header::{AUTHORIZATION, HOST, ORIGIN};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;
use tsunagu_domain::audit::Requester;
use tsunagu_domain::policy::Action;
use tsunagu_domain::roles::Actor;
use tsunagu_domain::RoomId;

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
/// Without a wake-up (another node stored the message and its wake-up was
/// lost), a socket looks again this often — at this node's shared knowledge
/// of the room's last sequence (`Events::known_seq`), which the store is
/// read for at most once per room and node in this time; the messages
/// themselves are read only when that says there is something new.
const LOOK_AGAIN: Duration = Duration::from_secs(5);

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
        caller(&state, &ctx, &headers).await.map(|(a, _)| a)
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

/// Who opens the socket: a bearer token, or the page's session cookie from this host's page.
async fn caller(state: &AppState, ctx: &RequestCtx, headers: &HeaderMap) -> Result<(Actor, Requester), AppError> {
    if let Some(token) =
        headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "))
    {
        let (session, account) = resolve_token(state, token.trim(), ctx.now).await?.ok_or(AppError::Unauthenticated)?;
        if session.stage != tsunagu_store::SessionStage::Full {
            return Err(AppError::Unauthenticated);
        }
        return Ok((actor_of(&account), audit_ctx(&account, &ctx.remote_addr, "chat socket", ctx.now)));
    }
    let host = headers.get(HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let origin = headers.get(ORIGIN).and_then(|v| v.to_str().ok()).unwrap_or("");
    let same = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) == Some(host);
    if !same {
        return Err(AppError::Forbidden);
    }
    let (_, account) = ctx.signed_in()?;
    Ok((actor_of(account), audit_ctx(account, &ctx.remote_addr, "chat socket", ctx.now)))
}

/// A socket's buffers, sized for chat frames (at most `MAX_FRAME_BYTES`).
/// The WebSocket library's default read buffer (128 KiB, allocated at once
/// and zero-filled on every read) cost 128 MiB for 1,000 idle sockets and
/// half the CPU of a busy node; 8 KiB reads a whole frame in two reads at
/// most. A client that stops reading may hold at most `MAX_UNSENT` of
/// frames before its socket fails (then closes) instead of growing.
fn bounded(upgrade: WebSocketUpgrade) -> WebSocketUpgrade {
    const READ_BUFFER: usize = 8 * 1024;
    const MAX_UNSENT: usize = 1024 * 1024;
    upgrade
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_write_buffer_size(MAX_UNSENT)
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
        let (actor, requester) = caller(&state, &ctx, &headers).await?;
        let (_, allowed) = room_for(&state, &actor, room, Action::ViewChatRoom).await?;
        let after = q.after.unwrap_or(0).max(0);
        state.store.mark_subscribed(&requester.allowed(&allowed), room, after).await?;
        Ok::<_, AppError>((actor, requester, after))
    }
    .await;
    match opened {
        Ok((actor, requester, after)) => {
            bounded(upgrade).on_upgrade(move |socket| run_room(socket, state, actor, requester, room, after))
        }
        Err(e) => crate::base::error::ApiError::from(e).into_response(),
    }
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientFrame {
    Send { client_id: String, body: String },
    Read { seq: i64 },
}

/// The node stops: say so, with the code that asks the client to come back.
async fn close_for_restart(mut socket: WebSocket) {
    let frame = CloseFrame { code: crate::base::events::RESTART_CLOSE_CODE, reason: "service restart".into() };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

fn text(v: serde_json::Value) -> Message {
    Message::Text(v.to_string().into())
}

/// Sends what is stored after `last`, asking the policy first; the new `last`.
/// `None` when the caller may no longer see the room or the socket closed.
async fn deliver(
    socket: &mut WebSocket,
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    room: RoomId,
    mut last: i64,
) -> Option<i64> {
    let (_, allowed) = room_for(state, actor, room, Action::ViewChatRoom).await.ok()?;
    let ctx = requester.allowed(&allowed);
    loop {
        let list = state.store.messages_after(&ctx, room, last, MAX_PAGE).await.ok()?;
        if list.is_empty() {
            return Some(last);
        }
        for m in list {
            last = m.seq;
            let view = MessageView::from(m);
            socket.send(text(json!({ "type": "message", "message": view }))).await.ok()?;
        }
    }
}

/// The safety net's look: whether the room may hold messages after `last`.
/// The node's shared knowledge when recent, else one small read (shared
/// with the node's other sockets of the room for `LOOK_AGAIN`). `None`: the
/// room is no more (the socket ends).
async fn maybe_new(state: &AppState, actor: &Actor, room: RoomId, last: i64) -> Option<bool> {
    let m = actor.municipality_id.0;
    if let Some(seq) = state.events.known_seq(ROOM_EVENT, m, room.0, LOOK_AGAIN) {
        return Some(seq > last);
    }
    match state.store.room_last_seq(actor.municipality_id, room).await {
        Ok(Some(seq)) => {
            state.events.note_read(Event { kind: ROOM_EVENT, municipality: m, id: room.0, seq });
            Some(seq > last)
        }
        Ok(None) => None,
        // The full read will say what is wrong.
        Err(_) => Some(true),
    }
}

async fn run_room(
    mut socket: WebSocket,
    state: AppState,
    actor: Actor,
    requester: Requester,
    room: RoomId,
    after: i64,
) {
    let _open = state.metrics.socket_opened();
    let mut rx = state.events.subscribe();
    let Some(mut last) = deliver(&mut socket, &state, &actor, &requester, room, after).await else { return };
    let mut tick = tokio::time::interval(LOOK_AGAIN);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = state.events.stopping() => return close_for_restart(socket).await,
            frame = socket.recv() => {
                let Some(Ok(frame)) = frame else { return };
                let reply = match frame {
                    Message::Text(t) => on_frame(&state, &actor, &requester, room, t.as_str()).await,
                    Message::Close(_) => return,
                    _ => continue,
                };
                if socket.send(text(reply)).await.is_err() {
                    return;
                }
            }
            event = rx.recv() => {
                let ours = match event {
                    Ok(e) => e.kind == ROOM_EVENT && e.municipality == actor.municipality_id.0 && e.id == room.0 && e.seq > last,
                    Err(_) => true,
                };
                if ours {
                    let Some(n) = deliver(&mut socket, &state, &actor, &requester, room, last).await else { return };
                    last = n;
                }
            }
            _ = tick.tick() => {
                let Some(new) = maybe_new(&state, &actor, room, last).await else { return };
                if !new {
                    continue;
                }
                let Some(n) = deliver(&mut socket, &state, &actor, &requester, room, last).await else { return };
                last = n;
            }
        }
    }
}

/// One frame from the client: a message to store (answered once stored) or how far it has read.
async fn on_frame(state: &AppState, actor: &Actor, requester: &Requester, room: RoomId, t: &str) -> serde_json::Value {
    let requester = Requester { at: state.clock.now(), ..requester.clone() };
    match serde_json::from_str::<ClientFrame>(t) {
        Ok(ClientFrame::Send { client_id, body }) => {
            match crate::chat::post(state, actor, &requester, room, &PostInput { client_id: client_id.clone(), body })
                .await
            {
                Ok(p) => json!({
                    "type": "ack",
                    "client_id": client_id,
                    "seq": p.message.seq,
                    "duplicate": p.duplicate,
                    "help_lines": p.help_lines,
                }),
                Err(e) => json!({ "type": "error", "client_id": client_id, "code": error_code(&e) }),
            }
        }
        Ok(ClientFrame::Read { seq }) => match crate::chat::mark_read(state, actor, &requester, room, seq).await {
            Ok(()) => json!({ "type": "read", "seq": seq }),
            Err(e) => json!({ "type": "error", "code": error_code(&e) }),
        },
        Err(_) => json!({ "type": "error", "code": "invalid_json" }),
    }
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
        Ok((actor, _)) if crate::base::error::permit_municipality(&actor, Action::UseChat).is_ok() => {
            bounded(upgrade).on_upgrade(move |socket| run_inbox(socket, state, actor))
        }
        Ok(_) => crate::base::error::ApiError::from(AppError::Forbidden).into_response(),
        Err(e) => crate::base::error::ApiError::from(e).into_response(),
    }
}

/// The count of rooms with unread messages, as a frame.
async fn unread_frame(state: &AppState, actor: &Actor) -> Option<Message> {
    let n = crate::chat::unread_rooms(state, actor).await.ok()?;
    Some(text(json!({ "type": "unread", "rooms": n })))
}

async fn run_inbox(mut socket: WebSocket, state: AppState, actor: Actor) {
    let _open = state.metrics.socket_opened();
    let mut rx = state.events.subscribe();
    if let Some(frame) = unread_frame(&state, &actor).await {
        if socket.send(frame).await.is_err() {
            return;
        }
    }
    loop {
        tokio::select! {
            () = state.events.stopping() => return close_for_restart(socket).await,
            frame = socket.recv() => match frame {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                _ => {}
            },
            event = rx.recv() => {
                let Ok(e) = event else { continue };
                if e.kind != ROOM_EVENT || e.municipality != actor.municipality_id.0 {
                    continue;
                }
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
                if let Some(frame) = unread_frame(&state, &actor).await {
                    if socket.send(frame).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}
