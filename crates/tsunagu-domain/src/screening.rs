//! Screening questionnaires (DOMAIN.md §7, PRODUCT.md §1.3): definitions as
//! versioned data, answers stored as given (the option chosen, not only its
//! score), scoring rules as data, and export as FHIR R4.
//!
//! The wording of the published questionnaires is copyrighted (the EPDS by
//! the Royal College of Psychiatrists). Definitions here carry structure and
//! scoring keys only; every text is a key, and the shipped keys are marked
//! as placeholders ([`Wording::Placeholder`]). A municipality loads the
//! wording from its own licensed forms.

pub mod defs;
pub mod fhir;

pub use fhir::{to_fhir_questionnaire, to_fhir_questionnaire_response};

use crate::records::{FamilyRecord, PregnancyStatus};
use crate::roles::Role;
use crate::PregnancyId;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A questionnaire, as data. A change of items, options, scores or rules is a
/// new `version`; answers keep the version they were given to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionnaireDef {
    /// Stable identifier (`epds`, `bonding`, …).
    pub id: String,
    pub version: String,
    pub title_key: String,
    pub wording: Wording,
    /// Where the scoring key and the rules come from.
    pub key: KeySource,
    pub filled_by: FilledBy,
    pub items: Vec<ItemDef>,
    /// Applied in order; each that holds adds its reason to the result.
    pub rules: Vec<Rule>,
}

/// Whether the text keys point at real wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Wording {
    /// Keys for placeholder text (demo data); the real wording is licensed.
    Placeholder,
    /// Keys for wording the municipality loaded from its licensed form.
    Licensed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    /// As published; cited in `note`.
    Published,
    /// Believed to match the published instrument but not verified against
    /// it here: the municipality must confirm before relying on it.
    Provisional,
    /// Our own design (no published instrument).
    Local,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySource {
    pub status: KeyStatus,
    pub note: String,
}

/// Who answers, and who may enter the answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilledBy {
    pub respondent: Respondent,
    /// Roles that may enter answers: the family on a phone, staff from paper.
    pub entered_by: Vec<Role>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Respondent {
    /// The pregnant woman (at the notification).
    PregnantWoman,
    /// The mother, after the birth.
    Mother,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemDef {
    /// The link id (`"1"`, `"4a"`, `"support_available"`).
    pub id: String,
    pub text_key: String,
    /// In printed order.
    pub options: Vec<AnswerOption>,
    pub required: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerOption {
    /// What is stored when this option is chosen.
    pub code: String,
    pub text_key: String,
    /// The scoring key.
    pub score: u8,
}

impl ItemDef {
    pub fn option(&self, code: &str) -> Option<&AnswerOption> {
        self.options.iter().find(|o| o.code == code)
    }

    pub fn max_score(&self) -> u8 {
        self.options.iter().map(|o| o.score).max().unwrap_or(0)
    }

    /// Reverse-scored: the scores fall strictly in printed order (3, 2, 1, 0).
    pub fn is_reverse_keyed(&self) -> bool {
        self.options.len() > 1 && self.options.windows(2).all(|w| matches!(w, [a, b] if a.score > b.score))
    }
}

/// What a rule that holds does to the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// A positive screen: follow-up work for the owning nurse.
    Positive,
    /// Same-day follow-up, whatever else the result says.
    Urgent,
}

/// A scoring rule, as data. `reason` is a stable code the pages translate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Rule {
    /// The total (sum of the item scores) is at least `min`: a cut-off.
    TotalAtLeast { min: u32, effect: Effect, reason: String },
    /// One item scores more than `above` ("urgent if item 10 > 0").
    ItemAbove { item: String, above: u8, effect: Effect, reason: String },
    /// At least `min_count` of `items` score more than `above`.
    CountAbove { items: Vec<String>, above: u8, min_count: u32, effect: Effect, reason: String },
}

impl Rule {
    pub fn effect(&self) -> Effect {
        match self {
            Rule::TotalAtLeast { effect, .. } | Rule::ItemAbove { effect, .. } | Rule::CountAbove { effect, .. } => {
                *effect
            }
        }
    }

    pub fn reason(&self) -> &str {
        match self {
            Rule::TotalAtLeast { reason, .. } | Rule::ItemAbove { reason, .. } | Rule::CountAbove { reason, .. } => {
                reason
            }
        }
    }

    fn items(&self) -> Vec<&str> {
        match self {
            Rule::TotalAtLeast { .. } => vec![],
            Rule::ItemAbove { item, .. } => vec![item],
            Rule::CountAbove { items, .. } => items.iter().map(String::as_str).collect(),
        }
    }

    fn holds(&self, total: u32, scores: &BTreeMap<&str, u8>) -> bool {
        match self {
            Rule::TotalAtLeast { min, .. } => total >= *min,
            Rule::ItemAbove { item, above, .. } => scores.get(item.as_str()).is_some_and(|s| s > above),
            Rule::CountAbove { items, above, min_count, .. } => {
                let n = items.iter().filter(|i| scores.get(i.as_str()).is_some_and(|s| s > above)).count();
                u32::try_from(n).unwrap_or(u32::MAX) >= *min_count
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DefinitionError {
    #[error("a questionnaire needs an id, a version and at least one item")]
    Empty,
    #[error("item {0} appears twice")]
    DuplicateItem(String),
    #[error("item {0} has fewer than two options")]
    TooFewOptions(String),
    #[error("item {item} has option {code} twice")]
    DuplicateOption { item: String, code: String },
    #[error("rule {reason} names unknown item {item}")]
    RuleUnknownItem { reason: String, item: String },
}

impl QuestionnaireDef {
    pub fn item(&self, id: &str) -> Option<&ItemDef> {
        self.items.iter().find(|i| i.id == id)
    }

    /// The highest total the key allows.
    pub fn max_total(&self) -> u32 {
        self.items.iter().map(|i| u32::from(i.max_score())).sum()
    }

    /// Checks a definition before it is used or stored (a municipality may
    /// load its own).
    pub fn check(&self) -> Result<(), DefinitionError> {
        if self.id.trim().is_empty() || self.version.trim().is_empty() || self.items.is_empty() {
            return Err(DefinitionError::Empty);
        }
        let mut ids = BTreeSet::new();
        for item in &self.items {
            if !ids.insert(item.id.as_str()) {
                return Err(DefinitionError::DuplicateItem(item.id.clone()));
            }
            if item.options.len() < 2 {
                return Err(DefinitionError::TooFewOptions(item.id.clone()));
            }
            let mut codes = BTreeSet::new();
            for o in &item.options {
                if !codes.insert(o.code.as_str()) {
                    return Err(DefinitionError::DuplicateOption { item: item.id.clone(), code: o.code.clone() });
                }
            }
        }
        for rule in &self.rules {
            if let Some(item) = rule.items().into_iter().find(|i| !ids.contains(i)) {
                return Err(DefinitionError::RuleUnknownItem {
                    reason: rule.reason().to_owned(),
                    item: item.to_owned(),
                });
            }
        }
        Ok(())
    }
}

/// Answers as given: for each item answered, the code of the option chosen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answers {
    pub questionnaire: String,
    pub version: String,
    pub answers: BTreeMap<String, String>,
}

impl Answers {
    /// Answers to `def` from (item, code) pairs.
    pub fn to(def: &QuestionnaireDef, pairs: &[(&str, &str)]) -> Answers {
        Answers {
            questionnaire: def.id.clone(),
            version: def.version.clone(),
            answers: pairs.iter().map(|(i, c)| ((*i).to_owned(), (*c).to_owned())).collect(),
        }
    }
}

/// One thing wrong with the answers to one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum ItemProblem {
    /// A required item has no answer.
    Missing { item: String },
    /// An answer to an item the questionnaire does not have.
    UnknownItem { item: String },
    /// An answer code the item does not offer.
    UnknownOption { item: String, code: String },
}

/// Every problem with the answers, each next to its item (like
/// [`crate::validation::FieldErrors`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemProblems(pub Vec<ItemProblem>);

impl std::fmt::Display for ItemProblems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match p {
                ItemProblem::Missing { item } => write!(f, "item {item}: no answer")?,
                ItemProblem::UnknownItem { item } => write!(f, "item {item}: no such item")?,
                ItemProblem::UnknownOption { item, code } => write!(f, "item {item}: no answer {code:?}")?,
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    #[error("the answers are for questionnaire {got:?}, not {expected:?}")]
    WrongQuestionnaire { expected: String, got: String },
    #[error("the answers are for version {got:?} of {questionnaire}, not {expected:?}")]
    WrongVersion { questionnaire: String, expected: String, got: String },
    #[error("{0}")]
    Items(ItemProblems),
}

/// Why a result is positive or urgent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reason {
    pub code: String,
    pub effect: Effect,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScreeningResult {
    pub questionnaire: String,
    pub version: String,
    pub total: u32,
    pub max_total: u32,
    /// Each answered item's score, by item id.
    pub item_scores: BTreeMap<String, u8>,
    pub positive: bool,
    pub urgent: bool,
    /// In rule order.
    pub reasons: Vec<Reason>,
}

/// The answered items with the options chosen, in the definition's order,
/// or every problem with the answers.
pub(crate) fn chosen<'d>(
    def: &'d QuestionnaireDef,
    answers: &Answers,
) -> Result<Vec<(&'d ItemDef, &'d AnswerOption)>, AnswerError> {
    if answers.questionnaire != def.id {
        return Err(AnswerError::WrongQuestionnaire { expected: def.id.clone(), got: answers.questionnaire.clone() });
    }
    if answers.version != def.version {
        return Err(AnswerError::WrongVersion {
            questionnaire: def.id.clone(),
            expected: def.version.clone(),
            got: answers.version.clone(),
        });
    }
    let mut problems = Vec::new();
    let mut out = Vec::new();
    for item in &def.items {
        match answers.answers.get(&item.id) {
            None if item.required => problems.push(ItemProblem::Missing { item: item.id.clone() }),
            None => {}
            Some(code) => match item.option(code) {
                Some(o) => out.push((item, o)),
                None => problems.push(ItemProblem::UnknownOption { item: item.id.clone(), code: code.clone() }),
            },
        }
    }
    for id in answers.answers.keys().filter(|id| def.item(id).is_none()) {
        problems.push(ItemProblem::UnknownItem { item: id.clone() });
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(AnswerError::Items(ItemProblems(problems)))
    }
}

/// Scores answers against their questionnaire.
pub fn score(def: &QuestionnaireDef, answers: &Answers) -> Result<ScreeningResult, AnswerError> {
    let chosen = chosen(def, answers)?;
    let scores: BTreeMap<&str, u8> = chosen.iter().map(|(i, o)| (i.id.as_str(), o.score)).collect();
    let total: u32 = scores.values().map(|s| u32::from(*s)).sum();
    let reasons: Vec<Reason> = def
        .rules
        .iter()
        .filter(|r| r.holds(total, &scores))
        .map(|r| Reason { code: r.reason().to_owned(), effect: r.effect() })
        .collect();
    Ok(ScreeningResult {
        questionnaire: def.id.clone(),
        version: def.version.clone(),
        total,
        max_total: def.max_total(),
        item_scores: scores.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
        positive: reasons.iter().any(|r| r.effect == Effect::Positive),
        urgent: reasons.iter().any(|r| r.effect == Effect::Urgent),
        reasons,
    })
}

/// Follow-up work a result calls for (PRODUCT.md §1.3): for the owning
/// nurse, with the reasons; urgent ones are shown at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FollowUp {
    pub owner: Role,
    pub urgent: bool,
    pub reasons: Vec<Reason>,
}

/// `None` when the result calls for nothing. Urgent and positive are
/// independent flags (an EPDS total of 2 with item 10 above 0 is urgent, not
/// positive); either one makes follow-up work.
pub fn follow_up(result: &ScreeningResult) -> Option<FollowUp> {
    (result.positive || result.urgent).then(|| FollowUp {
        owner: Role::Nurse,
        urgent: result.urgent,
        reasons: result.reasons.clone(),
    })
}

/// Whether `role` may enter answers to `def` (its `filled_by.entered_by`):
/// the family on a phone, staff from a paper form. Which family is the
/// policy's `FileScreening`.
pub fn may_enter(def: &QuestionnaireDef, role: Role) -> bool {
    def.filled_by.entered_by.contains(&role)
}

/// How long after a birth the questionnaires answered by the mother are
/// offered to her: the first year (newborn visit, postpartum check-ups,
/// postpartum care; DOMAIN.md §7).
pub const MOTHER_QUESTIONNAIRES_DAYS: i64 = 365;

/// Whether `def` is addressed to the family on `today`, and the pregnancy
/// its answers are about: a pregnant woman's questionnaire (the notification
/// questionnaire) while a pregnancy is ongoing — the latest notified — and a
/// mother's (EPDS, bonding, support checklist) in the first year after the
/// latest birth, about the pregnancy of that birth. `None` when it is not
/// addressed to the family now.
pub fn offered(def: &QuestionnaireDef, record: &FamilyRecord, today: jiff::civil::Date) -> Option<PregnancyId> {
    match def.filled_by.respondent {
        Respondent::PregnantWoman => record
            .pregnancies
            .iter()
            .filter(|p| p.status == PregnancyStatus::Ongoing)
            .max_by_key(|p| (p.notified_on, p.id))
            .map(|p| p.id),
        Respondent::Mother => {
            let latest = record.babies.iter().max_by_key(|b| (b.birth_date, b.id))?;
            let age = (today - latest.birth_date).get_days();
            (0..=MOTHER_QUESTIONNAIRES_DAYS).contains(&i64::from(age)).then_some(latest.pregnancy_id)
        }
    }
}

/// The note of the referral a result raises: the questionnaire and the
/// reason codes, in rule order (`epds: epds_total_9_or_more`) — never free
/// text. Pages translate the codes ([`parse_referral_note`]).
pub fn referral_note(result: &ScreeningResult) -> String {
    let mut codes: Vec<&str> = Vec::new();
    for r in &result.reasons {
        if !codes.contains(&r.code.as_str()) {
            codes.push(&r.code);
        }
    }
    format!("{}: {}", result.questionnaire, codes.join(", "))
}

/// The questionnaire id and reason codes of a note made by [`referral_note`].
pub fn parse_referral_note(note: &str) -> Option<(&str, Vec<&str>)> {
    let (questionnaire, codes) = note.split_once(": ")?;
    let codes: Vec<&str> = codes.split(", ").filter(|c| !c.is_empty()).collect();
    let code_like = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    (code_like(questionnaire) && codes.iter().all(|c| code_like(c))).then_some((questionnaire, codes))
}

#[cfg(test)]
mod tests;
