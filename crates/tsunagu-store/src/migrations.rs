//! Versioned migrations, embedded in each back end's crate. A small runner
//! of our own (shared here) keeps `sqlx`'s macro crate out of the build:
//! each migration is a version, a name and its SQL; the SHA-256 of the SQL
//! is recorded when it is applied, and a changed migration stops start-up.

use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    pub fn checksum(&self) -> String {
        hex::encode(Sha256::digest(self.sql.as_bytes()))
    }
}

/// What to do with one migration given what the database says was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Apply,
    AlreadyApplied,
    /// Applied with other SQL: the migration file was edited after release.
    Changed {
        version: i64,
    },
}

pub fn plan(m: &Migration, applied_checksum: Option<&str>) -> Step {
    match applied_checksum {
        None => Step::Apply,
        Some(c) if c == m.checksum() => Step::AlreadyApplied,
        Some(_) => Step::Changed { version: m.version },
    }
}
