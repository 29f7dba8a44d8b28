use super::*;
use ContactKind as K;

fn by_kind(stored: &[StoredContact], kind: K) -> &StoredContact {
    stored.iter().find(|c| c.kind == kind).unwrap()
}

#[test]
fn a_new_record_creates_every_owed_contact() {
    let f = pregnant();
    let changes = reconcile(&[], &f);
    assert_eq!(changes.len(), 5);
    assert!(changes.iter().all(|c| matches!(c, ContactChange::Create(_)) && c.contact_id().is_none()));
}

#[test]
fn reconciling_twice_changes_nothing() {
    let mut next = 0;
    let stored = store(&pregnant(), &mut next);
    assert_eq!(reconcile(&stored, &pregnant()), vec![]);
}

#[test]
fn a_new_edd_moves_the_pregnancy_windows() {
    let mut next = 0;
    let stored = store(&pregnant(), &mut next);
    let mut f = pregnant();
    f.pregnancy.edd = date(2027, 5, 27);
    let changes = reconcile(&stored, &f);
    let eighth = by_kind(&stored, K::EighthMonthInterview);
    assert!(changes.contains(&ContactChange::MoveWindow {
        id: eighth.id,
        from: eighth.window,
        to: window(date(2027, 3, 4), date(2027, 3, 31), date(2027, 5, 5)),
    }));
    // The notification interview and the handbook listing do not follow the EDD.
    let unmoved = [by_kind(&stored, K::NotificationInterview).id, by_kind(&stored, K::HandbookMeeting).id];
    assert!(changes.iter().all(|c| !unmoved.contains(&c.contact_id().unwrap())));
    assert_eq!(changes.len(), 3);
}

#[test]
fn a_contact_with_an_outcome_is_never_changed() {
    let mut next = 0;
    let mut stored = store(&pregnant(), &mut next);
    for c in &mut stored {
        if c.kind == K::EighthMonthInterview {
            c.outcome = Some(Outcome::Done { form: ContactForm::Group });
        }
    }
    let done = by_kind(&stored, K::EighthMonthInterview).id;
    let mut f = pregnant();
    f.pregnancy.edd = date(2027, 6, 10);
    f.pregnancy.state = PregnancyState::Lost(date(2027, 4, 1));
    let changes = reconcile(&stored, &f);
    // The other four are closed (two of them also moved with the new EDD).
    let closed =
        changes.iter().filter(|c| matches!(c, ContactChange::Close { reason: CloseReason::PregnancyLost, .. }));
    assert_eq!(closed.count(), 4);
    assert!(changes.iter().all(|c| c.contact_id() != Some(done)));
}

#[test]
fn a_birth_creates_the_infant_contacts_and_ends_what_it_overtook() {
    let mut next = 0;
    let stored = store(&pregnant(), &mut next);
    // Born at 30w0d.
    let f = delivered(pregnant(), vec![baby(1, date(2027, 3, 11)), baby(2, date(2027, 3, 11))]);
    let changes = reconcile(&stored, &f);
    let created = changes.iter().filter(|c| matches!(c, ContactChange::Create(_))).count();
    assert_eq!(created, 4 + 2 * 2);
    for k in [K::EighthMonthInterview, K::MaternityClass, K::PrenatalSelfCareClass] {
        let id = by_kind(&stored, k).id;
        assert!(changes.contains(&ContactChange::Close { id, reason: CloseReason::NotApplicable }), "{k}");
    }
}

#[test]
fn a_loss_closes_the_pregnancy_contacts_and_hides_the_infant_ones() {
    let mut next = 0;
    // A birth was entered, then corrected to a stillbirth.
    let born = delivered(pregnant(), vec![baby(1, date(2027, 5, 18))]);
    let stored = store(&born, &mut next);
    let mut lost = born.clone();
    lost.pregnancy.state = PregnancyState::Lost(date(2027, 5, 18));
    let changes = reconcile(&stored, &lost);
    for c in &stored {
        let expected = if c.subject == Subject::Pregnancy(P) {
            ContactChange::Close { id: c.id, reason: CloseReason::PregnancyLost }
        } else {
            ContactChange::Hide { id: c.id, reason: CloseReason::PregnancyLost }
        };
        assert!(changes.contains(&expected), "{:?}", c.kind);
    }
    assert_eq!(changes.len(), stored.len());
    // Nothing was deleted, and nothing is left on a list.
    let after = apply_changes(&stored, &changes, || unreachable!());
    assert_eq!(after.len(), stored.len());
    let today = date(2027, 9, 1);
    assert_eq!(counts(&after, today), WorkCounts::default());
    // A loss entered in error is corrected: everything comes back.
    let back = advance(&after, &born, &mut next);
    assert_eq!(observable(&back), observable(&stored));
}

#[test]
fn a_move_closes_what_is_open_and_a_correction_reopens_it() {
    let mut next = 0;
    let stored = store(&pregnant(), &mut next);
    let mut moved = pregnant();
    moved.pregnancy.state = PregnancyState::MovedOut(date(2027, 1, 10));
    let changes = reconcile(&stored, &moved);
    assert_eq!(changes.len(), 3);
    assert!(changes.iter().all(|c| matches!(c, ContactChange::Close { reason: CloseReason::MovedOut, .. })));
    let after = apply_changes(&stored, &changes, || unreachable!());
    // The notification interview, missed before the move, is still missed.
    let interview = by_kind(&after, K::NotificationInterview);
    assert_eq!(interview.status(date(2027, 1, 20)), ContactStatus::Missed);
    let changes = reconcile(&after, &pregnant());
    assert_eq!(changes.iter().filter(|c| matches!(c, ContactChange::Reopen { .. })).count(), 3);
}

#[test]
fn a_baby_removed_from_the_record_closes_its_contacts() {
    let mut next = 0;
    let twins = delivered(pregnant(), vec![baby(1, date(2027, 5, 18)), baby(2, date(2027, 5, 18))]);
    let stored = store(&twins, &mut next);
    let single = delivered(pregnant(), vec![baby(1, date(2027, 5, 18))]);
    let changes = reconcile(&stored, &single);
    let of_baby_2: Vec<_> = stored.iter().filter(|c| c.subject == Subject::Baby(BabyId(2))).map(|c| c.id).collect();
    assert_eq!(of_baby_2.len(), 2);
    for id in of_baby_2 {
        assert!(changes.contains(&ContactChange::Close { id, reason: CloseReason::NotApplicable }));
    }
    assert_eq!(changes.len(), 2);
}

#[test]
fn duplicates_are_healed_keeping_the_one_with_an_outcome() {
    let f = pregnant();
    let w = find(&owed_contacts(&f), K::EighthMonthInterview, Subject::Pregnancy(P)).window;
    let mut next = 100;
    let mut stored = store(&f, &mut next);
    let mut dup = stored_contact(1, K::EighthMonthInterview, w);
    dup.outcome = Some(Outcome::Declined);
    stored.push(dup);
    let kept_open = by_kind(&stored, K::EighthMonthInterview).id;
    let changes = reconcile(&stored, &f);
    assert_eq!(changes, vec![ContactChange::Close { id: kept_open, reason: CloseReason::NotApplicable }]);
    // Healed: nothing more to do.
    let after = apply_changes(&stored, &changes, || unreachable!());
    assert_eq!(reconcile(&after, &f), vec![]);
}

#[test]
fn another_pregnancy_is_left_alone() {
    let mut next = 0;
    let stored = store(&pregnant(), &mut next);
    let mut other = pregnant();
    other.pregnancy.id = PregnancyId(8);
    // The other pregnancy's reconcile sees this one's contacts and creates its own.
    let changes = reconcile(&stored, &other);
    assert_eq!(changes.len(), 5);
    assert!(changes.iter().all(|c| matches!(c, ContactChange::Create(o) if o.pregnancy == PregnancyId(8))));
}

#[test]
fn a_kind_the_municipality_stops_running_is_closed_not_deleted() {
    let mut next = 0;
    let stored = store(&pregnant(), &mut next);
    let mut f = pregnant();
    f.programmes = KindSet::ALL.without(K::MaternityClass);
    let id = by_kind(&stored, K::MaternityClass).id;
    assert_eq!(reconcile(&stored, &f), vec![ContactChange::Close { id, reason: CloseReason::NotApplicable }]);
}

#[test]
fn changes_serialise_for_the_audit_line() {
    let change = ContactChange::Close { id: ContactId(5), reason: CloseReason::MovedOut };
    assert_eq!(
        serde_json::to_value(&change).unwrap(),
        serde_json::json!({"change": "close", "id": 5, "reason": "moved_out"})
    );
}
