//! An application for postpartum care and its review: what a family (or a
//! nurse for them) asks for, what was answered, what it was quoted, and
//! what the nurse decided. [001] 対象者, 利用料.

use crate::dates::{DateRange, Horizon, OutsideHorizon};
use crate::postpartum::eligibility::{deciding_baby, EligibilityInput, GestationalAge, PairBaby};
use crate::postpartum::ServiceType;
use crate::records::{Baby, FamilyRecord, Pregnancy, PregnancyStatus};
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
    /// A reduction applies whose amount the municipality has not set: the
    /// nurse records the amount when she approves ([`super::fees::Quote::amount_to_be_confirmed`]).
    pub fee_to_be_confirmed: bool,
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
    pub fee_to_be_confirmed: bool,
    /// The amount the nurse recorded at approval where it was to be confirmed.
    pub confirmed_fee_yen: Option<u32>,
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
/// 4 months), so no request can usefully cover more than a year. [001] sets
/// no shorter maximum; a municipality may set one in its fee table
/// (`FeeTable::max_days`, none by default). The bound keeps a typed count
/// from reaching the calendar arithmetic at all.
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

/// The babies of the latest birth as the age limit sees them.
pub fn pair_babies(record: &FamilyRecord) -> Vec<PairBaby> {
    latest_babies(record)
        .into_iter()
        .map(|b| PairBaby {
            birth: b.birth_date,
            gestational_weeks: b.gestational_weeks,
            gestational_days: b.gestational_days,
            long_hospitalisation: b.long_hospitalisation,
        })
        .collect()
}

/// The day the family moved out of the municipality, as the record says:
/// the latest move recorded on any of its pregnancies (`moved_out`, the
/// timeline's move), unless a pregnancy was notified here after it (the
/// family is back). `None` when the family lives here.
pub fn moved_out_on(record: &FamilyRecord) -> Option<Date> {
    moved_out_of(&record.pregnancies)
}

/// [`moved_out_on`] from the family's pregnancies alone (what a store reads
/// inside an approval's transaction).
pub fn moved_out_of(pregnancies: &[Pregnancy]) -> Option<Date> {
    let moved =
        pregnancies.iter().filter(|p| p.status == PregnancyStatus::MovedOut).filter_map(|p| p.ended_on).max()?;
    let back = pregnancies.iter().any(|p| p.notified_on > moved);
    (!back).then_some(moved)
}

/// Does the family live in the municipality on every day of `stay`? A
/// family recorded as moved out on or before a day of the stay does not.
///
/// Seed: [001] 対象者: 母子ともに世田谷区に住所を有する. A move is recorded for
/// the family (mother and baby alike), so it answers for both.
pub fn resident_through(record: &FamilyRecord, stay: DateRange) -> bool {
    resident_during(&record.pregnancies, stay)
}

/// [`resident_through`] from the family's pregnancies alone.
pub fn resident_during(pregnancies: &[Pregnancy], stay: DateRange) -> bool {
    moved_out_of(pregnancies).is_none_or(|moved| moved > stay.last())
}

/// A sibling on an application from a family whose latest birth was
/// recorded as a first child contradicts the record: the applicant is
/// asked to confirm (a sibling may have joined the family since), never
/// accepted silently and never refused outright. `Err` carries the field
/// error code the pages and the API explain.
pub fn check_siblings_against_record(record: &FamilyRecord, siblings: u8, confirmed: bool) -> Result<(), &'static str> {
    if siblings == 0 || confirmed {
        return Ok(());
    }
    let Some(pregnancy) = latest_babies(record).first().map(|b| b.pregnancy_id) else { return Ok(()) };
    let first_child = record.pregnancies.iter().any(|p| p.id == pregnancy && p.first_child);
    if first_child {
        Err("sibling_of_first_child")
    } else {
        Ok(())
    }
}

/// Builds the eligibility question from the record and the answers, for
/// the baby [`deciding_baby`] names: the family may use the days every baby
/// of the birth is eligible for. Residency is the record's
/// ([`resident_through`]).
pub fn eligibility_input(
    record: &FamilyRecord,
    service: ServiceType,
    stay: DateRange,
    siblings: u8,
    answers: &ApplicationAnswers,
) -> Option<EligibilityInput> {
    let babies = pair_babies(record);
    let (index, _) = deciding_baby(service, &babies)?;
    let baby = babies.get(index)?;
    let gestational_age =
        GestationalAge::new(baby.gestational_weeks, baby.gestational_days).unwrap_or(GestationalAge::TERM);
    let long_hospitalisation =
        baby.long_hospitalisation && GestationalAge::new(baby.gestational_weeks, baby.gestational_days).is_ok();
    let resident = resident_through(record, stay);
    Some(EligibilityInput {
        service,
        requested: stay,
        mother_resident: resident,
        baby_resident: resident,
        baby_birth_date: baby.birth,
        gestational_age,
        long_hospitalisation,
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
    use crate::postpartum::eligibility::Refusal;
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

    use crate::records::{Family, FeeBracket, Pregnancy, Sex};
    use crate::{AreaId, BabyId, PersonId, PregnancyId};

    fn baby(id: i64, birth: Date, weeks: u8, long: bool) -> Baby {
        Baby {
            id: BabyId(id),
            pregnancy_id: PregnancyId(1),
            person_id: PersonId(id),
            birth_date: birth,
            sex: Sex::Female,
            gestational_weeks: weeks,
            gestational_days: 0,
            birth_weight_g: None,
            long_hospitalisation: long,
        }
    }

    fn record(babies: Vec<Baby>) -> FamilyRecord {
        FamilyRecord {
            family: Family {
                id: FamilyId(1),
                municipality_id: MunicipalityId(1),
                area_id: AreaId(1),
                fee_bracket: FeeBracket::Taxed,
                consent_coordinators: false,
                consent_hubs: false,
                escalated: false,
            },
            people: vec![],
            pregnancies: vec![Pregnancy {
                id: PregnancyId(1),
                family_id: FamilyId(1),
                notified_on: date(2025, 5, 1),
                edd: date(2025, 12, 10),
                foetuses: u8::try_from(babies.len()).unwrap(),
                first_child: true,
                status: PregnancyStatus::Delivered,
                handbook_number: None,
                ended_on: None,
            }],
            babies,
        }
    }

    fn moved(mut r: FamilyRecord, on: Date) -> FamilyRecord {
        r.pregnancies[0].status = PregnancyStatus::MovedOut;
        r.pregnancies[0].ended_on = Some(on);
        r
    }

    fn answers() -> ApplicationAnswers {
        ApplicationAnswers { has_worries_or_fatigue: true, lacks_help_from_relatives: true, ..Default::default() }
    }

    fn codes(r: &FamilyRecord, service: ServiceType, stay: DateRange) -> Vec<&'static str> {
        crate::postpartum::eligibility::check_eligibility(&eligibility_input(r, service, stay, 0, &answers()).unwrap())
            .codes()
    }

    /// [001] 母子ともに世田谷区に住所を有する: moved out the day before the
    /// stay, its first or last day → refused; the day after the stay → not.
    #[test]
    fn residency_at_the_boundary_of_the_stay() {
        let r = record(vec![baby(1, date(2025, 12, 10), 39, false)]);
        let stay = DateRange::new(date(2026, 1, 10), date(2026, 1, 12)).unwrap();
        assert!(codes(&r, ServiceType::ShortStay, stay).is_empty());
        for (on, refused) in
            [(date(2026, 1, 9), true), (date(2026, 1, 10), true), (date(2026, 1, 12), true), (date(2026, 1, 13), false)]
        {
            let m = moved(r.clone(), on);
            assert_eq!(resident_through(&m, stay), !refused, "{on}");
            let expected: Vec<&str> = if refused { vec!["not_resident"] } else { vec![] };
            assert_eq!(codes(&m, ServiceType::ShortStay, stay), expected, "{on}");
            let e = crate::postpartum::eligibility::check_eligibility(
                &eligibility_input(&m, ServiceType::Outreach, stay, 0, &answers()).unwrap(),
            );
            assert_eq!(e.refusals.contains(&Refusal::NotResident { mother: true, baby: true }), refused);
        }
        // A later notification here: the family is back.
        let mut back = moved(r, date(2026, 1, 1));
        back.pregnancies.push(Pregnancy {
            id: PregnancyId(2),
            notified_on: date(2026, 1, 5),
            status: PregnancyStatus::Ongoing,
            ended_on: None,
            ..back.pregnancies[0].clone()
        });
        assert_eq!(moved_out_on(&back), None);
    }

    /// Twins at 32w0d, one hospitalised long: the corrected limit of one
    /// (9 April) does not carry the other past its own (14 February). The
    /// family's last day is 14 February whichever baby is listed first.
    #[test]
    fn twins_one_hospitalised_long_use_the_days_both_are_eligible_for() {
        let born = date(2025, 10, 15);
        for babies in [
            vec![baby(1, born, 32, true), baby(2, born, 32, false)],
            vec![baby(2, born, 32, false), baby(1, born, 32, true)],
        ] {
            let r = record(babies);
            let pair = pair_babies(&r);
            assert_eq!(
                pair[0]
                    .last_eligible_day(ServiceType::ShortStay)
                    .max(pair[1].last_eligible_day(ServiceType::ShortStay)),
                date(2026, 4, 9)
            );
            assert_eq!(
                crate::postpartum::eligibility::pair_last_eligible_day(ServiceType::ShortStay, &pair),
                Some(date(2026, 2, 14))
            );
            assert!(codes(&r, ServiceType::DayCare, DateRange::single(date(2026, 2, 14))).is_empty());
            assert_eq!(codes(&r, ServiceType::DayCare, DateRange::single(date(2026, 2, 15))), vec!["baby_too_old"]);
            assert_eq!(codes(&r, ServiceType::ShortStay, DateRange::single(date(2026, 4, 9))), vec!["baby_too_old"]);
        }
        // Both hospitalised long: both corrected, so 9 April.
        let r = record(vec![baby(1, born, 32, true), baby(2, born, 32, true)]);
        assert!(codes(&r, ServiceType::DayCare, DateRange::single(date(2026, 4, 9))).is_empty());
        // Born either side of midnight: the first-born decides outreach's year.
        let r = record(vec![baby(1, born, 39, false), baby(2, date(2025, 10, 16), 39, false)]);
        assert!(codes(&r, ServiceType::Outreach, DateRange::single(date(2026, 10, 14))).is_empty());
        assert_eq!(codes(&r, ServiceType::Outreach, DateRange::single(date(2026, 10, 15))), vec!["baby_too_old"]);
    }

    #[test]
    fn a_sibling_of_a_first_child_is_asked_about() {
        let mut r = record(vec![baby(1, date(2025, 12, 10), 39, false)]);
        assert_eq!(check_siblings_against_record(&r, 0, false), Ok(()));
        assert_eq!(check_siblings_against_record(&r, 1, false), Err("sibling_of_first_child"));
        assert_eq!(check_siblings_against_record(&r, 1, true), Ok(()));
        r.pregnancies[0].first_child = false;
        assert_eq!(check_siblings_against_record(&r, 1, false), Ok(()));
    }

    proptest! {
        /// The move decides residency exactly by the last day of the stay.
        #[test]
        fn residency_is_the_last_day(offset in -40i64..40, len in 1u32..10) {
            let r = record(vec![baby(1, date(2025, 12, 10), 39, false)]);
            let stay = DateRange::starting(date(2026, 1, 10), len).unwrap();
            let on = crate::dates::add_days(date(2026, 1, 10), offset).unwrap();
            prop_assert_eq!(resident_through(&moved(r, on), stay), on > stay.last());
        }

        /// Twins, any gestational ages, any long stays: an application is
        /// eligible on a day exactly when each baby alone would be.
        #[test]
        fn a_pair_is_eligible_when_every_baby_is(w1 in 22u8..=44, w2 in 22u8..=44, l1 in any::<bool>(), l2 in any::<bool>(), day in 0i64..400, s in 0usize..3) {
            let born = date(2025, 10, 15);
            let service = ServiceType::ALL[s];
            let twins = record(vec![baby(1, born, w1, l1), baby(2, born, w2, l2)]);
            let day = DateRange::single(crate::dates::add_days(born, day).unwrap());
            let alone = |b: Baby| codes(&record(vec![b]), service, day).is_empty();
            prop_assert_eq!(codes(&twins, service, day).is_empty(), alone(baby(1, born, w1, l1)) && alone(baby(2, born, w2, l2)));
        }
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
