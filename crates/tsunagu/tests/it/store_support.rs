//! What the storage stories (`store_*.rs`) share: a fresh, migrated database
//! on either back end with no fixture and no server, other handles on it
//! (as other nodes of the service would be), the few raw-SQL doors a story
//! needs behind the store's back, and the records the stories are built of.
//! A story is written once against `dyn Store` and run on SQLite and on
//! PostgreSQL by `on_both!`.

use crate::support::{fresh_db, pg_url, Backend};
use jiff::civil::{date, Date};
use jiff::Timestamp;
use sqlx::Connection;
use std::sync::Arc;
use tsunagu_domain::audit::{AuditContext, ChainError, ChainVerifier};
use tsunagu_domain::dates::DateRange;
use tsunagu_domain::municipality::MunicipalityCode;
use tsunagu_domain::places::VenueKind;
use tsunagu_domain::postpartum::application::{ApplicationAnswers, ApplicationStatus, NewApplication};
use tsunagu_domain::postpartum::calendar::{CapacityPlan, CapacityPool, FacilityCalendar, OpeningRules};
use tsunagu_domain::postpartum::ServiceType;
use tsunagu_domain::records::{BabyInput, Notification, NotificationInput, PersonInput};
use tsunagu_domain::roles::Role;
use tsunagu_domain::{AccountId, ApplicationId, AreaId, FamilyId, MunicipalityId, VenueId};
use tsunagu_store::{token_hash, Booking, NewAccount, NewVenue, Secret, Session, SessionStage, Store};

/// A story's store: either back end, behind the trait.
pub type Db = Arc<dyn Store>;

// --- test databases ---------------------------------------------------------

/// A story's own database: a fresh SQLite file, or a fresh PostgreSQL
/// database copied from the migrated template.
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
}

/// The key every storage story's store is opened with.
pub fn test_keys() -> tsunagu_store::StoreKeys {
    tsunagu_store::StoreKeys::derive(&tsunagu_domain::keys::MasterKey::from_bytes(&[7; 32]).expect("key"))
}

/// A migrated store on a fresh database, with nothing in it.
pub async fn fresh(backend: Backend) -> (Db, TestDb) {
    let url = fresh_db(backend).await;
    let store = tsunagu::open_store(&url, test_keys()).await.expect("open store");
    (store, TestDb { backend, url })
}

/// Another store on the same database: its own connections (for SQLite its
/// own single writer), like another node of the service.
pub async fn another_node(db: &TestDb) -> Db {
    tsunagu::open_store(&db.url, test_keys()).await.expect("open another node")
}

/// Lets go of a node opened by `another_node` (its pools close when the
/// last handle is dropped).
pub async fn close_node(s: Db) {
    drop(s);
}

/// Lets go of the store and removes its database.
pub async fn finish(s: Db, db: TestDb) {
    drop(s);
    match db.backend {
        Backend::Sqlite => {
            let path = db.url.trim_start_matches("sqlite://").to_owned();
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{path}{suffix}"));
            }
        }
        Backend::Postgres => {
            let name = db.url.rsplit_once('/').map(|(_, n)| n).expect("database name");
            let mut c = sqlx::PgConnection::connect(&pg_url()).await.expect("PostgreSQL must be reachable");
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut c).await.unwrap();
            c.close().await.ok();
        }
    }
}

/// Runs one statement on a connection of its own, behind the store's back;
/// the number of rows it changed.
pub async fn exec(db: &TestDb, sql: &str) -> Result<u64, sqlx::Error> {
    match db.backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&db.url).await?;
            let n = sqlx::query(sql).execute(&mut c).await.map(|r| r.rows_affected());
            c.close().await.ok();
            n
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&db.url).await?;
            let n = sqlx::query(sql).execute(&mut c).await.map(|r| r.rows_affected());
            c.close().await.ok();
            n
        }
    }
}

/// The one value a query answers, read behind the store's back.
pub async fn scalar<T>(db: &TestDb, sql: &str) -> T
where
    T: Send + Unpin,
    T: for<'r> sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    match db.backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
            let v = sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
            c.close().await.ok();
            v
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
            let v = sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
            c.close().await.ok();
            v
        }
    }
}

/// Where a race starts: see `hold_audit_head`.
pub enum Gate {
    /// SQLite: each store writes through one connection, so racers on one
    /// store queue for it; there is nothing to hold.
    Open,
    /// PostgreSQL: a transaction holding the municipality's audit head.
    Held(sqlx::PgPool, sqlx::Transaction<'static, sqlx::Postgres>),
}

/// On PostgreSQL, locks the municipality's audit head (its chain must have
/// a line), so that racing writers pile up inside their transactions — each
/// one either there, at its last step, or at whatever lock serializes it
/// before that. On SQLite the racers simply run (see `Gate::Open`).
pub async fn hold_audit_head(db: &TestDb, m: MunicipalityId) -> Gate {
    match db.backend {
        Backend::Sqlite => Gate::Open,
        Backend::Postgres => {
            let pool = sqlx::postgres::PgPoolOptions::new().max_connections(2).connect(&db.url).await.unwrap();
            let mut tx = pool.begin().await.unwrap();
            sqlx::query("SELECT seq FROM audit_heads WHERE municipality_id = $1 FOR UPDATE")
                .bind(m.0)
                .fetch_one(&mut *tx)
                .await
                .unwrap();
            Gate::Held(pool, tx)
        }
    }
}

/// On PostgreSQL, waits until `waiting` sessions of this database wait for a
/// lock, then lets them go.
pub async fn open_gate(gate: Gate, waiting: i64) {
    let Gate::Held(pool, tx) = gate else { return };
    for _ in 0..200 {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        if n == waiting {
            tx.commit().await.unwrap();
            pool.close().await;
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the racers never all waited at the gate");
}

/// The guard that keeps audit lines append-only, lifted as someone with
/// the database's superuser or file would lift it.
pub struct AuditGuard(Vec<String>);

/// PostgreSQL: switches the append-only trigger off. SQLite: drops the
/// triggers, keeping their definitions for `restore_audit_guard`.
pub async fn lift_audit_guard(db: &TestDb) -> AuditGuard {
    match db.backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
            let triggers: Vec<(String, String)> = sqlx::query_as(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log' ORDER BY name",
            )
            .fetch_all(&mut c)
            .await
            .unwrap();
            assert!(!triggers.is_empty(), "audit_log has no triggers");
            for (name, _) in &triggers {
                sqlx::query(&format!("DROP TRIGGER {name}")).execute(&mut c).await.unwrap();
            }
            c.close().await.ok();
            AuditGuard(triggers.into_iter().map(|(_, sql)| sql).collect())
        }
        Backend::Postgres => {
            exec(db, "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only").await.unwrap();
            AuditGuard(vec!["ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only".into()])
        }
    }
}

pub async fn restore_audit_guard(db: &TestDb, guard: AuditGuard) {
    for sql in guard.0 {
        exec(db, &sql).await.unwrap();
    }
}

// --- fixtures ---------------------------------------------------------------

pub fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

pub fn today() -> Date {
    date(2026, 11, 22)
}

/// A test's caller: a store driven directly has no policy decision behind it.
pub fn ctx(m: MunicipalityId, role: Role) -> AuditContext {
    requester(m, role).without_a_policy_decision()
}

pub fn requester(m: MunicipalityId, role: Role) -> tsunagu_domain::audit::Requester {
    tsunagu_domain::audit::Requester {
        municipality_id: m,
        actor: AccountId(7),
        role,
        remote_addr: "192.0.2.1".into(),
        reason: "test".into(),
        at: at("2026-11-22T01:02:03.123456Z"),
    }
}

/// A staff member of `m` with no scopes, as the policy sees her.
pub fn staff_actor(m: MunicipalityId, account: AccountId, role: Role) -> tsunagu_domain::roles::Actor {
    tsunagu_domain::roles::Actor {
        account_id: account,
        municipality_id: m,
        role,
        family_id: None,
        areas: vec![],
        venues: vec![],
        rooms: vec![],
        relation: None,
    }
}

pub fn code(s: &str) -> MunicipalityCode {
    MunicipalityCode::parse(s).unwrap()
}

/// A municipality with two areas.
pub async fn town(s: &Db, c: &str) -> (MunicipalityId, AreaId, AreaId) {
    let m = s.create_municipality(code(c), "町", "Town").await.unwrap();
    let a = s.create_area(m.id, "北", "North").await.unwrap();
    let b = s.create_area(m.id, "南", "South").await.unwrap();
    (m.id, a.id, b.id)
}

pub fn mother(family_kana: &str, given_kana: &str, birth: Option<&str>) -> PersonInput {
    PersonInput {
        family_name: "山田".into(),
        given_name: "花子".into(),
        family_name_kana: family_kana.into(),
        given_name_kana: given_kana.into(),
        birth_date: birth.map(Into::into),
    }
}

pub fn notification_input(area: AreaId, m: PersonInput, edd: &str) -> NotificationInput {
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

pub fn notification(area: AreaId, family_kana: &str, given_kana: &str) -> Notification {
    notification_input(area, mother(family_kana, given_kana, Some("1994-05-01")), "2027-05-20").check(today()).unwrap()
}

pub fn baby(d: &str, sex: &str) -> BabyInput {
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

pub fn new_account(m: MunicipalityId, username: &str, role: Role) -> NewAccount {
    NewAccount {
        municipality_id: m,
        username: username.into(),
        display_name: "Staff".into(),
        role,
        password_hash: Secret::new("$argon2id$fake"),
        totp_secret: None,
        family_id: None,
        family_relation: None,
        areas: vec![],
        venues: vec![],
        rooms: vec![],
        created_at: jiff::Timestamp::UNIX_EPOCH,
    }
}

/// Walks the whole chain page by page, as an auditor would.
pub async fn verify_chain(s: &Db, m: MunicipalityId) -> Result<u64, ChainError> {
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

/// The actions of the municipality's audit lines, oldest first.
pub async fn actions(s: &Db, m: MunicipalityId) -> Vec<String> {
    s.audit_lines(m, 0, 1000).await.unwrap().into_iter().map(|l| l.action).collect()
}

/// The last audit line of the municipality: (action, family, detail).
pub async fn last_line(s: &Db, m: MunicipalityId) -> (String, Option<FamilyId>, String) {
    let l = s.audit_lines(m, 0, 10_000).await.unwrap().pop().unwrap();
    (l.action, l.family_id, l.detail)
}

pub fn line(action: &str, family: Option<FamilyId>, detail: impl Into<String>) -> (String, Option<FamilyId>, String) {
    (action.to_owned(), family, detail.into())
}

/// Every audit line of the municipality with this action: (family, detail).
pub async fn lines_of(s: &Db, m: MunicipalityId, action: &str) -> Vec<(Option<FamilyId>, String)> {
    s.audit_lines(m, 0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|l| l.action == action)
        .map(|l| (l.family_id, l.detail))
        .collect()
}

pub fn as_staff(m: MunicipalityId, role: Role, actor: i64, when: &str) -> AuditContext {
    tsunagu_domain::audit::Requester { actor: AccountId(actor), at: at(when), ..requester(m, role) }
        .without_a_policy_decision()
}

// --- postpartum care and the work around it ---------------------------------

pub fn day(m: i8, d: i8) -> Date {
    date(2027, m, d)
}

pub fn stay(first: Date, days: u32) -> DateRange {
    DateRange::starting(first, days).unwrap()
}

/// A registered family whose mother is 山田 花子 (kana as given, so that
/// families do not count as duplicates of each other).
pub async fn family(s: &Db, m: MunicipalityId, area: AreaId, given_kana: &str) -> FamilyId {
    s.register_notification(&ctx(m, Role::Nurse), &notification(area, "ヤマダ", given_kana)).await.unwrap()
}

/// A venue of kind `postpartum_facility` configured with `calendar`.
pub async fn facility(s: &Db, m: MunicipalityId, name: &str, calendar: &FacilityCalendar) -> VenueId {
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
pub fn every_day(places: u32) -> FacilityCalendar {
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

pub fn application(f: FamilyId, venue: VenueId, service: ServiceType, days: DateRange) -> NewApplication {
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
        fee_to_be_confirmed: false,
        transport_paid: false,
        refusals: vec![],
        override_reason: None,
    }
}

/// One place of pool `pool` on every day of `days`, each day with `places`.
pub fn booking(pool: u32, days: DateRange, places: u32) -> Booking {
    Booking { pool, places: days.days().map(|d| (d, places)).collect() }
}

pub async fn status(s: &Db, m: MunicipalityId, id: ApplicationId) -> ApplicationStatus {
    s.application(&ctx(m, Role::Nurse), id).await.unwrap().unwrap().status
}

pub fn all_of_2027() -> DateRange {
    DateRange::new(day(1, 1), day(12, 31)).unwrap()
}

pub async fn a_hall(s: &Db, m: MunicipalityId) -> VenueId {
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

// --- accounts -----------------------------------------------------------------

pub fn session(token: &str, m: MunicipalityId, account: AccountId, created: &str) -> Session {
    Session {
        municipality_id: m,
        token_hash: token_hash(token),
        account_id: account,
        stage: SessionStage::Full,
        csrf_token: Secret::new("csrf"),
        created_at: at(created),
        last_seen_at: at(created),
    }
}
