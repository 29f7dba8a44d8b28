//! The properties issue 3 asks for, over any EDD, birth dates and states.
use super::*;
use std::collections::BTreeSet;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn windows_are_ordered(f in any_facts()) {
        for c in owed_contacts(&f) {
            prop_assert!(c.window.opens() <= c.window.due(), "{:?}", c);
            prop_assert!(c.window.due() <= c.window.closes(), "{:?}", c);
        }
    }

    /// The stores bound the overdue range by this (so it never walks the
    /// whole past): it must hold for every window the rules can give.
    #[test]
    fn no_window_stays_open_long_after_it_is_due(f in any_facts()) {
        // The record allows the babies of one birth at most two days apart
        // (records.rs, births_too_far_apart); the strategy is wider.
        let births: Vec<_> = f.babies.iter().map(|b| b.birth_date).collect();
        if let (Some(first), Some(last)) = (births.iter().min(), births.iter().max()) {
            prop_assume!((*last - *first).get_days() <= 2);
        }
        for c in owed_contacts(&f) {
            let span = (c.window.closes() - c.window.due()).get_days();
            prop_assert!(span <= MAX_DUE_TO_CLOSE_DAYS, "{} days: {:?}", span, c);
        }
    }

    #[test]
    fn every_owed_contact_exists_exactly_once_per_subject(f in any_facts()) {
        let owed = owed_contacts(&f);
        let keys: BTreeSet<_> = owed.iter().map(|c| (c.kind, c.subject)).collect();
        prop_assert_eq!(keys.len(), owed.len());
        let babies: BTreeSet<_> = f.babies.iter().map(|b| b.id).collect();
        let lost = matches!(f.pregnancy.state, PregnancyState::Lost(_));
        for kind in ContactKind::ALL {
            let n = owed.iter().filter(|c| c.kind == kind).count();
            let expected = if !f.programmes.contains(kind) {
                0
            } else {
                match kind.scope() {
                    SubjectScope::Pregnancy => 1,
                    SubjectScope::Delivery => usize::from(!lost && !babies.is_empty()),
                    SubjectScope::Baby => if lost { 0 } else { babies.len() },
                }
            };
            prop_assert_eq!(n, expected, "{}", kind);
        }
        for c in &owed {
            // The subject matches the kind's scope.
            let ok = match (c.kind.scope(), c.subject) {
                (SubjectScope::Pregnancy, Subject::Pregnancy(p)) | (SubjectScope::Delivery, Subject::Delivery(p)) => p == f.pregnancy.id,
                (SubjectScope::Baby, Subject::Baby(b)) => babies.contains(&b),
                _ => false,
            };
            prop_assert!(ok, "{:?}", c);
        }
    }

    #[test]
    fn a_loss_leaves_nothing_owed(f in any_facts(), on in any_date()) {
        let mut f = f;
        f.pregnancy.state = PregnancyState::Lost(on);
        prop_assert!(owed_contacts(&f).iter().all(|c| c.ending == Some(Ending::closed(CloseReason::PregnancyLost))));
    }

    #[test]
    fn changing_the_edd_twice_is_changing_it_once(
        f in any_facts(),
        first in -60i32..60,
        second in -60i32..60,
        outcomes in proptest::collection::vec(proptest::option::of(any_outcome()), 12),
    ) {
        let mut next = 0;
        let mut start = store(&f, &mut next);
        // Some contacts already have outcomes recorded.
        for (c, o) in start.iter_mut().zip(&outcomes) {
            c.outcome = *o;
        }
        let with_edd = |days: i32| {
            let mut g = f.clone();
            g.pregnancy.edd = f.pregnancy.edd.saturating_add(days.days());
            g
        };
        let twice = advance(&advance(&start, &with_edd(first), &mut next), &with_edd(second), &mut next);
        let once = advance(&start, &with_edd(second), &mut next);
        prop_assert_eq!(observable(&twice), observable(&once));
        // And both equal the timeline built from the final facts, outcomes aside.
        let fresh = store(&with_edd(second), &mut next);
        let unsettled = |s: &[StoredContact]| observable(&s.iter().filter(|c| c.outcome.is_none()).cloned().collect::<Vec<_>>());
        let fresh_unsettled: Vec<_> = observable(&fresh).into_iter().filter(|x| {
            !start.iter().any(|c| c.outcome.is_some() && c.kind == x.0 && c.subject == x.1)
        }).collect();
        prop_assert_eq!(unsettled(&twice), fresh_unsettled);
    }

    #[test]
    fn any_history_converges_on_the_final_facts(
        steps in proptest::collection::vec(any_facts(), 1..5),
        last in any_facts(),
    ) {
        // Same pregnancy and babies throughout (only dates and states change),
        // never lost: then the stored timeline is the one built from the last facts.
        let babies: Vec<BabyFacts> = last.babies.clone();
        let align = |mut g: TimelineFacts| {
            g.babies = babies
                .iter()
                .enumerate()
                .map(|(i, b)| BabyFacts { id: b.id, ..g.babies.get(i).unwrap_or(b).clone() })
                .collect();
            if matches!(g.pregnancy.state, PregnancyState::Lost(_)) {
                g.pregnancy.state = PregnancyState::Ongoing;
            }
            g.programmes = last.programmes;
            g
        };
        let last = align(last.clone());
        let mut next = 0;
        let mut stored = Vec::new();
        for s in steps {
            stored = advance(&stored, &align(s), &mut next);
        }
        stored = advance(&stored, &last, &mut next);
        prop_assert_eq!(observable(&stored), observable(&store(&last, &mut next)));
    }

    #[test]
    fn reconciling_applied_changes_again_gives_nothing(before in any_facts(), after in any_facts()) {
        let mut next = 0;
        let stored = advance(&store(&before, &mut next), &after, &mut next);
        prop_assert_eq!(reconcile(&stored, &after), vec![]);
    }

    #[test]
    fn recorded_outcomes_are_never_touched(
        before in any_facts(),
        after in any_facts(),
        outcomes in proptest::collection::vec(proptest::option::of(any_outcome()), 12),
    ) {
        let mut next = 0;
        let mut stored = store(&before, &mut next);
        for (c, o) in stored.iter_mut().zip(&outcomes) {
            c.outcome = *o;
        }
        let settled: BTreeSet<_> = stored.iter().filter(|c| c.outcome.is_some()).map(|c| c.id).collect();
        for change in reconcile(&stored, &after) {
            if let Some(id) = change.contact_id() {
                prop_assert!(!settled.contains(&id));
            }
        }
        let applied = advance(&stored, &after, &mut next);
        for c in stored.iter().filter(|c| c.outcome.is_some()) {
            prop_assert_eq!(applied.iter().find(|a| a.id == c.id), Some(c));
        }
    }

    #[test]
    fn nothing_of_one_family_leaks_into_another(a in any_facts_for(1), b in any_facts_for(2), b_next in any_facts_for(2)) {
        // Both families' contacts in one pile, as a careless query might give them.
        let mut next = 0;
        let a_stored = store(&a, &mut next);
        let b_stored = store(&b, &mut next);
        let pile: Vec<_> = a_stored.iter().chain(&b_stored).cloned().collect();
        let changes = reconcile(&pile, &b_next);
        prop_assert_eq!(&changes, &reconcile(&b_stored, &b_next));
        let a_ids: BTreeSet<_> = a_stored.iter().map(|c| c.id).collect();
        for c in &changes {
            if let Some(id) = c.contact_id() {
                prop_assert!(!a_ids.contains(&id));
            }
            if let ContactChange::Create(o) = c {
                prop_assert_eq!(o.pregnancy, PregnancyId(2));
            }
        }
        // The schedule of one family names only its own pregnancy and babies.
        for c in owed_contacts(&a) {
            prop_assert_eq!(c.pregnancy, PregnancyId(1));
            if let Subject::Baby(id) = c.subject {
                prop_assert!(a.babies.iter().any(|x| x.id == id));
            }
        }
        // Applying b's changes leaves a's contacts exactly as they were.
        let applied = apply_changes(&pile, &changes, || { next += 1; ContactId(next) });
        for c in &a_stored {
            prop_assert_eq!(applied.iter().find(|x| x.id == c.id), Some(c));
        }
    }
}
