//! TOTP secrets at rest: sealed with the store's key (see
//! `tsunagu_store::keys`); the plaintext rows of before migration 0008 are
//! sealed at start-up.

use super::{db_err, Result, SqliteStore};
use sqlx::Row;
use tsunagu_domain::AccountId;
use tsunagu_store::keys::SEALED_PREFIX;
use tsunagu_store::Secret;

/// Seals every TOTP secret still stored in plain, in one transaction. Run
/// by `migrate`; a no-op once every row is sealed.
pub(crate) async fn seal_plaintext_totp(store: &SqliteStore) -> Result<()> {
    let mut tx = store.writer.begin().await.map_err(db_err)?;
    let rows = sqlx::query(
        "SELECT id, totp_secret FROM accounts WHERE totp_secret IS NOT NULL AND substr(totp_secret, 1, ?) <> ?",
    )
    .bind(SEALED_PREFIX.len() as i64)
    .bind(SEALED_PREFIX)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    for r in rows {
        let id = AccountId(r.try_get(0).map_err(db_err)?);
        let plain = Secret::new(r.try_get::<String, _>(1).map_err(db_err)?);
        sqlx::query("UPDATE accounts SET totp_secret = ? WHERE id = ?")
            .bind(store.keys.seal_totp(id, &plain)?)
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
    }
    tx.commit().await.map_err(db_err)
}
