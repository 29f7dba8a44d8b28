//! What the meetings' API answers, for the OpenAPI document, and its operations.

#![allow(dead_code)] // Described, never built: the handlers answer the same shape.

use crate::meetings::{HandbookEntryView, MeetingView, ProposalView, SessionView};
use tsunagu_domain::AreaId;
use utoipa::ToSchema;

/// A month of an area's handbook list, its meeting, and the fiscal year's.
#[derive(ToSchema)]
pub struct HandbookList {
    area_id: AreaId,
    /// `YYYY-MM`.
    month: String,
    entries: Vec<HandbookEntryView>,
    meeting: Option<MeetingView>,
    /// The fiscal year's twelve months, each with its meeting if recorded.
    fiscal_year: Vec<HandbookMonth>,
}

/// One month of the fiscal year.
#[derive(ToSchema)]
pub struct HandbookMonth {
    /// `YYYY-MM`.
    month: String,
    meeting: Option<MeetingView>,
}

/// The groups proposed for a due month.
#[derive(ToSchema)]
pub struct ProposalList {
    /// `YYYY-MM`.
    due_month: String,
    groups: Vec<ProposalView>,
}

/// The sessions confirmed for a due month.
#[derive(ToSchema)]
pub struct SessionList {
    /// `YYYY-MM`.
    due_month: String,
    sessions: Vec<SessionView>,
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        super::api::handbook,
        super::api::record_meeting,
        super::api::sessions,
        super::api::confirm_session,
        super::api::proposals,
        super::api::session,
        super::api::attendance
    ),
    tags((name = "meetings", description = "The monthly handbook meeting and the 8th-month group sessions [002]"))
)]
pub struct ApiDoc;
