//! A year's sessions from a pattern, then edited one by one: [000]'s 75
//! self-care classes spread over 25 children's halls, [004]'s monthly
//! Sunday class at a hub. Public holidays are skipped (a week later).

use crate::fiscal::FiscalYear;
use crate::holidays::is_public_holiday;
use crate::VenueId;
use jiff::civil::{Date, Time, Weekday};
use jiff::ToSpan;
use serde::Serialize;

/// A session's state as families see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    Open,
    Full,
    Cancelled,
}

impl SessionStatus {
    /// From what is stored: a cancelled flag and the places taken.
    pub fn of(cancelled: bool, taken: u32, capacity: u32) -> Self {
        if cancelled {
            SessionStatus::Cancelled
        } else if taken >= capacity {
            SessionStatus::Full
        } else {
            SessionStatus::Open
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Open => "open",
            SessionStatus::Full => "full",
            SessionStatus::Cancelled => "cancelled",
        }
    }
}

/// One session a pattern proposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedSession {
    pub venue: VenueId,
    pub day: Date,
    pub starts: Time,
    /// The pattern's day, when it was a public holiday and the session
    /// moved a week later (the preview flags it).
    pub moved_from: Option<Date>,
}

/// The `nth` (1-based) `weekday` of the month of `first_of_month`, or the
/// last one when the month has fewer; a public holiday moves a week later
/// (possibly into the next month: the class still happens).
fn nth_weekday(first_of_month: Date, weekday: Weekday, nth: u8) -> (Date, Option<Date>) {
    let offset = (7 + i32::from(weekday.to_monday_zero_offset())
        - i32::from(first_of_month.weekday().to_monday_zero_offset()))
        % 7;
    let first = first_of_month.saturating_add(offset.days());
    let mut day = first.saturating_add((i32::from(nth.max(1)) - 1).saturating_mul(7).days());
    while day.month() != first_of_month.month() {
        day = day.saturating_sub(7.days());
    }
    let planned = day;
    while is_public_holiday(day) {
        day = day.saturating_add(7.days());
    }
    (day, (day != planned).then_some(planned))
}

/// `per_year` sessions over `venues` in fiscal year `fy`, on `weekday`s:
/// venue after venue in turn, months filled evenly (75 over 12 months is 6
/// or 7 a month), each venue's sessions months apart. Within a month the
/// sessions take the 1st, 2nd, 3rd, 4th `weekday` in turn.
pub fn spread_over_venues(
    fy: FiscalYear,
    venues: &[VenueId],
    per_year: u32,
    weekday: Weekday,
    starts: Time,
) -> Vec<PlannedSession> {
    if venues.is_empty() {
        return Vec::new();
    }
    let n = u32::try_from(venues.len()).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(usize::try_from(per_year).unwrap_or(0));
    let mut in_month = [0u8; 12];
    for k in 0..per_year {
        // Session k goes to venue k mod n in month ⌊k·12/per_year⌋.
        let month = usize::try_from(u64::from(k) * 12 / u64::from(per_year)).unwrap_or(11).min(11);
        let venue = venues[usize::try_from(k % n).unwrap_or(0)];
        let first = fy.start().saturating_add(i32::try_from(month).unwrap_or(0).months());
        let slot = in_month[month];
        in_month[month] = slot.saturating_add(1);
        let (day, moved_from) = nth_weekday(first, weekday, slot % 4 + 1);
        out.push(PlannedSession { venue, day, starts, moved_from });
    }
    out
}

/// One session a month at `venue` on the `nth` `weekday` ([004] 月1回（日曜日）;
/// which Sunday is the municipality's setting, the seed names none).
pub fn monthly(fy: FiscalYear, venue: VenueId, weekday: Weekday, nth: u8, starts: Time) -> Vec<PlannedSession> {
    (0..12)
        .map(|m| {
            let (day, moved_from) = nth_weekday(fy.start().saturating_add(m.months()), weekday, nth);
            PlannedSession { venue, day, starts, moved_from }
        })
        .collect()
}

/// A venue's participation in a programme over a period, counted as [002]'s
/// table of maternity classes counts it (参加組数 / 参加者数 / 夫婦組:
/// 小絹児童館 17 / 34 / 17) and [000]'s self-care totals (classes, pairs):
/// sessions held (attendance recorded, not cancelled); groups — bookings that
/// came (a pair, a couple, a parent with twins is one group); people — the
/// groups plus the partners who came with them; couples — groups of a
/// pregnant woman with her partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Participation {
    pub sessions: u32,
    pub groups: u32,
    pub people: u32,
    pub couples: u32,
}

impl Participation {
    /// One booking that came, with or without a partner.
    pub fn add_attendee(&mut self, with_partner: bool) {
        self.groups = self.groups.saturating_add(1);
        self.people = self.people.saturating_add(if with_partner { 2 } else { 1 });
        if with_partner {
            self.couples = self.couples.saturating_add(1);
        }
    }
}
