//! A session's staff through the real router on both back ends (#12, last
//! stage): the nurse assigns programme staff A to session 1 and B to
//! session 2 at the same hall (the API and the edit page); A sees session
//! 1's roster and records its attendance, and is refused session 2's (403);
//! a session nobody is assigned to stays open to the hall's staff; an
//! account of another municipality or a disabled one is refused beside the
//! field (422, nothing stored); families never see staff names; and a
//! booking promoted and then moved tells the family both, the move first;
//! on a day that weighs, its staff record the weight (in a scale's range)
//! and raise a concern from the roster, which becomes a referral.

use crate::pages::Visitor;
use crate::support::*;
use jiff::civil::{date, Time};
use serde_json::{json, Value};
use tsunagu_domain::classes::{ProgrammeConfig, ProgrammeKind};
use tsunagu_domain::places::VenueKind;
use tsunagu_domain::roles::Role;
use tsunagu_domain::ClassSessionId;
use tsunagu_store::{NewSession, NewVenue};

async fn put(app: &TestApp, token: &str, path: &str, body: &Value) -> (u16, Value) {
    let resp = app.http.put(app.url(path)).bearer_auth(token).json(body).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn mother_token(app: &TestApp, username: &str) -> String {
    let r = app
        .http
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"municipality": "131121", "username": username, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
}

async fn post_form(page: &mut Visitor<'_>, path: &str, f: &[(&'static str, String)]) -> crate::pages::Page {
    let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    page.post(path, &refs).await
}

fn edit_body(staff: &[i64]) -> Value {
    json!({"day": "2026-12-15", "starts": "10:00", "minutes": 120, "capacity": 1, "staff_ids": staff})
}

async fn story_programme_staff_see_their_own_sessions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    let m = fx.setagaya.id;
    let hall = app
        .store
        .create_venue(&NewVenue {
            municipality_id: m,
            area_id: Some(fx.setagaya_area.id),
            kind: VenueKind::ChildrensHall,
            name_ja: "北沢児童館".into(),
            name_en: "Kitazawa hall".into(),
        })
        .await
        .unwrap()
        .id;
    let p = app.store.create_programme(m, &ProgrammeConfig::seed_default(ProgrammeKind::SelfCare)).await.unwrap();
    let at = |d| NewSession {
        venue_id: hall,
        day: date(2026, 12, d),
        starts: Time::constant(10, 0, 0, 0),
        minutes: 120,
        capacity: 1,
    };
    let ids = app.store.create_class_sessions(m, p.id, &[at(15), at(17), at(18)]).await.unwrap();
    let (one, two, open) = (ids[0].0, ids[1].0, ids[2].0);
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let a = app.account(&fx.setagaya, "hall-a", Role::ProgrammeStaff, Scope::Venues(vec![hall])).await;
    let b = app.account(&fx.setagaya, "hall-b", Role::ProgrammeStaff, Scope::Venues(vec![hall])).await;
    let gone = app.account(&fx.setagaya, "gone", Role::ProgrammeStaff, Scope::Venues(vec![hall])).await;
    let stranger = app.account(&fx.other, "hall-x", Role::ProgrammeStaff, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let staff_a = app.token(&fx.setagaya, "hall-a").await;
    let staff_b = app.token(&fx.setagaya, "hall-b").await;
    let admin_ctx = tsunagu_domain::audit::Requester {
        municipality_id: m,
        actor: a,
        role: Role::Admin,
        remote_addr: "192.0.2.1".into(),
        reason: "test".into(),
        at: test_now(),
    }
    .without_a_policy_decision();
    app.store.set_disabled(&admin_ctx, gone, true).await.unwrap();

    // The choices: for those who manage classes; display names only.
    let (s, v) = app.get(&nurse, "/api/v1/classes/staff-choices").await;
    assert_eq!(s, 200, "{v}");
    let chosen: Vec<i64> = v["staff"].as_array().unwrap().iter().map(|x| x["account_id"].as_i64().unwrap()).collect();
    assert!(chosen.contains(&a.0) && chosen.contains(&b.0), "{v}");
    assert!(!chosen.contains(&gone.0) && !chosen.contains(&stranger.0), "not disabled, not another town's: {v}");
    let (s, _) = app.get(&staff_a, "/api/v1/classes/staff-choices").await;
    assert_eq!(s, 403);

    // Assigned through the API: A runs session 1, B session 2.
    let (s, v) = put(&app, &nurse, &format!("/api/v1/classes/sessions/{one}"), &edit_body(&[a.0])).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["staff"][0]["display_name"].as_str(), Some("hall-a (test)"), "{v}");
    let (s, v) = put(&app, &nurse, &format!("/api/v1/classes/sessions/{two}"), &edit_body(&[b.0])).await;
    assert_eq!(s, 200, "{v}");
    // One line for the edit, naming the staff by id.
    let l = app.store.audit_lines(m, 0, 100_000).await.unwrap().pop().unwrap();
    assert_eq!(l.action, "class.session_edit");
    assert!(l.detail.ends_with(&format!("staff_added=[{}] staff_removed=[]", b.0)), "{}", l.detail);
    assert!(!l.detail.contains("hall-b"), "ids, never names: {}", l.detail);

    // Refused beside the field, nothing stored: another municipality's account, a disabled one.
    for (who, code) in [(stranger, "unknown_reference"), (gone, "account_disabled")] {
        let (s, v) = put(&app, &nurse, &format!("/api/v1/classes/sessions/{one}"), &edit_body(&[who.0])).await;
        assert_eq!(s, 422, "{v}");
        let field = &v["error"]["fields"][0];
        assert_eq!((field["field"].as_str(), field["code"].as_str()), (Some("staff_ids"), Some(code)), "{v}");
    }
    let s1 = app.store.class_session(m, ClassSessionId(one)).await.unwrap().unwrap();
    assert_eq!(s1.staff_ids(), [a], "nothing stored by the refusals");

    // A: session 1's roster and attendance; not session 2's, assigned to B.
    let (s, v) = app.get(&staff_a, &format!("/api/v1/classes/sessions/{one}/roster")).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["session"]["staff"][0]["account_id"].as_i64(), Some(a.0), "{v}");
    let (s, _) = app.get(&staff_a, &format!("/api/v1/classes/sessions/{two}/roster")).await;
    assert_eq!(s, 403, "another's session at the same hall");
    let (s, _) = app.post(&staff_a, &format!("/api/v1/classes/sessions/{two}/attendance"), &json!({"marks": []})).await;
    assert_eq!(s, 403);
    let (s, _) = app.get(&staff_b, &format!("/api/v1/classes/sessions/{two}/roster")).await;
    assert_eq!(s, 200);
    let (s, _) = app.get(&staff_b, &format!("/api/v1/classes/sessions/{one}/roster")).await;
    assert_eq!(s, 403);
    // A session nobody runs: the hall's staff, as before.
    for t in [&staff_a, &staff_b] {
        let (s, _) = app.get(t, &format!("/api/v1/classes/sessions/{open}/roster")).await;
        assert_eq!(s, 200);
    }

    // A's pages: her sessions listed with their staff, not B's; B's roster refused.
    let mut page = Visitor::new(&app);
    page.sign_in("hall-a", Some(app.next_totp())).await;
    let list = page.get("/classes").await;
    assert!(list.body.contains(&format!("/classes/sessions/{one}\"")), "{}", list.body);
    assert!(list.body.contains(&format!("/classes/sessions/{open}\"")), "{}", list.body);
    assert!(!list.body.contains(&format!("/classes/sessions/{two}\"")), "{}", list.body);
    assert!(list.body.contains("hall-a (test)"), "{}", list.body);
    let roster = page.get(&format!("/classes/sessions/{one}")).await;
    assert_eq!(roster.status, 200, "{}", roster.body);
    assert!(roster.body.contains("id=\"session-staff\"") && roster.body.contains("hall-a (test)"), "{}", roster.body);
    assert_eq!(page.get(&format!("/classes/sessions/{two}")).await.status, 403);

    // The nurse's edit page: the staff as checkboxes; a malformed id beside the field.
    let mut np = Visitor::new(&app);
    np.sign_in("nurse", Some(app.next_totp())).await;
    let form = np.get(&format!("/classes/sessions/{two}/edit")).await;
    assert!(form.body.contains(&format!("id=\"staff-{}\" checked", b.0)), "{}", form.body);
    assert!(!form.body.contains(&format!("id=\"staff-{}\"", gone.0)), "not a disabled account");
    let csrf = Visitor::csrf_in(&form.body);
    let fields = |staff: &str| {
        vec![
            ("_csrf", csrf.clone()),
            ("day", "2026-12-17".to_owned()),
            ("starts", "10:00".to_owned()),
            ("minutes", "120".to_owned()),
            ("capacity", "1".to_owned()),
            ("venue_id", hall.0.to_string()),
            ("staff_id", staff.to_owned()),
        ]
    };
    let path = format!("/classes/sessions/{two}/edit");
    let bad = post_form(&mut np, &path, &fields("x")).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("id=\"err-staff_ids\""), "{}", bad.body);
    let bad = post_form(&mut np, &path, &fields(&gone.0.to_string())).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("無効にされたアカウントは担当にできません"), "{}", bad.body);
    let saved = post_form(&mut np, &path, &fields(&a.0.to_string())).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let s2 = app.store.class_session(m, ClassSessionId(two)).await.unwrap().unwrap();
    assert_eq!(s2.staff_ids(), [a], "A runs session 2 now");
    let (s, _) = app.get(&staff_a, &format!("/api/v1/classes/sessions/{two}/roster")).await;
    assert_eq!(s, 200);
    let (s, _) = app.get(&staff_b, &format!("/api/v1/classes/sessions/{two}/roster")).await;
    assert_eq!(s, 403);
    let list = np.get(&format!("/classes/manage?programme={}", p.id.0)).await;
    assert!(list.body.contains("<td class=\"staff\">hall-a (test)</td>"), "{}", list.body);

    // A family: no staff names in its offers; promoted then moved, both notices, the move first.
    let area = fx.setagaya_area.id;
    let f1 = app.register(&nurse, &notification(area, "あおき", "はな", "2027-05-20")).await;
    let f2 = app.register(&nurse, &notification(area, "いのうえ", "はな", "2027-05-20")).await;
    app.account(&fx.setagaya, "mother", Role::FamilyMember, Scope::Family(f2)).await;
    let mother = mother_token(&app, "mother").await;
    let (s, v) = app.get(&mother, "/api/v1/classes/offers").await;
    assert_eq!(s, 200, "{v}");
    assert!(!v.to_string().contains("hall-a"), "no staff names to families: {v}");
    assert!(v["offers"][0]["session"].get("staff").is_none(), "{v}");
    let (s, v) = app
        .post(
            &nurse,
            "/api/v1/classes/bookings",
            &json!({"session_id": open, "family_id": f1.0, "idempotency_key": "n1"}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let first = v["booking"]["id"].as_i64().unwrap();
    let (s, v) =
        app.post(&mother, "/api/v1/classes/bookings", &json!({"session_id": open, "idempotency_key": "m1"})).await;
    assert_eq!((s, v["booking"]["status"].as_str()), (201, Some("waiting")), "{v}");
    let (s, v) = app.post(&nurse, &format!("/api/v1/classes/bookings/{first}/cancel"), &json!({})).await;
    assert_eq!(s, 200, "{v}");
    app.clock.advance(jiff::SignedDuration::from_secs(60));
    let moved = json!({"day": "2026-12-18", "starts": "13:30", "minutes": 120, "capacity": 1});
    let (s, v) = put(&app, &nurse, &format!("/api/v1/classes/sessions/{open}"), &moved).await;
    assert_eq!(s, 200, "{v}");
    assert!(v["staff"].as_array().is_some_and(|x| x.is_empty()), "no staff in the body: they stay none: {v}");
    let mut her = Visitor::new(&app);
    her.sign_in("mother", None).await;
    let mine = her.get("/classes/mine").await;
    let moved_at = mine.body.find("この回の日時または会場が変わりました");
    let promoted_at = mine.body.find("notice promoted");
    assert!(moved_at.is_some() && promoted_at.is_some(), "both notices: {}", mine.body);
    assert!(moved_at < promoted_at, "the latest first: {}", mine.body);
    assert!(!mine.body.contains("hall-a"), "{}", mine.body);
    // Her offers say who runs a class by role, never by name.
    let offers = her.get("/classes").await;
    assert!(offers.body.contains("class=\"muted runs\""), "{}", offers.body);
    assert!(!offers.body.contains("hall-a") && !offers.body.contains("hall-b"), "{}", offers.body);

    // A day that weighs ([004] 健康相談と仲間づくり): the staff it is assigned to
    // record attendance and the baby's weight (a scale's range), and raise a
    // concern from the roster, which becomes a referral to the nurse.
    let weighing =
        app.store.create_programme(m, &ProgrammeConfig::seed_default(ProgrammeKind::HealthConsultation)).await.unwrap();
    let day = app.store.create_class_sessions(m, weighing.id, &[at(21)]).await.unwrap()[0].0;
    let (s, v) = put(
        &app,
        &nurse,
        &format!("/api/v1/classes/sessions/{day}"),
        &json!({"day": "2026-12-21",
        "starts": "10:00", "minutes": 120, "capacity": 5, "staff_ids": [b.0]}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = app
        .post(
            &nurse,
            "/api/v1/classes/bookings",
            &json!({"session_id": day, "family_id": f1.0, "idempotency_key": "w1"}),
        )
        .await;
    assert_eq!((s, v["booking"]["status"].as_str()), (201, Some("confirmed")), "{v}");
    let booking = v["booking"]["id"].as_i64().unwrap();
    let attendance = format!("/api/v1/classes/sessions/{day}/attendance");
    let mark = |w: u32| json!({"marks": [{"booking_id": booking, "attended": true, "weight_g": w}]});
    assert_eq!(app.post(&staff_a, &attendance, &mark(3200)).await.0, 403, "not A's day");
    let (s, v) = app.post(&staff_b, &attendance, &mark(100)).await;
    assert_eq!((s, v["error"]["fields"][0]["field"].as_str()), (422, Some("weight_g")), "{v}");
    assert_eq!(app.post(&staff_b, &attendance, &mark(3200)).await.0, 204);
    let (_, roster) = app.get(&staff_b, &format!("/api/v1/classes/sessions/{day}/roster")).await;
    assert_eq!(roster["roster"][0]["booking"]["weight_g"].as_i64(), Some(3200), "{roster}");
    let mut hall_b = Visitor::new(&app);
    hall_b.sign_in("hall-b", Some(app.next_totp())).await;
    let page = hall_b.get(&format!("/classes/sessions/{day}")).await;
    assert!(page.body.contains("action=\"/referrals\""), "the roster raises concerns: {}", page.body);
    let csrf = Visitor::csrf_in(&page.body);
    let back = format!("/classes/sessions/{day}");
    let raised = hall_b
        .post(
            "/referrals",
            &[("_csrf", &csrf), ("family_id", &f1.0.to_string()), ("note", "体重の増えが気になる"), ("back", &back)],
        )
        .await;
    assert_eq!(raised.status, 303, "{}", raised.body);
    let l = app.store.audit_lines(m, 0, 100_000).await.unwrap().pop().unwrap();
    assert_eq!((l.action.as_str(), l.family_id), ("referral.raise", Some(f1)));
}

on_both! {
    programme_staff_see_their_own_sessions => story_programme_staff_see_their_own_sessions,
}
