//! A facility's record of a day of a stay (#10), over HTTP on both back
//! ends: the care given (the seed's kinds of care [001]), the mother's and
//! the baby's condition and a note, written for the family or the office;
//! a day that has not come is refused with the field named, nothing stored.

use crate::pages::Visitor;
use crate::privacy::family_with_a_stay;
use crate::support::*;
use serde_json::{json, Value};

fn field_error(e: &Value) -> (Option<&str>, Option<&str>) {
    let f = &e["error"]["fields"][0];
    (f["field"].as_str(), f["code"].as_str())
}

async fn story_a_day_is_recorded_once_it_has_come(backend: Backend) {
    let app = TestApp::start(backend).await;
    // The stay runs from today (2026-11-22) for three days.
    let f = family_with_a_stay(&app).await;
    let notes = format!("/api/v1/postpartum/applications/{}/notes", f.application);
    let used = format!("/api/v1/postpartum/applications/{}/used", f.application);
    let show = format!("/api/v1/postpartum/applications/{}", f.application);
    let count = |v: &Value| v["notes"].as_array().map_or(0, Vec::len);
    let before = count(&app.get(&f.nurse, &show).await.1);

    // Today: the structured record, for the family.
    let today = json!({"day": "2026-11-22", "care": ["feeding_advice", "mother_care", "feeding_advice"],
        "mother": "疲れ気味だが笑顔あり", "baby": "授乳8回、よく眠る", "audience": "family"});
    let (s, v) = app.post(&f.facility, &notes, &today).await;
    assert_eq!(s, 204, "{v}");
    // And one for the office.
    let office = json!({"day": "2026-11-22", "mother": "夜間の不眠の訴え", "note": "保健師へ連絡を検討"});
    assert_eq!(app.post(&f.facility, &notes, &office).await.0, 204);

    // Tomorrow has not come: refused, the day named, nothing stored; so is
    // marking it used.
    for body in [
        json!({"day": "2026-11-23", "care": ["baby_care"], "baby": "x"}),
        json!({"day": "2026-11-24", "note": "x", "audience": "family"}),
    ] {
        let (s, e) = app.post(&f.facility, &notes, &body).await;
        assert_eq!((s, field_error(&e)), (422, (Some("day"), Some("date_in_future"))), "{body}: {e}");
    }
    let (s, e) = app.post(&f.facility, &used, &json!({"day": "2026-11-23"})).await;
    assert_eq!((s, field_error(&e)), (422, (Some("day"), Some("date_in_future"))), "{e}");
    // A kind of care the seed does not name, and an empty record.
    let (s, e) = app.post(&f.facility, &notes, &json!({"day": "2026-11-22", "care": ["massage"]})).await;
    assert_eq!((s, field_error(&e)), (422, (Some("care"), Some("invalid_choice"))), "{e}");
    let (s, e) = app.post(&f.facility, &notes, &json!({"day": "2026-11-22", "mother": " "})).await;
    assert_eq!((s, field_error(&e)), (422, (Some("note"), Some("required"))), "{e}");
    let (_, v) = app.get(&f.nurse, &show).await;
    assert_eq!(count(&v), before + 2, "only the two records of today: {v}");

    // Staff read both, with their parts; the care once each, in the seed's order.
    let last = &v["notes"][before];
    assert_eq!(last["care"], json!(["mother_care", "feeding_advice"]));
    assert_eq!(
        (last["mother"].as_str(), last["baby"].as_str()),
        (Some("疲れ気味だが笑顔あり"), Some("授乳8回、よく眠る"))
    );
    assert_eq!(v["notes"][before + 1]["audience"], "office");
    // The mother reads the record written for her, never the office's.
    let (_, v) = app.get(&f.mother, &show).await;
    let text = v.to_string();
    assert!(
        text.contains("授乳8回、よく眠る") && !text.contains("夜間の不眠の訴え") && !text.contains("保健師へ連絡"),
        "{v}"
    );

    // On the page: the form offers the stay's days up to today, and a later
    // day typed in is refused in the reader's language.
    let mut facility = Visitor::new(&app);
    facility.sign_in("facility", Some(app.next_totp())).await;
    let page = facility.get(&format!("/postpartum/applications/{}", f.application)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"day-record-form\""), "{}", page.body);
    assert!(page.body.contains("max=\"2026-11-22\"") && page.body.contains("id=\"care-breast_self_care\""));
    assert!(page.body.contains("授乳相談") && page.body.contains("授乳8回、よく眠る"));
    let csrf = Visitor::csrf_in(&page.body);
    let path = format!("/postpartum/applications/{}/notes", f.application);
    let refused = facility
        .post(&path, &[("_csrf", &csrf), ("day", "2026-11-23"), ("care", "baby_care"), ("baby", "よく飲む")])
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("記録できるのは今日までの日です"), "{}", refused.body);
    let done = facility
        .post(
            &path,
            &[
                ("_csrf", &csrf),
                ("day", "2026-11-22"),
                ("care", "bathing_guidance"),
                ("care", "baby_care"),
                ("baby", "沐浴で泣かず"),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(count(&app.get(&f.nurse, &show).await.1), before + 3);

    // The next day, that day may be recorded.
    app.clock.advance(jiff::SignedDuration::from_hours(24));
    let facility_token = app.token(&app.fx.setagaya, "facility").await;
    let next = json!({"day": "2026-11-23", "care": ["mother_rest"], "mother": "よく休めた"});
    assert_eq!(app.post(&facility_token, &notes, &next).await.0, 204);
}

/// The facility's desk: its stays of today, the coming ones and the past
/// ones, and the month's places taken / places of its rooms (the centre's
/// 15 pairs a day [001]).
async fn story_a_facility_sees_its_stays_by_today_and_its_month(backend: Backend) {
    let app = TestApp::start(backend).await;
    // Approved 22–24 November (today is the 22nd); two more approved
    // stays: 27 November and 10–11 December.
    let f = family_with_a_stay(&app).await;
    let centre = app.fx.facility.id;
    for (first, days) in [("2026-11-27", 1), ("2026-12-10", 2)] {
        let body = crate::postpartum::application(None, centre, first, days, 2);
        let (s, v) = app.post(&f.mother, "/api/v1/postpartum/applications", &body).await;
        assert_eq!(s, 201, "{v}");
        let id = v["id"].as_i64().unwrap();
        let approve = format!("/api/v1/postpartum/applications/{id}/approve");
        assert_eq!(app.post(&f.nurse, &approve, &json!({})).await.0, 204);
    }
    // Five days on: the first stay is over, the second is today's.
    app.clock.advance(jiff::SignedDuration::from_hours(24 * 5));
    let mut facility = Visitor::new(&app);
    facility.sign_in("facility", Some(app.next_totp())).await;
    let page = facility.get("/postpartum").await;
    assert_eq!(page.status, 200);
    let b = &page.body;
    let section = |id: &str| {
        let start = b.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("{id}: {b}"));
        let end = start + b[start..].find("</section>").unwrap();
        b[start..end].to_owned()
    };
    let (today, upcoming, past) = (section("stays-today"), section("stays-upcoming"), section("stays-past"));
    assert!(today.contains("11月27日(金)") && today.matches("class=\"application stay\"").count() == 1, "{today}");
    assert!(upcoming.contains("12月10日(木)") && upcoming.matches("class=\"application stay\"").count() == 1);
    assert!(past.contains("11月22日(日)") && past.matches("class=\"application stay\"").count() == 1, "{past}");
    // November: three days taken by the first stay, one by the second, of 15 places each.
    let calendar = section("places-calendar");
    assert!(calendar.contains("令和8年11月"), "{calendar}");
    for (day, shown) in [("2026-11-22", "1/15"), ("2026-11-24", "1/15"), ("2026-11-25", "0/15"), ("2026-11-27", "1/15")]
    {
        let at = calendar.find(&format!("id=\"day-{day}\"")).unwrap_or_else(|| panic!("{day}"));
        assert!(calendar[at..at + 200].contains(shown), "{day}: {}", &calendar[at..at + 200]);
    }
    // The next month, and a month that does not read.
    let december = facility.get("/postpartum?month=2026-12").await;
    assert!(december.body.contains("令和8年12月"));
    let at = december.body.find("id=\"day-2026-12-11\"").unwrap();
    assert!(december.body[at..at + 200].contains("1/15"));
    assert_eq!(facility.get("/postpartum?month=2026-13").await.status, 400);
    // The nurse's list stays the review list (no desk).
    let mut nurse = Visitor::new(&app);
    nurse.sign_in("nurse", Some(app.next_totp())).await;
    let list = nurse.get("/postpartum?status=all").await;
    assert!(!list.body.contains("id=\"places-calendar\"") && list.body.contains("id=\"applications\""));
}

on_both!(
    a_day_is_recorded_once_it_has_come => story_a_day_is_recorded_once_it_has_come,
    a_facility_sees_its_stays_by_today_and_its_month => story_a_facility_sees_its_stays_by_today_and_its_month,
);
