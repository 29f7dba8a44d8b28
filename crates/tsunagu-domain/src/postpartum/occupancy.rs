//! Occupancy (稼働率) = used places ÷ places offered on open days, per
//! facility and fiscal year, printed as a percentage with one decimal as
//! [001] 利用実績 prints it.
//!
//! The check the seed allows: the municipal centre in FY2019 (平成31年度),
//! 15 places a day shared by short stay and day care, closed 29–31 March,
//! a year with 29 February 2020 in it: 363 open days × 15 = 5,445 places
//! offered; 4,427 used ÷ 5,445 = 81.30…% → **81.3%**, as published.
//!
//! The same formula does **not** reproduce every other published figure
//! (tests below): the centre's FY2018 (87.1% published, 86.6% computed),
//! FY2020 (60.8% / 60.6%), FY2021 (80.5% / 80.2%) and FY2022 (82.4% /
//! 81.6%), nor Mama's Room in any year. The seed does not say how those
//! were computed (extra closures, a different count of places, or a
//! different use count); we do not bend the formula to fit them.

use super::calendar::FacilityCalendar;
use super::ServiceType;
use crate::dates::DateRange;
use crate::fiscal::FiscalYear;
use serde::Serialize;
use std::fmt;

/// Places used and places offered over a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Occupancy {
    pub used_places: u64,
    pub offered_places: u64,
}

/// An occupancy rate in tenths of a percent (813 = 81.3%), rounded half up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct OccupancyRate(u64);

impl OccupancyRate {
    pub fn tenths_of_percent(self) -> u64 {
        self.0
    }
}

impl fmt::Display for OccupancyRate {
    /// `81.3%`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}%", self.0 / 10, self.0 % 10)
    }
}

impl Occupancy {
    /// The rate rounded half up to one decimal of a percent; `None` when no
    /// place was offered.
    ///
    /// Seed: [001] 利用実績: 稼働率（％） 87.1%, 81.3% … — one decimal.
    pub fn rate(&self) -> Option<OccupancyRate> {
        if self.offered_places == 0 {
            return None;
        }
        // u64 counts in u128 arithmetic: cannot overflow, and `den` is not zero.
        let num = u128::from(self.used_places).checked_mul(2000)?.checked_add(u128::from(self.offered_places))?;
        let den = u128::from(self.offered_places).checked_mul(2)?;
        u64::try_from(num.checked_div(den)?).ok().map(OccupancyRate)
    }
}

/// The places a facility offers over `range` for `service`'s capacity pool:
/// the sum over its open days of that day's places. The pool is shared, so
/// for the municipal centre this is the places of short stay and day care
/// together.
///
/// Seed: [001] 全体像: 利用組数 １５組 / ３組 / ２組, 開所日; ママズルーム 利用実績: 利用枠数.
pub fn places_offered(calendar: &FacilityCalendar, service: ServiceType, range: DateRange) -> u64 {
    range.days().map(|d| u64::from(calendar.capacity(service, d))).sum()
}

/// Occupancy of `service`'s capacity pool at a facility over a fiscal year.
/// `used_places` counts every place used in the pool — for a pool shared by
/// short stay and day care, the days of both (a 6-night stay uses 7).
///
/// Seed: [001] 利用実績 (産後ケアセンター: 合計（日）, 稼働率; ママズルーム: デイケア（日）, 稼働率, 利用枠数).
pub fn occupancy(calendar: &FacilityCalendar, service: ServiceType, fy: FiscalYear, used_places: u64) -> Occupancy {
    Occupancy { used_places, offered_places: places_offered(calendar, service, fy.range()) }
}

/// Days used at a facility in a period, by service type, as the seed's
/// tables report them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct UsedDays {
    pub short_stay_days: u64,
    pub day_care_days: u64,
    pub outreach_visits: u64,
}

impl UsedDays {
    /// 合計（日）: short-stay days + day-care days. Outreach visits are a
    /// separate pool and not in the seed's total.
    ///
    /// Seed: [001] 利用実績: ショートステイ(日) + デイケア(日) = 合計(日)
    pub fn facility_days(&self) -> u64 {
        self.short_stay_days.saturating_add(self.day_care_days)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fy(y: i32) -> FiscalYear {
        FiscalYear::new(y).unwrap()
    }

    fn rate(o: Occupancy) -> String {
        o.rate().unwrap().to_string()
    }

    /// [001] 産後ケアセンター 利用実績: (fiscal year, short stay, day care, total, families, occupancy).
    const CENTRE: [(i32, u64, u64, u64, u64, &str); 5] = [
        (2018, 4_072, 633, 4_705, 876, "87.1%"),
        (2019, 3_592, 835, 4_427, 764, "81.3%"),
        (2020, 2_809, 483, 3_292, 626, "60.8%"),
        (2021, 3_683, 672, 4_355, 854, "80.5%"),
        (2022, 3_725, 706, 4_431, 932, "82.4%"),
    ];

    #[test]
    fn the_published_check_fy2019() {
        let c = FacilityCalendar::setagaya_centre();
        let o = occupancy(&c, ServiceType::ShortStay, fy(2019), 4_427);
        assert_eq!(o.offered_places, 15 * 363);
        assert_eq!(rate(o), "81.3%");
        // Short stay and day care share the pool: asking for either gives the same.
        assert_eq!(occupancy(&c, ServiceType::DayCare, fy(2019), 4_427), o);
    }

    #[test]
    fn centre_table_adds_up() {
        for (y, ss, dc, total, _families, _) in CENTRE {
            let used = UsedDays { short_stay_days: ss, day_care_days: dc, outreach_visits: 0 };
            assert_eq!(used.facility_days(), total, "FY{y}");
        }
    }

    #[test]
    fn centre_occupancy_with_the_obvious_formula() {
        // Only FY2019 reproduces; the others are what the formula gives,
        // next to what [001] prints. See the module documentation.
        let c = FacilityCalendar::setagaya_centre();
        let computed: Vec<(i32, String, &str)> = CENTRE
            .iter()
            .map(|&(y, _, _, total, _, published)| {
                (y, rate(occupancy(&c, ServiceType::DayCare, fy(y), total)), published)
            })
            .collect();
        assert_eq!(
            computed,
            vec![
                (2018, "86.6%".to_owned(), "87.1%"),
                (2019, "81.3%".to_owned(), "81.3%"),
                (2020, "60.6%".to_owned(), "60.8%"),
                (2021, "80.2%".to_owned(), "80.5%"),
                (2022, "81.6%".to_owned(), "82.4%"),
            ]
        );
    }

    /// [001] ママズルーム 利用実績: (fiscal year, day-care days, families, occupancy, slots).
    const MAMAS_ROOM: [(i32, u64, u64, &str, &str); 5] = [
        (2018, 368, 235, "66.3%", "3"),
        (2019, 308, 112, "58.4%", "3or2"),
        (2020, 245, 87, "75.1%", "2"),
        (2021, 323, 112, "77.1%", "3or2"),
        (2022, 339, 119, "61.5%", "3"),
    ];

    #[test]
    fn mamas_room_occupancy_does_not_reproduce() {
        // Mon/Tue/Thu/Fri, closed on public holidays, the 2020 stop and the
        // 2-place periods: every computed rate is 3–4 points below the
        // published one. The published rates imply about 185 open days in
        // FY2018 (368 ÷ 66.3% ÷ 3) where this calendar has 195; the seed
        // does not list the other closures (a year-end break would explain
        // only 2 of them). Kept as computed, not forced.
        let m = FacilityCalendar::setagaya_mamas_room();
        // The seed's calendar opens on holidays; closing on them is a
        // setting, and the one these figures were computed with.
        let m = m.with_opening(crate::postpartum::calendar::OpeningRules {
            closed_on_public_holidays: true,
            ..m.opening().clone()
        });
        let computed: Vec<(i32, u64, String, &str)> = MAMAS_ROOM
            .iter()
            .map(|&(y, used, _, published, _)| {
                let o = occupancy(&m, ServiceType::DayCare, fy(y), used);
                (y, o.offered_places, rate(o), published)
            })
            .collect();
        assert_eq!(
            computed,
            vec![
                (2018, 585, "62.9%".to_owned(), "66.3%"),
                (2019, 565, "54.5%".to_owned(), "58.4%"),
                (2020, 344, "71.2%".to_owned(), "75.1%"),
                (2021, 435, "74.3%".to_owned(), "77.1%"),
                (2022, 588, "57.7%".to_owned(), "61.5%"),
            ]
        );
    }

    #[test]
    fn rounding_is_half_up_to_one_decimal() {
        let r = |used, offered| Occupancy { used_places: used, offered_places: offered }.rate();
        assert_eq!(r(1, 3).unwrap().to_string(), "33.3%");
        assert_eq!(r(2, 3).unwrap().to_string(), "66.7%");
        assert_eq!(r(1, 2000).unwrap().to_string(), "0.1%"); // 0.05% rounds up
        assert_eq!(r(1, 2001).unwrap().to_string(), "0.0%");
        assert_eq!(r(5, 5).unwrap().to_string(), "100.0%");
        assert_eq!(r(0, 5).unwrap().tenths_of_percent(), 0);
        assert_eq!(r(0, 0), None);
    }

    proptest! {
        /// The rate is within half a tenth of the exact value.
        #[test]
        fn rate_is_the_nearest_tenth(used in 0u64..100_000, offered in 1u64..100_000) {
            let t = Occupancy { used_places: used, offered_places: offered }.rate().unwrap().tenths_of_percent();
            let exact = used as f64 * 1000.0 / offered as f64;
            prop_assert!((t as f64 - exact).abs() <= 0.5 + 1e-9);
        }
    }
}
