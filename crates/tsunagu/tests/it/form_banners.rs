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
