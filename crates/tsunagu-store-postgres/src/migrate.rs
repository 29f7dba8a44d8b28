//! The migration runner: sqlx's own migrator over the embedded
//! [`MIGRATIONS`](crate::MIGRATIONS), after taking over a database made by
//! the runner we had before (see `tsunagu_store::migrations`).
//!
//! Several nodes may start at once: the takeover and then sqlx's run each
//! hold sqlx's migration lock (a session advisory lock), so a second node
//! waits, then finds the work done. sqlx does not let go of that lock when a
//! migration fails, so the run has a connection of its own, closed when it
//! ends.

use crate::{db_err, PgStore};
use sqlx::error::BoxDynError;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection};
use sqlx_core::migrate::{Migrate, MigrateError, MigrationSource, MigrationType, Migrator};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use tsunagu_store::migrations::{take_over, Migration, MigrationError};
use tsunagu_store::{Result, StoreError};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Key of the advisory lock the old runner held while migrating ("tsunagu"
/// in ASCII); the takeover takes it too, so that a node of the old build
/// migrating at the same moment finishes first.
const OLD_RUNNER_LOCK: i64 = 0x0074_7375_6e61_6775;

/// Takes the transaction-scoped lock of the old runner: held by the takeover
/// and by the start-up steps after the migrations (sealing TOTP secrets), so
/// that of several nodes starting at once one does the work and the others
/// find it done.
pub(crate) async fn lock_migrations(tx: &mut PgConnection) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(OLD_RUNNER_LOCK).execute(&mut *tx).await.map_err(db_err)?;
    Ok(())
}

impl PgStore {
    /// Applies `migrations` in list order: each one not yet applied, in a
    /// transaction of its own; refuses when one that was applied has changed.
    /// The service applies [`MIGRATIONS`](crate::MIGRATIONS) through
    /// `Store::migrate`; tests pass lists with an edited or a failing one.
    pub async fn migrate_with(&self, migrations: &[Migration]) -> Result<()> {
        let migrator = migrator(migrations).await?;
        // A pool of one connection of its own (the migrator is given a pool,
        // not a connection: rustc proves the future `Send` then). Closing it
        // ends the session, and with it the migration lock, however the run
        // ended.
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with((*self.pool.connect_options()).clone())
            .await
            .map_err(db_err)?;
        let outcome = async {
            let mut conn = pool.acquire().await.map_err(db_err)?;
            conn.lock().await.map_err(migrate_err)?;
            take_over_old_runner(&mut conn, migrations).await?;
            conn.unlock().await.map_err(migrate_err)?;
            drop(conn);
            migrator.run(&pool).await.map_err(migrate_err)
        }
        .await;
        pool.close().await;
        outcome
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
async fn take_over_old_runner(conn: &mut PgConnection, migrations: &[Migration]) -> Result<()> {
    let mut tx = conn.begin().await.map_err(db_err)?;
    lock_migrations(&mut tx).await?;
    let old: bool = sqlx::query_scalar("SELECT to_regclass('schema_migrations') IS NOT NULL")
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
    if !old {
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
             SELECT version, $1, applied_at, TRUE, $2, -1 FROM schema_migrations WHERE version = $3",
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
