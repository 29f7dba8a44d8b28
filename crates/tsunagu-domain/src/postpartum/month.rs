//! What a facility plans its days by (#10): its stays split into today's,
//! the coming ones and the past ones, and a month of its places — how many
//! are taken and how many there are on each day (the facility calendar's
//! places, [001] 利用組数: 15組 / 3組 / 2組, none on a closed day).

use crate::dates::DateRange;
use crate::postpartum::calendar::FacilityCalendar;
use crate::postpartum::ServiceType;
use jiff::civil::Date;

/// Where a stay stands on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StayWhen {
    /// The day is one of the stay's.
    Today,
    /// The stay begins later.
    Upcoming,
    /// The stay ended before.
    Past,
}

pub fn stay_when(stay: DateRange, today: Date) -> StayWhen {
    if stay.contains(today) {
        StayWhen::Today
    } else if stay.first() > today {
        StayWhen::Upcoming
    } else {
        StayWhen::Past
    }
}

/// One day of a facility's month: the places taken and the places there
/// are in the pool of one service (0 when it is closed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayPlaces {
    pub day: Date,
    pub taken: u32,
    pub places: u32,
}

impl DayPlaces {
    pub fn open(&self) -> bool {
        self.places > 0
    }

    pub fn full(&self) -> bool {
        self.open() && self.taken >= self.places
    }
}

/// The days of the month that holds `day`.
pub fn month_of(day: Date) -> DateRange {
    let first = day.first_of_month();
    let last = day.last_of_month();
    DateRange::new(first, last).unwrap_or_else(|_| DateRange::single(day))
}

/// The service whose places a facility's month shows: the pool short stay
/// and day care draw on where the facility has one (its rooms, as the
/// yearly occupancy counts them), else outreach.
pub fn main_service(calendar: &FacilityCalendar) -> Option<ServiceType> {
    [ServiceType::ShortStay, ServiceType::DayCare, ServiceType::Outreach].into_iter().find(|s| calendar.offers(*s))
}

/// Every day of `month` with the places of `service`'s pool that day and
/// the places taken (`taken`: the store's count per day of that pool; a
/// day without is none taken).
pub fn month_places(
    calendar: &FacilityCalendar,
    service: ServiceType,
    month: DateRange,
    taken: &[(Date, u32)],
) -> Vec<DayPlaces> {
    month
        .days()
        .map(|day| {
            let places = calendar.capacity(service, day);
            let taken = taken.iter().filter(|(d, _)| *d == day).fold(0u32, |sum, (_, n)| sum.saturating_add(*n));
            DayPlaces { day, taken, places }
        })
        .collect()
}

/// The month's days as the rows of a calendar starting on Monday: `None`
/// before the first and after the last day.
pub fn weeks(days: &[DayPlaces]) -> Vec<[Option<DayPlaces>; 7]> {
    let mut out: Vec<[Option<DayPlaces>; 7]> = Vec::new();
    let mut row: [Option<DayPlaces>; 7] = [None; 7];
    for d in days {
        let column = usize::try_from(d.day.weekday().to_monday_zero_offset()).unwrap_or(0);
        if let Some(cell) = row.get_mut(column) {
            *cell = Some(*d);
        }
        if column == 6 {
            out.push(row);
            row = [None; 7];
        }
    }
    if row.iter().any(Option::is_some) {
        out.push(row);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::postpartum::calendar::{CapacityPlan, CapacityPool, OpeningRules};
    use jiff::civil::{date, Weekday};
    use proptest::prelude::*;

    fn range(a: Date, b: Date) -> DateRange {
        DateRange::new(a, b).unwrap()
    }

    #[test]
    fn a_stay_is_today_from_its_first_to_its_last_day() {
        let stay = range(date(2026, 11, 22), date(2026, 11, 24));
        assert_eq!(stay_when(stay, date(2026, 11, 21)), StayWhen::Upcoming);
        assert_eq!(stay_when(stay, date(2026, 11, 22)), StayWhen::Today);
        assert_eq!(stay_when(stay, date(2026, 11, 24)), StayWhen::Today);
        assert_eq!(stay_when(stay, date(2026, 11, 25)), StayWhen::Past);
    }

    fn mamas_room() -> FacilityCalendar {
        // [001] ママズルーム: 月・火・木・金, 3組.
        let opening =
            OpeningRules::on_weekdays(&[Weekday::Monday, Weekday::Tuesday, Weekday::Thursday, Weekday::Friday]);
        let pool = CapacityPool {
            services: vec![ServiceType::DayCare],
            plan: CapacityPlan::fixed(3),
            from: None,
            accepts_siblings: false,
        };
        FacilityCalendar::new(opening, vec![pool]).unwrap()
    }

    #[test]
    fn a_month_has_each_day_with_its_places_and_those_taken() {
        let month = month_of(date(2027, 2, 10));
        assert_eq!((month.first(), month.last()), (date(2027, 2, 1), date(2027, 2, 28)));
        let taken = [(date(2027, 2, 1), 3), (date(2027, 2, 2), 1)];
        assert_eq!(main_service(&mamas_room()), Some(ServiceType::DayCare));
        let days = month_places(&mamas_room(), ServiceType::DayCare, month, &taken);
        assert_eq!(days.len(), 28);
        let first = days[0]; // Monday
        assert_eq!((first.taken, first.places, first.full()), (3, 3, true));
        assert_eq!((days[1].taken, days[1].places, days[1].full()), (1, 3, false));
        assert!(!days[2].open(), "closed on Wednesdays");
        assert_eq!(days[2].places, 0);
        // Four whole weeks from a Monday.
        let rows = weeks(&days);
        assert_eq!(rows.len(), 4);
        assert!(rows.iter().all(|r| r.iter().all(Option::is_some)));
        assert_eq!(month_of(date(2028, 2, 29)).len_days(), 29);
    }

    proptest! {
        #[test]
        fn every_day_of_a_month_sits_once_under_its_weekday(y in 2020i16..2040, m in 1i8..=12) {
            let month = month_of(date(y, m, 1));
            let days = month_places(&mamas_room(), ServiceType::DayCare, month, &[]);
            let rows = weeks(&days);
            let placed: Vec<Date> = rows.iter().flat_map(|r| r.iter().flatten().map(|d| d.day)).collect();
            prop_assert_eq!(placed.len(), days.len());
            for r in &rows {
                for (i, cell) in r.iter().enumerate() {
                    if let Some(d) = cell {
                        prop_assert_eq!(usize::try_from(d.day.weekday().to_monday_zero_offset()).unwrap(), i);
                    }
                }
            }
        }
    }
}
