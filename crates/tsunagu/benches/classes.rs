//! Booking classes through the real HTTP service on loopback (#12), against
//! the raw database's single-row insert-in-a-transaction rate measured in
//! the same run at the same concurrency.
//!
//! ```sh
//! cargo bench -p tsunagu --bench classes -- --backend sqlite --clients 16,64
//! TSUNAGU_BENCH_PG_URL=postgres://tsunagu@127.0.0.1:55440/postgres \
//!   cargo bench -p tsunagu --bench classes -- --backend postgres --clients 16,64
//! ```
//!
//! 500 families, each signed in as itself (a family account, its own bearer
//! token). For each client count: `clients` tasks share the families and
//! each family books once through `POST /api/v1/classes/bookings` —
//! *contended*: all on one session of 20 places (the rest join its waiting
//! list), *spread*: over 50 sessions of 20 places. Throughput is bookings
//! answered per second; p50/p99 the latency of one booking request. At the
//! end every session is checked: no more than its places confirmed, on the
//! session's count and on its roster, and nobody twice.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::percentile;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tsunagu_domain::classes::{ProgrammeConfig, ProgrammeKind, ProgrammeRules};
use tsunagu_domain::clock::{Clock, SystemClock};
use tsunagu_domain::records::NotificationInput;
use tsunagu_domain::roles::{FamilyRelation, Role};
use tsunagu_domain::ClassSessionId;
use tsunagu_store::{ClassBookingStatus, ImportFamily, NewAccount, NewSession, NewVenue, Store};

const CAPACITY: u32 = 20;
const SPREAD_SESSIONS: usize = 50;
const RAW_TX_PER_CLIENT: usize = 200;
const PASSWORD: &str = "bench-family-password";

struct Args {
    backend: String,
    clients: Vec<usize>,
    families: usize,
}

fn args() -> Args {
    let mut a = Args { backend: "sqlite".into(), clients: vec![16, 64], families: 500 };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        match x.as_str() {
            "--backend" => a.backend = it.next().expect("--backend sqlite|postgres"),
            "--clients" => {
                a.clients = it
                    .next()
                    .expect("--clients N[,N…]")
                    .split(',')
                    .map(|n| n.trim().parse().expect("a number"))
                    .collect()
            }
            "--families" => a.families = it.next().expect("--families N").parse().expect("a number"),
            _ => {} // cargo bench passes --bench
        }
    }
    a
}

fn bench_keys() -> tsunagu_store::StoreKeys {
    tsunagu_store::StoreKeys::derive(&tsunagu_domain::keys::MasterKey::from_bytes(&[7; 32]).unwrap())
}

/// Single-row INSERT transactions from `clients` tasks on the same database:
/// the ceiling a booking (which inserts one row and more) is measured against.
async fn raw_rate(url: &str, clients: usize) -> f64 {
    let total = clients * RAW_TX_PER_CLIENT;
    let started;
    if url.starts_with("sqlite") {
        use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
        use std::str::FromStr;
        // The store's own settings: WAL, synchronous=NORMAL, one writer.
        let opts = SqliteConnectOptions::from_str(url)
            .unwrap()
            .busy_timeout(Duration::from_secs(30))
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Normal);
        let pool = SqlitePoolOptions::new().max_connections(1).connect_with(opts).await.unwrap();
        sqlx::query("CREATE TABLE IF NOT EXISTS bench_rows (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
            .execute(&pool)
            .await
            .unwrap();
        started = Instant::now();
        let tasks: Vec<_> = (0..clients)
            .map(|t| {
                let pool = pool.clone();
                tokio::spawn(async move {
                    for i in 0..RAW_TX_PER_CLIENT {
                        let mut tx = pool.begin().await.unwrap();
                        sqlx::query("INSERT INTO bench_rows (n) VALUES (?)")
                            .bind((t * RAW_TX_PER_CLIENT + i) as i64)
                            .execute(&mut *tx)
                            .await
                            .unwrap();
                        tx.commit().await.unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    } else {
        let pool =
            sqlx::postgres::PgPoolOptions::new().max_connections(clients.min(64) as u32).connect(url).await.unwrap();
        sqlx::query("CREATE TABLE IF NOT EXISTS bench_rows (id BIGSERIAL PRIMARY KEY, n BIGINT NOT NULL)")
            .execute(&pool)
            .await
            .unwrap();
        started = Instant::now();
        let tasks: Vec<_> = (0..clients)
            .map(|t| {
                let pool = pool.clone();
                tokio::spawn(async move {
                    for i in 0..RAW_TX_PER_CLIENT {
                        let mut tx = pool.begin().await.unwrap();
                        sqlx::query("INSERT INTO bench_rows (n) VALUES ($1)")
                            .bind((t * RAW_TX_PER_CLIENT + i) as i64)
                            .execute(&mut *tx)
                            .await
                            .unwrap();
                        tx.commit().await.unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    }
    total as f64 / started.elapsed().as_secs_f64()
}

/// Every family books its session (`target(i)`) once, from `clients` tasks.
async fn round(
    base: &str,
    tokens: &Arc<Vec<String>>,
    clients: usize,
    label: &str,
    target: impl Fn(usize) -> ClassSessionId,
) -> (f64, f64, f64) {
    let client = reqwest::Client::new();
    let jobs: Vec<(usize, i64)> = (0..tokens.len()).map(|i| (i, target(i).0)).collect();
    let jobs = Arc::new(jobs);
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|t| {
            let (client, tokens, jobs, base, label) =
                (client.clone(), tokens.clone(), jobs.clone(), base.to_owned(), label.to_owned());
            tokio::spawn(async move {
                let mut times = vec![];
                for (i, session) in jobs.iter().skip(t).step_by(clients) {
                    let body = serde_json::json!({"session_id": session, "idempotency_key": format!("{label}-{i}")});
                    let at = Instant::now();
                    let r = client
                        .post(format!("{base}/api/v1/classes/bookings"))
                        .bearer_auth(&tokens[*i])
                        .json(&body)
                        .send()
                        .await
                        .unwrap();
                    let status = r.status().as_u16();
                    r.bytes().await.unwrap();
                    times.push(at.elapsed());
                    assert!(status == 201 || status == 409, "booking answered {status}");
                }
                times
            })
        })
        .collect();
    let mut times = vec![];
    for t in tasks {
        times.extend(t.await.unwrap());
    }
    let rate = times.len() as f64 / started.elapsed().as_secs_f64();
    times.sort();
    (rate, percentile(&times, 0.5), percentile(&times, 0.99))
}

#[tokio::main]
async fn main() {
    let a = args();
    let url = common::fresh_db(&a.backend, a.families).await;
    let store: Arc<dyn Store> = tsunagu::open_store(&url, bench_keys()).await.unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let today = clock.today();
    let code = tsunagu_domain::municipality::MunicipalityCode::parse("131121").unwrap();
    let m = store.create_municipality(code, "区", "City").await.unwrap();
    let area = store.create_area(m.id, "地区", "Area").await.unwrap();
    let hall = store
        .create_venue(&NewVenue {
            municipality_id: m.id,
            area_id: Some(area.id),
            kind: tsunagu_domain::places::VenueKind::ChildrensHall,
            name_ja: "児童館".into(),
            name_en: "Hall".into(),
        })
        .await
        .unwrap();
    // An open programme: every family may book every session (the rules are
    // decided on each booking all the same, on the record read in its transaction).
    let mut config = ProgrammeConfig::seed_default(ProgrammeKind::MaternityClass);
    config.rules = ProgrammeRules::open();
    let programme = store.create_programme(m.id, &config).await.unwrap();
    let ctx = tsunagu_domain::audit::Requester {
        municipality_id: m.id,
        actor: tsunagu_domain::AccountId(1),
        role: Role::Nurse,
        remote_addr: "bench".into(),
        reason: "bench".into(),
        at: clock.now(),
    }
    .without_a_policy_decision();
    let families: Vec<ImportFamily> = (0..a.families)
        .map(|i| {
            let kana: String = format!("{i:05}")
                .chars()
                .map(|c| char::from_u32(0x3042 + 2 * c.to_digit(10).unwrap()).unwrap())
                .collect();
            let edd = today.saturating_add(jiff::Span::new().days(150)).to_string();
            let input = NotificationInput {
                area_id: area.id.0,
                fee_bracket: "taxed".into(),
                edd,
                foetuses: 1,
                mother: tsunagu_domain::records::PersonInput {
                    family_name: "ベンチ".into(),
                    given_name: "母".into(),
                    family_name_kana: "べんち".into(),
                    given_name_kana: kana,
                    birth_date: None,
                },
                ..NotificationInput::default()
            };
            ImportFamily { notification: input.check(today).unwrap(), babies: vec![], settled_through: None }
        })
        .collect();
    let ids: Vec<_> = store.import_families(&ctx, &families).await.unwrap().into_iter().map(|r| r.unwrap()).collect();
    // One family account each, the password hashed once.
    let hash = tsunagu_web::base::auth::hash_password(PASSWORD).unwrap();
    for (i, f) in ids.iter().enumerate() {
        store
            .create_account(
                None,
                &NewAccount {
                    municipality_id: m.id,
                    username: format!("family{i}"),
                    display_name: format!("family {i}"),
                    role: Role::FamilyMember,
                    password_hash: hash.clone(),
                    totp_secret: None,
                    family_id: Some(*f),
                    family_relation: Some(FamilyRelation::Mother),
                    areas: vec![],
                    venues: vec![],
                    rooms: vec![],
                    created_at: clock.now(),
                },
            )
            .await
            .unwrap();
    }
    let base = common::serve(store.clone(), clock.clone()).await;
    let client = reqwest::Client::new();
    let mut tokens = Vec::with_capacity(ids.len());
    for i in 0..ids.len() {
        let v: serde_json::Value = client
            .post(format!("{base}/api/v1/auth/token"))
            .json(
                &serde_json::json!({"municipality": "131121", "username": format!("family{i}"), "password": PASSWORD}),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        tokens.push(v["token"].as_str().expect("a family's token").to_owned());
    }
    let tokens = Arc::new(tokens);

    println!(
        "| backend | clients | shape | bookings | bookings/s | p50 ms | p99 ms | raw insert tx/s | bookings ÷ raw |"
    );
    println!("|---|---:|---|---:|---:|---:|---:|---:|---:|");
    let day = today.saturating_add(jiff::Span::new().days(30));
    let mut all_sessions = vec![];
    for &clients in &a.clients {
        let raw = raw_rate(&url, clients).await;
        let new = |n: usize| {
            (0..n)
                .map(|_| NewSession {
                    venue_id: hall.id,
                    day,
                    starts: jiff::civil::Time::constant(10, 0, 0, 0),
                    minutes: 120,
                    capacity: CAPACITY,
                })
                .collect::<Vec<_>>()
        };
        let one = store.create_class_sessions(m.id, programme.id, &new(1)).await.unwrap();
        let many = store.create_class_sessions(m.id, programme.id, &new(SPREAD_SESSIONS)).await.unwrap();
        let contended = one[0];
        let (rate, p50, p99) = round(&base, &tokens, clients, &format!("one-{clients}"), |_| contended).await;
        println!(
            "| {} | {clients} | contended (1 × {CAPACITY}) | {} | {rate:.0} | {:.1} | {:.1} | {raw:.0} | {:.3} |",
            a.backend,
            tokens.len(),
            p50 / 1000.0,
            p99 / 1000.0,
            rate / raw
        );
        let spread = many.clone();
        let (rate, p50, p99) =
            round(&base, &tokens, clients, &format!("many-{clients}"), move |i| spread[i % SPREAD_SESSIONS]).await;
        println!(
            "| {} | {clients} | spread ({SPREAD_SESSIONS} × {CAPACITY}) | {} | {rate:.0} | {:.1} | {:.1} | {raw:.0} | {:.3} |",
            a.backend,
            tokens.len(),
            p50 / 1000.0,
            p99 / 1000.0,
            rate / raw
        );
        all_sessions.extend(one);
        all_sessions.extend(many);
    }
    // Nothing over its places; nobody twice on a session.
    for s in &all_sessions {
        let session = store.class_session(m.id, *s).await.unwrap().unwrap();
        assert!(session.taken <= session.capacity, "session {s} holds {} of {}", session.taken, session.capacity);
        let roster = store.class_roster(&ctx, *s).await.unwrap();
        let confirmed: Vec<_> = roster
            .iter()
            .filter(|r| r.booking.status == ClassBookingStatus::Confirmed)
            .map(|r| r.booking.family_id)
            .collect();
        assert_eq!(confirmed.len() as u32, session.taken, "session {s}: its count is its roster");
        let mut unique = confirmed.clone();
        unique.sort_by_key(|f| f.0);
        unique.dedup();
        assert_eq!(unique.len(), confirmed.len(), "session {s}: a family twice");
    }
    println!("checked: {} sessions, none over capacity, nobody twice", all_sessions.len());
}
