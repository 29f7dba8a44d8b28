//! The national 健やか親子21 indicators [000][003] that a municipality's
//! records can support, each with its definition, numerator and
//! denominator. The national indicators are shares *of municipalities*
//! ("…している市区町村の割合"); what one municipality contributes is
//! whether it does the thing, and the share below tells how fully.

use super::build::YearAggregates;
use super::table::{Column, RowLabel, Table, TableError, TableKind, Value};
use crate::postpartum::occupancy::Occupancy;
use serde::Serialize;

/// An indicator of 健やか親子21 and how the records stand to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Indicator {
    /// The words' key: `reports.ind.<code>` (its national wording),
    /// `….def`, `….num`, `….den` (how we count it).
    pub code: &'static str,
    /// The seed that lists it.
    pub seed: &'static str,
    /// Counted from the records (in the indicators table), or why not.
    pub support: Support,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "reason")]
pub enum Support {
    /// A row of the indicators table.
    Counted,
    /// Shown by another table of the report (its kind's code).
    ShownBy(&'static str),
    /// The records cannot say (a survey question, or a capability not yet landed).
    NotFromRecords(&'static str),
}

/// Every 健やか親子21 indicator [000] names that concerns a municipality's
/// own work, in the seed's order, with how the records support it.
pub const INDICATORS: [Indicator; 6] = [
    // [000] 妊娠届出時にアンケートを実施する等して、妊婦の身体的・精神的・社会的状況について把握している市区町村の割合
    Indicator { code: "notification_questionnaire", seed: "000", support: Support::Counted },
    // [000] 乳幼児健康診査の未受診者の全数の状況を把握する体制がある市区町村の割合
    Indicator { code: "check_non_attendees_grasped", seed: "000", support: Support::Counted },
    // [000] 育児不安の親のグループ活動を支援する体制がある市区町村の割合 ([002] 妊娠8か月面談（集団）)
    Indicator { code: "parent_groups", seed: "000", support: Support::ShownBy("handbook_meetings") },
    // [000] 妊娠中の保健指導(母親学級や両親学級を含む)において、産後のメンタルヘルスについて…伝える機会を設けている市区町村の割合
    Indicator { code: "postpartum_mental_health_told", seed: "000", support: Support::NotFromRecords("classes") },
    // [000] ゆったりとした気分で子どもと過ごせる時間がある母親の割合 (a survey at the health checks)
    Indicator { code: "relaxed_time_with_child", seed: "000", support: Support::NotFromRecords("survey") },
    // [000] 育てにくさを感じたときに対処できる親の割合 (a survey at the health checks)
    Indicator { code: "cope_when_hard", seed: "000", support: Support::NotFromRecords("survey") },
];

/// The counted indicators as a table: numerator, denominator, share.
///
/// - `notification_questionnaire`: notifications in the year whose
///   notification questionnaire was filed ÷ notifications in the year.
/// - `check_non_attendees_grasped`: 3–4-month check non-attendees whose
///   situation was then recorded ÷ non-attendees. The municipality grasps
///   every non-attendee when the share is 100%.
pub fn table(a: &YearAggregates) -> Result<Table, TableError> {
    let rows = [
        ("notification_questionnaire", a.notifications_with_questionnaire.min(a.notifications), a.notifications),
        ("check_non_attendees_grasped", a.check_resolved.min(a.check_non_attendees), a.check_non_attendees),
    ];
    Table::new(
        TableKind::Indicators,
        vec![Column::count("numerator"), Column::count("denominator"), Column::rate("share", 0)],
        rows.iter().map(|(code, _, _)| RowLabel::key(&format!("ind.{code}"))).collect(),
        rows.iter()
            .map(|&(_, num, den)| {
                let share = Occupancy { used_places: num, offered_places: den }.rate().map(|r| r.tenths_of_percent());
                vec![Value::Count(num), Value::Count(den), Value::Rate(share)]
            })
            .collect(),
        vec![],
    )
}

#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;
    use crate::fiscal::FiscalYear;

    pub(crate) fn empty(fy: i32) -> YearAggregates {
        YearAggregates {
            fiscal_year: FiscalYear::new(fy).unwrap(),
            facilities: vec![],
            areas: vec![],
            follow_ups: 0,
            eighth_month: vec![],
            happy_baby: vec![],
            handbook_meetings: 0,
            group_sessions: 0,
            check_non_attendees: 0,
            check_resolved: 0,
            screening: vec![],
            follow_up_days: 14,
            referrals: vec![],
            notifications: 0,
            notifications_with_questionnaire: 0,
            classes: vec![],
            chat: Default::default(),
            chat_answer_hours: 24,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::empty;
    use super::*;

    #[test]
    fn each_definition_on_hand_built_counts() {
        let mut a = empty(2022);
        a.notifications = 40;
        a.notifications_with_questionnaire = 38;
        a.check_non_attendees = 12;
        a.check_resolved = 12;
        let t = table(&a).unwrap();
        assert_eq!(t.values[0], vec![Value::Count(38), Value::Count(40), Value::Rate(Some(950))]);
        assert_eq!(t.values[1], vec![Value::Count(12), Value::Count(12), Value::Rate(Some(1000))]);
        // Nothing to count: no share, never a division by zero.
        let t = table(&empty(2022)).unwrap();
        assert_eq!(t.values[0][2], Value::Rate(None));
        // A numerator never exceeds its denominator.
        let mut b = empty(2022);
        b.check_non_attendees = 3;
        b.check_resolved = 5;
        assert_eq!(table(&b).unwrap().values[1][0], Value::Count(3));
    }

    #[test]
    fn every_indicator_is_accounted_for() {
        let counted = INDICATORS.iter().filter(|i| i.support == Support::Counted).count();
        assert_eq!(counted, table(&empty(2022)).unwrap().rows.len());
    }
}
