//! Who may book a session, and why not: decided from the family's record
//! on the class day, the programme's rules and the family's earlier
//! bookings. A refusal names one reason (a code; the words are the web's),
//! and says whether staff may override it.

use super::programme::{OncePer, ProgrammeConfig, ProgrammeKind, Stage};
use crate::dates::last_day_under_months;
use crate::postpartum::application::moved_out_on;
use crate::records::{FamilyRecord, Pregnancy, PregnancyStatus};
use crate::timeline::dates::gestational_week_start;
use crate::timeline::ContactKind;
use crate::PregnancyId;
use jiff::civil::Date;
use serde::Serialize;

/// A booking the family made before that counts against "once per stage":
/// confirmed, on the waiting list or attended — not cancelled, not a
/// recorded absence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriorBooking {
    pub kind: ProgrammeKind,
    pub stage: Stage,
    pub pregnancy_id: Option<PregnancyId>,
}

/// What a booking is for, when the family may book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Eligible {
    pub stage: Stage,
    /// The pregnancy (and its birth) the booking is about.
    pub pregnancy_id: Option<PregnancyId>,
}

impl Eligible {
    /// The contact on the timeline a booking of `kind` in this stage settles.
    pub fn contact_kind(&self, kind: ProgrammeKind) -> Option<ContactKind> {
        match (kind, self.stage) {
            (ProgrammeKind::SelfCare, Stage::Prenatal) => Some(ContactKind::PrenatalSelfCareClass),
            (ProgrammeKind::SelfCare, Stage::Postnatal) => Some(ContactKind::PostnatalSelfCareClass),
            // kinds.rs: MaternityClass is [002] ②マタニティ教室 and [004] ①両親学級.
            (ProgrammeKind::MaternityClass | ProgrammeKind::SundayParentsClass, _) => Some(ContactKind::MaternityClass),
            _ => None,
        }
    }
}

/// Why a family may not book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Ineligible {
    /// [000] 世田谷区内在住: recorded as moved out on or before the class day.
    NotResident,
    /// Neither pregnant nor with a baby the programme is for.
    NotPregnantNorBaby,
    /// Not pregnant on the class day ([002] マタニティ教室, [004] ① 妊婦さん).
    NotPregnant,
    /// Pregnant, but before week `week` on the class day ([000] 安定期以降).
    TooEarlyInPregnancy { week: u8, from: Date },
    /// The baby has turned `months` months by the class day ([000] 5ヵ月になる前日まで).
    BabyTooOld { months: u16, last_day: Date },
    /// The family already has a class of this stage ([000] 産前に1回、産後に1回).
    StageAlreadyTaken { stage: Stage },
    /// Not a first child ([004] ① 第1子出産予定).
    NotFirstChild,
    /// Not a multiple pregnancy or birth ([004] ③ ふたご・みつご).
    NotMultipleBirth,
}

impl Ineligible {
    pub fn code(self) -> &'static str {
        match self {
            Ineligible::NotResident => "not_resident",
            Ineligible::NotPregnantNorBaby => "not_pregnant_nor_baby",
            Ineligible::NotPregnant => "not_pregnant",
            Ineligible::TooEarlyInPregnancy { .. } => "too_early_in_pregnancy",
            Ineligible::BabyTooOld { .. } => "baby_too_old",
            Ineligible::StageAlreadyTaken { .. } => "stage_already_taken",
            Ineligible::NotFirstChild => "not_first_child",
            Ineligible::NotMultipleBirth => "not_multiple_birth",
        }
    }

    pub const CODES: [&'static str; 8] = [
        "not_resident",
        "not_pregnant_nor_baby",
        "not_pregnant",
        "too_early_in_pregnancy",
        "baby_too_old",
        "stage_already_taken",
        "not_first_child",
        "not_multiple_birth",
    ];
}

/// A refusal, and what the booking would be if staff override it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Refusal {
    pub reason: Ineligible,
    /// `Some` only where the rule allows staff to override it:
    /// - week 16 is our reading of [000] 安定期以降, a clinical judgment: a
    ///   nurse who judges the pregnancy stable earlier may book her;
    /// - [004] ① names first-child families as the class's target
    ///   (対象), not as an exclusion: staff may admit a family.
    ///
    /// Residency, the 5-month day, once per stage and multiple births are
    /// the seeds' own conditions: never overridden.
    pub override_to: Option<Eligible>,
}

impl Refusal {
    fn firm(reason: Ineligible) -> Self {
        Self { reason, override_to: None }
    }
    pub fn overridable(&self) -> bool {
        self.override_to.is_some()
    }
}

/// The family's pregnancy that is going on on `day` (notified by then, not
/// ended): the latest notified.
fn pregnancy_on(record: &FamilyRecord, day: Date) -> Option<&Pregnancy> {
    record
        .pregnancies
        .iter()
        .filter(|p| p.status == PregnancyStatus::Ongoing && p.notified_on <= day)
        .max_by_key(|p| (p.notified_on, p.id))
}

/// The family's births as of `day`: per pregnancy, its babies' latest
/// birth date (twins born either side of midnight are one baby-stage, and
/// the timeline's postnatal window counts from the later one) and how many
/// babies; latest first.
fn births_by(record: &FamilyRecord, day: Date) -> Vec<(PregnancyId, Date, usize)> {
    let mut out: Vec<(PregnancyId, Date, usize)> = Vec::new();
    for b in record.babies.iter().filter(|b| b.birth_date <= day) {
        match out.iter_mut().find(|(p, ..)| *p == b.pregnancy_id) {
            Some(entry) => {
                entry.1 = entry.1.max(b.birth_date);
                entry.2 = entry.2.saturating_add(1);
            }
            None => out.push((b.pregnancy_id, b.birth_date, 1)),
        }
    }
    out.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
    out
}

fn taken(prior: &[PriorBooking], kind: ProgrammeKind, stage: Stage, pregnancy: PregnancyId, per: OncePer) -> bool {
    prior
        .iter()
        .any(|b| b.kind == kind && b.stage == stage && (per == OncePer::Person || b.pregnancy_id == Some(pregnancy)))
}

/// Decides whether the family of `record` may book a session of
/// `programme` held on `day`, given its earlier bookings `prior` (those of
/// the session itself excluded by the caller).
pub fn decide(
    programme: &ProgrammeConfig,
    record: &FamilyRecord,
    day: Date,
    prior: &[PriorBooking],
) -> Result<Eligible, Refusal> {
    let rules = &programme.rules;
    // [000] 世田谷区内在住: the record's move, as postpartum care reads it.
    if rules.residents_only && moved_out_on(record).is_some_and(|moved| moved <= day) {
        return Err(Refusal::firm(Ineligible::NotResident));
    }
    let pregnancy = pregnancy_on(record, day);
    let births = births_by(record, day);

    if programme.kind == ProgrammeKind::SelfCare
        || rules.prenatal_from_week.is_some()
        || rules.postnatal_under_months.is_some()
    {
        return decide_stages(programme, pregnancy, &births, day, prior);
    }

    if rules.pregnant_only {
        let Some(p) = pregnancy else { return Err(Refusal::firm(Ineligible::NotPregnant)) };
        let eligible = Eligible { stage: Stage::Prenatal, pregnancy_id: Some(p.id) };
        if rules.multiple_births_only && p.foetuses < 2 {
            return Err(Refusal::firm(Ineligible::NotMultipleBirth));
        }
        if rules.first_child_only && !p.first_child {
            return Err(Refusal { reason: Ineligible::NotFirstChild, override_to: Some(eligible) });
        }
        return Ok(eligible);
    }

    if let Some(months) = rules.pregnant_or_infant_under_months {
        let infants: Vec<&(PregnancyId, Date, usize)> =
            births.iter().filter(|(_, born, _)| day <= last_day_under_months(*born, i32::from(months))).collect();
        let multiple_ok = |foetuses_or_babies: usize| !rules.multiple_births_only || foetuses_or_babies >= 2;
        if let Some((p, ..)) = infants.iter().find(|(.., n)| multiple_ok(*n)) {
            return Ok(Eligible { stage: Stage::Postnatal, pregnancy_id: Some(*p) });
        }
        if let Some(p) = pregnancy.filter(|p| multiple_ok(usize::from(p.foetuses))) {
            return Ok(Eligible { stage: Stage::Prenatal, pregnancy_id: Some(p.id) });
        }
        if rules.multiple_births_only && (pregnancy.is_some() || !infants.is_empty()) {
            return Err(Refusal::firm(Ineligible::NotMultipleBirth));
        }
        return Err(Refusal::firm(Ineligible::NotPregnantNorBaby));
    }

    if rules.multiple_births_only {
        if let Some(p) = pregnancy.filter(|p| p.foetuses >= 2) {
            return Ok(Eligible { stage: Stage::Prenatal, pregnancy_id: Some(p.id) });
        }
        if let Some((p, ..)) = births.iter().find(|(.., n)| *n >= 2) {
            return Ok(Eligible { stage: Stage::Postnatal, pregnancy_id: Some(*p) });
        }
        return Err(Refusal::firm(Ineligible::NotMultipleBirth));
    }

    Ok(Eligible { stage: Stage::Family, pregnancy_id: pregnancy.map(|p| p.id).or(births.first().map(|b| b.0)) })
}

/// The self-care class [000]: pregnant from week 16 on the class day, or a
/// mother whose baby has not turned 5 months on it; once per stage. The
/// postnatal stage is tried first (a mother with a young baby and a new
/// pregnancy comes with her baby); the reason given is the nearest miss.
fn decide_stages(
    programme: &ProgrammeConfig,
    pregnancy: Option<&Pregnancy>,
    births: &[(PregnancyId, Date, usize)],
    day: Date,
    prior: &[PriorBooking],
) -> Result<Eligible, Refusal> {
    let rules = &programme.rules;
    let kind = programme.kind;
    let mut refusals: Vec<Refusal> = Vec::new();

    if let Some(months) = rules.postnatal_under_months {
        // The latest birth decides: an older child's window closed before.
        if let Some((p, born, _)) = births.first() {
            // [000] 受講日に5ヵ月になる前日までの赤ちゃん: months as dates.rs counts them.
            let last_day = last_day_under_months(*born, i32::from(months));
            if day > last_day {
                refusals.push(Refusal::firm(Ineligible::BabyTooOld { months, last_day }));
            } else if rules.once_per_stage.is_some_and(|per| taken(prior, kind, Stage::Postnatal, *p, per)) {
                refusals.push(Refusal::firm(Ineligible::StageAlreadyTaken { stage: Stage::Postnatal }));
            } else {
                return Ok(Eligible { stage: Stage::Postnatal, pregnancy_id: Some(*p) });
            }
        }
    }
    if let Some(p) = pregnancy {
        let eligible = Eligible { stage: Stage::Prenatal, pregnancy_id: Some(p.id) };
        if rules.once_per_stage.is_some_and(|per| taken(prior, kind, Stage::Prenatal, p.id, per)) {
            refusals.push(Refusal::firm(Ineligible::StageAlreadyTaken { stage: Stage::Prenatal }));
        } else {
            match rules.prenatal_from_week {
                Some(week) => {
                    let from = gestational_week_start(p.edd, week);
                    if day < from {
                        refusals.push(Refusal {
                            reason: Ineligible::TooEarlyInPregnancy { week, from },
                            override_to: Some(eligible),
                        });
                    } else {
                        return Ok(eligible);
                    }
                }
                None => return Ok(eligible),
            }
        }
    }
    // The nearest miss: a stage already taken says the most, then a
    // pregnancy not far enough, then a baby too old.
    refusals.sort_by_key(|r| match r.reason {
        Ineligible::StageAlreadyTaken { .. } => 0,
        Ineligible::TooEarlyInPregnancy { .. } => 1,
        _ => 2,
    });
    Err(refusals.into_iter().next().unwrap_or(Refusal::firm(Ineligible::NotPregnantNorBaby)))
}
