//! Fiscal years (年度): April to March, named after the calendar year they
//! start in (FY2022 = 1 April 2022 – 31 March 2023), and written by
//! Japanese staff with the era (令和4年度). Every figure municipalities
//! report is per fiscal year (DOMAIN.md §8; [001] 利用実績 uses 平成30, 平成31,
//! 令和2 … 令和4).

use crate::dates::DateRange;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A fiscal year, April to March, identified by the calendar year it starts
/// in. The only ways in are [`FiscalYear::new`], [`FiscalYear::of`] and
/// [`FiscalYear::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i32", into = "i32")]
pub struct FiscalYear(i32);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FiscalYearError {
    #[error("fiscal year {0} is outside {min}..={max}", min = FiscalYear::MIN_YEAR, max = FiscalYear::MAX_YEAR)]
    OutOfRange(i32),
    #[error("not a fiscal year: {0:?} (write FY2022, 2022年度 or 令和4年度)")]
    Unparsable(String),
    #[error("{0:?} names an era year outside that era")]
    NotInEra(String),
}

impl TryFrom<i32> for FiscalYear {
    type Error = FiscalYearError;
    fn try_from(year: i32) -> Result<Self, Self::Error> {
        FiscalYear::new(year)
    }
}

impl From<FiscalYear> for i32 {
    fn from(fy: FiscalYear) -> i32 {
        fy.0
    }
}

/// A Japanese era (元号) from Meiji on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Era {
    Meiji,
    Taisho,
    Showa,
    Heisei,
    Reiwa,
}

impl Era {
    pub const ALL: [Era; 5] = [Era::Meiji, Era::Taisho, Era::Showa, Era::Heisei, Era::Reiwa];

    /// The era's name as written: 明治, 大正, 昭和, 平成, 令和.
    pub fn name_ja(self) -> &'static str {
        match self {
            Era::Meiji => "明治",
            Era::Taisho => "大正",
            Era::Showa => "昭和",
            Era::Heisei => "平成",
            Era::Reiwa => "令和",
        }
    }

    /// The romanised initial staff use in short forms (R4, H30).
    pub fn initial(self) -> char {
        match self {
            Era::Meiji => 'M',
            Era::Taisho => 'T',
            Era::Showa => 'S',
            Era::Heisei => 'H',
            Era::Reiwa => 'R',
        }
    }

    /// The first day of the era. Meiji counts its year 1 from 1 January 1868.
    pub fn first_day(self) -> Date {
        match self {
            Era::Meiji => Date::constant(1868, 1, 1),
            Era::Taisho => Date::constant(1912, 7, 30),
            Era::Showa => Date::constant(1926, 12, 25),
            Era::Heisei => Date::constant(1989, 1, 8),
            Era::Reiwa => Date::constant(2019, 5, 1),
        }
    }

    fn next(self) -> Option<Era> {
        match self {
            Era::Meiji => Some(Era::Taisho),
            Era::Taisho => Some(Era::Showa),
            Era::Showa => Some(Era::Heisei),
            Era::Heisei => Some(Era::Reiwa),
            Era::Reiwa => None,
        }
    }

    /// The era in force on `day`, if it is on or after 1 January 1868.
    pub fn on(day: Date) -> Option<Era> {
        Era::ALL.into_iter().rev().find(|e| e.first_day() <= day)
    }

    /// Is the era in force on some day of `range`?
    fn in_force_during(self, range: DateRange) -> bool {
        let starts_in_time = self.first_day() <= range.last();
        let ends_in_time = self.next().is_none_or(|n| n.first_day() > range.first());
        starts_in_time && ends_in_time
    }

    /// The era year (1 = 元年) of calendar year `year` in this era.
    pub fn year_of(self, year: i32) -> i32 {
        year.saturating_sub(i32::from(self.first_day().year())).saturating_add(1)
    }
}

impl FiscalYear {
    /// The earliest fiscal year the product names (Meiji 33).
    pub const MIN_YEAR: i32 = 1900;
    /// The latest fiscal year the product names.
    pub const MAX_YEAR: i32 = 2999;

    pub fn new(year: i32) -> Result<Self, FiscalYearError> {
        if (Self::MIN_YEAR..=Self::MAX_YEAR).contains(&year) {
            Ok(Self(year))
        } else {
            Err(FiscalYearError::OutOfRange(year))
        }
    }

    /// The fiscal year a day belongs to: April–December belong to the
    /// fiscal year of their calendar year, January–March to the one before.
    pub fn of(day: Date) -> Result<Self, FiscalYearError> {
        let y = i32::from(day.year());
        Self::new(if day.month() >= 4 { y } else { y.saturating_sub(1) })
    }

    /// The calendar year the fiscal year starts in (2022 for FY2022).
    pub fn year(self) -> i32 {
        self.0
    }

    fn date(year: i32, month: i8, day: i8) -> Date {
        // Every year in MIN_YEAR..=MAX_YEAR + 1 is a valid i16 year for jiff.
        i16::try_from(year).ok().and_then(|y| Date::new(y, month, day).ok()).unwrap_or(Date::MIN)
    }

    /// 1 April.
    pub fn start(self) -> Date {
        Self::date(self.0, 4, 1)
    }

    /// 31 March of the next calendar year.
    pub fn end(self) -> Date {
        Self::date(self.0.saturating_add(1), 3, 31)
    }

    pub fn range(self) -> DateRange {
        DateRange::new(self.start(), self.end()).unwrap_or(DateRange::single(self.start()))
    }

    /// 366 when the February inside it has 29 days (FY2019 includes 29 Feb 2020), else 365.
    pub fn days(self) -> u32 {
        self.range().len_days()
    }

    pub fn contains(self, day: Date) -> bool {
        self.range().contains(day)
    }

    /// Every day of the fiscal year in order.
    pub fn dates(self) -> impl Iterator<Item = Date> {
        self.range().days()
    }

    pub fn following(self) -> Result<Self, FiscalYearError> {
        Self::new(self.0.saturating_add(1))
    }

    pub fn preceding(self) -> Result<Self, FiscalYearError> {
        Self::new(self.0.saturating_sub(1))
    }

    /// The era a fiscal year is written in, and its era year.
    ///
    /// A fiscal year is named after the calendar year it starts in, and that
    /// calendar year is written in the era of the greater part of it — the
    /// era in force on 1 July. This gives what staff write for the four era
    /// changes since 1900: FY1912 明治45年度, FY1926 大正15年度, FY1989
    /// 平成元年度, and FY2019 令和元年度 (the new era started on 1 May 2019;
    /// documents from before then say 平成31年度, which [`FiscalYear::parse`]
    /// accepts, but the current form is 令和元年度, as in [001] 利用実績
    /// where later tables say 令和2, 令和3 …).
    pub fn era(self) -> (Era, i32) {
        let mid_year = Self::date(self.0, 7, 1);
        let era = Era::on(mid_year).unwrap_or(Era::Meiji);
        (era, era.year_of(self.0))
    }

    /// The label as Japanese staff write it: 平成30年度, 令和元年度, 令和4年度.
    ///
    /// Seed: [001] 利用実績 年度: 平成30, 平成31, 令和2, 令和3, 令和4 (the seed's
    /// table itself still says 平成31 for FY2019; we give 令和元).
    pub fn label_ja(self) -> String {
        let (era, n) = self.era();
        if n == 1 {
            format!("{}元年度", era.name_ja())
        } else {
            format!("{}{n}年度", era.name_ja())
        }
    }

    /// The English label: FY2022.
    pub fn label_en(self) -> String {
        format!("FY{}", self.0)
    }

    /// Reads a fiscal year as staff and the API write it: `FY2022`, `2022`,
    /// `2022年度`, `令和4年度`, `令和元年度`, `平成31年度`, `R4`, `Ｒ４年度`
    /// (full-width letters and digits are accepted). An era year counts
    /// only if the era was in force on some day of that fiscal year, so
    /// 平成31年度 is FY2019 but 平成32年度 and 昭和64年度 are refused.
    pub fn parse(s: &str) -> Result<Self, FiscalYearError> {
        let unparsable = || FiscalYearError::Unparsable(s.to_owned());
        let normal: String = s.trim().chars().map(to_half_width).collect();
        let body = normal.strip_suffix("年度").unwrap_or(&normal);
        let body = body.strip_prefix("FY").or_else(|| body.strip_prefix("fy")).unwrap_or(body);
        if let Ok(year) = body.parse::<i32>() {
            if body.len() == 4 {
                return Self::new(year);
            }
            return Err(unparsable());
        }
        let (era, rest) = Era::ALL
            .into_iter()
            .find_map(|e| {
                body.strip_prefix(e.name_ja())
                    .or_else(|| body.strip_prefix(e.initial()))
                    .or_else(|| body.strip_prefix(e.initial().to_ascii_lowercase()))
                    .map(|rest| (e, rest))
            })
            .ok_or_else(unparsable)?;
        let rest = rest.strip_suffix('年').unwrap_or(rest);
        let n: i32 = if rest == "元" {
            1
        } else if !rest.is_empty() && rest.len() <= 3 && rest.bytes().all(|b| b.is_ascii_digit()) {
            rest.parse().map_err(|_| unparsable())?
        } else {
            return Err(unparsable());
        };
        if n < 1 {
            return Err(FiscalYearError::NotInEra(s.to_owned()));
        }
        let fy = Self::new(i32::from(era.first_day().year()).saturating_add(n).saturating_sub(1))?;
        if era.in_force_during(fy.range()) {
            Ok(fy)
        } else {
            Err(FiscalYearError::NotInEra(s.to_owned()))
        }
    }
}

fn to_half_width(c: char) -> char {
    match c {
        '０'..='９' | 'Ａ'..='Ｚ' | 'ａ'..='ｚ' => {
            // The full-width forms are the ASCII ones moved by a fixed offset.
            (u32::from(c).checked_sub(u32::from('０')))
                .and_then(|offset| offset.checked_add(u32::from('0')))
                .and_then(char::from_u32)
                .unwrap_or(c)
        }
        _ => c,
    }
}

impl fmt::Display for FiscalYear {
    /// `FY2022`; use [`FiscalYear::label_ja`] for Japanese pages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FY{}", self.0)
    }
}

/// The first day of the fiscal year after the one containing `day`.
pub fn next_fiscal_year_start(day: Date) -> Result<Date, FiscalYearError> {
    Ok(FiscalYear::of(day)?.following()?.start())
}

/// The number of days from `day` to the end of its fiscal year, inclusive.
pub fn days_left_in_fiscal_year(day: Date) -> Result<u32, FiscalYearError> {
    let end = FiscalYear::of(day)?.end();
    Ok(u32::try_from(crate::dates::days_between(day, end)).unwrap_or(0).saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use jiff::ToSpan;
    use proptest::prelude::*;

    fn fy(y: i32) -> FiscalYear {
        FiscalYear::new(y).unwrap()
    }

    #[test]
    fn april_to_march() {
        assert_eq!(FiscalYear::of(date(2022, 4, 1)).unwrap(), fy(2022));
        assert_eq!(FiscalYear::of(date(2022, 3, 31)).unwrap(), fy(2021));
        assert_eq!(FiscalYear::of(date(2023, 3, 31)).unwrap(), fy(2022));
        assert_eq!(FiscalYear::of(date(2022, 12, 31)).unwrap(), fy(2022));
        assert_eq!(FiscalYear::of(date(2023, 1, 1)).unwrap(), fy(2022));
        assert_eq!(fy(2022).start(), date(2022, 4, 1));
        assert_eq!(fy(2022).end(), date(2023, 3, 31));
    }

    #[test]
    fn leap_days_fall_in_the_fiscal_year_before() {
        // [001] 利用実績: FY2019 (平成31) includes 29 Feb 2020.
        assert_eq!(fy(2019).days(), 366);
        assert!(fy(2019).contains(date(2020, 2, 29)));
        assert_eq!(fy(2018).days(), 365);
        assert_eq!(fy(2020).days(), 365);
        assert_eq!(fy(2023).days(), 366);
        assert_eq!(fy(2099).days(), 365); // 2100 is not a leap year
        assert_eq!(fy(2019).dates().count(), 366);
        assert_eq!(fy(2019).dates().next(), Some(date(2019, 4, 1)));
        assert_eq!(fy(2019).dates().last(), Some(date(2020, 3, 31)));
    }

    #[test]
    fn era_labels_as_staff_write_them() {
        assert_eq!(fy(2018).label_ja(), "平成30年度");
        assert_eq!(fy(2019).label_ja(), "令和元年度");
        assert_eq!(fy(2020).label_ja(), "令和2年度");
        assert_eq!(fy(2022).label_ja(), "令和4年度");
        assert_eq!(fy(2025).label_ja(), "令和7年度");
        assert_eq!(fy(1988).label_ja(), "昭和63年度");
        assert_eq!(fy(1989).label_ja(), "平成元年度");
        assert_eq!(fy(1926).label_ja(), "大正15年度");
        assert_eq!(fy(1927).label_ja(), "昭和2年度");
        assert_eq!(fy(1912).label_ja(), "明治45年度");
        assert_eq!(fy(2022).label_en(), "FY2022");
        assert_eq!(fy(2022).to_string(), "FY2022");
    }

    #[test]
    fn parsing() {
        for (s, y) in [
            ("FY2022", 2022),
            ("fy2022", 2022),
            ("2022", 2022),
            ("2022年度", 2022),
            ("令和4年度", 2022),
            ("令和４年度", 2022),
            ("令和元年度", 2019),
            ("平成31年度", 2019),
            ("平成30年度", 2018),
            ("平成30", 2018),
            ("H30", 2018),
            ("R4", 2022),
            ("Ｒ4年度", 2022),
            ("Ｒ２", 2020),
            ("r7年度", 2025),
            ("昭和63年度", 1988),
            ("平成元年度", 1989),
            ("大正元年度", 1912),
            ("明治45年度", 1912),
            (" 令和7年度 ", 2025),
        ] {
            assert_eq!(FiscalYear::parse(s), Ok(fy(y)), "{s}");
        }
        for s in ["平成32年度", "昭和64年度", "令和0年度", "平成0年度", "大正16年度"] {
            assert!(matches!(FiscalYear::parse(s), Err(FiscalYearError::NotInEra(_))), "{s}");
        }
        for s in ["", "FY", "22", "令和", "令和X年度", "西暦2022年度", "FY20222", "R-1"] {
            assert!(FiscalYear::parse(s).is_err(), "{s}");
        }
        assert_eq!(FiscalYear::parse("1899"), Err(FiscalYearError::OutOfRange(1899)));
    }

    #[test]
    fn range_limits() {
        assert!(FiscalYear::new(1899).is_err());
        assert!(FiscalYear::new(3000).is_err());
        assert_eq!(fy(2999).end(), date(3000, 3, 31));
        assert!(fy(2999).following().is_err());
        assert!(FiscalYear::of(date(1900, 3, 31)).is_err());
        assert_eq!(fy(2022).following().unwrap(), fy(2023));
        assert_eq!(fy(2022).preceding().unwrap(), fy(2021));
        assert_eq!(next_fiscal_year_start(date(2023, 3, 31)).unwrap(), date(2023, 4, 1));
        assert_eq!(days_left_in_fiscal_year(date(2023, 3, 31)).unwrap(), 1);
        assert_eq!(days_left_in_fiscal_year(date(2019, 4, 1)).unwrap(), 366);
    }

    #[test]
    fn serde_is_the_year() {
        assert_eq!(serde_json::to_string(&fy(2022)).unwrap(), "2022");
        assert_eq!(serde_json::from_str::<FiscalYear>("2019").unwrap(), fy(2019));
        assert!(serde_json::from_str::<FiscalYear>("99999").is_err());
    }

    proptest! {
        /// Every day belongs to exactly the fiscal year whose range holds it,
        /// and the labels round-trip through parse.
        #[test]
        fn of_and_contains_agree(days in 0i32..(200 * 366)) {
            let day = date(1901, 4, 1).saturating_add(days.days());
            let f = FiscalYear::of(day).unwrap();
            prop_assert!(f.contains(day));
            prop_assert!(f.start() <= day && day <= f.end());
            prop_assert!(!f.preceding().unwrap().contains(day));
            prop_assert_eq!(FiscalYear::parse(&f.label_ja()), Ok(f));
            prop_assert_eq!(FiscalYear::parse(&f.label_en()), Ok(f));
            prop_assert!(f.days() == 365 || f.days() == 366);
        }

        /// Whatever is typed or whatever day it is: an answer, never a panic.
        #[test]
        fn any_text_or_day_is_answered(s in "\\PC{0,12}", n in 0i64..=7_304_483) {
            let _ = FiscalYear::parse(&s);
            let _ = FiscalYear::parse(&format!("令和{}年度", s));
            let day = crate::dates::add_days(Date::MIN, n).unwrap();
            let _ = FiscalYear::of(day);
            let _ = next_fiscal_year_start(day);
            let _ = days_left_in_fiscal_year(day);
            let _ = Era::on(day);
            let _ = crate::holidays::holiday(day);
        }
    }
}
