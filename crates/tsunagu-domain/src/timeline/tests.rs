//! Tests of the timeline: dates, the schedule, statuses, reconciliation,
//! work lists and groups. Expected dates were worked out by hand (and with an
//! independent date library), never with the code under test.

use super::*;
use crate::{BabyId, ContactId, PregnancyId};
use jiff::civil::{date, Date};
use jiff::ToSpan;
use proptest::prelude::*;

mod dates;
mod groups;
mod meetings;
mod props;
mod reconciling;
mod rules;
mod statuses;
mod worklists;

pub(super) const P: PregnancyId = PregnancyId(7);

pub(super) fn facts(notified_on: Date, edd: Date) -> TimelineFacts {
    TimelineFacts {
        pregnancy: PregnancyFacts { id: P, notified_on, edd, state: PregnancyState::Ongoing },
        babies: vec![],
        programmes: KindSet::ALL,
    }
}

pub(super) fn baby(id: i64, birth_date: Date) -> BabyFacts {
    BabyFacts {
        id: BabyId(id),
        birth_date,
        gestational_weeks: 39,
        gestational_days: 2,
        long_hospitalisation: false,
        died_on: None,
    }
}

/// The usual family: notified at 7w0d, EDD 2027-05-20.
pub(super) fn pregnant() -> TimelineFacts {
    facts(date(2026, 10, 1), date(2027, 5, 20))
}

pub(super) fn delivered(mut f: TimelineFacts, babies: Vec<BabyFacts>) -> TimelineFacts {
    let first = babies.iter().map(|b| b.birth_date).min().unwrap();
    f.pregnancy.state = PregnancyState::Delivered(first);
    f.babies = babies;
    f
}

pub(super) fn find(owed: &[OwedContact], kind: ContactKind, subject: Subject) -> &OwedContact {
    owed.iter().find(|c| c.kind == kind && c.subject == subject).unwrap_or_else(|| panic!("no {kind} for {subject:?}"))
}

pub(super) fn window(opens: Date, due: Date, closes: Date) -> Window {
    Window::new(opens, due, closes).unwrap()
}

/// Stores what reconcile says, from nothing, with ids from `next`.
pub(super) fn store(f: &TimelineFacts, next: &mut i64) -> Vec<StoredContact> {
    advance(&[], f, next)
}

pub(super) fn advance(stored: &[StoredContact], f: &TimelineFacts, next: &mut i64) -> Vec<StoredContact> {
    let changes = reconcile(stored, f);
    apply_changes(stored, &changes, || {
        *next += 1;
        ContactId(*next)
    })
}

/// One stored contact without its id.
pub(super) type Seen = (ContactKind, Subject, Window, Option<Outcome>, Option<Ending>);

/// What a stored timeline says, without ids (which depend on history).
pub(super) fn observable(stored: &[StoredContact]) -> Vec<Seen> {
    let mut v: Vec<_> = stored.iter().map(|c| (c.kind, c.subject, c.window, c.outcome, c.ending)).collect();
    v.sort_by_key(|x| (x.0, x.1));
    v
}

pub(super) fn stored_contact(id: i64, kind: ContactKind, w: Window) -> StoredContact {
    StoredContact {
        id: ContactId(id),
        pregnancy: P,
        kind,
        subject: Subject::Pregnancy(P),
        window: w,
        outcome: None,
        ending: None,
    }
}

// ---------------------------------------------------------------------------
// Strategies

pub(super) fn any_date() -> impl Strategy<Value = Date> {
    (0i32..7300).prop_map(|d| date(2020, 1, 1).saturating_add(d.days()))
}

fn any_baby(id: i64, edd: Date) -> impl Strategy<Value = BabyFacts> {
    (-126i32..=28, 0i32..=1, 22u8..=44, 0u8..=6, any::<bool>(), proptest::option::weighted(0.15, 0i32..400)).prop_map(
        move |(offset, jitter, gestational_weeks, gestational_days, long_hospitalisation, died)| {
            let birth_date = edd.saturating_add((offset + jitter).days());
            BabyFacts {
                id: BabyId(id),
                birth_date,
                gestational_weeks,
                gestational_days,
                long_hospitalisation,
                died_on: died.map(|d| birth_date.saturating_add(d.days())),
            }
        },
    )
}

pub(super) fn any_programmes() -> impl Strategy<Value = KindSet> {
    prop_oneof![
        3 => Just(KindSet::ALL),
        1 => proptest::collection::vec(proptest::sample::select(ContactKind::ALL.to_vec()), 0..11).prop_map(|k| KindSet::of(&k)),
    ]
}

/// Any plausible facts for pregnancy `id` (babies numbered from `id * 10`).
pub(super) fn any_facts_for(id: i64) -> impl Strategy<Value = TimelineFacts> {
    (any_date(), -100i32..300, 0usize..=3, 0u8..4, 0i32..400, any_programmes())
        .prop_flat_map(move |(notified_on, edd_after, n_babies, state, end_after, programmes)| {
            let edd = notified_on.saturating_add(edd_after.days());
            let babies: Vec<_> = (0..n_babies).map(|i| any_baby(id * 10 + i as i64, edd)).collect();
            (Just((notified_on, edd, state, end_after, programmes)), babies)
        })
        .prop_map(move |((notified_on, edd, state, end_after, programmes), babies)| {
            let first = babies.iter().map(|b| b.birth_date).min();
            let ended = notified_on.saturating_add(end_after.days());
            let state = match state {
                0 => PregnancyState::Ongoing,
                1 => PregnancyState::Delivered(first.unwrap_or(edd)),
                2 => PregnancyState::Lost(ended),
                _ => PregnancyState::MovedOut(ended),
            };
            TimelineFacts {
                pregnancy: PregnancyFacts { id: PregnancyId(id), notified_on, edd, state },
                babies,
                programmes,
            }
        })
}

pub(super) fn any_facts() -> impl Strategy<Value = TimelineFacts> {
    any_facts_for(P.0)
}

pub(super) fn any_outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        proptest::sample::select(ContactForm::ALL.to_vec()).prop_map(|form| Outcome::Done { form }),
        (1u16..5).prop_map(|attempts| Outcome::NotReached { attempts }),
        Just(Outcome::Declined),
        Just(Outcome::NotApplicable),
    ]
}
