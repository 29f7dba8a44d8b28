//! The chat's pages: a parent's room (made for a phone), a supporter's rooms
//! and room (a desktop, with notices of new messages), the operator's page
//! (team health without message text, supporters, suggested teams), the
//! nurse's invitations, joining, and a supporter's registration. The
//! script `/static/chat.js` makes a room live (WebSocket, long poll when
//! that fails); without it every form still works.

// A page handler's error *is* a page (a `Response`); boxing it would buy nothing.
#![allow(clippy::result_large_err)]

use crate::base::chrome::{page_error, redirect, render, signed_in, unwrap_page, Chrome, FormData, OrPage};
use crate::base::error::{permit_municipality, AppError};
use crate::base::session::{actor_of, audit_ctx, RequestCtx};
use crate::base::AppState;
use crate::chat::{
    EscalateInput, EscalationView, HealthView, Invitation, JoinInput, MessageView, PostInput, RoomView, SupporterInput,
    SupporterView,
};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;
use std::time::Duration;
use tsunagu_domain::chat::helplines::HelpLine;
use tsunagu_domain::chat::supporters::{Profession, Slot};
use tsunagu_domain::chat::teams::{Suggestion, Team};
use tsunagu_domain::policy::{authorize, Action, Resource};
use tsunagu_domain::{AccountId, FamilyId, RoomId};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/chat", get(chat_home))
        .route("/chat/rooms/{id}", get(room_page))
        .route("/chat/rooms/{id}/messages", post(room_post))
        .route("/chat/rooms/{id}/poll", get(room_poll))
        .route("/chat/rooms/{id}/escalate", post(room_escalate))
        .route("/chat/join", get(join_page).post(join_submit))
        .route("/chat/invite", get(invite_page).post(invite_submit))
        .route("/chat/profile", get(profile_page).post(profile_submit))
        .route("/chat/operator", get(operator_page))
        .route("/chat/operator/supporters/{id}", post(operator_supporter))
        .route("/chat/operator/rooms/{id}/team", post(operator_team))
}

fn words(ctx: &RequestCtx, e: &AppError) -> String {
    let code = match e {
        AppError::Invalid(f) => f.0.first().map(|x| x.code).unwrap_or("invalid_input"),
        e => e.code(),
    };
    crate::i18n::t(ctx.lang, &format!("err.{code}")).to_owned()
}

/// An error a form shows above itself; anything else is an error page.
fn form_error(ctx: &RequestCtx, e: AppError) -> Result<String, Response> {
    match e {
        AppError::Invalid(_) | AppError::Conflict(_) | AppError::BadRequest(_) => Ok(words(ctx, &e)),
        e => Err(page_error(ctx, e)),
    }
}

async fn chat_home(State(state): State<AppState>, ctx: RequestCtx) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let actor = actor_of(account);
            // Where the chat opens is what the policy lets the caller do there.
            let may = |action| permit_municipality(&actor, action).is_ok();
            if may(Action::UseChat) {
                match state.store.room_of_parent(actor.municipality_id, actor.account_id).await.or_page(&ctx)? {
                    Some(room) => Ok(redirect(&format!("/chat/rooms/{room}"))),
                    None => rooms_page(&state, &ctx).await,
                }
            } else if may(Action::ManageChat) {
                Ok(redirect("/chat/operator"))
            } else if may(Action::InviteToChat) {
                Ok(redirect("/chat/invite"))
            } else {
                Err(page_error(&ctx, AppError::Forbidden))
            }
        }
        .await,
    )
}

#[derive(Template)]
#[template(path = "chat_rooms.html")]
struct RoomsPage {
    chrome: Chrome,
    rooms: Vec<RoomView>,
    escalations: Vec<EscalationView>,
    registered: bool,
}

async fn rooms_page(state: &AppState, ctx: &RequestCtx) -> Result<Response, Response> {
    let account = signed_in(ctx)?;
    let actor = actor_of(account);
    let rooms = crate::chat::my_rooms(state, &actor).await.or_page(ctx)?;
    let requester = audit_ctx(account, &ctx.remote_addr, "chat escalations", ctx.now);
    let escalations = crate::chat::my_escalations(state, &actor, &requester).await.or_page(ctx)?;
    let registered = state.store.supporter(actor.municipality_id, actor.account_id).await.or_page(ctx)?.is_some();
    Ok(render(
        &RoomsPage { chrome: Chrome::new(ctx, "/chat", "chat.rooms_title"), rooms, escalations, registered },
        StatusCode::OK,
    ))
}

#[derive(Template)]
#[template(path = "chat_room.html")]
struct RoomPage {
    chrome: Chrome,
    room: RoomId,
    me: AccountId,
    messages: Vec<MessageView>,
    last_seq: i64,
    oldest: i64,
    may_write: bool,
    may_escalate: bool,
    help_lines: Vec<HelpLine>,
    error: Option<String>,
    notice: Option<&'static str>,
    /// The client id of the form's message without the script (the script makes its own).
    client_id: String,
}

impl RoomPage {
    /// When a message was sent, in Japan's time.
    fn time(&self, t: &jiff::Timestamp) -> String {
        let japan_day = tsunagu_domain::clock::japan_date(*t);
        format!("{} {}", self.chrome.day(japan_day), self.chrome.dates.time(t))
    }
}

#[derive(Deserialize, Default)]
struct RoomQuery {
    #[serde(default)]
    before: Option<i64>,
    #[serde(default)]
    help: Option<String>,
    #[serde(default)]
    done: Option<String>,
}

async fn room_page(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<i64>,
    Query(q): Query<RoomQuery>,
) -> Response {
    let room = RoomId(id);
    unwrap_page(show_room(&state, &ctx, room, q.before, q.help.is_some(), q.done.is_some(), None).await)
}

async fn show_room(
    state: &AppState,
    ctx: &RequestCtx,
    room: RoomId,
    before: Option<i64>,
    help: bool,
    done: bool,
    error: Option<String>,
) -> Result<Response, Response> {
    let account = signed_in(ctx)?;
    let actor = actor_of(account);
    let requester = audit_ctx(account, &ctx.remote_addr, "chat room", ctx.now);
    let (access, messages) =
        crate::chat::history_with_access(state, &actor, &requester, room, before, Some(50)).await.or_page(ctx)?;
    let may = |action| authorize(&actor, action, &Resource::ChatRoom(&access)).is_allowed();
    let may_write = may(Action::ViewChatRoom);
    let is_parent = may_write && access.parent == actor.account_id;
    let may_escalate = may(Action::EscalateChat);
    let help_lines =
        if help && is_parent { crate::chat::help_lines_for(state, &actor).await.or_page(ctx)? } else { vec![] };
    Ok(render(
        &RoomPage {
            chrome: Chrome::new(ctx, &format!("/chat/rooms/{room}"), "chat.room_title"),
            room,
            me: actor.account_id,
            last_seq: messages.last().map(|m| m.seq).unwrap_or(before.map(|b| b - 1).unwrap_or(0)),
            oldest: messages.first().map(|m| m.seq).unwrap_or(0),
            messages,
            may_write,
            may_escalate,
            help_lines,
            error,
            notice: done.then_some("chat.escalated_done"),
            client_id: crate::base::auth::random_token().map_err(AppError::from).or_page(ctx)?,
        },
        StatusCode::OK,
    ))
}

/// A message from the room's form: without the script, stored then the room
/// again (with help lines when called for); from the script (`ajax=1`), the
/// same answer as the API's.
async fn room_post(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<i64>,
    Form(form): Form<FormData>,
) -> Response {
    let room = RoomId(id);
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let actor = actor_of(account);
            let ajax = form.get("ajax") == "1";
            if let Err(e) = ctx.check_csrf(form.get("_csrf")) {
                return if ajax {
                    Ok(crate::base::error::ApiError::from(e).into_response())
                } else {
                    Err(page_error(&ctx, e))
                };
            }
            let requester = audit_ctx(account, &ctx.remote_addr, "chat message", ctx.now);
            let input = PostInput { client_id: form.get("client_id").to_owned(), body: form.get("body").to_owned() };
            match crate::chat::post(&state, &actor, &requester, room, &input).await {
                Ok(p) if ajax => Ok((StatusCode::CREATED, Json(p)).into_response()),
                Ok(p) if p.help_lines.is_some() => Ok(redirect(&format!("/chat/rooms/{room}?help=1"))),
                Ok(_) => Ok(redirect(&format!("/chat/rooms/{room}"))),
                Err(e) if ajax => Ok(crate::base::error::ApiError::from(e).into_response()),
                Err(e) => {
                    let message = form_error(&ctx, e)?;
                    show_room(&state, &ctx, room, None, false, false, Some(message)).await
                }
            }
        }
        .await,
    )
}

#[derive(Deserialize, Default)]
struct PollQuery {
    #[serde(default)]
    after: i64,
}

/// The page's long poll (its script falls back to it when the socket fails).
async fn room_poll(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<i64>,
    Query(q): Query<PollQuery>,
) -> Response {
    let run = async {
        let (_, account) = ctx.signed_in()?;
        let actor = actor_of(account);
        let requester = audit_ctx(account, &ctx.remote_addr, "chat poll", ctx.now);
        let wait = Duration::from_secs(crate::chat::MAX_WAIT_SECS);
        crate::chat::since(&state, &actor, &requester, RoomId(id), q.after.max(0), wait).await
    };
    match run.await {
        Ok(list) => Json(serde_json::json!({ "messages": list })).into_response(),
        Err(e) => crate::base::error::ApiError::from(e).into_response(),
    }
}

async fn room_escalate(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<i64>,
    Form(form): Form<FormData>,
) -> Response {
    let room = RoomId(id);
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let actor = actor_of(account);
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let requester = audit_ctx(account, &ctx.remote_addr, "chat escalation", ctx.now);
            let input = EscalateInput {
                message_seq: form.opt("message_seq").and_then(|s| s.parse().ok()),
                note: form.get("note").to_owned(),
                urgent: form.checked("urgent"),
            };
            match crate::chat::escalate(&state, &actor, &requester, room, &input).await {
                Ok(_) => Ok(redirect(&format!("/chat/rooms/{room}?done=1"))),
                Err(e) => {
                    let message = form_error(&ctx, e)?;
                    show_room(&state, &ctx, room, None, false, false, Some(message)).await
                }
            }
        }
        .await,
    )
}

// --- joining ------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "chat_join.html")]
struct JoinPage {
    chrome: Chrome,
    municipality: String,
    code: String,
    display_name: String,
    username: String,
    error: Option<String>,
    joined: bool,
}

#[derive(Deserialize, Default)]
struct JoinQuery {
    #[serde(default)]
    m: Option<String>,
    #[serde(default)]
    code: Option<String>,
}

async fn join_page(ctx: RequestCtx, Query(q): Query<JoinQuery>) -> Response {
    render(
        &JoinPage {
            chrome: Chrome::new(&ctx, "/chat/join", "chat.join_title"),
            municipality: q.m.unwrap_or_default(),
            code: q.code.unwrap_or_default(),
            display_name: String::new(),
            username: String::new(),
            error: None,
            joined: false,
        },
        StatusCode::OK,
    )
}

async fn join_submit(State(state): State<AppState>, ctx: RequestCtx, Form(form): Form<FormData>) -> Response {
    unwrap_page(
        async {
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let input = JoinInput {
                municipality: form.get("municipality").to_owned(),
                code: form.get("code").to_owned(),
                display_name: form.get("display_name").to_owned(),
                username: form.get("username").to_owned(),
                passphrase: form.get("passphrase").to_owned(),
                consent: form.checked("consent"),
            };
            let outcome = crate::chat::join(&state, &input).await;
            let error = match outcome {
                Ok(_) => None,
                Err(e) => Some(form_error(&ctx, e)?),
            };
            let joined = error.is_none();
            Ok(render(
                &JoinPage {
                    chrome: Chrome::new(&ctx, "/chat/join", "chat.join_title"),
                    municipality: input.municipality,
                    code: if joined { String::new() } else { input.code },
                    display_name: input.display_name,
                    username: input.username,
                    error,
                    joined,
                },
                if joined { StatusCode::CREATED } else { StatusCode::UNPROCESSABLE_ENTITY },
            ))
        }
        .await,
    )
}

// --- the nurse's invitations ----------------------------------------------------------

#[derive(Template)]
#[template(path = "chat_invite.html")]
struct InvitePage {
    chrome: Chrome,
    family: String,
    issued: Option<Invitation>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
struct InviteQuery {
    #[serde(default)]
    family: Option<i64>,
}

async fn invite_page(ctx: RequestCtx, Query(q): Query<InviteQuery>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            crate::base::error::permit_municipality(&actor_of(account), Action::InviteToChat).or_page(&ctx)?;
            Ok(render(
                &InvitePage {
                    chrome: Chrome::new(&ctx, "/chat/invite", "chat.invite_title"),
                    family: q.family.map(|f| f.to_string()).unwrap_or_default(),
                    issued: None,
                    error: None,
                },
                StatusCode::OK,
            ))
        }
        .await,
    )
}

async fn invite_submit(State(state): State<AppState>, ctx: RequestCtx, Form(form): Form<FormData>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let actor = actor_of(account);
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let requester = audit_ctx(account, &ctx.remote_addr, "chat invitation", ctx.now);
            let family = form.get("family_id").trim().parse::<i64>().unwrap_or(0);
            let (issued, error) = match crate::chat::invite(&state, &actor, &requester, FamilyId(family)).await {
                Ok(i) => (Some(i), None),
                Err(e) => (None, Some(form_error(&ctx, e)?)),
            };
            Ok(render(
                &InvitePage {
                    chrome: Chrome::new(&ctx, "/chat/invite", "chat.invite_title"),
                    family: family.to_string(),
                    issued,
                    error,
                },
                StatusCode::OK,
            ))
        }
        .await,
    )
}

// --- a supporter's registration ------------------------------------------------------------

#[derive(Template)]
#[template(path = "chat_profile.html")]
struct ProfilePage {
    chrome: Chrome,
    current: Option<SupporterView>,
    professions: Vec<&'static str>,
    error: Option<String>,
    saved: bool,
}

async fn profile_page(State(state): State<AppState>, ctx: RequestCtx) -> Response {
    unwrap_page(profile(&state, &ctx, None, false).await)
}

async fn profile(state: &AppState, ctx: &RequestCtx, error: Option<String>, saved: bool) -> Result<Response, Response> {
    let account = signed_in(ctx)?;
    let actor = actor_of(account);
    crate::base::error::permit_municipality(&actor, Action::RegisterAsSupporter).or_page(ctx)?;
    let current = state.store.supporter(actor.municipality_id, actor.account_id).await.or_page(ctx)?;
    Ok(render(
        &ProfilePage {
            chrome: Chrome::new(ctx, "/chat/profile", "chat.profile_title"),
            current: current.map(SupporterView::from),
            professions: Profession::ALL.iter().map(|p| p.as_str()).collect(),
            error,
            saved,
        },
        StatusCode::OK,
    ))
}

async fn profile_submit(State(state): State<AppState>, ctx: RequestCtx, Form(form): Form<FormData>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let actor = actor_of(account);
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let requester = audit_ctx(account, &ctx.remote_addr, "chat supporter", ctx.now);
            let input = SupporterInput {
                profession: form.opt("profession"),
                raising_toddler: form.checked("raising_toddler"),
                no_parenting_experience: form.checked("no_parenting_experience"),
                capacity: form.get("capacity").trim().parse().unwrap_or(0),
            };
            match crate::chat::register_supporter(&state, &actor, &requester, &input).await {
                Ok(()) => profile(&state, &ctx, None, true).await,
                Err(e) => {
                    let message = form_error(&ctx, e)?;
                    profile(&state, &ctx, Some(message), false).await
                }
            }
        }
        .await,
    )
}

// --- the operator ------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "chat_operator.html")]
struct OperatorPage {
    chrome: Chrome,
    health: Vec<HealthView>,
    supporters: Vec<SupporterView>,
    suggestion: Suggestion,
    error: Option<String>,
}

impl OperatorPage {
    fn minutes(&self, secs: &Option<i64>) -> String {
        secs.map(|s| (s / 60).to_string()).unwrap_or_else(|| "—".to_owned())
    }

    fn slot_key(&self, slot: &Slot) -> &'static str {
        slot.as_str()
    }
}

#[derive(Deserialize, Default)]
struct OperatorQuery {
    #[serde(default)]
    error: Option<String>,
}

async fn operator_page(State(state): State<AppState>, ctx: RequestCtx, Query(q): Query<OperatorQuery>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let actor = actor_of(account);
            let requester = audit_ctx(account, &ctx.remote_addr, "chat operator", ctx.now);
            let health = crate::chat::health(&state, &actor, &requester).await.or_page(&ctx)?;
            let supporters = crate::chat::supporters(&state, &actor).await.or_page(&ctx)?;
            let suggestion = crate::chat::suggestions(&state, &actor).await.or_page(&ctx)?;
            let error = q.error.as_deref().map(|code| {
                let code: String = code.chars().filter(|c| c.is_ascii_lowercase() || *c == '_').collect();
                crate::i18n::t(ctx.lang, &format!("err.{code}")).to_owned()
            });
            Ok(render(
                &OperatorPage {
                    chrome: Chrome::new(&ctx, "/chat/operator", "chat.operator_title"),
                    health,
                    supporters,
                    suggestion,
                    error,
                },
                StatusCode::OK,
            ))
        }
        .await,
    )
}

fn back_with(e: AppError) -> Response {
    let code = match &e {
        AppError::Invalid(f) => f.0.first().map(|x| x.code).unwrap_or("invalid_input"),
        e => e.code(),
    };
    redirect(&format!("/chat/operator?error={code}"))
}

async fn operator_supporter(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<i64>,
    Form(form): Form<FormData>,
) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let actor = actor_of(account);
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let requester = audit_ctx(account, &ctx.remote_addr, "chat supporter state", ctx.now);
            match crate::chat::set_supporter_state(&state, &actor, &requester, AccountId(id), form.get("state")).await {
                Ok(()) => Ok(redirect("/chat/operator")),
                Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => Ok(back_with(e)),
                Err(e) => Err(page_error(&ctx, e)),
            }
        }
        .await,
    )
}

async fn operator_team(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<i64>,
    Form(form): Form<FormData>,
) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let actor = actor_of(account);
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let requester = audit_ctx(account, &ctx.remote_addr, "chat team", ctx.now);
            let member = |k: &str| AccountId(form.get(k).trim().parse().unwrap_or(0));
            let team = Team {
                professional: member("professional"),
                raising_toddler: member("raising_toddler"),
                no_parenting_experience: member("no_parenting_experience"),
            };
            match crate::chat::set_team(&state, &actor, &requester, RoomId(id), &team).await {
                Ok(()) => Ok(redirect("/chat/operator")),
                Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => Ok(back_with(e)),
                Err(e) => Err(page_error(&ctx, e)),
            }
        }
        .await,
    )
}
