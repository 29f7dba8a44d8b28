//! The operator's key and the keys derived from it.
//!
//! One secret, held outside the database (a file or the environment), keys
//! everything the database must not be able to forge or read on its own:
//! the audit chain's links, the checkpoints of the chain kept outside the
//! database, and the encryption of TOTP secrets at rest. Each use gets its
//! own subkey, `HMAC-SHA256(key, "tsunagu/<purpose>")`, so that no value
//! made for one purpose is ever valid for another.
//!
//! No key ever prints: `Debug` is redacted and there is no `Display`.

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::fmt;

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// The fewest bytes a key may have (256 bits).
pub const MIN_KEY_BYTES: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("a key must have at least {MIN_KEY_BYTES} bytes; this one has {0}")]
    TooShort(usize),
}

/// An HMAC-SHA256 instance keyed by `key`. HMAC pads a key shorter than the
/// hash's block (64 bytes) with zeros and hashes a longer one first; doing
/// that here makes keying infallible (`new_from_slice` would return a
/// `Result` that can never be an error).
pub(crate) fn hmac_sha256(key: &[u8]) -> HmacSha256 {
    let mut block = [0u8; 64];
    if key.len() > block.len() {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    <HmacSha256 as KeyInit>::new(&block.into())
}

/// The operator's key.
pub struct MasterKey(Vec<u8>);

impl MasterKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        if bytes.len() < MIN_KEY_BYTES {
            return Err(KeyError::TooShort(bytes.len()));
        }
        Ok(Self(bytes.to_vec()))
    }

    fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut mac = hmac_sha256(&self.0);
        mac.update(b"tsunagu/");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Keys the links of the audit chain.
    pub fn chain_key(&self) -> ChainKey {
        ChainKey(self.derive("audit-chain"))
    }

    /// Signs the checkpoints of the chains written outside the database.
    pub fn checkpoint_key(&self) -> CheckpointKey {
        CheckpointKey(self.derive("audit-checkpoint"))
    }

    /// Encrypts TOTP secrets at rest.
    pub fn totp_key(&self) -> SealKey {
        SealKey(self.derive("totp"))
    }

    /// The service's VAPID key pair for web push (#10): the same on every
    /// node, never stored; a new operator's key means new subscriptions.
    pub fn vapid_key(&self) -> Result<crate::push::VapidKey, crate::push::PushError> {
        crate::push::VapidKey::from_seed(&self.derive("web-push-vapid"))
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

macro_rules! subkey {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name([u8; 32]);

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }
    )*};
}

subkey!(
    /// The subkey of the audit chain (see [`crate::audit`]).
    ChainKey,
    /// The subkey that signs checkpoints (see [`crate::audit::checkpoint`]).
    CheckpointKey,
    /// The subkey of an authenticated cipher (TOTP secrets at rest).
    SealKey,
);

impl ChainKey {
    pub(crate) fn mac(&self) -> HmacSha256 {
        hmac_sha256(&self.0)
    }
}

impl CheckpointKey {
    pub(crate) fn mac(&self) -> HmacSha256 {
        hmac_sha256(&self.0)
    }
}

impl SealKey {
    /// The key bytes, for the cipher that uses them (in the store).
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keying_matches_hmac_for_every_key_length() {
        for len in [0, 1, 32, 63, 64, 65, 200] {
            let key: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut ours = hmac_sha256(&key);
            let mut theirs = <HmacSha256 as Mac>::new_from_slice(&key).unwrap();
            ours.update(b"message");
            theirs.update(b"message");
            assert_eq!(ours.finalize().into_bytes(), theirs.finalize().into_bytes(), "key of {len} bytes");
        }
    }

    #[test]
    fn rfc4231_case_2() {
        // HMAC-SHA-256 test vector 2 of RFC 4231 ("Jefe").
        let mut mac = hmac_sha256(b"Jefe");
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn subkeys_differ_by_purpose_and_by_key_and_never_print() {
        let a = MasterKey::from_bytes(&[1; 32]).unwrap();
        let b = MasterKey::from_bytes(&[2; 32]).unwrap();
        assert_ne!(a.chain_key().0, a.checkpoint_key().0);
        assert_ne!(a.chain_key().0, a.totp_key().0);
        assert_ne!(a.checkpoint_key().0, a.totp_key().0);
        assert_ne!(a.chain_key().0, b.chain_key().0);
        assert_eq!(a.chain_key().0, MasterKey::from_bytes(&[1; 32]).unwrap().chain_key().0);
        assert_eq!(format!("{a:?} {:?}", a.totp_key()), "MasterKey([redacted]) SealKey([redacted])");
    }

    #[test]
    fn short_keys_are_refused() {
        assert_eq!(MasterKey::from_bytes(&[0; 31]).unwrap_err(), KeyError::TooShort(31));
        assert!(MasterKey::from_bytes(&[0; 32]).is_ok());
    }
}
