//! The safety manual's headings, under which incidents are reported.
//! [001] 産後ケア事業の安全管理について: 主な内容 ①基本指針 ②事故予防および発生時の
//! 対応策 ③感染予防および発生時の対応策 ④防火・防災と発生時の対応策 ⑤個人情報の
//! 取扱いについて ⑥職員管理.
//!
//! The manual has six headings; the first (basic policy and the safety
//! organisation) is not something that happens, so incident reports use the
//! other five ([`IncidentHeading::ALL`]). Fire and earthquake are one
//! heading in the manual (④ covers 防火対策, 震災対策 and 避難方法).

use serde::{Deserialize, Serialize};

/// The headings of the safety manual, in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ManualHeading {
    /// ①基本指針 — basic policy (care, infection, fire/earthquake, personal
    /// information) and the safety organisation.
    BasicPolicy,
    /// ②事故予防および発生時の対応策 — preventing accidents and responding to them.
    Accident,
    /// ③感染予防および発生時の対応策 — standard precautions, COVID-19, food poisoning.
    Infection,
    /// ④防火・防災と発生時の対応策 — fire, earthquake, evacuation.
    FireAndDisaster,
    /// ⑤個人情報の取扱いについて — handling of personal information.
    PersonalInformation,
    /// ⑥職員管理 — staff management.
    StaffManagement,
}

impl ManualHeading {
    pub const ALL: [ManualHeading; 6] = [
        ManualHeading::BasicPolicy,
        ManualHeading::Accident,
        ManualHeading::Infection,
        ManualHeading::FireAndDisaster,
        ManualHeading::PersonalInformation,
        ManualHeading::StaffManagement,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ManualHeading::BasicPolicy => "basic_policy",
            ManualHeading::Accident => "accident",
            ManualHeading::Infection => "infection",
            ManualHeading::FireAndDisaster => "fire_and_disaster",
            ManualHeading::PersonalInformation => "personal_information",
            ManualHeading::StaffManagement => "staff_management",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|h| h.as_str() == s)
    }

    /// The heading as the seed writes it.
    ///
    /// Seed: [001] 安全管理 主な内容 ①〜⑥
    pub fn label_ja(self) -> &'static str {
        match self {
            ManualHeading::BasicPolicy => "基本指針",
            ManualHeading::Accident => "事故予防および発生時の対応策",
            ManualHeading::Infection => "感染予防および発生時の対応策",
            ManualHeading::FireAndDisaster => "防火・防災と発生時の対応策",
            ManualHeading::PersonalInformation => "個人情報の取扱いについて",
            ManualHeading::StaffManagement => "職員管理",
        }
    }

    /// A short label for lists and report columns.
    pub fn short_ja(self) -> &'static str {
        match self {
            ManualHeading::BasicPolicy => "基本指針",
            ManualHeading::Accident => "事故",
            ManualHeading::Infection => "感染",
            ManualHeading::FireAndDisaster => "火災・震災",
            ManualHeading::PersonalInformation => "個人情報",
            ManualHeading::StaffManagement => "職員",
        }
    }

    pub fn number(self) -> u8 {
        match self {
            ManualHeading::BasicPolicy => 1,
            ManualHeading::Accident => 2,
            ManualHeading::Infection => 3,
            ManualHeading::FireAndDisaster => 4,
            ManualHeading::PersonalInformation => 5,
            ManualHeading::StaffManagement => 6,
        }
    }
}

/// The heading an incident report is filed under: every manual heading but
/// the basic policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentHeading {
    Accident,
    Infection,
    FireAndDisaster,
    PersonalInformation,
    StaffManagement,
}

impl IncidentHeading {
    pub const ALL: [IncidentHeading; 5] = [
        IncidentHeading::Accident,
        IncidentHeading::Infection,
        IncidentHeading::FireAndDisaster,
        IncidentHeading::PersonalInformation,
        IncidentHeading::StaffManagement,
    ];

    pub fn manual_heading(self) -> ManualHeading {
        match self {
            IncidentHeading::Accident => ManualHeading::Accident,
            IncidentHeading::Infection => ManualHeading::Infection,
            IncidentHeading::FireAndDisaster => ManualHeading::FireAndDisaster,
            IncidentHeading::PersonalInformation => ManualHeading::PersonalInformation,
            IncidentHeading::StaffManagement => ManualHeading::StaffManagement,
        }
    }

    pub fn as_str(self) -> &'static str {
        self.manual_heading().as_str()
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|h| h.as_str() == s)
    }

    /// The manual's heading, e.g. 事故予防および発生時の対応策.
    pub fn label_ja(self) -> &'static str {
        self.manual_heading().label_ja()
    }

    /// 事故, 感染, 火災・震災, 個人情報, 職員.
    pub fn short_ja(self) -> &'static str {
        self.manual_heading().short_ja()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_manual_headings_in_the_seed_order() {
        let labels: Vec<String> =
            ManualHeading::ALL.iter().map(|h| format!("{}{}", h.number(), h.label_ja())).collect();
        assert_eq!(
            labels,
            vec![
                "1基本指針",
                "2事故予防および発生時の対応策",
                "3感染予防および発生時の対応策",
                "4防火・防災と発生時の対応策",
                "5個人情報の取扱いについて",
                "6職員管理"
            ]
        );
        for h in ManualHeading::ALL {
            assert_eq!(ManualHeading::parse(h.as_str()), Some(h));
        }
    }

    #[test]
    fn five_incident_headings() {
        let short: Vec<&str> = IncidentHeading::ALL.iter().map(|h| h.short_ja()).collect();
        assert_eq!(short, vec!["事故", "感染", "火災・震災", "個人情報", "職員"]);
        for h in IncidentHeading::ALL {
            assert_eq!(IncidentHeading::parse(h.as_str()), Some(h));
            assert_eq!(serde_json::to_string(&h).unwrap(), format!("\"{}\"", h.as_str()));
            assert_ne!(h.manual_heading(), ManualHeading::BasicPolicy);
        }
        assert_eq!(IncidentHeading::parse("basic_policy"), None);
    }
}
