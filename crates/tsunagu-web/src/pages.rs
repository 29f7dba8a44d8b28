//! Server-rendered pages, Japanese first. Each handler: resolve the
//! caller (`RequestCtx`), ask the policy, call the store, render.

// A page handler's error *is* a page (a `Response`); boxing it would buy nothing.
#![allow(clippy::result_large_err)]

use crate::base::chrome::{
    area_names, page_error, redirect, redirect_with_cookies, render, require, signed_in, unwrap_page, Chrome, FormData,
    OrPage, PageResult,
};
use crate::base::error::AppError;
use crate::base::session::{
    actor_of, audit_ctx, clear_cookie, set_cookie, RequestCtx, LANG_COOKIE, MUNICIPALITY_COOKIE, PRE_CSRF_COOKIE,
    SESSION_COOKIE,
};
use crate::base::views::ContactLine;
use crate::base::{auth, AppState};
use crate::i18n::Lang;
use crate::signin::{CodeCheck, CodeFor};
use crate::{accounts, signin};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use std::collections::HashMap;
use tsunagu_domain::audit::{AuditAction, AuditLine};
use tsunagu_domain::clock::japan_date;
use tsunagu_domain::kana;
use tsunagu_domain::places::{Area, Municipality, Venue};
use tsunagu_domain::policy::{authorize, family_filter, Action, Resource};
use tsunagu_domain::records::{
    BabyInput, BirthInput, FamilyRecord, FamilySummary, NotificationInput, PersonInput, Pregnancy,
};
use tsunagu_domain::roles::Role;
use tsunagu_domain::timeline::ContactStatus;
use tsunagu_domain::validation::FieldErrors;
use tsunagu_domain::{AccountId, FamilyId, PregnancyId};
use tsunagu_store::{Account, Secret, Session, SessionStage, SigninOutcome, StoredReferral};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/lang/{code}", get(switch_lang))
        .route("/signin", get(signin_page).post(signin_submit))
        .route("/signin/totp", get(totp_page).post(totp_submit))
        .route("/signin/enrol", get(enrol_page).post(enrol_submit))
        .route("/signout", post(signout))
        .route("/families", get(search_page))
        .route("/families/new", get(notification_page).post(notification_submit))
        .route("/families/{id}", get(family_page))
        .route("/families/{id}/pregnancies/{pregnancy}/birth", get(birth_page).post(birth_submit))
        .route("/me", get(my_record))
        .route("/admin/accounts", get(accounts_page).post(accounts_create))
        .route("/admin/accounts/{id}/{op}", post(accounts_op))
        .route("/admin/audit", get(audit_page))
}

// --- assets and language ------------------------------------------------------

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
    let username = form.get("username").trim().to_owned();
    let csrf_ok = ctx.pre_csrf.as_deref().is_some_and(|t| {
        use subtle::ConstantTimeEq;
        t.len() == 64 && bool::from(t.as_bytes().ct_eq(form.get("_csrf").as_bytes()))
    });
    if !csrf_ok {
        return signin_form(state, ctx, municipality, username, Some("err.csrf"), StatusCode::BAD_REQUEST).await;
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
                    AppError::BadRequest(_) => "err.invalid_credentials",
                    AppError::Busy { .. } => "err.busy",
                    _ => "err.too_many_attempts",
                };
                let page =
                    signin_form_retry(state, ctx, municipality, username, Some(key), retry_minutes(&e), e.status())
                        .await?;
                return Ok(with_retry(page, &e));
            }
            Err(e) => return Err(page_error(ctx, e)),
        };
    let needs_second_factor = signed.needs_second_factor();
    let outcome = if needs_second_factor { SigninOutcome::PasswordAccepted } else { SigninOutcome::SignedIn };
    signin::settle(state, signed.attempt, outcome).await.or_page(ctx)?;
    let account = signed.account;
    // A new token at every sign-in; any earlier session of this browser ends.
    if let Some((old, _)) = &ctx.session {
        state.store.delete_session(&old.token_hash).await.or_page(ctx)?;
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
    if let Some((old, _)) = &ctx.session {
        state.store.delete_session(&old.token_hash).await.or_page(ctx)?;
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
    match state.store.pending_totp_secret(&session.token_hash, &fresh).await.or_page(ctx)? {
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
    if let Some((s, _)) = &ctx.session {
        if let Err(e) = state.store.delete_session(&s.token_hash).await {
            return page_error(&ctx, e.into());
        }
    }
    redirect_with_cookies("/signin", &[clear_cookie(&state, SESSION_COOKIE)])
}

// --- home -----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    municipality: String,
}

async fn home(State(state): State<AppState>, ctx: RequestCtx) -> Response {
    unwrap_page(
        async {
            let account = match ctx.signed_in() {
                Ok((_, a)) => a,
                Err(_) if ctx.session.is_some() => return Ok(redirect("/signin/totp")),
                Err(_) => return Ok(redirect("/signin")),
            };
            match account.role {
                Role::FamilyMember => return Ok(redirect("/me")),
                // Nurses and coordinators start from what is waiting for them.
                Role::Nurse | Role::Coordinator => return Ok(redirect("/worklist")),
                Role::Caseworker => return Ok(redirect("/families")),
                Role::Admin => return Ok(redirect("/admin/accounts")),
                Role::FacilityStaff => return Ok(redirect("/postpartum")),
                _ => {}
            }
            let m = state.store.municipality(account.municipality_id).await.or_page(&ctx)?;
            let municipality = m.map(|m| if ctx.lang == Lang::Ja { m.name_ja } else { m.name_en }).unwrap_or_default();
            Ok(render(&HomePage { chrome: Chrome::new(&ctx, "/", "home.title"), municipality }, StatusCode::OK))
        }
        .await,
    )
}

// --- families -------------------------------------------------------------------

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    chrome: Chrome,
    q: String,
    searched: bool,
    rows: Vec<FamilySummary>,
    areas: HashMap<i64, String>,
}

impl SearchPage {
    fn area(&self, id: &tsunagu_domain::AreaId) -> &str {
        self.areas.get(&id.0).map(String::as_str).unwrap_or("")
    }
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: Option<String>,
}

async fn search_page(
    State(state): State<AppState>,
    ctx: RequestCtx,
    q: Result<Query<SearchQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let actor = actor_of(account);
            let filter = family_filter(&actor).ok_or_else(|| page_error(&ctx, AppError::Forbidden))?;
            let q = q.ok().and_then(|Query(q)| q.q).unwrap_or_default();
            let q: String = q.chars().take(50).collect();
            let key = kana::search_key(&q);
            let searched = !key.is_empty();
            let rows = if searched {
                let audit = audit_ctx(account, &ctx.remote_addr, "search", ctx.now);
                state.store.search_families(&audit, &filter, &key, 100).await.or_page(&ctx)?
            } else {
                vec![]
            };
            let areas = area_names(&state.store.areas(account.municipality_id).await.or_page(&ctx)?, ctx.lang);
            Ok(render(
                &SearchPage { chrome: Chrome::new(&ctx, "/families", "search.title"), q, searched, rows, areas },
                StatusCode::OK,
            ))
        }
        .await,
    )
}

#[derive(Template)]
#[template(path = "notification.html")]
struct NotificationPage {
    chrome: Chrome,
    areas: Vec<Area>,
    values: HashMap<String, String>,
    errors: FieldErrors,
    form_error: Option<&'static str>,
}

impl NotificationPage {
    fn v(&self, k: &str) -> &str {
        self.values.get(k).map(String::as_str).unwrap_or("")
    }

    fn checked(&self, k: &str) -> bool {
        matches!(self.v(k), "on" | "true" | "1")
    }

    fn err(&self, k: &str) -> Option<&'static str> {
        self.errors.for_field(k).map(|code| crate::i18n::t(self.chrome.tr.0, &format!("err.{code}")))
    }

    fn area_name<'a>(&self, a: &'a Area) -> &'a str {
        if self.chrome.tr.0 == Lang::Ja {
            &a.name_ja
        } else {
            &a.name_en
        }
    }
}

fn can_register(ctx: &RequestCtx, account: &Account) -> Result<(), Response> {
    require(
        ctx,
        authorize(&actor_of(account), Action::RegisterNotification, &Resource::Municipality(account.municipality_id)),
    )
}

async fn notification_page(State(state): State<AppState>, ctx: RequestCtx) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            can_register(&ctx, account)?;
            let areas = state.store.areas(account.municipality_id).await.or_page(&ctx)?;
            let mut values = HashMap::new();
            values.insert("foetuses".to_owned(), "1".to_owned());
            values.insert("notified_on".to_owned(), state.clock.today().to_string());
            Ok(render(
                &NotificationPage {
                    chrome: Chrome::new(&ctx, "/families/new", "notif.title"),
                    areas,
                    values,
                    errors: FieldErrors::default(),
                    form_error: None,
                },
                StatusCode::OK,
            ))
        }
        .await,
    )
}

fn person_from_form(form: &FormData, prefix: &str) -> PersonInput {
    PersonInput {
        family_name: form.get(&format!("{prefix}.family_name")).to_owned(),
        given_name: form.get(&format!("{prefix}.given_name")).to_owned(),
        family_name_kana: form.get(&format!("{prefix}.family_name_kana")).to_owned(),
        given_name_kana: form.get(&format!("{prefix}.given_name_kana")).to_owned(),
        birth_date: form.opt(&format!("{prefix}.birth_date")),
    }
}

async fn notification_submit(State(state): State<AppState>, ctx: RequestCtx, Form(form): Form<FormData>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            can_register(&ctx, account)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let mut errors = FieldErrors::default();
            let area_id = form.get("area_id").trim().parse::<i64>().unwrap_or(0);
            let foetuses = match form.get("foetuses").trim().parse::<i64>() {
                Ok(n) => n,
                Err(_) => {
                    errors.add("foetuses", "out_of_range");
                    1
                }
            };
            let has_partner = form.checked("has_partner");
            let input = NotificationInput {
                area_id,
                fee_bracket: form.get("fee_bracket").to_owned(),
                consent_coordinators: form.checked("consent_coordinators"),
                consent_hubs: form.checked("consent_hubs"),
                notified_on: form.opt("notified_on"),
                edd: form.get("edd").to_owned(),
                foetuses,
                first_child: form.checked("first_child"),
                handbook_number: form.opt("handbook_number"),
                mother: person_from_form(&form, "mother"),
                partner: has_partner.then(|| person_from_form(&form, "partner")),
            };
            let checked = input.check(state.clock.today());
            let outcome = match (checked, errors.is_empty()) {
                (Ok(n), true) => {
                    let audit = audit_ctx(account, &ctx.remote_addr, "pregnancy notification", ctx.now);
                    match state.store.register_notification(&audit, &n).await {
                        Ok(id) => return Ok(redirect(&format!("/families/{id}?saved=notification"))),
                        Err(tsunagu_store::StoreError::Conflict(code)) => (errors, Some(conflict_key(code))),
                        Err(tsunagu_store::StoreError::InvalidReference(field)) => {
                            errors.add(field, "unknown_reference");
                            (errors, None)
                        }
                        Err(e) => return Err(page_error(&ctx, e.into())),
                    }
                }
                (Ok(_), false) => (errors, None),
                (Err(mut e), _) => {
                    e.0.extend(errors.0);
                    (e, None)
                }
            };
            let (errors, form_error) = outcome;
            let areas = state.store.areas(account.municipality_id).await.or_page(&ctx)?;
            Ok(render(
                &NotificationPage {
                    chrome: Chrome::new(&ctx, "/families/new", "notif.title"),
                    areas,
                    values: form.map(),
                    errors,
                    form_error: Some(form_error.unwrap_or("notif.fix")),
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
        .await,
    )
}

fn conflict_key(code: &str) -> &'static str {
    match code {
        "duplicate_notification" => "err.duplicate_notification",
        "handbook_number_taken" => "err.handbook_number_taken",
        "pregnancy_not_ongoing" => "err.pregnancy_not_ongoing",
        "username_taken" => "err.username_taken",
        _ => "err.invalid_input",
    }
}

#[derive(Template)]
#[template(path = "family.html")]
struct FamilyPage {
    chrome: Chrome,
    record: FamilyRecord,
    area: String,
    can_edit: bool,
    saved: Option<&'static str>,
    own: bool,
    /// May raise a concern about this family (a referral to its nurse).
    can_raise: bool,
    /// The family's referrals, for nurses.
    referrals: Vec<tsunagu_store::StoredReferral>,
    /// The contacts the family is owed, with where each stands today.
    timeline: Vec<crate::base::views::ContactLine>,
    /// After a change of a pregnancy: what happened, or what was wrong.
    change_notice: Option<String>,
    change_failed: bool,
    /// May see the family's screening results (and enter paper forms).
    can_screen: bool,
}

impl FamilyPage {
    fn person_name(&self, id: &tsunagu_domain::PersonId) -> String {
        self.record.person(*id).map(|p| p.full_name()).unwrap_or_default()
    }

    fn person_kana(&self, id: &tsunagu_domain::PersonId) -> String {
        self.record.person(*id).map(|p| p.full_kana()).unwrap_or_default()
    }

    fn ongoing(&self, p: &Pregnancy) -> bool {
        p.status == tsunagu_domain::records::PregnancyStatus::Ongoing
    }

    /// A move out can still be recorded after the birth.
    fn may_move(&self, p: &Pregnancy) -> bool {
        matches!(
            p.status,
            tsunagu_domain::records::PregnancyStatus::Ongoing | tsunagu_domain::records::PregnancyStatus::Delivered
        )
    }
}

#[derive(Deserialize)]
struct SavedQuery {
    #[serde(default)]
    saved: Option<String>,
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

async fn show_family(
    state: &AppState,
    ctx: &RequestCtx,
    account: &Account,
    id: FamilyId,
    saved: Option<String>,
    own: bool,
) -> PageResult {
    let actor = actor_of(account);
    let access = crate::base::access::family_for(state, &actor, id, Action::ViewFamily).await.or_page(ctx)?;
    let audit = audit_ctx(account, &ctx.remote_addr, if own { "own record" } else { "view record" }, ctx.now);
    let record =
        state.store.open_family(&audit, id).await.or_page(ctx)?.ok_or_else(|| page_error(ctx, AppError::NotFound))?;
    let areas = state.store.areas(account.municipality_id).await.or_page(ctx)?;
    let names = area_names(&areas, ctx.lang);
    let area = names.get(&record.family.area_id.0).cloned().unwrap_or_default();
    let can_edit = !own && authorize(&actor, Action::EditFamily, &Resource::Family(&access)).is_allowed();
    let change_notice = saved.as_deref().and_then(|s| pregnancy_notice(ctx.lang, s));
    let change_failed = saved.as_deref().is_some_and(|s| s.starts_with("pregnancy."));
    let saved = match saved.as_deref() {
        Some("notification") => Some("notif.saved"),
        Some("birth") => Some("birth.saved"),
        Some("concern") => Some("ref.raised"),
        Some("concern_note") => Some("ref.note_required"),
        _ => None,
    };
    let can_raise = !own && authorize(&actor, Action::RaiseConcern, &Resource::Family(&access)).is_allowed();
    let referrals = if own { vec![] } else { family_referrals(state, ctx, id).await? };
    let timeline = family_timeline(state, ctx, account, id, own, &names).await?;
    let can_screen = !own && authorize(&actor, Action::ViewScreenings, &Resource::Family(&access)).is_allowed();
    let here = if own { "/me".to_owned() } else { format!("/families/{id}") };
    let title = if own { "me.title" } else { "family.title" };
    Ok(render(
        &FamilyPage {
            chrome: Chrome::new(ctx, &here, title),
            record,
            area,
            can_edit,
            saved,
            own,
            can_raise,
            referrals,
            timeline,
            change_notice,
            change_failed,
            can_screen,
        },
        StatusCode::OK,
    ))
}

/// The family page's timeline section: the family's contacts, with where
/// each stands today (hidden ones are never shown). `names` are the area
/// names the family page has read already.
async fn family_timeline(
    state: &AppState,
    ctx: &RequestCtx,
    account: &tsunagu_store::Account,
    family: FamilyId,
    own: bool,
    names: &HashMap<i64, String>,
) -> Result<Vec<ContactLine>, Response> {
    let actor = actor_of(account);
    let audit = audit_ctx(account, &ctx.remote_addr, if own { "own timeline" } else { "timeline" }, ctx.now);
    let rows = crate::base::access::family_contacts(state, &actor, &audit, family).await.or_page(ctx)?;
    let today = japan_date(ctx.now);
    let mut lines: Vec<ContactLine> = rows.into_iter().map(|r| ContactLine::of(r, today, names)).collect();
    if own {
        // A family sees what is ahead of them and what they used, not the
        // office's bookkeeping (missed, closed by a change of facts).
        lines.retain(|l| {
            matches!(
                l.status,
                ContactStatus::Upcoming | ContactStatus::Open | ContactStatus::DueSoon | ContactStatus::Done
            )
        });
    }
    Ok(lines)
}

/// Words for a change's notice or error on the family page.
fn pregnancy_notice(lang: Lang, saved: &str) -> Option<String> {
    if saved == "pregnancy" {
        return Some(crate::i18n::t(lang, "preg.updated").to_owned());
    }
    let code = saved.strip_prefix("pregnancy.")?;
    let key = format!("err.{code}");
    Some(crate::i18n::t(lang, if crate::i18n::has(&key) { &key } else { "err.invalid_input" }).to_owned())
}

/// Referrals of one family, for the nurse's view of its record.
async fn family_referrals(
    state: &AppState,
    ctx: &RequestCtx,
    family: FamilyId,
) -> Result<Vec<StoredReferral>, Response> {
    let account = signed_in(ctx)?;
    let actor = actor_of(account);
    if !authorize(&actor, Action::ManageReferrals, &Resource::Municipality(actor.municipality_id)).is_allowed() {
        return Ok(vec![]);
    }
    let audit = audit_ctx(account, &ctx.remote_addr, "referrals", ctx.now);
    crate::base::access::referrals_for(state, &actor, &audit, Some(family), false).await.or_page(ctx)
}

async fn family_page(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let id = id.parse::<i64>().map(FamilyId).map_err(|_| page_error(&ctx, AppError::NotFound))?;
            show_family(&state, &ctx, account, id, q.saved.or(q.done).or(q.error), false).await
        }
        .await,
    )
}

async fn my_record(State(state): State<AppState>, ctx: RequestCtx) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let id = account.family_id.ok_or_else(|| page_error(&ctx, AppError::Forbidden))?;
            show_family(&state, &ctx, account, id, None, true).await
        }
        .await,
    )
}

#[derive(Template)]
#[template(path = "birth.html")]
struct BirthPage {
    chrome: Chrome,
    family_id: FamilyId,
    pregnancy: Pregnancy,
    values: HashMap<String, String>,
    errors: FieldErrors,
    form_error: Option<&'static str>,
}

impl BirthPage {
    fn v(&self, i: &usize, k: &str) -> &str {
        self.values.get(&format!("babies.{i}.{k}")).map(String::as_str).unwrap_or("")
    }

    fn checked(&self, i: &usize, k: &str) -> bool {
        matches!(self.v(i, k), "on" | "true" | "1")
    }

    fn err(&self, i: &usize, k: &str) -> Option<&'static str> {
        self.errors.for_field(&format!("babies.{i}.{k}")).map(|c| crate::i18n::t(self.chrome.tr.0, &format!("err.{c}")))
    }

    fn babies_err(&self) -> Option<&'static str> {
        self.errors.for_field("babies").map(|c| crate::i18n::t(self.chrome.tr.0, &format!("err.{c}")))
    }

    fn slots(&self) -> Vec<usize> {
        (0..usize::from(self.pregnancy.foetuses)).collect()
    }
}

async fn birth_context(
    state: &AppState,
    ctx: &RequestCtx,
    id: &str,
    pregnancy: &str,
) -> Result<(Account, FamilyId, Pregnancy), Response> {
    let account = signed_in(ctx)?.clone();
    let id = id.parse::<i64>().map(FamilyId).map_err(|_| page_error(ctx, AppError::NotFound))?;
    let pid = pregnancy.parse::<i64>().map(PregnancyId).map_err(|_| page_error(ctx, AppError::NotFound))?;
    crate::base::access::family_for(state, &actor_of(&account), id, Action::EditFamily).await.or_page(ctx)?;
    let audit = audit_ctx(&account, &ctx.remote_addr, "record birth", ctx.now);
    let record =
        state.store.open_family(&audit, id).await.or_page(ctx)?.ok_or_else(|| page_error(ctx, AppError::NotFound))?;
    let p = record.pregnancies.into_iter().find(|p| p.id == pid).ok_or_else(|| page_error(ctx, AppError::NotFound))?;
    Ok((account, id, p))
}

async fn birth_page(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path((id, pregnancy)): Path<(String, String)>,
) -> Response {
    unwrap_page(
        async {
            let (_, family_id, pregnancy) = birth_context(&state, &ctx, &id, &pregnancy).await?;
            let here = format!("/families/{family_id}/pregnancies/{}/birth", pregnancy.id);
            Ok(render(
                &BirthPage {
                    chrome: Chrome::new(&ctx, &here, "birth.title"),
                    family_id,
                    pregnancy,
                    values: HashMap::new(),
                    errors: FieldErrors::default(),
                    form_error: None,
                },
                StatusCode::OK,
            ))
        }
        .await,
    )
}

async fn birth_submit(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path((id, pregnancy)): Path<(String, String)>,
    Form(form): Form<FormData>,
) -> Response {
    unwrap_page(
        async {
            let (account, family_id, pregnancy) = birth_context(&state, &ctx, &id, &pregnancy).await?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let mut errors = FieldErrors::default();
            let mut babies = Vec::new();
            for i in 0..usize::from(pregnancy.foetuses) {
                let f = |k: &str| form.get(&format!("babies.{i}.{k}")).trim().to_owned();
                // A block left wholly empty is a foetus not (yet) born.
                if f("birth_date").is_empty() && f("gestational_weeks").is_empty() && f("birth_weight_g").is_empty() {
                    continue;
                }
                let num = |k: &str, errors: &mut FieldErrors| -> i64 {
                    let s = f(k);
                    if s.is_empty() {
                        return 0;
                    }
                    s.parse().unwrap_or_else(|_| {
                        errors.add(format!("babies.{i}.{k}"), "out_of_range");
                        0
                    })
                };
                let weeks = num("gestational_weeks", &mut errors);
                let days = num("gestational_days", &mut errors);
                let weight = num("birth_weight_g", &mut errors);
                babies.push(BabyInput {
                    birth_date: f("birth_date"),
                    sex: f("sex"),
                    given_name: Some(f("given_name")),
                    given_name_kana: Some(f("given_name_kana")),
                    gestational_weeks: weeks,
                    gestational_days: days,
                    birth_weight_g: (weight != 0).then_some(weight),
                    long_hospitalisation: form.checked(&format!("babies.{i}.long_hospitalisation")),
                });
            }
            let input = BirthInput { babies };
            let mut form_error = Some("notif.fix");
            match input.check(&pregnancy, state.clock.today()) {
                Ok(new) if errors.is_empty() => {
                    let audit = audit_ctx(&account, &ctx.remote_addr, "record birth", ctx.now);
                    match state.store.record_birth(&audit, family_id, pregnancy.id, &new).await {
                        Ok(_) => return Ok(redirect(&format!("/families/{family_id}?saved=birth"))),
                        Err(tsunagu_store::StoreError::Conflict(code)) => form_error = Some(conflict_key(code)),
                        Err(e) => return Err(page_error(&ctx, e.into())),
                    }
                }
                Ok(_) => {}
                Err(e) => errors.0.extend(e.0),
            }
            let here = format!("/families/{family_id}/pregnancies/{}/birth", pregnancy.id);
            Ok(render(
                &BirthPage {
                    chrome: Chrome::new(&ctx, &here, "birth.title"),
                    family_id,
                    pregnancy,
                    values: form.map(),
                    errors,
                    form_error,
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
        .await,
    )
}

// --- administration --------------------------------------------------------------

#[derive(Template)]
#[template(path = "accounts.html")]
struct AccountsPage {
    chrome: Chrome,
    accounts: Vec<Account>,
    areas: Vec<Area>,
    venues: Vec<Venue>,
    roles: Vec<&'static str>,
    values: HashMap<String, String>,
    errors: FieldErrors,
    notice: Option<&'static str>,
    form_error: Option<&'static str>,
}

impl AccountsPage {
    fn v(&self, k: &str) -> &str {
        self.values.get(k).map(String::as_str).unwrap_or("")
    }

    fn err(&self, k: &str) -> Option<&'static str> {
        self.errors.for_field(k).map(|c| crate::i18n::t(self.chrome.tr.0, &format!("err.{c}")))
    }

    fn name<'a>(&self, ja: &'a str, en: &'a str) -> &'a str {
        if self.chrome.tr.0 == Lang::Ja {
            ja
        } else {
            en
        }
    }
}

fn can_admin(ctx: &RequestCtx, account: &Account) -> Result<(), Response> {
    require(
        ctx,
        authorize(&actor_of(account), Action::ManageAccounts, &Resource::Municipality(account.municipality_id)),
    )
}

/// What the accounts page shows besides the accounts: the form as sent, its
/// errors, and a notice.
#[derive(Default)]
struct AccountsForm {
    values: HashMap<String, String>,
    errors: FieldErrors,
    notice: Option<&'static str>,
    form_error: Option<&'static str>,
}

async fn accounts_view(
    state: &AppState,
    ctx: &RequestCtx,
    admin: &Account,
    form: AccountsForm,
    status: StatusCode,
) -> PageResult {
    let AccountsForm { values, errors, notice, form_error } = form;
    let m = admin.municipality_id;
    let accounts = state.store.accounts(m).await.or_page(ctx)?;
    let areas = state.store.areas(m).await.or_page(ctx)?;
    let venues = state.store.venues(m).await.or_page(ctx)?;
    let roles = Role::ALL.iter().map(|r| r.as_str()).collect();
    Ok(render(
        &AccountsPage {
            chrome: Chrome::new(ctx, "/admin/accounts", "accounts.title"),
            accounts,
            areas,
            venues,
            roles,
            values,
            errors,
            notice,
            form_error,
        },
        status,
    ))
}

#[derive(Deserialize)]
struct NoticeQuery {
    #[serde(default)]
    done: Option<String>,
}

async fn accounts_page(State(state): State<AppState>, ctx: RequestCtx, Query(q): Query<NoticeQuery>) -> Response {
    unwrap_page(
        async {
            let admin = signed_in(&ctx)?;
            can_admin(&ctx, admin)?;
            let notice = match q.done.as_deref() {
                Some("created") => Some("accounts.created"),
                Some(_) => Some("accounts.updated"),
                None => None,
            };
            accounts_view(&state, &ctx, admin, AccountsForm { notice, ..AccountsForm::default() }, StatusCode::OK).await
        }
        .await,
    )
}

async fn accounts_create(State(state): State<AppState>, ctx: RequestCtx, Form(form): Form<FormData>) -> Response {
    unwrap_page(
        async {
            let admin = signed_in(&ctx)?;
            can_admin(&ctx, admin)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let ids = |k: &str| form.all(k).iter().filter_map(|v| v.trim().parse::<i64>().ok()).collect::<Vec<_>>();
            let input = accounts::AccountInput {
                username: form.get("username").to_owned(),
                display_name: form.get("display_name").to_owned(),
                role: form.get("role").to_owned(),
                password: form.get("password").to_owned(),
                areas: ids("areas"),
                venues: ids("venues"),
                family_id: form.opt("family_id").and_then(|v| v.parse().ok()),
            };
            let audit = audit_ctx(admin, &ctx.remote_addr, "create account", ctx.now);
            let (errors, form_error) = match accounts::create(&state, admin, &audit, input).await {
                Ok(_) => return Ok(redirect("/admin/accounts?done=created")),
                Err(AppError::Invalid(e)) => (e, None),
                Err(AppError::Conflict(code)) => (FieldErrors::default(), Some(conflict_key(code))),
                Err(e) => return Err(page_error(&ctx, e)),
            };
            let mut values = form.map();
            values.remove("password");
            let form =
                AccountsForm { values, errors, notice: None, form_error: Some(form_error.unwrap_or("notif.fix")) };
            accounts_view(&state, &ctx, admin, form, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        .await,
    )
}

async fn accounts_op(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path((id, op)): Path<(i64, String)>,
    Form(form): Form<FormData>,
) -> Response {
    unwrap_page(
        async {
            let admin = signed_in(&ctx)?;
            can_admin(&ctx, admin)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let id = AccountId(id);
            let audit = audit_ctx(admin, &ctx.remote_addr, &format!("account {op}"), ctx.now);
            let result = match op.as_str() {
                "disable" => accounts::set_disabled(&state, admin, &audit, id, true).await,
                "enable" => accounts::set_disabled(&state, admin, &audit, id, false).await,
                "totp-reset" => accounts::reset_totp(&state, admin, &audit, id).await,
                "password" => accounts::reset_password(&state, admin, &audit, id, form.get("password")).await,
                _ => Err(AppError::NotFound),
            };
            match result {
                Ok(()) => Ok(redirect("/admin/accounts?done=updated")),
                Err(AppError::Invalid(errors)) => {
                    // The only field these operations take is the new password.
                    let form_error = match errors.for_field("password") {
                        Some("password_too_common") => "err.password_too_common",
                        Some("password_too_long") => "err.password_too_long",
                        _ => "err.password_too_short",
                    };
                    let form = AccountsForm { errors, form_error: Some(form_error), ..AccountsForm::default() };
                    accounts_view(&state, &ctx, admin, form, StatusCode::UNPROCESSABLE_ENTITY).await
                }
                Err(e) => Err(page_error(&ctx, e)),
            }
        }
        .await,
    )
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    lines: Vec<AuditLine>,
    actions: Vec<&'static str>,
    actor: String,
    family: String,
    action: String,
}

impl AuditPage {
    fn when(&self, l: &AuditLine) -> String {
        // Staff read times in Japan time; the stored value is UTC.
        l.at.to_zoned(tsunagu_domain::clock::jst()).strftime("%Y-%m-%d %H:%M:%S").to_string()
    }
}

async fn audit_page(
    State(state): State<AppState>,
    ctx: RequestCtx,
    q: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> Response {
    unwrap_page(
        async {
            let admin = signed_in(&ctx)?;
            require(
                &ctx,
                authorize(&actor_of(admin), Action::ViewAudit, &Resource::Municipality(admin.municipality_id)),
            )?;
            let q = q.map(|Query(q)| q).unwrap_or_default();
            let get = |k: &str| q.get(k).map(|s| s.trim().to_owned()).unwrap_or_default();
            let params = crate::api::AuditParams {
                actor: get("actor").parse().ok(),
                family: get("family").parse().ok(),
                action: Some(get("action")).filter(|a| !a.is_empty()),
                before: get("before").parse().ok(),
                limit: Some(200),
            };
            let query = params.query().or_page(&ctx)?;
            let lines = state.store.search_audit(admin.municipality_id, &query).await.or_page(&ctx)?;
            let audit = audit_ctx(admin, &ctx.remote_addr, "audit search", ctx.now);
            state.store.write_audit(&audit, AuditAction::AuditSearch, query.family_id, "").await.or_page(&ctx)?;
            let actions = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
            Ok(render(
                &AuditPage {
                    chrome: Chrome::new(&ctx, "/admin/audit", "audit.title"),
                    lines,
                    actions,
                    actor: get("actor"),
                    family: get("family"),
                    action: get("action"),
                },
                StatusCode::OK,
            ))
        }
        .await,
    )
}
