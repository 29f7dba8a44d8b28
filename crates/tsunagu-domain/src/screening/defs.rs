//! The questionnaires tsunagu ships: structure and scoring keys, with
//! placeholder text keys (`placeholder.<id>.…`). No copyrighted wording.

use super::{
    AnswerOption, Effect, FilledBy, ItemDef, KeySource, KeyStatus, QuestionnaireDef, Respondent, Rule, Wording,
};
use crate::roles::Role;

/// Every shipped definition.
pub fn all() -> Vec<QuestionnaireDef> {
    vec![notification(), epds(), bonding(), support_checklist()]
}

/// The shipped definition with this id, if any.
pub fn by_id(id: &str) -> Option<QuestionnaireDef> {
    all().into_iter().find(|d| d.id == id)
}

fn key(def: &str, parts: &[&str]) -> String {
    let mut k = format!("placeholder.{def}");
    for p in parts {
        k.push('.');
        k.push_str(p);
    }
    k
}

/// An item whose options (in printed order) are `(code, score)`.
fn item(def: &str, id: &str, options: &[(&str, u8)]) -> ItemDef {
    ItemDef {
        id: id.to_owned(),
        text_key: key(def, &[id]),
        options: options
            .iter()
            .map(|(code, score)| AnswerOption {
                code: (*code).to_owned(),
                text_key: key(def, &[id, code]),
                score: *score,
            })
            .collect(),
        required: true,
    }
}

/// Four answers printed a, b, c, d, scored 0–3 in that order, or 3–0 when reverse-keyed.
fn scale4(def: &str, id: &str, reverse: bool) -> ItemDef {
    let scores = if reverse { [3, 2, 1, 0] } else { [0, 1, 2, 3] };
    item(def, id, &[("a", scores[0]), ("b", scores[1]), ("c", scores[2]), ("d", scores[3])])
}

/// はい / いいえ, printed in that order; the risk answer scores 1.
fn yes_no(def: &str, id: &str, risk_on_yes: bool) -> ItemDef {
    item(def, id, &[("yes", u8::from(risk_on_yes)), ("no", u8::from(!risk_on_yes))])
}

fn reason(s: &str) -> String {
    s.to_owned()
}

fn item_above(item: &str, above: u8, effect: Effect, why: &str) -> Rule {
    Rule::ItemAbove { item: item.to_owned(), above, effect, reason: reason(why) }
}

fn total_at_least(min: u32, effect: Effect, why: &str) -> Rule {
    Rule::TotalAtLeast { min, effect, reason: reason(why) }
}

/// The pregnancy-notification questionnaire (妊娠届出時アンケート): the
/// municipality grasps the woman's physical, mental and social situation
/// [000][003] (健やか親子21 indicator). There is no national form; this is our
/// own design, scored so that one strong sign or several weaker ones make a
/// positive screen (follow-up by the nurse), and a fear for safety at home
/// makes it urgent. Every item and rule is data a municipality can change in
/// a new version.
///
/// Items: age band (under 20 is a 特定妊婦 indicator), first pregnancy
/// (information only, for first-child classes [004]), feelings about the
/// pregnancy, previous mental illness, the two Whooley questions on low mood
/// and loss of interest (widely used at the first antenatal contact),
/// support available, financial worries, smoking, fear of someone at home.
pub fn notification() -> QuestionnaireDef {
    let d = "notification";
    QuestionnaireDef {
        id: d.to_owned(),
        version: "1".to_owned(),
        title_key: key(d, &["title"]),
        wording: Wording::Placeholder,
        key: KeySource { status: KeyStatus::Local, note: "tsunagu's own design; no national form exists".to_owned() },
        filled_by: FilledBy {
            respondent: Respondent::PregnantWoman,
            entered_by: vec![Role::FamilyMember, Role::Nurse],
        },
        items: vec![
            item(d, "age_band", &[("under_20", 1), ("20_34", 0), ("35_39", 0), ("40_plus", 0)]),
            item(d, "first_pregnancy", &[("yes", 0), ("no", 0)]),
            item(d, "feelings", &[("happy", 0), ("surprised_but_happy", 0), ("unsure", 1), ("troubled", 2)]),
            yes_no(d, "mental_illness_history", true),
            yes_no(d, "low_mood", true),
            yes_no(d, "loss_of_interest", true),
            yes_no(d, "support_available", false),
            item(d, "financial_worries", &[("none", 0), ("some", 1), ("serious", 2)]),
            item(d, "smoking", &[("never", 0), ("stopped", 0), ("smokes", 1)]),
            yes_no(d, "afraid_at_home", true),
        ],
        rules: vec![
            item_above("mental_illness_history", 0, Effect::Positive, "mental_illness_history"),
            item_above("feelings", 1, Effect::Positive, "troubled_by_pregnancy"),
            item_above("age_band", 0, Effect::Positive, "under_20"),
            Rule::CountAbove {
                items: vec!["low_mood".to_owned(), "loss_of_interest".to_owned()],
                above: 0,
                min_count: 1,
                effect: Effect::Positive,
                reason: reason("low_mood"),
            },
            item_above("afraid_at_home", 0, Effect::Positive, "afraid_at_home"),
            item_above("afraid_at_home", 0, Effect::Urgent, "afraid_at_home"),
            total_at_least(3, Effect::Positive, "several_concerns"),
        ],
    }
}

/// The Edinburgh Postnatal Depression Scale (Cox, Holden & Sagovsky 1987;
/// Japanese version Okano et al. 1996), DOMAIN.md §7: ten items of four
/// answers; items 1, 2 and 4 score 0, 1, 2, 3 in printed order, items 3 and
/// 5–10 score 3, 2, 1, 0; total 0–30; 9 or more is positive in Japan; any
/// score above 0 on item 10 (thoughts of self-harm) is urgent the same day,
/// whatever the total.
pub fn epds() -> QuestionnaireDef {
    let d = "epds";
    QuestionnaireDef {
        id: d.to_owned(),
        version: "1".to_owned(),
        title_key: key(d, &["title"]),
        wording: Wording::Placeholder,
        key: KeySource {
            status: KeyStatus::Published,
            note: "Cox, Holden & Sagovsky 1987; Japanese version Okano et al. 1996; cut-off 8/9 (Japan)".to_owned(),
        },
        filled_by: FilledBy {
            respondent: Respondent::Mother,
            entered_by: vec![Role::FamilyMember, Role::Nurse, Role::FacilityStaff],
        },
        items: (1..=10).map(|n| scale4(d, &n.to_string(), !matches!(n, 1 | 2 | 4))).collect(),
        rules: vec![
            total_at_least(9, Effect::Positive, "epds_total_9_or_more"),
            item_above("10", 0, Effect::Urgent, "epds_item_10_self_harm"),
        ],
    }
}

/// The bonding questionnaire (赤ちゃんへの気持ち質問票; Mother-to-Infant
/// Bonding Scale, Japanese version, Yoshida et al. 2012): ten items of four
/// answers scored 0–3.
///
/// PROVISIONAL. The key is as we remember the published Japanese form —
/// answers printed from "strongly, almost always" to "not at all"; the
/// positively worded items 1, 6, 8 and 10 score 0, 1, 2, 3 in that order, the
/// other six 3, 2, 1, 0 — and was not checked against the form here. There
/// is no cut-off we can cite; 5 is a placeholder for the municipality to
/// confirm or change. Both are data: a corrected key is a new version.
pub fn bonding() -> QuestionnaireDef {
    let d = "bonding";
    QuestionnaireDef {
        id: d.to_owned(),
        version: "1".to_owned(),
        title_key: key(d, &["title"]),
        wording: Wording::Placeholder,
        key: KeySource {
            status: KeyStatus::Provisional,
            note: "MIBS-J (Yoshida et al. 2012) as remembered: items 1, 6, 8, 10 score 0–3 in printed order, \
                   the rest 3–0; cut-off 5 is a placeholder; confirm against the licensed form"
                .to_owned(),
        },
        filled_by: FilledBy {
            respondent: Respondent::Mother,
            entered_by: vec![Role::FamilyMember, Role::Nurse, Role::FacilityStaff],
        },
        items: (1..=10).map(|n| scale4(d, &n.to_string(), !matches!(n, 1 | 6 | 8 | 10))).collect(),
        rules: vec![Rule::TotalAtLeast {
            min: 5,
            effect: Effect::Positive,
            reason: reason("bonding_total_at_cut_off"),
        }],
    }
}

/// The parenting-support checklist (育児支援チェックリスト; Yoshida): yes/no
/// questions on the mother's background — the pregnancy and birth, past
/// losses, past mental-health care, whom she can confide in (three parts),
/// money, the home, recent life events, the baby's crying, the urge to hit
/// the baby.
///
/// PROVISIONAL. Nine questions with the fourth in three parts (4a–4c), and
/// the risk answer "no" for 4a–4c and 6 and "yes" for the rest, as we
/// remember the published form; not checked here. The published checklist
/// has no cut-off — it guides the interview — so the rules are ours: past
/// mental-health care (3), the urge to hit the baby (9) or three risk
/// answers make a positive screen; the urge to hit the baby is urgent.
pub fn support_checklist() -> QuestionnaireDef {
    let d = "support_checklist";
    let risk_on_no = ["4a", "4b", "4c", "6"];
    let ids = ["1", "2", "3", "4a", "4b", "4c", "5", "6", "7", "8", "9"];
    QuestionnaireDef {
        id: d.to_owned(),
        version: "1".to_owned(),
        title_key: key(d, &["title"]),
        wording: Wording::Placeholder,
        key: KeySource {
            status: KeyStatus::Provisional,
            note: "structure and risk answers as remembered from the published checklist (Yoshida); \
                   it has no cut-off, the rules are tsunagu's; confirm against the licensed form"
                .to_owned(),
        },
        filled_by: FilledBy {
            respondent: Respondent::Mother,
            entered_by: vec![Role::FamilyMember, Role::Nurse, Role::FacilityStaff],
        },
        items: ids.iter().map(|id| yes_no(d, id, !risk_on_no.contains(id))).collect(),
        rules: vec![
            item_above("3", 0, Effect::Positive, "past_mental_health_care"),
            item_above("9", 0, Effect::Positive, "urge_to_hit_baby"),
            item_above("9", 0, Effect::Urgent, "urge_to_hit_baby"),
            total_at_least(3, Effect::Positive, "several_risk_answers"),
        ],
    }
}
