//! The monthly handbook meeting and the 8th-month group sessions [002] end
//! to end on both back ends: who sees which list, what recording a meeting
//! settles, proposals → sessions → attendance, and bad input.

use crate::support::*;
use serde_json::{json, Value};
use tsunagu_domain::roles::Role;
use tsunagu_domain::{AreaId, FamilyId};

/// Registers a family of `area` notified on `notified_on`, due `edd`.
async fn family(
    app: &TestApp,
    nurse: &str,
    area: AreaId,
    kana: &str,
    notified_on: &str,
    edd: &str,
    consent: bool,
) -> (FamilyId, i64) {
    let mut body = notification(area, kana, "はな", edd);
    body["notified_on"] = json!(notified_on);
    body["consent_coordinators"] = json!(consent);
    let f = app.register(nurse, &body).await;
    let (_, rec) = app.get(nurse, &format!("/api/v1/families/{}", f.0)).await;
    (f, rec["pregnancies"][0]["id"].as_i64().unwrap())
}

async fn contact_of(app: &TestApp, token: &str, family: FamilyId, kind: &str) -> Value {
    let (s, v) = app.get(token, &format!("/api/v1/families/{}/contacts", family.0)).await;
    assert_eq!(s, 200, "{v}");
    let found: Vec<&Value> = v["contacts"].as_array().unwrap().iter().filter(|c| c["kind"] == kind).collect();
    assert_eq!(found.len(), 1, "{kind} in {v}");
    found[0].clone()
}

fn families_of(v: &Value, key: &str) -> Vec<i64> {
    v[key].as_array().unwrap().iter().map(|e| e["family_id"].as_i64().unwrap()).collect()
}

async fn story_the_handbook_list_and_its_meeting(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    let (area, kitazawa) = (fx.setagaya_area.id, fx.kitazawa_area.id);
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    app.account(&fx.setagaya, "coord", Role::Coordinator, Scope::Areas(vec![area])).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let coord = app.token(&fx.setagaya, "coord").await;
    // October's handbooks in the area: two consenting, one not, one lost
    // since, one whose meeting contact the nurse already settled by hand;
    // and around them a September one and one of another area.
    let (a, _) = family(&app, &nurse, area, "あおき", "2026-10-05", "2027-05-01", true).await;
    let (b, _) = family(&app, &nurse, area, "いのうえ", "2026-10-12", "2027-05-01", false).await;
    let (c, cp) = family(&app, &nurse, area, "うえだ", "2026-10-20", "2027-05-01", true).await;
    let (f, _) = family(&app, &nurse, area, "えんどう", "2026-10-31", "2027-05-01", true).await;
    let (sep, _) = family(&app, &nurse, area, "おの", "2026-09-30", "2027-04-20", true).await;
    let (other, _) = family(&app, &nurse, kitazawa, "かとう", "2026-10-15", "2027-05-01", true).await;
    let end = format!("/api/v1/families/{}/pregnancies/{cp}/end", c.0);
    assert_eq!(app.post(&nurse, &end, &json!({"ending": "lost", "on": "2026-11-01"})).await.0, 204);
    let by_hand = contact_of(&app, &nurse, f, "handbook_meeting").await;
    let (s, _) = app
        .post(
            &nurse,
            &format!("/api/v1/contacts/{}/outcome", by_hand["id"]),
            &json!({"outcome": "done", "form": "group"}),
        )
        .await;
    assert_eq!(s, 200);

    let list = format!("/api/v1/handbook-meetings?area={}&month=2026-10", area.0);
    // The nurse sees every family of the month, with what she may share.
    let (s, v) = app.get(&nurse, &list).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(families_of(&v, "entries"), vec![a.0, b.0, f.0]);
    let consent: Vec<bool> =
        v["entries"].as_array().unwrap().iter().map(|e| e["consent_coordinators"] == true).collect();
    assert_eq!(consent, vec![true, false, true]);
    assert!(v["meeting"].is_null());
    // The coordinator only those who consented, and only in her own area.
    let (s, v) = app.get(&coord, &list).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(families_of(&v, "entries"), vec![a.0, f.0]);
    let (s, _) = app.get(&coord, &format!("/api/v1/handbook-meetings?area={}&month=2026-10", kitazawa.0)).await;
    assert_eq!(s, 403);

    // Only the nurse records the meeting.
    let meeting = json!({"area_id": area.0, "month": "2026-10", "held_on": "2026-11-10", "note": "要フォロー2件"});
    assert_eq!(app.post(&coord, "/api/v1/handbook-meetings", &meeting).await.0, 403);
    let (s, m) = app.post(&nurse, "/api/v1/handbook-meetings", &meeting).await;
    assert_eq!(s, 201, "{m}");
    assert_eq!((m["month"].as_str(), m["contacts_done"].as_i64()), (Some("2026-10"), Some(2)));
    // Exactly the month's contacts of the area still awaiting work are done.
    for fam in [a, b] {
        let c = contact_of(&app, &nurse, fam, "handbook_meeting").await;
        assert_eq!((c["status"].as_str(), c["outcome"]["form"].as_str()), (Some("done"), Some("group")), "{c}");
    }
    assert_eq!(contact_of(&app, &nurse, f, "handbook_meeting").await, {
        let mut v = by_hand.clone();
        v["status"] = json!("done");
        v["outcome"] = json!({"outcome": "done", "form": "group"});
        v
    });
    assert_eq!(contact_of(&app, &nurse, c, "handbook_meeting").await["status"], "closed");
    // September's was due in October (missed); the other area's is still open.
    assert_eq!(contact_of(&app, &nurse, sep, "handbook_meeting").await["status"], "missed");
    assert_eq!(contact_of(&app, &nurse, other, "handbook_meeting").await["status"], "open");
    // Once per area and month.
    let (s, e) = app.post(&nurse, "/api/v1/handbook-meetings", &meeting).await;
    assert_eq!((s, e["error"]["code"].as_str()), (409, Some("meeting_recorded")), "{e}");
    // The fiscal year shows which months have a meeting.
    let (_, v) = app.get(&coord, &list).await;
    assert_eq!(v["meeting"]["held_on"], "2026-11-10");
    let year = v["fiscal_year"].as_array().unwrap();
    assert_eq!(
        (year.len(), year[0]["month"].as_str(), year[11]["month"].as_str()),
        (12, Some("2026-04"), Some("2027-03"))
    );
    let held: Vec<&str> =
        year.iter().filter(|m| !m["meeting"].is_null()).map(|m| m["month"].as_str().unwrap()).collect();
    assert_eq!(held, vec!["2026-10"]);
    // Each contact settled has its own audit line, with its family.
    let q = tsunagu_store::AuditQuery { limit: 1000, ..Default::default() };
    let lines = app.store.search_audit(fx.setagaya.id, &q).await.unwrap();
    let outcomes: Vec<i64> = lines
        .iter()
        .filter(|l| l.action == "timeline.outcome" && l.detail.contains("handbook_meeting"))
        .map(|l| l.family_id.unwrap().0)
        .collect();
    assert_eq!(outcomes.len(), 3, "two by the meeting, one by hand");
    assert!(outcomes.contains(&a.0) && outcomes.contains(&b.0));
    for action in ["meeting.handbook", "meeting.handbook_list"] {
        assert!(lines.iter().any(|l| l.action == action), "{action}");
    }
}

async fn story_bad_meetings_store_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let area = fx.setagaya_area.id;
    let (a, _) = family(&app, &nurse, area, "あおき", "2026-10-05", "2027-05-01", true).await;
    for (body, field, code) in [
        (json!({"area_id": area.0, "month": "2026/10", "held_on": "2026-11-10"}), "month", "invalid_month"),
        (json!({"area_id": area.0, "month": "2026-10", "held_on": "2026-10-31"}), "held_on", "meeting_too_early"),
        (json!({"area_id": area.0, "month": "2026-10", "held_on": "2026-12-01"}), "held_on", "date_in_future"),
        (
            json!({"area_id": fx.other_area.id.0, "month": "2026-10", "held_on": "2026-11-10"}),
            "area_id",
            "unknown_reference",
        ),
        (json!({"area_id": 999_999, "month": "2026-10", "held_on": "2026-11-10"}), "area_id", "unknown_reference"),
    ] {
        let (s, e) = app.post(&nurse, "/api/v1/handbook-meetings", &body).await;
        assert_eq!(s, 422, "{body}: {e}");
        let f = &e["error"]["fields"][0];
        assert_eq!((f["field"].as_str(), f["code"].as_str()), (Some(field), Some(code)), "{e}");
    }
    let (s, _) = app.post(&nurse, "/api/v1/handbook-meetings", &json!({"area_id": area.0, "month": "2026-10"})).await;
    assert_eq!(s, 400, "a missing field is a malformed body");
    for query in ["area=1&month=2026-13", "month=2026-10", "area=x&month=2026-10", &format!("area={}", area.0)] {
        let (s, e) = app.get(&nurse, &format!("/api/v1/handbook-meetings?{query}")).await;
        assert_eq!(s, 422, "{query}: {e}");
    }
    assert_eq!(app.get(&nurse, "/api/v1/handbook-meetings?area=999999&month=2026-10").await.0, 422);
    // Nothing was recorded.
    assert_eq!(contact_of(&app, &nurse, a, "handbook_meeting").await["status"], "open");
    let (_, v) = app.get(&nurse, &format!("/api/v1/handbook-meetings?area={}&month=2026-10", area.0)).await;
    assert!(v["meeting"].is_null() && v["fiscal_year"].as_array().unwrap().iter().all(|m| m["meeting"].is_null()));
}

fn member_ids(v: &Value) -> Vec<i64> {
    v["members"].as_array().unwrap().iter().map(|m| m["pregnancy_id"].as_i64().unwrap()).collect()
}

async fn story_group_sessions_from_proposal_to_attendance(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    let (area, kitazawa) = (fx.setagaya_area.id, fx.kitazawa_area.id);
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    app.account(&fx.setagaya, "coord", Role::Coordinator, Scope::Areas(vec![area])).await;
    app.account(&fx.setagaya, "coord2", Role::Coordinator, Scope::Areas(vec![kitazawa])).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let coord = app.token(&fx.setagaya, "coord").await;
    let coord2 = app.token(&fx.setagaya, "coord2").await;
    // Eight women of the area due 2–16 January 2027, whose 8th-month
    // interviews are overdue today; the fourth did not consent to sharing.
    // One of Kitazawa due in January, one of the area due in February.
    let kana = ["あい", "いち", "うみ", "えみ", "おと", "かな", "きく", "くり"];
    let mut jan = Vec::new();
    for (i, k) in kana.iter().enumerate() {
        let edd = format!("2027-01-{:02}", 2 + 2 * i);
        jan.push(family(&app, &nurse, area, k, "2026-06-01", &edd, i != 3).await);
    }
    let (_, north) = family(&app, &nurse, kitazawa, "けい", "2026-06-01", "2027-01-10", true).await;
    family(&app, &nurse, area, "こう", "2026-07-01", "2027-02-10", true).await;

    let (s, v) = app.get(&nurse, "/api/v1/group-sessions/proposals?due_month=2027-01").await;
    assert_eq!(s, 200, "{v}");
    let groups = v["groups"].as_array().unwrap();
    let shape: Vec<(i64, usize)> =
        groups.iter().map(|g| (g["area_id"].as_i64().unwrap(), g["members"].as_array().unwrap().len())).collect();
    assert_eq!(shape, vec![(area.0, 4), (area.0, 4), (kitazawa.0, 1)]);
    let first = member_ids(&groups[0]);
    assert_eq!(first, jan[..4].iter().map(|(_, p)| *p).collect::<Vec<_>>(), "in order of EDD");

    // Bad input first: nothing is stored.
    let session = |members: Vec<i64>, area: i64, due: &str, day: &str| json!({"area_id": area, "due_month": due, "day": day, "place": "世田谷保健福祉センター", "members": members});
    let mut five = first.clone();
    five.push(jan[4].1);
    for (body, field, code) in [
        (session(vec![first[0], north], area.0, "2027-01", "2026-11-22"), "members", "not_proposed"),
        (session(vec![first[0]], 999_999, "2027-01", "2026-11-22"), "area_id", "unknown_reference"),
        (session(vec![first[0]], area.0, "2027-1", "2026-11-22"), "due_month", "invalid_month"),
        (
            session(jan.iter().take(7).map(|(_, p)| *p).collect(), area.0, "2027-01", "2026-11-22"),
            "members",
            "too_many",
        ),
        (session(vec![first[0]], area.0, "2027-01", "2027-02-01"), "day", "out_of_range"),
    ] {
        let (s, e) = app.post(&nurse, "/api/v1/group-sessions", &body).await;
        assert_eq!(s, 422, "{body}: {e}");
        let f = &e["error"]["fields"][0];
        assert_eq!((f["field"].as_str(), f["code"].as_str()), (Some(field), Some(code)), "{e}");
    }
    let ok = session(five.clone(), area.0, "2027-01", "2026-11-22");
    assert_eq!(app.post(&coord, "/api/v1/group-sessions", &ok).await.0, 403, "only nurses confirm");
    let (_, v) = app.get(&nurse, "/api/v1/group-sessions?due_month=2027-01").await;
    assert!(v["sessions"].as_array().unwrap().is_empty());

    // The nurse confirms the first group with one of the second (regrouped).
    let (s, made) = app.post(&nurse, "/api/v1/group-sessions", &ok).await;
    assert_eq!(s, 201, "{made}");
    assert_eq!((made["member_count"].as_i64(), made["attendance_recorded"].as_bool()), (Some(5), Some(false)));
    let id = made["id"].as_i64().unwrap();
    // Nobody is in two sessions: the rest are proposed again, she is not.
    let (s, e) =
        app.post(&nurse, "/api/v1/group-sessions", &session(vec![first[1]], area.0, "2027-01", "2026-11-22")).await;
    assert_eq!((s, e["error"]["fields"][0]["code"].as_str()), (422, Some("not_proposed")), "{e}");
    let (_, v) = app.get(&nurse, "/api/v1/group-sessions/proposals?due_month=2027-01").await;
    let left: Vec<i64> = v["groups"].as_array().unwrap().iter().flat_map(member_ids).collect();
    assert_eq!(left, vec![jan[5].1, jan[6].1, jan[7].1, north]);
    // A later session cannot have its attendance recorded before its day.
    let (s, later) =
        app.post(&nurse, "/api/v1/group-sessions", &session(vec![jan[5].1], area.0, "2027-01", "2026-12-05")).await;
    assert_eq!(s, 201, "{later}");
    let (s, e) = app
        .post(&nurse, &format!("/api/v1/group-sessions/{}/attendance", later["id"]), &json!({"attended": [jan[5].1]}))
        .await;
    assert_eq!((s, e["error"]["code"].as_str()), (409, Some("session_not_held")), "{e}");

    // Coordinators see the sessions of their areas, with consenting members only.
    let (_, v) = app.get(&coord, "/api/v1/group-sessions?due_month=2027-01").await;
    let seen = &v["sessions"][0];
    assert_eq!((seen["member_count"].as_i64(), member_ids(seen).len()), (Some(5), 4), "{seen}");
    assert!(!member_ids(seen).contains(&jan[3].1));
    let (_, v) = app.get(&coord2, "/api/v1/group-sessions?due_month=2027-01").await;
    assert!(v["sessions"].as_array().unwrap().is_empty());
    assert_eq!(app.get(&coord, "/api/v1/group-sessions/proposals?due_month=2027-01").await.0, 403);

    // Attendance: three came. A stranger in the list changes nothing.
    let attendance = format!("/api/v1/group-sessions/{id}/attendance");
    let (s, e) = app.post(&nurse, &attendance, &json!({"attended": [five[0], north]})).await;
    assert_eq!((s, e["error"]["fields"][0]["code"].as_str()), (422, Some("not_a_member")), "{e}");
    assert_eq!(app.post(&coord, &attendance, &json!({"attended": [five[0]]})).await.0, 403);
    let came = vec![five[0], five[2], five[4]];
    let (s, v) = app.post(&nurse, &attendance, &json!({"attended": came})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["attendance_recorded"], true);
    for m in v["members"].as_array().unwrap() {
        let p = m["pregnancy_id"].as_i64().unwrap();
        let attended = came.contains(&p);
        assert_eq!(m["attended"], attended, "{m}");
        let expected = if attended { "done" } else { "overdue" };
        assert_eq!(m["contact"]["status"], expected, "{m}");
        if attended {
            assert_eq!(m["contact"]["outcome"]["form"], "group");
        }
    }
    let (s, e) = app.post(&nurse, &attendance, &json!({"attended": []})).await;
    assert_eq!((s, e["error"]["code"].as_str()), (409, Some("attendance_recorded")), "{e}");
    // The others are still on the overdue list, for an individual interview or a visit.
    let (_, l) = app.get(&nurse, "/api/v1/worklist?list=overdue&whose=all&kind=eighth_month_interview").await;
    let overdue: Vec<i64> =
        l["items"].as_array().unwrap().iter().map(|c| c["pregnancy_id"].as_i64().unwrap()).collect();
    for p in &five {
        assert_eq!(overdue.contains(p), !came.contains(p), "{p}: {overdue:?}");
    }
    let absent = v["members"].as_array().unwrap().iter().find(|m| m["attended"] == false).unwrap().clone();
    let (s, c) = app
        .post(
            &nurse,
            &format!("/api/v1/contacts/{}/outcome", absent["contact"]["id"]),
            &json!({"outcome": "done", "form": "home_visit"}),
        )
        .await;
    assert_eq!((s, c["status"].as_str()), (200, Some("done")), "{c}");

    // Every invitation and attendance is audited with its family.
    let q = tsunagu_store::AuditQuery { limit: 1000, ..Default::default() };
    let lines = app.store.search_audit(fx.setagaya.id, &q).await.unwrap();
    let count = |a: &str| lines.iter().filter(|l| l.action == a && l.family_id.is_some()).count();
    assert_eq!((count("group.session"), count("group.attendance")), (6, 5));
    // The other city sees nothing of it.
    app.account(&fx.other, "nurse2", Role::Nurse, Scope::None).await;
    let other = app.token(&fx.other, "nurse2").await;
    assert_eq!(app.get(&other, &format!("/api/v1/group-sessions/{id}")).await.0, 404);
    let (_, v) = app.get(&other, "/api/v1/group-sessions/proposals?due_month=2027-01").await;
    assert!(v["groups"].as_array().unwrap().is_empty());
}

/// Two nurses at once: one meeting per area and month, one session per woman.
async fn story_at_the_same_time_one_wins(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    let area = fx.setagaya_area.id;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    app.account(&fx.setagaya, "nurse2", Role::Nurse, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let nurse2 = app.token(&fx.setagaya, "nurse2").await;
    let (a, _) = family(&app, &nurse, area, "あおき", "2026-10-05", "2027-05-01", true).await;
    let (_, p1) = family(&app, &nurse, area, "いとう", "2026-06-01", "2027-01-05", true).await;
    let (_, p2) = family(&app, &nurse, area, "うだ", "2026-06-01", "2027-01-07", true).await;
    for _ in 0..3 {
        let meeting = json!({"area_id": area.0, "month": "2026-10", "held_on": "2026-11-10"});
        let ((s1, _), (s2, _)) = tokio::join!(
            app.post(&nurse, "/api/v1/handbook-meetings", &meeting),
            app.post(&nurse2, "/api/v1/handbook-meetings", &meeting)
        );
        let mut got = [s1, s2];
        got.sort();
        assert!(got == [201, 409] || got == [409, 409], "{got:?}");
    }
    let c = contact_of(&app, &nurse, a, "handbook_meeting").await;
    assert_eq!(c["status"], "done");
    let session = |members: Vec<i64>| json!({"area_id": area.0, "due_month": "2027-01", "day": "2026-11-22", "place": "x", "members": members});
    let (both, one) = (session(vec![p1, p2]), session(vec![p2]));
    let ((s1, _), (s2, _)) = tokio::join!(
        app.post(&nurse, "/api/v1/group-sessions", &both),
        app.post(&nurse2, "/api/v1/group-sessions", &one)
    );
    let mut got = [s1, s2];
    got.sort();
    // The loser either lost the race in the store (409) or already saw p2 taken (422).
    assert!(got == [201, 409] || got == [201, 422], "{got:?}");
    let (_, v) = app.get(&nurse, "/api/v1/group-sessions?due_month=2027-01").await;
    let members: Vec<i64> = v["sessions"].as_array().unwrap().iter().flat_map(member_ids).collect();
    assert!(members.iter().filter(|p| **p == p2).count() == 1, "{v}");
}

on_both! {
    handbook_list_and_meeting => story_the_handbook_list_and_its_meeting,
    bad_meetings_store_nothing => story_bad_meetings_store_nothing,
    group_sessions_flow => story_group_sessions_from_proposal_to_attendance,
    at_the_same_time_one_wins => story_at_the_same_time_one_wins,
}
