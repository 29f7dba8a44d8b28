//! Sign-in limits as both stores keep them (security issue #8).
//!
//! Every password or code typed is first *reserved* as a failed attempt, in
//! one transaction with the check of the limits it is held to, and only then
//! checked and *settled*. So concurrent attempts cannot all pass a check made
//! before any of them was counted: at most the limit is ever evaluated.
//!
//! Failures count per account (municipality code and user name as typed)
//! from its last full sign-in, and per address, within a sliding window. A
//! password accepted while a second factor is still owed clears nothing: only
//! a full sign-in does. A code typed on a half-signed-in session also counts
//! against that session, which ends after its last allowed code.

use crate::{Result, Secret};
use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use tsunagu_domain::MunicipalityId;

/// A reserved sign-in attempt (its row in `signin_attempts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigninAttemptId(pub i64);

/// A password or code about to be checked, and the limits it is held to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigninRequest {
    /// As typed (trimmed): an unknown municipality or user is counted too.
    pub municipality_code: String,
    pub username: String,
    pub remote_addr: String,
    pub at: Timestamp,
    /// Failures older than this are forgotten.
    pub window: SignedDuration,
    /// Failures for the account within the window (since its last full sign-in) that lock it.
    pub max_failures_per_user: i64,
    /// Failures from the address within the window that refuse it.
    pub max_failures_per_addr: i64,
    /// A second-factor code typed into a half-signed-in session.
    pub session: Option<CodeSession>,
}

impl SigninRequest {
    /// The start of the window.
    pub fn since(&self) -> Timestamp {
        self.at.checked_sub(self.window).unwrap_or(self.at)
    }
}

/// The half-signed-in session a code is typed into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeSession {
    pub municipality_id: MunicipalityId,
    pub token_hash: String,
    /// Codes the session may take in all; it ends after the last.
    pub max_codes: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigninReservation {
    /// Counted as a failure until settled: check the password or code now.
    /// `codes_left` is what the session may still take after this code.
    Granted { id: SigninAttemptId, codes_left: Option<i64> },
    /// Too many failures for the account or the address until `until`;
    /// nothing was counted.
    Locked { until: Timestamp },
    /// The half-signed-in session is gone, or had taken all its codes and
    /// has now been ended.
    SessionEnded,
}

/// What a reserved attempt turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigninOutcome {
    /// A wrong password or code (or a disabled account): it stays counted.
    Failed,
    /// The right password, with a second factor still owed: no longer a
    /// failure, but the account's count goes on.
    PasswordAccepted,
    /// Fully signed in: the account's count starts again.
    SignedIn,
    /// Never checked (the service was too busy): forgotten.
    NotChecked,
}

impl SigninOutcome {
    /// The stored `(success, signed_in)` flags; `None` deletes the attempt.
    pub fn flags(self) -> Option<(bool, bool)> {
        match self {
            SigninOutcome::Failed => Some((false, false)),
            SigninOutcome::PasswordAccepted => Some((true, false)),
            SigninOutcome::SignedIn => Some((true, true)),
            SigninOutcome::NotChecked => None,
        }
    }
}

/// How many failures to skip, newest first, to reach the one whose leaving
/// the window brings the count under `max` (`OFFSET` of the stores' query).
pub fn nth_failure_offset(max: i64) -> i64 {
    max.max(1) - 1
}

/// Locked until the `max`-th newest failure in the window (if there are that
/// many) leaves it.
pub fn locked_until(nth_newest_failure: Option<Timestamp>, window: SignedDuration) -> Option<Timestamp> {
    nth_newest_failure.map(|at| at.checked_add(window).unwrap_or(at))
}

/// The later of two locks.
pub fn later(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Sign-in limits: attempts reserved before they are checked, then settled (see the module).
#[async_trait]
pub trait SigninStore: Send + Sync {
    /// Checks the sign-in limits and, if they allow, counts the attempt as a
    /// failure — one transaction, so concurrent attempts are checked one after
    /// another (see [the module](self)). With a session, also counts the code against
    /// it, ending it when it has taken all its codes. Attempts older than the
    /// window are never counted again and are forgotten as it counts (the
    /// one window serves both limits, so it is the longest they need).
    async fn reserve_signin_attempt(&self, r: &SigninRequest) -> Result<SigninReservation>;
    /// Records what a reserved attempt turned out to be.
    async fn settle_signin_attempt(&self, id: SigninAttemptId, outcome: SigninOutcome) -> Result<()>;
    /// The second-factor secret a half-signed-in session is enrolling, made by
    /// the server: the one already kept on the session, else `fresh`, kept now.
    /// `None` when there is no such half-signed-in session.
    async fn pending_totp_secret(&self, m: MunicipalityId, token_hash: &str, fresh: &Secret) -> Result<Option<Secret>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_lasts_until_the_nth_newest_failure_leaves_the_window() {
        let at: Timestamp = "2026-11-22T01:00:00Z".parse().unwrap();
        let window = SignedDuration::from_mins(15);
        assert_eq!(locked_until(None, window), None);
        assert_eq!(locked_until(Some(at), window), Some("2026-11-22T01:15:00Z".parse().unwrap()));
        assert_eq!(nth_failure_offset(5), 4);
        assert_eq!(nth_failure_offset(0), 0, "a limit of 0 or less locks at the first failure");
        assert_eq!(later(Some(at), None), Some(at));
        assert_eq!(later(None, None), None);
    }
}
