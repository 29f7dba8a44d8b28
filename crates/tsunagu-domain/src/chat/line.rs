//! The chat on LINE [003] 「coe(こえ)」 ran on LINE: a parent talks from LINE
//! while the supporters answer in tsunagu. The pure parts of the LINE
//! Messaging API webhook: the `x-line-signature` check, the events a
//! webhook carries as the chat's own words, the replay window, and the
//! actor a verified webhook acts as.
//!
//! A webhook is not a signed-in person. Once its signature proves it came
//! from the municipality's LINE channel, it acts as the chat parent the
//! LINE user is linked to ([`parent_actor`]): the same `ChatParent` actor
//! the policy already decides on, bound to that municipality and that
//! account, so it can post in that parent's room and nowhere else. Before
//! a link exists the webhook can only present an invitation code, which is
//! the credential of joining exactly as on the join page.

use crate::roles::{Actor, Role};
use crate::{AccountId, MunicipalityId};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use sha2::Sha256;

/// The largest webhook body accepted. LINE sends a few events at a time
/// (a text message is at most 5,000 characters); 256 KiB is ample and
/// bounds what an unsigned caller can make us read before the check.
pub const MAX_WEBHOOK_BYTES: usize = 256 * 1024;

/// How far ahead of our clock an event may be stamped (clocks differ a little).
pub const FUTURE_SKEW: SignedDuration = SignedDuration::from_mins(5);

/// Whether `signature` (the `x-line-signature` header: base64 of the
/// HMAC-SHA256 of the raw body under the channel secret) is right for
/// `body`. Compared in constant time (`Mac::verify_slice`); a missing or
/// malformed header is simply not right.
pub fn signature_valid(channel_secret: &str, body: &[u8], signature: Option<&str>) -> bool {
    let Some(signature) = signature else { return false };
    let Ok(given) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(channel_secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

/// The signature LINE would send for `body` (for the fake LINE server of the tests and for tools).
pub fn sign(channel_secret: &str, body: &[u8]) -> String {
    // An HMAC takes a key of any length: this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(channel_secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// A LINE user id as LINE gives it (`U` and 32 hex digits): pseudonymous,
/// per channel. Kept only to address pushes; never logged.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LineUserId(String);

impl LineUserId {
    pub fn parse(s: &str) -> Option<Self> {
        let ok = s.len() == 33
            && s.starts_with('U')
            && s[1..].chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase());
        ok.then(|| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One webhook event, in the chat's words. Events the chat does not use
/// (stickers, images, unfollow, postbacks, group sources) are `Other`:
/// their ids are still recorded so a replay of them is refused too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineEvent {
    /// A parent's text message. `message_id` becomes the chat message's
    /// client id, so a redelivery is stored once.
    Text {
        event_id: String,
        at: Timestamp,
        user: LineUserId,
        message_id: String,
        text: String,
    },
    /// The parent added the channel as a friend: they are asked for their invitation code.
    Follow {
        event_id: String,
        at: Timestamp,
        user: LineUserId,
    },
    Other {
        event_id: String,
        at: Timestamp,
    },
}

impl LineEvent {
    pub fn event_id(&self) -> &str {
        match self {
            LineEvent::Text { event_id, .. }
            | LineEvent::Follow { event_id, .. }
            | LineEvent::Other { event_id, .. } => event_id,
        }
    }

    pub fn at(&self) -> Timestamp {
        match self {
            LineEvent::Text { at, .. } | LineEvent::Follow { at, .. } | LineEvent::Other { at, .. } => *at,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("the webhook body is not LINE's JSON")]
    NotJson,
    #[error("an event has no usable webhookEventId or timestamp")]
    BadEvent,
}

#[derive(Deserialize)]
struct Body {
    #[serde(default)]
    events: Vec<RawEvent>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEvent {
    #[serde(rename = "type")]
    kind: String,
    webhook_event_id: Option<String>,
    timestamp: Option<i64>,
    source: Option<RawSource>,
    message: Option<RawMessage>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSource {
    #[serde(rename = "type")]
    kind: String,
    user_id: Option<String>,
}

#[derive(Deserialize)]
struct RawMessage {
    #[serde(rename = "type")]
    kind: String,
    id: Option<String>,
    text: Option<String>,
}

fn event_id_ok(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric())
}

fn message_id_ok(s: &str) -> bool {
    !s.is_empty() && s.len() <= 40 && s.chars().all(|c| c.is_ascii_digit())
}

/// The events of a webhook body (already signature-checked). Every event
/// must have an id and a time (the replay check needs both); a text
/// message from a user in a one-to-one chat is `Text`, a follow `Follow`.
pub fn parse_webhook(body: &[u8]) -> Result<Vec<LineEvent>, LineError> {
    let body: Body = serde_json::from_slice(body).map_err(|_| LineError::NotJson)?;
    body.events
        .into_iter()
        .map(|e| {
            let event_id = e.webhook_event_id.filter(|s| event_id_ok(s)).ok_or(LineError::BadEvent)?;
            let at = e.timestamp.and_then(|ms| Timestamp::from_millisecond(ms).ok()).ok_or(LineError::BadEvent)?;
            let user =
                e.source.filter(|s| s.kind == "user").and_then(|s| s.user_id).and_then(|u| LineUserId::parse(&u));
            let event = match (e.kind.as_str(), user, e.message) {
                ("message", Some(user), Some(m)) if m.kind == "text" => match (m.id, m.text) {
                    (Some(id), Some(text)) if message_id_ok(&id) => {
                        LineEvent::Text { event_id, at, user, message_id: id, text }
                    }
                    _ => LineEvent::Other { event_id, at },
                },
                ("follow", Some(user), _) => LineEvent::Follow { event_id, at, user },
                _ => LineEvent::Other { event_id, at },
            };
            Ok(event)
        })
        .collect()
}

/// The chat message's client id for a LINE message: a redelivery of the
/// same message carries the same id and is stored once.
pub fn client_id(message_id: &str) -> String {
    format!("line-{message_id}")
}

/// Whether an event is recent enough to take: not older than `window`
/// (older is a replay of something captured), not further ahead than
/// [`FUTURE_SKEW`].
pub fn within_window(at: Timestamp, now: Timestamp, window: SignedDuration) -> bool {
    let age = now.duration_since(at);
    age <= window && age >= -FUTURE_SKEW
}

/// The actor a verified webhook acts as for a linked LINE user: the chat
/// parent's own account in the channel's municipality (see the module's note).
pub fn parent_actor(municipality: MunicipalityId, parent: AccountId) -> Actor {
    Actor {
        account_id: parent,
        municipality_id: municipality,
        role: Role::ChatParent,
        family_id: None,
        relation: None,
        areas: vec![],
        venues: vec![],
        rooms: vec![],
    }
}

/// When a failed push is tried again: 10 s, 20 s, 40 s, … at most an hour
/// apart, never given up (a push is stored until LINE takes it).
pub fn retry_after(attempts: u32) -> SignedDuration {
    let secs = 10i64.saturating_mul(1i64 << attempts.min(12));
    SignedDuration::from_secs(secs.min(3600))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";
    const BODY: &[u8] = br#"{"destination":"U0","events":[]}"#;
    // Computed independently (Python's hmac and base64 modules).
    const SIGNATURE: &str = "3Gc/A/Q/RaUenWOFYfa53YXiRHXEBqQuDHu1nnYGQpU=";
    const USER: &str = "U4af4980629a0b1c2d3e4f5a6b7c8d9e0";

    #[test]
    fn the_signature_is_the_base64_hmac_sha256_of_the_raw_body() {
        assert_eq!(sign(SECRET, BODY), SIGNATURE);
        assert!(signature_valid(SECRET, BODY, Some(SIGNATURE)));
        assert!(!signature_valid(SECRET, BODY, None), "unsigned");
        assert!(!signature_valid(SECRET, BODY, Some("")), "empty");
        assert!(!signature_valid(SECRET, BODY, Some("not base64!")), "malformed");
        assert!(!signature_valid("another secret", BODY, Some(SIGNATURE)), "another channel");
        assert!(!signature_valid(SECRET, br#"{"destination":"U1","events":[]}"#, Some(SIGNATURE)), "edited body");
        let mut bytes = base64::engine::general_purpose::STANDARD.decode(SIGNATURE).unwrap();
        bytes[31] ^= 1;
        let flipped = base64::engine::general_purpose::STANDARD.encode(&bytes);
        assert!(!signature_valid(SECRET, BODY, Some(&flipped)), "one bit off");
        assert!(!signature_valid(SECRET, BODY, Some(&flipped[..20])), "truncated");
    }

    #[test]
    fn events_become_the_chats_words() {
        let body = format!(
            r#"{{"destination":"Uxx","events":[
            {{"type":"message","mode":"active","timestamp":1700000000000,"webhookEventId":"01HABCDEF",
              "deliveryContext":{{"isRedelivery":false}},"replyToken":"r",
              "source":{{"type":"user","userId":"{USER}"}},
              "message":{{"type":"text","id":"468789577898262530","text":"こんにちは","quoteToken":"q"}}}},
            {{"type":"follow","timestamp":1700000001000,"webhookEventId":"01HFOLLOW",
              "source":{{"type":"user","userId":"{USER}"}}}},
            {{"type":"message","timestamp":1700000002000,"webhookEventId":"01HSTICKER",
              "source":{{"type":"user","userId":"{USER}"}},"message":{{"type":"sticker","id":"1"}}}},
            {{"type":"message","timestamp":1700000003000,"webhookEventId":"01HGROUP",
              "source":{{"type":"group","groupId":"C1","userId":"{USER}"}},
              "message":{{"type":"text","id":"2","text":"x"}}}}
            ]}}"#
        );
        let events = parse_webhook(body.as_bytes()).unwrap();
        let user = LineUserId::parse(USER).unwrap();
        assert_eq!(
            events[0],
            LineEvent::Text {
                event_id: "01HABCDEF".into(),
                at: Timestamp::from_millisecond(1_700_000_000_000).unwrap(),
                user: user.clone(),
                message_id: "468789577898262530".into(),
                text: "こんにちは".into()
            }
        );
        assert!(matches!(&events[1], LineEvent::Follow { user: u, .. } if *u == user));
        assert!(matches!(&events[2], LineEvent::Other { event_id, .. } if event_id == "01HSTICKER"));
        assert!(matches!(&events[3], LineEvent::Other { .. }), "only one-to-one chats are rooms");
        assert_eq!(parse_webhook(br#"{"destination":"U","events":[]}"#).unwrap(), vec![]);
        assert_eq!(parse_webhook(b"nope"), Err(LineError::NotJson));
        assert_eq!(
            parse_webhook(br#"{"events":[{"type":"follow","timestamp":1}]}"#),
            Err(LineError::BadEvent),
            "no event id: cannot be checked for replay"
        );
        assert_eq!(
            parse_webhook(br#"{"events":[{"type":"follow","webhookEventId":"A"}]}"#),
            Err(LineError::BadEvent),
            "no time"
        );
        assert_eq!(
            parse_webhook(br#"{"events":[{"type":"follow","webhookEventId":"a/../b","timestamp":1}]}"#),
            Err(LineError::BadEvent)
        );
    }

    #[test]
    fn user_ids_are_lines_form_only() {
        assert!(LineUserId::parse(USER).is_some());
        assert!(LineUserId::parse("U4AF4980629A0B1C2D3E4F5A6B7C8D9E0").is_none(), "upper-case hex");
        assert!(LineUserId::parse("C4af4980629a0b1c2d3e4f5a6b7c8d9e0").is_none());
        assert!(LineUserId::parse("U4af").is_none());
        assert!(LineUserId::parse("").is_none());
    }

    #[test]
    fn the_replay_window_holds_at_its_edges() {
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let w = SignedDuration::from_mins(10);
        assert!(within_window(now, now, w));
        assert!(within_window(now - w, now, w), "exactly the window old");
        assert!(!within_window(now - w - SignedDuration::from_millis(1), now, w));
        assert!(within_window(now + FUTURE_SKEW, now, w));
        assert!(!within_window(now + FUTURE_SKEW + SignedDuration::from_millis(1), now, w));
    }

    #[test]
    fn a_client_id_per_line_message_and_retries_that_back_off() {
        assert_eq!(client_id("123"), "line-123");
        assert!(crate::chat::messages::ClientId::parse(&client_id(&"9".repeat(40))).is_ok());
        assert_eq!(retry_after(0), SignedDuration::from_secs(10));
        assert_eq!(retry_after(1), SignedDuration::from_secs(20));
        assert_eq!(retry_after(8), SignedDuration::from_secs(2560));
        assert_eq!(retry_after(9), SignedDuration::from_secs(3600));
        assert_eq!(retry_after(u32::MAX), SignedDuration::from_secs(3600));
    }
}
