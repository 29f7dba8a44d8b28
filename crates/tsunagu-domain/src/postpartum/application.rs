//! An application for postpartum care and its review: what a family (or a
//! nurse for them) asks for, what was answered, what it was quoted, and
//! what the nurse decided. [001] 対象者, 利用料.

use crate::dates::{DateRange, Horizon, OutsideHorizon};
use crate::postpartum::eligibility::{EligibilityInput, GestationalAge};
use crate::postpartum::ServiceType;
use crate::records::{Baby, FamilyRecord};
use crate::{AccountId, ApplicationId, FamilyId, MunicipalityId, VenueId};
use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Whom the review note was written for (office unless chosen).
    pub review_note_audience: crate::notes::NoteAudience,
    /// Why it was cancelled, in the words of whoever cancelled it.
    pub cancel_note: Option<String>,
    /// Whom the cancellation's note was written for.
    pub cancel_note_audience: crate::notes::NoteAudience,
    /// The mother's name, for staff lists (never shown to other families).
    pub mother_name: String,
}

/// The most days one application may ask for. Every service ends before the
/// baby's first birthday ([001] (３) 産後１年未満; short stay and day care at
/// 4 months), so no request can usefully cover more than a year; the fee
/// table then refuses more than its own maximum (7 days in Setagaya). The
/// bound keeps a typed count from reaching the calendar arithmetic at all.
pub const MAX_REQUESTED_DAYS: u32 = 366;

/// How far ahead the first day may lie: a year, for the same reason — a
/// baby on record today is past every age limit a year from now.
pub const FIRST_DAY_HORIZON: Horizon = Horizon::new(0, 366);

/// Why the days asked for cannot be a stay. `field` and `code` are the
/// field error the pages and the API show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StayError {
    #[error("the first day is in the past")]
    FirstDayInPast,
    #[error("the first day is too far ahead")]
    FirstDayTooLate,
    #[error("the number of days is out of range")]
    DaysOutOfRange,
}

impl StayError {
    pub fn field(self) -> &'static str {
        match self {
            StayError::FirstDayInPast | StayError::FirstDayTooLate => "first_day",
            StayError::DaysOutOfRange => "days",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            StayError::FirstDayInPast => "date_in_past",
            StayError::FirstDayTooLate => OutsideHorizon::TooLate.code(),
            StayError::DaysOutOfRange => "out_of_range",
        }
    }
}

/// The days an application asks for: `days` days from `first_day`, which
/// is today or later and within [`FIRST_DAY_HORIZON`]; `days` is 1 to
/// [`MAX_REQUESTED_DAYS`].
pub fn requested_stay(first_day: Date, days: u32, today: Date) -> Result<DateRange, StayError> {
    match FIRST_DAY_HORIZON.check(first_day, today) {
        Ok(_) => {}
        Err(OutsideHorizon::TooEarly) => return Err(StayError::FirstDayInPast),
        Err(OutsideHorizon::TooLate) => return Err(StayError::FirstDayTooLate),
    }
    if !(1..=MAX_REQUESTED_DAYS).contains(&days) {
        return Err(StayError::DaysOutOfRange);
    }
    DateRange::starting(first_day, days).ok_or(StayError::DaysOutOfRange)
}

/// The babies an application is about: those of the family's latest birth.
pub fn latest_babies(record: &FamilyRecord) -> Vec<&Baby> {
    let Some(latest) = record.babies.iter().map(|b| b.birth_date).max() else { return vec![] };
    // Multiples are born within a couple of days of each other.
    record.babies.iter().filter(|b| crate::dates::days_between(b.birth_date, latest).abs() <= 2).collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    #[test]
    fn a_stay_is_days_from_today_within_a_year() {
        let today = date(2026, 11, 22);
        assert_eq!(requested_stay(today, 7, today).map(|r| r.last()), Ok(date(2026, 11, 28)));
        assert_eq!(requested_stay(date(2026, 11, 21), 1, today), Err(StayError::FirstDayInPast));
        assert_eq!(requested_stay(date(2027, 11, 23), 1, today).map(|r| r.len_days()), Ok(1));
        assert_eq!(requested_stay(date(2027, 11, 24), 1, today), Err(StayError::FirstDayTooLate));
        assert_eq!(requested_stay(date(9999, 12, 31), 1, today), Err(StayError::FirstDayTooLate));
        assert_eq!(requested_stay(today, 0, today), Err(StayError::DaysOutOfRange));
        assert_eq!(requested_stay(today, MAX_REQUESTED_DAYS, today).map(|r| r.len_days()), Ok(366));
        assert_eq!(requested_stay(today, MAX_REQUESTED_DAYS + 1, today), Err(StayError::DaysOutOfRange));
        // The count that made jiff panic (7,304,486 days) is an input error.
        assert_eq!(requested_stay(today, 7_304_486, today), Err(StayError::DaysOutOfRange));
        assert_eq!(StayError::FirstDayTooLate.code(), "date_too_late");
    }

    proptest! {
        /// Any first day and any count: an answer, never a panic; a stay
        /// that is given has exactly the days asked for, inside the horizon.
        #[test]
        fn any_request_is_answered(first in -3_652_059i64..=2_932_896, days in any::<u32>(), t in 0i64..40_000) {
            let first = crate::dates::add_days(Date::MIN, first.saturating_add(3_652_059)).unwrap_or(Date::MAX);
            let today = crate::dates::add_days(date(1990, 1, 1), t).unwrap();
            if let Ok(stay) = requested_stay(first, days, today) {
                prop_assert_eq!(stay.first(), first);
                prop_assert_eq!(stay.len_days(), days);
                prop_assert!(first >= today);
                prop_assert!(crate::dates::days_between(today, first) <= 366);
            }
        }
    }
}
