//! SQLite back end: the embedded default. One file, no server.
//!
//! Writes go through a pool of exactly one connection, so transactions in
//! this process never race for SQLite's single write lock; reads use a
//! separate pool and run concurrently under WAL.

use async_trait::async_trait;
use jiff::civil::{Date, DateTime, Time};
use jiff::Timestamp;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};
use std::str::FromStr;
use std::time::Duration;
use tsunagu_domain::audit::{AuditAction, AuditContext};
use tsunagu_domain::dates::DateRange;
use tsunagu_domain::policy::FamilyFilter;
use tsunagu_domain::{FamilyId, MunicipalityId, VenueId};
use tsunagu_store::migrations::Migration;
use tsunagu_store::{Result, StoreBackend, StoreError, StoreKeys};

pub const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "foundation", sql: include_str!("../migrations/0001_foundation.sql") },
    Migration { version: 2, name: "postpartum", sql: include_str!("../migrations/0002_postpartum.sql") },
    Migration {
        version: 3,
        name: "referrals_followups",
        sql: include_str!("../migrations/0003_referrals_followups.sql"),
    },
    Migration { version: 4, name: "timeline", sql: include_str!("../migrations/0004_timeline.sql") },
    Migration { version: 5, name: "screening", sql: include_str!("../migrations/0005_screening.sql") },
    Migration { version: 6, name: "meetings_groups", sql: include_str!("../migrations/0006_meetings_groups.sql") },
    Migration { version: 7, name: "signin_limits", sql: include_str!("../migrations/0007_signin_limits.sql") },
    Migration { version: 8, name: "audit_keyed", sql: include_str!("../migrations/0008_audit_keyed.sql") },
    Migration { version: 9, name: "family_privacy", sql: include_str!("../migrations/0009_family_privacy.sql") },
    Migration {
        version: 10,
        name: "postpartum_settings_use",
        sql: include_str!("../migrations/0010_postpartum_settings_use.sql"),
    },
    Migration { version: 11, name: "classes", sql: include_str!("../migrations/0011_classes.sql") },
    Migration { version: 12, name: "chat", sql: include_str!("../migrations/0012_chat.sql") },
    Migration { version: 13, name: "reports", sql: include_str!("../migrations/0013_reports.sql") },
    Migration { version: 14, name: "signin_pruned", sql: include_str!("../migrations/0014_signin_pruned.sql") },
    Migration { version: 15, name: "job_leases", sql: include_str!("../migrations/0015_job_leases.sql") },
    Migration { version: 16, name: "local_places", sql: include_str!("../migrations/0016_local_places.sql") },
    Migration { version: 18, name: "chat_line", sql: include_str!("../migrations/0018_chat_line.sql") },
    Migration { version: 20, name: "contact_dates", sql: include_str!("../migrations/0020_contact_dates.sql") },
    Migration { version: 22, name: "stay_day_records", sql: include_str!("../migrations/0022_stay_day_records.sql") },
    Migration { version: 23, name: "report_indexes", sql: include_str!("../migrations/0023_report_indexes.sql") },
    Migration {
        version: 24,
        name: "class_session_staff",
        sql: include_str!("../migrations/0024_class_session_staff.sql"),
    },
    Migration { version: 25, name: "reminders", sql: include_str!("../migrations/0025_reminders.sql") },
    Migration {
        version: 27,
        name: "report_nation_printed",
        sql: include_str!("../migrations/0027_report_nation_printed.sql"),
    },
    Migration { version: 29, name: "mother_kana", sql: include_str!("../migrations/0029_mother_kana.sql") },
    Migration { version: 30, name: "work_list_missed", sql: include_str!("../migrations/0030_work_list_missed.sql") },
    Migration { version: 31, name: "municipality_keys", sql: include_str!("../migrations/0031_municipality_keys.sql") },
    Migration {
        version: 32,
        name: "push_subscriptions",
        sql: include_str!("../migrations/0032_push_subscriptions.sql"),
    },
    Migration {
        version: 34,
        name: "bulk_dropped_indexes",
        sql: include_str!("../migrations/0034_bulk_dropped_indexes.sql"),
    },
    Migration { version: 35, name: "scale_lookups", sql: include_str!("../migrations/0035_scale_lookups.sql") },
    Migration { version: 36, name: "work_list_order", sql: include_str!("../migrations/0036_work_list_order.sql") },
    Migration { version: 37, name: "audit_guard_plan", sql: include_str!("../migrations/0037_audit_guard_plan.sql") },
    Migration { version: 38, name: "audit_append", sql: include_str!("../migrations/0038_audit_append.sql") },
    Migration { version: 39, name: "audit_advance", sql: include_str!("../migrations/0039_audit_advance.sql") },
    Migration { version: 40, name: "audit_append_one", sql: include_str!("../migrations/0040_audit_append_one.sql") },
    Migration {
        version: 41,
        name: "narrower_contact_indexes",
        sql: include_str!("../migrations/0041_narrower_contact_indexes.sql"),
    },
];

#[derive(Clone)]
pub struct SqliteStore {
    reader: SqlitePool,
    writer: SqlitePool,
    keys: StoreKeys,
    /// Reads' audit lines, committed together (#16).
    audit_batch: std::sync::Arc<tsunagu_store::group_commit::GroupCommit>,
    /// Chat messages, committed together (#13).
    post_batch: std::sync::Arc<chat::PostBatch>,
    /// The request path's readers, on the request's thread (#16).
    direct: std::sync::Arc<direct::DirectReaders>,
    /// The writer's connection for the audit lines' group commit (#16).
    direct_writer: std::sync::Arc<direct::DirectWriter>,
    /// A store opened "in memory" is a temporary file, removed with the
    /// last clone of the store (see `connect`).
    _temporary: Option<std::sync::Arc<TemporaryFile>>,
}

fn db_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(Box::new(e))
        }
        sqlx::Error::Database(ref d) if is_transient(d.code().as_deref()) => StoreError::Unavailable(Box::new(e)),
        other => StoreError::Other(Box::new(other)),
    }
}

/// SQLite result codes after which the same request may succeed later
/// (primary code, the low byte of an extended one): the file locked by
/// another process past the busy timeout (BUSY, LOCKED), the disk full
/// (FULL), an I/O error (IOERR), the file not openable (CANTOPEN).
fn is_transient(code: Option<&str>) -> bool {
    let Some(code) = code.and_then(|c| c.parse::<i32>().ok()) else { return false };
    matches!(code & 0xff, 5 | 6 | 10 | 13 | 14)
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

fn corrupt(what: &'static str) -> StoreError {
    StoreError::Other(format!("stored value cannot be read: {what}").into())
}

fn date(s: &str) -> Result<Date> {
    s.parse().map_err(|_| corrupt("date"))
}

fn opt_date(s: Option<String>) -> Result<Option<Date>> {
    s.as_deref().map(date).transpose()
}

fn ts(s: &str) -> Result<Timestamp> {
    s.parse().map_err(|_| corrupt("timestamp"))
}

/// Instants are kept to the microsecond, like PostgreSQL, so that an audit
/// line hashes the same on both back ends.
fn micros(t: Timestamp) -> Timestamp {
    Timestamp::from_microsecond(t.as_microsecond()).unwrap_or(t)
}

/// An instant as stored: UTC, always six fractional digits, so that text
/// order is time order (`…00.5Z` would otherwise sort before `…00Z`).
fn ts_text(t: Timestamp) -> String {
    jiff::fmt::temporal::DateTimePrinter::new().precision(Some(6)).timestamp_to_string(&micros(t))
}

impl SqliteStore {
    /// Opens (creating if missing) the database at an `sqlite://` URL, e.g.
    /// `sqlite://tsunagu.sqlite3` or `sqlite::memory:`, with the keys that
    /// link its audit lines and seal its TOTP secrets.
    pub async fn connect(url: &str, keys: StoreKeys) -> Result<Self> {
        // "In memory" is a temporary file, removed with the store (#16): the
        // request path's readers (`direct`) are connections of their own,
        // which an in-memory database (one connection's) cannot have, and
        // the store then works the one way it works on a file.
        let memory = url.contains(":memory:") || url.contains("mode=memory");
        let temporary = memory.then(TemporaryFile::new).transpose()?.map(std::sync::Arc::new);
        let opts = match &temporary {
            Some(t) => SqliteConnectOptions::new().filename(&t.0),
            None => SqliteConnectOptions::from_str(url).map_err(db_err)?,
        };
        let opts = opts
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            .synchronous(SqliteSynchronous::Normal)
            // The default page cache is 2 MB; a city's file grows to hundreds of
            // MB, and index pages re-read from the OS cost the hot paths
            // (BENCHMARKS.md). 32 MiB per connection; the file not mapped (`MMAP_BYTES`).
            .pragma("cache_size", "-32768")
            .pragma("mmap_size", MMAP_BYTES.to_string())
            .journal_mode(SqliteJournalMode::Wal);
        // The worker threads (one per connection) carry the file's name, so
        // what runs on them can be told apart when several databases are open
        // in one process (the test suite counts statements per database).
        let file = opts.get_filename().file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        let opts = opts.thread_name(move |id| format!("sqlx-sqlite-worker-{id} {file}"));
        // The single writer keeps its statement journals in memory (#16): a
        // multi-row insert (a bulk import's, a group commit's) journals each
        // page it changes so that the statement alone can be undone, and in a
        // temporary file that is a write and copy per page for nothing that
        // must outlive the statement.
        let writer_opts = opts.clone().pragma("temp_store", "memory");
        // No test of a connection as it is taken from a pool (#16): a SQLite
        // connection has no link to lose, and the pool still tests each one as
        // it is given back (a connection whose worker stopped is closed there).
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .test_before_acquire(false)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(Duration::from_secs(10))
            .after_release(|conn, _| Box::pin(async move { Ok(out_of_transaction(conn).await) }))
            .connect_with(writer_opts)
            .await
            .map_err(db_err)?;
        let reader = SqlitePoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts.clone().read_only(true))
            .await
            .map_err(db_err)?;
        // After the writer: the file exists, in WAL mode.
        let direct = std::sync::Arc::new(direct::DirectReaders::open(opts.get_filename())?);
        let direct_writer = std::sync::Arc::new(direct::DirectWriter::new(opts.get_filename()));
        // Both batchers write their turns on the writer thread (`group_commit`).
        Ok(Self {
            reader,
            writer,
            keys,
            audit_batch: std::sync::Arc::new(tsunagu_store::group_commit::GroupCommit::on_writer_thread()),
            post_batch: std::sync::Arc::new(chat::PostBatch::on_writer_thread()),
            direct,
            direct_writer,
            _temporary: temporary,
        })
    }
}

/// The file of a store opened "in memory", with its WAL and shared-memory
/// files: removed when dropped.
struct TemporaryFile(std::path::PathBuf);

impl TemporaryFile {
    fn new() -> Result<Self> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::UNIX_EPOCH.elapsed().map(|d| d.subsec_nanos()).unwrap_or_default();
        let name = format!("tsunagu-memory-{}-{n}-{nanos}.sqlite3", std::process::id());
        let path = std::env::temp_dir().join(name);
        Ok(Self(path))
    }
}

impl Drop for TemporaryFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut p = self.0.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Whether the writer, given back to its pool, is out of every transaction
/// (else the pool closes it, which rolls back what is open, and opens
/// another). A transaction whose COMMIT failed (the disk full, an I/O error)
/// is rolled back when dropped, after its connection is given back; if that
/// rollback fails too, sqlx still counts the transaction open, and the next
/// `begin` would nest a savepoint in it: every later write would be
/// answered as stored and never committed (tests/it/faults.rs found it).
async fn out_of_transaction(conn: &mut SqliteConnection) -> bool {
    use sqlx::{Connection, Database, TransactionManager};
    // Out of every transaction already (#16): nothing is queued that could
    // change it (a rollback is queued only inside one), so no need to wait
    // for the worker — the common case, a committed transaction.
    if <Sqlite as Database>::TransactionManager::get_transaction_depth(conn) == 0 {
        return true;
    }
    // Runs after the rollback the dropped transaction queued, so that the
    // depth read next is what is left once it ran.
    if conn.ping().await.is_err() {
        return false;
    }
    <Sqlite as Database>::TransactionManager::get_transaction_depth(conn) == 0
}

/// Whether row `id` of `table` (one of our own table names, never input)
/// belongs to municipality `m`.
async fn in_municipality(tx: &mut SqliteConnection, table: &'static str, id: i64, m: MunicipalityId) -> Result<bool> {
    let found: Option<i64> =
        sqlx::query_scalar(&format!("SELECT id FROM {table} WHERE id = ? AND municipality_id = ?"))
            .bind(id)
            .bind(m.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
    Ok(found.is_some())
}

/// A piece of a statement's text: words, or a value bound in its place.
enum Piece {
    Text(&'static str),
    Bind(i64),
}

/// The conditions on families (`f`) a listing's filter makes, as pieces, so
/// that either driver builds them (`push_filter` for sqlx, `direct_filter`).
fn filter_pieces(filter: &FamilyFilter) -> Vec<Piece> {
    let m = filter_municipality(filter);
    let mut out = vec![Piece::Text(" AND f.municipality_id = "), Piece::Bind(m.0)];
    match filter {
        FamilyFilter::Municipality(_) => {}
        FamilyFilter::ConsentingInAreas(_, areas) => {
            out.push(Piece::Text(" AND f.consent_coordinators = 1 AND f.area_id IN ("));
            for (i, a) in areas.iter().enumerate() {
                if i > 0 {
                    out.push(Piece::Text(", "));
                }
                out.push(Piece::Bind(a.0));
            }
            out.push(Piece::Text(")"));
        }
        FamilyFilter::Escalated(_) => out.push(Piece::Text(" AND f.escalated = 1")),
    }
    out
}

fn push_filter(qb: &mut QueryBuilder<'_, Sqlite>, filter: &FamilyFilter) {
    for piece in filter_pieces(filter) {
        match piece {
            Piece::Text(t) => qb.push(t),
            Piece::Bind(v) => qb.push_bind(v),
        };
    }
}

/// [`push_filter`] for SQLite's own binding: the text appended to `sql`,
/// its values to `values`.
fn direct_filter(sql: &mut String, values: &mut Vec<rusqlite::types::Value>, filter: &FamilyFilter) {
    for piece in filter_pieces(filter) {
        match piece {
            Piece::Text(t) => sql.push_str(t),
            Piece::Bind(v) => {
                sql.push('?');
                values.push(rusqlite::types::Value::Integer(v));
            }
        }
    }
}

fn filter_municipality(filter: &FamilyFilter) -> MunicipalityId {
    match filter {
        FamilyFilter::Municipality(m) | FamilyFilter::ConsentingInAreas(m, _) | FamilyFilter::Escalated(m) => *m,
    }
}

fn other_err(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Other(Box::new(e))
}

// --- civil date-times, facilities and names, shared by several capabilities -------

/// A civil date-time in Japan as stored: `YYYY-MM-DDTHH:MM:SS`, to the
/// second (what is finer is dropped), so that text order is time order.
fn civil_text(t: DateTime) -> String {
    format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", t.year(), t.month(), t.day(), t.hour(), t.minute(), t.second())
}

fn civil(s: &str) -> Result<DateTime> {
    s.parse().map_err(|_| corrupt("date-time"))
}

/// The first and last second of the days of `range`, as stored civil
/// date-times: `col BETWEEN first AND last` is "on one of those days".
fn civil_bounds(range: DateRange) -> (String, String) {
    (civil_text(range.first().to_datetime(Time::midnight())), civil_text(range.last().to_datetime(Time::MAX)))
}

/// Whether `venue` is a postpartum-care facility (a venue of that kind) of
/// municipality `m`.
async fn is_facility(tx: &mut SqliteConnection, venue: VenueId, m: MunicipalityId) -> Result<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM venues WHERE id = ? AND municipality_id = ? AND kind = 'postpartum_facility'",
    )
    .bind(venue.0)
    .bind(m.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?;
    Ok(found.is_some())
}

/// The mother's name ("family given") of the row's `family_id`, for staff lists.
macro_rules! mother_name_of {
    ($alias:literal) => {
        concat!(
            "COALESCE((SELECT p.family_name || ' ' || p.given_name FROM people p WHERE p.family_id = ",
            $alias,
            ".family_id AND p.relation = 'mother' ORDER BY p.id LIMIT 1), '') AS mother_name"
        )
    };
}

impl SqliteStore {
    /// A write transaction that holds SQLite's write lock from its first
    /// statement (`BEGIN IMMEDIATE`). A deferred transaction that reads and
    /// then writes fails with SQLITE_BUSY at the write when another
    /// connection (another process, or another store on the same file) has
    /// written since its read — the busy timeout cannot help there. Taking
    /// the lock at BEGIN waits on the busy timeout instead, and what the
    /// transaction reads cannot change before it commits.
    async fn begin_immediate(&self) -> Result<sqlx::Transaction<'static, Sqlite>> {
        self.writer.begin_with("BEGIN IMMEDIATE").await.map_err(db_err)
    }

    /// Writes a read's audit line, committed with the lines of other reads
    /// that arrive together (#16); returns once it is durable.
    async fn audit(
        &self,
        ctx: &AuditContext,
        action: AuditAction,
        family: Option<FamilyId>,
        detail: &str,
    ) -> Result<()> {
        self.audit_read(ctx, action, family, detail).await
    }
}

#[async_trait]
impl StoreBackend for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> Result<()> {
        self.migrate_with(MIGRATIONS).await?;
        // A large load that stopped before its end left indexes to rebuild (#16).
        crate::bulk::rebuild_dropped_indexes(self).await?;
        keys::seal_plaintext_totp(self).await
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await.map_err(db_err)?;
        Ok(())
    }
}

// After the macro above, which they use.
mod accounts;
mod audit;
pub mod backup;
mod bulk;
mod care;
mod chat;
mod classes;
mod direct;
mod keys;
mod line;
mod local_places;
mod meetings;
mod migrate;
mod ops;
mod postpartum;
mod push;
mod records;
mod reminders;
mod reports;
mod screening;
mod signin;
mod timeline;

#[cfg(test)]
mod tests;

/// A contact kind as an SQL literal, for a statement that compares
/// `contacts.kind` (#16). Bound as a parameter, the kind met the constant of
/// a partial index's predicate on the same column (`contacts_check_closes …
/// WHERE kind = '…'`, migration 0041), and SQLite then parses and plans the
/// statement again before every execution (measured: 17–18 µs against 5–6 µs
/// a call for one count; BENCHMARKS.md, 2026-12-07). The names are the
/// enum's own, never text a caller sent.
pub(crate) fn kind_sql(kind: tsunagu_domain::timeline::ContactKind) -> String {
    format!("'{}'", kind.as_str())
}

/// How much of the file a connection memory-maps (bytes; `connect`,
/// `direct`): none. In WAL mode a connection that finds the log changed
/// since its last transaction (every audited read appends a line) empties
/// its page cache and unmaps the whole file before it reads, then maps it
/// again page fault by page fault (a `munmap` with its TLB shoot-down on
/// every core); unmapped, its pages come back from the OS's cache by
/// `pread`. The request path's own readers were made so first
/// (`direct::DirectReaders`); sqlx's readers and the writers since
/// 2026-12-07: the work list under oha +30–50 % answers a second at 16 and 64
/// clients, and at 1M families p99s of open record and kana search lower
/// (BENCHMARKS.md). A large load's index build maps the file for itself
/// (`bulk::SORT_MMAP_BYTES`).
pub(crate) const MMAP_BYTES: u64 = 0;
