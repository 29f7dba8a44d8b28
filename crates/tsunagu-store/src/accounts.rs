//! Accounts, their second factor, and sessions.

use crate::{Result, Secret};
use async_trait::async_trait;
use jiff::Timestamp;
use tsunagu_domain::audit::AuditContext;
use tsunagu_domain::policy::FamilyAccess;
use tsunagu_domain::roles::{FamilyRelation, Role};
use tsunagu_domain::{AccountId, AreaId, FamilyId, MunicipalityId, RoomId, VenueId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub municipality_id: MunicipalityId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub password_hash: Secret,
    /// Base32 TOTP secret once the second factor is enrolled.
    pub totp_secret: Option<Secret>,
    /// The last TOTP time step accepted (a code is never accepted twice).
    pub totp_last_step: i64,
    pub disabled: bool,
    pub family_id: Option<FamilyId>,
    /// For a family member: the mother or the partner.
    pub family_relation: Option<FamilyRelation>,
    pub areas: Vec<AreaId>,
    pub venues: Vec<VenueId>,
    pub rooms: Vec<RoomId>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    pub municipality_id: MunicipalityId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub password_hash: Secret,
    pub totp_secret: Option<Secret>,
    pub family_id: Option<FamilyId>,
    /// For a family member: the mother (one per family) or the partner.
    pub family_relation: Option<FamilyRelation>,
    pub areas: Vec<AreaId>,
    pub venues: Vec<VenueId>,
    pub rooms: Vec<RoomId>,
    pub created_at: Timestamp,
}

/// How far a session has come through sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStage {
    /// Password accepted; the second factor is still owed (or must be enrolled).
    SecondFactor,
    /// Fully signed in.
    Full,
}

impl SessionStage {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStage::SecondFactor => "second_factor",
            SessionStage::Full => "full",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "second_factor" => Some(SessionStage::SecondFactor),
            "full" => Some(SessionStage::Full),
            _ => None,
        }
    }
}

/// A session as stored: only the SHA-256 of the token is kept, so a copy of
/// the database does not hand out live sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The account's municipality: the token names it, so a session is
    /// found within one municipality (one shard, docs/DEPLOY.md).
    pub municipality_id: MunicipalityId,
    pub token_hash: String,
    pub account_id: AccountId,
    pub stage: SessionStage,
    pub csrf_token: Secret,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
}

/// A session token as handed to the client: its municipality's id, a dot,
/// and the random part (`random`, 64 hex digits). The municipality is not
/// a secret (it is the account's city); it lets the session be found within
/// its municipality's rows.
pub fn session_token(m: MunicipalityId, random: &str) -> String {
    format!("{}.{random}", m.0)
}

/// A session token's municipality and the SHA-256 (hex) of the whole token,
/// or `None` when it is not of the form [`session_token`] makes.
pub fn parse_session_token(token: &str) -> Option<(MunicipalityId, String)> {
    let (m, random) = token.split_once('.')?;
    let well_formed = !m.is_empty()
        && m.len() <= 18
        && m.bytes().all(|b| b.is_ascii_digit())
        && random.len() == 64
        && random.bytes().all(|b| b.is_ascii_hexdigit());
    if !well_formed {
        return None;
    }
    Some((MunicipalityId(m.parse().ok()?), token_hash(token)))
}

/// The SHA-256 (hex) under which a session token is stored.
pub fn token_hash(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Accounts (with their second factor) and sessions.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Creates an account. `ctx` is the administrator's; `None` only for
    /// bootstrap and demo loading. `Conflict("username_taken")` on a duplicate.
    async fn create_account(&self, ctx: Option<&AuditContext>, a: &NewAccount) -> Result<Account>;
    async fn account(&self, m: MunicipalityId, id: AccountId) -> Result<Option<Account>>;
    async fn account_by_username(&self, m: MunicipalityId, username: &str) -> Result<Option<Account>>;
    async fn accounts(&self, m: MunicipalityId) -> Result<Vec<Account>>;
    /// Sets a new password hash and ends the account's sessions.
    async fn set_password(&self, ctx: Option<&AuditContext>, id: AccountId, hash: &Secret) -> Result<()>;
    /// Enrols (`Some`) or resets (`None`) the second factor; a reset ends the account's sessions.
    async fn set_totp_secret(&self, ctx: Option<&AuditContext>, id: AccountId, secret: Option<&Secret>) -> Result<()>;
    /// Accepts TOTP time step `step` for the account only if it is later than
    /// the last one accepted (so a code cannot be replayed). Returns whether it was.
    async fn use_totp_step(&self, m: MunicipalityId, id: AccountId, step: i64) -> Result<bool>;
    /// Disables or enables an account; disabling ends its sessions.
    async fn set_disabled(&self, ctx: &AuditContext, id: AccountId, disabled: bool) -> Result<()>;
    async fn create_session(&self, s: &Session) -> Result<()>;
    async fn session(&self, m: MunicipalityId, token_hash: &str) -> Result<Option<Session>>;
    /// The session and its account (`None` if the account is gone), read
    /// together: what resolving a caller's token needs, in one round trip
    /// where a back end can (#16).
    async fn session_with_account(
        &self,
        m: MunicipalityId,
        token_hash: &str,
    ) -> Result<Option<(Session, Option<Account>)>> {
        let Some(session) = self.session(m, token_hash).await? else { return Ok(None) };
        let account = self.account(m, session.account_id).await?;
        Ok(Some((session, account)))
    }
    /// [`session_with_account`](Self::session_with_account) and, in the
    /// session's municipality, what the policy needs to decide on `family`
    /// (`RecordStore::family_access`: ids and flags, nothing personal), read
    /// together: what a request on one family needs before its decision, in
    /// one round trip where a back end can (#16). The facts are `None` when
    /// the family is not in the session's municipality.
    async fn session_with_family_access(
        &self,
        m: MunicipalityId,
        token_hash: &str,
        family: FamilyId,
    ) -> Result<Option<(Session, Option<Account>, Option<FamilyAccess>)>>;
    async fn touch_session(&self, m: MunicipalityId, token_hash: &str, at: Timestamp) -> Result<()>;
    async fn delete_session(&self, m: MunicipalityId, token_hash: &str) -> Result<()>;
    async fn delete_sessions_of(&self, m: MunicipalityId, account: AccountId) -> Result<()>;
}
