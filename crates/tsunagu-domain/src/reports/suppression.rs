//! Small-cell suppression: the one rule every figure passes through before
//! it leaves the staff responsible for the families it counts (DOMAIN.md §8:
//! "births to mothers aged 19 or under: 1" singles a family out).
//!
//! - **Primary**: a count cell (of families, people, or what happened to
//!   them) from 1 to `threshold − 1` is held back. Zero is shown: "nobody"
//!   singles no one out. The default threshold is 10, as the national
//!   database (NDB) publishes ("cells under 10").
//! - **Secondary** (complementary): no held-back cell may be worked out
//!   from what is shown. Every sum of the table (row totals, column totals,
//!   a total column) is an equation; a held-back cell is recoverable when
//!   the shown cells and sums determine it — alone in an equation, or by
//!   combining several (rows minus columns). We hold back further cells,
//!   the smallest first, until no held-back cell is determined by the
//!   equations (exact elimination over the rationals, [`determined`]), and
//!   no sum pins its held-back parts by their least values (two cells of 1
//!   under a shown total of a row: each is at least 1, so both are 1).
//! - **Across reports**: the pattern is a function of the table's values and
//!   the settings only, so a figure is held back alike wherever it appears
//!   (the page, the CSV, the workbook, the API, another report of the same
//!   year). A table derived from others (a range of years) is built from
//!   their *published* cells: a derived sum is shown only when every part
//!   is ([`derived_sum`]), so it tells nothing the yearly tables did not.
//! - **Rounding** (optional, a municipality's setting): shown counts are
//!   rounded to a base (5, 10), each on its own, after suppression.
//!
//! A rate is held back with its numerator.

use super::table::{Applied, ColumnKind, Pos, Published, Shown, Sum, Table, Value};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// A municipality's suppression settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SuppressionSettings {
    /// Counts from 1 to `threshold − 1` are held back (10: cells under 10).
    pub threshold: u64,
    /// Shown counts are rounded to this base (half up), if set.
    pub rounding: Option<u64>,
}

impl Default for SuppressionSettings {
    fn default() -> Self {
        SuppressionSettings { threshold: 10, rounding: None }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("the threshold is from 2 to 100")]
    Threshold,
    #[error("the rounding base is from 2 to 100")]
    Rounding,
}

impl SuppressionSettings {
    /// Checked settings: a threshold of 2–100 (1 would hold back nothing),
    /// a rounding base of 2–100 or none.
    pub fn new(threshold: u64, rounding: Option<u64>) -> Result<Self, SettingsError> {
        if !(2..=100).contains(&threshold) {
            return Err(SettingsError::Threshold);
        }
        if rounding.is_some_and(|r| !(2..=100).contains(&r)) {
            return Err(SettingsError::Rounding);
        }
        Ok(SuppressionSettings { threshold, rounding })
    }

    /// Is a count small enough to single a family out?
    pub fn is_small(&self, n: u64) -> bool {
        n > 0 && n < self.threshold
    }

    fn round(&self, n: u64) -> u64 {
        match self.rounding {
            Some(base) if base > 1 => n.saturating_add(base / 2) / base * base,
            _ => n,
        }
    }
}

/// The table as every reader but the responsible staff is given it.
pub fn suppress(table: &Table, settings: &SuppressionSettings) -> Published {
    let held = held_back(table, settings);
    let cells = table
        .values
        .iter()
        .enumerate()
        .map(|(r, row)| {
            row.iter()
                .enumerate()
                .map(|(c, v)| {
                    let numerator_held = match table.columns.get(c).map(|col| col.kind) {
                        Some(ColumnKind::Rate { numerator } | ColumnKind::Measure { basis: numerator }) => {
                            held.contains(&(r, numerator))
                        }
                        _ => false,
                    };
                    match *v {
                        _ if held.contains(&(r, c)) || numerator_held => Shown::Suppressed,
                        Value::Count(n) if settings.rounding.is_some() && table.is_sensitive((r, c)) => {
                            Shown::Rounded(settings.round(n))
                        }
                        Value::Count(n) => Shown::Count(n),
                        Value::Rate(t) => Shown::Rate(t),
                    }
                })
                .collect()
        })
        .collect();
    Published {
        kind: table.kind,
        columns: table.columns.clone(),
        rows: table.rows.clone(),
        cells,
        suppression: Some(Applied { threshold: settings.threshold, rounding: settings.rounding }),
    }
}

/// The count cells held back: primary, then secondary until safe.
pub fn held_back(table: &Table, settings: &SuppressionSettings) -> BTreeSet<Pos> {
    let sensitive = |p: Pos| table.is_sensitive(p);
    let mut held: BTreeSet<Pos> = BTreeSet::new();
    for (r, row) in table.values.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if let Value::Count(n) = v {
                if sensitive((r, c)) && settings.is_small(*n) {
                    held.insert((r, c));
                }
            }
        }
    }
    // Only sums over sensitive cells matter: a public count's sum holds
    // back nothing.
    let sums: Vec<&Sum> = table.sums.iter().filter(|s| sensitive(s.total)).collect();
    let cells_total = table.values.iter().map(Vec::len).sum::<usize>();
    // Each round holds back one more cell or stops: at most one round a cell.
    for _ in 0..=cells_total {
        let Some(more) = next_to_hold(table, &sums, &held) else { break };
        held.insert(more);
    }
    held
}

/// The next cell to hold back, or none when the pattern is safe (or nothing
/// is left to hold back).
fn next_to_hold(table: &Table, sums: &[&Sum], held: &BTreeSet<Pos>) -> Option<Pos> {
    // A sum with one held-back entry gives it away; a shown total whose
    // held-back parts add up to no more than their number pins them (each
    // is at least 1, zeros being shown).
    for s in sums {
        let entries: Vec<Pos> = s.parts.iter().copied().chain(std::iter::once(s.total)).collect();
        let held_here: Vec<Pos> = entries.iter().copied().filter(|p| held.contains(p)).collect();
        if held_here.is_empty() {
            continue;
        }
        let pinned = !held.contains(&s.total) && {
            let parts_held: Vec<Pos> = s.parts.iter().copied().filter(|p| held.contains(p)).collect();
            let sum: u64 = parts_held.iter().filter_map(|&p| table.count(p)).sum();
            sum <= u64::try_from(parts_held.len()).unwrap_or(u64::MAX)
        };
        if held_here.len() == 1 || pinned {
            if let Some(p) = candidate(table, s, held) {
                return Some(p);
            }
        }
    }
    // Combinations of sums: a held-back cell the equations determine.
    let unknowns: Vec<Pos> = held.iter().copied().collect();
    for p in determined(&unknowns, sums) {
        if let Some((_, _, _, c)) = sums.iter().filter(|s| involves(s, p)).filter_map(|s| rank(table, s, held)).min() {
            return Some(c);
        }
        // Every sum through it is held back already: hold back any other
        // sensitive cell, the smallest.
        if let Some(c) = smallest(table, all_cells(table).filter(|q| !held.contains(q))) {
            return Some(c);
        }
    }
    None
}

fn involves(s: &Sum, p: Pos) -> bool {
    s.total == p || s.parts.contains(&p)
}

fn all_cells(table: &Table) -> impl Iterator<Item = Pos> + '_ {
    table.values.iter().enumerate().flat_map(|(r, row)| (0..row.len()).map(move |c| (r, c)))
}

/// The cell of a sum to hold back next: a non-zero before a zero, the
/// total before a part (the named cells — a facility, an area — are what a
/// reader came for; a total held back hides less of them), then the
/// smallest, the first in reading order.
fn candidate(table: &Table, s: &Sum, held: &BTreeSet<Pos>) -> Option<Pos> {
    rank(table, s, held).map(|(_, _, _, p)| p)
}

type Rank = (bool, bool, u64, Pos);

fn rank(table: &Table, s: &Sum, held: &BTreeSet<Pos>) -> Option<Rank> {
    s.parts
        .iter()
        .map(|&p| (p, false))
        .chain(std::iter::once((s.total, true)))
        .filter(|(p, _)| !held.contains(p) && table.is_sensitive(*p))
        .filter_map(|(p, is_total)| table.count(p).map(|n| (n == 0, !is_total, n, p)))
        .min()
}

fn smallest(table: &Table, cells: impl Iterator<Item = Pos>) -> Option<Pos> {
    cells
        .filter(|&p| table.is_sensitive(p))
        .filter_map(|p| table.count(p).map(|n| (n == 0, n, p)))
        .min()
        .map(|(_, _, p)| p)
}

/// Which of `unknowns` the sums determine, whatever the shown cells are:
/// unknown `j` is determined when the unit vector of `j` is a combination
/// of the sums' equations restricted to the unknowns. Gauss–Jordan over
/// the integers (rows kept divided by their gcd), so exact; a row of the
/// reduced matrix with one non-zero entry names a determined unknown.
pub fn determined(unknowns: &[Pos], sums: &[&Sum]) -> Vec<Pos> {
    let n = unknowns.len();
    let index: HashMap<Pos, usize> = unknowns.iter().enumerate().map(|(i, &p)| (p, i)).collect();
    let mut m: Vec<Vec<i128>> = sums
        .iter()
        .map(|s| {
            let mut row = vec![0i128; n];
            for p in &s.parts {
                if let Some(&i) = index.get(p) {
                    if let Some(x) = row.get_mut(i) {
                        *x = x.saturating_add(1);
                    }
                }
            }
            if let Some(&i) = index.get(&s.total) {
                if let Some(x) = row.get_mut(i) {
                    *x = x.saturating_sub(1);
                }
            }
            row
        })
        .filter(|row| row.iter().any(|&x| x != 0))
        .collect();
    let mut pivot_row = 0usize;
    for col in 0..n {
        let Some(found) = (pivot_row..m.len()).find(|&r| m[r][col] != 0) else { continue };
        m.swap(pivot_row, found);
        let pivot = m[pivot_row].clone();
        let p = pivot[col];
        for (r, row) in m.iter_mut().enumerate() {
            if r == pivot_row || row[col] == 0 {
                continue;
            }
            let f = row[col];
            for (x, &y) in row.iter_mut().zip(&pivot) {
                *x = x.saturating_mul(p).saturating_sub(y.saturating_mul(f));
            }
            let g = row.iter().fold(0i128, |g, &x| gcd(g, x.saturating_abs()));
            if g > 1 {
                row.iter_mut().for_each(|x| *x /= g);
            }
        }
        pivot_row = pivot_row.saturating_add(1);
        if pivot_row == m.len() {
            break;
        }
    }
    m.iter()
        .filter_map(|row| {
            let mut nz = row.iter().enumerate().filter(|(_, &x)| x != 0);
            match (nz.next(), nz.next()) {
                (Some((j, _)), None) => unknowns.get(j).copied(),
                _ => None,
            }
        })
        .collect()
}

fn gcd(a: i128, b: i128) -> i128 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// A sum of published cells (a range of years' totals): shown only when
/// every part is shown, so that it adds nothing a reader could not already
/// add up.
pub fn derived_sum(parts: &[Shown]) -> Shown {
    let mut total = 0u64;
    let mut rounded = false;
    for p in parts {
        match *p {
            Shown::Count(n) => total = total.saturating_add(n),
            Shown::Rounded(n) => {
                rounded = true;
                total = total.saturating_add(n);
            }
            Shown::Rate(_) | Shown::Suppressed => return Shown::Suppressed,
        }
    }
    if rounded {
        Shown::Rounded(total)
    } else {
        Shown::Count(total)
    }
}

#[cfg(test)]
mod tests;
