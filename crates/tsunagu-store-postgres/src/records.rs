//! Municipalities, areas, venues and the families' records: notifications, imports, births.

use crate::audit::{append_audit, append_audit_batch};
use crate::{
    corrupt, date, db_err, filter_municipality, get, in_municipality, is_unique_violation, lock_key, opt_date,
    push_filter, small, timeline, ts_param, PgStore, Table,
};
use async_trait::async_trait;
use jiff::civil::Date;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, QueryBuilder};
use tsunagu_domain::audit::{AuditAction, AuditContext};
use tsunagu_domain::municipality::MunicipalityCode;
use tsunagu_domain::places::{Area, Municipality, Venue, VenueKind};
use tsunagu_domain::policy::{FamilyAccess, FamilyFilter};
use tsunagu_domain::records::{
    is_duplicate_notification, Baby, Family, FamilyRecord, FamilySummary, FeeBracket, NewBaby, NewPerson, Notification,
    Person, Pregnancy, PregnancyStatus, Relation, Sex,
};
use tsunagu_domain::{AreaId, BabyId, FamilyId, MunicipalityId, PersonId, PregnancyId, VenueId};
use tsunagu_store::group_commit::PendingLine;
use tsunagu_store::{AuditStore, BirthCheck, ImportFamily, NewVenue, RecordStore, Result, StoreError};

macro_rules! municipality_columns {
    () => {
        "id, code, name_ja, name_en"
    };
}

macro_rules! venue_columns {
    () => {
        "id, municipality_id, area_id, kind, name_ja, name_en"
    };
}

// --- row decoding -----------------------------------------------------------

fn municipality_row(r: &PgRow) -> Result<Municipality> {
    let code: String = get(r, "code")?;
    Ok(Municipality {
        id: MunicipalityId(get(r, "id")?),
        code: MunicipalityCode::parse(&code).map_err(|_| corrupt("municipality code"))?,
        name_ja: get(r, "name_ja")?,
        name_en: get(r, "name_en")?,
    })
}

pub(crate) fn venue_row(r: &PgRow) -> Result<Venue> {
    let kind: String = get(r, "kind")?;
    Ok(Venue {
        id: VenueId(get(r, "id")?),
        municipality_id: MunicipalityId(get(r, "municipality_id")?),
        area_id: get::<Option<i64>>(r, "area_id")?.map(AreaId),
        kind: VenueKind::parse(&kind).ok_or_else(|| corrupt("venue kind"))?,
        name_ja: get(r, "name_ja")?,
        name_en: get(r, "name_en")?,
    })
}

fn person_row(r: &PgRow, family: FamilyId) -> Result<Person> {
    let relation: String = get(r, "relation")?;
    Ok(Person {
        id: PersonId(get(r, "id")?),
        family_id: family,
        relation: Relation::parse(&relation).ok_or_else(|| corrupt("relation"))?,
        family_name: get(r, "family_name")?,
        given_name: get(r, "given_name")?,
        family_name_kana: get(r, "family_name_kana")?,
        given_name_kana: get(r, "given_name_kana")?,
        birth_date: opt_date(get(r, "birth_date")?)?,
    })
}

pub(crate) fn pregnancy_row(r: &PgRow) -> Result<Pregnancy> {
    let status: String = get(r, "status")?;
    Ok(Pregnancy {
        id: PregnancyId(get(r, "id")?),
        family_id: FamilyId(get(r, "family_id")?),
        notified_on: date(&get::<String>(r, "notified_on")?)?,
        edd: date(&get::<String>(r, "edd")?)?,
        foetuses: small(get(r, "foetuses")?, "foetuses")?,
        first_child: get(r, "first_child")?,
        status: PregnancyStatus::parse(&status).ok_or_else(|| corrupt("status"))?,
        handbook_number: get(r, "handbook_number")?,
        ended_on: opt_date(get(r, "ended_on")?)?,
    })
}

pub(crate) fn baby_row(r: &PgRow) -> Result<Baby> {
    baby_row_named(r, "")
}

/// A baby whose columns are named with `prefix` before the usual names.
fn baby_row_named(r: &PgRow, prefix: &str) -> Result<Baby> {
    let col = |name: &str| format!("{prefix}{name}");
    let sex: String = get(r, &col("sex"))?;
    Ok(Baby {
        id: BabyId(get(r, &col("id"))?),
        pregnancy_id: PregnancyId(get(r, &col("pregnancy_id"))?),
        person_id: PersonId(get(r, &col("person_id"))?),
        birth_date: date(&get::<String>(r, &col("birth_date"))?)?,
        sex: Sex::parse(&sex).ok_or_else(|| corrupt("sex"))?,
        gestational_weeks: small(get(r, &col("gestational_weeks"))?, "gestational weeks")?,
        gestational_days: small(get(r, &col("gestational_days"))?, "gestational days")?,
        birth_weight_g: get::<Option<i32>>(r, &col("birth_weight_g"))?
            .map(|w| u16::try_from(w).map_err(|_| corrupt("birth weight")))
            .transpose()?,
        long_hospitalisation: get(r, &col("long_hospitalisation"))?,
    })
}

fn summary_row(r: &PgRow) -> Result<FamilySummary> {
    let family_name: String = get(r, "family_name")?;
    let given_name: String = get(r, "given_name")?;
    let fk: String = get(r, "family_name_kana")?;
    let gk: String = get(r, "given_name_kana")?;
    Ok(FamilySummary {
        family_id: FamilyId(get(r, "id")?),
        area_id: AreaId(get(r, "area_id")?),
        mother_name: format!("{family_name} {given_name}"),
        mother_kana: format!("{fk} {gk}"),
        mother_birth_date: opt_date(get(r, "birth_date")?)?,
        latest_edd: opt_date(get(r, "latest_edd")?)?,
    })
}

#[allow(clippy::too_many_arguments)]
async fn insert_person_row(
    tx: &mut PgConnection,
    m: MunicipalityId,
    family: FamilyId,
    relation: Relation,
    family_name: &str,
    given_name: &str,
    family_name_kana: &str,
    given_name_kana: &str,
    kana_key: &str,
    given_kana_key: &str,
    birth_date: Option<Date>,
) -> Result<PersonId> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO people (family_id, municipality_id, relation, family_name, given_name, family_name_kana, \
         given_name_kana, kana_key, given_kana_key, birth_date) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::date) RETURNING id",
    )
    .bind(family.0)
    .bind(m.0)
    .bind(relation.as_str())
    .bind(family_name)
    .bind(given_name)
    .bind(family_name_kana)
    .bind(given_name_kana)
    .bind(kana_key)
    .bind(given_kana_key)
    .bind(birth_date.map(|d| d.to_string()))
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    Ok(PersonId(id))
}

async fn insert_person(
    tx: &mut PgConnection,
    m: MunicipalityId,
    family: FamilyId,
    relation: Relation,
    p: &NewPerson,
) -> Result<PersonId> {
    insert_person_row(
        tx,
        m,
        family,
        relation,
        &p.family_name,
        &p.given_name,
        p.family_name_kana.as_str(),
        p.given_name_kana.as_str(),
        &p.search_key(),
        &p.given_name_kana.search_key(),
        p.birth_date,
    )
    .await
}

/// Whether row `id` of `table` belongs to municipality `m`.
/// Inserts a notification's family, people and pregnancy inside `tx`, after
/// taking the mother's advisory lock and checking for duplicates and a taken
/// handbook number (checks that change nothing when they refuse, so a caller
/// may go on with the transaction). No audit line; the area is the caller's check.
async fn insert_notification(
    tx: &mut PgConnection,
    ctx: &AuditContext,
    n: &Notification,
) -> Result<(FamilyId, PregnancyId)> {
    let m = ctx.municipality_id;
    let key = n.mother.search_key();
    // Two notifications of the same mother queue here, so the second one
    // sees the first in its duplicate check.
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind(lock_key(m))
        .bind(&key)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    let same_name = sqlx::query(concat!(
        "SELECT ",
        date_col!("p.birth_date"),
        " AS birth_date, ",
        date_col!("g.edd"),
        " AS edd FROM people p JOIN pregnancies g ON g.family_id = p.family_id \
         WHERE p.municipality_id = $1 AND p.kana_key = $2 AND p.relation = 'mother' AND g.status = 'ongoing'"
    ))
    .bind(m.0)
    .bind(&key)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    for r in &same_name {
        let birth = opt_date(get(r, "birth_date")?)?;
        let edd = date(&get::<String>(r, "edd")?)?;
        if is_duplicate_notification(&key, birth, edd, n) {
            return Err(StoreError::Conflict("duplicate_notification"));
        }
    }
    if let Some(h) = &n.handbook_number {
        let taken: Option<i64> =
            sqlx::query_scalar("SELECT id FROM pregnancies WHERE municipality_id = $1 AND handbook_number = $2")
                .bind(m.0)
                .bind(h)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        if taken.is_some() {
            return Err(StoreError::Conflict("handbook_number_taken"));
        }
    }
    let family: i64 = sqlx::query_scalar(
        "INSERT INTO families (municipality_id, area_id, fee_bracket, consent_coordinators, consent_hubs, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6::timestamptz) RETURNING id",
    )
    .bind(m.0)
    .bind(n.area_id.0)
    .bind(n.fee_bracket.as_str())
    .bind(n.consent_coordinators)
    .bind(n.consent_hubs)
    .bind(ts_param(ctx.at))
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    let family = FamilyId(family);
    insert_person(tx, m, family, Relation::Mother, &n.mother).await?;
    if let Some(p) = &n.partner {
        insert_person(tx, m, family, Relation::Partner, p).await?;
    }
    let pregnancy: i64 =
        sqlx::query_scalar(
            "INSERT INTO pregnancies (family_id, municipality_id, notified_on, edd, foetuses, first_child, status, \
         handbook_number) VALUES ($1, $2, $3::date, $4::date, $5, $6, 'ongoing', $7) RETURNING id",
        )
        .bind(family.0)
        .bind(m.0)
        .bind(n.notified_on.to_string())
        .bind(n.edd.to_string())
        .bind(i16::from(n.foetuses))
        .bind(n.first_child)
        .bind(&n.handbook_number)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict("handbook_number_taken")
            } else {
                db_err(e)
            }
        })?;
    Ok((family, PregnancyId(pregnancy)))
}

/// Inserts the babies of a birth (each a child in the family) and marks the
/// pregnancy delivered, inside `tx`. No audit line.
async fn insert_babies(
    tx: &mut PgConnection,
    m: MunicipalityId,
    family: FamilyId,
    pregnancy: PregnancyId,
    babies: &[NewBaby],
) -> Result<Vec<BabyId>> {
    let mother = sqlx::query(
        "SELECT family_name, family_name_kana FROM people WHERE family_id = $1 AND municipality_id = $2 \
         AND relation = 'mother' ORDER BY id LIMIT 1",
    )
    .bind(family.0)
    .bind(m.0)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    let family_name: String = get(&mother, "family_name")?;
    let family_kana: String = get(&mother, "family_name_kana")?;
    let mut ids = Vec::with_capacity(babies.len());
    for b in babies {
        let given_kana = b.given_name_kana.as_ref().map(|k| k.as_str().to_owned()).unwrap_or_default();
        let given_key = tsunagu_domain::kana::search_key(&given_kana);
        let person = insert_person_row(
            tx,
            m,
            family,
            Relation::Child,
            &family_name,
            &b.given_name,
            &family_kana,
            &given_kana,
            &format!("{}{given_key}", tsunagu_domain::kana::search_key(&family_kana)),
            &given_key,
            Some(b.birth_date),
        )
        .await?;
        let baby: i64 = sqlx::query_scalar(
            "INSERT INTO babies (municipality_id, pregnancy_id, family_id, person_id, birth_date, sex, \
             gestational_weeks, gestational_days, birth_weight_g, long_hospitalisation) \
             VALUES ($1, $2, $3, $4, $5::date, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(m.0)
        .bind(pregnancy.0)
        .bind(family.0)
        .bind(person.0)
        .bind(b.birth_date.to_string())
        .bind(b.sex.as_str())
        .bind(i16::from(b.gestational_weeks))
        .bind(i16::from(b.gestational_days))
        .bind(b.birth_weight_g.map(i32::from))
        .bind(b.long_hospitalisation)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        ids.push(BabyId(baby));
    }
    sqlx::query("UPDATE pregnancies SET status = 'delivered' WHERE id = $1 AND municipality_id = $2")
        .bind(pregnancy.0)
        .bind(m.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    Ok(ids)
}

/// Mothers whose `column` (`kana_key` or `given_kana_key`, both COLLATE "C",
/// so the range is exactly "starts with") begins with `key`, within `filter`,
/// in index order, at most `limit`.
async fn search_by(
    tx: &mut PgConnection,
    filter: &FamilyFilter,
    column: &'static str,
    key: &str,
    limit: u32,
) -> Result<Vec<FamilySummary>> {
    let upper = format!("{key}{}", char::MAX);
    let mut qb: QueryBuilder<'_, Postgres> = QueryBuilder::new(concat!(
        "SELECT f.id, f.area_id, p.family_name, p.given_name, p.family_name_kana, p.given_name_kana, ",
        date_col!("p.birth_date"),
        " AS birth_date, (SELECT ",
        date_col!("MAX(g.edd)"),
        " FROM pregnancies g WHERE g.family_id = f.id) AS latest_edd \
         FROM people p JOIN families f ON f.id = p.family_id WHERE p.relation = 'mother' AND p.municipality_id = "
    ));
    qb.push_bind(filter_municipality(filter).0);
    qb.push(format!(" AND p.{column} >= ")).push_bind(key.to_owned());
    qb.push(format!(" AND p.{column} < ")).push_bind(upper);
    push_filter(&mut qb, filter);
    qb.push(format!(" ORDER BY p.{column}, p.id LIMIT ")).push_bind(i64::from(limit));
    let rows = qb.build().fetch_all(&mut *tx).await.map_err(db_err)?;
    rows.iter().map(summary_row).collect()
}

#[async_trait]
impl RecordStore for PgStore {
    async fn create_municipality(&self, code: MunicipalityCode, name_ja: &str, name_en: &str) -> Result<Municipality> {
        let r = sqlx::query(concat!(
            "INSERT INTO municipalities (code, name_ja, name_en) VALUES ($1, $2, $3) RETURNING ",
            municipality_columns!()
        ))
        .bind(code.to_string())
        .bind(name_ja)
        .bind(name_en)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict("municipality_exists")
            } else {
                db_err(e)
            }
        })?;
        municipality_row(&r)
    }

    async fn municipality(&self, id: MunicipalityId) -> Result<Option<Municipality>> {
        let r = sqlx::query(concat!("SELECT ", municipality_columns!(), " FROM municipalities WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        r.as_ref().map(municipality_row).transpose()
    }

    async fn municipality_by_code(&self, code: MunicipalityCode) -> Result<Option<Municipality>> {
        let r = sqlx::query(concat!("SELECT ", municipality_columns!(), " FROM municipalities WHERE code = $1"))
            .bind(code.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        r.as_ref().map(municipality_row).transpose()
    }

    async fn municipalities(&self) -> Result<Vec<Municipality>> {
        // COLLATE "C": the same order as SQLite's, whatever the locale.
        let rows = sqlx::query(concat!(
            "SELECT ",
            municipality_columns!(),
            " FROM municipalities ORDER BY code COLLATE \"C\""
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(municipality_row).collect()
    }

    async fn create_area(&self, m: MunicipalityId, name_ja: &str, name_en: &str) -> Result<Area> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO areas (municipality_id, name_ja, name_en) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(m.0)
        .bind(name_ja)
        .bind(name_en)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict("area_exists") } else { db_err(e) })?;
        Ok(Area { id: AreaId(id), municipality_id: m, name_ja: name_ja.to_owned(), name_en: name_en.to_owned() })
    }

    async fn areas(&self, m: MunicipalityId) -> Result<Vec<Area>> {
        let rows = sqlx::query("SELECT id, name_ja, name_en FROM areas WHERE municipality_id = $1 ORDER BY id")
            .bind(m.0)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(Area {
                    id: AreaId(get(r, "id")?),
                    municipality_id: m,
                    name_ja: get(r, "name_ja")?,
                    name_en: get(r, "name_en")?,
                })
            })
            .collect()
    }

    async fn create_venue(&self, v: &NewVenue) -> Result<Venue> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        if let Some(a) = v.area_id {
            if !in_municipality(&mut tx, Table::Areas, a.0, v.municipality_id).await? {
                return Err(StoreError::InvalidReference("area_id"));
            }
        }
        let r = sqlx::query(concat!(
            "INSERT INTO venues (municipality_id, area_id, kind, name_ja, name_en) VALUES ($1, $2, $3, $4, $5) \
             RETURNING ",
            venue_columns!()
        ))
        .bind(v.municipality_id.0)
        .bind(v.area_id.map(|a| a.0))
        .bind(v.kind.as_str())
        .bind(&v.name_ja)
        .bind(&v.name_en)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let venue = venue_row(&r)?;
        tx.commit().await.map_err(db_err)?;
        Ok(venue)
    }

    async fn venues(&self, m: MunicipalityId) -> Result<Vec<Venue>> {
        let rows =
            sqlx::query(concat!("SELECT ", venue_columns!(), " FROM venues WHERE municipality_id = $1 ORDER BY id"))
                .bind(m.0)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
        rows.iter().map(venue_row).collect()
    }

    async fn register_notification(&self, ctx: &AuditContext, n: &Notification) -> Result<FamilyId> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        if !in_municipality(&mut tx, Table::Areas, n.area_id.0, ctx.municipality_id).await? {
            return Err(StoreError::InvalidReference("area_id"));
        }
        timeline::hold_contact_kinds(&mut tx, ctx.municipality_id).await?;
        let (family, pregnancy) = insert_notification(&mut tx, ctx, n).await?;
        let synced =
            timeline::sync_pregnancy(&mut tx, ctx.municipality_id, pregnancy, timeline::today_of(ctx), ctx.at).await?;
        append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::FamilyCreate, Some(family), &synced).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(family)
    }

    async fn import_families(
        &self,
        ctx: &AuditContext,
        families: &[ImportFamily],
    ) -> Result<Vec<Result<FamilyId, &'static str>>> {
        // A handbook number taken by a concurrent writer between the batch's
        // lookup and the insert fails the insert, which aborts the
        // transaction: the whole batch is undone and the error returned.
        ctx.covers(None)?;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let out = crate::bulk::import_batch(&mut tx, &self.keys.chain, ctx, families).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(out)
    }

    async fn bulk_load_begin(&self) -> Result<()> {
        crate::bulk::begin_bulk_load(self).await
    }

    async fn bulk_load_end(&self) -> Result<usize> {
        crate::bulk::rebuild_dropped_indexes(self).await
    }

    async fn import_families_one_by_one(
        &self,
        ctx: &AuditContext,
        families: &[ImportFamily],
    ) -> Result<Vec<Result<FamilyId, &'static str>>> {
        // Duplicates and taken handbook numbers are found by queries that change
        // nothing, so the batch goes on past them. A handbook number taken by a
        // concurrent writer between that check and the insert fails the insert,
        // which aborts a PostgreSQL transaction: then the whole batch is undone
        // and the error returned, and the importer runs the batch again.
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        timeline::hold_contact_kinds(&mut tx, ctx.municipality_id).await?;
        let mut areas_seen = Vec::new();
        let mut out = Vec::with_capacity(families.len());
        // The families' audit lines (#16, bulk loading): the same lines, in
        // the same order, as one `append_audit` per family would write (no
        // other line is written in this transaction), appended by one
        // multi-row insert before the commit.
        let mut lines = Vec::with_capacity(families.len());
        for f in families {
            let n = &f.notification;
            if !areas_seen.contains(&n.area_id) {
                if !in_municipality(&mut tx, Table::Areas, n.area_id.0, ctx.municipality_id).await? {
                    return Err(StoreError::InvalidReference("area_id"));
                }
                areas_seen.push(n.area_id);
            }
            match insert_notification(&mut tx, ctx, n).await {
                Ok((family, pregnancy)) => {
                    if !f.babies.is_empty() {
                        insert_babies(&mut tx, ctx.municipality_id, family, pregnancy, &f.babies).await?;
                    }
                    timeline::sync_pregnancy(&mut tx, ctx.municipality_id, pregnancy, timeline::today_of(ctx), ctx.at)
                        .await?;
                    if let Some(through) = f.settled_through {
                        timeline::settle_through(&mut tx, ctx, pregnancy, through).await?;
                    }
                    lines.push(PendingLine {
                        ctx: ctx.clone(),
                        action: AuditAction::FamilyCreate,
                        family: Some(family),
                        detail: "import".to_owned(),
                    });
                    out.push(Ok(family));
                }
                Err(StoreError::Conflict(code)) => out.push(Err(code)),
                Err(e) => return Err(e),
            }
        }
        append_audit_batch(&mut tx, &self.keys.chain, &lines).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(out)
    }

    async fn family_access(&self, m: MunicipalityId, id: FamilyId) -> Result<Option<FamilyAccess>> {
        // One statement (#16), on a kept connection; what it reads is
        // `family_access_select!`'s.
        let mut conn = self.hot_conn().await?;
        let r = sqlx::query(concat!(family_access_select!(), " WHERE f.id = $1 AND f.municipality_id = $2"))
            .bind(id.0)
            .bind(m.0)
            .fetch_optional(conn.conn()?)
            .await
            .map_err(db_err);
        let Some(r) = conn.done(r)? else { return Ok(None) };
        family_access_row(&r, m, id).map(Some)
    }

    async fn set_partner_sees_health(&self, ctx: &AuditContext, id: FamilyId, shared: bool) -> Result<()> {
        let detail = if shared { "partner_health=shared" } else { "partner_health=not_shared" };
        self.set_family_flag(ctx, id, PartnerFlag::SeesHealth, shared, detail).await
    }

    async fn set_partner_view_off(&self, ctx: &AuditContext, id: FamilyId, off: bool) -> Result<()> {
        let detail = if off { "partner_view=off" } else { "partner_view=on" };
        self.set_family_flag(ctx, id, PartnerFlag::ViewOff, off, detail).await
    }

    async fn open_family(&self, ctx: &AuditContext, id: FamilyId) -> Result<Option<FamilyRecord>> {
        // A decision about another family reaches nothing of this one.
        ctx.covers(Some(id))?;
        // Read on a kept connection; the audit line is committed with those
        // of other reads that arrive together (#16).
        let read = async {
            let mut conn = self.hot_conn().await?;
            let record = family_record(conn.conn()?, ctx.municipality_id, id).await;
            conn.done(record)
        };
        // A caller's decision about this very family was made on its access
        // facts, which the store found in this municipality, and families are
        // never deleted: the record is there, so its line need not wait for
        // the read. Both go at once (two round trips in parallel, not one
        // after the other) and the record is answered only once its line has
        // committed, as before. Without such a decision (the service's own
        // jobs, tests) the family may not exist, and a line is written only
        // for a record found.
        // The line first: it is the longer of the two (its commit flushes),
        // and written alone it is sent before the read is.
        if decided_on_family(ctx, id) {
            let ((), record) = tokio::try_join!(self.audit_read(ctx, AuditAction::FamilyView, Some(id), ""), read)?;
            return Ok(record);
        }
        let Some(record) = read.await? else { return Ok(None) };
        self.audit_read(ctx, AuditAction::FamilyView, Some(id), "").await?;
        Ok(Some(record))
    }

    async fn search_families(
        &self,
        ctx: &AuditContext,
        filter: &FamilyFilter,
        kana_key: &str,
        limit: u32,
    ) -> Result<Vec<FamilySummary>> {
        let m = filter_municipality(filter);
        if m != ctx.municipality_id {
            return Err(StoreError::InvalidReference("municipality"));
        }
        if matches!(filter, FamilyFilter::ConsentingInAreas(_, areas) if areas.is_empty()) {
            self.write_audit(ctx, AuditAction::FamilySearch, None, "results=0").await?;
            return Ok(vec![]);
        }
        // Family-name matches first, then given-name matches: each is one range
        // scan of its index in order, stopped at `limit`, so the cost does not
        // grow with the number of families.
        let out = {
            let mut conn = self.pool.acquire().await.map_err(db_err)?;
            let mut out = search_by(&mut conn, filter, "kana_key", kana_key, limit).await?;
            if out.len() < limit as usize {
                for row in search_by(&mut conn, filter, "given_kana_key", kana_key, limit).await? {
                    if out.len() < limit as usize && !out.iter().any(|o| o.family_id == row.family_id) {
                        out.push(row);
                    }
                }
            }
            out
        };
        self.audit_read(ctx, AuditAction::FamilySearch, None, &format!("results={}", out.len())).await?;
        Ok(out)
    }

    async fn record_birth_checked(
        &self,
        ctx: &AuditContext,
        family: FamilyId,
        pregnancy: PregnancyId,
        check: &BirthCheck<'_>,
    ) -> Result<Vec<BabyId>> {
        let m = ctx.municipality_id;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // The row lock makes a concurrent second birth wait, then see
        // `delivered`; the check sees the pregnancy as the birth changes it.
        let p = crate::records::pregnancy_for_change(&mut tx, m, family, pregnancy).await?;
        let babies = check(&p).map_err(StoreError::Invalid)?;
        if p.status != PregnancyStatus::Ongoing {
            return Err(StoreError::Conflict("pregnancy_not_ongoing"));
        }
        let ids = insert_babies(&mut tx, m, family, pregnancy, &babies).await?;
        // Still under the pregnancy's row lock: a concurrent change of the
        // pregnancy waits, then reconciles from what this birth left.
        let synced = timeline::sync_pregnancy(&mut tx, m, pregnancy, timeline::today_of(ctx), ctx.at).await?;
        append_audit(
            &mut tx,
            &self.keys.chain,
            ctx,
            AuditAction::BirthRecord,
            Some(family),
            &format!("babies={} {synced}", ids.len()),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(ids)
    }
}

/// Whether `ctx` carries the policy's decision about family `id` in its own
/// municipality: a decision made on the family's access facts, which only a
/// store answers for a family it holds.
pub(crate) fn decided_on_family(ctx: &AuditContext, id: FamilyId) -> bool {
    ctx.decision().is_some_and(|d| d.family_id() == Some(id) && d.municipality_id() == ctx.municipality_id)
}

/// Which of a family's settings about the partner's account.
#[derive(Clone, Copy)]
enum PartnerFlag {
    SeesHealth,
    ViewOff,
}

impl PgStore {
    /// Sets one of the partner settings of a family of `ctx`'s municipality
    /// and writes its audit line, in one transaction.
    async fn set_family_flag(
        &self,
        ctx: &AuditContext,
        id: FamilyId,
        flag: PartnerFlag,
        value: bool,
        detail: &str,
    ) -> Result<()> {
        let sql = match flag {
            PartnerFlag::SeesHealth => {
                "UPDATE families SET partner_sees_health = $1 WHERE id = $2 AND municipality_id = $3"
            }
            PartnerFlag::ViewOff => "UPDATE families SET partner_view_off = $1 WHERE id = $2 AND municipality_id = $3",
        };
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let n = sqlx::query(sql)
            .bind(value)
            .bind(id.0)
            .bind(ctx.municipality_id.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if n != 1 {
            return Err(StoreError::NotFound);
        }
        append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::FamilySharing, Some(id), detail).await?;
        tx.commit().await.map_err(db_err)
    }
}

/// What the policy needs to decide on a family, as `SELECT … FROM families f`
/// (the caller adds which family, in which municipality): its flags, the
/// facilities where it has an open application or an approved stay (their
/// staff may open the record; not after a rejection or a cancellation), and
/// the venues where it holds a class booking, confirmed or waiting (their
/// programme staff see it on the roster [#12]). Columns are named `fa_…`, so
/// that the statement that reads them beside the caller's session and
/// account (`session_with_family_access`) names none twice.
macro_rules! family_access_select {
    () => {
        concat!(
            "SELECT f.id AS fa_id, f.area_id AS fa_area_id, f.consent_coordinators AS fa_consent_coordinators, ",
            "f.consent_hubs AS fa_consent_hubs, f.escalated AS fa_escalated, ",
            "f.partner_sees_health AS fa_partner_sees_health, f.partner_view_off AS fa_partner_view_off, ",
            "ARRAY(SELECT DISTINCT a.venue_id FROM postpartum_applications a WHERE a.family_id = f.id ",
            "AND a.municipality_id = f.municipality_id AND a.status IN ('applied', 'approved') ",
            "ORDER BY a.venue_id) AS fa_facilities, ",
            "ARRAY(SELECT DISTINCT s.venue_id FROM class_bookings b JOIN class_sessions s ON s.id = b.session_id ",
            "WHERE b.family_id = f.id AND b.municipality_id = f.municipality_id AND b.status <> 'cancelled' ",
            "ORDER BY s.venue_id) AS fa_programme_venues ",
            "FROM families f"
        )
    };
}
pub(crate) use family_access_select;

/// A row of [`family_access_select`]'s columns, about family `id` of `m`.
pub(crate) fn family_access_row(r: &PgRow, m: MunicipalityId, id: FamilyId) -> Result<FamilyAccess> {
    let facilities: Vec<i64> = get(r, "fa_facilities")?;
    let programme_venues: Vec<i64> = get(r, "fa_programme_venues")?;
    Ok(FamilyAccess {
        municipality_id: m,
        family_id: id,
        area_id: AreaId(get(r, "fa_area_id")?),
        consent_coordinators: get(r, "fa_consent_coordinators")?,
        consent_hubs: get(r, "fa_consent_hubs")?,
        escalated: get(r, "fa_escalated")?,
        facilities: facilities.into_iter().map(VenueId).collect(),
        programme_venues: programme_venues.into_iter().map(VenueId).collect(),
        partner_sees_health: get(r, "fa_partner_sees_health")?,
        partner_view_off: get(r, "fa_partner_view_off")?,
    })
}

/// A family's record as `open_family` reads it, in `m`, inside the caller's
/// transaction and not audited: for a store method that reads what its one
/// action needs and writes that action's one line.
pub(crate) async fn family_record(
    tx: &mut PgConnection,
    m: MunicipalityId,
    id: FamilyId,
) -> Result<Option<FamilyRecord>> {
    // One statement, one round trip (#16): the family with its people
    // (`part` 0), then its pregnancies with their babies (`part` 1), each
    // side's columns NULL on the other's rows. `id` is the person's on the
    // first side and the pregnancy's on the second, as the rows' readers
    // (`person_row`, `pregnancy_row`) name it; `edd` is NULL on the first
    // side, so the order is the people's by id, then the pregnancies' by
    // EDD and id with their babies by id.
    let rows = sqlx::query(concat!(
        "SELECT 0 AS part, f.area_id, f.fee_bracket, f.consent_coordinators, f.consent_hubs, f.escalated, ",
        "p.id AS id, p.relation, p.family_name, p.given_name, p.family_name_kana, p.given_name_kana, ",
        date_col!("p.birth_date"),
        " AS birth_date, NULL AS family_id, NULL AS notified_on, NULL AS edd, NULL AS foetuses, ",
        "NULL AS first_child, NULL AS status, NULL AS handbook_number, NULL AS ended_on, NULL AS b_id, ",
        "NULL AS b_pregnancy_id, NULL AS b_person_id, NULL AS b_birth_date, NULL AS b_sex, ",
        "NULL AS b_gestational_weeks, NULL AS b_gestational_days, NULL AS b_birth_weight_g, ",
        "NULL AS b_long_hospitalisation ",
        "FROM families f LEFT JOIN people p ON p.family_id = f.id ",
        "WHERE f.id = $1 AND f.municipality_id = $2 ",
        "UNION ALL ",
        "SELECT 1, NULL, NULL, NULL, NULL, NULL, g.id, NULL, NULL, NULL, NULL, NULL, NULL, g.family_id, ",
        date_col!("g.notified_on"),
        ", ",
        date_col!("g.edd"),
        ", g.foetuses, g.first_child, g.status, g.handbook_number, ",
        date_col!("g.ended_on"),
        ", b.id, b.pregnancy_id, b.person_id, ",
        date_col!("b.birth_date"),
        ", b.sex, b.gestational_weeks, b.gestational_days, b.birth_weight_g, b.long_hospitalisation ",
        "FROM pregnancies g LEFT JOIN babies b ON b.pregnancy_id = g.id AND b.family_id = g.family_id ",
        "AND b.municipality_id = g.municipality_id ",
        "WHERE g.family_id = $1 AND g.municipality_id = $2 ",
        "ORDER BY part, edd, id, b_id"
    ))
    .bind(id.0)
    .bind(m.0)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    let (mut family_rows, mut pregnancy_rows): (Vec<&PgRow>, Vec<&PgRow>) = (Vec::new(), Vec::new());
    for r in &rows {
        match get::<i32>(r, "part")? {
            0 => family_rows.push(r),
            _ => pregnancy_rows.push(r),
        }
    }
    let Some(r) = family_rows.first() else { return Ok(None) };
    let bracket: String = get(r, "fee_bracket")?;
    let family = Family {
        id,
        municipality_id: m,
        area_id: AreaId(get(r, "area_id")?),
        fee_bracket: FeeBracket::parse(&bracket).ok_or_else(|| corrupt("fee bracket"))?,
        consent_coordinators: get(r, "consent_coordinators")?,
        consent_hubs: get(r, "consent_hubs")?,
        escalated: get(r, "escalated")?,
    };
    let mut people = Vec::with_capacity(family_rows.len());
    for r in &family_rows {
        if get::<Option<i64>>(r, "id")?.is_some() {
            people.push(person_row(r, id)?);
        }
    }
    let mut pregnancies: Vec<Pregnancy> = Vec::new();
    let mut babies = Vec::new();
    for r in pregnancy_rows {
        let pregnancy = PregnancyId(get(r, "id")?);
        if pregnancies.last().map(|p| p.id) != Some(pregnancy) {
            pregnancies.push(pregnancy_row(r)?);
        }
        if get::<Option<i64>>(r, "b_id")?.is_some() {
            babies.push(baby_row_named(r, "b_")?);
        }
    }
    // In the order of their ids, as a family's babies are listed.
    babies.sort_by_key(|b: &Baby| b.id.0);
    Ok(Some(FamilyRecord { family, people, pregnancies, babies }))
}

/// The pregnancy `pregnancy` of `family` in `m`, locked for a change to it
/// (a birth, a new EDD, an ending): a concurrent change waits, then sees
/// what this one left; `NotFound` when it is not there.
pub(crate) async fn pregnancy_for_change(
    tx: &mut PgConnection,
    m: MunicipalityId,
    family: FamilyId,
    pregnancy: PregnancyId,
) -> Result<Pregnancy> {
    sqlx::query(concat!(
        "SELECT ",
        pregnancy_columns!(),
        " FROM pregnancies WHERE id = $1 AND family_id = $2 AND municipality_id = $3 FOR UPDATE"
    ))
    .bind(pregnancy.0)
    .bind(family.0)
    .bind(m.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?
    .as_ref()
    .map(pregnancy_row)
    .transpose()?
    .ok_or(StoreError::NotFound)
}
