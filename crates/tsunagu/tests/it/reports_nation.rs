//! The nation-wide report (#14) over HTTP: the analyst's only (the policy's
//! `ViewNationReport`), always suppressed, a row per municipality and the
//! nation's total in every table, as a page, CSV, workbook and the API, one
//! audit line a read in the reader's municipality.

use crate::pages::Visitor;
use crate::reports::download;
use crate::support::*;
use tsunagu_domain::roles::Role;

async fn story_the_analyst_reads_the_nation(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    for (name, role) in [("nurse", Role::Nurse), ("analyst", Role::Analyst), ("admin", Role::Admin)] {
        app.account(&fx.setagaya, name, role, Scope::None).await;
    }
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let analyst = app.token(&fx.setagaya, "analyst").await;
    let admin = app.token(&fx.setagaya, "admin").await;
    // Two notifications in FY2026: small counts, held back.
    app.register(&nurse, &notification(fx.setagaya_area.id, "ヤマダ", "ハナコ", "2027-05-01")).await;
    app.register(&nurse, &notification(fx.setagaya_area.id, "ヤマダ", "ミカ", "2027-06-01")).await;

    let (s, v) = app.get(&analyst, "/api/v1/reports/nation?fy=R8").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!((v["label_ja"].as_str(), v["suppressed"].as_bool()), (Some("令和8年度"), Some(true)));
    let tables = v["years"][0]["tables"].as_array().unwrap();
    let kinds: Vec<&str> = tables.iter().filter_map(|t| t["kind"].as_str()).collect();
    assert_eq!(
        kinds,
        vec![
            "postpartum_use",
            "follow_ups",
            "eighth_month_interviews",
            "happy_baby",
            "handbook_meetings",
            "check_non_attendees",
            "screening",
            "referrals"
        ]
    );
    // Every municipality of the service, then the nation.
    for t in tables {
        let rows = t["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 3, "{t}");
        assert_eq!(rows[2]["total"], true);
        assert_eq!(rows[2]["label"], "Nation");
        assert_eq!(t["columns"][0], "Municipality");
    }
    // Nobody else, whatever their role; a bad year is the caller's to fix.
    for token in [&nurse, &admin] {
        let (s, v) = app.get(token, "/api/v1/reports/nation?fy=R8").await;
        assert_eq!((s, v["error"]["code"].as_str()), (403, Some("forbidden")));
    }
    let (s, v) = app.get(&analyst, "/api/v1/reports/nation?fy=FY20X").await;
    assert_eq!((s, v["error"]["code"].as_str()), (400, Some("bad_fiscal_year")));
    // One line a read, in the reader's municipality, naming no family.
    let q = tsunagu_store::AuditQuery {
        action: Some(tsunagu_domain::audit::AuditAction::ReportNationView),
        limit: 100,
        ..Default::default()
    };
    let lines = app.store.search_audit(fx.setagaya.id, &q).await.unwrap();
    assert_eq!(lines.len(), 1);
    assert!(lines[0].family_id.is_none());
    assert!(app.store.search_audit(fx.other.id, &q).await.unwrap().is_empty());

    // The page, the CSV and the workbook.
    let mut a = Visitor::new(&app);
    a.sign_in("analyst", Some(app.next_totp())).await;
    let page = a.get("/reports/nation?fy=2026").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"table-2026-postpartum_use\""));
    assert!(page.body.contains("全国計"));
    assert!(page.body.contains("id=\"suppressed-note\""));
    let (s, ct, cd, bytes) = download(&app, &a, "/reports/nation.csv?fy=2026").await;
    assert_eq!((s, ct.as_str()), (200, "text/csv; charset=utf-8"));
    assert!(cd.contains("nation-FY2026.csv"));
    assert_eq!(&bytes[..3], &[0xEF, 0xBB, 0xBF]);
    assert!(String::from_utf8(bytes[3..].to_vec()).unwrap().contains("全国計"));
    let (s, _, cd, bytes) = download(&app, &a, "/reports/nation.xlsx?fy=2026").await;
    assert_eq!((s, &bytes[..2]), (200, &b"PK"[..]));
    assert!(cd.contains("nation-FY2026.xlsx"));
    let mut n = Visitor::new(&app);
    n.sign_in("nurse", Some(app.next_totp())).await;
    assert_eq!(n.get("/reports/nation?fy=2026").await.status, 403);
}

on_both! {
    the_analyst_reads_the_nation => story_the_analyst_reads_the_nation,
}
