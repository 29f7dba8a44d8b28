//! Screening questionnaires, shared by the pages and the API (DOMAIN.md §7,
//! PRODUCT.md §1.3): which questionnaires are addressed to a family now,
//! filing answers (the family on a phone, staff from a paper form), the
//! staff's view of a family's responses, and the FHIR R4 export.
//!
//! The domain scores and decides the follow-up; the store records the
//! response and, in the same transaction, the referral to the nurse a
//! positive or urgent result raises. Answers and results are health data:
//! they are never logged, and the family is never shown its score or
//! whether it was "positive".

use crate::base::error::AppError;
pub use crate::base::screening_words::{describe_note, reason, title};
use crate::base::AppState;
use crate::i18n::{t, Lang};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use tsunagu_domain::audit::{AuditContext, Requester};
use tsunagu_domain::policy::{authorize, Action, FamilyAccess, Resource};
use tsunagu_domain::records::{FamilyRecord, Person};
use tsunagu_domain::roles::{Actor, Role};
use tsunagu_domain::screening::{
    defs, may_enter, offered, to_fhir_questionnaire, to_fhir_questionnaire_response, AnswerError, Answers, ItemProblem,
    QuestionnaireDef, ScreeningResult,
};
use tsunagu_domain::validation::FieldErrors;
use tsunagu_domain::{FamilyId, PersonId, PregnancyId, ScreeningId};
use tsunagu_store::{NewScreening, RecordedScreening, StoreError, StoredScreening};

pub mod api;
mod api_doc;
pub mod pages;

/// What this capability's API operations are, for the API's OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    <api_doc::ApiDoc as utoipa::OpenApi>::openapi()
}

/// The questionnaires' pages and API.
pub fn routes() -> Router<AppState> {
    Router::new().merge(api::routes()).merge(pages::routes())
}

/// The FHIR JSON media type (R4).
pub const FHIR_JSON: &str = "application/fhir+json";

/// Answers as sent by a form or the API.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScreeningInput {
    /// The questionnaire's id (`epds`, `bonding`, `support_checklist`, `notification`).
    pub questionnaire: String,
    /// The version answered; the current one when left out.
    #[serde(default)]
    pub version: Option<String>,
    /// Item id → the code of the option chosen.
    #[serde(default)]
    pub answers: BTreeMap<String, String>,
    /// Staff only: the pregnancy the answers are about, when it is not the
    /// one the questionnaire is addressed for (see `screening::offered`).
    #[serde(default)]
    pub pregnancy_id: Option<i64>,
}

fn invalid(field: &str, code: &'static str) -> AppError {
    let mut e = FieldErrors::default();
    e.add(field, code);
    AppError::Invalid(e)
}

/// The shipped definition of `id`, if any.
pub fn definition(id: &str) -> Option<QuestionnaireDef> {
    defs::by_id(id)
}

/// Every problem with the answers, each as a field error next to its item
/// (`answers.<item>`): `required`, `invalid_choice` or `unknown_item`.
pub fn answer_errors(e: &AnswerError) -> FieldErrors {
    let mut errors = FieldErrors::default();
    match e {
        AnswerError::WrongQuestionnaire { .. } => errors.add("questionnaire", "invalid_choice"),
        AnswerError::WrongVersion { .. } => errors.add("version", "invalid_choice"),
        AnswerError::Items(problems) => {
            for p in &problems.0 {
                match p {
                    ItemProblem::Missing { item } => errors.add(format!("answers.{item}"), "required"),
                    ItemProblem::UnknownItem { item } => errors.add(format!("answers.{item}"), "unknown_item"),
                    ItemProblem::UnknownOption { item, .. } => errors.add(format!("answers.{item}"), "invalid_choice"),
                }
            }
        }
    }
    errors
}

/// The questionnaires the family may answer itself now, with the pregnancy
/// each is about.
pub fn addressed_to_family(record: &FamilyRecord, today: jiff::civil::Date) -> Vec<(QuestionnaireDef, PregnancyId)> {
    defs::all()
        .into_iter()
        // Role: the definition's `filled_by` names the family's role for what a
        // family fills in itself (a rule of the questionnaire, not an access).
        .filter(|d| may_enter(d, Role::FamilyMember))
        .filter_map(|d| offered(&d, record, today).map(|p| (d, p)))
        .collect()
}

/// The questionnaires `role` may enter from a paper form.
pub fn enterable_by(role: Role) -> Vec<QuestionnaireDef> {
    defs::all().into_iter().filter(|d| may_enter(d, role)).collect()
}

/// What filing answers did: the response and its referral, and the result
/// (for staff; a family is only ever told whether to look for help now).
#[derive(Debug, Clone)]
pub struct Filed {
    pub recorded: RecordedScreening,
    pub result: ScreeningResult,
}

/// Files answers for `family`: the policy's `FileScreening` decides on the
/// family, the definition on the role (`filled_by.entered_by`). A family
/// member may answer only what is addressed to the family now; staff may
/// enter any questionnaire their role may, about the pregnancy named or the
/// one it is addressed for. Nothing is stored while any answer is wrong.
pub async fn file(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    family: FamilyId,
    input: &ScreeningInput,
) -> Result<Filed, AppError> {
    let (_, allowed) = crate::base::access::family_for(state, actor, family, Action::FileScreening).await?;
    let ctx = &requester.allowed(&allowed);
    let def = definition(input.questionnaire.trim()).ok_or_else(|| invalid("questionnaire", "invalid_choice"))?;
    if !may_enter(&def, actor.role) {
        return Err(AppError::Forbidden);
    }
    let version = input.version.clone().unwrap_or_else(|| def.version.clone());
    let answers = Answers { questionnaire: def.id.clone(), version, answers: input.answers.clone() };
    // Check the answers before anything is read (reads are audited).
    tsunagu_domain::screening::score(&def, &answers).map_err(|e| AppError::Invalid(answer_errors(&e)))?;
    let today = state.clock.today();
    let own = actor.family_id == Some(family);
    // What the answers are about is decided on the record as the filing's
    // own transaction reads it: one `screening.record` line.
    let check = |record: &FamilyRecord| -> Result<NewScreening, StoreError> {
        let field = |field: &str, code: &'static str| {
            let mut e = FieldErrors::default();
            e.add(field, code);
            StoreError::Invalid(e)
        };
        let addressed = offered(&def, record, today);
        // The family filing its own is answering what is addressed to it now;
        // staff entering a paper form may name the pregnancy.
        let pregnancy = if own {
            if input.pregnancy_id.is_some() {
                return Err(field("pregnancy_id", "invalid_choice"));
            }
            Some(addressed.ok_or(StoreError::Conflict("questionnaire_not_offered"))?)
        } else {
            match input.pregnancy_id {
                Some(p) if record.pregnancies.iter().any(|x| x.id.0 == p) => Some(PregnancyId(p)),
                Some(_) => return Err(field("pregnancy_id", "unknown_reference")),
                None => addressed,
            }
        };
        NewScreening::score(&def, family, pregnancy, answers.clone())
            .map_err(|e| StoreError::Invalid(answer_errors(&e)))
    };
    let (recorded, new) = state.store.record_screening_checked(ctx, family, &check).await?;
    Ok(Filed { recorded, result: new.result().clone() })
}

/// A family's responses with their results, for the staff who follow it up
/// (the policy's `ViewScreenings`, on the access facts read with the
/// caller's session).
pub async fn list(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    access: Option<&FamilyAccess>,
) -> Result<Vec<StoredScreening>, AppError> {
    let (access, allowed) = crate::base::access::decide_on_family(actor, access, Action::ViewScreenings)?;
    Ok(state.store.screenings(&requester.allowed(&allowed), access.family_id, 200).await?)
}

/// A family's responses with its mother (a staff page's heading), read as
/// one `screening.list` line.
pub async fn list_with_mother(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    family: FamilyId,
) -> Result<(Vec<StoredScreening>, Option<Person>), AppError> {
    let (_, allowed) = crate::base::access::family_for(state, actor, family, Action::ViewScreenings).await?;
    Ok(state.store.screenings_with_mother(&requester.allowed(&allowed), family, 200).await?)
}

/// One response, if the caller may see the family's results, with the
/// context of that decision (for reading more of the same family, e.g. its
/// FHIR export). The family is looked up first (no personal data, not
/// audited) so that a refused caller reads nothing.
pub async fn one(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    id: ScreeningId,
) -> Result<(StoredScreening, AuditContext), AppError> {
    let family = state.store.screening_family(actor.municipality_id, id).await?.ok_or(AppError::NotFound)?;
    let (_, allowed) = crate::base::access::family_for(state, actor, family, Action::ViewScreenings).await?;
    let ctx = requester.allowed(&allowed);
    let one = state.store.screening(&ctx, id).await?.ok_or(AppError::NotFound)?;
    Ok((one, ctx))
}

/// May the caller see results of this family's screenings?
pub async fn may_view(state: &AppState, actor: &Actor, family: FamilyId) -> Result<bool, AppError> {
    let access = state.store.family_access(actor.municipality_id, family).await?.ok_or(AppError::NotFound)?;
    Ok(authorize(actor, Action::ViewScreenings, &Resource::Family(&access)).is_allowed())
}

/// A response as the API gives it to staff.
pub fn screening_json(s: &StoredScreening) -> Value {
    let max_total = definition(&s.questionnaire).filter(|d| d.version == s.version).map(|d| d.max_total());
    json!({
        "id": s.id, "family_id": s.family_id, "pregnancy_id": s.pregnancy_id,
        "questionnaire": s.questionnaire, "version": s.version, "answers": s.answers,
        "total": s.total, "max_total": max_total, "positive": s.positive, "urgent": s.urgent,
        "reasons": s.reasons, "entered_by_account": s.entered_by_account, "entered_by_role": s.entered_by_role,
        "entered_at": s.entered_at, "referral_id": s.referral_id,
    })
}

/// A response as a FHIR R4 `Bundle` (see `fhir_bundle`), if the caller may
/// see the family's results: the response and its subject are read as one
/// `screening.view` line.
pub async fn fhir_export(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    id: ScreeningId,
) -> Result<Value, AppError> {
    let family = state.store.screening_family(actor.municipality_id, id).await?.ok_or(AppError::NotFound)?;
    let (_, allowed) = crate::base::access::family_for(state, actor, family, Action::ViewScreenings).await?;
    let (s, subject) =
        state.store.screening_with_subject(&requester.allowed(&allowed), id).await?.ok_or(AppError::NotFound)?;
    fhir_bundle(state, &s, subject)
}

/// The response as a FHIR R4 `Bundle` (type `collection`) holding the
/// `Questionnaire` it answers and the `QuestionnaireResponse`. The subject is
/// the mother (`Patient/<person id>`), else the family as a group.
fn fhir_bundle(state: &AppState, s: &StoredScreening, mother: Option<PersonId>) -> Result<Value, AppError> {
    let def = definition(&s.questionnaire)
        .filter(|d| d.version == s.version)
        .ok_or(AppError::Conflict("questionnaire_version_unknown"))?;
    let subject = match mother {
        Some(m) => format!("Patient/{m}"),
        None => format!("Group/family-{}", s.family_id),
    };
    let mut response = to_fhir_questionnaire_response(&def, &s.as_answers(), &subject, s.entered_at)
        .map_err(|_| AppError::Internal)?;
    if let Some(obj) = response.as_object_mut() {
        obj.insert("id".to_owned(), json!(format!("screening-{}", s.id)));
    }
    let now = state.clock.now().to_zoned(tsunagu_domain::clock::jst()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string();
    Ok(json!({
        "resourceType": "Bundle",
        "id": format!("screening-{}-bundle", s.id),
        "type": "collection",
        "timestamp": now,
        "entry": [
            { "resource": to_fhir_questionnaire(&def) },
            { "resource": response },
        ],
    }))
}

/// A FHIR resource as `application/fhir+json`, never cached (it holds health data).
pub(crate) fn fhir_response(v: &serde_json::Value) -> axum::response::Response {
    let mut resp =
        axum::response::IntoResponse::into_response(([(axum::http::header::CONTENT_TYPE, FHIR_JSON)], v.to_string()));
    resp.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    resp
}

// --- words ---------------------------------------------------------------------------

/// The placeholder shown for an item: 「質問 3」 / "Question 3" (the item's
/// own number where it has one, e.g. 4a, else its position).
pub fn item_label(lang: Lang, def: &QuestionnaireDef, index: usize) -> String {
    let number = match def.items.get(index) {
        Some(item) if item.id.starts_with(|c: char| c.is_ascii_digit()) => item.id.clone(),
        _ => (index + 1).to_string(),
    };
    format!("{} {number}", t(lang, "scr.item"))
}

/// The placeholder shown for an option: its printed letter (a, b, …) and a
/// label that says nothing of its score (はい / いいえ where the answer is one).
pub fn option_label(lang: Lang, code: &str, index: usize) -> String {
    let letter = u8::try_from(index).ok().filter(|i| *i < 26).map(|i| char::from(b'a' + i)).unwrap_or('?');
    let key = format!("scr.opt.{code}");
    if crate::i18n::has(&key) {
        format!("{letter}. {}", t(lang, &key))
    } else {
        format!("{letter}. {} {letter}", t(lang, "scr.answer"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_questionnaire_reason_and_answer_error_has_words() {
        for def in defs::all() {
            assert!(crate::i18n::has(&format!("scr.q.{}", def.id)), "{}", def.id);
            for rule in &def.rules {
                assert!(crate::i18n::has(&format!("scr.reason.{}", rule.reason())), "{}", rule.reason());
            }
        }
        for key in ["scr.result.urgent", "scr.result.positive", "scr.result.negative"] {
            assert!(crate::i18n::has(key), "{key}");
        }
        for source in tsunagu_domain::referrals::ConcernSource::ALL {
            assert!(crate::i18n::has(&format!("ref.source.{}", source.as_str())), "{source:?}");
        }
        for code in ["required", "invalid_choice", "unknown_item"] {
            assert!(crate::i18n::has(&format!("err.{code}")), "{code}");
            assert!(crate::i18n::has(&format!("scr.err.{code}")), "{code}");
        }
    }

    #[test]
    fn placeholders_name_items_and_options_without_scores() {
        let epds = defs::epds();
        assert_eq!(item_label(Lang::Ja, &epds, 2), "質問 3");
        assert_eq!(item_label(Lang::En, &epds, 2), "Question 3");
        assert_eq!(option_label(Lang::Ja, "a", 0), "a. 回答 a");
        assert_eq!(option_label(Lang::En, "d", 3), "d. Answer d");
        let checklist = defs::support_checklist();
        assert_eq!(item_label(Lang::Ja, &checklist, 4), "質問 4b");
        assert_eq!(option_label(Lang::Ja, "yes", 0), "a. はい");
        let notification = defs::notification();
        assert_eq!(item_label(Lang::En, &notification, 0), "Question 1");
    }

    #[test]
    fn a_screening_note_reads_as_words() {
        let note = "epds: epds_total_9_or_more, epds_item_10_self_harm";
        let ja = describe_note(Lang::Ja, note);
        assert!(ja.starts_with(title(Lang::Ja, "epds")), "{ja}");
        assert!(ja.contains(reason(Lang::Ja, "epds_item_10_self_harm")), "{ja}");
        assert_eq!(describe_note(Lang::Ja, "夜間ほとんど眠れていない様子"), "夜間ほとんど眠れていない様子");
    }

    #[test]
    fn answer_problems_become_field_errors_by_item() {
        let def = defs::epds();
        let mut a = Answers::to(&def, &[("1", "a"), ("2", "z"), ("99", "a")]);
        a.answers.remove("3");
        let Err(e) = tsunagu_domain::screening::score(&def, &a) else { panic!("scored") };
        let errors = answer_errors(&e);
        assert_eq!(errors.for_field("answers.2"), Some("invalid_choice"));
        assert_eq!(errors.for_field("answers.3"), Some("required"));
        assert_eq!(errors.for_field("answers.99"), Some("unknown_item"));
        assert_eq!(errors.for_field("answers.1"), None);
    }
}
