//! The audit chain against someone who can write the database but does not
//! hold the key: every forgery below passes the unkeyed chain of before, and
//! is caught by the real `tsunagu audit verify`. And TOTP secrets at rest.

use crate::support::*;
use sqlx::Connection;
use tsunagu_domain::audit::{AuditAction, AuditContext, AuditLine, GENESIS};
use tsunagu_domain::clock::Clock;
use tsunagu_domain::keys::MasterKey;
use tsunagu_domain::roles::Role;
use tsunagu_domain::{AccountId, MunicipalityId};
use tsunagu_store::StoreKeys;

/// A raw connection to the test's database: the attacker's.
enum Raw {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl Raw {
    async fn open(app: &TestApp) -> Raw {
        match app.backend {
            Backend::Sqlite => Raw::Sqlite(sqlx::SqliteConnection::connect(&app.db_url).await.unwrap()),
            Backend::Postgres => Raw::Postgres(sqlx::PgConnection::connect(&app.db_url).await.unwrap()),
        }
    }

    async fn exec(&mut self, sql: &str) -> Result<u64, sqlx::Error> {
        match self {
            Raw::Sqlite(c) => sqlx::query(sql).execute(c).await.map(|r| r.rows_affected()),
            Raw::Postgres(c) => sqlx::query(sql).execute(c).await.map(|r| r.rows_affected()),
        }
    }

    async fn text(&mut self, sql: &str) -> Option<String> {
        match self {
            Raw::Sqlite(c) => sqlx::query_scalar(sql).fetch_one(c).await.unwrap(),
            Raw::Postgres(c) => sqlx::query_scalar(sql).fetch_one(c).await.unwrap(),
        }
    }

    /// What the product's guards refuse, then what an owner of the
    /// database does: switch them off.
    async fn drop_guards(&mut self, backend: Backend, m: MunicipalityId) {
        let m = m.0;
        for refused in [
            format!("DELETE FROM audit_heads WHERE municipality_id = {m}"),
            format!("UPDATE audit_heads SET seq = seq - 1 WHERE municipality_id = {m}"),
            format!("UPDATE audit_heads SET hash = '{GENESIS}' WHERE municipality_id = {m}"),
            format!("UPDATE audit_heads SET seq = seq + 1 WHERE municipality_id = {m}"),
            format!("DELETE FROM audit_log WHERE municipality_id = {m}"),
        ] {
            assert!(self.exec(&refused).await.is_err(), "{refused}");
        }
        match backend {
            Backend::Sqlite => {
                for t in [
                    "audit_log_no_update",
                    "audit_log_no_delete",
                    "audit_heads_start",
                    "audit_heads_advance",
                    "audit_heads_no_delete",
                ] {
                    self.exec(&format!("DROP TRIGGER {t}")).await.unwrap();
                }
            }
            Backend::Postgres => {
                assert!(self.exec("TRUNCATE audit_heads").await.is_err());
                self.exec("ALTER TABLE audit_log DISABLE TRIGGER USER").await.unwrap();
                self.exec("ALTER TABLE audit_heads DISABLE TRIGGER USER").await.unwrap();
            }
        }
    }
}

fn ctx(app: &TestApp, m: MunicipalityId) -> AuditContext {
    tsunagu_domain::audit::Requester {
        municipality_id: m,
        actor: AccountId(1),
        role: Role::Admin,
        remote_addr: "127.0.0.1".into(),
        reason: "test".into(),
        at: app.clock.now(),
    }
    .without_a_policy_decision()
}

/// Writes `n` lines to `m`'s chain.
async fn lines(app: &TestApp, m: MunicipalityId, n: usize) {
    for i in 0..n {
        app.store.write_audit(&ctx(app, m), AuditAction::AuditSearch, None, &format!("n={i}")).await.unwrap();
    }
}

async fn chain(app: &TestApp, m: MunicipalityId) -> Vec<AuditLine> {
    app.store.audit_lines(m, 0, 1000).await.unwrap()
}

/// (a) The last lines removed and the head moved back to the line before
/// them: the chain alone is consistent, the checkpoint of the removed lines
/// is not met.
async fn story_truncated_tail_with_head_moved_back(backend: Backend) {
    let app = TestApp::start(backend).await;
    let m = app.fx.setagaya.id;
    lines(&app, m, 5).await;
    assert_eq!(app.write_checkpoints().await, 1);
    let (ok, out) = app.verify_command(&[]);
    assert!(ok && out.contains("131121: ok (5 lines)"), "{out}");

    let kept = chain(&app, m).await[2].clone();
    let mut raw = Raw::open(&app).await;
    raw.drop_guards(backend, m).await;
    raw.exec(&format!("DELETE FROM audit_log WHERE municipality_id = {} AND seq > 3", m.0)).await.unwrap();
    raw.exec(&format!("UPDATE audit_heads SET seq = 3, hash = '{}' WHERE municipality_id = {}", kept.hash, m.0))
        .await
        .unwrap();

    let (ok, out) = app.verify_command(&["--no-checkpoints"]);
    assert!(ok && out.contains("131121: ok (3 lines)"), "the chain alone cannot tell: {out}");
    let (ok, out) = app.verify_command(&[]);
    assert!(!ok, "{out}");
    assert!(out.contains("131121: TAMPERED: the chain ends at line 3, but a signed checkpoint saw line 5"), "{out}");
    assert!(out.contains("082350: ok (0 lines)"), "{out}");
}

/// (b) A line removed and every later line renumbered and relinked with
/// plain SHA-256, head included (all one can do without the key). Caught by
/// the keyed chain alone; and starting the service on it (which seals lines
/// of before the key) does not launder it.
async fn story_line_removed_and_chain_recomputed_without_the_key(backend: Backend) {
    let app = TestApp::start(backend).await;
    let m = app.fx.setagaya.id;
    lines(&app, m, 5).await;
    let before = chain(&app, m).await;

    let mut raw = Raw::open(&app).await;
    raw.drop_guards(backend, m).await;
    raw.exec(&format!("DELETE FROM audit_log WHERE municipality_id = {} AND seq = 2", m.0)).await.unwrap();
    let mut prev = before[0].hash.clone();
    for old in &before[2..] {
        let forged = AuditLine { seq: old.seq - 1, prev_hash: prev.clone(), ..old.clone() };
        let hash = forged.legacy_hash();
        raw.exec(&format!(
            "UPDATE audit_log SET seq = {}, prev_hash = '{prev}', hash = '{hash}' WHERE municipality_id = {} AND seq = {}",
            forged.seq, m.0, old.seq
        ))
        .await
        .unwrap();
        prev = hash;
    }
    raw.exec(&format!("UPDATE audit_heads SET seq = 4, hash = '{prev}' WHERE municipality_id = {}", m.0))
        .await
        .unwrap();
    assert_eq!(chain(&app, m).await.len(), 4);

    let expected = "131121: TAMPERED: line 2: its content does not match its hash";
    let (ok, out) = app.verify_command(&["--no-checkpoints"]);
    assert!(!ok && out.contains(expected), "{out}");
    // With no checkpoint yet, a start takes the forged tail for lines of
    // before the key and seals it; the chain still shows the forgery.
    let (ok, out) = app.command(&["migrate"], &app.key_file);
    assert!(ok, "{out}");
    assert_eq!(chain(&app, m).await.last().unwrap().action, "audit.chain_keyed");
    let (ok, out) = app.verify_command(&[]);
    assert!(!ok && out.contains(expected), "{out}");
}

/// (c) A municipality's whole chain removed (lines and head), and another
/// municipality removed altogether.
async fn story_whole_chain_wiped(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (setagaya, other) = (app.fx.setagaya.id, app.fx.other.id);
    lines(&app, setagaya, 3).await;
    lines(&app, other, 2).await;
    assert_eq!(app.write_checkpoints().await, 2);
    assert_eq!(app.write_checkpoints().await, 0, "nothing grew");
    lines(&app, setagaya, 1).await;
    assert_eq!(app.write_checkpoints().await, 1);
    let (ok, out) = app.verify_command(&[]);
    assert!(ok && out.contains("checkpoints: 3 read"), "{out}");

    let mut raw = Raw::open(&app).await;
    raw.drop_guards(backend, setagaya).await;
    raw.exec(&format!("DELETE FROM audit_log WHERE municipality_id = {}", setagaya.0)).await.unwrap();
    raw.exec(&format!("DELETE FROM audit_heads WHERE municipality_id = {}", setagaya.0)).await.unwrap();
    // The other municipality, row and all (the owner switches foreign keys off).
    match backend {
        Backend::Sqlite => raw.exec("PRAGMA foreign_keys = OFF").await.unwrap(),
        Backend::Postgres => raw.exec("SET session_replication_role = replica").await.unwrap(),
    };
    for table in ["audit_log", "audit_heads", "areas"] {
        raw.exec(&format!("DELETE FROM {table} WHERE municipality_id = {}", other.0)).await.unwrap();
    }
    raw.exec(&format!("DELETE FROM municipalities WHERE id = {}", other.0)).await.unwrap();

    let (ok, out) = app.verify_command(&["--no-checkpoints"]);
    assert!(ok && out.contains("131121: ok (0 lines)"), "the chain alone cannot tell: {out}");
    let (ok, out) = app.verify_command(&[]);
    assert!(!ok, "{out}");
    assert!(out.contains("131121: TAMPERED: the chain ends at line 0, but a signed checkpoint saw line 4"), "{out}");
    assert!(out.contains("082350: TAMPERED: the municipality has signed checkpoints but is no longer"), "{out}");

    // Covering it up in the checkpoint file needs the key too.
    let text = std::fs::read_to_string(&app.checkpoint_file).unwrap();
    std::fs::write(&app.checkpoint_file, text.replace("\"seq\":4", "\"seq\":0")).unwrap();
    let (ok, out) = app.verify_command(&[]);
    assert!(
        !ok && out.contains("checkpoints: TAMPERED") && out.contains("line 3: the signature does not match"),
        "{out}"
    );
    // A missing checkpoint file is a failure, not a pass.
    std::fs::remove_file(&app.checkpoint_file).unwrap();
    let (ok, out) = app.verify_command(&[]);
    assert!(!ok && out.contains("there is no checkpoint file"), "{out}");
}

/// Writes `n` lines to `m`'s chain as the store wrote them before the key
/// (plain SHA-256), the head advancing line by line as the triggers allow.
async fn unkeyed_lines(app: &TestApp, raw: &mut Raw, m: MunicipalityId, n: i64) {
    let mut prev = GENESIS.to_owned();
    for seq in 1..=n {
        let line = AuditLine {
            seq,
            municipality_id: m,
            at: "2026-11-22T01:00:00Z".parse().unwrap(),
            actor: AccountId(1),
            role: "admin".into(),
            action: "audit.search".into(),
            family_id: None,
            detail: String::new(),
            reason: "before the key".into(),
            remote_addr: "127.0.0.1".into(),
            prev_hash: prev.clone(),
            hash: String::new(),
        };
        let hash = line.legacy_hash();
        let at = match app.backend {
            Backend::Sqlite => "'2026-11-22T01:00:00.000000Z'",
            Backend::Postgres => "'2026-11-22T01:00:00Z'::timestamptz",
        };
        raw.exec(&format!(
            "INSERT INTO audit_log (municipality_id, seq, at, actor, role, action, family_id, detail, reason, \
             remote_addr, prev_hash, hash) VALUES ({}, {seq}, {at}, 1, 'admin', 'audit.search', NULL, '', \
             'before the key', '127.0.0.1', '{prev}', '{hash}')",
            m.0
        ))
        .await
        .unwrap();
        let first = match app.backend {
            Backend::Sqlite => format!("INSERT INTO audit_heads VALUES ({}, 1, '{hash}')", m.0),
            Backend::Postgres => format!("INSERT INTO audit_heads VALUES ({}, 0, '{GENESIS}')", m.0),
        };
        if seq == 1 {
            raw.exec(&first).await.unwrap();
        }
        if seq > 1 || app.backend == Backend::Postgres {
            raw.exec(&format!("UPDATE audit_heads SET seq = {seq}, hash = '{hash}' WHERE municipality_id = {}", m.0))
                .await
                .unwrap();
        }
        prev = hash;
    }
}

/// Lines written before the chain was keyed: refused by `verify` until a
/// start seals them with a keyed line, fine after; a start with another key
/// is then refused before it writes anything.
async fn story_lines_of_before_the_key_are_sealed_at_start(backend: Backend) {
    let app = TestApp::start(backend).await;
    let m = app.fx.setagaya.id;
    let mut raw = Raw::open(&app).await;
    unkeyed_lines(&app, &mut raw, m, 3).await;
    let (ok, out) = app.verify_command(&["--no-checkpoints"]);
    assert!(!ok && out.contains("131121: TAMPERED: the chain has only lines written before it was keyed"), "{out}");

    let (ok, out) = app.command(&["migrate"], &app.key_file);
    assert!(ok, "{out}");
    let lines = chain(&app, m).await;
    assert_eq!(lines.len(), 4);
    assert_eq!((lines[3].action.as_str(), lines[3].detail.as_str()), ("audit.chain_keyed", "legacy_through=3"));
    let (ok, out) = app.verify_command(&[]);
    assert!(ok && out.contains("131121: ok (4 lines)"), "{out}");

    // Another key: refused before anything is written, by the checkpoint
    // file it cannot verify, and without that file by the chain itself.
    let other_key = app.key_file.with_file_name("other.key");
    std::fs::write(&other_key, format!("{}\n", "ab".repeat(32))).unwrap();
    let (ok, out) = app.command(&["migrate"], &other_key);
    assert!(!ok && out.contains("the checkpoint file does not verify with this key"), "{out}");
    let moved = app.checkpoint_file.with_extension("aside");
    std::fs::rename(&app.checkpoint_file, &moved).unwrap();
    let (ok, out) = app.command(&["migrate"], &other_key);
    assert!(!ok && out.contains("ends in line 4, which is not linked with this key"), "{out}");
    assert!(!app.checkpoint_file.exists(), "nothing written");
    std::fs::rename(&moved, &app.checkpoint_file).unwrap();
    // The right key again: nothing more to seal.
    let (ok, out) = app.command(&["migrate"], &app.key_file);
    assert!(ok, "{out}");
    assert_eq!(chain(&app, m).await.len(), 4);
    let (ok, out) = app.verify_command(&[]);
    assert!(ok && out.contains("131121: ok (4 lines)"), "{out}");
}

/// TOTP secrets are sealed in the column, sign-in with TOTP works, a
/// plaintext secret of before is sealed at the next start, and a value not
/// sealed by this key for this account is refused.
async fn story_totp_secrets_are_sealed_at_rest(backend: Backend) {
    let app = TestApp::start(backend).await;
    let nurse = app.account(&app.fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let admin = app.account(&app.fx.setagaya, "admin", Role::Admin, Scope::None).await;
    let mut raw = Raw::open(&app).await;
    let column = |id: AccountId| format!("SELECT totp_secret FROM accounts WHERE id = {}", id.0);
    let stored = raw.text(&column(nurse)).await.unwrap();
    assert!(stored.starts_with("enc1:") && !stored.contains(TOTP_SECRET), "{stored}");
    assert_ne!(stored, raw.text(&column(admin)).await.unwrap(), "each sealed with its own nonce");
    app.token(&app.fx.setagaya, "nurse").await;

    // Copied onto another account: does not open.
    raw.exec(&format!("UPDATE accounts SET totp_secret = '{stored}' WHERE id = {}", admin.0)).await.unwrap();
    assert!(app.store.account(app.fx.setagaya.id, admin).await.is_err());
    // Written in plain (as before migration 0008, or by someone setting a
    // secret they know): refused until a start seals it.
    raw.exec(&format!("UPDATE accounts SET totp_secret = '{TOTP_SECRET}' WHERE id = {}", admin.0)).await.unwrap();
    assert!(app.store.account(app.fx.setagaya.id, admin).await.is_err());
    let reopened = tsunagu::open_store(&app.db_url, StoreKeys::derive(&app.master_key)).await.unwrap();
    let sealed = raw.text(&column(admin)).await.unwrap();
    assert!(sealed.starts_with("enc1:") && !sealed.contains(TOTP_SECRET), "{sealed}");
    assert_eq!(
        reopened.account(app.fx.setagaya.id, admin).await.unwrap().unwrap().totp_secret.unwrap().expose(),
        TOTP_SECRET
    );
    app.token(&app.fx.setagaya, "admin").await;
    // Another key cannot open it.
    let other = StoreKeys::derive(&MasterKey::from_bytes(&[9; 32]).unwrap());
    let stranger = tsunagu::open_store(&app.db_url, other).await.unwrap();
    assert!(stranger.account(app.fx.setagaya.id, nurse).await.is_err());
}

on_both!(
    truncated_tail_with_head_moved_back => story_truncated_tail_with_head_moved_back,
    line_removed_and_chain_recomputed_without_the_key => story_line_removed_and_chain_recomputed_without_the_key,
    whole_chain_wiped => story_whole_chain_wiped,
    lines_of_before_the_key_are_sealed_at_start => story_lines_of_before_the_key_are_sealed_at_start,
    totp_secrets_are_sealed_at_rest => story_totp_secrets_are_sealed_at_rest,
);
