//! Tests against a real PostgreSQL server: `TSUNAGU_TEST_PG_URL` must name
//! one (scripts/test.sh starts a throwaway cluster and sets it); without it
//! these tests fail rather than pass silently. Each test works in a fresh
//! database of its own.

use super::*;
use jiff::civil::date;
use sqlx::Connection;
use std::sync::atomic::{AtomicU32, Ordering};
use tsunagu_domain::audit::{ChainError, ChainVerifier};
use tsunagu_domain::records::{BabyInput, BirthInput, NotificationInput, PersonInput};
use tsunagu_store::token_hash;

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
    let store = PgStore::connect(&db.url).await.unwrap();
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
    let mut v = ChainVerifier::default();
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
    assert_eq!(applied, vec![(1, "foundation".to_owned(), MIGRATIONS[0].checksum())]);
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
        nodes.push(PgStore::connect(&db.url).await.unwrap());
    }
    let tasks: Vec<_> = nodes.iter().cloned().map(|s| tokio::spawn(async move { s.migrate().await })).collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM schema_migrations").fetch_one(&nodes[0].pool).await.unwrap();
    assert_eq!(n, 1);
    for s in nodes {
        s.close().await;
    }
    db.remove().await;
}

#[tokio::test]
async fn an_unreachable_server_or_missing_database_is_unavailable() {
    // Nothing listens on port 1: refused until the 5 s acquire timeout.
    match PgStore::connect("postgres://tsunagu@127.0.0.1:1/postgres").await {
        Err(StoreError::Unavailable(_)) => {}
        Err(e) => panic!("expected Unavailable, got {e:?}"),
        Ok(_) => panic!("connected to nothing"),
    }
    match PgStore::connect(&with_database(&server_url(), "tsunagu_no_such_database")).await {
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
        assert_eq!(line.hash, line.expected_hash());
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
