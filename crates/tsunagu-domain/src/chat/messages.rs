//! What a chat message, its client id, and a parent's display name may be.
//! Text only [003] (the chat replaces a LINE talk room: no files, no
//! images), bounded, with an error that says what is wrong.

use serde::Serialize;

/// The longest message, in characters (Unicode scalar values). LINE's own
/// limit for a text message is 5,000; a chat between a parent and three
/// supporters needs less, and a bound keeps a page and a socket frame small.
pub const MAX_MESSAGE_CHARS: usize = 2000;
/// The longest display name, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 20;
/// The longest client id (a client's own id for a message, so a resend is stored once).
pub const MAX_CLIENT_ID_CHARS: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageError {
    #[error("a message cannot be empty")]
    Empty,
    #[error("a message is at most {MAX_MESSAGE_CHARS} characters")]
    TooLong,
    #[error("a message is text only: no control characters")]
    NotText,
    #[error("a client id is 1 to {MAX_CLIENT_ID_CHARS} letters, digits, '-' or '_'")]
    BadClientId,
    #[error("a display name is 1 to {MAX_DISPLAY_NAME_CHARS} characters on one line")]
    BadDisplayName,
}

impl MessageError {
    /// The code the API answers and the pages' words use.
    pub fn code(self) -> &'static str {
        match self {
            MessageError::Empty => "message_empty",
            MessageError::TooLong => "message_too_long",
            MessageError::NotText => "message_not_text",
            MessageError::BadClientId => "bad_client_id",
            MessageError::BadDisplayName => "bad_display_name",
        }
    }
}

/// Control characters other than line breaks and tabs, and the bidi
/// overrides that would make a message read otherwise than it is stored.
fn forbidden(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A message's text: trimmed, not empty, at most [`MAX_MESSAGE_CHARS`],
/// line breaks kept (`\r\n` as `\n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageText(String);

impl MessageText {
    pub fn parse(s: &str) -> Result<Self, MessageError> {
        let s = s.replace("\r\n", "\n");
        let t = s.trim();
        if t.is_empty() {
            return Err(MessageError::Empty);
        }
        if t.chars().any(forbidden) {
            return Err(MessageError::NotText);
        }
        if t.chars().count() > MAX_MESSAGE_CHARS {
            return Err(MessageError::TooLong);
        }
        Ok(Self(t.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A client's own id for a message: a resend after a dropped connection
/// carries the same one, and the store keeps the message once per room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientId(String);

impl ClientId {
    pub fn parse(s: &str) -> Result<Self, MessageError> {
        let ok = !s.is_empty()
            && s.len() <= MAX_CLIENT_ID_CHARS
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(MessageError::BadClientId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name a parent is known by in the chat [003] 「ディスプレイネームだけ」:
/// one line, 1 to [`MAX_DISPLAY_NAME_CHARS`] characters. The chat never
/// asks for a real name; what a parent types here is theirs to choose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(s: &str) -> Result<Self, MessageError> {
        let t = s.trim();
        if t.is_empty()
            || t.chars().count() > MAX_DISPLAY_NAME_CHARS
            || t.chars().any(|c| c.is_control() || forbidden(c))
        {
            return Err(MessageError::BadDisplayName);
        }
        Ok(Self(t.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn message_boundaries() {
        assert_eq!(MessageText::parse(""), Err(MessageError::Empty));
        assert_eq!(MessageText::parse(" \n\t　"), Err(MessageError::Empty));
        assert_eq!(MessageText::parse("a").unwrap().as_str(), "a");
        assert_eq!(MessageText::parse("  おはよう\r\nございます \n").unwrap().as_str(), "おはよう\nございます");
        let at_limit = "あ".repeat(MAX_MESSAGE_CHARS);
        assert_eq!(MessageText::parse(&at_limit).unwrap().as_str(), at_limit);
        assert_eq!(MessageText::parse(&"あ".repeat(MAX_MESSAGE_CHARS + 1)), Err(MessageError::TooLong));
        assert_eq!(MessageText::parse("a\u{0}b"), Err(MessageError::NotText));
        assert_eq!(MessageText::parse("a\u{1b}[31mb"), Err(MessageError::NotText));
        assert_eq!(MessageText::parse("a\u{202e}b"), Err(MessageError::NotText));
        assert!(MessageText::parse("<b>tags are text</b>").is_ok());
    }

    #[test]
    fn client_id_boundaries() {
        assert_eq!(ClientId::parse(""), Err(MessageError::BadClientId));
        assert!(ClientId::parse("a").is_ok());
        assert!(ClientId::parse("0f8e-41_Z").is_ok());
        assert!(ClientId::parse(&"x".repeat(MAX_CLIENT_ID_CHARS)).is_ok());
        assert_eq!(ClientId::parse(&"x".repeat(MAX_CLIENT_ID_CHARS + 1)), Err(MessageError::BadClientId));
        assert_eq!(ClientId::parse("a b"), Err(MessageError::BadClientId));
        assert_eq!(ClientId::parse("ａ"), Err(MessageError::BadClientId));
    }

    #[test]
    fn display_name_boundaries() {
        assert_eq!(DisplayName::parse("  "), Err(MessageError::BadDisplayName));
        assert_eq!(DisplayName::parse(" ひよこ ").unwrap().as_str(), "ひよこ");
        assert!(DisplayName::parse(&"あ".repeat(MAX_DISPLAY_NAME_CHARS)).is_ok());
        assert_eq!(DisplayName::parse(&"あ".repeat(MAX_DISPLAY_NAME_CHARS + 1)), Err(MessageError::BadDisplayName));
        assert_eq!(DisplayName::parse("a\nb"), Err(MessageError::BadDisplayName));
    }

    proptest! {
        #[test]
        fn a_parsed_message_is_within_bounds(s in "\\PC{0,2100}") {
            if let Ok(m) = MessageText::parse(&s) {
                prop_assert!(!m.as_str().is_empty());
                prop_assert!(m.as_str().chars().count() <= MAX_MESSAGE_CHARS);
                prop_assert_eq!(MessageText::parse(m.as_str()), Ok(m.clone()));
            }
        }
    }
}
