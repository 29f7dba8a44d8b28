//! Reminders by web push (#10), on both back ends, through a local fake push
//! service that is also the forward proxy (`--push-proxy`): requests come in
//! absolute form for `https://push.test/…`. The service does what a browser
//! and a push service would: it verifies the VAPID token's ES256 signature
//! against the public key the page served, its `aud` (the endpoint's
//! origin), `exp` (≤ 24 h) and `sub`, and decrypts the body per RFC 8291
//! with the test's own user-agent private key and auth secret (its own
//! decryption, written here). Exactly one push per due item for the
//! subscribed family member, none to anyone else, none twice with two
//! runners or a re-run; a 410 deletes the subscription; unsubscribing
//! removes it; one audit line per change, never the endpoint.

use crate::pages::Visitor;
use crate::support::*;
use aes_gcm::aead::Aead;
use aes_gcm::{Aes128Gcm, KeyInit};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use serde_json::{json, Value};
use sha2::Sha256;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tsunagu::push::Pusher;
use tsunagu::reminders::run_push_reminders;
use tsunagu_domain::clock::Clock;
use tsunagu_domain::push::VapidKey;
use tsunagu_web::WebConfig;

/// A browser's side of a subscription: its own key pair and auth secret.
struct Browser {
    secret: p256::SecretKey,
    auth: [u8; 16],
}

impl Browser {
    fn new(seed: u8) -> Browser {
        Browser { secret: p256::SecretKey::from_slice(&[seed; 32]).unwrap(), auth: [seed.wrapping_add(1); 16] }
    }

    fn p256dh(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.secret.public_key().to_encoded_point(false).as_bytes())
    }

    fn auth(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.auth)
    }

    /// RFC 8291 §3.4 and RFC 8188, from the receiving side: the header's
    /// salt and sender key, ECDH with our key, the two HKDF steps, AES-128-GCM,
    /// then the padding up to the last-record delimiter 2.
    fn decrypt(&self, body: &[u8]) -> Result<String, String> {
        if body.len() < 21 {
            return Err("short".into());
        }
        let salt = &body[..16];
        let rs = u32::from_be_bytes(body[16..20].try_into().unwrap());
        let idlen = usize::from(body[20]);
        if rs < 18 || idlen != 65 || body.len() < 21 + idlen + 16 {
            return Err(format!("header rs={rs} idlen={idlen}"));
        }
        let sender = &body[21..21 + idlen];
        let sender_key = p256::PublicKey::from_sec1_bytes(sender).map_err(|_| "sender key")?;
        let shared = p256::ecdh::diffie_hellman(self.secret.to_nonzero_scalar(), sender_key.as_affine());
        let mut info = b"WebPush: info\0".to_vec();
        info.extend_from_slice(self.secret.public_key().to_encoded_point(false).as_bytes());
        info.extend_from_slice(sender);
        let mut ikm = [0u8; 32];
        hkdf::Hkdf::<Sha256>::new(Some(&self.auth), shared.raw_secret_bytes().as_slice())
            .expand(&info, &mut ikm)
            .unwrap();
        let prk = hkdf::Hkdf::<Sha256>::new(Some(salt), &ikm);
        let (mut cek, mut nonce) = ([0u8; 16], [0u8; 12]);
        prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek).unwrap();
        prk.expand(b"Content-Encoding: nonce\0", &mut nonce).unwrap();
        let plain = Aes128Gcm::new_from_slice(&cek)
            .unwrap()
            .decrypt(&nonce.into(), &body[21 + idlen..])
            .map_err(|_| "does not decrypt")?;
        let end = plain.iter().rposition(|b| *b != 0).ok_or("no delimiter")?;
        if plain[end] != 2 {
            return Err("not the last record".into());
        }
        String::from_utf8(plain[..end].to_vec()).map_err(|_| "not UTF-8".into())
    }
}

/// What the fake service took: (endpoint path, decrypted text), and what it refused.
#[derive(Default)]
struct Seen {
    pushes: Vec<(String, String)>,
    problems: Vec<String>,
    gone_hits: usize,
}

struct FakePushService {
    addr: String,
    seen: Arc<Mutex<Seen>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakePushService {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn check_vapid(headers: &HeaderMap, uri: &Uri, served_key: &str, now: i64) -> Result<(), String> {
    let h = headers.get("authorization").and_then(|v| v.to_str().ok()).ok_or("no Authorization")?;
    let (t, k) = h.strip_prefix("vapid t=").and_then(|r| r.split_once(", k=")).ok_or("not vapid t=…, k=…")?;
    if k != served_key {
        return Err("k is not the key the page served".into());
    }
    let parts: Vec<&str> = t.split('.').collect();
    let [head, claims, sig] = parts[..] else { return Err("not a JWT".into()) };
    let head: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(head).map_err(|_| "head")?).map_err(|_| "head")?;
    if head["alg"] != "ES256" {
        return Err(format!("alg {}", head["alg"]));
    }
    use p256::ecdsa::signature::Verifier;
    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&URL_SAFE_NO_PAD.decode(k).map_err(|_| "k")?)
        .map_err(|_| "k is no P-256 key")?;
    let sig =
        p256::ecdsa::Signature::from_slice(&URL_SAFE_NO_PAD.decode(sig).map_err(|_| "sig")?).map_err(|_| "sig")?;
    key.verify(format!("{}.{claims}", parts[0]).as_bytes(), &sig).map_err(|_| "the signature does not verify")?;
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).map_err(|_| "claims")?).map_err(|_| "claims")?;
    let origin = format!("https://{}", uri.authority().map(|a| a.as_str()).unwrap_or_default());
    if uri.scheme_str() != Some("https") || claims["aud"] != origin.as_str() {
        return Err(format!("aud {} for {uri}", claims["aud"]));
    }
    let exp = claims["exp"].as_i64().ok_or("no exp")?;
    if exp <= now || exp > now + 24 * 3600 {
        return Err(format!("exp {exp} (now {now})"));
    }
    if !claims["sub"].as_str().is_some_and(|s| s.starts_with("mailto:")) {
        return Err("sub".into());
    }
    Ok(())
}

/// The fake push service and proxy: `/sub/gone` answers 410, every other path 201.
async fn fake_push_service(served_key: String, browsers: Arc<Vec<(String, Browser)>>, now: i64) -> FakePushService {
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let kept = seen.clone();
    let handler = move |uri: Uri, headers: HeaderMap, body: Bytes| {
        let (kept, browsers, served_key) = (kept.clone(), browsers.clone(), served_key.clone());
        async move {
            let mut seen = kept.lock().unwrap();
            if let Err(e) = check_vapid(&headers, &uri, &served_key, now) {
                seen.problems.push(e);
                return StatusCode::UNAUTHORIZED;
            }
            let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
            if header("content-encoding") != "aes128gcm" || header("ttl").parse::<u32>().is_err() {
                seen.problems.push(format!("headers {headers:?}"));
                return StatusCode::BAD_REQUEST;
            }
            if header("host") != uri.authority().map(|a| a.as_str()).unwrap_or_default() {
                seen.problems.push("Host".into());
            }
            let path = uri.path().to_owned();
            if path == "/sub/gone" {
                seen.gone_hits += 1;
                return StatusCode::GONE;
            }
            let Some((_, browser)) = browsers.iter().find(|(p, _)| *p == path) else {
                seen.problems.push(format!("unknown endpoint {path}"));
                return StatusCode::NOT_FOUND;
            };
            match browser.decrypt(&body) {
                Ok(text) => seen.pushes.push((path, text)),
                Err(e) => seen.problems.push(e),
            }
            StatusCode::CREATED
        }
    };
    let app = axum::Router::new().fallback(axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    FakePushService { addr, seen, task }
}

async fn story_one_push_per_due_item(backend: Backend) {
    let vapid = VapidKey::from_seed(&[9u8; 32]).unwrap();
    let config = WebConfig { push_public_key: Some(vapid.public_b64()), ..WebConfig::default() };
    let app = TestApp::start_with(backend, config).await;
    // The twins' mother: a stay from today (the 22nd) and the twins' group on the 30th.
    let f = crate::family_next::family_with_a_class_and_a_stay(&app).await;
    let (phone, old_tablet) = (Browser::new(5), Browser::new(7));

    let mut mother = Visitor::new(&app);
    mother.sign_in("mother", None).await;
    let page = mother.get("/me/reminders").await;
    assert_eq!(page.status, 200);
    let at = page.body.find("data-vapid=\"").expect("the push switch and its key") + 12;
    let served = page.body[at..at + page.body[at..].find('"').unwrap()].to_owned();
    assert_eq!(served, vapid.public_b64());
    let csrf = Visitor::csrf_in(&page.body);
    // Eight days ahead, no e-mail: both items are due today.
    let r = mother.post("/me/reminders", &[("_csrf", &csrf), ("email", ""), ("days_before", "8")]).await;
    assert_eq!(r.status, 303, "{}", r.body);

    // The phone subscribes through the page; the old tablet through the API.
    let r = mother
        .post(
            "/me/reminders/push",
            &[
                ("_csrf", &csrf),
                ("op", "subscribe"),
                ("endpoint", "https://push.test/sub/phone"),
                ("p256dh", &phone.p256dh()),
                ("auth", &phone.auth()),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let body = json!({"endpoint": "https://push.test/sub/gone", "expirationTime": null,
        "keys": {"p256dh": old_tablet.p256dh(), "auth": old_tablet.auth()}});
    let (s, v) = app.post(&f.mother, "/api/v1/me/push-subscriptions", &body).await;
    assert_eq!((s, &v), (201, &json!({"subscribed": true})));
    // Refused, and nothing kept: not https, a key that is no point.
    let bad = json!({"endpoint": "http://push.test/sub/x", "keys": {"p256dh": "AAAA", "auth": phone.auth()}});
    let (s, v) = app.post(&f.mother, "/api/v1/me/push-subscriptions", &bad).await;
    assert_eq!(s, 422, "{v}");
    let fields: Vec<&str> =
        v["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["endpoint", "p256dh"], "{v}");
    let bad_page = mother.post("/me/reminders/push", &[("_csrf", &csrf), ("op", "subscribe"), ("endpoint", "x")]).await;
    assert_eq!(bad_page.status, 422);
    assert!(bad_page.body.contains("id=\"push-error\""), "the page says it in the reader's words");

    let m = app.fx.setagaya.id;
    let mother_id = app.store.account_by_username(m, "mother").await.unwrap().unwrap().id;
    assert_eq!(app.store.push_targets(m, mother_id).await.unwrap().len(), 2);

    let now = app.clock.now();
    let browsers = Arc::new(vec![("/sub/phone".to_owned(), phone)]);
    let service = fake_push_service(served.clone(), browsers, now.as_second()).await;
    let pusher = Pusher {
        proxy: service.addr.clone(),
        vapid,
        subject: "mailto:ops@city.example.jp".into(),
        timeout: Duration::from_secs(5),
    };
    let today = app.clock.today();
    let (a, b) = tokio::join!(
        run_push_reminders(app.store.as_ref(), &pusher, today, now, "node-a"),
        run_push_reminders(app.store.as_ref(), &pusher, today, now, "node-b")
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.sent + b.sent, 2, "{a:?} {b:?}");
    assert!(a.gone + b.gone >= 1, "the 410 was seen: {a:?} {b:?}");
    let again = run_push_reminders(app.store.as_ref(), &pusher, today, now, "node-c").await.unwrap();
    assert_eq!((again.sent, again.failed), (0, 0), "not twice: {again:?}");

    let (problems, gone_hits, pushes) = {
        let seen = service.seen.lock().unwrap();
        (seen.problems.clone(), seen.gone_hits, seen.pushes.clone())
    };
    assert!(problems.is_empty(), "{problems:?}");
    assert!(gone_hits >= 1);
    let mut texts: Vec<Value> = pushes.iter().map(|(_, t)| serde_json::from_str(t).unwrap()).collect();
    assert!(pushes.iter().all(|(p, _)| p == "/sub/phone"), "only the mother's browser");
    texts.sort_by_key(|t| t["body"].as_str().unwrap().to_owned());
    let bodies: Vec<&str> = texts.iter().map(|t| t["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["11月22日(日)に予定があります", "11月30日(月)に予定があります"]);
    for t in &texts {
        assert_eq!((t["title"].as_str(), t["url"].as_str()), (Some("tsunagu"), Some("/me")));
        for word in ["ふたご", "まま", "産後", "ケア", "ショートステイ", "広場", "教室", "児童館"]
        {
            assert!(!t.to_string().contains(word), "{word} in {t}");
        }
    }
    // The 410 deleted the old tablet's subscription; the phone's is kept.
    assert_eq!(app.store.push_targets(m, mother_id).await.unwrap().len(), 1);

    // The phone unsubscribes: removed; a run afterwards has no one to push to.
    let r = mother
        .post(
            "/me/reminders/push",
            &[("_csrf", &csrf), ("op", "unsubscribe"), ("endpoint", "https://push.test/sub/phone")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(app.store.push_targets(m, mother_id).await.unwrap().is_empty());

    let lines = app.store.audit_lines(m, 0, 10_000).await.unwrap();
    let count = |a: &str| lines.iter().filter(|l| l.action == a).count();
    assert_eq!((count("push.subscribe"), count("push.unsubscribe")), (2, 1), "one line per change");
    assert!(lines.iter().all(|l| !l.detail.contains("push.test")), "never the endpoint in a line");
}

on_both!(one_push_per_due_item => story_one_push_per_due_item);

/// Without `--push-proxy` the page says push is not offered here and the
/// API refuses a subscription; the VAPID key derived from the operator's key
/// is one key, the same however often it is derived.
#[tokio::test]
async fn without_a_push_proxy_push_is_not_offered() {
    let app = TestApp::start(Backend::Sqlite).await;
    let f = crate::privacy::family_with_a_stay(&app).await;
    let mut mother = Visitor::new(&app);
    mother.sign_in("mother", None).await;
    let page = mother.get("/me/reminders").await;
    assert!(page.body.contains("id=\"push-unavailable\"") && !page.body.contains("data-vapid"));
    let body = json!({"endpoint": "https://push.test/sub/1",
        "keys": {"p256dh": Browser::new(5).p256dh(), "auth": Browser::new(5).auth()}});
    let (s, v) = app.post(&f.mother, "/api/v1/me/push-subscriptions", &body).await;
    assert_eq!((s, v["error"]["code"].as_str()), (409, Some("push_unavailable")), "{v}");
    let a = app.master_key.vapid_key().unwrap().public_b64();
    assert_eq!(a, app.master_key.vapid_key().unwrap().public_b64());
    assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 65);
}
