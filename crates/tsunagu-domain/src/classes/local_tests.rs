//! Local information [000] 地域おでかけ情報: the stage a family is at, at
//! every boundary, and the checked entry.

use super::local::*;
use crate::records::{Baby, Family, FamilyRecord, FeeBracket, Pregnancy, PregnancyStatus, Sex};
use crate::{AreaId, BabyId, FamilyId, MunicipalityId, PersonId, PregnancyId, VenueId};
use jiff::civil::{date, Date};
use jiff::ToSpan;
use proptest::prelude::*;

fn family(pregnancies: Vec<Pregnancy>, babies: Vec<Baby>) -> FamilyRecord {
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
        pregnancies,
        babies,
    }
}

fn pregnancy(id: i64, notified_on: Date, status: PregnancyStatus, ended_on: Option<Date>) -> Pregnancy {
    Pregnancy {
        id: PregnancyId(id),
        family_id: FamilyId(1),
        notified_on,
        edd: notified_on.saturating_add(30.weeks()),
        foetuses: 1,
        first_child: id == 1,
        status,
        handbook_number: None,
        ended_on,
    }
}

fn baby(id: i64, pregnancy: i64, birth: Date) -> Baby {
    Baby {
        id: BabyId(id),
        pregnancy_id: PregnancyId(pregnancy),
        person_id: PersonId(id),
        birth_date: birth,
        sex: Sex::Female,
        gestational_weeks: 39,
        gestational_days: 0,
        birth_weight_g: None,
        long_hospitalisation: false,
    }
}

fn born(birth: Date) -> FamilyRecord {
    family(vec![pregnancy(1, date(2024, 1, 10), PregnancyStatus::Delivered, None)], vec![baby(1, 1, birth)])
}

#[test]
fn a_child_moves_stage_on_the_day_it_turns_the_months() {
    let birth = date(2025, 3, 15);
    let cases = [
        (date(2025, 3, 14), None),
        (date(2025, 3, 15), Some(LifeStage::Newborn)),
        (date(2025, 6, 14), Some(LifeStage::Newborn)),
        (date(2025, 6, 15), Some(LifeStage::ThreeMonths)),
        (date(2025, 9, 14), Some(LifeStage::ThreeMonths)),
        (date(2025, 9, 15), Some(LifeStage::SixMonths)),
        (date(2026, 3, 14), Some(LifeStage::SixMonths)),
        (date(2026, 3, 15), Some(LifeStage::OneYear)),
        (date(2027, 3, 14), Some(LifeStage::OneYear)),
        (date(2027, 3, 15), Some(LifeStage::TwoYears)),
        (date(2028, 3, 14), Some(LifeStage::TwoYears)),
        (date(2028, 3, 15), Some(LifeStage::Preschool)),
        (date(2031, 3, 14), Some(LifeStage::Preschool)),
        (date(2031, 3, 15), None),
    ];
    for (day, want) in cases {
        assert_eq!(LifeStage::of_child(birth, day), want, "{day}");
        // Before the birth the family is at the pregnancy.
        let family_stage = if day < birth { Some(LifeStage::Pregnant) } else { want };
        assert_eq!(stage_on(&born(birth), day), family_stage, "{day}");
    }
}

/// Born on the 31st: a month without a 31st ends on its last day, so the
/// baby turns 3 months on the 1st of the next month (as `dates` counts).
#[test]
fn a_child_born_on_the_31st_turns_3_months_on_the_1st() {
    let birth = date(2025, 3, 31);
    assert_eq!(LifeStage::of_child(birth, date(2025, 6, 30)), Some(LifeStage::Newborn));
    assert_eq!(LifeStage::of_child(birth, date(2025, 7, 1)), Some(LifeStage::ThreeMonths));
}

#[test]
fn pregnant_from_the_notification_until_the_birth() {
    let notified = date(2025, 5, 1);
    let ongoing = family(vec![pregnancy(1, notified, PregnancyStatus::Ongoing, None)], vec![]);
    assert_eq!(stage_on(&ongoing, date(2025, 4, 30)), None);
    assert_eq!(stage_on(&ongoing, notified), Some(LifeStage::Pregnant));
    let birth = date(2025, 12, 1);
    let delivered = family(vec![pregnancy(1, notified, PregnancyStatus::Delivered, None)], vec![baby(1, 1, birth)]);
    assert_eq!(stage_on(&delivered, date(2025, 11, 30)), Some(LifeStage::Pregnant));
    assert_eq!(stage_on(&delivered, birth), Some(LifeStage::Newborn));
    assert_eq!(stages_on(&delivered, birth), StageSet::of([LifeStage::Newborn]));
}

#[test]
fn a_loss_or_a_move_ends_the_pregnancy_on_its_day() {
    let notified = date(2025, 5, 1);
    let ended = date(2025, 7, 1);
    for status in [PregnancyStatus::Lost, PregnancyStatus::MovedOut] {
        let f = family(vec![pregnancy(1, notified, status, Some(ended))], vec![]);
        assert_eq!(stage_on(&f, date(2025, 6, 30)), Some(LifeStage::Pregnant), "{status:?}");
        assert_eq!(stage_on(&f, ended), None, "{status:?}");
    }
}

/// A mother pregnant again with a toddler is at both stages; the page
/// opens on the pregnancy (what is next).
#[test]
fn pregnant_again_with_a_toddler_is_at_both_stages() {
    let mut f = born(date(2024, 6, 1));
    f.pregnancies.push(pregnancy(2, date(2025, 9, 1), PregnancyStatus::Ongoing, None));
    let day = date(2025, 10, 1);
    assert_eq!(stages_on(&f, day), StageSet::of([LifeStage::Pregnant, LifeStage::OneYear]));
    assert_eq!(stage_on(&f, day), Some(LifeStage::Pregnant));
}

#[test]
fn twins_are_one_stage() {
    let birth = date(2025, 1, 1);
    let f = family(
        vec![pregnancy(1, date(2024, 6, 1), PregnancyStatus::Delivered, None)],
        vec![baby(1, 1, birth), baby(2, 1, birth.saturating_add(1.day()))],
    );
    assert_eq!(stages_on(&f, date(2025, 2, 1)), StageSet::of([LifeStage::Newborn]));
}

fn input() -> LocalPlaceInput {
    LocalPlaceInput {
        area_id: 3,
        kind: "outing_spot".into(),
        name_ja: "  砧公園  ".into(),
        name_en: "Kinuta Park".into(),
        address: "世田谷区砧公園1-1".into(),
        access: "用賀駅から徒歩20分".into(),
        hours: "常時開放".into(),
        offers_ja: "芝生広場、授乳室あり".into(),
        offers_en: String::new(),
        stages: vec!["six_months".into(), "one_year".into()],
        venue_id: Some(7),
    }
}

#[test]
fn a_good_entry_is_checked_and_trimmed() {
    let place = input().check().unwrap();
    assert_eq!(place.name_ja, "砧公園");
    assert_eq!(place.kind, PlaceKind::OutingSpot);
    assert_eq!(place.area_id, AreaId(3));
    assert_eq!(place.venue_id, Some(VenueId(7)));
    assert_eq!(place.stages, StageSet::of([LifeStage::SixMonths, LifeStage::OneYear]));
}

#[test]
fn every_bad_field_is_reported() {
    let bad = LocalPlaceInput {
        area_id: 0,
        kind: "castle".into(),
        name_ja: " ".into(),
        name_en: "x".repeat(MAX_NAME + 1),
        offers_ja: String::new(),
        stages: vec![],
        venue_id: Some(-1),
        ..input()
    };
    let errors = bad.check().unwrap_err();
    for (field, code) in [
        ("area_id", "required"),
        ("kind", "invalid_choice"),
        ("name_ja", "required"),
        ("name_en", "too_long"),
        ("offers_ja", "required"),
        ("stages", "required"),
        ("venue_id", "invalid_choice"),
    ] {
        assert_eq!(errors.for_field(field), Some(code), "{field}: {errors}");
    }
    let unknown_stage = LocalPlaceInput { stages: vec!["teen".into()], ..input() };
    assert_eq!(unknown_stage.check().unwrap_err().for_field("stages"), Some("invalid_choice"));
    let control = LocalPlaceInput { hours: "9\u{0}時".into(), ..input() };
    assert_eq!(control.check().unwrap_err().for_field("hours"), Some("invalid_characters"));
}

#[test]
fn codes_round_trip() {
    for k in PlaceKind::ALL {
        assert_eq!(PlaceKind::parse(k.as_str()), Some(k));
    }
    for s in LifeStage::ALL {
        assert_eq!(LifeStage::parse(s.as_str()), Some(s));
    }
}

proptest! {
    /// A set survives its stored mask, and the mask never holds unknown bits.
    #[test]
    fn stage_sets_round_trip(bits in any::<i64>()) {
        let set = StageSet::from_bits(bits);
        prop_assert_eq!(StageSet::from_bits(set.bits()), set);
        prop_assert_eq!(StageSet::of(set.iter()), set);
        prop_assert!(set.bits() < 1 << LifeStage::ALL.len());
    }

    /// A child's stage never goes back as days pass, and ends at school age.
    #[test]
    fn a_childs_stage_only_moves_on(birth_days in 0i64..20_000, a in 0i64..3_000, b in 0i64..3_000) {
        let birth = date(1990, 1, 1).saturating_add(birth_days.days());
        let (early, late) = (a.min(b), a.max(b));
        let s1 = LifeStage::of_child(birth, birth.saturating_add(early.days()));
        let s2 = LifeStage::of_child(birth, birth.saturating_add(late.days()));
        match (s1, s2) {
            (Some(x), Some(y)) => prop_assert!(x <= y),
            (None, Some(_)) => prop_assert!(false, "a stage after school age"),
            _ => {}
        }
        if late >= 6 * 366 {
            prop_assert_eq!(s2, None);
        }
        if early < 5 * 365 {
            prop_assert!(s1.is_some());
        }
    }
}
