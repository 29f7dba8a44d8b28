//! The peer-support chat over HTTP and WebSocket, on the demo data, on both
//! databases: who reaches which room by page, API or socket; that no answer
//! to a supporter carries a real name; a resend stored once; a reconnect
//! that receives what it missed; help lines at once on words of self-harm;
//! an escalation that reaches the nurse's referrals.

use crate::pages::Visitor;
use crate::support::*;
use futures_util::{SinkExt, StreamExt};
use jiff::SignedDuration;
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tsunagu_demo::chat::{PARENTS, PW_CHAT_PARENT};
use tsunagu_domain::audit::Requester;
use tsunagu_domain::clock::Clock;
use tsunagu_domain::policy::FamilyFilter;
use tsunagu_domain::roles::Role;
use tsunagu_domain::AccountId;

pub(crate) type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A bearer token for a demo chat parent.
pub(crate) async fn parent_token(app: &TestApp, username: &str) -> String {
    let resp = app
        .http
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"municipality": "131121", "username": username, "password": PW_CHAT_PARENT}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "sign-in of {username}");
    resp.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
}

pub(crate) async fn rooms_of(app: &TestApp, token: &str) -> Vec<i64> {
    let (status, body) = app.get(token, "/api/v1/chat/rooms").await;
    assert_eq!(status, 200, "{body}");
    body["rooms"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect()
}

/// A socket on a room with a bearer token; `Err(status)` when the handshake is refused.
pub(crate) async fn socket_with_token(app: &TestApp, room: i64, after: i64, token: &str) -> Result<Socket, u16> {
    let mut req = format!("ws://{}/chat/rooms/{room}/ws?after={after}", app.addr).into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    match tokio_tungstenite::connect_async(req).await {
        Ok((s, _)) => Ok(s),
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => Err(r.status().as_u16()),
        Err(e) => panic!("{e}"),
    }
}

/// The next frame of a kind, within a few seconds.
pub(crate) async fn next_frame(s: &mut Socket, kind: &str) -> Value {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(10), s.next()).await.expect("a frame in time");
        let Some(Ok(Message::Text(t))) = m else { panic!("socket closed: {m:?}") };
        let v: Value = serde_json::from_str(t.as_str()).unwrap();
        if v["type"] == kind {
            return v;
        }
    }
}

/// A room without a team: a nurse's invitation to a family, a parent who joins with it.
async fn new_room(app: &TestApp, nurse: &str, username: &str) -> (i64, String) {
    let ctx = Requester {
        municipality_id: app.fx.setagaya.id,
        actor: AccountId(1),
        role: Role::Nurse,
        remote_addr: "test".into(),
        reason: "test".into(),
        at: app.clock.now(),
    }
    .without_a_policy_decision();
    let family =
        app.store.search_families(&ctx, &FamilyFilter::Municipality(app.fx.setagaya.id), "", 20).await.unwrap()[5]
            .family_id;
    let (status, inv) = app.post(nurse, "/api/v1/chat/invitations", &json!({"family_id": family.0})).await;
    assert_eq!(status, 201, "{inv}");
    let join = json!({
        "municipality": "131121", "code": inv["code"], "display_name": "うさぎ", "username": username,
        "passphrase": "a long enough passphrase", "consent": true,
    });
    let resp = app.http.post(app.url("/api/v1/chat/join")).json(&join).send().await.unwrap();
    assert_eq!(resp.status(), 201);
    let room = resp.json::<Value>().await.unwrap()["room"].as_i64().unwrap();
    // Once only.
    let again = app.http.post(app.url("/api/v1/chat/join")).json(&join).send().await.unwrap();
    assert_eq!(again.status(), 409);
    let resp = app
        .http
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"municipality": "131121", "username": username, "password": "a long enough passphrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    (room, resp.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned())
}

/// Signs a demo account in through the pages (second factor for staff).
pub(crate) async fn visitor<'a>(app: &'a TestApp, username: &str, password: &str, totp: Option<&str>) -> Visitor<'a> {
    let mut v = Visitor::new(app);
    let page = v.get("/signin").await;
    let csrf = Visitor::csrf_in(&page.body);
    v.post("/signin", &[("_csrf", &csrf), ("municipality", "131121"), ("username", username), ("password", password)])
        .await;
    if let Some(secret) = totp {
        app.clock.advance(SignedDuration::from_secs(30));
        let code = tsunagu_web::base::auth::current_totp(secret, app.clock.now()).unwrap();
        let page = v.get("/signin/totp").await;
        let csrf = Visitor::csrf_in(&page.body);
        v.post("/signin/totp", &[("_csrf", &csrf), ("code", &code)]).await;
    }
    v
}

pub(crate) fn demo_supporter() -> tsunagu_demo::DemoAccount {
    tsunagu_demo::demo_accounts().into_iter().find(|a| a.username == "supporter").unwrap()
}

async fn story_rooms_are_reached_only_by_their_parent_and_team(backend: Backend) {
    let app = TestApp::start_demo(backend, 20).await;
    let nurse = app.demo_token("nurse").await;
    let supporter = app.demo_token("supporter").await;
    let hiyoko = parent_token(&app, PARENTS[0].0).await;
    let kotori = parent_token(&app, PARENTS[1].0).await;
    let (outside, usagi) = new_room(&app, &nurse, "usagi").await;

    // A parent: their own room only.
    let own = rooms_of(&app, &hiyoko).await;
    assert_eq!(own.len(), 1);
    let kotori_room = rooms_of(&app, &kotori).await[0];
    assert_eq!(rooms_of(&app, &usagi).await, vec![outside]);
    assert_eq!(app.get(&hiyoko, &format!("/api/v1/chat/rooms/{kotori_room}/messages")).await.0, 403);
    assert_eq!(app.get(&hiyoko, &format!("/api/v1/chat/rooms/{}/messages", own[0])).await.0, 200);
    let post = json!({"client_id": "x1", "body": "こんにちは"});
    assert_eq!(app.post(&hiyoko, &format!("/api/v1/chat/rooms/{kotori_room}/messages"), &post).await.0, 403);
    assert_eq!(socket_with_token(&app, kotori_room, 0, &hiyoko).await.err(), Some(403));

    // A supporter: the rooms of their teams, nothing else, by API, page or socket.
    let mine = rooms_of(&app, &supporter).await;
    assert!(!mine.is_empty() && !mine.contains(&outside), "{mine:?}");
    assert_eq!(app.get(&supporter, &format!("/api/v1/chat/rooms/{}/messages", mine[0])).await.0, 200);
    let path = format!("/api/v1/chat/rooms/{outside}");
    assert_eq!(app.get(&supporter, &format!("{path}/messages")).await.0, 403);
    assert_eq!(app.get(&supporter, &format!("{path}/messages?after=0&wait=0")).await.0, 403);
    assert_eq!(app.post(&supporter, &format!("{path}/messages"), &post).await.0, 403);
    assert_eq!(app.post(&supporter, &format!("{path}/read"), &json!({"seq": 1})).await.0, 403);
    assert_eq!(app.post(&supporter, &format!("{path}/escalations"), &json!({"note": "x"})).await.0, 403);
    assert_eq!(socket_with_token(&app, outside, 0, &supporter).await.err(), Some(403));
    let s = demo_supporter();
    let mut page = visitor(&app, "supporter", s.password, s.totp_secret).await;
    assert_eq!(page.get(&format!("/chat/rooms/{outside}")).await.status, 403);
    assert_eq!(page.get(&format!("/chat/rooms/{outside}/poll?after=0")).await.status, 403);
    assert_eq!(page.get(&format!("/chat/rooms/{}", mine[0])).await.status, 200);
    // Nothing was stored in the room the supporter could not reach.
    assert_eq!(app.get(&usagi, &format!("{path}/messages")).await.1["messages"], json!([]));

    // A socket opened with the page's cookie must come from this host's page.
    let cookie = page.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
    for (origin, ok) in [(format!("http://{}", app.addr), true), ("http://evil.example".to_owned(), false)] {
        let mut req = format!("ws://{}/chat/rooms/{}/ws", app.addr, mine[0]).into_client_request().unwrap();
        req.headers_mut().insert("cookie", cookie.parse().unwrap());
        req.headers_mut().insert("origin", origin.parse().unwrap());
        assert_eq!(tokio_tungstenite::connect_async(req).await.is_ok(), ok, "{origin}");
    }

    // Another municipality's room does not exist from here; staff do not read rooms not escalated.
    assert_eq!(app.get(&supporter, "/api/v1/chat/rooms/999999/messages").await.0, 404);
    assert_eq!(app.get(&nurse, &format!("/api/v1/chat/rooms/{kotori_room}/messages")).await.0, 403);
    assert_eq!(app.get(&nurse, "/api/v1/chat/rooms").await.0, 403);
}

async fn story_no_chat_answer_to_a_supporter_holds_a_real_name(backend: Backend) {
    let app = TestApp::start_demo(backend, 20).await;
    let supporter = app.demo_token("supporter").await;
    let hiyoko = parent_token(&app, PARENTS[0].0).await;
    let ctx = Requester {
        municipality_id: app.fx.setagaya.id,
        actor: AccountId(1),
        role: Role::Nurse,
        remote_addr: "test".into(),
        reason: "test".into(),
        at: app.clock.now(),
    }
    .without_a_policy_decision();
    let families =
        app.store.search_families(&ctx, &FamilyFilter::Municipality(app.fx.setagaya.id), "", 1000).await.unwrap();
    let mut names: Vec<String> = vec![];
    for f in &families {
        for n in [&f.mother_name, &f.mother_kana] {
            names.push(n.clone());
            names.push(n.replace(' ', ""));
        }
    }
    assert!(names.len() >= 40);
    // The parent of the demo mother's family writes, and a supporter answers.
    let room = rooms_of(&app, &hiyoko).await[0];
    app.post(&hiyoko, &format!("/api/v1/chat/rooms/{room}/messages"), &json!({"client_id": "n1", "body": "よろしく"}))
        .await;

    let mut seen: Vec<(String, String)> = vec![];
    let rooms = rooms_of(&app, &supporter).await;
    for path in ["/api/v1/chat/rooms", "/api/v1/chat/escalations", "/api/v1/chat/help-lines"] {
        let resp = app.http.get(app.url(path)).bearer_auth(&supporter).send().await.unwrap();
        seen.push((path.into(), resp.text().await.unwrap()));
    }
    let s = demo_supporter();
    let mut page = visitor(&app, "supporter", s.password, s.totp_secret).await;
    for path in ["/chat", "/chat/profile"] {
        seen.push((path.into(), page.get(path).await.body));
    }
    for r in &rooms {
        let path = format!("/api/v1/chat/rooms/{r}/messages");
        let resp = app.http.get(app.url(&path)).bearer_auth(&supporter).send().await.unwrap();
        seen.push((path, resp.text().await.unwrap()));
        let path = format!("/chat/rooms/{r}");
        seen.push((path.clone(), page.get(&path).await.body));
        seen.push((format!("{path}/poll"), page.get(&format!("{path}/poll?after=0")).await.body));
        let mut sock = socket_with_token(&app, *r, 0, &supporter).await.unwrap();
        let last = rooms_of(&app, &supporter).await.len();
        let _ = last;
        let sent = json!({"type": "send", "client_id": format!("sup-{r}"), "body": "こんにちは"}).to_string();
        sock.send(Message::Text(sent.into())).await.unwrap();
        let mut frames = String::new();
        loop {
            let f = tokio::time::timeout(Duration::from_secs(10), sock.next()).await.unwrap().unwrap().unwrap();
            let t = f.into_text().unwrap().to_string();
            frames.push_str(&t);
            if t.contains("\"ack\"") {
                break;
            }
        }
        seen.push((format!("socket {r}"), frames));
        let posted = app
            .http
            .post(app.url(&format!("/api/v1/chat/rooms/{r}/messages")))
            .bearer_auth(&supporter)
            .json(&json!({"client_id": format!("api-{r}"), "body": "おつかれさま"}))
            .send()
            .await
            .unwrap();
        seen.push((format!("post {r}"), posted.text().await.unwrap()));
    }
    assert!(seen.iter().any(|(_, body)| body.contains("ひよこ")), "the display name is shown");
    for (path, body) in &seen {
        for n in &names {
            assert!(!body.contains(n.as_str()), "{path} names {n}");
        }
    }
}

async fn story_a_resend_is_stored_once_and_a_reconnect_gets_what_it_missed(backend: Backend) {
    let app = TestApp::start_demo(backend, 20).await;
    let supporter = app.demo_token("supporter").await;
    let room = rooms_of(&app, &supporter).await[0];
    let parent_name = app.get(&supporter, "/api/v1/chat/rooms").await.1["rooms"][0]["display_name"].clone();
    let username = PARENTS.iter().find(|(_, d)| json!(d) == parent_name).unwrap().0;
    let parent = parent_token(&app, username).await;
    let path = format!("/api/v1/chat/rooms/{room}/messages");

    // A resend with the same client id: stored once, answered with the first.
    let body = json!({"client_id": "resend-1", "body": "今日は少し眠れました"});
    let (s1, first) = app.post(&parent, &path, &body).await;
    let (s2, again) = app.post(&parent, &path, &body).await;
    assert_eq!((s1, s2), (201, 201));
    assert_eq!((first["duplicate"].clone(), again["duplicate"].clone()), (json!(false), json!(true)));
    assert_eq!(first["message"], again["message"]);
    let all = app.get(&parent, &path).await.1["messages"].as_array().unwrap().clone();
    assert_eq!(all.iter().filter(|m| m["client_id"] == "resend-1").count(), 1);
    let seqs: Vec<i64> = all.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "a total order without gaps");
    let last = *seqs.last().unwrap();

    // A live socket receives a message as soon as it is stored.
    let mut sock = socket_with_token(&app, room, last, &parent).await.unwrap();
    let (_, answer) = app.post(&supporter, &path, &json!({"client_id": "live-1", "body": "よかったですね"})).await;
    let got = next_frame(&mut sock, "message").await;
    assert_eq!(got["message"]["seq"], answer["message"]["seq"]);
    // A message sent over the socket is acknowledged once stored.
    let frame = json!({"type": "send", "client_id": "ws-1", "body": "ありがとう"}).to_string();
    sock.send(Message::Text(frame.clone().into())).await.unwrap();
    let ack = next_frame(&mut sock, "ack").await;
    assert_eq!(ack["duplicate"], json!(false));
    let stored = app.get(&supporter, &format!("{path}?after={}", ack["seq"].as_i64().unwrap() - 1)).await.1;
    assert_eq!(stored["messages"][0]["client_id"], "ws-1");
    // Resent over a new socket after a drop: stored once.
    sock.close(None).await.unwrap();
    let seen = ack["seq"].as_i64().unwrap();
    let (_, missed) = app.post(&supporter, &path, &json!({"client_id": "while-away", "body": "また明日"})).await;
    let mut back = socket_with_token(&app, room, seen, &parent).await.unwrap();
    let got = next_frame(&mut back, "message").await;
    assert_eq!(got["message"]["seq"], missed["message"]["seq"], "the reconnect receives what it missed");
    back.send(Message::Text(frame.into())).await.unwrap();
    let again = next_frame(&mut back, "ack").await;
    assert_eq!((again["seq"].clone(), again["duplicate"].clone()), (ack["seq"].clone(), json!(true)));

    // The long poll: waits, then answers with the new message.
    let waiting = {
        let (http, url, parent) =
            (app.http.clone(), app.url(&format!("{path}?after={}&wait=10", missed["message"]["seq"])), parent.clone());
        tokio::spawn(
            async move { http.get(url).bearer_auth(parent).send().await.unwrap().json::<Value>().await.unwrap() },
        )
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (_, late) = app.post(&supporter, &path, &json!({"client_id": "late", "body": "おやすみなさい"})).await;
    let polled = waiting.await.unwrap();
    assert_eq!(polled["messages"][0]["seq"], late["message"]["seq"]);

    // Read state: the supporter's list shows the room read up to where they wrote.
    let (status, _) = app.post(&parent, &format!("/api/v1/chat/rooms/{room}/read"), &json!({"seq": 1})).await;
    assert_eq!(status, 204);

    // A lost wake-up (stored on another node whose NOTIFY never came):
    // every socket of the room still receives it, by the safety net's look
    // at the node's shared last number of the room.
    let now = late["message"]["seq"].as_i64().unwrap();
    let mut socks = Vec::new();
    for _ in 0..2 {
        socks.push(socket_with_token(&app, room, now, &parent).await.unwrap());
    }
    let ctx = Requester {
        municipality_id: app.fx.setagaya.id,
        actor: AccountId(first["message"]["author"].as_i64().unwrap()),
        role: Role::ChatParent,
        remote_addr: "test".into(),
        reason: "test".into(),
        at: app.clock.now(),
    }
    .without_a_policy_decision();
    let quiet = app
        .store
        .post_message(
            &ctx,
            tsunagu_domain::RoomId(room),
            &tsunagu_domain::chat::messages::ClientId::parse("no-wake").unwrap(),
            &tsunagu_domain::chat::messages::MessageText::parse("静かに届く").unwrap(),
            false,
        )
        .await
        .unwrap();
    for sock in &mut socks {
        let got = loop {
            let m = tokio::time::timeout(Duration::from_secs(30), sock.next()).await.expect("the safety net's look");
            let Some(Ok(Message::Text(t))) = m else { panic!("socket closed: {m:?}") };
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            if v["type"] == "message" {
                break v;
            }
        };
        assert_eq!(got["message"]["seq"], json!(quiet.message.seq));
    }
}

async fn story_self_harm_words_show_help_at_once_and_an_escalation_reaches_the_nurse(backend: Backend) {
    let app = TestApp::start_demo(backend, 20).await;
    let supporter = app.demo_token("supporter").await;
    let nurse = app.demo_token("nurse").await;
    let admin = app.demo_token("admin").await;
    let kotori = parent_token(&app, PARENTS[1].0).await;
    let room = rooms_of(&app, &kotori).await[0];
    let path = format!("/api/v1/chat/rooms/{room}/messages");

    let (_, plain) = app.post(&kotori, &path, &json!({"client_id": "p1", "body": "眠いです"})).await;
    assert!(plain.get("help_lines").is_none());
    let (status, worried) = app.post(&kotori, &path, &json!({"client_id": "p2", "body": "もう消えたい"})).await;
    assert_eq!(status, 201);
    let lines = worried["help_lines"].as_array().unwrap();
    assert!(lines.iter().any(|l| l["number"] == "0120-279-338"), "{lines:?}");
    assert!(lines.iter().all(|l| l["source"].as_str().unwrap().starts_with("https://")));
    // The operator sees the room urgent — no message text — and may then read it.
    let (status, health) = app.get(&admin, "/api/v1/chat/health").await;
    assert_eq!(status, 200);
    let row = health["rooms"].as_array().unwrap().iter().find(|r| r["room"] == room).unwrap().clone();
    assert_eq!(row["urgent"], json!(true));
    assert!(!health.to_string().contains("消えたい"));
    assert_eq!(app.get(&admin, &path).await.0, 200);
    // Too long, or empty: a clear error.
    let long = "あ".repeat(2001);
    let (status, err) = app.post(&kotori, &path, &json!({"client_id": "p3", "body": long})).await;
    assert_eq!(status, 422);
    assert!(err.to_string().contains("message_too_long"), "{err}");

    // A supporter of the team escalates; the nurse gets a referral; the supporter sees its status only.
    let mine = rooms_of(&app, &supporter).await;
    let team_room = mine[0];
    let (status, e) = app
        .post(
            &supporter,
            &format!("/api/v1/chat/rooms/{team_room}/escalations"),
            &json!({"note": "眠れない日が続き、涙が出ると話している", "urgent": true}),
        )
        .await;
    assert_eq!(status, 201, "{e}");
    assert_eq!(e["status"], "received");
    let (_, referrals) = app.get(&nurse, "/api/v1/referrals?open=true").await;
    let r = referrals["referrals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["source"] == "chat_escalation" && r["note"].as_str().is_some_and(|n| n.contains("涙が出る")))
        .unwrap_or_else(|| panic!("{referrals}"))
        .clone();
    let id = r["id"].as_i64().unwrap();
    let (status, _) = app.post(&nurse, &format!("/api/v1/referrals/{id}/receive"), &json!({})).await;
    assert_eq!(status, 204);
    let (_, mine) = app.get(&supporter, "/api/v1/chat/escalations").await;
    let listed = mine["escalations"].as_array().unwrap().iter().find(|x| x["id"] == e["id"]).unwrap().clone();
    assert_eq!(listed["status"], "taken_up");
    assert!(!mine.to_string().contains("family"), "{mine}");
    // Now escalated, the nurse may read the room.
    assert_eq!(app.get(&nurse, &format!("/api/v1/chat/rooms/{team_room}/messages")).await.0, 200);
}

async fn story_the_operator_vets_supporters_and_sets_suggested_teams(backend: Backend) {
    let app = TestApp::start_demo(backend, 20).await;
    let admin = app.demo_token("admin").await;
    let nurse = app.demo_token("nurse").await;
    let supporter = app.demo_token("supporter").await;
    let (room, _) = new_room(&app, &nurse, "usagi").await;
    let (status, s) = app.get(&admin, "/api/v1/chat/teams/suggestions").await;
    assert_eq!(status, 200, "{s}");
    assert!(
        s["unfilled"].as_array().unwrap().iter().any(|r| r == room)
            || s["teams"].as_array().unwrap().iter().any(|t| t["room"] == room)
    );
    if let Some(t) = s["teams"].as_array().unwrap().iter().find(|t| t["room"] == room) {
        let (status, body) = app.post(&admin, "/api/v1/chat/supporters/1/state", &json!({"state": "nonsense"})).await;
        assert_eq!(status, 422, "{body}");
        let resp = app
            .http
            .put(app.url(&format!("/api/v1/chat/rooms/{room}/team")))
            .bearer_auth(&admin)
            .json(&t["team"])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 204);
    }
    // A supporter cannot run the chat; a suspended one loses their rooms.
    assert_eq!(app.get(&supporter, "/api/v1/chat/supporters").await.0, 403);
    let (_, list) = app.get(&admin, "/api/v1/chat/supporters").await;
    let me =
        list["supporters"].as_array().unwrap().iter().find(|x| x["display_name"] == "応援団 デモ").unwrap().clone();
    let before = rooms_of(&app, &supporter).await;
    assert!(!before.is_empty());
    let (status, _) = app
        .post(&admin, &format!("/api/v1/chat/supporters/{}/state", me["account"]), &json!({"state": "suspended"}))
        .await;
    assert_eq!(status, 204);
    assert!(rooms_of(&app, &supporter).await.is_empty());
    assert_eq!(app.get(&supporter, &format!("/api/v1/chat/rooms/{}/messages", before[0])).await.0, 403);
}

on_both!(
    rooms_are_reached_only_by_their_parent_and_team => story_rooms_are_reached_only_by_their_parent_and_team,
    no_chat_answer_to_a_supporter_holds_a_real_name => story_no_chat_answer_to_a_supporter_holds_a_real_name,
    a_resend_is_stored_once_and_a_reconnect_gets_what_it_missed => story_a_resend_is_stored_once_and_a_reconnect_gets_what_it_missed,
    self_harm_words_show_help_at_once_and_an_escalation_reaches_the_nurse => story_self_harm_words_show_help_at_once_and_an_escalation_reaches_the_nurse,
    the_operator_vets_supporters_and_sets_suggested_teams => story_the_operator_vets_supporters_and_sets_suggested_teams,
);
