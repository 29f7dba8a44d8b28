//! What the screening API answers, for the OpenAPI document, and its operations.

#![allow(dead_code)] // Described, never built: the handlers answer the same shape.

use std::collections::BTreeMap;
use tsunagu_domain::roles::Role;
use tsunagu_domain::screening::{Reason, Wording};
use tsunagu_domain::{AccountId, FamilyId, PregnancyId, ReferralId, ScreeningId};
use utoipa::ToSchema;

/// A screening response with its answers as given, score, result, reasons and referral.
#[derive(ToSchema)]
pub struct Screening {
    id: ScreeningId,
    family_id: FamilyId,
    pregnancy_id: Option<PregnancyId>,
    questionnaire: String,
    version: String,
    /// Item id → the option code given.
    answers: BTreeMap<String, String>,
    total: u32,
    /// The highest total of the questionnaire's version (absent if unknown).
    max_total: Option<u32>,
    positive: bool,
    urgent: bool,
    reasons: Vec<Reason>,
    entered_by_account: AccountId,
    entered_by_role: Role,
    entered_at: jiff::Timestamp,
    referral_id: Option<ReferralId>,
}

/// A family's responses, newest first.
#[derive(ToSchema)]
pub struct ScreeningList {
    screenings: Vec<Screening>,
}

/// A response filed by staff who may see its result.
#[derive(ToSchema)]
pub struct FiledWithResult {
    id: ScreeningId,
    /// The referral a positive or urgent result raised.
    referral_id: Option<ReferralId>,
    questionnaire: String,
    version: String,
    total: u32,
    max_total: u32,
    positive: bool,
    urgent: bool,
    reasons: Vec<Reason>,
}

/// A response filed, as a family (or anyone who may not see results) is
/// told: never the score or result.
#[derive(ToSchema)]
pub struct Filed {
    id: ScreeningId,
    /// An urgent result: show where to get help now.
    show_help_now: bool,
}

/// What filing answers: the result for those who may see it, else `Filed`.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum FiledAnswer {
    WithResult(FiledWithResult),
    Filed(Filed),
}

/// The questionnaires addressed to the family now.
#[derive(ToSchema)]
pub struct QuestionnaireList {
    questionnaires: Vec<Questionnaire>,
}

/// A questionnaire's structure; the texts are keys for the municipality's
/// licensed wording.
#[derive(ToSchema)]
pub struct Questionnaire {
    id: String,
    version: String,
    title_key: String,
    wording: Wording,
    /// The pregnancy the answers are for.
    pregnancy_id: PregnancyId,
    items: Vec<QuestionnaireItem>,
}

/// One question.
#[derive(ToSchema)]
pub struct QuestionnaireItem {
    id: String,
    text_key: String,
    required: bool,
    options: Vec<QuestionnaireOption>,
}

/// One answer a question offers.
#[derive(ToSchema)]
pub struct QuestionnaireOption {
    code: String,
    text_key: String,
}

/// A FHIR R4 resource (`Bundle` or `Questionnaire`), as FHIR defines it.
#[derive(ToSchema)]
pub struct FhirResource {
    #[serde(rename = "resourceType")]
    resource_type: String,
    /// The rest of the resource, as FHIR R4 defines it.
    #[serde(flatten)]
    rest: BTreeMap<String, serde_json::Value>,
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        super::api::list_screenings,
        super::api::file_screening,
        super::api::my_questionnaires,
        super::api::file_my_screening,
        super::api::show_screening,
        super::api::screening_fhir,
        super::api::questionnaire_fhir
    ),
    tags((name = "screening", description = "Questionnaires: what is addressed to a family, answers, results, FHIR R4 export"))
)]
pub struct ApiDoc;
