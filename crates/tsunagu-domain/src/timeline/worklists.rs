//! Work lists as pure filters over contacts on a given day (a date in Japan).
//! Which contacts are passed in — a nurse's, a coordinator's areas', the
//! municipality's — is the store's query; these decide which of them are on
//! which list. Each keeps the order it was given; sorting is the page's.

use super::contact::{ContactStatus, StoredContact};
use super::dates::week_of;
use crate::roles::Role;
use jiff::civil::Date;
use serde::Serialize;

fn visible(c: &StoredContact) -> bool {
    !c.is_hidden()
}

/// Unresolved contacts due in the working week (Monday–Sunday, see
/// [`week_of`]) that contains `today`, and not yet overdue (those are on the
/// overdue list). Includes contacts whose window opens later this week.
pub fn due_this_week(contacts: &[StoredContact], today: Date) -> Vec<&StoredContact> {
    let (monday, sunday) = week_of(today);
    contacts
        .iter()
        .filter(|c| visible(c) && monday <= c.window.due() && c.window.due() <= sunday)
        .filter(|c| matches!(c.status(today), ContactStatus::Upcoming | ContactStatus::Open | ContactStatus::DueSoon))
        .collect()
}

/// Contacts past their due date whose window is still open.
pub fn overdue(contacts: &[StoredContact], today: Date) -> Vec<&StoredContact> {
    with_status(contacts, today, ContactStatus::Overdue)
}

/// Staff contacts whose window closed with nothing that settles them; they
/// stay here until somebody records an outcome. Lapsed offers are not here.
pub fn missed(contacts: &[StoredContact], today: Date) -> Vec<&StoredContact> {
    with_status(contacts, today, ContactStatus::Missed)
}

/// Contacts of one owner role (a nurse's list, a coordinator's list).
pub fn owned_by(contacts: &[StoredContact], role: Role) -> Vec<&StoredContact> {
    contacts.iter().filter(|c| c.owner() == role).collect()
}

fn with_status(contacts: &[StoredContact], today: Date, status: ContactStatus) -> Vec<&StoredContact> {
    contacts.iter().filter(|c| visible(c) && c.status(today) == status).collect()
}

/// The counts shown next to each list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WorkCounts {
    pub due_this_week: usize,
    pub overdue: usize,
    pub missed: usize,
}

pub fn counts(contacts: &[StoredContact], today: Date) -> WorkCounts {
    WorkCounts {
        due_this_week: due_this_week(contacts, today).len(),
        overdue: overdue(contacts, today).len(),
        missed: missed(contacts, today).len(),
    }
}

/// How far a work-list chip counts (#16). A nurse acts on the first page of
/// a list; past a thousand, a number tells her nothing more than "very
/// many", while an exact count would walk every open contact of the list on
/// every request (at 1M families a city's missed list alone holds ~18,000).
/// So a chip counts exactly up to this and shows 「999件以上」 beyond it; the
/// store reads `cap + 1` index entries at most ([`ChipCount::of`]).
pub const CHIP_COUNT_CAP: u32 = 999;

/// A chip's count as shown: exact up to the cap, "the cap or more" beyond it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChipCount {
    Exact(u64),
    /// More than the cap were found: shown as the cap and "or more".
    OverCap(u32),
}

impl ChipCount {
    /// The chip of a count read with at most `cap + 1` entries.
    pub fn of(counted: u64, cap: u32) -> ChipCount {
        if counted > u64::from(cap) {
            ChipCount::OverCap(cap)
        } else {
            ChipCount::Exact(counted)
        }
    }

    /// The number on the chip (the cap when over it).
    pub fn shown(self) -> u64 {
        match self {
            ChipCount::Exact(n) => n,
            ChipCount::OverCap(cap) => u64::from(cap),
        }
    }

    pub fn is_over_cap(self) -> bool {
        matches!(self, ChipCount::OverCap(_))
    }
}

/// What work lists an actor may draw: the families they may list (the
/// policy's listing filter), whose contacts their own list holds, and
/// whether they may widen it to other roles' contacts and other areas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkListAccess {
    pub filter: crate::policy::FamilyFilter,
    /// "My list": contacts this role owns…
    pub own_role: Role,
    /// …in these areas (a nurse's 担当地区; none set means every area).
    pub own_areas: Vec<crate::AreaId>,
    /// An area's or the whole municipality's list, every owner's contacts.
    pub may_widen: bool,
}

/// Nurses and coordinators work from lists; nobody else owns contacts.
/// A nurse sees every family of the municipality ([`crate::policy`]); her
/// own list is her areas'. A coordinator sees consenting families of her
/// areas only, on her own list and her areas' list.
/// Whether the actor works from lists at all is the policy's `ViewWorkList`.
pub fn work_list_access(actor: &crate::roles::Actor) -> Option<WorkListAccess> {
    use crate::policy::{authorize, Action, Resource};
    if !authorize(actor, Action::ViewWorkList, &Resource::Municipality(actor.municipality_id)).is_allowed() {
        return None;
    }
    let filter = crate::policy::family_filter(actor)?;
    Some(WorkListAccess { filter, own_role: actor.role, own_areas: actor.areas.clone(), may_widen: true })
}

/// Which roles may record what happened on a contact of `kind`: a nurse any
/// (the municipality's nurse answers for every family), otherwise the role
/// that owns it or takes part in it (a coordinator's happy-baby visit). The
/// policy's `RecordContact` asks this, and whether the role may see the family.
pub fn may_record(role: Role, kind: super::ContactKind) -> bool {
    role == Role::Nurse || kind.owner() == role || kind.with().contains(&role)
}
