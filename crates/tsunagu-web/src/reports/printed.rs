//! The figures a city printed (#14, reconciliation), entered by the
//! administrator per fiscal year (`ConfigureReports`): a facility's days,
//! families and 稼働率, and the families per district. The page's form and
//! the API's JSON body become the same checked input
//! (`tsunagu_domain::reports::printed::check`); a wrong field answers 422
//! with the error beside it and stores nothing; a save is one audit line.

use crate::base::api::ApiJson;
use crate::base::chrome::{page_error, redirect, render, signed_in, unwrap_page, Chrome, FormData, OrPage, PageResult};
use crate::base::error::{permit_municipality, ApiError, AppError};
use crate::base::session::{actor_of, audit_ctx, ApiCaller, RequestCtx};
use crate::base::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use serde::{Deserialize, Serialize};
use tsunagu_domain::audit::Requester;
use tsunagu_domain::fiscal::FiscalYear;
use tsunagu_domain::policy::Action;
use tsunagu_domain::reports::printed::{
    area_field, check, facility_field, PrintedArea, PrintedAreaInput, PrintedFacilityInput, PrintedYear,
};
use tsunagu_domain::reports::reconcile::PrintedFigures;
use tsunagu_domain::roles::Actor;
use tsunagu_domain::validation::FieldErrors;
use tsunagu_domain::MunicipalityId;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/reports/printed", get(api_get).post(api_save))
        .route("/reports/printed", get(page).post(page_save))
}

/// A fiscal year's printed figures, in the API.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PrintedView {
    pub fiscal_year: i32,
    /// Per facility: days by service, families, the 稼働率 in tenths of a percent.
    pub facilities: Vec<PrintedFigures>,
    /// Per district: families (both facilities counted once).
    pub areas: Vec<PrintedArea>,
}

/// What an administrator sends for a fiscal year: each field as typed
/// (empty: not printed); the year's figures are replaced by these.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrintedInput {
    /// The fiscal year: `2022`, `FY2022`, `令和4年度` or `R4`.
    pub fiscal_year: String,
    #[serde(default)]
    pub facilities: Vec<PrintedFacilityInput>,
    #[serde(default)]
    pub areas: Vec<PrintedAreaInput>,
}

/// A fiscal year's printed figures: the stored ones, or else what the
/// settings' `printed` list held before they were stored (kept as a
/// fallback for the municipalities that set it there, the demo among them).
pub async fn printed_year(state: &AppState, m: MunicipalityId, fy: i32) -> Result<PrintedView, AppError> {
    let (facilities, areas) = state.store.printed_figures(m).await?;
    let mut facilities: Vec<PrintedFigures> = facilities.into_iter().filter(|p| p.fiscal_year == fy).collect();
    if facilities.is_empty() {
        let settings = state.store.report_settings(m).await?;
        facilities = settings.printed.into_iter().filter(|p| p.fiscal_year == fy).collect();
    }
    Ok(PrintedView { fiscal_year: fy, facilities, areas: areas.into_iter().filter(|a| a.fiscal_year == fy).collect() })
}

/// Checks and stores a year's printed figures for `actor`.
async fn save(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    input: &PrintedInput,
) -> Result<PrintedYear, AppError> {
    let allowed = permit_municipality(actor, Action::ConfigureReports)?;
    let m = actor.municipality_id;
    let fy = FiscalYear::parse(&input.fiscal_year).map_err(|_| {
        let mut e = FieldErrors::default();
        e.add("fiscal_year", "bad_fiscal_year");
        AppError::Invalid(e)
    })?;
    let (facilities, areas) = tokio::try_join!(state.store.postpartum_facilities(m), state.store.areas(m))?;
    let venues: Vec<i64> = facilities.iter().map(|f| f.venue.id.0).collect();
    let known_areas: Vec<i64> = areas.iter().map(|a| a.id.0).collect();
    let year = check(fy.year(), &input.facilities, &input.areas, &venues, &known_areas).map_err(AppError::Invalid)?;
    state.store.set_printed_year(&requester.allowed(&allowed), &year).await?;
    Ok(year)
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FyQuery {
    /// The fiscal year: `2022`, `FY2022`, `令和4年度` or `R4`.
    pub fy: Option<String>,
    /// The page after a save.
    #[param(ignore)]
    pub saved: Option<String>,
}

/// The figures the city printed for a fiscal year
#[utoipa::path(get, path = "/api/v1/reports/printed", tag = "reports", params(FyQuery),
    responses(
        (status = 200, description = "The printed figures of the year", body = PrintedView),
        (status = 400, description = "An unreadable fiscal year (`bad_fiscal_year`)"),
        (status = 403, description = "Not the administrator (`forbidden`)")))]
pub(super) async fn api_get(
    State(state): State<AppState>,
    caller: ApiCaller,
    q: Result<Query<FyQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(|_| AppError::BadRequest("bad_query"))?;
    permit_municipality(&caller.actor, Action::ConfigureReports)?;
    let fy = FiscalYear::parse(q.fy.as_deref().unwrap_or("")).map_err(|_| AppError::BadRequest("bad_fiscal_year"))?;
    Ok(Json(printed_year(&state, caller.actor.municipality_id, fy.year()).await?).into_response())
}

/// Enter or replace the figures the city printed for a fiscal year
///
/// Each facility's short-stay days, day-care days, families (all three, or
/// none) and 稼働率 (`82.4`, optional), and each district's families, as
/// printed ([001] 利用実績, 地域別利用者数). The year's figures are replaced;
/// the report shows them beside the recorded ones.
#[utoipa::path(post, path = "/api/v1/reports/printed", tag = "reports", request_body = PrintedInput,
    responses(
        (status = 200, description = "Stored", body = PrintedView),
        (status = 403, description = "Not the administrator (`forbidden`)"),
        (status = 422, description = "Fields that did not pass (`invalid_input`): `required`, `not_a_number`, `out_of_range`, `unknown_venue`, `unknown_area`, `bad_fiscal_year`")))]
pub(super) async fn api_save(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<PrintedInput>,
) -> Result<Response, ApiError> {
    let year = save(&state, &caller.actor, &caller.audit("printed figures"), &input).await?;
    Ok(Json(PrintedView { fiscal_year: year.fiscal_year, facilities: year.facilities, areas: year.areas })
        .into_response())
}

// --- the page ------------------------------------------------------------------------

/// A row of the form: a facility or a district, its field names and values.
pub struct FormRow {
    pub name: String,
    /// (field name, value, error) for each input of the row.
    pub fields: Vec<(String, String, Option<&'static str>)>,
}

#[derive(Template)]
#[template(path = "reports_printed.html")]
struct PrintedPage {
    chrome: Chrome,
    fy: String,
    years: Vec<(i32, String)>,
    facilities: Vec<FormRow>,
    areas: Vec<FormRow>,
    fy_error: Option<&'static str>,
    saved: bool,
}

fn thousand(n: u64) -> String {
    n.to_string()
}

async fn view(
    state: &AppState,
    ctx: &RequestCtx,
    fy: i32,
    form: Option<(&FormData, FieldErrors)>,
    saved: bool,
) -> PageResult {
    let account = signed_in(ctx)?;
    let actor = actor_of(account);
    permit_municipality(&actor, Action::ConfigureReports).or_page(ctx)?;
    let m = actor.municipality_id;
    let (facilities, areas) = tokio::try_join!(state.store.postpartum_facilities(m), state.store.areas(m))
        .map_err(|e| page_error(ctx, e.into()))?;
    let current = printed_year(state, m, fy).await.or_page(ctx)?;
    let lang = ctx.lang;
    let errors = form.as_ref().map(|(_, e)| e.clone()).unwrap_or_default();
    let err = |field: &str| errors.for_field(field).map(|code| crate::i18n::t(lang, &format!("err.{code}")));
    let value = |field: &str, stored: Option<String>| match &form {
        Some((f, _)) => f.get(field).to_owned(),
        None => stored.unwrap_or_default(),
    };
    let facility_rows = facilities
        .iter()
        .map(|f| {
            let id = f.venue.id.0;
            let p = current.facilities.iter().find(|p| p.venue_id == id);
            let fields = [
                ("ss", p.map(|p| thousand(p.short_stay_days))),
                ("dc", p.map(|p| thousand(p.day_care_days))),
                ("families", p.map(|p| thousand(p.families))),
                ("occupancy", p.and_then(|p| p.occupancy_tenths).map(|t| format!("{}.{}", t / 10, t % 10))),
            ]
            .into_iter()
            .map(|(what, stored)| {
                let name = facility_field(what, id);
                (name.clone(), value(&name, stored), err(&name))
            })
            .collect();
            FormRow {
                name: match lang {
                    crate::i18n::Lang::Ja => f.venue.name_ja.clone(),
                    crate::i18n::Lang::En => f.venue.name_en.clone(),
                },
                fields,
            }
        })
        .collect();
    let area_rows = areas
        .iter()
        .map(|a| {
            let name = area_field(a.id.0);
            let stored = current.areas.iter().find(|p| p.area_id == a.id.0).map(|p| thousand(p.families));
            FormRow {
                name: match lang {
                    crate::i18n::Lang::Ja => a.name_ja.clone(),
                    crate::i18n::Lang::En => a.name_en.clone(),
                },
                fields: vec![(name.clone(), value(&name, stored), err(&name))],
            }
        })
        .collect();
    let this_year =
        FiscalYear::of(state.clock.today()).map_err(|_| page_error(ctx, AppError::BadRequest("bad_query")))?;
    let years = (0..10)
        .filter_map(|i| FiscalYear::new(this_year.year() - i).ok())
        .map(|y| (y.year(), format!("{}（{}）", y.label_ja(), y.label_en())))
        .collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(render(
        &PrintedPage {
            chrome: Chrome::new(ctx, "/reports/printed", "rp.printed_title"),
            fy: fy.to_string(),
            years,
            facilities: facility_rows,
            areas: area_rows,
            fy_error: err("fiscal_year"),
            saved,
        },
        status,
    ))
}

async fn page(
    State(state): State<AppState>,
    ctx: RequestCtx,
    q: Result<Query<FyQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    unwrap_page(
        async {
            let Query(q) = q.map_err(|_| page_error(&ctx, AppError::BadRequest("bad_query")))?;
            let fy = match q.fy.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                Some(s) => {
                    FiscalYear::parse(s).map_err(|_| page_error(&ctx, AppError::BadRequest("bad_fiscal_year")))?
                }
                None => FiscalYear::of(state.clock.today())
                    .map_err(|_| page_error(&ctx, AppError::BadRequest("bad_query")))?,
            };
            view(&state, &ctx, fy.year(), None, q.saved.is_some()).await
        }
        .await,
    )
}

/// The form: `fy`, and per facility `ss.<id>`, `dc.<id>`, `families.<id>`,
/// `occupancy.<id>`, per district `area.<id>` — the municipality's own
/// facilities and districts only (other names are not read).
async fn page_save(State(state): State<AppState>, ctx: RequestCtx, Form(form): Form<FormData>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let actor = actor_of(account);
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            permit_municipality(&actor, Action::ConfigureReports).or_page(&ctx)?;
            let m = actor.municipality_id;
            let (facilities, areas) = tokio::try_join!(state.store.postpartum_facilities(m), state.store.areas(m))
                .map_err(|e| page_error(&ctx, e.into()))?;
            let input = PrintedInput {
                fiscal_year: form.get("fy").to_owned(),
                facilities: facilities
                    .iter()
                    .map(|f| {
                        let id = f.venue.id.0;
                        PrintedFacilityInput {
                            venue_id: id,
                            short_stay_days: form.get(&facility_field("ss", id)).to_owned(),
                            day_care_days: form.get(&facility_field("dc", id)).to_owned(),
                            families: form.get(&facility_field("families", id)).to_owned(),
                            occupancy: form.get(&facility_field("occupancy", id)).to_owned(),
                        }
                    })
                    .collect(),
                areas: areas
                    .iter()
                    .map(|a| PrintedAreaInput { area_id: a.id.0, families: form.get(&area_field(a.id.0)).to_owned() })
                    .collect(),
            };
            let requester = audit_ctx(account, &ctx.remote_addr, "printed figures", ctx.now);
            match save(&state, &actor, &requester, &input).await {
                Ok(year) => Ok(redirect(&format!("/reports/printed?fy={}&saved=1", year.fiscal_year))),
                Err(AppError::Invalid(errors)) => {
                    let fy = FiscalYear::parse(form.get("fy"))
                        .or_else(|_| FiscalYear::of(state.clock.today()))
                        .map_err(|_| page_error(&ctx, AppError::BadRequest("bad_query")))?;
                    view(&state, &ctx, fy.year(), Some((&form, errors)), false).await
                }
                Err(e) => Err(page_error(&ctx, e)),
            }
        }
        .await,
    )
}
