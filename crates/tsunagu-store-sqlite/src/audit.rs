//! The audit chain: appending a linked line, searching and reading lines.

use crate::{db_err, micros, ts, ts_text, SqliteStore};
use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use tsunagu_domain::audit::{line_mac, AuditAction, AuditContext, AuditLine, GENESIS};
use tsunagu_domain::keys::ChainKey;
use tsunagu_domain::{AccountId, FamilyId, MunicipalityId};
use tsunagu_store::{AuditQuery, AuditStore, Result};

/// Appends one line to the municipality's audit chain inside `tx`, linked
/// to the one before it with the chain key.
pub(crate) async fn append_audit(
    tx: &mut SqliteConnection,
    key: &ChainKey,
    ctx: &AuditContext,
    action: AuditAction,
    family: Option<FamilyId>,
    detail: &str,
) -> Result<()> {
    // A caller's context reaches only what its decision was about: a line
    // about another family means the change or read must not happen.
    ctx.covers(family)?;
    let m = ctx.municipality_id;
    let head = sqlx::query("SELECT seq, hash FROM audit_heads WHERE municipality_id = ?")
        .bind(m.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
    let (prev_seq, prev_hash) = match head {
        Some(r) => (r.try_get::<i64, _>(0).map_err(db_err)?, r.try_get::<String, _>(1).map_err(db_err)?),
        None => (0, GENESIS.to_owned()),
    };
    let seq = prev_seq + 1;
    let at = micros(ctx.at);
    let role = ctx.role.as_str();
    let hash = line_mac(
        key,
        &prev_hash,
        seq,
        m,
        at,
        ctx.actor,
        role,
        action.as_str(),
        family,
        detail,
        &ctx.reason,
        &ctx.remote_addr,
    );
    sqlx::query(
        "INSERT INTO audit_log (municipality_id, seq, at, actor, role, action, family_id, detail, reason, \
         remote_addr, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(m.0)
    .bind(seq)
    .bind(ts_text(at))
    .bind(ctx.actor.0)
    .bind(role)
    .bind(action.as_str())
    .bind(family.map(|f| f.0))
    .bind(detail)
    .bind(&ctx.reason)
    .bind(&ctx.remote_addr)
    .bind(&prev_hash)
    .bind(&hash)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    sqlx::query(
        "INSERT INTO audit_heads (municipality_id, seq, hash) VALUES (?, ?, ?) \
         ON CONFLICT (municipality_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
    )
    .bind(m.0)
    .bind(seq)
    .bind(&hash)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

fn audit_line(r: &SqliteRow) -> Result<AuditLine> {
    let at: String = r.try_get("at").map_err(db_err)?;
    Ok(AuditLine {
        seq: r.try_get("seq").map_err(db_err)?,
        municipality_id: MunicipalityId(r.try_get("municipality_id").map_err(db_err)?),
        at: ts(&at)?,
        actor: AccountId(r.try_get("actor").map_err(db_err)?),
        role: r.try_get("role").map_err(db_err)?,
        action: r.try_get("action").map_err(db_err)?,
        family_id: r.try_get::<Option<i64>, _>("family_id").map_err(db_err)?.map(FamilyId),
        detail: r.try_get("detail").map_err(db_err)?,
        reason: r.try_get("reason").map_err(db_err)?,
        remote_addr: r.try_get("remote_addr").map_err(db_err)?,
        prev_hash: r.try_get("prev_hash").map_err(db_err)?,
        hash: r.try_get("hash").map_err(db_err)?,
    })
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn write_audit(
        &self,
        ctx: &AuditContext,
        action: AuditAction,
        family: Option<FamilyId>,
        detail: &str,
    ) -> Result<()> {
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        append_audit(&mut tx, &self.keys.chain, ctx, action, family, detail).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn search_audit(&self, m: MunicipalityId, q: &AuditQuery) -> Result<Vec<AuditLine>> {
        let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new("SELECT * FROM audit_log WHERE municipality_id = ");
        qb.push_bind(m.0);
        if let Some(a) = q.actor {
            qb.push(" AND actor = ").push_bind(a.0);
        }
        if let Some(f) = q.family_id {
            qb.push(" AND family_id = ").push_bind(f.0);
        }
        if let Some(a) = q.action {
            qb.push(" AND action = ").push_bind(a.as_str());
        }
        if let Some(t) = q.from {
            qb.push(" AND at >= ").push_bind(ts_text(t));
        }
        if let Some(t) = q.to {
            qb.push(" AND at < ").push_bind(ts_text(t));
        }
        if let Some(s) = q.before_seq {
            qb.push(" AND seq < ").push_bind(s);
        }
        qb.push(" ORDER BY seq DESC LIMIT ").push_bind(i64::from(q.limit.clamp(1, 1000)));
        let rows = qb.build().fetch_all(&self.reader).await.map_err(db_err)?;
        rows.iter().map(audit_line).collect()
    }

    async fn audit_lines(&self, m: MunicipalityId, after_seq: i64, limit: u32) -> Result<Vec<AuditLine>> {
        let rows = sqlx::query("SELECT * FROM audit_log WHERE municipality_id = ? AND seq > ? ORDER BY seq LIMIT ?")
            .bind(m.0)
            .bind(after_seq)
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await
            .map_err(db_err)?;
        rows.iter().map(audit_line).collect()
    }

    async fn audit_head(&self, m: MunicipalityId) -> Result<Option<(i64, String)>> {
        let r = sqlx::query("SELECT seq, hash FROM audit_heads WHERE municipality_id = ?")
            .bind(m.0)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_err)?;
        match r {
            Some(r) => Ok(Some((r.try_get(0).map_err(db_err)?, r.try_get(1).map_err(db_err)?))),
            None => Ok(None),
        }
    }
}
