//! Staff screens that hold what a decision needs (#10), over HTTP on both
//! back ends: work lists whose chips count what their lists show and that
//! open on a list with work.

use crate::support::*;
use serde_json::Value;

/// Every row of a list, page after page (the API's pages of 50).
async fn all_rows(app: &TestApp, token: &str, list: &str, whose: &str) -> usize {
    let mut n = 0;
    for page in 1..=40 {
        let (s, v) = app.get(token, &format!("/api/v1/worklist?list={list}&whose={whose}&page={page}")).await;
        assert_eq!(s, 200, "{list} page {page}: {v}");
        let key = if list == "urgent" { "followups" } else { "items" };
        n += v[key].as_array().unwrap().len();
        if !v["has_more"].as_bool().unwrap() {
            return n;
        }
    }
    panic!("{list} has more than 40 pages");
}

const CHIPS: [&str; 5] = ["overdue", "due_this_week", "missed", "check_non_attendees", "urgent"];

/// Each chip's count against the rows its list shows, in one scope; answers
/// the counts.
async fn chips_agree(app: &TestApp, token: &str, whose: &str) -> Value {
    let (s, first) = app.get(token, &format!("/api/v1/worklist?list=overdue&whose={whose}")).await;
    assert_eq!(s, 200, "{first}");
    let counts = first["counts"].clone();
    for chip in CHIPS {
        let Some(count) = counts[chip].as_u64() else { continue };
        let rows = all_rows(app, token, chip, whose).await;
        assert_eq!(rows as u64, count, "{whose}: the {chip} chip says {count}, its list shows {rows}");
    }
    counts
}

/// #10: 至急・要フォロー counted the urgent referrals (4) beside a list of
/// every open one (10); each chip now counts its list, for the nurse (her
/// own and the whole municipality) and the coordinator, on the demo data.
/// Then, as the next story, where the work list opens.
async fn each_chip_counts_what_its_list_shows(backend: Backend) {
    // The demo as `serve --demo` loads it (150 families a municipality).
    let app = TestApp::start_demo(backend, 150).await;
    let nurse = app.demo_token("nurse").await;
    let mine = chips_agree(&app, &nurse, "mine").await;
    let all = chips_agree(&app, &nurse, "all").await;
    assert!(all["urgent"].as_u64().unwrap() > 0, "the demo has open referrals: {all}");
    assert!(
        CHIPS.iter().filter(|c| all[**c].as_u64().unwrap_or(0) > 0).count() >= 3,
        "the demo gives most chips work: {all}"
    );
    assert!(mine["overdue"].is_u64());
    let coordinator = app.demo_token("coordinator").await;
    let counts = chips_agree(&app, &coordinator, "mine").await;
    // The follow-ups are not the coordinator's chip.
    assert!(counts.get("urgent").is_none() || counts["urgent"] == 0, "{counts}");
    the_work_list_opens_where_the_work_is(&app).await;
}

/// A work list asked for without a list opens on the first chip with work,
/// never on an empty list while another holds work; the nurse is told how
/// many postpartum applications wait, the coordinator is not.
async fn the_work_list_opens_where_the_work_is(app: &TestApp) {
    for who in ["coordinator", "nurse"] {
        let token = app.demo_token(who).await;
        let (s, v) = app.get(&token, "/api/v1/worklist").await;
        assert_eq!(s, 200, "{v}");
        let list = v["list"].as_str().unwrap();
        let counts = &v["counts"];
        match CHIPS.iter().find(|c| counts[**c].as_u64().unwrap_or(0) > 0) {
            // The first chip, in order, that has work.
            Some(first) => assert_eq!(list, *first, "{who}: {counts}"),
            // No chip has work (the demo's coordinator): every open contact,
            // which has some (#10: she landed on an empty list with 15 here).
            None => {
                assert_eq!(list, "open", "{who}: {counts}");
                assert!(!v["items"].as_array().unwrap().is_empty(), "{who}: {v}");
            }
        }
        let waiting = &counts["applications_waiting"];
        if who == "nurse" {
            let (_, apps) = app.get(&token, "/api/v1/postpartum/applications?status=applied").await;
            let n = apps["applications"].as_array().map_or(0, Vec::len) as u64;
            assert_eq!(waiting.as_u64(), Some(n), "{apps}");
        } else {
            assert!(waiting.is_null(), "{who} does not review applications: {counts}");
        }
    }
}

/// Audit lines of the fixture's municipality after `from` (their actions).
async fn actions_since(app: &TestApp, from: usize) -> Vec<String> {
    let lines = app.store.audit_lines(app.fx.setagaya.id, 0, 100_000).await.unwrap();
    lines[from..].iter().map(|l| format!("{} {}", l.action, l.detail)).collect()
}

async fn audit_len(app: &TestApp) -> usize {
    app.store.audit_lines(app.fx.setagaya.id, 0, 100_000).await.unwrap().len()
}

/// #10: the nurse reviews an application with what the decision needs —
/// the family's answers, eligibility today with its reasons, the days its
/// other applications used, recent screening results and open referrals —
/// read as one `postpartum.view` line; approving, refusing and cancelling
/// are a second, confirming step (no script needed); the facility's staff
/// see none of the review.
async fn the_review_holds_what_the_decision_needs(backend: Backend) {
    use crate::pages::Visitor;
    let app = TestApp::start(backend).await;
    let f = crate::privacy::family_with_a_stay(&app).await;
    let family = f.family.0;
    let centre = app.fx.facility.id;
    let body = crate::postpartum::application(None, centre, "2026-12-10", 2, 2);
    let (s, v) = app.post(&f.mother, "/api/v1/postpartum/applications", &body).await;
    assert_eq!(s, 201, "{v}");
    let applied = v["id"].as_i64().unwrap();
    // A positive EPDS (it raises the nurse's referral) and the facility's concern.
    let answers = crate::screening::epds([3, 3, 3, 3, 3, 3, 3, 3, 3, 0]);
    let (s, v) = app
        .post(
            &f.nurse,
            &format!("/api/v1/families/{family}/screenings"),
            &serde_json::json!({"questionnaire": "epds", "answers": answers}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let concern = serde_json::json!({"family_id": family, "note": "授乳がつらそう"});
    assert_eq!(app.post(&f.facility, "/api/v1/referrals", &concern).await.0, 201);
    // The first stay's first day, used (recorded on the day after).
    app.clock.advance(jiff::SignedDuration::from_hours(24 * 10));
    let used = serde_json::json!({"day": "2026-11-22"});
    let facility_token = app.token(&app.fx.setagaya, "facility").await;
    let (s, v) =
        app.post(&facility_token, &format!("/api/v1/postpartum/applications/{}/used", f.application), &used).await;
    assert_eq!(s, 204, "{v}");

    let mut nurse = Visitor::new(&app);
    nurse.sign_in("nurse", Some(app.next_totp())).await;
    let before = audit_len(&app).await;
    let page = nurse.get(&format!("/postpartum/applications/{applied}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let lines = actions_since(&app, before).await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("postpartum.view application="), "{lines:?}");
    assert!(lines[0].contains("screenings=1 referrals=2"), "{lines:?}");
    let b = &page.body;
    for id in ["id=\"review-facts\"", "id=\"answers\"", "id=\"eligibility-today\"", "id=\"other-applications\""] {
        assert!(b.contains(id), "{id}");
    }
    assert!(b.contains("体調や育児に不安・疲れがある"), "the situation answers");
    assert!(b.contains("class=\"ok\" id=\"eligibility-today\""), "eligible today");
    assert!(b.contains("data-service=\"short_stay\">ショートステイ（宿泊） 1日"), "one day of short stay used before");
    assert_eq!(b.matches("class=\"review-screening result-positive\"").count(), 1, "the positive EPDS");
    assert_eq!(b.matches("class=\"review-referral").count(), 2, "the screening's and the facility's");
    // The decision is a second step: the submit sits inside a <details>.
    for step in ["approve", "reject"] {
        let start = b.find(&format!("id=\"{step}-step\"")).expect(step);
        let close = start + b[start..].find("</details>").unwrap();
        assert!(b[start..close].contains(&format!("type=\"submit\" id=\"{step}-confirm\"")), "{step}");
        assert!(!b[..start].contains(&format!("id=\"{step}-confirm\"")), "{step}");
    }
    assert!(b.contains("id=\"reject-confirm\" class=\"danger\""));
    // The nurse confirms: approved.
    let csrf = Visitor::csrf_in(b);
    let r = nurse.post(&format!("/postpartum/applications/{applied}/approve"), &[("_csrf", &csrf), ("note", "")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = nurse.get(&format!("/postpartum/applications/{applied}")).await;
    assert!(page.body.contains("id=\"cancel-step\""), "an approved stay may be cancelled, confirmed");
    assert!(!page.body.contains("id=\"approve-step\""));

    // The facility sees the application, not the review.
    let mut facility = Visitor::new(&app);
    facility.sign_in("facility", Some(app.next_totp())).await;
    let page = facility.get(&format!("/postpartum/applications/{applied}")).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("id=\"review-facts\""));
    assert!(!page.body.contains("id=\"approve-step\""));

    // The JSON API gives what the page shows (#10); the facility may not review.
    let token = app.token(&app.fx.setagaya, "nurse").await;
    let review = format!("/api/v1/postpartum/applications/{applied}/review");
    let (s, v) = app.get(&token, &review).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["application"]["answers"]["has_worries_or_fatigue"], true);
    assert_eq!(v["eligibility"]["eligible"], true, "{v}");
    assert_eq!(v["used_before"], serde_json::json!([{"service": "short_stay", "days": 1}]));
    assert_eq!(v["others"].as_array().unwrap().len(), 1);
    assert_eq!(v["screenings"].as_array().unwrap().len(), 1);
    assert_eq!(v["screenings"][0]["positive"], true);
    assert_eq!(v["referrals"].as_array().unwrap().len(), 2);
    let facility_token = app.token(&app.fx.setagaya, "facility").await;
    assert_eq!(app.get(&facility_token, &review).await.0, 403);
}

on_both! {
    each_chip_counts_what_its_list_shows => each_chip_counts_what_its_list_shows,
    the_review_holds_what_the_decision_needs => the_review_holds_what_the_decision_needs,
}

/// #10: the municipality's last active administrator account cannot be
/// disabled, the administrator's own included (a clear 409 in the API, the
/// reason on the page); with a second administrator it can, and then the
/// second is the last. Disabling is a confirmed, red step on the page.
async fn the_last_administrator_stays(backend: Backend) {
    use crate::pages::Visitor;
    use tsunagu_domain::roles::Role;
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    let first = app.account(&fx.setagaya, "admin", Role::Admin, Scope::None).await;
    // Another municipality's administrator does not count.
    app.account(&fx.other, "admin", Role::Admin, Scope::None).await;
    let admin = app.token(&fx.setagaya, "admin").await;
    let (s, v) = app.post(&admin, &format!("/api/v1/accounts/{}/disable", first.0), &serde_json::json!({})).await;
    assert_eq!(s, 409, "{v}");
    assert_eq!(v["error"]["code"], "last_administrator");
    // The page says why, in Japanese, and offers the step confirmed and red.
    let mut page = Visitor::new(&app);
    page.sign_in("admin", Some(app.next_totp())).await;
    let list = page.get("/admin/accounts").await;
    assert!(list.body.contains("class=\"confirm danger disable-step\""));
    assert!(list.body.contains("class=\"confirm danger totp-step\""));
    let csrf = Visitor::csrf_in(&list.body);
    let r = page.post(&format!("/admin/accounts/{}/disable", first.0), &[("_csrf", &csrf)]).await;
    assert_eq!(r.status, 409);
    assert!(r.body.contains("最後の有効な管理者アカウントは無効にできません"), "{}", r.body);
    assert!(!app.store.account(app.fx.setagaya.id, first).await.unwrap().unwrap().disabled);
    // A second administrator: now the first may go (their own account).
    let second = app.account(&fx.setagaya, "admin2", Role::Admin, Scope::None).await;
    let (s, v) = app.post(&admin, &format!("/api/v1/accounts/{}/disable", first.0), &serde_json::json!({})).await;
    assert_eq!(s, 204, "{v}");
    let admin2 = app.token(&fx.setagaya, "admin2").await;
    let (s, v) = app.post(&admin2, &format!("/api/v1/accounts/{}/disable", second.0), &serde_json::json!({})).await;
    assert_eq!((s, v["error"]["code"].as_str()), (409, Some("last_administrator")));
    // Enabled again, the first counts once more.
    assert_eq!(app.post(&admin2, &format!("/api/v1/accounts/{}/enable", first.0), &serde_json::json!({})).await.0, 204);
    assert_eq!(
        app.post(&admin2, &format!("/api/v1/accounts/{}/disable", second.0), &serde_json::json!({})).await.0,
        204
    );
}

on_both! {
    the_last_administrator_stays => the_last_administrator_stays,
}

/// #10: a contact takes the day it took place — not in the future, not
/// before the pregnancy's notification (a clear error by the field) — and a
/// multi-line note; the family page shows past contacts' notes, an office
/// note to staff only.
async fn contacts_take_a_day_and_a_note(backend: Backend) {
    use crate::pages::Visitor;
    use tsunagu_domain::roles::Role;
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let mut body = notification(fx.setagaya_area.id, "ひにち", "はな", "2027-01-10");
    body["notified_on"] = serde_json::json!("2026-06-01");
    let family = app.register(&nurse, &body).await;
    app.account(&fx.setagaya, "mother", Role::FamilyMember, Scope::Family(family)).await;
    let (_, v) = app.get(&nurse, &format!("/api/v1/families/{}/contacts", family.0)).await;
    let contacts: Vec<i64> = v["contacts"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    let (first, second) = (contacts[0], contacts[1]);
    let outcome = |day: &str, note: &str, audience: &str| serde_json::json!({"outcome": "not_reached", "attempts": 1, "note": note, "audience": audience, "contacted_on": day});
    for (day, code) in [("2026-11-23", "contact_day_in_future"), ("2026-05-31", "contact_day_before_notification")] {
        let (s, v) = app.post(&nurse, &format!("/api/v1/contacts/{first}/outcome"), &outcome(day, "x", "office")).await;
        assert_eq!(s, 422, "{v}");
        assert_eq!(v["error"]["fields"][0]["field"], "contacted_on", "{v}");
        assert_eq!(v["error"]["fields"][0]["code"], code, "{v}");
    }
    // Through the page: the day and a note of two lines, for the family.
    let mut page = Visitor::new(&app);
    page.sign_in("nurse", Some(app.next_totp())).await;
    let form = page.get(&format!("/contacts/{first}")).await;
    assert!(form.body.contains("name=\"contacted_on\""), "the form asks the day");
    assert!(form.body.contains("max=\"2026-11-22\""), "not after today");
    let csrf = Visitor::csrf_in(&form.body);
    let fields = |day: &'static str, note: &'static str, audience: &'static str| {
        vec![
            ("_csrf", csrf.clone()),
            ("outcome", "not_reached".to_owned()),
            ("attempts", "1".to_owned()),
            ("note", note.to_owned()),
            ("audience", audience.to_owned()),
            ("contacted_on", day.to_owned()),
        ]
    };
    let refused = page.post(&format!("/contacts/{first}"), &as_refs(&fields("2026-12-01", "x", "office"))).await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("実施日は今日以前の日付を入力してください"), "{}", refused.body);
    // The banner names the field and links to it (#10).
    let start = refused.body.find("id=\"error-summary\"").expect("the banner");
    let banner = &refused.body[start..start + refused.body[start..].find("</div>").unwrap()];
    assert!(banner.contains("<a href=\"#contacted-on\">"), "{banner}");
    assert!(!banner.contains("#note\""), "only the wrong field: {banner}");
    let done = page
        .post(&format!("/contacts/{first}"), &as_refs(&fields("2026-11-20", "留守でした。\n手紙を投函", "family")))
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let done = page
        .post(&format!("/contacts/{second}"), &as_refs(&fields("2026-11-21", "近所の方の話では不在がち", "office")))
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let staff_view = page.get(&format!("/families/{}", family.0)).await;
    assert!(staff_view.body.contains("留守でした。\n手紙を投函"), "the note keeps its lines");
    assert!(staff_view.body.contains("近所の方の話では不在がち"), "staff read the office note");
    assert!(
        staff_view.body.contains("<small class=\"contact-day\">令和8年11月20日(金)</small>"),
        "the day it took place, in Japanese"
    );
    let mut family_page = Visitor::new(&app);
    family_page.sign_in("mother", None).await;
    let own = family_page.get("/me").await;
    assert_eq!(own.status, 200);
    assert!(!own.body.contains("近所の方の話では不在がち"), "an office note stays in the office");
    // The JSON API gives each contact's day and note, and whom the note is for (#10).
    let (_, v) = app.get(&nurse, &format!("/api/v1/families/{}/contacts", family.0)).await;
    let of = |id: i64| v["contacts"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap().clone();
    let (a, b) = (of(first), of(second));
    assert_eq!(
        (a["contacted_on"].as_str(), a["outcome_note"].as_str()),
        (Some("2026-11-20"), Some("留守でした。\n手紙を投函"))
    );
    assert_eq!(
        (a["outcome_note_audience"].as_str(), b["outcome_note_audience"].as_str()),
        (Some("family"), Some("office"))
    );
    assert_eq!(b["contacted_on"], "2026-11-21");
    assert_eq!(of(contacts[2])["contacted_on"], serde_json::Value::Null, "no outcome, no day");
}

fn as_refs<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

on_both! {
    contacts_take_a_day_and_a_note => contacts_take_a_day_and_a_note,
}
