//! Following the family: what the store must change so that the stored
//! timeline matches the facts. Nothing is ever deleted; a contact with a
//! recorded outcome is never changed.

use super::contact::{CloseReason, Ending, OwedContact, StoredContact, Subject, Window};
use super::facts::{PregnancyState, TimelineFacts};
use super::kinds::ContactKind;
use super::rules::owed_contacts;
use crate::ContactId;
use serde::Serialize;
use std::collections::BTreeMap;

/// One change for the store to apply (in order, in one transaction, each
/// with its audit line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum ContactChange {
    /// A contact the facts now call for. It may be born closed (a move or
    /// a loss already recorded): the timeline then still shows what would
    /// have been owed, and a later correction only has to reopen it.
    Create(OwedContact),
    /// New dates (a new EDD, a birth, a birth date corrected).
    MoveWindow { id: ContactId, from: Window, to: Window },
    /// Closed by the facts, still shown in the family's history.
    Close { id: ContactId, reason: CloseReason },
    /// Closed by the facts and kept off every list and family page.
    Hide { id: ContactId, reason: CloseReason },
    /// The facts that closed it were corrected: owed again, shown again.
    Reopen { id: ContactId },
}

impl ContactChange {
    /// The stored contact the change touches (`None` for a creation).
    pub fn contact_id(&self) -> Option<ContactId> {
        match self {
            ContactChange::Create(_) => None,
            ContactChange::MoveWindow { id, .. }
            | ContactChange::Close { id, .. }
            | ContactChange::Hide { id, .. }
            | ContactChange::Reopen { id } => Some(*id),
        }
    }
}

fn end(id: ContactId, e: Ending) -> ContactChange {
    if e.hidden {
        ContactChange::Hide { id, reason: e.reason }
    } else {
        ContactChange::Close { id, reason: e.reason }
    }
}

/// The changes that bring `existing` in line with `facts`.
///
/// - Only contacts of `facts.pregnancy` are considered: anything else in
///   `existing` (another pregnancy of the family, another family) is left
///   alone, so a store that passes too much cannot close somebody else's
///   contacts.
/// - A contact with an outcome is never touched.
/// - Each owed contact is matched to the stored one of the same kind and
///   subject; its window and ending are brought in line. A duplicate (two
///   stored for one kind and subject) keeps the one with an outcome, else the
///   oldest; the others are closed as not applicable.
/// - A stored contact the facts no longer call for is closed: hidden with
///   `pregnancy_lost` after a loss (the infant contacts of a birth recorded
///   in error), otherwise `not_applicable` (a baby removed from the record,
///   a kind the municipality stopped running).
///
/// Applying the result and reconciling again gives no change; and from any
/// stored state of the same pregnancy and babies, the result equals the
/// timeline built from the facts alone (so changing the EDD twice is the same
/// as changing it once to the final value).
///
/// There is no `today`: every ending is dated by the facts (the move, the
/// loss, the birth), and missed / overdue are read from the dates when the
/// lists are drawn, so no daily job has to rewrite contacts.
pub fn reconcile(existing: &[StoredContact], facts: &TimelineFacts) -> Vec<ContactChange> {
    let pregnancy = facts.pregnancy.id;
    let mut stored: BTreeMap<(ContactKind, Subject), Vec<&StoredContact>> = BTreeMap::new();
    for c in existing.iter().filter(|c| c.pregnancy == pregnancy) {
        stored.entry((c.kind, c.subject)).or_default().push(c);
    }
    for list in stored.values_mut() {
        // The one kept: with an outcome first, then the oldest.
        list.sort_by_key(|c| (c.outcome.is_none(), c.id));
    }

    let mut changes = Vec::new();
    for owed in owed_contacts(facts) {
        let Some(list) = stored.remove(&(owed.kind, owed.subject)) else {
            changes.push(ContactChange::Create(owed));
            continue;
        };
        let mut list = list.into_iter();
        if let Some(keep) = list.next() {
            if keep.outcome.is_none() {
                bring_in_line(keep, &owed, &mut changes);
            }
        }
        let duplicate = Ending::closed(CloseReason::NotApplicable);
        for dup in list.filter(|c| c.outcome.is_none() && c.ending != Some(duplicate)) {
            changes.push(end(dup.id, duplicate));
        }
    }

    let gone = if matches!(facts.pregnancy.state, PregnancyState::Lost(_)) {
        Ending::hidden(CloseReason::PregnancyLost)
    } else {
        Ending::closed(CloseReason::NotApplicable)
    };
    for c in stored.into_values().flatten() {
        if c.outcome.is_none() && c.ending != Some(gone) {
            changes.push(end(c.id, gone));
        }
    }
    changes
}

fn bring_in_line(keep: &StoredContact, owed: &OwedContact, changes: &mut Vec<ContactChange>) {
    if keep.window != owed.window {
        changes.push(ContactChange::MoveWindow { id: keep.id, from: keep.window, to: owed.window });
    }
    match (keep.ending, owed.ending) {
        (Some(_), None) => changes.push(ContactChange::Reopen { id: keep.id }),
        (current, Some(wanted)) if current != Some(wanted) => changes.push(end(keep.id, wanted)),
        _ => {}
    }
}

/// Applies changes to an in-memory copy of the stored contacts, the way the
/// store applies them to its tables (which must also refuse to touch a row
/// whose outcome was recorded since it was read: `… WHERE outcome IS NULL`).
/// New contacts take ids from `new_id`. For tests and for in-memory callers.
pub fn apply_changes(
    stored: &[StoredContact],
    changes: &[ContactChange],
    mut new_id: impl FnMut() -> ContactId,
) -> Vec<StoredContact> {
    let mut out = stored.to_vec();
    for change in changes {
        if let ContactChange::Create(o) = change {
            out.push(StoredContact {
                id: new_id(),
                pregnancy: o.pregnancy,
                kind: o.kind,
                subject: o.subject,
                window: o.window,
                outcome: None,
                ending: o.ending,
            });
            continue;
        }
        let Some(c) = change.contact_id().and_then(|id| out.iter_mut().find(|c| c.id == id)) else {
            continue;
        };
        if c.outcome.is_some() {
            continue;
        }
        match *change {
            ContactChange::MoveWindow { to, .. } => c.window = to,
            ContactChange::Close { reason, .. } => c.ending = Some(Ending::closed(reason)),
            ContactChange::Hide { reason, .. } => c.ending = Some(Ending::hidden(reason)),
            ContactChange::Reopen { .. } => c.ending = None,
            ContactChange::Create(_) => {}
        }
    }
    out
}
