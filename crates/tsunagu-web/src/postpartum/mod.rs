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
use tsunagu_domain::policy::{Action, Allowed, Resource};
use tsunagu_domain::postpartum::application::{
    eligibility_input, latest_babies, requested_stay, ApplicationAnswers, NewApplication,
};
use tsunagu_domain::postpartum::eligibility::{check_eligibility, Eligibility};
use tsunagu_domain::postpartum::fees::{city_pays_transport, quote, FeeTable, Quote, QuoteRequest};
use tsunagu_domain::postpartum::occupancy::{occupancy, UsedDays};
use tsunagu_domain::postpartum::ServiceType;
use tsunagu_domain::records::FeeBracket;
use tsunagu_domain::roles::{Actor, Role};
use tsunagu_domain::validation::FieldErrors;
use tsunagu_domain::{ApplicationId, FamilyId, MunicipalityId, VenueId};
use tsunagu_store::{Account, Booking, PostpartumFacility};

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

/// The fee table of a municipality. Only Setagaya's is published [001];
/// another city's quotes are refused as `not_configured` until it is set up,
/// rather than guessed.
pub fn fee_table(code: MunicipalityCode) -> Option<FeeTable> {
    (code.to_string() == "131121").then(FeeTable::setagaya)
}

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

/// Checks and prices an application for `account`. Reads the family's
/// record (audited) for the babies and the household bracket.
pub async fn prepare(
    state: &AppState,
    account: &Account,
    actor: &Actor,
    remote_addr: &str,
    input: &ApplicationInput,
) -> Result<Prepared, AppError> {
    let family = match actor.role {
        Role::FamilyMember => actor.family_id.ok_or(AppError::Forbidden)?,
        _ => FamilyId(input.family_id.ok_or_else(|| invalid("family_id", "required"))?),
    };
    let (_, decision) = family_for(state, actor, family, Action::ApplyPostpartum).await?;
    let service = ServiceType::parse(input.service.trim()).ok_or_else(|| invalid("service", "invalid_choice"))?;
    let first: jiff::civil::Date = input.first_day.trim().parse().map_err(|_| invalid("first_day", "invalid_date"))?;
    let stay = requested_stay(first, input.days, state.clock.today()).map_err(|e| invalid(e.field(), e.code()))?;
    let facilities = state.store.postpartum_facilities(actor.municipality_id).await?;
    let facility = facilities
        .iter()
        .find(|f| f.venue.id == VenueId(input.venue_id))
        .ok_or_else(|| invalid("venue_id", "unknown_reference"))?;
    if !facility.calendar.offers(service) {
        return Err(invalid("service", "not_offered"));
    }
    if input.siblings > 0 && !facility.calendar.accepts_siblings(service) {
        return Err(invalid("siblings", "siblings_not_offered"));
    }
    let ctx = audit_ctx(account, remote_addr, "postpartum application", state.clock.now()).allowed(&decision);
    let record = state.store.open_family(&ctx, family).await?.ok_or(AppError::NotFound)?;
    let babies_on_record = latest_babies(&record).len();
    if babies_on_record == 0 {
        return Err(invalid("babies", "no_baby_on_record"));
    }
    if usize::from(input.babies) > babies_on_record || input.babies == 0 {
        return Err(invalid("babies", "out_of_range"));
    }
    let municipality = state.store.municipality(actor.municipality_id).await?.ok_or(AppError::NotFound)?;
    let table = fee_table(municipality.code).ok_or(AppError::BadRequest("not_configured"))?;
    let bracket = record.family.fee_bracket;
    let request = QuoteRequest {
        bracket,
        service,
        days: input.days,
        babies: u32::from(input.babies),
        siblings: u32::from(input.siblings),
    };
    let quote = quote(&table, request).map_err(|e| invalid("days", e.code()))?;
    let eligibility =
        eligibility_input(&record, service, stay, input.siblings, &input.answers).map(|i| check_eligibility(&i));
    let refusals: Vec<String> =
        eligibility.as_ref().map(|e| e.codes().into_iter().map(str::to_owned).collect()).unwrap_or_default();
    // A closed day is refused here too, so nobody applies for a day the facility is shut.
    let mut refusals = refusals;
    if stay.days().any(|d| facility.calendar.capacity(service, d) == 0) {
        refusals.push("facility_closed".to_owned());
    }
    let override_reason = input.override_reason.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned);
    let transport_paid = city_pays_transport(bracket);
    let new = NewApplication {
        family_id: family,
        venue_id: facility.venue.id,
        service,
        stay,
        babies: input.babies,
        siblings: input.siblings,
        answers: input.answers,
        quote_total_yen: quote.total_yen,
        transport_paid,
        refusals: refusals.clone(),
        override_reason,
    };
    Ok(Prepared { eligible: refusals.is_empty(), new, quote, refusals, transport_paid, eligibility, decision })
}

/// Stores a prepared application. Refusals stop a family; a nurse may go
/// on with a reason, which is kept with the application and audited.
pub async fn submit(
    state: &AppState,
    account: &Account,
    remote_addr: &str,
    prepared: &Prepared,
) -> Result<ApplicationId, AppError> {
    if !prepared.eligible {
        // Going ahead despite refusals is the reviewing nurse's, with a reason.
        let may_override = prepared.new.override_reason.is_some()
            && permit_municipality(&actor_of(account), Action::ReviewPostpartum).is_ok();
        if !may_override {
            return Err(AppError::Conflict("not_eligible"));
        }
    }
    let ctx = audit_ctx(account, remote_addr, "postpartum application", state.clock.now()).allowed(&prepared.decision);
    Ok(state.store.create_application(&ctx, &prepared.new).await?)
}

/// Approves an application: the facility calendar says how many places each
/// day has, the store takes one on each day or none.
pub async fn approve(
    state: &AppState,
    requester: &Requester,
    actor: &Actor,
    id: ApplicationId,
    note: &str,
) -> Result<(), AppError> {
    let ctx = &requester.allowed(&permit_municipality(actor, Action::ReviewPostpartum)?);
    let app = state.store.application(ctx, id).await?.ok_or(AppError::NotFound)?;
    let facilities = state.store.postpartum_facilities(actor.municipality_id).await?;
    let facility = facilities.iter().find(|f| f.venue.id == app.venue_id).ok_or(AppError::NotFound)?;
    let booking = booking_for(facility, app.service, app.stay).ok_or(AppError::Conflict("no_capacity"))?;
    Ok(state.store.approve_application(ctx, id, &booking, note).await?)
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

/// A decision on an application: `approve`, `reject`, `cancel` (nurses; a
/// family may cancel its own), or `notes` (the facility's staff, for a day
/// of the stay).
pub async fn decide(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    id: ApplicationId,
    decision: &str,
    note: &str,
    day: Option<&str>,
) -> Result<(), AppError> {
    let note = note.trim();
    if note.chars().count() > 2000 {
        return Err(invalid("note", "too_long"));
    }
    match decision {
        "approve" => approve(state, requester, actor, id, note).await,
        "reject" => {
            crate::base::access::application_access(state, actor, id, Action::ViewApplication).await?;
            let allowed = permit_municipality(actor, Action::ReviewPostpartum)?;
            if note.is_empty() {
                return Err(invalid("note", "required"));
            }
            Ok(state.store.reject_application(&requester.allowed(&allowed), id, note).await?)
        }
        // The nurse, or the family its own (the policy's `CancelApplication`).
        "cancel" => {
            let (_, allowed) =
                crate::base::access::application_access(state, actor, id, Action::CancelApplication).await?;
            Ok(state.store.cancel_application(&requester.allowed(&allowed), id, note).await?)
        }
        "notes" => {
            let (app, _) = crate::base::access::application_for(state, actor, requester, id).await?;
            let allowed = permit(
                actor,
                Action::RecordAtFacility,
                &Resource::Facility { municipality_id: actor.municipality_id, venue_id: app.venue_id },
            )?;
            let ctx = &requester.allowed(&allowed);
            let day: jiff::civil::Date =
                day.unwrap_or("").trim().parse().map_err(|_| invalid("day", "invalid_date"))?;
            if !app.stay.contains(day) {
                return Err(invalid("day", "out_of_range"));
            }
            if note.is_empty() {
                return Err(invalid("note", "required"));
            }
            Ok(state.store.record_stay_note(ctx, id, day, note).await?)
        }
        _ => Err(AppError::NotFound),
    }
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
