//! The bulk path of `import_families` on PostgreSQL (#16, #15): the
//! mothers' advisory locks and the batch's duplicates in a few statements,
//! the rows computed in memory by `tsunagu_store::bulk`, the ids reserved
//! from the tables' sequences in one statement, and each table written by
//! one `INSERT … SELECT … FROM UNNEST(…)` (a round trip per table, not per
//! row); the contacts, ~18 a family, by `COPY … FROM STDIN` (#16).

use crate::audit::append_audit_batch;
use crate::{corrupt, date, db_err, get, lock_key, opt_date, ts_param, Result};
use sqlx::PgConnection;
use tsunagu_domain::audit::{AuditAction, AuditContext};
use tsunagu_domain::keys::ChainKey;
use tsunagu_domain::timeline::{KindSet, RULES_VERSION};
use tsunagu_domain::FamilyId;
use tsunagu_store::bulk::{
    Batch, ContactRow, MotherOnRecord, OnRecord, ReservedIds, Rows, KEPT_DURING_LOAD, SET_ASIDE_TABLES,
};
use tsunagu_store::group_commit::PendingLine;
use tsunagu_store::{ImportFamily, StoreError};

fn count(n: usize) -> Result<i64> {
    i64::try_from(n).map_err(|_| corrupt("batch size"))
}

/// Imports `families` inside `tx`, with one audit line per family.
pub(crate) async fn import_batch(
    tx: &mut PgConnection,
    key: &ChainKey,
    ctx: &AuditContext,
    families: &[ImportFamily],
) -> Result<Vec<std::result::Result<FamilyId, &'static str>>> {
    let m = ctx.municipality_id;
    if families.is_empty() {
        return Ok(vec![]);
    }
    // No JIT compilation in this transaction: the duplicate lookup's
    // generic plan, costed without statistics while a load fills the
    // tables, crossed `jit_above_cost`, and compiling it took longer than
    // running it (a batch's lookup at 1M families: 5–9 ms, ~50 ms with JIT;
    // BENCHMARKS.md, 2026-12-07). Only how PostgreSQL runs the statements
    // changes, not what they do.
    sqlx::query("SET LOCAL jit = off").execute(&mut *tx).await.map_err(db_err)?;
    let areas: Vec<i64> = Batch::areas(families).iter().map(|a| a.0).collect();
    // The kinds the municipality runs, held (shared) until the commit as
    // `timeline::hold_contact_kinds` does, and its areas among the batch's.
    let r = sqlx::query(
        "SELECT contact_kinds, (SELECT COUNT(*) FROM areas a WHERE a.municipality_id = $1 AND a.id = ANY($2)) \
         AS areas FROM municipalities WHERE id = $1 FOR SHARE OF municipalities",
    )
    .bind(m.0)
    .bind(&areas)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?
    .ok_or(StoreError::InvalidReference("area_id"))?;
    let kinds: i32 = get(&r, "contact_kinds")?;
    let kinds = KindSet::from_bits(u16::try_from(kinds).map_err(|_| corrupt("contact kinds"))?);
    let found: i64 = get(&r, "areas")?;
    if found != count(areas.len())? {
        return Err(StoreError::InvalidReference("area_id"));
    }
    // Each mother's lock, as `insert_notification` takes it, in one
    // statement and in a fixed order (two batches cannot deadlock).
    let keys = Batch::mother_keys(families);
    sqlx::query(
        "SELECT pg_advisory_xact_lock($1, h) FROM \
         (SELECT DISTINCT hashtext(k) AS h FROM unnest($2::text[]) AS k ORDER BY h) AS locks",
    )
    .bind(lock_key(m))
    .bind(&keys)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    let mut on_record = OnRecord::default();
    // Three reads by `people_mother_birth` (key and date, key and no date,
    // key alone for the batch's mothers of unknown birth date), then each
    // family's pregnancies: bounded by the batch, not by the city (#16).
    // Each is a `LATERAL` subquery with `OFFSET 0` (not pulled up into a
    // join), so it is one index lookup per key whatever the statistics say
    // while a load fills the tables: a join let the planner merge the key
    // list with the city's whole index (385 ms a batch at 100,000 families).
    // A mother's pregnancies are found by `pregnancies_family` alone
    // (`municipality_id + 0` is no index condition): the generic plan of a
    // load, without statistics, also read the city's whole part of the
    // handbook numbers' unique index for each mother found (a `BitmapAnd`),
    // a cost growing with the city (BENCHMARKS.md, issue #16, 2026-12-07).
    let lookups = Batch::mother_lookups(families);
    let rows = sqlx::query(concat!(
        "WITH mothers AS ( \
         SELECT p.* FROM unnest($2::text[], $3::text[]) AS w(k, b) CROSS JOIN LATERAL \
         (SELECT p.family_id, p.kana_key, p.birth_date FROM people p WHERE p.municipality_id = $1 \
         AND p.relation = 'mother' AND p.kana_key = w.k COLLATE \"C\" AND p.birth_date = w.b::date OFFSET 0) p \
         UNION ALL SELECT p.* FROM unnest($4::text[]) AS w(k) CROSS JOIN LATERAL \
         (SELECT p.family_id, p.kana_key, p.birth_date FROM people p WHERE p.municipality_id = $1 \
         AND p.relation = 'mother' AND p.kana_key = w.k COLLATE \"C\" AND p.birth_date IS NULL OFFSET 0) p \
         UNION ALL SELECT p.* FROM unnest($5::text[]) AS w(k) CROSS JOIN LATERAL \
         (SELECT p.family_id, p.kana_key, p.birth_date FROM people p WHERE p.municipality_id = $1 \
         AND p.relation = 'mother' AND p.kana_key = w.k COLLATE \"C\" OFFSET 0) p) \
         SELECT m.kana_key, ",
        date_col!("m.birth_date"),
        " AS birth_date, ",
        date_col!("g.edd"),
        " AS edd FROM mothers m CROSS JOIN LATERAL (SELECT g.edd FROM pregnancies g \
         WHERE g.family_id = m.family_id AND g.municipality_id + 0 = $1 AND g.status = 'ongoing' OFFSET 0) g"
    ))
    .bind(m.0)
    .bind(&lookups.born_keys)
    .bind(&lookups.born_dates)
    .bind(&lookups.keys)
    .bind(&lookups.any_birth)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    for r in &rows {
        on_record.mothers.push(MotherOnRecord {
            kana_key: get(r, "kana_key")?,
            birth_date: opt_date(get(r, "birth_date")?)?,
            edd: date(&get::<String>(r, "edd")?)?,
        });
    }
    let numbers = Batch::handbook_numbers(families);
    if !numbers.is_empty() {
        let taken: Vec<String> = sqlx::query_scalar(
            "SELECT handbook_number FROM pregnancies WHERE municipality_id = $1 AND handbook_number = ANY($2::text[])",
        )
        .bind(m.0)
        .bind(&numbers)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        on_record.handbook_numbers.extend(taken);
    }
    let batch = Batch::check(families, &on_record);
    let counts = batch.id_counts();
    // Ids from the identity columns' sequences, all four in one statement.
    // Each sequence is looked up once (`MATERIALIZED`): called for every
    // id, `pg_get_serial_sequence` read the catalogs each time and was a
    // sixth of a batch's time in PostgreSQL (18 ms a batch; BENCHMARKS.md).
    let r = sqlx::query(
        "WITH s AS MATERIALIZED (SELECT \
         pg_get_serial_sequence('families', 'id')::regclass AS f, \
         pg_get_serial_sequence('people', 'id')::regclass AS p, \
         pg_get_serial_sequence('pregnancies', 'id')::regclass AS g, \
         pg_get_serial_sequence('babies', 'id')::regclass AS b) \
         SELECT \
         ARRAY(SELECT nextval(s.f) FROM generate_series(1, $1)) AS f, \
         ARRAY(SELECT nextval(s.p) FROM generate_series(1, $2)) AS p, \
         ARRAY(SELECT nextval(s.g) FROM generate_series(1, $3)) AS g, \
         ARRAY(SELECT nextval(s.b) FROM generate_series(1, $4)) AS b FROM s",
    )
    .bind(count(counts.families)?)
    .bind(count(counts.people)?)
    .bind(count(counts.pregnancies)?)
    .bind(count(counts.babies)?)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    let ids = ReservedIds {
        families: get(&r, "f")?,
        people: get(&r, "p")?,
        pregnancies: get(&r, "g")?,
        babies: get(&r, "b")?,
    };
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

async fn write_rows(tx: &mut PgConnection, ctx: &AuditContext, rows: &Rows) -> Result<()> {
    let m = ctx.municipality_id.0;
    let at = ts_param(ctx.at);
    if !rows.families.is_empty() {
        let f = &rows.families;
        sqlx::query(
            "INSERT INTO families (id, municipality_id, area_id, fee_bracket, consent_coordinators, consent_hubs, \
             created_at) OVERRIDING SYSTEM VALUE \
             SELECT u.id, $1, u.area, u.fee, u.cc, u.ch, $2::timestamptz \
             FROM UNNEST($3::bigint[], $4::bigint[], $5::text[], $6::bool[], $7::bool[]) AS u(id, area, fee, cc, ch)",
        )
        .bind(m)
        .bind(&at)
        .bind(f.iter().map(|r| r.id.0).collect::<Vec<_>>())
        .bind(f.iter().map(|r| r.notification.area_id.0).collect::<Vec<_>>())
        .bind(f.iter().map(|r| r.notification.fee_bracket.as_str()).collect::<Vec<_>>())
        .bind(f.iter().map(|r| r.notification.consent_coordinators).collect::<Vec<_>>())
        .bind(f.iter().map(|r| r.notification.consent_hubs).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }
    if !rows.people.is_empty() {
        let p = &rows.people;
        sqlx::query(
            "INSERT INTO people (id, family_id, municipality_id, relation, family_name, given_name, \
             family_name_kana, given_name_kana, kana_key, given_kana_key, birth_date) OVERRIDING SYSTEM VALUE \
             SELECT u.id, u.family, $1, u.relation, u.fname, u.gname, u.fkana, u.gkana, u.kkey, u.gkey, u.birth \
             FROM UNNEST($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], \
             $9::text[], $10::text[], $11::text[]::date[]) \
             AS u(id, family, relation, fname, gname, fkana, gkana, kkey, gkey, birth)",
        )
        .bind(m)
        .bind(p.iter().map(|r| r.id.0).collect::<Vec<_>>())
        .bind(p.iter().map(|r| r.family_id.0).collect::<Vec<_>>())
        .bind(p.iter().map(|r| r.relation.as_str()).collect::<Vec<_>>())
        .bind(p.iter().map(|r| r.family_name.as_str()).collect::<Vec<_>>())
        .bind(p.iter().map(|r| r.given_name.as_str()).collect::<Vec<_>>())
        .bind(p.iter().map(|r| r.family_name_kana.as_str()).collect::<Vec<_>>())
        .bind(p.iter().map(|r| r.given_name_kana.as_str()).collect::<Vec<_>>())
        .bind(p.iter().map(|r| r.kana_key.as_str()).collect::<Vec<_>>())
        .bind(p.iter().map(|r| r.given_kana_key.as_str()).collect::<Vec<_>>())
        .bind(p.iter().map(|r| r.birth_date.map(|d| d.to_string())).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }
    if !rows.pregnancies.is_empty() {
        let g = &rows.pregnancies;
        sqlx::query(
            "INSERT INTO pregnancies (id, family_id, municipality_id, notified_on, edd, foetuses, first_child, \
             status, handbook_number, timeline_rules) OVERRIDING SYSTEM VALUE \
             SELECT u.id, u.family, $1, u.notified, u.edd, u.foetuses, u.first, u.status, u.handbook, $2 \
             FROM UNNEST($3::bigint[], $4::bigint[], $5::text[]::date[], $6::text[]::date[], $7::smallint[], \
             $8::bool[], $9::text[], $10::text[]) AS u(id, family, notified, edd, foetuses, first, status, handbook)",
        )
        .bind(m)
        .bind(RULES_VERSION)
        .bind(g.iter().map(|r| r.id.0).collect::<Vec<_>>())
        .bind(g.iter().map(|r| r.family_id.0).collect::<Vec<_>>())
        .bind(g.iter().map(|r| r.pregnancy.notified_on.to_string()).collect::<Vec<_>>())
        .bind(g.iter().map(|r| r.pregnancy.edd.to_string()).collect::<Vec<_>>())
        .bind(g.iter().map(|r| i16::from(r.pregnancy.foetuses)).collect::<Vec<_>>())
        .bind(g.iter().map(|r| r.pregnancy.first_child).collect::<Vec<_>>())
        .bind(g.iter().map(|r| r.pregnancy.status.as_str()).collect::<Vec<_>>())
        .bind(g.iter().map(|r| r.pregnancy.handbook_number.clone()).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }
    if !rows.babies.is_empty() {
        let b = &rows.babies;
        sqlx::query(
            "INSERT INTO babies (id, municipality_id, pregnancy_id, family_id, person_id, birth_date, sex, \
             gestational_weeks, gestational_days, birth_weight_g, long_hospitalisation) OVERRIDING SYSTEM VALUE \
             SELECT u.id, $11, u.pregnancy, u.family, u.person, u.birth, u.sex, u.weeks, u.days, u.weight, u.long \
             FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[]::date[], \
             $6::text[], $7::smallint[], $8::smallint[], $9::int[], $10::bool[]) \
             AS u(id, pregnancy, family, person, birth, sex, weeks, days, weight, long)",
        )
        .bind(b.iter().map(|r| r.baby.id.0).collect::<Vec<_>>())
        .bind(b.iter().map(|r| r.baby.pregnancy_id.0).collect::<Vec<_>>())
        .bind(b.iter().map(|r| r.family_id.0).collect::<Vec<_>>())
        .bind(b.iter().map(|r| r.baby.person_id.0).collect::<Vec<_>>())
        .bind(b.iter().map(|r| r.baby.birth_date.to_string()).collect::<Vec<_>>())
        .bind(b.iter().map(|r| r.baby.sex.as_str()).collect::<Vec<_>>())
        .bind(b.iter().map(|r| i16::from(r.baby.gestational_weeks)).collect::<Vec<_>>())
        .bind(b.iter().map(|r| i16::from(r.baby.gestational_days)).collect::<Vec<_>>())
        .bind(b.iter().map(|r| r.baby.birth_weight_g.map(i32::from)).collect::<Vec<_>>())
        .bind(b.iter().map(|r| r.baby.long_hospitalisation).collect::<Vec<_>>())
        .bind(m)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }
    if !rows.contacts.is_empty() {
        copy_contacts(tx, ctx, &rows.contacts).await?;
    }
    Ok(())
}

/// The fields of a row in `COPY`'s binary format: each its length (a
/// 32-bit integer, big-endian; -1 for none) and its value as the type's
/// binary form, which PostgreSQL takes as it is instead of parsing text.
struct BinaryRow<'a>(&'a mut Vec<u8>);

/// 2000-01-01, from which PostgreSQL counts dates (days) and instants (µs).
const PG_EPOCH_DAY: jiff::civil::Date = jiff::civil::date(2000, 1, 1);
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

impl BinaryRow<'_> {
    fn start(out: &mut Vec<u8>, fields: i16) -> BinaryRow<'_> {
        out.extend_from_slice(&fields.to_be_bytes());
        BinaryRow(out)
    }

    fn value(&mut self, bytes: &[u8]) -> Result<()> {
        let len = i32::try_from(bytes.len()).map_err(|_| corrupt("copy field"))?;
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(bytes);
        Ok(())
    }

    fn null(&mut self) {
        self.0.extend_from_slice(&(-1i32).to_be_bytes());
    }

    fn bigint(&mut self, v: i64) -> Result<()> {
        self.value(&v.to_be_bytes())
    }

    fn text(&mut self, v: Option<&str>) -> Result<()> {
        match v {
            Some(v) => self.value(v.as_bytes()),
            None => {
                self.null();
                Ok(())
            }
        }
    }

    fn boolean(&mut self, v: bool) -> Result<()> {
        self.value(&[u8::from(v)])
    }

    /// A `date`: days since 2000-01-01.
    fn date(&mut self, v: Option<jiff::civil::Date>) -> Result<()> {
        let Some(d) = v else {
            self.null();
            return Ok(());
        };
        let days = i32::try_from(d.duration_since(PG_EPOCH_DAY).as_secs() / 86_400).map_err(|_| corrupt("date"))?;
        self.value(&days.to_be_bytes())
    }

    /// A `timestamptz`: microseconds since 2000-01-01 UTC (the instant
    /// kept to the microsecond, as `ts_param` binds it).
    fn instant(&mut self, v: Option<jiff::Timestamp>) -> Result<()> {
        let Some(t) = v else {
            self.null();
            return Ok(());
        };
        self.bigint(t.as_microsecond() - PG_EPOCH_MICROS)
    }
}

/// The contacts of a batch through `COPY` (#16): one stream instead of one
/// statement's parameter arrays, the rows in the order `sync_pregnancy`
/// would create them (the identity ids follow it). Triggers and foreign
/// keys are checked for every row as with an `INSERT`. In the binary
/// format: the text format's dates and instants, parsed by PostgreSQL for
/// every row, were a tenth of the copy's time (BENCHMARKS.md, 2026-12-07).
async fn copy_contacts(tx: &mut PgConnection, ctx: &AuditContext, contacts: &[ContactRow]) -> Result<()> {
    const FIELDS: i16 = 23;
    let at = ctx.at;
    let mut data = Vec::with_capacity(19 + contacts.len() * 220 + 2);
    // The header: the signature, no flags, no extension.
    data.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    data.extend_from_slice(&0i32.to_be_bytes());
    data.extend_from_slice(&0i32.to_be_bytes());
    for c in contacts {
        let settled = c.settled.is_some();
        let mut row = BinaryRow::start(&mut data, FIELDS);
        row.bigint(ctx.municipality_id.0)?;
        row.bigint(c.family_id.0)?;
        row.bigint(c.area_id.0)?;
        row.bigint(c.pregnancy_id.0)?;
        row.text(Some(c.kind.as_str()))?;
        row.text(Some(c.subject_kind))?;
        row.bigint(c.subject_id)?;
        row.text(Some(c.owner_role))?;
        row.boolean(c.staff_owed)?;
        row.date(Some(c.opens))?;
        row.date(Some(c.due))?;
        row.date(Some(c.closes))?;
        row.text(c.ending)?;
        row.boolean(c.hidden)?;
        row.boolean(c.awaits)?;
        row.date(c.missed_on)?;
        row.instant(Some(at))?;
        row.instant(Some(at))?;
        row.text(settled.then_some("done"))?;
        row.text(c.settled.map(|s| s.form))?;
        if settled {
            row.bigint(ctx.actor.0)?;
        } else {
            row.null();
        }
        row.instant(settled.then_some(at))?;
        row.text(Some(if settled { "import" } else { "" }))?;
    }
    // The trailer.
    data.extend_from_slice(&(-1i16).to_be_bytes());
    let mut copy = tx
        .copy_in_raw(
            "COPY contacts (municipality_id, family_id, area_id, pregnancy_id, kind, subject_kind, subject_id, \
             owner_role, staff_owed, opens, due, closes, ending, hidden, awaits, missed_on, created_at, updated_at, \
             outcome, form, outcome_by, outcome_at, outcome_note) FROM STDIN (FORMAT binary)",
        )
        .await
        .map_err(db_err)?;
    if let Err(e) = copy.send(data).await {
        // The stream must be ended before the connection is used again.
        let _ = copy.abort("the batch failed").await;
        return Err(db_err(e));
    }
    copy.finish().await.map_err(db_err)?;
    Ok(())
}

/// `RecordStore::bulk_load_begin`: drops the indexes of
/// [`SET_ASIDE_TABLES`] that are neither unique, behind a constraint nor
/// [`KEPT_DURING_LOAD`], and the tables' foreign keys, their definitions
/// saved in the same transaction. The contacts' were most of a load's time
/// (BENCHMARKS.md); with the other tables' too, the people insert no longer
/// keeps three kana indexes nor checks and locks its family row by row.
pub(crate) async fn begin_bulk_load(store: &crate::PgStore) -> Result<()> {
    let mut tx = store.pool.begin().await.map_err(db_err)?;
    for table in SET_ASIDE_TABLES {
        let found: Vec<(String, String)> = sqlx::query_as(
            "SELECT i.relname::text, pg_get_indexdef(x.indexrelid) FROM pg_index x \
             JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid \
             WHERE t.relname = $1 AND t.relnamespace = current_schema()::regnamespace \
             AND NOT x.indisunique AND NOT x.indisprimary AND i.relname::text <> ALL($2::text[]) \
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) ORDER BY 1",
        )
        .bind(table)
        .bind(KEPT_DURING_LOAD)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        for (name, definition) in found {
            save(&mut tx, &name, table, &definition).await?;
            sqlx::query(&format!("DROP INDEX {}", ident(&name))).execute(&mut *tx).await.map_err(db_err)?;
        }
        let keys: Vec<(String, String)> = sqlx::query_as(
            "SELECT c.conname::text, pg_get_constraintdef(c.oid) FROM pg_constraint c \
             JOIN pg_class t ON t.oid = c.conrelid \
             WHERE t.relname = $1 AND t.relnamespace = current_schema()::regnamespace AND c.contype = 'f' ORDER BY 1",
        )
        .bind(table)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        for (name, definition) in keys {
            let add = format!("ALTER TABLE {} ADD CONSTRAINT {} {definition}", ident(table), ident(&name));
            save(&mut tx, &name, table, &add).await?;
            sqlx::query(&format!("ALTER TABLE {} DROP CONSTRAINT {}", ident(table), ident(&name)))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
    }
    tx.commit().await.map_err(db_err)
}

fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

async fn save(tx: &mut PgConnection, name: &str, table: &str, definition: &str) -> Result<()> {
    sqlx::query("INSERT INTO bulk_dropped_indexes (name, table_name, definition) VALUES ($1, $2, $3)")
        .bind(name)
        .bind(table)
        .bind(definition)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// `RecordStore::bulk_load_end`, and `migrate`'s check: builds every saved
/// index that is missing and forgets the definitions, in one transaction
/// (all of them or none).
pub(crate) async fn rebuild_dropped_indexes(store: &crate::PgStore) -> Result<usize> {
    let mut tx = store.pool.begin().await.map_err(db_err)?;
    let saved: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT name, table_name, definition FROM bulk_dropped_indexes \
             ORDER BY definition LIKE 'ALTER TABLE%', table_name, name FOR UPDATE",
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    if saved.is_empty() {
        return Ok(0);
    }
    // Each build sorts in 64 MB, PostgreSQL's default, shared by the build's
    // processes (the leader and a parallel worker). Measured at 1M families,
    // the largest index of `contacts` (7M rows) built in 6.4–7.2 s at 64 MB,
    // 7.9 s at 128 MB, 8.7–10.2 s at 256 MB (what this set before) and
    // 12 s at 1 GB: smaller sorted runs, merged, beat one large in-memory
    // sort on this machine (BENCHMARKS.md, 2026-12-07).
    sqlx::query("SET LOCAL maintenance_work_mem = '64MB'").execute(&mut *tx).await.map_err(db_err)?;
    let mut built = 0;
    // Every index first, then the foreign keys: each `ADD CONSTRAINT`
    // checks every row of the table against its parent (one join), and a
    // row without its parent fails it, and with it the whole rebuild.
    for (name, table, definition) in &saved {
        let there: bool = sqlx::query_scalar(
            "SELECT to_regclass(quote_ident($1)) IS NOT NULL OR EXISTS (SELECT 1 FROM pg_constraint c \
             JOIN pg_class t ON t.oid = c.conrelid WHERE c.conname = $1 AND t.relname = $2 \
             AND t.relnamespace = current_schema()::regnamespace)",
        )
        .bind(name)
        .bind(table)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        if !there {
            sqlx::query(definition).execute(&mut *tx).await.map_err(db_err)?;
            built += 1;
        }
    }
    sqlx::query("DELETE FROM bulk_dropped_indexes").execute(&mut *tx).await.map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    // A table just filled has no statistics and no visibility map yet: the
    // planner guesses and index-only scans visit the heap (the work list
    // took 12.6 ms at 250,000 families before, 4.2 ms after; BENCHMARKS.md).
    // Outside a transaction, as VACUUM must be.
    sqlx::raw_sql("VACUUM (ANALYZE) contacts, families, people, pregnancies, babies")
        .execute(&store.pool)
        .await
        .map_err(db_err)?;
    Ok(built)
}
