//! Storage stories about the seamless timeline: the contacts each pregnancy is
//! owed, outcomes, the work lists and the daily job.
//! Each runs on SQLite and on PostgreSQL (`on_both!`).

use crate::store_support::*;
use crate::support::Backend;
use jiff::civil::{date, Date};
use tsunagu_domain::policy::FamilyFilter;
use tsunagu_domain::records::{BirthInput, PregnancyEnd, PregnancyStatus};
use tsunagu_domain::roles::Role;
use tsunagu_domain::timeline::{self as tl, ContactForm, ContactKind, KindSet};
use tsunagu_domain::{AreaId, ContactId, MunicipalityId, PregnancyId};
use tsunagu_store::{ContactRow, MissedRun, StoreError, WorkCounts, WorkList, WorkListQuery, WorkScope, WorkSort};

/// The contact of `kind` about `subject` among `rows` (exactly one).
fn the(rows: &[ContactRow], kind: ContactKind, subject: tl::Subject) -> ContactRow {
    let found: Vec<_> = rows.iter().filter(|r| r.contact.kind == kind && r.contact.subject == subject).collect();
    assert_eq!(found.len(), 1, "{kind} {subject:?}");
    found[0].clone()
}

fn window(opens: Date, due: Date, closes: Date) -> tl::Window {
    tl::Window::new(opens, due, closes).unwrap()
}

fn scope(m: MunicipalityId, owner: Option<Role>, areas: Vec<AreaId>, today: Date) -> WorkScope {
    WorkScope { filter: FamilyFilter::Municipality(m), owner, areas, kind: None, today }
}

fn list(scope: WorkScope, list: WorkList) -> WorkListQuery {
    WorkListQuery { scope, list, sort: WorkSort::Due, limit: 100, offset: 0 }
}

fn ids(rows: &[ContactRow]) -> Vec<ContactId> {
    rows.iter().map(|r| r.contact.id).collect()
}

async fn story_the_timeline_follows_each_pregnancy_and_feeds_the_work_lists(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, south) = town(&s, "131121").await;
    let (other, _, _) = town(&s, "082350").await;
    // Outcomes name who recorded them: a real account.
    let staff = s.create_account(None, &new_account(m, "hoken", Role::Nurse)).await.unwrap();
    let nurse =
        tsunagu_domain::audit::Requester { actor: staff.id, ..requester(m, Role::Nurse) }.without_a_policy_decision();
    assert_eq!(tsunagu_domain::clock::japan_date(nurse.at), today());
    assert_eq!(s.contact_kinds(m).await.unwrap(), KindSet::ALL);

    // A notification builds the pregnancy's contacts in its transaction.
    let f1 = family(&s, m, north, "ハナコ").await;
    let p1 = s.open_family(&nurse, f1).await.unwrap().unwrap().pregnancies[0].clone();
    assert_eq!(p1.ended_on, None);
    assert_eq!(lines_of(&s, m, "family.create").await, vec![(Some(f1), "contacts +5 ~0 x0".to_owned())]);
    let c1 = s.family_contacts(&nurse, f1).await.unwrap();
    assert_eq!(last_line(&s, m).await, line("timeline.view", Some(f1), ""));
    assert_eq!(c1.len(), 5);
    assert!(c1.iter().all(|r| r.contact.subject == tl::Subject::Pregnancy(p1.id) && r.contact.ending.is_none()));
    assert!(c1.iter().all(|r| r.family_id == f1 && r.area_id == north && r.mother_name == "山田 花子"));
    let interview = the(&c1, ContactKind::NotificationInterview, tl::Subject::Pregnancy(p1.id));
    assert_eq!(interview.contact.window, window(today(), today(), date(2026, 12, 19)));
    let eighth = |edd: Date| {
        window(
            tl::dates::gestational_week_start(edd, 28),
            tl::dates::gestational_week_end(edd, 31),
            tl::dates::gestational_week_end(edd, 36),
        )
    };
    let e1 = the(&c1, ContactKind::EighthMonthInterview, tl::Subject::Pregnancy(p1.id));
    assert_eq!(e1.contact.window, eighth(p1.edd));
    // In window order, on the family's page.
    let opens: Vec<Date> = c1.iter().map(|r| r.contact.window.opens()).collect();
    assert!(opens.windows(2).all(|w| w[0] <= w[1]));

    // A new EDD moves the gestational windows, nothing else.
    let new_edd = date(2027, 6, 3);
    s.change_edd(&nurse, f1, p1.id, new_edd).await.unwrap();
    assert_eq!(
        last_line(&s, m).await,
        line("family.pregnancy", Some(f1), format!("pregnancy={} edd contacts +0 ~3 x0", p1.id.0))
    );
    let c1 = s.family_contacts(&nurse, f1).await.unwrap();
    assert_eq!(c1.len(), 5);
    assert_eq!(
        the(&c1, ContactKind::EighthMonthInterview, tl::Subject::Pregnancy(p1.id)).contact.window,
        eighth(new_edd)
    );
    assert_eq!(the(&c1, ContactKind::NotificationInterview, tl::Subject::Pregnancy(p1.id)), interview);
    assert!(matches!(s.change_edd(&nurse, f1, PregnancyId(p1.id.0 + 1000), new_edd).await, Err(StoreError::NotFound)));
    assert!(matches!(s.change_edd(&ctx(other, Role::Nurse), f1, p1.id, new_edd).await, Err(StoreError::NotFound)));

    // An outcome is recorded once: a second one that settles is refused.
    let iid = interview.contact.id;
    s.record_contact_outcome(&nurse, iid, &tl::Outcome::Done { form: ContactForm::Individual }, "met at the desk")
        .await
        .unwrap();
    assert_eq!(
        last_line(&s, m).await,
        line("timeline.outcome", Some(f1), format!("contact={} kind=notification_interview outcome=done", iid.0))
    );
    assert!(matches!(
        s.record_contact_outcome(&nurse, iid, &tl::Outcome::Declined, "").await,
        Err(StoreError::Conflict("contact_settled"))
    ));
    assert!(matches!(
        s.record_contact_outcome(&ctx(other, Role::Nurse), iid, &tl::Outcome::Declined, "").await,
        Err(StoreError::NotFound)
    ));
    let got = s.contact(&nurse, iid).await.unwrap().unwrap();
    assert_eq!(last_line(&s, m).await, line("timeline.view", Some(f1), format!("contact={}", iid.0)));
    assert_eq!(got.contact.outcome, Some(tl::Outcome::Done { form: ContactForm::Individual }));
    assert_eq!(
        (got.outcome_note.as_str(), got.outcome_by, got.outcome_at),
        ("met at the desk", Some(staff.id), Some(nurse.at))
    );
    assert_eq!(s.contact(&ctx(other, Role::Nurse), iid).await.unwrap(), None);

    // A loss closes every contact still owed; the one done stays done.
    s.end_pregnancy(&nurse, f1, p1.id, PregnancyEnd::Lost(today())).await.unwrap();
    assert_eq!(
        last_line(&s, m).await,
        line("family.pregnancy", Some(f1), format!("pregnancy={} lost contacts +0 ~0 x4", p1.id.0))
    );
    let rec = s.open_family(&nurse, f1).await.unwrap().unwrap();
    assert_eq!((rec.pregnancies[0].status, rec.pregnancies[0].ended_on), (PregnancyStatus::Lost, Some(today())));
    let c1 = s.family_contacts(&nurse, f1).await.unwrap();
    for r in &c1 {
        if r.contact.id == iid {
            assert_eq!((r.contact.outcome.is_some(), r.contact.ending), (true, None));
        } else {
            assert_eq!(r.contact.ending, Some(tl::Ending::closed(tl::CloseReason::PregnancyLost)));
        }
    }
    let handbook = the(&c1, ContactKind::HandbookMeeting, tl::Subject::Pregnancy(p1.id)).contact.id;
    assert!(matches!(
        s.record_contact_outcome(&nurse, handbook, &tl::Outcome::Declined, "").await,
        Err(StoreError::Conflict("contact_closed"))
    ));
    assert!(matches!(
        s.end_pregnancy(&nurse, f1, p1.id, PregnancyEnd::MovedOut(today())).await,
        Err(StoreError::Conflict("pregnancy_ended"))
    ));
    assert!(matches!(
        s.change_edd(&nurse, f1, p1.id, date(2027, 6, 10)).await,
        Err(StoreError::Conflict("pregnancy_not_ongoing"))
    ));

    // Twins: the birth adds one contact per delivery and one per baby.
    let mut input = notification_input(north, mother("ヤマダ", "ミカ", Some("1990-01-01")), "2026-12-01");
    input.foetuses = 2;
    let f2 = s.register_notification(&nurse, &input.check(today()).unwrap()).await.unwrap();
    let p2 = s.open_family(&nurse, f2).await.unwrap().unwrap().pregnancies[0].clone();
    let twins = BirthInput { babies: vec![baby("2026-11-20", "female"), baby("2026-11-20", "male")] }
        .check(&p2, today())
        .unwrap();
    let born = s.record_birth(&nurse, f2, p2.id, &twins).await.unwrap();
    // The maternity and prenatal classes were overtaken by the birth.
    assert_eq!(last_line(&s, m).await, line("family.birth", Some(f2), "babies=2 contacts +8 ~0 x2"));
    let c2 = s.family_contacts(&nurse, f2).await.unwrap();
    assert_eq!(c2.len(), 13);
    for b in &born {
        let check = the(&c2, ContactKind::HealthCheck3To4Months, tl::Subject::Baby(*b));
        assert_eq!(check.contact.window, window(date(2027, 2, 20), date(2027, 4, 19), date(2027, 5, 19)));
        the(&c2, ContactKind::PostpartumCare, tl::Subject::Baby(*b));
    }
    let newborn = the(&c2, ContactKind::NewbornVisit, tl::Subject::Delivery(p2.id)).contact.id;
    for kind in [ContactKind::HappyBaby, ContactKind::PostnatalSelfCareClass, ContactKind::PostpartumOutreach] {
        the(&c2, kind, tl::Subject::Delivery(p2.id));
    }
    assert!(matches!(
        s.end_pregnancy(&nurse, f2, p2.id, PregnancyEnd::Lost(today())).await,
        Err(StoreError::Conflict("pregnancy_not_ongoing"))
    ));

    // "Not reached" does not settle a newborn visit: tries add up, notes too.
    s.record_contact_outcome(&nurse, newborn, &tl::Outcome::NotReached { attempts: 2 }, "no answer").await.unwrap();
    s.record_contact_outcome(&nurse, newborn, &tl::Outcome::NotReached { attempts: 1 }, "still none").await.unwrap();
    let got = s.contact(&nurse, newborn).await.unwrap().unwrap();
    assert_eq!(got.contact.outcome, Some(tl::Outcome::NotReached { attempts: 3 }));
    assert_eq!(got.outcome_note, "no answer\nstill none");
    s.record_contact_outcome(&nurse, newborn, &tl::Outcome::Done { form: ContactForm::HomeVisit }, "").await.unwrap();
    assert!(matches!(
        s.record_contact_outcome(&nurse, newborn, &tl::Outcome::NotReached { attempts: 1 }, "").await,
        Err(StoreError::Conflict("contact_settled"))
    ));

    // Work lists and their counts, drawn from the dates of the day asked for.
    let f3 = family(&s, m, south, "ユキ").await;
    let c3 = s.family_contacts(&nurse, f3).await.unwrap();
    let p3 = c3[0].contact.pregnancy;
    let i2 = the(&c2, ContactKind::NotificationInterview, tl::Subject::Pregnancy(p2.id)).contact.id;
    let i3 = the(&c3, ContactKind::NotificationInterview, tl::Subject::Pregnancy(p3)).contact.id;
    let nov25 = date(2026, 11, 25);
    let overdue =
        s.work_list(&nurse, &list(scope(m, Some(Role::Nurse), vec![], nov25), WorkList::Overdue)).await.unwrap();
    assert_eq!(ids(&overdue), vec![i2, i3]);
    assert_eq!(last_line(&s, m).await, line("timeline.worklist", None, "list=overdue results=2"));
    let south_only =
        s.work_list(&nurse, &list(scope(m, Some(Role::Nurse), vec![south], nov25), WorkList::Overdue)).await.unwrap();
    assert_eq!(ids(&south_only), vec![i3]);
    let coordinators = scope(m, Some(Role::Coordinator), vec![], nov25);
    assert_eq!(s.work_list(&nurse, &list(coordinators, WorkList::Overdue)).await.unwrap(), vec![]);
    assert_eq!(
        s.work_counts(&scope(m, Some(Role::Nurse), vec![], nov25), None).await.unwrap(),
        WorkCounts { due_this_week: 0, overdue: 2, missed: 0, check_non_attendees: 0 }
    );
    // Capped counts (#16): a count reads at most cap + 1 entries, so it is
    // exact up to the cap (the chip equals its list) and cap + 1 past it.
    for (cap, overdue, over_cap) in [(0, 1, true), (1, 2, true), (2, 2, false), (3, 2, false)] {
        let c = s.work_counts(&scope(m, Some(Role::Nurse), vec![], nov25), Some(cap)).await.unwrap();
        assert_eq!(c, WorkCounts { due_this_week: 0, overdue, missed: 0, check_non_attendees: 0 }, "cap {cap}");
        assert_eq!(tl::ChipCount::of(c.overdue, cap).is_over_cap(), over_cap, "cap {cap}");
    }
    let dec25 = date(2026, 12, 25);
    let missed =
        s.work_list(&nurse, &list(scope(m, Some(Role::Nurse), vec![], dec25), WorkList::Missed)).await.unwrap();
    assert_eq!(ids(&missed), vec![i2, i3]);
    assert_eq!(
        s.work_counts(&scope(m, Some(Role::Nurse), vec![], dec25), Some(3)).await.unwrap(),
        WorkCounts { due_this_week: 0, overdue: 0, missed: 2, check_non_attendees: 0 }
    );
    // Both babies' checks are past due by late April: two non-attendees.
    let counts = s.work_counts(&scope(m, None, vec![], date(2027, 4, 25)), None).await.unwrap();
    assert_eq!(counts.check_non_attendees, 2);
    let elsewhere = WorkScope { filter: FamilyFilter::Municipality(other), ..scope(m, None, vec![], nov25) };
    assert!(matches!(
        s.work_list(&nurse, &list(elsewhere, WorkList::Open)).await,
        Err(StoreError::InvalidReference("municipality"))
    ));

    // The daily job stamps the first missed day, once.
    let run = s.mark_missed(m, dec25).await.unwrap();
    assert_eq!(run, MissedRun { from: None, through: date(2026, 12, 24), marked: 2 });
    assert_eq!(s.contact(&nurse, i2).await.unwrap().unwrap().missed_on, Some(date(2026, 12, 20)));
    assert_eq!(s.contact(&nurse, iid).await.unwrap().unwrap().missed_on, None);
    let again = s.mark_missed(m, dec25).await.unwrap();
    assert_eq!(again, MissedRun { from: Some(date(2026, 12, 24)), through: date(2026, 12, 24), marked: 0 });
    let next = s.mark_missed(m, date(2026, 12, 26)).await.unwrap();
    assert_eq!(next, MissedRun { from: Some(date(2026, 12, 24)), through: date(2026, 12, 25), marked: 0 });
    assert_eq!(s.mark_missed(other, dec25).await.unwrap().marked, 0);

    // A kind the municipality stops running leaves every list on backfill;
    // after the loss, it is hidden rather than shown as not applicable.
    let kinds = KindSet::ALL.without(ContactKind::MaternityClass);
    s.set_contact_kinds(m, kinds).await.unwrap();
    assert_eq!(s.contact_kinds(m).await.unwrap(), kinds);
    assert_eq!(s.backfill_timelines(m, today(), 2).await.unwrap(), 2);
    assert_eq!(s.backfill_timelines(m, today(), 10).await.unwrap(), 1);
    assert_eq!(s.backfill_timelines(m, today(), 10).await.unwrap(), 0);
    let class = |rows: &[ContactRow], p| the(rows, ContactKind::MaternityClass, tl::Subject::Pregnancy(p)).contact;
    let c1 = s.family_contacts(&nurse, f1).await.unwrap();
    assert_eq!(class(&c1, p1.id).ending, Some(tl::Ending::hidden(tl::CloseReason::PregnancyLost)));
    let c3 = s.family_contacts(&nurse, f3).await.unwrap();
    assert_eq!(class(&c3, p3).ending, Some(tl::Ending::closed(tl::CloseReason::NotApplicable)));

    assert!(verify_chain(&s, m).await.is_ok());
    finish(s, db).await;
}

async fn story_concurrent_outcomes_and_daily_runs_have_one_winner(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let staff = s.create_account(None, &new_account(m, "hoken", Role::Nurse)).await.unwrap();
    let nurse =
        tsunagu_domain::audit::Requester { actor: staff.id, ..requester(m, Role::Nurse) }.without_a_policy_decision();
    let f = family(&s, m, north, "ハナコ").await;
    let g = family(&s, m, north, "ミカ").await;
    let interview = |rows: Vec<ContactRow>| {
        rows.into_iter().find(|r| r.contact.kind == ContactKind::NotificationInterview).unwrap().contact.id
    };
    let id = interview(s.family_contacts(&nurse, f).await.unwrap());
    let other = interview(s.family_contacts(&nurse, g).await.unwrap());

    // Eight people record the same visit at once: one outcome stands.
    let gate = hold_audit_head(&db, m).await;
    let racers: Vec<_> = (0..8)
        .map(|i| {
            let (s, nurse) = (s.clone(), nurse.clone());
            tokio::spawn(async move {
                let done = tl::Outcome::Done { form: ContactForm::Individual };
                s.record_contact_outcome(&nurse, id, &done, &format!("visit {i}")).await
            })
        })
        .collect();
    open_gate(gate, 8).await;
    let (mut ok, mut settled) = (0, 0);
    for r in racers {
        match r.await.unwrap() {
            Ok(_) => ok += 1,
            Err(StoreError::Conflict("contact_settled")) => settled += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!((ok, settled), (1, 7));
    assert!(!s.contact(&nurse, id).await.unwrap().unwrap().outcome_note.contains('\n'));
    assert_eq!(lines_of(&s, m, "timeline.outcome").await.len(), 1);

    // Two runs of the daily job at once: the contact is stamped once.
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { s.mark_missed(m, date(2026, 12, 25)).await })
        })
        .collect();
    let mut marked = vec![];
    for r in runs {
        marked.push(r.await.unwrap().unwrap().marked);
    }
    marked.sort_unstable();
    assert_eq!(marked, vec![0, 1]);
    assert_eq!(s.contact(&nurse, other).await.unwrap().unwrap().missed_on, Some(date(2026, 12, 20)));
    assert!(verify_chain(&s, m).await.is_ok());
    finish(s, db).await;
}

on_both!(multi_thread:
    the_timeline_follows_each_pregnancy_and_feeds_the_work_lists => story_the_timeline_follows_each_pregnancy_and_feeds_the_work_lists,
    concurrent_outcomes_and_daily_runs_have_one_winner => story_concurrent_outcomes_and_daily_runs_have_one_winner,
);
