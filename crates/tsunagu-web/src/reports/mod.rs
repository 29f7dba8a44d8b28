//! Reports (#14) at the edge: a fiscal year or a range of them, the seeds'
//! tables, charts drawn on the server as SVG, CSV and Excel downloads and
//! the JSON API — all from one [`load`], which asks the policy who sees
//! what: unsuppressed figures only for the staff responsible for the
//! families, on the page (`ViewUnsuppressedFigures`); everyone else, every
//! download and the API get them through the one suppression rule
//! (`tsunagu_domain::reports::suppression`).

use crate::base::error::{permit_municipality, AppError};
use crate::base::AppState;
use crate::i18n::{t, Lang};
use axum::Router;
use serde::{Deserialize, Serialize};
use tsunagu_domain::audit::Requester;
use tsunagu_domain::fiscal::FiscalYear;
use tsunagu_domain::policy::{authorize, Action, FigureChannel, Resource};
use tsunagu_domain::reports::build::{across_years, area_names, year_names, year_tables, FACILITY_DAYS_COLUMN};
use tsunagu_domain::reports::reconcile::{reconcile, RateExplanation, Reconciliation};
use tsunagu_domain::reports::suppression::suppress;
use tsunagu_domain::reports::table::{Published, RowLabel, Shown, TableKind};
use tsunagu_domain::reports::{indicators, Period, ReportSettings};
use tsunagu_domain::roles::Actor;

pub mod api;
mod api_doc;
pub mod charts;
pub mod csv;
pub mod nation;
pub mod pages;
pub mod printed;
pub mod xlsx;

/// What this capability's API operations are, for the API's OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    <api_doc::ApiDoc as utoipa::OpenApi>::openapi()
}

/// The reports' pages, downloads and API.
pub fn routes() -> Router<AppState> {
    Router::new().merge(api::routes()).merge(pages::routes()).merge(nation::routes()).merge(printed::routes())
}

/// The period a query names: `from` (a fiscal year as staff write it:
/// `2022`, `FY2022`, `令和4年度`, `R4`) and optionally `to`; without `from`,
/// the current fiscal year.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// The first fiscal year: `2022`, `FY2022`, `令和4年度` or `R4` (default: this fiscal year).
    pub from: Option<String>,
    /// The last fiscal year, for a range (default: `from`).
    pub to: Option<String>,
}

impl PeriodQuery {
    pub fn period(&self, today: jiff::civil::Date) -> Result<Period, AppError> {
        match self.from.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => FiscalYear::of(today).map(Period::year).map_err(|_| AppError::BadRequest("bad_query")),
            Some(from) => Period::parse(from, self.to.as_deref()).map_err(|e| AppError::BadRequest(e.code())),
        }
    }
}

/// One fiscal year of a report, as its reader is given it.
pub struct LoadedYear {
    pub fiscal_year: FiscalYear,
    pub tables: Vec<Published>,
    /// Recorded use beside the figures the city printed (facility names).
    pub reconciliations: Vec<(String, String, Reconciliation)>,
    /// Families per district, recorded and printed (names, recorded, printed).
    pub districts: Vec<(String, String, u64, u64)>,
}

/// A report as its reader is given it.
pub struct Loaded {
    pub period: Period,
    pub unsuppressed: bool,
    pub settings: ReportSettings,
    pub years: Vec<LoadedYear>,
    /// Facility days per year over a range (derived from the yearly tables).
    pub across: Option<Published>,
}

/// Reads a report for `actor`: the policy decides that it may
/// (`ViewReports`) and whether it sees the counts as they are
/// (`ViewUnsuppressedFigures` on this `channel`); the store answers
/// aggregates and writes one audit line.
pub async fn load(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    period: Period,
    channel: FigureChannel,
) -> Result<Loaded, AppError> {
    let allowed = permit_municipality(actor, Action::ViewReports)?;
    let m = actor.municipality_id;
    let unsuppressed =
        authorize(actor, Action::ViewUnsuppressedFigures, &Resource::Figures { municipality_id: m, channel })
            .is_allowed();
    let (settings, (stored_printed, printed_areas)) =
        tokio::try_join!(state.store.report_settings(m), state.store.printed_figures(m))?;
    let mut aggregates = state.store.report(&requester.allowed(&allowed), &period, settings.follow_up_days).await?;
    for a in &mut aggregates {
        // The municipality's own time for the chat's first answer [003].
        a.chat_answer_hours = settings.chat_answer_hours;
    }
    let publish = |table: &tsunagu_domain::reports::table::Table| {
        if unsuppressed {
            table.unsuppressed()
        } else {
            suppress(table, &settings.suppression)
        }
    };
    let mut years = Vec::new();
    for a in &aggregates {
        // A table that does not add up is our fault, never the caller's.
        let mut tables: Vec<Published> = year_tables(a).map_err(|_| AppError::Internal)?.iter().map(publish).collect();
        tables.push(publish(&indicators::table(a).map_err(|_| AppError::Internal)?));
        // A reconciliation names recorded counts: only where the facility's
        // row is shown whole.
        let use_table = tables.iter().find(|t| t.kind == TableKind::PostpartumUse);
        let mut reconciliations = Vec::new();
        for f in &a.facilities {
            let row_whole = use_table.is_some_and(|t| {
                t.rows
                    .iter()
                    .position(|r| matches!(r, RowLabel::Name { ja, .. } if *ja == f.name_ja))
                    .is_some_and(|r| t.cells.get(r).is_some_and(|cells| !cells.iter().any(Shown::is_suppressed)))
            });
            // The figures the administrator entered for the year; before
            // any, those the settings held (`printed`, the older place).
            let year = a.fiscal_year.year();
            let source =
                if stored_printed.iter().any(|p| p.fiscal_year == year) { &stored_printed } else { &settings.printed };
            let printed = source.iter().find(|p| p.venue_id == f.venue_id && p.fiscal_year == year);
            if let (true, Some(p)) = (row_whole, printed) {
                reconciliations.push((f.name_ja.clone(), f.name_en.clone(), reconcile(f, p)));
            }
        }
        // The district table beside the printed one, when it is shown whole.
        let area_table = tables.iter().find(|t| t.kind == TableKind::UsersByArea);
        let area_whole = area_table.is_some_and(|t| t.cells.iter().flatten().all(|c| !c.is_suppressed()));
        let districts = if area_whole {
            a.areas
                .iter()
                .filter_map(|area| {
                    printed_areas
                        .iter()
                        .find(|p| p.area_id == area.area_id && p.fiscal_year == a.fiscal_year.year())
                        .map(|p| (area.name_ja.clone(), area.name_en.clone(), area.families, p.families))
                })
                .collect()
        } else {
            Vec::new()
        };
        years.push(LoadedYear { fiscal_year: a.fiscal_year, tables, reconciliations, districts });
    }
    let across = (!period.is_single_year()).then(|| {
        let yearly: Vec<(FiscalYear, Published)> = years
            .iter()
            .filter_map(|y| {
                y.tables.iter().find(|t| t.kind == TableKind::PostpartumUse).map(|t| (y.fiscal_year, t.clone()))
            })
            .collect();
        across_years(&period, &yearly)
    });
    Ok(Loaded { period, unsuppressed, settings, years, across })
}

// --- what a reader is shown, in its language ---------------------------------------

/// A report as the page and the API show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReportView {
    /// The first and last fiscal year (the calendar year each starts in).
    pub from: i32,
    pub to: i32,
    /// 令和4年度, 令和3年度〜令和4年度.
    pub label_ja: String,
    /// FY2022, FY2021–FY2022.
    pub label_en: String,
    /// Small counts are held back (shown as `*`): always, but for the
    /// responsible staff on the page.
    pub suppressed: bool,
    /// Counts from 1 to `threshold − 1` are held back.
    pub threshold: u64,
    /// Shown counts are rounded to this base, if set.
    pub rounding: Option<u64>,
    pub years: Vec<YearView>,
    /// Over a range of years: facility days per facility and year.
    pub across_years: Option<TableView>,
}

/// One fiscal year's tables.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct YearView {
    pub fiscal_year: i32,
    pub label_ja: String,
    pub label_en: String,
    pub tables: Vec<TableView>,
    pub reconciliations: Vec<ReconciliationView>,
    /// Families per district, recorded beside printed ([001] 地域別利用者数),
    /// when the city entered them and the district table is shown whole.
    pub districts: Vec<CountView>,
}

/// A table: its kind, title, column headers and rows.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TableView {
    /// `postpartum_use`, `users_by_area`, `follow_ups`, `eighth_month_interviews`, `happy_baby`,
    /// `handbook_meetings`, `check_non_attendees`, `screening`, `referrals`, `class_participation`
    /// (per venue and programme: sessions held, groups, people, couples; a programme at several
    /// venues has a totals row), `chat_figures` (one row a year: rooms opened, parents who wrote,
    /// messages by parents and by supporters, rooms answered within the municipality's time and
    /// not, rooms with a question, the median minutes to a first answer — held back with those
    /// rooms —, escalations open and closed by reason, their total), `indicators`,
    /// `postpartum_across_years`.
    pub kind: String,
    pub title: String,
    /// The header of the rows' label column first, then one per column.
    pub columns: Vec<String>,
    pub rows: Vec<RowView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RowView {
    pub label: String,
    /// The totals row.
    pub total: bool,
    pub cells: Vec<CellView>,
}

/// A cell: as written (`4,431`, `82.4%`, `*`), and its number.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CellView {
    pub text: String,
    /// The count, or a rate in tenths of a percent; none when held back or without a denominator.
    pub value: Option<u64>,
    /// Held back by small-cell suppression (never shown as 0).
    pub suppressed: bool,
    /// A rate (its value is in tenths of a percent).
    pub rate: bool,
}

/// Recorded use beside the printed figures of a facility and year.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReconciliationView {
    pub facility: String,
    pub counts: Vec<CountView>,
    /// The occupancy the records and the calendar give, e.g. `81.6%`.
    pub computed_rate: Option<String>,
    /// The occupancy the city printed, e.g. `82.4%`.
    pub printed_rate: Option<String>,
    /// Why they differ (or that they agree), in words.
    pub explanation: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CountView {
    pub label: String,
    pub recorded: u64,
    pub printed: u64,
    pub matches: bool,
}

fn pick(lang: Lang, ja: &str, en: &str) -> String {
    match lang {
        Lang::Ja => ja.to_owned(),
        Lang::En => en.to_owned(),
    }
}

fn rate_text(tenths: u64) -> String {
    Shown::Rate(Some(tenths)).text()
}

pub fn table_title(lang: Lang, kind: TableKind) -> &'static str {
    t(lang, &format!("rp.table.{}", kind.code()))
}

fn column_label(lang: Lang, key: &str) -> String {
    if let Some((ja, en)) = area_names(key).or_else(|| year_names(key)) {
        return pick(lang, ja, en);
    }
    t(lang, &format!("rp.col.{key}")).to_owned()
}

fn row_label(lang: Lang, label: &RowLabel) -> String {
    match label {
        RowLabel::Name { ja, en } => pick(lang, ja, en),
        RowLabel::Year { ja, en, .. } => pick(lang, ja, en),
        RowLabel::Total => t(lang, "rp.total").to_owned(),
        RowLabel::VenueProgramme { programme, ja, en } => {
            let venue = pick(lang, ja, en);
            let programme = t(lang, &format!("rp.programme.{programme}"));
            match lang {
                Lang::Ja => format!("{venue}（{programme}）"),
                Lang::En => format!("{venue} ({programme})"),
            }
        }
        RowLabel::Key { key } => match key.split_once('.') {
            Some(("programme", rest)) => {
                let programme = t(lang, &format!("rp.programme.{rest}"));
                match lang {
                    Lang::Ja => format!("{}（{programme}）", t(lang, "rp.total")),
                    Lang::En => format!("{} ({programme})", t(lang, "rp.total")),
                }
            }
            Some(("form", rest)) => t(lang, &format!("rp.form.{rest}")).to_owned(),
            Some(("questionnaire", rest)) => t(lang, &format!("rp.questionnaire.{rest}")).to_owned(),
            Some(("source", rest)) => t(lang, &format!("rp.source.{rest}")).to_owned(),
            Some(("ind", rest)) => t(lang, &format!("rp.ind.{rest}")).to_owned(),
            _ => key.clone(),
        },
    }
}

impl TableView {
    pub fn of(lang: Lang, p: &Published) -> Self {
        let rate_columns: Vec<bool> = p
            .columns
            .iter()
            .map(|c| matches!(c.kind, tsunagu_domain::reports::table::ColumnKind::Rate { .. }))
            .collect();
        let mut columns = vec![t(lang, &format!("rp.rows.{}", p.kind.code())).to_owned()];
        columns.extend(p.columns.iter().map(|c| column_label(lang, &c.key)));
        TableView {
            kind: p.kind.code().to_owned(),
            title: table_title(lang, p.kind).to_owned(),
            columns,
            rows: p
                .rows
                .iter()
                .zip(&p.cells)
                .map(|(label, cells)| RowView {
                    label: row_label(lang, label),
                    total: matches!(label, RowLabel::Total),
                    cells: cells
                        .iter()
                        .zip(&rate_columns)
                        .map(|(c, rate)| CellView {
                            text: c.text(),
                            value: c.number(),
                            suppressed: c.is_suppressed(),
                            rate: *rate,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// Why a printed rate and the computed one differ, in words (numbers put
/// beside them: the words files hold plain text).
fn explanation(lang: Lang, e: &RateExplanation) -> String {
    match *e {
        RateExplanation::Same => t(lang, "rp.why.same").to_owned(),
        RateExplanation::OpenDays { printed_open_days, calendar_open_days, places_per_day } => format!(
            "{} {printed_open_days} {} {places_per_day} {} {calendar_open_days} {}",
            t(lang, "rp.why.open_days_1"),
            t(lang, "rp.why.open_days_2"),
            t(lang, "rp.why.open_days_3"),
            t(lang, "rp.why.open_days_4"),
        ),
        RateExplanation::NoWholeDayCount {
            places_from,
            places_to,
            places_per_day,
            days_below,
            rate_below,
            rate_above,
        } => format!(
            "{} {places_from}–{places_to} {} {places_per_day} {} {days_below} {} {} {} {} {}",
            t(lang, "rp.why.no_whole_1"),
            t(lang, "rp.why.no_whole_2"),
            t(lang, "rp.why.no_whole_3"),
            t(lang, "rp.why.no_whole_4"),
            rate_text(rate_below),
            t(lang, "rp.why.no_whole_5"),
            rate_text(rate_above),
            t(lang, "rp.why.no_whole_6"),
        ),
        RateExplanation::UseDiffers => t(lang, "rp.why.use_differs").to_owned(),
    }
}

impl ReconciliationView {
    fn of(lang: Lang, name_ja: &str, name_en: &str, r: &Reconciliation) -> Self {
        ReconciliationView {
            facility: pick(lang, name_ja, name_en),
            counts: r
                .counts
                .iter()
                .map(|c| CountView {
                    label: t(lang, &format!("rp.col.{}", c.key)).to_owned(),
                    recorded: c.recorded,
                    printed: c.printed,
                    matches: c.matches(),
                })
                .collect(),
            computed_rate: r.rate.and_then(|x| x.computed_tenths).map(rate_text),
            printed_rate: r.rate.map(|x| rate_text(x.printed_tenths)),
            explanation: r.rate.map(|x| explanation(lang, &x.explanation)),
        }
    }
}

impl ReportView {
    pub fn of(lang: Lang, l: &Loaded) -> Self {
        ReportView {
            from: l.period.first().year(),
            to: l.period.last().year(),
            label_ja: l.period.label_ja(),
            label_en: l.period.label_en(),
            suppressed: !l.unsuppressed,
            threshold: l.settings.suppression.threshold,
            rounding: l.settings.suppression.rounding,
            years: l
                .years
                .iter()
                .map(|y| YearView {
                    fiscal_year: y.fiscal_year.year(),
                    label_ja: y.fiscal_year.label_ja(),
                    label_en: y.fiscal_year.label_en(),
                    tables: y.tables.iter().map(|p| TableView::of(lang, p)).collect(),
                    reconciliations: y
                        .reconciliations
                        .iter()
                        .map(|(ja, en, r)| ReconciliationView::of(lang, ja, en, r))
                        .collect(),
                    districts: y
                        .districts
                        .iter()
                        .map(|(ja, en, recorded, printed)| CountView {
                            label: pick(lang, ja, en),
                            recorded: *recorded,
                            printed: *printed,
                            matches: recorded == printed,
                        })
                        .collect(),
                })
                .collect(),
            across_years: l.across.as_ref().map(|p| TableView::of(lang, p)),
        }
    }
}

/// The facility-days column index of the postpartum use table, for the charts.
pub const DAYS: usize = FACILITY_DAYS_COLUMN;
/// The occupancy column of the postpartum use table.
pub const OCCUPANCY: usize = 4;
