//! Screening questionnaires end to end on both back ends: scoring as the
//! definitions say, the referral a positive or urgent result raises, bad
//! answers that store nothing, who may file and who may see, the audit
//! lines, the FHIR R4 export, and the pages of a family and a nurse.

use crate::pages::Visitor;
use crate::support::*;
use serde_json::{json, Value};
use tsunagu_domain::roles::Role;
use tsunagu_domain::FamilyId;

/// EPDS answers (item → code) where item n scores `scores[n - 1]`: items 1,
/// 2 and 4 score 0–3 in printed order (a–d), the others 3–0.
pub fn epds(scores: [u8; 10]) -> Value {
    let mut answers = serde_json::Map::new();
    for (i, s) in scores.iter().enumerate() {
        let n = i + 1;
        let position = if matches!(n, 1 | 2 | 4) { *s } else { 3 - *s };
        answers.insert(n.to_string(), json!(char::from(b'a' + position).to_string()));
    }
    Value::Object(answers)
}

/// Total 8: negative.
const NEGATIVE: [u8; 10] = [1, 1, 1, 1, 1, 1, 1, 1, 0, 0];
/// Total 9, nothing on item 10: positive, not urgent.
const POSITIVE: [u8; 10] = [2, 2, 2, 2, 1, 0, 0, 0, 0, 0];
/// Total 2 with 1 on item 10 (thoughts of self-harm): urgent, not positive.
const URGENT: [u8; 10] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1];

struct Setting {
    nurse: String,
    /// A family whose baby was born on 2026-11-15, and its mother's token.
    family: FamilyId,
    mother: String,
    /// A family still expecting, and its mother's token.
    expecting: FamilyId,
    expecting_mother: String,
}

async fn setting(app: &TestApp) -> Setting {
    let fx = &app.fx;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let mut body = notification(fx.setagaya_area.id, "すくりーん", "はな", "2026-11-20");
    body["notified_on"] = json!("2026-05-01");
    let family = app.register(&nurse, &body).await;
    let (_, rec) = app.get(&nurse, &format!("/api/v1/families/{}", family.0)).await;
    let p = rec["pregnancies"][0]["id"].as_i64().unwrap();
    let baby = json!({"birth_date": "2026-11-15", "sex": "female", "gestational_weeks": 39});
    let (s, v) = app
        .post(&nurse, &format!("/api/v1/families/{}/pregnancies/{p}/births", family.0), &json!({"babies": [baby]}))
        .await;
    assert_eq!(s, 201, "{v}");
    let expecting = app.register(&nurse, &notification(fx.setagaya_area.id, "まちます", "ゆき", "2027-05-20")).await;
    app.account(&fx.setagaya, "mother", Role::FamilyMember, Scope::Family(family)).await;
    app.account(&fx.setagaya, "expecting", Role::FamilyMember, Scope::Family(expecting)).await;
    let mother = app.token(&fx.setagaya, "mother").await;
    let expecting_mother = app.token(&fx.setagaya, "expecting").await;
    Setting { nurse, family, mother, expecting, expecting_mother }
}

fn screenings_of(family: FamilyId) -> String {
    format!("/api/v1/families/{}/screenings", family.0)
}

/// Audit lines with this action about this family.
async fn audit_count(app: &TestApp, action: &str, family: FamilyId) -> usize {
    let lines = app.store.audit_lines(app.fx.setagaya.id, 0, 10_000).await.unwrap();
    lines.iter().filter(|l| l.action == action && l.family_id == Some(family)).count()
}

async fn story_positive_and_urgent_screens_become_referrals(backend: Backend) {
    let app = TestApp::start(backend).await;
    let st = setting(&app).await;
    let path = screenings_of(st.family);

    // A nurse enters three paper forms: negative, positive, and a mother's own urgent one.
    let (s, neg) = app.post(&st.nurse, &path, &json!({"questionnaire": "epds", "answers": epds(NEGATIVE)})).await;
    assert_eq!(s, 201, "{neg}");
    assert_eq!(
        (neg["total"].as_u64(), neg["positive"].as_bool(), neg["urgent"].as_bool()),
        (Some(8), Some(false), Some(false))
    );
    assert_eq!(neg["referral_id"], Value::Null);

    let (s, pos) = app.post(&st.nurse, &path, &json!({"questionnaire": "epds", "answers": epds(POSITIVE)})).await;
    assert_eq!(s, 201, "{pos}");
    assert_eq!(
        (pos["total"].as_u64(), pos["positive"].as_bool(), pos["urgent"].as_bool()),
        (Some(9), Some(true), Some(false))
    );
    assert_eq!(pos["reasons"], json!([{"code": "epds_total_9_or_more", "effect": "positive"}]));
    let positive_referral = pos["referral_id"].as_i64().expect("a positive screen raises a referral");
    let (_, r) = app.get(&st.nurse, &format!("/api/v1/referrals/{positive_referral}")).await;
    assert_eq!(r["referral"]["source"], "screening");
    assert_eq!(r["referral"]["urgent"], false);
    assert_eq!(r["referral"]["status"], "raised");
    assert_eq!(r["referral"]["family_id"], st.family.0);
    assert_eq!(r["referral"]["note"], "epds: epds_total_9_or_more");

    // The mother, on her phone: urgent. She learns where to get help, never her score.
    let (s, mine) =
        app.post(&st.mother, "/api/v1/me/screenings", &json!({"questionnaire": "epds", "answers": epds(URGENT)})).await;
    assert_eq!(s, 201, "{mine}");
    assert_eq!(mine.as_object().unwrap().keys().collect::<Vec<_>>(), ["id", "show_help_now"]);
    assert_eq!(mine["show_help_now"], true);
    let (_, v) = app.get(&st.nurse, "/api/v1/referrals?open=true").await;
    let first = &v["referrals"][0];
    assert_eq!((first["urgent"].as_bool(), first["source"].as_str()), (Some(true), Some("screening")), "{v}");
    assert_eq!(first["raised_by_role"], "family_member");
    assert_eq!(first["note"], "epds: epds_item_10_self_harm");
    let (_, v) = app.get(&st.nurse, &format!("/api/v1/referrals?family={}", st.family.0)).await;
    assert_eq!(v["referrals"].as_array().unwrap().len(), 2, "two referrals, none for the negative screen: {v}");

    // The nurse reads them back: newest first, answers as given.
    let (s, list) = app.get(&st.nurse, &path).await;
    assert_eq!(s, 200, "{list}");
    let list = list["screenings"].as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[0]["id"], mine["id"]);
    assert_eq!((list[0]["urgent"].as_bool(), list[0]["positive"].as_bool()), (Some(true), Some(false)));
    assert_eq!(list[0]["entered_by_role"], "family_member");
    assert_eq!(list[2]["id"], neg["id"]);
    let (s, one) = app.get(&st.nurse, &format!("/api/v1/screenings/{}", pos["id"])).await;
    assert_eq!(s, 200, "{one}");
    assert_eq!(one["answers"], epds(POSITIVE));
    assert_eq!((one["questionnaire"].as_str(), one["version"].as_str()), (Some("epds"), Some("1")));
    assert_eq!((one["total"].as_u64(), one["max_total"].as_u64()), (Some(9), Some(30)));
    assert_eq!(one["referral_id"], positive_referral);
    assert_eq!(one["entered_by_role"], "nurse");

    // Every read and change of the family is on the audit log.
    assert_eq!(audit_count(&app, "screening.record", st.family).await, 3);
    assert_eq!(audit_count(&app, "referral.raise", st.family).await, 2);
    assert_eq!(audit_count(&app, "screening.list", st.family).await, 1);
    assert_eq!(audit_count(&app, "screening.view", st.family).await, 1);
    let lines = app.store.audit_lines(app.fx.setagaya.id, 0, 10_000).await.unwrap();
    let by_mother = lines.iter().filter(|l| l.action == "screening.record" && l.role == "family_member").count();
    assert_eq!(by_mother, 1);
}

async fn story_bad_answers_store_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let st = setting(&app).await;
    let path = screenings_of(st.family);
    let mut answers = epds(POSITIVE);
    answers.as_object_mut().unwrap().remove("5");
    answers["3"] = json!("z");
    answers["11"] = json!("a");
    let (s, v) = app.post(&st.nurse, &path, &json!({"questionnaire": "epds", "answers": answers})).await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(v["error"]["code"], "invalid_input");
    let fields: Vec<(String, String)> = v["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["field"].as_str().unwrap().to_owned(), f["code"].as_str().unwrap().to_owned()))
        .collect();
    for want in [("answers.3", "invalid_choice"), ("answers.5", "required"), ("answers.11", "unknown_item")] {
        assert!(fields.contains(&(want.0.to_owned(), want.1.to_owned())), "{want:?} in {fields:?}");
    }
    // Unknown questionnaire or version, unknown body fields: refused as well.
    let (s, v) = app.post(&st.nurse, &path, &json!({"questionnaire": "phq9", "answers": epds(POSITIVE)})).await;
    assert_eq!((s, v["error"]["fields"][0]["field"].as_str()), (422, Some("questionnaire")));
    let (s, v) =
        app.post(&st.nurse, &path, &json!({"questionnaire": "epds", "version": "2", "answers": epds(POSITIVE)})).await;
    assert_eq!((s, v["error"]["fields"][0]["field"].as_str()), (422, Some("version")));
    let (s, _) =
        app.post(&st.nurse, &path, &json!({"questionnaire": "epds", "answers": epds(POSITIVE), "score": 0})).await;
    assert_eq!(s, 400);
    let (s, v) =
        app.post(&st.mother, "/api/v1/me/screenings", &json!({"questionnaire": "epds", "answers": {"1": "a"}})).await;
    assert_eq!(s, 422, "{v}");

    // Nothing was stored: no response, no referral, no record line.
    let (_, list) = app.get(&st.nurse, &path).await;
    assert_eq!(list["screenings"], json!([]));
    let (_, v) = app.get(&st.nurse, "/api/v1/referrals").await;
    assert_eq!(v["referrals"], json!([]));
    assert_eq!(audit_count(&app, "screening.record", st.family).await, 0);
    assert_eq!(audit_count(&app, "referral.raise", st.family).await, 0);
}

async fn story_who_may_file_and_who_may_see(backend: Backend) {
    let app = TestApp::start(backend).await;
    let st = setting(&app).await;
    let fx = &app.fx;
    let body = json!({"questionnaire": "epds", "answers": epds(POSITIVE)});

    // A family files for itself only, and never reads results.
    assert_eq!(app.post(&st.mother, &screenings_of(st.expecting), &body).await.0, 403);
    assert_eq!(app.post(&st.expecting_mother, &screenings_of(st.family), &body).await.0, 403);
    let (s, own) = app.post(&st.mother, &screenings_of(st.family), &body).await;
    assert_eq!(s, 201, "{own}");
    assert_eq!(own.as_object().unwrap().keys().collect::<Vec<_>>(), ["id", "show_help_now"], "no result for a family");
    assert_eq!(app.get(&st.mother, &screenings_of(st.family)).await.0, 403);
    assert_eq!(app.get(&st.mother, &format!("/api/v1/screenings/{}", own["id"])).await.0, 403);
    assert_eq!(app.get(&st.mother, &format!("/api/v1/screenings/{}/fhir", own["id"])).await.0, 403);

    // What is addressed to a family depends on where it is: after the birth
    // the mother's questionnaires, while expecting the notification's.
    let (_, v) = app.get(&st.mother, "/api/v1/me/screenings").await;
    let ids: Vec<&str> = v["questionnaires"].as_array().unwrap().iter().map(|q| q["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["epds", "bonding", "support_checklist"]);
    let (_, v) = app.get(&st.expecting_mother, "/api/v1/me/screenings").await;
    assert_eq!(v["questionnaires"][0]["id"], "notification");
    assert_eq!(v["questionnaires"].as_array().unwrap().len(), 1);
    let (s, v) = app.post(&st.expecting_mother, "/api/v1/me/screenings", &body).await;
    assert_eq!((s, v["error"]["code"].as_str()), (409, Some("questionnaire_not_offered")));
    let calm: serde_json::Map<String, Value> = tsunagu_domain::screening::defs::notification()
        .items
        .iter()
        .map(|i| {
            (i.id.clone(), json!(if i.id == "age_band" { "20_34" } else { i.options.last().unwrap().code.as_str() }))
        })
        .collect();
    let mut calm = Value::Object(calm);
    calm["support_available"] = json!("yes");
    calm["first_pregnancy"] = json!("yes");
    calm["feelings"] = json!("happy");
    calm["financial_worries"] = json!("none");
    calm["smoking"] = json!("never");
    let (s, v) = app
        .post(&st.expecting_mother, "/api/v1/me/screenings", &json!({"questionnaire": "notification", "answers": calm}))
        .await;
    assert_eq!((s, v["show_help_now"].as_bool()), (201, Some(false)), "{v}");

    // Staff: the policy decides on the family, the definition on the role.
    app.account(&fx.setagaya, "analyst", Role::Analyst, Scope::None).await;
    app.account(&fx.setagaya, "facility", Role::FacilityStaff, Scope::Venues(vec![fx.facility.id])).await;
    app.account(&fx.setagaya, "caseworker", Role::Caseworker, Scope::None).await;
    app.account(&fx.other, "elsewhere", Role::Nurse, Scope::None).await;
    let analyst = app.token(&fx.setagaya, "analyst").await;
    let facility = app.token(&fx.setagaya, "facility").await;
    let caseworker = app.token(&fx.setagaya, "caseworker").await;
    let elsewhere = app.token(&fx.other, "elsewhere").await;
    assert_eq!(app.post(&analyst, &screenings_of(st.family), &body).await.0, 403);
    assert_eq!(app.get(&analyst, &screenings_of(st.family)).await.0, 403);
    // The facility has no stay of this family; the caseworker no escalated case.
    assert_eq!(app.post(&facility, &screenings_of(st.family), &body).await.0, 403);
    assert_eq!(app.get(&caseworker, &screenings_of(st.family)).await.0, 403);
    assert_eq!(app.get(&caseworker, &format!("/api/v1/screenings/{}", own["id"])).await.0, 403);
    // Another municipality does not even learn that the family exists.
    assert_eq!(app.post(&elsewhere, &screenings_of(st.family), &body).await.0, 404);
    assert_eq!(app.get(&elsewhere, &screenings_of(st.family)).await.0, 404);
    assert_eq!(app.get(&elsewhere, &format!("/api/v1/screenings/{}", own["id"])).await.0, 404);
    // A refused caller read nothing: the only reads of the family's results are the nurse's (none yet).
    assert_eq!(audit_count(&app, "screening.view", st.family).await, 0);
    assert_eq!(audit_count(&app, "screening.list", st.family).await, 0);
    let (_, list) = app.get(&st.nurse, &screenings_of(st.family)).await;
    assert_eq!(list["screenings"].as_array().unwrap().len(), 1);
}

async fn story_fhir_export(backend: Backend) {
    let app = TestApp::start(backend).await;
    let st = setting(&app).await;
    let (s, v) = app
        .post(&st.nurse, &screenings_of(st.family), &json!({"questionnaire": "epds", "answers": epds(POSITIVE)}))
        .await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_i64().unwrap();
    let resp =
        app.http.get(app.url(&format!("/api/v1/screenings/{id}/fhir"))).bearer_auth(&st.nurse).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("application/fhir+json"), "{ct}");
    let bundle: Value = resp.json().await.unwrap();
    assert_eq!((bundle["resourceType"].as_str(), bundle["type"].as_str()), (Some("Bundle"), Some("collection")));
    let entries = bundle["entry"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    let q = &entries[0]["resource"];
    assert_eq!(
        (q["resourceType"].as_str(), q["url"].as_str()),
        (Some("Questionnaire"), Some("urn:tsunagu:questionnaire:epds"))
    );
    assert_eq!(q["item"].as_array().unwrap().len(), 10);
    let r = &entries[1]["resource"];
    assert_eq!(r["resourceType"], "QuestionnaireResponse");
    assert_eq!(r["questionnaire"], "urn:tsunagu:questionnaire:epds|1");
    assert_eq!(r["status"], "completed");
    let (_, rec) = app.get(&st.nurse, &format!("/api/v1/families/{}", st.family.0)).await;
    let mother = rec["people"].as_array().unwrap().iter().find(|p| p["relation"] == "mother").unwrap()["id"].clone();
    assert_eq!(r["subject"]["reference"], format!("Patient/{mother}"));
    // Every answer as given, item by item.
    let given = epds(POSITIVE);
    let items = r["item"].as_array().unwrap();
    assert_eq!(items.len(), 10);
    for item in items {
        let link = item["linkId"].as_str().unwrap();
        assert_eq!(item["answer"][0]["valueCoding"]["code"], given[link], "item {link}");
    }
    assert_eq!(audit_count(&app, "screening.view", st.family).await, 1);

    // The definitions alone, for any signed-in caller; no such questionnaire is 404.
    let resp =
        app.http.get(app.url("/api/v1/questionnaires/bonding/fhir")).bearer_auth(&st.mother).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("application/fhir+json"));
    let q: Value = resp.json().await.unwrap();
    assert_eq!((q["resourceType"].as_str(), q["item"].as_array().map(Vec::len)), (Some("Questionnaire"), Some(10)));
    assert_eq!(app.get(&st.mother, "/api/v1/questionnaires/nope/fhir").await.0, 404);
    assert_eq!(app.http.get(app.url("/api/v1/questionnaires/epds/fhir")).send().await.unwrap().status(), 401);
}

fn refs(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// The pages over plain HTTP: the nurse's paper form with errors in
/// English next to the items (nothing stored), then a positive one; the
/// family's form and its calm confirmation.
async fn story_pages(backend: Backend) {
    let app = TestApp::start(backend).await;
    let st = setting(&app).await;
    let family = st.family.0;

    let mut nurse = Visitor::new(&app);
    nurse.sign_in("nurse", Some(app.next_totp())).await;
    let record = nurse.get(&format!("/families/{family}")).await;
    assert!(record.body.contains(&format!("href=\"/families/{family}/screenings\"")), "link from the record");
    let list = nurse.get(&format!("/families/{family}/screenings")).await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("id=\"no-responses\""));
    nurse.get("/lang/en?next=/").await;
    let form = nurse.get(&format!("/families/{family}/screenings/new/epds")).await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("Question 10") && form.body.contains("licensed wording"), "{}", form.body);
    let csrf = Visitor::csrf_in(&form.body);
    let answers = epds(POSITIVE);
    let mut fields: Vec<(String, String)> = vec![("_csrf".into(), csrf.clone())];
    for n in 1..=10 {
        if n != 7 {
            fields.push((format!("answers.{n}"), answers[n.to_string()].as_str().unwrap().to_owned()));
        }
    }
    let page = nurse.post(&format!("/families/{family}/screenings/new/epds"), &refs(&fields)).await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("id=\"err-7\"") && page.body.contains("Please answer this question"), "{}", page.body);
    assert!(!page.body.contains("id=\"err-6\""));
    assert!(page.body.contains("id=\"answer-6-d\" checked"), "answers given are kept");
    assert_eq!(audit_count(&app, "screening.record", st.family).await, 0);
    fields.push(("answers.7".into(), answers["7"].as_str().unwrap().to_owned()));
    let page = nurse.post(&format!("/families/{family}/screenings/new/epds"), &refs(&fields)).await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.location.as_deref(), Some(format!("/families/{family}/screenings?done=referral").as_str()));
    let list = nurse.get(&format!("/families/{family}/screenings?done=referral")).await;
    assert!(list.body.contains("9 / 30") && list.body.contains("Positive: follow up"), "{}", list.body);
    assert!(list.body.contains("EPDS total of 9 or more"));
    let referrals = nurse.get("/referrals").await;
    assert!(referrals.body.contains("source-screening"), "{}", referrals.body);

    // The mother: her list, her form, a calm confirmation with help for an urgent result.
    let mut mother = Visitor::new(&app);
    mother.sign_in("mother", None).await;
    let mine = mother.get("/me/screenings").await;
    assert!(mine.body.contains("href=\"/me/screenings/epds\""), "{}", mine.body);
    let form = mother.get("/me/screenings/epds").await;
    assert!(form.body.contains("質問 1") && form.body.contains("a. 回答 a"));
    let csrf = Visitor::csrf_in(&form.body);
    // Whatever the answers, where to get help now: the municipality's own line first (#10).
    let own = tsunagu_domain::chat::helplines::HelpLine {
        name_ja: "区の子ども家庭支援センター".into(),
        name_en: "Ward family support centre".into(),
        number: "03-0000-0000".into(),
        hours_ja: "平日 8:30〜17:15".into(),
        source: "https://example.city.lg.jp/".into(),
    };
    let operator = crate::store_support::requester(app.fx.setagaya.id, tsunagu_domain::roles::Role::Admin);
    app.store.set_help_lines(&operator.without_a_policy_decision(), std::slice::from_ref(&own)).await.unwrap();
    let negative = epds(NEGATIVE);
    let mut calm: Vec<(String, String)> = vec![("_csrf".into(), csrf.clone())];
    for n in 1..=10 {
        calm.push((format!("answers.{n}"), negative[n.to_string()].as_str().unwrap().to_owned()));
    }
    let page = mother.post("/me/screenings/epds", &refs(&calm)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"help-lines\"") && !page.body.contains("id=\"help-now\""), "{}", page.body);
    let first = page.body.find("区の子ども家庭支援センター").unwrap();
    assert!(first < page.body.find("よりそいホットライン").unwrap(), "the municipality's line comes first");
    assert!(page.body.contains("href=\"tel:0300000000\""));
    let urgent = epds(URGENT);
    let mut fields: Vec<(String, String)> = vec![("_csrf".into(), csrf)];
    for n in 1..=10 {
        fields.push((format!("answers.{n}"), urgent[n.to_string()].as_str().unwrap().to_owned()));
    }
    let page = mother.post("/me/screenings/epds", &refs(&fields)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"screening-thanks\"") && page.body.contains("id=\"help-now\""));
    assert!(page.body.contains("id=\"help-lines\"") && page.body.contains("よりそいホットライン"));
    for never in ["要フォロー", "至急", "合計", "点"] {
        assert!(!page.body.contains(never), "the family is shown {never}");
    }
    assert_eq!(audit_count(&app, "screening.record", st.family).await, 3);
    // A family never sees the staff's list.
    assert_eq!(mother.get(&format!("/families/{family}/screenings")).await.status, 403);
}

on_both!(
    positive_and_urgent_screens_become_referrals => story_positive_and_urgent_screens_become_referrals,
    bad_answers_store_nothing => story_bad_answers_store_nothing,
    who_may_file_and_who_may_see => story_who_may_file_and_who_may_see,
    fhir_export => story_fhir_export,
    screening_pages => story_pages,
);
