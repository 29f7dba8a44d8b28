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
