//! The chat's real time on loopback (issue #13): the real `tsunagu serve`
//! binary as a child process, next to a bare axum WebSocket echo server —
//! this bench's own binary run again as a child (`--echo-server`) — measured
//! in the same run with the same client.
//!
//! ```sh
//! cargo bench -p tsunagu --bench chat -- --backend sqlite
//! TSUNAGU_BENCH_PG_URL=postgres://tsunagu@127.0.0.1:55432/postgres \
//!   cargo bench -p tsunagu --bench chat -- --backend postgres
//! cargo bench -p tsunagu --bench chat --profile dev -- --backend sqlite --small   # a smoke run
//! ```
//!
//! A fresh database with the demo data and 200 more parents, each with a
//! room, prepared by this process, which then lets go of it; `tsunagu serve`
//! is started on it on a loopback port (its own key file, as a node). Then:
//! 1. memory: the server's RSS (`/proc/<pid>/status`, `VmRSS`, the child's
//!    own — no client in it) once signed in and idle, and again with 1,000
//!    signed-in WebSocket connections (five per room) idle for a few
//!    seconds; the echo server's the same way;
//! 2. latency: 100 messages a second for 10 s across the 200 rooms, each
//!    posted on one socket of its room and timed until a second socket of
//!    the room receives it (stored, numbered, woken, read, sent); the echo
//!    server's round trip at the same rate;
//! 3. throughput: 200 rooms each posting its next message as soon as the
//!    previous one arrived, for 5 s; the echo server the same way, sent the
//!    same `send` frames (the same size, read back by the same client code);
//!    then once more with bare client ids as frames, as its runs before
//!    2026-12-06 11:30 UTC were. Printed besides: the CPU the server and
//!    this process (the client) used a message in the phase
//!    (`/proc/<pid>/stat`), and how many posts each of tsunagu's group
//!    commit turns carried (its metrics, `--metrics-listen`);
//! 4. the same echo process as a bare relay (`/room/{n}`: every text frame
//!    to every socket of the room, the sender's included; nothing stored,
//!    numbered, audited or checked) with rooms of five sockets, latency and
//!    throughput as for the chat: the frames the chat moves for a message
//!    (one in; one to each socket of the room, the poster's being its
//!    `ack`), with none of its work.
//!
//! `--small`: 10 rooms, 20 messages a second for 2 s, 2 s of throughput (a
//! smoke run of the bench itself, not a measure).
//!
//! Bounded in count and time; loopback only; the children are killed at the
//! end (and when this process panics).

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

const SOCKETS_PER_ROOM: usize = 5;

/// How much load: the full run, or a smoke run (`--small`).
#[derive(Clone, Copy)]
struct Plan {
    rooms: usize,
    rate_per_sec: u64,
    latency_secs: u64,
    throughput_secs: u64,
}

const FULL: Plan = Plan { rooms: 200, rate_per_sec: 100, latency_secs: 10, throughput_secs: 5 };
const SMALL: Plan = Plan { rooms: 10, rate_per_sec: 20, latency_secs: 2, throughput_secs: 2 };
const PASSPHRASE: &str = "bench passphrase long enough";

type Sink = futures_util::stream::SplitSink<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    Message,
>;

/// A process's resident memory in KiB (`VmRSS` of `/proc/<pid>/status`).
fn rss_kib(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    s.lines().find(|l| l.starts_with("VmRSS:")).unwrap().split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A child process killed when dropped (also when the bench panics).
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `cmd` with its stdout piped; returns it once, for each of
/// `prefixes`, a line of its output started with it, with the rest of each
/// such line (an address), in the order of `prefixes`.
fn start(mut cmd: std::process::Command, prefixes: &'static [&'static str]) -> (Child, Vec<String>) {
    use std::io::BufRead;
    let mut child = cmd.stdout(std::process::Stdio::piped()).spawn().unwrap();
    let out = std::io::BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in out.lines().map_while(Result::ok) {
            for (i, prefix) in prefixes.iter().enumerate() {
                if let Some(rest) = line.strip_prefix(prefix) {
                    let _ = tx.send((i, rest.trim().trim_end_matches('/').to_owned()));
                }
            }
        }
    });
    let child = Child(child);
    let mut found = vec![String::new(); prefixes.len()];
    for _ in prefixes {
        let (i, addr) = rx.recv_timeout(Duration::from_secs(120)).expect("the child did not start");
        found[i] = addr;
    }
    (child, found)
}

/// CPU time a process has used (user + system, all its threads), in seconds
/// (`/proc/<pid>/stat`, in clock ticks of 1/100 s).
fn cpu_secs(pid: u32) -> f64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the command's name (which is in parentheses).
    let rest = &s[s.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

/// The chat posts' group commit as the server's metrics tell it: turns,
/// posts, and the turns at or under each size bound (cumulative).
#[derive(Default, Clone)]
struct Turns {
    turns: u64,
    posts: u64,
    le: Vec<(String, u64)>,
}

async fn turns(client: &reqwest::Client, metrics_url: &str) -> Turns {
    let text = client.get(metrics_url).send().await.unwrap().text().await.unwrap();
    let mut t = Turns::default();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("tsunagu_db_group_commit_turn_size_") else { continue };
        let Some((name, value)) = rest.rsplit_once(' ') else { continue };
        if !name.contains("batcher=\"chat_posts\"") {
            continue;
        }
        let value: u64 = value.parse().unwrap();
        if name.starts_with("sum") {
            t.posts = value;
        } else if name.starts_with("count") {
            t.turns = value;
        } else if let Some((_, le)) = name.split_once("le=\"") {
            t.le.push((le.trim_end_matches("\"}").to_owned(), value));
        }
    }
    t
}

/// What the throughput phase cost: the turns it took (after − before).
fn turns_between(before: &Turns, after: &Turns) -> String {
    let turns = after.turns - before.turns;
    let posts = after.posts - before.posts;
    let mut dist = vec![];
    let mut prev = 0;
    for ((le, a), (_, b)) in after.le.iter().zip(&before.le) {
        let cum = a - b;
        if cum > prev {
            dist.push(format!("≤{le}: {}", cum - prev));
        }
        prev = cum;
    }
    format!(
        "{turns} turns, {posts} posts, {:.1} posts a turn; turns by size: {}",
        posts as f64 / turns.max(1) as f64,
        dist.join(", ")
    )
}

/// A bare relay's rooms: room number → its sockets' channel.
type RelayRooms = Arc<Mutex<HashMap<u32, tokio::sync::broadcast::Sender<axum::extract::ws::Utf8Bytes>>>>;

/// The bare echo server (run as this bench's child): on `/echo` every text
/// frame back; on `/room/{n}` every text frame to every socket of room `n`,
/// its sender's included — a relay with nothing stored, numbered, audited or
/// checked, so that it moves the frames the chat moves for a room (one in,
/// one to each socket of the room).
async fn echo_server() {
    let rooms: RelayRooms = Arc::default();
    let echo = axum::Router::new()
        .route(
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
        )
        .route(
            "/room/{n}",
            axum::routing::get(
                |up: WebSocketUpgrade,
                 axum::extract::Path(n): axum::extract::Path<u32>,
                 axum::extract::State(rooms): axum::extract::State<RelayRooms>| async move {
                    let tx = rooms
                        .lock()
                        .unwrap()
                        .entry(n)
                        .or_insert_with(|| tokio::sync::broadcast::channel(1024).0)
                        .clone();
                    up.on_upgrade(move |s| async move {
                        let (mut sink, mut stream) = s.split();
                        let mut rx = tx.subscribe();
                        let forward = tokio::spawn(async move {
                            while let Ok(t) = rx.recv().await {
                                if sink.send(AxMessage::Text(t)).await.is_err() {
                                    return;
                                }
                            }
                        });
                        while let Some(Ok(m)) = stream.next().await {
                            if let AxMessage::Text(t) = m {
                                let _ = tx.send(t);
                            }
                        }
                        forward.abort();
                    })
                },
            ),
        )
        .with_state(rooms);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("echo is listening on {}", listener.local_addr().unwrap());
    axum::serve(listener, echo).await.unwrap();
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    common::percentile(sorted, p) / 1000.0
}

/// Arrivals a reader saw: client id → when.
type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;

/// Opens a socket; a task drains it, noting the arrival of messages whose
/// client id starts with `bench-` (only when `note` is set) and passing
/// their ids on `tx`.
async fn open(url: &str, token: Option<&str>, note: Option<(Arrivals, mpsc::UnboundedSender<String>)>) -> Sink {
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
            let text = t.as_str();
            let id = if text.starts_with("bench-") {
                // The echo of a bare id (`Frames::BareId`).
                text.to_owned()
            } else {
                // Only what the client needs of the frame (no tree of values):
                // the chat's message, or the echo of the frame the client sent.
                match serde_json::from_str::<Incoming>(text) {
                    Ok(Incoming { kind: "message", message: Some(m), .. }) => m.client_id.to_owned(),
                    Ok(Incoming { kind: "send", client_id: Some(id), .. }) => id.to_owned(),
                    _ => continue,
                }
            };
            if id.starts_with("bench-") {
                arrivals.lock().unwrap().insert(id.clone(), Instant::now());
                let _ = tx.send(id);
            }
        }
    });
    sink
}

/// A frame the chat sends, as far as the client reads it.
#[derive(serde::Deserialize)]
struct Incoming<'a> {
    #[serde(rename = "type", borrow)]
    kind: &'a str,
    #[serde(borrow)]
    message: Option<IncomingMessage<'a>>,
    /// The echo of a `send` frame.
    #[serde(borrow)]
    client_id: Option<&'a str>,
}

#[derive(serde::Deserialize)]
struct IncomingMessage<'a> {
    #[serde(borrow)]
    client_id: &'a str,
}

/// What the client sends: the chat's `send` frame (to the chat, and to the
/// echo server — the same message, the same size), or, as the echo's runs
/// before 2026-12-06 11:30 UTC did, the bare client id.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Frames {
    Send,
    BareId,
}

fn frame(id: &str, frames: Frames) -> Message {
    match frames {
        Frames::BareId => Message::Text(id.to_owned().into()),
        Frames::Send => {
            Message::Text(json!({"type": "send", "client_id": id, "body": "ねむれない夜です"}).to_string().into())
        }
    }
}

/// Opens a room's sockets: its poster, a reader noting arrivals, and the
/// rest idle (the chat's rooms and the relay's alike).
async fn open_room(url: &str, token: Option<&str>, pairs: &mut Pairs, idle: &mut Vec<Sink>) {
    let arrivals: Arrivals = Arc::default();
    let (tx, rx) = mpsc::unbounded_channel();
    pairs.posters.push(open(url, token, None).await);
    idle.push(open(url, token, Some((arrivals.clone(), tx))).await);
    pairs.arrivals.push(arrivals);
    pairs.delivered.push(rx);
    for _ in 2..SOCKETS_PER_ROOM {
        idle.push(open(url, token, None).await);
    }
}

struct Pairs {
    posters: Vec<Sink>,
    arrivals: Vec<Arrivals>,
    delivered: Vec<mpsc::UnboundedReceiver<String>>,
}

/// Open-loop latency at the plan's rate: (p50 ms, p99 ms, messages).
async fn latency(p: &mut Pairs, frames: Frames, tag: &str, plan: Plan) -> (f64, f64, usize) {
    let n = p.posters.len();
    let mut sent: HashMap<String, (usize, Instant)> = HashMap::new();
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / plan.rate_per_sec));
    let total = (plan.rate_per_sec * plan.latency_secs) as usize;
    for i in 0..total {
        tick.tick().await;
        let id = format!("bench-{tag}-l{i}");
        sent.insert(id.clone(), (i % n, Instant::now()));
        p.posters[i % n].send(frame(&id, frames)).await.unwrap();
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
    (pct(&lat, 0.5), pct(&lat, 0.99), total)
}

/// What the throughput phase measured: messages a second, and the CPU
/// seconds the server and this process (the client) used meanwhile.
struct Throughput {
    per_sec: f64,
    messages: usize,
    server_cpu: f64,
    client_cpu: f64,
}

/// Closed-loop throughput: each pair posts its next message once the last arrived.
async fn throughput(p: &mut Pairs, frames: Frames, tag: &str, plan: Plan, server_pid: u32) -> Throughput {
    let cpu = (cpu_secs(server_pid), cpu_secs(std::process::id()));
    let stop = Instant::now() + Duration::from_secs(plan.throughput_secs);
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
                sink.send(frame(&id, frames)).await.unwrap();
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
    Throughput {
        per_sec,
        messages: done,
        server_cpu: cpu_secs(server_pid) - cpu.0,
        client_cpu: cpu_secs(std::process::id()) - cpu.1,
    }
}

/// The CPU a phase used per message, in microseconds.
fn per_message(t: &Throughput) -> String {
    let us = |s: f64| s * 1e6 / t.messages.max(1) as f64;
    format!(
        "{} messages, server {:.0} µs CPU a message, client {:.0} µs",
        t.messages,
        us(t.server_cpu),
        us(t.client_cpu)
    )
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--echo-server") {
        return echo_server().await;
    }
    let a = common::args(0);
    let plan = if std::env::args().any(|a| a == "--small") { SMALL } else { FULL };
    let rooms_n = plan.rooms;
    let url = common::fresh_db(&a.backend, rooms_n).await;
    // The node's files: its key (made the way `serve` makes one) and checkpoints.
    let dir = std::env::temp_dir().join(format!("tsunagu-bench-chat-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let key_file = dir.join("tsunagu.key");
    let (master, _) = tsunagu::keyfile::load_key(None, None, &key_file, true).unwrap();
    let store = tsunagu::open_store(&url, tsunagu_store::StoreKeys::derive(&master)).await.unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let hash = |p: &str| tsunagu_web::base::auth::hash_password(p).unwrap();
    let opts = tsunagu_demo::DemoOptions {
        families_per_municipality: rooms_n + 20,
        seed: 7,
        today: clock.today(),
        now: clock.now(),
        bulk_from: tsunagu_demo::BULK_LOAD_FROM,
    };
    tsunagu_demo::load(store.as_ref(), &opts, &hash).await.unwrap();

    // One parent per room, each joined with an invitation to one family.
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
    assert!(families.len() >= rooms_n);
    let pw = hash(PASSPHRASE);
    let expires = clock.now().checked_add(jiff::SignedDuration::from_hours(24)).unwrap();
    let mut rooms = vec![];
    for (i, f) in families.iter().take(rooms_n).enumerate() {
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
    drop(store);

    // The real service, a process of its own.
    let mut serve = std::process::Command::new(env!("CARGO_BIN_EXE_tsunagu"));
    serve
        .args(["serve", "--db", &url, "--addr", "127.0.0.1:0", "--shutdown-grace", "1"])
        .args(["--metrics-listen", "127.0.0.1:0"])
        .arg("--key-file")
        .arg(&key_file)
        .arg("--checkpoint-file")
        .arg(dir.join("checkpoints.jsonl"))
        .env("TSUNAGU_LOG", "warn")
        .env_remove("TSUNAGU_KEY")
        .env_remove("TSUNAGU_DEMO")
        .current_dir(&dir);
    let (server, addrs) = start(serve, &["tsunagu is listening on http://", "metrics on http://"]);
    let (addr, metrics_url) = (&addrs[0], format!("http://{}", addrs[1]));
    let base = format!("http://{addr}");
    let ws_base = format!("ws://{addr}");
    let client = reqwest::Client::new();
    let mut tokens = vec![];
    for i in 0..rooms_n {
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

    // 1. tsunagu: idle, then five sockets per room.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let server_pid = server.0.id();
    let rss_idle = rss_kib(server_pid);
    let mut pairs = Pairs { posters: vec![], arrivals: vec![], delivered: vec![] };
    let mut idle = vec![];
    for (i, room) in rooms.iter().enumerate() {
        let u = format!("{ws_base}/chat/rooms/{}/ws?after=0", room.0);
        open_room(&u, Some(&tokens[i]), &mut pairs, &mut idle).await;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let rss_sockets = rss_kib(server_pid);
    let (t50, t99, n) = latency(&mut pairs, Frames::Send, "t", plan).await;
    let turns_before = turns(&client, &metrics_url).await;
    let t = throughput(&mut pairs, Frames::Send, "t", plan, server_pid).await;
    let turns_after = turns(&client, &metrics_url).await;
    let tput = t.per_sec;
    let sockets = pairs.posters.len() + idle.len();
    drop(pairs);
    drop(idle);
    drop(server);

    // 2. The bare echo server, a process of its own too.
    let mut echo_cmd = std::process::Command::new(std::env::current_exe().unwrap());
    echo_cmd.arg("--echo-server");
    let (echo, echo_addr) = start(echo_cmd, &["echo is listening on "]);
    let echo_addr = &echo_addr[0];
    tokio::time::sleep(Duration::from_secs(2)).await;
    let echo_pid = echo.0.id();
    let erss_idle = rss_kib(echo_pid);
    let eu = format!("ws://{echo_addr}/echo");
    let mut epairs = Pairs { posters: vec![], arrivals: vec![], delivered: vec![] };
    let mut eidle = vec![];
    for _ in 0..rooms_n {
        let arrivals: Arrivals = Arc::default();
        let (tx, rx) = mpsc::unbounded_channel();
        epairs.posters.push(open(&eu, None, Some((arrivals.clone(), tx))).await);
        epairs.arrivals.push(arrivals);
        epairs.delivered.push(rx);
        for _ in 1..SOCKETS_PER_ROOM {
            eidle.push(open(&eu, None, None).await);
        }
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let erss_sockets = rss_kib(echo_pid);
    let (e50, e99, _) = latency(&mut epairs, Frames::Send, "e", plan).await;
    let et = throughput(&mut epairs, Frames::Send, "e", plan, echo_pid).await;
    let etput = et.per_sec;
    // The echo as measured before (bare ids, smaller frames): for comparison with earlier runs.
    let bare = throughput(&mut epairs, Frames::BareId, "b", plan, echo_pid).await;
    let esockets = epairs.posters.len() + eidle.len();
    drop(epairs);
    drop(eidle);
    // The same process as a relay: rooms of five sockets, as the chat's.
    let rss_before_rooms = rss_kib(echo_pid);
    let mut rpairs = Pairs { posters: vec![], arrivals: vec![], delivered: vec![] };
    let mut ridle = vec![];
    for i in 0..rooms_n {
        open_room(&format!("ws://{echo_addr}/room/{i}"), None, &mut rpairs, &mut ridle).await;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let rrss_sockets = rss_kib(echo_pid);
    let (r50, r99, _) = latency(&mut rpairs, Frames::Send, "r", plan).await;
    let rt = throughput(&mut rpairs, Frames::Send, "r", plan, echo_pid).await;
    drop(rpairs);
    drop(ridle);
    drop(echo);
    let _ = std::fs::remove_dir_all(&dir);

    let mib = |k: u64| k as f64 / 1024.0;
    println!(
        "| backend | server (own process) | sockets | RSS idle MiB | RSS with sockets MiB | above idle MiB | messages | p50 ms | p99 ms | throughput msg/s |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | tsunagu serve (poster → receiver) | {sockets} | {:.1} | {:.1} | {:.1} | {n} | {t50:.2} | {t99:.2} | {tput:.0} |",
        a.backend,
        mib(rss_idle),
        mib(rss_sockets),
        mib(rss_sockets.saturating_sub(rss_idle))
    );
    println!(
        "| {} | bare axum echo (round trip) | {esockets} | {:.1} | {:.1} | {:.1} | {n} | {e50:.2} | {e99:.2} | {etput:.0} |",
        a.backend,
        mib(erss_idle),
        mib(erss_sockets),
        mib(erss_sockets.saturating_sub(erss_idle))
    );
    println!(
        "| {} | bare axum relay (poster → receiver, rooms of {SOCKETS_PER_ROOM}) | {sockets} | {:.1} | {:.1} | {:.1} | {n} | {r50:.2} | {r99:.2} | {:.0} |",
        a.backend,
        mib(rss_before_rooms),
        mib(rrss_sockets),
        mib(rrss_sockets.saturating_sub(rss_before_rooms)),
        rt.per_sec
    );
    println!("throughput ratio tsunagu ÷ echo: {:.2}", tput / etput);
    println!("throughput ratio tsunagu ÷ relay (the same frames in and out as the chat): {:.2}", tput / rt.per_sec);
    println!("throughput phase, relay: {}", per_message(&rt));
    println!("throughput phase, tsunagu: {}", per_message(&t));
    println!("throughput phase, echo: {}", per_message(&et));
    println!(
        "echo with bare client ids as frames (the runs before 2026-12-06 11:30 UTC): {:.0} msg/s ({}); ratio tsunagu ÷ it: {:.2}",
        bare.per_sec,
        per_message(&bare),
        tput / bare.per_sec
    );
    println!("tsunagu's group commit of posts in the throughput phase: {}", turns_between(&turns_before, &turns_after));
}
