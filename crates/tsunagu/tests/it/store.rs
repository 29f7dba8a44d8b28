//! Storage stories, each run on SQLite and on PostgreSQL.

use crate::support::*;
use tsunagu_domain::audit::{AuditContext, ChainError};
use tsunagu_domain::kana::search_key;
use tsunagu_domain::policy::FamilyFilter;
use tsunagu_domain::records::{BabyInput, BirthInput, NotificationInput};
use tsunagu_domain::roles::Role;
use tsunagu_store::StoreError;

fn ctx(app: &TestApp, m: tsunagu_domain::MunicipalityId) -> AuditContext {
    tsunagu_domain::audit::Requester {
        municipality_id: m,
        actor: tsunagu_domain::AccountId(1),
        role: Role::Nurse,
        remote_addr: "127.0.0.1".into(),
        reason: "test".into(),
        at: app.clock.now(),
    }
    .without_a_policy_decision()
}

use tsunagu_domain::clock::Clock;

fn input(v: serde_json::Value) -> NotificationInput {
    serde_json::from_value(v).expect("input")
}

async fn story_search_scopes_and_tenancy(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    let today = app.clock.today();
    let c = ctx(&app, fx.setagaya.id);
    let mut a = input(notification(fx.setagaya_area.id, "やまだ", "はなこ", "2027-05-20"));
    let hanako = app.store.register_notification(&c, &a.check(today).unwrap()).await.unwrap();
    a.mother.given_name_kana = "ゆきこ".into();
    a.consent_coordinators = false;
    let yukiko = app.store.register_notification(&c, &a.check(today).unwrap()).await.unwrap();
    a.mother.given_name_kana = "さちこ".into();
    a.consent_coordinators = true;
    a.area_id = fx.kitazawa_area.id.0;
    let sachiko = app.store.register_notification(&c, &a.check(today).unwrap()).await.unwrap();
    // The same name in another municipality.
    let mut o = input(notification(fx.other_area.id, "やまだ", "はなこ", "2027-05-20"));
    o.area_id = fx.other_area.id.0;
    let elsewhere = app.store.register_notification(&ctx(&app, fx.other.id), &o.check(today).unwrap()).await.unwrap();

    let all = FamilyFilter::Municipality(fx.setagaya.id);
    for typed in ["やまだ", "ヤマダ", "ﾔﾏﾀﾞ", "やま だ"] {
        let rows = app.store.search_families(&c, &all, &search_key(typed), 50).await.unwrap();
        let ids: Vec<_> = rows.iter().map(|r| r.family_id).collect();
        assert_eq!(ids.len(), 3, "{typed} on {backend:?}");
        assert!(ids.contains(&hanako) && ids.contains(&yukiko) && ids.contains(&sachiko));
        assert!(!ids.contains(&elsewhere));
    }
    // Given name alone, and full name in katakana with a space.
    let rows = app.store.search_families(&c, &all, &search_key("ハナコ"), 50).await.unwrap();
    assert_eq!(rows.iter().map(|r| r.family_id).collect::<Vec<_>>(), vec![hanako]);
    let rows = app.store.search_families(&c, &all, &search_key("ヤマダ　ハナコ"), 50).await.unwrap();
    assert_eq!(rows.len(), 1);
    // A coordinator of the Setagaya district sees only consenting families there.
    let coord = FamilyFilter::ConsentingInAreas(fx.setagaya.id, vec![fx.setagaya_area.id]);
    let rows = app.store.search_families(&c, &coord, &search_key("やまだ"), 50).await.unwrap();
    assert_eq!(rows.iter().map(|r| r.family_id).collect::<Vec<_>>(), vec![hanako]);
    let rows = app.store.search_families(&c, &FamilyFilter::Escalated(fx.setagaya.id), "", 50).await.unwrap();
    assert!(rows.is_empty());
    // Nothing crosses municipalities.
    assert!(app.store.family_access(fx.other.id, hanako).await.unwrap().is_none());
    assert!(app.store.open_family(&ctx(&app, fx.other.id), hanako).await.unwrap().is_none());
    assert!(app.store.search_families(&c, &FamilyFilter::Municipality(fx.other.id), "", 50).await.is_err());
}

async fn story_duplicates_and_births(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    let today = app.clock.today();
    let c = ctx(&app, fx.setagaya.id);
    let mut twins = input(notification(fx.setagaya_area.id, "すずき", "あい", "2026-12-01"));
    twins.foetuses = 2;
    twins.notified_on = Some("2026-05-01".into());
    twins.handbook_number = Some("R8-1".into());
    let n = twins.check(today).unwrap();
    let family = app.store.register_notification(&c, &n).await.unwrap();
    assert!(matches!(
        app.store.register_notification(&c, &n).await,
        Err(StoreError::Conflict("duplicate_notification"))
    ));
    let mut other = input(notification(fx.setagaya_area.id, "さとう", "めい", "2027-03-01"));
    other.handbook_number = Some("R8-1".into());
    assert!(matches!(
        app.store.register_notification(&c, &other.check(today).unwrap()).await,
        Err(StoreError::Conflict("handbook_number_taken"))
    ));
    let mut wrong_area = input(notification(fx.other_area.id, "さとう", "めい", "2027-03-01"));
    wrong_area.area_id = fx.other_area.id.0;
    assert!(matches!(
        app.store.register_notification(&c, &wrong_area.check(today).unwrap()).await,
        Err(StoreError::InvalidReference("area_id"))
    ));

    let record = app.store.open_family(&c, family).await.unwrap().unwrap();
    let p = record.pregnancies[0].clone();
    let baby = |name: &str| BabyInput {
        birth_date: "2026-11-10".into(),
        sex: "female".into(),
        given_name: Some(name.into()),
        given_name_kana: Some("ひな".into()),
        gestational_weeks: 36,
        gestational_days: 3,
        birth_weight_g: Some(2300),
        long_hospitalisation: true,
    };
    let babies = BirthInput { babies: vec![baby("陽菜"), baby("結菜")] }.check(&p, today).unwrap();
    let ids = app.store.record_birth(&c, family, p.id, &babies).await.unwrap();
    assert_eq!(ids.len(), 2);
    assert!(matches!(
        app.store.record_birth(&c, family, p.id, &babies).await,
        Err(StoreError::Conflict("pregnancy_not_ongoing"))
    ));
    let record = app.store.open_family(&c, family).await.unwrap().unwrap();
    assert_eq!(record.babies.len(), 2);
    assert_eq!(record.people.iter().filter(|p| p.relation.as_str() == "child").count(), 2);
    assert_eq!(record.pregnancies[0].status.as_str(), "delivered");
    assert!(record.babies.iter().all(|b| b.long_hospitalisation && b.gestational_weeks == 36));
}

async fn tamper(app: &TestApp) {
    match app.backend {
        Backend::Sqlite => {
            use sqlx::Connection;
            let mut conn = sqlx::SqliteConnection::connect(&app.db_url).await.unwrap();
            // The product refuses edits; someone with the file drops the guard first.
            assert!(sqlx::query("UPDATE audit_log SET reason = 'x' WHERE seq = 2").execute(&mut conn).await.is_err());
            assert!(sqlx::query("DELETE FROM audit_log WHERE seq = 2").execute(&mut conn).await.is_err());
            sqlx::query("DROP TRIGGER audit_log_no_update").execute(&mut conn).await.unwrap();
            sqlx::query("UPDATE audit_log SET reason = 'nothing happened' WHERE seq = 2")
                .execute(&mut conn)
                .await
                .unwrap();
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&app.db_url).await.unwrap();
            assert!(sqlx::query("UPDATE audit_log SET reason = 'x' WHERE seq = 2").execute(&mut conn).await.is_err());
            assert!(sqlx::query("DELETE FROM audit_log WHERE seq = 2").execute(&mut conn).await.is_err());
            assert!(sqlx::query("TRUNCATE audit_log").execute(&mut conn).await.is_err());
            sqlx::query("ALTER TABLE audit_log DISABLE TRIGGER USER").execute(&mut conn).await.unwrap();
            sqlx::query("UPDATE audit_log SET reason = 'nothing happened' WHERE seq = 2")
                .execute(&mut conn)
                .await
                .unwrap();
        }
    }
}

async fn story_audit_chain_detects_tampering(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    let c = ctx(&app, fx.setagaya.id);
    let today = app.clock.today();
    let family = app
        .store
        .register_notification(
            &c,
            &input(notification(fx.setagaya_area.id, "たなか", "みほ", "2027-04-01")).check(today).unwrap(),
        )
        .await
        .unwrap();
    for _ in 0..3 {
        app.store.open_family(&c, family).await.unwrap();
    }
    let lines = app.store.audit_lines(fx.setagaya.id, 0, 100).await.unwrap();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0].action, "family.create");
    assert!(lines[1..].iter().all(|l| l.action == "family.view" && l.family_id == Some(family)));
    let key = app.master_key.chain_key();
    let reports = tsunagu::verify_audit(app.store.as_ref(), &key, &[]).await.unwrap();
    assert!(reports.iter().all(|r| r.result.is_ok()), "{reports:?}");
    assert_eq!(app.write_checkpoints().await, 1);
    let (ok, out) = app.verify_command(&[]);
    assert!(ok, "{out}");
    assert!(out.contains("131121: ok (4 lines)"), "{out}");
    tamper(&app).await;
    let reports = tsunagu::verify_audit(app.store.as_ref(), &key, &[]).await.unwrap();
    let setagaya = reports.iter().find(|r| r.municipality_code == "131121").unwrap();
    assert_eq!(setagaya.result, Err(ChainError::Edited { seq: 2 }));
    let (ok, out) = app.verify_command(&[]);
    assert!(!ok, "the verify command must fail: {out}");
    assert!(out.contains("131121: TAMPERED: line 2"), "{out}");
}

on_both!(
    search_scopes_and_tenancy => story_search_scopes_and_tenancy,
    duplicates_and_births => story_duplicates_and_births,
    audit_chain_detects_tampering => story_audit_chain_detects_tampering,
);
