//! Classes and programmes end to end on both back ends [000][002][004]:
//! offers with their reasons, refusals in the caller's language, a staff
//! override (audited), an idempotent retry, the waiting list's promotion,
//! rosters by venue, attendance closing the owed contact, the .ics read
//! back by an independent iCalendar parser.

use crate::pages::Visitor;
use crate::support::*;
use jiff::civil::{date, Time};
use serde_json::{json, Value};
use tsunagu_domain::classes::{ProgrammeConfig, ProgrammeKind};
use tsunagu_domain::places::VenueKind;
use tsunagu_domain::roles::Role;
use tsunagu_domain::{ClassSessionId, FamilyId, VenueId};
use tsunagu_store::{NewSession, NewVenue};

async fn hall(app: &TestApp, name: &str) -> VenueId {
    app.store
        .create_venue(&NewVenue {
            municipality_id: app.fx.setagaya.id,
            area_id: Some(app.fx.setagaya_area.id),
            kind: VenueKind::ChildrensHall,
            name_ja: name.into(),
            name_en: "Hall".into(),
        })
        .await
        .unwrap()
        .id
}

/// Self-care sessions at `venue` on each day, `places` each.
async fn sessions(app: &TestApp, venue: VenueId, days: &[(i16, i8, i8, u32)]) -> Vec<ClassSessionId> {
    let m = app.fx.setagaya.id;
    let p = app.store.create_programme(m, &ProgrammeConfig::seed_default(ProgrammeKind::SelfCare)).await.unwrap();
    let list: Vec<NewSession> = days
        .iter()
        .map(|(y, mo, d, places)| NewSession {
            venue_id: venue,
            day: date(*y, *mo, *d),
            starts: Time::constant(10, 0, 0, 0),
            minutes: 120,
            capacity: *places,
        })
        .collect();
    app.store.create_class_sessions(m, p.id, &list).await.unwrap()
}

async fn family_token(app: &TestApp, username: &str, family: FamilyId) -> String {
    app.account(&app.fx.setagaya, username, Role::FamilyMember, Scope::Family(family)).await;
    let r = app
        .http
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"municipality": "131121", "username": username, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
}

fn offer(v: &Value, session: ClassSessionId) -> &Value {
    v["offers"].as_array().unwrap().iter().find(|o| o["session"]["id"] == session.0).expect("offered")
}

fn book(session: ClassSessionId, key: &str) -> Value {
    json!({"session_id": session.0, "idempotency_key": key})
}

async fn story_book_refuse_override_wait_and_attend(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    let v = hall(&app, "北沢児童館").await;
    let other = hall(&app, "代沢児童館").await;
    // EDD 2027-05-20: week 16 from 2026-12-03. Today is 2026-11-22.
    let ids = sessions(&app, v, &[(2026, 11, 30, 5), (2026, 12, 15, 1), (2027, 1, 19, 5)]).await;
    let (early, one_place, later) = (ids[0], ids[1], ids[2]);
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    app.account(&fx.setagaya, "hall", Role::ProgrammeStaff, Scope::Venues(vec![v])).await;
    app.account(&fx.setagaya, "elsewhere", Role::ProgrammeStaff, Scope::Venues(vec![other])).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let staff = app.token(&fx.setagaya, "hall").await;
    let elsewhere = app.token(&fx.setagaya, "elsewhere").await;
    let area = fx.setagaya_area.id;
    let f1 = app.register(&nurse, &notification(area, "あおき", "はな", "2027-05-20")).await;
    let f2 = app.register(&nurse, &notification(area, "いのうえ", "はな", "2027-05-20")).await;
    let f3 = app.register(&nurse, &notification(area, "うえだ", "はな", "2027-05-20")).await;
    let mother = family_token(&app, "mother1", f1).await;
    let mother3 = family_token(&app, "mother3", f3).await;

    // The family sees what it can book, and why not the others.
    let (s, offers) = app.get(&mother, "/api/v1/classes/offers").await;
    assert_eq!(s, 200, "{offers}");
    let o = offer(&offers, early);
    assert_eq!((o["bookable"].as_bool(), o["reason"].as_str()), (Some(false), Some("too_early_in_pregnancy")));
    assert_eq!(o["overridable"], true);
    assert_eq!(offer(&offers, one_place)["bookable"], true);
    assert_eq!(offer(&offers, one_place)["stage"], "prenatal");
    // Refused with the reason, in the caller's language.
    let resp = app
        .http
        .post(app.url("/api/v1/classes/bookings"))
        .bearer_auth(&mother)
        .header("accept-language", "ja")
        .json(&book(early, "m1-early"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 409);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "ineligible_too_early_in_pregnancy");
    assert!(body["error"]["message"].as_str().unwrap().contains("16週"), "{body}");

    // Booked once, whatever the retries.
    let (s, made) = app.post(&mother, "/api/v1/classes/bookings", &book(one_place, "m1-one")).await;
    assert_eq!(s, 201, "{made}");
    assert_eq!(made["booking"]["status"], "confirmed");
    let (s, again) = app.post(&mother, "/api/v1/classes/bookings", &book(one_place, "m1-one")).await;
    assert_eq!((s, again["replayed"].as_bool()), (200, Some(true)), "{again}");
    assert_eq!(again["booking"]["id"], made["booking"]["id"]);
    // A second prenatal class: refused with the reason, no override for a family.
    let (s, v2) = app.post(&mother, "/api/v1/classes/bookings", &book(later, "m1-later")).await;
    assert_eq!((s, v2["error"]["code"].as_str()), (409, Some("ineligible_stage_already_taken")), "{v2}");
    let mut with_reason = book(later, "m1-later2");
    with_reason["override_reason"] = json!("お願い");
    let (s, _) = app.post(&mother, "/api/v1/classes/bookings", &with_reason).await;
    assert_eq!(s, 409, "the once-per-stage rule is never overridden");

    // The nurse overrides week 16 for another family, with a reason that is audited.
    let mut over = book(early, "n-f2-early");
    over["family_id"] = json!(f2.0);
    let (s, v2) = app.post(&nurse, "/api/v1/classes/bookings", &over).await;
    assert_eq!((s, v2["error"]["code"].as_str()), (409, Some("ineligible_too_early_in_pregnancy")));
    over["override_reason"] = json!("主治医から安定期と確認");
    let (s, v2) = app.post(&nurse, "/api/v1/classes/bookings", &over).await;
    assert_eq!(s, 201, "{v2}");
    assert_eq!(v2["booking"]["override_rule"], "too_early_in_pregnancy");
    let lines = app.store.audit_lines(fx.setagaya.id, 0, 10_000).await.unwrap();
    assert!(lines.iter().any(|l| l.action == "class.override" && l.family_id == Some(f2)));
    // A family may not book for another.
    let mut not_mine = book(later, "m1-f2");
    not_mine["family_id"] = json!(f2.0);
    assert_eq!(app.post(&mother, "/api/v1/classes/bookings", &not_mine).await.0, 403);

    // Full: the next family waits; a cancellation promotes it, with a notice.
    let (s, w) = app.post(&mother3, "/api/v1/classes/bookings", &book(one_place, "m3-one")).await;
    assert_eq!((s, w["booking"]["status"].as_str()), (201, Some("waiting")), "{w}");
    let b1 = made["booking"]["id"].as_i64().unwrap();
    let (s, c) = app.post(&mother, &format!("/api/v1/classes/bookings/{b1}/cancel"), &json!({})).await;
    assert_eq!((s, c["status"].as_str()), (200, Some("cancelled")), "{c}");
    let (_, mine) = app.get(&mother3, "/api/v1/classes/bookings").await;
    let b3 = &mine["bookings"][0]["booking"];
    assert_eq!((b3["status"].as_str(), b3["notice_pending"].as_bool()), (Some("confirmed"), Some(true)), "{mine}");
    assert!(b3["contact_id"].is_i64(), "linked to the owed contact: {b3}");

    // Rosters by venue; attendance closes the contact on the timeline.
    let roster_path = format!("/api/v1/classes/sessions/{}/roster", one_place.0);
    assert_eq!(app.get(&elsewhere, &roster_path).await.0, 403);
    let (s, roster) = app.get(&staff, &roster_path).await;
    assert_eq!(s, 200, "{roster}");
    let lines = roster["roster"].as_array().unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["name"], "山田 花子");
    let marks = json!({"marks": [{"booking_id": b3["id"], "attended": true}]});
    let attendance = format!("/api/v1/classes/sessions/{}/attendance", one_place.0);
    assert_eq!(app.post(&elsewhere, &attendance, &marks).await.0, 403);
    assert_eq!(app.post(&staff, &attendance, &marks).await.0, 204);
    let (_, contacts) = app.get(&nurse, &format!("/api/v1/families/{}/contacts", f3.0)).await;
    let done = contacts["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "prenatal_self_care_class")
        .unwrap()
        .clone();
    assert_eq!(done["outcome"]["outcome"], "done", "{done}");
    // The staff of the hall may now open the family (booked at their venue).
    assert_eq!(app.get(&staff, &format!("/api/v1/families/{}", f3.0)).await.0, 200);
    assert_eq!(app.get(&elsewhere, &format!("/api/v1/families/{}", f3.0)).await.0, 403);
}

/// The family's calendar file, read back by an independent parser (the
/// `ical` crate): the booked class in Japan's time zone, in Japanese.
async fn story_the_ics_reads_back(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    let v = hall(&app, "北沢児童館, 世田谷区; 2階").await;
    let ids = sessions(&app, v, &[(2026, 12, 15, 5)]).await;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let f = app.register(&nurse, &notification(fx.setagaya_area.id, "あおき", "はな", "2027-05-20")).await;
    let mother = family_token(&app, "mother", f).await;
    assert_eq!(app.post(&mother, "/api/v1/classes/bookings", &book(ids[0], "k")).await.0, 201);
    let mut visitor = Visitor::new(&app);
    visitor.sign_in("mother", None).await;
    let page = visitor.get("/classes/mine.ics").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("\r\n") && page.body.split("\r\n").all(|l| l.len() <= 75));
    let mut calendars = ical::IcalParser::new(std::io::BufReader::new(page.body.as_bytes()));
    let cal = calendars.next().expect("a calendar").expect("parses");
    assert_eq!(cal.timezones.len(), 1);
    assert_eq!(cal.events.len(), 1);
    let prop = |name: &str| cal.events[0].properties.iter().find(|p| p.name == name).cloned().expect(name);
    let start = prop("DTSTART");
    assert_eq!(start.value.as_deref(), Some("20261215T100000"));
    let tzid = start.params.unwrap().into_iter().find(|(k, _)| k == "TZID").unwrap().1;
    assert_eq!(tzid, ["Asia/Tokyo"]);
    let summary = prop("SUMMARY").value.unwrap();
    assert!(summary.starts_with("産前・産後のセルフケア講座"), "{summary}");
    assert_eq!(prop("LOCATION").value.as_deref(), Some("北沢児童館\\, 世田谷区\\; 2階"));
    // The family's page offers the file, and another family's is its own.
    let mine = visitor.get("/classes/mine").await;
    assert!(mine.body.contains("/classes/mine.ics"));
}

/// The nurse books for a family on the pages: the same offers and reasons
/// the family sees, and a field for her reason where the rule allows an
/// override; the booking is made and its override audited.
async fn story_staff_override_on_the_pages(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    let v = hall(&app, "北沢児童館").await;
    let ids = sessions(&app, v, &[(2026, 11, 30, 5)]).await;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let f = app.register(&nurse, &notification(fx.setagaya_area.id, "あおき", "はな", "2027-05-20")).await;
    let mut visitor = Visitor::new(&app);
    visitor.sign_in("nurse", Some(app.next_totp())).await;
    let page = visitor.get(&format!("/classes?family={}", f.0)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("妊娠16週"), "the reason, as the family reads it");
    assert!(page.body.contains("name=\"override_reason\""), "a field for the nurse's reason");
    let csrf = Visitor::csrf_in(&page.body);
    let (session, family) = (ids[0].0.to_string(), f.0.to_string());
    let form = [
        ("_csrf", csrf.as_str()),
        ("session_id", session.as_str()),
        ("idempotency_key", "page-override"),
        ("family_id", family.as_str()),
        ("share_name", "on"),
        ("override_reason", "主治医の判断"),
    ];
    let done = visitor.post("/classes/book", &form).await;
    assert_eq!(done.location.as_deref(), Some(format!("/classes?family={}&done=booked", f.0).as_str()));
    let lines = app.store.audit_lines(fx.setagaya.id, 0, 10_000).await.unwrap();
    assert!(lines.iter().any(|l| l.action == "class.override" && l.family_id == Some(f)));
    let (_, list) = app.get(&nurse, &format!("/api/v1/classes/bookings?family={}", f.0)).await;
    assert_eq!(list["bookings"][0]["booking"]["override_rule"], "too_early_in_pregnancy");
}

on_both! {
    staff_override_on_the_pages => story_staff_override_on_the_pages,
    book_refuse_override_wait_and_attend => story_book_refuse_override_wait_and_attend,
    the_ics_reads_back => story_the_ics_reads_back,
}
