//! Who sees what inside a family (#10), over HTTP on both back ends: notes
//! written for the office never reach the family, the partner sees the
//! mother's health items only when she shares them and nothing once a
//! nurse turns the partner's view off (a neutral page, no reason), and a
//! family member opening a staff page gets its own view or a refusal.

use crate::pages::Visitor;
use crate::postpartum::{application, twins_family, with_facilities};
use crate::support::*;
use serde_json::{json, Value};
use tsunagu_domain::roles::Role;
use tsunagu_domain::FamilyId;

/// A family member's bearer token (no second factor).
async fn family_token(app: &TestApp, username: &str) -> String {
    let r = app
        .http
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"municipality": "131121", "username": username, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
}

pub(crate) struct Family {
    pub(crate) nurse: String,
    pub(crate) facility: String,
    pub(crate) mother: String,
    pub(crate) partner: String,
    pub(crate) family: FamilyId,
    pub(crate) application: i64,
}

/// Twins' family with an approved stay from today (2026-11-22, three days):
/// the nurse's approval memo for the office, two notes of the facility on
/// its first day (one for the family, one not). A day is recorded once it
/// has come (#10), so the stay starts today, not later.
pub(crate) async fn family_with_a_stay(app: &TestApp) -> Family {
    let fx = &app.fx;
    let centre = with_facilities(app).await[0];
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    app.account(&fx.setagaya, "facility", Role::FacilityStaff, Scope::Venues(vec![centre])).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let facility = app.token(&fx.setagaya, "facility").await;
    let family = twins_family(app, &nurse).await;
    app.account(&fx.setagaya, "mother", Role::FamilyMember, Scope::Family(family)).await;
    app.account(&fx.setagaya, "partner", Role::FamilyMember, Scope::Partner(family)).await;
    let mother = family_token(app, "mother").await;
    let partner = family_token(app, "partner").await;
    let (s, v) =
        app.post(&mother, "/api/v1/postpartum/applications", &application(None, centre, "2026-11-22", 3, 2)).await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_i64().unwrap();
    let approve = json!({"note": "電話で本人確認済み"});
    assert_eq!(app.post(&nurse, &format!("/api/v1/postpartum/applications/{id}/approve"), &approve).await.0, 204);
    for (day, note, audience) in [("2026-11-22", "授乳良好", "family"), ("2026-11-22", "母は疲労あり", "office")]
    {
        let body = json!({"day": day, "note": note, "audience": audience});
        let (s, v) = app.post(&facility, &format!("/api/v1/postpartum/applications/{id}/notes"), &body).await;
        assert_eq!(s, 204, "{v}");
    }
    Family { nurse, facility, mother, partner, family, application: id }
}

fn notes_of(v: &Value) -> Vec<String> {
    v["notes"].as_array().unwrap().iter().map(|n| n["note"].as_str().unwrap().to_owned()).collect()
}

async fn story_office_notes_stay_in_the_office(backend: Backend) {
    let app = TestApp::start(backend).await;
    let f = family_with_a_stay(&app).await;
    let path = format!("/api/v1/postpartum/applications/{}", f.application);
    // The staff read both notes and whom each is for.
    let (_, v) = app.get(&f.nurse, &path).await;
    assert_eq!(v["application"]["review_note"], "電話で本人確認済み");
    assert_eq!(v["application"]["review_note_audience"], "office");
    assert_eq!(notes_of(&v), ["授乳良好", "母は疲労あり"]);
    assert_eq!(v["notes"][1]["audience"], "office");
    let (_, v) = app.get(&f.facility, &path).await;
    assert_eq!(notes_of(&v), ["授乳良好", "母は疲労あり"]);
    // The mother reads what was written for the family only, in the list too.
    let (s, v) = app.get(&f.mother, &path).await;
    assert_eq!(s, 200);
    assert_eq!(v["application"]["review_note"], Value::Null);
    assert_eq!(notes_of(&v), ["授乳良好"]);
    let (_, list) = app.get(&f.mother, "/api/v1/postpartum/applications").await;
    assert_eq!(list["applications"][0]["review_note"], Value::Null);
    let (_, list) = app.get(&f.nurse, "/api/v1/postpartum/applications?status=approved").await;
    assert_eq!(list["applications"][0]["review_note"], "電話で本人確認済み");
    // Nor on the page.
    let mut mother = Visitor::new(&app);
    mother.sign_in("mother", None).await;
    let page = mother.get(&format!("/postpartum/applications/{}", f.application)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("授乳良好"));
    assert!(!page.body.contains("電話で本人確認済み") && !page.body.contains("母は疲労あり"), "{}", page.body);
    assert!(!page.body.contains("id=\"approve\"") && !page.body.contains("note-audience"));
    // An audience that is neither is refused, nothing stored.
    let body = json!({"day": "2026-11-22", "note": "x", "audience": "everyone"});
    let (s, v) = app.post(&f.facility, &format!("{path}/notes"), &body).await;
    assert_eq!((s, v["error"]["fields"][0]["field"].as_str()), (422, Some("audience")), "{v}");

    // A contact's note likewise: the family sees the one written for it.
    let (_, v) = app.get(&f.nurse, &format!("/api/v1/families/{}/contacts", f.family.0)).await;
    let contact = v["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "newborn_visit")
        .unwrap_or_else(|| panic!("{v}"))["id"]
        .as_i64()
        .unwrap();
    let tried = json!({"outcome": "not_reached", "note": "お留守でした。またお電話します", "audience": "family"});
    let (s, v) = app.post(&f.nurse, &format!("/api/v1/contacts/{contact}/outcome"), &tried).await;
    assert_eq!(s, 200, "{v}");
    let shown = |v: &Value| {
        v["contacts"].as_array().unwrap().iter().find(|c| c["id"] == contact).unwrap()["outcome_note"].clone()
    };
    let (_, v) = app.get(&f.mother, &format!("/api/v1/families/{}/contacts", f.family.0)).await;
    assert_eq!(shown(&v), "お留守でした。またお電話します");
    let memo = json!({"outcome": "not_reached", "note": "パートナーの在宅時は避ける"});
    assert_eq!(app.post(&f.nurse, &format!("/api/v1/contacts/{contact}/outcome"), &memo).await.0, 200);
    let (_, v) = app.get(&f.mother, &format!("/api/v1/families/{}/contacts", f.family.0)).await;
    assert_eq!(shown(&v), "", "one office line keeps the whole note in the office");
    let (_, v) = app.get(&f.nurse, &format!("/api/v1/families/{}/contacts", f.family.0)).await;
    assert!(shown(&v).as_str().unwrap().contains("パートナーの在宅時は避ける"));
}

async fn story_the_partner_sees_what_the_mother_shares_until_a_nurse_turns_it_off(backend: Backend) {
    let app = TestApp::start(backend).await;
    let f = family_with_a_stay(&app).await;
    let path = format!("/api/v1/postpartum/applications/{}", f.application);
    // Nothing of the mother's health is the partner's by default: not the
    // stay, not the list, not cancelling it, not her questionnaires.
    assert_eq!(app.get(&f.partner, "/api/v1/me/family").await.0, 200);
    let (s, v) = app.get(&f.partner, &path).await;
    assert_eq!((s, v["error"]["code"].as_str()), (403, Some("forbidden")));
    assert_eq!(app.get(&f.partner, "/api/v1/postpartum/applications").await.0, 403);
    assert_eq!(app.post(&f.partner, &format!("{path}/cancel"), &json!({})).await.0, 403);
    assert_eq!(app.get(&f.partner, "/api/v1/me/screenings").await.0, 403);
    assert_eq!(app.get(&f.mother, "/api/v1/me/screenings").await.0, 200);

    // The mother shares her health items, on her page (the partner may not).
    let mut partner = Visitor::new(&app);
    partner.sign_in("partner", None).await;
    let me = partner.get("/me").await;
    assert!(!me.body.contains("id=\"sharing\"") && !me.body.contains("id=\"my-screenings\""), "{}", me.body);
    let csrf = Visitor::csrf_in(&me.body);
    let refused = partner.post("/me/sharing", &[("_csrf", &csrf), ("partner_sees_health", "on")]).await;
    assert_eq!(refused.status, 200, "the partner is not told why");
    assert!(refused.body.contains("id=\"neutral\""));
    let stay = partner.get(&format!("/postpartum/applications/{}", f.application)).await;
    assert!(
        stay.body.contains("id=\"neutral\"") && !stay.body.contains("2026-11-22") && !stay.body.contains("11月22日"),
        "{}",
        stay.body
    );
    let mut mother = Visitor::new(&app);
    mother.sign_in("mother", None).await;
    let me = mother.get("/me").await;
    assert!(me.body.contains("id=\"sharing\"") && me.body.contains("id=\"my-screenings\""));
    let csrf = Visitor::csrf_in(&me.body);
    let saved = mother.post("/me/sharing", &[("_csrf", &csrf), ("partner_sees_health", "on")]).await;
    assert_eq!(saved.location.as_deref(), Some("/me?saved=sharing"));

    // Now the partner sees the stay, but still no office note, and never the EPDS.
    let (s, v) = app.get(&f.partner, &path).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["application"]["review_note"], Value::Null);
    assert_eq!(notes_of(&v), ["授乳良好"]);
    assert_eq!(app.get(&f.partner, "/api/v1/me/screenings").await.0, 403);
    let stay = partner.get(&format!("/postpartum/applications/{}", f.application)).await;
    assert!(stay.body.contains("授乳良好") && !stay.body.contains("電話で本人確認済み"), "{}", stay.body);

    // A nurse turns the partner's view off: the partner gets a neutral page
    // everywhere, the mother nothing changed; the nurse sees the switch.
    let mut nurse = Visitor::new(&app);
    nurse.sign_in("nurse", Some(app.next_totp())).await;
    let record = nurse.get(&format!("/families/{}", f.family.0)).await;
    assert!(record.body.contains("id=\"partner-view-off\""), "{}", record.body);
    let csrf = Visitor::csrf_in(&record.body);
    let done = nurse
        .post(&format!("/families/{}/partner-view", f.family.0), &[("_csrf", &csrf), ("partner_view", "off")])
        .await;
    assert_eq!(done.location.as_deref(), Some(&*format!("/families/{}?saved=partner_view", f.family.0)));
    let me = partner.get("/me").await;
    assert_eq!(me.status, 200);
    assert!(me.body.contains("id=\"neutral\""), "{}", me.body);
    assert!(!me.body.contains("山田") && !me.body.contains("ふたご"), "no name, no record: {}", me.body);
    let (s, v) = app.get(&f.partner, "/api/v1/me/family").await;
    assert_eq!((s, v["error"]["code"].as_str()), (403, Some("forbidden")));
    assert_eq!(app.get(&f.partner, &path).await.0, 403);
    assert_eq!(app.get(&f.mother, &path).await.0, 200);
    assert!(mother.get("/me").await.body.contains("id=\"sharing\""));
    let lines = app.store.audit_lines(app.fx.setagaya.id, 0, 10_000).await.unwrap();
    let sharing: Vec<_> =
        lines.iter().filter(|l| l.action == "family.sharing").map(|l| (l.role.as_str(), l.detail.as_str())).collect();
    assert_eq!(sharing, [("family_member", "partner_health=shared"), ("nurse", "partner_view=off")]);
}

async fn story_a_family_opening_a_staff_page_gets_its_own_view_or_a_refusal(backend: Backend) {
    let app = TestApp::start(backend).await;
    let f = family_with_a_stay(&app).await;
    let mut mother = Visitor::new(&app);
    mother.sign_in("mother", None).await;
    let page = mother.get(&format!("/families/{}", f.family.0)).await;
    assert_eq!((page.status, page.location.as_deref()), (303, Some("/me")), "{}", page.body);
    let (_, v) = app.get(&f.nurse, &format!("/api/v1/families/{}/contacts", f.family.0)).await;
    let contact = v["contacts"][0]["id"].as_i64().unwrap();
    let page = mother.get(&format!("/contacts/{contact}")).await;
    assert_eq!(page.status, 403);
    assert!(!page.body.contains("outcome-form"));
    for path in ["/worklist", "/families", &format!("/families/{}/screenings", f.family.0), "/referrals"] {
        let page = mother.get(path).await;
        assert_eq!(page.status, 403, "{path}");
        assert!(!page.body.contains("<form method=\"post\" action=\"/referrals\""), "{path}");
    }
    // The staff's view still has its buttons.
    let mut nurse = Visitor::new(&app);
    nurse.sign_in("nurse", Some(app.next_totp())).await;
    let page = nurse.get(&format!("/families/{}", f.family.0)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("raise-concern") && page.body.contains("partner-view"));
}

on_both!(
    office_notes_stay_in_the_office => story_office_notes_stay_in_the_office,
    the_partner_sees_what_the_mother_shares_until_a_nurse_turns_it_off =>
        story_the_partner_sees_what_the_mother_shares_until_a_nurse_turns_it_off,
    a_family_opening_a_staff_page_gets_its_own_view_or_a_refusal =>
        story_a_family_opening_a_staff_page_gets_its_own_view_or_a_refusal,
);
