//! Recorded figures beside the ones a city printed ([001] 利用実績), and
//! why an occupancy rate differs when it does — shown, never forced.
//!
//! [001] prints the municipal centre's yearly days, families and 稼働率.
//! The days and families are counts: records that hold that use give the
//! same numbers through the report. The rate is used places ÷ places
//! offered on open days ([`crate::postpartum::occupancy`]); with the seed's
//! calendar (15 places a day, closed 29–31 March) it reproduces FY2019
//! (81.3%) but not FY2018 (86.6% computed, 87.1% printed) nor FY2022
//! (81.6% / 82.4%), FY2020 (60.6% / 60.8%) or FY2021 (80.2% / 80.5%). For each we say which count of places the printed rate
//! implies and, where a whole number of open days at the facility's places
//! gives it, how many days that is (FY2018: 360 and FY2020: 361, where the calendar has
//! 362); for FY2021 and FY2022 no whole number does (358 days give 82.5%, 359 give
//! 82.3%), so the city must have offered some days with fewer places.

use super::build::FacilityUse;
use crate::postpartum::occupancy::Occupancy;
use serde::{Deserialize, Serialize};

/// A facility's figures for a fiscal year as the city printed them: a
/// municipality's setting, entered from its own publication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PrintedFigures {
    pub venue_id: i64,
    pub fiscal_year: i32,
    pub short_stay_days: u64,
    pub day_care_days: u64,
    pub families: u64,
    /// The printed 稼働率 in tenths of a percent (824 = 82.4%).
    pub occupancy_tenths: Option<u64>,
}

/// One count, recorded and printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CountCheck {
    pub key: &'static str,
    pub recorded: u64,
    pub printed: u64,
}

impl CountCheck {
    pub fn matches(&self) -> bool {
        self.recorded == self.printed
    }
}

/// Why a printed rate and the computed one differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum RateExplanation {
    /// They are the same.
    Same,
    /// The printed rate is what `printed_open_days` open days at the
    /// facility's places give; the calendar has `calendar_open_days`.
    OpenDays { printed_open_days: u64, calendar_open_days: u64, places_per_day: u32 },
    /// No whole number of open days at the facility's places gives the
    /// printed rate: it implies `places_from`–`places_to` places offered;
    /// `days_below` open days give `rate_below`, one more gives `rate_above`.
    NoWholeDayCount {
        places_from: u64,
        places_to: u64,
        places_per_day: u32,
        days_below: u64,
        rate_below: u64,
        rate_above: u64,
    },
    /// The printed rate cannot come from the recorded use (no count of
    /// places gives it), so the use itself differs.
    UseDiffers,
}

/// The occupancy rate, recorded and printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RateCheck {
    pub computed_tenths: Option<u64>,
    pub printed_tenths: u64,
    pub offered_places: u64,
    pub explanation: RateExplanation,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reconciliation {
    pub venue_id: i64,
    pub fiscal_year: i32,
    pub counts: Vec<CountCheck>,
    pub rate: Option<RateCheck>,
}

/// Recorded use beside the printed figures of the same facility and year.
pub fn reconcile(recorded: &FacilityUse, printed: &PrintedFigures) -> Reconciliation {
    let counts = vec![
        CountCheck { key: "short_stay_days", recorded: recorded.short_stay_days, printed: printed.short_stay_days },
        CountCheck { key: "day_care_days", recorded: recorded.day_care_days, printed: printed.day_care_days },
        CountCheck {
            key: "facility_days",
            recorded: recorded.facility_days(),
            printed: printed.short_stay_days.saturating_add(printed.day_care_days),
        },
        CountCheck { key: "families", recorded: recorded.families, printed: printed.families },
    ];
    let rate = match (printed.occupancy_tenths, recorded.offered_places) {
        (Some(printed_tenths), Some(offered)) => {
            let used = recorded.facility_days();
            let computed =
                Occupancy { used_places: used, offered_places: offered }.rate().map(|r| r.tenths_of_percent());
            let explanation = if computed == Some(printed_tenths) {
                RateExplanation::Same
            } else {
                explain(used, printed_tenths, offered, recorded.places_per_day)
            };
            Some(RateCheck { computed_tenths: computed, printed_tenths, offered_places: offered, explanation })
        }
        _ => None,
    };
    Reconciliation { venue_id: recorded.venue_id, fiscal_year: printed.fiscal_year, counts, rate }
}

fn rate_of(used: u64, offered: u64) -> Option<u64> {
    Occupancy { used_places: used, offered_places: offered }.rate().map(|r| r.tenths_of_percent())
}

/// The counts of places offered that give `printed` from `used`: the rate
/// falls as places grow, so they are one run around used ÷ printed.
pub fn places_giving(used: u64, printed: u64) -> Option<(u64, u64)> {
    if printed == 0 || used == 0 {
        return None;
    }
    let guess = used.saturating_mul(1000) / printed;
    // Walk down and up from the guess while the rate still rounds to `printed`.
    let window = guess / 50 + 2;
    let lo_bound = guess.saturating_sub(window).max(1);
    let hi_bound = guess.saturating_add(window);
    let hits: Vec<u64> = (lo_bound..=hi_bound).filter(|&p| rate_of(used, p) == Some(printed)).collect();
    Some((*hits.first()?, *hits.last()?))
}

fn explain(used: u64, printed: u64, offered: u64, places_per_day: u32) -> RateExplanation {
    let Some((from, to)) = places_giving(used, printed) else { return RateExplanation::UseDiffers };
    let ppd = u64::from(places_per_day.max(1));
    let calendar_open_days = offered / ppd;
    if let Some(p) = (from..=to).find(|p| p % ppd == 0) {
        return RateExplanation::OpenDays { printed_open_days: p / ppd, calendar_open_days, places_per_day };
    }
    let days_below = from / ppd;
    RateExplanation::NoWholeDayCount {
        places_from: from,
        places_to: to,
        places_per_day,
        days_below,
        rate_below: rate_of(used, days_below.saturating_mul(ppd)).unwrap_or(0),
        rate_above: rate_of(used, days_below.saturating_add(1).saturating_mul(ppd)).unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fiscal::FiscalYear;
    use crate::postpartum::calendar::FacilityCalendar;
    use crate::postpartum::occupancy::places_offered;
    use crate::postpartum::ServiceType;

    /// [001] 産後ケアセンター 利用実績, as printed.
    const CENTRE: [(i32, u64, u64, u64, u64); 5] = [
        (2018, 4_072, 633, 876, 871),
        (2019, 3_592, 835, 764, 813),
        (2020, 2_809, 483, 626, 608),
        (2021, 3_683, 672, 854, 805),
        (2022, 3_725, 706, 932, 824),
    ];

    fn centre_use(y: i32, ss: u64, dc: u64, families: u64) -> FacilityUse {
        let cal = FacilityCalendar::setagaya_centre();
        let fy = FiscalYear::new(y).unwrap();
        FacilityUse {
            venue_id: 1,
            name_ja: "産後ケアセンター".into(),
            name_en: "Postpartum care centre".into(),
            short_stay_days: ss,
            day_care_days: dc,
            outreach_visits: 0,
            families,
            offered_places: Some(places_offered(&cal, ServiceType::ShortStay, fy.range())),
            places_per_day: 15,
        }
    }

    fn printed(y: i32, ss: u64, dc: u64, families: u64, tenths: u64) -> PrintedFigures {
        PrintedFigures {
            venue_id: 1,
            fiscal_year: y,
            short_stay_days: ss,
            day_care_days: dc,
            families,
            occupancy_tenths: Some(tenths),
        }
    }

    #[test]
    fn every_printed_year_reconciled() {
        let mut got = Vec::new();
        for (y, ss, dc, fam, tenths) in CENTRE {
            let r = reconcile(&centre_use(y, ss, dc, fam), &printed(y, ss, dc, fam, tenths));
            assert!(r.counts.iter().all(CountCheck::matches), "FY{y}");
            let rate = r.rate.unwrap();
            got.push((y, rate.computed_tenths.unwrap(), rate.printed_tenths, rate.explanation));
        }
        assert_eq!(
            got,
            vec![
                (
                    2018,
                    866,
                    871,
                    RateExplanation::OpenDays { printed_open_days: 360, calendar_open_days: 362, places_per_day: 15 }
                ),
                (2019, 813, 813, RateExplanation::Same),
                (
                    2020,
                    606,
                    608,
                    RateExplanation::OpenDays { printed_open_days: 361, calendar_open_days: 362, places_per_day: 15 }
                ),
                (
                    2021,
                    802,
                    805,
                    RateExplanation::NoWholeDayCount {
                        places_from: 5_407,
                        places_to: 5_413,
                        places_per_day: 15,
                        days_below: 360,
                        rate_below: 806,
                        rate_above: 804,
                    }
                ),
                (
                    2022,
                    816,
                    824,
                    RateExplanation::NoWholeDayCount {
                        places_from: 5_375,
                        places_to: 5_380,
                        places_per_day: 15,
                        days_below: 358,
                        rate_below: 825,
                        rate_above: 823,
                    }
                ),
            ]
        );
    }

    #[test]
    fn a_count_that_differs_is_shown_as_differing() {
        let r = reconcile(&centre_use(2022, 3_725, 700, 932), &printed(2022, 3_725, 706, 932, 824));
        let dc = r.counts.iter().find(|c| c.key == "day_care_days").unwrap();
        assert!(!dc.matches());
        assert_eq!((dc.recorded, dc.printed), (700, 706));
    }

    #[test]
    fn places_giving_a_rate() {
        assert_eq!(places_giving(4_431, 824), Some((5_375, 5_380)));
        assert_eq!(places_giving(4_705, 871), Some((5_399, 5_404)));
        assert_eq!(places_giving(0, 824), None);
        assert_eq!(places_giving(5, 0), None);
        // 100% needs places ≈ used.
        assert_eq!(places_giving(10, 1000), Some((10, 10)));
    }
}
