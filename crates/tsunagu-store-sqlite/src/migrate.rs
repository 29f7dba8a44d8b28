//! The migration runner: sqlx's own migrator over the embedded
//! [`MIGRATIONS`](crate::MIGRATIONS), after taking over a database made by
//! the runner we had before (see `tsunagu_store::migrations`).
//!
//! Everything runs on the one writer connection, so nothing else in this
//! process writes meanwhile (sqlx takes no lock on SQLite; two processes on
//! one file are not a supported deployment).

use crate::{db_err, SqliteStore};
use sqlx::error::BoxDynError;
use sqlx::{Connection, SqliteConnection};
use sqlx_core::migrate::{Migrate, MigrateError, MigrationSource, MigrationType, Migrator};
use std::future::Future;
use std::pin::Pin;
use tsunagu_store::migrations::{take_over, Migration, MigrationError};
use tsunagu_store::{Result, StoreError};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl SqliteStore {
    /// Applies `migrations` in list order: each one not yet applied, in a
    /// transaction of its own; refuses when one that was applied has changed.
    /// The service applies [`MIGRATIONS`](crate::MIGRATIONS) through
    /// `Store::migrate`; tests pass lists with an edited or a failing one.
    pub async fn migrate_with(&self, migrations: &[Migration]) -> Result<()> {
        let migrator = migrator(migrations).await?;
        let mut conn = self.writer.acquire().await.map_err(db_err)?;
        take_over_old_runner(&mut conn, migrations).await?;
        // Back to the pool, where the migrator takes it again (given the
        // pool, not the connection: rustc proves the future `Send` then).
        drop(conn);
        migrator.run(&self.writer).await.map_err(migrate_err)
    }
}

/// The embedded migrations, as sqlx's migrator reads them.
#[derive(Debug)]
struct Embedded(Vec<sqlx_core::migrate::Migration>);

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<sqlx_core::migrate::Migration>, BoxDynError>> {
        Box::pin(async move { Ok(self.0) })
    }
}

/// sqlx's migrator over `migrations`, in list order.
async fn migrator(migrations: &[Migration]) -> Result<Migrator> {
    let mut migrator = Migrator::new(Embedded(migrations.iter().map(for_sqlx).collect())).await.map_err(migrate_err)?;
    // As before sqlx: a version this build does not have (a newer build
    // migrated the database: a rolling restart, a rollback) is no reason to
    // refuse to start.
    migrator.set_ignore_missing(true);
    Ok(migrator)
}

fn for_sqlx(m: &Migration) -> sqlx_core::migrate::Migration {
    sqlx_core::migrate::Migration::new(m.version, m.name.into(), MigrationType::Simple, m.sql.into(), false)
}

fn migrate_err(e: MigrateError) -> StoreError {
    match e {
        MigrateError::Execute(e) => db_err(e),
        MigrateError::VersionMismatch(version) => StoreError::Other(Box::new(MigrationError::Changed { version })),
        e => StoreError::Other(Box::new(e)),
    }
}

/// If the old runner's table is there, records what it applied in sqlx's
/// table (with sqlx's checksum of the same SQL and the old time of
/// application) and drops it, all in one transaction; nothing is run again.
async fn take_over_old_runner(conn: &mut SqliteConnection, migrations: &[Migration]) -> Result<()> {
    let mut tx = conn.begin().await.map_err(db_err)?;
    let old: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
    if old == 0 {
        return Ok(());
    }
    let recorded: Vec<(i64, String)> =
        sqlx::query_as("SELECT version, checksum FROM schema_migrations ORDER BY version")
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
    let applied = take_over(migrations, &recorded).map_err(|e| StoreError::Other(Box::new(e)))?;
    tx.ensure_migrations_table().await.map_err(migrate_err)?;
    for m in applied {
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) \
             SELECT version, ?, applied_at, TRUE, ?, -1 FROM schema_migrations WHERE version = ?",
        )
        .bind(m.name)
        .bind(&*for_sqlx(m).checksum)
        .bind(m.version)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }
    sqlx::query("DROP TABLE schema_migrations").execute(&mut *tx).await.map_err(db_err)?;
    tx.commit().await.map_err(db_err)
}
