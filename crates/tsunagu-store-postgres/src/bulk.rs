//! The bulk path of `import_families` on PostgreSQL (#16, #15): the
//! mothers' advisory locks and the batch's duplicates in a few statements,
//! the rows computed in memory by `tsunagu_store::bulk`, the ids reserved
//! from the tables' sequences in one statement, and each table written by
//! one `INSERT … SELECT … FROM UNNEST(…)` (a round trip per table, not per row).

use crate::audit::append_audit_batch;
use crate::{corrupt, date, db_err, get, lock_key, opt_date, ts_param, Result};
use sqlx::PgConnection;
use tsunagu_domain::audit::{AuditAction, AuditContext};
use tsunagu_domain::keys::ChainKey;
use tsunagu_domain::timeline::{KindSet, RULES_VERSION};
use tsunagu_domain::FamilyId;
use tsunagu_store::bulk::{Batch, MotherOnRecord, OnRecord, ReservedIds, Rows};
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
    let rows = sqlx::query(concat!(
        "SELECT p.kana_key, ",
        date_col!("p.birth_date"),
        " AS birth_date, ",
        date_col!("g.edd"),
        " AS edd FROM people p JOIN pregnancies g ON g.family_id = p.family_id \
         WHERE p.municipality_id = $1 AND p.kana_key = ANY($2::text[]) AND p.relation = 'mother' \
         AND g.status = 'ongoing'"
    ))
    .bind(m.0)
    .bind(&keys)
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
    let r = sqlx::query(
        "SELECT \
         ARRAY(SELECT nextval(pg_get_serial_sequence('families', 'id')) FROM generate_series(1, $1)) AS f, \
         ARRAY(SELECT nextval(pg_get_serial_sequence('people', 'id')) FROM generate_series(1, $2)) AS p, \
         ARRAY(SELECT nextval(pg_get_serial_sequence('pregnancies', 'id')) FROM generate_series(1, $3)) AS g, \
         ARRAY(SELECT nextval(pg_get_serial_sequence('babies', 'id')) FROM generate_series(1, $4)) AS b",
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
        let c = &rows.contacts;
        // In the order `sync_pregnancy` would create them (identity ids follow it).
        sqlx::query(
            "INSERT INTO contacts (municipality_id, family_id, area_id, pregnancy_id, kind, subject_kind, \
             subject_id, owner_role, staff_owed, opens, due, closes, ending, hidden, awaits, missed_on, \
             created_at, updated_at, outcome, form, outcome_by, outcome_at, outcome_note) \
             SELECT $1, u.family, u.area, u.pregnancy, u.kind, u.subject_kind, u.subject_id, u.owner, u.owed, \
             u.opens, u.due, u.closes, u.ending, u.hidden, u.awaits, u.missed, $2::timestamptz, $2::timestamptz, \
             CASE WHEN u.form IS NULL THEN NULL ELSE 'done' END, u.form, \
             CASE WHEN u.form IS NULL THEN NULL ELSE $3::bigint END, \
             CASE WHEN u.form IS NULL THEN NULL ELSE $2::timestamptz END, \
             CASE WHEN u.form IS NULL THEN '' ELSE 'import' END \
             FROM UNNEST($4::bigint[], $5::bigint[], $6::bigint[], $7::text[], $8::text[], $9::bigint[], \
             $10::text[], $11::bool[], $12::text[]::date[], $13::text[]::date[], $14::text[]::date[], $15::text[], \
             $16::bool[], $17::bool[], $18::text[]::date[], $19::text[]) WITH ORDINALITY \
             AS u(family, area, pregnancy, kind, subject_kind, subject_id, owner, owed, opens, due, closes, ending, \
             hidden, awaits, missed, form, n) ORDER BY u.n",
        )
        .bind(m)
        .bind(&at)
        .bind(ctx.actor.0)
        .bind(c.iter().map(|r| r.family_id.0).collect::<Vec<_>>())
        .bind(c.iter().map(|r| r.area_id.0).collect::<Vec<_>>())
        .bind(c.iter().map(|r| r.pregnancy_id.0).collect::<Vec<_>>())
        .bind(c.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>())
        .bind(c.iter().map(|r| r.subject_kind).collect::<Vec<_>>())
        .bind(c.iter().map(|r| r.subject_id).collect::<Vec<_>>())
        .bind(c.iter().map(|r| r.owner_role).collect::<Vec<_>>())
        .bind(c.iter().map(|r| r.staff_owed).collect::<Vec<_>>())
        .bind(c.iter().map(|r| r.opens.to_string()).collect::<Vec<_>>())
        .bind(c.iter().map(|r| r.due.to_string()).collect::<Vec<_>>())
        .bind(c.iter().map(|r| r.closes.to_string()).collect::<Vec<_>>())
        .bind(c.iter().map(|r| r.ending).collect::<Vec<_>>())
        .bind(c.iter().map(|r| r.hidden).collect::<Vec<_>>())
        .bind(c.iter().map(|r| r.awaits).collect::<Vec<_>>())
        .bind(c.iter().map(|r| r.missed_on.map(|d| d.to_string())).collect::<Vec<_>>())
        .bind(c.iter().map(|r| r.settled.map(|s| s.form)).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }
    Ok(())
}
