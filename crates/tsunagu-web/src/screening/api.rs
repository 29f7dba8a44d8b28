//! Screening in the JSON API: the family's questionnaires and its answers,
//! staff filing a paper form, results for those who may see them, and the
//! FHIR R4 exports.

use crate::base::access::family_for;
use crate::base::api::{ApiJson, ApiPath};
use crate::base::error::{ApiError, AppError};
use crate::base::session::ApiCaller;
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

/// Staff file a paper form for a family. The answer holds the result for
/// those who may see it (`ViewScreenings`); anyone else learns only whether
/// to look for help now, as a family filing for itself does.
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

/// The family answers a questionnaire addressed to it.
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

/// The questionnaires addressed to the family now (structure only; the
/// texts are keys for the municipality's licensed wording).
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

async fn list_screenings(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let list = crate::screening::list(&state, &caller.actor, &caller.audit("screenings"), FamilyId(id)).await?;
    let list: Vec<_> = list.iter().map(crate::screening::screening_json).collect();
    Ok(Json(json!({ "screenings": list })).into_response())
}

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

/// A response as a FHIR R4 `Bundle` with its `Questionnaire`.
async fn screening_fhir(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let ctx = caller.audit("screening FHIR export");
    let (s, decided) = crate::screening::one(&state, &caller.actor, &ctx, tsunagu_domain::ScreeningId(id)).await?;
    let bundle = crate::screening::fhir_bundle(&state, &decided, &s).await?;
    Ok(crate::screening::fhir_response(&bundle))
}

/// A questionnaire's definition as a FHIR R4 `Questionnaire` (structure and
/// scoring key; no person, so any signed-in caller).
async fn questionnaire_fhir(_caller: ApiCaller, ApiPath(id): ApiPath<String>) -> Result<Response, ApiError> {
    let def = crate::screening::definition(&id).ok_or(AppError::NotFound)?;
    Ok(crate::screening::fhir_response(&tsunagu_domain::screening::to_fhir_questionnaire(&def)))
}
