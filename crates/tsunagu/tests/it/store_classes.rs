//! Classes in the store [000][002][004], on both back ends: booking, the
//! waiting list and its promotion, idempotent retries, once per stage,
//! attendance closing the owed contact, and many tasks taking the last
//! places at once.

use crate::store_support::*;
use crate::support::Backend;
use jiff::civil::{date, Date, Time};
use std::collections::HashSet;
use std::sync::Arc;
use tsunagu_domain::audit::AuditContext;
use tsunagu_domain::classes::{decide, Eligible, ProgrammeConfig, ProgrammeKind, SessionStatus, Stage};
use tsunagu_domain::places::VenueKind;
use tsunagu_domain::roles::Role;
use tsunagu_domain::timeline::{ContactKind, Subject};
use tsunagu_domain::{ClassSessionId, FamilyId, MunicipalityId, VenueId};
use tsunagu_store::{
    AttendanceMark, ClassBookingStatus, NewClassBooking, NewSession, NewVenue, SessionEdit, SessionQuery, StoreError,
};

async fn hall(s: &Db, m: MunicipalityId, area: tsunagu_domain::AreaId) -> VenueId {
    s.create_venue(&NewVenue {
        municipality_id: m,
        area_id: Some(area),
        kind: VenueKind::ChildrensHall,
        name_ja: "北沢児童館".into(),
        name_en: "Kitazawa hall".into(),
    })
    .await
    .unwrap()
    .id
}

fn on(day: Date, capacity: u32, venue: VenueId) -> NewSession {
    NewSession { venue_id: venue, day, starts: Time::constant(10, 0, 0, 0), minutes: 120, capacity }
}

/// What the domain says the family may book the session as.
async fn eligible(s: &Db, c: &AuditContext, session: ClassSessionId, f: FamilyId) -> Eligible {
    let sess = s.class_session(c.municipality_id, session).await.unwrap().unwrap();
    let record = s.open_family(c, f).await.unwrap().unwrap();
    decide(&sess.programme, &record, sess.day, &[]).unwrap()
}

fn request(session: ClassSessionId, f: FamilyId, e: Eligible, key: &str) -> NewClassBooking {
    NewClassBooking {
        session_id: session,
        family_id: f,
        eligible: e,
        idempotency_key: key.into(),
        with_partner: false,
        share_name: true,
        join_waiting_list: true,
        override_rule: None,
    }
}

async fn story_booking_waiting_list_promotion_and_attendance(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let staff = s.create_account(None, &new_account(m, "hoken", Role::Nurse)).await.unwrap();
    let nurse =
        tsunagu_domain::audit::Requester { actor: staff.id, ..requester(m, Role::Nurse) }.without_a_policy_decision();
    let v = hall(&s, m, north).await;
    let p = s.create_programme(m, &ProgrammeConfig::seed_default(ProgrammeKind::SelfCare)).await.unwrap();
    assert_eq!(s.programmes(m).await.unwrap(), vec![p.clone()]);
    // EDD 2027-05-20: week 16 from 2026-12-03.
    let ids = s
        .create_class_sessions(
            m,
            p.id,
            &[on(date(2026, 12, 15), 2, v), on(date(2027, 1, 19), 2, v), on(date(2026, 11, 1), 2, v)],
        )
        .await
        .unwrap();
    let (first, second, past) = (ids[0], ids[1], ids[2]);
    let fams = [
        family(&s, m, north, "ハナコ").await,
        family(&s, m, north, "サクラ").await,
        family(&s, m, north, "モモコ").await,
        family(&s, m, north, "ユリ").await,
    ];
    let [f1, f2, f3, f4] = fams;
    let e1 = eligible(&s, &nurse, first, f1).await;
    assert_eq!(e1.stage, Stage::Prenatal);

    // Two places: two confirmed, then the waiting list in arrival order.
    let b1 = s.book_class(&nurse, &request(first, f1, e1, "k1")).await.unwrap();
    assert!(!b1.replayed);
    assert_eq!(b1.booking.status, ClassBookingStatus::Confirmed);
    let contacts = s.family_contacts(&nurse, f1).await.unwrap();
    let owed = contacts.iter().find(|r| r.contact.kind == ContactKind::PrenatalSelfCareClass).unwrap();
    assert_eq!(b1.booking.contact_id, Some(owed.contact.id), "the booking links the owed contact");
    let mut booked = vec![b1.booking.clone()];
    for (f, k) in [(f2, "k2"), (f3, "k3"), (f4, "k4")] {
        let e = eligible(&s, &nurse, first, f).await;
        let mut r = request(first, f, e, k);
        r.share_name = f != f4;
        booked.push(s.book_class(&nurse, &r).await.unwrap().booking);
    }
    let statuses: Vec<ClassBookingStatus> = booked.iter().map(|b| b.status).collect();
    use ClassBookingStatus::{Cancelled, Confirmed, Waiting};
    assert_eq!(statuses, [Confirmed, Confirmed, Waiting, Waiting]);
    let sess = s.class_session(m, first).await.unwrap().unwrap();
    assert_eq!((sess.taken, sess.waiting, sess.status()), (2, 2, SessionStatus::Full));
    assert_eq!(
        last_line(&s, m).await,
        line("class.book", Some(f4), format!("booking={} session={} status=waiting", booked[3].id, first))
    );

    // A retried request books once; a key is one family's; one booking a session.
    let again = s.book_class(&nurse, &request(first, f1, e1, "k1")).await.unwrap();
    assert!(again.replayed);
    assert_eq!(again.booking.id, b1.booking.id);
    assert_eq!(lines_of(&s, m, "class.book").await.iter().filter(|(f, _)| *f == Some(f1)).count(), 1);
    let stolen = s.book_class(&nurse, &request(first, f2, e1, "k1")).await;
    assert!(matches!(stolen, Err(StoreError::Conflict("idempotency_key_reused"))), "{stolen:?}");
    let twice = s.book_class(&nurse, &request(first, f1, e1, "k1b")).await;
    assert!(matches!(twice, Err(StoreError::Conflict("already_booked"))), "{twice:?}");
    // [000] 産前に1回: a second prenatal class, even when the domain is not asked.
    let second_prenatal = s.book_class(&nurse, &request(second, f1, e1, "k1c")).await;
    assert!(matches!(second_prenatal, Err(StoreError::Conflict("stage_already_taken"))), "{second_prenatal:?}");
    let too_late = s.book_class(&nurse, &request(past, f1, e1, "k1d")).await;
    assert!(matches!(too_late, Err(StoreError::Conflict("session_past"))), "{too_late:?}");

    // The family's programme venue lets the hall's staff see it.
    let access = s.family_access(m, f1).await.unwrap().unwrap();
    assert_eq!(access.programme_venues, vec![v]);

    // Cancelling a confirmed place promotes the first waiting, with a notice.
    let cancelled = s.cancel_class_booking(&nurse, f2, booked[1].id).await.unwrap();
    assert_eq!(cancelled.status, Cancelled);
    let mine = s.family_class_bookings(&nurse, f3).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].booking.status, Confirmed);
    assert!(mine[0].booking.notice_pending && mine[0].booking.promoted_at.is_some());
    // One line for the cancellation, naming the family it promoted (#12 stage 2).
    assert!(lines_of(&s, m, "class.promote").await.is_empty());
    assert_eq!(
        lines_of(&s, m, "class.cancel").await,
        vec![(Some(f2), format!("booking={} session={first} promoted={}", booked[1].id, booked[2].id))]
    );
    s.dismiss_class_notice(&nurse, f3, booked[2].id).await.unwrap();
    assert!(!s.family_class_bookings(&nurse, f3).await.unwrap()[0].booking.notice_pending);
    let again = s.cancel_class_booking(&nurse, f2, booked[1].id).await;
    assert!(matches!(again, Err(StoreError::Conflict("booking_cancelled"))), "{again:?}");
    // A cancelled prenatal place frees the stage: she books the other class.
    let e2 = eligible(&s, &nurse, second, f2).await;
    assert_eq!(s.book_class(&nurse, &request(second, f2, e2, "k2b")).await.unwrap().booking.status, Confirmed);

    // The roster: confirmed first, then the waiting list; names as the family allows.
    let roster = s.class_roster(&nurse, first).await.unwrap();
    let shape: Vec<(FamilyId, ClassBookingStatus, Option<u32>, bool)> =
        roster.iter().map(|r| (r.booking.family_id, r.booking.status, r.waiting_position, r.name.is_some())).collect();
    assert_eq!(shape, [(f1, Confirmed, None, true), (f3, Confirmed, None, true), (f4, Waiting, Some(1), false)]);
    assert_eq!(roster[0].name.as_deref(), Some("山田 花子"));
    assert_eq!(last_line(&s, m).await, line("class.roster", None, format!("session={first} bookings=3")));

    // More places promote the waiting list too; fewer than taken are refused.
    let edit = |capacity| SessionEdit {
        day: date(2026, 12, 15),
        starts: Time::constant(10, 0, 0, 0),
        minutes: 120,
        capacity,
        cancelled: false,
        venue_id: None,
        staff: None,
    };
    let below = s.edit_class_session(&nurse, first, &edit(1)).await;
    assert!(matches!(below, Err(StoreError::Conflict("capacity_below_taken"))), "{below:?}");
    s.edit_class_session(&nurse, first, &edit(3)).await.unwrap();
    let sess = s.class_session(m, first).await.unwrap().unwrap();
    assert_eq!((sess.taken, sess.waiting), (3, 0));
    // One line for the edit, naming the booking it promoted (same day and time: nobody told).
    let promoted = roster[2].booking.id;
    assert_eq!(
        last_line(&s, m).await,
        line("class.session_edit", None, format!("session={first} told=0 promoted=[{promoted}]"))
    );
    assert!(lines_of(&s, m, "class.promote").await.is_empty());

    // Attendance: f1 came (her contact is done, through the timeline), f3 did not
    // (her contact stays owed, and she may book another prenatal class).
    let marks = [
        AttendanceMark { booking_id: b1.booking.id, attended: true, weight_g: Some(3000), height_mm: None },
        AttendanceMark { booking_id: booked[2].id, attended: false, weight_g: None, height_mm: None },
    ];
    s.record_class_attendance(&nurse, first, &marks).await.unwrap();
    let done = s.contact(&nurse, owed.contact.id).await.unwrap().unwrap();
    assert_eq!(done.contact.outcome.map(|o| o.as_str()), Some("done"));
    // One line for the roster's marks, naming the contact it closed (#12 stage 2).
    assert_eq!(
        lines_of(&s, m, "class.attendance").await,
        vec![(
            None,
            format!(
                "session={first} marks=2 attended=1 booking={}:came booking={}:absent contact_done={}",
                b1.booking.id, booked[2].id, owed.contact.id
            )
        )]
    );
    assert!(lines_of(&s, m, "timeline.outcome").await.is_empty(), "closed under the attendance's line");
    let mine = s.family_class_bookings(&nurse, f1).await.unwrap();
    assert_eq!(mine[0].booking.attended, Some(true));
    assert_eq!(mine[0].booking.weight_g, None, "the self-care class weighs nobody");
    let f3_contact = s.family_contacts(&nurse, f3).await.unwrap();
    assert!(f3_contact
        .iter()
        .any(|r| r.contact.kind == ContactKind::PrenatalSelfCareClass && r.contact.outcome.is_none()));
    let e3 = eligible(&s, &nurse, second, f3).await;
    assert!(s.book_class(&nurse, &request(second, f3, e3, "k3b")).await.is_ok(), "an absence does not count");
    // [002]'s table: the session held, one group (f1), one person, no couple.
    let figures = s.class_participation(m, date(2026, 4, 1), date(2027, 3, 31)).await.unwrap();
    assert_eq!(figures.len(), 1);
    assert_eq!((figures[0].venue_id, figures[0].kind), (v, ProgrammeKind::SelfCare));
    let f = figures[0].figures;
    assert_eq!((f.sessions, f.groups, f.people, f.couples), (1, 1, 1, 0));
    let late = s.cancel_class_booking(&nurse, f1, b1.booking.id).await;
    assert!(matches!(late, Err(StoreError::Conflict("attendance_recorded"))), "{late:?}");

    // A cancelled session takes no bookings.
    s.edit_class_session(&nurse, second, &SessionEdit { day: date(2027, 1, 19), cancelled: true, ..edit(2) })
        .await
        .unwrap();
    let e4 = eligible(&s, &nurse, second, f4).await;
    let closed = s.book_class(&nurse, &request(second, f4, e4, "k4b")).await;
    assert!(matches!(closed, Err(StoreError::Conflict("session_cancelled"))), "{closed:?}");
    let listed =
        s.class_sessions(m, &SessionQuery { area: Some(north), limit: 10, ..Default::default() }).await.unwrap();
    assert_eq!(listed.iter().map(|x| x.id).collect::<Vec<_>>(), [past, first, second]);
    let _ = Subject::Pregnancy;

    assert!(verify_chain(&s, m).await.is_ok());
    finish(s, db).await;
}

/// Three places and twenty families, each sending its request twice (a
/// retry) from several stores on the same database at once; then the
/// three confirmed cancel while others book: never over capacity, nobody
/// twice, the waiting list promoted in arrival order.
async fn story_many_take_the_last_places_at_once(backend: Backend) {
    const PLACES: u32 = 3;
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let staff = s.create_account(None, &new_account(m, "hoken", Role::Nurse)).await.unwrap();
    let nurse =
        tsunagu_domain::audit::Requester { actor: staff.id, ..requester(m, Role::Nurse) }.without_a_policy_decision();
    let v = hall(&s, m, north).await;
    let p = s.create_programme(m, &ProgrammeConfig::seed_default(ProgrammeKind::SelfCare)).await.unwrap();
    let session = s.create_class_sessions(m, p.id, &[on(date(2026, 12, 15), PLACES, v)]).await.unwrap()[0];
    let kana = ["ア", "イ", "ウ", "エ", "オ", "カ", "キ", "ク", "ケ", "コ"];
    let mut families = vec![];
    for i in 0..20 {
        let f = family(&s, m, north, &format!("{}{}", kana[i % 10], kana[i / 10])).await;
        families.push((f, eligible(&s, &nurse, session, f).await));
    }
    let mut nodes = vec![s.clone()];
    for _ in 1..4 {
        nodes.push(another_node(&db).await);
    }
    let start = Arc::new(tokio::sync::Barrier::new(40));
    let mut tasks = vec![];
    for (i, (f, e)) in families.iter().copied().enumerate() {
        for attempt in 0..2 {
            let (node, start, nurse) = (nodes[(i + attempt) % nodes.len()].clone(), start.clone(), nurse.clone());
            tasks.push(tokio::spawn(async move {
                start.wait().await;
                node.book_class(&nurse, &request(session, f, e, &format!("key-{}", f.0))).await
            }));
        }
    }
    let mut answered = vec![];
    for t in tasks {
        answered.push(t.await.unwrap().unwrap().booking);
    }
    let ids: HashSet<_> = answered.iter().map(|b| b.id).collect();
    assert_eq!(ids.len(), 20, "each family once, whichever retry answered");
    let roster = s.class_roster(&nurse, session).await.unwrap();
    assert_eq!(roster.len(), 20);
    let confirmed: Vec<_> = roster.iter().filter(|r| r.booking.status == ClassBookingStatus::Confirmed).collect();
    assert_eq!(confirmed.len(), PLACES as usize);
    let sess = s.class_session(m, session).await.unwrap().unwrap();
    assert_eq!((sess.taken, sess.waiting), (PLACES, 20 - PLACES));
    // Every confirmed answer is on the roster as confirmed.
    for b in answered.iter().filter(|b| b.status == ClassBookingStatus::Confirmed) {
        assert!(confirmed.iter().any(|r| r.booking.id == b.id));
    }
    let waiting_order: Vec<_> = roster.iter().filter_map(|r| r.waiting_position.map(|_| r.booking.id)).collect();

    // The confirmed cancel at once: the first three waiting move up.
    let start = Arc::new(tokio::sync::Barrier::new(PLACES as usize));
    let mut tasks = vec![];
    for (i, r) in confirmed.iter().enumerate() {
        let (node, start, nurse, f, id) =
            (nodes[i % nodes.len()].clone(), start.clone(), nurse.clone(), r.booking.family_id, r.booking.id);
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            node.cancel_class_booking(&nurse, f, id).await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let roster = s.class_roster(&nurse, session).await.unwrap();
    let now_confirmed: Vec<_> =
        roster.iter().filter(|r| r.booking.status == ClassBookingStatus::Confirmed).map(|r| r.booking.id).collect();
    assert_eq!(now_confirmed, waiting_order[..PLACES as usize].to_vec(), "promoted in arrival order");
    let sess = s.class_session(m, session).await.unwrap().unwrap();
    assert_eq!((sess.taken, sess.waiting), (PLACES, 20 - 2 * PLACES));
    assert!(verify_chain(&s, m).await.is_ok());
    for n in nodes.into_iter().skip(1) {
        close_node(n).await;
    }
    finish(s, db).await;
}

on_both! {
    booking_waiting_list_promotion_and_attendance => story_booking_waiting_list_promotion_and_attendance,
}
on_both! {
    multi_thread: many_take_the_last_places_at_once => story_many_take_the_last_places_at_once,
}
