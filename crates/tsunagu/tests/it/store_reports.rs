//! Storage stories about reports (#14): counts by municipality and fiscal
//! year, never a person; one audit line per report read. One story builds,
//! behind the store's back, records that hold Setagaya's published FY2022
//! use ([001] 利用実績 令和4, 地域別利用者数 令和４年度) and reads them
//! through the report. Each runs on SQLite and on PostgreSQL (`on_both!`).

use crate::store_support::*;
use crate::support::Backend;
use tsunagu_domain::fiscal::FiscalYear;
use tsunagu_domain::postpartum::calendar::FacilityCalendar;
use tsunagu_domain::referrals::ConcernSource;
use tsunagu_domain::reports::build::year_tables;
use tsunagu_domain::reports::reconcile::{reconcile, RateExplanation};
use tsunagu_domain::reports::suppression::suppress;
use tsunagu_domain::reports::table::{Shown, TableKind};
use tsunagu_domain::reports::{Period, ReportSettings};
use tsunagu_domain::roles::Role;
use tsunagu_domain::{FamilyId, MunicipalityId, VenueId};
use tsunagu_store::NewScreening;

fn fy(y: i32) -> FiscalYear {
    FiscalYear::new(y).unwrap()
}

/// A day of FY2022, `k` days after 1 April 2022, as a literal of the back end.
fn day_lit(backend: Backend, k: usize) -> String {
    let d = tsunagu_domain::dates::add_days(jiff::civil::date(2022, 4, 1), (k % 365) as i64).unwrap();
    match backend {
        Backend::Sqlite => format!("'{d}'"),
        Backend::Postgres => format!("'{d}'::date"),
    }
}

/// Families (one per `areas` entry, in order) and, for each `(family index,
/// facility, service, days)`, an approved application with that many used
/// days — written straight into the tables, as a migration from another
/// system would leave them.
pub(crate) async fn hand_built_use(
    db: &TestDb,
    m: MunicipalityId,
    areas: &[i64],
    uses: &[(usize, VenueId, &str, usize)],
) {
    let (t, f) = match db.backend {
        Backend::Sqlite => ("'2022-04-01T00:00:00.000000Z'", "0"),
        Backend::Postgres => ("'2022-04-01T00:00:00Z'::timestamptz", "FALSE"),
    };
    let families: Vec<String> = areas.iter().map(|a| format!("({}, {a}, 'taxed', {f}, {f}, {t})", m.0)).collect();
    exec(
        db,
        &format!(
            "INSERT INTO families (municipality_id, area_id, fee_bracket, consent_coordinators, consent_hubs, created_at) \
             VALUES {}",
            families.join(", ")
        ),
    )
    .await
    .unwrap();
    // Each application is keyed by its quote (its index) to find it again.
    let apps: Vec<String> = uses
        .iter()
        .enumerate()
        .map(|(i, (k, venue, service, _))| format!("({k}, {}, '{service}', {i})", venue.0))
        .collect();
    exec(
        db,
        &format!(
            "WITH v(k, venue, service, key) AS (VALUES {}), \
             fam AS (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS k FROM families WHERE municipality_id = {m}) \
             INSERT INTO postpartum_applications (municipality_id, family_id, venue_id, service, stay_first, stay_last, \
             babies, siblings, rolls_over_actively, needs_medical_treatment, has_worries_or_fatigue, \
             lacks_help_from_relatives, grandparents_nearby, quote_total_yen, transport_paid, refusals, status, \
             applied_by, applied_at) \
             SELECT {m}, fam.id, v.venue, v.service, {d0}, {d1}, 1, 0, {f}, {f}, {f}, {f}, {f}, v.key, {f}, '[]', \
             'approved', 1, {t} FROM v JOIN fam ON fam.k = v.k",
            apps.join(", "),
            m = m.0,
            d0 = day_lit(db.backend, 0),
            d1 = day_lit(db.backend, 364),
        ),
    )
    .await
    .unwrap();
    let mut days = Vec::new();
    let mut next = 0usize;
    for (i, (_, _, _, n)) in uses.iter().enumerate() {
        for _ in 0..*n {
            days.push(format!("({i}, {})", day_lit(db.backend, next)));
            next += 1;
        }
        next += 7; // the next family starts on another day
    }
    for chunk in days.chunks(2000) {
        exec(
            db,
            &format!(
                "WITH d(key, day) AS (VALUES {}) \
                 INSERT INTO postpartum_used_days (application_id, day, venue_id, municipality_id, family_id, service, \
                 by_account, at) \
                 SELECT a.id, d.day, a.venue_id, a.municipality_id, a.family_id, a.service, 1, {t} \
                 FROM d JOIN postpartum_applications a ON a.quote_total_yen = d.key AND a.municipality_id = {m}",
                chunk.join(", "),
                m = m.0,
            ),
        )
        .await
        .unwrap();
    }
}

async fn story_the_published_fy2022_figures_come_back_through_the_report(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let m = s.create_municipality(code("131121"), "世田谷区", "Setagaya").await.unwrap().id;
    let (other, _, _) = town(&s, "082350").await;
    let mut areas = Vec::new();
    for (ja, en) in
        [("世田谷", "Setagaya"), ("北沢", "Kitazawa"), ("玉川", "Tamagawa"), ("砧", "Kinuta"), ("烏山", "Karasuyama")]
    {
        areas.push(s.create_area(m, ja, en).await.unwrap().id);
    }
    let centre = facility(&s, m, "産後ケアセンター", &FacilityCalendar::setagaya_centre()).await;
    let mamas = facility(&s, m, "ママズルーム", &FacilityCalendar::setagaya_mamas_room()).await;
    // [001] 地域別利用者数 令和４年度: 353 / 140 / 256 / 145 / 95 = 989 families.
    let per_area = [353usize, 140, 256, 145, 95];
    let family_areas: Vec<i64> = per_area.iter().zip(&areas).flat_map(|(n, a)| std::iter::repeat_n(a.0, *n)).collect();
    assert_eq!(family_areas.len(), 989);
    // [001] 利用実績 令和4: the centre 3,725 short-stay days (700 families:
    // 225 × 6 + 475 × 5) and 706 day-care days (232 families: 10 × 4 +
    // 222 × 3), 932 families; Mama's Room 339 day-care days, 119 families
    // (101 × 3 + 18 × 2), 62 of whom also used the centre: 932 + 57 = 989.
    let mut uses: Vec<(usize, VenueId, &str, usize)> = Vec::new();
    for k in 0..700 {
        uses.push((k, centre, "short_stay", if k < 225 { 6 } else { 5 }));
    }
    for k in 700..932 {
        uses.push((k, centre, "day_care", if k < 710 { 4 } else { 3 }));
    }
    for (i, k) in (870..989).enumerate() {
        uses.push((k, mamas, "day_care", if i < 101 { 3 } else { 2 }));
    }
    hand_built_use(&db, m, &family_areas, &uses).await;

    let nurse = ctx(m, Role::Nurse);
    let years = s.report(&nurse, &Period::year(fy(2022)), 14).await.unwrap();
    assert_eq!(years.len(), 1);
    let y = &years[0];
    let c = y.facilities.iter().find(|f| f.venue_id == centre.0).unwrap();
    assert_eq!((c.short_stay_days, c.day_care_days, c.facility_days(), c.families), (3_725, 706, 4_431, 932));
    let mr = y.facilities.iter().find(|f| f.venue_id == mamas.0).unwrap();
    assert_eq!((mr.day_care_days, mr.families), (339, 119));
    assert_eq!(y.areas.iter().map(|a| a.families).collect::<Vec<_>>(), vec![353, 140, 256, 145, 95]);
    // One audit line for the report, naming no family.
    assert_eq!(last_line(&s, m).await, line("report.view", None, "period=FY2022"));

    // Through the tables, suppressed as every reader but the nurse sees them.
    let settings = ReportSettings::default();
    let tables = year_tables(y).unwrap();
    let use_table =
        suppress(tables.iter().find(|t| t.kind == TableKind::PostpartumUse).unwrap(), &settings.suppression);
    let row = use_table
        .rows
        .iter()
        .position(
            |r| matches!(r, tsunagu_domain::reports::table::RowLabel::Name { ja, .. } if ja == "産後ケアセンター"),
        )
        .unwrap();
    let texts: Vec<String> = use_table.cells[row][..4].iter().map(Shown::text).collect();
    assert_eq!(texts, vec!["3,725", "706", "4,431", "932"]);
    let areas_table =
        suppress(tables.iter().find(|t| t.kind == TableKind::UsersByArea).unwrap(), &settings.suppression);
    let texts: Vec<String> = areas_table.cells[0].iter().map(Shown::text).collect();
    assert_eq!(texts, vec!["353", "140", "256", "145", "95", "989"]);

    // The printed rate beside the computed one, and why they differ.
    let printed = ReportSettings::setagaya_printed(centre.0);
    let r = reconcile(c, printed.iter().find(|p| p.fiscal_year == 2022).unwrap());
    assert!(r.counts.iter().all(|c| c.matches()));
    let rate = r.rate.unwrap();
    assert_eq!((rate.computed_tenths, rate.printed_tenths), (Some(816), 824));
    assert!(matches!(rate.explanation, RateExplanation::NoWholeDayCount { days_below: 358, .. }));

    // Another municipality's report counts none of it.
    let theirs = s.report(&ctx(other, Role::Analyst), &Period::year(fy(2022)), 14).await.unwrap();
    assert!(theirs[0].facilities.is_empty());
    assert!(theirs[0].areas.iter().all(|a| a.families == 0));
    finish(s, db).await;
}

async fn story_settings_round_trip_per_municipality(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, _, _) = town(&s, "131121").await;
    let (other, _, _) = town(&s, "082350").await;
    assert_eq!(s.report_settings(m).await.unwrap(), ReportSettings::default());
    let mut settings = ReportSettings {
        suppression: tsunagu_domain::reports::suppression::SuppressionSettings::new(5, Some(5)).unwrap(),
        follow_up_days: 7,
        printed: ReportSettings::setagaya_printed(3),
        chat_answer_hours: 48,
    };
    let admin = ctx(m, Role::Admin);
    s.set_report_settings(&admin, &settings).await.unwrap();
    assert_eq!(s.report_settings(m).await.unwrap(), settings);
    // One line for the change, in the municipality's chain, naming no person.
    assert_eq!(
        last_line(&s, m).await,
        line("report.settings", None, "threshold=5 rounding=5 follow_up_days=7 chat_answer_hours=48 printed_years=5")
    );
    settings.follow_up_days = 10;
    s.set_report_settings(&admin, &settings).await.unwrap();
    assert_eq!(s.report_settings(m).await.unwrap().follow_up_days, 10);
    assert_eq!(s.report_settings(other).await.unwrap(), ReportSettings::default());
    // Settings stored before the chat's table have no answer time: the default.
    exec(
        &db,
        &format!(
            "UPDATE report_settings SET settings = '{}' WHERE municipality_id = {}",
            r#"{"suppression":{"threshold":10,"rounding":null},"follow_up_days":14,"printed":[]}"#, m.0
        ),
    )
    .await
    .unwrap();
    assert_eq!(s.report_settings(m).await.unwrap().chat_answer_hours, 24);
    finish(s, db).await;
}

async fn story_screening_referral_and_notification_counts(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let f = family(&s, m, north, "ハナコ").await;
    let g = family(&s, m, north, "ミカ").await;
    let pf = s.open_family(&ctx(m, Role::Nurse), f).await.unwrap().unwrap().pregnancies[0].id;
    let def = tsunagu_domain::screening::defs::epds();
    let scored = |scores: [u8; 10]| {
        let mut answers = tsunagu_domain::screening::Answers::to(&def, &[]);
        for (i, score) in scores.iter().enumerate() {
            let item = &def.items[i];
            let code = item.options.iter().find(|o| o.score == *score).unwrap().code.clone();
            answers.answers.insert(item.id.clone(), code);
        }
        NewScreening::score(&def, f, Some(pf), answers).unwrap()
    };
    let nurse = as_staff(m, Role::Nurse, 21, "2026-11-22T03:00:00Z");
    s.record_screening(&nurse, &scored([1, 1, 1, 1, 1, 1, 1, 1, 0, 0])).await.unwrap();
    s.record_screening(&nurse, &scored([3, 3, 3, 3, 3, 3, 3, 3, 3, 2])).await.unwrap();
    s.record_screening(&nurse, &scored([2, 2, 2, 2, 2, 0, 0, 0, 0, 0])).await.unwrap();
    let _ = g;

    let years = s.report(&ctx(m, Role::Analyst), &Period::year(fy(2026)), 14).await.unwrap();
    let y = &years[0];
    let epds = y.screening.iter().find(|q| q.questionnaire == "epds").unwrap();
    assert_eq!((epds.given, epds.positive, epds.urgent), (3, 2, 1));
    // Not yet taken up by the nurse: not followed up.
    assert_eq!(epds.followed_up_in_time, 0);
    // Taken up behind the store's back: one exactly 14 days after it was
    // entered (in time), the other a microsecond later (not); the day
    // count is the report's (7: neither).
    let (t14, late) = match backend {
        Backend::Sqlite => ("'2026-12-06T03:00:00.000000Z'", "'2026-12-06T03:00:00.000001Z'"),
        Backend::Postgres => ("'2026-12-06T03:00:00Z'::timestamptz", "'2026-12-06T03:00:00.000001Z'::timestamptz"),
    };
    let first: i64 = scalar(&db, "SELECT MIN(referral_id) FROM screenings").await;
    let second: i64 = scalar(&db, "SELECT MAX(referral_id) FROM screenings").await;
    for (referral, at) in [(first, t14), (second, late)] {
        exec(
            &db,
            &format!(
                "INSERT INTO referral_events (municipality_id, referral_id, action, by_account, at, note) \
                 SELECT municipality_id, id, 'receive', 21, {at}, '' FROM referrals WHERE id = {referral}"
            ),
        )
        .await
        .unwrap();
    }
    let in_time = |days| {
        let s = &s;
        async move {
            let y = s.report(&ctx(m, Role::Analyst), &Period::year(fy(2026)), days).await.unwrap();
            y[0].screening.iter().find(|q| q.questionnaire == "epds").unwrap().followed_up_in_time
        }
    };
    assert_eq!(in_time(14).await, 1, "14 days to the microsecond is in time; a microsecond more is not");
    assert_eq!(in_time(15).await, 2);
    assert_eq!(in_time(7).await, 0);
    let from_screening = y.referrals.iter().find(|r| r.source == ConcernSource::Screening).unwrap();
    assert_eq!((from_screening.open, from_screening.closed), (2, [0; 4]));
    assert_eq!(y.referrals.len(), ConcernSource::ALL.len());
    // Two notifications in FY2026, none with the notification questionnaire.
    assert_eq!((y.notifications, y.notifications_with_questionnaire), (2, 0));
    // Other years count nothing of it.
    let before = s.report(&ctx(m, Role::Analyst), &Period::year(fy(2025)), 14).await.unwrap();
    assert!(before[0].screening.is_empty());
    assert_eq!(before[0].notifications, 0);
    finish(s, db).await;
}

/// Contacts done by form, the 3–4-month check's non-attendees, meetings,
/// group sessions and follow-up consultations, written behind the store's
/// back onto the contacts the timeline built, counted for FY2026 only.
async fn story_contacts_meetings_and_consultations_by_year(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, other_area, _) = town(&s, "082350").await;
    let staff = s.create_account(None, &new_account(m, "nurse", Role::Nurse)).await.unwrap().id.0;
    // Due on 9 December 2026, born on 22 November.
    let due_soon = |given: &str| {
        notification_input(north, mother("ヤマダ", given, Some("1994-05-01")), "2026-12-09").check(today()).unwrap()
    };
    let families = [
        s.register_notification(&ctx(m, Role::Nurse), &due_soon("ハナコ")).await.unwrap(),
        s.register_notification(&ctx(m, Role::Nurse), &due_soon("ミカ")).await.unwrap(),
        family(&s, m, north, "ユキ").await,
    ];
    let foreign = family(&s, other, other_area, "ハナコ").await;
    let earlier = family(&s, m, north, "アイ").await;
    let centre = facility(&s, m, "センター", &FacilityCalendar::setagaya_centre()).await;
    // Born, so that the happy-baby contact and the 3–4-month check exist.
    let nurse = ctx(m, Role::Nurse);
    for f in &families[..2] {
        let p = s.open_family(&nurse, *f).await.unwrap().unwrap().pregnancies[0].clone();
        let birth = tsunagu_domain::records::BirthInput { babies: vec![baby("2026-11-22", "female")] }
            .check(&p, today())
            .unwrap();
        s.record_birth(&nurse, *f, p.id, &birth).await.unwrap();
    }
    let (t_in, t_before, f) = match backend {
        Backend::Sqlite => ("'2026-11-20T01:00:00.000000Z'", "'2026-03-31T14:00:00.000000Z'", "0"),
        Backend::Postgres => ("'2026-11-20T01:00:00Z'", "'2026-03-31T14:00:00Z'", "FALSE"),
    };
    // 8th-month interviews: two in a group, one at home; one more in March
    // 2026 in Japan (31 March 23:00 JST: FY2025), one of another city.
    for (fam, form, at) in [
        (families[0], "group", t_in),
        (families[1], "group", t_in),
        (families[2], "home_visit", t_in),
        (foreign, "group", t_in),
    ] {
        exec(
            &db,
            &format!(
                "UPDATE contacts SET outcome = 'done', form = '{form}', outcome_at = {at}, awaits = {f} \
             WHERE family_id = {} AND kind = 'eighth_month_interview'",
                fam.0
            ),
        )
        .await
        .unwrap();
    }
    exec(
        &db,
        &format!(
            "UPDATE contacts SET outcome = 'done', form = 'individual', outcome_at = {t_before}, awaits = {f} \
         WHERE family_id = {} AND kind = 'eighth_month_interview'",
            earlier.0
        ),
    )
    .await
    .unwrap();
    exec(
        &db,
        &format!(
            "UPDATE contacts SET outcome = 'done', form = 'support_room_visit', outcome_at = {t_in}, awaits = {f} \
         WHERE family_id = {} AND kind = 'happy_baby'",
            families[0].0
        ),
    )
    .await
    .unwrap();
    // The 3–4-month check: two windows closed in FY2026 without it, one of
    // them then recorded as declined (the situation is known).
    for (fam, outcome) in [(families[0], "NULL"), (families[1], "'declined'")] {
        exec(
            &db,
            &format!(
                "UPDATE contacts SET opens = '2026-09-01', due = '2026-09-15', closes = '2026-10-01', \
             missed_on = '2026-10-02', outcome = {outcome} WHERE family_id = {} AND kind = 'health_check_3_4_months'",
                fam.0
            ),
        )
        .await
        .unwrap();
    }
    let (at, d) = match backend {
        Backend::Sqlite => ("'2026-11-20T01:00:00.000000Z'", ""),
        Backend::Postgres => ("'2026-11-20T01:00:00Z'::timestamptz", "::date"),
    };
    exec(
        &db,
        &format!(
        "INSERT INTO handbook_meetings (municipality_id, area_id, month, held_on, recorded_by, recorded_at) VALUES \
         ({m}, {a}, '2026-05', '2026-06-10'{d}, {staff}, {at}), ({m}, {a}, '2026-02', '2026-03-10'{d}, {staff}, {at})",
        m = m.0, a = north.0
    ),
    )
    .await
    .unwrap();
    exec(&db, &format!(
        "INSERT INTO group_sessions (municipality_id, area_id, due_month, day, place, created_by, created_at, \
         attendance_by, attendance_at) VALUES ({m}, {a}, '2027-01', '2026-11-10'{d}, 'hall', {staff}, {at}, {staff}, {at}), \
         ({m}, {a}, '2027-02', '2026-12-10'{d}, 'hall', {staff}, {at}, NULL, NULL)",
        m = m.0, a = north.0
    )).await.unwrap();
    let civil = |s: &str| match backend {
        Backend::Sqlite => format!("'{s}'"),
        Backend::Postgres => format!("'{s}'::timestamp"),
    };
    exec(
        &db,
        &format!(
            "INSERT INTO followups (municipality_id, venue_id, family_id, start, status, booked_by, booked_at) VALUES \
         ({m}, {v}, {f0}, {a}, 'booked', {staff}, {at}), ({m}, {v}, {f0}, {b}, 'cancelled', {staff}, {at}), \
         ({m}, {v}, {f0}, {c}, 'booked', {staff}, {at})",
            m = m.0,
            v = centre.0,
            f0 = families[0].0,
            a = civil("2026-07-01T10:00:00"),
            b = civil("2026-07-02T10:00:00"),
            c = civil("2027-04-01T10:00:00"),
        ),
    )
    .await
    .unwrap();

    let years = s.report(&ctx(m, Role::Analyst), &Period::range(fy(2025), fy(2026)).unwrap(), 14).await.unwrap();
    let (y25, y26) = (&years[0], &years[1]);
    use tsunagu_domain::timeline::ContactForm as F;
    assert_eq!(y26.eighth_month, vec![(F::Group, 2), (F::Individual, 0), (F::HomeVisit, 1)]);
    assert_eq!(y26.happy_baby, vec![(F::HomeVisit, 0), (F::SupportRoomVisit, 1), (F::AtHealthCheck, 0)]);
    assert_eq!(y25.eighth_month[1], (F::Individual, 1), "31 March 23:00 in Japan is FY2025");
    assert_eq!((y26.check_non_attendees, y26.check_resolved), (2, 1));
    assert_eq!((y26.handbook_meetings, y25.handbook_meetings), (1, 1));
    assert_eq!(y26.group_sessions, 1, "a session without attendance was not held");
    assert_eq!((y26.follow_ups, y25.follow_ups), (1, 0), "cancelled and next year's are not counted");
    assert_eq!(last_line(&s, m).await, line("report.view", None, "period=FY2025–FY2026"));
    finish(s, db).await;
}

/// A venue of `m` where classes are held.
pub(crate) async fn room(s: &Db, m: MunicipalityId, area: tsunagu_domain::AreaId, ja: &str, en: &str) -> VenueId {
    s.create_venue(&tsunagu_store::NewVenue {
        municipality_id: m,
        area_id: Some(area),
        kind: tsunagu_domain::places::VenueKind::SupportRoom,
        name_ja: ja.into(),
        name_en: en.into(),
    })
    .await
    .unwrap()
    .id
}

/// A class session written straight into the table: `held` sets the
/// attendance as recorded; `bookings` are (family, status, with partner,
/// attended) — the attendance as staff would have marked it.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn hand_built_session(
    db: &TestDb,
    m: MunicipalityId,
    programme: tsunagu_domain::ProgrammeId,
    kind: &str,
    venue: VenueId,
    day: &str,
    (held, cancelled): (bool, bool),
    staff: i64,
    bookings: &[(FamilyId, &str, bool, Option<bool>)],
) {
    let (t, (yes, no), d) = match db.backend {
        Backend::Sqlite => ("'2026-04-01T00:00:00.000000Z'", ("1", "0"), ""),
        Backend::Postgres => ("'2026-04-01T00:00:00Z'::timestamptz", ("TRUE", "FALSE"), "::date"),
    };
    let b = |x: bool| if x { yes } else { no };
    let attendance = if held { (staff.to_string(), t.to_owned()) } else { ("NULL".to_owned(), "NULL".to_owned()) };
    exec(
        db,
        &format!(
            "INSERT INTO class_sessions (municipality_id, programme_id, venue_id, day, starts, minutes, capacity, \
             taken, cancelled, attendance_by, attendance_at, created_at) VALUES \
             ({m}, {p}, {v}, '{day}'{d}, '10:00:00', 120, 20, 0, {c}, {ab}, {at}, {t})",
            m = m.0,
            p = programme.0,
            v = venue.0,
            c = b(cancelled),
            ab = attendance.0,
            at = attendance.1,
        ),
    )
    .await
    .unwrap();
    let session: i64 = scalar(
        db,
        &format!(
            "SELECT id FROM class_sessions WHERE venue_id = {} AND day = '{day}'{d} AND programme_id = {}",
            venue.0, programme.0
        ),
    )
    .await;
    for (i, (family, status, partner, attended)) in bookings.iter().enumerate() {
        exec(
            db,
            &format!(
                "INSERT INTO class_bookings (municipality_id, session_id, family_id, kind, stage, status, with_partner, \
                 share_name, idempotency_key, booked_by, booked_at, attended) VALUES \
                 ({m}, {session}, {f}, '{kind}', 'prenatal', '{status}', {wp}, {no}, 'k{session}-{i}', {staff}, {t}, {att})",
                m = m.0,
                f = family.0,
                wp = b(*partner),
                att = attended.map_or("NULL", b),
            ),
        )
        .await
        .unwrap();
    }
}

/// [002] マタニティ教室 (実施回数・参加組数・参加人数・夫婦組) and [000]
/// セルフケア講座 per venue in a fiscal year, from hand-built sessions and
/// attendance: only sessions held (attendance recorded, not cancelled) in
/// the year count, only confirmed bookings that came; read in the same
/// assembly and under the same one audit line as every other table, and
/// through the one suppression rule.
async fn story_class_participation_per_venue_by_year(backend: Backend) {
    use tsunagu_domain::classes::{Participation, ProgrammeConfig, ProgrammeKind};
    use tsunagu_domain::reports::build::{CLASS_COUPLES, CLASS_GROUPS, CLASS_PEOPLE, CLASS_SESSIONS};
    use tsunagu_domain::reports::table::RowLabel;
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, other_area, _) = town(&s, "082350").await;
    let staff = s.create_account(None, &new_account(m, "nurse", Role::Nurse)).await.unwrap().id.0;
    let their_staff = s.create_account(None, &new_account(other, "nurse2", Role::Nurse)).await.unwrap().id.0;
    let kita = room(&s, m, north, "北沢子育て支援室", "Kitazawa room").await;
    let kara = room(&s, m, north, "烏山子育て支援室", "Karasuyama room").await;
    let theirs = room(&s, other, other_area, "会場", "Hall").await;
    let maternity =
        s.create_programme(m, &ProgrammeConfig::seed_default(ProgrammeKind::MaternityClass)).await.unwrap().id;
    let self_care = s.create_programme(m, &ProgrammeConfig::seed_default(ProgrammeKind::SelfCare)).await.unwrap().id;
    let their_class =
        s.create_programme(other, &ProgrammeConfig::seed_default(ProgrammeKind::MaternityClass)).await.unwrap().id;
    let mut f = Vec::new();
    for i in 0..7 {
        f.push(family(&s, m, north, ["ア", "イ", "ウ", "エ", "オ", "カ", "キ"][i]).await);
    }
    let foreign = family(&s, other, other_area, "ハナコ").await;
    let (mc, sc) = ("maternity_class", "self_care");
    let came = |k: usize, partner: bool| (f[k], "confirmed", partner, Some(true));
    // 北沢, maternity class, FY2026: 10 June — 3 couples and 2 alone came,
    // one confirmed booking absent, one cancelled; 10 September — 1 couple
    // and 4 alone. 2 sessions, 10 groups, 14 people, 4 couples.
    hand_built_session(
        &db,
        m,
        maternity,
        mc,
        kita,
        "2026-06-10",
        (true, false),
        staff,
        &[
            came(0, true),
            came(1, true),
            came(2, true),
            came(3, false),
            came(4, false),
            (f[5], "confirmed", true, Some(false)),
            (f[6], "cancelled", true, None),
        ],
    )
    .await;
    hand_built_session(
        &db,
        m,
        maternity,
        mc,
        kita,
        "2026-09-10",
        (true, false),
        staff,
        &[came(0, true), came(1, false), came(2, false), came(3, false), came(4, false)],
    )
    .await;
    // Not counted: a cancelled session (even with marks), one not yet held.
    hand_built_session(&db, m, maternity, mc, kita, "2026-10-10", (true, true), staff, &[came(0, true)]).await;
    hand_built_session(
        &db,
        m,
        maternity,
        mc,
        kita,
        "2026-12-10",
        (false, false),
        staff,
        &[(f[1], "confirmed", true, None)],
    )
    .await;
    // 烏山, maternity class: 31 March 2027 (FY2026) 2 alone; 1 April 2027 is FY2027.
    hand_built_session(
        &db,
        m,
        maternity,
        mc,
        kara,
        "2027-03-31",
        (true, false),
        staff,
        &[came(0, false), came(1, false)],
    )
    .await;
    hand_built_session(&db, m, maternity, mc, kara, "2027-04-01", (true, false), staff, &[came(2, true)]).await;
    // 北沢, self-care ([000]: classes and pairs): 1 April 2026, 6 pairs.
    hand_built_session(
        &db,
        m,
        self_care,
        sc,
        kita,
        "2026-04-01",
        (true, false),
        staff,
        &(0..6).map(|k| came(k, false)).collect::<Vec<_>>(),
    )
    .await;
    // Another municipality's class counts nowhere here.
    hand_built_session(
        &db,
        other,
        their_class,
        mc,
        theirs,
        "2026-06-10",
        (true, false),
        their_staff,
        &[(foreign, "confirmed", true, Some(true))],
    )
    .await;

    let years = s.report(&ctx(m, Role::Nurse), &Period::year(fy(2026)), 14).await.unwrap();
    let y = &years[0];
    let figures = |venue: VenueId, kind: ProgrammeKind| {
        y.classes.iter().find(|c| c.venue_id == venue.0 && c.kind == kind).map(|c| c.figures)
    };
    let p = |sessions, groups, people, couples| Some(Participation { sessions, groups, people, couples });
    assert_eq!(figures(kita, ProgrammeKind::MaternityClass), p(2, 10, 14, 4));
    assert_eq!(figures(kara, ProgrammeKind::MaternityClass), p(1, 2, 2, 0));
    assert_eq!(figures(kita, ProgrammeKind::SelfCare), p(1, 6, 6, 0));
    assert_eq!(y.classes.len(), 3);
    // One audit line for the whole report, naming no family.
    assert_eq!(last_line(&s, m).await, line("report.view", None, "period=FY2026"));
    assert_eq!(lines_of(&s, m, "report.view").await.len(), 1);

    // The table: self-care's one venue, then the maternity class's two and their totals.
    let tables = year_tables(y).unwrap();
    let table = tables.iter().find(|t| t.kind == TableKind::ClassParticipation).unwrap();
    assert_eq!(table.rows.len(), 4);
    let row = |ja: &str, programme: &str| {
        table
            .rows
            .iter()
            .position(
                |r| matches!(r, RowLabel::VenueProgramme { ja: j, programme: p, .. } if j == ja && p == programme),
            )
            .unwrap()
    };
    let total = table.rows.iter().position(|r| *r == RowLabel::key("programme.maternity_class")).unwrap();
    let truth = table.unsuppressed();
    let texts = |r: usize| truth.cells[r].iter().map(Shown::text).collect::<Vec<_>>();
    assert_eq!(texts(row("北沢子育て支援室", mc)), ["2", "10", "14", "4"]);
    assert_eq!(texts(total), ["3", "12", "16", "4"]);
    assert_eq!(texts(row("北沢子育て支援室", sc)), ["1", "6", "6", "0"]);
    // Through the one rule, as the analyst, downloads and the API get it:
    // small counts held back (never 0), sessions held shown, and nothing
    // held back recoverable from the sums.
    let settings = ReportSettings::default();
    let published = suppress(table, &settings.suppression);
    let k = row("北沢子育て支援室", mc);
    assert_eq!(published.cells[k][CLASS_COUPLES], Shown::Suppressed);
    assert_eq!(published.cells[k][CLASS_SESSIONS], Shown::Count(2));
    let kr = row("烏山子育て支援室", mc);
    assert_eq!(published.cells[kr][CLASS_GROUPS], Shown::Suppressed);
    assert_eq!(published.cells[kr][CLASS_PEOPLE], Shown::Suppressed);
    assert_eq!(published.cells[kr][CLASS_COUPLES], Shown::Count(0), "zero is shown as zero");
    let held = tsunagu_domain::reports::suppression::held_back(table, &settings.suppression);
    let sums: Vec<_> = table.sums.iter().collect();
    assert!(tsunagu_domain::reports::suppression::determined(&held.into_iter().collect::<Vec<_>>(), &sums).is_empty());

    // The other municipality sees its own class only.
    let theirs_y = s.report(&ctx(other, Role::Analyst), &Period::year(fy(2026)), 14).await.unwrap();
    assert_eq!(theirs_y[0].classes.len(), 1);
    assert_eq!(theirs_y[0].classes[0].figures, Participation { sessions: 1, groups: 1, people: 2, couples: 1 });
    finish(s, db).await;
}

/// The chat's figures [003] of a fiscal year, through the chat's own store
/// calls: rooms opened, parents who wrote, messages by side, each room's
/// time to the first answer, escalations by outcome — counts only.
async fn story_chat_figures_by_year(backend: Backend) {
    use tsunagu_domain::chat::invitations::code_hash;
    use tsunagu_domain::chat::messages::{ClientId, MessageText};
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let mut parents = Vec::new();
    for (name, kana, code) in [("hiyoko", "ハナコ", "ABCDEFGHJKMN"), ("kotori", "ミカ", "BCDEFGHJKMNP")] {
        let f = family(&s, m, north, kana).await;
        let hash = code_hash(code);
        s.issue_invitation(&ctx(m, Role::Nurse), f, &hash, at("2027-11-22T00:00:00Z")).await.unwrap();
        let account = tsunagu_store::NewAccount { display_name: name.into(), ..new_account(m, name, Role::ChatParent) };
        parents.push(s.join_chat(m, &hash, &account, at("2026-11-23T00:00:00Z")).await.unwrap());
    }
    let helper = s.create_account(None, &new_account(m, "sup", Role::PeerSupporter)).await.unwrap().id;
    let post = |who: Role, account: tsunagu_domain::AccountId, room, when: &'static str, id: &'static str| {
        let s = &s;
        async move {
            s.post_message(
                &as_staff(m, who, account.0, when),
                room,
                &ClientId::parse(id).unwrap(),
                &MessageText::parse("はじめまして").unwrap(),
                false,
            )
            .await
            .unwrap();
        }
    };
    let ((a, room_a), (b, room_b)) = (parents[0], parents[1]);
    post(Role::ChatParent, a, room_a, "2026-11-23T01:00:00Z", "a1").await;
    post(Role::ChatParent, a, room_a, "2026-11-23T01:05:00Z", "a2").await;
    post(Role::PeerSupporter, helper, room_a, "2026-11-23T01:30:00Z", "s1").await;
    post(Role::ChatParent, b, room_b, "2026-11-24T09:00:00Z", "b1").await;
    let sup = as_staff(m, Role::PeerSupporter, helper.0, "2026-11-23T02:00:00Z");
    s.escalate(&sup, room_a, Some(1), "", false).await.unwrap();

    let y = &s.report(&ctx(m, Role::Analyst), &Period::year(fy(2026)), 14).await.unwrap()[0];
    let c = &y.chat;
    assert_eq!((c.rooms_opened, c.parents, c.parent_messages, c.supporter_messages), (2, 2, 3, 1));
    let mut answers = c.first_answers.clone();
    answers.sort();
    // Room a: asked at 01:00, answered at 01:30; room b: not yet.
    assert_eq!(answers, vec![None, Some(1_800)]);
    assert_eq!((c.escalations_open, c.escalations_closed), (1, [0; 4]));
    let t = year_tables(y).unwrap().into_iter().find(|t| t.kind == TableKind::ChatFigures).unwrap();
    let p = suppress(&t, &ReportSettings::default().suppression);
    assert!(
        p.cells[0].iter().all(|c| *c == Shown::Suppressed || matches!(c, Shown::Count(0) | Shown::Rate(None))),
        "every small chat figure is held back: {:?}",
        p.cells[0]
    );
    // Another year, another municipality: nothing.
    let before = &s.report(&ctx(m, Role::Analyst), &Period::year(fy(2025)), 14).await.unwrap()[0];
    assert_eq!(before.chat, tsunagu_domain::reports::build::ChatYear::default());
    let (other, _, _) = town(&s, "082350").await;
    let theirs = &s.report(&ctx(other, Role::Analyst), &Period::year(fy(2026)), 14).await.unwrap()[0];
    assert_eq!(theirs.chat, tsunagu_domain::reports::build::ChatYear::default());
    finish(s, db).await;
}

on_both! {
    chat_figures_by_year => story_chat_figures_by_year,
    the_published_fy2022_figures_come_back_through_the_report => story_the_published_fy2022_figures_come_back_through_the_report,
    settings_round_trip_per_municipality => story_settings_round_trip_per_municipality,
    screening_referral_and_notification_counts => story_screening_referral_and_notification_counts,
    contacts_meetings_and_consultations_by_year => story_contacts_meetings_and_consultations_by_year,
    class_participation_per_venue_by_year => story_class_participation_per_venue_by_year,
}
