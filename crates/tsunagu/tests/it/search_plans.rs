//! How a nurse's two busiest reads read (#16): the kana search and the work
//! list (each of its lists, and the counts beside the chips). Each statement
//! must read a range of an index that starts with the municipality — never a
//! whole table — and the kana search must read its index *in the order it
//! answers*, so that it stops after its page (`LIMIT`) however many people
//! share the name's first sounds: no sort of all the matches. So must the
//! missed list's page (its contacts in due order, migration 0030). The plans are
//! printed (`cargo test -p tsunagu --test it search_plans -- --nocapture`),
//! and the 1M-family plans with their timings are in BENCHMARKS.md.
//!
//! PostgreSQL is asked for the generic plan with sequential scans priced out,
//! as in `report_plans`, so that the tiny test database shows the plan the
//! statement would have where scanning is not cheaper than an index.

use crate::report_plans::{explain_shown, scans_a_table};
use crate::statements::{install, record, recorded};
use crate::support::*;
use tsunagu_domain::roles::Role;

/// The statements of one request that read `table`.
async fn statements_of(app: &TestApp, token: &str, path: &str, table: &str) -> Vec<String> {
    record(app);
    assert_eq!(app.get(token, path).await.0, 200, "{path}");
    // A SQLite worker reports a statement as it lets go of it.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let needle = format!("from {table}");
    recorded(app)
        .into_iter()
        .filter(|s| {
            let lower = s.to_lowercase();
            lower.trim_start().starts_with("select") && lower.contains(&needle)
        })
        .collect()
}

/// A step of `plan` that sorts rows the index did not give in order.
fn sorts(backend: Backend, plan: &[String]) -> bool {
    match backend {
        Backend::Sqlite => plan.iter().any(|s| s.contains("USE TEMP B-TREE FOR ORDER BY")),
        // An incremental sort of rows that come in the index's order of the
        // leading keys still stops early; a full sort does not.
        Backend::Postgres => plan.iter().any(|s| s.trim_start().trim_start_matches("->  ").starts_with("Sort ")),
    }
}

/// Whether a page's statement reads its page in the index's order: on
/// PostgreSQL the first `Limit` (the page's; a subplan's comes after it) is
/// fed by an index scan, not a sort or an incremental sort; on SQLite the only
/// temporary B-tree is the last one, which orders the page's own 50 rows
/// once they are joined back (the statement's outer `ORDER BY`).
fn sorts_of_the_page_rows_only(backend: Backend, plan: &[String]) -> bool {
    let node = |s: &String| s.trim_start().trim_start_matches("->  ").to_owned();
    match backend {
        Backend::Sqlite => plan.iter().filter(|s| s.contains("USE TEMP B-TREE FOR")).count() <= 1,
        Backend::Postgres => {
            let under_limit = plan.iter().skip_while(|s| !node(s).starts_with("Limit")).nth(1);
            under_limit.is_some_and(|s| node(s).starts_with("Index"))
        }
    }
}

async fn show(app: &TestApp, backend: Backend, what: &str, sql: &str) -> Vec<String> {
    let plan = explain_shown(app, backend, &format!("{backend:?} {what}"), sql).await;
    assert!(sql.contains("municipality_id"), "bounded by a municipality: {sql}");
    assert!(!scans_a_table(backend, &plan), "{what} scans a table ({backend:?}): {sql}\n{plan:#?}");
    plan
}

async fn story_kana_search_and_work_list_read_index_ranges(backend: Backend) {
    install();
    let app = TestApp::start(backend).await;
    let fx = &app.fx;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;

    // Kana search: family-name matches, then given-name matches, each an
    // index range read in order and stopped at the page.
    let search = "/api/v1/families?q=%E3%82%B5%E3%83%88%E3%82%A6&limit=50"; // サトウ
    let texts = statements_of(&app, &nurse, search, "people").await;
    assert!(!texts.is_empty(), "the search reads people");
    for sql in &texts {
        let plan = show(&app, backend, "kana search", sql).await;
        assert!(!sorts(backend, &plan), "the kana search sorts its matches ({backend:?}): {sql}\n{plan:#?}");
    }

    // The work list: each list's page and the counts of every list.
    for list in ["overdue", "due_this_week", "missed", "check_non_attendees"] {
        for whose in ["mine", "all"] {
            let path = format!("/api/v1/worklist?list={list}&whose={whose}");
            let texts = statements_of(&app, &nurse, &path, "contacts").await;
            assert!(!texts.is_empty(), "{path} reads contacts");
            for sql in &texts {
                let plan = show(&app, backend, &format!("work list {list} ({whose})"), sql).await;
                // The missed page reads its contacts in due order and stops
                // at the page (migration 0030), instead of sorting every
                // missed contact of the municipality by due.
                // (On the empty test database PostgreSQL may take the
                // municipality-wide one for a nurse's own list too: both
                // give the page's order.)
                // So must the due lists' pages (migration 0036): at 10M
                // families the first day of "due this week" alone held
                // ~45,000 contacts, all read and sorted for a page of 50.
                if ["overdue", "due_this_week"].contains(&list) && sql.contains("ORDER BY c.due, c.id LIMIT") {
                    assert!(
                        sorts_of_the_page_rows_only(backend, &plan),
                        "the {list} page reads its contacts in due order ({backend:?}): {sql}\n{plan:#?}"
                    );
                }
                if list == "missed" && sql.contains("LIMIT") {
                    assert!(
                        plan.iter().any(|s| s.contains("contacts_owner_missed") || s.contains("contacts_missed")),
                        "the missed page reads its contacts in due order ({backend:?}): {sql}\n{plan:#?}"
                    );
                }
            }
        }
    }
}

on_both! {
    kana_search_and_work_list_read_index_ranges => story_kana_search_and_work_list_read_index_ranges,
}
