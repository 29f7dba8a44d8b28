//! Screening words shown beyond the screening pages: a questionnaire's
//! name and a reason code in words, and with them a screening referral's
//! note, which the care pages show the nurse.

use crate::i18n::{t, Lang};

/// The questionnaire's name (its instrument's name, not licensed wording).
pub fn title(lang: Lang, id: &str) -> &'static str {
    let key = format!("scr.q.{id}");
    if crate::i18n::has(&key) {
        t(lang, &key)
    } else {
        t(lang, "scr.q.unknown")
    }
}

/// A reason code in words.
pub fn reason(lang: Lang, code: &str) -> &'static str {
    let key = format!("scr.reason.{code}");
    if crate::i18n::has(&key) {
        t(lang, &key)
    } else {
        t(lang, "scr.reason.unknown")
    }
}

/// A screening referral's note (reason codes) in words, for the nurse; any
/// other note as written.
pub fn describe_note(lang: Lang, note: &str) -> String {
    match tsunagu_domain::screening::parse_referral_note(note) {
        Some((q, codes)) => {
            let reasons: Vec<&str> = codes.iter().map(|c| reason(lang, c)).collect();
            format!("{}: {}", title(lang, q), reasons.join(t(lang, "scr.list_sep")))
        }
        None => note.to_owned(),
    }
}
