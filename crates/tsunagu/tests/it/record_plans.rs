//! Opening a family's record reads by the family, never by its city (#16).
//! Each statement names its municipality (#15); SQLite, with no statistics,
//! then took an index that starts with the municipality whenever it also
//! gave the statement's order — `pregnancies_edd` for a family's
//! pregnancies in EDD order — and read every pregnancy of the city to find
//! a family's two or three: seconds a record at 300,000 families
//! (BENCHMARKS.md). The statements say `+municipality_id` where that is so.
//! The plans are printed (`cargo test -p tsunagu --test it record_plans -- --nocapture`).

use crate::privacy::family_with_a_stay;
use crate::report_plans::{explain_shown, scans_a_table};
use crate::statements::{install, record, recorded};
use crate::support::*;

/// The tables of a record, one row per family or a few.
const RECORD_TABLES: &[&str] = &["families", "people", "pregnancies", "babies", "contacts"];

/// A SQLite plan step that reads an index by the municipality alone, that is
/// every row of the city.
fn reads_the_city(plan: &[String]) -> bool {
    plan.iter().any(|s| s.ends_with("(municipality_id=?)"))
}

async fn story_a_family_record_is_read_by_the_family(backend: Backend) {
    install();
    let app = TestApp::start(backend).await;
    let f = family_with_a_stay(&app).await;
    let path = format!("/api/v1/families/{}", f.family.0);
    record(&app);
    assert_eq!(app.get(&f.nurse, &path).await.0, 200, "{path}");
    // A SQLite worker reports a statement as it lets go of it.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    // A query may hold more than one statement (SQLite's record is one
    // query of two): each is explained on its own.
    let reads: Vec<String> = recorded(&app)
        .iter()
        .flat_map(|q| q.split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect::<Vec<_>>())
        .filter(|s| {
            let lower = s.to_lowercase();
            lower.trim_start().starts_with("select")
                && RECORD_TABLES.iter().any(|t| lower.contains(&format!("from {t}")))
        })
        .collect();
    assert!(reads.iter().any(|s| s.contains("pregnancies")), "the record reads its pregnancies: {reads:#?}");
    for sql in &reads {
        let plan = explain_shown(&app, backend, &format!("{backend:?}"), sql).await;
        assert!(!scans_a_table(backend, &plan), "a record's read scans a table ({backend:?}): {sql}\n{plan:#?}");
        if backend == Backend::Sqlite {
            assert!(!reads_the_city(&plan), "a record's read reads the whole city: {sql}\n{plan:#?}");
        }
    }
}

on_both! {
    a_family_record_is_read_by_the_family => story_a_family_record_is_read_by_the_family,
}
