//! Checkpoints: what a municipality's chain looked like at a moment (its
//! last line's seq and hash), signed with the checkpoint key and kept outside
//! the database, one JSON object a line. The chain alone cannot tell that
//! its last lines were cut off with the head moved back, or that the whole
//! chain (lines and head) was removed; a later verification that finds a
//! checkpointed (seq, hash) missing can.

use crate::keys::CheckpointKey;
use crate::MunicipalityId;
use hmac::Mac;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The first field of every signed message, so that a checkpoint's
/// signature can never be taken for anything else signed with the key.
const DOMAIN: &str = "tsunagu.audit.checkpoint.v1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub municipality_id: MunicipalityId,
    /// The municipality's code, for people reading the file.
    pub municipality: String,
    /// The seq of the chain's last line (its number of lines).
    pub seq: i64,
    /// The hash of that line.
    pub hash: String,
    pub at: Timestamp,
    /// HMAC-SHA256 of the fields above under the checkpoint key, in hex.
    pub sig: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("line {line}: not a checkpoint ({reason})")]
    Unreadable { line: usize, reason: String },
    #[error("line {line}: the signature does not match (forged, edited, or signed with another key)")]
    BadSignature { line: usize },
}

fn mac(
    key: &CheckpointKey,
    m: MunicipalityId,
    code: &str,
    seq: i64,
    hash: &str,
    at: Timestamp,
) -> hmac::Hmac<sha2::Sha256> {
    let mut mac = key.mac();
    for part in [DOMAIN, &m.0.to_string(), code, &seq.to_string(), hash, &at.as_microsecond().to_string()] {
        mac.update(part.as_bytes());
        mac.update(&[0x1f]);
    }
    mac
}

impl Checkpoint {
    /// A signed checkpoint of the chain of `m` whose last line is (`seq`, `hash`).
    pub fn sign(key: &CheckpointKey, m: MunicipalityId, code: &str, seq: i64, hash: &str, at: Timestamp) -> Self {
        let at = Timestamp::from_microsecond(at.as_microsecond()).unwrap_or(at);
        let sig = hex::encode(mac(key, m, code, seq, hash, at).finalize().into_bytes());
        Self { municipality_id: m, municipality: code.to_owned(), seq, hash: hash.to_owned(), at, sig }
    }

    /// Whether the signature is the key's, in constant time.
    pub fn signature_ok(&self, key: &CheckpointKey) -> bool {
        let Ok(sig) = hex::decode(&self.sig) else {
            return false;
        };
        mac(key, self.municipality_id, &self.municipality, self.seq, &self.hash, self.at).verify_slice(&sig).is_ok()
    }

    /// The checkpoint as one line of the file (no newline).
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Reads the checkpoints of a file's text, checking every signature: one
/// unreadable or badly signed line fails the whole file (the file is
/// append-only; a line that does not verify means someone wrote in it).
/// Empty lines are skipped.
pub fn parse_checkpoints(text: &str, key: &CheckpointKey) -> Result<Vec<Checkpoint>, CheckpointError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let c: Checkpoint =
            serde_json::from_str(raw).map_err(|e| CheckpointError::Unreadable { line, reason: e.to_string() })?;
        if !c.signature_ok(key) {
            return Err(CheckpointError::BadSignature { line });
        }
        out.push(c);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::MasterKey;

    fn key(b: u8) -> CheckpointKey {
        MasterKey::from_bytes(&[b; 32]).unwrap().checkpoint_key()
    }

    fn at() -> Timestamp {
        "2026-11-22T01:00:00.123456789Z".parse().unwrap()
    }

    #[test]
    fn a_signed_checkpoint_verifies_and_round_trips_through_its_line() {
        let c = Checkpoint::sign(&key(1), MunicipalityId(3), "131121", 42, "ab12", at());
        assert!(c.signature_ok(&key(1)));
        assert_eq!(c.at.as_microsecond(), at().as_microsecond(), "kept to the microsecond");
        let text = format!("{}\n\n{}\n", c.to_line(), c.to_line());
        assert_eq!(parse_checkpoints(&text, &key(1)), Ok(vec![c.clone(), c]));
    }

    #[test]
    fn another_key_or_any_changed_field_fails_the_signature() {
        let c = Checkpoint::sign(&key(1), MunicipalityId(3), "131121", 42, "ab12", at());
        assert!(!c.signature_ok(&key(2)));
        let changed = [
            Checkpoint { municipality_id: MunicipalityId(4), ..c.clone() },
            Checkpoint { municipality: "082350".into(), ..c.clone() },
            Checkpoint { seq: 41, ..c.clone() },
            Checkpoint { hash: "ab13".into(), ..c.clone() },
            Checkpoint { at: Timestamp::from_second(0).unwrap(), ..c.clone() },
            Checkpoint { sig: "zz".into(), ..c.clone() },
            Checkpoint { sig: String::new(), ..c.clone() },
        ];
        for x in changed {
            assert!(!x.signature_ok(&key(1)), "{x:?}");
        }
    }

    #[test]
    fn a_file_with_a_forged_or_unreadable_line_is_refused() {
        let good = Checkpoint::sign(&key(1), MunicipalityId(3), "131121", 42, "ab12", at()).to_line();
        let forged = Checkpoint::sign(&key(2), MunicipalityId(3), "131121", 7, "cd34", at()).to_line();
        assert_eq!(
            parse_checkpoints(&format!("{good}\n{forged}\n"), &key(1)),
            Err(CheckpointError::BadSignature { line: 2 })
        );
        assert!(matches!(
            parse_checkpoints(&format!("{good}\nnot json\n"), &key(1)),
            Err(CheckpointError::Unreadable { line: 2, .. })
        ));
    }
}
