//! The daily timeline job once a day however many nodes serve one
//! database: each node's loop asks for the job's lease (`OpsStore::take_daily`),
//! and only the node that gets it runs [`run_timeline_jobs`](crate::run_timeline_jobs),
//! then records the day done. A node that dies while running leaves a
//! lease that expires after [`LEASE`]; the next node to look runs the day
//! again (the job's steps are idempotent: a watermark per municipality).
//! `tsunagu timeline-job` is the operator's "run it now" and takes no lease.

use crate::TimelineReport;
use jiff::{SignedDuration, Timestamp};
use tsunagu_store::{Lease, Store, WorkCounts, WorkScope};

/// The lease's name for the daily timeline job.
pub const TIMELINE_JOB: &str = "timeline";

/// How long a node may hold the lease before another may take it: far
/// longer than the job takes (BENCHMARKS.md), short enough that a node that
/// died does not cost the day.
pub const LEASE: SignedDuration = SignedDuration::from_mins(30);

/// What one node's turn at the daily job came to.
#[derive(Debug)]
pub enum DailyRun {
    /// This node ran the day's job.
    Ran(Vec<TimelineReport>),
    /// The day's job is done (by this node or another).
    AlreadyDone,
    /// Another node is running it (or died doing so) until `until`.
    HeldElsewhere { by: String, until: Timestamp },
}

/// Runs the day's timeline job if no node has, as `holder` (a name unique
/// to this process: [`node_name`]).
pub async fn run_timeline_once(
    store: &dyn Store,
    today: jiff::civil::Date,
    holder: &str,
    now: Timestamp,
) -> anyhow::Result<DailyRun> {
    let until = now.checked_add(LEASE)?;
    match store.take_daily(TIMELINE_JOB, today, holder, now, until).await? {
        Lease::Done => Ok(DailyRun::AlreadyDone),
        Lease::Held { by, until } => Ok(DailyRun::HeldElsewhere { by, until }),
        Lease::Taken => {
            // A failure leaves the lease ours until it expires: this node
            // tries again at its next check, another after the expiry.
            let reports = crate::run_timeline_jobs(store, today).await?;
            if !store.finish_daily(TIMELINE_JOB, today, holder, now).await? {
                tracing::warn!(
                    lease_secs = LEASE.as_secs(),
                    "the timeline job outlasted its lease; another node may have run it too (harmless: it is idempotent)"
                );
            }
            Ok(DailyRun::Ran(reports))
        }
    }
}

/// The municipality-wide work-list counts of every municipality, by code
/// (counts only: no audit line, nothing personal), for the metrics: exact,
/// not capped as the chips are (#16; one request a scrape, not a page's).
pub async fn work_counts(store: &dyn Store, today: jiff::civil::Date) -> anyhow::Result<Vec<(String, WorkCounts)>> {
    let mut out = Vec::new();
    for m in store.municipalities().await? {
        let scope = WorkScope {
            filter: tsunagu_domain::policy::FamilyFilter::Municipality(m.id),
            owner: None,
            areas: Vec::new(),
            kind: None,
            today,
        };
        out.push((m.code.to_string(), store.work_counts(&scope, None).await?));
    }
    Ok(out)
}

/// This process's name as a lease holder: host, process id and a random
/// part (a restarted node is a new holder).
pub fn node_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "node".to_owned());
    let mut random = [0u8; 4];
    let _ = getrandom::getrandom(&mut random);
    format!("{host}:{}:{}", std::process::id(), hex::encode(random))
}
