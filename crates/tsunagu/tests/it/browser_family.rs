//! What families see on a phone (#10), in a real headless Chromium: every
//! family page fits 360 px (no horizontal scroll), each is kept as a
//! screenshot at 390×844 under `target/screenshots/` for review, the own
//! record leads with what comes next, dates are Japan's.

use crate::browser::browser;
use crate::support::*;
use fantoccini::{Client, Locator};
use serde_json::json;
use std::collections::{BTreeSet, VecDeque};
use tsunagu_domain::roles::Role;

/// Signs in at the sign-in page with a password (family accounts have no second factor).
pub(crate) async fn sign_in_as(app: &TestApp, c: &Client, username: &str, password: &str) {
    c.goto(&app.url("/signin")).await.unwrap();
    c.find(Locator::Css("#municipality")).await.unwrap().select_by_value("131121").await.unwrap();
    c.find(Locator::Id("username")).await.unwrap().send_keys(username).await.unwrap();
    c.find(Locator::Id("password")).await.unwrap().send_keys(password).await.unwrap();
    c.find(Locator::Id("signin-submit")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("signout")).await.unwrap();
}

async fn sign_out(c: &Client) {
    c.find(Locator::Id("signout")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("signin-submit")).await.unwrap();
}

fn screenshots() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// How far the page is wider than the window, in CSS pixels (0 when it fits),
/// and the elements that stick out (for the failure message).
async fn overflow(c: &Client) -> (i64, String) {
    let v = c
        .execute(
            "const w = window.innerWidth; const over = document.documentElement.scrollWidth - w;
             const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w + 1)
               .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : '')
               + ' ' + Math.round(e.getBoundingClientRect().right)).join(', ');
             const narrow = [...document.querySelectorAll('td, th, dd')].filter(e => e.offsetParent !== null
               && e.textContent.trim().length > 2 && e.getBoundingClientRect().width < 40).slice(0, 5)
               .map(e => e.tagName.toLowerCase() + ' ' + JSON.stringify(e.textContent.trim().slice(0, 12))).join(', ');
             return [over + (narrow ? 1 : 0), w, wide + (narrow ? '; one-character columns: ' + narrow : '')];",
            vec![],
        )
        .await
        .unwrap();
    let over = v[0].as_i64().unwrap_or(0);
    (over, format!("inner width {}, too wide: {}", v[1], v[2]))
}

/// The same-origin pages a page links to that a family may walk to.
async fn links(c: &Client) -> Vec<String> {
    let v = c
        .execute(
            "return [...document.querySelectorAll('a[href]')].map(a => new URL(a.href, location.href))
               .filter(u => u.origin === location.origin).map(u => u.pathname + u.search);",
            vec![],
        )
        .await
        .unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .filter(|p| {
            !p.starts_with("/lang/")
                && !p.starts_with("/api/")
                && !p.starts_with("/static/")
                && !p.ends_with(".ics")
                && !p.contains("/fhir")
                && !p.contains("download")
        })
        .collect()
}

/// Walks every page a family account reaches from its own record (links,
/// two steps deep), at 360×740 and then 390×844; fails on a horizontal
/// overflow at 360 px and saves each page's screenshot at 390 px.
async fn walk(c: &Client, who: &str, failures: &mut Vec<String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from([("/me".to_owned(), 0)]);
    let mut walked = Vec::new();
    let base = c.current_url().await.unwrap();
    while let Some((path, depth)) = queue.pop_front() {
        if !seen.insert(path.clone()) || seen.len() > 24 {
            continue;
        }
        let url = base.join(&path).unwrap();
        c.set_window_size(360, 740).await.unwrap();
        c.goto(url.as_str()).await.unwrap();
        let landed = c.current_url().await.unwrap();
        let (over, detail) = overflow(c).await;
        if over > 0 {
            failures.push(format!("{who} {path} (at {}): {over} px too wide; {detail}", landed.path()));
        }
        // A proportional Japanese stack, never the fixed-width fallback (#10).
        let font = c.execute("return getComputedStyle(document.body).fontFamily", vec![]).await.unwrap();
        let font = font.as_str().unwrap_or_default();
        if !font.contains("Noto Sans JP") || !font.trim_end().ends_with("sans-serif") || font.contains("monospace") {
            failures.push(format!("{who} {path}: body font is {font}"));
        }
        walked.push(landed.path().to_owned());
        c.set_window_size(390, 844).await.unwrap();
        let name: String = format!("{who}{}", path.replace(['/', '?', '=', '&'], "_"));
        std::fs::write(screenshots().join(format!("{name}.png")), c.screenshot().await.unwrap()).unwrap();
        if depth < 2 {
            for next in links(c).await {
                queue.push_back((next, depth + 1));
            }
        }
    }
    walked
}

/// The quote and eligibility are on screen after asking (no jump to the top).
async fn assert_quote_in_view(c: &Client) {
    assert_eq!(c.current_url().await.unwrap().fragment(), Some("quote"));
    let top = c
        .execute("return document.getElementById('quote').getBoundingClientRect().top", vec![])
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    let height = c.execute("return window.innerHeight", vec![]).await.unwrap().as_f64().unwrap();
    assert!((-1.0..height / 2.0).contains(&top), "the quote starts at {top} of {height}");
}

#[tokio::test]
async fn every_family_page_fits_a_360_px_phone_and_is_kept_as_a_screenshot() {
    // The demo's Setagaya family (a newborn, with the mother and partner
    // accounts), and two more families of the demo's nurse: pregnant, and twins.
    let app = TestApp::start_demo(Backend::Sqlite, 10).await;
    let nurse = app.demo_token("nurse").await;
    let pregnant = app.register(&nurse, &notification(app.fx.setagaya_area.id, "アオキ", "ユイ", "2027-02-10")).await;
    let mut body = notification(app.fx.setagaya_area.id, "サクラ", "ミオ", "2026-11-20");
    body["foetuses"] = json!(2);
    body["notified_on"] = json!("2026-05-01");
    let twins = app.register(&nurse, &body).await;
    let (_, rec) = app.get(&nurse, &format!("/api/v1/families/{}", twins.0)).await;
    let p = rec["pregnancies"][0]["id"].as_i64().unwrap();
    let baby = |name: &str, kana: &str| json!({"birth_date": "2026-11-12", "sex": "female", "gestational_weeks": 37, "given_name": name, "given_name_kana": kana});
    let (status, born) = app
        .post(
            &nurse,
            &format!("/api/v1/families/{}/pregnancies/{p}/births", twins.0),
            &json!({"babies": [baby("陽菜", "ヒナ"), baby("結菜", "ユナ")]}),
        )
        .await;
    assert!(status == 200 || status == 201, "{born}");
    app.account(&app.fx.setagaya, "mama-pregnant", Role::FamilyMember, Scope::Family(pregnant)).await;
    app.account(&app.fx.setagaya, "mama-twins", Role::FamilyMember, Scope::Family(twins)).await;
    app.account(&app.fx.setagaya, "papa-twins", Role::FamilyMember, Scope::Partner(twins)).await;
    let demo_password = |username: &str| {
        tsunagu_demo::demo_accounts()
            .into_iter()
            .find(|a| a.username == username && a.municipality_code == "131121")
            .unwrap()
            .password
    };

    let b = browser().await;
    let c = &b.client;
    let accounts = [
        ("mother", demo_password("mother")),
        ("partner", demo_password("partner")),
        ("mama-pregnant", PASSWORD),
        ("mama-twins", PASSWORD),
        ("papa-twins", PASSWORD),
    ];
    let mut failures = Vec::new();
    for (username, password) in &accounts {
        sign_in_as(&app, c, username, password).await;
        let walked = walk(c, username, &mut failures).await;
        assert!(walked.len() >= 2, "{username} walked {walked:?}");
        sign_out(c).await;
    }
    assert!(failures.is_empty(), "pages wider than a 360-px phone:\n{}", failures.join("\n"));

    // What the own record leads with: the week of the pregnancy (EDD
    // 2027-02-10 on 2026-11-22 is 40w − 80 days = 28w4d), the twins by name
    // with their age, the next contact with its date (weekday, era).
    sign_in_as(&app, c, "mama-pregnant", PASSWORD).await;
    c.goto(&app.url("/me")).await.unwrap();
    let next = c.find(Locator::Id("next")).await.unwrap().text().await.unwrap();
    assert!(next.contains("妊娠28週4日"), "{next}");
    assert!(next.contains("令和"), "{next}");
    let first = c.find(Locator::Css("#next > h2 + *")).await.unwrap().attr("class").await.unwrap();
    assert_eq!(first.as_deref(), Some("now"), "the week comes first");
    // The page's order: what comes next, then the timeline, then the record.
    let order = c
        .execute(
            "const ids = ['next', 'timeline', 'people'].map(id => document.getElementById(id));
             return ids[0].compareDocumentPosition(ids[1]) & 4 && ids[1].compareDocumentPosition(ids[2]) & 4 ? true : false;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(order, serde_json::Value::Bool(true));
    let heads = c.find(Locator::Css("#timeline thead")).await.unwrap().html(false).await.unwrap();
    for office_word in ["期間", "期限", "状態"] {
        assert!(!heads.contains(office_word), "{office_word} in {heads}");
    }
    // Asking for a quote before the birth: the refusal says whom to call,
    // and no submit is offered that cannot work.
    c.set_window_size(360, 740).await.unwrap();
    c.goto(&app.url("/postpartum/apply")).await.unwrap();
    c.find(Locator::Id("apply-preview")).await.unwrap().click().await.unwrap();
    // Nothing born yet: the refusal sits by the babies' field.
    let refusal = c.wait().for_element(Locator::Id("err-babies")).await.unwrap().text().await.unwrap();
    assert_eq!(refusal, "出生がまだ記録されていません");
    assert!(c.find(Locator::Id("whom-to-call")).await.is_ok());
    assert!(c.find(Locator::Id("apply-submit")).await.is_err(), "no submit for an ineligible family");
    let (over, detail) = overflow(c).await;
    assert!(over <= 0, "the answer fits 360 px: {detail}");
    sign_out(c).await;

    // The demo's newborn: the quote in view, and a submit only if she may.
    sign_in_as(&app, c, "mother", demo_password("mother")).await;
    c.set_window_size(360, 740).await.unwrap();
    c.goto(&app.url("/postpartum/apply")).await.unwrap();
    c.find(Locator::Id("apply-preview")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("quote")).await.unwrap();
    assert_quote_in_view(c).await;
    let (over, detail) = overflow(c).await;
    assert!(over <= 0, "the application's confirmation fits 360 px: {detail}");
    // A submit exactly when the answer is yes.
    let eligible = c.find(Locator::Id("eligible")).await.is_ok();
    assert_eq!(c.find(Locator::Id("apply-submit")).await.is_ok(), eligible);
    c.set_window_size(390, 844).await.unwrap();
    std::fs::write(screenshots().join("mother_postpartum_apply_answer.png"), c.screenshot().await.unwrap()).unwrap();
    // A stay starting after the baby's 4 months: not eligible, whom to call, no submit, the answer in view.
    c.set_window_size(360, 740).await.unwrap();
    c.execute("document.getElementById('first_day').value = '2027-03-15'", vec![]).await.unwrap();
    c.find(Locator::Id("apply-preview")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("not-eligible")).await.unwrap();
    assert!(c.find(Locator::Id("whom-to-call")).await.is_ok());
    assert!(c.find(Locator::Id("apply-submit")).await.is_err(), "no submit for an ineligible stay");
    assert_quote_in_view(c).await;
    c.set_window_size(390, 844).await.unwrap();
    std::fs::write(screenshots().join("mother_postpartum_apply_not_eligible.png"), c.screenshot().await.unwrap())
        .unwrap();
    sign_out(c).await;

    sign_in_as(&app, c, "mama-twins", PASSWORD).await;
    c.goto(&app.url("/me")).await.unwrap();
    let next = c.find(Locator::Id("next")).await.unwrap().text().await.unwrap();
    // Born 2026-11-12: 10 days old on 2026-11-22.
    assert!(next.contains("陽菜　生後10日") && next.contains("結菜　生後10日"), "{next}");
    let lines = c.find_all(Locator::Css("#timeline tr.contact td:first-child")).await.unwrap();
    let mut per_child = 0;
    for l in &lines {
        let text = l.text().await.unwrap();
        if text.contains("陽菜") || text.contains("結菜") {
            per_child += 1;
        }
        assert!(!text.contains("（赤ちゃん）"), "a twin is named, not 'baby': {text}");
    }
    assert!(per_child >= 2, "the twins' contacts are named per child");
}

#[tokio::test]
async fn a_family_phone_keeps_its_own_record_for_offline_and_forgets_it_at_sign_out() {
    let app = TestApp::start(Backend::Sqlite).await;
    app.account(&app.fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let nurse = app.token(&app.fx.setagaya, "nurse").await;
    let family = app.register(&nurse, &notification(app.fx.setagaya_area.id, "アオキ", "ユイ", "2027-02-10")).await;
    app.account(&app.fx.setagaya, "mama", Role::FamilyMember, Scope::Family(family)).await;
    // The manifest: installable, starting at the family's own record.
    let manifest: serde_json::Value =
        app.http.get(app.url("/manifest.webmanifest")).send().await.unwrap().json().await.unwrap();
    assert_eq!(manifest["start_url"], "/me");
    assert_eq!(manifest["display"], "standalone");

    let b = browser().await;
    let c = &b.client;
    sign_in_as(&app, c, "mama", PASSWORD).await;
    c.goto(&app.url("/me")).await.unwrap();
    assert!(c.find(Locator::Css("link[rel=manifest]")).await.is_ok());
    let ready = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             navigator.serviceWorker.ready.then(r => done(r.active ? r.active.scriptURL : null), () => done(null));",
            vec![],
        )
        .await
        .unwrap();
    assert!(ready.as_str().is_some_and(|u| u.ends_with("/sw.js")), "{ready}");
    // Once the worker controls the page, the record it reads is kept.
    c.goto(&app.url("/me")).await.unwrap();
    let kept = |path: &'static str| async move {
        c.execute_async(
            &format!(
                "const done = arguments[arguments.length - 1];
                 caches.match('{path}').then(r => r ? r.text().then(t => done(t.includes('id=\"next\"'))) : done(false), () => done(false));"
            ),
            vec![],
        )
        .await
        .unwrap()
    };
    let mut record_kept = serde_json::Value::Bool(false);
    for _ in 0..20 {
        record_kept = kept("/me").await;
        if record_kept == serde_json::Value::Bool(true) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(record_kept, serde_json::Value::Bool(true), "the own record is kept for offline reading");
    // Signing out forgets it.
    sign_out(c).await;
    let left = c
        .execute_async(
            "const done = arguments[arguments.length - 1]; caches.keys().then(k => done(k.length), () => done(-1));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(left, serde_json::json!(0), "nothing is kept after sign-out");
    // Staff pages never load the script that registers the worker.
    let signin = app.http.get(app.url("/signin")).send().await.unwrap().text().await.unwrap();
    assert!(!signin.contains("family.js"));
}
