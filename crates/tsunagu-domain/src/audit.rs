//! The audit log: one append-only line for every staff read or change of a
//! person's record, chained by SHA-256 so that a line edited or removed
//! behind the product's back breaks the chain. One chain per municipality.

use crate::roles::Role;
use crate::{AccountId, FamilyId, MunicipalityId};
use jiff::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash before the first line of a chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What was done. Stored as the dotted string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AuditAction {
    FamilySearch,
    FamilyView,
    FamilyCreate,
    BirthRecord,
    AccountCreate,
    AccountDisable,
    AccountEnable,
    AccountPasswordReset,
    AccountTotpReset,
    AuditSearch,
    SignIn,
    PostpartumApply,
    PostpartumList,
    PostpartumView,
    PostpartumApprove,
    PostpartumReject,
    PostpartumCancel,
    PostpartumNote,
    ReferralRaise,
    ReferralList,
    ReferralUpdate,
    FollowupBook,
    FollowupList,
    FollowupCancel,
    TalkJoin,
    IncidentReport,
    IncidentList,
    PregnancyUpdate,
    TimelineView,
    ContactOutcome,
    WorkList,
    ScreeningRecord,
    ScreeningList,
    ScreeningView,
    HandbookList,
    HandbookMeeting,
    GroupList,
    GroupSession,
    GroupAttendance,
}

impl AuditAction {
    pub const ALL: [AuditAction; 39] = [
        AuditAction::FamilySearch,
        AuditAction::FamilyView,
        AuditAction::FamilyCreate,
        AuditAction::BirthRecord,
        AuditAction::AccountCreate,
        AuditAction::AccountDisable,
        AuditAction::AccountEnable,
        AuditAction::AccountPasswordReset,
        AuditAction::AccountTotpReset,
        AuditAction::AuditSearch,
        AuditAction::SignIn,
        AuditAction::PostpartumApply,
        AuditAction::PostpartumList,
        AuditAction::PostpartumView,
        AuditAction::PostpartumApprove,
        AuditAction::PostpartumReject,
        AuditAction::PostpartumCancel,
        AuditAction::PostpartumNote,
        AuditAction::ReferralRaise,
        AuditAction::ReferralList,
        AuditAction::ReferralUpdate,
        AuditAction::FollowupBook,
        AuditAction::FollowupList,
        AuditAction::FollowupCancel,
        AuditAction::TalkJoin,
        AuditAction::IncidentReport,
        AuditAction::IncidentList,
        AuditAction::PregnancyUpdate,
        AuditAction::TimelineView,
        AuditAction::ContactOutcome,
        AuditAction::WorkList,
        AuditAction::ScreeningRecord,
        AuditAction::ScreeningList,
        AuditAction::ScreeningView,
        AuditAction::HandbookList,
        AuditAction::HandbookMeeting,
        AuditAction::GroupList,
        AuditAction::GroupSession,
        AuditAction::GroupAttendance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::FamilySearch => "family.search",
            AuditAction::FamilyView => "family.view",
            AuditAction::FamilyCreate => "family.create",
            AuditAction::BirthRecord => "family.birth",
            AuditAction::AccountCreate => "account.create",
            AuditAction::AccountDisable => "account.disable",
            AuditAction::AccountEnable => "account.enable",
            AuditAction::AccountPasswordReset => "account.password_reset",
            AuditAction::AccountTotpReset => "account.totp_reset",
            AuditAction::AuditSearch => "audit.search",
            AuditAction::SignIn => "account.sign_in",
            AuditAction::PostpartumApply => "postpartum.apply",
            AuditAction::PostpartumList => "postpartum.list",
            AuditAction::PostpartumView => "postpartum.view",
            AuditAction::PostpartumApprove => "postpartum.approve",
            AuditAction::PostpartumReject => "postpartum.reject",
            AuditAction::PostpartumCancel => "postpartum.cancel",
            AuditAction::PostpartumNote => "postpartum.note",
            AuditAction::ReferralRaise => "referral.raise",
            AuditAction::ReferralList => "referral.list",
            AuditAction::ReferralUpdate => "referral.update",
            AuditAction::FollowupBook => "followup.book",
            AuditAction::FollowupList => "followup.list",
            AuditAction::FollowupCancel => "followup.cancel",
            AuditAction::TalkJoin => "talk.join",
            AuditAction::IncidentReport => "incident.report",
            AuditAction::IncidentList => "incident.list",
            AuditAction::PregnancyUpdate => "family.pregnancy",
            AuditAction::TimelineView => "timeline.view",
            AuditAction::ContactOutcome => "timeline.outcome",
            AuditAction::WorkList => "timeline.worklist",
            AuditAction::ScreeningRecord => "screening.record",
            AuditAction::ScreeningList => "screening.list",
            AuditAction::ScreeningView => "screening.view",
            AuditAction::HandbookList => "meeting.handbook_list",
            AuditAction::HandbookMeeting => "meeting.handbook",
            AuditAction::GroupList => "group.list",
            AuditAction::GroupSession => "group.session",
            AuditAction::GroupAttendance => "group.attendance",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// Who is doing it, from where and why: passed to every store method that
/// reads or changes a person, so that no such method can skip its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditContext {
    pub municipality_id: MunicipalityId,
    pub actor: AccountId,
    pub role: Role,
    pub remote_addr: String,
    pub reason: String,
    pub at: Timestamp,
}

/// A line as it is chained and stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditLine {
    pub seq: i64,
    pub municipality_id: MunicipalityId,
    pub at: Timestamp,
    pub actor: AccountId,
    pub role: String,
    pub action: String,
    pub family_id: Option<FamilyId>,
    /// A non-personal detail: an account id acted upon, a count of results.
    pub detail: String,
    pub reason: String,
    pub remote_addr: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of a line given the hash of the line before it. Fields are
/// joined with a separator that cannot appear in them (U+001F).
#[allow(clippy::too_many_arguments)]
pub fn line_hash(
    prev_hash: &str,
    seq: i64,
    municipality_id: MunicipalityId,
    at: Timestamp,
    actor: AccountId,
    role: &str,
    action: &str,
    family_id: Option<FamilyId>,
    detail: &str,
    reason: &str,
    remote_addr: &str,
) -> String {
    let mut h = Sha256::new();
    let family = family_id.map(|f| f.0.to_string()).unwrap_or_default();
    let at = at.as_microsecond().to_string();
    for part in [
        prev_hash,
        &seq.to_string(),
        &municipality_id.0.to_string(),
        &at,
        &actor.0.to_string(),
        role,
        action,
        &family,
        detail,
        reason,
        remote_addr,
    ] {
        h.update(part.as_bytes());
        h.update([0x1f]);
    }
    hex::encode(h.finalize())
}

impl AuditLine {
    pub fn expected_hash(&self) -> String {
        line_hash(
            &self.prev_hash,
            self.seq,
            self.municipality_id,
            self.at,
            self.actor,
            &self.role,
            &self.action,
            self.family_id,
            &self.detail,
            &self.reason,
            &self.remote_addr,
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("line {seq}: its content does not match its hash (edited)")]
    Edited { seq: i64 },
    #[error("line {seq}: it does not follow the line before it (a line was removed or reordered)")]
    Broken { seq: i64 },
    #[error("the chain ends at line {seq}, but the chain head says {head_seq} (lines were removed from the end)")]
    Truncated { seq: i64, head_seq: i64 },
}

/// Walks one municipality's lines in order and checks every link. The
/// `head` is the (seq, hash) the store keeps of the last line written.
pub struct ChainVerifier {
    prev_hash: String,
    last_seq: i64,
    pub lines: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self { prev_hash: GENESIS.to_owned(), last_seq: 0, lines: 0 }
    }
}

impl ChainVerifier {
    pub fn push(&mut self, line: &AuditLine) -> Result<(), ChainError> {
        if line.prev_hash != self.prev_hash {
            return Err(ChainError::Broken { seq: line.seq });
        }
        if line.expected_hash() != line.hash {
            return Err(ChainError::Edited { seq: line.seq });
        }
        self.prev_hash = line.hash.clone();
        self.last_seq = line.seq;
        self.lines += 1;
        Ok(())
    }

    pub fn finish(self, head: Option<(i64, String)>) -> Result<u64, ChainError> {
        if let Some((head_seq, head_hash)) = head {
            if head_seq != self.last_seq || head_hash != self.prev_hash {
                return Err(ChainError::Truncated { seq: self.last_seq, head_seq });
            }
        } else if self.lines > 0 {
            return Err(ChainError::Truncated { seq: self.last_seq, head_seq: 0 });
        }
        Ok(self.lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditLine> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let mut line = AuditLine {
                    seq,
                    municipality_id: MunicipalityId(1),
                    at: Timestamp::from_second(1_700_000_000 + seq).unwrap(),
                    actor: AccountId(7),
                    role: "nurse".into(),
                    action: "family.view".into(),
                    family_id: Some(FamilyId(seq)),
                    detail: String::new(),
                    reason: "visit".into(),
                    remote_addr: "127.0.0.1".into(),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                line.hash = line.expected_hash();
                prev = line.hash.clone();
                line
            })
            .collect()
    }

    fn verify(lines: &[AuditLine], head: Option<(i64, String)>) -> Result<u64, ChainError> {
        let mut v = ChainVerifier::default();
        for l in lines {
            v.push(l)?;
        }
        v.finish(head)
    }

    #[test]
    fn intact_chain_verifies() {
        let c = chain(5);
        let head = Some((5, c[4].hash.clone()));
        assert_eq!(verify(&c, head), Ok(5));
        assert_eq!(verify(&[], None), Ok(0));
    }

    #[test]
    fn edits_deletions_and_truncation_are_found() {
        let c = chain(5);
        let head = Some((5, c[4].hash.clone()));
        let mut edited = c.clone();
        edited[2].reason = "nothing to see".into();
        assert_eq!(verify(&edited, head.clone()), Err(ChainError::Edited { seq: 3 }));
        let mut removed = c.clone();
        removed.remove(1);
        assert_eq!(verify(&removed, head.clone()), Err(ChainError::Broken { seq: 3 }));
        assert_eq!(verify(&c[..4], head), Err(ChainError::Truncated { seq: 4, head_seq: 5 }));
    }
}
