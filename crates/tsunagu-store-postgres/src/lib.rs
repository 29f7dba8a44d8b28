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
use sqlx::postgres::{PgPoolOptions, PgRow};
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder, Row};
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
use tsunagu_domain::timeline::{KindSet, Outcome};
use tsunagu_domain::{
    AccountId, ApplicationId, AreaId, BabyId, ContactId, FamilyId, FollowupId, IncidentId, MunicipalityId, PersonId,
    PregnancyId, ReferralId, RoomId, ScreeningId, TalkId, VenueId,
};
use tsunagu_store::migrations::Migration;
use tsunagu_store::{
    Account, ApplicationFilter, AuditQuery, Booking, ContactRow, Followup, FollowupStatus, ImportFamily, Incident,
    MissedRun, NewAccount, NewIncident, NewScreening, NewVenue, OnlineTalk, PostpartumFacility, RecordedScreening,
    ReferralEvent, ReferralFilter, Result, Secret, Session, SessionStage, SigninAttemptId, SigninOutcome,
    SigninRequest, SigninReservation, StayNote, Store, StoreError, StoreKeys, StoredReferral, StoredScreening,
    UsageCounts, WorkCounts, WorkListQuery, WorkScope,
};

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
pub struct PgStore {
    pool: PgPool,
    keys: StoreKeys,
}

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

macro_rules! municipality_columns {
    () => {
        "id, code, name_ja, name_en"
    };
}

macro_rules! venue_columns {
    () => {
        "id, municipality_id, area_id, kind, name_ja, name_en"
    };
}

macro_rules! account_columns {
    () => {
        concat!(
            "id, municipality_id, username, display_name, role, password_hash, totp_secret, totp_last_step, ",
            "disabled, family_id, ",
            ts_col!("created_at"),
            " AS created_at"
        )
    };
}

macro_rules! session_columns {
    () => {
        concat!(
            "token_hash, account_id, stage, csrf_token, ",
            ts_col!("created_at"),
            " AS created_at, ",
            ts_col!("last_seen_at"),
            " AS last_seen_at"
        )
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

macro_rules! audit_columns {
    () => {
        concat!(
            "municipality_id, seq, ",
            ts_col!("at"),
            " AS at, actor, role, action, family_id, detail, reason, remote_addr, prev_hash, hash"
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

// --- row decoding -----------------------------------------------------------

fn municipality_row(r: &PgRow) -> Result<Municipality> {
    let code: String = get(r, "code")?;
    Ok(Municipality {
        id: MunicipalityId(get(r, "id")?),
        code: MunicipalityCode::parse(&code).map_err(|_| corrupt("municipality code"))?,
        name_ja: get(r, "name_ja")?,
        name_en: get(r, "name_en")?,
    })
}

fn venue_row(r: &PgRow) -> Result<Venue> {
    let kind: String = get(r, "kind")?;
    Ok(Venue {
        id: VenueId(get(r, "id")?),
        municipality_id: MunicipalityId(get(r, "municipality_id")?),
        area_id: get::<Option<i64>>(r, "area_id")?.map(AreaId),
        kind: VenueKind::parse(&kind).ok_or_else(|| corrupt("venue kind"))?,
        name_ja: get(r, "name_ja")?,
        name_en: get(r, "name_en")?,
    })
}

fn session_row(r: &PgRow) -> Result<Session> {
    let stage: String = get(r, "stage")?;
    Ok(Session {
        token_hash: get(r, "token_hash")?,
        account_id: AccountId(get(r, "account_id")?),
        stage: SessionStage::parse(&stage).ok_or_else(|| corrupt("session stage"))?,
        csrf_token: Secret::new(get::<String>(r, "csrf_token")?),
        created_at: ts(&get::<String>(r, "created_at")?)?,
        last_seen_at: ts(&get::<String>(r, "last_seen_at")?)?,
    })
}

fn audit_line(r: &PgRow) -> Result<AuditLine> {
    Ok(AuditLine {
        seq: get(r, "seq")?,
        municipality_id: MunicipalityId(get(r, "municipality_id")?),
        at: ts(&get::<String>(r, "at")?)?,
        actor: AccountId(get(r, "actor")?),
        role: get(r, "role")?,
        action: get(r, "action")?,
        family_id: get::<Option<i64>>(r, "family_id")?.map(FamilyId),
        detail: get(r, "detail")?,
        reason: get(r, "reason")?,
        remote_addr: get(r, "remote_addr")?,
        prev_hash: get(r, "prev_hash")?,
        hash: get(r, "hash")?,
    })
}

fn person_row(r: &PgRow, family: FamilyId) -> Result<Person> {
    let relation: String = get(r, "relation")?;
    Ok(Person {
        id: PersonId(get(r, "id")?),
        family_id: family,
        relation: Relation::parse(&relation).ok_or_else(|| corrupt("relation"))?,
        family_name: get(r, "family_name")?,
        given_name: get(r, "given_name")?,
        family_name_kana: get(r, "family_name_kana")?,
        given_name_kana: get(r, "given_name_kana")?,
        birth_date: opt_date(get(r, "birth_date")?)?,
    })
}

fn pregnancy_row(r: &PgRow) -> Result<Pregnancy> {
    let status: String = get(r, "status")?;
    Ok(Pregnancy {
        id: PregnancyId(get(r, "id")?),
        family_id: FamilyId(get(r, "family_id")?),
        notified_on: date(&get::<String>(r, "notified_on")?)?,
        edd: date(&get::<String>(r, "edd")?)?,
        foetuses: small(get(r, "foetuses")?, "foetuses")?,
        first_child: get(r, "first_child")?,
        status: PregnancyStatus::parse(&status).ok_or_else(|| corrupt("status"))?,
        handbook_number: get(r, "handbook_number")?,
        ended_on: opt_date(get(r, "ended_on")?)?,
    })
}

fn baby_row(r: &PgRow) -> Result<Baby> {
    let sex: String = get(r, "sex")?;
    Ok(Baby {
        id: BabyId(get(r, "id")?),
        pregnancy_id: PregnancyId(get(r, "pregnancy_id")?),
        person_id: PersonId(get(r, "person_id")?),
        birth_date: date(&get::<String>(r, "birth_date")?)?,
        sex: Sex::parse(&sex).ok_or_else(|| corrupt("sex"))?,
        gestational_weeks: small(get(r, "gestational_weeks")?, "gestational weeks")?,
        gestational_days: small(get(r, "gestational_days")?, "gestational days")?,
        birth_weight_g: get::<Option<i32>>(r, "birth_weight_g")?
            .map(|w| u16::try_from(w).map_err(|_| corrupt("birth weight")))
            .transpose()?,
        long_hospitalisation: get(r, "long_hospitalisation")?,
    })
}

fn summary_row(r: &PgRow) -> Result<FamilySummary> {
    let family_name: String = get(r, "family_name")?;
    let given_name: String = get(r, "given_name")?;
    let fk: String = get(r, "family_name_kana")?;
    let gk: String = get(r, "given_name_kana")?;
    Ok(FamilySummary {
        family_id: FamilyId(get(r, "id")?),
        area_id: AreaId(get(r, "area_id")?),
        mother_name: format!("{family_name} {given_name}"),
        mother_kana: format!("{fk} {gk}"),
        mother_birth_date: opt_date(get(r, "birth_date")?)?,
        latest_edd: opt_date(get(r, "latest_edd")?)?,
    })
}

// --- helpers used inside transactions ---------------------------------------

/// Appends one line to the municipality's audit chain inside `tx`. The
/// chain's head row is locked until `tx` ends, so concurrent appends for the
/// same municipality queue up and the chain stays gap-free.
async fn append_audit(
    tx: &mut PgConnection,
    key: &ChainKey,
    ctx: &AuditContext,
    action: AuditAction,
    family: Option<FamilyId>,
    detail: &str,
) -> Result<()> {
    let m = ctx.municipality_id;
    sqlx::query(
        "INSERT INTO audit_heads (municipality_id, seq, hash) VALUES ($1, 0, $2) \
         ON CONFLICT (municipality_id) DO NOTHING",
    )
    .bind(m.0)
    .bind(GENESIS)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    let head = sqlx::query("SELECT seq, hash FROM audit_heads WHERE municipality_id = $1 FOR UPDATE")
        .bind(m.0)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
    let prev_seq: i64 = get(&head, "seq")?;
    let prev_hash: String = get(&head, "hash")?;
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
         remote_addr, prev_hash, hash) VALUES ($1, $2, $3::timestamptz, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(m.0)
    .bind(seq)
    .bind(at.to_string())
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
    sqlx::query("UPDATE audit_heads SET seq = $2, hash = $3 WHERE municipality_id = $1")
        .bind(m.0)
        .bind(seq)
        .bind(&hash)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn insert_person_row(
    tx: &mut PgConnection,
    m: MunicipalityId,
    family: FamilyId,
    relation: Relation,
    family_name: &str,
    given_name: &str,
    family_name_kana: &str,
    given_name_kana: &str,
    kana_key: &str,
    given_kana_key: &str,
    birth_date: Option<Date>,
) -> Result<PersonId> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO people (family_id, municipality_id, relation, family_name, given_name, family_name_kana, \
         given_name_kana, kana_key, given_kana_key, birth_date) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::date) RETURNING id",
    )
    .bind(family.0)
    .bind(m.0)
    .bind(relation.as_str())
    .bind(family_name)
    .bind(given_name)
    .bind(family_name_kana)
    .bind(given_name_kana)
    .bind(kana_key)
    .bind(given_kana_key)
    .bind(birth_date.map(|d| d.to_string()))
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    Ok(PersonId(id))
}

async fn insert_person(
    tx: &mut PgConnection,
    m: MunicipalityId,
    family: FamilyId,
    relation: Relation,
    p: &NewPerson,
) -> Result<PersonId> {
    insert_person_row(
        tx,
        m,
        family,
        relation,
        &p.family_name,
        &p.given_name,
        p.family_name_kana.as_str(),
        p.given_name_kana.as_str(),
        &p.search_key(),
        &p.given_name_kana.search_key(),
        p.birth_date,
    )
    .await
}

/// Whether row `id` of `table` belongs to municipality `m`.
/// Inserts a notification's family, people and pregnancy inside `tx`, after
/// taking the mother's advisory lock and checking for duplicates and a taken
/// handbook number (checks that change nothing when they refuse, so a caller
/// may go on with the transaction). No audit line; the area is the caller's check.
async fn insert_notification(
    tx: &mut PgConnection,
    ctx: &AuditContext,
    n: &Notification,
) -> Result<(FamilyId, PregnancyId)> {
    let m = ctx.municipality_id;
    let key = n.mother.search_key();
    // Two notifications of the same mother queue here, so the second one
    // sees the first in its duplicate check.
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind(lock_key(m))
        .bind(&key)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    let same_name = sqlx::query(concat!(
        "SELECT ",
        date_col!("p.birth_date"),
        " AS birth_date, ",
        date_col!("g.edd"),
        " AS edd FROM people p JOIN pregnancies g ON g.family_id = p.family_id \
         WHERE p.municipality_id = $1 AND p.kana_key = $2 AND p.relation = 'mother' AND g.status = 'ongoing'"
    ))
    .bind(m.0)
    .bind(&key)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    for r in &same_name {
        let birth = opt_date(get(r, "birth_date")?)?;
        let edd = date(&get::<String>(r, "edd")?)?;
        if is_duplicate_notification(&key, birth, edd, n) {
            return Err(StoreError::Conflict("duplicate_notification"));
        }
    }
    if let Some(h) = &n.handbook_number {
        let taken: Option<i64> =
            sqlx::query_scalar("SELECT id FROM pregnancies WHERE municipality_id = $1 AND handbook_number = $2")
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
         created_at) VALUES ($1, $2, $3, $4, $5, $6::timestamptz) RETURNING id",
    )
    .bind(m.0)
    .bind(n.area_id.0)
    .bind(n.fee_bracket.as_str())
    .bind(n.consent_coordinators)
    .bind(n.consent_hubs)
    .bind(ts_param(ctx.at))
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    let family = FamilyId(family);
    insert_person(tx, m, family, Relation::Mother, &n.mother).await?;
    if let Some(p) = &n.partner {
        insert_person(tx, m, family, Relation::Partner, p).await?;
    }
    let pregnancy: i64 =
        sqlx::query_scalar(
            "INSERT INTO pregnancies (family_id, municipality_id, notified_on, edd, foetuses, first_child, status, \
         handbook_number) VALUES ($1, $2, $3::date, $4::date, $5, $6, 'ongoing', $7) RETURNING id",
        )
        .bind(family.0)
        .bind(m.0)
        .bind(n.notified_on.to_string())
        .bind(n.edd.to_string())
        .bind(i16::from(n.foetuses))
        .bind(n.first_child)
        .bind(&n.handbook_number)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict("handbook_number_taken")
            } else {
                db_err(e)
            }
        })?;
    Ok((family, PregnancyId(pregnancy)))
}

/// Inserts the babies of a birth (each a child in the family) and marks the
/// pregnancy delivered, inside `tx`. No audit line.
async fn insert_babies(
    tx: &mut PgConnection,
    m: MunicipalityId,
    family: FamilyId,
    pregnancy: PregnancyId,
    babies: &[NewBaby],
) -> Result<Vec<BabyId>> {
    let mother = sqlx::query(
        "SELECT family_name, family_name_kana FROM people WHERE family_id = $1 AND relation = 'mother' \
         ORDER BY id LIMIT 1",
    )
    .bind(family.0)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    let family_name: String = get(&mother, "family_name")?;
    let family_kana: String = get(&mother, "family_name_kana")?;
    let mut ids = Vec::with_capacity(babies.len());
    for b in babies {
        let given_kana = b.given_name_kana.as_ref().map(|k| k.as_str().to_owned()).unwrap_or_default();
        let given_key = tsunagu_domain::kana::search_key(&given_kana);
        let person = insert_person_row(
            tx,
            m,
            family,
            Relation::Child,
            &family_name,
            &b.given_name,
            &family_kana,
            &given_kana,
            &format!("{}{given_key}", tsunagu_domain::kana::search_key(&family_kana)),
            &given_key,
            Some(b.birth_date),
        )
        .await?;
        let baby: i64 = sqlx::query_scalar(
            "INSERT INTO babies (pregnancy_id, family_id, person_id, birth_date, sex, gestational_weeks, \
             gestational_days, birth_weight_g, long_hospitalisation) \
             VALUES ($1, $2, $3, $4::date, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(pregnancy.0)
        .bind(family.0)
        .bind(person.0)
        .bind(b.birth_date.to_string())
        .bind(b.sex.as_str())
        .bind(i16::from(b.gestational_weeks))
        .bind(i16::from(b.gestational_days))
        .bind(b.birth_weight_g.map(i32::from))
        .bind(b.long_hospitalisation)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        ids.push(BabyId(baby));
    }
    sqlx::query("UPDATE pregnancies SET status = 'delivered' WHERE id = $1")
        .bind(pregnancy.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    Ok(ids)
}

/// Mothers whose `column` (`kana_key` or `given_kana_key`, both COLLATE "C",
/// so the range is exactly "starts with") begins with `key`, within `filter`,
/// in index order, at most `limit`.
async fn search_by(
    tx: &mut PgConnection,
    filter: &FamilyFilter,
    column: &'static str,
    key: &str,
    limit: u32,
) -> Result<Vec<FamilySummary>> {
    let upper = format!("{key}{}", char::MAX);
    let mut qb: QueryBuilder<'_, Postgres> = QueryBuilder::new(concat!(
        "SELECT f.id, f.area_id, p.family_name, p.given_name, p.family_name_kana, p.given_name_kana, ",
        date_col!("p.birth_date"),
        " AS birth_date, (SELECT ",
        date_col!("MAX(g.edd)"),
        " FROM pregnancies g WHERE g.family_id = f.id) AS latest_edd \
         FROM people p JOIN families f ON f.id = p.family_id WHERE p.relation = 'mother' AND p.municipality_id = "
    ));
    qb.push_bind(filter_municipality(filter).0);
    qb.push(format!(" AND p.{column} >= ")).push_bind(key.to_owned());
    qb.push(format!(" AND p.{column} < ")).push_bind(upper);
    push_filter(&mut qb, filter);
    qb.push(format!(" ORDER BY p.{column}, p.id LIMIT ")).push_bind(i64::from(limit));
    let rows = qb.build().fetch_all(&mut *tx).await.map_err(db_err)?;
    rows.iter().map(summary_row).collect()
}

/// Records a nurse's decision on an application and its audit line, inside `tx`.
#[allow(clippy::too_many_arguments)]
async fn mark_reviewed(
    tx: &mut PgConnection,
    key: &ChainKey,
    ctx: &AuditContext,
    id: ApplicationId,
    status: ApplicationStatus,
    note: &str,
    action: AuditAction,
    family: FamilyId,
) -> Result<()> {
    sqlx::query(
        "UPDATE postpartum_applications SET status = $1, reviewed_by = $2, reviewed_at = $3::timestamptz, \
         review_note = $4 WHERE id = $5",
    )
    .bind(status.as_str())
    .bind(ctx.actor.0)
    .bind(ts_param(ctx.at))
    .bind(note)
    .bind(id.0)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    append_audit(tx, key, ctx, action, Some(family), &format!("application={id}")).await
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

// --- postpartum care ----------------------------------------------------------

/// The columns of an application as `application_row` reads them, with the
/// mother's name ("family given") for staff lists. ORDER BY must name the
/// table's columns qualified (`a.applied_at`): the aliases are text.
macro_rules! application_columns {
    () => {
        concat!(
            "a.id, a.municipality_id, a.family_id, a.venue_id, a.service, ",
            date_col!("a.stay_first"),
            " AS stay_first, ",
            date_col!("a.stay_last"),
            " AS stay_last, a.babies, a.siblings, a.rolls_over_actively, a.needs_medical_treatment, ",
            "a.has_worries_or_fatigue, a.lacks_help_from_relatives, a.grandparents_nearby, a.quote_total_yen, ",
            "a.transport_paid, a.refusals, a.override_reason, a.status, a.applied_by, ",
            ts_col!("a.applied_at"),
            " AS applied_at, a.reviewed_by, ",
            ts_col!("a.reviewed_at"),
            " AS reviewed_at, a.review_note, ",
            "COALESCE((SELECT p.family_name || ' ' || p.given_name FROM people p WHERE p.family_id = a.family_id ",
            "AND p.relation = 'mother' ORDER BY p.id LIMIT 1), '') AS mother_name"
        )
    };
}

fn other_err(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Other(Box::new(e))
}

fn stay_range(first: &str, last: &str) -> Result<DateRange> {
    DateRange::new(date(first)?, date(last)?).map_err(|_| corrupt("stay"))
}

fn count(v: i64) -> Result<u64> {
    u64::try_from(v).map_err(|_| corrupt("count"))
}

fn application_row(r: &PgRow) -> Result<Application> {
    let service: String = get(r, "service")?;
    let status: String = get(r, "status")?;
    let refusals: String = get(r, "refusals")?;
    Ok(Application {
        id: ApplicationId(get(r, "id")?),
        municipality_id: MunicipalityId(get(r, "municipality_id")?),
        family_id: FamilyId(get(r, "family_id")?),
        venue_id: VenueId(get(r, "venue_id")?),
        service: ServiceType::parse(&service).ok_or_else(|| corrupt("service type"))?,
        stay: stay_range(&get::<String>(r, "stay_first")?, &get::<String>(r, "stay_last")?)?,
        babies: small(get(r, "babies")?, "babies")?,
        siblings: small(get(r, "siblings")?, "siblings")?,
        answers: ApplicationAnswers {
            rolls_over_actively: get(r, "rolls_over_actively")?,
            needs_medical_treatment: get(r, "needs_medical_treatment")?,
            has_worries_or_fatigue: get(r, "has_worries_or_fatigue")?,
            lacks_help_from_relatives: get(r, "lacks_help_from_relatives")?,
            grandparents_nearby: get(r, "grandparents_nearby")?,
        },
        quote_total_yen: u32::try_from(get::<i64>(r, "quote_total_yen")?).map_err(|_| corrupt("quote"))?,
        transport_paid: get(r, "transport_paid")?,
        refusals: serde_json::from_str(&refusals).map_err(|_| corrupt("refusals"))?,
        override_reason: get(r, "override_reason")?,
        status: ApplicationStatus::parse(&status).ok_or_else(|| corrupt("application status"))?,
        applied_by: AccountId(get(r, "applied_by")?),
        applied_at: ts(&get::<String>(r, "applied_at")?)?,
        reviewed_by: get::<Option<i64>>(r, "reviewed_by")?.map(AccountId),
        reviewed_at: get::<Option<String>>(r, "reviewed_at")?.as_deref().map(ts).transpose()?,
        review_note: get(r, "review_note")?,
        mother_name: get(r, "mother_name")?,
    })
}

/// What a decision on an application needs to know of it.
struct Decided {
    family: FamilyId,
    venue: VenueId,
    status: ApplicationStatus,
    stay: DateRange,
}

/// The application `id` of municipality `m`, its row locked until `tx`
/// ends: a second decision on the same application waits, then sees the
/// first one's outcome. `NotFound` when it is not there or in another
/// municipality.
async fn decided_for_update(tx: &mut PgConnection, m: MunicipalityId, id: ApplicationId) -> Result<Decided> {
    let r = sqlx::query(concat!(
        "SELECT family_id, venue_id, status, ",
        date_col!("stay_first"),
        " AS stay_first, ",
        date_col!("stay_last"),
        " AS stay_last FROM postpartum_applications WHERE id = $1 AND municipality_id = $2 FOR UPDATE"
    ))
    .bind(id.0)
    .bind(m.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?
    .ok_or(StoreError::NotFound)?;
    let status: String = get(&r, "status")?;
    Ok(Decided {
        family: FamilyId(get(&r, "family_id")?),
        venue: VenueId(get(&r, "venue_id")?),
        status: ApplicationStatus::parse(&status).ok_or_else(|| corrupt("application status"))?,
        stay: stay_range(&get::<String>(&r, "stay_first")?, &get::<String>(&r, "stay_last")?)?,
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

/// A `timestamp without time zone` column (a civil date-time in Japan) read
/// as `YYYY-MM-DDTHH:MM:SS`, whatever the session's DateStyle.
macro_rules! civil_col {
    ($col:literal) => {
        concat!("to_char(", $col, ", 'YYYY-MM-DD\"T\"HH24:MI:SS')")
    };
}

/// "On one of the days of the range": `$first` and `$last` are the range's
/// first and last day (bound with `range_params`).
macro_rules! on_days {
    ($col:literal, $first:literal, $last:literal) => {
        concat!($col, " >= ", $first, "::date AND ", $col, " < ", $last, "::date + 1")
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

// After the SQL-fragment macros, which it uses; `contact_columns!` comes from it.
#[macro_use]
mod timeline;

/// The columns of a referral as `referral_row` reads them. ORDER BY must
/// name the table's columns qualified (`r.raised_at`): the aliases are text.
macro_rules! referral_columns {
    () => {
        concat!(
            "r.id, r.municipality_id, r.family_id, r.pregnancy_id, r.raised_by_role, r.source, r.urgent, r.status, ",
            "r.escalated, r.specified_expectant_mother, r.close_reason, r.note, r.raised_by_account, ",
            ts_col!("r.raised_at"),
            " AS raised_at, r.venue_id, r.application_id, ",
            ts_col!("r.updated_at"),
            " AS updated_at, ",
            mother_name_of!("r")
        )
    };
}

fn referral_row(r: &PgRow) -> Result<StoredReferral> {
    let role: String = get(r, "raised_by_role")?;
    let source: String = get(r, "source")?;
    let status: String = get(r, "status")?;
    let close_reason: Option<String> = get(r, "close_reason")?;
    Ok(StoredReferral {
        id: ReferralId(get(r, "id")?),
        municipality_id: MunicipalityId(get(r, "municipality_id")?),
        referral: Referral {
            family: FamilyId(get(r, "family_id")?),
            pregnancy: get::<Option<i64>>(r, "pregnancy_id")?.map(PregnancyId),
            raised_by: Role::parse(&role).ok_or_else(|| corrupt("role"))?,
            source: ConcernSource::parse(&source).ok_or_else(|| corrupt("concern source"))?,
            urgent: get(r, "urgent")?,
            status: ReferralStatus::parse(&status).ok_or_else(|| corrupt("referral status"))?,
            escalated: get(r, "escalated")?,
            specified_expectant_mother: get(r, "specified_expectant_mother")?,
            close_reason: close_reason
                .as_deref()
                .map(|c| CloseReason::parse(c).ok_or_else(|| corrupt("close reason")))
                .transpose()?,
        },
        note: get(r, "note")?,
        raised_by_account: AccountId(get(r, "raised_by_account")?),
        raised_at: ts(&get::<String>(r, "raised_at")?)?,
        venue_id: get::<Option<i64>>(r, "venue_id")?.map(VenueId),
        application_id: get::<Option<i64>>(r, "application_id")?.map(ApplicationId),
        updated_at: ts(&get::<String>(r, "updated_at")?)?,
        mother_name: get(r, "mother_name")?,
    })
}

/// Inserts one step of a referral's history inside `tx`.
async fn insert_referral_event(
    tx: &mut PgConnection,
    ctx: &AuditContext,
    id: ReferralId,
    action: &str,
    note: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO referral_events (referral_id, action, by_account, at, note) \
         VALUES ($1, $2, $3, $4::timestamptz, $5)",
    )
    .bind(id.0)
    .bind(action)
    .bind(ctx.actor.0)
    .bind(ts_param(ctx.at))
    .bind(note)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Stores a new referral with its first step and its `referral.raise`
/// audit line inside `tx` (a concern raised by hand, or by a screening).
async fn insert_referral(
    tx: &mut PgConnection,
    key: &ChainKey,
    ctx: &AuditContext,
    r: &Referral,
    note: &str,
    venue: Option<VenueId>,
    application: Option<ApplicationId>,
) -> Result<ReferralId> {
    let m = ctx.municipality_id;
    if !in_municipality(&mut *tx, Table::Families, r.family.0, m).await? {
        return Err(StoreError::InvalidReference("family_id"));
    }
    if let Some(p) = r.pregnancy {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT id FROM pregnancies WHERE id = $1 AND family_id = $2 AND municipality_id = $3")
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
            "SELECT venue_id FROM postpartum_applications WHERE id = $1 AND family_id = $2 \
             AND municipality_id = $3",
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
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO referrals (municipality_id, family_id, pregnancy_id, raised_by_role, source, urgent, status, \
         escalated, specified_expectant_mother, close_reason, note, raised_by_account, raised_at, venue_id, \
         application_id, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
         $13::timestamptz, $14, $15, $13::timestamptz) RETURNING id",
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
    .bind(ts_param(ctx.at))
    .bind(venue.map(|v| v.0))
    .bind(application.map(|a| a.0))
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    let id = ReferralId(id);
    insert_referral_event(tx, ctx, id, "raise", note).await?;
    append_audit(tx, key, ctx, AuditAction::ReferralRaise, Some(r.family), &format!("referral={id}")).await?;
    Ok(id)
}

macro_rules! followup_columns {
    () => {
        concat!(
            "f.id, f.municipality_id, f.venue_id, f.family_id, ",
            civil_col!("f.start"),
            " AS start, f.status, f.booked_by, ",
            mother_name_of!("f")
        )
    };
}

fn followup_row(r: &PgRow) -> Result<Followup> {
    let status: String = get(r, "status")?;
    Ok(Followup {
        id: FollowupId(get(r, "id")?),
        municipality_id: MunicipalityId(get(r, "municipality_id")?),
        venue_id: VenueId(get(r, "venue_id")?),
        family_id: FamilyId(get(r, "family_id")?),
        start: civil(&get::<String>(r, "start")?)?,
        status: match status.as_str() {
            "booked" => FollowupStatus::Booked,
            "cancelled" => FollowupStatus::Cancelled,
            _ => return Err(corrupt("follow-up status")),
        },
        booked_by: AccountId(get(r, "booked_by")?),
        mother_name: get(r, "mother_name")?,
    })
}

fn online_talk_row(r: &PgRow) -> Result<OnlineTalk> {
    Ok(OnlineTalk {
        id: TalkId(get(r, "id")?),
        municipality_id: MunicipalityId(get(r, "municipality_id")?),
        venue_id: VenueId(get(r, "venue_id")?),
        starts: civil(&get::<String>(r, "starts")?)?,
        minutes: u16::try_from(get::<i32>(r, "minutes")?).map_err(|_| corrupt("minutes"))?,
        title: get(r, "title")?,
        attendees: u32::try_from(get::<i64>(r, "attendees")?).map_err(|_| corrupt("attendees"))?,
    })
}

fn incident_row(r: &PgRow) -> Result<Incident> {
    let heading: String = get(r, "heading")?;
    Ok(Incident {
        id: IncidentId(get(r, "id")?),
        municipality_id: MunicipalityId(get(r, "municipality_id")?),
        venue_id: VenueId(get(r, "venue_id")?),
        heading: IncidentHeading::parse(&heading).ok_or_else(|| corrupt("incident heading"))?,
        occurred: civil(&get::<String>(r, "occurred")?)?,
        summary: get(r, "summary")?,
        family_id: get::<Option<i64>>(r, "family_id")?.map(FamilyId),
        reported_by: AccountId(get(r, "reported_by")?),
        reported_at: ts(&get::<String>(r, "reported_at")?)?,
    })
}

impl PgStore {
    /// Connects to a `postgres://` URL with a pool of up to 16 connections.
    /// One connection is opened at once, so an unreachable server is
    /// reported here (`Unavailable`), not at the first request. `keys` link
    /// the audit lines and seal the TOTP secrets.
    pub async fn connect(url: &str, keys: StoreKeys) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await
            .map_err(db_err)?;
        Ok(Self { pool, keys })
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn scopes(&self, id: AccountId) -> Result<(Vec<AreaId>, Vec<VenueId>, Vec<RoomId>)> {
        let rows = sqlx::query("SELECT kind, ref_id FROM account_scopes WHERE account_id = $1 ORDER BY kind, ref_id")
            .bind(id.0)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        let (mut areas, mut venues, mut rooms) = (vec![], vec![], vec![]);
        for r in rows {
            let kind: String = get(&r, "kind")?;
            let id: i64 = get(&r, "ref_id")?;
            match kind.as_str() {
                "area" => areas.push(AreaId(id)),
                "venue" => venues.push(VenueId(id)),
                "room" => rooms.push(RoomId(id)),
                _ => return Err(corrupt("scope kind")),
            }
        }
        Ok((areas, venues, rooms))
    }

    async fn account_from_row(&self, r: PgRow) -> Result<Account> {
        let id = AccountId(get(&r, "id")?);
        let (areas, venues, rooms) = self.scopes(id).await?;
        let role: String = get(&r, "role")?;
        Ok(Account {
            id,
            municipality_id: MunicipalityId(get(&r, "municipality_id")?),
            username: get(&r, "username")?,
            display_name: get(&r, "display_name")?,
            role: Role::parse(&role).ok_or_else(|| corrupt("role"))?,
            password_hash: Secret::new(get::<String>(&r, "password_hash")?),
            totp_secret: get::<Option<String>>(&r, "totp_secret")?.map(|s| self.keys.open_totp(id, &s)).transpose()?,
            totp_last_step: get(&r, "totp_last_step")?,
            disabled: get(&r, "disabled")?,
            family_id: get::<Option<i64>>(&r, "family_id")?.map(FamilyId),
            areas,
            venues,
            rooms,
            created_at: ts(&get::<String>(&r, "created_at")?)?,
        })
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn migrate(&self) -> Result<()> {
        self.migrate_with(MIGRATIONS).await?;
        keys::seal_plaintext_totp(self).await
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(db_err)?;
        Ok(())
    }

    async fn create_municipality(&self, code: MunicipalityCode, name_ja: &str, name_en: &str) -> Result<Municipality> {
        let r = sqlx::query(concat!(
            "INSERT INTO municipalities (code, name_ja, name_en) VALUES ($1, $2, $3) RETURNING ",
            municipality_columns!()
        ))
        .bind(code.to_string())
        .bind(name_ja)
        .bind(name_en)
        .fetch_one(&self.pool)
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
        let r = sqlx::query(concat!("SELECT ", municipality_columns!(), " FROM municipalities WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        r.as_ref().map(municipality_row).transpose()
    }

    async fn municipality_by_code(&self, code: MunicipalityCode) -> Result<Option<Municipality>> {
        let r = sqlx::query(concat!("SELECT ", municipality_columns!(), " FROM municipalities WHERE code = $1"))
            .bind(code.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        r.as_ref().map(municipality_row).transpose()
    }

    async fn municipalities(&self) -> Result<Vec<Municipality>> {
        // COLLATE "C": the same order as SQLite's, whatever the locale.
        let rows = sqlx::query(concat!(
            "SELECT ",
            municipality_columns!(),
            " FROM municipalities ORDER BY code COLLATE \"C\""
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(municipality_row).collect()
    }

    async fn create_area(&self, m: MunicipalityId, name_ja: &str, name_en: &str) -> Result<Area> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO areas (municipality_id, name_ja, name_en) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(m.0)
        .bind(name_ja)
        .bind(name_en)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict("area_exists") } else { db_err(e) })?;
        Ok(Area { id: AreaId(id), municipality_id: m, name_ja: name_ja.to_owned(), name_en: name_en.to_owned() })
    }

    async fn areas(&self, m: MunicipalityId) -> Result<Vec<Area>> {
        let rows = sqlx::query("SELECT id, name_ja, name_en FROM areas WHERE municipality_id = $1 ORDER BY id")
            .bind(m.0)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(Area {
                    id: AreaId(get(r, "id")?),
                    municipality_id: m,
                    name_ja: get(r, "name_ja")?,
                    name_en: get(r, "name_en")?,
                })
            })
            .collect()
    }

    async fn create_venue(&self, v: &NewVenue) -> Result<Venue> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        if let Some(a) = v.area_id {
            if !in_municipality(&mut tx, Table::Areas, a.0, v.municipality_id).await? {
                return Err(StoreError::InvalidReference("area_id"));
            }
        }
        let r = sqlx::query(concat!(
            "INSERT INTO venues (municipality_id, area_id, kind, name_ja, name_en) VALUES ($1, $2, $3, $4, $5) \
             RETURNING ",
            venue_columns!()
        ))
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
        let rows =
            sqlx::query(concat!("SELECT ", venue_columns!(), " FROM venues WHERE municipality_id = $1 ORDER BY id"))
                .bind(m.0)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
        rows.iter().map(venue_row).collect()
    }

    async fn create_account(&self, ctx: Option<&AuditContext>, a: &NewAccount) -> Result<Account> {
        if ctx.is_some_and(|c| c.municipality_id != a.municipality_id) {
            return Err(StoreError::InvalidReference("municipality"));
        }
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let now = a.created_at;
        if let Some(f) = a.family_id {
            if !in_municipality(&mut tx, Table::Families, f.0, a.municipality_id).await? {
                return Err(StoreError::InvalidReference("family_id"));
            }
        }
        for area in &a.areas {
            if !in_municipality(&mut tx, Table::Areas, area.0, a.municipality_id).await? {
                return Err(StoreError::InvalidReference("areas"));
            }
        }
        for venue in &a.venues {
            if !in_municipality(&mut tx, Table::Venues, venue.0, a.municipality_id).await? {
                return Err(StoreError::InvalidReference("venues"));
            }
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO accounts (municipality_id, username, display_name, role, password_hash, totp_secret, \
             family_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::timestamptz) RETURNING id",
        )
        .bind(a.municipality_id.0)
        .bind(&a.username)
        .bind(&a.display_name)
        .bind(a.role.as_str())
        .bind(a.password_hash.expose())
        // Sealed below: the account id is the sealed secret's associated data.
        .bind(None::<String>)
        .bind(a.family_id.map(|f| f.0))
        .bind(ts_param(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict("username_taken") } else { db_err(e) })?;
        if let Some(secret) = &a.totp_secret {
            sqlx::query("UPDATE accounts SET totp_secret = $1 WHERE id = $2")
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
            sqlx::query(
                "INSERT INTO account_scopes (account_id, kind, ref_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
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
        let r = sqlx::query(concat!("SELECT ", account_columns!(), " FROM accounts WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        match r {
            Some(r) => Ok(Some(self.account_from_row(r).await?)),
            None => Ok(None),
        }
    }

    async fn account_by_username(&self, m: MunicipalityId, username: &str) -> Result<Option<Account>> {
        let r = sqlx::query(concat!(
            "SELECT ",
            account_columns!(),
            " FROM accounts WHERE municipality_id = $1 AND username = $2"
        ))
        .bind(m.0)
        .bind(username)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        match r {
            Some(r) => Ok(Some(self.account_from_row(r).await?)),
            None => Ok(None),
        }
    }

    async fn accounts(&self, m: MunicipalityId) -> Result<Vec<Account>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            account_columns!(),
            " FROM accounts WHERE municipality_id = $1 ORDER BY id"
        ))
        .bind(m.0)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(self.account_from_row(r).await?);
        }
        Ok(out)
    }

    async fn set_password(&self, ctx: Option<&AuditContext>, id: AccountId, hash: &Secret) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // With an administrator's context, only accounts of their municipality.
        let n = sqlx::query(
            "UPDATE accounts SET password_hash = $1 WHERE id = $2 AND ($3::bigint IS NULL OR municipality_id = $3)",
        )
        .bind(hash.expose())
        .bind(id.0)
        .bind(ctx.map(|c| c.municipality_id.0))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM sessions WHERE account_id = $1").bind(id.0).execute(&mut *tx).await.map_err(db_err)?;
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
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let n = sqlx::query(
            "UPDATE accounts SET totp_secret = $1, totp_last_step = 0 WHERE id = $2 \
                 AND ($3::bigint IS NULL OR municipality_id = $3)",
        )
        .bind(sealed)
        .bind(id.0)
        .bind(ctx.map(|c| c.municipality_id.0))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        if secret.is_none() {
            sqlx::query("DELETE FROM sessions WHERE account_id = $1")
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
        // One conditional UPDATE: of two concurrent uses of a step, one wins.
        let n = sqlx::query("UPDATE accounts SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1")
            .bind(step)
            .bind(id.0)
            .execute(&self.pool)
            .await
            .map_err(db_err)?
            .rows_affected();
        Ok(n == 1)
    }

    async fn set_disabled(&self, ctx: &AuditContext, id: AccountId, disabled: bool) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let n = sqlx::query("UPDATE accounts SET disabled = $1 WHERE id = $2 AND municipality_id = $3")
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
            sqlx::query("DELETE FROM sessions WHERE account_id = $1")
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
             VALUES ($1, $2, $3, $4, $5::timestamptz, $6::timestamptz)",
        )
        .bind(&s.token_hash)
        .bind(s.account_id.0)
        .bind(s.stage.as_str())
        .bind(s.csrf_token.expose())
        .bind(ts_param(s.created_at))
        .bind(ts_param(s.last_seen_at))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn session(&self, token_hash: &str) -> Result<Option<Session>> {
        let r = sqlx::query(concat!("SELECT ", session_columns!(), " FROM sessions WHERE token_hash = $1"))
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        r.as_ref().map(session_row).transpose()
    }

    async fn touch_session(&self, token_hash: &str, at: Timestamp) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1::timestamptz WHERE token_hash = $2")
            .bind(ts_param(at))
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn delete_sessions_of(&self, account: AccountId) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE account_id = $1")
            .bind(account.0)
            .execute(&self.pool)
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
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        if !in_municipality(&mut tx, Table::Areas, n.area_id.0, ctx.municipality_id).await? {
            return Err(StoreError::InvalidReference("area_id"));
        }
        timeline::hold_contact_kinds(&mut tx, ctx.municipality_id).await?;
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
        // Duplicates and taken handbook numbers are found by queries that change
        // nothing, so the batch goes on past them. A handbook number taken by a
        // concurrent writer between that check and the insert fails the insert,
        // which aborts a PostgreSQL transaction: then the whole batch is undone
        // and the error returned, and the importer runs the batch again.
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        timeline::hold_contact_kinds(&mut tx, ctx.municipality_id).await?;
        let mut areas_seen = Vec::new();
        let mut out = Vec::with_capacity(families.len());
        for f in families {
            let n = &f.notification;
            if !areas_seen.contains(&n.area_id) {
                if !in_municipality(&mut tx, Table::Areas, n.area_id.0, ctx.municipality_id).await? {
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
             WHERE id = $1 AND municipality_id = $2",
        )
        .bind(id.0)
        .bind(m.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        let Some(r) = r else { return Ok(None) };
        // Facilities where the family has an open application or an approved
        // stay: their staff may open the record (not after a rejection or a
        // cancellation).
        let facilities: Vec<i64> = sqlx::query_scalar(
            "SELECT DISTINCT venue_id FROM postpartum_applications WHERE family_id = $1 AND municipality_id = $2 \
             AND status IN ('applied', 'approved') ORDER BY venue_id",
        )
        .bind(id.0)
        .bind(m.0)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(Some(FamilyAccess {
            municipality_id: m,
            family_id: id,
            area_id: AreaId(get(&r, "area_id")?),
            consent_coordinators: get(&r, "consent_coordinators")?,
            consent_hubs: get(&r, "consent_hubs")?,
            escalated: get(&r, "escalated")?,
            facilities: facilities.into_iter().map(VenueId).collect(),
            programme_venues: vec![],
        }))
    }

    async fn open_family(&self, ctx: &AuditContext, id: FamilyId) -> Result<Option<FamilyRecord>> {
        let m = ctx.municipality_id;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let r = sqlx::query(
            "SELECT area_id, fee_bracket, consent_coordinators, consent_hubs, escalated FROM families \
             WHERE id = $1 AND municipality_id = $2",
        )
        .bind(id.0)
        .bind(m.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let Some(r) = r else { return Ok(None) };
        let bracket: String = get(&r, "fee_bracket")?;
        let family = Family {
            id,
            municipality_id: m,
            area_id: AreaId(get(&r, "area_id")?),
            fee_bracket: FeeBracket::parse(&bracket).ok_or_else(|| corrupt("fee bracket"))?,
            consent_coordinators: get(&r, "consent_coordinators")?,
            consent_hubs: get(&r, "consent_hubs")?,
            escalated: get(&r, "escalated")?,
        };
        let people = sqlx::query(concat!(
            "SELECT id, relation, family_name, given_name, family_name_kana, given_name_kana, ",
            date_col!("birth_date"),
            " AS birth_date FROM people WHERE family_id = $1 ORDER BY id"
        ))
        .bind(id.0)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| person_row(r, id))
        .collect::<Result<Vec<_>>>()?;
        let pregnancies = sqlx::query(concat!(
            "SELECT ",
            pregnancy_columns!(),
            " FROM pregnancies WHERE family_id = $1 ORDER BY pregnancies.edd, id"
        ))
        .bind(id.0)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?
        .iter()
        .map(pregnancy_row)
        .collect::<Result<Vec<_>>>()?;
        let babies = sqlx::query(concat!("SELECT ", baby_columns!(), " FROM babies WHERE family_id = $1 ORDER BY id"))
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
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let mut out = search_by(&mut tx, filter, "kana_key", kana_key, limit).await?;
        if out.len() < limit as usize {
            for row in search_by(&mut tx, filter, "given_kana_key", kana_key, limit).await? {
                if out.len() < limit as usize && !out.iter().any(|o| o.family_id == row.family_id) {
                    out.push(row);
                }
            }
        }
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
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // The row lock makes a concurrent second birth wait, then see
        // `delivered`.
        let status: Option<String> = sqlx::query_scalar(
            "SELECT status FROM pregnancies WHERE id = $1 AND family_id = $2 AND municipality_id = $3 FOR UPDATE",
        )
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
        // Still under the pregnancy's row lock: a concurrent change of the
        // pregnancy waits, then reconciles from what this birth left.
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
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM venues WHERE id = $1 AND municipality_id = $2 AND kind = 'postpartum_facility'",
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
            "INSERT INTO postpartum_facilities (venue_id, operator_ja, operator_en, calendar) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (venue_id) DO UPDATE SET operator_ja = EXCLUDED.operator_ja, \
             operator_en = EXCLUDED.operator_en, calendar = EXCLUDED.calendar",
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
             WHERE v.municipality_id = $1 ORDER BY v.id",
        )
        .bind(m.0)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let calendar: String = get(r, "calendar")?;
                Ok(PostpartumFacility {
                    venue: venue_row(r)?,
                    operator_ja: get(r, "operator_ja")?,
                    operator_en: get(r, "operator_en")?,
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
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        if !in_municipality(&mut tx, Table::Families, a.family_id.0, m).await? {
            return Err(StoreError::InvalidReference("family_id"));
        }
        let facility: Option<i64> = sqlx::query_scalar(
            "SELECT f.venue_id FROM postpartum_facilities f JOIN venues v ON v.id = f.venue_id \
             WHERE f.venue_id = $1 AND v.municipality_id = $2",
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
             VALUES ($1, $2, $3, $4, $5::date, $6::date, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
             'applied', $18, $19::timestamptz) RETURNING id",
        )
        .bind(m.0)
        .bind(a.family_id.0)
        .bind(a.venue_id.0)
        .bind(a.service.as_str())
        .bind(a.stay.first().to_string())
        .bind(a.stay.last().to_string())
        .bind(i16::from(a.babies))
        .bind(i16::from(a.siblings))
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
        .bind(ts_param(ctx.at))
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
        let mut qb: QueryBuilder<'_, Postgres> = QueryBuilder::new(concat!(
            "SELECT ",
            application_columns!(),
            " FROM postpartum_applications a WHERE a.municipality_id = "
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
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let rows = qb.build().fetch_all(&mut *tx).await.map_err(db_err)?;
        let out = rows.iter().map(application_row).collect::<Result<Vec<_>>>()?;
        // A list of one family's applications is a read of that family.
        append_audit(
            &mut tx,
            &self.keys.chain,
            ctx,
            AuditAction::PostpartumList,
            filter.family_id,
            &format!("results={}", out.len()),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(out)
    }

    async fn application_owner(&self, m: MunicipalityId, id: ApplicationId) -> Result<Option<(FamilyId, VenueId)>> {
        let r: Option<(i64, i64)> = sqlx::query_as(
            "SELECT family_id, venue_id FROM postpartum_applications WHERE id = $1 AND municipality_id = $2",
        )
        .bind(id.0)
        .bind(m.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(r.map(|(f, v)| (FamilyId(f), VenueId(v))))
    }

    async fn application(&self, ctx: &AuditContext, id: ApplicationId) -> Result<Option<Application>> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let r = sqlx::query(concat!(
            "SELECT ",
            application_columns!(),
            " FROM postpartum_applications a WHERE a.id = $1 AND a.municipality_id = $2"
        ))
        .bind(id.0)
        .bind(ctx.municipality_id.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let Some(r) = r else { return Ok(None) };
        let a = application_row(&r)?;
        append_audit(
            &mut tx,
            &self.keys.chain,
            ctx,
            AuditAction::PostpartumView,
            Some(a.family_id),
            &format!("application={id}"),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
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
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // Locks the application: approving it twice at once approves it once.
        let app = decided_for_update(&mut tx, m, id).await?;
        if app.status != ApplicationStatus::Applied {
            return Err(StoreError::Conflict("not_applied"));
        }
        let days = booking_days(booking, app.stay)?;
        if days.iter().any(|(_, places)| *places == 0) {
            return Err(StoreError::Conflict("no_capacity"));
        }
        let pool = i64::from(booking.pool);
        // One place a day, in day order. The upsert locks the day's row (or
        // its key, when it inserts), so concurrent approvals of the same day
        // queue there and each re-checks `taken < places` against the count
        // the one before it committed. Taking days in order means two
        // overlapping stays never wait for each other crosswise.
        for (day, places) in &days {
            let n = sqlx::query(
                "INSERT INTO postpartum_places (venue_id, pool, day, taken) VALUES ($1, $2, $3::date, 1) \
                 ON CONFLICT (venue_id, pool, day) DO UPDATE SET taken = postpartum_places.taken + 1 \
                 WHERE postpartum_places.taken < $4",
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
                 VALUES ($1, $2::date, $3, $4, $5)",
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
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let app = decided_for_update(&mut tx, ctx.municipality_id, id).await?;
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
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let app = decided_for_update(&mut tx, ctx.municipality_id, id).await?;
        match app.status {
            ApplicationStatus::Applied => {}
            ApplicationStatus::Approved => {
                // Give back the place of every booked day, in day order like
                // approvals take them (so the two never deadlock), then the days.
                let booked = sqlx::query(concat!(
                    "SELECT pool, ",
                    date_col!("day"),
                    " AS day FROM postpartum_bookings WHERE application_id = $1 ORDER BY postpartum_bookings.day"
                ))
                .bind(id.0)
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?;
                for r in &booked {
                    sqlx::query(
                        "UPDATE postpartum_places SET taken = taken - 1 \
                         WHERE venue_id = $1 AND pool = $2 AND day = $3::date",
                    )
                    .bind(app.venue.0)
                    .bind(get::<i64>(r, "pool")?)
                    .bind(get::<String>(r, "day")?)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                }
                sqlx::query("DELETE FROM postpartum_bookings WHERE application_id = $1")
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
            "UPDATE postpartum_applications SET status = 'cancelled', cancelled_by = $1, \
             cancelled_at = $2::timestamptz, cancel_note = $3 WHERE id = $4",
        )
        .bind(ctx.actor.0)
        .bind(ts_param(ctx.at))
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
        let rows = sqlx::query(concat!(
            "SELECT ",
            date_col!("p.day"),
            " AS day, p.taken FROM postpartum_places p JOIN venues v ON v.id = p.venue_id \
             WHERE v.municipality_id = $5 AND p.venue_id = $1 AND p.pool = $2 \
             AND p.day BETWEEN $3::date AND $4::date AND p.taken > 0 ORDER BY p.day"
        ))
        .bind(venue.0)
        .bind(i64::from(pool))
        .bind(range.first().to_string())
        .bind(range.last().to_string())
        .bind(m.0)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let taken: i64 = get(r, "taken")?;
                Ok((date(&get::<String>(r, "day")?)?, u32::try_from(taken).map_err(|_| corrupt("places taken"))?))
            })
            .collect()
    }

    async fn record_stay_note(&self, ctx: &AuditContext, id: ApplicationId, day: Date, note: &str) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // The lock keeps a concurrent cancellation from slipping in between.
        let app = decided_for_update(&mut tx, ctx.municipality_id, id).await?;
        if app.status != ApplicationStatus::Approved {
            return Err(StoreError::Conflict("not_approved"));
        }
        if !app.stay.contains(day) {
            return Err(StoreError::Conflict("day_not_in_stay"));
        }
        sqlx::query(
            "INSERT INTO postpartum_stay_notes (application_id, day, note, by_account, at) \
             VALUES ($1, $2::date, $3, $4, $5::timestamptz)",
        )
        .bind(id.0)
        .bind(day.to_string())
        .bind(note)
        .bind(ctx.actor.0)
        .bind(ts_param(ctx.at))
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
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let family: Option<i64> =
            sqlx::query_scalar("SELECT family_id FROM postpartum_applications WHERE id = $1 AND municipality_id = $2")
                .bind(id.0)
                .bind(ctx.municipality_id.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        let family = FamilyId(family.ok_or(StoreError::NotFound)?);
        let notes = sqlx::query(concat!(
            "SELECT ",
            date_col!("day"),
            " AS day, note, by_account, ",
            ts_col!("at"),
            " AS at FROM postpartum_stay_notes WHERE application_id = $1 \
             ORDER BY postpartum_stay_notes.day, postpartum_stay_notes.at, id"
        ))
        .bind(id.0)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| {
            Ok(StayNote {
                day: date(&get::<String>(r, "day")?)?,
                note: get(r, "note")?,
                by: AccountId(get(r, "by_account")?),
                at: ts(&get::<String>(r, "at")?)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        append_audit(
            &mut tx,
            &self.keys.chain,
            ctx,
            AuditAction::PostpartumView,
            Some(family),
            &format!("application={id} notes={}", notes.len()),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(notes)
    }

    async fn postpartum_usage(&self, m: MunicipalityId, venue: VenueId, range: DateRange) -> Result<UsageCounts> {
        let r = sqlx::query(
            "SELECT COUNT(*) FILTER (WHERE a.service = 'short_stay') AS short_stay, \
             COUNT(*) FILTER (WHERE a.service = 'day_care') AS day_care, \
             COUNT(*) FILTER (WHERE a.service = 'outreach') AS outreach, COUNT(DISTINCT a.family_id) AS families \
             FROM postpartum_bookings b JOIN postpartum_applications a ON a.id = b.application_id \
             WHERE b.municipality_id = $1 AND b.venue_id = $2 AND b.day BETWEEN $3::date AND $4::date \
             AND a.status = 'approved'",
        )
        .bind(m.0)
        .bind(venue.0)
        .bind(range.first().to_string())
        .bind(range.last().to_string())
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(UsageCounts {
            short_stay_days: count(get(&r, "short_stay")?)?,
            day_care_days: count(get(&r, "day_care")?)?,
            outreach_visits: count(get(&r, "outreach")?)?,
            families: count(get(&r, "families")?)?,
        })
    }

    async fn postpartum_users_by_area(&self, m: MunicipalityId, range: DateRange) -> Result<Vec<(AreaId, u64)>> {
        let rows = sqlx::query(
            "SELECT f.area_id, COUNT(DISTINCT f.id) AS families FROM postpartum_bookings b \
             JOIN postpartum_applications a ON a.id = b.application_id JOIN families f ON f.id = a.family_id \
             WHERE b.municipality_id = $1 AND b.day BETWEEN $2::date AND $3::date AND a.status = 'approved' \
             GROUP BY f.area_id ORDER BY f.area_id",
        )
        .bind(m.0)
        .bind(range.first().to_string())
        .bind(range.last().to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(|r| Ok((AreaId(get(r, "area_id")?), count(get(r, "families")?)?))).collect()
    }

    async fn raise_referral(
        &self,
        ctx: &AuditContext,
        r: &Referral,
        note: &str,
        venue: Option<VenueId>,
        application: Option<ApplicationId>,
    ) -> Result<ReferralId> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let id = insert_referral(&mut tx, &self.keys.chain, ctx, r, note, venue, application).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(id)
    }

    async fn referrals(&self, ctx: &AuditContext, filter: &ReferralFilter) -> Result<Vec<StoredReferral>> {
        let mut qb: QueryBuilder<'_, Postgres> =
            QueryBuilder::new(concat!("SELECT ", referral_columns!(), " FROM referrals r WHERE r.municipality_id = "));
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
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let rows = qb.build().fetch_all(&mut *tx).await.map_err(db_err)?;
        let out = rows.iter().map(referral_row).collect::<Result<Vec<_>>>()?;
        // A list of one family's referrals is a read of that family.
        append_audit(
            &mut tx,
            &self.keys.chain,
            ctx,
            AuditAction::ReferralList,
            filter.family_id,
            &format!("results={}", out.len()),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(out)
    }

    async fn referral(&self, ctx: &AuditContext, id: ReferralId) -> Result<Option<StoredReferral>> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let r = sqlx::query(concat!(
            "SELECT ",
            referral_columns!(),
            " FROM referrals r WHERE r.id = $1 AND r.municipality_id = $2"
        ))
        .bind(id.0)
        .bind(ctx.municipality_id.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let Some(r) = r else { return Ok(None) };
        let referral = referral_row(&r)?;
        // The contract names no `referral.view`: one referral is a list of one.
        append_audit(
            &mut tx,
            &self.keys.chain,
            ctx,
            AuditAction::ReferralList,
            Some(referral.referral.family),
            &format!("referral={id}"),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
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
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // The row lock makes a concurrent step wait, then find the status
        // this one left (and be refused).
        let r = sqlx::query(
            "SELECT family_id, pregnancy_id FROM referrals WHERE id = $1 AND municipality_id = $2 FOR UPDATE",
        )
        .bind(id.0)
        .bind(m.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
        // A step never moves a referral to another family or pregnancy.
        if next.family.0 != get::<i64>(&r, "family_id")? {
            return Err(StoreError::InvalidReference("family_id"));
        }
        if next.pregnancy.map(|p| p.0) != get::<Option<i64>>(&r, "pregnancy_id")? {
            return Err(StoreError::InvalidReference("pregnancy_id"));
        }
        let n = sqlx::query(
            "UPDATE referrals SET raised_by_role = $1, source = $2, urgent = $3, status = $4, escalated = $5, \
             specified_expectant_mother = $6, close_reason = $7, updated_at = $8::timestamptz \
             WHERE id = $9 AND municipality_id = $10 AND status = $11 AND escalated = $12 \
             AND specified_expectant_mother = $13 AND close_reason IS NOT DISTINCT FROM $14",
        )
        .bind(next.raised_by.as_str())
        .bind(next.source.as_str())
        .bind(next.urgent)
        .bind(next.status.as_str())
        .bind(next.escalated)
        .bind(next.specified_expectant_mother)
        .bind(next.close_reason.map(CloseReason::as_str))
        .bind(ts_param(ctx.at))
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
            sqlx::query("UPDATE families SET escalated = TRUE WHERE id = $1 AND municipality_id = $2")
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
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let family: Option<i64> =
            sqlx::query_scalar("SELECT family_id FROM referrals WHERE id = $1 AND municipality_id = $2")
                .bind(id.0)
                .bind(ctx.municipality_id.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        let family = FamilyId(family.ok_or(StoreError::NotFound)?);
        // In the order the steps were taken (a referral's steps queue on its row lock).
        let events = sqlx::query(concat!(
            "SELECT action, by_account, ",
            ts_col!("at"),
            " AS at, note FROM referral_events WHERE referral_id = $1 ORDER BY id"
        ))
        .bind(id.0)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| {
            Ok(ReferralEvent {
                action: get(r, "action")?,
                by: AccountId(get(r, "by_account")?),
                at: ts(&get::<String>(r, "at")?)?,
                note: get(r, "note")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        append_audit(
            &mut tx,
            &self.keys.chain,
            ctx,
            AuditAction::ReferralList,
            Some(family),
            &format!("referral={id} events={}", events.len()),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
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
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        if !is_facility(&mut tx, venue, m).await? {
            return Err(StoreError::InvalidReference("venue_id"));
        }
        if !in_municipality(&mut tx, Table::Families, family.0, m).await? {
            return Err(StoreError::InvalidReference("family_id"));
        }
        // The partial unique index (venue, start) of booked rows keeps one
        // family per slot: a concurrent booking of the same slot waits on
        // the index entry, then fails.
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO followups (municipality_id, venue_id, family_id, start, status, booked_by, booked_at) \
             VALUES ($1, $2, $3, $4::timestamp, 'booked', $5, $6::timestamptz) RETURNING id",
        )
        .bind(m.0)
        .bind(venue.0)
        .bind(family.0)
        .bind(civil_param(start))
        .bind(ctx.actor.0)
        .bind(ts_param(ctx.at))
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
        let (first, last) = range_params(range);
        let mut qb: QueryBuilder<'_, Postgres> =
            QueryBuilder::new(concat!("SELECT ", followup_columns!(), " FROM followups f WHERE f.municipality_id = "));
        qb.push_bind(ctx.municipality_id.0);
        qb.push(" AND f.start >= ").push_bind(first).push("::date");
        qb.push(" AND f.start < ").push_bind(last).push("::date + 1");
        if let Some(v) = venue {
            qb.push(" AND f.venue_id = ").push_bind(v.0);
        }
        if let Some(f) = family {
            qb.push(" AND f.family_id = ").push_bind(f.0);
        }
        qb.push(" ORDER BY f.start, f.id");
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let rows = qb.build().fetch_all(&mut *tx).await.map_err(db_err)?;
        let out = rows.iter().map(followup_row).collect::<Result<Vec<_>>>()?;
        append_audit(
            &mut tx,
            &self.keys.chain,
            ctx,
            AuditAction::FollowupList,
            family,
            &format!("results={}", out.len()),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(out)
    }

    async fn cancel_followup(&self, ctx: &AuditContext, id: FollowupId) -> Result<()> {
        let m = ctx.municipality_id;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // The lock makes a second cancellation wait, then see `cancelled`.
        let r =
            sqlx::query("SELECT family_id, status FROM followups WHERE id = $1 AND municipality_id = $2 FOR UPDATE")
                .bind(id.0)
                .bind(m.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?
                .ok_or(StoreError::NotFound)?;
        let family = FamilyId(get(&r, "family_id")?);
        if get::<String>(&r, "status")? != "booked" {
            return Err(StoreError::Conflict("not_booked"));
        }
        sqlx::query(
            "UPDATE followups SET status = 'cancelled', cancelled_by = $1, cancelled_at = $2::timestamptz \
             WHERE id = $3 AND municipality_id = $4",
        )
        .bind(ctx.actor.0)
        .bind(ts_param(ctx.at))
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
        let (first, last) = range_params(range);
        let n: i64 = sqlx::query_scalar(concat!(
            "SELECT COUNT(*) FROM followups WHERE municipality_id = $1 AND ",
            on_days!("start", "$2", "$3"),
            " AND status = 'booked'"
        ))
        .bind(m.0)
        .bind(first)
        .bind(last)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        count(n)
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
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        if !is_facility(&mut tx, venue, m).await? {
            return Err(StoreError::InvalidReference("venue_id"));
        }
        // Scheduling a talk touches nobody's record: no audit line.
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO online_talks (municipality_id, venue_id, starts, minutes, title, created_by, created_at) \
             VALUES ($1, $2, $3::timestamp, $4, $5, $6, $7::timestamptz) RETURNING id",
        )
        .bind(m.0)
        .bind(venue.0)
        .bind(civil_param(starts))
        .bind(i32::from(minutes))
        .bind(title)
        .bind(ctx.actor.0)
        .bind(ts_param(ctx.at))
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(TalkId(id))
    }

    async fn online_talks(&self, m: MunicipalityId, range: DateRange) -> Result<Vec<OnlineTalk>> {
        let (first, last) = range_params(range);
        let rows = sqlx::query(concat!(
            "SELECT t.id, t.municipality_id, t.venue_id, ",
            civil_col!("t.starts"),
            " AS starts, t.minutes, t.title, \
             (SELECT COUNT(*) FROM online_talk_attendees a WHERE a.talk_id = t.id) AS attendees \
             FROM online_talks t WHERE t.municipality_id = $1 AND ",
            on_days!("t.starts", "$2", "$3"),
            " ORDER BY t.starts, t.id"
        ))
        .bind(m.0)
        .bind(first)
        .bind(last)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(online_talk_row).collect()
    }

    async fn join_online_talk(&self, ctx: &AuditContext, talk: TalkId, family: FamilyId) -> Result<()> {
        let m = ctx.municipality_id;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let found: Option<i64> =
            sqlx::query_scalar("SELECT id FROM online_talks WHERE id = $1 AND municipality_id = $2")
                .bind(talk.0)
                .bind(m.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        if found.is_none() {
            return Err(StoreError::NotFound);
        }
        if !in_municipality(&mut tx, Table::Families, family.0, m).await? {
            return Err(StoreError::InvalidReference("family_id"));
        }
        sqlx::query(
            "INSERT INTO online_talk_attendees (talk_id, family_id, joined_by, joined_at) \
             VALUES ($1, $2, $3, $4::timestamptz)",
        )
        .bind(talk.0)
        .bind(family.0)
        .bind(ctx.actor.0)
        .bind(ts_param(ctx.at))
        .execute(&mut *tx)
        .await
        .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict("already_joined") } else { db_err(e) })?;
        append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::TalkJoin, Some(family), &format!("talk={talk}"))
            .await?;
        tx.commit().await.map_err(db_err)
    }

    async fn report_incident(&self, ctx: &AuditContext, i: &NewIncident) -> Result<IncidentId> {
        let m = ctx.municipality_id;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        if !is_facility(&mut tx, i.venue_id, m).await? {
            return Err(StoreError::InvalidReference("venue_id"));
        }
        if let Some(f) = i.family_id {
            if !in_municipality(&mut tx, Table::Families, f.0, m).await? {
                return Err(StoreError::InvalidReference("family_id"));
            }
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO incidents (municipality_id, venue_id, heading, occurred, summary, family_id, reported_by, \
             reported_at) VALUES ($1, $2, $3, $4::timestamp, $5, $6, $7, $8::timestamptz) RETURNING id",
        )
        .bind(m.0)
        .bind(i.venue_id.0)
        .bind(i.heading.as_str())
        .bind(civil_param(i.occurred))
        .bind(&i.summary)
        .bind(i.family_id.map(|f| f.0))
        .bind(ctx.actor.0)
        .bind(ts_param(ctx.at))
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
        let (first, last) = range_params(range);
        let mut qb: QueryBuilder<'_, Postgres> = QueryBuilder::new(concat!(
            "SELECT i.id, i.municipality_id, i.venue_id, i.heading, ",
            civil_col!("i.occurred"),
            " AS occurred, i.summary, i.family_id, i.reported_by, ",
            ts_col!("i.reported_at"),
            " AS reported_at FROM incidents i WHERE i.municipality_id = "
        ));
        qb.push_bind(ctx.municipality_id.0);
        qb.push(" AND i.occurred >= ").push_bind(first).push("::date");
        qb.push(" AND i.occurred < ").push_bind(last).push("::date + 1");
        if let Some(v) = venue {
            qb.push(" AND i.venue_id = ").push_bind(v.0);
        }
        qb.push(" ORDER BY i.occurred DESC, i.id DESC");
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let rows = qb.build().fetch_all(&mut *tx).await.map_err(db_err)?;
        let out = rows.iter().map(incident_row).collect::<Result<Vec<_>>>()?;
        append_audit(
            &mut tx,
            &self.keys.chain,
            ctx,
            AuditAction::IncidentList,
            None,
            &format!("results={}", out.len()),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(out)
    }

    async fn contact_kinds(&self, m: MunicipalityId) -> Result<KindSet> {
        let bits: Option<i32> = sqlx::query_scalar("SELECT contact_kinds FROM municipalities WHERE id = $1")
            .bind(m.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        let bits = bits.ok_or(StoreError::NotFound)?;
        Ok(KindSet::from_bits(u16::try_from(bits).map_err(|_| corrupt("contact kinds"))?))
    }

    async fn set_contact_kinds(&self, m: MunicipalityId, kinds: KindSet) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // The UPDATE locks the municipality's row first: a backfill (which
        // holds it shared) finishes before, or starts after, the new kinds.
        let changed = sqlx::query("UPDATE municipalities SET contact_kinds = $1 WHERE id = $2 AND contact_kinds <> $1")
            .bind(i32::from(kinds.bits()))
            .bind(m.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if changed > 0 {
            sqlx::query("UPDATE pregnancies SET timeline_rules = 0 WHERE municipality_id = $1")
                .bind(m.0)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn change_edd(&self, ctx: &AuditContext, family: FamilyId, pregnancy: PregnancyId, edd: Date) -> Result<()> {
        let m = ctx.municipality_id;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // Locks the pregnancy: a concurrent birth, loss or new EDD waits,
        // then reconciles from what this one left.
        if timeline::pregnancy_status_for_update(&mut tx, m, family, pregnancy).await? != PregnancyStatus::Ongoing {
            return Err(StoreError::Conflict("pregnancy_not_ongoing"));
        }
        sqlx::query("UPDATE pregnancies SET edd = $1::date WHERE id = $2")
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
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        match (timeline::pregnancy_status_for_update(&mut tx, m, family, pregnancy).await?, end) {
            (PregnancyStatus::Ongoing, _) | (PregnancyStatus::Delivered, PregnancyEnd::MovedOut(_)) => {}
            (PregnancyStatus::Delivered, PregnancyEnd::Lost(_)) => {
                return Err(StoreError::Conflict("pregnancy_not_ongoing"))
            }
            _ => return Err(StoreError::Conflict("pregnancy_ended")),
        }
        sqlx::query("UPDATE pregnancies SET status = $1, ended_on = $2::date WHERE id = $3")
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
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            contact_columns!(),
            " FROM contacts c WHERE c.family_id = $1 AND c.municipality_id = $2 \
             ORDER BY c.opens, c.due, c.kind, c.id"
        ))
        .bind(family.0)
        .bind(ctx.municipality_id.0)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let out = rows.iter().map(timeline::contact_row).collect::<Result<Vec<_>>>()?;
        append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::TimelineView, Some(family), "").await?;
        tx.commit().await.map_err(db_err)?;
        Ok(out)
    }

    async fn contact_family(&self, m: MunicipalityId, id: ContactId) -> Result<Option<FamilyId>> {
        let f: Option<i64> =
            sqlx::query_scalar("SELECT family_id FROM contacts WHERE id = $1 AND municipality_id = $2")
                .bind(id.0)
                .bind(m.0)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        Ok(f.map(FamilyId))
    }

    async fn contact(&self, ctx: &AuditContext, id: ContactId) -> Result<Option<ContactRow>> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let row = sqlx::query(concat!(
            "SELECT ",
            contact_columns!(),
            " FROM contacts c WHERE c.id = $1 AND c.municipality_id = $2"
        ))
        .bind(id.0)
        .bind(ctx.municipality_id.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let Some(row) = row else { return Ok(None) };
        let c = timeline::contact_row(&row)?;
        append_audit(
            &mut tx,
            &self.keys.chain,
            ctx,
            AuditAction::TimelineView,
            Some(c.family_id),
            &format!("contact={}", id.0),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(Some(c))
    }

    async fn record_contact_outcome(
        &self,
        ctx: &AuditContext,
        id: ContactId,
        outcome: &Outcome,
        note: &str,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        timeline::record_outcome(&mut tx, &self.keys.chain, ctx, id, outcome, note).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn work_list(&self, ctx: &AuditContext, q: &WorkListQuery) -> Result<Vec<ContactRow>> {
        if filter_municipality(&q.scope.filter) != ctx.municipality_id {
            return Err(StoreError::InvalidReference("municipality"));
        }
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let rows = timeline::read_work_list(&mut tx, q).await?;
        let detail = format!("list={} results={}", q.list.as_str(), rows.len());
        append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::WorkList, None, &detail).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(rows)
    }

    async fn work_counts(&self, scope: &WorkScope) -> Result<WorkCounts> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        timeline::work_counts(&mut conn, scope).await
    }

    async fn mark_missed(&self, m: MunicipalityId, today: Date) -> Result<MissedRun> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let run = timeline::mark_missed(&mut tx, m, today).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(run)
    }

    async fn backfill_timelines(&self, m: MunicipalityId, today: Date, limit: u32) -> Result<u64> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let ids = timeline::stale_pregnancies_for_update(&mut tx, m, limit).await?;
        let at = Timestamp::UNIX_EPOCH;
        for id in &ids {
            timeline::sync_pregnancy(&mut tx, m, *id, today, at).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(ids.len() as u64)
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

    async fn handbook_list(
        &self,
        ctx: &AuditContext,
        filter: &FamilyFilter,
        area: AreaId,
        month: tsunagu_domain::timeline::DueMonth,
    ) -> Result<Vec<tsunagu_store::HandbookEntry>> {
        meetings::handbook_list(self, ctx, filter, area, month).await
    }

    async fn handbook_meetings(
        &self,
        m: MunicipalityId,
        area: AreaId,
        from: tsunagu_domain::timeline::DueMonth,
        to: tsunagu_domain::timeline::DueMonth,
    ) -> Result<Vec<tsunagu_store::HandbookMeeting>> {
        meetings::handbook_meetings(self, m, area, from, to).await
    }

    async fn record_handbook_meeting(
        &self,
        ctx: &AuditContext,
        meeting: &tsunagu_store::NewHandbookMeeting,
    ) -> Result<tsunagu_store::HandbookMeeting> {
        meetings::record_handbook_meeting(self, ctx, meeting).await
    }

    async fn group_candidates(
        &self,
        ctx: &AuditContext,
        filter: &FamilyFilter,
        due_month: tsunagu_domain::timeline::DueMonth,
    ) -> Result<Vec<tsunagu_store::GroupCandidate>> {
        meetings::group_candidates(self, ctx, filter, due_month).await
    }

    async fn create_group_session(
        &self,
        ctx: &AuditContext,
        s: &tsunagu_store::NewGroupSession,
    ) -> Result<tsunagu_domain::GroupSessionId> {
        meetings::create_group_session(self, ctx, s).await
    }

    async fn group_sessions(
        &self,
        ctx: &AuditContext,
        filter: &FamilyFilter,
        due_month: tsunagu_domain::timeline::DueMonth,
    ) -> Result<Vec<tsunagu_store::GroupSession>> {
        meetings::group_sessions(self, ctx, filter, meetings::Which::Month(due_month)).await
    }

    async fn group_session(
        &self,
        ctx: &AuditContext,
        filter: &FamilyFilter,
        id: tsunagu_domain::GroupSessionId,
    ) -> Result<Option<tsunagu_store::GroupSession>> {
        Ok(meetings::group_sessions(self, ctx, filter, meetings::Which::One(id)).await?.into_iter().next())
    }

    async fn record_attendance(
        &self,
        ctx: &AuditContext,
        id: tsunagu_domain::GroupSessionId,
        attended: &[PregnancyId],
    ) -> Result<()> {
        meetings::record_attendance(self, ctx, id, attended).await
    }

    async fn write_audit(
        &self,
        ctx: &AuditContext,
        action: AuditAction,
        family: Option<FamilyId>,
        detail: &str,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        append_audit(&mut tx, &self.keys.chain, ctx, action, family, detail).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn search_audit(&self, m: MunicipalityId, q: &AuditQuery) -> Result<Vec<AuditLine>> {
        let mut qb: QueryBuilder<'_, Postgres> =
            QueryBuilder::new(concat!("SELECT ", audit_columns!(), " FROM audit_log WHERE municipality_id = "));
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
            qb.push(" AND audit_log.at >= ").push_bind(ts_param(t)).push("::timestamptz");
        }
        if let Some(t) = q.to {
            qb.push(" AND audit_log.at < ").push_bind(ts_param(t)).push("::timestamptz");
        }
        if let Some(s) = q.before_seq {
            qb.push(" AND seq < ").push_bind(s);
        }
        qb.push(" ORDER BY seq DESC LIMIT ").push_bind(i64::from(q.limit.clamp(1, 1000)));
        let rows = qb.build().fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter().map(audit_line).collect()
    }

    async fn audit_lines(&self, m: MunicipalityId, after_seq: i64, limit: u32) -> Result<Vec<AuditLine>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            audit_columns!(),
            " FROM audit_log WHERE municipality_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        ))
        .bind(m.0)
        .bind(after_seq)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(audit_line).collect()
    }

    async fn audit_head(&self, m: MunicipalityId) -> Result<Option<(i64, String)>> {
        let r = sqlx::query("SELECT seq, hash FROM audit_heads WHERE municipality_id = $1")
            .bind(m.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        match r {
            Some(r) => Ok(Some((get(&r, "seq")?, get(&r, "hash")?))),
            None => Ok(None),
        }
    }
}

// After the SQL fragment macros, which they use.
mod keys;
mod meetings;
mod migrate;
mod screening;
mod signin;

#[cfg(test)]
mod tests;
