//! The checklist (#13), the parts the other chat tests leave out,
//! on the demo data and both databases: a supporter's escalation is on the
//! nurse's work list (the urgent follow-ups, API and page); the chat's
//! remaining answers to a supporter (the unread count, the inbox socket, the
//! long poll, a read mark, an escalation's answer) carry no real name of the
//! demo's families; a supporter's socket follows who may see the room — it
//! keeps receiving after the operator sets the same team again, and it
//! closes when the supporter registers anew (back to being vetted) while the
//! parent's socket stays.

use crate::chat::{demo_supporter, next_frame, parent_token, rooms_of, socket_with_token, visitor, Socket};
use crate::support::*;
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tsunagu_demo::chat::PARENTS;
use tsunagu_domain::audit::Requester;
use tsunagu_domain::clock::Clock;
use tsunagu_domain::policy::FamilyFilter;
use tsunagu_domain::roles::Role;
use tsunagu_domain::AccountId;

/// The demo's mothers' names (kanji and kana, with and without the space).
async fn real_names(app: &TestApp) -> Vec<String> {
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
    let mut names = vec![];
    for f in &families {
        for n in [&f.mother_name, &f.mother_kana] {
            names.push(n.clone());
            names.push(n.replace(' ', ""));
        }
    }
    assert!(names.len() >= 40);
    names
}

/// The parent of the supporter's first room: (token, room).
async fn parent_of_first_room(app: &TestApp, supporter: &str) -> (String, i64) {
    let room = rooms_of(app, supporter).await[0];
    let name = app.get(supporter, "/api/v1/chat/rooms").await.1["rooms"][0]["display_name"].clone();
    let username = PARENTS.iter().find(|(_, d)| json!(d) == name).unwrap().0;
    (parent_token(app, username).await, room)
}

async fn put(app: &TestApp, token: &str, path: &str, body: &Value) -> (u16, Value) {
    let resp = app.http.put(app.url(path)).bearer_auth(token).json(body).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Whether the socket ends (closed or gone) within a few seconds.
async fn closes(s: &mut Socket) -> bool {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match s.next().await {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await
    .is_ok()
}

async fn story_an_escalation_is_on_the_nurses_work_list(backend: Backend) {
    let app = TestApp::start_demo(backend, 20).await;
    let supporter = app.demo_token("supporter").await;
    let nurse = app.demo_token("nurse").await;
    let room = rooms_of(&app, &supporter).await[0];
    let urgent_list = "/api/v1/worklist?list=urgent&whose=all";
    let chat_followups = |v: &Value| -> Vec<i64> {
        v["followups"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["source"] == "chat_escalation")
            .map(|r| r["id"].as_i64().unwrap())
            .collect()
    };
    let (status, before) = app.get(&nurse, urgent_list).await;
    assert_eq!(status, 200, "{before}");
    let before = chat_followups(&before);
    let (status, e) = app
        .post(
            &supporter,
            &format!("/api/v1/chat/rooms/{room}/escalations"),
            &json!({"note": "夜も眠れず、食事もとれていないと話している", "urgent": true}),
        )
        .await;
    assert_eq!(status, 201, "{e}");
    let (_, after) = app.get(&nurse, urgent_list).await;
    let new: Vec<i64> = chat_followups(&after).into_iter().filter(|id| !before.contains(id)).collect();
    assert_eq!(new.len(), 1, "the escalation is one follow-up on the nurse's work list: {after}");
    // The same on the nurse's work-list page.
    let n = tsunagu_demo::demo_accounts().into_iter().find(|a| a.username == "nurse").unwrap();
    let mut page = visitor(&app, "nurse", n.password, n.totp_secret).await;
    let body = page.get("/worklist?list=urgent&whose=all").await.body;
    assert!(body.contains(&format!("href=\"/referrals/{}\"", new[0])), "the work-list page shows the referral");
    assert!(body.contains("data-source=\"chat_escalation\""));
}

async fn story_the_chats_other_answers_to_a_supporter_hold_no_real_name(backend: Backend) {
    let app = TestApp::start_demo(backend, 20).await;
    let names = real_names(&app).await;
    let supporter = app.demo_token("supporter").await;
    let (parent, room) = parent_of_first_room(&app, &supporter).await;
    let path = format!("/api/v1/chat/rooms/{room}");
    let mut seen: Vec<(String, String)> = vec![];

    // The inbox socket's first frame, then a parent's message: a notice and the count.
    let mut req = format!("ws://{}/chat/inbox/ws", app.addr).into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {supporter}").parse().unwrap());
    let (mut inbox, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let first = next_frame(&mut inbox, "unread").await;
    let (_, posted) =
        app.post(&parent, &format!("{path}/messages"), &json!({"client_id": "nm-1", "body": "こんばんは"})).await;
    let notice = next_frame(&mut inbox, "new").await;
    assert_eq!(notice["room"], json!(room));
    let count = next_frame(&mut inbox, "unread").await;
    seen.push(("inbox socket".into(), format!("{first}{notice}{count}")));

    for p in ["/chat/unread".to_owned(), format!("{path}/messages?after=0&wait=0")] {
        let resp = app.http.get(app.url(&p)).bearer_auth(&supporter).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{p}");
        seen.push((p, resp.text().await.unwrap()));
    }
    let seq = posted["message"]["seq"].as_i64().unwrap();
    for (p, body) in [
        (format!("{path}/read"), json!({"seq": seq})),
        (format!("{path}/escalations"), json!({"note": "気になる様子", "message_seq": seq})),
    ] {
        let resp = app.http.post(app.url(&p)).bearer_auth(&supporter).json(&body).send().await.unwrap();
        assert!(resp.status().is_success(), "{p}: {}", resp.status());
        seen.push((p, resp.text().await.unwrap()));
    }
    // The supporter's pages after the escalation: the room and its list.
    let s = demo_supporter();
    let mut page = visitor(&app, "supporter", s.password, s.totp_secret).await;
    for p in ["/chat".to_owned(), format!("/chat/rooms/{room}")] {
        seen.push((p.clone(), page.get(&p).await.body));
    }
    for (p, body) in &seen {
        for n in &names {
            assert!(!body.contains(n.as_str()), "{p} names {n}");
        }
    }
}

async fn story_a_supporters_socket_follows_who_may_see_the_room(backend: Backend) {
    let app = TestApp::start_demo(backend, 20).await;
    let supporter = app.demo_token("supporter").await;
    let admin = app.demo_token("admin").await;
    let (parent, room) = parent_of_first_room(&app, &supporter).await;
    let path = format!("/api/v1/chat/rooms/{room}/messages");
    let (_, list) = app.get(&supporter, &path).await;
    let last = list["messages"].as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap()).max().unwrap_or(0);
    let mut theirs = socket_with_token(&app, room, last, &supporter).await.unwrap();
    let mut parents = socket_with_token(&app, room, last, &parent).await.unwrap();

    // The operator sets the room's team again, the same three: a change is
    // told, the facts are read again, and the supporter still receives.
    let (_, health) = app.get(&admin, "/api/v1/chat/health").await;
    let row = health["rooms"].as_array().unwrap().iter().find(|r| r["room"] == json!(room)).unwrap().clone();
    let member = |slot: &str| {
        row["team"].as_array().unwrap().iter().find(|m| m["slot"] == slot).map(|m| m["account"].clone()).unwrap()
    };
    let team = json!({
        "professional": member("professional"),
        "raising_toddler": member("raising_toddler"),
        "no_parenting_experience": member("no_parenting_experience"),
    });
    let (status, body) = put(&app, &admin, &format!("/api/v1/chat/rooms/{room}/team"), &team).await;
    assert_eq!(status, 204, "{body}");
    let (_, m) = app.post(&parent, &path, &json!({"client_id": "after-team", "body": "まだいますか"})).await;
    for s in [&mut theirs, &mut parents] {
        assert_eq!(next_frame(s, "message").await["message"]["seq"], m["message"]["seq"]);
    }

    // The supporter registers anew (their attributes changed): back to
    // being vetted, off every room at once — their socket closes, the
    // parent's stays, and the API refuses them the room.
    let attributes =
        json!({"profession": "medical", "raising_toddler": false, "no_parenting_experience": false, "capacity": 3});
    let (status, body) = put(&app, &supporter, "/api/v1/chat/supporter", &attributes).await;
    assert_eq!(status, 204, "{body}");
    assert!(closes(&mut theirs).await, "the supporter's socket closes once they are no longer on an active team");
    let (_, m) = app.post(&parent, &path, &json!({"client_id": "after-vetting", "body": "おやすみなさい"})).await;
    assert_eq!(next_frame(&mut parents, "message").await["message"]["seq"], m["message"]["seq"]);
    assert_eq!(app.get(&supporter, &path).await.0, 403);
    assert_eq!(socket_with_token(&app, room, 0, &supporter).await.err(), Some(403));
}

on_both!(
    an_escalation_is_on_the_nurses_work_list => story_an_escalation_is_on_the_nurses_work_list,
    the_chats_other_answers_to_a_supporter_hold_no_real_name => story_the_chats_other_answers_to_a_supporter_hold_no_real_name,
    a_supporters_socket_follows_who_may_see_the_room => story_a_supporters_socket_follows_who_may_see_the_room,
);
