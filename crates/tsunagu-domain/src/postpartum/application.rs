//! An application for postpartum care and its review: what a family (or a
//! nurse for them) asks for, what was answered, what it was quoted, and
//! what the nurse decided. [001] 対象者, 利用料.

use crate::dates::DateRange;
use crate::postpartum::eligibility::{EligibilityInput, GestationalAge};
use crate::postpartum::ServiceType;
use crate::records::{Baby, FamilyRecord};
use crate::{AccountId, ApplicationId, FamilyId, MunicipalityId, VenueId};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    /// Waiting for the nurse's review.
    Applied,
    /// Approved: every day of the stay holds a place at the facility.
    Approved,
    Rejected,
    /// Withdrawn by the family or cancelled by staff; its places are free again.
    Cancelled,
}

impl ApplicationStatus {
    pub const ALL: [ApplicationStatus; 4] = [
        ApplicationStatus::Applied,
        ApplicationStatus::Approved,
        ApplicationStatus::Rejected,
        ApplicationStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationStatus::Applied => "applied",
            ApplicationStatus::Approved => "approved",
            ApplicationStatus::Rejected => "rejected",
            ApplicationStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// What the family answered about its situation ([001] 対象者). An answer
/// left out is "no".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApplicationAnswers {
    pub rolls_over_actively: bool,
    pub needs_medical_treatment: bool,
    pub has_worries_or_fatigue: bool,
    pub lacks_help_from_relatives: bool,
    /// Asked because staff want to know; never a reason to refuse.
    pub grandparents_nearby: bool,
}

/// An application as it is stored when made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApplication {
    pub family_id: FamilyId,
    pub venue_id: VenueId,
    pub service: ServiceType,
    /// The days asked for (6 nights = 7 days; one day of day care or one visit).
    pub stay: DateRange,
    pub babies: u8,
    pub siblings: u8,
    pub answers: ApplicationAnswers,
    /// The quote shown to the family before it applied.
    pub quote_total_yen: u32,
    /// The city pays transport (non-taxed and public-assistance households).
    pub transport_paid: bool,
    /// Refusal codes of the eligibility check when it was made (empty when eligible).
    pub refusals: Vec<String>,
    /// A nurse's reason for going ahead despite the refusals; required when
    /// `refusals` is not empty.
    pub override_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Application {
    pub id: ApplicationId,
    pub municipality_id: MunicipalityId,
    pub family_id: FamilyId,
    pub venue_id: VenueId,
    pub service: ServiceType,
    pub stay: DateRange,
    pub babies: u8,
    pub siblings: u8,
    pub answers: ApplicationAnswers,
    pub quote_total_yen: u32,
    pub transport_paid: bool,
    pub refusals: Vec<String>,
    pub override_reason: Option<String>,
    pub status: ApplicationStatus,
    pub applied_by: AccountId,
    pub applied_at: Timestamp,
    pub reviewed_by: Option<AccountId>,
    pub reviewed_at: Option<Timestamp>,
    pub review_note: Option<String>,
    /// The mother's name, for staff lists (never shown to other families).
    pub mother_name: String,
}

/// The babies an application is about: those of the family's latest birth.
pub fn latest_babies(record: &FamilyRecord) -> Vec<&Baby> {
    let Some(latest) = record.babies.iter().map(|b| b.birth_date).max() else { return vec![] };
    // Multiples are born within a couple of days of each other.
    record.babies.iter().filter(|b| (latest - b.birth_date).get_days().abs() <= 2).collect()
}

/// Builds the eligibility question from the record and the answers. The
/// youngest-by-corrected-age baby decides the age limit, so twins with
/// different corrected ages are judged by the later limit of the two.
pub fn eligibility_input(
    record: &FamilyRecord,
    service: ServiceType,
    stay: DateRange,
    siblings: u8,
    answers: &ApplicationAnswers,
) -> Option<EligibilityInput> {
    let babies = latest_babies(record);
    let effective_birth = |b: &&&Baby| match GestationalAge::new(b.gestational_weeks, b.gestational_days) {
        Ok(ga) if b.long_hospitalisation => crate::postpartum::eligibility::corrected_birth_date(b.birth_date, ga),
        _ => b.birth_date,
    };
    let baby = babies.iter().max_by_key(effective_birth)?;
    let gestational_age = GestationalAge::new(baby.gestational_weeks, baby.gestational_days).ok()?;
    Some(EligibilityInput {
        service,
        requested: stay,
        // A record is kept by the municipality the family lives in; a move
        // out closes it (the timeline's `moved_out`).
        mother_resident: true,
        baby_resident: true,
        baby_birth_date: baby.birth_date,
        gestational_age,
        long_hospitalisation: baby.long_hospitalisation,
        rolls_over_actively: answers.rolls_over_actively,
        preschool_siblings: u32::from(siblings),
        needs_medical_treatment: answers.needs_medical_treatment,
        has_worries_or_fatigue: answers.has_worries_or_fatigue,
        lacks_help_from_relatives: answers.lacks_help_from_relatives,
        grandparents_nearby: answers.grandparents_nearby,
    })
}
