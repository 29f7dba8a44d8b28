//! Versioned migrations. Each back end embeds its own (`MIGRATIONS` in its
//! crate, one line per migration, the SQL taken in with `include_str!`) and
//! applies them with sqlx's own migrator (`sqlx::migrate::Migrator`), built
//! at run time from that list — not with the `migrate!` macro, which would
//! bring sqlx's macro crate into the build. sqlx records each migration in
//! `_sqlx_migrations` with the SHA-384 of its SQL, runs each one in a
//! transaction, and refuses to start when a recorded migration's SQL has
//! changed.
//!
//! What needs no sqlx lives here: what a migration is, and the takeover of a
//! database migrated by the runner we had before sqlx's (its table
//! `schema_migrations`, the hex SHA-256 of each migration's SQL): what it
//! recorded is checked against the embedded migrations, then recorded again
//! in sqlx's table.

use sha2::{Digest, Sha256};

/// One embedded migration: its version (the number its file starts with),
/// its name and its SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    /// What the old runner recorded for this migration: the hex SHA-256 of
    /// its SQL.
    pub fn old_runner_checksum(&self) -> String {
        hex::encode(Sha256::digest(self.sql.as_bytes()))
    }
}

/// Why a database's migrations do not agree with this build's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MigrationError {
    /// Applied with other SQL: the migration was edited after it was released.
    #[error(
        "migration {version} was changed after it was applied: a released migration is never edited, add a new one"
    )]
    Changed { version: i64 },
    /// The old runner's table names a migration this build does not have.
    #[error("the old migration table records migration {version}, which this build does not have")]
    Unknown { version: i64 },
}

/// The migrations a database made by the old runner has applied, given the
/// rows of its table (version, checksum): each must be one of `registered`
/// with the same SQL. Answered in the order of `registered`.
pub fn take_over<'a>(
    registered: &'a [Migration],
    recorded: &[(i64, String)],
) -> Result<Vec<&'a Migration>, MigrationError> {
    for (version, checksum) in recorded {
        match registered.iter().find(|m| m.version == *version) {
            None => return Err(MigrationError::Unknown { version: *version }),
            Some(m) if m.old_runner_checksum() != *checksum => {
                return Err(MigrationError::Changed { version: *version })
            }
            Some(_) => {}
        }
    }
    Ok(registered.iter().filter(|m| recorded.iter().any(|(v, _)| *v == m.version)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &[Migration] = &[
        Migration { version: 1, name: "one", sql: "CREATE TABLE a (x INTEGER);" },
        Migration { version: 2, name: "two", sql: "CREATE TABLE b (x INTEGER);" },
        Migration { version: 5, name: "five", sql: "CREATE TABLE c (x INTEGER);" },
    ];

    fn row(m: &Migration) -> (i64, String) {
        (m.version, m.old_runner_checksum())
    }

    #[test]
    fn the_old_checksum_is_the_hex_sha256_of_the_sql() {
        let m = Migration { version: 1, name: "x", sql: "abc" };
        assert_eq!(m.old_runner_checksum(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn what_the_old_runner_applied_is_taken_over_in_list_order() {
        let got = take_over(LIST, &[row(&LIST[2]), row(&LIST[0])]).unwrap();
        assert_eq!(got.iter().map(|m| m.version).collect::<Vec<_>>(), [1, 5]);
        assert!(take_over(LIST, &[]).unwrap().is_empty());
    }

    #[test]
    fn an_edited_or_unknown_migration_is_not_taken_over() {
        assert_eq!(
            take_over(LIST, &[row(&LIST[0]), (2, "edited".into())]),
            Err(MigrationError::Changed { version: 2 })
        );
        assert_eq!(take_over(LIST, &[row(&LIST[0]), (3, "x".into())]), Err(MigrationError::Unknown { version: 3 }));
        assert!(MigrationError::Changed { version: 2 }.to_string().starts_with("migration 2 was changed"));
    }
}
