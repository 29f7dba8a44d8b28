//! Storage stories about the audit chain: appends, verification, search, and
//! instants kept to the microsecond.
//! Each runs on SQLite and on PostgreSQL (`on_both!`).

use crate::store_support::*;
use crate::support::Backend;
use jiff::Timestamp;
use tsunagu_domain::audit::{AuditAction, AuditLine, ChainError, GENESIS};
use tsunagu_domain::roles::Role;
use tsunagu_domain::AccountId;
use tsunagu_store::{token_hash, AuditQuery};

async fn story_the_audit_chain_verifies_and_can_be_searched(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, other_area, _) = town(&s, "082350").await;
    let mut c = ctx(m, Role::Nurse);
    let f = s.register_notification(&c, &notification(north, "ヤマダ", "ハナコ")).await.unwrap();
    s.register_notification(&ctx(other, Role::Nurse), &notification(other_area, "ヤマダ", "ハナコ")).await.unwrap();
    for i in 0..5 {
        c.at = at("2026-11-22T02:00:00Z").checked_add(jiff::SignedDuration::from_secs(i)).unwrap();
        s.open_family(&c, f).await.unwrap().unwrap();
    }
    let mut admin = ctx(m, Role::Admin);
    admin.actor = AccountId(1);
    admin.at = at("2026-11-22T03:00:00Z");
    s.write_audit(&admin, AuditAction::AuditSearch, None, "q=all").await.unwrap();

    assert_eq!(verify_chain(&s, m).await, Ok(7));
    assert_eq!(verify_chain(&s, other).await, Ok(1));
    let head = s.audit_head(m).await.unwrap().unwrap();
    assert_eq!(head.0, 7);
    let lines = s.audit_lines(m, 0, 100).await.unwrap();
    assert_eq!(lines.iter().map(|l| l.seq).collect::<Vec<_>>(), (1..=7).collect::<Vec<_>>());
    assert_eq!(lines[0].prev_hash, GENESIS);
    assert_eq!(lines[6].hash, head.1);
    assert!(lines.iter().all(|l| l.municipality_id == m));
    assert_eq!(s.audit_lines(m, 5, 100).await.unwrap().len(), 2);

    let q = |f: fn(&mut AuditQuery)| {
        let mut q = AuditQuery { limit: 100, ..Default::default() };
        f(&mut q);
        q
    };
    let seqs = |v: Vec<AuditLine>| v.into_iter().map(|l| l.seq).collect::<Vec<_>>();
    assert_eq!(seqs(s.search_audit(m, &q(|_| {})).await.unwrap()), [7, 6, 5, 4, 3, 2, 1]);
    assert_eq!(seqs(s.search_audit(m, &q(|q| q.actor = Some(AccountId(1)))).await.unwrap()), [7]);
    assert_eq!(
        seqs(s.search_audit(m, &q(|q| q.action = Some(AuditAction::FamilyView))).await.unwrap()),
        [6, 5, 4, 3, 2]
    );
    assert_eq!(seqs(s.search_audit(m, &q(|q| q.before_seq = Some(3))).await.unwrap()), [2, 1]);
    let fam = AuditQuery { family_id: Some(f), limit: 2, ..Default::default() };
    assert_eq!(seqs(s.search_audit(m, &fam).await.unwrap()), [6, 5]);
    // `from` is inclusive, `to` exclusive, to the microsecond.
    let window = AuditQuery {
        from: Some(at("2026-11-22T02:00:01Z")),
        to: Some(at("2026-11-22T02:00:03Z")),
        limit: 100,
        ..Default::default()
    };
    assert_eq!(seqs(s.search_audit(m, &window).await.unwrap()), [4, 3]);
    let zero = AuditQuery { limit: 0, ..Default::default() };
    assert_eq!(seqs(s.search_audit(m, &zero).await.unwrap()), [7]);
    assert_eq!(seqs(s.search_audit(other, &q(|_| {})).await.unwrap()), [1]);

    // Tampering behind the store's back (a superuser switching the trigger
    // off, or whoever has the SQLite file dropping it) is found by the verifier.
    let guard = lift_audit_guard(&db).await;
    exec(&db, &format!("DELETE FROM audit_log WHERE municipality_id = {} AND seq = 7", m.0)).await.unwrap();
    assert_eq!(verify_chain(&s, m).await, Err(ChainError::Truncated { seq: 6, head_seq: 7 }));
    exec(&db, &format!("UPDATE audit_log SET reason = 'nothing' WHERE municipality_id = {} AND seq = 3", m.0))
        .await
        .unwrap();
    assert_eq!(verify_chain(&s, m).await, Err(ChainError::Edited { seq: 3 }));
    restore_audit_guard(&db, guard).await;
    assert!(exec(&db, "DELETE FROM audit_log").await.is_err());
    finish(s, db).await;
}

async fn story_concurrent_appends_give_a_gap_free_chain(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, _, _) = town(&s, "131121").await;
    let (other, _, _) = town(&s, "082350").await;
    let tasks: Vec<_> = (0..20)
        .map(|i: i64| {
            let s = s.clone();
            tokio::spawn(async move {
                for j in 0..5 {
                    let mut c = ctx(if i % 4 == 3 { other } else { m }, Role::Nurse);
                    c.actor = AccountId(i);
                    c.at = Timestamp::from_microsecond(1_795_000_000_000_000 + i * 1000 + j).unwrap();
                    s.write_audit(&c, AuditAction::SignIn, None, &format!("task={i}")).await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(verify_chain(&s, m).await, Ok(75));
    assert_eq!(verify_chain(&s, other).await, Ok(25));
    let seqs: Vec<i64> = s.audit_lines(m, 0, 1000).await.unwrap().iter().map(|l| l.seq).collect();
    assert_eq!(seqs, (1..=75).collect::<Vec<_>>());
    assert_eq!(s.audit_head(m).await.unwrap().unwrap().0, 75);
    finish(s, db).await;
}

/// The instant as both stores keep it: to the microsecond, finer digits dropped.
fn micros(t: Timestamp) -> Timestamp {
    Timestamp::from_microsecond(t.as_microsecond()).unwrap_or(t)
}

async fn story_instants_round_trip_to_the_microsecond(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let instants = [
        "2026-11-22T01:02:03.123456789Z",
        "2026-11-22T01:02:03.000001Z",
        "2026-11-22T01:02:03.999999999Z",
        "2026-11-22T01:02:03Z",
        "1969-12-31T23:59:59.5Z",
        "2099-02-28T23:59:59.999999Z",
    ];
    for (i, t) in instants.iter().enumerate() {
        let mut c = ctx(m, Role::Nurse);
        c.at = at(t);
        s.write_audit(&c, AuditAction::SignIn, None, &i.to_string()).await.unwrap();
        let line = s.audit_lines(m, i as i64, 1).await.unwrap().remove(0);
        assert_eq!(line.at, micros(at(t)), "{t}");
        assert_eq!(line.at.as_microsecond(), at(t).as_microsecond(), "{t}");
        assert_eq!(line.hash, line.expected_mac(&test_keys().chain));
    }
    assert_eq!(verify_chain(&s, m).await, Ok(instants.len() as u64));

    let acc = s.create_account(None, &new_account(m, "u", Role::Nurse)).await.unwrap();
    let mut sess = session("tok", m, acc.id, "2026-11-22T01:02:03.123456789Z");
    sess.last_seen_at = at("2026-11-22T09:00:00.000000999Z");
    s.create_session(&sess).await.unwrap();
    let got = s.session(m, &token_hash("tok")).await.unwrap().unwrap();
    assert_eq!(got.created_at, at("2026-11-22T01:02:03.123456Z"));
    assert_eq!(got.last_seen_at, at("2026-11-22T09:00:00Z"));

    let mut c = ctx(m, Role::Nurse);
    c.at = at("2026-11-22T01:02:03.654321987Z");
    s.register_notification(&c, &notification(north, "ヤマダ", "ハナコ")).await.unwrap();
    // As stored: SQLite keeps the text, PostgreSQL is asked for it in UTC.
    let created: String = scalar(
        &db,
        match backend {
            Backend::Sqlite => "SELECT created_at FROM families",
            Backend::Postgres => {
                r#"SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') FROM families"#
            }
        },
    )
    .await;
    assert_eq!(created, "2026-11-22T01:02:03.654321Z");
    finish(s, db).await;
}

/// A caller's context reaches only what the policy's decision behind it was
/// about: with a decision about one family, reading or changing another is
/// refused before anything is answered or kept, and writes no line.
async fn story_a_decision_about_one_family_opens_no_other(backend: Backend) {
    use tsunagu_domain::policy::{permit, Action, Resource};
    use tsunagu_store::StoreError;
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let system = ctx(m, Role::Nurse);
    let hanako = s.register_notification(&system, &notification(north, "ヤマダ", "ハナコ")).await.unwrap();
    let yukiko = s.register_notification(&system, &notification(north, "タナカ", "ユキコ")).await.unwrap();
    let nurse = staff_actor(m, AccountId(7), Role::Nurse);
    let access = s.family_access(m, hanako).await.unwrap().unwrap();
    let about_hanako = permit(&nurse, Action::ViewFamily, &Resource::Family(&access)).unwrap();
    let c = requester(m, Role::Nurse).allowed(&about_hanako);
    let lines_before = s.audit_lines(m, 0, 100).await.unwrap().len();
    assert!(s.open_family(&c, hanako).await.unwrap().is_some());
    assert!(matches!(s.open_family(&c, yukiko).await, Err(StoreError::OutsideTheDecision(_))));
    // So are the family's other reads (#16: they read before their line
    // goes to the group commit, so the refusal comes first).
    assert!(matches!(s.family_contacts(&c, yukiko).await, Err(StoreError::OutsideTheDecision(_))));
    assert!(matches!(s.screenings(&c, yukiko, 10).await, Err(StoreError::OutsideTheDecision(_))));
    assert!(matches!(s.family_page(&c, yukiko, None, None).await, Err(StoreError::OutsideTheDecision(_))));
    let edd = jiff::civil::date(2027, 6, 1);
    let pregnancy = s.open_family(&c, hanako).await.unwrap().unwrap().pregnancies[0].id;
    let mut editing = c.clone();
    editing.reason = "edd".into();
    assert!(matches!(
        s.change_edd(&editing, yukiko, pregnancy, edd).await,
        Err(StoreError::OutsideTheDecision(_)) | Err(StoreError::NotFound)
    ));
    let lines: Vec<_> = s.audit_lines(m, 0, 100).await.unwrap();
    // Two reads of hanako's record; nothing about yukiko after the registrations.
    assert_eq!(lines.len(), lines_before + 2);
    assert!(lines[lines_before..].iter().all(|l| l.family_id == Some(hanako)));
    finish(s, db).await;
}

/// A head advances by the line's key, whatever the planner knows of the
/// log (#16): the guard of 0008 looks the line just appended up by
/// (municipality, seq). In a database without statistics (a new one, before
/// autovacuum's first ANALYZE) a connection planned it once by another
/// index led by the municipality — every line of the city read, filtered by
/// seq — and kept that plan, so every audited read grew slower as the log
/// grew (BENCHMARKS.md, 2026-12-06). PostgreSQL counts each index's scans;
/// SQLite's triggers read by the key whatever a table holds (its story
/// writes the same lines).
async fn story_a_head_advances_by_the_lines_key(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, ..) = town(&s, "131121").await;
    let mut admin = ctx(m, Role::Admin);
    admin.actor = AccountId(1);
    // Some lines, then a node whose connections are new.
    for _ in 0..500 {
        s.write_audit(&admin, AuditAction::AuditSearch, None, "q=all").await.unwrap();
    }
    drop(s);
    let s = another_node(&db).await;
    for _ in 0..500 {
        s.write_audit(&admin, AuditAction::AuditSearch, None, "q=all").await.unwrap();
    }
    // Its connections end, and each reports what it read as it ends.
    drop(s);
    if backend == Backend::Postgres {
        let sql = "SELECT COALESCE(SUM(idx_scan) FILTER (WHERE indexrelname = 'audit_log_pkey'), 0)::bigint, \
                   COALESCE(SUM(idx_scan) FILTER (WHERE indexrelname <> 'audit_log_pkey'), 0)::bigint \
                   FROM pg_stat_user_indexes WHERE relname = 'audit_log'";
        let mut counted = (0i64, 0i64);
        for _ in 0..100 {
            let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&db.url).await.unwrap();
            counted = sqlx::query_as(sql).fetch_one(&mut c).await.unwrap();
            drop(c);
            if counted.0 + counted.1 >= 1000 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(counted.0 >= 1000, "every step found its line by the key: {counted:?}");
        assert_eq!(counted.1, 0, "no step read the city's lines by another index: {counted:?}");
    }
    let s = another_node(&db).await;
    assert!(verify_chain(&s, m).await.unwrap() >= 1000);
    finish(s, db).await;
}

/// Two nodes append to one chain in turn, with a change's own line between
/// (#16: on PostgreSQL a node links a batch of reads' lines to the heads it
/// last saw and `audit_append` checks them; a head another node or another
/// transaction moved is answered, and the lines are linked to it again).
async fn story_nodes_appending_in_turn_keep_one_chain(backend: Backend) {
    let (a, db) = fresh(backend).await;
    let (m, ..) = town(&a, "131121").await;
    let b = another_node(&db).await;
    let admin = ctx(m, Role::Admin);
    for i in 0..6 {
        let node = if i % 2 == 0 { &a } else { &b };
        node.write_audit(&admin, AuditAction::SignIn, None, &format!("read={i}")).await.unwrap();
    }
    // A change writes its line in its own transaction; then both nodes read again.
    a.create_account(Some(&admin), &new_account(m, "nurse2", Role::Nurse)).await.unwrap();
    a.write_audit(&admin, AuditAction::SignIn, None, "read=6").await.unwrap();
    b.write_audit(&admin, AuditAction::SignIn, None, "read=7").await.unwrap();
    let lines = a.audit_lines(m, 0, 100).await.unwrap();
    let reads: Vec<&str> = lines.iter().filter(|l| l.action == "account.sign_in").map(|l| l.detail.as_str()).collect();
    assert_eq!(reads, (0..8).map(|i| format!("read={i}")).collect::<Vec<_>>());
    assert_eq!(lines.iter().map(|l| l.seq).collect::<Vec<_>>(), (1..=lines.len() as i64).collect::<Vec<_>>());
    assert_eq!(verify_chain(&a, m).await, Ok(lines.len() as u64));
    close_node(b).await;
    finish(a, db).await;
}

/// PostgreSQL's `audit_append` (0038, and 0040's path for a batch of one
/// line) appends only lines that follow their chain's head, and otherwise
/// writes nothing and answers the head as it is, for the node to link its
/// lines again. Called here with made-up hashes (the database never sees
/// the chain key): what is checked is the function's bookkeeping. SQLite
/// writes its batches by its own statements and has no such function.
async fn story_audit_append_answers_a_line_that_does_not_follow_with_the_head(backend: Backend) {
    if backend == Backend::Sqlite {
        return;
    }
    let (s, db) = fresh(backend).await;
    let (m, ..) = town(&s, "131121").await;
    s.write_audit(&ctx(m, Role::Admin), AuditAction::SignIn, None, "first").await.unwrap();
    let (seq, hash) = s.audit_head(m).await.unwrap().unwrap();
    let lines = || scalar::<i64>(&db, "SELECT COUNT(*) FROM audit_log");
    let before = lines().await;
    // `n` lines of municipality `m` numbered from `first`, the first linked to `prev`.
    let append = |first: i64, prev: String, n: i64| {
        format!(
            "SELECT COALESCE(string_agg(municipality_id || ':' || seq || ':' || hash, ','), '') FROM audit_append(\
             array_fill({m}::bigint, ARRAY[{n}]), ARRAY(SELECT generate_series({first}::bigint, {first} + {n} - 1)), \
             array_fill(now(), ARRAY[{n}]), array_fill(1::bigint, ARRAY[{n}]), array_fill('admin'::text, ARRAY[{n}]), \
             array_fill('account.sign_in'::text, ARRAY[{n}]), array_fill(NULL::bigint, ARRAY[{n}]), \
             array_fill('x'::text, ARRAY[{n}]), array_fill('test'::text, ARRAY[{n}]), \
             array_fill('192.0.2.1'::text, ARRAY[{n}]), \
             ARRAY['{prev}'] || ARRAY(SELECT lpad(i::text, 64, 'a') FROM generate_series({first}, {first} + {n} - 2) i), \
             ARRAY(SELECT lpad(i::text, 64, 'a') FROM generate_series({first}, {first} + {n} - 1) i))",
            m = m.0
        )
    };
    let head = format!("{}:{seq}:{hash}", m.0);
    // One line with a number past the head's, then one whose previous hash
    // is not the head's, then two lines so: nothing written, the head answered.
    assert_eq!(scalar::<String>(&db, &append(seq + 2, hash.clone(), 1)).await, head);
    assert_eq!(scalar::<String>(&db, &append(seq + 1, "b".repeat(64), 1)).await, head);
    assert_eq!(scalar::<String>(&db, &append(seq + 2, hash.clone(), 2)).await, head);
    assert_eq!(lines().await, before);
    // One line that follows: written, nothing answered, the head moved to it.
    assert_eq!(scalar::<String>(&db, &append(seq + 1, hash.clone(), 1)).await, "");
    let one = format!("{seq:a>64}", seq = seq + 1);
    assert_eq!(s.audit_head(m).await.unwrap(), Some((seq + 1, one.clone())));
    // Two that follow: both written, the head at the second.
    assert_eq!(scalar::<String>(&db, &append(seq + 2, one, 2)).await, "");
    assert_eq!(s.audit_head(m).await.unwrap(), Some((seq + 3, format!("{s:a>64}", s = seq + 3))));
    assert_eq!(lines().await, before + 3);
    finish(s, db).await;
}

on_both!(
    a_decision_about_one_family_opens_no_other => story_a_decision_about_one_family_opens_no_other,
    the_audit_chain_verifies_and_can_be_searched => story_the_audit_chain_verifies_and_can_be_searched,
    instants_round_trip_to_the_microsecond => story_instants_round_trip_to_the_microsecond,
    a_head_advances_by_the_lines_key => story_a_head_advances_by_the_lines_key,
    nodes_appending_in_turn_keep_one_chain => story_nodes_appending_in_turn_keep_one_chain,
    audit_append_answers_a_line_that_does_not_follow_with_the_head => story_audit_append_answers_a_line_that_does_not_follow_with_the_head,
);

on_both!(multi_thread:
    concurrent_appends_give_a_gap_free_chain => story_concurrent_appends_give_a_gap_free_chain,
);
