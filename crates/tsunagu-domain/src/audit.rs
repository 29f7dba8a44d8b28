//! The audit log: one append-only line for every staff read or change of a
//! person's record, each linked to the one before it by HMAC-SHA256 under a
//! key the database does not hold, so that a line edited, removed or
//! inserted behind the product's back breaks the chain even if the later
//! links are recomputed. One chain per municipality. Signed checkpoints of
//! each chain's head, kept outside the database ([`checkpoint`]), catch what
//! the chain alone cannot: its end cut off, or the whole of it removed.

pub mod checkpoint;

use crate::keys::ChainKey;
use crate::policy::Allowed;
use crate::roles::Role;
use crate::{AccountId, FamilyId, MunicipalityId};
use hmac::Mac;
use jiff::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash before the first line of a chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What was done. Stored as the dotted string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// What a partner's account is shown of a family changed (the mother's
    /// sharing, or a nurse's switch).
    FamilySharing,
    /// The service sealed the lines written before the chain was keyed.
    ChainKeyed,
    // classes and programmes (#12)
    ClassBook,
    ClassCancel,
    /// A booking a rule refused, made by staff overriding it (the rule in the detail).
    ClassOverride,
    /// A family promoted from a session's waiting list.
    ClassPromote,
    ClassList,
    ClassRoster,
    ClassAttendance,
    // peer-support chat [003]
    ChatInvite,
    ChatPost,
    ChatRead,
    ChatSubscribe,
    ChatTeam,
    ChatSupporter,
    ChatHealth,
    ChatEscalate,
    ChatHelpLines,
    /// A report was read (its figures, not a person): reports (#14).
    ReportView,
    /// An entry of an area's local information added, edited or retired (#12).
    LocalPlaceKeep,
    // chat on LINE [003]
    /// A LINE user linked to a chat room with an invitation code.
    ChatLineLink,
    /// The municipality's LINE channel (secret, access token) set.
    ChatLineChannel,
    // classes, last stage (#12)
    /// A year's sessions generated from a pattern (no person: the counts).
    ClassSchedule,
    /// A programme's settings changed (no person: the programme).
    ClassProgramme,
    /// A session's day, time, length, places or venue changed: the families
    /// told, the waiting bookings given the new places (#12).
    ClassSessionEdit,
    // the audit log page (#10)
    /// The audit log downloaded as CSV (its filters in the detail).
    AuditExport,
    // reminders (#10)
    /// A family member's reminder settings read (her own e-mail address).
    ReminderView,
    /// A family member's reminder settings changed.
    ReminderSet,
    // reports, nation-wide (#14)
    /// The nation-wide report was read (published figures of every
    /// municipality; the line is the reader's municipality's).
    ReportNationView,
    /// The figures a city printed for a fiscal year entered or replaced
    /// (no person: the year in the detail).
    ReportPrinted,
    /// The municipality's report settings changed (suppression threshold,
    /// rounding, follow-up days, the chat's answer hours; no person).
    ReportSettings,
    // web push (#10)
    /// A family member's browser subscribed to push reminders (never the endpoint in the line).
    PushSubscribe,
    /// A family member's browser unsubscribed.
    PushUnsubscribe,
}

impl AuditAction {
    pub const ALL: [AuditAction; 72] = [
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
        AuditAction::FamilySharing,
        AuditAction::ChainKeyed,
        AuditAction::ClassBook,
        AuditAction::ClassCancel,
        AuditAction::ClassOverride,
        AuditAction::ClassPromote,
        AuditAction::ClassList,
        AuditAction::ClassRoster,
        AuditAction::ClassAttendance,
        // peer-support chat [003]
        AuditAction::ChatInvite,
        AuditAction::ChatPost,
        AuditAction::ChatRead,
        AuditAction::ChatSubscribe,
        AuditAction::ChatTeam,
        AuditAction::ChatSupporter,
        AuditAction::ChatHealth,
        AuditAction::ChatEscalate,
        AuditAction::ChatHelpLines,
        AuditAction::ReportView,
        AuditAction::LocalPlaceKeep,
        // chat on LINE [003]
        AuditAction::ChatLineLink,
        AuditAction::ChatLineChannel,
        AuditAction::ClassSchedule,
        AuditAction::ClassProgramme,
        AuditAction::ClassSessionEdit,
        // the audit log page (#10)
        AuditAction::AuditExport,
        AuditAction::ReminderView,
        AuditAction::ReminderSet,
        // reports, nation-wide (#14)
        AuditAction::ReportNationView,
        AuditAction::ReportPrinted,
        AuditAction::ReportSettings,
        // web push (#10)
        AuditAction::PushSubscribe,
        AuditAction::PushUnsubscribe,
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
            AuditAction::FamilySharing => "family.sharing",
            AuditAction::ChainKeyed => "audit.chain_keyed",
            AuditAction::ClassBook => "class.book",
            AuditAction::ClassCancel => "class.cancel",
            AuditAction::ClassOverride => "class.override",
            AuditAction::ClassPromote => "class.promote",
            AuditAction::ClassList => "class.list",
            AuditAction::ClassRoster => "class.roster",
            AuditAction::ClassAttendance => "class.attendance",
            AuditAction::ChatInvite => "chat.invite",
            AuditAction::ChatPost => "chat.post",
            AuditAction::ChatRead => "chat.read",
            AuditAction::ChatSubscribe => "chat.subscribe",
            AuditAction::ChatTeam => "chat.team",
            AuditAction::ChatSupporter => "chat.supporter",
            AuditAction::ChatHealth => "chat.health",
            AuditAction::ChatEscalate => "chat.escalate",
            AuditAction::ChatHelpLines => "chat.help_lines",
            AuditAction::ReportView => "report.view",
            AuditAction::LocalPlaceKeep => "local.keep",
            AuditAction::ChatLineLink => "chat.line_link",
            AuditAction::ChatLineChannel => "chat.line_channel",
            AuditAction::ClassSchedule => "class.schedule",
            AuditAction::ClassProgramme => "class.programme",
            AuditAction::ClassSessionEdit => "class.session_edit",
            AuditAction::AuditExport => "audit.export",
            AuditAction::ReminderView => "reminder.view",
            AuditAction::ReminderSet => "reminder.set",
            AuditAction::ReportNationView => "report.nation_view",
            AuditAction::ReportPrinted => "report.printed",
            AuditAction::ReportSettings => "report.settings",
            AuditAction::PushSubscribe => "push.subscribe",
            AuditAction::PushUnsubscribe => "push.unsubscribe",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// Who is asking, from where and why — before anything is decided. A
/// handler makes one from the caller; it opens nothing by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requester {
    pub municipality_id: MunicipalityId,
    pub actor: AccountId,
    pub role: Role,
    pub remote_addr: String,
    pub reason: String,
    pub at: Timestamp,
}

impl Requester {
    /// The context of what the policy allowed: the only way to reach a store
    /// method that reads or changes a person on a caller's behalf.
    pub fn allowed(&self, decision: &Allowed) -> AuditContext {
        AuditContext { grounds: Grounds::Decided(*decision), ..self.bare() }
    }

    /// A context no policy decision stands behind: the service's own jobs
    /// (the daily timeline job, loading demo data), the sign-in line, and
    /// tests that drive a store directly. Never for a caller's request.
    pub fn without_a_policy_decision(&self) -> AuditContext {
        self.bare()
    }

    fn bare(&self) -> AuditContext {
        AuditContext {
            municipality_id: self.municipality_id,
            actor: self.actor,
            role: self.role,
            remote_addr: self.remote_addr.clone(),
            reason: self.reason.clone(),
            at: self.at,
            grounds: Grounds::Unchecked,
        }
    }
}

/// Who is doing it, from where and why, and on what grounds: passed to every
/// store method that reads or changes a person, so that no such method can
/// skip its line — nor be reached on a caller's behalf without a decision of
/// the policy ([`Requester::allowed`]; the fields can be read, but only
/// [`Requester`] makes one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditContext {
    pub municipality_id: MunicipalityId,
    pub actor: AccountId,
    pub role: Role,
    pub remote_addr: String,
    pub reason: String,
    pub at: Timestamp,
    grounds: Grounds,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grounds {
    Decided(Allowed),
    Unchecked,
}

/// A line the decision behind its context does not cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OutsideTheDecision {
    #[error("an audit line about family {family} under a decision about family {decided}")]
    OtherFamily { family: FamilyId, decided: FamilyId },
    #[error("an audit line in municipality {line} under a decision in municipality {decided}")]
    OtherMunicipality { line: MunicipalityId, decided: MunicipalityId },
}

impl AuditContext {
    /// The policy's decision behind this context, if a caller's.
    pub fn decision(&self) -> Option<&Allowed> {
        match &self.grounds {
            Grounds::Decided(a) => Some(a),
            Grounds::Unchecked => None,
        }
    }

    /// Checks that a line about `family` is within the decision: a decision
    /// about one family covers that family only; one about the municipality
    /// (a list, a meeting) covers the families its query was bounded to.
    /// The stores ask this of every line they write.
    pub fn covers(&self, family: Option<FamilyId>) -> Result<(), OutsideTheDecision> {
        let Some(decision) = self.decision() else { return Ok(()) };
        if decision.municipality_id() != self.municipality_id {
            return Err(OutsideTheDecision::OtherMunicipality {
                line: self.municipality_id,
                decided: decision.municipality_id(),
            });
        }
        match (family, decision.family_id()) {
            (Some(family), Some(decided)) if family != decided => {
                Err(OutsideTheDecision::OtherFamily { family, decided })
            }
            _ => Ok(()),
        }
    }
}

/// A line as it is chained and stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// The fields of a line that its hash covers, in order.
#[allow(clippy::too_many_arguments)]
fn line_parts(
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
    mut feed: impl FnMut(&[u8]),
) {
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
        feed(part.as_bytes());
        feed(&[0x1f]);
    }
}

/// The link of a line given the link of the line before it:
/// HMAC-SHA256 under the chain key of the line's fields, joined with a
/// separator that cannot appear in them (U+001F). Without the key nobody can
/// write a line that verifies, so a line cannot be removed, edited or
/// inserted with the later links recomputed.
#[allow(clippy::too_many_arguments)]
pub fn line_mac(
    key: &ChainKey,
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
    let mut mac = key.mac();
    line_parts(prev_hash, seq, municipality_id, at, actor, role, action, family_id, detail, reason, remote_addr, |b| {
        mac.update(b)
    });
    hex::encode(mac.finalize().into_bytes())
}

/// The unkeyed SHA-256 link of the lines written before the chain was keyed
/// (before migration 0008). Verification accepts such lines only as the
/// start of a chain that a keyed line follows (see [`ChainVerifier`]); new
/// lines are never written with it.
#[allow(clippy::too_many_arguments)]
pub fn legacy_line_hash(
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
    line_parts(prev_hash, seq, municipality_id, at, actor, role, action, family_id, detail, reason, remote_addr, |b| {
        h.update(b)
    });
    hex::encode(h.finalize())
}

impl AuditLine {
    /// The keyed link this line must carry.
    pub fn expected_mac(&self, key: &ChainKey) -> String {
        line_mac(
            key,
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

    /// The unkeyed link of a line written before the chain was keyed.
    pub fn legacy_hash(&self) -> String {
        legacy_line_hash(
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

    /// Whether the line carries the keyed link (`true`), the unkeyed link of
    /// the lines written before the chain was keyed (`false`), or neither.
    pub fn keyed(&self, key: &ChainKey) -> Option<bool> {
        if self.expected_mac(key) == self.hash {
            Some(true)
        } else if self.legacy_hash() == self.hash {
            Some(false)
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("line {seq}: its content does not match its hash (edited, or written without the key)")]
    Edited { seq: i64 },
    #[error("line {seq}: it does not follow the line before it (a line was removed or reordered)")]
    Broken { seq: i64 },
    #[error("the chain ends at line {seq}, but the chain head says {head_seq} (lines were removed from the end)")]
    Truncated { seq: i64, head_seq: i64 },
    #[error(
        "the chain has only lines written before it was keyed (up to line {seq}) and no keyed line \
         after them: start the service once with the key to seal them, or the chain was rewritten"
    )]
    Unsealed { seq: i64 },
    #[error("line {seq} is not the line a signed checkpoint saw there (the chain was rewritten)")]
    CheckpointMismatch { seq: i64 },
    #[error(
        "the chain ends at line {seq}, but a signed checkpoint saw line {checkpoint_seq} \
         (lines were removed from the end, or the whole chain)"
    )]
    CheckpointMissing { seq: i64, checkpoint_seq: i64 },
    #[error("the municipality has signed checkpoints but is no longer in the database (its chain was wiped)")]
    Gone,
}

/// Walks one municipality's lines in order and checks every link with the
/// chain key, and that the chain still holds every line a signed checkpoint
/// saw. Lines written before the chain was keyed (unkeyed SHA-256) are
/// accepted only as a prefix that a keyed line follows: the first keyed line
/// links to the last of them, so none can change without the key.
pub struct ChainVerifier<'k> {
    key: &'k ChainKey,
    prev_hash: String,
    last_seq: i64,
    legacy: u64,
    keyed: bool,
    /// (seq, hash) seen by checkpoints, by seq; `next` is the first not yet met.
    checkpoints: Vec<(i64, String)>,
    next: usize,
    pub lines: u64,
}

impl<'k> ChainVerifier<'k> {
    pub fn new(key: &'k ChainKey) -> Self {
        Self {
            key,
            prev_hash: GENESIS.to_owned(),
            last_seq: 0,
            legacy: 0,
            keyed: false,
            checkpoints: Vec::new(),
            next: 0,
            lines: 0,
        }
    }

    /// The (seq, hash) pairs signed checkpoints recorded of this chain.
    pub fn with_checkpoints(mut self, seen: impl IntoIterator<Item = (i64, String)>) -> Self {
        self.checkpoints = seen.into_iter().filter(|(seq, _)| *seq > 0).collect();
        self.checkpoints.sort();
        self
    }

    pub fn push(&mut self, line: &AuditLine) -> Result<(), ChainError> {
        if line.seq != self.last_seq + 1 || line.prev_hash != self.prev_hash {
            return Err(ChainError::Broken { seq: line.seq });
        }
        match line.keyed(self.key) {
            Some(true) => self.keyed = true,
            Some(false) if !self.keyed => self.legacy += 1,
            _ => return Err(ChainError::Edited { seq: line.seq }),
        }
        while let Some((seq, hash)) = self.checkpoints.get(self.next) {
            if *seq != line.seq {
                break;
            }
            if *hash != line.hash {
                return Err(ChainError::CheckpointMismatch { seq: line.seq });
            }
            self.next += 1;
        }
        self.prev_hash = line.hash.clone();
        self.last_seq = line.seq;
        self.lines += 1;
        Ok(())
    }

    /// Ends the walk. `head` is the (seq, hash) the store keeps of the last
    /// line written.
    pub fn finish(self, head: Option<(i64, String)>) -> Result<u64, ChainError> {
        if let Some((head_seq, head_hash)) = head {
            if head_seq != self.last_seq || head_hash != self.prev_hash {
                return Err(ChainError::Truncated { seq: self.last_seq, head_seq });
            }
        } else if self.lines > 0 {
            return Err(ChainError::Truncated { seq: self.last_seq, head_seq: 0 });
        }
        if self.legacy > 0 && !self.keyed {
            return Err(ChainError::Unsealed { seq: self.last_seq });
        }
        if self.next < self.checkpoints.len() {
            if let Some((checkpoint_seq, _)) = self.checkpoints.last() {
                return Err(ChainError::CheckpointMissing { seq: self.last_seq, checkpoint_seq: *checkpoint_seq });
            }
        }
        Ok(self.lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::MasterKey;
    use crate::policy::{permit, Action, FamilyAccess, Resource};
    use crate::roles::Actor;

    fn nurse() -> Actor {
        Actor {
            account_id: AccountId(1),
            municipality_id: MunicipalityId(1),
            role: Role::Nurse,
            family_id: None,
            areas: vec![],
            venues: vec![],
            rooms: vec![],
            relation: None,
        }
    }

    fn requester() -> Requester {
        Requester {
            municipality_id: MunicipalityId(1),
            actor: AccountId(1),
            role: Role::Nurse,
            remote_addr: "192.0.2.1".into(),
            reason: "test".into(),
            at: Timestamp::UNIX_EPOCH,
        }
    }

    fn family(id: i64) -> FamilyAccess {
        FamilyAccess {
            municipality_id: MunicipalityId(1),
            family_id: FamilyId(id),
            area_id: crate::AreaId(1),
            consent_coordinators: false,
            consent_hubs: false,
            escalated: false,
            facilities: vec![],
            programme_venues: vec![],
            partner_sees_health: false,
            partner_view_off: false,
        }
    }

    /// A decision about one family covers lines about that family only; one
    /// about the municipality (a list) covers any of its families; a context
    /// without a decision (jobs, tests) is not checked.
    #[test]
    fn a_context_covers_what_its_decision_was_about() {
        let one = permit(&nurse(), Action::ViewFamily, &Resource::Family(&family(5))).unwrap();
        let ctx = requester().allowed(&one);
        assert_eq!(ctx.decision(), Some(&one));
        assert_eq!(ctx.covers(Some(FamilyId(5))), Ok(()));
        assert_eq!(ctx.covers(None), Ok(()));
        assert_eq!(
            ctx.covers(Some(FamilyId(6))),
            Err(OutsideTheDecision::OtherFamily { family: FamilyId(6), decided: FamilyId(5) })
        );
        let list = permit(&nurse(), Action::SearchFamilies, &Resource::Municipality(MunicipalityId(1))).unwrap();
        assert_eq!(requester().allowed(&list).covers(Some(FamilyId(6))), Ok(()));
        assert_eq!(requester().without_a_policy_decision().covers(Some(FamilyId(6))), Ok(()));
        assert_eq!(requester().without_a_policy_decision().decision(), None);
        // A decided context moved to another municipality covers nothing.
        let mut moved = requester().allowed(&list);
        moved.municipality_id = MunicipalityId(2);
        assert!(matches!(moved.covers(None), Err(OutsideTheDecision::OtherMunicipality { .. })));
    }

    fn key() -> ChainKey {
        MasterKey::from_bytes(&[7; 32]).unwrap().chain_key()
    }

    fn line(seq: i64, prev: &str) -> AuditLine {
        AuditLine {
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
            prev_hash: prev.to_owned(),
            hash: String::new(),
        }
    }

    /// Lines `from..=to` after `prev`, linked with the key (or, with `None`,
    /// with plain SHA-256: the lines of before the key, or an attacker's).
    fn extend(chain: &mut Vec<AuditLine>, to: i64, key: Option<&ChainKey>) {
        let from = chain.last().map_or(1, |l| l.seq + 1);
        for seq in from..=to {
            let prev = chain.last().map_or(GENESIS.to_owned(), |l| l.hash.clone());
            let mut l = line(seq, &prev);
            l.hash = match key {
                Some(k) => l.expected_mac(k),
                None => l.legacy_hash(),
            };
            chain.push(l);
        }
    }

    fn chain(n: i64) -> Vec<AuditLine> {
        let mut c = Vec::new();
        extend(&mut c, n, Some(&key()));
        c
    }

    fn head(c: &[AuditLine]) -> Option<(i64, String)> {
        c.last().map(|l| (l.seq, l.hash.clone()))
    }

    fn verify_with(
        lines: &[AuditLine],
        head: Option<(i64, String)>,
        checkpoints: &[(i64, String)],
    ) -> Result<u64, ChainError> {
        let k = key();
        let mut v = ChainVerifier::new(&k).with_checkpoints(checkpoints.to_vec());
        for l in lines {
            v.push(l)?;
        }
        v.finish(head)
    }

    fn verify(lines: &[AuditLine], head: Option<(i64, String)>) -> Result<u64, ChainError> {
        verify_with(lines, head, &[])
    }

    #[test]
    fn intact_chain_verifies() {
        let c = chain(5);
        assert_eq!(verify(&c, head(&c)), Ok(5));
        assert_eq!(verify(&[], None), Ok(0));
        let checkpoints: Vec<_> = c.iter().map(|l| (l.seq, l.hash.clone())).collect();
        assert_eq!(verify_with(&c, head(&c), &checkpoints), Ok(5));
    }

    #[test]
    fn edits_deletions_and_truncation_are_found() {
        let c = chain(5);
        let mut edited = c.clone();
        edited[2].reason = "nothing to see".into();
        assert_eq!(verify(&edited, head(&c)), Err(ChainError::Edited { seq: 3 }));
        let mut removed = c.clone();
        removed.remove(1);
        assert_eq!(verify(&removed, head(&c)), Err(ChainError::Broken { seq: 3 }));
        assert_eq!(verify(&c[..4], head(&c)), Err(ChainError::Truncated { seq: 4, head_seq: 5 }));
    }

    #[test]
    fn the_link_is_keyed() {
        let l = &chain(1)[0];
        let other = MasterKey::from_bytes(&[8; 32]).unwrap().chain_key();
        assert_ne!(l.expected_mac(&other), l.hash);
        assert_ne!(l.legacy_hash(), l.hash);
        assert_eq!(l.keyed(&key()), Some(true));
        assert_eq!(l.keyed(&other), None);
        // Every field is covered.
        let changes: [fn(&mut AuditLine); 11] = [
            |l| l.seq += 1,
            |l| l.municipality_id = MunicipalityId(2),
            |l| l.at = Timestamp::from_second(1).unwrap(),
            |l| l.actor = AccountId(8),
            |l| l.role = "admin".into(),
            |l| l.action = "family.create".into(),
            |l| l.family_id = None,
            |l| l.detail = "x".into(),
            |l| l.reason = "x".into(),
            |l| l.remote_addr = "10.0.0.1".into(),
            |l| l.prev_hash = "1".repeat(64),
        ];
        for change in changes {
            let mut x = l.clone();
            change(&mut x);
            assert_eq!(x.keyed(&key()), None, "{x:?}");
        }
    }

    #[test]
    fn a_line_removed_and_the_rest_relinked_without_the_key_is_found() {
        let c = chain(5);
        // Line 2 removed, the lines after it renumbered and relinked with
        // plain SHA-256 (all an attacker without the key can do).
        let mut forged = vec![c[0].clone()];
        for old in &c[2..] {
            let prev = forged.last().unwrap().hash.clone();
            let mut l = AuditLine { seq: old.seq - 1, prev_hash: prev, ..old.clone() };
            l.hash = l.legacy_hash();
            forged.push(l);
        }
        assert_eq!(verify(&forged, head(&forged)), Err(ChainError::Edited { seq: 2 }));
        // ... or relinked with another key.
        let other = MasterKey::from_bytes(&[8; 32]).unwrap().chain_key();
        let mut forged = c[..1].to_vec();
        extend(&mut forged, 4, Some(&other));
        assert_eq!(verify(&forged, head(&forged)), Err(ChainError::Edited { seq: 2 }));
        // A gap in the numbering is a break even if the links were right.
        let mut gap = c[..2].to_vec();
        let mut l = line(4, &gap[1].hash);
        l.hash = l.expected_mac(&key());
        gap.push(l);
        assert_eq!(verify(&gap, head(&gap)), Err(ChainError::Broken { seq: 4 }));
    }

    #[test]
    fn lines_of_before_the_key_are_accepted_only_as_a_sealed_prefix() {
        let mut c = Vec::new();
        extend(&mut c, 3, None);
        // Not sealed yet: the chain could be anybody's.
        assert_eq!(verify(&c, head(&c)), Err(ChainError::Unsealed { seq: 3 }));
        // Sealed by a keyed line: fine, and the old lines can no longer change.
        extend(&mut c, 5, Some(&key()));
        assert_eq!(verify(&c, head(&c)), Ok(5));
        let mut edited = c.clone();
        edited[1].reason = "x".into();
        edited[1].hash = edited[1].legacy_hash();
        edited[2].prev_hash = edited[1].hash.clone();
        edited[2].hash = edited[2].legacy_hash();
        assert_eq!(verify(&edited, head(&c)), Err(ChainError::Broken { seq: 4 }));
        // An unkeyed line after a keyed one is never accepted.
        let mut c = chain(2);
        extend(&mut c, 4, None);
        assert_eq!(verify(&c, head(&c)), Err(ChainError::Edited { seq: 3 }));
    }

    #[test]
    fn checkpoints_catch_a_cut_end_a_wiped_chain_and_a_rewrite() {
        let c = chain(5);
        let seen = vec![(3, c[2].hash.clone()), (5, c[4].hash.clone())];
        // The last two lines removed and the head moved back: the chain alone
        // is consistent, the checkpoint of line 5 is not met.
        assert_eq!(verify(&c[..3], head(&c[..3])), Ok(3));
        assert_eq!(
            verify_with(&c[..3], head(&c[..3]), &seen),
            Err(ChainError::CheckpointMissing { seq: 3, checkpoint_seq: 5 })
        );
        // Every line and the head removed.
        assert_eq!(verify_with(&[], None, &seen), Err(ChainError::CheckpointMissing { seq: 0, checkpoint_seq: 5 }));
        // Lines appended after the last checkpoint are fine.
        let mut longer = c.clone();
        extend(&mut longer, 7, Some(&key()));
        assert_eq!(verify_with(&longer, head(&longer), &seen), Ok(7));
        // A checkpoint that another chain's line does not match.
        let mut other = c[..2].to_vec();
        let mut l = line(3, &other[1].hash);
        l.reason = "another line 3".into();
        l.hash = l.expected_mac(&key());
        other.push(l);
        assert_eq!(verify_with(&other, head(&other), &seen), Err(ChainError::CheckpointMismatch { seq: 3 }));
    }
}
