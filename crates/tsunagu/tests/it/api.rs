//! The JSON API end to end, on both back ends.

use crate::support::*;
use serde_json::{json, Value};
use tsunagu_domain::roles::Role;

async fn story_register_open_and_audit(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    app.account(&fx.setagaya, "admin", Role::Admin, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let id = app.register(&nurse, &notification(fx.setagaya_area.id, "ヤマダ", "ハナコ", "2027-05-20")).await;

    let (status, v) = app.get(&nurse, "/api/v1/families?q=%EF%BE%94%EF%BE%8F%EF%BE%80%EF%BE%9E").await; // ﾔﾏﾀﾞ
    assert_eq!(status, 200);
    assert_eq!(v["families"][0]["family_id"], id.0);
    let (status, v) = app.get(&nurse, &format!("/api/v1/families/{}", id.0)).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["people"][0]["given_name_kana"], "ハナコ");
    assert_eq!(v["pregnancies"][0]["edd"], "2027-05-20");

    // Every read left a line; the administrator sees them, the nurse may not.
    let admin = app.token(&fx.setagaya, "admin").await;
    let (status, v) = app.get(&admin, &format!("/api/v1/audit?family={}", id.0)).await;
    assert_eq!(status, 200);
    let actions: Vec<&str> = v["lines"].as_array().unwrap().iter().map(|l| l["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["family.view", "family.create"]);
    assert_eq!(v["lines"][0]["role"], "nurse");
    assert_eq!(v["lines"][0]["remote_addr"], "127.0.0.1");
    assert_eq!(app.get(&nurse, "/api/v1/audit").await.0, 403);

    // Births: twins on a two-foetus pregnancy.
    let mut body = notification(fx.setagaya_area.id, "スズキ", "アイ", "2026-12-01");
    body["foetuses"] = json!(2);
    body["notified_on"] = json!("2026-05-01");
    let twins = app.register(&nurse, &body).await;
    let (_, rec) = app.get(&nurse, &format!("/api/v1/families/{}", twins.0)).await;
    let p = rec["pregnancies"][0]["id"].as_i64().unwrap();
    let baby = json!({"birth_date": "2026-11-12", "sex": "male", "gestational_weeks": 37, "birth_weight_g": 2500});
    let (status, v) = app
        .post(&nurse, &format!("/api/v1/families/{}/pregnancies/{p}/births", twins.0), &json!({"babies": [baby, baby]}))
        .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["baby_ids"].as_array().unwrap().len(), 2);
}

async fn story_bad_input_stores_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let url = app.url("/api/v1/families");
    let send = |body: String, ct: &'static str| {
        let req = app.http.post(&url).bearer_auth(&nurse).header("content-type", ct).body(body);
        async move {
            let r = req.send().await.unwrap();
            let s = r.status().as_u16();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (s, v) = send("{not json".into(), "application/json").await;
    assert_eq!((s, v["error"]["code"].as_str()), (400, Some("invalid_json")));
    let (s, v) = send("{}".into(), "text/plain").await;
    assert_eq!((s, v["error"]["code"].as_str()), (400, Some("unsupported_media_type")));
    let mut unknown = notification(fx.setagaya_area.id, "やまだ", "はなこ", "2027-05-20");
    unknown["blood_type"] = json!("A");
    let (s, _) = send(unknown.to_string(), "application/json").await;
    assert_eq!(s, 400);
    let mut wrong_type = notification(fx.setagaya_area.id, "やまだ", "はなこ", "2027-05-20");
    wrong_type["foetuses"] = json!("two");
    assert_eq!(send(wrong_type.to_string(), "application/json").await.0, 400);
    let (s, v) = send(format!("{{\"x\": \"{}\"}}", "あ".repeat(40_000)), "application/json").await;
    assert_eq!((s, v["error"]["code"].as_str()), (413, Some("payload_too_large")));
    let mut past = notification(fx.setagaya_area.id, "やまだ", "はなこ", "2025-01-01");
    past["mother"]["family_name_kana"] = json!("山田");
    let (s, v) = send(past.to_string(), "application/json").await;
    assert_eq!(s, 422, "{v}");
    let fields: Vec<(&str, &str)> = v["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["field"].as_str().unwrap(), f["code"].as_str().unwrap()))
        .collect();
    assert!(fields.contains(&("edd", "edd_too_early")), "{fields:?}");
    assert!(fields.contains(&("mother.family_name_kana", "not_kana")));
    let mut other_city = notification(fx.other_area.id, "やまだ", "はなこ", "2027-05-20");
    other_city["area_id"] = json!(fx.other_area.id.0);
    let (s, v) = send(other_city.to_string(), "application/json").await;
    assert_eq!((s, v["error"]["fields"][0]["field"].as_str()), (422, Some("area_id")));
    // None of that was stored.
    let (_, v) = app.get(&nurse, "/api/v1/families?q=").await;
    assert_eq!(v["families"].as_array().unwrap().len(), 0);
    // A duplicate is refused once the first is in.
    let ok = notification(fx.setagaya_area.id, "やまだ", "はなこ", "2027-05-20");
    app.register(&nurse, &ok).await;
    let (s, v) = app.post(&nurse, "/api/v1/families", &ok).await;
    assert_eq!((s, v["error"]["code"].as_str()), (409, Some("duplicate_notification")));
    let (_, v) = app.get(&nurse, "/api/v1/families?q=").await;
    assert_eq!(v["families"].as_array().unwrap().len(), 1);
}

async fn story_access_is_the_policy(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    app.account(&fx.setagaya, "coord", Role::Coordinator, Scope::Areas(vec![fx.setagaya_area.id])).await;
    app.account(&fx.setagaya, "analyst", Role::Analyst, Scope::None).await;
    app.account(&fx.setagaya, "facility", Role::FacilityStaff, Scope::Venues(vec![fx.facility.id])).await;
    app.account(&fx.other, "nurse", Role::Nurse, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let consenting = app.register(&nurse, &notification(fx.setagaya_area.id, "いとう", "さき", "2027-05-20")).await;
    let mut body = notification(fx.setagaya_area.id, "かとう", "えみ", "2027-05-20");
    body["consent_coordinators"] = json!(false);
    let private = app.register(&nurse, &body).await;
    app.account(&fx.setagaya, "mother", Role::FamilyMember, Scope::Family(consenting)).await;

    let coord = app.token(&fx.setagaya, "coord").await;
    assert_eq!(app.get(&coord, &format!("/api/v1/families/{}", consenting.0)).await.0, 200);
    assert_eq!(app.get(&coord, &format!("/api/v1/families/{}", private.0)).await.0, 403);
    let (_, v) = app.get(&coord, "/api/v1/families?q=").await;
    assert_eq!(v["families"].as_array().unwrap().len(), 1);
    let analyst = app.token(&fx.setagaya, "analyst").await;
    assert_eq!(app.get(&analyst, &format!("/api/v1/families/{}", consenting.0)).await.0, 403);
    assert_eq!(app.get(&analyst, "/api/v1/families?q=").await.0, 403);
    let facility = app.token(&fx.setagaya, "facility").await;
    assert_eq!(app.get(&facility, &format!("/api/v1/families/{}", consenting.0)).await.0, 403);
    let elsewhere = app.token(&fx.other, "nurse").await;
    assert_eq!(app.get(&elsewhere, &format!("/api/v1/families/{}", consenting.0)).await.0, 404);
    // The family member: own record yes, another no; no password-only sign-in for staff.
    let resp = app
        .http
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"municipality": "131121", "username": "mother", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let mother = resp.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
    assert_eq!(app.get(&mother, "/api/v1/me/family").await.0, 200);
    assert_eq!(app.get(&mother, &format!("/api/v1/families/{}", consenting.0)).await.0, 200);
    assert_eq!(app.get(&mother, &format!("/api/v1/families/{}", private.0)).await.0, 403);
    assert_eq!(app.post(&mother, "/api/v1/families", &body).await.0, 403);
    let resp = app
        .http
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"municipality": "131121", "username": "nurse", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(app.get(format!("1.{}", "0".repeat(64)).as_str(), "/api/v1/families?q=").await.0, 401);
}

async fn story_sign_in_limits_and_disabling(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    app.account(&fx.setagaya, "admin", Role::Admin, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let admin = app.token(&fx.setagaya, "admin").await;
    // Disabling ends the account's sessions at once.
    let (_, v) = app.get(&admin, "/api/v1/accounts").await;
    let nurse_id =
        v["accounts"].as_array().unwrap().iter().find(|a| a["username"] == "nurse").unwrap()["id"].as_i64().unwrap();
    assert_eq!(app.post(&admin, &format!("/api/v1/accounts/{nurse_id}/disable"), &json!({})).await.0, 204);
    assert_eq!(app.get(&nurse, "/api/v1/families?q=").await.0, 401);
    // Weak passwords are refused when an administrator creates an account.
    let (s, v) = app
        .post(
            &admin,
            "/api/v1/accounts",
            &json!({"username": "n2", "display_name": "N2", "role": "nurse", "password": "password123"}),
        )
        .await;
    assert_eq!((s, v["error"]["fields"][0]["code"].as_str()), (422, Some("password_too_common")));
    // Five wrong passwords lock the user name for the window, even with the right one after.
    for _ in 0..5 {
        let r = app
            .http
            .post(app.url("/api/v1/auth/token"))
            .json(
                &json!({"municipality": "131121", "username": "admin", "password": "wrong password!", "otp": "000000"}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    let r = app
        .http
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"municipality": "131121", "username": "admin", "password": PASSWORD, "otp": app.next_totp()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
}

async fn story_health_and_openapi(backend: Backend) {
    let app = TestApp::start(backend).await;
    assert_eq!(app.http.get(app.url("/healthz")).send().await.unwrap().status(), 200);
    // The document served is the one the handlers describe (tests/it/openapi.rs
    // checks it against the routes and the answers).
    let spec: Value = app.http.get(app.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(spec, tsunagu_web::openapi());
}

on_both!(
    register_open_and_audit => story_register_open_and_audit,
    bad_input_stores_nothing => story_bad_input_stores_nothing,
    access_is_the_policy => story_access_is_the_policy,
    sign_in_limits_and_disabling => story_sign_in_limits_and_disabling,
    health_and_openapi => story_health_and_openapi,
);

/// PostgreSQL goes away and comes back: 503 meanwhile, then service resumes.
#[tokio::test]
async fn database_outage_gives_503_and_recovers() {
    let app = TestApp::start(Backend::Postgres).await;
    let fx = &app.fx;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let db = app.db_url.rsplit('/').next().unwrap().to_owned();
    let admin = |sql: String| async move {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&pg_url()).await.unwrap();
        sqlx::query(&sql).execute(&mut c).await.unwrap();
    };
    admin(format!("ALTER DATABASE {db} ALLOW_CONNECTIONS false")).await;
    admin(format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'")).await;
    let (status, v) = app.get(&nurse, "/api/v1/families?q=").await;
    assert_eq!(status, 503, "{v}");
    // Alive, not ready.
    assert_eq!(app.http.get(app.url("/healthz")).send().await.unwrap().status(), 200);
    assert_eq!(app.http.get(app.url("/readyz")).send().await.unwrap().status(), 503);
    admin(format!("ALTER DATABASE {db} ALLOW_CONNECTIONS true")).await;
    let mut recovered = false;
    for _ in 0..50 {
        if app.get(&nurse, "/api/v1/families?q=").await.0 == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(recovered, "the service did not recover after the database came back");
}
