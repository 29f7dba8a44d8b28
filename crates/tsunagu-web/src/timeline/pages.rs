//! Pages of the timeline: the work list (with counts, filters, sorting and
//! paging), a contact with the form to record what happened, and the
//! pregnancy changes a nurse makes from the family page (new EDD, loss, move).

// A page handler's error *is* a page (a `Response`); boxing it would buy nothing.
#![allow(clippy::result_large_err)]

use crate::base::chrome::{page_error, redirect, render, signed_in, unwrap_page, Chrome, FormData, OrPage, PageResult};
use crate::base::error::AppError;
use crate::base::session::{actor_of, audit_ctx, RequestCtx};
use crate::base::views::ContactLine;
use crate::base::AppState;
use crate::timeline::{OutcomeInput, Shown, Whose, WorkListParams, WorkListView};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use std::collections::HashMap;
use tsunagu_domain::clock::japan_date;
use tsunagu_domain::records::{EddChangeInput, PregnancyEndInput};
use tsunagu_domain::timeline::{ChipCount, ContactForm, ContactKind, CHIP_COUNT_CAP};
use tsunagu_domain::{ContactId, FamilyId, PregnancyId};
use tsunagu_store::WorkSort;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/worklist", get(work_list_page))
        .route("/contacts/{id}", get(contact_page).post(contact_submit))
        .route("/families/{id}/pregnancies/{pregnancy}/edd", post(edd_submit))
        .route("/families/{id}/pregnancies/{pregnancy}/end", post(end_submit))
}

// --- the work list -----------------------------------------------------------------

#[derive(Template)]
#[template(path = "worklist.html")]
struct WorkListPage {
    chrome: Chrome,
    view: WorkListView,
    lines: Vec<ContactLine>,
    areas: Vec<(i64, String)>,
    kinds: Vec<&'static str>,
    sorts: Vec<&'static str>,
    notice: Option<&'static str>,
    may_widen: bool,
}

impl WorkListPage {
    /// The chips: each contact list's count exact up to the cap, then
    /// 「999件以上」 (#16); the follow-ups (a bounded read) exact.
    fn tabs(&self) -> Vec<(&'static str, ChipCount)> {
        let c = &self.view.counts;
        let chip = |n| ChipCount::of(n, CHIP_COUNT_CAP);
        let mut tabs = vec![
            ("overdue", chip(c.overdue)),
            ("due_this_week", chip(c.due_this_week)),
            ("missed", chip(c.missed)),
            ("check_non_attendees", chip(c.check_non_attendees)),
        ];
        // The follow-ups are the chip of those who work on referrals.
        if self.view.manages_referrals {
            tabs.push(("urgent", ChipCount::Exact(self.view.urgent_count as u64)));
        }
        tabs
    }

    fn shown(&self) -> &'static str {
        self.view.request.shown.as_str()
    }

    fn is_current(&self, name: &str) -> bool {
        name == self.shown()
    }

    fn is_urgent_name(&self, name: &str) -> bool {
        name == "urgent"
    }

    fn is_urgent(&self) -> bool {
        self.view.request.shown == Shown::Urgent
    }

    fn whose(&self) -> &'static str {
        self.view.request.whose.as_str()
    }

    fn area_is(&self, id: &i64) -> bool {
        self.view.request.area.is_some_and(|a| a.0 == *id)
    }

    fn kind_is(&self, k: &&'static str) -> bool {
        self.view.request.kind.is_some_and(|x| x.as_str() == *k)
    }

    fn sort_is(&self, s: &&'static str) -> bool {
        self.view.request.sort.as_str() == *s
    }

    /// The query string of this list with another list or page.
    fn link(&self, list: &str, page: u32) -> String {
        let r = &self.view.request;
        let mut q = format!("/worklist?list={list}&whose={}", r.whose.as_str());
        if let Some(a) = r.area {
            q.push_str(&format!("&area={}", a.0));
        }
        if let Some(k) = r.kind {
            q.push_str(&format!("&kind={}", k.as_str()));
        }
        q.push_str(&format!("&sort={}", r.sort.as_str()));
        if page > 1 {
            q.push_str(&format!("&page={page}"));
        }
        q
    }

    fn page_link(&self, delta: i32) -> String {
        let page = self.view.request.page.saturating_add_signed(delta).max(1);
        self.link(self.shown(), page)
    }

    fn here(&self) -> String {
        self.link(self.shown(), self.view.request.page)
    }

    /// [`Self::here`] as a query-string value (for `?back=`).
    fn here_encoded(&self) -> String {
        let mut out = String::new();
        for c in self.here().chars() {
            match c {
                '&' => out.push_str("%26"),
                '?' => out.push_str("%3F"),
                '=' => out.push_str("%3D"),
                '#' => out.push_str("%23"),
                c => out.push(c),
            }
        }
        out
    }

    fn first_page(&self) -> bool {
        self.view.request.page <= 1
    }
}

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(flatten)]
    params: HashMap<String, String>,
}

fn sorted_areas(names: &HashMap<i64, String>) -> Vec<(i64, String)> {
    let mut v: Vec<(i64, String)> = names.iter().map(|(k, v)| (*k, v.clone())).collect();
    v.sort();
    v
}

async fn work_list_page(State(state): State<AppState>, ctx: RequestCtx, Query(q): Query<ListQuery>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let actor = actor_of(account);
            let p = &q.params;
            let params = WorkListParams {
                list: p.get("list").cloned(),
                whose: p.get("whose").cloned(),
                area: p.get("area").cloned(),
                kind: p.get("kind").cloned(),
                sort: p.get("sort").cloned(),
                page: p.get("page").cloned(),
            };
            let mut req = params.check().or_page(&ctx)?;
            // "An area" with no area chosen yet: the first of the caller's own.
            if req.whose == Whose::Area && req.area.is_none() {
                req.area = actor.areas.first().copied();
            }
            let today = japan_date(ctx.now);
            let audit = audit_ctx(account, &ctx.remote_addr, "work list", ctx.now);
            let view = crate::timeline::work_list(&state, &actor, &audit, req, today).await.or_page(&ctx)?;
            let names = crate::base::chrome::area_names(
                &state.store.areas(account.municipality_id).await.or_page(&ctx)?,
                ctx.lang,
            );
            let lines = view.rows.iter().cloned().map(|r| ContactLine::of(r, today, &names)).collect();
            let access = tsunagu_domain::timeline::work_list_access(&actor);
            let notice = p.get("done").map(|_| "wl.saved");
            Ok(render(
                &WorkListPage {
                    chrome: Chrome::new(&ctx, "/worklist", "wl.title"),
                    view,
                    lines,
                    areas: sorted_areas(&names),
                    kinds: ContactKind::ALL.iter().map(|k| k.as_str()).collect(),
                    sorts: WorkSort::ALL.iter().map(|s| s.as_str()).collect(),
                    notice,
                    may_widen: access.is_some_and(|a| a.may_widen),
                },
                StatusCode::OK,
            ))
        }
        .await,
    )
}

// --- one contact ---------------------------------------------------------------------

#[derive(Template)]
#[template(path = "contact.html")]
struct ContactPage {
    chrome: Chrome,
    line: ContactLine,
    forms: Vec<&'static str>,
    may_record: bool,
    back: String,
    errors: tsunagu_domain::validation::FieldErrors,
    values: HashMap<String, String>,
    form_error: Option<String>,
    /// Today in Japan: the latest day a contact may be given.
    today: jiff::civil::Date,
}

impl ContactPage {
    fn err(&self, field: &str) -> Option<&'static str> {
        self.errors.for_field(field).map(|c| crate::i18n::t(self.chrome.tr.0, &format!("err.{c}")))
    }

    fn v(&self, k: &str) -> &str {
        self.values.get(k).map(String::as_str).unwrap_or("")
    }

    /// The fields with an error, as the banner names them (#10): (the
    /// field's element id, its label in the reader's words), in the form's order.
    fn error_fields(&self) -> Vec<(String, &'static str)> {
        let tr = self.chrome.tr;
        // The form's choices depend on the contact: the banner links to the first.
        let first_form = format!("form-{}", self.forms.first().copied().unwrap_or_default());
        [
            ("outcome", "outcome-done".to_owned(), "contact.outcome"),
            ("form", first_form, "contact.form"),
            ("attempts", "attempts".to_owned(), "contact.attempts"),
            ("contacted_on", "contacted-on".to_owned(), "contact.contacted_on"),
            ("note", "note".to_owned(), "contact.note"),
            ("audience", "note-audience".to_owned(), "note.audience"),
        ]
        .into_iter()
        .filter(|(field, _, _)| self.errors.for_field(field).is_some())
        .map(|(_, id, label)| (id, tr.t(label)))
        .collect()
    }

    /// Where the contact's rule comes from, in the reader's words (the
    /// domain's `ContactKind::source` is the seed's note, for the API).
    fn source(&self) -> &'static str {
        self.chrome.tr.tk("kind.source.", self.line.row.contact.kind.as_str())
    }

    fn owner(&self) -> &'static str {
        self.line.row.contact.kind.owner().as_str()
    }

    fn requires_whereabouts(&self) -> bool {
        self.line.row.contact.kind.requires_whereabouts()
    }
}

/// Where to go back to after recording: a page of ours only (`local_path`).
fn local_back(back: Option<&str>) -> String {
    back.and_then(crate::base::local_path::safe_local_path).unwrap_or("/worklist").to_owned()
}

#[derive(Deserialize, Default)]
struct BackQuery {
    #[serde(default)]
    back: Option<String>,
}

async fn contact_context(
    state: &AppState,
    ctx: &RequestCtx,
    id: &str,
) -> Result<(tsunagu_store::Account, ContactLine, bool), Response> {
    let account = signed_in(ctx)?.clone();
    let actor = actor_of(&account);
    let id = id.parse::<i64>().map(ContactId).map_err(|_| page_error(ctx, AppError::NotFound))?;
    let audit = audit_ctx(&account, &ctx.remote_addr, "contact", ctx.now);
    let (family, row) = crate::timeline::contact_for(state, &actor, &audit, id).await.or_page(ctx)?;
    // The contact page is the staff's: a family opening it by URL is refused
    // (its own view is /me).
    use tsunagu_domain::policy::{authorize, Action, Resource};
    crate::base::chrome::require(ctx, authorize(&actor, Action::ViewOfficeNotes, &Resource::Family(&family)))?;
    let names =
        crate::base::chrome::area_names(&state.store.areas(account.municipality_id).await.or_page(ctx)?, ctx.lang);
    let may = crate::timeline::may_record_on(&actor, &family, row.contact.kind).is_allowed();
    Ok((account, ContactLine::of(row, japan_date(ctx.now), &names), may))
}

/// What a submitted form brings back to the page: the problems, the values
/// typed, a message above the form.
#[derive(Default)]
struct Filled {
    errors: tsunagu_domain::validation::FieldErrors,
    values: HashMap<String, String>,
    form_error: Option<String>,
}

fn contact_render(
    ctx: &RequestCtx,
    line: ContactLine,
    may: bool,
    back: String,
    filled: Filled,
    status: StatusCode,
) -> Response {
    let Filled { errors, values, form_error } = filled;
    let here = format!("/contacts/{}", line.row.contact.id);
    let forms = line.row.contact.kind.forms().iter().map(|f: &ContactForm| f.as_str()).collect();
    render(
        &ContactPage {
            chrome: Chrome::new(ctx, &here, "contact.title"),
            line,
            forms,
            may_record: may,
            back,
            errors,
            values,
            form_error,
            today: japan_date(ctx.now),
        },
        status,
    )
}

async fn contact_page(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
    Query(q): Query<BackQuery>,
) -> Response {
    unwrap_page(
        async {
            let (_, line, may) = contact_context(&state, &ctx, &id).await?;
            let back = local_back(q.back.as_deref());
            Ok(contact_render(&ctx, line, may, back, Filled::default(), StatusCode::OK))
        }
        .await,
    )
}

async fn contact_submit(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Response {
    unwrap_page(
        async {
            // Recorded first, decided on what the policy needs (the contact's
            // family and kind): the change is the one audit line. The contact
            // is read only to show the form again.
            let account = signed_in(&ctx)?.clone();
            let contact = id.parse::<i64>().map(ContactId).map_err(|_| page_error(&ctx, AppError::NotFound))?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let back = local_back(Some(form.get("back")));
            let input = OutcomeInput {
                outcome: form.get("outcome").to_owned(),
                form: form.opt("form"),
                attempts: form.opt("attempts").and_then(|a| a.parse().ok()),
                note: form.get("note").to_owned(),
                audience: form.opt("audience"),
                contacted_on: form.opt("contacted_on"),
            };
            let actor = actor_of(&account);
            let audit = audit_ctx(&account, &ctx.remote_addr, "record outcome", ctx.now);
            match crate::timeline::record_outcome(&state, &actor, &audit, contact, &input).await {
                Ok(_) => {
                    let sep = if back.contains('?') { '&' } else { '?' };
                    Ok(redirect(&format!("{back}{sep}done=outcome")))
                }
                Err(AppError::Invalid(errors)) => {
                    let (_, line, may) = contact_context(&state, &ctx, &id).await?;
                    Ok(contact_render(
                        &ctx,
                        line,
                        may,
                        back,
                        Filled { errors, values: form.map(), form_error: None },
                        StatusCode::UNPROCESSABLE_ENTITY,
                    ))
                }
                Err(AppError::Conflict(code)) => {
                    let msg = crate::i18n::t(ctx.lang, &format!("err.{code}")).to_owned();
                    // Show the contact as it is now (somebody else recorded it).
                    let (_, line, may) = contact_context(&state, &ctx, &id).await?;
                    Ok(contact_render(
                        &ctx,
                        line,
                        may,
                        back,
                        Filled { form_error: Some(msg), ..Filled::default() },
                        StatusCode::CONFLICT,
                    ))
                }
                Err(e) => Err(page_error(&ctx, e)),
            }
        }
        .await,
    )
}

// --- pregnancy changes from the family page ---------------------------------------------

fn ids(ctx: &RequestCtx, id: &str, pregnancy: &str) -> Result<(FamilyId, PregnancyId), Response> {
    let f = id.parse::<i64>().map(FamilyId).map_err(|_| page_error(ctx, AppError::NotFound))?;
    let p = pregnancy.parse::<i64>().map(PregnancyId).map_err(|_| page_error(ctx, AppError::NotFound))?;
    Ok((f, p))
}

/// After a change: back to the family page with a notice, or with the
/// first problem named in the reader's language.
fn after_change(ctx: &RequestCtx, family: FamilyId, r: Result<(), AppError>) -> PageResult {
    match r {
        Ok(()) => Ok(redirect(&format!("/families/{family}?saved=pregnancy#timeline"))),
        Err(AppError::Invalid(e)) => {
            let code = e.0.first().map(|f| f.code).unwrap_or("invalid_input");
            Ok(redirect(&format!("/families/{family}?error=pregnancy.{code}#pregnancies")))
        }
        Err(AppError::Conflict(code)) => {
            Ok(redirect(&format!("/families/{family}?error=pregnancy.{code}#pregnancies")))
        }
        Err(e) => Err(page_error(ctx, e)),
    }
}

async fn edd_submit(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path((id, pregnancy)): Path<(String, String)>,
    Form(form): Form<FormData>,
) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let (family, pregnancy) = ids(&ctx, &id, &pregnancy)?;
            let audit = audit_ctx(account, &ctx.remote_addr, "change EDD", ctx.now);
            let input = EddChangeInput { edd: form.get("edd").to_owned() };
            let r = crate::timeline::change_edd(&state, &actor_of(account), &audit, family, pregnancy, &input).await;
            after_change(&ctx, family, r)
        }
        .await,
    )
}

async fn end_submit(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path((id, pregnancy)): Path<(String, String)>,
    Form(form): Form<FormData>,
) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let (family, pregnancy) = ids(&ctx, &id, &pregnancy)?;
            let audit = audit_ctx(account, &ctx.remote_addr, "end pregnancy", ctx.now);
            let input = PregnancyEndInput { ending: form.get("ending").to_owned(), on: form.get("on").to_owned() };
            let today = japan_date(ctx.now);
            let r =
                crate::timeline::end_pregnancy(&state, &actor_of(account), &audit, family, pregnancy, &input, today)
                    .await;
            after_change(&ctx, family, r)
        }
        .await,
    )
}
