//! One-time invitations [003] 「母子手帳を申請し、配布するときに…「coe(こえ)」の
//! 紹介を頂き」: a nurse hands a parent a code with the handbook; the code
//! opens one chat account and its room, once. Only its SHA-256 is stored.

use crate::referrals::ReferralStatus;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Letters a code is made of: no 0/O, 1/I/L, so it can be read aloud and typed from paper.
const ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ_";
/// Characters in a code (60 bits), shown in groups of four.
const CODE_LEN: usize = 12;

/// How long a code may wait: it is handed out at the pregnancy notification
/// and a parent may first want the chat after the birth, up to ten months
/// later; a year covers that. Not the seed's: a setting's default.
pub const INVITATION_DAYS: i64 = 365;

/// A code from 8 random bytes (the caller's randomness): 12 letters of a
/// 32-letter alphabet (without '_'), as `XXXX-XXXX-XXXX`.
pub fn code_from(random: [u8; 8]) -> String {
    let mut n = u64::from_le_bytes(random);
    let mut letters = Vec::with_capacity(CODE_LEN);
    for _ in 0..CODE_LEN {
        // 31 letters: '_' is never produced.
        letters.push(ALPHABET[(n % 31) as usize] as char);
        n /= 31;
    }
    let s: String = letters.into_iter().collect();
    format!("{}-{}-{}", &s[0..4], &s[4..8], &s[8..12])
}

/// A code as typed, in the form it was made: upper case, without spaces or
/// dashes, full-width letters read as ASCII; `None` if it cannot be one.
pub fn normalise(typed: &str) -> Option<String> {
    let s: String = typed
        .chars()
        .map(|c| match c {
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            _ => c,
        })
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != 'ー' && *c != '－')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let ok = s.len() == CODE_LEN && s.bytes().all(|b| ALPHABET[..31].contains(&b));
    ok.then_some(s)
}

/// What is stored of a code: the SHA-256 (hex) of its normalised form.
pub fn code_hash(normalised: &str) -> String {
    hex::encode(Sha256::digest(normalised.as_bytes()))
}

/// What a supporter sees of an escalation they raised: that the nurse has
/// it, that it was taken up, that it was closed — never the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EscalationStatus {
    Received,
    TakenUp,
    Closed,
}

impl EscalationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EscalationStatus::Received => "received",
            EscalationStatus::TakenUp => "taken_up",
            EscalationStatus::Closed => "closed",
        }
    }
}

/// The referral's status as its raiser from the chat sees it.
pub fn supporter_view(s: ReferralStatus) -> EscalationStatus {
    match s {
        ReferralStatus::Raised => EscalationStatus::Received,
        ReferralStatus::Received | ReferralStatus::InProgress => EscalationStatus::TakenUp,
        ReferralStatus::Closed => EscalationStatus::Closed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_code_reads_back_as_itself() {
        let c = code_from([0; 8]);
        assert_eq!(c, "2222-2222-2222");
        let c = code_from([255; 8]);
        assert_eq!(c.len(), 14);
        let n = normalise(&c).unwrap();
        assert_eq!(n.len(), 12);
        assert_eq!(normalise(&c.to_lowercase()), Some(n.clone()));
        assert_eq!(normalise(&format!(" {} ", c.replace('-', " "))), Some(n.clone()));
        let wide: String =
            c.chars().map(|ch| if ch == '-' { 'ー' } else { char::from_u32(ch as u32 + 0xfee0).unwrap() }).collect();
        assert_eq!(normalise(&wide), Some(n));
    }

    #[test]
    fn what_is_not_a_code() {
        for s in ["", "2222-2222-222", "2222-2222-22222", "0000-0000-0000", "IIII-1111-LLLL", "2222_2222_2222"] {
            assert_eq!(normalise(s), None, "{s}");
        }
    }

    #[test]
    fn the_supporter_sees_three_steps() {
        assert_eq!(supporter_view(ReferralStatus::Raised), EscalationStatus::Received);
        assert_eq!(supporter_view(ReferralStatus::Received), EscalationStatus::TakenUp);
        assert_eq!(supporter_view(ReferralStatus::InProgress), EscalationStatus::TakenUp);
        assert_eq!(supporter_view(ReferralStatus::Closed), EscalationStatus::Closed);
    }

    proptest! {
        #[test]
        fn every_code_normalises_and_hashes_stably(b in any::<[u8; 8]>()) {
            let c = code_from(b);
            let n = normalise(&c).unwrap();
            prop_assert_eq!(code_hash(&n), code_hash(&normalise(&c.to_lowercase()).unwrap()));
            prop_assert_eq!(code_hash(&n).len(), 64);
        }
    }
}
