//! Sign-in limits and second-factor enrolment on PostgreSQL: `SigninStore`
//! and its SQL.
//! A reservation locks, in this order, the half-signed-in session's row,
//! then an advisory lock for the account and one for the address, so
//! reservations for the same account or address are checked and counted one
//! after another (and, always taken in the same order, cannot deadlock).

use super::{db_err, ts, ts_param, PgStore};
use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::PgConnection;
use tsunagu_domain::{AccountId, MunicipalityId};
use tsunagu_store::signin::{later, locked_until, nth_failure_offset};
use tsunagu_store::SigninStore;
use tsunagu_store::{Result, Secret, SigninAttemptId, SigninOutcome, SigninRequest, SigninReservation};

/// First keys of the two-int advisory locks: negative, so never a
/// municipality's (`lock_key`), and different for accounts and addresses.
const USER_LOCK: i32 = -0x5349_0001;
const ADDR_LOCK: i32 = -0x5349_0002;

async fn advisory_lock(tx: &mut PgConnection, class: i32, key: &str) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind(class)
        .bind(key)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// When the `max`-th newest failure of the account within the window was,
/// counting from its last full sign-in.
async fn nth_user_failure(tx: &mut PgConnection, r: &SigninRequest) -> Result<Option<Timestamp>> {
    let at: Option<String> = sqlx::query_scalar(concat!(
        "SELECT ",
        ts_col!("at"),
        " AS at_text FROM signin_attempts WHERE municipality_code = $1 AND username = $2 \
         AND at >= $3::timestamptz AND NOT success AND id > COALESCE((SELECT MAX(id) FROM signin_attempts \
         WHERE municipality_code = $1 AND username = $2 AND signed_in), 0) \
         ORDER BY signin_attempts.at DESC, signin_attempts.id DESC LIMIT 1 OFFSET $4"
    ))
    .bind(&r.municipality_code)
    .bind(&r.username)
    .bind(ts_param(r.since()))
    .bind(nth_failure_offset(r.max_failures_per_user))
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?;
    at.as_deref().map(ts).transpose()
}

/// When the `max`-th newest failure from the address within the window was.
async fn nth_addr_failure(tx: &mut PgConnection, r: &SigninRequest) -> Result<Option<Timestamp>> {
    let at: Option<String> = sqlx::query_scalar(concat!(
        "SELECT ",
        ts_col!("at"),
        " AS at_text FROM signin_attempts WHERE remote_addr = $1 AND at >= $2::timestamptz AND NOT success \
         ORDER BY signin_attempts.at DESC, signin_attempts.id DESC LIMIT 1 OFFSET $3"
    ))
    .bind(&r.remote_addr)
    .bind(ts_param(r.since()))
    .bind(nth_failure_offset(r.max_failures_per_addr))
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?;
    at.as_deref().map(ts).transpose()
}

pub(crate) async fn reserve(store: &PgStore, r: &SigninRequest) -> Result<SigninReservation> {
    let mut tx = store.pool.begin().await.map_err(db_err)?;
    let mut codes_left = None;
    if let Some(s) = &r.session {
        let taken: Option<i32> = sqlx::query_scalar(
            "SELECT code_attempts FROM sessions WHERE token_hash = $1 AND stage = 'second_factor' \
             AND municipality_id = $2 FOR UPDATE",
        )
        .bind(&s.token_hash)
        .bind(s.municipality_id.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let Some(taken) = taken.map(i64::from) else {
            return Ok(SigninReservation::SessionEnded);
        };
        if taken >= s.max_codes {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1 AND municipality_id = $2")
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
    advisory_lock(&mut tx, USER_LOCK, &format!("{}\n{}", r.municipality_code, r.username)).await?;
    advisory_lock(&mut tx, ADDR_LOCK, &r.remote_addr).await?;
    let user = nth_user_failure(&mut tx, r).await?;
    let addr = nth_addr_failure(&mut tx, r).await?;
    if let Some(until) = later(locked_until(user, r.window), locked_until(addr, r.window)) {
        return Ok(SigninReservation::Locked { until });
    }
    if let Some(s) = &r.session {
        sqlx::query(
            "UPDATE sessions SET code_attempts = code_attempts + 1 WHERE token_hash = $1 AND municipality_id = $2",
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
    sqlx::query("DELETE FROM signin_attempts WHERE at < $1::timestamptz")
        .bind(ts_param(r.since()))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO signin_attempts (municipality_code, username, remote_addr, at, success, signed_in) \
         VALUES ($1, $2, $3, $4::timestamptz, false, false) RETURNING id",
    )
    .bind(&r.municipality_code)
    .bind(&r.username)
    .bind(&r.remote_addr)
    .bind(ts_param(r.at))
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(SigninReservation::Granted { id: SigninAttemptId(id), codes_left })
}

pub(crate) async fn settle(store: &PgStore, id: SigninAttemptId, outcome: SigninOutcome) -> Result<()> {
    let q = match outcome.flags() {
        Some((success, signed_in)) => {
            sqlx::query("UPDATE signin_attempts SET success = $1, signed_in = $2 WHERE id = $3")
                .bind(success)
                .bind(signed_in)
        }
        None => sqlx::query("DELETE FROM signin_attempts WHERE id = $1"),
    };
    q.bind(id.0).execute(&store.pool).await.map_err(db_err)?;
    Ok(())
}

pub(crate) async fn pending_totp_secret(
    store: &PgStore,
    m: MunicipalityId,
    token_hash: &str,
    fresh: &Secret,
) -> Result<Option<Secret>> {
    // Sealed like an enrolled secret (bound to the session's account), so a
    // reader of the database learns none while the user enrols.
    let account: Option<i64> = sqlx::query_scalar(
        "SELECT account_id FROM sessions WHERE token_hash = $1 AND stage = 'second_factor' AND municipality_id = $2",
    )
    .bind(token_hash)
    .bind(m.0)
    .fetch_optional(&store.pool)
    .await
    .map_err(db_err)?;
    let Some(account) = account.map(AccountId) else {
        return Ok(None);
    };
    let kept: Option<String> = sqlx::query_scalar(
        "UPDATE sessions SET pending_totp_secret = COALESCE(pending_totp_secret, $1) \
         WHERE token_hash = $2 AND stage = 'second_factor' AND municipality_id = $3 RETURNING pending_totp_secret",
    )
    .bind(store.keys.seal_totp(account, fresh)?)
    .bind(token_hash)
    .bind(m.0)
    .fetch_optional(&store.pool)
    .await
    .map_err(db_err)?;
    kept.map(|k| store.keys.open_totp(account, &k)).transpose()
}

#[async_trait]
impl SigninStore for PgStore {
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
