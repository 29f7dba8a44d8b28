//! The report page on the demo's data in a real headless Chromium at
//! 1366×900 (#14): last fiscal year and this one show figures — not all
//! held back, not all zero, some held back — and the chart is drawn.

use crate::browser::{browser, shot, sign_in};
use crate::support::*;
use fantoccini::Locator;
use tsunagu_domain::clock::Clock;
use tsunagu_domain::roles::Role;

#[tokio::test]
async fn the_demo_report_shows_two_years_of_figures() {
    let app = TestApp::start_demo(Backend::Sqlite, 200).await;
    app.account(&app.fx.setagaya, "reader", Role::Analyst, Scope::None).await;
    let b = browser().await;
    let c = &b.client;
    c.set_window_size(1366, 900).await.unwrap();
    sign_in(&app, c, "131121", "reader", true).await;
    let today = tsunagu_domain::clock::japan_date(app.clock.now());
    let this = tsunagu_domain::fiscal::FiscalYear::of(today).unwrap().year();
    c.goto(&app.url(&format!("/reports?from={}&to={this}", this - 1))).await.unwrap();
    c.wait().for_element(Locator::Id(&format!("fy-{}", this - 1))).await.unwrap();
    for year in [this - 1, this] {
        let cells = c.find_all(Locator::Css(&format!("#fy-{year} td.num"))).await.unwrap();
        let mut texts = Vec::new();
        for cell in &cells {
            texts.push(cell.text().await.unwrap());
        }
        let figures = texts.iter().filter(|t| *t != "*" && *t != "0" && *t != "-").count();
        assert!(figures >= 3, "FY{year}: real figures are shown: {texts:?}");
        assert!(texts.iter().any(|t| t == "*"), "FY{year}: some small cells are held back: {texts:?}");
        for table in ["postpartum_use", "screening"] {
            let id = format!("table-{year}-{table}");
            let shown = c
                .execute(
                    &format!(
                        "return [...document.querySelectorAll('#{id} td.num')].some(td => !['*', '0', '-'].includes(td.textContent))"
                    ),
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(shown, serde_json::Value::Bool(true), "{id} shows a figure");
        }
    }
    let width =
        c.execute("return document.getElementById('chart-days').getBoundingClientRect().width", vec![]).await.unwrap();
    assert!(width.as_f64().unwrap() > 100.0, "the chart is laid out: {width}");
    shot(c, "reports-demo").await;
}
