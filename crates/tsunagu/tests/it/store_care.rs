//! Storage stories about the work around a family: referrals from concern to
//! close, online follow-up slots, the online talk and incident reports.
//! Each runs on SQLite and on PostgreSQL (`on_both!`).

use crate::store_support::*;
use crate::support::Backend;
use jiff::civil::datetime;
use std::sync::Arc;
use tsunagu_domain::dates::DateRange;
use tsunagu_domain::policy::{authorize, Action, FamilyAccess, Resource};
use tsunagu_domain::postpartum::safety::IncidentHeading;
use tsunagu_domain::postpartum::ServiceType;
use tsunagu_domain::referrals::{self, apply, CloseReason, ConcernSource, Referral, ReferralAction, ReferralStatus};
use tsunagu_domain::roles::{Actor, Role};
use tsunagu_domain::{AccountId, FamilyId, FollowupId, PregnancyId, ReferralId, TalkId, VenueId};
use tsunagu_store::{
    Followup, FollowupStatus, Incident, NewIncident, OnlineTalk, ReferralEvent, ReferralFilter, StoreError,
    StoredReferral,
};

async fn story_referrals_move_from_raised_to_closed_and_escalation_opens_the_family(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, other_area, _) = town(&s, "082350").await;
    let centre = facility(&s, m, "センター", &every_day(3)).await;
    let mamas = facility(&s, m, "ママズルーム", &every_day(3)).await;
    let f = family(&s, m, north, "ハナコ").await;
    let g = family(&s, m, north, "ミカ").await;
    let foreign = family(&s, other, other_area, "ハナコ").await;
    let pregnancy_of = |fam: FamilyId| {
        let s = &s;
        async move { s.open_family(&ctx(m, Role::Nurse), fam).await.unwrap().unwrap().pregnancies[0].id }
    };
    let (pf, pg) = (pregnancy_of(f).await, pregnancy_of(g).await);
    let nurse = |when: &str| as_staff(m, Role::Nurse, 21, when);
    let staff = as_staff(m, Role::FacilityStaff, 40, "2026-11-22T02:00:00Z");
    let coordinator = as_staff(m, Role::Coordinator, 30, "2026-11-22T01:00:00Z");
    let app = s
        .create_application(
            &nurse("2026-11-22T00:00:00Z"),
            &application(f, centre, ServiceType::ShortStay, stay(day(5, 10), 3)),
        )
        .await
        .unwrap();

    // A facility's alert about f (from a stay), a coordinator's urgent
    // concern about g, a nurse's screening referral about f's pregnancy.
    let observed = referrals::raise(Role::FacilityStaff, f, None, ConcernSource::Observation, false).unwrap();
    let alert = s.raise_referral(&staff, &observed, "母の表情が暗い", Some(centre), Some(app)).await.unwrap();
    assert_eq!(last_line(&s, m).await, line("referral.raise", Some(f), format!("referral={alert}")));
    let crying = referrals::raise(Role::Coordinator, g, None, ConcernSource::Observation, true).unwrap();
    let urgent = s.raise_referral(&coordinator, &crying, "泣き続けている", None, None).await.unwrap();
    let epds = referrals::raise(Role::Nurse, f, Some(pf), ConcernSource::Screening, false).unwrap();
    let screening = s.raise_referral(&nurse("2026-11-22T03:00:00Z"), &epds, "EPDS 12点", None, None).await.unwrap();

    // What is not this municipality's, or not this family's, is refused, and nothing is written.
    let head = s.audit_head(m).await.unwrap();
    let about = |fam: FamilyId, p: Option<PregnancyId>| {
        referrals::raise(Role::Nurse, fam, p, ConcernSource::Observation, false).unwrap()
    };
    let refused = [
        (s.raise_referral(&staff, &about(foreign, None), "x", None, None).await, "family_id"),
        (s.raise_referral(&staff, &about(f, Some(pg)), "x", None, None).await, "pregnancy_id"),
        (s.raise_referral(&staff, &about(f, None), "x", Some(a_hall(&s, m).await), None).await, "venue_id"),
        (
            s.raise_referral(&staff, &about(f, None), "x", Some(facility(&s, other, "他", &every_day(1)).await), None)
                .await,
            "venue_id",
        ),
        (s.raise_referral(&staff, &about(g, None), "x", None, Some(app)).await, "application_id"),
        (s.raise_referral(&staff, &about(f, None), "x", Some(mamas), Some(app)).await, "application_id"),
        (s.raise_referral(&ctx(other, Role::Nurse), &about(f, None), "x", None, None).await, "family_id"),
    ];
    for (got, code) in refused {
        assert!(matches!(got, Err(StoreError::InvalidReference(c)) if c == code), "{code}: {got:?}");
    }
    assert_eq!(s.audit_head(m).await.unwrap(), head);

    // One referral, as stored, audited as a read of its family.
    let stored = s.referral(&nurse("2026-11-22T04:00:00Z"), alert).await.unwrap().unwrap();
    assert_eq!(
        stored,
        StoredReferral {
            id: alert,
            municipality_id: m,
            referral: observed.clone(),
            note: "母の表情が暗い".into(),
            raised_by_account: AccountId(40),
            raised_at: at("2026-11-22T02:00:00Z"),
            venue_id: Some(centre),
            application_id: Some(app),
            updated_at: at("2026-11-22T02:00:00Z"),
            mother_name: "山田 花子".into(),
        }
    );
    assert_eq!(last_line(&s, m).await, line("referral.list", Some(f), format!("referral={alert}")));
    let other_head = s.audit_head(other).await.unwrap();
    assert_eq!(s.referral(&ctx(other, Role::Nurse), alert).await.unwrap(), None);
    assert_eq!(s.referral(&nurse("2026-11-22T04:00:00Z"), ReferralId(9999)).await.unwrap(), None);
    assert_eq!(s.audit_head(other).await.unwrap(), other_head);

    // Lists: urgent first, then newest; filtered; audited with the count.
    let list = |filter: ReferralFilter| {
        let s = &s;
        async move {
            s.referrals(&nurse("2026-11-22T04:00:00Z"), &filter)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.id)
                .collect::<Vec<_>>()
        }
    };
    let all = ReferralFilter { limit: 100, ..Default::default() };
    assert_eq!(list(all.clone()).await, [urgent, screening, alert]);
    assert_eq!(last_line(&s, m).await, line("referral.list", None, "results=3"));
    assert_eq!(list(ReferralFilter { family_id: Some(f), ..all.clone() }).await, [screening, alert]);
    assert_eq!(last_line(&s, m).await, line("referral.list", Some(f), "results=2"));
    assert_eq!(list(ReferralFilter { raised_by: Some(AccountId(40)), ..all.clone() }).await, [alert]);
    assert_eq!(list(ReferralFilter { raised_by: Some(AccountId(30)), family_id: Some(f), ..all.clone() }).await, []);
    assert_eq!(list(ReferralFilter { limit: 1, ..all.clone() }).await, [urgent]);
    assert!(s.referrals(&ctx(other, Role::Nurse), &all).await.unwrap().is_empty());
    let names = s.referrals(&nurse("2026-11-22T04:00:00Z"), &all).await.unwrap();
    assert!(names.iter().all(|r| r.mother_name == "山田 花子"));

    // raised → received → in progress → escalated → closed.
    let caseworker = Actor {
        account_id: AccountId(60),
        municipality_id: m,
        role: Role::Caseworker,
        family_id: None,
        relation: None,
        areas: vec![],
        venues: vec![],
        rooms: vec![],
    };
    let caseworker_may_open =
        |access: &FamilyAccess| authorize(&caseworker, Action::ViewFamily, &Resource::Family(access)).is_allowed();
    assert!(!caseworker_may_open(&s.family_access(m, f).await.unwrap().unwrap()));
    let step = |r: &Referral, a: ReferralAction| apply(r, Role::Nurse, a).unwrap();
    let received = step(&observed, ReferralAction::Receive);
    s.update_referral(&nurse("2026-11-22T05:00:00Z"), alert, &observed, &received, ReferralAction::Receive, "受理")
        .await
        .unwrap();
    assert_eq!(last_line(&s, m).await, line("referral.update", Some(f), format!("referral={alert}")));
    // Somebody else's stale view of it is refused, and changes nothing.
    let head = s.audit_head(m).await.unwrap();
    assert!(matches!(
        s.update_referral(&nurse("2026-11-22T05:00:01Z"), alert, &observed, &received, ReferralAction::Receive, "")
            .await,
        Err(StoreError::Conflict("referral_changed"))
    ));
    assert_eq!(s.audit_head(m).await.unwrap(), head);
    let started = step(&received, ReferralAction::Start);
    s.update_referral(&nurse("2026-11-22T06:00:00Z"), alert, &received, &started, ReferralAction::Start, "")
        .await
        .unwrap();
    let escalated = step(&started, ReferralAction::Escalate);
    s.update_referral(
        &nurse("2026-11-22T07:00:00Z"),
        alert,
        &started,
        &escalated,
        ReferralAction::Escalate,
        "児童相談所へ",
    )
    .await
    .unwrap();
    let access = s.family_access(m, f).await.unwrap().unwrap();
    assert!(access.escalated && caseworker_may_open(&access));
    assert!(!s.family_access(m, g).await.unwrap().unwrap().escalated);
    let closed = step(&escalated, ReferralAction::Close(CloseReason::Resolved));
    s.update_referral(
        &nurse("2026-11-22T08:00:00Z"),
        alert,
        &escalated,
        &closed,
        ReferralAction::Close(CloseReason::Resolved),
        "支援につながった",
    )
    .await
    .unwrap();
    // Closing does not take the escalation back.
    assert!(s.family_access(m, f).await.unwrap().unwrap().escalated);
    let got = s.referral(&nurse("2026-11-22T09:00:00Z"), alert).await.unwrap().unwrap();
    assert_eq!(got.referral, closed);
    assert_eq!(
        (got.referral.status, got.referral.escalated, got.referral.close_reason),
        (ReferralStatus::Closed, true, Some(CloseReason::Resolved))
    );
    assert_eq!((got.raised_at, got.updated_at), (at("2026-11-22T02:00:00Z"), at("2026-11-22T08:00:00Z")));
    assert!(matches!(
        s.update_referral(&nurse("2026-11-22T09:00:00Z"), alert, &escalated, &closed, ReferralAction::Start, "").await,
        Err(StoreError::Conflict("referral_changed"))
    ));
    assert!(matches!(
        s.update_referral(
            &nurse("2026-11-22T09:00:00Z"),
            ReferralId(9999),
            &observed,
            &received,
            ReferralAction::Receive,
            ""
        )
        .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.update_referral(
            &ctx(other, Role::Nurse),
            urgent,
            &crying,
            &step(&crying, ReferralAction::Receive),
            ReferralAction::Receive,
            ""
        )
        .await,
        Err(StoreError::NotFound)
    ));
    // A step never moves a referral to another family.
    let moved = Referral { family: f, ..step(&crying, ReferralAction::Receive) };
    assert!(matches!(
        s.update_referral(&nurse("2026-11-22T09:00:00Z"), urgent, &crying, &moved, ReferralAction::Receive, "").await,
        Err(StoreError::InvalidReference("family_id"))
    ));

    // 特定妊婦 on the screening referral's pregnancy: status unchanged, flag stored.
    let r = step(&epds, ReferralAction::Receive);
    s.update_referral(&nurse("2026-11-22T10:00:00Z"), screening, &epds, &r, ReferralAction::Receive, "").await.unwrap();
    let marked = step(&r, ReferralAction::MarkSpecifiedExpectantMother);
    s.update_referral(
        &nurse("2026-11-22T10:30:00Z"),
        screening,
        &r,
        &marked,
        ReferralAction::MarkSpecifiedExpectantMother,
        "",
    )
    .await
    .unwrap();
    let got = s.referral(&nurse("2026-11-22T11:00:00Z"), screening).await.unwrap().unwrap();
    assert_eq!(got.referral, marked);
    assert!(got.referral.specified_expectant_mother && !got.referral.escalated);

    // Open ones only: the closed alert drops out.
    assert_eq!(list(ReferralFilter { open_only: true, ..all.clone() }).await, [urgent, screening]);
    assert_eq!(list(ReferralFilter { open_only: true, raised_by: Some(AccountId(40)), ..all.clone() }).await, []);
    assert_eq!(list(ReferralFilter { raised_by: Some(AccountId(40)), ..all.clone() }).await, [alert]);

    // The history, in the order the steps were taken, audited with the family.
    let event = |action: &str, by: i64, when: &str, note: &str| ReferralEvent {
        action: action.into(),
        by: AccountId(by),
        at: at(when),
        note: note.into(),
    };
    assert_eq!(
        s.referral_events(&nurse("2026-11-22T12:00:00Z"), alert).await.unwrap(),
        [
            event("raise", 40, "2026-11-22T02:00:00Z", "母の表情が暗い"),
            event("receive", 21, "2026-11-22T05:00:00Z", "受理"),
            event("start", 21, "2026-11-22T06:00:00Z", ""),
            event("escalate", 21, "2026-11-22T07:00:00Z", "児童相談所へ"),
            event("close", 21, "2026-11-22T08:00:00Z", "支援につながった"),
        ]
    );
    assert_eq!(last_line(&s, m).await, line("referral.list", Some(f), format!("referral={alert} events=5")));
    assert!(matches!(s.referral_events(&ctx(other, Role::Nurse), alert).await, Err(StoreError::NotFound)));
    assert!(matches!(
        s.referral_events(&nurse("2026-11-22T12:00:00Z"), ReferralId(9999)).await,
        Err(StoreError::NotFound)
    ));

    // Every raise and every step is on the family's line.
    let raised = lines_of(&s, m, "referral.raise").await;
    assert_eq!(raised.iter().map(|l| l.0).collect::<Vec<_>>(), [Some(f), Some(g), Some(f)]);
    let updates = lines_of(&s, m, "referral.update").await;
    assert_eq!(updates.len(), 6);
    assert!(updates.iter().all(|l| l.0 == Some(f)));
    assert!(verify_chain(&s, m).await.is_ok());
    finish(s, db).await;
}

async fn story_follow_up_slots_hold_one_family_and_cancelling_frees_them(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, other_area, _) = town(&s, "082350").await;
    let centre = facility(&s, m, "センター", &every_day(3)).await;
    let hospital = facility(&s, m, "病院", &every_day(3)).await;
    let f = family(&s, m, north, "ハナコ").await;
    let g = family(&s, m, north, "ミカ").await;
    let foreign = family(&s, other, other_area, "ハナコ").await;
    let nurse = as_staff(m, Role::Nurse, 21, "2026-11-22T01:00:00Z");
    let slot = |mo: i8, d: i8, h: i8, mi: i8| datetime(2027, mo, d, h, mi, 0, 0);

    let a = s.book_followup(&nurse, centre, f, slot(6, 1, 13, 0)).await.unwrap();
    assert_eq!(last_line(&s, m).await, line("followup.book", Some(f), format!("followup={a}")));
    assert!(matches!(
        s.book_followup(&nurse, centre, g, slot(6, 1, 13, 0)).await,
        Err(StoreError::Conflict("slot_taken"))
    ));
    assert!(matches!(
        s.book_followup(&nurse, centre, f, slot(6, 1, 13, 0)).await,
        Err(StoreError::Conflict("slot_taken"))
    ));
    let b = s.book_followup(&nurse, hospital, g, slot(6, 1, 13, 0)).await.unwrap();
    let c = s.book_followup(&nurse, centre, g, slot(6, 1, 13, 20)).await.unwrap();
    // Cancelling frees the slot; the cancelled booking stays on record.
    s.cancel_followup(&nurse, a).await.unwrap();
    assert_eq!(last_line(&s, m).await, line("followup.cancel", Some(f), format!("followup={a}")));
    assert!(matches!(s.cancel_followup(&nurse, a).await, Err(StoreError::Conflict("not_booked"))));
    let d = s.book_followup(&nurse, centre, g, slot(6, 1, 13, 0)).await.unwrap();
    let e = s.book_followup(&nurse, centre, f, slot(6, 30, 23, 40)).await.unwrap();
    // Just outside June, on both sides.
    s.book_followup(&nurse, centre, f, slot(7, 1, 0, 0)).await.unwrap();
    s.book_followup(&nurse, centre, f, slot(5, 31, 23, 40)).await.unwrap();

    // Refused: other municipalities' families and facilities, venues that are no facility.
    let head = s.audit_head(m).await.unwrap();
    assert!(matches!(
        s.book_followup(&nurse, centre, foreign, slot(6, 2, 13, 0)).await,
        Err(StoreError::InvalidReference("family_id"))
    ));
    let theirs = facility(&s, other, "他市", &every_day(3)).await;
    assert!(matches!(
        s.book_followup(&nurse, theirs, f, slot(6, 2, 13, 0)).await,
        Err(StoreError::InvalidReference("venue_id"))
    ));
    assert!(matches!(
        s.book_followup(&nurse, a_hall(&s, m).await, f, slot(6, 2, 13, 0)).await,
        Err(StoreError::InvalidReference("venue_id"))
    ));
    assert!(matches!(s.cancel_followup(&ctx(other, Role::Nurse), c).await, Err(StoreError::NotFound)));
    assert!(matches!(s.cancel_followup(&nurse, FollowupId(9999)).await, Err(StoreError::NotFound)));
    assert_eq!(s.audit_head(m).await.unwrap(), head);

    let june = DateRange::new(day(6, 1), day(6, 30)).unwrap();
    // The yearly count leaves out the cancelled booking (and other months).
    assert_eq!(s.followup_count(m, june).await.unwrap(), 4);
    assert_eq!(s.followup_count(m, all_of_2027()).await.unwrap(), 6);
    assert_eq!(s.followup_count(m, DateRange::single(day(6, 1))).await.unwrap(), 3);
    assert_eq!(s.followup_count(other, all_of_2027()).await.unwrap(), 0);

    // Listed by start (then booking), cancelled ones too.
    let ids = |v: Vec<Followup>| v.into_iter().map(|x| x.id).collect::<Vec<_>>();
    let got = s.followups(&nurse, None, None, june).await.unwrap();
    assert_eq!(last_line(&s, m).await, line("followup.list", None, "results=5"));
    assert_eq!(
        got[0],
        Followup {
            id: a,
            municipality_id: m,
            venue_id: centre,
            family_id: f,
            start: slot(6, 1, 13, 0),
            status: FollowupStatus::Cancelled,
            booked_by: AccountId(21),
            mother_name: "山田 花子".into(),
        }
    );
    assert_eq!(ids(got.clone()), [a, b, d, c, e]);
    assert!(got[1..].iter().all(|x| x.status == FollowupStatus::Booked));
    assert_eq!(ids(s.followups(&nurse, Some(centre), None, june).await.unwrap()), [a, d, c, e]);
    assert_eq!(ids(s.followups(&nurse, None, Some(g), june).await.unwrap()), [b, d, c]);
    assert_eq!(last_line(&s, m).await, line("followup.list", Some(g), "results=3"));
    assert_eq!(ids(s.followups(&nurse, Some(hospital), Some(f), june).await.unwrap()), []);
    assert!(s.followups(&ctx(other, Role::Nurse), None, None, all_of_2027()).await.unwrap().is_empty());

    // Every booking is on its family's line.
    let booked = lines_of(&s, m, "followup.book").await;
    assert_eq!(
        booked.iter().map(|l| l.0).collect::<Vec<_>>(),
        [Some(f), Some(g), Some(g), Some(g), Some(f), Some(f), Some(f)]
    );
    assert!(verify_chain(&s, m).await.is_ok());
    finish(s, db).await;
}

async fn story_online_talks_count_their_attendees_and_a_family_joins_once(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, other_area, _) = town(&s, "082350").await;
    let centre = facility(&s, m, "センター", &every_day(3)).await;
    let f = family(&s, m, north, "ハナコ").await;
    let g = family(&s, m, north, "ミカ").await;
    let foreign = family(&s, other, other_area, "ハナコ").await;
    let coordinator = as_staff(m, Role::Coordinator, 30, "2026-11-22T01:00:00Z");
    let head = s.audit_head(m).await.unwrap();
    let first = s
        .create_online_talk(&coordinator, centre, datetime(2027, 6, 10, 10, 0, 0, 0), 30, "オンライントーク")
        .await
        .unwrap();
    let second =
        s.create_online_talk(&coordinator, centre, datetime(2027, 6, 24, 10, 0, 0, 0), 30, "離乳食の話").await.unwrap();
    s.create_online_talk(&coordinator, centre, datetime(2027, 7, 8, 10, 0, 0, 0), 30, "七月").await.unwrap();
    // Scheduling touches nobody's record.
    assert_eq!(s.audit_head(m).await.unwrap(), head);
    assert!(matches!(
        s.create_online_talk(&coordinator, a_hall(&s, m).await, datetime(2027, 6, 1, 10, 0, 0, 0), 30, "x").await,
        Err(StoreError::InvalidReference("venue_id"))
    ));
    let theirs = facility(&s, other, "他市", &every_day(3)).await;
    assert!(matches!(
        s.create_online_talk(&coordinator, theirs, datetime(2027, 6, 1, 10, 0, 0, 0), 30, "x").await,
        Err(StoreError::InvalidReference("venue_id"))
    ));

    s.join_online_talk(&coordinator, first, f).await.unwrap();
    assert_eq!(last_line(&s, m).await, line("talk.join", Some(f), format!("talk={first}")));
    s.join_online_talk(&coordinator, first, g).await.unwrap();
    assert!(matches!(s.join_online_talk(&coordinator, first, f).await, Err(StoreError::Conflict("already_joined"))));
    assert!(matches!(
        s.join_online_talk(&coordinator, first, foreign).await,
        Err(StoreError::InvalidReference("family_id"))
    ));
    assert!(matches!(s.join_online_talk(&coordinator, TalkId(9999), f).await, Err(StoreError::NotFound)));
    assert!(matches!(
        s.join_online_talk(&ctx(other, Role::Coordinator), first, foreign).await,
        Err(StoreError::NotFound)
    ));
    s.join_online_talk(&coordinator, second, g).await.unwrap();

    let june = DateRange::new(day(6, 1), day(6, 30)).unwrap();
    assert_eq!(
        s.online_talks(m, june).await.unwrap(),
        [
            OnlineTalk {
                id: first,
                municipality_id: m,
                venue_id: centre,
                starts: datetime(2027, 6, 10, 10, 0, 0, 0),
                minutes: 30,
                title: "オンライントーク".into(),
                attendees: 2,
            },
            OnlineTalk {
                id: second,
                municipality_id: m,
                venue_id: centre,
                starts: datetime(2027, 6, 24, 10, 0, 0, 0),
                minutes: 30,
                title: "離乳食の話".into(),
                attendees: 1,
            },
        ]
    );
    assert_eq!(s.online_talks(m, all_of_2027()).await.unwrap().len(), 3);
    assert!(s.online_talks(other, all_of_2027()).await.unwrap().is_empty());
    let joined = lines_of(&s, m, "talk.join").await;
    assert_eq!(
        joined,
        [(Some(f), format!("talk={first}")), (Some(g), format!("talk={first}")), (Some(g), format!("talk={second}"))]
    );
    assert!(verify_chain(&s, m).await.is_ok());
    finish(s, db).await;
}

async fn story_incidents_are_reported_under_the_manual_headings(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, other_area, _) = town(&s, "082350").await;
    let centre = facility(&s, m, "センター", &every_day(3)).await;
    let mamas = facility(&s, m, "ママズルーム", &every_day(3)).await;
    let f = family(&s, m, north, "ハナコ").await;
    let foreign = family(&s, other, other_area, "ハナコ").await;
    let staff = as_staff(m, Role::FacilityStaff, 40, "2026-11-22T01:00:00Z");
    let report = |venue: VenueId, heading: IncidentHeading, d: i8, family: Option<FamilyId>| NewIncident {
        venue_id: venue,
        heading,
        occurred: datetime(2027, 6, d, 14, 30, 0, 0),
        summary: format!("{} {d}", heading.short_ja()),
        family_id: family,
    };
    let mut ids = vec![];
    for (i, h) in IncidentHeading::ALL.into_iter().enumerate() {
        let venue = if i % 2 == 0 { centre } else { mamas };
        let family = (h == IncidentHeading::Accident).then_some(f);
        let id = s.report_incident(&staff, &report(venue, h, 1 + i as i8, family)).await.unwrap();
        assert_eq!(last_line(&s, m).await, line("incident.report", family, format!("incident={id}")));
        ids.push(id);
    }
    let july = NewIncident {
        occurred: datetime(2027, 7, 1, 0, 0, 0, 0),
        ..report(centre, IncidentHeading::Infection, 1, None)
    };
    s.report_incident(&staff, &july).await.unwrap();

    // Refused: a family or facility of another municipality, a venue that is no facility.
    let head = s.audit_head(m).await.unwrap();
    assert!(matches!(
        s.report_incident(&staff, &report(centre, IncidentHeading::Accident, 2, Some(foreign))).await,
        Err(StoreError::InvalidReference("family_id"))
    ));
    let theirs = facility(&s, other, "他市", &every_day(3)).await;
    assert!(matches!(
        s.report_incident(&staff, &report(theirs, IncidentHeading::Accident, 2, None)).await,
        Err(StoreError::InvalidReference("venue_id"))
    ));
    assert!(matches!(
        s.report_incident(&staff, &report(a_hall(&s, m).await, IncidentHeading::Accident, 2, None)).await,
        Err(StoreError::InvalidReference("venue_id"))
    ));
    assert_eq!(s.audit_head(m).await.unwrap(), head);

    let june = DateRange::new(day(6, 1), day(6, 30)).unwrap();
    let got = s.incidents(&staff, None, june).await.unwrap();
    assert_eq!(last_line(&s, m).await, line("incident.list", None, "results=5"));
    // Newest first.
    assert_eq!(got.iter().map(|i| i.id).rev().collect::<Vec<_>>(), ids);
    assert_eq!(
        got[4],
        Incident {
            id: ids[0],
            municipality_id: m,
            venue_id: centre,
            heading: IncidentHeading::Accident,
            occurred: datetime(2027, 6, 1, 14, 30, 0, 0),
            summary: "事故 1".into(),
            family_id: Some(f),
            reported_by: AccountId(40),
            reported_at: at("2026-11-22T01:00:00Z"),
        }
    );
    assert_eq!(
        got.iter().rev().map(|i| (i.heading, i.family_id.is_some())).collect::<Vec<_>>(),
        [
            (IncidentHeading::Accident, true),
            (IncidentHeading::Infection, false),
            (IncidentHeading::FireAndDisaster, false),
            (IncidentHeading::PersonalInformation, false),
            (IncidentHeading::StaffManagement, false),
        ]
    );
    let at_mamas = s.incidents(&staff, Some(mamas), june).await.unwrap();
    assert_eq!(at_mamas.iter().map(|i| i.id).collect::<Vec<_>>(), [ids[3], ids[1]]);
    assert_eq!(s.incidents(&staff, None, all_of_2027()).await.unwrap().len(), 6);
    assert!(s.incidents(&ctx(other, Role::FacilityStaff), None, all_of_2027()).await.unwrap().is_empty());
    assert!(verify_chain(&s, m).await.is_ok());
    finish(s, db).await;
}

/// Ten nurses receive the same referral at once, and ten families book the
/// same slot at once, over several stores on the same database: one of each
/// wins; the rest are told it changed, or that the slot is taken.
async fn story_concurrent_steps_and_bookings_have_one_winner(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let centre = facility(&s, m, "センター", &every_day(3)).await;
    let kana = ["ア", "イ", "ウ", "エ", "オ", "カ", "キ", "ク", "ケ", "コ"];
    let mut families = vec![];
    for k in kana {
        families.push(family(&s, m, north, k).await);
    }
    let nurse = ctx(m, Role::Nurse);
    let r = referrals::raise(Role::Coordinator, families[0], None, ConcernSource::Observation, false).unwrap();
    let id = s.raise_referral(&nurse, &r, "", None, None).await.unwrap();
    let received = apply(&r, Role::Nurse, ReferralAction::Receive).unwrap();
    let slot = datetime(2027, 6, 1, 13, 0, 0, 0);

    let mut nodes = vec![s.clone()];
    for _ in 1..4 {
        nodes.push(another_node(&db).await);
    }
    let start = Arc::new(tokio::sync::Barrier::new(20));
    let mut steps = vec![];
    let mut bookings = vec![];
    for (i, f) in families.iter().copied().enumerate() {
        let (node, gate, who, received, raised) =
            (nodes[i % nodes.len()].clone(), start.clone(), nurse.clone(), received.clone(), r.clone());
        steps.push(tokio::spawn(async move {
            gate.wait().await;
            node.update_referral(&who, id, &raised, &received, ReferralAction::Receive, "").await
        }));
        let (node, gate, who) = (nodes[(i + 1) % nodes.len()].clone(), start.clone(), nurse.clone());
        bookings.push(tokio::spawn(async move {
            gate.wait().await;
            node.book_followup(&who, centre, f, slot).await
        }));
    }
    let mut won = 0;
    for t in steps {
        match t.await.unwrap() {
            Ok(()) => won += 1,
            Err(StoreError::Conflict("referral_changed")) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(won, 1);
    let mut booked = 0;
    for t in bookings {
        match t.await.unwrap() {
            Ok(_) => booked += 1,
            Err(StoreError::Conflict("slot_taken")) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(booked, 1);
    let events = s.referral_events(&nurse, id).await.unwrap();
    assert_eq!(events.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["raise", "receive"]);
    assert_eq!(s.followup_count(m, DateRange::single(day(6, 1))).await.unwrap(), 1);
    assert_eq!(lines_of(&s, m, "referral.update").await.len(), 1);
    assert_eq!(lines_of(&s, m, "followup.book").await.len(), 1);
    assert!(verify_chain(&s, m).await.is_ok());
    for n in nodes.into_iter().skip(1) {
        close_node(n).await;
    }
    finish(s, db).await;
}

on_both!(
    referrals_move_from_raised_to_closed_and_escalation_opens_the_family => story_referrals_move_from_raised_to_closed_and_escalation_opens_the_family,
    follow_up_slots_hold_one_family_and_cancelling_frees_them => story_follow_up_slots_hold_one_family_and_cancelling_frees_them,
    online_talks_count_their_attendees_and_a_family_joins_once => story_online_talks_count_their_attendees_and_a_family_joins_once,
    incidents_are_reported_under_the_manual_headings => story_incidents_are_reported_under_the_manual_headings,
);

on_both!(multi_thread:
    concurrent_steps_and_bookings_have_one_winner => story_concurrent_steps_and_bookings_have_one_winner,
);
