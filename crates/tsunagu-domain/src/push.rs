//! Web push (#10): a family member's browser subscription (checked), the
//! message encryption of RFC 8291 (the `aes128gcm` content coding of RFC
//! 8188: ECDH P-256 with the subscription's key, HKDF-SHA256, AES-128-GCM,
//! one record), and the application server's identification of RFC 8292
//! (VAPID: an ES256 JWT for the push service's origin). No I/O: the random
//! key and salt of each message, and the time, are parameters; the sending
//! is `tsunagu::push`.
//!
//! The VAPID key pair is derived from the operator's key
//! (`MasterKey::vapid_key`): every node has the same one, nothing of it is
//! in the database, and only its public half is ever shown.

use crate::validation::FieldErrors;
use aes_gcm::aead::Aead;
use aes_gcm::{Aes128Gcm, KeyInit};
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use p256::ecdsa::signature::Signer;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use sha2::{Digest, Sha256};
use std::fmt;

/// The most characters of a subscription's endpoint we keep.
pub const MAX_ENDPOINT_LEN: usize = 1024;
/// The record size written in the header (RFC 8188 §2.1); a reminder is one record.
const RECORD_SIZE: u32 = 4096;
/// How long a VAPID token is valid (RFC 8292 §2: at most 24 hours).
pub const TOKEN_SECONDS: i64 = 12 * 60 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    #[error("the subscription's public key is not a P-256 point")]
    BadPublicKey,
    #[error("the subscription's auth secret is not 16 bytes")]
    BadAuth,
    #[error("the message does not fit one record")]
    TooLong,
    #[error("a key could not be derived")]
    Key,
    #[error("the endpoint is not an https URL")]
    BadEndpoint,
}

/// The service's VAPID key pair (P-256). `Debug` shows the public half only.
#[derive(Clone)]
pub struct VapidKey(SecretKey);

impl fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VapidKey({})", self.public_b64())
    }
}

impl VapidKey {
    /// The key whose scalar is `seed`, or — for the one seed in 2^32 that
    /// is not a scalar of the curve — of SHA-256(seed ‖ n) for the first n
    /// that is.
    pub fn from_seed(seed: &[u8; 32]) -> Result<Self, PushError> {
        let mut candidate = *seed;
        for n in 0u8..16 {
            if let Ok(k) = SecretKey::from_slice(&candidate) {
                return Ok(Self(k));
            }
            let mut h = Sha256::new();
            h.update(seed);
            h.update([n]);
            candidate = h.finalize().into();
        }
        Err(PushError::Key)
    }

    /// The public key as browsers take it for `applicationServerKey` and
    /// as the `k=` of the header: the uncompressed point, base64url without padding.
    pub fn public_b64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.public_key().to_encoded_point(false).as_bytes())
    }

    /// The `Authorization` header's value for a push to `endpoint`
    /// (RFC 8292 §3): `vapid t=<JWT>, k=<public key>`, the JWT's `aud` the
    /// endpoint's origin, `exp` [`TOKEN_SECONDS`] after `now_secs`, `sub`
    /// the operator's contact (a `mailto:` or `https:` URL).
    pub fn authorization(&self, endpoint: &str, now_secs: i64, sub: &str) -> Result<String, PushError> {
        let aud = origin(endpoint).ok_or(PushError::BadEndpoint)?;
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({"aud": aud, "exp": now_secs + TOKEN_SECONDS, "sub": sub});
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string().as_bytes());
        let signing_input = format!("{header}.{claims}");
        let key = p256::ecdsa::SigningKey::from(&self.0);
        let signature: p256::ecdsa::Signature = key.sign(signing_input.as_bytes());
        // JWS ES256: r ‖ s, 64 bytes (RFC 7518 §3.4).
        let token = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()));
        Ok(format!("vapid t={token}, k={}", self.public_b64()))
    }
}

/// `https://host[:port]` of an https URL; `None` for anything else.
pub fn origin(endpoint: &str) -> Option<String> {
    let rest = endpoint.strip_prefix("https://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let ok = !authority.is_empty()
        && !authority.contains('@')
        && authority.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    ok.then(|| format!("https://{}", authority.to_ascii_lowercase()))
}

/// A browser's push subscription, as checked: the endpoint (an https URL),
/// the user agent's P-256 public key (65 bytes, uncompressed) and its auth secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Subscription {
    pub endpoint: String,
    pub p256dh: Vec<u8>,
    pub auth: Vec<u8>,
}

impl fmt::Debug for Subscription {
    // The endpoint is a capability (whoever has it can push): never printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Subscription(…)")
    }
}

/// What the page's script (or a JSON body) sends: `PushSubscription.toJSON()`'s fields.
#[derive(Debug, Clone, Default)]
pub struct SubscriptionInput {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

fn b64(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok().or_else(|| URL_SAFE.decode(s).ok())
}

impl SubscriptionInput {
    /// The subscription, or the fields that do not pass: `endpoint`
    /// (`required`, `invalid_endpoint`: not an https URL or too long),
    /// `p256dh` (`invalid_key`), `auth` (`invalid_key`).
    pub fn check(&self) -> Result<Subscription, FieldErrors> {
        let mut errors = FieldErrors::default();
        let endpoint = self.endpoint.trim();
        if endpoint.is_empty() {
            errors.add("endpoint", "required");
        } else if endpoint.len() > MAX_ENDPOINT_LEN
            || origin(endpoint).is_none()
            || !endpoint.chars().all(|c| c.is_ascii_graphic())
        {
            errors.add("endpoint", "invalid_endpoint");
        }
        let p256dh = b64(&self.p256dh).filter(|k| k.len() == 65 && PublicKey::from_sec1_bytes(k).is_ok());
        if p256dh.is_none() {
            errors.add("p256dh", "invalid_key");
        }
        let auth = b64(&self.auth).filter(|a| a.len() == 16);
        if auth.is_none() {
            errors.add("auth", "invalid_key");
        }
        match (p256dh, auth) {
            (Some(p256dh), Some(auth)) if errors.is_empty() => {
                Ok(Subscription { endpoint: endpoint.to_owned(), p256dh, auth })
            }
            _ => Err(errors),
        }
    }
}

/// Encrypts `plaintext` for a subscription (RFC 8291 §3–4) with the
/// message's own key pair (`as_secret`: 32 random bytes, a scalar of the
/// curve) and `salt` (16 random bytes): the whole request body, the
/// `aes128gcm` header (salt ‖ record size ‖ key id length ‖ the message's
/// public key) and one record (the plaintext, the last-record delimiter 2, AES-128-GCM).
pub fn encrypt(
    plaintext: &[u8],
    ua_public: &[u8],
    auth: &[u8],
    as_secret: &[u8; 32],
    salt: &[u8; 16],
) -> Result<Vec<u8>, PushError> {
    let ua = PublicKey::from_sec1_bytes(ua_public).map_err(|_| PushError::BadPublicKey)?;
    if auth.len() != 16 {
        return Err(PushError::BadAuth);
    }
    // One record: the plaintext, its delimiter and the tag within the record size.
    if plaintext.len() + 1 + 16 > RECORD_SIZE as usize {
        return Err(PushError::TooLong);
    }
    let as_key = SecretKey::from_slice(as_secret).map_err(|_| PushError::Key)?;
    let as_public = as_key.public_key().to_encoded_point(false);
    let ua_point = ua.to_encoded_point(false);
    let shared = p256::ecdh::diffie_hellman(as_key.to_nonzero_scalar(), ua.as_affine());
    // RFC 8291 §3.4: IKM = HKDF(auth, ecdh_secret, "WebPush: info" ‖ 0 ‖ ua_public ‖ as_public, 32).
    let mut key_info = Vec::with_capacity(14 + 65 + 65);
    key_info.extend_from_slice(b"WebPush: info\0");
    key_info.extend_from_slice(ua_point.as_bytes());
    key_info.extend_from_slice(as_public.as_bytes());
    let mut ikm = [0u8; 32];
    hkdf::Hkdf::<Sha256>::new(Some(auth), shared.raw_secret_bytes().as_slice())
        .expand(&key_info, &mut ikm)
        .map_err(|_| PushError::Key)?;
    // RFC 8188 §2.2–2.3: the content-encryption key and the nonce, of the salt.
    let prk = hkdf::Hkdf::<Sha256>::new(Some(salt), &ikm);
    let mut cek = [0u8; 16];
    let mut nonce = [0u8; 12];
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek).map_err(|_| PushError::Key)?;
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce).map_err(|_| PushError::Key)?;
    let mut record = Vec::with_capacity(plaintext.len() + 1);
    record.extend_from_slice(plaintext);
    record.push(2);
    let cipher = Aes128Gcm::new_from_slice(&cek).map_err(|_| PushError::Key)?;
    // The first (and only) record: its sequence number 0 leaves the nonce as derived.
    let sealed = cipher.encrypt(&nonce.into(), record.as_slice()).map_err(|_| PushError::Key)?;
    let mut body = Vec::with_capacity(16 + 4 + 1 + 65 + sealed.len());
    body.extend_from_slice(salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(65);
    body.extend_from_slice(as_public.as_bytes());
    body.extend_from_slice(&sealed);
    Ok(body)
}

/// Whether 32 bytes are a usable message key (a scalar of the curve).
pub fn is_scalar(bytes: &[u8; 32]) -> bool {
    SecretKey::from_slice(bytes).is_ok()
}

/// A reminder's notification, as the service worker shows it: a title, a
/// body with the day only (no name, no kind of item, nothing of health)
/// and the page to open. JSON: `{"title", "body", "url"}`.
pub fn message(day: jiff::civil::Date, lang_en: bool) -> String {
    let (subject, _) = crate::reminders::message(day, lang_en, "");
    let body = subject.strip_prefix("tsunagu: ").unwrap_or(&subject);
    serde_json::json!({"title": "tsunagu", "body": body, "url": "/me"}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(s).unwrap()
    }

    /// RFC 8291 §5 and Appendix A: the worked example's keys, salt and
    /// body (base64url, as the RFC prints them), typed in from the RFC.
    #[test]
    fn the_rfc_8291_example_encrypts_to_the_rfc_body() {
        let plaintext = b"When I grow up, I want to be a watermelon";
        let as_private: [u8; 32] = d("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw").try_into().unwrap();
        let ua_public = d("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4");
        let auth = d("BTBZMqHH6r4Tts7J_aSIgg");
        let salt: [u8; 16] = d("DGv6ra1nlYgDCS1FRnbzlw").try_into().unwrap();
        let body = encrypt(plaintext, &ua_public, &auth, &as_private, &salt).unwrap();
        let expected = concat!(
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS",
            "6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qu",
            "lcy4a-fN"
        );
        assert_eq!(URL_SAFE_NO_PAD.encode(&body), expected);
        // The application server's public key of the example, in the header.
        assert_eq!(
            URL_SAFE_NO_PAD.encode(&body[21..86]),
            "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
        );
    }

    #[test]
    fn a_vapid_token_verifies_with_the_public_key() {
        use p256::ecdsa::signature::Verifier;
        let key = VapidKey::from_seed(&[7u8; 32]).unwrap();
        let h =
            key.authorization("https://push.example.net/wpush/abc?x=1", 1_800_000_000, "mailto:ops@city.example.jp");
        let h = h.unwrap();
        let (t, k) = h.strip_prefix("vapid t=").unwrap().split_once(", k=").unwrap();
        assert_eq!(k, key.public_b64());
        let parts: Vec<&str> = t.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: serde_json::Value = serde_json::from_slice(&d(parts[1])).unwrap();
        assert_eq!(claims["aud"], "https://push.example.net");
        assert_eq!(claims["exp"], 1_800_000_000 + TOKEN_SECONDS);
        assert_eq!(claims["sub"], "mailto:ops@city.example.jp");
        let verifying = p256::ecdsa::VerifyingKey::from_sec1_bytes(&d(k)).unwrap();
        let sig = p256::ecdsa::Signature::from_slice(&d(parts[2])).unwrap();
        assert!(verifying.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig).is_ok());
        assert!(key.authorization("http://push.example.net/x", 0, "mailto:a@b.jp").is_err());
        assert!(!format!("{key:?}").is_empty());
    }

    #[test]
    fn subscriptions_are_checked() {
        let ua = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
        let ok = SubscriptionInput {
            endpoint: "https://fcm.googleapis.com/fcm/send/abc".into(),
            p256dh: ua.into(),
            auth: "BTBZMqHH6r4Tts7J_aSIgg".into(),
        };
        let s = ok.check().unwrap();
        assert_eq!((s.p256dh.len(), s.auth.len()), (65, 16));
        assert_eq!(format!("{s:?}"), "Subscription(…)", "the endpoint never prints");
        let padded = SubscriptionInput { auth: "BTBZMqHH6r4Tts7J_aSIgg==".into(), ..ok.clone() };
        assert!(padded.check().is_ok());
        for (endpoint, code) in [
            ("", "required"),
            ("http://push.example.net/x", "invalid_endpoint"),
            ("https://", "invalid_endpoint"),
            ("https://a@b/x", "invalid_endpoint"),
            ("https://push.example.net/a b", "invalid_endpoint"),
        ] {
            let i = SubscriptionInput { endpoint: endpoint.into(), ..ok.clone() };
            assert_eq!(i.check().unwrap_err().for_field("endpoint"), Some(code), "{endpoint:?}");
        }
        let long =
            SubscriptionInput { endpoint: format!("https://a.jp/{}", "x".repeat(MAX_ENDPOINT_LEN)), ..ok.clone() };
        assert!(long.check().is_err());
        let mut bad_point = d(ua);
        bad_point[64] ^= 1;
        let i = SubscriptionInput { p256dh: URL_SAFE_NO_PAD.encode(bad_point), ..ok.clone() };
        assert_eq!(i.check().unwrap_err().for_field("p256dh"), Some("invalid_key"));
        let i = SubscriptionInput { auth: "AAAA".into(), ..ok.clone() };
        assert_eq!(i.check().unwrap_err().for_field("auth"), Some("invalid_key"));
    }

    #[test]
    fn the_notification_names_the_day_only() {
        let m: serde_json::Value = serde_json::from_str(&message(jiff::civil::date(2026, 12, 10), false)).unwrap();
        assert_eq!(m["body"], "12月10日(木)に予定があります");
        assert_eq!(m["url"], "/me");
        let m: serde_json::Value = serde_json::from_str(&message(jiff::civil::date(2026, 12, 10), true)).unwrap();
        assert_eq!(m["body"], "something planned on Thu 10 Dec");
    }

    #[test]
    fn origins() {
        assert_eq!(origin("https://Push.Example.net:8443/a?b").as_deref(), Some("https://push.example.net:8443"));
        assert_eq!(origin("https://push.example.net").as_deref(), Some("https://push.example.net"));
        assert_eq!(origin("http://push.example.net/a"), None);
    }
}
