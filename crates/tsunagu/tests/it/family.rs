//! What families and the forms they meet show (#10), over HTTP on both
//! databases: Japan's dates with weekday and era, an error that says which
//! days are allowed and a banner naming the fields.

use crate::pages::Visitor;
use crate::support::*;
use tsunagu_domain::roles::Role;

async fn story_a_birth_date_error_says_which_days_are_allowed(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let token = app.token(&fx.setagaya, "nurse").await;
    // EDD 2027-02-10, notified 2026-11-22 (the test's today): the earliest
    // birth is week 22, 2026-10-07 (18 weeks before the EDD).
    let family = app.register(&token, &notification(fx.setagaya_area.id, "アオキ", "ユイ", "2027-02-10")).await;
    let (_, rec) = app.get(&token, &format!("/api/v1/families/{}", family.0)).await;
    let p = rec["pregnancies"][0]["id"].as_i64().unwrap();
    let mut nurse = Visitor::new(&app);
    nurse.sign_in("nurse", Some(app.next_totp())).await;
    let path = format!("/families/{}/pregnancies/{p}/birth", family.0);
    let form = nurse.get(&path).await;
    assert!(form.body.contains("令和9年2月10日(水)"), "the EDD with its weekday and era");
    let csrf = Visitor::csrf_in(&form.body);
    let early = [
        ("_csrf", csrf.as_str()),
        ("babies.0.birth_date", "2026-09-01"),
        ("babies.0.sex", "female"),
        ("babies.0.gestational_weeks", "19"),
    ];
    let page = nurse.post(&path, &early).await;
    assert_eq!(page.status, 422, "{}", page.body);
    assert!(page.body.contains("出生日は令和8年10月7日(水)以降の日付を入力してください"), "{}", page.body);
    assert!(page.body.contains("id=\"error-summary\""));
    assert!(
        page.body.contains("href=\"#babies-0-birth_date\"")
            && page.body.contains("href=\"#babies-0-gestational_weeks\"")
    );
    assert!(page.body.contains("id=\"babies-0-birth_date\" aria-invalid=\"true\""), "the field is marked");
    let future = [
        ("_csrf", csrf.as_str()),
        ("babies.0.birth_date", "2026-11-23"),
        ("babies.0.sex", "female"),
        ("babies.0.gestational_weeks", "30"),
    ];
    let page = nurse.post(&path, &future).await;
    assert!(page.body.contains("出生日は令和8年11月22日(日)以前の日付を入力してください"), "{}", page.body);
    // The kana search answers a kanji query with a hint, and shows dates with weekday and era.
    let kanji = nurse.get("/families?q=%E5%B1%B1%E7%94%B0").await;
    assert!(kanji.body.contains("id=\"kanji-hint\""), "{}", kanji.body);
    let found = nurse.get("/families?q=%E3%82%A2%E3%82%AA%E3%82%AD").await;
    assert!(!found.body.contains("id=\"kanji-hint\"") && found.body.contains("令和9年2月10日(水)"), "{}", found.body);
}

on_both!(a_birth_date_error_says_which_days_are_allowed => story_a_birth_date_error_says_which_days_are_allowed);
