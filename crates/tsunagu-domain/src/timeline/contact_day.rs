//! The day a contact took place, as staff record it with its outcome (#10):
//! never in the future, and never before the pregnancy's notification — a
//! contact of the seamless support starts with the notification ([002] 妊娠
//! 届出時の面接), so an earlier day is a typing mistake.

use jiff::civil::Date;

/// Why a contact's day is refused; the code is the `contacted_on` field's error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ContactDayError {
    #[error("the day is in the future")]
    InFuture,
    #[error("the day is before the pregnancy was notified")]
    BeforeNotification,
}

impl ContactDayError {
    pub fn code(self) -> &'static str {
        match self {
            ContactDayError::InFuture => "contact_day_in_future",
            ContactDayError::BeforeNotification => "contact_day_before_notification",
        }
    }
}

/// Checks the day a contact took place against today (in Japan) and the
/// day the pregnancy was notified: both ends are allowed.
pub fn check_contact_day(on: Date, today: Date, notified_on: Date) -> Result<Date, ContactDayError> {
    if on > today {
        Err(ContactDayError::InFuture)
    } else if on < notified_on {
        Err(ContactDayError::BeforeNotification)
    } else {
        Ok(on)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    #[test]
    fn today_and_the_notification_day_are_allowed() {
        let (today, notified) = (date(2026, 11, 22), date(2026, 6, 1));
        assert_eq!(check_contact_day(today, today, notified), Ok(today));
        assert_eq!(check_contact_day(notified, today, notified), Ok(notified));
        assert_eq!(check_contact_day(date(2026, 11, 23), today, notified), Err(ContactDayError::InFuture));
        assert_eq!(check_contact_day(date(2026, 5, 31), today, notified), Err(ContactDayError::BeforeNotification));
        assert_eq!(ContactDayError::InFuture.code(), "contact_day_in_future");
    }

    proptest! {
        #[test]
        fn allowed_iff_between_notification_and_today(on in 0i32..400, today in 0i32..400, notified in 0i32..400) {
            let base = date(2026, 1, 1);
            let day = |n: i32| base.checked_add(jiff::Span::new().days(i64::from(n))).unwrap();
            let (on, today, notified) = (day(on), day(today), day(notified));
            let ok = check_contact_day(on, today, notified).is_ok();
            prop_assert_eq!(ok, on <= today && on >= notified);
        }
    }
}
