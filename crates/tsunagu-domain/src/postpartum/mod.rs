//! Postpartum care (産後ケア) as Setagaya publishes it [001]: the service
//! types, the fee table and quotes, eligibility, facility calendars and
//! capacity, occupancy, online follow-up slots and the safety manual's
//! headings. DOMAIN.md §5 is the English digest; the seed wins where they
//! differ.

#[deny(clippy::arithmetic_side_effects)]
pub mod application;
#[deny(clippy::arithmetic_side_effects)]
pub mod calendar;
#[deny(clippy::arithmetic_side_effects)]
pub mod day_record;
#[deny(clippy::arithmetic_side_effects)]
pub mod eligibility;
#[deny(clippy::arithmetic_side_effects)]
pub mod fees;
#[deny(clippy::arithmetic_side_effects)]
pub mod followup;
#[deny(clippy::arithmetic_side_effects)]
pub mod month;
#[deny(clippy::arithmetic_side_effects)]
pub mod occupancy;
pub mod safety;

use serde::{Deserialize, Serialize};

/// The three service types of postpartum care.
///
/// Seed: [001] 産後ケア事業 全体像 (類型), 令和５年度以降の取組 (３) アウトリーチ型
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ServiceType {
    /// 宿泊型 — Setagaya's 母子ショートステイ (宿泊).
    ShortStay,
    /// デイサービス型 — Setagaya's 母子デイケア (日帰り).
    DayCare,
    /// アウトリーチ型 — a midwife's home visit of about 2 hours (from October 2023).
    Outreach,
}

impl ServiceType {
    pub const ALL: [ServiceType; 3] = [ServiceType::ShortStay, ServiceType::DayCare, ServiceType::Outreach];

    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::ShortStay => "short_stay",
            ServiceType::DayCare => "day_care",
            ServiceType::Outreach => "outreach",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The national type name (宿泊型, デイサービス型, アウトリーチ型).
    pub fn type_ja(self) -> &'static str {
        match self {
            ServiceType::ShortStay => "宿泊型",
            ServiceType::DayCare => "デイサービス型",
            ServiceType::Outreach => "アウトリーチ型",
        }
    }

    /// The name Setagaya's pages use: ショートステイ, デイケア, アウトリーチ [001].
    pub fn label_ja(self) -> &'static str {
        match self {
            ServiceType::ShortStay => "ショートステイ",
            ServiceType::DayCare => "デイケア",
            ServiceType::Outreach => "アウトリーチ",
        }
    }

    /// Does the family come to a facility (short stay, day care) rather
    /// than a midwife to the family (outreach)?
    pub fn at_facility(self) -> bool {
        !matches!(self, ServiceType::Outreach)
    }
}

impl std::fmt::Display for ServiceType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_types_round_trip() {
        for t in ServiceType::ALL {
            assert_eq!(ServiceType::parse(t.as_str()), Some(t));
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{}\"", t.as_str()));
        }
        assert_eq!(ServiceType::parse("ShortStay"), None);
        assert_eq!(ServiceType::parse("day_care"), Some(ServiceType::DayCare));
        assert_eq!(ServiceType::ShortStay.type_ja(), "宿泊型");
        assert!(!ServiceType::Outreach.at_facility());
    }
}
