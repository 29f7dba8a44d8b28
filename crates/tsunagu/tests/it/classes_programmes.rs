//! Programme settings (#12 stage 3), through the real router on both back
//! ends: the administrator changes a self-care class's name and its week
//! rule ([000] 安定期 read as week 16; a city may say week 20) on the
//! settings page — bad fields refused beside themselves (422, nothing
//! stored), one `class.programme` line — and the pregnant mother's offers
//! page follows at once (the new name; the reason naming week 20). The
//! same through the API ("once per person"). The nurse, who manages
//! sessions, lists programmes but does not set them; programme staff
//! neither.

use crate::pages::Visitor;
use crate::support::*;
use jiff::civil::{date, Time};
use serde_json::json;
use tsunagu_domain::classes::{OncePer, ProgrammeConfig, ProgrammeKind};
use tsunagu_domain::places::VenueKind;
use tsunagu_domain::roles::Role;
use tsunagu_store::{NewSession, NewVenue};

async fn put(app: &TestApp, token: &str, path: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
    let resp = app.http.put(app.url(path)).bearer_auth(token).json(body).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(serde_json::Value::Null))
}

async fn post_form(page: &mut Visitor<'_>, path: &str, f: &[(&'static str, String)]) -> crate::pages::Page {
    let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    page.post(path, &refs).await
}

async fn story_programme_settings(backend: Backend) {
    let app = TestApp::start(backend).await;
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
    let session = NewSession {
        venue_id: hall,
        day: date(2026, 12, 15),
        starts: Time::constant(10, 0, 0, 0),
        minutes: 120,
        capacity: 15,
    };
    let s = app.store.create_class_sessions(m, p.id, &[session]).await.unwrap()[0].0;
    app.account(&fx.setagaya, "admin", Role::Admin, Scope::None).await;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    app.account(&fx.setagaya, "hall", Role::ProgrammeStaff, Scope::Venues(vec![hall])).await;
    let admin = app.token(&fx.setagaya, "admin").await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let staff = app.token(&fx.setagaya, "hall").await;
    // On 15 December she is at week 17 (EDD 20 May): bookable under the seed's week 16.
    let family = app.register(&nurse, &notification(fx.setagaya_area.id, "あおき", "はな", "2027-05-20")).await;
    app.account(&fx.setagaya, "mother", Role::FamilyMember, Scope::Family(family)).await;
    let mut her = Visitor::new(&app);
    her.sign_in("mother", None).await;
    let offers = her.get("/classes").await;
    assert!(
        offers.body.contains("産前・産後のセルフケア講座") && offers.body.contains("book-button"),
        "{}",
        offers.body
    );

    // Who may: the nurse lists, does not set; programme staff neither.
    assert_eq!(app.get(&nurse, "/api/v1/classes/programmes").await.0, 200);
    assert_eq!(app.get(&staff, "/api/v1/classes/programmes").await.0, 403);
    let path = format!("/api/v1/classes/programmes/{}", p.id.0);
    let mut body = json!({
        "name_ja": "セルフケア講座", "name_en": "Self-care class", "content_ja": ["ストレッチ"],
        "runners": ["npo", "hall_staff"], "coordinator_attends": true, "unit": "parent_with_babies",
        "default_capacity": 15, "default_minutes": 120, "measures": "nothing", "residents_only": true,
        "prenatal_from_week": 16, "postnatal_under_months": 5, "once_per_stage": "person",
        "pregnant_only": false, "first_child_only": false, "multiple_births_only": false,
        "pregnant_or_infant_under_months": null});
    assert_eq!(put(&app, &nurse, &path, &body).await.0, 403);
    let mut nurse_page = Visitor::new(&app);
    nurse_page.sign_in("nurse", Some(app.next_totp())).await;
    assert_eq!(nurse_page.get(&format!("/classes/programmes/{}", p.id.0)).await.status, 403);

    // The API: "once per person", saved and answered.
    body["default_capacity"] = json!(0);
    body["unit"] = json!("crowd");
    let (s2, v) = put(&app, &admin, &path, &body).await;
    assert_eq!(s2, 422, "{v}");
    let fields: Vec<&str> =
        v["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["unit", "default_capacity"]);
    body["default_capacity"] = json!(15);
    body["unit"] = json!("parent_with_babies");
    let (s2, v) = put(&app, &admin, &path, &body).await;
    assert_eq!(s2, 200, "{v}");
    assert_eq!(v["config"]["rules"]["once_per_stage"], json!("person"));
    let stored = app.store.programmes(m).await.unwrap();
    assert_eq!(stored[0].config.rules.once_per_stage, Some(OncePer::Person));

    // The page: bad fields beside themselves, nothing stored.
    let mut page = Visitor::new(&app);
    page.sign_in("admin", Some(app.next_totp())).await;
    let list = page.get("/classes/programmes").await;
    assert!(list.body.contains(&format!("href=\"/classes/programmes/{}\"", p.id.0)), "{}", list.body);
    let form = page.get(&format!("/classes/programmes/{}", p.id.0)).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = Visitor::csrf_in(&form.body);
    let fields = |name_ja: &'static str, week: &'static str, capacity: &'static str| {
        vec![
            ("_csrf", csrf.clone()),
            ("name_ja", name_ja.to_owned()),
            ("name_en", "Self-care class".to_owned()),
            ("content_ja", "はじまりのストレッチ\n赤ちゃんの発達について".to_owned()),
            ("runner", "npo".to_owned()),
            ("runner", "hall_staff".to_owned()),
            ("coordinator_attends", "on".to_owned()),
            ("unit", "parent_with_babies".to_owned()),
            ("default_capacity", capacity.to_owned()),
            ("default_minutes", "120".to_owned()),
            ("measures", "nothing".to_owned()),
            ("residents_only", "on".to_owned()),
            ("prenatal_from_week", week.to_owned()),
            ("postnatal_under_months", "5".to_owned()),
            ("once_per_stage", "pregnancy".to_owned()),
            ("pregnant_or_infant_under_months", String::new()),
        ]
    };
    let path_page = format!("/classes/programmes/{}", p.id.0);
    let before = app.store.audit_lines(m, 0, 100_000).await.unwrap().len();
    let bad = post_form(&mut page, &path_page, &fields("", "60", "x")).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    for f in ["name_ja", "prenatal_from_week", "default_capacity"] {
        assert!(bad.body.contains(&format!("id=\"err-{f}\"")), "{f}: {}", bad.body);
    }
    assert_eq!(app.store.programmes(m).await.unwrap()[0].config.name_ja, "セルフケア講座");
    let saved = post_form(&mut page, &path_page, &fields("セルフケア講座（区の設定）", "20", "15")).await;
    assert_eq!(
        (saved.status, saved.location.as_deref()),
        (303, Some("/classes/programmes?done=saved")),
        "{}",
        saved.body
    );
    let lines = app.store.audit_lines(m, 0, 100_000).await.unwrap();
    let written: Vec<&str> = lines[before..].iter().map(|l| l.action.as_str()).collect();
    assert_eq!(written, ["class.programme"]);

    // The family's offers follow: the new name, and the reason naming week 20.
    let offers = her.get("/classes").await;
    assert!(offers.body.contains("セルフケア講座（区の設定）"), "{}", offers.body);
    assert!(offers.body.contains("妊娠20週以降の方が対象です"), "{}", offers.body);
    assert!(
        !offers.body.contains(&format!("name=\"session_id\" value=\"{s}\"")),
        "no longer bookable: {}",
        offers.body
    );
}

on_both! {
    programme_settings => story_programme_settings,
}
