//! The chat on LINE over HTTP, on the demo data, on both databases, against
//! a fake LINE server on loopback that speaks the Messaging API's push and
//! can fail: the webhook refuses unsigned, wrongly signed, oversized and
//! replayed requests with nothing stored; a LINE user links with an
//! invitation code; their message reaches the team; a supporter's reply
//! and the help lines reach LINE, a failed push is retried; one audit line
//! per action.

use crate::support::*;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use jiff::SignedDuration;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tsunagu_domain::audit::Requester;
use tsunagu_domain::chat::line::{sign, LineUserId};
use tsunagu_domain::chat::supporters::{Attributes, Capacity, Profession, SupporterState};
use tsunagu_domain::chat::teams::Team;
use tsunagu_domain::clock::Clock;
use tsunagu_domain::policy::FamilyFilter;
use tsunagu_domain::roles::Role;
use tsunagu_domain::{AccountId, MunicipalityId, RoomId};
use tsunagu_web::chat::line::{deliver_due, Delivered, LineClient};

const SECRET: &str = "fake-channel-secret-0123456789ab";
const TOKEN: &str = "fake-access-token";
const USER: &str = "U0123456789abcdef0123456789abcdef";

/// One push the fake LINE server received.
#[derive(Debug, Clone)]
struct Received {
    authorization: String,
    retry_key: String,
    to: String,
    text: String,
}

#[derive(Clone, Default)]
struct FakeLine {
    received: Arc<Mutex<Vec<Received>>>,
    /// Requests still to be failed with a 500.
    fail_next: Arc<AtomicUsize>,
}

async fn fake_push(
    State(fake): State<FakeLine>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> axum::http::StatusCode {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let failing = fake.fail_next.load(Ordering::SeqCst) > 0;
    if failing {
        fake.fail_next.fetch_sub(1, Ordering::SeqCst);
    }
    fake.received.lock().unwrap().push(Received {
        authorization: header("authorization"),
        retry_key: header("x-line-retry-key"),
        to: body["to"].as_str().unwrap_or("").to_owned(),
        text: body["messages"][0]["text"].as_str().unwrap_or("").to_owned(),
    });
    if failing {
        axum::http::StatusCode::INTERNAL_SERVER_ERROR
    } else {
        axum::http::StatusCode::OK
    }
}

/// A fake LINE Messaging API on loopback: `POST /v2/bot/message/push`.
async fn fake_line() -> (FakeLine, String) {
    let fake = FakeLine::default();
    let app =
        axum::Router::new().route("/v2/bot/message/push", axum::routing::post(fake_push)).with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (fake, format!("http://{addr}"))
}

fn text_event(event_id: &str, at_ms: i64, message_id: &str, text: &str) -> Value {
    json!({
        "type": "message", "mode": "active", "timestamp": at_ms, "webhookEventId": event_id,
        "deliveryContext": {"isRedelivery": false}, "replyToken": "0f3779fba3b349968c5d07db31eab56f",
        "source": {"type": "user", "userId": USER},
        "message": {"type": "text", "id": message_id, "quoteToken": "q", "text": text}
    })
}

fn body_of(events: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({"destination": "Uffffffffffffffffffffffffffffffff", "events": events})).unwrap()
}

/// Posts a webhook body with a signature (or none); the answer's status.
async fn hook(app: &TestApp, municipality: &str, body: &[u8], signature: Option<String>) -> u16 {
    let mut req = app
        .http
        .post(app.url(&format!("/line/webhook/{municipality}")))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(s) = signature {
        req = req.header("x-line-signature", s);
    }
    req.send().await.unwrap().status().as_u16()
}

async fn signed(app: &TestApp, body: &[u8]) -> u16 {
    hook(app, "131121", body, Some(sign(SECRET, body))).await
}

async fn audit_after(app: &TestApp, m: MunicipalityId, seq: i64) -> Vec<(String, AccountId)> {
    app.store.audit_lines(m, seq, 1000).await.unwrap().into_iter().map(|l| (l.action, l.actor)).collect()
}

async fn audit_head(app: &TestApp, m: MunicipalityId) -> i64 {
    app.store.audit_head(m).await.unwrap().map(|(s, _)| s).unwrap_or(0)
}

fn ctx_as(app: &TestApp, account: AccountId, role: Role) -> tsunagu_domain::audit::AuditContext {
    Requester {
        municipality_id: app.fx.setagaya.id,
        actor: account,
        role,
        remote_addr: "test".into(),
        reason: "test".into(),
        at: app.clock.now(),
    }
    .without_a_policy_decision()
}

/// Gives a room a team of demo supporters (the demo's own supporter as the
/// professional), with room enough in their capacity.
async fn give_a_team(app: &TestApp, room: RoomId) -> AccountId {
    let m = app.fx.setagaya.id;
    let id = |u: &'static str| async move { app.store.account_by_username(m, u).await.unwrap().unwrap().id };
    let (main, mama, student) = (id("supporter").await, id("chat_sup_mama").await, id("chat_sup_student").await);
    for (a, attributes) in [
        (main, Attributes::new(Some(Profession::Medical), false, false).unwrap()),
        (mama, Attributes::new(None, true, false).unwrap()),
        (student, Attributes::new(None, false, true).unwrap()),
    ] {
        let c = ctx_as(app, a, Role::PeerSupporter);
        app.store.register_supporter(&c, attributes, Capacity::new(10).unwrap()).await.unwrap();
        app.store
            .set_supporter_state(&ctx_as(app, AccountId(1), Role::Admin), a, SupporterState::Active)
            .await
            .unwrap();
    }
    let team = Team { professional: main, raising_toddler: mama, no_parenting_experience: student };
    app.store.set_team(&ctx_as(app, AccountId(1), Role::Admin), room, &team).await.unwrap();
    main
}

async fn story_a_parent_chats_from_line_and_the_team_answers_in_tsunagu(backend: Backend) {
    let app = TestApp::start_demo(backend, 20).await;
    let m = app.fx.setagaya.id;
    let admin = app.demo_token("admin").await;
    let nurse = app.demo_token("nurse").await;
    let supporter = app.demo_token("supporter").await;
    let user = LineUserId::parse(USER).unwrap();
    let now_ms = || app.clock.now().as_millisecond();

    // Without a channel there is no webhook; the operator sets one (not a supporter).
    let follow = body_of(vec![json!({"type": "follow", "timestamp": now_ms(), "webhookEventId": "01FOLLOW",
        "source": {"type": "user", "userId": USER}})]);
    assert_eq!(signed(&app, &follow).await, 404);
    let channel = json!({"channel_secret": SECRET, "access_token": TOKEN});
    let put =
        |token: &str| app.http.put(app.url("/api/v1/chat/line-channel")).bearer_auth(token.to_owned()).json(&channel);
    assert_eq!(put(&supporter).send().await.unwrap().status(), 403);
    let before = audit_head(&app, m).await;
    assert_eq!(put(&admin).send().await.unwrap().status(), 204);
    assert_eq!(
        audit_after(&app, m, before).await.iter().map(|l| l.0.as_str()).collect::<Vec<_>>(),
        ["chat.line_channel"]
    );

    // Refused with nothing stored: unsigned, wrongly signed, another channel's, oversized, unknown municipality.
    let head = audit_head(&app, m).await;
    assert_eq!(hook(&app, "131121", &follow, None).await, 401);
    assert_eq!(hook(&app, "131121", &follow, Some("bm90IGl0".into())).await, 401);
    assert_eq!(hook(&app, "131121", &follow, Some(sign("another secret", &follow))).await, 401);
    let huge = body_of(vec![text_event("01HUGE", now_ms(), "1", &"あ".repeat(100_000))]);
    assert!(huge.len() > tsunagu_domain::chat::line::MAX_WEBHOOK_BYTES);
    assert_eq!(signed(&app, &huge).await, 413);
    assert_eq!(hook(&app, "999999", &follow, Some(sign(SECRET, &follow))).await, 404);
    assert_eq!(app.store.pending_line_pushes(m).await.unwrap(), 0);
    assert!(app.store.seen_webhook_events(m, &["01FOLLOW".into(), "01HUGE".into()]).await.unwrap().is_empty());
    assert_eq!(audit_head(&app, m).await, head);

    // A follow: asked for the code. The same request again is a replay.
    assert_eq!(signed(&app, &follow).await, 200);
    assert_eq!(app.store.pending_line_pushes(m).await.unwrap(), 1);
    assert_eq!(signed(&app, &follow).await, 409);
    assert_eq!(app.store.pending_line_pushes(m).await.unwrap(), 1);

    // A wrong code: told so; nothing linked.
    let wrong = body_of(vec![text_event("01WRONG", now_ms(), "100", "AAAA-BBBB-CCCC")]);
    assert_eq!(signed(&app, &wrong).await, 200);
    assert!(app.store.line_link(m, &user).await.unwrap().is_none());

    // The nurse's invitation, sent from LINE: a chat account (display name only) and a room.
    let family = app
        .store
        .search_families(&ctx_as(&app, AccountId(1), Role::Nurse), &FamilyFilter::Municipality(m), "", 20)
        .await
        .unwrap()[5]
        .family_id;
    let (status, inv) = app.post(&nurse, "/api/v1/chat/invitations", &json!({"family_id": family.0})).await;
    assert_eq!(status, 201, "{inv}");
    let code = inv["code"].as_str().unwrap().to_lowercase().replace('-', " ");
    let head = audit_head(&app, m).await;
    let link = body_of(vec![text_event("01LINK", now_ms(), "101", &code)]);
    assert_eq!(signed(&app, &link).await, 200);
    let linked = app.store.line_link(m, &user).await.unwrap().expect("linked");
    assert_eq!(audit_after(&app, m, head).await, [("chat.line_link".to_owned(), linked.account)]);
    let parent = app.store.account(app.fx.setagaya.id, linked.account).await.unwrap().unwrap();
    assert_eq!(parent.role, Role::ChatParent);
    assert!(parent.display_name.starts_with("LINEの方"), "{}", parent.display_name);
    assert_eq!(parent.family_id, None, "no family on the chat account");
    // The code is used up: a second LINE user cannot take it.
    assert_eq!(signed(&app, &link).await, 409, "a replay of the link");

    // Events older than the replay window are refused.
    let old = app.clock.now().checked_sub(SignedDuration::from_mins(11)).unwrap().as_millisecond();
    let stale = body_of(vec![text_event("01STALE", old, "102", "むかしの")]);
    assert_eq!(signed(&app, &stale).await, 409);

    // The team reads the parent's message; LINE's redelivery of it (a new event id) is stored once.
    let main = give_a_team(&app, linked.room).await;
    let head = audit_head(&app, m).await;
    let hello = body_of(vec![text_event("01HELLO", now_ms(), "103", "夜泣きがつらいです")]);
    assert_eq!(signed(&app, &hello).await, 200);
    assert_eq!(audit_after(&app, m, head).await, [("chat.post".to_owned(), linked.account)]);
    let again = body_of(vec![text_event("01HELLOAGAIN", now_ms(), "103", "夜泣きがつらいです")]);
    assert_eq!(signed(&app, &again).await, 200);
    let path = format!("/api/v1/chat/rooms/{}/messages", linked.room.0);
    let (status, list) = app.get(&supporter, &path).await;
    assert_eq!(status, 200, "{list}");
    let messages = list["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{list}");
    assert_eq!(messages[0]["body"], "夜泣きがつらいです");
    assert_eq!(messages[0]["client_id"], "line-103");
    assert_eq!(messages[0]["author_name"], parent.display_name.as_str());

    // The supporter answers in tsunagu: sent at once, pushed by the outbox.
    let pending = app.store.pending_line_pushes(m).await.unwrap();
    let (status, body) = app.post(&supporter, &path, &json!({"client_id": "r1", "body": "おつかれさまです。"})).await;
    assert!(status == 200 || status == 201, "{status} {body}");
    assert_eq!(app.store.pending_line_pushes(m).await.unwrap(), pending + 1);

    // Words of self-harm from LINE: the room is flagged and the help lines are pushed.
    let sos = body_of(vec![text_event("01SOS", now_ms(), "104", "もう死にたい")]);
    assert_eq!(signed(&app, &sos).await, 200);
    assert!(app.store.room_summary(m, linked.room).await.unwrap().unwrap().urgent);
    assert_eq!(app.store.pending_line_pushes(m).await.unwrap(), pending + 2);

    // The outbox: LINE fails the first push; the rest go; the failed one
    // is tried again later with the same retry key, and nothing is lost.
    let (fake, base) = fake_line().await;
    fake.fail_next.store(1, Ordering::SeqCst);
    let client = LineClient::new(&base);
    let all = app.store.pending_line_pushes(m).await.unwrap() as usize;
    let first = deliver_due(app.store.as_ref(), &client, app.clock.now()).await.unwrap();
    assert_eq!(first, Delivered { sent: all - 1, failed: 1 });
    assert_eq!(app.store.pending_line_pushes(m).await.unwrap(), 1);
    let nothing_due = deliver_due(app.store.as_ref(), &client, app.clock.now()).await.unwrap();
    assert_eq!(nothing_due, Delivered::default(), "not before its retry time");
    app.clock.advance(SignedDuration::from_secs(11));
    let retried = deliver_due(app.store.as_ref(), &client, app.clock.now()).await.unwrap();
    assert_eq!(retried, Delivered { sent: 1, failed: 0 });
    assert_eq!(app.store.pending_line_pushes(m).await.unwrap(), 0);
    let got = fake.received.lock().unwrap().clone();
    assert_eq!(got.len(), all + 1);
    assert_eq!(got[0].retry_key, got[all].retry_key, "the retry is the same push");
    assert!(got.iter().all(|r| r.authorization == format!("Bearer {TOKEN}") && r.to == USER));
    let texts: Vec<&str> = got.iter().map(|r| r.text.as_str()).collect();
    let supporter_name = app.store.account(app.fx.setagaya.id, main).await.unwrap().unwrap().display_name;
    assert!(texts.contains(&format!("{supporter_name}: おつかれさまです。").as_str()), "{texts:?}");
    assert!(texts.iter().any(|t| t.contains("よりそいホットライン") && t.contains("189")), "{texts:?}");
    assert!(!texts.iter().any(|t| t.contains("夜泣き")), "the parent's own words are not echoed");
}

on_both!(
    a_parent_chats_from_line_and_the_team_answers_in_tsunagu => story_a_parent_chats_from_line_and_the_team_answers_in_tsunagu,
);
