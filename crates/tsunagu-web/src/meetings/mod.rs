//! The monthly handbook meeting (母子手帳会議) and the 8th-month group
//! sessions (妊娠8か月面談, 集団) [002] at the edge, shared by the pages and
//! the API. Who may do what is `timeline::meetings`; this resolves, asks it,
//! calls the store and shapes the answer.

use crate::base::error::{permit_municipality, AppError};
use crate::base::views::ContactView;
use crate::base::AppState;
use axum::Router;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use tsunagu_domain::audit::Requester;
use tsunagu_domain::policy::Action;
use tsunagu_domain::policy::FamilyFilter;
use tsunagu_domain::roles::Actor;
use tsunagu_domain::timeline::meetings::{
    attendance_open, fiscal_year_months, group_session_filter, handbook_list_filter, max_group_size, may_run_meetings,
    AttendanceInput, GroupSessionInput, HandbookMeetingInput,
};
use tsunagu_domain::timeline::{propose_groups, DueMonth, PregnancyRef};
use tsunagu_domain::validation::FieldErrors;
use tsunagu_domain::{AreaId, FamilyId, GroupSessionId, HandbookMeetingId, PregnancyId};
use tsunagu_store::{
    GroupCandidate, GroupSession, HandbookEntry, HandbookMeeting, NewGroupSession, NewHandbookMeeting,
};

pub mod api;
mod api_doc;
pub mod pages;

/// What this capability's API operations are, for the API's OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    <api_doc::ApiDoc as utoipa::OpenApi>::openapi()
}

/// The handbook meetings' and group sessions' pages and API.
pub fn routes() -> Router<AppState> {
    Router::new().merge(api::routes()).merge(pages::routes())
}

fn invalid(field: &'static str, code: &'static str) -> AppError {
    let mut e = FieldErrors::default();
    e.add(field, code);
    AppError::Invalid(e)
}

/// A month from a query string: `Ok(None)` when left out.
pub fn month_param(field: &'static str, s: Option<&str>) -> Result<Option<DueMonth>, AppError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => DueMonth::parse(s).map(Some).ok_or_else(|| invalid(field, "invalid_month")),
    }
}

/// An area from a query string: `Ok(None)` when left out.
pub fn area_param(s: Option<&str>) -> Result<Option<AreaId>, AppError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse::<i64>().map(|a| Some(AreaId(a))).map_err(|_| invalid("area", "invalid_choice")),
    }
}

async fn area_exists(state: &AppState, actor: &Actor, area: AreaId) -> Result<bool, AppError> {
    Ok(state.store.areas(actor.municipality_id).await?.iter().any(|a| a.id == area))
}

// --- the handbook meeting -------------------------------------------------------------

/// A month's handbook list of an area, the meeting recorded for it, and the
/// fiscal year's twelve months with theirs.
#[derive(Debug, Clone)]
pub struct HandbookView {
    pub area: AreaId,
    pub month: DueMonth,
    pub entries: Vec<HandbookEntry>,
    pub meeting: Option<HandbookMeeting>,
    /// April to March, each with its meeting if one is recorded.
    pub year: Vec<(DueMonth, Option<HandbookMeeting>)>,
    /// A nurse: she records the meeting and sees every family with its consent flag.
    pub may_record: bool,
}

pub async fn handbook_view(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    area: AreaId,
    month: DueMonth,
) -> Result<HandbookView, AppError> {
    let audit = &requester.allowed(&permit_municipality(actor, Action::ViewMeetings)?);
    let filter = handbook_list_filter(actor, area).ok_or(AppError::Forbidden)?;
    if !area_exists(state, actor, area).await? {
        return Err(invalid("area", "unknown_reference"));
    }
    let entries = state.store.handbook_list(audit, &filter, area, month).await?;
    let months = fiscal_year_months(month);
    let (first, last) = match (months.first(), months.last()) {
        (Some(f), Some(l)) => (*f, *l),
        _ => (month, month),
    };
    let recorded = state.store.handbook_meetings(actor.municipality_id, area, first, last).await?;
    let year: Vec<(DueMonth, Option<HandbookMeeting>)> =
        months.into_iter().map(|m| (m, recorded.iter().find(|r| r.month == m).cloned())).collect();
    let meeting = year.iter().find(|(m, _)| *m == month).and_then(|(_, r)| r.clone());
    Ok(HandbookView { area, month, entries, meeting, year, may_record: may_run_meetings(actor) })
}

/// Records a meeting; its area's listed contacts are settled with it.
pub async fn record_meeting(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    input: &HandbookMeetingInput,
    today: Date,
) -> Result<HandbookMeeting, AppError> {
    let audit = &requester.allowed(&permit_municipality(actor, Action::RunMeetings)?);
    let m = input.check(today).map_err(AppError::Invalid)?;
    let new = NewHandbookMeeting { area_id: m.area, month: m.month, held_on: m.held_on, note: m.note };
    Ok(state.store.record_handbook_meeting(audit, &new).await?)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HandbookEntryView {
    pub pregnancy_id: PregnancyId,
    pub family_id: FamilyId,
    pub mother_name: String,
    pub notified_on: Date,
    pub edd: Date,
    pub foetuses: u8,
    pub first_child: bool,
    pub consent_coordinators: bool,
    pub contact: ContactView,
}

impl HandbookEntryView {
    pub fn of(e: &HandbookEntry, today: Date) -> Self {
        HandbookEntryView {
            pregnancy_id: e.contact.contact.pregnancy,
            family_id: e.contact.family_id,
            mother_name: e.contact.mother_name.clone(),
            notified_on: e.notified_on,
            edd: e.edd,
            foetuses: e.foetuses,
            first_child: e.first_child,
            consent_coordinators: e.consent_coordinators,
            contact: ContactView::of(&e.contact, today),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MeetingView {
    pub id: HandbookMeetingId,
    pub area_id: AreaId,
    pub month: String,
    pub held_on: Date,
    pub note: String,
    pub contacts_done: u32,
    pub recorded_at: jiff::Timestamp,
}

impl MeetingView {
    pub fn of(m: &HandbookMeeting) -> Self {
        MeetingView {
            id: m.id,
            area_id: m.area_id,
            month: m.month.to_string(),
            held_on: m.held_on,
            note: m.note.clone(),
            contacts_done: m.contacts_done,
            recorded_at: m.recorded_at,
        }
    }
}

// --- 8th-month group sessions ------------------------------------------------------------

/// A proposed group with what the page shows of its members.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub area: AreaId,
    pub due_month: DueMonth,
    /// In EDD order.
    pub members: Vec<GroupCandidate>,
}

fn pref(c: &GroupCandidate) -> PregnancyRef {
    PregnancyRef { family: c.contact.family_id, pregnancy: c.contact.contact.pregnancy }
}

async fn candidates(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    due_month: DueMonth,
) -> Result<Vec<GroupCandidate>, AppError> {
    let audit = &requester.allowed(&permit_municipality(actor, Action::RunMeetings)?);
    Ok(state.store.group_candidates(audit, &FamilyFilter::Municipality(actor.municipality_id), due_month).await?)
}

/// The groups proposed for a due month (nurses): each area's women whose
/// 8th-month interview awaits work and who are in no session yet.
pub async fn proposals(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    due_month: DueMonth,
) -> Result<Vec<Proposal>, AppError> {
    let candidates = candidates(state, actor, requester, due_month).await?;
    let input: Vec<_> = candidates.iter().map(|c| (pref(c), c.contact.area_id, c.edd)).collect();
    Ok(propose_groups(&input, max_group_size())
        .into_iter()
        .map(|g| Proposal {
            area: g.area,
            due_month: g.due_month,
            members: g.members.iter().filter_map(|r| candidates.iter().find(|c| pref(c) == *r).cloned()).collect(),
        })
        .collect())
}

/// Confirms a group as a session: its members must be in the proposal as it
/// stands now for that area and due month.
pub async fn confirm_session(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    input: &GroupSessionInput,
    today: Date,
) -> Result<GroupSessionId, AppError> {
    let audit = &requester.allowed(&permit_municipality(actor, Action::RunMeetings)?);
    let Some(due_month) = input.due_month() else {
        return Err(invalid("due_month", if input.due_month.trim().is_empty() { "required" } else { "invalid_month" }));
    };
    let area = AreaId(input.area_id);
    if !area_exists(state, actor, area).await? {
        return Err(invalid("area_id", "unknown_reference"));
    }
    let proposed: Vec<PregnancyRef> = candidates(state, actor, requester, due_month)
        .await?
        .iter()
        .filter(|c| c.contact.area_id == area)
        .map(pref)
        .collect();
    let s = input.check(today, &proposed).map_err(AppError::Invalid)?;
    let new = NewGroupSession {
        area_id: s.area,
        due_month: s.due_month,
        day: s.day,
        place: s.place,
        members: s.members.iter().map(|r| r.pregnancy).collect(),
    };
    Ok(state.store.create_group_session(audit, &new).await?)
}

/// The policy's `ViewMeetings`, and which sessions and members it lets the actor see.
fn session_filter(actor: &Actor) -> Result<(tsunagu_domain::policy::Allowed, FamilyFilter), AppError> {
    let allowed = permit_municipality(actor, Action::ViewMeetings)?;
    Ok((allowed, group_session_filter(actor).ok_or(AppError::Forbidden)?))
}

/// The sessions of a due month the caller may see.
pub async fn sessions(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    due_month: DueMonth,
) -> Result<Vec<GroupSession>, AppError> {
    let (allowed, filter) = session_filter(actor)?;
    Ok(state.store.group_sessions(&requester.allowed(&allowed), &filter, due_month).await?)
}

pub async fn session(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    id: GroupSessionId,
) -> Result<GroupSession, AppError> {
    let (allowed, filter) = session_filter(actor)?;
    state.store.group_session(&requester.allowed(&allowed), &filter, id).await?.ok_or(AppError::NotFound)
}

/// Records who came, once the day has come; returns the session as it now is.
pub async fn record_attendance(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    id: GroupSessionId,
    input: &AttendanceInput,
    today: Date,
) -> Result<GroupSession, AppError> {
    let audit = &requester.allowed(&permit_municipality(actor, Action::RunMeetings)?);
    let s = session(state, actor, requester, id).await?;
    if s.attendance_at.is_some() {
        return Err(AppError::Conflict("attendance_recorded"));
    }
    if !attendance_open(s.day, today) {
        return Err(AppError::Conflict("session_not_held"));
    }
    let members: Vec<PregnancyId> = s.members.iter().map(|m| m.contact.contact.pregnancy).collect();
    let attended = input.check(&members).map_err(AppError::Invalid)?;
    state.store.record_attendance(audit, id, &attended).await?;
    session(state, actor, requester, id).await
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MemberView {
    pub pregnancy_id: PregnancyId,
    pub family_id: FamilyId,
    pub area_id: AreaId,
    pub mother_name: String,
    pub edd: Date,
    /// `null` until attendance is recorded (always in a proposal).
    pub attended: Option<bool>,
    pub contact: ContactView,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProposalView {
    pub area_id: AreaId,
    pub due_month: String,
    pub members: Vec<MemberView>,
}

impl ProposalView {
    pub fn of(p: &Proposal, today: Date) -> Self {
        ProposalView {
            area_id: p.area,
            due_month: p.due_month.to_string(),
            members: p
                .members
                .iter()
                .map(|c| MemberView {
                    pregnancy_id: c.contact.contact.pregnancy,
                    family_id: c.contact.family_id,
                    area_id: c.contact.area_id,
                    mother_name: c.contact.mother_name.clone(),
                    edd: c.edd,
                    attended: None,
                    contact: ContactView::of(&c.contact, today),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    pub id: GroupSessionId,
    pub area_id: AreaId,
    pub due_month: String,
    pub day: Date,
    pub place: String,
    pub member_count: u32,
    pub attendance_recorded: bool,
    /// The members the caller may see (a coordinator: families who consented).
    pub members: Vec<MemberView>,
}

impl SessionView {
    pub fn of(s: &GroupSession, today: Date) -> Self {
        SessionView {
            id: s.id,
            area_id: s.area_id,
            due_month: s.due_month.to_string(),
            day: s.day,
            place: s.place.clone(),
            member_count: s.member_count,
            attendance_recorded: s.attendance_at.is_some(),
            members: s
                .members
                .iter()
                .map(|m| MemberView {
                    pregnancy_id: m.contact.contact.pregnancy,
                    family_id: m.contact.family_id,
                    area_id: m.contact.area_id,
                    mother_name: m.contact.mother_name.clone(),
                    edd: m.edd,
                    attended: m.attended,
                    contact: ContactView::of(&m.contact, today),
                })
                .collect(),
        }
    }
}

/// Query strings of the meeting and group pages and endpoints.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MeetingParams {
    #[serde(default)]
    pub area: Option<String>,
    #[serde(default)]
    pub month: Option<String>,
    #[serde(default)]
    pub due_month: Option<String>,
}
