//! Follow-up work around a family, shared by the pages and the API:
//! concerns raised by whoever meets the family (referrals to its nurse),
//! online follow-up consultations after postpartum care, the coordinator's
//! online talk for current users, and facilities' incident reports.

use crate::base::access::family_for;
use crate::base::error::{permit, permit_municipality, AppError};
use crate::base::AppState;
use axum::Router;
use jiff::civil::{Date, DateTime};
use serde::Deserialize;
use tsunagu_domain::audit::Requester;
use tsunagu_domain::dates::{DateRange, Horizon, OutsideHorizon};
use tsunagu_domain::policy::{Action, Allowed, Resource};
use tsunagu_domain::postpartum::application::ApplicationStatus;
use tsunagu_domain::postpartum::followup::{check_followup, slots, FollowupInput, FollowupPattern, FollowupSlot};
use tsunagu_domain::postpartum::safety::IncidentHeading;
use tsunagu_domain::referrals::{apply, raise, CloseReason, ConcernSource, ReferralAction};
use tsunagu_domain::roles::Actor;
use tsunagu_domain::validation::FieldErrors;
use tsunagu_domain::{ApplicationId, FamilyId, FollowupId, IncidentId, PregnancyId, ReferralId, TalkId, VenueId};
use tsunagu_store::{ApplicationFilter, FollowupFacts, NewIncident};

pub mod api;
mod api_doc;
pub mod pages;

/// What this capability's API operations are, for the API's OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    <api_doc::ApiDoc as utoipa::OpenApi>::openapi()
}

/// The pages and API of referrals, follow-ups, talks and incidents.
pub fn routes() -> Router<AppState> {
    Router::new().merge(api::routes()).merge(pages::routes())
}

fn invalid(field: &'static str, code: &'static str) -> AppError {
    let mut e = FieldErrors::default();
    e.add(field, code);
    AppError::Invalid(e)
}

/// How far ahead a coordinator may schedule an online talk: a year (the
/// talks run about twice a month [001]; nothing is planned years ahead).
pub const TALK_HORIZON: Horizon = Horizon::new(0, 366);
/// How far back an incident may be reported: a year (a report is written
/// when the incident happens; a year covers one found late, not antiquity).
pub const INCIDENT_HORIZON: Horizon = Horizon::new(366, 0);
/// The days a follow-up may be booked on: from tomorrow, four weeks ahead
/// (the slots `open_followup_slots` offers).
const FOLLOWUP_BOOKING_DAYS: u32 = 28;

fn note_text(note: &str, required: bool) -> Result<String, AppError> {
    let note = note.trim();
    if required && note.is_empty() {
        return Err(invalid("note", "required"));
    }
    if note.chars().count() > 2000 {
        return Err(invalid("note", "too_long"));
    }
    Ok(note.to_owned())
}

// --- referrals -------------------------------------------------------------------

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConcernInput {
    pub family_id: i64,
    #[serde(default)]
    pub pregnancy_id: Option<i64>,
    pub note: String,
    #[serde(default)]
    pub urgent: bool,
    /// For a facility's alert: the application it is about.
    #[serde(default)]
    pub application_id: Option<i64>,
}

/// Raises a concern about a family: it becomes follow-up work for the
/// family's nurse. The raiser must be someone who meets the family and may
/// see it (the policy's `RaiseConcern`).
pub async fn raise_concern(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    input: &ConcernInput,
) -> Result<ReferralId, AppError> {
    let family = FamilyId(input.family_id);
    let (_, allowed) = family_for(state, actor, family, Action::RaiseConcern).await?;
    let ctx = &requester.allowed(&allowed);
    let note = note_text(&input.note, true)?;
    let (venue, application) = match input.application_id {
        Some(id) => {
            // Whose the application is and where, without reading it: the
            // concern is the one audit line.
            let (owner, venue, _) =
                crate::base::access::application_access(state, actor, ApplicationId(id), Action::ViewApplication)
                    .await?;
            if owner.family_id != family {
                return Err(invalid("application_id", "unknown_reference"));
            }
            (Some(venue), Some(ApplicationId(id)))
        }
        None => (None, None),
    };
    let referral =
        raise(actor.role, family, input.pregnancy_id.map(PregnancyId), ConcernSource::Observation, input.urgent)
            .map_err(|_| AppError::Forbidden)?;
    Ok(state.store.raise_referral(ctx, &referral, &note, venue, application).await?)
}

/// Parses an action as sent (`receive`, `start`, `escalate`, `mark_sem`,
/// `clear_sem`, `close`) with a close reason where needed.
pub fn parse_action(action: &str, reason: Option<&str>) -> Result<ReferralAction, AppError> {
    Ok(match action {
        "receive" => ReferralAction::Receive,
        "start" => ReferralAction::Start,
        "escalate" => ReferralAction::Escalate,
        "mark_specified_expectant_mother" => ReferralAction::MarkSpecifiedExpectantMother,
        "clear_specified_expectant_mother" => ReferralAction::ClearSpecifiedExpectantMother,
        "close" => ReferralAction::Close(
            CloseReason::parse(reason.unwrap_or("")).ok_or_else(|| invalid("reason", "invalid_choice"))?,
        ),
        _ => return Err(AppError::NotFound),
    })
}

/// A nurse moves a referral one step (the domain's state machine decides
/// what is allowed; the store refuses if someone moved it meanwhile).
pub async fn act_on_referral(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    id: ReferralId,
    action: ReferralAction,
    note: &str,
) -> Result<(), AppError> {
    let ctx = &requester.allowed(&permit_municipality(actor, Action::ManageReferrals)?);
    let note = note_text(note, false)?;
    // The state machine decides on the referral as the store reads it for
    // the step: the step is the one audit line.
    let step = |r: &tsunagu_domain::referrals::Referral| {
        apply(r, actor.role, action).map_err(|_| tsunagu_store::StoreError::Conflict("referral_step_not_allowed"))
    };
    Ok(state.store.step_referral(ctx, id, &step, action, &note).await?)
}

// --- online follow-up consultations ----------------------------------------------------

/// The slots a family may book in the next four weeks at the facility it
/// stayed at, with those already taken left out; empty when it may not book.
pub async fn open_followup_slots(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    family: FamilyId,
    venue: VenueId,
) -> Result<Vec<FollowupSlot>, AppError> {
    let (_, allowed) = family_for(state, actor, family, Action::ApplyPostpartum).await?;
    let ctx = &requester.allowed(&allowed);
    let today = state.clock.today();
    let range = DateRange::starting(today.saturating_add(jiff::Span::new().days(1)), FOLLOWUP_BOOKING_DAYS)
        .ok_or(AppError::Internal)?;
    let (taken, facts) = state.store.followup_slots(ctx, family, venue, range).await?;
    Ok(slots(&FollowupPattern::default(), range)
        .into_iter()
        .filter(|slot| !taken.contains(&slot.start) && followup_refusal(&facts, slot.date()).is_none())
        .collect())
}

/// Why the family may not consult on `day`: it must be a former user of
/// the facility (a day there before `day`) with a baby under 1 year [001].
fn followup_refusal(facts: &FollowupFacts, day: Date) -> Option<&'static str> {
    let Some(baby_birth_date) = facts.baby_birth_date else { return Some("no_baby_on_record") };
    let last_centre_day = facts.stay_last_days.iter().copied().filter(|d| *d < day).max();
    check_followup(&FollowupInput { last_centre_day, baby_birth_date, slot_date: day }).first().map(|r| r.code())
}

/// A follow-up booking, as the page's form and the API's body both send it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookingInput {
    /// The family booked for: required for staff, ignored for a family member (its own).
    #[serde(default)]
    pub family_id: Option<i64>,
    pub venue_id: i64,
    /// The slot's start, `YYYY-MM-DDTHH:MM` (local time in Japan).
    pub start: String,
}

/// An online talk, as the page's form and the API's body both send it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TalkInput {
    pub venue_id: i64,
    /// `YYYY-MM-DDTHH:MM` (local time in Japan).
    pub starts: String,
    pub title: String,
}

/// Signing a family up for a talk, as the page's form and the API's body both send it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinInput {
    /// The family signed up: required for staff, ignored for a family member (its own).
    #[serde(default)]
    pub family_id: Option<i64>,
}

/// The family a call is about: a family member's account belongs to one
/// and acts for it; staff name it. The policy then decides either way.
pub fn own_or_named(actor: &Actor, named: Option<i64>) -> Result<FamilyId, AppError> {
    match actor.family_id {
        Some(own) => Ok(own),
        None => named.map(FamilyId).ok_or_else(|| invalid("family_id", "required")),
    }
}

/// A date-time field as sent (`YYYY-MM-DDTHH:MM`), or the field's error.
fn date_time(value: &str, field: &'static str) -> Result<DateTime, AppError> {
    value.trim().parse().map_err(|_| invalid(field, "invalid_date"))
}

/// Books a follow-up from what was sent (form or JSON).
pub async fn book(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    input: &BookingInput,
) -> Result<FollowupId, AppError> {
    let family = own_or_named(actor, input.family_id)?;
    let start = date_time(&input.start, "start")?;
    book_followup(state, actor, requester, family, VenueId(input.venue_id), start).await
}

/// Adds an online talk from what was sent (form or JSON).
pub async fn add_talk(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    input: &TalkInput,
) -> Result<TalkId, AppError> {
    let starts = date_time(&input.starts, "starts")?;
    create_talk(state, actor, requester, VenueId(input.venue_id), starts, &input.title).await
}

/// Signs a family up for a talk from what was sent (form or JSON).
pub async fn join(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    talk: TalkId,
    input: &JoinInput,
) -> Result<(), AppError> {
    let family = own_or_named(actor, input.family_id)?;
    join_talk(state, actor, requester, talk, family).await
}

pub async fn book_followup(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    family: FamilyId,
    venue: VenueId,
    start: DateTime,
) -> Result<FollowupId, AppError> {
    let (_, allowed) = family_for(state, actor, family, Action::ApplyPostpartum).await?;
    let ctx = &requester.allowed(&allowed);
    let in_pattern = DateRange::starting(start.date(), 1)
        .map(|r| slots(&FollowupPattern::default(), r).iter().any(|s| s.start == start))
        .unwrap_or(false);
    let bookable = Horizon::new(0, FOLLOWUP_BOOKING_DAYS).check(start.date(), state.clock.today()).is_ok();
    if !in_pattern || !bookable || start.date() <= state.clock.today() {
        return Err(invalid("start", "not_a_slot"));
    }
    // Decided on the family's facts as the booking's own transaction reads
    // them: one `followup.book` line.
    let check = |facts: &FollowupFacts| match followup_refusal(facts, start.date()) {
        Some(code) => Err(tsunagu_store::StoreError::Conflict(code)),
        None => Ok(()),
    };
    Ok(state.store.book_followup_checked(ctx, venue, family, start, &check).await?)
}

pub async fn cancel_followup(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    id: FollowupId,
) -> Result<(), AppError> {
    let range = DateRange::starting(state.clock.today().saturating_sub(jiff::Span::new().days(1)), 400)
        .ok_or(AppError::Internal)?;
    crate::base::access::own_health(state, actor).await?;
    // Whose it is and when (facts, not audited); the policy decides on the
    // family (a family member's account: its own bookings only).
    let (family, start) = state.store.followup_owner(actor.municipality_id, id).await?.ok_or(AppError::NotFound)?;
    // Another family's booking is not there for a family member (as before
    // this was an owner query: it listed its own).
    if !range.contains(start.date()) || actor.family_id.is_some_and(|own| own != family) {
        return Err(AppError::NotFound);
    }
    let (_, allowed) = family_for(state, actor, family, Action::ApplyPostpartum).await?;
    Ok(state.store.cancel_followup(&requester.allowed(&allowed), id).await?)
}

/// Whose follow-up bookings a caller lists, with the decision to list them:
/// a family its own; a facility's (named, or the staff member's own) for
/// whoever may see that facility; every facility's for the nurse who
/// reviews them.
pub fn followup_scope(
    actor: &Actor,
    venue: Option<VenueId>,
) -> Result<(Allowed, Option<VenueId>, Option<FamilyId>), AppError> {
    let listing = permit_municipality(actor, Action::UseCareServices)?;
    match (actor.family_id, venue.or(actor.venues.first().copied())) {
        (Some(family), _) => Ok((listing, None, Some(family))),
        (None, Some(v)) => Ok((facility_decision(actor, Action::ViewFacility, v)?, Some(v), None)),
        (None, None) => Ok((permit_municipality(actor, Action::ReviewPostpartum)?, None, None)),
    }
}

/// Whose incident reports a caller lists, with the decision: a facility's
/// (named, or the staff member's own), or every facility's for the nurse.
pub fn incident_scope(actor: &Actor, venue: Option<VenueId>) -> Result<(Allowed, Option<VenueId>), AppError> {
    match venue.or(actor.venues.first().copied()) {
        Some(v) => Ok((facility_decision(actor, Action::ViewFacility, v)?, Some(v))),
        None => Ok((permit_municipality(actor, Action::ReviewPostpartum)?, None)),
    }
}

/// The policy's decision on one facility.
pub fn facility_decision(actor: &Actor, action: Action, venue: VenueId) -> Result<Allowed, AppError> {
    permit(actor, action, &Resource::Facility { municipality_id: actor.municipality_id, venue_id: venue })
}

// --- the coordinator's online talk --------------------------------------------------------

pub async fn create_talk(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    venue: VenueId,
    starts: DateTime,
    title: &str,
) -> Result<TalkId, AppError> {
    let allowed = permit(
        actor,
        Action::ViewFacility,
        &Resource::Facility { municipality_id: actor.municipality_id, venue_id: venue },
    )?;
    let ctx = &requester.allowed(&allowed);
    let title = title.trim();
    if title.is_empty() || title.chars().count() > 100 {
        return Err(invalid("title", if title.is_empty() { "required" } else { "too_long" }));
    }
    match TALK_HORIZON.check(starts.date(), state.clock.today()) {
        Ok(_) => {}
        Err(OutsideHorizon::TooEarly) => return Err(invalid("starts", "date_in_past")),
        Err(e) => return Err(invalid("starts", e.code())),
    }
    // [001]: about twice a month, about 30 minutes.
    Ok(state.store.create_online_talk(ctx, venue, starts, 30, title).await?)
}

/// A current user joins: the family has an approved stay at the talk's
/// facility that covers the talk's day [001] (産後ケアセンター利用時の母子が受講できる).
pub async fn join_talk(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    talk: TalkId,
    family: FamilyId,
) -> Result<(), AppError> {
    let (_, allowed) = family_for(state, actor, family, Action::ApplyPostpartum).await?;
    let ctx = &requester.allowed(&allowed);
    let today = state.clock.today();
    let range = DateRange::starting(today, 120).ok_or(AppError::Internal)?;
    let t = state
        .store
        .online_talks(actor.municipality_id, range)
        .await?
        .into_iter()
        .find(|t| t.id == talk)
        .ok_or(AppError::NotFound)?;
    let filter = ApplicationFilter {
        family_id: Some(family),
        venue_id: Some(t.venue_id),
        status: Some(ApplicationStatus::Approved),
        limit: 50,
    };
    let current = state.store.applications(ctx, &filter).await?.iter().any(|a| a.stay.contains(t.starts.date()));
    if !current {
        return Err(AppError::Conflict("not_a_current_user"));
    }
    Ok(state.store.join_online_talk(ctx, talk, family).await?)
}

// --- incident reports ------------------------------------------------------------------------

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentInput {
    pub venue_id: i64,
    pub heading: String,
    /// `YYYY-MM-DDTHH:MM` in Japan.
    pub occurred: String,
    pub summary: String,
    #[serde(default)]
    pub family_id: Option<i64>,
}

pub async fn report_incident(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    input: &IncidentInput,
) -> Result<IncidentId, AppError> {
    let venue = VenueId(input.venue_id);
    let allowed = permit(
        actor,
        Action::RecordAtFacility,
        &Resource::Facility { municipality_id: actor.municipality_id, venue_id: venue },
    )?;
    let ctx = &requester.allowed(&allowed);
    let mut errors = FieldErrors::default();
    let heading = IncidentHeading::parse(input.heading.trim());
    if heading.is_none() {
        errors.add("heading", "invalid_choice");
    }
    let occurred = input.occurred.trim().parse::<DateTime>().ok();
    match occurred.map(|o| INCIDENT_HORIZON.check(o.date(), state.clock.today())) {
        None => errors.add("occurred", "invalid_date"),
        Some(Err(OutsideHorizon::TooLate)) => errors.add("occurred", "date_in_future"),
        Some(Err(e)) => errors.add("occurred", e.code()),
        Some(Ok(_)) => {}
    }
    let summary = input.summary.trim().to_owned();
    if summary.is_empty() {
        errors.add("summary", "required");
    } else if summary.chars().count() > 4000 {
        errors.add("summary", "too_long");
    }
    if let Some(f) = input.family_id {
        // The family must be one the facility may see.
        if family_for(state, actor, FamilyId(f), Action::ViewFamily).await.is_err() {
            errors.add("family_id", "unknown_reference");
        }
    }
    let (Some(heading), Some(occurred)) = (heading, occurred) else { return Err(AppError::Invalid(errors)) };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let new = NewIncident { venue_id: venue, heading, occurred, summary, family_id: input.family_id.map(FamilyId) };
    Ok(state.store.report_incident(ctx, &new).await?)
}
