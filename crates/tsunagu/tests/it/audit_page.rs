//! The administrator's audit log page (#10), over HTTP on both back ends:
//! filters by account, family, action and a range of days in Japan; pages
//! back by the chain's sequence number (keyset, never an offset); downloads
//! the filtered lines as CSV in UTF-8 with a byte-order mark, the download
//! itself one `audit.export` line; nobody else may open either.

use crate::pages::Visitor;
use crate::support::*;
use tsunagu_domain::audit::{AuditAction, AuditContext, Requester};
use tsunagu_domain::clock::Clock;
use tsunagu_domain::roles::Role;
use tsunagu_domain::AccountId;

fn ctx(app: &TestApp, actor: AccountId, role: Role, at: jiff::Timestamp) -> AuditContext {
    Requester {
        municipality_id: app.fx.setagaya.id,
        actor,
        role,
        remote_addr: "127.0.0.1".into(),
        reason: "test".into(),
        at,
    }
    .without_a_policy_decision()
}

async fn story_the_audit_log_pages_filters_and_downloads(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    app.account(&fx.setagaya, "admin", Role::Admin, Scope::None).await;
    let nurse = app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    // 130 lines by the nurse on 21 November (Japan), 5 on the 22nd.
    let yesterday = app.clock.now() - jiff::SignedDuration::from_hours(24);
    for i in 0..130 {
        let c = ctx(&app, nurse, Role::Nurse, yesterday);
        app.store.write_audit(&c, AuditAction::FamilySearch, None, &format!("n={i}")).await.unwrap();
    }
    for i in 0..5 {
        let c = ctx(&app, nurse, Role::Nurse, app.clock.now());
        app.store.write_audit(&c, AuditAction::FamilyView, None, &format!("today={i}")).await.unwrap();
    }
    let mut admin = Visitor::new(&app);
    admin.sign_in("admin", Some(app.next_totp())).await;
    let rows = |body: &str| body.matches("class=\"audit-line\"").count();

    // The nurse's lines of the 21st: a page of 100, then the 30 older ones.
    let filter = format!("/admin/audit?actor={}&from=2026-11-21&to=2026-11-21", nurse.0);
    let first = admin.get(&filter).await;
    assert_eq!(first.status, 200);
    assert_eq!(rows(&first.body), 100);
    assert!(first.body.contains("family.search") && !first.body.contains("today="), "only the 21st");
    assert!(first.body.contains("令和8年11月21日(土)"), "times in Japan through the page's dates");
    assert!(first.body.contains("nurse (test)（"), "the account's name beside its number");
    assert!(
        first.body.contains("家庭の検索<br><span class=\"muted small action-code\">family.search"),
        "the action's label"
    );
    let at = first.body.find("id=\"audit-older\"").expect("a link to older lines");
    let href = &first.body[first.body[..at].rfind("href=\"").unwrap() + 6..];
    let href = href[..href.find('"').unwrap()].replace("&amp;", "&").replace("&#38;", "&");
    assert!(href.contains("before=") && !href.contains("offset"), "{href}");
    let second = admin.get(&href).await;
    assert_eq!(rows(&second.body), 30);
    assert!(second.body.contains("n=0<") && !second.body.contains("id=\"audit-older\""));
    assert!(second.body.contains("id=\"audit-newest\""));
    // By action, and by day: the 22nd holds the five views (and the page's own search lines).
    let today = admin.get("/admin/audit?action=family.view&from=2026-11-22").await;
    assert_eq!(rows(&today.body), 5);
    assert_eq!(admin.get("/admin/audit?from=2026-13-01").await.status, 400);

    // The download: the same filters, every line, UTF-8 with a BOM, one audit line.
    let resp = app
        .http
        .get(app.url(&format!("/admin/audit.csv?actor={}&from=2026-11-21&to=2026-11-21", nurse.0)))
        .header("cookie", admin.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(resp.headers()["content-disposition"].to_str().unwrap().contains("audit-2026-11-22.csv"));
    let bytes = resp.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "a byte-order mark for Excel");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(lines[0].starts_with("#,日時,アカウント番号,アカウント,役割,操作"), "{}", lines[0]);
    assert_eq!(lines.len(), 1 + 130, "every line of the filter, beyond a page");
    assert!(lines[1].contains(",2026-11-21 10:00:00,") && lines[1].contains(",nurse (test),"), "{}", lines[1]);
    assert!(lines[0].ends_with(",操作コード") && lines[1].ends_with(",family.search"), "{}", lines[1]);
    assert!(lines[1].contains(",家庭の検索,"), "the action's label: {}", lines[1]);
    let last = app
        .store
        .search_audit(fx.setagaya.id, &tsunagu_store::AuditQuery { limit: 1000, ..Default::default() })
        .await
        .unwrap();
    let export = last.iter().find(|l| l.action == "audit.export").expect("the download is audited");
    assert!(export.detail.contains("lines=130"), "{}", export.detail);
    assert_eq!(last.iter().filter(|l| l.action == "audit.export").count(), 1);

    // Nobody else opens the page or the download.
    let mut n = Visitor::new(&app);
    n.sign_in("nurse", Some(app.next_totp())).await;
    assert_eq!(n.get("/admin/audit").await.status, 403);
    assert_eq!(n.get("/admin/audit.csv").await.status, 403);
}

on_both!(the_audit_log_pages_filters_and_downloads => story_the_audit_log_pages_filters_and_downloads);
