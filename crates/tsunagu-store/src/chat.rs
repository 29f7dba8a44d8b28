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

// --- group commit of posts (#13) ---------------------------------------------

/// A message waiting for its batch (`group_commit::Batcher`): concurrent
/// posts of a node share one write transaction, each answered only once it
/// has committed.
#[derive(Debug, Clone)]
pub struct PendingPost {
    pub ctx: AuditContext,
    pub room: RoomId,
    /// `ChatParent` or `PeerSupporter` (checked before queueing).
    pub author_role: Role,
    pub client_id: String,
    pub body: String,
    pub self_harm: bool,
}

/// Queues a post in a node's batch (`write` stores a batch in one
/// transaction): the batch is written in a span `chat post batch`, a child
/// of the posting request's (the statements test counts it as the request's).
pub async fn submit_post<F, Fut>(
    batch: &crate::group_commit::Batcher<PendingPost, Result<Posted>>,
    post: PendingPost,
    write: F,
) -> Result<Posted>
where
    F: FnOnce(Vec<PendingPost>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<Vec<Result<Posted>>>> + Send + 'static,
{
    batch.submit_in(post, tracing::info_span!("chat post batch"), write).await?
}

/// The author's role a message is stored with: the context's, if it is one
/// that writes in a room (`InvalidReference("author")` otherwise).
pub fn author_role(ctx: &AuditContext) -> Result<Role> {
    match ctx.role {
        Role::ChatParent => Ok(Role::ChatParent),
        Role::PeerSupporter => Ok(Role::PeerSupporter),
        _ => Err(crate::StoreError::InvalidReference("author")),
    }
}

/// What a batch does with one post, decided in its transaction from the
/// rooms' counters and the client ids already stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostPlan {
    /// No such room in the post's municipality.
    NotFound,
    /// The client id is stored in the room already: answer that message.
    Stored,
    /// A resend queued in the same batch: answer the message of the post at this index.
    SameAs(usize),
    /// A new message at this number.
    New(i64),
}

/// A room a batch moves on: its municipality, its id, its new last number,
/// and when the first message of self-harm among the new ones was sent.
pub type RoomMove = (MunicipalityId, RoomId, i64, Option<Timestamp>);

/// The posts `plan_posts` found new, each with its number in its room.
pub fn new_posts<'a>(posts: &'a [PendingPost], plans: &[PostPlan]) -> Vec<(&'a PendingPost, i64)> {
    posts
        .iter()
        .zip(plans)
        .filter_map(|(p, plan)| match plan {
            PostPlan::New(seq) => Some((p, *seq)),
            _ => None,
        })
        .collect()
}

/// Plans a batch of posts, in queue order: each room's numbers follow its
/// last stored one (`last_seq`, by municipality and room; a room not in it
/// is not the municipality's) one by one, with no gap; a client id stored
/// before (`stored`, by room) or earlier in the batch is answered, not
/// stored again. Also the rooms to move on: (municipality, room, new last
/// number, when the first message of self-harm among the new ones was sent).
pub fn plan_posts(
    posts: &[PendingPost],
    last_seq: &std::collections::HashMap<(i64, i64), i64>,
    stored: &std::collections::HashSet<(i64, String)>,
) -> (Vec<PostPlan>, Vec<RoomMove>) {
    use std::collections::HashMap;
    let mut next: HashMap<(i64, i64), i64> = HashMap::new();
    let mut urgent: HashMap<(i64, i64), Timestamp> = HashMap::new();
    let mut seen: HashMap<(i64, &str), usize> = HashMap::new();
    let mut plans = Vec::with_capacity(posts.len());
    for (i, p) in posts.iter().enumerate() {
        let key = (p.ctx.municipality_id.0, p.room.0);
        let Some(last) = last_seq.get(&key) else {
            plans.push(PostPlan::NotFound);
            continue;
        };
        if stored.contains(&(p.room.0, p.client_id.clone())) {
            plans.push(PostPlan::Stored);
            continue;
        }
        if let Some(first) = seen.get(&(p.room.0, p.client_id.as_str())) {
            plans.push(PostPlan::SameAs(*first));
            continue;
        }
        seen.insert((p.room.0, p.client_id.as_str()), i);
        let seq = next.get(&key).copied().unwrap_or(*last) + 1;
        next.insert(key, seq);
        if p.self_harm {
            urgent.entry(key).or_insert(p.ctx.at);
        }
        plans.push(PostPlan::New(seq));
    }
    let mut rooms: Vec<_> = next
        .into_iter()
        .map(|((m, r), seq)| (MunicipalityId(m), RoomId(r), seq, urgent.get(&(m, r)).copied()))
        .collect();
    rooms.sort_by_key(|(m, r, _, _)| (r.0, m.0));
    (plans, rooms)
}

/// Each post's answer once its batch has committed: the new message as
/// read back (`fresh`, by room and number), or for a resend the message
/// stored before (`stored`, by room and client id) or queued first in the
/// same batch.
pub fn answer_posts(
    posts: &[PendingPost],
    plans: &[PostPlan],
    stored: &std::collections::HashMap<(i64, String), ChatMessage>,
    fresh: &std::collections::HashMap<(i64, i64), ChatMessage>,
) -> Vec<Result<Posted>> {
    let lost = || crate::StoreError::Other("a stored message was not read back".into());
    let new = |i: usize| match plans.get(i) {
        Some(PostPlan::New(seq)) => fresh.get(&(posts[i].room.0, *seq)).cloned().ok_or_else(lost),
        _ => Err(lost()),
    };
    plans
        .iter()
        .enumerate()
        .map(|(i, plan)| match plan {
            PostPlan::NotFound => Err(crate::StoreError::NotFound),
            PostPlan::Stored => stored
                .get(&(posts[i].room.0, posts[i].client_id.clone()))
                .cloned()
                .map(|message| Posted { message, duplicate: true })
                .ok_or_else(lost),
            PostPlan::SameAs(first) => new(*first).map(|message| Posted { message, duplicate: true }),
            PostPlan::New(_) => new(i).map(|message| Posted { message, duplicate: false }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};
    use tsunagu_domain::audit::Requester;

    fn post(m: i64, room: i64, client: &str, self_harm: bool, at: i64) -> PendingPost {
        let ctx = Requester {
            municipality_id: MunicipalityId(m),
            actor: AccountId(9),
            role: Role::ChatParent,
            remote_addr: "test".into(),
            reason: "test".into(),
            at: Timestamp::from_second(at).unwrap_or(Timestamp::UNIX_EPOCH),
        }
        .without_a_policy_decision();
        PendingPost {
            ctx,
            room: RoomId(room),
            author_role: Role::ChatParent,
            client_id: client.into(),
            body: "こんにちは".into(),
            self_harm,
        }
    }

    #[test]
    fn a_batch_numbers_each_room_on_without_gaps_and_answers_resends() {
        let last: HashMap<(i64, i64), i64> = [((1, 10), 4), ((1, 11), 0), ((2, 20), 7)].into();
        let stored: HashSet<(i64, String)> = [(10, "old".to_owned())].into();
        let posts = vec![
            post(1, 10, "a", false, 1),
            post(1, 11, "b", true, 2),
            post(1, 10, "old", false, 3),
            post(1, 10, "c", true, 4),
            post(1, 10, "a", false, 5),
            post(1, 20, "d", false, 6),
            post(2, 20, "d", false, 7),
            post(1, 11, "e", true, 8),
        ];
        let (plans, rooms) = plan_posts(&posts, &last, &stored);
        use PostPlan::*;
        assert_eq!(plans, vec![New(5), New(1), Stored, New(6), SameAs(0), NotFound, New(8), New(2)]);
        let at = |s| Timestamp::from_second(s).ok();
        assert_eq!(
            rooms,
            vec![
                (MunicipalityId(1), RoomId(10), 6, at(4)),
                (MunicipalityId(1), RoomId(11), 2, at(2)),
                (MunicipalityId(2), RoomId(20), 8, None),
            ]
        );
    }
}
