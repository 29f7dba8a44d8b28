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
    db: String,
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
    Served { child, public: public.unwrap(), metrics: metrics.unwrap(), log, dir, db }
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

// --- backup and restore -------------------------------------------------------

/// Runs the binary to its end; (succeeded, what it printed).
fn run(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .args(args)
        .env("TSUNAGU_LOG", "warn")
        .env_remove("TSUNAGU_KEY")
        .current_dir(dir)
        .output()
        .unwrap();
    let mut printed = String::from_utf8_lossy(&out.stdout).into_owned();
    printed.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), printed)
}

async fn family_ids(db: &str) -> Vec<i64> {
    use sqlx::Connection;
    let mut c = sqlx::SqliteConnection::connect(db).await.unwrap();
    let ids = sqlx::query_scalar("SELECT id FROM families ORDER BY id").fetch_all(&mut c).await.unwrap();
    c.close().await.unwrap();
    ids
}

/// Katakana for a number, so that every mother written is a different person.
fn kana(n: usize) -> String {
    let digits: Vec<char> = "アイウエオカキクケコ".chars().collect();
    n.to_string().chars().map(|d| digits[d.to_digit(10).unwrap() as usize]).collect()
}

/// `tsunagu backup` of the real service's file while a nurse keeps
/// registering families: the copy holds every family acknowledged before
/// the backup began, `restore` refuses while the service runs and replaces
/// the file once it has stopped, and the restored chain passes `audit
/// verify` against the checkpoints written before the backup.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_write_load_restores_every_acknowledged_write() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use tsunagu_domain::clock::{Clock, SystemClock};

    let mut served = serve_binary("backup", &["--demo", "--families", "2", "--shutdown-grace", "30"]);
    let dir = served.dir.clone();
    let db = served.db.clone();
    let demo_families = family_ids(&db).await;
    let area: i64 = {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&db).await.unwrap();
        let a = sqlx::query_scalar(
            "SELECT a.id FROM areas a JOIN municipalities m ON m.id = a.municipality_id WHERE m.code = '131121' LIMIT 1",
        )
        .fetch_one(&mut c)
        .await
        .unwrap();
        c.close().await.unwrap();
        a
    };
    let nurse = tsunagu_demo::demo_accounts()
        .into_iter()
        .find(|a| a.municipality_code == "131121" && a.role == tsunagu_domain::roles::Role::Nurse)
        .unwrap();
    let http = reqwest::Client::new();
    let base = format!("http://{}", served.public);
    let otp = tsunagu_web::base::auth::current_totp(nurse.totp_secret.unwrap(), SystemClock.now()).unwrap();
    let token: serde_json::Value = http
        .post(format!("{base}/api/v1/auth/token"))
        .json(&serde_json::json!({"municipality": "131121", "username": nurse.username, "password": nurse.password, "otp": otp}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().unwrap().to_owned();

    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::<i64>::new()));
    let writer = {
        let (stop, acked, http, base) = (stop.clone(), acked.clone(), http.clone(), base.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let body = serde_json::json!({
                    "area_id": area, "fee_bracket": "taxed", "consent_coordinators": true, "consent_hubs": false,
                    "edd": "2027-06-01", "foetuses": 1, "first_child": true,
                    "mother": {"family_name": "山田", "given_name": "花子", "family_name_kana": "ヤマダ",
                               "given_name_kana": kana(n), "birth_date": "1993-04-01"}
                });
                let resp = http.post(format!("{base}/api/v1/families")).bearer_auth(&token).json(&body).send().await;
                let Ok(resp) = resp else { continue };
                assert_eq!(resp.status(), 201, "the service keeps taking writes");
                let v: serde_json::Value = resp.json().await.unwrap();
                acked.lock().unwrap().push(v["id"].as_i64().unwrap());
            }
        })
    };
    let acked_count = || acked.lock().unwrap().len();
    tokio::task::spawn_blocking({
        let acked = acked.clone();
        move || wait_until("writes are acknowledged", || acked.lock().unwrap().len() >= 5)
    })
    .await
    .unwrap();

    // The checkpoints as they stand before the backup: all of them saw a chain the copy holds.
    let checkpoints = dir.join("tsunagu-data/audit-checkpoints.jsonl");
    let checkpoints_at_backup = dir.join("checkpoints-at-backup.jsonl");
    std::fs::copy(&checkpoints, &checkpoints_at_backup).unwrap();
    let before_backup = acked.lock().unwrap().clone();
    let copy = dir.join("backup.sqlite3");
    let (ok, printed) = tokio::task::spawn_blocking({
        let (dir, db, copy) = (dir.clone(), db.clone(), copy.display().to_string());
        move || run(&dir, &["backup", "--db", &db, "--to", &copy])
    })
    .await
    .unwrap();
    assert!(ok, "{printed}");
    let after_backup = acked_count();
    tokio::task::spawn_blocking({
        let acked = acked.clone();
        move || wait_until("writes go on after the backup", || acked.lock().unwrap().len() > after_backup + 2)
    })
    .await
    .unwrap();

    let restore = ["restore", "--db", &db, "--from", copy.to_str().unwrap()];
    let (ok, printed) = run(&dir, &restore);
    assert!(!ok && printed.contains("a service is running"), "refused while serving: {printed}");

    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    let written = acked.lock().unwrap().clone();
    sigterm(&served.child);
    assert!(wait_exit(&mut served.child).success());

    let (ok, printed) = run(&dir, &restore);
    assert!(ok, "{printed}");
    let restored = family_ids(&db).await;
    for id in &before_backup {
        assert!(restored.contains(id), "family {id}, acknowledged before the backup, is in the copy");
    }
    for id in &restored {
        assert!(demo_families.contains(id) || written.contains(id), "family {id} was never acknowledged");
    }
    assert!(restored.len() < demo_families.len() + written.len(), "the copy is of an earlier instant");
    let key = dir.join("tsunagu-data/tsunagu.key");
    let verify = ["audit", "verify", "--db", &db, "--key-file", key.to_str().unwrap()];
    let (ok, printed) =
        run(&dir, &[&verify[..], &["--checkpoint-file", checkpoints_at_backup.to_str().unwrap()]].concat());
    assert!(ok, "{printed}");
    assert!(printed.contains("131121: ok"), "{printed}");
}

// --- the deployment recipes -----------------------------------------------------

/// Every `TSUNAGU_…` variable the systemd unit and the container image set
/// is one `tsunagu serve` reads (its help names each).
#[test]
fn the_deployment_recipes_set_only_variables_the_binary_reads() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(env!("CARGO_BIN_EXE_tsunagu")).args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut checked = 0;
    for recipe in ["deploy/tsunagu.service", "deploy/Dockerfile"] {
        let text = std::fs::read_to_string(root.join(recipe)).unwrap();
        for (at, _) in text.match_indices("TSUNAGU_") {
            let name: String =
                text[at..].chars().take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_').collect();
            assert!(help.contains(&format!("[env: {name}=")), "{recipe} sets {name}, which `serve` does not read");
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} variables found");
}

/// `restore` checks the copy before it touches anything: a file that is
/// not a sound database, or one a newer build migrated, is refused and the
/// database left as it was; a PostgreSQL URL is sent to pg_restore.
#[tokio::test]
async fn restore_refuses_a_broken_or_newer_copy() {
    use sqlx::Connection;
    let dir = std::env::temp_dir().join(format!("tsunagu-ops-restore-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}/live.sqlite3", dir.display());
    let (ok, printed) = run(&dir, &["migrate", "--db", &db]);
    assert!(ok, "{printed}");
    let live = dir.join("live.sqlite3");
    let restore = |from: &std::path::Path| run(&dir, &["restore", "--db", &db, "--from", from.to_str().unwrap()]);

    let garbage = dir.join("garbage.sqlite3");
    std::fs::write(&garbage, b"not a database, just bytes that a broken copy might hold").unwrap();
    let (ok, printed) = restore(&garbage);
    assert!(!ok, "{printed}");

    let newer = dir.join("newer.sqlite3");
    let (ok, printed) = run(&dir, &["backup", "--db", &db, "--to", newer.to_str().unwrap()]);
    assert!(ok, "{printed}");
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", newer.display())).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (9999, 'from the future', 1, x'00', 0)",
    )
    .execute(&mut c)
    .await
    .unwrap();
    c.close().await.unwrap();
    let (ok, printed) = restore(&newer);
    assert!(!ok && printed.contains("newer build"), "{printed}");
    let (ok, printed) = run(&dir, &["restore", "--db", "postgres://x@127.0.0.1:1/x", "--from", "f"]);
    assert!(!ok && printed.contains("pg_dump"), "{printed}");

    // The database is untouched and still opens.
    let (ok, printed) = run(&dir, &["migrate", "--db", &db]);
    assert!(ok && live.exists(), "{printed}");
    let _ = std::fs::remove_dir_all(&dir);
}
