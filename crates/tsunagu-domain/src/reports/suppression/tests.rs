use super::*;
use crate::reports::build::grid;
use crate::reports::table::{RowLabel, TableKind};
use proptest::prelude::*;

fn table(values: &[Vec<u64>]) -> Table {
    let rows = (0..values.len()).map(|i| RowLabel::key(&format!("r{i}"))).collect();
    let cols: Vec<String> = (0..values.first().map_or(0, Vec::len)).map(|i| format!("c{i}")).collect();
    let cols: Vec<&str> = cols.iter().map(String::as_str).collect();
    grid(TableKind::UsersByArea, rows, &cols, values).unwrap()
}

fn shown(t: &Table) -> Published {
    suppress(t, &SuppressionSettings::default())
}

/// An attacker of our own, independent of [`determined`]: floating-point
/// Gauss–Jordan on the published equations (every sum with the shown
/// values moved to the right), then any row left with one unknown gives
/// it away — with its value. Also the least-values attack: a shown total
/// whose hidden parts add up to their number (each at least 1).
fn recover(t: &Table, p: &Published) -> Vec<(Pos, f64)> {
    let hidden: Vec<Pos> = (0..t.values.len())
        .flat_map(|r| (0..t.columns.len()).map(move |c| (r, c)))
        .filter(|&q| p.cell(q) == Some(Shown::Suppressed) && t.count(q).is_some())
        .collect();
    let n = hidden.len();
    let mut rows: Vec<Vec<f64>> = Vec::new();
    for s in &t.sums {
        let mut row = vec![0.0; n + 1];
        let mut add = |q: Pos, sign: f64| match hidden.iter().position(|&h| h == q) {
            Some(i) => row[i] += sign,
            None => row[n] -= sign * p.cell(q).and_then(|c| c.number()).unwrap() as f64,
        };
        for &q in &s.parts {
            add(q, 1.0);
        }
        add(s.total, -1.0);
        rows.push(row);
    }
    let mut found = Vec::new();
    // Least values: a shown total, its hidden parts summing to their count.
    for (s, row) in t.sums.iter().zip(&rows) {
        let k = row[..n].iter().filter(|x| **x != 0.0).count();
        if k > 1 && !hidden.contains(&s.total) && (row[n] - k as f64).abs() < 1e-9 {
            for (i, x) in row[..n].iter().enumerate() {
                if *x != 0.0 {
                    found.push((hidden[i], 1.0));
                }
            }
        }
    }
    let mut pr = 0;
    for col in 0..n {
        let Some(f) = (pr..rows.len()).find(|&r| rows[r][col].abs() > 1e-9) else { continue };
        rows.swap(pr, f);
        let piv = rows[pr][col];
        rows[pr].iter_mut().for_each(|x| *x /= piv);
        for r in 0..rows.len() {
            if r != pr && rows[r][col].abs() > 1e-9 {
                let k = rows[r][col];
                let pivot_row = rows[pr].clone();
                rows[r].iter_mut().zip(&pivot_row).for_each(|(x, y)| *x -= k * y);
            }
        }
        pr += 1;
    }
    for row in &rows {
        let nz: Vec<usize> = (0..n).filter(|&i| row[i].abs() > 1e-9).collect();
        if nz.len() == 1 {
            found.push((hidden[nz[0]], row[n] / row[nz[0]]));
        }
    }
    found
}

#[test]
fn one_small_cell_in_a_row_takes_the_total_with_it() {
    // 世田谷 353, 北沢 140, 玉川 256, 砧 145, 烏山 5 (the seed's 95, made small).
    let t = table(&[vec![353, 140, 256, 145, 5]]);
    let p = shown(&t);
    // One row and its total: the small cell, and the total with it (the
    // areas are what a reader came for).
    assert_eq!(p.cell((0, 4)), Some(Shown::Suppressed));
    assert_eq!(p.cell((0, 5)), Some(Shown::Suppressed));
    let hidden = p.cells.iter().flatten().filter(|c| c.is_suppressed()).count();
    assert_eq!(hidden, 2, "{p:?}");
    assert_eq!(p.cell((0, 1)), Some(Shown::Count(140)));
    assert!(recover(&t, &p).is_empty(), "{p:?}");
}

#[test]
fn the_published_district_table_shows_everything() {
    // [001] 地域別利用者数 令和４年度: no cell under 10.
    let t = table(&[vec![353, 140, 256, 145, 95]]);
    let p = shown(&t);
    assert!(!p.any_suppressed());
    assert_eq!(p.cell((0, 5)), Some(Shown::Count(989)));
}

#[test]
fn zero_is_shown_and_small_is_never_zero() {
    let t = table(&[vec![0, 20, 30], vec![3, 40, 50]]);
    let p = shown(&t);
    assert_eq!(p.cell((0, 0)), Some(Shown::Count(0)));
    assert_eq!(p.cell((1, 0)), Some(Shown::Suppressed));
    for (r, row) in p.cells.iter().enumerate() {
        for (c, shown) in row.iter().enumerate() {
            if shown.text() == "0" {
                assert_eq!(t.count((r, c)), Some(0), "only a true zero is written 0");
            }
        }
    }
}

#[test]
fn a_bridge_between_two_cycles_is_broken() {
    // Two rows, small cells in both: a pattern where each row and column
    // has two hidden cells but elimination still finds one.
    let t = table(&[vec![3, 40, 50, 60], vec![70, 80, 2, 90], vec![11, 12, 13, 14]]);
    let p = shown(&t);
    assert!(recover(&t, &p).is_empty(), "{p:?}");
}

#[test]
fn two_ones_under_a_shown_total_are_not_left_pinned() {
    let t = table(&[vec![1, 1, 50], vec![1, 1, 60]]);
    let p = shown(&t);
    assert!(recover(&t, &p).is_empty(), "{p:?}");
}

#[test]
fn rates_follow_their_numerator() {
    let cols = vec![crate::reports::table::Column::count("days"), crate::reports::table::Column::rate("rate", 0)];
    let t = Table::new(
        TableKind::PostpartumUse,
        cols,
        vec![RowLabel::name("a", "a"), RowLabel::name("b", "b")],
        vec![vec![Value::Count(4), Value::Rate(Some(12))], vec![Value::Count(400), Value::Rate(Some(800))]],
        vec![],
    )
    .unwrap();
    let p = shown(&t);
    assert_eq!(p.cell((0, 1)), Some(Shown::Suppressed));
    assert_eq!(p.cell((1, 1)), Some(Shown::Rate(Some(800))));
}

#[test]
fn the_same_figure_is_held_back_alike_everywhere() {
    let t = table(&[vec![3, 40, 50], vec![70, 8, 90]]);
    assert_eq!(shown(&t), shown(&t.clone()));
    // A range of years is built from published cells only.
    assert_eq!(derived_sum(&[Shown::Count(3), Shown::Count(4)]), Shown::Count(7));
    assert_eq!(derived_sum(&[Shown::Count(30), Shown::Suppressed]), Shown::Suppressed);
    assert_eq!(derived_sum(&[Shown::Rounded(30), Shown::Count(4)]), Shown::Rounded(34));
}

#[test]
fn settings_are_checked_and_rounding_rounds_half_up() {
    assert!(SuppressionSettings::new(1, None).is_err());
    assert!(SuppressionSettings::new(101, None).is_err());
    assert!(SuppressionSettings::new(10, Some(1)).is_err());
    let s = SuppressionSettings::new(10, Some(5)).unwrap();
    let t = table(&[vec![12, 13, 250]]);
    let p = suppress(&t, &s);
    assert_eq!(p.cell((0, 0)), Some(Shown::Rounded(10)));
    assert_eq!(p.cell((0, 1)), Some(Shown::Rounded(15)));
    assert_eq!(p.cell((0, 3)), Some(Shown::Rounded(275)));
    let s3 = SuppressionSettings::new(3, None).unwrap();
    assert!(!suppress(&table(&[vec![3, 4]]), &s3).any_suppressed());
}

#[test]
fn unsuppressed_is_the_truth() {
    let t = table(&[vec![3, 40]]);
    let p = t.unsuppressed();
    assert_eq!(p.cell((0, 0)), Some(Shown::Count(3)));
    assert_eq!(p.suppression, None);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// The attacker works out no held-back cell from the totals, and every
    /// small count is held back.
    #[test]
    fn no_suppressed_cell_can_be_recovered(
        values in (1usize..=4, 1usize..=5).prop_flat_map(|(r, c)| {
            prop::collection::vec(prop::collection::vec(prop_oneof![0u64..12, 0u64..200], c), r)
        })
    ) {
        let t = table(&values);
        let p = shown(&t);
        for (r, row) in t.values.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                if let Value::Count(n) = v {
                    if (1..10).contains(n) {
                        prop_assert_eq!(p.cell((r, c)), Some(Shown::Suppressed));
                    } else if p.cell((r, c)) != Some(Shown::Suppressed) {
                        prop_assert_eq!(p.cell((r, c)), Some(Shown::Count(*n)));
                    }
                }
            }
        }
        let found = recover(&t, &p);
        prop_assert!(found.is_empty(), "recovered {:?} from {:?}", found, p);
    }
}
