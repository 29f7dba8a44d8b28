//! The binary as an operator runs it.

/// Logs sent to a pipe or a file are plain text: no terminal colour codes.
#[test]
fn logs_to_a_pipe_have_no_colour_codes() {
    let dir = std::env::temp_dir().join(format!("tsunagu-ops-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let db = format!("sqlite://{}/ops.sqlite3", dir.display());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .args(["demo-load", "--db", &db, "--families", "2"])
        .env("TSUNAGU_LOG", "info")
        .env_remove("TSUNAGU_KEY")
        // The key and checkpoint files it makes by default go beside the database, not into the source tree.
        .current_dir(&dir)
        .output()
        .expect("run tsunagu");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(log.contains("demo data ready"), "the log line is there: {log}");
    assert!(!log.contains('\u{1b}'), "no escape sequences in piped logs: {log:?}");
}

// --- the node as a service manager runs it ----------------------------------

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A real `tsunagu serve` on loopback ports over a fresh SQLite file, its
/// log lines (JSON) collected as it writes them.
struct Served {
    child: Child,
    public: SocketAddr,
    metrics: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
    dir: std::path::PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn serve_binary(name: &str, extra: &[&str]) -> Served {
    let dir = std::env::temp_dir().join(format!("tsunagu-ops-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}/ops.sqlite3", dir.display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .args(["serve", "--db", &db, "--addr", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"])
        .args(["--log-format", "json"])
        .args(extra)
        .env("TSUNAGU_LOG", "info")
        .env_remove("TSUNAGU_KEY")
        .current_dir(&dir)
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
    let (mut public, mut metrics) = (None, None);
    while public.is_none() || metrics.is_none() {
        let line = rx.recv_timeout(Duration::from_secs(60)).expect("the node did not start");
        if let Some(a) = line.strip_prefix("tsunagu is listening on http://") {
            public = Some(a.trim_end_matches('/').parse().unwrap());
        }
        if let Some(a) = line.strip_prefix("metrics on http://") {
            metrics = Some(a.trim_end_matches("/metrics").parse().unwrap());
        }
    }
    Served { child, public: public.unwrap(), metrics: metrics.unwrap(), log, dir }
}

/// A whole HTTP/1.1 exchange on a connection of its own; the answer as text.
fn http_get(addr: SocketAddr, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

fn in_flight(served: &Served) -> String {
    let text = http_get(served.metrics, "/metrics");
    text.lines().find(|l| l.starts_with("tsunagu_http_requests_in_flight ")).unwrap_or_default().to_owned()
}

/// Waits (bounded) until `ok` holds.
fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ok() {
        assert!(Instant::now() < deadline, "gave up waiting: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts a sign-in whose body is only half sent: a request in flight for
/// as long as the test likes. Returns the connection and the rest of the body.
fn slow_request(served: &Served) -> (TcpStream, &'static [u8]) {
    const BODY: &str =
        r#"{"municipality":"131121","username":"not-a-person-name","password":"wrong-password-here","otp":"000000"}"#;
    let mut s = TcpStream::connect(served.public).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        BODY.len()
    )
    .unwrap();
    let (first, rest) = BODY.as_bytes().split_at(20);
    s.write_all(first).unwrap();
    s.flush().unwrap();
    wait_until("the request is in flight", || in_flight(served) == "tsunagu_http_requests_in_flight 1");
    (s, rest)
}

fn sigterm(child: &Child) {
    let ok = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success();
    assert!(ok, "kill -TERM");
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let mut status = None;
    wait_until("the node exits", || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    status.unwrap()
}

fn logged(served: &Served, needle: &str) -> bool {
    served.log.lock().unwrap().iter().any(|l| l.contains(needle))
}

/// SIGTERM with a request in flight: the node stops taking connections and
/// says it is not ready, the request is answered, and the node exits 0.
/// Every log line is JSON, the request's lines carry the id its answer
/// carries, and nothing the client typed is logged.
#[test]
fn sigterm_finishes_the_request_in_flight_and_exits_0() {
    let mut served = serve_binary("term", &["--shutdown-grace", "60"]);
    assert!(http_get(served.metrics, "/metrics").starts_with("HTTP/1.1 200"));
    assert!(http_get(served.public, "/metrics").starts_with("HTTP/1.1 404"), "no metrics on the public listener");
    let (mut conn, rest) = slow_request(&served);
    sigterm(&served.child);
    wait_until("the node begins to shut down", || logged(&served, "shutting down"));
    wait_until("the listener is closed", || TcpStream::connect(served.public).is_err());
    conn.write_all(rest).unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 4"), "the request in flight is answered (wrong credentials): {answer}");
    let id = answer
        .lines()
        .find_map(|l| l.strip_prefix("x-request-id: "))
        .map(str::trim)
        .expect("the answer carries its request id")
        .to_owned();
    let status = wait_exit(&mut served.child);
    assert!(status.success(), "exit status {status}");
    wait_until("the last log line is read", || logged(&served, "\"stopped\""));

    let log = served.log.lock().unwrap().clone();
    let json: Vec<serde_json::Value> = log
        .iter()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    let request_line = json
        .iter()
        .find(|v| v["fields"]["message"] == "request" && v["fields"]["http.route"] == "/api/v1/auth/token")
        .unwrap_or_else(|| panic!("the request's log line in {log:#?}"));
    assert_eq!(request_line["span"]["request_id"], id.as_str(), "{request_line}");
    let signin_line = json.iter().find(|v| v["fields"]["message"] == "sign-in").expect("the sign-in's log line");
    assert_eq!(signin_line["span"]["request_id"], id.as_str(), "the handler's line names the request too");
    for needle in ["not-a-person-name", "wrong-password-here"] {
        assert!(!log.iter().any(|l| l.contains(needle)), "{needle} was logged");
    }
}

/// A request that never completes does not hold the node: it exits when
/// the grace runs out.
#[test]
fn the_shutdown_grace_bounds_the_wait() {
    let mut served = serve_binary("grace", &["--shutdown-grace", "1"]);
    let (_conn, _never_sent) = slow_request(&served);
    sigterm(&served.child);
    let status = wait_exit(&mut served.child);
    assert!(status.success(), "exit status {status}");
    assert!(logged(&served, "shutdown grace ran out"));
}
