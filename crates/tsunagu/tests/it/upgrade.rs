//! Databases made by an earlier schema, upgraded by this build: a SQLite file
//! and a plain-SQL PostgreSQL dump (`tests/fixtures/schema-0015.*`, made with
//! `tsunagu demo-load --families 2` when migration 0015 was the newest (0011–0015
//! landed together; the dump by `pg_dump --inserts --no-owner --no-privileges`,
//! its `\restrict` lines removed), with
//! the key beside them) are opened, migrated through every migration added
//! since, and still hold what they held, with an audit chain that verifies.
//! Keep these files as they are: a later schema is what they test.

use crate::support::{fresh_db, pg_url, Backend};
use sqlx::Connection;
use std::path::{Path, PathBuf};
use tsunagu_store::StoreKeys;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn fixture_keys() -> tsunagu_domain::keys::MasterKey {
    let (key, _) = tsunagu::keyfile::load_key(None, Some(&fixture("schema-0015.key")), Path::new("unused"), false)
        .expect("the fixture's key");
    key
}

/// The fixture as a fresh database of `backend`; its URL.
async fn from_fixture(backend: Backend) -> String {
    match backend {
        Backend::Sqlite => {
            let url = fresh_db(Backend::Sqlite).await;
            let path = url.trim_start_matches("sqlite://");
            std::fs::copy(fixture("schema-0015.db"), path).unwrap();
            url
        }
        Backend::Postgres => {
            let name = format!("tsunagu_upgrade_{}", std::process::id());
            let mut admin = sqlx::PgConnection::connect(&pg_url()).await.unwrap();
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(&mut admin).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.unwrap();
            admin.close().await.unwrap();
            let url = format!("{}/{name}", pg_url().rsplit_once('/').unwrap().0);
            let dump = std::fs::read_to_string(fixture("schema-0015.pg.sql")).unwrap();
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::raw_sql(&dump).execute(&mut c).await.unwrap();
            c.close().await.unwrap();
            url
        }
    }
}

async fn story_a_database_of_schema_0015_upgrades(backend: Backend) {
    let url = from_fixture(backend).await;
    let master = fixture_keys();
    let store = tsunagu::open_store(&url, StoreKeys::derive(&master)).await.expect("upgrades");
    let status = store.schema_status().await.unwrap();
    assert!(status.is_current() && status.unknown.is_empty(), "{status:?}");
    let municipalities = store.municipalities().await.unwrap();
    let codes: Vec<String> = municipalities.iter().map(|m| m.code.to_string()).collect();
    assert_eq!(codes.len(), 2, "{codes:?}");
    for m in &municipalities {
        assert!(!store.areas(m.id).await.unwrap().is_empty());
    }
    // The chain written under the old schema still verifies with its key,
    // and a start with the key accepts it.
    for r in tsunagu::verify_audit(store.as_ref(), &master.chain_key(), &[]).await.unwrap() {
        assert!(r.result.is_ok(), "{}: {:?}", r.municipality_code, r.result);
    }
    tsunagu::prepare_audit(store.as_ref(), &master.chain_key(), &[], jiff::Timestamp::UNIX_EPOCH).await.unwrap();
    // The daily job runs over the upgraded data.
    let today = jiff::civil::date(2026, 12, 6);
    let run = tsunagu::daily::run_timeline_once(
        store.as_ref(),
        today,
        "upgrade-test",
        "2026-12-06T00:00:00Z".parse().unwrap(),
    )
    .await
    .unwrap();
    assert!(matches!(run, tsunagu::daily::DailyRun::Ran(_)), "{run:?}");
    drop(store);
    if backend == Backend::Postgres {
        let name = url.rsplit_once('/').unwrap().1.to_owned();
        let mut admin = sqlx::PgConnection::connect(&pg_url()).await.unwrap();
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin).await.unwrap();
    }
}

on_both!(a_database_of_schema_0015_upgrades => story_a_database_of_schema_0015_upgrades);
