//! The seamless timeline (DOMAIN.md §3, PRODUCT.md §1.2): the contacts every
//! family is owed from the pregnancy notification through the first year,
//! each with a window, an owner and an outcome, so that a missed one surfaces.
//!
//! - [`owed_contacts`] derives them from one pregnancy's [`TimelineFacts`];
//! - [`reconcile`] turns a change of facts into [`ContactChange`]s for the
//!   store (nothing is deleted, nothing with an outcome is touched);
//! - [`status`] says where a contact stands on a day, and the work-list
//!   filters ([`due_this_week`], [`overdue`], [`missed`]) build on it;
//! - [`propose_groups`] proposes the 8th-month group sessions [002], and
//!   [`meetings`] decides who records them and the monthly handbook
//!   meeting, and checks what they record.
//!
//! Dates are calendar dates in Japan; the rules take them as parameters.

/// The version of the schedule rules. A store records it on each pregnancy
/// whose contacts it built; a change of the rules bumps it, and the stores'
/// backfill rebuilds the pregnancies built with an older one. 2: a multiple
/// birth's postpartum windows close on the days every baby is eligible for.
pub const RULES_VERSION: i64 = 2;

#[deny(clippy::arithmetic_side_effects)]
pub mod contact;
pub mod contact_day;
#[deny(clippy::arithmetic_side_effects)]
pub mod dates;
pub mod facts;
#[deny(clippy::arithmetic_side_effects)]
pub mod groups;
pub mod kinds;
#[deny(clippy::arithmetic_side_effects)]
pub mod meetings;
#[deny(clippy::arithmetic_side_effects)]
pub mod reconcile;
#[deny(clippy::arithmetic_side_effects)]
pub mod rules;
#[deny(clippy::arithmetic_side_effects)]
pub mod worklists;

pub use contact::{
    append_note, awaits_work, missed_on, record_over, status, status_of, CloseReason, ContactStatus, Ending, Outcome,
    OutcomeError, OwedContact, RecordRefusal, StoredContact, Subject, Window, WindowError, DUE_SOON_DAYS,
};
pub use facts::{BabyFacts, FactsError, PregnancyFacts, PregnancyState, TimelineFacts};
pub use groups::{propose_groups, DueMonth, PregnancyRef, ProposedGroup};
pub use kinds::{ContactForm, ContactKind, KindSet, Nature, SubjectScope};
pub use reconcile::{apply_changes, reconcile, ContactChange};
pub use rules::{owed_contacts, MAX_DUE_TO_CLOSE_DAYS};
pub use worklists::{
    counts, due_this_week, may_record, missed, overdue, owned_by, work_list_access, ChipCount, WorkCounts,
    WorkListAccess, CHIP_COUNT_CAP,
};

#[cfg(test)]
mod tests;
