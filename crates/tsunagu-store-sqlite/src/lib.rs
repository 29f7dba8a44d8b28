//! SQLite back end: the embedded default. One file, no server.
//!
//! Writes go through a pool of exactly one connection, so transactions in
//! this process never race for SQLite's single write lock; reads use a
//! separate pool and run concurrently under WAL.

use async_trait::async_trait;
use jiff::civil::{Date, DateTime, Time};
use jiff::Timestamp;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool};
use std::str::FromStr;
use std::time::Duration;
use tsunagu_domain::audit::{line_mac, AuditAction, AuditContext, AuditLine, GENESIS};
use tsunagu_domain::dates::DateRange;
use tsunagu_domain::keys::ChainKey;
use tsunagu_domain::municipality::MunicipalityCode;
use tsunagu_domain::places::{Area, Municipality, Venue, VenueKind};
use tsunagu_domain::policy::{FamilyAccess, FamilyFilter};
use tsunagu_domain::postpartum::application::{Application, ApplicationAnswers, ApplicationStatus, NewApplication};
use tsunagu_domain::postpartum::calendar::FacilityCalendar;
use tsunagu_domain::postpartum::safety::IncidentHeading;
use tsunagu_domain::postpartum::ServiceType;
use tsunagu_domain::records::{
    is_duplicate_notification, Baby, Family, FamilyRecord, FamilySummary, FeeBracket, NewBaby, NewPerson, Notification,
    Person, Pregnancy, PregnancyEnd, PregnancyStatus, Relation, Sex,
};
use tsunagu_domain::referrals::{CloseReason, ConcernSource, Referral, ReferralAction, ReferralStatus};
use tsunagu_domain::roles::Role;
use tsunagu_domain::timeline::{DueMonth, KindSet, Outcome};
use tsunagu_domain::{
    AccountId, ApplicationId, AreaId, BabyId, ContactId, FamilyId, FollowupId, GroupSessionId, IncidentId,
    MunicipalityId, PersonId, PregnancyId, ReferralId, RoomId, ScreeningId, TalkId, VenueId,
};
use tsunagu_store::migrations::Migration;
use tsunagu_store::{
    Account, ApplicationFilter, AuditQuery, Booking, ContactRow, Followup, FollowupStatus, GroupCandidate,
    GroupSession, HandbookEntry, HandbookMeeting, ImportFamily, Incident, MissedRun, NewAccount, NewGroupSession,
    NewHandbookMeeting, NewIncident, NewScreening, NewVenue, OnlineTalk, PostpartumFacility, RecordedScreening,
    ReferralEvent, ReferralFilter, Result, Secret, Session, SessionStage, SigninAttemptId, SigninOutcome,
    SigninRequest, SigninReservation, StayNote, Store, StoreError, StoreKeys, StoredReferral, StoredScreening,
    UsageCounts, WorkCounts, WorkListQuery, WorkScope,
};

mod keys;
mod meetings;
mod migrate;
mod screening;
mod signin;
mod timeline;

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
];

#[derive(Clone)]
pub struct SqliteStore {
    reader: SqlitePool,
    writer: SqlitePool,
    keys: StoreKeys,
}

fn db_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(Box::new(e))
        }
        other => StoreError::Other(Box::new(other)),
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
        let memory = url.contains(":memory:") || url.contains("mode=memory");
        let opts = SqliteConnectOptions::from_str(url)
            .map_err(db_err)?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            .synchronous(SqliteSynchronous::Normal)
            // The default page cache is 2 MB; a city's file grows to hundreds of
            // MB, and index pages re-read from the OS cost the hot paths
            // (BENCHMARKS.md). 32 MiB per connection, and the file memory-mapped.
            .pragma("cache_size", "-32768")
            .pragma("mmap_size", "268435456");
        let opts = if memory {
            // An in-memory database lives in one connection; share it.
            opts.shared_cache(true)
        } else {
            opts.journal_mode(SqliteJournalMode::Wal)
        };
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts.clone())
            .await
            .map_err(db_err)?;
        let reader = if memory {
            writer.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts.read_only(true))
                .await
                .map_err(db_err)?
        };
        Ok(Self { reader, writer, keys })
    }

    async fn scopes(&self, id: AccountId) -> Result<(Vec<AreaId>, Vec<VenueId>, Vec<RoomId>)> {
        let rows = sqlx::query("SELECT kind, ref_id FROM account_scopes WHERE account_id = ? ORDER BY kind, ref_id")
            .bind(id.0)
            .fetch_all(&self.reader)
            .await
            .map_err(db_err)?;
        let (mut areas, mut venues, mut rooms) = (vec![], vec![], vec![]);
        for r in rows {
            let kind: String = r.try_get(0).map_err(db_err)?;
            let id: i64 = r.try_get(1).map_err(db_err)?;
            match kind.as_str() {
                "area" => areas.push(AreaId(id)),
                "venue" => venues.push(VenueId(id)),
                "room" => rooms.push(RoomId(id)),
                _ => return Err(corrupt("scope kind")),
            }
        }
        Ok((areas, venues, rooms))
    }

    async fn account_from_row(&self, r: SqliteRow) -> Result<Account> {
        let id = AccountId(r.try_get("id").map_err(db_err)?);
        let (areas, venues, rooms) = self.scopes(id).await?;
        let role: String = r.try_get("role").map_err(db_err)?;
        let created_at: String = r.try_get("created_at").map_err(db_err)?;
        Ok(Account {
            id,
            municipality_id: MunicipalityId(r.try_get("municipality_id").map_err(db_err)?),
            username: r.try_get("username").map_err(db_err)?,
            display_name: r.try_get("display_name").map_err(db_err)?,
            role: Role::parse(&role).ok_or_else(|| corrupt("role"))?,
            password_hash: Secret::new(r.try_get::<String, _>("password_hash").map_err(db_err)?),
            totp_secret: r
                .try_get::<Option<String>, _>("totp_secret")
                .map_err(db_err)?
                .map(|s| self.keys.open_totp(id, &s))
                .transpose()?,
            totp_last_step: r.try_get("totp_last_step").map_err(db_err)?,
            disabled: r.try_get("disabled").map_err(db_err)?,
            family_id: r.try_get::<Option<i64>, _>("family_id").map_err(db_err)?.map(FamilyId),
            areas,
            venues,
            rooms,
            created_at: ts(&created_at)?,
        })
    }
}

impl SqliteStore {
    /// Mothers whose `column` (`kana_key` or `given_kana_key`) starts with
    /// `key`, within `filter`, in index order, at most `limit`.
    async fn search_by(
        &self,
        filter: &FamilyFilter,
        column: &'static str,
        key: &str,
        limit: u32,
    ) -> Result<Vec<FamilySummary>> {
        let upper = format!("{key}{}", char::MAX);
        let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new(
            "SELECT f.id, f.area_id, p.family_name, p.given_name, p.family_name_kana, p.given_name_kana, \
             p.birth_date, (SELECT MAX(g.edd) FROM pregnancies g WHERE g.family_id = f.id) \
             FROM people p JOIN families f ON f.id = p.family_id WHERE p.relation = 'mother' AND p.municipality_id = ",
        );
        qb.push_bind(filter_municipality(filter).0);
        qb.push(format!(" AND p.{column} >= ")).push_bind(key.to_owned());
        qb.push(format!(" AND p.{column} < ")).push_bind(upper);
        push_filter(&mut qb, filter);
        qb.push(format!(" ORDER BY p.{column}, p.id LIMIT ")).push_bind(i64::from(limit));
        let rows = qb.build().fetch_all(&self.reader).await.map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let family_name: String = r.try_get(2).map_err(db_err)?;
                let given_name: String = r.try_get(3).map_err(db_err)?;
                let fk: String = r.try_get(4).map_err(db_err)?;
                let gk: String = r.try_get(5).map_err(db_err)?;
                Ok(FamilySummary {
                    family_id: FamilyId(r.try_get(0).map_err(db_err)?),
                    area_id: AreaId(r.try_get(1).map_err(db_err)?),
                    mother_name: format!("{family_name} {given_name}"),
                    mother_kana: format!("{fk} {gk}"),
                    mother_birth_date: opt_date(r.try_get(6).map_err(db_err)?)?,
                    latest_edd: opt_date(r.try_get(7).map_err(db_err)?)?,
                })
            })
            .collect()
    }
}

const ACCOUNT_COLUMNS: &str = "id, municipality_id, username, display_name, role, password_hash, totp_secret, \
     totp_last_step, disabled, family_id, created_at";

/// Appends one line to the municipality's audit chain inside `tx`, linked
/// to the one before it with the chain key.
async fn append_audit(
    tx: &mut SqliteConnection,
    key: &ChainKey,
    ctx: &AuditContext,
    action: AuditAction,
    family: Option<FamilyId>,
    detail: &str,
) -> Result<()> {
    let m = ctx.municipality_id;
    let head = sqlx::query("SELECT seq, hash FROM audit_heads WHERE municipality_id = ?")
        .bind(m.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
    let (prev_seq, prev_hash) = match head {
        Some(r) => (r.try_get::<i64, _>(0).map_err(db_err)?, r.try_get::<String, _>(1).map_err(db_err)?),
        None => (0, GENESIS.to_owned()),
    };
    let seq = prev_seq + 1;
    let at = micros(ctx.at);
    let role = ctx.role.as_str();
    let hash = line_mac(
        key,
        &prev_hash,
        seq,
        m,
        at,
        ctx.actor,
        role,
        action.as_str(),
        family,
        detail,
        &ctx.reason,
        &ctx.remote_addr,
    );
    sqlx::query(
        "INSERT INTO audit_log (municipality_id, seq, at, actor, role, action, family_id, detail, reason, \
         remote_addr, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(m.0)
    .bind(seq)
    .bind(ts_text(at))
    .bind(ctx.actor.0)
    .bind(role)
    .bind(action.as_str())
    .bind(family.map(|f| f.0))
    .bind(detail)
    .bind(&ctx.reason)
    .bind(&ctx.remote_addr)
    .bind(&prev_hash)
    .bind(&hash)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    sqlx::query(
        "INSERT INTO audit_heads (municipality_id, seq, hash) VALUES (?, ?, ?) \
         ON CONFLICT (municipality_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
    )
    .bind(m.0)
    .bind(seq)
    .bind(&hash)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

fn audit_line(r: &SqliteRow) -> Result<AuditLine> {
    let at: String = r.try_get("at").map_err(db_err)?;
    Ok(AuditLine {
        seq: r.try_get("seq").map_err(db_err)?,
        municipality_id: MunicipalityId(r.try_get("municipality_id").map_err(db_err)?),
        at: ts(&at)?,
        actor: AccountId(r.try_get("actor").map_err(db_err)?),
        role: r.try_get("role").map_err(db_err)?,
        action: r.try_get("action").map_err(db_err)?,
        family_id: r.try_get::<Option<i64>, _>("family_id").map_err(db_err)?.map(FamilyId),
        detail: r.try_get("detail").map_err(db_err)?,
        reason: r.try_get("reason").map_err(db_err)?,
        remote_addr: r.try_get("remote_addr").map_err(db_err)?,
        prev_hash: r.try_get("prev_hash").map_err(db_err)?,
        hash: r.try_get("hash").map_err(db_err)?,
    })
}

async fn insert_person(
    tx: &mut SqliteConnection,
    m: MunicipalityId,
    family: FamilyId,
    relation: Relation,
    p: &NewPerson,
) -> Result<PersonId> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO people (family_id, municipality_id, relation, family_name, given_name, family_name_kana, \
         given_name_kana, kana_key, given_kana_key, birth_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(family.0)
    .bind(m.0)
    .bind(relation.as_str())
    .bind(&p.family_name)
    .bind(&p.given_name)
    .bind(p.family_name_kana.as_str())
    .bind(p.given_name_kana.as_str())
    .bind(p.search_key())
    .bind(p.given_name_kana.search_key())
    .bind(p.birth_date.map(|d| d.to_string()))
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    Ok(PersonId(id))
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

/// Inserts a notification's family, people and pregnancy inside `tx`, after
/// the duplicate and handbook-number checks (which change nothing when they
/// refuse, so a caller may go on with the transaction). No audit line.
async fn insert_notification(
    tx: &mut SqliteConnection,
    ctx: &AuditContext,
    n: &Notification,
) -> Result<(FamilyId, PregnancyId)> {
    let m = ctx.municipality_id;
    let key = n.mother.search_key();
    let same_name = sqlx::query(
        "SELECT p.birth_date, g.edd FROM people p JOIN pregnancies g ON g.family_id = p.family_id \
         WHERE p.municipality_id = ? AND p.kana_key = ? AND p.relation = 'mother' AND g.status = 'ongoing'",
    )
    .bind(m.0)
    .bind(&key)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    for r in &same_name {
        let birth = opt_date(r.try_get(0).map_err(db_err)?)?;
        let edd = date(&r.try_get::<String, _>(1).map_err(db_err)?)?;
        if is_duplicate_notification(&key, birth, edd, n) {
            return Err(StoreError::Conflict("duplicate_notification"));
        }
    }
    if let Some(h) = &n.handbook_number {
        let taken: Option<i64> =
            sqlx::query_scalar("SELECT id FROM pregnancies WHERE municipality_id = ? AND handbook_number = ?")
                .bind(m.0)
                .bind(h)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        if taken.is_some() {
            return Err(StoreError::Conflict("handbook_number_taken"));
        }
    }
    let family: i64 = sqlx::query_scalar(
        "INSERT INTO families (municipality_id, area_id, fee_bracket, consent_coordinators, consent_hubs, \
         created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(m.0)
    .bind(n.area_id.0)
    .bind(n.fee_bracket.as_str())
    .bind(n.consent_coordinators)
    .bind(n.consent_hubs)
    .bind(ts_text(ctx.at))
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    let family = FamilyId(family);
    insert_person(tx, m, family, Relation::Mother, &n.mother).await?;
    if let Some(p) = &n.partner {
        insert_person(tx, m, family, Relation::Partner, p).await?;
    }
    let pregnancy: i64 = sqlx::query_scalar(
        "INSERT INTO pregnancies (family_id, municipality_id, notified_on, edd, foetuses, first_child, status, \
         handbook_number) VALUES (?, ?, ?, ?, ?, ?, 'ongoing', ?) RETURNING id",
    )
    .bind(family.0)
    .bind(m.0)
    .bind(n.notified_on.to_string())
    .bind(n.edd.to_string())
    .bind(i64::from(n.foetuses))
    .bind(n.first_child)
    .bind(&n.handbook_number)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict("handbook_number_taken") } else { db_err(e) })?;
    Ok((family, PregnancyId(pregnancy)))
}

/// Inserts the babies of a birth (each a child in the family) and marks the
/// pregnancy delivered, inside `tx`. No audit line.
async fn insert_babies(
    tx: &mut SqliteConnection,
    m: MunicipalityId,
    family: FamilyId,
    pregnancy: PregnancyId,
    babies: &[NewBaby],
) -> Result<Vec<BabyId>> {
    let mother = sqlx::query(
        "SELECT family_name, family_name_kana FROM people WHERE family_id = ? AND relation = 'mother' LIMIT 1",
    )
    .bind(family.0)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    let family_name: String = mother.try_get(0).map_err(db_err)?;
    let family_kana: String = mother.try_get(1).map_err(db_err)?;
    let mut ids = Vec::with_capacity(babies.len());
    for b in babies {
        let given_kana = b.given_name_kana.as_ref().map(|k| k.as_str().to_owned()).unwrap_or_default();
        let person: i64 = sqlx::query_scalar(
            "INSERT INTO people (family_id, municipality_id, relation, family_name, given_name, \
             family_name_kana, given_name_kana, kana_key, given_kana_key, birth_date) \
             VALUES (?, ?, 'child', ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(family.0)
        .bind(m.0)
        .bind(&family_name)
        .bind(&b.given_name)
        .bind(&family_kana)
        .bind(&given_kana)
        .bind(format!(
            "{}{}",
            tsunagu_domain::kana::search_key(&family_kana),
            tsunagu_domain::kana::search_key(&given_kana)
        ))
        .bind(tsunagu_domain::kana::search_key(&given_kana))
        .bind(b.birth_date.to_string())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let baby: i64 = sqlx::query_scalar(
            "INSERT INTO babies (pregnancy_id, family_id, person_id, birth_date, sex, gestational_weeks, \
             gestational_days, birth_weight_g, long_hospitalisation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(pregnancy.0)
        .bind(family.0)
        .bind(person)
        .bind(b.birth_date.to_string())
        .bind(b.sex.as_str())
        .bind(i64::from(b.gestational_weeks))
        .bind(i64::from(b.gestational_days))
        .bind(b.birth_weight_g.map(i64::from))
        .bind(b.long_hospitalisation)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        ids.push(BabyId(baby));
    }
    sqlx::query("UPDATE pregnancies SET status = 'delivered' WHERE id = ?")
        .bind(pregnancy.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    Ok(ids)
}

/// Records a nurse's decision on an application and its audit line, inside `tx`.
#[allow(clippy::too_many_arguments)]
async fn mark_reviewed(
    tx: &mut SqliteConnection,
    key: &ChainKey,
    ctx: &AuditContext,
    id: ApplicationId,
    status: ApplicationStatus,
    note: &str,
    action: AuditAction,
    family: FamilyId,
) -> Result<()> {
    sqlx::query(
        "UPDATE postpartum_applications SET status = ?, reviewed_by = ?, reviewed_at = ?, review_note = ? \
         WHERE id = ?",
    )
    .bind(status.as_str())
    .bind(ctx.actor.0)
    .bind(ts_text(ctx.at))
    .bind(note)
    .bind(id.0)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    append_audit(tx, key, ctx, action, Some(family), &format!("application={id}")).await
}

const PREGNANCY_COLUMNS: &str =
    "id, family_id, notified_on, edd, foetuses, first_child, status, handbook_number, ended_on";

fn pregnancy_row(r: &SqliteRow) -> Result<Pregnancy> {
    let status: String = r.try_get(6).map_err(db_err)?;
    Ok(Pregnancy {
        id: PregnancyId(r.try_get(0).map_err(db_err)?),
        family_id: FamilyId(r.try_get(1).map_err(db_err)?),
        notified_on: date(&r.try_get::<String, _>(2).map_err(db_err)?)?,
        edd: date(&r.try_get::<String, _>(3).map_err(db_err)?)?,
        foetuses: u8::try_from(r.try_get::<i64, _>(4).map_err(db_err)?).map_err(|_| corrupt("foetuses"))?,
        first_child: r.try_get(5).map_err(db_err)?,
        status: PregnancyStatus::parse(&status).ok_or_else(|| corrupt("status"))?,
        handbook_number: r.try_get(7).map_err(db_err)?,
        ended_on: opt_date(r.try_get(8).map_err(db_err)?)?,
    })
}

const BABY_COLUMNS: &str = "id, pregnancy_id, person_id, birth_date, sex, gestational_weeks, gestational_days, \
     birth_weight_g, long_hospitalisation";

fn baby_row(r: &SqliteRow) -> Result<Baby> {
    let sex: String = r.try_get(4).map_err(db_err)?;
    Ok(Baby {
        id: BabyId(r.try_get(0).map_err(db_err)?),
        pregnancy_id: PregnancyId(r.try_get(1).map_err(db_err)?),
        person_id: PersonId(r.try_get(2).map_err(db_err)?),
        birth_date: date(&r.try_get::<String, _>(3).map_err(db_err)?)?,
        sex: Sex::parse(&sex).ok_or_else(|| corrupt("sex"))?,
        gestational_weeks: u8::try_from(r.try_get::<i64, _>(5).map_err(db_err)?)
            .map_err(|_| corrupt("gestational weeks"))?,
        gestational_days: u8::try_from(r.try_get::<i64, _>(6).map_err(db_err)?)
            .map_err(|_| corrupt("gestational days"))?,
        birth_weight_g: r
            .try_get::<Option<i64>, _>(7)
            .map_err(db_err)?
            .map(|w| u16::try_from(w).map_err(|_| corrupt("birth weight")))
            .transpose()?,
        long_hospitalisation: r.try_get(8).map_err(db_err)?,
    })
}

fn municipality_row(r: &SqliteRow) -> Result<Municipality> {
    let code: String = r.try_get("code").map_err(db_err)?;
    Ok(Municipality {
        id: MunicipalityId(r.try_get("id").map_err(db_err)?),
        code: MunicipalityCode::parse(&code).map_err(|_| corrupt("municipality code"))?,
        name_ja: r.try_get("name_ja").map_err(db_err)?,
        name_en: r.try_get("name_en").map_err(db_err)?,
    })
}

fn venue_row(r: &SqliteRow) -> Result<Venue> {
    let kind: String = r.try_get("kind").map_err(db_err)?;
    Ok(Venue {
        id: VenueId(r.try_get("id").map_err(db_err)?),
        municipality_id: MunicipalityId(r.try_get("municipality_id").map_err(db_err)?),
        area_id: r.try_get::<Option<i64>, _>("area_id").map_err(db_err)?.map(AreaId),
        kind: VenueKind::parse(&kind).ok_or_else(|| corrupt("venue kind"))?,
        name_ja: r.try_get("name_ja").map_err(db_err)?,
        name_en: r.try_get("name_en").map_err(db_err)?,
    })
}

fn session_row(r: &SqliteRow) -> Result<Session> {
    let stage: String = r.try_get("stage").map_err(db_err)?;
    let created: String = r.try_get("created_at").map_err(db_err)?;
    let seen: String = r.try_get("last_seen_at").map_err(db_err)?;
    Ok(Session {
        token_hash: r.try_get("token_hash").map_err(db_err)?,
        account_id: AccountId(r.try_get("account_id").map_err(db_err)?),
        stage: SessionStage::parse(&stage).ok_or_else(|| corrupt("session stage"))?,
        csrf_token: Secret::new(r.try_get::<String, _>("csrf_token").map_err(db_err)?),
        created_at: ts(&created)?,
        last_seen_at: ts(&seen)?,
    })
}

fn push_filter(qb: &mut QueryBuilder<'_, Sqlite>, filter: &FamilyFilter) {
    match filter {
        FamilyFilter::Municipality(m) => {
            qb.push(" AND f.municipality_id = ").push_bind(m.0);
        }
        FamilyFilter::ConsentingInAreas(m, areas) => {
            qb.push(" AND f.municipality_id = ").push_bind(m.0);
            qb.push(" AND f.consent_coordinators = 1 AND f.area_id IN (");
            let mut sep = qb.separated(", ");
            for a in areas {
                sep.push_bind(a.0);
            }
            qb.push(")");
        }
        FamilyFilter::Escalated(m) => {
            qb.push(" AND f.municipality_id = ").push_bind(m.0);
            qb.push(" AND f.escalated = 1");
        }
    }
}

fn filter_municipality(filter: &FamilyFilter) -> MunicipalityId {
    match filter {
        FamilyFilter::Municipality(m) | FamilyFilter::ConsentingInAreas(m, _) | FamilyFilter::Escalated(m) => *m,
    }
}

// --- postpartum care ----------------------------------------------------------

/// The columns of an application as `application_row` reads them, with the
/// mother's name ("family given") for staff lists.
const APPLICATION_COLUMNS: &str = "a.id, a.municipality_id, a.family_id, a.venue_id, a.service, a.stay_first, \
     a.stay_last, a.babies, a.siblings, a.rolls_over_actively, a.needs_medical_treatment, a.has_worries_or_fatigue, \
     a.lacks_help_from_relatives, a.grandparents_nearby, a.quote_total_yen, a.transport_paid, a.refusals, \
     a.override_reason, a.status, a.applied_by, a.applied_at, a.reviewed_by, a.reviewed_at, a.review_note, \
     COALESCE((SELECT p.family_name || ' ' || p.given_name FROM people p WHERE p.family_id = a.family_id \
     AND p.relation = 'mother' ORDER BY p.id LIMIT 1), '') AS mother_name";

fn other_err(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Other(Box::new(e))
}

fn stay_range(first: &str, last: &str) -> Result<DateRange> {
    DateRange::new(date(first)?, date(last)?).map_err(|_| corrupt("stay"))
}

fn application_row(r: &SqliteRow) -> Result<Application> {
    let service: String = r.try_get("service").map_err(db_err)?;
    let status: String = r.try_get("status").map_err(db_err)?;
    let refusals: String = r.try_get("refusals").map_err(db_err)?;
    let first: String = r.try_get("stay_first").map_err(db_err)?;
    let last: String = r.try_get("stay_last").map_err(db_err)?;
    let applied_at: String = r.try_get("applied_at").map_err(db_err)?;
    let reviewed_at: Option<String> = r.try_get("reviewed_at").map_err(db_err)?;
    Ok(Application {
        id: ApplicationId(r.try_get("id").map_err(db_err)?),
        municipality_id: MunicipalityId(r.try_get("municipality_id").map_err(db_err)?),
        family_id: FamilyId(r.try_get("family_id").map_err(db_err)?),
        venue_id: VenueId(r.try_get("venue_id").map_err(db_err)?),
        service: ServiceType::parse(&service).ok_or_else(|| corrupt("service type"))?,
        stay: stay_range(&first, &last)?,
        babies: u8::try_from(r.try_get::<i64, _>("babies").map_err(db_err)?).map_err(|_| corrupt("babies"))?,
        siblings: u8::try_from(r.try_get::<i64, _>("siblings").map_err(db_err)?).map_err(|_| corrupt("siblings"))?,
        answers: ApplicationAnswers {
            rolls_over_actively: r.try_get("rolls_over_actively").map_err(db_err)?,
            needs_medical_treatment: r.try_get("needs_medical_treatment").map_err(db_err)?,
            has_worries_or_fatigue: r.try_get("has_worries_or_fatigue").map_err(db_err)?,
            lacks_help_from_relatives: r.try_get("lacks_help_from_relatives").map_err(db_err)?,
            grandparents_nearby: r.try_get("grandparents_nearby").map_err(db_err)?,
        },
        quote_total_yen: u32::try_from(r.try_get::<i64, _>("quote_total_yen").map_err(db_err)?)
            .map_err(|_| corrupt("quote"))?,
        transport_paid: r.try_get("transport_paid").map_err(db_err)?,
        refusals: serde_json::from_str(&refusals).map_err(|_| corrupt("refusals"))?,
        override_reason: r.try_get("override_reason").map_err(db_err)?,
        status: ApplicationStatus::parse(&status).ok_or_else(|| corrupt("application status"))?,
        applied_by: AccountId(r.try_get("applied_by").map_err(db_err)?),
        applied_at: ts(&applied_at)?,
        reviewed_by: r.try_get::<Option<i64>, _>("reviewed_by").map_err(db_err)?.map(AccountId),
        reviewed_at: reviewed_at.as_deref().map(ts).transpose()?,
        review_note: r.try_get("review_note").map_err(db_err)?,
        mother_name: r.try_get("mother_name").map_err(db_err)?,
    })
}

/// What a decision on an application needs to know of it.
struct Decided {
    family: FamilyId,
    venue: VenueId,
    status: ApplicationStatus,
    stay: DateRange,
}

/// The application `id` of municipality `m` as it stands inside `tx`
/// (`NotFound` when it is not there or in another municipality).
async fn decided(tx: &mut SqliteConnection, m: MunicipalityId, id: ApplicationId) -> Result<Decided> {
    let r = sqlx::query(
        "SELECT family_id, venue_id, status, stay_first, stay_last FROM postpartum_applications \
         WHERE id = ? AND municipality_id = ?",
    )
    .bind(id.0)
    .bind(m.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?
    .ok_or(StoreError::NotFound)?;
    let status: String = r.try_get(2).map_err(db_err)?;
    let first: String = r.try_get(3).map_err(db_err)?;
    let last: String = r.try_get(4).map_err(db_err)?;
    Ok(Decided {
        family: FamilyId(r.try_get(0).map_err(db_err)?),
        venue: VenueId(r.try_get(1).map_err(db_err)?),
        status: ApplicationStatus::parse(&status).ok_or_else(|| corrupt("application status"))?,
        stay: stay_range(&first, &last)?,
    })
}

/// The booking's days in order, once each, if they are exactly the stay's
/// days; `Conflict("booking_mismatch")` otherwise.
fn booking_days(booking: &Booking, stay: DateRange) -> Result<Vec<(Date, u32)>> {
    let mut days = booking.places.clone();
    days.sort_by_key(|(d, _)| *d);
    if !days.iter().map(|(d, _)| *d).eq(stay.days()) {
        return Err(StoreError::Conflict("booking_mismatch"));
    }
    Ok(days)
}

// --- referrals, follow-ups, online talks, incidents -----------------------------

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

/// The columns of a referral as `referral_row` reads them.
const REFERRAL_COLUMNS: &str = concat!(
    "r.id, r.municipality_id, r.family_id, r.pregnancy_id, r.raised_by_role, r.source, r.urgent, r.status, ",
    "r.escalated, r.specified_expectant_mother, r.close_reason, r.note, r.raised_by_account, r.raised_at, ",
    "r.venue_id, r.application_id, r.updated_at, ",
    mother_name_of!("r")
);

fn referral_row(r: &SqliteRow) -> Result<StoredReferral> {
    let role: String = r.try_get("raised_by_role").map_err(db_err)?;
    let source: String = r.try_get("source").map_err(db_err)?;
    let status: String = r.try_get("status").map_err(db_err)?;
    let close_reason: Option<String> = r.try_get("close_reason").map_err(db_err)?;
    let raised_at: String = r.try_get("raised_at").map_err(db_err)?;
    let updated_at: String = r.try_get("updated_at").map_err(db_err)?;
    Ok(StoredReferral {
        id: ReferralId(r.try_get("id").map_err(db_err)?),
        municipality_id: MunicipalityId(r.try_get("municipality_id").map_err(db_err)?),
        referral: Referral {
            family: FamilyId(r.try_get("family_id").map_err(db_err)?),
            pregnancy: r.try_get::<Option<i64>, _>("pregnancy_id").map_err(db_err)?.map(PregnancyId),
            raised_by: Role::parse(&role).ok_or_else(|| corrupt("role"))?,
            source: ConcernSource::parse(&source).ok_or_else(|| corrupt("concern source"))?,
            urgent: r.try_get("urgent").map_err(db_err)?,
            status: ReferralStatus::parse(&status).ok_or_else(|| corrupt("referral status"))?,
            escalated: r.try_get("escalated").map_err(db_err)?,
            specified_expectant_mother: r.try_get("specified_expectant_mother").map_err(db_err)?,
            close_reason: close_reason
                .as_deref()
                .map(|c| CloseReason::parse(c).ok_or_else(|| corrupt("close reason")))
                .transpose()?,
        },
        note: r.try_get("note").map_err(db_err)?,
        raised_by_account: AccountId(r.try_get("raised_by_account").map_err(db_err)?),
        raised_at: ts(&raised_at)?,
        venue_id: r.try_get::<Option<i64>, _>("venue_id").map_err(db_err)?.map(VenueId),
        application_id: r.try_get::<Option<i64>, _>("application_id").map_err(db_err)?.map(ApplicationId),
        updated_at: ts(&updated_at)?,
        mother_name: r.try_get("mother_name").map_err(db_err)?,
    })
}

/// Inserts one step of a referral's history inside `tx`.
async fn insert_referral_event(
    tx: &mut SqliteConnection,
    ctx: &AuditContext,
    id: ReferralId,
    action: &str,
    note: &str,
) -> Result<()> {
    sqlx::query("INSERT INTO referral_events (referral_id, action, by_account, at, note) VALUES (?, ?, ?, ?, ?)")
        .bind(id.0)
        .bind(action)
        .bind(ctx.actor.0)
        .bind(ts_text(ctx.at))
        .bind(note)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// Stores a new referral with its first step and its `referral.raise`
/// audit line inside `tx` (a concern raised by hand, or by a screening).
async fn insert_referral(
    tx: &mut SqliteConnection,
    key: &ChainKey,
    ctx: &AuditContext,
    r: &Referral,
    note: &str,
    venue: Option<VenueId>,
    application: Option<ApplicationId>,
) -> Result<ReferralId> {
    let m = ctx.municipality_id;
    if !in_municipality(&mut *tx, "families", r.family.0, m).await? {
        return Err(StoreError::InvalidReference("family_id"));
    }
    if let Some(p) = r.pregnancy {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT id FROM pregnancies WHERE id = ? AND family_id = ? AND municipality_id = ?")
                .bind(p.0)
                .bind(r.family.0)
                .bind(m.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        if found.is_none() {
            return Err(StoreError::InvalidReference("pregnancy_id"));
        }
    }
    if let Some(v) = venue {
        if !is_facility(&mut *tx, v, m).await? {
            return Err(StoreError::InvalidReference("venue_id"));
        }
    }
    if let Some(a) = application {
        // The family's own application, at the facility named (if one is).
        let at_venue: Option<i64> = sqlx::query_scalar(
            "SELECT venue_id FROM postpartum_applications WHERE id = ? AND family_id = ? AND municipality_id = ?",
        )
        .bind(a.0)
        .bind(r.family.0)
        .bind(m.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        match at_venue {
            Some(v) if venue.is_none_or(|venue| venue.0 == v) => {}
            _ => return Err(StoreError::InvalidReference("application_id")),
        }
    }
    let now = ts_text(ctx.at);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO referrals (municipality_id, family_id, pregnancy_id, raised_by_role, source, urgent, status, \
         escalated, specified_expectant_mother, close_reason, note, raised_by_account, raised_at, venue_id, \
         application_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(m.0)
    .bind(r.family.0)
    .bind(r.pregnancy.map(|p| p.0))
    .bind(r.raised_by.as_str())
    .bind(r.source.as_str())
    .bind(r.urgent)
    .bind(r.status.as_str())
    .bind(r.escalated)
    .bind(r.specified_expectant_mother)
    .bind(r.close_reason.map(CloseReason::as_str))
    .bind(note)
    .bind(ctx.actor.0)
    .bind(&now)
    .bind(venue.map(|v| v.0))
    .bind(application.map(|a| a.0))
    .bind(&now)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    let id = ReferralId(id);
    insert_referral_event(tx, ctx, id, "raise", note).await?;
    append_audit(tx, key, ctx, AuditAction::ReferralRaise, Some(r.family), &format!("referral={id}")).await?;
    Ok(id)
}

const FOLLOWUP_COLUMNS: &str =
    concat!("f.id, f.municipality_id, f.venue_id, f.family_id, f.start, f.status, f.booked_by, ", mother_name_of!("f"));

fn followup_row(r: &SqliteRow) -> Result<Followup> {
    let start: String = r.try_get("start").map_err(db_err)?;
    let status: String = r.try_get("status").map_err(db_err)?;
    Ok(Followup {
        id: FollowupId(r.try_get("id").map_err(db_err)?),
        municipality_id: MunicipalityId(r.try_get("municipality_id").map_err(db_err)?),
        venue_id: VenueId(r.try_get("venue_id").map_err(db_err)?),
        family_id: FamilyId(r.try_get("family_id").map_err(db_err)?),
        start: civil(&start)?,
        status: match status.as_str() {
            "booked" => FollowupStatus::Booked,
            "cancelled" => FollowupStatus::Cancelled,
            _ => return Err(corrupt("follow-up status")),
        },
        booked_by: AccountId(r.try_get("booked_by").map_err(db_err)?),
        mother_name: r.try_get("mother_name").map_err(db_err)?,
    })
}

fn online_talk_row(r: &SqliteRow) -> Result<OnlineTalk> {
    let starts: String = r.try_get("starts").map_err(db_err)?;
    Ok(OnlineTalk {
        id: TalkId(r.try_get("id").map_err(db_err)?),
        municipality_id: MunicipalityId(r.try_get("municipality_id").map_err(db_err)?),
        venue_id: VenueId(r.try_get("venue_id").map_err(db_err)?),
        starts: civil(&starts)?,
        minutes: u16::try_from(r.try_get::<i64, _>("minutes").map_err(db_err)?).map_err(|_| corrupt("minutes"))?,
        title: r.try_get("title").map_err(db_err)?,
        attendees: u32::try_from(r.try_get::<i64, _>("attendees").map_err(db_err)?)
            .map_err(|_| corrupt("attendees"))?,
    })
}

fn incident_row(r: &SqliteRow) -> Result<Incident> {
    let heading: String = r.try_get("heading").map_err(db_err)?;
    let occurred: String = r.try_get("occurred").map_err(db_err)?;
    let reported_at: String = r.try_get("reported_at").map_err(db_err)?;
    Ok(Incident {
        id: IncidentId(r.try_get("id").map_err(db_err)?),
        municipality_id: MunicipalityId(r.try_get("municipality_id").map_err(db_err)?),
        venue_id: VenueId(r.try_get("venue_id").map_err(db_err)?),
        heading: IncidentHeading::parse(&heading).ok_or_else(|| corrupt("incident heading"))?,
        occurred: civil(&occurred)?,
        summary: r.try_get("summary").map_err(db_err)?,
        family_id: r.try_get::<Option<i64>, _>("family_id").map_err(db_err)?.map(FamilyId),
        reported_by: AccountId(r.try_get("reported_by").map_err(db_err)?),
        reported_at: ts(&reported_at)?,
    })
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

    /// Writes one audit line in a transaction of its own.
    async fn audit(
        &self,
        ctx: &AuditContext,
        action: AuditAction,
        family: Option<FamilyId>,
        detail: &str,
    ) -> Result<()> {
        let mut tx = self.begin_immediate().await?;
        append_audit(&mut tx, &self.keys.chain, ctx, action, family, detail).await?;
        tx.commit().await.map_err(db_err)
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> Result<()> {
        self.migrate_with(MIGRATIONS).await?;
        keys::seal_plaintext_totp(self).await
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await.map_err(db_err)?;
        Ok(())
    }

    async fn create_municipality(&self, code: MunicipalityCode, name_ja: &str, name_en: &str) -> Result<Municipality> {
        let r =
            sqlx::query("INSERT INTO municipalities (code, name_ja, name_en) VALUES (?, ?, ?) RETURNING *")
                .bind(code.to_string())
                .bind(name_ja)
                .bind(name_en)
                .fetch_one(&self.writer)
                .await
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        StoreError::Conflict("municipality_exists")
                    } else {
                        db_err(e)
                    }
                })?;
        municipality_row(&r)
    }

    async fn municipality(&self, id: MunicipalityId) -> Result<Option<Municipality>> {
        let r = sqlx::query("SELECT * FROM municipalities WHERE id = ?")
            .bind(id.0)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_err)?;
        r.as_ref().map(municipality_row).transpose()
    }

    async fn municipality_by_code(&self, code: MunicipalityCode) -> Result<Option<Municipality>> {
        let r = sqlx::query("SELECT * FROM municipalities WHERE code = ?")
            .bind(code.to_string())
            .fetch_optional(&self.reader)
            .await
            .map_err(db_err)?;
        r.as_ref().map(municipality_row).transpose()
    }

    async fn municipalities(&self) -> Result<Vec<Municipality>> {
        let rows =
            sqlx::query("SELECT * FROM municipalities ORDER BY code").fetch_all(&self.reader).await.map_err(db_err)?;
        rows.iter().map(municipality_row).collect()
    }

    async fn create_area(&self, m: MunicipalityId, name_ja: &str, name_en: &str) -> Result<Area> {
        let id: i64 =
            sqlx::query_scalar("INSERT INTO areas (municipality_id, name_ja, name_en) VALUES (?, ?, ?) RETURNING id")
                .bind(m.0)
                .bind(name_ja)
                .bind(name_en)
                .fetch_one(&self.writer)
                .await
                .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict("area_exists") } else { db_err(e) })?;
        Ok(Area { id: AreaId(id), municipality_id: m, name_ja: name_ja.to_owned(), name_en: name_en.to_owned() })
    }

    async fn areas(&self, m: MunicipalityId) -> Result<Vec<Area>> {
        let rows = sqlx::query("SELECT id, name_ja, name_en FROM areas WHERE municipality_id = ? ORDER BY id")
            .bind(m.0)
            .fetch_all(&self.reader)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(Area {
                    id: AreaId(r.try_get(0).map_err(db_err)?),
                    municipality_id: m,
                    name_ja: r.try_get(1).map_err(db_err)?,
                    name_en: r.try_get(2).map_err(db_err)?,
                })
            })
            .collect()
    }

    async fn create_venue(&self, v: &NewVenue) -> Result<Venue> {
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        if let Some(a) = v.area_id {
            if !in_municipality(&mut tx, "areas", a.0, v.municipality_id).await? {
                return Err(StoreError::InvalidReference("area_id"));
            }
        }
        let r = sqlx::query(
            "INSERT INTO venues (municipality_id, area_id, kind, name_ja, name_en) VALUES (?, ?, ?, ?, ?) RETURNING *",
        )
        .bind(v.municipality_id.0)
        .bind(v.area_id.map(|a| a.0))
        .bind(v.kind.as_str())
        .bind(&v.name_ja)
        .bind(&v.name_en)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let venue = venue_row(&r)?;
        tx.commit().await.map_err(db_err)?;
        Ok(venue)
    }

    async fn venues(&self, m: MunicipalityId) -> Result<Vec<Venue>> {
        let rows = sqlx::query("SELECT * FROM venues WHERE municipality_id = ? ORDER BY id")
            .bind(m.0)
            .fetch_all(&self.reader)
            .await
            .map_err(db_err)?;
        rows.iter().map(venue_row).collect()
    }

    async fn create_account(&self, ctx: Option<&AuditContext>, a: &NewAccount) -> Result<Account> {
        if ctx.is_some_and(|c| c.municipality_id != a.municipality_id) {
            return Err(StoreError::InvalidReference("municipality"));
        }
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        let now = a.created_at;
        let m = a.municipality_id;
        if let Some(f) = a.family_id {
            if !in_municipality(&mut tx, "families", f.0, m).await? {
                return Err(StoreError::InvalidReference("family_id"));
            }
        }
        for area in &a.areas {
            if !in_municipality(&mut tx, "areas", area.0, m).await? {
                return Err(StoreError::InvalidReference("areas"));
            }
        }
        for venue in &a.venues {
            if !in_municipality(&mut tx, "venues", venue.0, m).await? {
                return Err(StoreError::InvalidReference("venues"));
            }
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO accounts (municipality_id, username, display_name, role, password_hash, totp_secret, \
             family_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(a.municipality_id.0)
        .bind(&a.username)
        .bind(&a.display_name)
        .bind(a.role.as_str())
        .bind(a.password_hash.expose())
        // Sealed below: the account id is the sealed secret's associated data.
        .bind(None::<String>)
        .bind(a.family_id.map(|f| f.0))
        .bind(ts_text(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict("username_taken") } else { db_err(e) })?;
        if let Some(secret) = &a.totp_secret {
            sqlx::query("UPDATE accounts SET totp_secret = ? WHERE id = ?")
                .bind(self.keys.seal_totp(AccountId(id), secret)?)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        let scopes = a
            .areas
            .iter()
            .map(|x| ("area", x.0))
            .chain(a.venues.iter().map(|x| ("venue", x.0)))
            .chain(a.rooms.iter().map(|x| ("room", x.0)));
        for (kind, ref_id) in scopes {
            sqlx::query("INSERT OR IGNORE INTO account_scopes (account_id, kind, ref_id) VALUES (?, ?, ?)")
                .bind(id)
                .bind(kind)
                .bind(ref_id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        if let Some(ctx) = ctx {
            append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::AccountCreate, None, &format!("account={id}"))
                .await?;
        }
        tx.commit().await.map_err(db_err)?;
        self.account(AccountId(id)).await?.ok_or(StoreError::NotFound)
    }

    async fn account(&self, id: AccountId) -> Result<Option<Account>> {
        let r = sqlx::query(&format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = ?"))
            .bind(id.0)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_err)?;
        match r {
            Some(r) => Ok(Some(self.account_from_row(r).await?)),
            None => Ok(None),
        }
    }

    async fn account_by_username(&self, m: MunicipalityId, username: &str) -> Result<Option<Account>> {
        let r =
            sqlx::query(&format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE municipality_id = ? AND username = ?"))
                .bind(m.0)
                .bind(username)
                .fetch_optional(&self.reader)
                .await
                .map_err(db_err)?;
        match r {
            Some(r) => Ok(Some(self.account_from_row(r).await?)),
            None => Ok(None),
        }
    }

    async fn accounts(&self, m: MunicipalityId) -> Result<Vec<Account>> {
        let rows =
            sqlx::query(&format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE municipality_id = ? ORDER BY id"))
                .bind(m.0)
                .fetch_all(&self.reader)
                .await
                .map_err(db_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(self.account_from_row(r).await?);
        }
        Ok(out)
    }

    async fn set_password(&self, ctx: Option<&AuditContext>, id: AccountId, hash: &Secret) -> Result<()> {
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        // With an administrator's context, only accounts of their municipality.
        let n =
            sqlx::query("UPDATE accounts SET password_hash = ? WHERE id = ? AND (? IS NULL OR municipality_id = ?)")
                .bind(hash.expose())
                .bind(id.0)
                .bind(ctx.map(|c| c.municipality_id.0))
                .bind(ctx.map(|c| c.municipality_id.0))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?
                .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM sessions WHERE account_id = ?").bind(id.0).execute(&mut *tx).await.map_err(db_err)?;
        if let Some(ctx) = ctx {
            append_audit(
                &mut tx,
                &self.keys.chain,
                ctx,
                AuditAction::AccountPasswordReset,
                None,
                &format!("account={id}"),
            )
            .await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn set_totp_secret(&self, ctx: Option<&AuditContext>, id: AccountId, secret: Option<&Secret>) -> Result<()> {
        let sealed = secret.map(|s| self.keys.seal_totp(id, s)).transpose()?;
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        let n = sqlx::query(
            "UPDATE accounts SET totp_secret = ?, totp_last_step = 0 WHERE id = ? AND (? IS NULL OR municipality_id = ?)",
        )
        .bind(sealed)
        .bind(id.0)
        .bind(ctx.map(|c| c.municipality_id.0))
        .bind(ctx.map(|c| c.municipality_id.0))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        if secret.is_none() {
            sqlx::query("DELETE FROM sessions WHERE account_id = ?")
                .bind(id.0)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        if let Some(ctx) = ctx {
            append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::AccountTotpReset, None, &format!("account={id}"))
                .await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn use_totp_step(&self, id: AccountId, step: i64) -> Result<bool> {
        let n = sqlx::query("UPDATE accounts SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?")
            .bind(step)
            .bind(id.0)
            .bind(step)
            .execute(&self.writer)
            .await
            .map_err(db_err)?
            .rows_affected();
        Ok(n == 1)
    }

    async fn set_disabled(&self, ctx: &AuditContext, id: AccountId, disabled: bool) -> Result<()> {
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        let n = sqlx::query("UPDATE accounts SET disabled = ? WHERE id = ? AND municipality_id = ?")
            .bind(disabled)
            .bind(id.0)
            .bind(ctx.municipality_id.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        if disabled {
            sqlx::query("DELETE FROM sessions WHERE account_id = ?")
                .bind(id.0)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        let action = if disabled { AuditAction::AccountDisable } else { AuditAction::AccountEnable };
        append_audit(&mut tx, &self.keys.chain, ctx, action, None, &format!("account={id}")).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn create_session(&self, s: &Session) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, account_id, stage, csrf_token, created_at, last_seen_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&s.token_hash)
        .bind(s.account_id.0)
        .bind(s.stage.as_str())
        .bind(s.csrf_token.expose())
        .bind(ts_text(s.created_at))
        .bind(ts_text(s.last_seen_at))
        .execute(&self.writer)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn session(&self, token_hash: &str) -> Result<Option<Session>> {
        let r = sqlx::query("SELECT * FROM sessions WHERE token_hash = ?")
            .bind(token_hash)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_err)?;
        r.as_ref().map(session_row).transpose()
    }

    async fn touch_session(&self, token_hash: &str, at: Timestamp) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?")
            .bind(ts_text(at))
            .bind(token_hash)
            .execute(&self.writer)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
            .bind(token_hash)
            .execute(&self.writer)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn delete_sessions_of(&self, account: AccountId) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE account_id = ?")
            .bind(account.0)
            .execute(&self.writer)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn reserve_signin_attempt(&self, r: &SigninRequest) -> Result<SigninReservation> {
        signin::reserve(self, r).await
    }

    async fn settle_signin_attempt(&self, id: SigninAttemptId, outcome: SigninOutcome) -> Result<()> {
        signin::settle(self, id, outcome).await
    }

    async fn pending_totp_secret(&self, token_hash: &str, fresh: &Secret) -> Result<Option<Secret>> {
        signin::pending_totp_secret(self, token_hash, fresh).await
    }

    async fn register_notification(&self, ctx: &AuditContext, n: &Notification) -> Result<FamilyId> {
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        if !in_municipality(&mut tx, "areas", n.area_id.0, ctx.municipality_id).await? {
            return Err(StoreError::InvalidReference("area_id"));
        }
        let (family, pregnancy) = insert_notification(&mut tx, ctx, n).await?;
        let synced =
            timeline::sync_pregnancy(&mut tx, ctx.municipality_id, pregnancy, timeline::today_of(ctx), ctx.at).await?;
        append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::FamilyCreate, Some(family), &synced).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(family)
    }

    async fn import_families(
        &self,
        ctx: &AuditContext,
        families: &[ImportFamily],
    ) -> Result<Vec<Result<FamilyId, &'static str>>> {
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        let mut areas_seen = Vec::new();
        let mut out = Vec::with_capacity(families.len());
        for f in families {
            let n = &f.notification;
            if !areas_seen.contains(&n.area_id) {
                if !in_municipality(&mut tx, "areas", n.area_id.0, ctx.municipality_id).await? {
                    return Err(StoreError::InvalidReference("area_id"));
                }
                areas_seen.push(n.area_id);
            }
            match insert_notification(&mut tx, ctx, n).await {
                Ok((family, pregnancy)) => {
                    if !f.babies.is_empty() {
                        insert_babies(&mut tx, ctx.municipality_id, family, pregnancy, &f.babies).await?;
                    }
                    timeline::sync_pregnancy(&mut tx, ctx.municipality_id, pregnancy, timeline::today_of(ctx), ctx.at)
                        .await?;
                    if let Some(through) = f.settled_through {
                        timeline::settle_through(&mut tx, ctx, pregnancy, through).await?;
                    }
                    append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::FamilyCreate, Some(family), "import")
                        .await?;
                    out.push(Ok(family));
                }
                Err(StoreError::Conflict(code)) => out.push(Err(code)),
                Err(e) => return Err(e),
            }
        }
        tx.commit().await.map_err(db_err)?;
        Ok(out)
    }

    async fn family_access(&self, m: MunicipalityId, id: FamilyId) -> Result<Option<FamilyAccess>> {
        let r = sqlx::query(
            "SELECT area_id, consent_coordinators, consent_hubs, escalated FROM families \
             WHERE id = ? AND municipality_id = ?",
        )
        .bind(id.0)
        .bind(m.0)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_err)?;
        let Some(r) = r else { return Ok(None) };
        // Facilities where the family has an open application or an approved
        // stay: their staff may open the record (not after a rejection or a
        // cancellation).
        let facilities: Vec<i64> = sqlx::query_scalar(
            "SELECT DISTINCT venue_id FROM postpartum_applications WHERE family_id = ? AND municipality_id = ? \
             AND status IN ('applied', 'approved') ORDER BY venue_id",
        )
        .bind(id.0)
        .bind(m.0)
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        Ok(Some(FamilyAccess {
            municipality_id: m,
            family_id: id,
            area_id: AreaId(r.try_get(0).map_err(db_err)?),
            consent_coordinators: r.try_get(1).map_err(db_err)?,
            consent_hubs: r.try_get(2).map_err(db_err)?,
            escalated: r.try_get(3).map_err(db_err)?,
            facilities: facilities.into_iter().map(VenueId).collect(),
            programme_venues: vec![],
        }))
    }

    async fn open_family(&self, ctx: &AuditContext, id: FamilyId) -> Result<Option<FamilyRecord>> {
        let m = ctx.municipality_id;
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        let r = sqlx::query(
            "SELECT area_id, fee_bracket, consent_coordinators, consent_hubs, escalated FROM families \
             WHERE id = ? AND municipality_id = ?",
        )
        .bind(id.0)
        .bind(m.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let Some(r) = r else { return Ok(None) };
        let bracket: String = r.try_get(1).map_err(db_err)?;
        let family = Family {
            id,
            municipality_id: m,
            area_id: AreaId(r.try_get(0).map_err(db_err)?),
            fee_bracket: FeeBracket::parse(&bracket).ok_or_else(|| corrupt("fee bracket"))?,
            consent_coordinators: r.try_get(2).map_err(db_err)?,
            consent_hubs: r.try_get(3).map_err(db_err)?,
            escalated: r.try_get(4).map_err(db_err)?,
        };
        let people = sqlx::query(
            "SELECT id, relation, family_name, given_name, family_name_kana, given_name_kana, birth_date \
             FROM people WHERE family_id = ? ORDER BY id",
        )
        .bind(id.0)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| {
            let relation: String = r.try_get(1).map_err(db_err)?;
            Ok(Person {
                id: PersonId(r.try_get(0).map_err(db_err)?),
                family_id: id,
                relation: Relation::parse(&relation).ok_or_else(|| corrupt("relation"))?,
                family_name: r.try_get(2).map_err(db_err)?,
                given_name: r.try_get(3).map_err(db_err)?,
                family_name_kana: r.try_get(4).map_err(db_err)?,
                given_name_kana: r.try_get(5).map_err(db_err)?,
                birth_date: opt_date(r.try_get(6).map_err(db_err)?)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let pregnancies =
            sqlx::query(&format!("SELECT {PREGNANCY_COLUMNS} FROM pregnancies WHERE family_id = ? ORDER BY edd, id"))
                .bind(id.0)
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?
                .iter()
                .map(pregnancy_row)
                .collect::<Result<Vec<_>>>()?;
        let babies = sqlx::query(&format!("SELECT {BABY_COLUMNS} FROM babies WHERE family_id = ? ORDER BY id"))
            .bind(id.0)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?
            .iter()
            .map(baby_row)
            .collect::<Result<Vec<_>>>()?;
        append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::FamilyView, Some(id), "").await?;
        tx.commit().await.map_err(db_err)?;
        Ok(Some(FamilyRecord { family, people, pregnancies, babies }))
    }

    async fn search_families(
        &self,
        ctx: &AuditContext,
        filter: &FamilyFilter,
        kana_key: &str,
        limit: u32,
    ) -> Result<Vec<FamilySummary>> {
        let m = filter_municipality(filter);
        if m != ctx.municipality_id {
            return Err(StoreError::InvalidReference("municipality"));
        }
        if matches!(filter, FamilyFilter::ConsentingInAreas(_, areas) if areas.is_empty()) {
            self.write_audit(ctx, AuditAction::FamilySearch, None, "results=0").await?;
            return Ok(vec![]);
        }
        // Family-name matches first, then given-name matches: each is one range
        // scan of its index in order, stopped at `limit`, so the cost does not
        // grow with the number of families.
        let mut out = self.search_by(filter, "kana_key", kana_key, limit).await?;
        if out.len() < limit as usize {
            for row in self.search_by(filter, "given_kana_key", kana_key, limit).await? {
                if out.len() < limit as usize && !out.iter().any(|o| o.family_id == row.family_id) {
                    out.push(row);
                }
            }
        }
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        append_audit(
            &mut tx,
            &self.keys.chain,
            ctx,
            AuditAction::FamilySearch,
            None,
            &format!("results={}", out.len()),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(out)
    }

    async fn record_birth(
        &self,
        ctx: &AuditContext,
        family: FamilyId,
        pregnancy: PregnancyId,
        babies: &[NewBaby],
    ) -> Result<Vec<BabyId>> {
        let m = ctx.municipality_id;
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM pregnancies WHERE id = ? AND family_id = ? AND municipality_id = ?")
                .bind(pregnancy.0)
                .bind(family.0)
                .bind(m.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        match status.as_deref() {
            None => return Err(StoreError::NotFound),
            Some("ongoing") => {}
            Some(_) => return Err(StoreError::Conflict("pregnancy_not_ongoing")),
        }
        let ids = insert_babies(&mut tx, m, family, pregnancy, babies).await?;
        let synced = timeline::sync_pregnancy(&mut tx, m, pregnancy, timeline::today_of(ctx), ctx.at).await?;
        append_audit(
            &mut tx,
            &self.keys.chain,
            ctx,
            AuditAction::BirthRecord,
            Some(family),
            &format!("babies={} {synced}", ids.len()),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(ids)
    }

    async fn set_postpartum_facility(
        &self,
        m: MunicipalityId,
        venue: VenueId,
        operator_ja: &str,
        operator_en: &str,
        calendar: &FacilityCalendar,
    ) -> Result<()> {
        let json = serde_json::to_string(calendar).map_err(other_err)?;
        let mut tx = self.begin_immediate().await?;
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM venues WHERE id = ? AND municipality_id = ? AND kind = 'postpartum_facility'",
        )
        .bind(venue.0)
        .bind(m.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        if found.is_none() {
            return Err(StoreError::InvalidReference("venue_id"));
        }
        sqlx::query(
            "INSERT INTO postpartum_facilities (venue_id, operator_ja, operator_en, calendar) VALUES (?, ?, ?, ?) \
             ON CONFLICT (venue_id) DO UPDATE SET operator_ja = excluded.operator_ja, \
             operator_en = excluded.operator_en, calendar = excluded.calendar",
        )
        .bind(venue.0)
        .bind(operator_ja)
        .bind(operator_en)
        .bind(json)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn postpartum_facilities(&self, m: MunicipalityId) -> Result<Vec<PostpartumFacility>> {
        let rows = sqlx::query(
            "SELECT v.id, v.municipality_id, v.area_id, v.kind, v.name_ja, v.name_en, f.operator_ja, f.operator_en, \
             f.calendar FROM postpartum_facilities f JOIN venues v ON v.id = f.venue_id \
             WHERE v.municipality_id = ? ORDER BY v.id",
        )
        .bind(m.0)
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let calendar: String = r.try_get("calendar").map_err(db_err)?;
                Ok(PostpartumFacility {
                    venue: venue_row(r)?,
                    operator_ja: r.try_get("operator_ja").map_err(db_err)?,
                    operator_en: r.try_get("operator_en").map_err(db_err)?,
                    calendar: serde_json::from_str(&calendar).map_err(|_| corrupt("facility calendar"))?,
                })
            })
            .collect()
    }

    async fn create_application(&self, ctx: &AuditContext, a: &NewApplication) -> Result<ApplicationId> {
        if !a.refusals.is_empty() && a.override_reason.is_none() {
            return Err(StoreError::Conflict("override_reason_required"));
        }
        let m = ctx.municipality_id;
        let refusals = serde_json::to_string(&a.refusals).map_err(other_err)?;
        let mut tx = self.begin_immediate().await?;
        if !in_municipality(&mut tx, "families", a.family_id.0, m).await? {
            return Err(StoreError::InvalidReference("family_id"));
        }
        let facility: Option<i64> = sqlx::query_scalar(
            "SELECT f.venue_id FROM postpartum_facilities f JOIN venues v ON v.id = f.venue_id \
             WHERE f.venue_id = ? AND v.municipality_id = ?",
        )
        .bind(a.venue_id.0)
        .bind(m.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        if facility.is_none() {
            return Err(StoreError::InvalidReference("venue_id"));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO postpartum_applications (municipality_id, family_id, venue_id, service, stay_first, \
             stay_last, babies, siblings, rolls_over_actively, needs_medical_treatment, has_worries_or_fatigue, \
             lacks_help_from_relatives, grandparents_nearby, quote_total_yen, transport_paid, refusals, \
             override_reason, status, applied_by, applied_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'applied', ?, ?) RETURNING id",
        )
        .bind(m.0)
        .bind(a.family_id.0)
        .bind(a.venue_id.0)
        .bind(a.service.as_str())
        .bind(a.stay.first().to_string())
        .bind(a.stay.last().to_string())
        .bind(i64::from(a.babies))
        .bind(i64::from(a.siblings))
        .bind(a.answers.rolls_over_actively)
        .bind(a.answers.needs_medical_treatment)
        .bind(a.answers.has_worries_or_fatigue)
        .bind(a.answers.lacks_help_from_relatives)
        .bind(a.answers.grandparents_nearby)
        .bind(i64::from(a.quote_total_yen))
        .bind(a.transport_paid)
        .bind(refusals)
        .bind(&a.override_reason)
        .bind(ctx.actor.0)
        .bind(ts_text(ctx.at))
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        append_audit(
            &mut tx,
            &self.keys.chain,
            ctx,
            AuditAction::PostpartumApply,
            Some(a.family_id),
            &format!("application={id}"),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(ApplicationId(id))
    }

    async fn applications(&self, ctx: &AuditContext, filter: &ApplicationFilter) -> Result<Vec<Application>> {
        let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new(format!(
            "SELECT {APPLICATION_COLUMNS} FROM postpartum_applications a WHERE a.municipality_id = "
        ));
        qb.push_bind(ctx.municipality_id.0);
        if let Some(f) = filter.family_id {
            qb.push(" AND a.family_id = ").push_bind(f.0);
        }
        if let Some(v) = filter.venue_id {
            qb.push(" AND a.venue_id = ").push_bind(v.0);
        }
        if let Some(s) = filter.status {
            qb.push(" AND a.status = ").push_bind(s.as_str());
        }
        qb.push(" ORDER BY a.applied_at DESC, a.id DESC LIMIT ").push_bind(i64::from(filter.limit.clamp(1, 1000)));
        let rows = qb.build().fetch_all(&self.reader).await.map_err(db_err)?;
        let out = rows.iter().map(application_row).collect::<Result<Vec<_>>>()?;
        // A list of one family's applications is a read of that family.
        self.audit(ctx, AuditAction::PostpartumList, filter.family_id, &format!("results={}", out.len())).await?;
        Ok(out)
    }

    async fn application_owner(&self, m: MunicipalityId, id: ApplicationId) -> Result<Option<(FamilyId, VenueId)>> {
        let r: Option<(i64, i64)> = sqlx::query_as(
            "SELECT family_id, venue_id FROM postpartum_applications WHERE id = ? AND municipality_id = ?",
        )
        .bind(id.0)
        .bind(m.0)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_err)?;
        Ok(r.map(|(f, v)| (FamilyId(f), VenueId(v))))
    }

    async fn application(&self, ctx: &AuditContext, id: ApplicationId) -> Result<Option<Application>> {
        let r = sqlx::query(&format!(
            "SELECT {APPLICATION_COLUMNS} FROM postpartum_applications a WHERE a.id = ? AND a.municipality_id = ?"
        ))
        .bind(id.0)
        .bind(ctx.municipality_id.0)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_err)?;
        let Some(r) = r else { return Ok(None) };
        let a = application_row(&r)?;
        self.audit(ctx, AuditAction::PostpartumView, Some(a.family_id), &format!("application={id}")).await?;
        Ok(Some(a))
    }

    async fn approve_application(
        &self,
        ctx: &AuditContext,
        id: ApplicationId,
        booking: &Booking,
        note: &str,
    ) -> Result<()> {
        let m = ctx.municipality_id;
        // The write lock is held from BEGIN, so the status read here and the
        // counts the upserts see cannot change before the commit, whichever
        // store (connection) on this file approves at the same time.
        let mut tx = self.begin_immediate().await?;
        let app = decided(&mut tx, m, id).await?;
        if app.status != ApplicationStatus::Applied {
            return Err(StoreError::Conflict("not_applied"));
        }
        let days = booking_days(booking, app.stay)?;
        if days.iter().any(|(_, places)| *places == 0) {
            return Err(StoreError::Conflict("no_capacity"));
        }
        let pool = i64::from(booking.pool);
        for (day, places) in &days {
            let n = sqlx::query(
                "INSERT INTO postpartum_places (venue_id, pool, day, taken) VALUES (?, ?, ?, 1) \
                 ON CONFLICT (venue_id, pool, day) DO UPDATE SET taken = postpartum_places.taken + 1 \
                 WHERE postpartum_places.taken < ?",
            )
            .bind(app.venue.0)
            .bind(pool)
            .bind(day.to_string())
            .bind(i64::from(*places))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
            if n != 1 {
                // Dropping the transaction rolls back the places taken so far.
                return Err(StoreError::Conflict("no_capacity"));
            }
            sqlx::query(
                "INSERT INTO postpartum_bookings (application_id, day, pool, venue_id, municipality_id) \
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(id.0)
            .bind(day.to_string())
            .bind(pool)
            .bind(app.venue.0)
            .bind(m.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        mark_reviewed(
            &mut tx,
            &self.keys.chain,
            ctx,
            id,
            ApplicationStatus::Approved,
            note,
            AuditAction::PostpartumApprove,
            app.family,
        )
        .await?;
        tx.commit().await.map_err(db_err)
    }

    async fn reject_application(&self, ctx: &AuditContext, id: ApplicationId, note: &str) -> Result<()> {
        let mut tx = self.begin_immediate().await?;
        let app = decided(&mut tx, ctx.municipality_id, id).await?;
        if app.status != ApplicationStatus::Applied {
            return Err(StoreError::Conflict("not_applied"));
        }
        mark_reviewed(
            &mut tx,
            &self.keys.chain,
            ctx,
            id,
            ApplicationStatus::Rejected,
            note,
            AuditAction::PostpartumReject,
            app.family,
        )
        .await?;
        tx.commit().await.map_err(db_err)
    }

    async fn cancel_application(&self, ctx: &AuditContext, id: ApplicationId, note: &str) -> Result<()> {
        let mut tx = self.begin_immediate().await?;
        let app = decided(&mut tx, ctx.municipality_id, id).await?;
        match app.status {
            ApplicationStatus::Applied => {}
            ApplicationStatus::Approved => {
                // Give back the place of every booked day, then the days.
                sqlx::query(
                    "UPDATE postpartum_places SET taken = taken - 1 WHERE (venue_id, pool, day) IN \
                     (SELECT venue_id, pool, day FROM postpartum_bookings WHERE application_id = ?)",
                )
                .bind(id.0)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                sqlx::query("DELETE FROM postpartum_bookings WHERE application_id = ?")
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
            ApplicationStatus::Rejected | ApplicationStatus::Cancelled => {
                return Err(StoreError::Conflict("not_cancellable"))
            }
        }
        sqlx::query(
            "UPDATE postpartum_applications SET status = 'cancelled', cancelled_by = ?, cancelled_at = ?, \
             cancel_note = ? WHERE id = ?",
        )
        .bind(ctx.actor.0)
        .bind(ts_text(ctx.at))
        .bind(note)
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        append_audit(
            &mut tx,
            &self.keys.chain,
            ctx,
            AuditAction::PostpartumCancel,
            Some(app.family),
            &format!("application={id}"),
        )
        .await?;
        tx.commit().await.map_err(db_err)
    }

    async fn places_taken(
        &self,
        m: MunicipalityId,
        venue: VenueId,
        pool: u32,
        range: DateRange,
    ) -> Result<Vec<(Date, u32)>> {
        let rows = sqlx::query(
            "SELECT p.day, p.taken FROM postpartum_places p JOIN venues v ON v.id = p.venue_id \
             WHERE v.municipality_id = ? AND p.venue_id = ? AND p.pool = ? AND p.day >= ? AND p.day <= ? \
             AND p.taken > 0 ORDER BY p.day",
        )
        .bind(m.0)
        .bind(venue.0)
        .bind(i64::from(pool))
        .bind(range.first().to_string())
        .bind(range.last().to_string())
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let day: String = r.try_get(0).map_err(db_err)?;
                let taken: i64 = r.try_get(1).map_err(db_err)?;
                Ok((date(&day)?, u32::try_from(taken).map_err(|_| corrupt("places taken"))?))
            })
            .collect()
    }

    async fn record_stay_note(&self, ctx: &AuditContext, id: ApplicationId, day: Date, note: &str) -> Result<()> {
        let mut tx = self.begin_immediate().await?;
        let app = decided(&mut tx, ctx.municipality_id, id).await?;
        if app.status != ApplicationStatus::Approved {
            return Err(StoreError::Conflict("not_approved"));
        }
        if !app.stay.contains(day) {
            return Err(StoreError::Conflict("day_not_in_stay"));
        }
        sqlx::query(
            "INSERT INTO postpartum_stay_notes (application_id, day, note, by_account, at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(id.0)
        .bind(day.to_string())
        .bind(note)
        .bind(ctx.actor.0)
        .bind(ts_text(ctx.at))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        append_audit(
            &mut tx,
            &self.keys.chain,
            ctx,
            AuditAction::PostpartumNote,
            Some(app.family),
            &format!("application={id}"),
        )
        .await?;
        tx.commit().await.map_err(db_err)
    }

    async fn stay_notes(&self, ctx: &AuditContext, id: ApplicationId) -> Result<Vec<StayNote>> {
        let family: Option<i64> =
            sqlx::query_scalar("SELECT family_id FROM postpartum_applications WHERE id = ? AND municipality_id = ?")
                .bind(id.0)
                .bind(ctx.municipality_id.0)
                .fetch_optional(&self.reader)
                .await
                .map_err(db_err)?;
        let family = FamilyId(family.ok_or(StoreError::NotFound)?);
        let rows = sqlx::query(
            "SELECT day, note, by_account, at FROM postpartum_stay_notes WHERE application_id = ? \
             ORDER BY day, at, id",
        )
        .bind(id.0)
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        let notes = rows
            .iter()
            .map(|r| {
                let day: String = r.try_get(0).map_err(db_err)?;
                let at: String = r.try_get(3).map_err(db_err)?;
                Ok(StayNote {
                    day: date(&day)?,
                    note: r.try_get(1).map_err(db_err)?,
                    by: AccountId(r.try_get(2).map_err(db_err)?),
                    at: ts(&at)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        self.audit(ctx, AuditAction::PostpartumView, Some(family), &format!("application={id} notes={}", notes.len()))
            .await?;
        Ok(notes)
    }

    async fn postpartum_usage(&self, m: MunicipalityId, venue: VenueId, range: DateRange) -> Result<UsageCounts> {
        let r = sqlx::query(
            "SELECT COUNT(CASE WHEN a.service = 'short_stay' THEN 1 END), \
             COUNT(CASE WHEN a.service = 'day_care' THEN 1 END), \
             COUNT(CASE WHEN a.service = 'outreach' THEN 1 END), COUNT(DISTINCT a.family_id) \
             FROM postpartum_bookings b JOIN postpartum_applications a ON a.id = b.application_id \
             WHERE b.municipality_id = ? AND b.venue_id = ? AND b.day >= ? AND b.day <= ? AND a.status = 'approved'",
        )
        .bind(m.0)
        .bind(venue.0)
        .bind(range.first().to_string())
        .bind(range.last().to_string())
        .fetch_one(&self.reader)
        .await
        .map_err(db_err)?;
        let count = |i: usize| -> Result<u64> {
            u64::try_from(r.try_get::<i64, _>(i).map_err(db_err)?).map_err(|_| corrupt("count"))
        };
        Ok(UsageCounts {
            short_stay_days: count(0)?,
            day_care_days: count(1)?,
            outreach_visits: count(2)?,
            families: count(3)?,
        })
    }

    async fn postpartum_users_by_area(&self, m: MunicipalityId, range: DateRange) -> Result<Vec<(AreaId, u64)>> {
        let rows = sqlx::query(
            "SELECT f.area_id, COUNT(DISTINCT f.id) FROM postpartum_bookings b \
             JOIN postpartum_applications a ON a.id = b.application_id JOIN families f ON f.id = a.family_id \
             WHERE b.municipality_id = ? AND b.day >= ? AND b.day <= ? AND a.status = 'approved' \
             GROUP BY f.area_id ORDER BY f.area_id",
        )
        .bind(m.0)
        .bind(range.first().to_string())
        .bind(range.last().to_string())
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let n: i64 = r.try_get(1).map_err(db_err)?;
                Ok((AreaId(r.try_get(0).map_err(db_err)?), u64::try_from(n).map_err(|_| corrupt("count"))?))
            })
            .collect()
    }

    async fn raise_referral(
        &self,
        ctx: &AuditContext,
        r: &Referral,
        note: &str,
        venue: Option<VenueId>,
        application: Option<ApplicationId>,
    ) -> Result<ReferralId> {
        let mut tx = self.begin_immediate().await?;
        let id = insert_referral(&mut tx, &self.keys.chain, ctx, r, note, venue, application).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(id)
    }

    async fn referrals(&self, ctx: &AuditContext, filter: &ReferralFilter) -> Result<Vec<StoredReferral>> {
        let mut qb: QueryBuilder<'_, Sqlite> =
            QueryBuilder::new(format!("SELECT {REFERRAL_COLUMNS} FROM referrals r WHERE r.municipality_id = "));
        qb.push_bind(ctx.municipality_id.0);
        if let Some(f) = filter.family_id {
            qb.push(" AND r.family_id = ").push_bind(f.0);
        }
        if let Some(a) = filter.raised_by {
            qb.push(" AND r.raised_by_account = ").push_bind(a.0);
        }
        if filter.open_only {
            qb.push(" AND r.status <> 'closed'");
        }
        // Open urgent referrals first; a closed one never outranks open work.
        qb.push(" ORDER BY (r.status <> 'closed' AND r.urgent) DESC, r.raised_at DESC, r.id DESC LIMIT ")
            .push_bind(i64::from(filter.limit.clamp(1, 1000)));
        let rows = qb.build().fetch_all(&self.reader).await.map_err(db_err)?;
        let out = rows.iter().map(referral_row).collect::<Result<Vec<_>>>()?;
        // A list of one family's referrals is a read of that family.
        self.audit(ctx, AuditAction::ReferralList, filter.family_id, &format!("results={}", out.len())).await?;
        Ok(out)
    }

    async fn referral(&self, ctx: &AuditContext, id: ReferralId) -> Result<Option<StoredReferral>> {
        let r = sqlx::query(&format!(
            "SELECT {REFERRAL_COLUMNS} FROM referrals r WHERE r.id = ? AND r.municipality_id = ?"
        ))
        .bind(id.0)
        .bind(ctx.municipality_id.0)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_err)?;
        let Some(r) = r else { return Ok(None) };
        let referral = referral_row(&r)?;
        // The contract names no `referral.view`: one referral is a list of one.
        self.audit(ctx, AuditAction::ReferralList, Some(referral.referral.family), &format!("referral={id}")).await?;
        Ok(Some(referral))
    }

    async fn update_referral(
        &self,
        ctx: &AuditContext,
        id: ReferralId,
        expected: &Referral,
        next: &Referral,
        action: ReferralAction,
        note: &str,
    ) -> Result<()> {
        let m = ctx.municipality_id;
        // The write lock is held from BEGIN: what is read here is what the
        // update changes.
        let mut tx = self.begin_immediate().await?;
        let r = sqlx::query("SELECT family_id, pregnancy_id FROM referrals WHERE id = ? AND municipality_id = ?")
            .bind(id.0)
            .bind(m.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound)?;
        // A step never moves a referral to another family or pregnancy.
        if next.family.0 != r.try_get::<i64, _>(0).map_err(db_err)? {
            return Err(StoreError::InvalidReference("family_id"));
        }
        if next.pregnancy.map(|p| p.0) != r.try_get::<Option<i64>, _>(1).map_err(db_err)? {
            return Err(StoreError::InvalidReference("pregnancy_id"));
        }
        let n = sqlx::query(
            "UPDATE referrals SET raised_by_role = ?, source = ?, urgent = ?, status = ?, escalated = ?, \
             specified_expectant_mother = ?, close_reason = ?, updated_at = ? \
             WHERE id = ? AND municipality_id = ? AND status = ? AND escalated = ? \
             AND specified_expectant_mother = ? AND close_reason IS ?",
        )
        .bind(next.raised_by.as_str())
        .bind(next.source.as_str())
        .bind(next.urgent)
        .bind(next.status.as_str())
        .bind(next.escalated)
        .bind(next.specified_expectant_mother)
        .bind(next.close_reason.map(CloseReason::as_str))
        .bind(ts_text(ctx.at))
        .bind(id.0)
        .bind(m.0)
        .bind(expected.status.as_str())
        .bind(expected.escalated)
        .bind(expected.specified_expectant_mother)
        .bind(expected.close_reason.map(CloseReason::as_str))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict("referral_changed"));
        }
        insert_referral_event(&mut tx, ctx, id, action.as_str(), note).await?;
        if next.escalated {
            // Caseworkers may now open the family (policy: FamilyAccess.escalated).
            sqlx::query("UPDATE families SET escalated = 1 WHERE id = ? AND municipality_id = ?")
                .bind(next.family.0)
                .bind(m.0)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        append_audit(
            &mut tx,
            &self.keys.chain,
            ctx,
            AuditAction::ReferralUpdate,
            Some(next.family),
            &format!("referral={id}"),
        )
        .await?;
        tx.commit().await.map_err(db_err)
    }

    async fn referral_events(&self, ctx: &AuditContext, id: ReferralId) -> Result<Vec<ReferralEvent>> {
        let family: Option<i64> =
            sqlx::query_scalar("SELECT family_id FROM referrals WHERE id = ? AND municipality_id = ?")
                .bind(id.0)
                .bind(ctx.municipality_id.0)
                .fetch_optional(&self.reader)
                .await
                .map_err(db_err)?;
        let family = FamilyId(family.ok_or(StoreError::NotFound)?);
        // In the order the steps were taken.
        let rows =
            sqlx::query("SELECT action, by_account, at, note FROM referral_events WHERE referral_id = ? ORDER BY id")
                .bind(id.0)
                .fetch_all(&self.reader)
                .await
                .map_err(db_err)?;
        let events = rows
            .iter()
            .map(|r| {
                let at: String = r.try_get(2).map_err(db_err)?;
                Ok(ReferralEvent {
                    action: r.try_get(0).map_err(db_err)?,
                    by: AccountId(r.try_get(1).map_err(db_err)?),
                    at: ts(&at)?,
                    note: r.try_get(3).map_err(db_err)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        self.audit(ctx, AuditAction::ReferralList, Some(family), &format!("referral={id} events={}", events.len()))
            .await?;
        Ok(events)
    }

    async fn book_followup(
        &self,
        ctx: &AuditContext,
        venue: VenueId,
        family: FamilyId,
        start: DateTime,
    ) -> Result<FollowupId> {
        let m = ctx.municipality_id;
        let mut tx = self.begin_immediate().await?;
        if !is_facility(&mut tx, venue, m).await? {
            return Err(StoreError::InvalidReference("venue_id"));
        }
        if !in_municipality(&mut tx, "families", family.0, m).await? {
            return Err(StoreError::InvalidReference("family_id"));
        }
        // The partial unique index (venue, start) of booked rows keeps one
        // family per slot.
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO followups (municipality_id, venue_id, family_id, start, status, booked_by, booked_at) \
             VALUES (?, ?, ?, ?, 'booked', ?, ?) RETURNING id",
        )
        .bind(m.0)
        .bind(venue.0)
        .bind(family.0)
        .bind(civil_text(start))
        .bind(ctx.actor.0)
        .bind(ts_text(ctx.at))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict("slot_taken") } else { db_err(e) })?;
        append_audit(
            &mut tx,
            &self.keys.chain,
            ctx,
            AuditAction::FollowupBook,
            Some(family),
            &format!("followup={id}"),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(FollowupId(id))
    }

    async fn followups(
        &self,
        ctx: &AuditContext,
        venue: Option<VenueId>,
        family: Option<FamilyId>,
        range: DateRange,
    ) -> Result<Vec<Followup>> {
        let (first, last) = civil_bounds(range);
        let mut qb: QueryBuilder<'_, Sqlite> =
            QueryBuilder::new(format!("SELECT {FOLLOWUP_COLUMNS} FROM followups f WHERE f.municipality_id = "));
        qb.push_bind(ctx.municipality_id.0);
        qb.push(" AND f.start >= ").push_bind(first);
        qb.push(" AND f.start <= ").push_bind(last);
        if let Some(v) = venue {
            qb.push(" AND f.venue_id = ").push_bind(v.0);
        }
        if let Some(f) = family {
            qb.push(" AND f.family_id = ").push_bind(f.0);
        }
        qb.push(" ORDER BY f.start, f.id");
        let rows = qb.build().fetch_all(&self.reader).await.map_err(db_err)?;
        let out = rows.iter().map(followup_row).collect::<Result<Vec<_>>>()?;
        self.audit(ctx, AuditAction::FollowupList, family, &format!("results={}", out.len())).await?;
        Ok(out)
    }

    async fn cancel_followup(&self, ctx: &AuditContext, id: FollowupId) -> Result<()> {
        let m = ctx.municipality_id;
        let mut tx = self.begin_immediate().await?;
        let r = sqlx::query("SELECT family_id, status FROM followups WHERE id = ? AND municipality_id = ?")
            .bind(id.0)
            .bind(m.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound)?;
        let family = FamilyId(r.try_get(0).map_err(db_err)?);
        if r.try_get::<String, _>(1).map_err(db_err)? != "booked" {
            return Err(StoreError::Conflict("not_booked"));
        }
        sqlx::query(
            "UPDATE followups SET status = 'cancelled', cancelled_by = ?, cancelled_at = ? \
             WHERE id = ? AND municipality_id = ?",
        )
        .bind(ctx.actor.0)
        .bind(ts_text(ctx.at))
        .bind(id.0)
        .bind(m.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        append_audit(
            &mut tx,
            &self.keys.chain,
            ctx,
            AuditAction::FollowupCancel,
            Some(family),
            &format!("followup={id}"),
        )
        .await?;
        tx.commit().await.map_err(db_err)
    }

    async fn followup_count(&self, m: MunicipalityId, range: DateRange) -> Result<u64> {
        let (first, last) = civil_bounds(range);
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM followups WHERE municipality_id = ? AND start >= ? AND start <= ? \
             AND status = 'booked'",
        )
        .bind(m.0)
        .bind(first)
        .bind(last)
        .fetch_one(&self.reader)
        .await
        .map_err(db_err)?;
        u64::try_from(n).map_err(|_| corrupt("count"))
    }

    async fn create_online_talk(
        &self,
        ctx: &AuditContext,
        venue: VenueId,
        starts: DateTime,
        minutes: u16,
        title: &str,
    ) -> Result<TalkId> {
        let m = ctx.municipality_id;
        let mut tx = self.begin_immediate().await?;
        if !is_facility(&mut tx, venue, m).await? {
            return Err(StoreError::InvalidReference("venue_id"));
        }
        // Scheduling a talk touches nobody's record: no audit line.
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO online_talks (municipality_id, venue_id, starts, minutes, title, created_by, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(m.0)
        .bind(venue.0)
        .bind(civil_text(starts))
        .bind(i64::from(minutes))
        .bind(title)
        .bind(ctx.actor.0)
        .bind(ts_text(ctx.at))
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(TalkId(id))
    }

    async fn online_talks(&self, m: MunicipalityId, range: DateRange) -> Result<Vec<OnlineTalk>> {
        let (first, last) = civil_bounds(range);
        let rows = sqlx::query(
            "SELECT t.id, t.municipality_id, t.venue_id, t.starts, t.minutes, t.title, \
             (SELECT COUNT(*) FROM online_talk_attendees a WHERE a.talk_id = t.id) AS attendees \
             FROM online_talks t WHERE t.municipality_id = ? AND t.starts >= ? AND t.starts <= ? \
             ORDER BY t.starts, t.id",
        )
        .bind(m.0)
        .bind(first)
        .bind(last)
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        rows.iter().map(online_talk_row).collect()
    }

    async fn join_online_talk(&self, ctx: &AuditContext, talk: TalkId, family: FamilyId) -> Result<()> {
        let m = ctx.municipality_id;
        let mut tx = self.begin_immediate().await?;
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM online_talks WHERE id = ? AND municipality_id = ?")
            .bind(talk.0)
            .bind(m.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        if found.is_none() {
            return Err(StoreError::NotFound);
        }
        if !in_municipality(&mut tx, "families", family.0, m).await? {
            return Err(StoreError::InvalidReference("family_id"));
        }
        sqlx::query("INSERT INTO online_talk_attendees (talk_id, family_id, joined_by, joined_at) VALUES (?, ?, ?, ?)")
            .bind(talk.0)
            .bind(family.0)
            .bind(ctx.actor.0)
            .bind(ts_text(ctx.at))
            .execute(&mut *tx)
            .await
            .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict("already_joined") } else { db_err(e) })?;
        append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::TalkJoin, Some(family), &format!("talk={talk}"))
            .await?;
        tx.commit().await.map_err(db_err)
    }

    async fn report_incident(&self, ctx: &AuditContext, i: &NewIncident) -> Result<IncidentId> {
        let m = ctx.municipality_id;
        let mut tx = self.begin_immediate().await?;
        if !is_facility(&mut tx, i.venue_id, m).await? {
            return Err(StoreError::InvalidReference("venue_id"));
        }
        if let Some(f) = i.family_id {
            if !in_municipality(&mut tx, "families", f.0, m).await? {
                return Err(StoreError::InvalidReference("family_id"));
            }
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO incidents (municipality_id, venue_id, heading, occurred, summary, family_id, reported_by, \
             reported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(m.0)
        .bind(i.venue_id.0)
        .bind(i.heading.as_str())
        .bind(civil_text(i.occurred))
        .bind(&i.summary)
        .bind(i.family_id.map(|f| f.0))
        .bind(ctx.actor.0)
        .bind(ts_text(ctx.at))
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        append_audit(
            &mut tx,
            &self.keys.chain,
            ctx,
            AuditAction::IncidentReport,
            i.family_id,
            &format!("incident={id}"),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(IncidentId(id))
    }

    async fn incidents(&self, ctx: &AuditContext, venue: Option<VenueId>, range: DateRange) -> Result<Vec<Incident>> {
        let (first, last) = civil_bounds(range);
        let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new(
            "SELECT id, municipality_id, venue_id, heading, occurred, summary, family_id, reported_by, reported_at \
             FROM incidents WHERE municipality_id = ",
        );
        qb.push_bind(ctx.municipality_id.0);
        qb.push(" AND occurred >= ").push_bind(first);
        qb.push(" AND occurred <= ").push_bind(last);
        if let Some(v) = venue {
            qb.push(" AND venue_id = ").push_bind(v.0);
        }
        qb.push(" ORDER BY occurred DESC, id DESC");
        let rows = qb.build().fetch_all(&self.reader).await.map_err(db_err)?;
        let out = rows.iter().map(incident_row).collect::<Result<Vec<_>>>()?;
        self.audit(ctx, AuditAction::IncidentList, None, &format!("results={}", out.len())).await?;
        Ok(out)
    }

    async fn contact_kinds(&self, m: MunicipalityId) -> Result<KindSet> {
        let bits: Option<i64> = sqlx::query_scalar("SELECT contact_kinds FROM municipalities WHERE id = ?")
            .bind(m.0)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_err)?;
        let bits = bits.ok_or(StoreError::NotFound)?;
        Ok(KindSet::from_bits(u16::try_from(bits).map_err(|_| corrupt("contact kinds"))?))
    }

    async fn set_contact_kinds(&self, m: MunicipalityId, kinds: KindSet) -> Result<()> {
        let mut tx = self.begin_immediate().await?;
        let changed = sqlx::query("UPDATE municipalities SET contact_kinds = ? WHERE id = ? AND contact_kinds <> ?")
            .bind(i64::from(kinds.bits()))
            .bind(m.0)
            .bind(i64::from(kinds.bits()))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if changed > 0 {
            sqlx::query("UPDATE pregnancies SET timeline_rules = 0 WHERE municipality_id = ?")
                .bind(m.0)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn change_edd(&self, ctx: &AuditContext, family: FamilyId, pregnancy: PregnancyId, edd: Date) -> Result<()> {
        let m = ctx.municipality_id;
        let mut tx = self.begin_immediate().await?;
        if timeline::pregnancy_status(&mut tx, m, family, pregnancy).await? != PregnancyStatus::Ongoing {
            return Err(StoreError::Conflict("pregnancy_not_ongoing"));
        }
        sqlx::query("UPDATE pregnancies SET edd = ? WHERE id = ?")
            .bind(edd.to_string())
            .bind(pregnancy.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let synced = timeline::sync_pregnancy(&mut tx, m, pregnancy, timeline::today_of(ctx), ctx.at).await?;
        let detail = format!("pregnancy={} edd {synced}", pregnancy.0);
        append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::PregnancyUpdate, Some(family), &detail).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn end_pregnancy(
        &self,
        ctx: &AuditContext,
        family: FamilyId,
        pregnancy: PregnancyId,
        end: PregnancyEnd,
    ) -> Result<()> {
        let m = ctx.municipality_id;
        let mut tx = self.begin_immediate().await?;
        match (timeline::pregnancy_status(&mut tx, m, family, pregnancy).await?, end) {
            (PregnancyStatus::Ongoing, _) | (PregnancyStatus::Delivered, PregnancyEnd::MovedOut(_)) => {}
            (PregnancyStatus::Delivered, PregnancyEnd::Lost(_)) => {
                return Err(StoreError::Conflict("pregnancy_not_ongoing"))
            }
            _ => return Err(StoreError::Conflict("pregnancy_ended")),
        }
        sqlx::query("UPDATE pregnancies SET status = ?, ended_on = ? WHERE id = ?")
            .bind(end.status().as_str())
            .bind(end.on().to_string())
            .bind(pregnancy.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let synced = timeline::sync_pregnancy(&mut tx, m, pregnancy, timeline::today_of(ctx), ctx.at).await?;
        let detail = format!("pregnancy={} {} {synced}", pregnancy.0, end.status().as_str());
        append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::PregnancyUpdate, Some(family), &detail).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn family_contacts(&self, ctx: &AuditContext, family: FamilyId) -> Result<Vec<ContactRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM contacts c WHERE c.family_id = ? AND c.municipality_id = ? \
             ORDER BY c.opens, c.due, c.kind, c.id",
            timeline::CONTACT_COLUMNS
        ))
        .bind(family.0)
        .bind(ctx.municipality_id.0)
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        let out = rows.iter().map(timeline::contact_row).collect::<Result<Vec<_>>>()?;
        self.audit(ctx, AuditAction::TimelineView, Some(family), "").await?;
        Ok(out)
    }

    async fn contact_family(&self, m: MunicipalityId, id: ContactId) -> Result<Option<FamilyId>> {
        let f: Option<i64> = sqlx::query_scalar("SELECT family_id FROM contacts WHERE id = ? AND municipality_id = ?")
            .bind(id.0)
            .bind(m.0)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_err)?;
        Ok(f.map(FamilyId))
    }

    async fn contact(&self, ctx: &AuditContext, id: ContactId) -> Result<Option<ContactRow>> {
        let row = sqlx::query(&format!(
            "SELECT {} FROM contacts c WHERE c.id = ? AND c.municipality_id = ?",
            timeline::CONTACT_COLUMNS
        ))
        .bind(id.0)
        .bind(ctx.municipality_id.0)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_err)?;
        let Some(row) = row else { return Ok(None) };
        let c = timeline::contact_row(&row)?;
        self.audit(ctx, AuditAction::TimelineView, Some(c.family_id), &format!("contact={}", id.0)).await?;
        Ok(Some(c))
    }

    async fn record_contact_outcome(
        &self,
        ctx: &AuditContext,
        id: ContactId,
        outcome: &Outcome,
        note: &str,
    ) -> Result<()> {
        let mut tx = self.begin_immediate().await?;
        timeline::record_outcome(&mut tx, &self.keys.chain, ctx, id, outcome, note).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn work_list(&self, ctx: &AuditContext, q: &WorkListQuery) -> Result<Vec<ContactRow>> {
        if filter_municipality(&q.scope.filter) != ctx.municipality_id {
            return Err(StoreError::InvalidReference("municipality"));
        }
        let mut conn = self.reader.acquire().await.map_err(db_err)?;
        let rows = {
            // Read on a reader; the audit line goes through the writer.
            let mut qtx = sqlx::Connection::begin(&mut *conn).await.map_err(db_err)?;
            let out = timeline::read_work_list(&mut qtx, q).await?;
            qtx.rollback().await.map_err(db_err)?;
            out
        };
        self.audit(ctx, AuditAction::WorkList, None, &format!("list={} results={}", q.list.as_str(), rows.len()))
            .await?;
        Ok(rows)
    }

    async fn work_counts(&self, scope: &WorkScope) -> Result<WorkCounts> {
        let mut conn = self.reader.acquire().await.map_err(db_err)?;
        timeline::work_counts(&mut conn, scope).await
    }

    async fn mark_missed(&self, m: MunicipalityId, today: Date) -> Result<MissedRun> {
        let mut tx = self.begin_immediate().await?;
        let run = timeline::mark_missed(&mut tx, m, today).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(run)
    }

    async fn backfill_timelines(&self, m: MunicipalityId, today: Date, limit: u32) -> Result<u64> {
        let mut tx = self.begin_immediate().await?;
        let ids = timeline::stale_pregnancies(&mut tx, m, limit).await?;
        let at = jiff::Timestamp::UNIX_EPOCH;
        for id in &ids {
            timeline::sync_pregnancy(&mut tx, m, *id, today, at).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(ids.len() as u64)
    }

    async fn handbook_list(
        &self,
        ctx: &AuditContext,
        filter: &FamilyFilter,
        area: AreaId,
        month: DueMonth,
    ) -> Result<Vec<HandbookEntry>> {
        if filter_municipality(filter) != ctx.municipality_id {
            return Err(StoreError::InvalidReference("municipality"));
        }
        let mut conn = self.reader.acquire().await.map_err(db_err)?;
        let rows = meetings::handbook_list(&mut conn, filter, area, month).await?;
        drop(conn);
        let detail = format!("area={} month={month} results={}", area.0, rows.len());
        self.audit(ctx, AuditAction::HandbookList, None, &detail).await?;
        Ok(rows)
    }

    async fn handbook_meetings(
        &self,
        m: MunicipalityId,
        area: AreaId,
        from: DueMonth,
        to: DueMonth,
    ) -> Result<Vec<HandbookMeeting>> {
        let mut conn = self.reader.acquire().await.map_err(db_err)?;
        meetings::handbook_meetings(&mut conn, m, area, from, to).await
    }

    async fn record_handbook_meeting(
        &self,
        ctx: &AuditContext,
        meeting: &NewHandbookMeeting,
    ) -> Result<HandbookMeeting> {
        let mut tx = self.begin_immediate().await?;
        let out = meetings::record_handbook_meeting(&mut tx, &self.keys.chain, ctx, meeting).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(out)
    }

    async fn group_candidates(
        &self,
        ctx: &AuditContext,
        filter: &FamilyFilter,
        due_month: DueMonth,
    ) -> Result<Vec<GroupCandidate>> {
        if filter_municipality(filter) != ctx.municipality_id {
            return Err(StoreError::InvalidReference("municipality"));
        }
        let mut conn = self.reader.acquire().await.map_err(db_err)?;
        let rows = meetings::group_candidates(&mut conn, filter, due_month).await?;
        drop(conn);
        let detail = format!("candidates due_month={due_month} results={}", rows.len());
        self.audit(ctx, AuditAction::GroupList, None, &detail).await?;
        Ok(rows)
    }

    async fn create_group_session(&self, ctx: &AuditContext, s: &NewGroupSession) -> Result<GroupSessionId> {
        let mut tx = self.begin_immediate().await?;
        let id = meetings::create_group_session(&mut tx, &self.keys.chain, ctx, s).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(id)
    }

    async fn group_sessions(
        &self,
        ctx: &AuditContext,
        filter: &FamilyFilter,
        due_month: DueMonth,
    ) -> Result<Vec<GroupSession>> {
        if filter_municipality(filter) != ctx.municipality_id {
            return Err(StoreError::InvalidReference("municipality"));
        }
        let mut conn = self.reader.acquire().await.map_err(db_err)?;
        let out = meetings::read_sessions(&mut conn, filter, meetings::Which::Month(due_month)).await?;
        drop(conn);
        let members: usize = out.iter().map(|s| s.members.len()).sum();
        let detail = format!("sessions due_month={due_month} results={} members={members}", out.len());
        self.audit(ctx, AuditAction::GroupList, None, &detail).await?;
        Ok(out)
    }

    async fn group_session(
        &self,
        ctx: &AuditContext,
        filter: &FamilyFilter,
        id: GroupSessionId,
    ) -> Result<Option<GroupSession>> {
        if filter_municipality(filter) != ctx.municipality_id {
            return Err(StoreError::InvalidReference("municipality"));
        }
        let mut conn = self.reader.acquire().await.map_err(db_err)?;
        let out = meetings::read_sessions(&mut conn, filter, meetings::Which::One(id)).await?.into_iter().next();
        drop(conn);
        if let Some(s) = &out {
            let detail = format!("session={} members={}", id.0, s.members.len());
            self.audit(ctx, AuditAction::GroupList, None, &detail).await?;
        }
        Ok(out)
    }

    async fn record_attendance(&self, ctx: &AuditContext, id: GroupSessionId, attended: &[PregnancyId]) -> Result<()> {
        let mut tx = self.begin_immediate().await?;
        meetings::record_attendance(&mut tx, &self.keys.chain, ctx, id, attended).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn record_screening(&self, ctx: &AuditContext, s: &NewScreening) -> Result<RecordedScreening> {
        screening::record(self, ctx, s).await
    }

    async fn screening_family(&self, m: MunicipalityId, id: ScreeningId) -> Result<Option<FamilyId>> {
        screening::family_of(self, m, id).await
    }

    async fn screenings(&self, ctx: &AuditContext, family: FamilyId, limit: u32) -> Result<Vec<StoredScreening>> {
        screening::list(self, ctx, family, limit).await
    }

    async fn screening(&self, ctx: &AuditContext, id: ScreeningId) -> Result<Option<StoredScreening>> {
        screening::one(self, ctx, id).await
    }

    async fn write_audit(
        &self,
        ctx: &AuditContext,
        action: AuditAction,
        family: Option<FamilyId>,
        detail: &str,
    ) -> Result<()> {
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        append_audit(&mut tx, &self.keys.chain, ctx, action, family, detail).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn search_audit(&self, m: MunicipalityId, q: &AuditQuery) -> Result<Vec<AuditLine>> {
        let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new("SELECT * FROM audit_log WHERE municipality_id = ");
        qb.push_bind(m.0);
        if let Some(a) = q.actor {
            qb.push(" AND actor = ").push_bind(a.0);
        }
        if let Some(f) = q.family_id {
            qb.push(" AND family_id = ").push_bind(f.0);
        }
        if let Some(a) = q.action {
            qb.push(" AND action = ").push_bind(a.as_str());
        }
        if let Some(t) = q.from {
            qb.push(" AND at >= ").push_bind(ts_text(t));
        }
        if let Some(t) = q.to {
            qb.push(" AND at < ").push_bind(ts_text(t));
        }
        if let Some(s) = q.before_seq {
            qb.push(" AND seq < ").push_bind(s);
        }
        qb.push(" ORDER BY seq DESC LIMIT ").push_bind(i64::from(q.limit.clamp(1, 1000)));
        let rows = qb.build().fetch_all(&self.reader).await.map_err(db_err)?;
        rows.iter().map(audit_line).collect()
    }

    async fn audit_lines(&self, m: MunicipalityId, after_seq: i64, limit: u32) -> Result<Vec<AuditLine>> {
        let rows = sqlx::query("SELECT * FROM audit_log WHERE municipality_id = ? AND seq > ? ORDER BY seq LIMIT ?")
            .bind(m.0)
            .bind(after_seq)
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await
            .map_err(db_err)?;
        rows.iter().map(audit_line).collect()
    }

    async fn audit_head(&self, m: MunicipalityId) -> Result<Option<(i64, String)>> {
        let r = sqlx::query("SELECT seq, hash FROM audit_heads WHERE municipality_id = ?")
            .bind(m.0)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_err)?;
        match r {
            Some(r) => Ok(Some((r.try_get(0).map_err(db_err)?, r.try_get(1).map_err(db_err)?))),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests;
