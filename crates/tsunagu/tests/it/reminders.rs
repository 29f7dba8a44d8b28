//! Reminders by e-mail (#10), on both back ends, through a local fake SMTP
//! server (tokio, speaking SMTP): exactly one mail per due item to a family
//! member who opted in, none to one who did not, none twice after a re-run
//! or with two job runners at once; a failed send is tried again at the next
//! run; the subject decodes to the Japanese text; no name or health word in
//! the mail. And the settings page: errors beside the fields, nothing stored.

use crate::pages::Visitor;
use crate::support::*;
use base64::Engine;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tsunagu::reminders::{run_reminders, Mailer};
use tsunagu::smtp::SmtpRelay;
use tsunagu_domain::clock::Clock;
use tsunagu_domain::roles::Role;

/// One mail the fake server took: the envelope and the data.
#[derive(Debug, Clone)]
pub(crate) struct Mail {
    from: String,
    pub(crate) to: String,
    pub(crate) data: String,
}

/// A fake SMTP relay on a loopback port: greets, takes EHLO, MAIL FROM,
/// RCPT TO and DATA (up to the lone dot), answers QUIT; keeps every mail.
pub(crate) struct FakeRelay {
    pub(crate) addr: String,
    pub(crate) mails: Arc<Mutex<Vec<Mail>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub(crate) async fn fake_relay() -> FakeRelay {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let mails: Arc<Mutex<Vec<Mail>>> = Arc::default();
    let kept = mails.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let kept = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut read = BufReader::new(read);
                let _ = write.write_all(b"220 fake.test ESMTP\r\n").await;
                let (mut from, mut to) = (String::new(), String::new());
                loop {
                    let mut line = String::new();
                    if read.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") {
                        b"250-fake.test\r\n250 8BITMIME\r\n"
                    } else if let Some(rest) = line.strip_prefix("MAIL FROM:") {
                        from = rest.trim().trim_matches(['<', '>']).to_owned();
                        b"250 OK\r\n"
                    } else if let Some(rest) = line.strip_prefix("RCPT TO:") {
                        to = rest.trim().trim_matches(['<', '>']).to_owned();
                        b"250 OK\r\n"
                    } else if upper.starts_with("DATA") {
                        let _ = write.write_all(b"354 go on\r\n").await;
                        let mut data = String::new();
                        loop {
                            let mut l = String::new();
                            if read.read_line(&mut l).await.unwrap_or(0) == 0 {
                                return;
                            }
                            if l == ".\r\n" {
                                break;
                            }
                            data.push_str(l.strip_prefix('.').filter(|_| l.starts_with("..")).unwrap_or(&l));
                        }
                        kept.lock().unwrap().push(Mail { from: from.clone(), to: to.clone(), data });
                        b"250 queued\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"502 unknown\r\n"
                    };
                    if write.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    FakeRelay { addr, mails, task }
}

pub(crate) fn mailer(addr: &str) -> Mailer {
    Mailer {
        relay: SmtpRelay { addr: addr.to_owned(), helo: "test".into(), timeout: Duration::from_secs(5) },
        from: "tsunagu@city.example.jp".into(),
        link: "https://tsunagu.example.jp/me".into(),
    }
}

/// The subject header's value, unfolded and its encoded words decoded.
pub(crate) fn subject_of(data: &str) -> String {
    let start = data.find("\r\nSubject: ").expect("a subject") + 11;
    let rest = &data[start..];
    let mut value = String::new();
    for (i, line) in rest.split("\r\n").enumerate() {
        if i > 0 && !line.starts_with(' ') {
            break;
        }
        value.push_str(line.trim());
    }
    value
        .split("?=")
        .filter(|w| !w.is_empty())
        .map(|w| w.strip_prefix("=?UTF-8?B?").expect("an encoded word"))
        .map(|b| String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b).unwrap()).unwrap())
        .collect()
}

pub(crate) fn body_of(data: &str) -> String {
    let b64: String = data[data.find("\r\n\r\n").unwrap() + 4..].split("\r\n").collect();
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).unwrap()
}

async fn story_one_mail_per_due_item(backend: Backend) {
    let app = TestApp::start(backend).await;
    // The twins' mother: a stay from today (the 22nd) and the twins' group on the 30th.
    let f = crate::family_next::family_with_a_class_and_a_stay(&app).await;
    // Another family with a booking of the same session, who chose nothing.
    let other = crate::postpartum::twins_family(&app, &f.nurse).await;
    app.account(&app.fx.setagaya, "other-mother", Role::FamilyMember, Scope::Family(other)).await;
    let other_token = app
        .http
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"municipality": "131121", "username": "other-mother", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, offers) = app.get(&other_token, "/api/v1/classes/offers").await;
    let session = offers["offers"][0]["session"]["id"].as_i64().unwrap();
    let (s, v) = app
        .post(&other_token, "/api/v1/classes/bookings", &json!({"session_id": session, "idempotency_key": "o-1"}))
        .await;
    assert_eq!(s, 201, "{v}");

    // The mother chooses e-mail, eight days ahead, on her page: both her items are due today.
    let mut mother = Visitor::new(&app);
    mother.sign_in("mother", None).await;
    let page = mother.get("/me/reminders").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"email-unavailable\""), "no relay in this test's server: the page says so");
    let csrf = Visitor::csrf_in(&page.body);
    let sent = mother
        .post(
            "/me/reminders",
            &[("_csrf", &csrf), ("email_on", "on"), ("email", "mama@example.jp"), ("days_before", "8")],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);

    let today = app.clock.today();
    let now = app.clock.now();
    // The relay is down: nothing goes, each claim is given back.
    let down = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let run = run_reminders(app.store.as_ref(), &mailer(&down), today, now, "node-a").await.unwrap();
    assert_eq!((run.sent, run.failed), (0, 2), "{run:?}");

    // Two runners at once: each due item goes once.
    let relay = fake_relay().await;
    let m = mailer(&relay.addr);
    let (a, b) = tokio::join!(
        run_reminders(app.store.as_ref(), &m, today, now, "node-a"),
        run_reminders(app.store.as_ref(), &m, today, now, "node-b")
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.sent + b.sent, 2, "{a:?} {b:?}");
    // A re-run, and a restarted node: nothing more.
    let again = run_reminders(app.store.as_ref(), &m, today, now, "node-c").await.unwrap();
    assert_eq!(again.sent, 0, "{again:?}");
    let later = now + jiff::SignedDuration::from_hours(1);
    assert_eq!(run_reminders(app.store.as_ref(), &m, today, later, "node-d").await.unwrap().sent, 0);

    let mails = relay.mails.lock().unwrap().clone();
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert!(mails.iter().all(|m| m.to == "mama@example.jp" && m.from == "tsunagu@city.example.jp"), "only to her");
    let mut subjects: Vec<String> = mails.iter().map(|m| subject_of(&m.data)).collect();
    subjects.sort();
    assert_eq!(subjects, ["tsunagu: 11月22日(日)に予定があります", "tsunagu: 11月30日(月)に予定があります"]);
    for m in &mails {
        assert!(m.data.contains("Content-Type: text/plain; charset=UTF-8\r\n"), "{}", m.data);
        assert!(m.data.contains("Content-Transfer-Encoding: base64\r\n"));
        assert!(m.data.is_ascii(), "headers and body encoded");
        let body = body_of(&m.data);
        assert!(
            body.contains("アプリを開いて確認してください") && body.contains("https://tsunagu.example.jp/me"),
            "{body}"
        );
        for word in ["ふたご", "まま", "産後", "ケア", "ショートステイ", "広場", "教室", "児童館", "EPDS"]
        {
            assert!(!body.contains(word) && !subject_of(&m.data).contains(word), "{word} in {body}");
        }
    }
}

on_both!(one_mail_per_due_item => story_one_mail_per_due_item);

/// The settings page refuses a bad address and a lead out of range beside
/// the fields, in the reader's language, and stores nothing; a good choice
/// writes one `reminder.set` line and reads back.
async fn story_the_settings_page_checks_and_audits(backend: Backend) {
    let app = TestApp::start(backend).await;
    let f = crate::privacy::family_with_a_stay(&app).await;
    let _ = &f.nurse;
    let mut mother = Visitor::new(&app);
    mother.sign_in("mother", None).await;
    let me = mother.get("/me").await;
    assert!(me.body.contains("href=\"/me/reminders\""), "reachable from わが家の記録");
    let page = mother.get("/me/reminders").await;
    let csrf = Visitor::csrf_in(&page.body);
    let bad = mother
        .post(
            "/me/reminders",
            &[("_csrf", &csrf), ("email_on", "on"), ("email", "mama@@example"), ("days_before", "30")],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("id=\"email-error\"") && bad.body.contains("メールアドレスの形になっていません"));
    assert!(bad.body.contains("id=\"days-before-error\""));
    assert!(bad.body.contains("<a href=\"#email\">メールアドレス</a>"), "the banner names the field");
    let count = |action: &'static str| {
        let store = app.store.clone();
        let m = app.fx.setagaya.id;
        async move { store.audit_lines(m, 0, 10_000).await.unwrap().iter().filter(|l| l.action == action).count() }
    };
    assert_eq!(count("reminder.set").await, 0, "nothing stored");
    let ok = mother
        .post(
            "/me/reminders",
            &[("_csrf", &csrf), ("email_on", "on"), ("email", "mama@example.jp"), ("days_before", "3")],
        )
        .await;
    assert_eq!(ok.status, 303);
    assert_eq!(count("reminder.set").await, 1);
    let back = mother.get("/me/reminders?saved=1").await;
    assert!(back.body.contains("value=\"mama@example.jp\"") && back.body.contains("<option value=\"3\" selected>"));
    let lines = app.store.audit_lines(app.fx.setagaya.id, 0, 10_000).await.unwrap();
    let set = lines.iter().find(|l| l.action == "reminder.set").unwrap();
    assert!(!set.detail.contains("mama@"), "the address is not in the audit line: {}", set.detail);
}

on_both!(the_settings_page_checks_and_audits => story_the_settings_page_checks_and_audits);
