//! Storage stories about migrations: sqlx's migrator over each back end's
//! embedded `MIGRATIONS`, and the takeover of a database made by the runner
//! we had before it. Each starts from an EMPTY database (not the migrated
//! template) and runs on SQLite and on PostgreSQL (`on_both!`).

use crate::store_support::{exec, scalar, test_keys, TestDb};
use crate::support::{pg_url, Backend};
use sqlx::Connection;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use tsunagu_store::migrations::Migration;
use tsunagu_store::StoreError;
use tsunagu_store_postgres::PgStore;
use tsunagu_store_sqlite::SqliteStore;

// --- empty databases ----------------------------------------------------------

async fn empty_db(backend: Backend) -> TestDb {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let url = match backend {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!("tsunagu-migrations-{}-{n}.sqlite3", std::process::id()));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            format!("sqlite://{}", path.display())
        }
        Backend::Postgres => {
            let name = format!("tsunagu_mig_{}_{n}", std::process::id());
            let mut c = sqlx::PgConnection::connect(&pg_url()).await.expect("PostgreSQL must be reachable");
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(&mut c).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut c).await.unwrap();
            c.close().await.ok();
            let base = pg_url().rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap();
            format!("{base}/{name}")
        }
    };
    TestDb { backend, url }
}

async fn remove(db: TestDb) {
    match db.backend {
        Backend::Sqlite => {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", db.url.trim_start_matches("sqlite://")));
            }
        }
        Backend::Postgres => {
            let name = db.url.rsplit_once('/').map(|(_, n)| n).unwrap();
            let mut c = sqlx::PgConnection::connect(&pg_url()).await.unwrap();
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut c).await.unwrap();
            c.close().await.ok();
        }
    }
}

// --- the back ends' migrations --------------------------------------------------

fn registered(backend: Backend) -> &'static [Migration] {
    match backend {
        Backend::Sqlite => tsunagu_store_sqlite::MIGRATIONS,
        Backend::Postgres => tsunagu_store_postgres::MIGRATIONS,
    }
}

/// The registered migrations and then `more`, as a later build would have them.
fn with(backend: Backend, more: Migration) -> Vec<Migration> {
    let mut list = registered(backend).to_vec();
    list.push(more);
    list
}

/// The registered migrations with the SQL of migration 1 edited (a comment
/// added), as if it had been edited after it was released.
fn with_first_edited(backend: Backend) -> Vec<Migration> {
    let mut list = registered(backend).to_vec();
    list[0].sql = Box::leak(format!("{}\n-- edited after release\n", list[0].sql).into_boxed_str());
    list
}

/// One node starting: connects, migrates with `migrations`, lets go.
async fn migrate_with(db: &TestDb, migrations: &[Migration]) -> Result<(), StoreError> {
    match db.backend {
        Backend::Sqlite => SqliteStore::connect(&db.url, test_keys()).await?.migrate_with(migrations).await,
        Backend::Postgres => {
            let s = PgStore::connect(&db.url, test_keys()).await?;
            let r = s.migrate_with(migrations).await;
            s.close().await;
            r
        }
    }
}

/// The service starting: `open_store` migrates with the registered
/// migrations; the error as the operator reads it.
async fn start(db: &TestDb) -> Result<(), String> {
    tsunagu::open_store(&db.url, test_keys()).await.map(drop).map_err(|e| format!("{e:#}"))
}

/// sqlx's table: (version, description, execution time) by version.
async fn recorded(db: &TestDb) -> Vec<(i64, String, i64)> {
    let sql = "SELECT version, description, execution_time FROM _sqlx_migrations ORDER BY version";
    match db.backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
            sqlx::query_as(sql).fetch_all(&mut c).await.unwrap()
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
            sqlx::query_as(sql).fetch_all(&mut c).await.unwrap()
        }
    }
}

async fn has_table(db: &TestDb, name: &str) -> bool {
    let sql = match db.backend {
        Backend::Sqlite => format!("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '{name}'"),
        Backend::Postgres => {
            format!("SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = '{name}'")
        }
    };
    scalar::<i64>(db, &sql).await == 1
}

// --- what the old runner left ----------------------------------------------------

/// Does what the runner we had before sqlx's did, for the first `n`
/// migrations: its table, each migration in a transaction with its row
/// (name, hex SHA-256 of the SQL).
async fn old_runner(db: &TestDb, migrations: &[Migration], n: usize) {
    match db.backend {
        Backend::Sqlite => {
            let opts = sqlx::sqlite::SqliteConnectOptions::from_str(&db.url).unwrap().create_if_missing(true);
            let mut c = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
            sqlx::query(
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, \
                 checksum TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)",
            )
            .execute(&mut c)
            .await
            .unwrap();
            for m in &migrations[..n] {
                let mut tx = c.begin().await.unwrap();
                sqlx::raw_sql(m.sql).execute(&mut *tx).await.unwrap();
                sqlx::query("INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)")
                    .bind(m.version)
                    .bind(m.name)
                    .bind(m.old_runner_checksum())
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            }
            c.close().await.ok();
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
            sqlx::query(
                "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, \
                 checksum TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
            )
            .execute(&mut c)
            .await
            .unwrap();
            for m in &migrations[..n] {
                let mut tx = c.begin().await.unwrap();
                sqlx::raw_sql(m.sql).execute(&mut *tx).await.unwrap();
                sqlx::query("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)")
                    .bind(m.version)
                    .bind(m.name)
                    .bind(m.old_runner_checksum())
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            }
            c.close().await.ok();
        }
    }
}

// --- stories ------------------------------------------------------------------------

async fn story_a_fresh_database_migrates_and_a_second_start_changes_nothing(backend: Backend) {
    let db = empty_db(backend).await;
    start(&db).await.unwrap();
    let first = recorded(&db).await;
    let expected: Vec<_> = registered(backend).iter().map(|m| (m.version, m.name.to_owned())).collect();
    assert_eq!(first.iter().map(|(v, d, _)| (*v, d.clone())).collect::<Vec<_>>(), expected);
    assert!(first.iter().all(|(_, _, time)| *time >= 0), "each was run and timed: {first:?}");
    assert_eq!(scalar::<i64>(&db, "SELECT COUNT(*) FROM _sqlx_migrations WHERE success").await, first.len() as i64);
    assert!(!has_table(&db, "schema_migrations").await);
    assert_eq!(scalar::<i64>(&db, "SELECT COUNT(*) FROM municipalities").await, 0);

    start(&db).await.unwrap();
    migrate_with(&db, registered(backend)).await.unwrap();
    assert_eq!(recorded(&db).await, first);
    remove(db).await;
}

async fn story_a_changed_migration_stops_start_up(backend: Backend) {
    // The database was migrated by a build whose migration 1 read otherwise.
    let db = empty_db(backend).await;
    migrate_with(&db, &with_first_edited(backend)).await.unwrap();
    let before = recorded(&db).await;

    let refusal = start(&db).await.unwrap_err();
    assert!(
        refusal.contains("migrating the database")
            && refusal.contains("migration 1 was changed after it was applied: a released migration is never edited"),
        "{refusal}"
    );
    match migrate_with(&db, registered(backend)).await {
        Err(StoreError::Other(e)) => assert!(e.to_string().starts_with("migration 1 was changed"), "{e}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(recorded(&db).await, before);
    remove(db).await;
}

async fn story_a_database_of_the_old_runner_is_taken_over_without_running_anything_again(backend: Backend) {
    let db = empty_db(backend).await;
    let all = registered(backend);
    // The old runner applied all but the last; this build applies the last.
    old_runner(&db, all, all.len() - 1).await;
    exec(&db, "INSERT INTO municipalities (code, name_ja, name_en) VALUES ('131121', '世田谷区', 'Setagaya')")
        .await
        .unwrap();
    let old_times: Vec<String> = match backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
            sqlx::query_scalar("SELECT applied_at FROM schema_migrations ORDER BY version")
                .fetch_all(&mut c)
                .await
                .unwrap()
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
            sqlx::query_scalar("SELECT applied_at::text FROM schema_migrations ORDER BY version")
                .fetch_all(&mut c)
                .await
                .unwrap()
        }
    };

    start(&db).await.unwrap();
    let got = recorded(&db).await;
    assert_eq!(
        got.iter().map(|(v, d, _)| (*v, d.clone())).collect::<Vec<_>>(),
        all.iter().map(|m| (m.version, m.name.to_owned())).collect::<Vec<_>>()
    );
    // Taken over: recorded, not run (sqlx's "not measured"); the last was run.
    let (taken, run) = got.split_at(all.len() - 1);
    assert!(taken.iter().all(|(_, _, time)| *time == -1), "{got:?}");
    assert!(run[0].2 >= 0, "{got:?}");
    let new_times: Vec<String> = match backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
            sqlx::query_scalar("SELECT CAST(installed_on AS TEXT) FROM _sqlx_migrations ORDER BY version")
                .fetch_all(&mut c)
                .await
                .unwrap()
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
            sqlx::query_scalar("SELECT installed_on::text FROM _sqlx_migrations ORDER BY version")
                .fetch_all(&mut c)
                .await
                .unwrap()
        }
    };
    assert_eq!(new_times[..all.len() - 1], old_times[..], "the old times of application are kept");
    // The old table is dropped; what was stored stays.
    assert!(!has_table(&db, "schema_migrations").await);
    assert_eq!(scalar::<String>(&db, "SELECT name_en FROM municipalities").await, "Setagaya");

    // sqlx now checks the taken-over migrations like any other.
    start(&db).await.unwrap();
    assert_eq!(recorded(&db).await, got);
    match migrate_with(&db, &with_first_edited(backend)).await {
        Err(StoreError::Other(e)) => assert!(e.to_string().starts_with("migration 1 was changed"), "{e}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    remove(db).await;
}

async fn story_a_database_of_the_old_runner_with_an_edited_migration_is_not_taken_over(backend: Backend) {
    let db = empty_db(backend).await;
    let all = registered(backend);
    old_runner(&db, all, all.len()).await;
    exec(&db, "UPDATE schema_migrations SET checksum = 'edited' WHERE version = 2").await.unwrap();

    let refusal = start(&db).await.unwrap_err();
    assert!(refusal.contains("migration 2 was changed after it was applied"), "{refusal}");
    // Nothing was taken over: the old table is as it was, sqlx's is not there.
    assert!(has_table(&db, "schema_migrations").await);
    assert!(!has_table(&db, "_sqlx_migrations").await);
    assert_eq!(scalar::<i64>(&db, "SELECT COUNT(*) FROM schema_migrations").await, all.len() as i64);
    remove(db).await;
}

async fn story_a_failed_migration_leaves_the_database_as_it_was(backend: Backend) {
    let db = empty_db(backend).await;
    start(&db).await.unwrap();
    let before = recorded(&db).await;
    // Creates a table and a row, then fails.
    let broken = Migration {
        version: 9001,
        name: "broken",
        sql: "CREATE TABLE half_done (x INTEGER); INSERT INTO half_done (x) VALUES (1); \
              INSERT INTO no_such_table (x) VALUES (1);",
    };
    for _ in 0..2 {
        match migrate_with(&db, &with(backend, broken)).await {
            Err(StoreError::Other(e)) => assert!(e.to_string().contains("migration 9001"), "{e}"),
            other => panic!("expected the migration to fail, got {other:?}"),
        }
        assert!(!has_table(&db, "half_done").await);
        assert_eq!(recorded(&db).await, before, "no row, not even a failed one");
    }
    // Nothing is left held (on PostgreSQL, the migration lock): the next
    // start goes through.
    start(&db).await.unwrap();
    assert_eq!(recorded(&db).await, before);
    remove(db).await;
}

async fn story_a_database_migrated_by_a_newer_build_still_starts(backend: Backend) {
    // A rolling restart, or a rollback: the database knows a migration this
    // build does not have.
    let db = empty_db(backend).await;
    let newer = Migration { version: 9002, name: "from_a_newer_build", sql: "CREATE TABLE newer (x INTEGER);" };
    migrate_with(&db, &with(backend, newer)).await.unwrap();
    start(&db).await.unwrap();
    assert_eq!(recorded(&db).await.last().map(|r| r.0), Some(9002));
    remove(db).await;
}

on_both!(
    a_fresh_database_migrates_and_a_second_start_changes_nothing =>
        story_a_fresh_database_migrates_and_a_second_start_changes_nothing,
    a_changed_migration_stops_start_up => story_a_changed_migration_stops_start_up,
    a_database_of_the_old_runner_is_taken_over_without_running_anything_again =>
        story_a_database_of_the_old_runner_is_taken_over_without_running_anything_again,
    a_database_of_the_old_runner_with_an_edited_migration_is_not_taken_over =>
        story_a_database_of_the_old_runner_with_an_edited_migration_is_not_taken_over,
    a_failed_migration_leaves_the_database_as_it_was => story_a_failed_migration_leaves_the_database_as_it_was,
    a_database_migrated_by_a_newer_build_still_starts => story_a_database_migrated_by_a_newer_build_still_starts,
);

/// Both back ends register the same migrations (version and name), in
/// increasing order of version: a migration added to one is added to both.
#[test]
fn both_back_ends_register_the_same_migrations_in_order() {
    let names = |list: &[Migration]| list.iter().map(|m| (m.version, m.name)).collect::<Vec<_>>();
    assert_eq!(names(tsunagu_store_sqlite::MIGRATIONS), names(tsunagu_store_postgres::MIGRATIONS));
    let versions: Vec<i64> = tsunagu_store_sqlite::MIGRATIONS.iter().map(|m| m.version).collect();
    assert!(versions[0] > 0 && versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
}
