//! The reminders job (#10): sends the e-mail reminders that are due, one
//! per item, account and channel however often it runs and on however many
//! nodes. Each reminder is claimed in the store before it is sent (a unique
//! key, as the daily job's lease is taken); a failed send gives its claim
//! back and is tried again at the next run; a node that dies mid-send leaves
//! a claim that expires after [`CLAIM`]. Runs off the request path
//! (`tsunagu serve` spawns it when `--smtp-relay` or `--push-proxy` is
//! given); logs carry counts only. Web push goes the same way on its own
//! channel ([`run_push_reminders`]): one push per item and account, to each
//! browser the account subscribed; a browser the push service says is gone
//! (404, 410) is deleted.

use crate::push::{self as web_push, Delivery, Pusher};
use crate::smtp::{self, SmtpRelay};
use jiff::{SignedDuration, Timestamp};
use tsunagu_domain::reminders::{compose, is_due, message, Channel, MAX_DAYS_BEFORE};
use tsunagu_store::{ReminderKey, Store};

/// How long a claim holds before another run may take it over.
pub const CLAIM: SignedDuration = SignedDuration::from_mins(10);
/// The most candidates read per municipality and run (the next run takes the rest).
const BATCH: u32 = 500;

/// What the mail is sent with.
#[derive(Debug, Clone)]
pub struct Mailer {
    pub relay: SmtpRelay,
    /// The envelope and header sender (`--mail-from`).
    pub from: String,
    /// The link in the mail: the family's own record (`<public URL>/me`).
    pub link: String,
}

/// What one run did, in counts.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReminderRun {
    pub sent: usize,
    pub failed: usize,
    /// Due, but claimed by another run or node.
    pub held_elsewhere: usize,
}

/// Sends every reminder due `today` (Japan) in every municipality, as `holder`.
pub async fn run_reminders(
    store: &dyn Store,
    mailer: &Mailer,
    today: jiff::civil::Date,
    now: Timestamp,
    holder: &str,
) -> anyhow::Result<ReminderRun> {
    let mut run = ReminderRun::default();
    let to = today.checked_add(jiff::Span::new().days(i64::from(MAX_DAYS_BEFORE)))?;
    let until = now.checked_add(CLAIM)?.as_second();
    for m in store.municipalities().await? {
        for c in store.reminder_candidates(m.id, Channel::Email, today, to, BATCH).await? {
            if !is_due(c.day, today, c.days_before) {
                continue;
            }
            let key = ReminderKey { municipality: m.id, account: c.account_id, item: &c.item, channel: "email" };
            if !store.claim_reminder(key, holder, now.as_second(), until).await? {
                run.held_elsewhere += 1;
                continue;
            }
            let (subject, body) = message(c.day, c.lang_en, &mailer.link);
            let date = now.strftime("%a, %d %b %Y %H:%M:%S +0000").to_string();
            let id = format!("{}.{}.{}@tsunagu", c.item.replace(':', "-"), c.account_id.0, now.as_second());
            let data = compose(&mailer.from, &c.email, &subject, &body, &date, &id);
            match smtp::send(&mailer.relay, &mailer.from, &c.email, &data).await {
                Ok(()) => {
                    store.reminder_sent(key, now).await?;
                    run.sent += 1;
                }
                Err(e) => {
                    // Never the address or the item: what went wrong only.
                    tracing::warn!(error = %e, "a reminder could not be sent; it is tried again at the next run");
                    store.release_reminder(key).await?;
                    run.failed += 1;
                }
            }
        }
    }
    Ok(run)
}

/// Pushes every reminder due `today` (Japan) in every municipality to the
/// browsers of the accounts that subscribed, as `holder`: claimed as the
/// mail is (channel `push`); taken by one browser at least, it is sent; a
/// subscription the push service says is gone is deleted; any other failure
/// gives the claim back for the next run.
pub async fn run_push_reminders(
    store: &dyn Store,
    pusher: &Pusher,
    today: jiff::civil::Date,
    now: Timestamp,
    holder: &str,
) -> anyhow::Result<PushRun> {
    let mut run = PushRun::default();
    let to = today.checked_add(jiff::Span::new().days(i64::from(MAX_DAYS_BEFORE)))?;
    let until = now.checked_add(CLAIM)?.as_second();
    for m in store.municipalities().await? {
        for c in store.reminder_candidates(m.id, Channel::Push, today, to, BATCH).await? {
            if !is_due(c.day, today, c.days_before) {
                continue;
            }
            let key = ReminderKey { municipality: m.id, account: c.account_id, item: &c.item, channel: "push" };
            if !store.claim_reminder(key, holder, now.as_second(), until).await? {
                run.held_elsewhere += 1;
                continue;
            }
            let payload = tsunagu_domain::push::message(c.day, c.lang_en);
            let mut taken = false;
            let mut failed = false;
            for target in store.push_targets(m.id, c.account_id).await? {
                match web_push::send(pusher, &target.subscription, payload.as_bytes(), now.as_second()).await {
                    Ok(Delivery::Taken) => taken = true,
                    Ok(Delivery::Gone) => {
                        store.drop_push_subscription(m.id, target.id).await?;
                        run.gone += 1;
                    }
                    Err(e) => {
                        // What went wrong only: never the endpoint or the item.
                        tracing::warn!(error = %e, "a push could not be sent; it is tried again at the next run");
                        failed = true;
                    }
                }
            }
            if taken {
                store.reminder_sent(key, now).await?;
                run.sent += 1;
            } else {
                store.release_reminder(key).await?;
                if failed {
                    run.failed += 1;
                }
            }
        }
    }
    Ok(run)
}

/// What one push run did, in counts.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PushRun {
    /// Reminders taken by at least one browser.
    pub sent: usize,
    /// Reminders none of whose browsers took them (tried again later).
    pub failed: usize,
    /// Subscriptions deleted because the push service said they are gone.
    pub gone: usize,
    pub held_elsewhere: usize,
}
