use super::*;
use crate::policy::FamilyFilter;
use crate::roles::{Actor, Role};
use crate::timeline::meetings::*;
use crate::{AccountId, AreaId, FamilyId, MunicipalityId};

const M: MunicipalityId = MunicipalityId(1);
const MINE: AreaId = AreaId(10);
const OTHER: AreaId = AreaId(11);

fn actor(role: Role) -> Actor {
    Actor {
        account_id: AccountId(1),
        municipality_id: M,
        role,
        family_id: (role == Role::FamilyMember).then_some(FamilyId(5)),
        relation: None,
        areas: vec![MINE],
        venues: vec![],
        rooms: vec![],
    }
}

fn month(y: i16, m: i8) -> DueMonth {
    DueMonth { year: y, month: m }
}

fn r(i: i64) -> PregnancyRef {
    PregnancyRef { family: FamilyId(i), pregnancy: PregnancyId(i) }
}

#[test]
fn months_read_as_typed_and_nothing_else() {
    assert_eq!(DueMonth::parse("2026-10"), Some(month(2026, 10)));
    assert_eq!(DueMonth::parse(" 2027-01 "), Some(month(2027, 1)));
    for bad in
        ["", "2026-13", "2026-00", "2026-1", "26-10", "2026/10", "2026-10-01", "２０２６-10", "+026-10", "1899-12"]
    {
        assert_eq!(DueMonth::parse(bad), None, "{bad:?}");
    }
    let feb = month(2028, 2);
    assert_eq!((feb.first_day(), feb.last_day()), (date(2028, 2, 1), date(2028, 2, 29)));
    assert_eq!((month(2026, 12).next(), month(2027, 1).previous()), (month(2027, 1), month(2026, 12)));
    assert_eq!(month(2026, 4).to_string(), "2026-04");
}

#[test]
fn a_fiscal_year_is_april_to_march() {
    let fy = fiscal_year_months(month(2027, 2));
    assert_eq!(fy.len(), 12);
    assert_eq!((fy[0], fy[11]), (month(2026, 4), month(2027, 3)));
    assert_eq!(fiscal_year_months(month(2026, 4)), fy);
    assert_eq!(fiscal_year_months(month(2027, 3)), fy);
    assert_eq!(fiscal_year_months(month(2027, 4))[0], month(2027, 4));
}

#[test]
fn default_months() {
    assert_eq!(current_handbook_month(date(2026, 11, 22)), month(2026, 10));
    assert_eq!(current_handbook_month(date(2027, 1, 5)), month(2026, 12));
    // At 28w0d (84 days before the EDD) a woman is at her 8th month.
    assert_eq!(current_group_due_month(date(2026, 11, 22)), month(2027, 2));
}

#[test]
fn who_sees_which_handbook_list() {
    let nurse = actor(Role::Nurse);
    assert_eq!(handbook_list_filter(&nurse, OTHER), Some(FamilyFilter::Municipality(M)));
    let coord = actor(Role::Coordinator);
    assert_eq!(handbook_list_filter(&coord, MINE), Some(FamilyFilter::ConsentingInAreas(M, vec![MINE])));
    assert_eq!(handbook_list_filter(&coord, OTHER), None, "only her own areas");
    for role in Role::ALL {
        if !matches!(role, Role::Nurse | Role::Coordinator) {
            assert_eq!(handbook_list_filter(&actor(role), MINE), None, "{role:?}");
            assert_eq!(group_session_filter(&actor(role)), None, "{role:?}");
        }
        assert_eq!(may_run_meetings(&actor(role)), role == Role::Nurse, "{role:?}");
    }
    assert_eq!(group_session_filter(&coord), Some(FamilyFilter::ConsentingInAreas(M, vec![MINE])));
}

fn meeting(m: &str, held_on: &str, note: &str) -> HandbookMeetingInput {
    HandbookMeetingInput { area_id: MINE.0, month: m.into(), held_on: held_on.into(), note: note.into() }
}

fn codes(e: crate::validation::FieldErrors) -> Vec<(String, &'static str)> {
    e.0.into_iter().map(|e| (e.field, e.code)).collect()
}

#[test]
fn a_meeting_is_held_after_its_month_and_not_in_the_future() {
    let today = date(2026, 11, 22);
    let ok = meeting("2026-10", "2026-11-01", " 12件、うち2件は要フォロー ").check(today).unwrap();
    assert_eq!((ok.area, ok.month, ok.held_on), (MINE, month(2026, 10), date(2026, 11, 1)));
    assert_eq!(ok.note, "12件、うち2件は要フォロー");
    assert!(meeting("2026-10", "2026-11-22", "").check(today).is_ok());
    // Late is fine: the contacts were waiting.
    assert!(meeting("2026-04", "2026-11-22", "").check(today).is_ok());
    for (m, held, field, code) in [
        ("", "2026-11-01", "month", "required"),
        ("2026-1", "2026-11-01", "month", "invalid_month"),
        ("2026-12", "2026-11-01", "month", "date_in_future"),
        ("2026-10", "", "held_on", "required"),
        ("2026-10", "2026-11-31", "held_on", "invalid_date"),
        ("2026-10", "2026-11-23", "held_on", "date_in_future"),
        ("2026-10", "2026-10-31", "held_on", "meeting_too_early"),
        ("2026-11", "2026-11-20", "held_on", "meeting_too_early"),
        // More than a year back is outside the service's horizon.
        ("2025-06", "2025-11-20", "held_on", "date_too_early"),
        ("1900-01", "1900-02-01", "held_on", "date_too_early"),
    ] {
        let e = meeting(m, held, "").check(today).unwrap_err();
        assert_eq!(codes(e), vec![(field.to_owned(), code)], "{m} {held}");
    }
    let long = "あ".repeat(MEETING_NOTE_MAX_CHARS + 1);
    assert_eq!(
        codes(meeting("2026-10", "2026-11-01", &long).check(today).unwrap_err()),
        vec![("note".into(), "too_long")]
    );
    assert!(meeting("2026-10", "2026-11-01", &"あ".repeat(MEETING_NOTE_MAX_CHARS)).check(today).is_ok());
}

fn session(members: Vec<i64>, day: &str, place: &str) -> GroupSessionInput {
    GroupSessionInput { area_id: MINE.0, due_month: "2027-02".into(), day: day.into(), place: place.into(), members }
}

#[test]
fn a_session_takes_members_of_the_proposal_only() {
    let today = date(2026, 11, 22);
    let proposed: Vec<_> = (1..=8).map(r).collect();
    let ok = session(vec![3, 1, 2], "2026-12-10", " 小絹児童館 ").check(today, &proposed).unwrap();
    assert_eq!(ok.members, vec![r(3), r(1), r(2)]);
    assert_eq!((ok.due_month, ok.day, ok.place.as_str()), (month(2027, 2), date(2026, 12, 10), "小絹児童館"));
    // Recorded afterwards, or a group of one: both fine.
    assert!(session(vec![4], "2026-11-01", "x").check(today, &proposed).is_ok());
    for (members, day, place, field, code) in [
        (vec![], "2026-12-10", "x", "members", "required"),
        (vec![1, 2, 3, 4, 5, 6, 7], "2026-12-10", "x", "members", "too_many"),
        (vec![1, 9], "2026-12-10", "x", "members", "not_proposed"),
        (vec![1, 1], "2026-12-10", "x", "members", "duplicate"),
        (vec![1], "", "x", "day", "required"),
        (vec![1], "12/10", "x", "day", "invalid_date"),
        (vec![1], "2027-03-01", "x", "day", "out_of_range"),
        (vec![1], "2025-11-20", "x", "day", "out_of_range"),
        (vec![1], "2026-12-10", " ", "place", "required"),
    ] {
        let e = session(members.clone(), day, place).check(today, &proposed).unwrap_err();
        assert_eq!(codes(e), vec![(field.to_owned(), code)], "{members:?} {day} {place:?}");
    }
    // A session far ahead, even in a due month that far ahead, is refused.
    let mut far = session(vec![1], "2999-12-01", "x");
    far.due_month = "2999-12".into();
    assert_eq!(codes(far.check(today, &proposed).unwrap_err()), vec![("day".into(), "out_of_range")]);
    let mut bad_month = session(vec![1], "2026-12-10", "x");
    bad_month.due_month = "2027-2".into();
    assert_eq!(codes(bad_month.check(today, &proposed).unwrap_err()), vec![("due_month".into(), "invalid_month")]);
    let long = "x".repeat(PLACE_MAX_CHARS + 1);
    assert_eq!(
        codes(session(vec![1], "2026-12-10", &long).check(today, &proposed).unwrap_err()),
        vec![("place".into(), "too_long")]
    );
}

#[test]
fn attendance_names_members_only_once_the_day_has_come() {
    let members = [PregnancyId(1), PregnancyId(2), PregnancyId(3)];
    let a = AttendanceInput { attended: vec![2, 1, 2] }.check(&members).unwrap();
    assert_eq!(a, vec![PregnancyId(2), PregnancyId(1)]);
    assert_eq!(AttendanceInput::default().check(&members).unwrap(), vec![]);
    let e = AttendanceInput { attended: vec![1, 4] }.check(&members).unwrap_err();
    assert_eq!(codes(e), vec![("attended".into(), "not_a_member")]);
    assert!(attendance_open(date(2026, 11, 22), date(2026, 11, 22)));
    assert!(!attendance_open(date(2026, 11, 23), date(2026, 11, 22)));
}

#[test]
fn the_group_size_cites_a_sensible_number() {
    assert_eq!(max_group_size().get(), MAX_GROUP_SIZE);
    // A usual month of an area (about four) is one group.
    let input: Vec<_> = (1..=4).map(|i| (r(i), MINE, date(2027, 2, i as i8))).collect();
    assert_eq!(propose_groups(&input, max_group_size()).len(), 1);
}
