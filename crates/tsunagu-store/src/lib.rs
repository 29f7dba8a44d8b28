//! The storage contract of tsunagu.
//!
//! The web service is written against [`Store`] only; `tsunagu-store-sqlite`
//! (the embedded default) and `tsunagu-store-postgres` (production) implement
//! it, each with its own migrations. [`open`] in the binary picks one from the
//! URL scheme.
//!
//! Architecture invariants:
//! - every method that reads or changes a person's record takes an
//!   [`AuditContext`] and writes its audit line: in the same transaction as a
//!   change, and before the answer for a read (SQLite reads through its reader
//!   pool, then appends the line through the single writer before returning);
//! - every query is bounded by a municipality id: no method can return rows
//!   of two municipalities;
//! - no method logs personal data.

use async_trait::async_trait;
use jiff::Timestamp;
use std::fmt;
use tsunagu_domain::audit::{AuditAction, AuditContext, AuditLine};
use tsunagu_domain::dates::DateRange;
use tsunagu_domain::municipality::MunicipalityCode;
use tsunagu_domain::places::{Area, Municipality, Venue, VenueKind};
use tsunagu_domain::policy::{FamilyAccess, FamilyFilter};
use tsunagu_domain::postpartum::application::{Application, ApplicationStatus, NewApplication};
use tsunagu_domain::postpartum::calendar::FacilityCalendar;
use tsunagu_domain::postpartum::safety::IncidentHeading;
use tsunagu_domain::records::{FamilyRecord, FamilySummary, NewBaby, Notification, PregnancyEnd};
use tsunagu_domain::referrals::{Referral, ReferralAction};
use tsunagu_domain::roles::Role;
use tsunagu_domain::screening::{AnswerError, Answers, QuestionnaireDef, Reason, ScreeningResult};
use tsunagu_domain::timeline::{ContactKind, DueMonth, KindSet, Outcome, StoredContact};
use tsunagu_domain::{
    AccountId, ApplicationId, AreaId, BabyId, ContactId, FamilyId, FollowupId, GroupSessionId, HandbookMeetingId,
    IncidentId, MunicipalityId, PregnancyId, ReferralId, RoomId, ScreeningId, TalkId, VenueId,
};

pub mod keys;
pub mod migrations;
pub mod signin;

pub use signin::{CodeSession, SigninAttemptId, SigninOutcome, SigninRequest, SigninReservation};

pub use keys::StoreKeys;

pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// The change contradicts what is stored; the code says what
    /// (`duplicate_notification`, `username_taken`, `pregnancy_not_ongoing`, …).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// A reference to something that is not there (or is in another municipality).
    #[error("invalid reference: {0}")]
    InvalidReference(&'static str),
    /// The database cannot be reached; the request may succeed later.
    #[error("database unavailable")]
    Unavailable(#[source] BoxError),
    #[error("database error")]
    Other(#[source] BoxError),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A string that never prints: password hashes, TOTP secrets.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

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
    pub areas: Vec<AreaId>,
    pub venues: Vec<VenueId>,
    pub rooms: Vec<RoomId>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVenue {
    pub municipality_id: MunicipalityId,
    pub area_id: Option<AreaId>,
    pub kind: VenueKind,
    pub name_ja: String,
    pub name_en: String,
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
    pub token_hash: String,
    pub account_id: AccountId,
    pub stage: SessionStage,
    pub csrf_token: Secret,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
}

/// The SHA-256 (hex) under which a session token is stored.
pub fn token_hash(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// One family of a bulk import: a notification and, when the babies have
/// come, the birth. Used to move records in from another system, and to
/// load benchmark data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportFamily {
    pub notification: Notification,
    pub babies: Vec<NewBaby>,
    /// The previous system's history: every contact staff owed that fell
    /// due on or before this day was done (recorded in the first form its
    /// kind allows, by the importing account). `None`: nothing recorded.
    pub settled_through: Option<jiff::civil::Date>,
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

/// A facility's day record of a stay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StayNote {
    pub day: jiff::civil::Date,
    pub note: String,
    pub by: AccountId,
    pub at: Timestamp,
}

/// Approved use of a facility within a range of days.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageCounts {
    pub short_stay_days: u64,
    pub day_care_days: u64,
    pub outreach_visits: u64,
    /// Families counted once however many stays they had.
    pub families: u64,
}

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

// --- timeline ---------------------------------------------------------------

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
    pub outcome_by: Option<AccountId>,
    pub outcome_at: Option<Timestamp>,
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

// --- handbook meetings and 8th-month group sessions ---------------------------

/// A pregnancy on a month's handbook list (母子手帳会議 [002]): its
/// handbook-meeting contact, with what the meeting shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandbookEntry {
    pub contact: ContactRow,
    pub notified_on: jiff::civil::Date,
    pub edd: jiff::civil::Date,
    pub foetuses: u8,
    pub first_child: bool,
    /// Agreed to share with the area's coordinators: what the nurse may share.
    pub consent_coordinators: bool,
}

/// A handbook meeting as recorded: one per area and month of notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandbookMeeting {
    pub id: HandbookMeetingId,
    pub municipality_id: MunicipalityId,
    pub area_id: AreaId,
    /// The month of notification it covered.
    pub month: DueMonth,
    pub held_on: jiff::civil::Date,
    /// About the meeting, not a family.
    pub note: String,
    /// Handbook-meeting contacts it recorded as done.
    pub contacts_done: u32,
    pub recorded_by: AccountId,
    pub recorded_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHandbookMeeting {
    pub area_id: AreaId,
    pub month: DueMonth,
    pub held_on: jiff::civil::Date,
    pub note: String,
}

/// A pregnancy whose 8th-month interview still awaits work and that is in
/// no session yet: what `timeline::propose_groups` groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupCandidate {
    /// The 8th-month-interview contact (area, family, mother's name).
    pub contact: ContactRow,
    pub edd: jiff::civil::Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGroupSession {
    pub area_id: AreaId,
    pub due_month: DueMonth,
    pub day: jiff::civil::Date,
    pub place: String,
    pub members: Vec<PregnancyId>,
}

/// One woman invited to a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionMember {
    /// Her 8th-month-interview contact, as it stands now.
    pub contact: ContactRow,
    pub edd: jiff::civil::Date,
    /// `None` until attendance is recorded.
    pub attended: Option<bool>,
}

/// A confirmed 8th-month group session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSession {
    pub id: GroupSessionId,
    pub municipality_id: MunicipalityId,
    pub area_id: AreaId,
    pub due_month: DueMonth,
    pub day: jiff::civil::Date,
    pub place: String,
    /// Everyone invited, seen or not.
    pub member_count: u32,
    /// The members the reader may see (a coordinator: consenting families), by EDD.
    pub members: Vec<SessionMember>,
    pub created_by: AccountId,
    pub created_at: Timestamp,
    /// When attendance was recorded, and by whom.
    pub attendance_at: Option<Timestamp>,
    pub attendance_by: Option<AccountId>,
}

/// Answers to a screening questionnaire, scored, ready to be stored. The
/// only way to make one is [`NewScreening::score`], so what is stored as the
/// total, the result and the reasons is what the definition says of the
/// answers stored beside them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewScreening {
    family: FamilyId,
    pregnancy: Option<PregnancyId>,
    answers: Answers,
    result: ScreeningResult,
}

impl NewScreening {
    /// Scores `answers` against `def` (refused as `screening::score` refuses).
    pub fn score(
        def: &QuestionnaireDef,
        family: FamilyId,
        pregnancy: Option<PregnancyId>,
        answers: Answers,
    ) -> std::result::Result<Self, AnswerError> {
        let result = tsunagu_domain::screening::score(def, &answers)?;
        Ok(Self { family, pregnancy, answers, result })
    }

    pub fn family(&self) -> FamilyId {
        self.family
    }

    pub fn pregnancy(&self) -> Option<PregnancyId> {
        self.pregnancy
    }

    pub fn answers(&self) -> &Answers {
        &self.answers
    }

    pub fn result(&self) -> &ScreeningResult {
        &self.result
    }

    /// The referral to the nurse this response raises, with its note (reason
    /// codes only), when `screening::follow_up` calls for one; `entered_by`
    /// is the role that entered the answers. Both back ends store exactly this.
    pub fn referral(&self, entered_by: Role) -> Option<(Referral, String)> {
        let f = tsunagu_domain::screening::follow_up(&self.result)?;
        let r = tsunagu_domain::referrals::from_screening(entered_by, self.family, self.pregnancy, &f);
        Some((r, tsunagu_domain::screening::referral_note(&self.result)))
    }
}

/// A screening response as stored: the answers as given, the version of the
/// questionnaire they were given to, what they scored, who entered them and
/// the referral they raised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredScreening {
    pub id: ScreeningId,
    pub municipality_id: MunicipalityId,
    pub family_id: FamilyId,
    pub pregnancy_id: Option<PregnancyId>,
    pub questionnaire: String,
    pub version: String,
    /// Item id → the code of the option chosen.
    pub answers: std::collections::BTreeMap<String, String>,
    pub total: u32,
    pub positive: bool,
    pub urgent: bool,
    pub reasons: Vec<Reason>,
    /// The family member on a phone, or staff from a paper form.
    pub entered_by_account: AccountId,
    pub entered_by_role: Role,
    pub entered_at: Timestamp,
    pub referral_id: Option<ReferralId>,
}

impl StoredScreening {
    /// The answers in the form `screening::score` and the FHIR export take.
    pub fn as_answers(&self) -> Answers {
        Answers {
            questionnaire: self.questionnaire.clone(),
            version: self.version.clone(),
            answers: self.answers.clone(),
        }
    }
}

/// What recording a screening response made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordedScreening {
    pub id: ScreeningId,
    /// The referral raised with it (positive or urgent), if any.
    pub referral: Option<ReferralId>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub actor: Option<AccountId>,
    pub family_id: Option<FamilyId>,
    pub action: Option<AuditAction>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// Lines with a sequence number below this (for paging backwards).
    pub before_seq: Option<i64>,
    pub limit: u32,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;

    /// Applies pending migrations; refuses to start if an applied one changed.
    async fn migrate(&self) -> Result<()>;

    /// Answers when the database can be reached.
    async fn ping(&self) -> Result<()>;

    // --- configuration ----------------------------------------------------
    async fn create_municipality(&self, code: MunicipalityCode, name_ja: &str, name_en: &str) -> Result<Municipality>;
    async fn municipality(&self, id: MunicipalityId) -> Result<Option<Municipality>>;
    async fn municipality_by_code(&self, code: MunicipalityCode) -> Result<Option<Municipality>>;
    async fn municipalities(&self) -> Result<Vec<Municipality>>;
    async fn create_area(&self, m: MunicipalityId, name_ja: &str, name_en: &str) -> Result<Area>;
    async fn areas(&self, m: MunicipalityId) -> Result<Vec<Area>>;
    async fn create_venue(&self, v: &NewVenue) -> Result<Venue>;
    async fn venues(&self, m: MunicipalityId) -> Result<Vec<Venue>>;

    // --- accounts ---------------------------------------------------------
    /// Creates an account. `ctx` is the administrator's; `None` only for
    /// bootstrap and demo loading. `Conflict("username_taken")` on a duplicate.
    async fn create_account(&self, ctx: Option<&AuditContext>, a: &NewAccount) -> Result<Account>;
    async fn account(&self, id: AccountId) -> Result<Option<Account>>;
    async fn account_by_username(&self, m: MunicipalityId, username: &str) -> Result<Option<Account>>;
    async fn accounts(&self, m: MunicipalityId) -> Result<Vec<Account>>;
    /// Sets a new password hash and ends the account's sessions.
    async fn set_password(&self, ctx: Option<&AuditContext>, id: AccountId, hash: &Secret) -> Result<()>;
    /// Enrols (`Some`) or resets (`None`) the second factor; a reset ends the account's sessions.
    async fn set_totp_secret(&self, ctx: Option<&AuditContext>, id: AccountId, secret: Option<&Secret>) -> Result<()>;
    /// Accepts TOTP time step `step` for the account only if it is later than
    /// the last one accepted (so a code cannot be replayed). Returns whether it was.
    async fn use_totp_step(&self, id: AccountId, step: i64) -> Result<bool>;
    /// Disables or enables an account; disabling ends its sessions.
    async fn set_disabled(&self, ctx: &AuditContext, id: AccountId, disabled: bool) -> Result<()>;

    // --- sessions and sign-in ---------------------------------------------
    async fn create_session(&self, s: &Session) -> Result<()>;
    async fn session(&self, token_hash: &str) -> Result<Option<Session>>;
    async fn touch_session(&self, token_hash: &str, at: Timestamp) -> Result<()>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;
    async fn delete_sessions_of(&self, account: AccountId) -> Result<()>;
    /// Checks the sign-in limits and, if they allow, counts the attempt as a
    /// failure — one transaction, so concurrent attempts are checked one after
    /// another (see [`signin`]). With a session, also counts the code against
    /// it, ending it when it has taken all its codes.
    async fn reserve_signin_attempt(&self, r: &SigninRequest) -> Result<SigninReservation>;
    /// Records what a reserved attempt turned out to be.
    async fn settle_signin_attempt(&self, id: SigninAttemptId, outcome: SigninOutcome) -> Result<()>;
    /// The second-factor secret a half-signed-in session is enrolling, made by
    /// the server: the one already kept on the session, else `fresh`, kept now.
    /// `None` when there is no such half-signed-in session.
    async fn pending_totp_secret(&self, token_hash: &str, fresh: &Secret) -> Result<Option<Secret>>;

    // --- families ---------------------------------------------------------
    /// Opens a record from a pregnancy notification. `InvalidReference("area_id")`
    /// for an area of another municipality; `Conflict("duplicate_notification")`
    /// when the same pregnancy is already on record; `Conflict("handbook_number_taken")`.
    async fn register_notification(&self, ctx: &AuditContext, n: &Notification) -> Result<FamilyId>;
    /// Imports many families in one transaction, each exactly as
    /// `register_notification` (then `record_birth` when it has babies) would,
    /// with its own audit line. A family that duplicates one on record (or an
    /// earlier one of the batch) is not imported: its slot in the answer holds
    /// the conflict code, for the importer to review. Any other error undoes
    /// the whole batch.
    async fn import_families(
        &self,
        ctx: &AuditContext,
        families: &[ImportFamily],
    ) -> Result<Vec<Result<FamilyId, &'static str>>>;
    /// What the policy needs to decide on a family; `None` if it is not in `m`.
    async fn family_access(&self, m: MunicipalityId, id: FamilyId) -> Result<Option<FamilyAccess>>;
    /// The whole record; the audit line is written before it is returned.
    async fn open_family(&self, ctx: &AuditContext, id: FamilyId) -> Result<Option<FamilyRecord>>;
    /// Families whose mother's kana (family+given, or given alone) starts
    /// with `kana_key` (already folded by `kana::search_key`), within `filter`:
    /// family-name matches first in kana order, then given-name-only matches
    /// in kana order of the given name; at most `limit`. Its cost must not grow
    /// with the number of families (an index range scan stopped at `limit`).
    async fn search_families(
        &self,
        ctx: &AuditContext,
        filter: &FamilyFilter,
        kana_key: &str,
        limit: u32,
    ) -> Result<Vec<FamilySummary>>;
    /// Records the babies of a birth and marks the pregnancy delivered.
    /// `Conflict("pregnancy_not_ongoing")` if it was not ongoing any more.
    async fn record_birth(
        &self,
        ctx: &AuditContext,
        family: FamilyId,
        pregnancy: PregnancyId,
        babies: &[NewBaby],
    ) -> Result<Vec<BabyId>>;

    // --- postpartum care ----------------------------------------------------
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
    /// Stores an application (status `applied`), audited `postpartum.apply`.
    /// `InvalidReference` for a family or facility of another municipality.
    async fn create_application(&self, ctx: &AuditContext, a: &NewApplication) -> Result<ApplicationId>;
    /// Applications matching the filter, newest first, audited `postpartum.list`.
    async fn applications(&self, ctx: &AuditContext, filter: &ApplicationFilter) -> Result<Vec<Application>>;
    /// What the policy needs to decide on an application (like
    /// `family_access`): its family and facility, if it is in `m`. No
    /// personal data; not audited.
    async fn application_owner(&self, m: MunicipalityId, id: ApplicationId) -> Result<Option<(FamilyId, VenueId)>>;
    /// One application, audited `postpartum.view`.
    async fn application(&self, ctx: &AuditContext, id: ApplicationId) -> Result<Option<Application>>;
    /// Approves an `applied` application and takes its places, all or
    /// nothing: `Conflict("no_capacity")` if any day is full (or has no
    /// places), `Conflict("not_applied")` if it was already decided. Concurrent
    /// approvals never take more places than a day has, on either back end.
    async fn approve_application(
        &self,
        ctx: &AuditContext,
        id: ApplicationId,
        booking: &Booking,
        note: &str,
    ) -> Result<()>;
    /// Rejects an `applied` application (`Conflict("not_applied")` otherwise).
    async fn reject_application(&self, ctx: &AuditContext, id: ApplicationId, note: &str) -> Result<()>;
    /// Cancels an `applied` or `approved` application, freeing its places.
    async fn cancel_application(&self, ctx: &AuditContext, id: ApplicationId, note: &str) -> Result<()>;
    /// Places taken in a facility's pool on each day of `range` (days with none are left out).
    async fn places_taken(
        &self,
        m: MunicipalityId,
        venue: VenueId,
        pool: u32,
        range: DateRange,
    ) -> Result<Vec<(jiff::civil::Date, u32)>>;
    /// A facility's record of one day of an approved stay, audited `postpartum.note`.
    async fn record_stay_note(
        &self,
        ctx: &AuditContext,
        id: ApplicationId,
        day: jiff::civil::Date,
        note: &str,
    ) -> Result<()>;
    async fn stay_notes(&self, ctx: &AuditContext, id: ApplicationId) -> Result<Vec<StayNote>>;
    /// Approved use of one facility on the days of `range`.
    async fn postpartum_usage(&self, m: MunicipalityId, venue: VenueId, range: DateRange) -> Result<UsageCounts>;
    /// Families with approved use of any facility on the days of `range`, per
    /// area of the family, each family counted once.
    async fn postpartum_users_by_area(&self, m: MunicipalityId, range: DateRange) -> Result<Vec<(AreaId, u64)>>;

    // --- referrals, follow-ups, online talks, incidents -----------------------
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

    // --- timeline -------------------------------------------------------------
    // Every write that changes a pregnancy's facts (notification, import,
    // birth, new EDD, loss, move) reconciles its contacts in the same
    // transaction (`timeline::reconcile`): nothing is deleted, nothing with an
    // outcome is touched, and each change is in the audit detail.
    /// The kinds of contact the municipality runs (all unless configured).
    async fn contact_kinds(&self, m: MunicipalityId) -> Result<KindSet>;
    /// Sets them; every pregnancy's contacts are then rebuilt by
    /// [`Store::backfill_timelines`].
    async fn set_contact_kinds(&self, m: MunicipalityId, kinds: KindSet) -> Result<()>;
    /// A new EDD for an ongoing pregnancy. `Conflict("pregnancy_not_ongoing")`.
    async fn change_edd(
        &self,
        ctx: &AuditContext,
        family: FamilyId,
        pregnancy: PregnancyId,
        edd: jiff::civil::Date,
    ) -> Result<()>;
    /// A loss or a move out. `Conflict("pregnancy_not_ongoing")` for a loss
    /// after a birth, `Conflict("pregnancy_ended")` once lost or moved.
    async fn end_pregnancy(
        &self,
        ctx: &AuditContext,
        family: FamilyId,
        pregnancy: PregnancyId,
        end: PregnancyEnd,
    ) -> Result<()>;
    /// Every contact of a family, hidden ones included (the page leaves
    /// them out), by window. Audited as a read of the family.
    async fn family_contacts(&self, ctx: &AuditContext, family: FamilyId) -> Result<Vec<ContactRow>>;
    /// What the policy needs to decide on a contact (like `family_access`):
    /// its family, if it is in `m`. No personal data; not audited.
    async fn contact_family(&self, m: MunicipalityId, id: ContactId) -> Result<Option<FamilyId>>;
    /// One contact, audited as a read of its family.
    async fn contact(&self, ctx: &AuditContext, id: ContactId) -> Result<Option<ContactRow>>;
    /// Records what happened. Refused with `Conflict("contact_settled")` when
    /// an outcome that settles the contact is already recorded (so two
    /// people cannot overwrite each other), `Conflict("contact_closed")`
    /// when the facts closed it. "Not reached" adds its attempts to those recorded.
    async fn record_contact_outcome(
        &self,
        ctx: &AuditContext,
        id: ContactId,
        outcome: &Outcome,
        note: &str,
    ) -> Result<()>;
    /// One page of a work list. Audited as one list read (no family named).
    async fn work_list(&self, ctx: &AuditContext, q: &WorkListQuery) -> Result<Vec<ContactRow>>;
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
    // --- handbook meetings and 8th-month group sessions -------------------------
    // [002] ①母子手帳会議 and ③妊娠8か月面談. Reads of families are audited as one
    // list read; every contact a meeting or a session settles is written by
    // the same path as `record_contact_outcome`, with its own audit line, in
    // the transaction of the meeting or the attendance.
    /// The pregnancies notified in `month` by families of `area` within
    /// `filter`, whose handbook-meeting contact the facts have not ended (a
    /// loss or a move is not shared), by notification day. Audited
    /// `meeting.handbook_list` (no family named).
    async fn handbook_list(
        &self,
        ctx: &AuditContext,
        filter: &FamilyFilter,
        area: AreaId,
        month: DueMonth,
    ) -> Result<Vec<HandbookEntry>>;
    /// Meetings recorded for `area` in the months `from..=to` (no personal data).
    async fn handbook_meetings(
        &self,
        m: MunicipalityId,
        area: AreaId,
        from: DueMonth,
        to: DueMonth,
    ) -> Result<Vec<HandbookMeeting>>;
    /// Records a meeting and, in the same transaction, records as done (form
    /// `group`) the handbook-meeting contact of every pregnancy notified in
    /// that month by a family of that area that still awaits work.
    /// `Conflict("meeting_recorded")` for a second meeting of an area and
    /// month; `InvalidReference("area_id")` for another municipality's area.
    async fn record_handbook_meeting(
        &self,
        ctx: &AuditContext,
        meeting: &NewHandbookMeeting,
    ) -> Result<HandbookMeeting>;
    /// Pregnancies due in `due_month` (EDD) within `filter` whose 8th-month
    /// interview awaits work and that are in no session, by area then EDD.
    /// Audited `group.list`.
    async fn group_candidates(
        &self,
        ctx: &AuditContext,
        filter: &FamilyFilter,
        due_month: DueMonth,
    ) -> Result<Vec<GroupCandidate>>;
    /// Confirms a session with its members ("invited"), audited
    /// `group.session` once per member. Every member must still be a
    /// candidate of that area and due month (`Conflict("member_not_eligible")`),
    /// `Conflict("already_in_session")` when one was taken meanwhile: a
    /// pregnancy is in at most one session. `InvalidReference("area_id")`.
    async fn create_group_session(&self, ctx: &AuditContext, s: &NewGroupSession) -> Result<GroupSessionId>;
    /// Sessions for `due_month` the filter reaches (a coordinator's: her
    /// areas), by day, with the members the filter lets the reader see.
    /// Audited `group.list`.
    async fn group_sessions(
        &self,
        ctx: &AuditContext,
        filter: &FamilyFilter,
        due_month: DueMonth,
    ) -> Result<Vec<GroupSession>>;
    /// One session, as [`Store::group_sessions`] shows it; audited `group.list`.
    async fn group_session(
        &self,
        ctx: &AuditContext,
        filter: &FamilyFilter,
        id: GroupSessionId,
    ) -> Result<Option<GroupSession>>;
    /// Records who came: attendees' 8th-month contacts still awaiting work
    /// are recorded as done (form `group`); the others stay owed. Once only
    /// (`Conflict("attendance_recorded")`); `InvalidReference("attended")`
    /// for a pregnancy not invited. Audited `group.attendance` per member.
    async fn record_attendance(&self, ctx: &AuditContext, id: GroupSessionId, attended: &[PregnancyId]) -> Result<()>;

    // --- screening ----------------------------------------------------------
    /// Stores a scored response, audited `screening.record` with the family.
    /// When `screening::follow_up` calls for it ([`NewScreening::referral`]),
    /// raises in the same transaction a referral to the nurse — source
    /// screening, urgent as scored, a note of reason codes — audited
    /// `referral.raise` as [`Store::raise_referral`] would, and links it to
    /// the response. `InvalidReference("family_id")` for another
    /// municipality's family, `InvalidReference("pregnancy_id")` for a
    /// pregnancy not of that family.
    async fn record_screening(&self, ctx: &AuditContext, s: &NewScreening) -> Result<RecordedScreening>;
    /// What the policy needs to decide on a response (like `family_access`):
    /// its family, if it is in `m`. No personal data; not audited.
    async fn screening_family(&self, m: MunicipalityId, id: ScreeningId) -> Result<Option<FamilyId>>;
    /// A family's responses, newest first, at most `limit`; audited `screening.list`.
    async fn screenings(&self, ctx: &AuditContext, family: FamilyId, limit: u32) -> Result<Vec<StoredScreening>>;
    /// One response, audited `screening.view`.
    async fn screening(&self, ctx: &AuditContext, id: ScreeningId) -> Result<Option<StoredScreening>>;

    // --- audit ------------------------------------------------------------
    /// Writes a line for something that has no store method of its own.
    async fn write_audit(
        &self,
        ctx: &AuditContext,
        action: AuditAction,
        family: Option<FamilyId>,
        detail: &str,
    ) -> Result<()>;
    /// Newest first.
    async fn search_audit(&self, m: MunicipalityId, q: &AuditQuery) -> Result<Vec<AuditLine>>;
    /// Lines in chain order after `after_seq`, for verification.
    async fn audit_lines(&self, m: MunicipalityId, after_seq: i64, limit: u32) -> Result<Vec<AuditLine>>;
    /// The (seq, hash) of the last line written.
    async fn audit_head(&self, m: MunicipalityId) -> Result<Option<(i64, String)>>;
}
