//! The web edge against bad input and hostile clients (security issue #8),
//! through the real router on a loopback port, on both back ends: no input
//! panics a handler or drops the connection, no redirect leaves the site,
//! the client address behind a proxy is the proxy's view, every response
//! carries the security headers, and every error under `/api/` is JSON.

use crate::pages::Visitor;
use crate::support::*;
use serde_json::{json, Value};
use tsunagu_domain::roles::Role;
use tsunagu_web::WebConfig;

/// A request's answer, or the transport error when the connection was dropped.
struct Answer {
    status: u16,
    content_type: String,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    fn code(&self) -> Option<String> {
        self.json()["error"]["code"].as_str().map(str::to_owned)
    }

    fn fields(&self) -> Vec<(String, String)> {
        self.json()["error"]["fields"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|f| {
                        (f["field"].as_str().unwrap_or("").to_owned(), f["code"].as_str().unwrap_or("").to_owned())
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn is_json(&self) -> bool {
        self.content_type.starts_with("application/json")
    }
}

/// A request body and its content type, if any.
type Body<'a> = Option<(Vec<u8>, Option<&'a str>)>;

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Body<'_>,
) -> Result<Answer, reqwest::Error> {
    let mut req = app.http.request(method, app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some((bytes, content_type)) = body {
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        req = req.body(bytes);
    }
    let resp = req.send().await?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let body = resp.text().await?;
    Ok(Answer { status, content_type, headers, body })
}

async fn post_json(app: &TestApp, token: Option<&str>, path: &str, body: &Value) -> Answer {
    send(app, reqwest::Method::POST, path, token, Some((body.to_string().into_bytes(), Some("application/json"))))
        .await
        .unwrap_or_else(|e| panic!("POST {path}: the connection failed: {e}"))
}

// --- 1. no panic: counts and dates are bounded where they become domain values --------

async fn story_huge_counts_and_far_dates_are_field_errors(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    let nurse = crate::care::setup(&app).await;
    let (family, _) = crate::care::family_with_stay(&app, &nurse, "おおきい").await;
    let facility = app.token(&fx.setagaya, "facility").await;
    let venue = fx.facility.id.0;
    let application = |first_day: &str, days: u64| {
        json!({"family_id": family.0, "venue_id": venue, "service": "short_stay", "first_day": first_day,
               "days": days, "babies": 1, "answers": {"has_worries_or_fatigue": true}})
    };
    // 7,304,486 days made jiff panic and dropped the connection.
    for path in ["/api/v1/postpartum/applications", "/api/v1/postpartum/applications/preview"] {
        for days in [7_304_486u64, 7_304_485, u64::from(u32::MAX), 367] {
            let a = post_json(&app, Some(&nurse), path, &application("2026-12-01", days)).await;
            assert_eq!(a.status, 422, "{path} days={days}: {}", a.body);
            assert_eq!(a.fields(), vec![("days".to_owned(), "out_of_range".to_owned())], "{path} days={days}");
        }
        let a = post_json(&app, Some(&nurse), path, &application("9999-12-25", 7)).await;
        assert_eq!((a.status, a.fields()), (422, vec![("first_day".into(), "date_too_late".into())]), "{}", a.body);
    }
    // A talk in the year 9999 was stored; an incident in year 1 too.
    let talk = json!({"venue_id": venue, "starts": "9999-12-31T23:59", "title": "遠い未来"});
    let a = post_json(&app, Some(&facility), "/api/v1/postpartum/talks", &talk).await;
    assert_eq!((a.status, a.fields()), (422, vec![("starts".into(), "date_too_late".into())]), "{}", a.body);
    let talk = json!({"venue_id": venue, "starts": "not a time", "title": "t"});
    let a = post_json(&app, Some(&facility), "/api/v1/postpartum/talks", &talk).await;
    assert_eq!((a.status, a.fields()), (422, vec![("starts".into(), "invalid_date".into())]), "{}", a.body);
    let incident = json!({"venue_id": venue, "heading": "accident", "occurred": "0001-01-01T00:00", "summary": "s"});
    let a = post_json(&app, Some(&facility), "/api/v1/postpartum/incidents", &incident).await;
    assert_eq!((a.status, a.fields()), (422, vec![("occurred".into(), "date_too_early".into())]), "{}", a.body);
    let followup = json!({"family_id": family.0, "venue_id": venue, "start": "9999-12-31T13:00"});
    let a = post_json(&app, Some(&nurse), "/api/v1/postpartum/followups", &followup).await;
    assert_eq!((a.status, a.fields()), (422, vec![("start".into(), "not_a_slot".into())]), "{}", a.body);
    let (_, talks) = app.get(&facility, "/api/v1/postpartum/talks").await;
    assert_eq!(talks["talks"].as_array().map(Vec::len), Some(0), "nothing was stored");

    // The apply form page: the same count is a field error on the page, not a dropped connection.
    let mut v = Visitor::new(&app);
    v.sign_in("nurse", Some(app.next_totp())).await;
    let page = v.get(&format!("/postpartum/apply?family={}", family.0)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = Visitor::csrf_in(&page.body);
    let family_id = family.0.to_string();
    let venue_id = venue.to_string();
    let page = v
        .post(
            "/postpartum/apply",
            &[
                ("_csrf", csrf.as_str()),
                ("family_id", family_id.as_str()),
                ("venue_id", venue_id.as_str()),
                ("service", "short_stay"),
                ("first_day", "2026-12-01"),
                ("days", "7304486"),
                ("babies", "1"),
                ("action", "preview"),
            ],
        )
        .await;
    assert_eq!(page.status, 422, "{}", page.body);
    assert!(page.body.contains("範囲外の値です"), "the page names the field's problem");
}

/// The last resort: a handler that panics answers 500 (JSON under `/api/`,
/// a page elsewhere) and the server keeps serving; the known inputs above
/// never get there.
#[tokio::test]
async fn a_panicking_handler_answers_500_and_the_server_goes_on() {
    use axum::routing::get;
    async fn boom() -> String {
        // An index out of bounds, as a bug would have it.
        let v: Vec<u8> = Vec::new();
        v[std::hint::black_box(3usize)].to_string()
    }
    let app = axum::Router::new()
        .route("/api/v1/boom", get(boom))
        .route("/boom", get(boom))
        .route("/fine", get(|| async { "fine" }))
        .layer(axum::middleware::from_fn(tsunagu_web::base::edge::catch_panic));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let http = reqwest::Client::new();
    let r = http.get(format!("http://{addr}/api/v1/boom")).send().await.expect("an answer, not a dropped connection");
    assert_eq!(r.status(), 500);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "internal");
    let r = http.get(format!("http://{addr}/boom")).send().await.expect("an answer");
    assert_eq!(r.status(), 500);
    assert!(r.text().await.unwrap().contains("システムエラー"));
    assert_eq!(http.get(format!("http://{addr}/fine")).send().await.unwrap().text().await.unwrap(), "fine");
    server.abort();
}

// --- the property test: hostile values in every JSON body the API accepts -------------

/// A small deterministic generator (xorshift64*), so a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Values a hostile client sends in place of a field: numbers at and past
/// every integer width and jiff's limits, far and malformed dates, empty
/// and huge strings, wrong types.
fn hostile_values() -> Vec<Value> {
    let mut v: Vec<Value> = vec![
        json!(0),
        json!(-1),
        json!(7_304_485),
        json!(7_304_486),
        json!(i32::MAX),
        json!(i64::from(i32::MAX) + 1),
        json!(u32::MAX),
        json!(u64::from(u32::MAX) + 1),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(1e308),
        json!(-1e308),
        json!(0.5),
        json!("9999-12-31"),
        json!("-009999-01-01"),
        json!("0001-01-01"),
        json!("1900-01-01"),
        json!("2999-12-31"),
        json!("2026-02-30"),
        json!("9999-12-31T23:59"),
        json!("-009999-01-01T00:00"),
        json!("2026-11-22T25:00"),
        json!("9999-12"),
        json!("0000-00"),
        json!(""),
        json!(" "),
        json!("\u{0}\t\n\u{202e}"),
        json!("../../../etc/passwd"),
        json!("<script>alert(1)</script>"),
        json!("あ".repeat(5_000)),
        json!("x".repeat(20_000)),
        json!("1"),
        json!("-1"),
        json!("true"),
        Value::Null,
        json!(true),
        json!([]),
        json!({}),
        json!([1, 2, 3]),
        json!({"a": 1}),
    ];
    v.push(Value::Array((0..3_000).map(|i| json!(i64::MAX - i)).collect()));
    v
}

/// Where a value sits in a body.
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

fn nodes(v: &Value, at: Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let mut p = at.clone();
                p.push(Step::Key(k.clone()));
                out.push(p.clone());
                nodes(child, p, out);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                let mut p = at.clone();
                p.push(Step::Index(i));
                out.push(p.clone());
                nodes(child, p, out);
            }
        }
        _ => {}
    }
}

fn node_mut<'a>(v: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, step| match step {
        Step::Key(k) => v.get_mut(k.as_str()),
        Step::Index(i) => v.get_mut(*i),
    })
}

/// One hostile version of a valid body.
fn mutate(rng: &mut Rng, template: &Value, hostile: &[Value]) -> Value {
    let mut body = template.clone();
    let mut paths = Vec::new();
    nodes(template, vec![], &mut paths);
    if paths.is_empty() {
        return rng.pick(hostile).clone();
    }
    match rng.below(10) {
        // Drop a field.
        0 => {
            let path = rng.pick(&paths).clone();
            if let Some((Step::Key(k), parent)) = path.split_last() {
                if let Some(Value::Object(m)) = node_mut(&mut body, parent) {
                    m.remove(k);
                }
            }
        }
        // A field nobody asked for.
        1 => {
            if let Value::Object(m) = &mut body {
                m.insert("is_admin".into(), json!(true));
            }
        }
        // One to three fields at once.
        n => {
            for _ in 0..(1 + n % 3) {
                let path = rng.pick(&paths).clone();
                if let Some(slot) = node_mut(&mut body, &path) {
                    *slot = rng.pick(hostile).clone();
                }
            }
        }
    }
    body
}

/// The body with each number in turn at the edge of what jiff's spans and
/// our integer widths hold, and each string at a date far ahead and far
/// back: one body per field and value.
fn extremes(template: &Value) -> Vec<Value> {
    let mut paths = Vec::new();
    nodes(template, vec![], &mut paths);
    let mut out = Vec::new();
    for path in paths {
        let values = match node_mut(&mut template.clone(), &path) {
            Some(Value::Number(_)) => vec![json!(7_304_486), json!(i64::MAX)],
            Some(Value::String(_)) => {
                vec![json!("9999-12-31"), json!("9999-12-31T23:59"), json!("-009999-01-01T00:00")]
            }
            _ => vec![],
        };
        for v in values {
            let mut body = template.clone();
            if let Some(slot) = node_mut(&mut body, &path) {
                *slot = v;
            }
            out.push(body);
        }
    }
    out
}

/// One POST route with a JSON body: its pattern (as in the OpenAPI
/// document), a concrete path, who sends it, and a body it accepts.
struct Target {
    pattern: &'static str,
    path: String,
    token: Option<String>,
    body: Value,
}

/// Whole bodies that are not what any route takes, sent raw.
fn hostile_raw_bodies() -> Vec<Vec<u8>> {
    vec![b"[]".to_vec(), b"{\"days\": 1e999}".to_vec(), "[".repeat(20_000).into_bytes(), vec![0xff, 0xfe, 0x00, 0x7b]]
}

/// Every answer must be an answer (the connection held), never 5xx, and
/// every error under `/api/` the JSON error format.
fn judge(failures: &mut Vec<String>, what: &str, answer: Result<Answer, reqwest::Error>) -> Option<u16> {
    match answer {
        Err(e) => {
            failures.push(format!("{what}: no answer ({e})"));
            None
        }
        Ok(a) if a.status >= 500 => {
            failures.push(format!("{what}: {} {}", a.status, a.body.chars().take(300).collect::<String>()));
            Some(a.status)
        }
        Ok(a) if a.status >= 400 && (!a.is_json() || a.code().is_none()) => {
            failures.push(format!("{what}: {} answered {:?}, not the JSON error", a.status, a.content_type));
            Some(a.status)
        }
        Ok(a) => Some(a.status),
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 160 {
        format!("{}… ({} bytes)", &s[..s.char_indices().nth(150).map(|(i, _)| i).unwrap_or(0)], s.len())
    } else {
        s
    }
}

async fn story_hostile_values_in_every_body_get_4xx(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    let nurse = crate::care::setup(&app).await;
    app.account(&fx.setagaya, "admin", Role::Admin, Scope::None).await;
    let dummy = app.account(&fx.setagaya, "dummy", Role::Nurse, Scope::None).await;
    let admin = app.token(&fx.setagaya, "admin").await;
    let facility = app.token(&fx.setagaya, "facility").await;
    let (family, application) = crate::care::family_with_stay(&app, &nurse, "ほすたいる").await;
    app.account(&fx.setagaya, "mama", Role::FamilyMember, Scope::Family(family)).await;
    let mama = app.token(&fx.setagaya, "mama").await;
    let mut body = notification(fx.setagaya_area.id, "にんぷ", "さん", "2027-04-01");
    body["notified_on"] = json!("2026-09-01");
    let expecting = app.register(&nurse, &body).await;
    let (_, rec) = app.get(&nurse, &format!("/api/v1/families/{}", expecting.0)).await;
    let pregnancy = rec["pregnancies"][0]["id"].as_i64().unwrap();
    let (_, contacts) = app.get(&nurse, &format!("/api/v1/families/{}/contacts", expecting.0)).await;
    let contact = contacts["contacts"][0]["id"].as_i64().unwrap();
    let referral =
        post_json(&app, Some(&nurse), "/api/v1/referrals", &json!({"family_id": family.0, "note": "n"})).await;
    let referral = referral.json()["id"].as_i64().unwrap();
    let talk = json!({"venue_id": fx.facility.id.0, "starts": "2026-11-30T14:00", "title": "t"});
    let talk = post_json(&app, Some(&facility), "/api/v1/postpartum/talks", &talk).await.json()["id"].as_i64().unwrap();
    let (area, venue) = (fx.setagaya_area.id.0, fx.facility.id.0);
    // The chat: a parent who joined with the nurse's invitation, and their room.
    let invitation =
        post_json(&app, Some(&nurse), "/api/v1/chat/invitations", &json!({"family_id": family.0})).await.json();
    let join = json!({"municipality": "131121", "code": invitation["code"], "display_name": "ひよこ",
                      "username": "chatparent", "passphrase": "a long enough passphrase", "consent": true});
    let room = post_json(&app, None, "/api/v1/chat/join", &join).await.json()["room"].as_i64().unwrap();
    let chat_parent = post_json(
        &app,
        None,
        "/api/v1/auth/token",
        &json!({"municipality": "131121", "username": "chatparent", "password": "a long enough passphrase"}),
    )
    .await
    .json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    // Classes (#12): a self-care session at a hall, to book and to record.
    let (class_session, class_programme, class_hall) = {
        let m = fx.setagaya.id;
        let hall = app
            .store
            .create_venue(&tsunagu_store::NewVenue {
                municipality_id: m,
                area_id: Some(fx.setagaya_area.id),
                kind: tsunagu_domain::places::VenueKind::ChildrensHall,
                name_ja: "児童館".into(),
                name_en: "Hall".into(),
            })
            .await
            .unwrap();
        let config =
            tsunagu_domain::classes::ProgrammeConfig::seed_default(tsunagu_domain::classes::ProgrammeKind::SelfCare);
        let p = app.store.create_programme(m, &config).await.unwrap();
        let day = jiff::civil::date(2026, 12, 15);
        let s = tsunagu_store::NewSession {
            venue_id: hall.id,
            day,
            starts: jiff::civil::Time::constant(10, 0, 0, 0),
            minutes: 120,
            capacity: 5,
        };
        (app.store.create_class_sessions(m, p.id, &[s]).await.unwrap()[0].0, p.id.0, hall.id.0)
    };

    let t = |pattern: &'static str, path: String, token: &str, body: Value| Target {
        pattern,
        path,
        token: (!token.is_empty()).then(|| token.to_owned()),
        body,
    };
    let f = family.0;
    let e = expecting.0;
    // Local information (#12): an entry to retire, made before the table.
    let place = json!({"area_id": fx.setagaya_area.id.0, "kind": "outing_spot", "name_ja": "公園", "offers_ja": "説明", "stages": ["pregnant"]});
    let (s, v) = app.post(&admin, "/api/v1/classes/local", &place).await;
    assert_eq!(s, 201, "{v}");
    let local_place = v["id"].as_i64().unwrap();
    let targets = vec![
        t(
            "/api/v1/families",
            "/api/v1/families".into(),
            &nurse,
            notification(fx.setagaya_area.id, "あ", "い", "2027-05-20"),
        ),
        t(
            "/api/v1/families/{id}/pregnancies/{pregnancy}/births",
            format!("/api/v1/families/{e}/pregnancies/{pregnancy}/births"),
            &nurse,
            json!({"babies": [{"birth_date": "2026-11-20", "sex": "female", "given_name": "はな", "given_name_kana": "はな",
                               "gestational_weeks": 39, "gestational_days": 0, "birth_weight_g": 3000, "long_hospitalisation": false}]}),
        ),
        t(
            "/api/v1/accounts",
            "/api/v1/accounts".into(),
            &admin,
            json!({"username": "fuzz", "display_name": "F", "role": "nurse", "password": "a long enough passphrase",
                   "areas": [area], "venues": [venue], "family_id": null}),
        ),
        t(
            "/api/v1/accounts/{id}/password",
            format!("/api/v1/accounts/{}/password", dummy.0),
            &admin,
            json!({"password": "another long passphrase"}),
        ),
        t(
            "/api/v1/postpartum/quote",
            "/api/v1/postpartum/quote".into(),
            "",
            json!({"bracket": "taxed", "service": "short_stay", "days": 3, "babies": 1, "siblings": 0}),
        ),
        t(
            "/api/v1/postpartum/applications",
            "/api/v1/postpartum/applications".into(),
            &nurse,
            json!({"family_id": f, "venue_id": venue, "service": "short_stay", "first_day": "2026-12-01", "days": 3,
                   "babies": 1, "siblings": 0, "answers": {"has_worries_or_fatigue": true}, "override_reason": "r"}),
        ),
        t(
            "/api/v1/postpartum/applications/preview",
            "/api/v1/postpartum/applications/preview".into(),
            &mama,
            json!({"venue_id": venue, "service": "day_care", "first_day": "2026-12-01", "days": 1, "babies": 1,
                   "answers": {"lacks_help_from_relatives": true}}),
        ),
        t(
            "/api/v1/postpartum/applications/{id}/{decision}",
            format!("/api/v1/postpartum/applications/{application}/notes"),
            &facility,
            json!({"note": "よく眠れた", "day": "2026-11-24", "care": ["baby_care", "mother_rest"], "mother": "m", "baby": "b"}),
        ),
        t(
            "/api/v1/referrals",
            "/api/v1/referrals".into(),
            &facility,
            json!({"family_id": f, "note": "n", "urgent": true,
            "pregnancy_id": null, "application_id": application}),
        ),
        t(
            "/api/v1/referrals/{id}/{action}",
            format!("/api/v1/referrals/{referral}/receive"),
            &nurse,
            json!({"reason": null, "note": "n"}),
        ),
        t(
            "/api/v1/postpartum/followups",
            "/api/v1/postpartum/followups".into(),
            &mama,
            json!({"venue_id": venue, "start": "2026-12-01T13:00"}),
        ),
        t(
            "/api/v1/postpartum/talks",
            "/api/v1/postpartum/talks".into(),
            &facility,
            json!({"venue_id": venue, "starts": "2026-12-02T14:00", "title": "t"}),
        ),
        t("/api/v1/postpartum/talks/{id}/join", format!("/api/v1/postpartum/talks/{talk}/join"), &mama, json!({})),
        t(
            "/api/v1/postpartum/incidents",
            "/api/v1/postpartum/incidents".into(),
            &facility,
            json!({"venue_id": venue, "heading": "accident", "occurred": "2026-11-21T10:30", "summary": "s", "family_id": f}),
        ),
        t(
            "/api/v1/families/{id}/screenings",
            format!("/api/v1/families/{f}/screenings"),
            &nurse,
            json!({"questionnaire": "epds", "version": null, "answers": {"q1": "0"}, "pregnancy_id": null}),
        ),
        t(
            "/api/v1/me/screenings",
            "/api/v1/me/screenings".into(),
            &mama,
            json!({"questionnaire": "epds", "answers": {}}),
        ),
        t(
            "/api/v1/contacts/{id}/outcome",
            format!("/api/v1/contacts/{contact}/outcome"),
            &nurse,
            json!({"outcome": "not_reached", "form": null, "attempts": 1, "note": "n"}),
        ),
        t(
            "/api/v1/families/{id}/pregnancies/{pregnancy}/edd",
            format!("/api/v1/families/{e}/pregnancies/{pregnancy}/edd"),
            &nurse,
            json!({"edd": "2027-04-10"}),
        ),
        t(
            "/api/v1/families/{id}/pregnancies/{pregnancy}/end",
            format!("/api/v1/families/{e}/pregnancies/{pregnancy}/end"),
            &nurse,
            json!({"ending": "lost", "on": "2026-11-23"}),
        ),
        t(
            "/api/v1/handbook-meetings",
            "/api/v1/handbook-meetings".into(),
            &nurse,
            json!({"area_id": area, "month": "2026-10", "held_on": "2026-11-01", "note": "n"}),
        ),
        t(
            "/api/v1/group-sessions",
            "/api/v1/group-sessions".into(),
            &nurse,
            json!({"area_id": area, "due_month": "2027-04", "day": "2026-12-10", "place": "p", "members": [pregnancy]}),
        ),
        t(
            "/api/v1/group-sessions/{id}/attendance",
            "/api/v1/group-sessions/1/attendance".into(),
            &nurse,
            json!({"attended": [pregnancy]}),
        ),
        t(
            "/api/v1/classes/bookings",
            "/api/v1/classes/bookings".into(),
            &nurse,
            json!({"session_id": class_session, "family_id": e, "idempotency_key": "k", "with_partner": false,
                   "share_name": true, "waiting_list": true, "override_reason": null}),
        ),
        t(
            "/api/v1/classes/programmes/{id}/schedule/preview",
            format!("/api/v1/classes/programmes/{class_programme}/schedule/preview"),
            &nurse,
            json!({"fiscal_year": 2027, "venue_ids": [class_hall], "pattern": "monthly", "weekday": "sunday", "nth": 2,
                   "per_year": null, "starts": "10:00", "minutes": 120, "capacity": 10}),
        ),
        t(
            "/api/v1/classes/programmes/{id}/schedule",
            format!("/api/v1/classes/programmes/{class_programme}/schedule"),
            &nurse,
            json!({"fiscal_year": 2027, "venue_ids": [class_hall], "pattern": "spread", "weekday": "sunday", "nth": null,
                   "per_year": 3, "starts": "10:00", "minutes": 120, "capacity": 10}),
        ),
        t(
            "/api/v1/classes/sessions/{id}/attendance",
            format!("/api/v1/classes/sessions/{class_session}/attendance"),
            &nurse,
            json!({"marks": [{"booking_id": 1, "attended": true, "weight_g": 3000, "height_mm": 500}]}),
        ),
        // Last: failed sign-ins count towards the address's limit.
        t(
            "/api/v1/auth/token",
            "/api/v1/auth/token".into(),
            "",
            json!({"municipality": "131121", "username": "nobody", "password": "x", "otp": "000000"}),
        ),
        // The chat's (after the sign-ins: they sign nobody in, and each target's random values stay as they were).
        t("/api/v1/chat/invitations", "/api/v1/chat/invitations".into(), &nurse, json!({"family_id": f})),
        t(
            "/api/v1/chat/join",
            "/api/v1/chat/join".into(),
            "",
            json!({"municipality": "131121", "code": "2222-2222-2222", "display_name": "d", "username": "u",
                   "passphrase": "a long enough passphrase", "consent": true}),
        ),
        t(
            "/api/v1/chat/rooms/{id}/messages",
            format!("/api/v1/chat/rooms/{room}/messages"),
            &chat_parent,
            json!({"client_id": "c1", "body": "こんにちは"}),
        ),
        t("/api/v1/chat/rooms/{id}/read", format!("/api/v1/chat/rooms/{room}/read"), &chat_parent, json!({"seq": 1})),
        t(
            "/api/v1/chat/rooms/{id}/escalations",
            format!("/api/v1/chat/rooms/{room}/escalations"),
            &chat_parent,
            json!({"message_seq": 1, "note": "n", "urgent": false}),
        ),
        t(
            "/api/v1/chat/supporters/{id}/state",
            format!("/api/v1/chat/supporters/{}/state", dummy.0),
            &admin,
            json!({"state": "active"}),
        ),
        // Appended last (every earlier target keeps its random values): a
        // municipality code with a NUL in it, which PostgreSQL cannot store.
        t(
            "/api/v1/auth/token",
            "/api/v1/auth/token".into(),
            "",
            json!({"municipality": "1311\u{0}21", "username": "nobody", "password": "x", "otp": "000000"}),
        ),
        // Local information (#12), appended after it for the same reason.
        t("/api/v1/classes/local", "/api/v1/classes/local".into(), &admin, place.clone()),
        t(
            "/api/v1/classes/local/{id}/retire",
            format!("/api/v1/classes/local/{local_place}/retire"),
            &admin,
            json!({"retired": true}),
        ),
        // The figures a city printed (#14), appended after them for the same reason.
        t(
            "/api/v1/reports/printed",
            "/api/v1/reports/printed".into(),
            &admin,
            json!({"fiscal_year": "R4", "facilities": [{"venue_id": venue, "short_stay_days": "3725",
                "day_care_days": "706", "families": "932", "occupancy": "82.4"}],
                "areas": [{"area_id": area, "families": "353"}]}),
        ),
        // Web push subscriptions (#10), appended after them for the same reason.
        t(
            "/api/v1/me/push-subscriptions",
            "/api/v1/me/push-subscriptions".into(),
            &mama,
            json!({"endpoint": "https://push.test/sub/1", "expirationTime": null, "keys": {"auth": "BTBZMqHH6r4Tts7J_aSIgg",
                "p256dh": "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"}}),
        ),
        t(
            "/api/v1/me/push-subscriptions/remove",
            "/api/v1/me/push-subscriptions/remove".into(),
            &mama,
            json!({"endpoint": "https://push.test/sub/1"}),
        ),
    ];

    // The table walks every POST operation with a JSON body the API describes.
    let spec: Value = app.http.get(app.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    let described: Vec<&str> = spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, ops)| ops.get("post").is_some_and(|op| op.get("requestBody").is_some()))
        .map(|(p, _)| p.as_str())
        .collect();
    for p in &described {
        assert!(targets.iter().any(|t| t.pattern == *p), "POST {p} takes a body but is not in the hostile-input table");
    }

    let hostile = hostile_values();
    let raw = hostile_raw_bodies();
    let mut failures = Vec::new();
    let mut sent = 0;
    for (i, target) in targets.iter().enumerate() {
        let mut rng = Rng(0x5EC0_0008_u64 ^ ((i as u64 + 1) << 32));
        let token = target.token.as_deref();
        let mut four_xx = 0;
        // Every field in turn at the values that broke the calendar
        // arithmetic, then random hostility.
        let mut bodies = extremes(&target.body);
        bodies.extend((0..4).map(|_| mutate(&mut rng, &target.body, &hostile)));
        for body in bodies {
            let what = format!("POST {} {}", target.path, short(&body));
            let answer = send(
                &app,
                reqwest::Method::POST,
                &target.path,
                token,
                Some((body.to_string().into_bytes(), Some("application/json"))),
            )
            .await;
            sent += 1;
            if judge(&mut failures, &what, answer).is_some_and(|s| (400..500).contains(&s)) {
                four_xx += 1;
            }
        }
        // Bodies of no route's shape, and bodies of no JSON at all, are 4xx every time.
        for bytes in &raw {
            let what = format!("POST {} raw {:?}", target.path, String::from_utf8_lossy(&bytes[..bytes.len().min(20)]));
            let answer =
                send(&app, reqwest::Method::POST, &target.path, token, Some((bytes.clone(), Some("application/json"))))
                    .await;
            sent += 1;
            match judge(&mut failures, &what, answer) {
                Some(s) if (400..500).contains(&s) => four_xx += 1,
                Some(s) => failures.push(format!("{what}: {s}, not 4xx")),
                None => {}
            }
        }
        let what = format!("POST {} as text/plain", target.path);
        match judge(
            &mut failures,
            &what,
            send(
                &app,
                reqwest::Method::POST,
                &target.path,
                token,
                Some((target.body.to_string().into_bytes(), Some("text/plain"))),
            )
            .await,
        ) {
            Some(s) if (400..500).contains(&s) => {}
            Some(s) => failures.push(format!("{what}: {s}, not 4xx")),
            None => {}
        }
        assert!(four_xx > raw.len(), "{}: hostile values hardly ever refused ({four_xx})", target.path);
    }

    // Query strings of the listing calls, with the same hostility.
    let queries = [
        ("/api/v1/families", vec!["q", "limit"]),
        ("/api/v1/audit", vec!["actor", "family", "action", "before", "limit"]),
        ("/api/v1/postpartum/applications", vec!["status", "venue", "family"]),
        ("/api/v1/postpartum/figures", vec!["fy"]),
        ("/api/v1/referrals", vec!["family", "open"]),
        ("/api/v1/postpartum/followups/slots", vec!["family", "venue"]),
        ("/api/v1/postpartum/followups", vec!["venue", "fy"]),
        ("/api/v1/postpartum/incidents", vec!["venue", "fy"]),
        ("/api/v1/worklist", vec!["list", "whose", "area", "kind", "sort", "page"]),
        ("/api/v1/worklist/counts", vec!["list", "whose", "area", "page"]),
        ("/api/v1/handbook-meetings", vec!["area", "month"]),
        ("/api/v1/group-sessions", vec!["due_month"]),
        ("/api/v1/group-sessions/proposals", vec!["due_month"]),
    ];
    let query_values = [
        "99999999999999999999",
        "-9223372036854775808",
        "4294967296",
        "-1",
        "9999-12",
        "0000-00",
        "R999999",
        "令和99999年度",
        "FY-999",
        "%00",
        "%ff%fe",
        "urgent",
        "all",
    ];
    let mut rng = Rng(0x5EC0_0008);
    for (path, params) in &queries {
        let token = if *path == "/api/v1/audit" { &admin } else { &nurse };
        for _ in 0..3 {
            let q: Vec<String> = params.iter().map(|p| format!("{p}={}", rng.pick(&query_values))).collect();
            let url = format!("{path}?{}", q.join("&"));
            let answer = send(&app, reqwest::Method::GET, &url, Some(token), None).await;
            sent += 1;
            judge(&mut failures, &format!("GET {url}"), answer);
        }
    }
    eprintln!("{sent} hostile requests sent");
    assert!(
        failures.is_empty(),
        "{} of {sent} hostile requests were not answered with a 4xx:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// --- 2. no open redirect ------------------------------------------------------------------

async fn story_redirects_stay_on_the_site(backend: Backend) {
    let app = TestApp::start(backend).await;
    let location = |path: String| {
        let app = &app;
        async move {
            let r = app.http.get(app.url(&path)).send().await.unwrap();
            assert_eq!(r.status(), 303, "{path}");
            r.headers()["location"].to_str().unwrap().to_owned()
        }
    };
    for next in [
        "/%09/evil.example",
        "/%0a/evil.example",
        "/%0d%0a/evil.example",
        "//evil.example",
        "/%5Cevil.example",
        "/%5C%5Cevil.example",
        "https://evil.example/",
        "/%20/evil.example",
        "/evil.example",
        "javascript:alert(1)",
        "/api/v1/families",
    ] {
        assert_eq!(location(format!("/lang/en?next={next}")).await, "/", "next={next}");
    }
    for next in
        ["/worklist", "/families/3#timeline", "/worklist?list=overdue&page=2", "/postpartum/applications/1", "/"]
    {
        let encoded = next.replace('#', "%23").replace('&', "%26").replace('?', "%3F").replace('=', "%3D");
        assert_eq!(location(format!("/lang/ja?next={encoded}")).await, next);
    }

    // The concern form's `back` and the contact page's back link are held to the same rule.
    let fx = &app.fx;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let family = app.register(&nurse, &notification(fx.setagaya_area.id, "もどる", "さき", "2027-05-20")).await;
    let (_, contacts) = app.get(&nurse, &format!("/api/v1/families/{}/contacts", family.0)).await;
    let contact = contacts["contacts"][0]["id"].as_i64().unwrap();
    let mut v = Visitor::new(&app);
    v.sign_in("nurse", Some(app.next_totp())).await;
    let page = v.get(&format!("/contacts/{contact}?back=/%09/evil.example")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(!page.body.contains("evil.example"), "the back link leaves the site");
    assert!(page.body.contains("value=\"/worklist\""));
    let csrf = Visitor::csrf_in(&page.body);
    let family_id = family.0.to_string();
    let p = v
        .post(
            "/referrals",
            &[("_csrf", &csrf), ("family_id", &family_id), ("note", "気になる"), ("back", "/\t/evil.example")],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert!(p.location.as_deref().is_some_and(|l| l.starts_with("/referrals?")), "{:?}", p.location);
}

// --- 3. the client address behind a proxy -------------------------------------------------

async fn story_the_client_address_is_the_proxys_view(backend: Backend) {
    for config in [
        WebConfig { trusted_proxies: 1, ..WebConfig::default() },
        WebConfig { trust_forwarded_for: true, ..WebConfig::default() },
        WebConfig { trusted_proxies: 2, ..WebConfig::default() },
    ] {
        let two = config.trusted_proxies == 2;
        let app = TestApp::start_with(backend, config).await;
        let fx = &app.fx;
        app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
        app.account(&fx.setagaya, "admin", Role::Admin, Scope::None).await;
        let nurse = app.token(&fx.setagaya, "nurse").await;
        let admin = app.token(&fx.setagaya, "admin").await;
        let family = app.register(&nurse, &notification(fx.setagaya_area.id, "ぷろきし", "さん", "2027-05-20")).await;
        // The client writes its own first entry; our proxy (or proxies) append what they saw.
        let forwarded = if two { "203.0.113.66, 198.51.100.7, 10.0.0.1" } else { "203.0.113.66, 198.51.100.7" };
        let r = app
            .http
            .get(app.url(&format!("/api/v1/families/{}", family.0)))
            .bearer_auth(&nurse)
            .header("x-forwarded-for", forwarded)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let (_, v) = app.get(&admin, &format!("/api/v1/audit?family={}&action=family.view", family.0)).await;
        let addrs: Vec<&str> =
            v["lines"].as_array().unwrap().iter().map(|l| l["remote_addr"].as_str().unwrap()).collect();
        assert_eq!(addrs, vec!["198.51.100.7"], "two proxies: {two}");
    }
}

// --- 4. security headers on pages and API answers ----------------------------------------

async fn story_every_answer_carries_the_security_headers(backend: Backend) {
    let app = TestApp::start(backend).await;
    let quote = json!({"bracket": "taxed", "service": "short_stay", "days": 3, "babies": 1});
    let answers = vec![
        ("page", send(&app, reqwest::Method::GET, "/signin", None, None).await.unwrap()),
        ("error page", send(&app, reqwest::Method::GET, "/no-such-page", None, None).await.unwrap()),
        ("stylesheet", send(&app, reqwest::Method::GET, "/static/app.css", None, None).await.unwrap()),
        ("redirect", send(&app, reqwest::Method::GET, "/lang/en?next=/", None, None).await.unwrap()),
        ("API answer", post_json(&app, None, "/api/v1/postpartum/quote", &quote).await),
        ("API error", send(&app, reqwest::Method::GET, "/api/v1/areas", None, None).await.unwrap()),
    ];
    for (what, a) in answers {
        let h = |name: &str| a.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let csp = h("content-security-policy");
        for directive in [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
        ] {
            assert!(csp.contains(directive), "{what}: CSP {csp:?} lacks {directive}");
        }
        assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
        assert_eq!(h("x-frame-options"), "DENY", "{what}");
        assert_eq!(h("referrer-policy"), "no-referrer", "{what}");
        assert_eq!(h("x-content-type-options"), "nosniff", "{what}");
    }
    // The pages hold nothing the policy would block: no inline script or style.
    let page = send(&app, reqwest::Method::GET, "/signin", None, None).await.unwrap();
    assert!(!page.body.contains("<script") && !page.body.contains("style=") && !page.body.contains("<style"));
}

// --- 5. every error under /api/ is JSON -------------------------------------------------------

async fn story_api_rejections_are_json(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let body = notification(fx.setagaya_area.id, "じぇいそん", "さん", "2027-05-20").to_string().into_bytes();
    use reqwest::Method;
    let cases: Vec<(&str, Method, &str, Body, u16, &str)> = vec![
        ("path that is not a number", Method::GET, "/api/v1/families/abc", None, 404, "not_found"),
        ("path beyond i64", Method::GET, "/api/v1/families/99999999999999999999999", None, 404, "not_found"),
        ("path not UTF-8", Method::GET, "/api/v1/families/%FF", None, 404, "not_found"),
        ("a session id that is not a number", Method::GET, "/api/v1/group-sessions/x", None, 404, "not_found"),
        (
            "path and body",
            Method::POST,
            "/api/v1/families/1/pregnancies/x/births",
            Some((b"{}".to_vec(), Some("application/json"))),
            404,
            "not_found",
        ),
        (
            "text/plain body",
            Method::POST,
            "/api/v1/families",
            Some((body.clone(), Some("text/plain"))),
            400,
            "unsupported_media_type",
        ),
        (
            "no content type",
            Method::POST,
            "/api/v1/families",
            Some((body.clone(), None)),
            400,
            "unsupported_media_type",
        ),
        ("wrong method", Method::DELETE, "/api/v1/families", None, 405, "method_not_allowed"),
        ("GET of a POST-only route", Method::GET, "/api/v1/contacts/1/outcome", None, 405, "method_not_allowed"),
        ("unknown route", Method::GET, "/api/v2/anything", None, 404, "not_found"),
        ("bad query", Method::GET, "/api/v1/families?limit=-1", None, 400, "bad_query"),
    ];
    for (what, method, path, body, status, code) in cases {
        let a = send(&app, method, path, Some(&nurse), body).await.unwrap();
        assert_eq!(a.status, status, "{what}: {}", a.body);
        assert!(a.is_json(), "{what}: answered {:?}: {}", a.content_type, a.body);
        assert_eq!(a.code().as_deref(), Some(code), "{what}: {}", a.body);
        assert!(a.json()["error"]["message"].is_string(), "{what}");
    }
    // Without a token the caller is asked to sign in first, as JSON too.
    let a = send(&app, Method::GET, "/api/v1/families/abc", None, None).await.unwrap();
    assert_eq!((a.status, a.code().as_deref(), a.is_json()), (401, Some("unauthenticated"), true));
}

// --- 6. a municipality code that does not parse is refused before anything is stored ----------

async fn story_an_unparsable_municipality_code_is_refused_first(backend: Backend) {
    let app = TestApp::start(backend).await;
    let db = crate::store_support::TestDb { backend, url: app.db_url.clone() };
    let attempts = || crate::store_support::scalar::<i64>(&db, "SELECT COUNT(*) FROM signin_attempts");
    let before = attempts().await;
    for code in ["1311\u{0}21", "\u{0}", "13112", "131122", "１３１１２１", "131121\u{0}", "x".repeat(10_000).as_str()]
    {
        let body = json!({"municipality": code, "username": "nurse", "password": "x"});
        let a = post_json(&app, None, "/api/v1/auth/token", &body).await;
        assert_eq!((a.status, a.code().as_deref()), (400, Some("bad_municipality_code")), "{code:?}: {}", a.body);
        assert!(a.is_json());
    }
    // The page: the form again, in the reader's language, with no NUL echoed.
    let mut v = crate::pages::Visitor::new(&app);
    let page = v.get("/signin").await;
    let csrf = crate::pages::Visitor::csrf_in(&page.body);
    let p = v
        .post("/signin", &[("_csrf", &csrf), ("municipality", "1311\u{0}21"), ("username", "nurse"), ("password", "x")])
        .await;
    assert_eq!(p.status, 400, "{}", p.body);
    assert!(p.body.contains("自治体コードは6桁の数字"), "{}", p.body);
    assert!(!p.body.contains('\u{0}'));
    assert_eq!(attempts().await, before, "nothing reserved or stored");
    // A code that parses still counts as an attempt (and fails as any other).
    let a = post_json(
        &app,
        None,
        "/api/v1/auth/token",
        &json!({"municipality": "131121", "username": "nobody", "password": "x"}),
    )
    .await;
    assert_eq!(a.status, 401);
    assert_eq!(attempts().await, before + 1);
}

on_both!(
    huge_counts_and_far_dates_are_field_errors => story_huge_counts_and_far_dates_are_field_errors,
    hostile_values_in_every_body_get_4xx => story_hostile_values_in_every_body_get_4xx,
    redirects_stay_on_the_site => story_redirects_stay_on_the_site,
    the_client_address_is_the_proxys_view => story_the_client_address_is_the_proxys_view,
    every_answer_carries_the_security_headers => story_every_answer_carries_the_security_headers,
    api_rejections_are_json => story_api_rejections_are_json,
    an_unparsable_municipality_code_is_refused_first => story_an_unparsable_municipality_code_is_refused_first,
);
