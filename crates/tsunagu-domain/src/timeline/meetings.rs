//! The monthly handbook meeting (母子手帳会議) and the 8th-month group
//! sessions (妊娠8か月面談, 集団) [002]: who may see and record them, and the
//! checks on what a nurse records. The store keeps them; these decide.
//!
//! [002] ①母子手帳会議: 母子健康手帳交付者を毎月抽出し、『ママ・パパかかりつけ
//! コーディネーター』と情報共有の場を設けている — each month the centre lists
//! the handbooks it issued and shares them with the area's coordinators.
//! ③妊娠8か月面談: 同時期出産予定で、同地区に住んでいる妊婦が集団で集まり —
//! women due at the same time in the same area meet as a group with the
//! nurse and the coordinator; the others get an individual interview or a
//! home visit (the seed counts 集団 117, 個別 167, 訪問 5).

use super::groups::{DueMonth, PregnancyRef};
use super::worklists::work_list_access;
use crate::dates::Horizon;
use crate::policy::{authorize, Action, FamilyFilter, Resource};
use crate::roles::{Actor, Role};
use crate::validation::FieldErrors;
use crate::{AreaId, PregnancyId};
use jiff::civil::Date;
use jiff::ToSpan;
use serde::{Deserialize, Serialize};
use std::num::NonZeroUsize;

/// The largest 8th-month group proposed. [002] gives no size; it reports 117
/// group, 167 individual and 5 home-visit interviews in a year across its
/// 5–6 support-room areas: about four women per area and month, two of them
/// in groups. Six keeps a usual month of an area one group, fits a support
/// room with the nurse and the coordinator, and splits a busy month into
/// groups where everyone can speak (13 women give 5 + 4 + 4).
pub const MAX_GROUP_SIZE: usize = 6;

/// [`MAX_GROUP_SIZE`] as [`super::propose_groups`] takes it.
pub fn max_group_size() -> NonZeroUsize {
    NonZeroUsize::new(MAX_GROUP_SIZE).unwrap_or(NonZeroUsize::MIN)
}

/// The days a meeting or a session may be recorded for: within a year back
/// (recorded afterwards) and, for a session planned ahead, a year on.
pub const MEETING_HORIZON: Horizon = Horizon::new(366, 366);

/// The longest note kept with a meeting.
pub const MEETING_NOTE_MAX_CHARS: usize = 500;
/// The longest place of a group session.
pub const PLACE_MAX_CHARS: usize = 200;

// --- who may do what ------------------------------------------------------------

/// Which families of `area` an actor may see on a month's handbook list, as
/// the listing filter the store applies: a nurse every family (she needs
/// the consent flag to know what she may share), a coordinator only the
/// families who consented, and only in her own areas (DOMAIN.md §2).
/// `None`: the actor may not see this area's list.
pub fn handbook_list_filter(actor: &Actor, area: AreaId) -> Option<FamilyFilter> {
    if !may_view_meetings(actor) {
        return None;
    }
    let access = work_list_access(actor)?;
    match actor.role {
        Role::Nurse => Some(access.filter),
        Role::Coordinator if actor.areas.contains(&area) => Some(access.filter),
        _ => None,
    }
}

/// Who records a handbook meeting and runs the 8th-month groups (confirms a
/// session, records attendance): the centre's nurse. [002] puts the
/// extraction and the meeting with the centre (抽出し…情報共有の場を設けている);
/// recording a meeting settles the contact of every family on the list,
/// the ones a coordinator may not see included, so a coordinator does not
/// record it. The 8th-month interview is the nurse's contact; the
/// coordinator takes part (支援室の紹介) and sees the sessions of her areas.
/// The policy's `RunMeetings`.
pub fn may_run_meetings(actor: &Actor) -> bool {
    authorize(actor, Action::RunMeetings, &Resource::Municipality(actor.municipality_id)).is_allowed()
}

/// The policy's `ViewMeetings`.
fn may_view_meetings(actor: &Actor) -> bool {
    authorize(actor, Action::ViewMeetings, &Resource::Municipality(actor.municipality_id)).is_allowed()
}

/// Which group sessions, and which of their members, an actor may see: a
/// nurse all of them; a coordinator the sessions of her areas, with the
/// members who consented (the others only counted). `None`: none.
pub fn group_session_filter(actor: &Actor) -> Option<FamilyFilter> {
    if !may_view_meetings(actor) {
        return None;
    }
    work_list_access(actor).map(|a| a.filter)
}

// --- which month by default -------------------------------------------------------

/// The month whose handbooks are discussed now: the one before `today`'s
/// (the handbook-meeting contact falls in the month after the notification).
pub fn current_handbook_month(today: Date) -> DueMonth {
    DueMonth::of(today).previous()
}

/// The due month of the women at their 8th month now: the 8th month is
/// weeks 28–31 and the EDD is 40w0d, so they are due about three months on.
pub fn current_group_due_month(today: Date) -> DueMonth {
    DueMonth::of(today.saturating_add(3.months()))
}

/// The twelve months of the fiscal year (April–March) that `month` is in,
/// in order: the handbook meeting is held 年12回 [002].
pub fn fiscal_year_months(month: DueMonth) -> Vec<DueMonth> {
    let start_year = if month.month >= 4 { month.year } else { month.year.saturating_sub(1) };
    let mut m = DueMonth { year: start_year, month: 4 };
    let mut out = Vec::with_capacity(12);
    for _ in 0..12 {
        out.push(m);
        m = m.next();
    }
    out
}

fn parse_date(s: &str) -> Option<Date> {
    s.trim().parse::<Date>().ok()
}

// --- the handbook meeting ----------------------------------------------------------

/// A handbook meeting as typed or sent: the area, the month of notification
/// it covers (`YYYY-MM`), the day it was held and a short note about the
/// meeting (not about a family: families are on their own records).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HandbookMeetingInput {
    pub area_id: i64,
    pub month: String,
    pub held_on: String,
    #[serde(default)]
    pub note: String,
}

/// A checked meeting (the store checks the area is the municipality's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedMeeting {
    pub area: AreaId,
    pub month: DueMonth,
    pub held_on: Date,
    pub note: String,
}

impl HandbookMeetingInput {
    /// The month has begun; the meeting was held once it was over — from
    /// the first day of the following month, when the handbook-meeting
    /// contacts of its families open — and not after today, nor more than
    /// a year back ([`MEETING_HORIZON`]).
    pub fn check(&self, today: Date) -> Result<CheckedMeeting, FieldErrors> {
        let mut errors = FieldErrors::default();
        let month = match DueMonth::parse(&self.month) {
            None => {
                errors.add("month", if self.month.trim().is_empty() { "required" } else { "invalid_month" });
                None
            }
            Some(m) if m.first_day() > today => {
                errors.add("month", "date_in_future");
                None
            }
            Some(m) => Some(m),
        };
        let held_on = match parse_date(&self.held_on) {
            None => {
                errors.add("held_on", if self.held_on.trim().is_empty() { "required" } else { "invalid_date" });
                None
            }
            Some(d) if d > today => {
                errors.add("held_on", "date_in_future");
                None
            }
            Some(d) if MEETING_HORIZON.check(d, today).is_err() => {
                errors.add("held_on", "date_too_early");
                None
            }
            Some(d) if month.is_some_and(|m| d <= m.last_day()) => {
                errors.add("held_on", "meeting_too_early");
                None
            }
            Some(d) => Some(d),
        };
        let note = self.note.trim();
        if note.chars().count() > MEETING_NOTE_MAX_CHARS {
            errors.add("note", "too_long");
        }
        match (month, held_on) {
            (Some(month), Some(held_on)) if errors.is_empty() => {
                Ok(CheckedMeeting { area: AreaId(self.area_id), month, held_on, note: note.to_owned() })
            }
            _ => Err(errors),
        }
    }
}

// --- 8th-month group sessions --------------------------------------------------------

/// A proposed group the nurse confirms as a session: the area and due month
/// of the proposal, the day, the place, and the pregnancies she invites.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GroupSessionInput {
    pub area_id: i64,
    pub due_month: String,
    pub day: String,
    pub place: String,
    /// Pregnancy ids.
    pub members: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedSession {
    pub area: AreaId,
    pub due_month: DueMonth,
    pub day: Date,
    pub place: String,
    /// In the order given.
    pub members: Vec<PregnancyRef>,
}

impl GroupSessionInput {
    /// The due month as sent, if it reads as one (to draw the proposal the
    /// members are checked against).
    pub fn due_month(&self) -> Option<DueMonth> {
        DueMonth::parse(&self.due_month)
    }

    /// Checks a session against `proposed`: the pregnancies the proposal
    /// now holds for this area and due month (every group of the bucket —
    /// the nurse may regroup them, within [`MAX_GROUP_SIZE`]). Each member
    /// must be one of them and appear once. The day is within
    /// [`MEETING_HORIZON`] and no later than the end of the due month.
    pub fn check(&self, today: Date, proposed: &[PregnancyRef]) -> Result<CheckedSession, FieldErrors> {
        let mut errors = FieldErrors::default();
        let due_month = match self.due_month() {
            Some(m) => Some(m),
            None => {
                errors.add("due_month", if self.due_month.trim().is_empty() { "required" } else { "invalid_month" });
                None
            }
        };
        let day = match parse_date(&self.day) {
            None => {
                errors.add("day", if self.day.trim().is_empty() { "required" } else { "invalid_date" });
                None
            }
            Some(d) if MEETING_HORIZON.check(d, today).is_err() || due_month.is_some_and(|m| d > m.last_day()) => {
                errors.add("day", "out_of_range");
                None
            }
            Some(d) => Some(d),
        };
        let place = self.place.trim();
        if place.is_empty() {
            errors.add("place", "required");
        } else if place.chars().count() > PLACE_MAX_CHARS {
            errors.add("place", "too_long");
        }
        let mut members = Vec::with_capacity(self.members.len());
        if self.members.is_empty() {
            errors.add("members", "required");
        } else if self.members.len() > MAX_GROUP_SIZE {
            errors.add("members", "too_many");
        }
        for (i, id) in self.members.iter().enumerate() {
            let id = PregnancyId(*id);
            if self.members[..i].contains(&id.0) {
                errors.add("members", "duplicate");
            } else if let Some(r) = proposed.iter().find(|r| r.pregnancy == id) {
                members.push(*r);
            } else {
                errors.add("members", "not_proposed");
            }
        }
        match (due_month, day) {
            (Some(due_month), Some(day)) if errors.is_empty() => {
                Ok(CheckedSession { area: AreaId(self.area_id), due_month, day, place: place.to_owned(), members })
            }
            _ => Err(errors),
        }
    }
}

/// Who came to a session, as ticked or sent (pregnancy ids); the others
/// stay owed their interview.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AttendanceInput {
    #[serde(default)]
    pub attended: Vec<i64>,
}

impl AttendanceInput {
    /// Each attendee is a member of the session (`members`); repeats count once.
    pub fn check(&self, members: &[PregnancyId]) -> Result<Vec<PregnancyId>, FieldErrors> {
        let mut errors = FieldErrors::default();
        let mut out: Vec<PregnancyId> = Vec::new();
        for id in self.attended.iter().map(|i| PregnancyId(*i)) {
            if !members.contains(&id) {
                errors.add("attended", "not_a_member");
            } else if !out.contains(&id) {
                out.push(id);
            }
        }
        errors.finish(|| out)
    }
}

/// Attendance is recorded once the session's day has come.
pub fn attendance_open(day: Date, today: Date) -> bool {
    day <= today
}
