//! Passwords, second factors and tokens.
//!
//! Passwords are hashed with argon2id (memory-hard) on a blocking thread.
//! The second factor is TOTP (RFC 6238: HMAC-SHA1, 30-second steps, six
//! digits), which every staff account must use.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use tsunagu_store::Secret;

/// Hashes a password with argon2id and the crate's default (OWASP-level)
/// parameters. CPU-heavy: call through [`hash_password_blocking`] from async code.
pub fn hash_password(password: &str) -> Result<Secret, AuthError> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|_| AuthError::Random)?;
    let salt = SaltString::encode_b64(&salt).map_err(|_| AuthError::Hash)?;
    let hash = Argon2::default().hash_password(password.as_bytes(), &salt).map_err(|_| AuthError::Hash)?;
    Ok(Secret::new(hash.to_string()))
}

pub fn verify_password(password: &str, hash: &Secret) -> bool {
    match PasswordHash::new(hash.expose()) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

pub async fn hash_password_blocking(password: String) -> Result<Secret, AuthError> {
    tokio::task::spawn_blocking(move || hash_password(&password)).await.map_err(|_| AuthError::Hash)?
}

/// Verifies on a blocking thread. With no stored hash (unknown user) a
/// dummy hash is checked anyway, so that the answer takes as long.
pub async fn verify_password_blocking(password: String, hash: Option<Secret>) -> bool {
    tokio::task::spawn_blocking(move || match hash {
        Some(h) => verify_password(&password, &h),
        None => {
            let _ = verify_password(&password, &dummy_hash());
            false
        }
    })
    .await
    .unwrap_or(false)
}

fn dummy_hash() -> Secret {
    static DUMMY: std::sync::OnceLock<Secret> = std::sync::OnceLock::new();
    DUMMY
        .get_or_init(|| hash_password("no account has this password").unwrap_or_else(|_| Secret::new(String::new())))
        .clone()
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the system random source failed")]
    Random,
    #[error("password hashing failed")]
    Hash,
}

/// A fresh random token of 256 bits, hex-encoded.
pub fn random_token() -> Result<String, AuthError> {
    let mut b = [0u8; 32];
    getrandom::getrandom(&mut b).map_err(|_| AuthError::Random)?;
    Ok(hex::encode(b))
}

// --- TOTP ----------------------------------------------------------------

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
pub const TOTP_STEP_SECONDS: i64 = 30;

pub fn base32_encode(data: &[u8]) -> String {
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in data {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

pub fn base32_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in s.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let v = BASE32.iter().position(|&x| char::from(x) == c.to_ascii_uppercase())? as u32;
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// A new TOTP secret: 160 random bits, base32.
pub fn new_totp_secret() -> Result<String, AuthError> {
    let mut b = [0u8; 20];
    getrandom::getrandom(&mut b).map_err(|_| AuthError::Random)?;
    Ok(base32_encode(&b))
}

/// The six-digit code for time step `step`.
pub fn totp_code(secret: &[u8], step: i64) -> String {
    let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest.get(19).copied().unwrap_or(0) & 0x0f);
    let slice = digest.get(offset..offset + 4).unwrap_or(&[0, 0, 0, 0]);
    let bin = u32::from_be_bytes([slice[0] & 0x7f, slice[1], slice[2], slice[3]]);
    format!("{:06}", bin % 1_000_000)
}

pub fn totp_step(at: Timestamp) -> i64 {
    at.as_second().div_euclid(TOTP_STEP_SECONDS)
}

/// The current code for a base32 secret (for the demo helper command and tests).
pub fn current_totp(secret_base32: &str, at: Timestamp) -> Option<String> {
    Some(totp_code(&base32_decode(secret_base32)?, totp_step(at)))
}

/// Checks a typed code against the steps around `at` (one step of clock
/// drift either way). Returns the matching step, which the caller must
/// record so the same code cannot be used twice.
pub fn check_totp(secret_base32: &str, code: &str, at: Timestamp) -> Option<i64> {
    use subtle::ConstantTimeEq;
    let code: String = code.chars().filter(|c| c.is_ascii_digit()).collect();
    if code.len() != 6 {
        return None;
    }
    let secret = base32_decode(secret_base32)?;
    let now = totp_step(at);
    (now - 1..=now + 1).find(|&s| bool::from(totp_code(&secret, s).as_bytes().ct_eq(code.as_bytes())))
}

/// The otpauth URI an authenticator app understands.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &str) -> String {
    fn enc(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    }
    format!(
        "otpauth://totp/{}:{}?secret={secret}&issuer={}&algorithm=SHA1&digits=6&period=30",
        enc(issuer),
        enc(account),
        enc(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vectors() {
        // RFC 6238 appendix B, SHA1 key "12345678901234567890", truncated to 6 digits.
        let key = b"12345678901234567890";
        for (t, want) in [
            (59, "287082"),
            (1111111109, "081804"),
            (1111111111, "050471"),
            (1234567890, "005924"),
            (2000000000, "279037"),
        ] {
            assert_eq!(totp_code(key, t / 30), want, "t={t}");
        }
    }

    #[test]
    fn base32_round_trip() {
        for data in [&b""[..], b"f", b"fo", b"foo", b"foob", b"fooba", b"foobar"] {
            assert_eq!(base32_decode(&base32_encode(data)).unwrap(), data);
        }
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
    }

    #[test]
    fn codes_are_checked_with_one_step_of_drift() {
        let secret = base32_encode(b"12345678901234567890");
        let at = Timestamp::from_second(1111111109).unwrap();
        assert_eq!(check_totp(&secret, "081804", at), Some(1111111109 / 30));
        assert_eq!(check_totp(&secret, "000000", at), None);
        assert_eq!(check_totp(&secret, "12345", at), None);
    }

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong horse battery", &h));
        assert!(h.expose().starts_with("$argon2id$"));
    }
}
