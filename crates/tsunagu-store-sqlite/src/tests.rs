//! What only the SQLite store has to show: its migration runner and how it
//! writes civil date-times. Everything the store does through the `Store`
//! trait is told as a story in `crates/tsunagu/tests/it/store_*.rs`, run on
//! SQLite and on PostgreSQL alike.
//!
//! Each test gets a fresh database FILE of its own (not `:memory:`, so that
//! the reader pool sees what the writer committed).

use super::*;
use jiff::civil::{date, datetime};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

fn test_keys() -> StoreKeys {
    StoreKeys::derive(&tsunagu_domain::keys::MasterKey::from_bytes(&[7; 32]).unwrap())
}

// --- test databases ---------------------------------------------------------

/// A database file in the temporary directory, removed (with its WAL and
/// shared-memory files) when dropped.
struct TempDb {
    path: PathBuf,
}

impl TempDb {
    fn new() -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!("tsunagu-store-sqlite-{}-{}.sqlite3", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
        let db = Self { path: std::env::temp_dir().join(name) };
        db.remove_files();
        db
    }

    fn url(&self) -> String {
        format!("sqlite://{}", self.path.display())
    }

    fn remove_files(&self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = self.path.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        self.remove_files();
    }
}

/// A migrated store on a fresh database file.
async fn fresh() -> (SqliteStore, TempDb) {
    let db = TempDb::new();
    let store = SqliteStore::connect(&db.url(), test_keys()).await.unwrap();
    store.migrate().await.unwrap();
    (store, db)
}

async fn finish(s: SqliteStore, db: TempDb) {
    s.writer.close().await;
    s.reader.close().await;
    drop(db);
}

// --- migrations ---------------------------------------------------------------

#[tokio::test]
async fn migrations_apply_once_in_order() {
    let (s, db) = fresh().await;
    s.migrate().await.unwrap();
    let applied: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
            .fetch_all(&s.reader)
            .await
            .unwrap();
    let expected: Vec<_> = MIGRATIONS.iter().map(|m| (m.version, m.name.to_owned(), m.checksum())).collect();
    assert_eq!(applied, expected);
    assert_eq!(applied.iter().map(|a| a.0).collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6, 7, 8]);
    finish(s, db).await;
}

// --- civil date-times -----------------------------------------------------------

fn day(m: i8, d: i8) -> Date {
    date(2027, m, d)
}

fn stay(first: Date, days: u32) -> DateRange {
    DateRange::starting(first, days).unwrap()
}

#[test]
fn civil_date_times_are_stored_to_the_second_and_ranges_cover_whole_days() {
    assert_eq!(civil_text(datetime(2027, 6, 1, 9, 5, 7, 999_999_999)), "2027-06-01T09:05:07");
    assert_eq!(civil_bounds(stay(day(6, 30), 2)), ("2027-06-30T00:00:00".into(), "2027-07-01T23:59:59".into()));
}
