//! Calendar arithmetic for the timeline: gestational weeks from the EDD, ages
//! in months the way Japanese law counts them, corrected age, the working week.
//!
//! Every function saturates at the ends of the calendar instead of failing;
//! real dates are nowhere near them.

use jiff::civil::Date;
use jiff::ToSpan;

/// Days of a full-term pregnancy: the EDD is 40 weeks 0 days.
pub const TERM_DAYS: i32 = 280;

/// The first day of gestational week `week` (week N is N+0 … N+6 days):
/// the EDD is 40w0d, so week N starts `(40 − N) × 7` days before it.
pub fn gestational_week_start(edd: Date, week: u8) -> Date {
    // A u8 week gives at most (255 − 40) × 7 days: far inside a span.
    let weeks_from_term = i64::from(week).saturating_sub(40);
    crate::dates::add_days(edd, weeks_from_term.saturating_mul(7)).unwrap_or(if weeks_from_term < 0 {
        Date::MIN
    } else {
        Date::MAX
    })
}

/// The last day of gestational week `week` (N+6 days).
pub fn gestational_week_end(edd: Date, week: u8) -> Date {
    gestational_week_start(edd, week).saturating_add(6.days())
}

/// The gestational age on `day` as (weeks, days); `None` before week 0.
pub fn gestational_age_on(edd: Date, day: Date) -> Option<(i32, i32)> {
    let since_start = crate::dates::days_between(edd.saturating_sub(TERM_DAYS.days()), day);
    (since_start >= 0).then_some((since_start / 7, since_start % 7))
}

/// The day a child born on `birth` turns `months` months old.
///
/// Counted as Japanese law counts ages (年齢計算ニ関スル法律; 民法143条): the
/// birth day is the first day, and a period in months ends at the end of the
/// day before the same day-of-month `months` later — or, when that month has
/// no such day, at the end of its last day. The child is `months` old from
/// the next day. So a baby born 15 January turns 5 months on 15 June, and one
/// born 31 January turns 1 month on 1 March (February has no 31st; the period
/// ended with 28 February). Calendar libraries that clamp (31 Jan + 1 month =
/// 28 Feb) would make the last eligible day one day early.
pub fn turns_months(birth: Date, months: u16) -> Date {
    let target = birth.first_of_month().saturating_add(i32::from(months).months());
    let day = i32::from(birth.day());
    if day <= i32::from(target.days_in_month()) {
        target.saturating_add(day.saturating_sub(1).days())
    } else {
        target.last_of_month().saturating_add(1.day())
    }
}

/// The last day a child born on `birth` is still under `months` months:
/// the day before it turns `months` ([000] 5ヵ月になる前日).
pub fn last_day_under_months(birth: Date, months: u16) -> Date {
    turns_months(birth, months).saturating_sub(1.day())
}

/// The birth date from which a baby's corrected age (修正月齢) counts: the day
/// it would have been born at 40 weeks. A baby born at or after term is not
/// corrected.
pub fn corrected_birth_date(birth: Date, gestational_weeks: u8, gestational_days: u8) -> Date {
    let born_at = i32::from(gestational_weeks).saturating_mul(7).saturating_add(i32::from(gestational_days.min(6)));
    birth.saturating_add(TERM_DAYS.saturating_sub(born_at).max(0).days())
}

/// The working week containing `day`: Monday to Sunday. Japanese wall
/// calendars often start on Sunday, but offices count the week from Monday
/// (ISO 8601, JIS X 0301), and "due this week" is an office list.
pub fn week_of(day: Date) -> (Date, Date) {
    let monday = day.saturating_sub(i32::from(day.weekday().to_monday_zero_offset()).days());
    (monday, monday.saturating_add(6.days()))
}

/// The first and last day of the calendar month after the one containing `day`.
pub fn next_month(day: Date) -> (Date, Date) {
    let first = day.first_of_month().saturating_add(1.month());
    (first, first.last_of_month())
}
