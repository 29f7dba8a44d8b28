//! Reminders of contacts (#10), on both back ends, through the local fake
//! SMTP server of `reminders`: a contact with a day set — a confirmed
//! 8th-month group interview ([002] ③ 集団面談) — is reminded like a
//! booking, once per member who chose e-mail, through the same claim table
//! (none twice after a re-run or with two runners); a member who chose
//! nothing gets none, nor does the partner (the interview is about the
//! mother: her health items are not shared); a contact that is only a
//! window gets none. The mail names the day only. これからの予定 shows
//! the interview by its day and place.

use crate::pages::Visitor;
use crate::reminders::{body_of, fake_relay, mailer, subject_of};
use crate::support::*;
use serde_json::json;
use tsunagu::reminders::run_reminders;
use tsunagu_domain::clock::Clock;
use tsunagu_domain::roles::Role;

async fn story_a_group_interview_is_reminded_once(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    let area = fx.setagaya_area.id;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    // Two women of the area due in January (their 8th-month interviews are due now).
    let mut pregnancies = Vec::new();
    let mut families = Vec::new();
    for (kana, edd) in [("あおい", "2027-01-04"), ("いずみ", "2027-01-08")] {
        let mut body = notification(area, kana, "はな", edd);
        body["notified_on"] = json!("2026-06-01");
        body["consent_coordinators"] = json!(true);
        let f = app.register(&nurse, &body).await;
        let (_, rec) = app.get(&nurse, &format!("/api/v1/families/{}", f.0)).await;
        pregnancies.push(rec["pregnancies"][0]["id"].as_i64().unwrap());
        families.push(f);
    }
    app.account(&fx.setagaya, "mother", Role::FamilyMember, Scope::Family(families[0])).await;
    app.account(&fx.setagaya, "partner", Role::FamilyMember, Scope::Partner(families[0])).await;
    app.account(&fx.setagaya, "other-mother", Role::FamilyMember, Scope::Family(families[1])).await;

    // Both choose e-mail a week ahead before any day is set: nothing is due (windows only).
    for (who, address) in [("mother", "mama@example.jp"), ("partner", "papa@example.jp")] {
        let mut v = Visitor::new(&app);
        v.sign_in(who, None).await;
        let page = v.get("/me/reminders").await;
        let csrf = Visitor::csrf_in(&page.body);
        let r = v
            .post("/me/reminders", &[("_csrf", &csrf), ("email_on", "on"), ("email", address), ("days_before", "7")])
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
    }
    let relay = fake_relay().await;
    let m = mailer(&relay.addr);
    let (today, now) = (app.clock.today(), app.clock.now());
    let run = run_reminders(app.store.as_ref(), &m, today, now, "node-a").await.unwrap();
    assert_eq!(run.sent, 0, "a window alone is not reminded: {run:?}");

    // The nurse sets the group's day: the 24th (Tuesday), at the centre.
    let body = json!({"area_id": area.0, "due_month": "2027-01", "day": "2026-11-24",
        "place": "世田谷保健福祉センター", "members": pregnancies});
    let (s, v) = app.post(&nurse, "/api/v1/group-sessions", &body).await;
    assert_eq!(s, 201, "{v}");

    // これからの予定 shows it by its day and place (not by its window) to the mother, not to the partner.
    let mut mother = Visitor::new(&app);
    mother.sign_in("mother", None).await;
    let me = mother.get("/me").await;
    let start = me.body.find("id=\"next\"").unwrap();
    let next = &me.body[start..start + me.body[start..].find("</section>").unwrap()];
    assert!(next.contains("data-kind=\"group\""), "{next}");
    assert!(next.contains("妊娠8か月面談") && next.contains("11月24日(火)"), "{next}");
    assert!(next.contains("世田谷保健福祉センター"), "the place: {next}");
    assert_eq!(next.matches("妊娠8か月面談").count(), 1, "not its window besides: {next}");
    let mut partner = Visitor::new(&app);
    partner.sign_in("partner", None).await;
    let theirs = partner.get("/me").await;
    assert!(!theirs.body.contains("data-kind=\"group\""), "not to the partner");

    let (a, b) = tokio::join!(
        run_reminders(app.store.as_ref(), &m, today, now, "node-a"),
        run_reminders(app.store.as_ref(), &m, today, now, "node-b")
    );
    assert_eq!(a.unwrap().sent + b.unwrap().sent, 1, "one mail: the mother's");
    assert_eq!(run_reminders(app.store.as_ref(), &m, today, now, "node-c").await.unwrap().sent, 0, "not twice");
    let mails = relay.mails.lock().unwrap().clone();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].to, "mama@example.jp", "not the partner, not the family who chose nothing");
    let subject = subject_of(&mails[0].data);
    assert_eq!(subject, "tsunagu: 11月24日(火)に予定があります");
    let text = body_of(&mails[0].data);
    assert!(text.contains("11月24日(火)"), "{text}");
    for word in ["あおい", "はな", "面談", "妊娠", "保健", "センター"] {
        assert!(!text.contains(word) && !subject.contains(word), "{word} in {text}");
    }
}

on_both!(a_group_interview_is_reminded_once => story_a_group_interview_is_reminded_once);
