//! Classes in a real headless Chromium on a phone-sized window (390×844):
//! a pregnant mother finds a self-care class near her that she may book,
//! books it, fetches its .ics, and is refused a second prenatal class with
//! the reason; the hall's staff record attendance; her timeline shows the
//! class done [000].

use crate::browser::{browser, shot, sign_in};
use crate::support::*;
use fantoccini::Locator;
use jiff::civil::{date, Time};
use serde_json::Value;
use tsunagu_domain::classes::{ProgrammeConfig, ProgrammeKind};
use tsunagu_domain::places::VenueKind;
use tsunagu_domain::roles::Role;
use tsunagu_store::{NewSession, NewVenue};

#[tokio::test]
async fn a_mother_books_a_self_care_class_and_the_hall_records_it() {
    let app = TestApp::start(Backend::Sqlite).await;
    let fx = &app.fx;
    let m = fx.setagaya.id;
    let hall = app
        .store
        .create_venue(&NewVenue {
            municipality_id: m,
            area_id: Some(fx.setagaya_area.id),
            kind: VenueKind::ChildrensHall,
            name_ja: "北沢児童館".into(),
            name_en: "Kitazawa hall".into(),
        })
        .await
        .unwrap()
        .id;
    let p = app.store.create_programme(m, &ProgrammeConfig::seed_default(ProgrammeKind::SelfCare)).await.unwrap();
    let at = |y, mo, d| NewSession {
        venue_id: hall,
        day: date(y, mo, d),
        starts: Time::constant(10, 0, 0, 0),
        minutes: 120,
        capacity: 15,
    };
    let ids = app.store.create_class_sessions(m, p.id, &[at(2026, 12, 15), at(2027, 1, 19)]).await.unwrap();
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    app.account(&fx.setagaya, "hall", Role::ProgrammeStaff, Scope::Venues(vec![hall])).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let family = app.register(&nurse, &notification(fx.setagaya_area.id, "あおき", "はな", "2027-05-20")).await;
    app.account(&fx.setagaya, "mother", Role::FamilyMember, Scope::Family(family)).await;

    let b = browser().await;
    let c = &b.client;
    sign_in(&app, c, "131121", "mother", false).await;
    c.find(Locator::Id("nav-classes")).await.unwrap().click().await.unwrap();
    let card = c.wait().for_element(Locator::Id(&format!("session-{}", ids[0]))).await.unwrap();
    assert!(card.text().await.unwrap().contains("北沢児童館"));
    shot(c, "classes-offers").await;
    card.find(Locator::Css(".book-button")).await.unwrap().click().await.unwrap();
    let notice = c.wait().for_element(Locator::Id("notice")).await.unwrap();
    assert_eq!(notice.text().await.unwrap(), "予約しました。");
    // The calendar file, as the link on the page fetches it.
    let ics: Value =
        c.execute("return fetch(document.getElementById('ics').href).then(r => r.text())", vec![]).await.unwrap();
    let ics = ics.as_str().unwrap();
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n") && ics.contains("DTSTART;TZID=Asia/Tokyo:20261215T100000"), "{ics}");
    // A second prenatal class: refused, with the reason in plain Japanese.
    c.goto(&app.url("/classes")).await.unwrap();
    let other = c.wait().for_element(Locator::Id(&format!("session-{}", ids[1]))).await.unwrap();
    let reason = other.find(Locator::Css(".reason")).await.unwrap().text().await.unwrap();
    assert!(reason.contains("産前・産後それぞれ1回まで"), "{reason}");
    assert!(other.find(Locator::Css(".book-button")).await.is_err());
    shot(c, "classes-refused").await;
    c.find(Locator::Id("signout")).await.unwrap().click().await.unwrap();

    // The hall's staff record her attendance.
    sign_in(&app, c, "131121", "hall", true).await;
    c.goto(&app.url(&format!("/classes/sessions/{}", ids[0]))).await.unwrap();
    let roster = c.wait().for_element(Locator::Id("roster")).await.unwrap();
    assert!(roster.text().await.unwrap().contains("山田 花子"));
    c.find(Locator::Css("#roster input[type=checkbox]")).await.unwrap().click().await.unwrap();
    c.find(Locator::Id("record-attendance")).await.unwrap().click().await.unwrap();
    let done = c.wait().for_element(Locator::Id("notice")).await.unwrap();
    assert_eq!(done.text().await.unwrap(), "出欠を記録しました。");
    c.find(Locator::Id("signout")).await.unwrap().click().await.unwrap();

    // Her timeline shows the class done.
    sign_in(&app, c, "131121", "mother", false).await;
    c.goto(&app.url("/me")).await.unwrap();
    c.wait().for_element(Locator::Css("tr.contact.status-done[data-kind=prenatal_self_care_class]")).await.unwrap();
    shot(c, "classes-timeline").await;
    c.clone().close().await.unwrap();
}

/// [000] 地域おでかけ情報 on a phone: a pregnant mother opens the local
/// information from the classes page, sees her area's places for her stage
/// (not those for babies), opens an outing spot and follows its link to a
/// session held there.
#[tokio::test]
async fn a_mother_finds_an_outing_spot_for_her_stage_and_a_session_held_there() {
    use tsunagu_domain::classes::local::{LifeStage, LocalPlace, PlaceKind, StageSet};
    let app = TestApp::start(Backend::Sqlite).await;
    let fx = &app.fx;
    let m = fx.setagaya.id;
    let area = fx.setagaya_area.id;
    let hall = app
        .store
        .create_venue(&NewVenue {
            municipality_id: m,
            area_id: Some(area),
            kind: VenueKind::ChildrensHall,
            name_ja: "北沢児童館".into(),
            name_en: "Kitazawa hall".into(),
        })
        .await
        .unwrap()
        .id;
    let p = app.store.create_programme(m, &ProgrammeConfig::seed_default(ProgrammeKind::SelfCare)).await.unwrap();
    let session = NewSession {
        venue_id: hall,
        day: date(2026, 12, 15),
        starts: Time::constant(10, 0, 0, 0),
        minutes: 120,
        capacity: 15,
    };
    let ids = app.store.create_class_sessions(m, p.id, &[session]).await.unwrap();
    let keeper = crate::store_support::ctx(m, Role::Coordinator);
    let spot = |name: &str, stages: StageSet, venue| LocalPlace {
        area_id: area,
        kind: PlaceKind::OutingSpot,
        name_ja: name.into(),
        name_en: String::new(),
        address: String::new(),
        access: "駅から徒歩5分".into(),
        hours: "毎日".into(),
        offers_ja: "ベビーカーで入れる中庭".into(),
        offers_en: String::new(),
        stages,
        venue_id: venue,
    };
    let garden = app
        .store
        .create_local_place(&keeper, &spot("児童館の中庭", StageSet::of([LifeStage::Pregnant]), Some(hall)))
        .await
        .unwrap();
    app.store
        .create_local_place(&keeper, &spot("赤ちゃん広場", StageSet::of([LifeStage::SixMonths]), None))
        .await
        .unwrap();
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let family = app.register(&nurse, &notification(area, "あおき", "はな", "2027-05-20")).await;
    app.account(&fx.setagaya, "mother", Role::FamilyMember, Scope::Family(family)).await;

    let b = browser().await;
    let c = &b.client;
    sign_in(&app, c, "131121", "mother", false).await;
    c.find(Locator::Id("nav-classes")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("local-link")).await.unwrap().click().await.unwrap();
    let card = c.wait().for_element(Locator::Id(&format!("place-{}", garden.id))).await.unwrap();
    assert!(card.text().await.unwrap().contains("妊娠中"));
    let listed = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(!listed.contains("赤ちゃん広場"), "a place for older babies is not her stage: {listed}");
    shot(c, "local-information").await;
    card.find(Locator::Css("h2 a")).await.unwrap().click().await.unwrap();
    let held = c.wait().for_element(Locator::Css("#held-here .held-session")).await.unwrap();
    assert!(held.text().await.unwrap().contains("12月15日"), "the day in Japanese, with its weekday");
    shot(c, "local-place").await;
    held.click().await.unwrap();
    let offered = c.wait().for_element(Locator::Id(&format!("session-{}", ids[0]))).await.unwrap();
    assert!(offered.find(Locator::Css(".book-button")).await.is_ok(), "she may book the session held there");
    c.clone().close().await.unwrap();
}

/// Staff pages for sessions at a desk (1366×900, #12 stage 3): the nurse —
/// the policy's staff who manage classes — opens the programme's sessions,
/// moves one to the afternoon, assigning the hall's programme staff to it
/// (#12, last stage), and cancels another through its red second step; the
/// hall's staff member sees herself on that session's roster; the booked
/// mother, on her phone (390×844), sees both notices.
#[tokio::test]
async fn the_nurse_moves_a_session_and_cancels_another_and_the_mother_is_told() {
    let app = TestApp::start(Backend::Sqlite).await;
    let fx = &app.fx;
    let m = fx.setagaya.id;
    let hall = app
        .store
        .create_venue(&NewVenue {
            municipality_id: m,
            area_id: Some(fx.setagaya_area.id),
            kind: VenueKind::ChildrensHall,
            name_ja: "北沢児童館".into(),
            name_en: "Kitazawa hall".into(),
        })
        .await
        .unwrap()
        .id;
    let p = app.store.create_programme(m, &ProgrammeConfig::seed_default(ProgrammeKind::MaternityClass)).await.unwrap();
    let at = |d| NewSession {
        venue_id: hall,
        day: date(2026, 12, d),
        starts: Time::constant(10, 0, 0, 0),
        minutes: 120,
        capacity: 10,
    };
    let ids = app.store.create_class_sessions(m, p.id, &[at(12), at(19)]).await.unwrap();
    let (moved, cancelled) = (ids[0].0, ids[1].0);
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let runner = app.account(&fx.setagaya, "hall", Role::ProgrammeStaff, Scope::Venues(vec![hall])).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let family = app.register(&nurse, &notification(fx.setagaya_area.id, "あおき", "はな", "2027-05-20")).await;
    app.account(&fx.setagaya, "mother", Role::FamilyMember, Scope::Family(family)).await;
    for (s, key) in [(moved, "b1"), (cancelled, "b2")] {
        let body = serde_json::json!({"session_id": s, "family_id": family.0, "idempotency_key": key});
        let (status, v) = app.post(&nurse, "/api/v1/classes/bookings", &body).await;
        assert_eq!(status, 201, "{v}");
    }

    let b = browser().await;
    let c = &b.client;
    c.set_window_size(1366, 900).await.unwrap();
    sign_in(&app, c, "131121", "nurse", true).await;
    c.find(Locator::Id("nav-classes")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("manage-link")).await.unwrap().click().await.unwrap();
    let row = c.wait().for_element(Locator::Id(&format!("managed-{moved}"))).await.unwrap();
    assert_eq!(row.find(Locator::Css(".taken")).await.unwrap().text().await.unwrap(), "1");
    shot(c, "classes-manage").await;
    row.find(Locator::Css(".edit-link")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("starts")).await.unwrap();
    // A time input takes what a keyboard types; set its value as the picker would.
    c.execute("document.getElementById('starts').value = '14:00'", vec![]).await.unwrap();
    // Who runs it: the hall's programme staff, ticked by display name.
    let tick = c.find(Locator::Id(&format!("staff-{}", runner.0))).await.unwrap();
    assert!(!tick.is_selected().await.unwrap(), "nobody assigned yet");
    tick.click().await.unwrap();
    shot(c, "classes-session-staff").await;
    c.find(Locator::Id("save-session")).await.unwrap().click().await.unwrap();
    let notice = c.wait().for_element(Locator::Id("notice")).await.unwrap();
    assert_eq!(notice.text().await.unwrap(), "回の変更を保存しました。");
    let when = c.find(Locator::Css(&format!("#managed-{moved} td"))).await.unwrap().text().await.unwrap();
    assert!(when.contains("14:00–16:00"), "{when}");
    let staff = c.find(Locator::Css(&format!("#managed-{moved} .staff"))).await.unwrap().text().await.unwrap();
    assert_eq!(staff, "hall (test)");
    // The other: cancel is a second, red step.
    c.find(Locator::Css(&format!("#managed-{cancelled} .edit-link"))).await.unwrap().click().await.unwrap();
    let confirm = c.wait().for_element(Locator::Id("cancel-confirm")).await.unwrap();
    assert!(!confirm.is_displayed().await.unwrap(), "hidden until the first step opens it");
    c.find(Locator::Id("cancel-session")).await.unwrap().click().await.unwrap();
    shot(c, "classes-cancel-step").await;
    confirm.click().await.unwrap();
    let notice = c.wait().for_element(Locator::Id("notice")).await.unwrap();
    assert!(notice.text().await.unwrap().starts_with("回を中止しました"));
    let status = c.find(Locator::Css(&format!("#managed-{cancelled} .status"))).await.unwrap().text().await.unwrap();
    assert_eq!(status, "中止");
    c.find(Locator::Id("signout")).await.unwrap().click().await.unwrap();

    // The hall's staff member: the session she runs, with her name on its roster.
    sign_in(&app, c, "131121", "hall", true).await;
    c.goto(&app.url(&format!("/classes/sessions/{moved}"))).await.unwrap();
    let runs = c.wait().for_element(Locator::Id("session-staff")).await.unwrap().text().await.unwrap();
    assert!(runs.contains("hall (test)"), "{runs}");
    assert!(c.find(Locator::Id("roster")).await.is_ok(), "her session's roster");
    shot(c, "classes-roster-staff").await;
    c.find(Locator::Id("signout")).await.unwrap().click().await.unwrap();

    // The mother, on her phone: both notices on her bookings page.
    c.set_window_size(390, 844).await.unwrap();
    sign_in(&app, c, "131121", "mother", false).await;
    c.goto(&app.url("/classes/mine")).await.unwrap();
    let moved_card = c.wait().for_element(Locator::Css(".notice.session-moved")).await.unwrap();
    assert!(moved_card.text().await.unwrap().contains("日時または会場が変わりました"));
    let cancelled_card = c.find(Locator::Css(".notice.session-cancelled")).await.unwrap();
    assert!(cancelled_card.text().await.unwrap().contains("この回は中止になりました"));
    let page = c.source().await.unwrap();
    assert!(page.contains("14:00–16:00"), "the new time on her page");
    shot(c, "classes-mother-notices").await;
    c.clone().close().await.unwrap();
}
