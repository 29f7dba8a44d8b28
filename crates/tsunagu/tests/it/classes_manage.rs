//! Sessions edited by staff, through the real router on both back ends
//! (#12 stage 2): a programme's sessions, one session's day, time and
//! places (never below those taken; bad input refused beside its fields),
//! and its cancellation — the bookings cancelled with a notice to each
//! family, the owed contact released so another class can settle it, one
//! audit line. Only those who manage classes: a hall's programme staff and
//! another municipality's nurse are refused.

use crate::pages::Visitor;
use crate::support::*;
use jiff::civil::{date, Time};
use serde_json::{json, Value};
use tsunagu_domain::classes::{ProgrammeConfig, ProgrammeKind};
use tsunagu_domain::places::VenueKind;
use tsunagu_domain::roles::Role;
use tsunagu_store::{NewSession, NewVenue};

async fn put(app: &TestApp, token: &str, path: &str, body: &Value) -> (u16, Value) {
    let resp = app.http.put(app.url(path)).bearer_auth(token).json(body).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn mother_token(app: &TestApp, username: &str) -> String {
    let r = app
        .http
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"municipality": "131121", "username": username, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
}

async fn story_staff_edit_and_cancel_sessions(backend: Backend) {
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
    let at = |mo, d| NewSession {
        venue_id: hall,
        day: date(if mo == 1 { 2027 } else { 2026 }, mo, d),
        starts: Time::constant(10, 0, 0, 0),
        minutes: 120,
        capacity: 2,
    };
    let ids = app.store.create_class_sessions(m, p.id, &[at(12, 15), at(1, 19)]).await.unwrap();
    let (first, later) = (ids[0].0, ids[1].0);
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    app.account(&fx.setagaya, "hall", Role::ProgrammeStaff, Scope::Venues(vec![hall])).await;
    app.account(&fx.other, "nurse2", Role::Nurse, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let staff = app.token(&fx.setagaya, "hall").await;
    let elsewhere = app.token(&fx.other, "nurse2").await;
    let area = fx.setagaya_area.id;
    let f1 = app.register(&nurse, &notification(area, "あおき", "はな", "2027-05-20")).await;
    let f2 = app.register(&nurse, &notification(area, "いのうえ", "はな", "2027-05-20")).await;
    app.account(&fx.setagaya, "mother", Role::FamilyMember, Scope::Family(f1)).await;
    let mother = mother_token(&app, "mother").await;
    let (s, v) =
        app.post(&mother, "/api/v1/classes/bookings", &json!({"session_id": first, "idempotency_key": "m1"})).await;
    assert_eq!(s, 201, "{v}");
    assert!(v["booking"]["contact_id"].is_i64(), "the booking settles her owed class: {v}");
    let (s, v) = app
        .post(
            &nurse,
            "/api/v1/classes/bookings",
            &json!({"session_id": first, "family_id": f2.0, "idempotency_key": "n2"}),
        )
        .await;
    assert_eq!(s, 201, "{v}");

    // Only those who manage classes.
    let edit = json!({"day": "2026-12-16", "starts": "13:30", "minutes": 90, "capacity": 4});
    let (s, v) = put(&app, &staff, &format!("/api/v1/classes/sessions/{first}"), &edit).await;
    assert_eq!(s, 403, "a hall's staff run sessions, they do not edit them: {v}");
    let (s, _) = app.post(&staff, &format!("/api/v1/classes/sessions/{first}/cancel"), &json!({})).await;
    assert_eq!(s, 403);
    let (s, _) = app.get(&staff, &format!("/api/v1/classes/programmes/{}/sessions", p.id.0)).await;
    assert_eq!(s, 403);
    let (s, _) = put(&app, &elsewhere, &format!("/api/v1/classes/sessions/{first}"), &edit).await;
    assert_eq!(s, 404, "another municipality's session is not there for its nurse");
    let (s, _) = app.post(&elsewhere, &format!("/api/v1/classes/sessions/{first}/cancel"), &json!({})).await;
    assert_eq!(s, 404);

    // The programme's sessions; one edited; fewer places than taken refused; bad input beside its fields.
    let (s, list) = app.get(&nurse, &format!("/api/v1/classes/programmes/{}/sessions", p.id.0)).await;
    assert_eq!(s, 200, "{list}");
    let listed: Vec<i64> = list["sessions"].as_array().unwrap().iter().map(|s| s["id"].as_i64().unwrap()).collect();
    assert_eq!(listed, [first, later]);
    let (s, v) = put(
        &app,
        &nurse,
        &format!("/api/v1/classes/sessions/{first}"),
        &json!({"day": "2026-12-16", "starts": "13:30", "minutes": 90, "capacity": 1}),
    )
    .await;
    assert_eq!((s, v["error"]["code"].as_str()), (409, Some("capacity_below_taken")), "{v}");
    let (s, v) = put(
        &app,
        &nurse,
        &format!("/api/v1/classes/sessions/{first}"),
        &json!({"day": "2026-13-01", "starts": "25:00", "minutes": 5, "capacity": 0}),
    )
    .await;
    assert_eq!(s, 422, "{v}");
    let fields: Vec<&str> =
        v["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["day", "starts", "minutes", "capacity"]);
    let (s, v) = put(&app, &nurse, &format!("/api/v1/classes/sessions/{first}"), &edit).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (v["day"].as_str(), v["starts"].as_str(), v["capacity"].as_i64()),
        (Some("2026-12-16"), Some("13:30"), Some(4))
    );

    // Cancelled: every booking with it, each family told, the contact released; one line.
    let before = app.store.audit_lines(m, 0, 100_000).await.unwrap().len();
    let (s, v) = app.post(&nurse, &format!("/api/v1/classes/sessions/{first}/cancel"), &json!({})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["cancelled_bookings"].as_array().unwrap().len(), 2);
    let lines = app.store.audit_lines(m, 0, 100_000).await.unwrap();
    let written: Vec<&str> = lines[before..].iter().map(|l| l.action.as_str()).collect();
    assert_eq!(written, ["class.cancel"]);
    let (s, v) = app.post(&nurse, &format!("/api/v1/classes/sessions/{first}/cancel"), &json!({})).await;
    assert_eq!((s, v["error"]["code"].as_str()), (409, Some("session_cancelled")));
    let (_, mine) = app.get(&mother, "/api/v1/classes/bookings").await;
    let b = &mine["bookings"][0]["booking"];
    assert_eq!((b["status"].as_str(), b["notice_pending"].as_bool()), (Some("cancelled"), Some(true)), "{mine}");
    assert!(b["contact_id"].is_null(), "the owed contact is released: {mine}");
    let mut page = Visitor::new(&app);
    page.sign_in("mother", None).await;
    let mine_page = page.get("/classes/mine").await;
    assert!(mine_page.body.contains("この回は中止になりました"), "{}", mine_page.body);
    // The stage is free again: she books the other session, which settles the same owed contact.
    let (s, v) =
        app.post(&mother, "/api/v1/classes/bookings", &json!({"session_id": later, "idempotency_key": "m2"})).await;
    assert_eq!(s, 201, "{v}");
    assert!(v["booking"]["contact_id"].is_i64(), "{v}");
}

on_both! {
    staff_edit_and_cancel_sessions => story_staff_edit_and_cancel_sessions,
}
