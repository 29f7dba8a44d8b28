//! Error banners that name the fields (#10), as the birth form has: the
//! postpartum application form lists each field with an error, linked to
//! it, and marks the field `aria-invalid`; nothing is stored.

use crate::pages::Visitor;
use crate::support::*;

async fn story_the_application_form_names_its_wrong_fields(backend: Backend) {
    let app = TestApp::start(backend).await;
    let f = crate::privacy::family_with_a_stay(&app).await;
    let (_, before) = app.get(&f.mother, "/api/v1/postpartum/applications").await;
    let mut mother = Visitor::new(&app);
    mother.sign_in("mother", None).await;
    let page = mother.get("/postpartum/apply").await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("id=\"error-summary\""), "no banner before anything is sent");
    let csrf = Visitor::csrf_in(&page.body);
    let centre = app.fx.facility.id.0.to_string();
    // A first day in the past, with every other field right.
    let sent = mother
        .post(
            "/postpartum/apply",
            &[
                ("_csrf", &csrf),
                ("venue_id", &centre),
                ("service", "short_stay"),
                ("first_day", "2026-11-01"),
                ("days", "2"),
                ("babies", "2"),
                ("siblings", "0"),
                ("has_worries_or_fatigue", "on"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(sent.status, 422, "{}", sent.body);
    let b = &sent.body;
    let start = b.find("id=\"error-summary\"").expect("the banner");
    let banner = &b[start..start + b[start..].find("</div>").unwrap()];
    assert!(banner.contains("次の項目を確認してください") && banner.contains("<a href=\"#first_day\">"), "{banner}");
    assert!(!banner.contains("#days"), "only the wrong field: {banner}");
    assert!(b.contains("id=\"first_day\" aria-invalid=\"true\""));
    assert!(b.contains("id=\"days\" aria-invalid=\"false\""));
    let (_, after) = app.get(&f.mother, "/api/v1/postpartum/applications").await;
    assert_eq!(after["applications"].as_array().unwrap().len(), before["applications"].as_array().unwrap().len());
}

on_both!(the_application_form_names_its_wrong_fields => story_the_application_form_names_its_wrong_fields);

/// A questionnaire sent with questions unanswered (the mother's EPDS) is
/// refused as the other forms are: 422, a banner naming each unanswered
/// question linked to it, its answers marked `aria-invalid`, the answers
/// given kept, nothing stored.
async fn story_the_questionnaire_names_its_unanswered_questions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let f = crate::privacy::family_with_a_stay(&app).await;
    let mut mother = Visitor::new(&app);
    mother.sign_in("mother", None).await;
    let form = mother.get("/me/screenings/epds").await;
    assert_eq!(form.status, 200);
    assert!(!form.body.contains("id=\"error-summary\""), "no banner before anything is sent");
    let csrf = Visitor::csrf_in(&form.body);
    let mut fields: Vec<(String, String)> = vec![("_csrf".into(), csrf)];
    for n in 1..=10 {
        if n != 3 && n != 7 {
            fields.push((format!("answers.{n}"), "a".into()));
        }
    }
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let sent = mother.post("/me/screenings/epds", &pairs).await;
    assert_eq!(sent.status, 422, "{}", sent.body);
    let b = &sent.body;
    let start = b.find("id=\"error-summary\"").expect("the banner");
    let banner = &b[start..start + b[start..].find("</div>").unwrap()];
    assert!(banner.contains("次の項目を確認してください"), "{banner}");
    assert!(
        banner.contains("<a href=\"#item-3\">質問 3</a>") && banner.contains("<a href=\"#item-7\">質問 7</a>"),
        "{banner}"
    );
    assert!(!banner.contains("#item-1\""), "only the unanswered: {banner}");
    assert!(b.contains("id=\"answer-3-a\" aria-invalid=\"true\""), "the question is marked");
    assert!(b.contains("id=\"answer-1-a\" checked>"), "answers given are kept, unmarked");
    let stored = app.store.audit_lines(app.fx.setagaya.id, 0, 10_000).await.unwrap();
    assert!(!stored.iter().any(|l| l.action == "screening.record" && l.family_id == Some(f.family)), "nothing stored");
}

on_both!(the_questionnaire_names_its_unanswered_questions => story_the_questionnaire_names_its_unanswered_questions);
