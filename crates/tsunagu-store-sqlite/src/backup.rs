//! Backing up and restoring the SQLite file (`tsunagu backup`, `tsunagu
//! restore`): the SQL of it. A backup is `VACUUM INTO`: one read
//! transaction, so the copy is the database as of one instant however much
//! the service writes meanwhile (WAL readers do not block the writer), and
//! compacted. A copy is checked before it is restored: `PRAGMA
//! integrity_check`, and its migrations against the build's.

use crate::{db_err, ts_text, MIGRATIONS};
use jiff::Timestamp;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;
use tsunagu_store::ops::NODE_PREFIX;
use tsunagu_store::{Result, SchemaStatus, StoreError};

async fn open(opts: SqliteConnectOptions) -> Result<SqliteConnection> {
    SqliteConnection::connect_with(&opts.busy_timeout(Duration::from_secs(30))).await.map_err(db_err)
}

fn file(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new().filename(path).create_if_missing(false)
}

/// Writes a consistent copy of the database at `url` (`sqlite://…`) to
/// `dest`, which must not exist.
pub async fn vacuum_into(url: &str, dest: &Path) -> Result<()> {
    let opts = SqliteConnectOptions::from_str(url).map_err(db_err)?.create_if_missing(false);
    let mut conn = open(opts).await?;
    let dest = dest.to_str().ok_or_else(|| StoreError::Other("the backup's path is not UTF-8".into()))?;
    sqlx::query("VACUUM INTO ?").bind(dest).execute(&mut conn).await.map_err(db_err)?;
    conn.close().await.map_err(db_err)
}

/// What a copy is: what `PRAGMA integrity_check` says of it (`["ok"]` when
/// sound) and its migrations against the build's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyCheck {
    pub integrity: Vec<String>,
    pub schema: SchemaStatus,
}

impl CopyCheck {
    pub fn is_sound(&self) -> bool {
        self.integrity == ["ok"]
    }
}

/// Checks the copy at `path` (read only).
pub async fn check_copy(path: &Path) -> Result<CopyCheck> {
    let mut conn = open(file(path).read_only(true)).await?;
    let integrity: Vec<String> =
        sqlx::query_scalar("PRAGMA integrity_check").fetch_all(&mut conn).await.map_err(db_err)?;
    let has_table: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'")
            .fetch_one(&mut conn)
            .await
            .map_err(db_err)?;
    let applied: Vec<(i64, bool, Vec<u8>)> = if has_table == 0 {
        Vec::new()
    } else {
        sqlx::query_as("SELECT version, success, checksum FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut conn)
            .await
            .map_err(db_err)?
    };
    conn.close().await.map_err(db_err)?;
    Ok(CopyCheck { integrity, schema: SchemaStatus::compare(&applied, MIGRATIONS) })
}

/// The nodes that said they serve the database at `path` and whose word
/// has not expired at `now`: (holder, until).
pub async fn live_nodes(path: &Path, now: Timestamp) -> Result<Vec<(String, String)>> {
    let mut conn = open(file(path).read_only(true)).await?;
    let has_table: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'job_leases'")
            .fetch_one(&mut conn)
            .await
            .map_err(db_err)?;
    let nodes = if has_table == 0 {
        Vec::new()
    } else {
        sqlx::query_as("SELECT holder, expires_at FROM job_leases WHERE job LIKE ? || '%' AND expires_at > ?")
            .bind(NODE_PREFIX)
            .bind(ts_text(now))
            .fetch_all(&mut conn)
            .await
            .map_err(db_err)?
    };
    conn.close().await.map_err(db_err)?;
    Ok(nodes)
}

/// Removes what the nodes serving the copied database said of themselves
/// (a restored file is served by no one yet).
pub async fn forget_nodes(path: &Path) -> Result<()> {
    let mut conn = open(file(path)).await?;
    let has_table: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'job_leases'")
            .fetch_one(&mut conn)
            .await
            .map_err(db_err)?;
    if has_table > 0 {
        sqlx::query("DELETE FROM job_leases WHERE job LIKE ? || '%'")
            .bind(NODE_PREFIX)
            .execute(&mut conn)
            .await
            .map_err(db_err)?;
    }
    conn.close().await.map_err(db_err)
}
