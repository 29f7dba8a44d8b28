//! The one integration-test binary. Every storage test runs against a
//! fresh SQLite file and a fresh PostgreSQL database (the suite fails, not
//! skips, when PostgreSQL is unreachable); page tests drive headless Chromium.

// A test may panic: unwrap and expect are how it fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api;
mod browser;
mod pages;
mod store;
mod support;
