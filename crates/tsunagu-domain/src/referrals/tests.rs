//! Every transition, allowed and refused. The allowed cells are listed by
//! hand; every other cell must be refused, with the right reason.

use super::*;
use proptest::prelude::*;
use ReferralAction as A;
use ReferralStatus as S;

const FAMILY: FamilyId = FamilyId(3);
const PREGNANCY: PregnancyId = PregnancyId(4);

fn actions() -> Vec<ReferralAction> {
    vec![
        A::Receive,
        A::Start,
        A::Escalate,
        A::MarkSpecifiedExpectantMother,
        A::ClearSpecifiedExpectantMother,
        A::Close(CloseReason::Resolved),
        A::Close(CloseReason::NoConcern),
        A::Close(CloseReason::Duplicate),
        A::Close(CloseReason::MovedOut),
    ]
}

fn at(status: ReferralStatus) -> Referral {
    let mut r = raise(Role::Coordinator, FAMILY, Some(PREGNANCY), ConcernSource::Observation, false).unwrap();
    r.status = status;
    r
}

/// The cells a nurse may take from a fresh referral (about a pregnancy, not
/// escalated, not marked), with the status it ends in.
fn allowed(status: ReferralStatus, action: ReferralAction) -> Option<ReferralStatus> {
    match (status, action) {
        (S::Raised, A::Receive) => Some(S::Received),
        (S::Received, A::Start) => Some(S::InProgress),
        (S::Received | S::InProgress, A::Escalate) => Some(S::InProgress),
        (S::Received, A::MarkSpecifiedExpectantMother) => Some(S::Received),
        (S::InProgress, A::MarkSpecifiedExpectantMother) => Some(S::InProgress),
        (S::Received | S::InProgress, A::Close(_)) => Some(S::Closed),
        _ => None,
    }
}

#[test]
fn the_full_table_of_transitions() {
    let mut allowed_cells = 0;
    for status in ReferralStatus::ALL {
        for action in actions() {
            for role in Role::ALL {
                let r = at(status);
                let got = apply(&r, role, action);
                match (role, allowed(status, action)) {
                    (Role::Nurse, Some(to)) => {
                        allowed_cells += 1;
                        let next = got.unwrap_or_else(|e| panic!("{status:?} {action:?}: {e}"));
                        assert_eq!(next.status, to, "{status:?} {action:?}");
                    }
                    (Role::Nurse, None) => {
                        let e = got.unwrap_err();
                        // Clear on an unmarked referral that is open says so; everything else is the wrong status.
                        if status.is_open_to_work() && action == A::ClearSpecifiedExpectantMother {
                            assert_eq!(e, ReferralError::NotMarked);
                        } else {
                            assert_eq!(e, ReferralError::WrongStatus { from: status, action }, "{status:?} {action:?}");
                        }
                    }
                    (other, _) => {
                        assert_eq!(got, Err(ReferralError::NotOwner(other)), "{other:?} {status:?} {action:?}")
                    }
                }
            }
        }
    }
    // Receive 1, start 1, escalate 2, mark 2, close 4 × 2.
    assert_eq!(allowed_cells, 14);
}

#[test]
fn each_step_changes_only_what_it_says() {
    let r = at(S::Raised);
    let received = apply(&r, Role::Nurse, A::Receive).unwrap();
    assert_eq!(received, Referral { status: S::Received, ..r.clone() });
    let escalated = apply(&received, Role::Nurse, A::Escalate).unwrap();
    assert_eq!(escalated, Referral { status: S::InProgress, escalated: true, ..r.clone() });
    let marked = apply(&escalated, Role::Nurse, A::MarkSpecifiedExpectantMother).unwrap();
    assert!(marked.specified_expectant_mother && marked.escalated);
    let cleared = apply(&marked, Role::Nurse, A::ClearSpecifiedExpectantMother).unwrap();
    assert!(!cleared.specified_expectant_mother);
    let closed = apply(&marked, Role::Nurse, A::Close(CloseReason::Resolved)).unwrap();
    assert_eq!(closed.status, S::Closed);
    assert_eq!(closed.close_reason, Some(CloseReason::Resolved));
    // The history stays: closing does not clear the flags.
    assert!(closed.escalated && closed.specified_expectant_mother);
}

#[test]
fn flags_are_set_once_and_only_where_they_make_sense() {
    let r = apply(&at(S::Received), Role::Nurse, A::Escalate).unwrap();
    assert_eq!(apply(&r, Role::Nurse, A::Escalate), Err(ReferralError::AlreadyEscalated));
    let r = apply(&at(S::InProgress), Role::Nurse, A::MarkSpecifiedExpectantMother).unwrap();
    assert_eq!(apply(&r, Role::Nurse, A::MarkSpecifiedExpectantMother), Err(ReferralError::AlreadyMarked));
    let mut no_pregnancy = at(S::InProgress);
    no_pregnancy.pregnancy = None;
    assert_eq!(apply(&no_pregnancy, Role::Nurse, A::MarkSpecifiedExpectantMother), Err(ReferralError::NoPregnancy));
    // A closed referral takes nothing, flags or not.
    let mut closed = at(S::Closed);
    closed.specified_expectant_mother = true;
    for action in actions() {
        assert_eq!(apply(&closed, Role::Nurse, action), Err(ReferralError::WrongStatus { from: S::Closed, action }));
    }
}

#[test]
fn who_may_raise_a_concern() {
    for role in Role::ALL {
        let expected = !matches!(role, Role::FamilyMember | Role::Admin | Role::Analyst | Role::ChatParent);
        assert_eq!(may_raise(role), expected, "{role:?}");
        let got = raise(role, FAMILY, None, ConcernSource::Observation, false);
        assert_eq!(got.is_ok(), expected);
        if !expected {
            assert_eq!(got, Err(ReferralError::MayNotRaise(role)));
        }
    }
    let r = raise(Role::PeerSupporter, FAMILY, None, ConcernSource::ChatEscalation, true).unwrap();
    assert_eq!((r.status, r.urgent, r.escalated, r.specified_expectant_mother), (S::Raised, true, false, false));
}

#[test]
fn the_raiser_sees_the_status_and_nothing_else() {
    let mut r = at(S::InProgress);
    r.escalated = true;
    r.specified_expectant_mother = true;
    let view = raiser_view(&r);
    assert_eq!(view, RaiserView { status: S::InProgress });
    assert_eq!(serde_json::to_value(view).unwrap(), serde_json::json!({"status": "in_progress"}));
}

#[test]
fn string_forms() {
    for s in ReferralStatus::ALL {
        assert_eq!(ReferralStatus::parse(s.as_str()), Some(s));
        assert_eq!(serde_json::to_value(s).unwrap(), serde_json::json!(s.as_str()));
    }
    assert_eq!(
        serde_json::to_value(A::Close(CloseReason::NoConcern)).unwrap(),
        serde_json::json!({"action": "close", "reason": "no_concern"})
    );
    assert_eq!(A::MarkSpecifiedExpectantMother.as_str(), "mark_specified_expectant_mother");
    assert_eq!(
        ReferralError::WrongStatus { from: S::Closed, action: A::Receive }.to_string(),
        "a closed referral cannot receive"
    );
}

fn rank(s: ReferralStatus) -> u8 {
    match s {
        S::Raised => 0,
        S::Received => 1,
        S::InProgress => 2,
        S::Closed => 3,
    }
}

proptest! {
    #[test]
    fn any_sequence_only_moves_forward(
        steps in proptest::collection::vec(
            (proptest::sample::select(Role::ALL.to_vec()), proptest::sample::select(actions())),
            0..20,
        ),
    ) {
        let mut r = at(S::Raised);
        for (role, action) in steps {
            if let Ok(next) = apply(&r, role, action) {
                prop_assert_eq!(role, Role::Nurse);
                prop_assert!(rank(next.status) >= rank(r.status));
                prop_assert!(next.escalated || !r.escalated);
                prop_assert_eq!((next.family, next.pregnancy, next.raised_by), (r.family, r.pregnancy, r.raised_by));
                r = next;
            }
        }
    }
}
