//! What operating the service needs of its store: the connection pools'
//! state (for the metrics), whether the schema is the build's (for
//! `/readyz`), and the lease that lets one node of many run a daily job.
//! Nothing here reads a person.

use crate::migrations::Migration;
use crate::Result;
use async_trait::async_trait;
use jiff::civil::Date;
use jiff::Timestamp;
use sha2::{Digest, Sha384};
use std::sync::Arc;

/// One connection pool of a store, as the metrics show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// `"main"` (PostgreSQL), `"writer"` or `"reader"` (SQLite).
    pub name: &'static str,
    /// Connections open now (in use or idle).
    pub size: u32,
    /// Of those, idle.
    pub idle: u32,
    /// The most the pool opens.
    pub max: u32,
}

/// The database's migrations against the build's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaStatus {
    /// Versions the build has that the database has not applied (or whose
    /// application failed).
    pub pending: Vec<i64>,
    /// Versions applied with a text other than the build's.
    pub changed: Vec<i64>,
    /// Versions applied that the build does not know (a newer build
    /// migrated: a rolling upgrade or a rollback). Not a reason to stop.
    pub unknown: Vec<i64>,
}

impl SchemaStatus {
    /// The schema is the one this build's queries are written for.
    pub fn is_current(&self) -> bool {
        self.pending.is_empty() && self.changed.is_empty()
    }

    /// What sqlx recorded in `_sqlx_migrations` — (version, success,
    /// checksum: the SHA-384 of the SQL) — against the build's `migrations`.
    pub fn compare(applied: &[(i64, bool, Vec<u8>)], migrations: &[Migration]) -> SchemaStatus {
        let mut status = SchemaStatus::default();
        for m in migrations {
            let expected = Sha384::digest(m.sql.as_bytes());
            match applied.iter().find(|(v, _, _)| *v == m.version) {
                Some((_, true, checksum)) if checksum.as_slice() == expected.as_slice() => {}
                Some((_, true, _)) => status.changed.push(m.version),
                _ => status.pending.push(m.version),
            }
        }
        status.unknown =
            applied.iter().map(|(v, _, _)| *v).filter(|v| !migrations.iter().any(|m| m.version == *v)).collect();
        status
    }
}

/// Where a node's wake-ups from other nodes go (`OpsStore::listen_wakes`).
/// Both are called from the listening task; they must not block.
#[derive(Clone)]
pub struct WakeListener {
    /// One wake-up's payload, as another node (or this one) sent it.
    pub on_wake: Arc<dyn Fn(&str) + Send + Sync>,
    /// The listening connection is up (`true`) or was lost (`false`;
    /// wake-ups sent meanwhile are not seen: waiters read the store again).
    pub on_state: Arc<dyn Fn(bool) + Send + Sync>,
}

/// What came of asking for a daily job's lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lease {
    /// Ours until the given instant: do the day's work, then `finish_daily`.
    Taken,
    /// The job finished for this day (or a later one) already.
    Done,
    /// Another node holds it until `until` (it is running the job now, or
    /// died doing so and the lease has yet to expire).
    Held { by: String, until: Timestamp },
}

#[async_trait]
pub trait OpsStore {
    /// The connection pools' state now.
    fn pool_stats(&self) -> Vec<PoolStats>;
    /// The group commits' turns so far, by name (`chat_posts`, `audit_reads`).
    fn turn_stats(&self) -> Vec<(&'static str, crate::group_commit::TurnStats)> {
        Vec::new()
    }
    /// Compares the applied migrations with the build's.
    async fn schema_status(&self) -> Result<SchemaStatus>;
    /// Takes the lease of daily job `job` for `day` as `holder` until
    /// `until`, if the day is not done and the lease is free, expired at
    /// `now`, or `holder`'s own — one conditional update, so that of nodes
    /// asking at once exactly one gets it.
    async fn take_daily(&self, job: &str, day: Date, holder: &str, now: Timestamp, until: Timestamp) -> Result<Lease>;
    /// Records `day` done and lets the lease go, if `holder` still holds it;
    /// false if it expired and another node took it meanwhile.
    async fn finish_daily(&self, job: &str, day: Date, holder: &str, now: Timestamp) -> Result<bool>;
    /// Says node `holder` serves this database until `until` (renewed while
    /// it runs; a row `node:<holder>` of `job_leases`): `tsunagu restore`
    /// refuses to replace the file of a service that is running.
    async fn heartbeat(&self, holder: &str, until: Timestamp) -> Result<()>;
    /// Node `holder` stops serving (a clean shutdown).
    async fn leave(&self, holder: &str) -> Result<()>;
    /// Tells every node listening on this database that something others
    /// wait for was stored (`payload`: keys and numbers only, never what was
    /// stored; at most a few hundred bytes). `Ok(false)` where the back end
    /// has no channel between nodes (SQLite: one node's database).
    async fn send_wake(&self, payload: &str) -> Result<bool>;
    /// [`OpsStore::send_wake`] for several payloads at once (a node's
    /// wake-ups that queued while the last were sent): one statement where
    /// the back end can, each payload still its own notification.
    async fn send_wakes(&self, payloads: &[String]) -> Result<bool> {
        let mut sent = false;
        for p in payloads {
            sent |= self.send_wake(p).await?;
        }
        Ok(sent)
    }
    /// Starts listening for [`OpsStore::send_wake`]'s payloads (every
    /// node's, this one's too) on a connection of its own, reconnecting with
    /// backoff while the store is open; false where the back end has no
    /// such channel or no runtime runs.
    fn listen_wakes(&self, listener: WakeListener) -> bool;
}

/// The `job_leases` row that says a node serves the database.
pub fn node_job(holder: &str) -> String {
    format!("{NODE_PREFIX}{holder}")
}

/// What every node row's `job` starts with.
pub const NODE_PREFIX: &str = "node:";
