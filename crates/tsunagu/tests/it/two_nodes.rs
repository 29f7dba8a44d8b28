//! Two real `tsunagu serve` processes on one PostgreSQL database (#15),
//! started at the same moment on loopback: a session made on node A is
//! valid on node B; many clients booking one class session, half on each
//! node, never take more than its places; the daily timeline job, due for
//! both, runs on one node only; a chat message posted on node A reaches a
//! supporter's sockets on node B at once (the inbox socket has no polling:
//! only the `NOTIFY` can wake it); and SIGTERM closes node B's sockets with
//! 1012 "service restart" and the node exits within its grace.
//! PostgreSQL only: without `TSUNAGU_TEST_PG_URL` the test says it skipped.

use crate::store_support::{ctx, notification};
use crate::support::*;
use futures_util::StreamExt;
use jiff::civil::{date, Time};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tsunagu_domain::classes::{ProgrammeConfig, ProgrammeKind};
use tsunagu_domain::clock::{Clock, SystemClock};
use tsunagu_domain::places::VenueKind;
use tsunagu_domain::roles::Role;
use tsunagu_store::{NewSession, NewVenue, StoreKeys};

pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A real `tsunagu serve`, its log lines (JSON) collected as it writes them.
pub struct Node {
    pub child: Child,
    pub addr: SocketAddr,
    pub metrics: SocketAddr,
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Node {
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn logged(&self, needle: &str) -> usize {
        self.log.lock().unwrap().iter().filter(|l| l.contains(needle)).count()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What every node of one service shares: the database and the key (each
/// node keeps its own checkpoint file, as each machine would).
pub struct Service {
    pub db: String,
    pub key: PathBuf,
    pub dir: PathBuf,
}

/// The service's folder (key, checkpoints, logs) goes with it; its nodes,
/// made after it, are dropped (killed) before it.
impl Drop for Service {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Service {
    pub fn new(name: &str, db: String) -> Service {
        let dir = std::env::temp_dir().join(format!("tsunagu-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let key = dir.join("tsunagu.key");
        tsunagu::keyfile::load_key(None, None, &key, true).unwrap();
        Service { db, key, dir }
    }

    pub fn keys(&self) -> StoreKeys {
        let (master, _) = tsunagu::keyfile::load_key(None, None, &self.key, false).unwrap();
        StoreKeys::derive(&master)
    }

    /// Runs a command of the binary to its end; (succeeded, what it printed).
    pub fn run(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_tsunagu"))
            .args(args)
            .args(["--db", &self.db])
            .arg("--key-file")
            .arg(&self.key)
            .arg("--checkpoint-file")
            .arg(self.dir.join("cp-cli.jsonl"))
            .env("TSUNAGU_LOG", "warn")
            .env_remove("TSUNAGU_KEY")
            .current_dir(&self.dir)
            .output()
            .unwrap();
        (
            out.status.success(),
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
        )
    }

    /// Starts a node (returns once it listens); `extra` arguments after `serve`'s own.
    pub fn start(&self, name: &str, extra: &[&str]) -> Node {
        start_nodes(self, &[(name, extra)]).pop().unwrap()
    }
}

/// Starts the nodes at once (each process is spawned before any is waited for).
pub fn start_nodes(service: &Service, nodes: &[(&str, &[&str])]) -> Vec<Node> {
    let spawned: Vec<_> = nodes
        .iter()
        .map(|(name, extra)| {
            let cmd = Command::new(env!("CARGO_BIN_EXE_tsunagu"));
            spawn(service, name, cmd, extra)
        })
        .collect();
    spawned.into_iter().map(wait_listening).collect()
}

/// Starts a node through `cmd` (a wrapper that runs the binary with the
/// arguments it is given after its own).
pub fn start_command(service: &Service, name: &str, cmd: Command) -> Node {
    wait_listening(spawn(service, name, cmd, &[]))
}

type Spawned = (Child, Arc<Mutex<Vec<String>>>, std::sync::mpsc::Receiver<String>);

fn spawn(service: &Service, name: &str, mut cmd: Command, extra: &[&str]) -> Spawned {
    let mut child = cmd
        .args(["serve", "--db", &service.db, "--addr", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"])
        .arg("--key-file")
        .arg(&service.key)
        .arg("--checkpoint-file")
        .arg(service.dir.join(format!("cp-{name}.jsonl")))
        .args(["--log-format", "json"])
        .args(extra)
        .env("TSUNAGU_LOG", "info,sqlx=warn")
        .env_remove("TSUNAGU_KEY")
        .env_remove("TSUNAGU_DEMO")
        .current_dir(&service.dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let log = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let lines = log.clone();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            let _ = tx.send(line.clone());
            lines.lock().unwrap().push(line);
        }
    });
    (child, log, rx)
}

fn wait_listening((child, log, rx): Spawned) -> Node {
    let (mut public, mut metrics) = (None, None);
    while public.is_none() || metrics.is_none() {
        let line = rx.recv_timeout(Duration::from_secs(90)).expect("the node did not start");
        if let Some(a) = line.strip_prefix("tsunagu is listening on http://") {
            public = Some(a.trim_end_matches('/').parse().unwrap());
        }
        if let Some(a) = line.strip_prefix("metrics on http://") {
            metrics = Some(a.trim_end_matches("/metrics").parse().unwrap());
        }
    }
    Node { child, addr: public.unwrap(), metrics: metrics.unwrap(), log }
}

/// Waits (bounded) until `ok` holds.
pub async fn eventually<F: std::future::Future<Output = bool>>(what: &str, limit: Duration, mut ok: impl FnMut() -> F) {
    let start = Instant::now();
    while !ok().await {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn sigterm(child: &Child) {
    let ok = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success();
    assert!(ok, "kill -TERM");
}

/// A bearer token for a demo account of Setagaya, signed in on `base`.
pub async fn demo_signin(http: &reqwest::Client, base: &str, username: &str) -> String {
    let a = tsunagu_demo::demo_accounts()
        .into_iter()
        .find(|a| a.username == username && a.municipality_code == "131121")
        .expect("demo account");
    let otp = a.totp_secret.map(|s| tsunagu_web::base::auth::current_totp(s, SystemClock.now()).unwrap());
    let r = http
        .post(format!("{base}/api/v1/auth/token"))
        .json(&json!({"municipality": "131121", "username": username, "password": a.password, "otp": otp}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "sign-in of {username}");
    r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
}

pub async fn socket(addr: SocketAddr, path: &str, token: &str) -> Socket {
    let mut req = format!("ws://{addr}{path}").into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    tokio_tungstenite::connect_async(req).await.unwrap().0
}

/// The next text frame of `kind` within `limit`.
pub async fn frame_of(s: &mut Socket, kind: &str, limit: Duration) -> Value {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let m = tokio::time::timeout_at(deadline, s.next()).await.unwrap_or_else(|_| panic!("no {kind} frame in time"));
        match m {
            Some(Ok(Message::Text(t))) => {
                let v: Value = serde_json::from_str(t.as_str()).unwrap();
                if v["type"] == kind {
                    return v;
                }
            }
            Some(Ok(_)) => {}
            other => panic!("socket ended waiting for {kind}: {other:?}"),
        }
    }
}

const PLACES: u32 = 4;
const FAMILIES: usize = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_on_one_postgresql_behave_as_one_service() {
    if std::env::var("TSUNAGU_TEST_PG_URL").is_err() {
        eprintln!("two_nodes: SKIPPED — TSUNAGU_TEST_PG_URL is not set (scripts/test.sh sets it)");
        return;
    }
    let service = Service::new("two-nodes", fresh_db(Backend::Postgres).await);
    let (ok, out) = service.run(&["demo-load", "--families", "6"]);
    assert!(ok, "demo-load: {out}");

    // A class session of four places and sixteen pregnant families who may book it.
    let (session, families) = {
        let store = tsunagu::open_store(&service.db, service.keys()).await.unwrap();
        let m = store.municipalities().await.unwrap().into_iter().find(|m| m.code.to_string() == "131121").unwrap().id;
        let area = store.create_area(m, "競合", "Contention").await.unwrap().id;
        let hall = store
            .create_venue(&NewVenue {
                municipality_id: m,
                area_id: Some(area),
                kind: VenueKind::ChildrensHall,
                name_ja: "二つのノードの児童館".into(),
                name_en: "Two nodes hall".into(),
            })
            .await
            .unwrap()
            .id;
        let p = store.create_programme(m, &ProgrammeConfig::seed_default(ProgrammeKind::MaternityClass)).await.unwrap();
        let plan = [NewSession {
            venue_id: hall,
            day: date(2027, 2, 3),
            starts: Time::constant(10, 0, 0, 0),
            minutes: 90,
            capacity: PLACES,
        }];
        let session = store.create_class_sessions(m, p.id, &plan).await.unwrap()[0];
        let kana = ["ア", "イ", "ウ", "エ", "オ", "カ", "キ", "ク"];
        let mut families = vec![];
        for i in 0..FAMILIES {
            let n = notification(area, "ニノード", &format!("{}{}", kana[i % 8], kana[i / 8]));
            families.push(store.register_notification(&ctx(m, Role::Nurse), &n).await.unwrap());
        }
        (session, families)
    };

    // Both nodes at once: the daily job is due for both.
    let mut nodes = start_nodes(&service, &[("a", &[]), ("b", &["--shutdown-grace", "5"])]);
    let (a, b) = (&nodes[0], &nodes[1]);
    let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();

    // A session made on A is valid on B.
    let nurse = demo_signin(&http, &a.base(), "nurse").await;
    let on_b = http.get(format!("{}/api/v1/families?q=", b.base())).bearer_auth(&nurse).send().await.unwrap();
    assert_eq!(on_b.status(), 200, "a token made on A is honoured by B");

    // Contention: every family booked at once, half through each node.
    let mut tasks = vec![];
    for (i, f) in families.iter().enumerate() {
        let base = if i % 2 == 0 { a.base() } else { b.base() };
        let (http, nurse) = (http.clone(), nurse.clone());
        let body = json!({"session_id": session.0, "family_id": f.0, "idempotency_key": format!("two-nodes-{i}")});
        tasks.push(tokio::spawn(async move {
            let r = http.post(format!("{base}/api/v1/classes/bookings")).bearer_auth(&nurse).json(&body).send().await;
            let r = r.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }));
    }
    let (mut confirmed, mut waiting) = (0, 0);
    for t in tasks {
        let (status, v) = t.await.unwrap();
        assert!(status == 200 || status == 201, "booking answered {status}: {v}");
        match v["booking"]["status"].as_str() {
            Some("confirmed") => confirmed += 1,
            Some("waiting") => waiting += 1,
            other => panic!("booking status {other:?}: {v}"),
        }
    }
    assert_eq!((confirmed, waiting), (PLACES as usize, FAMILIES - PLACES as usize));
    let (taken, held): (i64, i64) = {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&service.db).await.unwrap();
        let taken = sqlx::query_scalar("SELECT taken FROM class_sessions WHERE id = $1")
            .bind(session.0)
            .fetch_one(&mut c)
            .await
            .unwrap();
        let held =
            sqlx::query_scalar("SELECT COUNT(*) FROM class_bookings WHERE session_id = $1 AND status = 'confirmed'")
                .bind(session.0)
                .fetch_one(&mut c)
                .await
                .unwrap();
        (taken, held)
    };
    assert_eq!((taken, held), (PLACES as i64, PLACES as i64), "the counter and the bookings agree, at capacity");

    // The daily job: done for today, by exactly one of the two.
    let db = service.db.clone();
    eventually("the daily job is done", Duration::from_secs(60), || {
        let db = db.clone();
        async move {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&db).await.unwrap();
            let done: Option<Option<String>> =
                sqlx::query_scalar("SELECT done_for::text FROM job_leases WHERE job = 'timeline'")
                    .fetch_optional(&mut c)
                    .await
                    .unwrap();
            matches!(done, Some(Some(_)))
        }
    })
    .await;
    let ran = [a.logged("timeline job done"), b.logged("timeline job done")];
    assert!(ran.contains(&0) && ran.iter().sum::<usize>() == 2, "one node ran the job for both cities: {ran:?}");

    // The chat: a supporter on B, the room's parent on A.
    let supporter = demo_signin(&http, &b.base(), "supporter").await;
    let rooms: Value = http
        .get(format!("{}/api/v1/chat/rooms", b.base()))
        .bearer_auth(&supporter)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let theirs: Vec<i64> = rooms["rooms"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect();
    let mut parent = None;
    for (username, _) in tsunagu_demo::chat::PARENTS {
        let r = http
            .post(format!("{}/api/v1/auth/token", a.base()))
            .json(&json!({"municipality": "131121", "username": username, "password": tsunagu_demo::chat::PW_CHAT_PARENT}))
            .send()
            .await
            .unwrap();
        let token = r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
        let own: Value = http
            .get(format!("{}/api/v1/chat/rooms", a.base()))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let room = own["rooms"][0]["id"].as_i64().unwrap();
        if theirs.contains(&room) {
            parent = Some((room, token));
            break;
        }
    }
    let (room, parent) = parent.expect("a demo parent whose room the demo supporter is on");
    let mut inbox = socket(b.addr, "/chat/inbox/ws", &supporter).await;
    let history: Value = http
        .get(format!("{}/api/v1/chat/rooms/{room}/messages", b.base()))
        .bearer_auth(&supporter)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let latest = history["messages"].as_array().unwrap().iter().filter_map(|m| m["seq"].as_i64()).max().unwrap_or(0);
    let mut in_room = socket(b.addr, &format!("/chat/rooms/{room}/ws?after={latest}"), &supporter).await;
    tokio::time::sleep(Duration::from_millis(200)).await; // both sockets subscribed
    let posted = Instant::now();
    let r = http
        .post(format!("{}/api/v1/chat/rooms/{room}/messages", a.base()))
        .bearer_auth(&parent)
        .json(&json!({"client_id": "two-nodes-1", "body": "ノードをまたいで届きますか"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let seq = r.json::<Value>().await.unwrap()["message"]["seq"].as_i64().unwrap();
    // The inbox socket never polls: this frame can only come from A's NOTIFY.
    let note = frame_of(&mut inbox, "new", Duration::from_secs(4)).await;
    assert_eq!((note["room"].as_i64(), note["seq"].as_i64()), (Some(room), Some(seq)));
    assert!(note.get("body").is_none(), "a notice carries no text: {note}");
    let msg = frame_of(&mut in_room, "message", Duration::from_secs(4)).await;
    assert_eq!(msg["message"]["body"], "ノードをまたいで届きますか");
    eprintln!("two_nodes: A → B in {:?}", posted.elapsed());
    let metrics = http.get(format!("http://{}/metrics", b.metrics)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.lines().any(|l| l == "tsunagu_websocket_connections 2"), "{metrics}");
    assert!(metrics.lines().any(|l| l == "tsunagu_wake_listener_up 1"), "{metrics}");

    // SIGTERM on B: its sockets are told to come back (1012), and it exits within the grace.
    let stopped = Instant::now();
    sigterm(&nodes[1].child);
    for s in [&mut inbox, &mut in_room] {
        let close = loop {
            match tokio::time::timeout(Duration::from_secs(10), s.next()).await.expect("a close frame in time") {
                Some(Ok(Message::Close(f))) => break f,
                Some(Ok(_)) => continue,
                other => panic!("the socket ended without a close frame: {other:?}"),
            }
        };
        let close = close.expect("a close frame with a code");
        assert_eq!(u16::from(close.code), 1012, "service restart");
    }
    let exited = loop {
        if let Some(status) = nodes[1].child.try_wait().unwrap() {
            break status;
        }
        assert!(stopped.elapsed() < Duration::from_secs(15), "node B did not exit within its grace");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(exited.success(), "node B exits 0 on SIGTERM");
    let _ = std::fs::remove_dir_all(&service.dir);
}
