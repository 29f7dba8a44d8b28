//! FHIR R4 `Questionnaire` and `QuestionnaireResponse` for a definition and
//! its answers (PRODUCT.md §2: FHIR R4 where a record leaves the system).
//!
//! Canonical URLs are URNs (`urn:tsunagu:questionnaire:<id>`): tsunagu has
//! no web address of its own to mint them under. A response points at its
//! questionnaire as `canonical|version`. Scores travel as the R4 `ordinalValue`
//! extension on each answer's coding, so a receiver can re-score.

use super::{chosen, AnswerError, Answers, QuestionnaireDef, Wording};
use serde_json::{json, Value};

/// The R4 extension carrying an answer's score.
pub const ORDINAL_VALUE: &str = "http://hl7.org/fhir/StructureDefinition/ordinalValue";

/// The canonical URL of a questionnaire (without version).
pub fn canonical(def: &QuestionnaireDef) -> String {
    format!("urn:tsunagu:questionnaire:{}", def.id)
}

/// The code system of a questionnaire version's answer codes.
pub fn answer_system(def: &QuestionnaireDef) -> String {
    format!("urn:tsunagu:questionnaire:{}:{}:answer", def.id, def.version)
}

/// A FHIR id: `[A-Za-z0-9\-\.]{1,64}`.
fn fhir_id(def: &QuestionnaireDef) -> String {
    let raw = format!("{}-{}", def.id, def.version);
    raw.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '-' }).take(64).collect()
}

/// A computable name: `[A-Z]([A-Za-z0-9_]){0,254}` (`support_checklist` → `SupportChecklist`).
fn fhir_name(def: &QuestionnaireDef) -> String {
    let mut name = String::from("Q");
    let mut upper = true;
    for c in def.id.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(if upper { c.to_ascii_uppercase() } else { c });
            upper = false;
        } else {
            upper = true;
        }
    }
    // Drop the guard "Q" when the id itself starts with a letter.
    if name.chars().nth(1).is_some_and(|c| c.is_ascii_uppercase()) {
        name.remove(0);
    }
    name
}

/// The definition as an R4 `Questionnaire`.
pub fn to_fhir_questionnaire(def: &QuestionnaireDef) -> Value {
    let system = answer_system(def);
    let items: Vec<Value> = def
        .items
        .iter()
        .map(|item| {
            let options: Vec<Value> = item
                .options
                .iter()
                .map(|o| {
                    json!({
                        "valueCoding": {
                            "extension": [{ "url": ORDINAL_VALUE, "valueDecimal": o.score }],
                            "system": system,
                            "code": o.code,
                            "display": o.text_key,
                        }
                    })
                })
                .collect();
            json!({
                "linkId": item.id,
                "text": item.text_key,
                "type": "choice",
                "required": item.required,
                "answerOption": options,
            })
        })
        .collect();
    let mut q = json!({
        "resourceType": "Questionnaire",
        "id": fhir_id(def),
        "url": canonical(def),
        "version": def.version,
        "name": fhir_name(def),
        "title": def.title_key,
        "status": "active",
        "subjectType": ["Patient"],
        "item": items,
    });
    if def.wording == Wording::Placeholder {
        if let Some(obj) = q.as_object_mut() {
            obj.insert(
                "description".to_owned(),
                json!("Structure and scoring key only; texts are placeholder keys, not the licensed wording."),
            );
        }
    }
    q
}

/// Complete answers as an R4 `QuestionnaireResponse` (status `completed`).
/// Incomplete or unknown answers are refused with the same errors as
/// [`super::score`]: a response that says "completed" must be.
///
/// `subject_ref` is a FHIR reference (`Patient/123`); `authored` is written
/// in Japan time with its offset.
pub fn to_fhir_questionnaire_response(
    def: &QuestionnaireDef,
    answers: &Answers,
    subject_ref: &str,
    authored: jiff::Timestamp,
) -> Result<Value, AnswerError> {
    let system = answer_system(def);
    let items: Vec<Value> = chosen(def, answers)?
        .into_iter()
        .map(|(item, o)| {
            json!({
                "linkId": item.id,
                "answer": [{
                    "valueCoding": { "system": system, "code": o.code, "display": o.text_key }
                }],
            })
        })
        .collect();
    let authored = authored.to_zoned(crate::clock::jst()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string();
    Ok(json!({
        "resourceType": "QuestionnaireResponse",
        "questionnaire": format!("{}|{}", canonical(def), def.version),
        "status": "completed",
        "subject": { "reference": subject_ref },
        "authored": authored,
        "item": items,
    }))
}
