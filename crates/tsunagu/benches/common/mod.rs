//! What the HTTP benchmarks share: a fresh database, timing requests one at
//! a time, percentiles, a deterministic picker.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

/// The command line of the HTTP benchmarks:
/// `--backend sqlite|postgres --families N[,N…] --requests N`.
pub struct Args {
    pub backend: String,
    pub families: Vec<usize>,
    pub requests: usize,
    /// `--clients N[,N…]`: also time the requests from N clients at once
    /// (the group commit of audit lines, #16); none by default.
    pub clients: Vec<usize>,
}

pub fn args(default_requests: usize) -> Args {
    let mut a = Args { backend: "sqlite".into(), families: vec![10_000], requests: default_requests, clients: vec![] };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        match x.as_str() {
            "--backend" => a.backend = it.next().expect("--backend sqlite|postgres"),
            "--families" => {
                a.families = it
                    .next()
                    .expect("--families N[,N…]")
                    .split(',')
                    .map(|n| n.trim().parse().expect("a number"))
                    .collect()
            }
            "--requests" => a.requests = it.next().expect("--requests N").parse().expect("a number"),
            "--clients" => {
                a.clients = it
                    .next()
                    .expect("--clients N[,N…]")
                    .split(',')
                    .map(|n| n.trim().parse().expect("a number"))
                    .collect()
            }
            _ => {} // cargo bench passes --bench
        }
    }
    a
}

pub async fn fresh_db(backend: &str, n: usize) -> String {
    match backend {
        "sqlite" => {
            // TSUNAGU_BENCH_KEEP=DIR keeps the file (DIR/tsunagu-bench-N.sqlite3) and
            // reuses it on the next run: the demo loader skips a loaded database.
            if let Ok(dir) = std::env::var("TSUNAGU_BENCH_KEEP") {
                return format!("sqlite://{dir}/tsunagu-bench-{n}.sqlite3");
            }
            let path = std::env::temp_dir().join(format!("tsunagu-bench-{}-{n}.sqlite3", std::process::id()));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            format!("sqlite://{}", path.display())
        }
        "postgres" => {
            use sqlx::Connection;
            let url = std::env::var("TSUNAGU_BENCH_PG_URL").expect("TSUNAGU_BENCH_PG_URL");
            let mut c = sqlx::PgConnection::connect(&url).await.expect("PostgreSQL");
            // TSUNAGU_BENCH_KEEP (any value) keeps the database `tsunagu_bench_keep_N`
            // and reuses it on the next run, as for SQLite (#16).
            let name = if std::env::var_os("TSUNAGU_BENCH_KEEP").is_some() {
                let name = format!("tsunagu_bench_keep_{n}");
                let there: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                    .bind(&name)
                    .fetch_one(&mut c)
                    .await
                    .unwrap();
                if !there {
                    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut c).await.unwrap();
                }
                name
            } else {
                let name = format!("tsunagu_bench_{}_{n}", std::process::id());
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(&mut c).await.unwrap();
                sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut c).await.unwrap();
                name
            };
            format!("{}/{name}", url.rsplit_once('/').unwrap().0)
        }
        other => panic!("unknown backend {other}"),
    }
}

pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e6
}

pub struct Stats {
    pub p50_us: f64,
    pub p99_us: f64,
}

pub async fn measure(client: &reqwest::Client, token: &str, urls: &[String]) -> Stats {
    // Warm up, then time each request alone.
    for u in urls.iter().take(50) {
        client.get(u).bearer_auth(token).send().await.unwrap().bytes().await.unwrap();
    }
    let mut times = Vec::with_capacity(urls.len());
    for u in urls {
        let t = Instant::now();
        let r = client.get(u).bearer_auth(token).send().await.unwrap();
        assert!(r.status().is_success(), "{u}: {}", r.status());
        r.bytes().await.unwrap();
        times.push(t.elapsed());
    }
    times.sort();
    Stats { p50_us: percentile(&times, 0.5), p99_us: percentile(&times, 0.99) }
}

/// Requests a second and latency percentiles with `clients` clients at once.
pub struct Throughput {
    pub per_s: f64,
    pub p50_us: f64,
    pub p99_us: f64,
}

/// Sends `urls` from `clients` clients at once (each takes the next URL when
/// its last answer is in), after a warm-up; every answer must succeed.
pub async fn measure_concurrent(client: &reqwest::Client, token: &str, urls: &[String], clients: usize) -> Throughput {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    for u in urls.iter().take(50) {
        client.get(u).bearer_auth(token).send().await.unwrap().bytes().await.unwrap();
    }
    let urls: Arc<Vec<String>> = Arc::new(urls.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let times = Arc::new(Mutex::new(Vec::with_capacity(urls.len())));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients.max(1) {
        let (client, token, urls, next, times) =
            (client.clone(), token.to_owned(), urls.clone(), next.clone(), times.clone());
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(u) = urls.get(i) else { break };
                let t = Instant::now();
                let r = client.get(u).bearer_auth(&token).send().await.unwrap();
                assert!(r.status().is_success(), "{u}: {}", r.status());
                r.bytes().await.unwrap();
                times.lock().unwrap().push(t.elapsed());
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut times = std::mem::take(&mut *times.lock().unwrap());
    times.sort();
    Throughput {
        per_s: times.len() as f64 / elapsed,
        p50_us: percentile(&times, 0.5),
        p99_us: percentile(&times, 0.99),
    }
}

/// A tiny deterministic generator for picking ids (no dependency needed).
pub struct Pick(pub u64);
impl Pick {
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The ids of a demo municipality's families, read behind the store's back
/// (#16): a large demo load stores the municipalities side by side, so their
/// ids interleave and are no longer `1..=n` for the first city.
pub async fn family_ids(url: &str, code: &str) -> Vec<i64> {
    use sqlx::Connection;
    let sql = "SELECT f.id FROM families f JOIN municipalities m ON m.id = f.municipality_id \
               WHERE m.code = $1 ORDER BY f.id";
    let ids: Vec<i64> = if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).bind(code).fetch_all(&mut c).await.unwrap()
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).bind(code).fetch_all(&mut c).await.unwrap()
    };
    assert!(!ids.is_empty(), "no families of {code}");
    ids
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Runs the real service over `store` on a loopback port; returns its base URL.
pub async fn serve(
    store: std::sync::Arc<dyn tsunagu_store::Store>,
    clock: std::sync::Arc<dyn tsunagu_domain::clock::Clock>,
) -> String {
    let app = tsunagu_web::router(tsunagu_web::AppState::new(store, clock, tsunagu_web::WebConfig::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap();
    });
    format!("http://{addr}")
}

/// A bearer token of the demo nurse of Setagaya.
pub async fn nurse_token(client: &reqwest::Client, base: &str, now: jiff::Timestamp) -> String {
    let code = tsunagu_web::base::auth::current_totp("I2L4HB7OLFVWBJG5VFBXIZS4FHT5TSOJ", now).unwrap();
    let token: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/token"))
        .json(&serde_json::json!({"municipality": "131121", "username": "nurse", "password": "tsunagu-demo-nurse", "otp": code}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    token["token"].as_str().expect("signed in").to_owned()
}

/// A bare axum handler answering `body` with no work behind it: the ceiling.
pub async fn bare(body: String, requests: usize) -> Vec<String> {
    let bare = axum::Router::new().route(
        "/bare",
        axum::routing::get(move || {
            let body = body.clone();
            async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, bare).await.unwrap() });
    (0..requests).map(|_| format!("http://{addr}/bare")).collect()
}
