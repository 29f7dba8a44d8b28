//! What a chat message costs the database (#13), counted with the
//! statements counter of `statements.rs` and pinned, on both databases:
//! posting one message through the API, and delivering it to four sockets of
//! its room — on the node that stored it (the message is in hand: nothing is
//! read) and, on PostgreSQL, on a second node woken by `NOTIFY` (one read of
//! the new message for all its sockets of the room). The sockets' facts of
//! the room are read once and then kept until a change of the team is told,
//! which the last part checks: a supporter taken off the team has their
//! socket closed at once.
//!
//! Run `TSUNAGU_TEST_STATEMENTS_LOG=1 cargo test -p tsunagu --test it
//! chat_statements -- --nocapture` to see each statement's text.

use crate::chat::{next_frame, parent_token, rooms_of, socket_with_token, Socket};
use crate::statements::{install, settled};
use crate::support::*;
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tsunagu_demo::chat::PARENTS;
use tsunagu_web::base::config::WebConfig;
use tsunagu_web::base::AppState;

/// Sockets on the room, each having received the message numbered `seq`.
async fn all_received(socks: &mut [Socket], seq: i64) {
    for s in socks.iter_mut() {
        loop {
            let got = next_frame(s, "message").await;
            if got["message"]["seq"].as_i64().unwrap() >= seq {
                break;
            }
        }
    }
}

/// Posts as `token` on the node at `base`; the message's number.
async fn post(app: &TestApp, base: &str, token: &str, room: i64, client_id: &str) -> i64 {
    let resp = app
        .http
        .post(format!("{base}/api/v1/chat/rooms/{room}/messages"))
        .bearer_auth(token)
        .json(&json!({"client_id": client_id, "body": "こんばんは、少し話せますか"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    resp.json::<Value>().await.unwrap()["message"]["seq"].as_i64().unwrap()
}

/// A second node on the same database: its own router, events and sockets.
async fn second_node(app: &TestApp) -> (String, tokio::task::JoinHandle<()>) {
    let state = AppState::new(app.store.clone(), app.clock.clone(), WebConfig::default());
    let router = crate::statements::counted(tsunagu_web::router(state), &app.db_url);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await;
    });
    (format!("http://{addr}"), server)
}

async fn story_a_message_costs_a_few_statements_to_post_and_none_per_socket(backend: Backend) {
    install();
    let app = TestApp::start_demo(backend, 20).await;
    let supporter = app.demo_token("supporter").await;
    let room = rooms_of(&app, &supporter).await[0];
    let name = app.get(&supporter, "/api/v1/chat/rooms").await.1["rooms"][0]["display_name"].clone();
    let username = PARENTS.iter().find(|(_, d)| json!(d) == name).unwrap().0;
    let parent = parent_token(&app, username).await;
    let here = format!("http://{}", app.addr);

    // Posting, no socket open (once before: prepared statements are not counted).
    let mut last = post(&app, &here, &parent, room, "warm-1").await;
    let before = settled(&app).await;
    last = last.max(post(&app, &here, &parent, room, "count-post").await);
    let posting = settled(&app).await - before;

    // Four sockets of the room (the parent on two devices, the supporter on
    // two); one message so that each has the room's facts.
    let mut socks = vec![];
    for token in [&parent, &parent, &supporter, &supporter] {
        socks.push(socket_with_token(&app, room, last, token).await.unwrap());
    }
    last = post(&app, &here, &supporter, room, "warm-2").await;
    all_received(&mut socks, last).await;

    // Delivered on the node that stored it.
    let before = settled(&app).await;
    if std::env::var_os("TSUNAGU_TEST_STATEMENTS_LOG").is_some() {
        eprintln!("---- count-here");
    }
    last = post(&app, &here, &parent, room, "count-here").await;
    all_received(&mut socks, last).await;
    let here_total = settled(&app).await - before;

    let mut measured = vec![("post", posting), ("post and delivery to 4 sockets on its node", here_total)];
    if backend == Backend::Postgres {
        // Posted on a second node: this node is woken by NOTIFY and reads the
        // message once for its four sockets.
        let (there, server) = second_node(&app).await;
        let mut woke = false;
        for i in 0..50 {
            // Until the second node's wake-ups arrive (its listener is up).
            last = post(&app, &there, &supporter, room, &format!("warm-there-{i}")).await;
            if tokio::time::timeout(Duration::from_millis(500), all_received(&mut socks[..1], last)).await.is_ok() {
                woke = true;
                break;
            }
        }
        assert!(woke, "the second node's wake-ups arrive");
        all_received(&mut socks[1..], last).await;
        let before = settled(&app).await;
        if std::env::var_os("TSUNAGU_TEST_STATEMENTS_LOG").is_some() {
            eprintln!("---- count-there");
        }
        last = post(&app, &there, &parent, room, "count-there").await;
        all_received(&mut socks, last).await;
        measured.push(("post on another node and delivery to 4 sockets here", settled(&app).await - before));
        server.abort();
    }
    for (label, n) in &measured {
        eprintln!("{backend:?} {label}: {n} statements");
        if std::env::var_os("TSUNAGU_TEST_STATEMENTS_LOG").is_some() {
            eprintln!("---- measured: {label}");
        }
    }
    let got: Vec<u64> = measured.iter().map(|(_, n)| *n).collect();
    let pinned: Vec<u64> = match backend {
        // Delivery on the posting node costs nothing: the post hands the
        // stored message to the room's sockets. Before the shared feed (#13)
        // each socket read the room's facts and the messages twice for
        // itself: [12, 28] (16 for the four deliveries); the post's room
        // facts in one statement and its number taken by its UPDATE save 2.
        // Since the group commit of posts (#13): 11 — the post's transaction
        // is a batch's (its statements the same for 1 post or 200): the
        // rooms' counters read, the client ids looked up, the messages
        // inserted, the rooms moved on, the read marks, the audit head, its
        // lines and its moves, the messages read back; one more than the
        // lone post's, whose counter was taken by its UPDATE.
        // Since #16's last step the audit lines and their heads' moves are
        // one query: 11 → 10. Then a turn is four queries (#13): its reads
        // (counters, authors' chat names, resends) in one, its writes
        // (messages, rooms, read marks) in one, the audit head and the audit
        // query; the new messages are built from their posts, not read back
        // (a query here counts as one, whatever its statements): 10 → 6.
        Backend::Sqlite => vec![6, 6],
        // The same, and one read of the new message for all the sockets of
        // the room on a node woken by NOTIFY (the NOTIFY itself, one more
        // statement, runs in a task of its own and is not counted). Before:
        // a post 14, and 4 statements per socket on every node. Since the
        // group commit of posts (#13), counted in its batch's span: the rooms
        // locked and read, then moved on, where one UPDATE did both; the
        // audit line locks the chain's head by one statement once it exists
        // (#16; it was created, then locked).
        Backend::Postgres => vec![11, 11, 12],
    };
    assert_eq!(got, pinned, "statements ({backend:?}): {measured:?}");

    // A supporter suspended by the operator: their sockets close at once
    // (the change is told; the facts kept are read again), the parent's stay.
    let admin = app.demo_token("admin").await;
    let (_, list) = app.get(&supporter, &format!("/api/v1/chat/rooms/{room}/messages")).await;
    let supporter_id = list["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["client_id"] == "warm-2")
        .map(|m| m["author"].as_i64().unwrap())
        .unwrap();
    let (status, body) = app
        .post(&admin, &format!("/api/v1/chat/supporters/{supporter_id}/state"), &json!({"state": "suspended"}))
        .await;
    assert_eq!(status, 204, "{body}");
    for mut s in socks.split_off(2) {
        let end = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match s.next().await {
                    Some(Ok(Message::Text(_))) => continue,
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                    Some(Ok(_)) => continue,
                }
            }
        })
        .await;
        assert!(end.is_ok(), "a suspended supporter's socket closes at once");
    }
    let more = post(&app, &here, &parent, room, "after-suspension").await;
    all_received(&mut socks, more).await;
}

on_both!(
    chat_statements_per_message => story_a_message_costs_a_few_statements_to_post_and_none_per_socket,
);
