//! The one integration-test binary. Every storage test runs against a
//! fresh SQLite file and a fresh PostgreSQL database (the suite fails, not
//! skips, when PostgreSQL is unreachable); page tests drive headless Chromium.

// A test may panic: unwrap and expect are how it fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// Runs each story once on SQLite and once on PostgreSQL, as
/// `story_name::sqlite` and `story_name::postgres`.
macro_rules! on_both {
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
mod browser;
mod care;
mod meetings;
mod pages;
mod postpartum;
mod screening;
mod security_audit;
mod store;
mod support;
mod timeline;
