//! The help lines a parent is shown at once when their message has words
//! of self-harm: the municipality's own first (stored, set by its
//! administrator), then the national ones below.
//!
//! Checked on 2026-12-06 against copies of public pages kept in the project's
//! reference library (this machine has no live network), listed with what
//! each confirmed in `docs/ARCHITECTURE.md` (chat, help lines). The numbers
//! agree with those pages; hours differ by region or centre where said so.
//! Before the chat is offered, an operator still checks each number on its
//! live `source` page, and again whenever those pages change (the Ministry's
//! budget for FY2026 plans a free-dial number for the mental-health line).
//! A municipality puts its own lines (its centre, its night line) first; in
//! Iwate, Miyagi and Fukushima the Yorisoi Hotline has its own number
//! (0120-279-226), which those municipalities add as their own line.

use serde::{Deserialize, Serialize};

/// One help line, with the page its number comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HelpLine {
    pub name_ja: String,
    pub name_en: String,
    /// As dialled in Japan.
    pub number: String,
    /// When it answers, in Japanese, as its source says; empty if not stated.
    pub hours_ja: String,
    /// Where the number was taken from (an official page).
    pub source: String,
}

const MHLW: &str = "https://www.mhlw.go.jp/mamorouyokokoro/";

/// The national lines shown after the municipality's own (see the module's
/// note on how they were checked).
pub fn national_defaults() -> Vec<HelpLine> {
    let line = |ja: &str, en: &str, number: &str, hours: &str, source: &str| HelpLine {
        name_ja: ja.into(),
        name_en: en.into(),
        number: number.into(),
        hours_ja: hours.into(),
        source: source.into(),
    };
    vec![
        line("よりそいホットライン", "Yorisoi Hotline", "0120-279-338", "24時間", MHLW),
        line(
            "こころの健康相談統一ダイヤル",
            "Mental health consultation line",
            "0570-064-556",
            "受付時間は都道府県・政令市により異なります",
            MHLW,
        ),
        line("いのちの電話", "Inochi no Denwa (lifeline)", "0570-783-556", "受付時間はセンターにより異なります", MHLW),
        line(
            "児童相談所虐待対応ダイヤル",
            "Child guidance centre line",
            "189",
            "24時間",
            "https://www.cfa.go.jp/policies/jidougyakutai/",
        ),
        line("救急（命の危険があるとき）", "Ambulance (danger to life)", "119", "24時間", "https://www.fdma.go.jp/"),
    ]
}

/// What a parent is shown: the municipality's own lines, then the national ones.
pub fn shown(own: &[HelpLine]) -> Vec<HelpLine> {
    own.iter().cloned().chain(national_defaults()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_lines_come_first_and_every_line_names_its_source() {
        let own = HelpLine {
            name_ja: "市こども家庭センター".into(),
            name_en: "City children and family centre".into(),
            number: "0463-00-0000".into(),
            hours_ja: "平日 8:30–17:15".into(),
            source: "https://example.city.lg.jp/".into(),
        };
        let lines = shown(std::slice::from_ref(&own));
        assert_eq!(lines[0], own);
        assert_eq!(lines.len(), 1 + national_defaults().len());
        for l in &lines {
            assert!(l.source.starts_with("https://"), "{}", l.name_en);
            assert!(!l.number.is_empty() && !l.name_ja.is_empty() && !l.name_en.is_empty());
        }
    }
}
