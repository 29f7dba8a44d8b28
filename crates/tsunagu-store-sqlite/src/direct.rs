//! The request path's reads, run on the request's own thread (#16).
//!
//! sqlx runs each SQLite connection on a worker thread of its own: a
//! statement is a hand-off from the request's task to that thread and back
//! (two thread wake-ups, and the task's own wake-up by the runtime). Every
//! request reads its session, and opening a record reads the family's
//! access facts and then the record: three hand-offs a request, which cost
//! more than the statements (BENCHMARKS.md, "Reads on the request's
//! thread"). Those few reads run here instead, on connections of SQLite's
//! own binding (`rusqlite`, on the same compiled SQLite as sqlx), called in
//! place on the runtime's thread: each is an index lookup or two, a few
//! pages read from the OS's cache at worst (a read that blocks the thread
//! for that long is what tokio allows between two awaits).
//!
//! The audit lines' group commit writes its batch the same way, on the
//! writer thread ([`DirectWriter`]), while it holds the sqlx writer pool's
//! one connection. Everything else — the other writes, the pages' and
//! reports' reads — stays on sqlx. The readers here are read-only, opened
//! with sqlx's readers' settings (but see `connect` on the memory map), and
//! kept in a list: a read takes one (or opens one), and puts it back
//! unless an error left it in doubt. At most as many are in use as threads
//! run requests.
//!
//! Rows are read through [`Cells`], which both drivers' rows implement, so
//! that a row is turned into a record by one function whichever read it.

use crate::db_err;
use rusqlite::{Connection, OpenFlags};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use tsunagu_store::{Result, StoreError};

/// A column, by its place in the row or by its name.
#[derive(Clone, Copy)]
pub(crate) enum Col {
    At(usize),
    Named(&'static str),
}

impl From<usize> for Col {
    fn from(i: usize) -> Self {
        Col::At(i)
    }
}

impl From<&'static str> for Col {
    fn from(name: &'static str) -> Self {
        Col::Named(name)
    }
}

/// A value either driver can read from a column.
pub(crate) trait Cell: for<'r> sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite> + rusqlite::types::FromSql {}

impl<T: for<'r> sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite> + rusqlite::types::FromSql> Cell for T {}

/// A row of either driver.
pub(crate) trait Cells {
    fn cell<T: Cell>(&self, col: impl Into<Col>) -> Result<T>;
}

impl Cells for SqliteRow {
    fn cell<T: Cell>(&self, col: impl Into<Col>) -> Result<T> {
        match col.into() {
            Col::At(i) => self.try_get(i),
            Col::Named(n) => self.try_get(n),
        }
        .map_err(db_err)
    }
}

impl Cells for rusqlite::Row<'_> {
    fn cell<T: Cell>(&self, col: impl Into<Col>) -> Result<T> {
        match col.into() {
            Col::At(i) => self.get(i),
            Col::Named(n) => self.get(n),
        }
        .map_err(direct_err)
    }
}

/// As `db_err`, for this driver: a busy or locked file past the busy
/// timeout, or the disk, may succeed later; the rest is a fault.
pub(crate) fn direct_err(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode::{DatabaseBusy, DatabaseLocked, DiskFull, SystemIoFailure};
    match e {
        rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound,
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, DatabaseBusy | DatabaseLocked | DiskFull | SystemIoFailure) =>
        {
            StoreError::Unavailable(Box::new(e))
        }
        other => StoreError::Other(Box::new(other)),
    }
}

/// `sql` prepared on `conn` (or taken from its cache of prepared
/// statements). Reported as a trace event of its text, never its values,
/// as sqlx reports its own (the test suite counts statements by them).
/// One statement only: SQLite's binding prepares the first of several and
/// ignores the rest, so text with a `;` is refused (none of ours quotes one).
pub(crate) fn prepare<'c>(conn: &'c Connection, sql: &str) -> Result<rusqlite::CachedStatement<'c>> {
    if sql.contains(';') {
        return Err(StoreError::Other("one statement at a time on SQLite's own binding".into()));
    }
    tracing::trace!(target: "tsunagu_store_sqlite::direct", { db.statement = sql }, "statement");
    conn.prepare_cached(sql).map_err(direct_err)
}

/// Rows a multi-row `INSERT` writes at once: its values bound in place
/// (measured ~1.8 µs a contact row against ~3.4 µs one row a statement,
/// BENCHMARKS.md), one statement text whatever the batch, prepared once.
const ROWS_A_STATEMENT: usize = 64;

/// Binds a row's values to the next places of a statement, in order.
pub(crate) struct Binder<'s, 'c> {
    st: &'s mut rusqlite::CachedStatement<'c>,
    at: usize,
}

impl Binder<'_, '_> {
    pub(crate) fn value(&mut self, v: impl rusqlite::ToSql) -> Result<&mut Self> {
        self.at += 1;
        self.st.raw_bind_parameter(self.at, v).map_err(direct_err)?;
        Ok(self)
    }
}

/// Writes `rows` with `insert` (`INSERT INTO t (…columns…)`, `columns` of
/// them): [`ROWS_A_STATEMENT`] a statement, then the rest one by one, each
/// row's values bound by `bind`.
pub(crate) fn insert_rows<T>(
    conn: &Connection,
    insert: &str,
    columns: usize,
    rows: &[T],
    bind: impl Fn(&mut Binder<'_, '_>, &T) -> Result<()>,
) -> Result<()> {
    let one = format!("({})", vec!["?"; columns].join(", "));
    let mut chunks = rows.chunks_exact(ROWS_A_STATEMENT);
    if rows.len() >= ROWS_A_STATEMENT {
        let mut st = prepare(conn, &format!("{insert} VALUES {}", vec![one.as_str(); ROWS_A_STATEMENT].join(", ")))?;
        for chunk in &mut chunks {
            let mut b = Binder { st: &mut st, at: 0 };
            for row in chunk {
                bind(&mut b, row)?;
            }
            st.raw_execute().map_err(direct_err)?;
        }
    }
    if !chunks.remainder().is_empty() {
        let mut st = prepare(conn, &format!("{insert} VALUES {one}"))?;
        for row in chunks.remainder() {
            bind(&mut Binder { st: &mut st, at: 0 }, row)?;
            st.raw_execute().map_err(direct_err)?;
        }
    }
    Ok(())
}

/// A connection to the file at `path` (`mode`: read-only or read-write),
/// with sqlx's busy timeout (5 s) and `pragmas` run.
fn open(path: &Path, mode: OpenFlags, pragmas: &str) -> Result<Connection> {
    let conn = Connection::open_with_flags(path, mode | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI)
        .map_err(direct_err)?;
    conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(direct_err)?;
    conn.execute_batch(pragmas).map_err(direct_err)?;
    Ok(conn)
}

/// Read-only connections to one database file, for the request path.
pub(crate) struct DirectReaders {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// Open now: idle or in use.
    open: AtomicUsize,
}

/// At most this many are kept between reads (one more in use at a time,
/// on a runtime of more threads than this, is closed after its read).
pub(crate) const KEEP: usize = 8;

impl DirectReaders {
    /// Opens one connection now, so that a file that cannot be read is an
    /// error at start and not at the first request.
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let readers = Self { path: path.to_owned(), idle: Mutex::new(Vec::new()), open: AtomicUsize::new(0) };
        let first = readers.connect()?;
        readers.put_back(first);
        Ok(readers)
    }

    fn connect(&self) -> Result<Connection> {
        // As sqlx's readers (`SqliteStore::connect`): the busy timeout, a
        // 32 MiB page cache, the file not memory-mapped (`crate::MMAP_BYTES`
        // says why).
        let conn = open(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY,
            &format!("PRAGMA cache_size = -32768; PRAGMA mmap_size = {};", crate::MMAP_BYTES),
        )?;
        conn.set_prepared_statement_cache_capacity(32);
        self.open.fetch_add(1, Ordering::Relaxed);
        Ok(conn)
    }

    fn put_back(&self, conn: Connection) {
        match self.idle.lock() {
            Ok(mut idle) if idle.len() < KEEP => idle.push(conn),
            _ => self.close(conn),
        }
    }

    fn close(&self, conn: Connection) {
        drop(conn);
        self.open.fetch_sub(1, Ordering::Relaxed);
    }

    /// How many connections are open, and how many of them wait for a read.
    pub(crate) fn stats(&self) -> (usize, usize) {
        (self.open.load(Ordering::Relaxed), self.idle.lock().map(|i| i.len()).unwrap_or(0))
    }

    /// Runs `f` on a connection, in place: each statement reads the file
    /// as it is when it starts (SQLite's own read transaction). The
    /// connection is kept for the next read unless `f` failed.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
        let taken = self.idle.lock().ok().and_then(|mut i| i.pop());
        let conn = match taken {
            Some(c) => c,
            None => self.connect()?,
        };
        // In place, not in `tokio::task::block_in_place`: that hands the
        // runtime's thread over to another for every read, and measured
        // half the throughput at 16 and 64 clients (BENCHMARKS.md).
        let r = f(&conn);
        if r.is_ok() && conn.is_autocommit() {
            self.put_back(conn);
        } else {
            self.close(conn);
        }
        r
    }

    /// [`DirectReaders::read`], its statements inside one read transaction,
    /// so that they all see one state of the file (a record's two).
    pub(crate) fn read_together<R>(&self, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
        self.read(|conn| in_transaction(conn, "BEGIN", f))
    }
}

/// Runs `f` inside a transaction `begin` starts, committed if `f` succeeds;
/// whatever failed, the transaction is rolled back before this returns (if
/// even that fails, the connection is left in it: callers keep a connection
/// only when it is out of every transaction, `is_autocommit`). The three
/// statements are prepared once per connection.
fn in_transaction<R>(conn: &Connection, begin: &'static str, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
    let run = |sql: &'static str| conn.prepare_cached(sql).and_then(|mut st| st.execute([])).map_err(direct_err);
    run(begin)?;
    let r = f(conn).and_then(|v| run("COMMIT").map(|_| v));
    if !conn.is_autocommit() {
        let _ = run("ROLLBACK");
    }
    r
}

/// The single writer's connection of SQLite's binding (#16): a batch of
/// audit lines is written with it in place on the writer thread
/// (`group_commit::writer_thread`), with no hand-off to a connection's
/// thread for each statement. It writes only while its caller holds the
/// writer pool's one connection — the process's turn to write — so it
/// never races the sqlx writer for SQLite's write lock.
pub(crate) struct DirectWriter {
    path: PathBuf,
    conn: Mutex<Option<Connection>>,
}

impl DirectWriter {
    pub(crate) fn new(path: &Path) -> Self {
        Self { path: path.to_owned(), conn: Mutex::new(None) }
    }

    fn connect(&self) -> Result<Connection> {
        // As sqlx's writer (`SqliteStore::connect`).
        let conn = open(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE,
            &format!(
                "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -32768; \
                 PRAGMA mmap_size = {}; PRAGMA temp_store = memory;",
                crate::MMAP_BYTES
            ),
        )?;
        conn.set_prepared_statement_cache_capacity(16);
        Ok(conn)
    }

    /// Runs `f` in one write transaction (`BEGIN IMMEDIATE`), committed if
    /// it succeeds and rolled back if not. `_turn`: the writer pool's one
    /// connection, held by the caller for as long as this runs.
    pub(crate) fn write<R>(
        &self,
        _turn: &mut sqlx::pool::PoolConnection<Sqlite>,
        f: impl FnOnce(&Connection) -> Result<R>,
    ) -> Result<R> {
        self.on_connection(|conn| in_transaction(conn, "BEGIN IMMEDIATE", f))
    }

    /// Sets the connection's page cache (`cache_kib`) and whether it checks
    /// foreign keys row by row: a bulk load (`bulk`) takes a larger cache,
    /// checks the loaded tables' references once at its end, and copies its
    /// log back into the file less often. A connection opened again after a
    /// failure has the usual settings.
    pub(crate) fn configure(
        &self,
        _turn: &mut sqlx::pool::PoolConnection<Sqlite>,
        cache_kib: u32,
        foreign_keys: bool,
    ) -> Result<()> {
        self.on_connection(|conn| {
            conn.pragma_update(None, "cache_size", -i64::from(cache_kib)).map_err(direct_err)?;
            conn.pragma_update(None, "foreign_keys", foreign_keys).map_err(direct_err)?;
            // A load's batches commit a few MiB each: with SQLite's default
            // (1,000 pages) each commit would also copy the log back into
            // the file and sync both; every 64 MiB instead while loading.
            let pages: i64 = if foreign_keys { 1000 } else { 16384 };
            conn.pragma_update(None, "wal_autocheckpoint", pages).map_err(direct_err)
        })
    }

    fn on_connection<R>(&self, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
        let mut slot =
            self.conn.lock().map_err(|_| StoreError::Other("the writer's connection was poisoned".into()))?;
        let conn = match slot.take() {
            Some(c) => c,
            None => self.connect()?,
        };
        let r = f(&conn);
        // Kept only out of every transaction; else closed (which rolls back)
        // and the next write opens another.
        if conn.is_autocommit() {
            *slot = Some(conn);
        }
        r
    }
}
