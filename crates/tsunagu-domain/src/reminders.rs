//! Reminders (#10): a family member chooses to be told by e-mail, some days
//! ahead, of the class bookings and postpartum stays coming up; the job
//! sends one mail per item and channel. This module holds the rules: the
//! choice's check, which items are due, and the mail itself — which names
//! no one and says nothing of health (the day only, and the link to open
//! the app), with its headers encoded for SMTP (RFC 2047, RFC 2045).

use crate::validation::FieldErrors;
use base64::Engine;
use jiff::civil::Date;

/// How a reminder goes: by e-mail, or by web push to the browsers the
/// family member subscribed (`crate::push`). Each goes once per item and
/// account on its own channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Email,
    Push,
}

impl Channel {
    /// As stored (`reminders_sent.channel`).
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Push => "push",
        }
    }
}

/// The most days ahead a reminder may be sent.
pub const MAX_DAYS_BEFORE: u8 = 14;
/// The most characters of an e-mail address (RFC 5321's path limit).
pub const MAX_EMAIL_LEN: usize = 254;

/// A family member's choice, as checked (`ReminderInput::check`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderSettings {
    /// Empty when none is given (then e-mail is off).
    pub email: String,
    pub email_on: bool,
    /// Days before the item's first day the reminder goes (0: on the day).
    pub days_before: u8,
    /// The language of the mail: the page's when the choice was made.
    pub lang_en: bool,
}

impl Default for ReminderSettings {
    /// Off, as every account starts.
    fn default() -> Self {
        Self { email: String::new(), email_on: false, days_before: 1, lang_en: false }
    }
}

/// What the settings form (or a JSON body) sends.
#[derive(Debug, Clone, Default)]
pub struct ReminderInput {
    pub email: String,
    pub email_on: bool,
    pub days_before: String,
    pub lang_en: bool,
}

impl ReminderInput {
    /// The choice, or the fields that do not pass: `email` (`required` when
    /// e-mail is turned on without one, `invalid_email`), `days_before`
    /// (`out_of_range`: 0 to [`MAX_DAYS_BEFORE`]).
    pub fn check(&self) -> Result<ReminderSettings, FieldErrors> {
        let mut errors = FieldErrors::default();
        let email = self.email.trim().to_owned();
        if email.is_empty() {
            if self.email_on {
                errors.add("email", "required");
            }
        } else if !plausible_email(&email) {
            errors.add("email", "invalid_email");
        }
        let days = self.days_before.trim().parse::<u8>().ok().filter(|d| *d <= MAX_DAYS_BEFORE);
        if days.is_none() {
            errors.add("days_before", "out_of_range");
        }
        match days {
            Some(days_before) if errors.is_empty() => {
                Ok(ReminderSettings { email, email_on: self.email_on, days_before, lang_en: self.lang_en })
            }
            _ => Err(errors),
        }
    }
}

/// An address a relay can take: one `@` between a local part and a domain
/// with a dot, printable ASCII without spaces, angle brackets or line breaks
/// (nothing that could end an SMTP command or a header).
pub fn plausible_email(s: &str) -> bool {
    if s.len() > MAX_EMAIL_LEN
        || !s.chars().all(|c| c.is_ascii_graphic())
        || s.contains(['<', '>', '(', ')', ',', ';', '"', '\\'])
    {
        return false;
    }
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && local.len() <= 64
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains("..")
        }
        None => false,
    }
}

/// Whether a reminder of an item on `day` is due `today` for someone who
/// asked for it `days_before` days ahead: from that day until the item's
/// day (a job that missed a day still sends it, never after the item).
pub fn is_due(day: Date, today: Date, days_before: u8) -> bool {
    if today > day {
        return false;
    }
    match day.checked_sub(jiff::Span::new().days(i64::from(days_before))) {
        Ok(from) => today >= from,
        Err(_) => true,
    }
}

/// A reminder mail's subject and body (plain text), in Japanese or English.
/// Only the day and the link: no name, no kind of item, nothing of health.
pub fn message(day: Date, lang_en: bool, link: &str) -> (String, String) {
    if lang_en {
        let d = format!("{} {} {}", weekday_en(day), day.day(), month_en(day.month()));
        (
            format!("tsunagu: something planned on {d}"),
            format!("tsunagu: you have something planned on {d}. Please open the app to see it.\r\n{link}\r\n"),
        )
    } else {
        let d = format!("{}月{}日({})", day.month(), day.day(), crate::dates::weekday_ja(day.weekday()));
        (
            format!("tsunagu: {d}に予定があります"),
            format!("tsunagu: {d}に予定があります。アプリを開いて確認してください。\r\n{link}\r\n"),
        )
    }
}

fn weekday_en(day: Date) -> &'static str {
    use jiff::civil::Weekday::*;
    match day.weekday() {
        Monday => "Mon",
        Tuesday => "Tue",
        Wednesday => "Wed",
        Thursday => "Thu",
        Friday => "Fri",
        Saturday => "Sat",
        Sunday => "Sun",
    }
}

fn month_en(m: i8) -> &'static str {
    const NAMES: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    NAMES.get(usize::try_from(m.saturating_sub(1)).unwrap_or(0)).copied().unwrap_or("")
}

/// A header value as RFC 2047 encoded words (`=?UTF-8?B?…?=`) when it is
/// not plain ASCII, each word at most 75 characters and split only between
/// characters; words are joined by a folding space.
pub fn encode_header(value: &str) -> String {
    if value.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
        return value.to_owned();
    }
    // 75 - len("=?UTF-8?B?") - len("?=") = 63 base64 characters: 45 bytes.
    const MAX_BYTES: usize = 45;
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in value.chars() {
        if chunk.len() + c.len_utf8() > MAX_BYTES {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(chunk);
    }
    words
        .iter()
        .map(|w| format!("=?UTF-8?B?{}?=", base64::engine::general_purpose::STANDARD.encode(w.as_bytes())))
        .collect::<Vec<_>>()
        .join("\r\n ")
}

/// A whole mail as it goes after DATA: headers (the subject encoded), a
/// UTF-8 body in base64 lines of 76, CRLF line ends. `message_id` is unique
/// to this mail (the job makes it of the item's key).
pub fn compose(from: &str, to: &str, subject: &str, body: &str, date: &str, message_id: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(body.as_bytes());
    let mut out = String::new();
    out.push_str(&format!("From: {from}\r\n"));
    out.push_str(&format!("To: {to}\r\n"));
    out.push_str(&format!("Subject: {}\r\n", encode_header(subject)));
    out.push_str(&format!("Date: {date}\r\n"));
    out.push_str(&format!("Message-ID: <{message_id}>\r\n"));
    out.push_str("MIME-Version: 1.0\r\n");
    out.push_str("Content-Type: text/plain; charset=UTF-8\r\n");
    out.push_str("Content-Transfer-Encoding: base64\r\n\r\n");
    for line in encoded.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    #[test]
    fn settings_are_checked() {
        let ok =
            ReminderInput { email: " a@example.jp ".into(), email_on: true, days_before: "2".into(), lang_en: false };
        assert_eq!(ok.check().unwrap().email, "a@example.jp");
        let off = ReminderInput { email: String::new(), email_on: false, days_before: "0".into(), lang_en: false };
        assert!(off.check().is_ok());
        let on_without = ReminderInput { email_on: true, days_before: "1".into(), ..Default::default() };
        assert_eq!(on_without.check().unwrap_err().for_field("email"), Some("required"));
        for bad in ["a", "a@b", "a@b..jp", "a b@c.jp", "a@c.jp\r\nRCPT TO:<x@y.jp>", "<a@c.jp>", "@c.jp", "a@.jp"] {
            let i = ReminderInput { email: bad.into(), email_on: true, days_before: "1".into(), lang_en: false };
            assert_eq!(i.check().unwrap_err().for_field("email"), Some("invalid_email"), "{bad:?}");
        }
        for (days, ok) in [("0", true), ("14", true), ("15", false), ("-1", false), ("", false), ("x", false)] {
            let i = ReminderInput { email: "a@b.jp".into(), email_on: true, days_before: days.into(), lang_en: false };
            assert_eq!(i.check().is_ok(), ok, "{days:?}");
        }
    }

    #[test]
    fn due_from_the_lead_until_the_day() {
        let day = date(2026, 12, 10);
        assert!(!is_due(day, date(2026, 12, 7), 2));
        assert!(is_due(day, date(2026, 12, 8), 2));
        assert!(is_due(day, date(2026, 12, 10), 2));
        assert!(!is_due(day, date(2026, 12, 11), 2));
        assert!(is_due(day, day, 0) && !is_due(day, date(2026, 12, 9), 0));
    }

    #[test]
    fn the_mail_names_the_day_only() {
        let (subject, body) = message(date(2026, 12, 10), false, "https://tsunagu.example/me");
        assert_eq!(subject, "tsunagu: 12月10日(木)に予定があります");
        assert!(body.starts_with("tsunagu: 12月10日(木)に予定があります。アプリを開いて確認してください。"));
        assert!(body.contains("https://tsunagu.example/me"));
        let (subject, _) = message(date(2026, 12, 10), true, "x");
        assert_eq!(subject, "tsunagu: something planned on Thu 10 Dec");
    }

    fn decode(header: &str) -> String {
        header
            .split("\r\n ")
            .map(|w| {
                let b = w.strip_prefix("=?UTF-8?B?").and_then(|w| w.strip_suffix("?=")).expect("an encoded word");
                String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b).unwrap()).unwrap()
            })
            .collect()
    }

    #[test]
    fn a_japanese_subject_is_encoded_words() {
        let s = "tsunagu: 12月10日(木)に予定があります";
        let h = encode_header(s);
        assert!(h.starts_with("=?UTF-8?B?") && h.is_ascii(), "{h}");
        assert_eq!(decode(&h), s);
        assert_eq!(encode_header("plain"), "plain");
    }

    proptest! {
        #[test]
        fn encoded_words_round_trip_and_stay_short(s in "[a-zぁ-んア-ン一-龥 ]{1,80}") {
            let h = encode_header(&s);
            if s.is_ascii() {
                prop_assert_eq!(&h, &s);
            } else {
                for w in h.split("\r\n ") {
                    prop_assert!(w.len() <= 75, "{}", w);
                }
                prop_assert_eq!(decode(&h), s);
            }
        }

        #[test]
        fn due_only_within_the_lead(offset in -30i64..30, lead in 0u8..=14) {
            let day = date(2026, 12, 10);
            let today = day.checked_add(jiff::Span::new().days(offset)).unwrap();
            prop_assert_eq!(is_due(day, today, lead), offset <= 0 && -offset <= i64::from(lead));
        }
    }
}
