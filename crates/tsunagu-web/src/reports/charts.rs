//! The report's charts, drawn on the server as SVG (no script; they print):
//! facility days as bars per facility and year, occupancy as a line across
//! the years. Geometry only; the template writes the elements, so every
//! name is escaped like any other text.

use super::{Loaded, DAYS, OCCUPANCY};
use crate::i18n::Lang;
use tsunagu_domain::reports::table::{RowLabel, Shown, TableKind};

pub const WIDTH: u32 = 640;
pub const HEIGHT: u32 = 260;
const LEFT: u32 = 56;
const RIGHT: u32 = 16;
const TOP: u32 = 16;
const BOTTOM: u32 = 40;

/// A bar (or, when held back, a `*` where it would stand).
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    /// `s0`, `s1`, …: the facility's colour.
    pub class: String,
    /// Its value as written, shown above it and read by screen readers.
    pub text: String,
    pub suppressed: bool,
}

/// A facility's line across the years.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub class: String,
    /// `x,y x,y …` for a polyline.
    pub points: String,
    pub dots: Vec<(u32, u32, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub bars: Vec<Bar>,
    pub lines: Vec<Line>,
    /// Labels under the x axis: (x, text).
    pub x_labels: Vec<(u32, String)>,
    /// Gridlines and their labels: (y, text).
    pub y_ticks: Vec<(u32, String)>,
    /// (class, facility name).
    pub legend: Vec<(String, String)>,
    pub width: u32,
    pub height: u32,
    pub baseline: u32,
    pub left: u32,
    pub right: u32,
}

/// Each facility's (days, rate) per year.
type Values = Vec<Vec<(Shown, Shown)>>;

/// The facilities, the years, and each facility's (days, rate) per year.
fn series(lang: Lang, l: &Loaded) -> (Vec<String>, Vec<String>, Values) {
    let mut names: Vec<(String, String)> = Vec::new();
    for y in &l.years {
        if let Some(t) = y.tables.iter().find(|t| t.kind == TableKind::PostpartumUse) {
            for r in &t.rows {
                if let RowLabel::Name { ja, en } = r {
                    if !names.iter().any(|(j, _)| j == ja) {
                        names.push((ja.clone(), en.clone()));
                    }
                }
            }
        }
    }
    let years: Vec<String> = l
        .years
        .iter()
        .map(|y| match lang {
            Lang::Ja => y.fiscal_year.label_ja(),
            Lang::En => y.fiscal_year.label_en(),
        })
        .collect();
    let values = names
        .iter()
        .map(|(ja, _)| {
            l.years
                .iter()
                .map(|y| {
                    y.tables
                        .iter()
                        .find(|t| t.kind == TableKind::PostpartumUse)
                        .and_then(|t| {
                            let r = t.rows.iter().position(|r| matches!(r, RowLabel::Name { ja: j, .. } if j == ja))?;
                            Some((t.cell((r, DAYS))?, t.cell((r, OCCUPANCY))?))
                        })
                        .unwrap_or((Shown::Count(0), Shown::Rate(None)))
                })
                .collect()
        })
        .collect();
    let names = names.into_iter().map(|(ja, en)| if lang == Lang::Ja { ja } else { en }).collect();
    (names, years, values)
}

/// A round step for gridlines over 0..=max.
fn step(max: u64) -> u64 {
    let mut s = 1u64;
    while max / s > 5 {
        s = match s.to_string().chars().next() {
            Some('1') => s * 2,
            Some('2') => s / 2 * 5,
            _ => s * 2,
        };
    }
    s
}

fn scale(v: u64, max: u64, span: u32) -> u32 {
    if max == 0 {
        return 0;
    }
    u32::try_from(v.saturating_mul(u64::from(span)) / max).unwrap_or(span)
}

/// Facility days: a group of bars per year, one bar per facility.
pub fn days_bars(lang: Lang, l: &Loaded) -> Option<Chart> {
    let (names, years, values) = series(lang, l);
    if names.is_empty() || years.is_empty() {
        return None;
    }
    let max = values.iter().flatten().filter_map(|(d, _)| d.number()).max().unwrap_or(0).max(1);
    let st = step(max);
    let top = max.div_ceil(st) * st;
    let span = HEIGHT - TOP - BOTTOM;
    let baseline = HEIGHT - BOTTOM;
    let plot = WIDTH - LEFT - RIGHT;
    let n_years = u32::try_from(years.len()).unwrap_or(1).max(1);
    let n_fac = u32::try_from(names.len()).unwrap_or(1).max(1);
    let group = plot / n_years;
    let bar_w = (group * 3 / 4 / n_fac).max(2);
    let mut bars = Vec::new();
    for (f, row) in values.iter().enumerate() {
        for (yi, (days, _)) in row.iter().enumerate() {
            let gi = u32::try_from(yi).unwrap_or(0);
            let fi = u32::try_from(f).unwrap_or(0);
            let x = LEFT + gi * group + group / 8 + fi * bar_w;
            let h = days.number().map_or(0, |v| scale(v, top, span));
            bars.push(Bar {
                x,
                y: baseline - h,
                w: bar_w.saturating_sub(1).max(1),
                h,
                class: format!("s{}", f % 6),
                text: days.text(),
                suppressed: days.is_suppressed(),
            });
        }
    }
    Some(Chart {
        bars,
        lines: Vec::new(),
        x_labels: years
            .into_iter()
            .enumerate()
            .map(|(i, y)| (LEFT + u32::try_from(i).unwrap_or(0) * group + group / 2, y))
            .collect(),
        y_ticks: (0..=top / st).map(|k| (baseline - scale(k * st, top, span), Shown::Count(k * st).text())).collect(),
        legend: names.into_iter().enumerate().map(|(i, n)| (format!("s{}", i % 6), n)).collect(),
        width: WIDTH,
        height: HEIGHT,
        baseline,
        left: LEFT,
        right: WIDTH - RIGHT,
    })
}

/// Occupancy: a line per facility across the years (0–100%).
pub fn occupancy_lines(lang: Lang, l: &Loaded) -> Option<Chart> {
    let (names, years, values) = series(lang, l);
    if names.is_empty() || years.is_empty() {
        return None;
    }
    let span = HEIGHT - TOP - BOTTOM;
    let baseline = HEIGHT - BOTTOM;
    let plot = WIDTH - LEFT - RIGHT;
    let n_years = u32::try_from(years.len()).unwrap_or(1).max(1);
    let gap = plot / n_years;
    let x_of = |i: usize| LEFT + u32::try_from(i).unwrap_or(0) * gap + gap / 2;
    let mut lines = Vec::new();
    for (f, row) in values.iter().enumerate() {
        let mut dots = Vec::new();
        for (i, (_, rate)) in row.iter().enumerate() {
            if let Shown::Rate(Some(tenths)) = rate {
                dots.push((x_of(i), baseline - scale((*tenths).min(1000), 1000, span), rate.text()));
            }
        }
        if dots.is_empty() {
            continue;
        }
        let points = dots.iter().map(|(x, y, _)| format!("{x},{y}")).collect::<Vec<_>>().join(" ");
        lines.push(Line { class: format!("s{}", f % 6), points, dots });
    }
    Some(Chart {
        bars: Vec::new(),
        lines,
        x_labels: years.into_iter().enumerate().map(|(i, y)| (x_of(i), y)).collect(),
        y_ticks: (0..=4u64).map(|k| (baseline - scale(k * 250, 1000, span), format!("{}%", k * 25))).collect(),
        legend: names.into_iter().enumerate().map(|(i, n)| (format!("s{}", i % 6), n)).collect(),
        width: WIDTH,
        height: HEIGHT,
        baseline,
        left: LEFT,
        right: WIDTH - RIGHT,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gridline_steps_are_round() {
        assert_eq!(step(5), 1);
        assert_eq!(step(4_431), 1_000);
        assert_eq!(step(989), 200);
        assert_eq!(scale(50, 100, 200), 100);
        assert_eq!(scale(5, 0, 200), 0);
    }
}
