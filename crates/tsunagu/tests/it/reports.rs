//! Reports (#14) over HTTP: who gets suppressed figures (the policy: every
//! download and API answer, the analyst and the administrator on the page;
//! unsuppressed only for the nurse on the page), the page's tables and SVG
//! charts, the CSV (UTF-8 with BOM, Shift_JIS) and the workbook, errors.

use crate::pages::Visitor;
use crate::support::*;
use serde_json::Value;
use tsunagu_domain::roles::Role;

/// The indicators table's notification row of FY2026 in an API answer.
fn notification_row(v: &Value) -> Value {
    let tables = v["years"][0]["tables"].as_array().unwrap();
    let t = tables.iter().find(|t| t["kind"] == "indicators").unwrap();
    t["rows"][0].clone()
}

pub(crate) async fn download(app: &TestApp, v: &Visitor<'_>, path: &str) -> (u16, String, String, Vec<u8>) {
    let cookies = v.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
    let resp = app.http.get(app.url(path)).header("cookie", cookies).send().await.unwrap();
    let status = resp.status().as_u16();
    let header = |h: &str| resp.headers().get(h).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let (ct, cd) = (header("content-type"), header("content-disposition"));
    (status, ct, cd, resp.bytes().await.unwrap().to_vec())
}

async fn story_who_sees_what_and_in_which_form(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    app.account(&fx.setagaya, "analyst", Role::Analyst, Scope::None).await;
    app.account(&fx.setagaya, "admin", Role::Admin, Scope::None).await;
    let calendar = tsunagu_domain::postpartum::calendar::FacilityCalendar::setagaya_centre();
    app.store.set_postpartum_facility(fx.setagaya.id, fx.facility.id, "運営", "Operator", &calendar).await.unwrap();
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let analyst = app.token(&fx.setagaya, "analyst").await;
    // Two notifications in FY2026 (令和8年度): a count under 10.
    let family = app.register(&nurse, &notification(fx.setagaya_area.id, "ヤマダ", "ハナコ", "2027-05-01")).await;
    app.register(&nurse, &notification(fx.setagaya_area.id, "ヤマダ", "ミカ", "2027-06-01")).await;

    // The API: suppressed for everyone, the nurse included.
    for token in [&analyst, &nurse] {
        let (s, v) = app.get(token, "/api/v1/reports?from=R8").await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["suppressed"], true);
        assert_eq!((v["label_ja"].as_str(), v["label_en"].as_str()), (Some("令和8年度"), Some("FY2026")));
        let row = notification_row(&v);
        assert_eq!(row["cells"][1]["text"], "*");
        assert_eq!(row["cells"][1]["suppressed"], true);
        assert_eq!(row["cells"][1]["value"], Value::Null, "a held-back cell has no number, never 0");
    }
    // A range: each year, and the facility days across them.
    let (s, v) = app.get(&analyst, "/api/v1/reports?from=2025&to=2026").await;
    assert_eq!(s, 200);
    assert_eq!(v["years"].as_array().unwrap().len(), 2);
    assert_eq!(v["across_years"]["kind"], "postpartum_across_years");
    // Errors are the caller's to fix; a family is refused.
    let (s, v) = app.get(&analyst, "/api/v1/reports?from=R8&to=R7").await;
    assert_eq!((s, v["error"]["code"].as_str()), (400, Some("period_reversed")));
    let (s, v) = app.get(&analyst, "/api/v1/reports?from=FY20X").await;
    assert_eq!((s, v["error"]["code"].as_str()), (400, Some("bad_fiscal_year")));
    app.account(&fx.setagaya, "mother", Role::FamilyMember, Scope::Family(family)).await;
    let mother = app.token(&fx.setagaya, "mother").await;
    assert_eq!(app.get(&mother, "/api/v1/reports").await.0, 403);
    // Each read of a report is one audit line, naming no family.
    let q = tsunagu_store::AuditQuery {
        action: Some(tsunagu_domain::audit::AuditAction::ReportView),
        limit: 100,
        ..Default::default()
    };
    let lines = app.store.search_audit(fx.setagaya.id, &q).await.unwrap();
    let reads: Vec<_> = lines.iter().filter(|l| l.action == "report.view").collect();
    assert_eq!(reads.len(), 3, "three reports read");
    assert!(reads.iter().all(|l| l.family_id.is_none()));
    // The old figures keep answering.
    let (s, v) = app.get(&analyst, "/api/v1/postpartum/figures?fy=2026").await;
    assert_eq!(s, 200, "{v}");

    // The page: the nurse sees the counts as they are; charts are SVG.
    let mut v = Visitor::new(&app);
    v.sign_in("nurse", Some(app.next_totp())).await;
    let page = v.get("/reports?from=2026").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"unsuppressed-note\""));
    assert!(page.body.contains("<svg id=\"chart-days\""));
    assert!(page.body.contains("<svg id=\"chart-occupancy\""));
    assert!(!page.body.contains("<script"));
    let table = page.body.split("id=\"table-2026-indicators\"").nth(1).unwrap();
    let table = table.split("</table>").next().unwrap();
    assert!(table.contains("<td class=\"num\">2</td>"), "{table}");
    // …but her downloads are suppressed: a file travels on.
    let (s, ct, cd, bytes) = download(&app, &v, "/reports/report.csv?from=2026").await;
    assert_eq!((s, ct.as_str()), (200, "text/csv; charset=utf-8"));
    assert!(cd.contains("report-FY2026.csv"));
    assert_eq!(&bytes[..3], &[0xEF, 0xBB, 0xBF], "UTF-8 with a BOM, for Excel");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert!(text.starts_with("令和8年度（FY2026）"));
    let ind = text.lines().find(|l| l.starts_with("妊娠届出時にアンケート")).unwrap();
    assert_eq!(ind.split(',').nth(2), Some("*"), "{ind}");
    let (s, ct, _, bytes) = download(&app, &v, "/reports/report.csv?from=2026&encoding=sjis").await;
    assert_eq!((s, ct.as_str()), (200, "text/csv; charset=shift_jis"));
    assert_eq!(&bytes[..2], &[0x97, 0xDF], "令 in Shift_JIS");
    let (s, ct, cd, bytes) = download(&app, &v, "/reports/report.xlsx?from=2026").await;
    assert_eq!(s, 200);
    assert_eq!(ct, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    assert!(cd.contains("report-FY2026.xlsx"));
    assert_eq!(&bytes[..2], b"PK");
    assert_eq!(download(&app, &v, "/reports/report.csv?from=2026&encoding=latin1").await.0, 400);

    // The analyst's page is suppressed.
    let mut a = Visitor::new(&app);
    a.sign_in("analyst", Some(app.next_totp())).await;
    let page = a.get("/reports?from=2026").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"suppressed-note\""));
    let table = page.body.split("id=\"table-2026-indicators\"").nth(1).unwrap();
    let table = table.split("</table>").next().unwrap();
    assert!(table.contains("<td class=\"num held\">*</td>") && !table.contains("<td class=\"num\">2</td>"), "{table}");
    // So is the administrator's.
    let mut ad = Visitor::new(&app);
    ad.sign_in("admin", Some(app.next_totp())).await;
    assert!(ad.get("/reports?from=2026").await.body.contains("id=\"suppressed-note\""));

    // The administrator sets the threshold; the nurse may not.
    assert_eq!(v.get("/reports/settings").await.status, 403);
    let page = ad.get("/reports/settings").await;
    assert_eq!(page.status, 200);
    let csrf = Visitor::csrf_in(&page.body);
    let bad = ad
        .post("/reports/settings", &[("_csrf", &csrf), ("threshold", "1"), ("rounding", ""), ("follow_up_days", "14")])
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("id=\"err-threshold\""));
    let done = ad
        .post("/reports/settings", &[("_csrf", &csrf), ("threshold", "2"), ("rounding", ""), ("follow_up_days", "7")])
        .await;
    assert_eq!((done.status, done.location.as_deref()), (303, Some("/reports/settings?saved=1")));
    let settings = app.store.report_settings(fx.setagaya.id).await.unwrap();
    assert_eq!((settings.suppression.threshold, settings.follow_up_days), (2, 7));
    assert_eq!(settings.chat_answer_hours, 24, "a form without the chat's hours keeps them");
    // The chat's answer time [003]: an error beside the field, then saved.
    let page = ad.get("/reports/settings").await;
    assert!(page.body.contains("id=\"chat_answer_hours\" inputmode=\"numeric\" value=\"24\""));
    let form = |hours: &'static str| {
        [
            ("_csrf", csrf.clone()),
            ("threshold", "2".into()),
            ("rounding", "".into()),
            ("follow_up_days", "7".into()),
            ("chat_answer_hours", hours.into()),
        ]
    };
    let bad = ad.post("/reports/settings", &form("0").iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>()).await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("id=\"err-chat_answer_hours\""));
    let done =
        ad.post("/reports/settings", &form("48").iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>()).await;
    assert_eq!(done.status, 303);
    assert_eq!(app.store.report_settings(fx.setagaya.id).await.unwrap().chat_answer_hours, 48);
    // Each save is one `report.settings` line; the refused ones wrote none.
    let q = tsunagu_store::AuditQuery {
        action: Some(tsunagu_domain::audit::AuditAction::ReportSettings),
        limit: 100,
        ..Default::default()
    };
    let saves = app.store.search_audit(fx.setagaya.id, &q).await.unwrap();
    assert_eq!(saves.len(), 2, "two saves: {saves:?}");
    assert!(saves.iter().all(|l| l.action == "report.settings" && l.family_id.is_none()));
    // The chat's table is on the page and in the API (suppressed there).
    assert!(ad.get("/reports?from=R8").await.body.contains("ピアサポートチャット"));
    let (_, v3) = app.get(&analyst, "/api/v1/reports?from=R8").await;
    assert!(v3["years"][0]["tables"].as_array().unwrap().iter().any(|t| t["kind"] == "chat_figures"));
    // Under a threshold of 2, two notifications are shown to the analyst.
    let (_, v2) = app.get(&analyst, "/api/v1/reports?from=R8").await;
    assert_eq!(notification_row(&v2)["cells"][1]["text"], "2");
    assert_eq!(v2["threshold"], 2);
}

/// Class participation (#12) in the report over HTTP: the API's copy is
/// suppressed where small — for the nurse too — and the nurse's page shows
/// the counts as they are; sessions held are the municipality's own work
/// and shown.
async fn story_class_participation_in_the_report(backend: Backend) {
    use crate::store_reports::{hand_built_session, room};
    use tsunagu_domain::classes::{ProgrammeConfig, ProgrammeKind};
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    let m = fx.setagaya.id;
    let staff = app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    app.account(&fx.setagaya, "analyst", Role::Analyst, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let analyst = app.token(&fx.setagaya, "analyst").await;
    let families = [
        app.register(&nurse, &notification(fx.setagaya_area.id, "ヤマダ", "ハナコ", "2027-05-01")).await,
        app.register(&nurse, &notification(fx.setagaya_area.id, "ヤマダ", "ミカ", "2027-06-01")).await,
        app.register(&nurse, &notification(fx.setagaya_area.id, "ヤマダ", "ユキ", "2027-06-01")).await,
    ];
    let venue = room(&app.store, m, fx.setagaya_area.id, "北沢子育て支援室", "Kitazawa room").await;
    let programme =
        app.store.create_programme(m, &ProgrammeConfig::seed_default(ProgrammeKind::MaternityClass)).await.unwrap().id;
    let db = crate::store_support::TestDb { backend, url: app.db_url.clone() };
    // One maternity class held on 10 June 2026: two couples and one alone
    // came — 1 session, 3 groups, 5 people, 2 couples.
    let came = |f, partner| (f, "confirmed", partner, Some(true));
    hand_built_session(
        &db,
        m,
        programme,
        "maternity_class",
        venue,
        "2026-06-10",
        (true, false),
        staff.0,
        &[came(families[0], true), came(families[1], true), came(families[2], false)],
    )
    .await;

    let class_row = |v: &Value| {
        let tables = v["years"][0]["tables"].as_array().unwrap();
        let t = tables.iter().find(|t| t["kind"] == "class_participation").expect("the classes table").clone();
        assert_eq!(t["rows"].as_array().unwrap().len(), 1, "{t}");
        t["rows"][0].clone()
    };
    for token in [&analyst, &nurse] {
        let (s, v) = app.get(token, "/api/v1/reports?from=R8").await;
        assert_eq!(s, 200, "{v}");
        let row = class_row(&v);
        assert_eq!(row["label"], "Kitazawa room (Maternity class)", "the API speaks English unless asked");
        assert_eq!(row["cells"][0]["text"], "1", "sessions held are shown");
        for c in 1..=3 {
            assert_eq!(row["cells"][c]["text"], "*", "{row}");
            assert_eq!(row["cells"][c]["suppressed"], true);
            assert_eq!(row["cells"][c]["value"], Value::Null);
        }
    }
    // The nurse's page: as they are.
    let mut v = Visitor::new(&app);
    v.sign_in("nurse", Some(app.next_totp())).await;
    let page = v.get("/reports?from=2026").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let table = page.body.split("id=\"table-2026-class_participation\"").nth(1).unwrap();
    let table = table.split("</table>").next().unwrap();
    assert!(table.contains("北沢子育て支援室（マタニティ教室）"), "{table}");
    for n in ["1", "3", "5", "2"] {
        assert!(table.contains(&format!("<td class=\"num\">{n}</td>")), "{n}: {table}");
    }
    // Her CSV travels on: suppressed.
    let (s, _, _, bytes) = download(&app, &v, "/reports/report.csv?from=2026").await;
    assert_eq!(s, 200);
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let line = text.lines().find(|l| l.contains("北沢子育て支援室")).unwrap();
    assert_eq!(line.split(',').skip(1).collect::<Vec<_>>(), ["1", "*", "*", "*"], "{line}");
}

on_both! {
    who_sees_what_and_in_which_form => story_who_sees_what_and_in_which_form,
    class_participation_in_the_report => story_class_participation_in_the_report,
}
