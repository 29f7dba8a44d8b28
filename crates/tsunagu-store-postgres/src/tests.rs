//! Tests against a real PostgreSQL server: `TSUNAGU_TEST_PG_URL` must name
//! one (scripts/test.sh starts a throwaway cluster and sets it); without it
//! these tests fail rather than pass silently. Each test works in a fresh
//! database of its own.

use super::*;
use jiff::civil::{date, datetime};
use sqlx::Connection;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use tsunagu_domain::audit::{ChainError, ChainVerifier};
use tsunagu_domain::policy::{authorize, Action, Resource};
use tsunagu_domain::postpartum::calendar::{CapacityPlan, CapacityPool, OpeningRules};
use tsunagu_domain::records::{BabyInput, BirthInput, NotificationInput, PersonInput};
use tsunagu_domain::referrals::{self, apply};
use tsunagu_domain::roles::Actor;
use tsunagu_store::token_hash;

type Db = PgStore;

/// The keys every test store is opened with.
fn test_keys() -> StoreKeys {
    StoreKeys::derive(&tsunagu_domain::keys::MasterKey::from_bytes(&[7; 32]).unwrap())
}

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

/// Another store on the same database: its own pool, like another node.
async fn another_node(db: &TestDb) -> PgStore {
    PgStore::connect(&db.url, test_keys()).await.unwrap()
}

async fn close_node(s: PgStore) {
    s.close().await;
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
    AuditContext {
        municipality_id: m,
        actor: AccountId(7),
        role,
        remote_addr: "192.0.2.1".into(),
        reason: "test".into(),
        at: at("2026-11-22T01:02:03.123456Z"),
    }
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

fn baby(d: &str, sex: &str) -> BabyInput {
    BabyInput {
        birth_date: d.into(),
        sex: sex.into(),
        given_name: None,
        given_name_kana: None,
        gestational_weeks: 37,
        gestational_days: 2,
        birth_weight_g: Some(2600),
        long_hospitalisation: false,
    }
}

fn new_account(m: MunicipalityId, username: &str, role: Role) -> NewAccount {
    NewAccount {
        municipality_id: m,
        username: username.into(),
        display_name: "Staff".into(),
        role,
        password_hash: Secret::new("$argon2id$fake"),
        totp_secret: None,
        family_id: None,
        areas: vec![],
        venues: vec![],
        rooms: vec![],
        created_at: jiff::Timestamp::UNIX_EPOCH,
    }
}

fn session(token: &str, account: AccountId, created: &str) -> Session {
    Session {
        token_hash: token_hash(token),
        account_id: account,
        stage: SessionStage::Full,
        csrf_token: Secret::new("csrf"),
        created_at: at(created),
        last_seen_at: at(created),
    }
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

/// Locks the municipality's audit head (its chain must have a line), so
/// that racing writers pile up inside their transactions — each one either
/// there, at its last step, or at whatever lock serializes it before that.
async fn hold_audit_head(s: &PgStore, m: MunicipalityId) -> sqlx::Transaction<'static, Postgres> {
    let mut tx = s.pool.begin().await.unwrap();
    sqlx::query("SELECT seq FROM audit_heads WHERE municipality_id = $1 FOR UPDATE")
        .bind(m.0)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx
}

/// Waits until `waiting` sessions of this database wait for a lock, then
/// lets them go.
async fn open_gate(s: &PgStore, gate: sqlx::Transaction<'static, Postgres>, waiting: i64) {
    for _ in 0..200 {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(&s.pool)
        .await
        .unwrap();
        if n == waiting {
            gate.commit().await.unwrap();
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the racers never all waited at the gate");
}

async fn actions(s: &PgStore, m: MunicipalityId) -> Vec<String> {
    s.audit_lines(m, 0, 1000).await.unwrap().into_iter().map(|l| l.action).collect()
}

// --- migrations and connections -----------------------------------------------

#[tokio::test]
async fn migrating_twice_is_a_no_op_and_a_changed_migration_stops_start_up() {
    let (s, db) = fresh().await;
    s.migrate().await.unwrap();
    let applied: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
            .fetch_all(&s.pool)
            .await
            .unwrap();
    assert_eq!(
        applied,
        vec![
            (1, "foundation".to_owned(), MIGRATIONS[0].checksum()),
            (2, "postpartum".to_owned(), MIGRATIONS[1].checksum()),
            (3, "referrals_followups".to_owned(), MIGRATIONS[2].checksum()),
            (4, "timeline".to_owned(), MIGRATIONS[3].checksum()),
            (5, "screening".to_owned(), MIGRATIONS[4].checksum()),
            (6, "meetings_groups".to_owned(), MIGRATIONS[5].checksum()),
            (8, "audit_keyed".to_owned(), MIGRATIONS[6].checksum()),
        ]
    );
    assert_eq!(s.backend(), "postgres");
    s.ping().await.unwrap();

    exec(&s, "UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1").await.unwrap();
    match s.migrate().await {
        Err(StoreError::Other(e)) => assert!(e.to_string().contains("migration 1 was changed")),
        other => panic!("expected a refusal, got {other:?}"),
    }
    finish(s, db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_migrating_at_once_apply_each_migration_once() {
    let db = TestDb::create("").await;
    let mut nodes = vec![];
    for _ in 0..4 {
        nodes.push(PgStore::connect(&db.url, test_keys()).await.unwrap());
    }
    let tasks: Vec<_> = nodes.iter().cloned().map(|s| tokio::spawn(async move { s.migrate().await })).collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM schema_migrations").fetch_one(&nodes[0].pool).await.unwrap();
    assert_eq!(n, MIGRATIONS.len() as i64);
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

// --- configuration ----------------------------------------------------------

#[tokio::test]
async fn municipalities_areas_and_venues_round_trip() {
    let (s, db) = fresh().await;
    let m = s.create_municipality(code("131121"), "世田谷区", "Setagaya").await.unwrap();
    let other = s.create_municipality(code("082350"), "つくば市", "Tsukuba").await.unwrap();
    assert_eq!(s.municipality(m.id).await.unwrap(), Some(m.clone()));
    assert_eq!(s.municipality_by_code(code("082350")).await.unwrap(), Some(other.clone()));
    assert_eq!(s.municipality(MunicipalityId(999)).await.unwrap(), None);
    assert_eq!(s.municipalities().await.unwrap(), vec![other.clone(), m.clone()]);
    assert!(matches!(
        s.create_municipality(code("131121"), "x", "x").await,
        Err(StoreError::Conflict("municipality_exists"))
    ));

    let a = s.create_area(m.id, "世田谷", "Setagaya").await.unwrap();
    let b = s.create_area(m.id, "北沢", "Kitazawa").await.unwrap();
    let foreign = s.create_area(other.id, "世田谷", "Same name elsewhere").await.unwrap();
    assert!(matches!(s.create_area(m.id, "世田谷", "again").await, Err(StoreError::Conflict("area_exists"))));
    assert_eq!(s.areas(m.id).await.unwrap(), vec![a.clone(), b.clone()]);
    assert_eq!(s.areas(other.id).await.unwrap(), vec![foreign.clone()]);

    let v = s
        .create_venue(&NewVenue {
            municipality_id: m.id,
            area_id: Some(a.id),
            kind: VenueKind::Hub,
            name_ja: "ひろば".into(),
            name_en: "Hub".into(),
        })
        .await
        .unwrap();
    assert_eq!(v.area_id, Some(a.id));
    assert_eq!(v.kind, VenueKind::Hub);
    let w = s
        .create_venue(&NewVenue {
            municipality_id: m.id,
            area_id: None,
            kind: VenueKind::HealthCentre,
            name_ja: "保健センター".into(),
            name_en: "Health centre".into(),
        })
        .await
        .unwrap();
    assert!(matches!(
        s.create_venue(&NewVenue {
            municipality_id: m.id,
            area_id: Some(foreign.id),
            kind: VenueKind::Hub,
            name_ja: "x".into(),
            name_en: "x".into(),
        })
        .await,
        Err(StoreError::InvalidReference("area_id"))
    ));
    assert_eq!(s.venues(m.id).await.unwrap(), vec![v, w]);
    assert_eq!(s.venues(other.id).await.unwrap(), vec![]);
    finish(s, db).await;
}

// --- accounts, sessions, sign-in -------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn accounts_scopes_sessions_and_second_factor() {
    let (s, db) = fresh().await;
    let (m, north, south) = town(&s, "131121").await;
    let (other, foreign_area, _) = town(&s, "082350").await;
    let venue = s
        .create_venue(&NewVenue {
            municipality_id: m,
            area_id: None,
            kind: VenueKind::SupportRoom,
            name_ja: "室".into(),
            name_en: "Room".into(),
        })
        .await
        .unwrap();
    let admin = ctx(m, Role::Admin);

    let mut na = new_account(m, "coord", Role::Coordinator);
    na.areas = vec![south, north, north];
    na.venues = vec![venue.id];
    na.rooms = vec![RoomId(3)];
    na.totp_secret = Some(Secret::new("JBSWY3DPEHPK3PXP"));
    na.created_at = admin.at;
    let acc = s.create_account(Some(&admin), &na).await.unwrap();
    assert_eq!(acc.username, "coord");
    assert_eq!(acc.role, Role::Coordinator);
    assert_eq!(acc.areas, vec![north, south]);
    assert_eq!(acc.venues, vec![venue.id]);
    assert_eq!(acc.rooms, vec![RoomId(3)]);
    assert_eq!(acc.totp_secret, Some(Secret::new("JBSWY3DPEHPK3PXP")));
    assert_eq!(acc.created_at, admin.at);
    assert!(!acc.disabled);
    assert_eq!(s.account(acc.id).await.unwrap(), Some(acc.clone()));
    assert_eq!(s.account_by_username(m, "coord").await.unwrap(), Some(acc.clone()));
    assert_eq!(s.account_by_username(other, "coord").await.unwrap(), None);

    assert!(matches!(
        s.create_account(Some(&admin), &new_account(m, "coord", Role::Nurse)).await,
        Err(StoreError::Conflict("username_taken"))
    ));
    // The same name in another municipality is another account; bootstrap has no context.
    let elsewhere = s.create_account(None, &new_account(other, "coord", Role::Nurse)).await.unwrap();
    assert_eq!(elsewhere.created_at, Timestamp::UNIX_EPOCH);
    let mut bad = new_account(m, "x", Role::Coordinator);
    bad.areas = vec![foreign_area];
    assert!(matches!(s.create_account(None, &bad).await, Err(StoreError::InvalidReference("areas"))));
    let mut bad = new_account(m, "y", Role::FamilyMember);
    bad.family_id = Some(FamilyId(12345));
    assert!(matches!(s.create_account(None, &bad).await, Err(StoreError::InvalidReference("family_id"))));
    assert_eq!(s.accounts(m).await.unwrap(), vec![acc.clone()]);

    // Sessions.
    s.create_session(&session("t1", acc.id, "2026-11-22T00:00:00.000001Z")).await.unwrap();
    s.create_session(&session("t2", acc.id, "2026-11-22T00:00:00Z")).await.unwrap();
    let got = s.session(&token_hash("t1")).await.unwrap().unwrap();
    assert_eq!(got, session("t1", acc.id, "2026-11-22T00:00:00.000001Z"));
    s.touch_session(&token_hash("t1"), at("2026-11-22T00:10:00.5Z")).await.unwrap();
    assert_eq!(s.session(&token_hash("t1")).await.unwrap().unwrap().last_seen_at, at("2026-11-22T00:10:00.5Z"));
    s.delete_session(&token_hash("t2")).await.unwrap();
    assert_eq!(s.session(&token_hash("t2")).await.unwrap(), None);

    // Disabling ends the sessions; it is bounded by the actor's municipality.
    assert!(matches!(s.set_disabled(&ctx(other, Role::Admin), acc.id, true).await, Err(StoreError::NotFound)));
    s.set_disabled(&admin, acc.id, true).await.unwrap();
    assert!(s.account(acc.id).await.unwrap().unwrap().disabled);
    assert_eq!(s.session(&token_hash("t1")).await.unwrap(), None);
    s.set_disabled(&admin, acc.id, false).await.unwrap();
    assert!(!s.account(acc.id).await.unwrap().unwrap().disabled);

    // A new password ends the sessions too.
    s.create_session(&session("t3", acc.id, "2026-11-22T01:00:00Z")).await.unwrap();
    s.set_password(Some(&admin), acc.id, &Secret::new("$argon2id$new")).await.unwrap();
    assert_eq!(s.session(&token_hash("t3")).await.unwrap(), None);
    assert_eq!(s.account(acc.id).await.unwrap().unwrap().password_hash, Secret::new("$argon2id$new"));
    assert!(matches!(s.set_password(None, AccountId(999), &Secret::new("h")).await, Err(StoreError::NotFound)));

    // TOTP steps are never accepted twice, even by racing requests.
    assert!(s.use_totp_step(acc.id, 100).await.unwrap());
    assert!(!s.use_totp_step(acc.id, 100).await.unwrap());
    assert!(!s.use_totp_step(acc.id, 99).await.unwrap());
    let racers: Vec<_> = (0..10)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { s.use_totp_step(acc.id, 101).await.unwrap() })
        })
        .collect();
    let mut won = 0;
    for r in racers {
        won += usize::from(r.await.unwrap());
    }
    assert_eq!(won, 1);
    assert_eq!(s.account(acc.id).await.unwrap().unwrap().totp_last_step, 101);

    // Enrolling keeps the sessions; a reset ends them and clears the last step.
    s.create_session(&session("t4", acc.id, "2026-11-22T01:00:00Z")).await.unwrap();
    s.set_totp_secret(None, acc.id, Some(&Secret::new("NEWSECRET"))).await.unwrap();
    assert!(s.session(&token_hash("t4")).await.unwrap().is_some());
    s.set_totp_secret(Some(&admin), acc.id, None).await.unwrap();
    assert_eq!(s.session(&token_hash("t4")).await.unwrap(), None);
    let acc2 = s.account(acc.id).await.unwrap().unwrap();
    assert_eq!((acc2.totp_secret, acc2.totp_last_step), (None, 0));
    s.create_session(&session("t5", acc.id, "2026-11-22T01:00:00Z")).await.unwrap();
    s.delete_sessions_of(acc.id).await.unwrap();
    assert_eq!(s.session(&token_hash("t5")).await.unwrap(), None);

    assert_eq!(
        actions(&s, m).await,
        ["account.create", "account.disable", "account.enable", "account.password_reset", "account.totp_reset",]
    );
    assert_eq!(s.audit_lines(m, 0, 1).await.unwrap()[0].detail, format!("account={}", acc.id));
    assert_eq!(verify_chain(&s, m).await, Ok(5));
    assert_eq!(verify_chain(&s, other).await, Ok(0));
    finish(s, db).await;
}

#[tokio::test]
async fn failed_signins_count_from_the_last_success() {
    let (s, db) = fresh().await;
    let attempt = |user: &str, addr: &str, t: &str, success: bool| SigninAttempt {
        municipality_code: "131121".into(),
        username: user.into(),
        remote_addr: addr.into(),
        at: at(t),
        success,
    };
    for a in [
        attempt("hanako", "192.0.2.1", "2026-11-22T00:00:00Z", false),
        attempt("hanako", "192.0.2.1", "2026-11-22T00:01:00Z", true),
        attempt("hanako", "192.0.2.1", "2026-11-22T00:02:00Z", false),
        attempt("hanako", "192.0.2.2", "2026-11-22T00:03:00.5Z", false),
        attempt("taro", "192.0.2.2", "2026-11-22T00:03:00.25Z", false),
    ] {
        s.record_signin_attempt(&a).await.unwrap();
    }
    let since = at("2026-11-21T00:00:00Z");
    assert_eq!(s.failed_signins_for_user("131121", "hanako", since).await.unwrap(), 2);
    assert_eq!(s.failed_signins_for_user("082350", "hanako", since).await.unwrap(), 0);
    // Instants compare as instants: 00:03:00.5 is after 00:03:00.
    assert_eq!(s.failed_signins_for_user("131121", "hanako", at("2026-11-22T00:03:00Z")).await.unwrap(), 1);
    assert_eq!(s.failed_signins_from("192.0.2.2", at("2026-11-22T00:03:00Z")).await.unwrap(), 2);
    assert_eq!(s.failed_signins_from("192.0.2.2", at("2026-11-22T00:03:00.25Z")).await.unwrap(), 2);
    assert_eq!(s.failed_signins_from("192.0.2.2", at("2026-11-22T00:03:00.250001Z")).await.unwrap(), 1);
    assert_eq!(s.failed_signins_from("192.0.2.1", since).await.unwrap(), 2);
    finish(s, db).await;
}

// --- families ---------------------------------------------------------------

#[tokio::test]
async fn a_notification_opens_a_record_and_opening_it_is_audited() {
    let (s, db) = fresh().await;
    let (m, north, _) = town(&s, "131121").await;
    let nurse = ctx(m, Role::Nurse);
    let mut input = notification_input(north, mother("ヤマダ", "ハナコ", Some("1994-05-01")), "2027-05-20");
    input.handbook_number = Some("R8-0001".into());
    input.foetuses = 2;
    input.partner = Some(PersonInput {
        family_name: "山田".into(),
        given_name: "太郎".into(),
        family_name_kana: "やまだ".into(),
        given_name_kana: "たろう".into(),
        birth_date: None,
    });
    let n = input.check(today()).unwrap();
    let f = s.register_notification(&nurse, &n).await.unwrap();
    assert_eq!(actions(&s, m).await, ["family.create"]);

    let access = s.family_access(m, f).await.unwrap().unwrap();
    assert_eq!(
        (access.area_id, access.consent_coordinators, access.consent_hubs, access.escalated),
        (north, true, false, false)
    );
    let (other, _, _) = town(&s, "082350").await;
    assert_eq!(s.family_access(other, f).await.unwrap(), None);
    assert_eq!(s.open_family(&ctx(other, Role::Nurse), f).await.unwrap(), None);
    assert_eq!(s.audit_head(other).await.unwrap(), None);

    let rec = s.open_family(&nurse, f).await.unwrap().unwrap();
    // The line is there as soon as the record is returned.
    let lines = s.audit_lines(m, 0, 100).await.unwrap();
    let last = lines.last().unwrap();
    assert_eq!((last.action.as_str(), last.family_id, last.actor), ("family.view", Some(f), nurse.actor));
    assert_eq!(last.at, nurse.at);

    assert_eq!(rec.family.fee_bracket, FeeBracket::Taxed);
    assert_eq!(rec.family.area_id, north);
    let mom = rec.mother().unwrap();
    assert_eq!(mom.full_name(), "山田 花子");
    assert_eq!(mom.full_kana(), "ヤマダ ハナコ");
    assert_eq!(mom.birth_date, Some(date(1994, 5, 1)));
    assert_eq!(rec.people.len(), 2);
    assert_eq!(rec.people[1].relation, Relation::Partner);
    assert_eq!(rec.people[1].birth_date, None);
    assert_eq!(rec.pregnancies.len(), 1);
    let p = &rec.pregnancies[0];
    assert_eq!((p.notified_on, p.edd, p.foetuses, p.first_child), (today(), date(2027, 5, 20), 2, true));
    assert_eq!((p.status, p.handbook_number.as_deref()), (PregnancyStatus::Ongoing, Some("R8-0001")));
    assert!(rec.babies.is_empty());
    assert_eq!(verify_chain(&s, m).await, Ok(2));
    finish(s, db).await;
}

#[tokio::test]
async fn kana_search_honours_the_filter_and_never_crosses_municipalities() {
    let (s, db) = fresh().await;
    let (m, north, south) = town(&s, "131121").await;
    let (other, other_area, _) = town(&s, "082350").await;
    let nurse = ctx(m, Role::Nurse);

    let hanako = s.register_notification(&nurse, &notification(north, "ヤマダ", "ハナコ")).await.unwrap();
    let mut n = notification(south, "やまもと", "はなえ");
    n.consent_coordinators = false;
    let hanae = s.register_notification(&nurse, &n).await.unwrap();
    let yoshiko = s.register_notification(&nurse, &notification(south, "ｽｽﾞｷ", "ﾖｼｺ")).await.unwrap();
    // "ばなな" is not "はな…": the voiced mark counts.
    let banako = s.register_notification(&nurse, &notification(north, "サトウ", "バナコ")).await.unwrap();
    // The same name in another municipality.
    let foreign =
        s.register_notification(&ctx(other, Role::Nurse), &notification(other_area, "ヤマダ", "ハナコ")).await.unwrap();
    exec(&s, &format!("UPDATE families SET escalated = TRUE WHERE id = {}", hanae.0)).await.unwrap();

    let ids = |v: Vec<FamilySummary>| v.into_iter().map(|f| f.family_id).collect::<Vec<_>>();
    let all = FamilyFilter::Municipality(m);
    assert_eq!(ids(s.search_families(&nurse, &all, "やま", 50).await.unwrap()), [hanako, hanae]);
    assert_eq!(ids(s.search_families(&nurse, &all, "やまだは", 50).await.unwrap()), [hanako]);
    // Given name alone, in kana order of the given name (はなえ before はなこ).
    assert_eq!(ids(s.search_families(&nurse, &all, "はな", 50).await.unwrap()), [hanae, hanako]);
    assert_eq!(ids(s.search_families(&nurse, &all, "ばな", 50).await.unwrap()), [banako]);
    assert_eq!(ids(s.search_families(&nurse, &all, "すずき", 50).await.unwrap()), [yoshiko]);
    assert_eq!(ids(s.search_families(&nurse, &all, "", 50).await.unwrap()), [banako, yoshiko, hanako, hanae]);
    assert_eq!(ids(s.search_families(&nurse, &all, "", 2).await.unwrap()), [banako, yoshiko]);
    assert!(s.search_families(&nurse, &all, "わ", 50).await.unwrap().is_empty());

    let summary = &s.search_families(&nurse, &all, "やまだ", 50).await.unwrap()[0];
    assert_eq!(summary.mother_name, "山田 花子");
    assert_eq!(summary.mother_kana, "ヤマダ ハナコ");
    assert_eq!(summary.mother_birth_date, Some(date(1994, 5, 1)));
    assert_eq!(summary.latest_edd, Some(date(2027, 5, 20)));
    assert_eq!(summary.area_id, north);

    let coord = ctx(m, Role::Coordinator);
    let consenting = |areas: Vec<AreaId>| FamilyFilter::ConsentingInAreas(m, areas);
    assert_eq!(ids(s.search_families(&coord, &consenting(vec![north]), "", 50).await.unwrap()), [banako, hanako]);
    // hanae did not consent; yoshiko did.
    assert_eq!(ids(s.search_families(&coord, &consenting(vec![south]), "", 50).await.unwrap()), [yoshiko]);
    assert_eq!(ids(s.search_families(&coord, &consenting(vec![north, south]), "やま", 50).await.unwrap()), [hanako]);
    assert!(s.search_families(&coord, &consenting(vec![]), "", 50).await.unwrap().is_empty());
    assert!(s.search_families(&coord, &consenting(vec![other_area]), "", 50).await.unwrap().is_empty());

    let cw = ctx(m, Role::Caseworker);
    assert_eq!(ids(s.search_families(&cw, &FamilyFilter::Escalated(m), "", 50).await.unwrap()), [hanae]);

    // The other municipality sees only its own family, and a filter for one
    // municipality cannot be used with a context of another.
    let theirs = ctx(other, Role::Nurse);
    assert_eq!(ids(s.search_families(&theirs, &FamilyFilter::Municipality(other), "", 50).await.unwrap()), [foreign]);
    assert!(matches!(
        s.search_families(&theirs, &all, "", 50).await,
        Err(StoreError::InvalidReference("municipality"))
    ));

    let searches = s
        .search_audit(m, &AuditQuery { action: Some(AuditAction::FamilySearch), limit: 100, ..Default::default() })
        .await
        .unwrap();
    // Every search left a line (the one with no areas too), newest first.
    assert_eq!(searches.len(), 15);
    assert_eq!(searches[0].detail, "results=1");
    assert_eq!(searches.last().unwrap().detail, "results=2");
    assert!(verify_chain(&s, m).await.is_ok());
    assert!(verify_chain(&s, other).await.is_ok());
    finish(s, db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn duplicates_handbook_numbers_and_foreign_areas_are_refused() {
    let (s, db) = fresh().await;
    let (m, north, _) = town(&s, "131121").await;
    let (_, foreign_area, _) = town(&s, "082350").await;
    let nurse = ctx(m, Role::Nurse);

    let mut first = notification(north, "ヤマダ", "ハナコ");
    first.handbook_number = Some("R8-0001".into());
    s.register_notification(&nurse, &first).await.unwrap();
    // Same mother, EDD two weeks later, written differently: the same pregnancy.
    let again =
        notification_input(north, mother("やまだ", "はなこ", Some("1994-05-01")), "2027-06-03").check(today()).unwrap();
    assert!(matches!(
        s.register_notification(&nurse, &again).await,
        Err(StoreError::Conflict("duplicate_notification"))
    ));
    // Another mother of the same name (other birth date) is not a duplicate,
    // but a handbook number is issued once.
    let mut namesake =
        notification_input(north, mother("ヤマダ", "ハナコ", Some("1990-01-01")), "2027-05-20").check(today()).unwrap();
    namesake.handbook_number = Some("R8-0001".into());
    assert!(matches!(
        s.register_notification(&nurse, &namesake).await,
        Err(StoreError::Conflict("handbook_number_taken"))
    ));
    namesake.handbook_number = Some("R8-0002".into());
    s.register_notification(&nurse, &namesake).await.unwrap();
    assert!(matches!(
        s.register_notification(&nurse, &notification(foreign_area, "スズキ", "ヨシコ")).await,
        Err(StoreError::InvalidReference("area_id"))
    ));

    // Racing registrations of one pregnancy: exactly one opens a record.
    let n = notification(north, "タナカ", "ミカ");
    let gate = hold_audit_head(&s, m).await;
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let (s, nurse, n) = (s.clone(), nurse.clone(), n.clone());
            tokio::spawn(async move { s.register_notification(&nurse, &n).await })
        })
        .collect();
    open_gate(&s, gate, 8).await;
    let (mut ok, mut dup) = (0, 0);
    for r in racers {
        match r.await.unwrap() {
            Ok(_) => ok += 1,
            Err(StoreError::Conflict("duplicate_notification")) => dup += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!((ok, dup), (1, 7));
    let families: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM families").fetch_one(&s.pool).await.unwrap();
    assert_eq!(families, 3);
    assert_eq!(verify_chain(&s, m).await, Ok(3));
    finish(s, db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn births_record_twins_once() {
    let (s, db) = fresh().await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, _, _) = town(&s, "082350").await;
    let nurse = ctx(m, Role::Nurse);
    let mut input = notification_input(north, mother("ヤマダ", "ハナコ", Some("1994-05-01")), "2026-12-01");
    input.foetuses = 2;
    let f = s.register_notification(&nurse, &input.check(today()).unwrap()).await.unwrap();
    let rec = s.open_family(&nurse, f).await.unwrap().unwrap();
    let pregnancy = rec.pregnancies[0].clone();

    let mut first = baby("2026-11-20", "female");
    first.given_name = Some("一花".into());
    first.given_name_kana = Some("イチカ".into());
    let mut second = baby("2026-11-20", "male");
    second.birth_weight_g = None;
    second.long_hospitalisation = true;
    let babies = BirthInput { babies: vec![first, second] }.check(&pregnancy, today()).unwrap();

    assert!(matches!(
        s.record_birth(&ctx(other, Role::Nurse), f, pregnancy.id, &babies).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.record_birth(&nurse, FamilyId(f.0 + 1000), pregnancy.id, &babies).await,
        Err(StoreError::NotFound)
    ));
    let ids = s.record_birth(&nurse, f, pregnancy.id, &babies).await.unwrap();
    assert_eq!(ids.len(), 2);
    assert!(matches!(
        s.record_birth(&nurse, f, pregnancy.id, &babies).await,
        Err(StoreError::Conflict("pregnancy_not_ongoing"))
    ));

    let rec = s.open_family(&nurse, f).await.unwrap().unwrap();
    assert_eq!(rec.pregnancies[0].status, PregnancyStatus::Delivered);
    assert_eq!(rec.babies.iter().map(|b| b.id).collect::<Vec<_>>(), ids);
    let (a, b) = (&rec.babies[0], &rec.babies[1]);
    assert_eq!(
        (a.birth_date, a.sex, a.gestational_weeks, a.gestational_days),
        (date(2026, 11, 20), Sex::Female, 37, 2)
    );
    assert_eq!((a.birth_weight_g, a.long_hospitalisation), (Some(2600), false));
    assert_eq!((b.sex, b.birth_weight_g, b.long_hospitalisation), (Sex::Male, None, true));
    let child = rec.person(a.person_id).unwrap();
    assert_eq!(
        (child.relation, child.full_name().as_str(), child.full_kana().as_str()),
        (Relation::Child, "山田 一花", "ヤマダ イチカ")
    );
    assert_eq!(child.birth_date, Some(date(2026, 11, 20)));
    // Children are not mothers: the search still finds one family.
    let found = s.search_families(&nurse, &FamilyFilter::Municipality(m), "やまだ", 10).await.unwrap();
    assert_eq!(found.len(), 1);

    // Racing births on one pregnancy: exactly one is recorded.
    let mut input = notification_input(north, mother("サトウ", "ミカ", None), "2026-12-01");
    input.foetuses = 1;
    let f3 = s.register_notification(&nurse, &input.check(today()).unwrap()).await.unwrap();
    let p3 = s.open_family(&nurse, f3).await.unwrap().unwrap().pregnancies[0].clone();
    let one = BirthInput { babies: vec![baby("2026-11-21", "undetermined")] }.check(&p3, today()).unwrap();
    let p3 = p3.id;
    let gate = hold_audit_head(&s, m).await;
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let (s, nurse, one) = (s.clone(), nurse.clone(), one.clone());
            tokio::spawn(async move { s.record_birth(&nurse, f3, p3, &one).await })
        })
        .collect();
    open_gate(&s, gate, 8).await;
    let (mut ok, mut conflict) = (0, 0);
    for r in racers {
        match r.await.unwrap() {
            Ok(ids) => {
                assert_eq!(ids.len(), 1);
                ok += 1;
            }
            Err(StoreError::Conflict("pregnancy_not_ongoing")) => conflict += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!((ok, conflict), (1, 7));
    assert_eq!(s.open_family(&nurse, f3).await.unwrap().unwrap().babies.len(), 1);
    assert!(verify_chain(&s, m).await.is_ok());
    finish(s, db).await;
}

// --- audit ------------------------------------------------------------------

#[tokio::test]
async fn the_audit_chain_verifies_and_can_be_searched() {
    let (s, db) = fresh().await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, other_area, _) = town(&s, "082350").await;
    let mut c = ctx(m, Role::Nurse);
    let f = s.register_notification(&c, &notification(north, "ヤマダ", "ハナコ")).await.unwrap();
    s.register_notification(&ctx(other, Role::Nurse), &notification(other_area, "ヤマダ", "ハナコ")).await.unwrap();
    for i in 0..5 {
        c.at = at("2026-11-22T02:00:00Z").checked_add(jiff::SignedDuration::from_secs(i)).unwrap();
        s.open_family(&c, f).await.unwrap().unwrap();
    }
    let mut admin = ctx(m, Role::Admin);
    admin.actor = AccountId(1);
    admin.at = at("2026-11-22T03:00:00Z");
    s.write_audit(&admin, AuditAction::AuditSearch, None, "q=all").await.unwrap();

    assert_eq!(verify_chain(&s, m).await, Ok(7));
    assert_eq!(verify_chain(&s, other).await, Ok(1));
    let head = s.audit_head(m).await.unwrap().unwrap();
    assert_eq!(head.0, 7);
    let lines = s.audit_lines(m, 0, 100).await.unwrap();
    assert_eq!(lines.iter().map(|l| l.seq).collect::<Vec<_>>(), (1..=7).collect::<Vec<_>>());
    assert_eq!(lines[0].prev_hash, GENESIS);
    assert_eq!(lines[6].hash, head.1);
    assert!(lines.iter().all(|l| l.municipality_id == m));
    assert_eq!(s.audit_lines(m, 5, 100).await.unwrap().len(), 2);

    let q = |f: fn(&mut AuditQuery)| {
        let mut q = AuditQuery { limit: 100, ..Default::default() };
        f(&mut q);
        q
    };
    let seqs = |v: Vec<AuditLine>| v.into_iter().map(|l| l.seq).collect::<Vec<_>>();
    assert_eq!(seqs(s.search_audit(m, &q(|_| {})).await.unwrap()), [7, 6, 5, 4, 3, 2, 1]);
    assert_eq!(seqs(s.search_audit(m, &q(|q| q.actor = Some(AccountId(1)))).await.unwrap()), [7]);
    assert_eq!(
        seqs(s.search_audit(m, &q(|q| q.action = Some(AuditAction::FamilyView))).await.unwrap()),
        [6, 5, 4, 3, 2]
    );
    assert_eq!(seqs(s.search_audit(m, &q(|q| q.before_seq = Some(3))).await.unwrap()), [2, 1]);
    let fam = AuditQuery { family_id: Some(f), limit: 2, ..Default::default() };
    assert_eq!(seqs(s.search_audit(m, &fam).await.unwrap()), [6, 5]);
    // `from` is inclusive, `to` exclusive, to the microsecond.
    let window = AuditQuery {
        from: Some(at("2026-11-22T02:00:01Z")),
        to: Some(at("2026-11-22T02:00:03Z")),
        limit: 100,
        ..Default::default()
    };
    assert_eq!(seqs(s.search_audit(m, &window).await.unwrap()), [4, 3]);
    let zero = AuditQuery { limit: 0, ..Default::default() };
    assert_eq!(seqs(s.search_audit(m, &zero).await.unwrap()), [7]);
    assert_eq!(seqs(s.search_audit(other, &q(|_| {})).await.unwrap()), [1]);

    // Tampering behind the store's back (a superuser switching the trigger
    // off) is found by the verifier.
    exec(&s, "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only").await.unwrap();
    exec(&s, &format!("DELETE FROM audit_log WHERE municipality_id = {} AND seq = 7", m.0)).await.unwrap();
    assert_eq!(verify_chain(&s, m).await, Err(ChainError::Truncated { seq: 6, head_seq: 7 }));
    exec(&s, &format!("UPDATE audit_log SET reason = 'nothing' WHERE municipality_id = {} AND seq = 3", m.0))
        .await
        .unwrap();
    assert_eq!(verify_chain(&s, m).await, Err(ChainError::Edited { seq: 3 }));
    exec(&s, "ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only").await.unwrap();
    assert!(exec(&s, "DELETE FROM audit_log").await.is_err());
    finish(s, db).await;
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_give_a_gap_free_chain() {
    let (s, db) = fresh().await;
    let (m, _, _) = town(&s, "131121").await;
    let (other, _, _) = town(&s, "082350").await;
    let tasks: Vec<_> = (0..20)
        .map(|i: i64| {
            let s = s.clone();
            tokio::spawn(async move {
                for j in 0..5 {
                    let mut c = ctx(if i % 4 == 3 { other } else { m }, Role::Nurse);
                    c.actor = AccountId(i);
                    c.at = Timestamp::from_microsecond(1_795_000_000_000_000 + i * 1000 + j).unwrap();
                    s.write_audit(&c, AuditAction::SignIn, None, &format!("task={i}")).await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(verify_chain(&s, m).await, Ok(75));
    assert_eq!(verify_chain(&s, other).await, Ok(25));
    let seqs: Vec<i64> = s.audit_lines(m, 0, 1000).await.unwrap().iter().map(|l| l.seq).collect();
    assert_eq!(seqs, (1..=75).collect::<Vec<_>>());
    assert_eq!(s.audit_head(m).await.unwrap().unwrap().0, 75);
    finish(s, db).await;
}

#[tokio::test]
async fn instants_round_trip_to_the_microsecond() {
    let (s, db) = fresh().await;
    let (m, north, _) = town(&s, "131121").await;
    let instants = [
        "2026-11-22T01:02:03.123456789Z",
        "2026-11-22T01:02:03.000001Z",
        "2026-11-22T01:02:03.999999999Z",
        "2026-11-22T01:02:03Z",
        "1969-12-31T23:59:59.5Z",
        "2099-02-28T23:59:59.999999Z",
    ];
    for (i, t) in instants.iter().enumerate() {
        let mut c = ctx(m, Role::Nurse);
        c.at = at(t);
        s.write_audit(&c, AuditAction::SignIn, None, &i.to_string()).await.unwrap();
        let line = s.audit_lines(m, i as i64, 1).await.unwrap().remove(0);
        assert_eq!(line.at, micros(at(t)), "{t}");
        assert_eq!(line.at.as_microsecond(), at(t).as_microsecond(), "{t}");
        assert_eq!(line.hash, line.expected_mac(&test_keys().chain));
    }
    assert_eq!(verify_chain(&s, m).await, Ok(instants.len() as u64));

    let acc = s.create_account(None, &new_account(m, "u", Role::Nurse)).await.unwrap();
    let mut sess = session("tok", acc.id, "2026-11-22T01:02:03.123456789Z");
    sess.last_seen_at = at("2026-11-22T09:00:00.000000999Z");
    s.create_session(&sess).await.unwrap();
    let got = s.session(&token_hash("tok")).await.unwrap().unwrap();
    assert_eq!(got.created_at, at("2026-11-22T01:02:03.123456Z"));
    assert_eq!(got.last_seen_at, at("2026-11-22T09:00:00Z"));

    let mut c = ctx(m, Role::Nurse);
    c.at = at("2026-11-22T01:02:03.654321987Z");
    s.register_notification(&c, &notification(north, "ヤマダ", "ハナコ")).await.unwrap();
    let created: String = sqlx::query_scalar(concat!("SELECT ", ts_col!("created_at"), " FROM families"))
        .fetch_one(&s.pool)
        .await
        .unwrap();
    assert_eq!(created, "2026-11-22T01:02:03.654321Z");
    finish(s, db).await;
}

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

    // And the prefix range is an index condition (the other index is set
    // aside so that the planner's choice on two rows does not matter).
    let mut tx = s.pool.begin().await.unwrap();
    sqlx::Executor::execute(&mut *tx, "DROP INDEX people_given_kana").await.unwrap();
    sqlx::Executor::execute(&mut *tx, "SET LOCAL enable_seqscan = off").await.unwrap();
    let plan: Vec<String> = sqlx::query_scalar(
        "EXPLAIN SELECT id FROM people WHERE municipality_id = $1 AND kana_key >= $2 AND kana_key < $3",
    )
    .bind(m.0)
    .bind("はな")
    .bind(format!("はな{}", char::MAX))
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    assert!(plan.iter().any(|l| l.contains("people_kana")), "{plan:?}");
    assert!(plan.iter().any(|l| l.contains("Index Cond") && l.contains("kana_key >=")), "{plan:?}");
    finish(s, db).await;
}

// --- postpartum care ----------------------------------------------------------

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

fn application(f: FamilyId, venue: VenueId, service: ServiceType, days: DateRange) -> NewApplication {
    NewApplication {
        family_id: f,
        venue_id: venue,
        service,
        stay: days,
        babies: 1,
        siblings: 0,
        answers: ApplicationAnswers {
            has_worries_or_fatigue: true,
            lacks_help_from_relatives: true,
            ..Default::default()
        },
        quote_total_yen: 4500 * days.len_days(),
        transport_paid: false,
        refusals: vec![],
        override_reason: None,
    }
}

/// One place of pool `pool` on every day of `days`, each day with `places`.
fn booking(pool: u32, days: DateRange, places: u32) -> Booking {
    Booking { pool, places: days.days().map(|d| (d, places)).collect() }
}

async fn status(s: &Db, m: MunicipalityId, id: ApplicationId) -> ApplicationStatus {
    s.application(&ctx(m, Role::Nurse), id).await.unwrap().unwrap().status
}

fn all_of_2027() -> DateRange {
    DateRange::new(day(1, 1), day(12, 31)).unwrap()
}

#[tokio::test]
async fn facility_configuration_round_trips() {
    let (s, db) = fresh().await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, _, _) = town(&s, "082350").await;
    let centre = facility(&s, m, "産後ケアセンター", &FacilityCalendar::setagaya_centre()).await;
    let mamas = facility(&s, m, "ママズルーム", &FacilityCalendar::setagaya_mamas_room()).await;
    let got = s.postpartum_facilities(m).await.unwrap();
    assert_eq!(got.iter().map(|f| f.venue.id).collect::<Vec<_>>(), [centre, mamas]);
    assert_eq!(got[0].calendar, FacilityCalendar::setagaya_centre());
    assert_eq!(got[1].calendar, FacilityCalendar::setagaya_mamas_room());
    assert_eq!((got[0].operator_ja.as_str(), got[0].operator_en.as_str()), ("運営", "Operator"));
    assert_eq!((got[1].venue.kind, got[1].venue.name_ja.as_str()), (VenueKind::PostpartumFacility, "ママズルーム"));
    // The calendar answers as it did before it was stored.
    assert_eq!(got[1].calendar.capacity(ServiceType::DayCare, date(2022, 1, 21)), 2);
    assert!(!got[1].calendar.is_open(date(2025, 10, 13)));

    // Setting it again replaces it.
    s.set_postpartum_facility(m, mamas, "いなみ小児科", "Inami clinic", &FacilityCalendar::setagaya_shiseikai())
        .await
        .unwrap();
    let got = s.postpartum_facilities(m).await.unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].operator_ja, "いなみ小児科");
    assert_eq!(got[1].calendar, FacilityCalendar::setagaya_shiseikai());

    // Only venues of the right kind, in the municipality.
    let hall = s
        .create_venue(&NewVenue {
            municipality_id: m,
            area_id: Some(north),
            kind: VenueKind::ChildrensHall,
            name_ja: "児童館".into(),
            name_en: "Hall".into(),
        })
        .await
        .unwrap();
    let cal = every_day(1);
    assert!(matches!(
        s.set_postpartum_facility(m, hall.id, "x", "x", &cal).await,
        Err(StoreError::InvalidReference("venue_id"))
    ));
    assert!(matches!(
        s.set_postpartum_facility(other, centre, "x", "x", &cal).await,
        Err(StoreError::InvalidReference("venue_id"))
    ));
    assert!(matches!(
        s.set_postpartum_facility(m, VenueId(9999), "x", "x", &cal).await,
        Err(StoreError::InvalidReference("venue_id"))
    ));
    assert!(s.postpartum_facilities(other).await.unwrap().is_empty());
    // Configuration is not a read of anyone's record.
    assert_eq!(s.audit_head(m).await.unwrap(), None);
    finish(s, db).await;
}

#[tokio::test]
async fn applications_are_stored_listed_and_viewed_with_an_audit_line_each() {
    let (s, db) = fresh().await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, other_area, _) = town(&s, "082350").await;
    let centre = facility(&s, m, "センター", &FacilityCalendar::setagaya_centre()).await;
    let mamas = facility(&s, m, "ママズルーム", &FacilityCalendar::setagaya_mamas_room()).await;
    let f = family(&s, m, north, "ハナコ").await;
    let g = family(&s, m, north, "ミカ").await;
    let foreign = family(&s, other, other_area, "ハナコ").await;
    let mut nurse = ctx(m, Role::Nurse);

    let mut a = application(f, centre, ServiceType::ShortStay, stay(day(5, 10), 7));
    a.babies = 2;
    a.siblings = 1;
    a.answers.grandparents_nearby = true;
    a.transport_paid = true;
    a.quote_total_yen = 38_500;
    a.refusals = vec!["over_age_limit".into(), "needs_medical_treatment".into()];
    // Refusals without a nurse's reason are not stored.
    assert!(matches!(s.create_application(&nurse, &a).await, Err(StoreError::Conflict("override_reason_required"))));
    a.override_reason = Some("主治医と相談済み".into());
    let first = s.create_application(&nurse, &a).await.unwrap();
    nurse.at = at("2026-11-22T02:00:00Z");
    let second =
        s.create_application(&nurse, &application(f, mamas, ServiceType::DayCare, stay(day(6, 7), 1))).await.unwrap();
    nurse.at = at("2026-11-22T03:00:00Z");
    let third =
        s.create_application(&nurse, &application(g, centre, ServiceType::DayCare, stay(day(6, 8), 1))).await.unwrap();

    // Families and facilities of other municipalities are refused.
    assert!(matches!(
        s.create_application(&nurse, &application(foreign, centre, ServiceType::DayCare, stay(day(6, 8), 1))).await,
        Err(StoreError::InvalidReference("family_id"))
    ));
    let other_centre = facility(&s, other, "他市センター", &every_day(3)).await;
    assert!(matches!(
        s.create_application(&nurse, &application(f, other_centre, ServiceType::DayCare, stay(day(6, 8), 1))).await,
        Err(StoreError::InvalidReference("venue_id"))
    ));
    let plain = s
        .create_venue(&NewVenue {
            municipality_id: m,
            area_id: None,
            kind: VenueKind::PostpartumFacility,
            name_ja: "未設定".into(),
            name_en: "Not configured".into(),
        })
        .await
        .unwrap();
    assert!(matches!(
        s.create_application(&nurse, &application(f, plain.id, ServiceType::DayCare, stay(day(6, 8), 1))).await,
        Err(StoreError::InvalidReference("venue_id"))
    ));

    let lines = s.audit_lines(m, 0, 100).await.unwrap();
    let applies: Vec<_> = lines.iter().filter(|l| l.action == "postpartum.apply").collect();
    assert_eq!(applies.len(), 3);
    assert_eq!((applies[0].family_id, applies[0].detail.clone()), (Some(f), format!("application={first}")));

    // Viewing one is audited with its family.
    let seen = s.application(&nurse, first).await.unwrap().unwrap();
    let last = s.audit_lines(m, 0, 100).await.unwrap().pop().unwrap();
    assert_eq!(
        (last.action.as_str(), last.family_id, last.detail.as_str()),
        ("postpartum.view", Some(f), format!("application={first}").as_str())
    );
    assert_eq!(
        seen,
        Application {
            id: first,
            municipality_id: m,
            family_id: f,
            venue_id: centre,
            service: ServiceType::ShortStay,
            stay: stay(day(5, 10), 7),
            babies: 2,
            siblings: 1,
            answers: a.answers,
            quote_total_yen: 38_500,
            transport_paid: true,
            refusals: a.refusals.clone(),
            override_reason: Some("主治医と相談済み".into()),
            status: ApplicationStatus::Applied,
            applied_by: nurse.actor,
            applied_at: at("2026-11-22T01:02:03.123456Z"),
            reviewed_by: None,
            reviewed_at: None,
            review_note: None,
            mother_name: "山田 花子".into(),
        }
    );
    // Not from another municipality, and then nothing is written.
    let head = s.audit_head(other).await.unwrap();
    assert_eq!(s.application(&ctx(other, Role::Nurse), first).await.unwrap(), None);
    assert_eq!(s.audit_head(other).await.unwrap(), head);

    // Lists: newest first, filtered, audited with the count.
    let ids = |v: Vec<Application>| v.into_iter().map(|a| a.id).collect::<Vec<_>>();
    let list = |filter: ApplicationFilter| {
        let (s, nurse) = (&s, &nurse);
        async move { s.applications(nurse, &filter).await.unwrap() }
    };
    let all = ApplicationFilter { limit: 100, ..Default::default() };
    assert_eq!(ids(list(all.clone()).await), [third, second, first]);
    let last = s.audit_lines(m, 0, 100).await.unwrap().pop().unwrap();
    assert_eq!((last.action.as_str(), last.family_id, last.detail.as_str()), ("postpartum.list", None, "results=3"));
    assert_eq!(ids(list(ApplicationFilter { family_id: Some(f), ..all.clone() }).await), [second, first]);
    let last = s.audit_lines(m, 0, 100).await.unwrap().pop().unwrap();
    assert_eq!((last.action.as_str(), last.family_id, last.detail.as_str()), ("postpartum.list", Some(f), "results=2"));
    assert_eq!(ids(list(ApplicationFilter { venue_id: Some(centre), ..all.clone() }).await), [third, first]);
    assert_eq!(ids(list(ApplicationFilter { limit: 1, ..all.clone() }).await), [third]);
    let approved = ApplicationFilter { status: Some(ApplicationStatus::Approved), ..all.clone() };
    assert!(list(approved.clone()).await.is_empty());
    s.approve_application(&nurse, second, &booking(0, stay(day(6, 7), 1), 3), "").await.unwrap();
    assert_eq!(ids(list(approved).await), [second]);
    assert!(list(all.clone()).await.iter().all(|a| a.mother_name == "山田 花子"));
    assert!(s.applications(&ctx(other, Role::Nurse), &all).await.unwrap().is_empty());
    assert!(verify_chain(&s, m).await.is_ok());
    finish(s, db).await;
}

#[tokio::test]
async fn approving_takes_every_day_or_none_and_cancelling_gives_them_back() {
    let (s, db) = fresh().await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, _, _) = town(&s, "082350").await;
    let v = facility(&s, m, "病院", &every_day(1)).await;
    let f = family(&s, m, north, "ハナコ").await;
    let g = family(&s, m, north, "ミカ").await;
    let mut nurse = ctx(m, Role::Nurse);
    nurse.actor = AccountId(21);
    nurse.at = at("2026-12-01T09:00:00Z");
    let taken = |range: DateRange| {
        let s = &s;
        async move { s.places_taken(m, v, 0, range).await.unwrap() }
    };
    let june = DateRange::new(day(6, 1), day(6, 30)).unwrap();

    // A: 1–3 June.
    let a_stay = stay(day(6, 1), 3);
    let a = s.create_application(&nurse, &application(f, v, ServiceType::ShortStay, a_stay)).await.unwrap();
    // The booking must be the stay's days, each once.
    for wrong in [
        booking(0, stay(day(6, 1), 2), 1),
        booking(0, stay(day(6, 2), 3), 1),
        Booking { pool: 0, places: vec![(day(6, 1), 1), (day(6, 2), 1), (day(6, 2), 1), (day(6, 3), 1)] },
    ] {
        assert!(matches!(
            s.approve_application(&nurse, a, &wrong, "").await,
            Err(StoreError::Conflict("booking_mismatch"))
        ));
    }
    // A day without places refuses the whole stay.
    let closed = Booking { pool: 0, places: vec![(day(6, 1), 1), (day(6, 2), 0), (day(6, 3), 1)] };
    assert!(matches!(s.approve_application(&nurse, a, &closed, "").await, Err(StoreError::Conflict("no_capacity"))));
    assert!(taken(june).await.is_empty());
    // Not from another municipality.
    assert!(matches!(
        s.approve_application(&ctx(other, Role::Nurse), a, &booking(0, a_stay, 1), "").await,
        Err(StoreError::NotFound)
    ));
    // Days given in any order.
    let mut shuffled = booking(0, a_stay, 1);
    shuffled.places.reverse();
    s.approve_application(&nurse, a, &shuffled, "承認").await.unwrap();
    assert_eq!(taken(june).await, [(day(6, 1), 1), (day(6, 2), 1), (day(6, 3), 1)]);
    assert_eq!(taken(stay(day(6, 2), 1)).await, [(day(6, 2), 1)]);
    assert!(s.places_taken(m, v, 1, june).await.unwrap().is_empty());
    let got = s.application(&nurse, a).await.unwrap().unwrap();
    assert_eq!(
        (got.status, got.reviewed_by, got.reviewed_at, got.review_note.as_deref()),
        (ApplicationStatus::Approved, Some(AccountId(21)), Some(nurse.at), Some("承認"))
    );
    assert!(matches!(
        s.approve_application(&nurse, a, &booking(0, a_stay, 5), "").await,
        Err(StoreError::Conflict("not_applied"))
    ));
    assert!(matches!(s.reject_application(&nurse, a, "").await, Err(StoreError::Conflict("not_applied"))));

    // B: 3–5 June. The 3rd is full: nothing is taken, not even the 4th and 5th.
    let b_stay = stay(day(6, 3), 3);
    let b = s.create_application(&nurse, &application(g, v, ServiceType::ShortStay, b_stay)).await.unwrap();
    assert!(matches!(
        s.approve_application(&nurse, b, &booking(0, b_stay, 1), "").await,
        Err(StoreError::Conflict("no_capacity"))
    ));
    assert_eq!(taken(june).await, [(day(6, 1), 1), (day(6, 2), 1), (day(6, 3), 1)]);
    assert_eq!(status(&s, m, b).await, ApplicationStatus::Applied);
    // 30 May – 1 June: the 30th and 31st are taken first, then the 1st is
    // full, and the places of the 30th and 31st are given back.
    let early = stay(day(5, 30), 3);
    let e1 = s.create_application(&nurse, &application(g, v, ServiceType::ShortStay, early)).await.unwrap();
    assert!(matches!(
        s.approve_application(&nurse, e1, &booking(0, early, 1), "").await,
        Err(StoreError::Conflict("no_capacity"))
    ));
    assert!(taken(DateRange::new(day(5, 1), day(5, 31)).unwrap()).await.is_empty());
    assert_eq!(status(&s, m, e1).await, ApplicationStatus::Applied);
    // With two places on those days (a calendar change) it fits.
    s.approve_application(&nurse, b, &booking(0, b_stay, 2), "").await.unwrap();
    assert_eq!(taken(june).await, [(day(6, 1), 1), (day(6, 2), 1), (day(6, 3), 2), (day(6, 4), 1), (day(6, 5), 1)]);

    // Cancelling A gives its days back; B keeps its own.
    s.cancel_application(&nurse, a, "体調不良").await.unwrap();
    assert_eq!(taken(june).await, [(day(6, 3), 1), (day(6, 4), 1), (day(6, 5), 1)]);
    let got = s.application(&nurse, a).await.unwrap().unwrap();
    // The approval stays on record.
    assert_eq!((got.status, got.review_note.as_deref()), (ApplicationStatus::Cancelled, Some("承認")));
    assert!(matches!(s.cancel_application(&nurse, a, "").await, Err(StoreError::Conflict("not_cancellable"))));
    assert!(matches!(
        s.approve_application(&nurse, a, &booking(0, a_stay, 1), "").await,
        Err(StoreError::Conflict("not_applied"))
    ));
    // The freed days can be taken again.
    let c = s.create_application(&nurse, &application(g, v, ServiceType::DayCare, stay(day(6, 1), 2))).await.unwrap();
    s.approve_application(&nurse, c, &booking(0, stay(day(6, 1), 2), 1), "").await.unwrap();
    assert_eq!(taken(stay(day(6, 1), 2)).await, [(day(6, 1), 1), (day(6, 2), 1)]);

    // Rejecting, and cancelling one not yet decided.
    let d = s.create_application(&nurse, &application(f, v, ServiceType::DayCare, stay(day(7, 1), 1))).await.unwrap();
    s.reject_application(&nurse, d, "対象外").await.unwrap();
    let got = s.application(&nurse, d).await.unwrap().unwrap();
    assert_eq!(
        (got.status, got.reviewed_by, got.review_note.as_deref()),
        (ApplicationStatus::Rejected, Some(AccountId(21)), Some("対象外"))
    );
    assert!(matches!(s.reject_application(&nurse, d, "").await, Err(StoreError::Conflict("not_applied"))));
    assert!(matches!(
        s.approve_application(&nurse, d, &booking(0, stay(day(7, 1), 1), 1), "").await,
        Err(StoreError::Conflict("not_applied"))
    ));
    assert!(matches!(s.cancel_application(&nurse, d, "").await, Err(StoreError::Conflict("not_cancellable"))));
    let e = s.create_application(&nurse, &application(f, v, ServiceType::DayCare, stay(day(7, 2), 1))).await.unwrap();
    s.cancel_application(&nurse, e, "").await.unwrap();
    assert_eq!(status(&s, m, e).await, ApplicationStatus::Cancelled);
    assert!(matches!(s.reject_application(&nurse, e, "").await, Err(StoreError::Conflict("not_applied"))));
    assert!(matches!(s.reject_application(&nurse, ApplicationId(9999), "").await, Err(StoreError::NotFound)));
    assert!(taken(DateRange::new(day(7, 1), day(7, 31)).unwrap()).await.is_empty());

    // Every decision is on the family's line.
    let decisions: Vec<(String, Option<FamilyId>)> = s
        .audit_lines(m, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|l| matches!(l.action.as_str(), "postpartum.approve" | "postpartum.reject" | "postpartum.cancel"))
        .map(|l| (l.action, l.family_id))
        .collect();
    let line = |a: &str, f: FamilyId| (a.to_owned(), Some(f));
    assert_eq!(
        decisions,
        [
            line("postpartum.approve", f),
            line("postpartum.approve", g),
            line("postpartum.cancel", f),
            line("postpartum.approve", g),
            line("postpartum.reject", f),
            line("postpartum.cancel", f),
        ]
    );
    assert!(verify_chain(&s, m).await.is_ok());
    finish(s, db).await;
}

#[tokio::test]
async fn facilities_note_the_days_of_approved_stays() {
    let (s, db) = fresh().await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, _, _) = town(&s, "082350").await;
    let v = facility(&s, m, "センター", &every_day(3)).await;
    let f = family(&s, m, north, "ハナコ").await;
    let nurse = ctx(m, Role::Nurse);
    let mut staff = ctx(m, Role::FacilityStaff);
    staff.actor = AccountId(40);
    let days = stay(day(8, 10), 3);
    let a = s.create_application(&nurse, &application(f, v, ServiceType::ShortStay, days)).await.unwrap();
    assert!(matches!(s.record_stay_note(&staff, a, day(8, 10), "x").await, Err(StoreError::Conflict("not_approved"))));
    s.approve_application(&nurse, a, &booking(0, days, 3), "").await.unwrap();
    staff.at = at("2027-08-11T09:00:00Z");
    s.record_stay_note(&staff, a, day(8, 11), "授乳良好").await.unwrap();
    staff.at = at("2027-08-10T18:00:00.5Z");
    s.record_stay_note(&staff, a, day(8, 10), "入所。母は疲労あり").await.unwrap();
    staff.at = at("2027-08-11T20:00:00Z");
    s.record_stay_note(&staff, a, day(8, 11), "夜間よく眠る").await.unwrap();
    assert!(matches!(
        s.record_stay_note(&staff, a, day(8, 13), "x").await,
        Err(StoreError::Conflict("day_not_in_stay"))
    ));
    assert!(matches!(
        s.record_stay_note(&ctx(other, Role::FacilityStaff), a, day(8, 10), "x").await,
        Err(StoreError::NotFound)
    ));
    let notes = s.stay_notes(&staff, a).await.unwrap();
    assert_eq!(
        notes,
        [
            StayNote {
                day: day(8, 10),
                note: "入所。母は疲労あり".into(),
                by: AccountId(40),
                at: at("2027-08-10T18:00:00.5Z")
            },
            StayNote {
                day: day(8, 11), note: "授乳良好".into(), by: AccountId(40), at: at("2027-08-11T09:00:00Z")
            },
            StayNote {
                day: day(8, 11),
                note: "夜間よく眠る".into(),
                by: AccountId(40),
                at: at("2027-08-11T20:00:00Z")
            },
        ]
    );
    let lines = s.audit_lines(m, 0, 1000).await.unwrap();
    let notes_written = lines.iter().filter(|l| l.action == "postpartum.note" && l.family_id == Some(f)).count();
    assert_eq!(notes_written, 3);
    let last = lines.last().unwrap();
    assert_eq!((last.action.as_str(), last.family_id, last.actor), ("postpartum.view", Some(f), AccountId(40)));
    assert!(matches!(s.stay_notes(&ctx(other, Role::FacilityStaff), a).await, Err(StoreError::NotFound)));
    // Once cancelled, no more notes.
    s.cancel_application(&nurse, a, "").await.unwrap();
    assert!(matches!(s.record_stay_note(&staff, a, day(8, 12), "x").await, Err(StoreError::Conflict("not_approved"))));
    assert_eq!(s.stay_notes(&staff, a).await.unwrap().len(), 3);
    finish(s, db).await;
}

#[tokio::test]
async fn usage_counts_booked_days_and_each_family_once() {
    let (s, db) = fresh().await;
    let (m, north, south) = town(&s, "131121").await;
    let (other, other_area, _) = town(&s, "082350").await;
    let centre = facility(&s, m, "センター", &FacilityCalendar::setagaya_centre()).await;
    let hospital = facility(&s, m, "病院", &FacilityCalendar::setagaya_shiseikai()).await;
    let nurse = ctx(m, Role::Nurse);
    let f1 = family(&s, m, north, "ハナコ").await;
    let f2 = family(&s, m, south, "ミカ").await;
    let f3 = family(&s, m, north, "ユイ").await;
    let f4 = family(&s, m, south, "アイ").await;
    let f5 = family(&s, m, south, "メイ").await;
    let approve = |f: FamilyId, v: VenueId, service: ServiceType, days: DateRange, pool: u32| {
        let (s, nurse) = (&s, &nurse);
        async move {
            let id = s.create_application(nurse, &application(f, v, service, days)).await.unwrap();
            s.approve_application(nurse, id, &booking(pool, days, 15), "").await.unwrap();
            id
        }
    };
    // f1: 7 days' short stay at the centre, 29 April – 5 May, and 2 at the hospital.
    approve(f1, centre, ServiceType::ShortStay, stay(day(4, 29), 7), 0).await;
    approve(f1, hospital, ServiceType::ShortStay, stay(day(6, 1), 2), 0).await;
    // f2: two days of day care at the centre.
    approve(f2, centre, ServiceType::DayCare, stay(day(5, 10), 1), 0).await;
    approve(f2, centre, ServiceType::DayCare, stay(day(5, 17), 1), 0).await;
    // f3: an outreach visit (the centre's second pool).
    approve(f3, centre, ServiceType::Outreach, stay(day(5, 20), 1), 1).await;
    // f4: cancelled; f5: applied and rejected — neither counts.
    let cancelled = approve(f4, centre, ServiceType::ShortStay, stay(day(5, 1), 3), 0).await;
    s.cancel_application(&nurse, cancelled, "").await.unwrap();
    let rejected = s
        .create_application(&nurse, &application(f5, hospital, ServiceType::ShortStay, stay(day(5, 1), 3)))
        .await
        .unwrap();
    s.reject_application(&nurse, rejected, "").await.unwrap();
    s.create_application(&nurse, &application(f5, centre, ServiceType::ShortStay, stay(day(5, 1), 3))).await.unwrap();
    // Another municipality's use is never counted here.
    let theirs = facility(&s, other, "他市", &every_day(3)).await;
    let fo = family(&s, other, other_area, "ハナコ").await;
    let oc = ctx(other, Role::Nurse);
    let id =
        s.create_application(&oc, &application(fo, theirs, ServiceType::ShortStay, stay(day(5, 1), 3))).await.unwrap();
    s.approve_application(&oc, id, &booking(0, stay(day(5, 1), 3), 3), "").await.unwrap();

    let may = DateRange::new(day(5, 1), day(5, 31)).unwrap();
    assert_eq!(
        s.postpartum_usage(m, centre, may).await.unwrap(),
        UsageCounts { short_stay_days: 5, day_care_days: 2, outreach_visits: 1, families: 3 }
    );
    assert_eq!(
        s.postpartum_usage(m, centre, all_of_2027()).await.unwrap(),
        UsageCounts { short_stay_days: 7, day_care_days: 2, outreach_visits: 1, families: 3 }
    );
    assert_eq!(
        s.postpartum_usage(m, hospital, all_of_2027()).await.unwrap(),
        UsageCounts { short_stay_days: 2, day_care_days: 0, outreach_visits: 0, families: 1 }
    );
    assert_eq!(s.postpartum_usage(m, hospital, may).await.unwrap(), UsageCounts::default());
    assert_eq!(s.postpartum_usage(other, centre, all_of_2027()).await.unwrap(), UsageCounts::default());
    assert_eq!(s.postpartum_usage(m, theirs, all_of_2027()).await.unwrap(), UsageCounts::default());
    assert_eq!(
        s.postpartum_usage(other, theirs, all_of_2027()).await.unwrap(),
        UsageCounts { short_stay_days: 3, day_care_days: 0, outreach_visits: 0, families: 1 }
    );

    // By area: f1 (two facilities) and f3 in the north, f2 in the south.
    assert_eq!(s.postpartum_users_by_area(m, all_of_2027()).await.unwrap(), [(north, 2), (south, 1)]);
    // A stay counts in a range it overlaps: f1's 29 April – 5 May is in both months.
    assert_eq!(
        s.postpartum_users_by_area(m, DateRange::new(day(4, 1), day(4, 30)).unwrap()).await.unwrap(),
        [(north, 1)]
    );
    assert_eq!(s.postpartum_users_by_area(m, stay(day(6, 1), 30)).await.unwrap(), [(north, 1)]);
    assert!(s.postpartum_users_by_area(m, stay(day(9, 1), 30)).await.unwrap().is_empty());
    assert_eq!(s.postpartum_users_by_area(other, all_of_2027()).await.unwrap(), [(other_area, 1)]);
    finish(s, db).await;
}

#[tokio::test]
async fn facility_staff_may_open_families_with_an_application_at_their_facility() {
    let (s, db) = fresh().await;
    let (m, north, _) = town(&s, "131121").await;
    let centre = facility(&s, m, "センター", &every_day(3)).await;
    let mamas = facility(&s, m, "ママズルーム", &every_day(3)).await;
    let hospital = facility(&s, m, "病院", &every_day(3)).await;
    let f = family(&s, m, north, "ハナコ").await;
    let nurse = ctx(m, Role::Nurse);
    assert!(s.family_access(m, f).await.unwrap().unwrap().facilities.is_empty());

    let at_hospital = s
        .create_application(&nurse, &application(f, hospital, ServiceType::ShortStay, stay(day(5, 1), 2)))
        .await
        .unwrap();
    let at_mamas =
        s.create_application(&nurse, &application(f, mamas, ServiceType::DayCare, stay(day(5, 3), 1))).await.unwrap();
    let at_centre =
        s.create_application(&nurse, &application(f, centre, ServiceType::DayCare, stay(day(5, 4), 1))).await.unwrap();
    s.create_application(&nurse, &application(f, centre, ServiceType::DayCare, stay(day(5, 5), 1))).await.unwrap();
    s.approve_application(&nurse, at_mamas, &booking(0, stay(day(5, 3), 1), 3), "").await.unwrap();
    s.reject_application(&nurse, at_centre, "").await.unwrap();
    s.cancel_application(&nurse, at_hospital, "").await.unwrap();
    let access = s.family_access(m, f).await.unwrap().unwrap();
    assert_eq!(access.facilities, [centre, mamas]);

    let staff_of = |v: VenueId| Actor {
        account_id: AccountId(50),
        municipality_id: m,
        role: Role::FacilityStaff,
        family_id: None,
        areas: vec![],
        venues: vec![v],
        rooms: vec![],
    };
    let may_open = |v: VenueId| authorize(&staff_of(v), Action::ViewFamily, &Resource::Family(&access)).is_allowed();
    assert!(may_open(centre));
    assert!(may_open(mamas));
    assert!(!may_open(hospital));
    finish(s, db).await;
}

/// Three places on each of three days, and twenty applications for them
/// with overlapping stays, approved all at once from twenty tasks spread
/// over several stores on the same database (as several nodes would be).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_approvals_never_overfill_a_day() {
    const PLACES: u32 = 3;
    let (s, db) = fresh().await;
    let (m, north, _) = town(&s, "131121").await;
    let v = facility(&s, m, "センター", &every_day(PLACES)).await;
    let nurse = ctx(m, Role::Nurse);
    let days = stay(day(6, 1), 3);
    let (d1, d2, d3) = (day(6, 1), day(6, 2), day(6, 3));
    let shapes = [stay(d1, 3), stay(d1, 2), stay(d2, 2), stay(d3, 1), stay(d2, 1)];
    let kana = ["ア", "イ", "ウ", "エ", "オ", "カ", "キ", "ク", "ケ", "コ"];
    let mut apps = vec![];
    for i in 0..20 {
        let f = family(&s, m, north, &format!("{}{}", kana[i % 10], kana[i / 10])).await;
        let stay = shapes[i % shapes.len()];
        apps.push((
            s.create_application(&nurse, &application(f, v, ServiceType::ShortStay, stay)).await.unwrap(),
            stay,
        ));
    }
    // And one application that twenty tasks approve at once (on another facility).
    let w = facility(&s, m, "病院", &every_day(PLACES)).await;
    let f = family(&s, m, north, "サクラ").await;
    let twice = s.create_application(&nurse, &application(f, w, ServiceType::ShortStay, days)).await.unwrap();

    let mut nodes = vec![s.clone()];
    for _ in 1..4 {
        nodes.push(another_node(&db).await);
    }
    let start = Arc::new(tokio::sync::Barrier::new(40));
    let mut tasks = vec![];
    for (i, (id, stay)) in apps.iter().copied().enumerate() {
        let (node, start, nurse) = (nodes[i % nodes.len()].clone(), start.clone(), nurse.clone());
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            node.approve_application(&nurse, id, &booking(0, stay, PLACES), "").await
        }));
    }
    let mut same = vec![];
    for i in 0..20 {
        let (node, start, nurse) = (nodes[i % nodes.len()].clone(), start.clone(), nurse.clone());
        same.push(tokio::spawn(async move {
            start.wait().await;
            node.approve_application(&nurse, twice, &booking(0, days, PLACES), "").await
        }));
    }
    let mut approved = vec![];
    let mut refused = vec![];
    for (t, (id, stay)) in tasks.into_iter().zip(apps.iter().copied()) {
        match t.await.unwrap() {
            Ok(()) => approved.push((id, stay)),
            Err(StoreError::Conflict("no_capacity")) => refused.push((id, stay)),
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    let mut once = 0;
    for t in same {
        match t.await.unwrap() {
            Ok(()) => once += 1,
            Err(StoreError::Conflict("not_applied")) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(once, 1);
    assert_eq!(s.places_taken(m, w, 0, days).await.unwrap(), [(d1, 1), (d2, 1), (d3, 1)]);

    // No day holds more than its places, and the counters agree with the
    // stays that were approved.
    let taken = s.places_taken(m, v, 0, days).await.unwrap();
    let booked = |d: Date| approved.iter().filter(|(_, st)| st.contains(d)).count() as u32;
    for d in days.days() {
        let t = taken.iter().find(|(x, _)| *x == d).map_or(0, |(_, n)| *n);
        assert!(t <= PLACES, "{d}: {t} taken");
        assert_eq!(t, booked(d), "{d}");
    }
    // Nine places in all, and every stay takes at least one: most are refused,
    // and each refusal was for a day that is full.
    assert!(!approved.is_empty() && approved.len() <= 9, "{} approved", approved.len());
    assert_eq!(approved.len() + refused.len(), 20);
    for (id, st) in &refused {
        assert!(st.days().any(|d| booked(d) == PLACES), "{id} refused with room on every day of {st}");
        assert_eq!(status(&s, m, *id).await, ApplicationStatus::Applied);
    }
    for (id, _) in &approved {
        assert_eq!(status(&s, m, *id).await, ApplicationStatus::Approved);
    }
    let usage = s.postpartum_usage(m, v, days).await.unwrap();
    assert_eq!(usage.short_stay_days, u64::from(taken.iter().map(|(_, n)| n).sum::<u32>()));
    assert_eq!(usage.families, approved.len() as u64);
    // Every approval wrote its line, and the chain is whole.
    let approvals =
        s.audit_lines(m, 0, 10_000).await.unwrap().iter().filter(|l| l.action == "postpartum.approve").count();
    assert_eq!(approvals, approved.len() + 1);
    assert!(verify_chain(&s, m).await.is_ok());
    for n in nodes.into_iter().skip(1) {
        close_node(n).await;
    }
    finish(s, db).await;
}

// --- referrals, follow-ups, online talks, incidents ---------------------------------

/// The last audit line of the municipality: (action, family, detail).
async fn last_line(s: &Db, m: MunicipalityId) -> (String, Option<FamilyId>, String) {
    let l = s.audit_lines(m, 0, 10_000).await.unwrap().pop().unwrap();
    (l.action, l.family_id, l.detail)
}

fn line(action: &str, family: Option<FamilyId>, detail: impl Into<String>) -> (String, Option<FamilyId>, String) {
    (action.to_owned(), family, detail.into())
}

/// Every audit line of the municipality with this action: (family, detail).
async fn lines_of(s: &Db, m: MunicipalityId, action: &str) -> Vec<(Option<FamilyId>, String)> {
    s.audit_lines(m, 0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|l| l.action == action)
        .map(|l| (l.family_id, l.detail))
        .collect()
}

fn as_staff(m: MunicipalityId, role: Role, actor: i64, when: &str) -> AuditContext {
    AuditContext { actor: AccountId(actor), at: at(when), ..ctx(m, role) }
}

async fn a_hall(s: &Db, m: MunicipalityId) -> VenueId {
    s.create_venue(&NewVenue {
        municipality_id: m,
        area_id: None,
        kind: VenueKind::ChildrensHall,
        name_ja: "児童館".into(),
        name_en: "Hall".into(),
    })
    .await
    .unwrap()
    .id
}

#[tokio::test]
async fn referrals_move_from_raised_to_closed_and_escalation_opens_the_family() {
    let (s, db) = fresh().await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, other_area, _) = town(&s, "082350").await;
    let centre = facility(&s, m, "センター", &every_day(3)).await;
    let mamas = facility(&s, m, "ママズルーム", &every_day(3)).await;
    let f = family(&s, m, north, "ハナコ").await;
    let g = family(&s, m, north, "ミカ").await;
    let foreign = family(&s, other, other_area, "ハナコ").await;
    let pregnancy_of = |fam: FamilyId| {
        let s = &s;
        async move { s.open_family(&ctx(m, Role::Nurse), fam).await.unwrap().unwrap().pregnancies[0].id }
    };
    let (pf, pg) = (pregnancy_of(f).await, pregnancy_of(g).await);
    let nurse = |when: &str| as_staff(m, Role::Nurse, 21, when);
    let staff = as_staff(m, Role::FacilityStaff, 40, "2026-11-22T02:00:00Z");
    let coordinator = as_staff(m, Role::Coordinator, 30, "2026-11-22T01:00:00Z");
    let app = s
        .create_application(
            &nurse("2026-11-22T00:00:00Z"),
            &application(f, centre, ServiceType::ShortStay, stay(day(5, 10), 3)),
        )
        .await
        .unwrap();

    // A facility's alert about f (from a stay), a coordinator's urgent
    // concern about g, a nurse's screening referral about f's pregnancy.
    let observed = referrals::raise(Role::FacilityStaff, f, None, ConcernSource::Observation, false).unwrap();
    let alert = s.raise_referral(&staff, &observed, "母の表情が暗い", Some(centre), Some(app)).await.unwrap();
    assert_eq!(last_line(&s, m).await, line("referral.raise", Some(f), format!("referral={alert}")));
    let crying = referrals::raise(Role::Coordinator, g, None, ConcernSource::Observation, true).unwrap();
    let urgent = s.raise_referral(&coordinator, &crying, "泣き続けている", None, None).await.unwrap();
    let epds = referrals::raise(Role::Nurse, f, Some(pf), ConcernSource::Screening, false).unwrap();
    let screening = s.raise_referral(&nurse("2026-11-22T03:00:00Z"), &epds, "EPDS 12点", None, None).await.unwrap();

    // What is not this municipality's, or not this family's, is refused, and nothing is written.
    let head = s.audit_head(m).await.unwrap();
    let about = |fam: FamilyId, p: Option<PregnancyId>| {
        referrals::raise(Role::Nurse, fam, p, ConcernSource::Observation, false).unwrap()
    };
    let refused = [
        (s.raise_referral(&staff, &about(foreign, None), "x", None, None).await, "family_id"),
        (s.raise_referral(&staff, &about(f, Some(pg)), "x", None, None).await, "pregnancy_id"),
        (s.raise_referral(&staff, &about(f, None), "x", Some(a_hall(&s, m).await), None).await, "venue_id"),
        (
            s.raise_referral(&staff, &about(f, None), "x", Some(facility(&s, other, "他", &every_day(1)).await), None)
                .await,
            "venue_id",
        ),
        (s.raise_referral(&staff, &about(g, None), "x", None, Some(app)).await, "application_id"),
        (s.raise_referral(&staff, &about(f, None), "x", Some(mamas), Some(app)).await, "application_id"),
        (s.raise_referral(&ctx(other, Role::Nurse), &about(f, None), "x", None, None).await, "family_id"),
    ];
    for (got, code) in refused {
        assert!(matches!(got, Err(StoreError::InvalidReference(c)) if c == code), "{code}: {got:?}");
    }
    assert_eq!(s.audit_head(m).await.unwrap(), head);

    // One referral, as stored, audited as a read of its family.
    let stored = s.referral(&nurse("2026-11-22T04:00:00Z"), alert).await.unwrap().unwrap();
    assert_eq!(
        stored,
        StoredReferral {
            id: alert,
            municipality_id: m,
            referral: observed.clone(),
            note: "母の表情が暗い".into(),
            raised_by_account: AccountId(40),
            raised_at: at("2026-11-22T02:00:00Z"),
            venue_id: Some(centre),
            application_id: Some(app),
            updated_at: at("2026-11-22T02:00:00Z"),
            mother_name: "山田 花子".into(),
        }
    );
    assert_eq!(last_line(&s, m).await, line("referral.list", Some(f), format!("referral={alert}")));
    let other_head = s.audit_head(other).await.unwrap();
    assert_eq!(s.referral(&ctx(other, Role::Nurse), alert).await.unwrap(), None);
    assert_eq!(s.referral(&nurse("2026-11-22T04:00:00Z"), ReferralId(9999)).await.unwrap(), None);
    assert_eq!(s.audit_head(other).await.unwrap(), other_head);

    // Lists: urgent first, then newest; filtered; audited with the count.
    let list = |filter: ReferralFilter| {
        let s = &s;
        async move {
            s.referrals(&nurse("2026-11-22T04:00:00Z"), &filter)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.id)
                .collect::<Vec<_>>()
        }
    };
    let all = ReferralFilter { limit: 100, ..Default::default() };
    assert_eq!(list(all.clone()).await, [urgent, screening, alert]);
    assert_eq!(last_line(&s, m).await, line("referral.list", None, "results=3"));
    assert_eq!(list(ReferralFilter { family_id: Some(f), ..all.clone() }).await, [screening, alert]);
    assert_eq!(last_line(&s, m).await, line("referral.list", Some(f), "results=2"));
    assert_eq!(list(ReferralFilter { raised_by: Some(AccountId(40)), ..all.clone() }).await, [alert]);
    assert_eq!(list(ReferralFilter { raised_by: Some(AccountId(30)), family_id: Some(f), ..all.clone() }).await, []);
    assert_eq!(list(ReferralFilter { limit: 1, ..all.clone() }).await, [urgent]);
    assert!(s.referrals(&ctx(other, Role::Nurse), &all).await.unwrap().is_empty());
    let names = s.referrals(&nurse("2026-11-22T04:00:00Z"), &all).await.unwrap();
    assert!(names.iter().all(|r| r.mother_name == "山田 花子"));

    // raised → received → in progress → escalated → closed.
    let caseworker = Actor {
        account_id: AccountId(60),
        municipality_id: m,
        role: Role::Caseworker,
        family_id: None,
        areas: vec![],
        venues: vec![],
        rooms: vec![],
    };
    let caseworker_may_open =
        |access: &FamilyAccess| authorize(&caseworker, Action::ViewFamily, &Resource::Family(access)).is_allowed();
    assert!(!caseworker_may_open(&s.family_access(m, f).await.unwrap().unwrap()));
    let step = |r: &Referral, a: ReferralAction| apply(r, Role::Nurse, a).unwrap();
    let received = step(&observed, ReferralAction::Receive);
    s.update_referral(&nurse("2026-11-22T05:00:00Z"), alert, &observed, &received, ReferralAction::Receive, "受理")
        .await
        .unwrap();
    assert_eq!(last_line(&s, m).await, line("referral.update", Some(f), format!("referral={alert}")));
    // Somebody else's stale view of it is refused, and changes nothing.
    let head = s.audit_head(m).await.unwrap();
    assert!(matches!(
        s.update_referral(&nurse("2026-11-22T05:00:01Z"), alert, &observed, &received, ReferralAction::Receive, "")
            .await,
        Err(StoreError::Conflict("referral_changed"))
    ));
    assert_eq!(s.audit_head(m).await.unwrap(), head);
    let started = step(&received, ReferralAction::Start);
    s.update_referral(&nurse("2026-11-22T06:00:00Z"), alert, &received, &started, ReferralAction::Start, "")
        .await
        .unwrap();
    let escalated = step(&started, ReferralAction::Escalate);
    s.update_referral(
        &nurse("2026-11-22T07:00:00Z"),
        alert,
        &started,
        &escalated,
        ReferralAction::Escalate,
        "児童相談所へ",
    )
    .await
    .unwrap();
    let access = s.family_access(m, f).await.unwrap().unwrap();
    assert!(access.escalated && caseworker_may_open(&access));
    assert!(!s.family_access(m, g).await.unwrap().unwrap().escalated);
    let closed = step(&escalated, ReferralAction::Close(CloseReason::Resolved));
    s.update_referral(
        &nurse("2026-11-22T08:00:00Z"),
        alert,
        &escalated,
        &closed,
        ReferralAction::Close(CloseReason::Resolved),
        "支援につながった",
    )
    .await
    .unwrap();
    // Closing does not take the escalation back.
    assert!(s.family_access(m, f).await.unwrap().unwrap().escalated);
    let got = s.referral(&nurse("2026-11-22T09:00:00Z"), alert).await.unwrap().unwrap();
    assert_eq!(got.referral, closed);
    assert_eq!(
        (got.referral.status, got.referral.escalated, got.referral.close_reason),
        (ReferralStatus::Closed, true, Some(CloseReason::Resolved))
    );
    assert_eq!((got.raised_at, got.updated_at), (at("2026-11-22T02:00:00Z"), at("2026-11-22T08:00:00Z")));
    assert!(matches!(
        s.update_referral(&nurse("2026-11-22T09:00:00Z"), alert, &escalated, &closed, ReferralAction::Start, "").await,
        Err(StoreError::Conflict("referral_changed"))
    ));
    assert!(matches!(
        s.update_referral(
            &nurse("2026-11-22T09:00:00Z"),
            ReferralId(9999),
            &observed,
            &received,
            ReferralAction::Receive,
            ""
        )
        .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.update_referral(
            &ctx(other, Role::Nurse),
            urgent,
            &crying,
            &step(&crying, ReferralAction::Receive),
            ReferralAction::Receive,
            ""
        )
        .await,
        Err(StoreError::NotFound)
    ));
    // A step never moves a referral to another family.
    let moved = Referral { family: f, ..step(&crying, ReferralAction::Receive) };
    assert!(matches!(
        s.update_referral(&nurse("2026-11-22T09:00:00Z"), urgent, &crying, &moved, ReferralAction::Receive, "").await,
        Err(StoreError::InvalidReference("family_id"))
    ));

    // 特定妊婦 on the screening referral's pregnancy: status unchanged, flag stored.
    let r = step(&epds, ReferralAction::Receive);
    s.update_referral(&nurse("2026-11-22T10:00:00Z"), screening, &epds, &r, ReferralAction::Receive, "").await.unwrap();
    let marked = step(&r, ReferralAction::MarkSpecifiedExpectantMother);
    s.update_referral(
        &nurse("2026-11-22T10:30:00Z"),
        screening,
        &r,
        &marked,
        ReferralAction::MarkSpecifiedExpectantMother,
        "",
    )
    .await
    .unwrap();
    let got = s.referral(&nurse("2026-11-22T11:00:00Z"), screening).await.unwrap().unwrap();
    assert_eq!(got.referral, marked);
    assert!(got.referral.specified_expectant_mother && !got.referral.escalated);

    // Open ones only: the closed alert drops out.
    assert_eq!(list(ReferralFilter { open_only: true, ..all.clone() }).await, [urgent, screening]);
    assert_eq!(list(ReferralFilter { open_only: true, raised_by: Some(AccountId(40)), ..all.clone() }).await, []);
    assert_eq!(list(ReferralFilter { raised_by: Some(AccountId(40)), ..all.clone() }).await, [alert]);

    // The history, in the order the steps were taken, audited with the family.
    let event = |action: &str, by: i64, when: &str, note: &str| ReferralEvent {
        action: action.into(),
        by: AccountId(by),
        at: at(when),
        note: note.into(),
    };
    assert_eq!(
        s.referral_events(&nurse("2026-11-22T12:00:00Z"), alert).await.unwrap(),
        [
            event("raise", 40, "2026-11-22T02:00:00Z", "母の表情が暗い"),
            event("receive", 21, "2026-11-22T05:00:00Z", "受理"),
            event("start", 21, "2026-11-22T06:00:00Z", ""),
            event("escalate", 21, "2026-11-22T07:00:00Z", "児童相談所へ"),
            event("close", 21, "2026-11-22T08:00:00Z", "支援につながった"),
        ]
    );
    assert_eq!(last_line(&s, m).await, line("referral.list", Some(f), format!("referral={alert} events=5")));
    assert!(matches!(s.referral_events(&ctx(other, Role::Nurse), alert).await, Err(StoreError::NotFound)));
    assert!(matches!(
        s.referral_events(&nurse("2026-11-22T12:00:00Z"), ReferralId(9999)).await,
        Err(StoreError::NotFound)
    ));

    // Every raise and every step is on the family's line.
    let raised = lines_of(&s, m, "referral.raise").await;
    assert_eq!(raised.iter().map(|l| l.0).collect::<Vec<_>>(), [Some(f), Some(g), Some(f)]);
    let updates = lines_of(&s, m, "referral.update").await;
    assert_eq!(updates.len(), 6);
    assert!(updates.iter().all(|l| l.0 == Some(f)));
    assert!(verify_chain(&s, m).await.is_ok());
    finish(s, db).await;
}

#[tokio::test]
async fn follow_up_slots_hold_one_family_and_cancelling_frees_them() {
    let (s, db) = fresh().await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, other_area, _) = town(&s, "082350").await;
    let centre = facility(&s, m, "センター", &every_day(3)).await;
    let hospital = facility(&s, m, "病院", &every_day(3)).await;
    let f = family(&s, m, north, "ハナコ").await;
    let g = family(&s, m, north, "ミカ").await;
    let foreign = family(&s, other, other_area, "ハナコ").await;
    let nurse = as_staff(m, Role::Nurse, 21, "2026-11-22T01:00:00Z");
    let slot = |mo: i8, d: i8, h: i8, mi: i8| datetime(2027, mo, d, h, mi, 0, 0);

    let a = s.book_followup(&nurse, centre, f, slot(6, 1, 13, 0)).await.unwrap();
    assert_eq!(last_line(&s, m).await, line("followup.book", Some(f), format!("followup={a}")));
    assert!(matches!(
        s.book_followup(&nurse, centre, g, slot(6, 1, 13, 0)).await,
        Err(StoreError::Conflict("slot_taken"))
    ));
    assert!(matches!(
        s.book_followup(&nurse, centre, f, slot(6, 1, 13, 0)).await,
        Err(StoreError::Conflict("slot_taken"))
    ));
    let b = s.book_followup(&nurse, hospital, g, slot(6, 1, 13, 0)).await.unwrap();
    let c = s.book_followup(&nurse, centre, g, slot(6, 1, 13, 20)).await.unwrap();
    // Cancelling frees the slot; the cancelled booking stays on record.
    s.cancel_followup(&nurse, a).await.unwrap();
    assert_eq!(last_line(&s, m).await, line("followup.cancel", Some(f), format!("followup={a}")));
    assert!(matches!(s.cancel_followup(&nurse, a).await, Err(StoreError::Conflict("not_booked"))));
    let d = s.book_followup(&nurse, centre, g, slot(6, 1, 13, 0)).await.unwrap();
    let e = s.book_followup(&nurse, centre, f, slot(6, 30, 23, 40)).await.unwrap();
    // Just outside June, on both sides.
    s.book_followup(&nurse, centre, f, slot(7, 1, 0, 0)).await.unwrap();
    s.book_followup(&nurse, centre, f, slot(5, 31, 23, 40)).await.unwrap();

    // Refused: other municipalities' families and facilities, venues that are no facility.
    let head = s.audit_head(m).await.unwrap();
    assert!(matches!(
        s.book_followup(&nurse, centre, foreign, slot(6, 2, 13, 0)).await,
        Err(StoreError::InvalidReference("family_id"))
    ));
    let theirs = facility(&s, other, "他市", &every_day(3)).await;
    assert!(matches!(
        s.book_followup(&nurse, theirs, f, slot(6, 2, 13, 0)).await,
        Err(StoreError::InvalidReference("venue_id"))
    ));
    assert!(matches!(
        s.book_followup(&nurse, a_hall(&s, m).await, f, slot(6, 2, 13, 0)).await,
        Err(StoreError::InvalidReference("venue_id"))
    ));
    assert!(matches!(s.cancel_followup(&ctx(other, Role::Nurse), c).await, Err(StoreError::NotFound)));
    assert!(matches!(s.cancel_followup(&nurse, FollowupId(9999)).await, Err(StoreError::NotFound)));
    assert_eq!(s.audit_head(m).await.unwrap(), head);

    let june = DateRange::new(day(6, 1), day(6, 30)).unwrap();
    // The yearly count leaves out the cancelled booking (and other months).
    assert_eq!(s.followup_count(m, june).await.unwrap(), 4);
    assert_eq!(s.followup_count(m, all_of_2027()).await.unwrap(), 6);
    assert_eq!(s.followup_count(m, DateRange::single(day(6, 1))).await.unwrap(), 3);
    assert_eq!(s.followup_count(other, all_of_2027()).await.unwrap(), 0);

    // Listed by start (then booking), cancelled ones too.
    let ids = |v: Vec<Followup>| v.into_iter().map(|x| x.id).collect::<Vec<_>>();
    let got = s.followups(&nurse, None, None, june).await.unwrap();
    assert_eq!(last_line(&s, m).await, line("followup.list", None, "results=5"));
    assert_eq!(
        got[0],
        Followup {
            id: a,
            municipality_id: m,
            venue_id: centre,
            family_id: f,
            start: slot(6, 1, 13, 0),
            status: FollowupStatus::Cancelled,
            booked_by: AccountId(21),
            mother_name: "山田 花子".into(),
        }
    );
    assert_eq!(ids(got.clone()), [a, b, d, c, e]);
    assert!(got[1..].iter().all(|x| x.status == FollowupStatus::Booked));
    assert_eq!(ids(s.followups(&nurse, Some(centre), None, june).await.unwrap()), [a, d, c, e]);
    assert_eq!(ids(s.followups(&nurse, None, Some(g), june).await.unwrap()), [b, d, c]);
    assert_eq!(last_line(&s, m).await, line("followup.list", Some(g), "results=3"));
    assert_eq!(ids(s.followups(&nurse, Some(hospital), Some(f), june).await.unwrap()), []);
    assert!(s.followups(&ctx(other, Role::Nurse), None, None, all_of_2027()).await.unwrap().is_empty());

    // Every booking is on its family's line.
    let booked = lines_of(&s, m, "followup.book").await;
    assert_eq!(
        booked.iter().map(|l| l.0).collect::<Vec<_>>(),
        [Some(f), Some(g), Some(g), Some(g), Some(f), Some(f), Some(f)]
    );
    assert!(verify_chain(&s, m).await.is_ok());
    finish(s, db).await;
}

#[tokio::test]
async fn online_talks_count_their_attendees_and_a_family_joins_once() {
    let (s, db) = fresh().await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, other_area, _) = town(&s, "082350").await;
    let centre = facility(&s, m, "センター", &every_day(3)).await;
    let f = family(&s, m, north, "ハナコ").await;
    let g = family(&s, m, north, "ミカ").await;
    let foreign = family(&s, other, other_area, "ハナコ").await;
    let coordinator = as_staff(m, Role::Coordinator, 30, "2026-11-22T01:00:00Z");
    let head = s.audit_head(m).await.unwrap();
    let first = s
        .create_online_talk(&coordinator, centre, datetime(2027, 6, 10, 10, 0, 0, 0), 30, "オンライントーク")
        .await
        .unwrap();
    let second =
        s.create_online_talk(&coordinator, centre, datetime(2027, 6, 24, 10, 0, 0, 0), 30, "離乳食の話").await.unwrap();
    s.create_online_talk(&coordinator, centre, datetime(2027, 7, 8, 10, 0, 0, 0), 30, "七月").await.unwrap();
    // Scheduling touches nobody's record.
    assert_eq!(s.audit_head(m).await.unwrap(), head);
    assert!(matches!(
        s.create_online_talk(&coordinator, a_hall(&s, m).await, datetime(2027, 6, 1, 10, 0, 0, 0), 30, "x").await,
        Err(StoreError::InvalidReference("venue_id"))
    ));
    let theirs = facility(&s, other, "他市", &every_day(3)).await;
    assert!(matches!(
        s.create_online_talk(&coordinator, theirs, datetime(2027, 6, 1, 10, 0, 0, 0), 30, "x").await,
        Err(StoreError::InvalidReference("venue_id"))
    ));

    s.join_online_talk(&coordinator, first, f).await.unwrap();
    assert_eq!(last_line(&s, m).await, line("talk.join", Some(f), format!("talk={first}")));
    s.join_online_talk(&coordinator, first, g).await.unwrap();
    assert!(matches!(s.join_online_talk(&coordinator, first, f).await, Err(StoreError::Conflict("already_joined"))));
    assert!(matches!(
        s.join_online_talk(&coordinator, first, foreign).await,
        Err(StoreError::InvalidReference("family_id"))
    ));
    assert!(matches!(s.join_online_talk(&coordinator, TalkId(9999), f).await, Err(StoreError::NotFound)));
    assert!(matches!(
        s.join_online_talk(&ctx(other, Role::Coordinator), first, foreign).await,
        Err(StoreError::NotFound)
    ));
    s.join_online_talk(&coordinator, second, g).await.unwrap();

    let june = DateRange::new(day(6, 1), day(6, 30)).unwrap();
    assert_eq!(
        s.online_talks(m, june).await.unwrap(),
        [
            OnlineTalk {
                id: first,
                municipality_id: m,
                venue_id: centre,
                starts: datetime(2027, 6, 10, 10, 0, 0, 0),
                minutes: 30,
                title: "オンライントーク".into(),
                attendees: 2,
            },
            OnlineTalk {
                id: second,
                municipality_id: m,
                venue_id: centre,
                starts: datetime(2027, 6, 24, 10, 0, 0, 0),
                minutes: 30,
                title: "離乳食の話".into(),
                attendees: 1,
            },
        ]
    );
    assert_eq!(s.online_talks(m, all_of_2027()).await.unwrap().len(), 3);
    assert!(s.online_talks(other, all_of_2027()).await.unwrap().is_empty());
    let joined = lines_of(&s, m, "talk.join").await;
    assert_eq!(
        joined,
        [(Some(f), format!("talk={first}")), (Some(g), format!("talk={first}")), (Some(g), format!("talk={second}"))]
    );
    assert!(verify_chain(&s, m).await.is_ok());
    finish(s, db).await;
}

#[tokio::test]
async fn incidents_are_reported_under_the_manual_headings() {
    let (s, db) = fresh().await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, other_area, _) = town(&s, "082350").await;
    let centre = facility(&s, m, "センター", &every_day(3)).await;
    let mamas = facility(&s, m, "ママズルーム", &every_day(3)).await;
    let f = family(&s, m, north, "ハナコ").await;
    let foreign = family(&s, other, other_area, "ハナコ").await;
    let staff = as_staff(m, Role::FacilityStaff, 40, "2026-11-22T01:00:00Z");
    let report = |venue: VenueId, heading: IncidentHeading, d: i8, family: Option<FamilyId>| NewIncident {
        venue_id: venue,
        heading,
        occurred: datetime(2027, 6, d, 14, 30, 0, 0),
        summary: format!("{} {d}", heading.short_ja()),
        family_id: family,
    };
    let mut ids = vec![];
    for (i, h) in IncidentHeading::ALL.into_iter().enumerate() {
        let venue = if i % 2 == 0 { centre } else { mamas };
        let family = (h == IncidentHeading::Accident).then_some(f);
        let id = s.report_incident(&staff, &report(venue, h, 1 + i as i8, family)).await.unwrap();
        assert_eq!(last_line(&s, m).await, line("incident.report", family, format!("incident={id}")));
        ids.push(id);
    }
    let july = NewIncident {
        occurred: datetime(2027, 7, 1, 0, 0, 0, 0),
        ..report(centre, IncidentHeading::Infection, 1, None)
    };
    s.report_incident(&staff, &july).await.unwrap();

    // Refused: a family or facility of another municipality, a venue that is no facility.
    let head = s.audit_head(m).await.unwrap();
    assert!(matches!(
        s.report_incident(&staff, &report(centre, IncidentHeading::Accident, 2, Some(foreign))).await,
        Err(StoreError::InvalidReference("family_id"))
    ));
    let theirs = facility(&s, other, "他市", &every_day(3)).await;
    assert!(matches!(
        s.report_incident(&staff, &report(theirs, IncidentHeading::Accident, 2, None)).await,
        Err(StoreError::InvalidReference("venue_id"))
    ));
    assert!(matches!(
        s.report_incident(&staff, &report(a_hall(&s, m).await, IncidentHeading::Accident, 2, None)).await,
        Err(StoreError::InvalidReference("venue_id"))
    ));
    assert_eq!(s.audit_head(m).await.unwrap(), head);

    let june = DateRange::new(day(6, 1), day(6, 30)).unwrap();
    let got = s.incidents(&staff, None, june).await.unwrap();
    assert_eq!(last_line(&s, m).await, line("incident.list", None, "results=5"));
    // Newest first.
    assert_eq!(got.iter().map(|i| i.id).rev().collect::<Vec<_>>(), ids);
    assert_eq!(
        got[4],
        Incident {
            id: ids[0],
            municipality_id: m,
            venue_id: centre,
            heading: IncidentHeading::Accident,
            occurred: datetime(2027, 6, 1, 14, 30, 0, 0),
            summary: "事故 1".into(),
            family_id: Some(f),
            reported_by: AccountId(40),
            reported_at: at("2026-11-22T01:00:00Z"),
        }
    );
    assert_eq!(
        got.iter().rev().map(|i| (i.heading, i.family_id.is_some())).collect::<Vec<_>>(),
        [
            (IncidentHeading::Accident, true),
            (IncidentHeading::Infection, false),
            (IncidentHeading::FireAndDisaster, false),
            (IncidentHeading::PersonalInformation, false),
            (IncidentHeading::StaffManagement, false),
        ]
    );
    let at_mamas = s.incidents(&staff, Some(mamas), june).await.unwrap();
    assert_eq!(at_mamas.iter().map(|i| i.id).collect::<Vec<_>>(), [ids[3], ids[1]]);
    assert_eq!(s.incidents(&staff, None, all_of_2027()).await.unwrap().len(), 6);
    assert!(s.incidents(&ctx(other, Role::FacilityStaff), None, all_of_2027()).await.unwrap().is_empty());
    assert!(verify_chain(&s, m).await.is_ok());
    finish(s, db).await;
}

/// Ten nurses receive the same referral at once, and ten families book the
/// same slot at once, over several stores on the same database: one of each
/// wins; the rest are told it changed, or that the slot is taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_steps_and_bookings_have_one_winner() {
    let (s, db) = fresh().await;
    let (m, north, _) = town(&s, "131121").await;
    let centre = facility(&s, m, "センター", &every_day(3)).await;
    let kana = ["ア", "イ", "ウ", "エ", "オ", "カ", "キ", "ク", "ケ", "コ"];
    let mut families = vec![];
    for k in kana {
        families.push(family(&s, m, north, k).await);
    }
    let nurse = ctx(m, Role::Nurse);
    let r = referrals::raise(Role::Coordinator, families[0], None, ConcernSource::Observation, false).unwrap();
    let id = s.raise_referral(&nurse, &r, "", None, None).await.unwrap();
    let received = apply(&r, Role::Nurse, ReferralAction::Receive).unwrap();
    let slot = datetime(2027, 6, 1, 13, 0, 0, 0);

    let mut nodes = vec![s.clone()];
    for _ in 1..4 {
        nodes.push(another_node(&db).await);
    }
    let start = Arc::new(tokio::sync::Barrier::new(20));
    let mut steps = vec![];
    let mut bookings = vec![];
    for (i, f) in families.iter().copied().enumerate() {
        let (node, gate, who, received, raised) =
            (nodes[i % nodes.len()].clone(), start.clone(), nurse.clone(), received.clone(), r.clone());
        steps.push(tokio::spawn(async move {
            gate.wait().await;
            node.update_referral(&who, id, &raised, &received, ReferralAction::Receive, "").await
        }));
        let (node, gate, who) = (nodes[(i + 1) % nodes.len()].clone(), start.clone(), nurse.clone());
        bookings.push(tokio::spawn(async move {
            gate.wait().await;
            node.book_followup(&who, centre, f, slot).await
        }));
    }
    let mut won = 0;
    for t in steps {
        match t.await.unwrap() {
            Ok(()) => won += 1,
            Err(StoreError::Conflict("referral_changed")) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(won, 1);
    let mut booked = 0;
    for t in bookings {
        match t.await.unwrap() {
            Ok(_) => booked += 1,
            Err(StoreError::Conflict("slot_taken")) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(booked, 1);
    let events = s.referral_events(&nurse, id).await.unwrap();
    assert_eq!(events.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["raise", "receive"]);
    assert_eq!(s.followup_count(m, DateRange::single(day(6, 1))).await.unwrap(), 1);
    assert_eq!(lines_of(&s, m, "referral.update").await.len(), 1);
    assert_eq!(lines_of(&s, m, "followup.book").await.len(), 1);
    assert!(verify_chain(&s, m).await.is_ok());
    for n in nodes.into_iter().skip(1) {
        close_node(n).await;
    }
    finish(s, db).await;
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

// --- timeline -----------------------------------------------------------------

use tsunagu_domain::timeline::{self as tl, ContactForm, ContactKind};
use tsunagu_store::{WorkList, WorkSort};

/// The contact of `kind` about `subject` among `rows` (exactly one).
fn the(rows: &[ContactRow], kind: ContactKind, subject: tl::Subject) -> ContactRow {
    let found: Vec<_> = rows.iter().filter(|r| r.contact.kind == kind && r.contact.subject == subject).collect();
    assert_eq!(found.len(), 1, "{kind} {subject:?}");
    found[0].clone()
}

fn window(opens: Date, due: Date, closes: Date) -> tl::Window {
    tl::Window::new(opens, due, closes).unwrap()
}

fn scope(m: MunicipalityId, owner: Option<Role>, areas: Vec<AreaId>, today: Date) -> WorkScope {
    WorkScope { filter: FamilyFilter::Municipality(m), owner, areas, kind: None, today }
}

fn list(scope: WorkScope, list: WorkList) -> WorkListQuery {
    WorkListQuery { scope, list, sort: WorkSort::Due, limit: 100, offset: 0 }
}

fn ids(rows: &[ContactRow]) -> Vec<ContactId> {
    rows.iter().map(|r| r.contact.id).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_timeline_follows_each_pregnancy_and_feeds_the_work_lists() {
    let (s, db) = fresh().await;
    let (m, north, south) = town(&s, "131121").await;
    let (other, _, _) = town(&s, "082350").await;
    // Outcomes name who recorded them: a real account.
    let staff = s.create_account(None, &new_account(m, "hoken", Role::Nurse)).await.unwrap();
    let nurse = AuditContext { actor: staff.id, ..ctx(m, Role::Nurse) };
    assert_eq!(tsunagu_domain::clock::japan_date(nurse.at), today());
    assert_eq!(s.contact_kinds(m).await.unwrap(), KindSet::ALL);

    // A notification builds the pregnancy's contacts in its transaction.
    let f1 = family(&s, m, north, "ハナコ").await;
    let p1 = s.open_family(&nurse, f1).await.unwrap().unwrap().pregnancies[0].clone();
    assert_eq!(p1.ended_on, None);
    assert_eq!(lines_of(&s, m, "family.create").await, vec![(Some(f1), "contacts +5 ~0 x0".to_owned())]);
    let c1 = s.family_contacts(&nurse, f1).await.unwrap();
    assert_eq!(last_line(&s, m).await, line("timeline.view", Some(f1), ""));
    assert_eq!(c1.len(), 5);
    assert!(c1.iter().all(|r| r.contact.subject == tl::Subject::Pregnancy(p1.id) && r.contact.ending.is_none()));
    assert!(c1.iter().all(|r| r.family_id == f1 && r.area_id == north && r.mother_name == "山田 花子"));
    let interview = the(&c1, ContactKind::NotificationInterview, tl::Subject::Pregnancy(p1.id));
    assert_eq!(interview.contact.window, window(today(), today(), date(2026, 12, 19)));
    let eighth = |edd: Date| {
        window(
            tl::dates::gestational_week_start(edd, 28),
            tl::dates::gestational_week_end(edd, 31),
            tl::dates::gestational_week_end(edd, 36),
        )
    };
    let e1 = the(&c1, ContactKind::EighthMonthInterview, tl::Subject::Pregnancy(p1.id));
    assert_eq!(e1.contact.window, eighth(p1.edd));
    // In window order, on the family's page.
    let opens: Vec<Date> = c1.iter().map(|r| r.contact.window.opens()).collect();
    assert!(opens.windows(2).all(|w| w[0] <= w[1]));

    // A new EDD moves the gestational windows, nothing else.
    let new_edd = date(2027, 6, 3);
    s.change_edd(&nurse, f1, p1.id, new_edd).await.unwrap();
    assert_eq!(
        last_line(&s, m).await,
        line("family.pregnancy", Some(f1), format!("pregnancy={} edd contacts +0 ~3 x0", p1.id.0))
    );
    let c1 = s.family_contacts(&nurse, f1).await.unwrap();
    assert_eq!(c1.len(), 5);
    assert_eq!(
        the(&c1, ContactKind::EighthMonthInterview, tl::Subject::Pregnancy(p1.id)).contact.window,
        eighth(new_edd)
    );
    assert_eq!(the(&c1, ContactKind::NotificationInterview, tl::Subject::Pregnancy(p1.id)), interview);
    assert!(matches!(s.change_edd(&nurse, f1, PregnancyId(p1.id.0 + 1000), new_edd).await, Err(StoreError::NotFound)));
    assert!(matches!(s.change_edd(&ctx(other, Role::Nurse), f1, p1.id, new_edd).await, Err(StoreError::NotFound)));

    // An outcome is recorded once: a second one that settles is refused.
    let iid = interview.contact.id;
    s.record_contact_outcome(&nurse, iid, &tl::Outcome::Done { form: ContactForm::Individual }, "met at the desk")
        .await
        .unwrap();
    assert_eq!(
        last_line(&s, m).await,
        line("timeline.outcome", Some(f1), format!("contact={} kind=notification_interview outcome=done", iid.0))
    );
    assert!(matches!(
        s.record_contact_outcome(&nurse, iid, &tl::Outcome::Declined, "").await,
        Err(StoreError::Conflict("contact_settled"))
    ));
    assert!(matches!(
        s.record_contact_outcome(&ctx(other, Role::Nurse), iid, &tl::Outcome::Declined, "").await,
        Err(StoreError::NotFound)
    ));
    let got = s.contact(&nurse, iid).await.unwrap().unwrap();
    assert_eq!(last_line(&s, m).await, line("timeline.view", Some(f1), format!("contact={}", iid.0)));
    assert_eq!(got.contact.outcome, Some(tl::Outcome::Done { form: ContactForm::Individual }));
    assert_eq!(
        (got.outcome_note.as_str(), got.outcome_by, got.outcome_at),
        ("met at the desk", Some(staff.id), Some(nurse.at))
    );
    assert_eq!(s.contact(&ctx(other, Role::Nurse), iid).await.unwrap(), None);

    // A loss closes every contact still owed; the one done stays done.
    s.end_pregnancy(&nurse, f1, p1.id, PregnancyEnd::Lost(today())).await.unwrap();
    assert_eq!(
        last_line(&s, m).await,
        line("family.pregnancy", Some(f1), format!("pregnancy={} lost contacts +0 ~0 x4", p1.id.0))
    );
    let rec = s.open_family(&nurse, f1).await.unwrap().unwrap();
    assert_eq!((rec.pregnancies[0].status, rec.pregnancies[0].ended_on), (PregnancyStatus::Lost, Some(today())));
    let c1 = s.family_contacts(&nurse, f1).await.unwrap();
    for r in &c1 {
        if r.contact.id == iid {
            assert_eq!((r.contact.outcome.is_some(), r.contact.ending), (true, None));
        } else {
            assert_eq!(r.contact.ending, Some(tl::Ending::closed(tl::CloseReason::PregnancyLost)));
        }
    }
    let handbook = the(&c1, ContactKind::HandbookMeeting, tl::Subject::Pregnancy(p1.id)).contact.id;
    assert!(matches!(
        s.record_contact_outcome(&nurse, handbook, &tl::Outcome::Declined, "").await,
        Err(StoreError::Conflict("contact_closed"))
    ));
    assert!(matches!(
        s.end_pregnancy(&nurse, f1, p1.id, PregnancyEnd::MovedOut(today())).await,
        Err(StoreError::Conflict("pregnancy_ended"))
    ));
    assert!(matches!(
        s.change_edd(&nurse, f1, p1.id, date(2027, 6, 10)).await,
        Err(StoreError::Conflict("pregnancy_not_ongoing"))
    ));

    // Twins: the birth adds one contact per delivery and one per baby.
    let mut input = notification_input(north, mother("ヤマダ", "ミカ", Some("1990-01-01")), "2026-12-01");
    input.foetuses = 2;
    let f2 = s.register_notification(&nurse, &input.check(today()).unwrap()).await.unwrap();
    let p2 = s.open_family(&nurse, f2).await.unwrap().unwrap().pregnancies[0].clone();
    let twins = BirthInput { babies: vec![baby("2026-11-20", "female"), baby("2026-11-20", "male")] }
        .check(&p2, today())
        .unwrap();
    let born = s.record_birth(&nurse, f2, p2.id, &twins).await.unwrap();
    // The maternity and prenatal classes were overtaken by the birth.
    assert_eq!(last_line(&s, m).await, line("family.birth", Some(f2), "babies=2 contacts +8 ~0 x2"));
    let c2 = s.family_contacts(&nurse, f2).await.unwrap();
    assert_eq!(c2.len(), 13);
    for b in &born {
        let check = the(&c2, ContactKind::HealthCheck3To4Months, tl::Subject::Baby(*b));
        assert_eq!(check.contact.window, window(date(2027, 2, 20), date(2027, 4, 19), date(2027, 5, 19)));
        the(&c2, ContactKind::PostpartumCare, tl::Subject::Baby(*b));
    }
    let newborn = the(&c2, ContactKind::NewbornVisit, tl::Subject::Delivery(p2.id)).contact.id;
    for kind in [ContactKind::HappyBaby, ContactKind::PostnatalSelfCareClass, ContactKind::PostpartumOutreach] {
        the(&c2, kind, tl::Subject::Delivery(p2.id));
    }
    assert!(matches!(
        s.end_pregnancy(&nurse, f2, p2.id, PregnancyEnd::Lost(today())).await,
        Err(StoreError::Conflict("pregnancy_not_ongoing"))
    ));

    // "Not reached" does not settle a newborn visit: tries add up, notes too.
    s.record_contact_outcome(&nurse, newborn, &tl::Outcome::NotReached { attempts: 2 }, "no answer").await.unwrap();
    s.record_contact_outcome(&nurse, newborn, &tl::Outcome::NotReached { attempts: 1 }, "still none").await.unwrap();
    let got = s.contact(&nurse, newborn).await.unwrap().unwrap();
    assert_eq!(got.contact.outcome, Some(tl::Outcome::NotReached { attempts: 3 }));
    assert_eq!(got.outcome_note, "no answer\nstill none");
    s.record_contact_outcome(&nurse, newborn, &tl::Outcome::Done { form: ContactForm::HomeVisit }, "").await.unwrap();
    assert!(matches!(
        s.record_contact_outcome(&nurse, newborn, &tl::Outcome::NotReached { attempts: 1 }, "").await,
        Err(StoreError::Conflict("contact_settled"))
    ));

    // Work lists and their counts, drawn from the dates of the day asked for.
    let f3 = family(&s, m, south, "ユキ").await;
    let c3 = s.family_contacts(&nurse, f3).await.unwrap();
    let p3 = c3[0].contact.pregnancy;
    let i2 = the(&c2, ContactKind::NotificationInterview, tl::Subject::Pregnancy(p2.id)).contact.id;
    let i3 = the(&c3, ContactKind::NotificationInterview, tl::Subject::Pregnancy(p3)).contact.id;
    let nov25 = date(2026, 11, 25);
    let overdue =
        s.work_list(&nurse, &list(scope(m, Some(Role::Nurse), vec![], nov25), WorkList::Overdue)).await.unwrap();
    assert_eq!(ids(&overdue), vec![i2, i3]);
    assert_eq!(last_line(&s, m).await, line("timeline.worklist", None, "list=overdue results=2"));
    let south_only =
        s.work_list(&nurse, &list(scope(m, Some(Role::Nurse), vec![south], nov25), WorkList::Overdue)).await.unwrap();
    assert_eq!(ids(&south_only), vec![i3]);
    let coordinators = scope(m, Some(Role::Coordinator), vec![], nov25);
    assert_eq!(s.work_list(&nurse, &list(coordinators, WorkList::Overdue)).await.unwrap(), vec![]);
    assert_eq!(
        s.work_counts(&scope(m, Some(Role::Nurse), vec![], nov25)).await.unwrap(),
        WorkCounts { due_this_week: 0, overdue: 2, missed: 0, check_non_attendees: 0 }
    );
    let dec25 = date(2026, 12, 25);
    let missed =
        s.work_list(&nurse, &list(scope(m, Some(Role::Nurse), vec![], dec25), WorkList::Missed)).await.unwrap();
    assert_eq!(ids(&missed), vec![i2, i3]);
    assert_eq!(
        s.work_counts(&scope(m, Some(Role::Nurse), vec![], dec25)).await.unwrap(),
        WorkCounts { due_this_week: 0, overdue: 0, missed: 2, check_non_attendees: 0 }
    );
    // Both babies' checks are past due by late April: two non-attendees.
    let counts = s.work_counts(&scope(m, None, vec![], date(2027, 4, 25))).await.unwrap();
    assert_eq!(counts.check_non_attendees, 2);
    let elsewhere = WorkScope { filter: FamilyFilter::Municipality(other), ..scope(m, None, vec![], nov25) };
    assert!(matches!(
        s.work_list(&nurse, &list(elsewhere, WorkList::Open)).await,
        Err(StoreError::InvalidReference("municipality"))
    ));

    // The daily job stamps the first missed day, once.
    let run = s.mark_missed(m, dec25).await.unwrap();
    assert_eq!(run, MissedRun { from: None, through: date(2026, 12, 24), marked: 2 });
    assert_eq!(s.contact(&nurse, i2).await.unwrap().unwrap().missed_on, Some(date(2026, 12, 20)));
    assert_eq!(s.contact(&nurse, iid).await.unwrap().unwrap().missed_on, None);
    let again = s.mark_missed(m, dec25).await.unwrap();
    assert_eq!(again, MissedRun { from: Some(date(2026, 12, 24)), through: date(2026, 12, 24), marked: 0 });
    let next = s.mark_missed(m, date(2026, 12, 26)).await.unwrap();
    assert_eq!(next, MissedRun { from: Some(date(2026, 12, 24)), through: date(2026, 12, 25), marked: 0 });
    assert_eq!(s.mark_missed(other, dec25).await.unwrap().marked, 0);

    // A kind the municipality stops running leaves every list on backfill;
    // after the loss, it is hidden rather than shown as not applicable.
    let kinds = KindSet::ALL.without(ContactKind::MaternityClass);
    s.set_contact_kinds(m, kinds).await.unwrap();
    assert_eq!(s.contact_kinds(m).await.unwrap(), kinds);
    assert_eq!(s.backfill_timelines(m, today(), 2).await.unwrap(), 2);
    assert_eq!(s.backfill_timelines(m, today(), 10).await.unwrap(), 1);
    assert_eq!(s.backfill_timelines(m, today(), 10).await.unwrap(), 0);
    let class = |rows: &[ContactRow], p| the(rows, ContactKind::MaternityClass, tl::Subject::Pregnancy(p)).contact;
    let c1 = s.family_contacts(&nurse, f1).await.unwrap();
    assert_eq!(class(&c1, p1.id).ending, Some(tl::Ending::hidden(tl::CloseReason::PregnancyLost)));
    let c3 = s.family_contacts(&nurse, f3).await.unwrap();
    assert_eq!(class(&c3, p3).ending, Some(tl::Ending::closed(tl::CloseReason::NotApplicable)));

    assert!(verify_chain(&s, m).await.is_ok());
    finish(s, db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_outcomes_and_daily_runs_have_one_winner() {
    let (s, db) = fresh().await;
    let (m, north, _) = town(&s, "131121").await;
    let staff = s.create_account(None, &new_account(m, "hoken", Role::Nurse)).await.unwrap();
    let nurse = AuditContext { actor: staff.id, ..ctx(m, Role::Nurse) };
    let f = family(&s, m, north, "ハナコ").await;
    let g = family(&s, m, north, "ミカ").await;
    let interview = |rows: Vec<ContactRow>| {
        rows.into_iter().find(|r| r.contact.kind == ContactKind::NotificationInterview).unwrap().contact.id
    };
    let id = interview(s.family_contacts(&nurse, f).await.unwrap());
    let other = interview(s.family_contacts(&nurse, g).await.unwrap());

    // Eight people record the same visit at once: one outcome stands.
    let gate = hold_audit_head(&s, m).await;
    let racers: Vec<_> = (0..8)
        .map(|i| {
            let (s, nurse) = (s.clone(), nurse.clone());
            tokio::spawn(async move {
                let done = tl::Outcome::Done { form: ContactForm::Individual };
                s.record_contact_outcome(&nurse, id, &done, &format!("visit {i}")).await
            })
        })
        .collect();
    open_gate(&s, gate, 8).await;
    let (mut ok, mut settled) = (0, 0);
    for r in racers {
        match r.await.unwrap() {
            Ok(()) => ok += 1,
            Err(StoreError::Conflict("contact_settled")) => settled += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!((ok, settled), (1, 7));
    assert!(!s.contact(&nurse, id).await.unwrap().unwrap().outcome_note.contains('\n'));
    assert_eq!(lines_of(&s, m, "timeline.outcome").await.len(), 1);

    // Two runs of the daily job at once: the contact is stamped once.
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { s.mark_missed(m, date(2026, 12, 25)).await })
        })
        .collect();
    let mut marked = vec![];
    for r in runs {
        marked.push(r.await.unwrap().unwrap().marked);
    }
    marked.sort_unstable();
    assert_eq!(marked, vec![0, 1]);
    assert_eq!(s.contact(&nurse, other).await.unwrap().unwrap().missed_on, Some(date(2026, 12, 20)));
    assert!(verify_chain(&s, m).await.is_ok());
    finish(s, db).await;
}

// --- screening ------------------------------------------------------------------

/// EPDS answers where item n (1–10) scores `scores[n - 1]`.
fn epds_scoring(scores: [u8; 10]) -> tsunagu_domain::screening::Answers {
    let def = tsunagu_domain::screening::defs::epds();
    let mut answers = tsunagu_domain::screening::Answers::to(&def, &[]);
    for (i, score) in scores.iter().enumerate() {
        let item = &def.items[i];
        let code = item.options.iter().find(|o| o.score == *score).unwrap().code.clone();
        answers.answers.insert(item.id.clone(), code);
    }
    answers
}

#[tokio::test]
async fn screenings_are_stored_as_given_and_a_positive_one_raises_its_referral_in_the_same_transaction() {
    let (s, db) = fresh().await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, other_area, _) = town(&s, "082350").await;
    let f = family(&s, m, north, "ハナコ").await;
    let g = family(&s, m, north, "ミカ").await;
    let foreign = family(&s, other, other_area, "ハナコ").await;
    let pf = s.open_family(&ctx(m, Role::Nurse), f).await.unwrap().unwrap().pregnancies[0].id;
    let pg = s.open_family(&ctx(m, Role::Nurse), g).await.unwrap().unwrap().pregnancies[0].id;
    let def = tsunagu_domain::screening::defs::epds();
    let new = |fam, p, scores| NewScreening::score(&def, fam, p, epds_scoring(scores)).unwrap();
    let mother = as_staff(m, Role::FamilyMember, 50, "2026-11-22T04:00:00Z");
    let nurse = as_staff(m, Role::Nurse, 21, "2026-11-22T03:00:00Z");

    // Negative: stored, no referral.
    let quiet = s.record_screening(&nurse, &new(f, Some(pf), [1, 1, 1, 1, 1, 1, 1, 1, 0, 0])).await.unwrap();
    assert_eq!(quiet.referral, None);
    assert_eq!(last_line(&s, m).await, line("screening.record", Some(f), format!("screening={}", quiet.id)));
    // Positive and urgent, entered by the mother herself: one referral, to the nurse.
    let loud = s.record_screening(&mother, &new(f, Some(pf), [3, 3, 3, 3, 3, 3, 3, 3, 3, 2])).await.unwrap();
    let rid = loud.referral.unwrap();
    assert_eq!(
        last_line(&s, m).await,
        line("screening.record", Some(f), format!("screening={} referral={rid}", loud.id))
    );
    assert_eq!(lines_of(&s, m, "referral.raise").await, vec![(Some(f), format!("referral={rid}"))]);
    let r = s.referral(&nurse, rid).await.unwrap().unwrap();
    assert_eq!(r.referral.source, ConcernSource::Screening);
    assert!(r.referral.urgent);
    assert_eq!(r.referral.raised_by, Role::FamilyMember);
    assert_eq!(r.referral.pregnancy, Some(pf));
    assert_eq!(r.note, "epds: epds_total_9_or_more, epds_item_10_self_harm");
    assert_eq!(r.raised_by_account, AccountId(50));

    // Read back as given, newest first, each read audited.
    let list = s.screenings(&nurse, f, 50).await.unwrap();
    assert_eq!(list.iter().map(|x| x.id).collect::<Vec<_>>(), vec![loud.id, quiet.id]);
    assert_eq!(last_line(&s, m).await, line("screening.list", Some(f), "results=2"));
    let one = s.screening(&nurse, loud.id).await.unwrap().unwrap();
    assert_eq!(last_line(&s, m).await, line("screening.view", Some(f), format!("screening={}", loud.id)));
    assert_eq!(one.as_answers(), epds_scoring([3, 3, 3, 3, 3, 3, 3, 3, 3, 2]));
    assert_eq!((one.total, one.positive, one.urgent), (29, true, true));
    assert_eq!(
        one.reasons.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(),
        ["epds_total_9_or_more", "epds_item_10_self_harm"]
    );
    assert_eq!((one.entered_by_account, one.entered_by_role), (AccountId(50), Role::FamilyMember));
    assert_eq!(one.entered_at, at("2026-11-22T04:00:00Z"));
    assert_eq!((one.family_id, one.pregnancy_id, one.referral_id), (f, Some(pf), Some(rid)));
    assert_eq!(s.screening_family(m, loud.id).await.unwrap(), Some(f));
    assert_eq!(s.screening_family(other, loud.id).await.unwrap(), None);
    assert_eq!(s.screening(&ctx(other, Role::Nurse), loud.id).await.unwrap(), None);
    assert!(s.screenings(&ctx(m, Role::Nurse), g, 50).await.unwrap().is_empty());

    // Another municipality's family, or another family's pregnancy: refused,
    // and neither the response nor its referral is written.
    let head = s.audit_head(m).await.unwrap();
    let positive = [3, 3, 3, 3, 0, 0, 0, 0, 0, 0];
    assert!(matches!(
        s.record_screening(&nurse, &new(foreign, None, positive)).await,
        Err(StoreError::InvalidReference("family_id"))
    ));
    assert!(matches!(
        s.record_screening(&nurse, &new(f, Some(pg), positive)).await,
        Err(StoreError::InvalidReference("pregnancy_id"))
    ));
    assert_eq!(s.audit_head(m).await.unwrap(), head);
    assert_eq!(
        s.referrals(&nurse, &ReferralFilter { limit: 100, ..ReferralFilter::default() }).await.unwrap().len(),
        1
    );
    assert_eq!(s.screenings(&nurse, f, 50).await.unwrap().len(), 2);
    assert_eq!(verify_chain(&s, m).await, Ok(s.audit_lines(m, 0, 10_000).await.unwrap().len() as u64));
    finish(s, db).await;
}
