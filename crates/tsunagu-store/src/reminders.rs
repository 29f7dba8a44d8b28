//! Reminders (#10): a family member's choice of e-mail reminders, the
//! items due a reminder, and the record of reminders sent (claimed before
//! sending, so one goes once per item and channel across restarts and nodes).

use crate::Result;
use async_trait::async_trait;
use jiff::civil::Date;
use tsunagu_domain::audit::AuditContext;
use tsunagu_domain::reminders::{Channel, ReminderSettings};
use tsunagu_domain::{AccountId, FamilyId, MunicipalityId};

/// The `reminder.set` line's detail, the same on both back ends: what
/// changed, never the address (it is the person's).
pub fn reminder_set_detail(s: &ReminderSettings) -> String {
    format!("email_on={} days_before={} lang={}", s.email_on, s.days_before, if s.lang_en { "en" } else { "ja" })
}

/// An item a family member asked to be reminded of, with where to send it.
/// The job reads no name and nothing of health: the day and the address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderCandidate {
    pub account_id: AccountId,
    pub email: String,
    pub days_before: u8,
    pub lang_en: bool,
    /// 'class:<booking id>', 'stay:<application id>' or 'group:<group session id>'.
    pub item: String,
    pub day: Date,
}

/// Which reminder: of `item` to `account` in `m` by `channel` ('email').
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReminderKey<'a> {
    pub municipality: MunicipalityId,
    pub account: AccountId,
    pub item: &'a str,
    pub channel: &'a str,
}

#[async_trait]
pub trait ReminderStore: Send + Sync {
    /// The account's own choice (off by default), one `reminder.view` line.
    async fn reminder_settings(&self, ctx: &AuditContext, family: FamilyId) -> Result<ReminderSettings>;
    /// Sets the account's own choice for its family; one `reminder.set` line
    /// in the same transaction (the address is not in it).
    async fn set_reminder_settings(&self, ctx: &AuditContext, family: FamilyId, s: &ReminderSettings) -> Result<()>;
    /// The class bookings (confirmed, session not cancelled), approved
    /// postpartum stays and the contacts with a day set — a confirmed
    /// 8th-month group interview ([002] ③ 集団面談: a day and a place),
    /// the member not yet recorded and the contact still awaiting — of `m`
    /// on `from..=to` of the accounts with e-mail on, not yet sent to them:
    /// a stay and a group interview only to the mother's account (a
    /// partner's only while she shares her health items), nothing to a
    /// partner whose view is off. Contacts that are only a window get none
    /// (the seeds do not say the family arranges any of them itself). At most `limit`. Not audited: the job's,
    /// no user's action, and it reads no person's name or health data.
    ///
    /// `channel`: the accounts with e-mail on (`Email`), or with a browser
    /// subscribed to push (`Push`); "not yet sent" is on that channel.
    async fn reminder_candidates(
        &self,
        m: MunicipalityId,
        channel: Channel,
        from: Date,
        to: Date,
        limit: u32,
    ) -> Result<Vec<ReminderCandidate>>;
    /// Claims a reminder for sending: true when this caller may send it (no
    /// claim yet, or an earlier one not sent whose `claimed_until` has
    /// passed); false when it was sent or another holds it.
    async fn claim_reminder(&self, key: ReminderKey<'_>, holder: &str, now_secs: i64, until_secs: i64) -> Result<bool>;
    /// Marks a claimed reminder sent.
    async fn reminder_sent(&self, key: ReminderKey<'_>, at: jiff::Timestamp) -> Result<()>;
    /// Gives a claim back after a failed send (it may be claimed again at once).
    async fn release_reminder(&self, key: ReminderKey<'_>) -> Result<()>;
}
