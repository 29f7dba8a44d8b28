//! The team of three and the operator's suggested teams [003]
//! 「1人の女性や男性を、三人組の応援団が対応する仕組み」「応援団三人組の構成は、
//! 医療従事者や職業として保育や教育の経験が長い人、2−3歳の子供を子育て中の人、まだ出産、
//! 育児経験はないが応援したい人の3つの属性の人たちで構成」.
//!
//! [`check_team`] is the composition rule every team must pass when it is
//! set; [`suggest`] proposes teams for the rooms that lack one, never past a
//! supporter's stated capacity, least-loaded supporters first, and flags
//! the rooms it cannot fill.

use super::supporters::{Attributes, Capacity, Slot, SupporterState};
use crate::{AccountId, RoomId};
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::HashMap;

/// A supporter as the team rules see them: attributes, stated capacity,
/// state, and the rooms they are on now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub account: AccountId,
    pub attributes: Attributes,
    pub capacity: Capacity,
    pub state: SupporterState,
    /// Rooms whose team they are on now.
    pub load: u32,
}

/// A full team: one supporter in each slot, three different people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Team {
    pub professional: AccountId,
    pub raising_toddler: AccountId,
    pub no_parenting_experience: AccountId,
}

impl Team {
    pub fn member(&self, slot: Slot) -> AccountId {
        match slot {
            Slot::Professional => self.professional,
            Slot::RaisingToddler => self.raising_toddler,
            Slot::NoParentingExperience => self.no_parenting_experience,
        }
    }

    pub fn members(&self) -> [(Slot, AccountId); 3] {
        Slot::ALL.map(|s| (s, self.member(s)))
    }

    fn from_slots(slots: [Option<AccountId>; 3]) -> Option<Team> {
        Some(Team { professional: slots[0]?, raising_toddler: slots[1]?, no_parenting_experience: slots[2]? })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TeamError {
    #[error("supporter {0} is on the team twice")]
    SameSupporterTwice(AccountId),
    #[error("supporter {0} is not a supporter of this service")]
    UnknownSupporter(AccountId),
    #[error("supporter {0} is not active")]
    NotActive(AccountId),
    #[error("supporter {account} does not bring what the {slot:?} place asks")]
    DoesNotFit { account: AccountId, slot: Slot },
    #[error("supporter {0} is at their stated capacity")]
    OverCapacity(AccountId),
}

impl TeamError {
    pub fn code(self) -> &'static str {
        match self {
            TeamError::SameSupporterTwice(_) => "same_supporter_twice",
            TeamError::UnknownSupporter(_) => "unknown_supporter",
            TeamError::NotActive(_) => "supporter_not_active",
            TeamError::DoesNotFit { .. } => "supporter_does_not_fit",
            TeamError::OverCapacity(_) => "supporter_over_capacity",
        }
    }
}

/// Whether `team` may be set on a room: three different, active supporters,
/// each bringing what their place asks, each with room for one more
/// (`already_on` are the members already on this room, whose load counts
/// it already).
pub fn check_team(team: &Team, candidates: &[Candidate], already_on: &[AccountId]) -> Result<(), TeamError> {
    let members = team.members();
    for (i, (_, a)) in members.iter().enumerate() {
        if members.iter().skip(i + 1).any(|(_, b)| a == b) {
            return Err(TeamError::SameSupporterTwice(*a));
        }
    }
    for (slot, account) in members {
        let c = candidates.iter().find(|c| c.account == account).ok_or(TeamError::UnknownSupporter(account))?;
        if c.state != SupporterState::Active {
            return Err(TeamError::NotActive(account));
        }
        if !c.attributes.fits(slot) {
            return Err(TeamError::DoesNotFit { account, slot });
        }
        if !already_on.contains(&account) && c.load >= u32::from(c.capacity.get()) {
            return Err(TeamError::OverCapacity(account));
        }
    }
    Ok(())
}

/// A room that lacks a full team, with the members it has in each slot
/// (in [`Slot::ALL`] order; their load counts this room already).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomNeed {
    pub room: RoomId,
    pub current: [Option<AccountId>; 3],
}

/// What the operator is offered.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Suggestion {
    /// A full team for these rooms (members a room has kept where they still fit).
    pub teams: Vec<SuggestedTeam>,
    /// Rooms no team can be made for with the supporters' capacity left: flagged.
    pub unfilled: Vec<RoomId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SuggestedTeam {
    pub room: RoomId,
    pub team: Team,
}

/// Who is fairer to ask next: the lower share of stated capacity in use,
/// then fewer rooms, then the one who fits fewer places (keep the versatile
/// for the places few can fill), then the account id (so the answer is
/// the same every time).
fn fairer(a: &Candidate, b: &Candidate, loads: &HashMap<AccountId, u32>) -> Ordering {
    let la = u64::from(loads.get(&a.account).copied().unwrap_or(a.load));
    let lb = u64::from(loads.get(&b.account).copied().unwrap_or(b.load));
    let (ca, cb) = (u64::from(a.capacity.get()), u64::from(b.capacity.get()));
    let fits = |c: &Candidate| Slot::ALL.iter().filter(|s| c.attributes.fits(**s)).count();
    (la * cb).cmp(&(lb * ca)).then(la.cmp(&lb)).then(fits(a).cmp(&fits(b))).then(a.account.cmp(&b.account))
}

/// Suggests teams for `rooms` (each room once; in the order given, so the
/// caller puts the longest-waiting first) from `candidates`: only active
/// supporters, never past anyone's stated capacity (counting what is
/// suggested for earlier rooms), each team satisfying [`check_team`];
/// members a room has keep their place while they are active and fit it;
/// the least-loaded supporters (by share of their capacity) are asked first.
/// A room no full team can be made for is listed in `unfilled`.
pub fn suggest(rooms: &[RoomNeed], candidates: &[Candidate]) -> Suggestion {
    let mut loads: HashMap<AccountId, u32> = candidates.iter().map(|c| (c.account, c.load)).collect();
    let active: Vec<&Candidate> = candidates.iter().filter(|c| c.state == SupporterState::Active).collect();
    let mut out = Suggestion::default();
    for need in rooms {
        let mut slots = need.current;
        // A member who is no longer active or no longer fits loses the place.
        for (i, slot) in Slot::ALL.iter().enumerate() {
            if let Some(a) = slots[i] {
                let keeps = active.iter().any(|c| c.account == a && c.attributes.fits(*slot));
                if !keeps {
                    slots[i] = None;
                }
            }
        }
        let on_room: Vec<AccountId> = need.current.iter().flatten().copied().collect();
        // The places to fill, the one with fewest candidates first.
        let mut open: Vec<(usize, Vec<&Candidate>)> = Slot::ALL
            .iter()
            .enumerate()
            .filter(|(i, _)| slots[*i].is_none())
            .map(|(i, slot)| {
                let mut list: Vec<&Candidate> = active
                    .iter()
                    .copied()
                    .filter(|c| c.attributes.fits(*slot))
                    .filter(|c| {
                        on_room.contains(&c.account)
                            || loads.get(&c.account).copied().unwrap_or(c.load) < u32::from(c.capacity.get())
                    })
                    .collect();
                list.sort_by(|a, b| fairer(a, b, &loads));
                (i, list)
            })
            .collect();
        open.sort_by_key(|(_, list)| list.len());
        if fill(&mut slots, &open) {
            if let Some(team) = Team::from_slots(slots) {
                for (_, a) in team.members() {
                    if !on_room.contains(&a) {
                        *loads.entry(a).or_insert(0) += 1;
                    }
                }
                out.teams.push(SuggestedTeam { room: need.room, team });
                continue;
            }
        }
        out.unfilled.push(need.room);
    }
    out
}

/// Fills the open places in order with different supporters, trying the
/// fairest first and stepping back when a later place cannot be filled.
fn fill(slots: &mut [Option<AccountId>; 3], open: &[(usize, Vec<&Candidate>)]) -> bool {
    let Some(((i, list), rest)) = open.split_first() else { return true };
    for c in list {
        if slots.contains(&Some(c.account)) {
            continue;
        }
        slots[*i] = Some(c.account);
        if fill(slots, rest) {
            return true;
        }
        slots[*i] = None;
    }
    false
}

#[cfg(test)]
mod tests;
