//! Calendar helpers every rule shares: an inclusive range of days, weekdays
//! as stable strings, and ages in calendar months counted the way Japanese
//! law counts them.
//!
//! **Ages in months.** "Under 4 months" ([001] 産後４か月未満) and "the day
//! before the baby turns 5 months" ([000]) are periods counted in months
//! from the day of birth. Japanese law counts an age from the day of birth
//! itself (年齢計算ニ関スル法律) and ends a period of months on the day before
//! the corresponding day (応当日) of the last month, or — when that month
//! has no corresponding day — on that month's last day (民法第143条). So:
//!
//! - born 15 October: 4 months are complete at the end of 14 February; the
//!   baby "is 4 months" from 15 February; 14 February is the last day under 4;
//! - born 31 October: February has no 31st, so 4 months are complete at the
//!   end of February; 28 February (29 in a leap year) is the last day under 4,
//!   and the baby "is 4 months" from 1 March.
//!
//! Clamping arithmetic (31 Oct + 4 months = 28 Feb) would make the baby
//! 4 months old on 28 February and take one day from families born on the
//! 29th–31st; we follow the Civil Code instead. See [`day_reaching_months`].

use jiff::civil::{Date, Weekday};
use jiff::ToSpan;
use serde::{Deserialize, Serialize};

/// An inclusive range of days, `first ..= last`, never empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "RawDateRange")]
pub struct DateRange {
    first: Date,
    last: Date,
}

#[derive(Deserialize)]
struct RawDateRange {
    first: Date,
    last: Date,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DateRangeError {
    #[error("the last day {last} comes before the first day {first}")]
    Reversed { first: Date, last: Date },
}

impl TryFrom<RawDateRange> for DateRange {
    type Error = DateRangeError;
    fn try_from(raw: RawDateRange) -> Result<Self, Self::Error> {
        DateRange::new(raw.first, raw.last)
    }
}

impl DateRange {
    pub fn new(first: Date, last: Date) -> Result<Self, DateRangeError> {
        if last < first {
            return Err(DateRangeError::Reversed { first, last });
        }
        Ok(Self { first, last })
    }

    /// A range of one day.
    pub fn single(day: Date) -> Self {
        Self { first: day, last: day }
    }

    /// `days` days starting on `first` (a stay of 6 nights is 7 days);
    /// `None` when `days` is 0 or the range would leave the calendar.
    pub fn starting(first: Date, days: u32) -> Option<Self> {
        let extra = i64::from(days.checked_sub(1)?);
        let last = first.checked_add(extra.days()).ok()?;
        Some(Self { first, last })
    }

    pub fn first(&self) -> Date {
        self.first
    }

    pub fn last(&self) -> Date {
        self.last
    }

    pub fn contains(&self, day: Date) -> bool {
        self.first <= day && day <= self.last
    }

    /// How many days the range holds (at least 1).
    pub fn len_days(&self) -> u32 {
        let span = self.last - self.first;
        u32::try_from(span.get_days()).unwrap_or(0).saturating_add(1)
    }

    pub fn overlaps(&self, other: &DateRange) -> bool {
        self.first <= other.last && other.first <= self.last
    }

    /// Every day of the range in order.
    pub fn days(&self) -> impl Iterator<Item = Date> {
        let last = self.last;
        self.first.series(1.day()).take_while(move |d| *d <= last)
    }
}

impl std::fmt::Display for DateRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}..{}", self.first, self.last)
        }
    }
}

/// The first day on which someone born on `birth` is `months` months old,
/// counted as Japanese law counts ages (see the module documentation): the
/// corresponding day `months` later, or the 1st of the following month when
/// that month is too short to have one. Saturates at the end of the calendar.
///
/// Law: 年齢計算ニ関スル法律, 民法第143条. Seed: [001] 対象者: 産後４か月未満;
/// (３) 産後１年未満; [000] 受講日に5ヵ月になる前日まで.
pub fn day_reaching_months(birth: Date, months: i32) -> Date {
    let target = birth.saturating_add(months.months());
    if target.day() == birth.day() {
        target
    } else {
        // The month has no corresponding day: the period ends on its last day.
        target.last_of_month().saturating_add(1.day())
    }
}

/// The last day on which someone born on `birth` is still under `months`
/// months old: the day before [`day_reaching_months`].
///
/// Seed: [001] 対象者: 産後４か月未満 — "under" ends on this day.
pub fn last_day_under_months(birth: Date, months: i32) -> Date {
    day_reaching_months(birth, months).saturating_sub(1.day())
}

/// Stable lowercase codes for weekdays, as configuration and the API write them.
pub fn weekday_code(w: Weekday) -> &'static str {
    match w {
        Weekday::Monday => "mon",
        Weekday::Tuesday => "tue",
        Weekday::Wednesday => "wed",
        Weekday::Thursday => "thu",
        Weekday::Friday => "fri",
        Weekday::Saturday => "sat",
        Weekday::Sunday => "sun",
    }
}

/// One-character Japanese weekday labels (月 火 水 木 金 土 日).
pub fn weekday_ja(w: Weekday) -> &'static str {
    match w {
        Weekday::Monday => "月",
        Weekday::Tuesday => "火",
        Weekday::Wednesday => "水",
        Weekday::Thursday => "木",
        Weekday::Friday => "金",
        Weekday::Saturday => "土",
        Weekday::Sunday => "日",
    }
}

pub const WEEKDAYS: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

pub fn parse_weekday(s: &str) -> Option<Weekday> {
    WEEKDAYS.into_iter().find(|w| weekday_code(*w) == s)
}

/// Serde for a [`Weekday`] as its code (`"mon"`): `#[serde(with = "weekday_serde")]`.
pub mod weekday_serde {
    use super::{parse_weekday, weekday_code};
    use jiff::civil::Weekday;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(w: &Weekday, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(weekday_code(*w))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Weekday, D::Error> {
        let s = String::deserialize(d)?;
        parse_weekday(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown weekday {s:?}")))
    }
}

/// A set of weekdays (e.g. Mama's Room: Mon, Tue, Thu, Fri [001] 開所日).
/// Serialised as a list of codes: `["mon", "tue"]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct WeekdaySet(u8);

fn bit(w: Weekday) -> u8 {
    1u8 << w.to_monday_zero_offset()
}

impl WeekdaySet {
    pub const EMPTY: WeekdaySet = WeekdaySet(0);
    pub const ALL: WeekdaySet = WeekdaySet(0b111_1111);

    pub fn of(days: &[Weekday]) -> Self {
        Self(days.iter().fold(0, |acc, w| acc | bit(*w)))
    }

    pub fn contains(&self, w: Weekday) -> bool {
        self.0 & bit(w) != 0
    }

    pub fn with(self, w: Weekday) -> Self {
        Self(self.0 | bit(w))
    }

    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = Weekday> + '_ {
        WEEKDAYS.into_iter().filter(|w| self.contains(*w))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown weekday {0:?}; use mon, tue, wed, thu, fri, sat or sun")]
pub struct WeekdayError(pub String);

impl TryFrom<Vec<String>> for WeekdaySet {
    type Error = WeekdayError;
    fn try_from(v: Vec<String>) -> Result<Self, Self::Error> {
        v.iter().try_fold(WeekdaySet::EMPTY, |set, s| {
            parse_weekday(s.trim()).map(|w| set.with(w)).ok_or_else(|| WeekdayError(s.clone()))
        })
    }
}

impl From<WeekdaySet> for Vec<String> {
    fn from(set: WeekdaySet) -> Self {
        set.iter().map(|w| weekday_code(w).to_owned()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    #[test]
    fn ranges() {
        let r = DateRange::new(date(2026, 2, 27), date(2026, 3, 2)).unwrap();
        assert_eq!(r.len_days(), 4);
        assert_eq!(r.days().collect::<Vec<_>>().len(), 4);
        assert!(r.contains(date(2026, 3, 1)));
        assert!(!r.contains(date(2026, 3, 3)));
        assert!(DateRange::new(date(2026, 3, 2), date(2026, 3, 1)).is_err());
        assert_eq!(DateRange::starting(date(2026, 3, 1), 7).unwrap().last(), date(2026, 3, 7));
        assert_eq!(DateRange::starting(date(2026, 3, 1), 0), None);
        assert_eq!(DateRange::single(date(2026, 3, 1)).len_days(), 1);
        assert_eq!(r.to_string(), "2026-02-27..2026-03-02");
        let back: DateRange = serde_json::from_str(r#"{"first":"2026-02-27","last":"2026-03-02"}"#).unwrap();
        assert_eq!(back, r);
        assert!(serde_json::from_str::<DateRange>(r#"{"first":"2026-03-02","last":"2026-03-01"}"#).is_err());
    }

    #[test]
    fn months_on_ordinary_days() {
        // Born 15 Oct: 4 months old from 15 Feb; 14 Feb is the last day under.
        assert_eq!(day_reaching_months(date(2025, 10, 15), 4), date(2026, 2, 15));
        assert_eq!(last_day_under_months(date(2025, 10, 15), 4), date(2026, 2, 14));
        // Born 1 Mar: 4 months from 1 Jul, last day under 30 Jun.
        assert_eq!(last_day_under_months(date(2026, 3, 1), 4), date(2026, 6, 30));
    }

    #[test]
    fn months_at_month_end() {
        // Born 31 Oct: February has no 31st, so the period ends on its last day.
        assert_eq!(last_day_under_months(date(2025, 10, 31), 4), date(2026, 2, 28));
        assert_eq!(day_reaching_months(date(2025, 10, 31), 4), date(2026, 3, 1));
        assert_eq!(last_day_under_months(date(2023, 10, 31), 4), date(2024, 2, 29));
        assert_eq!(day_reaching_months(date(2023, 10, 31), 4), date(2024, 3, 1));
        // 30 Oct in a leap year: 4 months end on 29 Feb; in a common year on 28 Feb.
        assert_eq!(last_day_under_months(date(2023, 10, 30), 4), date(2024, 2, 29));
        assert_eq!(last_day_under_months(date(2025, 10, 30), 4), date(2026, 2, 28));
        // 29 Oct in a leap year has its corresponding day, 29 Feb.
        assert_eq!(day_reaching_months(date(2023, 10, 29), 4), date(2024, 2, 29));
        assert_eq!(last_day_under_months(date(2023, 10, 29), 4), date(2024, 2, 28));
        // Born 29 Feb: one year is reached on 1 Mar of a common year.
        assert_eq!(day_reaching_months(date(2024, 2, 29), 12), date(2025, 3, 1));
        assert_eq!(last_day_under_months(date(2024, 2, 29), 12), date(2025, 2, 28));
        // Born 31 Jan: one month later is 1 Mar (Feb has no 31st).
        assert_eq!(day_reaching_months(date(2026, 1, 31), 1), date(2026, 3, 1));
    }

    #[test]
    fn weekday_sets() {
        let s = WeekdaySet::of(&[Weekday::Monday, Weekday::Friday]);
        assert!(s.contains(Weekday::Monday) && !s.contains(Weekday::Tuesday));
        let v: Vec<String> = s.into();
        assert_eq!(v, vec!["mon", "fri"]);
        assert_eq!(WeekdaySet::try_from(v).unwrap(), s);
        assert_eq!(serde_json::to_string(&s).unwrap(), r#"["mon","fri"]"#);
        assert!(WeekdaySet::try_from(vec!["moon".to_owned()]).is_err());
        assert_eq!(WEEKDAYS.map(weekday_ja).concat(), "月火水木金土日");
    }

    proptest! {
        /// The month count is monotone, lands within the expected month (or
        /// the 1st of the next), and the last day under is the day before.
        #[test]
        fn months_are_sane(days in 0i32..40_000, months in 1i32..24) {
            let birth = date(1990, 1, 1).saturating_add(days.days());
            let reach = day_reaching_months(birth, months);
            let next = day_reaching_months(birth.saturating_add(1.day()), months);
            prop_assert!(reach <= next);
            prop_assert!(reach > birth);
            prop_assert_eq!(last_day_under_months(birth, months).saturating_add(1.day()), reach);
            let plain = birth.saturating_add(months.months());
            prop_assert!(reach == plain || reach == plain.last_of_month().saturating_add(1.day()));
        }
    }
}
