//! Dates and times as every page shows them: a day with its weekday, in the
//! era where the reader expects it (令和8年12月6日(日); Sun 6 Dec 2026), a
//! moment in Japan time (stored instants are UTC: 2026-12-05T19:42:44Z is
//! the 6th at 04:42 in Japan), a baby's age (生後1か月11日) and the week of a
//! pregnancy (妊娠28週3日).
//!
//! The rules are the domain's: the era of a day (`reports::date_ja`, from
//! `fiscal::Era`), ages counted as the law counts them (`dates::age_on`),
//! gestational age from the EDD (`timeline::dates::gestational_age_on`), the
//! Japanese day (`clock::japan_date`). Here they only become words. Forms
//! keep ISO dates (`<input type="date">` wants them) and the API keeps
//! RFC 3339: this is for reading.
//!
//! Templates reach it through the page frame: `{{ chrome.date(p.edd) }}`,
//! `{{ chrome.stamp(r.raised_at) }}` (a test reads the templates so that no
//! date or instant is printed raw).

use crate::i18n::Lang;
use jiff::civil::{Date, Weekday};
use jiff::Timestamp;
use tsunagu_domain::clock::{japan_date, jst};
use tsunagu_domain::dates::{age_on, weekday_ja, DateRange};

/// A day, however a template holds it (askama hands a field over by
/// reference, and a loop's item by reference again).
pub trait AsDate {
    fn as_date(&self) -> Date;
}

impl AsDate for Date {
    fn as_date(&self) -> Date {
        *self
    }
}

impl<T: AsDate + ?Sized> AsDate for &T {
    fn as_date(&self) -> Date {
        (**self).as_date()
    }
}

/// An instant, however a template holds it.
pub trait AsInstant {
    fn as_instant(&self) -> Timestamp;
}

impl AsInstant for Timestamp {
    fn as_instant(&self) -> Timestamp {
        *self
    }
}

impl<T: AsInstant + ?Sized> AsInstant for &T {
    fn as_instant(&self) -> Timestamp {
        (**self).as_instant()
    }
}

/// A range of days, however a template holds it.
pub trait AsRange {
    fn as_range(&self) -> DateRange;
}

impl AsRange for DateRange {
    fn as_range(&self) -> DateRange {
        *self
    }
}

impl<T: AsRange + ?Sized> AsRange for &T {
    fn as_range(&self) -> DateRange {
        (**self).as_range()
    }
}

/// How a reader is shown days and times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dates {
    lang: Lang,
    /// Write Japanese dates in the era (令和8年) rather than the Western year.
    era: bool,
}

impl Dates {
    /// For a reader of `lang`; Japanese dates in the era unless `era` is false
    /// (the municipality's choice; English dates never carry the era).
    pub fn new(lang: Lang, era: bool) -> Self {
        Self { lang, era }
    }

    /// The default for a reader of `lang`: the era in Japanese.
    pub fn of(lang: Lang) -> Self {
        Self::new(lang, true)
    }

    /// A day with its weekday: 令和8年12月6日(日), 2026年12月6日(日), Sun 6 Dec 2026.
    pub fn date(&self, day: impl AsDate) -> String {
        let day = day.as_date();
        match self.lang {
            Lang::Ja if self.era => {
                format!("{}({})", tsunagu_domain::reports::date_ja(day), weekday_ja(day.weekday()))
            }
            Lang::Ja => format!("{}年{}月{}日({})", day.year(), day.month(), day.day(), weekday_ja(day.weekday())),
            Lang::En => format!("{} {} {} {}", weekday_en(day.weekday()), day.day(), month_en(day.month()), day.year()),
        }
    }

    /// A day in a list where the year goes without saying: 12月6日(日), Sun 6 Dec.
    pub fn day(&self, day: impl AsDate) -> String {
        let day = day.as_date();
        match self.lang {
            Lang::Ja => format!("{}月{}日({})", day.month(), day.day(), weekday_ja(day.weekday())),
            Lang::En => format!("{} {} {}", weekday_en(day.weekday()), day.day(), month_en(day.month())),
        }
    }

    /// A month: 令和8年12月 / 2026年12月 / December 2026 (`month` is 1–12).
    pub fn month(&self, year: i16, month: i8) -> String {
        let first = Date::new(year, month, 1).ok();
        match (self.lang, first) {
            (Lang::Ja, Some(first)) if self.era => {
                let full = tsunagu_domain::reports::date_ja(first);
                // 令和8年12月1日 → 令和8年12月
                full.strip_suffix("1日").map(str::to_owned).unwrap_or(full)
            }
            (Lang::Ja, _) => format!("{year}年{month}月"),
            (Lang::En, _) => format!("{} {year}", month_name_en(month)),
        }
    }

    /// An inclusive range of days: 12月6日(日)〜12月12日(土), with the year on the first.
    pub fn range(&self, r: impl AsRange) -> String {
        let r = r.as_range();
        if r.first() == r.last() {
            return self.date(r.first());
        }
        let last = if r.first().year() == r.last().year() { self.day(r.last()) } else { self.date(r.last()) };
        match self.lang {
            Lang::Ja => format!("{}〜{}", self.date(r.first()), last),
            Lang::En => format!("{} – {}", self.date(r.first()), last),
        }
    }

    /// A moment, in Japan time: 令和8年12月6日(日) 4:42 / Sun 6 Dec 2026 04:42.
    pub fn stamp(&self, at: impl AsInstant) -> String {
        let at = at.as_instant();
        format!("{} {}", self.date(japan_date(at)), self.time(at))
    }

    /// A moment's time of day in Japan: 04:42.
    pub fn time(&self, at: impl AsInstant) -> String {
        at.as_instant().to_zoned(jst()).strftime("%H:%M").to_string()
    }

    /// A baby's age on `today`: 生後1か月11日 / 1 month 11 days old;
    /// empty before the birth.
    pub fn age(&self, birth: impl AsDate, today: impl AsDate) -> String {
        let Some((months, days)) = age_on(birth.as_date(), today.as_date()) else {
            return String::new();
        };
        match self.lang {
            Lang::Ja if months == 0 => format!("生後{days}日"),
            Lang::Ja => format!("生後{months}か月{days}日"),
            Lang::En => {
                let m = if months == 1 { "1 month".to_owned() } else { format!("{months} months") };
                let d = if days == 1 { "1 day".to_owned() } else { format!("{days} days") };
                if months == 0 {
                    format!("{d} old")
                } else {
                    format!("{m} {d} old")
                }
            }
        }
    }

    /// The week of a pregnancy on `today`, from its EDD: 妊娠28週3日 /
    /// 28 weeks 3 days pregnant; empty before week 0.
    pub fn gestation(&self, edd: impl AsDate, today: impl AsDate) -> String {
        match tsunagu_domain::timeline::dates::gestational_age_on(edd.as_date(), today.as_date()) {
            None => String::new(),
            Some((w, d)) => match self.lang {
                Lang::Ja => format!("妊娠{w}週{d}日"),
                Lang::En => format!("{w} weeks {d} days pregnant"),
            },
        }
    }
}

fn weekday_en(w: Weekday) -> &'static str {
    match w {
        Weekday::Monday => "Mon",
        Weekday::Tuesday => "Tue",
        Weekday::Wednesday => "Wed",
        Weekday::Thursday => "Thu",
        Weekday::Friday => "Fri",
        Weekday::Saturday => "Sat",
        Weekday::Sunday => "Sun",
    }
}

fn month_en(m: i8) -> &'static str {
    const SHORT: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    usize::try_from(m).ok().and_then(|m| m.checked_sub(1)).and_then(|i| SHORT.get(i)).copied().unwrap_or("?")
}

fn month_name_en(m: i8) -> &'static str {
    const LONG: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    usize::try_from(m).ok().and_then(|m| m.checked_sub(1)).and_then(|i| LONG.get(i)).copied().unwrap_or("?")
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn ja() -> Dates {
        Dates::of(Lang::Ja)
    }

    #[test]
    fn a_day_carries_its_weekday_and_era() {
        assert_eq!(ja().date(date(2026, 12, 6)), "令和8年12月6日(日)");
        assert_eq!(Dates::new(Lang::Ja, false).date(date(2026, 12, 6)), "2026年12月6日(日)");
        assert_eq!(Dates::of(Lang::En).date(date(2026, 12, 6)), "Sun 6 Dec 2026");
        assert_eq!(ja().day(date(2026, 12, 6)), "12月6日(日)");
    }

    #[test]
    fn the_era_changes_on_1_may_2019() {
        assert_eq!(ja().date(date(2019, 4, 30)), "平成31年4月30日(火)");
        assert_eq!(ja().date(date(2019, 5, 1)), "令和元年5月1日(水)");
        assert_eq!(ja().month(2019, 4), "平成31年4月");
        assert_eq!(ja().month(2019, 5), "令和元年5月");
        assert_eq!(Dates::of(Lang::En).month(2019, 5), "May 2019");
        assert_eq!(Dates::of(Lang::En).date(date(2019, 5, 1)), "Wed 1 May 2019");
    }

    #[test]
    fn instants_are_read_in_japan_time() {
        // 15:00 UTC is midnight in Japan: the day changes there.
        let before: Timestamp = "2026-12-05T14:59:59Z".parse().unwrap();
        let at: Timestamp = "2026-12-05T15:00:00Z".parse().unwrap();
        assert_eq!(ja().stamp(before), "令和8年12月5日(土) 23:59");
        assert_eq!(ja().stamp(at), "令和8年12月6日(日) 00:00");
        let issue: Timestamp = "2026-12-05T19:42:44Z".parse().unwrap();
        assert_eq!(ja().stamp(issue), "令和8年12月6日(日) 04:42");
        assert_eq!(Dates::of(Lang::En).stamp(issue), "Sun 6 Dec 2026 04:42");
    }

    #[test]
    fn ranges_ages_and_weeks() {
        let r = DateRange::new(date(2026, 12, 6), date(2026, 12, 12)).unwrap();
        assert_eq!(ja().range(r), "令和8年12月6日(日)〜12月12日(土)");
        let across = DateRange::new(date(2026, 12, 30), date(2027, 1, 2)).unwrap();
        assert_eq!(ja().range(across), "令和8年12月30日(水)〜令和9年1月2日(土)");
        assert_eq!(ja().range(DateRange::single(date(2026, 12, 6))), "令和8年12月6日(日)");
        assert_eq!(ja().age(date(2026, 10, 25), date(2026, 12, 6)), "生後1か月11日");
        assert_eq!(ja().age(date(2026, 12, 1), date(2026, 12, 6)), "生後5日");
        assert_eq!(ja().age(date(2026, 12, 7), date(2026, 12, 6)), "");
        assert_eq!(Dates::of(Lang::En).age(date(2026, 10, 25), date(2026, 12, 6)), "1 month 11 days old");
        // EDD 40w0d; 84 days before it is 28w0d, so 81 days before is 28w3d.
        let edd = date(2027, 2, 25);
        assert_eq!(ja().gestation(edd, date(2026, 12, 6)), "妊娠28週3日");
        assert_eq!(Dates::of(Lang::En).gestation(edd, date(2026, 12, 6)), "28 weeks 3 days pregnant");
        assert_eq!(ja().gestation(edd, date(2026, 1, 1)), "");
    }
}
