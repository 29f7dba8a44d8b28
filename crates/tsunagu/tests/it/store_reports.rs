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
use tsunagu_domain::{MunicipalityId, VenueId};
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
async fn hand_built_use(db: &TestDb, m: MunicipalityId, areas: &[i64], uses: &[(usize, VenueId, &str, usize)]) {
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
    };
    s.set_report_settings(m, &settings).await.unwrap();
    assert_eq!(s.report_settings(m).await.unwrap(), settings);
    settings.follow_up_days = 10;
    s.set_report_settings(m, &settings).await.unwrap();
    assert_eq!(s.report_settings(m).await.unwrap().follow_up_days, 10);
    assert_eq!(s.report_settings(other).await.unwrap(), ReportSettings::default());
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

on_both! {
    the_published_fy2022_figures_come_back_through_the_report => story_the_published_fy2022_figures_come_back_through_the_report,
    settings_round_trip_per_municipality => story_settings_round_trip_per_municipality,
    screening_referral_and_notification_counts => story_screening_referral_and_notification_counts,
}
