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
use jiff::{Span, ToSpan};
use serde::{Deserialize, Serialize};

/// An inclusive range of days, `first ..= last`, never empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
        let last = add_days(first, i64::from(days.checked_sub(1)?))?;
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
        u32::try_from(days_between(self.first, self.last)).unwrap_or(0).saturating_add(1)
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

/// `day` moved on by `days` (back when negative); `None` when that leaves
/// the calendar. Never panics, whatever the count: a count typed by a user
/// can be any number, and jiff's `days()` panics beyond its span limits.
pub fn add_days(day: Date, days: i64) -> Option<Date> {
    let span = Span::new().try_days(days).ok()?;
    day.checked_add(span).ok()
}

/// `day` moved on by `months` calendar months (clamping to the month's last
/// day, as jiff does), saturating at the ends of the calendar.
pub fn add_months_saturating(day: Date, months: i64) -> Date {
    match Span::new().try_months(months) {
        Ok(span) => day.saturating_add(span),
        Err(_) if months < 0 => Date::MIN,
        Err(_) => Date::MAX,
    }
}

/// The number of days from `from` to `to`: negative when `to` comes first.
pub fn days_between(from: Date, to: Date) -> i32 {
    // Between any two days of jiff's calendar (years -9999..=9999) there are
    // fewer days than a span holds, so `until` in days does not fail.
    from.until(to).map(|span| span.get_days()).unwrap_or(0)
}

/// How far around today a date typed into the service may lie: dates far
/// outside what the service deals with (a talk in the year 9999, an
/// incident in antiquity) are refused as input errors rather than stored
/// or computed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Horizon {
    /// Days before today still accepted.
    pub back_days: u32,
    /// Days after today still accepted.
    pub ahead_days: u32,
}

/// Why a date is outside its [`Horizon`]; `code` is the field error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OutsideHorizon {
    #[error("too far in the past")]
    TooEarly,
    #[error("too far ahead")]
    TooLate,
}

impl OutsideHorizon {
    pub fn code(self) -> &'static str {
        match self {
            OutsideHorizon::TooEarly => "date_too_early",
            OutsideHorizon::TooLate => "date_too_late",
        }
    }
}

impl Horizon {
    pub const fn new(back_days: u32, ahead_days: u32) -> Self {
        Self { back_days, ahead_days }
    }

    /// The first and last day accepted on `today` (saturating at the ends of the calendar).
    pub fn range(&self, today: Date) -> DateRange {
        let first = add_days(today, i64::from(self.back_days).saturating_neg()).unwrap_or(Date::MIN);
        let last = add_days(today, i64::from(self.ahead_days)).unwrap_or(Date::MAX);
        DateRange { first, last }
    }

    /// `day` if it lies within the horizon on `today`.
    pub fn check(&self, day: Date, today: Date) -> Result<Date, OutsideHorizon> {
        let range = self.range(today);
        if day < range.first() {
            Err(OutsideHorizon::TooEarly)
        } else if day > range.last() {
            Err(OutsideHorizon::TooLate)
        } else {
            Ok(day)
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
    let target = add_months_saturating(birth, i64::from(months));
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

/// A child's age on `day` as (complete months, days since the last month
/// day), counted as [`day_reaching_months`] counts (the law's way): born
/// 25 October, on 5 December the baby is 1 month and 10 days old
/// (生後1か月10日). `None` before the birth. Families read this on their own
/// page; the rules that decide use `day_reaching_months` itself.
pub fn age_on(birth: Date, day: Date) -> Option<(i32, i32)> {
    if day < birth {
        return None;
    }
    // A rough count from the calendar months, then moved to the exact one:
    // at most one step either way (bounded, so the calendar's end, where
    // the month count saturates, cannot keep it going).
    let years = i32::from(day.year()).saturating_sub(i32::from(birth.year()));
    let rough =
        years.saturating_mul(12).saturating_add(i32::from(day.month())).saturating_sub(i32::from(birth.month())).max(0);
    let mut months = rough;
    for _ in 0..2 {
        if months > 0 && day_reaching_months(birth, months) > day {
            months = months.saturating_sub(1);
        }
    }
    for _ in 0..2 {
        if day_reaching_months(birth, months.saturating_add(1)) <= day {
            months = months.saturating_add(1);
        }
    }
    let from = if months == 0 { birth } else { day_reaching_months(birth, months) };
    Some((months, days_between(from, day)))
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

    #[test]
    fn counts_beyond_the_calendar_are_none_not_a_panic() {
        let d = date(2026, 11, 22);
        // jiff's `days()` panics from 7,304,485 days on; ranges and moves give `None`.
        assert_eq!(DateRange::starting(d, 7_304_486), None);
        assert_eq!(DateRange::starting(d, u32::MAX), None);
        assert_eq!(add_days(d, i64::MAX), None);
        assert_eq!(add_days(d, i64::MIN), None);
        assert_eq!(add_days(d, -1), Some(date(2026, 11, 21)));
        assert_eq!(add_months_saturating(d, i64::MAX), Date::MAX);
        assert_eq!(add_months_saturating(d, i64::MIN), Date::MIN);
        assert_eq!(day_reaching_months(d, i32::MAX), Date::MAX);
        assert_eq!(days_between(Date::MIN, Date::MAX), 7_304_483);
        assert_eq!(days_between(Date::MAX, Date::MIN), -7_304_483);
        assert_eq!(DateRange::new(Date::MIN, Date::MAX).unwrap().len_days(), 7_304_484);
    }

    #[test]
    fn horizons() {
        let today = date(2026, 11, 22);
        let h = Horizon::new(1, 366);
        assert_eq!(h.check(date(2026, 11, 21), today), Ok(date(2026, 11, 21)));
        assert_eq!(h.check(date(2026, 11, 20), today), Err(OutsideHorizon::TooEarly));
        assert_eq!(h.check(date(2027, 11, 23), today), Ok(date(2027, 11, 23)));
        assert_eq!(h.check(date(9999, 12, 31), today), Err(OutsideHorizon::TooLate));
        assert_eq!(h.check(Date::MIN, today).map_err(|e| e.code()), Err("date_too_early"));
        // Near the ends of the calendar the horizon saturates.
        let wide = Horizon::new(u32::MAX, u32::MAX);
        assert_eq!(wide.range(today), DateRange::new(Date::MIN, Date::MAX).unwrap());
    }

    fn any_date() -> impl Strategy<Value = Date> {
        (0i64..=7_304_483).prop_map(|n| add_days(Date::MIN, n).unwrap())
    }

    proptest! {
        /// Any day and any count: the calendar helpers answer, never panic,
        /// and agree with each other.
        #[test]
        fn calendar_arithmetic_is_total(day in any_date(), n in any::<i64>(), days in any::<u32>(), months in any::<i32>()) {
            if let Some(moved) = add_days(day, n) {
                prop_assert_eq!(i64::from(days_between(day, moved)), n);
            }
            if let Some(r) = DateRange::starting(day, days) {
                prop_assert_eq!(r.len_days(), days);
                prop_assert_eq!(r.first(), day);
            }
            let _ = add_months_saturating(day, n);
            let _ = last_day_under_months(day, months);
            let h = Horizon::new(days, days);
            prop_assert_eq!(h.check(day, day), Ok(day));
        }

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

#[cfg(test)]
mod age_tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn ages_as_families_read_them() {
        let birth = date(2026, 10, 25);
        assert_eq!(age_on(birth, date(2026, 10, 24)), None);
        assert_eq!(age_on(birth, birth), Some((0, 0)));
        assert_eq!(age_on(birth, date(2026, 11, 24)), Some((0, 30)));
        assert_eq!(age_on(birth, date(2026, 11, 25)), Some((1, 0)));
        assert_eq!(age_on(birth, date(2026, 12, 6)), Some((1, 11)));
        // Born on the 31st: February has no 31st, so 1 month is reached on 1 March.
        let late = date(2027, 1, 31);
        assert_eq!(age_on(late, date(2027, 2, 28)), Some((0, 28)));
        assert_eq!(age_on(late, date(2027, 3, 1)), Some((1, 0)));
        assert_eq!(age_on(date(2024, 2, 29), date(2025, 3, 1)), Some((12, 0)));
    }

    proptest::proptest! {
        #[test]
        fn an_age_counts_back_to_the_birth(days in 0i32..40_000, after in 0i32..2_000) {
            use jiff::ToSpan;
            let birth = date(1990, 1, 1).saturating_add(days.days());
            let day = birth.saturating_add(after.days());
            let (m, d) = age_on(birth, day).unwrap_or((-1, -1));
            proptest::prop_assert!(m >= 0 && d >= 0);
            let reached = if m == 0 { birth } else { day_reaching_months(birth, m) };
            proptest::prop_assert!(reached <= day);
            proptest::prop_assert!(day_reaching_months(birth, m.saturating_add(1)) > day);
            proptest::prop_assert_eq!(days_between(reached, day), d);
        }
    }
}
