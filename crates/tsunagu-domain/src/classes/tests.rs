//! The classes' rules at their boundaries [000][002][004], and properties.

use super::*;
use crate::fiscal::FiscalYear;
use crate::holidays::is_public_holiday;
use crate::records::{Baby, Family, FamilyRecord, FeeBracket, Pregnancy, PregnancyStatus, Sex};
use crate::timeline::ContactKind;
use crate::{AreaId, BabyId, FamilyId, MunicipalityId, PersonId, PregnancyId, VenueId};
use jiff::civil::{date, Date, Time, Weekday};
use jiff::ToSpan;
use proptest::prelude::*;

fn family() -> FamilyRecord {
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
        pregnancies: vec![],
        babies: vec![],
    }
}

fn pregnancy(id: i64, edd: Date, status: PregnancyStatus, foetuses: u8, first_child: bool) -> Pregnancy {
    Pregnancy {
        id: PregnancyId(id),
        family_id: FamilyId(1),
        notified_on: edd.saturating_sub(30.weeks()),
        edd,
        foetuses,
        first_child,
        status,
        handbook_number: None,
        ended_on: None,
    }
}

fn baby(id: i64, pregnancy: i64, birth: Date) -> Baby {
    Baby {
        id: BabyId(id),
        pregnancy_id: PregnancyId(pregnancy),
        person_id: PersonId(id),
        birth_date: birth,
        sex: Sex::Male,
        gestational_weeks: 39,
        gestational_days: 0,
        birth_weight_g: None,
        long_hospitalisation: false,
    }
}

/// Pregnant, EDD `edd`.
fn pregnant(edd: Date, first_child: bool, foetuses: u8) -> FamilyRecord {
    FamilyRecord { pregnancies: vec![pregnancy(1, edd, PregnancyStatus::Ongoing, foetuses, first_child)], ..family() }
}

/// Delivered babies born on `births` (one pregnancy).
fn mother_of(births: &[Date]) -> FamilyRecord {
    let edd = births[0];
    FamilyRecord {
        pregnancies: vec![pregnancy(1, edd, PregnancyStatus::Delivered, u8::try_from(births.len()).unwrap(), true)],
        babies: births.iter().enumerate().map(|(i, b)| baby(i64::try_from(i).unwrap() + 1, 1, *b)).collect(),
        ..family()
    }
}

fn self_care() -> ProgrammeConfig {
    ProgrammeConfig::seed_default(ProgrammeKind::SelfCare)
}

fn reason(r: Result<Eligible, Refusal>) -> Option<Ineligible> {
    r.err().map(|e| e.reason)
}

/// [000] 妊娠中(安定期以降), read as week 16: the last day of week 15 is
/// refused (and says from when), the first day of week 16 is accepted.
#[test]
fn prenatal_from_week_16_on_the_class_day() {
    let edd = date(2026, 9, 30);
    let r = pregnant(edd, true, 1);
    let week16 = edd.saturating_sub((24 * 7).days());
    let day_before = week16.saturating_sub(1.day());
    let got = decide(&self_care(), &r, day_before, &[]);
    assert_eq!(reason(got), Some(Ineligible::TooEarlyInPregnancy { week: 16, from: week16 }));
    assert!(got.unwrap_err().overridable(), "week 16 is our reading of 安定期: a nurse may judge");
    assert_eq!(
        decide(&self_care(), &r, week16, &[]),
        Ok(Eligible { stage: Stage::Prenatal, pregnancy_id: Some(PregnancyId(1)) })
    );
    assert_eq!(
        crate::timeline::dates::gestational_age_on(edd, week16),
        Some((16, 0)),
        "the first day accepted is 16w0d"
    );
    assert_eq!(crate::timeline::dates::gestational_age_on(edd, day_before), Some((15, 6)));
}

/// [000] 受講日に5ヵ月になる前日までの赤ちゃん: the day before the
/// 5-month birthday is the last day; the birthday itself is refused,
/// firmly. Months as `dates` counts them (31 Jan → 1 July at 5 months).
#[test]
fn postnatal_until_the_day_before_5_months() {
    for (birth, birthday) in [
        (date(2026, 1, 15), date(2026, 6, 15)),
        (date(2025, 9, 30), date(2026, 2, 28).saturating_add(1.day())),
        (date(2026, 1, 31), date(2026, 7, 1)),
        (date(2023, 9, 29), date(2024, 2, 29)),
    ] {
        let r = mother_of(&[birth]);
        let last = birthday.saturating_sub(1.day());
        assert_eq!(
            decide(&self_care(), &r, last, &[]),
            Ok(Eligible { stage: Stage::Postnatal, pregnancy_id: Some(PregnancyId(1)) }),
            "{birth}: {last} is the last day"
        );
        let refused = decide(&self_care(), &r, birthday, &[]).unwrap_err();
        assert_eq!(refused.reason, Ineligible::BabyTooOld { months: 5, last_day: last }, "{birth}");
        assert!(!refused.overridable());
        // The timeline's offer closes on the same day.
        assert_eq!(crate::timeline::dates::last_day_under_months(birth, 5), last);
    }
}

/// [000] 産前に1回、産後に1回: a second prenatal class is refused (not
/// overridable); a postnatal one after a prenatal one is fine; a second
/// pregnancy may come again (the default counts per pregnancy).
#[test]
fn once_before_and_once_after_the_birth() {
    let edd = date(2026, 9, 30);
    let r = pregnant(edd, true, 1);
    let day = date(2026, 7, 1);
    let prenatal =
        PriorBooking { kind: ProgrammeKind::SelfCare, stage: Stage::Prenatal, pregnancy_id: Some(PregnancyId(1)) };
    let refused = decide(&self_care(), &r, day, &[prenatal]).unwrap_err();
    assert_eq!(refused.reason, Ineligible::StageAlreadyTaken { stage: Stage::Prenatal });
    assert!(!refused.overridable());
    // Another programme's booking does not count.
    let other = PriorBooking { kind: ProgrammeKind::MaternityClass, ..prenatal };
    assert!(decide(&self_care(), &r, day, &[other]).is_ok());
    // After the birth: the postnatal class is still open to her.
    let born = mother_of(&[date(2026, 9, 25)]);
    assert_eq!(
        decide(&self_care(), &born, date(2026, 11, 1), &[prenatal]),
        Ok(Eligible { stage: Stage::Postnatal, pregnancy_id: Some(PregnancyId(1)) })
    );
    let postnatal = PriorBooking { stage: Stage::Postnatal, ..prenatal };
    assert_eq!(
        reason(decide(&self_care(), &born, date(2026, 11, 1), &[prenatal, postnatal])),
        Some(Ineligible::StageAlreadyTaken { stage: Stage::Postnatal })
    );
    // A later pregnancy: per pregnancy by default; per person if the city says so.
    let mut again = born.clone();
    again.pregnancies.push(pregnancy(2, date(2028, 9, 30), PregnancyStatus::Ongoing, 1, false));
    assert!(decide(&self_care(), &again, date(2028, 7, 1), &[prenatal, postnatal]).is_ok());
    let mut strict = self_care();
    strict.rules.once_per_stage = Some(OncePer::Person);
    assert_eq!(
        reason(decide(&strict, &again, date(2028, 7, 1), &[prenatal, postnatal])),
        Some(Ineligible::StageAlreadyTaken { stage: Stage::Prenatal })
    );
}

/// Twins are one baby-stage: one postnatal class for the birth, counted
/// from the later-born twin (as the timeline's window), whichever twin.
#[test]
fn twins_are_one_baby_stage() {
    // Born either side of midnight: 31 Jan and 1 Feb.
    let r = mother_of(&[date(2026, 1, 31), date(2026, 2, 1)]);
    // The first twin turns 5 months on 1 July; the second on 1 July as well.
    let ok = decide(&self_care(), &r, date(2026, 6, 30), &[]).unwrap();
    assert_eq!(ok, Eligible { stage: Stage::Postnatal, pregnancy_id: Some(PregnancyId(1)) });
    assert!(decide(&self_care(), &r, date(2026, 7, 1), &[]).is_err());
    let taken =
        PriorBooking { kind: ProgrammeKind::SelfCare, stage: Stage::Postnatal, pregnancy_id: Some(PregnancyId(1)) };
    assert_eq!(
        reason(decide(&self_care(), &r, date(2026, 3, 1), &[taken])),
        Some(Ineligible::StageAlreadyTaken { stage: Stage::Postnatal })
    );
    // Born 14 and 15 March: the later twin decides (5 months on 15 August).
    let r = mother_of(&[date(2026, 3, 14), date(2026, 3, 15)]);
    assert!(decide(&self_care(), &r, date(2026, 8, 14), &[]).is_ok());
    assert!(decide(&self_care(), &r, date(2026, 8, 15), &[]).is_err());
}

/// [000] 世田谷区内在住: a move recorded on or before the class day refuses.
#[test]
fn residents_only_on_the_class_day() {
    let mut r = mother_of(&[date(2026, 1, 15)]);
    r.pregnancies[0].status = PregnancyStatus::MovedOut;
    r.pregnancies[0].ended_on = Some(date(2026, 3, 1));
    assert_eq!(reason(decide(&self_care(), &r, date(2026, 3, 1), &[])), Some(Ineligible::NotResident));
    assert!(decide(&self_care(), &r, date(2026, 2, 28), &[]).is_ok());
    // Programmes whose seed says nothing of residency do not refuse it.
    let talk = ProgrammeConfig::seed_default(ProgrammeKind::CoordinatorTalk);
    assert!(decide(&talk, &r, date(2026, 3, 2), &[]).is_ok());
}

#[test]
fn nobody_to_come_as() {
    assert_eq!(reason(decide(&self_care(), &family(), date(2026, 3, 1), &[])), Some(Ineligible::NotPregnantNorBaby));
    let maternity = ProgrammeConfig::seed_default(ProgrammeKind::MaternityClass);
    assert_eq!(reason(decide(&maternity, &family(), date(2026, 3, 1), &[])), Some(Ineligible::NotPregnant));
    assert_eq!(
        reason(decide(&maternity, &mother_of(&[date(2026, 1, 1)]), date(2026, 3, 1), &[])),
        Some(Ineligible::NotPregnant)
    );
    let ok = decide(&maternity, &pregnant(date(2026, 9, 1), false, 1), date(2026, 3, 1), &[]).unwrap();
    assert_eq!(ok.contact_kind(ProgrammeKind::MaternityClass), Some(ContactKind::MaternityClass));
}

/// [004] ① 第1子出産予定の妊婦さんとその家族: a second child is refused,
/// and staff may override (the leaflet names a target, not an exclusion).
#[test]
fn sunday_class_for_first_child_families() {
    let sunday = ProgrammeConfig::seed_default(ProgrammeKind::SundayParentsClass);
    let day = date(2026, 6, 7);
    assert!(decide(&sunday, &pregnant(date(2026, 9, 1), true, 1), day, &[]).is_ok());
    let refused = decide(&sunday, &pregnant(date(2026, 9, 1), false, 1), day, &[]).unwrap_err();
    assert_eq!(refused.reason, Ineligible::NotFirstChild);
    assert_eq!(refused.override_to, Some(Eligible { stage: Stage::Prenatal, pregnancy_id: Some(PregnancyId(1)) }));
}

/// [004] ③ ふたご・みつご: multiple pregnancies and births (of a 乳児,
/// under 1 year); a single baby is refused firmly.
#[test]
fn twins_group_for_multiple_births() {
    let twins = ProgrammeConfig::seed_default(ProgrammeKind::TwinsGroup);
    let day = date(2026, 6, 10);
    assert!(decide(&twins, &pregnant(date(2026, 9, 1), true, 2), day, &[]).is_ok());
    let single = decide(&twins, &pregnant(date(2026, 9, 1), true, 1), day, &[]).unwrap_err();
    assert_eq!(single.reason, Ineligible::NotMultipleBirth);
    assert!(!single.overridable());
    let born = mother_of(&[date(2025, 6, 11), date(2025, 6, 11)]);
    assert_eq!(decide(&twins, &born, day, &[]).map(|e| e.stage), Ok(Stage::Postnatal));
    // Turned 1 on 11 June 2026: no longer a 乳児.
    assert_eq!(reason(decide(&twins, &born, date(2026, 6, 11), &[])), Some(Ineligible::NotPregnantNorBaby));
    assert_eq!(reason(decide(&twins, &mother_of(&[date(2026, 1, 1)]), day, &[])), Some(Ineligible::NotMultipleBirth));
}

#[test]
fn stage_maps_to_the_owed_contact() {
    let e = |stage| Eligible { stage, pregnancy_id: None };
    assert_eq!(e(Stage::Prenatal).contact_kind(ProgrammeKind::SelfCare), Some(ContactKind::PrenatalSelfCareClass));
    assert_eq!(e(Stage::Postnatal).contact_kind(ProgrammeKind::SelfCare), Some(ContactKind::PostnatalSelfCareClass));
    assert_eq!(e(Stage::Prenatal).contact_kind(ProgrammeKind::SundayParentsClass), Some(ContactKind::MaternityClass));
    assert_eq!(e(Stage::Postnatal).contact_kind(ProgrammeKind::HealthConsultation), None);
}

/// [000] 全児童館25カ所にて…年間合計75回: 3 a hall, spread over the year,
/// 6 or 7 a month, none on a public holiday, all in the fiscal year.
#[test]
fn seventy_five_classes_over_25_halls() {
    let fy = FiscalYear::new(2025).unwrap();
    let halls: Vec<VenueId> = (1..=25).map(VenueId).collect();
    let plan = spread_over_venues(fy, &halls, 75, Weekday::Tuesday, Time::constant(10, 0, 0, 0));
    assert_eq!(plan.len(), 75);
    for h in &halls {
        let days: Vec<Date> = plan.iter().filter(|s| s.venue == *h).map(|s| s.day).collect();
        assert_eq!(days.len(), 3, "{h}");
        assert!(days.windows(2).all(|w| crate::dates::days_between(w[0], w[1]) > 60), "{h}: {days:?}");
    }
    for s in &plan {
        assert!(!is_public_holiday(s.day) && s.day.weekday() == Weekday::Tuesday, "{s:?}");
    }
    let mut per_month = [0; 12];
    for s in &plan {
        per_month[usize::try_from((i32::from(s.day.month()) + 8) % 12).unwrap()] += 1;
    }
    assert!(per_month.iter().all(|n| (6..=7).contains(n)), "{per_month:?}");
}

/// [004] 月1回（日曜日）: twelve Sundays, one a month.
#[test]
fn a_hubs_monthly_sunday_class() {
    let fy = FiscalYear::new(2026).unwrap();
    let plan = monthly(fy, VenueId(9), Weekday::Sunday, 2, Time::constant(10, 0, 0, 0));
    assert_eq!(plan.len(), 12);
    assert!(plan.iter().all(|s| s.day.weekday() == Weekday::Sunday && fy.contains(s.day)));
    assert_eq!(plan[0].day, date(2026, 4, 12));
}

/// The preview flags a pattern's day that was a public holiday: [2026年度]
/// January's second Monday is 成人の日, so the class moves a week later.
#[test]
fn a_holiday_moves_the_class_and_says_from_when() {
    let fy = FiscalYear::new(2026).unwrap();
    let plan = monthly(fy, VenueId(9), Weekday::Monday, 2, Time::constant(10, 0, 0, 0));
    let january = plan.iter().find(|s| s.day.month() == 1).unwrap();
    assert_eq!((january.day, january.moved_from), (date(2027, 1, 18), Some(date(2027, 1, 11))));
    assert!(plan.iter().filter(|s| s.moved_from.is_some()).all(|s| is_public_holiday(s.moved_from.unwrap())));
    let april = &plan[0];
    assert_eq!((april.day, april.moved_from), (date(2026, 4, 13), None));
}

#[test]
fn session_status_from_places() {
    assert_eq!(SessionStatus::of(false, 14, 15), SessionStatus::Open);
    assert_eq!(SessionStatus::of(false, 15, 15), SessionStatus::Full);
    assert_eq!(SessionStatus::of(true, 0, 15), SessionStatus::Cancelled);
}

proptest! {
    /// Postnatal eligibility is exactly "the class day is on or before the
    /// day before the 5-month birthday" (and on or after the birth).
    #[test]
    fn postnatal_is_the_day_before_5_months(birth_off in 0i32..4000, day_off in 0i32..200) {
        let birth = date(2015, 1, 1).saturating_add(birth_off.days());
        let day = birth.saturating_add(day_off.days());
        let got = decide(&self_care(), &mother_of(&[birth]), day, &[]);
        let last = crate::dates::last_day_under_months(birth, 5);
        prop_assert_eq!(got.is_ok(), day <= last);
    }

    /// Prenatal eligibility is exactly "16w0d or later on the class day".
    #[test]
    fn prenatal_is_week_16_or_later(edd_off in 0i32..4000, before in 1i32..280) {
        let edd = date(2015, 1, 1).saturating_add(edd_off.days());
        let day = edd.saturating_sub(before.days());
        let got = decide(&self_care(), &pregnant(edd, true, 1), day, &[]);
        let (weeks, _) = crate::timeline::dates::gestational_age_on(edd, day).unwrap();
        prop_assert_eq!(got.is_ok(), weeks >= 16);
    }

    /// Whatever the family and the day, an earlier booking of the stage the
    /// decision would give is refused, and only overridable refusals carry
    /// a booking.
    #[test]
    fn a_stage_is_taken_once(edd_off in 0i32..1000, day_off in -300i32..200, born in any::<bool>()) {
        let edd = date(2020, 1, 1).saturating_add(edd_off.days());
        let day = edd.saturating_add(day_off.days());
        let r = if born { mother_of(&[edd]) } else { pregnant(edd, true, 1) };
        match decide(&self_care(), &r, day, &[]) {
            Ok(e) => {
                let prior = PriorBooking { kind: ProgrammeKind::SelfCare, stage: e.stage, pregnancy_id: e.pregnancy_id };
                let again = decide(&self_care(), &r, day, &[prior]);
                prop_assert_eq!(reason(again), Some(Ineligible::StageAlreadyTaken { stage: e.stage }));
            }
            Err(refusal) => {
                prop_assert_eq!(refusal.overridable(), matches!(refusal.reason, Ineligible::TooEarlyInPregnancy { .. }));
            }
        }
    }

    /// Any count over any number of venues: exactly that many, in the year,
    /// venues in turn (each within one of the others).
    #[test]
    fn spreading_keeps_the_count(n in 1usize..40, per_year in 0u32..200) {
        let fy = FiscalYear::new(2026).unwrap();
        let venues: Vec<VenueId> = (1..=i64::try_from(n).unwrap()).map(VenueId).collect();
        let plan = spread_over_venues(fy, &venues, per_year, Weekday::Wednesday, Time::constant(10, 0, 0, 0));
        prop_assert_eq!(plan.len(), usize::try_from(per_year).unwrap());
        for s in &plan {
            prop_assert!(!is_public_holiday(s.day));
            prop_assert!(s.day >= fy.start() && s.day <= fy.end().saturating_add(35.days()));
        }
        let counts: Vec<usize> = venues.iter().map(|v| plan.iter().filter(|s| s.venue == *v).count()).collect();
        let (lo, hi) = (counts.iter().min().copied().unwrap_or(0), counts.iter().max().copied().unwrap_or(0));
        prop_assert!(hi - lo <= 1);
    }
}

/// [002] ②マタニティ教室: 小絹児童館 17 groups, 34 people, 17 couples —
/// every group a couple; BLOOM 10 / 10 / – — nobody came with a partner.
#[test]
fn participation_counts_as_the_seed_table() {
    let mut kokinu = Participation::default();
    for _ in 0..17 {
        kokinu.add_attendee(true);
    }
    assert_eq!((kokinu.groups, kokinu.people, kokinu.couples), (17, 34, 17));
    let mut bloom = Participation::default();
    for _ in 0..10 {
        bloom.add_attendee(false);
    }
    assert_eq!((bloom.groups, bloom.people, bloom.couples), (10, 10, 0));
}
