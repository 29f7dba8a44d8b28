//! The crash test of class bookings [#12]: the real `tsunagu serve` is
//! killed with SIGKILL at random moments while clients book and cancel
//! over HTTP on loopback, then started again, for a bounded number of
//! rounds. Afterwards every booking answered as confirmed (and never sent a
//! cancellation) is there and confirmed, no session holds more than its
//! places (and its counter agrees with its bookings), nobody holds a
//! session twice, and `tsunagu audit verify` passes. Only bookings with an
//! even id are ever cancelled, so the odd ones answered confirmed must all be there.

use crate::store_support::{ctx, notification};
use crate::support::*;
use jiff::civil::{date, Time};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use tsunagu_domain::classes::{ProgrammeConfig, ProgrammeKind};
use tsunagu_domain::clock::{Clock, SystemClock};
use tsunagu_domain::places::VenueKind;
use tsunagu_domain::roles::Role;
use tsunagu_domain::{ClassSessionId, FamilyId};
use tsunagu_store::{NewAccount, NewSession, NewVenue, StoreKeys};

const ROUNDS: usize = 8;
const CLIENTS: usize = 6;
const SESSIONS: usize = 6;
const PLACES: u32 = 3;
const FAMILIES: usize = 24;

/// A small generator of our own: the test needs spread, not quality.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below.max(1)
    }
}

fn name(b: Backend) -> &'static str {
    match b {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Files {
    db: String,
    key: std::path::PathBuf,
    checkpoints: std::path::PathBuf,
}

fn serve(f: &Files, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .args(["--db", &f.db])
        .arg("--key-file")
        .arg(&f.key)
        .arg("--checkpoint-file")
        .arg(&f.checkpoints)
        .env("TSUNAGU_LOG", "error")
        .env_remove("TSUNAGU_KEY")
        .env_remove("TSUNAGU_DEMO")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tsunagu serve")
}

async fn wait_healthy(http: &reqwest::Client, base: &str) {
    for _ in 0..200 {
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await {
            if r.status() == 200 {
                return;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("tsunagu serve did not come up");
}

/// What the clients were told.
#[derive(Default)]
struct Answers {
    /// Booking id → (session, family), answered as confirmed.
    confirmed: BTreeMap<i64, (i64, i64)>,
    /// Bookings a cancellation was sent for (whatever the answer).
    cancel_sent: HashSet<i64>,
    requests: usize,
    answered: usize,
    waiting: usize,
    refused: usize,
    cancelled: usize,
}

async fn story_kill_the_server_while_booking(backend: Backend) {
    let dir = std::env::temp_dir().join(format!("tsunagu-crash-{}-{}", std::process::id(), name(backend)));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let files = Files { db: fresh_db(backend).await, key: dir.join("tsunagu.key"), checkpoints: dir.join("cp.jsonl") };
    let (master, _) = tsunagu::keyfile::load_key(None, None, &files.key, true).unwrap();

    // The city, a hall, a maternity class (no once-per-stage: families may
    // book several sessions), its sessions, pregnant families and a nurse.
    let (families, sessions) = {
        let store = tsunagu::open_store(&files.db, StoreKeys::derive(&master)).await.unwrap();
        let m = store
            .create_municipality(
                tsunagu_domain::municipality::MunicipalityCode::parse("131121").unwrap(),
                "世田谷区",
                "Setagaya",
            )
            .await
            .unwrap()
            .id;
        let area = store.create_area(m, "世田谷", "Setagaya").await.unwrap().id;
        let hall = store
            .create_venue(&NewVenue {
                municipality_id: m,
                area_id: Some(area),
                kind: VenueKind::ChildrensHall,
                name_ja: "児童館".into(),
                name_en: "Hall".into(),
            })
            .await
            .unwrap()
            .id;
        let p = store.create_programme(m, &ProgrammeConfig::seed_default(ProgrammeKind::MaternityClass)).await.unwrap();
        let plan: Vec<NewSession> = (0..SESSIONS)
            .map(|i| NewSession {
                venue_id: hall,
                day: date(2027, 2, 1 + i as i8),
                starts: Time::constant(10, 0, 0, 0),
                minutes: 90,
                capacity: PLACES,
            })
            .collect();
        let sessions = store.create_class_sessions(m, p.id, &plan).await.unwrap();
        let kana = ["ア", "イ", "ウ", "エ", "オ", "カ", "キ", "ク"];
        let mut families = vec![];
        for i in 0..FAMILIES {
            let n = notification(area, "ヤマダ", &format!("{}{}", kana[i % 8], kana[i / 8]));
            families.push(store.register_notification(&ctx(m, Role::Nurse), &n).await.unwrap());
        }
        store
            .create_account(
                None,
                &NewAccount {
                    municipality_id: m,
                    username: "nurse".into(),
                    display_name: "Nurse".into(),
                    role: Role::Nurse,
                    password_hash: password_hash(),
                    totp_secret: Some(tsunagu_store::Secret::new(TOTP_SECRET)),
                    family_id: None,
                    family_relation: None,
                    areas: vec![],
                    venues: vec![],
                    rooms: vec![],
                    created_at: SystemClock.now(),
                },
            )
            .await
            .unwrap();
        (families, sessions)
    };

    let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)).build().unwrap();
    let answers = Arc::new(Mutex::new(Answers::default()));
    let mut rng = Lcg(0x5eed ^ name(backend).len() as u64);
    let mut token = String::new();
    for round in 0..ROUNDS {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let mut child = serve(&files, port);
        wait_healthy(&http, &base).await;
        if token.is_empty() {
            let otp = tsunagu_web::base::auth::current_totp(TOTP_SECRET, SystemClock.now()).unwrap();
            let r: Value = http
                .post(format!("{base}/api/v1/auth/token"))
                .json(&json!({"municipality": "131121", "username": "nurse", "password": PASSWORD, "otp": otp}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            token = r["token"].as_str().expect("a token").to_owned();
        }
        let mut tasks = vec![];
        for client in 0..CLIENTS {
            let (http, base, token, answers) = (http.clone(), base.clone(), token.clone(), answers.clone());
            let (families, sessions) = (families.clone(), sessions.clone());
            let mut rng = Lcg((round * CLIENTS + client) as u64 + 1);
            tasks.push(tokio::spawn(async move {
                for i in 0.. {
                    let cancel = {
                        let a = answers.lock().unwrap();
                        let mine: Vec<i64> =
                            a.confirmed.keys().copied().filter(|b| b % 2 == 0 && !a.cancel_sent.contains(b)).collect();
                        (rng.next(6) == 0 && !mine.is_empty()).then(|| mine[rng.next(mine.len() as u64) as usize])
                    };
                    let sent = match cancel {
                        Some(b) => {
                            answers.lock().unwrap().cancel_sent.insert(b);
                            http.post(format!("{base}/api/v1/classes/bookings/{b}/cancel")).bearer_auth(&token).json(&json!({})).send().await
                        }
                        None => {
                            let f: FamilyId = families[rng.next(families.len() as u64) as usize];
                            let s: ClassSessionId = sessions[rng.next(sessions.len() as u64) as usize];
                            let body = json!({"session_id": s.0, "family_id": f.0, "idempotency_key": format!("r{round}-c{client}-{i}")});
                            http.post(format!("{base}/api/v1/classes/bookings")).bearer_auth(&token).json(&body).send().await
                        }
                    };
                    answers.lock().unwrap().requests += 1;
                    let resp = match sent {
                        Ok(r) => r,
                        Err(e) => {
                            if std::env::var("CRASH_DEBUG").is_ok() {
                                eprintln!("round {round} client {client}: {e}");
                            }
                            return;
                        }
                    };
                    let status = resp.status().as_u16();
                    let Ok(v) = resp.json::<Value>().await else { return };
                    if std::env::var("CRASH_DEBUG").is_ok() && status >= 400 {
                        eprintln!("{status} {v}");
                    }
                    let mut a = answers.lock().unwrap();
                    a.answered += 1;
                    match (cancel, status) {
                        (Some(_), 200) => a.cancelled += 1,
                        (None, 200 | 201) => {
                            let b = &v["booking"];
                            match b["status"].as_str() {
                                Some("confirmed") => {
                                    let id = b["id"].as_i64().unwrap();
                                    a.confirmed.insert(id, (b["session_id"].as_i64().unwrap(), b["family_id"].as_i64().unwrap()));
                                }
                                _ => a.waiting += 1,
                            }
                        }
                        _ => a.refused += 1,
                    }
                }
            }));
        }
        // Kill it at a random moment while they run.
        tokio::time::sleep(std::time::Duration::from_millis(150 + rng.next(750))).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        for t in tasks {
            t.await.unwrap();
        }
    }

    // The database as the last kill left it.
    let store = tsunagu::open_store(&files.db, StoreKeys::derive(&master)).await.unwrap();
    let m = store.municipalities().await.unwrap()[0].id;
    let reader = ctx(m, Role::Nurse);
    let a = std::mem::take(&mut *answers.lock().unwrap());
    let mut live = BTreeSet::new();
    let mut confirmed_total = 0;
    for s in &sessions {
        let session = store.class_session(m, *s).await.unwrap().unwrap();
        let roster = store.class_roster(&reader, *s).await.unwrap();
        let confirmed: Vec<_> =
            roster.iter().filter(|r| r.booking.status == tsunagu_store::ClassBookingStatus::Confirmed).collect();
        assert!(session.taken <= session.capacity, "session {s} holds {} of {}", session.taken, session.capacity);
        assert_eq!(confirmed.len() as u32, session.taken, "session {s}: counter and bookings agree");
        confirmed_total += confirmed.len();
        for r in &roster {
            assert!(live.insert((s.0, r.booking.family_id.0)), "family {} twice on session {s}", r.booking.family_id);
        }
    }
    let mut kept = 0;
    for (id, (session, family)) in &a.confirmed {
        if a.cancel_sent.contains(id) {
            continue;
        }
        let roster = store.class_roster(&reader, ClassSessionId(*session)).await.unwrap();
        let there = roster
            .iter()
            .find(|r| r.booking.id.0 == *id)
            .unwrap_or_else(|| panic!("booking {id} answered confirmed is lost"));
        assert_eq!(there.booking.status, tsunagu_store::ClassBookingStatus::Confirmed, "booking {id}");
        assert_eq!(there.booking.family_id.0, *family);
        kept += 1;
    }
    drop(store);
    let out = Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .args(["audit", "verify", "--db", &files.db])
        .arg("--key-file")
        .arg(&files.key)
        .arg("--checkpoint-file")
        .arg(&files.checkpoints)
        .env("TSUNAGU_LOG", "warn")
        .env_remove("TSUNAGU_KEY")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "audit verify: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!(
        "crash test ({}): {ROUNDS} rounds, {} requests, {} answered, {} confirmed answers ({kept} kept without a cancellation, all there), {} waiting, {} refused, {} cancelled; {confirmed_total} confirmed places at the end of {} over {SESSIONS} sessions",
        name(backend), a.requests, a.answered, a.confirmed.len(), a.waiting, a.refused, a.cancelled, SESSIONS as u32 * PLACES,
    );
    let _ = std::fs::remove_dir_all(&dir);
}

on_both! {
    multi_thread: kill_the_server_while_booking => story_kill_the_server_while_booking,
}
