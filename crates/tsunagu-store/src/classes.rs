//! Classes and programmes in the store [000][002][004]: programmes (a
//! municipality's configuration), sessions at venues, bookings with their
//! waiting list, rosters and attendance.
//!
//! A session never holds more than its capacity: a booking takes a place
//! by a conditional update of the session's `taken` counter in its own
//! transaction (`taken < capacity`, and a `CHECK` behind it), so it is
//! confirmed or it waits; a cancellation gives the place back and promotes
//! the waiting list in arrival order in the same transaction. A retried
//! request with the same idempotency key answers the booking it made.

use crate::Result;
use async_trait::async_trait;
use jiff::civil::{Date, Time};
use jiff::Timestamp;
use tsunagu_domain::audit::AuditContext;
use tsunagu_domain::classes::{
    Eligible, OncePer, Participation, PriorBooking, ProgrammeConfig, ProgrammeKind, SessionStatus, Stage,
};
use tsunagu_domain::{
    AccountId, AreaId, BookingId, ClassSessionId, ContactId, FamilyId, MunicipalityId, PregnancyId, ProgrammeId,
    VenueId,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Programme {
    pub id: ProgrammeId,
    pub municipality_id: MunicipalityId,
    pub config: ProgrammeConfig,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    pub venue_id: VenueId,
    pub day: Date,
    pub starts: Time,
    pub minutes: u16,
    pub capacity: u32,
}

/// A change to one session: its time, its places, or its cancellation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionEdit {
    pub day: Date,
    pub starts: Time,
    pub minutes: u16,
    /// Never below the places taken (`Conflict("capacity_below_taken")`).
    pub capacity: u32,
    pub cancelled: bool,
    /// A new venue (#12 stage 3; none: it stays). `InvalidReference("venue_id")` outside the municipality.
    pub venue_id: Option<VenueId>,
    /// The accounts who run it (#12, last stage; none: they stay). Each an
    /// active account of the municipality whose role may run sessions
    /// (`policy::may_staff_class_sessions`): `InvalidReference("staff_ids")`
    /// for one not of the municipality, `Invalid` (`staff_ids`:
    /// `account_disabled`, `not_session_staff`) otherwise; nothing stored.
    pub staff: Option<Vec<AccountId>>,
}

/// An account assigned to run a session (#12, last stage), as staff see
/// it: its display name, never shown to families.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionStaff {
    pub account_id: AccountId,
    pub display_name: String,
}

/// What a generation of sessions from a pattern did (#12 stage 3): the
/// sessions it created, and how many it left because the programme already
/// had one at that venue on that day (the natural key: programme, venue,
/// day — a second generation of the same year creates nothing twice).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GeneratedSessions {
    pub created: Vec<ClassSessionId>,
    pub already_there: u32,
}

/// A session as families and staff see it: no personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassSession {
    pub id: ClassSessionId,
    pub municipality_id: MunicipalityId,
    pub programme_id: ProgrammeId,
    pub programme: ProgrammeConfig,
    pub venue_id: VenueId,
    pub venue_name_ja: String,
    pub venue_name_en: String,
    pub area_id: Option<AreaId>,
    pub day: Date,
    pub starts: Time,
    pub minutes: u16,
    pub capacity: u32,
    pub taken: u32,
    pub waiting: u32,
    pub cancelled: bool,
    /// When attendance was recorded.
    pub attendance_at: Option<Timestamp>,
    /// The accounts assigned to run it, by display name (#12, last stage;
    /// empty: none assigned). Shown to staff only.
    pub staff: Vec<SessionStaff>,
}

impl ClassSession {
    pub fn status(&self) -> SessionStatus {
        SessionStatus::of(self.cancelled, self.taken, self.capacity)
    }

    /// The staff's account ids: what the policy decides a roster on.
    pub fn staff_ids(&self) -> Vec<AccountId> {
        self.staff.iter().map(|s| s.account_id).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionQuery {
    pub municipality_id: Option<MunicipalityId>,
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub area: Option<AreaId>,
    pub venues: Option<Vec<VenueId>>,
    /// With `venues`: also the sessions this account is assigned to, at any
    /// venue (a programme worker's own sessions, #12).
    pub or_staffed_by: Option<AccountId>,
    pub kind: Option<ProgrammeKind>,
    pub limit: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassBookingStatus {
    Confirmed,
    Waiting,
    Cancelled,
}

impl ClassBookingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ClassBookingStatus::Confirmed => "confirmed",
            ClassBookingStatus::Waiting => "waiting",
            ClassBookingStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [ClassBookingStatus::Confirmed, ClassBookingStatus::Waiting, ClassBookingStatus::Cancelled]
            .into_iter()
            .find(|b| b.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassBooking {
    pub id: BookingId,
    pub municipality_id: MunicipalityId,
    pub session_id: ClassSessionId,
    pub family_id: FamilyId,
    pub kind: ProgrammeKind,
    pub stage: Stage,
    pub pregnancy_id: Option<PregnancyId>,
    pub status: ClassBookingStatus,
    /// The contact on the timeline it settles when attended.
    pub contact_id: Option<ContactId>,
    pub with_partner: bool,
    /// The family lets the session's staff see its name on the roster.
    pub share_name: bool,
    /// The rule staff overrode to book it (`Ineligible::code`), if any.
    pub override_rule: Option<String>,
    pub booked_at: Timestamp,
    pub promoted_at: Option<Timestamp>,
    /// A notice (promotion, new day/time/venue, cancellation) the family has not dismissed yet.
    pub notice_pending: bool,
    /// When its session last moved (day, time or venue) while it was live.
    pub moved_at: Option<Timestamp>,
    /// When the family last dismissed its notices.
    pub notice_seen_at: Option<Timestamp>,
    pub attended: Option<bool>,
    pub weight_g: Option<u32>,
    pub height_mm: Option<u32>,
}

/// A notice a family's booking carries on its page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingNotice {
    /// The session was cancelled.
    SessionCancelled,
    /// A place came free and the booking was promoted from the waiting list.
    Promoted,
    /// The session moved to another day, time or venue.
    SessionMoved,
}

impl ClassBooking {
    /// The notices the family has not dismissed, the latest first (#12): a
    /// booking promoted and then moved says both, the move first. A
    /// cancelled session's notice stands alone. Bookings from before the
    /// move was dated say what they said then (a promotion if promoted,
    /// otherwise a move).
    pub fn notices(&self, session_cancelled: bool) -> Vec<BookingNotice> {
        if !self.notice_pending {
            return vec![];
        }
        if session_cancelled {
            return vec![BookingNotice::SessionCancelled];
        }
        let unseen = |at: Option<Timestamp>| at.filter(|t| self.notice_seen_at.is_none_or(|seen| *t > seen));
        let mut out: Vec<(Timestamp, BookingNotice)> = [
            unseen(self.promoted_at).map(|t| (t, BookingNotice::Promoted)),
            unseen(self.moved_at).map(|t| (t, BookingNotice::SessionMoved)),
        ]
        .into_iter()
        .flatten()
        .collect();
        if out.is_empty() {
            let legacy = if self.promoted_at.is_some() { BookingNotice::Promoted } else { BookingNotice::SessionMoved };
            return vec![legacy];
        }
        // The latest first; a move on the same instant as a promotion came after it.
        out.sort_by(|a, b| {
            b.0.cmp(&a.0).then_with(|| (b.1 == BookingNotice::SessionMoved).cmp(&(a.1 == BookingNotice::SessionMoved)))
        });
        out.into_iter().map(|(_, n)| n).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClassBooking {
    pub session_id: ClassSessionId,
    pub family_id: FamilyId,
    /// What the domain decided the booking is for.
    pub eligible: Eligible,
    /// A retried request with the same key answers the first booking.
    pub idempotency_key: String,
    pub with_partner: bool,
    pub share_name: bool,
    /// When full: wait (`true`) or refuse `Conflict("session_full")`.
    pub join_waiting_list: bool,
    /// Staff overriding a rule: its code and their reason (audited).
    pub override_rule: Option<(&'static str, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassBookingOutcome {
    pub booking: ClassBooking,
    /// The same idempotency key booked before: nothing new was done.
    pub replayed: bool,
}

/// A booking with the session it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyBooking {
    pub booking: ClassBooking,
    pub session: ClassSession,
}

impl FamilyBooking {
    /// What counts against "once per stage": not cancelled, not a recorded absence.
    pub fn prior(&self) -> Option<PriorBooking> {
        (self.booking.status != ClassBookingStatus::Cancelled && self.booking.attended != Some(false)).then_some(
            PriorBooking {
                kind: self.booking.kind,
                stage: self.booking.stage,
                pregnancy_id: self.booking.pregnancy_id,
            },
        )
    }
}

/// One line of a roster: the booking, and the mother's name when the
/// family shares it with the session's staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterEntry {
    pub booking: ClassBooking,
    pub name: Option<String>,
    /// Place on the waiting list (1-based), for waiting bookings.
    pub waiting_position: Option<u32>,
}

/// What staff record of one confirmed booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttendanceMark {
    pub booking_id: BookingId,
    pub attended: bool,
    pub weight_g: Option<u32>,
    pub height_mm: Option<u32>,
}

/// A venue's participation in one programme over a period (no personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipationRow {
    pub venue_id: VenueId,
    pub venue_name_ja: String,
    pub venue_name_en: String,
    pub kind: ProgrammeKind,
    pub figures: Participation,
}

/// What the policy needs of a booking before deciding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassBookingOwner {
    pub family_id: FamilyId,
    pub session_id: ClassSessionId,
    pub venue_id: VenueId,
}

/// The detail of a session edit's one audit line (`class.session_edit`),
/// the same on both back ends: how many live bookings were told of a new
/// day, time or venue, which waiting bookings the edit promoted, and — when
/// the edit changed who runs it (#12) — the staff accounts added and
/// removed, by id (never a name).
pub fn session_edit_detail(
    session: ClassSessionId,
    told: u64,
    promoted: &[i64],
    staff: Option<(&[AccountId], &[AccountId])>,
) -> String {
    let list = |ids: &mut dyn Iterator<Item = i64>| ids.map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    let mut out = format!("session={} told={told} promoted=[{}]", session.0, list(&mut promoted.iter().copied()));
    if let Some((added, removed)) = staff {
        out.push_str(&format!(
            " staff_added=[{}] staff_removed=[{}]",
            list(&mut added.iter().map(|a| a.0)),
            list(&mut removed.iter().map(|a| a.0))
        ));
    }
    out
}

/// Who is added and who removed when a session's staff become `new` (#12):
/// both sorted, `None` when nothing changes.
pub fn staff_change(old: &[AccountId], new: &[AccountId]) -> Option<(Vec<AccountId>, Vec<AccountId>)> {
    let mut added: Vec<AccountId> = new.iter().filter(|a| !old.contains(a)).copied().collect();
    let mut removed: Vec<AccountId> = old.iter().filter(|a| !new.contains(a)).copied().collect();
    added.sort_unstable_by_key(|a| a.0);
    added.dedup();
    removed.sort_unstable_by_key(|a| a.0);
    removed.dedup();
    (!added.is_empty() || !removed.is_empty()).then_some((added, removed))
}

/// Checks the accounts a session's staff would be, as read from the
/// municipality's accounts (`found`: id, role as stored, disabled) — the
/// same on both back ends: each must be there (`InvalidReference`),
/// active and of a role that may run sessions.
pub fn check_session_staff(wanted: &[AccountId], found: &[(i64, String, bool)]) -> Result<()> {
    let mut errors = tsunagu_domain::validation::FieldErrors::default();
    for a in wanted {
        match found.iter().find(|(id, _, _)| *id == a.0) {
            None => return Err(crate::StoreError::InvalidReference("staff_ids")),
            Some((_, _, true)) => errors.add("staff_ids", "account_disabled"),
            Some((_, role, false)) => {
                let may = tsunagu_domain::roles::Role::parse(role)
                    .is_some_and(tsunagu_domain::policy::may_staff_class_sessions);
                if !may {
                    errors.add("staff_ids", "not_session_staff");
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(crate::StoreError::Invalid(errors))
    }
}

/// Parses a session's staff as the stores aggregate them (a JSON array of
/// `[account id, display name]` pairs, or nothing), by name then id.
pub fn session_staff_of(json: Option<&str>) -> Option<Vec<SessionStaff>> {
    let pairs: Vec<(i64, String)> = match json {
        None => vec![],
        Some(text) => serde_json::from_str(text).ok()?,
    };
    let mut out: Vec<SessionStaff> =
        pairs.into_iter().map(|(id, name)| SessionStaff { account_id: AccountId(id), display_name: name }).collect();
    out.sort_by(|a, b| a.display_name.cmp(&b.display_name).then(a.account_id.0.cmp(&b.account_id.0)));
    Some(out)
}

/// The key that keeps "once per stage" ([000] 産前に1回、産後に1回) on the
/// database: one counting booking per key. `None` where the programme has
/// no such rule or the booking is not of a stage.
pub fn once_key(config: &ProgrammeConfig, family: FamilyId, eligible: &Eligible) -> Option<String> {
    let per = config.rules.once_per_stage?;
    if eligible.stage == Stage::Family {
        return None;
    }
    let kind = config.kind.as_str();
    let stage = eligible.stage.as_str();
    match per {
        OncePer::Pregnancy => eligible.pregnancy_id.map(|p| format!("pregnancy:{p}:{kind}:{stage}")),
        OncePer::Person => Some(format!("family:{family}:{kind}:{stage}")),
    }
}

/// What decides a booking on the family's facts, read inside the booking's
/// own transaction: its record and its bookings (every state) → the
/// booking to make, or the refusal.
pub type ClassBookingCheck<'a> =
    dyn Fn(&tsunagu_domain::records::FamilyRecord, &[FamilyBooking]) -> Result<NewClassBooking> + Sync + 'a;

#[async_trait]
pub trait ClassStore: Send + Sync {
    async fn create_programme(&self, m: MunicipalityId, config: &ProgrammeConfig) -> Result<Programme>;
    async fn programmes(&self, m: MunicipalityId) -> Result<Vec<Programme>>;
    async fn update_programme(&self, m: MunicipalityId, id: ProgrammeId, config: &ProgrammeConfig) -> Result<()>;
    /// A programme's settings as staff change them (#12 stage 3): one
    /// `class.programme` line in the change's transaction. `NotFound`
    /// outside the context's municipality.
    async fn configure_programme(&self, ctx: &AuditContext, id: ProgrammeId, config: &ProgrammeConfig) -> Result<()>;
    /// Creates sessions of a programme (a year's pattern, or one).
    /// `InvalidReference("venue_id")` / `("programme_id")` outside `m`.
    async fn create_class_sessions(
        &self,
        m: MunicipalityId,
        programme: ProgrammeId,
        sessions: &[NewSession],
    ) -> Result<Vec<ClassSessionId>>;
    /// Creates a year's sessions of a programme from a pattern in one
    /// transaction (#12 stage 3), skipping each the programme already has at
    /// that venue on that day (cancelled ones too: a cancellation is not
    /// undone by generating again). One `class.schedule` line naming the
    /// programme and the counts. `InvalidReference("venue_id")` /
    /// `("programme_id")` outside the context's municipality.
    async fn generate_class_sessions(
        &self,
        ctx: &AuditContext,
        programme: ProgrammeId,
        sessions: &[NewSession],
    ) -> Result<GeneratedSessions>;
    /// What a family's offers are decided on (#12 stage 3): its record and
    /// its bookings (every state), read together with one `class.list` line.
    /// `NotFound` for a family not in the context's municipality.
    async fn class_offer_facts(
        &self,
        ctx: &AuditContext,
        family: FamilyId,
    ) -> Result<(tsunagu_domain::records::FamilyRecord, Vec<FamilyBooking>)>;
    /// The accounts a session's staff may be chosen from (#12): the
    /// municipality's active accounts whose role may run sessions
    /// (`policy::may_staff_class_sessions`), by display name. No personal
    /// data of families; not audited.
    async fn class_staff_choices(&self, m: MunicipalityId) -> Result<Vec<SessionStaff>>;
    /// Edits one session; places added go to the waiting list in arrival
    /// order (audited `class.promote`). A new day, start time or venue leaves
    /// each live booking an in-page notice (`notice_pending`, `moved_at`; the
    /// family's page says the session changed). New staff (`edit.staff`)
    /// replace the old, checked by `check_session_staff`; the one
    /// `class.session_edit` line names those added and removed by id.
    /// `Conflict("capacity_below_taken")`.
    async fn edit_class_session(&self, ctx: &AuditContext, id: ClassSessionId, edit: &SessionEdit) -> Result<()>;
    /// Cancels a session (#12 stage 2): its live bookings (confirmed and
    /// waiting) are cancelled, each family left an in-page notice
    /// (`notice_pending`), their owed contacts released (unlinked, still
    /// owed: another class may settle them), its places freed. One
    /// `class.cancel` line naming the session and the bookings. `NotFound`
    /// outside the context's municipality; `Conflict("session_cancelled")`,
    /// `Conflict("attendance_recorded")`.
    async fn cancel_class_session(&self, ctx: &AuditContext, id: ClassSessionId) -> Result<Vec<BookingId>>;
    /// Sessions by day and start (no personal data), bounded by the query's municipality.
    async fn class_sessions(&self, m: MunicipalityId, q: &SessionQuery) -> Result<Vec<ClassSession>>;
    async fn class_session(&self, m: MunicipalityId, id: ClassSessionId) -> Result<Option<ClassSession>>;
    /// A family's bookings (all states), by session day. Audited `class.list`.
    async fn family_class_bookings(&self, ctx: &AuditContext, family: FamilyId) -> Result<Vec<FamilyBooking>>;
    /// Books a place, or a place on the waiting list when full (if asked).
    /// Links the family's owed contact of the booking's kind. Audited
    /// `class.book` (and `class.override` when staff overrode a rule), in
    /// the booking's transaction. `Conflict`: `session_cancelled`,
    /// `session_past`, `session_full`, `already_booked` (this session),
    /// `stage_already_taken` (the once-per-stage key), `idempotency_key_reused`
    /// (the key of another family or session).
    async fn book_class(&self, ctx: &AuditContext, b: &NewClassBooking) -> Result<ClassBookingOutcome>;
    /// Reads `family`'s record and bookings inside the booking's own
    /// transaction (not audited), makes the booking with `check` and books
    /// it as `book_class` does: one line (`class.book`, or `class.override`
    /// naming the rule staff overrode). `NotFound` for a family not in the
    /// context's municipality; `InvalidReference("family_id")` when `check`
    /// books another family.
    async fn book_class_checked(
        &self,
        ctx: &AuditContext,
        family: FamilyId,
        check: &ClassBookingCheck<'_>,
    ) -> Result<ClassBookingOutcome>;
    /// Cancels a family's booking; a confirmed place goes to the waiting
    /// list's first in arrival order, in the same transaction, with an
    /// in-page notice (audited `class.promote` as the service's own step).
    /// `Conflict("booking_cancelled")`, `Conflict("attendance_recorded")`.
    async fn cancel_class_booking(&self, ctx: &AuditContext, family: FamilyId, id: BookingId) -> Result<ClassBooking>;
    async fn class_booking_owner(&self, m: MunicipalityId, id: BookingId) -> Result<Option<ClassBookingOwner>>;
    /// A session's bookings (confirmed, then waiting in order). Audited `class.roster`.
    async fn class_roster(&self, ctx: &AuditContext, session: ClassSessionId) -> Result<Vec<RosterEntry>>;
    /// Records who came (and weights/heights where the programme measures);
    /// an attendee's linked contact still awaiting work is recorded as done
    /// (form `group`) through the timeline's own path. Audited
    /// `class.attendance` per booking. `InvalidReference("booking_id")`.
    async fn record_class_attendance(
        &self,
        ctx: &AuditContext,
        session: ClassSessionId,
        marks: &[AttendanceMark],
    ) -> Result<()>;
    /// Participation per venue and programme kind in the sessions held
    /// `from..=to` ([002]'s table; `Participation` says how it counts), by
    /// venue name then kind. Aggregates only.
    async fn class_participation(&self, m: MunicipalityId, from: Date, to: Date) -> Result<Vec<ParticipationRow>>;
    /// The family saw the notice of its promotion.
    async fn dismiss_class_notice(&self, ctx: &AuditContext, family: FamilyId, id: BookingId) -> Result<()>;
}
