//! Sign-in, shared by the pages and the API: password, rate limit, second
//! factor, and the start of a session.

use crate::auth;
use crate::error::AppError;
use crate::AppState;
use jiff::{SignedDuration, Timestamp};
use tsunagu_domain::audit::AuditAction;
use tsunagu_domain::municipality::MunicipalityCode;
use tsunagu_store::{token_hash, Account, Secret, Session, SessionStage, SigninAttempt};

/// Checks a password sign-in. Every attempt is recorded (for the rate
/// limit) and logged without the user name; failures say nothing about
/// which part was wrong.
pub async fn check_password(
    state: &AppState,
    remote_addr: &str,
    municipality_code: &str,
    username: &str,
    password: &str,
    now: Timestamp,
) -> Result<Account, AppError> {
    let window = SignedDuration::try_from(state.config.signin_window).unwrap_or(SignedDuration::ZERO);
    let since = now.checked_sub(window).unwrap_or(now);
    let code = municipality_code.trim();
    let username = username.trim();
    if username.is_empty() || username.len() > 100 || password.len() > 1024 {
        return Err(AppError::BadRequest("invalid_credentials"));
    }
    if state.store.failed_signins_from(remote_addr, since).await? >= state.config.max_failed_signins_per_addr
        || state.store.failed_signins_for_user(code, username, since).await? >= state.config.max_failed_signins_per_user
    {
        tracing::warn!(municipality.code = code, outcome = "rate_limited", "sign-in refused");
        return Err(AppError::TooManyAttempts);
    }
    let account = match MunicipalityCode::parse(code) {
        Ok(c) => match state.store.municipality_by_code(c).await? {
            Some(m) => state.store.account_by_username(m.id, username).await?,
            None => None,
        },
        Err(_) => None,
    };
    let ok =
        auth::verify_password_blocking(password.to_owned(), account.as_ref().map(|a| a.password_hash.clone())).await;
    let account = account.filter(|a| ok && !a.disabled);
    state
        .store
        .record_signin_attempt(&SigninAttempt {
            municipality_code: code.to_owned(),
            username: username.to_owned(),
            remote_addr: remote_addr.to_owned(),
            at: now,
            success: account.is_some(),
        })
        .await?;
    match account {
        Some(a) => {
            tracing::info!(municipality.code = code, account.id = a.id.0, outcome = "password_ok", "sign-in");
            Ok(a)
        }
        None => {
            tracing::info!(municipality.code = code, outcome = "failed", "sign-in");
            Err(AppError::BadRequest("invalid_credentials"))
        }
    }
}

/// Checks a TOTP code for an account with an enrolled secret, refusing a
/// code already used. A wrong code counts as a failed sign-in.
pub async fn check_second_factor(
    state: &AppState,
    remote_addr: &str,
    account: &Account,
    code: &str,
    now: Timestamp,
) -> Result<(), AppError> {
    let Some(secret) = &account.totp_secret else {
        return Err(AppError::BadRequest("otp_required"));
    };
    let accepted = match auth::check_totp(secret.expose(), code, now) {
        Some(step) => state.store.use_totp_step(account.id, step).await?,
        None => false,
    };
    if !accepted {
        let m = state.store.municipality(account.municipality_id).await?;
        state
            .store
            .record_signin_attempt(&SigninAttempt {
                municipality_code: m.map(|m| m.code.to_string()).unwrap_or_default(),
                username: account.username.clone(),
                remote_addr: remote_addr.to_owned(),
                at: now,
                success: false,
            })
            .await?;
        tracing::info!(account.id = account.id.0, outcome = "otp_failed", "sign-in");
        return Err(AppError::BadRequest("invalid_otp"));
    }
    Ok(())
}

/// Starts a new session (a new token every sign-in) and returns its token.
pub async fn start_session(
    state: &AppState,
    account: &Account,
    stage: SessionStage,
    remote_addr: &str,
    now: Timestamp,
) -> Result<String, AppError> {
    let token = auth::random_token()?;
    state
        .store
        .create_session(&Session {
            token_hash: token_hash(&token),
            account_id: account.id,
            stage,
            csrf_token: Secret::new(auth::random_token()?),
            created_at: now,
            last_seen_at: now,
        })
        .await?;
    if stage == SessionStage::Full && account.role.is_staff() {
        let ctx = crate::session::audit_ctx(account, remote_addr, "sign-in", now);
        state.store.write_audit(&ctx, AuditAction::SignIn, None, "").await?;
    }
    Ok(token)
}
