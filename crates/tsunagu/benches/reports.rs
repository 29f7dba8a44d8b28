//! Benchmark of a fiscal-year report (#14) against a plain aggregate query
//! over the same rows, and how it grows with the number of families.
//!
//! ```sh
//! # runnable small (what the suite's authors ran):
//! cargo bench -p tsunagu --bench reports -- --backend sqlite --families 400 --requests 5
//! # a municipality of 6,000 births a year (goal ≤ 100 ms):
//! cargo bench -p tsunagu --bench reports -- --backend sqlite --families 12000
//! # nation-wide, 700,000 births over 1,741 municipalities (goal ≤ 5 s): a
//! # municipality of the mean size (402 births) times 1,741 reports, on a
//! # database holding the nation's rows, is what --nation times:
//! cargo bench -p tsunagu --bench reports -- --backend postgres --families 804 --nation 1741
//! ```
//!
//! For each size: a fresh database; the demo generator loads N families
//! (half in each demo city) through the same path an import takes; then, one
//! call at a time, in the same run:
//!
//! - **report**: `ReportStore::report` for the current fiscal year of the
//!   first city (every table's counts, one audit line), then the tables
//!   built and suppressed as the API does;
//! - **plain aggregate**: one `GROUP BY` over the same rows the postpartum
//!   table counts (`postpartum_used_days`) and the contacts the interview
//!   tables count — the floor a report's queries stand on.
//!
//! `--nation M` repeats the first city's report M times (each a separate
//! report, as 1,741 municipalities would each read theirs) and prints the
//! total beside M plain aggregates.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::fresh_db;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tsunagu_domain::clock::{Clock, SystemClock};
use tsunagu_domain::fiscal::FiscalYear;
use tsunagu_domain::reports::build::year_tables;
use tsunagu_domain::reports::suppression::suppress;
use tsunagu_domain::reports::{Period, ReportSettings};
use tsunagu_domain::roles::Role;

fn nation_arg() -> usize {
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        if x == "--nation" {
            return it.next().expect("--nation M").parse().expect("a number");
        }
    }
    0
}

fn p50_us(mut d: Vec<Duration>) -> f64 {
    d.sort();
    common::percentile(&d, 0.5)
}

#[tokio::main]
async fn main() {
    let a = common::args(20);
    let nation = nation_arg();
    println!("| backend | families | report p50 ms | plain aggregate p50 ms | report ÷ aggregate | nation reports | nation total s | nation aggregates s |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for &n in &a.families {
        let url = fresh_db(&a.backend, n).await;
        let store = tsunagu::open_store(&url, bench_keys()).await.unwrap();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let today = clock.today();
        let opts = tsunagu_demo::DemoOptions { families_per_municipality: n / 2, seed: 7, today, now: clock.now() };
        let hash = |p: &str| tsunagu_web::base::auth::hash_password(p).unwrap();
        tsunagu_demo::load(store.as_ref(), &opts, &hash).await.unwrap();
        let municipalities = store.municipalities().await.unwrap();
        let m = municipalities.iter().find(|m| m.code.to_string() == "131121").unwrap().id;
        let requester = tsunagu_domain::audit::Requester {
            municipality_id: m,
            actor: tsunagu_domain::AccountId(0),
            role: Role::Analyst,
            remote_addr: "bench".into(),
            reason: "benchmark".into(),
            at: clock.now(),
        };
        let ctx = requester.without_a_policy_decision();
        let period = Period::year(FiscalYear::of(today).unwrap());
        let settings = ReportSettings::default();

        let report = || async {
            let years = store.report(&ctx, &period, settings.follow_up_days).await.unwrap();
            let mut held = 0;
            for y in &years {
                for t in year_tables(y).unwrap() {
                    held += suppress(&t, &settings.suppression)
                        .cells
                        .iter()
                        .flatten()
                        .filter(|c| c.is_suppressed())
                        .count();
                }
            }
            held
        };
        let mut report_times = Vec::new();
        for _ in 0..a.requests {
            let t = Instant::now();
            std::hint::black_box(report().await);
            report_times.push(t.elapsed());
        }
        let mut conn = connect(&url).await;
        let mut plain_times = Vec::new();
        for _ in 0..a.requests {
            let t = Instant::now();
            std::hint::black_box(plain_aggregate(&mut conn, m.0, period).await);
            plain_times.push(t.elapsed());
        }
        let (r, p) = (p50_us(report_times) / 1000.0, p50_us(plain_times) / 1000.0);
        let (nation_total, nation_plain) = if nation > 0 {
            let t = Instant::now();
            for _ in 0..nation {
                std::hint::black_box(report().await);
            }
            let total = t.elapsed().as_secs_f64();
            let t = Instant::now();
            for _ in 0..nation {
                std::hint::black_box(plain_aggregate(&mut conn, m.0, period).await);
            }
            (format!("{total:.2}"), format!("{:.2}", t.elapsed().as_secs_f64()))
        } else {
            ("–".into(), "–".into())
        };
        println!(
            "| {} | {n} | {r:.2} | {p:.2} | {:.1} | {nation} | {nation_total} | {nation_plain} |",
            a.backend,
            r / p.max(1e-9)
        );
    }
}

/// A connection of its own for the plain aggregate, opened once.
enum Conn {
    Sqlite(sqlx::SqliteConnection),
    Pg(sqlx::PgConnection),
}

async fn connect(url: &str) -> Conn {
    use sqlx::Connection;
    match url.strip_prefix("sqlite://") {
        Some(path) => Conn::Sqlite(sqlx::SqliteConnection::connect(&format!("sqlite://{path}")).await.unwrap()),
        None => Conn::Pg(sqlx::PgConnection::connect(url).await.unwrap()),
    }
}

/// The plain aggregate over the same rows: used days by facility and
/// service with distinct families, and done contacts by kind and form.
async fn plain_aggregate(c: &mut Conn, m: i64, period: Period) -> usize {
    let (first, last) = (period.dates().first().to_string(), period.dates().last().to_string());
    match c {
        Conn::Sqlite(c) => {
            let a = sqlx::query(
                "SELECT venue_id, service, COUNT(*), COUNT(DISTINCT family_id) FROM postpartum_used_days \
                 WHERE municipality_id = ? AND day >= ? AND day <= ? GROUP BY venue_id, service",
            )
            .bind(m)
            .bind(&first)
            .bind(&last)
            .fetch_all(&mut *c)
            .await
            .unwrap();
            let b = sqlx::query(
                "SELECT kind, form, COUNT(*) FROM contacts WHERE municipality_id = ? AND outcome = 'done' GROUP BY kind, form",
            )
            .bind(m)
            .fetch_all(&mut *c)
            .await
            .unwrap();
            a.len() + b.len()
        }
        Conn::Pg(c) => {
            let a = sqlx::query(
                "SELECT venue_id, service, COUNT(*), COUNT(DISTINCT family_id) FROM postpartum_used_days \
                 WHERE municipality_id = $1 AND day BETWEEN $2::date AND $3::date GROUP BY venue_id, service",
            )
            .bind(m)
            .bind(&first)
            .bind(&last)
            .fetch_all(&mut *c)
            .await
            .unwrap();
            let b = sqlx::query(
                "SELECT kind, form, COUNT(*) FROM contacts WHERE municipality_id = $1 AND outcome = 'done' \
                 GROUP BY kind, form",
            )
            .bind(m)
            .fetch_all(&mut *c)
            .await
            .unwrap();
            a.len() + b.len()
        }
    }
}

/// A fixed key: a benchmark's database is thrown away.
fn bench_keys() -> tsunagu_store::StoreKeys {
    tsunagu_store::StoreKeys::derive(&tsunagu_domain::keys::MasterKey::from_bytes(&[7; 32]).unwrap())
}
