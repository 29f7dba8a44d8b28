//! The report page (tables, SVG charts, an A4 print layout) and its
//! downloads (CSV, Excel), for a signed-in reader.

use super::charts::{days_bars, occupancy_lines, Chart};
use super::csv::Encoding;
use super::{load, PeriodQuery, ReportView};
use crate::base::chrome::{page_error, redirect, render, signed_in, unwrap_page, Chrome, FormData, OrPage, PageResult};
use crate::base::error::AppError;
use crate::base::session::{actor_of, audit_ctx, RequestCtx};
use crate::base::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;
use tsunagu_domain::fiscal::FiscalYear;
use tsunagu_domain::policy::FigureChannel;
use tsunagu_domain::reports::indicators::{Support, INDICATORS};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports", get(report_page))
        .route("/reports/report.csv", get(csv_download))
        .route("/reports/report.xlsx", get(xlsx_download))
        .route("/reports/settings", get(settings_page).post(settings_save))
}

/// An indicator's words, for the page.
pub struct IndicatorWords {
    pub code: &'static str,
    pub seed: &'static str,
    pub counted: bool,
    /// Why the records cannot say, or which table shows it.
    pub note: Option<String>,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportPage {
    chrome: Chrome,
    view: ReportView,
    from: String,
    to: String,
    years: Vec<(i32, String)>,
    bars: Option<Chart>,
    lines: Option<Chart>,
    indicators: Vec<IndicatorWords>,
    query: String,
}

fn query_string(q: &PeriodQuery) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect::<String>()
    };
    let mut out = format!("from={}", enc(q.from.as_deref().unwrap_or("")));
    if let Some(to) = q.to.as_deref().filter(|t| !t.trim().is_empty()) {
        out.push_str(&format!("&to={}", enc(to)));
    }
    out
}

async fn loaded(
    state: &AppState,
    ctx: &RequestCtx,
    q: &PeriodQuery,
    channel: FigureChannel,
    reason: &str,
) -> Result<ReportView, Response> {
    let account = signed_in(ctx)?;
    let actor = actor_of(account);
    let period = q.period(state.clock.today()).or_page(ctx)?;
    let requester = audit_ctx(account, &ctx.remote_addr, reason, ctx.now);
    let l = load(state, &actor, &requester, period, channel).await.or_page(ctx)?;
    Ok(ReportView::of(ctx.lang, &l))
}

async fn report_page(
    State(state): State<AppState>,
    ctx: RequestCtx,
    q: Result<Query<PeriodQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    unwrap_page(
        async {
            let Query(q) = q.map_err(|_| page_error(&ctx, AppError::BadRequest("bad_query")))?;
            let account = signed_in(&ctx)?;
            let actor = actor_of(account);
            let period = q.period(state.clock.today()).or_page(&ctx)?;
            let requester = audit_ctx(account, &ctx.remote_addr, "report", ctx.now);
            let l = load(&state, &actor, &requester, period, FigureChannel::Page).await.or_page(&ctx)?;
            let view = ReportView::of(ctx.lang, &l);
            let this_year =
                FiscalYear::of(state.clock.today()).map_err(|_| page_error(&ctx, AppError::BadRequest("bad_query")))?;
            let years = (0..10)
                .filter_map(|i| FiscalYear::new(this_year.year() - i).ok())
                .map(|y| (y.year(), format!("{}（{}）", y.label_ja(), y.label_en())))
                .collect();
            let indicators = INDICATORS
                .iter()
                .map(|i| IndicatorWords {
                    code: i.code,
                    seed: i.seed,
                    counted: i.support == Support::Counted,
                    note: match i.support {
                        Support::Counted => None,
                        Support::ShownBy(kind) => Some(format!(
                            "{} {}",
                            crate::i18n::t(ctx.lang, "rp.shown_by"),
                            crate::i18n::t(ctx.lang, &format!("rp.table.{kind}"))
                        )),
                        Support::NotFromRecords(why) => {
                            Some(crate::i18n::t(ctx.lang, &format!("rp.not_from.{why}")).to_owned())
                        }
                    },
                })
                .collect();
            let q = PeriodQuery {
                from: Some(period.first().year().to_string()),
                to: Some(period.last().year().to_string()),
            };
            Ok(render(
                &ReportPage {
                    chrome: Chrome::new(&ctx, "/reports", "rp.title"),
                    bars: days_bars(ctx.lang, &l),
                    lines: occupancy_lines(ctx.lang, &l),
                    from: period.first().year().to_string(),
                    to: period.last().year().to_string(),
                    query: query_string(&q),
                    view,
                    years,
                    indicators,
                },
                StatusCode::OK,
            ))
        }
        .await,
    )
}

#[derive(Deserialize, Default)]
struct DownloadQuery {
    from: Option<String>,
    to: Option<String>,
    encoding: Option<String>,
}

fn file(bytes: Vec<u8>, content_type: &'static str, name: String) -> Response {
    (
        StatusCode::OK,
        [
            (CONTENT_TYPE, content_type.to_owned()),
            (CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            (CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response()
}

fn file_name(view: &ReportView, ext: &str) -> String {
    if view.from == view.to {
        format!("report-FY{}.{ext}", view.from)
    } else {
        format!("report-FY{}-FY{}.{ext}", view.from, view.to)
    }
}

/// The CSV of the report, always suppressed (a file travels on).
async fn csv_download(
    State(state): State<AppState>,
    ctx: RequestCtx,
    q: Result<Query<DownloadQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    unwrap_page(
        async {
            let Query(q) = q.map_err(|_| page_error(&ctx, AppError::BadRequest("bad_query")))?;
            let encoding = Encoding::parse(q.encoding.as_deref())
                .ok_or_else(|| page_error(&ctx, AppError::BadRequest("bad_query")))?;
            let p = PeriodQuery { from: q.from, to: q.to };
            let view = loaded(&state, &ctx, &p, FigureChannel::Download, "report csv").await?;
            let text = super::csv::text(&view, crate::i18n::t(ctx.lang, "rp.suppressed_note"));
            Ok(file(super::csv::encode(&text, encoding), encoding.content_type(), file_name(&view, "csv")))
        }
        .await,
    )
}

/// The Excel workbook of the report, always suppressed.
async fn xlsx_download(
    State(state): State<AppState>,
    ctx: RequestCtx,
    q: Result<Query<PeriodQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    unwrap_page(
        async {
            let Query(q) = q.map_err(|_| page_error(&ctx, AppError::BadRequest("bad_query")))?;
            let view = loaded(&state, &ctx, &q, FigureChannel::Download, "report xlsx").await?;
            let bytes = super::xlsx::workbook(&view, crate::i18n::t(ctx.lang, "rp.made_on"), state.clock.today());
            Ok(file(
                bytes,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                file_name(&view, "xlsx"),
            ))
        }
        .await,
    )
}

// --- the municipality's report settings (the administrator) -----------------------

#[derive(Template)]
#[template(path = "reports_settings.html")]
struct SettingsPage {
    chrome: Chrome,
    threshold: String,
    rounding: String,
    follow_up_days: String,
    chat_answer_hours: String,
    errors: tsunagu_domain::validation::FieldErrors,
    saved: bool,
}

impl SettingsPage {
    fn err(&self, field: &str) -> Option<&'static str> {
        self.errors.for_field(field).map(|code| crate::i18n::t(self.chrome.tr.0, &format!("err.{code}")))
    }
}

#[derive(Deserialize, Default)]
struct SavedQuery {
    saved: Option<String>,
}

async fn settings_view(
    state: &AppState,
    ctx: &RequestCtx,
    form: Option<(&FormData, tsunagu_domain::validation::FieldErrors)>,
    saved: bool,
) -> PageResult {
    let account = signed_in(ctx)?;
    let actor = actor_of(account);
    crate::base::error::permit_municipality(&actor, tsunagu_domain::policy::Action::ConfigureReports).or_page(ctx)?;
    let current = state.store.report_settings(actor.municipality_id).await.or_page(ctx)?;
    let (threshold, rounding, follow_up_days, chat_answer_hours, errors) = match form {
        Some((f, e)) => (
            f.get("threshold").to_owned(),
            f.get("rounding").to_owned(),
            f.get("follow_up_days").to_owned(),
            f.get("chat_answer_hours").to_owned(),
            e,
        ),
        None => (
            current.suppression.threshold.to_string(),
            current.suppression.rounding.map(|r| r.to_string()).unwrap_or_default(),
            current.follow_up_days.to_string(),
            current.chat_answer_hours.to_string(),
            Default::default(),
        ),
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(render(
        &SettingsPage {
            chrome: Chrome::new(ctx, "/reports/settings", "rp.settings_title"),
            threshold,
            rounding,
            follow_up_days,
            chat_answer_hours,
            errors,
            saved,
        },
        status,
    ))
}

async fn settings_page(State(state): State<AppState>, ctx: RequestCtx, Query(q): Query<SavedQuery>) -> Response {
    unwrap_page(settings_view(&state, &ctx, None, q.saved.is_some()).await)
}

/// The threshold (2–100), the rounding base (none, or 2–100), the days
/// a follow-up counts within (1–366) and the hours a chat room's first
/// answer counts as in time within (1–720; absent from an older form: kept);
/// the printed figures are kept.
async fn settings_save(State(state): State<AppState>, ctx: RequestCtx, Form(form): Form<FormData>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let actor = actor_of(account);
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let allowed =
                crate::base::error::permit_municipality(&actor, tsunagu_domain::policy::Action::ConfigureReports)
                    .or_page(&ctx)?;
            let mut errors = tsunagu_domain::validation::FieldErrors::default();
            let number = |field: &str| form.get(field).trim().parse::<u64>().ok();
            let threshold = number("threshold");
            let rounding =
                if form.get("rounding").trim().is_empty() { Some(None) } else { number("rounding").map(Some) };
            let days = number("follow_up_days")
                .and_then(|d| u32::try_from(d).ok())
                .filter(|d| (1..=tsunagu_domain::reports::ReportSettings::MAX_FOLLOW_UP_DAYS).contains(d));
            if days.is_none() {
                errors.add("follow_up_days", "out_of_range");
            }
            let chat_hours = match form.get("chat_answer_hours").trim() {
                "" => Some(None),
                _ => number("chat_answer_hours")
                    .and_then(|h| u32::try_from(h).ok())
                    .filter(|h| (1..=tsunagu_domain::reports::ReportSettings::MAX_CHAT_ANSWER_HOURS).contains(h))
                    .map(Some),
            };
            if chat_hours.is_none() {
                errors.add("chat_answer_hours", "out_of_range");
            }
            let suppression = match (threshold, rounding) {
                (Some(t), Some(r)) => match tsunagu_domain::reports::suppression::SuppressionSettings::new(t, r) {
                    Ok(s) => Some(s),
                    Err(tsunagu_domain::reports::suppression::SettingsError::Threshold) => {
                        errors.add("threshold", "out_of_range");
                        None
                    }
                    Err(tsunagu_domain::reports::suppression::SettingsError::Rounding) => {
                        errors.add("rounding", "out_of_range");
                        None
                    }
                },
                (t, r) => {
                    if t.is_none() {
                        errors.add("threshold", "out_of_range");
                    }
                    if r.is_none() {
                        errors.add("rounding", "out_of_range");
                    }
                    None
                }
            };
            let (Some(suppression), Some(days), Some(chat_hours)) = (suppression, days, chat_hours) else {
                return settings_view(&state, &ctx, Some((&form, errors)), false).await;
            };
            let m = actor.municipality_id;
            let mut settings = state.store.report_settings(m).await.or_page(&ctx)?;
            settings.suppression = suppression;
            settings.follow_up_days = days;
            if let Some(hours) = chat_hours {
                settings.chat_answer_hours = hours;
            }
            let requester = audit_ctx(account, &ctx.remote_addr, "report settings", ctx.now);
            state.store.set_report_settings(&requester.allowed(&allowed), &settings).await.or_page(&ctx)?;
            Ok(redirect("/reports/settings?saved=1"))
        }
        .await,
    )
}
