//! The audit chain: appending a linked line, searching and reading lines.

use crate::direct::{direct_err, insert_rows, prepare, Cells};
use crate::{db_err, micros, ts, ts_text, SqliteStore};
use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use tsunagu_domain::audit::{line_mac, AuditAction, AuditContext, AuditLine, GENESIS};
use tsunagu_domain::keys::ChainKey;
use tsunagu_domain::{AccountId, FamilyId, MunicipalityId};
use tsunagu_store::group_commit::PendingLine;
use tsunagu_store::{AuditQuery, AuditStore, Result, StoreError};

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

/// A batch's lines inserted, then its heads moved on, whatever the number of
/// lines (the rows as one JSON array that `json_each` reads, bound once as
/// `?1`): prepared once by the writer's connection and kept, and run in one
/// call (#16). A head advances one line at a time (the triggers of 0008
/// refuse a jump and check each step against the line just appended): the
/// upsert's rows are the new lines in the batch's order, which is each
/// municipality's order of seq, so SQLite applies them — and the triggers
/// check them — one after the other, as one statement a line did before (a
/// step out of order would be refused, never skipped).
macro_rules! batch_lines {
    () => {
        "INSERT INTO audit_log (municipality_id, seq, at, actor, role, action, family_id, detail, reason, \
         remote_addr, prev_hash, hash) \
         SELECT v.value ->> 0, v.value ->> 1, v.value ->> 2, v.value ->> 3, v.value ->> 4, v.value ->> 5, \
         v.value ->> 6, v.value ->> 7, v.value ->> 8, v.value ->> 9, v.value ->> 10, v.value ->> 11 \
         FROM json_each(?1) AS v"
    };
}
macro_rules! batch_heads {
    () => {
        "INSERT INTO audit_heads (municipality_id, seq, hash) \
         SELECT v.value ->> 0, v.value ->> 1, v.value ->> 11 FROM json_each(?1) AS v WHERE true ORDER BY v.key \
         ON CONFLICT (municipality_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash"
    };
}
/// Both statements as one query, for sqlx (one turn of its connection's
/// thread). The writer thread's path binds its lines' values instead
/// ([`append_audit_batch_direct`]).
const BATCH_SQL: &str = concat!(batch_lines!(), "; ", batch_heads!());

/// Appends a batch of lines (#16, group commit) inside `tx`, in order: each
/// municipality's head is read once, then one query inserts the lines and
/// moves every head along them line by line.
pub(crate) async fn append_audit_batch(tx: &mut SqliteConnection, key: &ChainKey, lines: &[PendingLine]) -> Result<()> {
    let mut heads = Vec::new();
    for m in municipalities_of(lines) {
        let head = sqlx::query(HEAD_SQL).bind(m.0).fetch_optional(&mut *tx).await.map_err(db_err)?;
        heads.push((m, head.as_ref().map(head_of).transpose()?));
    }
    let Some(json) = batch_rows(key, lines, heads)? else { return Ok(()) };
    sqlx::query(BATCH_SQL).bind(json).execute(&mut *tx).await.map_err(db_err)?;
    Ok(())
}

/// As [`append_audit_batch`], on the writer's own connection of SQLite's
/// binding (`direct::DirectWriter`), inside its transaction: the lines'
/// values bound in place by multi-row `INSERT`s, then one head upsert a
/// line, in the batch's order (the triggers of 0008 check each step). The
/// JSON rows of the sqlx path cost SQLite a parse of a line's array for each
/// of its values (BENCHMARKS.md, "a load's audit lines bound in place").
pub(crate) fn append_audit_batch_direct(
    conn: &rusqlite::Connection,
    key: &ChainKey,
    lines: &[PendingLine],
) -> Result<()> {
    let mut heads = Vec::new();
    for m in municipalities_of(lines) {
        let mut st = prepare(conn, HEAD_SQL)?;
        let mut rows = st.query([m.0]).map_err(direct_err)?;
        let head = rows.next().map_err(direct_err)?.map(head_of).transpose()?;
        heads.push((m, head));
    }
    let rows = chain_lines(key, lines, heads)?;
    insert_rows(conn, LINE_INSERT, 12, &rows, |b, r| {
        let c = &r.line.ctx;
        b.value(c.municipality_id.0)?
            .value(r.seq)?
            .value(&r.at)?
            .value(c.actor.0)?
            .value(c.role.as_str())?
            .value(r.line.action.as_str())?
            .value(r.line.family.map(|f| f.0))?
            .value(&r.line.detail)?
            .value(&c.reason)?
            .value(&c.remote_addr)?
            .value(&r.prev)?
            .value(&r.hash)?;
        Ok(())
    })?;
    if !rows.is_empty() {
        let mut st = prepare(conn, HEAD_UPSERT)?;
        for r in &rows {
            st.execute(rusqlite::params![r.line.ctx.municipality_id.0, r.seq, &r.hash]).map_err(direct_err)?;
        }
    }
    Ok(())
}

const LINE_INSERT: &str = "INSERT INTO audit_log (municipality_id, seq, at, actor, role, action, family_id, detail, \
                           reason, remote_addr, prev_hash, hash)";
const HEAD_UPSERT: &str = "INSERT INTO audit_heads (municipality_id, seq, hash) VALUES (?, ?, ?) \
                           ON CONFLICT (municipality_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash";

const HEAD_SQL: &str = "SELECT seq, hash FROM audit_heads WHERE municipality_id = ?";

/// A municipality's head: the last line's seq and hash.
fn head_of(r: &impl Cells) -> Result<(i64, String)> {
    Ok((r.cell(0)?, r.cell(1)?))
}

/// The municipalities of a batch's lines, each once, in order of first line.
fn municipalities_of(lines: &[PendingLine]) -> Vec<MunicipalityId> {
    let mut out: Vec<MunicipalityId> = Vec::new();
    for l in lines {
        if !out.contains(&l.ctx.municipality_id) {
            out.push(l.ctx.municipality_id);
        }
    }
    out
}

/// A line of a batch as it is written: its chain's seq, its time as
/// text, and the hashes that link it.
struct ChainedLine<'l> {
    line: &'l PendingLine,
    seq: i64,
    at: String,
    prev: String,
    hash: String,
}

/// A batch's lines, each linked to the one before it in its municipality's
/// chain (starting from `heads`: none is the genesis), in the batch's
/// order. A line about another family than its context's decision refuses
/// the batch.
fn chain_lines<'l>(
    key: &ChainKey,
    lines: &'l [PendingLine],
    heads: Vec<(MunicipalityId, Option<(i64, String)>)>,
) -> Result<Vec<ChainedLine<'l>>> {
    // Each municipality's head, as it moves on line by line.
    let mut heads: Vec<(MunicipalityId, i64, String)> = heads
        .into_iter()
        .map(|(m, head)| {
            let (seq, hash) = head.unwrap_or_else(|| (0, GENESIS.to_owned()));
            (m, seq, hash)
        })
        .collect();
    let mut rows = Vec::with_capacity(lines.len());
    for l in lines {
        l.ctx.covers(l.family)?;
        let m = l.ctx.municipality_id;
        let at_head = heads.iter().position(|h| h.0 == m).ok_or_else(corrupt_batch)?;
        let (_, prev_seq, prev_hash) = &heads[at_head];
        let seq = prev_seq + 1;
        let at = micros(l.ctx.at);
        let hash = line_mac(
            key,
            prev_hash,
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
        rows.push(ChainedLine { line: l, seq, at: ts_text(at), prev: prev_hash.clone(), hash: hash.clone() });
        heads[at_head].1 = seq;
        heads[at_head].2 = hash;
    }
    Ok(rows)
}

/// A batch's chained lines as the JSON rows [`BATCH_SQL`] reads; `None`
/// for no lines.
fn batch_rows(
    key: &ChainKey,
    lines: &[PendingLine],
    heads: Vec<(MunicipalityId, Option<(i64, String)>)>,
) -> Result<Option<String>> {
    let rows = chain_lines(key, lines, heads)?;
    if rows.is_empty() {
        return Ok(None);
    }
    Ok(Some(crate::chat::json_rows(rows.iter().map(|r| {
        let c = &r.line.ctx;
        (
            c.municipality_id.0,
            r.seq,
            &r.at,
            c.actor.0,
            c.role.as_str(),
            r.line.action.as_str(),
            r.line.family.map(|f| f.0),
            &r.line.detail,
            &c.reason,
            &c.remote_addr,
            &r.prev,
            &r.hash,
        )
    }))))
}

fn corrupt_batch() -> StoreError {
    StoreError::Other("an audit line of a municipality whose head was not read".into())
}

impl SqliteStore {
    /// Writes a batch of lines in one transaction of the single writer, on
    /// its connection of SQLite's binding, in place on the writer thread
    /// (#16, `direct::DirectWriter`): no hand-off to a connection's thread
    /// for the transaction's begin, head reads, lines and commit.
    async fn write_lines(self, lines: Vec<PendingLine>) -> Result<()> {
        let mut turn = self.writer.acquire().await.map_err(db_err)?;
        self.direct_writer.write(&mut turn, |conn| append_audit_batch_direct(conn, &self.keys.chain, &lines))
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
        self.audit_read(ctx, action, family, detail).await
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
