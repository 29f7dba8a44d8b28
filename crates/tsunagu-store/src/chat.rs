//! Peer-support chat [003]: supporters, one-time invitations, parents'
//! rooms, teams of three, messages with a per-room sequence, read state,
//! escalations, the municipality's help lines.
//!
//! No table of the chat holds a real name: a parent is a chat account known
//! by the display name they chose. The link between a room and a family
//! record is the invitation a nurse handed out (kept in a table of its own);
//! it is read only to raise an escalation's referral, which the
//! municipality's nurses then see in their referrals.

use crate::{NewAccount, Result};
use async_trait::async_trait;
use jiff::Timestamp;
use tsunagu_domain::audit::AuditContext;
use tsunagu_domain::chat::helplines::HelpLine;
use tsunagu_domain::chat::messages::{ClientId, MessageText};
use tsunagu_domain::chat::supporters::{Attributes, Capacity, SupporterState};
use tsunagu_domain::chat::teams::{Candidate, RoomNeed, Team};
use tsunagu_domain::policy::RoomAccess;
use tsunagu_domain::referrals::ReferralStatus;
use tsunagu_domain::roles::Role;
use tsunagu_domain::{AccountId, FamilyId, MunicipalityId, ReferralId, RoomId};

/// A supporter as the operator sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupporterRecord {
    pub account: AccountId,
    /// The supporter's account display name (a name they are known by in the chat).
    pub display_name: String,
    pub attributes: Attributes,
    pub capacity: Capacity,
    pub state: SupporterState,
    /// Rooms whose team they are on.
    pub load: u32,
}

impl SupporterRecord {
    pub fn candidate(&self) -> Candidate {
        Candidate {
            account: self.account,
            attributes: self.attributes,
            capacity: self.capacity,
            state: self.state,
            load: self.load,
        }
    }
}

/// A room as listed to its team or the operator: no message text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomSummary {
    pub room: RoomId,
    /// The parent's chosen display name.
    pub display_name: String,
    pub last_seq: i64,
    pub last_message_at: Option<Timestamp>,
    /// Whether the last message is the parent's (nobody has answered yet).
    pub awaiting_answer: bool,
    /// Words of self-harm appeared in a parent's message.
    pub urgent: bool,
    pub escalated: bool,
    /// Supporters of the team, in any state (the operator's health view
    /// counts the active ones).
    pub team: Vec<(tsunagu_domain::chat::supporters::Slot, AccountId)>,
    pub created_at: Timestamp,
}

/// One stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub room: RoomId,
    /// The room's total order: 1, 2, 3, … with no gap.
    pub seq: i64,
    pub author: AccountId,
    /// `chat_parent` or `peer_supporter`.
    pub author_role: Role,
    /// The author's display name in the chat.
    pub author_name: String,
    pub client_id: String,
    pub body: String,
    pub sent_at: Timestamp,
}

/// What storing a message answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub message: ChatMessage,
    /// The client id was seen before in this room: `message` is the first one, stored once.
    pub duplicate: bool,
}

/// The operator's view of one room's health (no message text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomHealth {
    pub summary: RoomSummary,
    /// Seconds from the parent's first message to the team's first answer, once answered.
    pub first_answer_secs: Option<i64>,
}

/// A supporter's escalation and how far it has got (never the case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationRecord {
    pub id: i64,
    pub room: RoomId,
    pub message_seq: Option<i64>,
    pub raised_by: AccountId,
    pub raised_at: Timestamp,
    pub referral: ReferralId,
    pub status: ReferralStatus,
}

/// The chat's storage.
#[async_trait]
pub trait ChatStore: Send + Sync {
    // --- supporters -------------------------------------------------------

    /// A peer supporter registers (or changes) their own attributes and
    /// capacity; the operator vets them again (`registered`). Audited
    /// `chat.supporter`. `InvalidReference("account")` unless the context's
    /// account is a peer supporter of the municipality.
    async fn register_supporter(&self, ctx: &AuditContext, attributes: Attributes, capacity: Capacity) -> Result<()>;
    async fn supporter(&self, m: MunicipalityId, account: AccountId) -> Result<Option<SupporterRecord>>;
    /// The municipality's supporters with their load, by account id.
    async fn supporters(&self, m: MunicipalityId) -> Result<Vec<SupporterRecord>>;
    /// The operator vets, activates or suspends a supporter. Audited `chat.supporter`.
    async fn set_supporter_state(&self, ctx: &AuditContext, account: AccountId, state: SupporterState) -> Result<()>;

    // --- invitations and rooms ---------------------------------------------

    /// A nurse hands a family an invitation at handbook issue: stored as the
    /// SHA-256 of the code; the family it was given to in a table of its
    /// own. Audited `chat.invite` with the family.
    async fn issue_invitation(
        &self,
        ctx: &AuditContext,
        family: FamilyId,
        code_hash: &str,
        expires_at: Timestamp,
    ) -> Result<i64>;
    /// A parent joins with an invitation: the chat account (display name
    /// only, `ChatParent`, no family) and its private room, the consent to
    /// escalation recorded, the invitation used up — one transaction.
    /// `NotFound` for an unknown or expired code, `Conflict("invitation_used")`,
    /// `Conflict("username_taken")`.
    async fn join_chat(
        &self,
        m: MunicipalityId,
        code_hash: &str,
        account: &NewAccount,
        at: Timestamp,
    ) -> Result<(AccountId, RoomId)>;
    /// What the policy needs of a room (its parent, its active team, whether
    /// escalated); `None` if not a room of `m`.
    async fn room_access(&self, m: MunicipalityId, room: RoomId) -> Result<Option<RoomAccess>>;
    /// The room of a parent's chat account.
    async fn room_of_parent(&self, m: MunicipalityId, parent: AccountId) -> Result<Option<RoomId>>;
    /// The rooms whose team `supporter` is on (active or not: the policy decides).
    async fn rooms_of_supporter(&self, m: MunicipalityId, supporter: AccountId) -> Result<Vec<RoomSummary>>;
    async fn room_summary(&self, m: MunicipalityId, room: RoomId) -> Result<Option<RoomSummary>>;
    /// The sequence number of a room's last message (0 before the first);
    /// `None` if not a room of `m`. One indexed row: what a node's sockets
    /// compare with to know whether anything is new (no message text, no
    /// person data, so no audit line).
    async fn room_last_seq(&self, m: MunicipalityId, room: RoomId) -> Result<Option<i64>>;

    // --- messages ---------------------------------------------------------

    /// Stores a message at the room's next sequence number, durably, before
    /// it is answered; a client id seen before in the room answers the first
    /// message (`duplicate`). `self_harm` flags the room urgent in the same
    /// transaction. Audited `chat.post`.
    async fn post_message(
        &self,
        ctx: &AuditContext,
        room: RoomId,
        client_id: &ClientId,
        text: &MessageText,
        self_harm: bool,
    ) -> Result<Posted>;
    /// A page of history: up to `limit` messages before `before` (or the
    /// latest), in sequence order. Audited `chat.read`.
    async fn history(
        &self,
        ctx: &AuditContext,
        room: RoomId,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ChatMessage>>;
    /// Messages after `after`, in order, up to `limit`: what a subscriber
    /// missed or a new message. Not audited per call: a subscription's
    /// opening is (`history` or `mark_subscribed`).
    async fn messages_after(
        &self,
        ctx: &AuditContext,
        room: RoomId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<ChatMessage>>;
    /// Audits that a subscriber (WebSocket or long poll) opened the room
    /// from `after`: `chat.subscribe`.
    async fn mark_subscribed(&self, ctx: &AuditContext, room: RoomId, after: i64) -> Result<()>;
    /// The context's account has read the room up to `seq` (never goes back).
    async fn mark_read(&self, ctx: &AuditContext, room: RoomId, seq: i64) -> Result<()>;
    /// Who has read how far in a room.
    async fn read_state(&self, m: MunicipalityId, room: RoomId) -> Result<Vec<(AccountId, i64)>>;

    // --- teams --------------------------------------------------------------

    /// Sets a room's team, checked in the same transaction against the
    /// supporters as stored (`teams::check_team`: composition, active,
    /// capacity): `Conflict(code)` with the rule's code otherwise. Audited `chat.team`.
    async fn set_team(&self, ctx: &AuditContext, room: RoomId, team: &Team) -> Result<()>;
    /// Rooms without a full active team, longest waiting first, and the
    /// municipality's supporters as candidates: what `teams::suggest` takes.
    async fn team_needs(&self, m: MunicipalityId) -> Result<(Vec<RoomNeed>, Vec<Candidate>)>;
    /// Every room's health, for the operator: no message text. Audited `chat.health`.
    async fn team_health(&self, ctx: &AuditContext) -> Result<Vec<RoomHealth>>;

    // --- escalation ---------------------------------------------------------

    /// A supporter marks a message (`message_seq`) or the room as worrying:
    /// a referral to the municipality's nurse about the family the
    /// invitation was handed to, under the consent given at sign-up, and
    /// the room marked escalated — one transaction. `Conflict("no_family_link")`
    /// if the room's invitation names no family. Audited `referral.raise`
    /// (with the family) and `chat.escalate`.
    async fn escalate(
        &self,
        ctx: &AuditContext,
        room: RoomId,
        message_seq: Option<i64>,
        note: &str,
        urgent: bool,
    ) -> Result<EscalationRecord>;
    /// The escalations a supporter raised, with their referral's status only.
    async fn escalations_by(&self, ctx: &AuditContext, supporter: AccountId) -> Result<Vec<EscalationRecord>>;

    // --- help lines ---------------------------------------------------------

    /// The municipality's own help lines, in order.
    async fn help_lines(&self, m: MunicipalityId) -> Result<Vec<HelpLine>>;
    /// Replaces the municipality's own help lines. Audited `chat.help_lines`.
    async fn set_help_lines(&self, ctx: &AuditContext, lines: &[HelpLine]) -> Result<()>;
}
