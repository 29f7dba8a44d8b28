//! TOTP secrets at rest: sealed with the store's key (see
//! `tsunagu_store::keys`); the plaintext rows of before migration 0008 are
//! sealed at start-up.

use super::migrate::lock_migrations;
use super::{db_err, get, PgStore, Result};
use tsunagu_domain::AccountId;
use tsunagu_store::keys::SEALED_PREFIX;
use tsunagu_store::Secret;

/// Seals every TOTP secret still stored in plain, in one transaction under
/// the migration lock (a second node waits, then finds nothing to do). Run
/// by `migrate`; a no-op once every row is sealed.
pub(crate) async fn seal_plaintext_totp(store: &PgStore) -> Result<()> {
    let mut tx = store.pool.begin().await.map_err(db_err)?;
    lock_migrations(&mut tx).await?;
    let rows = sqlx::query(
        "SELECT id, totp_secret FROM accounts \
         WHERE totp_secret IS NOT NULL AND substr(totp_secret, 1, $1) <> $2 FOR UPDATE",
    )
    .bind(SEALED_PREFIX.len() as i32)
    .bind(SEALED_PREFIX)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    for r in rows {
        let id = AccountId(get(&r, "id")?);
        let plain = Secret::new(get::<String>(&r, "totp_secret")?);
        sqlx::query("UPDATE accounts SET totp_secret = $1 WHERE id = $2")
            .bind(store.keys.seal_totp(id, &plain)?)
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
    }
    tx.commit().await.map_err(db_err)
}
