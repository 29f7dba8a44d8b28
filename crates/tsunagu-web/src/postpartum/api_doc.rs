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

/// An application with what its reviewer decides on (#10).
#[derive(ToSchema)]
pub struct ApplicationReviewDoc {
    application: Application,
    notes: Vec<StayNote>,
    /// The days of this stay the facility recorded as used.
    used_days: Vec<jiff::civil::Date>,
    /// Eligibility as the family's record stands today; none without a baby on record.
    eligibility: Option<EligibilityDoc>,
    /// Days the family's other applications used, per service (only those with some).
    used_before: Vec<UsedBefore>,
    /// The family's other applications, latest stay first, each with its used days.
    others: Vec<OtherApplication>,
    /// The latest screening results, newest first (for whoever may see them).
    screenings: Vec<ScreeningBrief>,
    /// The family's open referrals (for whoever manages referrals).
    referrals: Vec<ReferralBrief>,
}

/// Eligibility today, with the reasons it refuses (codes).
#[derive(ToSchema)]
pub struct EligibilityDoc {
    eligible: bool,
    reasons: Vec<String>,
    last_eligible_day: jiff::civil::Date,
}

#[derive(ToSchema)]
pub struct UsedBefore {
    service: tsunagu_domain::postpartum::ServiceType,
    days: u32,
}

#[derive(ToSchema)]
pub struct OtherApplication {
    application: Application,
    used_days: u32,
}

/// A screening result in brief.
#[derive(ToSchema)]
pub struct ScreeningBrief {
    id: i64,
    /// `epds`, `bonding`, `support_checklist`, `notification`, …
    questionnaire: String,
    total: u32,
    positive: bool,
    urgent: bool,
    entered_at: jiff::Timestamp,
}

/// An open referral in brief.
#[derive(ToSchema)]
pub struct ReferralBrief {
    id: i64,
    /// Who raised it (`screening`, `facility`, …).
    source: String,
    status: String,
    urgent: bool,
    raised_at: jiff::Timestamp,
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
        super::api::review_application,
        super::api::decide_application,
        super::api::postpartum_figures
    ),
    tags((name = "postpartum", description = "Postpartum care [001]: quote, facilities, applications, figures"))
)]
pub struct ApiDoc;
