//! Storage stories about the nation-wide report (#14): one statement per
//! table over every municipality (`GROUP BY municipality_id`) counts what
//! each municipality's own report counts, and reading it writes one line,
//! in the reader's municipality. Both databases (`on_both!`).

use crate::store_reports::hand_built_use;
use crate::store_support::*;
use crate::support::Backend;
use tsunagu_domain::fiscal::FiscalYear;
use tsunagu_domain::postpartum::calendar::FacilityCalendar;
use tsunagu_domain::reports::build::year_tables;
use tsunagu_domain::reports::nation::{nation_year, MunicipalityYear};
use tsunagu_domain::reports::suppression::suppress;
use tsunagu_domain::reports::table::TableKind;
use tsunagu_domain::reports::Period;
use tsunagu_domain::roles::Role;
use tsunagu_domain::VenueId;
use tsunagu_store::NewScreening;

fn fy(y: i32) -> FiscalYear {
    FiscalYear::new(y).unwrap()
}

async fn story_the_nation_counts_what_each_municipality_counts(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, south) = town(&s, "131121").await;
    let (other, other_north, _) = town(&s, "082350").await;
    let (quiet, _, _) = town(&s, "011002").await;
    // FY2022: used days at two facilities of `m`, one of `other`.
    let centre = facility(&s, m, "センター", &FacilityCalendar::setagaya_centre()).await;
    let room = facility(&s, m, "ルーム", &FacilityCalendar::setagaya_mamas_room()).await;
    let theirs = facility(&s, other, "施設", &FacilityCalendar::setagaya_centre()).await;
    let mut uses: Vec<(usize, VenueId, &str, usize)> = Vec::new();
    for k in 0..14 {
        uses.push((k, centre, "short_stay", 5));
    }
    for k in 14..17 {
        uses.push((k, room, "day_care", 2));
    }
    hand_built_use(&db, m, &[north.0; 17], &uses).await;
    hand_built_use(&db, other, &[other_north.0; 4], &[(0, theirs, "day_care", 3), (3, theirs, "short_stay", 6)]).await;
    // FY2026: notifications and screenings in both.
    let def = tsunagu_domain::screening::defs::epds();
    let positive = |f, p| {
        let mut answers = tsunagu_domain::screening::Answers::to(&def, &[]);
        for item in &def.items {
            let code = item.options.iter().max_by_key(|o| o.score).unwrap().code.clone();
            answers.answers.insert(item.id.clone(), code);
        }
        NewScreening::score(&def, f, Some(p), answers).unwrap()
    };
    for (town_id, area, n) in [(m, south, 3), (other, other_north, 1)] {
        for i in 0..n {
            let f = family(&s, town_id, area, ["ハナコ", "ミカ", "ユキ"][i]).await;
            let p = s.open_family(&ctx(town_id, Role::Nurse), f).await.unwrap().unwrap().pregnancies[0].id;
            let nurse = as_staff(town_id, Role::Nurse, 21, "2026-11-22T03:00:00Z");
            s.record_screening(&nurse, &positive(f, p)).await.unwrap();
        }
    }

    let all = [m, other, quiet];
    for year in [fy(2022), fy(2026)] {
        let nation = s.nation_year_counts(&all, year.range(), 14).await.unwrap();
        for id in all {
            let own = s.year_counts(id, year.range(), 14).await.unwrap();
            let mut got = nation.iter().find(|(n, _)| *n == id).map(|(_, c)| c.clone()).unwrap_or_default();
            // The nation's statements do not count the chat's figures.
            got.chat = own.chat.clone();
            let sorted = |mut c: tsunagu_store::YearCounts| {
                c.postpartum.sort_by_key(|u| u.venue);
                c.eighth_month.sort_by_key(|(f, _)| format!("{f:?}"));
                c.happy_baby.sort_by_key(|(f, _)| format!("{f:?}"));
                c.screening.sort_by(|a, b| a.questionnaire.cmp(&b.questionnaire));
                c.referrals.sort_by_key(|r| format!("{:?}", r.source));
                c
            };
            assert_eq!(sorted(got), sorted(own), "{year:?} municipality {id:?}");
        }
        // Bounded by the municipalities asked for.
        let only = s.nation_year_counts(&[quiet], year.range(), 14).await.unwrap();
        assert!(only.iter().all(|(n, _)| *n == quiet));
    }

    // The report: every municipality, one line in the reader's municipality.
    let before = lines_of(&s, m, "report.nation_view").await.len();
    let parts = s.nation_report(&ctx(m, Role::Analyst), fy(2022), 14).await.unwrap();
    assert_eq!(lines_of(&s, m, "report.nation_view").await.len(), before + 1);
    assert_eq!(last_line(&s, m).await, line("report.nation_view", None, "fy=FY2022 municipalities=3"));
    assert!(lines_of(&s, other, "report.nation_view").await.is_empty());
    assert_eq!(parts.len(), 3);
    let own = s.report(&ctx(m, Role::Analyst), &Period::year(fy(2022)), 14).await.unwrap();
    let mine = parts.iter().find(|p| p.municipality.id == m).unwrap();
    assert_eq!(mine.aggregates.facilities, own[0].facilities);
    assert_eq!(mine.aggregates.follow_ups, own[0].follow_ups);

    // Through the domain: each municipality's row as its own report shows it.
    let years: Vec<MunicipalityYear> = parts
        .iter()
        .map(|p| MunicipalityYear {
            name_ja: p.municipality.name_ja.clone(),
            name_en: p.municipality.name_en.clone(),
            settings: p.settings.suppression,
            aggregates: p.aggregates.clone(),
        })
        .collect();
    let n = nation_year(fy(2022), &years).unwrap();
    let table = n.tables.iter().find(|t| t.kind == TableKind::PostpartumUse).unwrap();
    let own_table = year_tables(&own[0]).unwrap().into_iter().find(|t| t.kind == TableKind::PostpartumUse).unwrap();
    let own_published = suppress(&own_table, &mine.settings.suppression);
    let i = parts.iter().position(|p| p.municipality.id == m).unwrap();
    assert_eq!(table.cells[i], *own_published.cells.last().unwrap());
    assert_eq!(table.rows.len(), 4);
    finish(s, db).await;
}

on_both! {
    the_nation_counts_what_each_municipality_counts => story_the_nation_counts_what_each_municipality_counts,
}

/// The figures a city printed (#14, reconciliation): a year's rows replaced
/// at once with one `report.printed` line; a facility or district of
/// another municipality refused, nothing stored.
async fn story_printed_figures_round_trip(backend: Backend) {
    use tsunagu_domain::reports::printed::{PrintedArea, PrintedYear};
    use tsunagu_domain::reports::reconcile::PrintedFigures;
    let (s, db) = fresh(backend).await;
    let (m, north, south) = town(&s, "131121").await;
    let (other, other_north, _) = town(&s, "082350").await;
    let centre = facility(&s, m, "センター", &FacilityCalendar::setagaya_centre()).await;
    let theirs = facility(&s, other, "施設", &FacilityCalendar::setagaya_centre()).await;
    let figures = |venue: VenueId, fiscal_year, ss| PrintedFigures {
        venue_id: venue.0,
        fiscal_year,
        short_stay_days: ss,
        day_care_days: 706,
        families: 932,
        occupancy_tenths: Some(824),
    };
    let year = PrintedYear {
        fiscal_year: 2022,
        facilities: vec![figures(centre, 2022, 3_725)],
        areas: vec![
            PrintedArea { area_id: north.0, fiscal_year: 2022, families: 353 },
            PrintedArea { area_id: south.0, fiscal_year: 2022, families: 140 },
        ],
    };
    let admin = ctx(m, Role::Admin);
    s.set_printed_year(&admin, &year).await.unwrap();
    let other_year = PrintedYear { fiscal_year: 2021, facilities: vec![figures(centre, 2021, 3_683)], areas: vec![] };
    s.set_printed_year(&admin, &other_year).await.unwrap();
    let (f, a) = s.printed_figures(m).await.unwrap();
    assert_eq!(f, vec![figures(centre, 2021, 3_683), figures(centre, 2022, 3_725)]);
    assert_eq!(a, year.areas);
    assert_eq!(last_line(&s, m).await, line("report.printed", None, "fy=2021 facilities=1 areas=0"));
    // Replaced as a whole: the districts left out are gone.
    let again = PrintedYear { areas: vec![], ..year.clone() };
    s.set_printed_year(&admin, &again).await.unwrap();
    assert!(s.printed_figures(m).await.unwrap().1.is_empty());
    assert_eq!(lines_of(&s, m, "report.printed").await.len(), 3);
    // Another municipality's facility or district: refused, nothing changed.
    for bad in [
        PrintedYear { facilities: vec![figures(theirs, 2022, 1)], ..year.clone() },
        PrintedYear {
            facilities: vec![],
            areas: vec![PrintedArea { area_id: other_north.0, fiscal_year: 2022, families: 1 }],
            ..year.clone()
        },
    ] {
        assert!(matches!(s.set_printed_year(&admin, &bad).await, Err(tsunagu_store::StoreError::NotFound)));
    }
    assert_eq!(s.printed_figures(m).await.unwrap().0, vec![figures(centre, 2021, 3_683), figures(centre, 2022, 3_725)]);
    assert_eq!(lines_of(&s, m, "report.printed").await.len(), 3);
    assert!(s.printed_figures(other).await.unwrap().0.is_empty());
    finish(s, db).await;
}

on_both! {
    printed_figures_round_trip => story_printed_figures_round_trip,
}
