//! Staff screens that hold what a decision needs (#10), as a nurse sees
//! them in a real headless Chromium (1366×900, a desk).

use crate::browser::{browser, shot, sign_in};
use crate::support::*;
use fantoccini::{Client, Locator};
use serde_json::json;
use tsunagu_domain::roles::Role;

/// A desk-sized window: staff work at 1366×900.
async fn desk(c: &Client) {
    c.set_window_size(1366, 900).await.unwrap();
}

async fn text(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css)).await.unwrap().text().await.unwrap()
}

/// A pregnancy notified on 1 June with an EDD of 10 January: on 22 November
/// (the test clock) its 8th-month interview is overdue.
async fn overdue_family(app: &TestApp, nurse: &str, kana: &str) -> tsunagu_domain::FamilyId {
    let mut body = notification(app.fx.setagaya_area.id, kana, "はな", "2027-01-10");
    body["notified_on"] = json!("2026-06-01");
    app.register(nurse, &body).await
}

#[tokio::test]
async fn the_work_list_opens_on_work_and_each_chip_counts_its_rows() {
    let app = TestApp::start(Backend::Sqlite).await;
    app.account(&app.fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let token = app.token(&app.fx.setagaya, "nurse").await;
    for kana in ["あおき", "いしだ", "うえの"] {
        overdue_family(&app, &token, kana).await;
    }
    let b = browser().await;
    let c = &b.client;
    desk(c).await;
    sign_in(&app, c, "131121", "nurse", true).await;
    c.goto(&app.url("/worklist")).await.unwrap();
    // The list opens on a chip with work, and says how many applications wait.
    let current = c.find(Locator::Css("nav.tabs a.current")).await.unwrap();
    let id = current.attr("id").await.unwrap().unwrap();
    let count: usize = text(c, &format!("#{id} .count")).await.parse().unwrap();
    assert!(count > 0, "opened on {id}, which has work");
    assert_eq!(text(c, "#count-applications").await, "0");
    shot(c, "staff-worklist").await;
    // Every chip: its count is the rows its list shows.
    let tabs: Vec<String> = {
        let mut ids = vec![];
        for a in c.find_all(Locator::Css("nav.tabs a")).await.unwrap() {
            if a.find(Locator::Css(".count")).await.is_ok() {
                ids.push(a.attr("id").await.unwrap().unwrap());
            }
        }
        ids
    };
    assert!(tabs.len() >= 5, "{tabs:?}");
    for tab in tabs {
        c.find(Locator::Id(&tab)).await.unwrap().click().await.unwrap();
        c.wait().for_element(Locator::Css(&format!("#{tab}.current"))).await.unwrap();
        let count: usize = text(c, &format!("#{tab} .count")).await.parse().unwrap();
        let rows = c.find_all(Locator::Css("#contacts tbody tr, #followups tbody tr")).await.unwrap().len();
        assert_eq!(rows, count, "{tab}");
    }
}

#[tokio::test]
async fn the_nurse_reviews_with_the_facts_and_confirms_in_a_second_step() {
    let app = TestApp::start(Backend::Sqlite).await;
    let f = crate::privacy::family_with_a_stay(&app).await;
    let body = crate::postpartum::application(None, app.fx.facility.id, "2026-12-10", 2, 2);
    let (s, v) = app.post(&f.mother, "/api/v1/postpartum/applications", &body).await;
    assert_eq!(s, 201, "{v}");
    let applied = v["id"].as_i64().unwrap();
    let b = browser().await;
    let c = &b.client;
    desk(c).await;
    sign_in(&app, c, "131121", "nurse", true).await;
    // The work list says one application waits.
    c.goto(&app.url("/worklist")).await.unwrap();
    assert_eq!(text(c, "#count-applications").await, "1");
    c.goto(&app.url(&format!("/postpartum/applications/{applied}"))).await.unwrap();
    assert!(text(c, "#answers").await.contains("体調や育児に不安・疲れがある"));
    assert!(text(c, "#eligibility-today").await.starts_with("対象です"));
    assert!(c.find(Locator::Id("other-applications")).await.is_ok());
    // Nothing is decided by one click: the confirming button appears only
    // once the step is opened.
    let confirm = c.find(Locator::Id("approve-confirm")).await.unwrap();
    assert!(!confirm.is_displayed().await.unwrap());
    c.find(Locator::Id("approve")).await.unwrap().click().await.unwrap();
    assert!(confirm.is_displayed().await.unwrap());
    assert!(text(c, "#approve-question").await.contains("よろしいですか"));
    shot(c, "staff-review").await;
    confirm.click().await.unwrap();
    c.wait().for_element(Locator::Id("notice")).await.unwrap();
    assert_eq!(text(c, "#status").await, "利用決定");
    // Cancelling is red and confirmed too.
    let cancel = c.find(Locator::Id("cancel-confirm")).await.unwrap();
    assert!(!cancel.is_displayed().await.unwrap());
    let colour =
        c.execute("return getComputedStyle(document.getElementById('cancel')).backgroundColor", vec![]).await.unwrap();
    assert_eq!(colour.as_str(), Some("rgb(179, 38, 30)"), "styled as destructive");
}

#[tokio::test]
async fn a_contact_takes_its_day_and_a_note_of_several_lines() {
    let app = TestApp::start(Backend::Sqlite).await;
    app.account(&app.fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let token = app.token(&app.fx.setagaya, "nurse").await;
    let family = overdue_family(&app, &token, "ひづけ").await;
    let (_, v) = app.get(&token, &format!("/api/v1/families/{}/contacts", family.0)).await;
    let contact = v["contacts"][0]["id"].as_i64().unwrap();
    let b = browser().await;
    let c = &b.client;
    desk(c).await;
    sign_in(&app, c, "131121", "nurse", true).await;
    c.goto(&app.url(&format!("/contacts/{contact}"))).await.unwrap();
    let day = c.find(Locator::Id("contacted-on")).await.unwrap();
    assert_eq!(day.prop("value").await.unwrap().as_deref(), Some("2026-11-22"), "today by default");
    // A day before the notification is refused by the field, in Japanese.
    c.execute("document.getElementById('contacted-on').value = '2026-05-01'", vec![]).await.unwrap();
    c.find(Locator::Id("outcome-not_reached")).await.unwrap().click().await.unwrap();
    let note = c.find(Locator::Id("note")).await.unwrap();
    note.send_keys("留守でした。\n手紙を投函").await.unwrap();
    c.find(Locator::Id("outcome-submit")).await.unwrap().click().await.unwrap();
    let err = c.wait().for_element(Locator::Id("contacted-on-error")).await.unwrap();
    assert_eq!(err.text().await.unwrap(), "実施日は妊娠届出日以降の日付を入力してください");
    c.execute("document.getElementById('contacted-on').value = '2026-11-20'", vec![]).await.unwrap();
    c.find(Locator::Id("outcome-submit")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("notice")).await.unwrap();
    c.goto(&app.url(&format!("/families/{}", family.0))).await.unwrap();
    let shown = text(c, &format!("#tl-{contact} .contact-note")).await;
    assert!(shown.starts_with("留守でした。\n手紙を投函"), "{shown}");
    shot(c, "staff-contact-note").await;
}

/// A facility's desk (#10): today's stays on top, the month's places, and
/// a day's record as a form of the seed's kinds of care and the mother's
/// and baby's condition; a day that has not come is refused, named.
#[tokio::test]
async fn the_facility_plans_by_today_and_records_a_day_of_care() {
    let app = TestApp::start(Backend::Sqlite).await;
    // Twins staying 22–24 November; today is the 22nd.
    crate::privacy::family_with_a_stay(&app).await;
    let b = browser().await;
    let c = &b.client;
    desk(c).await;
    sign_in(&app, c, "131121", "facility", true).await;
    c.goto(&app.url("/postpartum")).await.unwrap();
    assert!(text(c, "#stays-today").await.contains("令和8年11月22日(日)〜11月24日(火)"));
    assert!(text(c, "#calendar-month").await.contains("令和8年11月"));
    assert!(text(c, "#day-2026-11-23").await.contains("1/15"));
    shot(c, "staff-facility-desk").await;
    // Today's record.
    c.find(Locator::Css("#stays-today a")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("day-record-form")).await.unwrap();
    for care in ["mother_care", "feeding_advice"] {
        c.find(Locator::Id(&format!("care-{care}"))).await.unwrap().click().await.unwrap();
    }
    c.find(Locator::Id("record-mother")).await.unwrap().send_keys("疲れ気味").await.unwrap();
    c.find(Locator::Id("record-baby")).await.unwrap().send_keys("授乳8回、よく眠る").await.unwrap();
    c.find(Locator::Id("add-note")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("notice")).await.unwrap();
    let notes = text(c, "#notes").await;
    assert!(notes.contains("母体ケア、授乳相談") && notes.contains("授乳8回、よく眠る"), "{notes}");
    // Tomorrow, typed in: refused with the reason, nothing stored.
    // (the form's own max stops a browser first; past it, the server says why)
    let typed = "document.getElementById('day-record-form').noValidate = true; \
                 document.getElementById('note-day').value = '2026-11-23'";
    c.execute(typed, vec![]).await.unwrap();
    c.find(Locator::Id("record-baby")).await.unwrap().send_keys("x").await.unwrap();
    c.find(Locator::Id("add-note")).await.unwrap().click().await.unwrap();
    let error = c.wait().for_element(Locator::Id("form-error")).await.unwrap().text().await.unwrap();
    assert!(error.contains("記録できるのは今日までの日です"), "{error}");
    shot(c, "staff-facility-day-record").await;
}
