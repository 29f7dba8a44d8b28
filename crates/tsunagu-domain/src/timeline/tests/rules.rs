use super::*;
use crate::roles::Role;
use ContactKind as K;

const PREG: Subject = Subject::Pregnancy(P);
const DELIVERY: Subject = Subject::Delivery(P);

#[test]
fn a_pregnancy_is_owed_its_pregnancy_contacts_and_nothing_else() {
    let owed = owed_contacts(&pregnant());
    let kinds: Vec<_> = owed.iter().map(|c| c.kind).collect();
    assert_eq!(
        kinds,
        vec![
            K::NotificationInterview,
            K::HandbookMeeting,
            K::MaternityClass,
            K::PrenatalSelfCareClass,
            K::EighthMonthInterview
        ]
    );
    assert!(owed.iter().all(|c| c.subject == PREG && c.ending.is_none() && c.pregnancy == P));
    let n = date(2026, 10, 1);
    let edd_eve = date(2027, 5, 19);
    // [national] at the notification, 4 weeks' grace.
    assert_eq!(find(&owed, K::NotificationInterview, PREG).window, window(n, n, date(2026, 10, 28)));
    // [002] the month after the notification.
    assert_eq!(
        find(&owed, K::HandbookMeeting, PREG).window,
        window(date(2026, 11, 1), date(2026, 11, 30), date(2026, 11, 30))
    );
    assert_eq!(find(&owed, K::MaternityClass, PREG).window, window(n, edd_eve, edd_eve));
    // [000] from the stable period (week 16) until the day before the EDD.
    assert_eq!(find(&owed, K::PrenatalSelfCareClass, PREG).window, window(date(2026, 12, 3), edd_eve, edd_eve));
    // [002] the 8th month: weeks 28–31, late until the end of week 36.
    assert_eq!(
        find(&owed, K::EighthMonthInterview, PREG).window,
        window(date(2027, 2, 25), date(2027, 3, 24), date(2027, 4, 28))
    );
}

#[test]
fn each_contact_carries_its_owner_and_source() {
    let f = delivered(pregnant(), vec![baby(1, date(2027, 5, 18))]);
    for c in owed_contacts(&f) {
        assert_eq!(c.owner, c.kind.owner());
        assert!(!c.source.is_empty());
        assert!(!c.with.contains(&c.owner), "{} lists its owner twice", c.kind);
    }
    assert_eq!(K::HappyBaby.owner(), Role::Coordinator);
    assert_eq!(K::EighthMonthInterview.owner(), Role::Nurse);
    assert_eq!(K::EighthMonthInterview.with(), &[Role::Coordinator]);
    assert_eq!(K::HandbookMeeting.with(), &[Role::Coordinator]);
    assert_eq!(K::NewbornVisit.owner(), Role::Nurse);
}

#[test]
fn a_late_notification_opens_windows_at_the_notification() {
    // Notified at 30w0d: the 8th-month interview opens that day and is due that day.
    let f = facts(date(2027, 3, 11), date(2027, 5, 20));
    let owed = owed_contacts(&f);
    let eighth = find(&owed, K::EighthMonthInterview, PREG);
    assert_eq!(eighth.window, window(date(2027, 3, 11), date(2027, 3, 24), date(2027, 4, 28)));
    // Notified at 33w0d: past the due date, still within the late window.
    let f = facts(date(2027, 4, 1), date(2027, 5, 20));
    let eighth = find(&owed_contacts(&f), K::EighthMonthInterview, PREG).clone();
    assert_eq!(eighth.window, window(date(2027, 4, 1), date(2027, 4, 1), date(2027, 4, 28)));
    assert_eq!(eighth.ending, None);
    // Notified at 38w0d: the window had closed; not applicable, still listed once.
    let f = facts(date(2027, 5, 6), date(2027, 5, 20));
    let owed = owed_contacts(&f);
    let eighth = find(&owed, K::EighthMonthInterview, PREG);
    assert_eq!(eighth.ending, Some(Ending::closed(CloseReason::NotApplicable)));
    assert_eq!(find(&owed, K::PrenatalSelfCareClass, PREG).window.opens(), date(2027, 5, 6));
    assert_eq!(find(&owed, K::NotificationInterview, PREG).ending, None);
}

#[test]
fn a_notification_after_the_birth_still_gets_its_interview_and_listing() {
    let f = delivered(facts(date(2027, 6, 10), date(2027, 5, 20)), vec![baby(1, date(2027, 5, 22))]);
    let owed = owed_contacts(&f);
    assert_eq!(find(&owed, K::NotificationInterview, PREG).ending, None);
    assert_eq!(find(&owed, K::HandbookMeeting, PREG).ending, None);
    for k in [K::MaternityClass, K::PrenatalSelfCareClass, K::EighthMonthInterview] {
        assert_eq!(find(&owed, k, PREG).ending, Some(Ending::closed(CloseReason::NotApplicable)), "{k}");
    }
}

#[test]
fn one_baby_gets_the_infant_contacts() {
    // Born 2027-01-15 (EDD 2027-01-20), notified 2026-06-01.
    let f = delivered(facts(date(2026, 6, 1), date(2027, 1, 20)), vec![baby(1, date(2027, 1, 15))]);
    let owed = owed_contacts(&f);
    let b = Subject::Baby(BabyId(1));
    let b15 = date(2027, 1, 15);
    assert_eq!(find(&owed, K::NewbornVisit, DELIVERY).window, window(b15, date(2027, 5, 14), date(2027, 5, 14)));
    assert_eq!(
        find(&owed, K::HappyBaby, DELIVERY).window,
        window(date(2027, 3, 15), date(2027, 5, 14), date(2027, 6, 14))
    );
    // [000] the day before the baby turns 5 months is the last day.
    assert_eq!(
        find(&owed, K::PostnatalSelfCareClass, DELIVERY).window,
        window(b15, date(2027, 6, 14), date(2027, 6, 14))
    );
    assert_eq!(
        find(&owed, K::HealthCheck3To4Months, b).window,
        window(date(2027, 4, 15), date(2027, 6, 14), date(2027, 7, 14))
    );
    // [001] under 4 months.
    assert_eq!(find(&owed, K::PostpartumCare, b).window, window(b15, date(2027, 5, 14), date(2027, 5, 14)));
    // [001] outreach under 1 year.
    assert_eq!(find(&owed, K::PostpartumOutreach, DELIVERY).window, window(b15, date(2028, 1, 14), date(2028, 1, 14)));
    assert_eq!(owed.len(), 5 + 6);
}

#[test]
fn the_five_month_boundary_follows_the_law_at_the_end_of_a_month() {
    // Born 31 January: no 31 June, so the baby turns 5 months on 1 July and
    // 30 June is still a class day.
    let f = delivered(facts(date(2025, 7, 1), date(2026, 2, 2)), vec![baby(1, date(2026, 1, 31))]);
    let owed = owed_contacts(&f);
    assert_eq!(find(&owed, K::PostnatalSelfCareClass, DELIVERY).window.closes(), date(2026, 6, 30));
    // Born 30 January: 30 June exists, so 29 June is the last day.
    let f = delivered(facts(date(2025, 7, 1), date(2026, 2, 2)), vec![baby(1, date(2026, 1, 30))]);
    assert_eq!(find(&owed_contacts(&f), K::PostnatalSelfCareClass, DELIVERY).window.closes(), date(2026, 6, 29));
}

#[test]
fn twins_get_one_visit_and_two_health_checks() {
    let f = delivered(pregnant(), vec![baby(1, date(2027, 4, 30)), baby(2, date(2027, 4, 30))]);
    let owed = owed_contacts(&f);
    let count = |k: K| owed.iter().filter(|c| c.kind == k).count();
    for k in [K::NewbornVisit, K::HappyBaby, K::PostnatalSelfCareClass, K::PostpartumOutreach] {
        assert_eq!(count(k), 1, "{k} is per delivery");
    }
    for k in [K::HealthCheck3To4Months, K::PostpartumCare] {
        assert_eq!(count(k), 2, "{k} is per baby");
    }
}

#[test]
fn twins_born_either_side_of_midnight_lose_no_day() {
    let f = delivered(pregnant(), vec![baby(1, date(2027, 4, 30)), baby(2, date(2027, 5, 1))]);
    let owed = owed_contacts(&f);
    let visit = find(&owed, K::NewbornVisit, DELIVERY);
    // Due by the first twin's 4 months, open until the second's.
    assert_eq!(visit.window, window(date(2027, 4, 30), date(2027, 8, 29), date(2027, 8, 31)));
    let class = find(&owed, K::PostnatalSelfCareClass, DELIVERY);
    assert_eq!(class.window.closes(), date(2027, 9, 30));
    assert_eq!(find(&owed, K::HealthCheck3To4Months, Subject::Baby(BabyId(1))).window.opens(), date(2027, 7, 30));
    assert_eq!(find(&owed, K::HealthCheck3To4Months, Subject::Baby(BabyId(2))).window.opens(), date(2027, 8, 1));
}

#[test]
fn long_hospitalised_babies_count_postpartum_care_in_corrected_age() {
    let mut b = baby(1, date(2026, 3, 1));
    b.gestational_weeks = 30;
    b.gestational_days = 0;
    let f = delivered(facts(date(2025, 9, 1), date(2026, 5, 10)), vec![b.clone()]);
    let sub = Subject::Baby(BabyId(1));
    // Not flagged: chronological age, under 4 months until 30 June.
    assert_eq!(find(&owed_contacts(&f), K::PostpartumCare, sub).window.closes(), date(2026, 6, 30));
    // Flagged: corrected birth 10 May, under 4 months until 9 September [001].
    b.long_hospitalisation = true;
    let f = delivered(facts(date(2025, 9, 1), date(2026, 5, 10)), vec![b]);
    let owed = owed_contacts(&f);
    assert_eq!(
        find(&owed, K::PostpartumCare, sub).window,
        window(date(2026, 3, 1), date(2026, 9, 9), date(2026, 9, 9))
    );
    // Only postpartum care is corrected; the health check counts from the birth.
    assert_eq!(find(&owed, K::HealthCheck3To4Months, sub).window.opens(), date(2026, 6, 1));
}

/// Twins at 30w0d, only one hospitalised long: each baby's postpartum-care
/// contact closes on the days *both* are eligible for (30 June), the one
/// rule the application and its approval apply
/// (`postpartum::eligibility::deciding_baby`); the corrected age of one does
/// not carry the other to 9 September. Outreach closes on the first-born's year.
#[test]
fn twins_one_hospitalised_long_share_the_postpartum_window_the_application_grants() {
    let mut long = baby(1, date(2026, 3, 1));
    long.gestational_weeks = 30;
    long.gestational_days = 0;
    long.long_hospitalisation = true;
    let mut short = long.clone();
    short.id = BabyId(2);
    short.long_hospitalisation = false;
    let f = delivered(facts(date(2025, 9, 1), date(2026, 5, 10)), vec![long.clone(), short.clone()]);
    let owed = owed_contacts(&f);
    for id in [1, 2] {
        assert_eq!(
            find(&owed, K::PostpartumCare, Subject::Baby(BabyId(id))).window,
            window(date(2026, 3, 1), date(2026, 6, 30), date(2026, 6, 30))
        );
    }
    let pair: Vec<crate::postpartum::eligibility::PairBaby> = [&long, &short]
        .iter()
        .map(|b| crate::postpartum::eligibility::PairBaby {
            birth: b.birth_date,
            gestational_weeks: b.gestational_weeks,
            gestational_days: b.gestational_days,
            long_hospitalisation: b.long_hospitalisation,
        })
        .collect();
    assert_eq!(
        crate::postpartum::eligibility::pair_last_eligible_day(crate::postpartum::ServiceType::DayCare, &pair),
        Some(date(2026, 6, 30))
    );
    // Should the baby who was not hospitalised die, the survivor's own corrected window stands.
    short.died_on = Some(date(2026, 3, 5));
    let f = delivered(facts(date(2025, 9, 1), date(2026, 5, 10)), vec![long, short]);
    assert_eq!(find(&owed_contacts(&f), K::PostpartumCare, Subject::Baby(BabyId(1))).window.closes(), date(2026, 9, 9));
    // Born either side of midnight: outreach until the day before the first-born's first birthday.
    let f = delivered(pregnant(), vec![baby(1, date(2027, 4, 30)), baby(2, date(2027, 5, 1))]);
    assert_eq!(find(&owed_contacts(&f), K::PostpartumOutreach, DELIVERY).window.closes(), date(2028, 4, 29));
}

#[test]
fn a_preterm_birth_overtakes_the_pregnancy_contacts_not_yet_due() {
    // Born at 30w0d, before the 8th-month interview was due (end of week 31).
    let f = delivered(pregnant(), vec![baby(1, date(2027, 3, 11))]);
    let owed = owed_contacts(&f);
    let na = Some(Ending::closed(CloseReason::NotApplicable));
    assert_eq!(find(&owed, K::EighthMonthInterview, PREG).ending, na);
    assert_eq!(find(&owed, K::PrenatalSelfCareClass, PREG).ending, na);
    assert_eq!(find(&owed, K::MaternityClass, PREG).ending, na);
    assert_eq!(find(&owed, K::NotificationInterview, PREG).ending, None);
    assert_eq!(find(&owed, K::HandbookMeeting, PREG).ending, None);
}

#[test]
fn a_contact_due_before_the_birth_stays_owed_until_the_day_before() {
    // Born at 34w0d: the 8th-month interview was due at the end of week 31;
    // it could have been done late until the end of week 36, but the birth came.
    let f = delivered(pregnant(), vec![baby(1, date(2027, 4, 15))]);
    let eighth = find(&owed_contacts(&f), K::EighthMonthInterview, PREG).clone();
    assert_eq!(eighth.ending, None);
    assert_eq!(eighth.window, window(date(2027, 2, 25), date(2027, 3, 24), date(2027, 4, 14)));
    // Born after the EDD: the prenatal class was due the day before the EDD,
    // so it stays (and will show as lapsed if unused).
    let f = delivered(pregnant(), vec![baby(1, date(2027, 5, 25))]);
    let class = find(&owed_contacts(&f), K::PrenatalSelfCareClass, PREG).clone();
    assert_eq!(class.ending, None);
    assert_eq!(class.window.closes(), date(2027, 5, 19));
}

#[test]
fn a_loss_ends_every_contact_and_calls_for_no_infant_contact() {
    let mut f = pregnant();
    f.pregnancy.state = PregnancyState::Lost(date(2026, 12, 20));
    let owed = owed_contacts(&f);
    assert_eq!(owed.len(), 5);
    assert!(owed.iter().all(|c| c.ending == Some(Ending::closed(CloseReason::PregnancyLost))));
    // Even when a baby is on the record (a birth entered in error).
    f.babies = vec![baby(1, date(2027, 5, 18))];
    let owed = owed_contacts(&f);
    assert!(owed.iter().all(|c| c.subject == PREG));
}

#[test]
fn a_move_ends_what_is_still_open_and_leaves_what_was_already_missed() {
    let mut f = pregnant();
    // Moved on 2027-03-01: the notification interview's window closed on 2026-10-28.
    f.pregnancy.state = PregnancyState::MovedOut(date(2027, 3, 1));
    let owed = owed_contacts(&f);
    let moved = Some(Ending::closed(CloseReason::MovedOut));
    assert_eq!(find(&owed, K::NotificationInterview, PREG).ending, None);
    assert_eq!(find(&owed, K::HandbookMeeting, PREG).ending, None);
    assert_eq!(find(&owed, K::EighthMonthInterview, PREG).ending, moved);
    assert_eq!(find(&owed, K::PrenatalSelfCareClass, PREG).ending, moved);
    // A contact whose window closes on the move day is still ended by it.
    f.pregnancy.state = PregnancyState::MovedOut(date(2026, 10, 28));
    assert_eq!(find(&owed_contacts(&f), K::NotificationInterview, PREG).ending, moved);
    // After the birth, the infant contacts too.
    let mut f = delivered(pregnant(), vec![baby(1, date(2027, 5, 18))]);
    f.pregnancy.state = PregnancyState::MovedOut(date(2027, 7, 1));
    let owed = owed_contacts(&f);
    assert_eq!(find(&owed, K::HealthCheck3To4Months, Subject::Baby(BabyId(1))).ending, moved);
    assert_eq!(find(&owed, K::NewbornVisit, DELIVERY).ending, moved);
}

#[test]
fn a_babys_death_hides_its_contacts_with_care() {
    let mut twin = baby(2, date(2027, 5, 1));
    twin.died_on = Some(date(2027, 5, 3));
    let f = delivered(pregnant(), vec![baby(1, date(2027, 5, 1)), twin.clone()]);
    let owed = owed_contacts(&f);
    let died = Some(Ending::hidden(CloseReason::BabyDied));
    assert_eq!(find(&owed, K::HealthCheck3To4Months, Subject::Baby(BabyId(2))).ending, died);
    assert_eq!(find(&owed, K::PostpartumCare, Subject::Baby(BabyId(2))).ending, died);
    assert_eq!(find(&owed, K::HealthCheck3To4Months, Subject::Baby(BabyId(1))).ending, None);
    assert_eq!(find(&owed, K::NewbornVisit, DELIVERY).ending, None);
    // No baby survives: the delivery's contacts too.
    let f = delivered(pregnant(), vec![twin]);
    assert_eq!(find(&owed_contacts(&f), K::NewbornVisit, DELIVERY).ending, died);
}

#[test]
fn recorded_babies_count_even_if_the_status_lags() {
    let mut f = pregnant();
    f.babies = vec![baby(1, date(2027, 5, 18))];
    assert!(owed_contacts(&f).iter().any(|c| c.kind == K::NewbornVisit));
    // A baby listed twice is one baby.
    f.babies.push(baby(1, date(2027, 5, 18)));
    assert_eq!(owed_contacts(&f).iter().filter(|c| c.kind == K::HealthCheck3To4Months).count(), 1);
}

#[test]
fn a_municipality_gets_only_the_kinds_it_runs() {
    let mut f = delivered(pregnant(), vec![baby(1, date(2027, 5, 18))]);
    f.programmes = KindSet::ALL.without(K::HappyBaby).without(K::PrenatalSelfCareClass);
    let owed = owed_contacts(&f);
    assert!(owed.iter().all(|c| c.kind != K::HappyBaby && c.kind != K::PrenatalSelfCareClass));
    assert_eq!(owed.len(), 9);
    assert!(KindSet::NONE.iter().next().is_none());
    assert_eq!(KindSet::of(&ContactKind::ALL), KindSet::ALL);
    assert_eq!(KindSet::default(), KindSet::ALL);
    assert!(KindSet::NONE.with(K::HappyBaby).contains(K::HappyBaby));
}

#[test]
fn facts_come_from_the_stored_records() {
    use crate::records::{Baby, Pregnancy, PregnancyStatus, Sex};
    use crate::{FamilyId, PersonId};
    let mut p = Pregnancy {
        id: P,
        family_id: FamilyId(1),
        notified_on: date(2026, 10, 1),
        edd: date(2027, 5, 20),
        foetuses: 2,
        first_child: true,
        status: PregnancyStatus::Delivered,
        handbook_number: None,
        ended_on: None,
    };
    let b = |id: i64, d: Date| Baby {
        id: BabyId(id),
        pregnancy_id: P,
        person_id: PersonId(id),
        birth_date: d,
        sex: Sex::Female,
        gestational_weeks: 37,
        gestational_days: 1,
        birth_weight_g: None,
        long_hospitalisation: id == 2,
    };
    let babies = [b(1, date(2027, 5, 2)), b(2, date(2027, 5, 1))];
    let f = TimelineFacts::from_records(&p, &babies, KindSet::ALL).unwrap();
    assert_eq!(f.pregnancy.state, PregnancyState::Delivered(date(2027, 5, 1)));
    assert!(f.babies[1].long_hospitalisation);
    p.status = PregnancyStatus::Lost;
    assert_eq!(TimelineFacts::from_records(&p, &[], KindSet::ALL), Err(FactsError::MissingEndDate("lost")));
    p.ended_on = Some(date(2026, 12, 1));
    let f = TimelineFacts::from_records(&p, &[], KindSet::ALL).unwrap();
    assert_eq!(f.pregnancy.state, PregnancyState::Lost(date(2026, 12, 1)));
    p.status = PregnancyStatus::MovedOut;
    p.ended_on = None;
    assert!(TimelineFacts::from_records(&p, &[], KindSet::ALL).is_err());
    p.ended_on = Some(date(2027, 6, 1));
    let mut stranger = b(3, date(2027, 5, 1));
    stranger.pregnancy_id = PregnancyId(99);
    assert_eq!(TimelineFacts::from_records(&p, &[stranger], KindSet::ALL), Err(FactsError::OtherPregnancy(BabyId(3))));
}
