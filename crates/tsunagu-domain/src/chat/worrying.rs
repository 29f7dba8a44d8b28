//! Words of self-harm in a parent's message (Japanese and English, as data
//! in `worrying_words.txt`). When one appears the parent is shown the help
//! lines at once ([`super::helplines`]) and the room is flagged urgent for
//! the operator; supporters then escalate as [003] asks
//! (「虐待や産後うつが発生する予兆を応援団が察知し、早期に対応」). A word list is a
//! net, not a judgement: it errs towards showing help.

use std::sync::OnceLock;

const WORDS: &str = include_str!("worrying_words.txt");

struct Lists {
    /// Normalised as [`fold_ja`] does.
    ja: Vec<String>,
    /// Normalised as [`fold_en`] does, with a space each side.
    en: Vec<String>,
}

fn lists() -> &'static Lists {
    static LISTS: OnceLock<Lists> = OnceLock::new();
    LISTS.get_or_init(|| parse(WORDS))
}

fn parse(text: &str) -> Lists {
    let mut out = Lists { ja: vec![], en: vec![] };
    let mut section = "";
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') && line.ends_with(']') {
            section = line;
            continue;
        }
        match section {
            "[ja]" => out.ja.push(fold_ja(line)),
            "[en]" => out.en.push(fold_en(line)),
            _ => {}
        }
    }
    out.ja.retain(|w| !w.is_empty());
    out.en.retain(|w| !w.trim().is_empty());
    out
}

/// Full-width ASCII as ASCII, lower case.
fn narrow(c: char) -> char {
    let c = match c {
        '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    };
    c.to_ascii_lowercase()
}

/// For Japanese: no spaces, katakana as hiragana, full-width as ASCII.
fn fold_ja(s: &str) -> String {
    s.chars()
        .map(narrow)
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '\u{30a1}'..='\u{30f6}' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// For English: lower case, anything not a letter or digit a space, spaces
/// collapsed, one space at each end (so words match whole).
fn fold_en(s: &str) -> String {
    let mut out = String::from(" ");
    for c in s.chars().map(narrow) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
    }
    if !out.ends_with(' ') {
        out.push(' ');
    }
    out
}

/// Whether a parent's message contains words of self-harm.
pub fn mentions_self_harm(text: &str) -> bool {
    let l = lists();
    let ja = fold_ja(text);
    let en = fold_en(text);
    l.ja.iter().any(|w| ja.contains(w.as_str())) || l.en.iter().any(|w| en.contains(w.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lists_load_both_languages() {
        let l = lists();
        assert!(l.ja.len() >= 20, "{}", l.ja.len());
        assert!(l.en.len() >= 10, "{}", l.en.len());
        assert!(l.en.iter().all(|w| w.starts_with(' ') && w.ends_with(' ')));
    }

    #[test]
    fn japanese_words_are_found_however_written() {
        for s in [
            "もう死にたい",
            "もう 死に たい…",
            "シニタイ",
            "消えてしまいたいと思う夜がある",
            "子どもと一緒に死のうかと",
            "リスカしちゃった",
            "生きているのがつらいです",
        ] {
            assert!(mentions_self_harm(s), "{s}");
        }
    }

    #[test]
    fn english_words_are_found_as_whole_words() {
        for s in [
            "I want to die",
            "I WANT TO DIE.",
            "thinking of self-harm",
            "I don't want to live",
            "ｋｉｌｌ ｍｙｓｅｌｆ",
        ] {
            assert!(mentions_self_harm(s), "{s}");
        }
        for s in ["my skill myself is low", "the suicidecheck", "diet plan"] {
            assert!(!mentions_self_harm(s), "{s}");
        }
    }

    #[test]
    fn ordinary_messages_are_not_flagged() {
        for s in [
            "夜泣きがひどくて眠れません",
            "離乳食はいつから始めましたか",
            "今日は公園に行きました",
            "疲れたけど頑張ります",
            "How do you get a baby to sleep?",
            "",
        ] {
            assert!(!mentions_self_harm(s), "{s}");
        }
    }
}
