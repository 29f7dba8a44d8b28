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
}

pub fn args(default_requests: usize) -> Args {
    let mut a = Args { backend: "sqlite".into(), families: vec![10_000], requests: default_requests };
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
            let name = format!("tsunagu_bench_{}_{n}", std::process::id());
            let mut c = sqlx::PgConnection::connect(&url).await.expect("PostgreSQL");
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(&mut c).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut c).await.unwrap();
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
