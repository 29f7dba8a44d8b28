//! `OpsStore` on SQLite: the two pools, the schema against the build's, and
//! daily jobs' leases (one conditional update on the single writer; two
//! processes on one file are not a deployment, but the update is atomic
//! under SQLite's write lock all the same).

use crate::{date, db_err, ts, ts_text, SqliteStore, MIGRATIONS};
use async_trait::async_trait;
use jiff::civil::Date;
use jiff::Timestamp;
use sqlx::SqlitePool;
use tsunagu_store::{Lease, OpsStore, PoolStats, Result, SchemaStatus};

fn stats(name: &'static str, pool: &SqlitePool) -> PoolStats {
    let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX);
    PoolStats { name, size: pool.size(), idle, max: pool.options().get_max_connections() }
}

#[async_trait]
impl OpsStore for SqliteStore {
    fn pool_stats(&self) -> Vec<PoolStats> {
        // The request path's readers on its own thread (#16, `direct`).
        let (open, idle) = self.direct.stats();
        let n = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        let direct = PoolStats { name: "direct", size: n(open), idle: n(idle), max: n(crate::direct::KEEP) };
        vec![stats("writer", &self.writer), stats("reader", &self.reader), direct]
    }

    fn turn_stats(&self) -> Vec<(&'static str, tsunagu_store::group_commit::TurnStats)> {
        vec![("chat_posts", self.post_batch.stats()), ("audit_reads", self.audit_batch.stats())]
    }

    async fn schema_status(&self) -> Result<SchemaStatus> {
        let exists: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'")
                .fetch_one(&self.reader)
                .await
                .map_err(db_err)?;
        let applied: Vec<(i64, bool, Vec<u8>)> = if exists == 0 {
            Vec::new()
        } else {
            sqlx::query_as("SELECT version, success, checksum FROM _sqlx_migrations ORDER BY version")
                .fetch_all(&self.reader)
                .await
                .map_err(db_err)?
        };
        Ok(SchemaStatus::compare(&applied, MIGRATIONS))
    }

    async fn take_daily(&self, job: &str, day: Date, holder: &str, now: Timestamp, until: Timestamp) -> Result<Lease> {
        sqlx::query("INSERT INTO job_leases (job) VALUES (?) ON CONFLICT (job) DO NOTHING")
            .bind(job)
            .execute(&self.writer)
            .await
            .map_err(db_err)?;
        let taken = sqlx::query(
            "UPDATE job_leases SET holder = ?1, expires_at = ?2 \
             WHERE job = ?3 AND (done_for IS NULL OR done_for < ?4) AND (expires_at <= ?5 OR holder = ?1)",
        )
        .bind(holder)
        .bind(ts_text(until))
        .bind(job)
        .bind(day.to_string())
        .bind(ts_text(now))
        .execute(&self.writer)
        .await
        .map_err(db_err)?
        .rows_affected();
        if taken == 1 {
            return Ok(Lease::Taken);
        }
        let (by, expires, done): (String, String, Option<String>) =
            sqlx::query_as("SELECT holder, expires_at, done_for FROM job_leases WHERE job = ?")
                .bind(job)
                .fetch_one(&self.writer)
                .await
                .map_err(db_err)?;
        match done.as_deref().map(date).transpose()? {
            Some(d) if d >= day => Ok(Lease::Done),
            // Never taken yet ('' or -infinity): held by nobody, until now.
            _ => Ok(Lease::Held { by, until: ts(&expires).unwrap_or(now) }),
        }
    }

    async fn finish_daily(&self, job: &str, day: Date, holder: &str, now: Timestamp) -> Result<bool> {
        let n = sqlx::query("UPDATE job_leases SET done_for = ?, expires_at = ? WHERE job = ? AND holder = ?")
            .bind(day.to_string())
            .bind(ts_text(now))
            .bind(job)
            .bind(holder)
            .execute(&self.writer)
            .await
            .map_err(db_err)?
            .rows_affected();
        Ok(n == 1)
    }

    async fn heartbeat(&self, holder: &str, until: Timestamp) -> Result<()> {
        sqlx::query(
            "INSERT INTO job_leases (job, holder, expires_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (job) DO UPDATE SET holder = ?2, expires_at = ?3",
        )
        .bind(tsunagu_store::ops::node_job(holder))
        .bind(holder)
        .bind(ts_text(until))
        .execute(&self.writer)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn leave(&self, holder: &str) -> Result<()> {
        sqlx::query("DELETE FROM job_leases WHERE job = ?")
            .bind(tsunagu_store::ops::node_job(holder))
            .execute(&self.writer)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn send_wake(&self, _payload: &str) -> Result<bool> {
        // One node's database: the node's own in-process wake-ups suffice.
        Ok(false)
    }

    fn listen_wakes(&self, _listener: tsunagu_store::WakeListener) -> bool {
        false
    }
}
