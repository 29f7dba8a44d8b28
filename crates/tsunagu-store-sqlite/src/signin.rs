//! Sign-in limits and second-factor enrolment on SQLite: `SigninStore`
//! and its SQL.
//! A reservation is one `BEGIN IMMEDIATE` transaction on the single writer,
//! so reservations are checked and counted one after another.

use super::{db_err, ts, ts_text, SqliteStore};
use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::SqliteConnection;
use tsunagu_domain::{AccountId, MunicipalityId};
use tsunagu_store::signin::{later, locked_until, nth_failure_offset};
use tsunagu_store::SigninStore;
use tsunagu_store::{Result, Secret, SigninAttemptId, SigninOutcome, SigninRequest, SigninReservation};

/// When the `max`-th newest failure of the account within the window was,
/// counting from its last full sign-in.
async fn nth_user_failure(tx: &mut SqliteConnection, r: &SigninRequest) -> Result<Option<Timestamp>> {
    let at: Option<String> = sqlx::query_scalar(
        "SELECT at FROM signin_attempts WHERE municipality_code = ? AND username = ? AND at >= ? AND success = 0 \
         AND id > COALESCE((SELECT MAX(id) FROM signin_attempts WHERE municipality_code = ? AND username = ? \
         AND signed_in = 1), 0) ORDER BY at DESC, id DESC LIMIT 1 OFFSET ?",
    )
    .bind(&r.municipality_code)
    .bind(&r.username)
    .bind(ts_text(r.since()))
    .bind(&r.municipality_code)
    .bind(&r.username)
    .bind(nth_failure_offset(r.max_failures_per_user))
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?;
    at.as_deref().map(ts).transpose()
}

/// When the `max`-th newest failure from the address within the window was.
async fn nth_addr_failure(tx: &mut SqliteConnection, r: &SigninRequest) -> Result<Option<Timestamp>> {
    let at: Option<String> = sqlx::query_scalar(
        "SELECT at FROM signin_attempts WHERE remote_addr = ? AND at >= ? AND success = 0 \
         ORDER BY at DESC, id DESC LIMIT 1 OFFSET ?",
    )
    .bind(&r.remote_addr)
    .bind(ts_text(r.since()))
    .bind(nth_failure_offset(r.max_failures_per_addr))
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?;
    at.as_deref().map(ts).transpose()
}

pub(crate) async fn reserve(store: &SqliteStore, r: &SigninRequest) -> Result<SigninReservation> {
    let mut tx = store.begin_immediate().await?;
    let mut codes_left = None;
    if let Some(s) = &r.session {
        let taken: Option<i64> = sqlx::query_scalar(
            "SELECT code_attempts FROM sessions WHERE token_hash = ? AND stage = 'second_factor' \
                 AND municipality_id = ?",
        )
        .bind(&s.token_hash)
        .bind(s.municipality_id.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let Some(taken) = taken else {
            return Ok(SigninReservation::SessionEnded);
        };
        if taken >= s.max_codes {
            sqlx::query("DELETE FROM sessions WHERE token_hash = ? AND municipality_id = ?")
                .bind(&s.token_hash)
                .bind(s.municipality_id.0)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            tx.commit().await.map_err(db_err)?;
            return Ok(SigninReservation::SessionEnded);
        }
        codes_left = Some(s.max_codes - taken - 1);
    }
    let user = nth_user_failure(&mut tx, r).await?;
    let addr = nth_addr_failure(&mut tx, r).await?;
    if let Some(until) = later(locked_until(user, r.window), locked_until(addr, r.window)) {
        return Ok(SigninReservation::Locked { until });
    }
    if let Some(s) = &r.session {
        sqlx::query(
            "UPDATE sessions SET code_attempts = code_attempts + 1 WHERE token_hash = ? AND municipality_id = ?",
        )
        .bind(&s.token_hash)
        .bind(s.municipality_id.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }
    // Nothing older than the window is ever counted again: forgotten here,
    // a range of `signin_attempts_at` (migration 0014), so the table holds
    // one window's attempts however long the service runs.
    sqlx::query("DELETE FROM signin_attempts WHERE at < ?")
        .bind(ts_text(r.since()))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO signin_attempts (municipality_code, username, remote_addr, at, success, signed_in) \
         VALUES (?, ?, ?, ?, 0, 0) RETURNING id",
    )
    .bind(&r.municipality_code)
    .bind(&r.username)
    .bind(&r.remote_addr)
    .bind(ts_text(r.at))
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(SigninReservation::Granted { id: SigninAttemptId(id), codes_left })
}

pub(crate) async fn settle(store: &SqliteStore, id: SigninAttemptId, outcome: SigninOutcome) -> Result<()> {
    let q = match outcome.flags() {
        Some((success, signed_in)) => sqlx::query("UPDATE signin_attempts SET success = ?, signed_in = ? WHERE id = ?")
            .bind(success)
            .bind(signed_in),
        None => sqlx::query("DELETE FROM signin_attempts WHERE id = ?"),
    };
    q.bind(id.0).execute(&store.writer).await.map_err(db_err)?;
    Ok(())
}

pub(crate) async fn pending_totp_secret(
    store: &SqliteStore,
    m: MunicipalityId,
    token_hash: &str,
    fresh: &Secret,
) -> Result<Option<Secret>> {
    // Sealed like an enrolled secret (bound to the session's account), so a
    // reader of the database learns none while the user enrols.
    let account: Option<i64> = sqlx::query_scalar(
        "SELECT account_id FROM sessions WHERE token_hash = ? AND stage = 'second_factor' AND municipality_id = ?",
    )
    .bind(token_hash)
    .bind(m.0)
    .fetch_optional(&store.writer)
    .await
    .map_err(db_err)?;
    let Some(account) = account.map(AccountId) else {
        return Ok(None);
    };
    let kept: Option<String> = sqlx::query_scalar(
        "UPDATE sessions SET pending_totp_secret = COALESCE(pending_totp_secret, ?) \
         WHERE token_hash = ? AND stage = 'second_factor' AND municipality_id = ? RETURNING pending_totp_secret",
    )
    .bind(store.keys.seal_totp(account, fresh)?)
    .bind(token_hash)
    .bind(m.0)
    .fetch_optional(&store.writer)
    .await
    .map_err(db_err)?;
    kept.map(|k| store.keys.open_totp(account, &k)).transpose()
}

#[async_trait]
impl SigninStore for SqliteStore {
    async fn reserve_signin_attempt(&self, r: &SigninRequest) -> Result<SigninReservation> {
        reserve(self, r).await
    }

    async fn settle_signin_attempt(&self, id: SigninAttemptId, outcome: SigninOutcome) -> Result<()> {
        settle(self, id, outcome).await
    }

    async fn pending_totp_secret(&self, m: MunicipalityId, token_hash: &str, fresh: &Secret) -> Result<Option<Secret>> {
        pending_totp_secret(self, m, token_hash, fresh).await
    }
}
