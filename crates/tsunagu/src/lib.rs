//! The service assembled: a store chosen from the database URL, the web
//! router, and the operator commands (audit verification, demo loading).

use anyhow::{bail, Context};
use jiff::Timestamp;
use std::collections::BTreeMap;
use std::sync::Arc;
use tsunagu_domain::audit::checkpoint::Checkpoint;
use tsunagu_domain::audit::{AuditAction, ChainError, ChainVerifier};
use tsunagu_domain::keys::ChainKey;
use tsunagu_domain::roles::Role;
use tsunagu_domain::{AccountId, MunicipalityId};
use tsunagu_store::{Store, StoreKeys};

pub mod backup;
pub mod checkpoints;
pub mod daily;
pub mod import;
pub mod keyfile;
pub mod push;
pub mod reminders;
pub mod smtp;

/// Opens and migrates the store named by `url`: `sqlite://…` (the embedded
/// default) or `postgres://…` / `postgresql://…`, with the keys derived from
/// the operator's key.
pub async fn open_store(url: &str, keys: StoreKeys) -> anyhow::Result<Arc<dyn Store>> {
    let store: Arc<dyn Store> = if url.starts_with("sqlite:") {
        if let Some(path) = sqlite_file(url) {
            if let Some(dir) = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            }
        }
        Arc::new(tsunagu_store_sqlite::SqliteStore::connect(url, keys).await.context("opening the SQLite database")?)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Arc::new(tsunagu_store_postgres::PgStore::connect(url, keys).await.context("connecting to PostgreSQL")?)
    } else {
        bail!("the database URL must start with sqlite:// or postgres://");
    };
    store.migrate().await.context("migrating the database")?;
    Ok(store)
}

pub(crate) fn sqlite_file(url: &str) -> Option<&str> {
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

/// Walks every municipality's audit chain from the first line to its head,
/// checking every link with the chain key and that the chain still holds
/// every (seq, hash) a signed checkpoint saw; a municipality that has
/// checkpoints but is no longer in the database is reported `Gone`. Read
/// the checkpoints before calling this, so that none of them can have seen
/// a line newer than the walk reads.
pub async fn verify_audit(
    store: &dyn Store,
    key: &ChainKey,
    checkpoints: &[Checkpoint],
) -> anyhow::Result<Vec<ChainReport>> {
    let mut seen: BTreeMap<MunicipalityId, (String, Vec<(i64, String)>)> = BTreeMap::new();
    for c in checkpoints {
        let entry = seen.entry(c.municipality_id).or_insert_with(|| (c.municipality.clone(), Vec::new()));
        entry.1.push((c.seq, c.hash.clone()));
    }
    let mut reports = Vec::new();
    for m in store.municipalities().await? {
        let checkpoints = seen.remove(&m.id).map(|(_, c)| c).unwrap_or_default();
        let mut verifier = ChainVerifier::new(key).with_checkpoints(checkpoints);
        let mut after = 0;
        // The head is read once the lines run out; if a running service
        // appended meanwhile, the lines up to the new head are read too.
        let mut reread_after = None;
        let result = loop {
            let lines = store.audit_lines(m.id, after, 1000).await?;
            let Some(last) = lines.last() else {
                let head = store.audit_head(m.id).await?;
                match &head {
                    Some((seq, _)) if *seq > after && reread_after != Some(after) => {
                        reread_after = Some(after);
                        continue;
                    }
                    _ => break verifier.finish(head),
                }
            };
            after = last.seq;
            if let Err(e) = lines.iter().try_for_each(|l| verifier.push(l)) {
                break Err(e);
            }
        };
        reports.push(ChainReport { municipality_code: m.code.to_string(), result });
    }
    for (code, _) in seen.into_values() {
        reports.push(ChainReport { municipality_code: code, result: Err(ChainError::Gone) });
    }
    Ok(reports)
}

/// What the service does with every chain before it writes to the store:
/// a chain whose last line was written before the chain was keyed gets a
/// keyed line (`audit.chain_keyed`, by account 0, the service itself) that
/// seals the lines before it — unless checkpoints show the chain was keyed
/// already, which means it was rewritten. A chain whose last line is not
/// linked with this key is refused: appending to it with the wrong key
/// would leave every later line unverifiable. Returns the codes of the
/// municipalities whose chain was sealed.
pub async fn prepare_audit(
    store: &dyn Store,
    key: &ChainKey,
    checkpoints: &[Checkpoint],
    now: Timestamp,
) -> anyhow::Result<Vec<String>> {
    let mut sealed = Vec::new();
    for m in store.municipalities().await? {
        let Some((seq, hash)) = store.audit_head(m.id).await? else { continue };
        if seq == 0 {
            continue;
        }
        let line = store.audit_lines(m.id, seq - 1, 1).await?.into_iter().next();
        let Some(line) = line.filter(|l| l.seq == seq && l.hash == hash) else {
            bail!(
                "the audit chain of {} has no line {seq} where its head says it ends: \
                 `tsunagu audit verify` reports what was done to it",
                m.code
            );
        };
        let checkpointed = checkpoints.iter().any(|c| c.municipality_id == m.id);
        match line.keyed(key) {
            Some(true) => {}
            Some(false) if !checkpointed => {
                let ctx = tsunagu_domain::audit::Requester {
                    municipality_id: m.id,
                    actor: AccountId(0),
                    role: Role::Admin,
                    remote_addr: String::new(),
                    reason: "lines written before the chain was keyed".into(),
                    at: now,
                }
                .without_a_policy_decision();
                store.write_audit(&ctx, AuditAction::ChainKeyed, None, &format!("legacy_through={seq}")).await?;
                tracing::info!(municipality = %m.code, legacy_through = seq, "sealed the audit lines written before the chain was keyed");
                sealed.push(m.code.to_string());
            }
            Some(false) => bail!(
                "the audit chain of {} ends in lines without the key although a signed checkpoint saw it \
                 keyed: it was rewritten; `tsunagu audit verify` reports what",
                m.code
            ),
            None => bail!(
                "the audit chain of {} ends in line {seq}, which is not linked with this key: start with the \
                 key the chain was written with (--key-file, TSUNAGU_KEY_FILE or TSUNAGU_KEY); if it is the \
                 right key, the line was changed and `tsunagu audit verify` reports what",
                m.code
            ),
        }
    }
    Ok(sealed)
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
