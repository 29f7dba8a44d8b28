//! The reminders' settings page on a phone (#10), in a real headless
//! Chromium at 390×844: reached from わが家の記録, a wrong address refused
//! beside the field in Japanese (nothing stored), then saved.

use crate::support::*;
use fantoccini::Locator;

#[tokio::test]
async fn a_mother_sets_her_reminders_on_her_phone() {
    let app = TestApp::start(Backend::Sqlite).await;
    crate::privacy::family_with_a_stay(&app).await;
    let b = crate::browser::browser().await;
    let c = &b.client;
    c.set_window_size(390, 844).await.unwrap();
    crate::browser_family::sign_in_as(&app, c, "mother", PASSWORD).await;
    c.goto(&app.url("/me")).await.unwrap();
    c.find(Locator::Id("reminders-link")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("reminders-form")).await.unwrap();
    assert!(c.find(Locator::Id("email-unavailable")).await.is_ok(), "no relay here: the page says so");
    c.find(Locator::Id("email-on")).await.unwrap().click().await.unwrap();
    c.find(Locator::Id("email")).await.unwrap().send_keys("hanako.example.jp").await.unwrap();
    c.find(Locator::Id("reminders-submit")).await.unwrap().click().await.unwrap();
    let error = c.wait().for_element(Locator::Id("email-error")).await.unwrap().text().await.unwrap();
    assert!(error.contains("メールアドレスの形になっていません"), "{error}");
    let invalid = c.find(Locator::Id("email")).await.unwrap().attr("aria-invalid").await.unwrap();
    assert_eq!(invalid.as_deref(), Some("true"));
    let fits: bool = c
        .execute("return document.documentElement.scrollWidth <= window.innerWidth;", vec![])
        .await
        .unwrap()
        .as_bool()
        .unwrap();
    assert!(fits, "the page fits 390 px");
    let email = c.find(Locator::Id("email")).await.unwrap();
    email.clear().await.unwrap();
    email.send_keys("hanako@example.jp").await.unwrap();
    c.find(Locator::Css("#days-before option[value='3']")).await.unwrap().click().await.unwrap();
    c.find(Locator::Id("reminders-submit")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("saved")).await.unwrap();
    let value = c.find(Locator::Id("email")).await.unwrap().prop("value").await.unwrap();
    assert_eq!(value.as_deref(), Some("hanako@example.jp"));
    let lines = app.store.audit_lines(app.fx.setagaya.id, 0, 10_000).await.unwrap();
    assert_eq!(lines.iter().filter(|l| l.action == "reminder.set").count(), 1, "one line for the one change");
}
