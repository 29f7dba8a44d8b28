//! Reminders (#10): a family member's choice of e-mail reminders and the
//! reminders sent (`tsunagu_store::ReminderStore`).

use super::{date, db_err, Result};
use crate::audit::append_audit;
use crate::SqliteStore;
use async_trait::async_trait;
use jiff::civil::Date;
use tsunagu_domain::audit::{AuditAction, AuditContext};
use tsunagu_domain::reminders::{Channel, ReminderSettings};
use tsunagu_domain::{AccountId, FamilyId, MunicipalityId};
use tsunagu_store::{ReminderCandidate, ReminderKey, ReminderStore};

/// The items due a reminder (`ReminderStore::reminder_candidates`): class
/// bookings, approved stays and confirmed group interviews, of the accounts
/// whose channel is on (`r.email_on`, replaced for push by [`PUSH_ON`]),
/// not yet sent on the channel (`x.channel`, replaced by the channel's name).
const CANDIDATES: &str = "SELECT a.id, r.email, r.days_before, r.lang_en, 'class:' || b.id AS item, s.day AS day FROM reminder_settings r JOIN accounts a ON a.id = r.account_id AND a.municipality_id = r.municipality_id AND a.disabled = 0 JOIN families f ON f.id = r.family_id AND f.municipality_id = r.municipality_id JOIN class_bookings b ON b.family_id = r.family_id AND b.municipality_id = r.municipality_id AND b.status = 'confirmed' JOIN class_sessions s ON s.id = b.session_id AND s.municipality_id = b.municipality_id AND s.cancelled = 0 WHERE r.municipality_id = ? AND r.email_on = 1 AND s.day >= ? AND s.day <= ? AND (a.family_relation = 'mother' OR f.partner_view_off = 0) AND NOT EXISTS (SELECT 1 FROM reminders_sent x WHERE x.account_id = a.id AND x.item = 'class:' || b.id AND x.channel = 'email' AND x.sent_at IS NOT NULL AND x.municipality_id = r.municipality_id) UNION ALL SELECT a.id, r.email, r.days_before, r.lang_en, 'stay:' || p.id AS item, p.stay_first AS day FROM reminder_settings r JOIN accounts a ON a.id = r.account_id AND a.municipality_id = r.municipality_id AND a.disabled = 0 JOIN families f ON f.id = r.family_id AND f.municipality_id = r.municipality_id JOIN postpartum_applications p ON p.family_id = r.family_id AND p.municipality_id = r.municipality_id AND p.status = 'approved' WHERE r.municipality_id = ? AND r.email_on = 1 AND p.stay_first >= ? AND p.stay_first <= ? AND (a.family_relation = 'mother' OR (f.partner_view_off = 0 AND f.partner_sees_health = 1)) AND NOT EXISTS (SELECT 1 FROM reminders_sent x WHERE x.account_id = a.id AND x.item = 'stay:' || p.id AND x.channel = 'email' AND x.sent_at IS NOT NULL AND x.municipality_id = r.municipality_id) UNION ALL SELECT a.id, r.email, r.days_before, r.lang_en, 'group:' || s.id AS item, s.day AS day FROM reminder_settings r JOIN accounts a ON a.id = r.account_id AND a.municipality_id = r.municipality_id AND a.disabled = 0 JOIN families f ON f.id = r.family_id AND f.municipality_id = r.municipality_id JOIN group_session_members g ON g.family_id = r.family_id AND g.municipality_id = r.municipality_id AND g.attended IS NULL JOIN group_sessions s ON s.id = g.session_id AND s.municipality_id = g.municipality_id AND s.attendance_at IS NULL JOIN contacts c ON c.id = g.contact_id AND c.municipality_id = g.municipality_id AND c.awaits = 1 AND c.hidden = 0 WHERE r.municipality_id = ? AND r.email_on = 1 AND s.day >= ? AND s.day <= ? AND (a.family_relation = 'mother' OR (f.partner_view_off = 0 AND f.partner_sees_health = 1)) AND NOT EXISTS (SELECT 1 FROM reminders_sent x WHERE x.account_id = a.id AND x.item = 'group:' || s.id AND x.channel = 'email' AND x.sent_at IS NOT NULL AND x.municipality_id = r.municipality_id) ORDER BY 6, 1, 5 LIMIT ?";

/// An account with a browser subscribed to push, in place of `r.email_on`.
const PUSH_ON: &str = "EXISTS (SELECT 1 FROM push_subscriptions ps WHERE ps.account_id = r.account_id \
                       AND ps.municipality_id = r.municipality_id)";

#[async_trait]
impl ReminderStore for SqliteStore {
    async fn reminder_settings(&self, ctx: &AuditContext, family: FamilyId) -> Result<ReminderSettings> {
        let row: Option<(String, bool, i64, bool)> = sqlx::query_as(
            "SELECT email, email_on, days_before, lang_en FROM reminder_settings \
             WHERE account_id = ? AND family_id = ? AND municipality_id = ?",
        )
        .bind(ctx.actor.0)
        .bind(family.0)
        .bind(ctx.municipality_id.0)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_err)?;
        self.audit_read(ctx, AuditAction::ReminderView, Some(family), "").await?;
        Ok(match row {
            Some((email, email_on, days, lang_en)) => {
                ReminderSettings { email, email_on, days_before: u8::try_from(days).unwrap_or(1), lang_en }
            }
            None => ReminderSettings::default(),
        })
    }

    async fn set_reminder_settings(&self, ctx: &AuditContext, family: FamilyId, s: &ReminderSettings) -> Result<()> {
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        sqlx::query(
            "INSERT INTO reminder_settings (account_id, municipality_id, family_id, email, email_on, days_before, lang_en, \
             updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (account_id) DO UPDATE SET email = excluded.email, email_on = excluded.email_on, \
             days_before = excluded.days_before, lang_en = excluded.lang_en, updated_at = excluded.updated_at, \
             family_id = excluded.family_id WHERE reminder_settings.municipality_id = excluded.municipality_id",
        )
        .bind(ctx.actor.0)
        .bind(ctx.municipality_id.0)
        .bind(family.0)
        .bind(&s.email)
        .bind(s.email_on)
        .bind(i64::from(s.days_before))
        .bind(s.lang_en)
        .bind(ctx.at.to_string())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let detail = tsunagu_store::reminders::reminder_set_detail(s);
        append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::ReminderSet, Some(family), &detail).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn reminder_candidates(
        &self,
        m: MunicipalityId,
        channel: Channel,
        from: Date,
        to: Date,
        limit: u32,
    ) -> Result<Vec<ReminderCandidate>> {
        type Row = (i64, String, i64, bool, String, String);
        let on = match channel {
            Channel::Email => "r.email_on = 1",
            Channel::Push => PUSH_ON,
        };
        let sql = CANDIDATES
            .replace("r.email_on = 1", on)
            .replace("x.channel = 'email'", &format!("x.channel = '{}'", channel.as_str()));
        let q = sqlx::query_as::<_, Row>(&sql);
        let rows: Vec<Row> = q
            .bind(m.0)
            .bind(from.to_string())
            .bind(to.to_string())
            .bind(m.0)
            .bind(from.to_string())
            .bind(to.to_string())
            .bind(m.0)
            .bind(from.to_string())
            .bind(to.to_string())
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await
            .map_err(db_err)?;
        rows.into_iter()
            .map(|(account, email, days, lang_en, item, day)| {
                Ok(ReminderCandidate {
                    account_id: AccountId(account),
                    email,
                    days_before: u8::try_from(days).unwrap_or(1),
                    lang_en,
                    item,
                    day: date(&day)?,
                })
            })
            .collect()
    }

    async fn claim_reminder(&self, key: ReminderKey<'_>, holder: &str, now_secs: i64, until_secs: i64) -> Result<bool> {
        let ReminderKey { municipality: m, account, item, channel } = key;
        // Inserted, or taken over from a claim that was neither sent nor is
        // still held: a conditional upsert, as a job's lease is taken.
        let claimed: Option<i64> = sqlx::query_scalar(
            "INSERT INTO reminders_sent (municipality_id, account_id, item, channel, claimed_by, claimed_until) \
             VALUES (?, ?, ?, ?, ?, ?) \
             ON CONFLICT (account_id, item, channel) DO UPDATE SET claimed_by = excluded.claimed_by, \
             claimed_until = excluded.claimed_until, attempts = reminders_sent.attempts + 1 \
             WHERE reminders_sent.sent_at IS NULL AND reminders_sent.claimed_until <= ? \
             AND reminders_sent.municipality_id = excluded.municipality_id \
             RETURNING account_id",
        )
        .bind(m.0)
        .bind(account.0)
        .bind(item)
        .bind(channel)
        .bind(holder)
        .bind(until_secs)
        .bind(now_secs)
        .fetch_optional(&self.writer)
        .await
        .map_err(db_err)?;
        Ok(claimed.is_some())
    }

    async fn reminder_sent(&self, key: ReminderKey<'_>, at: jiff::Timestamp) -> Result<()> {
        let ReminderKey { municipality: m, account, item, channel } = key;
        sqlx::query(
            "UPDATE reminders_sent SET sent_at = ? \
             WHERE municipality_id = ? AND account_id = ? AND item = ? AND channel = ?",
        )
        .bind(at.to_string())
        .bind(m.0)
        .bind(account.0)
        .bind(item)
        .bind(channel)
        .execute(&self.writer)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn release_reminder(&self, key: ReminderKey<'_>) -> Result<()> {
        let ReminderKey { municipality: m, account, item, channel } = key;
        sqlx::query(
            "UPDATE reminders_sent SET claimed_until = 0 \
             WHERE municipality_id = ? AND account_id = ? AND item = ? AND channel = ? AND sent_at IS NULL",
        )
        .bind(m.0)
        .bind(account.0)
        .bind(item)
        .bind(channel)
        .execute(&self.writer)
        .await
        .map_err(db_err)?;
        Ok(())
    }
}
