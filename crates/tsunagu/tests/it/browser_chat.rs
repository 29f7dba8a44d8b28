//! The peer-support chat in two real headless Chromium sessions: a parent
//! on a phone-sized window and a supporter on a desktop each see the
//! other's message appear without reloading; the supporter escalates and
//! the nurse's referrals show it.

use crate::browser::browser;
use crate::support::*;
use fantoccini::{Client, Locator};
use jiff::SignedDuration;
use serde_json::{json, Value};
use tsunagu_demo::chat::{PARENTS, PW_CHAT_PARENT};
use tsunagu_domain::clock::Clock;

async fn sign_in_as(app: &TestApp, c: &Client, username: &str, password: &str, totp: Option<&str>) {
    c.goto(&app.url("/signin")).await.unwrap();
    c.find(Locator::Css("#municipality")).await.unwrap().select_by_value("131121").await.unwrap();
    c.find(Locator::Id("username")).await.unwrap().send_keys(username).await.unwrap();
    c.find(Locator::Id("password")).await.unwrap().send_keys(password).await.unwrap();
    c.find(Locator::Id("signin-submit")).await.unwrap().click().await.unwrap();
    if let Some(secret) = totp {
        app.clock.advance(SignedDuration::from_secs(30));
        let code = tsunagu_web::base::auth::current_totp(secret, app.clock.now()).unwrap();
        c.wait().for_element(Locator::Id("code")).await.unwrap().send_keys(&code).await.unwrap();
        c.find(Locator::Id("totp-submit")).await.unwrap().click().await.unwrap();
    }
    c.wait().for_element(Locator::Id("signout")).await.unwrap();
}

async fn shot(c: &Client, name: &str) {
    if let Ok(dir) = std::env::var("TSUNAGU_TEST_SHOTS") {
        let png = c.screenshot().await.unwrap();
        std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).unwrap();
    }
}

async fn say(c: &Client, text: &str) {
    let body = c.find(Locator::Id("body")).await.unwrap();
    body.send_keys(text).await.unwrap();
    c.find(Locator::Id("send-button")).await.unwrap().click().await.unwrap();
}

async fn sees(c: &Client, text: &str) {
    let xpath = format!("//ol[@id='messages']/li[contains(., '{text}')]");
    c.wait().for_element(Locator::XPath(&xpath)).await.unwrap_or_else(|e| panic!("{text} never appeared: {e}"));
}

#[tokio::test]
async fn a_parent_on_a_phone_and_a_supporter_on_a_desktop_chat_live_and_the_nurse_gets_the_escalation() {
    let app = TestApp::start_demo(Backend::Sqlite, 20).await;
    let supporter = tsunagu_demo::demo_accounts().into_iter().find(|a| a.username == "supporter").unwrap();
    let token = app.demo_token("supporter").await;
    let (_, rooms) = app.get(&token, "/api/v1/chat/rooms").await;
    let room: &Value = &rooms["rooms"][0];
    let parent = PARENTS.iter().find(|(_, d)| json!(d) == room["display_name"]).unwrap().0;
    let room = room["id"].as_i64().unwrap();

    let phone = browser().await;
    let p = &phone.client;
    p.set_window_size(390, 844).await.unwrap();
    sign_in_as(&app, p, parent, PW_CHAT_PARENT, None).await;
    p.goto(&app.url("/chat")).await.unwrap();
    p.wait().for_element(Locator::Id("send")).await.unwrap();
    assert!(p.current_url().await.unwrap().path().ends_with(&format!("/chat/rooms/{room}")));
    let fits = p.execute("return document.documentElement.scrollWidth <= window.innerWidth", vec![]).await.unwrap();
    assert_eq!(fits, json!(true), "the room fits a phone's width");

    let desk = browser().await;
    let d = &desk.client;
    d.set_window_size(1280, 900).await.unwrap();
    sign_in_as(&app, d, "supporter", supporter.password, supporter.totp_secret).await;
    d.goto(&app.url(&format!("/chat/rooms/{room}"))).await.unwrap();
    d.wait().for_element(Locator::Id("send")).await.unwrap();

    // Each sees the other's message appear without reloading.
    say(p, "今夜も眠れそうにありません").await;
    sees(p, "今夜も眠れそうにありません").await;
    sees(d, "今夜も眠れそうにありません").await;
    say(d, "お昼に少し横になれるといいですね").await;
    sees(p, "お昼に少し横になれるといいですね").await;
    shot(p, "chat-phone").await;
    shot(d, "chat-desktop").await;

    // The supporter escalates; the nurse's referrals show it.
    let nurse_token = app.demo_token("nurse").await;
    let chat_referrals =
        |v: Value| v["referrals"].as_array().unwrap().iter().filter(|r| r["source"] == "chat_escalation").count();
    let before = chat_referrals(app.get(&nurse_token, "/api/v1/referrals?open=true").await.1);
    d.find(Locator::Id("escalate-note")).await.unwrap().send_keys("毎晩眠れず、気持ちが沈んでいる様子").await.unwrap();
    d.find(Locator::Id("escalate-send")).await.unwrap().click().await.unwrap();
    d.wait().for_element(Locator::Id("notice")).await.unwrap();
    // Signed out from a page without a socket: on the room's page the
    // socket's close (the session ended) also sends the page to sign-in,
    // and two navigations at once abort the click (seen under load).
    d.goto(&app.url("/")).await.unwrap();
    d.find(Locator::Id("signout")).await.unwrap().click().await.unwrap();
    d.wait().for_element(Locator::Id("signin-submit")).await.unwrap();
    let nurse = tsunagu_demo::demo_accounts().into_iter().find(|a| a.username == "nurse").unwrap();
    sign_in_as(&app, d, "nurse", nurse.password, nurse.totp_secret).await;
    d.goto(&app.url("/referrals")).await.unwrap();
    let body = d.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert_eq!(body.matches("チャットから").count(), before + 1, "{body}");
    assert_eq!(chat_referrals(app.get(&nurse_token, "/api/v1/referrals?open=true").await.1), before + 1);
    shot(d, "chat-nurse-referrals").await;
}
