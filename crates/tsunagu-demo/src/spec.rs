//! The two demo municipalities, their areas and venues, and the demo
//! accounts, as fixed data. Place names follow the seeds ([000]–[002]);
//! children's halls, hubs and the Tsukubamirai facility are invented but
//! plausible (neighbourhood names of each district).

use tsunagu_domain::places::VenueKind;
use tsunagu_domain::roles::{FamilyRelation, Role};

pub struct AreaSpec {
    pub name_ja: &'static str,
    pub name_en: &'static str,
    /// Share of the demo families living here.
    pub weight: u32,
}

pub struct VenueSpec {
    /// Index into the municipality's areas; `None` for city-wide venues.
    pub area: Option<usize>,
    pub kind: VenueKind,
    pub name_ja: &'static str,
    pub name_en: &'static str,
}

/// What an account is scoped to.
#[derive(Clone, Copy)]
pub enum Scope {
    None,
    /// The area with this Japanese name.
    Area(&'static str),
    /// The venue with this Japanese name.
    Venue(&'static str),
    /// The demo family (family members), as its mother or her partner.
    DemoFamily(FamilyRelation),
}

pub struct AccountSpec {
    pub username: &'static str,
    pub display_name: &'static str,
    pub role: Role,
    pub password: &'static str,
    pub totp_secret: Option<&'static str>,
    pub scope: Scope,
}

/// The family the `mother` and `partner` accounts belong to.
pub struct DemoFamilySpec {
    pub area: usize,
    pub mother: ((&'static str, &'static str), (&'static str, &'static str)),
    pub partner: ((&'static str, &'static str), (&'static str, &'static str)),
    /// Days from today to the EDD (negative: in the past).
    pub edd_offset: i64,
    /// Days from the EDD to the birth; `None` while still pregnant.
    pub born_offset: Option<i64>,
    pub baby: Option<(&'static str, &'static str)>,
}

pub struct MunicipalitySpec {
    pub code: &'static str,
    pub name_ja: &'static str,
    pub name_en: &'static str,
    /// Separates the municipalities' random streams.
    pub series: u64,
    pub areas: &'static [AreaSpec],
    pub venues: &'static [VenueSpec],
    pub accounts: &'static [AccountSpec],
    pub demo_family: DemoFamilySpec,
    /// Kinds of contact the city does not run (timeline::KindSet).
    pub not_run: &'static [tsunagu_domain::timeline::ContactKind],
}

// --- passwords and second factors (demo only; printed in README and banner) ---

pub const PW_NURSE: &str = "tsunagu-demo-nurse";
pub const PW_COORDINATOR: &str = "tsunagu-demo-coordinator";
pub const PW_FACILITY: &str = "tsunagu-demo-facility";
pub const PW_PROGRAMME: &str = "tsunagu-demo-programme";
pub const PW_SUPPORTER: &str = "tsunagu-demo-supporter";
pub const PW_CASEWORKER: &str = "tsunagu-demo-caseworker";
pub const PW_ADMIN: &str = "tsunagu-demo-admin";
pub const PW_ANALYST: &str = "tsunagu-demo-analyst";
pub const PW_MOTHER: &str = "tsunagu-demo-mother";
pub const PW_PARTNER: &str = "tsunagu-demo-partner";

/// RFC 4648 base32, 160 bits each, generated once at random for the demo.
pub const TOTP_NURSE: &str = "I2L4HB7OLFVWBJG5VFBXIZS4FHT5TSOJ";
pub const TOTP_NURSE2: &str = "JVLLODG7U4CFFLV6XFV6Q52BBXSV63GT";
pub const TOTP_COORDINATOR: &str = "MTVS2CPKYXQSOJYZMR3NZPVSTH6VRNIB";
pub const TOTP_FACILITY: &str = "LTAXWVYSPES6WREWZZFJQYRBUCP5POPP";
pub const TOTP_PROGRAMME: &str = "NWS3LLJGRJPPG4X32TGYTAON74CKSZDO";
pub const TOTP_SUPPORTER: &str = "GJH7KAZGN2KEMCPCNCZ75GQDKEG2R6X2";
pub const TOTP_CASEWORKER: &str = "L2JY746ZKLXACZKILHCVWFKLVJT4GDCG";
pub const TOTP_ADMIN: &str = "OB7SLBTEM2VTADPIRGLFIL4MBZTKXATQ";
pub const TOTP_ANALYST: &str = "DU6CBMF3CCMNZRGTUDE45QAX5YXVNAH5";

const fn staff(
    username: &'static str,
    display_name: &'static str,
    role: Role,
    password: &'static str,
    totp: &'static str,
    scope: Scope,
) -> AccountSpec {
    AccountSpec { username, display_name, role, password, totp_secret: Some(totp), scope }
}

const fn family(
    username: &'static str,
    display_name: &'static str,
    password: &'static str,
    relation: FamilyRelation,
) -> AccountSpec {
    AccountSpec {
        username,
        display_name,
        role: Role::FamilyMember,
        password,
        totp_secret: None,
        scope: Scope::DemoFamily(relation),
    }
}

// --- Setagaya ---------------------------------------------------------------

const SETAGAYA_AREAS: &[AreaSpec] = &[
    // Weights: users of postpartum care by district, FY2022 [001].
    AreaSpec { name_ja: "世田谷", name_en: "Setagaya", weight: 353 },
    AreaSpec { name_ja: "北沢", name_en: "Kitazawa", weight: 140 },
    AreaSpec { name_ja: "玉川", name_en: "Tamagawa", weight: 256 },
    AreaSpec { name_ja: "砧", name_en: "Kinuta", weight: 145 },
    AreaSpec { name_ja: "烏山", name_en: "Karasuyama", weight: 95 },
];

const fn hall(area: usize, name_ja: &'static str, name_en: &'static str) -> VenueSpec {
    VenueSpec { area: Some(area), kind: VenueKind::ChildrensHall, name_ja, name_en }
}

const fn venue(area: Option<usize>, kind: VenueKind, name_ja: &'static str, name_en: &'static str) -> VenueSpec {
    VenueSpec { area, kind, name_ja, name_en }
}

pub const SETAGAYA_CENTRE: &str = "区立産後ケアセンター";
pub const SETAGAYA_FIRST_HALL: &str = "池尻児童館";

const SETAGAYA_VENUES: &[VenueSpec] = &[
    // 25 children's halls, 5 per district [000].
    hall(0, SETAGAYA_FIRST_HALL, "Ikejiri Children's Hall"),
    hall(0, "太子堂児童館", "Taishido Children's Hall"),
    hall(0, "若林児童館", "Wakabayashi Children's Hall"),
    hall(0, "上町児童館", "Kamimachi Children's Hall"),
    hall(0, "桜丘児童館", "Sakuragaoka Children's Hall"),
    hall(1, "池之上児童館", "Ikenoue Children's Hall"),
    hall(1, "代沢児童館", "Daizawa Children's Hall"),
    hall(1, "代田児童館", "Daita Children's Hall"),
    hall(1, "松原児童館", "Matsubara Children's Hall"),
    hall(1, "上北沢児童館", "Kamikitazawa Children's Hall"),
    hall(2, "奥沢児童館", "Okusawa Children's Hall"),
    hall(2, "等々力児童館", "Todoroki Children's Hall"),
    hall(2, "深沢児童館", "Fukasawa Children's Hall"),
    hall(2, "用賀児童館", "Yoga Children's Hall"),
    hall(2, "二子玉川児童館", "Futako-Tamagawa Children's Hall"),
    hall(3, "成城児童館", "Seijo Children's Hall"),
    hall(3, "喜多見児童館", "Kitami Children's Hall"),
    hall(3, "祖師谷児童館", "Soshigaya Children's Hall"),
    hall(3, "砧児童館", "Kinuta Children's Hall"),
    hall(3, "岡本児童館", "Okamoto Children's Hall"),
    hall(4, "上祖師谷児童館", "Kami-Soshigaya Children's Hall"),
    hall(4, "南烏山児童館", "Minami-Karasuyama Children's Hall"),
    hall(4, "北烏山児童館", "Kita-Karasuyama Children's Hall"),
    hall(4, "粕谷児童館", "Kasuya Children's Hall"),
    hall(4, "給田児童館", "Kyuden Children's Hall"),
    // One health centre (健康づくり課 of the district's branch office) per district [001].
    venue(Some(0), VenueKind::HealthCentre, "世田谷総合支所 健康づくり課", "Setagaya Branch Health Promotion Section"),
    venue(Some(1), VenueKind::HealthCentre, "北沢総合支所 健康づくり課", "Kitazawa Branch Health Promotion Section"),
    venue(Some(2), VenueKind::HealthCentre, "玉川総合支所 健康づくり課", "Tamagawa Branch Health Promotion Section"),
    venue(Some(3), VenueKind::HealthCentre, "砧総合支所 健康づくり課", "Kinuta Branch Health Promotion Section"),
    venue(Some(4), VenueKind::HealthCentre, "烏山総合支所 健康づくり課", "Karasuyama Branch Health Promotion Section"),
    // Postpartum-care facilities [001]: they serve the whole city.
    venue(None, VenueKind::PostpartumFacility, SETAGAYA_CENTRE, "Municipal Postpartum Care Centre"),
    venue(None, VenueKind::PostpartumFacility, "ママズルーム", "Mama's Room"),
    venue(None, VenueKind::PostpartumFacility, "至誠会第二病院", "Shiseikai No.2 Hospital"),
    // Childcare-support hubs (invented).
    venue(Some(1), VenueKind::Hub, "おでかけひろば ぽけっと", "Odekake Hiroba Pocket (hub)"),
    venue(Some(2), VenueKind::Hub, "子育てひろば もくもく", "Kosodate Hiroba Mokumoku (hub)"),
];

const SETAGAYA_ACCOUNTS: &[AccountSpec] = &[
    staff("nurse", "保健師 デモ", Role::Nurse, PW_NURSE, TOTP_NURSE, Scope::None),
    staff("nurse2", "保健師 デモ2", Role::Nurse, PW_NURSE, TOTP_NURSE2, Scope::None),
    staff(
        "coordinator",
        "コーディネーター デモ",
        Role::Coordinator,
        PW_COORDINATOR,
        TOTP_COORDINATOR,
        Scope::Area("世田谷"),
    ),
    staff(
        "facility",
        "産後ケア助産師 デモ",
        Role::FacilityStaff,
        PW_FACILITY,
        TOTP_FACILITY,
        Scope::Venue(SETAGAYA_CENTRE),
    ),
    staff(
        "programme",
        "講座スタッフ デモ",
        Role::ProgrammeStaff,
        PW_PROGRAMME,
        TOTP_PROGRAMME,
        Scope::Venue(SETAGAYA_FIRST_HALL),
    ),
    staff("supporter", "応援団 デモ", Role::PeerSupporter, PW_SUPPORTER, TOTP_SUPPORTER, Scope::None),
    staff("caseworker", "ケースワーカー デモ", Role::Caseworker, PW_CASEWORKER, TOTP_CASEWORKER, Scope::None),
    staff("admin", "管理者 デモ", Role::Admin, PW_ADMIN, TOTP_ADMIN, Scope::None),
    staff("analyst", "集計担当 デモ", Role::Analyst, PW_ANALYST, TOTP_ANALYST, Scope::None),
    family("mother", "山田 花子", PW_MOTHER, FamilyRelation::Mother),
    family("partner", "山田 健太", PW_PARTNER, FamilyRelation::Partner),
];

pub const SETAGAYA: MunicipalitySpec = MunicipalitySpec {
    // [000] runs self-care classes; the handbook meeting and the happy-baby
    // contact are Tsukubamirai's [002].
    not_run: &[
        tsunagu_domain::timeline::ContactKind::HandbookMeeting,
        tsunagu_domain::timeline::ContactKind::HappyBaby,
    ],
    code: "131121",
    name_ja: "世田谷区",
    name_en: "Setagaya City",
    series: 1,
    areas: SETAGAYA_AREAS,
    venues: SETAGAYA_VENUES,
    accounts: SETAGAYA_ACCOUNTS,
    demo_family: DemoFamilySpec {
        area: 0,
        mother: (("山田", "ヤマダ"), ("花子", "ハナコ")),
        partner: (("山田", "ヤマダ"), ("健太", "ケンタ")),
        // A six-week-old: newborn visit, happy-baby contact and postpartum care all apply.
        edd_offset: -45,
        born_offset: Some(3),
        baby: Some(("結衣", "ユイ")),
    },
};

// --- Tsukubamirai -----------------------------------------------------------

pub const KOKINU: &str = "小絹児童館";
pub const KOKINU_AREA: &str = "小絹児童館エリア";

const TSUKUBAMIRAI_AREAS: &[AreaSpec] = &[
    // One area per support room [002].
    AreaSpec { name_ja: KOKINU_AREA, name_en: "Kokinu Children's Hall area", weight: 1 },
    AreaSpec { name_ja: "おひさまエリア", name_en: "Ohisama area", weight: 1 },
    AreaSpec { name_ja: "BLOOMエリア", name_en: "BLOOM area", weight: 1 },
    AreaSpec { name_ja: "きらくやまエリア", name_en: "Kirakuyama area", weight: 1 },
    AreaSpec { name_ja: "るんるんエリア", name_en: "Runrun area", weight: 1 },
    AreaSpec { name_ja: "ぽかぽかエリア", name_en: "Pokapoka area", weight: 1 },
];

const TSUKUBAMIRAI_VENUES: &[VenueSpec] = &[
    // The six support rooms with coordinators [002]; the seed prints ぼかぼか for ぽかぽか.
    venue(Some(0), VenueKind::SupportRoom, KOKINU, "Kokinu Children's Hall (support room)"),
    venue(Some(1), VenueKind::SupportRoom, "おひさま", "Ohisama (support room)"),
    venue(Some(2), VenueKind::SupportRoom, "BLOOM", "BLOOM (support room)"),
    venue(Some(3), VenueKind::SupportRoom, "きらくやま", "Kirakuyama (support room)"),
    venue(Some(4), VenueKind::SupportRoom, "るんるん", "Runrun (support room)"),
    venue(Some(5), VenueKind::SupportRoom, "ぽかぽか", "Pokapoka (support room)"),
    // The children & family centre [002].
    venue(None, VenueKind::HealthCentre, "おやこ・まるまるサポートセンター", "Oyako Marumaru Support Centre"),
    // Invented: a contracted postpartum-care provider, so the facility role has a facility.
    venue(None, VenueKind::PostpartumFacility, TSUKUBAMIRAI_FACILITY, "Mirai Midwifery Home"),
];

pub const TSUKUBAMIRAI_FACILITY: &str = "みらい助産院";

const TSUKUBAMIRAI_ACCOUNTS: &[AccountSpec] = &[
    staff("nurse", "保健師 デモ", Role::Nurse, PW_NURSE, TOTP_NURSE, Scope::None),
    staff(
        "coordinator",
        "ママ・パパかかりつけコーディネーター デモ",
        Role::Coordinator,
        PW_COORDINATOR,
        TOTP_COORDINATOR,
        Scope::Area(KOKINU_AREA),
    ),
    staff(
        "facility",
        "産後ケア助産師 デモ",
        Role::FacilityStaff,
        PW_FACILITY,
        TOTP_FACILITY,
        Scope::Venue(TSUKUBAMIRAI_FACILITY),
    ),
    staff("programme", "講座スタッフ デモ", Role::ProgrammeStaff, PW_PROGRAMME, TOTP_PROGRAMME, Scope::Venue(KOKINU)),
    staff("supporter", "応援団 デモ", Role::PeerSupporter, PW_SUPPORTER, TOTP_SUPPORTER, Scope::None),
    staff("caseworker", "ケースワーカー デモ", Role::Caseworker, PW_CASEWORKER, TOTP_CASEWORKER, Scope::None),
    staff("admin", "管理者 デモ", Role::Admin, PW_ADMIN, TOTP_ADMIN, Scope::None),
    staff("analyst", "集計担当 デモ", Role::Analyst, PW_ANALYST, TOTP_ANALYST, Scope::None),
    family("mother", "小林 美咲", PW_MOTHER, FamilyRelation::Mother),
    family("partner", "小林 翔太", PW_PARTNER, FamilyRelation::Partner),
];

pub const TSUKUBAMIRAI: MunicipalitySpec = MunicipalitySpec {
    // [002]: no self-care classes in the seed (those are Setagaya's [000]).
    not_run: &[
        tsunagu_domain::timeline::ContactKind::PrenatalSelfCareClass,
        tsunagu_domain::timeline::ContactKind::PostnatalSelfCareClass,
    ],
    code: "082350",
    name_ja: "つくばみらい市",
    name_en: "Tsukubamirai City",
    series: 2,
    areas: TSUKUBAMIRAI_AREAS,
    venues: TSUKUBAMIRAI_VENUES,
    accounts: TSUKUBAMIRAI_ACCOUNTS,
    demo_family: DemoFamilySpec {
        area: 0,
        mother: (("小林", "コバヤシ"), ("美咲", "ミサキ")),
        partner: (("小林", "コバヤシ"), ("翔太", "ショウタ")),
        // About 31 weeks: due for the 8th-month interview.
        edd_offset: 60,
        born_offset: None,
        baby: None,
    },
};

pub const ALL: [&MunicipalitySpec; 2] = [&SETAGAYA, &TSUKUBAMIRAI];
