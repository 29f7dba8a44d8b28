use super::*;
use crate::i18n::Lang;
use crate::reports::{Loaded, LoadedYear};
use calamine::{Data, Reader, Xlsx};
use std::io::Cursor;
use tsunagu_domain::fiscal::FiscalYear;
use tsunagu_domain::reports::build::{year_tables, AreaCount, FacilityUse, YearAggregates};
use tsunagu_domain::reports::suppression::suppress;
use tsunagu_domain::reports::{Period, ReportSettings};
use tsunagu_domain::timeline::ContactForm;

#[test]
fn crc32_of_the_check_string() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    assert_eq!(crc32(b""), 0);
}

#[test]
fn column_names_and_serial_dates() {
    assert_eq!(column_name(0), "A");
    assert_eq!(column_name(25), "Z");
    assert_eq!(column_name(26), "AA");
    assert_eq!(column_name(27), "AB");
    assert_eq!(serial(jiff::civil::date(1900, 3, 1)), 61);
    assert_eq!(serial(jiff::civil::date(2022, 4, 1)), 44_652);
    assert_eq!(sheet_name("a[b]:c*d?e/f\\g", &[]), "abcdefg");
    assert_eq!(sheet_name("x", &["x".to_owned()]), "x (2)");
    assert_eq!(sheet_name(&"長".repeat(40), &[]).chars().count(), 31);
}

/// [001] 令和4年度 with a small facility and [002]'s interview counts.
pub(crate) fn fy2022() -> Loaded {
    let fy = FiscalYear::new(2022).unwrap();
    let facility = |id, ja: &str, ss, dc, families, offered| FacilityUse {
        venue_id: id,
        name_ja: ja.into(),
        name_en: ja.into(),
        short_stay_days: ss,
        day_care_days: dc,
        outreach_visits: 0,
        families,
        offered_places: Some(offered),
        places_per_day: 15,
    };
    let areas = [("世田谷", 353), ("北沢", 140), ("玉川", 256), ("砧", 145), ("烏山", 95)]
        .iter()
        .enumerate()
        .map(|(i, (n, c))| AreaCount { area_id: i as i64, name_ja: (*n).into(), name_en: (*n).into(), families: *c })
        .collect();
    let a = YearAggregates {
        fiscal_year: fy,
        facilities: vec![
            facility(1, "産後ケアセンター", 3_725, 706, 932, 5_430),
            facility(2, "小さな施設", 0, 6, 4, 585),
        ],
        areas,
        follow_ups: 94,
        eighth_month: vec![(ContactForm::Group, 117), (ContactForm::Individual, 167), (ContactForm::HomeVisit, 5)],
        happy_baby: vec![
            (ContactForm::HomeVisit, 154),
            (ContactForm::SupportRoomVisit, 129),
            (ContactForm::AtHealthCheck, 6),
        ],
        handbook_meetings: 12,
        group_sessions: 3,
        check_non_attendees: 40,
        check_resolved: 38,
        screening: vec![],
        follow_up_days: 14,
        referrals: vec![],
        notifications: 1_200,
        notifications_with_questionnaire: 1_190,
        classes: vec![],
        chat: Default::default(),
        chat_answer_hours: 24,
    };
    let settings = ReportSettings::default();
    let mut tables: Vec<_> = year_tables(&a).unwrap().iter().map(|t| suppress(t, &settings.suppression)).collect();
    tables.push(suppress(&tsunagu_domain::reports::indicators::table(&a).unwrap(), &settings.suppression));
    Loaded {
        period: Period::year(fy),
        unsuppressed: false,
        settings,
        years: vec![LoadedYear { fiscal_year: fy, tables, reconciliations: vec![], districts: vec![] }],
        across: None,
    }
}

/// The workbook, read back by calamine, holds the page's numbers: each
/// count a number, each rate a fraction, each held-back cell `*`.
#[test]
fn an_independent_reader_finds_the_numbers_of_the_page() {
    let view = crate::reports::ReportView::of(Lang::Ja, &fy2022());
    let made = jiff::civil::date(2026, 12, 5);
    let bytes = workbook(&view, "作成日", made);
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
    let expected = sheets(&view);
    assert_eq!(book.sheet_names(), expected.iter().map(|(n, _, _)| n.clone()).collect::<Vec<_>>());
    let mut numbers = 0;
    let mut held = 0;
    for (name, heading, table) in &expected {
        let range = book.worksheet_range(name).unwrap();
        assert_eq!(range.get_value((0, 0)), Some(&Data::String(table.title.clone())), "{name}");
        assert_eq!(range.get_value((1, 0)), Some(&Data::String(heading.clone())));
        assert!(heading.contains("令和4年度") && heading.contains("FY2022"));
        match range.get_value((2, 1)) {
            Some(Data::DateTime(d)) => assert_eq!(d.as_f64(), 46_361.0),
            other => panic!("the day it was made is a typed date, not {other:?}"),
        }
        assert_eq!(range.get_value((2, 2)), Some(&Data::String("令和8年12月5日".into())));
        for (j, h) in table.columns.iter().enumerate() {
            assert_eq!(range.get_value((4, j as u32)), Some(&Data::String(h.clone())));
        }
        for (i, row) in table.rows.iter().enumerate() {
            let r = (i + 5) as u32;
            assert_eq!(range.get_value((r, 0)), Some(&Data::String(row.label.clone())));
            for (j, cell) in row.cells.iter().enumerate() {
                let got = range.get_value((r, (j + 1) as u32));
                if cell.suppressed {
                    assert_eq!(got, Some(&Data::String("*".into())), "{name} {i} {j}");
                    held += 1;
                } else if let Some(v) = cell.value {
                    let want = if cell.rate { v as f64 / 1000.0 } else { v as f64 };
                    match got {
                        Some(Data::Float(f)) => assert!((f - want).abs() < 1e-9, "{name} {i} {j}: {f} ≠ {want}"),
                        Some(Data::Int(n)) => assert_eq!(*n as f64, want),
                        other => panic!("{name} {i} {j}: a number was wanted, not {other:?}"),
                    }
                    numbers += 1;
                }
            }
        }
    }
    assert!(numbers > 20 && held > 0, "{numbers} numbers, {held} held back");
    // The centre's FY2022 row as [001] prints it.
    let use_table = &view.years[0].tables[0];
    let centre: Vec<&str> = use_table.rows[0].cells.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(&centre[..4], &["3,725", "706", "4,431", "932"]);
}
