//! Staff pages for sessions (#12 stage 3, desktop): for those who manage
//! classes, a programme's sessions per venue with places taken, capacity
//! and status; one session's day, time, length and places, with the errors
//! beside the fields in the reader's language (422, nothing stored); its
//! cancellation as a second, red confirmation step (no script); and a
//! year's sessions from a pattern with a preview before anything is made.
//! Built on the functions the API calls (`manage`, `schedule`).

// A page handler's error *is* a page (a `Response`); boxing it would buy nothing.
#![allow(clippy::result_large_err)]

use super::manage::SessionEditInput;
use super::schedule::{Preview, ScheduleInput, WEEKDAYS};
use crate::base::chrome::{page_error, redirect, render, signed_in, unwrap_page, Chrome, FormData, OrPage, PageResult};
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
use tsunagu_domain::policy::Action;
use tsunagu_domain::validation::FieldErrors;
use tsunagu_domain::{ClassSessionId, ProgrammeId};
use tsunagu_store::ClassSession;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/classes/manage", get(manage_page))
        .route("/classes/sessions/{id}/edit", get(edit_page).post(edit_submit))
        .route("/classes/sessions/{id}/cancel", post(cancel_submit))
        .route("/classes/schedule", get(schedule_page).post(generate_submit))
        .route("/classes/schedule/preview", post(preview_submit))
        .route("/classes/programmes", get(programmes_page))
        .route("/classes/programmes/{id}", get(programme_page).post(programme_submit))
}

/// A choice in a select.
struct Choice {
    value: String,
    label: String,
    chosen: bool,
}

fn programme_name(p: &tsunagu_domain::classes::ProgrammeConfig, lang: Lang) -> String {
    if lang == Lang::Ja {
        p.name_ja.clone()
    } else {
        p.name_en.clone()
    }
}

fn status_key(s: &ClassSession) -> &'static str {
    match s.status() {
        tsunagu_domain::classes::SessionStatus::Open => "cl.status.open",
        tsunagu_domain::classes::SessionStatus::Full => "cl.status.full",
        tsunagu_domain::classes::SessionStatus::Cancelled => "cl.status.cancelled",
    }
}

/// A session on the staff's list.
struct ManagedLine {
    id: i64,
    when: String,
    venue: String,
    taken: u32,
    capacity: u32,
    waiting: u32,
    status: &'static str,
    editable: bool,
    /// Who runs it, by display name (#12).
    staff: String,
}

fn when_of(s: &ClassSession, lang: Lang) -> String {
    let end = s.day.to_datetime(s.starts).saturating_add(jiff::Span::new().minutes(i64::from(s.minutes)));
    format!(
        "{} {}–{}",
        crate::base::dates::Dates::of(lang).date(s.day),
        s.starts.strftime("%H:%M"),
        end.time().strftime("%H:%M")
    )
}

#[derive(Template)]
#[template(path = "class_manage.html")]
struct ManagePage {
    chrome: Chrome,
    programmes: Vec<Choice>,
    venues: Vec<Choice>,
    programme: Option<i64>,
    sessions: Vec<ManagedLine>,
    notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
struct ManageQuery {
    #[serde(default)]
    programme: Option<i64>,
    #[serde(default)]
    venue: Option<i64>,
    #[serde(default)]
    done: Option<String>,
}

fn done_key(d: Option<&str>) -> Option<&'static str> {
    match d? {
        "saved" => Some("cl.manage.done.saved"),
        "cancelled" => Some("cl.manage.done.cancelled"),
        "generated" => Some("cl.manage.done.generated"),
        _ => None,
    }
}

/// A programme's sessions (of one venue, or all) from today on.
async fn manage_page(State(state): State<AppState>, ctx: RequestCtx, Query(q): Query<ManageQuery>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let actor = actor_of(account);
            permit_municipality(&actor, Action::ManageClasses).or_page(&ctx)?;
            let lang = ctx.lang;
            let programmes = state.store.programmes(actor.municipality_id).await.or_page(&ctx)?;
            let chosen = q.programme.or(programmes.first().map(|p| p.id.0));
            let sessions = match chosen {
                Some(p) => super::manage::programme_sessions(&state, &actor, ProgrammeId(p), state.clock.today())
                    .await
                    .or_page(&ctx)?,
                None => vec![],
            };
            let mut venue_ids: Vec<i64> = sessions.iter().map(|s| s.venue_id.0).collect();
            venue_ids.sort_unstable();
            venue_ids.dedup();
            let mut venues = vec![Choice {
                value: String::new(),
                label: crate::i18n::t(lang, "cl.manage.all_venues").to_owned(),
                chosen: q.venue.is_none(),
            }];
            for v in &venue_ids {
                if let Some(s) = sessions.iter().find(|s| s.venue_id.0 == *v) {
                    venues.push(Choice {
                        value: v.to_string(),
                        label: if lang == Lang::Ja { s.venue_name_ja.clone() } else { s.venue_name_en.clone() },
                        chosen: q.venue == Some(*v),
                    });
                }
            }
            let lines = sessions
                .iter()
                .filter(|s| q.venue.is_none_or(|v| s.venue_id.0 == v))
                .map(|s| ManagedLine {
                    id: s.id.0,
                    when: when_of(s, lang),
                    venue: if lang == Lang::Ja { s.venue_name_ja.clone() } else { s.venue_name_en.clone() },
                    taken: s.taken,
                    capacity: s.capacity,
                    waiting: s.waiting,
                    status: status_key(s),
                    editable: !s.cancelled && s.attendance_at.is_none(),
                    staff: s.staff.iter().map(|a| a.display_name.as_str()).collect::<Vec<_>>().join("、"),
                })
                .collect();
            let page = ManagePage {
                chrome: Chrome::new(&ctx, "/classes/manage", "cl.manage.title"),
                programmes: programmes
                    .iter()
                    .map(|p| Choice {
                        value: p.id.0.to_string(),
                        label: programme_name(&p.config, lang),
                        chosen: Some(p.id.0) == chosen,
                    })
                    .collect(),
                venues,
                programme: chosen,
                sessions: lines,
                notice: done_key(q.done.as_deref()),
            };
            Ok(render(&page, StatusCode::OK))
        }
        .await,
    )
}

/// The edit form's fields as typed.
#[derive(Default)]
struct EditFields {
    day: String,
    starts: String,
    minutes: String,
    capacity: String,
    venue_id: String,
    /// The staff accounts ticked (#12), as typed.
    staff_ids: Vec<String>,
}

#[derive(Template)]
#[template(path = "class_session_edit.html")]
struct EditPage {
    chrome: Chrome,
    id: i64,
    programme_id: i64,
    programme: String,
    venue: String,
    when: String,
    taken: u32,
    waiting: u32,
    fields: EditFields,
    errors: FieldErrors,
    cancellable: bool,
    venues: Vec<Choice>,
    /// The accounts who may run it, ticked when chosen (#12).
    staff: Vec<Choice>,
}

impl EditPage {
    fn err(&self, field: &str) -> Option<&'static str> {
        self.errors.for_field(field).map(|code| crate::i18n::t(self.chrome.tr.0, &format!("err.{code}")))
    }
}

async fn edit_view(state: &AppState, ctx: &RequestCtx, id: i64, form: Option<(EditFields, FieldErrors)>) -> PageResult {
    let account = signed_in(ctx)?;
    let actor = actor_of(account);
    permit_municipality(&actor, Action::ManageClasses).or_page(ctx)?;
    let s = state
        .store
        .class_session(actor.municipality_id, ClassSessionId(id))
        .await
        .or_page(ctx)?
        .ok_or(AppError::NotFound)
        .or_page(ctx)?;
    if s.cancelled {
        return Err(page_error(ctx, AppError::Conflict("session_cancelled")));
    }
    let lang = ctx.lang;
    let (fields, errors) = form.unwrap_or_else(|| {
        (
            EditFields {
                day: s.day.to_string(),
                starts: s.starts.strftime("%H:%M").to_string(),
                minutes: s.minutes.to_string(),
                capacity: s.capacity.to_string(),
                venue_id: s.venue_id.0.to_string(),
                staff_ids: s.staff.iter().map(|a| a.account_id.0.to_string()).collect(),
            },
            FieldErrors::default(),
        )
    });
    let venues = state
        .store
        .venues(actor.municipality_id)
        .await
        .or_page(ctx)?
        .iter()
        .map(|v| Choice {
            value: v.id.0.to_string(),
            label: if lang == Lang::Ja { v.name_ja.clone() } else { v.name_en.clone() },
            chosen: fields.venue_id == v.id.0.to_string(),
        })
        .collect();
    // Display names only: who may run sessions, by the policy (#12).
    let staff = super::manage::staff_choices(state, &actor)
        .await
        .or_page(ctx)?
        .into_iter()
        .map(|a| Choice {
            chosen: fields.staff_ids.contains(&a.account_id.0.to_string()),
            value: a.account_id.0.to_string(),
            label: a.display_name,
        })
        .collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = EditPage {
        venues,
        staff,
        chrome: Chrome::new(ctx, &format!("/classes/sessions/{id}/edit"), "cl.manage.edit_title"),
        id,
        programme_id: s.programme_id.0,
        programme: programme_name(&s.programme, lang),
        venue: if lang == Lang::Ja { s.venue_name_ja.clone() } else { s.venue_name_en.clone() },
        when: when_of(&s, lang),
        taken: s.taken,
        waiting: s.waiting,
        fields,
        errors,
        cancellable: s.attendance_at.is_none(),
    };
    Ok(render(&page, status))
}

async fn edit_page(State(state): State<AppState>, ctx: RequestCtx, Path(id): Path<i64>) -> Response {
    unwrap_page(edit_view(&state, &ctx, id, None).await)
}

/// A number as typed: none when it does not read as one (the check says why).
fn number(v: &str) -> u32 {
    v.trim().parse::<u32>().unwrap_or(0)
}

async fn edit_submit(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<i64>,
    Form(form): Form<FormData>,
) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let fields = EditFields {
                day: form.get("day").to_owned(),
                starts: form.get("starts").to_owned(),
                minutes: form.get("minutes").to_owned(),
                capacity: form.get("capacity").to_owned(),
                venue_id: form.get("venue_id").trim().to_owned(),
                staff_ids: form.all("staff_id").into_iter().map(|v| v.trim().to_owned()).collect(),
            };
            // Every ticked account an id, or the field's error (#9).
            let mut staff_ids = Vec::with_capacity(fields.staff_ids.len());
            for v in &fields.staff_ids {
                match v.parse::<i64>() {
                    Ok(id) => staff_ids.push(id),
                    Err(_) => {
                        let mut errors = FieldErrors::default();
                        errors.add("staff_ids", "not_an_id");
                        return edit_view(&state, &ctx, id, Some((fields, errors))).await;
                    }
                }
            }
            let input = SessionEditInput {
                day: fields.day.clone(),
                starts: fields.starts.clone(),
                minutes: number(&fields.minutes),
                capacity: number(&fields.capacity),
                venue_id: match form.opt_id("venue_id") {
                    Ok(v) => v,
                    Err(AppError::Invalid(errors)) => return edit_view(&state, &ctx, id, Some((fields, errors))).await,
                    Err(e) => return Err(page_error(&ctx, e)),
                },
                // The form always carries the staff: none ticked leaves none.
                staff_ids: Some(staff_ids),
            };
            let audit = audit_ctx(account, &ctx.remote_addr, "class session", ctx.now);
            match super::manage::edit_session(&state, &actor_of(account), &audit, ClassSessionId(id), &input).await {
                Ok(s) => Ok(redirect(&format!("/classes/manage?programme={}&done=saved", s.programme_id.0))),
                Err(AppError::Invalid(errors)) => edit_view(&state, &ctx, id, Some((fields, errors))).await,
                // Fewer places than taken: said beside the places.
                Err(AppError::Conflict("capacity_below_taken")) => {
                    let mut errors = FieldErrors::default();
                    errors.add("capacity", "capacity_below_taken");
                    edit_view(&state, &ctx, id, Some((fields, errors))).await
                }
                Err(e) => Err(page_error(&ctx, e)),
            }
        }
        .await,
    )
}

async fn cancel_submit(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<i64>,
    Form(form): Form<FormData>,
) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let actor = actor_of(account);
            let audit = audit_ctx(account, &ctx.remote_addr, "class session", ctx.now);
            let session = state
                .store
                .class_session(actor.municipality_id, ClassSessionId(id))
                .await
                .or_page(&ctx)?
                .ok_or(AppError::NotFound)
                .or_page(&ctx)?;
            super::manage::cancel_session(&state, &actor, &audit, ClassSessionId(id)).await.or_page(&ctx)?;
            Ok(redirect(&format!("/classes/manage?programme={}&done=cancelled", session.programme_id.0)))
        }
        .await,
    )
}

/// The pattern's fields as typed.
#[derive(Default, Clone)]
struct PatternFields {
    programme: String,
    fiscal_year: String,
    venue_ids: Vec<String>,
    pattern: String,
    weekday: String,
    nth: String,
    per_year: String,
    starts: String,
    minutes: String,
    capacity: String,
}

impl PatternFields {
    fn of_form(form: &FormData) -> Self {
        PatternFields {
            programme: form.get("programme_id").trim().to_owned(),
            fiscal_year: form.get("fiscal_year").trim().to_owned(),
            venue_ids: form.all("venue_id").into_iter().map(|v| v.trim().to_owned()).collect(),
            pattern: form.get("pattern").trim().to_owned(),
            weekday: form.get("weekday").trim().to_owned(),
            nth: form.get("nth").trim().to_owned(),
            per_year: form.get("per_year").trim().to_owned(),
            starts: form.get("starts").trim().to_owned(),
            minutes: form.get("minutes").trim().to_owned(),
            capacity: form.get("capacity").trim().to_owned(),
        }
    }

    /// The programme and the same checked input a JSON body gives.
    fn input(&self) -> Result<(ProgrammeId, ScheduleInput), AppError> {
        let mut errors = FieldErrors::default();
        let programme = self.programme.parse::<i64>().ok();
        if programme.is_none() {
            errors.add("programme_id", "not_an_id");
        }
        let fy = self.fiscal_year.parse::<i32>().ok();
        if fy.is_none() {
            errors.add("fiscal_year", "bad_fiscal_year");
        }
        let mut venues = Vec::with_capacity(self.venue_ids.len());
        for v in &self.venue_ids {
            match v.parse::<i64>() {
                Ok(v) => venues.push(v),
                Err(_) => errors.add("venue_ids", "not_an_id"),
            }
        }
        let opt = |v: &str, field: &'static str, errors: &mut FieldErrors| -> Option<u32> {
            if v.is_empty() {
                return None;
            }
            match v.parse::<u32>() {
                Ok(n) => Some(n),
                Err(_) => {
                    errors.add(field, "out_of_range");
                    None
                }
            }
        };
        let nth = opt(&self.nth, "nth", &mut errors).map(|n| u8::try_from(n).unwrap_or(u8::MAX));
        let per_year = opt(&self.per_year, "per_year", &mut errors);
        let minutes = opt(&self.minutes, "minutes", &mut errors);
        let capacity = opt(&self.capacity, "capacity", &mut errors);
        let input = ScheduleInput {
            fiscal_year: fy.unwrap_or(0),
            venue_ids: venues,
            pattern: self.pattern.clone(),
            weekday: self.weekday.clone(),
            nth,
            per_year,
            starts: self.starts.clone(),
            minutes,
            capacity,
        };
        // The pattern's own checks too, so every field's problem shows at once.
        if let Err(AppError::Invalid(more)) = input.check() {
            for e in more.0 {
                if errors.for_field(&e.field).is_none() {
                    errors.0.push(e);
                }
            }
        }
        match programme {
            Some(p) if errors.is_empty() => Ok((ProgrammeId(p), input)),
            _ => Err(AppError::Invalid(errors)),
        }
    }
}

/// One proposed session on the preview.
struct PreviewRow {
    when: String,
    venue: String,
    moved_from: Option<String>,
    already_there: bool,
}

#[derive(Template)]
#[template(path = "class_schedule.html")]
struct SchedulePage {
    chrome: Chrome,
    programmes: Vec<Choice>,
    venues: Vec<Choice>,
    weekdays: Vec<Choice>,
    fields: PatternFields,
    errors: FieldErrors,
    /// The preview, with how many sessions it would create.
    preview: Option<(Vec<PreviewRow>, usize)>,
    /// 令和N年度 of the preview.
    year_label: String,
}

impl SchedulePage {
    fn err(&self, field: &str) -> Option<&'static str> {
        self.errors.for_field(field).map(|code| crate::i18n::t(self.chrome.tr.0, &format!("err.{code}")))
    }

    fn pattern_is(&self, p: &str) -> bool {
        self.fields.pattern == p
    }
}

async fn schedule_view(
    state: &AppState,
    ctx: &RequestCtx,
    fields: PatternFields,
    errors: FieldErrors,
    preview: Option<Preview>,
) -> PageResult {
    let account = signed_in(ctx)?;
    let actor = actor_of(account);
    permit_municipality(&actor, Action::ManageClasses).or_page(ctx)?;
    let lang = ctx.lang;
    let m = actor.municipality_id;
    let programmes = state.store.programmes(m).await.or_page(ctx)?;
    let venues = state.store.venues(m).await.or_page(ctx)?;
    let dates = crate::base::dates::Dates::of(lang);
    let year_label =
        preview.as_ref().map(|p| if lang == Lang::Ja { p.fy.label_ja() } else { p.fy.label_en() }).unwrap_or_default();
    let preview = preview.map(|p| {
        let n = p.new_sessions();
        let rows = p
            .lines
            .iter()
            .map(|l| PreviewRow {
                when: format!("{} {}", dates.date(l.planned.day), l.planned.starts.strftime("%H:%M")),
                venue: if lang == Lang::Ja { l.venue.name_ja.clone() } else { l.venue.name_en.clone() },
                moved_from: l.planned.moved_from.map(|d| dates.date(d)),
                already_there: l.already_there,
            })
            .collect();
        (rows, n)
    });
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = SchedulePage {
        chrome: Chrome::new(ctx, "/classes/schedule", "cl.schedule.title"),
        programmes: programmes
            .iter()
            .map(|p| Choice {
                value: p.id.0.to_string(),
                label: programme_name(&p.config, lang),
                chosen: fields.programme == p.id.0.to_string(),
            })
            .collect(),
        venues: venues
            .iter()
            .map(|v| Choice {
                value: v.id.0.to_string(),
                label: if lang == Lang::Ja { v.name_ja.clone() } else { v.name_en.clone() },
                chosen: fields.venue_ids.contains(&v.id.0.to_string()),
            })
            .collect(),
        weekdays: WEEKDAYS
            .iter()
            .map(|(k, _)| Choice {
                value: (*k).to_owned(),
                label: crate::i18n::t(lang, &format!("cl.weekday.{k}")).to_owned(),
                chosen: fields.weekday == *k,
            })
            .collect(),
        fields,
        errors,
        preview,
        year_label,
    };
    Ok(render(&page, status))
}

#[derive(Deserialize, Default)]
struct ScheduleQuery {
    #[serde(default)]
    programme: Option<i64>,
}

async fn schedule_page(State(state): State<AppState>, ctx: RequestCtx, Query(q): Query<ScheduleQuery>) -> Response {
    let today = state.clock.today();
    // Next fiscal year by default: a year's schedule is made before it starts.
    let fy = tsunagu_domain::fiscal::FiscalYear::of(today).map(|f| f.year() + 1).unwrap_or(i32::from(today.year()));
    let fields = PatternFields {
        programme: q.programme.map(|p| p.to_string()).unwrap_or_default(),
        fiscal_year: fy.to_string(),
        pattern: "monthly".to_owned(),
        weekday: "sunday".to_owned(),
        nth: "2".to_owned(),
        per_year: "75".to_owned(),
        starts: "10:00".to_owned(),
        ..PatternFields::default()
    };
    unwrap_page(schedule_view(&state, &ctx, fields, FieldErrors::default(), None).await)
}

async fn preview_submit(State(state): State<AppState>, ctx: RequestCtx, Form(form): Form<FormData>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let fields = PatternFields::of_form(&form);
            let shown = match fields.input() {
                Ok((programme, input)) => super::schedule::preview(&state, &actor_of(account), programme, &input).await,
                Err(e) => Err(e),
            };
            match shown {
                Ok(p) => schedule_view(&state, &ctx, fields, FieldErrors::default(), Some(p)).await,
                Err(AppError::Invalid(errors)) => schedule_view(&state, &ctx, fields, errors, None).await,
                Err(e) => Err(page_error(&ctx, e)),
            }
        }
        .await,
    )
}

async fn generate_submit(State(state): State<AppState>, ctx: RequestCtx, Form(form): Form<FormData>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let fields = PatternFields::of_form(&form);
            let audit = audit_ctx(account, &ctx.remote_addr, "class schedule", ctx.now);
            let done = match fields.input() {
                Ok((programme, input)) => {
                    super::schedule::generate(&state, &actor_of(account), &audit, programme, &input).await
                }
                Err(e) => Err(e),
            };
            match done {
                Ok((p, _)) => Ok(redirect(&format!("/classes/manage?programme={}&done=generated", p.programme.id.0))),
                Err(AppError::Invalid(errors)) => schedule_view(&state, &ctx, fields, errors, None).await,
                Err(e) => Err(page_error(&ctx, e)),
            }
        }
        .await,
    )
}

/// A programme on the settings list.
struct ProgrammeLine {
    id: i64,
    name: String,
    capacity: u32,
    unit: String,
}

#[derive(Template)]
#[template(path = "class_programmes.html")]
struct ProgrammesPage {
    chrome: Chrome,
    programmes: Vec<ProgrammeLine>,
    may_configure: bool,
    notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
struct DoneQuery {
    #[serde(default)]
    done: Option<String>,
}

/// The municipality's programmes, each linking to its settings.
async fn programmes_page(State(state): State<AppState>, ctx: RequestCtx, Query(q): Query<DoneQuery>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let actor = actor_of(account);
            let list = super::programmes::list(&state, &actor).await.or_page(&ctx)?;
            let lang = ctx.lang;
            let page = ProgrammesPage {
                chrome: Chrome::new(&ctx, "/classes/programmes", "cl.prog.title"),
                programmes: list
                    .iter()
                    .map(|p| ProgrammeLine {
                        id: p.id.0,
                        name: programme_name(&p.config, lang),
                        capacity: p.config.default_capacity,
                        unit: crate::i18n::t(lang, &format!("cl.prog.unit.{}", p.config.unit.as_str())).to_owned(),
                    })
                    .collect(),
                may_configure: permit_municipality(&actor, Action::ConfigureProgrammes).is_ok(),
                notice: (q.done.as_deref() == Some("saved")).then_some("cl.prog.saved"),
            };
            Ok(render(&page, StatusCode::OK))
        }
        .await,
    )
}

/// The settings form's fields as typed.
#[derive(Default)]
struct ProgrammeFields {
    name_ja: String,
    name_en: String,
    content_ja: String,
    runners: Vec<String>,
    coordinator_attends: bool,
    unit: String,
    default_capacity: String,
    default_minutes: String,
    measures: String,
    residents_only: bool,
    prenatal_from_week: String,
    postnatal_under_months: String,
    once_per_stage: String,
    pregnant_only: bool,
    first_child_only: bool,
    multiple_births_only: bool,
    pregnant_or_infant_under_months: String,
}

impl ProgrammeFields {
    fn of_config(c: &tsunagu_domain::classes::ProgrammeConfig) -> Self {
        let opt = |v: Option<u16>| v.map(|v| v.to_string()).unwrap_or_default();
        ProgrammeFields {
            name_ja: c.name_ja.clone(),
            name_en: c.name_en.clone(),
            content_ja: c.content_ja.join("\n"),
            runners: c.runners.iter().map(|r| super::programmes::runner_key(*r).to_owned()).collect(),
            coordinator_attends: c.coordinator_attends,
            unit: super::programmes::unit_key(c.unit).to_owned(),
            default_capacity: c.default_capacity.to_string(),
            default_minutes: c.default_minutes.to_string(),
            measures: super::programmes::measures_key(c.measures).to_owned(),
            residents_only: c.rules.residents_only,
            prenatal_from_week: opt(c.rules.prenatal_from_week.map(u16::from)),
            postnatal_under_months: opt(c.rules.postnatal_under_months),
            once_per_stage: super::programmes::once_key(c.rules.once_per_stage).to_owned(),
            pregnant_only: c.rules.pregnant_only,
            first_child_only: c.rules.first_child_only,
            multiple_births_only: c.rules.multiple_births_only,
            pregnant_or_infant_under_months: opt(c.rules.pregnant_or_infant_under_months),
        }
    }

    fn of_form(form: &FormData) -> Self {
        let s = |k: &str| form.get(k).trim().to_owned();
        ProgrammeFields {
            name_ja: s("name_ja"),
            name_en: s("name_en"),
            content_ja: form.get("content_ja").to_owned(),
            runners: form.all("runner").into_iter().map(|r| r.trim().to_owned()).collect(),
            coordinator_attends: form.checked("coordinator_attends"),
            unit: s("unit"),
            default_capacity: s("default_capacity"),
            default_minutes: s("default_minutes"),
            measures: s("measures"),
            residents_only: form.checked("residents_only"),
            prenatal_from_week: s("prenatal_from_week"),
            postnatal_under_months: s("postnatal_under_months"),
            once_per_stage: s("once_per_stage"),
            pregnant_only: form.checked("pregnant_only"),
            first_child_only: form.checked("first_child_only"),
            multiple_births_only: form.checked("multiple_births_only"),
            pregnant_or_infant_under_months: s("pregnant_or_infant_under_months"),
        }
    }

    /// The same input a JSON body gives; a number that does not read as one is its field's error.
    fn input(&self) -> (super::programmes::ProgrammeInput, FieldErrors) {
        let mut errors = FieldErrors::default();
        let mut num = |v: &str, field: &'static str| -> Option<u32> {
            if v.is_empty() {
                return None;
            }
            let n = v.parse::<u32>().ok();
            if n.is_none() {
                errors.add(field, "out_of_range");
            }
            n
        };
        let capacity = num(&self.default_capacity, "default_capacity");
        let minutes = num(&self.default_minutes, "default_minutes");
        let week = num(&self.prenatal_from_week, "prenatal_from_week");
        let post = num(&self.postnatal_under_months, "postnatal_under_months");
        let infant = num(&self.pregnant_or_infant_under_months, "pregnant_or_infant_under_months");
        let small = |v: Option<u32>| v.map(|v| u16::try_from(v).unwrap_or(u16::MAX));
        let input = super::programmes::ProgrammeInput {
            name_ja: self.name_ja.clone(),
            name_en: self.name_en.clone(),
            content_ja: self.content_ja.lines().map(str::to_owned).collect(),
            runners: self.runners.clone(),
            coordinator_attends: self.coordinator_attends,
            unit: self.unit.clone(),
            default_capacity: capacity.unwrap_or(0),
            default_minutes: minutes.unwrap_or(0),
            measures: self.measures.clone(),
            residents_only: self.residents_only,
            prenatal_from_week: week.map(|w| u8::try_from(w).unwrap_or(u8::MAX)),
            postnatal_under_months: small(post),
            once_per_stage: Some(self.once_per_stage.clone()),
            pregnant_only: self.pregnant_only,
            first_child_only: self.first_child_only,
            multiple_births_only: self.multiple_births_only,
            pregnant_or_infant_under_months: small(infant),
        };
        (input, errors)
    }

    fn has_runner(&self, k: &str) -> bool {
        self.runners.iter().any(|r| r == k)
    }
}

#[derive(Template)]
#[template(path = "class_programme.html")]
struct ProgrammePage {
    chrome: Chrome,
    id: i64,
    kind: String,
    fields: ProgrammeFields,
    errors: FieldErrors,
    runners: Vec<Choice>,
    units: Vec<Choice>,
    measures: Vec<Choice>,
    once: Vec<Choice>,
}

impl ProgrammePage {
    fn err(&self, field: &str) -> Option<&'static str> {
        self.errors.for_field(field).map(|code| crate::i18n::t(self.chrome.tr.0, &format!("err.{code}")))
    }
}

async fn programme_view(
    state: &AppState,
    ctx: &RequestCtx,
    id: i64,
    form: Option<(ProgrammeFields, FieldErrors)>,
) -> PageResult {
    let account = signed_in(ctx)?;
    let actor = actor_of(account);
    let p = super::programmes::one(state, &actor, ProgrammeId(id)).await.or_page(ctx)?;
    let lang = ctx.lang;
    let (fields, errors) = form.unwrap_or_else(|| (ProgrammeFields::of_config(&p.config), FieldErrors::default()));
    let choices = |keys: &[&'static str], prefix: &str, chosen: &str| -> Vec<Choice> {
        keys.iter()
            .map(|k| Choice {
                value: (*k).to_owned(),
                label: crate::i18n::t(lang, &format!("{prefix}{}", if k.is_empty() { "none" } else { k })).to_owned(),
                chosen: chosen == *k,
            })
            .collect()
    };
    let runner_keys: Vec<&'static str> = super::programmes::RUNNERS.iter().map(|(k, _)| *k).collect();
    let unit_keys: Vec<&'static str> = super::programmes::UNITS.iter().map(|(k, _)| *k).collect();
    let measure_keys: Vec<&'static str> = super::programmes::MEASURES.iter().map(|(k, _)| *k).collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = ProgrammePage {
        chrome: Chrome::new(ctx, &format!("/classes/programmes/{id}"), "cl.prog.edit_title"),
        id,
        kind: programme_name(&tsunagu_domain::classes::ProgrammeConfig::seed_default(p.config.kind), lang),
        runners: runner_keys
            .iter()
            .map(|k| Choice {
                value: (*k).to_owned(),
                label: crate::i18n::t(lang, &format!("cl.prog.runner.{k}")).to_owned(),
                chosen: fields.has_runner(k),
            })
            .collect(),
        units: choices(&unit_keys, "cl.prog.unit.", &fields.unit),
        measures: choices(&measure_keys, "cl.prog.measures.", &fields.measures),
        once: choices(&["", "pregnancy", "person"], "cl.prog.once.", &fields.once_per_stage),
        fields,
        errors,
    };
    Ok(render(&page, status))
}

async fn programme_page(State(state): State<AppState>, ctx: RequestCtx, Path(id): Path<i64>) -> Response {
    unwrap_page(programme_view(&state, &ctx, id, None).await)
}

async fn programme_submit(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<i64>,
    Form(form): Form<FormData>,
) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let fields = ProgrammeFields::of_form(&form);
            let (input, mut errors) = fields.input();
            let audit = audit_ctx(account, &ctx.remote_addr, "class programme", ctx.now);
            let done = if errors.is_empty() {
                super::programmes::configure(&state, &actor_of(account), &audit, ProgrammeId(id), &input).await
            } else {
                // The typed numbers' errors, with the rest of the fields' own.
                let current =
                    super::programmes::one(&state, &actor_of(account), ProgrammeId(id)).await.or_page(&ctx)?;
                if let Err(more) = input.check(&current.config) {
                    for e in more.0 {
                        if errors.for_field(&e.field).is_none() {
                            errors.0.push(e);
                        }
                    }
                }
                Err(AppError::Invalid(errors))
            };
            match done {
                Ok(_) => Ok(redirect("/classes/programmes?done=saved")),
                Err(AppError::Invalid(errors)) => programme_view(&state, &ctx, id, Some((fields, errors))).await,
                Err(e) => Err(page_error(&ctx, e)),
            }
        }
        .await,
    )
}
