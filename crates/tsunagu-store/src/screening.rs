//! Screening responses in the store.

use crate::Result;
use async_trait::async_trait;
use jiff::Timestamp;
use tsunagu_domain::audit::AuditContext;
use tsunagu_domain::records::{FamilyRecord, Person};
use tsunagu_domain::referrals::Referral;
use tsunagu_domain::roles::Role;
use tsunagu_domain::screening::{AnswerError, Answers, QuestionnaireDef, Reason, ScreeningResult};
use tsunagu_domain::{AccountId, FamilyId, MunicipalityId, PersonId, PregnancyId, ReferralId, ScreeningId};

/// Answers to a screening questionnaire, scored, ready to be stored. The
/// only way to make one is [`NewScreening::score`], so what is stored as the
/// total, the result and the reasons is what the definition says of the
/// answers stored beside them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewScreening {
    family: FamilyId,
    pregnancy: Option<PregnancyId>,
    answers: Answers,
    result: ScreeningResult,
}

impl NewScreening {
    /// Scores `answers` against `def` (refused as `screening::score` refuses).
    pub fn score(
        def: &QuestionnaireDef,
        family: FamilyId,
        pregnancy: Option<PregnancyId>,
        answers: Answers,
    ) -> std::result::Result<Self, AnswerError> {
        let result = tsunagu_domain::screening::score(def, &answers)?;
        Ok(Self { family, pregnancy, answers, result })
    }

    pub fn family(&self) -> FamilyId {
        self.family
    }

    pub fn pregnancy(&self) -> Option<PregnancyId> {
        self.pregnancy
    }

    pub fn answers(&self) -> &Answers {
        &self.answers
    }

    pub fn result(&self) -> &ScreeningResult {
        &self.result
    }

    /// The referral to the nurse this response raises, with its note (reason
    /// codes only), when `screening::follow_up` calls for one; `entered_by`
    /// is the role that entered the answers. Both back ends store exactly this.
    pub fn referral(&self, entered_by: Role) -> Option<(Referral, String)> {
        let f = tsunagu_domain::screening::follow_up(&self.result)?;
        let r = tsunagu_domain::referrals::from_screening(entered_by, self.family, self.pregnancy, &f);
        Some((r, tsunagu_domain::screening::referral_note(&self.result)))
    }
}

/// A screening response as stored: the answers as given, the version of the
/// questionnaire they were given to, what they scored, who entered them and
/// the referral they raised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredScreening {
    pub id: ScreeningId,
    pub municipality_id: MunicipalityId,
    pub family_id: FamilyId,
    pub pregnancy_id: Option<PregnancyId>,
    pub questionnaire: String,
    pub version: String,
    /// Item id → the code of the option chosen.
    pub answers: std::collections::BTreeMap<String, String>,
    pub total: u32,
    pub positive: bool,
    pub urgent: bool,
    pub reasons: Vec<Reason>,
    /// The family member on a phone, or staff from a paper form.
    pub entered_by_account: AccountId,
    pub entered_by_role: Role,
    pub entered_at: Timestamp,
    pub referral_id: Option<ReferralId>,
}

impl StoredScreening {
    /// The answers in the form `screening::score` and the FHIR export take.
    pub fn as_answers(&self) -> Answers {
        Answers {
            questionnaire: self.questionnaire.clone(),
            version: self.version.clone(),
            answers: self.answers.clone(),
        }
    }
}

/// What recording a screening response made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordedScreening {
    pub id: ScreeningId,
    /// The referral raised with it (positive or urgent), if any.
    pub referral: Option<ReferralId>,
}

/// What filing answers checks against the family's record (which pregnancy
/// they are about, what is addressed to the family now), read inside the
/// filing's own transaction: the response to store, or why not.
pub type ScreeningCheck<'a> = dyn Fn(&FamilyRecord) -> Result<NewScreening> + Sync + 'a;

/// Screening responses, scored, and the referral a result raises.
#[async_trait]
pub trait ScreeningStore: Send + Sync {
    /// Stores a scored response, audited `screening.record` with the family.
    /// When `screening::follow_up` calls for it ([`NewScreening::referral`]),
    /// raises in the same transaction a referral to the nurse — source
    /// screening, urgent as scored, a note of reason codes — audited
    /// `referral.raise` as [`CareStore::raise_referral`] would, and links it to
    /// the response. `InvalidReference("family_id")` for another
    /// municipality's family, `InvalidReference("pregnancy_id")` for a
    /// pregnancy not of that family.
    async fn record_screening(&self, ctx: &AuditContext, s: &NewScreening) -> Result<RecordedScreening>;
    /// Reads `family`'s record inside the change's own transaction (not
    /// audited), makes the response with `check` and stores it as
    /// `record_screening` does: one `screening.record` line (and the
    /// referral's own `referral.raise` when the result raises one — a second
    /// action, the nurse's follow-up). `NotFound` for a family not in the
    /// context's municipality. Returns what was stored and the response.
    async fn record_screening_checked(
        &self,
        ctx: &AuditContext,
        family: FamilyId,
        check: &ScreeningCheck<'_>,
    ) -> Result<(RecordedScreening, NewScreening)>;
    /// What the policy needs to decide on a response (like `family_access`):
    /// its family, if it is in `m`. No personal data; not audited.
    async fn screening_family(&self, m: MunicipalityId, id: ScreeningId) -> Result<Option<FamilyId>>;
    /// A family's responses, newest first, at most `limit`; audited `screening.list`.
    async fn screenings(&self, ctx: &AuditContext, family: FamilyId, limit: u32) -> Result<Vec<StoredScreening>>;
    /// One response, audited `screening.view`.
    async fn screening(&self, ctx: &AuditContext, id: ScreeningId) -> Result<Option<StoredScreening>>;
    /// A family's responses as `screenings` reads them, with the family's
    /// mother (a staff page's heading): one `screening.list` line.
    async fn screenings_with_mother(
        &self,
        ctx: &AuditContext,
        family: FamilyId,
        limit: u32,
    ) -> Result<(Vec<StoredScreening>, Option<Person>)>;
    /// One response as `screening` reads it, with whom it is about (the
    /// family's mother, the FHIR export's subject): one `screening.view` line.
    async fn screening_with_subject(
        &self,
        ctx: &AuditContext,
        id: ScreeningId,
    ) -> Result<Option<(StoredScreening, Option<PersonId>)>>;
}
