//! The storage contract of tsunagu.
//!
//! The web service is written against [`Store`] only: the sum of one trait
//! per capability (accounts, sign-in limits, records, postpartum care, care,
//! timeline, meetings, screening, audit), each in its module beside its
//! records; callers bring the traits into scope with [`prelude`].
//! `tsunagu-store-sqlite` (the embedded default) and `tsunagu-store-postgres`
//! (production) implement every one, each with its own migrations. `open` in
//! the binary picks one from the URL scheme.
//!
//! Architecture invariants:
//! - every method that reads or changes a person's record takes an
//!   [`AuditContext`](tsunagu_domain::audit::AuditContext) and writes its audit line: in the same transaction as a
//!   change, and before the answer for a read (SQLite reads through its reader
//!   pool, then appends the line through the single writer before returning);
//! - every query is bounded by a municipality id: no method can return rows
//!   of two municipalities;
//! - no method logs personal data.

use async_trait::async_trait;
use std::fmt;

pub mod accounts;
pub mod audit;
pub mod bulk;
pub mod care;
pub mod chat;
pub mod classes;
pub mod group_commit;
pub mod kept;
pub mod keys;
pub mod line;
pub mod local_places;
pub mod meetings;
pub mod migrations;
pub mod ops;
pub mod postpartum;
pub mod push;
pub mod records;
pub mod reminders;
pub mod reports;
pub mod screening;
pub mod signin;
pub mod timeline;

pub use accounts::*;
pub use audit::*;
pub use care::*;
pub use chat::*;
pub use classes::*;
pub use line::{LineChannel, LineLink, LinePush, LineStore};
pub use local_places::*;
pub use meetings::*;
pub use ops::{Lease, OpsStore, PoolStats, SchemaStatus, WakeListener};
pub use postpartum::*;
pub use push::{PushStore, PushTarget};
pub use records::*;
pub use reminders::{ReminderCandidate, ReminderKey, ReminderStore};
pub use reports::*;
pub use screening::*;
pub use timeline::*;

pub use signin::{CodeSession, SigninAttemptId, SigninOutcome, SigninRequest, SigninReservation, SigninStore};

pub use keys::StoreKeys;

pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// The change contradicts what is stored; the code says what
    /// (`duplicate_notification`, `username_taken`, `pregnancy_not_ongoing`, …).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The input does not pass the checks made against what is stored, read
    /// inside the change's own transaction (a birth against its pregnancy,
    /// an approval against the record): the fields that do not, as the
    /// domain's checks name them.
    #[error("invalid input")]
    Invalid(tsunagu_domain::validation::FieldErrors),
    /// A reference to something that is not there (or is in another municipality).
    #[error("invalid reference: {0}")]
    InvalidReference(&'static str),
    /// The database cannot be reached; the request may succeed later.
    #[error("database unavailable")]
    Unavailable(#[source] BoxError),
    /// A person was to be read or changed outside what the policy's decision
    /// behind the context was about (`AuditContext::covers`); nothing was done.
    #[error(transparent)]
    OutsideTheDecision(#[from] tsunagu_domain::audit::OutsideTheDecision),
    #[error("database error")]
    Other(#[source] BoxError),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A string that never prints: password hashes, TOTP secrets.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// What every store is, whatever it holds: which back end, its migrations, whether it answers.
#[async_trait]
pub trait StoreBackend: Send + Sync {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;
    /// Applies pending migrations; refuses to start if an applied one changed.
    async fn migrate(&self) -> Result<()>;
    /// Answers when the database can be reached.
    async fn ping(&self) -> Result<()>;
}

/// The whole store: every capability. The web service holds an
/// `Arc<dyn Store>`; a caller names the capability traits it calls through
/// [`prelude`] (methods of a trait are only callable with it in scope).
pub trait Store:
    StoreBackend
    + AccountStore
    + SigninStore
    + RecordStore
    + PostpartumStore
    + CareStore
    + ChatStore
    + LineStore
    + TimelineStore
    + MeetingStore
    + ScreeningStore
    + AuditStore
    + OpsStore
    + ClassStore
    + ReportStore
    + LocalPlaceStore
    + ReminderStore
    + PushStore
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: StoreBackend
        + AccountStore
        + SigninStore
        + RecordStore
        + PostpartumStore
        + CareStore
        + ChatStore
        + LineStore
        + TimelineStore
        + MeetingStore
        + ScreeningStore
        + AuditStore
        + OpsStore
        + ClassStore
        + ReportStore
        + LocalPlaceStore
        + ReminderStore
        + PushStore
        + Send
        + Sync
        + 'static
{
}

/// Every capability trait, for `use tsunagu_store::prelude::*;`: in scope
/// for their methods, without their names (so they clash with nothing the
/// caller names itself); `Store` by name.
pub mod prelude {
    pub use crate::AccountStore as _;
    pub use crate::AuditStore as _;
    pub use crate::CareStore as _;
    pub use crate::ChatStore as _;
    pub use crate::ClassStore as _;
    pub use crate::LineStore as _;
    pub use crate::LocalPlaceStore as _;
    pub use crate::MeetingStore as _;
    pub use crate::OpsStore as _;
    pub use crate::PostpartumStore as _;
    pub use crate::PushStore as _;
    pub use crate::RecordStore as _;
    pub use crate::ReminderStore as _;
    pub use crate::ReportStore as _;
    pub use crate::ScreeningStore as _;
    pub use crate::SigninStore as _;
    pub use crate::Store;
    pub use crate::StoreBackend as _;
    pub use crate::TimelineStore as _;
}
