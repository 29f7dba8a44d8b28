//! Kana names and the search key that ignores how people happen to type them.
//!
//! Staff type family names in hiragana or katakana, in full or half width,
//! with or without a space between family and given name. [`search_key`]
//! folds all of those to one form: full-width hiragana, no spaces.

use serde::{Deserialize, Serialize};

/// Half-width katakana (U+FF66..U+FF9D) in order, as full-width katakana.
const HALF_WIDTH: [char; 56] = [
    'ヲ', 'ァ', 'ィ', 'ゥ', 'ェ', 'ォ', 'ャ', 'ュ', 'ョ', 'ッ', 'ー', 'ア', 'イ', 'ウ', 'エ', 'オ', 'カ', 'キ', 'ク',
    'ケ', 'コ', 'サ', 'シ', 'ス', 'セ', 'ソ', 'タ', 'チ', 'ツ', 'テ', 'ト', 'ナ', 'ニ', 'ヌ', 'ネ', 'ノ', 'ハ', 'ヒ',
    'フ', 'ヘ', 'ホ', 'マ', 'ミ', 'ム', 'メ', 'モ', 'ヤ', 'ユ', 'ヨ', 'ラ', 'リ', 'ル', 'レ', 'ロ', 'ワ', 'ン',
];

fn half_width_katakana(c: char) -> Option<char> {
    let code = c as u32;
    match code {
        0xFF66..=0xFF9D => HALF_WIDTH.get((code - 0xFF66) as usize).copied(),
        0xFF61 => Some('。'),
        0xFF62 => Some('「'),
        0xFF63 => Some('」'),
        0xFF64 => Some('、'),
        0xFF65 => Some('・'),
        _ => None,
    }
}

/// Adds a voiced (゛) or semi-voiced (゜) mark to a full-width kana.
fn with_mark(base: char, semi: bool) -> Option<char> {
    let code = base as u32;
    if base == 'ウ' && !semi {
        return Some('ヴ');
    }
    let voiceable = matches!(base,
        'カ'..='ト' | 'ハ'..='ホ' | 'か'..='と' | 'は'..='ほ');
    if !voiceable {
        return None;
    }
    let is_h_row = matches!(base, 'ハ'..='ホ' | 'は'..='ほ');
    if semi && !is_h_row {
        return None;
    }
    // In the kana blocks a voiced kana follows its base; in the は row the
    // semi-voiced one follows the voiced one. Bases sit at fixed offsets.
    let offset = if semi { 2 } else { 1 };
    let candidate = char::from_u32(code + offset)?;
    // Only bases that are an unvoiced kana (not small ones such as ッ) qualify.
    let unvoiced_bases = "カキクケコサシスセソタチツテトハヒフヘホかきくけこさしすせそたちつてとはひふへほ";
    unvoiced_bases.contains(base).then_some(candidate)
}

/// Folds a kana string to its search key: half-width to full-width,
/// katakana to hiragana, combining and stand-alone voicing marks joined,
/// spaces and middle dots removed. Other characters are kept as they are.
pub fn search_key(input: &str) -> String {
    let mut out: Vec<char> = Vec::with_capacity(input.len());
    for c in input.chars() {
        let c = half_width_katakana(c).unwrap_or(c);
        match c {
            // voiced / semi-voiced marks: half-width, combining, and spacing forms
            '\u{FF9E}' | '\u{3099}' | '\u{309B}' | '\u{FF9F}' | '\u{309A}' | '\u{309C}' => {
                let semi = matches!(c, '\u{FF9F}' | '\u{309A}' | '\u{309C}');
                if let Some(prev) = out.last_mut() {
                    if let Some(marked) = with_mark(*prev, semi) {
                        *prev = marked;
                    }
                }
            }
            ' ' | '\u{3000}' | '\t' | '・' | '･' => {}
            _ => out.push(c),
        }
    }
    out.into_iter().map(katakana_to_hiragana).collect()
}

fn katakana_to_hiragana(c: char) -> char {
    match c {
        // ァ..ヶ map onto ぁ..ゖ; ヴ becomes ゔ
        'ァ'..='ヶ' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
        _ => c,
    }
}

/// True when every character is kana (either script, either width), a
/// prolonged-sound mark, a voicing mark, a middle dot or a space.
pub fn is_kana(input: &str) -> bool {
    input.chars().all(|c| {
        matches!(c,
            'ぁ'..='ゖ' | 'ゝ' | 'ゞ' | 'ァ'..='ヺ' | 'ー' | 'ヽ' | 'ヾ' | '\u{FF65}'..='\u{FF9F}'
            | '\u{3099}'..='\u{309C}' | '・' | ' ' | '\u{3000}')
    })
}

/// A name written in kana, checked on the way in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Kana(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KanaError {
    #[error("empty")]
    Empty,
    #[error("not kana")]
    NotKana,
    #[error("too long")]
    TooLong,
}

impl Kana {
    pub const MAX_CHARS: usize = 50;

    pub fn parse(s: &str) -> Result<Self, KanaError> {
        let s = s.trim_matches(|c: char| c == ' ' || c == '\u{3000}');
        if s.is_empty() {
            return Err(KanaError::Empty);
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(KanaError::TooLong);
        }
        if !is_kana(s) {
            return Err(KanaError::NotKana);
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn search_key(&self) -> String {
        search_key(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn scripts_widths_and_spaces_fold_together() {
        let want = "やまだはなこ";
        for typed in ["やまだ はなこ", "ヤマダ　ハナコ", "ﾔﾏﾀﾞ ﾊﾅｺ", "ヤマダハナコ", "やまだ・はなこ", "ﾔﾏﾀﾞﾊﾅｺ"]
        {
            assert_eq!(search_key(typed), want, "{typed}");
        }
    }

    #[test]
    fn voicing_marks_join_their_kana() {
        assert_eq!(search_key("ﾊﾟﾊﾟ"), "ぱぱ");
        assert_eq!(search_key("ｳﾞｨ"), "ゔぃ");
        assert_eq!(search_key("カ\u{3099}"), "が");
        assert_eq!(search_key("ﾎﾟﾝ"), "ぽん");
        // a mark that cannot join stays dropped, never corrupting the previous kana
        assert_eq!(search_key("ｱﾞ"), "あ");
        assert_eq!(search_key("ｯﾞ"), "っ");
    }

    #[test]
    fn kana_names_are_checked() {
        assert!(Kana::parse("さとう").is_ok());
        assert!(Kana::parse("サトウ ー").is_ok());
        assert_eq!(Kana::parse("佐藤"), Err(KanaError::NotKana));
        assert_eq!(Kana::parse("  "), Err(KanaError::Empty));
        assert_eq!(Kana::parse(&"あ".repeat(51)), Err(KanaError::TooLong));
    }

    proptest! {
        #[test]
        fn key_is_idempotent_and_script_blind(s in "[ぁ-ゖー ]{0,20}") {
            let key = search_key(&s);
            prop_assert_eq!(search_key(&key), key.clone());
            let katakana: String = s.chars().map(|c| match c {
                'ぁ'..='ゖ' => char::from_u32(c as u32 + 0x60).unwrap(),
                _ => c,
            }).collect();
            prop_assert_eq!(search_key(&katakana), key.clone());
            prop_assert!(!key.contains(' '));
        }
    }
}
