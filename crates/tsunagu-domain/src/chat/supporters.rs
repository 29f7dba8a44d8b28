//! A supporter (応援団) as the chat knows them [003]: which of the three
//! kinds of experience they bring, how many rooms they said they can take,
//! and whether the operator has vetted and activated them.

use serde::{Deserialize, Serialize};

/// Professional experience [003] 「医療従事者や職業として保育や教育の経験が長い人」.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Profession {
    Medical,
    Childcare,
    Education,
}

impl Profession {
    pub const ALL: [Profession; 3] = [Profession::Medical, Profession::Childcare, Profession::Education];

    pub fn as_str(self) -> &'static str {
        match self {
            Profession::Medical => "medical",
            Profession::Childcare => "childcare",
            Profession::Education => "education",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// What a supporter brings. A professional may also be raising a toddler,
/// or have no children of their own; "raising a 2–3-year-old now" and "no
/// parenting experience" exclude each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attributes {
    /// Long professional experience, if any.
    pub profession: Option<Profession>,
    /// [003] 「2−3歳の子供を子育て中の人」.
    pub raising_toddler: bool,
    /// [003] 「まだ出産、育児経験はないが応援したい人」.
    pub no_parenting_experience: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SupporterError {
    #[error("raising a 2–3-year-old and having no parenting experience exclude each other")]
    ContradictoryAttributes,
    #[error("a supporter brings at least one of the three kinds of experience")]
    NoAttribute,
    #[error("capacity is 1 to {max} rooms", max = Capacity::MAX)]
    CapacityOutOfRange,
}

impl SupporterError {
    /// The code the API and the pages' words use.
    pub fn code(self) -> &'static str {
        match self {
            SupporterError::ContradictoryAttributes => "contradictory_attributes",
            SupporterError::NoAttribute => "no_attribute",
            SupporterError::CapacityOutOfRange => "capacity_out_of_range",
        }
    }
}

impl Attributes {
    /// Checked attributes: at least one kind, and not both "raising a
    /// toddler" and "no parenting experience".
    pub fn new(
        profession: Option<Profession>,
        raising_toddler: bool,
        no_parenting_experience: bool,
    ) -> Result<Self, SupporterError> {
        if raising_toddler && no_parenting_experience {
            return Err(SupporterError::ContradictoryAttributes);
        }
        if profession.is_none() && !raising_toddler && !no_parenting_experience {
            return Err(SupporterError::NoAttribute);
        }
        Ok(Self { profession, raising_toddler, no_parenting_experience })
    }

    /// Whether these attributes fill a slot of a team.
    pub fn fits(&self, slot: Slot) -> bool {
        match slot {
            Slot::Professional => self.profession.is_some(),
            Slot::RaisingToddler => self.raising_toddler,
            Slot::NoParentingExperience => self.no_parenting_experience,
        }
    }
}

/// The three places of a team [003] 「3つの属性の人たちで構成」.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Slot {
    Professional,
    RaisingToddler,
    NoParentingExperience,
}

impl Slot {
    pub const ALL: [Slot; 3] = [Slot::Professional, Slot::RaisingToddler, Slot::NoParentingExperience];

    pub fn as_str(self) -> &'static str {
        match self {
            Slot::Professional => "professional",
            Slot::RaisingToddler => "raising_toddler",
            Slot::NoParentingExperience => "no_parenting_experience",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// How many rooms a supporter said they can take at once: 1 to
/// [`Capacity::MAX`]. Volunteers answer every day [003] 「日々会話をしながら」, so
/// the operator keeps the number small; the bound is a sanity limit, not the seed's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Capacity(u8);

impl Capacity {
    pub const MAX: u8 = 10;

    pub fn new(rooms: i64) -> Result<Self, SupporterError> {
        match u8::try_from(rooms) {
            Ok(n) if (1..=Self::MAX).contains(&n) => Ok(Self(n)),
            _ => Err(SupporterError::CapacityOutOfRange),
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

/// Where a supporter stands with the operator: registered and waiting to
/// be vetted, active (may be put on teams and open their rooms), or
/// suspended (off every team's access until activated again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SupporterState {
    Registered,
    Active,
    Suspended,
}

impl SupporterState {
    pub const ALL: [SupporterState; 3] =
        [SupporterState::Registered, SupporterState::Active, SupporterState::Suspended];

    pub fn as_str(self) -> &'static str {
        match self {
            SupporterState::Registered => "registered",
            SupporterState::Active => "active",
            SupporterState::Suspended => "suspended",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_at_their_boundaries() {
        for p in [None, Some(Profession::Medical), Some(Profession::Childcare), Some(Profession::Education)] {
            for toddler in [false, true] {
                for none in [false, true] {
                    let got = Attributes::new(p, toddler, none);
                    let want = if toddler && none {
                        Err(SupporterError::ContradictoryAttributes)
                    } else if p.is_none() && !toddler && !none {
                        Err(SupporterError::NoAttribute)
                    } else {
                        Ok(Attributes { profession: p, raising_toddler: toddler, no_parenting_experience: none })
                    };
                    assert_eq!(got, want);
                    if let Ok(a) = got {
                        assert_eq!(a.fits(Slot::Professional), p.is_some());
                        assert_eq!(a.fits(Slot::RaisingToddler), toddler);
                        assert_eq!(a.fits(Slot::NoParentingExperience), none);
                    }
                }
            }
        }
    }

    #[test]
    fn capacity_is_one_to_ten() {
        for n in [-1, 0, 11, 256, i64::MAX] {
            assert_eq!(Capacity::new(n), Err(SupporterError::CapacityOutOfRange), "{n}");
        }
        for n in 1..=10 {
            assert_eq!(Capacity::new(n).map(Capacity::get), Ok(n as u8));
        }
    }

    #[test]
    fn stored_names_round_trip() {
        for x in Profession::ALL {
            assert_eq!(Profession::parse(x.as_str()), Some(x));
            assert_eq!(serde_json::to_string(&x).unwrap(), format!("\"{}\"", x.as_str()));
        }
        for x in Slot::ALL {
            assert_eq!(Slot::parse(x.as_str()), Some(x));
            assert_eq!(serde_json::to_string(&x).unwrap(), format!("\"{}\"", x.as_str()));
        }
        for x in SupporterState::ALL {
            assert_eq!(SupporterState::parse(x.as_str()), Some(x));
            assert_eq!(serde_json::to_string(&x).unwrap(), format!("\"{}\"", x.as_str()));
        }
    }
}
