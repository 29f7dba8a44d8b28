//! A mixed workload (#15) with many concurrent clients: record reads, work
//! lists, class bookings and chat posts, next to the bare-handler ceiling
//! at the same concurrency, in the same run.
//!
//! ```sh
//! cargo bench -p tsunagu --bench mixed -- --backend sqlite
//! TSUNAGU_BENCH_PG_URL=postgres://tsunagu@127.0.0.1:55432/postgres \
//!   cargo bench -p tsunagu --bench mixed -- --backend postgres --nodes 1,2
//! # options: --families N (per demo city, default 500) --requests N (default 4000)
//! #          --clients N (default 32)
//! ```
//!
//! Setup: the demo data (N families in each demo city), a maternity class
//! with 100 sessions of 1,000 places, and 400 pregnant families who may
//! book it. Then `clients` tasks share `requests` requests, each picking
//! in turn: 40 % open a family record (`GET /api/v1/families/{id}`), 20 % a
//! nurse's work list (`GET /api/v1/worklist?list=due_this_week`), 20 % book a family
//! into a session (`POST /api/v1/classes/bookings`, each pair once), 20 % a
//! chat post by a demo parent (`POST /api/v1/chat/rooms/{id}/messages`).
//! "Nodes" are routers each with its own store (pool, LISTEN connection)
//! on the same database, in this one process, each on its own port; the
//! clients go round them. The ceiling is a bare axum handler, the same
//! clients, the same concurrency. Prints a Markdown row per configuration.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{percentile, Pick};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tsunagu_domain::classes::{ProgrammeConfig, ProgrammeKind};
use tsunagu_domain::clock::{Clock, SystemClock};
use tsunagu_domain::places::VenueKind;
use tsunagu_domain::records::NotificationInput;
use tsunagu_domain::roles::Role;
use tsunagu_store::{ImportFamily, NewSession, NewVenue};

const KINDS: [&str; 4] = ["record", "worklist", "booking", "chat"];
const SESSIONS: usize = 100;
const BOOKERS: usize = 400;

struct Opts {
    backend: String,
    nodes: Vec<usize>,
    families: usize,
    requests: usize,
    clients: usize,
}

fn opts() -> Opts {
    let mut o = Opts { backend: "sqlite".into(), nodes: vec![1], families: 500, requests: 4000, clients: 32 };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        let mut num = || it.next().expect("a value").parse::<usize>().expect("a number");
        match x.as_str() {
            "--backend" => o.backend = it.next().expect("sqlite|postgres"),
            "--nodes" => o.nodes = it.next().expect("1,2").split(',').map(|n| n.parse().unwrap()).collect(),
            "--families" => o.families = num(),
            "--requests" => o.requests = num(),
            "--clients" => o.clients = num(),
            _ => {}
        }
    }
    o
}

enum Req {
    Get(String, String),
    Post(String, String, Value),
}

/// One run of `reqs` by `clients` tasks; (wall seconds, latencies by kind, non-2xx by kind).
async fn run(http: &reqwest::Client, reqs: Vec<(usize, Req)>, clients: usize) -> (f64, Vec<Vec<Duration>>, Vec<usize>) {
    let reqs = Arc::new(reqs);
    let next = Arc::new(AtomicUsize::new(0));
    let out = Arc::new(Mutex::new((vec![vec![]; KINDS.len()], vec![0; KINDS.len()])));
    let started = Instant::now();
    let mut tasks = vec![];
    for _ in 0..clients {
        let (http, reqs, next, out) = (http.clone(), reqs.clone(), next.clone(), out.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((kind, r)) = reqs.get(i) else { return };
                let t = Instant::now();
                let resp = match r {
                    Req::Get(url, token) => http.get(url).bearer_auth(token).send().await,
                    Req::Post(url, token, body) => http.post(url).bearer_auth(token).json(body).send().await,
                };
                let ok = match resp {
                    Ok(r) => {
                        let ok = r.status().is_success();
                        let _ = r.bytes().await;
                        ok
                    }
                    Err(_) => false,
                };
                let took = t.elapsed();
                let mut o = out.lock().unwrap();
                o.0[*kind].push(took);
                if !ok {
                    o.1[*kind] += 1;
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let wall = started.elapsed().as_secs_f64();
    let (mut times, errors) = std::mem::take(&mut *out.lock().unwrap());
    times.iter_mut().for_each(|t| t.sort());
    (wall, times, errors)
}

fn p(times: &[Duration], q: f64) -> String {
    if times.is_empty() {
        "-".into()
    } else {
        format!("{:.1}", percentile(times, q) / 1000.0)
    }
}

#[tokio::main]
async fn main() {
    let o = opts();
    let url = common::fresh_db(&o.backend, o.families).await;
    let keys = bench_keys();
    let store = tsunagu::open_store(&url, keys.clone()).await.unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let today = clock.today();
    let started = Instant::now();
    let demo = tsunagu_demo::DemoOptions {
        families_per_municipality: o.families,
        seed: 7,
        today,
        now: clock.now(),
        bulk_from: tsunagu_demo::BULK_LOAD_FROM,
    };
    let hash = |p: &str| tsunagu_web::base::auth::hash_password(p).unwrap();
    tsunagu_demo::load(store.as_ref(), &demo, &hash).await.unwrap();

    // A maternity class with many places, and pregnant families to book it.
    let m = store.municipalities().await.unwrap().into_iter().find(|m| m.code.to_string() == "131121").unwrap();
    let area = store.areas(m.id).await.unwrap()[0].id;
    let hall = store
        .create_venue(&NewVenue {
            municipality_id: m.id,
            area_id: Some(area),
            kind: VenueKind::ChildrensHall,
            name_ja: "ベンチ児童館".into(),
            name_en: "Bench hall".into(),
        })
        .await
        .unwrap()
        .id;
    let programme =
        store.create_programme(m.id, &ProgrammeConfig::seed_default(ProgrammeKind::MaternityClass)).await.unwrap();
    let first = today.saturating_add(jiff::Span::new().days(30));
    let plan: Vec<NewSession> = (0..SESSIONS)
        .map(|i| NewSession {
            venue_id: hall,
            day: first.saturating_add(jiff::Span::new().days(i as i64 % 60)),
            starts: jiff::civil::Time::constant(10 + (i / 60) as i8, 0, 0, 0),
            minutes: 60,
            capacity: 1000,
        })
        .collect();
    let sessions = store.create_class_sessions(m.id, programme.id, &plan).await.unwrap();
    let ctx = tsunagu_domain::audit::Requester {
        municipality_id: m.id,
        actor: tsunagu_domain::AccountId(1),
        role: Role::Nurse,
        remote_addr: "bench".into(),
        reason: "bench".into(),
        at: clock.now(),
    }
    .without_a_policy_decision();
    let edd = today.saturating_add(jiff::Span::new().days(150)).to_string();
    let bookers: Vec<ImportFamily> = (0..BOOKERS)
        .map(|i| {
            let kana: String = format!("{i:05}")
                .chars()
                .map(|c| char::from_u32(0x3042 + 2 * c.to_digit(10).unwrap()).unwrap())
                .collect();
            let input = NotificationInput {
                area_id: area.0,
                fee_bracket: "taxed".into(),
                edd: edd.clone(),
                foetuses: 1,
                first_child: true,
                mother: tsunagu_domain::records::PersonInput {
                    family_name: "ベンチ".into(),
                    given_name: "母".into(),
                    family_name_kana: "べんち".into(),
                    given_name_kana: kana,
                    birth_date: None,
                },
                ..NotificationInput::default()
            };
            ImportFamily { notification: input.check(today).unwrap(), babies: vec![], settled_through: None }
        })
        .collect();
    let bookers: Vec<i64> =
        store.import_families(&ctx, &bookers).await.unwrap().into_iter().map(|r| r.unwrap().0).collect();
    let load_s = started.elapsed().as_secs_f64();
    drop(store);

    println!(
        "| backend | nodes | clients | requests | load s | ceiling req/s | ceiling p50/p99 ms | mixed req/s | mixed ÷ ceiling | record p50/p99 ms | work list p50/p99 ms | booking p50/p99 ms | chat post p50/p99 ms | non-2xx |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    let http = reqwest::Client::builder().pool_max_idle_per_host(o.clients).build().unwrap();
    let mut round = 0;
    let mut tokens: Option<(String, Vec<(String, i64)>)> = None;
    for &nodes in &o.nodes {
        round += 1;
        let mut bases = vec![];
        for _ in 0..nodes {
            let store = tsunagu::open_store(&url, keys.clone()).await.unwrap();
            bases.push(common::serve(store, clock.clone()).await);
        }
        // Signed in once (a TOTP code is good once): the sessions are the
        // database's, valid on every node.
        if tokens.is_none() {
            let nurse = common::nurse_token(&http, &bases[0], clock.now()).await;
            let mut parents = vec![];
            for (username, _) in tsunagu_demo::chat::PARENTS {
                let r: Value = http
                    .post(format!("{}/api/v1/auth/token", bases[0]))
                    .json(&json!({"municipality": "131121", "username": username, "password": tsunagu_demo::chat::PW_CHAT_PARENT}))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let token = r["token"].as_str().unwrap().to_owned();
                let rooms: Value = http
                    .get(format!("{}/api/v1/chat/rooms", bases[0]))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                parents.push((token, rooms["rooms"][0]["id"].as_i64().unwrap()));
            }
            tokens = Some((nurse, parents));
        }
        let (nurse, parents) = tokens.clone().unwrap();
        let mut pick = Pick(0x9E37_79B9_7F4A_7C15 ^ round as u64);
        let ids = common::family_ids(&url, "131121").await;
        let mut reqs = vec![];
        let mut pair = 0usize;
        for i in 0..o.requests {
            let base = &bases[i % nodes];
            let kind = match i % 5 {
                0 | 1 => 0,
                2 => 1,
                3 => 2,
                _ => 3,
            };
            reqs.push((
                kind,
                match kind {
                    0 => Req::Get(
                        format!("{base}/api/v1/families/{}", ids[pick.below(ids.len() as u64) as usize]),
                        nurse.clone(),
                    ),
                    1 => Req::Get(format!("{base}/api/v1/worklist?list=due_this_week"), nurse.clone()),
                    2 => {
                        // Each (family, session) pair once; this round's own.
                        pair += 1;
                        let f = bookers[pair % BOOKERS];
                        // Each round takes sessions of its own: as many as its
                        // bookings fill (a fifth of the requests, BOOKERS a session).
                        let span = o.requests / 5 / BOOKERS + 1;
                        let s = sessions[(pair / BOOKERS + (round as usize - 1) * span) % SESSIONS];
                        let body =
                            json!({"session_id": s.0, "family_id": f, "idempotency_key": format!("mixed-{round}-{i}")});
                        Req::Post(format!("{base}/api/v1/classes/bookings"), nurse.clone(), body)
                    }
                    _ => {
                        let (token, room) = &parents[i % parents.len()];
                        let body = json!({"client_id": format!("mixed-{round}-{i}"), "body": "ベンチからのメッセージ"});
                        Req::Post(format!("{base}/api/v1/chat/rooms/{room}/messages"), token.clone(), body)
                    }
                },
            ));
        }
        // The ceiling: the same clients on a bare handler, as many requests.
        let bare: Vec<(usize, Req)> = common::bare("{\"ok\":true}".into(), o.requests)
            .await
            .into_iter()
            .map(|u| (0, Req::Get(u, String::new())))
            .collect();
        let (bare_wall, bare_times, _) = run(&http, bare, o.clients).await;
        let (wall, times, errors) = run(&http, reqs, o.clients).await;
        let bare_rate = o.requests as f64 / bare_wall;
        let rate = o.requests as f64 / wall;
        let errors: Vec<String> =
            KINDS.iter().zip(&errors).filter(|(_, n)| **n > 0).map(|(k, n)| format!("{k} {n}")).collect();
        println!(
            "| {} | {nodes} | {} | {} | {load_s:.0} | {bare_rate:.0} | {}/{} | {rate:.0} | {:.3} | {}/{} | {}/{} | {}/{} | {}/{} | {} |",
            o.backend,
            o.clients,
            o.requests,
            p(&bare_times[0], 0.5),
            p(&bare_times[0], 0.99),
            rate / bare_rate,
            p(&times[0], 0.5),
            p(&times[0], 0.99),
            p(&times[1], 0.5),
            p(&times[1], 0.99),
            p(&times[2], 0.5),
            p(&times[2], 0.99),
            p(&times[3], 0.5),
            p(&times[3], 0.99),
            if errors.is_empty() { "0".to_owned() } else { errors.join(", ") },
        );
    }
}

fn bench_keys() -> tsunagu_store::StoreKeys {
    tsunagu_store::StoreKeys::derive(&tsunagu_domain::keys::MasterKey::from_bytes(&[7; 32]).unwrap())
}
