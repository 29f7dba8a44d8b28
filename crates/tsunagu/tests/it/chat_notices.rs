//! The header's count of chat rooms with unread messages, on the demo data,
//! on both databases: every page a supporter sees carries the badge and its
//! script; the inbox socket says the count when it opens and again, with a
//! notice, when a parent writes in one of the supporter's rooms; the count
//! a page polls when the socket cannot be had agrees; a nurse has none.

use crate::chat::{demo_supporter, parent_token, rooms_of, visitor};
use crate::support::*;
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tsunagu_demo::chat::PARENTS;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn frame(s: &mut Socket) -> Value {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(10), s.next()).await.expect("a frame in time");
        if let Some(Ok(Message::Text(t))) = m {
            return serde_json::from_str(t.as_str()).unwrap();
        }
        assert!(matches!(m, Some(Ok(_))), "socket closed: {m:?}");
    }
}

async fn unread(app: &TestApp, token: &str) -> (u16, Value) {
    app.get(token, "/chat/unread").await
}

async fn story_supporters_see_a_live_count_of_unread_rooms(backend: Backend) {
    let app = TestApp::start_demo(backend, 20).await;
    let supporter = app.demo_token("supporter").await;
    let nurse = app.demo_token("nurse").await;
    let mine = rooms_of(&app, &supporter).await;
    // A parent whose room the demo supporter's team answers.
    let mut parent = None;
    for (username, _) in PARENTS {
        let token = parent_token(&app, username).await;
        let room = rooms_of(&app, &token).await[0];
        if mine.contains(&room) {
            parent = Some((token, room));
            break;
        }
    }
    let (parent, room) = parent.expect("a demo parent in the supporter's rooms");

    // The supporter reads the room to its end: it no longer counts.
    let (_, list) = app.get(&supporter, &format!("/api/v1/chat/rooms/{room}/messages")).await;
    let last = list["messages"].as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap()).max().unwrap_or(0);
    if last > 0 {
        let (status, _) = app.post(&supporter, &format!("/api/v1/chat/rooms/{room}/read"), &json!({"seq": last})).await;
        assert!(status == 200 || status == 204, "{status}");
    }
    let (status, before) = unread(&app, &supporter).await;
    assert_eq!(status, 200, "{before}");
    let before = before["rooms"].as_u64().unwrap();

    let mut req = format!("ws://{}/chat/inbox/ws", app.addr).into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {supporter}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    assert_eq!(frame(&mut socket).await, json!({"type": "unread", "rooms": before}));

    // The parent writes: a notice (no text) and the count one higher, live and polled.
    let (status, body) = app
        .post(
            &parent,
            &format!("/api/v1/chat/rooms/{room}/messages"),
            &json!({"client_id": "n1", "body": "ねむれない"}),
        )
        .await;
    assert!(status == 200 || status == 201, "{status} {body}");
    let notice = frame(&mut socket).await;
    assert_eq!(notice["type"], "new");
    assert_eq!(notice["room"], room);
    assert!(notice.get("body").is_none(), "never the text: {notice}");
    assert_eq!(frame(&mut socket).await, json!({"type": "unread", "rooms": before + 1}));
    assert_eq!(unread(&app, &supporter).await.1["rooms"], before + 1);

    // Staff who write in no room have no count; no one signed in is refused.
    assert_eq!(unread(&app, &nurse).await.0, 403);
    assert_eq!(app.http.get(app.url("/chat/unread")).send().await.unwrap().status(), 401);

    // Every page a supporter sees carries the badge and the script that keeps it live.
    let s = demo_supporter();
    let mut page = visitor(&app, "supporter", s.password, s.totp_secret).await;
    for path in ["/chat", &format!("/chat/rooms/{room}")] {
        let p = page.get(path).await;
        assert_eq!(p.status, 200, "{path}");
        assert!(p.body.contains(r#"id="chat-unread""#) && p.body.contains("/static/chat-notices.js"), "{path}");
    }
    let script = app.http.get(app.url("/static/chat-notices.js")).send().await.unwrap();
    assert_eq!(script.status(), 200);
    assert!(script.text().await.unwrap().contains("/chat/inbox/ws"));
}

on_both!(
    supporters_see_a_live_count_of_unread_rooms => story_supporters_see_a_live_count_of_unread_rooms,
);
