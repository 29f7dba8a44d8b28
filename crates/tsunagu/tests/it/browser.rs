//! Pages in a real headless Chromium, driven over WebDriver.

use crate::support::*;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::process::{Child, Command, Stdio};
use tsunagu_domain::roles::Role;

/// A chromedriver of our own on a free port, stopped when dropped.
pub(crate) struct Browser {
    pub(crate) client: Client,
    driver: Child,
    _profile: std::path::PathBuf,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        // A test that ends without closing its session (a panic, or a test
        // that does not close) leaves the Chromium its driver started running
        // on after the driver is gone: stop every process of this profile.
        kill_processes_of(&self._profile);
        let _ = std::fs::remove_dir_all(&self._profile);
    }
}

/// Kills the processes whose command line names `profile` (Chromium's
/// browser, zygotes and renderers of one test's user data directory).
fn kill_processes_of(profile: &std::path::Path) {
    let needle = format!("--user-data-dir={}", profile.display());
    let Ok(entries) = std::fs::read_dir("/proc") else { return };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name.to_str().filter(|n| n.bytes().all(|b| b.is_ascii_digit())) else { continue };
        let Ok(cmdline) = std::fs::read(e.path().join("cmdline")) else { continue };
        if cmdline.split(|b| *b == 0).any(|arg| arg == needle.as_bytes()) {
            let _ = Command::new("kill").args(["-9", pid]).stderr(Stdio::null()).status();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub(crate) async fn browser() -> Browser {
    let chromedriver = std::env::var("TSUNAGU_TEST_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    let chromium = std::env::var("TSUNAGU_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let port = free_port();
    let driver = Command::new(&chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{chromedriver} must be installed (scripts/test.sh installs it): {e}"));
    let profile = std::env::temp_dir().join(format!("tsunagu-chromium-{}-{port}", std::process::id()));
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=390,844", "--lang=ja", format!("--user-data-dir={}", profile.display())]
        }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let mut last = None;
    for _ in 0..50 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => return Browser { client, driver, _profile: profile },
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start: {last:?}");
}

pub(crate) async fn sign_in(app: &TestApp, c: &Client, code: &str, username: &str, staff: bool) {
    c.goto(&app.url("/signin")).await.unwrap();
    c.find(Locator::Css("#municipality")).await.unwrap().select_by_value(code).await.unwrap();
    c.find(Locator::Id("username")).await.unwrap().send_keys(username).await.unwrap();
    c.find(Locator::Id("password")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    c.find(Locator::Id("signin-submit")).await.unwrap().click().await.unwrap();
    if staff {
        c.wait().for_element(Locator::Id("code")).await.unwrap().send_keys(&app.next_totp()).await.unwrap();
        c.find(Locator::Id("totp-submit")).await.unwrap().click().await.unwrap();
    }
    c.wait().for_element(Locator::Id("signout")).await.unwrap();
}

/// Saves a screenshot as `$TSUNAGU_TEST_SHOTS/<name>.png` when that is set
/// (for looking at the pages by eye; tests never compare pixels).
pub(crate) async fn shot(c: &Client, name: &str) {
    if let Ok(dir) = std::env::var("TSUNAGU_TEST_SHOTS") {
        let png = c.screenshot().await.unwrap();
        std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).unwrap();
    }
}

async fn fill(c: &Client, id: &str, value: &str) {
    let e = c.find(Locator::Id(id)).await.unwrap();
    e.clear().await.unwrap();
    e.send_keys(value).await.unwrap();
}

#[tokio::test]
async fn nurse_registers_a_notification_and_finds_it_by_kana() {
    let app = TestApp::start(Backend::Sqlite).await;
    app.account(&app.fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let b = browser().await;
    let c = &b.client;
    sign_in(&app, c, "131121", "nurse", true).await;
    assert!(c.current_url().await.unwrap().path().starts_with("/worklist"), "a nurse starts from her work list");
    c.find(Locator::Id("nav-new")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("notification-submit")).await.unwrap();
    // First with a mistake: kanji in a kana field. Nothing is saved; the error sits by the field.
    fill(c, "mother-family_name", "佐藤").await;
    fill(c, "mother-given_name", "美咲").await;
    fill(c, "mother-family_name_kana", "佐藤").await;
    fill(c, "mother-given_name_kana", "ミサキ").await;
    c.execute("document.getElementById('edd').value = '2027-06-01'", vec![]).await.unwrap();
    c.find(Locator::Id("notification-submit")).await.unwrap().click().await.unwrap();
    let err = c.wait().for_element(Locator::Id("err-mother-family_name_kana")).await.unwrap();
    assert_eq!(err.text().await.unwrap(), "ひらがな又はカタカナで入力してください");
    assert_eq!(
        c.find(Locator::Id("mother-given_name")).await.unwrap().prop("value").await.unwrap().as_deref(),
        Some("美咲")
    );
    fill(c, "mother-family_name_kana", "サトウ").await;
    c.find(Locator::Id("notification-submit")).await.unwrap().click().await.unwrap();
    let saved = c.wait().for_element(Locator::Id("saved")).await.unwrap();
    assert_eq!(saved.text().await.unwrap(), "妊娠届出を登録しました。");
    assert_eq!(c.find(Locator::Id("mother-name")).await.unwrap().text().await.unwrap(), "佐藤 美咲");
    // Found by half-width katakana with a space.
    c.goto(&app.url("/families")).await.unwrap();
    fill(c, "q", "ｻﾄｳ ﾐｻｷ").await;
    c.find(Locator::Id("search-submit")).await.unwrap().click().await.unwrap();
    let results = c.wait().for_element(Locator::Id("results")).await.unwrap();
    assert!(results.text().await.unwrap().contains("佐藤 美咲"));
    results.find(Locator::LinkText("佐藤 美咲")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("mother-name")).await.unwrap();
    // English is one click away.
    c.find(Locator::Id("lang-switch")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath("//h1[text()='Family record']")).await.unwrap();
    c.clone().close().await.unwrap();
}

#[tokio::test]
async fn family_member_cannot_open_another_familys_page() {
    let app = TestApp::start(Backend::Sqlite).await;
    let fx = &app.fx;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let ours = app.register(&nurse, &notification(fx.setagaya_area.id, "たかはし", "ゆい", "2027-05-20")).await;
    let theirs = app.register(&nurse, &notification(fx.setagaya_area.id, "わたなべ", "あおい", "2027-05-20")).await;
    app.account(&fx.setagaya, "mother", Role::FamilyMember, Scope::Family(ours)).await;
    let b = browser().await;
    let c = &b.client;
    sign_in(&app, c, "131121", "mother", false).await;
    assert_eq!(c.current_url().await.unwrap().path(), "/me");
    assert_eq!(c.find(Locator::Id("mother-name")).await.unwrap().text().await.unwrap(), "山田 花子");
    c.goto(&app.url(&format!("/families/{}", theirs.0))).await.unwrap();
    let msg = c.wait().for_element(Locator::Id("error-message")).await.unwrap();
    assert_eq!(msg.text().await.unwrap(), "このページを見る権限がありません");
    assert!(c.find(Locator::Id("mother-name")).await.is_err());
    c.goto(&app.url("/families")).await.unwrap();
    c.wait().for_element(Locator::Id("error-message")).await.unwrap();
    c.clone().close().await.unwrap();
}

#[tokio::test]
async fn analyst_cannot_open_any_family_page() {
    let app = TestApp::start(Backend::Sqlite).await;
    let fx = &app.fx;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    app.account(&fx.setagaya, "analyst", Role::Analyst, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let family = app.register(&nurse, &notification(fx.setagaya_area.id, "こばやし", "りん", "2027-05-20")).await;
    let b = browser().await;
    let c = &b.client;
    sign_in(&app, c, "131121", "analyst", true).await;
    for path in [
        format!("/families/{}", family.0),
        "/families".to_owned(),
        "/families/new".to_owned(),
        "/admin/audit".to_owned(),
    ] {
        c.goto(&app.url(&path)).await.unwrap();
        let msg = c.wait().for_element(Locator::Id("error-message")).await.unwrap();
        assert_eq!(msg.text().await.unwrap(), "このページを見る権限がありません", "{path}");
    }
    // And no audit line says the analyst read a person.
    let lines = app.store.audit_lines(fx.setagaya.id, 0, 1000).await.unwrap();
    assert!(lines.iter().all(|l| l.role != "analyst" || l.family_id.is_none()));
    c.clone().close().await.unwrap();
}

#[tokio::test]
async fn nurse_records_the_birth_of_twins() {
    let app = TestApp::start(Backend::Sqlite).await;
    let fx = &app.fx;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let mut body = notification(fx.setagaya_area.id, "なかむら", "あや", "2026-12-05");
    body["foetuses"] = json!(2);
    body["notified_on"] = json!("2026-05-10");
    let family = app.register(&nurse, &body).await;
    let b = browser().await;
    let c = &b.client;
    sign_in(&app, c, "131121", "nurse", true).await;
    c.goto(&app.url(&format!("/families/{}", family.0))).await.unwrap();
    c.wait().for_element(Locator::Css("a[id^='record-birth-']")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("birth-submit")).await.unwrap();
    for (i, (name, kana, sex, weight)) in
        [("蒼", "アオイ", "male", "2210"), ("陽", "ヒナタ", "female", "2035")].iter().enumerate()
    {
        c.execute(&format!("document.getElementById('babies-{i}-birth_date').value = '2026-11-15'"), vec![])
            .await
            .unwrap();
        c.find(Locator::Id(&format!("babies-{i}-sex"))).await.unwrap().select_by_value(sex).await.unwrap();
        fill(c, &format!("babies-{i}-given_name"), name).await;
        fill(c, &format!("babies-{i}-given_name_kana"), kana).await;
        fill(c, &format!("babies-{i}-gestational_weeks"), "36").await;
        fill(c, &format!("babies-{i}-gestational_days"), "2").await;
        fill(c, &format!("babies-{i}-birth_weight_g"), weight).await;
    }
    c.find(Locator::Id("babies-1-long_hospitalisation")).await.unwrap().click().await.unwrap();
    c.find(Locator::Id("birth-submit")).await.unwrap().click().await.unwrap();
    let saved = c.wait().for_element(Locator::Id("saved")).await.unwrap();
    assert_eq!(saved.text().await.unwrap(), "出生を記録しました。");
    let children = c.find(Locator::Id("children")).await.unwrap().text().await.unwrap();
    // Children take the mother's family name and its kana (the fixture writes 山田 as なかむら).
    assert!(children.contains("山田 蒼") && children.contains("なかむら アオイ"), "{children}");
    assert!(
        children.contains("山田 陽") && children.contains("36週2日") && children.contains("長期入院"),
        "{children}"
    );
    assert_eq!(c.find_all(Locator::Css("tr.baby")).await.unwrap().len(), 2);
    assert_eq!(c.find(Locator::Css("#pregnancies .status")).await.unwrap().text().await.unwrap(), "出産済み");
    c.clone().close().await.unwrap();
}

#[tokio::test]
async fn administrator_creates_and_disables_an_account() {
    let app = TestApp::start(Backend::Sqlite).await;
    let fx = &app.fx;
    app.account(&fx.setagaya, "admin", Role::Admin, Scope::None).await;
    let b = browser().await;
    let c = &b.client;
    sign_in(&app, c, "131121", "admin", true).await;
    assert_eq!(c.current_url().await.unwrap().path(), "/admin/accounts");
    // A coordinator needs an area: the form says so and keeps what was typed.
    fill(c, "new-username", "coord2").await;
    fill(c, "new-display_name", "支援室 コーディネーター").await;
    c.find(Locator::Id("new-role")).await.unwrap().select_by_value("coordinator").await.unwrap();
    fill(c, "new-password", "a sound long passphrase").await;
    c.find(Locator::Id("create-account")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("form-error")).await.unwrap();
    assert!(c.source().await.unwrap().contains("この役割には担当範囲が必要です"));
    fill(c, "new-password", "a sound long passphrase").await;
    c.find(Locator::Css(&format!("input[name='areas'][value='{}']", fx.setagaya_area.id.0)))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Id("create-account")).await.unwrap().click().await.unwrap();
    let notice = c.wait().for_element(Locator::Id("notice")).await.unwrap();
    assert_eq!(notice.text().await.unwrap(), "アカウントを作成しました。");
    let row = c.find(Locator::Id("account-coord2")).await.unwrap();
    assert!(row.text().await.unwrap().contains("コーディネーター"));
    // Disabling is confirmed in a second step (#10).
    row.find(Locator::Css(".disable-step summary")).await.unwrap().click().await.unwrap();
    row.find(Locator::Css("form[action$='/disable'] button")).await.unwrap().click().await.unwrap();
    // Wait for the page after the click, not the notice still on this one.
    c.wait()
        .for_element(Locator::XPath(
            "//*[@id='account-coord2']//*[contains(@class, 'state') and normalize-space() = '無効']",
        ))
        .await
        .unwrap();
    let account = app.store.account_by_username(fx.setagaya.id, "coord2").await.unwrap().unwrap();
    assert!(account.disabled && account.areas == vec![fx.setagaya_area.id]);
    c.clone().close().await.unwrap();
}

#[tokio::test]
async fn mother_applies_for_twins_nurse_approves_facility_sees_the_stay() {
    let app = TestApp::start(Backend::Sqlite).await;
    let fx = &app.fx;
    app.store
        .set_postpartum_facility(
            fx.setagaya.id,
            fx.facility.id,
            "公益財団法人日本助産師会",
            "Midwives' association",
            &tsunagu_domain::postpartum::calendar::FacilityCalendar::setagaya_centre(),
        )
        .await
        .unwrap();
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    app.account(&fx.setagaya, "facility", Role::FacilityStaff, Scope::Venues(vec![fx.facility.id])).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let mut body = notification(fx.setagaya_area.id, "さくら", "みお", "2026-11-20");
    body["foetuses"] = json!(2);
    body["notified_on"] = json!("2026-05-01");
    let family = app.register(&nurse, &body).await;
    let (_, rec) = app.get(&nurse, &format!("/api/v1/families/{}", family.0)).await;
    let p = rec["pregnancies"][0]["id"].as_i64().unwrap();
    let baby = json!({"birth_date": "2026-11-12", "sex": "female", "gestational_weeks": 38});
    app.post(
        &nurse,
        &format!("/api/v1/families/{}/pregnancies/{p}/births", family.0),
        &json!({"babies": [baby, baby]}),
    )
    .await;
    app.account(&fx.setagaya, "mother", Role::FamilyMember, Scope::Family(family)).await;

    // The mother, on her phone: apply, see the quote, submit.
    let b = browser().await;
    let c = &b.client;
    sign_in(&app, c, "131121", "mother", false).await;
    c.find(Locator::Id("nav-postpartum")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("apply")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("apply-preview")).await.unwrap();
    assert_eq!(
        c.find(Locator::Id("babies")).await.unwrap().prop("value").await.unwrap().as_deref(),
        Some("2"),
        "twins prefilled"
    );
    c.execute("document.getElementById('first_day').value = '2026-12-01'", vec![]).await.unwrap();
    fill(c, "days", "3").await;
    c.find(Locator::Id("has_worries_or_fatigue")).await.unwrap().click().await.unwrap();
    c.find(Locator::Id("lacks_help_from_relatives")).await.unwrap().click().await.unwrap();
    c.find(Locator::Id("apply-preview")).await.unwrap().click().await.unwrap();
    let total = c.wait().for_element(Locator::Id("quote-total")).await.unwrap();
    assert_eq!(total.text().await.unwrap(), "15,000円");
    assert_eq!(c.find_all(Locator::Css("tr.quote-line")).await.unwrap().len(), 2);
    assert!(c.find(Locator::Id("eligible")).await.is_ok());
    c.find(Locator::Id("apply-submit")).await.unwrap().click().await.unwrap();
    let notice = c.wait().for_element(Locator::Id("notice")).await.unwrap();
    assert_eq!(notice.text().await.unwrap(), "申し込みました。保健師が内容を確認します。");
    assert_eq!(c.find(Locator::Id("status")).await.unwrap().text().await.unwrap(), "審査待ち");
    let application_url = c.current_url().await.unwrap();
    c.clone().close().await.unwrap();

    // The nurse reviews and approves.
    let b = browser().await;
    let c = &b.client;
    sign_in(&app, c, "131121", "nurse", true).await;
    c.find(Locator::Id("nav-postpartum")).await.unwrap().click().await.unwrap();
    let row = c.wait().for_element(Locator::Css("tr.application a")).await.unwrap();
    row.click().await.unwrap();
    // Approving is a second step (#10): open it, then confirm.
    c.find(Locator::Id("approve")).await.unwrap().click().await.unwrap();
    fill(c, "approve-note", "双子。送迎の確認済み").await;
    c.find(Locator::Id("approve-confirm")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("notice")).await.unwrap();
    assert_eq!(c.find(Locator::Id("status")).await.unwrap().text().await.unwrap(), "利用決定");
    c.clone().close().await.unwrap();

    // The facility sees the stay and records its second day, on that day
    // (a day is recorded once it has come, #10).
    app.clock.advance(jiff::SignedDuration::from_hours(24 * 10));
    let b = browser().await;
    let c = &b.client;
    sign_in(&app, c, "131121", "facility", true).await;
    assert_eq!(c.current_url().await.unwrap().path(), "/postpartum");
    let list = c.find(Locator::Id("stays-today")).await.unwrap().text().await.unwrap();
    assert!(
        list.contains("令和8年12月1日(火)〜12月3日(木)") && list.contains("利用決定") && list.contains("山田 花子"),
        "{list}"
    );
    c.goto(application_url.as_str()).await.unwrap();
    fill(c, "note-text", "母子ともに良好").await;
    c.find(Locator::Id("add-note")).await.unwrap().click().await.unwrap();
    let notes = c.wait().for_element(Locator::Css(".stay-note")).await.unwrap();
    assert!(notes.text().await.unwrap().contains("母子ともに良好"));
    c.clone().close().await.unwrap();
}

#[tokio::test]
async fn nurse_works_through_her_overdue_list() {
    let app = TestApp::start(Backend::Sqlite).await;
    app.account(&app.fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let token = app.token(&app.fx.setagaya, "nurse").await;
    // Two pregnancies whose 8th-month interviews fell due on 14 November.
    for kana in ["おおた", "かわい"] {
        let mut body = notification(app.fx.setagaya_area.id, kana, "はな", "2027-01-10");
        body["notified_on"] = json!("2026-06-01");
        app.register(&token, &body).await;
    }
    let b = browser().await;
    let c = &b.client;
    sign_in(&app, c, "131121", "nurse", true).await;
    c.find(Locator::Id("nav-worklist")).await.unwrap().click().await.unwrap();
    let count = |id: &'static str| async move { c.find(Locator::Id(id)).await.unwrap().text().await.unwrap() };
    c.wait().for_element(Locator::Id("contacts")).await.unwrap();
    assert_eq!(count("count-overdue").await, "2");
    assert_eq!(count("count-missed").await, "4", "each family's interview and handbook meeting");
    shot(c, "worklist").await;
    let rows = c.find_all(Locator::Css("#contacts tr.contact")).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows[0].text().await.unwrap().contains("妊娠8か月面談"));

    // The first: met at a group session.
    rows[0].find(Locator::Css("a.record")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("outcome-form")).await.unwrap();
    c.find(Locator::Id("outcome-done")).await.unwrap().click().await.unwrap();
    c.find(Locator::Id("form-group")).await.unwrap().click().await.unwrap();
    c.find(Locator::Id("outcome-submit")).await.unwrap().click().await.unwrap();
    let notice = c.wait().for_element(Locator::Id("notice")).await.unwrap();
    assert_eq!(notice.text().await.unwrap(), "記録しました。");
    assert_eq!(count("count-overdue").await, "1");
    assert_eq!(c.find_all(Locator::Css("#contacts tr.contact")).await.unwrap().len(), 1);

    // The second declined: the reason is asked for first, by the field.
    c.find(Locator::Css("#contacts a.record")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("outcome-form")).await.unwrap();
    c.find(Locator::Id("outcome-declined")).await.unwrap().click().await.unwrap();
    c.find(Locator::Id("outcome-submit")).await.unwrap().click().await.unwrap();
    let err = c.wait().for_element(Locator::Id("note-error")).await.unwrap();
    shot(c, "contact-error").await;
    assert_eq!(err.text().await.unwrap(), tsunagu_web::i18n::t(tsunagu_web::i18n::Lang::Ja, "err.required"));
    fill(c, "note", "里帰り先で面談済みとのこと").await;
    c.find(Locator::Id("outcome-submit")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("notice")).await.unwrap();
    assert_eq!(count("count-overdue").await, "0");
    c.find(Locator::Id("no-rows")).await.unwrap();

    // Both are on the families' timelines with what was recorded.
    c.find(Locator::Id("tab-missed")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#tab-missed.current")).await.unwrap();
    assert_eq!(c.find_all(Locator::Css("#contacts tr.contact")).await.unwrap().len(), 4);
    c.find(Locator::Css("#contacts tr.contact a")).await.unwrap().click().await.unwrap();
    let timeline = c.wait().for_element(Locator::Id("timeline")).await.unwrap();
    c.execute("document.getElementById('timeline').scrollIntoView()", vec![]).await.unwrap();
    shot(c, "family-timeline").await;
    let text = timeline.text().await.unwrap();
    assert!(text.contains("妊娠8か月面談"), "{text}");
    assert!(text.contains("実施済み") || text.contains("終了"), "{text}");
}

#[tokio::test]
async fn mother_answers_the_epds_on_her_phone_and_the_nurse_sees_the_urgent_follow_up() {
    let app = TestApp::start(Backend::Sqlite).await;
    let fx = &app.fx;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let mut body = notification(fx.setagaya_area.id, "いとう", "さき", "2026-11-20");
    body["notified_on"] = json!("2026-05-01");
    let family = app.register(&nurse, &body).await;
    let (_, rec) = app.get(&nurse, &format!("/api/v1/families/{}", family.0)).await;
    let p = rec["pregnancies"][0]["id"].as_i64().unwrap();
    let baby = json!({"birth_date": "2026-11-08", "sex": "male", "gestational_weeks": 39});
    app.post(&nurse, &format!("/api/v1/families/{}/pregnancies/{p}/births", family.0), &json!({"babies": [baby]}))
        .await;
    app.account(&fx.setagaya, "mother", Role::FamilyMember, Scope::Family(family)).await;

    // The mother, on a phone-sized window: item by item, one tap per answer.
    // Total 10 (positive) with 1 on item 10 (urgent).
    let scores: [u8; 10] = [2, 2, 2, 2, 1, 0, 0, 0, 0, 1];
    let code = |n: usize| {
        let s = scores[n - 1];
        let position = if matches!(n, 1 | 2 | 4) { s } else { 3 - s };
        char::from(b'a' + position).to_string()
    };
    let b = browser().await;
    let c = &b.client;
    c.set_window_size(390, 844).await.unwrap();
    sign_in(&app, c, "131121", "mother", false).await;
    c.find(Locator::Id("nav-screenings")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("answer-epds")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("screening-form")).await.unwrap();
    assert!(c.find(Locator::Id("placeholder-note")).await.unwrap().text().await.unwrap().contains("使用許諾"));
    // Answers are big targets, and the page fits the phone's width.
    let (_, _, _, height) = c.find(Locator::Css("label[for='answer-1-a']")).await.unwrap().rectangle().await.unwrap();
    assert!(height >= 44.0, "an answer is {height}px tall");
    let fits = c.execute("return document.documentElement.scrollWidth <= window.innerWidth", vec![]).await.unwrap();
    assert_eq!(fits, json!(true), "the form scrolls sideways on a phone");
    // First she misses item 4: nothing is stored, the question says so, her answers stay.
    for n in (1..=10).filter(|n| *n != 4) {
        let label = format!("label[for='answer-{n}-{}']", code(n));
        c.find(Locator::Css(&label)).await.unwrap().click().await.unwrap();
    }
    c.find(Locator::Id("screening-submit")).await.unwrap().click().await.unwrap();
    let err = c.wait().for_element(Locator::Id("err-4")).await.unwrap();
    assert_eq!(err.text().await.unwrap(), "この質問に答えてください");
    assert!(c.find(Locator::Id("err-5")).await.is_err());
    let kept = c.find(Locator::Id(&format!("answer-1-{}", code(1)))).await.unwrap();
    assert_eq!(kept.prop("checked").await.unwrap().as_deref(), Some("true"));
    assert_eq!(
        app.store
            .audit_lines(fx.setagaya.id, 0, 10_000)
            .await
            .unwrap()
            .iter()
            .filter(|l| l.action == "screening.record")
            .count(),
        0
    );
    c.find(Locator::Css(&format!("label[for='answer-4-{}']", code(4)))).await.unwrap().click().await.unwrap();
    c.find(Locator::Id("screening-submit")).await.unwrap().click().await.unwrap();
    // A calm confirmation; where to get help now; never her score.
    let thanks = c.wait().for_element(Locator::Id("screening-thanks")).await.unwrap();
    assert_eq!(thanks.text().await.unwrap(), "回答を受け付けました。担当の保健師が拝見します。");
    let help = c.find(Locator::Id("help-now")).await.unwrap().text().await.unwrap();
    assert!(help.contains("ご連絡します") && help.contains("119"), "{help}");
    let page = c.source().await.unwrap();
    assert!(!page.contains("要フォロー") && !page.contains("至急") && !page.contains("10 / 30"));
    c.clone().close().await.unwrap();

    // The nurse: the new follow-up is at the top of her referrals, urgent, from the screening.
    let b = browser().await;
    let c = &b.client;
    sign_in(&app, c, "131121", "nurse", true).await;
    c.find(Locator::Id("nav-referrals")).await.unwrap().click().await.unwrap();
    let row = c.wait().for_element(Locator::Css("#referrals tr.referral")).await.unwrap();
    assert_eq!(row.attr("class").await.unwrap().as_deref(), Some("referral urgent"));
    let text = row.text().await.unwrap();
    assert!(text.contains("至急") && text.contains("スクリーニング") && text.contains("山田 花子"), "{text}");
    row.find(Locator::Css("a")).await.unwrap().click().await.unwrap();
    let note = c.wait().for_element(Locator::Id("note")).await.unwrap().text().await.unwrap();
    assert!(note.contains("EPDS合計点が9点以上") && note.contains("当日中の対応"), "{note}");
    // And on the family's screenings: 10 of 30, urgent, entered by the family.
    c.goto(&app.url(&format!("/families/{}/screenings", family.0))).await.unwrap();
    let result = c.wait().for_element(Locator::Css("tr.screening.urgent")).await.unwrap().text().await.unwrap();
    assert!(result.contains("10 / 30") && result.contains("至急") && result.contains("家族"), "{result}");
    // And at the top of her work list's urgent tab, counted beside the other lists.
    c.find(Locator::Id("nav-worklist")).await.unwrap().click().await.unwrap();
    let urgent = c.wait().for_element(Locator::Id("count-urgent")).await.unwrap();
    assert_eq!(urgent.text().await.unwrap(), "1");
    c.find(Locator::Id("tab-urgent")).await.unwrap().click().await.unwrap();
    let row = c.wait().for_element(Locator::Css("#followups tr.followup")).await.unwrap();
    assert_eq!(row.attr("data-source").await.unwrap().as_deref(), Some("screening"));
    assert!(row.text().await.unwrap().contains("山田 花子"));
    c.clone().close().await.unwrap();
}

#[tokio::test]
async fn nurse_confirms_an_eighth_month_group_and_records_attendance() {
    let app = TestApp::start(Backend::Sqlite).await;
    app.account(&app.fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let token = app.token(&app.fx.setagaya, "nurse").await;
    // Three women of the area due in early January: their 8th-month interviews are owed now.
    let mut pregnancies = vec![];
    for (kana, edd) in [("あんどう", "2027-01-04"), ("いしだ", "2027-01-08"), ("うの", "2027-01-12")] {
        let mut body = notification(app.fx.setagaya_area.id, kana, "はな", edd);
        body["notified_on"] = json!("2026-06-01");
        let family = app.register(&token, &body).await;
        let (_, rec) = app.get(&token, &format!("/api/v1/families/{}", family.0)).await;
        pregnancies.push(rec["pregnancies"][0]["id"].as_i64().unwrap());
    }
    let b = browser().await;
    let c = &b.client;
    sign_in(&app, c, "131121", "nurse", true).await;
    c.find(Locator::Id("nav-worklist")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("link-groups")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("choose-due-month")).await.unwrap();
    c.execute("document.getElementById('choose-due-month').value = '2027-01'", vec![]).await.unwrap();
    c.find(Locator::Id("choose-submit")).await.unwrap().click().await.unwrap();
    let proposal = c.wait().for_element(Locator::Id("proposal-0")).await.unwrap();
    assert_eq!(proposal.find_all(Locator::Css("input[name='members']:checked")).await.unwrap().len(), 3);
    shot(c, "group-proposals").await;

    // Confirm it for today, first without a place: asked for by the field, nothing saved.
    c.execute("document.getElementById('day-0').value = '2026-11-22'", vec![]).await.unwrap();
    c.find(Locator::Id("confirm-0")).await.unwrap().click().await.unwrap();
    let err = c.wait().for_element(Locator::Id("place-error-0")).await.unwrap();
    assert_eq!(err.text().await.unwrap(), tsunagu_web::i18n::t(tsunagu_web::i18n::Lang::Ja, "err.required"));
    fill(c, "place-0", "世田谷保健福祉センター 2階").await;
    c.find(Locator::Id("confirm-0")).await.unwrap().click().await.unwrap();
    let notice = c.wait().for_element(Locator::Id("notice")).await.unwrap();
    assert_eq!(notice.text().await.unwrap(), "グループを確定しました。");
    assert_eq!(c.find(Locator::Id("session-count")).await.unwrap().text().await.unwrap(), "3");
    shot(c, "group-session-attendance").await;

    // Two came; the third is still owed her interview.
    for p in &pregnancies[..2] {
        c.find(Locator::Id(&format!("attended-{p}"))).await.unwrap().click().await.unwrap();
    }
    c.find(Locator::Id("attendance-submit")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("attendees")).await.unwrap();
    let notice = c.find(Locator::Id("notice")).await.unwrap();
    assert_eq!(notice.text().await.unwrap(), "出欠を記録しました。");
    assert_eq!(c.find_all(Locator::Css("#attendees li.attendee")).await.unwrap().len(), 2);
    let absent = c.find(Locator::Id(&format!("absent-{}", pregnancies[2]))).await.unwrap();
    assert!(absent.text().await.unwrap().contains("期限超過"));
    c.execute("document.getElementById('attendees').scrollIntoView()", vec![]).await.unwrap();
    shot(c, "group-session-recorded").await;

    // Offered a home visit from her contact page, and back.
    c.find(Locator::Id(&format!("offer-{}", pregnancies[2]))).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("outcome-form")).await.unwrap();
    c.find(Locator::Id("outcome-done")).await.unwrap().click().await.unwrap();
    c.find(Locator::Id("form-home_visit")).await.unwrap().click().await.unwrap();
    c.find(Locator::Id("outcome-submit")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("notice")).await.unwrap();
    let absent = c.find(Locator::Id(&format!("absent-{}", pregnancies[2]))).await.unwrap();
    assert!(absent.text().await.unwrap().contains("実施済み"));
    assert!(c.find(Locator::Id(&format!("offer-{}", pregnancies[2]))).await.is_err());
    // Nothing is left to propose for January.
    c.goto(&app.url("/group-sessions?due_month=2027-01")).await.unwrap();
    c.wait().for_element(Locator::Id("no-proposals")).await.unwrap();
    assert_eq!(c.find_all(Locator::Css("#sessions tr.session")).await.unwrap().len(), 1);
    c.clone().close().await.unwrap();
}

#[tokio::test]
async fn nurse_records_the_monthly_handbook_meeting() {
    let app = TestApp::start(Backend::Sqlite).await;
    app.account(&app.fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let token = app.token(&app.fx.setagaya, "nurse").await;
    for (kana, consent) in [("えがわ", true), ("おがた", false)] {
        let mut body = notification(app.fx.setagaya_area.id, kana, "はな", "2027-05-01");
        body["notified_on"] = json!("2026-10-15");
        body["consent_coordinators"] = json!(consent);
        app.register(&token, &body).await;
    }
    let b = browser().await;
    let c = &b.client;
    sign_in(&app, c, "131121", "nurse", true).await;
    c.find(Locator::Id("nav-worklist")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("link-handbook")).await.unwrap().click().await.unwrap();
    // Last month's handbooks by default, with who may be shared.
    c.wait().for_element(Locator::Id("entries")).await.unwrap();
    assert_eq!(c.find_all(Locator::Css("#entries tr.entry")).await.unwrap().len(), 2);
    assert_eq!(c.find_all(Locator::Css("#entries tr.no-consent")).await.unwrap().len(), 1);
    c.find(Locator::Id("month-2026-10")).await.unwrap();
    c.execute("document.getElementById('list-title').scrollIntoView()", vec![]).await.unwrap();
    shot(c, "handbook-list").await;
    c.execute("document.getElementById('held_on').value = '2026-11-10'", vec![]).await.unwrap();
    fill(c, "meeting-note", "支援室3か所と共有").await;
    c.find(Locator::Id("meeting-submit")).await.unwrap().click().await.unwrap();
    let notice = c.wait().for_element(Locator::Id("notice")).await.unwrap();
    assert_eq!(notice.text().await.unwrap(), "会議を記録しました。");
    assert_eq!(c.find(Locator::Id("meeting-done")).await.unwrap().text().await.unwrap(), "2");
    let cell = c.find(Locator::Id("month-2026-10")).await.unwrap();
    assert_eq!(cell.attr("class").await.unwrap().as_deref(), Some("held current"));
    assert_eq!(c.find_all(Locator::Css("#entries .status-tag.done")).await.unwrap().len(), 2);
    c.execute("document.getElementById('meeting').scrollIntoView()", vec![]).await.unwrap();
    shot(c, "handbook-recorded").await;
    // In English too.
    c.find(Locator::Id("lang-switch")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath("//h1[text()='Monthly handbook meeting']")).await.unwrap();
    shot(c, "handbook-en").await;
    c.clone().close().await.unwrap();
}

async fn sign_out(c: &Client) {
    c.find(Locator::Id("signout")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("signin-submit")).await.unwrap();
}

async fn has(c: &Client, id: &str) -> bool {
    c.find(Locator::Id(id)).await.is_ok()
}

/// #10: the mother and her partner see different things. The partner does
/// not see the nurse's approval memo, the stay or the EPDS; once the mother
/// shares her health items the partner sees the stay (still no office
/// note, still no EPDS); once a nurse turns the partner's view off the
/// partner sees a neutral page that gives no reason.
#[tokio::test]
async fn the_mother_and_the_partner_see_different_things() {
    let app = TestApp::start(Backend::Sqlite).await;
    let f = crate::privacy::family_with_a_stay(&app).await;
    let stay = app.url(&format!("/postpartum/applications/{}", f.application));
    let b = browser().await;
    let c = &b.client;

    // The mother: her stay with the facility's note for her, not the
    // office's; her questionnaires, the EPDS among them; her sharing choice.
    sign_in(&app, c, "131121", "mother", false).await;
    c.goto(&stay).await.unwrap();
    c.wait().for_element(Locator::Id("stay")).await.unwrap();
    let body = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(body.contains("授乳良好"), "{body}");
    assert!(!body.contains("電話で本人確認済み") && !body.contains("母は疲労あり"), "{body}");
    assert!(!has(c, "approve").await && !has(c, "note-audience").await, "no staff buttons");
    c.goto(&app.url("/me/screenings")).await.unwrap();
    c.wait().for_element(Locator::Css("a[href='/me/screenings/epds']")).await.unwrap();
    shot(c, "privacy-mother-screenings").await;
    c.goto(&app.url("/me")).await.unwrap();
    assert!(has(c, "my-screenings").await && has(c, "sharing").await);
    sign_out(c).await;

    // The partner: the record, but not the stay, not the EPDS, no sharing choice.
    sign_in(&app, c, "131121", "partner", false).await;
    c.goto(&app.url("/me")).await.unwrap();
    c.wait().for_element(Locator::Id("people")).await.unwrap();
    assert!(!has(c, "my-screenings").await && !has(c, "sharing").await);
    c.goto(&stay).await.unwrap();
    c.wait().for_element(Locator::Id("neutral")).await.unwrap();
    assert!(!has(c, "stay").await);
    c.goto(&app.url("/me/screenings")).await.unwrap();
    c.wait().for_element(Locator::Id("neutral")).await.unwrap();
    assert!(c.find(Locator::Css("a[href='/me/screenings/epds']")).await.is_err());
    shot(c, "privacy-partner-not-shared").await;
    sign_out(c).await;

    // The mother shares her health items.
    sign_in(&app, c, "131121", "mother", false).await;
    c.goto(&app.url("/me")).await.unwrap();
    c.find(Locator::Id("share-health")).await.unwrap().click().await.unwrap();
    c.find(Locator::Id("share-save")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("saved")).await.unwrap();
    sign_out(c).await;

    // The partner sees the stay and the note for the family; never the office's, never the EPDS.
    sign_in(&app, c, "131121", "partner", false).await;
    c.goto(&stay).await.unwrap();
    c.wait().for_element(Locator::Id("stay")).await.unwrap();
    let body = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(body.contains("授乳良好"), "{body}");
    assert!(!body.contains("電話で本人確認済み") && !body.contains("母は疲労あり"), "{body}");
    c.goto(&app.url("/me/screenings")).await.unwrap();
    c.wait().for_element(Locator::Id("neutral")).await.unwrap();
    shot(c, "privacy-partner-shared").await;
    sign_out(c).await;

    // A nurse turns the partner's view off.
    sign_in(&app, c, "131121", "nurse", true).await;
    c.goto(&app.url(&format!("/families/{}", f.family.0))).await.unwrap();
    c.wait().for_element(Locator::Id("partner-view-off")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("partner-view-on")).await.unwrap();
    sign_out(c).await;

    // The partner: a neutral page, no record, no reason.
    sign_in(&app, c, "131121", "partner", false).await;
    c.goto(&app.url("/me")).await.unwrap();
    let neutral = c.wait().for_element(Locator::Id("neutral")).await.unwrap();
    assert_eq!(
        neutral.text().await.unwrap(),
        "いま表示できる内容はありません。ご不明な点はお住まいの市区町村の窓口にお問い合わせください。"
    );
    assert!(!has(c, "people").await && !has(c, "timeline").await);
    c.goto(&stay).await.unwrap();
    c.wait().for_element(Locator::Id("neutral")).await.unwrap();
    shot(c, "privacy-partner-view-off").await;
    c.clone().close().await.unwrap();
}
