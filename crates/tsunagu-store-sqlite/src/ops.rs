//! `OpsStore` on SQLite: the two pools, the schema against the build's.

use crate::{db_err, SqliteStore, MIGRATIONS};
use async_trait::async_trait;
use sqlx::SqlitePool;
use tsunagu_store::{OpsStore, PoolStats, Result, SchemaStatus};

fn stats(name: &'static str, pool: &SqlitePool) -> PoolStats {
    let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX);
    PoolStats { name, size: pool.size(), idle, max: pool.options().get_max_connections() }
}

#[async_trait]
impl OpsStore for SqliteStore {
    fn pool_stats(&self) -> Vec<PoolStats> {
        vec![stats("writer", &self.writer), stats("reader", &self.reader)]
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
}
