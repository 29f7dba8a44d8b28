//! Passwords, second factors and tokens.
//!
//! Passwords are hashed with argon2id (memory-hard) on threads of their
//! own, a bounded number at once ([`HashLimiter`]).
//! The second factor is TOTP (RFC 6238: HMAC-SHA1, 30-second steps, six
//! digits), which every staff account must use.

use argon2::password_hash::{Output, ParamsString, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;
use tokio::sync::{oneshot, Semaphore};
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

/// The most working memory a stored hash may ask for (64 MiB), so that a
/// hash with outlandish parameters cannot make the service allocate at will.
const MAX_BLOCKS: usize = 64 * 1024;

/// The working memory of one hashing thread (about 19 MiB with the default
/// parameters), kept from one hash to the next. Allocating it afresh every
/// time lets the allocator keep a freed copy per arena: the process grew by
/// 19 MiB a hash, up to one per arena, even with two hashes at a time.
#[derive(Default)]
pub struct Scratch(Vec<Block>);

impl Scratch {
    fn blocks(&mut self, n: usize) -> Option<&mut [Block]> {
        if n > MAX_BLOCKS {
            return None;
        }
        if self.0.len() < n {
            self.0.resize(n, Block::default());
        }
        self.0.get_mut(..n)
    }
}

/// [`hash_password`] in the given working memory: argon2id with the
/// crate's default parameters, as a PHC string.
pub fn hash_password_in(password: &str, scratch: &mut Scratch) -> Result<Secret, AuthError> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|_| AuthError::Random)?;
    let params = Params::default();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let blocks = scratch.blocks(params.block_count()).ok_or(AuthError::Hash)?;
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, blocks)
        .map_err(|_| AuthError::Hash)?;
    let salt = SaltString::encode_b64(&salt).map_err(|_| AuthError::Hash)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|_| AuthError::Hash)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|_| AuthError::Hash)?),
    };
    Ok(Secret::new(phc.to_string()))
}

/// [`verify_password`] in the given working memory: the stored PHC string's
/// algorithm, version, parameters and salt, compared in constant time.
pub fn verify_password_in(password: &str, hash: &Secret, scratch: &mut Scratch) -> bool {
    use subtle::ConstantTimeEq;
    let Ok(parsed) = PasswordHash::new(hash.expose()) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = [0u8; Output::MAX_LENGTH];
    let (Some(out), Some(blocks)) = (out.get_mut(..expected.len()), scratch.blocks(params.block_count())) else {
        return false;
    };
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, out, blocks)
        .is_ok()
        && bool::from(out.ct_eq(expected.as_bytes()))
}

/// Bounds password hashing, which takes about 19 MiB a time: hashes run on
/// `permits` threads of their own, one at a time each, and a caller waits at
/// most `wait` for a turn (then [`AuthError::Busy`]). Long-lived threads
/// matter as much as the bound: the allocator keeps a freed 19 MiB block
/// for the thread that used it, so hashing on ever new blocking threads
/// grows the process even when few hashes run at once. A turn goes with the
/// hash, so a caller that goes away does not free it before the hash is done.
#[derive(Clone)]
pub struct HashLimiter {
    turns: Arc<Semaphore>,
    wait: Duration,
    jobs: mpsc::Sender<Job>,
}

type Job = Box<dyn FnOnce(&mut Scratch) + Send>;

impl HashLimiter {
    /// `permits` of 0 refuses every hash. The threads end when the last
    /// clone of the limiter is dropped.
    pub fn new(permits: usize, wait: Duration) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let mut started = 0;
        for i in 0..permits {
            let queue = queue.clone();
            let worker = std::thread::Builder::new().name(format!("tsunagu-hash-{i}")).spawn(move || {
                let mut scratch = Scratch::default();
                loop {
                    let job = match queue.lock() {
                        Ok(q) => q.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(&mut scratch),
                        Err(_) => return,
                    }
                }
            });
            match worker {
                Ok(_) => started += 1,
                Err(e) => tracing::error!(error = %e, "could not start a password-hashing thread"),
            }
        }
        Self { turns: Arc::new(Semaphore::new(started)), wait, jobs }
    }

    /// Runs `f` on a hashing thread, in its working memory, once a turn is free.
    async fn run<T: Send + 'static>(&self, f: impl FnOnce(&mut Scratch) -> T + Send + 'static) -> Result<T, AuthError> {
        let turn = match tokio::time::timeout(self.wait, self.turns.clone().acquire_owned()).await {
            Ok(Ok(turn)) => turn,
            _ => return Err(AuthError::Busy { retry_after_secs: self.wait.as_secs().max(1) }),
        };
        let (done, answer) = oneshot::channel();
        let job: Job = Box::new(move |scratch: &mut Scratch| {
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(scratch)));
            drop(turn);
            if let Ok(out) = out {
                let _ = done.send(out);
            }
        });
        self.jobs.send(job).map_err(|_| AuthError::Hash)?;
        answer.await.map_err(|_| AuthError::Hash)
    }
}

/// Hashes on a hashing thread, when [`HashLimiter`] gives a turn.
pub async fn hash_password_blocking(limiter: &HashLimiter, password: String) -> Result<Secret, AuthError> {
    limiter.run(move |scratch| hash_password_in(&password, scratch)).await?
}

/// Verifies on a hashing thread, when [`HashLimiter`] gives a turn. With
/// no stored hash (unknown user) a dummy hash is checked anyway, so that the
/// answer takes as long.
pub async fn verify_password_blocking(
    limiter: &HashLimiter,
    password: String,
    hash: Option<Secret>,
) -> Result<bool, AuthError> {
    limiter
        .run(move |scratch| match hash {
            Some(h) => verify_password_in(&password, &h, scratch),
            None => {
                let dummy = dummy_hash(scratch);
                let _ = verify_password_in(&password, &dummy, scratch);
                false
            }
        })
        .await
}

/// A hash no password matches, made once, in the hashing thread's memory.
fn dummy_hash(scratch: &mut Scratch) -> Secret {
    static DUMMY: std::sync::OnceLock<Secret> = std::sync::OnceLock::new();
    DUMMY
        .get_or_init(|| {
            hash_password_in("no account has this password", scratch).unwrap_or_else(|_| Secret::new(String::new()))
        })
        .clone()
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the system random source failed")]
    Random,
    #[error("password hashing failed")]
    Hash,
    /// No turn to hash within the wait: the service is busy.
    #[error("too many password hashes at once")]
    Busy { retry_after_secs: u64 },
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

    #[tokio::test]
    async fn hashing_waits_for_a_turn_then_is_busy() {
        let none = HashLimiter::new(0, Duration::from_millis(10));
        assert!(matches!(
            verify_password_blocking(&none, "x".into(), None).await,
            Err(AuthError::Busy { retry_after_secs: 1 })
        ));
        assert!(matches!(hash_password_blocking(&none, "x".into()).await, Err(AuthError::Busy { .. })));
        let one = HashLimiter::new(1, Duration::from_secs(2));
        let h = hash_password_blocking(&one, "correct horse battery".into()).await.unwrap();
        assert!(verify_password_blocking(&one, "correct horse battery".into(), Some(h)).await.unwrap());
        assert_eq!(one.turns.available_permits(), 1, "the turn is given back");
    }

    #[test]
    fn hashing_in_kept_memory_agrees_with_the_library() {
        let mut scratch = Scratch::default();
        let ours = hash_password_in("correct horse battery", &mut scratch).unwrap();
        assert!(ours.expose().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("correct horse battery", &ours), "the library accepts ours");
        assert!(!verify_password("wrong horse battery", &ours));
        let theirs = hash_password("correct horse battery").unwrap();
        assert!(verify_password_in("correct horse battery", &theirs, &mut scratch), "we accept the library's");
        assert!(!verify_password_in("wrong horse battery", &theirs, &mut scratch));
        assert!(!verify_password_in("x", &Secret::new("not a hash"), &mut scratch));
        // Other parameters are read from the stored string; outlandish memory is refused.
        let small = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(64, 1, 1, None).unwrap());
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let h = Secret::new(small.hash_password(b"pw", &salt).unwrap().to_string());
        assert!(verify_password_in("pw", &h, &mut scratch));
        let huge = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(1 << 20, 1, 1, None).unwrap());
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(19),
            params: ParamsString::try_from(huge.params()).unwrap(),
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&[0u8; 32]).unwrap()),
        };
        assert!(!verify_password_in("pw", &Secret::new(phc.to_string()), &mut scratch));
        assert!(scratch.0.len() <= MAX_BLOCKS);
    }

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong horse battery", &h));
        assert!(h.expose().starts_with("$argon2id$"));
    }
}
