//! What only the SQLite store has to show: an in-memory database migrating
//! on its one connection, and how it writes civil date-times. Everything the
//! store does through the `Store` trait, its migrations included, is told as
//! a story in `crates/tsunagu/tests/it/store_*.rs`, run on SQLite and on
//! PostgreSQL alike.

use super::*;
use jiff::civil::{date, datetime};
use tsunagu_domain::municipality::MunicipalityCode;
use tsunagu_store::prelude::*;

// --- migrations -----------------------------------------------------------------

#[tokio::test]
async fn an_in_memory_database_migrates_on_its_one_connection() {
    // The database lives as long as its one connection: the runner must
    // hand it back to the pool, not close it.
    let s = SqliteStore::connect(
        "sqlite::memory:",
        StoreKeys::derive(&tsunagu_domain::keys::MasterKey::from_bytes(&[7; 32]).unwrap()),
    )
    .await
    .unwrap();
    s.migrate().await.unwrap();
    s.migrate().await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations").fetch_one(&s.reader).await.unwrap();
    assert_eq!(n, MIGRATIONS.len() as i64);
    let m = s.create_municipality(MunicipalityCode::parse("131121").unwrap(), "世田谷区", "Setagaya").await.unwrap();
    assert_eq!(s.municipalities().await.unwrap(), vec![m]);
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
