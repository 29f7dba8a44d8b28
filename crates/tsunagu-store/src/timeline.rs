//! The timeline in the store: contacts, outcomes, work lists.

use crate::Result;
use async_trait::async_trait;
use jiff::Timestamp;
use tsunagu_domain::audit::AuditContext;
use tsunagu_domain::notes::NoteAudience;
use tsunagu_domain::policy::FamilyFilter;
use tsunagu_domain::records::{Baby, Pregnancy, PregnancyEnd, PregnancyStatus};
use tsunagu_domain::roles::Role;
use tsunagu_domain::timeline::{ContactKind, KindSet, Outcome, StoredContact};
use tsunagu_domain::validation::FieldErrors;
use tsunagu_domain::{AccountId, AreaId, ContactId, FamilyId, MunicipalityId, PregnancyId};

/// A stored contact with what the lists show beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRow {
    pub contact: StoredContact,
    pub municipality_id: MunicipalityId,
    pub family_id: FamilyId,
    pub area_id: AreaId,
    /// The mother's name, for staff lists.
    pub mother_name: String,
    /// A free-text note recorded with the outcome.
    pub outcome_note: String,
    /// Whom the outcome's note was written for (the family sees only a family note).
    pub outcome_note_audience: NoteAudience,
    pub outcome_by: Option<AccountId>,
    pub outcome_at: Option<Timestamp>,
    /// The day the contact took place, as recorded with the outcome (#10);
    /// `None` for outcomes recorded without one (their day is `outcome_at`'s).
    pub contacted_on: Option<jiff::civil::Date>,
    /// The first day after the window closed with the contact still awaiting
    /// work, stamped by the daily job (or by the write that moved the window
    /// into the past): the day a staff contact became missed, or an offer lapsed.
    pub missed_on: Option<jiff::civil::Date>,
}

/// Which list of a work list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WorkList {
    /// Due Monday–Sunday of this week and not yet overdue.
    DueThisWeek,
    /// Past due, window still open.
    Overdue,
    /// Window closed with nothing recorded (staff contacts only).
    Missed,
    /// Every 3–4-month check not attended: past due and still awaiting (a
    /// "not reached" keeps it so), until somebody records what happened
    /// (未受診者の全数把握).
    CheckNonAttendees,
    /// Everything still awaiting work whose window has opened.
    Open,
}

impl WorkList {
    pub const ALL: [WorkList; 5] =
        [WorkList::DueThisWeek, WorkList::Overdue, WorkList::Missed, WorkList::CheckNonAttendees, WorkList::Open];

    pub fn as_str(self) -> &'static str {
        match self {
            WorkList::DueThisWeek => "due_this_week",
            WorkList::Overdue => "overdue",
            WorkList::Missed => "missed",
            WorkList::CheckNonAttendees => "check_non_attendees",
            WorkList::Open => "open",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum WorkSort {
    /// Earliest due first (the default: the most pressing on top).
    #[default]
    Due,
    /// Latest due first.
    DueDesc,
    /// Earliest window close first (what will be missed next).
    Closes,
    /// By kind of contact, then due.
    Kind,
    /// By area, then due.
    Area,
}

impl WorkSort {
    pub const ALL: [WorkSort; 5] = [WorkSort::Due, WorkSort::DueDesc, WorkSort::Closes, WorkSort::Kind, WorkSort::Area];

    pub fn as_str(self) -> &'static str {
        match self {
            WorkSort::Due => "due",
            WorkSort::DueDesc => "due_desc",
            WorkSort::Closes => "closes",
            WorkSort::Kind => "kind",
            WorkSort::Area => "area",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The `ORDER BY` of a page, over the contacts aliased `c` (the same SQL
    /// on both back ends; `c.id` makes every order total, so pages never overlap).
    pub fn order_by(self) -> &'static str {
        match self {
            WorkSort::Due => " ORDER BY c.due, c.id",
            WorkSort::DueDesc => " ORDER BY c.due DESC, c.id DESC",
            WorkSort::Closes => " ORDER BY c.closes, c.id",
            WorkSort::Kind => " ORDER BY c.kind, c.due, c.id",
            WorkSort::Area => " ORDER BY c.area_id, c.due, c.id",
        }
    }
}

/// Whose contacts a work list covers: the actor's listing filter (a
/// coordinator sees consenting families of their areas only), narrowed to
/// an owner role, some areas and a kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkScope {
    pub filter: FamilyFilter,
    /// Only contacts this role owns (a nurse's own list, a coordinator's).
    pub owner: Option<Role>,
    /// Only these areas; empty means every area the filter allows.
    pub areas: Vec<AreaId>,
    pub kind: Option<ContactKind>,
    /// Today in Japan: the lists are drawn from the dates.
    pub today: jiff::civil::Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkListQuery {
    pub scope: WorkScope,
    pub list: WorkList,
    pub sort: WorkSort,
    pub limit: u32,
    pub offset: u32,
}

/// The day a contact took place as recorded, and today in Japan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContactDay {
    pub on: jiff::civil::Date,
    pub today: jiff::civil::Date,
}

/// A contact's day refused by the domain's check, as the field's error.
pub fn contact_day_refused(e: tsunagu_domain::timeline::contact_day::ContactDayError) -> crate::StoreError {
    let mut errors = FieldErrors::default();
    errors.add("contacted_on", e.code());
    crate::StoreError::Invalid(errors)
}

/// The counts shown beside each list (no names: not audited as a read).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkCounts {
    pub due_this_week: u64,
    pub overdue: u64,
    pub missed: u64,
    pub check_non_attendees: u64,
}

/// What one run of the daily missed-marking job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissedRun {
    /// Contacts whose windows closed in `(from, through]` were examined.
    pub from: Option<jiff::civil::Date>,
    pub through: jiff::civil::Date,
    /// Contacts newly stamped missed.
    pub marked: u64,
}

/// The seamless timeline: the contacts every family is owed, outcomes, work lists and the daily job.
/// What the policy needs to know of a contact before anything of it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContactOwner {
    pub family: FamilyId,
    pub kind: tsunagu_domain::timeline::ContactKind,
    /// Shown on no list and no family page (a pregnancy lost).
    pub hidden: bool,
}

/// A change of a pregnancy's facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PregnancyChange {
    Edd(jiff::civil::Date),
    End(PregnancyEnd),
}

impl PregnancyChange {
    /// Whether a pregnancy in `status` may take this change: a new EDD only
    /// while ongoing; a loss while ongoing (after a birth it is
    /// `pregnancy_not_ongoing`); a move also after the birth; nothing once
    /// lost or moved (`pregnancy_ended`). Both stores ask it inside the
    /// change's transaction.
    pub fn allowed_from(self, status: PregnancyStatus) -> Result<()> {
        use PregnancyStatus as S;
        match (self, status) {
            (PregnancyChange::Edd(_), S::Ongoing) => Ok(()),
            (PregnancyChange::Edd(_), _) => Err(crate::StoreError::Conflict("pregnancy_not_ongoing")),
            (PregnancyChange::End(_), S::Ongoing) | (PregnancyChange::End(PregnancyEnd::MovedOut(_)), S::Delivered) => {
                Ok(())
            }
            (PregnancyChange::End(PregnancyEnd::Lost(_)), S::Delivered) => {
                Err(crate::StoreError::Conflict("pregnancy_not_ongoing"))
            }
            (PregnancyChange::End(_), _) => Err(crate::StoreError::Conflict("pregnancy_ended")),
        }
    }
}

/// What a change of a pregnancy is, given the pregnancy and its babies (read
/// inside the change's transaction), or the fields that do not pass.
pub type PregnancyCheck<'a> =
    dyn Fn(&Pregnancy, &[Baby]) -> std::result::Result<PregnancyChange, FieldErrors> + Sync + 'a;

/// What a family's record page shows, read as one action (`family_page`).
#[derive(Debug, Clone)]
pub struct FamilyPage {
    pub record: tsunagu_domain::records::FamilyRecord,
    pub contacts: Vec<ContactRow>,
    pub referrals: Vec<crate::StoredReferral>,
    /// The family's class bookings and postpartum stays ahead of it (when
    /// the read asked for them: `UpcomingFilter`), by first day.
    pub upcoming: Vec<UpcomingItem>,
}

/// Which bookings and stays a family's own page reads with its record
/// (#10, これからの予定): those not over by `from`, at most `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpcomingFilter {
    pub from: jiff::civil::Date,
    /// The mother's postpartum stays too (a health item: the policy's
    /// `ViewHealth` decides, before the read).
    pub stays: bool,
    pub limit: u32,
}

/// What a class booking, an approved postpartum stay or a group interview is, on the family's page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpcomingWhat {
    /// A class booking, confirmed or on the waiting list: the programme's kind.
    Class { programme: String, waiting: bool },
    /// An approved postpartum stay: its service (short_stay, day_care, outreach).
    Stay { service: String },
    /// A confirmed 8th-month group interview the family is in ([002] ③): a
    /// contact with a day and a place (the place is the nurse's words, in
    /// both `venue_ja` and `venue_en`). About the mother: read when stays are.
    Group,
}

/// One booking or stay ahead of a family (`FamilyPage::upcoming`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpcomingItem {
    pub what: UpcomingWhat,
    pub first_day: jiff::civil::Date,
    pub last_day: jiff::civil::Date,
    /// A class's start ('HH:MM', Japan time); empty for a stay.
    pub starts: String,
    pub venue_ja: String,
    pub venue_en: String,
    /// The pregnancy a class booking is for (its babies are named).
    pub pregnancy_id: Option<tsunagu_domain::PregnancyId>,
}

impl UpcomingItem {
    /// One row of the combined read, as both back ends select it: item
    /// ('class' or 'stay'), detail (programme kind or service), waiting.
    #[allow(clippy::too_many_arguments)]
    pub fn of_row(
        item: &str,
        detail: String,
        waiting: bool,
        first_day: jiff::civil::Date,
        last_day: jiff::civil::Date,
        starts: String,
        venue_ja: String,
        venue_en: String,
        pregnancy_id: Option<i64>,
    ) -> Self {
        let what = match item {
            "stay" => UpcomingWhat::Stay { service: detail },
            "group" => UpcomingWhat::Group,
            _ => UpcomingWhat::Class { programme: detail, waiting },
        };
        UpcomingItem {
            what,
            first_day,
            last_day,
            // 'HH:MM' whether a back end keeps seconds or not.
            starts: starts.chars().take(5).collect(),
            venue_ja,
            venue_en,
            pregnancy_id: pregnancy_id.map(tsunagu_domain::PregnancyId),
        }
    }
}

#[async_trait]
pub trait TimelineStore: Send + Sync {
    // Every write that changes a pregnancy's facts (notification, import,
    // birth, new EDD, loss, move) reconciles its contacts in the same
    // transaction (`timeline::reconcile`): nothing is deleted, nothing with an
    // outcome is touched, and each change is in the audit detail.
    /// The kinds of contact the municipality runs (all unless configured).
    async fn contact_kinds(&self, m: MunicipalityId) -> Result<KindSet>;
    /// Sets them; every pregnancy's contacts are then rebuilt by
    /// [`TimelineStore::backfill_timelines`].
    async fn set_contact_kinds(&self, m: MunicipalityId, kinds: KindSet) -> Result<()>;
    /// A new EDD for an ongoing pregnancy. `Conflict("pregnancy_not_ongoing")`.
    async fn change_edd(
        &self,
        ctx: &AuditContext,
        family: FamilyId,
        pregnancy: PregnancyId,
        edd: jiff::civil::Date,
    ) -> Result<()> {
        self.change_pregnancy_checked(ctx, family, pregnancy, &|_, _| Ok(PregnancyChange::Edd(edd))).await
    }
    /// A loss or a move out. `Conflict("pregnancy_not_ongoing")` for a loss
    /// after a birth, `Conflict("pregnancy_ended")` once lost or moved.
    async fn end_pregnancy(
        &self,
        ctx: &AuditContext,
        family: FamilyId,
        pregnancy: PregnancyId,
        end: PregnancyEnd,
    ) -> Result<()> {
        self.change_pregnancy_checked(ctx, family, pregnancy, &|_, _| Ok(PregnancyChange::End(end))).await
    }
    /// A new EDD or an ending, as `check` makes it of the pregnancy and its
    /// babies as they stand inside the change's own transaction (the
    /// domain's `EddChangeInput::check`, `PregnancyEndInput::check`): one
    /// audit line, `family.pregnancy`, and no read of the record before it.
    /// What `check` refuses is `StoreError::Invalid`; then as
    /// [`change_edd`](Self::change_edd) and [`end_pregnancy`](Self::end_pregnancy).
    async fn change_pregnancy_checked(
        &self,
        ctx: &AuditContext,
        family: FamilyId,
        pregnancy: PregnancyId,
        check: &PregnancyCheck<'_>,
    ) -> Result<()>;
    /// Every contact of a family, hidden ones included (the page leaves
    /// them out), by window. Audited as a read of the family.
    async fn family_contacts(&self, ctx: &AuditContext, family: FamilyId) -> Result<Vec<ContactRow>>;
    /// A family's record page as one read: its record, its contacts (as
    /// `family_contacts` reads them) and, when `referrals` names them, its
    /// referrals, and when `upcoming` asks for them, its bookings and stays
    /// ahead (one combined statement, bounded by municipality, family and
    /// limit); one `family.view` line. `None` for a family not in the
    /// context's municipality.
    async fn family_page(
        &self,
        ctx: &AuditContext,
        family: FamilyId,
        referrals: Option<&crate::ReferralFilter>,
        upcoming: Option<&UpcomingFilter>,
    ) -> Result<Option<FamilyPage>>;
    /// What the policy needs to decide on a contact (like `family_access`):
    /// its family and kind, and whether it is hidden, if it is in `m`. No
    /// personal data; not audited.
    async fn contact_owner(&self, m: MunicipalityId, id: ContactId) -> Result<Option<ContactOwner>>;
    /// One contact, audited as a read of its family.
    async fn contact(&self, ctx: &AuditContext, id: ContactId) -> Result<Option<ContactRow>>;
    /// Records what happened. Refused with `Conflict("contact_settled")` when
    /// an outcome that settles the contact is already recorded (so two
    /// people cannot overwrite each other), `Conflict("contact_closed")`
    /// when the facts closed it. "Not reached" adds its attempts to those recorded.
    /// The note is written for `audience`. Answers the contact as it now is
    /// (the change's one audit line covers that read).
    async fn record_contact_outcome_noted(
        &self,
        ctx: &AuditContext,
        id: ContactId,
        outcome: &Outcome,
        note: &str,
        audience: NoteAudience,
    ) -> Result<ContactRow>;
    /// [`record_contact_outcome_noted`](Self::record_contact_outcome_noted)
    /// with the day the contact took place (#10), checked in the change's
    /// transaction against `today` and the pregnancy's notification
    /// (`timeline::contact_day::check_contact_day`; a refusal is
    /// `Invalid` on `contacted_on`): one audit line, the outcome's.
    async fn record_contact_outcome_on(
        &self,
        ctx: &AuditContext,
        id: ContactId,
        outcome: &Outcome,
        note: &str,
        audience: NoteAudience,
        day: ContactDay,
    ) -> Result<ContactRow>;
    /// [`record_contact_outcome_noted`](Self::record_contact_outcome_noted) with a note for the office.
    async fn record_contact_outcome(
        &self,
        ctx: &AuditContext,
        id: ContactId,
        outcome: &Outcome,
        note: &str,
    ) -> Result<ContactRow> {
        self.record_contact_outcome_noted(ctx, id, outcome, note, NoteAudience::Office).await
    }
    /// One page of a work list. Audited as one list read (no family named).
    async fn work_list(&self, ctx: &AuditContext, q: &WorkListQuery) -> Result<Vec<ContactRow>>;
    /// A work list as its page shows it: one page of `contacts` (when a
    /// contact list is shown) and the open referrals `followups` names (the
    /// urgent follow-ups, when the caller manages referrals), read as one
    /// `timeline.worklist` line (no family named).
    async fn work_list_with_followups(
        &self,
        ctx: &AuditContext,
        contacts: Option<&WorkListQuery>,
        followups: Option<&crate::ReferralFilter>,
    ) -> Result<(Vec<ContactRow>, Vec<crate::StoredReferral>)>;
    /// The counts of every list in a scope. Each is one index range scan.
    async fn work_counts(&self, scope: &WorkScope) -> Result<WorkCounts>;
    /// The daily job: stamps `missed_on` on every contact awaiting work whose
    /// window closed after the last run's day and before `today` (missed
    /// staff contacts and lapsed offers alike; stamped rows leave the indexes
    /// of the due and overdue lists). The lists are right without it: they
    /// read the dates; the job keeps their index ranges to live work. Reads only
    /// the contacts whose windows closed in that span (an index range), so
    /// its work follows what changed, not the number of families. Idempotent.
    async fn mark_missed(&self, m: MunicipalityId, today: jiff::civil::Date) -> Result<MissedRun>;
    /// Reconciles up to `limit` pregnancies whose contacts were built with
    /// older rules or never (records from before the timeline, a change of
    /// the kinds the municipality runs); returns how many. Call until 0.
    async fn backfill_timelines(&self, m: MunicipalityId, today: jiff::civil::Date, limit: u32) -> Result<u64>;
}
