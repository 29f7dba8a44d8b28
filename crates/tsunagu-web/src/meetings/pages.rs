//! Pages of the monthly handbook meeting and the 8th-month group sessions
//! [002]: the month's handbook list with the meeting record and the fiscal
//! year's twelve months; the proposed groups of a due month with a form to
//! confirm each; a session with its attendance.

// A page handler's error *is* a page (a `Response`); boxing it would buy nothing.
#![allow(clippy::result_large_err)]

use crate::base::chrome::{page_error, redirect, render, signed_in, unwrap_page, Chrome, FormData, OrPage};
use crate::base::error::AppError;
use crate::base::session::{actor_of, audit_ctx, RequestCtx};
use crate::base::AppState;
use crate::i18n::Lang;
use crate::meetings::{area_param, month_param, HandbookView, Proposal};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use jiff::civil::Date;
use std::collections::HashMap;
use tsunagu_domain::clock::japan_date;
use tsunagu_domain::fiscal::FiscalYear;
use tsunagu_domain::timeline::meetings::{
    attendance_open, current_group_due_month, current_handbook_month, may_run_meetings, AttendanceInput,
    GroupSessionInput, HandbookMeetingInput,
};
use tsunagu_domain::timeline::{ContactStatus, DueMonth};
use tsunagu_domain::validation::FieldErrors;
use tsunagu_domain::GroupSessionId;
use tsunagu_store::{ContactRow, GroupSession};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/handbook-meetings", get(handbook_page).post(handbook_submit))
        .route("/group-sessions", get(groups_page).post(groups_submit))
        .route("/group-sessions/{id}", get(session_page))
        .route("/group-sessions/{id}/attendance", post(attendance_submit))
}

/// What a refused form brings back: the problems, the values typed, a
/// message above the form.
#[derive(Default)]
struct Filled {
    errors: FieldErrors,
    values: HashMap<String, String>,
    form_error: Option<String>,
}

impl Filled {
    fn of(e: AppError, ctx: &RequestCtx, form: &FormData) -> Result<(Filled, StatusCode), Response> {
        match e {
            AppError::Invalid(errors) => {
                Ok((Filled { errors, values: form.map(), form_error: None }, StatusCode::UNPROCESSABLE_ENTITY))
            }
            AppError::Conflict(code) => {
                let msg = crate::i18n::t(ctx.lang, &format!("err.{code}")).to_owned();
                Ok((Filled { form_error: Some(msg), values: form.map(), ..Filled::default() }, StatusCode::CONFLICT))
            }
            e => Err(page_error(ctx, e)),
        }
    }
}

fn err_text(lang: Lang, errors: &FieldErrors, field: &str) -> Option<&'static str> {
    errors.for_field(field).map(|c| crate::i18n::t(lang, &format!("err.{c}")))
}

/// A contact's status as the pages show it.
fn status_of(row: &ContactRow, today: Date) -> ContactStatus {
    row.contact.status(today)
}

fn month_label(lang: Lang, m: DueMonth) -> String {
    const EN: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    match lang {
        Lang::Ja => format!("{}月", m.month),
        Lang::En => EN.get(usize::try_from(m.month - 1).unwrap_or(0)).copied().unwrap_or("").to_owned(),
    }
}

fn month_long(lang: Lang, m: DueMonth) -> String {
    crate::base::dates::Dates::of(lang).month(m.year, m.month)
}

// --- the handbook meeting --------------------------------------------------------------

/// One pregnancy on the list, as the page shows it.
struct EntryLine {
    family: i64,
    contact: i64,
    name: String,
    notified_on: Date,
    edd: Date,
    foetuses: u8,
    first_child: bool,
    consent: bool,
    status: &'static str,
}

/// One of the fiscal year's months.
struct MonthCell {
    month: String,
    label: String,
    held_on: Option<Date>,
    current: bool,
}

#[derive(Template)]
#[template(path = "handbook_meetings.html")]
struct HandbookPage {
    chrome: Chrome,
    areas: Vec<(i64, String)>,
    area: i64,
    area_name: String,
    month: String,
    month_title: String,
    fiscal_year: String,
    cells: Vec<MonthCell>,
    lines: Vec<EntryLine>,
    meeting: Option<tsunagu_store::HandbookMeeting>,
    may_record: bool,
    /// The meeting may be recorded: a nurse, none recorded yet.
    show_form: bool,
    today: Date,
    notice: Option<&'static str>,
    filled: Filled,
}

impl HandbookPage {
    fn err(&self, field: &str) -> Option<&'static str> {
        err_text(self.chrome.tr.0, &self.filled.errors, field)
    }

    fn v(&self, k: &str) -> &str {
        self.filled.values.get(k).map(String::as_str).unwrap_or("")
    }

    fn area_is(&self, id: &i64) -> bool {
        *id == self.area
    }

    fn shared_count(&self) -> usize {
        self.lines.iter().filter(|l| l.consent).count()
    }
}

/// The areas the reader may choose: those of the families the policy lets
/// the reader list (`family_filter`): a coordinator's own areas, every area
/// for a nurse.
async fn area_choices(
    state: &AppState,
    ctx: &RequestCtx,
    account: &tsunagu_store::Account,
) -> Result<Vec<(i64, String)>, Response> {
    let areas = state.store.areas(account.municipality_id).await.or_page(ctx)?;
    let names = crate::base::chrome::area_names(&areas, ctx.lang);
    let scope = tsunagu_domain::policy::family_filter(&actor_of(account));
    let mut v: Vec<(i64, String)> = areas
        .iter()
        .filter(|a| match &scope {
            Some(tsunagu_domain::policy::FamilyFilter::ConsentingInAreas(_, mine)) => mine.contains(&a.id),
            _ => true,
        })
        .map(|a| (a.id.0, names.get(&a.id.0).cloned().unwrap_or_default()))
        .collect();
    v.sort();
    Ok(v)
}

async fn handbook_render(
    state: &AppState,
    ctx: &RequestCtx,
    area: Option<&str>,
    month: Option<&str>,
    notice: Option<&'static str>,
    filled: Filled,
    status: StatusCode,
) -> Result<Response, Response> {
    let account = signed_in(ctx)?;
    let actor = actor_of(account);
    let today = japan_date(ctx.now);
    let areas = area_choices(state, ctx, account).await?;
    let area = match area_param(area).or_page(ctx)? {
        Some(a) => a,
        None => match actor.areas.first().copied().or_else(|| areas.first().map(|(id, _)| tsunagu_domain::AreaId(*id)))
        {
            Some(a) => a,
            None => return Err(page_error(ctx, AppError::NotFound)),
        },
    };
    let month = month_param("month", month).or_page(ctx)?.unwrap_or_else(|| current_handbook_month(today));
    let audit = audit_ctx(account, &ctx.remote_addr, "handbook meeting", ctx.now);
    let HandbookView { entries, meeting, year, may_record, .. } =
        crate::meetings::handbook_view(state, &actor, &audit, area, month).await.or_page(ctx)?;
    let lines = entries
        .iter()
        .map(|e| EntryLine {
            family: e.contact.family_id.0,
            contact: e.contact.contact.id.0,
            name: e.contact.mother_name.clone(),
            notified_on: e.notified_on,
            edd: e.edd,
            foetuses: e.foetuses,
            first_child: e.first_child,
            consent: e.consent_coordinators,
            status: status_of(&e.contact, today).as_str(),
        })
        .collect();
    let cells = year
        .iter()
        .map(|(m, r)| MonthCell {
            month: m.to_string(),
            label: month_label(ctx.lang, *m),
            held_on: r.as_ref().map(|r| r.held_on),
            current: *m == month,
        })
        .collect();
    let fiscal_year = FiscalYear::of(month.first_day())
        .map(|fy| if ctx.lang == Lang::Ja { fy.label_ja() } else { fy.label_en() })
        .unwrap_or_default();
    let area_name = areas.iter().find(|(id, _)| *id == area.0).map(|(_, n)| n.clone()).unwrap_or_default();
    // A month's meeting is held once the month is over.
    let show_form = may_record && meeting.is_none() && month.last_day() < today;
    Ok(render(
        &HandbookPage {
            chrome: Chrome::new(ctx, "/handbook-meetings", "hb.title"),
            areas,
            area: area.0,
            area_name,
            month: month.to_string(),
            month_title: month_long(ctx.lang, month),
            fiscal_year,
            cells,
            lines,
            meeting,
            may_record,
            show_form,
            today,
            notice,
            filled,
        },
        status,
    ))
}

async fn handbook_page(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let notice = q.get("done").map(|_| "hb.recorded");
    unwrap_page(
        handbook_render(
            &state,
            &ctx,
            q.get("area").map(String::as_str),
            q.get("month").map(String::as_str),
            notice,
            Filled::default(),
            StatusCode::OK,
        )
        .await,
    )
}

async fn handbook_submit(State(state): State<AppState>, ctx: RequestCtx, Form(form): Form<FormData>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let actor = actor_of(account);
            let Ok(area_id) = form.get("area").trim().parse::<i64>() else {
                return Err(page_error(&ctx, AppError::NotFound));
            };
            let input = HandbookMeetingInput {
                area_id,
                month: form.get("month").to_owned(),
                held_on: form.get("held_on").to_owned(),
                note: form.get("note").to_owned(),
            };
            let audit = audit_ctx(account, &ctx.remote_addr, "handbook meeting", ctx.now);
            let today = japan_date(ctx.now);
            match crate::meetings::record_meeting(&state, &actor, &audit, &input, today).await {
                Ok(m) => Ok(redirect(&format!("/handbook-meetings?area={}&month={}&done=meeting", m.area_id, m.month))),
                Err(e) => {
                    let (filled, status) = Filled::of(e, &ctx, &form)?;
                    // A month that does not read shows the default month's list.
                    let month = DueMonth::parse(form.get("month")).map(|m| m.to_string());
                    handbook_render(&state, &ctx, Some(form.get("area")), month.as_deref(), None, filled, status).await
                }
            }
        }
        .await,
    )
}

// --- 8th-month group sessions ---------------------------------------------------------------

struct MemberLine {
    pregnancy: i64,
    family: i64,
    contact: i64,
    name: String,
    edd: Date,
    status: &'static str,
    /// Still owed: the absentee's interview is offered from her contact page.
    open: bool,
    attended: Option<bool>,
}

impl MemberLine {
    fn of(contact: &ContactRow, edd: Date, attended: Option<bool>, today: Date) -> MemberLine {
        MemberLine {
            pregnancy: contact.contact.pregnancy.0,
            family: contact.family_id.0,
            contact: contact.contact.id.0,
            name: contact.mother_name.clone(),
            edd,
            status: status_of(contact, today).as_str(),
            open: status_of(contact, today).is_unresolved(),
            attended,
        }
    }
}

struct ProposalCard {
    index: usize,
    area: i64,
    area_name: String,
    members: Vec<MemberLine>,
}

struct SessionCard {
    id: i64,
    area_name: String,
    day: Date,
    place: String,
    member_count: u32,
    attendance_recorded: bool,
}

#[derive(Template)]
#[template(path = "group_sessions.html")]
struct GroupsPage {
    chrome: Chrome,
    due_month: String,
    month_title: String,
    proposals: Vec<ProposalCard>,
    sessions: Vec<SessionCard>,
    may_run: bool,
    max_size: usize,
    /// The proposal a refused form came from, and what it brought back.
    failed: Option<usize>,
    filled: Filled,
}

impl GroupsPage {
    fn err(&self, index: &usize, field: &str) -> Option<&'static str> {
        if self.failed != Some(*index) {
            return None;
        }
        err_text(self.chrome.tr.0, &self.filled.errors, field)
    }

    fn form_error(&self, index: &usize) -> Option<&str> {
        if self.failed != Some(*index) {
            return None;
        }
        self.filled.form_error.as_deref()
    }

    fn v(&self, index: &usize, k: &str) -> &str {
        if self.failed != Some(*index) {
            return "";
        }
        self.filled.values.get(k).map(String::as_str).unwrap_or("")
    }
}

fn names_of(state_areas: &[tsunagu_domain::places::Area], lang: Lang) -> HashMap<i64, String> {
    crate::base::chrome::area_names(state_areas, lang)
}

async fn groups_render(
    state: &AppState,
    ctx: &RequestCtx,
    due: Option<&str>,
    failed: Option<usize>,
    filled: Filled,
    status: StatusCode,
) -> Result<Response, Response> {
    let account = signed_in(ctx)?;
    let actor = actor_of(account);
    let today = japan_date(ctx.now);
    let due = month_param("due_month", due).or_page(ctx)?.unwrap_or_else(|| current_group_due_month(today));
    let audit = audit_ctx(account, &ctx.remote_addr, "group sessions", ctx.now);
    let may_run = may_run_meetings(&actor);
    let proposals: Vec<Proposal> =
        if may_run { crate::meetings::proposals(state, &actor, &audit, due).await.or_page(ctx)? } else { Vec::new() };
    let sessions = crate::meetings::sessions(state, &actor, &audit, due).await.or_page(ctx)?;
    let names = names_of(&state.store.areas(account.municipality_id).await.or_page(ctx)?, ctx.lang);
    let name = |a: tsunagu_domain::AreaId| names.get(&a.0).cloned().unwrap_or_default();
    let proposals = proposals
        .iter()
        .enumerate()
        .map(|(index, p)| ProposalCard {
            index,
            area: p.area.0,
            area_name: name(p.area),
            members: p.members.iter().map(|c| MemberLine::of(&c.contact, c.edd, None, today)).collect(),
        })
        .collect();
    let sessions = sessions
        .iter()
        .map(|s| SessionCard {
            id: s.id.0,
            area_name: name(s.area_id),
            day: s.day,
            place: s.place.clone(),
            member_count: s.member_count,
            attendance_recorded: s.attendance_at.is_some(),
        })
        .collect();
    Ok(render(
        &GroupsPage {
            chrome: Chrome::new(ctx, "/group-sessions", "grp.title"),
            due_month: due.to_string(),
            month_title: month_long(ctx.lang, due),
            proposals,
            sessions,
            may_run,
            max_size: tsunagu_domain::timeline::meetings::MAX_GROUP_SIZE,
            failed,
            filled,
        },
        status,
    ))
}

async fn groups_page(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    unwrap_page(
        groups_render(&state, &ctx, q.get("due_month").map(String::as_str), None, Filled::default(), StatusCode::OK)
            .await,
    )
}

async fn groups_submit(State(state): State<AppState>, ctx: RequestCtx, Form(form): Form<FormData>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let actor = actor_of(account);
            let members: Result<Vec<i64>, _> = form.all("members").iter().map(|m| m.trim().parse::<i64>()).collect();
            let (Ok(area_id), Ok(members)) = (form.get("area").trim().parse::<i64>(), members) else {
                return Err(page_error(&ctx, AppError::BadRequest("bad_form")));
            };
            let input = GroupSessionInput {
                area_id,
                due_month: form.get("due_month").to_owned(),
                day: form.get("day").to_owned(),
                place: form.get("place").to_owned(),
                members,
            };
            let audit = audit_ctx(account, &ctx.remote_addr, "confirm group session", ctx.now);
            let today = japan_date(ctx.now);
            match crate::meetings::confirm_session(&state, &actor, &audit, &input, today).await {
                Ok(id) => Ok(redirect(&format!("/group-sessions/{id}?done=session"))),
                Err(e) => {
                    let (filled, status) = Filled::of(e, &ctx, &form)?;
                    let failed = form.get("proposal").parse::<usize>().ok();
                    let due = DueMonth::parse(form.get("due_month")).map(|m| m.to_string());
                    groups_render(&state, &ctx, due.as_deref(), failed, filled, status).await
                }
            }
        }
        .await,
    )
}

#[derive(Template)]
#[template(path = "group_session.html")]
struct SessionPage {
    chrome: Chrome,
    session: GroupSession,
    area_name: String,
    month_title: String,
    lines: Vec<MemberLine>,
    /// Members the reader may not see (a coordinator: families who did not consent).
    unseen: u32,
    may_run: bool,
    /// The attendance form: a nurse, the day has come, not yet recorded.
    show_form: bool,
    not_yet: bool,
    notice: Option<&'static str>,
    filled: Filled,
}

impl SessionPage {
    fn err(&self, field: &str) -> Option<&'static str> {
        err_text(self.chrome.tr.0, &self.filled.errors, field)
    }

    fn recorded(&self) -> bool {
        self.session.attendance_at.is_some()
    }

    fn attendees(&self) -> Vec<&MemberLine> {
        self.lines.iter().filter(|l| l.attended == Some(true)).collect()
    }

    fn absentees(&self) -> Vec<&MemberLine> {
        self.lines.iter().filter(|l| l.attended == Some(false)).collect()
    }
}

async fn session_render(
    state: &AppState,
    ctx: &RequestCtx,
    id: &str,
    notice: Option<&'static str>,
    filled: Filled,
    status: StatusCode,
) -> Result<Response, Response> {
    let account = signed_in(ctx)?;
    let actor = actor_of(account);
    let today = japan_date(ctx.now);
    let id = id.parse::<i64>().map(GroupSessionId).map_err(|_| page_error(ctx, AppError::NotFound))?;
    let audit = audit_ctx(account, &ctx.remote_addr, "group session", ctx.now);
    let session = crate::meetings::session(state, &actor, &audit, id).await.or_page(ctx)?;
    let names = names_of(&state.store.areas(account.municipality_id).await.or_page(ctx)?, ctx.lang);
    let lines: Vec<MemberLine> =
        session.members.iter().map(|m| MemberLine::of(&m.contact, m.edd, m.attended, today)).collect();
    let may_run = may_run_meetings(&actor);
    let not_yet = !attendance_open(session.day, today);
    let show_form = may_run && session.attendance_at.is_none() && !not_yet;
    let unseen = session.member_count.saturating_sub(u32::try_from(lines.len()).unwrap_or(u32::MAX));
    Ok(render(
        &SessionPage {
            chrome: Chrome::new(ctx, &format!("/group-sessions/{}", id.0), "grp.session_title"),
            area_name: names.get(&session.area_id.0).cloned().unwrap_or_default(),
            month_title: month_long(ctx.lang, session.due_month),
            session,
            lines,
            unseen,
            may_run,
            show_form,
            not_yet,
            notice,
            filled,
        },
        status,
    ))
}

async fn session_page(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let notice = match q.get("done").map(String::as_str) {
        Some("session") => Some("grp.confirmed"),
        Some("attendance") => Some("grp.attendance_saved"),
        Some(_) => Some("wl.saved"),
        None => None,
    };
    unwrap_page(session_render(&state, &ctx, &id, notice, Filled::default(), StatusCode::OK).await)
}

async fn attendance_submit(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let actor = actor_of(account);
            let sid = id.parse::<i64>().map(GroupSessionId).map_err(|_| page_error(&ctx, AppError::NotFound))?;
            let attended: Result<Vec<i64>, _> = form.all("attended").iter().map(|m| m.trim().parse::<i64>()).collect();
            let Ok(attended) = attended else {
                return Err(page_error(&ctx, AppError::BadRequest("bad_form")));
            };
            let audit = audit_ctx(account, &ctx.remote_addr, "group attendance", ctx.now);
            let today = japan_date(ctx.now);
            let input = AttendanceInput { attended };
            match crate::meetings::record_attendance(&state, &actor, &audit, sid, &input, today).await {
                Ok(_) => Ok(redirect(&format!("/group-sessions/{}?done=attendance", sid.0))),
                Err(e) => {
                    let (filled, status) = Filled::of(e, &ctx, &form)?;
                    session_render(&state, &ctx, &id, None, filled, status).await
                }
            }
        }
        .await,
    )
}
