use super::*;
use crate::roles::Role;
use ContactKind as K;

/// Contacts due on each day of the week of Monday 2026-11-23, and around it.
fn pile() -> Vec<StoredContact> {
    let mk = |id: i64, kind, opens, due, closes| stored_contact(id, kind, window(opens, due, closes));
    vec![
        // Due Sunday before: overdue on the 25th.
        mk(1, K::EighthMonthInterview, date(2026, 11, 1), date(2026, 11, 22), date(2026, 12, 31)),
        // Due Monday 23rd: on the 25th it is overdue, so not "due this week".
        mk(2, K::EighthMonthInterview, date(2026, 11, 1), date(2026, 11, 23), date(2026, 12, 31)),
        // Due Wednesday 25th (today).
        mk(3, K::NewbornVisit, date(2026, 11, 1), date(2026, 11, 25), date(2026, 11, 25)),
        // Due Sunday 29th, opening Friday 27th.
        mk(4, K::HappyBaby, date(2026, 11, 27), date(2026, 11, 29), date(2026, 12, 31)),
        // Due Monday 30th: next week.
        mk(5, K::HappyBaby, date(2026, 11, 1), date(2026, 11, 30), date(2026, 12, 31)),
        // Closed 24th without outcome: missed.
        mk(6, K::HealthCheck3To4Months, date(2026, 9, 1), date(2026, 10, 31), date(2026, 11, 24)),
        // An offer that lapsed: on no list.
        mk(7, K::PostpartumCare, date(2026, 7, 1), date(2026, 10, 31), date(2026, 10, 31)),
    ]
}

fn ids(v: Vec<&StoredContact>) -> Vec<i64> {
    v.into_iter().map(|c| c.id.0).collect()
}

#[test]
fn each_list_holds_what_it_says() {
    let today = date(2026, 11, 25);
    let pile = pile();
    assert_eq!(ids(due_this_week(&pile, today)), vec![3, 4]);
    assert_eq!(ids(overdue(&pile, today)), vec![1, 2]);
    assert_eq!(ids(missed(&pile, today)), vec![6]);
    assert_eq!(counts(&pile, today), WorkCounts { due_this_week: 2, overdue: 2, missed: 1 });
}

#[test]
fn on_monday_the_whole_week_is_ahead() {
    let pile = pile();
    assert_eq!(ids(due_this_week(&pile, date(2026, 11, 23))), vec![2, 3, 4]);
    // On Sunday only Sunday's is left.
    assert_eq!(ids(due_this_week(&pile, date(2026, 11, 29))), vec![4]);
    // The next Monday starts a new week.
    assert_eq!(ids(due_this_week(&pile, date(2026, 11, 30))), vec![5]);
}

#[test]
fn settled_and_hidden_contacts_leave_the_lists() {
    let today = date(2026, 11, 25);
    let mut pile = pile();
    pile[0].outcome = Some(Outcome::Done { form: ContactForm::Group });
    pile[1].ending = Some(Ending::hidden(CloseReason::PregnancyLost));
    pile[2].outcome = Some(Outcome::NotReached { attempts: 2 });
    pile[5].outcome = Some(Outcome::Declined);
    assert_eq!(ids(overdue(&pile, today)), Vec::<i64>::new());
    assert_eq!(ids(missed(&pile, today)), Vec::<i64>::new());
    // The newborn visit not reached stays on the list (its whereabouts matter).
    assert_eq!(ids(due_this_week(&pile, today)), vec![3, 4]);
}

#[test]
fn a_missed_health_check_stays_until_somebody_records_what_happened() {
    let mut pile = vec![pile().remove(5)];
    for day in [date(2026, 11, 25), date(2027, 6, 1), date(2030, 1, 1)] {
        assert_eq!(ids(missed(&pile, day)), vec![6]);
    }
    pile[0].outcome = Some(Outcome::NotReached { attempts: 4 });
    assert_eq!(ids(missed(&pile, date(2027, 6, 1))), vec![6]);
    pile[0].outcome = Some(Outcome::Done { form: ContactForm::Individual });
    assert_eq!(ids(missed(&pile, date(2027, 6, 1))), Vec::<i64>::new());
}

#[test]
fn lists_split_by_owner() {
    let pile = pile();
    assert_eq!(ids(owned_by(&pile, Role::Coordinator)), vec![4, 5]);
    assert_eq!(ids(owned_by(&pile, Role::Nurse)), vec![1, 2, 3, 6, 7]);
}

proptest! {
    #[test]
    fn the_lists_never_overlap_and_hold_only_unresolved_contacts(f in any_facts(), day in any_date()) {
        let mut next = 0;
        let stored = store(&f, &mut next);
        let (week, late, gone) = (due_this_week(&stored, day), overdue(&stored, day), missed(&stored, day));
        for c in week.iter().chain(&late).chain(&gone) {
            prop_assert!(c.status(day).is_unresolved());
            prop_assert!(!c.is_hidden());
        }
        let mut all: Vec<_> = ids(week).into_iter().chain(ids(late)).chain(ids(gone)).collect();
        let n = all.len();
        all.sort();
        all.dedup();
        prop_assert_eq!(all.len(), n);
    }
}

#[test]
fn only_nurses_and_coordinators_draw_work_lists_within_what_they_may_list() {
    use crate::policy::FamilyFilter;
    use crate::roles::Actor;
    use crate::{AccountId, AreaId, MunicipalityId};
    let m = MunicipalityId(3);
    let actor = |role| Actor {
        account_id: AccountId(1),
        municipality_id: m,
        role,
        family_id: None,
        relation: None,
        areas: vec![AreaId(2)],
        venues: vec![],
        rooms: vec![],
    };
    for role in Role::ALL {
        let access = work_list_access(&actor(role));
        match role {
            Role::Nurse => {
                let a = access.unwrap();
                assert_eq!(a.filter, FamilyFilter::Municipality(m));
                assert_eq!((a.own_role, a.own_areas), (Role::Nurse, vec![AreaId(2)]));
            }
            Role::Coordinator => {
                let a = access.unwrap();
                // Consent decides what a coordinator's lists may hold.
                assert_eq!(a.filter, FamilyFilter::ConsentingInAreas(m, vec![AreaId(2)]));
                assert_eq!(a.own_role, Role::Coordinator);
            }
            _ => assert_eq!(access, None, "{role:?}"),
        }
    }
}

#[test]
fn who_may_record_an_outcome() {
    for kind in ContactKind::ALL {
        assert!(may_record(Role::Nurse, kind), "{kind}");
        assert_eq!(
            may_record(Role::Coordinator, kind),
            kind.owner() == Role::Coordinator || kind.with().contains(&Role::Coordinator),
            "{kind}"
        );
        assert!(!may_record(Role::FamilyMember, kind));
        assert!(!may_record(Role::Analyst, kind));
        assert!(!may_record(Role::PeerSupporter, kind));
    }
    assert!(may_record(Role::Coordinator, K::HappyBaby));
    assert!(!may_record(Role::Coordinator, K::NewbornVisit));
}

#[test]
fn a_chip_counts_exactly_up_to_its_cap_and_shows_the_cap_beyond_it() {
    // The store reads at most cap + 1 entries: cap + 1 is "more than the cap".
    for (counted, cap, chip) in [
        (0, 3, ChipCount::Exact(0)),
        (2, 3, ChipCount::Exact(2)),
        (3, 3, ChipCount::Exact(3)),
        (4, 3, ChipCount::OverCap(3)),
        (998, CHIP_COUNT_CAP, ChipCount::Exact(998)),
        (999, CHIP_COUNT_CAP, ChipCount::Exact(999)),
        (1000, CHIP_COUNT_CAP, ChipCount::OverCap(999)),
        (u64::MAX, CHIP_COUNT_CAP, ChipCount::OverCap(999)),
        (0, 0, ChipCount::Exact(0)),
        (1, 0, ChipCount::OverCap(0)),
    ] {
        let c = ChipCount::of(counted, cap);
        assert_eq!(c, chip, "{counted} with cap {cap}");
        assert_eq!(c.shown(), counted.min(u64::from(cap)), "{counted} with cap {cap}");
        assert_eq!(c.is_over_cap(), counted > u64::from(cap));
    }
}
