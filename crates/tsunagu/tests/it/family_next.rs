//! これからの予定 on a family's own record (#10): its class bookings and
//! postpartum stays beside its contacts, in date order, with the place and
//! what to bring; the partner sees the family's booking but not the
//! mother's stay unless she shares it. Over HTTP on both back ends, and in
//! a real headless Chromium at 390×844.

use crate::pages::Visitor;
use crate::support::*;
use fantoccini::Locator;
use jiff::civil::{date, Time};
use serde_json::json;
use tsunagu_domain::classes::{ProgrammeConfig, ProgrammeKind};
use tsunagu_domain::places::VenueKind;
use tsunagu_store::{NewSession, NewVenue};

/// The twins' family of `privacy::family_with_a_stay` (an approved stay
/// 2026-11-22 to 24; today is the 22nd), with the mother's booking of the
/// twins' group at 北沢児童館 on 2026-11-30 at 10:00.
pub(crate) async fn family_with_a_class_and_a_stay(app: &TestApp) -> crate::privacy::Family {
    let f = crate::privacy::family_with_a_stay(app).await;
    let m = app.fx.setagaya.id;
    let hall = app
        .store
        .create_venue(&NewVenue {
            municipality_id: m,
            area_id: Some(app.fx.setagaya_area.id),
            kind: VenueKind::ChildrensHall,
            name_ja: "北沢児童館".into(),
            name_en: "Kitazawa children's hall".into(),
        })
        .await
        .unwrap()
        .id;
    let p = app.store.create_programme(m, &ProgrammeConfig::seed_default(ProgrammeKind::TwinsGroup)).await.unwrap();
    let session = NewSession {
        venue_id: hall,
        day: date(2026, 11, 30),
        starts: Time::constant(10, 0, 0, 0),
        minutes: 120,
        capacity: 10,
    };
    let ids = app.store.create_class_sessions(m, p.id, &[session]).await.unwrap();
    let (s, v) = app
        .post(&f.mother, "/api/v1/classes/bookings", &json!({"session_id": ids[0].0, "idempotency_key": "next-1"}))
        .await;
    assert_eq!(s, 201, "{v}");
    f
}

/// The kinds of the items of これからの予定, in the page's order.
fn next_kinds(body: &str) -> Vec<String> {
    let start = body.find("id=\"next\"").expect("the section");
    let section = &body[start..start + body[start..].find("</section>").unwrap()];
    section.split("data-kind=\"").skip(1).map(|s| s[..s.find('"').unwrap()].to_owned()).collect()
}

async fn story_bookings_and_stays_come_next(backend: Backend) {
    let app = TestApp::start(backend).await;
    let f = family_with_a_class_and_a_stay(&app).await;
    let _ = &f.nurse;
    let mut mother = Visitor::new(&app);
    mother.sign_in("mother", None).await;
    let page = mother.get("/me").await;
    assert_eq!(page.status, 200);
    let kinds = next_kinds(&page.body);
    let (stay, class) = (
        kinds.iter().position(|k| k == "stay").expect("the stay"),
        kinds.iter().position(|k| k == "class").expect("the class"),
    );
    assert!(stay < class, "the stay (from the 22nd) before the class (the 30th): {kinds:?}");
    let b = &page.body;
    assert!(b.contains("ふたご・みつご広場") && b.contains("北沢児童館"), "the class and its place");
    let next = &b[b.find("id=\"next\"").unwrap()..];
    assert!(b.contains("11月30日(月) 10:00から"), "the class's day and time: {next}");
    assert!(b.contains("産後ケアの利用（ショートステイ（宿泊））"), "the stay");
    assert!(b.contains("令和8年11月22日(日)〜11月24日(火)"), "the stay's days");
    assert!(b.contains("持ち物："), "what to bring");

    // The partner: the family's booking, not the mother's stay (she has not shared it).
    let mut partner = Visitor::new(&app);
    partner.sign_in("partner", None).await;
    let page = partner.get("/me").await;
    assert_eq!(page.status, 200);
    let kinds = next_kinds(&page.body);
    assert!(kinds.iter().any(|k| k == "class") && !kinds.iter().any(|k| k == "stay"), "{kinds:?}");
    assert!(!page.body.contains("産後ケアの利用"), "no word of the stay");
}

on_both!(bookings_and_stays_come_next => story_bookings_and_stays_come_next);

/// Unnamed twins are told apart on わが家の記録 (#10): each baby's age line
/// and the stay's line name them by birth order (「ふたごの1人目」), never
/// 「生後10日」 twice.
async fn story_unnamed_twins_are_told_apart(backend: Backend) {
    let app = TestApp::start(backend).await;
    let f = family_with_a_class_and_a_stay(&app).await;
    let _ = &f.nurse;
    let mut mother = Visitor::new(&app);
    mother.sign_in("mother", None).await;
    let page = mother.get("/me").await;
    assert_eq!(page.status, 200);
    let now: Vec<String> = page
        .body
        .split("class=\"now\"")
        .skip(1)
        .map(|s| s[s.find('>').unwrap() + 1..s.find("</p>").unwrap()].to_owned())
        .collect();
    assert_eq!(now, ["ふたごの1人目　生後10日", "ふたごの2人目　生後10日"], "two distinct labels");
    let start = page.body.find("id=\"next\"").unwrap();
    let next = &page.body[start..start + page.body[start..].find("</section>").unwrap()];
    assert!(next.contains("ふたごの1人目・ふたごの2人目"), "the stay names both: {next}");
    let children = &page.body[page.body.find("id=\"children\"").unwrap()..];
    assert!(
        children.contains("（ふたごの1人目）") && children.contains("（ふたごの2人目）"),
        "the children's table too"
    );
}

on_both!(unnamed_twins_are_told_apart => story_unnamed_twins_are_told_apart);

#[tokio::test]
async fn a_mother_sees_her_class_and_her_stay_in_date_order_on_her_phone() {
    let app = TestApp::start(Backend::Sqlite).await;
    family_with_a_class_and_a_stay(&app).await;
    let b = crate::browser::browser().await;
    let c = &b.client;
    c.set_window_size(390, 844).await.unwrap();
    crate::browser_family::sign_in_as(&app, c, "mother", PASSWORD).await;
    c.goto(&app.url("/me")).await.unwrap();
    c.wait().for_element(Locator::Id("next")).await.unwrap();
    let v = c
        .execute(
            "return [...document.querySelectorAll('#next .next-item')].map(e => [e.dataset.kind, e.innerText,
               e.getBoundingClientRect().right <= window.innerWidth + 1]);",
            vec![],
        )
        .await
        .unwrap();
    let items = v.as_array().unwrap();
    let kinds: Vec<&str> = items.iter().map(|i| i[0].as_str().unwrap()).collect();
    let stay = kinds.iter().position(|k| *k == "stay").expect("the stay is shown");
    let class = kinds.iter().position(|k| *k == "class").expect("the class is shown");
    assert!(stay < class, "{kinds:?}");
    assert!(items[class][1].as_str().unwrap().contains("北沢児童館"), "{items:?}");
    assert!(items.iter().all(|i| i[2].as_bool() == Some(true)), "each item fits 390 px: {items:?}");
    let width: i64 = c.execute("return window.innerWidth;", vec![]).await.unwrap().as_i64().unwrap();
    assert!(width <= 390, "{width}");
}
