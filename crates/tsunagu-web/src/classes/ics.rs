//! iCalendar (RFC 5545) for a family's bookings and a venue's sessions:
//! CRLF line ends, content lines folded at 75 octets (never inside a UTF-8
//! character), TEXT values escaped, times in Japan's civil time with
//! `TZID=Asia/Tokyo` and a VTIMEZONE that defines it (Japan keeps +09:00
//! all year), Japanese SUMMARY and LOCATION.

use jiff::civil::{Date, Time};
use jiff::Timestamp;

/// One event.
pub struct Event {
    /// Unique and stable: the same session gives the same UID.
    pub uid: String,
    pub day: Date,
    pub starts: Time,
    pub minutes: u16,
    pub summary: String,
    pub location: String,
    pub description: String,
    pub cancelled: bool,
}

/// Escapes a TEXT value (RFC 5545 §3.3.11).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends one content line, folded so that no line is longer than 75
/// octets (§3.1): a fold is CRLF and a space, which counts on the next line.
fn line(out: &mut String, content: &str) {
    let mut used = 0usize;
    for c in content.chars() {
        let n = c.len_utf8();
        if used + n > 75 {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += n;
    }
    out.push_str("\r\n");
}

fn local(day: Date, t: Time) -> String {
    format!("{:04}{:02}{:02}T{:02}{:02}{:02}", day.year(), day.month(), day.day(), t.hour(), t.minute(), t.second())
}

/// A calendar of `events`, stamped `now`.
pub fn calendar(name: &str, events: &[Event], now: Timestamp) -> String {
    let mut out = String::new();
    for l in ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//tsunagu//classes//JA", "CALSCALE:GREGORIAN"] {
        line(&mut out, l);
    }
    line(&mut out, &format!("X-WR-CALNAME:{}", escape(name)));
    line(&mut out, "X-WR-TIMEZONE:Asia/Tokyo");
    for l in [
        "BEGIN:VTIMEZONE",
        "TZID:Asia/Tokyo",
        "BEGIN:STANDARD",
        "DTSTART:19700101T000000",
        "TZOFFSETFROM:+0900",
        "TZOFFSETTO:+0900",
        "TZNAME:JST",
        "END:STANDARD",
        "END:VTIMEZONE",
    ] {
        line(&mut out, l);
    }
    let stamp = now.strftime("%Y%m%dT%H%M%SZ").to_string();
    for e in events {
        let end = e.day.to_datetime(e.starts).saturating_add(jiff::Span::new().minutes(i64::from(e.minutes)));
        line(&mut out, "BEGIN:VEVENT");
        line(&mut out, &format!("UID:{}", e.uid));
        line(&mut out, &format!("DTSTAMP:{stamp}"));
        line(&mut out, &format!("DTSTART;TZID=Asia/Tokyo:{}", local(e.day, e.starts)));
        line(&mut out, &format!("DTEND;TZID=Asia/Tokyo:{}", local(end.date(), end.time())));
        line(&mut out, &format!("SUMMARY:{}", escape(&e.summary)));
        line(&mut out, &format!("LOCATION:{}", escape(&e.location)));
        if !e.description.is_empty() {
            line(&mut out, &format!("DESCRIPTION:{}", escape(&e.description)));
        }
        line(&mut out, if e.cancelled { "STATUS:CANCELLED" } else { "STATUS:CONFIRMED" });
        line(&mut out, "END:VEVENT");
    }
    line(&mut out, "END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn lines_fold_at_75_octets_and_end_in_crlf() {
        let e = Event {
            uid: "session-1@tsunagu".into(),
            day: date(2026, 12, 15),
            starts: Time::constant(10, 0, 0, 0),
            minutes: 120,
            summary: "産前・産後のセルフケア講座（北沢児童館）".repeat(3),
            location: "北沢児童館, 世田谷区; 2階".into(),
            description: String::new(),
            cancelled: false,
        };
        let ics = calendar("予約", &[e], "2026-11-22T01:02:03Z".parse().unwrap());
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        for l in ics.split("\r\n") {
            assert!(l.len() <= 75, "{l:?} is {} octets", l.len());
            assert!(!l.contains('\n'));
        }
        assert!(ics.contains("DTSTART;TZID=Asia/Tokyo:20261215T100000\r\n"));
        assert!(ics.contains("DTEND;TZID=Asia/Tokyo:20261215T120000\r\n"));
        assert!(ics.contains("LOCATION:北沢児童館\\, 世田谷区\\; 2階\r\n"));
        let unfolded = ics.replace("\r\n ", "");
        assert!(unfolded.contains(&format!("SUMMARY:{}", "産前・産後のセルフケア講座（北沢児童館）".repeat(3))));
    }
}
