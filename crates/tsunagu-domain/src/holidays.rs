//! Japanese public holidays (国民の祝日 and the other days the Act on
//! National Holidays makes rest days), as a pure function of the date.
//!
//! Facilities may close on them ([001] 開所日 lists opening days; the
//! calendar module makes "closed on public holidays" an option), and
//! reports count open days.
//!
//! Valid for 2000–2099 under the Act on National Holidays (国民の祝日に関する
//! 法律) as amended:
//!
//! - Happy Monday: Coming-of-Age Day and Health-and-Sports Day from 2000,
//!   Marine Day and Respect-for-the-Aged Day from 2003;
//! - 29 April is Greenery Day until 2006 and Shōwa Day from 2007, when
//!   Greenery Day moved to 4 May;
//! - Mountain Day (11 August) from 2016;
//! - the Emperor's Birthday is 23 December until 2018, absent in 2019 and
//!   23 February from 2020; Health-and-Sports Day is renamed Sports Day in 2020;
//! - the 2019 enthronement: 1 May and 22 October 2019 were holidays by a
//!   special act that treated them as national holidays, which made 30 April
//!   and 2 May 2019 citizens' holidays;
//! - the Olympic moves: 2020 Marine Day 23 July, Sports Day 24 July,
//!   Mountain Day 10 August; 2021 Marine Day 22 July, Sports Day 23 July,
//!   Mountain Day 8 August (a Sunday, so 9 August was a substitute holiday);
//! - the vernal and autumnal equinox days are fixed each February by
//!   government announcement; we use the standard approximation formula
//!   (valid 1980–2099), which agrees with every announcement so far. Dates
//!   after the latest announcement are therefore predictions;
//! - substitute holidays (振替休日): until 2006 the Monday after a holiday
//!   on Sunday; from 2007 the first following day that is not a holiday;
//! - citizens' holidays (国民の休日): a day that is not a holiday itself but
//!   lies between two national holidays (until 2006 not on a Sunday).
//!
//! Outside 2000–2099 the same rules are simply extended; they are not
//! history there.

use jiff::civil::{Date, Weekday};
use jiff::ToSpan;
use serde::Serialize;

/// Which holiday a day is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Holiday {
    /// 元日, 1 January.
    NewYearsDay,
    /// 成人の日, second Monday of January.
    ComingOfAgeDay,
    /// 建国記念の日, 11 February.
    NationalFoundationDay,
    /// 天皇誕生日: 23 December until 2018, 23 February from 2020.
    EmperorsBirthday,
    /// 春分の日.
    VernalEquinoxDay,
    /// 昭和の日, 29 April from 2007.
    ShowaDay,
    /// みどりの日: 29 April until 2006, 4 May from 2007.
    GreeneryDay,
    /// 憲法記念日, 3 May.
    ConstitutionMemorialDay,
    /// こどもの日, 5 May.
    ChildrensDay,
    /// 海の日.
    MarineDay,
    /// 山の日, from 2016.
    MountainDay,
    /// 敬老の日.
    RespectForTheAgedDay,
    /// 秋分の日.
    AutumnalEquinoxDay,
    /// 体育の日, until 2019.
    HealthAndSportsDay,
    /// スポーツの日, from 2020.
    SportsDay,
    /// 文化の日, 3 November.
    CultureDay,
    /// 勤労感謝の日, 23 November.
    LabourThanksgivingDay,
    /// 天皇の即位の日, 1 May 2019.
    EnthronementDay,
    /// 即位礼正殿の儀の行われる日, 22 October 2019.
    EnthronementCeremonyDay,
    /// 振替休日.
    SubstituteHoliday,
    /// 国民の休日.
    CitizensHoliday,
}

impl Holiday {
    pub fn name_ja(self) -> &'static str {
        match self {
            Holiday::NewYearsDay => "元日",
            Holiday::ComingOfAgeDay => "成人の日",
            Holiday::NationalFoundationDay => "建国記念の日",
            Holiday::EmperorsBirthday => "天皇誕生日",
            Holiday::VernalEquinoxDay => "春分の日",
            Holiday::ShowaDay => "昭和の日",
            Holiday::GreeneryDay => "みどりの日",
            Holiday::ConstitutionMemorialDay => "憲法記念日",
            Holiday::ChildrensDay => "こどもの日",
            Holiday::MarineDay => "海の日",
            Holiday::MountainDay => "山の日",
            Holiday::RespectForTheAgedDay => "敬老の日",
            Holiday::AutumnalEquinoxDay => "秋分の日",
            Holiday::HealthAndSportsDay => "体育の日",
            Holiday::SportsDay => "スポーツの日",
            Holiday::CultureDay => "文化の日",
            Holiday::LabourThanksgivingDay => "勤労感謝の日",
            Holiday::EnthronementDay => "天皇の即位の日",
            Holiday::EnthronementCeremonyDay => "即位礼正殿の儀の行われる日",
            Holiday::SubstituteHoliday => "振替休日",
            Holiday::CitizensHoliday => "国民の休日",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Holiday::NewYearsDay => "New Year's Day",
            Holiday::ComingOfAgeDay => "Coming of Age Day",
            Holiday::NationalFoundationDay => "National Foundation Day",
            Holiday::EmperorsBirthday => "The Emperor's Birthday",
            Holiday::VernalEquinoxDay => "Vernal Equinox Day",
            Holiday::ShowaDay => "Shōwa Day",
            Holiday::GreeneryDay => "Greenery Day",
            Holiday::ConstitutionMemorialDay => "Constitution Memorial Day",
            Holiday::ChildrensDay => "Children's Day",
            Holiday::MarineDay => "Marine Day",
            Holiday::MountainDay => "Mountain Day",
            Holiday::RespectForTheAgedDay => "Respect for the Aged Day",
            Holiday::AutumnalEquinoxDay => "Autumnal Equinox Day",
            Holiday::HealthAndSportsDay => "Health and Sports Day",
            Holiday::SportsDay => "Sports Day",
            Holiday::CultureDay => "Culture Day",
            Holiday::LabourThanksgivingDay => "Labour Thanksgiving Day",
            Holiday::EnthronementDay => "Enthronement Day",
            Holiday::EnthronementCeremonyDay => "Enthronement Ceremony Day",
            Holiday::SubstituteHoliday => "Substitute holiday",
            Holiday::CitizensHoliday => "Citizens' holiday",
        }
    }
}

/// Year from which the 2005 amendment applies: Shōwa Day, Greenery Day on
/// 4 May, substitute holidays after runs of holidays, citizens' holidays on
/// any day.
const AMENDMENT_2007: i16 = 2007;

fn nth_monday(year: i16, month: i8, nth: i8) -> Option<Date> {
    Date::new(year, month, 1).ok()?.nth_weekday_of_month(nth, Weekday::Monday).ok()
}

/// Day of March of the vernal equinox, by the standard approximation
/// `floor(20.8431 + 0.242194 (Y − 1980) − floor((Y − 1980) / 4))`, in
/// integer millionths so that no floating point is involved.
pub fn vernal_equinox_day(year: i16) -> i8 {
    equinox(year, 20_843_100)
}

/// Day of September of the autumnal equinox, by
/// `floor(23.2488 + 0.242194 (Y − 1980) − floor((Y − 1980) / 4))`.
pub fn autumnal_equinox_day(year: i16) -> i8 {
    equinox(year, 23_248_800)
}

fn equinox(year: i16, base_millionths: i64) -> i8 {
    // i16 years keep every term far inside i64; checked all the same.
    let n = i64::from(year).saturating_sub(1980);
    let v = 242_194i64
        .checked_mul(n)
        .and_then(|a| a.checked_add(base_millionths))
        .and_then(|a| a.checked_sub(n.div_euclid(4).checked_mul(1_000_000)?));
    v.and_then(|v| i8::try_from(v.div_euclid(1_000_000)).ok()).unwrap_or(20)
}

/// The national holiday (国民の祝日, or a day a special act treats as one)
/// falling on `day`, before substitute and citizens' holidays are added.
///
/// Law (no seed): 国民の祝日に関する法律 第2条 as amended, and the special acts of
/// 2018 (enthronement) and 2020 (Olympic moves).
pub fn national_holiday(day: Date) -> Option<Holiday> {
    let (y, m, d) = (day.year(), day.month(), day.day());
    let is = |month: i8, nth: i8| m == month && nth_monday(y, month, nth) == Some(day);
    let h = match (m, d) {
        (1, 1) => Holiday::NewYearsDay,
        (1, _) if is(1, 2) => Holiday::ComingOfAgeDay,
        (2, 11) => Holiday::NationalFoundationDay,
        (2, 23) if y >= 2020 => Holiday::EmperorsBirthday,
        (3, _) if d == vernal_equinox_day(y) => Holiday::VernalEquinoxDay,
        (4, 29) if y >= AMENDMENT_2007 => Holiday::ShowaDay,
        (4, 29) => Holiday::GreeneryDay,
        (5, 1) if y == 2019 => Holiday::EnthronementDay,
        (5, 3) => Holiday::ConstitutionMemorialDay,
        (5, 4) if y >= AMENDMENT_2007 => Holiday::GreeneryDay,
        (5, 5) => Holiday::ChildrensDay,
        (7, 23) if y == 2020 => Holiday::MarineDay,
        (7, 24) if y == 2020 => Holiday::SportsDay,
        (7, 22) if y == 2021 => Holiday::MarineDay,
        (7, 23) if y == 2021 => Holiday::SportsDay,
        (7, 20) if y < 2003 => Holiday::MarineDay,
        (7, _) if y >= 2003 && y != 2020 && y != 2021 && is(7, 3) => Holiday::MarineDay,
        (8, 10) if y == 2020 => Holiday::MountainDay,
        (8, 8) if y == 2021 => Holiday::MountainDay,
        (8, 11) if y >= 2016 && y != 2020 && y != 2021 => Holiday::MountainDay,
        (9, 15) if y < 2003 => Holiday::RespectForTheAgedDay,
        (9, _) if y >= 2003 && is(9, 3) => Holiday::RespectForTheAgedDay,
        (9, _) if d == autumnal_equinox_day(y) => Holiday::AutumnalEquinoxDay,
        (10, 22) if y == 2019 => Holiday::EnthronementCeremonyDay,
        (10, _) if y < 2020 && is(10, 2) => Holiday::HealthAndSportsDay,
        (10, _) if y >= 2022 && is(10, 2) => Holiday::SportsDay,
        (11, 3) => Holiday::CultureDay,
        (11, 23) => Holiday::LabourThanksgivingDay,
        (12, 23) if y <= 2018 => Holiday::EmperorsBirthday,
        _ => return None,
    };
    Some(h)
}

fn is_national(day: Date) -> bool {
    national_holiday(day).is_some()
}

fn is_substitute(day: Date) -> bool {
    if is_national(day) {
        return false;
    }
    if day.year() < AMENDMENT_2007 {
        // 旧第3条第2項: the day after a national holiday on Sunday.
        let prev = day.saturating_sub(1.day());
        return prev.weekday() == Weekday::Sunday && is_national(prev);
    }
    // 第3条第2項: the nearest following day that is not a national holiday.
    // Runs of national holidays are at most 3 days (3–5 May), so look back
    // over the run before `day`.
    let mut prev = day.saturating_sub(1.day());
    for _ in 0..7 {
        if !is_national(prev) {
            return false;
        }
        if prev.weekday() == Weekday::Sunday {
            return true;
        }
        prev = prev.saturating_sub(1.day());
    }
    false
}

fn is_citizens_holiday(day: Date) -> bool {
    if is_national(day) {
        return false;
    }
    if day.year() < AMENDMENT_2007 && day.weekday() == Weekday::Sunday {
        return false;
    }
    is_national(day.saturating_sub(1.day())) && is_national(day.saturating_add(1.day()))
}

/// The holiday on `day`, if any: a national holiday, a substitute holiday
/// or a citizens' holiday. National holidays on Sundays are holidays too
/// (and make the next free day a substitute).
///
/// Law (no seed): 国民の祝日に関する法律 第2条, 第3条; 天皇の即位の日及び即位礼正殿の儀の
/// 行われる日を休日とする法律 (2018); 平成32年東京オリンピック競技大会・東京パラリンピック競技
/// 大会特別措置法 (as amended 2020). Used for [001] 開所日 where a facility closes on holidays.
pub fn holiday(day: Date) -> Option<Holiday> {
    if let Some(h) = national_holiday(day) {
        Some(h)
    } else if is_substitute(day) {
        Some(Holiday::SubstituteHoliday)
    } else if is_citizens_holiday(day) {
        Some(Holiday::CitizensHoliday)
    } else {
        None
    }
}

/// Is `day` a public holiday in Japan (national, substitute or citizens')?
pub fn is_public_holiday(day: Date) -> bool {
    holiday(day).is_some()
}

/// The Japanese name of the holiday on `day` (元日, 振替休日, 国民の休日 …).
pub fn holiday_name(day: Date) -> Option<&'static str> {
    holiday(day).map(Holiday::name_ja)
}

/// Every holiday of a calendar year, in order.
pub fn holidays_in_year(year: i16) -> Vec<(Date, Holiday)> {
    let Ok(first) = Date::new(year, 1, 1) else {
        return Vec::new();
    };
    first.series(1.day()).take_while(|d| d.year() == year).filter_map(|d| holiday(d).map(|h| (d, h))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;
    use Holiday::*;

    fn year(y: i16) -> Vec<(String, Holiday)> {
        holidays_in_year(y).into_iter().map(|(d, h)| (d.strftime("%m-%d").to_string(), h)).collect()
    }

    fn expect(list: &[(&str, Holiday)]) -> Vec<(String, Holiday)> {
        list.iter().map(|(d, h)| ((*d).to_owned(), *h)).collect()
    }

    #[test]
    fn year_2018() {
        assert_eq!(
            year(2018),
            expect(&[
                ("01-01", NewYearsDay),
                ("01-08", ComingOfAgeDay),
                ("02-11", NationalFoundationDay),
                ("02-12", SubstituteHoliday),
                ("03-21", VernalEquinoxDay),
                ("04-29", ShowaDay),
                ("04-30", SubstituteHoliday),
                ("05-03", ConstitutionMemorialDay),
                ("05-04", GreeneryDay),
                ("05-05", ChildrensDay),
                ("07-16", MarineDay),
                ("08-11", MountainDay),
                ("09-17", RespectForTheAgedDay),
                ("09-23", AutumnalEquinoxDay),
                ("09-24", SubstituteHoliday),
                ("10-08", HealthAndSportsDay),
                ("11-03", CultureDay),
                ("11-23", LabourThanksgivingDay),
                ("12-23", EmperorsBirthday),
                ("12-24", SubstituteHoliday),
            ])
        );
    }

    #[test]
    fn year_2019_with_the_enthronement() {
        assert_eq!(
            year(2019),
            expect(&[
                ("01-01", NewYearsDay),
                ("01-14", ComingOfAgeDay),
                ("02-11", NationalFoundationDay),
                ("03-21", VernalEquinoxDay),
                ("04-29", ShowaDay),
                ("04-30", CitizensHoliday),
                ("05-01", EnthronementDay),
                ("05-02", CitizensHoliday),
                ("05-03", ConstitutionMemorialDay),
                ("05-04", GreeneryDay),
                ("05-05", ChildrensDay),
                ("05-06", SubstituteHoliday),
                ("07-15", MarineDay),
                ("08-11", MountainDay),
                ("08-12", SubstituteHoliday),
                ("09-16", RespectForTheAgedDay),
                ("09-23", AutumnalEquinoxDay),
                ("10-14", HealthAndSportsDay),
                ("10-22", EnthronementCeremonyDay),
                ("11-03", CultureDay),
                ("11-04", SubstituteHoliday),
                ("11-23", LabourThanksgivingDay),
            ])
        );
        assert!(!is_public_holiday(date(2019, 12, 23)));
    }

    #[test]
    fn year_2020_with_the_olympics() {
        assert_eq!(
            year(2020),
            expect(&[
                ("01-01", NewYearsDay),
                ("01-13", ComingOfAgeDay),
                ("02-11", NationalFoundationDay),
                ("02-23", EmperorsBirthday),
                ("02-24", SubstituteHoliday),
                ("03-20", VernalEquinoxDay),
                ("04-29", ShowaDay),
                ("05-03", ConstitutionMemorialDay),
                ("05-04", GreeneryDay),
                ("05-05", ChildrensDay),
                ("05-06", SubstituteHoliday),
                ("07-23", MarineDay),
                ("07-24", SportsDay),
                ("08-10", MountainDay),
                ("09-21", RespectForTheAgedDay),
                ("09-22", AutumnalEquinoxDay),
                ("11-03", CultureDay),
                ("11-23", LabourThanksgivingDay),
            ])
        );
        // The days the moved holidays would otherwise have been.
        for d in [date(2020, 7, 20), date(2020, 8, 11), date(2020, 10, 12)] {
            assert!(!is_public_holiday(d), "{d}");
        }
    }

    #[test]
    fn year_2021_with_the_olympics() {
        assert_eq!(
            year(2021),
            expect(&[
                ("01-01", NewYearsDay),
                ("01-11", ComingOfAgeDay),
                ("02-11", NationalFoundationDay),
                ("02-23", EmperorsBirthday),
                ("03-20", VernalEquinoxDay),
                ("04-29", ShowaDay),
                ("05-03", ConstitutionMemorialDay),
                ("05-04", GreeneryDay),
                ("05-05", ChildrensDay),
                ("07-22", MarineDay),
                ("07-23", SportsDay),
                ("08-08", MountainDay),
                ("08-09", SubstituteHoliday),
                ("09-20", RespectForTheAgedDay),
                ("09-23", AutumnalEquinoxDay),
                ("11-03", CultureDay),
                ("11-23", LabourThanksgivingDay),
            ])
        );
        for d in [date(2021, 7, 19), date(2021, 8, 11), date(2021, 10, 11)] {
            assert!(!is_public_holiday(d), "{d}");
        }
    }

    #[test]
    fn year_2024() {
        assert_eq!(
            year(2024),
            expect(&[
                ("01-01", NewYearsDay),
                ("01-08", ComingOfAgeDay),
                ("02-11", NationalFoundationDay),
                ("02-12", SubstituteHoliday),
                ("02-23", EmperorsBirthday),
                ("03-20", VernalEquinoxDay),
                ("04-29", ShowaDay),
                ("05-03", ConstitutionMemorialDay),
                ("05-04", GreeneryDay),
                ("05-05", ChildrensDay),
                ("05-06", SubstituteHoliday),
                ("07-15", MarineDay),
                ("08-11", MountainDay),
                ("08-12", SubstituteHoliday),
                ("09-16", RespectForTheAgedDay),
                ("09-22", AutumnalEquinoxDay),
                ("09-23", SubstituteHoliday),
                ("10-14", SportsDay),
                ("11-03", CultureDay),
                ("11-04", SubstituteHoliday),
                ("11-23", LabourThanksgivingDay),
            ])
        );
    }

    #[test]
    fn year_2025() {
        assert_eq!(
            year(2025),
            expect(&[
                ("01-01", NewYearsDay),
                ("01-13", ComingOfAgeDay),
                ("02-11", NationalFoundationDay),
                ("02-23", EmperorsBirthday),
                ("02-24", SubstituteHoliday),
                ("03-20", VernalEquinoxDay),
                ("04-29", ShowaDay),
                ("05-03", ConstitutionMemorialDay),
                ("05-04", GreeneryDay),
                ("05-05", ChildrensDay),
                ("05-06", SubstituteHoliday),
                ("07-21", MarineDay),
                ("08-11", MountainDay),
                ("09-15", RespectForTheAgedDay),
                ("09-23", AutumnalEquinoxDay),
                ("10-13", SportsDay),
                ("11-03", CultureDay),
                ("11-23", LabourThanksgivingDay),
                ("11-24", SubstituteHoliday),
            ])
        );
    }

    #[test]
    fn year_2026_with_a_citizens_holiday() {
        assert_eq!(
            year(2026),
            expect(&[
                ("01-01", NewYearsDay),
                ("01-12", ComingOfAgeDay),
                ("02-11", NationalFoundationDay),
                ("02-23", EmperorsBirthday),
                ("03-20", VernalEquinoxDay),
                ("04-29", ShowaDay),
                ("05-03", ConstitutionMemorialDay),
                ("05-04", GreeneryDay),
                ("05-05", ChildrensDay),
                ("05-06", SubstituteHoliday),
                ("07-20", MarineDay),
                ("08-11", MountainDay),
                ("09-21", RespectForTheAgedDay),
                ("09-22", CitizensHoliday),
                ("09-23", AutumnalEquinoxDay),
                ("10-12", SportsDay),
                ("11-03", CultureDay),
                ("11-23", LabourThanksgivingDay),
            ])
        );
        assert_eq!(holiday_name(date(2026, 9, 22)), Some("国民の休日"));
        assert_eq!(holiday_name(date(2026, 5, 6)), Some("振替休日"));
        assert_eq!(holiday_name(date(2026, 5, 7)), None);
    }

    #[test]
    fn before_the_2007_amendment() {
        // 4 May was a citizens' holiday between 3 and 5 May, unless a Sunday.
        assert_eq!(holiday(date(2006, 5, 4)), Some(CitizensHoliday));
        assert_eq!(holiday(date(2003, 5, 4)), None); // a Sunday
        assert_eq!(holiday(date(2006, 4, 29)), Some(GreeneryDay));
        assert_eq!(holiday(date(2007, 4, 29)), Some(ShowaDay));
        assert_eq!(holiday(date(2007, 4, 30)), Some(SubstituteHoliday));
        // Fixed-date Marine Day and Respect-for-the-Aged Day until 2002.
        assert_eq!(holiday(date(2002, 7, 20)), Some(MarineDay));
        assert_eq!(holiday(date(2002, 9, 15)), Some(RespectForTheAgedDay));
        assert_eq!(holiday(date(2002, 9, 16)), Some(SubstituteHoliday)); // 15 Sep 2002 was a Sunday
        assert_eq!(holiday(date(2003, 7, 21)), Some(MarineDay));
        assert_eq!(holiday(date(2003, 9, 15)), Some(RespectForTheAgedDay));
        // Happy Monday for Coming-of-Age Day from 2000.
        assert_eq!(holiday(date(2000, 1, 10)), Some(ComingOfAgeDay));
        assert_eq!(holiday(date(2000, 1, 15)), None);
        // No Mountain Day before 2016.
        assert_eq!(holiday(date(2015, 8, 11)), None);
        assert_eq!(holiday(date(2016, 8, 11)), Some(MountainDay));
        // Until 2006, a Sunday holiday gave only the next Monday.
        assert_eq!(holiday(date(2001, 12, 24)), Some(SubstituteHoliday));
    }

    #[test]
    fn substitutes_after_runs_from_2007() {
        // 3 May 2009 was a Sunday: 4 and 5 May were holidays, so 6 May was the substitute.
        assert_eq!(holiday(date(2009, 5, 6)), Some(SubstituteHoliday));
        // Silver Week 2009 and 2015.
        assert_eq!(holiday(date(2009, 9, 22)), Some(CitizensHoliday));
        assert_eq!(holiday(date(2015, 9, 22)), Some(CitizensHoliday));
        // 2 Jan is a substitute when 1 Jan is a Sunday.
        assert_eq!(holiday(date(2023, 1, 2)), Some(SubstituteHoliday));
    }

    #[test]
    fn equinox_formula_matches_announced_days() {
        // (year, vernal day in March, autumnal day in September) as announced.
        for (y, v, a) in [
            (2000, 20, 23),
            (2004, 20, 23),
            (2010, 21, 23),
            (2012, 20, 22),
            (2016, 20, 22),
            (2018, 21, 23),
            (2022, 21, 23),
            (2023, 21, 23),
            (2024, 20, 22),
            (2025, 20, 23),
            (2026, 20, 23),
        ] {
            assert_eq!((vernal_equinox_day(y), autumnal_equinox_day(y)), (v, a), "{y}");
        }
    }

    proptest! {
        /// Each year 2000–2099 has between 15 and 24 holidays, at most one
        /// name per day, and a substitute holiday never falls on a Sunday.
        #[test]
        fn every_year_is_plausible(y in 2000i16..=2099) {
            let list = holidays_in_year(y);
            prop_assert!((15..=24).contains(&list.len()), "{} has {}", y, list.len());
            for (d, h) in list {
                if h == SubstituteHoliday {
                    prop_assert!(d.weekday() != Weekday::Sunday);
                }
                prop_assert_eq!(holiday_name(d), Some(h.name_ja()));
            }
        }
    }
}
