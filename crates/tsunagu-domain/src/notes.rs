//! Whom a note is written for. A note staff write about a family (a review
//! or cancellation of a postpartum application, a facility's day of a stay,
//! what happened on a contact) is chosen, when written, to be for the family
//! or for the office; the family never sees an office note. Office is the
//! default: a note nobody chose for the family stays in the office. Who
//! reads which is the policy's (`policy::sees_note`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NoteAudience {
    /// Written for the family: the family's views show it.
    Family,
    /// Written for the office: only staff who may see the family read it.
    #[default]
    Office,
}

impl NoteAudience {
    pub const ALL: [NoteAudience; 2] = [NoteAudience::Family, NoteAudience::Office];

    pub fn as_str(self) -> &'static str {
        match self {
            NoteAudience::Family => "family",
            NoteAudience::Office => "office",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// A form's or a JSON body's choice: empty or absent is the office.
    pub fn parse_or_office(s: Option<&str>) -> Option<Self> {
        match s.map(str::trim).filter(|s| !s.is_empty()) {
            None => Some(NoteAudience::Office),
            Some(s) => Self::parse(s),
        }
    }
}

/// The audience of a note that is added to (a contact's note grows with
/// each attempt): the family's only while every written part is for the
/// family — one office line makes the whole note the office's.
pub fn appended(existing: &str, existing_for: NoteAudience, added: &str, added_for: NoteAudience) -> NoteAudience {
    match (existing.trim().is_empty(), added.trim().is_empty()) {
        (true, true) => added_for,
        (true, false) => added_for,
        (false, true) => existing_for,
        (false, false) if existing_for == NoteAudience::Family && added_for == NoteAudience::Family => {
            NoteAudience::Family
        }
        (false, false) => NoteAudience::Office,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_office_line_keeps_a_grown_note_in_the_office() {
        use NoteAudience::{Family, Office};
        assert_eq!(appended("", Office, "電話した", Family), Family);
        assert_eq!(appended("電話した", Family, "", Office), Family);
        assert_eq!(appended("電話した", Family, "再訪", Family), Family);
        assert_eq!(appended("電話した", Family, "本人確認済み", Office), Office);
        assert_eq!(appended("本人確認済み", Office, "再訪", Family), Office);
    }

    #[test]
    fn office_unless_chosen_otherwise() {
        assert_eq!(NoteAudience::default(), NoteAudience::Office);
        assert_eq!(NoteAudience::parse_or_office(None), Some(NoteAudience::Office));
        assert_eq!(NoteAudience::parse_or_office(Some(" ")), Some(NoteAudience::Office));
        assert_eq!(NoteAudience::parse_or_office(Some("family")), Some(NoteAudience::Family));
        assert_eq!(NoteAudience::parse_or_office(Some("everyone")), None);
        for a in NoteAudience::ALL {
            assert_eq!(NoteAudience::parse(a.as_str()), Some(a));
        }
    }
}
