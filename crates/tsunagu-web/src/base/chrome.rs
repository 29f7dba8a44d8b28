//! The page chrome every capability's pages share: the frame around a page
//! (`Chrome`), rendering, redirects, an error as a page in the reader's
//! language, form fields as sent, and the stylesheet.

// A page handler's error *is* a page (a `Response`); boxing it would buy nothing.
#![allow(clippy::result_large_err)]

use crate::base::error::AppError;
use crate::base::session::RequestCtx;
use crate::i18n::{Lang, Tr};
use askama::Template;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use std::collections::HashMap;
use tsunagu_domain::places::Area;
use tsunagu_domain::roles::Role;
use tsunagu_store::Account;

/// The frame around every page: language, navigation, sign-out form.
pub struct Chrome {
    pub tr: Tr,
    pub role: Option<Role>,
    /// Who is signed in, for the navigation to ask the policy what to offer.
    actor: Option<tsunagu_domain::roles::Actor>,
    pub display_name: String,
    pub csrf: String,
    /// The path, for the language switch to come back to.
    pub here: String,
    pub title: &'static str,
    /// How this reader is shown days and times (`base::dates`).
    pub dates: crate::base::dates::Dates,
}

impl Chrome {
    pub(crate) fn new(ctx: &RequestCtx, here: &str, title_key: &str) -> Self {
        let signed_in = ctx.signed_in().ok();
        Chrome {
            tr: Tr(ctx.lang),
            role: signed_in.map(|(_, a)| a.role),
            actor: signed_in.map(|(_, a)| crate::base::session::actor_of(a)),
            display_name: signed_in.map(|(_, a)| a.display_name.clone()).unwrap_or_default(),
            csrf: ctx.csrf_token(),
            here: here.to_owned(),
            title: crate::i18n::t(ctx.lang, title_key),
            dates: crate::base::dates::Dates::of(ctx.lang),
        }
    }

    /// A day as the reader reads it: 令和8年12月6日(日) (`base::dates`).
    pub fn date(&self, day: impl crate::base::dates::AsDate) -> String {
        self.dates.date(day)
    }

    /// A day whose year goes without saying: 12月6日(日).
    pub fn day(&self, day: impl crate::base::dates::AsDate) -> String {
        self.dates.day(day)
    }

    /// An inclusive range of days.
    pub fn range(&self, r: impl crate::base::dates::AsRange) -> String {
        self.dates.range(r)
    }

    /// A moment in Japan time: 令和8年12月6日(日) 04:42.
    pub fn stamp(&self, at: impl crate::base::dates::AsInstant) -> String {
        self.dates.stamp(at)
    }

    /// A baby's age on `today`: 生後1か月11日.
    pub fn age(&self, birth: impl crate::base::dates::AsDate, today: impl crate::base::dates::AsDate) -> String {
        self.dates.age(birth, today)
    }

    /// The week of a pregnancy on `today`: 妊娠28週3日.
    pub fn gestation(&self, edd: impl crate::base::dates::AsDate, today: impl crate::base::dates::AsDate) -> String {
        self.dates.gestation(edd, today)
    }

    pub fn lang(&self) -> &'static str {
        self.tr.lang()
    }

    pub fn other_lang(&self) -> &'static str {
        self.tr.0.other().code()
    }

    /// The account belongs to a family (a parent's): its own record and
    /// questionnaires, its own bookings; no other family's names.
    pub fn own_family(&self) -> bool {
        self.actor.as_ref().is_some_and(|a| a.family_id.is_some())
    }

    pub fn signed_in(&self) -> bool {
        self.role.is_some()
    }

    /// The navigation offers what the policy allows on the caller's
    /// municipality as a whole; each page still decides for itself.
    fn may(&self, action: tsunagu_domain::policy::Action) -> bool {
        self.actor.as_ref().is_some_and(|a| {
            let whole = tsunagu_domain::policy::Resource::Municipality(a.municipality_id);
            tsunagu_domain::policy::authorize(a, action, &whole).is_allowed()
        })
    }

    /// Postpartum care and the services around it.
    pub fn can_postpartum(&self) -> bool {
        self.may(tsunagu_domain::policy::Action::UseCareServices)
    }

    /// Sees referrals: nurses all of them, others who meet families what they raised.
    pub fn can_raise(&self) -> bool {
        self.may(tsunagu_domain::policy::Action::ListOwnConcerns)
    }

    pub fn can_reports(&self) -> bool {
        self.may(tsunagu_domain::policy::Action::ViewReports)
    }

    /// Works from a work list (contacts owed, follow-ups).
    pub fn can_work_list(&self) -> bool {
        self.may(tsunagu_domain::policy::Action::ViewWorkList)
    }

    /// Classes and programmes: families book them, staff run them.
    pub fn can_classes(&self) -> bool {
        self.may(tsunagu_domain::policy::Action::BrowseClasses)
    }

    pub fn can_search(&self) -> bool {
        self.may(tsunagu_domain::policy::Action::SearchFamilies)
    }

    /// The peer-support chat: a parent's room, a supporter's rooms, the
    /// operator's page, the nurse's invitations.
    pub fn can_chat(&self) -> bool {
        use tsunagu_domain::policy::Action;
        self.may(Action::UseChat) || self.may(Action::ManageChat) || self.may(Action::InviteToChat)
    }

    /// The header's live count of chat rooms with unread messages: those who
    /// write in rooms (a parent, a supporter).
    pub fn can_chat_notices(&self) -> bool {
        self.may(tsunagu_domain::policy::Action::UseChat)
    }

    /// Registers pregnancy notifications.
    pub fn can_register(&self) -> bool {
        self.may(tsunagu_domain::policy::Action::RegisterNotification)
    }

    pub fn can_manage_accounts(&self) -> bool {
        self.may(tsunagu_domain::policy::Action::ManageAccounts)
    }

    pub fn can_audit(&self) -> bool {
        self.may(tsunagu_domain::policy::Action::ViewAudit)
    }

    /// Sets the municipality's report settings (suppression, follow-up days).
    pub fn can_configure_reports(&self) -> bool {
        self.may(tsunagu_domain::policy::Action::ConfigureReports)
    }

    pub fn can_configure_facilities(&self) -> bool {
        self.may(tsunagu_domain::policy::Action::ConfigureFacilities)
    }

    /// Reviews postpartum applications (and opens the family's record from one).
    pub fn can_review_postpartum(&self) -> bool {
        self.may(tsunagu_domain::policy::Action::ReviewPostpartum)
    }

    /// Sees figures and nothing of a person (the home page says so).
    pub fn reports_only(&self) -> bool {
        self.can_reports() && !self.can_search() && !self.can_work_list() && !self.own_family()
    }
}

pub(crate) fn render(t: &impl Template, status: StatusCode) -> Response {
    match t.render() {
        Ok(html) => {
            let mut resp = (status, Html(html)).into_response();
            // Pages hold personal data: never cache them.
            resp.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

pub(crate) fn redirect(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, to.to_owned())]).into_response()
}

pub(crate) fn redirect_with_cookies(to: &str, cookies: &[String]) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(LOCATION, HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/")));
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            headers.append(SET_COOKIE, v);
        }
    }
    (StatusCode::SEE_OTHER, headers).into_response()
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    message: String,
}

/// What a partner's account is shown where the mother has not shared
/// something, or the partner's view is off: the same few words either way.
#[derive(Template)]
#[template(path = "neutral.html")]
struct NeutralPage {
    chrome: Chrome,
}

/// An error as a page in the reader's language; an unauthenticated
/// visitor is sent to sign in instead.
pub(crate) fn page_error(ctx: &RequestCtx, e: AppError) -> Response {
    if matches!(e, AppError::Unauthenticated) {
        return redirect("/signin");
    }
    if matches!(e, AppError::NotShared) {
        // Neutral: nothing says that something is kept from the reader, nor why.
        return render(&NeutralPage { chrome: Chrome::new(ctx, "/", "neutral.title") }, StatusCode::OK);
    }
    let status = e.status();
    let message = crate::i18n::t(ctx.lang, &format!("err.{}", e.code())).to_owned();
    let mut resp = render(&ErrorPage { chrome: Chrome::new(ctx, "/", "err.page_title"), message }, status);
    crate::base::error::add_retry_after(&mut resp, &e);
    resp
}

/// A form's fields that did not pass, as a page in the reader's language
/// (422): for a form posted from another page that cannot show them beside
/// the field (a concern raised from a record or a stay).
pub(crate) fn field_error_page(ctx: &RequestCtx, e: AppError) -> Response {
    let AppError::Invalid(fields) = &e else { return page_error(ctx, e) };
    let message = fields
        .0
        .iter()
        .map(|f| format!("{} ({})", crate::i18n::t(ctx.lang, &format!("err.{}", f.code)), f.field))
        .collect::<Vec<_>>()
        .join(" / ");
    render(&ErrorPage { chrome: Chrome::new(ctx, "/", "err.page_title"), message }, StatusCode::UNPROCESSABLE_ENTITY)
}

/// Errors before a `RequestCtx` exists (the database is down while reading the session).
impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let ja = crate::i18n::t(Lang::Ja, &format!("err.{}", self.code()));
        let en = crate::i18n::t(Lang::En, &format!("err.{}", self.code()));
        let body = format!(
            "<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\"><title>つなぐ</title></head>\
             <body><h1>{ja}</h1><p lang=\"en\">{en}</p></body></html>"
        );
        (status, Html(body)).into_response()
    }
}

pub(crate) type PageResult = Result<Response, Response>;

pub(crate) trait OrPage<T> {
    fn or_page(self, ctx: &RequestCtx) -> Result<T, Response>;
}

impl<T, E: Into<AppError>> OrPage<T> for Result<T, E> {
    fn or_page(self, ctx: &RequestCtx) -> Result<T, Response> {
        self.map_err(|e| page_error(ctx, e.into()))
    }
}

pub(crate) fn unwrap_page(r: PageResult) -> Response {
    match r {
        Ok(r) | Err(r) => r,
    }
}

/// Form fields as sent, in order. Missing fields read as empty, so a
/// tampered form gets field errors rather than a framework rejection.
#[derive(Deserialize)]
#[serde(transparent)]
pub(crate) struct FormData(Vec<(String, String)>);

impl FormData {
    pub(crate) fn get(&self, k: &str) -> &str {
        self.0.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    pub(crate) fn opt(&self, k: &str) -> Option<String> {
        let v = self.get(k).trim();
        (!v.is_empty()).then(|| v.to_owned())
    }

    /// An optional id as typed: none when left empty, and the field's error
    /// (`not_an_id`) when it does not read as one, never silently none (#9).
    pub(crate) fn opt_id(&self, k: &'static str) -> Result<Option<i64>, AppError> {
        match self.opt(k) {
            None => Ok(None),
            Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
                let mut e = tsunagu_domain::validation::FieldErrors::default();
                e.add(k, "not_an_id");
                AppError::Invalid(e)
            }),
        }
    }

    pub(crate) fn checked(&self, k: &str) -> bool {
        matches!(self.get(k), "on" | "true" | "1")
    }

    pub(crate) fn all(&self, k: &str) -> Vec<&str> {
        self.0.iter().filter(|(key, _)| key == k).map(|(_, v)| v.as_str()).collect()
    }

    pub(crate) fn map(&self) -> HashMap<String, String> {
        self.0.iter().cloned().collect()
    }
}

pub(crate) fn signed_in(ctx: &RequestCtx) -> Result<&Account, Response> {
    ctx.signed_in().map(|(_, a)| a).or_page(ctx)
}

pub(crate) fn require(ctx: &RequestCtx, d: tsunagu_domain::policy::Decision) -> Result<(), Response> {
    crate::base::error::require(d).map_err(|e| page_error(ctx, e))
}

pub(crate) async fn stylesheet() -> Response {
    (
        [(CONTENT_TYPE, "text/css; charset=utf-8"), (CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../../templates/app.css"),
    )
        .into_response()
}

/// A page that is not there, as a page.
pub(crate) async fn not_found(ctx: RequestCtx) -> Response {
    page_error(&ctx, AppError::NotFound)
}

/// Area names in the reader's language, by id.
pub(crate) fn area_names(areas: &[Area], lang: Lang) -> HashMap<i64, String> {
    areas.iter().map(|a| (a.id.0, if lang == Lang::Ja { a.name_ja.clone() } else { a.name_en.clone() })).collect()
}

/// The words key for a conflict the store reported (a form's error).
pub(crate) fn conflict_key(code: &str) -> &'static str {
    match code {
        "duplicate_notification" => "err.duplicate_notification",
        "handbook_number_taken" => "err.handbook_number_taken",
        "pregnancy_not_ongoing" => "err.pregnancy_not_ongoing",
        "username_taken" => "err.username_taken",
        "mother_account_exists" => "err.mother_account_exists",
        _ => "err.invalid_input",
    }
}
