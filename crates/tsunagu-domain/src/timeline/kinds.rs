//! The kinds of contact a family is owed, and what each one is: whose it is,
//! what it is attached to, how it may be done and where the rule comes from.

use crate::roles::Role;
use serde::{Deserialize, Serialize};

/// One kind of contact in the seamless timeline (DOMAIN.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ContactKind {
    /// Interview at the pregnancy notification, with the handbook issue: the
    /// 1st interview of the accompanied-support programme (伴走型相談支援).
    #[serde(rename = "notification_interview")]
    NotificationInterview,
    /// The family is listed at the monthly handbook meeting (母子手帳会議) the
    /// month after the notification and shared with the area's coordinators.
    #[serde(rename = "handbook_meeting")]
    HandbookMeeting,
    /// Offer of a maternity / parents' class (マタニティ教室・両親学級).
    #[serde(rename = "maternity_class")]
    MaternityClass,
    /// Offer of the prenatal self-care class (産前のセルフケア講座).
    #[serde(rename = "prenatal_self_care_class")]
    PrenatalSelfCareClass,
    /// The 8th-month interview (妊娠8か月面談), the 2nd accompanied-support interview.
    #[serde(rename = "eighth_month_interview")]
    EighthMonthInterview,
    /// The newborn home visit (乳児家庭全戸訪問), the 3rd interview.
    #[serde(rename = "newborn_visit")]
    NewbornVisit,
    /// The coordinator's "happy baby" contact (はっぴーベビー) at 2–3 months.
    #[serde(rename = "happy_baby")]
    HappyBaby,
    /// Offer of the postnatal self-care class (産後のセルフケア講座).
    #[serde(rename = "postnatal_self_care_class")]
    PostnatalSelfCareClass,
    /// The 3–4-month health check (3・4か月児健診).
    #[serde(rename = "health_check_3_4_months")]
    HealthCheck3To4Months,
    /// The window in which postpartum care (short stay, day care) may be used.
    #[serde(rename = "postpartum_care")]
    PostpartumCare,
    /// The window in which postpartum outreach (home visits) may be used.
    #[serde(rename = "postpartum_outreach")]
    PostpartumOutreach,
}

/// What a contact is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectScope {
    /// The pregnancy: one per pregnancy, twins or not.
    Pregnancy,
    /// The birth as a whole (the delivery): one per family-birth, however many babies.
    Delivery,
    /// Each baby: twins get two.
    Baby,
}

/// Whether somebody owes the family this contact, or the family may use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Nature {
    /// Staff owe it: when its window closes with nothing recorded it is
    /// *missed* and stays on the lists until somebody records what happened.
    Contact,
    /// An offer or eligibility window: when it closes unused it has *lapsed*;
    /// nobody owed a visit, so it never appears on an overdue or missed list.
    Offer,
}

/// How a contact was done. [002] counts the 8th-month interview as group /
/// individual / home visit and the happy-baby contact as home visit /
/// support-room visit / at the 3–4-month check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ContactForm {
    /// 集団 (a group session or class).
    Group,
    /// 個別 (one family, at the centre or a clinic).
    Individual,
    /// 訪問 / 家庭訪問.
    HomeVisit,
    /// 支援室来訪 (the family came to a support room).
    SupportRoomVisit,
    /// At the 3–4-month health check (3・4か月児健診時).
    AtHealthCheck,
}

impl ContactForm {
    pub const ALL: [ContactForm; 5] = [
        ContactForm::Group,
        ContactForm::Individual,
        ContactForm::HomeVisit,
        ContactForm::SupportRoomVisit,
        ContactForm::AtHealthCheck,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ContactForm::Group => "group",
            ContactForm::Individual => "individual",
            ContactForm::HomeVisit => "home_visit",
            ContactForm::SupportRoomVisit => "support_room_visit",
            ContactForm::AtHealthCheck => "at_health_check",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

impl ContactKind {
    pub const ALL: [ContactKind; 11] = [
        ContactKind::NotificationInterview,
        ContactKind::HandbookMeeting,
        ContactKind::MaternityClass,
        ContactKind::PrenatalSelfCareClass,
        ContactKind::EighthMonthInterview,
        ContactKind::NewbornVisit,
        ContactKind::HappyBaby,
        ContactKind::PostnatalSelfCareClass,
        ContactKind::HealthCheck3To4Months,
        ContactKind::PostpartumCare,
        ContactKind::PostpartumOutreach,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ContactKind::NotificationInterview => "notification_interview",
            ContactKind::HandbookMeeting => "handbook_meeting",
            ContactKind::MaternityClass => "maternity_class",
            ContactKind::PrenatalSelfCareClass => "prenatal_self_care_class",
            ContactKind::EighthMonthInterview => "eighth_month_interview",
            ContactKind::NewbornVisit => "newborn_visit",
            ContactKind::HappyBaby => "happy_baby",
            ContactKind::PostnatalSelfCareClass => "postnatal_self_care_class",
            ContactKind::HealthCheck3To4Months => "health_check_3_4_months",
            ContactKind::PostpartumCare => "postpartum_care",
            ContactKind::PostpartumOutreach => "postpartum_outreach",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// What the contact is attached to. The choice for each kind:
    /// - pregnancy contacts are one per pregnancy (a twin pregnancy is one woman);
    /// - the newborn visit, happy-baby contact and outreach are visits to the
    ///   household: one visit sees every baby (outreach charges extra babies
    ///   on the same visit [001]), so one per delivery;
    /// - the postnatal self-care class is one per *person* [000]
    ///   (産前に1回、産後に1回参加することができます), so one per delivery, not per baby;
    /// - the 3–4-month check examines each child, and each non-attendee must be
    ///   followed up (未受診者の全数把握 [000]): one per baby;
    /// - the postpartum-care window counts in each baby's corrected age when
    ///   that baby was long hospitalised [001], which twins need not share: one per baby.
    pub fn scope(self) -> SubjectScope {
        match self {
            ContactKind::NotificationInterview
            | ContactKind::HandbookMeeting
            | ContactKind::MaternityClass
            | ContactKind::PrenatalSelfCareClass
            | ContactKind::EighthMonthInterview => SubjectScope::Pregnancy,
            ContactKind::NewbornVisit
            | ContactKind::HappyBaby
            | ContactKind::PostnatalSelfCareClass
            | ContactKind::PostpartumOutreach => SubjectScope::Delivery,
            ContactKind::HealthCheck3To4Months | ContactKind::PostpartumCare => SubjectScope::Baby,
        }
    }

    pub fn nature(self) -> Nature {
        match self {
            ContactKind::NotificationInterview
            | ContactKind::HandbookMeeting
            | ContactKind::EighthMonthInterview
            | ContactKind::NewbornVisit
            | ContactKind::HappyBaby
            | ContactKind::HealthCheck3To4Months => Nature::Contact,
            ContactKind::MaternityClass
            | ContactKind::PrenatalSelfCareClass
            | ContactKind::PostnatalSelfCareClass
            | ContactKind::PostpartumCare
            | ContactKind::PostpartumOutreach => Nature::Offer,
        }
    }

    /// The role whose work list the contact is on: the one accountable for it.
    pub fn owner(self) -> Role {
        match self {
            // [002] はっぴーベビー: 『ママ・パパかかりつけコーディネーター』が…家庭訪問を行い
            ContactKind::HappyBaby => Role::Coordinator,
            // [002] マタニティ教室 is held in the support rooms.
            ContactKind::MaternityClass => Role::Coordinator,
            // [000] the self-care classes are run by the hall and an NPO; the area's
            // coordinator attends. Of our roles the coordinator is the one who offers them.
            ContactKind::PrenatalSelfCareClass | ContactKind::PostnatalSelfCareClass => Role::Coordinator,
            // Everything else is the municipality's, that is the public-health nurse's:
            // the centre extracts the handbook list [002], runs the interviews and the
            // health check, and reviews postpartum-care applications (PRODUCT.md §1.5).
            // A facility cannot own a window: it sees a family only once it applied.
            _ => Role::Nurse,
        }
    }

    /// Other roles taking part (they see the contact, the owner answers for it).
    pub fn with(self) -> &'static [Role] {
        match self {
            // [002] 母子手帳会議: …『ママ・パパかかりつけコーディネーター』と情報共有の場
            ContactKind::HandbookMeeting => &[Role::Coordinator],
            // [002] 妊娠8か月面談: 保健師から…、コーディネーターからは支援室の紹介
            ContactKind::EighthMonthInterview => &[Role::Coordinator],
            // [002] 3・4か月児健診: コーディネーターも会場に集まり
            ContactKind::HealthCheck3To4Months => &[Role::Coordinator],
            ContactKind::MaternityClass => &[Role::Nurse, Role::ProgrammeStaff],
            ContactKind::PrenatalSelfCareClass | ContactKind::PostnatalSelfCareClass => &[Role::ProgrammeStaff],
            ContactKind::PostpartumCare | ContactKind::PostpartumOutreach => &[Role::FacilityStaff],
            ContactKind::NotificationInterview | ContactKind::NewbornVisit | ContactKind::HappyBaby => &[],
        }
    }

    /// Where the rule comes from, for the page and the audit trail.
    pub fn source(self) -> &'static str {
        match self {
            ContactKind::NotificationInterview => "national 伴走型相談支援 1st interview; [000] 妊娠届出時アンケート",
            ContactKind::HandbookMeeting => "[002] ①母子手帳会議 (母子健康手帳交付者を毎月抽出し)",
            ContactKind::MaternityClass => "[002] ②マタニティ教室; [004] ①両親学級",
            ContactKind::PrenatalSelfCareClass => "[000] 妊娠中(安定期以降)の方",
            ContactKind::EighthMonthInterview => "[002] ③妊娠8か月面談; national 伴走型相談支援 2nd interview",
            ContactKind::NewbornVisit => "national 乳児家庭全戸訪問事業 (生後4か月まで); 伴走型相談支援 3rd interview",
            ContactKind::HappyBaby => "[002] ④はっぴーベビー (産後2～3か月頃)",
            ContactKind::PostnatalSelfCareClass => "[000] 受講日に5ヵ月になる前日までの赤ちゃんがいるお母さん",
            ContactKind::HealthCheck3To4Months => "[002] ⑤3・4か月児健診(集団); [000] 未受診者の全数の状況を把握",
            ContactKind::PostpartumCare => "[001] 産後４か月未満の母子; 修正月齢で計算して４か月未満",
            ContactKind::PostpartumOutreach => "[001] アウトリーチ型 対象者: 産後１年未満の母子",
        }
    }

    /// The forms in which the contact may be recorded as done.
    pub fn forms(self) -> &'static [ContactForm] {
        use ContactForm as F;
        match self {
            ContactKind::NotificationInterview => &[F::Individual, F::HomeVisit],
            ContactKind::HandbookMeeting => &[F::Group],
            ContactKind::MaternityClass | ContactKind::PrenatalSelfCareClass | ContactKind::PostnatalSelfCareClass => {
                &[F::Group]
            }
            // [002] ③ 集団面談 / 個別面談 / 訪問
            ContactKind::EighthMonthInterview => &[F::Group, F::Individual, F::HomeVisit],
            // A home visit by definition; "individual" when the family asked to meet elsewhere.
            ContactKind::NewbornVisit => &[F::HomeVisit, F::Individual],
            // [002] ④ 家庭訪問 / 支援室来訪者 / 3・4か月児健診時
            ContactKind::HappyBaby => &[F::HomeVisit, F::SupportRoomVisit, F::AtHealthCheck],
            // The group check; "individual" for a check at a clinic instead.
            ContactKind::HealthCheck3To4Months => &[F::AtHealthCheck, F::Individual],
            // Short stay / day care at a facility; the stay itself is the postpartum module's.
            ContactKind::PostpartumCare => &[F::Individual],
            ContactKind::PostpartumOutreach => &[F::HomeVisit],
        }
    }

    /// Contacts for which "we could not reach the family" does not settle
    /// anything: not reaching a family with a baby is itself the warning sign
    /// these contacts exist to catch (未受診者の全数把握 [000]; the national
    /// newborn-visit programme follows up every family it could not see). A
    /// "not reached" outcome keeps them on the lists.
    pub fn requires_whereabouts(self) -> bool {
        matches!(self, ContactKind::HealthCheck3To4Months | ContactKind::NewbornVisit)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl std::fmt::Display for ContactKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kinds a municipality runs. Setagaya has self-care classes [000] and
/// Tsukubamirai happy-baby contacts [002]; a kind a municipality does not
/// run must not put a contact on anybody's list. Configuration, the same for
/// every family of the municipality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KindSet(u16);

impl KindSet {
    pub const ALL: KindSet = KindSet((1 << ContactKind::ALL.len()) - 1);
    pub const NONE: KindSet = KindSet(0);

    pub fn of(kinds: &[ContactKind]) -> KindSet {
        KindSet(kinds.iter().fold(0, |acc, k| acc | k.bit()))
    }

    pub fn contains(self, kind: ContactKind) -> bool {
        self.0 & kind.bit() != 0
    }

    pub fn with(self, kind: ContactKind) -> KindSet {
        KindSet(self.0 | kind.bit())
    }

    pub fn without(self, kind: ContactKind) -> KindSet {
        KindSet(self.0 & !kind.bit())
    }

    /// The stored form (one bit per kind, in [`ContactKind::ALL`] order).
    pub fn bits(self) -> u16 {
        self.0
    }

    /// From the stored form; bits of no kind are dropped.
    pub fn from_bits(bits: u16) -> KindSet {
        KindSet(bits & KindSet::ALL.0)
    }

    pub fn iter(self) -> impl Iterator<Item = ContactKind> {
        ContactKind::ALL.into_iter().filter(move |k| self.contains(*k))
    }
}

impl Default for KindSet {
    fn default() -> Self {
        KindSet::ALL
    }
}
