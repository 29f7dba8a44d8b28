//! Reports (PRODUCT.md §1.7, DOMAIN.md §8): the yearly tables municipalities
//! publish, built from aggregate counts, and the one rule that makes them
//! safe to publish.
//!
//! - [`Period`]: a fiscal year or a range of them, labelled with the
//!   Western fiscal year and the Japanese era (平成30年度 = FY2018,
//!   令和元年度 = FY2019, 令和4年度 = FY2022; [`crate::fiscal`]).
//! - [`table`]: the table model (rows, columns, totals, cells) and what a
//!   reader is given of it (a [`table::Published`] table, suppressed or not).
//! - [`suppression`]: small-cell suppression, primary and secondary, in one
//!   place; every figure that leaves the responsible staff goes through it.
//! - [`build`]: the seeds' tables from the store's aggregates ([001] 利用実績,
//!   地域別利用者数, オンライン相談件数; [002] 成果（実績）).
//! - [`indicators`]: the 健やか親子21 indicators the records support [000][003].
//! - [`reconcile`]: recorded figures beside the ones a city printed, and why
//!   an occupancy rate differs ([001] 稼働率).

pub mod build;
pub mod indicators;
pub mod nation;
pub mod printed;
pub mod reconcile;
pub mod suppression;
pub mod table;

use crate::dates::DateRange;
use crate::fiscal::{Era, FiscalYear, FiscalYearError};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// The most fiscal years one report spans: a bound on input (a range is
/// typed by hand), generous for the five years [001] prints.
pub const MAX_YEARS: usize = 20;

/// A fiscal year or a range of consecutive fiscal years, first ≤ last and
/// at most [`MAX_YEARS`] long. The only ways in are [`Period::year`] and
/// [`Period::range`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Period {
    first: FiscalYear,
    last: FiscalYear,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("the first fiscal year is after the last")]
    Reversed,
    #[error("a report spans at most {MAX_YEARS} fiscal years")]
    TooLong,
    #[error(transparent)]
    FiscalYear(#[from] FiscalYearError),
}

impl PeriodError {
    pub fn code(&self) -> &'static str {
        match self {
            PeriodError::Reversed => "period_reversed",
            PeriodError::TooLong => "period_too_long",
            PeriodError::FiscalYear(_) => "bad_fiscal_year",
        }
    }
}

impl Period {
    pub fn year(fy: FiscalYear) -> Self {
        Period { first: fy, last: fy }
    }

    pub fn range(first: FiscalYear, last: FiscalYear) -> Result<Self, PeriodError> {
        if first > last {
            return Err(PeriodError::Reversed);
        }
        let span = usize::try_from(last.year().saturating_sub(first.year())).unwrap_or(usize::MAX);
        if span >= MAX_YEARS {
            return Err(PeriodError::TooLong);
        }
        Ok(Period { first, last })
    }

    /// Reads `from` and `to` as staff write fiscal years (`FY2022`,
    /// `令和4年度`, `R4`, …); `to` empty or absent means the one year `from`.
    pub fn parse(from: &str, to: Option<&str>) -> Result<Self, PeriodError> {
        let first = FiscalYear::parse(from)?;
        match to.map(str::trim).filter(|t| !t.is_empty()) {
            None => Ok(Period::year(first)),
            Some(t) => Period::range(first, FiscalYear::parse(t)?),
        }
    }

    pub fn first(&self) -> FiscalYear {
        self.first
    }

    pub fn last(&self) -> FiscalYear {
        self.last
    }

    pub fn is_single_year(&self) -> bool {
        self.first == self.last
    }

    /// Every fiscal year of the period, in order.
    pub fn years(&self) -> Vec<FiscalYear> {
        (self.first.year()..=self.last.year()).filter_map(|y| FiscalYear::new(y).ok()).collect()
    }

    /// 1 April of the first year to 31 March after the last.
    pub fn dates(&self) -> DateRange {
        DateRange::new(self.first.start(), self.last.end()).unwrap_or(self.first.range())
    }

    /// 令和4年度, or 令和3年度〜令和4年度.
    pub fn label_ja(&self) -> String {
        if self.is_single_year() {
            self.first.label_ja()
        } else {
            format!("{}〜{}", self.first.label_ja(), self.last.label_ja())
        }
    }

    /// FY2022, or FY2021–FY2022.
    pub fn label_en(&self) -> String {
        if self.is_single_year() {
            self.first.label_en()
        } else {
            format!("{}–{}", self.first.label_en(), self.last.label_en())
        }
    }

    /// Both, as a header says it: 令和4年度（FY2022）.
    pub fn label_both(&self) -> String {
        format!("{}（{}）", self.label_ja(), self.label_en())
    }
}

/// A municipality's report settings (stored per municipality; without
/// them, the defaults).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSettings {
    pub suppression: suppression::SuppressionSettings,
    /// A positive screen counts as followed up when its referral was taken
    /// up within this many days (default 14).
    pub follow_up_days: u32,
    /// Figures the city printed, to show beside the recorded ones ([001] 利用実績).
    pub printed: Vec<reconcile::PrintedFigures>,
    /// A chat room's first answer counts as in time within this many hours
    /// (default 24; settings stored before #14's chat table have none).
    #[serde(default = "default_chat_answer_hours")]
    pub chat_answer_hours: u32,
}

fn default_chat_answer_hours() -> u32 {
    24
}

impl Default for ReportSettings {
    fn default() -> Self {
        ReportSettings {
            suppression: Default::default(),
            follow_up_days: 14,
            printed: Vec::new(),
            chat_answer_hours: default_chat_answer_hours(),
        }
    }
}

impl ReportSettings {
    /// The most days a follow-up may count within (a year).
    pub const MAX_FOLLOW_UP_DAYS: u32 = 366;
    /// The most hours a chat room's first answer may count as in time within (30 days).
    pub const MAX_CHAT_ANSWER_HOURS: u32 = 720;

    /// Setagaya's printed centre figures [001] 利用実績 for `venue_id`
    /// (the demo's municipal centre), FY2018–FY2022.
    pub fn setagaya_printed(venue_id: i64) -> Vec<reconcile::PrintedFigures> {
        // [001] 産後ケアセンター 利用実績: 平成30 … 令和4.
        [
            (2018, 4_072, 633, 876, 871),
            (2019, 3_592, 835, 764, 813),
            (2020, 2_809, 483, 626, 608),
            (2021, 3_683, 672, 854, 805),
            (2022, 3_725, 706, 932, 824),
        ]
        .into_iter()
        .map(|(fiscal_year, short_stay_days, day_care_days, families, tenths)| reconcile::PrintedFigures {
            venue_id,
            fiscal_year,
            short_stay_days,
            day_care_days,
            families,
            occupancy_tenths: Some(tenths),
        })
        .collect()
    }
}

/// A day as Japanese staff write it in a report's header: 令和元年5月1日,
/// 平成31年4月30日 (the era of the day itself, unlike a fiscal year's label,
/// which is the era of the year it starts in).
pub fn date_ja(day: Date) -> String {
    match Era::on(day) {
        Some(era) => {
            let n = era.year_of(i32::from(day.year()));
            let year = if n == 1 { "元".to_owned() } else { n.to_string() };
            format!("{}{year}年{}月{}日", era.name_ja(), day.month(), day.day())
        }
        None => format!("{}年{}月{}日", day.year(), day.month(), day.day()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn fy(y: i32) -> FiscalYear {
        FiscalYear::new(y).unwrap()
    }

    #[test]
    fn fiscal_year_boundaries_31_march_1_april() {
        // Every year the product labels, the day before and the day of 1 April.
        for y in 1901..=2998 {
            let march = date(i16::try_from(y).unwrap(), 3, 31);
            let april = date(i16::try_from(y).unwrap(), 4, 1);
            assert_eq!(FiscalYear::of(march).unwrap(), fy(y - 1), "{march}");
            assert_eq!(FiscalYear::of(april).unwrap(), fy(y), "{april}");
            assert!(Period::year(fy(y)).dates().contains(april));
            assert!(!Period::year(fy(y)).dates().contains(march));
        }
    }

    #[test]
    fn the_published_labels() {
        // [001] 利用実績 / 地域別利用者数; DOMAIN.md §8.
        assert_eq!(Period::year(fy(2018)).label_ja(), "平成30年度");
        assert_eq!(Period::year(fy(2019)).label_ja(), "令和元年度");
        assert_eq!(Period::year(fy(2022)).label_ja(), "令和4年度");
        assert_eq!(Period::year(fy(2022)).label_en(), "FY2022");
        assert_eq!(Period::year(fy(2022)).label_both(), "令和4年度（FY2022）");
        let p = Period::range(fy(2021), fy(2022)).unwrap();
        assert_eq!(p.label_ja(), "令和3年度〜令和4年度");
        assert_eq!(p.label_en(), "FY2021–FY2022");
        assert_eq!(p.years(), vec![fy(2021), fy(2022)]);
        assert_eq!(p.dates().first(), date(2021, 4, 1));
        assert_eq!(p.dates().last(), date(2023, 3, 31));
    }

    #[test]
    fn heisei_31_until_30_april_2019() {
        // FY2019 is 令和元年度 as a year, but its first month is still 平成31年.
        assert_eq!(date_ja(date(2019, 3, 31)), "平成31年3月31日");
        assert_eq!(date_ja(date(2019, 4, 1)), "平成31年4月1日");
        assert_eq!(date_ja(date(2019, 4, 30)), "平成31年4月30日");
        assert_eq!(date_ja(date(2019, 5, 1)), "令和元年5月1日");
        assert_eq!(date_ja(date(2019, 12, 31)), "令和元年12月31日");
        assert_eq!(date_ja(date(2020, 1, 1)), "令和2年1月1日");
        assert_eq!(date_ja(date(1989, 1, 7)), "昭和64年1月7日");
        assert_eq!(date_ja(date(1989, 1, 8)), "平成元年1月8日");
        for d in [date(2019, 4, 1), date(2019, 4, 30), date(2019, 5, 1), date(2020, 3, 31)] {
            assert_eq!(FiscalYear::of(d).unwrap(), fy(2019), "{d}");
            assert_eq!(FiscalYear::of(d).unwrap().label_ja(), "令和元年度", "{d}");
        }
        assert_eq!(FiscalYear::of(date(2019, 3, 31)).unwrap().label_ja(), "平成30年度");
        assert_eq!(FiscalYear::of(date(2020, 4, 1)).unwrap().label_ja(), "令和2年度");
        // 平成31年度 is still read as FY2019 (documents from before May 2019).
        assert_eq!(Period::parse("平成31年度", None).unwrap(), Period::year(fy(2019)));
    }

    #[test]
    fn periods_are_checked() {
        assert_eq!(Period::range(fy(2022), fy(2021)), Err(PeriodError::Reversed));
        assert_eq!(Period::range(fy(2000), fy(2019)).unwrap().years().len(), 20);
        assert_eq!(Period::range(fy(2000), fy(2020)), Err(PeriodError::TooLong));
        assert_eq!(Period::parse("H30", Some("令和4年度")).unwrap(), Period::range(fy(2018), fy(2022)).unwrap());
        assert_eq!(Period::parse("R4", Some("")).unwrap(), Period::year(fy(2022)));
        assert!(matches!(Period::parse("令和", None), Err(PeriodError::FiscalYear(_))));
        assert_eq!(Period::parse("R5", Some("R4")).unwrap_err().code(), "period_reversed");
    }
}
