//! Who may use postpartum care, decided and explained. [001] 産後ケア事業 対象者,
//! (２) 対象者, (３) 対象者.
//!
//! The rules, as the seed states them:
//!
//! - mother and baby both have their address in the city (母子ともに世田谷区に住所を有する);
//! - under 4 months after the birth for short stay and day care
//!   (産後４か月未満); under 1 year for outreach (産後１年未満);
//! - preschool siblings may come along, at most one per family
//!   (未就学児のきょうだい（１家族１人まで）);
//! - the mother has worries or fatigue about her health or parenting
//!   (心身の健康または育児に対する不安・疲れ等がある);
//! - the family cannot get enough help from relatives
//!   (家族・親族等から十分な支援を受けられない);
//! - not eligible when mother or baby needs medical treatment by a
//!   professional (医療者による医療行為が必要な場合は利用対象外);
//! - living with or near grandparents is **not** a reason to refuse
//!   (祖父母が同居している、または近くに住んでいることを理由に、利用対象外とはしていない);
//! - babies who stayed in hospital longer than usual (preterm babies and
//!   the like) count the 4 months on their corrected age
//!   (修正月齢で計算して４か月未満); but a baby that rolls over actively
//!   cannot use it, for safety (寝返りを盛んにする場合は安全面の理由から利用はできない).
//!
//! Decisions where the seed is silent or loose (also in the report):
//!
//! - "4 months" and "1 year" are counted as Japanese law counts ages
//!   ([`crate::dates`]): born 31 October, the last day under 4 months is
//!   28 February (29 in a leap year).
//! - The corrected birth date is the birth date + (40 weeks − gestational
//!   age at birth), never earlier than the birth date (a long-hospitalised
//!   baby born at 40 weeks or later gets no correction, and the correction
//!   can only lengthen eligibility). It applies to the 4-month limit only:
//!   the seed says so for 利用登録期間 of 4 months and says nothing of the
//!   1-year outreach limit, so outreach counts the actual age.
//! - The rolling-over sentence follows the corrected-age sentence in the
//!   seed (ただし…). We apply it to every baby at short stay and day care —
//!   the safety reason does not depend on how the baby was born — and not
//!   to outreach, a home visit.
//! - Siblings "come along" to a facility; outreach has no sibling row in
//!   the fee table, so a request for outreach with siblings is refused with
//!   `siblings_not_offered` (send 0 siblings).

use super::fees::MAX_SIBLINGS;
use super::ServiceType;
use crate::dates::{last_day_under_months, DateRange};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// Gestational age at birth, weeks + days (32w4d). Records accept weeks 22–44.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "RawGestationalAge")]
pub struct GestationalAge {
    weeks: u8,
    days: u8,
}

#[derive(Deserialize)]
struct RawGestationalAge {
    weeks: u8,
    days: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("gestational age {weeks}w{days}d is outside 22w0d–44w6d")]
pub struct GestationalAgeError {
    pub weeks: u8,
    pub days: u8,
}

impl TryFrom<RawGestationalAge> for GestationalAge {
    type Error = GestationalAgeError;
    fn try_from(raw: RawGestationalAge) -> Result<Self, Self::Error> {
        GestationalAge::new(raw.weeks, raw.days)
    }
}

impl GestationalAge {
    /// Full term, the due date: 40 weeks 0 days.
    pub const TERM: GestationalAge = GestationalAge { weeks: 40, days: 0 };

    pub fn new(weeks: u8, days: u8) -> Result<Self, GestationalAgeError> {
        if (22..=44).contains(&weeks) && days <= 6 {
            Ok(Self { weeks, days })
        } else {
            Err(GestationalAgeError { weeks, days })
        }
    }

    pub fn weeks(&self) -> u8 {
        self.weeks
    }

    pub fn days(&self) -> u8 {
        self.days
    }

    pub fn total_days(&self) -> i32 {
        // At most 255 × 7 + 255: far inside i32.
        i32::from(self.weeks).saturating_mul(7).saturating_add(i32::from(self.days))
    }
}

/// The corrected birth date of a baby: the birth date moved on by the
/// weeks it was born early, `birth + (40w0d − gestational age)`, and never
/// before the birth date.
///
/// Seed: [001] 対象者: 未熟児等で…修正月齢で計算して４か月未満
pub fn corrected_birth_date(birth: Date, gestational_age: GestationalAge) -> Date {
    let early_days = GestationalAge::TERM.total_days().saturating_sub(gestational_age.total_days()).max(0);
    crate::dates::add_days(birth, i64::from(early_days)).unwrap_or(Date::MAX)
}

/// The age limit of a service type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AgeLimit {
    /// 産後４か月未満 — short stay and day care.
    UnderFourMonths,
    /// 産後１年未満 — outreach.
    UnderOneYear,
}

impl AgeLimit {
    pub fn months(self) -> i32 {
        match self {
            AgeLimit::UnderFourMonths => 4,
            AgeLimit::UnderOneYear => 12,
        }
    }

    /// The limit of `service`.
    ///
    /// Seed: [001] 対象者: 産後４か月未満; (２) 対象者：産後４か月未満の母子; (３) 対象者：産後１年未満の母子
    pub fn of(service: ServiceType) -> Self {
        match service {
            ServiceType::ShortStay | ServiceType::DayCare => AgeLimit::UnderFourMonths,
            ServiceType::Outreach => AgeLimit::UnderOneYear,
        }
    }
}

/// The last day a baby may use `service`: the day before it reaches the
/// age limit — on its corrected age for a long-hospitalised baby at short
/// stay or day care.
///
/// Seed: [001] 対象者: 産後４か月未満 / 修正月齢で計算して４か月未満; (３) 産後１年未満
pub fn last_eligible_day(
    service: ServiceType,
    birth: Date,
    gestational_age: GestationalAge,
    long_hospitalisation: bool,
) -> Date {
    let limit = AgeLimit::of(service);
    let counted_from = if long_hospitalisation && limit == AgeLimit::UnderFourMonths {
        corrected_birth_date(birth, gestational_age)
    } else {
        birth
    };
    last_day_under_months(counted_from, limit.months())
}

/// A baby of the birth an application is about, as the age limit sees it.
/// Gestational weeks and days are as recorded; an age outside 22w0d–44w6d
/// gets no correction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairBaby {
    pub birth: Date,
    pub gestational_weeks: u8,
    pub gestational_days: u8,
    pub long_hospitalisation: bool,
}

impl PairBaby {
    /// This baby's last day for `service` ([`last_eligible_day`]).
    pub fn last_eligible_day(&self, service: ServiceType) -> Date {
        match GestationalAge::new(self.gestational_weeks, self.gestational_days) {
            Ok(ga) => last_eligible_day(service, self.birth, ga, self.long_hospitalisation),
            Err(_) => last_eligible_day(service, self.birth, GestationalAge::TERM, false),
        }
    }
}

/// **The one rule for a multiple birth** (twins with different corrected
/// ages, one hospitalised long): the family may use `service` on the days
/// *every* baby of the birth is eligible for, so its last day is the
/// earliest of the babies' last days. Returns the index of the baby that
/// decides (the earliest last day; the later-born on a tie) and that day.
///
/// Why this reading: [001] states the limit per baby (産後４か月未満;
/// 未熟児等で通常より長く入院していた等の理由がある場合は…修正月齢で計算して４か月未満)
/// and the service per pair (母子), and the babies of one birth come
/// together; a baby past its own limit cannot come along, as a baby that
/// rolls over cannot (ただし、寝返りを盛んにする場合は…利用はできない). The
/// seed says nothing that lets one baby's corrected age carry another past
/// its limit, so we do not. A nurse may still go ahead with a reason (the
/// override every refusal has). The preview, the application, the approval
/// (`application::eligibility_input`) and the timeline's postpartum windows
/// (`timeline::rules`) all call this.
pub fn deciding_baby(service: ServiceType, babies: &[PairBaby]) -> Option<(usize, Date)> {
    babies
        .iter()
        .enumerate()
        .map(|(i, b)| (i, b.last_eligible_day(service), b.birth))
        .min_by(|a, b| a.1.cmp(&b.1).then(b.2.cmp(&a.2)))
        .map(|(i, last, _)| (i, last))
}

/// The last day a family may use `service` with all the babies of a birth
/// ([`deciding_baby`]); `None` without a baby.
pub fn pair_last_eligible_day(service: ServiceType, babies: &[PairBaby]) -> Option<Date> {
    deciding_baby(service, babies).map(|(_, last)| last)
}

/// What a nurse (or the family) tells us about an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EligibilityInput {
    pub service: ServiceType,
    /// The day(s) asked for: the days of a stay (6 nights = 7 days), a day
    /// of day care, or the day of a visit.
    pub requested: DateRange,
    pub mother_resident: bool,
    pub baby_resident: bool,
    pub baby_birth_date: Date,
    pub gestational_age: GestationalAge,
    /// The baby stayed in hospital longer than usual after birth (e.g. preterm).
    pub long_hospitalisation: bool,
    /// The baby rolls over actively (寝返りを盛んにする).
    pub rolls_over_actively: bool,
    /// Preschool siblings who would come along.
    pub preschool_siblings: u32,
    /// Mother or baby needs medical treatment by a professional.
    pub needs_medical_treatment: bool,
    /// The mother has worries or fatigue about her health or parenting.
    pub has_worries_or_fatigue: bool,
    /// The family cannot get enough help from relatives.
    pub lacks_help_from_relatives: bool,
    /// Grandparents live with or near the family. Recorded because staff ask;
    /// never a reason to refuse.
    pub grandparents_nearby: bool,
}

/// A reason an application is refused. Codes are stable; pages explain them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "code")]
pub enum Refusal {
    /// Mother and/or baby do not live in the city (the flags say who does not).
    NotResident {
        mother: bool,
        baby: bool,
    },
    /// A requested day comes before the baby's birth.
    RequestedBeforeBirth {
        birth_date: Date,
    },
    /// A requested day comes after the last eligible day.
    BabyTooOld {
        limit: AgeLimit,
        last_eligible_day: Date,
        corrected_age: bool,
    },
    /// The baby rolls over actively: not at short stay or day care.
    RollsOver,
    TooManySiblings {
        siblings: u32,
        max: u32,
    },
    /// Siblings do not come along on outreach.
    SiblingsNotOffered,
    NeedsMedicalTreatment,
    NoWorriesReported,
    EnoughHelpAtHome,
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::NotResident { .. } => "not_resident",
            Refusal::RequestedBeforeBirth { .. } => "requested_before_birth",
            Refusal::BabyTooOld { .. } => "baby_too_old",
            Refusal::RollsOver => "rolls_over",
            Refusal::TooManySiblings { .. } => "too_many_siblings",
            Refusal::SiblingsNotOffered => "siblings_not_offered",
            Refusal::NeedsMedicalTreatment => "needs_medical_treatment",
            Refusal::NoWorriesReported => "no_worries_reported",
            Refusal::EnoughHelpAtHome => "enough_help_at_home",
        }
    }
}

/// The decision: eligible when there is no refusal. The last eligible day
/// is given either way, so a page can say "until 14 February".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Eligibility {
    pub refusals: Vec<Refusal>,
    pub age_limit: AgeLimit,
    pub last_eligible_day: Date,
    /// Set when the limit was counted on the corrected age.
    pub corrected_birth_date: Option<Date>,
}

impl Eligibility {
    pub fn is_eligible(&self) -> bool {
        self.refusals.is_empty()
    }

    pub fn codes(&self) -> Vec<&'static str> {
        self.refusals.iter().map(Refusal::code).collect()
    }
}

/// Decides an application. Every requested day must be eligible; every
/// reason that applies is listed, in a fixed order.
///
/// For a multiple birth, the input is about the baby [`deciding_baby`]
/// names, so the family may use the days all of them are eligible for.
///
/// Seed: [001] 産後ケア事業 対象者 (all bullets and notes, quoted in the module documentation).
pub fn check_eligibility(input: &EligibilityInput) -> Eligibility {
    let mut refusals = Vec::new();
    // [001] 母子ともに世田谷区に住所を有する
    if !input.mother_resident || !input.baby_resident {
        refusals.push(Refusal::NotResident { mother: !input.mother_resident, baby: !input.baby_resident });
    }
    // A day before the birth cannot be postpartum care.
    if input.requested.first() < input.baby_birth_date {
        refusals.push(Refusal::RequestedBeforeBirth { birth_date: input.baby_birth_date });
    }
    // [001] 産後４か月未満 (修正月齢で計算して４か月未満) / (３) 産後１年未満
    let age_limit = AgeLimit::of(input.service);
    let corrected = input.long_hospitalisation && age_limit == AgeLimit::UnderFourMonths;
    let last =
        last_eligible_day(input.service, input.baby_birth_date, input.gestational_age, input.long_hospitalisation);
    if input.requested.last() > last {
        refusals.push(Refusal::BabyTooOld { limit: age_limit, last_eligible_day: last, corrected_age: corrected });
    }
    // [001] ただし、寝返りを盛んにする場合は安全面の理由から利用はできない
    if input.rolls_over_actively && input.service.at_facility() {
        refusals.push(Refusal::RollsOver);
    }
    // [001] 未就学児のきょうだい（１家族１人まで）
    if input.preschool_siblings > MAX_SIBLINGS {
        refusals.push(Refusal::TooManySiblings { siblings: input.preschool_siblings, max: MAX_SIBLINGS });
    } else if input.preschool_siblings > 0 && !input.service.at_facility() {
        refusals.push(Refusal::SiblingsNotOffered);
    }
    // [001] ※母子ともに、医療者による医療行為が必要な場合は利用対象外となる。
    if input.needs_medical_treatment {
        refusals.push(Refusal::NeedsMedicalTreatment);
    }
    // [001] 心身の健康または育児に対する不安・疲れ等がある
    if !input.has_worries_or_fatigue {
        refusals.push(Refusal::NoWorriesReported);
    }
    // [001] 家族・親族等から十分な支援を受けられない
    // (〇祖父母が同居している、または近くに住んでいることを理由に、利用対象外とはしていない —
    // `grandparents_nearby` is deliberately not read.)
    if !input.lacks_help_from_relatives {
        refusals.push(Refusal::EnoughHelpAtHome);
    }
    Eligibility {
        refusals,
        age_limit,
        last_eligible_day: last,
        corrected_birth_date: corrected.then(|| corrected_birth_date(input.baby_birth_date, input.gestational_age)),
    }
}

#[cfg(test)]
// Tests compute expected values with plain arithmetic on small numbers.
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use jiff::ToSpan;
    use proptest::prelude::*;
    use ServiceType::*;

    fn term() -> GestationalAge {
        GestationalAge::new(39, 3).unwrap()
    }

    /// An eligible family: baby born 15 October 2025, asking for 1 December 2025.
    fn ok(service: ServiceType) -> EligibilityInput {
        EligibilityInput {
            service,
            requested: DateRange::single(date(2025, 12, 1)),
            mother_resident: true,
            baby_resident: true,
            baby_birth_date: date(2025, 10, 15),
            gestational_age: term(),
            long_hospitalisation: false,
            rolls_over_actively: false,
            preschool_siblings: 0,
            needs_medical_treatment: false,
            has_worries_or_fatigue: true,
            lacks_help_from_relatives: true,
            grandparents_nearby: false,
        }
    }

    fn on(mut i: EligibilityInput, day: Date) -> EligibilityInput {
        i.requested = DateRange::single(day);
        i
    }

    fn codes(i: &EligibilityInput) -> Vec<&'static str> {
        check_eligibility(i).codes()
    }

    #[test]
    fn an_ordinary_family_is_eligible() {
        for s in ServiceType::ALL {
            let e = check_eligibility(&ok(s));
            assert!(e.is_eligible(), "{s}: {:?}", e.refusals);
        }
        assert_eq!(check_eligibility(&ok(ShortStay)).last_eligible_day, date(2026, 2, 14));
    }

    #[test]
    fn four_months_day_before_and_day_of() {
        for s in [ShortStay, DayCare] {
            assert!(check_eligibility(&on(ok(s), date(2026, 2, 14))).is_eligible());
            let e = check_eligibility(&on(ok(s), date(2026, 2, 15)));
            assert_eq!(
                e.refusals,
                vec![Refusal::BabyTooOld {
                    limit: AgeLimit::UnderFourMonths,
                    last_eligible_day: date(2026, 2, 14),
                    corrected_age: false
                }]
            );
            // On the birth day itself: eligible. The day before: not.
            assert!(check_eligibility(&on(ok(s), date(2025, 10, 15))).is_eligible());
            assert_eq!(codes(&on(ok(s), date(2025, 10, 14))), vec!["requested_before_birth"]);
        }
    }

    #[test]
    fn month_end_births() {
        let born = |i: EligibilityInput, b: Date| EligibilityInput { baby_birth_date: b, ..i };
        // Born 31 Oct 2025: February 2026 has no 31st; 28 Feb is the last day.
        let i = born(ok(ShortStay), date(2025, 10, 31));
        assert!(check_eligibility(&on(i, date(2026, 2, 28))).is_eligible());
        assert_eq!(codes(&on(i, date(2026, 3, 1))), vec!["baby_too_old"]);
        // Born 31 Oct 2023: 29 Feb 2024 is the last day.
        let i = born(ok(DayCare), date(2023, 10, 31));
        assert!(check_eligibility(&on(i, date(2024, 2, 29))).is_eligible());
        assert_eq!(codes(&on(i, date(2024, 3, 1))), vec!["baby_too_old"]);
        // Born 29 Oct 2023: 29 Feb 2024 is the 4-month day, so 28 Feb is the last.
        let i = born(ok(DayCare), date(2023, 10, 29));
        assert!(check_eligibility(&on(i, date(2024, 2, 28))).is_eligible());
        assert!(!check_eligibility(&on(i, date(2024, 2, 29))).is_eligible());
    }

    #[test]
    fn a_stay_crossing_the_limit_is_refused_with_the_last_day() {
        let mut i = ok(ShortStay);
        i.requested = DateRange::new(date(2026, 2, 12), date(2026, 2, 15)).unwrap();
        let e = check_eligibility(&i);
        assert!(!e.is_eligible());
        assert!(matches!(
            e.refusals[..],
            [Refusal::BabyTooOld { last_eligible_day, .. }] if last_eligible_day == date(2026, 2, 14)
        ));
        i.requested = DateRange::new(date(2026, 2, 8), date(2026, 2, 14)).unwrap(); // 6 nights / 7 days
        assert!(check_eligibility(&i).is_eligible());
    }

    #[test]
    fn corrected_age_for_long_hospitalised_babies() {
        // Born 15 Oct 2025 at 32w0d: 8 weeks early, corrected birth date 10 Dec 2025,
        // so the last day under 4 months (corrected) is 9 Apr 2026.
        let ga = GestationalAge::new(32, 0).unwrap();
        assert_eq!(corrected_birth_date(date(2025, 10, 15), ga), date(2025, 12, 10));
        let i = EligibilityInput { gestational_age: ga, long_hospitalisation: true, ..ok(ShortStay) };
        let e = check_eligibility(&on(i, date(2026, 4, 9)));
        assert!(e.is_eligible());
        assert_eq!(e.corrected_birth_date, Some(date(2025, 12, 10)));
        let e = check_eligibility(&on(i, date(2026, 4, 10)));
        assert_eq!(
            e.refusals,
            vec![Refusal::BabyTooOld {
                limit: AgeLimit::UnderFourMonths,
                last_eligible_day: date(2026, 4, 9),
                corrected_age: true
            }]
        );
        // The same preterm baby without a long hospital stay counts the actual age.
        let short = EligibilityInput { long_hospitalisation: false, ..i };
        assert_eq!(codes(&on(short, date(2026, 2, 15))), vec!["baby_too_old"]);
        // Days count too: 35w3d is 4w4d (32 days) early.
        let ga = GestationalAge::new(35, 3).unwrap();
        assert_eq!(corrected_birth_date(date(2025, 10, 15), ga), date(2025, 11, 16));
        // Born at or after term: no correction, never a shorter limit.
        assert_eq!(corrected_birth_date(date(2025, 10, 15), GestationalAge::new(41, 2).unwrap()), date(2025, 10, 15));
        assert_eq!(last_eligible_day(DayCare, date(2025, 10, 15), GestationalAge::TERM, true), date(2026, 2, 14));
        // Outreach counts the actual age even for long-hospitalised babies.
        assert_eq!(
            last_eligible_day(Outreach, date(2025, 10, 15), GestationalAge::new(28, 0).unwrap(), true),
            date(2026, 10, 14)
        );
        // The corrected age does not lift the rolling-over rule.
        let rolling = EligibilityInput { rolls_over_actively: true, ..i };
        assert_eq!(codes(&on(rolling, date(2026, 3, 1))), vec!["rolls_over"]);
    }

    #[test]
    fn outreach_until_one_year() {
        assert!(check_eligibility(&on(ok(Outreach), date(2026, 10, 14))).is_eligible());
        let e = check_eligibility(&on(ok(Outreach), date(2026, 10, 15)));
        assert_eq!(
            e.refusals,
            vec![Refusal::BabyTooOld {
                limit: AgeLimit::UnderOneYear,
                last_eligible_day: date(2026, 10, 14),
                corrected_age: false
            }]
        );
        // Past 4 months, outreach is still open while short stay is not.
        assert!(check_eligibility(&on(ok(Outreach), date(2026, 3, 1))).is_eligible());
        assert!(!check_eligibility(&on(ok(ShortStay), date(2026, 3, 1))).is_eligible());
        // Born 29 Feb 2024: one year is reached on 1 Mar 2025.
        let leap = EligibilityInput { baby_birth_date: date(2024, 2, 29), ..ok(Outreach) };
        assert!(check_eligibility(&on(leap, date(2025, 2, 28))).is_eligible());
        assert!(!check_eligibility(&on(leap, date(2025, 3, 1))).is_eligible());
    }

    #[test]
    fn rolling_over() {
        for (s, refused) in [(ShortStay, true), (DayCare, true), (Outreach, false)] {
            let i = EligibilityInput { rolls_over_actively: true, ..ok(s) };
            assert_eq!(codes(&i) == vec!["rolls_over"], refused, "{s}");
        }
    }

    #[test]
    fn siblings() {
        for s in [ShortStay, DayCare] {
            assert!(check_eligibility(&EligibilityInput { preschool_siblings: 1, ..ok(s) }).is_eligible());
            assert_eq!(
                check_eligibility(&EligibilityInput { preschool_siblings: 2, ..ok(s) }).refusals,
                vec![Refusal::TooManySiblings { siblings: 2, max: 1 }]
            );
        }
        assert_eq!(codes(&EligibilityInput { preschool_siblings: 1, ..ok(Outreach) }), vec!["siblings_not_offered"]);
        assert_eq!(codes(&EligibilityInput { preschool_siblings: 3, ..ok(Outreach) }), vec!["too_many_siblings"]);
    }

    #[test]
    fn needs_and_help() {
        assert_eq!(
            codes(&EligibilityInput { needs_medical_treatment: true, ..ok(DayCare) }),
            vec!["needs_medical_treatment"]
        );
        assert_eq!(
            codes(&EligibilityInput { has_worries_or_fatigue: false, ..ok(DayCare) }),
            vec!["no_worries_reported"]
        );
        assert_eq!(
            codes(&EligibilityInput { lacks_help_from_relatives: false, ..ok(DayCare) }),
            vec!["enough_help_at_home"]
        );
        assert!(check_eligibility(&EligibilityInput { grandparents_nearby: true, ..ok(DayCare) }).is_eligible());
    }

    #[test]
    fn residency_says_who() {
        let e = check_eligibility(&EligibilityInput { baby_resident: false, ..ok(ShortStay) });
        assert_eq!(e.refusals, vec![Refusal::NotResident { mother: false, baby: true }]);
        let e = check_eligibility(&EligibilityInput { mother_resident: false, baby_resident: false, ..ok(ShortStay) });
        assert_eq!(e.refusals, vec![Refusal::NotResident { mother: true, baby: true }]);
        assert_eq!(e.codes(), vec!["not_resident"]);
    }

    #[test]
    fn every_reason_is_listed_in_order() {
        let i = EligibilityInput {
            mother_resident: false,
            rolls_over_actively: true,
            preschool_siblings: 2,
            needs_medical_treatment: true,
            has_worries_or_fatigue: false,
            lacks_help_from_relatives: false,
            ..on(ok(DayCare), date(2026, 6, 1))
        };
        assert_eq!(
            codes(&i),
            vec![
                "not_resident",
                "baby_too_old",
                "rolls_over",
                "too_many_siblings",
                "needs_medical_treatment",
                "no_worries_reported",
                "enough_help_at_home"
            ]
        );
        assert_eq!(
            serde_json::to_value(Refusal::TooManySiblings { siblings: 2, max: 1 }).unwrap(),
            serde_json::json!({"code": "too_many_siblings", "siblings": 2, "max": 1})
        );
    }

    #[test]
    fn gestational_age_is_checked() {
        assert!(GestationalAge::new(21, 6).is_err());
        assert!(GestationalAge::new(22, 0).is_ok());
        assert!(GestationalAge::new(44, 6).is_ok());
        assert!(GestationalAge::new(45, 0).is_err());
        assert!(GestationalAge::new(30, 7).is_err());
        assert!(serde_json::from_str::<GestationalAge>(r#"{"weeks":30,"days":7}"#).is_err());
        assert_eq!(GestationalAge::new(32, 4).unwrap().total_days(), 228);
    }

    fn any_input() -> impl Strategy<Value = EligibilityInput> {
        (
            prop_oneof![Just(ShortStay), Just(DayCare), Just(Outreach)],
            -30i32..500,
            0u32..8,
            (22u8..=44, 0u8..=6),
            proptest::collection::vec(any::<bool>(), 8),
            0u32..4,
        )
            .prop_map(|(service, offset, len, (w, d), flags, siblings)| {
                let birth = date(2025, 10, 15);
                let first = birth.saturating_add(offset.days());
                EligibilityInput {
                    service,
                    requested: DateRange::starting(first, len + 1).unwrap(),
                    mother_resident: flags[0],
                    baby_resident: flags[1],
                    baby_birth_date: birth,
                    gestational_age: GestationalAge::new(w, d).unwrap(),
                    long_hospitalisation: flags[2],
                    rolls_over_actively: flags[3],
                    preschool_siblings: siblings,
                    needs_medical_treatment: flags[4],
                    has_worries_or_fatigue: flags[5],
                    lacks_help_from_relatives: flags[6],
                    grandparents_nearby: flags[7],
                }
            })
    }

    proptest! {
        /// Living near grandparents never changes the decision, nor its reasons.
        #[test]
        fn grandparents_never_matter(i in any_input()) {
            let near = check_eligibility(&EligibilityInput { grandparents_nearby: true, ..i });
            let far = check_eligibility(&EligibilityInput { grandparents_nearby: false, ..i });
            prop_assert_eq!(near, far);
        }

        /// A stay is eligible exactly when each of its days is.
        #[test]
        fn a_stay_is_its_days(i in any_input()) {
            let whole = check_eligibility(&i).is_eligible();
            let each = i.requested.days().all(|d| check_eligibility(&on(i, d)).is_eligible());
            prop_assert_eq!(whole, each);
        }

        /// The corrected age only ever lengthens eligibility, and outreach
        /// lasts at least as long as short stay for babies counted on their
        /// actual age.
        #[test]
        fn limits_are_ordered(offset in 0i32..3000, w in 22u8..=44, d in 0u8..=6) {
            let birth = date(2020, 1, 1).saturating_add(offset.days());
            let ga = GestationalAge::new(w, d).unwrap();
            let plain = last_eligible_day(ShortStay, birth, ga, false);
            let corrected = last_eligible_day(ShortStay, birth, ga, true);
            prop_assert!(corrected >= plain);
            prop_assert!(last_eligible_day(Outreach, birth, ga, false) > plain);
            prop_assert!(plain >= birth.saturating_add(119.days()) && plain <= birth.saturating_add(122.days()));
        }
    }
}
