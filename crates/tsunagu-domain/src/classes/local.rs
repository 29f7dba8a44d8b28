//! Local information [000] 地域おでかけ情報: each area's children's halls,
//! hubs, support rooms, outing spots and services, kept by the area's
//! coordinators ([000]「世田谷区地域子育て支援コーディネーター」 attend the
//! self-care classes, where 地域おでかけ情報の提供 is part of the day) and
//! browsed by families by area and by the stage they are at. No personal
//! data: an entry is public information about a place.

use crate::dates::day_reaching_months;
use crate::records::{FamilyRecord, PregnancyStatus};
use crate::validation::FieldErrors;
use crate::{AreaId, VenueId};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// What kind of place or service an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PlaceKind {
    /// 児童館 ([000] the self-care classes are held at all 25).
    ChildrensHall,
    /// 子育て支援拠点 (a childcare-support hub, [004]).
    Hub,
    /// 子育て支援室 (a support room, [002]).
    SupportRoom,
    /// おでかけスポット: a park, a library's baby corner, a café with room for prams.
    OutingSpot,
    /// A service (a lending scheme, a helpline, a visiting service, …).
    Service,
}

impl PlaceKind {
    pub const ALL: [PlaceKind; 5] =
        [PlaceKind::ChildrensHall, PlaceKind::Hub, PlaceKind::SupportRoom, PlaceKind::OutingSpot, PlaceKind::Service];

    pub fn as_str(self) -> &'static str {
        match self {
            PlaceKind::ChildrensHall => "childrens_hall",
            PlaceKind::Hub => "hub",
            PlaceKind::SupportRoom => "support_room",
            PlaceKind::OutingSpot => "outing_spot",
            PlaceKind::Service => "service",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The stage of a family a place suits: pregnant, or the age of its
/// youngest child. Ages are counted as the project counts months
/// ([`day_reaching_months`]: the corresponding day, or the 1st of the next
/// month when there is none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LifeStage {
    Pregnant,
    /// Under 3 months.
    Newborn,
    /// 3 months to under 6.
    ThreeMonths,
    /// 6 months to under 1 year.
    SixMonths,
    /// 1 year to under 2.
    OneYear,
    /// 2 years to under 3.
    TwoYears,
    /// 3 years until school (under 6).
    Preschool,
}

impl LifeStage {
    pub const ALL: [LifeStage; 7] = [
        LifeStage::Pregnant,
        LifeStage::Newborn,
        LifeStage::ThreeMonths,
        LifeStage::SixMonths,
        LifeStage::OneYear,
        LifeStage::TwoYears,
        LifeStage::Preschool,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LifeStage::Pregnant => "pregnant",
            LifeStage::Newborn => "newborn",
            LifeStage::ThreeMonths => "three_months",
            LifeStage::SixMonths => "six_months",
            LifeStage::OneYear => "one_year",
            LifeStage::TwoYears => "two_years",
            LifeStage::Preschool => "preschool",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }

    /// The stage of a child born on `birth`, on `day`: `None` before the
    /// birth and from the 6th birthday on (school age).
    pub fn of_child(birth: Date, day: Date) -> Option<LifeStage> {
        if day < birth {
            return None;
        }
        // (first month of the next stage, the stage below it)
        const STEPS: [(i32, LifeStage); 6] = [
            (3, LifeStage::Newborn),
            (6, LifeStage::ThreeMonths),
            (12, LifeStage::SixMonths),
            (24, LifeStage::OneYear),
            (36, LifeStage::TwoYears),
            (72, LifeStage::Preschool),
        ];
        STEPS.into_iter().find(|(months, _)| day < day_reaching_months(birth, *months)).map(|(_, stage)| stage)
    }
}

/// A set of stages, stored as a bit mask (bit n is `LifeStage::ALL[n]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct StageSet(u16);

impl StageSet {
    pub const EMPTY: StageSet = StageSet(0);

    pub fn of(stages: impl IntoIterator<Item = LifeStage>) -> Self {
        StageSet(stages.into_iter().fold(0, |m, s| m | s.bit()))
    }

    pub fn all() -> Self {
        Self::of(LifeStage::ALL)
    }

    /// The mask as stored; bits beyond the known stages are dropped.
    pub fn from_bits(bits: i64) -> Self {
        StageSet((bits & i64::from(Self::all().0)) as u16)
    }

    pub fn bits(self) -> i64 {
        i64::from(self.0)
    }

    pub fn contains(self, stage: LifeStage) -> bool {
        self.0 & stage.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = LifeStage> {
        LifeStage::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    pub fn with(self, stage: LifeStage) -> Self {
        StageSet(self.0 | stage.bit())
    }
}

/// Every stage the family of `record` is at on `day`: pregnant while a
/// pregnancy is going on (notified by then, its baby not yet born, not
/// lost or moved out by then), and each child's age stage.
pub fn stages_on(record: &FamilyRecord, day: Date) -> StageSet {
    let mut set = StageSet::EMPTY;
    for p in &record.pregnancies {
        if p.notified_on > day {
            continue;
        }
        let first_birth = record.babies.iter().filter(|b| b.pregnancy_id == p.id).map(|b| b.birth_date).min();
        let pregnant = match p.status {
            PregnancyStatus::Ongoing => first_birth.is_none_or(|born| day < born),
            PregnancyStatus::Delivered => first_birth.is_some_and(|born| day < born),
            PregnancyStatus::Lost | PregnancyStatus::MovedOut => p.ended_on.is_some_and(|ended| day < ended),
        };
        if pregnant {
            set = set.with(LifeStage::Pregnant);
        }
    }
    for b in &record.babies {
        if let Some(stage) = LifeStage::of_child(b.birth_date, day) {
            set = set.with(stage);
        }
    }
    set
}

/// The one stage the family is shown by default on `day`: the earliest of
/// [`stages_on`] — a pregnancy going on first (what is next for the family),
/// else the youngest child's age. `None` when it is at no stage (no
/// pregnancy, every child of school age).
pub fn stage_on(record: &FamilyRecord, day: Date) -> Option<LifeStage> {
    stages_on(record, day).iter().next()
}

pub const MAX_NAME: usize = 100;
pub const MAX_LINE: usize = 200;
pub const MAX_TEXT: usize = 1000;

/// An entry as typed in the coordinator's form or sent as JSON: both parse
/// into [`LocalPlace`] by [`LocalPlaceInput::check`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LocalPlaceInput {
    pub area_id: i64,
    /// One of `childrens_hall`, `hub`, `support_room`, `outing_spot`, `service`.
    pub kind: String,
    pub name_ja: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub address: String,
    /// How to get there (station, bus, parking, prams).
    #[serde(default)]
    pub access: String,
    /// Opening days and hours, as text.
    #[serde(default)]
    pub hours: String,
    /// What it offers, in Japanese.
    pub offers_ja: String,
    #[serde(default)]
    pub offers_en: String,
    /// The stages it suits (`LifeStage` codes); at least one.
    pub stages: Vec<String>,
    /// The venue it is, when class sessions are held there.
    #[serde(default)]
    pub venue_id: Option<i64>,
}

/// A checked entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPlace {
    pub area_id: AreaId,
    pub kind: PlaceKind,
    pub name_ja: String,
    pub name_en: String,
    pub address: String,
    pub access: String,
    pub hours: String,
    pub offers_ja: String,
    pub offers_en: String,
    pub stages: StageSet,
    pub venue_id: Option<VenueId>,
}

fn text(errors: &mut FieldErrors, field: &str, value: &str, max: usize, required: bool) -> String {
    let v = value.trim();
    if required && v.is_empty() {
        errors.add(field, "required");
    } else if v.chars().count() > max {
        errors.add(field, "too_long");
    } else if v.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        errors.add(field, "invalid_characters");
    }
    v.to_owned()
}

impl LocalPlaceInput {
    /// Checks the whole entry; every problem is reported by field.
    pub fn check(&self) -> Result<LocalPlace, FieldErrors> {
        let mut errors = FieldErrors::default();
        if self.area_id <= 0 {
            errors.add("area_id", "required");
        }
        let kind = PlaceKind::parse(self.kind.trim());
        if kind.is_none() {
            errors.add("kind", "invalid_choice");
        }
        let name_ja = text(&mut errors, "name_ja", &self.name_ja, MAX_NAME, true);
        let name_en = text(&mut errors, "name_en", &self.name_en, MAX_NAME, false);
        let address = text(&mut errors, "address", &self.address, MAX_LINE, false);
        let access = text(&mut errors, "access", &self.access, MAX_LINE, false);
        let hours = text(&mut errors, "hours", &self.hours, MAX_LINE, false);
        let offers_ja = text(&mut errors, "offers_ja", &self.offers_ja, MAX_TEXT, true);
        let offers_en = text(&mut errors, "offers_en", &self.offers_en, MAX_TEXT, false);
        let mut stages = StageSet::EMPTY;
        for s in &self.stages {
            match LifeStage::parse(s.trim()) {
                Some(stage) => stages = stages.with(stage),
                None => {
                    errors.add("stages", "invalid_choice");
                    break;
                }
            }
        }
        if stages.is_empty() && errors.for_field("stages").is_none() {
            errors.add("stages", "required");
        }
        if self.venue_id.is_some_and(|v| v <= 0) {
            errors.add("venue_id", "invalid_choice");
        }
        errors.finish(|| LocalPlace {
            area_id: AreaId(self.area_id),
            kind: kind.unwrap_or(PlaceKind::Service),
            name_ja,
            name_en,
            address,
            access,
            hours,
            offers_ja,
            offers_en,
            stages,
            venue_id: self.venue_id.map(VenueId),
        })
    }
}
