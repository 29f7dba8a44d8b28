//! The timeline in the JSON API: work lists and their counts, a family's
//! contacts, recording an outcome, a new EDD, a loss or a move.

use crate::base::api::{ApiJson, ApiPath};
use crate::base::error::{ApiError, AppError};
use crate::base::session::{ApiCaller, ApiFamilyCaller};
use crate::base::views::ContactView;
use crate::base::AppState;
use crate::timeline::{Shown, WorkListParams};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use tsunagu_domain::clock::japan_date;
use tsunagu_domain::records::{EddChangeInput, PregnancyEndInput};
use tsunagu_domain::timeline::{ChipCount, CHIP_COUNT_CAP};
use tsunagu_domain::{ContactId, FamilyId, PregnancyId};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/worklist", get(work_list))
        .route("/api/v1/worklist/counts", get(work_counts))
        .route("/api/v1/families/{id}/contacts", get(family_contacts))
        .route("/api/v1/contacts/{id}/outcome", post(record_outcome))
        .route("/api/v1/families/{id}/pregnancies/{pregnancy}/edd", post(change_edd))
        .route("/api/v1/families/{id}/pregnancies/{pregnancy}/end", post(end_pregnancy))
}

fn params(
    p: Result<Query<WorkListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<WorkListParams, AppError> {
    p.map(|Query(p)| p).map_err(|_| AppError::BadRequest("bad_query"))
}

/// A work list (nurses, coordinators)
///
/// Contacts due this week, overdue, missed, 3–4-month check non-attendees,
/// or the urgent follow-ups; with the counts of every list.
#[utoipa::path(get, path = "/api/v1/worklist", tag = "timeline", params(WorkListParams),
    responses(
        (status = 200, description = "The list", body = super::api_doc::WorkList),
        (status = 403, description = "The caller keeps no work list, or not of that area (`forbidden`)"),
        (status = 422, description = "A parameter that does not read (`invalid_input`)")))]
async fn work_list(
    State(state): State<AppState>,
    caller: ApiCaller,
    p: Result<Query<WorkListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let req = params(p)?.check()?;
    let today = japan_date(caller.now);
    let view = crate::timeline::work_list(&state, &caller.actor, &caller.audit("work list"), req, today).await?;
    let items: Vec<ContactView> = view.rows.iter().map(|r| ContactView::of(r, today)).collect();
    let urgent: Vec<_> = match view.request.shown {
        Shown::Urgent => view.followups.iter().map(|r| crate::base::views::referral_json(r, true)).collect(),
        Shown::Contacts(_) => vec![],
    };
    Ok(Json(json!({
        "list": view.request.shown.as_str(),
        "whose": view.request.whose,
        "today": today,
        "page": view.request.page,
        "has_more": view.has_more,
        "counts": counts_json(&view.counts, Some(view.urgent_count), view.applications_waiting),
        "items": items,
        "followups": urgent,
    }))
    .into_response())
}

/// The counts of the contact lists, with the urgent follow-ups where they
/// were read (the counts-only call reads no referral, so says nothing of them).
/// Each count is exact up to `CHIP_COUNT_CAP` (#16); a list counted past it
/// shows the cap and is named in `over_cap`, which is there only then.
fn counts_json(c: &tsunagu_store::WorkCounts, urgent: Option<usize>, waiting: Option<u64>) -> serde_json::Value {
    let chips = [
        ("due_this_week", c.due_this_week),
        ("overdue", c.overdue),
        ("missed", c.missed),
        ("check_non_attendees", c.check_non_attendees),
    ]
    .map(|(name, n)| (name, ChipCount::of(n, CHIP_COUNT_CAP)));
    let mut v = json!({});
    for (name, chip) in chips {
        v[name] = json!(chip.shown());
    }
    let over: Vec<&str> = chips.iter().filter(|(_, chip)| chip.is_over_cap()).map(|(name, _)| *name).collect();
    if !over.is_empty() {
        v["over_cap"] = json!(over);
    }
    if let Some(n) = urgent {
        v["urgent"] = json!(n);
    }
    if let Some(n) = waiting {
        v["applications_waiting"] = json!(n);
    }
    v
}

/// The counts of every list in a scope
///
/// No names, so no audit line: e.g. the municipality-wide overdue count
/// with `whose=all`.
#[utoipa::path(get, path = "/api/v1/worklist/counts", tag = "timeline", params(WorkListParams),
    responses(
        (status = 200, description = "The counts", body = super::api_doc::WorkCounts),
        (status = 403, description = "The caller keeps no work list, or not of that area (`forbidden`)"),
        (status = 422, description = "A parameter that does not read (`invalid_input`)")))]
async fn work_counts(
    State(state): State<AppState>,
    caller: ApiCaller,
    p: Result<Query<WorkListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let req = params(p)?.check()?;
    let today = japan_date(caller.now);
    let scope = crate::timeline::scope_for(&caller.actor, &req, today)?;
    let counts = state.store.work_counts(&scope, Some(CHIP_COUNT_CAP)).await?;
    Ok(Json(json!({ "whose": req.whose, "today": today, "counts": counts_json(&counts, None, None) })).into_response())
}

/// The contacts a family is owed, with windows, owners and where each stands today
#[utoipa::path(get, path = "/api/v1/families/{id}/contacts", tag = "timeline",
    params(("id" = i64, Path, description = "Family id")),
    responses(
        (status = 200, description = "The contacts", body = super::api_doc::ContactList),
        (status = 403, description = "Not a family the caller may see (`forbidden`)")))]
async fn family_contacts(
    State(state): State<AppState>,
    ApiFamilyCaller { caller, access, .. }: ApiFamilyCaller,
) -> Result<Response, ApiError> {
    // The session and the family's access facts came in one read (#16).
    let today = japan_date(caller.now);
    let rows =
        crate::base::access::family_contacts(&state, &caller.actor, &caller.audit("timeline"), access.as_ref()).await?;
    let items: Vec<ContactView> = rows.iter().map(|r| ContactView::of(r, today)).collect();
    Ok(Json(json!({ "contacts": items })).into_response())
}

/// Record what happened to a contact
///
/// Done (with how), not reached (attempts add up; checks and visits stay
/// listed), declined or not applicable (with a note).
#[utoipa::path(post, path = "/api/v1/contacts/{id}/outcome", tag = "timeline",
    params(("id" = i64, Path, description = "Contact id")), request_body = crate::timeline::OutcomeInput,
    responses(
        (status = 200, description = "The contact as it now stands", body = ContactView),
        (status = 403, description = "Not the caller's to record (`forbidden`)"),
        (status = 409, description = "The contact is settled or closed"),
        (status = 422, description = "Fields that did not pass (`invalid_input`)")))]
async fn record_outcome(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<crate::timeline::OutcomeInput>,
) -> Result<Response, ApiError> {
    let row =
        crate::timeline::record_outcome(&state, &caller.actor, &caller.audit("record outcome"), ContactId(id), &input)
            .await?;
    Ok(Json(ContactView::of(&row, japan_date(caller.now))).into_response())
}

/// A corrected EDD; the pregnancy contacts move with it
#[utoipa::path(post, path = "/api/v1/families/{id}/pregnancies/{pregnancy}/edd", tag = "timeline",
    params(("id" = i64, Path, description = "Family id"), ("pregnancy" = i64, Path, description = "Pregnancy id")),
    request_body = EddChangeInput,
    responses(
        (status = 204, description = "Changed"),
        (status = 403, description = "Not a family the caller may edit (`forbidden`)"),
        (status = 409, description = "The pregnancy has ended"),
        (status = 422, description = "Fields that did not pass (`invalid_input`)")))]
async fn change_edd(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, pregnancy)): ApiPath<(i64, i64)>,
    ApiJson(input): ApiJson<EddChangeInput>,
) -> Result<StatusCode, ApiError> {
    let audit = caller.audit("change EDD");
    crate::timeline::change_edd(&state, &caller.actor, &audit, FamilyId(id), PregnancyId(pregnancy), &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A loss or a move out
///
/// A loss closes every owed contact (hidden); a move out closes what is
/// still owed.
#[utoipa::path(post, path = "/api/v1/families/{id}/pregnancies/{pregnancy}/end", tag = "timeline",
    params(("id" = i64, Path, description = "Family id"), ("pregnancy" = i64, Path, description = "Pregnancy id")),
    request_body = PregnancyEndInput,
    responses(
        (status = 204, description = "Changed"),
        (status = 403, description = "Not a family the caller may edit (`forbidden`)"),
        (status = 409, description = "The pregnancy has ended"),
        (status = 422, description = "Fields that did not pass (`invalid_input`)")))]
async fn end_pregnancy(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, pregnancy)): ApiPath<(i64, i64)>,
    ApiJson(input): ApiJson<PregnancyEndInput>,
) -> Result<StatusCode, ApiError> {
    let audit = caller.audit("end pregnancy");
    let today = japan_date(caller.now);
    crate::timeline::end_pregnancy(&state, &caller.actor, &audit, FamilyId(id), PregnancyId(pregnancy), &input, today)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
