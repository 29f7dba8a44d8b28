//! Screening responses on SQLite: `ScreeningStore` and its SQL.

use super::{corrupt, db_err, in_municipality, other_err, ts, ts_text, SqliteStore};
use crate::audit::append_audit;
use crate::care::insert_referral;
use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use tsunagu_domain::audit::{AuditAction, AuditContext};
use tsunagu_domain::records::Person;
use tsunagu_domain::roles::Role;
use tsunagu_domain::screening::Reason;
use tsunagu_domain::{AccountId, FamilyId, MunicipalityId, PersonId, PregnancyId, ReferralId, ScreeningId};
use tsunagu_store::ScreeningStore;
use tsunagu_store::{NewScreening, RecordedScreening, Result, ScreeningCheck, StoreError, StoredScreening};

pub(crate) const COLUMNS: &str =
    "id, municipality_id, family_id, pregnancy_id, questionnaire, version, answers, total, \
     positive, urgent, reasons, entered_by_account, entered_by_role, entered_at, referral_id";

pub(crate) fn screening_row(r: &SqliteRow) -> Result<StoredScreening> {
    let answers: String = r.try_get("answers").map_err(db_err)?;
    let reasons: String = r.try_get("reasons").map_err(db_err)?;
    let role: String = r.try_get("entered_by_role").map_err(db_err)?;
    let entered_at: String = r.try_get("entered_at").map_err(db_err)?;
    Ok(StoredScreening {
        id: ScreeningId(r.try_get("id").map_err(db_err)?),
        municipality_id: MunicipalityId(r.try_get("municipality_id").map_err(db_err)?),
        family_id: FamilyId(r.try_get("family_id").map_err(db_err)?),
        pregnancy_id: r.try_get::<Option<i64>, _>("pregnancy_id").map_err(db_err)?.map(PregnancyId),
        questionnaire: r.try_get("questionnaire").map_err(db_err)?,
        version: r.try_get("version").map_err(db_err)?,
        answers: serde_json::from_str(&answers).map_err(|_| corrupt("screening answers"))?,
        total: u32::try_from(r.try_get::<i64, _>("total").map_err(db_err)?).map_err(|_| corrupt("screening total"))?,
        positive: r.try_get("positive").map_err(db_err)?,
        urgent: r.try_get("urgent").map_err(db_err)?,
        reasons: serde_json::from_str::<Vec<Reason>>(&reasons).map_err(|_| corrupt("screening reasons"))?,
        entered_by_account: AccountId(r.try_get("entered_by_account").map_err(db_err)?),
        entered_by_role: Role::parse(&role).ok_or_else(|| corrupt("role"))?,
        entered_at: ts(&entered_at)?,
        referral_id: r.try_get::<Option<i64>, _>("referral_id").map_err(db_err)?.map(ReferralId),
    })
}

pub(crate) async fn record(store: &SqliteStore, ctx: &AuditContext, s: &NewScreening) -> Result<RecordedScreening> {
    let mut tx = store.begin_immediate().await?;
    let recorded = record_in(store, &mut tx, ctx, s).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(recorded)
}

/// Filing answers checked against the family's record, read in the same transaction.
pub(crate) async fn record_checked(
    store: &SqliteStore,
    ctx: &AuditContext,
    family: FamilyId,
    check: &ScreeningCheck<'_>,
) -> Result<(RecordedScreening, NewScreening)> {
    let mut tx = store.begin_immediate().await?;
    let record =
        crate::records::family_record(&mut tx, ctx.municipality_id, family).await?.ok_or(StoreError::NotFound)?;
    let s = check(&record)?;
    let recorded = record_in(store, &mut tx, ctx, &s).await?;
    tx.commit().await.map_err(db_err)?;
    Ok((recorded, s))
}

async fn record_in(
    store: &SqliteStore,
    tx: &mut sqlx::SqliteConnection,
    ctx: &AuditContext,
    s: &NewScreening,
) -> Result<RecordedScreening> {
    let m = ctx.municipality_id;
    let answers = serde_json::to_string(&s.answers().answers).map_err(other_err)?;
    let reasons = serde_json::to_string(&s.result().reasons).map_err(other_err)?;
    let total = i64::from(s.result().total);
    if !in_municipality(&mut *tx, "families", s.family().0, m).await? {
        return Err(StoreError::InvalidReference("family_id"));
    }
    if let Some(p) = s.pregnancy() {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT id FROM pregnancies WHERE id = ? AND family_id = ? AND municipality_id = ?")
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
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
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
    .bind(ts_text(ctx.at))
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

pub(crate) async fn family_of(store: &SqliteStore, m: MunicipalityId, id: ScreeningId) -> Result<Option<FamilyId>> {
    let family: Option<i64> =
        sqlx::query_scalar("SELECT family_id FROM screenings WHERE id = ? AND municipality_id = ?")
            .bind(id.0)
            .bind(m.0)
            .fetch_optional(&store.reader)
            .await
            .map_err(db_err)?;
    Ok(family.map(FamilyId))
}

pub(crate) async fn list(
    store: &SqliteStore,
    ctx: &AuditContext,
    family: FamilyId,
    limit: u32,
) -> Result<Vec<StoredScreening>> {
    // A decision about another family reaches nothing of this one.
    ctx.covers(Some(family))?;
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM screenings WHERE municipality_id = ? AND family_id = ? \
         ORDER BY entered_at DESC, id DESC LIMIT ?"
    ))
    .bind(ctx.municipality_id.0)
    .bind(family.0)
    .bind(i64::from(limit.clamp(1, 1000)))
    .fetch_all(&store.reader)
    .await
    .map_err(db_err)?;
    let out = rows.iter().map(screening_row).collect::<Result<Vec<_>>>()?;
    store.audit(ctx, AuditAction::ScreeningList, Some(family), &format!("results={}", out.len())).await?;
    Ok(out)
}

pub(crate) async fn one(store: &SqliteStore, ctx: &AuditContext, id: ScreeningId) -> Result<Option<StoredScreening>> {
    let r = sqlx::query(&format!("SELECT {COLUMNS} FROM screenings WHERE id = ? AND municipality_id = ?"))
        .bind(id.0)
        .bind(ctx.municipality_id.0)
        .fetch_optional(&store.reader)
        .await
        .map_err(db_err)?;
    let Some(r) = r else { return Ok(None) };
    let s = screening_row(&r)?;
    store.audit(ctx, AuditAction::ScreeningView, Some(s.family_id), &format!("screening={id}")).await?;
    Ok(Some(s))
}

/// A family's responses with its mother, one `screening.list` line.
pub(crate) async fn list_with_mother(
    store: &SqliteStore,
    ctx: &AuditContext,
    family: FamilyId,
    limit: u32,
) -> Result<(Vec<StoredScreening>, Option<Person>)> {
    let mut conn = store.reader.acquire().await.map_err(db_err)?;
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
    store: &SqliteStore,
    ctx: &AuditContext,
    id: ScreeningId,
) -> Result<Option<(StoredScreening, Option<PersonId>)>> {
    let Some(family) = family_of(store, ctx.municipality_id, id).await? else { return Ok(None) };
    let mut conn = store.reader.acquire().await.map_err(db_err)?;
    let subject = crate::records::family_record(&mut conn, ctx.municipality_id, family)
        .await?
        .and_then(|r| r.mother().map(|m| m.id));
    drop(conn);
    Ok(one(store, ctx, id).await?.map(|s| (s, subject)))
}

#[async_trait]
impl ScreeningStore for SqliteStore {
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
