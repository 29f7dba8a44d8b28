use jiff::Timestamp;
use tsunagu_demo::{load, DemoOptions};
use tsunagu_store::{Secret, Store};
use tsunagu_store_sqlite::SqliteStore;

#[tokio::test]
async fn bench() {
    let n: usize = std::env::var("DEMO_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let path = format!("/tmp/demo_bench_{}.sqlite3", std::process::id());
    let store = SqliteStore::connect(&format!("sqlite://{path}"))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let now: Timestamp = "2026-11-22T01:00:00Z".parse().unwrap();
    let opts = DemoOptions {
        families_per_municipality: n,
        seed: 1,
        ..DemoOptions::at(now)
    };
    let t = std::time::Instant::now();
    let s = load(&store, &opts, &|p: &str| Secret::new(p.to_owned()))
        .await
        .unwrap();
    eprintln!("{s:?} in {:?}", t.elapsed());
    let _ = std::fs::remove_file(&path);
}
