//! What the service counts, in Prometheus' text format, served by
//! [`router`] on a listen address of its own (`--metrics-listen`), never on
//! the public one: requests by matched route *pattern* and status (the raw
//! path can hold ids), their latency, requests in flight, the database
//! pools, open WebSockets, whether other nodes' wake-ups arrive, and the
//! work lists' sizes per municipality that the daily timeline job refreshes. No label holds a person's data: routes are
//! patterns, municipalities their codes.

use crate::base::AppState;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;
use tsunagu_store::group_commit::{TurnStats, TURN_BUCKETS};
use tsunagu_store::{PoolStats, WorkCounts};

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Default)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    /// Requests at or under each bound of `BUCKETS` (not cumulative here).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum_seconds: f64,
}

/// The service's counters; one per process, shared by the request layer,
/// the daily job and the metrics listener.
#[derive(Default)]
pub struct Metrics {
    /// By (method, route pattern).
    routes: Mutex<BTreeMap<(&'static str, String), RouteStats>>,
    in_flight: AtomicI64,
    /// By municipality code: the municipality-wide work-list counts.
    work: Mutex<BTreeMap<String, WorkCounts>>,
    /// When the daily timeline job last finished (Unix seconds), 0 before.
    timeline_job_done: AtomicI64,
    /// WebSocket connections open now.
    sockets: AtomicI64,
    /// 1 while wake-ups from other nodes arrive (PostgreSQL's `LISTEN`), else 0.
    wake_listener: AtomicI64,
}

/// An open WebSocket: counted while it lives.
pub struct OpenSocket(std::sync::Arc<Metrics>);

impl Drop for OpenSocket {
    fn drop(&mut self) {
        self.0.sockets.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A request in flight: counted while it lives, however it ends (answered,
/// or dropped with its connection).
pub struct InFlight<'a>(&'a Metrics);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The methods the counters name; anything else is `other`, so that a
/// client cannot grow the label set.
fn method_label(m: &axum::http::Method) -> &'static str {
    match m.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

impl Metrics {
    /// Counts a request as in flight until the returned guard is dropped.
    pub fn start(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self)
    }

    /// Counts a WebSocket as open until the returned guard is dropped.
    pub fn socket_opened(self: &std::sync::Arc<Self>) -> OpenSocket {
        self.sockets.fetch_add(1, Ordering::Relaxed);
        OpenSocket(self.clone())
    }

    /// WebSocket connections open now.
    pub fn sockets(&self) -> i64 {
        self.sockets.load(Ordering::Relaxed)
    }

    /// The connection that receives other nodes' wake-ups is up, or lost.
    pub fn set_wake_listener(&self, up: bool) {
        self.wake_listener.store(i64::from(up), Ordering::Relaxed);
    }

    /// Requests being answered now.
    pub fn in_flight(&self) -> i64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Counts an answered request under its route pattern (`unmatched` when
    /// no route matched: never the raw path).
    pub fn record(&self, method: &axum::http::Method, route: &str, status: u16, took: Duration) {
        let seconds = took.as_secs_f64();
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        let stats = routes.entry((method_label(method), route.to_owned())).or_default();
        *stats.by_status.entry(status).or_default() += 1;
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            if let Some(b) = stats.buckets.get_mut(i) {
                *b += 1;
            }
        }
        stats.count += 1;
        stats.sum_seconds += seconds;
    }

    /// The work-list counts of one municipality (by its code), as the daily job found them.
    pub fn set_work_counts(&self, municipality_code: &str, counts: WorkCounts) {
        self.work.lock().unwrap_or_else(PoisonError::into_inner).insert(municipality_code.to_owned(), counts);
    }

    /// The daily timeline job finished at `unix_seconds`.
    pub fn timeline_job_done(&self, unix_seconds: i64) {
        self.timeline_job_done.store(unix_seconds, Ordering::Relaxed);
    }

    /// Everything, in Prometheus' text exposition format (0.0.4).
    pub fn render(&self, pools: &[PoolStats], backend: &str) -> String {
        let mut out = String::new();
        let routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        header(
            &mut out,
            "tsunagu_http_requests_total",
            "counter",
            "Requests answered, by method, route pattern and status.",
        );
        for ((method, route), s) in routes.iter() {
            for (status, n) in &s.by_status {
                let _ = writeln!(
                    out,
                    "tsunagu_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        header(
            &mut out,
            "tsunagu_http_request_duration_seconds",
            "histogram",
            "Time to answer a request, by method and route pattern.",
        );
        for ((method, route), s) in routes.iter() {
            let route = escape(route);
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(s.buckets) {
                cumulative += n;
                let _ = writeln!(
                    out,
                    "tsunagu_http_request_duration_seconds_bucket{{method=\"{method}\",route=\"{route}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let labels = format!("method=\"{method}\",route=\"{route}\"");
            let _ = writeln!(out, "tsunagu_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", s.count);
            let _ = writeln!(out, "tsunagu_http_request_duration_seconds_sum{{{labels}}} {}", s.sum_seconds);
            let _ = writeln!(out, "tsunagu_http_request_duration_seconds_count{{{labels}}} {}", s.count);
        }
        drop(routes);
        header(&mut out, "tsunagu_http_requests_in_flight", "gauge", "Requests being answered now.");
        let _ = writeln!(out, "tsunagu_http_requests_in_flight {}", self.in_flight());
        header(&mut out, "tsunagu_websocket_connections", "gauge", "WebSocket connections open now (the chat's).");
        let _ = writeln!(out, "tsunagu_websocket_connections {}", self.sockets());
        header(
            &mut out,
            "tsunagu_wake_listener_up",
            "gauge",
            "1 while this node receives other nodes' wake-ups (PostgreSQL LISTEN); 0 on SQLite or while reconnecting.",
        );
        let _ = writeln!(out, "tsunagu_wake_listener_up {}", self.wake_listener.load(Ordering::Relaxed));
        header(&mut out, "tsunagu_db_pool_connections", "gauge", "Open database connections, by pool and state.");
        for p in pools {
            let busy = p.size.saturating_sub(p.idle);
            let _ = writeln!(
                out,
                "tsunagu_db_pool_connections{{backend=\"{backend}\",pool=\"{}\",state=\"idle\"}} {}",
                p.name, p.idle
            );
            let _ = writeln!(
                out,
                "tsunagu_db_pool_connections{{backend=\"{backend}\",pool=\"{}\",state=\"in_use\"}} {busy}",
                p.name
            );
        }
        header(&mut out, "tsunagu_db_pool_max_connections", "gauge", "The most connections each pool opens.");
        for p in pools {
            let _ =
                writeln!(out, "tsunagu_db_pool_max_connections{{backend=\"{backend}\",pool=\"{}\"}} {}", p.name, p.max);
        }
        header(
            &mut out,
            "tsunagu_work_contacts",
            "gauge",
            "Contacts on each municipality-wide work list, as of the last daily timeline job.",
        );
        for (code, c) in self.work.lock().unwrap_or_else(PoisonError::into_inner).iter() {
            let code = escape(code);
            for (list, n) in [
                ("due_this_week", c.due_this_week),
                ("overdue", c.overdue),
                ("missed", c.missed),
                ("check_non_attendees", c.check_non_attendees),
            ] {
                let _ = writeln!(out, "tsunagu_work_contacts{{municipality=\"{code}\",list=\"{list}\"}} {n}");
            }
        }
        header(
            &mut out,
            "tsunagu_timeline_job_last_success_timestamp_seconds",
            "gauge",
            "When this node last finished the daily timeline job or saw another node had (Unix time; 0: not yet).",
        );
        let _ = writeln!(
            out,
            "tsunagu_timeline_job_last_success_timestamp_seconds {}",
            self.timeline_job_done.load(Ordering::Relaxed)
        );
        out
    }
}

/// The group commits' turns (`tsunagu_store::group_commit`): how many, and
/// a histogram of how many items each carried.
fn render_turns(stats: &[(&str, TurnStats)]) -> String {
    let mut out = String::new();
    header(
        &mut out,
        "tsunagu_db_group_commit_turn_size",
        "histogram",
        "Items (chat posts, reads' audit lines) one write transaction of a group commit carried, by batcher.",
    );
    for (name, s) in stats {
        let mut cumulative = 0;
        for (bound, n) in TURN_BUCKETS.iter().zip(s.buckets) {
            cumulative += n;
            let _ = writeln!(
                out,
                "tsunagu_db_group_commit_turn_size_bucket{{batcher=\"{name}\",le=\"{bound}\"}} {cumulative}"
            );
        }
        let _ = writeln!(out, "tsunagu_db_group_commit_turn_size_bucket{{batcher=\"{name}\",le=\"+Inf\"}} {}", s.turns);
        let _ = writeln!(out, "tsunagu_db_group_commit_turn_size_sum{{batcher=\"{name}\"}} {}", s.items);
        let _ = writeln!(out, "tsunagu_db_group_commit_turn_size_count{{batcher=\"{name}\"}} {}", s.turns);
    }
    out
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A label value as the format wants it: backslash, quote and newline escaped.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The metrics listener's router: `GET /metrics` and nothing else. The
/// binary serves it on `--metrics-listen`; the public router has no such route.
pub fn router(state: AppState) -> Router {
    Router::new().route("/metrics", get(metrics)).with_state(state)
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut body = state.metrics.render(&state.store.pool_stats(), state.store.backend());
    body.push_str(&render_turns(&state.store.turn_stats()));
    ([(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Method;

    #[test]
    fn group_commit_turns_as_a_cumulative_histogram() {
        let mut buckets = [0; TURN_BUCKETS.len()];
        buckets[0] = 2; // two turns of one item
        buckets[5] = 1; // one of 17..=32
        let text = render_turns(&[("chat_posts", TurnStats { turns: 3, items: 32, buckets })]);
        for line in [
            "tsunagu_db_group_commit_turn_size_bucket{batcher=\"chat_posts\",le=\"1\"} 2",
            "tsunagu_db_group_commit_turn_size_bucket{batcher=\"chat_posts\",le=\"16\"} 2",
            "tsunagu_db_group_commit_turn_size_bucket{batcher=\"chat_posts\",le=\"32\"} 3",
            "tsunagu_db_group_commit_turn_size_bucket{batcher=\"chat_posts\",le=\"500\"} 3",
            "tsunagu_db_group_commit_turn_size_bucket{batcher=\"chat_posts\",le=\"+Inf\"} 3",
            "tsunagu_db_group_commit_turn_size_sum{batcher=\"chat_posts\"} 32",
            "tsunagu_db_group_commit_turn_size_count{batcher=\"chat_posts\"} 3",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line} in\n{text}");
        }
    }

    #[test]
    fn counts_by_pattern_and_status_with_a_cumulative_histogram() {
        let m = Metrics::default();
        m.record(&Method::GET, "/families/{id}", 200, Duration::from_millis(3));
        m.record(&Method::GET, "/families/{id}", 200, Duration::from_millis(30));
        m.record(&Method::GET, "/families/{id}", 404, Duration::from_secs(20));
        m.record(&Method::from_bytes(b"BREW").unwrap(), "unmatched", 405, Duration::from_millis(1));
        let text = m.render(&[PoolStats { name: "main", size: 3, idle: 1, max: 10 }], "postgres");
        for line in [
            "tsunagu_http_requests_total{method=\"GET\",route=\"/families/{id}\",status=\"200\"} 2",
            "tsunagu_http_requests_total{method=\"GET\",route=\"/families/{id}\",status=\"404\"} 1",
            "tsunagu_http_requests_total{method=\"other\",route=\"unmatched\",status=\"405\"} 1",
            "tsunagu_http_request_duration_seconds_bucket{method=\"GET\",route=\"/families/{id}\",le=\"0.005\"} 1",
            "tsunagu_http_request_duration_seconds_bucket{method=\"GET\",route=\"/families/{id}\",le=\"0.05\"} 2",
            "tsunagu_http_request_duration_seconds_bucket{method=\"GET\",route=\"/families/{id}\",le=\"10\"} 2",
            "tsunagu_http_request_duration_seconds_bucket{method=\"GET\",route=\"/families/{id}\",le=\"+Inf\"} 3",
            "tsunagu_http_request_duration_seconds_count{method=\"GET\",route=\"/families/{id}\"} 3",
            "tsunagu_db_pool_connections{backend=\"postgres\",pool=\"main\",state=\"idle\"} 1",
            "tsunagu_db_pool_connections{backend=\"postgres\",pool=\"main\",state=\"in_use\"} 2",
            "tsunagu_db_pool_max_connections{backend=\"postgres\",pool=\"main\"} 10",
            "tsunagu_http_requests_in_flight 0",
            "tsunagu_websocket_connections 0",
            "tsunagu_wake_listener_up 0",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line} in\n{text}");
        }
        let guard = m.start();
        assert_eq!(m.in_flight(), 1);
        drop(guard);
        assert_eq!(m.in_flight(), 0);
        let m = std::sync::Arc::new(m);
        let (a, b) = (m.socket_opened(), m.socket_opened());
        m.set_wake_listener(true);
        let text = m.render(&[], "postgres");
        assert!(text.lines().any(|l| l == "tsunagu_websocket_connections 2"), "{text}");
        assert!(text.lines().any(|l| l == "tsunagu_wake_listener_up 1"), "{text}");
        drop((a, b));
        assert_eq!(m.sockets(), 0);
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
