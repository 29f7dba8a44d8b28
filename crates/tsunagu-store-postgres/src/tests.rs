//! What only the PostgreSQL store has to show: several nodes migrating (or
//! taking over from the old runner) at once, connection failures, the database itself
//! refusing to change audit lines, kana search under a Japanese collation
//! (and its query plan), and civil date-times whatever the session's
//! settings. Everything the store does through the `Store` trait is told as
//! a story in `crates/tsunagu/tests/it/store_*.rs`, run on SQLite and on
//! PostgreSQL alike.
//!
//! These tests need a real server: `TSUNAGU_TEST_PG_URL` must name one
//! (scripts/test.sh starts a throwaway cluster and sets it); without it
//! these tests fail rather than pass silently. Each test works in a fresh
//! database of its own.

use super::*;
use jiff::civil::Date;
use jiff::civil::{date, datetime};
use jiff::Timestamp;
use sqlx::Connection;
use std::sync::atomic::{AtomicU32, Ordering};
use tsunagu_domain::audit::{AuditAction, AuditContext};
use tsunagu_domain::audit::{ChainError, ChainVerifier};
use tsunagu_domain::dates::DateRange;
use tsunagu_domain::municipality::MunicipalityCode;
use tsunagu_domain::places::VenueKind;
use tsunagu_domain::policy::FamilyFilter;
use tsunagu_domain::postpartum::calendar::FacilityCalendar;
use tsunagu_domain::postpartum::calendar::{CapacityPlan, CapacityPool, OpeningRules};
use tsunagu_domain::postpartum::safety::IncidentHeading;
use tsunagu_domain::postpartum::ServiceType;
use tsunagu_domain::records::{FamilySummary, Notification};
use tsunagu_domain::records::{NotificationInput, PersonInput};
use tsunagu_domain::roles::Role;
use tsunagu_domain::{AccountId, AreaId, FamilyId, MunicipalityId, VenueId};
use tsunagu_store::prelude::*;
use tsunagu_store::{NewIncident, NewVenue, Result, StoreError, StoreKeys};

fn test_keys() -> StoreKeys {
    StoreKeys::derive(&tsunagu_domain::keys::MasterKey::from_bytes(&[7; 32]).unwrap())
}

type Db = PgStore;

// --- test databases ---------------------------------------------------------

fn server_url() -> String {
    match std::env::var("TSUNAGU_TEST_PG_URL") {
        Ok(u) if !u.trim().is_empty() => u,
        _ => panic!(
            "TSUNAGU_TEST_PG_URL is not set: the PostgreSQL store's tests need a server \
             (e.g. postgres://tsunagu@127.0.0.1:55432/postgres; scripts/test.sh starts one)"
        ),
    }
}

/// The same URL with another database name.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let host_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[host_start..].find('/') {
        Some(i) => &base[..host_start + i],
        None => base,
    };
    format!("{base}/{db}{query}")
}

async fn admin_connection() -> sqlx::PgConnection {
    match sqlx::PgConnection::connect(&server_url()).await {
        Ok(c) => c,
        // The URL is not printed: it may hold a password.
        Err(e) => panic!("cannot reach the server named by TSUNAGU_TEST_PG_URL: {e}"),
    }
}

struct TestDb {
    name: String,
    url: String,
}

impl TestDb {
    /// Creates an empty database; `options` are extra CREATE DATABASE options.
    async fn create(options: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!("tsunagu_t_{}_{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
        let mut c = admin_connection().await;
        sqlx::Executor::execute(&mut c, format!("DROP DATABASE IF EXISTS {name}").as_str()).await.unwrap();
        sqlx::Executor::execute(
            &mut c,
            format!("CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' {options}").as_str(),
        )
        .await
        .unwrap();
        c.close().await.unwrap();
        let url = with_database(&server_url(), &name);
        Self { name, url }
    }

    async fn remove(self) {
        let mut c = admin_connection().await;
        sqlx::Executor::execute(&mut c, format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name).as_str())
            .await
            .unwrap();
        c.close().await.unwrap();
    }
}

/// A migrated store in a fresh database.
async fn fresh() -> (PgStore, TestDb) {
    fresh_with("").await
}

async fn fresh_with(options: &str) -> (PgStore, TestDb) {
    let db = TestDb::create(options).await;
    let store = PgStore::connect(&db.url, test_keys()).await.unwrap();
    store.migrate().await.unwrap();
    (store, db)
}

async fn finish(store: PgStore, db: TestDb) {
    store.close().await;
    db.remove().await;
}

async fn exec(store: &PgStore, sql: &str) -> std::result::Result<u64, sqlx::Error> {
    sqlx::query(sql).execute(&store.pool).await.map(|r| r.rows_affected())
}

// --- fixtures ---------------------------------------------------------------

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn today() -> Date {
    date(2026, 11, 22)
}

fn ctx(m: MunicipalityId, role: Role) -> AuditContext {
    tsunagu_domain::audit::Requester {
        municipality_id: m,
        actor: AccountId(7),
        role,
        remote_addr: "192.0.2.1".into(),
        reason: "test".into(),
        at: at("2026-11-22T01:02:03.123456Z"),
    }
    .without_a_policy_decision()
}

fn code(s: &str) -> MunicipalityCode {
    MunicipalityCode::parse(s).unwrap()
}

/// A municipality with two areas.
async fn town(s: &PgStore, c: &str) -> (MunicipalityId, AreaId, AreaId) {
    let m = s.create_municipality(code(c), "町", "Town").await.unwrap();
    let a = s.create_area(m.id, "北", "North").await.unwrap();
    let b = s.create_area(m.id, "南", "South").await.unwrap();
    (m.id, a.id, b.id)
}

fn mother(family_kana: &str, given_kana: &str, birth: Option<&str>) -> PersonInput {
    PersonInput {
        family_name: "山田".into(),
        given_name: "花子".into(),
        family_name_kana: family_kana.into(),
        given_name_kana: given_kana.into(),
        birth_date: birth.map(Into::into),
    }
}

fn notification_input(area: AreaId, m: PersonInput, edd: &str) -> NotificationInput {
    NotificationInput {
        area_id: area.0,
        fee_bracket: "taxed".into(),
        consent_coordinators: true,
        consent_hubs: false,
        notified_on: None,
        edd: edd.into(),
        foetuses: 1,
        first_child: true,
        handbook_number: None,
        mother: m,
        partner: None,
    }
}

fn notification(area: AreaId, family_kana: &str, given_kana: &str) -> Notification {
    notification_input(area, mother(family_kana, given_kana, Some("1994-05-01")), "2027-05-20").check(today()).unwrap()
}

/// Walks the whole chain page by page, as an auditor would.
async fn verify_chain(s: &PgStore, m: MunicipalityId) -> Result<u64, ChainError> {
    let keys = test_keys();
    let mut v = ChainVerifier::new(&keys.chain);
    let mut after = 0;
    loop {
        let lines = s.audit_lines(m, after, 7).await.unwrap();
        if lines.is_empty() {
            break;
        }
        for l in &lines {
            v.push(l)?;
            after = l.seq;
        }
    }
    v.finish(s.audit_head(m).await.unwrap())
}

// --- migrations and connections -----------------------------------------------

/// Several nodes starting at once on one database.
async fn migrate_at_once(db: &TestDb) -> Vec<PgStore> {
    let mut nodes = vec![];
    for _ in 0..4 {
        nodes.push(PgStore::connect(&db.url, test_keys()).await.unwrap());
    }
    let tasks: Vec<_> = nodes.iter().cloned().map(|s| tokio::spawn(async move { s.migrate().await })).collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    nodes
}

/// Versions recorded by sqlx, and how many of them were taken over (not run).
async fn recorded(s: &PgStore) -> (Vec<i64>, i64) {
    let versions =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version").fetch_all(&s.pool).await.unwrap();
    let taken: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE execution_time = -1")
        .fetch_one(&s.pool)
        .await
        .unwrap();
    (versions, taken)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_migrating_at_once_apply_each_migration_once() {
    let db = TestDb::create("").await;
    let nodes = migrate_at_once(&db).await;
    assert_eq!(recorded(&nodes[0]).await, (MIGRATIONS.iter().map(|m| m.version).collect(), 0));
    for s in nodes {
        s.close().await;
    }
    db.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_taking_over_from_the_old_runner_at_once_record_each_migration_once() {
    let db = TestDb::create("").await;
    // What the old runner left: all but the last migration, with its table.
    let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
    sqlx::raw_sql(
        "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, \
         checksum TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    .execute(&mut c)
    .await
    .unwrap();
    for m in &MIGRATIONS[..MIGRATIONS.len() - 1] {
        sqlx::raw_sql(m.sql).execute(&mut c).await.unwrap();
        sqlx::query("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)")
            .bind(m.version)
            .bind(m.name)
            .bind(m.old_runner_checksum())
            .execute(&mut c)
            .await
            .unwrap();
    }
    c.close().await.unwrap();

    let nodes = migrate_at_once(&db).await;
    let taken = MIGRATIONS.len() as i64 - 1;
    assert_eq!(recorded(&nodes[0]).await, (MIGRATIONS.iter().map(|m| m.version).collect(), taken));
    let old: bool = sqlx::query_scalar("SELECT to_regclass('schema_migrations') IS NOT NULL")
        .fetch_one(&nodes[0].pool)
        .await
        .unwrap();
    assert!(!old);
    for s in nodes {
        s.close().await;
    }
    db.remove().await;
}

#[tokio::test]
async fn an_unreachable_server_or_missing_database_is_unavailable() {
    // Nothing listens on port 1: refused until the 5 s acquire timeout.
    match PgStore::connect("postgres://tsunagu@127.0.0.1:1/postgres", test_keys()).await {
        Err(StoreError::Unavailable(_)) => {}
        Err(e) => panic!("expected Unavailable, got {e:?}"),
        Ok(_) => panic!("connected to nothing"),
    }
    match PgStore::connect(&with_database(&server_url(), "tsunagu_no_such_database"), test_keys()).await {
        Err(StoreError::Unavailable(_)) => {}
        Err(e) => panic!("expected Unavailable, got {e:?}"),
        Ok(_) => panic!("connected to a missing database"),
    }
    let (s, db) = fresh().await;
    let kept = s.clone();
    s.close().await;
    assert!(matches!(kept.ping().await, Err(StoreError::Unavailable(_))));
    db.remove().await;
}

// --- audit ------------------------------------------------------------------

#[tokio::test]
async fn the_database_refuses_to_change_audit_lines() {
    let (s, db) = fresh().await;
    let (m, _, _) = town(&s, "131121").await;
    s.write_audit(&ctx(m, Role::Admin), AuditAction::AuditSearch, None, "").await.unwrap();
    for sql in [
        "UPDATE audit_log SET reason = 'x'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "TRUNCATE municipalities CASCADE",
    ] {
        match exec(&s, sql).await {
            Err(sqlx::Error::Database(e)) => {
                assert!(e.message().contains("audit lines are append-only"), "{sql}: {}", e.message())
            }
            other => panic!("{sql}: expected a refusal, got {other:?}"),
        }
    }
    assert_eq!(verify_chain(&s, m).await, Ok(1));
    finish(s, db).await;
}

// --- families ---------------------------------------------------------------

#[tokio::test]
async fn kana_search_is_byte_ordered_whatever_the_database_collation() {
    // A Japanese ICU collation treats は and ば as equal at the first level,
    // so a plain range on a text column would find ばなこ for "はな".
    let (s, db) = fresh_with("LOCALE_PROVIDER icu ICU_LOCALE 'ja-JP'").await;
    let provider: String =
        sqlx::query_scalar("SELECT datlocprovider::text FROM pg_database WHERE datname = current_database()")
            .fetch_one(&s.pool)
            .await
            .unwrap();
    assert_eq!(provider, "i");
    let (m, north, _) = town(&s, "131121").await;
    let nurse = ctx(m, Role::Nurse);
    let hanako = s.register_notification(&nurse, &notification(north, "ヤマダ", "ハナコ")).await.unwrap();
    let banako = s.register_notification(&nurse, &notification(north, "サトウ", "バナコ")).await.unwrap();
    let all = FamilyFilter::Municipality(m);
    let ids = |v: Vec<FamilySummary>| v.into_iter().map(|f| f.family_id).collect::<Vec<_>>();
    assert_eq!(ids(s.search_families(&nurse, &all, "はな", 10).await.unwrap()), [hanako]);
    assert_eq!(ids(s.search_families(&nurse, &all, "ばな", 10).await.unwrap()), [banako]);
    assert_eq!(ids(s.search_families(&nurse, &all, "", 10).await.unwrap()), [banako, hanako]);

    // And the prefix range is an index condition (the other indexes that
    // lead with the kana key are set aside so that the planner's choice on
    // two rows does not matter).
    let mut tx = s.pool.begin().await.unwrap();
    sqlx::Executor::execute(&mut *tx, "DROP INDEX people_mother_given_kana").await.unwrap();
    sqlx::Executor::execute(&mut *tx, "DROP INDEX people_mother_birth").await.unwrap();
    sqlx::Executor::execute(&mut *tx, "SET LOCAL enable_seqscan = off").await.unwrap();
    let plan: Vec<String> = sqlx::query_scalar(
        "EXPLAIN SELECT id FROM people WHERE municipality_id = $1 AND kana_key >= $2 AND kana_key < $3 \
         AND relation = 'mother'",
    )
    .bind(m.0)
    .bind("はな")
    .bind(format!("はな{}", char::MAX))
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    assert!(plan.iter().any(|l| l.contains("people_mother_kana")), "{plan:?}");
    assert!(plan.iter().any(|l| l.contains("Index Cond") && l.contains("kana_key >=")), "{plan:?}");
    finish(s, db).await;
}

// --- postpartum care, follow-ups, talks, incidents ---------------------------

fn day(m: i8, d: i8) -> Date {
    date(2027, m, d)
}

fn stay(first: Date, days: u32) -> DateRange {
    DateRange::starting(first, days).unwrap()
}

/// A registered family whose mother is 山田 花子 (kana as given, so that
/// families do not count as duplicates of each other).
async fn family(s: &Db, m: MunicipalityId, area: AreaId, given_kana: &str) -> FamilyId {
    s.register_notification(&ctx(m, Role::Nurse), &notification(area, "ヤマダ", given_kana)).await.unwrap()
}

/// A venue of kind `postpartum_facility` configured with `calendar`.
async fn facility(s: &Db, m: MunicipalityId, name: &str, calendar: &FacilityCalendar) -> VenueId {
    let v = s
        .create_venue(&NewVenue {
            municipality_id: m,
            area_id: None,
            kind: VenueKind::PostpartumFacility,
            name_ja: name.into(),
            name_en: name.into(),
        })
        .await
        .unwrap();
    s.set_postpartum_facility(m, v.id, "運営", "Operator", calendar).await.unwrap();
    v.id
}

/// Open every day with one pool of `places` for every service type.
fn every_day(places: u32) -> FacilityCalendar {
    FacilityCalendar::new(
        OpeningRules::every_day(),
        vec![CapacityPool {
            services: ServiceType::ALL.to_vec(),
            plan: CapacityPlan::fixed(places),
            from: None,
            accepts_siblings: false,
        }],
    )
    .unwrap()
}
#[tokio::test]
async fn civil_date_times_read_back_as_written_whatever_the_session_settings() {
    let db = TestDb::create("").await;
    let mut c = admin_connection().await;
    for setting in ["timezone TO 'Pacific/Kiritimati'", "datestyle TO 'SQL, DMY'"] {
        sqlx::Executor::execute(&mut c, format!("ALTER DATABASE {} SET {setting}", db.name).as_str()).await.unwrap();
    }
    c.close().await.unwrap();
    let s = PgStore::connect(&db.url, test_keys()).await.unwrap();
    s.migrate().await.unwrap();
    let (m, north, _) = town(&s, "131121").await;
    let centre = facility(&s, m, "センター", &every_day(3)).await;
    let f = family(&s, m, north, "ハナコ").await;
    let nurse = ctx(m, Role::Nurse);
    // The last minutes of June in Japan stay in June; what is finer than a
    // second is dropped, not rounded up into the next one.
    let start = datetime(2027, 6, 30, 23, 59, 59, 900_000_000);
    s.book_followup(&nurse, centre, f, start).await.unwrap();
    let june = DateRange::new(day(6, 1), day(6, 30)).unwrap();
    let got = s.followups(&nurse, None, None, june).await.unwrap();
    assert_eq!(got.iter().map(|x| x.start).collect::<Vec<_>>(), [datetime(2027, 6, 30, 23, 59, 59, 0)]);
    assert_eq!(s.followup_count(m, june).await.unwrap(), 1);
    assert_eq!(s.followup_count(m, DateRange::single(day(7, 1))).await.unwrap(), 0);
    let talk = s.create_online_talk(&nurse, centre, datetime(2027, 7, 1, 0, 0, 0, 0), 30, "t").await.unwrap();
    assert!(s.online_talks(m, june).await.unwrap().is_empty());
    assert_eq!(s.online_talks(m, DateRange::single(day(7, 1))).await.unwrap()[0].id, talk);
    let incident = NewIncident {
        venue_id: centre,
        heading: IncidentHeading::Infection,
        occurred: datetime(2027, 6, 1, 0, 0, 0, 0),
        summary: "x".into(),
        family_id: None,
    };
    s.report_incident(&nurse, &incident).await.unwrap();
    assert_eq!(s.incidents(&nurse, None, june).await.unwrap()[0].occurred, incident.occurred);
    assert!(s.incidents(&nurse, None, DateRange::single(day(5, 31))).await.unwrap().is_empty());
    finish(s, db).await;
}

#[test]
fn civil_date_times_are_sent_to_the_second_and_ranges_cover_whole_days() {
    assert_eq!(civil_param(datetime(2027, 6, 1, 9, 5, 7, 999_999_999)), "2027-06-01T09:05:07");
    assert_eq!(range_params(stay(day(6, 30), 2)), ("2027-06-30".into(), "2027-07-01".into()));
}
