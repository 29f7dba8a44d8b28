//! The OpenAPI document against the service: every routed `/api/` operation
//! is documented and every documented one is routed; every documented
//! operation's JSON answer, called as the demo nurse (the demo mother for
//! what only a family may call, the demo administrator for what only an
//! administrator may) with valid inputs, validates against its schema.
//!
//! The validator is ours, for the part of JSON Schema utoipa writes (`$ref`,
//! `type` with `null`, `properties`, `required`, `additionalProperties`,
//! `items`, `enum`, `oneOf`/`anyOf`/`allOf`, `minimum`/`maximum`, the `date`
//! and `date-time` formats), and stricter than JSON Schema in one way: an
//! object whose schema lists its properties may have no other (unless the
//! schema says `additionalProperties`). So a field a handler adds to an
//! answer without describing it fails here, as one it describes and does
//! not send does (when required).

use crate::support::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use tsunagu_domain::clock::Clock;

/// `(method, path)` of every `.route("/api/…", get(…).post(…))` in the web
/// crate's sources: the routes as written, read from the source tree as the
/// layout test reads it.
fn routed_operations() -> BTreeSet<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tsunagu-web/src");
    let mut ops = BTreeSet::new();
    for file in rust_files(&src) {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut rest = text.as_str();
        while let Some(at) = rest.find(".route(") {
            rest = rest[at + ".route(".len()..].trim_start();
            let Some(quoted) = rest.strip_prefix('"') else { continue };
            rest = quoted;
            let end = rest.find('"').unwrap();
            let path = rest[..end].to_owned();
            // The rest of the call, to its closing parenthesis.
            let mut depth = 1;
            let mut close = end;
            for (i, c) in rest[end..].char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            close = end + i;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let call = &rest[end..close];
            if !path.starts_with("/api/") {
                continue;
            }
            for method in ["get", "post", "put", "patch", "delete", "any"] {
                let call_of = format!("{method}(");
                let called = call
                    .match_indices(&call_of)
                    .any(|(i, _)| i == 0 || !call[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_'));
                if called {
                    ops.insert((method.to_owned(), path.clone()));
                }
            }
        }
    }
    ops
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

fn documented_operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            ops.insert((method.clone(), path.clone()));
        }
    }
    ops
}

#[test]
fn every_routed_operation_is_documented_and_every_documented_one_routed() {
    let doc = tsunagu_web::openapi();
    let mut routed = routed_operations();
    // Not operations of the API: the document itself, and the JSON 404 for
    // what no route has.
    assert!(routed.remove(&("get".to_owned(), "/api/openapi.json".to_owned())));
    assert!(routed.remove(&("any".to_owned(), "/api/{*rest}".to_owned())));
    assert!(routed.len() > 40, "the scan of the routes found {}", routed.len());
    let documented = documented_operations(&doc);
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(undocumented.is_empty(), "routed, not documented: {undocumented:?}");
    assert!(unrouted.is_empty(), "documented, not routed: {unrouted:?}");
}

#[test]
fn every_operation_has_its_tag_answers_and_security() {
    let doc = tsunagu_web::openapi();
    assert_eq!(doc["openapi"].as_str().map(|v| v.starts_with("3.")), Some(true));
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    let tags: BTreeSet<&str> = doc["tags"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let what = format!("{method} {path}");
            let tag = op["tags"][0].as_str().unwrap_or_else(|| panic!("{what} has no tag"));
            assert!(tags.contains(tag), "{what}: tag {tag} is not described");
            assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{what} has no summary");
            let responses = op["responses"].as_object().unwrap();
            assert!(responses.keys().any(|s| s.starts_with('2')), "{what} has no success answer");
            assert!(
                responses["503"]["$ref"].is_string() || responses["503"]["headers"].is_object(),
                "{what}: 503 is the shared Unavailable, or busy with Retry-After"
            );
            for (status, answer) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let schema = &answer["content"]["application/json"]["schema"]["$ref"];
                    assert!(
                        answer["$ref"].is_string() || schema == "#/components/schemas/Error",
                        "{what} {status} is not the shared error"
                    );
                }
            }
            let anonymous = op["security"].as_array().is_some_and(|s| s.iter().all(|r| r == &json!({})));
            assert!(anonymous || responses.contains_key("401"), "{what}: 401 where a token is needed");
            if op.get("requestBody").is_some() {
                assert!(responses.contains_key("400") && responses.contains_key("413"), "{what}: a body's 400 and 413");
            }
        }
    }
    // Every reference leads somewhere.
    let text = doc.to_string();
    for piece in text.split("\"$ref\":\"").skip(1) {
        let target = &piece[..piece.find('"').unwrap()];
        let mut at = &doc;
        for step in target.trim_start_matches("#/").split('/') {
            at = &at[step];
        }
        assert!(at.is_object(), "{target} leads nowhere");
    }
    // Signing in is the one operation that answers 429, with Retry-After.
    let token = &doc["paths"]["/api/v1/auth/token"]["post"];
    assert_eq!(token["responses"]["429"]["$ref"], "#/components/responses/TooManyRequests");
    assert!(doc["components"]["responses"]["TooManyRequests"]["headers"]["Retry-After"].is_object());
    assert!(token["responses"]["503"]["headers"]["Retry-After"].is_object());
}

// ---------------------------------------------------------------------------
// The validator.

struct Validator<'a> {
    doc: &'a Value,
}

impl Validator<'_> {
    fn resolve<'s>(&'s self, schema: &'s Value) -> &'s Value {
        match schema["$ref"].as_str() {
            Some(r) => {
                let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("unknown $ref {r}"));
                let target = &self.doc["components"]["schemas"][name];
                assert!(!target.is_null(), "no schema {name}");
                self.resolve(target)
            }
            None => schema,
        }
    }

    fn check(&self, schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
        let schema = self.resolve(schema);
        if let Some(all) = schema["allOf"].as_array() {
            for s in all {
                self.check(s, v, at, errors);
            }
        }
        if let Some(one) = schema["oneOf"].as_array() {
            let fits = one.iter().filter(|s| self.fits(s, v)).count();
            if fits != 1 {
                errors.push(format!("{at}: fits {fits} of oneOf, not 1: {}", short(v)));
            }
        }
        if let Some(any) = schema["anyOf"].as_array() {
            if !any.iter().any(|s| self.fits(s, v)) {
                errors.push(format!("{at}: fits none of anyOf: {}", short(v)));
            }
        }
        if let Some(allowed) = schema["enum"].as_array() {
            if !allowed.contains(v) {
                errors.push(format!("{at}: {v} is not one of {allowed:?}"));
            }
        }
        let types: Vec<&str> = match &schema["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        if !types.is_empty() && !types.iter().any(|t| is_type(t, v)) {
            errors.push(format!("{at}: {} is not {types:?}", short(v)));
            return;
        }
        match v {
            Value::String(s) => match schema["format"].as_str() {
                Some("date") if s.parse::<jiff::civil::Date>().is_err() || s.len() != 10 => {
                    errors.push(format!("{at}: {s:?} is no date"))
                }
                Some("date-time") if s.parse::<jiff::Timestamp>().is_err() => {
                    errors.push(format!("{at}: {s:?} is no date-time"))
                }
                _ => {}
            },
            Value::Number(n) => {
                let x = n.as_f64().unwrap();
                if schema["minimum"].as_f64().is_some_and(|m| x < m)
                    || schema["maximum"].as_f64().is_some_and(|m| x > m)
                {
                    errors.push(format!("{at}: {x} is out of its range"));
                }
            }
            Value::Array(items) => {
                if let Some(item) = schema.get("items") {
                    for (i, e) in items.iter().enumerate() {
                        self.check(item, e, &format!("{at}[{i}]"), errors);
                    }
                }
            }
            Value::Object(fields) => {
                let properties = schema["properties"].as_object();
                for name in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                    if !fields.contains_key(name) {
                        errors.push(format!("{at}: no {name}"));
                    }
                }
                for (name, value) in fields {
                    let here = format!("{at}.{name}");
                    match (properties.and_then(|p| p.get(name)), schema.get("additionalProperties")) {
                        (Some(s), _) => self.check(s, value, &here, errors),
                        (None, Some(Value::Bool(true))) => {}
                        (None, Some(s @ Value::Object(_))) => self.check(s, value, &here, errors),
                        // Strict: a described object has no undescribed field
                        // (one with neither properties nor composition is free).
                        (None, _) if properties.is_some() => errors.push(format!("{here}: not in the schema")),
                        (None, _) => {}
                    }
                }
            }
            _ => {}
        }
    }

    fn fits(&self, schema: &Value, v: &Value) -> bool {
        let mut errors = Vec::new();
        self.check(schema, v, "", &mut errors);
        errors.is_empty()
    }
}

fn is_type(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "string" => v.is_string(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => panic!("type {t} the validator does not know"),
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    s.chars().take(160).collect()
}

#[test]
fn the_validator_is_strict_where_it_should_be() {
    let doc = json!({"components": {"schemas": {
        "A": {"type": "object", "required": ["id"], "properties": {
            "id": {"type": "integer", "minimum": 0},
            "on": {"type": ["string", "null"], "format": "date"},
            "b": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/B"}]},
        }},
        "B": {"type": "object", "properties": {"kind": {"type": "string", "enum": ["x", "y"]}}},
    }}});
    let v = Validator { doc: &doc };
    let a = json!({"$ref": "#/components/schemas/A"});
    assert!(v.fits(&a, &json!({"id": 1, "on": "2026-11-22", "b": {"kind": "x"}})));
    assert!(v.fits(&a, &json!({"id": 1, "on": null, "b": null})));
    for bad in [
        json!({"on": "2026-11-22"}),
        json!({"id": -1}),
        json!({"id": "1"}),
        json!({"id": 1, "on": "22/11/2026"}),
        json!({"id": 1, "b": {"kind": "z"}}),
        json!({"id": 1, "b": {"kind": "x", "extra": 1}}),
        json!({"id": 1, "extra": true}),
    ] {
        assert!(!v.fits(&a, &bad), "{bad} passed");
    }
}

// ---------------------------------------------------------------------------
// The answers.

struct Walk<'a> {
    app: &'a TestApp,
    doc: &'a Value,
    validated: BTreeSet<(String, String)>,
    failures: Vec<String>,
}

impl Walk<'_> {
    /// Calls `method template` (at `path`, as `token`, with `body`), wants a
    /// 2xx and checks the answer against the documented schema of its status.
    async fn call(&mut self, method: &str, template: &str, path: &str, token: &str, body: Option<Value>) -> Value {
        let mut req = match method {
            "get" => self.app.http.get(self.app.url(path)),
            "post" => self.app.http.post(self.app.url(path)),
            _ => panic!("{method}"),
        };
        if !token.is_empty() {
            req = req.bearer_auth(token);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let content_type = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let text = resp.text().await.unwrap();
        let what = format!("{} {path} ({template})", method.to_uppercase());
        let op = &self.doc["paths"][template][method];
        assert!(op.is_object(), "{what} is not documented");
        if !(200..300).contains(&status) {
            self.failures.push(format!("{what}: {status} {}", text.chars().take(200).collect::<String>()));
            return Value::Null;
        }
        let answer = &op["responses"][status.to_string()];
        if !answer.is_object() {
            self.failures.push(format!("{what}: answered {status}, which is not documented"));
            return Value::Null;
        }
        if status == 204 {
            assert!(text.is_empty(), "{what}: 204 with a body");
            self.validated.insert((method.to_owned(), template.to_owned()));
            return Value::Null;
        }
        let media = content_type.split(';').next().unwrap_or("").trim().to_owned();
        let schema = &answer["content"][&media]["schema"];
        if schema.is_null() {
            self.failures.push(format!("{what}: {status} as {media}, which has no documented schema"));
            return Value::Null;
        }
        let value: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{what}: no JSON"));
        let mut errors = Vec::new();
        Validator { doc: self.doc }.check(schema, &value, "answer", &mut errors);
        if errors.is_empty() {
            self.validated.insert((method.to_owned(), template.to_owned()));
        } else {
            self.failures.push(format!("{what}: {}", errors.join("; ")));
        }
        value
    }

    async fn get(&mut self, template: &str, path: &str, token: &str) -> Value {
        self.call("get", template, path, token, None).await
    }
}

fn id(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("no id: {v}"))
}

async fn story_answers_validate(backend: Backend) {
    let app = TestApp::start_demo(backend, 40).await;
    let doc: Value = app.http.get(app.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    let nurse = app.demo_token("nurse").await;
    let mother = app.demo_token("mother").await;
    let admin = app.demo_token("admin").await;
    let mut w = Walk { app: &app, doc: &doc, validated: BTreeSet::new(), failures: Vec::new() };
    let area = app.fx.setagaya_area.id.0;
    let venue = app.fx.facility.id.0;
    let today = tsunagu_domain::clock::japan_date(app.clock.now());

    // The mother's own family: the one every family-bound call below is about.
    let me = w.get("/api/v1/me/family", "/api/v1/me/family", &mother).await;
    let family = id(&me["family"]["id"]);
    let pregnancy = id(&me["pregnancies"][0]["id"]);
    w.get("/api/v1/me/screenings", "/api/v1/me/screenings", &mother).await;

    w.get("/api/v1/areas", "/api/v1/areas", &nurse).await;
    let found = w.get("/api/v1/families", "/api/v1/families?q=", &nurse).await;
    let families: Vec<i64> = found["families"].as_array().unwrap().iter().map(|f| id(&f["family_id"])).collect();
    w.get("/api/v1/families/{id}", &format!("/api/v1/families/{family}"), &nurse).await;
    let contacts =
        w.get("/api/v1/families/{id}/contacts", &format!("/api/v1/families/{family}/contacts"), &nurse).await;
    let contact = contacts["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| ["open", "due_soon", "overdue", "missed"].contains(&c["status"].as_str().unwrap_or("")))
        .map(|c| id(&c["id"]));

    // A family with screenings, for the staff's view of results.
    let mut screening = None;
    for f in &families {
        let list = w.get("/api/v1/families/{id}/screenings", &format!("/api/v1/families/{f}/screenings"), &nurse).await;
        if let Some(s) = list["screenings"].as_array().and_then(|l| l.first()) {
            screening = Some(id(&s["id"]));
            break;
        }
    }
    let screening = screening.expect("the demo has a screening");
    w.get("/api/v1/screenings/{id}", &format!("/api/v1/screenings/{screening}"), &nurse).await;
    w.get("/api/v1/screenings/{id}/fhir", &format!("/api/v1/screenings/{screening}/fhir"), &nurse).await;
    w.get("/api/v1/questionnaires/{id}/fhir", "/api/v1/questionnaires/epds/fhir", &nurse).await;

    for list in ["overdue", "due_this_week", "missed", "check_non_attendees", "urgent"] {
        w.get("/api/v1/worklist", &format!("/api/v1/worklist?list={list}&whose=all"), &nurse).await;
    }
    w.get("/api/v1/worklist/counts", "/api/v1/worklist/counts?whose=all", &nurse).await;

    let referrals = w.get("/api/v1/referrals", "/api/v1/referrals", &nurse).await;
    let referral = id(&referrals["referrals"][0]["id"]);
    w.get("/api/v1/referrals/{id}", &format!("/api/v1/referrals/{referral}"), &nurse).await;

    w.get("/api/v1/postpartum/facilities", "/api/v1/postpartum/facilities", &nurse).await;
    let applications = w.get("/api/v1/postpartum/applications", "/api/v1/postpartum/applications", &nurse).await;
    w.get("/api/v1/postpartum/applications", "/api/v1/postpartum/applications", &mother).await;
    let application = id(&applications["applications"][0]["id"]);
    w.get("/api/v1/postpartum/applications/{id}", &format!("/api/v1/postpartum/applications/{application}"), &nurse)
        .await;
    let review = format!("/api/v1/postpartum/applications/{application}/review");
    w.get("/api/v1/postpartum/applications/{id}/review", &review, &nurse).await;
    let fy = if today.month() >= 4 { today.year() } else { today.year() - 1 };
    w.get("/api/v1/postpartum/figures", &format!("/api/v1/postpartum/figures?fy={fy}"), &admin).await;
    w.get("/api/v1/reports", &format!("/api/v1/reports?from={}&to={fy}", fy - 1), &admin).await;
    let analyst = app.demo_token("analyst").await;
    w.get("/api/v1/reports/nation", &format!("/api/v1/reports/nation?fy={fy}"), &analyst).await;
    w.get("/api/v1/reports/printed", "/api/v1/reports/printed?fy=2022", &admin).await;
    w.get("/api/v1/postpartum/followups", "/api/v1/postpartum/followups", &nurse).await;
    w.get("/api/v1/postpartum/followups", "/api/v1/postpartum/followups", &mother).await;
    w.get("/api/v1/postpartum/followups/slots", &format!("/api/v1/postpartum/followups/slots?venue={venue}"), &mother)
        .await;
    w.get("/api/v1/postpartum/talks", "/api/v1/postpartum/talks", &nurse).await;
    w.get("/api/v1/postpartum/incidents", "/api/v1/postpartum/incidents", &nurse).await;

    let month = format!("{:04}-{:02}", today.year(), today.month());
    w.get("/api/v1/handbook-meetings", &format!("/api/v1/handbook-meetings?area={area}&month={month}"), &nurse).await;
    // The due months of the next year, until one has proposed groups.
    let mut proposal = None;
    for ahead in 0..12 {
        let due = today.checked_add(jiff::Span::new().months(ahead)).unwrap();
        let due = format!("{:04}-{:02}", due.year(), due.month());
        let p = w
            .get(
                "/api/v1/group-sessions/proposals",
                &format!("/api/v1/group-sessions/proposals?due_month={due}"),
                &nurse,
            )
            .await;
        if let Some(g) = p["groups"].as_array().and_then(|g| g.first()) {
            proposal = Some((due, g.clone()));
            break;
        }
    }
    let (due, group) = proposal.expect("the demo has a proposed group");
    let members: Vec<i64> = group["members"].as_array().unwrap().iter().map(|m| id(&m["pregnancy_id"])).collect();
    let day = today.checked_add(jiff::Span::new().days(7)).unwrap().to_string();
    let session = w
        .call(
            "post",
            "/api/v1/group-sessions",
            "/api/v1/group-sessions",
            &nurse,
            Some(json!({"area_id": group["area_id"], "due_month": due, "day": day, "place": "会議室", "members": members})),
        )
        .await;
    w.get("/api/v1/group-sessions", &format!("/api/v1/group-sessions?due_month={due}"), &nurse).await;
    w.get("/api/v1/group-sessions/{id}", &format!("/api/v1/group-sessions/{}", id(&session["id"])), &nurse).await;

    // Classes (#12): the demo's sessions, the mother's offers, a booking, a roster.
    let offers = w.get("/api/v1/classes/offers", "/api/v1/classes/offers", &mother).await;
    w.get("/api/v1/classes/offers", &format!("/api/v1/classes/offers?family={family}"), &nurse).await;
    let sessions = w.get("/api/v1/classes/sessions", "/api/v1/classes/sessions", &nurse).await;
    let bookable = offers["offers"].as_array().and_then(|o| o.iter().find(|o| o["bookable"] == true).cloned());
    let booked = bookable.expect("the demo mother has a class to book");
    let body = json!({"session_id": booked["session"]["id"], "idempotency_key": "openapi"});
    w.call("post", "/api/v1/classes/bookings", "/api/v1/classes/bookings", &mother, Some(body)).await;
    w.get("/api/v1/classes/bookings", "/api/v1/classes/bookings", &mother).await;
    let s = id(&booked["session"]["id"]);
    w.get("/api/v1/classes/sessions/{id}/roster", &format!("/api/v1/classes/sessions/{s}/roster"), &nurse).await;
    assert!(sessions["sessions"].as_array().is_some_and(|l| !l.is_empty()));
    w.get("/api/v1/classes/figures", &format!("/api/v1/classes/figures?fy={fy}"), &admin).await;
    let programme = id(&sessions["sessions"][0]["programme_id"]);
    w.get(
        "/api/v1/classes/programmes/{id}/sessions",
        &format!("/api/v1/classes/programmes/{programme}/sessions"),
        &nurse,
    )
    .await;
    w.get("/api/v1/classes/programmes", "/api/v1/classes/programmes", &admin).await;
    w.get("/api/v1/classes/staff-choices", "/api/v1/classes/staff-choices", &nurse).await;
    // The demo's hall staff run their hall's sessions (#12): each of them names
    // the hall's account, whose roster of one opens (its staff in the answer).
    let m = app.fx.setagaya.id;
    let runner = app.store.account_by_username(m, "programme").await.unwrap().expect("the demo's hall staff");
    let q = tsunagu_store::SessionQuery { venues: Some(runner.venues.clone()), limit: 100, ..Default::default() };
    let ran = app.store.class_sessions(m, &q).await.unwrap();
    assert!(!ran.is_empty() && ran.iter().all(|x| x.staff_ids() == [runner.id]), "the hall's sessions are hers");
    let hall = app.demo_token("programme").await;
    let roster = w
        .get("/api/v1/classes/sessions/{id}/roster", &format!("/api/v1/classes/sessions/{}/roster", ran[0].id), &hall)
        .await;
    assert_eq!(roster["session"]["staff"][0]["account_id"].as_i64(), Some(runner.id.0), "{roster}");
    // A year's schedule from a pattern (#12 stage 3): its preview, then the sessions made.
    let pattern = json!({"fiscal_year": fy + 1, "venue_ids": [sessions["sessions"][0]["venue_id"]],
        "pattern": "monthly", "weekday": "monday", "nth": 2, "starts": "10:00"});
    for op in ["/api/v1/classes/programmes/{id}/schedule/preview", "/api/v1/classes/programmes/{id}/schedule"] {
        let path = op.replace("{id}", &programme.to_string());
        w.call("post", op, &path, &nurse, Some(pattern.clone())).await;
    }
    // Local information (#12): the mother's default view, a venue's entry with its sessions.
    w.get("/api/v1/classes/local", "/api/v1/classes/local", &mother).await;
    let dir = w.get("/api/v1/classes/local", "/api/v1/classes/local?area=all&stage=all", &nurse).await;
    let venue_entry = dir["entries"].as_array().and_then(|l| l.iter().find(|e| !e["venue_id"].is_null()).cloned());
    let pl = id(&venue_entry.expect("the demo has a hall's entry")["id"]);
    w.get("/api/v1/classes/local/{id}", &format!("/api/v1/classes/local/{pl}"), &nurse).await;

    w.get("/api/v1/accounts", "/api/v1/accounts", &admin).await;
    w.get("/api/v1/audit", "/api/v1/audit?limit=20", &admin).await;

    // Answers to POSTs whose valid body is easy to make.
    w.call(
        "post",
        "/api/v1/postpartum/quote",
        "/api/v1/postpartum/quote",
        "",
        Some(json!({"bracket": "taxed", "service": "short_stay", "days": 3, "babies": 1, "siblings": 0})),
    )
    .await;
    let first_day = today.checked_add(jiff::Span::new().days(10)).unwrap().to_string();
    w.call(
        "post",
        "/api/v1/postpartum/applications/preview",
        "/api/v1/postpartum/applications/preview",
        &nurse,
        Some(json!({"family_id": family, "venue_id": venue, "service": "day_care", "first_day": first_day, "days": 1,
                    "babies": 1, "siblings": 0})),
    )
    .await;
    w.call(
        "post",
        "/api/v1/referrals",
        "/api/v1/referrals",
        &nurse,
        Some(json!({"family_id": family, "pregnancy_id": pregnancy, "note": "気になる様子"})),
    )
    .await;
    w.call(
        "post",
        "/api/v1/families",
        "/api/v1/families",
        &nurse,
        Some(notification(
            app.fx.setagaya_area.id,
            "てすと",
            "はなこ",
            &today.checked_add(jiff::Span::new().days(200)).unwrap().to_string(),
        )),
    )
    .await;
    w.call(
        "post",
        "/api/v1/accounts",
        "/api/v1/accounts",
        &admin,
        Some(
            json!({"username": "schema", "display_name": "S", "role": "nurse", "password": "a long enough passphrase",
                    "areas": [area]}),
        ),
    )
    .await;
    if let Some(c) = contact {
        w.call(
            "post",
            "/api/v1/contacts/{id}/outcome",
            &format!("/api/v1/contacts/{c}/outcome"),
            &nurse,
            Some(json!({"outcome": "not_reached"})),
        )
        .await;
    }
    // The peer-support chat: a supporter's rooms and messages, a post, the operator's views.
    let supporter = app.demo_token("supporter").await;
    let rooms = w.get("/api/v1/chat/rooms", "/api/v1/chat/rooms", &supporter).await;
    let room = id(&rooms["rooms"][0]["id"]);
    let messages = "/api/v1/chat/rooms/{id}/messages";
    w.get(messages, &format!("/api/v1/chat/rooms/{room}/messages"), &supporter).await;
    w.call(
        "post",
        messages,
        &format!("/api/v1/chat/rooms/{room}/messages"),
        &supporter,
        Some(json!({"client_id": "openapi-1", "body": "こんにちは"})),
    )
    .await;
    w.call(
        "post",
        "/api/v1/chat/rooms/{id}/escalations",
        &format!("/api/v1/chat/rooms/{room}/escalations"),
        &supporter,
        Some(json!({"note": "心配です", "message_seq": 1})),
    )
    .await;
    w.get("/api/v1/chat/escalations", "/api/v1/chat/escalations", &supporter).await;
    w.get("/api/v1/chat/help-lines", "/api/v1/chat/help-lines", &supporter).await;
    w.get("/api/v1/chat/supporters", "/api/v1/chat/supporters", &admin).await;
    w.get("/api/v1/chat/teams/suggestions", "/api/v1/chat/teams/suggestions", &admin).await;
    w.get("/api/v1/chat/health", "/api/v1/chat/health", &admin).await;
    w.call("post", "/api/v1/chat/invitations", "/api/v1/chat/invitations", &nurse, Some(json!({"family_id": family})))
        .await;

    let token = app
        .http
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"municipality": "131121", "username": "mother", "password": tsunagu_demo::demo_accounts()
            .into_iter().find(|a| a.username == "mother").unwrap().password}))
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200);
    let token: Value = token.json().await.unwrap();
    let mut errors = Vec::new();
    Validator { doc: &doc }.check(
        &doc["paths"]["/api/v1/auth/token"]["post"]["responses"]["200"]["content"]["application/json"]["schema"],
        &token,
        "token",
        &mut errors,
    );
    assert!(errors.is_empty(), "{errors:?}");
    w.validated.insert(("post".into(), "/api/v1/auth/token".into()));

    let failures = std::mem::take(&mut w.failures);
    assert!(failures.is_empty(), "answers that do not fit the document:\n{}", failures.join("\n"));
    // Every documented GET was called and its answer checked.
    let gets: BTreeSet<_> = documented_operations(&doc).into_iter().filter(|(m, _)| m == "get").collect();
    let missing: Vec<_> = gets.difference(&w.validated).collect();
    assert!(missing.is_empty(), "GET operations not checked: {missing:?}");
}

on_both!(
    answers_validate => story_answers_validate,
);
