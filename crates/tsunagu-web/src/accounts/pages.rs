//! The administrator's pages: accounts (create, disable, reset) and the
//! audit log.

// A page handler's error *is* a page (a `Response`); boxing it would buy nothing.
#![allow(clippy::result_large_err)]

use crate::accounts;
use crate::base::chrome::{
    conflict_key, page_error, redirect, render, require, signed_in, unwrap_page, Chrome, FormData, OrPage, PageResult,
};
use crate::base::error::{permit_municipality, AppError};
use crate::base::session::{actor_of, audit_ctx, RequestCtx};
use crate::base::AppState;
use crate::i18n::Lang;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use std::collections::HashMap;
use tsunagu_domain::audit::{AuditAction, AuditLine};
use tsunagu_domain::places::{Area, Venue};
use tsunagu_domain::policy::{authorize, Action, Resource};
use tsunagu_domain::roles::Role;
use tsunagu_domain::validation::FieldErrors;
use tsunagu_domain::AccountId;
use tsunagu_store::Account;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/accounts", get(accounts_page).post(accounts_create))
        .route("/admin/accounts/{id}/{op}", post(accounts_op))
        .route("/admin/audit", get(audit_page))
        .route("/admin/audit.csv", get(audit_csv))
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
    // Role: the roles a new account may be given, offered as the form's choices.
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
                family_relation: form.opt("family_relation"),
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
                Err(AppError::Conflict("last_administrator")) => {
                    let form = AccountsForm { form_error: Some("err.last_administrator"), ..AccountsForm::default() };
                    accounts_view(&state, &ctx, admin, form, StatusCode::CONFLICT).await
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
    /// The accounts to filter by, and whose each line is (id, name).
    accounts: Vec<(i64, String)>,
    actor: String,
    family: String,
    action: String,
    from: String,
    to: String,
    /// The query of the filters, for the next page's and the download's links.
    filters: String,
    /// The next (older) page's first line: the last shown, when there are more.
    older: Option<i64>,
    /// A later page is shown (a link back to the newest).
    paged: bool,
}

impl AuditPage {
    fn when(&self, l: &AuditLine) -> String {
        // Staff read times in Japan time (the stored value is UTC), to the second.
        let seconds = l.at.to_zoned(tsunagu_domain::clock::jst()).strftime(":%S").to_string();
        format!("{}{seconds}", self.chrome.stamp(l.at))
    }

    /// An action's label in the reader's words (see [`action_label`]).
    fn label(&self, code: &str) -> String {
        action_label(self.chrome.tr.0, code)
    }

    fn name_of(&self, l: &AuditLine) -> &str {
        self.accounts.iter().find(|(id, _)| *id == l.actor.0).map(|(_, n)| n.as_str()).unwrap_or("")
    }
}

/// Lines a page of the audit log shows.
const AUDIT_PAGE: u32 = 100;
/// An audit action's label in the reader's words (「家庭の記録の閲覧」), by its
/// stored code (`family.view`); the code itself for one without words (a
/// line older than its label, never a current action: the words' test
/// walks `AuditAction::ALL` in both languages).
pub(crate) fn action_label(lang: Lang, code: &str) -> String {
    let key = format!("audit.act.{code}");
    if crate::i18n::has(&key) {
        crate::i18n::t(lang, &key).to_owned()
    } else {
        code.to_owned()
    }
}

/// The most lines one CSV download holds (newest first; narrow the filters for older ones).
const AUDIT_CSV_MAX: usize = 20_000;

/// The audit log's filters as the page and the download take them (#10):
/// an account, a family, an action, a range of days in Japan (`from`,
/// `to`, both included) and the line to page back from (keyset on the
/// chain's sequence number, never an offset).
struct AuditFilters {
    query: tsunagu_store::AuditQuery,
    raw: Vec<(&'static str, String)>,
}

fn audit_filters(q: &HashMap<String, String>) -> Result<AuditFilters, AppError> {
    let get = |k: &str| q.get(k).map(|s| s.trim().to_owned()).unwrap_or_default();
    let id = |k: &'static str| -> Result<Option<i64>, AppError> {
        let v = get(k);
        if v.is_empty() {
            return Ok(None);
        }
        v.parse().map(Some).map_err(|_| AppError::BadRequest("bad_query"))
    };
    let day_start = |k: &'static str, after: i64| -> Result<Option<jiff::Timestamp>, AppError> {
        let v = get(k);
        if v.is_empty() {
            return Ok(None);
        }
        let day: jiff::civil::Date = v.parse().map_err(|_| AppError::BadRequest("bad_query"))?;
        let day = tsunagu_domain::dates::add_days(day, after).ok_or(AppError::BadRequest("bad_query"))?;
        let at = day.to_zoned(tsunagu_domain::clock::jst()).map_err(|_| AppError::BadRequest("bad_query"))?;
        Ok(Some(at.timestamp()))
    };
    let params = crate::accounts::AuditParams {
        actor: id("actor")?,
        family: id("family")?,
        action: Some(get("action")).filter(|a| !a.is_empty()),
        before: id("before")?,
        limit: Some(AUDIT_PAGE),
    };
    let mut query = params.query()?;
    // `to` is a whole day: lines before the next day begins in Japan.
    query.from = day_start("from", 0)?;
    query.to = day_start("to", 1)?;
    let raw = ["actor", "family", "action", "from", "to"].into_iter().map(|k| (k, get(k))).collect();
    Ok(AuditFilters { query, raw })
}

/// The filters as a query string (without the page), for links.
fn filters_query(raw: &[(&'static str, String)]) -> String {
    let encode = |v: &str| -> String {
        v.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    raw.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={}", encode(v))).collect::<Vec<_>>().join("&")
}

async fn audit_page(
    State(state): State<AppState>,
    ctx: RequestCtx,
    q: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> Response {
    unwrap_page(
        async {
            let admin = signed_in(&ctx)?;
            let allowed = permit_municipality(&actor_of(admin), Action::ViewAudit).or_page(&ctx)?;
            let q = q.map(|Query(q)| q).unwrap_or_default();
            let filters = audit_filters(&q).or_page(&ctx)?;
            let mut query = filters.query.clone();
            // One more than a page: whether there is an older one.
            query.limit = AUDIT_PAGE.saturating_add(1);
            let mut lines = state.store.search_audit(admin.municipality_id, &query).await.or_page(&ctx)?;
            let more = lines.len() > AUDIT_PAGE as usize;
            lines.truncate(AUDIT_PAGE as usize);
            let older = if more { lines.last().map(|l| l.seq) } else { None };
            let audit = audit_ctx(admin, &ctx.remote_addr, "audit search", ctx.now);
            state
                .store
                .write_audit(&audit.allowed(&allowed), AuditAction::AuditSearch, query.family_id, "")
                .await
                .or_page(&ctx)?;
            let accounts = state
                .store
                .accounts(admin.municipality_id)
                .await
                .or_page(&ctx)?
                .into_iter()
                .map(|a| (a.id.0, a.display_name))
                .collect();
            let actions = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
            let field = |k: &str| filters.raw.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()).unwrap_or_default();
            Ok(render(
                &AuditPage {
                    chrome: Chrome::new(&ctx, "/admin/audit", "audit.title"),
                    lines,
                    actions,
                    accounts,
                    actor: field("actor"),
                    family: field("family"),
                    action: field("action"),
                    from: field("from"),
                    to: field("to"),
                    filters: filters_query(&filters.raw),
                    older,
                    paged: filters.query.before_seq.is_some(),
                },
                StatusCode::OK,
            ))
        }
        .await,
    )
}

/// One CSV field, quoted when it must be.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The audit log as CSV (#10): the page's filters, every matching line up
/// to [`AUDIT_CSV_MAX`], newest first, UTF-8 with a byte-order mark (Excel
/// reads the Japanese headers), times in Japan. The download is itself one
/// audit line (`audit.export`, its filters in the detail), written before
/// the file is answered.
async fn audit_csv(
    State(state): State<AppState>,
    ctx: RequestCtx,
    q: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> Response {
    unwrap_page(
        async {
            let admin = signed_in(&ctx)?;
            let allowed = permit_municipality(&actor_of(admin), Action::ViewAudit).or_page(&ctx)?;
            let q = q.map(|Query(q)| q).unwrap_or_default();
            let filters = audit_filters(&q).or_page(&ctx)?;
            let mut query = filters.query.clone();
            query.limit = 500;
            let mut lines: Vec<AuditLine> = Vec::new();
            // Page by the sequence number (keyset) until done or full.
            loop {
                let batch = state.store.search_audit(admin.municipality_id, &query).await.or_page(&ctx)?;
                let last = batch.last().map(|l| l.seq);
                let full = batch.len() == query.limit as usize;
                lines.extend(batch);
                match last {
                    Some(seq) if full && lines.len() < AUDIT_CSV_MAX => query.before_seq = Some(seq),
                    _ => break,
                }
            }
            lines.truncate(AUDIT_CSV_MAX);
            let names: HashMap<i64, String> = state
                .store
                .accounts(admin.municipality_id)
                .await
                .or_page(&ctx)?
                .into_iter()
                .map(|a| (a.id.0, a.display_name))
                .collect();
            let audit = audit_ctx(admin, &ctx.remote_addr, "audit export", ctx.now);
            let detail = format!("{} lines={}", filters_query(&filters.raw), lines.len());
            state
                .store
                .write_audit(&audit.allowed(&allowed), AuditAction::AuditExport, filters.query.family_id, detail.trim())
                .await
                .or_page(&ctx)?;
            let tr = |k: &str| crate::i18n::t(ctx.lang, k).to_owned();
            let mut out = String::from("\u{feff}");
            let header = [
                "#".to_owned(),
                tr("audit.at"),
                tr("audit.actor"),
                tr("audit.name"),
                tr("audit.role"),
                tr("audit.action"),
                tr("audit.family"),
                tr("audit.reason"),
                tr("audit.detail"),
                tr("audit.addr"),
                tr("audit.action_code"),
            ];
            out.push_str(&header.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
            out.push_str("\r\n");
            for l in &lines {
                let at = l.at.to_zoned(tsunagu_domain::clock::jst()).strftime("%Y-%m-%d %H:%M:%S").to_string();
                let fields = [
                    l.seq.to_string(),
                    at,
                    l.actor.0.to_string(),
                    names.get(&l.actor.0).cloned().unwrap_or_default(),
                    l.role.clone(),
                    action_label(ctx.lang, &l.action),
                    l.family_id.map(|f| f.0.to_string()).unwrap_or_default(),
                    l.reason.clone(),
                    l.detail.clone(),
                    l.remote_addr.clone(),
                    l.action.clone(),
                ];
                out.push_str(&fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
                out.push_str("\r\n");
            }
            let day = tsunagu_domain::clock::japan_date(ctx.now);
            let disposition = format!("attachment; filename=\"audit-{day}.csv\"");
            Ok(axum::response::IntoResponse::into_response((
                StatusCode::OK,
                [
                    (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                    (axum::http::header::CONTENT_DISPOSITION, disposition),
                    (axum::http::header::CACHE_CONTROL, "no-store".to_owned()),
                ],
                out,
            )))
        }
        .await,
    )
}
