use super::*;
use crate::timeline::dates::*;

#[test]
fn gestational_weeks_count_back_from_a_40_week_edd() {
    let edd = date(2027, 5, 20);
    assert_eq!(gestational_week_start(edd, 40), edd);
    assert_eq!(gestational_week_start(edd, 16), date(2026, 12, 3));
    assert_eq!(gestational_week_start(edd, 28), date(2027, 2, 25));
    assert_eq!(gestational_week_end(edd, 31), date(2027, 3, 24));
    assert_eq!(gestational_week_end(edd, 36), date(2027, 4, 28));
    assert_eq!(gestational_week_start(edd, 42), date(2027, 6, 3));
    assert_eq!(gestational_week_start(edd, 0), date(2026, 8, 13));
}

#[test]
fn gestational_age_on_a_day() {
    let edd = date(2027, 5, 20);
    assert_eq!(gestational_age_on(edd, date(2026, 10, 1)), Some((7, 0)));
    assert_eq!(gestational_age_on(edd, date(2027, 5, 19)), Some((39, 6)));
    assert_eq!(gestational_age_on(edd, edd), Some((40, 0)));
    assert_eq!(gestational_age_on(edd, date(2026, 8, 13)), Some((0, 0)));
    assert_eq!(gestational_age_on(edd, date(2026, 8, 12)), None);
}

#[test]
fn months_are_counted_as_japanese_law_counts_ages() {
    // The ordinary case: the same day of the month.
    assert_eq!(turns_months(date(2026, 1, 15), 5), date(2026, 6, 15));
    assert_eq!(last_day_under_months(date(2026, 1, 15), 5), date(2026, 6, 14));
    // No 31 June: the period ends with 30 June, so 5 months from 1 July.
    assert_eq!(turns_months(date(2026, 1, 31), 5), date(2026, 7, 1));
    assert_eq!(last_day_under_months(date(2026, 1, 31), 5), date(2026, 6, 30));
    // February, common and leap years.
    assert_eq!(turns_months(date(2025, 1, 31), 1), date(2025, 3, 1));
    assert_eq!(turns_months(date(2025, 1, 29), 1), date(2025, 3, 1));
    assert_eq!(turns_months(date(2025, 1, 28), 1), date(2025, 2, 28));
    assert_eq!(turns_months(date(2024, 1, 29), 1), date(2024, 2, 29));
    assert_eq!(turns_months(date(2024, 1, 31), 1), date(2024, 3, 1));
    // A 29 February baby is a year old on 1 March in a common year.
    assert_eq!(turns_months(date(2024, 2, 29), 12), date(2025, 3, 1));
    assert_eq!(turns_months(date(2024, 2, 29), 48), date(2028, 2, 29));
    // Across the year end.
    assert_eq!(turns_months(date(2026, 12, 15), 1), date(2027, 1, 15));
    assert_eq!(turns_months(date(2026, 10, 31), 4), date(2027, 3, 1));
    assert_eq!(turns_months(date(2026, 8, 31), 1), date(2026, 10, 1));
    // Zero months is the birth day.
    assert_eq!(turns_months(date(2026, 8, 31), 0), date(2026, 8, 31));
}

#[test]
fn corrected_age_counts_from_40_weeks() {
    // Born at 30w0d: 10 weeks early.
    assert_eq!(corrected_birth_date(date(2026, 3, 1), 30, 0), date(2026, 5, 10));
    assert_eq!(corrected_birth_date(date(2026, 3, 1), 39, 6), date(2026, 3, 2));
    assert_eq!(corrected_birth_date(date(2026, 3, 1), 40, 0), date(2026, 3, 1));
    // Post-term babies are not "corrected" backwards.
    assert_eq!(corrected_birth_date(date(2026, 3, 1), 42, 3), date(2026, 3, 1));
}

#[test]
fn the_working_week_runs_monday_to_sunday() {
    // 2026-11-22 is a Sunday.
    assert_eq!(week_of(date(2026, 11, 22)), (date(2026, 11, 16), date(2026, 11, 22)));
    assert_eq!(week_of(date(2026, 11, 23)), (date(2026, 11, 23), date(2026, 11, 29)));
    assert_eq!(week_of(date(2026, 11, 25)), (date(2026, 11, 23), date(2026, 11, 29)));
    // Across the year end: 2026-12-31 is a Thursday.
    assert_eq!(week_of(date(2026, 12, 31)), (date(2026, 12, 28), date(2027, 1, 3)));
}

#[test]
fn next_month_spans_a_whole_month() {
    assert_eq!(next_month(date(2026, 10, 1)), (date(2026, 11, 1), date(2026, 11, 30)));
    assert_eq!(next_month(date(2026, 12, 31)), (date(2027, 1, 1), date(2027, 1, 31)));
    assert_eq!(next_month(date(2028, 1, 31)), (date(2028, 2, 1), date(2028, 2, 29)));
}

proptest! {
    #[test]
    fn age_in_months_moves_forward(birth in any_date(), later in 0i32..3, months in 0u16..24) {
        let t = turns_months(birth, months);
        // Later births never turn earlier; each month comes after the last.
        prop_assert!(turns_months(birth.saturating_add(later.days()), months) >= t);
        prop_assert!(turns_months(birth, months + 1) > t);
        // The day is the birth's day of the month, or the 1st after a short month.
        prop_assert!(t.day() == birth.day() || (t.day() == 1 && birth.day() > 28));
        // Between 28 and 31 days per month.
        let next = turns_months(birth, months + 1);
        let gap = (next - t).get_days();
        prop_assert!((28..=31).contains(&gap) || (birth.day() > 28 && (1..=31).contains(&gap)), "gap {gap}");
    }

    #[test]
    fn week_of_contains_the_day(day in any_date()) {
        let (monday, sunday) = week_of(day);
        prop_assert!(monday <= day && day <= sunday);
        prop_assert_eq!(monday.weekday(), jiff::civil::Weekday::Monday);
        prop_assert_eq!((sunday - monday).get_days(), 6);
    }
}
