//! A chat socket lives no longer than the session it was opened with
//! (#13), on both databases: signing out closes the sockets of that session
//! (with the close code that says "sign in again") and no other; an
//! administrator ending the sessions (a password reset, disabling the
//! account) closes them; enabling the account again does not bring old
//! sockets back — even when the disabling's wake-up never arrived, the
//! enabling's makes them ask, and they close. On PostgreSQL, a sign-out on
//! another node closes the socket here (the change travels by NOTIFY).

use crate::chat::{next_frame, parent_token, rooms_of, socket_with_token, Socket};
use crate::support::*;
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tsunagu_demo::chat::PARENTS;
use tsunagu_domain::audit::Requester;
use tsunagu_domain::clock::Clock;
use tsunagu_domain::roles::Role;
use tsunagu_domain::AccountId;
use tsunagu_web::base::config::WebConfig;
use tsunagu_web::base::AppState;

const SESSION_ENDED: u16 = 4401;

/// The close code the socket ends with (`None`: ended without one), within a few seconds.
async fn close_code(s: &mut Socket) -> Option<u16> {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match s.next().await {
                Some(Ok(Message::Close(f))) => return f.map(|f| u16::from(f.code)),
                None | Some(Err(_)) => return None,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await
    .expect("the socket closes in time")
}

/// Posts as `token`; the message as stored.
async fn say(app: &TestApp, token: &str, room: i64, client_id: &str) -> Value {
    let (status, v) = app
        .post(
            token,
            &format!("/api/v1/chat/rooms/{room}/messages"),
            &json!({"client_id": client_id, "body": "こんばんは"}),
        )
        .await;
    assert_eq!(status, 201, "{v}");
    v["message"].clone()
}

async fn story_a_sockets_session_ending_closes_it(backend: Backend) {
    let app = TestApp::start_demo(backend, 20).await;
    let supporter = app.demo_token("supporter").await;
    let admin = app.demo_token("admin").await;
    let room = rooms_of(&app, &supporter).await[0];
    let name = app.get(&supporter, "/api/v1/chat/rooms").await.1["rooms"][0]["display_name"].clone();
    let username = PARENTS.iter().find(|(_, d)| json!(d) == name).unwrap().0;
    // The parent signed in on two devices; the supporter on one.
    let (one, two) = (parent_token(&app, username).await, parent_token(&app, username).await);
    let last = say(&app, &one, room, "before").await["seq"].as_i64().unwrap();
    let mut on_one = socket_with_token(&app, room, last, &one).await.unwrap();
    let mut on_two = socket_with_token(&app, room, last, &two).await.unwrap();
    let mut theirs = socket_with_token(&app, room, last, &supporter).await.unwrap();

    // Signing out on one device closes that device's socket only.
    assert_eq!(app.post(&one, "/api/v1/auth/signout", &json!({})).await.0, 204);
    assert_eq!(close_code(&mut on_one).await, Some(SESSION_ENDED));
    let m = say(&app, &two, room, "after-signout").await;
    for s in [&mut on_two, &mut theirs] {
        assert_eq!(next_frame(s, "message").await["message"]["seq"], m["seq"]);
    }
    assert_eq!(socket_with_token(&app, room, 0, &one).await.err(), Some(401));

    // On PostgreSQL, a sign-out on another node reaches this node's socket.
    if backend == Backend::Postgres {
        let state = AppState::new(app.store.clone(), app.clock.clone(), WebConfig::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let there = format!("http://{}", listener.local_addr().unwrap());
        let router = tsunagu_web::router(state);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await;
        });
        let three = parent_token(&app, username).await;
        let mut on_three = socket_with_token(&app, room, m["seq"].as_i64().unwrap(), &three).await.unwrap();
        // Until the other node listens: its wake-ups reach here once it does.
        let mut closed = None;
        for _ in 0..20 {
            let resp = app.http.post(format!("{there}/api/v1/auth/signout")).bearer_auth(&three).send().await.unwrap();
            assert!(resp.status() == 204 || resp.status() == 401, "{}", resp.status());
            if let Ok(code) = tokio::time::timeout(Duration::from_millis(500), close_code(&mut on_three)).await {
                closed = Some(code);
                break;
            }
        }
        assert_eq!(closed, Some(Some(SESSION_ENDED)), "a sign-out on another node closes the socket here");
        server.abort();
    }

    // An administrator resets the supporter's password: their sessions end, their socket closes.
    let supporter_id = say(&app, &supporter, room, "before-reset").await["author"].as_i64().unwrap();
    let (status, body) = app
        .post(
            &admin,
            &format!("/api/v1/accounts/{supporter_id}/password"),
            &json!({"password": "a new passphrase long enough 7"}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(close_code(&mut theirs).await, Some(SESSION_ENDED));
    assert_eq!(socket_with_token(&app, room, 0, &supporter).await.err(), Some(401));

    // The parent's account is disabled behind the service's back (its
    // wake-up lost): the socket stays for now. Enabling it again is told,
    // and the socket, whose session ended with the disabling, closes.
    let parent_id = m["author"].as_i64().unwrap();
    let ctx = Requester {
        municipality_id: app.fx.setagaya.id,
        actor: AccountId(1),
        role: Role::Admin,
        remote_addr: "test".into(),
        reason: "test".into(),
        at: app.clock.now(),
    }
    .without_a_policy_decision();
    app.store.set_disabled(&ctx, AccountId(parent_id), true).await.unwrap();
    assert_eq!(app.post(&admin, &format!("/api/v1/accounts/{parent_id}/enable"), &json!({})).await.0, 204);
    assert_eq!(close_code(&mut on_two).await, Some(SESSION_ENDED), "enabling the account brings no old socket back");
    assert_eq!(socket_with_token(&app, room, 0, &two).await.err(), Some(401));

    // Disabling through the service closes a new session's socket at once.
    let four = parent_token(&app, username).await;
    let mut on_four = socket_with_token(&app, room, 0, &four).await.unwrap();
    assert_eq!(app.post(&admin, &format!("/api/v1/accounts/{parent_id}/disable"), &json!({})).await.0, 204);
    assert_eq!(close_code(&mut on_four).await, Some(SESSION_ENDED));
}

on_both!(a_sockets_session_ending_closes_it => story_a_sockets_session_ending_closes_it);
