use super::*;
use crate::chat::supporters::Profession;
use proptest::prelude::*;

fn attrs(p: bool, toddler: bool, none: bool) -> Attributes {
    Attributes { profession: p.then_some(Profession::Medical), raising_toddler: toddler, no_parenting_experience: none }
}

fn cand(id: i64, a: Attributes, cap: i64, load: u32) -> Candidate {
    Candidate {
        account: AccountId(id),
        attributes: a,
        capacity: Capacity::new(cap).unwrap(),
        state: SupporterState::Active,
        load,
    }
}

fn need(room: i64) -> RoomNeed {
    RoomNeed { room: RoomId(room), current: [None; 3] }
}

fn team(p: i64, t: i64, n: i64) -> Team {
    Team { professional: AccountId(p), raising_toddler: AccountId(t), no_parenting_experience: AccountId(n) }
}

#[test]
fn a_team_is_three_different_active_supporters_each_in_their_place() {
    let c = [
        cand(1, attrs(true, false, false), 2, 0),
        cand(2, attrs(false, true, false), 2, 0),
        cand(3, attrs(false, false, true), 2, 0),
        cand(4, attrs(true, true, false), 1, 1),
        Candidate { state: SupporterState::Registered, ..cand(5, attrs(true, false, true), 2, 0) },
        Candidate { state: SupporterState::Suspended, ..cand(6, attrs(true, false, true), 2, 0) },
    ];
    assert_eq!(check_team(&team(1, 2, 3), &c, &[]), Ok(()));
    assert_eq!(check_team(&team(1, 1, 3), &c, &[]), Err(TeamError::SameSupporterTwice(AccountId(1))));
    assert_eq!(check_team(&team(1, 2, 1), &c, &[]), Err(TeamError::SameSupporterTwice(AccountId(1))));
    assert_eq!(
        check_team(&team(2, 1, 3), &c, &[]),
        Err(TeamError::DoesNotFit { account: AccountId(2), slot: Slot::Professional })
    );
    assert_eq!(
        check_team(&team(1, 3, 2), &c, &[]),
        Err(TeamError::DoesNotFit { account: AccountId(3), slot: Slot::RaisingToddler })
    );
    assert_eq!(check_team(&team(9, 2, 3), &c, &[]), Err(TeamError::UnknownSupporter(AccountId(9))));
    assert_eq!(check_team(&team(5, 2, 3), &c, &[]), Err(TeamError::NotActive(AccountId(5))));
    assert_eq!(check_team(&team(6, 2, 3), &c, &[]), Err(TeamError::NotActive(AccountId(6))));
    // At capacity: refused on a new room, fine on a room they are already on.
    assert_eq!(check_team(&team(4, 2, 3), &c, &[]), Err(TeamError::OverCapacity(AccountId(4))));
    assert_eq!(check_team(&team(4, 2, 3), &c, &[AccountId(4)]), Ok(()));
    assert_eq!(check_team(&team(1, 4, 3), &c, &[AccountId(4)]), Ok(()));
}

#[test]
fn no_supporter_of_a_kind_leaves_every_room_flagged() {
    let c = [cand(1, attrs(true, false, false), 5, 0), cand(2, attrs(false, true, false), 5, 0)];
    let s = suggest(&[need(1), need(2)], &c);
    assert!(s.teams.is_empty());
    assert_eq!(s.unfilled, vec![RoomId(1), RoomId(2)]);
}

#[test]
fn capacity_runs_out_and_the_rest_are_flagged() {
    let c = [
        cand(1, attrs(true, false, false), 2, 0),
        cand(2, attrs(false, true, false), 3, 0),
        cand(3, attrs(false, false, true), 3, 0),
    ];
    let s = suggest(&[need(1), need(2), need(3)], &c);
    assert_eq!(s.teams.len(), 2);
    assert_eq!(s.unfilled, vec![RoomId(3)]);
    // Already at capacity before: nothing.
    let full = [Candidate { load: 2, ..c[0] }, c[1], c[2]];
    assert_eq!(suggest(&[need(1)], &full).unfilled, vec![RoomId(1)]);
}

#[test]
fn one_person_never_takes_two_places() {
    // Only person 1 can be professional or without experience: no team.
    let c = [cand(1, attrs(true, false, true), 5, 0), cand(2, attrs(false, true, false), 5, 0)];
    assert_eq!(suggest(&[need(1)], &c).unfilled, vec![RoomId(1)]);
}

#[test]
fn a_versatile_supporter_is_kept_for_the_place_few_can_fill() {
    // 1 is professional and without experience; 2 is professional only.
    // The fairest first pick for "professional" would be 1 (lower id) but
    // then nobody is left without experience: the suggestion steps back.
    let c = [
        cand(1, attrs(true, false, true), 5, 0),
        cand(2, attrs(true, false, false), 5, 0),
        cand(3, attrs(false, true, false), 5, 0),
    ];
    let s = suggest(&[need(1)], &c);
    assert_eq!(s.teams, vec![SuggestedTeam { room: RoomId(1), team: team(2, 3, 1) }]);
}

#[test]
fn members_who_still_fit_keep_their_place_and_others_are_replaced() {
    let c = [
        cand(1, attrs(true, false, false), 5, 1),
        Candidate { state: SupporterState::Suspended, ..cand(2, attrs(false, true, false), 5, 1) },
        cand(3, attrs(false, false, true), 5, 0),
        cand(4, attrs(false, true, false), 5, 0),
    ];
    let room = RoomNeed { room: RoomId(7), current: [Some(AccountId(1)), Some(AccountId(2)), None] };
    let s = suggest(&[room], &c);
    assert_eq!(s.teams, vec![SuggestedTeam { room: RoomId(7), team: team(1, 4, 3) }]);
}

#[test]
fn load_is_spread_over_equal_supporters() {
    let mut c = vec![];
    for i in 0..4 {
        c.push(cand(10 + i, attrs(true, false, false), 10, 0));
        c.push(cand(20 + i, attrs(false, true, false), 10, 0));
        c.push(cand(30 + i, attrs(false, false, true), 10, 0));
    }
    let rooms: Vec<RoomNeed> = (1..=10).map(need).collect();
    let s = suggest(&rooms, &c);
    assert_eq!(s.teams.len(), 10);
    let mut load: HashMap<AccountId, u32> = HashMap::new();
    for t in &s.teams {
        for (_, a) in t.team.members() {
            *load.entry(a).or_default() += 1;
        }
    }
    for group in [10, 20, 30] {
        let loads: Vec<u32> = (0..4).map(|i| load.get(&AccountId(group + i)).copied().unwrap_or(0)).collect();
        let (lo, hi) = (loads.iter().min().unwrap(), loads.iter().max().unwrap());
        assert!(hi - lo <= 1, "{group}: {loads:?}");
    }
}

#[test]
fn share_of_capacity_decides_who_is_asked_first() {
    // 1 has 2 of 10 rooms (20%), 2 has 1 of 2 (50%): 1 is asked first.
    let c = [
        cand(1, attrs(true, false, false), 10, 2),
        cand(2, attrs(true, false, false), 2, 1),
        cand(3, attrs(false, true, false), 5, 0),
        cand(4, attrs(false, false, true), 5, 0),
    ];
    assert_eq!(suggest(&[need(1)], &c).teams[0].team.professional, AccountId(1));
}

fn any_candidate(id: i64) -> impl Strategy<Value = Candidate> {
    (
        proptest::option::of(proptest::sample::select(Profession::ALL.to_vec())),
        0u8..3,
        1i64..=4,
        0u32..5,
        proptest::sample::select(SupporterState::ALL.to_vec()),
    )
        .prop_map(move |(profession, kind, cap, load, state)| {
            let (toddler, none) = match kind {
                0 => (false, false),
                1 => (true, false),
                _ => (false, true),
            };
            let profession = if profession.is_none() && kind == 0 { Some(Profession::Education) } else { profession };
            Candidate {
                account: AccountId(id),
                attributes: Attributes::new(profession, toddler, none).unwrap(),
                capacity: Capacity::new(cap).unwrap(),
                state,
                // Capacity is never exceeded by what is stored either.
                load: load.min(cap as u32),
            }
        })
}

fn any_candidates() -> impl Strategy<Value = Vec<Candidate>> {
    (0usize..9).prop_flat_map(|n| (0..n).map(|i| any_candidate(i as i64 + 1)).collect::<Vec<_>>())
}

/// Whether some valid team could still be made for an empty room with `loads`.
fn any_team_possible(c: &[Candidate], loads: &HashMap<AccountId, u32>) -> bool {
    let free = |x: &&Candidate| x.state == SupporterState::Active && loads[&x.account] < u32::from(x.capacity.get());
    let ok: Vec<&Candidate> = c.iter().filter(free).collect();
    ok.iter().any(|p| {
        p.attributes.fits(Slot::Professional)
            && ok.iter().any(|t| {
                t.account != p.account
                    && t.attributes.fits(Slot::RaisingToddler)
                    && ok.iter().any(|n| {
                        n.account != p.account
                            && n.account != t.account
                            && n.attributes.fits(Slot::NoParentingExperience)
                    })
            })
    })
}

proptest! {
    /// Every suggested team satisfies the composition, nobody is taken past
    /// their stated capacity, every room is answered once (a team or a
    /// flag), and a flagged room really could not have been given a team.
    #[test]
    fn suggestions_keep_the_rules(c in any_candidates(), n_rooms in 0i64..8) {
        let rooms: Vec<RoomNeed> = (1..=n_rooms).map(need).collect();
        let s = suggest(&rooms, &c);
        let mut loads: HashMap<AccountId, u32> = c.iter().map(|x| (x.account, x.load)).collect();
        for t in &s.teams {
            let now: Vec<Candidate> =
                c.iter().map(|x| Candidate { load: loads[&x.account], ..*x }).collect();
            prop_assert_eq!(check_team(&t.team, &now, &[]), Ok(()));
            for (_, a) in t.team.members() {
                *loads.get_mut(&a).unwrap() += 1;
            }
        }
        for x in &c {
            prop_assert!(loads[&x.account] <= u32::from(x.capacity.get()) || loads[&x.account] == x.load);
        }
        let mut answered: Vec<RoomId> = s.teams.iter().map(|t| t.room).chain(s.unfilled.iter().copied()).collect();
        answered.sort();
        prop_assert_eq!(answered, rooms.iter().map(|r| r.room).collect::<Vec<_>>());
        if !s.unfilled.is_empty() {
            prop_assert!(!any_team_possible(&c, &loads));
        }
    }
}
