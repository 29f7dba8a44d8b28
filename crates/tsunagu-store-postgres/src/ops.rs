//! `OpsStore` on PostgreSQL: the pool, the schema against the build's.

use crate::{db_err, PgStore, MIGRATIONS};
use async_trait::async_trait;
use tsunagu_store::{OpsStore, PoolStats, Result, SchemaStatus};

#[async_trait]
impl OpsStore for PgStore {
    fn pool_stats(&self) -> Vec<PoolStats> {
        let idle = u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX);
        vec![PoolStats { name: "main", size: self.pool.size(), idle, max: self.pool.options().get_max_connections() }]
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
}
