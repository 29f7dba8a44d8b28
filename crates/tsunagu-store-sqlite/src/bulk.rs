//! The bulk path of `import_families` on SQLite (#16, #15): one lookup for
//! the batch's duplicates, the rows computed in memory by
//! `tsunagu_store::bulk`, ids allocated inside the single writer's
//! transaction, and each table's rows written by prepared multi-row
//! `INSERT`s.
//!
//! The batch runs on the writer's connection of SQLite's own binding
//! (`direct::DirectWriter`), on a blocking thread of the runtime: its
//! statements are calls in place, with no hand-off to a connection's thread
//! for each, and its values are bound straight from the rows (sqlx copied
//! each value into its arguments and again into SQLite: BENCHMARKS.md,
//! "what a load's inserts cost"). While a batch is written, the loader's
//! task computes its next one.

use crate::audit::append_audit_batch_direct;
use crate::direct::{direct_err, insert_rows, prepare, Cells};
use crate::{corrupt, date, db_err, opt_date, ts_text, Result};
use rusqlite::Connection;
use tsunagu_domain::audit::{AuditAction, AuditContext};
use tsunagu_domain::keys::ChainKey;
use tsunagu_domain::timeline::{KindSet, RULES_VERSION};
use tsunagu_domain::FamilyId;
use tsunagu_store::bulk::{Batch, MotherOnRecord, OnRecord, ReservedIds, Rows, KEPT_DURING_LOAD, SET_ASIDE_TABLES};
use tsunagu_store::group_commit::PendingLine;
use tsunagu_store::{ImportFamily, StoreError};

/// A JSON array of the values, read back by `json_each` (one parameter
/// whatever the batch's size).
fn json_list<T: Clone + Into<serde_json::Value>>(values: &[T]) -> String {
    serde_json::Value::from(values.to_vec()).to_string()
}

/// Imports `families` inside the write transaction `conn` is in (begun
/// `IMMEDIATE` by `DirectWriter::write`: the ids below are allocated from
/// the largest ones, which no other writer may change before the commit),
/// with one audit line per family.
pub(crate) fn import_batch(
    conn: &Connection,
    key: &ChainKey,
    ctx: &AuditContext,
    families: &[ImportFamily],
) -> Result<Vec<std::result::Result<FamilyId, &'static str>>> {
    let m = ctx.municipality_id;
    if families.is_empty() {
        return Ok(vec![]);
    }
    let areas: Vec<i64> = Batch::areas(families).iter().map(|a| a.0).collect();
    // The municipality's kinds, its areas among the batch's, and the ids in use.
    let mut st = prepare(
        conn,
        "SELECT contact_kinds, \
         (SELECT COUNT(*) FROM areas a WHERE a.municipality_id = municipalities.id \
          AND a.id IN (SELECT value FROM json_each(?1))), \
         (SELECT COALESCE(MAX(id), 0) FROM families), (SELECT COALESCE(MAX(id), 0) FROM people), \
         (SELECT COALESCE(MAX(id), 0) FROM pregnancies), (SELECT COALESCE(MAX(id), 0) FROM babies) \
         FROM municipalities WHERE id = ?2",
    )?;
    let mut found = st.query(rusqlite::params![json_list(&areas), m.0]).map_err(direct_err)?;
    let r = found.next().map_err(direct_err)?.ok_or(StoreError::InvalidReference("area_id"))?;
    let kinds: i64 = r.cell(0)?;
    let kinds = KindSet::from_bits(u16::try_from(kinds).map_err(|_| corrupt("contact kinds"))?);
    let areas_found: i64 = r.cell(1)?;
    if usize::try_from(areas_found).ok() != Some(areas.len()) {
        return Err(StoreError::InvalidReference("area_id"));
    }
    let mut max = [0i64; 4];
    for (i, v) in max.iter_mut().enumerate() {
        *v = r.cell(i + 2)?;
    }
    drop(found);
    drop(st);
    // What the duplicate checks need, for the whole batch.
    let mut on_record = OnRecord::default();
    let lookups = Batch::mother_lookups(families);
    let born: Vec<serde_json::Value> =
        lookups.born_keys.iter().zip(&lookups.born_dates).map(|(k, b)| serde_json::json!([k, b])).collect();
    // Three reads by `people_mother_birth` (key and date, key and no date,
    // key alone for the batch's mothers of unknown birth date), then each
    // family's pregnancies: bounded by the batch, not by the city (#16).
    // SQLite has no statistics here: `CROSS JOIN` keeps the batch's list
    // outermost, and the unary `+` keeps it from reading the city's
    // pregnancies by `municipality_id` (without both, it did, and a load
    // slowed to a crawl); the plan is quoted in BENCHMARKS.md.
    let mut st = prepare(
        conn,
        "WITH mothers(family_id, kana_key, birth_date) AS ( \
         SELECT p.family_id, p.kana_key, p.birth_date FROM json_each(?1) w CROSS JOIN people p \
         ON p.municipality_id = ?4 AND p.relation = 'mother' \
         AND p.kana_key = json_extract(w.value, '$[0]') AND p.birth_date = json_extract(w.value, '$[1]') \
         UNION ALL SELECT p.family_id, p.kana_key, p.birth_date FROM json_each(?2) w CROSS JOIN people p \
         ON p.municipality_id = ?4 AND p.relation = 'mother' AND p.kana_key = w.value AND p.birth_date IS NULL \
         UNION ALL SELECT p.family_id, p.kana_key, p.birth_date FROM json_each(?3) w CROSS JOIN people p \
         ON p.municipality_id = ?4 AND p.relation = 'mother' AND p.kana_key = w.value) \
         SELECT m.kana_key, m.birth_date, g.edd FROM mothers m CROSS JOIN pregnancies g ON g.family_id = m.family_id \
         WHERE +g.municipality_id = ?4 AND g.status = 'ongoing'",
    )?;
    let mut rows = st
        .query(rusqlite::params![
            serde_json::Value::from(born).to_string(),
            json_list(&lookups.keys),
            json_list(&lookups.any_birth),
            m.0
        ])
        .map_err(direct_err)?;
    while let Some(r) = rows.next().map_err(direct_err)? {
        on_record.mothers.push(MotherOnRecord {
            kana_key: r.cell(0)?,
            birth_date: opt_date(r.cell(1)?)?,
            edd: date(&r.cell::<String>(2)?)?,
        });
    }
    drop(rows);
    drop(st);
    let numbers = Batch::handbook_numbers(families);
    if !numbers.is_empty() {
        let mut st = prepare(
            conn,
            "SELECT handbook_number FROM pregnancies WHERE municipality_id = ?1 \
             AND handbook_number IN (SELECT value FROM json_each(?2))",
        )?;
        let mut rows = st.query(rusqlite::params![m.0, json_list(&numbers)]).map_err(direct_err)?;
        while let Some(r) = rows.next().map_err(direct_err)? {
            on_record.handbook_numbers.insert(r.cell(0)?);
        }
    }
    let batch = Batch::check(families, &on_record);
    let ids = ReservedIds::after(max, batch.id_counts());
    let rows = batch.rows(&ids, kinds, ctx.actor, ctx.at).map_err(|e| StoreError::Other(Box::new(e)))?;
    write_rows(conn, ctx, &rows)?;
    let lines: Vec<PendingLine> = rows
        .answers
        .iter()
        .filter_map(|a| a.ok())
        .map(|family| PendingLine {
            ctx: ctx.clone(),
            action: AuditAction::FamilyCreate,
            family: Some(family),
            detail: "import".to_owned(),
        })
        .collect();
    append_audit_batch_direct(conn, key, &lines)?;
    Ok(rows.answers)
}

/// Each table's rows.
fn write_rows(conn: &Connection, ctx: &AuditContext, rows: &Rows) -> Result<()> {
    let m = ctx.municipality_id.0;
    let at = ts_text(ctx.at);
    insert_rows(
        conn,
        "INSERT INTO families (id, municipality_id, area_id, fee_bracket, consent_coordinators, consent_hubs, \
         created_at)",
        7,
        &rows.families,
        |b, f| {
            let n = &f.notification;
            b.value(f.id.0)?
                .value(m)?
                .value(n.area_id.0)?
                .value(n.fee_bracket.as_str())?
                .value(n.consent_coordinators)?
                .value(n.consent_hubs)?
                .value(&at)?;
            Ok(())
        },
    )?;
    insert_rows(
        conn,
        "INSERT INTO people (id, family_id, municipality_id, relation, family_name, given_name, \
         family_name_kana, given_name_kana, kana_key, given_kana_key, birth_date)",
        11,
        &rows.people,
        |b, p| {
            b.value(p.id.0)?
                .value(p.family_id.0)?
                .value(m)?
                .value(p.relation.as_str())?
                .value(&p.family_name)?
                .value(&p.given_name)?
                .value(&p.family_name_kana)?
                .value(&p.given_name_kana)?
                .value(&p.kana_key)?
                .value(&p.given_kana_key)?
                .value(p.birth_date.map(|d| d.to_string()))?;
            Ok(())
        },
    )?;
    insert_rows(
        conn,
        "INSERT INTO pregnancies (id, family_id, municipality_id, notified_on, edd, foetuses, first_child, \
         status, handbook_number, timeline_rules)",
        10,
        &rows.pregnancies,
        |b, g| {
            let p = &g.pregnancy;
            b.value(g.id.0)?
                .value(g.family_id.0)?
                .value(m)?
                .value(p.notified_on.to_string())?
                .value(p.edd.to_string())?
                .value(i64::from(p.foetuses))?
                .value(p.first_child)?
                .value(p.status.as_str())?
                .value(p.handbook_number.as_deref())?
                .value(RULES_VERSION)?;
            Ok(())
        },
    )?;
    insert_rows(
        conn,
        "INSERT INTO babies (id, municipality_id, pregnancy_id, family_id, person_id, birth_date, sex, \
         gestational_weeks, gestational_days, birth_weight_g, long_hospitalisation)",
        11,
        &rows.babies,
        |b, r| {
            let x = &r.baby;
            b.value(x.id.0)?
                .value(m)?
                .value(x.pregnancy_id.0)?
                .value(r.family_id.0)?
                .value(x.person_id.0)?
                .value(x.birth_date.to_string())?
                .value(x.sex.as_str())?
                .value(i64::from(x.gestational_weeks))?
                .value(i64::from(x.gestational_days))?
                .value(x.birth_weight_g.map(i64::from))?
                .value(x.long_hospitalisation)?;
            Ok(())
        },
    )?;
    insert_rows(
        conn,
        "INSERT INTO contacts (municipality_id, family_id, area_id, pregnancy_id, kind, subject_kind, \
         subject_id, owner_role, staff_owed, opens, due, closes, ending, hidden, awaits, missed_on, \
         created_at, updated_at, outcome, form, outcome_by, outcome_at, outcome_note)",
        23,
        &rows.contacts,
        |b, c| {
            b.value(m)?
                .value(c.family_id.0)?
                .value(c.area_id.0)?
                .value(c.pregnancy_id.0)?
                .value(c.kind.as_str())?
                .value(c.subject_kind)?
                .value(c.subject_id)?
                .value(c.owner_role)?
                .value(c.staff_owed)?
                .value(c.opens.to_string())?
                .value(c.due.to_string())?
                .value(c.closes.to_string())?
                .value(c.ending)?
                .value(c.hidden)?
                .value(c.awaits)?
                .value(c.missed_on.map(|d| d.to_string()))?
                .value(&at)?
                .value(&at)?
                .value(c.settled.map(|_| "done"))?
                .value(c.settled.map(|s| s.form))?
                .value(c.settled.map(|s| s.by.0))?
                .value(c.settled.map(|_| at.as_str()))?
                .value(if c.settled.is_some() { "import" } else { "" })?;
            Ok(())
        },
    )
}

/// The writer's page cache during a large load, and otherwise (`connect`),
/// in KiB: on both its connections (sqlx's builds the indexes after).
const BULK_CACHE_KIB: u32 = 262_144;
const USUAL_CACHE_KIB: u32 = 32_768;
/// The page cache while the indexes set aside are built (KiB).
const SORT_CACHE_KIB: u32 = 8_192;
/// At most this many helper threads sort an index's runs while it is built.
const SORT_THREADS_MAX: usize = 4;
/// The file's memory map while the indexes are built (SQLite's own upper
/// bound unless compiled with another); otherwise [`crate::MMAP_BYTES`].
const SORT_MMAP_BYTES: u64 = 0x7fff_0000;

/// Both writer connections set for a large load (`loading`) or back as
/// usual. While loading, the batches' connection (`DirectWriter`) does not
/// check foreign keys row by row: each check opens a cursor on the parent
/// table for every row, ~4 µs a contact row against ~0.4 µs for the insert
/// itself (BENCHMARKS.md); the loaded tables' references are checked once,
/// whole, by [`check_references`] before the indexes are built.
async fn set_writer_mode(store: &crate::SqliteStore, loading: bool) -> Result<()> {
    let kib = if loading { BULK_CACHE_KIB } else { USUAL_CACHE_KIB };
    let mut turn = store.writer.acquire().await.map_err(db_err)?;
    sqlx::query(&format!("PRAGMA cache_size = -{kib}")).execute(&mut *turn).await.map_err(db_err)?;
    store.direct_writer.configure(&mut turn, kib, !loading)
}

/// The tables a load writes whose every row's references must be there
/// (SQLite's `foreign_key_check`, one pass over each table): an error
/// naming the table and the parent if any is missing.
async fn check_references(store: &crate::SqliteStore) -> Result<()> {
    for table in SET_ASIDE_TABLES.iter().copied().chain(["audit_log"]) {
        let missing: Vec<(String, i64)> = sqlx::query_as(&format!(
            "SELECT parent, COUNT(*) FROM pragma_foreign_key_check('{table}') GROUP BY parent ORDER BY parent"
        ))
        .fetch_all(&store.writer)
        .await
        .map_err(db_err)?;
        if let Some((parent, rows)) = missing.first() {
            return Err(StoreError::Other(
                format!("a bulk load left {rows} row(s) of {table} referring to missing {parent}").into(),
            ));
        }
    }
    Ok(())
}

/// `RecordStore::bulk_load_begin`: drops the non-unique indexes of
/// [`SET_ASIDE_TABLES`] but [`KEPT_DURING_LOAD`] (an automatic or unique
/// index has no `sql` or says `UNIQUE`: kept), their definitions saved in
/// the same transaction. The contacts' ten were most of a load's B-tree
/// work (BENCHMARKS.md, the profiles of 2026-12-06); people's kana indexes
/// and pregnancies' date indexes are the same kind of cost.
pub(crate) async fn begin_bulk_load(store: &crate::SqliteStore) -> Result<()> {
    let mut tx = store.begin_immediate().await?;
    for table in SET_ASIDE_TABLES {
        let found: Vec<(String, String)> = sqlx::query_as(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL \
             AND upper(sql) NOT LIKE 'CREATE UNIQUE%' ORDER BY name",
        )
        .bind(table)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        for (name, definition) in found.into_iter().filter(|(name, _)| !KEPT_DURING_LOAD.contains(&name.as_str())) {
            sqlx::query("INSERT INTO bulk_dropped_indexes (name, table_name, definition) VALUES (?, ?, ?)")
                .bind(&name)
                .bind(table)
                .bind(&definition)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            sqlx::query(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
    }
    tx.commit().await.map_err(db_err)?;
    set_writer_mode(store, true).await
}

/// `RecordStore::bulk_load_end`, and `migrate`'s check: builds every saved
/// index that is missing, in one transaction with the removal of their
/// definitions (SQLite's DDL is transactional: all of them or none). The
/// sort of a build spills to temporary files, not the writer's memory.
pub(crate) async fn rebuild_dropped_indexes(store: &crate::SqliteStore) -> Result<usize> {
    let saved: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM bulk_dropped_indexes")
        .fetch_one(&store.writer)
        .await
        .map_err(db_err)?;
    if saved == 0 {
        set_writer_mode(store, false).await?;
        return Ok(0);
    }
    // Checked before anything is built: a load that failed it keeps its
    // definitions saved, and the next start (`migrate`) checks again.
    set_writer_mode(store, false).await?;
    check_references(store).await?;
    // SQLite sorts an index's keys in runs as large as the page cache, then
    // merges them: runs of 8 MiB (they stay in the processor's caches) built
    // two contacts indexes of 1M families in 11.4–11.6 s against 18.2–18.3 s
    // with the load's 256 MiB and 15.3 s with the usual 32 MiB (BENCHMARKS.md).
    // With those small runs, helper threads sort them while the writer's
    // thread reads on (SQLite's `threads`; with the load's 256 MiB runs they
    // did not help), and the table is read through a larger memory map
    // instead of a copy per page: 56.3 / 58.0 s → 40.4 s for the 25 indexes
    // of a 1M file (BENCHMARKS.md, 2026-12-07).
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(SORT_THREADS_MAX));
    let writer = &store.writer;
    sqlx::query(&format!("PRAGMA cache_size = -{SORT_CACHE_KIB}")).execute(writer).await.map_err(db_err)?;
    sqlx::query("PRAGMA temp_store = FILE").execute(writer).await.map_err(db_err)?;
    // SQLite answers the number it took (0 if compiled without helpers).
    let helpers: i64 =
        sqlx::query_scalar(&format!("PRAGMA threads = {threads}")).fetch_one(writer).await.map_err(db_err)?;
    tracing::info!(saved, helpers, "building the indexes set aside for the load");
    sqlx::query(&format!("PRAGMA mmap_size = {SORT_MMAP_BYTES}")).execute(writer).await.map_err(db_err)?;
    let built = rebuild_in_one_transaction(store).await;
    sqlx::query(&format!("PRAGMA mmap_size = {}", crate::MMAP_BYTES)).execute(writer).await.map_err(db_err)?;
    sqlx::query("PRAGMA threads = 0").execute(writer).await.map_err(db_err)?;
    sqlx::query("PRAGMA temp_store = MEMORY").execute(writer).await.map_err(db_err)?;
    sqlx::query(&format!("PRAGMA cache_size = -{USUAL_CACHE_KIB}")).execute(writer).await.map_err(db_err)?;
    built
}

async fn rebuild_in_one_transaction(store: &crate::SqliteStore) -> Result<usize> {
    let mut tx = store.begin_immediate().await?;
    let saved: Vec<(String, String)> =
        sqlx::query_as("SELECT name, definition FROM bulk_dropped_indexes ORDER BY table_name, name")
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
    let mut built = 0;
    for (name, definition) in &saved {
        let there: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = ?")
            .bind(name)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        if there == 0 {
            sqlx::query(definition).execute(&mut *tx).await.map_err(db_err)?;
            built += 1;
        }
    }
    sqlx::query("DELETE FROM bulk_dropped_indexes").execute(&mut *tx).await.map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(built)
}
