//! Page flows over plain HTTP: sessions, cookies, CSRF, second factor.

use crate::support::*;
use jiff::SignedDuration;
use std::collections::HashMap;
use tsunagu_domain::roles::Role;
use tsunagu_web::WebConfig;

/// A browser in miniature: keeps cookies, follows nothing by itself.
pub(crate) struct Visitor<'a> {
    app: &'a TestApp,
    pub(crate) cookies: HashMap<String, String>,
    /// Every Set-Cookie header seen, as sent.
    set_cookies: Vec<String>,
}

pub(crate) struct Page {
    pub(crate) status: u16,
    pub(crate) location: Option<String>,
    pub(crate) body: String,
}

impl<'a> Visitor<'a> {
    pub(crate) fn new(app: &'a TestApp) -> Self {
        Self { app, cookies: HashMap::new(), set_cookies: vec![] }
    }

    pub(crate) fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn finish(&mut self, resp: reqwest::Response) -> Page {
        for v in resp.headers().get_all("set-cookie") {
            let s = v.to_str().unwrap().to_owned();
            let (kv, _) = s.split_once(';').unwrap_or((&s, ""));
            let (k, v) = kv.split_once('=').unwrap();
            if s.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
            self.set_cookies.push(s);
        }
        let status = resp.status().as_u16();
        let location = resp.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
        Page { status, location, body: resp.text().await.unwrap() }
    }

    pub(crate) async fn get(&mut self, path: &str) -> Page {
        let resp = self.app.http.get(self.app.url(path)).header("cookie", self.cookie_header()).send().await.unwrap();
        self.finish(resp).await
    }

    pub(crate) async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let resp = self
            .app
            .http
            .post(self.app.url(path))
            .header("cookie", self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.finish(resp).await
    }

    pub(crate) fn csrf_in(body: &str) -> String {
        let at = body.find("name=\"_csrf\" value=\"").expect("a form with a CSRF token") + 20;
        body[at..at + 64].to_owned()
    }

    /// Signs in through the pages; returns the page after the last step.
    pub(crate) async fn sign_in(&mut self, username: &str, second_factor: Option<String>) -> Page {
        let page = self.get("/signin").await;
        let csrf = Self::csrf_in(&page.body);
        let p = self
            .post(
                "/signin",
                &[("_csrf", &csrf), ("municipality", "131121"), ("username", username), ("password", PASSWORD)],
            )
            .await;
        match second_factor {
            None => p,
            Some(code) => {
                assert_eq!(p.location.as_deref(), Some("/signin/totp"), "{}", p.body);
                let page = self.get("/signin/totp").await;
                let csrf = Self::csrf_in(&page.body);
                self.post("/signin/totp", &[("_csrf", &csrf), ("code", &code)]).await
            }
        }
    }
}

async fn story_sessions_cookies_and_csrf(backend: Backend) {
    let app = TestApp::start_with(backend, WebConfig { secure_cookies: true, ..WebConfig::default() }).await;
    let fx = &app.fx;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let mut v = Visitor::new(&app);
    // Without the pre-sign-in CSRF cookie the form is refused.
    let r = app
        .http
        .post(app.url("/signin"))
        .form(&[
            ("_csrf", "0".repeat(64).as_str()),
            ("municipality", "131121"),
            ("username", "nurse"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let done = v.sign_in("nurse", Some(app.next_totp())).await;
    assert_eq!(done.status, 303);
    let first = v.cookies["tsunagu_session"].clone();
    let session_cookies: Vec<&String> = v.set_cookies.iter().filter(|c| c.starts_with("tsunagu_session=")).collect();
    assert!(session_cookies
        .iter()
        .all(|c| c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Secure")));
    // The second factor gave a new token: the half-signed-in one is gone.
    assert_eq!(session_cookies.len(), 2);
    assert_ne!(session_cookies[0], session_cookies[1]);
    assert_eq!(v.get("/families").await.status, 200);
    // A form without its token changes nothing.
    let page = v.get("/families/new").await;
    let csrf = Visitor::csrf_in(&page.body);
    let r = v.post("/families/new", &[("_csrf", "wrong"), ("edd", "2027-05-01")]).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("フォームの有効期限が切れました"));
    // Validation errors come back next to the fields, in Japanese, nothing saved.
    let r = v
        .post(
            "/families/new",
            &[
                ("_csrf", &csrf),
                ("mother.family_name", "山田"),
                ("mother.given_name", "花子"),
                ("mother.family_name_kana", "山田"),
                ("mother.given_name_kana", "はなこ"),
                ("edd", "2027-02-30"),
                ("foetuses", "1"),
                ("area_id", &fx.setagaya_area.id.0.to_string()),
                ("fee_bracket", "taxed"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("id=\"err-mother-family_name_kana\">ひらがな又はカタカナで入力してください"));
    assert!(r.body.contains("id=\"err-edd\">日付を YYYY-MM-DD の形で正しく入力してください"));
    assert!(r.body.contains("value=\"花子\""), "what was typed is kept");
    assert!(app.store.audit_lines(fx.setagaya.id, 0, 100).await.unwrap().iter().all(|l| l.action != "family.create"));
    // Idle for 31 minutes: signed out.
    app.clock.advance(SignedDuration::from_secs(31 * 60));
    let r = v.get("/families").await;
    assert_eq!(r.location.as_deref(), Some("/signin"));
    assert!(crate::support::stored_session(&app, &first).await.is_none());
    // Active all day: still signed out after 12 hours.
    let mut v = Visitor::new(&app);
    v.sign_in("nurse", Some(app.next_totp())).await;
    let mut minutes = 0;
    while v.get("/families").await.status == 200 && minutes < 24 * 60 {
        app.clock.advance(SignedDuration::from_secs(20 * 60));
        minutes += 20;
    }
    assert_eq!(minutes, 12 * 60 + 20, "ends on the first request after 12 hours");
    assert_eq!(v.get("/families").await.location.as_deref(), Some("/signin"));
    // Signing out ends the session on the server.
    let mut v = Visitor::new(&app);
    v.sign_in("nurse", Some(app.next_totp())).await;
    let token = v.cookies["tsunagu_session"].clone();
    let page = v.get("/families").await;
    let csrf = Visitor::csrf_in(&page.body);
    v.post("/signout", &[("_csrf", &csrf)]).await;
    assert!(crate::support::stored_session(&app, &token).await.is_none());
}

async fn story_second_factor_enrolment_and_replay(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    app.account(&fx.setagaya, "admin", Role::Admin, Scope::None).await;
    let admin = app.token(&fx.setagaya, "admin").await;
    let (s, _) = app
        .post(&admin, "/api/v1/accounts", &serde_json::json!({"username": "newnurse", "display_name": "新人 保健師", "role": "nurse", "password": PASSWORD}))
        .await;
    assert_eq!(s, 201);
    let mut v = Visitor::new(&app);
    let page = v.get("/signin").await;
    let csrf = Visitor::csrf_in(&page.body);
    let r = v
        .post(
            "/signin",
            &[("_csrf", &csrf), ("municipality", "131121"), ("username", "newnurse"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.location.as_deref(), Some("/signin/enrol"));
    // Half signed in: nothing but the second factor is open.
    assert_eq!(v.get("/families").await.location.as_deref(), Some("/signin"));
    let page = v.get("/signin/enrol").await;
    let at = page.body.find("id=\"totp-secret\">").unwrap() + 17;
    let secret: String = page.body[at..].chars().take_while(|c| *c != '<').collect();
    let csrf = Visitor::csrf_in(&page.body);
    let r = v.post("/signin/enrol", &[("_csrf", &csrf), ("secret", &secret), ("code", "000000")]).await;
    assert_eq!(r.status, 400);
    app.clock.advance(SignedDuration::from_secs(30));
    let code =
        tsunagu_web::base::auth::current_totp(&secret, tsunagu_domain::clock::Clock::now(app.clock.as_ref())).unwrap();
    let r = v.post("/signin/enrol", &[("_csrf", &csrf), ("secret", &secret), ("code", &code)]).await;
    assert_eq!(r.location.as_deref(), Some("/"));
    assert_eq!(v.get("/families").await.status, 200);
    // The same code cannot be used again, even within its 30 seconds.
    let mut again = Visitor::new(&app);
    let page = again.get("/signin").await;
    let csrf = Visitor::csrf_in(&page.body);
    again
        .post(
            "/signin",
            &[("_csrf", &csrf), ("municipality", "131121"), ("username", "newnurse"), ("password", PASSWORD)],
        )
        .await;
    let page = again.get("/signin/totp").await;
    let csrf = Visitor::csrf_in(&page.body);
    let r = again.post("/signin/totp", &[("_csrf", &csrf), ("code", &code)]).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("確認コードが違います"));
    // The administrator resets the second factor: sessions end, enrolment starts over.
    let (_, list) = app.get(&admin, "/api/v1/accounts").await;
    let id = list["accounts"].as_array().unwrap().iter().find(|a| a["username"] == "newnurse").unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(app.post(&admin, &format!("/api/v1/accounts/{id}/totp-reset"), &serde_json::json!({})).await.0, 204);
    assert_eq!(v.get("/families").await.location.as_deref(), Some("/signin"));
    // And the administrator's audit page shows what was done, newest first.
    let mut a = Visitor::new(&app);
    a.sign_in("admin", Some(app.next_totp())).await;
    let page = a.get("/admin/audit").await;
    assert_eq!(page.status, 200);
    let table = &page.body[page.body.find("id=\"audit-lines\"").unwrap()..];
    // Each action by its label, its code beside it (#10).
    let reset = table.find("<td class=\"action\">二段階認証の再設定<br><span class=\"muted small action-code\">account.totp_reset</span>").unwrap();
    let create = table
        .find("<td class=\"action\">アカウントの作成<br><span class=\"muted small action-code\">account.create</span>")
        .unwrap();
    assert!(reset < create, "newest first");
}

/// A coordinator's pages: the happy-baby contact reached from her work list
/// (it is not due this week, so only on "all open") and recorded in one of
/// its three forms; the handbook list shows consenting families only.
async fn story_coordinator_reaches_happy_baby_and_the_handbook_list(backend: Backend) {
    use serde_json::json;
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    let area = fx.setagaya_area.id;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    app.account(&fx.setagaya, "coord", Role::Coordinator, Scope::Areas(vec![area])).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    // A baby born 1 September: the happy-baby contact is open until 31 December.
    let mut body = notification(area, "はっぴー", "はな", "2026-09-05");
    body["notified_on"] = json!("2026-03-01");
    let baby_family = app.register(&nurse, &body).await;
    let (_, rec) = app.get(&nurse, &format!("/api/v1/families/{}", baby_family.0)).await;
    let p = rec["pregnancies"][0]["id"].as_i64().unwrap();
    let baby = json!({"babies": [{"birth_date": "2026-09-01", "sex": "male", "gestational_weeks": 39}]});
    app.post(&nurse, &format!("/api/v1/families/{}/pregnancies/{p}/births", baby_family.0), &baby).await;
    // October's handbooks: one consenting, one not.
    let mut made = vec![];
    for (kana, consent) in [("しょうだく", true), ("ふどうい", false)] {
        let mut body = notification(area, kana, "はな", "2027-05-01");
        body["notified_on"] = json!("2026-10-10");
        body["consent_coordinators"] = json!(consent);
        made.push(app.register(&nurse, &body).await);
    }

    let mut v = Visitor::new(&app);
    v.sign_in("coord", Some(app.next_totp())).await;
    let page = v.get("/worklist").await;
    assert_eq!(page.status, 200);
    for id in ["id=\"tab-open\"", "id=\"link-handbook\"", "id=\"link-groups\""] {
        assert!(page.body.contains(id), "{id}");
    }
    // No chip has work, so the list opens on every open contact (#10), where
    // the happy-baby contact is; it is not due this week, not overdue.
    assert!(page.body.contains("id=\"tab-open\" class=\"current\""), "opens on the open list");
    assert!(page.body.contains("data-kind=\"happy_baby\""));
    let overdue = v.get("/worklist?list=overdue").await;
    assert!(!overdue.body.contains("data-kind=\"happy_baby\""), "not due this week, not overdue");
    let page = v.get("/worklist?list=open").await;
    let at = page.body.find("data-kind=\"happy_baby\"").expect("the happy-baby contact on the open list");
    let href_at = page.body[at..].find("href=\"/contacts/").unwrap() + at + 6;
    let href: String = page.body[href_at..].chars().take_while(|c| *c != '"').collect();
    let href = href.replace("&amp;", "&");
    let contact = v.get(&href).await;
    assert_eq!(contact.status, 200, "{href}");
    for form in ["home_visit", "support_room_visit", "at_health_check"] {
        assert!(contact.body.contains(&format!("id=\"form-{form}\"")), "{form}");
    }
    let id: String = href["/contacts/".len()..].chars().take_while(char::is_ascii_digit).collect();
    let csrf = Visitor::csrf_in(&contact.body);
    let r = v
        .post(
            &format!("/contacts/{id}"),
            &[("_csrf", &csrf), ("outcome", "done"), ("form", "home_visit"), ("back", "/worklist?list=open")],
        )
        .await;
    assert_eq!(r.location.as_deref(), Some("/worklist?list=open&done=outcome"));
    let (_, c) = app.get(&nurse, &format!("/api/v1/families/{}/contacts", baby_family.0)).await;
    let happy = c["contacts"].as_array().unwrap().iter().find(|c| c["kind"] == "happy_baby").unwrap().clone();
    assert_eq!((happy["status"].as_str(), happy["outcome"]["form"].as_str()), (Some("done"), Some("home_visit")));

    // The handbook list: consenting families only, and no meeting form.
    let page = v.get(&format!("/handbook-meetings?area={}&month=2026-10", area.0)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&format!("data-family=\"{}\"", made[0].0)));
    assert!(!page.body.contains(&format!("data-family=\"{}\"", made[1].0)));
    assert!(!page.body.contains("id=\"meeting-form\""));
    assert_eq!(v.get(&format!("/handbook-meetings?area={}&month=2026-10", fx.kitazawa_area.id.0)).await.status, 403);
    let page = v.get("/group-sessions?due_month=2027-01").await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("class=\"card proposal\""), "proposals are the nurse's");
}

on_both!(
    sessions_cookies_and_csrf => story_sessions_cookies_and_csrf,
    second_factor_enrolment_and_replay => story_second_factor_enrolment_and_replay,
    coordinator_reaches_happy_baby => story_coordinator_reaches_happy_baby_and_the_handbook_list,
);
