//! The report page (tables, SVG charts, an A4 print layout) and its
//! downloads (CSV, Excel), for a signed-in reader.

use super::charts::{days_bars, occupancy_lines, Chart};
use super::csv::Encoding;
use super::{load, PeriodQuery, ReportView};
use crate::base::chrome::{page_error, render, signed_in, unwrap_page, Chrome, OrPage};
use crate::base::error::AppError;
use crate::base::session::{actor_of, audit_ctx, RequestCtx};
use crate::base::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use tsunagu_domain::fiscal::FiscalYear;
use tsunagu_domain::policy::FigureChannel;
use tsunagu_domain::reports::indicators::{Support, INDICATORS};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports", get(report_page))
        .route("/reports/report.csv", get(csv_download))
        .route("/reports/report.xlsx", get(xlsx_download))
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
            let content_type = match encoding {
                Encoding::Utf8Bom => "text/csv; charset=utf-8",
                Encoding::ShiftJis => "text/csv; charset=shift_jis",
            };
            Ok(file(super::csv::encode(&text, encoding), content_type, file_name(&view, "csv")))
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
