//! Postpartum care in the store: facilities, applications, stays.

use crate::Result;
use async_trait::async_trait;
use jiff::Timestamp;
use tsunagu_domain::audit::AuditContext;
use tsunagu_domain::dates::DateRange;
use tsunagu_domain::notes::NoteAudience;
use tsunagu_domain::places::Venue;
use tsunagu_domain::postpartum::application::{Application, ApplicationStatus, NewApplication};
use tsunagu_domain::postpartum::calendar::FacilityCalendar;
use tsunagu_domain::postpartum::day_record::DayRecord;
use tsunagu_domain::postpartum::fees::FeeTable;
use tsunagu_domain::{AccountId, ApplicationId, AreaId, FamilyId, MunicipalityId, VenueId};

/// What a review of an application reads besides the application (#10): the
/// caller says which, as the policy allowed (`ViewScreenings` on the family,
/// `ManageReferrals`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReviewReads {
    /// The family's latest screening results, at most this many.
    pub screenings: Option<u32>,
    /// The family's open referrals.
    pub open_referrals: bool,
}

/// An application with what a nurse decides it on, read as one action
/// (`application_review`, one `postpartum.view` line).
#[derive(Debug, Clone)]
pub struct ApplicationReview {
    pub application: Application,
    pub notes: Vec<StayNote>,
    /// The days of this stay the facility recorded as used.
    pub used_days: Vec<jiff::civil::Date>,
    /// The family's record as it stands (eligibility today is decided on it).
    pub record: tsunagu_domain::records::FamilyRecord,
    /// The family's other applications, latest stay first (at most 20), each
    /// with the days the facility recorded as used.
    pub others: Vec<(Application, u32)>,
    /// The latest screening results, newest first (when asked for).
    pub screenings: Vec<crate::StoredScreening>,
    /// The open referrals (when asked for).
    pub referrals: Vec<crate::StoredReferral>,
}

/// A postpartum-care facility: its venue, operator and calendar (opening
/// rules and capacity pools), kept as data so each city can configure its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostpartumFacility {
    pub venue: Venue,
    pub operator_ja: String,
    pub operator_en: String,
    pub calendar: FacilityCalendar,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplicationFilter {
    pub family_id: Option<FamilyId>,
    pub venue_id: Option<VenueId>,
    pub status: Option<ApplicationStatus>,
    pub limit: u32,
}

/// What approving an application books: one place in capacity pool `pool`
/// of the application's facility on each day of the stay, where `places`
/// holds each day's places (from the facility calendar, worked out by the
/// caller). The store takes the places atomically or not at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    pub pool: u32,
    pub places: Vec<(jiff::civil::Date, u32)>,
}

/// What approving an application decides from, read by the store inside
/// the approval's transaction: the stay asked for, at which facility, whether
/// its fee is to be confirmed, and the family's pregnancies (its residency:
/// `application::resident_during`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalFacts {
    pub venue: VenueId,
    pub service: tsunagu_domain::postpartum::ServiceType,
    pub stay: DateRange,
    pub fee_to_be_confirmed: bool,
    pub pregnancies: Vec<tsunagu_domain::records::Pregnancy>,
}

/// What an approval takes: the places, and the fee the nurse confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub booking: Booking,
    pub fee_yen: Option<u32>,
}

/// The caller's decision on [`ApprovalFacts`]: the approval, or why not.
/// What applying decides on the family's record as the change's own
/// transaction reads it: the application to store, or why not.
pub type ApplicationCheck<'a> = dyn Fn(&tsunagu_domain::records::FamilyRecord) -> Result<NewApplication> + Sync + 'a;

pub type ApprovalCheck<'a> = dyn Fn(&ApprovalFacts) -> Result<Approval> + Sync + 'a;

/// A facility's day record of a stay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StayNote {
    pub day: jiff::civil::Date,
    pub note: String,
    /// Written for the family or for the office (the family sees only the former).
    pub audience: NoteAudience,
    pub by: AccountId,
    pub at: Timestamp,
    /// The structured part of the day's record (#10): the care given and
    /// the mother's and the baby's condition; empty for a plain note.
    pub record: DayRecord,
}

/// Use of a facility within a range of days. The figures are the days the
/// facility recorded as used (its daily record, [`PostpartumStore::record_day_use`]);
/// a no-show or an early departure is booked but not used. The `booked_`
/// counts are the approved bookings' days, shown beside where they differ.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageCounts {
    pub short_stay_days: u64,
    pub day_care_days: u64,
    pub outreach_visits: u64,
    /// Families with a used day, counted once however many stays they had.
    pub families: u64,
    pub booked_short_stay_days: u64,
    pub booked_day_care_days: u64,
    pub booked_outreach_visits: u64,
}

/// Postpartum care: facilities and their calendars, applications, approvals against capacity, stays and usage.
#[async_trait]
pub trait PostpartumStore: Send + Sync {
    /// Creates or replaces the facility configuration of a venue of kind
    /// `postpartum_facility` (`InvalidReference("venue_id")` otherwise).
    async fn set_postpartum_facility(
        &self,
        m: MunicipalityId,
        venue: VenueId,
        operator_ja: &str,
        operator_en: &str,
        calendar: &FacilityCalendar,
    ) -> Result<()>;
    async fn postpartum_facilities(&self, m: MunicipalityId) -> Result<Vec<PostpartumFacility>>;
    /// The municipality's fee table (its amounts, reductions and maximum
    /// days per application), if it has set one.
    async fn postpartum_fee_table(&self, m: MunicipalityId) -> Result<Option<FeeTable>>;
    /// Sets (replaces) the municipality's fee table.
    async fn set_postpartum_fee_table(&self, m: MunicipalityId, table: &FeeTable) -> Result<()>;
    /// Stores an application (status `applied`), audited `postpartum.apply`.
    /// `InvalidReference` for a family or facility of another municipality.
    async fn create_application(&self, ctx: &AuditContext, a: &NewApplication) -> Result<ApplicationId>;
    /// Reads `family`'s record inside the change's own transaction (not
    /// audited), makes the application with `check` (the babies, siblings,
    /// bracket and eligibility it decides on) and stores it as
    /// `create_application` does: one `postpartum.apply` line. `NotFound`
    /// for a family not in the context's municipality.
    async fn create_application_checked(
        &self,
        ctx: &AuditContext,
        family: FamilyId,
        check: &ApplicationCheck<'_>,
    ) -> Result<ApplicationId>;
    /// Applications matching the filter, newest first, audited `postpartum.list`.
    async fn applications(&self, ctx: &AuditContext, filter: &ApplicationFilter) -> Result<Vec<Application>>;
    /// How many applications of `m` wait for review (status `applied`): a
    /// count, no names, so not audited (the work list's chip, #10).
    async fn applications_waiting(&self, m: MunicipalityId) -> Result<u64>;
    /// What the policy needs to decide on an application (like
    /// `family_access`): its family and facility, if it is in `m`. No
    /// personal data; not audited.
    async fn application_owner(&self, m: MunicipalityId, id: ApplicationId) -> Result<Option<(FamilyId, VenueId)>>;
    /// One application, audited `postpartum.view`.
    async fn application(&self, ctx: &AuditContext, id: ApplicationId) -> Result<Option<Application>>;
    /// One application with its stay: the day notes and the days the
    /// facility recorded as used — what its page shows, read as one and
    /// audited with one line, `postpartum.view`.
    async fn application_stay(
        &self,
        ctx: &AuditContext,
        id: ApplicationId,
    ) -> Result<Option<(Application, Vec<StayNote>, Vec<jiff::civil::Date>)>>;
    /// An application with what its review needs (#10): its notes and used
    /// days, the family's record, its other applications and the days they
    /// used, and what `reads` names; one `postpartum.view` line naming the
    /// family. `None` for an application not in the context's municipality.
    async fn application_review(
        &self,
        ctx: &AuditContext,
        id: ApplicationId,
        reads: ReviewReads,
    ) -> Result<Option<ApplicationReview>>;
    /// Approves an `applied` application and takes its places, all or
    /// nothing: `Conflict("no_capacity")` if any day is full (or has no
    /// places), `Conflict("not_applied")` if it was already decided. Concurrent
    /// approvals never take more places than a day has, on either back end.
    /// The note is written for `audience` (the family sees only a family note).
    /// `fee_yen` is the amount the nurse confirmed: required
    /// (`Conflict("fee_required")`) when the application's fee was to be
    /// confirmed, and kept only then.
    async fn approve_application_noted(
        &self,
        ctx: &AuditContext,
        id: ApplicationId,
        booking: &Booking,
        note: &str,
        audience: NoteAudience,
        fee_yen: Option<u32>,
    ) -> Result<()> {
        let approval = Approval { booking: booking.clone(), fee_yen };
        self.approve_application_checked(ctx, id, &|_| Ok(approval.clone()), note, audience).await
    }
    /// [`approve_application_noted`](Self::approve_application_noted) with
    /// the booking and the fee that `check` makes of the application and its
    /// family as they stand inside the approval's own transaction
    /// ([`ApprovalFacts`]): one audit line, `postpartum.approve`, and no read
    /// of the application or the record before it. `check`'s refusal
    /// (`Conflict("not_resident")`, `Invalid` for the fee, …) is the answer;
    /// `Conflict("not_applied")` comes first.
    async fn approve_application_checked(
        &self,
        ctx: &AuditContext,
        id: ApplicationId,
        check: &ApprovalCheck<'_>,
        note: &str,
        audience: NoteAudience,
    ) -> Result<()>;
    /// [`approve_application_noted`](Self::approve_application_noted) with a note for the office.
    async fn approve_application(
        &self,
        ctx: &AuditContext,
        id: ApplicationId,
        booking: &Booking,
        note: &str,
        fee_yen: Option<u32>,
    ) -> Result<()> {
        self.approve_application_noted(ctx, id, booking, note, NoteAudience::Office, fee_yen).await
    }
    /// Rejects an `applied` application (`Conflict("not_applied")` otherwise),
    /// with a note written for `audience`.
    async fn reject_application_noted(
        &self,
        ctx: &AuditContext,
        id: ApplicationId,
        note: &str,
        audience: NoteAudience,
    ) -> Result<()>;
    /// [`reject_application_noted`](Self::reject_application_noted) with a note for the office.
    async fn reject_application(&self, ctx: &AuditContext, id: ApplicationId, note: &str) -> Result<()> {
        self.reject_application_noted(ctx, id, note, NoteAudience::Office).await
    }
    /// Cancels an `applied` or `approved` application, freeing its places,
    /// with a note written for `audience`.
    async fn cancel_application_noted(
        &self,
        ctx: &AuditContext,
        id: ApplicationId,
        note: &str,
        audience: NoteAudience,
    ) -> Result<()>;
    /// [`cancel_application_noted`](Self::cancel_application_noted) with a note for the office.
    async fn cancel_application(&self, ctx: &AuditContext, id: ApplicationId, note: &str) -> Result<()> {
        self.cancel_application_noted(ctx, id, note, NoteAudience::Office).await
    }
    /// Places taken in a facility's pool on each day of `range` (days with none are left out).
    async fn places_taken(
        &self,
        m: MunicipalityId,
        venue: VenueId,
        pool: u32,
        range: DateRange,
    ) -> Result<Vec<(jiff::civil::Date, u32)>>;
    /// A facility's structured record of one day of an approved stay (#10):
    /// the care given, the mother's and the baby's condition, and a note,
    /// written for `audience`, audited `postpartum.note`.
    /// `Conflict("not_approved")` / `Conflict("day_not_in_stay")`. Whether
    /// the day has come is the caller's (`day_record::recordable`, with the clock).
    async fn record_stay_day(
        &self,
        ctx: &AuditContext,
        id: ApplicationId,
        day: jiff::civil::Date,
        record: &DayRecord,
        note: &str,
        audience: NoteAudience,
    ) -> Result<()>;
    /// A facility's plain note on one day of an approved stay (a record
    /// with only its note), written for `audience`.
    async fn record_stay_note_for(
        &self,
        ctx: &AuditContext,
        id: ApplicationId,
        day: jiff::civil::Date,
        note: &str,
        audience: NoteAudience,
    ) -> Result<()> {
        self.record_stay_day(ctx, id, day, &DayRecord::default(), note, audience).await
    }
    /// [`record_stay_note_for`](Self::record_stay_note_for) the office.
    async fn record_stay_note(
        &self,
        ctx: &AuditContext,
        id: ApplicationId,
        day: jiff::civil::Date,
        note: &str,
    ) -> Result<()> {
        self.record_stay_note_for(ctx, id, day, note, NoteAudience::Office).await
    }
    async fn stay_notes(&self, ctx: &AuditContext, id: ApplicationId) -> Result<Vec<StayNote>>;
    /// The facility's daily record of use: day `day` of an approved stay was
    /// used (`true`) or not (`false`, undoing a mark), audited
    /// `postpartum.note`. `Conflict("not_approved")` / `Conflict("day_not_in_stay")`.
    async fn record_day_use(
        &self,
        ctx: &AuditContext,
        id: ApplicationId,
        day: jiff::civil::Date,
        used: bool,
    ) -> Result<()>;
    /// The days of an application the facility recorded as used, in order,
    /// audited `postpartum.view`.
    async fn used_days(&self, ctx: &AuditContext, id: ApplicationId) -> Result<Vec<jiff::civil::Date>>;
    /// Recorded use (and approved bookings) of one facility on the days of `range`.
    async fn postpartum_usage(&self, m: MunicipalityId, venue: VenueId, range: DateRange) -> Result<UsageCounts>;
    /// Families with recorded use of any facility on the days of `range`, per
    /// area of the family, each family counted once.
    async fn postpartum_users_by_area(&self, m: MunicipalityId, range: DateRange) -> Result<Vec<(AreaId, u64)>>;
}
