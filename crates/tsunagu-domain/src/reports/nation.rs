//! The nation-wide report (#14, PRODUCT.md §1.7 "Nation-wide figures"):
//! one table per kind, a row per municipality and the nation's total row.
//!
//! - A municipality's row is its own report's aggregate row of that table
//!   (its totals row, or its only row), published through the one rule
//!   ([`suppress`]) with **its own** settings: the same cells are held back
//!   here as in its own report, so the two tell nothing apart.
//! - The nation's row adds the true counts of every municipality. A total
//!   over held-back cells could give them away, so a nation cell is shown
//!   only when that is impossible, decided by [`nation_cell_shown`]:
//!   every part shown; or at least two municipalities are *witnesses* — a
//!   municipality whose held-back part stays undetermined in its own table
//!   even if every other cell of its row that reaches the nation were
//!   known (exact elimination, the domain's [`determined`]) — and the hidden
//!   parts are not pinned at their least value (as in the secondary rule)
//!   and the total is no small count itself.
//!
//! Why two witnesses suffice: a reader knows each municipality's table
//! equations (restricted to its held-back cells) and the shown nation
//! totals. A held-back cell `x` of municipality A is determined only if
//! `e_x − Σ λ_j e_{A,j}` is known in A for some weights λ over the shown
//! nation cells with `Σ λ_j e_{B,j}` known in every other B. A witness
//! B ≠ A of cell j forces `λ_j = 0` (its part of j is not a combination of
//! what else is known in B), so all λ vanish and `e_x` would be known in A
//! alone — which A's own suppression rules out. With two witnesses, one
//! is always another municipality than A.
//!
//! Rounding (a municipality's option): its shown counts are not exact, so
//! every count of a rounding municipality is treated as held back in this
//! arithmetic (its rows still show what its own report shows).

use super::build::year_tables;
use super::build::YearAggregates;
use super::suppression::{determined, held_back, suppress, SuppressionSettings};
use super::table::{
    Applied, Column, ColumnKind, Pos, Published, RowLabel, Shown, Sum, Table, TableError, TableKind, Value,
};
use crate::fiscal::FiscalYear;
use crate::postpartum::occupancy::Occupancy;
use std::collections::BTreeSet;

/// The tables the nation-wide report holds: those whose columns are the
/// same in every municipality (the areas, the class venues and the chat's
/// median are a municipality's own; the indicators are shares).
pub const NATION_KINDS: [TableKind; 8] = [
    TableKind::PostpartumUse,
    TableKind::FollowUps,
    TableKind::EighthMonthInterviews,
    TableKind::HappyBaby,
    TableKind::HandbookMeetings,
    TableKind::CheckNonAttendees,
    TableKind::Screening,
    TableKind::Referrals,
];

/// One municipality's year, as its own report counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MunicipalityYear {
    pub name_ja: String,
    pub name_en: String,
    pub settings: SuppressionSettings,
    pub aggregates: YearAggregates,
}

/// A fiscal year over the nation: one published table per kind of
/// [`NATION_KINDS`], a row per municipality and the total row last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NationYear {
    pub fiscal_year: FiscalYear,
    pub municipalities: usize,
    pub tables: Vec<Published>,
}

/// What a municipality brings to one nation table: its aggregate row, true
/// and as published, and which of its cells the nation arithmetic treats
/// as unknown with whether each is a witness.
struct Part {
    values: Vec<Value>,
    shown: Vec<Shown>,
    /// Per column: held back (or rounded) in the municipality's own table.
    unknown: Vec<bool>,
    /// Per column: a witness (see the module's words).
    witness: Vec<bool>,
}

/// The row of a table that stands for the municipality: its totals row, or
/// its only row; none for a table of several rows without a total.
fn aggregate_row(t: &Table) -> Option<usize> {
    t.rows.iter().position(|r| matches!(r, RowLabel::Total)).or(if t.rows.len() == 1 { Some(0) } else { None })
}

fn part_of(t: &Table, settings: &SuppressionSettings, columns: usize) -> Part {
    let published = suppress(t, settings);
    let Some(r) = aggregate_row(t) else {
        // No row (a municipality without facilities): zeros, all shown.
        return Part {
            values: (0..columns).map(|_| Value::Count(0)).collect(),
            shown: (0..columns).map(|_| Shown::Count(0)).collect(),
            unknown: vec![false; columns],
            witness: vec![false; columns],
        };
    };
    let held: BTreeSet<Pos> = if settings.rounding.is_some() {
        (0..t.values.len()).flat_map(|r| (0..columns).map(move |c| (r, c))).filter(|&p| t.is_sensitive(p)).collect()
    } else {
        held_back(t, settings)
    };
    let sums: Vec<&Sum> = t.sums.iter().filter(|s| t.is_sensitive(s.total)).collect();
    let unknown: Vec<bool> = (0..columns).map(|c| held.contains(&(r, c))).collect();
    let witness = (0..columns)
        .map(|c| {
            unknown.get(c).copied().unwrap_or(false) && {
                // The other cells of the row that reach the nation, as if known.
                let rest: Vec<Pos> = held.iter().copied().filter(|&(rr, cc)| rr != r || cc == c).collect();
                !determined(&rest, &sums).contains(&(r, c))
            }
        })
        .collect();
    Part {
        values: t.values.get(r).cloned().unwrap_or_default(),
        shown: published.cells.get(r).cloned().unwrap_or_default(),
        unknown,
        witness,
    }
}

/// Whether the nation's total of a count column may be shown: see the
/// module's words. `hidden` is the true sum of the held-back parts.
pub fn nation_cell_shown(
    total: u64,
    held_parts: usize,
    witnesses: usize,
    hidden: u64,
    settings: &SuppressionSettings,
) -> bool {
    if held_parts == 0 {
        return true;
    }
    witnesses >= 2 && hidden > u64::try_from(held_parts).unwrap_or(u64::MAX) && !settings.is_small(total)
}

/// The strictest of the municipalities' settings (the highest threshold),
/// used for the nation's own row: a total is itself a count.
fn strictest(years: &[MunicipalityYear]) -> SuppressionSettings {
    SuppressionSettings {
        threshold: years.iter().map(|y| y.settings.threshold).max().unwrap_or(SuppressionSettings::default().threshold),
        rounding: None,
    }
}

/// The nation-wide tables of a fiscal year from every municipality's year.
pub fn nation_year(fy: FiscalYear, years: &[MunicipalityYear]) -> Result<NationYear, TableError> {
    let built: Vec<Vec<Table>> = years.iter().map(|y| year_tables(&y.aggregates)).collect::<Result<_, _>>()?;
    let nation_settings = strictest(years);
    let mut tables = Vec::new();
    for kind in NATION_KINDS {
        // The columns are the same for every municipality: take them from
        // the table as built for no municipality when there is none.
        let Some(columns) = built.iter().flatten().find(|t| t.kind == kind).map(|t| t.columns.clone()) else {
            continue;
        };
        let n_cols = columns.len();
        let parts: Vec<Part> = years
            .iter()
            .zip(&built)
            .map(|(y, ts)| match ts.iter().find(|t| t.kind == kind) {
                Some(t) => part_of(t, &y.settings, n_cols),
                None => part_of(
                    &Table { kind, columns: columns.clone(), rows: vec![], values: vec![], sums: vec![] },
                    &y.settings,
                    n_cols,
                ),
            })
            .collect();
        let offered: Option<u64> = years
            .iter()
            .flat_map(|y| y.aggregates.facilities.iter().filter_map(|f| f.offered_places))
            .reduce(|a, b| a.saturating_add(b));
        let mut total_row: Vec<Shown> = Vec::with_capacity(n_cols);
        let mut total_values: Vec<u64> = Vec::with_capacity(n_cols);
        for (c, col) in columns.iter().enumerate() {
            let sum: u64 = parts
                .iter()
                .filter_map(|p| match p.values.get(c) {
                    Some(Value::Count(n)) => Some(*n),
                    _ => None,
                })
                .fold(0u64, u64::saturating_add);
            total_values.push(sum);
            let shown = match col.kind {
                ColumnKind::Public => Shown::Count(sum),
                ColumnKind::Count => {
                    let held: Vec<&Part> =
                        parts.iter().filter(|p| p.unknown.get(c).copied().unwrap_or(false)).collect();
                    let witnesses = held.iter().filter(|p| p.witness.get(c).copied().unwrap_or(false)).count();
                    let hidden: u64 = held
                        .iter()
                        .filter_map(|p| match p.values.get(c) {
                            Some(Value::Count(n)) => Some(*n),
                            _ => None,
                        })
                        .fold(0u64, u64::saturating_add);
                    if nation_cell_shown(sum, held.len(), witnesses, hidden, &nation_settings) {
                        Shown::Count(sum)
                    } else {
                        Shown::Suppressed
                    }
                }
                // Filled below, once the counts are decided.
                ColumnKind::Rate { .. } | ColumnKind::Measure { .. } => Shown::Rate(None),
            };
            total_row.push(shown);
        }
        // The nation row's own sums (a total column): a lone held-back
        // entry would be their difference — hold back the whole sum.
        let row_sums: Vec<(Vec<usize>, usize)> = built
            .iter()
            .flatten()
            .find(|t| t.kind == kind)
            .and_then(|t| {
                let r = aggregate_row(t)?;
                Some(
                    t.sums
                        .iter()
                        .filter(|s| s.total.0 == r && s.parts.iter().all(|p| p.0 == r))
                        .map(|s| (s.parts.iter().map(|p| p.1).collect(), s.total.1))
                        .collect(),
                )
            })
            .unwrap_or_default();
        loop {
            let mut changed = false;
            for (ps, tot) in &row_sums {
                let entries: Vec<usize> = ps.iter().copied().chain(std::iter::once(*tot)).collect();
                let held = entries.iter().filter(|&&c| total_row.get(c).is_some_and(Shown::is_suppressed)).count();
                if held == 1 {
                    for c in &entries {
                        if let Some(s) = total_row.get_mut(*c) {
                            *s = Shown::Suppressed;
                        }
                    }
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        for (c, col) in columns.iter().enumerate() {
            if let ColumnKind::Rate { numerator } | ColumnKind::Measure { basis: numerator } = col.kind {
                let numerator_held = total_row.get(numerator).is_some_and(Shown::is_suppressed);
                let rate = if kind == TableKind::PostpartumUse {
                    offered.and_then(|o| {
                        Occupancy { used_places: total_values.get(numerator).copied().unwrap_or(0), offered_places: o }
                            .rate()
                            .map(|r| r.tenths_of_percent())
                    })
                } else {
                    None
                };
                if let Some(s) = total_row.get_mut(c) {
                    *s = if numerator_held { Shown::Suppressed } else { Shown::Rate(rate) };
                }
            }
        }
        let mut rows: Vec<RowLabel> = years.iter().map(|y| RowLabel::name(&y.name_ja, &y.name_en)).collect();
        let mut cells: Vec<Vec<Shown>> = parts.into_iter().map(|p| p.shown).collect();
        rows.push(RowLabel::Total);
        cells.push(total_row);
        tables.push(Published {
            kind,
            columns: columns.iter().map(|c| Column { key: c.key.clone(), kind: c.kind }).collect(),
            rows,
            cells,
            suppression: Some(Applied { threshold: nation_settings.threshold, rounding: None }),
        });
    }
    Ok(NationYear { fiscal_year: fy, municipalities: years.len(), tables })
}

#[cfg(test)]
mod tests;
