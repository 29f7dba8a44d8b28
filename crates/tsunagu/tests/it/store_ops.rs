//! Storage stories of operating the service: the daily job's lease, so
//! that the job runs once a day however many nodes serve one database.
//! Each runs on SQLite and on PostgreSQL (`on_both!`).

use crate::store_support::*;
use crate::support::Backend;
use jiff::SignedDuration;
use tsunagu::daily::{run_timeline_once, DailyRun, LEASE, TIMELINE_JOB};
use tsunagu_store::Lease;

fn ran(runs: &[DailyRun]) -> usize {
    runs.iter().filter(|r| matches!(r, DailyRun::Ran(_))).count()
}

/// Nodes racing for the day's job, each on its own connections.
async fn race(nodes: &[Db], day: jiff::civil::Date, now: jiff::Timestamp) -> Vec<DailyRun> {
    let handles: Vec<_> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let n = n.clone();
            tokio::spawn(async move { run_timeline_once(n.as_ref(), day, &format!("node-{i}"), now).await.unwrap() })
        })
        .collect();
    let mut runs = Vec::new();
    for h in handles {
        runs.push(h.await.unwrap());
    }
    runs
}

/// Three nodes start the day's job at once: exactly one runs it, the others
/// find it held or done; asked again that day none runs it; the next day
/// exactly one does.
async fn story_the_daily_job_runs_once_however_many_nodes(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, area, _) = town(&s, "131121").await;
    family(&s, m, area, "ハナコ").await;
    let nodes = vec![s.clone(), another_node(&db).await, another_node(&db).await];
    let now = at("2026-11-22T15:00:00Z");

    let runs = race(&nodes, today(), now).await;
    assert_eq!(ran(&runs), 1, "{runs:?}");
    let DailyRun::Ran(reports) = runs.iter().find(|r| matches!(r, DailyRun::Ran(_))).unwrap() else { unreachable!() };
    assert_eq!(reports.len(), 1, "one municipality's job");
    assert!(runs.iter().all(|r| !matches!(r, DailyRun::HeldElsewhere { by, .. } if by.is_empty())), "{runs:?}");

    let later = now.checked_add(SignedDuration::from_hours(2)).unwrap();
    let again = race(&nodes, today(), later).await;
    assert!(again.iter().all(|r| matches!(r, DailyRun::AlreadyDone)), "{again:?}");

    let tomorrow = today().tomorrow().unwrap();
    let next = race(&nodes, tomorrow, now.checked_add(SignedDuration::from_hours(24)).unwrap()).await;
    assert_eq!(ran(&next), 1, "{next:?}");

    let counts = tsunagu::daily::work_counts(s.as_ref(), tomorrow).await.unwrap();
    assert_eq!(counts.iter().map(|(code, _)| code.as_str()).collect::<Vec<_>>(), ["131121"]);
    for n in nodes.into_iter().skip(1) {
        close_node(n).await;
    }
    finish(s, db).await;
}

/// A node that dies holding the lease keeps the others off until it
/// expires; then one of them runs the day, and the dead node's late finish
/// changes nothing.
async fn story_a_dead_nodes_lease_expires(backend: Backend) {
    let (s, db) = fresh(backend).await;
    town(&s, "131121").await;
    let other = another_node(&db).await;
    let now = at("2026-11-22T15:00:00Z");
    let until = now.checked_add(LEASE).unwrap();
    assert_eq!(s.take_daily(TIMELINE_JOB, today(), "dead", now, until).await.unwrap(), Lease::Taken);

    let soon = now.checked_add(SignedDuration::from_mins(1)).unwrap();
    match run_timeline_once(other.as_ref(), today(), "alive", soon).await.unwrap() {
        DailyRun::HeldElsewhere { by, until: held_until } => {
            assert_eq!(by, "dead");
            assert_eq!(held_until, until);
        }
        run => panic!("{run:?}"),
    }
    let after_expiry = until.checked_add(SignedDuration::from_secs(1)).unwrap();
    assert!(matches!(
        run_timeline_once(other.as_ref(), today(), "alive", after_expiry).await.unwrap(),
        DailyRun::Ran(_)
    ));
    assert!(!s.finish_daily(TIMELINE_JOB, today(), "dead", after_expiry).await.unwrap(), "the lease is no longer its");
    assert!(matches!(
        run_timeline_once(s.as_ref(), today(), "dead", after_expiry).await.unwrap(),
        DailyRun::AlreadyDone
    ));
    close_node(other).await;
    finish(s, db).await;
}

on_both!(multi_thread:
    the_daily_job_runs_once_however_many_nodes => story_the_daily_job_runs_once_however_many_nodes,
    a_dead_nodes_lease_expires => story_a_dead_nodes_lease_expires,
);
