//! One contact: its window, its outcome and the status both give on a day.

use super::kinds::{ContactForm, ContactKind, Nature};
use crate::roles::Role;
use crate::{BabyId, ContactId, PregnancyId};
use jiff::civil::Date;
use jiff::ToSpan;
use serde::{Deserialize, Serialize};

/// What a contact is about. A delivery is named by its pregnancy: a
/// pregnancy ends in at most one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Subject {
    Pregnancy(PregnancyId),
    Delivery(PregnancyId),
    Baby(BabyId),
}

impl Subject {
    pub fn kind_str(self) -> &'static str {
        match self {
            Subject::Pregnancy(_) => "pregnancy",
            Subject::Delivery(_) => "delivery",
            Subject::Baby(_) => "baby",
        }
    }

    pub fn id(self) -> i64 {
        match self {
            Subject::Pregnancy(p) | Subject::Delivery(p) => p.0,
            Subject::Baby(b) => b.0,
        }
    }

    /// Builds a subject from its stored form (`kind_str`, `id`).
    pub fn parse(kind: &str, id: i64) -> Option<Subject> {
        match kind {
            "pregnancy" => Some(Subject::Pregnancy(PregnancyId(id))),
            "delivery" => Some(Subject::Delivery(PregnancyId(id))),
            "baby" => Some(Subject::Baby(BabyId(id))),
            _ => None,
        }
    }
}

/// When a contact may happen: from `opens`, should by `due`, can until
/// `closes` (all inclusive). Always `opens ≤ due ≤ closes`: the constructor
/// is the only way in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawWindow")]
pub struct Window {
    opens: Date,
    due: Date,
    closes: Date,
}

#[derive(Deserialize)]
struct RawWindow {
    opens: Date,
    due: Date,
    closes: Date,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a window must open on or before it is due, and be due on or before it closes")]
pub struct WindowError;

impl TryFrom<RawWindow> for Window {
    type Error = WindowError;
    fn try_from(r: RawWindow) -> Result<Self, Self::Error> {
        Window::new(r.opens, r.due, r.closes)
    }
}

impl Window {
    pub fn new(opens: Date, due: Date, closes: Date) -> Result<Window, WindowError> {
        if opens <= due && due <= closes {
            Ok(Window { opens, due, closes })
        } else {
            Err(WindowError)
        }
    }

    /// For the rules: pushes `due` and `closes` forward so the order holds.
    /// With real dates the rules already give an ordered window and this
    /// changes nothing; it only keeps saturated extremes from breaking it.
    pub(crate) fn ordered(opens: Date, due: Date, closes: Date) -> Window {
        let due = due.max(opens);
        Window { opens, due, closes: closes.max(due) }
    }

    pub fn opens(&self) -> Date {
        self.opens
    }

    pub fn due(&self) -> Date {
        self.due
    }

    pub fn closes(&self) -> Date {
        self.closes
    }

    pub fn contains(&self, day: Date) -> bool {
        self.opens <= day && day <= self.closes
    }
}

/// Why a contact was closed by a change of the family's facts (never by a
/// person: people record outcomes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// The family moved out of the municipality.
    MovedOut,
    /// The pregnancy ended in a loss (miscarriage, stillbirth).
    PregnancyLost,
    /// The baby died. Not in the brief's list: a per-baby contact for a baby
    /// who died (one twin, say) must leave every list, with care, like a loss.
    BabyDied,
    /// The facts no longer call for it: the birth came before it was due,
    /// the notification came after its window, a baby was removed from the
    /// record, the municipality does not run it, or it was a duplicate.
    NotApplicable,
}

impl CloseReason {
    pub const ALL: [CloseReason; 4] =
        [CloseReason::MovedOut, CloseReason::PregnancyLost, CloseReason::BabyDied, CloseReason::NotApplicable];

    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::MovedOut => "moved_out",
            CloseReason::PregnancyLost => "pregnancy_lost",
            CloseReason::BabyDied => "baby_died",
            CloseReason::NotApplicable => "not_applicable",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// How the facts ended a contact: the reason, and whether it is hidden —
/// kept (nothing is deleted) but shown on no list and no family page, so a
/// family that lost a baby is never invited to its health check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ending {
    pub reason: CloseReason,
    pub hidden: bool,
}

impl Ending {
    pub fn closed(reason: CloseReason) -> Ending {
        Ending { reason, hidden: false }
    }

    pub fn hidden(reason: CloseReason) -> Ending {
        Ending { reason, hidden: true }
    }
}

/// What somebody recorded about a contact. Once recorded, the facts never
/// change the contact again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Done {
        form: ContactForm,
    },
    /// Tried and could not reach the family.
    NotReached {
        attempts: u16,
    },
    Declined,
    NotApplicable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OutcomeError {
    #[error("{form} is not a way to do {kind}", form = .form.as_str())]
    FormNotAllowed { kind: ContactKind, form: ContactForm },
    #[error("a family not reached was tried at least once")]
    NoAttempts,
}

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Done { .. } => "done",
            Outcome::NotReached { .. } => "not_reached",
            Outcome::Declined => "declined",
            Outcome::NotApplicable => "not_applicable",
        }
    }

    /// Checks an outcome a person is about to record for a contact of `kind`.
    pub fn check(&self, kind: ContactKind) -> Result<(), OutcomeError> {
        match *self {
            Outcome::Done { form } if !kind.forms().contains(&form) => Err(OutcomeError::FormNotAllowed { kind, form }),
            Outcome::NotReached { attempts: 0 } => Err(OutcomeError::NoAttempts),
            _ => Ok(()),
        }
    }

    /// The stored form: the outcome's name, how it was done, the tries.
    pub fn to_stored(&self) -> (&'static str, Option<&'static str>, u16) {
        match *self {
            Outcome::Done { form } => ("done", Some(form.as_str()), 0),
            Outcome::NotReached { attempts } => ("not_reached", None, attempts),
            _ => (self.as_str(), None, 0),
        }
    }

    /// Back from [`Outcome::to_stored`]; `None` when the parts do not make an outcome.
    pub fn from_stored(outcome: &str, form: Option<&str>, attempts: i64) -> Option<Outcome> {
        match outcome {
            "done" => Some(Outcome::Done { form: form.and_then(ContactForm::parse)? }),
            "not_reached" => Some(Outcome::NotReached { attempts: u16::try_from(attempts).ok()? }),
            "declined" => Some(Outcome::Declined),
            "not_applicable" => Some(Outcome::NotApplicable),
            _ => None,
        }
    }

    /// Whether the outcome settles a contact of `kind` (see
    /// [`ContactKind::requires_whereabouts`]).
    pub fn settles(&self, kind: ContactKind) -> bool {
        !matches!(self, Outcome::NotReached { .. }) || !kind.requires_whereabouts()
    }
}

/// Why an outcome cannot be recorded on a contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RecordRefusal {
    /// An outcome that settles it is recorded already (two people must not
    /// overwrite each other).
    #[error("contact_settled")]
    Settled,
    /// The facts closed it (a move, a loss).
    #[error("contact_closed")]
    Closed,
}

impl RecordRefusal {
    pub fn code(self) -> &'static str {
        match self {
            RecordRefusal::Settled => "contact_settled",
            RecordRefusal::Closed => "contact_closed",
        }
    }
}

/// What is stored when `new` is recorded over what a contact holds: refused
/// once settled or closed; "not reached" adds its tries to those before
/// ("not reached twice, then once more" is three tries).
pub fn record_over(
    kind: ContactKind,
    previous: Option<&Outcome>,
    ending: Option<&Ending>,
    new: Outcome,
) -> Result<Outcome, RecordRefusal> {
    if previous.is_some_and(|o| o.settles(kind)) {
        return Err(RecordRefusal::Settled);
    }
    if ending.is_some() {
        return Err(RecordRefusal::Closed);
    }
    Ok(match (new, previous) {
        (Outcome::NotReached { attempts }, Some(Outcome::NotReached { attempts: before })) => {
            Outcome::NotReached { attempts: attempts.saturating_add(*before) }
        }
        (new, _) => new,
    })
}

/// A note added to the notes already kept on a contact, one per line.
pub fn append_note(existing: &str, note: &str) -> String {
    match (existing.is_empty(), note.is_empty()) {
        (_, true) => existing.to_owned(),
        (true, false) => note.to_owned(),
        (false, false) => format!("{existing}\n{note}"),
    }
}

/// The first day after a window that `closes` on that day, if it closed
/// before `today` with the contact still awaiting work: the day it was
/// missed (an offer: lapsed).
pub fn missed_on(awaits: bool, closes: Date, today: Date) -> Option<Date> {
    (awaits && closes < today).then(|| closes.saturating_add(1.days()))
}

/// A contact the facts call for, before it is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwedContact {
    /// The pregnancy whose timeline this is.
    pub pregnancy: PregnancyId,
    pub kind: ContactKind,
    pub subject: Subject,
    pub window: Window,
    pub owner: Role,
    pub with: &'static [Role],
    pub source: &'static str,
    /// `None` while owed; set when the facts end it (loss, move, birth first, …).
    pub ending: Option<Ending>,
}

/// A contact as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredContact {
    pub id: ContactId,
    pub pregnancy: PregnancyId,
    pub kind: ContactKind,
    pub subject: Subject,
    pub window: Window,
    pub outcome: Option<Outcome>,
    pub ending: Option<Ending>,
}

impl StoredContact {
    pub fn status(&self, today: Date) -> ContactStatus {
        status(self, today)
    }

    /// The role whose list the contact is on.
    pub fn owner(&self) -> Role {
        self.kind.owner()
    }

    /// Shown on no list and no family page.
    pub fn is_hidden(&self) -> bool {
        self.ending.is_some_and(|e| e.hidden)
    }
}

/// How many days ahead a due date makes a contact "due soon": within the
/// next seven days, today included.
pub const DUE_SOON_DAYS: i32 = 7;

/// Where a contact stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ContactStatus {
    /// Its window has not opened.
    Upcoming,
    /// Open, due later than a week from now.
    Open,
    /// Open and due within [`DUE_SOON_DAYS`].
    DueSoon,
    /// Past its due date, window still open.
    Overdue,
    /// A staff contact whose window closed with nothing recorded. It stays
    /// missed until somebody records an outcome.
    Missed,
    /// An offer or eligibility window that closed unused (nobody owed a visit).
    Lapsed,
    Done,
    /// Declined, not applicable, not reached, or ended by the facts.
    Closed,
}

impl ContactStatus {
    pub const ALL: [ContactStatus; 8] = [
        ContactStatus::Upcoming,
        ContactStatus::Open,
        ContactStatus::DueSoon,
        ContactStatus::Overdue,
        ContactStatus::Missed,
        ContactStatus::Lapsed,
        ContactStatus::Done,
        ContactStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ContactStatus::Upcoming => "upcoming",
            ContactStatus::Open => "open",
            ContactStatus::DueSoon => "due_soon",
            ContactStatus::Overdue => "overdue",
            ContactStatus::Missed => "missed",
            ContactStatus::Lapsed => "lapsed",
            ContactStatus::Done => "done",
            ContactStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Still waiting for somebody to do or record something.
    pub fn is_unresolved(self) -> bool {
        matches!(
            self,
            ContactStatus::Upcoming
                | ContactStatus::Open
                | ContactStatus::DueSoon
                | ContactStatus::Overdue
                | ContactStatus::Missed
        )
    }
}

/// Whether a contact still waits for somebody: no outcome that settles it
/// and not ended by the facts. The store keeps this as a column so the work
/// lists are index range scans; it must agree with [`status_of`] (a test checks).
pub fn awaits_work(kind: ContactKind, outcome: Option<&Outcome>, ending: Option<&Ending>) -> bool {
    outcome.is_none_or(|o| !o.settles(kind)) && ending.is_none()
}

/// The status of a contact on `today` (a date in Japan).
///
/// An outcome wins over everything, even over an ending (a nurse may record
/// a visit made the day before a move was entered) — except that "not
/// reached" does not settle the contacts that exist to find families
/// ([`ContactKind::requires_whereabouts`]): those go on by their dates.
/// Then an ending closes the contact. Otherwise the dates decide.
pub fn status(contact: &StoredContact, today: Date) -> ContactStatus {
    status_of(contact.kind, &contact.window, contact.outcome.as_ref(), contact.ending.as_ref(), today)
}

/// [`status`] from the parts, for callers that do not hold a [`StoredContact`].
pub fn status_of(
    kind: ContactKind,
    window: &Window,
    outcome: Option<&Outcome>,
    ending: Option<&Ending>,
    today: Date,
) -> ContactStatus {
    match outcome {
        Some(Outcome::Done { .. }) => return ContactStatus::Done,
        Some(o) if o.settles(kind) => return ContactStatus::Closed,
        _ => {}
    }
    if ending.is_some() {
        return ContactStatus::Closed;
    }
    if today < window.opens() {
        ContactStatus::Upcoming
    } else if today > window.closes() {
        match kind.nature() {
            Nature::Contact => ContactStatus::Missed,
            Nature::Offer => ContactStatus::Lapsed,
        }
    } else if today > window.due() {
        ContactStatus::Overdue
    } else if window.due() < today.saturating_add(DUE_SOON_DAYS.days()) {
        ContactStatus::DueSoon
    } else {
        ContactStatus::Open
    }
}
