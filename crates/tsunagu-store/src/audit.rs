//! The audit chain in the store.

use crate::Result;
use async_trait::async_trait;
use jiff::Timestamp;
use tsunagu_domain::audit::{AuditAction, AuditContext, AuditLine};
use tsunagu_domain::{AccountId, FamilyId, MunicipalityId};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub actor: Option<AccountId>,
    pub family_id: Option<FamilyId>,
    pub action: Option<AuditAction>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// Lines with a sequence number below this (for paging backwards).
    pub before_seq: Option<i64>,
    pub limit: u32,
}

/// The audit chain: lines written for what has no method of its own, searched and read for verification.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Writes a line for something that has no store method of its own.
    async fn write_audit(
        &self,
        ctx: &AuditContext,
        action: AuditAction,
        family: Option<FamilyId>,
        detail: &str,
    ) -> Result<()>;
    /// Newest first.
    async fn search_audit(&self, m: MunicipalityId, q: &AuditQuery) -> Result<Vec<AuditLine>>;
    /// Lines in chain order after `after_seq`, for verification.
    async fn audit_lines(&self, m: MunicipalityId, after_seq: i64, limit: u32) -> Result<Vec<AuditLine>>;
    /// The (seq, hash) of the last line written.
    async fn audit_head(&self, m: MunicipalityId) -> Result<Option<(i64, String)>>;
}
