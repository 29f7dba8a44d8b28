//! Throwaway: load time into a file SQLite. Deleted after measuring.
#![allow(clippy::unwrap_used)]
use std::time::Instant;
use tsunagu_demo::{load, DemoOptions};
use tsunagu_store::{Secret, Store};
use tsunagu_store_sqlite::SqliteStore;

#[tokio::main]
async fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(20_000);
    for f in ["/tmp/x.sqlite3", "/tmp/x.sqlite3-wal", "/tmp/x.sqlite3-shm"] {
        let _ = std::fs::remove_file(f);
    }
    let store = SqliteStore::connect("sqlite:///tmp/x.sqlite3").await.unwrap();
    store.migrate().await.unwrap();
    let now: jiff::Timestamp = "2026-11-22T01:00:00Z".parse().unwrap();
    let opts = DemoOptions { families_per_municipality: n, seed: 1, ..DemoOptions::at(now) };
    let hash = |p: &str| Secret::new(format!("hashed:{p}"));
    let t = Instant::now();
    let s = load(&store, &opts, &hash).await.unwrap();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "families {} babies {} in {:.2} s = {:.0} families/s",
        s.families,
        s.babies,
        secs,
        s.families as f64 / secs
    );
}
