//! `OpsStore` on PostgreSQL: the pool, the schema against the build's,
//! daily jobs' leases: one conditional update, which concurrent nodes
//! serialise on the row's lock (the one that waited re-reads the row and
//! finds it taken), and the nodes' wake-ups through `NOTIFY`/`LISTEN` on
//! one channel (each node listens on one connection of its own).

use crate::{date, db_err, ts, PgStore, MIGRATIONS};
use async_trait::async_trait;
use jiff::civil::Date;
use jiff::Timestamp;
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use std::time::Duration;
use tsunagu_store::{Lease, OpsStore, PoolStats, Result, SchemaStatus, WakeListener};

/// The channel every node's wake-ups travel on.
pub const WAKE_CHANNEL: &str = "tsunagu_wake";
/// The longest wait between attempts to listen again.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

#[async_trait]
impl OpsStore for PgStore {
    fn pool_stats(&self) -> Vec<PoolStats> {
        // Connections kept between requests (#16) are idle too.
        let idle = u32::try_from(self.pool.num_idle() + self.kept.len()).unwrap_or(u32::MAX);
        vec![PoolStats { name: "main", size: self.pool.size(), idle, max: self.pool.options().get_max_connections() }]
    }

    fn turn_stats(&self) -> Vec<(&'static str, tsunagu_store::group_commit::TurnStats)> {
        vec![("chat_posts", self.post_batch.stats()), ("audit_reads", self.audit_batch.stats())]
    }

    async fn schema_status(&self) -> Result<SchemaStatus> {
        let applied: Vec<(i64, bool, Vec<u8>)> = sqlx::query_as(
            "SELECT version, success, checksum FROM _sqlx_migrations \
             WHERE to_regclass('_sqlx_migrations') IS NOT NULL ORDER BY version",
        )
        .fetch_all(&self.pool)
        .await
        .or_else(|e| match &e {
            // No table yet: nothing applied.
            sqlx::Error::Database(d) if d.code().as_deref() == Some("42P01") => Ok(Vec::new()),
            _ => Err(e),
        })
        .map_err(db_err)?;
        Ok(SchemaStatus::compare(&applied, MIGRATIONS))
    }

    async fn take_daily(&self, job: &str, day: Date, holder: &str, now: Timestamp, until: Timestamp) -> Result<Lease> {
        sqlx::query("INSERT INTO job_leases (job) VALUES ($1) ON CONFLICT (job) DO NOTHING")
            .bind(job)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        let taken = sqlx::query(
            "UPDATE job_leases SET holder = $1, expires_at = $2::timestamptz \
             WHERE job = $3 AND (done_for IS NULL OR done_for < $4::date) \
             AND (expires_at <= $5::timestamptz OR holder = $1)",
        )
        .bind(holder)
        .bind(until.to_string())
        .bind(job)
        .bind(day.to_string())
        .bind(now.to_string())
        .execute(&self.pool)
        .await
        .map_err(db_err)?
        .rows_affected();
        if taken == 1 {
            return Ok(Lease::Taken);
        }
        let (by, expires, done): (String, String, Option<String>) = sqlx::query_as(concat!(
            "SELECT holder, COALESCE(",
            ts_col!("expires_at"),
            ", ''), ",
            date_col!("done_for"),
            " FROM job_leases WHERE job = $1"
        ))
        .bind(job)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        match done.as_deref().map(date).transpose()? {
            Some(d) if d >= day => Ok(Lease::Done),
            // Never taken yet ('' or -infinity): held by nobody, until now.
            _ => Ok(Lease::Held { by, until: ts(&expires).unwrap_or(now) }),
        }
    }

    async fn finish_daily(&self, job: &str, day: Date, holder: &str, now: Timestamp) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE job_leases SET done_for = $1::date, expires_at = $2::timestamptz WHERE job = $3 AND holder = $4",
        )
        .bind(day.to_string())
        .bind(now.to_string())
        .bind(job)
        .bind(holder)
        .execute(&self.pool)
        .await
        .map_err(db_err)?
        .rows_affected();
        Ok(n == 1)
    }

    async fn heartbeat(&self, holder: &str, until: Timestamp) -> Result<()> {
        sqlx::query(
            "INSERT INTO job_leases (job, holder, expires_at) VALUES ($1, $2, $3::timestamptz) \
             ON CONFLICT (job) DO UPDATE SET holder = $2, expires_at = $3::timestamptz",
        )
        .bind(tsunagu_store::ops::node_job(holder))
        .bind(holder)
        .bind(until.to_string())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn leave(&self, holder: &str) -> Result<()> {
        sqlx::query("DELETE FROM job_leases WHERE job = $1")
            .bind(tsunagu_store::ops::node_job(holder))
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn send_wake(&self, payload: &str) -> Result<bool> {
        // Delivered when this statement commits (now), to every session
        // that listens: the other nodes and this node's own listener.
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(WAKE_CHANNEL)
            .bind(payload)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(true)
    }

    async fn send_wakes(&self, payloads: &[String]) -> Result<bool> {
        // One statement, one notification per payload (in order).
        sqlx::query("SELECT pg_notify($1, p) FROM UNNEST($2::text[]) AS p")
            .bind(WAKE_CHANNEL)
            .bind(payloads)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(true)
    }

    fn listen_wakes(&self, listener: WakeListener) -> bool {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return false };
        runtime.spawn(listen(self.pool.clone(), listener));
        true
    }
}

/// Listens on [`WAKE_CHANNEL`] until the pool is closed: a connection of its
/// own (taken from the pool's options, not counted in it), opened again with
/// a doubling backoff (0.1 s to 5 s) whenever it is lost or cannot be made.
async fn listen(pool: PgPool, to: WakeListener) {
    let mut backoff = Duration::from_millis(100);
    while !pool.is_closed() {
        if let Ok(mut listener) = PgListener::connect_with(&pool).await {
            if listener.listen(WAKE_CHANNEL).await.is_ok() {
                (to.on_state)(true);
                backoff = Duration::from_millis(100);
                // `Ok(None)`: the connection was lost; make a new one here,
                // with the backoff, rather than let `recv` retry at once.
                while let Ok(Some(n)) = listener.try_recv().await {
                    (to.on_wake)(n.payload());
                }
                (to.on_state)(false);
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
