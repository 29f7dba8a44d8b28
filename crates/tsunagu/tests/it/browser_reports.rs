//! The report page in a real headless Chromium (#14): the charts are SVG
//! the browser lays out (no script of ours), the tables are there, and the
//! stylesheet carries the A4 print layout.

use crate::browser::{browser, shot, sign_in};
use crate::support::*;
use fantoccini::Locator;
use tsunagu_domain::roles::Role;

#[tokio::test]
async fn the_report_page_draws_its_charts_and_prints_on_a4() {
    let app = TestApp::start(Backend::Sqlite).await;
    app.account(&app.fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let calendar = tsunagu_domain::postpartum::calendar::FacilityCalendar::setagaya_centre();
    app.store
        .set_postpartum_facility(app.fx.setagaya.id, app.fx.facility.id, "運営", "Operator", &calendar)
        .await
        .unwrap();
    let b = browser().await;
    let c = &b.client;
    sign_in(&app, c, "131121", "nurse", true).await;
    c.find(Locator::Id("nav-reports")).await.unwrap().click().await.unwrap();
    let label = c.wait().for_element(Locator::Id("period-label")).await.unwrap();
    assert_eq!(label.text().await.unwrap(), "令和8年度（FY2026）");
    // A range of two years, chosen in the form.
    c.find(Locator::Css("#from")).await.unwrap().select_by_value("2025").await.unwrap();
    c.find(Locator::Css("#report-period button")).await.unwrap().click().await.unwrap();
    // The new page has a section for FY2025 (the old one had none).
    c.wait().for_element(Locator::Id("fy-2025")).await.unwrap();
    let label = c.find(Locator::Id("period-label")).await.unwrap();
    assert_eq!(label.text().await.unwrap(), "令和7年度〜令和8年度（FY2025–FY2026）");
    for chart in ["chart-days", "chart-occupancy"] {
        let width = c
            .execute(&format!("return document.getElementById('{chart}').getBoundingClientRect().width"), vec![])
            .await
            .unwrap();
        assert!(width.as_f64().unwrap() > 100.0, "{chart} is laid out: {width}");
    }
    let labels = c.find_all(Locator::Css("#chart-days text.tick")).await.unwrap();
    assert!(labels.len() >= 3, "gridlines and the two years are labelled");
    assert!(c.find(Locator::Id("table-postpartum_across_years")).await.is_ok());
    assert!(c.find(Locator::Id("table-2026-postpartum_use")).await.is_ok());
    // The print layout: an @page rule for A4 in the page's stylesheet.
    let a4 = c
        .execute(
            "return [...document.styleSheets].some(s => [...s.cssRules].some(r => r.cssText.startsWith('@page') && r.cssText.toLowerCase().includes('a4')))",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(a4, serde_json::Value::Bool(true));
    shot(c, "reports").await;
}
