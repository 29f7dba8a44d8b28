//! Postpartum care end to end: the public quote, applying, review,
//! capacity, the facility's view and the yearly figures.

use crate::support::*;
use serde_json::{json, Value};
use tsunagu_domain::postpartum::calendar::FacilityCalendar;
use tsunagu_domain::roles::Role;
use tsunagu_domain::FamilyId;

async fn quote(app: &TestApp, body: Value) -> (u16, Value) {
    let r = app.http.post(app.url("/api/v1/postpartum/quote")).json(&body).send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_published_examples_come_out_exactly_without_signing_in() {
    let app = TestApp::start(Backend::Sqlite).await;
    for (bracket, service, days, babies, siblings, total) in [
        ("taxed", "short_stay", 7, 1, 0, 31_500),
        ("non_taxed", "short_stay", 7, 1, 0, 10_500),
        ("taxed", "short_stay", 3, 2, 0, 15_000),
        ("non_taxed", "short_stay", 3, 1, 1, 7_200),
        ("public_assistance", "day_care", 3, 2, 1, 0),
    ] {
        let (s, v) = quote(
            &app,
            json!({"bracket": bracket, "service": service, "days": days, "babies": babies, "siblings": siblings}),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["total_yen"], total, "{bracket} {service} {days} {babies} {siblings}: {v}");
        let sum: u64 = v["lines"].as_array().unwrap().iter().map(|l| l["amount_yen"].as_u64().unwrap()).sum();
        assert_eq!(sum, total);
    }
    let (_, v) = quote(&app, json!({"bracket": "taxed", "service": "short_stay", "days": 3, "babies": 2})).await;
    let lines: Vec<(&str, u64, u64)> = v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["component"].as_str().unwrap(), l["unit_yen"].as_u64().unwrap(), l["quantity"].as_u64().unwrap()))
        .collect();
    assert_eq!(lines, vec![("mother_and_baby", 4500, 3), ("extra_baby", 500, 3)]);
    let (s, v) = quote(&app, json!({"bracket": "taxed", "service": "outreach", "days": 1, "babies": 2})).await;
    assert_eq!((s, v["total_yen"].as_u64()), (200, Some(2200)));
    for (body, code) in [
        (json!({"bracket": "taxed", "service": "short_stay", "days": 0, "babies": 1}), "days_out_of_range"),
        (json!({"bracket": "taxed", "service": "short_stay", "days": 3, "babies": 0}), "babies_out_of_range"),
        (
            json!({"bracket": "taxed", "service": "short_stay", "days": 3, "babies": 1, "siblings": 2}),
            "too_many_siblings",
        ),
        (json!({"bracket": "rich", "service": "short_stay", "days": 3, "babies": 1}), "unknown_bracket"),
        (json!({"bracket": "non_taxed", "service": "outreach", "days": 1, "babies": 1}), "not_configured"),
    ] {
        let (s, v) = quote(&app, body.clone()).await;
        assert_eq!((s, v["error"]["code"].as_str()), (400, Some(code)), "{body}");
    }
}

/// A Setagaya fixture with the three published facilities configured.
async fn with_facilities(app: &TestApp) -> Vec<tsunagu_domain::VenueId> {
    let fx = &app.fx;
    let m = fx.setagaya.id;
    let mut ids = vec![fx.facility.id];
    app.store
        .set_postpartum_facility(
            m,
            fx.facility.id,
            "公益財団法人日本助産師会",
            "Midwives' association",
            &FacilityCalendar::setagaya_centre(),
        )
        .await
        .unwrap();
    for (ja, en, cal) in [
        ("ママズルーム", "Mama's Room", FacilityCalendar::setagaya_mamas_room()),
        ("至誠会第二病院", "Shiseikai", FacilityCalendar::setagaya_shiseikai()),
    ] {
        let v = app
            .store
            .create_venue(&tsunagu_store::NewVenue {
                municipality_id: m,
                area_id: None,
                kind: tsunagu_domain::places::VenueKind::PostpartumFacility,
                name_ja: ja.into(),
                name_en: en.into(),
            })
            .await
            .unwrap();
        app.store.set_postpartum_facility(m, v.id, ja, en, &cal).await.unwrap();
        ids.push(v.id);
    }
    ids
}

/// A family with twins born ten days before "today" (2026-11-22).
async fn twins_family(app: &TestApp, nurse: &str) -> FamilyId {
    let mut body = notification(app.fx.setagaya_area.id, "ふたご", "まま", "2026-11-20");
    body["foetuses"] = json!(2);
    body["notified_on"] = json!("2026-05-01");
    let family = app.register(nurse, &body).await;
    let (_, rec) = app.get(nurse, &format!("/api/v1/families/{}", family.0)).await;
    let p = rec["pregnancies"][0]["id"].as_i64().unwrap();
    let baby = json!({"birth_date": "2026-11-12", "sex": "female", "gestational_weeks": 38, "birth_weight_g": 2600});
    let (s, v) = app
        .post(nurse, &format!("/api/v1/families/{}/pregnancies/{p}/births", family.0), &json!({"babies": [baby, baby]}))
        .await;
    assert_eq!(s, 201, "{v}");
    family
}

fn application(
    family: Option<FamilyId>,
    venue: tsunagu_domain::VenueId,
    first_day: &str,
    days: u32,
    babies: u8,
) -> Value {
    json!({
        "family_id": family.map(|f| f.0),
        "venue_id": venue.0,
        "service": "short_stay",
        "first_day": first_day,
        "days": days,
        "babies": babies,
        "answers": {"has_worries_or_fatigue": true, "lacks_help_from_relatives": true, "grandparents_nearby": true}
    })
}

async fn story_apply_review_and_stay(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    let facilities = with_facilities(&app).await;
    let centre = facilities[0];
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    app.account(&fx.setagaya, "facility", Role::FacilityStaff, Scope::Venues(vec![centre])).await;
    app.account(&fx.setagaya, "other_facility", Role::FacilityStaff, Scope::Venues(vec![facilities[2]])).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let family = twins_family(&app, &nurse).await;
    app.account(&fx.setagaya, "mother", Role::FamilyMember, Scope::Family(family)).await;
    let mother = {
        let r = app
            .http
            .post(app.url("/api/v1/auth/token"))
            .json(&json!({"municipality": "131121", "username": "mother", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
    };
    // The family sees the quote and eligibility before applying; nothing is stored by a preview.
    let (s, v) = app
        .post(&mother, "/api/v1/postpartum/applications/preview", &application(None, centre, "2026-12-01", 3, 2))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["quote"]["total_yen"], 15_000);
    assert_eq!(v["eligible"], true, "grandparents nearby never refuses: {v}");
    // Past the 4-month limit (born 12 Nov: last day 11 Mar) the family is refused with the reason.
    let (s, v) =
        app.post(&mother, "/api/v1/postpartum/applications", &application(None, centre, "2027-03-10", 3, 2)).await;
    assert_eq!((s, v["error"]["code"].as_str()), (409, Some("not_eligible")), "{v}");
    let (s, v) = app
        .post(&mother, "/api/v1/postpartum/applications/preview", &application(None, centre, "2027-03-10", 3, 2))
        .await;
    assert_eq!(s, 200);
    assert!(v["refusals"].as_array().unwrap().iter().any(|r| r == "baby_too_old"), "{v}");
    // Mama's Room offers no short stay.
    let (s, v) = app
        .post(&mother, "/api/v1/postpartum/applications", &application(None, facilities[1], "2026-12-01", 3, 2))
        .await;
    assert_eq!((s, v["error"]["fields"][0]["code"].as_str()), (422, Some("not_offered")));
    let (s, v) =
        app.post(&mother, "/api/v1/postpartum/applications", &application(None, centre, "2026-12-01", 3, 2)).await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_i64().unwrap();
    // The facility sees it; another facility does not; the nurse approves.
    let facility = app.token(&fx.setagaya, "facility").await;
    let (_, list) = app.get(&facility, "/api/v1/postpartum/applications").await;
    assert_eq!(list["applications"].as_array().unwrap().len(), 1);
    assert_eq!(list["applications"][0]["mother_name"], "山田 花子");
    let other = app.token(&fx.setagaya, "other_facility").await;
    assert_eq!(app.get(&other, &format!("/api/v1/postpartum/applications/{id}")).await.0, 403);
    assert_eq!(app.post(&facility, &format!("/api/v1/postpartum/applications/{id}/approve"), &json!({})).await.0, 403);
    assert_eq!(
        app.post(&nurse, &format!("/api/v1/postpartum/applications/{id}/approve"), &json!({"note": "ok"})).await.0,
        204
    );
    assert_eq!(app.post(&nurse, &format!("/api/v1/postpartum/applications/{id}/approve"), &json!({})).await.0, 409);
    // The facility staff now may open the family and record the days.
    assert_eq!(app.get(&facility, &format!("/api/v1/families/{}", family.0)).await.0, 200);
    let (s, _) = app
        .post(
            &facility,
            &format!("/api/v1/postpartum/applications/{id}/notes"),
            &json!({"day": "2026-12-02", "note": "授乳良好"}),
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = app
        .post(
            &facility,
            &format!("/api/v1/postpartum/applications/{id}/notes"),
            &json!({"day": "2026-12-09", "note": "x"}),
        )
        .await;
    assert_eq!(s, 422, "a day outside the stay");
    let (_, v) = app.get(&mother, &format!("/api/v1/postpartum/applications/{id}")).await;
    assert_eq!(v["application"]["status"], "approved");
    assert_eq!(v["notes"][0]["note"], "授乳良好");
    // Figures of FY2026: 3 short-stay days, one family, in its area.
    let (s, v) = app.get(&nurse, "/api/v1/postpartum/figures?fy=2026").await;
    assert_eq!(s, 200, "{v}");
    let centre_row = v["facilities"].as_array().unwrap().iter().find(|f| f["venue_id"] == centre.0).unwrap().clone();
    assert_eq!((centre_row["short_stay_days"].as_u64(), centre_row["families"].as_u64()), (Some(3), Some(1)));
    assert_eq!(v["users_by_area"], json!([[fx.setagaya_area.id.0, 1]]));
    assert_eq!(v["label_ja"], "令和8年度");
    // The family cancels; the places are free again.
    assert_eq!(app.post(&mother, &format!("/api/v1/postpartum/applications/{id}/cancel"), &json!({})).await.0, 204);
    let (_, v) = app.get(&nurse, "/api/v1/postpartum/figures?fy=2026").await;
    let centre_row = v["facilities"].as_array().unwrap().iter().find(|f| f["venue_id"] == centre.0).unwrap().clone();
    assert_eq!(centre_row["short_stay_days"].as_u64(), Some(0));
}

async fn story_the_last_places_go_to_one_applicant(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    let facilities = with_facilities(&app).await;
    let hospital = facilities[2]; // about 2 pairs a day, every day
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let mut ids = vec![];
    for i in 0..6 {
        let mut body =
            notification(fx.setagaya_area.id, "きょうそう", ["あ", "い", "う", "え", "お", "か"][i], "2026-11-20");
        body["notified_on"] = json!("2026-05-01");
        let family = app.register(&nurse, &body).await;
        let (_, rec) = app.get(&nurse, &format!("/api/v1/families/{}", family.0)).await;
        let p = rec["pregnancies"][0]["id"].as_i64().unwrap();
        let baby = json!({"birth_date": "2026-11-15", "sex": "male", "gestational_weeks": 39});
        app.post(&nurse, &format!("/api/v1/families/{}/pregnancies/{p}/births", family.0), &json!({"babies": [baby]}))
            .await;
        // Overlapping stays: 1–3 Dec, 2–4 Dec, …
        let first = format!("2026-12-0{}", 1 + i % 3);
        let (s, v) = app
            .post(&nurse, "/api/v1/postpartum/applications", &application(Some(family), hospital, &first, 3, 1))
            .await;
        assert_eq!(s, 201, "{v}");
        ids.push(v["id"].as_i64().unwrap());
    }
    // Everyone approves at once.
    let mut tasks = vec![];
    for id in ids {
        let (http, url, token) =
            (app.http.clone(), app.url(&format!("/api/v1/postpartum/applications/{id}/approve")), nurse.clone());
        tasks.push(tokio::spawn(async move {
            http.post(url).bearer_auth(token).json(&json!({})).send().await.unwrap().status().as_u16()
        }));
    }
    let mut approved = 0;
    for t in tasks {
        match t.await.unwrap() {
            204 => approved += 1,
            409 => {}
            other => panic!("unexpected {other}"),
        }
    }
    let places = app
        .store
        .places_taken(
            fx.setagaya.id,
            hospital,
            0,
            tsunagu_domain::dates::DateRange::starting("2026-11-28".parse().unwrap(), 14).unwrap(),
        )
        .await
        .unwrap();
    assert!(places.iter().all(|(_, taken)| *taken <= 2), "{places:?}");
    // Every stay covers 3 December, which has two places: exactly two fit.
    assert_eq!(approved, 2);
    let booked: u32 = places.iter().map(|(_, t)| t).sum();
    assert_eq!(booked, approved * 3, "every approved stay holds exactly its three days");
}

on_both!(
    apply_review_and_stay => story_apply_review_and_stay,
    the_last_places_go_to_one_applicant => story_the_last_places_go_to_one_applicant,
);
