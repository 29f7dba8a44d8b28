use super::*;
use jiff::civil::date;
use proptest::prelude::*;

fn today() -> Date {
    date(2026, 11, 22)
}

fn hanako() -> PersonInput {
    PersonInput {
        family_name: "山田".into(),
        given_name: "花子".into(),
        family_name_kana: "ヤマダ".into(),
        given_name_kana: "ハナコ".into(),
        birth_date: Some("1994-05-01".into()),
    }
}

fn input() -> NotificationInput {
    NotificationInput {
        area_id: 3,
        fee_bracket: "taxed".into(),
        consent_coordinators: true,
        consent_hubs: false,
        notified_on: None,
        edd: "2027-05-20".into(),
        foetuses: 1,
        first_child: true,
        handbook_number: Some("R8-0123".into()),
        mother: hanako(),
        partner: None,
    }
}

#[test]
fn a_good_notification_passes() {
    let n = input().check(today()).unwrap();
    assert_eq!(n.notified_on, today());
    assert_eq!(n.mother.search_key(), "やまだはなこ");
    assert_eq!(n.fee_bracket, FeeBracket::Taxed);
}

#[test]
fn every_problem_is_reported_next_to_its_field() {
    let mut i = input();
    i.fee_bracket = "rich".into();
    i.edd = "2027-02-30".into();
    i.foetuses = 0;
    i.mother.family_name_kana = "山田".into();
    i.mother.given_name = " ".into();
    i.partner = Some(PersonInput { family_name_kana: "".into(), ..hanako() });
    let e = i.check(today()).unwrap_err();
    assert_eq!(e.for_field("fee_bracket"), Some("invalid_choice"));
    assert_eq!(e.for_field("edd"), Some("invalid_date"));
    assert_eq!(e.for_field("foetuses"), Some("out_of_range"));
    assert_eq!(e.for_field("mother.family_name_kana"), Some("not_kana"));
    assert_eq!(e.for_field("mother.given_name"), Some("required"));
    assert_eq!(e.for_field("partner.family_name_kana"), Some("required"));
}

#[test]
fn edd_window_boundaries() {
    let n = today();
    let mut i = input();
    i.edd = n.saturating_sub(60.days()).to_string();
    assert!(i.check(n).is_ok());
    i.edd = n.saturating_sub(61.days()).to_string();
    assert_eq!(i.check(n).unwrap_err().for_field("edd"), Some("edd_too_early"));
    i.edd = n.saturating_add(252.days()).to_string();
    assert!(i.check(n).is_ok());
    i.edd = n.saturating_add(253.days()).to_string();
    assert_eq!(i.check(n).unwrap_err().for_field("edd"), Some("edd_too_late"));
}

#[test]
fn notification_day_cannot_be_in_the_future() {
    let mut i = input();
    i.notified_on = Some("2026-11-23".into());
    assert_eq!(i.check(today()).unwrap_err().for_field("notified_on"), Some("date_in_future"));
}

#[test]
fn duplicates_are_the_same_mother_and_a_close_edd() {
    let n = input().check(today()).unwrap();
    let b = Some(date(1994, 5, 1));
    assert!(is_duplicate_notification("やまだはなこ", b, date(2027, 6, 10), &n));
    assert!(!is_duplicate_notification("やまだはなこ", b, date(2027, 6, 18), &n));
    assert!(!is_duplicate_notification("やまだはなこ", Some(date(1990, 1, 1)), date(2027, 5, 20), &n));
    assert!(!is_duplicate_notification("やまだよしこ", b, date(2027, 5, 20), &n));
    assert!(is_duplicate_notification("やまだはなこ", None, date(2027, 5, 20), &n));
}

fn pregnancy(foetuses: u8) -> Pregnancy {
    Pregnancy {
        id: PregnancyId(1),
        family_id: FamilyId(1),
        notified_on: date(2026, 6, 1),
        edd: date(2026, 12, 1),
        foetuses,
        first_child: true,
        status: PregnancyStatus::Ongoing,
        handbook_number: None,
        ended_on: None,
    }
}

fn baby(d: &str) -> BabyInput {
    BabyInput {
        birth_date: d.into(),
        sex: "female".into(),
        gestational_weeks: 37,
        gestational_days: 2,
        birth_weight_g: Some(2600),
        ..Default::default()
    }
}

#[test]
fn twins_are_recorded_together() {
    let input = BirthInput { babies: vec![baby("2026-11-10"), baby("2026-11-10")] };
    let babies = input.check(&pregnancy(2), today()).unwrap();
    assert_eq!(babies.len(), 2);
}

#[test]
fn birth_checks() {
    let p = pregnancy(1);
    let two = BirthInput { babies: vec![baby("2026-11-10"), baby("2026-11-10")] };
    assert_eq!(two.check(&p, today()).unwrap_err().for_field("babies"), Some("more_than_foetuses"));
    let early = BirthInput { babies: vec![baby("2026-07-27")] };
    assert_eq!(early.check(&p, today()).unwrap_err().for_field("babies.0.birth_date"), Some("birth_before_pregnancy"));
    let edge = BirthInput { babies: vec![baby("2026-07-28")] };
    assert!(edge.check(&p, today()).is_ok());
    let future = BirthInput { babies: vec![baby("2026-11-23")] };
    assert_eq!(future.check(&p, today()).unwrap_err().for_field("babies.0.birth_date"), Some("date_in_future"));
    let delivered = Pregnancy { status: PregnancyStatus::Delivered, ..p };
    assert!(BirthInput { babies: vec![baby("2026-11-10")] }.check(&delivered, today()).is_err());
}

proptest! {
    /// Whatever is typed, checking never panics, and an accepted
    /// notification always has an EDD inside the window.
    #[test]
    fn check_is_total(edd_offset in -400i32..400, foetuses in -3i64..9, kana in ".{0,8}") {
        let mut i = input();
        i.edd = today().saturating_add(edd_offset.days()).to_string();
        i.foetuses = foetuses;
        i.mother.given_name_kana = kana;
        if let Ok(n) = i.check(today()) {
            prop_assert!((-60..=252).contains(&edd_offset));
            prop_assert!((1..=5).contains(&n.foetuses));
        }
    }
}

#[test]
fn a_new_edd_is_checked_like_the_first() {
    let p = pregnancy(1);
    let edd = |s: &str| EddChangeInput { edd: s.into() }.check(&p);
    assert_eq!(edd("2026-12-15"), Ok(date(2026, 12, 15)));
    assert_eq!(edd("").unwrap_err().for_field("edd"), Some("required"));
    assert_eq!(edd("2026-02-30").unwrap_err().for_field("edd"), Some("invalid_date"));
    assert_eq!(edd("2026-12-01").unwrap_err().for_field("edd"), Some("unchanged"));
    // 60 days before the notification (1 June) is 2 April; 252 days after is 8 February.
    assert!(edd("2026-04-02").is_ok());
    assert_eq!(edd("2026-04-01").unwrap_err().for_field("edd"), Some("edd_too_early"));
    assert!(edd("2027-02-08").is_ok());
    assert_eq!(edd("2027-02-09").unwrap_err().for_field("edd"), Some("edd_too_late"));
    let delivered = Pregnancy { status: PregnancyStatus::Delivered, ..p };
    assert_eq!(
        EddChangeInput { edd: "2026-12-15".into() }.check(&delivered).unwrap_err().for_field("pregnancy"),
        Some("not_ongoing")
    );
}

#[test]
fn a_loss_or_a_move_is_checked() {
    let p = pregnancy(1);
    let end = |p: &Pregnancy, babies: &[Baby], ending: &str, on: &str| {
        PregnancyEndInput { ending: ending.into(), on: on.into() }.check(p, babies, today())
    };
    assert_eq!(end(&p, &[], "lost", "2026-08-01"), Ok(PregnancyEnd::Lost(date(2026, 8, 1))));
    assert_eq!(end(&p, &[], "moved_out", "2026-06-01"), Ok(PregnancyEnd::MovedOut(date(2026, 6, 1))));
    assert_eq!(end(&p, &[], "lost", "2026-05-31").unwrap_err().for_field("on"), Some("before_notification"));
    assert_eq!(end(&p, &[], "lost", "2026-11-23").unwrap_err().for_field("on"), Some("date_in_future"));
    assert_eq!(end(&p, &[], "lost", "").unwrap_err().for_field("on"), Some("required"));
    assert_eq!(end(&p, &[], "gone", "2026-08-01").unwrap_err().for_field("ending"), Some("invalid_choice"));
    let delivered = Pregnancy { status: PregnancyStatus::Delivered, ..p.clone() };
    let born = Baby {
        id: BabyId(1),
        pregnancy_id: p.id,
        person_id: crate::PersonId(3),
        birth_date: date(2026, 11, 10),
        sex: Sex::Male,
        gestational_weeks: 39,
        gestational_days: 0,
        birth_weight_g: None,
        long_hospitalisation: false,
    };
    assert_eq!(end(&delivered, &[], "lost", "2026-11-12").unwrap_err().for_field("pregnancy"), Some("not_ongoing"));
    assert_eq!(
        end(&delivered, std::slice::from_ref(&born), "moved_out", "2026-11-12"),
        Ok(PregnancyEnd::MovedOut(date(2026, 11, 12)))
    );
    assert_eq!(end(&delivered, &[born], "moved_out", "2026-11-09").unwrap_err().for_field("on"), Some("before_birth"));
    let lost = Pregnancy { status: PregnancyStatus::Lost, ..p };
    assert_eq!(end(&lost, &[], "moved_out", "2026-11-12").unwrap_err().for_field("pregnancy"), Some("already_ended"));
}
