//! The audit chain: appending a linked line, searching and reading lines.

use crate::{db_err, get, micros, ts, ts_param, PgStore};
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, QueryBuilder};
use tsunagu_domain::audit::{line_mac, AuditAction, AuditContext, AuditLine, GENESIS};
use tsunagu_domain::keys::ChainKey;
use tsunagu_domain::{AccountId, FamilyId, MunicipalityId};
use tsunagu_store::group_commit::PendingLine;
use tsunagu_store::{AuditQuery, AuditStore, Result, StoreError};

fn poisoned() -> StoreError {
    StoreError::Other("the audit heads' cache was poisoned".into())
}

macro_rules! audit_columns {
    () => {
        concat!(
            "municipality_id, seq, ",
            ts_col!("at"),
            " AS at, actor, role, action, family_id, detail, reason, remote_addr, prev_hash, hash"
        )
    };
}

/// Locks municipality `m`'s chain head until `tx` ends and reads it. The
/// head is there but before a municipality's first line: it is locked in
/// one round trip (#16), and only when it is missing created at the genesis
/// and locked then. Appends lock heads in the order of the municipalities'
/// ids, so a transaction waits (for a head's lock or for another's creating
/// it) only on a head after every one it holds.
async fn lock_head(tx: &mut PgConnection, m: MunicipalityId) -> Result<PgRow> {
    const LOCK: &str = "SELECT seq, hash FROM audit_heads WHERE municipality_id = $1 FOR UPDATE";
    if let Some(head) = sqlx::query(LOCK).bind(m.0).fetch_optional(&mut *tx).await.map_err(db_err)? {
        return Ok(head);
    }
    sqlx::query(
        "INSERT INTO audit_heads (municipality_id, seq, hash) VALUES ($1, 0, $2) \
         ON CONFLICT (municipality_id) DO NOTHING",
    )
    .bind(m.0)
    .bind(GENESIS)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    sqlx::query(LOCK).bind(m.0).fetch_one(&mut *tx).await.map_err(db_err)
}

/// A batch's line linked into its chain: the line, its seq, its instant as
/// text, the hash before it and its own.
type Linked<'a> = (&'a PendingLine, i64, String, String, String);

/// Links `lines`, in order, each to the one before it in its
/// municipality's chain, starting from `heads` (each municipality's last
/// seq and hash). A line about another family than its context's decision
/// refuses the batch; a line of a municipality without a head is left out.
fn link<'a>(
    key: &ChainKey,
    lines: &'a [PendingLine],
    mut heads: Vec<(MunicipalityId, i64, String)>,
) -> Result<Vec<Linked<'a>>> {
    let mut rows = Vec::with_capacity(lines.len());
    for l in lines {
        l.ctx.covers(l.family)?;
        let m = l.ctx.municipality_id;
        let Some(head) = heads.iter_mut().find(|h| h.0 == m) else { continue };
        let seq = head.1 + 1;
        let at = micros(l.ctx.at);
        let hash = line_mac(
            key,
            &head.2,
            seq,
            m,
            at,
            l.ctx.actor,
            l.ctx.role.as_str(),
            l.action.as_str(),
            l.family,
            &l.detail,
            &l.ctx.reason,
            &l.ctx.remote_addr,
        );
        rows.push((l, seq, at.to_string(), head.2.clone(), hash.clone()));
        head.1 = seq;
        head.2 = hash;
    }
    Ok(rows)
}

/// `q` with linked lines bound as twelve arrays, one per column of
/// `audit_log` in its order (`$3`, the instants, as text).
fn bind_lines<'q>(
    q: sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>,
    rows: &'q [Linked<'_>],
) -> sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments> {
    q.bind(rows.iter().map(|(l, ..)| l.ctx.municipality_id.0).collect::<Vec<_>>())
        .bind(rows.iter().map(|(_, seq, ..)| *seq).collect::<Vec<_>>())
        .bind(rows.iter().map(|(_, _, at, ..)| at.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|(l, ..)| l.ctx.actor.0).collect::<Vec<_>>())
        .bind(rows.iter().map(|(l, ..)| l.ctx.role.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|(l, ..)| l.action.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|(l, ..)| l.family.map(|f| f.0)).collect::<Vec<_>>())
        .bind(rows.iter().map(|(l, ..)| l.detail.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|(l, ..)| l.ctx.reason.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|(l, ..)| l.ctx.remote_addr.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|(_, _, _, prev, _)| prev.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|(_, _, _, _, hash)| hash.as_str()).collect::<Vec<_>>())
}

/// Appends a batch of lines (#16, group commit) inside `tx`, in order. The
/// heads of the batch's municipalities are locked first, in the order of
/// their ids (so two batches never wait on each other in a circle); the lines
/// are inserted by one statement and each head follows them line by line.
pub(crate) async fn append_audit_batch(tx: &mut PgConnection, key: &ChainKey, lines: &[PendingLine]) -> Result<()> {
    let mut ms: Vec<MunicipalityId> = lines.iter().map(|l| l.ctx.municipality_id).collect();
    ms.sort_unstable_by_key(|m| m.0);
    ms.dedup();
    let mut heads: Vec<(MunicipalityId, i64, String)> = Vec::with_capacity(ms.len());
    for m in ms {
        let head = lock_head(tx, m).await?;
        heads.push((m, get(&head, "seq")?, get(&head, "hash")?));
    }
    let rows = link(key, lines, heads)?;
    // One statement of the same text whatever the number of lines (the
    // rows bound as arrays): prepared once per connection and kept.
    if !rows.is_empty() {
        bind_lines(
            sqlx::query(
                "INSERT INTO audit_log (municipality_id, seq, at, actor, role, action, family_id, detail, reason, \
                 remote_addr, prev_hash, hash) \
                 SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::text[]::timestamptz[], $4::bigint[], \
                 $5::text[], $6::text[], $7::bigint[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])",
            ),
            &rows,
        )
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }
    // Each head follows the lines one at a time (the trigger of 0008 refuses
    // a jump): one call of `audit_advance` (migration 0039) with the batch's
    // numbers and hashes bound as arrays, one round trip and one statement
    // text whatever the batch (before 0039, a `DO` block with the values in
    // its text, planned anew for every batch; before that one statement per
    // line, quadratic in the batch: BENCHMARKS.md).
    if !rows.is_empty() {
        let ms: Vec<i64> = rows.iter().map(|(l, ..)| l.ctx.municipality_id.0).collect();
        let seqs: Vec<i64> = rows.iter().map(|(_, seq, ..)| *seq).collect();
        let hashes: Vec<&str> = rows.iter().map(|(_, _, _, _, hash)| hash.as_str()).collect();
        sqlx::query("SELECT audit_advance($1::bigint[], $2::bigint[], $3::text[])")
            .bind(&ms)
            .bind(&seqs)
            .bind(&hashes)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
    }
    Ok(())
}

impl PgStore {
    /// Writes a batch of lines in one transaction, on a kept connection (#16).
    async fn write_lines(self, lines: Vec<PendingLine>) -> Result<()> {
        let mut conn = self.hot_conn().await?;
        let written = self.append_lines(conn.conn()?, &lines).await;
        conn.done(written)
    }

    /// A batch linked to the heads this node last saw and appended by one
    /// call of `audit_append` (migration 0038), a transaction of its own:
    /// one round trip where locking the heads in a transaction took five.
    /// When a head moved meanwhile (another node, or a change's own line)
    /// the call writes nothing and answers the heads as they are: linked
    /// again and sent again, up to three times, then the batch is appended
    /// in a transaction that locks its heads first, as before.
    async fn append_lines(&self, conn: &mut PgConnection, lines: &[PendingLine]) -> Result<()> {
        let mut ms: Vec<MunicipalityId> = lines.iter().map(|l| l.ctx.municipality_id).collect();
        ms.sort_unstable_by_key(|m| m.0);
        ms.dedup();
        for _ in 0..3 {
            let heads: Vec<(MunicipalityId, i64, String)> = {
                let known = self.heads.lock().map_err(|_| poisoned())?;
                ms.iter()
                    .map(|m| match known.get(m) {
                        Some((seq, hash)) => (*m, *seq, hash.clone()),
                        None => (*m, 0, GENESIS.to_owned()),
                    })
                    .collect()
            };
            let rows = link(&self.keys.chain, lines, heads)?;
            if rows.is_empty() {
                return Ok(());
            }
            let now: Vec<PgRow> = bind_lines(
                sqlx::query(
                    "SELECT municipality_id, seq, hash FROM audit_append($1::bigint[], $2::bigint[], \
                     $3::text[]::timestamptz[], $4::bigint[], $5::text[], $6::text[], $7::bigint[], $8::text[], \
                     $9::text[], $10::text[], $11::text[], $12::text[])",
                ),
                &rows,
            )
            .fetch_all(&mut *conn)
            .await
            .map_err(db_err)?;
            let mut known = self.heads.lock().map_err(|_| poisoned())?;
            if now.is_empty() {
                // Appended: each chain's head is its last line now.
                for (l, seq, _, _, hash) in &rows {
                    known.insert(l.ctx.municipality_id, (*seq, hash.clone()));
                }
                return Ok(());
            }
            for r in &now {
                known.insert(MunicipalityId(get(r, "municipality_id")?), (get(r, "seq")?, get(r, "hash")?));
            }
        }
        let mut tx = sqlx::Connection::begin(&mut *conn).await.map_err(db_err)?;
        append_audit_batch(&mut tx, &self.keys.chain, lines).await?;
        tx.commit().await.map_err(db_err)?;
        // What that transaction made the heads is not kept: the next call learns it.
        Ok(())
    }

    /// Writes one read's audit line through the group commit (#16) and
    /// returns once the transaction holding it has committed.
    pub(crate) async fn audit_read(
        &self,
        ctx: &AuditContext,
        action: AuditAction,
        family: Option<FamilyId>,
        detail: &str,
    ) -> Result<()> {
        let line = PendingLine { ctx: ctx.clone(), action, family, detail: detail.to_owned() };
        let store = self.clone();
        self.audit_batch.submit(line, move |lines| store.write_lines(lines)).await
    }
}

fn audit_line(r: &PgRow) -> Result<AuditLine> {
    Ok(AuditLine {
        seq: get(r, "seq")?,
        municipality_id: MunicipalityId(get(r, "municipality_id")?),
        at: ts(&get::<String>(r, "at")?)?,
        actor: AccountId(get(r, "actor")?),
        role: get(r, "role")?,
        action: get(r, "action")?,
        family_id: get::<Option<i64>>(r, "family_id")?.map(FamilyId),
        detail: get(r, "detail")?,
        reason: get(r, "reason")?,
        remote_addr: get(r, "remote_addr")?,
        prev_hash: get(r, "prev_hash")?,
        hash: get(r, "hash")?,
    })
}

/// Appends one line to the municipality's audit chain inside `tx`. The
/// chain's head row is locked until `tx` ends, so concurrent appends for the
/// same municipality queue up and the chain stays gap-free.
pub(crate) async fn append_audit(
    tx: &mut PgConnection,
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
    let head = lock_head(tx, m).await?;
    let prev_seq: i64 = get(&head, "seq")?;
    let prev_hash: String = get(&head, "hash")?;
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
         remote_addr, prev_hash, hash) VALUES ($1, $2, $3::timestamptz, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(m.0)
    .bind(seq)
    .bind(at.to_string())
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
    sqlx::query("UPDATE audit_heads SET seq = $2, hash = $3 WHERE municipality_id = $1")
        .bind(m.0)
        .bind(seq)
        .bind(&hash)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl AuditStore for PgStore {
    async fn write_audit(
        &self,
        ctx: &AuditContext,
        action: AuditAction,
        family: Option<FamilyId>,
        detail: &str,
    ) -> Result<()> {
        self.audit_read(ctx, action, family, detail).await
    }

    async fn search_audit(&self, m: MunicipalityId, q: &AuditQuery) -> Result<Vec<AuditLine>> {
        let mut qb: QueryBuilder<'_, Postgres> =
            QueryBuilder::new(concat!("SELECT ", audit_columns!(), " FROM audit_log WHERE municipality_id = "));
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
            qb.push(" AND audit_log.at >= ").push_bind(ts_param(t)).push("::timestamptz");
        }
        if let Some(t) = q.to {
            qb.push(" AND audit_log.at < ").push_bind(ts_param(t)).push("::timestamptz");
        }
        if let Some(s) = q.before_seq {
            qb.push(" AND seq < ").push_bind(s);
        }
        qb.push(" ORDER BY seq DESC LIMIT ").push_bind(i64::from(q.limit.clamp(1, 1000)));
        let rows = qb.build().fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter().map(audit_line).collect()
    }

    async fn audit_lines(&self, m: MunicipalityId, after_seq: i64, limit: u32) -> Result<Vec<AuditLine>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            audit_columns!(),
            " FROM audit_log WHERE municipality_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        ))
        .bind(m.0)
        .bind(after_seq)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(audit_line).collect()
    }

    async fn audit_head(&self, m: MunicipalityId) -> Result<Option<(i64, String)>> {
        let r = sqlx::query("SELECT seq, hash FROM audit_heads WHERE municipality_id = $1")
            .bind(m.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        match r {
            Some(r) => Ok(Some((get(&r, "seq")?, get(&r, "hash")?))),
            None => Ok(None),
        }
    }
}
