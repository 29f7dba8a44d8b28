//! The service assembled: a store chosen from the database URL, the web
//! router, and the operator commands (audit verification, demo loading).

use anyhow::{bail, Context};
use std::sync::Arc;
use tsunagu_domain::audit::{ChainError, ChainVerifier};
use tsunagu_store::Store;

/// Opens and migrates the store named by `url`: `sqlite://…` (the embedded
/// default) or `postgres://…` / `postgresql://…`.
pub async fn open_store(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    let store: Arc<dyn Store> = if url.starts_with("sqlite:") {
        if let Some(path) = sqlite_file(url) {
            if let Some(dir) = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            }
        }
        Arc::new(tsunagu_store_sqlite::SqliteStore::connect(url).await.context("opening the SQLite database")?)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Arc::new(tsunagu_store_postgres::PgStore::connect(url).await.context("connecting to PostgreSQL")?)
    } else {
        bail!("the database URL must start with sqlite:// or postgres://");
    };
    store.migrate().await.context("migrating the database")?;
    Ok(store)
}

fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && !path.contains(":memory:")).then_some(path)
}

/// The outcome of verifying one municipality's audit chain.
#[derive(Debug)]
pub struct ChainReport {
    pub municipality_code: String,
    pub result: Result<u64, ChainError>,
}

/// Walks every municipality's audit chain from the first line to the head.
pub async fn verify_audit(store: &dyn Store) -> anyhow::Result<Vec<ChainReport>> {
    let mut reports = Vec::new();
    for m in store.municipalities().await? {
        let mut verifier = ChainVerifier::default();
        let mut after = 0;
        let result = loop {
            let lines = store.audit_lines(m.id, after, 1000).await?;
            let Some(last) = lines.last() else {
                break verifier.finish(store.audit_head(m.id).await?);
            };
            after = last.seq;
            if let Err(e) = lines.iter().try_for_each(|l| verifier.push(l)) {
                break Err(e);
            }
        };
        reports.push(ChainReport { municipality_code: m.code.to_string(), result });
    }
    Ok(reports)
}

/// What the daily timeline job did in one municipality.
#[derive(Debug)]
pub struct TimelineReport {
    pub municipality_code: String,
    /// Pregnancies whose contacts were (re)built with the current rules.
    pub rebuilt: u64,
    pub missed: tsunagu_store::MissedRun,
}

/// The daily timeline job, for every municipality: first rebuilds the
/// contacts of pregnancies built with older rules (or none: records from
/// before the timeline, a change of the kinds a city runs), in batches, then
/// stamps the contacts whose windows closed since the last run as missed.
/// Both steps touch only what changed since the last run.
pub async fn run_timeline_jobs(store: &dyn Store, today: jiff::civil::Date) -> anyhow::Result<Vec<TimelineReport>> {
    const BATCH: u32 = 500;
    let mut reports = Vec::new();
    for m in store.municipalities().await? {
        let mut rebuilt = 0;
        loop {
            let n = store.backfill_timelines(m.id, today, BATCH).await?;
            rebuilt += n;
            if n < u64::from(BATCH) {
                break;
            }
        }
        let missed = store.mark_missed(m.id, today).await?;
        reports.push(TimelineReport { municipality_code: m.code.to_string(), rebuilt, missed });
    }
    Ok(reports)
}
