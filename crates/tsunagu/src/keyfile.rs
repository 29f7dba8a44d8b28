//! Where the operator's key comes from: `TSUNAGU_KEY` (hex or base64), a
//! key file (`--key-file`, `TSUNAGU_KEY_FILE`), or else the default key file
//! beside the default SQLite file, created with fresh random bytes (mode
//! 0600) on first start and reused after. The key itself never prints.

use anyhow::{bail, Context};
use base64::Engine;
use std::io::Write;
use std::path::{Path, PathBuf};
use tsunagu_domain::keys::{MasterKey, MIN_KEY_BYTES};

/// The key file used when no key is given.
pub const DEFAULT_KEY_FILE: &str = "tsunagu-data/tsunagu.key";

/// The environment variable that may hold the key itself.
pub const KEY_ENV: &str = "TSUNAGU_KEY";

/// Where the key in use came from (to say so in the log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Environment,
    File(PathBuf),
    /// The default key file, created now.
    Created(PathBuf),
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Environment => write!(f, "the {KEY_ENV} environment variable"),
            KeySource::File(p) => write!(f, "{}", p.display()),
            KeySource::Created(p) => write!(f, "{} (created now)", p.display()),
        }
    }
}

/// Reads a key written as text: hex, or base64 (standard or URL-safe, with
/// or without padding). Surrounding whitespace is ignored.
pub fn parse_key(text: &str) -> anyhow::Result<MasterKey> {
    let text = text.trim();
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    // Hex first: a hex text is also valid base64, of other bytes.
    let bytes = hex::decode(text)
        .ok()
        .or_else(|| [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD].iter().find_map(|e| e.decode(text).ok()));
    let Some(bytes) = bytes else {
        bail!("the key is neither hex nor base64");
    };
    Ok(MasterKey::from_bytes(&bytes)?)
}

/// The key: from `env_key` (the value of `TSUNAGU_KEY`), else from
/// `key_file`, else from `default_file`, which is created if it is missing
/// and `create` says so (a command that only reads, like `audit verify`,
/// must not make up a key). A key given both ways is refused rather than
/// one silently preferred.
pub fn load_key(
    env_key: Option<&str>,
    key_file: Option<&Path>,
    default_file: &Path,
    create: bool,
) -> anyhow::Result<(MasterKey, KeySource)> {
    match (env_key, key_file) {
        (Some(_), Some(_)) => bail!("a key is given both in {KEY_ENV} and as a key file: give one"),
        (Some(text), None) => {
            Ok((parse_key(text).with_context(|| format!("reading {KEY_ENV}"))?, KeySource::Environment))
        }
        (None, Some(path)) => Ok((read_key_file(path)?, KeySource::File(path.to_owned()))),
        (None, None) => {
            if default_file.exists() {
                Ok((read_key_file(default_file)?, KeySource::File(default_file.to_owned())))
            } else if !create {
                bail!(
                    "no key: give --key-file, TSUNAGU_KEY_FILE or {KEY_ENV} (the default key file {} is missing)",
                    default_file.display()
                )
            } else {
                Ok((create_key_file(default_file)?, KeySource::Created(default_file.to_owned())))
            }
        }
    }
}

fn read_key_file(path: &Path) -> anyhow::Result<MasterKey> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading the key file {}", path.display()))?;
    warn_if_readable_by_others(path);
    parse_key(&text).with_context(|| format!("reading the key file {}", path.display()))
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "the key file can be read by others than its owner (chmod 600 it)");
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

/// Writes a fresh random key, hex, to a new file only its owner may read.
/// Fails if the file appeared meanwhile (another process created it first).
fn create_key_file(path: &Path) -> anyhow::Result<MasterKey> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut bytes = [0u8; MIN_KEY_BYTES];
    getrandom::getrandom(&mut bytes).context("reading random bytes for a new key")?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).with_context(|| format!("creating the key file {}", path.display()))?;
    file.write_all(format!("{}\n", hex::encode(bytes)).as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing the key file {}", path.display()))?;
    Ok(MasterKey::from_bytes(&bytes)?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tsunagu-keyfile-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn same(a: &MasterKey, b: &MasterKey) -> bool {
        let at = tsunagu_domain::audit::checkpoint::Checkpoint::sign(
            &a.checkpoint_key(),
            tsunagu_domain::MunicipalityId(1),
            "131121",
            1,
            "x",
            jiff::Timestamp::UNIX_EPOCH,
        );
        at.signature_ok(&b.checkpoint_key())
    }

    #[test]
    fn hex_and_base64_keys_are_read_and_short_ones_refused() {
        let raw = [42u8; 32];
        let hexed = parse_key(&format!("  {}\n", hex::encode(raw))).unwrap();
        let b64 = parse_key(&base64::engine::general_purpose::STANDARD.encode(raw)).unwrap();
        let url = parse_key(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)).unwrap();
        assert!(same(&hexed, &b64) && same(&b64, &url));
        assert!(parse_key(&hex::encode([1u8; 16])).is_err());
        assert!(parse_key("not a key!").is_err());
        assert!(parse_key("").is_err());
    }

    #[test]
    fn the_default_key_file_is_created_once_private_and_reused() {
        let dir = temp_dir("default");
        let path = dir.join("tsunagu.key");
        assert!(load_key(None, None, &path, false).is_err(), "a reader never makes up a key");
        let (first, source) = load_key(None, None, &path, true).unwrap();
        assert_eq!(source, KeySource::Created(path.clone()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let (again, source) = load_key(None, None, &path, false).unwrap();
        assert_eq!(source, KeySource::File(path.clone()));
        assert!(same(&first, &again));
        // An explicit key file must exist; a key given twice is refused.
        assert!(load_key(None, Some(&dir.join("missing.key")), &path, true).is_err());
        assert!(load_key(Some(&hex::encode([1u8; 32])), Some(&path), &path, true).is_err());
        let (env, source) = load_key(Some(&hex::encode([1u8; 32])), None, &path, true).unwrap();
        assert_eq!(source, KeySource::Environment);
        assert!(!same(&env, &first));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
