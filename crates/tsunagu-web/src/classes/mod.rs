//! Classes and programmes [000][002][004], shared by the pages and the API:
//! the sessions a family may book (and why not the others), booking with
//! its idempotency key and a staff override where the rule allows it,
//! cancelling, a session's roster and attendance, the iCalendar feeds.
//! The rules are the domain's (`classes::decide`); the places are the store's.

use crate::base::access::family_for;
use crate::base::error::{permit, permit_municipality, AppError};
use crate::base::AppState;
use axum::Router;
use jiff::civil::Date;
use serde::Deserialize;
use tsunagu_domain::audit::Requester;
use tsunagu_domain::classes::{decide, Eligible, PriorBooking, Refusal, Stage};
use tsunagu_domain::policy::{authorize, Action, Resource};
use tsunagu_domain::roles::Actor;
use tsunagu_domain::validation::FieldErrors;
use tsunagu_domain::{AreaId, BookingId, ClassSessionId, FamilyId};
use tsunagu_store::{
    AttendanceMark, ClassBooking, ClassBookingOutcome, ClassSession, FamilyBooking, NewClassBooking, RosterEntry,
    SessionQuery,
};

pub mod api;
mod api_doc;
pub mod ics;
pub mod local;
pub mod manage;
mod manage_pages;
pub mod pages;
pub mod programmes;
pub mod schedule;

/// What this capability's API operations are, for the API's OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    <api_doc::ApiDoc as utoipa::OpenApi>::openapi()
}

/// The pages and API of classes and programmes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(api::routes())
        .merge(pages::routes())
        .merge(local::api::routes())
        .merge(local::pages::routes())
        .merge(manage::routes())
        .merge(manage_pages::routes())
        .merge(schedule::routes())
        .merge(programmes::routes())
}

fn invalid(field: &'static str, code: &'static str) -> AppError {
    let mut e = FieldErrors::default();
    e.add(field, code);
    AppError::Invalid(e)
}

/// The API's conflict code for a refusal: `ineligible_` and the reason.
pub fn refusal_code(r: &Refusal) -> &'static str {
    use tsunagu_domain::classes::Ineligible as I;
    match r.reason {
        I::NotResident => "ineligible_not_resident",
        I::NotPregnantNorBaby => "ineligible_not_pregnant_nor_baby",
        I::NotPregnant => "ineligible_not_pregnant",
        I::TooEarlyInPregnancy { .. } => "ineligible_too_early_in_pregnancy",
        I::BabyTooOld { .. } => "ineligible_baby_too_old",
        I::StageAlreadyTaken { .. } => "ineligible_stage_already_taken",
        I::NotFirstChild => "ineligible_not_first_child",
        I::NotMultipleBirth => "ineligible_not_multiple_birth",
    }
}

/// A session as a family sees it: whether it may book it, or why not.
pub struct Offer {
    pub session: ClassSession,
    pub decision: Result<Eligible, Refusal>,
    /// The family's live booking of it, if any.
    pub booking: Option<ClassBooking>,
}

impl Offer {
    pub fn bookable(&self) -> bool {
        self.booking.is_none() && self.decision.is_ok() && !self.session.cancelled
    }
}

/// The family an actor books for: its own, or the one named (staff).
fn family_of(actor: &Actor, named: Option<i64>) -> Result<FamilyId, AppError> {
    match (named, actor.family_id) {
        (Some(f), _) => Ok(FamilyId(f)),
        (None, Some(own)) => Ok(own),
        (None, None) => Err(invalid("family_id", "required")),
    }
}

fn priors(bookings: &[FamilyBooking], except: Option<ClassSessionId>) -> Vec<PriorBooking> {
    bookings.iter().filter(|b| Some(b.session.id) != except).filter_map(FamilyBooking::prior).collect()
}

/// The sessions from `from` on (of `area` when given), each decided for the
/// family: bookable, booked, or refused with its reason.
pub async fn offers(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    family: Option<i64>,
    area: Option<AreaId>,
    from: Date,
) -> Result<(FamilyId, AreaId, Vec<Offer>), AppError> {
    let family = family_of(actor, family)?;
    let (access, allowed) = family_for(state, actor, family, Action::BookClass).await?;
    let ctx = requester.allowed(&allowed);
    // The record and the bookings in one read, one line (#12 stage 3).
    let (record, bookings) = state.store.class_offer_facts(&ctx, family).await?;
    let area = area.unwrap_or(access.area_id);
    let q = SessionQuery { from: Some(from), area: Some(area), limit: 200, ..SessionQuery::default() };
    let sessions = state.store.class_sessions(actor.municipality_id, &q).await?;
    let offers = sessions
        .into_iter()
        .map(|session| {
            let booking = bookings
                .iter()
                .find(|b| {
                    b.session.id == session.id && b.booking.status != tsunagu_store::ClassBookingStatus::Cancelled
                })
                .map(|b| b.booking.clone());
            let decision = decide(&session.programme, &record, session.day, &priors(&bookings, Some(session.id)));
            Offer { session, decision, booking }
        })
        .collect();
    Ok((family, area, offers))
}

/// A booking request, from a form or a JSON body.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookInput {
    pub session_id: i64,
    /// Staff booking for a family; a family books for itself.
    #[serde(default)]
    pub family_id: Option<i64>,
    /// A retried request with the same key books once.
    pub idempotency_key: String,
    #[serde(default)]
    pub with_partner: bool,
    /// Let the session's staff see the mother's name on the roster (default yes).
    #[serde(default = "yes")]
    pub share_name: bool,
    /// When full, wait for a place (default yes).
    #[serde(default = "yes")]
    pub waiting_list: bool,
    /// Staff overriding a rule that allows it: why (audited).
    #[serde(default)]
    pub override_reason: Option<String>,
}

fn yes() -> bool {
    true
}

/// Books a session for a family: the domain decides eligibility on the
/// class day; a refusal staff may override (and the caller may: the
/// policy's `OverrideClassRule`) is booked with the reason audited;
/// anything else is refused with its reason.
pub async fn book(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    input: &BookInput,
) -> Result<ClassBookingOutcome, AppError> {
    let key = input.idempotency_key.trim();
    if key.is_empty() || key.len() > 100 {
        return Err(invalid("idempotency_key", if key.is_empty() { "required" } else { "too_long" }));
    }
    let family = family_of(actor, input.family_id)?;
    let (access, allowed) = family_for(state, actor, family, Action::BookClass).await?;
    let ctx = requester.allowed(&allowed);
    let session = state
        .store
        .class_session(actor.municipality_id, ClassSessionId(input.session_id))
        .await?
        .ok_or(AppError::NotFound)?;
    let override_reason = input.override_reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    if override_reason.is_some_and(|r| r.chars().count() > 500) {
        return Err(invalid("override_reason", "too_long"));
    }
    // Facts only (the family's scope), decided before anything personal is read.
    let may_override = authorize(actor, Action::OverrideClassRule, &Resource::Family(&access)).is_allowed();
    // What the check refuses with that the store has no word for (an
    // override the caller may not make) waits here for the answer.
    let refused: std::sync::Mutex<Option<AppError>> = std::sync::Mutex::new(None);
    let refuse = |e: AppError| {
        if let Ok(mut slot) = refused.lock() {
            *slot = Some(e);
        }
        tsunagu_store::StoreError::Conflict("refused")
    };
    // The record and bookings are read inside the booking's transaction:
    // one line for the whole action (#12 stage 2, like the house's `*_checked`).
    let check = |record: &tsunagu_domain::records::FamilyRecord,
                 bookings: &[FamilyBooking]|
     -> tsunagu_store::Result<NewClassBooking> {
        // With a live booking of this session, the store answers a retry
        // (same key) with it and refuses anything else (`already_booked`):
        // the decision is not what books it.
        let live = bookings
            .iter()
            .find(|b| b.session.id == session.id && b.booking.status != tsunagu_store::ClassBookingStatus::Cancelled);
        let (eligible, override_rule) = match decide(&session.programme, record, session.day, &priors(bookings, None)) {
            Ok(e) => (e, None),
            Err(_) if live.is_some() => {
                let b = live.map(|b| &b.booking);
                let stage = b.map_or(Stage::Family, |b| b.stage);
                (Eligible { stage, pregnancy_id: b.and_then(|b| b.pregnancy_id) }, None)
            }
            Err(refusal) => match (override_reason, refusal.override_to) {
                (Some(reason), Some(e)) => {
                    if !may_override {
                        return Err(refuse(AppError::Forbidden));
                    }
                    (e, Some((refusal.reason.code(), reason.to_owned())))
                }
                _ => return Err(tsunagu_store::StoreError::Conflict(refusal_code(&refusal))),
            },
        };
        Ok(NewClassBooking {
            session_id: session.id,
            family_id: family,
            eligible,
            idempotency_key: key.to_owned(),
            with_partner: input.with_partner,
            share_name: input.share_name,
            join_waiting_list: input.waiting_list,
            override_rule,
        })
    };
    match state.store.book_class_checked(&ctx, family, &check).await {
        Ok(out) => Ok(out),
        Err(e) => match refused.lock().ok().and_then(|mut slot| slot.take()) {
            Some(why) => Err(why),
            None => Err(e.into()),
        },
    }
}

/// A family's bookings (its own, or a family staff book for).
pub async fn bookings(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    family: Option<i64>,
) -> Result<(FamilyId, Vec<FamilyBooking>), AppError> {
    let family = family_of(actor, family)?;
    let (_, allowed) = family_for(state, actor, family, Action::BookClass).await?;
    let list = state.store.family_class_bookings(&requester.allowed(&allowed), family).await?;
    Ok((family, list))
}

/// Cancels a booking (the family, or staff who book for it); the waiting
/// list moves up in the store's transaction.
pub async fn cancel(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    id: BookingId,
) -> Result<ClassBooking, AppError> {
    let owner = state.store.class_booking_owner(actor.municipality_id, id).await?.ok_or(AppError::NotFound)?;
    let (_, allowed) = family_for(state, actor, owner.family_id, Action::BookClass).await?;
    Ok(state.store.cancel_class_booking(&requester.allowed(&allowed), owner.family_id, id).await?)
}

/// The family saw the notice of its promotion.
pub async fn dismiss_notice(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    id: BookingId,
) -> Result<(), AppError> {
    let owner = state.store.class_booking_owner(actor.municipality_id, id).await?.ok_or(AppError::NotFound)?;
    let (_, allowed) = family_for(state, actor, owner.family_id, Action::BookClass).await?;
    Ok(state.store.dismiss_class_notice(&requester.allowed(&allowed), owner.family_id, id).await?)
}

/// Whether the policy lets `actor` do `action` on a session (#12): decided
/// on its venue, area and staff ids — the facts, never a name.
pub(crate) fn may_on_session(actor: &Actor, action: Action, s: &ClassSession) -> bool {
    let staff = s.staff_ids();
    authorize(actor, action, &session_resource(s, &staff)).is_allowed()
}

fn session_resource<'a>(s: &ClassSession, staff: &'a [tsunagu_domain::AccountId]) -> Resource<'a> {
    Resource::ClassSession { municipality_id: s.municipality_id, venue_id: s.venue_id, area_id: s.area_id, staff }
}

/// A session and the policy's decision on `action` on it (its venue, area and staff).
async fn session_for(
    state: &AppState,
    actor: &Actor,
    id: ClassSessionId,
    action: Action,
) -> Result<(ClassSession, tsunagu_domain::policy::Allowed), AppError> {
    let session = state.store.class_session(actor.municipality_id, id).await?.ok_or(AppError::NotFound)?;
    let staff = session.staff_ids();
    let allowed = permit(actor, action, &session_resource(&session, &staff))?;
    Ok((session, allowed))
}

/// A session's roster: the staff assigned to it (none assigned: its venue's
/// programme staff), the area's coordinator, the nurse.
pub async fn roster(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    id: ClassSessionId,
) -> Result<(ClassSession, Vec<RosterEntry>), AppError> {
    let (session, allowed) = session_for(state, actor, id, Action::ViewClassRoster).await?;
    let roster = state.store.class_roster(&requester.allowed(&allowed), id).await?;
    Ok((session, roster))
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkInput {
    pub booking_id: i64,
    pub attended: bool,
    #[serde(default)]
    pub weight_g: Option<u32>,
    #[serde(default)]
    pub height_mm: Option<u32>,
}

/// Records attendance (and measurements where the programme takes them);
/// an attendee's owed contact is recorded as done on the timeline.
pub async fn record_attendance(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    id: ClassSessionId,
    marks: &[MarkInput],
) -> Result<(), AppError> {
    let (_, allowed) = session_for(state, actor, id, Action::RecordClassAttendance).await?;
    let mut checked = Vec::with_capacity(marks.len());
    for m in marks {
        // A baby of 300 g to 20 kg, 20 cm to 1.2 m: what a scale and a board read.
        if m.weight_g.is_some_and(|w| !(300..=20_000).contains(&w)) {
            return Err(invalid("weight_g", "out_of_range"));
        }
        if m.height_mm.is_some_and(|h| !(200..=1_200).contains(&h)) {
            return Err(invalid("height_mm", "out_of_range"));
        }
        checked.push(AttendanceMark {
            booking_id: BookingId(m.booking_id),
            attended: m.attended,
            weight_g: m.weight_g,
            height_mm: m.height_mm,
        });
    }
    Ok(state.store.record_class_attendance(&requester.allowed(&allowed), id, &checked).await?)
}

/// The sessions staff work with: a programme worker's venues, a
/// coordinator's areas, every venue for the nurse and the administrator.
pub async fn staff_sessions(state: &AppState, actor: &Actor, from: Date) -> Result<Vec<ClassSession>, AppError> {
    permit_municipality(actor, Action::BrowseClasses)?;
    let q = SessionQuery { from: Some(from), limit: 300, ..SessionQuery::default() };
    // An account scoped to venues asks for theirs and those it is assigned
    // to elsewhere (the policy below still decides each).
    let q = if actor.venues.is_empty() {
        q
    } else {
        SessionQuery { venues: Some(actor.venues.clone()), or_staffed_by: Some(actor.account_id), ..q }
    };
    let list = state.store.class_sessions(actor.municipality_id, &q).await?;
    // Those who manage the classes see every session; others those whose roster they may see.
    if permit_municipality(actor, Action::ManageClasses).is_ok() {
        return Ok(list);
    }
    Ok(list.into_iter().filter(|s| may_on_session(actor, Action::ViewClassRoster, s)).collect())
}

/// The sessions of one venue, for its calendar feed (no personal data).
pub async fn venue_sessions(
    state: &AppState,
    actor: &Actor,
    venue: tsunagu_domain::VenueId,
    from: Date,
) -> Result<Vec<ClassSession>, AppError> {
    permit_municipality(actor, Action::BrowseClasses)?;
    let q = SessionQuery { from: Some(from), venues: Some(vec![venue]), limit: 500, ..SessionQuery::default() };
    Ok(state.store.class_sessions(actor.municipality_id, &q).await?)
}

/// Participation per venue and programme in a fiscal year ([002]'s table,
/// [000]'s totals): for those who read reports. Aggregates only; the
/// reports issue will pass every figure through one suppression rule.
pub async fn figures(
    state: &AppState,
    actor: &Actor,
    fy: i32,
) -> Result<(tsunagu_domain::fiscal::FiscalYear, Vec<tsunagu_store::ParticipationRow>), AppError> {
    permit_municipality(actor, Action::ViewReports)?;
    let fy = tsunagu_domain::fiscal::FiscalYear::new(fy).map_err(|_| invalid("fy", "out_of_range"))?;
    Ok((fy, state.store.class_participation(actor.municipality_id, fy.start(), fy.end()).await?))
}

/// The totals of each programme kind over the rows ([000]: classes and pairs).
pub fn totals(
    rows: &[tsunagu_store::ParticipationRow],
) -> Vec<(tsunagu_domain::classes::ProgrammeKind, tsunagu_domain::classes::Participation)> {
    let mut out: Vec<(tsunagu_domain::classes::ProgrammeKind, tsunagu_domain::classes::Participation)> = Vec::new();
    for r in rows {
        let t = match out.iter_mut().find(|(k, _)| *k == r.kind) {
            Some((_, t)) => t,
            None => {
                out.push((r.kind, tsunagu_domain::classes::Participation::default()));
                match out.last_mut() {
                    Some((_, t)) => t,
                    None => continue,
                }
            }
        };
        t.sessions = t.sessions.saturating_add(r.figures.sessions);
        t.groups = t.groups.saturating_add(r.figures.groups);
        t.people = t.people.saturating_add(r.figures.people);
        t.couples = t.couples.saturating_add(r.figures.couples);
    }
    out
}

/// A session as a calendar event, in `ja`.
pub fn event_of(s: &ClassSession, uid_suffix: &str) -> ics::Event {
    ics::Event {
        uid: format!("class-session-{}{uid_suffix}@tsunagu", s.id),
        day: s.day,
        starts: s.starts,
        minutes: s.minutes,
        summary: format!("{}（{}）", s.programme.name_ja, s.venue_name_ja),
        location: s.venue_name_ja.clone(),
        description: s.programme.content_ja.join("\n"),
        cancelled: s.cancelled,
    }
}
