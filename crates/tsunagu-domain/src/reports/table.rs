//! The table model: rows, columns, cells, and the sums that tie them
//! (row and column totals, a total column that adds two others). A
//! [`Table`] holds the true counts and never leaves the staff responsible
//! for the families; a [`Published`] table is what any reader is given —
//! [`Table::unsuppressed`] for those staff on the page, otherwise
//! [`crate::reports::suppression::suppress`].

use crate::fiscal::FiscalYear;
use serde::Serialize;

/// Which table a report holds. Every table the seeds print has a kind;
/// `ClassParticipation` and `ChatFigures` are where classes and the chat
/// plug in once they land (their builders and store queries are theirs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TableKind {
    /// [001] 産後ケアセンター / ママズルーム 利用実績: days by service, families, occupancy per facility.
    PostpartumUse,
    /// [001] 地域別利用者数（２施設合計）: families per area, both facilities counted once.
    UsersByArea,
    /// [001] オンライン相談 相談件数: follow-up consultations per year.
    FollowUps,
    /// [002] 妊娠8か月面談: interviews by form.
    EighthMonthInterviews,
    /// [002] はっぴーベビー: contacts by form.
    HappyBaby,
    /// [002] 母子手帳会議 年12回開催: handbook meetings held.
    HandbookMeetings,
    /// 3–4-month check non-attendees and how many were resolved ([002] ⑤, [000] 健やか親子21).
    CheckNonAttendees,
    /// Screening counts: given, positive, urgent, followed up within N days (DOMAIN.md §7).
    Screening,
    /// Referrals by source and outcome.
    Referrals,
    /// Over several years: facility days per year (the bars) — derived from the yearly tables.
    PostpartumAcrossYears,
    /// 健やか親子21 indicators the records support: numerator, denominator, share.
    Indicators,
    /// [002] マタニティ教室: participation per venue (sessions, groups, people, couples) — classes (#issue of classes).
    ClassParticipation,
    /// Chat figures (rooms, escalations) — the chat capability [003].
    ChatFigures,
}

impl TableKind {
    pub fn code(self) -> &'static str {
        match self {
            TableKind::PostpartumUse => "postpartum_use",
            TableKind::UsersByArea => "users_by_area",
            TableKind::FollowUps => "follow_ups",
            TableKind::EighthMonthInterviews => "eighth_month_interviews",
            TableKind::HappyBaby => "happy_baby",
            TableKind::HandbookMeetings => "handbook_meetings",
            TableKind::CheckNonAttendees => "check_non_attendees",
            TableKind::Screening => "screening",
            TableKind::Referrals => "referrals",
            TableKind::PostpartumAcrossYears => "postpartum_across_years",
            TableKind::Indicators => "indicators",
            TableKind::ClassParticipation => "class_participation",
            TableKind::ChatFigures => "chat_figures",
        }
    }
}

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ColumnKind {
    /// A count of families, people or what happened to them: small ones
    /// could single a family out, so they are suppressed.
    Count,
    /// A count about the municipality's own work, not about families
    /// (meetings held): never suppressed.
    Public,
    /// A rate whose numerator is the count in column `numerator` of the same
    /// row: suppressed whenever that count is.
    Rate { numerator: usize },
    /// A measure of the rows counted in column `basis` of the same row (a
    /// median time, in whole units): not itself a count of families, and
    /// suppressed whenever that count is.
    Measure { basis: usize },
}

/// A column: its words' key (the page and downloads look it up) and kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Column {
    pub key: String,
    pub kind: ColumnKind,
}

impl Column {
    pub fn count(key: &str) -> Self {
        Column { key: key.to_owned(), kind: ColumnKind::Count }
    }
    pub fn public(key: &str) -> Self {
        Column { key: key.to_owned(), kind: ColumnKind::Public }
    }
    pub fn rate(key: &str, numerator: usize) -> Self {
        Column { key: key.to_owned(), kind: ColumnKind::Rate { numerator } }
    }
    pub fn measure(key: &str, basis: usize) -> Self {
        Column { key: key.to_owned(), kind: ColumnKind::Measure { basis } }
    }
}

/// What a row is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum RowLabel {
    /// A word of the report's vocabulary (a form, a source), by key.
    Key { key: String },
    /// A facility, an area, a venue: its names as recorded.
    Name { ja: String, en: String },
    /// A fiscal year.
    Year { year: i32, ja: String, en: String },
    /// A venue's row in one programme (class participation): the
    /// programme kind's code and the venue's names as recorded.
    VenueProgramme { programme: String, ja: String, en: String },
    /// The totals row.
    Total,
}

impl RowLabel {
    pub fn key(key: &str) -> Self {
        RowLabel::Key { key: key.to_owned() }
    }
    pub fn name(ja: &str, en: &str) -> Self {
        RowLabel::Name { ja: ja.to_owned(), en: en.to_owned() }
    }
    pub fn year(fy: FiscalYear) -> Self {
        RowLabel::Year { year: fy.year(), ja: fy.label_ja(), en: fy.label_en() }
    }
}

/// One cell's true value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Value {
    Count(u64),
    /// A rate in tenths of a percent (824 = 82.4%); none when the
    /// denominator is zero.
    Rate(Option<u64>),
}

/// A cell's position: (row, column).
pub type Pos = (usize, usize);

/// `parts` add up to `total`: a row total, a column total, or a column
/// that is the sum of others in its row. Suppression keeps every sum from
/// giving a suppressed cell away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sum {
    pub parts: Vec<Pos>,
    pub total: Pos,
}

/// A table of true values, as the store's aggregates give them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Table {
    pub kind: TableKind,
    pub columns: Vec<Column>,
    pub rows: Vec<RowLabel>,
    pub values: Vec<Vec<Value>>,
    pub sums: Vec<Sum>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    #[error("a row has {got} cells where the table has {want} columns")]
    Ragged { want: usize, got: usize },
    #[error("a sum names a cell outside the table or one that is not a count")]
    BadSum,
    #[error("a sum does not add up")]
    DoesNotAddUp,
    #[error("a rate's numerator is not a count column of the table")]
    BadRate,
}

impl Table {
    /// A table, checked: every row as wide as the columns, every sum over
    /// count cells of the same kind (counts or public counts) and adding
    /// up, every rate pointing at a count column.
    pub fn new(
        kind: TableKind,
        columns: Vec<Column>,
        rows: Vec<RowLabel>,
        values: Vec<Vec<Value>>,
        sums: Vec<Sum>,
    ) -> Result<Self, TableError> {
        for row in &values {
            if row.len() != columns.len() {
                return Err(TableError::Ragged { want: columns.len(), got: row.len() });
            }
        }
        for c in &columns {
            if let ColumnKind::Rate { numerator } | ColumnKind::Measure { basis: numerator } = c.kind {
                if !matches!(columns.get(numerator).map(|n| n.kind), Some(ColumnKind::Count | ColumnKind::Public)) {
                    return Err(TableError::BadRate);
                }
            }
        }
        let t = Table { kind, columns, rows, values, sums };
        for s in &t.sums {
            let kind_of = |p: Pos| t.columns.get(p.1).map(|c| c.kind);
            let total_kind = kind_of(s.total);
            if !matches!(total_kind, Some(ColumnKind::Count | ColumnKind::Public)) {
                return Err(TableError::BadSum);
            }
            let mut parts = 0u64;
            for &p in &s.parts {
                if kind_of(p) != total_kind {
                    return Err(TableError::BadSum);
                }
                parts = parts.saturating_add(t.count(p).ok_or(TableError::BadSum)?);
            }
            if t.count(s.total) != Some(parts) {
                return Err(TableError::DoesNotAddUp);
            }
        }
        Ok(t)
    }

    /// The count at `p`, if it is a count cell of the table.
    pub fn count(&self, p: Pos) -> Option<u64> {
        match self.values.get(p.0)?.get(p.1)? {
            Value::Count(n) => Some(*n),
            Value::Rate(_) => None,
        }
    }

    /// Is `p` a cell whose small values must be suppressed?
    pub fn is_sensitive(&self, p: Pos) -> bool {
        matches!(self.columns.get(p.1).map(|c| c.kind), Some(ColumnKind::Count)) && self.count(p).is_some()
    }

    /// The table as the staff responsible for its families see it on the page.
    pub fn unsuppressed(&self) -> Published {
        let cells = self
            .values
            .iter()
            .map(|row| {
                row.iter()
                    .map(|v| match *v {
                        Value::Count(n) => Shown::Count(n),
                        Value::Rate(r) => Shown::Rate(r),
                    })
                    .collect()
            })
            .collect();
        Published { kind: self.kind, columns: self.columns.clone(), rows: self.rows.clone(), cells, suppression: None }
    }
}

/// A cell as a reader is given it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Shown {
    Count(u64),
    /// A count rounded to the municipality's base (suppression settings).
    Rounded(u64),
    Rate(Option<u64>),
    /// Held back: shown as `*`, never as 0.
    Suppressed,
}

impl Shown {
    /// The number a chart or a workbook puts down; none for a suppressed
    /// cell or a rate without a denominator.
    pub fn number(&self) -> Option<u64> {
        match *self {
            Shown::Count(n) | Shown::Rounded(n) => Some(n),
            Shown::Rate(r) => r,
            Shown::Suppressed => None,
        }
    }

    /// As a page, a CSV or a workbook writes it: `4,431`, `82.4%`, `*`, `-`
    /// (a rate with nothing offered).
    pub fn text(&self) -> String {
        match *self {
            Shown::Count(n) | Shown::Rounded(n) => thousands(n),
            Shown::Rate(Some(t)) => format!("{}.{}%", t / 10, t % 10),
            Shown::Rate(None) => "-".to_owned(),
            Shown::Suppressed => SUPPRESSED_MARK.to_owned(),
        }
    }

    pub fn is_suppressed(&self) -> bool {
        matches!(self, Shown::Suppressed)
    }
}

/// How a suppressed cell is written: the same mark for a cell under the
/// threshold and for one held back so that it cannot be worked out (a
/// `<10` on the first would tell a reader which is which).
pub const SUPPRESSED_MARK: &str = "*";

/// `4431` → `4,431`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len().saturating_add(digits.len() / 3));
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len().saturating_sub(i)) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What suppression was applied to a published table (none: the
/// responsible staff's unsuppressed view).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Applied {
    pub threshold: u64,
    pub rounding: Option<u64>,
}

/// A table as a reader is given it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Published {
    pub kind: TableKind,
    pub columns: Vec<Column>,
    pub rows: Vec<RowLabel>,
    pub cells: Vec<Vec<Shown>>,
    pub suppression: Option<Applied>,
}

impl Published {
    pub fn cell(&self, p: Pos) -> Option<Shown> {
        self.cells.get(p.0)?.get(p.1).copied()
    }

    pub fn any_suppressed(&self) -> bool {
        self.cells.iter().flatten().any(Shown::is_suppressed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(989), "989");
        assert_eq!(thousands(4_431), "4,431");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn shown_never_writes_a_suppressed_cell_as_zero() {
        assert_eq!(Shown::Suppressed.text(), "*");
        assert_eq!(Shown::Suppressed.number(), None);
        assert_eq!(Shown::Rate(Some(824)).text(), "82.4%");
        assert_eq!(Shown::Rate(None).text(), "-");
    }

    #[test]
    fn tables_are_checked() {
        let cols = || vec![Column::count("a"), Column::count("b"), Column::count("total")];
        let row = |a, b, t| vec![Value::Count(a), Value::Count(b), Value::Count(t)];
        let sum = Sum { parts: vec![(0, 0), (0, 1)], total: (0, 2) };
        assert!(Table::new(
            TableKind::UsersByArea,
            cols(),
            vec![RowLabel::Total],
            vec![row(1, 2, 3)],
            vec![sum.clone()]
        )
        .is_ok());
        assert_eq!(
            Table::new(TableKind::UsersByArea, cols(), vec![RowLabel::Total], vec![row(1, 2, 4)], vec![sum.clone()]),
            Err(TableError::DoesNotAddUp)
        );
        assert_eq!(
            Table::new(TableKind::UsersByArea, cols(), vec![RowLabel::Total], vec![vec![Value::Count(1)]], vec![]),
            Err(TableError::Ragged { want: 3, got: 1 })
        );
        let bad = Sum { parts: vec![(0, 0), (0, 7)], total: (0, 2) };
        assert_eq!(
            Table::new(TableKind::UsersByArea, cols(), vec![RowLabel::Total], vec![row(1, 2, 3)], vec![bad]),
            Err(TableError::BadSum)
        );
        let rate_cols = vec![Column::count("a"), Column::rate("r", 5)];
        assert_eq!(Table::new(TableKind::PostpartumUse, rate_cols, vec![], vec![], vec![]), Err(TableError::BadRate));
    }
}
