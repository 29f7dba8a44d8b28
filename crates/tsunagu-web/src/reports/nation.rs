//! The nation-wide report (#14): a fiscal year over every municipality of
//! the service, for the analyst (`ViewNationReport` on `Resource::Nation`),
//! always published through the one suppression rule — each municipality's
//! row as its own report shows it, the nation's totals checked
//! (`tsunagu_domain::reports::nation`). Its data is one statement per table
//! over the nation (`ReportStore::nation_report`), not a report per
//! municipality. The page, the CSV, the workbook and the API are one view.

use super::csv::Encoding;
use super::{ReportView, TableView, YearView};
use crate::base::chrome::{page_error, render, signed_in, unwrap_page, Chrome, OrPage};
use crate::base::error::{api_lang, permit, ApiError, AppError};
use crate::base::session::{actor_of, audit_ctx, ApiCaller, RequestCtx};
use crate::base::AppState;
use crate::i18n::{t, Lang};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use tsunagu_domain::audit::Requester;
use tsunagu_domain::clock::japan_date;
use tsunagu_domain::fiscal::FiscalYear;
use tsunagu_domain::policy::{Action, Resource};
use tsunagu_domain::reports::nation::{nation_year, MunicipalityYear, NationYear};
use tsunagu_domain::reports::ReportSettings;
use tsunagu_domain::roles::Actor;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/reports/nation", get(api_nation))
        .route("/reports/nation", get(nation_page))
        .route("/reports/nation.csv", get(nation_csv))
        .route("/reports/nation.xlsx", get(nation_xlsx))
}

/// The fiscal year a nation-wide report is asked for: `fy` as staff write
/// it (`2025`, `FY2025`, `令和7年度`, `R7`); without it, this fiscal year.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NationQuery {
    /// The fiscal year: `2025`, `FY2025`, `令和7年度` or `R7` (default: this fiscal year).
    pub fy: Option<String>,
    /// For the CSV: `sjis` for Shift_JIS (default UTF-8 with BOM).
    #[param(ignore)]
    pub encoding: Option<String>,
}

impl NationQuery {
    fn fiscal_year(&self, today: jiff::civil::Date) -> Result<FiscalYear, AppError> {
        match self.fy.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => FiscalYear::of(today).map_err(|_| AppError::BadRequest("bad_query")),
            Some(s) => FiscalYear::parse(s).map_err(|_| AppError::BadRequest("bad_fiscal_year")),
        }
    }
}

/// Reads the nation-wide report for `actor`: the policy decides; the store
/// answers every municipality's aggregates and writes one line.
pub async fn load_nation(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    fy: FiscalYear,
) -> Result<NationYear, AppError> {
    let allowed = permit(actor, Action::ViewNationReport, &Resource::Nation)?;
    // One follow-up time for the nation (a municipality's own setting
    // counts in its own report): the default, said on the page.
    let days = ReportSettings::default().follow_up_days;
    let parts = state.store.nation_report(&requester.allowed(&allowed), fy, days).await?;
    let years: Vec<MunicipalityYear> = parts
        .into_iter()
        .map(|p| MunicipalityYear {
            name_ja: p.municipality.name_ja,
            name_en: p.municipality.name_en,
            settings: p.settings.suppression,
            aggregates: p.aggregates,
        })
        .collect();
    // A table that does not add up is our fault, never the caller's.
    nation_year(fy, &years).map_err(|_| AppError::Internal)
}

/// The nation-wide report as the page and the API show it: one fiscal
/// year, each table a row per municipality and the nation's total.
pub fn nation_view(lang: Lang, n: &NationYear) -> ReportView {
    let fy = n.fiscal_year;
    let threshold = n.tables.iter().find_map(|t| t.suppression.map(|s| s.threshold)).unwrap_or(10);
    let tables = n
        .tables
        .iter()
        .map(|p| {
            let mut v = TableView::of(lang, p);
            if let Some(first) = v.columns.first_mut() {
                *first = t(lang, "rp.municipality").to_owned();
            }
            v.rows.iter_mut().filter(|r| r.total).for_each(|r| r.label = t(lang, "rp.nation_total").to_owned());
            v
        })
        .collect();
    ReportView {
        from: fy.year(),
        to: fy.year(),
        label_ja: fy.label_ja(),
        label_en: fy.label_en(),
        suppressed: true,
        threshold,
        rounding: None,
        years: vec![YearView {
            fiscal_year: fy.year(),
            label_ja: fy.label_ja(),
            label_en: fy.label_en(),
            tables,
            reconciliations: vec![],
            districts: vec![],
        }],
        across_years: None,
    }
}

/// The nation-wide report for a fiscal year
///
/// Every municipality's published figures of the year and the nation's
/// totals, one table per kind: postpartum-care use per municipality (its
/// facilities' total), follow-up consultations, 8th-month interviews and
/// happy-baby contacts (their totals), handbook meetings and group sessions
/// held, 3–4-month check non-attendees, screening and referrals (their
/// totals). Each municipality's cells are held back (`*`) exactly as its own
/// report holds them back; a nation total is shown only when no held-back
/// cell can be worked out from it. The analyst's only.
#[utoipa::path(get, path = "/api/v1/reports/nation", tag = "reports", params(NationQuery),
    responses(
        (status = 200, description = "The nation-wide report (one year in `years`)", body = ReportView),
        (status = 400, description = "An unreadable fiscal year (`bad_query`, `bad_fiscal_year`)"),
        (status = 403, description = "The caller may not read the nation-wide report (`forbidden`)")))]
pub(super) async fn api_nation(
    State(state): State<AppState>,
    caller: ApiCaller,
    q: Result<Query<NationQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(|_| AppError::BadRequest("bad_query"))?;
    let fy = q.fiscal_year(japan_date(caller.now))?;
    let n = load_nation(&state, &caller.actor, &caller.audit("nation report"), fy).await?;
    Ok(Json(nation_view(api_lang(), &n)).into_response())
}

#[derive(Template)]
#[template(path = "reports_nation.html")]
struct NationPage {
    chrome: Chrome,
    view: ReportView,
    fy: String,
    years: Vec<(i32, String)>,
    municipalities: usize,
}

async fn loaded(
    state: &AppState,
    ctx: &RequestCtx,
    q: &NationQuery,
    reason: &str,
) -> Result<(ReportView, usize), Response> {
    let account = signed_in(ctx)?;
    let actor = actor_of(account);
    let fy = q.fiscal_year(state.clock.today()).or_page(ctx)?;
    let requester = audit_ctx(account, &ctx.remote_addr, reason, ctx.now);
    let n = load_nation(state, &actor, &requester, fy).await.or_page(ctx)?;
    Ok((nation_view(ctx.lang, &n), n.municipalities))
}

async fn nation_page(
    State(state): State<AppState>,
    ctx: RequestCtx,
    q: Result<Query<NationQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    unwrap_page(
        async {
            let Query(q) = q.map_err(|_| page_error(&ctx, AppError::BadRequest("bad_query")))?;
            let (view, municipalities) = loaded(&state, &ctx, &q, "nation report").await?;
            let this_year =
                FiscalYear::of(state.clock.today()).map_err(|_| page_error(&ctx, AppError::BadRequest("bad_query")))?;
            let years = (0..10)
                .filter_map(|i| FiscalYear::new(this_year.year() - i).ok())
                .map(|y| (y.year(), format!("{}（{}）", y.label_ja(), y.label_en())))
                .collect();
            Ok(render(
                &NationPage {
                    chrome: Chrome::new(&ctx, "/reports/nation", "rp.nation_title"),
                    fy: view.from.to_string(),
                    view,
                    years,
                    municipalities,
                },
                StatusCode::OK,
            ))
        }
        .await,
    )
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

async fn nation_csv(
    State(state): State<AppState>,
    ctx: RequestCtx,
    q: Result<Query<NationQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    unwrap_page(
        async {
            let Query(q) = q.map_err(|_| page_error(&ctx, AppError::BadRequest("bad_query")))?;
            let encoding = Encoding::parse(q.encoding.as_deref())
                .ok_or_else(|| page_error(&ctx, AppError::BadRequest("bad_query")))?;
            let (view, _) = loaded(&state, &ctx, &q, "nation report csv").await?;
            let text = super::csv::text(&view, t(ctx.lang, "rp.suppressed_note"));
            Ok(file(
                super::csv::encode(&text, encoding),
                encoding.content_type(),
                format!("nation-FY{}.csv", view.from),
            ))
        }
        .await,
    )
}

async fn nation_xlsx(
    State(state): State<AppState>,
    ctx: RequestCtx,
    q: Result<Query<NationQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    unwrap_page(
        async {
            let Query(q) = q.map_err(|_| page_error(&ctx, AppError::BadRequest("bad_query")))?;
            let (view, _) = loaded(&state, &ctx, &q, "nation report xlsx").await?;
            let bytes = super::xlsx::workbook(&view, t(ctx.lang, "rp.made_on"), state.clock.today());
            Ok(file(
                bytes,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                format!("nation-FY{}.xlsx", view.from),
            ))
        }
        .await,
    )
}
