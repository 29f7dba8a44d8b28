//! Group commit of chat posts (#13): concurrent posts share one write
//! transaction, and every guarantee of a post made alone still holds —
//! answered only after its commit, one audit line per new message, the
//! chain verifies, each room numbered 1..n with no gap and no repeat (also
//! with two nodes writing to one database), a resend stored once, and a
//! failed transaction fails every post in it and stores none of them. On
//! both databases.

use crate::store_support::*;
use crate::support::Backend;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tsunagu_domain::chat::invitations::code_hash;
use tsunagu_domain::chat::messages::{ClientId, MessageText};
use tsunagu_domain::roles::Role;
use tsunagu_domain::{AccountId, AreaId, MunicipalityId, RoomId};

/// `n` parents, each with a family, an invitation and a room.
async fn rooms(s: &Db, m: MunicipalityId, area: AreaId, n: usize) -> Vec<(AccountId, RoomId)> {
    let (a, b) = (["ア", "イ", "ウ", "エ", "オ"], ["カ", "キ", "ク", "ケ", "コ"]);
    let mut out = vec![];
    for i in 0..n {
        let f = family(s, m, area, &format!("{}{}コ", a[i % 5], b[(i / 5) % 5])).await;
        let hash = code_hash(&format!("BATCH{i:07}"));
        s.issue_invitation(&ctx(m, Role::Nurse), f, &hash, at("2027-11-22T00:00:00Z")).await.unwrap();
        let account = tsunagu_store::NewAccount {
            display_name: format!("ひよこ{i}"),
            ..new_account(m, &format!("batch{i}"), Role::ChatParent)
        };
        out.push(s.join_chat(m, &hash, &account, at("2026-11-23T00:00:00Z")).await.unwrap());
    }
    out
}

async fn post(
    s: &Db,
    m: MunicipalityId,
    (parent, room): (AccountId, RoomId),
    client: &str,
    body: &str,
) -> tsunagu_store::Result<tsunagu_store::Posted> {
    let c = as_staff(m, Role::ChatParent, parent.0, "2026-11-23T01:00:00Z");
    s.post_message(&c, room, &ClientId::parse(client).unwrap(), &MessageText::parse(body).unwrap(), false).await
}

async fn story_concurrent_posts_over_rooms_and_nodes_share_transactions_and_keep_every_guarantee(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let rooms = rooms(&s, m, north, 20).await;
    let before = lines_of(&s, m, "chat.post").await.len();
    // A second node on the same database: its own queue and writer.
    let other = another_node(&db).await;
    let mut tasks = vec![];
    for i in 0..220usize {
        // 200 messages, 10 per room, half through each node; and 20 resends
        // of the first ten rooms' messages racing their first.
        let node = if i % 2 == 0 { Arc::clone(&s) } else { Arc::clone(&other) };
        let (room, client) =
            if i < 200 { (rooms[i % 20], format!("m{i}")) } else { (rooms[(i - 200) % 20], format!("m{}", i - 200)) };
        tasks.push(tokio::spawn(async move { (client.clone(), post(&node, m, room, &client, "おはよう").await) }));
    }
    let mut fresh_by_room: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    let mut by_client = BTreeMap::new();
    let mut resends = vec![];
    for t in tasks {
        let (client, posted) = t.await.unwrap();
        let p = posted.unwrap_or_else(|e| panic!("{client}: {e}"));
        assert_eq!(p.message.client_id, client);
        if p.duplicate {
            resends.push(p.message);
        } else {
            fresh_by_room.entry(p.message.room.0).or_default().push(p.message.seq);
            assert!(by_client.insert(client, p.message).is_none(), "a client id stored twice");
        }
    }
    assert_eq!(by_client.len(), 200, "every message stored once");
    assert_eq!(resends.len(), 20, "every resend answered with the first");
    for r in &resends {
        assert_eq!(Some(r), by_client.get(&r.client_id));
    }
    for (parent, room) in &rooms {
        let mut seqs = fresh_by_room.remove(&room.0).unwrap_or_default();
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=10).collect::<Vec<i64>>(), "room {room}: numbers 1..10, no gap, no repeat");
        assert_eq!(s.room_last_seq(m, *room).await.unwrap(), Some(10));
        let c = as_staff(m, Role::ChatParent, parent.0, "2026-11-23T02:00:00Z");
        let stored: Vec<i64> = s.messages_after(&c, *room, 0, 100).await.unwrap().iter().map(|x| x.seq).collect();
        assert_eq!(stored, (1..=10).collect::<Vec<i64>>());
        // The author has read what they wrote.
        assert_eq!(s.read_state(m, *room).await.unwrap(), vec![(*parent, 10)]);
    }
    assert_eq!(lines_of(&s, m, "chat.post").await.len() - before, 200, "one audit line per new message");
    assert!(verify_chain(&s, m).await.is_ok(), "the chain verifies");
    close_node(other).await;
    finish(s, db).await;
}

/// Makes the store refuse a message whose text is `boom` (as a broken disk
/// or a lost connection would refuse a whole transaction).
async fn refuse_boom(db: &TestDb) {
    match db.backend {
        Backend::Sqlite => {
            exec(
                db,
                "CREATE TRIGGER boom BEFORE INSERT ON chat_messages WHEN NEW.body = 'boom' \
                      BEGIN SELECT RAISE(ABORT, 'boom'); END",
            )
            .await
            .unwrap();
        }
        Backend::Postgres => {
            exec(
                db,
                "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                      IF NEW.body = 'boom' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$",
            )
            .await
            .unwrap();
            exec(db, "CREATE TRIGGER boom BEFORE INSERT ON chat_messages FOR EACH ROW EXECUTE FUNCTION boom()")
                .await
                .unwrap();
        }
    }
}

async fn story_a_failed_turn_fails_every_post_in_it_and_stores_none(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let rooms = rooms(&s, m, north, 3).await;
    refuse_boom(&db).await;
    let before = lines_of(&s, m, "chat.post").await.len();
    // Hold the database so that the first post's turn waits, and the next
    // ones queue behind it: they form the next turn, together.
    let hold = match db.backend {
        Backend::Sqlite => {
            use sqlx::Connection;
            let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
            sqlx::query("BEGIN IMMEDIATE").execute(&mut c).await.unwrap();
            Hold::Sqlite(c)
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
            sqlx::query("BEGIN").execute(&mut c).await.unwrap();
            sqlx::query("SELECT id FROM chat_rooms WHERE id = $1 FOR UPDATE")
                .bind(rooms[0].1 .0)
                .execute(&mut c)
                .await
                .unwrap();
            Hold::Postgres(c)
        }
    };
    let first = {
        let s = Arc::clone(&s);
        let room = rooms[0];
        tokio::spawn(async move { post(&s, m, room, "first", "はじめまして").await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut tasks = vec![];
    for i in 0..9usize {
        let s = Arc::clone(&s);
        let room = rooms[i % 3];
        let body = if i == 4 { "boom" } else { "こんにちは" };
        tasks.push(tokio::spawn(async move { post(&s, m, room, &format!("n{i}"), body).await }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    match hold {
        Hold::Sqlite(mut c) => {
            sqlx::query("COMMIT").execute(&mut c).await.unwrap();
        }
        Hold::Postgres(mut c) => {
            sqlx::query("COMMIT").execute(&mut c).await.unwrap();
        }
    }
    assert_eq!(first.await.unwrap().unwrap().message.seq, 1, "the turn before is not touched");
    for t in tasks {
        let e = t.await.unwrap().expect_err("every post of the failed turn fails");
        assert!(matches!(e, tsunagu_store::StoreError::Other(_)), "{e}");
    }
    // None of them stored: no message, no number taken, no audit line.
    assert_eq!(s.room_last_seq(m, rooms[0].1).await.unwrap(), Some(1));
    assert_eq!(s.room_last_seq(m, rooms[1].1).await.unwrap(), Some(0));
    assert_eq!(s.room_last_seq(m, rooms[2].1).await.unwrap(), Some(0));
    assert_eq!(lines_of(&s, m, "chat.post").await.len() - before, 1);
    assert!(verify_chain(&s, m).await.is_ok());
    // The next turn numbers on without a gap.
    assert_eq!(post(&s, m, rooms[1], "n1", "こんにちは").await.unwrap().message.seq, 1);
    assert_eq!(post(&s, m, rooms[0], "n0", "こんにちは").await.unwrap().message.seq, 2);
    finish(s, db).await;
}

enum Hold {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

on_both!(
    multi_thread: concurrent_posts_share_transactions_and_keep_every_guarantee =>
        story_concurrent_posts_over_rooms_and_nodes_share_transactions_and_keep_every_guarantee
);
on_both!(multi_thread: a_failed_turn_fails_every_post_in_it_and_stores_none => story_a_failed_turn_fails_every_post_in_it_and_stores_none);
