//! What a store holds of the operator's key: the chain key every audit line
//! is linked with, and the key that seals TOTP secrets at rest. Never the
//! checkpoint key: a store cannot sign a checkpoint.
//!
//! A TOTP secret is stored as `enc1:` and the hex of a random 24-byte nonce
//! followed by the XChaCha20-Poly1305 ciphertext and tag of the secret, with
//! the account id as associated data, so that a sealed secret copied onto
//! another account's row does not open. A base32 secret never starts with
//! `enc1:` (the alphabet is A–Z, 2–7 and `=`), which tells the plaintext rows
//! of before migration 0008 from sealed ones.

use crate::{Secret, StoreError};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use tsunagu_domain::keys::{ChainKey, MasterKey, SealKey};
use tsunagu_domain::AccountId;

/// How a sealed value starts (a plaintext base32 secret never does).
pub const SEALED_PREFIX: &str = "enc1:";
const NONCE_BYTES: usize = 24;

#[derive(Clone, Debug)]
pub struct StoreKeys {
    pub chain: ChainKey,
    totp: SealKey,
}

fn unreadable() -> StoreError {
    StoreError::Other("stored value cannot be read: totp secret (sealed with another key, or not sealed)".into())
}

impl StoreKeys {
    pub fn derive(master: &MasterKey) -> Self {
        Self { chain: master.chain_key(), totp: master.totp_key() }
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.totp.expose().into())
    }

    fn aad(account: AccountId) -> String {
        format!("tsunagu.totp.v1 account={}", account.0)
    }

    /// The stored form of an account's TOTP secret.
    pub fn seal_totp(&self, account: AccountId, secret: &Secret) -> Result<String, StoreError> {
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::getrandom(&mut nonce).map_err(|e| StoreError::Other(Box::new(e)))?;
        let aad = Self::aad(account);
        let sealed = self
            .cipher()
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: secret.expose().as_bytes(), aad: aad.as_bytes() })
            .map_err(|_| StoreError::Other("cannot seal a totp secret".into()))?;
        Ok(format!("{SEALED_PREFIX}{}{}", hex::encode(nonce), hex::encode(sealed)))
    }

    /// The secret of a stored form `seal_totp` made for this account. A
    /// value sealed with another key or for another account, edited, or
    /// stored in plain is refused: the row was not written by this service.
    pub fn open_totp(&self, account: AccountId, stored: &str) -> Result<Secret, StoreError> {
        let bytes = stored.strip_prefix(SEALED_PREFIX).and_then(|h| hex::decode(h).ok()).ok_or_else(unreadable)?;
        if bytes.len() < NONCE_BYTES {
            return Err(unreadable());
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let aad = Self::aad(account);
        let plain = self
            .cipher()
            .decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: aad.as_bytes() })
            .map_err(|_| unreadable())?;
        String::from_utf8(plain).map(Secret::new).map_err(|_| unreadable())
    }

    /// The stored form of a municipality's LINE channel secret or access
    /// token (`field`): sealed as a TOTP secret is, bound to the
    /// municipality and the field.
    pub fn seal_line(&self, municipality: i64, field: &str, secret: &Secret) -> Result<String, StoreError> {
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::getrandom(&mut nonce).map_err(|e| StoreError::Other(Box::new(e)))?;
        let aad = format!("tsunagu.line.v1 municipality={municipality} field={field}");
        let sealed = self
            .cipher()
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: secret.expose().as_bytes(), aad: aad.as_bytes() })
            .map_err(|_| StoreError::Other("cannot seal a line secret".into()))?;
        Ok(format!("{SEALED_PREFIX}{}{}", hex::encode(nonce), hex::encode(sealed)))
    }

    /// What `seal_line` sealed for this municipality and field.
    pub fn open_line(&self, municipality: i64, field: &str, stored: &str) -> Result<Secret, StoreError> {
        let bad = || StoreError::Other("stored value cannot be read: line channel secret".into());
        let bytes = stored.strip_prefix(SEALED_PREFIX).and_then(|h| hex::decode(h).ok()).ok_or_else(bad)?;
        if bytes.len() < NONCE_BYTES {
            return Err(bad());
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let aad = format!("tsunagu.line.v1 municipality={municipality} field={field}");
        let plain = self
            .cipher()
            .decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: aad.as_bytes() })
            .map_err(|_| bad())?;
        String::from_utf8(plain).map(Secret::new).map_err(|_| bad())
    }

    /// Whether a stored value is sealed (else it is a plaintext secret of
    /// before migration 0008, to be sealed at start-up).
    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(SEALED_PREFIX)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn keys(b: u8) -> StoreKeys {
        StoreKeys::derive(&MasterKey::from_bytes(&[b; 32]).unwrap())
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_account_and_key() {
        let k = keys(1);
        let secret = Secret::new("JBSWY3DPEHPK3PXP");
        let stored = k.seal_totp(AccountId(5), &secret).unwrap();
        assert!(StoreKeys::is_sealed(&stored));
        assert!(!stored.contains("JBSWY3DPEHPK3PXP"));
        assert_ne!(stored, k.seal_totp(AccountId(5), &secret).unwrap(), "a fresh nonce each time");
        assert_eq!(k.open_totp(AccountId(5), &stored).unwrap(), secret);
        assert!(k.open_totp(AccountId(6), &stored).is_err(), "copied onto another account");
        assert!(keys(2).open_totp(AccountId(5), &stored).is_err(), "another key");
        assert!(k.open_totp(AccountId(5), "JBSWY3DPEHPK3PXP").is_err(), "plaintext is refused");
        let mut edited = stored.clone().into_bytes();
        let last = edited.len() - 1;
        edited[last] = if edited[last] == b'0' { b'1' } else { b'0' };
        assert!(k.open_totp(AccountId(5), std::str::from_utf8(&edited).unwrap()).is_err(), "edited");
        assert!(k.open_totp(AccountId(5), "enc1:00").is_err());
        assert!(!StoreKeys::is_sealed("JBSWY3DPEHPK3PXP"));
    }

    #[test]
    fn a_line_secret_opens_only_for_its_municipality_field_and_key() {
        let k = keys(1);
        let secret = Secret::new("channel-secret-0123");
        let stored = k.seal_line(3, "secret", &secret).unwrap();
        assert!(!stored.contains("channel-secret"));
        assert_eq!(k.open_line(3, "secret", &stored).unwrap(), secret);
        assert!(k.open_line(4, "secret", &stored).is_err(), "another municipality");
        assert!(k.open_line(3, "token", &stored).is_err(), "another field");
        assert!(keys(2).open_line(3, "secret", &stored).is_err(), "another key");
        assert!(k.open_line(3, "secret", "channel-secret-0123").is_err(), "plaintext");
    }
}
