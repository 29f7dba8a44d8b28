//! Booking postpartum-care stays under contention, against the raw
//! transaction rate of the same database measured in the same run.
//!
//! ```sh
//! cargo bench -p tsunagu --bench booking -- --backend sqlite
//! TSUNAGU_BENCH_PG_URL=postgres://tsunagu@127.0.0.1:55440/postgres cargo bench -p tsunagu --bench booking -- --backend postgres
//! ```
//!
//! A facility with 15 places a day (like the municipal centre); 1,000
//! applications for stays of 1–7 days starting on random days of a 120-day
//! window (more demand than places, so the last places are contended); 8 tasks approve them at once
//! (`PostpartumStore::approve_application`: the status check, one conditional upsert
//! per day, the bookings, the audit line — all or nothing). The ceiling is 8
//! tasks each committing one-row update transactions on the same database.
//! At the end every day is checked: no more than 15 places taken.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Instant;
use tsunagu_domain::dates::DateRange;
use tsunagu_domain::postpartum::application::{ApplicationAnswers, NewApplication};
use tsunagu_domain::postpartum::calendar::{CapacityPlan, CapacityPool, FacilityCalendar, OpenDays, OpeningRules};
use tsunagu_domain::postpartum::ServiceType;
use tsunagu_domain::records::NotificationInput;
use tsunagu_domain::roles::Role;
use tsunagu_store::{Booking, ImportFamily, NewVenue, Store, StoreError};

const PLACES: u32 = 15;
const APPLICATIONS: usize = 1_000;
const TASKS: usize = 8;
const RAW_TX_PER_TASK: usize = 1_000;

struct Pick(u64);
impl Pick {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

async fn raw_rate(url: &str) -> f64 {
    // The same database, one-row UPDATE transactions from TASKS tasks.
    let started;
    let total = TASKS * RAW_TX_PER_TASK;
    if url.starts_with("sqlite") {
        use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
        use std::str::FromStr;
        // The store's own settings: WAL, synchronous=NORMAL.
        let opts = SqliteConnectOptions::from_str(url)
            .unwrap()
            .busy_timeout(std::time::Duration::from_secs(30))
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Normal);
        let pool = SqlitePoolOptions::new().max_connections(1).connect_with(opts).await.unwrap();
        sqlx::query("CREATE TABLE IF NOT EXISTS bench_counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("INSERT OR IGNORE INTO bench_counter VALUES (1, 0)").execute(&pool).await.unwrap();
        started = Instant::now();
        let mut tasks = vec![];
        for _ in 0..TASKS {
            let pool = pool.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..RAW_TX_PER_TASK {
                    let mut tx = pool.begin().await.unwrap();
                    sqlx::query("UPDATE bench_counter SET n = n + 1 WHERE id = 1").execute(&mut *tx).await.unwrap();
                    tx.commit().await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    } else {
        let pool = sqlx::postgres::PgPoolOptions::new().max_connections(16).connect(url).await.unwrap();
        sqlx::query("CREATE TABLE IF NOT EXISTS bench_counter (id INT PRIMARY KEY, n BIGINT NOT NULL)")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO bench_counter VALUES (1, 0) ON CONFLICT DO NOTHING").execute(&pool).await.unwrap();
        started = Instant::now();
        let mut tasks = vec![];
        for t in 0..TASKS {
            let pool = pool.clone();
            tasks.push(tokio::spawn(async move {
                // Each task its own row, like approvals of different days mostly are.
                sqlx::query("INSERT INTO bench_counter VALUES ($1, 0) ON CONFLICT DO NOTHING")
                    .bind(t as i32 + 2)
                    .execute(&pool)
                    .await
                    .unwrap();
                for _ in 0..RAW_TX_PER_TASK {
                    let mut tx = pool.begin().await.unwrap();
                    sqlx::query("UPDATE bench_counter SET n = n + 1 WHERE id = $1")
                        .bind(t as i32 + 2)
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    }
    total as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let mut backend = "sqlite".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--backend" {
            backend = args.next().expect("--backend sqlite|postgres");
        }
    }
    let url = match backend.as_str() {
        "sqlite" => {
            let path = std::env::temp_dir().join(format!("tsunagu-booking-{}.sqlite3", std::process::id()));
            format!("sqlite://{}", path.display())
        }
        _ => {
            use sqlx::Connection;
            let base = std::env::var("TSUNAGU_BENCH_PG_URL").expect("TSUNAGU_BENCH_PG_URL");
            let name = format!("tsunagu_booking_{}", std::process::id());
            let mut c = sqlx::PgConnection::connect(&base).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut c).await.unwrap();
            format!("{}/{name}", base.rsplit_once('/').unwrap().0)
        }
    };
    let store: Arc<dyn Store> = tsunagu::open_store(&url, bench_keys()).await.unwrap();
    let m = store
        .create_municipality(tsunagu_domain::municipality::MunicipalityCode::parse("131121").unwrap(), "区", "City")
        .await
        .unwrap();
    let area = store.create_area(m.id, "地区", "Area").await.unwrap();
    let venue = store
        .create_venue(&NewVenue {
            municipality_id: m.id,
            area_id: None,
            kind: tsunagu_domain::places::VenueKind::PostpartumFacility,
            name_ja: "施設".into(),
            name_en: "Facility".into(),
        })
        .await
        .unwrap();
    let calendar = FacilityCalendar::new(
        OpeningRules {
            days: OpenDays::EveryDay,
            annual_closures: vec![],
            closed_on_public_holidays: false,
            closures: vec![],
            opened_on: None,
        },
        vec![CapacityPool {
            services: vec![ServiceType::ShortStay],
            plan: CapacityPlan { places: PLACES, overrides: vec![] },
            from: None,
            accepts_siblings: false,
        }],
    )
    .unwrap();
    store.set_postpartum_facility(m.id, venue.id, "運営", "Operator", &calendar).await.unwrap();
    let today: jiff::civil::Date = "2026-11-22".parse().unwrap();
    let ctx = tsunagu_domain::audit::Requester {
        municipality_id: m.id,
        actor: tsunagu_domain::AccountId(1),
        role: Role::Nurse,
        remote_addr: "bench".into(),
        reason: "bench".into(),
        at: "2026-11-22T01:00:00Z".parse().unwrap(),
    }
    .without_a_policy_decision();
    // Families to apply for (their records are not read by the booking path).
    let families: Vec<ImportFamily> = (0..APPLICATIONS)
        .map(|i| {
            let kana: String = format!("{:05}", i)
                .chars()
                .map(|c| char::from_u32(0x3042 + 2 * c.to_digit(10).unwrap()).unwrap())
                .collect();
            let input = NotificationInput {
                area_id: area.id.0,
                fee_bracket: "taxed".into(),
                edd: "2027-03-01".into(),
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
    let mut pick = Pick(0x2545_F491_4F6C_DD1D);
    let mut apps = vec![];
    for f in &ids {
        let first = today.saturating_add(jiff::Span::new().days(1 + pick.below(120) as i64));
        let days = 1 + pick.below(7) as u32;
        let stay = DateRange::starting(first, days).unwrap();
        let id = store
            .create_application(
                &ctx,
                &NewApplication {
                    family_id: *f,
                    venue_id: venue.id,
                    service: ServiceType::ShortStay,
                    stay,
                    babies: 1,
                    siblings: 0,
                    answers: ApplicationAnswers::default(),
                    quote_total_yen: 0,
                    fee_to_be_confirmed: false,
                    transport_paid: false,
                    refusals: vec![],
                    override_reason: None,
                },
            )
            .await
            .unwrap();
        apps.push((id, Booking { pool: 0, places: stay.days().map(|d| (d, PLACES)).collect() }));
    }
    let raw = raw_rate(&url).await;
    // Approve everything at once from TASKS tasks.
    let apps = Arc::new(apps);
    let started = Instant::now();
    let mut tasks = vec![];
    for t in 0..TASKS {
        let (store, apps, ctx) = (store.clone(), apps.clone(), ctx.clone());
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut full) = (0u32, 0u32);
            for (id, booking) in apps.iter().skip(t).step_by(TASKS) {
                match store.approve_application(&ctx, *id, booking, "", None).await {
                    Ok(()) => ok += 1,
                    Err(StoreError::Conflict("no_capacity")) => full += 1,
                    Err(e) => panic!("{e:?}"),
                }
            }
            (ok, full)
        }));
    }
    let (mut ok, mut full) = (0, 0);
    for t in tasks {
        let (o, f) = t.await.unwrap();
        ok += o;
        full += f;
    }
    let secs = started.elapsed().as_secs_f64();
    let window = DateRange::starting(today, 140).unwrap();
    let taken = store.places_taken(m.id, venue.id, 0, window).await.unwrap();
    assert!(taken.iter().all(|(_, n)| *n <= PLACES), "a day over capacity: {taken:?}");
    let rate = APPLICATIONS as f64 / secs;
    println!("| backend | raw tx/s (ceiling) | approvals/s (1–7 days, {TASKS} tasks) | ÷ ceiling | approved | full | max places on a day |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {backend} | {raw:.0} | {rate:.0} | {:.2} | {ok} | {full} | {} |",
        rate / raw,
        taken.iter().map(|(_, n)| *n).max().unwrap_or(0)
    );
}

/// A fixed key: a benchmark's database is thrown away.
#[allow(clippy::unwrap_used)]
fn bench_keys() -> tsunagu_store::StoreKeys {
    tsunagu_store::StoreKeys::derive(&tsunagu_domain::keys::MasterKey::from_bytes(&[7; 32]).unwrap())
}
