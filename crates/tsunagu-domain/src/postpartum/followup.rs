//! Online follow-up consultations (産後ケアセンター オンライン相談, from
//! October 2020): former users of the municipal centre whose baby is under
//! 1 year talk to a midwife they know, in 20-minute slots, twice a week.
//! [001] オンライン相談: 対象は産後ケアセンターを利用したことのある１歳未満の母子;
//! 週２回／１件あたり２０分.
//!
//! The seed gives neither the weekdays nor the times, nor how many
//! 20-minute consultations fit in one session. The weekly pattern is
//! therefore configuration; [`FollowupPattern::default`] is our invented
//! default (Tuesdays and Fridays, 13:00–14:00, three slots each), chosen
//! because the published counts (25 in Oct–Mar FY2020, 105 in FY2021,
//! 94 in FY2022) exceed what one slot per session could hold in FY2021
//! (at most 104–105 sessions a year).

use crate::dates::{last_day_under_months, weekday_serde, DateRange};
use crate::holidays::is_public_holiday;
use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::ToSpan;
use serde::{Deserialize, Serialize};

/// One weekly session: on `weekday`, `slots` consecutive slots from `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklySession {
    #[serde(with = "weekday_serde")]
    pub weekday: Weekday,
    pub start: Time,
    pub slots: u8,
}

/// The weekly pattern of follow-up slots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowupPattern {
    pub sessions: Vec<WeeklySession>,
    /// [001] １件あたり２０分.
    pub slot_minutes: u16,
    /// Skip sessions on Japanese public holidays. The seed is silent; the
    /// centre itself is open on holidays, so the default keeps them.
    pub skip_public_holidays: bool,
}

/// Length of a follow-up slot. [001] オンライン相談: １件あたり２０分
pub const SLOT_MINUTES: u16 = 20;

impl Default for FollowupPattern {
    /// Twice a week ([001] 週２回), three 20-minute slots from 13:00 on
    /// Tuesdays and Fridays (weekdays and times are our assumption).
    fn default() -> Self {
        const ONE_PM: Time = Time::constant(13, 0, 0, 0);
        Self {
            sessions: vec![
                WeeklySession { weekday: Weekday::Tuesday, start: ONE_PM, slots: 3 },
                WeeklySession { weekday: Weekday::Friday, start: ONE_PM, slots: 3 },
            ],
            slot_minutes: SLOT_MINUTES,
            skip_public_holidays: false,
        }
    }
}

/// One bookable slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct FollowupSlot {
    pub start: DateTime,
    pub end: DateTime,
}

impl FollowupSlot {
    pub fn date(&self) -> Date {
        self.start.date()
    }
}

/// Every slot of the pattern in `range`, in time order. Slots that would
/// run past midnight are left out.
///
/// Seed: [001] オンライン相談: 週２回／１件あたり２０分
pub fn slots(pattern: &FollowupPattern, range: DateRange) -> Vec<FollowupSlot> {
    let minutes = i64::from(pattern.slot_minutes);
    let mut out = Vec::new();
    if minutes == 0 {
        return out;
    }
    for day in range.days() {
        if pattern.skip_public_holidays && is_public_holiday(day) {
            continue;
        }
        for session in pattern.sessions.iter().filter(|s| s.weekday == day.weekday()) {
            for i in 0..i64::from(session.slots) {
                let Some(offset) = i.checked_mul(minutes) else { continue };
                let Ok(start) = day.to_datetime(session.start).checked_add(offset.minutes()) else { continue };
                let Ok(end) = start.checked_add(minutes.minutes()) else { continue };
                if start.date() == day && (end.date() == day || end.time() == Time::midnight()) {
                    out.push(FollowupSlot { start, end });
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// What decides whether a mother may book a follow-up slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowupInput {
    /// The last day she used the municipal centre (short stay or day care), if ever.
    pub last_centre_day: Option<Date>,
    pub baby_birth_date: Date,
    pub slot_date: Date,
}

/// Why a follow-up booking is refused. Stable codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "code")]
pub enum FollowupRefusal {
    /// She has not used the centre before the slot day.
    NotFormerUser,
    /// The baby is 1 year old on the slot day.
    BabyTooOld { last_eligible_day: Date },
}

impl FollowupRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            FollowupRefusal::NotFormerUser => "not_former_user",
            FollowupRefusal::BabyTooOld { .. } => "baby_too_old",
        }
    }
}

/// May she book a slot on `slot_date`? She must be a former user — a day
/// at the centre before the slot day (the consultation continues care
/// "after use", 利用後も) — and the baby must be under 1 year on that day
/// (actual age; the seed's corrected age is for the 4-month limit).
///
/// Seed: [001] オンライン相談: 対象は産後ケアセンターを利用したことのある１歳未満の母子;
/// 開始の経緯: センター利用後も継続して相談できる仕組み
pub fn check_followup(input: &FollowupInput) -> Vec<FollowupRefusal> {
    let mut refusals = Vec::new();
    if input.last_centre_day.is_none_or(|d| d >= input.slot_date) {
        refusals.push(FollowupRefusal::NotFormerUser);
    }
    let last = last_day_under_months(input.baby_birth_date, 12);
    if input.slot_date > last {
        refusals.push(FollowupRefusal::BabyTooOld { last_eligible_day: last });
    }
    refusals
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fiscal::FiscalYear;
    use jiff::civil::{date, time};

    #[test]
    fn default_pattern_gives_twice_a_week() {
        // Week of Monday 6 October 2025.
        let week = DateRange::new(date(2025, 10, 6), date(2025, 10, 12)).unwrap();
        let s = slots(&FollowupPattern::default(), week);
        assert_eq!(s.len(), 6);
        assert_eq!(s[0].start, date(2025, 10, 7).at(13, 0, 0, 0));
        assert_eq!(s[0].end, date(2025, 10, 7).at(13, 20, 0, 0));
        assert_eq!(s[2].end, date(2025, 10, 7).at(14, 0, 0, 0));
        assert_eq!(s[3].date(), date(2025, 10, 10));
        let days: std::collections::BTreeSet<Date> = s.iter().map(FollowupSlot::date).collect();
        assert_eq!(days.len(), 2);
    }

    #[test]
    fn a_fiscal_year_of_slots() {
        // FY2021 has 52 Tuesdays and 52 Fridays.
        let fy = FiscalYear::new(2021).unwrap();
        assert_eq!(slots(&FollowupPattern::default(), fy.range()).len(), 104 * 3);
        let one = FollowupPattern {
            sessions: vec![
                WeeklySession { weekday: Weekday::Tuesday, start: time(13, 0, 0, 0), slots: 1 },
                WeeklySession { weekday: Weekday::Friday, start: time(13, 0, 0, 0), slots: 1 },
            ],
            ..FollowupPattern::default()
        };
        // One slot a session could not hold the 105 consultations of FY2021 [001].
        assert!(slots(&one, fy.range()).len() < 105);
    }

    #[test]
    fn the_pattern_is_configuration() {
        let json = serde_json::to_string(&FollowupPattern::default()).unwrap();
        assert!(json.contains(r#""weekday":"tue""#), "{json}");
        assert_eq!(serde_json::from_str::<FollowupPattern>(&json).unwrap(), FollowupPattern::default());
        let bad = json.replace("tue", "tuesday");
        assert!(serde_json::from_str::<FollowupPattern>(&bad).is_err());
    }

    #[test]
    fn holidays_can_be_skipped() {
        // Friday 3 November 2023 is Culture Day.
        let week = DateRange::new(date(2023, 10, 30), date(2023, 11, 5)).unwrap();
        let keep = slots(&FollowupPattern::default(), week);
        let skip = slots(&FollowupPattern { skip_public_holidays: true, ..FollowupPattern::default() }, week);
        assert_eq!((keep.len(), skip.len()), (6, 3));
    }

    #[test]
    fn slots_stay_inside_their_day() {
        let late = FollowupPattern {
            sessions: vec![WeeklySession { weekday: Weekday::Monday, start: time(23, 20, 0, 0), slots: 3 }],
            ..FollowupPattern::default()
        };
        let s = slots(&late, DateRange::single(date(2025, 10, 6)));
        assert_eq!(s.len(), 2); // 23:20–23:40 and 23:40–24:00; 24:00–24:20 is dropped
        let none = FollowupPattern { slot_minutes: 0, ..FollowupPattern::default() };
        assert!(slots(&none, DateRange::single(date(2025, 10, 7))).is_empty());
    }

    #[test]
    fn who_may_book() {
        let i = FollowupInput {
            last_centre_day: Some(date(2025, 11, 20)),
            baby_birth_date: date(2025, 10, 15),
            slot_date: date(2026, 1, 9),
        };
        assert!(check_followup(&i).is_empty());
        // The day before the first birthday, and the birthday.
        assert!(check_followup(&FollowupInput { slot_date: date(2026, 10, 14), ..i }).is_empty());
        assert_eq!(
            check_followup(&FollowupInput { slot_date: date(2026, 10, 15), ..i }),
            vec![FollowupRefusal::BabyTooOld { last_eligible_day: date(2026, 10, 14) }]
        );
        // Never used the centre, or only on the slot day itself.
        let codes = |i: FollowupInput| check_followup(&i).iter().map(FollowupRefusal::code).collect::<Vec<_>>();
        assert_eq!(codes(FollowupInput { last_centre_day: None, ..i }), vec!["not_former_user"]);
        assert_eq!(codes(FollowupInput { last_centre_day: Some(date(2026, 1, 9)), ..i }), vec!["not_former_user"]);
        assert_eq!(
            codes(FollowupInput { last_centre_day: None, slot_date: date(2027, 1, 1), ..i }),
            vec!["not_former_user", "baby_too_old"]
        );
    }
}
