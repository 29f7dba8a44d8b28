use super::*;
use crate::reports::indicators::tests_support::empty;
use crate::reports::table::Shown;
use crate::timeline::ContactForm;
use proptest::prelude::*;

fn muni(name: &str, eighth: [u64; 3], non_attendees: u64, resolved: u64) -> MunicipalityYear {
    let mut a = empty(2025);
    a.eighth_month = vec![
        (ContactForm::Group, eighth[0]),
        (ContactForm::Individual, eighth[1]),
        (ContactForm::HomeVisit, eighth[2]),
    ];
    a.check_non_attendees = non_attendees;
    a.check_resolved = resolved;
    MunicipalityYear {
        name_ja: name.into(),
        name_en: name.into(),
        settings: SuppressionSettings::default(),
        aggregates: a,
    }
}

fn fy() -> FiscalYear {
    FiscalYear::new(2025).unwrap()
}

fn table(n: &NationYear, kind: TableKind) -> &Published {
    n.tables.iter().find(|t| t.kind == kind).unwrap()
}

#[test]
fn a_municipality_row_is_its_own_reports_row() {
    let years = vec![muni("A", [40, 3, 25], 12, 4), muni("B", [0, 50, 60], 30, 30)];
    let n = nation_year(fy(), &years).unwrap();
    for (i, y) in years.iter().enumerate() {
        for own in year_tables(&y.aggregates).unwrap() {
            if !NATION_KINDS.contains(&own.kind) {
                continue;
            }
            let published = suppress(&own, &y.settings);
            let Some(r) = aggregate_row(&own) else { continue };
            assert_eq!(table(&n, own.kind).cells[i], published.cells[r], "{:?} of {}", own.kind, y.name_en);
        }
    }
    // Rows: the municipalities, then the nation.
    let t = table(&n, TableKind::CheckNonAttendees);
    assert_eq!(t.rows.len(), 3);
    assert_eq!(t.rows[2], RowLabel::Total);
}

#[test]
fn a_total_over_one_held_back_part_is_held_back() {
    // A's 3 individual interviews are held back in its table (with its total);
    // B's are shown: the nation's total would give A's away.
    let years = vec![muni("A", [40, 3, 25], 40, 40), muni("B", [20, 50, 60], 30, 30)];
    let n = nation_year(fy(), &years).unwrap();
    let t = table(&n, TableKind::EighthMonthInterviews);
    assert_eq!(t.cells[0], vec![Shown::Suppressed]);
    assert_eq!(t.cells[1], vec![Shown::Count(130)]);
    assert_eq!(t.cells[2], vec![Shown::Suppressed]);
    // Every part shown: the total is shown, even when small.
    let years = vec![muni("A", [0, 0, 0], 0, 0), muni("B", [0, 0, 0], 0, 0)];
    let n = nation_year(fy(), &years).unwrap();
    assert_eq!(table(&n, TableKind::CheckNonAttendees).cells[2], vec![Shown::Count(0); 3]);
}

#[test]
fn two_witnesses_let_the_total_show() {
    // Single-row, single-column tables (follow-ups): a held-back count is a
    // witness by itself; two of them (5 + 7 hidden) and a large total.
    let mut years = vec![muni("A", [0; 3], 0, 0), muni("B", [0; 3], 0, 0), muni("C", [0; 3], 0, 0)];
    years[0].aggregates.follow_ups = 5;
    years[1].aggregates.follow_ups = 7;
    years[2].aggregates.follow_ups = 400;
    let n = nation_year(fy(), &years).unwrap();
    let t = table(&n, TableKind::FollowUps);
    assert_eq!(
        t.cells.iter().map(|r| r[0]).collect::<Vec<_>>(),
        vec![Shown::Suppressed, Shown::Suppressed, Shown::Count(400), Shown::Count(412)]
    );
    // One held back alone: the total would tell it.
    years[1].aggregates.follow_ups = 70;
    let n = nation_year(fy(), &years).unwrap();
    assert_eq!(table(&n, TableKind::FollowUps).cells[3], vec![Shown::Suppressed]);
    // Two held-back ones of 1 each: pinned at their least value.
    years[0].aggregates.follow_ups = 1;
    years[1].aggregates.follow_ups = 1;
    let n = nation_year(fy(), &years).unwrap();
    assert_eq!(table(&n, TableKind::FollowUps).cells[3], vec![Shown::Suppressed]);
}

#[test]
fn the_rule_itself() {
    let s = SuppressionSettings::default();
    assert!(nation_cell_shown(3, 0, 0, 0, &s));
    assert!(!nation_cell_shown(500, 1, 1, 9, &s));
    assert!(!nation_cell_shown(500, 2, 1, 9, &s));
    assert!(nation_cell_shown(500, 2, 2, 9, &s));
    assert!(!nation_cell_shown(500, 2, 2, 2, &s));
    assert!(!nation_cell_shown(9, 2, 2, 5, &s));
}

/// An attacker of our own: every municipality's eighth-month and non-attendee
/// tables' sums plus the nation's shown totals, in one system over every
/// held-back cell of every municipality (floating-point Gauss–Jordan, as
/// the suppression's own attacker); a row left with one unknown recovers it.
fn recover(years: &[MunicipalityYear], n: &NationYear, kind: TableKind) -> Vec<(usize, Pos)> {
    let tables: Vec<Table> = years
        .iter()
        .map(|y| year_tables(&y.aggregates).unwrap().into_iter().find(|t| t.kind == kind).unwrap())
        .collect();
    let published: Vec<Published> = tables.iter().zip(years).map(|(t, y)| suppress(t, &y.settings)).collect();
    let mut hidden: Vec<(usize, Pos)> = Vec::new();
    for (m, (t, p)) in tables.iter().zip(&published).enumerate() {
        for r in 0..t.values.len() {
            for c in 0..t.columns.len() {
                if p.cell((r, c)) == Some(Shown::Suppressed) && t.count((r, c)).is_some() {
                    hidden.push((m, (r, c)));
                }
            }
        }
    }
    let k = hidden.len();
    let mut rows: Vec<Vec<f64>> = Vec::new();
    let idx = |m: usize, q: Pos| hidden.iter().position(|&h| h == (m, q));
    for (m, (t, p)) in tables.iter().zip(&published).enumerate() {
        for s in &t.sums {
            let mut row = vec![0.0; k + 1];
            let mut add = |q: Pos, sign: f64| match idx(m, q) {
                Some(i) => row[i] += sign,
                None => row[k] -= sign * p.cell(q).and_then(|c| c.number()).unwrap_or(0) as f64,
            };
            s.parts.iter().for_each(|&q| add(q, 1.0));
            add(s.total, -1.0);
            rows.push(row);
        }
    }
    let nt = table(n, kind);
    let total = nt.cells.last().unwrap();
    for (c, cell) in total.iter().enumerate() {
        let Shown::Count(value) = *cell else { continue };
        let mut row = vec![0.0; k + 1];
        row[k] = value as f64;
        for (m, (t, p)) in tables.iter().zip(&published).enumerate() {
            let Some(r) = aggregate_row(t) else { continue };
            match idx(m, (r, c)) {
                Some(i) => row[i] += 1.0,
                None => row[k] -= p.cell((r, c)).and_then(|x| x.number()).unwrap_or(0) as f64,
            }
        }
        // Least values: hidden parts summing to their number.
        let nz = row[..k].iter().filter(|x| **x != 0.0).count();
        if nz > 1 && (row[k] - nz as f64).abs() < 1e-9 {
            return vec![hidden[row[..k].iter().position(|x| *x != 0.0).unwrap()]];
        }
        rows.push(row);
    }
    let mut pr = 0;
    for col in 0..k {
        let Some(f) = (pr..rows.len()).find(|&r| rows[r][col].abs() > 1e-9) else { continue };
        rows.swap(pr, f);
        let piv = rows[pr][col];
        rows[pr].iter_mut().for_each(|x| *x /= piv);
        for r in 0..rows.len() {
            if r != pr && rows[r][col].abs() > 1e-9 {
                let f = rows[r][col];
                let p = rows[pr].clone();
                rows[r].iter_mut().zip(&p).for_each(|(x, y)| *x -= f * y);
            }
        }
        pr += 1;
    }
    rows.iter()
        .filter_map(|row| {
            let nz: Vec<usize> = (0..k).filter(|&i| row[i].abs() > 1e-9).collect();
            (nz.len() == 1).then(|| hidden[nz[0]])
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// No held-back cell of any municipality is recovered from the
    /// municipalities' tables and the nation's totals together.
    #[test]
    fn no_suppressed_cell_is_recovered_through_the_nation(
        munis in prop::collection::vec(
            (prop::array::uniform3(prop_oneof![0u64..12, 0u64..120]), prop_oneof![0u64..12, 0u64..120], 0u64..120),
            1..=6,
        )
    ) {
        let years: Vec<MunicipalityYear> = munis
            .iter()
            .enumerate()
            .map(|(i, (e, n, r))| muni(&format!("M{i}"), *e, *n, (*r).min(*n)))
            .collect();
        let n = nation_year(fy(), &years).unwrap();
        for kind in [TableKind::EighthMonthInterviews, TableKind::CheckNonAttendees] {
            let found = recover(&years, &n, kind);
            prop_assert!(found.is_empty(), "{:?}: recovered {:?}", kind, found);
        }
    }
}
