//! A class session's staff in the store (#12, last stage), on both back
//! ends: the accounts a session's staff may be chosen from (active, of the
//! municipality, of a role that runs sessions), an edit that assigns and
//! changes them with one `class.session_edit` line naming the ids, and
//! refusals that store nothing (another municipality's account, a disabled
//! one, a role that does not run sessions); a programme worker's list
//! reaching the sessions it is assigned to at another venue; and a booking
//! promoted and then moved saying both, the latest first.

use crate::store_support::*;
use crate::support::Backend;
use jiff::civil::{date, Time};
use tsunagu_domain::classes::{decide, ProgrammeConfig, ProgrammeKind};
use tsunagu_domain::places::VenueKind;
use tsunagu_domain::roles::Role;
use tsunagu_domain::{AccountId, AreaId, MunicipalityId, VenueId};
use tsunagu_store::{
    BookingNotice, ClassBookingStatus, NewClassBooking, NewSession, NewVenue, SessionEdit, SessionQuery, StoreError,
};

async fn venue(s: &Db, m: MunicipalityId, area: AreaId, name: &str) -> VenueId {
    s.create_venue(&NewVenue {
        municipality_id: m,
        area_id: Some(area),
        kind: VenueKind::ChildrensHall,
        name_ja: name.into(),
        name_en: name.into(),
    })
    .await
    .unwrap()
    .id
}

async fn account(s: &Db, m: MunicipalityId, username: &str, name: &str, role: Role) -> AccountId {
    let a = tsunagu_store::NewAccount { display_name: name.into(), ..new_account(m, username, role) };
    s.create_account(None, &a).await.unwrap().id
}

fn edit(staff: Option<Vec<AccountId>>) -> SessionEdit {
    SessionEdit {
        day: date(2026, 12, 15),
        starts: Time::constant(10, 0, 0, 0),
        minutes: 120,
        capacity: 2,
        cancelled: false,
        venue_id: None,
        staff,
    }
}

async fn story_session_staff(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, south) = town(&s, "131121").await;
    let (other, other_area, _) = town(&s, "082210").await;
    let v = venue(&s, m, north, "北沢児童館").await;
    let w = venue(&s, m, south, "代田児童館").await;
    let a = account(&s, m, "hall-a", "相川", Role::ProgrammeStaff).await;
    let b = account(&s, m, "hall-b", "馬場", Role::ProgrammeStaff).await;
    let nurse = account(&s, m, "hoken", "保健 花子", Role::Nurse).await;
    let analyst = account(&s, m, "stats", "統計", Role::Analyst).await;
    let gone = account(&s, m, "gone", "去年の職員", Role::ProgrammeStaff).await;
    let admin = ctx(m, Role::Admin);
    s.set_disabled(&admin, gone, true).await.unwrap();
    let stranger = account(&s, other, "hall-x", "よその職員", Role::ProgrammeStaff).await;
    let _ = venue(&s, other, other_area, "よその館").await;

    // The choices: active accounts of the municipality whose role runs sessions, by name.
    let choices = s.class_staff_choices(m).await.unwrap();
    let ids: Vec<AccountId> = choices.iter().map(|c| c.account_id).collect();
    assert_eq!(ids, [nurse, a, b], "by display name; not the analyst, the disabled, another municipality's");
    assert_eq!(choices[1].display_name, "相川");

    let p = s.create_programme(m, &ProgrammeConfig::seed_default(ProgrammeKind::SelfCare)).await.unwrap();
    let at = |venue_id| NewSession {
        venue_id,
        day: date(2026, 12, 15),
        starts: Time::constant(10, 0, 0, 0),
        minutes: 120,
        capacity: 1,
    };
    let ids = s.create_class_sessions(m, p.id, &[at(v), at(w)]).await.unwrap();
    let (one, two) = (ids[0], ids[1]);
    assert!(s.class_session(m, one).await.unwrap().unwrap().staff.is_empty(), "a new session has none");

    // Assigned: the session says who, by name; one line naming the ids.
    let c = as_staff(m, Role::Nurse, nurse.0, "2026-11-22T01:00:00Z");
    s.edit_class_session(&c, one, &edit(Some(vec![a, nurse]))).await.unwrap();
    let got = s.class_session(m, one).await.unwrap().unwrap();
    assert_eq!(got.staff_ids(), [nurse, a], "by display name");
    assert_eq!(got.staff.iter().map(|x| x.display_name.as_str()).collect::<Vec<_>>(), ["保健 花子", "相川"]);
    let (lo, hi) = if a.0 < nurse.0 { (a, nurse) } else { (nurse, a) };
    assert_eq!(
        last_line(&s, m).await,
        line(
            "class.session_edit",
            None,
            format!("session={one} told=0 promoted=[] staff_added=[{},{}] staff_removed=[]", lo.0, hi.0)
        )
    );

    // Refused, nothing stored, no line: another municipality's, a disabled one, a role that does not run sessions.
    let lines_before = s.audit_lines(m, 0, 10_000).await.unwrap().len();
    let r = s.edit_class_session(&c, one, &edit(Some(vec![b, stranger]))).await;
    assert!(matches!(r, Err(StoreError::InvalidReference("staff_ids"))), "{r:?}");
    let r = s.edit_class_session(&c, one, &edit(Some(vec![gone]))).await;
    match r {
        Err(StoreError::Invalid(e)) => assert_eq!(e.for_field("staff_ids"), Some("account_disabled")),
        other => panic!("{other:?}"),
    }
    let r = s.edit_class_session(&c, one, &edit(Some(vec![analyst]))).await;
    match r {
        Err(StoreError::Invalid(e)) => assert_eq!(e.for_field("staff_ids"), Some("not_session_staff")),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.class_session(m, one).await.unwrap().unwrap().staff_ids(), [nurse, a]);
    assert_eq!(s.audit_lines(m, 0, 10_000).await.unwrap().len(), lines_before);

    // No staff in the edit: they stay, and the line says nothing of them.
    s.edit_class_session(&c, one, &edit(None)).await.unwrap();
    assert_eq!(s.class_session(m, one).await.unwrap().unwrap().staff_ids(), [nurse, a]);
    assert_eq!(last_line(&s, m).await.2, format!("session={one} told=0 promoted=[]"));
    // Changed: who came and who went, by id.
    s.edit_class_session(&c, one, &edit(Some(vec![b, nurse]))).await.unwrap();
    assert_eq!(
        last_line(&s, m).await.2,
        format!("session={one} told=0 promoted=[] staff_added=[{}] staff_removed=[{}]", b.0, a.0)
    );
    // Another municipality never sees the session, its staff neither.
    assert!(s.class_session(other, one).await.unwrap().is_none());

    // A programme worker of the other hall (w) asks for its venue's sessions
    // and those it is assigned to: `one` at v comes too once b runs it.
    let q = SessionQuery { venues: Some(vec![w]), or_staffed_by: Some(b), limit: 10, ..SessionQuery::default() };
    let listed: Vec<_> = s.class_sessions(m, &q).await.unwrap().into_iter().map(|x| x.id).collect();
    assert_eq!(listed, [one, two]);
    let q = SessionQuery { venues: Some(vec![w]), or_staffed_by: Some(a), limit: 10, ..SessionQuery::default() };
    let listed: Vec<_> = s.class_sessions(m, &q).await.unwrap().into_iter().map(|x| x.id).collect();
    assert_eq!(listed, [two], "a is no longer on it");

    // A booking promoted, then its session moved: both notices, the move first.
    let fam1 = family(&s, m, south, "ハナコ").await;
    let fam2 = family(&s, m, south, "サクラ").await;
    let mut booked = vec![];
    for (f, key) in [(fam1, "k1"), (fam2, "k2")] {
        let sess = s.class_session(m, two).await.unwrap().unwrap();
        let record = s.open_family(&c, f).await.unwrap().unwrap();
        let eligible = decide(&sess.programme, &record, sess.day, &[]).unwrap();
        let req = NewClassBooking {
            session_id: two,
            family_id: f,
            eligible,
            idempotency_key: key.into(),
            with_partner: false,
            share_name: true,
            join_waiting_list: true,
            override_rule: None,
        };
        booked.push(s.book_class(&c, &req).await.unwrap().booking);
    }
    assert_eq!(booked[1].status, ClassBookingStatus::Waiting);
    s.cancel_class_booking(&as_staff(m, Role::Nurse, nurse.0, "2026-11-23T01:00:00Z"), fam1, booked[0].id)
        .await
        .unwrap();
    let theirs = |list: Vec<tsunagu_store::FamilyBooking>| list.into_iter().find(|x| x.session.id == two).unwrap();
    let b2 = theirs(s.family_class_bookings(&c, fam2).await.unwrap());
    assert_eq!(b2.booking.notices(false), [BookingNotice::Promoted]);
    let moved = SessionEdit { starts: Time::constant(13, 0, 0, 0), ..edit(None) };
    s.edit_class_session(&as_staff(m, Role::Nurse, nurse.0, "2026-11-24T01:00:00Z"), two, &moved).await.unwrap();
    let b2 = theirs(s.family_class_bookings(&c, fam2).await.unwrap());
    assert_eq!(b2.booking.notices(false), [BookingNotice::SessionMoved, BookingNotice::Promoted]);
    assert!(b2.booking.moved_at.is_some());
    // Seen; moved again: only the move now.
    s.dismiss_class_notice(&as_staff(m, Role::FamilyMember, 1, "2026-11-25T01:00:00Z"), fam2, b2.booking.id)
        .await
        .unwrap();
    let b2 = theirs(s.family_class_bookings(&c, fam2).await.unwrap());
    assert!(b2.booking.notices(false).is_empty());
    let again = SessionEdit { starts: Time::constant(14, 0, 0, 0), ..edit(None) };
    s.edit_class_session(&as_staff(m, Role::Nurse, nurse.0, "2026-11-26T01:00:00Z"), two, &again).await.unwrap();
    let b2 = theirs(s.family_class_bookings(&c, fam2).await.unwrap());
    assert_eq!(b2.booking.notices(false), [BookingNotice::SessionMoved]);
    assert_eq!(b2.booking.notices(true), [BookingNotice::SessionCancelled]);

    assert!(verify_chain(&s, m).await.is_ok());
    finish(s, db).await;
}

on_both! {
    session_staff => story_session_staff,
}
