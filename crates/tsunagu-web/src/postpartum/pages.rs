//! Postpartum-care pages: a family applies (seeing the quote and whether it
//! is eligible before it submits), a nurse reviews, a facility sees its
//! stays and records each day, and the yearly figures.

// A page handler's error *is* a page (a `Response`); boxing it would buy nothing.
#![allow(clippy::result_large_err)]

use crate::base::chrome::{
    page_error, redirect, render, require, signed_in, unwrap_page, Chrome, FormData, OrPage, PageResult,
};
use crate::base::error::{permit_municipality, AppError};
use crate::base::session::{actor_of, audit_ctx, RequestCtx};
use crate::base::AppState;
use crate::i18n::Lang;
use crate::postpartum::{ApplicationInput, FacilityFigures, Figures, Prepared};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use std::collections::HashMap;
use tsunagu_domain::fiscal::FiscalYear;
use tsunagu_domain::policy::{authorize, Action, Resource};
use tsunagu_domain::postpartum::application::{latest_babies, Application, ApplicationAnswers};
use tsunagu_domain::postpartum::day_record::CareGiven;
use tsunagu_domain::postpartum::fees::Quote;
use tsunagu_domain::postpartum::month::{main_service, month_of, month_places, stay_when, weeks, DayPlaces, StayWhen};
use tsunagu_domain::postpartum::ServiceType;
use tsunagu_domain::validation::FieldErrors;
use tsunagu_domain::{ApplicationId, FamilyId};
use tsunagu_store::{ApplicationFilter, PostpartumFacility, StayNote};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/postpartum", get(index))
        .route("/postpartum/apply", get(apply_page).post(apply_submit))
        .route("/postpartum/applications/{id}", get(application_page))
        .route("/postpartum/applications/{id}/{decision}", post(application_decide))
        .route("/postpartum/figures", get(figures_page))
        .route("/postpartum/facilities", get(facilities_page))
        .route("/postpartum/facilities/{venue}/{op}", post(facilities_change))
}

fn name<'a>(lang: Lang, ja: &'a str, en: &'a str) -> &'a str {
    if lang == Lang::Ja {
        ja
    } else {
        en
    }
}

/// An application as a row of a list.
pub struct Row {
    pub app: Application,
    pub facility: String,
}

async fn rows(state: &AppState, ctx: &RequestCtx, list: Vec<Application>) -> Result<Vec<Row>, Response> {
    let account = signed_in(ctx)?;
    let facilities = state.store.postpartum_facilities(account.municipality_id).await.or_page(ctx)?;
    Ok(list
        .into_iter()
        .map(|app| {
            let facility = facilities
                .iter()
                .find(|f| f.venue.id == app.venue_id)
                .map(|f| name(ctx.lang, &f.venue.name_ja, &f.venue.name_en).to_owned())
                .unwrap_or_default();
            Row { app, facility }
        })
        .collect())
}

#[derive(Template)]
#[template(path = "postpartum.html")]
struct IndexPage {
    chrome: Chrome,
    rows: Vec<Row>,
    /// For a family: may apply (has a baby on record).
    can_apply: bool,
    notice: Option<&'static str>,
    /// A facility's own view (#10): its stays by today and its month.
    facility: Option<FacilityDesk>,
}

/// What a facility's staff plan their days by (#10): the stays of today,
/// the coming ones (soonest first) and the past ones (latest first), and a
/// month of places taken / places.
struct FacilityDesk {
    today: Vec<Row>,
    upcoming: Vec<Row>,
    past: Vec<Row>,
    /// The month shown: its first day, and the months before and after as `YYYY-MM`.
    month: jiff::civil::Date,
    prev: String,
    next: String,
    weeks: Vec<[Option<DayPlaces>; 7]>,
}

impl IndexPage {
    fn month_title(&self, d: &jiff::civil::Date) -> String {
        self.chrome.dates.month(d.year(), d.month())
    }

    /// The facility's three lists: (element id, title key, rows).
    fn desk_lists(&self) -> Vec<(&'static str, &'static str, &[Row])> {
        match &self.facility {
            Some(f) => vec![
                ("stays-today", "pp.stays_today", &f.today),
                ("stays-upcoming", "pp.stays_upcoming", &f.upcoming),
                ("stays-past", "pp.stays_past", &f.past),
            ],
            None => vec![],
        }
    }

    /// A calendar cell's class: closed, full, or with places left.
    fn day_class(&self, d: &DayPlaces) -> &'static str {
        if !d.open() {
            "closed"
        } else if d.full() {
            "full"
        } else {
            "open"
        }
    }

    fn day_of_month(&self, d: &DayPlaces) -> i8 {
        d.day.day()
    }
}

#[derive(Deserialize)]
struct IndexQuery {
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    error: Option<String>,
    /// The facility's calendar month, `YYYY-MM` (this month by default).
    #[serde(default)]
    month: Option<String>,
}

/// A month asked for as `YYYY-MM`: its first day.
fn month_asked(s: &str) -> Option<jiff::civil::Date> {
    let (y, m) = s.trim().split_once('-')?;
    jiff::civil::Date::new(y.parse().ok()?, m.parse().ok()?, 1).ok()
}

fn month_key(d: jiff::civil::Date) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

/// The facility's desk: its rows split by today, and the month's places
/// (counts of places, no person: not audited).
async fn facility_desk(
    state: &AppState,
    ctx: &RequestCtx,
    venue: tsunagu_domain::VenueId,
    rows: Vec<Row>,
    month: Option<&str>,
) -> Result<FacilityDesk, Response> {
    let account = signed_in(ctx)?;
    let today = tsunagu_domain::clock::japan_date(ctx.now);
    let (mut today_rows, mut upcoming, mut past) = (vec![], vec![], vec![]);
    for r in rows {
        match stay_when(r.app.stay, today) {
            StayWhen::Today => today_rows.push(r),
            StayWhen::Upcoming => upcoming.push(r),
            StayWhen::Past => past.push(r),
        }
    }
    today_rows.sort_by_key(|r| (r.app.stay.first(), r.app.id));
    upcoming.sort_by_key(|r| (r.app.stay.first(), r.app.id));
    past.sort_by(|a, b| b.app.stay.last().cmp(&a.app.stay.last()).then(b.app.id.cmp(&a.app.id)));
    let asked = match month.filter(|m| !m.trim().is_empty()) {
        Some(m) => month_asked(m).ok_or_else(|| page_error(ctx, AppError::BadRequest("bad_query")))?,
        None => today,
    };
    let range = month_of(asked);
    let facilities = state.store.postpartum_facilities(account.municipality_id).await.or_page(ctx)?;
    let mut taken = Vec::new();
    let mut days = Vec::new();
    let found = facilities.iter().find(|f| f.venue.id == venue);
    if let Some((f, service)) = found.and_then(|f| main_service(&f.calendar).map(|s| (f, s))) {
        let pools = f.calendar.pools();
        if let Some(pool) = pools.iter().position(|p| p.services.contains(&service)) {
            let pool = u32::try_from(pool).unwrap_or(u32::MAX);
            taken = state.store.places_taken(account.municipality_id, venue, pool, range).await.or_page(ctx)?;
        }
        days = month_places(&f.calendar, service, range, &taken);
    }
    let prev = tsunagu_domain::dates::add_days(range.first(), -1).map(month_key).unwrap_or_default();
    let next = tsunagu_domain::dates::add_days(range.last(), 1).map(month_key).unwrap_or_default();
    Ok(FacilityDesk { today: today_rows, upcoming, past, month: range.first(), prev, next, weeks: weeks(&days) })
}

async fn index(State(state): State<AppState>, ctx: RequestCtx, Query(q): Query<IndexQuery>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let actor = actor_of(account);
            // The reviewer's list opens on what waits for review.
            let reviews = permit_municipality(&actor, Action::ReviewPostpartum).is_ok();
            let default_status = reviews.then_some("applied");
            let status = q.status.as_deref().or(default_status).filter(|s| *s != "all");
            let (allowed, filter): (_, ApplicationFilter) =
                crate::postpartum::application_filter(&state, &actor, status, None, None).await.or_page(&ctx)?;
            let audit = audit_ctx(account, &ctx.remote_addr, "postpartum list", ctx.now).allowed(&allowed);
            let mut list =
                crate::postpartum::applications_shown(&state, &actor, &audit, &filter).await.or_page(&ctx)?;
            // By the stays' dates, latest first: what a facility plans its days by.
            list.sort_by(|a, b| b.stay.first().cmp(&a.stay.first()).then(b.id.cmp(&a.id)));
            let mut rows = rows(&state, &ctx, list).await?;
            // A facility's staff see their stays by today and the month's places (#10).
            let facility = match (actor.family_id, filter.venue_id) {
                (None, Some(venue)) if !reviews => {
                    let desk =
                        facility_desk(&state, &ctx, venue, std::mem::take(&mut rows), q.month.as_deref()).await?;
                    Some(desk)
                }
                _ => None,
            };
            let notice = match q.done.as_deref() {
                Some("applied") => Some("pp.applied"),
                Some(_) => Some("pp.updated"),
                None => None,
            };
            // A family applies for itself (the mother; her partner when she shares).
            let can_apply = match actor.family_id {
                Some(own) => state
                    .store
                    .family_access(actor.municipality_id, own)
                    .await
                    .or_page(&ctx)?
                    .is_some_and(|f| authorize(&actor, Action::ApplyPostpartum, &Resource::Family(&f)).is_allowed()),
                None => false,
            };
            Ok(render(
                &IndexPage { chrome: Chrome::new(&ctx, "/postpartum", "pp.title"), rows, can_apply, notice, facility },
                StatusCode::OK,
            ))
        }
        .await,
    )
}

#[derive(Template)]
#[template(path = "postpartum_apply.html")]
struct ApplyPage {
    chrome: Chrome,
    family_id: Option<FamilyId>,
    facilities: Vec<(i64, String, Vec<&'static str>)>,
    values: HashMap<String, String>,
    errors: FieldErrors,
    preview: Option<Prepared>,
    form_error: Option<String>,
    may_override: bool,
}

impl ApplyPage {
    fn v(&self, k: &str) -> &str {
        self.values.get(k).map(String::as_str).unwrap_or("")
    }

    fn checked(&self, k: &str) -> bool {
        matches!(self.v(k), "on" | "true" | "1")
    }

    fn err(&self, k: &str) -> Option<String> {
        self.errors.for_field(k).map(|c| explain(self.chrome.tr.0, c))
    }

    /// `aria-invalid` for a field with an error (the banner links to it).
    fn invalid(&self, k: &str) -> &'static str {
        if self.errors.for_field(k).is_some() {
            "true"
        } else {
            "false"
        }
    }

    /// The fields with an error, as the banner names them (#10): (the
    /// field's element id, its label in the reader's words), in the form's order.
    fn error_fields(&self) -> Vec<(&'static str, &'static str)> {
        let tr = self.chrome.tr;
        [
            ("venue_id", "venue_id", "pp.facility"),
            ("service", "service-short_stay", "pp.service"),
            ("first_day", "first_day", "pp.first_day"),
            ("days", "days", "pp.days"),
            ("babies", "babies", "pp.babies"),
            ("siblings", "siblings", "pp.siblings"),
            ("override_reason", "override_reason", "pp.override_reason"),
        ]
        .into_iter()
        .filter(|(field, _, _)| self.errors.for_field(field).is_some())
        .map(|(_, id, label)| (id, tr.t(label)))
        .collect()
    }

    fn quote(&self) -> Option<&Quote> {
        self.preview.as_ref().map(|p| &p.quote)
    }

    fn refusals(&self) -> Vec<String> {
        self.preview
            .as_ref()
            .map(|p| p.refusals.iter().map(|c| explain(self.chrome.tr.0, c)).collect())
            .unwrap_or_default()
    }

    fn last_eligible_day(&self) -> Option<String> {
        self.preview.as_ref().and_then(|p| p.eligibility.as_ref()).map(|e| self.chrome.date(e.last_eligible_day))
    }

    fn yen(&self, n: &u32) -> String {
        yen(*n)
    }
}

/// 31500 → "31,500".
pub fn yen(n: u32) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Words for a refusal or a field error code (`pp.why.<code>`, else `err.<code>`).
fn explain(lang: Lang, code: &str) -> String {
    let key = format!("pp.why.{code}");
    if crate::i18n::has(&key) {
        crate::i18n::t(lang, &key).to_owned()
    } else {
        crate::i18n::t(lang, &format!("err.{code}")).to_owned()
    }
}

#[derive(Deserialize)]
struct ApplyQuery {
    #[serde(default)]
    family: Option<i64>,
}

fn facility_choices(lang: Lang, facilities: &[PostpartumFacility]) -> Vec<(i64, String, Vec<&'static str>)> {
    facilities
        .iter()
        .map(|f| {
            let services = ServiceType::ALL.iter().filter(|s| f.calendar.offers(**s)).map(|s| s.as_str()).collect();
            (f.venue.id.0, name(lang, &f.venue.name_ja, &f.venue.name_en).to_owned(), services)
        })
        .collect()
}

/// The application form as sent back: values, errors, the preview and a message.
#[derive(Default)]
struct ApplyForm {
    values: HashMap<String, String>,
    errors: FieldErrors,
    preview: Option<Prepared>,
    form_error: Option<String>,
}

async fn apply_view(
    state: &AppState,
    ctx: &RequestCtx,
    family_id: Option<FamilyId>,
    form: ApplyForm,
    status: StatusCode,
) -> PageResult {
    let ApplyForm { values, errors, preview, form_error } = form;
    let account = signed_in(ctx)?;
    let facilities = state.store.postpartum_facilities(account.municipality_id).await.or_page(ctx)?;
    let page = ApplyPage {
        chrome: Chrome::new(ctx, "/postpartum/apply", "pp.apply_title"),
        family_id,
        facilities: facility_choices(ctx.lang, &facilities),
        values,
        errors,
        preview,
        form_error,
        // Going ahead despite a refusal is the reviewer's (`submit` asks the same).
        may_override: permit_municipality(&actor_of(account), Action::ReviewPostpartum).is_ok(),
    };
    Ok(render(&page, status))
}

async fn apply_page(State(state): State<AppState>, ctx: RequestCtx, Query(q): Query<ApplyQuery>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let actor = actor_of(account);
            // Only a family member's account belongs to a family: it applies
            // for its own; staff name the family. The policy decides either way.
            let family =
                account.family_id.or(q.family.map(FamilyId)).ok_or_else(|| page_error(&ctx, AppError::Forbidden))?;
            let (_, allowed) =
                crate::base::access::family_for(&state, &actor, family, Action::ApplyPostpartum).await.or_page(&ctx)?;
            // Prefill the number of babies from the record (twins come as two).
            let audit = audit_ctx(account, &ctx.remote_addr, "postpartum application", ctx.now).allowed(&allowed);
            let record = state
                .store
                .open_family(&audit, family)
                .await
                .or_page(&ctx)?
                .ok_or_else(|| page_error(&ctx, AppError::NotFound))?;
            let mut values = HashMap::new();
            values.insert("babies".to_owned(), latest_babies(&record).len().max(1).to_string());
            values.insert("days".to_owned(), "3".to_owned());
            values.insert("service".to_owned(), "short_stay".to_owned());
            values.insert(
                "first_day".to_owned(),
                state.clock.today().saturating_add(jiff::Span::new().days(7)).to_string(),
            );
            apply_view(&state, &ctx, Some(family), ApplyForm { values, ..ApplyForm::default() }, StatusCode::OK).await
        }
        .await,
    )
}

fn input_from(form: &FormData) -> (ApplicationInput, FieldErrors) {
    let mut errors = FieldErrors::default();
    let mut num = |k: &'static str| -> i64 {
        form.get(k).trim().parse::<i64>().unwrap_or_else(|_| {
            errors.add(k, "out_of_range");
            0
        })
    };
    let venue_id = num("venue_id");
    let days = num("days");
    let babies = num("babies");
    let siblings = if form.get("siblings").trim().is_empty() { 0 } else { num("siblings") };
    // An id that does not read is the field's error, never "no family".
    let family_id = form.opt_id("family_id").unwrap_or_else(|_| {
        errors.add("family_id", "not_an_id");
        None
    });
    let input = ApplicationInput {
        family_id,
        venue_id,
        service: form.get("service").to_owned(),
        first_day: form.get("first_day").to_owned(),
        days: u32::try_from(days).unwrap_or(0),
        babies: u8::try_from(babies).unwrap_or(0),
        siblings: u8::try_from(siblings).unwrap_or(u8::MAX),
        answers: ApplicationAnswers {
            rolls_over_actively: form.checked("rolls_over_actively"),
            needs_medical_treatment: form.checked("needs_medical_treatment"),
            has_worries_or_fatigue: form.checked("has_worries_or_fatigue"),
            lacks_help_from_relatives: form.checked("lacks_help_from_relatives"),
            grandparents_nearby: form.checked("grandparents_nearby"),
        },
        override_reason: form.opt("override_reason"),
        siblings_confirmed: form.checked("siblings_confirmed"),
    };
    (input, errors)
}

async fn apply_submit(State(state): State<AppState>, ctx: RequestCtx, Form(form): Form<FormData>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let actor = actor_of(account);
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let (input, errors) = input_from(&form);
            let family = account.family_id.or(input.family_id.map(FamilyId));
            let values = form.map();
            let view =
                |errors: FieldErrors, preview: Option<Prepared>, form_error: Option<String>, status: StatusCode| {
                    let form = ApplyForm { values: values.clone(), errors, preview, form_error };
                    apply_view(&state, &ctx, family, form, status)
                };
            if !errors.is_empty() {
                return view(errors, None, None, StatusCode::UNPROCESSABLE_ENTITY).await;
            }
            // What a refusal shows: the fields, the reason, the preview when it got that far.
            let refused = |e: AppError, prepared: Option<Prepared>, mut errors: FieldErrors| async {
                match e {
                    AppError::Invalid(e) => view(e, None, None, StatusCode::UNPROCESSABLE_ENTITY).await,
                    AppError::BadRequest(code) => {
                        view(FieldErrors::default(), None, Some(explain(ctx.lang, code)), StatusCode::BAD_REQUEST).await
                    }
                    AppError::Conflict("not_eligible") => {
                        errors.add("override_reason", "required");
                        let msg = explain(ctx.lang, "not_eligible");
                        view(errors, prepared, Some(msg), StatusCode::UNPROCESSABLE_ENTITY).await
                    }
                    e => Err(page_error(&ctx, e)),
                }
            };
            if form.get("action") != "submit" {
                // A preview: checked and priced on the record, nothing stored.
                return match crate::postpartum::prepare(&state, account, &actor, &ctx.remote_addr, &input).await {
                    Ok(p) => view(FieldErrors::default(), Some(p), None, StatusCode::OK).await,
                    Err(e) => refused(e, None, errors).await,
                };
            }
            match crate::postpartum::apply(&state, account, &actor, &ctx.remote_addr, &input).await {
                (Ok(id), _) => Ok(redirect(&format!("/postpartum/applications/{id}?done=applied"))),
                (Err(e), prepared) => refused(e, prepared, errors).await,
            }
        }
        .await,
    )
}

#[derive(Template)]
#[template(path = "postpartum_application.html")]
struct ApplicationPage {
    chrome: Chrome,
    row: Row,
    notes: Vec<StayNote>,
    /// The days the facility recorded as used.
    used_days: Vec<jiff::civil::Date>,
    can_review: bool,
    can_note: bool,
    can_cancel: bool,
    /// The reader may read (and write) notes for the office: staff.
    office: bool,
    /// Facility staff may alert the family's nurse; what they raised so far.
    can_alert: bool,
    alerts: Vec<tsunagu_store::StoredReferral>,
    notice: Option<&'static str>,
    form_error: Option<String>,
    /// What the reviewer decides on (#10): for those who review only.
    review: Option<crate::postpartum::Review>,
    /// The day a day's record opens on (today within the stay, else its
    /// first day) and the last day it takes (today, or the stay's last).
    record_day: jiff::civil::Date,
    record_max: jiff::civil::Date,
    /// The stay's first day has come: there is a day to record.
    record_open: bool,
    care_choices: [CareGiven; 8],
}

impl ApplicationPage {
    fn refusals(&self) -> Vec<String> {
        self.row.app.refusals.iter().map(|c| explain(self.chrome.tr.0, c)).collect()
    }

    /// The family's situation answers, as asked on the form: (key of the
    /// question, answered yes).
    fn answers(&self) -> Vec<(&'static str, bool)> {
        let a = &self.row.app.answers;
        vec![
            ("pp.q.worries", a.has_worries_or_fatigue),
            ("pp.q.no_help", a.lacks_help_from_relatives),
            ("pp.q.grandparents", a.grandparents_nearby),
            ("pp.q.rolls_over", a.rolls_over_actively),
            ("pp.q.medical", a.needs_medical_treatment),
        ]
    }

    /// Today's eligibility reasons, in the reader's words.
    fn reasons_today(&self) -> Vec<String> {
        self.review
            .as_ref()
            .and_then(|r| r.eligibility.as_ref())
            .map(|e| e.codes().into_iter().map(|c| explain(self.chrome.tr.0, c)).collect())
            .unwrap_or_default()
    }

    fn eligible_today(&self) -> bool {
        self.review.as_ref().and_then(|r| r.eligibility.as_ref()).is_some_and(|e| e.is_eligible())
    }

    fn last_eligible_day(&self) -> String {
        self.review
            .as_ref()
            .and_then(|r| r.eligibility.as_ref())
            .map(|e| e.last_eligible_day.to_string())
            .unwrap_or_default()
    }

    fn questionnaire(&self, id: &str) -> &'static str {
        crate::base::screening_words::title(self.chrome.tr.0, id)
    }

    fn result_of(&self, s: &tsunagu_store::StoredScreening) -> &'static str {
        if s.urgent {
            "urgent"
        } else if s.positive {
            "positive"
        } else {
            "negative"
        }
    }

    fn entered_on(&self, s: &tsunagu_store::StoredScreening) -> String {
        tsunagu_domain::clock::japan_date(s.entered_at).to_string()
    }

    fn raised_on(&self, r: &tsunagu_store::StoredReferral) -> String {
        tsunagu_domain::clock::japan_date(r.raised_at).to_string()
    }

    fn yen(&self, n: &u32) -> String {
        yen(*n)
    }

    fn used(&self, d: &jiff::civil::Date) -> bool {
        self.used_days.contains(d)
    }
}

async fn application_view(
    state: &AppState,
    ctx: &RequestCtx,
    id: ApplicationId,
    notice: Option<&'static str>,
    form_error: Option<String>,
    status: StatusCode,
) -> PageResult {
    let account = signed_in(ctx)?;
    let actor = actor_of(account);
    let audit = audit_ctx(account, &ctx.remote_addr, "postpartum application", ctx.now);
    let can_review =
        authorize(&actor, Action::ReviewPostpartum, &Resource::Municipality(actor.municipality_id)).is_allowed();
    // A reviewer reads what the decision needs with the application, as one.
    let (access, app, notes, used_days, review) = if can_review {
        let (access, app, notes, used, review) =
            crate::postpartum::application_reviewed(state, &actor, &audit, id).await.or_page(ctx)?;
        (access, app, notes, used, Some(review))
    } else {
        let (access, app, notes, used) =
            crate::postpartum::application_shown(state, &actor, &audit, id).await.or_page(ctx)?;
        (access, app, notes, used, None)
    };
    let facility = Resource::Facility { municipality_id: actor.municipality_id, venue_id: app.venue_id };
    let can_note = authorize(&actor, Action::RecordAtFacility, &facility).is_allowed()
        && app.status == tsunagu_domain::postpartum::application::ApplicationStatus::Approved;
    let open = matches!(
        app.status,
        tsunagu_domain::postpartum::application::ApplicationStatus::Applied
            | tsunagu_domain::postpartum::application::ApplicationStatus::Approved
    );
    let application = Resource::Application { family: &access, facility: app.venue_id };
    let can_cancel = open && authorize(&actor, Action::CancelApplication, &application).is_allowed();
    // Staff choose whom a note is for; a family's own note is for the family.
    let office = authorize(&actor, Action::ViewOfficeNotes, &Resource::Family(&access)).is_allowed();
    // A facility's alert about a stay is raised by whoever records at it.
    let can_alert = authorize(&actor, Action::RecordAtFacility, &facility).is_allowed();
    let alerts = if can_alert {
        crate::base::access::referrals_for(state, &actor, &audit, Some(app.family_id), false)
            .await
            .or_page(ctx)?
            .into_iter()
            .filter(|r| r.application_id == Some(app.id))
            .collect()
    } else {
        vec![]
    };
    let mut rows = rows(state, ctx, vec![app]).await?;
    let row = rows.pop().ok_or_else(|| page_error(ctx, AppError::NotFound))?;
    let here = format!("/postpartum/applications/{id}");
    // A day is recorded once it has come (#10): the form offers the stay's days up to today.
    let today = tsunagu_domain::clock::japan_date(ctx.now);
    let stay = row.app.stay;
    let record_max = today.min(stay.last());
    let record_day = if stay.contains(today) { today } else { stay.first().min(record_max) };
    Ok(render(
        &ApplicationPage {
            chrome: Chrome::new(ctx, &here, "pp.application_title"),
            row,
            notes,
            used_days,
            can_review,
            can_note,
            can_cancel,
            office,
            can_alert,
            alerts,
            notice,
            form_error,
            review,
            record_day,
            record_max,
            record_open: stay.first() <= today,
            care_choices: CareGiven::ALL,
        },
        status,
    ))
}

async fn application_page(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<i64>,
    Query(q): Query<IndexQuery>,
) -> Response {
    let notice = match (q.done.as_deref(), q.error.as_deref()) {
        (Some("applied"), _) => Some("pp.applied"),
        (Some("concern"), _) => Some("ref.raised"),
        (Some(_), _) => Some("pp.updated"),
        (None, Some(_)) => Some("ref.note_required"),
        (None, None) => None,
    };
    unwrap_page(application_view(&state, &ctx, ApplicationId(id), notice, None, StatusCode::OK).await)
}

async fn application_decide(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path((id, decision)): Path<(i64, String)>,
    Form(form): Form<FormData>,
) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let actor = actor_of(account);
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let id = ApplicationId(id);
            let audit = audit_ctx(account, &ctx.remote_addr, &format!("postpartum {decision}"), ctx.now);
            let day = form.opt("day");
            let audience = form.opt("audience");
            let fee_yen = form.opt("fee_yen");
            let care = form.all("care");
            let noted = crate::postpartum::Noted {
                note: form.get("note"),
                audience: audience.as_deref(),
                day: day.as_deref(),
                fee_yen: fee_yen.as_deref(),
                care: &care,
                mother: form.get("mother"),
                baby: form.get("baby"),
            };
            match crate::postpartum::decide(&state, &actor, &audit, id, &decision, noted).await {
                Ok(()) => Ok(redirect(&format!("/postpartum/applications/{id}?done={decision}"))),
                Err(AppError::Conflict(code)) => {
                    application_view(&state, &ctx, id, None, Some(explain(ctx.lang, code)), StatusCode::CONFLICT).await
                }
                Err(AppError::Invalid(e)) => {
                    let msg = e.0.first().map(|f| explain(ctx.lang, f.code)).unwrap_or_default();
                    application_view(&state, &ctx, id, None, Some(msg), StatusCode::UNPROCESSABLE_ENTITY).await
                }
                Err(e) => Err(page_error(&ctx, e)),
            }
        }
        .await,
    )
}

#[derive(Template)]
#[template(path = "postpartum_figures.html")]
struct FiguresPage {
    chrome: Chrome,
    figures: Figures,
    years: Vec<(i32, String)>,
    areas: HashMap<i64, String>,
}

impl FiguresPage {
    fn facility_name<'a>(&self, f: &'a FacilityFigures) -> &'a str {
        name(self.chrome.tr.0, &f.name_ja, &f.name_en)
    }

    fn area(&self, id: &tsunagu_domain::AreaId) -> &str {
        self.areas.get(&id.0).map(String::as_str).unwrap_or("")
    }

    fn users_total(&self) -> u64 {
        self.figures.users_by_area.iter().map(|(_, n)| n).sum()
    }
}

#[derive(Deserialize)]
struct FyQuery {
    #[serde(default)]
    fy: Option<String>,
}

async fn figures_page(State(state): State<AppState>, ctx: RequestCtx, Query(q): Query<FyQuery>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let actor = actor_of(account);
            require(&ctx, authorize(&actor, Action::ViewReports, &Resource::Municipality(actor.municipality_id)))?;
            let this_year = FiscalYear::of(state.clock.today()).or_page_with(&ctx)?;
            let fy = match q.fy.as_deref() {
                Some(s) => FiscalYear::parse(s).map_err(|_| page_error(&ctx, AppError::BadRequest("bad_query")))?,
                None => this_year,
            };
            let figures = crate::postpartum::figures(&state, actor.municipality_id, fy).await.or_page(&ctx)?;
            let years = (0..5)
                .filter_map(|i| FiscalYear::new(this_year.year() - i).ok())
                .map(|y| (y.year(), if ctx.lang == Lang::Ja { y.label_ja() } else { y.label_en() }))
                .collect();
            let areas = state
                .store
                .areas(actor.municipality_id)
                .await
                .or_page(&ctx)?
                .into_iter()
                .map(|a| (a.id.0, name(ctx.lang, &a.name_ja, &a.name_en).to_owned()))
                .collect();
            Ok(render(
                &FiguresPage {
                    chrome: Chrome::new(&ctx, "/postpartum/figures", "pp.figures_title"),
                    figures,
                    years,
                    areas,
                },
                StatusCode::OK,
            ))
        }
        .await,
    )
}

/// A fiscal-year error is a bad request, not a server fault.
trait OrPageWith<T> {
    fn or_page_with(self, ctx: &RequestCtx) -> Result<T, Response>;
}

impl<T, E> OrPageWith<T> for Result<T, E> {
    fn or_page_with(self, ctx: &RequestCtx) -> Result<T, Response> {
        self.map_err(|_| page_error(ctx, AppError::BadRequest("bad_query")))
    }
}

// --- the facilities' days off (the administrator) -------------------------------

#[derive(Template)]
#[template(path = "postpartum_facilities.html")]
struct FacilitiesPage {
    chrome: Chrome,
    facilities: Vec<PostpartumFacility>,
    errors: FieldErrors,
    /// The facility the errors are about.
    error_venue: Option<i64>,
    values: HashMap<String, String>,
    notice: Option<&'static str>,
}

impl FacilitiesPage {
    fn facility_name<'a>(&self, f: &'a PostpartumFacility) -> &'a str {
        name(self.chrome.tr.0, &f.venue.name_ja, &f.venue.name_en)
    }

    fn operator<'a>(&self, f: &'a PostpartumFacility) -> &'a str {
        name(self.chrome.tr.0, &f.operator_ja, &f.operator_en)
    }

    fn err(&self, venue: &tsunagu_domain::VenueId, k: &str) -> Option<String> {
        (self.error_venue == Some(venue.0))
            .then(|| self.errors.for_field(k).map(|c| explain(self.chrome.tr.0, c)))
            .flatten()
    }

    fn v(&self, venue: &tsunagu_domain::VenueId, k: &str) -> &str {
        if self.error_venue == Some(venue.0) {
            self.values.get(k).map(String::as_str).unwrap_or("")
        } else {
            ""
        }
    }
}

async fn facilities_view(
    state: &AppState,
    ctx: &RequestCtx,
    form: Option<(i64, FieldErrors, HashMap<String, String>)>,
    notice: Option<&'static str>,
    status: StatusCode,
) -> PageResult {
    let account = signed_in(ctx)?;
    let actor = actor_of(account);
    require(ctx, authorize(&actor, Action::ConfigureFacilities, &Resource::Municipality(actor.municipality_id)))?;
    let facilities = state.store.postpartum_facilities(actor.municipality_id).await.or_page(ctx)?;
    let (error_venue, errors, values) = match form {
        Some((v, e, values)) => (Some(v), e, values),
        None => (None, FieldErrors::default(), HashMap::new()),
    };
    Ok(render(
        &FacilitiesPage {
            chrome: Chrome::new(ctx, "/postpartum/facilities", "pp.facilities_title"),
            facilities,
            errors,
            error_venue,
            values,
            notice,
        },
        status,
    ))
}

#[derive(Deserialize)]
struct DoneQuery {
    #[serde(default)]
    done: Option<String>,
}

async fn facilities_page(State(state): State<AppState>, ctx: RequestCtx, Query(q): Query<DoneQuery>) -> Response {
    let notice = q.done.is_some().then_some("pp.updated");
    unwrap_page(facilities_view(&state, &ctx, None, notice, StatusCode::OK).await)
}

/// `holidays` (close on public holidays or not), `add_closure` (first,
/// last, reason) or `remove_closure` (index): the facility's calendar is
/// stored again with the change.
async fn facilities_change(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path((venue, op)): Path<(i64, String)>,
    Form(form): Form<FormData>,
) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let actor = actor_of(account);
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let m = actor.municipality_id;
            require(&ctx, authorize(&actor, Action::ConfigureFacilities, &Resource::Municipality(m)))?;
            let facilities = state.store.postpartum_facilities(m).await.or_page(&ctx)?;
            let facility = facilities
                .into_iter()
                .find(|f| f.venue.id.0 == venue)
                .ok_or_else(|| page_error(&ctx, AppError::NotFound))?;
            let mut opening = facility.calendar.opening().clone();
            let mut errors = FieldErrors::default();
            match op.as_str() {
                "holidays" => opening.closed_on_public_holidays = form.checked("closed_on_public_holidays"),
                "add_closure" => {
                    let first = form.get("first").trim().parse::<jiff::civil::Date>();
                    let last = form.get("last").trim().parse::<jiff::civil::Date>();
                    match (first, last) {
                        (Ok(first), Ok(last)) => match tsunagu_domain::dates::DateRange::new(first, last) {
                            Ok(range) => {
                                if let Err(e) = opening.add_closure(range, form.get("reason")) {
                                    errors.add(e.field(), e.code());
                                }
                            }
                            Err(_) => errors.add("last", "out_of_range"),
                        },
                        (first, last) => {
                            if first.is_err() {
                                errors.add("first", "invalid_date");
                            }
                            if last.is_err() {
                                errors.add("last", "invalid_date");
                            }
                        }
                    }
                }
                "remove_closure" => {
                    let index = form.get("index").trim().parse::<usize>().ok().filter(|i| *i < opening.closures.len());
                    match index {
                        Some(i) => {
                            opening.closures.remove(i);
                        }
                        None => return Err(page_error(&ctx, AppError::NotFound)),
                    }
                }
                _ => return Err(page_error(&ctx, AppError::NotFound)),
            }
            if !errors.is_empty() {
                let values = form.map();
                return facilities_view(
                    &state,
                    &ctx,
                    Some((venue, errors, values)),
                    None,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
            let calendar = facility.calendar.with_opening(opening);
            state
                .store
                .set_postpartum_facility(m, facility.venue.id, &facility.operator_ja, &facility.operator_en, &calendar)
                .await
                .or_page(&ctx)?;
            Ok(redirect("/postpartum/facilities?done=1"))
        }
        .await,
    )
}
