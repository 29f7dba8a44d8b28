//! One user action, one audit line (#9): every route of the API and the
//! pages that reads or changes a person, performed once through the real
//! router on both databases, writes exactly one line, and the line names
//! what was done. Reads a decision needs (who owns an application, which
//! facility) are facts, not person data, and write none; what a change reads
//! of the person is read inside the change's own transaction.

use crate::pages::Visitor;
use crate::postpartum::application;
use crate::privacy::family_with_a_stay;
use crate::screening::epds;
use crate::support::*;
use serde_json::{json, Value};

/// Who performs a step.
#[derive(Clone, Copy)]
enum Who {
    Nurse,
    Facility,
    Mother,
}

/// What a step sends: an API call with the actor's bearer token, or a page
/// request with the actor's signed-in browser (a form carries its CSRF token).
enum Req {
    Get(String),
    Post(String, Value),
    PageGet(String),
    PagePost(String, Vec<(&'static str, String)>),
}

/// One row of the table: what is done, by whom, the status it answers,
/// and the one audit line it must write.
struct Step {
    label: &'static str,
    who: Who,
    req: Req,
    status: u16,
    line: &'static str,
    /// Where a second line is a second action, every line it writes in
    /// order: a positive questionnaire raises the nurse's referral in the
    /// same transaction (`referral.raise`, as `CareStore::raise_referral`
    /// would write it; `screening::positive_and_urgent_screens_become_referrals`
    /// counts those lines). No other action writes more than its own line.
    also: Option<&'static [&'static str]>,
}

fn step(label: &'static str, who: Who, req: Req, status: u16, line: &'static str) -> Step {
    Step { label, who, req, status, line, also: None }
}

impl Step {
    /// Writes these lines, its own and a second action's (see `also`).
    fn with_second_action(self, all: &'static [&'static str]) -> Step {
        assert!(all.contains(&self.line), "{}: its own line is among what it writes", self.label);
        Step { also: Some(all), ..self }
    }
}

fn get(path: impl Into<String>) -> Req {
    Req::Get(path.into())
}

fn post(path: impl Into<String>, body: Value) -> Req {
    Req::Post(path.into(), body)
}

fn page(path: impl Into<String>) -> Req {
    Req::PageGet(path.into())
}

fn form(path: impl Into<String>, fields: &[(&'static str, &str)]) -> Req {
    Req::PagePost(path.into(), fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect())
}

async fn lines(app: &TestApp) -> Vec<tsunagu_domain::audit::AuditLine> {
    app.store.audit_lines(app.fx.setagaya.id, 0, 100_000).await.unwrap()
}

/// A newly registered family of its own, expecting (not yet born).
async fn expecting_family(app: &TestApp, nurse: &str, kana: &str, edd: &str) -> (i64, i64) {
    let mut body = notification(app.fx.setagaya_area.id, kana, "はな", edd);
    if edd < "2027" {
        body["notified_on"] = json!("2026-05-01");
    }
    let family = app.register(nurse, &body).await;
    let (_, rec) = app.get(nurse, &format!("/api/v1/families/{}", family.0)).await;
    (family.0, rec["pregnancies"][0]["id"].as_i64().unwrap())
}

async fn story_one_action_writes_one_line(backend: Backend) {
    // Web push offered (#10): a browser's subscription is one of the changes.
    let push_key = tsunagu_domain::push::VapidKey::from_seed(&[9; 32]).unwrap().public_b64();
    let config = tsunagu_web::WebConfig { push_public_key: Some(push_key), ..tsunagu_web::WebConfig::default() };
    let app = TestApp::start_with(backend, config).await;
    let f = family_with_a_stay(&app).await;
    let family = f.family.0;
    let stay = f.application;
    let centre = app.fx.facility.id;

    // What the table acts on, made before it (and not counted).
    let apply = |first: &str| application(None, centre, first, 2, 2);
    let mut applied = vec![];
    for first in ["2026-12-05", "2026-12-08", "2026-12-11", "2026-12-14", "2026-12-17", "2026-12-20"] {
        let (s, v) = app.post(&f.mother, "/api/v1/postpartum/applications", &apply(first)).await;
        assert_eq!(s, 201, "{v}");
        applied.push(v["id"].as_i64().unwrap());
    }
    let (to_approve, to_reject, to_cancel, page_approve, page_reject, page_cancel) =
        (applied[0], applied[1], applied[2], applied[3], applied[4], applied[5]);
    let (born_api, born_api_p) = expecting_family(&app, &f.nurse, "うまれ", "2026-11-20").await;
    let (born_page, born_page_p) = expecting_family(&app, &f.nurse, "うまれぺーじ", "2026-11-20").await;
    let (moving, moving_p) = expecting_family(&app, &f.nurse, "ひっこし", "2027-04-01").await;
    let (_, contacts) = app.get(&f.nurse, &format!("/api/v1/families/{family}/contacts")).await;
    let contact_of = |kind: &str| {
        contacts["contacts"].as_array().unwrap().iter().find(|c| c["kind"] == kind).unwrap()["id"].as_i64().unwrap()
    };
    let (visit, check) = (contact_of("newborn_visit"), contact_of("newborn_visit"));
    let concern = json!({"family_id": family, "note": "授乳がつらそう"});
    let (s, v) = app.post(&f.facility, "/api/v1/referrals", &concern).await;
    assert_eq!(s, 201, "{v}");
    let referral = v["id"].as_i64().unwrap();
    let (s, v) = app
        .post(
            &f.nurse,
            &format!("/api/v1/families/{family}/screenings"),
            &json!({"questionnaire": "epds", "answers": epds([0; 10])}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let screening = v["id"].as_i64().unwrap();
    let (_, v) =
        app.get(&f.nurse, &format!("/api/v1/postpartum/followups/slots?family={family}&venue={}", centre.0)).await;
    let slots: Vec<String> =
        v["slots"].as_array().unwrap().iter().map(|s| s["start"].as_str().unwrap().to_owned()).collect();
    let (s, v) = app
        .post(
            &f.nurse,
            "/api/v1/postpartum/followups",
            &json!({"family_id": family, "venue_id": centre.0, "start": slots[0]}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let followup = v["id"].as_i64().unwrap();

    // Classes (#12): an open programme at a hall, a session of one place
    // (taken) and one of five; a booking to cancel and one to mark.
    let classes_hall = app
        .store
        .create_venue(&tsunagu_store::NewVenue {
            municipality_id: app.fx.setagaya.id,
            area_id: Some(app.fx.setagaya_area.id),
            kind: tsunagu_domain::places::VenueKind::ChildrensHall,
            name_ja: "北沢児童館".into(),
            name_en: "Kitazawa hall".into(),
        })
        .await
        .unwrap()
        .id;
    let mut open_class =
        tsunagu_domain::classes::ProgrammeConfig::seed_default(tsunagu_domain::classes::ProgrammeKind::MaternityClass);
    open_class.rules = tsunagu_domain::classes::ProgrammeRules::open();
    let programme = app.store.create_programme(app.fx.setagaya.id, &open_class).await.unwrap();
    let class_on = |d: i8, capacity: u32| tsunagu_store::NewSession {
        venue_id: classes_hall,
        day: jiff::civil::date(2026, 12, d),
        starts: jiff::civil::Time::constant(10, 0, 0, 0),
        minutes: 120,
        capacity,
    };
    let class_sessions =
        app.store.create_class_sessions(app.fx.setagaya.id, programme.id, &[class_on(20, 1), class_on(21, 5)]).await;
    let (one_place, five_places) = match class_sessions.as_deref() {
        Ok([a, b]) => (a.0, b.0),
        other => panic!("{other:?}"),
    };
    let (c1, _) = expecting_family(&app, &f.nurse, "くらすいち", "2027-04-01").await;
    let (c2, _) = expecting_family(&app, &f.nurse, "くらすに", "2027-04-01").await;
    let (c3, _) = expecting_family(&app, &f.nurse, "くらすさん", "2027-04-01").await;
    let class_booking = |session: i64, family: Option<i64>, key: &str| {
        let mut b = json!({"session_id": session, "idempotency_key": key});
        if let Some(f) = family {
            b["family_id"] = json!(f);
        }
        b
    };
    let (s, v) = app.post(&f.nurse, "/api/v1/classes/bookings", &class_booking(one_place, Some(c1), "a1")).await;
    assert_eq!(s, 201, "{v}");
    let to_cancel_class = v["booking"]["id"].as_i64().unwrap();
    let (s, v) = app.post(&f.nurse, "/api/v1/classes/bookings", &class_booking(five_places, Some(c3), "b3")).await;
    assert_eq!(s, 201, "{v}");
    let to_mark = v["booking"]["id"].as_i64().unwrap();

    // A calm EPDS (nothing to follow up: no referral is raised with it).
    let calm: Vec<String> = (1..=10).map(|i| epds([0; 10])[i.to_string()].as_str().unwrap().to_owned()).collect();
    use Who::*;
    let baby = json!({"birth_date": "2026-11-12", "sex": "female", "gestational_weeks": 38, "birth_weight_g": 2600});
    let table = vec![
        // Classes (#12): each booking action one line, its reads inside its transaction.
        step(
            "book a class for a family",
            Nurse,
            post("/api/v1/classes/bookings", class_booking(five_places, Some(c1), "t1")),
            201,
            "class.book",
        ),
        step(
            "book a full class: a place on the waiting list",
            Nurse,
            post("/api/v1/classes/bookings", class_booking(one_place, Some(c2), "t2")),
            201,
            "class.book",
        ),
        step(
            "the family books a class",
            Mother,
            post("/api/v1/classes/bookings", class_booking(five_places, None, "t3")),
            201,
            "class.book",
        ),
        step(
            "cancel a class, promoting the waiting family",
            Nurse,
            post(format!("/api/v1/classes/bookings/{to_cancel_class}/cancel"), json!({})),
            200,
            "class.cancel",
        ),
        // A family's offers: its record and bookings read together, one line (#12 stage 3).
        step("a family's class offers", Mother, get("/api/v1/classes/offers"), 200, "class.list"),
        step("the offers page", Mother, page("/classes"), 200, "class.list"),
        step(
            "a year's sessions from a pattern",
            Nurse,
            post(
                format!("/api/v1/classes/programmes/{}/schedule", programme.id.0),
                json!({"fiscal_year": 2027, "venue_ids": [classes_hall.0], "pattern": "monthly", "weekday": "sunday",
                       "nth": 2, "starts": "10:00"}),
            ),
            201,
            "class.schedule",
        ),
        step(
            "record a class's attendance",
            Nurse,
            post(
                format!("/api/v1/classes/sessions/{five_places}/attendance"),
                json!({"marks": [{"booking_id": to_mark, "attended": true}]}),
            ),
            204,
            "class.attendance",
        ),
        // Records.
        step("open a record", Nurse, get(format!("/api/v1/families/{family}")), 200, "family.view"),
        step("the family's own record", Mother, get("/api/v1/me/family"), 200, "family.view"),
        step("search", Nurse, get("/api/v1/families?q=ふたご"), 200, "family.search"),
        step(
            "register a notification",
            Nurse,
            post("/api/v1/families", notification(app.fx.setagaya_area.id, "あたらしい", "はな", "2027-05-01")),
            201,
            "family.create",
        ),
        step(
            "record a birth",
            Nurse,
            post(format!("/api/v1/families/{born_api}/pregnancies/{born_api_p}/births"), json!({"babies": [baby]})),
            201,
            "family.birth",
        ),
        // Timeline.
        step("a family's contacts", Nurse, get(format!("/api/v1/families/{family}/contacts")), 200, "timeline.view"),
        step(
            "record a contact",
            Nurse,
            post(format!("/api/v1/contacts/{visit}/outcome"), json!({"outcome": "not_reached"})),
            200,
            "timeline.outcome",
        ),
        step("a work list", Nurse, get("/api/v1/worklist?list=overdue&whose=all"), 200, "timeline.worklist"),
        step("the urgent follow-ups", Nurse, get("/api/v1/worklist?list=urgent&whose=all"), 200, "timeline.worklist"),
        step(
            "a new EDD",
            Nurse,
            post(format!("/api/v1/families/{moving}/pregnancies/{moving_p}/edd"), json!({"edd": "2027-04-08"})),
            204,
            "family.pregnancy",
        ),
        step(
            "a move",
            Nurse,
            post(
                format!("/api/v1/families/{moving}/pregnancies/{moving_p}/end"),
                json!({"ending": "moved_out", "on": "2026-11-22"}),
            ),
            204,
            "family.pregnancy",
        ),
        // Postpartum care.
        step("apply", Mother, post("/api/v1/postpartum/applications", apply("2026-12-23")), 201, "postpartum.apply"),
        step("an application", Nurse, get(format!("/api/v1/postpartum/applications/{stay}")), 200, "postpartum.view"),
        step(
            "an application's review",
            Nurse,
            get(format!("/api/v1/postpartum/applications/{stay}/review")),
            200,
            "postpartum.view",
        ),
        step(
            "the family's application",
            Mother,
            get(format!("/api/v1/postpartum/applications/{stay}")),
            200,
            "postpartum.view",
        ),
        step("applications", Nurse, get("/api/v1/postpartum/applications"), 200, "postpartum.list"),
        step(
            "approve",
            Nurse,
            post(format!("/api/v1/postpartum/applications/{to_approve}/approve"), json!({})),
            204,
            "postpartum.approve",
        ),
        step(
            "reject",
            Nurse,
            post(format!("/api/v1/postpartum/applications/{to_reject}/reject"), json!({"note": "定員"})),
            204,
            "postpartum.reject",
        ),
        step(
            "cancel its own",
            Mother,
            post(format!("/api/v1/postpartum/applications/{to_cancel}/cancel"), json!({})),
            204,
            "postpartum.cancel",
        ),
        step(
            "a stay note",
            Facility,
            post(format!("/api/v1/postpartum/applications/{stay}/notes"), json!({"day": "2026-11-22", "note": "良好"})),
            204,
            "postpartum.note",
        ),
        step(
            "a used day",
            Facility,
            post(format!("/api/v1/postpartum/applications/{stay}/used"), json!({"day": "2026-11-22"})),
            204,
            "postpartum.note",
        ),
        // Care.
        step("raise a concern", Facility, post("/api/v1/referrals", concern.clone()), 201, "referral.raise"),
        step(
            "raise a concern about a stay",
            Facility,
            post("/api/v1/referrals", json!({"family_id": family, "note": "夜泣き", "application_id": stay})),
            201,
            "referral.raise",
        ),
        step("referrals", Nurse, get("/api/v1/referrals?open=true"), 200, "referral.list"),
        step("a referral", Nurse, get(format!("/api/v1/referrals/{referral}")), 200, "referral.list"),
        step(
            "a referral step",
            Nurse,
            post(format!("/api/v1/referrals/{referral}/receive"), json!({})),
            204,
            "referral.update",
        ),
        step(
            "follow-up slots",
            Nurse,
            get(format!("/api/v1/postpartum/followups/slots?family={family}&venue={}", centre.0)),
            200,
            "followup.list",
        ),
        step(
            "book a follow-up",
            Nurse,
            post("/api/v1/postpartum/followups", json!({"family_id": family, "venue_id": centre.0, "start": slots[1]})),
            201,
            "followup.book",
        ),
        step(
            "cancel a follow-up",
            Nurse,
            post(format!("/api/v1/postpartum/followups/{followup}/cancel"), json!({})),
            204,
            "followup.cancel",
        ),
        step(
            "follow-ups",
            Nurse,
            get(format!("/api/v1/postpartum/followups?venue={}", centre.0)),
            200,
            "followup.list",
        ),
        // Screening.
        step(
            "file a questionnaire",
            Nurse,
            post(
                format!("/api/v1/families/{family}/screenings"),
                json!({"questionnaire": "epds", "answers": epds([0; 10])}),
            ),
            201,
            "screening.record",
        ),
        step(
            "a positive questionnaire",
            Nurse,
            post(
                format!("/api/v1/families/{family}/screenings"),
                json!({"questionnaire": "epds", "answers": epds([2, 2, 2, 2, 1, 0, 0, 0, 0, 0])}),
            ),
            201,
            "screening.record",
        )
        .with_second_action(&["referral.raise", "screening.record"]),
        step(
            "the mother files her own",
            Mother,
            post("/api/v1/me/screenings", json!({"questionnaire": "epds", "answers": epds([0; 10])})),
            201,
            "screening.record",
        ),
        step(
            "a family's screenings",
            Nurse,
            get(format!("/api/v1/families/{family}/screenings")),
            200,
            "screening.list",
        ),
        step("a screening", Nurse, get(format!("/api/v1/screenings/{screening}")), 200, "screening.view"),
        step("a screening as FHIR", Nurse, get(format!("/api/v1/screenings/{screening}/fhir")), 200, "screening.view"),
        // The pages.
        step("open a record (page)", Nurse, page(format!("/families/{family}")), 200, "family.view"),
        step("the family's own record (page)", Mother, page("/me"), 200, "family.view"),
        step(
            "record a birth (page)",
            Nurse,
            form(
                format!("/families/{born_page}/pregnancies/{born_page_p}/birth"),
                &[
                    ("babies.0.birth_date", "2026-11-12"),
                    ("babies.0.sex", "male"),
                    ("babies.0.gestational_weeks", "39"),
                ],
            ),
            303,
            "family.birth",
        ),
        step("a contact (page)", Nurse, page(format!("/contacts/{check}")), 200, "timeline.view"),
        step(
            "record a contact (page)",
            Nurse,
            form(format!("/contacts/{check}"), &[("outcome", "not_reached")]),
            303,
            "timeline.outcome",
        ),
        step("an application (page)", Nurse, page(format!("/postpartum/applications/{stay}")), 200, "postpartum.view"),
        step(
            "approve (page)",
            Nurse,
            form(format!("/postpartum/applications/{page_approve}/approve"), &[("note", "")]),
            303,
            "postpartum.approve",
        ),
        step(
            "reject (page)",
            Nurse,
            form(format!("/postpartum/applications/{page_reject}/reject"), &[("note", "定員")]),
            303,
            "postpartum.reject",
        ),
        step(
            "cancel (page)",
            Mother,
            form(format!("/postpartum/applications/{page_cancel}/cancel"), &[("note", "")]),
            303,
            "postpartum.cancel",
        ),
        step(
            "a stay note (page)",
            Facility,
            form(format!("/postpartum/applications/{stay}/notes"), &[("day", "2026-11-22"), ("note", "よく眠れた")]),
            303,
            "postpartum.note",
        ),
        step(
            "a used day (page)",
            Facility,
            form(format!("/postpartum/applications/{stay}/used"), &[("day", "2026-11-22")]),
            303,
            "postpartum.note",
        ),
        step(
            "raise a concern about a stay (page)",
            Facility,
            form(
                "/referrals",
                &[("family_id", &family.to_string()), ("note", "不安が強い"), ("application_id", &stay.to_string())],
            ),
            303,
            "referral.raise",
        ),
        step(
            "a family's screenings (page)",
            Nurse,
            page(format!("/families/{family}/screenings")),
            200,
            "screening.list",
        ),
        step("a screening (page)", Nurse, page(format!("/screenings/{screening}")), 200, "screening.view"),
        step(
            "file a questionnaire (page)",
            Nurse,
            form(
                format!("/families/{family}/screenings/new/epds"),
                &ANSWER_FIELDS.iter().zip(&calm).map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>(),
            ),
            303,
            "screening.record",
        ),
        step(
            "share with the partner",
            Mother,
            form("/me/sharing", &[("partner_sees_health", "on")]),
            303,
            "family.sharing",
        ),
        step("own reminder settings (page)", Mother, page("/me/reminders"), 200, "reminder.view"),
        step(
            "set own reminders",
            Mother,
            form("/me/reminders", &[("email_on", "on"), ("email", "mama@example.jp"), ("days_before", "2")]),
            303,
            "reminder.set",
        ),
        step(
            "subscribe own browser to push (page)",
            Mother,
            form(
                "/me/reminders/push",
                &[
                    ("op", "subscribe"),
                    ("endpoint", "https://push.test/sub/a"),
                    (
                        "p256dh",
                        "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
                    ),
                    ("auth", "BTBZMqHH6r4Tts7J_aSIgg"),
                ],
            ),
            303,
            "push.subscribe",
        ),
        step(
            "unsubscribe own browser (page)",
            Mother,
            form("/me/reminders/push", &[("op", "unsubscribe"), ("endpoint", "https://push.test/sub/a")]),
            303,
            "push.unsubscribe",
        ),
        step(
            "turn the partner's view off",
            Nurse,
            form(format!("/families/{family}/partner-view"), &[("partner_view", "off")]),
            303,
            "family.sharing",
        ),
    ];

    let mut nurse = Visitor::new(&app);
    nurse.sign_in("nurse", Some(app.next_totp())).await;
    let mut facility = Visitor::new(&app);
    facility.sign_in("facility", Some(app.next_totp())).await;
    let mut mother = Visitor::new(&app);
    mother.sign_in("mother", None).await;
    // A session's CSRF token is the same on each of its pages (the
    // sign-out form of the page frame carries it); taken before the table.
    let token_of = |body: String| Visitor::csrf_in(&body);
    let csrf = (
        token_of(nurse.get("/referrals").await.body),
        token_of(facility.get("/referrals").await.body),
        token_of(mother.get("/me").await.body),
    );
    let mut wrong = vec![];
    for s in &table {
        let token = match s.who {
            Nurse => &f.nurse,
            Facility => &f.facility,
            Mother => &f.mother,
        };
        let visitor = match s.who {
            Nurse => &mut nurse,
            Facility => &mut facility,
            Mother => &mut mother,
        };
        let before = lines(&app).await.len();
        let (status, answer) = match &s.req {
            Req::Get(path) => {
                let (status, v) = app.get(token, path).await;
                (status, v.to_string())
            }
            Req::Post(path, body) => {
                let (status, v) = app.post(token, path, body).await;
                (status, v.to_string())
            }
            Req::PageGet(path) => {
                let p = visitor.get(path).await;
                (p.status, p.location.unwrap_or_default())
            }
            Req::PagePost(path, fields) => {
                let csrf = match s.who {
                    Nurse => &csrf.0,
                    Facility => &csrf.1,
                    Mother => &csrf.2,
                };
                let mut sent: Vec<(&str, &str)> = vec![("_csrf", csrf)];
                sent.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
                let p = visitor.post(path, &sent).await;
                (p.status, format!("{} {}", p.location.unwrap_or_default(), excerpt(&p.body)))
            }
        };
        let written: Vec<String> = lines(&app).await[before..].iter().map(|l| l.action.clone()).collect();
        let want: Vec<&str> = s.also.map(<[&str]>::to_vec).unwrap_or_else(|| vec![s.line]);
        if status != s.status || written != want {
            wrong.push(format!(
                "{}: {status} (want {}), lines {written:?} (want {want:?}) {}",
                s.label,
                s.status,
                excerpt(&answer)
            ));
        }
    }
    assert!(wrong.is_empty(), "{} of {} actions:\n{}", wrong.len(), table.len(), wrong.join("\n"));
}

/// The field names of an EPDS paper form's ten answers.
const ANSWER_FIELDS: [&str; 10] = [
    "answers.1",
    "answers.2",
    "answers.3",
    "answers.4",
    "answers.5",
    "answers.6",
    "answers.7",
    "answers.8",
    "answers.9",
    "answers.10",
];

fn excerpt(s: &str) -> String {
    s.chars().take(300).collect()
}

on_both! {
    one_action_writes_one_line => story_one_action_writes_one_line,
}
