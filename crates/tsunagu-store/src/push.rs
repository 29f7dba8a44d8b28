//! Web push (#10): a family member's browser subscriptions, which the
//! reminders job pushes to (`tsunagu::push`). The endpoint is a capability
//! (whoever has it can push to the browser): it is never in an audit line
//! or a log, and `PushTarget` does not print it.

use crate::Result;
use async_trait::async_trait;
use std::fmt;
use tsunagu_domain::audit::AuditContext;
use tsunagu_domain::push::Subscription;
use tsunagu_domain::{AccountId, FamilyId, MunicipalityId};

/// A subscription as the job reads it.
#[derive(Clone, PartialEq, Eq)]
pub struct PushTarget {
    pub id: i64,
    pub subscription: Subscription,
}

impl fmt::Debug for PushTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PushTarget({})", self.id)
    }
}

#[async_trait]
pub trait PushStore: Send + Sync {
    /// Keeps the caller's browser subscription for its family (an endpoint
    /// seen before is taken over by this account: a browser is one person's
    /// at a time), and makes sure the account has reminder settings (off for
    /// e-mail, one day ahead) so the job knows how far ahead to push; one
    /// `push.subscribe` line in the same transaction, without the endpoint.
    async fn add_push_subscription(&self, ctx: &AuditContext, family: FamilyId, s: &Subscription) -> Result<()>;
    /// Removes the caller's own subscription with this endpoint (true when
    /// there was one); one `push.unsubscribe` line in the same transaction.
    async fn remove_push_subscription(&self, ctx: &AuditContext, family: FamilyId, endpoint: &str) -> Result<bool>;
    /// The subscriptions of an account, for the job (not audited: no user's
    /// action, and nothing of a person is read).
    async fn push_targets(&self, m: MunicipalityId, account: AccountId) -> Result<Vec<PushTarget>>;
    /// Deletes a subscription the push service said is gone (404, 410).
    async fn drop_push_subscription(&self, m: MunicipalityId, id: i64) -> Result<()>;
}
