//! HTTP benchmark of the hot read paths, against the bare-handler ceiling.
//!
//! ```sh
//! cargo bench -p tsunagu --bench http -- --backend sqlite --families 10000,100000
//! TSUNAGU_BENCH_PG_URL=postgres://tsunagu@127.0.0.1:55432/postgres \
//!   cargo bench -p tsunagu --bench http -- --backend postgres --families 10000
//! ```
//!
//! For each size: a fresh database, the demo generator loads N families
//! (half in each demo city) through `RecordStore::import_families`, the service
//! runs on a loopback port, and one client measures, one request at a
//! time: a bare axum handler answering a fixed family record (the ceiling,
//! same framework, same client, same run), "open a family record"
//! (`GET /api/v1/families/{id}`, authorized, audited), and "kana search"
//! (`GET /api/v1/families?q=<family-name kana>`). It prints a Markdown row
//! per size; ratios are against the ceiling of the same run. `--clients
//! 1,8,64` adds open record and the ceiling from that many clients at once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{fresh_db, measure, urlencode, Pick};
use std::sync::Arc;
use std::time::Instant;
use tsunagu_domain::clock::{Clock, SystemClock};

#[tokio::main]
async fn main() {
    let a = common::args(2000);
    println!("| backend | families | load s | families/s | ceiling p50/p99 µs | open record p50/p99 µs | open ÷ ceiling (p50) | kana search p50/p99 µs | search ÷ ceiling (p50) |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &n in &a.families {
        let url = fresh_db(&a.backend, n).await;
        let store = tsunagu::open_store(&url, bench_keys()).await.unwrap();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let opts = tsunagu_demo::DemoOptions {
            families_per_municipality: n / 2,
            seed: 7,
            today: clock.today(),
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

        // Setagaya's families, whose nurse signed in.
        let ids = common::family_ids(&url, "131121").await;
        let mut pick = Pick(0x9E37_79B9_7F4A_7C15);
        let open_urls: Vec<String> = (0..a.requests)
            .map(|_| format!("{base}/api/v1/families/{}", ids[pick.below(ids.len() as u64) as usize]))
            .collect();
        // Search terms: the family-name kana of the families we open, as a nurse would type them.
        let sample = client.get(&open_urls[0]).bearer_auth(&token).send().await.unwrap().text().await.unwrap();
        let mut terms = Vec::new();
        for u in open_urls.iter().take(200) {
            let v: serde_json::Value = client.get(u).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
            terms.push(v["people"][0]["family_name_kana"].as_str().unwrap_or("ア").to_owned());
        }
        let search_urls: Vec<String> = (0..a.requests)
            .map(|i| format!("{base}/api/v1/families?q={}&limit=50", urlencode(&terms[i % terms.len()])))
            .collect();

        // The ceiling: the same framework answering the same bytes without work.
        let bare_urls = common::bare(sample, a.requests).await;

        let ceiling = measure(&client, &token, &bare_urls).await;
        let open = measure(&client, &token, &open_urls).await;
        let search = measure(&client, &token, &search_urls).await;
        println!(
            "| {} | {} | {:.1} | {:.0} | {:.0} / {:.0} | {:.0} / {:.0} | {:.1} | {:.0} / {:.0} | {:.1} |",
            a.backend,
            summary.families,
            load_s,
            summary.families as f64 / load_s,
            ceiling.p50_us,
            ceiling.p99_us,
            open.p50_us,
            open.p99_us,
            open.p50_us / ceiling.p50_us,
            search.p50_us,
            search.p99_us,
            search.p50_us / ceiling.p50_us,
        );
        // Many clients at once (#16: reads' audit lines share a commit):
        // open record beside the bare handler at the same concurrency.
        for &c in &a.clients {
            let bare = common::measure_concurrent(&client, &token, &bare_urls, c).await;
            let open = common::measure_concurrent(&client, &token, &open_urls, c).await;
            println!(
                "| {} | {} | clients {c} | ceiling {:.0} req/s, p50/p99 {:.0} / {:.0} µs | open record {:.0} req/s, \
                 p50/p99 {:.0} / {:.0} µs | open ÷ ceiling (req/s) {:.2} |",
                a.backend,
                summary.families,
                bare.per_s,
                bare.p50_us,
                bare.p99_us,
                open.per_s,
                open.p50_us,
                open.p99_us,
                open.per_s / bare.per_s,
            );
        }
    }
}

/// A fixed key: a benchmark's database is thrown away.
#[allow(clippy::unwrap_used)]
fn bench_keys() -> tsunagu_store::StoreKeys {
    tsunagu_store::StoreKeys::derive(&tsunagu_domain::keys::MasterKey::from_bytes(&[7; 32]).unwrap())
}
