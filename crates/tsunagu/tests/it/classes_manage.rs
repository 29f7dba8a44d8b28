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
use tsunagu_domain::ClassSessionId;
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

/// The same through the staff's pages (#12 stage 3): the programme's list
/// with places taken and capacity, the edit form refusing bad input beside
/// its fields (422, nothing stored) and fewer places than taken beside the
/// places, a new time that the booked mother is told of on her page, and
/// the red second step that cancels. A hall's programme staff are refused
/// the pages; they still see their own sessions' rosters, not another hall's.
async fn story_staff_pages_edit_and_cancel(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    let m = fx.setagaya.id;
    let hall = |name: &'static str| NewVenue {
        municipality_id: m,
        area_id: Some(fx.setagaya_area.id),
        kind: VenueKind::ChildrensHall,
        name_ja: name.into(),
        name_en: "A hall".into(),
    };
    let kitazawa = app.store.create_venue(&hall("北沢児童館")).await.unwrap().id;
    let daita = app.store.create_venue(&hall("代田児童館")).await.unwrap().id;
    let p = app.store.create_programme(m, &ProgrammeConfig::seed_default(ProgrammeKind::SelfCare)).await.unwrap();
    let at = |venue, d| NewSession {
        venue_id: venue,
        day: date(2026, 12, d),
        starts: Time::constant(10, 0, 0, 0),
        minutes: 120,
        capacity: 2,
    };
    let ids =
        app.store.create_class_sessions(m, p.id, &[at(kitazawa, 15), at(kitazawa, 17), at(daita, 18)]).await.unwrap();
    let (moved, cancelled, other_hall) = (ids[0].0, ids[1].0, ids[2].0);
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    app.account(&fx.setagaya, "hall", Role::ProgrammeStaff, Scope::Venues(vec![kitazawa])).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let staff = app.token(&fx.setagaya, "hall").await;
    let f1 = app.register(&nurse, &notification(fx.setagaya_area.id, "あおき", "はな", "2027-05-20")).await;
    let f2 = app.register(&nurse, &notification(fx.setagaya_area.id, "いのうえ", "はな", "2027-05-20")).await;
    app.account(&fx.setagaya, "mother", Role::FamilyMember, Scope::Family(f1)).await;
    let mother = mother_token(&app, "mother").await;
    let (s, v) =
        app.post(&mother, "/api/v1/classes/bookings", &json!({"session_id": moved, "idempotency_key": "m1"})).await;
    assert_eq!(s, 201, "{v}");
    let f3 = app.register(&nurse, &notification(fx.setagaya_area.id, "うえだ", "はな", "2027-05-20")).await;
    for (session, family, key) in [(moved, f2, "n2"), (cancelled, f3, "n3")] {
        let (s, v) = app
            .post(
                &nurse,
                "/api/v1/classes/bookings",
                &json!({"session_id": session, "family_id": family.0, "idempotency_key": key}),
            )
            .await;
        assert_eq!(s, 201, "{v}");
    }

    // Programme staff: their own sessions' rosters only; not the staff pages.
    let (s, _) = app.get(&staff, &format!("/api/v1/classes/sessions/{moved}/roster")).await;
    assert_eq!(s, 200, "a hall's staff see their own session's roster");
    let (s, _) = app.get(&staff, &format!("/api/v1/classes/sessions/{other_hall}/roster")).await;
    assert_eq!(s, 403, "not another hall's");
    let mut hall_page = Visitor::new(&app);
    hall_page.sign_in("hall", Some(app.next_totp())).await;
    assert_eq!(hall_page.get("/classes/manage").await.status, 403);
    assert_eq!(hall_page.get(&format!("/classes/sessions/{moved}/edit")).await.status, 403);

    let mut page = Visitor::new(&app);
    page.sign_in("nurse", Some(app.next_totp())).await;
    let staff_list = page.get("/classes").await;
    assert!(staff_list.body.contains("href=\"/classes/manage\""), "{}", staff_list.body);
    let list = page.get(&format!("/classes/manage?programme={}&venue={}", p.id.0, kitazawa.0)).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(
        list.body.contains(&format!("id=\"managed-{moved}\""))
            && list.body.contains(&format!("id=\"managed-{cancelled}\""))
    );
    assert!(!list.body.contains(&format!("id=\"managed-{other_hall}\"")), "one venue's sessions");
    assert!(list.body.contains("令和8年12月15日"), "days in Japanese");

    // Bad input: every field's error beside it, in Japanese; nothing stored.
    let form = page.get(&format!("/classes/sessions/{moved}/edit")).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = Visitor::csrf_in(&form.body);
    let bad = page
        .post(
            &format!("/classes/sessions/{moved}/edit"),
            &[("_csrf", &csrf), ("day", "2026-13-01"), ("starts", "25:00"), ("minutes", "5"), ("capacity", "x")],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    for field in ["day", "starts", "minutes", "capacity"] {
        assert!(bad.body.contains(&format!("id=\"err-{field}\"")), "{field}: {}", bad.body);
    }
    assert!(bad.body.contains("時刻を HH:MM の形で入力してください"), "{}", bad.body);
    // Two places are taken: one place is refused beside the places.
    let below = page
        .post(
            &format!("/classes/sessions/{moved}/edit"),
            &[("_csrf", &csrf), ("day", "2026-12-15"), ("starts", "10:00"), ("minutes", "120"), ("capacity", "1")],
        )
        .await;
    assert_eq!(below.status, 422, "{}", below.body);
    assert!(below.body.contains("id=\"err-capacity\"") && below.body.contains("定員を予約数より少なくはできません"));
    let s = app.store.class_session(m, ClassSessionId(moved)).await.unwrap().unwrap();
    assert_eq!((s.day, s.capacity), (date(2026, 12, 15), 2), "nothing stored by the refused edits");

    // A new time: saved; the booked mother is told on her page.
    let saved = page
        .post(
            &format!("/classes/sessions/{moved}/edit"),
            &[("_csrf", &csrf), ("day", "2026-12-16"), ("starts", "13:30"), ("minutes", "90"), ("capacity", "4")],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(saved.location.as_deref(), Some(format!("/classes/manage?programme={}&done=saved", p.id.0).as_str()));
    let s = app.store.class_session(m, ClassSessionId(moved)).await.unwrap().unwrap();
    assert_eq!((s.day, s.starts, s.minutes, s.capacity), (date(2026, 12, 16), Time::constant(13, 30, 0, 0), 90, 4));
    // A venue of another municipality: beside the venue, nothing stored; a hall of ours: moved there.
    let edit = |venue: String| {
        vec![
            ("_csrf", csrf.clone()),
            ("day", "2026-12-16".to_owned()),
            ("starts", "13:30".to_owned()),
            ("minutes", "90".to_owned()),
            ("capacity", "4".to_owned()),
            ("venue_id", venue),
        ]
    };
    for (venue, status) in [("999999".to_owned(), 422), ("x".to_owned(), 422), (daita.0.to_string(), 303)] {
        let f = edit(venue);
        let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let answer = page.post(&format!("/classes/sessions/{moved}/edit"), &refs).await;
        assert_eq!(answer.status, status, "{}", answer.body);
        if status == 422 {
            assert!(answer.body.contains("id=\"err-venue_id\""), "{}", answer.body);
        }
    }
    let s = app.store.class_session(m, ClassSessionId(moved)).await.unwrap().unwrap();
    assert_eq!(s.venue_id, daita, "moved to the other hall");

    // Cancelled through the red second step: one line; the family told.
    let form = page.get(&format!("/classes/sessions/{cancelled}/edit")).await;
    assert!(form.body.contains("<details class=\"confirm danger\" id=\"cancel-step\">"), "{}", form.body);
    let before = app.store.audit_lines(m, 0, 100_000).await.unwrap().len();
    let done = page.post(&format!("/classes/sessions/{cancelled}/cancel"), &[("_csrf", &csrf)]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let lines = app.store.audit_lines(m, 0, 100_000).await.unwrap();
    let written: Vec<&str> = lines[before..].iter().map(|l| l.action.as_str()).collect();
    assert_eq!(written, ["class.cancel"]);
    let list = page.get(done.location.as_deref().unwrap()).await;
    assert!(list.body.contains("回を中止しました"), "{}", list.body);
    assert!(!list.body.contains(&format!("/classes/sessions/{cancelled}/edit")), "a cancelled session is not edited");

    let mut her = Visitor::new(&app);
    her.sign_in("mother", None).await;
    let mine = her.get("/classes/mine").await;
    assert!(mine.body.contains("この回の日時または会場が変わりました"), "{}", mine.body);
    assert!(mine.body.contains("代田児童館"), "the new venue on her page: {}", mine.body);
    assert!(mine.body.contains("令和8年12月16日"), "{}", mine.body);
}

on_both! {
    staff_edit_and_cancel_sessions => story_staff_edit_and_cancel_sessions,
    staff_pages_edit_and_cancel => story_staff_pages_edit_and_cancel,
}
