//! The seamless timeline end to end on both back ends: contacts built from
//! the facts and following every change, work lists and their counts,
//! outcomes, and the daily missed-marking job.

use crate::support::*;
use serde_json::{json, Value};
use tsunagu_domain::roles::Role;
use tsunagu_domain::FamilyId;

fn contacts_of<'a>(v: &'a Value, kind: &str) -> Vec<&'a Value> {
    v["contacts"].as_array().unwrap().iter().filter(|c| c["kind"] == kind).collect()
}

fn one<'a>(v: &'a Value, kind: &str) -> &'a Value {
    let found = contacts_of(v, kind);
    assert_eq!(found.len(), 1, "{kind} in {v}");
    found[0]
}

async fn contacts(app: &TestApp, token: &str, family: FamilyId) -> Value {
    let (s, v) = app.get(token, &format!("/api/v1/families/{}/contacts", family.0)).await;
    assert_eq!(s, 200, "{v}");
    v
}

fn ids(v: &Value) -> Vec<i64> {
    v["items"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect()
}

/// A twin pregnancy notified on 1 June with an EDD of 10 January: on
/// 22 November (the test clock) its 8th-month interview is overdue.
async fn twin_pregnancy(app: &TestApp, nurse: &str, kana: &str) -> (FamilyId, i64) {
    let mut body = notification(app.fx.setagaya_area.id, kana, "はな", "2027-01-10");
    body["notified_on"] = json!("2026-06-01");
    body["foetuses"] = json!(2);
    let family = app.register(nurse, &body).await;
    let (_, rec) = app.get(nurse, &format!("/api/v1/families/{}", family.0)).await;
    (family, rec["pregnancies"][0]["id"].as_i64().unwrap())
}

async fn story_the_schedule_follows_the_family(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let (family, p) = twin_pregnancy(&app, &nurse, "たいむ").await;

    // Built at the notification: each pregnancy contact once, with its window.
    let v = contacts(&app, &nurse, family).await;
    let eighth = one(&v, "eighth_month_interview");
    assert_eq!((eighth["opens"].as_str(), eighth["due"].as_str()), (Some("2026-10-18"), Some("2026-11-14")));
    assert_eq!(eighth["closes"], "2026-12-19");
    assert_eq!(eighth["status"], "overdue");
    assert_eq!(eighth["owner"], "nurse");
    // The interview at a notification registered months late was never held: missed.
    let interview = one(&v, "notification_interview");
    assert_eq!(interview["status"], "missed");
    assert_eq!(interview["missed_on"], "2026-06-29");
    assert!(contacts_of(&v, "health_check_3_4_months").is_empty(), "no infant contacts before the birth");

    // On the municipality's overdue list, with counts.
    let (s, list) = app.get(&nurse, "/api/v1/worklist?list=overdue&whose=all").await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(ids(&list), vec![eighth["id"].as_i64().unwrap()]);
    assert_eq!(list["counts"]["overdue"], 1);
    // The counts-only call agrees, names nobody and reads no referral.
    let (s, counts) = app.get(&nurse, "/api/v1/worklist/counts?whose=all").await;
    assert_eq!(s, 200);
    assert_eq!(counts["counts"], json!({"due_this_week": 0, "overdue": 1, "missed": 2, "check_non_attendees": 0}));
    // Missed: the interview, and the handbook meeting of July (the fixture's
    // city runs every kind).
    assert_eq!(list["counts"]["missed"], 2);
    let (_, missed) = app.get(&nurse, "/api/v1/worklist?list=missed&whose=all").await;
    let handbook = one(&v, "handbook_meeting");
    assert_eq!(ids(&missed), vec![interview["id"].as_i64().unwrap(), handbook["id"].as_i64().unwrap()]);

    // A new EDD four weeks later moves the window: no longer overdue.
    let edd = format!("/api/v1/families/{}/pregnancies/{p}/edd", family.0);
    assert_eq!(app.post(&nurse, &edd, &json!({"edd": "2027-02-07"})).await.0, 204);
    let v = contacts(&app, &nurse, family).await;
    let moved = one(&v, "eighth_month_interview");
    assert_eq!(moved["id"], eighth["id"], "the same contact, moved");
    assert_eq!((moved["due"].as_str(), moved["status"].as_str()), (Some("2026-12-12"), Some("open")));
    let (_, list) = app.get(&nurse, "/api/v1/worklist?list=overdue&whose=all").await;
    assert!(ids(&list).is_empty());
    // Changing it back and forth ends where changing it once would.
    assert_eq!(app.post(&nurse, &edd, &json!({"edd": "2027-01-20"})).await.0, 204);
    assert_eq!(app.post(&nurse, &edd, &json!({"edd": "2027-02-07"})).await.0, 204);
    assert_eq!(contacts(&app, &nurse, family).await, v);

    // Twins born on 20 November: the infant contacts, the check once per baby.
    let twins = json!({"babies": [
        {"birth_date": "2026-11-20", "sex": "female", "gestational_weeks": 37},
        {"birth_date": "2026-11-20", "sex": "male", "gestational_weeks": 37}]});
    let (s, _) = app.post(&nurse, &format!("/api/v1/families/{}/pregnancies/{p}/births", family.0), &twins).await;
    assert_eq!(s, 201);
    let v = contacts(&app, &nurse, family).await;
    assert_eq!(contacts_of(&v, "health_check_3_4_months").len(), 2);
    let visit = one(&v, "newborn_visit");
    assert_eq!((visit["opens"].as_str(), visit["due"].as_str()), (Some("2026-11-20"), Some("2027-03-19")));
    // The 8th-month interview, not yet due at the birth, no longer applies.
    assert_eq!(one(&v, "eighth_month_interview")["status"], "closed");

    // The nurse records the newborn visit; a second record is refused.
    let outcome = format!("/api/v1/contacts/{}/outcome", visit["id"]);
    let (s, done) = app.post(&nurse, &outcome, &json!({"outcome": "done", "form": "home_visit"})).await;
    assert_eq!(s, 200, "{done}");
    assert_eq!(done["status"], "done");
    let (s, e) = app.post(&nurse, &outcome, &json!({"outcome": "declined", "note": "x"})).await;
    assert_eq!((s, e["error"]["code"].as_str()), (409, Some("contact_settled")), "{e}");

    // The family moves out: what is still owed closes; the visit stays done.
    let end = format!("/api/v1/families/{}/pregnancies/{p}/end", family.0);
    assert_eq!(app.post(&nurse, &end, &json!({"ending": "moved_out", "on": "2026-11-22"})).await.0, 204);
    let v = contacts(&app, &nurse, family).await;
    assert_eq!(one(&v, "newborn_visit")["status"], "done");
    for c in contacts_of(&v, "health_check_3_4_months") {
        assert_eq!(c["status"], "closed");
        assert_eq!(c["ending"]["reason"], "moved_out");
    }
    // Nothing was deleted: the missed interview is still there, still missed
    // (a nurse settles it, e.g. by handing it to the new city).
    assert_eq!(one(&v, "notification_interview")["status"], "missed");

    // Every step is in the audit log.
    let q = tsunagu_store::AuditQuery { limit: 1000, ..Default::default() };
    let lines = app.store.search_audit(fx.setagaya.id, &q).await.unwrap();
    let actions: Vec<&str> = lines.iter().map(|l| l.action.as_str()).collect();
    for a in ["family.pregnancy", "timeline.outcome", "timeline.worklist", "timeline.view"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
}

async fn story_a_loss_closes_and_hides_everything(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let (family, p) = twin_pregnancy(&app, &nurse, "ろす").await;
    let end = format!("/api/v1/families/{}/pregnancies/{p}/end", family.0);
    assert_eq!(app.post(&nurse, &end, &json!({"ending": "lost", "on": "2026-11-01"})).await.0, 204);
    // Closed, never shown as owed, and off every list.
    let v = contacts(&app, &nurse, family).await;
    for c in v["contacts"].as_array().unwrap() {
        assert_eq!(c["status"], "closed", "{c}");
    }
    for list in ["overdue", "missed", "due_this_week", "open"] {
        let (_, l) = app.get(&nurse, &format!("/api/v1/worklist?list={list}&whose=all")).await;
        assert!(ids(&l).is_empty(), "{list}: {l}");
    }
    // A birth cannot follow a loss; a second loss is refused.
    let twins = json!({"babies": [{"birth_date": "2026-11-20", "sex": "female", "gestational_weeks": 37}]});
    let (s, _) = app.post(&nurse, &format!("/api/v1/families/{}/pregnancies/{p}/births", family.0), &twins).await;
    assert_eq!(s, 422);
    let (s, e) = app.post(&nurse, &end, &json!({"ending": "lost", "on": "2026-11-02"})).await;
    assert_eq!((s, e["error"]["fields"][0]["code"].as_str()), (422, Some("not_ongoing")), "{e}");
}

async fn story_bad_input_changes_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let (family, p) = twin_pregnancy(&app, &nurse, "だめ").await;
    let before = contacts(&app, &nurse, family).await;
    let edd = format!("/api/v1/families/{}/pregnancies/{p}/edd", family.0);
    let end = format!("/api/v1/families/{}/pregnancies/{p}/end", family.0);
    for (path, body, field, code) in [
        (&edd, json!({"edd": "2027-01-10"}), "edd", "unchanged"),
        (&edd, json!({"edd": "2027-13-01"}), "edd", "invalid_date"),
        (&edd, json!({"edd": "2030-01-01"}), "edd", "edd_too_late"),
        (&end, json!({"ending": "lost", "on": "2026-12-01"}), "on", "date_in_future"),
        (&end, json!({"ending": "vanished", "on": "2026-11-01"}), "ending", "invalid_choice"),
    ] {
        let (s, e) = app.post(&nurse, path, &body).await;
        assert_eq!(s, 422, "{body}: {e}");
        let f = &e["error"]["fields"][0];
        assert_eq!((f["field"].as_str(), f["code"].as_str()), (Some(field), Some(code)), "{e}");
    }
    let (s, _) = app.post(&nurse, &edd, &json!({"edd": "2027-02-01", "extra": 1})).await;
    assert_eq!(s, 400);
    let eighth = one(&before, "eighth_month_interview")["id"].as_i64().unwrap();
    let outcome = format!("/api/v1/contacts/{eighth}/outcome");
    for (body, field) in [
        (json!({"outcome": "done", "form": "at_health_check"}), "form"),
        (json!({"outcome": "done"}), "form"),
        (json!({"outcome": "declined"}), "note"),
        (json!({"outcome": "maybe"}), "outcome"),
        (json!({"outcome": "not_reached", "attempts": 0}), "attempts"),
    ] {
        let (s, e) = app.post(&nurse, &outcome, &body).await;
        assert_eq!(s, 422, "{body}: {e}");
        assert_eq!(e["error"]["fields"][0]["field"], field, "{body}: {e}");
    }
    assert_eq!(contacts(&app, &nurse, family).await, before);
    assert_eq!(
        app.post(&nurse, "/api/v1/contacts/999999/outcome", &json!({"outcome": "declined", "note": "x"})).await.0,
        404
    );
    let (s, _) = app.get(&nurse, "/api/v1/worklist?list=sideways").await;
    assert_eq!(s, 422);
}

async fn story_not_reached_keeps_a_check_on_the_list(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    // Born 1 June: the 3–4-month check was due by 31 October; today it is overdue.
    let mut body = notification(fx.setagaya_area.id, "けんしん", "はな", "2026-06-05");
    body["notified_on"] = json!("2026-01-10");
    let family = app.register(&nurse, &body).await;
    let (_, rec) = app.get(&nurse, &format!("/api/v1/families/{}", family.0)).await;
    let p = rec["pregnancies"][0]["id"].as_i64().unwrap();
    let baby = json!({"babies": [{"birth_date": "2026-06-01", "sex": "female", "gestational_weeks": 39}]});
    app.post(&nurse, &format!("/api/v1/families/{}/pregnancies/{p}/births", family.0), &baby).await;
    let (_, l) = app.get(&nurse, "/api/v1/worklist?list=check_non_attendees&whose=all").await;
    let check = ids(&l);
    assert_eq!(check.len(), 1, "{l}");
    assert_eq!(l["counts"]["check_non_attendees"], 1);
    // Tried twice, then once more: still on the list, with three tries.
    let outcome = format!("/api/v1/contacts/{}/outcome", check[0]);
    let (s, c) = app.post(&nurse, &outcome, &json!({"outcome": "not_reached", "attempts": 2})).await;
    assert_eq!((s, c["status"].as_str()), (200, Some("overdue")), "{c}");
    let (_, c) = app.post(&nurse, &outcome, &json!({"outcome": "not_reached"})).await;
    assert_eq!(c["outcome"]["attempts"], 3);
    let (_, l) = app.get(&nurse, "/api/v1/worklist?list=check_non_attendees&whose=all").await;
    assert_eq!(ids(&l), check);
    // Seen at a clinic: resolved, off the list.
    let (s, _) = app.post(&nurse, &outcome, &json!({"outcome": "done", "form": "individual"})).await;
    assert_eq!(s, 200);
    let (_, l) = app.get(&nurse, "/api/v1/worklist?list=check_non_attendees&whose=all").await;
    assert!(ids(&l).is_empty());
}

async fn story_coordinators_see_consenting_families_and_their_own_work(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    app.account(&fx.setagaya, "coord", Role::Coordinator, Scope::Areas(vec![fx.setagaya_area.id])).await;
    app.account(&fx.setagaya, "analyst", Role::Analyst, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let coord = app.token(&fx.setagaya, "coord").await;
    // Two families with babies born 1 September (happy-baby contact due now),
    // one of which did not consent to sharing with coordinators.
    let mut made = vec![];
    for (kana, consent) in [("いえす", true), ("のー", false)] {
        let mut body = notification(fx.setagaya_area.id, kana, "はな", "2026-09-05");
        body["notified_on"] = json!("2026-03-01");
        body["consent_coordinators"] = json!(consent);
        let family = app.register(&nurse, &body).await;
        let (_, rec) = app.get(&nurse, &format!("/api/v1/families/{}", family.0)).await;
        let p = rec["pregnancies"][0]["id"].as_i64().unwrap();
        let baby = json!({"babies": [{"birth_date": "2026-09-01", "sex": "male", "gestational_weeks": 39}]});
        app.post(&nurse, &format!("/api/v1/families/{}/pregnancies/{p}/births", family.0), &baby).await;
        made.push(family);
    }
    let (s, mine) = app.get(&coord, "/api/v1/worklist?list=open").await;
    assert_eq!(s, 200, "{mine}");
    let items = mine["items"].as_array().unwrap();
    assert!(!items.is_empty());
    for c in items {
        assert_eq!(c["family_id"], made[0].0, "only the consenting family: {c}");
        assert_eq!(c["owner"], "coordinator");
    }
    let happy = items.iter().find(|c| c["kind"] == "happy_baby").expect("happy-baby contact");
    let (s, c) = app
        .post(
            &coord,
            &format!("/api/v1/contacts/{}/outcome", happy["id"]),
            &json!({"outcome": "done", "form": "support_room_visit"}),
        )
        .await;
    assert_eq!((s, c["status"].as_str()), (200, Some("done")), "{c}");
    // Not the nurse's newborn visit, and nothing of the other family.
    let v = contacts(&app, &nurse, made[0]).await;
    let visit = one(&v, "newborn_visit")["id"].as_i64().unwrap();
    let (s, _) = app
        .post(&coord, &format!("/api/v1/contacts/{visit}/outcome"), &json!({"outcome": "done", "form": "home_visit"}))
        .await;
    assert_eq!(s, 403);
    assert_eq!(app.get(&coord, &format!("/api/v1/families/{}/contacts", made[1].0)).await.0, 403);
    // Roles without lists are refused.
    let analyst = app.token(&fx.setagaya, "analyst").await;
    assert_eq!(app.get(&analyst, "/api/v1/worklist").await.0, 403);
    assert_eq!(app.get(&analyst, "/api/v1/worklist/counts?whose=all").await.0, 403);
    // The other city's nurse sees none of it.
    app.account(&fx.other, "nurse2", Role::Nurse, Scope::None).await;
    let other = app.token(&fx.other, "nurse2").await;
    let (_, l) = app.get(&other, "/api/v1/worklist?list=open&whose=all").await;
    assert!(ids(&l).is_empty());
    assert_eq!(app.get(&other, &format!("/api/v1/families/{}/contacts", made[0].0)).await.0, 404);
}

async fn story_the_daily_job_stamps_only_what_closed_since(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    // Notified today: the interview window closes on 19 December.
    let body = notification(fx.setagaya_area.id, "じょぶ", "はな", "2027-05-20");
    let family = app.register(&nurse, &body).await;
    let m = fx.setagaya.id;
    let day = |s: &str| s.parse::<jiff::civil::Date>().unwrap();
    let first = app.store.mark_missed(m, day("2026-11-22")).await.unwrap();
    assert_eq!((first.from, first.marked), (None, 0));
    // Again the same day: nothing to do.
    assert_eq!(app.store.mark_missed(m, day("2026-11-22")).await.unwrap().marked, 0);
    // The day after the window closed: exactly that one is stamped.
    let run = app.store.mark_missed(m, day("2026-12-20")).await.unwrap();
    assert_eq!((run.from, run.marked), (Some(day("2026-11-21")), 1));
    assert_eq!(app.store.mark_missed(m, day("2026-12-21")).await.unwrap().marked, 0);
    app.clock.set("2026-12-21T01:00:00Z".parse().unwrap());
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let v = contacts(&app, &nurse, family).await;
    let interview = one(&v, "notification_interview");
    assert_eq!((interview["status"].as_str(), interview["missed_on"].as_str()), (Some("missed"), Some("2026-12-20")));
    // The whole job, as the service runs it daily.
    let reports = tsunagu::run_timeline_jobs(app.store.as_ref(), day("2026-12-22")).await.unwrap();
    assert!(reports.iter().all(|r| r.rebuilt == 0), "{reports:?}");
}

/// The family page's forms (new EDD, a move) and a contact's page, over
/// plain HTTP with cookies and CSRF, errors in the reader's language.
async fn story_pages_change_a_pregnancy_and_record_a_contact(backend: Backend) {
    use crate::pages::Visitor;
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let (family, p) = twin_pregnancy(&app, &nurse, "ぺーじ").await;
    let mut v = Visitor::new(&app);
    let landed = v.sign_in("nurse", Some(app.next_totp())).await;
    assert_eq!(landed.location.as_deref(), Some("/"));
    assert_eq!(v.get("/").await.location.as_deref(), Some("/worklist"), "a nurse starts from her work list");
    let page = v.get(&format!("/families/{}", family.0)).await;
    assert!(page.body.contains("id=\"timeline\"") && page.body.contains("妊娠8か月面談"));
    let csrf = Visitor::csrf_in(&page.body);
    // A bad date: back to the record with the problem in words, nothing changed.
    let r = v
        .post(&format!("/families/{}/pregnancies/{p}/edd", family.0), &[("_csrf", &csrf), ("edd", "2030-01-01")])
        .await;
    let back = r.location.expect("redirect");
    let page = v.get(&back).await;
    assert!(page.body.contains("出産予定日が先すぎます") && page.body.contains("class=\"alert\""), "{back}");
    assert_eq!(one(&contacts(&app, &nurse, family).await, "eighth_month_interview")["due"], "2026-11-14");
    // Without the CSRF token: refused.
    let r = v.post(&format!("/families/{}/pregnancies/{p}/edd", family.0), &[("edd", "2027-02-07")]).await;
    assert_eq!(r.status, 400, "a form without its CSRF token is refused");
    // A good one: the timeline follows.
    let r = v
        .post(&format!("/families/{}/pregnancies/{p}/edd", family.0), &[("_csrf", &csrf), ("edd", "2027-02-07")])
        .await;
    let page = v.get(&r.location.expect("redirect")).await;
    assert!(page.body.contains("予定を見直しました"), "{}", page.body);
    let eighth = one(&contacts(&app, &nurse, family).await, "eighth_month_interview").clone();
    assert_eq!(eighth["due"], "2026-12-12");
    // The contact's page: a form not allowed for the kind is refused by the field.
    let path = format!("/contacts/{}", eighth["id"]);
    let page = v.get(&format!("{path}?back=/worklist")).await;
    assert_eq!(page.status, 200);
    let r = v
        .post(&path, &[("_csrf", &csrf), ("back", "/worklist"), ("outcome", "done"), ("form", "at_health_check")])
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("form-form-error"), "{}", r.body);
    let r = v
        .post(&path, &[("_csrf", &csrf), ("back", "//evil.example/"), ("outcome", "done"), ("form", "individual")])
        .await;
    assert_eq!(r.location.as_deref(), Some("/worklist?done=outcome"), "only local paths are followed");
    assert_eq!(one(&contacts(&app, &nurse, family).await, "eighth_month_interview")["status"], "done");
    // A move, from the page.
    let r = v
        .post(
            &format!("/families/{}/pregnancies/{p}/end", family.0),
            &[("_csrf", &csrf), ("ending", "moved_out"), ("on", "2026-11-21")],
        )
        .await;
    assert!(r.location.expect("redirect").contains("saved=pregnancy"));
    let after = contacts(&app, &nurse, family).await;
    assert_eq!(one(&after, "maternity_class")["ending"]["reason"], "moved_out");
}

/// One action, one audit line: recording what happened on a contact is
/// decided from what the policy needs (family, kind) and writes only the
/// change's line, which covers the contact it answers.
async fn story_recording_an_outcome_writes_one_line(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let (family, _) = twin_pregnancy(&app, &nurse, "いちぎょう").await;
    let v = contacts(&app, &nurse, family).await;
    let eighth = one(&v, "eighth_month_interview");
    let before = app.store.audit_lines(fx.setagaya.id, 0, 10_000).await.unwrap().len();
    let (s, c) = app
        .post(
            &nurse,
            &format!("/api/v1/contacts/{}/outcome", eighth["id"]),
            &json!({"outcome": "done", "form": "group"}),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["outcome"]["outcome"], "done", "{c}");
    let lines = app.store.audit_lines(fx.setagaya.id, 0, 10_000).await.unwrap();
    let new: Vec<_> = lines[before..].iter().map(|l| l.action.as_str()).collect();
    assert_eq!(new, ["timeline.outcome"], "one line for one action");
}

on_both! {
    recording_an_outcome_writes_one_line => story_recording_an_outcome_writes_one_line,
    pages_change_a_pregnancy_and_record_a_contact => story_pages_change_a_pregnancy_and_record_a_contact,
    schedule_follows_the_family => story_the_schedule_follows_the_family,
    a_loss_closes_and_hides_everything => story_a_loss_closes_and_hides_everything,
    bad_input_changes_nothing => story_bad_input_changes_nothing,
    not_reached_keeps_a_check_on_the_list => story_not_reached_keeps_a_check_on_the_list,
    coordinators_see_consenting_families => story_coordinators_see_consenting_families_and_their_own_work,
    daily_job_stamps_only_what_closed => story_the_daily_job_stamps_only_what_closed_since,
}
