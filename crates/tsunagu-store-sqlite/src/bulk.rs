//! The bulk path of `import_families` on SQLite (#16, #15): one lookup for
//! the batch's duplicates, the rows computed in memory by
//! `tsunagu_store::bulk`, ids allocated inside the single writer's
//! transaction, and each table written by multi-row `INSERT … VALUES`
//! statements in chunks under the bind limit.

use crate::audit::append_audit_batch;
use crate::{corrupt, date, db_err, opt_date, ts_text, Result};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use tsunagu_domain::audit::{AuditAction, AuditContext};
use tsunagu_domain::keys::ChainKey;
use tsunagu_domain::timeline::{KindSet, RULES_VERSION};
use tsunagu_domain::FamilyId;
use tsunagu_store::bulk::{
    rows_per_statement, Batch, MotherOnRecord, OnRecord, ReservedIds, Rows, KEPT_DURING_LOAD, SET_ASIDE_TABLES,
};
use tsunagu_store::group_commit::PendingLine;
use tsunagu_store::{ImportFamily, StoreError};

/// A JSON array of the values, read back by `json_each` (one parameter
/// whatever the batch's size).
fn json_list<T: Clone + Into<serde_json::Value>>(values: &[T]) -> String {
    serde_json::Value::from(values.to_vec()).to_string()
}

/// Imports `families` inside `tx` (begun `IMMEDIATE` by the caller: the
/// ids below are allocated from the largest ones, which no other writer
/// may change before the commit), with one audit line per family.
pub(crate) async fn import_batch(
    tx: &mut SqliteConnection,
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
    let r = sqlx::query(
        "SELECT contact_kinds, \
         (SELECT COUNT(*) FROM areas a WHERE a.municipality_id = municipalities.id \
          AND a.id IN (SELECT value FROM json_each(?))), \
         (SELECT COALESCE(MAX(id), 0) FROM families), (SELECT COALESCE(MAX(id), 0) FROM people), \
         (SELECT COALESCE(MAX(id), 0) FROM pregnancies), (SELECT COALESCE(MAX(id), 0) FROM babies) \
         FROM municipalities WHERE id = ?",
    )
    .bind(json_list(&areas))
    .bind(m.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?
    .ok_or(StoreError::InvalidReference("area_id"))?;
    let kinds: i64 = r.try_get(0).map_err(db_err)?;
    let kinds = KindSet::from_bits(u16::try_from(kinds).map_err(|_| corrupt("contact kinds"))?);
    let areas_found: i64 = r.try_get(1).map_err(db_err)?;
    if usize::try_from(areas_found).ok() != Some(areas.len()) {
        return Err(StoreError::InvalidReference("area_id"));
    }
    let mut max = [0i64; 4];
    for (i, v) in max.iter_mut().enumerate() {
        *v = r.try_get(i + 2).map_err(db_err)?;
    }
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
    let rows = sqlx::query(
        "WITH mothers(family_id, kana_key, birth_date) AS ( \
         SELECT p.family_id, p.kana_key, p.birth_date FROM json_each(?) w CROSS JOIN people p \
         ON p.municipality_id = ? AND p.relation = 'mother' \
         AND p.kana_key = json_extract(w.value, '$[0]') AND p.birth_date = json_extract(w.value, '$[1]') \
         UNION ALL SELECT p.family_id, p.kana_key, p.birth_date FROM json_each(?) w CROSS JOIN people p \
         ON p.municipality_id = ? AND p.relation = 'mother' AND p.kana_key = w.value AND p.birth_date IS NULL \
         UNION ALL SELECT p.family_id, p.kana_key, p.birth_date FROM json_each(?) w CROSS JOIN people p \
         ON p.municipality_id = ? AND p.relation = 'mother' AND p.kana_key = w.value) \
         SELECT m.kana_key, m.birth_date, g.edd FROM mothers m CROSS JOIN pregnancies g ON g.family_id = m.family_id \
         WHERE +g.municipality_id = ? AND g.status = 'ongoing'",
    )
    .bind(serde_json::Value::from(born).to_string())
    .bind(m.0)
    .bind(json_list(&lookups.keys))
    .bind(m.0)
    .bind(json_list(&lookups.any_birth))
    .bind(m.0)
    .bind(m.0)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    for r in &rows {
        on_record.mothers.push(MotherOnRecord {
            kana_key: r.try_get(0).map_err(db_err)?,
            birth_date: opt_date(r.try_get(1).map_err(db_err)?)?,
            edd: date(&r.try_get::<String, _>(2).map_err(db_err)?)?,
        });
    }
    let numbers = Batch::handbook_numbers(families);
    if !numbers.is_empty() {
        let taken: Vec<String> = sqlx::query_scalar(
            "SELECT handbook_number FROM pregnancies WHERE municipality_id = ? \
             AND handbook_number IN (SELECT value FROM json_each(?))",
        )
        .bind(m.0)
        .bind(json_list(&numbers))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        on_record.handbook_numbers.extend(taken);
    }
    let batch = Batch::check(families, &on_record);
    let ids = ReservedIds::after(max, batch.id_counts());
    let rows = batch.rows(&ids, kinds, ctx.actor, ctx.at).map_err(|e| StoreError::Other(Box::new(e)))?;
    write_rows(tx, ctx, &rows).await?;
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
    append_audit_batch(tx, key, &lines).await?;
    Ok(rows.answers)
}

async fn write_rows(tx: &mut SqliteConnection, ctx: &AuditContext, rows: &Rows) -> Result<()> {
    let m = ctx.municipality_id.0;
    let at = ts_text(ctx.at);
    for chunk in rows.families.chunks(rows_per_statement(7)) {
        let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new(
            "INSERT INTO families (id, municipality_id, area_id, fee_bracket, consent_coordinators, consent_hubs, \
             created_at) ",
        );
        qb.push_values(chunk, |mut b, f| {
            let n = &f.notification;
            b.push_bind(f.id.0)
                .push_bind(m)
                .push_bind(n.area_id.0)
                .push_bind(n.fee_bracket.as_str())
                .push_bind(n.consent_coordinators)
                .push_bind(n.consent_hubs)
                .push_bind(at.clone());
        });
        qb.build().execute(&mut *tx).await.map_err(db_err)?;
    }
    for chunk in rows.people.chunks(rows_per_statement(11)) {
        let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new(
            "INSERT INTO people (id, family_id, municipality_id, relation, family_name, given_name, \
             family_name_kana, given_name_kana, kana_key, given_kana_key, birth_date) ",
        );
        qb.push_values(chunk, |mut b, p| {
            b.push_bind(p.id.0)
                .push_bind(p.family_id.0)
                .push_bind(m)
                .push_bind(p.relation.as_str())
                .push_bind(p.family_name.as_str())
                .push_bind(p.given_name.as_str())
                .push_bind(p.family_name_kana.as_str())
                .push_bind(p.given_name_kana.as_str())
                .push_bind(p.kana_key.as_str())
                .push_bind(p.given_kana_key.as_str())
                .push_bind(p.birth_date.map(|d| d.to_string()));
        });
        qb.build().execute(&mut *tx).await.map_err(db_err)?;
    }
    for chunk in rows.pregnancies.chunks(rows_per_statement(10)) {
        let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new(
            "INSERT INTO pregnancies (id, family_id, municipality_id, notified_on, edd, foetuses, first_child, \
             status, handbook_number, timeline_rules) ",
        );
        qb.push_values(chunk, |mut b, g| {
            let p = &g.pregnancy;
            b.push_bind(g.id.0)
                .push_bind(g.family_id.0)
                .push_bind(m)
                .push_bind(p.notified_on.to_string())
                .push_bind(p.edd.to_string())
                .push_bind(i64::from(p.foetuses))
                .push_bind(p.first_child)
                .push_bind(p.status.as_str())
                .push_bind(p.handbook_number.as_deref())
                .push_bind(RULES_VERSION);
        });
        qb.build().execute(&mut *tx).await.map_err(db_err)?;
    }
    for chunk in rows.babies.chunks(rows_per_statement(11)) {
        let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new(
            "INSERT INTO babies (id, municipality_id, pregnancy_id, family_id, person_id, birth_date, sex, \
             gestational_weeks, gestational_days, birth_weight_g, long_hospitalisation) ",
        );
        qb.push_values(chunk, |mut b, r| {
            let x = &r.baby;
            b.push_bind(x.id.0)
                .push_bind(m)
                .push_bind(x.pregnancy_id.0)
                .push_bind(r.family_id.0)
                .push_bind(x.person_id.0)
                .push_bind(x.birth_date.to_string())
                .push_bind(x.sex.as_str())
                .push_bind(i64::from(x.gestational_weeks))
                .push_bind(i64::from(x.gestational_days))
                .push_bind(x.birth_weight_g.map(i64::from))
                .push_bind(x.long_hospitalisation);
        });
        qb.build().execute(&mut *tx).await.map_err(db_err)?;
    }
    for chunk in rows.contacts.chunks(rows_per_statement(23)) {
        let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new(
            "INSERT INTO contacts (municipality_id, family_id, area_id, pregnancy_id, kind, subject_kind, \
             subject_id, owner_role, staff_owed, opens, due, closes, ending, hidden, awaits, missed_on, \
             created_at, updated_at, outcome, form, outcome_by, outcome_at, outcome_note) ",
        );
        qb.push_values(chunk, |mut b, c| {
            b.push_bind(m)
                .push_bind(c.family_id.0)
                .push_bind(c.area_id.0)
                .push_bind(c.pregnancy_id.0)
                .push_bind(c.kind.as_str())
                .push_bind(c.subject_kind)
                .push_bind(c.subject_id)
                .push_bind(c.owner_role)
                .push_bind(c.staff_owed)
                .push_bind(c.opens.to_string())
                .push_bind(c.due.to_string())
                .push_bind(c.closes.to_string())
                .push_bind(c.ending)
                .push_bind(c.hidden)
                .push_bind(c.awaits)
                .push_bind(c.missed_on.map(|d| d.to_string()))
                .push_bind(at.clone())
                .push_bind(at.clone())
                .push_bind(c.settled.map(|_| "done"))
                .push_bind(c.settled.map(|s| s.form))
                .push_bind(c.settled.map(|s| s.by.0))
                .push_bind(c.settled.map(|_| at.clone()))
                .push_bind(if c.settled.is_some() { "import" } else { "" });
        });
        qb.build().execute(&mut *tx).await.map_err(db_err)?;
    }
    Ok(())
}

/// The writer's page cache during a large load, and otherwise (`connect`).
const BULK_CACHE: &str = "PRAGMA cache_size = -262144";
const USUAL_CACHE: &str = "PRAGMA cache_size = -32768";

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
    sqlx::query(BULK_CACHE).execute(&store.writer).await.map_err(db_err)?;
    Ok(())
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
        sqlx::query(USUAL_CACHE).execute(&store.writer).await.map_err(db_err)?;
        return Ok(0);
    }
    sqlx::query("PRAGMA temp_store = FILE").execute(&store.writer).await.map_err(db_err)?;
    let built = rebuild_in_one_transaction(store).await;
    sqlx::query("PRAGMA temp_store = MEMORY").execute(&store.writer).await.map_err(db_err)?;
    sqlx::query(USUAL_CACHE).execute(&store.writer).await.map_err(db_err)?;
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
