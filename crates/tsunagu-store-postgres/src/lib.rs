//! PostgreSQL back end: production. Same behaviour as the SQLite store,
//! method for method; what differs is how concurrency is made safe, since
//! here several connections (and several nodes) write at once:
//! - audit appends lock their municipality's row in `audit_heads`, so each
//!   chain grows one line at a time;
//! - a notification takes an advisory lock on (municipality, mother's kana
//!   key) before its duplicate check;
//! - a birth locks its pregnancy row;
//! - a referral's step locks the referral row, then re-checks its status;
//! - a follow-up slot is held by a partial unique index of booked rows;
//! - the timeline: a change of a pregnancy (new EDD, loss, move, birth)
//!   locks its row before reconciling its contacts, an outcome locks its
//!   contact, the daily missed job its municipality's run (see `timeline`);
//! - migrations run under an advisory lock, so two nodes never migrate at once.
//!
//! Dates and instants cross the boundary as text (`$n::date`,
//! `$n::timestamptz` in, `to_char` out) and are parsed with jiff, so no
//! extra sqlx features are needed; instants are kept to the microsecond.
//! Civil date-times in Japan (`timestamp without time zone`) cross as
//! `YYYY-MM-DDTHH:MM:SS` text (`$n::timestamp` in), to the second.

use async_trait::async_trait;
use jiff::civil::{Date, DateTime};
use jiff::Timestamp;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgPoolOptions, PgRow};
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder, Row};
use std::time::Duration;
use tsunagu_domain::dates::DateRange;
use tsunagu_domain::policy::FamilyFilter;
use tsunagu_domain::{MunicipalityId, VenueId};
use tsunagu_store::kept::{Kept, TEST_AFTER};
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
pub struct PgStore {
    pool: PgPool,
    keys: StoreKeys,
    /// Reads' audit lines, committed together (#16).
    audit_batch: std::sync::Arc<tsunagu_store::group_commit::GroupCommit>,
    /// Chat messages, committed together (#13).
    post_batch: std::sync::Arc<chat::PostBatch>,
    /// Connections kept for the request path, out of the pool's tests (#16).
    kept: std::sync::Arc<Kept<PoolConnection<Postgres>>>,
    /// The audit chains' heads as this node last saw them (#16,
    /// `audit::write_lines`): a guess the database checks, never trusted.
    heads: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<MunicipalityId, (i64, String)>>>,
}

/// Of the pool's sixteen connections, at most this many serve the request
/// path at once (`PgStore::hot_conn`), kept between uses; the rest serve
/// everything else.
const KEPT_CONNECTIONS: usize = 12;

/// A connection taken by the request path (`tsunagu_store::kept::Hot`).
pub(crate) type HotConn<'a> = tsunagu_store::kept::Hot<'a, PoolConnection<Postgres>>;

// --- SQL fragments ----------------------------------------------------------

/// A TIMESTAMPTZ column read as RFC 3339 text in UTC, to the microsecond,
/// whatever the session's time zone.
macro_rules! ts_col {
    ($col:literal) => {
        concat!("to_char(", $col, " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
    };
}

/// A DATE column read as `YYYY-MM-DD`, whatever the session's DateStyle.
macro_rules! date_col {
    ($col:literal) => {
        concat!("to_char(", $col, ", 'YYYY-MM-DD')")
    };
}

/// The columns of a pregnancy as `pregnancy_row` reads them (unqualified:
/// ORDER BY must name `pregnancies.edd`, the aliases are text).
macro_rules! pregnancy_columns {
    () => {
        concat!(
            "id, family_id, ",
            date_col!("notified_on"),
            " AS notified_on, ",
            date_col!("edd"),
            " AS edd, foetuses, first_child, status, handbook_number, ",
            date_col!("ended_on"),
            " AS ended_on"
        )
    };
}

/// The columns of a baby as `baby_row` reads them.
macro_rules! baby_columns {
    () => {
        concat!(
            "id, pregnancy_id, person_id, ",
            date_col!("birth_date"),
            " AS birth_date, sex, gestational_weeks, gestational_days, birth_weight_g, long_hospitalisation"
        )
    };
}

// --- errors and conversions -------------------------------------------------

fn db_err(e: sqlx::Error) -> StoreError {
    if is_unavailable(&e) {
        return StoreError::Unavailable(Box::new(e));
    }
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        other => StoreError::Other(Box::new(other)),
    }
}

/// Errors after which the same request may succeed later: the server cannot
/// be reached, is shutting down or starting up, or the database is missing.
fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(d) => {
            let code = d.code();
            let code = code.as_deref().unwrap_or("");
            code.starts_with("08")
                || matches!(code, "57P01" | "57P02" | "57P03" | "3D000")
                || (code == "55000" && d.message().contains("not currently accepting connections"))
        }
        _ => false,
    }
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

/// Instants are kept to the microsecond (PostgreSQL would round the rest;
/// we truncate, like the SQLite store, so an audit line hashes the same).
fn micros(t: Timestamp) -> Timestamp {
    Timestamp::from_microsecond(t.as_microsecond()).unwrap_or(t)
}

/// An instant as bound to a `$n::timestamptz` parameter.
fn ts_param(t: Timestamp) -> String {
    micros(t).to_string()
}

/// First key of the two-int advisory lock taken per municipality: ids fit
/// in 31 bits in practice; should one not, two municipalities merely share
/// a lock.
fn lock_key(m: MunicipalityId) -> i32 {
    (m.0 & 0x7fff_ffff) as i32
}

fn get<'r, T>(r: &'r PgRow, col: &str) -> Result<T>
where
    T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    r.try_get(col).map_err(db_err)
}

fn small<T: TryFrom<i16>>(v: i16, what: &'static str) -> Result<T> {
    T::try_from(v).map_err(|_| corrupt(what))
}

async fn in_municipality(tx: &mut PgConnection, table: Table, id: i64, m: MunicipalityId) -> Result<bool> {
    let sql = match table {
        Table::Areas => "SELECT id FROM areas WHERE id = $1 AND municipality_id = $2",
        Table::Venues => "SELECT id FROM venues WHERE id = $1 AND municipality_id = $2",
        Table::Families => "SELECT id FROM families WHERE id = $1 AND municipality_id = $2",
    };
    let found: Option<i64> =
        sqlx::query_scalar(sql).bind(id).bind(m.0).fetch_optional(&mut *tx).await.map_err(db_err)?;
    Ok(found.is_some())
}

#[derive(Clone, Copy)]
enum Table {
    Areas,
    Venues,
    Families,
}

fn push_filter(qb: &mut QueryBuilder<'_, Postgres>, filter: &FamilyFilter) {
    match filter {
        FamilyFilter::Municipality(m) => {
            qb.push(" AND f.municipality_id = ").push_bind(m.0);
        }
        FamilyFilter::ConsentingInAreas(m, areas) => {
            qb.push(" AND f.municipality_id = ").push_bind(m.0);
            qb.push(" AND f.consent_coordinators AND f.area_id = ANY(")
                .push_bind(areas.iter().map(|a| a.0).collect::<Vec<i64>>())
                .push(")");
        }
        FamilyFilter::Escalated(m) => {
            qb.push(" AND f.municipality_id = ").push_bind(m.0);
            qb.push(" AND f.escalated");
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

fn count(v: i64) -> Result<u64> {
    u64::try_from(v).map_err(|_| corrupt("count"))
}

// --- civil date-times, facilities and names, shared by several capabilities -------

/// A `timestamp without time zone` column (a civil date-time in Japan) read
/// as `YYYY-MM-DDTHH:MM:SS`, whatever the session's DateStyle.
macro_rules! civil_col {
    ($col:literal) => {
        concat!("to_char(", $col, ", 'YYYY-MM-DD\"T\"HH24:MI:SS')")
    };
}

fn range_params(range: DateRange) -> (String, String) {
    (range.first().to_string(), range.last().to_string())
}

/// A civil date-time as bound to a `$n::timestamp` parameter: to the second
/// (what is finer is dropped, like the SQLite store does).
fn civil_param(t: DateTime) -> String {
    format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", t.year(), t.month(), t.day(), t.hour(), t.minute(), t.second())
}

fn civil(s: &str) -> Result<DateTime> {
    s.parse().map_err(|_| corrupt("date-time"))
}

/// Whether `venue` is a postpartum-care facility (a venue of that kind) of
/// municipality `m`.
async fn is_facility(tx: &mut PgConnection, venue: VenueId, m: MunicipalityId) -> Result<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM venues WHERE id = $1 AND municipality_id = $2 AND kind = 'postpartum_facility'",
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

impl PgStore {
    /// Connects to a `postgres://` URL with a pool of up to 16 connections.
    /// One connection is opened at once, so an unreachable server is
    /// reported here (`Unavailable`), not at the first request. `keys` link
    /// the audit lines and seal the TOTP secrets.
    pub async fn connect(url: &str, keys: StoreKeys) -> Result<Self> {
        // A connection taken from the pool is tested (a round trip) only if it
        // waited there a while (#16): one in steady use answered a moment ago,
        // and the pool tests each one as it is given back anyway.
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for > TEST_AFTER {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .connect(url)
            .await
            .map_err(db_err)?;
        let kept = std::sync::Arc::new(Kept::new(KEPT_CONNECTIONS));
        Ok(Self {
            pool,
            keys,
            audit_batch: Default::default(),
            post_batch: Default::default(),
            kept,
            heads: Default::default(),
        })
    }

    /// A connection for the request path (#16): one of the kept ones (tested
    /// first only if it waited long), else one from the pool.
    pub(crate) async fn hot_conn(&self) -> Result<HotConn<'_>> {
        // Our turn first (in order of asking), then a kept connection if there
        // is one, else one from the pool (kept when it is done).
        let turn = self.kept.turn().await;
        if turn.is_some() {
            while let Some((mut conn, test)) = self.kept.take() {
                if !test || sqlx::Connection::ping(&mut *conn).await.is_ok() {
                    return Ok(HotConn::new(conn, &self.kept, turn));
                }
                // Failed its test: dropped, the pool closes it.
            }
        }
        let conn = self.pool.acquire().await.map_err(db_err)?;
        Ok(HotConn::new(conn, &self.kept, turn))
    }

    /// Closes the pool, waiting for connections in use to be returned (the
    /// kept ones first given back).
    pub async fn close(&self) {
        drop(self.kept.drain());
        self.pool.close().await;
    }
}

#[async_trait]
impl StoreBackend for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn migrate(&self) -> Result<()> {
        self.migrate_with(MIGRATIONS).await?;
        // A large load that stopped before its end left indexes to rebuild (#16).
        crate::bulk::rebuild_dropped_indexes(self).await?;
        keys::seal_plaintext_totp(self).await
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(db_err)?;
        Ok(())
    }
}

// After the macros above, which they use; `timeline` first: `contact_columns!`
// comes from it.
#[macro_use]
mod timeline;
mod accounts;
mod audit;
mod bulk;
mod care;
mod chat;
mod classes;
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

#[cfg(test)]
mod tests;
