//! Postpartum care at the edge: turning what a family (or a nurse) asks for
//! into a quote, an eligibility answer and an application; approving it
//! against the facility's calendar; the yearly figures. Shared by the pages
//! and the API; the rules themselves are in `tsunagu_domain::postpartum`.

use crate::base::access::family_for;
use crate::base::error::{permit, permit_municipality, AppError};
use crate::base::session::{actor_of, audit_ctx};
use crate::base::AppState;
use axum::Router;
use serde::{Deserialize, Serialize};
use tsunagu_domain::audit::Requester;
use tsunagu_domain::dates::DateRange;
use tsunagu_domain::fiscal::FiscalYear;
use tsunagu_domain::municipality::MunicipalityCode;
use tsunagu_domain::notes::NoteAudience;
use tsunagu_domain::policy::{sees_note, written_for, Action, Allowed, FamilyAccess, Resource};
use tsunagu_domain::postpartum::application::{
    check_siblings_against_record, eligibility_input, latest_babies, requested_stay, resident_during, Application,
    ApplicationAnswers, NewApplication,
};
use tsunagu_domain::postpartum::calendar::ClosedDay;
use tsunagu_domain::postpartum::day_record::{day_record, recordable};
use tsunagu_domain::postpartum::eligibility::{check_eligibility, Eligibility};
use tsunagu_domain::postpartum::fees::{city_pays_transport, quote, FeeTable, Quote, QuoteRequest};
use tsunagu_domain::postpartum::occupancy::{occupancy, UsedDays};
use tsunagu_domain::postpartum::ServiceType;
use tsunagu_domain::records::{FamilyRecord, FeeBracket};
use tsunagu_domain::roles::Actor;
use tsunagu_domain::validation::FieldErrors;
use tsunagu_domain::{ApplicationId, FamilyId, MunicipalityId, VenueId};
use tsunagu_store::{
    Account, ApplicationFilter, Approval, ApprovalFacts, Booking, PostpartumFacility, StayNote, StoreError,
};

pub mod api;
mod api_doc;
pub mod pages;

/// What this capability's API operations are, for the API's OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    <api_doc::ApiDoc as utoipa::OpenApi>::openapi()
}

/// Postpartum care's pages and API.
pub fn routes() -> Router<AppState> {
    Router::new().merge(api::routes()).merge(pages::routes())
}

/// The fee table of a municipality: the one it set (its amounts, the
/// outreach reductions, a maximum of days per application), else Setagaya's
/// as published for Setagaya [001]. Another city without one is refused as
/// `not_configured` until it is set up, rather than guessed.
pub async fn fee_table(
    state: &AppState,
    m: MunicipalityId,
    code: MunicipalityCode,
) -> Result<Option<FeeTable>, AppError> {
    if let Some(table) = state.store.postpartum_fee_table(m).await? {
        return Ok(Some(table));
    }
    Ok((code.to_string() == "131121").then(FeeTable::setagaya))
}

/// The most a nurse may record as a confirmed fee (yen): more than any
/// stay of the published table costs, so a typo of an extra digit or two is
/// caught.
pub const MAX_CONFIRMED_FEE_YEN: u32 = 1_000_000;

/// What an applicant sends (form or JSON).
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationInput {
    /// The family applied for: required for staff, ignored for a family member (their own).
    #[serde(default)]
    pub family_id: Option<i64>,
    pub venue_id: i64,
    pub service: String,
    pub first_day: String,
    pub days: u32,
    pub babies: u8,
    #[serde(default)]
    pub siblings: u8,
    #[serde(default)]
    pub answers: ApplicationAnswers,
    /// A nurse's reason to go ahead although the eligibility check refuses.
    #[serde(default)]
    pub override_reason: Option<String>,
    /// The applicant confirms a preschool sibling although the record says
    /// the latest birth was a first child (asked, never assumed).
    #[serde(default)]
    pub siblings_confirmed: bool,
}

/// An application checked and priced, ready to be stored or shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Prepared {
    #[serde(skip)]
    pub new: NewApplication,
    pub quote: Quote,
    pub refusals: Vec<String>,
    pub eligible: bool,
    pub transport_paid: bool,
    /// A reduction applies and the city confirms the amount (the quote's
    /// total is then 0 and has no lines).
    pub amount_to_be_confirmed: bool,
    /// The days asked for that the facility cannot take, with why (a dated
    /// closure's reason as staff wrote it).
    pub closed_days: Vec<ClosedDay>,
    /// The family's last day for this service (every baby of the birth eligible).
    pub last_eligible_day: Option<jiff::civil::Date>,
    #[serde(skip)]
    pub eligibility: Option<Eligibility>,
    /// The policy's `ApplyPostpartum` on the family, which submitting acts on.
    #[serde(skip)]
    pub decision: Allowed,
}

fn invalid(field: &'static str, code: &'static str) -> AppError {
    let mut e = FieldErrors::default();
    e.add(field, code);
    AppError::Invalid(e)
}

/// What an application is checked against besides the family's record:
/// whose it is and the policy's decision, the stay asked for, the facility
/// and the fee table (facts, not person data; read before the record).
struct Facts {
    family: FamilyId,
    decision: Allowed,
    service: ServiceType,
    stay: DateRange,
    facility: PostpartumFacility,
    table: FeeTable,
}

async fn facts(state: &AppState, actor: &Actor, input: &ApplicationInput) -> Result<Facts, AppError> {
    // Only a family member's account belongs to a family: it applies for its
    // own; staff name the family. The policy decides either way.
    let family = match actor.family_id {
        Some(own) => own,
        None => FamilyId(input.family_id.ok_or_else(|| invalid("family_id", "required"))?),
    };
    let (_, decision) = family_for(state, actor, family, Action::ApplyPostpartum).await?;
    let service = ServiceType::parse(input.service.trim()).ok_or_else(|| invalid("service", "invalid_choice"))?;
    let first: jiff::civil::Date = input.first_day.trim().parse().map_err(|_| invalid("first_day", "invalid_date"))?;
    let stay = requested_stay(first, input.days, state.clock.today()).map_err(|e| invalid(e.field(), e.code()))?;
    let facilities = state.store.postpartum_facilities(actor.municipality_id).await?;
    let facility = facilities
        .into_iter()
        .find(|f| f.venue.id == VenueId(input.venue_id))
        .ok_or_else(|| invalid("venue_id", "unknown_reference"))?;
    if !facility.calendar.offers(service) {
        return Err(invalid("service", "not_offered"));
    }
    if input.siblings > 0 && !facility.calendar.accepts_siblings(service) {
        return Err(invalid("siblings", "siblings_not_offered"));
    }
    let municipality = state.store.municipality(actor.municipality_id).await?.ok_or(AppError::NotFound)?;
    let table = fee_table(state, actor.municipality_id, municipality.code)
        .await?
        .ok_or(AppError::BadRequest("not_configured"))?;
    Ok(Facts { family, decision, service, stay, facility, table })
}

/// Checks and prices an application on the family's record (the babies,
/// siblings and household bracket).
fn check_application(facts: &Facts, record: &FamilyRecord, input: &ApplicationInput) -> Result<Prepared, AppError> {
    let (service, stay) = (facts.service, facts.stay);
    let babies_on_record = latest_babies(record).len();
    if babies_on_record == 0 {
        return Err(invalid("babies", "no_baby_on_record"));
    }
    if usize::from(input.babies) > babies_on_record || input.babies == 0 {
        return Err(invalid("babies", "out_of_range"));
    }
    check_siblings_against_record(record, input.siblings, input.siblings_confirmed)
        .map_err(|code| invalid("siblings", code))?;
    let bracket = record.family.fee_bracket;
    let request = QuoteRequest {
        bracket,
        service,
        days: input.days,
        babies: u32::from(input.babies),
        siblings: u32::from(input.siblings),
    };
    let quote = quote(&facts.table, request).map_err(|e| invalid("days", e.code()))?;
    let eligibility =
        eligibility_input(record, service, stay, input.siblings, &input.answers).map(|i| check_eligibility(&i));
    let refusals: Vec<String> =
        eligibility.as_ref().map(|e| e.codes().into_iter().map(str::to_owned).collect()).unwrap_or_default();
    // A closed day is refused here too, so nobody applies for a day the
    // facility is shut; the family sees which days and why.
    let mut refusals = refusals;
    let closed_days = facts.facility.calendar.closed_days(service, stay);
    if !closed_days.is_empty() {
        refusals.push("facility_closed".to_owned());
    }
    let override_reason = input.override_reason.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned);
    let transport_paid = city_pays_transport(bracket);
    let new = NewApplication {
        family_id: facts.family,
        venue_id: facts.facility.venue.id,
        service,
        stay,
        babies: input.babies,
        siblings: input.siblings,
        answers: input.answers,
        quote_total_yen: quote.total_yen,
        fee_to_be_confirmed: quote.amount_to_be_confirmed,
        transport_paid,
        refusals: refusals.clone(),
        override_reason,
    };
    Ok(Prepared {
        eligible: refusals.is_empty(),
        new,
        amount_to_be_confirmed: quote.amount_to_be_confirmed,
        quote,
        refusals,
        transport_paid,
        closed_days,
        last_eligible_day: eligibility.as_ref().map(|e| e.last_eligible_day),
        eligibility,
        decision: facts.decision,
    })
}

/// Checks and prices an application for `account` without storing it (a
/// preview). Reads the family's record (audited) for the babies and the
/// household bracket.
pub async fn prepare(
    state: &AppState,
    account: &Account,
    actor: &Actor,
    remote_addr: &str,
    input: &ApplicationInput,
) -> Result<Prepared, AppError> {
    let facts = facts(state, actor, input).await?;
    let ctx = audit_ctx(account, remote_addr, "postpartum application", state.clock.now()).allowed(&facts.decision);
    let record = state.store.open_family(&ctx, facts.family).await?.ok_or(AppError::NotFound)?;
    check_application(&facts, &record, input)
}

/// Refusals stop a family; a nurse may go on with a reason, which is kept
/// with the application and audited.
fn may_store(account: &Account, prepared: &Prepared) -> Result<(), AppError> {
    if !prepared.eligible {
        // Going ahead despite refusals is the reviewing nurse's, with a reason.
        let may_override = prepared.new.override_reason.is_some()
            && permit_municipality(&actor_of(account), Action::ReviewPostpartum).is_ok();
        if !may_override {
            return Err(AppError::Conflict("not_eligible"));
        }
    }
    Ok(())
}

/// Checks, prices and stores an application: the record is read inside the
/// store's own transaction, so applying writes one `postpartum.apply` line.
/// Returns what was decided whenever it got that far (a page shows it again
/// with a refusal).
pub async fn apply(
    state: &AppState,
    account: &Account,
    actor: &Actor,
    remote_addr: &str,
    input: &ApplicationInput,
) -> (Result<ApplicationId, AppError>, Option<Prepared>) {
    let facts = match facts(state, actor, input).await {
        Ok(f) => f,
        Err(e) => return (Err(e), None),
    };
    let ctx = audit_ctx(account, remote_addr, "postpartum application", state.clock.now()).allowed(&facts.decision);
    let decided = std::sync::Mutex::new(None);
    let check = |record: &FamilyRecord| -> Result<NewApplication, StoreError> {
        let prepared = check_application(&facts, record, input).map_err(into_store)?;
        let verdict = may_store(account, &prepared);
        let new = prepared.new.clone();
        if let Ok(mut d) = decided.lock() {
            *d = Some(prepared);
        }
        verdict.map_err(into_store)?;
        Ok(new)
    };
    let stored = state.store.create_application_checked(&ctx, facts.family, &check).await.map_err(AppError::from);
    (stored, decided.into_inner().ok().flatten())
}

/// A decision's refusal as the store passes it back out of its transaction.
fn into_store(e: AppError) -> StoreError {
    match e {
        AppError::Invalid(errors) => StoreError::Invalid(errors),
        AppError::Conflict(code) => StoreError::Conflict(code),
        AppError::NotFound => StoreError::NotFound,
        _ => StoreError::Conflict("not_eligible"),
    }
}

/// Approves an application: the facility calendar says how many places each
/// day has, the store takes one on each day or none. Residency is checked
/// again against the record as it is now ([001] 母子ともに世田谷区に住所を有する):
/// a move recorded since the family applied is `Conflict("not_resident")`.
/// Where the fee was to be confirmed, the nurse records the amount
/// (`fee_yen`, required then).
pub async fn approve(
    state: &AppState,
    requester: &Requester,
    actor: &Actor,
    id: ApplicationId,
    note: &str,
    audience: NoteAudience,
    fee_yen: Option<&str>,
) -> Result<(), AppError> {
    let ctx = &requester.allowed(&permit_municipality(actor, Action::ReviewPostpartum)?);
    let facilities = state.store.postpartum_facilities(actor.municipality_id).await?;
    let fee_yen = fee_yen.map(str::trim).filter(|f| !f.is_empty());
    // Decided on the application and the record as they stand inside the
    // approval's own transaction: the approval is the one audit line.
    let check = |facts: &ApprovalFacts| -> tsunagu_store::Result<Approval> {
        let refuse = |field: &'static str, code: &'static str| {
            let mut e = FieldErrors::default();
            e.add(field, code);
            StoreError::Invalid(e)
        };
        if !resident_during(&facts.pregnancies, facts.stay) {
            return Err(StoreError::Conflict("not_resident"));
        }
        let fee_yen = match fee_yen {
            _ if !facts.fee_to_be_confirmed => None,
            None => return Err(refuse("fee_yen", "required")),
            Some(f) => match f.replace(',', "").parse::<u32>() {
                Ok(n) if n <= MAX_CONFIRMED_FEE_YEN => Some(n),
                _ => return Err(refuse("fee_yen", "out_of_range")),
            },
        };
        let facility = facilities.iter().find(|f| f.venue.id == facts.venue).ok_or(StoreError::NotFound)?;
        let booking = booking_for(facility, facts.service, facts.stay).ok_or(StoreError::Conflict("no_capacity"))?;
        Ok(Approval { booking, fee_yen })
    };
    Ok(state.store.approve_application_checked(ctx, id, &check, note, audience).await?)
}

/// One place of the service's pool on each day of the stay.
pub fn booking_for(facility: &PostpartumFacility, service: ServiceType, stay: DateRange) -> Option<Booking> {
    let pool = facility.calendar.pools().iter().position(|p| p.services.contains(&service))?;
    let places = stay.days().map(|d| (d, facility.calendar.capacity(service, d))).collect();
    Some(Booking { pool: u32::try_from(pool).ok()?, places })
}

/// One facility's figures for a fiscal year.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FacilityFigures {
    pub venue_id: VenueId,
    pub name_ja: String,
    pub name_en: String,
    pub short_stay_days: u64,
    pub day_care_days: u64,
    pub total_days: u64,
    pub outreach_visits: u64,
    pub families: u64,
    /// Used places ÷ places offered on open days, as "81.3%"; none when nothing was offered.
    pub occupancy: Option<String>,
    /// The days approved bookings held, beside the days used (recorded by
    /// the facility): they differ by no-shows and early departures.
    pub booked_short_stay_days: u64,
    pub booked_day_care_days: u64,
    pub booked_outreach_visits: u64,
}

impl FacilityFigures {
    /// Did the facility use fewer (or more) days than were booked?
    pub fn booked_differs(&self) -> bool {
        self.booked_short_stay_days != self.short_stay_days
            || self.booked_day_care_days != self.day_care_days
            || self.booked_outreach_visits != self.outreach_visits
    }

    pub fn booked_total_days(&self) -> u64 {
        self.booked_short_stay_days.saturating_add(self.booked_day_care_days)
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Figures {
    pub fiscal_year: i32,
    pub label_ja: String,
    pub facilities: Vec<FacilityFigures>,
    /// Families per area, both facilities counted once.
    pub users_by_area: Vec<(tsunagu_domain::AreaId, u64)>,
}

pub async fn figures(state: &AppState, m: MunicipalityId, fy: FiscalYear) -> Result<Figures, AppError> {
    let range = fy.range();
    let mut facilities = Vec::new();
    for f in state.store.postpartum_facilities(m).await? {
        let usage = state.store.postpartum_usage(m, f.venue.id, range).await?;
        let used = UsedDays {
            short_stay_days: usage.short_stay_days,
            day_care_days: usage.day_care_days,
            outreach_visits: usage.outreach_visits,
        };
        // Occupancy of the pool short stay and day care draw on (the facility's places).
        let service =
            if f.calendar.offers(ServiceType::ShortStay) { ServiceType::ShortStay } else { ServiceType::DayCare };
        let rate = f
            .calendar
            .offers(service)
            .then(|| occupancy(&f.calendar, service, fy, used.facility_days()))
            .and_then(|o| o.rate());
        facilities.push(FacilityFigures {
            venue_id: f.venue.id,
            name_ja: f.venue.name_ja.clone(),
            name_en: f.venue.name_en.clone(),
            short_stay_days: usage.short_stay_days,
            day_care_days: usage.day_care_days,
            total_days: usage.short_stay_days + usage.day_care_days,
            outreach_visits: usage.outreach_visits,
            families: usage.families,
            occupancy: rate.map(|r| r.to_string()),
            booked_short_stay_days: usage.booked_short_stay_days,
            booked_day_care_days: usage.booked_day_care_days,
            booked_outreach_visits: usage.booked_outreach_visits,
        });
    }
    let users_by_area = state.store.postpartum_users_by_area(m, range).await?;
    Ok(Figures { fiscal_year: fy.year(), label_ja: fy.label_ja(), facilities, users_by_area })
}

/// The public quote request of `POST /api/v1/postpartum/quote`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteInput {
    pub bracket: String,
    pub service: String,
    pub days: u32,
    pub babies: u32,
    #[serde(default)]
    pub siblings: u32,
}

/// Prices a request on Setagaya's published table [001].
pub fn public_quote(input: &QuoteInput) -> Result<Quote, AppError> {
    let bracket = FeeBracket::parse(input.bracket.trim()).ok_or(AppError::BadRequest("unknown_bracket"))?;
    let service = ServiceType::parse(input.service.trim()).ok_or(AppError::BadRequest("unknown_service"))?;
    let request = QuoteRequest { bracket, service, days: input.days, babies: input.babies, siblings: input.siblings };
    quote(&FeeTable::setagaya(), request).map_err(|e| AppError::BadRequest(e.code()))
}

/// What is written with a decision: its note, whom it is for (`family`
/// or `office`, the default), for a day's note or record of use the day, and
/// for an approval the fee the nurse confirmed, where it was to be confirmed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Noted<'a> {
    pub note: &'a str,
    pub audience: Option<&'a str>,
    pub day: Option<&'a str>,
    pub fee_yen: Option<&'a str>,
    /// For a day's record (`notes`, #10): the care given (the seed's codes,
    /// `day_record::CareGiven`) and the mother's and the baby's condition.
    pub care: &'a [&'a str],
    pub mother: &'a str,
    pub baby: &'a str,
}

/// A decision on an application: `approve`, `reject`, `cancel` (nurses; a
/// family may cancel its own), `notes` (the facility's staff, for a day
/// of the stay), or `used` / `not_used` (the facility's daily record of use,
/// which the figures count). Each note is written for the family or the
/// office, as chosen (`policy::written_for`).
pub async fn decide(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    id: ApplicationId,
    decision: &str,
    noted: Noted<'_>,
) -> Result<(), AppError> {
    let note = noted.note.trim();
    if note.chars().count() > 2000 {
        return Err(invalid("note", "too_long"));
    }
    let chosen = NoteAudience::parse_or_office(noted.audience).ok_or_else(|| invalid("audience", "invalid_choice"))?;
    match decision {
        "approve" => {
            let (access, _, _) =
                crate::base::access::application_access(state, actor, id, Action::ViewApplication).await?;
            approve(state, requester, actor, id, note, written_for(actor, &access, chosen), noted.fee_yen).await
        }
        "used" | "not_used" => {
            let (_, ctx, day) = facility_day(state, actor, id, requester, noted.day).await?;
            on_a_day_of_the_stay(state.store.record_day_use(&ctx, id, day, decision == "used").await)
        }
        "reject" => {
            let (access, _, _) =
                crate::base::access::application_access(state, actor, id, Action::ViewApplication).await?;
            let allowed = permit_municipality(actor, Action::ReviewPostpartum)?;
            if note.is_empty() {
                return Err(invalid("note", "required"));
            }
            let audience = written_for(actor, &access, chosen);
            Ok(state.store.reject_application_noted(&requester.allowed(&allowed), id, note, audience).await?)
        }
        // The nurse, or the family its own (the policy's `CancelApplication`).
        "cancel" => {
            let (access, _, allowed) =
                crate::base::access::application_access(state, actor, id, Action::CancelApplication).await?;
            let audience = written_for(actor, &access, chosen);
            Ok(state.store.cancel_application_noted(&requester.allowed(&allowed), id, note, audience).await?)
        }
        "notes" => {
            let (access, ctx, day) = facility_day(state, actor, id, requester, noted.day).await?;
            let record = day_record(noted.care.iter().copied(), noted.mother, noted.baby, note)
                .map_err(|e| invalid(e.field(), e.code()))?;
            let audience = written_for(actor, &access, chosen);
            on_a_day_of_the_stay(state.store.record_stay_day(&ctx, id, day, &record, note, audience).await)
        }
        _ => Err(AppError::NotFound),
    }
}

/// A day of a stay that the facility's staff record on: what the policy
/// knows of the family and the facility (`application_owner`, nothing
/// personal read), the context of the decision to record at its facility
/// (`RecordAtFacility`), and the day asked for, which must have come
/// (`date_in_future` otherwise). Whether it is a day of the
/// stay the store checks inside the change's transaction
/// ([`on_a_day_of_the_stay`]): the change is the one audit line.
async fn facility_day(
    state: &AppState,
    actor: &Actor,
    id: ApplicationId,
    requester: &Requester,
    day: Option<&str>,
) -> Result<(FamilyAccess, tsunagu_domain::audit::AuditContext, jiff::civil::Date), AppError> {
    let (access, venue, _) = crate::base::access::application_access(state, actor, id, Action::ViewApplication).await?;
    let allowed = permit(
        actor,
        Action::RecordAtFacility,
        &Resource::Facility { municipality_id: actor.municipality_id, venue_id: venue },
    )?;
    let day: jiff::civil::Date = day.unwrap_or("").trim().parse().map_err(|_| invalid("day", "invalid_date"))?;
    // A day is recorded once it has come (#10): the record is of what happened.
    recordable(day, state.clock.today()).map_err(|e| invalid(e.field(), e.code()))?;
    Ok((access, requester.allowed(&allowed), day))
}

/// A facility's record of a day, answered as the form's field: a day that
/// is not one of the stay's is the `day` field out of range.
fn on_a_day_of_the_stay(done: tsunagu_store::Result<()>) -> Result<(), AppError> {
    match done {
        Err(StoreError::Conflict("day_not_in_stay")) => Err(invalid("day", "out_of_range")),
        other => Ok(other?),
    }
}

/// An application as the caller may see it: a note written for the office
/// is left out for whoever may not read office notes (the family), and so
/// is a nurse's reason for overriding the eligibility check.
pub fn shown_to(actor: &Actor, access: &FamilyAccess, mut app: Application) -> Application {
    if !sees_note(actor, access, app.review_note_audience) {
        app.review_note = None;
    }
    if !sees_note(actor, access, app.cancel_note_audience) {
        app.cancel_note = None;
    }
    if !sees_note(actor, access, NoteAudience::Office) {
        app.override_reason = None;
    }
    app
}

/// The day notes of a stay the caller may read (a family, only those written for it).
pub fn notes_shown_to(actor: &Actor, access: &FamilyAccess, mut notes: Vec<StayNote>) -> Vec<StayNote> {
    notes.retain(|n| sees_note(actor, access, n.audience));
    notes
}

/// One application, its day notes, the days the facility recorded as used,
/// and what the policy knows of its family, as the caller may see them (the
/// policy's `ViewApplication` first).
pub async fn application_shown(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    id: ApplicationId,
) -> Result<(FamilyAccess, Application, Vec<StayNote>, Vec<jiff::civil::Date>), AppError> {
    let (access, _, allowed) =
        crate::base::access::application_access(state, actor, id, Action::ViewApplication).await?;
    let (app, notes, used_days) =
        state.store.application_stay(&requester.allowed(&allowed), id).await?.ok_or(AppError::NotFound)?;
    Ok((access.clone(), shown_to(actor, &access, app), notes_shown_to(actor, &access, notes), used_days))
}

/// What a nurse decides an application on besides the application (#10).
#[derive(Debug, Clone)]
pub struct Review {
    /// Eligibility as the record stands today, with its reasons (`None`:
    /// no baby on record to decide on).
    pub eligibility: Option<Eligibility>,
    /// The family's other applications, latest stay first, with the days
    /// each used.
    pub others: Vec<(Application, u32)>,
    /// Days the facility recorded as used by the family's other
    /// applications, per service (the seed's limits are per birth and service).
    pub used_before: Vec<(ServiceType, u32)>,
    /// The latest screening results (the policy's `ViewScreenings`).
    pub screenings: Vec<tsunagu_store::StoredScreening>,
    /// The open referrals (the policy's `ManageReferrals`).
    pub referrals: Vec<tsunagu_store::StoredReferral>,
}

/// Screening results a review shows.
pub const REVIEW_SCREENINGS: u32 = 5;

/// An application as its reviewer sees it: each part decided by the policy
/// (the application by `ViewApplication`, the review by `ReviewPostpartum`,
/// the screenings by `ViewScreenings` on the family, the referrals by
/// `ManageReferrals`), then read as one with one `postpartum.view` line.
pub async fn application_reviewed(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    id: ApplicationId,
) -> Result<(FamilyAccess, Application, Vec<StayNote>, Vec<jiff::civil::Date>, Review), AppError> {
    use tsunagu_domain::policy::authorize;
    permit_municipality(actor, Action::ReviewPostpartum)?;
    let (access, _, allowed) =
        crate::base::access::application_access(state, actor, id, Action::ViewApplication).await?;
    let reads = tsunagu_store::ReviewReads {
        screenings: authorize(actor, Action::ViewScreenings, &Resource::Family(&access))
            .is_allowed()
            .then_some(REVIEW_SCREENINGS),
        open_referrals: authorize(actor, Action::ManageReferrals, &Resource::Municipality(actor.municipality_id))
            .is_allowed(),
    };
    let review =
        state.store.application_review(&requester.allowed(&allowed), id, reads).await?.ok_or(AppError::NotFound)?;
    let app = review.application;
    let eligibility = eligibility_input(&review.record, app.service, app.stay, app.siblings, &app.answers)
        .map(|i| check_eligibility(&i));
    let mut used_before: Vec<(ServiceType, u32)> = vec![];
    for (other, used) in &review.others {
        match used_before.iter_mut().find(|(s, _)| *s == other.service) {
            Some((_, n)) => *n = n.saturating_add(*used),
            None => used_before.push((other.service, *used)),
        }
    }
    used_before.retain(|(_, n)| *n > 0);
    let notes = notes_shown_to(actor, &access, review.notes);
    let app = shown_to(actor, &access, app);
    let others = review.others.into_iter().map(|(a, n)| (shown_to(actor, &access, a), n)).collect();
    let extra = Review { eligibility, others, used_before, screenings: review.screenings, referrals: review.referrals };
    Ok((access, app, notes, review.used_days, extra))
}

/// The applications of a listing as the caller may see them. A family's own
/// list is the mother's health items: her partner reads it only when she
/// shares them (the policy's `ViewHealth`; `NotShared` otherwise).
pub async fn applications_shown(
    state: &AppState,
    actor: &Actor,
    ctx: &tsunagu_domain::audit::AuditContext,
    filter: &ApplicationFilter,
) -> Result<Vec<Application>, AppError> {
    if let Some(own) = actor.family_id {
        crate::base::access::family_for(state, actor, own, Action::ViewHealth).await?;
    }
    let list = state.store.applications(ctx, filter).await?;
    let mut known: std::collections::HashMap<FamilyId, FamilyAccess> = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(list.len());
    for app in list {
        let access = match known.get(&app.family_id) {
            Some(a) => a.clone(),
            None => {
                let a =
                    state.store.family_access(actor.municipality_id, app.family_id).await?.ok_or(AppError::NotFound)?;
                known.insert(app.family_id, a.clone());
                a
            }
        };
        out.push(shown_to(actor, &access, app));
    }
    Ok(out)
}

/// The filter a caller may list with, and the policy's decision to list:
/// a family its own applications; a facility's (named, or the staff
/// member's own) for whoever may see that facility; any for the nurse who
/// reviews them.
pub(crate) async fn application_filter(
    state: &AppState,
    actor: &Actor,
    status: Option<&str>,
    venue: Option<i64>,
    family: Option<i64>,
) -> Result<(Allowed, tsunagu_store::ApplicationFilter), AppError> {
    let status = match status.filter(|s| !s.is_empty()) {
        Some(s) => Some(
            tsunagu_domain::postpartum::application::ApplicationStatus::parse(s)
                .ok_or(AppError::BadRequest("bad_query"))?,
        ),
        None => None,
    };
    let mut filter = tsunagu_store::ApplicationFilter {
        family_id: family.map(FamilyId),
        venue_id: venue.map(tsunagu_domain::VenueId),
        status,
        limit: 200,
    };
    let allowed = match (actor.family_id, filter.venue_id.or(actor.venues.first().copied())) {
        (Some(own), _) => {
            filter.family_id = Some(own);
            family_for(state, actor, own, Action::ApplyPostpartum).await?.1
        }
        (None, Some(v)) => {
            filter.venue_id = Some(v);
            permit(
                actor,
                Action::ViewFacility,
                &Resource::Facility { municipality_id: actor.municipality_id, venue_id: v },
            )?
        }
        (None, None) => permit_municipality(actor, Action::ReviewPostpartum)?,
    };
    Ok((allowed, filter))
}
