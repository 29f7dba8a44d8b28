//! The chat on LINE [003]: a municipality's LINE channel (its secret and
//! access token, sealed at rest), the LINE users linked to chat rooms, the
//! webhook events already taken, and the outbox of pushes to LINE.
//!
//! A supporter's message in a LINE-linked room is put in the outbox by
//! `ChatStore::post_message`, in the message's own transaction, so a reply
//! is never lost between the chat and LINE; a background job sends the
//! outbox and tries a failed push again later.

use crate::{NewAccount, Result, Secret};
use async_trait::async_trait;
use jiff::Timestamp;
use tsunagu_domain::audit::AuditContext;
use tsunagu_domain::chat::line::LineUserId;
use tsunagu_domain::{AccountId, MunicipalityId, RoomId};

/// A municipality's LINE channel, opened from its sealed form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineChannel {
    pub channel_secret: Secret,
    pub access_token: Secret,
}

/// A LINE user's chat account and room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineLink {
    pub account: AccountId,
    pub room: RoomId,
}

/// A push waiting to go to LINE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinePush {
    pub id: i64,
    pub municipality: MunicipalityId,
    pub to: LineUserId,
    pub body: String,
    pub attempts: u32,
}

#[async_trait]
pub trait LineStore: Send + Sync {
    /// Sets the municipality's LINE channel (sealed at rest). Audited `chat.line_channel`.
    async fn set_line_channel(&self, ctx: &AuditContext, channel: &LineChannel) -> Result<()>;
    /// The municipality's LINE channel, if it has one.
    async fn line_channel(&self, m: MunicipalityId) -> Result<Option<LineChannel>>;
    /// The municipalities with a LINE channel (what the outbox job visits).
    async fn line_municipalities(&self) -> Result<Vec<MunicipalityId>>;

    /// Which of these webhook event ids were taken before.
    async fn seen_webhook_events(&self, m: MunicipalityId, ids: &[String]) -> Result<Vec<String>>;
    /// Records webhook event ids as taken (an id taken twice is kept once).
    async fn record_webhook_events(&self, m: MunicipalityId, ids: &[String], at: Timestamp) -> Result<()>;

    /// The chat account and room a LINE user is linked to.
    async fn line_link(&self, m: MunicipalityId, user: &LineUserId) -> Result<Option<LineLink>>;
    /// A LINE user joins with an invitation code: `ChatStore::join_chat`
    /// and the link, one transaction, audited `chat.line_link` as the new
    /// parent's own action (no one signed in made it: the code is the
    /// credential, as on the join page). Errors as `join_chat`, and
    /// `Conflict("line_user_linked")` for a user linked already.
    async fn link_line_user(
        &self,
        m: MunicipalityId,
        code_hash: &str,
        user: &LineUserId,
        account: &NewAccount,
        at: Timestamp,
    ) -> Result<LineLink>;

    /// Puts a push in the outbox (due at once); one with a `dedupe_key`
    /// already there is not put again.
    async fn enqueue_line_push(
        &self,
        m: MunicipalityId,
        room: Option<RoomId>,
        to: &LineUserId,
        body: &str,
        dedupe_key: Option<&str>,
        at: Timestamp,
    ) -> Result<()>;
    /// Pushes due at `now`, oldest first, at most `limit`.
    async fn due_line_pushes(&self, m: MunicipalityId, now: Timestamp, limit: u32) -> Result<Vec<LinePush>>;
    /// LINE took the push: its text is emptied.
    async fn line_push_sent(&self, m: MunicipalityId, id: i64, at: Timestamp) -> Result<()>;
    /// The push failed (`error`: an HTTP status or a kind, never a body); tried again at `next_at`.
    async fn line_push_failed(&self, m: MunicipalityId, id: i64, error: &str, next_at: Timestamp) -> Result<()>;
    /// The pushes not yet sent, for the operator's view and the tests.
    async fn pending_line_pushes(&self, m: MunicipalityId) -> Result<u64>;
}
