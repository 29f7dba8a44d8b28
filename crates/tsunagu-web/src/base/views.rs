//! How a contact and a referral are shown wherever more than one capability
//! shows them: a contact in the API (`ContactView`: the timeline's lists,
//! the handbook meetings, the group sessions) and on the pages
//! (`ContactLine`: the work list, a contact, the family page's timeline), and
//! a referral in the API (the referrals and the work list's urgent list).

use jiff::civil::Date;
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;
use tsunagu_domain::roles::Role;
use tsunagu_domain::timeline::{ContactKind, ContactStatus, Outcome, StoredContact};
use tsunagu_domain::{AreaId, ContactId, FamilyId, PregnancyId};
use tsunagu_store::ContactRow;

/// A contact as the API shows it, with where it stands today.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ContactView {
    pub id: ContactId,
    pub family_id: FamilyId,
    pub area_id: AreaId,
    pub pregnancy_id: PregnancyId,
    pub kind: ContactKind,
    pub subject: tsunagu_domain::timeline::Subject,
    pub owner: Role,
    pub opens: Date,
    pub due: Date,
    pub closes: Date,
    pub status: ContactStatus,
    pub outcome: Option<Outcome>,
    pub ending: Option<tsunagu_domain::timeline::Ending>,
    pub outcome_note: String,
    /// Whom the outcome's note was written for (#10).
    pub outcome_note_audience: tsunagu_domain::notes::NoteAudience,
    /// The day the contact took place, as recorded with the outcome (#10);
    /// none where none was given (an outcome recorded before, or by a
    /// handbook meeting or a group session, which keep their own day).
    pub contacted_on: Option<Date>,
    pub missed_on: Option<Date>,
    pub mother_name: String,
    pub source: &'static str,
}

impl ContactView {
    pub fn of(r: &ContactRow, today: Date) -> ContactView {
        let c: &StoredContact = &r.contact;
        ContactView {
            id: c.id,
            family_id: r.family_id,
            area_id: r.area_id,
            pregnancy_id: c.pregnancy,
            kind: c.kind,
            subject: c.subject,
            owner: c.kind.owner(),
            opens: c.window.opens(),
            due: c.window.due(),
            closes: c.window.closes(),
            status: c.status(today),
            outcome: c.outcome,
            ending: c.ending,
            outcome_note: r.outcome_note.clone(),
            outcome_note_audience: r.outcome_note_audience,
            contacted_on: r.contacted_on,
            // For an offer the store's stamp is the day it lapsed: not "missed".
            missed_on: r.missed_on.filter(|_| c.kind.nature() == tsunagu_domain::timeline::Nature::Contact),
            mother_name: r.mother_name.clone(),
            source: c.kind.source(),
        }
    }
}

/// A contact row as the pages show it.
pub struct ContactLine {
    pub row: ContactRow,
    pub status: ContactStatus,
    pub area: String,
}

impl ContactLine {
    pub fn of(row: ContactRow, today: Date, areas: &HashMap<i64, String>) -> ContactLine {
        let status = row.contact.status(today);
        let area = areas.get(&row.area_id.0).cloned().unwrap_or_default();
        ContactLine { row, status, area }
    }

    pub fn kind(&self) -> &'static str {
        self.row.contact.kind.as_str()
    }

    pub fn subject(&self) -> &'static str {
        self.row.contact.subject.kind_str()
    }

    pub fn opens(&self) -> Date {
        self.row.contact.window.opens()
    }

    pub fn due(&self) -> Date {
        self.row.contact.window.due()
    }

    pub fn closes(&self) -> Date {
        self.row.contact.window.closes()
    }

    pub fn status_str(&self) -> &'static str {
        self.status.as_str()
    }

    pub fn outcome_str(&self) -> Option<&'static str> {
        self.row.contact.outcome.map(|o| o.as_str())
    }

    pub fn form_str(&self) -> Option<&'static str> {
        match self.row.contact.outcome {
            Some(Outcome::Done { form }) => Some(form.as_str()),
            _ => None,
        }
    }

    pub fn attempts(&self) -> u16 {
        match self.row.contact.outcome {
            Some(Outcome::NotReached { attempts }) => attempts,
            _ => 0,
        }
    }

    pub fn ending_str(&self) -> Option<&'static str> {
        self.row.contact.ending.map(|e| e.reason.as_str())
    }

    pub fn awaits(&self) -> bool {
        self.status.is_unresolved()
    }
}

/// A referral as JSON: in full for nurses, the status only for a raiser.
pub fn referral_json(r: &tsunagu_store::StoredReferral, full: bool) -> serde_json::Value {
    if full {
        json!({
            "id": r.id, "family_id": r.referral.family, "pregnancy_id": r.referral.pregnancy,
            "status": r.referral.status.as_str(), "urgent": r.referral.urgent, "source": r.referral.source,
            "raised_by_role": r.referral.raised_by, "escalated": r.referral.escalated,
            "specified_expectant_mother": r.referral.specified_expectant_mother,
            "close_reason": r.referral.close_reason, "note": r.note, "raised_at": r.raised_at,
            "venue_id": r.venue_id, "application_id": r.application_id, "mother_name": r.mother_name,
        })
    } else {
        json!({ "id": r.id, "status": r.referral.status.as_str(), "raised_at": r.raised_at, "application_id": r.application_id })
    }
}
