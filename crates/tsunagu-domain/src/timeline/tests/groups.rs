use super::*;
use crate::{AreaId, FamilyId};
use std::num::NonZeroUsize;

fn r(i: i64) -> PregnancyRef {
    PregnancyRef { family: FamilyId(i), pregnancy: PregnancyId(i) }
}

fn size(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).unwrap()
}

#[test]
fn grouped_by_due_month_and_area() {
    let a = AreaId(1);
    let b = AreaId(2);
    let input = vec![
        (r(1), a, date(2027, 5, 20)),
        (r(2), a, date(2027, 5, 3)),
        (r(3), b, date(2027, 5, 10)),
        (r(4), a, date(2027, 6, 1)),
        (r(5), a, date(2027, 5, 31)),
    ];
    let groups = propose_groups(&input, size(6));
    let shape: Vec<_> = groups.iter().map(|g| (g.due_month.to_string(), g.area, g.members.clone())).collect();
    assert_eq!(
        shape,
        vec![
            ("2027-05".to_owned(), a, vec![r(2), r(1), r(5)]),
            ("2027-05".to_owned(), b, vec![r(3)]),
            ("2027-06".to_owned(), a, vec![r(4)]),
        ]
    );
    assert_eq!(serde_json::to_value(&groups[0]).unwrap()["due_month"], "2027-05");
}

#[test]
fn a_large_bucket_splits_into_even_groups() {
    let input: Vec<_> = (1..=13).map(|i| (r(i), AreaId(1), date(2027, 5, i as i8))).collect();
    let sizes: Vec<_> = propose_groups(&input, size(6)).iter().map(|g| g.members.len()).collect();
    assert_eq!(sizes, vec![5, 4, 4]);
    let sizes: Vec<_> = propose_groups(&input, size(13)).iter().map(|g| g.members.len()).collect();
    assert_eq!(sizes, vec![13]);
    let sizes: Vec<_> = propose_groups(&input, size(1)).iter().map(|g| g.members.len()).collect();
    assert_eq!(sizes, vec![1; 13]);
    assert!(propose_groups(&[], size(6)).is_empty());
}

#[test]
fn a_pregnancy_given_twice_is_grouped_once() {
    let input = vec![(r(1), AreaId(1), date(2027, 5, 20)), (r(1), AreaId(1), date(2027, 5, 20))];
    assert_eq!(propose_groups(&input, size(6))[0].members, vec![r(1)]);
}

proptest! {
    #[test]
    fn everybody_is_in_exactly_one_fitting_group(
        input in proptest::collection::vec((0i64..60, 1i64..4, any_date()), 0..80),
        max in 1usize..10,
    ) {
        let input: Vec<_> = input.into_iter().map(|(i, a, d)| (r(i), AreaId(a), d)).collect();
        let groups = propose_groups(&input, size(max));
        let mut seen = std::collections::BTreeSet::new();
        for g in &groups {
            prop_assert!(!g.members.is_empty() && g.members.len() <= max);
            for m in &g.members {
                prop_assert!(seen.insert(*m), "{:?} twice", m);
                // The member's first listing decides its area and month.
                let (_, area, edd) = input.iter().find(|(x, _, _)| x == m).unwrap();
                prop_assert_eq!(*area, g.area);
                prop_assert_eq!(DueMonth::of(*edd), g.due_month);
            }
        }
        let distinct: std::collections::BTreeSet<_> = input.iter().map(|(x, _, _)| *x).collect();
        prop_assert_eq!(seen, distinct);
        // Groups of one bucket differ in size by at most one.
        for w in groups.windows(2) {
            if (w[0].area, w[0].due_month) == (w[1].area, w[1].due_month) {
                prop_assert!(w[0].members.len().abs_diff(w[1].members.len()) <= 1);
            }
        }
    }
}
