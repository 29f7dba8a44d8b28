//! The one integration-test binary. Every storage test runs against a
//! fresh SQLite file and a fresh PostgreSQL database (the suite fails, not
//! skips, when PostgreSQL is unreachable); page tests drive headless Chromium.

// A test may panic: unwrap and expect are how it fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// Runs each story once on SQLite and once on PostgreSQL, as
/// `story_name::sqlite` and `story_name::postgres`.
/// `on_both!(multi_thread: …)` runs them on four worker threads, for
/// stories that race.
macro_rules! on_both {
    (multi_thread: $($name:ident => $story:ident),* $(,)?) => {$(
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() { $story(Backend::Sqlite).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() { $story(Backend::Postgres).await }
        }
    )*};
    ($($name:ident => $story:ident),* $(,)?) => {$(
        mod $name {
            use super::*;
            #[tokio::test]
            async fn sqlite() { $story(Backend::Sqlite).await }
            #[tokio::test]
            async fn postgres() { $story(Backend::Postgres).await }
        }
    )*};
}

mod api;
mod audit_lines;
mod audit_page;
mod browser;
mod browser_chat;
mod browser_classes;
mod browser_family;
mod browser_offline;
mod browser_push;
mod browser_reminders;
mod browser_reports;
mod browser_reports_demo;
mod browser_staff;
mod care;
mod chat;
mod chat_checklist;
mod chat_line;
mod chat_notices;
mod chat_sessions;
mod chat_statements;
mod classes;
mod classes_local;
mod classes_manage;
mod classes_programmes;
mod classes_schedule;
mod classes_staff;
mod crash_classes;
mod family;
mod family_next;
mod faults;
mod form_banners;
mod form_ids;
mod group_commit;
mod import_csv;
mod meetings;
mod observability;
mod openapi;
mod ops;
mod pages;
mod postpartum;
mod privacy;
mod record_plans;
mod reminders;
mod reminders_contacts;
mod reminders_push;
mod report_plans;
mod reports;
mod reports_nation;
mod reports_printed;
mod screening;
mod search_plans;
mod security_audit;
mod security_auth;
mod security_edge;
mod shard_ready;
mod staff;
mod statements;
mod stay_days;
mod store;
mod store_accounts;
mod store_audit;
mod store_bulk;
mod store_care;
mod store_chat;
mod store_chat_batch;
mod store_class_staff;
mod store_classes;
mod store_local_places;
mod store_migrations;
mod store_ops;
mod store_places;
mod store_postpartum;
mod store_privacy;
mod store_push;
mod store_records;
mod store_reports;
mod store_reports_nation;
mod store_screening;
mod store_support;
mod store_timeline;
mod support;
mod timeline;
mod two_nodes;
mod upgrade;
