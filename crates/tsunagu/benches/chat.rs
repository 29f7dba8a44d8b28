//! The chat's real time on loopback (issue #13), next to a bare axum
//! WebSocket echo server measured in the same process and run.
//!
//! ```sh
//! cargo bench -p tsunagu --bench chat -- --backend sqlite
//! TSUNAGU_BENCH_PG_URL=postgres://tsunagu@127.0.0.1:55432/postgres \
//!   cargo bench -p tsunagu --bench chat -- --backend postgres
//! ```
//!
//! A fresh database with the demo data and 200 more parents, each with a
//! room; the real service in this process on a loopback port. Then:
//! 1. memory: this process's RSS (`/proc/self/status`, `VmRSS`) before and
//!    after 1,000 signed-in WebSocket connections (five per room) sit idle
//!    for a few seconds — the server and the client side both live in this
//!    process, so the figure is an upper bound of the server's share; the
//!    echo server's 1,000 idle connections are measured the same way;
//! 2. latency: 100 messages a second for 10 s across the 200 rooms, each
//!    posted on one socket of its room and timed until a second socket of
//!    the room receives it (stored, numbered, woken, read, sent); the echo
//!    server's round trip at the same rate;
//! 3. throughput: 200 rooms each posting its next message as soon as the
//!    previous one arrived, for 5 s; the echo server the same way.
//!
//! Bounded in count and time; loopback only; stops by itself.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::extract::ws::{Message as AxMessage, WebSocketUpgrade};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tsunagu_domain::audit::Requester;
use tsunagu_domain::clock::{Clock, SystemClock};
use tsunagu_domain::policy::FamilyFilter;
use tsunagu_domain::roles::Role;
use tsunagu_domain::AccountId;
use tsunagu_store::NewAccount;

const ROOMS: usize = 200;
const SOCKETS_PER_ROOM: usize = 5;
const RATE_PER_SEC: u64 = 100;
const LATENCY_SECS: u64 = 10;
const THROUGHPUT_SECS: u64 = 5;
const PASSPHRASE: &str = "bench passphrase long enough";

type Sink = futures_util::stream::SplitSink<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    Message,
>;

fn rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines().find(|l| l.starts_with("VmRSS:")).unwrap().split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    common::percentile(sorted, p) / 1000.0
}

/// Arrivals a reader saw: client id → when.
type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;

/// Opens a socket; a task drains it, noting the arrival of messages whose
/// client id starts with `bench-` (only when `note` is set) and passing
/// their ids on `tx`.
async fn open(
    url: &str,
    token: Option<&str>,
    note: Option<(Arrivals, mpsc::UnboundedSender<String>)>,
    echo: bool,
) -> Sink {
    let mut req = url.into_client_request().unwrap();
    if let Some(t) = token {
        req.headers_mut().insert("authorization", format!("Bearer {t}").parse().unwrap());
    }
    let (ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let (sink, mut stream) = ws.split();
    tokio::spawn(async move {
        while let Some(Ok(m)) = stream.next().await {
            let Some((arrivals, tx)) = &note else { continue };
            let Message::Text(t) = m else { continue };
            let id = if echo {
                t.as_str().to_owned()
            } else {
                let v: Value = serde_json::from_str(t.as_str()).unwrap_or(Value::Null);
                if v["type"] != "message" {
                    continue;
                }
                v["message"]["client_id"].as_str().unwrap_or("").to_owned()
            };
            if id.starts_with("bench-") {
                arrivals.lock().unwrap().insert(id.clone(), Instant::now());
                let _ = tx.send(id);
            }
        }
    });
    sink
}

fn frame(id: &str, echo: bool) -> Message {
    if echo {
        Message::Text(id.to_owned().into())
    } else {
        Message::Text(json!({"type": "send", "client_id": id, "body": "ねむれない夜です"}).to_string().into())
    }
}

struct Pairs {
    posters: Vec<Sink>,
    arrivals: Vec<Arrivals>,
    delivered: Vec<mpsc::UnboundedReceiver<String>>,
}

/// Open-loop latency at `RATE_PER_SEC`, then closed-loop throughput.
async fn run(p: &mut Pairs, echo: bool, tag: &str) -> (f64, f64, f64, usize) {
    let n = p.posters.len();
    let mut sent: HashMap<String, (usize, Instant)> = HashMap::new();
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / RATE_PER_SEC));
    let total = (RATE_PER_SEC * LATENCY_SECS) as usize;
    for i in 0..total {
        tick.tick().await;
        let id = format!("bench-{tag}-l{i}");
        sent.insert(id.clone(), (i % n, Instant::now()));
        p.posters[i % n].send(frame(&id, echo)).await.unwrap();
    }
    // Wait (at most 60 s) for every message to arrive.
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let arrived: usize = p.arrivals.iter().map(|a| a.lock().unwrap().len()).sum();
        if arrived >= total {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut lat: Vec<Duration> = Vec::with_capacity(total);
    for (id, (room, at)) in &sent {
        if let Some(got) = p.arrivals[*room].lock().unwrap().get(id) {
            lat.push(got.duration_since(*at));
        }
    }
    assert_eq!(lat.len(), total, "every message arrived within a minute");
    lat.sort();
    for rx in &mut p.delivered {
        while rx.try_recv().is_ok() {}
    }
    // Closed loop: each pair posts its next message once the last arrived.
    let stop = Instant::now() + Duration::from_secs(THROUGHPUT_SECS);
    let started = Instant::now();
    let mut tasks = vec![];
    let posters = std::mem::take(&mut p.posters);
    let delivered = std::mem::take(&mut p.delivered);
    for (i, (mut sink, mut rx)) in posters.into_iter().zip(delivered).enumerate() {
        let tag = tag.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut count = 0usize;
            while Instant::now() < stop {
                let id = format!("bench-{tag}-t{i}-{count}");
                sink.send(frame(&id, echo)).await.unwrap();
                // Counted only once it arrived (a minute at most).
                let arrived = tokio::time::timeout(Duration::from_secs(60), async {
                    while let Some(got) = rx.recv().await {
                        if got == id {
                            return true;
                        }
                    }
                    false
                })
                .await;
                if arrived != Ok(true) {
                    break;
                }
                count += 1;
            }
            (sink, rx, count)
        }));
    }
    let mut done = 0;
    for t in tasks {
        let (sink, rx, count) = t.await.unwrap();
        p.posters.push(sink);
        p.delivered.push(rx);
        done += count;
    }
    let per_sec = done as f64 / started.elapsed().as_secs_f64();
    (pct(&lat, 0.5), pct(&lat, 0.99), per_sec, total)
}

#[tokio::main]
async fn main() {
    let a = common::args(0);
    let url = common::fresh_db(&a.backend, ROOMS).await;
    let keys = tsunagu_store::StoreKeys::derive(&tsunagu_domain::keys::MasterKey::from_bytes(&[7; 32]).unwrap());
    let store = tsunagu::open_store(&url, keys).await.unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let hash = |p: &str| tsunagu_web::base::auth::hash_password(p).unwrap();
    let opts = tsunagu_demo::DemoOptions {
        families_per_municipality: ROOMS + 20,
        seed: 7,
        today: clock.today(),
        now: clock.now(),
    };
    tsunagu_demo::load(store.as_ref(), &opts, &hash).await.unwrap();

    // 200 parents, each joined with an invitation to one family: a room each.
    let code = tsunagu_domain::municipality::MunicipalityCode::parse("131121").unwrap();
    let m = store.municipality_by_code(code).await.unwrap().unwrap().id;
    let ctx = Requester {
        municipality_id: m,
        actor: AccountId(1),
        role: Role::Nurse,
        remote_addr: "bench".into(),
        reason: "bench".into(),
        at: clock.now(),
    }
    .without_a_policy_decision();
    let families = store.search_families(&ctx, &FamilyFilter::Municipality(m), "", 1000).await.unwrap();
    assert!(families.len() >= ROOMS);
    let pw = hash(PASSPHRASE);
    let expires = clock.now().checked_add(jiff::SignedDuration::from_hours(24)).unwrap();
    let mut rooms = vec![];
    for (i, f) in families.iter().take(ROOMS).enumerate() {
        let h = tsunagu_domain::chat::invitations::code_hash(&format!("BENCH{i:05}"));
        store.issue_invitation(&ctx, f.family_id, &h, expires).await.unwrap();
        let account = NewAccount {
            municipality_id: m,
            username: format!("bench{i}"),
            display_name: format!("ベンチ{i}"),
            role: Role::ChatParent,
            password_hash: pw.clone(),
            totp_secret: None,
            family_id: None,
            family_relation: None,
            areas: vec![],
            venues: vec![],
            rooms: vec![],
            created_at: clock.now(),
        };
        rooms.push(store.join_chat(m, &h, &account, clock.now()).await.unwrap().1);
    }
    let base = common::serve(store.clone(), clock.clone()).await;
    let ws_base = base.replace("http://", "ws://");
    let client = reqwest::Client::new();
    let mut tokens = vec![];
    for i in 0..ROOMS {
        let v: Value = client
            .post(format!("{base}/api/v1/auth/token"))
            .json(&json!({"municipality": "131121", "username": format!("bench{i}"), "password": PASSPHRASE}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        tokens.push(v["token"].as_str().expect("signed in").to_owned());
    }

    // 1. tsunagu: 1,000 idle sockets (five per room).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_before = rss_kib();
    let mut pairs = Pairs { posters: vec![], arrivals: vec![], delivered: vec![] };
    let mut idle = vec![];
    for (i, room) in rooms.iter().enumerate() {
        let u = format!("{ws_base}/chat/rooms/{}/ws?after=0", room.0);
        let arrivals: Arrivals = Arc::default();
        let (tx, rx) = mpsc::unbounded_channel();
        pairs.posters.push(open(&u, Some(&tokens[i]), None, false).await);
        idle.push(open(&u, Some(&tokens[i]), Some((arrivals.clone(), tx)), false).await);
        pairs.arrivals.push(arrivals);
        pairs.delivered.push(rx);
        for _ in 2..SOCKETS_PER_ROOM {
            idle.push(open(&u, Some(&tokens[i]), None, false).await);
        }
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let rss_tsunagu = rss_kib().saturating_sub(rss_before);
    let (t50, t99, tput, n) = run(&mut pairs, false, "t").await;
    let sockets = pairs.posters.len() + idle.len();
    drop(pairs);
    drop(idle);

    // The same with the bare echo server.
    let echo = axum::Router::new().route(
        "/echo",
        axum::routing::get(|up: WebSocketUpgrade| async move {
            up.on_upgrade(|mut s| async move {
                while let Some(Ok(m)) = s.recv().await {
                    if let AxMessage::Text(t) = m {
                        if s.send(AxMessage::Text(t)).await.is_err() {
                            return;
                        }
                    }
                }
            })
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let echo_addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, echo).await.unwrap() });
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_before_echo = rss_kib();
    let eu = format!("ws://{echo_addr}/echo");
    let mut epairs = Pairs { posters: vec![], arrivals: vec![], delivered: vec![] };
    let mut eidle = vec![];
    for _ in 0..ROOMS {
        let arrivals: Arrivals = Arc::default();
        let (tx, rx) = mpsc::unbounded_channel();
        epairs.posters.push(open(&eu, None, Some((arrivals.clone(), tx)), true).await);
        epairs.arrivals.push(arrivals);
        epairs.delivered.push(rx);
        for _ in 1..SOCKETS_PER_ROOM {
            eidle.push(open(&eu, None, None, true).await);
        }
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let rss_echo = rss_kib().saturating_sub(rss_before_echo);
    let (e50, e99, etput, _) = run(&mut epairs, true, "e").await;
    let esockets = epairs.posters.len() + eidle.len();

    println!(
        "| backend | server | idle sockets | RSS above idle MiB | messages | p50 ms | p99 ms | throughput msg/s |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | tsunagu chat (poster → receiver) | {sockets} | {:.1} | {n} | {t50:.2} | {t99:.2} | {tput:.0} |",
        a.backend,
        rss_tsunagu as f64 / 1024.0
    );
    println!(
        "| {} | bare axum echo (round trip) | {esockets} | {:.1} | {n} | {e50:.2} | {e99:.2} | {etput:.0} |",
        a.backend,
        rss_echo as f64 / 1024.0
    );
    println!("throughput ratio tsunagu ÷ echo: {:.2}", tput / etput);
}
