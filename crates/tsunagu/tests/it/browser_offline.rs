//! わが家の記録 offline (#10), in a real headless Chromium at 390×844: once
//! the service worker keeps `/me`, the page opens with the service gone —
//! これからの予定 with its new lines (the twins named by birth order, the
//! class and its place) read from the kept copy.

use crate::support::*;
use fantoccini::Locator;
use std::time::Duration;

#[tokio::test]
async fn the_family_record_with_what_comes_next_opens_offline() {
    let app = TestApp::start(Backend::Sqlite).await;
    crate::family_next::family_with_a_class_and_a_stay(&app).await;
    let b = crate::browser::browser().await;
    let c = &b.client;
    c.set_window_size(390, 844).await.unwrap();
    crate::browser_family::sign_in_as(&app, c, "mother", PASSWORD).await;
    c.goto(&app.url("/me")).await.unwrap();
    let ready = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             navigator.serviceWorker.ready.then(r => done(!!r.active), () => done(false));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(ready, serde_json::Value::Bool(true));
    // Read once under the worker: it keeps the page.
    c.goto(&app.url("/me")).await.unwrap();
    let mut kept = false;
    for _ in 0..30 {
        let v = c
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 caches.match('/me').then(r => r ? r.text().then(t => done(t.includes('ふたごの1人目'))) : done(false),
                   () => done(false));",
                vec![],
            )
            .await
            .unwrap();
        if v == serde_json::Value::Bool(true) {
            kept = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(kept, "the record with its new section is kept");

    app.stop_server();
    tokio::time::sleep(Duration::from_millis(100)).await;
    c.goto(&app.url("/me")).await.unwrap();
    let next = c.wait().for_element(Locator::Id("next")).await.unwrap().text().await.unwrap();
    assert!(next.contains("ふたごの1人目") && next.contains("ふたごの2人目"), "{next}");
    assert!(next.contains("北沢児童館"), "the class's place: {next}");
    let fits: bool = c
        .execute("return document.documentElement.scrollWidth <= window.innerWidth;", vec![])
        .await
        .unwrap()
        .as_bool()
        .unwrap();
    assert!(fits, "the kept page fits 390 px");
    // And it was the kept copy: the service does not answer this browser any more.
    let answered = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch('/me/reminders', {cache: 'no-store'}).then(r => done(r.status), () => done(0));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(answered, serde_json::json!(0), "the service is gone");
}
