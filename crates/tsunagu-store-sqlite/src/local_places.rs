//! Local information on SQLite (#12) [000] 地域おでかけ情報. Reads go through
//! the reader pool and write no audit line (no personal data); each change
//! goes through the single writer with its one audit line.

use super::{corrupt, db_err, in_municipality, Result};
use crate::audit::append_audit;
use crate::SqliteStore;
use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use tsunagu_domain::audit::{AuditAction, AuditContext};
use tsunagu_domain::classes::local::{LocalPlace, PlaceKind, StageSet};
use tsunagu_domain::{AreaId, LocalPlaceId, MunicipalityId, VenueId};
use tsunagu_store::{LocalPlaceEntry, LocalPlaceQuery, LocalPlaceStore, StoreError};

const COLUMNS: &str = "id, municipality_id, area_id, kind, name_ja, name_en, address, access, hours, offers_ja, \
     offers_en, stages, venue_id, retired";

fn entry(r: &SqliteRow) -> Result<LocalPlaceEntry> {
    let g = |e: sqlx::Error| db_err(e);
    let kind: String = r.try_get("kind").map_err(g)?;
    let stages: i64 = r.try_get("stages").map_err(g)?;
    Ok(LocalPlaceEntry {
        id: LocalPlaceId(r.try_get("id").map_err(g)?),
        municipality_id: MunicipalityId(r.try_get("municipality_id").map_err(g)?),
        place: LocalPlace {
            area_id: AreaId(r.try_get("area_id").map_err(g)?),
            kind: PlaceKind::parse(&kind).ok_or_else(|| corrupt("local place kind"))?,
            name_ja: r.try_get("name_ja").map_err(g)?,
            name_en: r.try_get("name_en").map_err(g)?,
            address: r.try_get("address").map_err(g)?,
            access: r.try_get("access").map_err(g)?,
            hours: r.try_get("hours").map_err(g)?,
            offers_ja: r.try_get("offers_ja").map_err(g)?,
            offers_en: r.try_get("offers_en").map_err(g)?,
            stages: StageSet::from_bits(stages),
            venue_id: r.try_get::<Option<i64>, _>("venue_id").map_err(g)?.map(VenueId),
        },
        retired: r.try_get("retired").map_err(g)?,
    })
}

/// The entry's area and venue are the municipality's.
async fn check_refs(tx: &mut SqliteConnection, m: MunicipalityId, place: &LocalPlace) -> Result<()> {
    if !in_municipality(tx, "areas", place.area_id.0, m).await? {
        return Err(StoreError::InvalidReference("area_id"));
    }
    if let Some(v) = place.venue_id {
        if !in_municipality(tx, "venues", v.0, m).await? {
            return Err(StoreError::InvalidReference("venue_id"));
        }
    }
    Ok(())
}

fn detail(id: LocalPlaceId, place: &LocalPlace, what: &str) -> String {
    format!("{what} place={} area={} kind={}", id.0, place.area_id.0, place.kind.as_str())
}

#[async_trait]
impl LocalPlaceStore for SqliteStore {
    async fn local_places(&self, m: MunicipalityId, q: &LocalPlaceQuery) -> Result<Vec<LocalPlaceEntry>> {
        let mut qb: QueryBuilder<'_, Sqlite> =
            QueryBuilder::new(format!("SELECT {COLUMNS} FROM local_places WHERE municipality_id = "));
        qb.push_bind(m.0);
        if let Some(area) = q.area {
            qb.push(" AND area_id = ").push_bind(area.0);
        }
        if let Some(stage) = q.stage {
            qb.push(" AND (stages & ").push_bind(StageSet::of([stage]).bits()).push(") <> 0");
        }
        if let Some(kind) = q.kind {
            qb.push(" AND kind = ").push_bind(kind.as_str());
        }
        if let Some(venues) = &q.venues {
            qb.push(" AND venue_id IN (NULL");
            for v in venues {
                qb.push(", ").push_bind(v.0);
            }
            qb.push(")");
        }
        if !q.include_retired {
            qb.push(" AND retired = 0");
        }
        qb.push(" ORDER BY area_id, kind, name_ja, id LIMIT ").push_bind(i64::from(q.limit.clamp(1, 1000)));
        let rows = qb.build().fetch_all(&self.reader).await.map_err(db_err)?;
        rows.iter().map(entry).collect()
    }

    async fn local_place(&self, m: MunicipalityId, id: LocalPlaceId) -> Result<Option<LocalPlaceEntry>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM local_places WHERE id = ? AND municipality_id = ?"))
            .bind(id.0)
            .bind(m.0)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_err)?;
        row.as_ref().map(entry).transpose()
    }

    async fn create_local_place(&self, ctx: &AuditContext, place: &LocalPlace) -> Result<LocalPlaceEntry> {
        let m = ctx.municipality_id;
        let mut tx = self.begin_immediate().await?;
        check_refs(&mut tx, m, place).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO local_places (municipality_id, area_id, kind, name_ja, name_en, address, access, hours, \
             offers_ja, offers_en, stages, venue_id, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(m.0)
        .bind(place.area_id.0)
        .bind(place.kind.as_str())
        .bind(&place.name_ja)
        .bind(&place.name_en)
        .bind(&place.address)
        .bind(&place.access)
        .bind(&place.hours)
        .bind(&place.offers_ja)
        .bind(&place.offers_en)
        .bind(place.stages.bits())
        .bind(place.venue_id.map(|v| v.0))
        .bind(super::ts_text(ctx.at))
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let id = LocalPlaceId(id);
        append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::LocalPlaceKeep, None, &detail(id, place, "add"))
            .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(LocalPlaceEntry { id, municipality_id: m, place: place.clone(), retired: false })
    }

    async fn update_local_place(&self, ctx: &AuditContext, id: LocalPlaceId, place: &LocalPlace) -> Result<()> {
        let m = ctx.municipality_id;
        let mut tx = self.begin_immediate().await?;
        check_refs(&mut tx, m, place).await?;
        let done = sqlx::query(
            "UPDATE local_places SET area_id = ?, kind = ?, name_ja = ?, name_en = ?, address = ?, access = ?, \
             hours = ?, offers_ja = ?, offers_en = ?, stages = ?, venue_id = ?, updated_at = ? \
             WHERE id = ? AND municipality_id = ?",
        )
        .bind(place.area_id.0)
        .bind(place.kind.as_str())
        .bind(&place.name_ja)
        .bind(&place.name_en)
        .bind(&place.address)
        .bind(&place.access)
        .bind(&place.hours)
        .bind(&place.offers_ja)
        .bind(&place.offers_en)
        .bind(place.stages.bits())
        .bind(place.venue_id.map(|v| v.0))
        .bind(super::ts_text(ctx.at))
        .bind(id.0)
        .bind(m.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::LocalPlaceKeep, None, &detail(id, place, "edit"))
            .await?;
        tx.commit().await.map_err(db_err)
    }

    async fn retire_local_place(&self, ctx: &AuditContext, id: LocalPlaceId, retired: bool) -> Result<()> {
        let m = ctx.municipality_id;
        let mut tx = self.begin_immediate().await?;
        let done =
            sqlx::query("UPDATE local_places SET retired = ?, updated_at = ? WHERE id = ? AND municipality_id = ?")
                .bind(retired)
                .bind(super::ts_text(ctx.at))
                .bind(id.0)
                .bind(m.0)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let what = if retired { "retire" } else { "restore" };
        append_audit(
            &mut tx,
            &self.keys.chain,
            ctx,
            AuditAction::LocalPlaceKeep,
            None,
            &format!("{what} place={}", id.0),
        )
        .await?;
        tx.commit().await.map_err(db_err)
    }
}
