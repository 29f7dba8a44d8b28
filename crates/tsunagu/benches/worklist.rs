//! Benchmark of the timeline's hot paths against the bare-handler ceiling,
//! and of the daily missed-marking job against the number of families.
//!
//! ```sh
//! cargo bench -p tsunagu --bench worklist -- --backend sqlite --families 100000,1000000
//! TSUNAGU_BENCH_PG_URL=postgres://tsunagu@127.0.0.1:55440/postgres \
//!   cargo bench -p tsunagu --bench worklist -- --backend postgres --families 100000
//! ```
//!
//! For each size: a fresh database; the demo generator loads N families (half
//! in each demo city) through `RecordStore::import_families`, which builds every
//! family's contacts and records most of their history as done; the service
//! runs on a loopback port; one client times, one request at a time:
//!
//! - the **ceiling**: a bare axum handler answering the bytes of a work list;
//! - a **nurse's work list**: `GET /api/v1/worklist?list=…` (her own contacts,
//!   the first page of 50, with the counts of every list, the urgent
//!   follow-ups and the audit line), cycling through the four lists;
//! - the **municipality-wide overdue count**: `GET /api/v1/worklist/counts?whose=all`.
//!
//! Then the daily job (`TimelineStore::mark_missed`) is run for the next seven days,
//! one run per day as the service does, and once more on a day already done:
//! it prints the contacts stamped and the time per run, so the cost can be
//! set against what closed that day rather than against N.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{fresh_db, measure};
use std::sync::Arc;
use std::time::Instant;
use tsunagu_domain::clock::{Clock, SystemClock};

#[tokio::main]
async fn main() {
    let a = common::args(1000);
    let mut job_rows = Vec::new();
    println!("| backend | families | contacts | load s | ceiling p50/p99 µs | work list p50/p99 µs | list ÷ ceiling (p50) | overdue count p50/p99 µs | count ÷ ceiling (p50) | overdue (city) |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &n in &a.families {
        let url = fresh_db(&a.backend, n).await;
        let store = tsunagu::open_store(&url, bench_keys()).await.unwrap();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let today = clock.today();
        let opts = tsunagu_demo::DemoOptions {
            families_per_municipality: n / 2,
            seed: 7,
            today,
            now: clock.now(),
            bulk_from: tsunagu_demo::BULK_LOAD_FROM,
        };
        let hash = |p: &str| tsunagu_web::base::auth::hash_password(p).unwrap();
        let started = Instant::now();
        let summary = tsunagu_demo::load(store.as_ref(), &opts, &hash).await.unwrap();
        let load_s = started.elapsed().as_secs_f64();

        let base = common::serve(store.clone(), clock.clone()).await;
        let client = reqwest::Client::new();
        let token = common::nurse_token(&client, &base, clock.now()).await;

        let lists = ["overdue", "due_this_week", "missed", "check_non_attendees"];
        let list_urls: Vec<String> =
            (0..a.requests).map(|i| format!("{base}/api/v1/worklist?list={}", lists[i % lists.len()])).collect();
        let count_urls: Vec<String> =
            (0..a.requests).map(|_| format!("{base}/api/v1/worklist/counts?whose=all")).collect();
        let sample = client.get(&list_urls[0]).bearer_auth(&token).send().await.unwrap().text().await.unwrap();
        let counts: serde_json::Value =
            client.get(&count_urls[0]).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        let bare_urls = common::bare(sample, a.requests).await;

        let ceiling = measure(&client, &token, &bare_urls).await;
        let list = measure(&client, &token, &list_urls).await;
        let count = measure(&client, &token, &count_urls).await;
        let contacts = contacts_in(&url).await;
        println!(
            "| {} | {} | {} | {:.1} | {:.0} / {:.0} | {:.0} / {:.0} | {:.1} | {:.0} / {:.0} | {:.1} | {} |",
            a.backend,
            summary.families,
            contacts,
            load_s,
            ceiling.p50_us,
            ceiling.p99_us,
            list.p50_us,
            list.p99_us,
            list.p50_us / ceiling.p50_us,
            count.p50_us,
            count.p99_us,
            count.p50_us / ceiling.p50_us,
            counts["counts"]["overdue"],
        );

        // The daily job: a first run catches up to today (as after a deploy;
        // on a kept database it finds the watermark of the last run), then
        // one run a day for a week, then a run on a day already done.
        let municipalities = store.municipalities().await.unwrap();
        let m = municipalities.iter().find(|m| m.code.to_string() == "131121").unwrap().id;
        let first = store.mark_missed(m, today).await.unwrap();
        let done_through = first.from.map_or(first.through, |f| f.max(first.through));
        for day in 1..=7 {
            let d = done_through.saturating_add(jiff::Span::new().days(day + 1));
            let t = Instant::now();
            let run = store.mark_missed(m, d).await.unwrap();
            job_rows.push((n, format!("+{day}"), run.marked, t.elapsed().as_secs_f64() * 1e6));
        }
        let last = done_through.saturating_add(jiff::Span::new().days(8));
        let t = Instant::now();
        let run = store.mark_missed(m, last).await.unwrap();
        job_rows.push((n, "+7 again".into(), run.marked, t.elapsed().as_secs_f64() * 1e6));
    }
    println!();
    println!("| families | day | contacts newly missed | run µs | µs per contact |");
    println!("|---:|---|---:|---:|---:|");
    for (n, day, marked, us) in job_rows {
        let per = if marked > 0 { format!("{:.0}", us / marked as f64) } else { "–".into() };
        println!("| {n} | {day} | {marked} | {us:.0} | {per} |");
    }
}

/// How many contacts the database holds (for the table; read directly).
async fn contacts_in(url: &str) -> i64 {
    use sqlx::Connection;
    if let Some(path) = url.strip_prefix("sqlite://") {
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{path}")).await.unwrap();
        sqlx::query_scalar("SELECT COUNT(*) FROM contacts").fetch_one(&mut c).await.unwrap()
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar("SELECT COUNT(*) FROM contacts").fetch_one(&mut c).await.unwrap()
    }
}

/// A fixed key: a benchmark's database is thrown away.
#[allow(clippy::unwrap_used)]
fn bench_keys() -> tsunagu_store::StoreKeys {
    tsunagu_store::StoreKeys::derive(&tsunagu_domain::keys::MasterKey::from_bytes(&[7; 32]).unwrap())
}
