//! Time is a parameter. Only [`SystemClock`] reads the system time; every
//! rule takes a [`Clock`] (or a date) so tests can pin the day.

use jiff::civil::Date;
use jiff::tz::{Offset, TimeZone};
use jiff::Timestamp;

/// Japan Standard Time. Japan has no daylight saving time, so a fixed
/// offset is exact and needs no time-zone database.
pub fn jst() -> TimeZone {
    TimeZone::fixed(Offset::constant(9))
}

/// The calendar date in Japan at the given instant.
pub fn japan_date(at: Timestamp) -> Date {
    at.to_zoned(jst()).date()
}

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;

    /// Today's date in Japan, the date every rule of the product is counted in.
    fn today(&self) -> Date {
        japan_date(self.now())
    }
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one place allowed to read the time
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that stands still (or is moved by hand) — for tests and for the
/// deterministic demo generator.
#[derive(Debug)]
pub struct FixedClock(std::sync::Mutex<Timestamp>);

impl FixedClock {
    pub fn new(at: Timestamp) -> Self {
        Self(std::sync::Mutex::new(at))
    }

    pub fn set(&self, at: Timestamp) {
        if let Ok(mut t) = self.0.lock() {
            *t = at;
        }
    }

    pub fn advance(&self, by: jiff::SignedDuration) {
        if let Ok(mut t) = self.0.lock() {
            if let Ok(next) = t.checked_add(by) {
                *t = next;
            }
        }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0.lock().map(|t| *t).unwrap_or(Timestamp::UNIX_EPOCH)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japan_date_turns_at_15_utc() {
        let before: Timestamp = "2026-03-31T14:59:59Z".parse().unwrap();
        let after: Timestamp = "2026-03-31T15:00:00Z".parse().unwrap();
        assert_eq!(japan_date(before), jiff::civil::date(2026, 3, 31));
        assert_eq!(japan_date(after), jiff::civil::date(2026, 4, 1));
    }
}
