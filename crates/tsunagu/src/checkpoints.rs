//! The checkpoint file: signed checkpoints of every municipality's audit
//! chain (see `tsunagu_domain::audit::checkpoint`), one JSON object a line,
//! appended by the service and read by `tsunagu audit verify`. It lives
//! outside the database, so that whoever can write the database cannot
//! also take back what the file says the chains held.

use anyhow::Context;
use jiff::Timestamp;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use tsunagu_domain::audit::checkpoint::{parse_checkpoints, Checkpoint};
use tsunagu_domain::keys::CheckpointKey;
use tsunagu_domain::MunicipalityId;
use tsunagu_store::Store;

/// The checkpoint file used when none is given (beside the default key file).
pub const DEFAULT_CHECKPOINT_FILE: &str = "tsunagu-data/audit-checkpoints.jsonl";

/// The checkpoints of the file at `path`, every signature checked; `None`
/// if there is no file.
pub fn read_checkpoints(path: &Path, key: &CheckpointKey) -> anyhow::Result<Option<Vec<Checkpoint>>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading the checkpoint file {}", path.display())),
    };
    let checkpoints =
        parse_checkpoints(&text, key).with_context(|| format!("the checkpoint file {}", path.display()))?;
    Ok(Some(checkpoints))
}

/// Appends checkpoints of the chains that grew since the last ones.
pub struct Checkpointer {
    path: PathBuf,
    key: CheckpointKey,
    /// The seq of each municipality's last checkpoint in the file.
    last: HashMap<MunicipalityId, i64>,
}

impl Checkpointer {
    /// Starts from what the file already holds (if it exists, every line
    /// must verify), which it returns too.
    pub fn open(path: &Path, key: CheckpointKey) -> anyhow::Result<(Self, Vec<Checkpoint>)> {
        let existing = read_checkpoints(path, &key)?.unwrap_or_default();
        let mut last = HashMap::new();
        for c in &existing {
            let seq = last.entry(c.municipality_id).or_insert(c.seq);
            *seq = (*seq).max(c.seq);
        }
        Ok((Self { path: path.to_owned(), key, last }, existing))
    }

    /// Checkpoints every chain whose head moved on since its last
    /// checkpoint, in one append. Returns how many were written.
    pub async fn write(&mut self, store: &dyn Store, at: Timestamp) -> anyhow::Result<usize> {
        let mut new = Vec::new();
        for m in store.municipalities().await? {
            let Some((seq, hash)) = store.audit_head(m.id).await? else { continue };
            let last = self.last.get(&m.id).copied().unwrap_or(0);
            if seq < last {
                // Never written by the service: `audit verify` reports it.
                tracing::error!(
                    municipality = %m.code,
                    seq,
                    checkpoint_seq = last,
                    "an audit chain is shorter than at its last checkpoint"
                );
            }
            if seq > last {
                new.push(Checkpoint::sign(&self.key, m.id, &m.code.to_string(), seq, &hash, at));
            }
        }
        if new.is_empty() {
            return Ok(0);
        }
        let text: String = new.iter().map(|c| c.to_line() + "\n").collect();
        append(&self.path, text.as_bytes())?;
        for c in &new {
            self.last.insert(c.municipality_id, c.seq);
        }
        Ok(new.len())
    }
}

fn append(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).with_context(|| format!("opening the checkpoint file {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_data())
        .with_context(|| format!("writing the checkpoint file {}", path.display()))
}
