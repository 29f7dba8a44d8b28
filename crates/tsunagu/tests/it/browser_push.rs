//! The reminders page's push switch on a phone (#10), in a real headless
//! Chromium at 390×844 (which has no push service offline): with push
//! offered, the page either enables the switch (the browser has push) or
//! says in Japanese that this browser cannot receive notifications — never
//! neither — and fits the screen; without push offered, it says so.

use crate::support::*;
use fantoccini::Locator;
use std::time::Duration;
use tsunagu_web::WebConfig;

#[tokio::test]
async fn the_push_switch_or_its_absence_is_shown_on_a_phone() {
    let key = tsunagu_domain::push::VapidKey::from_seed(&[9; 32]).unwrap().public_b64();
    let app =
        TestApp::start_with(Backend::Sqlite, WebConfig { push_public_key: Some(key), ..WebConfig::default() }).await;
    crate::privacy::family_with_a_stay(&app).await;
    let b = crate::browser::browser().await;
    let c = &b.client;
    c.set_window_size(390, 844).await.unwrap();
    crate::browser_family::sign_in_as(&app, c, "mother", PASSWORD).await;
    c.goto(&app.url("/me/reminders")).await.unwrap();
    c.wait().for_element(Locator::Id("push")).await.unwrap();
    // The script decides: the switch enabled, or the "not here" text shown.
    let state = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#push-on:not([disabled]), #push-unsupported:not([hidden])"))
        .await
        .unwrap();
    let id = state.attr("id").await.unwrap().unwrap_or_default();
    if id == "push-unsupported" {
        let text = state.text().await.unwrap();
        assert!(text.contains("このブラウザでは通知を受け取れません"), "{text}");
    } else {
        let status = c.find(Locator::Id("push-status")).await.unwrap().text().await.unwrap();
        assert_eq!(status, "このブラウザには通知は届きません。", "not subscribed yet");
    }
    let fits: bool = c
        .execute("return document.documentElement.scrollWidth <= window.innerWidth;", vec![])
        .await
        .unwrap()
        .as_bool()
        .unwrap();
    assert!(fits, "the page fits 390 px");
}

#[tokio::test]
async fn without_push_the_page_says_so_on_a_phone() {
    let app = TestApp::start(Backend::Sqlite).await;
    crate::privacy::family_with_a_stay(&app).await;
    let b = crate::browser::browser().await;
    let c = &b.client;
    c.set_window_size(390, 844).await.unwrap();
    crate::browser_family::sign_in_as(&app, c, "mother", PASSWORD).await;
    c.goto(&app.url("/me/reminders")).await.unwrap();
    let text = c.wait().for_element(Locator::Id("push-unavailable")).await.unwrap().text().await.unwrap();
    assert!(text.contains("通知でのお知らせはまだご利用いただけません"), "{text}");
    let fits: bool = c
        .execute("return document.documentElement.scrollWidth <= window.innerWidth;", vec![])
        .await
        .unwrap()
        .as_bool()
        .unwrap();
    assert!(fits, "the page fits 390 px");
}
