//! Demo local information [000] 地域おでかけ情報: for each area of a demo
//! municipality, its venues where classes are held (children's halls, hubs,
//! support rooms — each entry linked to its venue, so a session links to
//! it), and a few outing spots and services of the kind [000] says the
//! self-care class hands out ("民間のインフォーマルな情報も提供"). The
//! places beyond the venues are invented for the demo; names say so where
//! they could be mistaken for real ones.

use tsunagu_domain::audit::AuditContext;
use tsunagu_domain::classes::local::{LifeStage, LocalPlace, PlaceKind, StageSet};
use tsunagu_domain::places::VenueKind;
use tsunagu_store::Store;

/// Every stage up to school: a hall or a hub welcomes them all.
fn all() -> StageSet {
    StageSet::all()
}

fn place(
    area: tsunagu_domain::AreaId,
    kind: PlaceKind,
    (name_ja, name_en): (String, String),
    offers: (&str, &str),
    hours: &str,
    stages: StageSet,
    venue: Option<tsunagu_domain::VenueId>,
) -> LocalPlace {
    LocalPlace {
        area_id: area,
        kind,
        name_ja,
        name_en,
        address: String::new(),
        access: String::new(),
        hours: hours.to_owned(),
        offers_ja: offers.0.to_owned(),
        offers_en: offers.1.to_owned(),
        stages,
        venue_id: venue,
    }
}

pub(crate) async fn load(store: &dyn Store, ctx: &AuditContext) -> tsunagu_store::Result<()> {
    let m = ctx.municipality_id;
    let areas = store.areas(m).await?;
    let venues = store.venues(m).await?;
    let mut entries = Vec::new();
    for v in &venues {
        let Some(area) = v.area_id else { continue };
        let (kind, offers, hours) = match v.kind {
            VenueKind::ChildrensHall => (
                PlaceKind::ChildrensHall,
                (
                    "乳幼児親子の居場所。セルフケア講座の会場です。妊娠中の方も見学できます。",
                    "A place for parents and babies; the self-care classes are held here. Expecting parents may visit.",
                ),
                "月〜土 9:30〜18:00",
            ),
            VenueKind::Hub => (
                PlaceKind::Hub,
                (
                    "子育てひろば。日曜の両親学級、健康相談と仲間づくりの日、多胎児の会があります。",
                    "A childcare hub: the Sunday parents' class, the health-consultation day, the twins group.",
                ),
                "火〜日 10:00〜16:00",
            ),
            VenueKind::SupportRoom => (
                PlaceKind::SupportRoom,
                (
                    "子育て支援室。マタニティ教室の会場です。",
                    "A childcare-support room; the maternity classes are held here.",
                ),
                "月〜金 9:00〜15:00",
            ),
            _ => continue,
        };
        entries.push(place(area, kind, (v.name_ja.clone(), v.name_en.clone()), offers, hours, all(), Some(v.id)));
    }
    for a in &areas {
        let spot = |ja: &str, en: &str| (format!("{}{ja}", a.name_ja), format!("{} {en}", a.name_en));
        entries.push(place(
            a.id,
            PlaceKind::OutingSpot,
            spot("ふれあい公園（デモ）", "Fureai park (demo)"),
            (
                "ベビーカーで回れる遊歩道と日陰のベンチ。授乳室つきの休憩所があります。",
                "A pram-friendly path, shaded benches and a rest house with a nursing room.",
            ),
            "毎日",
            StageSet::of([LifeStage::Newborn, LifeStage::ThreeMonths, LifeStage::SixMonths, LifeStage::OneYear]),
            None,
        ));
        entries.push(place(
            a.id,
            PlaceKind::OutingSpot,
            spot("図書館 赤ちゃんコーナー（デモ）", "library baby corner (demo)"),
            ("絵本の読み聞かせ会（毎月第2水曜）。", "Picture-book readings, second Wednesday of each month."),
            "火〜日 9:00〜19:00",
            StageSet::of([LifeStage::ThreeMonths, LifeStage::SixMonths, LifeStage::OneYear, LifeStage::TwoYears]),
            None,
        ));
        entries.push(place(
            a.id,
            PlaceKind::OutingSpot,
            spot("マタニティカフェ（デモ）", "maternity café (demo)"),
            (
                "妊娠中の方どうしのおしゃべり会。助産師が月1回来ます。",
                "A chat for expecting parents; a midwife comes once a month.",
            ),
            "第1・第3木曜 10:00〜12:00",
            StageSet::of([LifeStage::Pregnant]),
            None,
        ));
        entries.push(place(
            a.id,
            PlaceKind::Service,
            spot("地域子育て支援コーディネーター", "area childcare-support coordinator"),
            (
                "子育ての困りごとや地域の情報の相談窓口。セルフケア講座にも参加しています。",
                "Ask about childcare worries and local services; she attends the self-care classes too.",
            ),
            "月〜金 8:30〜17:00",
            all(),
            None,
        ));
    }
    for e in &entries {
        store.create_local_place(ctx, e).await?;
    }
    Ok(())
}
