//! What the timeline's API answers, for the OpenAPI document, and its operations.

#![allow(dead_code)] // Described, never built: the handlers answer the same shape.

use crate::base::openapi::ReferralFull;
use crate::base::views::ContactView;
use crate::timeline::Whose;
use jiff::civil::Date;
use utoipa::ToSchema;

/// How many contacts each list holds in the scope asked for.
#[derive(ToSchema)]
pub struct ListCounts {
    /// Each contact list's count is exact up to 999 (`CHIP_COUNT_CAP`);
    /// past it the count reads 999 and the list is named in `over_cap`.
    due_this_week: u64,
    overdue: u64,
    missed: u64,
    check_non_attendees: u64,
    /// The follow-ups: the open referrals the `urgent` list shows, urgent
    /// ones first; with a work list only (the counts alone read no referral).
    urgent: Option<u64>,
    /// Postpartum applications waiting for review: with a work list, for
    /// those who review them.
    applications_waiting: Option<u64>,
    /// The lists counted past the cap (shown 「999件以上」, "999+"); only
    /// when there is one.
    over_cap: Option<Vec<String>>,
}

/// One page of a work list, with the counts of every list.
#[derive(ToSchema)]
pub struct WorkList {
    /// The list shown: the one asked for, or without `list` the first that
    /// has work (`overdue`, `due_this_week`, `missed`, `check_non_attendees`,
    /// then `urgent` for those who work on referrals, else `open`).
    list: String,
    whose: Whose,
    today: Date,
    page: u32,
    has_more: bool,
    counts: ListCounts,
    /// The contacts (empty for `urgent`).
    items: Vec<ContactView>,
    /// The urgent follow-ups (for `urgent` only).
    followups: Vec<ReferralFull>,
}

/// The counts of every list in a scope.
#[derive(ToSchema)]
pub struct WorkCounts {
    whose: Whose,
    today: Date,
    counts: ListCounts,
}

/// The contacts a family is owed.
#[derive(ToSchema)]
pub struct ContactList {
    contacts: Vec<ContactView>,
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        super::api::work_list,
        super::api::work_counts,
        super::api::family_contacts,
        super::api::record_outcome,
        super::api::change_edd,
        super::api::end_pregnancy
    ),
    tags((name = "timeline", description = "The contacts every family is owed: work lists, outcomes, a new EDD, a loss or a move"))
)]
pub struct ApiDoc;
