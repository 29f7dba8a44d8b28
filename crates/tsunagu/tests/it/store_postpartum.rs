//! Storage stories about postpartum care: facilities and their calendars,
//! applications, approvals against the places of each day, stay notes and
//! the yearly figures.
//! Each runs on SQLite and on PostgreSQL (`on_both!`).

use crate::store_support::*;
use crate::support::Backend;
use jiff::civil::{date, Date};
use std::sync::Arc;
use tsunagu_domain::dates::DateRange;
use tsunagu_domain::notes::NoteAudience;
use tsunagu_domain::places::VenueKind;
use tsunagu_domain::policy::{authorize, Action, Resource};
use tsunagu_domain::postpartum::application::{Application, ApplicationStatus};
use tsunagu_domain::postpartum::calendar::FacilityCalendar;
use tsunagu_domain::postpartum::day_record::{CareGiven, DayRecord};
use tsunagu_domain::postpartum::ServiceType;
use tsunagu_domain::roles::{Actor, Role};
use tsunagu_domain::{AccountId, ApplicationId, FamilyId, VenueId};
use tsunagu_store::{ApplicationFilter, Booking, NewVenue, StayNote, StoreError, UsageCounts};

async fn story_facility_configuration_round_trips(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, _, _) = town(&s, "082350").await;
    let centre = facility(&s, m, "産後ケアセンター", &FacilityCalendar::setagaya_centre()).await;
    let mamas = facility(&s, m, "ママズルーム", &FacilityCalendar::setagaya_mamas_room()).await;
    let got = s.postpartum_facilities(m).await.unwrap();
    assert_eq!(got.iter().map(|f| f.venue.id).collect::<Vec<_>>(), [centre, mamas]);
    assert_eq!(got[0].calendar, FacilityCalendar::setagaya_centre());
    assert_eq!(got[1].calendar, FacilityCalendar::setagaya_mamas_room());
    assert_eq!((got[0].operator_ja.as_str(), got[0].operator_en.as_str()), ("運営", "Operator"));
    assert_eq!((got[1].venue.kind, got[1].venue.name_ja.as_str()), (VenueKind::PostpartumFacility, "ママズルーム"));
    // The calendar answers as it did before it was stored.
    assert_eq!(got[1].calendar.capacity(ServiceType::DayCare, date(2022, 1, 21)), 2);
    // Sports Day 2025, a Monday: the seed's days have no holiday exception.
    assert!(got[1].calendar.is_open(date(2025, 10, 13)));
    assert!(!got[1].calendar.is_open(date(2025, 10, 15)));

    // Setting it again replaces it.
    s.set_postpartum_facility(m, mamas, "いなみ小児科", "Inami clinic", &FacilityCalendar::setagaya_shiseikai())
        .await
        .unwrap();
    let got = s.postpartum_facilities(m).await.unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].operator_ja, "いなみ小児科");
    assert_eq!(got[1].calendar, FacilityCalendar::setagaya_shiseikai());

    // Only venues of the right kind, in the municipality.
    let hall = s
        .create_venue(&NewVenue {
            municipality_id: m,
            area_id: Some(north),
            kind: VenueKind::ChildrensHall,
            name_ja: "児童館".into(),
            name_en: "Hall".into(),
        })
        .await
        .unwrap();
    let cal = every_day(1);
    assert!(matches!(
        s.set_postpartum_facility(m, hall.id, "x", "x", &cal).await,
        Err(StoreError::InvalidReference("venue_id"))
    ));
    assert!(matches!(
        s.set_postpartum_facility(other, centre, "x", "x", &cal).await,
        Err(StoreError::InvalidReference("venue_id"))
    ));
    assert!(matches!(
        s.set_postpartum_facility(m, VenueId(9999), "x", "x", &cal).await,
        Err(StoreError::InvalidReference("venue_id"))
    ));
    assert!(s.postpartum_facilities(other).await.unwrap().is_empty());
    // Configuration is not a read of anyone's record.
    assert_eq!(s.audit_head(m).await.unwrap(), None);
    finish(s, db).await;
}

async fn story_applications_are_stored_listed_and_viewed_with_an_audit_line_each(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, other_area, _) = town(&s, "082350").await;
    let centre = facility(&s, m, "センター", &FacilityCalendar::setagaya_centre()).await;
    let mamas = facility(&s, m, "ママズルーム", &FacilityCalendar::setagaya_mamas_room()).await;
    let f = family(&s, m, north, "ハナコ").await;
    let g = family(&s, m, north, "ミカ").await;
    let foreign = family(&s, other, other_area, "ハナコ").await;
    let mut nurse = ctx(m, Role::Nurse);

    let mut a = application(f, centre, ServiceType::ShortStay, stay(day(5, 10), 7));
    a.babies = 2;
    a.siblings = 1;
    a.answers.grandparents_nearby = true;
    a.transport_paid = true;
    a.quote_total_yen = 38_500;
    a.refusals = vec!["over_age_limit".into(), "needs_medical_treatment".into()];
    // Refusals without a nurse's reason are not stored.
    assert!(matches!(s.create_application(&nurse, &a).await, Err(StoreError::Conflict("override_reason_required"))));
    a.override_reason = Some("主治医と相談済み".into());
    let first = s.create_application(&nurse, &a).await.unwrap();
    nurse.at = at("2026-11-22T02:00:00Z");
    let second =
        s.create_application(&nurse, &application(f, mamas, ServiceType::DayCare, stay(day(6, 7), 1))).await.unwrap();
    nurse.at = at("2026-11-22T03:00:00Z");
    let third =
        s.create_application(&nurse, &application(g, centre, ServiceType::DayCare, stay(day(6, 8), 1))).await.unwrap();

    // Families and facilities of other municipalities are refused.
    assert!(matches!(
        s.create_application(&nurse, &application(foreign, centre, ServiceType::DayCare, stay(day(6, 8), 1))).await,
        Err(StoreError::InvalidReference("family_id"))
    ));
    let other_centre = facility(&s, other, "他市センター", &every_day(3)).await;
    assert!(matches!(
        s.create_application(&nurse, &application(f, other_centre, ServiceType::DayCare, stay(day(6, 8), 1))).await,
        Err(StoreError::InvalidReference("venue_id"))
    ));
    let plain = s
        .create_venue(&NewVenue {
            municipality_id: m,
            area_id: None,
            kind: VenueKind::PostpartumFacility,
            name_ja: "未設定".into(),
            name_en: "Not configured".into(),
        })
        .await
        .unwrap();
    assert!(matches!(
        s.create_application(&nurse, &application(f, plain.id, ServiceType::DayCare, stay(day(6, 8), 1))).await,
        Err(StoreError::InvalidReference("venue_id"))
    ));

    let lines = s.audit_lines(m, 0, 100).await.unwrap();
    let applies: Vec<_> = lines.iter().filter(|l| l.action == "postpartum.apply").collect();
    assert_eq!(applies.len(), 3);
    assert_eq!((applies[0].family_id, applies[0].detail.clone()), (Some(f), format!("application={first}")));

    // Viewing one is audited with its family.
    let seen = s.application(&nurse, first).await.unwrap().unwrap();
    let last = s.audit_lines(m, 0, 100).await.unwrap().pop().unwrap();
    assert_eq!(
        (last.action.as_str(), last.family_id, last.detail.as_str()),
        ("postpartum.view", Some(f), format!("application={first}").as_str())
    );
    assert_eq!(
        seen,
        Application {
            id: first,
            municipality_id: m,
            family_id: f,
            venue_id: centre,
            service: ServiceType::ShortStay,
            stay: stay(day(5, 10), 7),
            babies: 2,
            siblings: 1,
            answers: a.answers,
            quote_total_yen: 38_500,
            fee_to_be_confirmed: false,
            confirmed_fee_yen: None,
            transport_paid: true,
            refusals: a.refusals.clone(),
            override_reason: Some("主治医と相談済み".into()),
            status: ApplicationStatus::Applied,
            applied_by: nurse.actor,
            applied_at: at("2026-11-22T01:02:03.123456Z"),
            reviewed_by: None,
            reviewed_at: None,
            review_note: None,
            review_note_audience: NoteAudience::Office,
            cancel_note: None,
            cancel_note_audience: NoteAudience::Office,
            mother_name: "山田 花子".into(),
        }
    );
    // Not from another municipality, and then nothing is written.
    let head = s.audit_head(other).await.unwrap();
    assert_eq!(s.application(&ctx(other, Role::Nurse), first).await.unwrap(), None);
    assert_eq!(s.audit_head(other).await.unwrap(), head);

    // Lists: newest first, filtered, audited with the count.
    let ids = |v: Vec<Application>| v.into_iter().map(|a| a.id).collect::<Vec<_>>();
    let list = |filter: ApplicationFilter| {
        let (s, nurse) = (&s, &nurse);
        async move { s.applications(nurse, &filter).await.unwrap() }
    };
    let all = ApplicationFilter { limit: 100, ..Default::default() };
    assert_eq!(ids(list(all.clone()).await), [third, second, first]);
    let last = s.audit_lines(m, 0, 100).await.unwrap().pop().unwrap();
    assert_eq!((last.action.as_str(), last.family_id, last.detail.as_str()), ("postpartum.list", None, "results=3"));
    assert_eq!(ids(list(ApplicationFilter { family_id: Some(f), ..all.clone() }).await), [second, first]);
    let last = s.audit_lines(m, 0, 100).await.unwrap().pop().unwrap();
    assert_eq!((last.action.as_str(), last.family_id, last.detail.as_str()), ("postpartum.list", Some(f), "results=2"));
    assert_eq!(ids(list(ApplicationFilter { venue_id: Some(centre), ..all.clone() }).await), [third, first]);
    assert_eq!(ids(list(ApplicationFilter { limit: 1, ..all.clone() }).await), [third]);
    let approved = ApplicationFilter { status: Some(ApplicationStatus::Approved), ..all.clone() };
    assert!(list(approved.clone()).await.is_empty());
    s.approve_application(&nurse, second, &booking(0, stay(day(6, 7), 1), 3), "", None).await.unwrap();
    assert_eq!(ids(list(approved).await), [second]);
    assert!(list(all.clone()).await.iter().all(|a| a.mother_name == "山田 花子"));
    assert!(s.applications(&ctx(other, Role::Nurse), &all).await.unwrap().is_empty());
    assert!(verify_chain(&s, m).await.is_ok());
    finish(s, db).await;
}

async fn story_approving_takes_every_day_or_none_and_cancelling_gives_them_back(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, _, _) = town(&s, "082350").await;
    let v = facility(&s, m, "病院", &every_day(1)).await;
    let f = family(&s, m, north, "ハナコ").await;
    let g = family(&s, m, north, "ミカ").await;
    let mut nurse = ctx(m, Role::Nurse);
    nurse.actor = AccountId(21);
    nurse.at = at("2026-12-01T09:00:00Z");
    let taken = |range: DateRange| {
        let s = &s;
        async move { s.places_taken(m, v, 0, range).await.unwrap() }
    };
    let june = DateRange::new(day(6, 1), day(6, 30)).unwrap();

    // A: 1–3 June.
    let a_stay = stay(day(6, 1), 3);
    let a = s.create_application(&nurse, &application(f, v, ServiceType::ShortStay, a_stay)).await.unwrap();
    // The booking must be the stay's days, each once.
    for wrong in [
        booking(0, stay(day(6, 1), 2), 1),
        booking(0, stay(day(6, 2), 3), 1),
        Booking { pool: 0, places: vec![(day(6, 1), 1), (day(6, 2), 1), (day(6, 2), 1), (day(6, 3), 1)] },
    ] {
        assert!(matches!(
            s.approve_application(&nurse, a, &wrong, "", None).await,
            Err(StoreError::Conflict("booking_mismatch"))
        ));
    }
    // A day without places refuses the whole stay.
    let closed = Booking { pool: 0, places: vec![(day(6, 1), 1), (day(6, 2), 0), (day(6, 3), 1)] };
    assert!(matches!(
        s.approve_application(&nurse, a, &closed, "", None).await,
        Err(StoreError::Conflict("no_capacity"))
    ));
    assert!(taken(june).await.is_empty());
    // Not from another municipality.
    assert!(matches!(
        s.approve_application(&ctx(other, Role::Nurse), a, &booking(0, a_stay, 1), "", None).await,
        Err(StoreError::NotFound)
    ));
    // Days given in any order.
    let mut shuffled = booking(0, a_stay, 1);
    shuffled.places.reverse();
    s.approve_application(&nurse, a, &shuffled, "承認", None).await.unwrap();
    assert_eq!(taken(june).await, [(day(6, 1), 1), (day(6, 2), 1), (day(6, 3), 1)]);
    assert_eq!(taken(stay(day(6, 2), 1)).await, [(day(6, 2), 1)]);
    assert!(s.places_taken(m, v, 1, june).await.unwrap().is_empty());
    let got = s.application(&nurse, a).await.unwrap().unwrap();
    assert_eq!(
        (got.status, got.reviewed_by, got.reviewed_at, got.review_note.as_deref()),
        (ApplicationStatus::Approved, Some(AccountId(21)), Some(nurse.at), Some("承認"))
    );
    assert!(matches!(
        s.approve_application(&nurse, a, &booking(0, a_stay, 5), "", None).await,
        Err(StoreError::Conflict("not_applied"))
    ));
    assert!(matches!(s.reject_application(&nurse, a, "").await, Err(StoreError::Conflict("not_applied"))));

    // B: 3–5 June. The 3rd is full: nothing is taken, not even the 4th and 5th.
    let b_stay = stay(day(6, 3), 3);
    let b = s.create_application(&nurse, &application(g, v, ServiceType::ShortStay, b_stay)).await.unwrap();
    assert!(matches!(
        s.approve_application(&nurse, b, &booking(0, b_stay, 1), "", None).await,
        Err(StoreError::Conflict("no_capacity"))
    ));
    assert_eq!(taken(june).await, [(day(6, 1), 1), (day(6, 2), 1), (day(6, 3), 1)]);
    assert_eq!(status(&s, m, b).await, ApplicationStatus::Applied);
    // 30 May – 1 June: the 30th and 31st are taken first, then the 1st is
    // full, and the places of the 30th and 31st are given back.
    let early = stay(day(5, 30), 3);
    let e1 = s.create_application(&nurse, &application(g, v, ServiceType::ShortStay, early)).await.unwrap();
    assert!(matches!(
        s.approve_application(&nurse, e1, &booking(0, early, 1), "", None).await,
        Err(StoreError::Conflict("no_capacity"))
    ));
    assert!(taken(DateRange::new(day(5, 1), day(5, 31)).unwrap()).await.is_empty());
    assert_eq!(status(&s, m, e1).await, ApplicationStatus::Applied);
    // With two places on those days (a calendar change) it fits.
    s.approve_application(&nurse, b, &booking(0, b_stay, 2), "", None).await.unwrap();
    assert_eq!(taken(june).await, [(day(6, 1), 1), (day(6, 2), 1), (day(6, 3), 2), (day(6, 4), 1), (day(6, 5), 1)]);

    // Cancelling A gives its days back; B keeps its own.
    s.cancel_application(&nurse, a, "体調不良").await.unwrap();
    assert_eq!(taken(june).await, [(day(6, 3), 1), (day(6, 4), 1), (day(6, 5), 1)]);
    let got = s.application(&nurse, a).await.unwrap().unwrap();
    // The approval stays on record.
    assert_eq!((got.status, got.review_note.as_deref()), (ApplicationStatus::Cancelled, Some("承認")));
    assert!(matches!(s.cancel_application(&nurse, a, "").await, Err(StoreError::Conflict("not_cancellable"))));
    assert!(matches!(
        s.approve_application(&nurse, a, &booking(0, a_stay, 1), "", None).await,
        Err(StoreError::Conflict("not_applied"))
    ));
    // The freed days can be taken again.
    let c = s.create_application(&nurse, &application(g, v, ServiceType::DayCare, stay(day(6, 1), 2))).await.unwrap();
    s.approve_application(&nurse, c, &booking(0, stay(day(6, 1), 2), 1), "", None).await.unwrap();
    assert_eq!(taken(stay(day(6, 1), 2)).await, [(day(6, 1), 1), (day(6, 2), 1)]);

    // Rejecting, and cancelling one not yet decided.
    let d = s.create_application(&nurse, &application(f, v, ServiceType::DayCare, stay(day(7, 1), 1))).await.unwrap();
    s.reject_application(&nurse, d, "対象外").await.unwrap();
    let got = s.application(&nurse, d).await.unwrap().unwrap();
    assert_eq!(
        (got.status, got.reviewed_by, got.review_note.as_deref()),
        (ApplicationStatus::Rejected, Some(AccountId(21)), Some("対象外"))
    );
    assert!(matches!(s.reject_application(&nurse, d, "").await, Err(StoreError::Conflict("not_applied"))));
    assert!(matches!(
        s.approve_application(&nurse, d, &booking(0, stay(day(7, 1), 1), 1), "", None).await,
        Err(StoreError::Conflict("not_applied"))
    ));
    assert!(matches!(s.cancel_application(&nurse, d, "").await, Err(StoreError::Conflict("not_cancellable"))));
    let e = s.create_application(&nurse, &application(f, v, ServiceType::DayCare, stay(day(7, 2), 1))).await.unwrap();
    s.cancel_application(&nurse, e, "").await.unwrap();
    assert_eq!(status(&s, m, e).await, ApplicationStatus::Cancelled);
    assert!(matches!(s.reject_application(&nurse, e, "").await, Err(StoreError::Conflict("not_applied"))));
    assert!(matches!(s.reject_application(&nurse, ApplicationId(9999), "").await, Err(StoreError::NotFound)));
    assert!(taken(DateRange::new(day(7, 1), day(7, 31)).unwrap()).await.is_empty());

    // Every decision is on the family's line.
    let decisions: Vec<(String, Option<FamilyId>)> = s
        .audit_lines(m, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|l| matches!(l.action.as_str(), "postpartum.approve" | "postpartum.reject" | "postpartum.cancel"))
        .map(|l| (l.action, l.family_id))
        .collect();
    let line = |a: &str, f: FamilyId| (a.to_owned(), Some(f));
    assert_eq!(
        decisions,
        [
            line("postpartum.approve", f),
            line("postpartum.approve", g),
            line("postpartum.cancel", f),
            line("postpartum.approve", g),
            line("postpartum.reject", f),
            line("postpartum.cancel", f),
        ]
    );
    assert!(verify_chain(&s, m).await.is_ok());
    finish(s, db).await;
}

async fn story_facilities_note_the_days_of_approved_stays(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, _, _) = town(&s, "082350").await;
    let v = facility(&s, m, "センター", &every_day(3)).await;
    let f = family(&s, m, north, "ハナコ").await;
    let nurse = ctx(m, Role::Nurse);
    let mut staff = ctx(m, Role::FacilityStaff);
    staff.actor = AccountId(40);
    let days = stay(day(8, 10), 3);
    let a = s.create_application(&nurse, &application(f, v, ServiceType::ShortStay, days)).await.unwrap();
    assert!(matches!(s.record_stay_note(&staff, a, day(8, 10), "x").await, Err(StoreError::Conflict("not_approved"))));
    s.approve_application(&nurse, a, &booking(0, days, 3), "", None).await.unwrap();
    staff.at = at("2027-08-11T09:00:00Z");
    s.record_stay_note(&staff, a, day(8, 11), "授乳良好").await.unwrap();
    staff.at = at("2027-08-10T18:00:00.5Z");
    s.record_stay_note(&staff, a, day(8, 10), "入所。母は疲労あり").await.unwrap();
    staff.at = at("2027-08-11T20:00:00Z");
    // A structured day's record (#10): the care given and both conditions, beside the note.
    let record = DayRecord {
        care: vec![CareGiven::BabyCare, CareGiven::MotherRest],
        mother: "よく休めた".into(),
        baby: "授乳3時間おき、体重3,120g".into(),
    };
    s.record_stay_day(&staff, a, day(8, 11), &record, "夜間よく眠る", NoteAudience::Office).await.unwrap();
    assert!(matches!(
        s.record_stay_note(&staff, a, day(8, 13), "x").await,
        Err(StoreError::Conflict("day_not_in_stay"))
    ));
    assert!(matches!(
        s.record_stay_note(&ctx(other, Role::FacilityStaff), a, day(8, 10), "x").await,
        Err(StoreError::NotFound)
    ));
    let notes = s.stay_notes(&staff, a).await.unwrap();
    assert_eq!(
        notes,
        [
            StayNote {
                day: day(8, 10),
                note: "入所。母は疲労あり".into(),
                audience: NoteAudience::Office,
                by: AccountId(40),
                at: at("2027-08-10T18:00:00.5Z"),
                record: DayRecord::default(),
            },
            StayNote {
                day: day(8, 11),
                note: "授乳良好".into(),
                audience: NoteAudience::Office,
                by: AccountId(40),
                at: at("2027-08-11T09:00:00Z"),
                record: DayRecord::default(),
            },
            StayNote {
                day: day(8, 11),
                note: "夜間よく眠る".into(),
                audience: NoteAudience::Office,
                by: AccountId(40),
                at: at("2027-08-11T20:00:00Z"),
                record,
            },
        ]
    );
    let lines = s.audit_lines(m, 0, 1000).await.unwrap();
    let notes_written = lines.iter().filter(|l| l.action == "postpartum.note" && l.family_id == Some(f)).count();
    assert_eq!(notes_written, 3);
    let last = lines.last().unwrap();
    assert_eq!((last.action.as_str(), last.family_id, last.actor), ("postpartum.view", Some(f), AccountId(40)));
    assert!(matches!(s.stay_notes(&ctx(other, Role::FacilityStaff), a).await, Err(StoreError::NotFound)));
    // Once cancelled, no more notes.
    s.cancel_application(&nurse, a, "").await.unwrap();
    assert!(matches!(s.record_stay_note(&staff, a, day(8, 12), "x").await, Err(StoreError::Conflict("not_approved"))));
    assert_eq!(s.stay_notes(&staff, a).await.unwrap().len(), 3);
    finish(s, db).await;
}

async fn story_usage_counts_recorded_days_and_each_family_once(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, south) = town(&s, "131121").await;
    let (other, other_area, _) = town(&s, "082350").await;
    let centre = facility(&s, m, "センター", &FacilityCalendar::setagaya_centre()).await;
    let hospital = facility(&s, m, "病院", &FacilityCalendar::setagaya_shiseikai()).await;
    let nurse = ctx(m, Role::Nurse);
    let f1 = family(&s, m, north, "ハナコ").await;
    let f2 = family(&s, m, south, "ミカ").await;
    let f3 = family(&s, m, north, "ユイ").await;
    let f4 = family(&s, m, south, "アイ").await;
    let f5 = family(&s, m, south, "メイ").await;
    let staff = ctx(m, Role::FacilityStaff);
    // Approves, then records as used every day but those in `missed` (the
    // facility's daily record).
    let approve = |f: FamilyId, v: VenueId, service: ServiceType, days: DateRange, pool: u32, missed: Vec<Date>| {
        let (s, nurse, staff) = (&s, &nurse, &staff);
        async move {
            let id = s.create_application(nurse, &application(f, v, service, days)).await.unwrap();
            s.approve_application(nurse, id, &booking(pool, days, 15), "", None).await.unwrap();
            for d in days.days().filter(|d| !missed.contains(d)) {
                s.record_day_use(staff, id, d, true).await.unwrap();
            }
            id
        }
    };
    // f1: 7 days' short stay at the centre, 29 April – 5 May, leaving a day
    // early (5 May booked, not used), and 2 at the hospital.
    approve(f1, centre, ServiceType::ShortStay, stay(day(4, 29), 7), 0, vec![day(5, 5)]).await;
    approve(f1, hospital, ServiceType::ShortStay, stay(day(6, 1), 2), 0, vec![]).await;
    // f2: two days of day care at the centre; a no-show on the second.
    approve(f2, centre, ServiceType::DayCare, stay(day(5, 10), 1), 0, vec![]).await;
    approve(f2, centre, ServiceType::DayCare, stay(day(5, 17), 1), 0, vec![day(5, 17)]).await;
    // f3: an outreach visit (the centre's second pool).
    approve(f3, centre, ServiceType::Outreach, stay(day(5, 20), 1), 1, vec![]).await;
    // f4: cancelled; f5: applied and rejected — neither counts.
    let cancelled =
        approve(f4, centre, ServiceType::ShortStay, stay(day(5, 1), 3), 0, stay(day(5, 1), 3).days().collect()).await;
    s.cancel_application(&nurse, cancelled, "").await.unwrap();
    let rejected = s
        .create_application(&nurse, &application(f5, hospital, ServiceType::ShortStay, stay(day(5, 1), 3)))
        .await
        .unwrap();
    s.reject_application(&nurse, rejected, "").await.unwrap();
    s.create_application(&nurse, &application(f5, centre, ServiceType::ShortStay, stay(day(5, 1), 3))).await.unwrap();
    // Another municipality's use is never counted here.
    let theirs = facility(&s, other, "他市", &every_day(3)).await;
    let fo = family(&s, other, other_area, "ハナコ").await;
    let oc = ctx(other, Role::Nurse);
    let id =
        s.create_application(&oc, &application(fo, theirs, ServiceType::ShortStay, stay(day(5, 1), 3))).await.unwrap();
    s.approve_application(&oc, id, &booking(0, stay(day(5, 1), 3), 3), "", None).await.unwrap();
    for d in stay(day(5, 1), 3).days() {
        s.record_day_use(&ctx(other, Role::FacilityStaff), id, d, true).await.unwrap();
    }
    let counts = |ss, dc, out, families, booked: (u64, u64, u64)| UsageCounts {
        short_stay_days: ss,
        day_care_days: dc,
        outreach_visits: out,
        families,
        booked_short_stay_days: booked.0,
        booked_day_care_days: booked.1,
        booked_outreach_visits: booked.2,
    };

    let may = DateRange::new(day(5, 1), day(5, 31)).unwrap();
    assert_eq!(s.postpartum_usage(m, centre, may).await.unwrap(), counts(4, 1, 1, 3, (5, 2, 1)));
    assert_eq!(s.postpartum_usage(m, centre, all_of_2027()).await.unwrap(), counts(6, 1, 1, 3, (7, 2, 1)));
    assert_eq!(s.postpartum_usage(m, hospital, all_of_2027()).await.unwrap(), counts(2, 0, 0, 1, (2, 0, 0)));
    assert_eq!(s.postpartum_usage(m, hospital, may).await.unwrap(), UsageCounts::default());
    assert_eq!(s.postpartum_usage(other, centre, all_of_2027()).await.unwrap(), UsageCounts::default());
    assert_eq!(s.postpartum_usage(m, theirs, all_of_2027()).await.unwrap(), UsageCounts::default());
    assert_eq!(s.postpartum_usage(other, theirs, all_of_2027()).await.unwrap(), counts(3, 0, 0, 1, (3, 0, 0)));

    // By area: f1 (two facilities) and f3 in the north, f2 in the south.
    assert_eq!(s.postpartum_users_by_area(m, all_of_2027()).await.unwrap(), [(north, 2), (south, 1)]);
    // A stay counts in a range it overlaps: f1's 29 April – 5 May is in both months.
    assert_eq!(
        s.postpartum_users_by_area(m, DateRange::new(day(4, 1), day(4, 30)).unwrap()).await.unwrap(),
        [(north, 1)]
    );
    assert_eq!(s.postpartum_users_by_area(m, stay(day(6, 1), 30)).await.unwrap(), [(north, 1)]);
    assert!(s.postpartum_users_by_area(m, stay(day(9, 1), 30)).await.unwrap().is_empty());
    assert_eq!(s.postpartum_users_by_area(other, all_of_2027()).await.unwrap(), [(other_area, 1)]);
    finish(s, db).await;
}

async fn story_facility_staff_may_open_families_with_an_application_at_their_facility(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let centre = facility(&s, m, "センター", &every_day(3)).await;
    let mamas = facility(&s, m, "ママズルーム", &every_day(3)).await;
    let hospital = facility(&s, m, "病院", &every_day(3)).await;
    let f = family(&s, m, north, "ハナコ").await;
    let nurse = ctx(m, Role::Nurse);
    assert!(s.family_access(m, f).await.unwrap().unwrap().facilities.is_empty());

    let at_hospital = s
        .create_application(&nurse, &application(f, hospital, ServiceType::ShortStay, stay(day(5, 1), 2)))
        .await
        .unwrap();
    let at_mamas =
        s.create_application(&nurse, &application(f, mamas, ServiceType::DayCare, stay(day(5, 3), 1))).await.unwrap();
    let at_centre =
        s.create_application(&nurse, &application(f, centre, ServiceType::DayCare, stay(day(5, 4), 1))).await.unwrap();
    s.create_application(&nurse, &application(f, centre, ServiceType::DayCare, stay(day(5, 5), 1))).await.unwrap();
    s.approve_application(&nurse, at_mamas, &booking(0, stay(day(5, 3), 1), 3), "", None).await.unwrap();
    s.reject_application(&nurse, at_centre, "").await.unwrap();
    s.cancel_application(&nurse, at_hospital, "").await.unwrap();
    let access = s.family_access(m, f).await.unwrap().unwrap();
    assert_eq!(access.facilities, [centre, mamas]);

    let staff_of = |v: VenueId| Actor {
        account_id: AccountId(50),
        municipality_id: m,
        role: Role::FacilityStaff,
        family_id: None,
        relation: None,
        areas: vec![],
        venues: vec![v],
        rooms: vec![],
    };
    let may_open = |v: VenueId| authorize(&staff_of(v), Action::ViewFamily, &Resource::Family(&access)).is_allowed();
    assert!(may_open(centre));
    assert!(may_open(mamas));
    assert!(!may_open(hospital));
    finish(s, db).await;
}

/// Three places on each of three days, and twenty applications for them
/// with overlapping stays, approved all at once from twenty tasks spread
/// over several stores on the same database (as several nodes would be).
async fn story_concurrent_approvals_never_overfill_a_day(backend: Backend) {
    const PLACES: u32 = 3;
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let v = facility(&s, m, "センター", &every_day(PLACES)).await;
    let nurse = ctx(m, Role::Nurse);
    let days = stay(day(6, 1), 3);
    let (d1, d2, d3) = (day(6, 1), day(6, 2), day(6, 3));
    let shapes = [stay(d1, 3), stay(d1, 2), stay(d2, 2), stay(d3, 1), stay(d2, 1)];
    let kana = ["ア", "イ", "ウ", "エ", "オ", "カ", "キ", "ク", "ケ", "コ"];
    let mut apps = vec![];
    for i in 0..20 {
        let f = family(&s, m, north, &format!("{}{}", kana[i % 10], kana[i / 10])).await;
        let stay = shapes[i % shapes.len()];
        apps.push((
            s.create_application(&nurse, &application(f, v, ServiceType::ShortStay, stay)).await.unwrap(),
            stay,
        ));
    }
    // And one application that twenty tasks approve at once (on another facility).
    let w = facility(&s, m, "病院", &every_day(PLACES)).await;
    let f = family(&s, m, north, "サクラ").await;
    let twice = s.create_application(&nurse, &application(f, w, ServiceType::ShortStay, days)).await.unwrap();

    let mut nodes = vec![s.clone()];
    for _ in 1..4 {
        nodes.push(another_node(&db).await);
    }
    let start = Arc::new(tokio::sync::Barrier::new(40));
    let mut tasks = vec![];
    for (i, (id, stay)) in apps.iter().copied().enumerate() {
        let (node, start, nurse) = (nodes[i % nodes.len()].clone(), start.clone(), nurse.clone());
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            node.approve_application(&nurse, id, &booking(0, stay, PLACES), "", None).await
        }));
    }
    let mut same = vec![];
    for i in 0..20 {
        let (node, start, nurse) = (nodes[i % nodes.len()].clone(), start.clone(), nurse.clone());
        same.push(tokio::spawn(async move {
            start.wait().await;
            node.approve_application(&nurse, twice, &booking(0, days, PLACES), "", None).await
        }));
    }
    let mut approved = vec![];
    let mut refused = vec![];
    for (t, (id, stay)) in tasks.into_iter().zip(apps.iter().copied()) {
        match t.await.unwrap() {
            Ok(()) => approved.push((id, stay)),
            Err(StoreError::Conflict("no_capacity")) => refused.push((id, stay)),
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    let mut once = 0;
    for t in same {
        match t.await.unwrap() {
            Ok(()) => once += 1,
            Err(StoreError::Conflict("not_applied")) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(once, 1);
    assert_eq!(s.places_taken(m, w, 0, days).await.unwrap(), [(d1, 1), (d2, 1), (d3, 1)]);

    // No day holds more than its places, and the counters agree with the
    // stays that were approved.
    let taken = s.places_taken(m, v, 0, days).await.unwrap();
    let booked = |d: Date| approved.iter().filter(|(_, st)| st.contains(d)).count() as u32;
    for d in days.days() {
        let t = taken.iter().find(|(x, _)| *x == d).map_or(0, |(_, n)| *n);
        assert!(t <= PLACES, "{d}: {t} taken");
        assert_eq!(t, booked(d), "{d}");
    }
    // Nine places in all, and every stay takes at least one: most are refused,
    // and each refusal was for a day that is full.
    assert!(!approved.is_empty() && approved.len() <= 9, "{} approved", approved.len());
    assert_eq!(approved.len() + refused.len(), 20);
    for (id, st) in &refused {
        assert!(st.days().any(|d| booked(d) == PLACES), "{id} refused with room on every day of {st}");
        assert_eq!(status(&s, m, *id).await, ApplicationStatus::Applied);
    }
    for (id, _) in &approved {
        assert_eq!(status(&s, m, *id).await, ApplicationStatus::Approved);
    }
    let usage = s.postpartum_usage(m, v, days).await.unwrap();
    assert_eq!(usage.booked_short_stay_days, u64::from(taken.iter().map(|(_, n)| n).sum::<u32>()));
    assert_eq!(usage.short_stay_days, 0, "nothing recorded as used yet");
    assert_eq!(usage.families, 0);
    // Every approval wrote its line, and the chain is whole.
    let approvals =
        s.audit_lines(m, 0, 10_000).await.unwrap().iter().filter(|l| l.action == "postpartum.approve").count();
    assert_eq!(approvals, approved.len() + 1);
    assert!(verify_chain(&s, m).await.is_ok());
    for n in nodes.into_iter().skip(1) {
        close_node(n).await;
    }
    finish(s, db).await;
}

async fn story_the_daily_record_of_use_is_kept_and_undone(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, _, _) = town(&s, "082350").await;
    let centre = facility(&s, m, "センター", &FacilityCalendar::setagaya_centre()).await;
    let f = family(&s, m, north, "ハナコ").await;
    let (nurse, staff) = (ctx(m, Role::Nurse), ctx(m, Role::FacilityStaff));
    let days = stay(day(8, 10), 3);
    let a = s.create_application(&nurse, &application(f, centre, ServiceType::ShortStay, days)).await.unwrap();
    // Not approved yet: nothing to record.
    assert!(matches!(s.record_day_use(&staff, a, day(8, 10), true).await, Err(StoreError::Conflict("not_approved"))));
    s.approve_application(&nurse, a, &booking(0, days, 15), "", None).await.unwrap();
    s.record_day_use(&staff, a, day(8, 11), true).await.unwrap();
    s.record_day_use(&staff, a, day(8, 10), true).await.unwrap();
    s.record_day_use(&staff, a, day(8, 10), true).await.unwrap(); // twice is once
    assert!(matches!(
        s.record_day_use(&staff, a, day(8, 13), true).await,
        Err(StoreError::Conflict("day_not_in_stay"))
    ));
    assert!(matches!(
        s.record_day_use(&ctx(other, Role::FacilityStaff), a, day(8, 12), true).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(s.used_days(&staff, a).await.unwrap(), [day(8, 10), day(8, 11)]);
    let usage = s.postpartum_usage(m, centre, all_of_2027()).await.unwrap();
    assert_eq!((usage.short_stay_days, usage.booked_short_stay_days, usage.families), (2, 3, 1));
    // A mark made by mistake is undone.
    s.record_day_use(&staff, a, day(8, 11), false).await.unwrap();
    assert_eq!(s.used_days(&staff, a).await.unwrap(), [day(8, 10)]);
    assert!(matches!(s.used_days(&ctx(other, Role::Nurse), a).await, Err(StoreError::NotFound)));
    finish(s, db).await;
}

async fn story_a_fee_to_be_confirmed_is_recorded_at_approval(backend: Backend) {
    use tsunagu_domain::postpartum::fees::{FeeBracket, FeeTable, VisitFees};
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let centre = facility(&s, m, "センター", &FacilityCalendar::setagaya_centre()).await;
    let f = family(&s, m, north, "ハナコ").await;
    let nurse = ctx(m, Role::Nurse);
    let days = stay(day(8, 10), 1);
    let mut new = application(f, centre, ServiceType::Outreach, days);
    new.quote_total_yen = 0;
    new.fee_to_be_confirmed = true;
    let a = s.create_application(&nurse, &new).await.unwrap();
    let read = s.application(&nurse, a).await.unwrap().unwrap();
    assert!(read.fee_to_be_confirmed);
    assert_eq!(read.confirmed_fee_yen, None);
    // The amount is required to approve; nothing is taken without it.
    assert!(matches!(
        s.approve_application(&nurse, a, &booking(1, days, 3), "", None).await,
        Err(StoreError::Conflict("fee_required"))
    ));
    assert!(s.places_taken(m, centre, 1, days).await.unwrap().is_empty());
    s.approve_application(&nurse, a, &booking(1, days, 3), "", Some(500)).await.unwrap();
    let read = s.application(&nurse, a).await.unwrap().unwrap();
    assert_eq!((read.status, read.confirmed_fee_yen), (ApplicationStatus::Approved, Some(500)));
    // An amount given for an ordinary application is not kept.
    let b = s.create_application(&nurse, &application(f, centre, ServiceType::ShortStay, days)).await.unwrap();
    s.approve_application(&nurse, b, &booking(0, days, 15), "", Some(1)).await.unwrap();
    assert_eq!(s.application(&nurse, b).await.unwrap().unwrap().confirmed_fee_yen, None);

    // A municipality's own fee table: none until set, then read back as set.
    assert_eq!(s.postpartum_fee_table(m).await.unwrap(), None);
    let table = FeeTable { max_days: Some(7), ..FeeTable::setagaya() }
        .with_outreach(FeeBracket::NonTaxed, VisitFees { visit_yen: 600, extra_baby_yen: 60 });
    s.set_postpartum_fee_table(m, &table).await.unwrap();
    assert_eq!(s.postpartum_fee_table(m).await.unwrap(), Some(table));
    let again = FeeTable::setagaya();
    s.set_postpartum_fee_table(m, &again).await.unwrap();
    assert_eq!(s.postpartum_fee_table(m).await.unwrap(), Some(again));
    let (other, _, _) = town(&s, "082350").await;
    assert_eq!(s.postpartum_fee_table(other).await.unwrap(), None);
    finish(s, db).await;
}

on_both!(
    facility_configuration_round_trips => story_facility_configuration_round_trips,
    applications_are_stored_listed_and_viewed_with_an_audit_line_each => story_applications_are_stored_listed_and_viewed_with_an_audit_line_each,
    approving_takes_every_day_or_none_and_cancelling_gives_them_back => story_approving_takes_every_day_or_none_and_cancelling_gives_them_back,
    facilities_note_the_days_of_approved_stays => story_facilities_note_the_days_of_approved_stays,
    usage_counts_recorded_days_and_each_family_once => story_usage_counts_recorded_days_and_each_family_once,
    the_daily_record_of_use_is_kept_and_undone => story_the_daily_record_of_use_is_kept_and_undone,
    a_fee_to_be_confirmed_is_recorded_at_approval => story_a_fee_to_be_confirmed_is_recorded_at_approval,
    facility_staff_may_open_families_with_an_application_at_their_facility => story_facility_staff_may_open_families_with_an_application_at_their_facility,
);

on_both!(multi_thread:
    concurrent_approvals_never_overfill_a_day => story_concurrent_approvals_never_overfill_a_day,
);
