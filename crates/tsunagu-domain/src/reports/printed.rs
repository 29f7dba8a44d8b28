//! The figures a city printed for a fiscal year, entered by its
//! administrator (#14, reconciliation): per facility the days by service,
//! the families and the 稼働率 ([001] 利用実績), and per district the
//! families ([001] 地域別利用者数（２施設合計）). A form and a JSON body
//! both arrive as text per field and become a [`PrintedYear`] through
//! [`check`] alone; nothing is stored when a field is wrong.

use super::reconcile::PrintedFigures;
use crate::validation::FieldErrors;
use serde::{Deserialize, Serialize};

/// The most a printed count may be (a day count of one facility in a year
/// is in the thousands; a typo of a few more digits is refused).
pub const MAX_PRINTED: u64 = 10_000_000;

/// A district's printed families in a fiscal year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PrintedArea {
    pub area_id: i64,
    pub fiscal_year: i32,
    pub families: u64,
}

/// Everything a city printed for one fiscal year.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrintedYear {
    pub fiscal_year: i32,
    pub facilities: Vec<PrintedFigures>,
    pub areas: Vec<PrintedArea>,
}

/// A facility's fields as typed (empty: not printed). All three counts or
/// none; the rate is optional (`82.4`, `82.4%`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PrintedFacilityInput {
    pub venue_id: i64,
    #[serde(default)]
    pub short_stay_days: String,
    #[serde(default)]
    pub day_care_days: String,
    #[serde(default)]
    pub families: String,
    /// The printed 稼働率 in percent with at most one decimal (`82.4`); empty when not printed.
    #[serde(default)]
    pub occupancy: String,
}

/// A district's field as typed (empty: not printed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PrintedAreaInput {
    pub area_id: i64,
    #[serde(default)]
    pub families: String,
}

/// The field name of a facility's value (`ss.12`, `dc.12`, `families.12`,
/// `occupancy.12`) and of a district's (`area.3`): the form's names, and
/// where an error is shown.
pub fn facility_field(what: &str, venue_id: i64) -> String {
    format!("{what}.{venue_id}")
}

pub fn area_field(area_id: i64) -> String {
    format!("area.{area_id}")
}

fn count(text: &str) -> Result<Option<u64>, &'static str> {
    let t = text.trim().replace([',', '，'], "");
    if t.is_empty() {
        return Ok(None);
    }
    let n: u64 = t.parse().map_err(|_| "not_a_number")?;
    if n > MAX_PRINTED {
        return Err("out_of_range");
    }
    Ok(Some(n))
}

/// `82.4`, `82.4%`, `82` → tenths of a percent (824, 820); 0–100%.
pub fn rate_tenths(text: &str) -> Result<Option<u64>, &'static str> {
    let t = text.trim().trim_end_matches(['%', '％']).trim();
    if t.is_empty() {
        return Ok(None);
    }
    let (whole, tenth) = match t.split_once('.') {
        Some((w, f)) if f.len() == 1 => (w, f),
        Some(_) => return Err("not_a_number"),
        None => (t, "0"),
    };
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !tenth.bytes().all(|b| b.is_ascii_digit()) {
        return Err("not_a_number");
    }
    let w: u64 = whole.parse().map_err(|_| "not_a_number")?;
    let f: u64 = tenth.parse().map_err(|_| "not_a_number")?;
    let tenths = w.saturating_mul(10).saturating_add(f);
    if tenths > 1000 {
        return Err("out_of_range");
    }
    Ok(Some(tenths))
}

/// Checks a fiscal year's printed figures against the municipality's
/// facilities and districts (`venues`, `areas`: their ids): an unknown one
/// is refused (`unknown_venue`, `unknown_area`), a facility printed in part
/// names its missing fields (`required`), a count is a whole number up to
/// [`MAX_PRINTED`], a rate 0–100% with at most one decimal.
pub fn check(
    fiscal_year: i32,
    facilities: &[PrintedFacilityInput],
    areas: &[PrintedAreaInput],
    venues: &[i64],
    known_areas: &[i64],
) -> Result<PrintedYear, FieldErrors> {
    let mut errors = FieldErrors::default();
    let mut out = PrintedYear { fiscal_year, ..Default::default() };
    for f in facilities {
        if !venues.contains(&f.venue_id) {
            errors.add(facility_field("ss", f.venue_id), "unknown_venue");
            continue;
        }
        let mut read = |what: &str, text: &str| match count(text) {
            Ok(n) => n,
            Err(code) => {
                errors.add(facility_field(what, f.venue_id), code);
                None
            }
        };
        let ss = read("ss", &f.short_stay_days);
        let dc = read("dc", &f.day_care_days);
        let families = read("families", &f.families);
        let rate = match rate_tenths(&f.occupancy) {
            Ok(r) => r,
            Err(code) => {
                errors.add(facility_field("occupancy", f.venue_id), code);
                None
            }
        };
        let typed = |t: &str| !t.trim().is_empty();
        let any = [&f.short_stay_days, &f.day_care_days, &f.families, &f.occupancy].iter().any(|t| typed(t));
        if !any {
            continue;
        }
        for (what, text) in [("ss", &f.short_stay_days), ("dc", &f.day_care_days), ("families", &f.families)] {
            if !typed(text) {
                errors.add(facility_field(what, f.venue_id), "required");
            }
        }
        if let (Some(short_stay_days), Some(day_care_days), Some(families)) = (ss, dc, families) {
            out.facilities.push(PrintedFigures {
                venue_id: f.venue_id,
                fiscal_year,
                short_stay_days,
                day_care_days,
                families,
                occupancy_tenths: rate,
            });
        }
    }
    for a in areas {
        if !known_areas.contains(&a.area_id) {
            errors.add(area_field(a.area_id), "unknown_area");
            continue;
        }
        match count(&a.families) {
            Ok(Some(families)) => out.areas.push(PrintedArea { area_id: a.area_id, fiscal_year, families }),
            Ok(None) => {}
            Err(code) => errors.add(area_field(a.area_id), code),
        }
    }
    errors.finish(|| out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facility(v: i64, ss: &str, dc: &str, fam: &str, occ: &str) -> PrintedFacilityInput {
        PrintedFacilityInput {
            venue_id: v,
            short_stay_days: ss.into(),
            day_care_days: dc.into(),
            families: fam.into(),
            occupancy: occ.into(),
        }
    }

    #[test]
    fn the_published_fy2022_figures_are_read() {
        // [001] 利用実績 令和4 and 地域別利用者数 令和４年度.
        let areas: Vec<PrintedAreaInput> = [(1, "353"), (2, "140"), (3, "256"), (4, "145"), (5, "95")]
            .iter()
            .map(|(id, n)| PrintedAreaInput { area_id: *id, families: (*n).into() })
            .collect();
        let y =
            check(2022, &[facility(9, "3,725", "706", "932", "82.4%")], &areas, &[9, 10], &[1, 2, 3, 4, 5]).unwrap();
        assert_eq!(
            y.facilities,
            vec![PrintedFigures {
                venue_id: 9,
                fiscal_year: 2022,
                short_stay_days: 3_725,
                day_care_days: 706,
                families: 932,
                occupancy_tenths: Some(824)
            }]
        );
        assert_eq!(y.areas.iter().map(|a| a.families).sum::<u64>(), 989);
        // A facility left empty is not printed.
        let y = check(2022, &[facility(10, "", " ", "", "")], &[], &[9, 10], &[]).unwrap();
        assert!(y.facilities.is_empty());
    }

    #[test]
    fn errors_name_their_fields() {
        let e = check(
            2022,
            &[facility(9, "3725", "", "x", "100.1"), facility(11, "1", "1", "1", "")],
            &[
                PrintedAreaInput { area_id: 1, families: "-3".into() },
                PrintedAreaInput { area_id: 8, families: "1".into() },
            ],
            &[9],
            &[1],
        )
        .unwrap_err();
        assert_eq!(e.for_field("dc.9"), Some("required"));
        assert_eq!(e.for_field("families.9"), Some("not_a_number"));
        assert_eq!(e.for_field("occupancy.9"), Some("out_of_range"));
        assert_eq!(e.for_field("ss.11"), Some("unknown_venue"));
        assert_eq!(e.for_field("area.1"), Some("not_a_number"));
        assert_eq!(e.for_field("area.8"), Some("unknown_area"));
        assert_eq!(e.for_field("ss.9"), None);
    }

    #[test]
    fn rates_in_tenths() {
        assert_eq!(rate_tenths("82.4"), Ok(Some(824)));
        assert_eq!(rate_tenths("82"), Ok(Some(820)));
        assert_eq!(rate_tenths("100%"), Ok(Some(1000)));
        assert_eq!(rate_tenths(""), Ok(None));
        assert_eq!(rate_tenths("82.45"), Err("not_a_number"));
        assert_eq!(rate_tenths("-1"), Err("not_a_number"));
        assert_eq!(rate_tenths("100.1"), Err("out_of_range"));
        assert_eq!(count("10000001"), Err("out_of_range"));
    }
}
