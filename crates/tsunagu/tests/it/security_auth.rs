//! Security issue #8, sign-in: the second factor cannot be guessed, its
//! enrolment keeps the secret on the server, sign-in limits hold under
//! concurrency, password hashing cannot exhaust memory, and signing out
//! ends the session on the server. Each story is an attack over HTTP.

use crate::pages::Visitor;
use crate::support::*;
use jiff::SignedDuration;
use serde_json::{json, Value};
use tsunagu_domain::clock::Clock;
use tsunagu_domain::roles::Role;
use tsunagu_web::WebConfig;

/// A six-digit code that is none of the codes accepted now (one step of drift either way).
fn wrong_code(app: &TestApp) -> String {
    let secret = tsunagu_web::base::auth::base32_decode(TOTP_SECRET).unwrap();
    let step = tsunagu_web::base::auth::totp_step(app.clock.now());
    let accepted: Vec<String> = (step - 1..=step + 1).map(|s| tsunagu_web::base::auth::totp_code(&secret, s)).collect();
    (0..10u32).map(|d| d.to_string().repeat(6)).find(|c| !accepted.contains(c)).unwrap()
}

/// The password step of the sign-in form; returns the answer.
async fn password_step(v: &mut Visitor<'_>, username: &str, password: &str) -> crate::pages::Page {
    let page = v.get("/signin").await;
    let csrf = Visitor::csrf_in(&page.body);
    v.post("/signin", &[("_csrf", &csrf), ("municipality", "131121"), ("username", username), ("password", password)])
        .await
}

/// Types a code on the half-signed-in session's second-factor page.
async fn code_step(v: &mut Visitor<'_>, code: &str) -> crate::pages::Page {
    let page = v.get("/signin/totp").await;
    assert_eq!(page.status, 200, "the second-factor page: {:?}", page.location);
    let csrf = Visitor::csrf_in(&page.body);
    v.post("/signin/totp", &[("_csrf", &csrf), ("code", code)]).await
}

async fn token_request(app: &TestApp, username: &str, password: &str, otp: Option<&str>) -> reqwest::Response {
    let mut body = json!({"municipality": "131121", "username": username, "password": password});
    if let Some(otp) = otp {
        body["otp"] = json!(otp);
    }
    app.http.post(app.url("/api/v1/auth/token")).json(&body).send().await.unwrap()
}

fn retry_after(resp: &reqwest::Response) -> u64 {
    resp.headers()
        .get("retry-after")
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in seconds")
}

/// Wrong codes lock the account's second factor, and a correct password in
/// between does not clear the count: 4 wrong codes, the password again, one
/// more wrong code, and then even the right code is refused — on the page
/// with words that say so, and at the password step too — until the window
/// has passed.
async fn story_wrong_codes_lock_the_second_factor(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.account(&app.fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let mut v = Visitor::new(&app);
    assert_eq!(password_step(&mut v, "nurse", PASSWORD).await.location.as_deref(), Some("/signin/totp"));
    for _ in 0..4 {
        let r = code_step(&mut v, &wrong_code(&app)).await;
        assert_eq!(r.status, 400);
        assert!(r.body.contains("確認コードが違います"));
    }
    // The right password again: the four wrong codes still count.
    let mut v = Visitor::new(&app);
    assert_eq!(password_step(&mut v, "nurse", PASSWORD).await.location.as_deref(), Some("/signin/totp"));
    assert_eq!(code_step(&mut v, &wrong_code(&app)).await.status, 400);
    // Locked: the right code is refused, and the page says why.
    let r = code_step(&mut v, &app.next_totp()).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.body.contains("確認コードの誤りが続いたため"), "{}", r.body);
    assert!(v.get("/families").await.location.as_deref() == Some("/signin"), "not signed in");
    // A new sign-in is refused at the password step while the lock lasts.
    let mut w = Visitor::new(&app);
    let r = password_step(&mut w, "nurse", PASSWORD).await;
    assert_eq!(r.status, 429);
    assert!(r.body.contains("試行回数が多すぎます"), "{}", r.body);
    // After the window the account signs in again.
    app.clock.advance(SignedDuration::from_secs(16 * 60));
    let mut w = Visitor::new(&app);
    assert_eq!(password_step(&mut w, "nurse", PASSWORD).await.location.as_deref(), Some("/signin/totp"));
    assert_eq!(code_step(&mut w, &app.next_totp()).await.location.as_deref(), Some("/"));
}

/// The token endpoint: the right password with wrong codes locks too, and
/// then the right code gets 429 `too_many_attempts` with `Retry-After`.
async fn story_api_wrong_codes_lock_the_second_factor(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.account(&app.fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    for _ in 0..5 {
        let code = wrong_code(&app);
        let r = token_request(&app, "nurse", PASSWORD, Some(&code)).await;
        assert_eq!(r.status(), 400);
        assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "invalid_otp");
    }
    let code = app.next_totp();
    let r = token_request(&app, "nurse", PASSWORD, Some(&code)).await;
    assert_eq!(r.status(), 429);
    let wait = retry_after(&r);
    assert!((1..=15 * 60).contains(&wait), "Retry-After {wait}");
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "too_many_attempts");
    app.clock.advance(SignedDuration::from_secs(16 * 60));
    let code = app.next_totp();
    assert_eq!(token_request(&app, "nurse", PASSWORD, Some(&code)).await.status(), 200);
}

/// A half-signed-in session takes five codes: after five wrong ones it is
/// ended (even with the account's own limit set far higher), the page says
/// so, and its cookie no longer opens the second-factor page nor accepts
/// the right code. A new sign-in works.
async fn story_half_signed_in_session_takes_five_codes(backend: Backend) {
    let config =
        WebConfig { max_failed_signins_per_user: 1000, max_failed_signins_per_addr: 1000, ..WebConfig::default() };
    let app = TestApp::start_with(backend, config).await;
    app.account(&app.fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let mut v = Visitor::new(&app);
    password_step(&mut v, "nurse", PASSWORD).await;
    let half = v.cookies["tsunagu_session"].clone();
    for _ in 0..4 {
        assert_eq!(code_step(&mut v, &wrong_code(&app)).await.status, 400);
    }
    let r = code_step(&mut v, &wrong_code(&app)).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.body.contains("もう一度パスワードから"), "{}", r.body);
    assert!(!v.cookies.contains_key("tsunagu_session"), "the cookie is cleared");
    assert!(crate::support::stored_session(&app, &half).await.is_none());
    // The old cookie is worth nothing now, even with the right code.
    v.cookies.insert("tsunagu_session".into(), half.clone());
    assert_eq!(v.get("/signin/totp").await.location.as_deref(), Some("/signin"));
    let r = v.post("/signin/totp", &[("_csrf", "x"), ("code", &app.next_totp())]).await;
    assert_ne!(r.location.as_deref(), Some("/"));
    assert_eq!(v.get("/families").await.location.as_deref(), Some("/signin"));
    // Starting over from the password works.
    let mut w = Visitor::new(&app);
    password_step(&mut w, "nurse", PASSWORD).await;
    assert_eq!(code_step(&mut w, &app.next_totp()).await.location.as_deref(), Some("/"));
}

/// Creates a nurse without a second factor through the administrator's API.
async fn new_nurse(app: &TestApp, admin: &str, username: &str) {
    let (s, v) = app
        .post(
            admin,
            "/api/v1/accounts",
            &json!({"username": username, "display_name": "新人 保健師", "role": "nurse", "password": PASSWORD}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
}

fn shown_secret(body: &str) -> String {
    let at = body.find("id=\"totp-secret\">").expect("the secret on the page") + 17;
    body[at..].chars().take_while(|c| *c != '<').collect()
}

/// Enrolment: the secret is made and kept by the server. A secret the
/// client sends (all zero) is never stored, the page shows the same secret
/// on every visit, the code of the shown secret enrols it, and wrong codes
/// end the half-signed-in session as on the second-factor page.
async fn story_enrolment_keeps_the_secret_on_the_server(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    app.account(&fx.setagaya, "admin", Role::Admin, Scope::None).await;
    let admin = app.token(&fx.setagaya, "admin").await;
    new_nurse(&app, &admin, "newnurse").await;
    let mut v = Visitor::new(&app);
    assert_eq!(password_step(&mut v, "newnurse", PASSWORD).await.location.as_deref(), Some("/signin/enrol"));
    let page = v.get("/signin/enrol").await;
    let secret = shown_secret(&page.body);
    // An attacker's own secret and its code: refused, nothing stored.
    let zero = "A".repeat(32);
    app.clock.advance(SignedDuration::from_secs(30));
    let zero_code = tsunagu_web::base::auth::current_totp(&zero, app.clock.now()).unwrap();
    let csrf = Visitor::csrf_in(&page.body);
    let r = v.post("/signin/enrol", &[("_csrf", &csrf), ("secret", &zero), ("code", &zero_code)]).await;
    assert_eq!(r.status, 400);
    let stored = app.store.account_by_username(fx.setagaya.id, "newnurse").await.unwrap().unwrap();
    assert!(stored.totp_secret.is_none(), "no secret was stored");
    assert_eq!(v.get("/families").await.location.as_deref(), Some("/signin"));
    assert!(tsunagu_web::base::auth::base32_decode(&secret).is_some_and(|b| b.len() >= 16));
    assert!(!page.body.contains("name=\"secret\""), "the secret does not travel back in the form");
    assert_eq!(shown_secret(&v.get("/signin/enrol").await.body), secret, "the same secret until enrolled");
    // The shown secret's code enrols it.
    app.clock.advance(SignedDuration::from_secs(30));
    let code = tsunagu_web::base::auth::current_totp(&secret, app.clock.now()).unwrap();
    let r = v.post("/signin/enrol", &[("_csrf", &csrf), ("code", &code)]).await;
    assert_eq!(r.location.as_deref(), Some("/"), "{}", r.body);
    let stored = app.store.account_by_username(fx.setagaya.id, "newnurse").await.unwrap().unwrap();
    assert_eq!(stored.totp_secret.as_ref().map(|s| s.expose().to_owned()), Some(secret));
    assert_eq!(v.get("/families").await.status, 200);

    // Guessing at enrolment is limited too.
    new_nurse(&app, &admin, "newnurse2").await;
    let mut v = Visitor::new(&app);
    assert_eq!(password_step(&mut v, "newnurse2", PASSWORD).await.location.as_deref(), Some("/signin/enrol"));
    let page = v.get("/signin/enrol").await;
    let secret = shown_secret(&page.body);
    let csrf = Visitor::csrf_in(&page.body);
    let mut last = None;
    for _ in 0..5 {
        let now = app.clock.now();
        let good: Vec<String> = (-1..=1)
            .map(|d| tsunagu_web::base::auth::current_totp(&secret, now + SignedDuration::from_secs(30 * d)).unwrap())
            .collect();
        let wrong = (0..10u32).map(|d| d.to_string().repeat(6)).find(|c| !good.contains(c)).unwrap();
        last = Some(v.post("/signin/enrol", &[("_csrf", &csrf), ("code", &wrong)]).await);
    }
    let last = last.unwrap();
    assert_eq!(last.status, 429, "{}", last.body);
    assert_eq!(v.get("/signin/enrol").await.location.as_deref(), Some("/signin"), "the half session ended");
}

/// Forty wrong passwords for one account at once: at most the limit (5)
/// are evaluated, the rest are refused with 429 before any hashing.
async fn story_concurrent_wrong_passwords_hold_the_limit(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.account(&app.fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let body = json!({"municipality": "131121", "username": "nurse", "password": "not the password at all"});
    let sends = (0..40).map(|_| {
        let (http, url, body) = (app.http.clone(), app.url("/api/v1/auth/token"), body.clone());
        tokio::spawn(async move { http.post(url).json(&body).send().await.map(|r| r.status().as_u16()) })
    });
    let mut statuses = vec![];
    for s in sends.collect::<Vec<_>>() {
        statuses.push(s.await.unwrap().expect("every request is answered"));
    }
    let count = |code: u16| statuses.iter().filter(|s| **s == code).count();
    let (evaluated, refused, busy) = (count(401), count(429), count(503));
    assert_eq!(evaluated + refused + busy, 40, "{statuses:?}");
    assert!((1..=5).contains(&evaluated), "{evaluated} wrong passwords were evaluated: {statuses:?}");
    assert!(refused >= 35, "{statuses:?}");
    // And the account is locked now, the right password included.
    let code = app.next_totp();
    assert_eq!(token_request(&app, "nurse", PASSWORD, Some(&code)).await.status(), 429);
}

/// Signing out ends the session on the server even when the form's CSRF
/// token is wrong: the old cookie opens nothing afterwards.
async fn story_signout_ends_the_session_whatever_the_token(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.account(&app.fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let mut v = Visitor::new(&app);
    v.sign_in("nurse", Some(app.next_totp())).await;
    let token = v.cookies["tsunagu_session"].clone();
    assert_eq!(v.get("/families").await.status, 200);
    let r = v.post("/signout", &[("_csrf", "wrong")]).await;
    assert_eq!(r.location.as_deref(), Some("/signin"));
    assert!(crate::support::stored_session(&app, &token).await.is_none());
    v.cookies.insert("tsunagu_session".into(), token);
    assert_eq!(v.get("/families").await.location.as_deref(), Some("/signin"));
}

/// The service cannot hash now (no turn within the wait): the sign-in
/// form and the token endpoint answer 503 with `Retry-After`, nothing is
/// counted against the account, and a sign-in works once it can hash again.
async fn story_no_turn_to_hash_is_a_503(backend: Backend) {
    let busy =
        WebConfig { hash_concurrency: 0, hash_wait: std::time::Duration::from_millis(50), ..WebConfig::default() };
    let app = TestApp::start_with(backend, busy).await;
    app.account(&app.fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let mut v = Visitor::new(&app);
    for _ in 0..6 {
        let page = v.get("/signin").await;
        let csrf = Visitor::csrf_in(&page.body);
        let resp = app
            .http
            .post(app.url("/signin"))
            .header("cookie", format!("tsunagu_csrf={csrf}"))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("municipality", "131121"),
                ("username", "nurse"),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 503);
        assert!(retry_after(&resp) >= 1);
        assert!(resp.text().await.unwrap().contains("ただいま混み合っています"));
    }
    let r = token_request(&app, "nurse", "wrong", None).await;
    assert_eq!(r.status(), 503);
    assert!(retry_after(&r) >= 1);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "busy");
}

/// The store's reservations, directly: forty at once for one account give
/// exactly the limit; a right password alone clears nothing, a full sign-in
/// does; an attempt never checked is forgotten; the address has its own
/// limit; a half-signed-in session takes its codes and then ends; the
/// enrolment secret is kept once made.
async fn story_store_reservations(backend: Backend) {
    use std::sync::Arc;
    use tsunagu_store::{CodeSession, SigninOutcome, SigninRequest, SigninReservation, Store};
    let app = TestApp::start(backend).await;
    let store: Arc<dyn Store> = app.store.clone();
    let now = app.clock.now();
    let req = |user: &str, addr: &str| SigninRequest {
        municipality_code: "131121".into(),
        username: user.into(),
        remote_addr: addr.into(),
        at: now,
        window: SignedDuration::from_mins(15),
        max_failures_per_user: 5,
        max_failures_per_addr: 8,
        session: None,
    };
    let granted = |r: SigninReservation| match r {
        SigninReservation::Granted { id, .. } => id,
        other => panic!("expected a grant, got {other:?}"),
    };
    // Forty at once: five granted (each counted as a failure until settled).
    let tries: Vec<_> = (0..40)
        .map(|i| {
            let (store, r) = (store.clone(), req("hanako", &format!("192.0.2.{}", i % 10)));
            tokio::spawn(async move { store.reserve_signin_attempt(&r).await.unwrap() })
        })
        .collect();
    let mut ids = vec![];
    for t in tries {
        match t.await.unwrap() {
            SigninReservation::Granted { id, codes_left: None } => ids.push(id),
            SigninReservation::Locked { until } => assert_eq!(until, now + SignedDuration::from_mins(15)),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(ids.len(), 5);
    // A right password clears nothing; one never checked is forgotten.
    store.settle_signin_attempt(ids[0], SigninOutcome::PasswordAccepted).await.unwrap();
    store.settle_signin_attempt(ids[1], SigninOutcome::NotChecked).await.unwrap();
    let again = granted(store.reserve_signin_attempt(&req("hanako", "198.51.100.1")).await.unwrap());
    let third = granted(store.reserve_signin_attempt(&req("hanako", "198.51.100.1")).await.unwrap());
    assert!(matches!(
        store.reserve_signin_attempt(&req("hanako", "198.51.100.1")).await.unwrap(),
        SigninReservation::Locked { .. }
    ));
    // Another municipality's hanako is another account.
    let mut other = req("hanako", "198.51.100.1");
    other.municipality_code = "082350".into();
    granted(store.reserve_signin_attempt(&other).await.unwrap());
    // A full sign-in starts the count again.
    store.settle_signin_attempt(third, SigninOutcome::SignedIn).await.unwrap();
    store.settle_signin_attempt(again, SigninOutcome::Failed).await.unwrap();
    granted(store.reserve_signin_attempt(&req("hanako", "198.51.100.1")).await.unwrap());
    // The address limit (8) counts every user's failures from it.
    for i in 0..8 {
        granted(store.reserve_signin_attempt(&req(&format!("user{i}"), "203.0.113.9")).await.unwrap());
    }
    let r = store.reserve_signin_attempt(&req("taro", "203.0.113.9")).await.unwrap();
    assert!(matches!(r, SigninReservation::Locked { .. }), "{r:?}");
    granted(store.reserve_signin_attempt(&req("taro", "203.0.113.10")).await.unwrap());
    // A half-signed-in session takes its codes, then ends.
    let account = app.account(&app.fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let m = app.fx.setagaya.id;
    let session = tsunagu_store::Session {
        municipality_id: m,
        token_hash: tsunagu_store::token_hash("half"),
        account_id: account,
        stage: tsunagu_store::SessionStage::SecondFactor,
        csrf_token: tsunagu_store::Secret::new("csrf"),
        created_at: now,
        last_seen_at: now,
    };
    store.create_session(&session).await.unwrap();
    let mut code = req("nurse", "192.0.2.200");
    code.session = Some(CodeSession { municipality_id: m, token_hash: session.token_hash.clone(), max_codes: 2 });
    assert!(matches!(
        store.reserve_signin_attempt(&code).await.unwrap(),
        SigninReservation::Granted { codes_left: Some(1), .. }
    ));
    assert!(matches!(
        store.reserve_signin_attempt(&code).await.unwrap(),
        SigninReservation::Granted { codes_left: Some(0), .. }
    ));
    assert_eq!(store.reserve_signin_attempt(&code).await.unwrap(), SigninReservation::SessionEnded);
    assert!(store.session(m, &session.token_hash).await.unwrap().is_none());
    assert_eq!(store.reserve_signin_attempt(&code).await.unwrap(), SigninReservation::SessionEnded);
    // The enrolment secret: kept once made, only on a half-signed-in session.
    let half = tsunagu_store::Session { token_hash: tsunagu_store::token_hash("half2"), ..session.clone() };
    store.create_session(&half).await.unwrap();
    let first = tsunagu_store::Secret::new("FIRSTSECRETFIRSTSECRET");
    let kept = store.pending_totp_secret(m, &half.token_hash, &first).await.unwrap().unwrap();
    assert_eq!(kept, first);
    // Sealed at rest like an enrolled secret: the column never holds it in plain.
    let raw_db = crate::store_support::TestDb { backend, url: app.db_url.clone() };
    let raw: String = crate::store_support::scalar(
        &raw_db,
        &format!("SELECT pending_totp_secret FROM sessions WHERE token_hash = '{}'", half.token_hash),
    )
    .await;
    assert!(raw.starts_with(tsunagu_store::keys::SEALED_PREFIX) && !raw.contains(first.expose()), "{raw}");
    let kept = store.pending_totp_secret(m, &half.token_hash, &tsunagu_store::Secret::new("OTHER")).await.unwrap();
    assert_eq!(kept, Some(first));
    let full = tsunagu_store::Session {
        token_hash: tsunagu_store::token_hash("full"),
        stage: tsunagu_store::SessionStage::Full,
        ..session
    };
    store.create_session(&full).await.unwrap();
    assert_eq!(store.pending_totp_secret(m, &full.token_hash, &tsunagu_store::Secret::new("X")).await.unwrap(), None);
}

on_both!(
    wrong_codes_lock_the_second_factor => story_wrong_codes_lock_the_second_factor,
    api_wrong_codes_lock_the_second_factor => story_api_wrong_codes_lock_the_second_factor,
    half_signed_in_session_takes_five_codes => story_half_signed_in_session_takes_five_codes,
    enrolment_keeps_the_secret_on_the_server => story_enrolment_keeps_the_secret_on_the_server,
    concurrent_wrong_passwords_hold_the_limit => story_concurrent_wrong_passwords_hold_the_limit,
    signout_ends_the_session_whatever_the_token => story_signout_ends_the_session_whatever_the_token,
    no_turn_to_hash_is_a_503 => story_no_turn_to_hash_is_a_503,
    store_reservations => story_store_reservations,
);

// --- the real binary under a flood of sign-ins ----------------------------------

/// `tsunagu serve`, killed when dropped.
struct Server {
    child: std::process::Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// A fresh directory for one server's default files.
    fn work_dir() -> std::path::PathBuf {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("tsunagu-serve-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Starts the binary on a loopback port over `db_url` with a small demo.
    fn start(db_url: &str) -> Server {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tsunagu"))
            .args(["serve", "--db", db_url, "--addr", "127.0.0.1:0", "--demo", "--families", "5"])
            .env("TSUNAGU_LOG", "error")
            .env_remove("TSUNAGU_KEY")
            // Its default key and checkpoint files go to a directory of its own, not the source tree.
            .current_dir(Self::work_dir())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("run tsunagu serve");
        let stdout = child.stdout.take().unwrap();
        let mut lines = std::io::BufReader::new(stdout).lines();
        let mut addr = None;
        for line in lines.by_ref() {
            let line = line.expect("server output");
            if let Some(rest) = line.strip_prefix("tsunagu is listening on http://") {
                addr = Some(rest.trim_end_matches('/').to_owned());
                break;
            }
        }
        // Keep draining what it prints so that it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let mut server = Server { child, addr: String::new() };
        server.addr = addr.expect("the server printed its address");
        server
    }

    /// Peak resident memory so far (`VmHWM`), in KiB.
    fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM");
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }
}

/// 200 concurrent wrong sign-ins (each a different unknown user, so each
/// would hash) from eight loopback addresses, so neither the per-account
/// nor the per-address limit stops them before hashing. The server's peak
/// memory stays under 300 MiB and every request is answered.
async fn story_hashing_does_not_exhaust_memory(backend: Backend) {
    const BOUND_KIB: u64 = 300 * 1024;
    let db_url = fresh_db(backend).await;
    let server = tokio::task::spawn_blocking(move || Server::start(&db_url)).await.unwrap();
    let clients: Vec<reqwest::Client> = (2..10u8)
        .map(|i| {
            reqwest::Client::builder()
                .local_address(std::net::IpAddr::from([127, 0, 0, i]))
                .timeout(std::time::Duration::from_secs(120))
                .build()
                .unwrap()
        })
        .collect();
    let url = format!("http://{}/api/v1/auth/token", server.addr);
    let sends: Vec<_> = (0..200)
        .map(|i| {
            let (http, url) = (clients[i % clients.len()].clone(), url.clone());
            let body =
                json!({"municipality": "131121", "username": format!("nobody{i}"), "password": "wrong password"});
            tokio::spawn(async move { http.post(url).json(&body).send().await.map(|r| r.status().as_u16()) })
        })
        .collect();
    let mut statuses = vec![];
    for s in sends {
        match s.await.unwrap() {
            Ok(status) => statuses.push(status),
            Err(e) => panic!("a request got no answer: {e}"),
        }
    }
    assert!(statuses.iter().all(|s| [400, 401, 429, 503].contains(s)), "{statuses:?}");
    let peak = server.peak_rss_kib();
    assert!(peak < BOUND_KIB, "peak RSS {} MiB (answers: {statuses:?})", peak / 1024);
}

on_both!(hashing_does_not_exhaust_memory => story_hashing_does_not_exhaust_memory);
