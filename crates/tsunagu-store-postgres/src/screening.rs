//! Screening responses on PostgreSQL: `ScreeningStore` and its SQL. Answers and
//! reasons are `jsonb`, crossing the boundary as text (`$n::jsonb` in,
//! `::text` out) like dates and instants do.

use super::{corrupt, db_err, get, in_municipality, other_err, ts, ts_param, PgStore, Table};
use crate::audit::append_audit;
use crate::care::insert_referral;
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use tsunagu_domain::audit::{AuditAction, AuditContext};
use tsunagu_domain::records::Person;
use tsunagu_domain::roles::Role;
use tsunagu_domain::screening::Reason;
use tsunagu_domain::{AccountId, FamilyId, MunicipalityId, PersonId, PregnancyId, ReferralId, ScreeningId};
use tsunagu_store::ScreeningStore;
use tsunagu_store::{NewScreening, RecordedScreening, Result, ScreeningCheck, StoreError, StoredScreening};

macro_rules! screening_columns {
    () => {
        concat!(
            "id, municipality_id, family_id, pregnancy_id, questionnaire, version, answers::text AS answers, total, ",
            "positive, urgent, reasons::text AS reasons, entered_by_account, entered_by_role, ",
            ts_col!("entered_at"),
            " AS entered_at, referral_id"
        )
    };
}

/// The columns for [`screening_row`], for a store method of another capability.
pub(crate) use screening_columns;

pub(crate) fn screening_row(r: &PgRow) -> Result<StoredScreening> {
    let answers: String = get(r, "answers")?;
    let reasons: String = get(r, "reasons")?;
    let role: String = get(r, "entered_by_role")?;
    Ok(StoredScreening {
        id: ScreeningId(get(r, "id")?),
        municipality_id: MunicipalityId(get(r, "municipality_id")?),
        family_id: FamilyId(get(r, "family_id")?),
        pregnancy_id: get::<Option<i64>>(r, "pregnancy_id")?.map(PregnancyId),
        questionnaire: get(r, "questionnaire")?,
        version: get(r, "version")?,
        answers: serde_json::from_str(&answers).map_err(|_| corrupt("screening answers"))?,
        total: u32::try_from(get::<i32>(r, "total")?).map_err(|_| corrupt("screening total"))?,
        positive: get(r, "positive")?,
        urgent: get(r, "urgent")?,
        reasons: serde_json::from_str::<Vec<Reason>>(&reasons).map_err(|_| corrupt("screening reasons"))?,
        entered_by_account: AccountId(get(r, "entered_by_account")?),
        entered_by_role: Role::parse(&role).ok_or_else(|| corrupt("role"))?,
        entered_at: ts(&get::<String>(r, "entered_at")?)?,
        referral_id: get::<Option<i64>>(r, "referral_id")?.map(ReferralId),
    })
}

pub(crate) async fn record(store: &PgStore, ctx: &AuditContext, s: &NewScreening) -> Result<RecordedScreening> {
    let mut tx = store.pool.begin().await.map_err(db_err)?;
    let recorded = record_in(store, &mut tx, ctx, s).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(recorded)
}

/// Filing answers checked against the family's record, read in the same transaction.
pub(crate) async fn record_checked(
    store: &PgStore,
    ctx: &AuditContext,
    family: FamilyId,
    check: &ScreeningCheck<'_>,
) -> Result<(RecordedScreening, NewScreening)> {
    let mut tx = store.pool.begin().await.map_err(db_err)?;
    let record =
        crate::records::family_record(&mut tx, ctx.municipality_id, family).await?.ok_or(StoreError::NotFound)?;
    let s = check(&record)?;
    let recorded = record_in(store, &mut tx, ctx, &s).await?;
    tx.commit().await.map_err(db_err)?;
    Ok((recorded, s))
}

async fn record_in(
    store: &PgStore,
    tx: &mut sqlx::PgConnection,
    ctx: &AuditContext,
    s: &NewScreening,
) -> Result<RecordedScreening> {
    let m = ctx.municipality_id;
    let answers = serde_json::to_string(&s.answers().answers).map_err(other_err)?;
    let reasons = serde_json::to_string(&s.result().reasons).map_err(other_err)?;
    let total = i32::try_from(s.result().total).map_err(other_err)?;
    if !in_municipality(&mut *tx, Table::Families, s.family().0, m).await? {
        return Err(StoreError::InvalidReference("family_id"));
    }
    if let Some(p) = s.pregnancy() {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT id FROM pregnancies WHERE id = $1 AND family_id = $2 AND municipality_id = $3")
                .bind(p.0)
                .bind(s.family().0)
                .bind(m.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        if found.is_none() {
            return Err(StoreError::InvalidReference("pregnancy_id"));
        }
    }
    // The follow-up first, so that the response is stored with its link.
    let referral = match s.referral(ctx.role) {
        Some((r, note)) => Some(insert_referral(&mut *tx, &store.keys.chain, ctx, &r, &note, None, None).await?),
        None => None,
    };
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO screenings (municipality_id, family_id, pregnancy_id, questionnaire, version, answers, total, \
         positive, urgent, reasons, entered_by_account, entered_by_role, entered_at, referral_id) \
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10::jsonb, $11, $12, $13::timestamptz, $14) RETURNING id",
    )
    .bind(m.0)
    .bind(s.family().0)
    .bind(s.pregnancy().map(|p| p.0))
    .bind(&s.answers().questionnaire)
    .bind(&s.answers().version)
    .bind(&answers)
    .bind(total)
    .bind(s.result().positive)
    .bind(s.result().urgent)
    .bind(&reasons)
    .bind(ctx.actor.0)
    .bind(ctx.role.as_str())
    .bind(ts_param(ctx.at))
    .bind(referral.map(|r| r.0))
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    let id = ScreeningId(id);
    let detail = match referral {
        Some(r) => format!("screening={id} referral={r}"),
        None => format!("screening={id}"),
    };
    append_audit(&mut *tx, &store.keys.chain, ctx, AuditAction::ScreeningRecord, Some(s.family()), &detail).await?;
    Ok(RecordedScreening { id, referral })
}

pub(crate) async fn family_of(store: &PgStore, m: MunicipalityId, id: ScreeningId) -> Result<Option<FamilyId>> {
    let family: Option<i64> =
        sqlx::query_scalar("SELECT family_id FROM screenings WHERE id = $1 AND municipality_id = $2")
            .bind(id.0)
            .bind(m.0)
            .fetch_optional(&store.pool)
            .await
            .map_err(db_err)?;
    Ok(family.map(FamilyId))
}

pub(crate) async fn list(
    store: &PgStore,
    ctx: &AuditContext,
    family: FamilyId,
    limit: u32,
) -> Result<Vec<StoredScreening>> {
    // A decision about another family reaches nothing of this one.
    ctx.covers(Some(family))?;
    // Read on a kept connection; the line (it counts what was read) then
    // goes through the group commit, and the answer waits for it (#16).
    let mut conn = store.hot_conn().await?;
    let rows = sqlx::query(concat!(
        "SELECT ",
        screening_columns!(),
        " FROM screenings WHERE municipality_id = $1 AND family_id = $2 ",
        "ORDER BY screenings.entered_at DESC, screenings.id DESC LIMIT $3"
    ))
    .bind(ctx.municipality_id.0)
    .bind(family.0)
    .bind(i64::from(limit.clamp(1, 1000)))
    .fetch_all(conn.conn()?)
    .await
    .map_err(db_err);
    let rows = conn.done(rows)?;
    let out = rows.iter().map(screening_row).collect::<Result<Vec<_>>>()?;
    store.audit_read(ctx, AuditAction::ScreeningList, Some(family), &format!("results={}", out.len())).await?;
    Ok(out)
}

pub(crate) async fn one(store: &PgStore, ctx: &AuditContext, id: ScreeningId) -> Result<Option<StoredScreening>> {
    let mut conn = store.pool.acquire().await.map_err(db_err)?;
    let r = sqlx::query(concat!(
        "SELECT ",
        screening_columns!(),
        " FROM screenings WHERE id = $1 AND municipality_id = $2"
    ))
    .bind(id.0)
    .bind(ctx.municipality_id.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?;
    let Some(r) = r else { return Ok(None) };
    let s = screening_row(&r)?;
    drop(conn);
    store.audit_read(ctx, AuditAction::ScreeningView, Some(s.family_id), &format!("screening={id}")).await?;
    Ok(Some(s))
}

/// A family's responses with its mother, one `screening.list` line.
pub(crate) async fn list_with_mother(
    store: &PgStore,
    ctx: &AuditContext,
    family: FamilyId,
    limit: u32,
) -> Result<(Vec<StoredScreening>, Option<Person>)> {
    let mut conn = store.pool.acquire().await.map_err(db_err)?;
    let mother = crate::records::family_record(&mut conn, ctx.municipality_id, family)
        .await?
        .ok_or(StoreError::NotFound)?
        .mother()
        .cloned();
    drop(conn);
    Ok((list(store, ctx, family, limit).await?, mother))
}

/// One response with the family's mother's id, one `screening.view` line.
pub(crate) async fn one_with_subject(
    store: &PgStore,
    ctx: &AuditContext,
    id: ScreeningId,
) -> Result<Option<(StoredScreening, Option<PersonId>)>> {
    let Some(family) = family_of(store, ctx.municipality_id, id).await? else { return Ok(None) };
    let mut conn = store.pool.acquire().await.map_err(db_err)?;
    let subject = crate::records::family_record(&mut conn, ctx.municipality_id, family)
        .await?
        .and_then(|r| r.mother().map(|m| m.id));
    drop(conn);
    Ok(one(store, ctx, id).await?.map(|s| (s, subject)))
}

#[async_trait]
impl ScreeningStore for PgStore {
    async fn record_screening(&self, ctx: &AuditContext, s: &NewScreening) -> Result<RecordedScreening> {
        record(self, ctx, s).await
    }

    async fn screening_family(&self, m: MunicipalityId, id: ScreeningId) -> Result<Option<FamilyId>> {
        family_of(self, m, id).await
    }

    async fn screenings(&self, ctx: &AuditContext, family: FamilyId, limit: u32) -> Result<Vec<StoredScreening>> {
        list(self, ctx, family, limit).await
    }

    async fn screening(&self, ctx: &AuditContext, id: ScreeningId) -> Result<Option<StoredScreening>> {
        one(self, ctx, id).await
    }

    async fn record_screening_checked(
        &self,
        ctx: &AuditContext,
        family: FamilyId,
        check: &ScreeningCheck<'_>,
    ) -> Result<(RecordedScreening, NewScreening)> {
        record_checked(self, ctx, family, check).await
    }

    async fn screenings_with_mother(
        &self,
        ctx: &AuditContext,
        family: FamilyId,
        limit: u32,
    ) -> Result<(Vec<StoredScreening>, Option<Person>)> {
        list_with_mother(self, ctx, family, limit).await
    }

    async fn screening_with_subject(
        &self,
        ctx: &AuditContext,
        id: ScreeningId,
    ) -> Result<Option<(StoredScreening, Option<PersonId>)>> {
        one_with_subject(self, ctx, id).await
    }
}
