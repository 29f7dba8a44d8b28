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
    ] {
        let (s, v) = quote(&app, body.clone()).await;
        assert_eq!((s, v["error"]["code"].as_str()), (400, Some(code)), "{body}");
    }
    // [001] sets no maximum stay: 8 days price (no 7-day refusal).
    let (s, v) = quote(&app, json!({"bracket": "taxed", "service": "short_stay", "days": 8, "babies": 1})).await;
    assert_eq!((s, v["total_yen"].as_u64()), (200, Some(36_000)), "{v}");
    // Outreach for the households with an unpublished reduction: never a
    // refusal; the amount is to be confirmed by the city.
    for bracket in ["non_taxed", "public_assistance"] {
        let (s, v) = quote(&app, json!({"bracket": bracket, "service": "outreach", "days": 1, "babies": 1})).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["amount_to_be_confirmed"], true, "{v}");
        assert_eq!(v["lines"], json!([]));
    }
}

/// A Setagaya fixture with the three published facilities configured.
pub(crate) async fn with_facilities(app: &TestApp) -> Vec<tsunagu_domain::VenueId> {
    let fx = &app.fx;
    let m = fx.setagaya.id;
    let mut ids = vec![fx.facility.id];
    app.store
        .set_postpartum_facility(
            m,
            fx.facility.id,
            "公益財団法人日本助産師会",
            "Japanese Midwives Association",
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
pub(crate) async fn twins_family(app: &TestApp, nurse: &str) -> FamilyId {
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

pub(crate) fn application(
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
    // The stay's days come (a day is recorded once it has, #10): 3 December,
    // everyone signed in again.
    app.clock.advance(jiff::SignedDuration::from_hours(24 * 11));
    let (nurse, facility) = (app.token(&fx.setagaya, "nurse").await, app.token(&fx.setagaya, "facility").await);
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
    // The facility staff now may open the family and record the days.
    assert_eq!(app.get(&facility, &format!("/api/v1/families/{}", family.0)).await.0, 200);
    let (s, _) = app
        .post(
            &facility,
            &format!("/api/v1/postpartum/applications/{id}/notes"),
            &json!({"day": "2026-12-02", "note": "授乳良好", "audience": "family"}),
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
    // Approved but nothing recorded yet: booked 3, used 0.
    let centre_figures =
        |v: &Value| v["facilities"].as_array().unwrap().iter().find(|f| f["venue_id"] == centre.0).unwrap().clone();
    let (s, v) = app.get(&nurse, "/api/v1/postpartum/figures?fy=2026").await;
    assert_eq!(s, 200, "{v}");
    let row = centre_figures(&v);
    assert_eq!((row["short_stay_days"].as_u64(), row["booked_short_stay_days"].as_u64()), (Some(0), Some(3)));
    // The facility records two days as used (the family left a day early);
    // the family may not.
    for d in ["2026-12-01", "2026-12-02"] {
        let (s, v) =
            app.post(&facility, &format!("/api/v1/postpartum/applications/{id}/used"), &json!({"day": d})).await;
        assert_eq!(s, 204, "{v}");
    }
    let used = format!("/api/v1/postpartum/applications/{id}/used");
    assert_eq!(app.post(&mother, &used, &json!({"day": "2026-12-03"})).await.0, 403);
    assert_eq!(app.post(&facility, &used, &json!({"day": "2026-12-09"})).await.0, 422, "a day outside the stay");
    let (_, v) = app.get(&facility, &format!("/api/v1/postpartum/applications/{id}")).await;
    assert_eq!(v["used_days"], json!(["2026-12-01", "2026-12-02"]));
    // Figures of FY2026 count the recorded use: 2 short-stay days of 3 booked, one family, in its area.
    let (_, v) = app.get(&nurse, "/api/v1/postpartum/figures?fy=2026").await;
    let row = centre_figures(&v);
    assert_eq!(
        (row["short_stay_days"].as_u64(), row["booked_short_stay_days"].as_u64(), row["families"].as_u64()),
        (Some(2), Some(3), Some(1))
    );
    assert_eq!(v["users_by_area"], json!([[fx.setagaya_area.id.0, 1]]));
    assert_eq!(v["label_ja"], "令和8年度");
    // The family cancels; the places are free again; what was used stays used.
    assert_eq!(app.post(&mother, &format!("/api/v1/postpartum/applications/{id}/cancel"), &json!({})).await.0, 204);
    let (_, v) = app.get(&nurse, "/api/v1/postpartum/figures?fy=2026").await;
    let row = centre_figures(&v);
    assert_eq!((row["short_stay_days"].as_u64(), row["booked_short_stay_days"].as_u64()), (Some(2), Some(0)));
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

/// A family of one baby (or twins: `long` says which was hospitalised long),
/// born `born` at `weeks` weeks, in household bracket `bracket`.
async fn family_with(
    app: &TestApp,
    nurse: &str,
    kana: &str,
    bracket: &str,
    born: &str,
    weeks: u8,
    long: &[bool],
) -> FamilyId {
    let mut body = notification(app.fx.setagaya_area.id, kana, "まま", "2026-12-20");
    body["foetuses"] = json!(long.len());
    body["notified_on"] = json!("2026-05-01");
    body["fee_bracket"] = json!(bracket);
    let family = app.register(nurse, &body).await;
    let p = pregnancy_of(app, nurse, family).await;
    let babies: Vec<Value> = long
        .iter()
        .map(|l| {
            json!({"birth_date": born, "sex": "female", "gestational_weeks": weeks, "birth_weight_g": 1800,
                   "long_hospitalisation": l})
        })
        .collect();
    let (s, v) = app
        .post(nurse, &format!("/api/v1/families/{}/pregnancies/{p}/births", family.0), &json!({"babies": babies}))
        .await;
    assert_eq!(s, 201, "{v}");
    family
}

async fn pregnancy_of(app: &TestApp, nurse: &str, family: FamilyId) -> i64 {
    let (_, rec) = app.get(nurse, &format!("/api/v1/families/{}", family.0)).await;
    rec["pregnancies"][0]["id"].as_i64().unwrap()
}

fn has_refusal(v: &Value, code: &str) -> bool {
    v["refusals"].as_array().is_some_and(|r| r.iter().any(|x| x == code))
}

/// [001] 母子ともに世田谷区に住所を有する: a family recorded as moved out on or
/// before a day of the stay is refused `not_resident` in the preview and the
/// application, and the approval checks again; a move the day after the
/// stay does not refuse it.
async fn story_a_family_that_moved_out_is_refused(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    let centre = with_facilities(&app).await[0];
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    // Moved out yesterday: refused in the preview and the application.
    let gone = family_with(&app, &nurse, "てんしゅつ", "taxed", "2026-11-12", 39, &[false]).await;
    let p = pregnancy_of(&app, &nurse, gone).await;
    let end = format!("/api/v1/families/{}/pregnancies/{p}/end", gone.0);
    assert_eq!(app.post(&nurse, &end, &json!({"ending": "moved_out", "on": "2026-11-21"})).await.0, 204);
    let body = application(Some(gone), centre, "2026-12-01", 3, 1);
    let (s, v) = app.post(&nurse, "/api/v1/postpartum/applications/preview", &body).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["refusals"], json!(["not_resident"]), "{v}");
    let (s, v) = app.post(&nurse, "/api/v1/postpartum/applications", &body).await;
    assert_eq!((s, v["error"]["code"].as_str()), (409, Some("not_eligible")), "{v}");

    // Applied while resident, moved out before the approval: the approval checks again.
    let later = family_with(&app, &nurse, "あとで", "taxed", "2026-11-12", 39, &[false]).await;
    let apply = |first: &str, days: u32| {
        let body = application(Some(later), centre, first, days, 1);
        let (app, nurse) = (&app, &nurse);
        async move {
            let (s, v) = app.post(nurse, "/api/v1/postpartum/applications", &body).await;
            assert_eq!(s, 201, "{v}");
            v["id"].as_i64().unwrap()
        }
    };
    let refused = apply("2026-11-22", 2).await; // 22–23 November
    let kept = apply("2026-11-22", 1).await; // 22 November
                                             // Two days on, the family is recorded as moved out on 23 November.
    app.clock.advance(jiff::SignedDuration::from_hours(48));
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let p = pregnancy_of(&app, &nurse, later).await;
    let end = format!("/api/v1/families/{}/pregnancies/{p}/end", later.0);
    let (s, v) = app.post(&nurse, &end, &json!({"ending": "moved_out", "on": "2026-11-23"})).await;
    assert_eq!(s, 204, "{v}");
    let (s, v) = app.post(&nurse, &format!("/api/v1/postpartum/applications/{refused}/approve"), &json!({})).await;
    assert_eq!((s, v["error"]["code"].as_str()), (409, Some("not_resident")), "moved out on the last day: {v}");
    let (s, v) = app.post(&nurse, &format!("/api/v1/postpartum/applications/{kept}/approve"), &json!({})).await;
    assert_eq!(s, 204, "moved out the day after the stay: {v}");
}

/// Outreach for a non-taxed household: with the reduction unset the family
/// still applies and sees that the city confirms the amount; the nurse
/// records it at approval. Once the municipality sets it, the quote is priced.
async fn story_outreach_reductions_are_confirmed_not_refused(backend: Backend) {
    use tsunagu_domain::postpartum::fees::{FeeBracket, FeeTable, VisitFees};
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    let centre = with_facilities(&app).await[0];
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let family = family_with(&app, &nurse, "げんめん", "non_taxed", "2026-11-12", 39, &[false]).await;
    let mut body = application(Some(family), centre, "2026-12-01", 1, 1);
    body["service"] = json!("outreach");
    let (s, v) = app.post(&nurse, "/api/v1/postpartum/applications/preview", &body).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!((v["eligible"].as_bool(), v["amount_to_be_confirmed"].as_bool()), (Some(true), Some(true)), "{v}");
    let (s, v) = app.post(&nurse, "/api/v1/postpartum/applications", &body).await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_i64().unwrap();
    let approve = format!("/api/v1/postpartum/applications/{id}/approve");
    let (s, v) = app.post(&nurse, &approve, &json!({})).await;
    let field = (v["error"]["fields"][0]["field"].as_str(), v["error"]["fields"][0]["code"].as_str());
    assert_eq!((s, field), (422, (Some("fee_yen"), Some("required"))), "{v}");
    let (s, v) = app.post(&nurse, &approve, &json!({"fee_yen": 500})).await;
    assert_eq!(s, 204, "{v}");
    let (_, v) = app.get(&nurse, &format!("/api/v1/postpartum/applications/{id}")).await;
    let a = &v["application"];
    assert_eq!((a["fee_to_be_confirmed"].as_bool(), a["confirmed_fee_yen"].as_u64()), (Some(true), Some(500)));
    // The municipality sets its reduction: now priced.
    let table =
        FeeTable::setagaya().with_outreach(FeeBracket::NonTaxed, VisitFees { visit_yen: 700, extra_baby_yen: 70 });
    app.store.set_postpartum_fee_table(fx.setagaya.id, &table).await.unwrap();
    body["first_day"] = json!("2026-12-02");
    let (s, v) = app.post(&nurse, "/api/v1/postpartum/applications/preview", &body).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!((v["quote"]["total_yen"].as_u64(), v["amount_to_be_confirmed"].as_bool()), (Some(700), Some(false)));
    // A maximum of days per application, where the municipality sets one.
    app.store.set_postpartum_fee_table(fx.setagaya.id, &FeeTable { max_days: Some(7), ..table }).await.unwrap();
    let mut long = application(Some(family), centre, "2026-12-01", 8, 1);
    long["service"] = json!("outreach");
    let (s, v) = app.post(&nurse, "/api/v1/postpartum/applications/preview", &long).await;
    assert_eq!((s, v["error"]["fields"][0]["code"].as_str()), (422, Some("days_out_of_range")), "{v}");
}

/// Mama's Room opens on a holiday Monday (the seed's days, no holiday
/// exception); closing on holidays and dated closures are the facility's
/// settings, and the family sees why a day is closed.
async fn story_open_days_are_the_seeds_and_closures_are_settings(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    let mamas = with_facilities(&app).await[1];
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let family = family_with(&app, &nurse, "しゅくじつ", "taxed", "2026-11-12", 39, &[false]).await;
    // 23 November 2026 is Labour Thanksgiving Day, a Monday.
    let mut body = application(Some(family), mamas, "2026-11-23", 1, 1);
    body["service"] = json!("day_care");
    let (s, v) = app.post(&nurse, "/api/v1/postpartum/applications/preview", &body).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["eligible"], true, "a holiday Monday is an opening day: {v}");
    // The facility closes on holidays, and on a day of its own.
    let facility = app
        .store
        .postpartum_facilities(fx.setagaya.id)
        .await
        .unwrap()
        .into_iter()
        .find(|f| f.venue.id == mamas)
        .unwrap();
    let mut opening = facility.calendar.opening().clone();
    opening.closed_on_public_holidays = true;
    opening.add_closure(tsunagu_domain::dates::DateRange::single("2026-11-24".parse().unwrap()), "院内研修").unwrap();
    let calendar = facility.calendar.with_opening(opening);
    app.store
        .set_postpartum_facility(fx.setagaya.id, mamas, &facility.operator_ja, &facility.operator_en, &calendar)
        .await
        .unwrap();
    body["days"] = json!(2);
    let (s, v) = app.post(&nurse, "/api/v1/postpartum/applications/preview", &body).await;
    assert_eq!(s, 200, "{v}");
    assert!(has_refusal(&v, "facility_closed"), "{v}");
    assert_eq!(v["closed_days"][0]["day"], "2026-11-23");
    assert_eq!(v["closed_days"][0]["because"]["code"], "public_holiday");
    let second = (v["closed_days"][1]["day"].as_str(), v["closed_days"][1]["reason"].as_str());
    assert_eq!(second, (Some("2026-11-24"), Some("院内研修")));
    let (_, v) = app.get(&nurse, "/api/v1/postpartum/facilities").await;
    let row = v["facilities"].as_array().unwrap().iter().find(|f| f["venue"]["id"] == mamas.0).unwrap().clone();
    assert_eq!(row["closed_on_public_holidays"], true);
    assert_eq!(row["closures"][1]["reason"], "院内研修");
}

/// Twins at 32w0d, one hospitalised long: the family may use the days both
/// babies are eligible for — the same in the preview and in each baby's
/// postpartum-care window on the timeline.
async fn story_twins_one_hospitalised_long(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    let centre = with_facilities(&app).await[0];
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    // Born 12 November 2026 at 32w0d: the one hospitalised long counts from
    // 7 January 2027 (last day 6 May), the other's last day is 11 March.
    let family = family_with(&app, &nurse, "ふたご", "taxed", "2026-11-12", 32, &[true, false]).await;
    let preview = |first: &str| {
        let body = application(Some(family), centre, first, 1, 2);
        let (app, nurse) = (&app, &nurse);
        async move { app.post(nurse, "/api/v1/postpartum/applications/preview", &body).await }
    };
    let (s, v) = preview("2027-03-11").await;
    assert_eq!((s, v["eligible"].as_bool()), (200, Some(true)), "{v}");
    assert_eq!(v["last_eligible_day"], "2027-03-11");
    let (_, v) = preview("2027-03-12").await;
    assert_eq!(v["refusals"], json!(["baby_too_old"]), "{v}");
    let (_, v) = preview("2027-05-06").await;
    assert!(has_refusal(&v, "baby_too_old"), "one baby's corrected age does not carry the other: {v}");
    let (_, v) = app.get(&nurse, &format!("/api/v1/families/{}/contacts", family.0)).await;
    let closes: Vec<&Value> = v["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "postpartum_care")
        .map(|c| &c["closes"])
        .collect();
    assert_eq!(closes, [&json!("2027-03-11"), &json!("2027-03-11")], "{v}");
}

/// A sibling on an application from a family recorded as a first child is asked about.
async fn story_a_sibling_of_a_first_child_is_asked_about(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    let centre = with_facilities(&app).await[0];
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let family = family_with(&app, &nurse, "きょうだい", "taxed", "2026-11-12", 39, &[false]).await;
    let mut body = application(Some(family), centre, "2026-12-01", 2, 1);
    body["siblings"] = json!(1);
    let (s, v) = app.post(&nurse, "/api/v1/postpartum/applications/preview", &body).await;
    let field = (v["error"]["fields"][0]["field"].as_str(), v["error"]["fields"][0]["code"].as_str());
    assert_eq!((s, field), (422, (Some("siblings"), Some("sibling_of_first_child"))), "{v}");
    body["siblings_confirmed"] = json!(true);
    let (s, v) = app.post(&nurse, "/api/v1/postpartum/applications", &body).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["quote"]["total_yen"], 2 * (4_500 + 1_700));
}

/// The administrator edits a facility's days off in a page (Japanese first);
/// other roles may not.
async fn story_the_administrator_edits_days_off(backend: Backend) {
    use crate::pages::Visitor;
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    let mamas = with_facilities(&app).await[1];
    app.account(&fx.setagaya, "admin", Role::Admin, Scope::None).await;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let mut v = Visitor::new(&app);
    v.sign_in("admin", Some(app.next_totp())).await;
    let page = v.get("/postpartum/facilities").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("祝日は休業する"), "Japanese first");
    assert!(page.body.contains("利用中止（新型コロナウイルス感染症）"), "the 2020 stop is a closure on record");
    let csrf = Visitor::csrf_in(&page.body);
    let base = format!("/postpartum/facilities/{}", mamas.0);
    let r = v.post(&format!("{base}/holidays"), &[("_csrf", &csrf), ("closed_on_public_holidays", "on")]).await;
    assert_eq!(r.location.as_deref(), Some("/postpartum/facilities?done=1"));
    let r = v
        .post(
            &format!("{base}/add_closure"),
            &[("_csrf", &csrf), ("first", "2026-12-28"), ("last", "2027-01-04"), ("reason", " ")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains(&format!("id=\"err-reason-{}\"", mamas.0)), "{}", r.body);
    let r = v
        .post(
            &format!("{base}/add_closure"),
            &[("_csrf", &csrf), ("first", "2026-12-28"), ("last", "2027-01-04"), ("reason", "年末年始休診")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let calendar = || {
        let app = &app;
        async move {
            let facilities = app.store.postpartum_facilities(app.fx.setagaya.id).await.unwrap();
            facilities.into_iter().find(|f| f.venue.id == mamas).unwrap().calendar
        }
    };
    let c = calendar().await;
    assert!(c.opening().closed_on_public_holidays);
    assert_eq!(c.opening().closures.len(), 2);
    assert_eq!(c.opening().closures[1].reason, "年末年始休診");
    assert!(!c.is_open("2026-12-28".parse().unwrap()));
    // The 2020 stop removed (index 0): the calendar keeps the rest.
    let r = v.post(&format!("{base}/remove_closure"), &[("_csrf", &csrf), ("index", "0")]).await;
    assert_eq!(r.status, 303);
    let c = calendar().await;
    assert_eq!(c.opening().closures.len(), 1);
    assert_eq!(c.capacity(tsunagu_domain::postpartum::ServiceType::DayCare, "2020-04-17".parse().unwrap()), 2);
    // A nurse may not.
    let mut n = Visitor::new(&app);
    n.sign_in("nurse", Some(app.next_totp())).await;
    assert_eq!(n.get("/postpartum/facilities").await.status, 403);
}

/// API errors answer with words in the caller's language (`Accept-Language`),
/// English without one.
#[tokio::test]
async fn api_errors_answer_in_the_callers_language() {
    let app = TestApp::start(Backend::Sqlite).await;
    let send = |path: &str, lang: Option<&str>, body: Option<Value>| {
        let mut r = match &body {
            Some(b) => app.http.post(app.url(path)).json(b),
            None => app.http.get(app.url(path)),
        };
        if let Some(l) = lang {
            r = r.header("Accept-Language", l);
        }
        async move { r.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let bad = json!({"bracket": "rich", "service": "short_stay", "days": 1, "babies": 1});
    for (path, body, code) in [
        ("/api/v1/families", None, "unauthenticated"),
        ("/api/v1/nowhere", None, "not_found"),
        ("/api/v1/postpartum/quote", Some(bad), "unknown_bracket"),
    ] {
        let ja = send(path, Some("ja-JP,ja;q=0.9,en;q=0.8"), body.clone()).await;
        let en = send(path, Some("en-GB,en;q=0.9"), body.clone()).await;
        let none = send(path, None, body.clone()).await;
        assert_eq!(ja["error"]["code"], code, "{ja}");
        let (ja, en) = (ja["error"]["message"].as_str().unwrap(), en["error"]["message"].as_str().unwrap());
        assert!(!ja.is_ascii() && ja != "?" && !ja.starts_with("err."), "{code}: {ja}");
        assert!(en.is_ascii() && en != "?" && !en.starts_with("err."), "{code}: {en}");
        assert_eq!(none["error"]["message"], en, "English without Accept-Language");
    }
}

on_both!(
    apply_review_and_stay => story_apply_review_and_stay,
    a_family_that_moved_out_is_refused => story_a_family_that_moved_out_is_refused,
    outreach_reductions_are_confirmed_not_refused => story_outreach_reductions_are_confirmed_not_refused,
    open_days_are_the_seeds_and_closures_are_settings => story_open_days_are_the_seeds_and_closures_are_settings,
    twins_one_hospitalised_long => story_twins_one_hospitalised_long,
    a_sibling_of_a_first_child_is_asked_about => story_a_sibling_of_a_first_child_is_asked_about,
    the_administrator_edits_days_off => story_the_administrator_edits_days_off,
    the_last_places_go_to_one_applicant => story_the_last_places_go_to_one_applicant,
);
