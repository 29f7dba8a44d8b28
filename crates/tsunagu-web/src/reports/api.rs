//! Reports in the JSON API: always suppressed (a program is any audience).

use super::{load, PeriodQuery, ReportView};
use crate::base::error::{api_lang, ApiError, AppError};
use crate::base::session::ApiCaller;
use crate::base::AppState;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tsunagu_domain::clock::japan_date;
use tsunagu_domain::policy::FigureChannel;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/reports", get(report))
}

/// A report for a fiscal year or a range of them
///
/// Every table the records support, by fiscal year with its era label:
/// postpartum-care use and occupancy per facility, users by area (both
/// facilities counted once), follow-up consultations, 8th-month interviews
/// and happy-baby contacts by form, handbook meetings and group sessions
/// held, 3–4-month check non-attendees, screening counts, referrals by
/// source and outcome, class participation per venue, the peer-support
/// chat's figures (rooms opened, parents, messages by parents and by
/// supporters, rooms answered within the municipality's time, the median
/// minutes to a first answer, escalations by outcome — counts only), the
/// 健やか親子21 indicators; over a range, facility
/// days per year; recorded use beside the figures the city printed. Small
/// counts are always held back here (`*`, never 0): cells under the
/// municipality's threshold, and what would give them away.
#[utoipa::path(get, path = "/api/v1/reports", tag = "reports", params(PeriodQuery),
    responses(
        (status = 200, description = "The report", body = ReportView),
        (status = 400, description = "An unreadable fiscal year (`bad_query`, `bad_fiscal_year`), a reversed range (`period_reversed`) or one longer than 20 years (`period_too_long`)"),
        (status = 403, description = "The caller may not read reports (`forbidden`)")))]
async fn report(
    State(state): State<AppState>,
    caller: ApiCaller,
    q: Result<Query<PeriodQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(|_| AppError::BadRequest("bad_query"))?;
    let period = q.period(japan_date(caller.now))?;
    let l = load(&state, &caller.actor, &caller.audit("report"), period, FigureChannel::Api).await?;
    Ok(Json(ReportView::of(api_lang(), &l)).into_response())
}
