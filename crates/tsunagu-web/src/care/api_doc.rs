//! What the care API answers, for the OpenAPI document, and its operations.

#![allow(dead_code)] // Described, never built: the handlers answer the same shape.

use crate::base::openapi::{ReferralFull, ReferralItem};
use tsunagu_domain::{AccountId, FamilyId, FollowupId, IncidentId, TalkId, VenueId};
use utoipa::ToSchema;

/// The referrals the caller may list.
#[derive(ToSchema)]
pub struct ReferralList {
    referrals: Vec<ReferralItem>,
}

/// One referral with its history.
#[derive(ToSchema)]
pub struct ReferralWithHistory {
    referral: ReferralFull,
    events: Vec<ReferralEvent>,
}

/// One step in a referral's history.
#[derive(ToSchema)]
pub struct ReferralEvent {
    action: String,
    by: AccountId,
    at: jiff::Timestamp,
    note: String,
}

/// Free follow-up slots.
#[derive(ToSchema)]
pub struct SlotList {
    slots: Vec<Slot>,
}

/// One 20-minute slot, in Japan's local time (`YYYY-MM-DDTHH:MM:SS`).
#[derive(ToSchema)]
pub struct Slot {
    #[schema(value_type = String)]
    start: jiff::civil::DateTime,
    #[schema(value_type = String)]
    end: jiff::civil::DateTime,
}

/// Follow-up bookings and the fiscal year's count.
#[derive(ToSchema)]
pub struct FollowupList {
    followups: Vec<Followup>,
    /// Every booking of the municipality in the fiscal year.
    count_in_fiscal_year: u64,
}

/// One follow-up booking.
#[derive(ToSchema)]
pub struct Followup {
    id: FollowupId,
    venue_id: VenueId,
    family_id: FamilyId,
    /// Japan's local time, `YYYY-MM-DDTHH:MM:SS`.
    #[schema(value_type = String)]
    start: jiff::civil::DateTime,
    cancelled: bool,
}

/// The online talk's sessions of the next 90 days.
#[derive(ToSchema)]
pub struct TalkList {
    talks: Vec<Talk>,
}

/// One session of the online talk.
#[derive(ToSchema)]
pub struct Talk {
    id: TalkId,
    venue_id: VenueId,
    /// Japan's local time, `YYYY-MM-DDTHH:MM:SS`.
    #[schema(value_type = String)]
    starts: jiff::civil::DateTime,
    minutes: u16,
    title: String,
    attendees: u32,
}

/// The incident reports of a fiscal year.
#[derive(ToSchema)]
pub struct IncidentList {
    incidents: Vec<Incident>,
}

/// One incident report.
#[derive(ToSchema)]
pub struct Incident {
    id: IncidentId,
    venue_id: VenueId,
    /// The safety manual's heading.
    heading: String,
    /// Japan's local time, `YYYY-MM-DDTHH:MM:SS`.
    #[schema(value_type = String)]
    occurred: jiff::civil::DateTime,
    summary: String,
    family_id: Option<FamilyId>,
    reported_at: jiff::Timestamp,
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        super::api::list_referrals,
        super::api::create_referral,
        super::api::show_referral,
        super::api::act_referral,
        super::api::list_followups,
        super::api::create_followup,
        super::api::followup_slots,
        super::api::cancel_followup,
        super::api::list_talks,
        super::api::create_talk,
        super::api::join_talk,
        super::api::list_incidents,
        super::api::create_incident
    ),
    tags((name = "care", description = "Referrals, online follow-up consultations, the online talk, incident reports"))
)]
pub struct ApiDoc;
