//! Programmes as a municipality's configuration: what a programme is for,
//! who runs it, who attends, how its places are counted and which rules
//! decide who may book. Each default is the seed's; where a seed is silent
//! the rule is off (a setting a municipality may turn on), never a refusal
//! we invented.

use serde::{Deserialize, Serialize};

/// The programmes the seeds describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProgrammeKind {
    /// [000] 産前・産後のセルフケア講座: one class for pregnant women and
    /// mothers with babies; each takes it once before and once after the birth.
    SelfCare,
    /// [002] ②マタニティ教室: at the support rooms, for pregnant women and partners.
    MaternityClass,
    /// [004] ①両親学級（休日）: monthly on a Sunday at a hub, first-child families.
    SundayParentsClass,
    /// [004] ②健康相談と仲間づくり: monthly at a hub, with infant weighing.
    HealthConsultation,
    /// [004] ③ふたご・みつご広場: monthly, multiple births, weight and height.
    TwinsGroup,
    /// [000] 地域おでかけ情報 / [001] the coordinator's talk on local services.
    CoordinatorTalk,
}

impl ProgrammeKind {
    pub const ALL: [ProgrammeKind; 6] = [
        ProgrammeKind::SelfCare,
        ProgrammeKind::MaternityClass,
        ProgrammeKind::SundayParentsClass,
        ProgrammeKind::HealthConsultation,
        ProgrammeKind::TwinsGroup,
        ProgrammeKind::CoordinatorTalk,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProgrammeKind::SelfCare => "self_care",
            ProgrammeKind::MaternityClass => "maternity_class",
            ProgrammeKind::SundayParentsClass => "sunday_parents_class",
            ProgrammeKind::HealthConsultation => "health_consultation",
            ProgrammeKind::TwinsGroup => "twins_group",
            ProgrammeKind::CoordinatorTalk => "coordinator_talk",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// How a session's places are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CapacityUnit {
    /// One person.
    Person,
    /// A pregnant woman with her partner ([002] 夫婦組): one place.
    PregnantWithPartner,
    /// A parent with her baby or babies ([000] 親子, "pairs"; twins are one place).
    ParentWithBabies,
}

impl CapacityUnit {
    pub fn as_str(self) -> &'static str {
        match self {
            CapacityUnit::Person => "person",
            CapacityUnit::PregnantWithPartner => "pregnant_with_partner",
            CapacityUnit::ParentWithBabies => "parent_with_babies",
        }
    }
}

/// Who runs (or takes part in running) a programme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Runner {
    Npo,
    HallStaff,
    HubStaff,
    SupportRoomCoordinator,
    Nurse,
    Nutritionist,
    Midwife,
    Volunteers,
}

/// What is measured at a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Measures {
    Nothing,
    /// [004] ② 乳児の体重計測.
    Weight,
    /// [004] ③ 体重・身長計測.
    WeightAndHeight,
}

impl Measures {
    pub fn weighs(self) -> bool {
        !matches!(self, Measures::Nothing)
    }
    pub fn measures_height(self) -> bool {
        matches!(self, Measures::WeightAndHeight)
    }
}

/// The stage a booking is made in: before or after the birth (the
/// self-care class counts them apart), or the family as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Prenatal,
    Postnatal,
    Family,
}

impl Stage {
    pub const ALL: [Stage; 3] = [Stage::Prenatal, Stage::Postnatal, Stage::Family];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Prenatal => "prenatal",
            Stage::Postnatal => "postnatal",
            Stage::Family => "family",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// What "once before and once after the birth" counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OncePer {
    /// Once per pregnancy (and its birth): a mother of a second child may
    /// come again. The default: [000] says 産前に1回、産後に1回 and is silent
    /// about later children, so we refuse nothing more.
    Pregnancy,
    /// Once in a person's life, if a municipality decides so.
    Person,
}

/// The rules that decide who may book a programme's sessions. Each field
/// off (`false`/`None`) refuses nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProgrammeRules {
    /// Residents only on the class day ([000] 世田谷区内在住).
    pub residents_only: bool,
    /// Pregnant women from this gestational week on the class day
    /// ([000] 妊娠中(安定期以降); 安定期 read as week 16, as the timeline does).
    pub prenatal_from_week: Option<u8>,
    /// Mothers whose baby has not turned this many months on the class day
    /// ([000] 受講日に5ヵ月になる前日までの赤ちゃん).
    pub postnatal_under_months: Option<u16>,
    /// Once before and once after the birth ([000] 産前に1回、産後に1回).
    pub once_per_stage: Option<OncePer>,
    /// Only pregnant women (and their partners) ([002] マタニティ教室, [004] ①).
    pub pregnant_only: bool,
    /// Only families expecting their first child ([004] ① 第1子出産予定の妊婦さんとその家族).
    pub first_child_only: bool,
    /// Only multiple pregnancies and births ([004] ③ ふたご・みつご).
    pub multiple_births_only: bool,
    /// Pregnant women or parents of a baby under this many months
    /// ([004] ②③ 対象：妊婦と乳児とその保護者; 乳児 is under 1 year).
    pub pregnant_or_infant_under_months: Option<u16>,
}

impl ProgrammeRules {
    /// No rule: anyone of the municipality's families.
    pub fn open() -> Self {
        Self {
            residents_only: false,
            prenatal_from_week: None,
            postnatal_under_months: None,
            once_per_stage: None,
            pregnant_only: false,
            first_child_only: false,
            multiple_births_only: false,
            pregnant_or_infant_under_months: None,
        }
    }
}

/// A programme as a municipality configures it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProgrammeConfig {
    pub kind: ProgrammeKind,
    pub name_ja: String,
    pub name_en: String,
    /// What happens, in the order of the day (Japanese, as published).
    pub content_ja: Vec<String>,
    pub runners: Vec<Runner>,
    /// The area's coordinator attends ([000] 地域子育て支援コーディネーターもその場に参加).
    pub coordinator_attends: bool,
    pub unit: CapacityUnit,
    /// Places of a new session (the seeds publish none: a setting).
    pub default_capacity: u32,
    pub default_minutes: u16,
    pub measures: Measures,
    pub rules: ProgrammeRules,
}

impl ProgrammeConfig {
    /// The seed's programme, as a municipality starts from it.
    pub fn seed_default(kind: ProgrammeKind) -> Self {
        let lines = |xs: &[&str]| xs.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        match kind {
            // [000] ■方法 (当日の内容) and ■対象.
            ProgrammeKind::SelfCare => Self {
                kind,
                name_ja: "産前・産後のセルフケア講座".into(),
                name_en: "Prenatal & postnatal self-care class".into(),
                content_ja: lines(&[
                    "はじまりのストレッチ",
                    "自己紹介(ワーク形式)",
                    "立つ姿勢、抱っこのポイント",
                    "リラクゼーションのボディワーク(ペアワーク)",
                    "赤ちゃんの発達について",
                    "地域おでかけ情報の提供",
                ]),
                runners: vec![Runner::Npo, Runner::HallStaff],
                coordinator_attends: true,
                unit: CapacityUnit::ParentWithBabies,
                // [000] about 1,000 pairs over 75 classes: 13–14 a class.
                default_capacity: 15,
                default_minutes: 120,
                measures: Measures::Nothing,
                rules: ProgrammeRules {
                    residents_only: true,
                    prenatal_from_week: Some(16),
                    postnatal_under_months: Some(5),
                    once_per_stage: Some(OncePer::Pregnancy),
                    ..ProgrammeRules::open()
                },
            },
            // [002] ②マタニティ教室 (参加組数/参加者数/夫婦組).
            ProgrammeKind::MaternityClass => Self {
                kind,
                name_ja: "マタニティ教室".into(),
                name_en: "Maternity class".into(),
                content_ja: lines(&["子育て支援室の紹介", "出産・産後の準備", "コーディネーターとの顔合わせ"]),
                runners: vec![Runner::SupportRoomCoordinator, Runner::Nurse],
                coordinator_attends: true,
                unit: CapacityUnit::PregnantWithPartner,
                default_capacity: 10,
                default_minutes: 90,
                measures: Measures::Nothing,
                rules: ProgrammeRules { pregnant_only: true, ..ProgrammeRules::open() },
            },
            // [004] ①両親学級（休日）.
            ProgrammeKind::SundayParentsClass => Self {
                kind,
                name_ja: "両親学級（日曜）".into(),
                name_en: "Sunday parents' class".into(),
                content_ja: lines(&[
                    "講話と昼食の試食",
                    "抱っこ・沐浴体験実習",
                    "先輩パパ・ママとのグループワーク",
                    "拠点内探索",
                ]),
                runners: vec![Runner::HubStaff, Runner::Nurse, Runner::Nutritionist, Runner::Midwife],
                coordinator_attends: false,
                unit: CapacityUnit::PregnantWithPartner,
                default_capacity: 12,
                default_minutes: 180,
                measures: Measures::Nothing,
                rules: ProgrammeRules { pregnant_only: true, first_child_only: true, ..ProgrammeRules::open() },
            },
            // [004] ②健康相談と仲間づくりの事業.
            ProgrammeKind::HealthConsultation => Self {
                kind,
                name_ja: "健康相談と仲間づくり".into(),
                name_en: "Health consultation and peer group".into(),
                content_ja: lines(&["乳児の体重計測", "保健師・栄養士・助産師への相談", "参加者同士の交流"]),
                runners: vec![
                    Runner::HubStaff,
                    Runner::Nurse,
                    Runner::Nutritionist,
                    Runner::Midwife,
                    Runner::Volunteers,
                ],
                coordinator_attends: false,
                unit: CapacityUnit::ParentWithBabies,
                default_capacity: 20,
                default_minutes: 120,
                measures: Measures::Weight,
                rules: ProgrammeRules { pregnant_or_infant_under_months: Some(12), ..ProgrammeRules::open() },
            },
            // [004] ③ふたご・みつご広場.
            ProgrammeKind::TwinsGroup => Self {
                kind,
                name_ja: "ふたご・みつご広場".into(),
                name_en: "Twins and triplets group".into(),
                content_ja: lines(&["体重・身長計測", "専門職への相談", "参加者同士の交流"]),
                runners: vec![
                    Runner::HubStaff,
                    Runner::Nurse,
                    Runner::Nutritionist,
                    Runner::Midwife,
                    Runner::Volunteers,
                ],
                coordinator_attends: false,
                unit: CapacityUnit::ParentWithBabies,
                default_capacity: 10,
                default_minutes: 120,
                measures: Measures::WeightAndHeight,
                rules: ProgrammeRules {
                    multiple_births_only: true,
                    pregnant_or_infant_under_months: Some(12),
                    ..ProgrammeRules::open()
                },
            },
            // [000] 地域おでかけ情報の提供; [001] the coordinator's talk.
            ProgrammeKind::CoordinatorTalk => Self {
                kind,
                name_ja: "地域の子育て情報のおはなし".into(),
                name_en: "Coordinator's talk on local services".into(),
                content_ja: lines(&["地域の児童館・拠点・支援室の紹介", "おでかけ情報"]),
                runners: vec![Runner::SupportRoomCoordinator],
                coordinator_attends: true,
                unit: CapacityUnit::Person,
                default_capacity: 20,
                default_minutes: 60,
                measures: Measures::Nothing,
                rules: ProgrammeRules::open(),
            },
        }
    }
}
