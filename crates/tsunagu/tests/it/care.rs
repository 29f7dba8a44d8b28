//! Concerns and referrals, online follow-ups, the online talk and incident
//! reports, end to end on both back ends.

use crate::support::*;
use serde_json::{json, Value};
use tsunagu_domain::postpartum::calendar::FacilityCalendar;
use tsunagu_domain::roles::Role;
use tsunagu_domain::FamilyId;

/// A Setagaya family with a baby born 2026-11-15 and an approved stay at
/// the fixture's facility (the municipal centre) on 24–26 November.
pub(crate) async fn family_with_stay(app: &TestApp, nurse: &str, kana: &str) -> (FamilyId, i64) {
    let fx = &app.fx;
    let mut body = notification(fx.setagaya_area.id, kana, "はな", "2026-11-20");
    body["notified_on"] = json!("2026-05-01");
    let family = app.register(nurse, &body).await;
    let (_, rec) = app.get(nurse, &format!("/api/v1/families/{}", family.0)).await;
    let p = rec["pregnancies"][0]["id"].as_i64().unwrap();
    let baby = json!({"birth_date": "2026-11-15", "sex": "female", "gestational_weeks": 39});
    app.post(nurse, &format!("/api/v1/families/{}/pregnancies/{p}/births", family.0), &json!({"babies": [baby]})).await;
    let (s, v) = app
        .post(
            nurse,
            "/api/v1/postpartum/applications",
            &json!({"family_id": family.0, "venue_id": fx.facility.id.0, "service": "short_stay", "first_day": "2026-11-24",
                    "days": 3, "babies": 1, "answers": {"has_worries_or_fatigue": true, "lacks_help_from_relatives": true}}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_i64().unwrap();
    assert_eq!(app.post(nurse, &format!("/api/v1/postpartum/applications/{id}/approve"), &json!({})).await.0, 204);
    (family, id)
}

pub(crate) async fn setup(app: &TestApp) -> String {
    let fx = &app.fx;
    app.store
        .set_postpartum_facility(
            fx.setagaya.id,
            fx.facility.id,
            "助産師会",
            "Midwives",
            &FacilityCalendar::setagaya_centre(),
        )
        .await
        .unwrap();
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    app.account(&fx.setagaya, "facility", Role::FacilityStaff, Scope::Venues(vec![fx.facility.id])).await;
    app.account(&fx.setagaya, "caseworker", Role::Caseworker, Scope::None).await;
    app.account(&fx.setagaya, "analyst", Role::Analyst, Scope::None).await;
    app.token(&fx.setagaya, "nurse").await
}

async fn story_a_facility_alert_is_taken_up(backend: Backend) {
    let app = TestApp::start(backend).await;
    let nurse = setup(&app).await;
    let fx = &app.fx;
    let (family, application) = family_with_stay(&app, &nurse, "あらーと").await;
    let facility = app.token(&fx.setagaya, "facility").await;
    let concern = json!({"family_id": family.0, "note": "夜間ほとんど眠れていない様子", "urgent": true, "application_id": application});
    let (s, v) = app.post(&facility, "/api/v1/referrals", &concern).await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_i64().unwrap();
    // Roles that do not meet the family, or may not see it, cannot raise.
    let analyst = app.token(&fx.setagaya, "analyst").await;
    assert_eq!(app.post(&analyst, "/api/v1/referrals", &concern).await.0, 403);
    let caseworker = app.token(&fx.setagaya, "caseworker").await;
    assert_eq!(app.get(&caseworker, &format!("/api/v1/families/{}", family.0)).await.0, 403);
    // The nurse sees it first, urgent, with the note; the facility sees the status only.
    let (_, v) = app.get(&nurse, "/api/v1/referrals?open=true").await;
    assert_eq!(v["referrals"][0]["id"], id);
    assert_eq!(v["referrals"][0]["urgent"], true);
    assert_eq!(v["referrals"][0]["note"], "夜間ほとんど眠れていない様子");
    let (_, v) = app.get(&facility, "/api/v1/referrals").await;
    assert_eq!(
        v["referrals"][0],
        json!({"id": id, "status": "raised", "raised_at": v["referrals"][0]["raised_at"], "application_id": application})
    );
    assert_eq!(app.get(&facility, &format!("/api/v1/referrals/{id}")).await.0, 403);
    // Received, in progress, escalated: now the caseworker may open the family.
    for action in ["receive", "start", "escalate"] {
        let (s, v) = app.post(&nurse, &format!("/api/v1/referrals/{id}/{action}"), &json!({"note": action})).await;
        assert_eq!(s, 204, "{action}: {v}");
    }
    assert_eq!(app.post(&nurse, &format!("/api/v1/referrals/{id}/receive"), &json!({})).await.0, 409);
    // A second nurse who read the referral before it was escalated cannot undo
    // the escalation with a step worked out from her stale copy.
    {
        use tsunagu_domain::referrals::{apply, ReferralAction};
        let ctx = tsunagu_domain::audit::Requester {
            municipality_id: fx.setagaya.id,
            actor: tsunagu_domain::AccountId(1),
            role: Role::Nurse,
            remote_addr: "127.0.0.1".into(),
            reason: "test".into(),
            at: tsunagu_domain::clock::Clock::now(app.clock.as_ref()),
        }
        .without_a_policy_decision();
        let rid = tsunagu_domain::ReferralId(id);
        let now = app.store.referral(&ctx, rid).await.unwrap().unwrap().referral;
        assert!(now.escalated);
        let stale = tsunagu_domain::referrals::Referral { escalated: false, ..now.clone() };
        let close = ReferralAction::Close(tsunagu_domain::referrals::CloseReason::Resolved);
        let next = apply(&stale, Role::Nurse, close).unwrap();
        let r = app.store.update_referral(&ctx, rid, &stale, &next, close, "").await;
        assert!(matches!(r, Err(tsunagu_store::StoreError::Conflict("referral_changed"))), "{r:?}");
        assert!(app.store.referral(&ctx, rid).await.unwrap().unwrap().referral.escalated);
    }
    assert_eq!(app.get(&caseworker, &format!("/api/v1/families/{}", family.0)).await.0, 200);
    let (_, v) = app.get(&facility, "/api/v1/referrals").await;
    assert_eq!(v["referrals"][0]["status"], "in_progress");
    let (s, _) = app
        .post(&nurse, &format!("/api/v1/referrals/{id}/close"), &json!({"reason": "resolved", "note": "訪問済み"}))
        .await;
    assert_eq!(s, 204);
    let (_, v) = app.get(&nurse, &format!("/api/v1/referrals/{id}")).await;
    let actions: Vec<&str> = v["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.ends_with(&["receive", "start", "escalate", "close"]), "{actions:?}");
    // Every step is in the audit log.
    let lines = app.store.audit_lines(fx.setagaya.id, 0, 1000).await.unwrap();
    assert!(lines.iter().filter(|l| l.action == "referral.update").count() >= 4);
    assert!(lines.iter().any(|l| l.action == "referral.raise" && l.family_id == Some(family)));
}

async fn story_followups_talks_and_incidents(backend: Backend) {
    let app = TestApp::start(backend).await;
    let nurse = setup(&app).await;
    let fx = &app.fx;
    let (family, _) = family_with_stay(&app, &nurse, "ふぉろー").await;
    let (other, _) = {
        let mut body = notification(fx.setagaya_area.id, "まだ", "こない", "2027-04-01");
        body["notified_on"] = json!("2026-09-01");
        (app.register(&nurse, &body).await, ())
    };
    // Slots come after the stay only (a former user), 20 minutes each.
    let lines_before = app.store.audit_lines(fx.setagaya.id, 0, 10_000).await.unwrap().len();
    let (s, v) = app
        .get(&nurse, &format!("/api/v1/postpartum/followups/slots?family={}&venue={}", family.0, fx.facility.id.0))
        .await;
    // The family's stays and record are read (and audited) once, not once per slot.
    let lines_after = app.store.audit_lines(fx.setagaya.id, 0, 10_000).await.unwrap().len();
    assert!(lines_after - lines_before <= 3, "{} audit lines for one look at the slots", lines_after - lines_before);
    assert_eq!(s, 200, "{v}");
    let slots = v["slots"].as_array().unwrap().clone();
    assert!(!slots.is_empty());
    assert!(slots.iter().all(|s| s["start"].as_str().unwrap() > "2026-11-27"), "{slots:?}");
    let start = slots[0]["start"].as_str().unwrap().to_owned();
    let (s, v) = app
        .post(
            &nurse,
            "/api/v1/postpartum/followups",
            &json!({"family_id": family.0, "venue_id": fx.facility.id.0, "start": start}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let followup = v["id"].as_i64().unwrap();
    let (s, v) = app
        .post(
            &nurse,
            "/api/v1/postpartum/followups",
            &json!({"family_id": family.0, "venue_id": fx.facility.id.0, "start": start}),
        )
        .await;
    assert_eq!((s, v["error"]["code"].as_str()), (409, Some("slot_taken")));
    let (s, _) = app
        .post(
            &nurse,
            "/api/v1/postpartum/followups",
            &json!({"family_id": other.0, "venue_id": fx.facility.id.0, "start": slots[1]["start"]}),
        )
        .await;
    assert_eq!(s, 409, "a family that never stayed is not a former user");
    let (_, v) = app.get(&nurse, &format!("/api/v1/postpartum/followups?venue={}", fx.facility.id.0)).await;
    assert_eq!(v["count_in_fiscal_year"], 1);
    assert_eq!(app.post(&nurse, &format!("/api/v1/postpartum/followups/{followup}/cancel"), &json!({})).await.0, 204);
    let (_, v) = app.get(&nurse, &format!("/api/v1/postpartum/followups?venue={}", fx.facility.id.0)).await;
    assert_eq!(v["count_in_fiscal_year"], 0);

    // The coordinator's talk: current users join, others cannot.
    let facility = app.token(&fx.setagaya, "facility").await;
    let (s, v) = app
        .post(
            &facility,
            "/api/v1/postpartum/talks",
            &json!({"venue_id": fx.facility.id.0, "starts": "2026-11-25T14:00", "title": "おでかけ先の紹介"}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let talk = v["id"].as_i64().unwrap();
    assert_eq!(
        app.post(&nurse, &format!("/api/v1/postpartum/talks/{talk}/join"), &json!({"family_id": family.0})).await.0,
        204
    );
    assert_eq!(
        app.post(&nurse, &format!("/api/v1/postpartum/talks/{talk}/join"), &json!({"family_id": family.0})).await.0,
        409
    );
    let (s, v) =
        app.post(&nurse, &format!("/api/v1/postpartum/talks/{talk}/join"), &json!({"family_id": other.0})).await;
    assert_eq!((s, v["error"]["code"].as_str()), (409, Some("not_a_current_user")));
    let (_, v) = app.get(&facility, "/api/v1/postpartum/talks").await;
    assert_eq!((v["talks"][0]["attendees"].as_u64(), v["talks"][0]["minutes"].as_u64()), (Some(1), Some(30)));

    // Incident reports under the manual's headings, by the facility only.
    let report = json!({"venue_id": fx.facility.id.0, "heading": "accident", "occurred": "2026-11-21T10:30", "summary": "ベッド柵の確認漏れ（けがなし）"});
    let (s, v) = app.post(&facility, "/api/v1/postpartum/incidents", &report).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(app.post(&nurse, "/api/v1/postpartum/incidents", &report).await.0, 403);
    let mut future = report.clone();
    future["occurred"] = json!("2026-12-31T10:00");
    assert_eq!(app.post(&facility, "/api/v1/postpartum/incidents", &future).await.0, 422);
    let (_, v) = app.get(&nurse, "/api/v1/postpartum/incidents").await;
    assert_eq!(v["incidents"].as_array().unwrap().len(), 1);
    assert_eq!(v["incidents"][0]["heading"], "accident");
    let _: Value = v;
}

on_both!(
    a_facility_alert_is_taken_up => story_a_facility_alert_is_taken_up,
    followups_talks_and_incidents => story_followups_talks_and_incidents,
);
