use super::*;
use ContactKind as K;
use ContactStatus as S;

fn contact(kind: K) -> StoredContact {
    // Opens 1 March, due 31 March, closes 30 April.
    stored_contact(1, kind, window(date(2027, 3, 1), date(2027, 3, 31), date(2027, 4, 30)))
}

#[test]
fn the_dates_decide_at_every_boundary() {
    let c = contact(K::EighthMonthInterview);
    let on = |y, m, d| c.status(date(y, m, d));
    assert_eq!(on(2027, 2, 28), S::Upcoming);
    assert_eq!(on(2027, 3, 1), S::Open);
    // Due within seven days (today included): 25 March is 6 days before.
    assert_eq!(on(2027, 3, 24), S::Open);
    assert_eq!(on(2027, 3, 25), S::DueSoon);
    assert_eq!(on(2027, 3, 31), S::DueSoon);
    assert_eq!(on(2027, 4, 1), S::Overdue);
    assert_eq!(on(2027, 4, 30), S::Overdue);
    assert_eq!(on(2027, 5, 1), S::Missed);
    assert_eq!(on(2030, 1, 1), S::Missed);
}

#[test]
fn an_unused_offer_lapses_instead_of_being_missed() {
    let c = contact(K::PostpartumCare);
    assert_eq!(c.status(date(2027, 4, 30)), S::Overdue);
    assert_eq!(c.status(date(2027, 5, 1)), S::Lapsed);
    for k in ContactKind::ALL {
        let expected = match k.nature() {
            Nature::Contact => S::Missed,
            Nature::Offer => S::Lapsed,
        };
        assert_eq!(contact(k).status(date(2027, 5, 1)), expected, "{k}");
    }
}

#[test]
fn a_window_due_on_the_day_it_opens_is_due_soon_at_once() {
    let d = date(2026, 10, 1);
    let c = stored_contact(1, K::NotificationInterview, window(d, d, date(2026, 10, 28)));
    assert_eq!(c.status(d), S::DueSoon);
    assert_eq!(c.status(date(2026, 10, 2)), S::Overdue);
}

#[test]
fn an_outcome_wins() {
    let mut c = contact(K::HappyBaby);
    c.outcome = Some(Outcome::Done { form: ContactForm::HomeVisit });
    assert_eq!(c.status(date(2027, 2, 1)), S::Done);
    assert_eq!(c.status(date(2027, 6, 1)), S::Done);
    // Even over an ending: a visit made the day before the move was entered.
    c.ending = Some(Ending::closed(CloseReason::MovedOut));
    assert_eq!(c.status(date(2027, 6, 1)), S::Done);
    for o in [Outcome::Declined, Outcome::NotApplicable, Outcome::NotReached { attempts: 3 }] {
        c.outcome = Some(o);
        c.ending = None;
        assert_eq!(c.status(date(2027, 6, 1)), S::Closed, "{o:?}");
    }
}

#[test]
fn not_reaching_a_health_check_non_attendee_resolves_nothing() {
    // 未受診者の全数把握 [000]: the child stays on the list.
    for k in [K::HealthCheck3To4Months, K::NewbornVisit] {
        let mut c = contact(k);
        c.outcome = Some(Outcome::NotReached { attempts: 2 });
        assert_eq!(c.status(date(2027, 4, 10)), S::Overdue, "{k}");
        assert_eq!(c.status(date(2027, 5, 1)), S::Missed, "{k}");
        c.outcome = Some(Outcome::Declined);
        assert_eq!(c.status(date(2027, 5, 1)), S::Closed, "{k}");
    }
}

#[test]
fn an_ending_closes() {
    let mut c = contact(K::EighthMonthInterview);
    c.ending = Some(Ending::hidden(CloseReason::PregnancyLost));
    assert!(c.is_hidden());
    for d in [date(2027, 2, 1), date(2027, 4, 1), date(2027, 6, 1)] {
        assert_eq!(c.status(d), S::Closed);
    }
}

#[test]
fn outcomes_are_checked_against_the_kind() {
    let done = |form| Outcome::Done { form };
    assert_eq!(done(ContactForm::Group).check(K::EighthMonthInterview), Ok(()));
    assert_eq!(done(ContactForm::HomeVisit).check(K::EighthMonthInterview), Ok(()));
    assert_eq!(
        done(ContactForm::SupportRoomVisit).check(K::EighthMonthInterview),
        Err(OutcomeError::FormNotAllowed { kind: K::EighthMonthInterview, form: ContactForm::SupportRoomVisit })
    );
    for form in [ContactForm::HomeVisit, ContactForm::SupportRoomVisit, ContactForm::AtHealthCheck] {
        assert_eq!(done(form).check(K::HappyBaby), Ok(()));
    }
    assert!(done(ContactForm::Group).check(K::HappyBaby).is_err());
    assert_eq!(Outcome::NotReached { attempts: 0 }.check(K::NewbornVisit), Err(OutcomeError::NoAttempts));
    assert_eq!(Outcome::NotReached { attempts: 1 }.check(K::NewbornVisit), Ok(()));
    assert_eq!(Outcome::Declined.check(K::NewbornVisit), Ok(()));
    // Every kind can be done in some form.
    assert!(ContactKind::ALL.iter().all(|k| !k.forms().is_empty()));
}

#[test]
fn string_forms_round_trip_and_match_serde() {
    for k in ContactKind::ALL {
        assert_eq!(ContactKind::parse(k.as_str()), Some(k));
        assert_eq!(serde_json::to_value(k).unwrap(), serde_json::json!(k.as_str()));
    }
    for s in ContactStatus::ALL {
        assert_eq!(ContactStatus::parse(s.as_str()), Some(s));
        assert_eq!(serde_json::to_value(s).unwrap(), serde_json::json!(s.as_str()));
    }
    for r in CloseReason::ALL {
        assert_eq!(CloseReason::parse(r.as_str()), Some(r));
        assert_eq!(serde_json::to_value(r).unwrap(), serde_json::json!(r.as_str()));
    }
    for f in ContactForm::ALL {
        assert_eq!(ContactForm::parse(f.as_str()), Some(f));
        assert_eq!(serde_json::to_value(f).unwrap(), serde_json::json!(f.as_str()));
    }
    assert_eq!(ContactKind::parse("nope"), None);
    assert_eq!(K::HealthCheck3To4Months.as_str(), "health_check_3_4_months");
    let o = Outcome::NotReached { attempts: 2 };
    assert_eq!(serde_json::to_value(o).unwrap(), serde_json::json!({"outcome": "not_reached", "attempts": 2}));
    assert_eq!(serde_json::from_value::<Outcome>(serde_json::to_value(o).unwrap()).unwrap(), o);
    for s in [Subject::Pregnancy(P), Subject::Delivery(P), Subject::Baby(BabyId(3))] {
        assert_eq!(Subject::parse(s.kind_str(), s.id()), Some(s));
    }
}

#[test]
fn a_window_is_ordered_or_refused() {
    let (a, b, c) = (date(2027, 1, 1), date(2027, 1, 2), date(2027, 1, 3));
    assert!(Window::new(a, b, c).is_ok());
    assert!(Window::new(a, a, a).is_ok());
    assert_eq!(Window::new(b, a, c), Err(WindowError));
    assert_eq!(Window::new(a, c, b), Err(WindowError));
    let json = serde_json::json!({"opens": "2027-01-02", "due": "2027-01-01", "closes": "2027-01-03"});
    assert!(serde_json::from_value::<Window>(json).is_err());
    let w = window(a, b, c);
    assert_eq!(serde_json::from_value::<Window>(serde_json::to_value(w).unwrap()).unwrap(), w);
    assert!(w.contains(a) && w.contains(c) && !w.contains(date(2027, 1, 4)));
}

fn rank(s: ContactStatus) -> u8 {
    match s {
        S::Upcoming => 0,
        S::Open => 1,
        S::DueSoon => 2,
        S::Overdue => 3,
        S::Missed | S::Lapsed => 4,
        S::Done | S::Closed => 5,
    }
}

proptest! {
    #[test]
    fn without_an_outcome_a_contact_only_moves_forward(
        f in any_facts(),
        day in any_date(),
        later in 0i32..400,
    ) {
        let mut next = 0;
        for c in store(&f, &mut next) {
            let (a, b) = (c.status(day), c.status(day.saturating_add(later.days())));
            prop_assert!(rank(a) <= rank(b), "{:?} went from {:?} to {:?}", c.kind, a, b);
            if c.ending.is_none() {
                prop_assert!(a.is_unresolved() || matches!(a, S::Lapsed));
            } else {
                prop_assert_eq!(a, S::Closed);
            }
        }
    }

    #[test]
    fn done_is_done_whatever_the_day(f in any_facts(), day in any_date(), form in proptest::sample::select(ContactForm::ALL.to_vec())) {
        let mut next = 0;
        for mut c in store(&f, &mut next) {
            c.outcome = Some(Outcome::Done { form });
            prop_assert_eq!(c.status(day), S::Done);
        }
    }
}

#[test]
fn the_stored_awaits_work_flag_agrees_with_the_status_on_every_day() {
    let outcomes = [
        None,
        Some(Outcome::Done { form: ContactForm::HomeVisit }),
        Some(Outcome::NotReached { attempts: 2 }),
        Some(Outcome::Declined),
        Some(Outcome::NotApplicable),
    ];
    let endings = [None, Some(Ending::closed(CloseReason::MovedOut)), Some(Ending::hidden(CloseReason::PregnancyLost))];
    for kind in ContactKind::ALL {
        for outcome in &outcomes {
            for ending in &endings {
                let c = StoredContact { outcome: *outcome, ending: *ending, ..contact(kind) };
                let flag = awaits_work(kind, outcome.as_ref(), ending.as_ref());
                for day in [date(2027, 2, 1), date(2027, 3, 10), date(2027, 4, 2), date(2027, 6, 1)] {
                    let unresolved = c.status(day).is_unresolved();
                    // Lapsed offers await nothing on the lists but keep the flag: the
                    // lists read `closes` for them, as for missed contacts.
                    let lapsed = c.status(day) == S::Lapsed;
                    assert_eq!(flag, unresolved || lapsed, "{kind} {outcome:?} {ending:?} {day}");
                }
            }
        }
    }
}

#[test]
fn recording_over_what_is_there() {
    let reached = Outcome::NotReached { attempts: 2 };
    let done = Outcome::Done { form: ContactForm::AtHealthCheck };
    // Tries add up on a check; anything else replaces them.
    assert_eq!(
        record_over(K::HealthCheck3To4Months, Some(&reached), None, Outcome::NotReached { attempts: 1 }),
        Ok(Outcome::NotReached { attempts: 3 })
    );
    assert_eq!(record_over(K::HealthCheck3To4Months, Some(&reached), None, done), Ok(done));
    assert_eq!(record_over(K::HealthCheck3To4Months, None, None, reached), Ok(reached));
    // Settled, or closed by the facts: refused.
    assert_eq!(record_over(K::HealthCheck3To4Months, Some(&done), None, reached), Err(RecordRefusal::Settled));
    assert_eq!(record_over(K::EighthMonthInterview, Some(&reached), None, done), Err(RecordRefusal::Settled));
    let moved = Ending::closed(CloseReason::MovedOut);
    assert_eq!(record_over(K::NewbornVisit, None, Some(&moved), done), Err(RecordRefusal::Closed));
}

#[test]
fn outcomes_survive_their_stored_form_and_notes_add_up() {
    for o in [
        Outcome::Done { form: ContactForm::HomeVisit },
        Outcome::NotReached { attempts: 4 },
        Outcome::Declined,
        Outcome::NotApplicable,
    ] {
        let (name, form, attempts) = o.to_stored();
        assert_eq!(Outcome::from_stored(name, form, i64::from(attempts)), Some(o));
    }
    assert_eq!(Outcome::from_stored("done", None, 0), None);
    assert_eq!(Outcome::from_stored("maybe", None, 0), None);
    assert_eq!(append_note("", "a"), "a");
    assert_eq!(append_note("a", ""), "a");
    assert_eq!(append_note("a", "b"), "a\nb");
    let d = date(2027, 3, 1);
    assert_eq!(missed_on(true, d, date(2027, 3, 2)), Some(date(2027, 3, 2)));
    assert_eq!(missed_on(true, d, d), None);
    assert_eq!(missed_on(false, d, date(2027, 4, 1)), None);
}
