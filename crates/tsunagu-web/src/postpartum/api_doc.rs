//! What the postpartum API answers, for the OpenAPI document, and its operations.

#![allow(dead_code)] // Described, never built: the handlers answer the same shape.

use tsunagu_domain::places::Venue;
use tsunagu_domain::postpartum::application::Application;
use tsunagu_domain::postpartum::fees::Quote;
use tsunagu_domain::{AccountId, ApplicationId};
use utoipa::ToSchema;

/// The municipality's postpartum-care facilities.
#[derive(ToSchema)]
pub struct FacilityList {
    facilities: Vec<Facility>,
}

/// One facility and the services it offers.
#[derive(ToSchema)]
pub struct Facility {
    venue: Venue,
    operator_ja: String,
    operator_en: String,
    /// `short_stay`, `day_care`, `outreach`, … as the facility's calendar offers.
    services: Vec<String>,
    /// Whether the facility closes on public holidays (a setting; the seed's
    /// days are the default).
    closed_on_public_holidays: bool,
    /// Dated closures, with the reason staff gave (shown to families).
    closures: Vec<ClosureDoc>,
}

/// A dated closure of a facility.
#[derive(ToSchema)]
pub struct ClosureDoc {
    range: tsunagu_domain::dates::DateRange,
    reason: String,
}

/// An application made: its id, its quote and the refusals a nurse overrode.
#[derive(ToSchema)]
pub struct ApplicationMade {
    id: ApplicationId,
    quote: Quote,
    refusals: Vec<String>,
}

/// The applications the caller may see.
#[derive(ToSchema)]
pub struct ApplicationList {
    applications: Vec<Application>,
}

/// One application with the facility's day records.
#[derive(ToSchema)]
pub struct ApplicationWithNotes {
    application: Application,
    notes: Vec<StayNote>,
    /// The days of the stay the facility recorded as used.
    used_days: Vec<jiff::civil::Date>,
}

/// The facility's record of one day of a stay.
#[derive(ToSchema)]
pub struct StayNote {
    day: jiff::civil::Date,
    note: String,
    /// Whom the note was written for.
    audience: tsunagu_domain::notes::NoteAudience,
    by: AccountId,
    at: jiff::Timestamp,
    /// The care given that day (the seed's kinds of care), empty for a plain note.
    care: Vec<tsunagu_domain::postpartum::day_record::CareGiven>,
    /// The mother's condition that day.
    mother: String,
    /// The baby's condition that day (feeding, weight, sleep).
    baby: String,
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        super::api::postpartum_quote,
        super::api::postpartum_facilities,
        super::api::list_applications,
        super::api::create_application,
        super::api::preview_application,
        super::api::show_application,
        super::api::decide_application,
        super::api::postpartum_figures
    ),
    tags((name = "postpartum", description = "Postpartum care [001]: quote, facilities, applications, figures"))
)]
pub struct ApiDoc;
