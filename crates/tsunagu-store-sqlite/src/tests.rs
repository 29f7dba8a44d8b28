//! What only the SQLite store has to show: an "in-memory" database (a
//! temporary file) migrating, read on the request's thread and removed with
//! the store; the request path's own connections (`direct`): one statement
//! at a time, the writer's rolled back when a write fails; and how it writes
//! civil date-times. Everything the
//! store does through the `Store` trait, its migrations included, is told as
//! a story in `crates/tsunagu/tests/it/store_*.rs`, run on SQLite and on
//! PostgreSQL alike.

use super::*;
use jiff::civil::{date, datetime};
use tsunagu_domain::municipality::MunicipalityCode;
use tsunagu_store::prelude::*;

// --- migrations -----------------------------------------------------------------

/// A store "in memory" (a temporary file), migrated.
async fn store() -> SqliteStore {
    let s = SqliteStore::connect(
        "sqlite::memory:",
        StoreKeys::derive(&tsunagu_domain::keys::MasterKey::from_bytes(&[7; 32]).unwrap()),
    )
    .await
    .unwrap();
    s.migrate().await.unwrap();
    s
}

#[tokio::test]
async fn an_in_memory_database_is_a_temporary_file_removed_with_the_store() {
    let s = store().await;
    // Migrated once by `store`; again, nothing to do.
    s.migrate().await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations").fetch_one(&s.reader).await.unwrap();
    assert_eq!(n, MIGRATIONS.len() as i64);
    let m = s.create_municipality(MunicipalityCode::parse("131121").unwrap(), "世田谷区", "Setagaya").await.unwrap();
    assert_eq!(s.municipalities().await.unwrap(), vec![m]);
    // The request path's readers (`direct`) see what the writer committed.
    let file = s._temporary.as_ref().unwrap().0.clone();
    let code: String = s
        .direct
        .read(|c| c.query_row("SELECT code FROM municipalities", [], |r| r.get(0)).map_err(direct::direct_err))
        .unwrap();
    assert_eq!(code, "131121");
    assert!(file.exists());
    let clone = s.clone();
    drop(s);
    assert!(file.exists(), "a clone still uses it");
    clone.writer.close().await;
    clone.reader.close().await;
    drop(clone);
    assert!(!file.exists(), "removed with the last clone");
    assert!(!std::path::Path::new(&format!("{}-wal", file.display())).exists());
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

// --- the request path's own connections (#16, `direct`) ----------------------

#[tokio::test]
async fn a_text_of_several_statements_is_refused_not_cut_short() {
    // SQLite's binding would run the first and drop the second silently.
    let s = store().await;
    let e = s.direct.read(|c| direct::prepare(c, "SELECT 1; SELECT 2").map(|_| ())).unwrap_err();
    assert!(format!("{e:?}").contains("one statement"), "{e:?}");
    let one: i64 = s
        .direct
        .read(|c| direct::prepare(c, "SELECT 1")?.query_row([], |r| r.get(0)).map_err(direct::direct_err))
        .unwrap();
    assert_eq!(one, 1);
}

#[tokio::test]
async fn a_contact_kind_written_as_a_literal_is_planned_once() {
    // With a partial index whose predicate names one kind
    // (`contacts_check_closes`, migration 0041), SQLite plans a statement
    // that binds `contacts.kind` again at every execution; the store writes
    // kinds as literals (`kind_sql`) and its statements are planned once.
    use rusqlite::StatementStatus;
    use tsunagu_domain::timeline::ContactKind;
    for kind in ContactKind::ALL {
        let literal = kind_sql(kind);
        let name = literal.trim_matches('\'');
        assert!(name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'), "{literal}");
        assert_eq!(literal, format!("'{name}'"));
    }
    let s = store().await;
    let replans = |sql: String, bound: bool| {
        s.direct.read(move |c| {
            let mut st = direct::prepare(c, &sql)?;
            for day in ["2027-01-01", "2027-02-01", "2027-03-01"] {
                let n: i64 = if bound {
                    st.query_row((1, "health_check_3_4_months", day), |r| r.get(0))
                } else {
                    st.query_row((1, day), |r| r.get(0))
                }
                .map_err(direct::direct_err)?;
                assert_eq!(n, 0);
            }
            Ok(st.get_status(StatementStatus::RePrepare))
        })
    };
    let count = "SELECT COUNT(*) FROM contacts c WHERE c.awaits = 1 AND c.municipality_id = ?1 AND c.kind = ";
    assert!(replans(format!("{count}?2 AND c.due < ?3"), true).unwrap() > 0, "the trap is still there");
    let literal = kind_sql(ContactKind::HealthCheck3To4Months);
    assert_eq!(replans(format!("{count}{literal} AND c.due < ?2"), false).unwrap(), 0);
}

#[tokio::test]
async fn the_writers_own_connection_rolls_back_a_failed_write_and_writes_the_next() {
    let s = store().await;
    let m = s.create_municipality(MunicipalityCode::parse("131121").unwrap(), "世田谷区", "Setagaya").await.unwrap();
    let area = |name: &'static str| {
        move |c: &rusqlite::Connection| {
            direct::prepare(c, "INSERT INTO areas (municipality_id, name_ja, name_en) VALUES (?1, ?2, ?2)")?
                .execute((m.id.0, name))
                .map_err(direct::direct_err)
        }
    };
    // A write that fails after a statement went through: nothing of it stays.
    let mut turn = s.writer.acquire().await.unwrap();
    let failed = s.direct_writer.write(&mut turn, |c| {
        area("消える")(c)?;
        Err::<(), _>(StoreError::Conflict("duplicate_notification"))
    });
    assert!(matches!(failed, Err(StoreError::Conflict("duplicate_notification"))));
    // The connection is out of the transaction: the next write commits.
    assert_eq!(s.direct_writer.write(&mut turn, area("残る")).unwrap(), 1);
    drop(turn);
    let names: Vec<String> = s.areas(m.id).await.unwrap().into_iter().map(|a| a.name_ja).collect();
    assert_eq!(names, vec!["残る".to_owned()]);
}

#[tokio::test]
async fn a_bulk_loads_references_are_checked_whole_at_its_end() {
    // During a load the batches' connection does not check foreign keys row
    // by row (`bulk::set_writer_mode`); the end checks the loaded tables
    // before it builds the indexes, and the connection checks them again.
    let s = store().await;
    let m = s.create_municipality(MunicipalityCode::parse("131121").unwrap(), "世田谷区", "Setagaya").await.unwrap();
    let family_in = |area: i64| {
        move |c: &rusqlite::Connection| {
            direct::prepare(
                c,
                "INSERT INTO families (municipality_id, area_id, fee_bracket, consent_coordinators, consent_hubs, \
                 created_at) VALUES (?1, ?2, 'taxed', 0, 0, '2027-01-01T00:00:00.000000Z')",
            )?
            .execute((m.id.0, area))
            .map_err(direct::direct_err)
        }
    };
    s.bulk_load_begin().await.unwrap();
    let saved = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM bulk_dropped_indexes").fetch_one(&s.reader).await.unwrap()
    };
    assert!(saved().await > 0);
    let mut turn = s.writer.acquire().await.unwrap();
    // Area 999 does not exist: taken while loading.
    assert_eq!(s.direct_writer.write(&mut turn, family_in(999)).unwrap(), 1);
    drop(turn);
    let e = s.bulk_load_end().await.unwrap_err();
    assert!(format!("{e:?}").contains("families referring to missing areas"), "{e:?}");
    assert!(saved().await > 0, "nothing built: the definitions stay for the next check");
    // The row is removed; the end then builds every index.
    sqlx::query("DELETE FROM families WHERE area_id = 999").execute(&s.writer).await.unwrap();
    assert!(s.bulk_load_end().await.unwrap() > 0);
    assert_eq!(saved().await, 0);
    // The build's settings (its small cache, helper threads, a larger map)
    // are the writer's usual ones again.
    let mut usual = vec![];
    for name in ["threads", "mmap_size", "cache_size", "temp_store"] {
        usual.push(sqlx::query_scalar::<_, i64>(&format!("PRAGMA {name}")).fetch_one(&s.writer).await.unwrap());
    }
    assert_eq!(usual, [0, i64::try_from(crate::MMAP_BYTES).unwrap(), -32_768, 2]);
    // Out of the load, the connection refuses a missing reference again.
    let mut turn = s.writer.acquire().await.unwrap();
    let refused = s.direct_writer.write(&mut turn, family_in(999)).unwrap_err();
    assert!(format!("{refused:?}").contains("FOREIGN KEY"), "{refused:?}");
}
