//! Handbook meetings and 8th-month group sessions in the store.

use crate::{ContactRow, Result};
use async_trait::async_trait;
use jiff::Timestamp;
use tsunagu_domain::audit::AuditContext;
use tsunagu_domain::policy::FamilyFilter;
use tsunagu_domain::timeline::DueMonth;
use tsunagu_domain::{AccountId, AreaId, GroupSessionId, HandbookMeetingId, MunicipalityId, PregnancyId};

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

/// The monthly handbook meeting and the 8th-month group sessions [002].
#[async_trait]
pub trait MeetingStore: Send + Sync {
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
    /// One session, as [`MeetingStore::group_sessions`] shows it; audited `group.list`.
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
}
