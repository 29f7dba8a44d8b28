//! Municipalities, areas, venues and the families' records: notifications, imports, births.

use crate::audit::{append_audit, append_audit_batch};
use crate::direct::{direct_err, prepare, Cells};
use crate::{
    corrupt, date, db_err, direct_filter, filter_municipality, in_municipality, is_unique_violation, opt_date,
    timeline, ts_text, SqliteStore,
};
use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
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

async fn insert_person(
    tx: &mut SqliteConnection,
    m: MunicipalityId,
    family: FamilyId,
    relation: Relation,
    p: &NewPerson,
) -> Result<PersonId> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO people (family_id, municipality_id, relation, family_name, given_name, family_name_kana, \
         given_name_kana, kana_key, given_kana_key, birth_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(family.0)
    .bind(m.0)
    .bind(relation.as_str())
    .bind(&p.family_name)
    .bind(&p.given_name)
    .bind(p.family_name_kana.as_str())
    .bind(p.given_name_kana.as_str())
    .bind(p.search_key())
    .bind(p.given_name_kana.search_key())
    .bind(p.birth_date.map(|d| d.to_string()))
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    Ok(PersonId(id))
}

/// Inserts a notification's family, people and pregnancy inside `tx`, after
/// the duplicate and handbook-number checks (which change nothing when they
/// refuse, so a caller may go on with the transaction). No audit line.
async fn insert_notification(
    tx: &mut SqliteConnection,
    ctx: &AuditContext,
    n: &Notification,
) -> Result<(FamilyId, PregnancyId)> {
    let m = ctx.municipality_id;
    let key = n.mother.search_key();
    let same_name = sqlx::query(
        "SELECT p.birth_date, g.edd FROM people p JOIN pregnancies g ON g.family_id = p.family_id \
         WHERE p.municipality_id = ? AND p.kana_key = ? AND p.relation = 'mother' AND g.status = 'ongoing'",
    )
    .bind(m.0)
    .bind(&key)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    for r in &same_name {
        let birth = opt_date(r.try_get(0).map_err(db_err)?)?;
        let edd = date(&r.try_get::<String, _>(1).map_err(db_err)?)?;
        if is_duplicate_notification(&key, birth, edd, n) {
            return Err(StoreError::Conflict("duplicate_notification"));
        }
    }
    if let Some(h) = &n.handbook_number {
        let taken: Option<i64> =
            sqlx::query_scalar("SELECT id FROM pregnancies WHERE municipality_id = ? AND handbook_number = ?")
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
         created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(m.0)
    .bind(n.area_id.0)
    .bind(n.fee_bracket.as_str())
    .bind(n.consent_coordinators)
    .bind(n.consent_hubs)
    .bind(ts_text(ctx.at))
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    let family = FamilyId(family);
    insert_person(tx, m, family, Relation::Mother, &n.mother).await?;
    if let Some(p) = &n.partner {
        insert_person(tx, m, family, Relation::Partner, p).await?;
    }
    let pregnancy: i64 = sqlx::query_scalar(
        "INSERT INTO pregnancies (family_id, municipality_id, notified_on, edd, foetuses, first_child, status, \
         handbook_number) VALUES (?, ?, ?, ?, ?, ?, 'ongoing', ?) RETURNING id",
    )
    .bind(family.0)
    .bind(m.0)
    .bind(n.notified_on.to_string())
    .bind(n.edd.to_string())
    .bind(i64::from(n.foetuses))
    .bind(n.first_child)
    .bind(&n.handbook_number)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict("handbook_number_taken") } else { db_err(e) })?;
    Ok((family, PregnancyId(pregnancy)))
}

/// Inserts the babies of a birth (each a child in the family) and marks the
/// pregnancy delivered, inside `tx`. No audit line.
async fn insert_babies(
    tx: &mut SqliteConnection,
    m: MunicipalityId,
    family: FamilyId,
    pregnancy: PregnancyId,
    babies: &[NewBaby],
) -> Result<Vec<BabyId>> {
    // `+municipality_id`: read by the family, never by the city (see `family_record`).
    let mother = sqlx::query(
        "SELECT family_name, family_name_kana FROM people \
         WHERE family_id = ? AND +municipality_id = ? AND relation = 'mother' LIMIT 1",
    )
    .bind(family.0)
    .bind(m.0)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    let family_name: String = mother.try_get(0).map_err(db_err)?;
    let family_kana: String = mother.try_get(1).map_err(db_err)?;
    let mut ids = Vec::with_capacity(babies.len());
    for b in babies {
        let given_kana = b.given_name_kana.as_ref().map(|k| k.as_str().to_owned()).unwrap_or_default();
        let person: i64 = sqlx::query_scalar(
            "INSERT INTO people (family_id, municipality_id, relation, family_name, given_name, \
             family_name_kana, given_name_kana, kana_key, given_kana_key, birth_date) \
             VALUES (?, ?, 'child', ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(family.0)
        .bind(m.0)
        .bind(&family_name)
        .bind(&b.given_name)
        .bind(&family_kana)
        .bind(&given_kana)
        .bind(format!(
            "{}{}",
            tsunagu_domain::kana::search_key(&family_kana),
            tsunagu_domain::kana::search_key(&given_kana)
        ))
        .bind(tsunagu_domain::kana::search_key(&given_kana))
        .bind(b.birth_date.to_string())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let baby: i64 = sqlx::query_scalar(
            "INSERT INTO babies (municipality_id, pregnancy_id, family_id, person_id, birth_date, sex, \
             gestational_weeks, gestational_days, birth_weight_g, long_hospitalisation) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(m.0)
        .bind(pregnancy.0)
        .bind(family.0)
        .bind(person)
        .bind(b.birth_date.to_string())
        .bind(b.sex.as_str())
        .bind(i64::from(b.gestational_weeks))
        .bind(i64::from(b.gestational_days))
        .bind(b.birth_weight_g.map(i64::from))
        .bind(b.long_hospitalisation)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        ids.push(BabyId(baby));
    }
    sqlx::query("UPDATE pregnancies SET status = 'delivered' WHERE id = ? AND municipality_id = ?")
        .bind(pregnancy.0)
        .bind(m.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    Ok(ids)
}

pub(crate) const PREGNANCY_COLUMNS: &str =
    "id, family_id, notified_on, edd, foetuses, first_child, status, handbook_number, ended_on";

pub(crate) fn pregnancy_row(r: &impl Cells) -> Result<Pregnancy> {
    let status: String = r.cell(6)?;
    Ok(Pregnancy {
        id: PregnancyId(r.cell(0)?),
        family_id: FamilyId(r.cell(1)?),
        notified_on: date(&r.cell::<String>(2)?)?,
        edd: date(&r.cell::<String>(3)?)?,
        foetuses: u8::try_from(r.cell::<i64>(4)?).map_err(|_| corrupt("foetuses"))?,
        first_child: r.cell(5)?,
        status: PregnancyStatus::parse(&status).ok_or_else(|| corrupt("status"))?,
        handbook_number: r.cell(7)?,
        ended_on: opt_date(r.cell(8)?)?,
    })
}

pub(crate) const BABY_COLUMNS: &str =
    "id, pregnancy_id, person_id, birth_date, sex, gestational_weeks, gestational_days, \
     birth_weight_g, long_hospitalisation";

pub(crate) fn baby_row(r: &SqliteRow) -> Result<Baby> {
    baby_row_at(r, 0)
}

/// A baby whose columns ([`BABY_COLUMNS`]) start at column `at`.
fn baby_row_at(r: &impl Cells, at: usize) -> Result<Baby> {
    let sex: String = r.cell(at + 4)?;
    Ok(Baby {
        id: BabyId(r.cell(at)?),
        pregnancy_id: PregnancyId(r.cell(at + 1)?),
        person_id: PersonId(r.cell(at + 2)?),
        birth_date: date(&r.cell::<String>(at + 3)?)?,
        sex: Sex::parse(&sex).ok_or_else(|| corrupt("sex"))?,
        gestational_weeks: u8::try_from(r.cell::<i64>(at + 5)?).map_err(|_| corrupt("gestational weeks"))?,
        gestational_days: u8::try_from(r.cell::<i64>(at + 6)?).map_err(|_| corrupt("gestational days"))?,
        birth_weight_g: r
            .cell::<Option<i64>>(at + 7)?
            .map(|w| u16::try_from(w).map_err(|_| corrupt("birth weight")))
            .transpose()?,
        long_hospitalisation: r.cell(at + 8)?,
    })
}

fn municipality_row(r: &SqliteRow) -> Result<Municipality> {
    let code: String = r.try_get("code").map_err(db_err)?;
    Ok(Municipality {
        id: MunicipalityId(r.try_get("id").map_err(db_err)?),
        code: MunicipalityCode::parse(&code).map_err(|_| corrupt("municipality code"))?,
        name_ja: r.try_get("name_ja").map_err(db_err)?,
        name_en: r.try_get("name_en").map_err(db_err)?,
    })
}

pub(crate) fn venue_row(r: &SqliteRow) -> Result<Venue> {
    let kind: String = r.try_get("kind").map_err(db_err)?;
    Ok(Venue {
        id: VenueId(r.try_get("id").map_err(db_err)?),
        municipality_id: MunicipalityId(r.try_get("municipality_id").map_err(db_err)?),
        area_id: r.try_get::<Option<i64>, _>("area_id").map_err(db_err)?.map(AreaId),
        kind: VenueKind::parse(&kind).ok_or_else(|| corrupt("venue kind"))?,
        name_ja: r.try_get("name_ja").map_err(db_err)?,
        name_en: r.try_get("name_en").map_err(db_err)?,
    })
}

impl SqliteStore {
    /// Mothers whose `column` (`kana_key` or `given_kana_key`) starts with
    /// `key`, within `filter`, in index order, at most `limit`.
    /// Mothers whose `column` (a kana key) starts with `key`, within
    /// `filter`, in the index's order, at most `limit` — on the request's
    /// thread (#16, `direct`).
    fn search_by(
        conn: &rusqlite::Connection,
        filter: &FamilyFilter,
        column: &'static str,
        key: &str,
        limit: u32,
    ) -> Result<Vec<FamilySummary>> {
        use rusqlite::types::Value;
        let upper = format!("{key}{}", char::MAX);
        let mut sql = format!(
            "SELECT f.id, f.area_id, p.family_name, p.given_name, p.family_name_kana, p.given_name_kana, \
             p.birth_date, (SELECT MAX(g.edd) FROM pregnancies g WHERE g.family_id = f.id) \
             FROM people p JOIN families f ON f.id = p.family_id WHERE p.relation = 'mother' AND p.municipality_id = ? \
             AND p.{column} >= ? AND p.{column} < ?"
        );
        let mut values =
            vec![Value::Integer(filter_municipality(filter).0), Value::Text(key.to_owned()), Value::Text(upper)];
        direct_filter(&mut sql, &mut values, filter);
        sql.push_str(&format!(" ORDER BY p.{column}, p.id LIMIT ?"));
        values.push(Value::Integer(i64::from(limit)));
        let mut st = prepare(conn, &sql)?;
        let mut rows = st.query(rusqlite::params_from_iter(values)).map_err(direct_err)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(direct_err)? {
            let family_name: String = r.cell(2)?;
            let given_name: String = r.cell(3)?;
            let fk: String = r.cell(4)?;
            let gk: String = r.cell(5)?;
            out.push(FamilySummary {
                family_id: FamilyId(r.cell(0)?),
                area_id: AreaId(r.cell(1)?),
                mother_name: format!("{family_name} {given_name}"),
                mother_kana: format!("{fk} {gk}"),
                mother_birth_date: opt_date(r.cell(6)?)?,
                latest_edd: opt_date(r.cell(7)?)?,
            });
        }
        Ok(out)
    }
}

#[async_trait]
impl RecordStore for SqliteStore {
    async fn create_municipality(&self, code: MunicipalityCode, name_ja: &str, name_en: &str) -> Result<Municipality> {
        let r =
            sqlx::query("INSERT INTO municipalities (code, name_ja, name_en) VALUES (?, ?, ?) RETURNING *")
                .bind(code.to_string())
                .bind(name_ja)
                .bind(name_en)
                .fetch_one(&self.writer)
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
        let r = sqlx::query("SELECT * FROM municipalities WHERE id = ?")
            .bind(id.0)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_err)?;
        r.as_ref().map(municipality_row).transpose()
    }

    async fn municipality_by_code(&self, code: MunicipalityCode) -> Result<Option<Municipality>> {
        let r = sqlx::query("SELECT * FROM municipalities WHERE code = ?")
            .bind(code.to_string())
            .fetch_optional(&self.reader)
            .await
            .map_err(db_err)?;
        r.as_ref().map(municipality_row).transpose()
    }

    async fn municipalities(&self) -> Result<Vec<Municipality>> {
        let rows =
            sqlx::query("SELECT * FROM municipalities ORDER BY code").fetch_all(&self.reader).await.map_err(db_err)?;
        rows.iter().map(municipality_row).collect()
    }

    async fn create_area(&self, m: MunicipalityId, name_ja: &str, name_en: &str) -> Result<Area> {
        let id: i64 =
            sqlx::query_scalar("INSERT INTO areas (municipality_id, name_ja, name_en) VALUES (?, ?, ?) RETURNING id")
                .bind(m.0)
                .bind(name_ja)
                .bind(name_en)
                .fetch_one(&self.writer)
                .await
                .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict("area_exists") } else { db_err(e) })?;
        Ok(Area { id: AreaId(id), municipality_id: m, name_ja: name_ja.to_owned(), name_en: name_en.to_owned() })
    }

    async fn areas(&self, m: MunicipalityId) -> Result<Vec<Area>> {
        let rows = sqlx::query("SELECT id, name_ja, name_en FROM areas WHERE municipality_id = ? ORDER BY id")
            .bind(m.0)
            .fetch_all(&self.reader)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(Area {
                    id: AreaId(r.try_get(0).map_err(db_err)?),
                    municipality_id: m,
                    name_ja: r.try_get(1).map_err(db_err)?,
                    name_en: r.try_get(2).map_err(db_err)?,
                })
            })
            .collect()
    }

    async fn create_venue(&self, v: &NewVenue) -> Result<Venue> {
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        if let Some(a) = v.area_id {
            if !in_municipality(&mut tx, "areas", a.0, v.municipality_id).await? {
                return Err(StoreError::InvalidReference("area_id"));
            }
        }
        let r = sqlx::query(
            "INSERT INTO venues (municipality_id, area_id, kind, name_ja, name_en) VALUES (?, ?, ?, ?, ?) RETURNING *",
        )
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
        let rows = sqlx::query("SELECT * FROM venues WHERE municipality_id = ? ORDER BY id")
            .bind(m.0)
            .fetch_all(&self.reader)
            .await
            .map_err(db_err)?;
        rows.iter().map(venue_row).collect()
    }

    async fn register_notification(&self, ctx: &AuditContext, n: &Notification) -> Result<FamilyId> {
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        if !in_municipality(&mut tx, "areas", n.area_id.0, ctx.municipality_id).await? {
            return Err(StoreError::InvalidReference("area_id"));
        }
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
        ctx.covers(None)?;
        // The writer's turn, then the batch on its connection of SQLite's
        // binding, on a blocking thread (`bulk`: a batch is tens of
        // milliseconds of statements, not a request's few).
        let mut turn = self.writer.acquire().await.map_err(db_err)?;
        let (store, ctx, families) = (self.clone(), ctx.clone(), families.to_vec());
        tokio::task::spawn_blocking(move || {
            store
                .direct_writer
                .write(&mut turn, |conn| crate::bulk::import_batch(conn, &store.keys.chain, &ctx, &families))
        })
        .await
        .map_err(|e| StoreError::Other(Box::new(e)))?
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
        let mut tx = self.writer.begin().await.map_err(db_err)?;
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
                if !in_municipality(&mut tx, "areas", n.area_id.0, ctx.municipality_id).await? {
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
        // One statement (#16): the family's flags, the facilities where it has
        // an open application or an approved stay (their staff may open the
        // record; not after a rejection or a cancellation), and the venues
        // where it holds a class booking, confirmed or waiting (their
        // programme staff see it on the roster [#12]). On the request's
        // thread (#16, `direct`).
        self.direct.read(|conn| {
            let mut st = prepare(
                conn,
                "SELECT f.area_id, f.consent_coordinators, f.consent_hubs, f.escalated, f.partner_sees_health, \
                     f.partner_view_off, \
                     (SELECT group_concat(a.venue_id) FROM postpartum_applications a WHERE a.family_id = f.id \
                      AND a.municipality_id = f.municipality_id AND a.status IN ('applied', 'approved')), \
                     (SELECT group_concat(s.venue_id) FROM class_bookings b JOIN class_sessions s ON s.id = b.session_id \
                      WHERE b.family_id = f.id AND b.municipality_id = f.municipality_id AND b.status <> 'cancelled') \
                     FROM families f WHERE f.id = ? AND f.municipality_id = ?",
            )?;
            let mut rows = st.query((id.0, m.0)).map_err(direct_err)?;
            let Some(r) = rows.next().map_err(direct_err)? else { return Ok(None) };
            Ok(Some(FamilyAccess {
                municipality_id: m,
                family_id: id,
                area_id: AreaId(r.cell(0)?),
                consent_coordinators: r.cell(1)?,
                consent_hubs: r.cell(2)?,
                escalated: r.cell(3)?,
                facilities: id_set(r.cell(6)?)?.into_iter().map(VenueId).collect(),
                programme_venues: id_set(r.cell(7)?)?.into_iter().map(VenueId).collect(),
                partner_sees_health: r.cell(4)?,
                partner_view_off: r.cell(5)?,
            }))
        })
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
        // Read on the request's thread (#16, `direct`); the answer waits for
        // its audit line, committed with those of other reads that arrive
        // together (#16).
        let record = self.direct.read_together(|conn| family_record_direct(conn, ctx.municipality_id, id))?;
        let Some(record) = record else { return Ok(None) };
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
        // On the request's thread (#16, `direct`).
        let out = self.direct.read(|conn| {
            let mut out = Self::search_by(conn, filter, "kana_key", kana_key, limit)?;
            if out.len() < limit as usize {
                for row in Self::search_by(conn, filter, "given_kana_key", kana_key, limit)? {
                    if out.len() < limit as usize && !out.iter().any(|o| o.family_id == row.family_id) {
                        out.push(row);
                    }
                }
            }
            Ok(out)
        })?;
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
        // The single writer: nothing changes the pregnancy between this read and the commit.
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        let p = crate::records::pregnancy_for_change(&mut tx, m, family, pregnancy).await?;
        let babies = check(&p).map_err(StoreError::Invalid)?;
        if p.status != PregnancyStatus::Ongoing {
            return Err(StoreError::Conflict("pregnancy_not_ongoing"));
        }
        let ids = insert_babies(&mut tx, m, family, pregnancy, &babies).await?;
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

/// Which of a family's settings about the partner's account.
#[derive(Clone, Copy)]
enum PartnerFlag {
    SeesHealth,
    ViewOff,
}

impl SqliteStore {
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
                "UPDATE families SET partner_sees_health = ? WHERE id = ? AND municipality_id = ?"
            }
            PartnerFlag::ViewOff => "UPDATE families SET partner_view_off = ? WHERE id = ? AND municipality_id = ?",
        };
        let mut tx = self.writer.begin().await.map_err(db_err)?;
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

/// A family's record as `open_family` reads it, in `m`, inside the caller's
/// transaction and not audited: for a store method that reads what its one
/// action needs and writes that action's one line.
/// A family record's two statements (#16): the family with its people,
/// then its pregnancies with their babies. The unary `+` keeps SQLite (no
/// statistics) from reading the city's pregnancies in `pregnancies_edd`
/// order to spare the sort of a family's two or three: that took seconds
/// at 300,000 families (#16).
macro_rules! family_with_people {
    () => {
        "SELECT f.area_id, f.fee_bracket, f.consent_coordinators, f.consent_hubs, f.escalated, \
         p.id, p.relation, p.family_name, p.given_name, p.family_name_kana, p.given_name_kana, p.birth_date \
         FROM families f LEFT JOIN people p ON p.family_id = f.id \
         WHERE f.id = ?1 AND f.municipality_id = ?2 ORDER BY p.id"
    };
}
macro_rules! pregnancies_with_babies {
    () => {
        "SELECT g.id, g.family_id, g.notified_on, g.edd, g.foetuses, g.first_child, g.status, g.handbook_number, \
         g.ended_on, b.id, b.pregnancy_id, b.person_id, b.birth_date, b.sex, b.gestational_weeks, \
         b.gestational_days, b.birth_weight_g, b.long_hospitalisation \
         FROM pregnancies g LEFT JOIN babies b ON b.pregnancy_id = g.id AND b.family_id = g.family_id \
         AND b.municipality_id = g.municipality_id WHERE g.family_id = ?1 AND +g.municipality_id = ?2 \
         ORDER BY g.edd, g.id, b.id"
    };
}
/// The family record's two statements as one query (`record_plans`
/// explains each).
pub const FAMILY_RECORD_SQL: &str = concat!(family_with_people!(), "; ", pregnancies_with_babies!());

pub(crate) async fn family_record(
    tx: &mut SqliteConnection,
    m: MunicipalityId,
    id: FamilyId,
) -> Result<Option<FamilyRecord>> {
    // Sent as one query, so the connection's thread runs both statements
    // in one turn (#16: one hand-off there and back instead of two; sqlx
    // prepares a query's statements in turn, binds `?1`/`?2` in each, and
    // returns their rows in order). The statements' rows are told apart by
    // their width.
    let rows = sqlx::query(FAMILY_RECORD_SQL).bind(id.0).bind(m.0).fetch_all(&mut *tx).await.map_err(db_err)?;
    let mut record = RecordRows::new(m, id);
    for r in &rows {
        if r.len() == RecordRows::FAMILY_WIDTH {
            record.family_row(r)?;
        } else {
            record.pregnancy_row(r)?;
        }
    }
    Ok(record.finish())
}

/// The family record, read on the request's thread (#16, `direct`).
pub(crate) fn family_record_direct(
    conn: &rusqlite::Connection,
    m: MunicipalityId,
    id: FamilyId,
) -> Result<Option<FamilyRecord>> {
    let mut record = RecordRows::new(m, id);
    let mut st = prepare(conn, family_with_people!())?;
    let mut rows = st.query((id.0, m.0)).map_err(direct_err)?;
    while let Some(r) = rows.next().map_err(direct_err)? {
        record.family_row(r)?;
    }
    if record.family.is_none() {
        return Ok(None);
    }
    let mut st = prepare(conn, pregnancies_with_babies!())?;
    let mut rows = st.query((id.0, m.0)).map_err(direct_err)?;
    while let Some(r) = rows.next().map_err(direct_err)? {
        record.pregnancy_row(r)?;
    }
    Ok(record.finish())
}

/// A family record built from its two statements' rows, as they come.
struct RecordRows {
    m: MunicipalityId,
    id: FamilyId,
    family: Option<Family>,
    people: Vec<Person>,
    pregnancies: Vec<Pregnancy>,
    babies: Vec<Baby>,
}

impl RecordRows {
    /// The width of the first statement's rows.
    const FAMILY_WIDTH: usize = 12;

    fn new(m: MunicipalityId, id: FamilyId) -> Self {
        Self { m, id, family: None, people: vec![], pregnancies: vec![], babies: vec![] }
    }

    /// A row of the family with one of its people (none: a family without people).
    fn family_row(&mut self, r: &impl Cells) -> Result<()> {
        if self.family.is_none() {
            let bracket: String = r.cell(1)?;
            self.family = Some(Family {
                id: self.id,
                municipality_id: self.m,
                area_id: AreaId(r.cell(0)?),
                fee_bracket: FeeBracket::parse(&bracket).ok_or_else(|| corrupt("fee bracket"))?,
                consent_coordinators: r.cell(2)?,
                consent_hubs: r.cell(3)?,
                escalated: r.cell(4)?,
            });
        }
        let Some(person) = r.cell::<Option<i64>>(5)? else { return Ok(()) };
        let relation: String = r.cell(6)?;
        self.people.push(Person {
            id: PersonId(person),
            family_id: self.id,
            relation: Relation::parse(&relation).ok_or_else(|| corrupt("relation"))?,
            family_name: r.cell(7)?,
            given_name: r.cell(8)?,
            family_name_kana: r.cell(9)?,
            given_name_kana: r.cell(10)?,
            birth_date: opt_date(r.cell(11)?)?,
        });
        Ok(())
    }

    /// A row of a pregnancy with one of its babies (none: no baby yet).
    fn pregnancy_row(&mut self, r: &impl Cells) -> Result<()> {
        let pregnancy = PregnancyId(r.cell(0)?);
        if self.pregnancies.last().map(|p| p.id) != Some(pregnancy) {
            self.pregnancies.push(pregnancy_row(r)?);
        }
        if r.cell::<Option<i64>>(9)?.is_some() {
            self.babies.push(baby_row_at(r, 9)?);
        }
        Ok(())
    }

    fn finish(mut self) -> Option<FamilyRecord> {
        let family = self.family?;
        // In the order of their ids, as a family's babies are listed.
        self.babies.sort_by_key(|b: &Baby| b.id.0);
        Some(FamilyRecord { family, people: self.people, pregnancies: self.pregnancies, babies: self.babies })
    }
}

/// Ids stored joined by commas (`group_concat`), each once, in order.
fn id_set(text: Option<String>) -> Result<Vec<i64>> {
    let mut ids = text
        .unwrap_or_default()
        .split(',')
        .filter(|i| !i.is_empty())
        .map(|i| i.parse().map_err(|_| corrupt("id")))
        .collect::<Result<Vec<i64>>>()?;
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// The pregnancy `pregnancy` of `family` in `m`, read inside the transaction
/// of a change to it (a birth, a new EDD, an ending: the single writer holds
/// it until the commit); `NotFound` when it is not there.
pub(crate) async fn pregnancy_for_change(
    tx: &mut SqliteConnection,
    m: MunicipalityId,
    family: FamilyId,
    pregnancy: PregnancyId,
) -> Result<Pregnancy> {
    sqlx::query(&format!(
        "SELECT {PREGNANCY_COLUMNS} FROM pregnancies WHERE id = ? AND family_id = ? AND municipality_id = ?"
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
