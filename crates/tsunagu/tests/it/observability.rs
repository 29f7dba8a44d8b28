//! Observability over HTTP, on both databases: request ids, `/healthz` and
//! `/readyz`, and the metrics on their own listener (never the public one).

use crate::store_support::{exec, test_keys, TestDb};
use crate::support::{fresh_db, Backend};
use std::net::SocketAddr;
use std::sync::Arc;
use tsunagu_domain::clock::FixedClock;
use tsunagu_web::{AppState, WebConfig};

/// A node as `serve` runs it: the public router and the metrics router,
/// each on a loopback port of its own.
struct Node {
    public: SocketAddr,
    metrics: SocketAddr,
    db: TestDb,
    http: reqwest::Client,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Node {
    fn drop(&mut self) {
        self.tasks.iter().for_each(|t| t.abort());
    }
}

async fn serve(app: axum::Router) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await;
    });
    (addr, task)
}

async fn node(backend: Backend, config: WebConfig) -> Node {
    let url = fresh_db(backend).await;
    let store = tsunagu::open_store(&url, test_keys()).await.unwrap();
    let clock = Arc::new(FixedClock::new(crate::support::test_now()));
    let state = AppState::new(store, clock, config);
    let (public, a) = serve(tsunagu_web::router(state.clone())).await;
    let (metrics, b) = serve(tsunagu_web::base::metrics::router(state)).await;
    Node { public, metrics, db: TestDb { backend, url }, http: reqwest::Client::new(), tasks: vec![a, b] }
}

impl Node {
    async fn get(&self, addr: SocketAddr, path: &str, request_id: Option<&str>) -> (u16, String, Option<String>) {
        let mut req = self.http.get(format!("http://{addr}{path}"));
        if let Some(id) = request_id {
            req = req.header("x-request-id", id);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let id = resp.headers().get("x-request-id").map(|v| v.to_str().unwrap().to_owned());
        (status, resp.text().await.unwrap(), id)
    }
}

fn is_generated_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Every response carries an id; one a client sends is ignored unless the
/// service stands behind trusted proxies, and then only if it looks like one.
async fn story_request_ids(backend: Backend) {
    let direct = node(backend, WebConfig::default()).await;
    let (status, _, id) = direct.get(direct.public, "/healthz", None).await;
    assert_eq!(status, 200);
    let first = id.expect("a request id");
    assert!(is_generated_id(&first), "{first}");
    let (_, _, id) = direct.get(direct.public, "/api/v1/families/42", Some("from-the-client")).await;
    let id = id.unwrap();
    assert!(is_generated_id(&id) && id != first, "a client's id is not taken without trusted proxies: {id}");

    let proxied = node(backend, WebConfig { trusted_proxies: 1, ..WebConfig::default() }).await;
    let (_, _, id) = proxied.get(proxied.public, "/healthz", Some("lb-7f3a.9")).await;
    assert_eq!(id.as_deref(), Some("lb-7f3a.9"), "the proxy's id is kept");
    let (_, _, id) = proxied.get(proxied.public, "/healthz", Some("x\" injected=1")).await;
    assert!(is_generated_id(&id.unwrap()), "an id that does not look like one is replaced");
    let (_, _, id) = proxied.get(proxied.public, "/healthz", Some(&"a".repeat(65))).await;
    assert!(is_generated_id(&id.unwrap()));
}

/// `/healthz` is alive; `/readyz` wants the database and its migrations.
async fn story_health_and_readiness(backend: Backend) {
    let n = node(backend, WebConfig::default()).await;
    assert_eq!(n.get(n.public, "/healthz", None).await.0, 200);
    let (status, body, _) = n.get(n.public, "/readyz", None).await;
    assert_eq!((status, body.as_str()), (200, "ready"));
    // The database lost a migration a newer build's rollback left behind:
    // this build's queries would fail, so the node is not ready.
    let last = tsunagu_store_sqlite::MIGRATIONS.last().unwrap().version;
    exec(&n.db, &format!("DELETE FROM _sqlx_migrations WHERE version = {last}")).await.unwrap();
    let (status, body, _) = n.get(n.public, "/readyz", None).await;
    assert_eq!((status, body.as_str()), (503, format!("migrations pending: {last}").as_str()));
    assert_eq!(n.get(n.public, "/healthz", None).await.0, 200, "alive all the same");
}

/// Metrics count by route pattern and status on the metrics listener; the
/// raw path (which holds ids) never appears, and the public listener does
/// not serve them.
async fn story_metrics_on_their_own_listener(backend: Backend) {
    let n = node(backend, WebConfig::default()).await;
    for _ in 0..3 {
        assert_eq!(n.get(n.public, "/api/v1/families/918273", None).await.0, 401);
    }
    assert_eq!(n.get(n.public, "/nowhere/918273", None).await.0, 404);
    let (status, public_metrics, _) = n.get(n.public, "/metrics", None).await;
    assert_eq!(status, 404, "the public listener serves no metrics: {public_metrics}");
    let (status, text, _) = n.get(n.metrics, "/metrics", None).await;
    assert_eq!(status, 200);
    let has = |line: &str| text.lines().any(|l| l == line);
    assert!(has(r#"tsunagu_http_requests_total{method="GET",route="/api/v1/families/{id}",status="401"} 3"#), "{text}");
    assert!(has(r#"tsunagu_http_requests_total{method="GET",route="unmatched",status="404"} 2"#), "{text}");
    assert!(has(r#"tsunagu_http_request_duration_seconds_count{method="GET",route="/api/v1/families/{id}"} 3"#));
    assert!(!text.contains("918273"), "no raw path in the metrics");
    assert!(has("tsunagu_http_requests_in_flight 0"), "{text}");
    let pool = match backend {
        Backend::Sqlite => r#"tsunagu_db_pool_max_connections{backend="sqlite",pool="writer"} 1"#,
        Backend::Postgres => r#"tsunagu_db_pool_max_connections{backend="postgres",pool="main"}"#,
    };
    assert!(text.lines().any(|l| l.starts_with(pool)), "{text}");
    assert!(text.contains("# TYPE tsunagu_http_request_duration_seconds histogram"));
}

on_both!(
    request_ids => story_request_ids,
    health_and_readiness => story_health_and_readiness,
    metrics_on_their_own_listener => story_metrics_on_their_own_listener,
);

/// The SQLite file locked by another writer past the busy timeout: a
/// write is answered 503 `unavailable` (not 500), leaves nothing behind,
/// and the service writes again once the lock is gone; reads go on
/// meanwhile, so the node stays ready.
#[tokio::test]
async fn a_locked_sqlite_file_gives_503_and_recovers() {
    use crate::support::{notification, Scope, TestApp};
    use sqlx::Connection;
    use tsunagu_domain::roles::Role;

    let app = TestApp::start(Backend::Sqlite).await;
    let fx = &app.fx;
    app.account(&fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let nurse = app.token(&fx.setagaya, "nurse").await;
    let count = || async {
        let mut c = sqlx::SqliteConnection::connect(&app.db_url).await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM families").fetch_one(&mut c).await.unwrap();
        c.close().await.unwrap();
        n
    };
    let before = count().await;

    // Another writer (as another process would) holds the write lock.
    let mut other = sqlx::SqliteConnection::connect(&app.db_url).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut other).await.unwrap();
    let body = notification(fx.setagaya_area.id, "ヤマダ", "ハナコ", "2027-05-20");
    let (status, v) = app.post(&nurse, "/api/v1/families", &body).await;
    assert_eq!((status, v["error"]["code"].as_str()), (503, Some("unavailable")), "{v}");
    assert_eq!(app.http.get(app.url("/readyz")).send().await.unwrap().status(), 200, "reads go on");
    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    other.close().await.unwrap();
    assert_eq!(count().await, before, "nothing half-written");

    let (status, v) = app.post(&nurse, "/api/v1/families", &body).await;
    assert_eq!(status, 201, "written once the lock is gone: {v}");
    assert_eq!(count().await, before + 1);
    let (ok, printed) = app.verify_command(&["--no-checkpoints"]);
    assert!(ok, "{printed}");
}
