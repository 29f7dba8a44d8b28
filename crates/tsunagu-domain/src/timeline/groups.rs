//! 8th-month group sessions [002]: 同時期出産予定で、同地区に住んでいる妊婦が
//! 集団で集まり — pregnant women due at the same time and living in the same
//! area meet as a group with the nurse and the coordinator.

use crate::{AreaId, FamilyId, PregnancyId};
use jiff::civil::Date;
use serde::Serialize;
use std::collections::BTreeMap;
use std::num::NonZeroUsize;

/// A pregnancy as the group lists name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct PregnancyRef {
    pub family: FamilyId,
    pub pregnancy: PregnancyId,
}

/// A calendar month ("due in May 2027"; also the month of notification a
/// handbook meeting covers). Written `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DueMonth {
    pub year: i16,
    pub month: i8,
}

impl DueMonth {
    pub fn of(date: Date) -> DueMonth {
        DueMonth { year: date.year(), month: date.month() }
    }

    /// From `YYYY-MM` (what `<input type="month">` sends), years 1900–2999.
    pub fn parse(s: &str) -> Option<DueMonth> {
        let (y, m) = s.trim().split_once('-')?;
        if y.len() != 4 || m.len() != 2 || !y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (year, month) = (y.parse::<i16>().ok()?, m.parse::<i8>().ok()?);
        ((1900..=2999).contains(&year) && (1..=12).contains(&month)).then_some(DueMonth { year, month })
    }

    pub fn first_day(self) -> Date {
        Date::new(self.year, self.month, 1).unwrap_or(Date::MIN)
    }

    pub fn last_day(self) -> Date {
        self.first_day().last_of_month()
    }

    /// The month after.
    pub fn next(self) -> DueMonth {
        DueMonth::of(self.last_day().tomorrow().unwrap_or(Date::MAX))
    }

    /// The month before.
    pub fn previous(self) -> DueMonth {
        DueMonth::of(self.first_day().yesterday().unwrap_or(Date::MIN))
    }
}

impl std::fmt::Display for DueMonth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl Serialize for DueMonth {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProposedGroup {
    pub area: AreaId,
    pub due_month: DueMonth,
    /// In order of EDD.
    pub members: Vec<PregnancyRef>,
}

/// Proposes 8th-month group sessions: one bucket per area and due month
/// (the calendar month of the EDD), each split into as few groups as
/// `max_group_size` allows, of sizes differing by at most one (13 women and
/// groups of 6 give 5 + 4 + 4, not 6 + 6 + 1), members in EDD order so each
/// group's due dates lie close together.
///
/// Every pregnancy given appears in exactly one group (a repeated one once).
/// A bucket of one gives a group of one: the nurse sees it and offers an
/// individual interview or a home visit instead — nobody is dropped. The
/// nurse confirms, invites and records; this only proposes. Groups come in
/// order of due month, then area.
pub fn propose_groups(
    pregnancies: &[(PregnancyRef, AreaId, Date)],
    max_group_size: NonZeroUsize,
) -> Vec<ProposedGroup> {
    let mut buckets: BTreeMap<(DueMonth, AreaId), Vec<(Date, PregnancyRef)>> = BTreeMap::new();
    let mut seen = std::collections::BTreeSet::new();
    for (r, area, edd) in pregnancies {
        if seen.insert(*r) {
            buckets.entry((DueMonth::of(*edd), *area)).or_default().push((*edd, *r));
        }
    }
    let max = max_group_size.get();
    let mut out = Vec::new();
    for ((due_month, area), mut members) in buckets {
        members.sort();
        let n = members.len();
        // A bucket holds at least one member, so `groups` is at least 1.
        let groups = n.div_ceil(max).max(1);
        let (base, extra) = (n.checked_div(groups).unwrap_or(n), n.checked_rem(groups).unwrap_or(0));
        let mut rest = members.into_iter().map(|(_, r)| r);
        for g in 0..groups {
            let size = base.saturating_add(usize::from(g < extra));
            out.push(ProposedGroup { area, due_month, members: rest.by_ref().take(size).collect() });
        }
    }
    out
}
