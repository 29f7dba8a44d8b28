//! The reminders' settings page (`/me/reminders`, #10): one's own e-mail
//! address, on or off, and how many days ahead; errors beside the fields in
//! the reader's language; one audit line per change (and per reading, as
//! the address is the person's).

// A page handler's error *is* a page (a `Response`); boxing it would buy nothing.
#![allow(clippy::result_large_err)]

use crate::base::chrome::{page_error, redirect, render, signed_in, unwrap_page, Chrome, FormData, OrPage};
use crate::base::error::AppError;
use crate::base::session::{actor_of, audit_ctx, RequestCtx};
use crate::base::AppState;
use crate::i18n::Lang;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use tsunagu_domain::policy::Action;
use tsunagu_domain::reminders::{ReminderInput, MAX_DAYS_BEFORE};
use tsunagu_domain::validation::FieldErrors;

pub fn routes() -> Router<AppState> {
    Router::new().route("/me/reminders", get(page).post(submit)).route("/me/reminders/push", post(push))
}

#[derive(Template)]
#[template(path = "reminders.html")]
struct RemindersPage {
    chrome: Chrome,
    email: String,
    email_on: bool,
    days_before: String,
    errors: FieldErrors,
    saved: bool,
    /// A relay is configured: e-mail can be sent from here.
    available: bool,
    /// The VAPID public key the page's script subscribes with: web push is
    /// sent from here (`--push-proxy`); none, the page says push is not offered.
    push_key: Option<String>,
    /// What was wrong with a push change the page's script sent (the reader's words).
    push_error: Option<&'static str>,
}

impl RemindersPage {
    fn err(&self, field: &str) -> Option<&'static str> {
        self.errors.for_field(field).map(|c| crate::i18n::t(self.chrome.tr.0, &format!("err.{c}")))
    }

    /// The fields with an error, as the banner names them: (element id, label).
    fn error_fields(&self) -> Vec<(&'static str, &'static str)> {
        [("email", "email", "rem.email"), ("days_before", "days-before", "rem.days_before")]
            .into_iter()
            .filter(|(f, _, _)| self.errors.for_field(f).is_some())
            .map(|(_, id, label)| (id, self.chrome.tr.t(label)))
            .collect()
    }

    fn days(&self) -> Vec<String> {
        (0..=MAX_DAYS_BEFORE).map(|d| d.to_string()).collect()
    }
}

#[derive(Deserialize)]
struct SavedQuery {
    #[serde(default)]
    saved: Option<String>,
}

async fn page(State(state): State<AppState>, ctx: RequestCtx, Query(q): Query<SavedQuery>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let id = account.family_id.ok_or_else(|| page_error(&ctx, AppError::Forbidden))?;
            let actor = actor_of(account);
            let (_, allowed) =
                crate::base::access::family_for(&state, &actor, id, Action::SetReminders).await.or_page(&ctx)?;
            let audit = audit_ctx(account, &ctx.remote_addr, "own reminders", ctx.now).allowed(&allowed);
            let s = state.store.reminder_settings(&audit, id).await.or_page(&ctx)?;
            Ok(render(
                &RemindersPage {
                    chrome: Chrome::new(&ctx, "/me/reminders", "rem.title"),
                    email: s.email,
                    email_on: s.email_on,
                    days_before: s.days_before.to_string(),
                    errors: FieldErrors::default(),
                    saved: q.saved.is_some(),
                    available: state.config.email_reminders,
                    push_key: state.config.push_public_key.clone(),
                    push_error: None,
                },
                StatusCode::OK,
            ))
        }
        .await,
    )
}

async fn submit(State(state): State<AppState>, ctx: RequestCtx, Form(form): Form<FormData>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let id = account.family_id.ok_or_else(|| page_error(&ctx, AppError::Forbidden))?;
            let actor = actor_of(account);
            let (_, allowed) =
                crate::base::access::family_for(&state, &actor, id, Action::SetReminders).await.or_page(&ctx)?;
            let input = ReminderInput {
                email: form.get("email").to_owned(),
                email_on: form.checked("email_on"),
                days_before: form.get("days_before").to_owned(),
                lang_en: ctx.lang == Lang::En,
            };
            let settings = match input.check() {
                Ok(s) => s,
                Err(errors) => {
                    // Nothing is stored; the form comes back with what was sent.
                    return Ok(render(
                        &RemindersPage {
                            chrome: Chrome::new(&ctx, "/me/reminders", "rem.title"),
                            email: input.email.chars().take(300).collect(),
                            email_on: input.email_on,
                            days_before: input.days_before.chars().take(4).collect(),
                            errors,
                            saved: false,
                            available: state.config.email_reminders,
                            push_key: state.config.push_public_key.clone(),
                            push_error: None,
                        },
                        StatusCode::UNPROCESSABLE_ENTITY,
                    ));
                }
            };
            let audit = audit_ctx(account, &ctx.remote_addr, "own reminders", ctx.now).allowed(&allowed);
            state.store.set_reminder_settings(&audit, id, &settings).await.or_page(&ctx)?;
            Ok(redirect("/me/reminders?saved=1"))
        }
        .await,
    )
}

/// The push switch's change, as the page's script posts it (form fields:
/// `op` = `subscribe` or `unsubscribe`, `endpoint`, `p256dh`, `auth`): the
/// same checked input and functions as the JSON API. Back to the page; a
/// refusal is the page with what was wrong, in the reader's language.
async fn push(State(state): State<AppState>, ctx: RequestCtx, Form(form): Form<FormData>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let actor = actor_of(account);
            let caller = super::Caller { account, actor: &actor, remote_addr: &ctx.remote_addr, now: ctx.now };
            let done = match form.get("op") {
                "subscribe" => {
                    let input = tsunagu_domain::push::SubscriptionInput {
                        endpoint: form.get("endpoint").to_owned(),
                        p256dh: form.get("p256dh").to_owned(),
                        auth: form.get("auth").to_owned(),
                    };
                    super::subscribe(&state, &caller, &input).await.map(|()| "on")
                }
                "unsubscribe" => super::unsubscribe(&state, &caller, form.get("endpoint")).await.map(|_| "off"),
                _ => Err(AppError::BadRequest("unknown_op")),
            };
            match done {
                Ok(on_off) => Ok(redirect(&format!("/me/reminders?push={on_off}"))),
                Err(AppError::Invalid(_)) | Err(AppError::Conflict(_)) => {
                    let id = account.family_id.ok_or_else(|| page_error(&ctx, AppError::Forbidden))?;
                    let (_, allowed) = crate::base::access::family_for(&state, &actor, id, Action::SetReminders)
                        .await
                        .or_page(&ctx)?;
                    let audit = audit_ctx(account, &ctx.remote_addr, "own reminders", ctx.now).allowed(&allowed);
                    let s = state.store.reminder_settings(&audit, id).await.or_page(&ctx)?;
                    Ok(render(
                        &RemindersPage {
                            chrome: Chrome::new(&ctx, "/me/reminders", "rem.title"),
                            email: s.email,
                            email_on: s.email_on,
                            days_before: s.days_before.to_string(),
                            errors: FieldErrors::default(),
                            saved: false,
                            available: state.config.email_reminders,
                            push_key: state.config.push_public_key.clone(),
                            push_error: Some(crate::i18n::t(ctx.lang, "rem.push_failed")),
                        },
                        StatusCode::UNPROCESSABLE_ENTITY,
                    ))
                }
                Err(e) => Err(page_error(&ctx, e)),
            }
        }
        .await,
    )
}
