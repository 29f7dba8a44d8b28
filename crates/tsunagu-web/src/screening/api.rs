//! Screening in the JSON API: the family's questionnaires and its answers,
//! staff filing a paper form, results for those who may see them, and the
//! FHIR R4 exports.

use crate::base::access::family_for;
use crate::base::api::{ApiJson, ApiPath};
use crate::base::error::{ApiError, AppError};
use crate::base::session::{ApiCaller, ApiFamilyCaller};
use crate::base::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tsunagu_domain::policy::Action;
use tsunagu_domain::FamilyId;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/families/{id}/screenings", get(list_screenings).post(file_screening))
        .route("/api/v1/me/screenings", get(my_questionnaires).post(file_my_screening))
        .route("/api/v1/screenings/{id}", get(show_screening))
        .route("/api/v1/screenings/{id}/fhir", get(screening_fhir))
        .route("/api/v1/questionnaires/{id}/fhir", get(questionnaire_fhir))
}

/// Enter a questionnaire from a paper form for a family
///
/// Staff whose role the questionnaire allows. Scored as given; a positive
/// or urgent result raises a referral to the nurse in the same transaction.
/// 201 with the result for staff who may see it, else only `id` and
/// `show_help_now`. Wrong answers: 422 with `answers.<item>` fields
/// (`required`, `invalid_choice`, `unknown_item`), nothing stored.
#[utoipa::path(post, path = "/api/v1/families/{id}/screenings", tag = "screening",
    params(("id" = i64, Path, description = "Family id")), request_body = crate::screening::ScreeningInput,
    responses(
        (status = 201, description = "Filed", body = super::api_doc::FiledAnswer),
        (status = 403, description = "The caller may not enter this questionnaire for this family (`forbidden`)"),
        (status = 409, description = "`questionnaire_not_offered`"),
        (status = 422, description = "Answers that did not pass (`invalid_input`)")))]
async fn file_screening(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<crate::screening::ScreeningInput>,
) -> Result<Response, ApiError> {
    let family = FamilyId(id);
    let ctx = caller.audit("questionnaire from paper");
    let filed = crate::screening::file(&state, &caller.actor, &ctx, family, &input).await?;
    if !crate::screening::may_view(&state, &caller.actor, family).await? {
        return Ok(family_filed_json(&filed));
    }
    let r = &filed.result;
    let body = json!({
        "id": filed.recorded.id, "referral_id": filed.recorded.referral, "questionnaire": r.questionnaire,
        "version": r.version, "total": r.total, "max_total": r.max_total, "positive": r.positive,
        "urgent": r.urgent, "reasons": r.reasons,
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// What a family is told after answering: never its score or result, only
/// whether to show where to get help now (an urgent result).
fn family_filed_json(filed: &crate::screening::Filed) -> Response {
    (StatusCode::CREATED, Json(json!({ "id": filed.recorded.id, "show_help_now": filed.result.urgent })))
        .into_response()
}

/// The family answers a questionnaire addressed to it
///
/// 201 with `id` and `show_help_now` (urgent result: show where to get help
/// now) — never the score or result. 409 `questionnaire_not_offered` when it
/// is not addressed to the family now.
#[utoipa::path(post, path = "/api/v1/me/screenings", tag = "screening", request_body = crate::screening::ScreeningInput,
    responses(
        (status = 201, description = "Filed", body = super::api_doc::Filed),
        (status = 403, description = "The caller is no family member (`forbidden`)"),
        (status = 409, description = "`questionnaire_not_offered`"),
        (status = 422, description = "Answers that did not pass (`invalid_input`)")))]
async fn file_my_screening(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<crate::screening::ScreeningInput>,
) -> Result<Response, ApiError> {
    let family = caller.actor.family_id.ok_or(AppError::Forbidden)?;
    let filed =
        crate::screening::file(&state, &caller.actor, &caller.audit("own questionnaire"), family, &input).await?;
    Ok(family_filed_json(&filed))
}

/// The questionnaires addressed to the signed-in family now
///
/// Structure only; the texts are keys for the municipality's licensed wording.
#[utoipa::path(get, path = "/api/v1/me/screenings", tag = "screening",
    responses(
        (status = 200, description = "The questionnaires", body = super::api_doc::QuestionnaireList),
        (status = 403, description = "The caller is no family member (`forbidden`)"),
        (status = 404, description = "No such family (`not_found`)")))]
async fn my_questionnaires(State(state): State<AppState>, caller: ApiCaller) -> Result<Response, ApiError> {
    let family = caller.actor.family_id.ok_or(AppError::Forbidden)?;
    let (_, allowed) = family_for(&state, &caller.actor, family, Action::FileScreening).await?;
    let record = state
        .store
        .open_family(&caller.audit("own questionnaires").allowed(&allowed), family)
        .await?
        .ok_or(AppError::NotFound)?;
    let list: Vec<_> = crate::screening::addressed_to_family(&record, state.clock.today())
        .iter()
        .map(|(d, p)| {
            let items: Vec<_> = d
                .items
                .iter()
                .map(|i| json!({"id": i.id, "text_key": i.text_key, "required": i.required,
                               "options": i.options.iter().map(|o| json!({"code": o.code, "text_key": o.text_key})).collect::<Vec<_>>()}))
                .collect();
            json!({"id": d.id, "version": d.version, "title_key": d.title_key, "wording": d.wording, "pregnancy_id": p, "items": items})
        })
        .collect();
    Ok(Json(json!({ "questionnaires": list })).into_response())
}

/// A family's screening responses with their scores, results and reasons, newest first
///
/// For staff who follow the family up: nurses, the caseworker of an
/// escalated case, the facility it stays at.
#[utoipa::path(get, path = "/api/v1/families/{id}/screenings", tag = "screening",
    params(("id" = i64, Path, description = "Family id")),
    responses(
        (status = 200, description = "The responses", body = super::api_doc::ScreeningList),
        (status = 403, description = "Not a family whose results the caller may see (`forbidden`)")))]
async fn list_screenings(
    State(state): State<AppState>,
    ApiFamilyCaller { caller, access, .. }: ApiFamilyCaller,
) -> Result<Response, ApiError> {
    // The session and the family's access facts came in one read (#16).
    let list = crate::screening::list(&state, &caller.actor, &caller.audit("screenings"), access.as_ref()).await?;
    let list: Vec<_> = list.iter().map(crate::screening::screening_json).collect();
    Ok(Json(json!({ "screenings": list })).into_response())
}

/// One screening response with its answers as given, score, result, reasons and referral
#[utoipa::path(get, path = "/api/v1/screenings/{id}", tag = "screening",
    params(("id" = i64, Path, description = "Screening id")),
    responses(
        (status = 200, description = "The response", body = super::api_doc::Screening),
        (status = 403, description = "Not a family whose results the caller may see (`forbidden`)")))]
async fn show_screening(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let (s, _) =
        crate::screening::one(&state, &caller.actor, &caller.audit("screening"), tsunagu_domain::ScreeningId(id))
            .await?;
    Ok(Json(crate::screening::screening_json(&s)).into_response())
}

/// One screening response as a FHIR R4 Bundle
///
/// Type `collection`, holding the `Questionnaire` and the
/// `QuestionnaireResponse`.
#[utoipa::path(get, path = "/api/v1/screenings/{id}/fhir", tag = "screening",
    params(("id" = i64, Path, description = "Screening id")),
    responses(
        (status = 200, description = "The bundle", body = super::api_doc::FhirResource, content_type = "application/fhir+json"),
        (status = 403, description = "Not a family whose results the caller may see (`forbidden`)"),
        (status = 409, description = "`questionnaire_version_unknown`")))]
async fn screening_fhir(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let ctx = caller.audit("screening FHIR export");
    let bundle = crate::screening::fhir_export(&state, &caller.actor, &ctx, tsunagu_domain::ScreeningId(id)).await?;
    Ok(crate::screening::fhir_response(&bundle))
}

/// A questionnaire's structure and scoring key as a FHIR R4 Questionnaire
///
/// `epds`, `bonding`, `support_checklist`, `notification`; no person, so any
/// signed-in caller.
#[utoipa::path(get, path = "/api/v1/questionnaires/{id}/fhir", tag = "screening",
    params(("id" = String, Path, description = "Questionnaire id")),
    responses((status = 200, description = "The questionnaire", body = super::api_doc::FhirResource, content_type = "application/fhir+json")))]
async fn questionnaire_fhir(_caller: ApiCaller, ApiPath(id): ApiPath<String>) -> Result<Response, ApiError> {
    let def = crate::screening::definition(&id).ok_or(AppError::NotFound)?;
    Ok(crate::screening::fhir_response(&tsunagu_domain::screening::to_fhir_questionnaire(&def)))
}
