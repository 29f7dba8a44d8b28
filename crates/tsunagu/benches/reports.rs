//! Benchmark of a fiscal-year report (#14) against a plain aggregate query
//! over the same rows, and how it grows with the births a municipality has.
//!
//! ```sh
//! # runnable small, unoptimised (what the suite's authors ran):
//! cargo bench -p tsunagu --bench reports --profile dev -- --backend sqlite --births 300 --requests 3
//! # a municipality of 6,000 births a year (goal ≤ 100 ms), and how it grows:
//! cargo bench -p tsunagu --bench reports -- --backend sqlite --births 1500,3000,6000
//! TSUNAGU_BENCH_PG_URL=postgres://tsunagu@127.0.0.1:55440/postgres \
//!   cargo bench -p tsunagu --bench reports -- --backend postgres --births 1500,3000,6000
//! # nation-wide: 700,000 births a year over 1,741 municipalities (goal ≤ 5 s
//! # for every municipality's report):
//! TSUNAGU_BENCH_PG_URL=… cargo bench -p tsunagu --bench reports -- --backend postgres \
//!   --births 700000 --municipalities 1741 --requests 5
//! ```
//!
//! For each number of births: a fresh database, loaded in bulk by the
//! bench's own statements (`report_rows`: `--years` fiscal years of births,
//! 2 by default, ending with the last complete one, spread unevenly over
//! `--municipalities`, 1 by default); then, in the same run, one call at a
//! time:
//!
//! - **report**: `ReportStore::report` for the last complete fiscal year of
//!   the largest municipality (every table's aggregate statement, its audit
//!   line), then the tables built and suppressed as the API does;
//! - **plain aggregate**: one `GROUP BY` over the used days the postpartum
//!   table counts and one over the done contacts the interview tables count,
//!   for the same municipality and year, on a connection of its own — the
//!   floor a report's statements stand on;
//! - with more than one municipality, **the nation**: every municipality's
//!   report, one after the other (what 1,741 municipalities reading theirs
//!   cost the database), beside the plain aggregate of each, and beside one
//!   `GROUP BY municipality` over the whole year; and **the nation-wide
//!   report** (`ReportStore::nation_report`: one statement per table over
//!   the nation, `GROUP BY municipality_id`, then every municipality's
//!   tables suppressed and the nation's totals checked, as the API does),
//!   `--requests` times, its median next to that plain nation-wide GROUP BY.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod report_rows;

use common::fresh_db;
use report_rows::Shape;
use std::time::{Duration, Instant};
use tsunagu_domain::clock::{Clock, SystemClock};
use tsunagu_domain::fiscal::FiscalYear;
use tsunagu_domain::reports::build::year_tables;
use tsunagu_domain::reports::suppression::suppress;
use tsunagu_domain::reports::{Period, ReportSettings};
use tsunagu_domain::roles::Role;
use tsunagu_domain::MunicipalityId;

struct Args {
    backend: String,
    births: Vec<i64>,
    municipalities: i64,
    years: i64,
    requests: usize,
}

fn args() -> Args {
    let mut a = Args { backend: "sqlite".into(), births: vec![6_000], municipalities: 1, years: 2, requests: 20 };
    let mut it = std::env::args().skip(1);
    let number = |x: Option<String>, what: &str| -> i64 { x.expect(what).trim().parse().expect("a number") };
    while let Some(x) = it.next() {
        match x.as_str() {
            "--backend" => a.backend = it.next().expect("--backend sqlite|postgres"),
            "--births" => {
                a.births = it
                    .next()
                    .expect("--births N[,N…]")
                    .split(',')
                    .map(|n| n.trim().parse().expect("a number"))
                    .collect()
            }
            "--municipalities" => a.municipalities = number(it.next(), "--municipalities M"),
            "--years" => a.years = number(it.next(), "--years Y"),
            "--requests" => a.requests = usize::try_from(number(it.next(), "--requests N")).unwrap(),
            _ => {} // cargo bench passes --bench
        }
    }
    a
}

fn p50_ms(mut d: Vec<Duration>) -> f64 {
    d.sort();
    common::percentile(&d, 0.5) / 1000.0
}

#[tokio::main]
async fn main() {
    let a = args();
    let clock = SystemClock;
    let year = FiscalYear::new(FiscalYear::of(clock.today()).unwrap().year() - 1).unwrap();
    let period = Period::year(year);
    let settings = ReportSettings::default();
    println!(
        "| backend | municipalities | births a year | the largest's births in {} | rows loaded | load s | report p50 ms | plain aggregate p50 ms | report ÷ aggregate | all reports s | all plain aggregates s | one nation-wide GROUP BY s | nation-wide report p50 s | nation-wide report ÷ GROUP BY |",
        year.label_en()
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &births in &a.births {
        let shape = Shape { municipalities: a.municipalities, births_per_year: births, years: a.years, last: year };
        let url = fresh_db(&a.backend, usize::try_from(births).unwrap()).await;
        let store = tsunagu::open_store(&url, bench_keys()).await.unwrap();
        let t = Instant::now();
        report_rows::load(&url, shape).await;
        let load_s = t.elapsed().as_secs_f64();
        let mut conn = connect(&url).await;
        let (largest, rows) = sizes(&mut conn, period).await;

        let report = |m: i64| {
            let store = store.clone();
            let settings = settings.clone();
            async move {
                let requester = tsunagu_domain::audit::Requester {
                    municipality_id: MunicipalityId(m),
                    actor: tsunagu_domain::AccountId(0),
                    role: Role::Analyst,
                    remote_addr: "bench".into(),
                    reason: "benchmark".into(),
                    at: SystemClock.now(),
                };
                let ctx = requester.without_a_policy_decision();
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
            }
        };
        // Once each first (a prepared statement, a pool's connection).
        std::hint::black_box(report(1).await);
        std::hint::black_box(plain_aggregate(&mut conn, Some(1), period).await);
        let mut report_times = Vec::new();
        for _ in 0..a.requests {
            let t = Instant::now();
            std::hint::black_box(report(1).await);
            report_times.push(t.elapsed());
        }
        let mut plain_times = Vec::new();
        for _ in 0..a.requests {
            let t = Instant::now();
            std::hint::black_box(plain_aggregate(&mut conn, Some(1), period).await);
            plain_times.push(t.elapsed());
        }
        let (r, p) = (p50_ms(report_times), p50_ms(plain_times));
        let (all_reports, all_plain, nation_plain, nation_report, nation_ratio) = if a.municipalities > 1 {
            let t = Instant::now();
            for m in 1..=a.municipalities {
                std::hint::black_box(report(m).await);
            }
            let all = t.elapsed().as_secs_f64();
            let t = Instant::now();
            for m in 1..=a.municipalities {
                std::hint::black_box(plain_aggregate(&mut conn, Some(m), period).await);
            }
            let plain = t.elapsed().as_secs_f64();
            let t = Instant::now();
            std::hint::black_box(plain_aggregate(&mut conn, None, period).await);
            let group_by = t.elapsed().as_secs_f64();
            let mut nation_times = Vec::new();
            for _ in 0..a.requests.max(1) {
                let t = Instant::now();
                std::hint::black_box(nation(&store, year, &settings).await);
                nation_times.push(t.elapsed());
            }
            let n = p50_ms(nation_times) / 1000.0;
            (
                format!("{all:.2}"),
                format!("{plain:.2}"),
                format!("{group_by:.2}"),
                format!("{n:.2}"),
                format!("{:.1}", n / group_by.max(1e-9)),
            )
        } else {
            ("–".into(), "–".into(), "–".into(), "–".into(), "–".into())
        };
        println!(
            "| {} | {} | {births} | {largest} | {rows} | {load_s:.1} | {r:.2} | {p:.2} | {:.1} | {all_reports} | {all_plain} | {nation_plain} | {nation_report} | {nation_ratio} |",
            a.backend,
            a.municipalities,
            r / p.max(1e-9)
        );
        drop(conn);
        drop(store);
        throw_away(&url).await;
    }
}

/// The nation-wide report as the API builds it: every municipality's
/// aggregates from one statement per table, its tables suppressed, the
/// nation's totals checked; answers the number of cells held back.
async fn nation(
    store: &std::sync::Arc<dyn tsunagu_store::Store>,
    year: FiscalYear,
    settings: &ReportSettings,
) -> usize {
    use tsunagu_domain::reports::nation::{nation_year, MunicipalityYear};
    let requester = tsunagu_domain::audit::Requester {
        municipality_id: MunicipalityId(1),
        actor: tsunagu_domain::AccountId(0),
        role: Role::Analyst,
        remote_addr: "bench".into(),
        reason: "benchmark".into(),
        at: SystemClock.now(),
    };
    let ctx = requester.without_a_policy_decision();
    let parts = store.nation_report(&ctx, year, settings.follow_up_days).await.unwrap();
    let years: Vec<MunicipalityYear> = parts
        .into_iter()
        .map(|p| MunicipalityYear {
            name_ja: p.municipality.name_ja,
            name_en: p.municipality.name_en,
            settings: p.settings.suppression,
            aggregates: p.aggregates,
        })
        .collect();
    let n = nation_year(year, &years).unwrap();
    n.tables.iter().flat_map(|t| t.cells.iter().flatten()).filter(|c| c.is_suppressed()).count()
}

/// Removes a size's database once measured (a nation's is gigabytes), unless
/// `TSUNAGU_BENCH_KEEP` asked to keep SQLite files.
async fn throw_away(url: &str) {
    use sqlx::Connection;
    match url.strip_prefix("sqlite://") {
        Some(path) if std::env::var_os("TSUNAGU_BENCH_KEEP").is_none() => {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{path}{suffix}"));
            }
        }
        Some(_) => {}
        None => {
            let (server, name) = url.rsplit_once('/').unwrap();
            let admin = std::env::var("TSUNAGU_BENCH_PG_URL").unwrap_or_else(|_| format!("{server}/postgres"));
            let mut c = sqlx::PgConnection::connect(&admin).await.unwrap();
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut c).await.unwrap();
        }
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

/// Births notified in the year in municipality 1 (the largest), and the rows
/// of the tables the report reads.
async fn sizes(c: &mut Conn, period: Period) -> (i64, i64) {
    let (first, last) = (period.dates().first().to_string(), period.dates().last().to_string());
    let rows = "SELECT (SELECT COUNT(*) FROM families) + (SELECT COUNT(*) FROM pregnancies) \
                + (SELECT COUNT(*) FROM contacts) + (SELECT COUNT(*) FROM screenings) + (SELECT COUNT(*) FROM referrals) \
                + (SELECT COUNT(*) FROM referral_events) + (SELECT COUNT(*) FROM postpartum_used_days)";
    match c {
        Conn::Sqlite(c) => {
            let births: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM pregnancies WHERE municipality_id = 1 AND notified_on BETWEEN ? AND ?",
            )
            .bind(&first)
            .bind(&last)
            .fetch_one(&mut *c)
            .await
            .unwrap();
            (births, sqlx::query_scalar(rows).fetch_one(&mut *c).await.unwrap())
        }
        Conn::Pg(c) => {
            let births: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM pregnancies WHERE municipality_id = 1 AND notified_on BETWEEN $1::date AND $2::date",
            )
            .bind(&first)
            .bind(&last)
            .fetch_one(&mut *c)
            .await
            .unwrap();
            (births, sqlx::query_scalar(rows).fetch_one(&mut *c).await.unwrap())
        }
    }
}

/// The plain aggregate over the same rows, for one municipality (or, with
/// `None`, the whole nation grouped by municipality): used days by facility
/// and service with distinct families, and done contacts by kind and form,
/// in the year.
async fn plain_aggregate(c: &mut Conn, m: Option<i64>, period: Period) -> usize {
    let (first, last) = (period.dates().first().to_string(), period.dates().last().to_string());
    // The year's instants: midnight in Japan is 15:00 UTC the day before.
    let eve = tsunagu_domain::dates::add_days(period.dates().first(), -1).unwrap();
    let (from, to) = (format!("{eve}T15:00:00.000000Z"), format!("{last}T15:00:00.000000Z"));
    let (which, group) = match m {
        Some(m) => (format!("municipality_id = {m}"), ""),
        None => ("TRUE".to_owned(), "municipality_id, "),
    };
    match c {
        Conn::Sqlite(c) => {
            let which = which.replace("TRUE", "1");
            let a = sqlx::query(&format!(
                "SELECT {group}venue_id, service, COUNT(*), COUNT(DISTINCT family_id) FROM postpartum_used_days \
                 WHERE {which} AND day >= ? AND day <= ? GROUP BY {group}venue_id, service"
            ))
            .bind(&first)
            .bind(&last)
            .fetch_all(&mut *c)
            .await
            .unwrap();
            let b = sqlx::query(&format!(
                "SELECT {group}kind, form, COUNT(*) FROM contacts WHERE {which} AND outcome = 'done' \
                 AND outcome_at >= ? AND outcome_at < ? GROUP BY {group}kind, form"
            ))
            .bind(&from)
            .bind(&to)
            .fetch_all(&mut *c)
            .await
            .unwrap();
            a.len() + b.len()
        }
        Conn::Pg(c) => {
            let a = sqlx::query(&format!(
                "SELECT {group}venue_id, service, COUNT(*), COUNT(DISTINCT family_id) FROM postpartum_used_days \
                 WHERE {which} AND day BETWEEN $1::date AND $2::date GROUP BY {group}venue_id, service"
            ))
            .bind(&first)
            .bind(&last)
            .fetch_all(&mut *c)
            .await
            .unwrap();
            let b = sqlx::query(&format!(
                "SELECT {group}kind, form, COUNT(*) FROM contacts WHERE {which} AND outcome = 'done' \
                 AND outcome_at >= $1::timestamptz AND outcome_at < $2::timestamptz GROUP BY {group}kind, form"
            ))
            .bind(&from)
            .bind(&to)
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
