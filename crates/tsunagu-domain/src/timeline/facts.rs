//! The facts of one pregnancy that the schedule follows.

use super::kinds::KindSet;
use crate::records::{Baby, Pregnancy, PregnancyStatus};
use crate::{BabyId, PregnancyId};
use jiff::civil::Date;
use serde::Serialize;

/// How the pregnancy stands, with the day it changed where it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "on", rename_all = "snake_case")]
pub enum PregnancyState {
    Ongoing,
    /// Delivered on this day (the first baby's birth date when babies are recorded).
    Delivered(Date),
    /// Ended in a loss on this day.
    Lost(Date),
    /// The family moved out of the municipality on this day (pregnant or after the birth).
    MovedOut(Date),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PregnancyFacts {
    pub id: PregnancyId,
    pub notified_on: Date,
    /// Expected date of delivery (出産予定日), 40w0d.
    pub edd: Date,
    pub state: PregnancyState,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BabyFacts {
    pub id: BabyId,
    pub birth_date: Date,
    pub gestational_weeks: u8,
    pub gestational_days: u8,
    /// Hospitalised longer than usual (e.g. preterm): the postpartum-care
    /// window then counts in corrected age [001].
    pub long_hospitalisation: bool,
    /// The day the baby died, if it did. Not in records.rs yet; see
    /// [`super::CloseReason::BabyDied`].
    pub died_on: Option<Date>,
}

/// Everything [`super::owed_contacts`] needs for one pregnancy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineFacts {
    pub pregnancy: PregnancyFacts,
    /// The babies born of this pregnancy (none before the birth).
    pub babies: Vec<BabyFacts>,
    /// The kinds the family's municipality runs.
    #[serde(skip)]
    pub programmes: KindSet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FactsError {
    #[error("a pregnancy that is {0} needs the day it ended")]
    MissingEndDate(&'static str),
    #[error("baby {0} is not of this pregnancy")]
    OtherPregnancy(BabyId),
}

impl TimelineFacts {
    /// The facts of a stored pregnancy and its babies. A delivered pregnancy
    /// takes its first baby's birth date; a loss or a move its `ended_on`.
    pub fn from_records(
        pregnancy: &Pregnancy,
        babies: &[Baby],
        programmes: KindSet,
    ) -> Result<TimelineFacts, FactsError> {
        let ended_on = match pregnancy.status {
            PregnancyStatus::Delivered => None,
            _ => pregnancy.ended_on,
        };
        if let Some(b) = babies.iter().find(|b| b.pregnancy_id != pregnancy.id) {
            return Err(FactsError::OtherPregnancy(b.id));
        }
        let first_birth = babies.iter().map(|b| b.birth_date).min();
        let state = match pregnancy.status {
            PregnancyStatus::Ongoing => PregnancyState::Ongoing,
            PregnancyStatus::Delivered => PregnancyState::Delivered(
                ended_on.or(first_birth).ok_or(FactsError::MissingEndDate(pregnancy.status.as_str()))?,
            ),
            PregnancyStatus::Lost => {
                PregnancyState::Lost(ended_on.ok_or(FactsError::MissingEndDate(pregnancy.status.as_str()))?)
            }
            PregnancyStatus::MovedOut => {
                PregnancyState::MovedOut(ended_on.ok_or(FactsError::MissingEndDate(pregnancy.status.as_str()))?)
            }
        };
        Ok(TimelineFacts {
            pregnancy: PregnancyFacts {
                id: pregnancy.id,
                notified_on: pregnancy.notified_on,
                edd: pregnancy.edd,
                state,
            },
            babies: babies
                .iter()
                .map(|b| BabyFacts {
                    id: b.id,
                    birth_date: b.birth_date,
                    gestational_weeks: b.gestational_weeks,
                    gestational_days: b.gestational_days,
                    long_hospitalisation: b.long_hospitalisation,
                    died_on: None,
                })
                .collect(),
            programmes,
        })
    }
}
