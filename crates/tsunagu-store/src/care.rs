//! Referrals, online follow-ups and talks, incident reports.

use crate::Result;
use async_trait::async_trait;
use jiff::Timestamp;
use tsunagu_domain::audit::AuditContext;
use tsunagu_domain::dates::DateRange;
use tsunagu_domain::postpartum::safety::IncidentHeading;
use tsunagu_domain::referrals::{Referral, ReferralAction};
use tsunagu_domain::{
    AccountId, ApplicationId, FamilyId, FollowupId, IncidentId, MunicipalityId, ReferralId, TalkId, VenueId,
};

/// A referral as stored: the domain's state, who raised it and about what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReferral {
    pub id: ReferralId,
    pub municipality_id: MunicipalityId,
    pub referral: Referral,
    /// What the raiser saw, in their words (shown to nurses, never to the raiser's peers).
    pub note: String,
    pub raised_by_account: AccountId,
    pub raised_at: Timestamp,
    /// The facility a postpartum-care alert came from, and its application.
    pub venue_id: Option<VenueId>,
    pub application_id: Option<ApplicationId>,
    pub updated_at: Timestamp,
    /// The mother's name, for nurses' lists.
    pub mother_name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReferralFilter {
    pub family_id: Option<FamilyId>,
    /// Only those this account raised (what a raiser may see: the status).
    pub raised_by: Option<AccountId>,
    /// Only referrals not closed.
    pub open_only: bool,
    pub limit: u32,
}

/// One step in a referral's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralEvent {
    pub action: String,
    pub by: AccountId,
    pub at: Timestamp,
    pub note: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowupStatus {
    Booked,
    Cancelled,
}

/// A booked online follow-up consultation (20 minutes) [001].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Followup {
    pub id: FollowupId,
    pub municipality_id: MunicipalityId,
    pub venue_id: VenueId,
    pub family_id: FamilyId,
    /// Start of the slot, as a civil date-time in Japan.
    pub start: jiff::civil::DateTime,
    pub status: FollowupStatus,
    pub booked_by: AccountId,
    pub mother_name: String,
}

/// A session of the coordinator's online talk for current users [001].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnlineTalk {
    pub id: TalkId,
    pub municipality_id: MunicipalityId,
    pub venue_id: VenueId,
    pub starts: jiff::civil::DateTime,
    pub minutes: u16,
    pub title: String,
    pub attendees: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIncident {
    pub venue_id: VenueId,
    pub heading: IncidentHeading,
    pub occurred: jiff::civil::DateTime,
    pub summary: String,
    /// The family concerned, if any (the report is then audited as a read of them).
    pub family_id: Option<FamilyId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incident {
    pub id: IncidentId,
    pub municipality_id: MunicipalityId,
    pub venue_id: VenueId,
    pub heading: IncidentHeading,
    pub occurred: jiff::civil::DateTime,
    pub summary: String,
    pub family_id: Option<FamilyId>,
    pub reported_by: AccountId,
    pub reported_at: Timestamp,
}

/// The follow-up work around a family: referrals and their history, online follow-up consultations, the coordinator's online talks, incident reports.
/// The state a step moves a referral to, given the state it is in (read by
/// the store for the step), or why not.
/// What decides whether a family may consult a facility online on a day
/// (domain `check_followup`): the last days of its approved stays there and
/// its latest baby's birth date.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FollowupFacts {
    pub stay_last_days: Vec<jiff::civil::Date>,
    pub baby_birth_date: Option<jiff::civil::Date>,
}

/// A booking's check on the family's facts, inside the booking's transaction.
pub type FollowupCheck<'a> = dyn Fn(&FollowupFacts) -> Result<()> + Sync + 'a;

pub type ReferralStep<'a> = dyn Fn(&Referral) -> Result<Referral> + Sync + 'a;

#[async_trait]
pub trait CareStore: Send + Sync {
    /// Stores a new referral (`referrals::raise` made it), audited `referral.raise`
    /// with the family. `InvalidReference("family_id")` for another municipality's family.
    async fn raise_referral(
        &self,
        ctx: &AuditContext,
        r: &Referral,
        note: &str,
        venue: Option<VenueId>,
        application: Option<ApplicationId>,
    ) -> Result<ReferralId>;
    /// Referrals matching the filter, urgent first then newest, audited `referral.list`.
    async fn referrals(&self, ctx: &AuditContext, filter: &ReferralFilter) -> Result<Vec<StoredReferral>>;
    async fn referral(&self, ctx: &AuditContext, id: ReferralId) -> Result<Option<StoredReferral>>;
    /// Moves a referral to `next` (worked out by `referrals::apply`) if it is
    /// still exactly in the `expected` state — status, escalation, 特定妊婦
    /// flag and close reason — else `Conflict("referral_changed")`, so two
    /// nurses acting at once cannot undo each other's step; records
    /// the step in its history, and marks the family escalated when `next` is.
    /// Audited `referral.update` with the family.
    async fn update_referral(
        &self,
        ctx: &AuditContext,
        id: ReferralId,
        expected: &Referral,
        next: &Referral,
        action: ReferralAction,
        note: &str,
    ) -> Result<()>;
    async fn referral_events(&self, ctx: &AuditContext, id: ReferralId) -> Result<Vec<ReferralEvent>>;
    /// One referral with its steps — what its page shows — read as one and
    /// audited with one line, `referral.list` (`referral=… events=…`).
    async fn referral_with_events(
        &self,
        ctx: &AuditContext,
        id: ReferralId,
    ) -> Result<Option<(StoredReferral, Vec<ReferralEvent>)>>;
    /// [`update_referral`](Self::update_referral) to the state `step` makes
    /// of the referral as the store reads it (the domain's
    /// `referrals::apply`), without a line for that read: the step is the one
    /// audit line, `referral.update`. `step`'s refusal is the answer.
    async fn step_referral(
        &self,
        ctx: &AuditContext,
        id: ReferralId,
        step: &ReferralStep<'_>,
        action: ReferralAction,
        note: &str,
    ) -> Result<()>;
    /// Books a follow-up slot at a facility for a family: one family per slot
    /// (`Conflict("slot_taken")`), audited `followup.book`.
    async fn book_followup(
        &self,
        ctx: &AuditContext,
        venue: VenueId,
        family: FamilyId,
        start: jiff::civil::DateTime,
    ) -> Result<FollowupId>;
    /// Bookings (cancelled ones too) on the days of `range`, optionally of one
    /// facility or family, by start; audited `followup.list`.
    async fn followups(
        &self,
        ctx: &AuditContext,
        venue: Option<VenueId>,
        family: Option<FamilyId>,
        range: DateRange,
    ) -> Result<Vec<Followup>>;
    async fn cancel_followup(&self, ctx: &AuditContext, id: FollowupId) -> Result<()>;
    /// Whose a booking is and when it starts, in `m` (facts the policy's
    /// decision needs before cancelling, like `application_owner`; no
    /// personal data, not audited).
    async fn followup_owner(
        &self,
        m: MunicipalityId,
        id: FollowupId,
    ) -> Result<Option<(FamilyId, jiff::civil::DateTime)>>;
    /// The starts of the slots booked at `venue` on the days of `range`, and
    /// what decides `family`'s consultations there, read as one
    /// `followup.list` line with the family.
    async fn followup_slots(
        &self,
        ctx: &AuditContext,
        family: FamilyId,
        venue: VenueId,
        range: DateRange,
    ) -> Result<(Vec<jiff::civil::DateTime>, FollowupFacts)>;
    /// Books as `book_followup` does once `check` passes on the family's
    /// facts, read inside the booking's own transaction: one `followup.book`
    /// line.
    async fn book_followup_checked(
        &self,
        ctx: &AuditContext,
        venue: VenueId,
        family: FamilyId,
        start: jiff::civil::DateTime,
        check: &FollowupCheck<'_>,
    ) -> Result<FollowupId>;
    /// Consultations held or booked (not cancelled) on the days of `range`: the yearly count.
    async fn followup_count(&self, m: MunicipalityId, range: DateRange) -> Result<u64>;
    async fn create_online_talk(
        &self,
        ctx: &AuditContext,
        venue: VenueId,
        starts: jiff::civil::DateTime,
        minutes: u16,
        title: &str,
    ) -> Result<TalkId>;
    /// Talks on the days of `range` with their number of attendees (no names).
    async fn online_talks(&self, m: MunicipalityId, range: DateRange) -> Result<Vec<OnlineTalk>>;
    /// A family joins a talk (`Conflict("already_joined")`), audited `talk.join`.
    async fn join_online_talk(&self, ctx: &AuditContext, talk: TalkId, family: FamilyId) -> Result<()>;
    /// Stores an incident report, audited `incident.report` (with the family, if any).
    async fn report_incident(&self, ctx: &AuditContext, i: &NewIncident) -> Result<IncidentId>;
    /// Reports on the days of `range`, optionally of one facility, newest first; audited `incident.list`.
    async fn incidents(&self, ctx: &AuditContext, venue: Option<VenueId>, range: DateRange) -> Result<Vec<Incident>>;
}
