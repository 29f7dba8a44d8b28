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
    actor: String,
    family: String,
    action: String,
}

impl AuditPage {
    fn when(&self, l: &AuditLine) -> String {
        // Staff read times in Japan time (the stored value is UTC), to the second.
        let seconds = l.at.to_zoned(tsunagu_domain::clock::jst()).strftime(":%S").to_string();
        format!("{}{seconds}", self.chrome.stamp(l.at))
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
            let allowed = permit_municipality(&actor_of(admin), Action::ViewAudit).or_page(&ctx)?;
            let q = q.map(|Query(q)| q).unwrap_or_default();
            let get = |k: &str| q.get(k).map(|s| s.trim().to_owned()).unwrap_or_default();
            let params = crate::accounts::AuditParams {
                actor: get("actor").parse().ok(),
                family: get("family").parse().ok(),
                action: Some(get("action")).filter(|a| !a.is_empty()),
                before: get("before").parse().ok(),
                limit: Some(200),
            };
            let query = params.query().or_page(&ctx)?;
            let lines = state.store.search_audit(admin.municipality_id, &query).await.or_page(&ctx)?;
            let audit = audit_ctx(admin, &ctx.remote_addr, "audit search", ctx.now);
            state
                .store
                .write_audit(&audit.allowed(&allowed), AuditAction::AuditSearch, query.family_id, "")
                .await
                .or_page(&ctx)?;
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
