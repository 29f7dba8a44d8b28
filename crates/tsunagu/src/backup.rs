//! `tsunagu backup` and `tsunagu restore` for the SQLite file. PostgreSQL
//! has its own tools (`pg_dump`, `pg_restore`: docs/DEPLOY.md).
//!
//! A backup is taken while the service runs: one `VACUUM INTO`, the
//! database as of one instant. A restore checks the copy first (integrity,
//! and migrations this build knows unchanged), refuses to replace the file
//! of a service that is running (`--force` to do it anyway), and replaces
//! the file in one rename, with its old `-wal` and `-shm` removed (a stale
//! WAL would otherwise be played over the restored file).

use anyhow::{bail, Context};
use jiff::Timestamp;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tsunagu_store_sqlite::backup::{check_copy, forget_nodes, live_nodes, vacuum_into, CopyCheck};

/// The file of an `sqlite://` URL; an error for any other database.
pub fn sqlite_path(url: &str, what: &str) -> anyhow::Result<PathBuf> {
    match crate::sqlite_file(url) {
        Some(p) => Ok(PathBuf::from(p)),
        None if url.starts_with("postgres") => {
            bail!("{what} is for the SQLite file; PostgreSQL is backed up with pg_dump (docs/DEPLOY.md)")
        }
        None => bail!("{what} needs a database file: sqlite://PATH"),
    }
}

fn size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn sidecar(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Copies the database at `url` to `to` (which must not exist), showing
/// progress when `progress` (a terminal), then checks the copy.
pub async fn backup(url: &str, to: &Path, progress: bool) -> anyhow::Result<CopyCheck> {
    let source = sqlite_path(url, "backup")?;
    if !source.exists() {
        bail!("there is no database at {}", source.display());
    }
    if to.exists() {
        bail!("{} exists already: back up to a new file", to.display());
    }
    let total = size(&source) + size(&sidecar(&source, "-wal"));
    let copy = vacuum_into(url, to);
    tokio::pin!(copy);
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            done = &mut copy => {
                done.with_context(|| format!("copying {} to {}", source.display(), to.display()))?;
                break;
            }
            _ = tick.tick(), if progress => {
                eprint!("\rbackup: {:.1} MiB written (the database is {:.1} MiB with its WAL)", mib(size(to)), mib(total));
                let _ = std::io::stderr().flush();
            }
        }
    }
    if progress {
        eprintln!();
    }
    let check = check_copy(to).await.context("checking the copy")?;
    if !check.is_sound() {
        bail!("the copy at {} fails its integrity check: {}", to.display(), check.integrity.join("; "));
    }
    Ok(check)
}

/// Replaces the database at `url` with the copy at `from`, after checking
/// the copy, and — unless `force` — that no node serves the database now.
/// Returns the copy's check (its pending migrations are applied at the
/// next start).
pub async fn restore(url: &str, from: &Path, force: bool, now: Timestamp) -> anyhow::Result<CopyCheck> {
    let target = sqlite_path(url, "restore")?;
    if !from.is_file() {
        bail!("there is no backup at {}", from.display());
    }
    let check = check_copy(from).await.with_context(|| format!("reading the backup {}", from.display()))?;
    if !check.is_sound() {
        bail!("the backup fails its integrity check: {}", check.integrity.join("; "));
    }
    if !check.schema.changed.is_empty() {
        bail!(
            "the backup's migrations {:?} differ from this build's: it was not made by tsunagu",
            check.schema.changed
        );
    }
    if !check.schema.unknown.is_empty() {
        bail!(
            "the backup was migrated by a newer build (migrations {:?}): restore it with that build",
            check.schema.unknown
        );
    }
    if target.exists() {
        let nodes = live_nodes(&target, now).await.with_context(|| format!("reading {}", target.display()))?;
        if let Some((holder, until)) = nodes.first() {
            if !force {
                bail!(
                    "a service is running on {} (node {holder}, last heard from until {until}): stop it first \
                     (or --force, if it is gone)",
                    target.display()
                );
            }
            tracing::warn!(node = %holder, "--force: replacing the file of a service that said it was running");
        }
    }
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = sidecar(&target, ".restoring");
    let _ = std::fs::remove_file(&tmp);
    std::fs::copy(from, &tmp).with_context(|| format!("copying {} to {}", from.display(), tmp.display()))?;
    forget_nodes(&tmp).await.context("clearing the copied service's node rows")?;
    std::fs::File::open(&tmp).and_then(|f| f.sync_all()).context("syncing the restored file")?;
    for suffix in ["-wal", "-shm"] {
        let p = sidecar(&target, suffix);
        if p.exists() {
            std::fs::remove_file(&p).with_context(|| format!("removing {}", p.display()))?;
        }
    }
    std::fs::rename(&tmp, &target).with_context(|| format!("moving the copy to {}", target.display()))?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(check)
}
