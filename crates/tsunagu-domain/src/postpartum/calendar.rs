//! When a facility is open and how many mother–baby pairs it takes each day,
//! as data. [001] 産後ケア事業 全体像 (開所日, 利用組数, 類型), ママズルーム 利用実績
//! (利用中止, ２枠, ３枠), 令和５年度以降の取組 (２)(３).
//!
//! Opening rules combine: the days of the week it opens (every day, or
//! given weekdays), closures that recur every year (the municipal centre:
//! 29–31 March), an option to close on Japanese public holidays, and
//! explicit dated closures (an infection-control stop).
//!
//! Capacity is a number of pairs per day in a **pool** that one or more
//! service types share: the municipal centre's 15 pairs are one pool for
//! short stay *and* day care ([001] 利用組数 １５組 under 類型 ショートステイ、
//! デイケア), which is also how its published occupancy is computed (see
//! `occupancy`). A pool has a default and dated overrides (Mama's Room:
//! 3 places, 2 in some periods).

use super::ServiceType;
use crate::dates::{DateRange, WeekdaySet};
use crate::holidays::{holiday, Holiday};
use jiff::civil::{Date, Weekday};
use serde::{Deserialize, Serialize};

/// A day of the year without a year (29 March), valid in a leap year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "RawMonthDay")]
pub struct MonthDay {
    month: i8,
    day: i8,
}

#[derive(Deserialize)]
struct RawMonthDay {
    month: i8,
    day: i8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("{month}/{day} is not a day of the year")]
    InvalidMonthDay { month: i8, day: i8 },
    #[error("{} is in more than one capacity pool", service.as_str())]
    ServiceInTwoPools { service: ServiceType },
    #[error("a capacity pool must serve at least one service type")]
    EmptyPool,
}

impl TryFrom<RawMonthDay> for MonthDay {
    type Error = CalendarError;
    fn try_from(raw: RawMonthDay) -> Result<Self, Self::Error> {
        MonthDay::new(raw.month, raw.day)
    }
}

impl MonthDay {
    pub fn new(month: i8, day: i8) -> Result<Self, CalendarError> {
        // 2024 is a leap year, so 29 February is accepted.
        Date::new(2024, month, day).map_err(|_| CalendarError::InvalidMonthDay { month, day })?;
        Ok(Self { month, day })
    }

    pub fn month(&self) -> i8 {
        self.month
    }

    pub fn day(&self) -> i8 {
        self.day
    }

    pub fn of(date: Date) -> Self {
        Self { month: date.month(), day: date.day() }
    }
}

/// A closure that recurs every year, `from ..= to` inclusive; when `to`
/// comes before `from` it runs over the new year (28 December – 4 January).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AnnualClosure {
    pub from: MonthDay,
    pub to: MonthDay,
}

impl AnnualClosure {
    pub fn contains(&self, date: Date) -> bool {
        let d = MonthDay::of(date);
        if self.from <= self.to {
            self.from <= d && d <= self.to
        } else {
            d >= self.from || d <= self.to
        }
    }
}

/// The days of the week a facility opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpenDays {
    EveryDay,
    Weekdays(WeekdaySet),
}

/// A dated closure, with the reason staff gave (shown on pages).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closure {
    pub range: DateRange,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpeningRules {
    pub days: OpenDays,
    #[serde(default)]
    pub annual_closures: Vec<AnnualClosure>,
    #[serde(default)]
    pub closed_on_public_holidays: bool,
    #[serde(default)]
    pub closures: Vec<Closure>,
    /// The first day the facility offers the programme, if known.
    #[serde(default)]
    pub opened_on: Option<Date>,
}

/// Why a facility is closed on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "code")]
pub enum ClosedBecause {
    NotYetOpen {
        opened_on: Date,
    },
    ClosedWeekday {
        weekday: u8,
    },
    AnnualClosure,
    PublicHoliday {
        holiday: Holiday,
    },
    /// The index of the closure in [`OpeningRules::closures`].
    Closure {
        index: usize,
    },
    /// Open, but the service has no places that day (not offered yet, or a
    /// period of 0 places).
    NoPlaces,
}

/// A day of a request the facility cannot take, and why; `reason` is the
/// words staff gave for a dated closure (shown to families as written).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClosedDay {
    pub day: Date,
    pub because: ClosedBecause,
    pub reason: Option<String>,
}

impl ClosedBecause {
    pub fn code(&self) -> &'static str {
        match self {
            ClosedBecause::NotYetOpen { .. } => "not_yet_open",
            ClosedBecause::ClosedWeekday { .. } => "closed_weekday",
            ClosedBecause::AnnualClosure => "annual_closure",
            ClosedBecause::PublicHoliday { .. } => "public_holiday",
            ClosedBecause::Closure { .. } => "closure",
            ClosedBecause::NoPlaces => "no_places",
        }
    }
}

impl OpeningRules {
    /// Open every day of the year.
    pub fn every_day() -> Self {
        Self {
            days: OpenDays::EveryDay,
            annual_closures: Vec::new(),
            closed_on_public_holidays: false,
            closures: Vec::new(),
            opened_on: None,
        }
    }

    /// Open on the given weekdays only.
    pub fn on_weekdays(days: &[Weekday]) -> Self {
        Self { days: OpenDays::Weekdays(WeekdaySet::of(days)), ..Self::every_day() }
    }

    /// Why the facility is closed on `date`, or `None` when it is open. The
    /// first reason that applies is given, in the order: not yet open,
    /// weekday, annual closure, dated closure, public holiday.
    ///
    /// Seed: [001] 全体像 開所日: 通年（ただし、３/２９～３/３１除く） / 月・火・木・金 /
    /// 年中無休; ママズルーム 利用実績: 利用中止 Ｒ2年4月17日～5月31日.
    pub fn closed_because(&self, date: Date) -> Option<ClosedBecause> {
        if let Some(opened_on) = self.opened_on.filter(|o| date < *o) {
            return Some(ClosedBecause::NotYetOpen { opened_on });
        }
        if let OpenDays::Weekdays(set) = self.days {
            if !set.contains(date.weekday()) {
                let weekday = u8::try_from(date.weekday().to_monday_one_offset()).unwrap_or(0);
                return Some(ClosedBecause::ClosedWeekday { weekday });
            }
        }
        if self.annual_closures.iter().any(|c| c.contains(date)) {
            return Some(ClosedBecause::AnnualClosure);
        }
        if let Some(index) = self.closures.iter().position(|c| c.range.contains(date)) {
            return Some(ClosedBecause::Closure { index });
        }
        if self.closed_on_public_holidays {
            if let Some(h) = holiday(date) {
                return Some(ClosedBecause::PublicHoliday { holiday: h });
            }
        }
        None
    }

    pub fn is_open(&self, date: Date) -> bool {
        self.closed_because(date).is_none()
    }

    /// Adds a dated closure an administrator typed: a reason families are
    /// shown (1–200 characters) and at most [`MAX_CLOSURE_DAYS`] days.
    pub fn add_closure(&mut self, range: DateRange, reason: &str) -> Result<(), ClosureError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(ClosureError::ReasonRequired);
        }
        if reason.chars().count() > MAX_CLOSURE_REASON_CHARS {
            return Err(ClosureError::ReasonTooLong);
        }
        if range.len_days() > MAX_CLOSURE_DAYS {
            return Err(ClosureError::TooLong);
        }
        if self.closures.len() >= MAX_CLOSURES {
            return Err(ClosureError::TooMany);
        }
        self.closures.push(Closure { range, reason: reason.to_owned() });
        self.closures.sort_by_key(|c| c.range.first());
        Ok(())
    }
}

/// The longest dated closure an administrator may enter: two years.
pub const MAX_CLOSURE_DAYS: u32 = 731;
/// The longest reason of a closure, in characters.
pub const MAX_CLOSURE_REASON_CHARS: usize = 200;
/// The most dated closures one facility keeps.
pub const MAX_CLOSURES: usize = 500;

/// Why a closure cannot be added; `field` and `code` are the field error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClosureError {
    #[error("a closure needs a reason")]
    ReasonRequired,
    #[error("the reason is too long")]
    ReasonTooLong,
    #[error("the closure is too long")]
    TooLong,
    #[error("too many closures")]
    TooMany,
}

impl ClosureError {
    pub fn field(self) -> &'static str {
        match self {
            ClosureError::ReasonRequired | ClosureError::ReasonTooLong => "reason",
            ClosureError::TooLong => "last",
            ClosureError::TooMany => "first",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            ClosureError::ReasonRequired => "required",
            ClosureError::ReasonTooLong => "too_long",
            ClosureError::TooLong => "out_of_range",
            ClosureError::TooMany => "too_many",
        }
    }
}

/// A different number of places for a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapacityOverride {
    pub range: DateRange,
    pub places: u32,
}

/// Places per day: a default and dated overrides (a later override in the
/// list wins where two overlap).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapacityPlan {
    pub places: u32,
    #[serde(default)]
    pub overrides: Vec<CapacityOverride>,
}

impl CapacityPlan {
    pub fn fixed(places: u32) -> Self {
        Self { places, overrides: Vec::new() }
    }

    /// Places on `date`, whether or not the facility is open.
    ///
    /// Seed: [001] ママズルーム 利用実績 (※): ２枠 / ３枠 by period.
    pub fn places_on(&self, date: Date) -> u32 {
        self.overrides.iter().rev().find(|o| o.range.contains(date)).map_or(self.places, |o| o.places)
    }
}

/// Places shared by one or more service types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapacityPool {
    pub services: Vec<ServiceType>,
    pub plan: CapacityPlan,
    /// The first day these services are offered, if later than the facility's opening.
    #[serde(default)]
    pub from: Option<Date>,
    /// May a preschool sibling come along? In [001] only the municipal
    /// centre's short stay and day care say so (類型 …（きょうだい含む）).
    #[serde(default)]
    pub accepts_siblings: bool,
}

/// A facility's opening rules and capacity pools. Each service type is in
/// at most one pool; a service in none is not offered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawCalendar")]
pub struct FacilityCalendar {
    opening: OpeningRules,
    pools: Vec<CapacityPool>,
}

#[derive(Deserialize)]
struct RawCalendar {
    opening: OpeningRules,
    pools: Vec<CapacityPool>,
}

impl TryFrom<RawCalendar> for FacilityCalendar {
    type Error = CalendarError;
    fn try_from(raw: RawCalendar) -> Result<Self, Self::Error> {
        FacilityCalendar::new(raw.opening, raw.pools)
    }
}

const fn d(y: i16, m: i8, day: i8) -> Date {
    Date::constant(y, m, day)
}

fn range(first: Date, last: Date) -> DateRange {
    DateRange::new(first, last).unwrap_or(DateRange::single(first))
}

impl FacilityCalendar {
    pub fn new(opening: OpeningRules, pools: Vec<CapacityPool>) -> Result<Self, CalendarError> {
        let mut seen = Vec::new();
        for pool in &pools {
            if pool.services.is_empty() {
                return Err(CalendarError::EmptyPool);
            }
            for s in &pool.services {
                if seen.contains(s) {
                    return Err(CalendarError::ServiceInTwoPools { service: *s });
                }
                seen.push(*s);
            }
        }
        Ok(Self { opening, pools })
    }

    pub fn opening(&self) -> &OpeningRules {
        &self.opening
    }

    pub fn pools(&self) -> &[CapacityPool] {
        &self.pools
    }

    /// The same pools with other opening rules (an administrator's edit of
    /// the days off).
    pub fn with_opening(&self, opening: OpeningRules) -> Self {
        Self { opening, pools: self.pools.clone() }
    }

    /// The pool a service draws its places from.
    pub fn pool_of(&self, service: ServiceType) -> Option<&CapacityPool> {
        self.pools.iter().find(|p| p.services.contains(&service))
    }

    /// Does the facility offer `service` at all?
    pub fn offers(&self, service: ServiceType) -> bool {
        self.pool_of(service).is_some()
    }

    pub fn is_open(&self, date: Date) -> bool {
        self.opening.is_open(date)
    }

    /// May a preschool sibling come along to `service` here?
    ///
    /// Seed: [001] 全体像 類型: ショートステイ、デイケア（きょうだい含む） for the
    /// municipal centre only; Mama's Room and the hospital list no siblings.
    pub fn accepts_siblings(&self, service: ServiceType) -> bool {
        self.pool_of(service).is_some_and(|p| p.accepts_siblings)
    }

    /// The places of `service`'s pool on `date`: 0 when the facility is
    /// closed, the service is not offered, or not yet. A pool is shared:
    /// bookings of all its services count against the same places.
    pub fn capacity(&self, service: ServiceType, date: Date) -> u32 {
        match self.pool_of(service) {
            Some(pool) if self.is_open(date) && pool.from.is_none_or(|f| f <= date) => pool.plan.places_on(date),
            _ => 0,
        }
    }

    /// The days of `range` on which `service` has no place here, each with
    /// why — what a family is shown when it asks for a closed day.
    pub fn closed_days(&self, service: ServiceType, range: DateRange) -> Vec<ClosedDay> {
        range
            .days()
            .filter(|d| self.capacity(service, *d) == 0)
            .map(|day| {
                let because = self.opening.closed_because(day).unwrap_or(ClosedBecause::NoPlaces);
                let reason = match because {
                    ClosedBecause::Closure { index } => self.opening.closures.get(index).map(|c| c.reason.clone()),
                    _ => None,
                };
                ClosedDay { day, because, reason }
            })
            .collect()
    }

    /// 区立産後ケアセンター: open all year except 29–31 March; 15 pairs a day
    /// shared by short stay and day care (siblings included); outreach by
    /// the centre's midwives, up to 3 pairs a day, from October 2023.
    ///
    /// Seed: [001] 全体像: 開所日 通年（ただし、３/２９～３/３１除く）; 利用組数 １５組;
    /// 類型 ショートステイ、デイケア（きょうだい含む）; (区立施設) 平成３０年４月～.
    /// [001] (３) アウトリーチ型: 受入人数 １日あたり母子３組まで; 開始時期 令和５年１０月
    /// (the day is not given; the 1st is assumed).
    pub fn setagaya_centre() -> Self {
        const OUTREACH_FROM: Date = d(2023, 10, 1);
        let opening = OpeningRules {
            annual_closures: vec![AnnualClosure {
                from: MonthDay { month: 3, day: 29 },
                to: MonthDay { month: 3, day: 31 },
            }],
            opened_on: Some(d(2018, 4, 1)),
            ..OpeningRules::every_day()
        };
        Self {
            opening,
            pools: vec![
                CapacityPool {
                    services: vec![ServiceType::ShortStay, ServiceType::DayCare],
                    plan: CapacityPlan::fixed(15),
                    from: None,
                    accepts_siblings: true,
                },
                CapacityPool {
                    services: vec![ServiceType::Outreach],
                    plan: CapacityPlan::fixed(3),
                    from: Some(OUTREACH_FROM),
                    accepts_siblings: false,
                },
            ],
        }
    }

    /// ママズルーム (いなみ小児科): day care on Mondays, Tuesdays, Thursdays
    /// and Fridays; 3 pairs a day, 2 from 1 March 2020 to 14 November 2021
    /// and from 21 January to 24 March 2022; no use from 17 April to 31 May
    /// 2020. The seed lists the four weekdays and no exception for public
    /// holidays, so this calendar opens on a holiday Monday: closing on
    /// holidays (and any day off of the facility's own) is the facility's
    /// setting ([`OpeningRules::closed_on_public_holidays`], [`Closure`]),
    /// which an administrator edits. (The published occupancy fits closing on
    /// holidays better — see `occupancy` — but fitting a figure is not the
    /// seed saying so.)
    ///
    /// Seed: [001] 全体像: 開所日 月・火・木・金; 利用組数 ３組; 類型 デイケア; 平成２８年９月～.
    /// [001] ママズルーム 利用実績 (※): 利用中止 Ｒ2年4月17日～5月31日; ２枠 Ｒ2年3月1日～
    /// Ｒ2年4月16日, Ｒ2年6月1日～Ｒ3年11月14日, Ｒ4年1月21日～Ｒ4年3月24日;
    /// ３枠 Ｒ3年11月15日～Ｒ4年1月20日, Ｒ4年3月25日～.
    pub fn setagaya_mamas_room() -> Self {
        use Weekday::*;
        let opening = OpeningRules {
            closures: vec![Closure {
                range: range(d(2020, 4, 17), d(2020, 5, 31)),
                reason: "利用中止（新型コロナウイルス感染症）".to_owned(),
            }],
            opened_on: Some(d(2016, 9, 1)),
            ..OpeningRules::on_weekdays(&[Monday, Tuesday, Thursday, Friday])
        };
        let plan = CapacityPlan {
            places: 3,
            overrides: vec![
                CapacityOverride { range: range(d(2020, 3, 1), d(2021, 11, 14)), places: 2 },
                CapacityOverride { range: range(d(2022, 1, 21), d(2022, 3, 24)), places: 2 },
            ],
        };
        Self {
            opening,
            pools: vec![CapacityPool {
                services: vec![ServiceType::DayCare],
                plan,
                from: None,
                accepts_siblings: false,
            }],
        }
    }

    /// 至誠会第二病院: short stay every day, about 2 pairs a day, from 1 April 2023.
    ///
    /// Seed: [001] 全体像: 開所日 年中無休; 利用組数 ２組; 類型 ショートステイ; 令和５年４月～.
    /// [001] (２): 受入人数 １日あたり母子２組程度; 開始時期 令和５年４月１日.
    pub fn setagaya_shiseikai() -> Self {
        let opening = OpeningRules { opened_on: Some(d(2023, 4, 1)), ..OpeningRules::every_day() };
        Self {
            opening,
            pools: vec![CapacityPool {
                services: vec![ServiceType::ShortStay],
                plan: CapacityPlan::fixed(2),
                from: None,
                accepts_siblings: false,
            }],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn centre_closes_29_to_31_march() {
        let c = FacilityCalendar::setagaya_centre();
        assert!(c.is_open(date(2024, 3, 28)));
        for day in 29..=31 {
            assert!(!c.is_open(date(2024, 3, day)));
            assert_eq!(c.capacity(ServiceType::ShortStay, date(2025, 3, day)), 0);
        }
        assert_eq!(c.opening().closed_because(date(2025, 3, 30)), Some(ClosedBecause::AnnualClosure));
        assert!(c.is_open(date(2024, 4, 1)));
        assert!(c.is_open(date(2024, 1, 1))); // open on holidays
        assert_eq!(c.capacity(ServiceType::ShortStay, date(2024, 5, 3)), 15);
        assert_eq!(c.capacity(ServiceType::DayCare, date(2024, 5, 3)), 15);
        assert!(std::ptr::eq(c.pool_of(ServiceType::ShortStay).unwrap(), c.pool_of(ServiceType::DayCare).unwrap()));
        // Outreach from October 2023.
        assert_eq!(c.capacity(ServiceType::Outreach, date(2023, 9, 30)), 0);
        assert_eq!(c.capacity(ServiceType::Outreach, date(2023, 10, 1)), 3);
        assert_eq!(c.capacity(ServiceType::ShortStay, date(2018, 3, 20)), 0);
    }

    #[test]
    fn mamas_room_opens_four_weekdays() {
        let m = FacilityCalendar::setagaya_mamas_room();
        // Week of 6 October 2025: Mon–Sun.
        let open: Vec<bool> = (6..=12).map(|d| m.is_open(date(2025, 10, d))).collect();
        assert_eq!(open, vec![true, true, false, true, true, false, false]);
        assert_eq!(m.opening().closed_because(date(2025, 10, 8)), Some(ClosedBecause::ClosedWeekday { weekday: 3 }));
        assert!(!m.offers(ServiceType::ShortStay));
        assert_eq!(m.capacity(ServiceType::ShortStay, date(2025, 10, 6)), 0);
        assert_eq!(m.capacity(ServiceType::DayCare, date(2025, 10, 6)), 3);
        // Sports Day, a Monday: the seed's days have no holiday exception, so open.
        assert!(m.is_open(date(2025, 10, 13)));
        assert_eq!(m.capacity(ServiceType::DayCare, date(2025, 10, 13)), 3);
        // Closing on holidays is the facility's setting.
        let closes = m.with_opening(OpeningRules { closed_on_public_holidays: true, ..m.opening().clone() });
        assert_eq!(
            closes.opening().closed_because(date(2025, 10, 13)),
            Some(ClosedBecause::PublicHoliday { holiday: Holiday::SportsDay })
        );
        assert_eq!(closes.capacity(ServiceType::DayCare, date(2025, 10, 13)), 0);
        assert!(closes.is_open(date(2025, 10, 14)));
    }

    #[test]
    fn mamas_room_capacity_periods() {
        let m = FacilityCalendar::setagaya_mamas_room();
        let cap = |y, mo, d| m.capacity(ServiceType::DayCare, date(y, mo, d));
        assert_eq!(cap(2020, 2, 28), 3); // Fri
        assert_eq!(cap(2020, 3, 2), 2); // Mon
        assert_eq!(cap(2020, 4, 16), 2); // Thu
        assert_eq!(cap(2020, 4, 17), 0); // Fri, use stopped
        assert_eq!(m.opening().closed_because(date(2020, 4, 17)), Some(ClosedBecause::Closure { index: 0 }));
        assert_eq!(cap(2020, 5, 29), 0); // Fri, stopped
        assert_eq!(cap(2020, 6, 1), 2); // Mon
        assert_eq!(cap(2021, 11, 12), 2); // Fri
        assert_eq!(cap(2021, 11, 15), 3); // Mon
        assert_eq!(cap(2022, 1, 20), 3); // Thu
        assert_eq!(cap(2022, 1, 21), 2); // Fri
        assert_eq!(cap(2022, 3, 24), 2); // Thu
        assert_eq!(cap(2022, 3, 25), 3); // Fri
    }

    #[test]
    fn closed_days_say_why() {
        let m = FacilityCalendar::setagaya_mamas_room();
        let days = m.closed_days(ServiceType::DayCare, DateRange::new(date(2020, 4, 15), date(2020, 4, 18)).unwrap());
        assert_eq!(
            days,
            vec![
                ClosedDay {
                    day: date(2020, 4, 15),
                    because: ClosedBecause::ClosedWeekday { weekday: 3 },
                    reason: None
                },
                ClosedDay {
                    day: date(2020, 4, 17),
                    because: ClosedBecause::Closure { index: 0 },
                    reason: Some("利用中止（新型コロナウイルス感染症）".to_owned())
                },
                ClosedDay {
                    day: date(2020, 4, 18),
                    because: ClosedBecause::ClosedWeekday { weekday: 6 },
                    reason: None
                },
            ]
        );
        let c = FacilityCalendar::setagaya_centre();
        let days = c.closed_days(ServiceType::Outreach, DateRange::single(date(2023, 9, 30)));
        assert_eq!(days[0].because, ClosedBecause::NoPlaces);
        assert!(c.closed_days(ServiceType::ShortStay, DateRange::single(date(2025, 10, 13))).is_empty());
    }

    #[test]
    fn only_the_centre_takes_siblings() {
        let c = FacilityCalendar::setagaya_centre();
        assert!(c.accepts_siblings(ServiceType::ShortStay));
        assert!(c.accepts_siblings(ServiceType::DayCare));
        assert!(!c.accepts_siblings(ServiceType::Outreach));
        assert!(!FacilityCalendar::setagaya_mamas_room().accepts_siblings(ServiceType::DayCare));
        assert!(!FacilityCalendar::setagaya_shiseikai().accepts_siblings(ServiceType::ShortStay));
    }

    #[test]
    fn hospital_every_day() {
        let h = FacilityCalendar::setagaya_shiseikai();
        assert_eq!(h.capacity(ServiceType::ShortStay, date(2023, 3, 31)), 0);
        assert_eq!(h.capacity(ServiceType::ShortStay, date(2023, 4, 1)), 2);
        assert_eq!(h.capacity(ServiceType::ShortStay, date(2024, 1, 1)), 2);
        assert_eq!(h.capacity(ServiceType::ShortStay, date(2024, 3, 30)), 2);
        assert_eq!(h.capacity(ServiceType::DayCare, date(2024, 3, 30)), 0);
    }

    #[test]
    fn annual_closures_may_wrap_the_new_year() {
        let c = AnnualClosure { from: MonthDay::new(12, 29).unwrap(), to: MonthDay::new(1, 3).unwrap() };
        assert!(c.contains(date(2025, 12, 29)));
        assert!(c.contains(date(2026, 1, 3)));
        assert!(!c.contains(date(2026, 1, 4)));
        assert!(!c.contains(date(2025, 12, 28)));
        let leap = AnnualClosure { from: MonthDay::new(2, 29).unwrap(), to: MonthDay::new(2, 29).unwrap() };
        assert!(leap.contains(date(2024, 2, 29)));
        assert!(!leap.contains(date(2025, 2, 28)));
        assert!(MonthDay::new(2, 30).is_err());
        assert!(MonthDay::new(13, 1).is_err());
    }

    #[test]
    fn explicit_closures_and_holiday_option() {
        let mut rules = OpeningRules::every_day();
        assert!(rules.is_open(date(2026, 1, 1)));
        rules.closed_on_public_holidays = true;
        assert!(!rules.is_open(date(2026, 1, 1)));
        assert!(!rules.is_open(date(2026, 9, 22))); // citizens' holiday
        assert!(rules.is_open(date(2026, 1, 2)));
        rules.closures.push(Closure {
            range: DateRange::new(date(2026, 2, 1), date(2026, 2, 14)).unwrap(),
            reason: "感染対策".into(),
        });
        assert!(!rules.is_open(date(2026, 2, 1)));
        assert!(!rules.is_open(date(2026, 2, 14)));
        assert!(rules.is_open(date(2026, 2, 15)));
    }

    #[test]
    fn an_administrator_adds_closures() {
        let mut rules = OpeningRules::on_weekdays(&[Weekday::Monday]);
        let week = DateRange::new(date(2026, 1, 5), date(2026, 1, 11)).unwrap();
        assert_eq!(rules.add_closure(week, "  "), Err(ClosureError::ReasonRequired));
        assert_eq!(rules.add_closure(week, &"あ".repeat(201)), Err(ClosureError::ReasonTooLong));
        let long = DateRange::starting(date(2026, 1, 1), MAX_CLOSURE_DAYS + 1).unwrap();
        assert_eq!(rules.add_closure(long, "x"), Err(ClosureError::TooLong));
        rules.add_closure(week, " 院内研修 ").unwrap();
        assert_eq!(rules.closures[0].reason, "院内研修");
        assert!(!rules.is_open(date(2026, 1, 5)));
        assert!(rules.is_open(date(2026, 1, 12)));
    }

    #[test]
    fn pools_are_checked() {
        let pool = |s: Vec<ServiceType>| CapacityPool {
            services: s,
            plan: CapacityPlan::fixed(1),
            from: None,
            accepts_siblings: false,
        };
        assert_eq!(
            FacilityCalendar::new(
                OpeningRules::every_day(),
                vec![pool(vec![ServiceType::DayCare]), pool(vec![ServiceType::DayCare])]
            ),
            Err(CalendarError::ServiceInTwoPools { service: ServiceType::DayCare })
        );
        assert_eq!(FacilityCalendar::new(OpeningRules::every_day(), vec![pool(vec![])]), Err(CalendarError::EmptyPool));
    }

    #[test]
    fn calendars_are_configuration_in_json() {
        for c in [
            FacilityCalendar::setagaya_centre(),
            FacilityCalendar::setagaya_mamas_room(),
            FacilityCalendar::setagaya_shiseikai(),
        ] {
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(serde_json::from_str::<FacilityCalendar>(&json).unwrap(), c);
        }
        let bad = r#"{"opening":{"days":"every_day"},"pools":[{"services":["day_care"],"plan":{"places":1}},{"services":["day_care"],"plan":{"places":2}}]}"#;
        assert!(serde_json::from_str::<FacilityCalendar>(bad).is_err());
        let weekdays = r#"{"opening":{"days":{"weekdays":["mon","thu"]}},"pools":[{"services":["day_care"],"plan":{"places":3}}]}"#;
        let c: FacilityCalendar = serde_json::from_str(weekdays).unwrap();
        assert!(c.is_open(date(2025, 10, 9)));
        assert!(!c.is_open(date(2025, 10, 10)));
    }
}
