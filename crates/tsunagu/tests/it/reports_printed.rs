//! The figures a city printed (#14, reconciliation) over HTTP: the
//! administrator's form (errors beside the fields, 422, nothing stored),
//! the same checked input through the API, one audit line a save, and the
//! report showing recorded beside printed for the facility and districts.

use crate::pages::Visitor;
use crate::support::*;
use serde_json::json;
use tsunagu_domain::roles::Role;

async fn story_the_administrator_enters_printed_figures(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    for (name, role) in [("nurse", Role::Nurse), ("admin", Role::Admin)] {
        app.account(&fx.setagaya, name, role, Scope::None).await;
    }
    let calendar = tsunagu_domain::postpartum::calendar::FacilityCalendar::setagaya_centre();
    app.store.set_postpartum_facility(fx.setagaya.id, fx.facility.id, "運営", "Operator", &calendar).await.unwrap();
    let venue = fx.facility.id.0;
    let area = fx.setagaya_area.id.0;
    let kitazawa = fx.kitazawa_area.id.0;
    let lines = || async {
        let q = tsunagu_store::AuditQuery {
            action: Some(tsunagu_domain::audit::AuditAction::ReportPrinted),
            limit: 100,
            ..Default::default()
        };
        app.store.search_audit(fx.setagaya.id, &q).await.unwrap().len()
    };

    let mut ad = Visitor::new(&app);
    ad.sign_in("admin", Some(app.next_totp())).await;
    let page = ad.get("/reports/printed?fy=2022").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(&format!("name=\"ss.{venue}\"")));
    assert!(page.body.contains(&format!("name=\"area.{area}\"")));
    let csrf = Visitor::csrf_in(&page.body);
    let ss = format!("ss.{venue}");
    let dc = format!("dc.{venue}");
    let fam = format!("families.{venue}");
    let occ = format!("occupancy.{venue}");
    let a1 = format!("area.{area}");
    let a2 = format!("area.{kitazawa}");
    // Errors beside the fields; nothing stored.
    let bad = ad
        .post(
            "/reports/printed",
            &[("_csrf", &csrf), ("fy", "2022"), (&ss, "3725"), (&dc, ""), (&fam, "九百"), (&occ, "101"), (&a1, "353")],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains(&format!("id=\"err-dc.{venue}\"")));
    assert!(bad.body.contains(&format!("id=\"err-families.{venue}\"")));
    assert!(bad.body.contains(&format!("id=\"err-occupancy.{venue}\"")));
    assert!(bad.body.contains("value=\"3725\""), "what was typed is kept");
    assert_eq!(app.store.printed_figures(fx.setagaya.id).await.unwrap(), (vec![], vec![]));
    assert_eq!(lines().await, 0);
    // Saved: one line; the form shows what is stored.
    let done = ad
        .post(
            "/reports/printed",
            &[
                ("_csrf", &csrf),
                ("fy", "2022"),
                (&ss, "3,725"),
                (&dc, "706"),
                (&fam, "932"),
                (&occ, "82.4"),
                (&a1, "353"),
                (&a2, "140"),
            ],
        )
        .await;
    assert_eq!((done.status, done.location.as_deref()), (303, Some("/reports/printed?fy=2022&saved=1")));
    assert_eq!(lines().await, 1);
    let page = ad.get("/reports/printed?fy=2022&saved=1").await;
    assert!(page.body.contains("id=\"saved\"") && page.body.contains("value=\"82.4\""));
    // The nurse may not.
    let mut n = Visitor::new(&app);
    n.sign_in("nurse", Some(app.next_totp())).await;
    assert_eq!(n.get("/reports/printed?fy=2022").await.status, 403);

    // The API: the same input, the same checks.
    let admin = app.token(&fx.setagaya, "admin").await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let (s, v) = app.get(&admin, "/api/v1/reports/printed?fy=R4").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["facilities"][0]["short_stay_days"], 3725);
    assert_eq!(v["facilities"][0]["occupancy_tenths"], 824);
    assert_eq!(v["areas"].as_array().unwrap().len(), 2);
    let body = json!({"fiscal_year": "R3", "facilities": [{"venue_id": venue, "short_stay_days": "3683",
        "day_care_days": "672", "families": "", "occupancy": "80.5"}], "areas": []});
    let (s, v) = app.post(&admin, "/api/v1/reports/printed", &body).await;
    assert_eq!((s, v["error"]["code"].as_str()), (422, Some("invalid_input")), "{v}");
    let body = json!({"fiscal_year": "R3", "facilities": [{"venue_id": venue, "short_stay_days": "3683",
        "day_care_days": "672", "families": "854", "occupancy": "80.5"}], "areas": []});
    let (s, v) = app.post(&admin, "/api/v1/reports/printed", &body).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["fiscal_year"], 2021);
    assert_eq!(lines().await, 2);
    assert_eq!(app.post(&nurse, "/api/v1/reports/printed", &body).await.0, 403);

    // The report: recorded beside printed (no use recorded here: they differ).
    let (s, v) = app.get(&admin, "/api/v1/reports?from=2022").await;
    assert_eq!(s, 200);
    let y = &v["years"][0];
    assert_eq!(y["reconciliations"][0]["printed_rate"], "82.4%", "{y}");
    assert_eq!(y["reconciliations"][0]["counts"][0]["printed"], 3725);
    let districts = y["districts"].as_array().unwrap();
    assert_eq!(districts.len(), 2);
    assert_eq!((districts[0]["recorded"].as_u64(), districts[0]["printed"].as_u64()), (Some(0), Some(353)));
}

on_both! {
    the_administrator_enters_printed_figures => story_the_administrator_enters_printed_figures,
}
