//! Sign-in, shared by the pages and the API: password, limits, second
//! factor, and the start of a session.
//!
//! Every password or code is first reserved in the store as a failed
//! attempt — checked against the limits and counted in one transaction —
//! then checked, then settled (see `tsunagu_store::signin`). Failures count
//! per account (wrong passwords and wrong codes alike, from its last full
//! sign-in) and per address; a half-signed-in session also takes at most
//! `max_codes_per_session` codes. Password hashing waits for a turn
//! ([`crate::base::auth::HashLimiter`]).

use crate::base::auth;
use crate::base::error::AppError;
use crate::base::AppState;
use axum::Router;
use jiff::{SignedDuration, Timestamp};
use tsunagu_domain::audit::AuditAction;
use tsunagu_domain::municipality::MunicipalityCode;
use tsunagu_store::{
    session_token, token_hash, Account, CodeSession, Secret, Session, SessionStage, SigninAttemptId, SigninOutcome,
    SigninRequest, SigninReservation,
};

pub mod api;
mod api_doc;
pub mod pages;

/// What this capability's API operations are, for the API's OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    <api_doc::ApiDoc as utoipa::OpenApi>::openapi()
}

/// The sign-in pages and token endpoints.
pub fn routes() -> Router<AppState> {
    Router::new().merge(api::routes()).merge(pages::routes())
}

fn request(
    state: &AppState,
    municipality_code: &str,
    username: &str,
    remote_addr: &str,
    now: Timestamp,
    session: Option<CodeSession>,
) -> SigninRequest {
    SigninRequest {
        municipality_code: municipality_code.to_owned(),
        username: username.to_owned(),
        remote_addr: remote_addr.to_owned(),
        at: now,
        window: SignedDuration::try_from(state.config.signin_window).unwrap_or(SignedDuration::ZERO),
        max_failures_per_user: state.config.max_failed_signins_per_user,
        max_failures_per_addr: state.config.max_failed_signins_per_addr,
        session,
    }
}

/// Refused until `until`: whole seconds to wait, at least one.
fn locked(until: Timestamp, now: Timestamp) -> AppError {
    let left = until.duration_since(now);
    let secs = left.as_secs() + i64::from(left.subsec_nanos() > 0);
    AppError::Locked { retry_after_secs: u64::try_from(secs).unwrap_or(0).max(1) }
}

/// A password accepted: the account, and its attempt, which the caller
/// settles once it knows whether the sign-in is complete.
#[derive(Debug)]
pub struct PasswordAccepted {
    pub account: Account,
    pub attempt: SigninAttemptId,
}

impl PasswordAccepted {
    /// Whether a second factor is owed (staff always; others once enrolled).
    pub fn needs_second_factor(&self) -> bool {
        self.account.role.is_staff() || self.account.totp_secret.is_some()
    }
}

/// Checks a password sign-in, within the limits. Attempts are logged
/// without the user name; failures say nothing about which part was wrong.
pub async fn check_password(
    state: &AppState,
    remote_addr: &str,
    municipality_code: &str,
    username: &str,
    password: &str,
    now: Timestamp,
) -> Result<PasswordAccepted, AppError> {
    let code = municipality_code.trim();
    let username = username.trim();
    // A code that does not parse (six digits with their check digit; a NUL
    // or any other character PostgreSQL would refuse to store among them)
    // is refused before anything is reserved or stored: it names no
    // municipality, so it can be no one's attempt. The format is public.
    let Ok(parsed) = MunicipalityCode::parse(code) else {
        return Err(AppError::BadRequest("bad_municipality_code"));
    };
    if username.is_empty() || username.len() > 100 || password.len() > 1024 {
        return Err(AppError::BadRequest("invalid_credentials"));
    }
    let attempt =
        match state.store.reserve_signin_attempt(&request(state, code, username, remote_addr, now, None)).await? {
            SigninReservation::Granted { id, .. } => id,
            SigninReservation::Locked { until } => {
                tracing::warn!(municipality.code = code, outcome = "rate_limited", "sign-in refused");
                return Err(locked(until, now));
            }
            SigninReservation::SessionEnded => return Err(AppError::Internal),
        };
    let account = match state.store.municipality_by_code(parsed).await? {
        Some(m) => state.store.account_by_username(m.id, username).await?,
        None => None,
    };
    let hash = account.as_ref().map(|a| a.password_hash.clone());
    let ok = match auth::verify_password_blocking(&state.hashing, password.to_owned(), hash).await {
        Ok(ok) => ok,
        Err(e) => {
            // Never checked: the attempt is forgotten, the caller asked to come back.
            state.store.settle_signin_attempt(attempt, SigninOutcome::NotChecked).await?;
            return Err(e.into());
        }
    };
    match account.filter(|a| ok && !a.disabled) {
        Some(account) => {
            tracing::info!(municipality.code = code, account.id = account.id.0, outcome = "password_ok", "sign-in");
            Ok(PasswordAccepted { account, attempt })
        }
        None => {
            tracing::info!(municipality.code = code, outcome = "failed", "sign-in");
            Err(AppError::BadRequest("invalid_credentials"))
        }
    }
}

/// Records what a reserved attempt turned out to be.
pub async fn settle(state: &AppState, attempt: SigninAttemptId, outcome: SigninOutcome) -> Result<(), AppError> {
    Ok(state.store.settle_signin_attempt(attempt, outcome).await?)
}

/// Checks a code for an enrolled secret, refusing one already used.
async fn code_accepted(
    state: &AppState,
    account: &Account,
    secret: &str,
    code: &str,
    now: Timestamp,
) -> Result<bool, AppError> {
    Ok(match auth::check_totp(secret, code, now) {
        Some(step) => state.store.use_totp_step(account.municipality_id, account.id, step).await?,
        None => false,
    })
}

/// The second factor typed with the password (the API): one attempt covers
/// both, settled here — signed in, or a failure that counts.
pub async fn second_factor_with_password(
    state: &AppState,
    signed: &PasswordAccepted,
    code: Option<&str>,
    now: Timestamp,
) -> Result<(), AppError> {
    let account = &signed.account;
    let (Some(code), Some(secret)) = (code, &account.totp_secret) else {
        // Staff must enrol a second factor in the pages before using the API.
        settle(state, signed.attempt, SigninOutcome::PasswordAccepted).await?;
        return Err(AppError::BadRequest("otp_required"));
    };
    if code_accepted(state, account, secret.expose(), code, now).await? {
        settle(state, signed.attempt, SigninOutcome::SignedIn).await
    } else {
        tracing::info!(account.id = account.id.0, outcome = "otp_failed", "sign-in");
        Err(AppError::BadRequest("invalid_otp"))
    }
}

/// What a code typed into a half-signed-in session came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// Right: the caller starts the full session.
    Accepted,
    /// Wrong; the session may take more codes.
    Wrong,
    /// The session had its last code (or was gone) and has ended.
    SessionEnded,
}

/// Which secret a half-signed-in session's code is checked against.
pub enum CodeFor<'a> {
    /// The account's enrolled second factor.
    Enrolled,
    /// Enrolment: the secret the server made and keeps on the session,
    /// stored on the account when its code is right.
    Enrolling(&'a Secret),
}

/// A code typed into a half-signed-in session (the pages), within the
/// account's and the address's limits and the session's own.
pub async fn second_factor_on_session(
    state: &AppState,
    remote_addr: &str,
    account: &Account,
    session: &Session,
    code: &str,
    secret: CodeFor<'_>,
    now: Timestamp,
) -> Result<CodeCheck, AppError> {
    let m = state.store.municipality(account.municipality_id).await?.ok_or(AppError::Unauthenticated)?;
    let half = CodeSession {
        municipality_id: session.municipality_id,
        token_hash: session.token_hash.clone(),
        max_codes: state.config.max_codes_per_session,
    };
    let r = request(state, &m.code.to_string(), &account.username, remote_addr, now, Some(half));
    let codes_left = match state.store.reserve_signin_attempt(&r).await? {
        SigninReservation::Granted { id, codes_left } => {
            let accepted = match secret {
                CodeFor::Enrolled => match &account.totp_secret {
                    Some(s) => code_accepted(state, account, s.expose(), code, now).await?,
                    None => false,
                },
                CodeFor::Enrolling(s) => match auth::check_totp(s.expose(), code, now) {
                    Some(step) => {
                        state.store.set_totp_secret(None, account.id, Some(s)).await?;
                        state.store.use_totp_step(account.municipality_id, account.id, step).await?
                    }
                    None => false,
                },
            };
            if accepted {
                settle(state, id, SigninOutcome::SignedIn).await?;
                return Ok(CodeCheck::Accepted);
            }
            codes_left
        }
        SigninReservation::Locked { until } => {
            tracing::warn!(account.id = account.id.0, outcome = "rate_limited", "second factor refused");
            return Err(locked(until, now));
        }
        SigninReservation::SessionEnded => return Ok(CodeCheck::SessionEnded),
    };
    tracing::info!(account.id = account.id.0, outcome = "otp_failed", "sign-in");
    if codes_left.is_some_and(|left| left <= 0) {
        state.store.delete_session(session.municipality_id, &session.token_hash).await?;
        tracing::warn!(account.id = account.id.0, outcome = "session_ended", "too many codes on one sign-in");
        return Ok(CodeCheck::SessionEnded);
    }
    Ok(CodeCheck::Wrong)
}

/// Starts a new session (a new token every sign-in) and returns its token.
pub async fn start_session(
    state: &AppState,
    account: &Account,
    stage: SessionStage,
    remote_addr: &str,
    now: Timestamp,
) -> Result<String, AppError> {
    // The token names the account's municipality (so its session is found
    // among that municipality's rows alone) before its random part.
    let token = session_token(account.municipality_id, &auth::random_token()?);
    state
        .store
        .create_session(&Session {
            municipality_id: account.municipality_id,
            token_hash: token_hash(&token),
            account_id: account.id,
            stage,
            csrf_token: Secret::new(auth::random_token()?),
            created_at: now,
            last_seen_at: now,
        })
        .await?;
    if stage == SessionStage::Full && account.role.is_staff() {
        // Signing in reads or changes no person: no policy decision stands behind this line.
        let ctx = crate::base::session::audit_ctx(account, remote_addr, "sign-in", now).without_a_policy_decision();
        state.store.write_audit(&ctx, AuditAction::SignIn, None, "").await?;
    }
    Ok(token)
}
