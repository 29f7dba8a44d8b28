//! The sign-in pages: password, second factor, enrolling one, signing out,
//! and the language switch.

// A page handler's error *is* a page (a `Response`); boxing it would buy nothing.
#![allow(clippy::result_large_err)]

use crate::base::chrome::{
    page_error, redirect, redirect_with_cookies, render, unwrap_page, Chrome, FormData, OrPage, PageResult,
};
use crate::base::error::AppError;
use crate::base::session::{
    clear_cookie, set_cookie, RequestCtx, LANG_COOKIE, MUNICIPALITY_COOKIE, PRE_CSRF_COOKIE, SESSION_COOKIE,
};
use crate::base::{auth, AppState};
use crate::i18n::Lang;
use crate::signin;
use crate::signin::{CodeCheck, CodeFor};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use tsunagu_domain::places::Municipality;
use tsunagu_store::{Account, Secret, Session, SessionStage, SigninOutcome};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/lang/{code}", get(switch_lang))
        .route("/signin", get(signin_page).post(signin_submit))
        .route("/signin/totp", get(totp_page).post(totp_submit))
        .route("/signin/enrol", get(enrol_page).post(enrol_submit))
        .route("/signout", post(signout))
}

// --- language ------------------------------------------------------------------

#[derive(Deserialize)]
struct NextParam {
    #[serde(default)]
    next: String,
}

/// A page of ours to go back to (`local_path`); anything else goes home.
fn safe_next(next: &str) -> &str {
    crate::base::local_path::safe_local_path(next).unwrap_or("/")
}

async fn switch_lang(State(state): State<AppState>, Path(code): Path<String>, Query(q): Query<NextParam>) -> Response {
    let lang = Lang::parse(&code).unwrap_or_default();
    redirect_with_cookies(safe_next(&q.next), &[set_cookie(&state, LANG_COOKIE, lang.code(), Some(365 * 24 * 3600))])
}

// --- sign-in -------------------------------------------------------------------

#[derive(Template)]
#[template(path = "signin.html")]
struct SigninPage {
    chrome: Chrome,
    municipalities: Vec<Municipality>,
    municipality: String,
    username: String,
    error: Option<&'static str>,
    retry_minutes: Option<u64>,
}

async fn signin_page(State(state): State<AppState>, ctx: RequestCtx) -> Response {
    let last = ctx.last_municipality.clone().unwrap_or_default();
    unwrap_page(signin_form(&state, &ctx, last, String::new(), None, StatusCode::OK).await)
}

/// Minutes to show for a lock, rounded up.
fn retry_minutes(e: &AppError) -> Option<u64> {
    match e {
        AppError::Locked { retry_after_secs } => Some(retry_after_secs.div_ceil(60)),
        _ => None,
    }
}

/// A refused sign-in step as a page: the form again, with what happened
/// and, for a lock or a busy service, `Retry-After`.
fn with_retry(mut resp: Response, e: &AppError) -> Response {
    crate::base::error::add_retry_after(&mut resp, e);
    resp
}

async fn signin_form(
    state: &AppState,
    ctx: &RequestCtx,
    municipality: String,
    username: String,
    error: Option<&'static str>,
    status: StatusCode,
) -> PageResult {
    signin_form_retry(state, ctx, municipality, username, error, None, status).await
}

async fn signin_form_retry(
    state: &AppState,
    ctx: &RequestCtx,
    municipality: String,
    username: String,
    error: Option<&'static str>,
    retry_minutes: Option<u64>,
    status: StatusCode,
) -> PageResult {
    let municipalities = state.store.municipalities().await.or_page(ctx)?;
    // A double-submit CSRF token for the form, kept in a cookie until sign-in.
    let (csrf, cookie) = match &ctx.pre_csrf {
        Some(t) if t.len() == 64 => (t.clone(), None),
        _ => {
            let t = auth::random_token().or_page(ctx)?;
            let c = set_cookie(state, PRE_CSRF_COOKIE, &t, None);
            (t, Some(c))
        }
    };
    let mut chrome = Chrome::new(ctx, "/signin", "signin.title");
    chrome.csrf = csrf;
    let mut resp = render(&SigninPage { chrome, municipalities, municipality, username, error, retry_minutes }, status);
    if let Some(c) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        resp.headers_mut().append(SET_COOKIE, c);
    }
    Ok(resp)
}

async fn signin_submit(State(state): State<AppState>, ctx: RequestCtx, Form(form): Form<FormData>) -> Response {
    unwrap_page(signin_submit_inner(&state, &ctx, &form).await)
}

async fn signin_submit_inner(state: &AppState, ctx: &RequestCtx, form: &FormData) -> PageResult {
    let municipality = form.get("municipality").to_owned();
    // What the form shows back: never a control character (a NUL among them).
    let shown: String = municipality.chars().filter(|c| !c.is_control()).take(20).collect();
    let username = form.get("username").trim().to_owned();
    let csrf_ok = ctx.pre_csrf.as_deref().is_some_and(|t| {
        use subtle::ConstantTimeEq;
        t.len() == 64 && bool::from(t.as_bytes().ct_eq(form.get("_csrf").as_bytes()))
    });
    if !csrf_ok {
        return signin_form(state, ctx, shown, username, Some("err.csrf"), StatusCode::BAD_REQUEST).await;
    }
    let signed =
        match signin::check_password(state, &ctx.remote_addr, &municipality, &username, form.get("password"), ctx.now)
            .await
        {
            Ok(a) => a,
            Err(
                e @ (AppError::BadRequest(_)
                | AppError::TooManyAttempts
                | AppError::Locked { .. }
                | AppError::Busy { .. }),
            ) => {
                let key = match e {
                    AppError::BadRequest("bad_municipality_code") => "err.bad_municipality_code",
                    AppError::BadRequest(_) => "err.invalid_credentials",
                    AppError::Busy { .. } => "err.busy",
                    _ => "err.too_many_attempts",
                };
                let page =
                    signin_form_retry(state, ctx, shown, username, Some(key), retry_minutes(&e), e.status()).await?;
                return Ok(with_retry(page, &e));
            }
            Err(e) => return Err(page_error(ctx, e)),
        };
    let needs_second_factor = signed.needs_second_factor();
    let outcome = if needs_second_factor { SigninOutcome::PasswordAccepted } else { SigninOutcome::SignedIn };
    signin::settle(state, signed.attempt, outcome).await.or_page(ctx)?;
    let account = signed.account;
    // A new token at every sign-in; any earlier session of this browser ends.
    if let Some((old, old_account)) = &ctx.session {
        state.store.delete_session(old.municipality_id, &old.token_hash).await.or_page(ctx)?;
        session_ended(state, old_account);
    }
    let stage = if needs_second_factor { SessionStage::SecondFactor } else { SessionStage::Full };
    let token = signin::start_session(state, &account, stage, &ctx.remote_addr, ctx.now).await.or_page(ctx)?;
    let next = match (needs_second_factor, account.totp_secret.is_some()) {
        (false, _) => "/",
        (true, true) => "/signin/totp",
        (true, false) => "/signin/enrol",
    };
    Ok(redirect_with_cookies(
        next,
        &[
            set_cookie(state, SESSION_COOKIE, &token, None),
            clear_cookie(state, PRE_CSRF_COOKIE),
            set_cookie(state, MUNICIPALITY_COOKIE, municipality.trim(), Some(365 * 24 * 3600)),
        ],
    ))
}

/// The half-signed-in session and account (password accepted, second factor owed).
fn second_factor_account(ctx: &RequestCtx) -> Result<(&Session, &Account), Response> {
    match &ctx.session {
        Some((s, a)) if s.stage == SessionStage::SecondFactor => Ok((s, a)),
        Some(_) => Err(redirect("/")),
        None => Err(redirect("/signin")),
    }
}

#[derive(Template)]
#[template(path = "totp.html")]
struct TotpPage {
    chrome: Chrome,
    error: Option<&'static str>,
    retry_minutes: Option<u64>,
}

async fn totp_page(ctx: RequestCtx) -> Response {
    unwrap_page((|| {
        second_factor_account(&ctx)?;
        let chrome = Chrome::new(&ctx, "/signin/totp", "totp.title");
        Ok(render(&TotpPage { chrome, error: None, retry_minutes: None }, StatusCode::OK))
    })())
}

async fn finish_second_factor(state: &AppState, ctx: &RequestCtx, account: &Account) -> PageResult {
    if let Some((old, old_account)) = &ctx.session {
        state.store.delete_session(old.municipality_id, &old.token_hash).await.or_page(ctx)?;
        session_ended(state, old_account);
    }
    let token =
        signin::start_session(state, account, SessionStage::Full, &ctx.remote_addr, ctx.now).await.or_page(ctx)?;
    Ok(redirect_with_cookies("/", &[set_cookie(state, SESSION_COOKIE, &token, None)]))
}

/// The half-signed-in session had its last code: it has ended; the sign-in
/// form says so and the browser forgets the session's cookie.
async fn sign_in_again(state: &AppState, ctx: &RequestCtx) -> PageResult {
    let last = ctx.last_municipality.clone().unwrap_or_default();
    let status = StatusCode::TOO_MANY_REQUESTS;
    let mut resp = signin_form(state, ctx, last, String::new(), Some("err.too_many_codes"), status).await?;
    if let Ok(c) = HeaderValue::from_str(&clear_cookie(state, SESSION_COOKIE)) {
        resp.headers_mut().append(SET_COOKIE, c);
    }
    Ok(resp)
}

async fn totp_submit(State(state): State<AppState>, ctx: RequestCtx, Form(form): Form<FormData>) -> Response {
    unwrap_page(
        async {
            let (session, account) = second_factor_account(&ctx)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let code = form.get("code");
            let checked = signin::second_factor_on_session(
                &state,
                &ctx.remote_addr,
                account,
                session,
                code,
                CodeFor::Enrolled,
                ctx.now,
            )
            .await;
            let chrome = || Chrome::new(&ctx, "/signin/totp", "totp.title");
            match checked {
                Ok(CodeCheck::Accepted) => finish_second_factor(&state, &ctx, account).await,
                Ok(CodeCheck::SessionEnded) => sign_in_again(&state, &ctx).await,
                Ok(CodeCheck::Wrong) => Ok(render(
                    &TotpPage { chrome: chrome(), error: Some("err.invalid_otp"), retry_minutes: None },
                    StatusCode::BAD_REQUEST,
                )),
                Err(e @ AppError::Locked { .. }) => {
                    let page =
                        TotpPage { chrome: chrome(), error: Some("err.code_locked"), retry_minutes: retry_minutes(&e) };
                    Ok(with_retry(render(&page, e.status()), &e))
                }
                Err(AppError::BadRequest(code)) => Ok(render(
                    &TotpPage { chrome: chrome(), error: Some(err_key(code)), retry_minutes: None },
                    StatusCode::BAD_REQUEST,
                )),
                Err(e) => Err(page_error(&ctx, e)),
            }
        }
        .await,
    )
}

fn err_key(code: &str) -> &'static str {
    match code {
        "invalid_otp" => "err.invalid_otp",
        "otp_required" => "err.otp_required",
        "csrf" => "err.csrf",
        _ => "err.invalid_input",
    }
}

#[derive(Template)]
#[template(path = "enrol.html")]
struct EnrolPage {
    chrome: Chrome,
    secret: String,
    uri: String,
    error: Option<&'static str>,
    retry_minutes: Option<u64>,
}

async fn enrol_form(
    state: &AppState,
    ctx: &RequestCtx,
    account: &Account,
    secret: &Secret,
    error: Option<&'static str>,
    retry_minutes: Option<u64>,
    status: StatusCode,
) -> PageResult {
    let m = state.store.municipality(account.municipality_id).await.or_page(ctx)?;
    let label = format!("{}/{}", m.map(|m| m.code.to_string()).unwrap_or_default(), account.username);
    let secret = secret.expose().to_owned();
    let uri = auth::otpauth_uri("tsunagu", &label, &secret);
    let chrome = Chrome::new(ctx, "/signin/enrol", "enrol.title");
    Ok(render(&EnrolPage { chrome, secret, uri, error, retry_minutes }, status))
}

/// The secret this half-signed-in session is enrolling: made by the server
/// at the first visit and kept on the session, never taken from the form.
async fn pending_secret(state: &AppState, ctx: &RequestCtx, session: &Session) -> Result<Secret, Response> {
    let fresh = Secret::new(auth::new_totp_secret().or_page(ctx)?);
    match state.store.pending_totp_secret(session.municipality_id, &session.token_hash, &fresh).await.or_page(ctx)? {
        Some(secret) => Ok(secret),
        None => Err(redirect("/signin")),
    }
}

async fn enrol_page(State(state): State<AppState>, ctx: RequestCtx) -> Response {
    unwrap_page(
        async {
            let (session, account) = second_factor_account(&ctx)?;
            if account.totp_secret.is_some() {
                return Ok(redirect("/signin/totp"));
            }
            let secret = pending_secret(&state, &ctx, session).await?;
            enrol_form(&state, &ctx, account, &secret, None, None, StatusCode::OK).await
        }
        .await,
    )
}

async fn enrol_submit(State(state): State<AppState>, ctx: RequestCtx, Form(form): Form<FormData>) -> Response {
    unwrap_page(
        async {
            let (session, account) = second_factor_account(&ctx)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            if account.totp_secret.is_some() {
                return Ok(redirect("/signin/totp"));
            }
            let secret = pending_secret(&state, &ctx, session).await?;
            let checked = signin::second_factor_on_session(
                &state,
                &ctx.remote_addr,
                account,
                session,
                form.get("code"),
                CodeFor::Enrolling(&secret),
                ctx.now,
            )
            .await;
            match checked {
                Ok(CodeCheck::Accepted) => finish_second_factor(&state, &ctx, account).await,
                Ok(CodeCheck::SessionEnded) => sign_in_again(&state, &ctx).await,
                Ok(CodeCheck::Wrong) => {
                    let status = StatusCode::BAD_REQUEST;
                    enrol_form(&state, &ctx, account, &secret, Some("err.invalid_otp"), None, status).await
                }
                Err(e @ AppError::Locked { .. }) => {
                    let (key, minutes) = (Some("err.code_locked"), retry_minutes(&e));
                    let page = enrol_form(&state, &ctx, account, &secret, key, minutes, e.status()).await?;
                    Ok(with_retry(page, &e))
                }
                Err(e) => Err(page_error(&ctx, e)),
            }
        }
        .await,
    )
}

/// Ends the session on the server whatever the form's token: signing out
/// changes nothing but ending it, so a wrong token must not keep it alive.
async fn signout(State(state): State<AppState>, ctx: RequestCtx) -> Response {
    if let Some((s, account)) = &ctx.session {
        if let Err(e) = state.store.delete_session(s.municipality_id, &s.token_hash).await {
            return page_error(&ctx, e.into());
        }
        session_ended(&state, account);
    }
    let mut resp = redirect_with_cookies("/signin", &[clear_cookie(&state, SESSION_COOKIE)]);
    // What a family's phone kept for offline reading goes with the session (#10).
    resp.headers_mut().insert("clear-site-data", axum::http::HeaderValue::from_static("\"cache\", \"storage\""));
    resp
}

/// The sockets opened with an ended session close (on every node).
fn session_ended(state: &AppState, account: &Account) {
    let kind = crate::base::events::SESSION_EVENT;
    state.events.publish_change(kind, account.municipality_id.0, account.id.0);
}
