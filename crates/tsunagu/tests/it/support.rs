//! `TestApp`: the real service on a loopback port over a fresh database,
//! with a clock the test controls and a small fixture of two municipalities.

use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use tsunagu_domain::clock::{Clock, FixedClock};
use tsunagu_domain::keys::MasterKey;
use tsunagu_domain::municipality::MunicipalityCode;
use tsunagu_domain::places::{Area, Municipality, Venue, VenueKind};
use tsunagu_domain::roles::{FamilyRelation, Role};
use tsunagu_domain::{AccountId, AreaId, FamilyId, VenueId};
use tsunagu_store::prelude::*;
use tsunagu_store::{NewAccount, NewVenue, Secret, StoreKeys};
use tsunagu_web::{AppState, WebConfig};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const PASSWORD: &str = "test-password-for-everyone";
/// One TOTP secret for every staff account of the fixture.
pub const TOTP_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

static COUNTER: AtomicUsize = AtomicUsize::new(0);

pub(crate) fn password_hash() -> Secret {
    static HASH: OnceLock<Secret> = OnceLock::new();
    HASH.get_or_init(|| tsunagu_web::base::auth::hash_password(PASSWORD).expect("hash")).clone()
}

pub fn pg_url() -> String {
    std::env::var("TSUNAGU_TEST_PG_URL").expect(
        "TSUNAGU_TEST_PG_URL is not set: run the suite with scripts/test.sh, which starts a throwaway PostgreSQL",
    )
}

fn with_db(url: &str, db: &str) -> String {
    let base = url.rsplit_once('/').map(|(b, _)| b).unwrap_or(url);
    format!("{base}/{db}")
}

async fn admin_exec(sql: &str) {
    use sqlx::Connection;
    let mut conn =
        sqlx::PgConnection::connect(&pg_url()).await.expect("PostgreSQL must be reachable for the test suite");
    sqlx::query(sql).execute(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    conn.close().await.ok();
}

/// A migrated template database, made once per test process; each test's
/// database is a copy of it.
async fn pg_template() -> &'static str {
    static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            let name = format!("tsunagu_tpl_{}", std::process::id());
            admin_exec(&format!("DROP DATABASE IF EXISTS {name}")).await;
            admin_exec(&format!("CREATE DATABASE {name}")).await;
            // Migrating writes no audit line and seals no secret: any key will do.
            let keys = StoreKeys::derive(&MasterKey::from_bytes(&[0; 32]).expect("key"));
            let store =
                tsunagu_store_postgres::PgStore::connect(&with_db(&pg_url(), &name), keys).await.expect("template");
            store.migrate().await.expect("migrate template");
            store.close().await;
            name
        })
        .await
}

/// A fresh, migrated database URL for one test.
pub async fn fresh_db(backend: Backend) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    match backend {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!("tsunagu-it-{}-{n}.sqlite3", std::process::id()));
            let _ = std::fs::remove_file(&path);
            format!("sqlite://{}", path.display())
        }
        Backend::Postgres => {
            let template = pg_template().await;
            let name = format!("tsunagu_t_{}_{n}", std::process::id());
            admin_exec(&format!("CREATE DATABASE {name} TEMPLATE {template}")).await;
            with_db(&pg_url(), &name)
        }
    }
}

pub struct Fixture {
    pub setagaya: Municipality,
    pub other: Municipality,
    pub setagaya_area: Area,
    pub kitazawa_area: Area,
    pub other_area: Area,
    pub facility: Venue,
}

pub struct TestApp {
    pub backend: Backend,
    pub db_url: String,
    /// The key the store was opened with: a fresh random one per test, in a
    /// file of its own, made the way `serve` makes its default key file.
    pub key_file: PathBuf,
    pub master_key: MasterKey,
    /// Where [`TestApp::write_checkpoints`] appends (nothing until then).
    pub checkpoint_file: PathBuf,
    pub addr: SocketAddr,
    pub store: Arc<dyn Store>,
    pub clock: Arc<FixedClock>,
    pub fx: Fixture,
    pub http: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
        // A test's files go with it: its key and checkpoints, and on SQLite
        // the database with its journal (PostgreSQL test databases live in
        // the throwaway cluster and go with it).
        if let Some(files) = self.key_file.parent() {
            let _ = std::fs::remove_dir_all(files);
        }
        if let Some(path) = self.db_url.strip_prefix("sqlite://") {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let _ = std::fs::remove_file(format!("{path}{suffix}"));
            }
        }
    }
}

/// 2026-11-22 10:00 in Japan.
pub fn test_now() -> Timestamp {
    "2026-11-22T01:00:00Z".parse().expect("time")
}

/// The stored session of a token as the client holds it (`{municipality}.{random}`).
pub async fn stored_session(app: &TestApp, token: &str) -> Option<tsunagu_store::Session> {
    let (m, hash) = tsunagu_store::parse_session_token(token).expect("a session token");
    app.store.session(m, &hash).await.unwrap()
}

impl TestApp {
    pub async fn start(backend: Backend) -> TestApp {
        Self::start_with(backend, WebConfig::default()).await
    }

    pub async fn start_with(backend: Backend, config: WebConfig) -> TestApp {
        Self::start_over(backend, config, None).await
    }

    /// The service over the demo data (`families` per municipality) instead
    /// of the fixture; `fx` names the demo's municipalities, its first two
    /// areas and first postpartum facility. Sign in with [`TestApp::demo_token`].
    pub async fn start_demo(backend: Backend, families: usize) -> TestApp {
        Self::start_over(backend, WebConfig::default(), Some(families)).await
    }

    async fn start_over(backend: Backend, config: WebConfig, demo: Option<usize>) -> TestApp {
        let db_url = fresh_db(backend).await;
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let files = std::env::temp_dir().join(format!("tsunagu-it-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&files);
        let key_file = files.join("tsunagu.key");
        let checkpoint_file = files.join("audit-checkpoints.jsonl");
        let (master_key, _) = tsunagu::keyfile::load_key(None, None, &key_file, true).expect("key");
        let store = tsunagu::open_store(&db_url, StoreKeys::derive(&master_key)).await.expect("open store");
        let clock = Arc::new(FixedClock::new(test_now()));
        let fx = match demo {
            None => fixture(store.as_ref()).await,
            Some(families) => demo_fixture(store.as_ref(), clock.as_ref(), families).await,
        };
        let state = AppState::new(store.clone(), clock.clone(), config);
        let app = crate::statements::counted(tsunagu_web::router(state), &db_url);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await;
        });
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        TestApp { backend, db_url, key_file, master_key, checkpoint_file, addr, store, clock, fx, http, server }
    }

    /// Stops answering HTTP (the listener closes): a phone's view of the
    /// service going away, for the offline checks.
    pub fn stop_server(&self) {
        self.server.abort();
    }

    /// Appends checkpoints of the chains that grew, as `serve` does at an
    /// interval; returns how many.
    pub async fn write_checkpoints(&self) -> usize {
        let (mut checkpointer, _) =
            tsunagu::checkpoints::Checkpointer::open(&self.checkpoint_file, self.master_key.checkpoint_key())
                .expect("checkpoint file");
        checkpointer.write(self.store.as_ref(), self.clock.now()).await.expect("checkpoints")
    }

    /// Runs the real `tsunagu audit verify` on this app's database with its
    /// key and checkpoint file (plus `extra` arguments); (succeeded, what it printed).
    pub fn verify_command(&self, extra: &[&str]) -> (bool, String) {
        let mut args = vec!["audit", "verify"];
        args.extend_from_slice(extra);
        self.command(&args, &self.key_file)
    }

    /// Runs the real binary with `args` (a subcommand and its own flags),
    /// then this app's database, checkpoint file and the given key file;
    /// (succeeded, what it printed on stdout and stderr).
    pub fn command(&self, args: &[&str], key_file: &std::path::Path) -> (bool, String) {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tsunagu"))
            .args(args)
            .args(["--db", &self.db_url])
            .arg("--key-file")
            .arg(key_file)
            .arg("--checkpoint-file")
            .arg(&self.checkpoint_file)
            .env("TSUNAGU_LOG", "warn")
            .env_remove("TSUNAGU_KEY")
            .output()
            .expect("run tsunagu");
        let mut printed = String::from_utf8_lossy(&out.stdout).into_owned();
        printed.push_str(&String::from_utf8_lossy(&out.stderr));
        (out.status.success(), printed)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The current TOTP code; moves the clock on a step first so that no
    /// code is reused (the service refuses a replayed code).
    pub fn next_totp(&self) -> String {
        self.clock.advance(SignedDuration::from_secs(30));
        tsunagu_web::base::auth::current_totp(TOTP_SECRET, self.clock.now()).expect("totp")
    }

    pub async fn account(&self, m: &Municipality, username: &str, role: Role, scope: Scope) -> AccountId {
        let (areas, venues, family_id, family_relation) = match scope {
            Scope::None => (vec![], vec![], None, None),
            Scope::Areas(a) => (a, vec![], None, None),
            Scope::Venues(v) => (vec![], v, None, None),
            Scope::Family(f) => (vec![], vec![], Some(f), Some(FamilyRelation::Mother)),
            Scope::Partner(f) => (vec![], vec![], Some(f), Some(FamilyRelation::Partner)),
        };
        let a = self
            .store
            .create_account(
                None,
                &NewAccount {
                    municipality_id: m.id,
                    username: username.to_owned(),
                    display_name: format!("{username} (test)"),
                    role,
                    password_hash: password_hash(),
                    totp_secret: role.is_staff().then(|| Secret::new(TOTP_SECRET)),
                    family_id,
                    family_relation,
                    areas,
                    venues,
                    rooms: vec![],
                    created_at: self.clock.now(),
                },
            )
            .await
            .expect("account");
        a.id
    }

    /// A bearer token for an account of the fixture's password.
    pub async fn token(&self, m: &Municipality, username: &str) -> String {
        let resp = self
            .http
            .post(self.url("/api/v1/auth/token"))
            .json(&json!({"municipality": m.code.to_string(), "username": username, "password": PASSWORD, "otp": self.next_totp()}))
            .send()
            .await
            .expect("token request");
        assert_eq!(resp.status(), 200, "sign-in of {username}");
        let body: Value = resp.json().await.expect("json");
        body["token"].as_str().expect("token").to_owned()
    }

    /// A bearer token for a demo account of the demo's first municipality
    /// (its password, and its TOTP code for staff).
    pub async fn demo_token(&self, username: &str) -> String {
        let account = tsunagu_demo::demo_accounts()
            .into_iter()
            .find(|a| a.username == username && a.municipality_code == self.fx.setagaya.code.to_string())
            .expect("demo account");
        self.clock.advance(SignedDuration::from_secs(30));
        let otp =
            account.totp_secret.map(|s| tsunagu_web::base::auth::current_totp(s, self.clock.now()).expect("totp"));
        let resp = self
            .http
            .post(self.url("/api/v1/auth/token"))
            .json(&json!({"municipality": account.municipality_code, "username": username, "password": account.password, "otp": otp}))
            .send()
            .await
            .expect("token request");
        assert_eq!(resp.status(), 200, "sign-in of demo {username}");
        let body: Value = resp.json().await.expect("json");
        body["token"].as_str().expect("token").to_owned()
    }

    pub async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        let resp = self.http.get(self.url(path)).bearer_auth(token).send().await.expect("get");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, token: &str, path: &str, body: &Value) -> (u16, Value) {
        let resp = self.http.post(self.url(path)).bearer_auth(token).json(body).send().await.expect("post");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Registers a notification through the API as `token` and returns the family id.
    pub async fn register(&self, token: &str, body: &Value) -> FamilyId {
        let (status, v) = self.post(token, "/api/v1/families", body).await;
        assert_eq!(status, 201, "register: {v}");
        FamilyId(v["id"].as_i64().expect("id"))
    }
}

pub enum Scope {
    None,
    Areas(Vec<AreaId>),
    Venues(Vec<VenueId>),
    /// The family's mother.
    Family(FamilyId),
    /// The mother's partner.
    Partner(FamilyId),
}

async fn fixture(store: &dyn Store) -> Fixture {
    let setagaya = store
        .create_municipality(MunicipalityCode::parse("131121").expect("code"), "世田谷区", "Setagaya City")
        .await
        .expect("m");
    let other = store
        .create_municipality(MunicipalityCode::parse("082350").expect("code"), "つくばみらい市", "Tsukubamirai City")
        .await
        .expect("m");
    let setagaya_area = store.create_area(setagaya.id, "世田谷", "Setagaya").await.expect("area");
    let kitazawa_area = store.create_area(setagaya.id, "北沢", "Kitazawa").await.expect("area");
    let other_area = store.create_area(other.id, "小絹", "Kokinu").await.expect("area");
    let facility = store
        .create_venue(&NewVenue {
            municipality_id: setagaya.id,
            area_id: Some(setagaya_area.id),
            kind: VenueKind::PostpartumFacility,
            name_ja: "区立産後ケアセンター".into(),
            name_en: "Municipal postpartum care centre".into(),
        })
        .await
        .expect("venue");
    Fixture { setagaya, other, setagaya_area, kitazawa_area, other_area, facility }
}

/// A notification body the API accepts, for a mother of the given kana.
pub fn notification(area: AreaId, family_kana: &str, given_kana: &str, edd: &str) -> Value {
    json!({
        "area_id": area.0,
        "fee_bracket": "taxed",
        "consent_coordinators": true,
        "consent_hubs": false,
        "edd": edd,
        "foetuses": 1,
        "first_child": true,
        "mother": {
            "family_name": "山田",
            "given_name": "花子",
            "family_name_kana": family_kana,
            "given_name_kana": given_kana,
            "birth_date": "1993-04-01"
        }
    })
}

/// The demo data, loaded as `tsunagu serve --demo` loads it (with a few
/// families), named as the fixture names its parts.
async fn demo_fixture(store: &dyn Store, clock: &FixedClock, families: usize) -> Fixture {
    let opts = tsunagu_demo::DemoOptions {
        families_per_municipality: families,
        seed: 20261122,
        today: clock.today(),
        now: clock.now(),
        bulk_from: tsunagu_demo::BULK_LOAD_FROM,
    };
    let hash = |p: &str| tsunagu_web::base::auth::hash_password(p).expect("hash");
    tsunagu_demo::load(store, &opts, &hash).await.expect("demo data");
    let municipality = |code: &str| {
        let code = MunicipalityCode::parse(code).expect("code");
        async move { store.municipality_by_code(code).await.expect("municipality").expect("demo municipality") }
    };
    let setagaya = municipality("131121").await;
    let other = municipality("082350").await;
    let areas = store.areas(setagaya.id).await.expect("areas");
    let other_area = store.areas(other.id).await.expect("areas").into_iter().next().expect("an area");
    let facility = store
        .postpartum_facilities(setagaya.id)
        .await
        .expect("facilities")
        .into_iter()
        .next()
        .expect("a facility")
        .venue;
    Fixture { setagaya_area: areas[0].clone(), kitazawa_area: areas[1].clone(), setagaya, other, other_area, facility }
}
