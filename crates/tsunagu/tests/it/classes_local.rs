//! Local information through the real router on both back ends [000]
//! 地域おでかけ情報: a family sees its own area's entries for its stage by
//! default (and any other on asking), browsing writes no audit line (the
//! directory holds no personal data; only a family's default stage reads
//! its own record, with that read's one line), a coordinator keeps her
//! areas' entries and not another's, the administrator every area's, each
//! change writes one line, and bad input — from the API or the page — is
//! refused beside its fields in the reader's language with nothing stored.

use crate::pages::Visitor;
use crate::support::*;
use jiff::civil::{date, Time};
use serde_json::{json, Value};
use tsunagu_domain::classes::{ProgrammeConfig, ProgrammeKind};
use tsunagu_domain::places::VenueKind;
use tsunagu_domain::roles::Role;
use tsunagu_store::{NewSession, NewVenue};

fn entry(area: i64, kind: &str, name: &str, stages: &[&str], venue: Option<i64>) -> Value {
    json!({"area_id": area, "kind": kind, "name_ja": name, "offers_ja": "説明", "stages": stages, "venue_id": venue})
}

fn names(v: &Value) -> Vec<String> {
    let mut n: Vec<String> =
        v["entries"].as_array().unwrap().iter().map(|e| e["name_ja"].as_str().unwrap().to_owned()).collect();
    n.sort();
    n
}

async fn lines(app: &TestApp) -> Vec<String> {
    app.store.audit_lines(app.fx.setagaya.id, 0, 100_000).await.unwrap().into_iter().map(|l| l.action).collect()
}

async fn put(app: &TestApp, token: &str, path: &str, body: &Value) -> (u16, Value) {
    let resp = app.http.put(app.url(path)).bearer_auth(token).json(body).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn story_keep_and_browse_local_information(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    let (home, other) = (fx.setagaya_area.id, fx.kitazawa_area.id);
    let hall = app
        .store
        .create_venue(&NewVenue {
            municipality_id: fx.setagaya.id,
            area_id: Some(home),
            kind: VenueKind::ChildrensHall,
            name_ja: "北沢児童館".into(),
            name_en: "Kitazawa hall".into(),
        })
        .await
        .unwrap()
        .id;
    let p = app
        .store
        .create_programme(fx.setagaya.id, &ProgrammeConfig::seed_default(ProgrammeKind::SelfCare))
        .await
        .unwrap();
    let session = NewSession {
        venue_id: hall,
        day: date(2026, 12, 15),
        starts: Time::constant(10, 0, 0, 0),
        minutes: 120,
        capacity: 15,
    };
    let sessions = app.store.create_class_sessions(fx.setagaya.id, p.id, &[session]).await.unwrap();
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    app.account(&fx.setagaya, "coord", Role::Coordinator, Scope::Areas(vec![home])).await;
    app.account(&fx.setagaya, "admin", Role::Admin, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let coord = app.token(&fx.setagaya, "coord").await;
    let admin = app.token(&fx.setagaya, "admin").await;
    let family = app.register(&nurse, &notification(home, "あおき", "はな", "2027-05-20")).await;
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

    // The coordinator keeps her area: each change one line.
    let before = lines(&app).await.len();
    let (s, cafe) = app
        .post(&coord, "/api/v1/classes/local", &entry(home.0, "outing_spot", "マタニティカフェ", &["pregnant"], None))
        .await;
    assert_eq!(s, 201, "{cafe}");
    assert_eq!(cafe["stages"], json!(["pregnant"]));
    let (s, park) = app
        .post(&coord, "/api/v1/classes/local", &entry(home.0, "outing_spot", "ふれあい公園", &["newborn"], None))
        .await;
    assert_eq!(s, 201, "{park}");
    let (s, hall_entry) = app
        .post(
            &coord,
            "/api/v1/classes/local",
            &entry(home.0, "childrens_hall", "北沢児童館", &["pregnant", "newborn"], Some(hall.0)),
        )
        .await;
    assert_eq!(s, 201, "{hall_entry}");
    assert_eq!(lines(&app).await[before..], ["local.keep", "local.keep", "local.keep"]);
    // Not another area: neither adding there, nor editing its entries.
    let (s, v) = app
        .post(&coord, "/api/v1/classes/local", &entry(other.0, "outing_spot", "よその公園", &["pregnant"], None))
        .await;
    assert_eq!((s, v["error"]["code"].as_str()), (403, Some("forbidden")), "{v}");
    let (s, elsewhere) = app
        .post(&admin, "/api/v1/classes/local", &entry(other.0, "outing_spot", "よその公園", &["pregnant"], None))
        .await;
    assert_eq!(s, 201, "the administrator keeps every area: {elsewhere}");
    let id = elsewhere["id"].as_i64().unwrap();
    let (s, _) = put(
        &app,
        &coord,
        &format!("/api/v1/classes/local/{id}"),
        &entry(home.0, "hub", "乗っ取り", &["pregnant"], None),
    )
    .await;
    assert_eq!(s, 403, "a coordinator cannot take another area's entry into hers");
    let (s, _) = app.post(&coord, &format!("/api/v1/classes/local/{id}/retire"), &json!({"retired": true})).await;
    assert_eq!(s, 403);
    // Nor move her own entry into another area.
    let cafe_id = cafe["id"].as_i64().unwrap();
    let (s, _) = put(
        &app,
        &coord,
        &format!("/api/v1/classes/local/{cafe_id}"),
        &entry(other.0, "outing_spot", "マタニティカフェ", &["pregnant"], None),
    )
    .await;
    assert_eq!(s, 403);
    let (s, saved) = put(
        &app,
        &coord,
        &format!("/api/v1/classes/local/{cafe_id}"),
        &entry(home.0, "outing_spot", "マタニティカフェ", &["pregnant", "newborn"], None),
    )
    .await;
    assert_eq!((s, &saved["stages"]), (200, &json!(["pregnant", "newborn"])), "{saved}");

    // Bad input: refused field by field, nothing stored, no line.
    let count = lines(&app).await.len();
    let (s, v) = app
        .post(
            &coord,
            "/api/v1/classes/local",
            &json!({"area_id": home.0, "kind": "castle", "name_ja": " ", "offers_ja": "x", "stages": []}),
        )
        .await;
    assert_eq!((s, v["error"]["code"].as_str()), (422, Some("invalid_input")), "{v}");
    let fields: Vec<&str> =
        v["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"kind") && fields.contains(&"name_ja") && fields.contains(&"stages"), "{v}");
    let (s, _) = put(
        &app,
        &coord,
        &format!("/api/v1/classes/local/{cafe_id}"),
        &entry(home.0, "outing_spot", "", &["pregnant"], None),
    )
    .await;
    assert_eq!(s, 422);
    assert_eq!(lines(&app).await.len(), count, "nothing stored, no line");

    // The page: the errors beside the fields, in Japanese; nothing stored.
    let mut page = Visitor::new(&app);
    page.sign_in("coord", Some(app.next_totp())).await;
    let keep = page.get("/classes/local/keep").await;
    assert_eq!(keep.status, 200);
    assert!(keep.body.contains("マタニティカフェ") && !keep.body.contains("よその公園"), "her areas only");
    let csrf = Visitor::csrf_in(&keep.body);
    let count = lines(&app).await.len();
    let home_id = home.0.to_string();
    let bad = page
        .post(
            "/classes/local/keep",
            &[("_csrf", &csrf), ("area_id", &home_id), ("kind", "outing_spot"), ("name_ja", ""), ("offers_ja", "説明")],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("id=\"err-name_ja\"") && bad.body.contains("入力してください"), "{}", bad.body);
    assert!(bad.body.contains("id=\"err-stages\""), "{}", bad.body);
    let bad_venue = page
        .post(
            "/classes/local/keep",
            &[
                ("_csrf", &csrf),
                ("area_id", &home_id),
                ("kind", "outing_spot"),
                ("name_ja", "公園"),
                ("offers_ja", "説明"),
                ("stages", "pregnant"),
                ("venue_id", "12x"),
            ],
        )
        .await;
    assert_eq!(bad_venue.status, 422);
    assert!(bad_venue.body.contains("id=\"err-venue_id\""), "{}", bad_venue.body);
    assert_eq!(lines(&app).await.len(), count, "nothing stored, no line");
    let good = page
        .post(
            "/classes/local/keep",
            &[
                ("_csrf", &csrf),
                ("area_id", &home_id),
                ("kind", "service"),
                ("name_ja", "子育て相談"),
                ("offers_ja", "相談窓口"),
                ("stages", "pregnant"),
                ("stages", "one_year"),
            ],
        )
        .await;
    assert_eq!((good.status, good.location.as_deref()), (303, Some("/classes/local/keep?done=added")));
    assert_eq!(lines(&app).await[count..], ["local.keep"]);

    // The family: its area, its stage (pregnant) by default — the one read
    // of its own record is that read's line; the directory writes none.
    let count = lines(&app).await.len();
    let (s, dir) = app.get(&mother, "/api/v1/classes/local").await;
    assert_eq!(s, 200, "{dir}");
    assert_eq!((dir["area_id"].as_i64(), dir["stage"].as_str()), (Some(home.0), Some("pregnant")));
    assert_eq!(names(&dir), ["マタニティカフェ", "北沢児童館", "子育て相談"]);
    assert_eq!(lines(&app).await[count..], ["family.view"], "the default stage reads her own record");
    let count = lines(&app).await.len();
    let (s, dir) = app.get(&mother, "/api/v1/classes/local?area=all&stage=newborn").await;
    assert_eq!(s, 200);
    assert_eq!(names(&dir), ["ふれあい公園", "マタニティカフェ", "北沢児童館"]);
    let (s, dir) = app.get(&nurse, "/api/v1/classes/local?kind=outing_spot").await;
    assert_eq!(s, 200);
    assert_eq!(names(&dir), ["ふれあい公園", "よその公園", "マタニティカフェ"]);
    let (s, v) = app.get(&nurse, "/api/v1/classes/local?stage=teen").await;
    assert_eq!((s, v["error"]["code"].as_str()), (422, Some("invalid_input")));
    // The entry links to the sessions held there.
    let hall_id = hall_entry["id"].as_i64().unwrap();
    let (s, one) = app.get(&mother, &format!("/api/v1/classes/local/{hall_id}")).await;
    assert_eq!(s, 200, "{one}");
    assert_eq!(one["sessions"][0]["id"], sessions[0].0);
    assert_eq!(lines(&app).await.len(), count, "browsing with a stage chosen writes no line");
    let mut mum = Visitor::new(&app);
    mum.sign_in("mother", None).await;
    let count = lines(&app).await.len();
    let browse = mum.get("/classes/local?stage=pregnant").await;
    assert_eq!(browse.status, 200);
    assert!(browse.body.contains("マタニティカフェ") && !browse.body.contains("ふれあい公園"));
    let place = mum.get(&format!("/classes/local/{hall_id}")).await;
    assert!(place.body.contains(&format!("#session-{}", sessions[0].0)), "{}", place.body);
    assert_eq!(lines(&app).await.len(), count, "browsing pages writes no line");
    // The session links back to the place held there.
    let offers = mum.get("/classes").await;
    assert!(offers.body.contains(&format!("href=\"/classes/local/{hall_id}\"")), "{}", offers.body);

    // Retired: gone from the family's list, kept on the keeper's.
    let (s, r) = app.post(&coord, &format!("/api/v1/classes/local/{cafe_id}/retire"), &json!({"retired": true})).await;
    assert_eq!((s, r["retired"].as_bool()), (200, Some(true)));
    let (_, dir) = app.get(&mother, "/api/v1/classes/local?stage=pregnant").await;
    assert!(!names(&dir).contains(&"マタニティカフェ".to_owned()));
    let (s, _) = app.get(&mother, &format!("/api/v1/classes/local/{cafe_id}")).await;
    assert_eq!(s, 404);
    let (s, _) = app.get(&coord, &format!("/api/v1/classes/local/{cafe_id}")).await;
    assert_eq!(s, 200);
}

on_both! {
    keep_and_browse_local_information => story_keep_and_browse_local_information,
}
