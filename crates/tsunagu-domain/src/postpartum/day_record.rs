//! A facility's record of one day of a stay (#10): the care given, as the
//! seed lists a facility's 支援内容, the mother's and the baby's condition in
//! the midwife's own words, and what worries (a note). The seed names the
//! kinds of care, not a form of measurements, so nothing else is a field:
//! feeding, weight and sleep are written in the baby's condition as the
//! midwife sees them.
//!
//! A day is recorded once it has come: a day after today is refused (the
//! record is of what happened).

use serde::{Deserialize, Serialize};

/// A kind of care a facility gives on a day.
///
/// Seed: [001] 産後ケア事業 全体像 (内容: 助産師による母体ケア、乳児ケア、育児相談、
/// 授乳相談、沐浴指導 / 臨床心理士によるカウンセリング / 乳房自己ケア指導) and
/// 至誠会第二病院・アウトリーチ型 (支援内容: 母体ケア、乳児ケア、育児相談・授乳相談、母の休養).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CareGiven {
    /// 母体ケア
    MotherCare,
    /// 乳児ケア
    BabyCare,
    /// 育児相談
    ParentingAdvice,
    /// 授乳相談
    FeedingAdvice,
    /// 沐浴指導
    BathingGuidance,
    /// 乳房自己ケア指導
    BreastSelfCare,
    /// 臨床心理士によるカウンセリング
    Counselling,
    /// 母の休養
    MotherRest,
}

impl CareGiven {
    pub const ALL: [CareGiven; 8] = [
        CareGiven::MotherCare,
        CareGiven::BabyCare,
        CareGiven::ParentingAdvice,
        CareGiven::FeedingAdvice,
        CareGiven::BathingGuidance,
        CareGiven::BreastSelfCare,
        CareGiven::Counselling,
        CareGiven::MotherRest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CareGiven::MotherCare => "mother_care",
            CareGiven::BabyCare => "baby_care",
            CareGiven::ParentingAdvice => "parenting_advice",
            CareGiven::FeedingAdvice => "feeding_advice",
            CareGiven::BathingGuidance => "bathing_guidance",
            CareGiven::BreastSelfCare => "breast_self_care",
            CareGiven::Counselling => "counselling",
            CareGiven::MotherRest => "mother_rest",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s.trim())
    }
}

/// The structured part of a day's record (the note beside it is what
/// worries, or anything else).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DayRecord {
    /// The care given that day, in the seed's order, each once.
    pub care: Vec<CareGiven>,
    /// The mother's condition (体調・気分・休養), free text.
    pub mother: String,
    /// The baby's condition (授乳・体重・睡眠), free text.
    pub baby: String,
}

/// The most characters each free-text part of a day's record takes.
pub const MAX_TEXT_CHARS: usize = 2000;

/// Why a day's record is refused, as a form field's error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DayRecordError {
    #[error("the day has not come yet")]
    DayInFuture,
    #[error("not a kind of care the facility gives")]
    UnknownCare,
    #[error("too long")]
    TooLong(&'static str),
    #[error("nothing recorded")]
    Empty,
}

impl DayRecordError {
    pub fn field(self) -> &'static str {
        match self {
            DayRecordError::DayInFuture => "day",
            DayRecordError::UnknownCare => "care",
            DayRecordError::TooLong(field) => field,
            DayRecordError::Empty => "note",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            DayRecordError::DayInFuture => "date_in_future",
            DayRecordError::UnknownCare => "invalid_choice",
            DayRecordError::TooLong(_) => "too_long",
            DayRecordError::Empty => "required",
        }
    }
}

/// A day may be recorded once it has come (today in Japan or before);
/// whether it is a day of the stay is the store's to check with the stay.
pub fn recordable(day: jiff::civil::Date, today: jiff::civil::Date) -> Result<(), DayRecordError> {
    if day > today {
        Err(DayRecordError::DayInFuture)
    } else {
        Ok(())
    }
}

/// A day's record from what a form or a JSON body sent: the care codes
/// (each known, kept once, in the seed's order), the two conditions and the
/// note, trimmed. Something must be recorded: a care given, a condition or
/// a note.
pub fn day_record<'a>(
    care: impl IntoIterator<Item = &'a str>,
    mother: &str,
    baby: &str,
    note: &str,
) -> Result<DayRecord, DayRecordError> {
    let mut given = Vec::new();
    for code in care {
        if code.trim().is_empty() {
            continue;
        }
        given.push(CareGiven::parse(code).ok_or(DayRecordError::UnknownCare)?);
    }
    given.sort();
    given.dedup();
    let (mother, baby) = (mother.trim(), baby.trim());
    for (field, text) in [("mother", mother), ("baby", baby), ("note", note.trim())] {
        if text.chars().count() > MAX_TEXT_CHARS {
            return Err(DayRecordError::TooLong(field));
        }
    }
    if given.is_empty() && mother.is_empty() && baby.is_empty() && note.trim().is_empty() {
        return Err(DayRecordError::Empty);
    }
    Ok(DayRecord { care: given, mother: mother.to_owned(), baby: baby.to_owned() })
}

/// The care codes as stored (comma-separated, in the seed's order).
pub fn care_to_stored(care: &[CareGiven]) -> String {
    care.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(",")
}

/// The care codes read back; an unknown code (none is written) is left out.
pub fn care_from_stored(s: &str) -> Vec<CareGiven> {
    s.split(',').filter_map(CareGiven::parse).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    #[test]
    fn today_and_before_are_recordable_tomorrow_is_not() {
        let today = date(2026, 11, 22);
        assert_eq!(recordable(today, today), Ok(()));
        assert_eq!(recordable(date(2026, 11, 21), today), Ok(()));
        assert_eq!(recordable(date(2026, 11, 23), today), Err(DayRecordError::DayInFuture));
        // Across a year's end and a leap day.
        assert_eq!(recordable(date(2027, 1, 1), date(2026, 12, 31)), Err(DayRecordError::DayInFuture));
        assert_eq!(recordable(date(2028, 2, 29), date(2028, 2, 29)), Ok(()));
        assert_eq!(DayRecordError::DayInFuture.field(), "day");
        assert_eq!(DayRecordError::DayInFuture.code(), "date_in_future");
    }

    #[test]
    fn a_record_keeps_each_care_once_in_the_seeds_order() {
        let r = day_record(["mother_rest", "mother_care", "", "mother_care"], " 疲れ気味 ", "授乳 8回", "").unwrap();
        assert_eq!(r.care, [CareGiven::MotherCare, CareGiven::MotherRest]);
        assert_eq!((r.mother.as_str(), r.baby.as_str()), ("疲れ気味", "授乳 8回"));
        assert_eq!(care_from_stored(&care_to_stored(&r.care)), r.care);
    }

    #[test]
    fn an_unknown_care_an_empty_record_and_a_long_text_are_refused() {
        assert_eq!(day_record(["massage"], "", "", "x"), Err(DayRecordError::UnknownCare));
        assert_eq!(day_record([], " ", "", " "), Err(DayRecordError::Empty));
        assert_eq!(day_record([], "", "", "夜泣き").map(|r| r.care.len()), Ok(0));
        let long = "あ".repeat(MAX_TEXT_CHARS + 1);
        assert_eq!(day_record([], "", &long, ""), Err(DayRecordError::TooLong("baby")));
        let edge = "あ".repeat(MAX_TEXT_CHARS);
        assert!(day_record([], &edge, "", "").is_ok());
        assert_eq!(DayRecordError::TooLong("mother").field(), "mother");
    }

    #[test]
    fn every_care_reads_back_from_its_code() {
        for c in CareGiven::ALL {
            assert_eq!(CareGiven::parse(c.as_str()), Some(c));
        }
        assert_eq!(care_from_stored(""), []);
    }

    proptest! {
        #[test]
        fn a_day_is_recordable_exactly_when_it_is_not_after_today(offset in -800i32..800) {
            let today = date(2026, 11, 22);
            let day = today.checked_add(jiff::Span::new().days(offset)).unwrap();
            prop_assert_eq!(recordable(day, today).is_ok(), offset <= 0);
        }

        #[test]
        fn any_set_of_care_round_trips(mask in 0u16..256) {
            let chosen: Vec<&str> =
                CareGiven::ALL.iter().enumerate().filter(|(i, _)| mask.checked_shr(u32::try_from(*i).unwrap()).unwrap_or(0) & 1 == 1).map(|(_, c)| c.as_str()).collect();
            let r = day_record(chosen.iter().rev().copied(), "", "", "note").unwrap();
            prop_assert_eq!(r.care.len(), chosen.len());
            prop_assert_eq!(care_from_stored(&care_to_stored(&r.care)), r.care);
        }
    }
}
