//! A malformed id typed into a form (#9) is refused with the field's error
//! in the reader's language, never read as no pregnancy, no stay or no
//! family; nothing is stored.

use crate::pages::Visitor;
use crate::privacy::family_with_a_stay;
use crate::support::*;

async fn story_a_malformed_id_is_refused(backend: Backend) {
    let app = TestApp::start(backend).await;
    let f = family_with_a_stay(&app).await;
    let family = f.family.0.to_string();
    let centre = app.fx.facility.id.0.to_string();
    let mut facility = Visitor::new(&app);
    facility.sign_in("facility", Some(app.next_totp())).await;
    let csrf = Visitor::csrf_in(&facility.get("/referrals").await.body);
    let referrals = |v: serde_json::Value| v["referrals"].as_array().map_or(0, Vec::len);
    let before = referrals(app.get(&f.nurse, "/api/v1/referrals").await.1);

    // A concern about a stay, a pregnancy or a family whose id does not read.
    for (field, value) in [("application_id", "12x"), ("pregnancy_id", "one"), ("family_id", "1.5")] {
        let mut form = vec![("_csrf", csrf.as_str()), ("family_id", family.as_str()), ("note", "授乳がつらそう")];
        form.retain(|(k, _)| *k != field);
        form.push((field, value));
        let p = facility.post("/referrals", &form).await;
        assert_eq!(p.status, 422, "{field}: {}", p.body);
        assert!(p.body.contains("番号として読めません") && p.body.contains(field), "{field}: {}", p.body);
    }
    assert_eq!(referrals(app.get(&f.nurse, "/api/v1/referrals").await.1), before, "no concern was raised");

    // An incident report naming a family whose id does not read.
    let p = facility
        .post(
            "/postpartum/incidents",
            &[
                ("_csrf", &csrf),
                ("venue_id", &centre),
                ("heading", "accident"),
                ("occurred", "2026-11-21T10:30"),
                ("summary", "ベッド柵の確認漏れ（けがなし）"),
                ("family_id", "abc"),
            ],
        )
        .await;
    assert!(p.body.contains("番号として読めません"), "{}", p.body);
    let (_, v) = app.get(&f.nurse, "/api/v1/postpartum/incidents").await;
    assert_eq!(v["incidents"].as_array().map_or(0, Vec::len), 0, "no incident was stored: {v}");

    // A nurse applying for postpartum care for a family whose id does not read.
    let mut nurse = Visitor::new(&app);
    nurse.sign_in("nurse", Some(app.next_totp())).await;
    let csrf = Visitor::csrf_in(&nurse.get("/referrals").await.body);
    let p = nurse
        .post(
            "/postpartum/apply",
            &[
                ("_csrf", &csrf),
                ("family_id", "x1"),
                ("venue_id", &centre),
                ("service", "short_stay"),
                ("first_day", "2026-12-20"),
                ("days", "2"),
                ("babies", "2"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains("番号として読めません"), "{}", p.body);
}

on_both! {
    a_malformed_id_is_refused => story_a_malformed_id_is_refused,
}
