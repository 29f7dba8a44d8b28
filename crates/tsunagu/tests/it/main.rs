//! The one integration-test binary. Every storage test runs against a
//! fresh SQLite file and a fresh PostgreSQL database (the suite fails, not
//! skips, when PostgreSQL is unreachable); page tests drive headless Chromium.

mod api;
mod browser;
mod store;
mod support;
