//! A year's sessions from a pattern, with a preview (#12 stage 3), through
//! the real router on both back ends: [004]'s monthly class at a hub (the
//! January class moved a week for 成人の日, flagged in the preview), a
//! session the programme already has left alone, a second generation of the
//! same year that creates nothing, one `class.schedule` line per
//! generation, bad patterns refused beside their fields; the same through
//! the staff's page ([000]'s classes spread over halls). Only those who
//! manage classes.

use crate::pages::Visitor;
use crate::support::*;
use jiff::civil::{date, Time};
use serde_json::json;
use tsunagu_domain::classes::{ProgrammeConfig, ProgrammeKind};
use tsunagu_domain::places::VenueKind;
use tsunagu_domain::roles::Role;
use tsunagu_store::{NewSession, NewVenue, SessionQuery};

async fn schedule_lines(app: &TestApp) -> usize {
    let lines = app.store.audit_lines(app.fx.setagaya.id, 0, 100_000).await.unwrap();
    lines.iter().filter(|l| l.action == "class.schedule").count()
}

async fn post_form(page: &mut Visitor<'_>, path: &str, f: &[(&'static str, String)]) -> crate::pages::Page {
    let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    page.post(path, &refs).await
}

async fn story_a_years_schedule_from_a_pattern(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    let m = fx.setagaya.id;
    let venue = |kind, name: &'static str| NewVenue {
        municipality_id: m,
        area_id: Some(fx.setagaya_area.id),
        kind,
        name_ja: name.into(),
        name_en: "A venue".into(),
    };
    let hub = app.store.create_venue(&venue(VenueKind::Hub, "おやこひろば")).await.unwrap().id;
    let hall1 = app.store.create_venue(&venue(VenueKind::ChildrensHall, "北沢児童館")).await.unwrap().id;
    let hall2 = app.store.create_venue(&venue(VenueKind::ChildrensHall, "代田児童館")).await.unwrap().id;
    let sunday =
        app.store.create_programme(m, &ProgrammeConfig::seed_default(ProgrammeKind::SundayParentsClass)).await.unwrap();
    let self_care =
        app.store.create_programme(m, &ProgrammeConfig::seed_default(ProgrammeKind::SelfCare)).await.unwrap();
    // April's class is already there (made by hand).
    let april = NewSession {
        venue_id: hub,
        day: date(2026, 4, 13),
        starts: Time::constant(10, 0, 0, 0),
        minutes: 120,
        capacity: 10,
    };
    app.store.create_class_sessions(m, sunday.id, &[april]).await.unwrap();
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    app.account(&fx.setagaya, "hall", Role::ProgrammeStaff, Scope::Venues(vec![hall1])).await;
    app.account(&fx.other, "nurse2", Role::Nurse, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let staff = app.token(&fx.setagaya, "hall").await;
    let elsewhere = app.token(&fx.other, "nurse2").await;
    let preview = format!("/api/v1/classes/programmes/{}/schedule/preview", sunday.id.0);
    let generate = format!("/api/v1/classes/programmes/{}/schedule", sunday.id.0);
    let pattern = json!({"fiscal_year": 2026, "venue_ids": [hub.0], "pattern": "monthly", "weekday": "monday",
        "nth": 2, "starts": "10:00", "capacity": 12});

    // Only those who manage classes; another municipality's programme is not there.
    assert_eq!(app.post(&staff, &preview, &pattern).await.0, 403);
    assert_eq!(app.post(&staff, &generate, &pattern).await.0, 403);
    assert_eq!(app.post(&elsewhere, &generate, &pattern).await.0, 404);
    let mut foreign = pattern.clone();
    foreign["venue_ids"] = json!([fx.facility.id.0 + 10_000]);
    let (s, v) = app.post(&nurse, &preview, &foreign).await;
    assert_eq!((s, v["error"]["fields"][0]["field"].as_str()), (422, Some("venue_ids")), "{v}");

    // Bad patterns: every field beside its name; nothing made.
    let (s, v) = app
        .post(
            &nurse,
            &generate,
            &json!({"fiscal_year": 1900, "venue_ids": [], "pattern": "monthly", "weekday": "someday",
            "nth": 9, "starts": "25:00", "minutes": 5, "capacity": 0}),
        )
        .await;
    assert_eq!(s, 422, "{v}");
    let fields: Vec<&str> =
        v["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["fiscal_year", "venue_ids", "weekday", "nth", "starts", "minutes", "capacity"]);
    assert_eq!(schedule_lines(&app).await, 0);

    // The preview: twelve Mondays, January's moved for 成人の日, April's already there.
    let (s, v) = app.post(&nurse, &preview, &pattern).await;
    assert_eq!(s, 200, "{v}");
    let list = v["sessions"].as_array().unwrap();
    assert_eq!((list.len(), v["new_sessions"].as_i64(), v["capacity"].as_i64()), (12, Some(11), Some(12)), "{v}");
    let jan = list.iter().find(|l| l["day"].as_str().unwrap().starts_with("2027-01")).unwrap();
    assert_eq!((jan["day"].as_str(), jan["moved_from"].as_str()), (Some("2027-01-18"), Some("2027-01-11")));
    assert_eq!(list[0]["already_there"], json!(true));
    assert_eq!(schedule_lines(&app).await, 0, "a preview stores nothing");

    // Made in one transaction with one line; the second time nothing is made twice.
    let (s, v) = app.post(&nurse, &generate, &pattern).await;
    assert_eq!(
        (s, v["created"].as_array().map(Vec::len), v["already_there"].as_i64()),
        (201, Some(11), Some(1)),
        "{v}"
    );
    assert_eq!(schedule_lines(&app).await, 1);
    let (s, v) = app.post(&nurse, &generate, &pattern).await;
    assert_eq!(
        (s, v["created"].as_array().map(Vec::len), v["already_there"].as_i64()),
        (201, Some(0), Some(12)),
        "{v}"
    );
    let q = SessionQuery { venues: Some(vec![hub]), limit: 100, ..SessionQuery::default() };
    let all = app.store.class_sessions(m, &q).await.unwrap();
    assert_eq!(all.len(), 12, "one a month, none twice");
    assert!(all.iter().filter(|s| s.day != date(2026, 4, 13)).all(|s| s.capacity == 12));

    // The page: [000]'s classes over two halls, previewed in Japanese, then made.
    let mut page = Visitor::new(&app);
    page.sign_in("nurse", Some(app.next_totp())).await;
    let form = page.get(&format!("/classes/schedule?programme={}", self_care.id.0)).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = Visitor::csrf_in(&form.body);
    let (h1, h2, p) = (hall1.0.to_string(), hall2.0.to_string(), self_care.id.0.to_string());
    let fields = |per_year: &'static str| -> Vec<(&'static str, String)> {
        vec![
            ("_csrf", csrf.clone()),
            ("programme_id", p.clone()),
            ("fiscal_year", "2026".into()),
            ("venue_id", h1.clone()),
            ("venue_id", h2.clone()),
            ("pattern", "spread".into()),
            ("per_year", per_year.into()),
            ("weekday", "tuesday".into()),
            ("starts", "10:00".into()),
            ("minutes", String::new()),
            ("capacity", String::new()),
        ]
    };
    let bad = post_form(&mut page, "/classes/schedule/preview", &fields("0")).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("id=\"err-per_year\""), "{}", bad.body);
    let shown = post_form(&mut page, "/classes/schedule/preview", &fields("6")).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert_eq!(shown.body.matches("class=\"planned").count(), 6, "{}", shown.body);
    assert!(shown.body.contains("令和8年度") && shown.body.contains("令和8年4月"), "{}", shown.body);
    let made = post_form(&mut page, "/classes/schedule", &fields("6")).await;
    assert_eq!(made.status, 303, "{}", made.body);
    assert_eq!(made.location, Some(format!("/classes/manage?programme={}&done=generated", self_care.id.0)));
    let q = SessionQuery { venues: Some(vec![hall1, hall2]), limit: 100, ..SessionQuery::default() };
    let made: Vec<_> = app.store.class_sessions(m, &q).await.unwrap();
    assert_eq!(made.len(), 6);
    assert!(made.iter().all(|s| s.capacity == self_care.config.default_capacity && s.programme_id == self_care.id));
    assert_eq!(schedule_lines(&app).await, 3);
}

on_both! {
    a_years_schedule_from_a_pattern => story_a_years_schedule_from_a_pattern,
}
