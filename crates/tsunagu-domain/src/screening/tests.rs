use super::defs::{bonding, epds, notification, support_checklist};
use super::*;
use proptest::prelude::*;
use serde_json::json;

const CODES: [&str; 4] = ["a", "b", "c", "d"];

/// EPDS answers from the option chosen per item (0 = a … 3 = d), items 1–10.
fn epds_answers(choices: [usize; 10]) -> Answers {
    let pairs: Vec<(String, &str)> =
        choices.iter().enumerate().map(|(i, c)| ((i + 1).to_string(), CODES[*c])).collect();
    let refs: Vec<(&str, &str)> = pairs.iter().map(|(i, c)| (i.as_str(), *c)).collect();
    Answers::to(&epds(), &refs)
}

/// The choice giving `score` on EPDS item `n`.
fn epds_choice(n: usize, score: usize) -> usize {
    if matches!(n, 1 | 2 | 4) {
        score
    } else {
        3 - score
    }
}

fn epds_scoring(scores: [usize; 10]) -> [usize; 10] {
    let mut c = [0; 10];
    for (i, s) in scores.iter().enumerate() {
        c[i] = epds_choice(i + 1, *s);
    }
    c
}

#[test]
fn every_shipped_definition_is_well_formed() {
    for def in defs::all() {
        assert_eq!(def.check(), Ok(()), "{}", def.id);
        assert_eq!(def.wording, Wording::Placeholder);
        for item in &def.items {
            assert!(item.text_key.starts_with("placeholder."), "{}", item.text_key);
            assert!(item.options.iter().all(|o| o.text_key.starts_with("placeholder.")));
        }
        assert_eq!(defs::by_id(&def.id).as_ref(), Some(&def));
        // A definition survives being stored as JSON.
        let back: QuestionnaireDef = serde_json::from_value(serde_json::to_value(&def).unwrap()).unwrap();
        assert_eq!(back, def);
    }
    assert_eq!(defs::by_id("nope"), None);
}

#[test]
fn epds_keys_item_by_item() {
    let def = epds();
    assert_eq!(def.items.len(), 10);
    // [item] → scores of a, b, c, d.
    let expected: [[u8; 4]; 10] = [
        [0, 1, 2, 3],
        [0, 1, 2, 3],
        [3, 2, 1, 0],
        [0, 1, 2, 3],
        [3, 2, 1, 0],
        [3, 2, 1, 0],
        [3, 2, 1, 0],
        [3, 2, 1, 0],
        [3, 2, 1, 0],
        [3, 2, 1, 0],
    ];
    for (n, want) in expected.iter().enumerate() {
        let item = def.item(&(n + 1).to_string()).unwrap();
        let got: Vec<u8> = item.options.iter().map(|o| o.score).collect();
        assert_eq!(got, want.to_vec(), "item {}", n + 1);
        let codes: Vec<&str> = item.options.iter().map(|o| o.code.as_str()).collect();
        assert_eq!(codes, CODES);
        assert_eq!(item.is_reverse_keyed(), !matches!(n + 1, 1 | 2 | 4), "item {}", n + 1);
        // Each answer on its own scores its key.
        for (c, score) in want.iter().enumerate() {
            let mut choices = epds_scoring([0; 10]);
            choices[n] = c;
            let r = score_ok(&def, &epds_answers(choices));
            assert_eq!(r.total, u32::from(*score), "item {} answer {}", n + 1, CODES[c]);
            assert_eq!(r.item_scores[&(n + 1).to_string()], *score);
        }
    }
    assert_eq!(def.max_total(), 30);
}

fn score_ok(def: &QuestionnaireDef, a: &Answers) -> ScreeningResult {
    score(def, a).unwrap()
}

#[test]
fn epds_is_positive_from_9() {
    let def = epds();
    // 8: three 2s and a 2 on item 1 … spread over items 1–4 (item 10 stays 0).
    let eight = score_ok(&def, &epds_answers(epds_scoring([2, 2, 2, 2, 0, 0, 0, 0, 0, 0])));
    assert_eq!((eight.total, eight.positive, eight.urgent), (8, false, false));
    assert_eq!(follow_up(&eight), None);
    let nine = score_ok(&def, &epds_answers(epds_scoring([2, 2, 2, 2, 1, 0, 0, 0, 0, 0])));
    assert_eq!((nine.total, nine.positive, nine.urgent), (9, true, false));
    assert_eq!(nine.reasons, vec![Reason { code: "epds_total_9_or_more".into(), effect: Effect::Positive }]);
    let f = follow_up(&nine).unwrap();
    assert!(!f.urgent);
    assert_eq!(f.owner, crate::roles::Role::Nurse);
    let all = score_ok(&def, &epds_answers(epds_scoring([3; 10])));
    assert_eq!((all.total, all.max_total), (30, 30));
    let none = score_ok(&def, &epds_answers(epds_scoring([0; 10])));
    assert_eq!((none.total, none.positive, none.urgent), (0, false, false));
}

#[test]
fn epds_item_10_is_urgent_whatever_the_total() {
    let def = epds();
    for s10 in 1..=3 {
        let mut scores = [0; 10];
        scores[9] = s10;
        let r = score_ok(&def, &epds_answers(epds_scoring(scores)));
        assert_eq!(r.total, s10 as u32);
        assert!(r.urgent, "item 10 = {s10}");
        assert!(!r.positive);
        assert_eq!(r.reasons, vec![Reason { code: "epds_item_10_self_harm".into(), effect: Effect::Urgent }]);
        assert!(follow_up(&r).unwrap().urgent);
    }
    // "Never" (printed last, d) scores 0: a high total is positive, not urgent.
    let mut scores = [3; 10];
    scores[9] = 0;
    let choices = epds_scoring(scores);
    assert_eq!(choices[9], 3);
    let r = score_ok(&def, &epds_answers(choices));
    assert_eq!((r.total, r.positive, r.urgent), (27, true, false));
}

#[test]
fn missing_and_unknown_answers_are_reported_item_by_item() {
    let def = epds();
    let mut a = epds_answers([0; 10]);
    a.answers.remove("3");
    a.answers.remove("7");
    a.answers.insert("5".into(), "e".into());
    a.answers.insert("11".into(), "a".into());
    let err = score(&def, &a).unwrap_err();
    assert_eq!(
        err,
        AnswerError::Items(ItemProblems(vec![
            ItemProblem::Missing { item: "3".into() },
            ItemProblem::UnknownOption { item: "5".into(), code: "e".into() },
            ItemProblem::Missing { item: "7".into() },
            ItemProblem::UnknownItem { item: "11".into() },
        ]))
    );
    assert_eq!(err.to_string(), "item 3: no answer, item 5: no answer \"e\", item 7: no answer, item 11: no such item");
    // Nothing answered at all.
    let empty = Answers::to(&def, &[]);
    match score(&def, &empty) {
        Err(AnswerError::Items(p)) => assert_eq!(p.0.len(), 10),
        other => panic!("{other:?}"),
    }
}

#[test]
fn answers_must_be_for_this_questionnaire_and_version() {
    let def = epds();
    let mut a = epds_answers([0; 10]);
    a.questionnaire = "bonding".into();
    assert_eq!(
        score(&def, &a),
        Err(AnswerError::WrongQuestionnaire { expected: "epds".into(), got: "bonding".into() })
    );
    let mut a = epds_answers([0; 10]);
    a.version = "0".into();
    assert!(matches!(score(&def, &a), Err(AnswerError::WrongVersion { .. })));
}

#[test]
fn optional_items_may_be_left_out() {
    let mut def = epds();
    for item in &mut def.items {
        item.required = item.id != "10";
    }
    let mut a = epds_answers([0; 10]);
    a.answers.remove("10");
    let r = score_ok(&def, &a);
    assert!(!r.item_scores.contains_key("10"));
    assert!(!r.urgent);
}

#[test]
fn bonding_key_is_data() {
    let def = bonding();
    assert_eq!(def.key.status, KeyStatus::Provisional);
    assert_eq!(def.items.len(), 10);
    assert_eq!(def.max_total(), 30);
    let forward: Vec<&str> = def.items.iter().filter(|i| !i.is_reverse_keyed()).map(|i| i.id.as_str()).collect();
    assert_eq!(forward, vec!["1", "6", "8", "10"]);
    // Answering "strongly, almost always" (a) everywhere: 0 on the four loving
    // items, 3 on the six others.
    let all_a: Vec<(String, &str)> = (1..=10).map(|n| (n.to_string(), "a")).collect();
    let refs: Vec<(&str, &str)> = all_a.iter().map(|(i, c)| (i.as_str(), *c)).collect();
    let r = score_ok(&def, &Answers::to(&def, &refs));
    assert_eq!((r.total, r.positive), (18, true));
}

#[test]
fn support_checklist_counts_risk_answers() {
    let def = support_checklist();
    assert_eq!(def.items.len(), 11);
    let safe = |id: &str| if ["4a", "4b", "4c", "6"].contains(&id) { "yes" } else { "no" };
    let base: Vec<(String, &str)> = def.items.iter().map(|i| (i.id.clone(), safe(&i.id))).collect();
    let with = |changes: &[(&str, &str)]| {
        let mut pairs = base.clone();
        for (id, code) in changes {
            pairs.iter_mut().find(|(i, _)| i == id).unwrap().1 = code;
        }
        let refs: Vec<(&str, &str)> = pairs.iter().map(|(i, c)| (i.as_str(), *c)).collect();
        score_ok(&def, &Answers::to(&def, &refs))
    };
    let r = with(&[]);
    assert_eq!((r.total, r.positive, r.urgent), (0, false, false));
    // Two ordinary risk answers: not yet positive; a third is.
    let r = with(&[("1", "yes"), ("4a", "no")]);
    assert_eq!((r.total, r.positive), (2, false));
    let r = with(&[("1", "yes"), ("4a", "no"), ("6", "no")]);
    assert_eq!((r.total, r.positive), (3, true));
    let r = with(&[("3", "yes")]);
    assert!(r.positive && !r.urgent);
    let r = with(&[("9", "yes")]);
    assert!(r.positive && r.urgent);
}

#[test]
fn notification_questionnaire_flags() {
    let def = notification();
    let calm: Vec<(&str, &str)> = vec![
        ("age_band", "20_34"),
        ("first_pregnancy", "yes"),
        ("feelings", "happy"),
        ("mental_illness_history", "no"),
        ("low_mood", "no"),
        ("loss_of_interest", "no"),
        ("support_available", "yes"),
        ("financial_worries", "none"),
        ("smoking", "never"),
        ("afraid_at_home", "no"),
    ];
    let with = |changes: &[(&'static str, &'static str)]| {
        let mut pairs = calm.clone();
        for (id, code) in changes {
            pairs.iter_mut().find(|(i, _)| i == id).unwrap().1 = code;
        }
        score_ok(&def, &Answers::to(&def, &pairs))
    };
    let r = with(&[]);
    assert_eq!((r.total, r.positive, r.urgent), (0, false, false));
    let codes = |r: &ScreeningResult| r.reasons.iter().map(|x| x.code.clone()).collect::<Vec<_>>();
    assert_eq!(codes(&with(&[("mental_illness_history", "yes")])), vec!["mental_illness_history"]);
    assert_eq!(codes(&with(&[("feelings", "troubled")])), vec!["troubled_by_pregnancy"]);
    assert!(!with(&[("feelings", "unsure")]).positive);
    assert_eq!(codes(&with(&[("age_band", "under_20")])), vec!["under_20"]);
    assert_eq!(codes(&with(&[("loss_of_interest", "yes")])), vec!["low_mood"]);
    // Weaker signs add up: no support and serious money worries.
    assert!(!with(&[("support_available", "no"), ("smoking", "smokes")]).positive);
    assert_eq!(
        codes(&with(&[("support_available", "no"), ("financial_worries", "serious")])),
        vec!["several_concerns"]
    );
    let r = with(&[("afraid_at_home", "yes")]);
    assert!(r.positive && r.urgent);
}

#[test]
fn broken_definitions_are_refused() {
    let mut d = epds();
    d.items[1].id = "1".into();
    assert_eq!(d.check(), Err(DefinitionError::DuplicateItem("1".into())));
    let mut d = epds();
    d.items[0].options.truncate(1);
    assert_eq!(d.check(), Err(DefinitionError::TooFewOptions("1".into())));
    let mut d = epds();
    d.items[0].options[1].code = "a".into();
    assert_eq!(d.check(), Err(DefinitionError::DuplicateOption { item: "1".into(), code: "a".into() }));
    let mut d = epds();
    d.items.pop();
    assert!(matches!(d.check(), Err(DefinitionError::RuleUnknownItem { item, .. }) if item == "10"));
    let mut d = epds();
    d.items.clear();
    assert_eq!(d.check(), Err(DefinitionError::Empty));
}

#[test]
fn fhir_questionnaire_shape() {
    let q = to_fhir_questionnaire(&epds());
    assert_eq!(q["resourceType"], "Questionnaire");
    assert_eq!(q["url"], "urn:tsunagu:questionnaire:epds");
    assert_eq!(q["version"], "1");
    assert_eq!(q["name"], "Epds");
    assert_eq!(q["id"], "epds-1");
    assert_eq!(q["status"], "active");
    assert!(q["description"].as_str().unwrap().contains("placeholder"));
    let items = q["item"].as_array().unwrap();
    assert_eq!(items.len(), 10);
    assert_eq!(items[2]["linkId"], "3");
    assert_eq!(items[2]["type"], "choice");
    assert_eq!(items[2]["required"], true);
    let first = &items[2]["answerOption"][0]["valueCoding"];
    assert_eq!(first["code"], "a");
    assert_eq!(first["system"], "urn:tsunagu:questionnaire:epds:1:answer");
    assert_eq!(first["extension"][0]["url"], fhir::ORDINAL_VALUE);
    assert_eq!(first["extension"][0]["valueDecimal"], 3);
    let q = to_fhir_questionnaire(&support_checklist());
    assert_eq!(q["name"], "SupportChecklist");
    assert_eq!(q["id"], "support-checklist-1");
}

#[test]
fn fhir_response_shape() {
    let def = epds();
    let at: jiff::Timestamp = "2026-11-22T01:30:00Z".parse().unwrap();
    let r = to_fhir_questionnaire_response(&def, &epds_answers([1; 10]), "Patient/42", at).unwrap();
    assert_eq!(
        r,
        json!({
            "resourceType": "QuestionnaireResponse",
            "questionnaire": "urn:tsunagu:questionnaire:epds|1",
            "status": "completed",
            "subject": { "reference": "Patient/42" },
            "authored": "2026-11-22T10:30:00+09:00",
            "item": (1..=10).map(|n| json!({
                "linkId": n.to_string(),
                "answer": [{ "valueCoding": {
                    "system": "urn:tsunagu:questionnaire:epds:1:answer",
                    "code": "b",
                    "display": format!("placeholder.epds.{n}.b"),
                }}],
            })).collect::<Vec<_>>(),
        })
    );
    // Incomplete answers never become a "completed" response.
    let mut a = epds_answers([1; 10]);
    a.answers.remove("4");
    assert!(to_fhir_questionnaire_response(&def, &a, "Patient/42", at).is_err());
}

fn any_epds_choices() -> impl Strategy<Value = [usize; 10]> {
    proptest::array::uniform10(0usize..4)
}

proptest! {
    #[test]
    fn epds_total_is_the_sum_of_the_keys(choices in any_epds_choices()) {
        let r = score_ok(&epds(), &epds_answers(choices));
        let expected: usize = choices.iter().enumerate().map(|(i, c)| if matches!(i + 1, 1 | 2 | 4) { *c } else { 3 - c }).sum();
        prop_assert_eq!(r.total as usize, expected);
        prop_assert!(r.total <= 30);
        prop_assert_eq!(r.positive, r.total >= 9);
        prop_assert_eq!(r.urgent, choices[9] != 3);
    }

    #[test]
    fn any_complete_answers_score_within_bounds(pick in proptest::collection::vec(0usize..8, 11), which in 0usize..4) {
        let def = defs::all().swap_remove(which);
        let pairs: Vec<(String, String)> = def.items.iter().zip(&pick).map(|(i, p)| (i.id.clone(), i.options[p % i.options.len()].code.clone())).collect();
        let refs: Vec<(&str, &str)> = pairs.iter().map(|(i, c)| (i.as_str(), c.as_str())).collect();
        let a = Answers::to(&def, &refs);
        let r = score(&def, &a).unwrap();
        prop_assert!(r.total <= r.max_total);
        prop_assert_eq!(r.total, r.item_scores.values().map(|s| u32::from(*s)).sum::<u32>());
        prop_assert_eq!(r.positive, r.reasons.iter().any(|x| x.effect == Effect::Positive));
        // The export carries exactly the codes given, each one offered by its item.
        let q = to_fhir_questionnaire(&def);
        let resp = to_fhir_questionnaire_response(&def, &a, "Patient/1", jiff::Timestamp::UNIX_EPOCH).unwrap();
        for it in resp["item"].as_array().unwrap() {
            let link = it["linkId"].as_str().unwrap();
            let code = it["answer"][0]["valueCoding"]["code"].as_str().unwrap();
            prop_assert_eq!(Some(code), a.answers.get(link).map(String::as_str));
            let qi = q["item"].as_array().unwrap().iter().find(|x| x["linkId"] == link).unwrap();
            prop_assert!(qi["answerOption"].as_array().unwrap().iter().any(|o| o["valueCoding"]["code"] == code));
        }
    }

    #[test]
    fn reverse_keys_mirror_forward_keys(which in 0usize..4) {
        for item in &defs::all()[which].items {
            if item.is_reverse_keyed() {
                let mut scores: Vec<u8> = item.options.iter().map(|o| o.score).collect();
                scores.reverse();
                prop_assert!(scores.windows(2).all(|w| w[0] < w[1]));
                prop_assert_eq!(scores.first().copied(), Some(0));
            }
        }
    }

    #[test]
    fn scoring_any_answers_never_panics(
        answers in proptest::collection::btree_map("[0-9a-z_]{1,4}", "[a-z]{1,2}", 0..14),
        which in 0usize..4,
    ) {
        let def = &defs::all()[which];
        let a = Answers { questionnaire: def.id.clone(), version: def.version.clone(), answers };
        if let Ok(r) = score(def, &a) {
            prop_assert!(r.total <= r.max_total);
        }
    }
}

mod offering {
    use super::*;
    use crate::records::{Baby, Family, FamilyRecord, FeeBracket, Pregnancy, PregnancyStatus, Sex};
    use crate::roles::Role;
    use crate::{AreaId, BabyId, FamilyId, MunicipalityId, PersonId, PregnancyId};
    use jiff::civil::{date, Date};

    fn pregnancy(id: i64, notified_on: Date, status: PregnancyStatus) -> Pregnancy {
        Pregnancy {
            id: PregnancyId(id),
            family_id: FamilyId(1),
            notified_on,
            edd: notified_on.saturating_add(jiff::Span::new().days(200)),
            foetuses: 1,
            first_child: true,
            status,
            handbook_number: None,
            ended_on: None,
        }
    }

    fn baby(id: i64, pregnancy: i64, birth_date: Date) -> Baby {
        Baby {
            id: BabyId(id),
            pregnancy_id: PregnancyId(pregnancy),
            person_id: PersonId(id + 100),
            birth_date,
            sex: Sex::Female,
            gestational_weeks: 39,
            gestational_days: 0,
            birth_weight_g: None,
            long_hospitalisation: false,
        }
    }

    fn record(pregnancies: Vec<Pregnancy>, babies: Vec<Baby>) -> FamilyRecord {
        FamilyRecord {
            family: Family {
                id: FamilyId(1),
                municipality_id: MunicipalityId(1),
                area_id: AreaId(1),
                fee_bracket: FeeBracket::Taxed,
                consent_coordinators: false,
                consent_hubs: false,
                escalated: false,
            },
            people: vec![],
            pregnancies,
            babies,
        }
    }

    #[test]
    fn a_pregnant_woman_is_offered_the_notification_questionnaire_only() {
        let today = date(2026, 11, 22);
        let r = record(vec![pregnancy(7, date(2026, 6, 1), PregnancyStatus::Ongoing)], vec![]);
        assert_eq!(offered(&notification(), &r, today), Some(PregnancyId(7)));
        for def in [epds(), bonding(), support_checklist()] {
            assert_eq!(offered(&def, &r, today), None, "{}", def.id);
        }
        let lost = record(vec![pregnancy(7, date(2026, 6, 1), PregnancyStatus::Lost)], vec![]);
        assert_eq!(offered(&notification(), &lost, today), None);
    }

    #[test]
    fn a_mother_is_offered_hers_in_the_first_year_about_the_latest_birth() {
        let today = date(2026, 11, 22);
        let r = record(
            vec![
                pregnancy(1, date(2023, 1, 10), PregnancyStatus::Delivered),
                pregnancy(2, date(2026, 3, 1), PregnancyStatus::Delivered),
            ],
            vec![baby(1, 1, date(2023, 8, 1)), baby(2, 2, date(2026, 11, 1))],
        );
        for def in [epds(), bonding(), support_checklist()] {
            assert_eq!(offered(&def, &r, today), Some(PregnancyId(2)), "{}", def.id);
        }
        assert_eq!(offered(&notification(), &r, today), None);
        // The first year, to the day; not after.
        let born = date(2025, 11, 22);
        let r = record(vec![pregnancy(3, date(2025, 4, 1), PregnancyStatus::Delivered)], vec![baby(3, 3, born)]);
        assert_eq!(offered(&epds(), &r, date(2026, 11, 22)), Some(PregnancyId(3)));
        assert_eq!(offered(&epds(), &r, date(2026, 11, 23)), None);
    }

    #[test]
    fn who_may_enter_is_the_definitions() {
        for def in defs::all() {
            assert!(may_enter(&def, Role::FamilyMember), "{}", def.id);
            assert!(may_enter(&def, Role::Nurse), "{}", def.id);
            assert!(!may_enter(&def, Role::Analyst) && !may_enter(&def, Role::PeerSupporter));
        }
        assert!(may_enter(&epds(), Role::FacilityStaff));
        assert!(!may_enter(&notification(), Role::FacilityStaff));
    }

    #[test]
    fn the_referral_note_is_codes_only_and_reads_back() {
        let r = score_ok(&epds(), &epds_answers(epds_scoring([3; 10])));
        let note = referral_note(&r);
        assert_eq!(note, "epds: epds_total_9_or_more, epds_item_10_self_harm");
        assert_eq!(parse_referral_note(&note), Some(("epds", vec!["epds_total_9_or_more", "epds_item_10_self_harm"])));
        // A reason given by two rules (positive and urgent) is named once.
        let def = notification();
        let mut pairs: Vec<(&str, &str)> =
            def.items.iter().map(|i| (i.id.as_str(), i.options[0].code.as_str())).collect();
        pairs.retain(|(i, _)| *i != "afraid_at_home");
        pairs.push(("afraid_at_home", "yes"));
        let r = score_ok(&def, &Answers::to(&def, &pairs));
        assert!(r.urgent && r.positive);
        assert_eq!(referral_note(&r).matches("afraid_at_home").count(), 1);
        // Free text does not parse as a note of codes.
        assert_eq!(parse_referral_note("夜間ほとんど眠れていない様子"), None);
        assert_eq!(parse_referral_note("epds: 眠れない"), None);
    }

    #[test]
    fn a_screen_raises_a_referral_for_the_nurse() {
        let r = score_ok(&epds(), &epds_answers(epds_scoring([0, 0, 0, 0, 0, 0, 0, 0, 0, 1])));
        let f = follow_up(&r).unwrap();
        let referral = crate::referrals::from_screening(Role::FamilyMember, FamilyId(1), Some(PregnancyId(2)), &f);
        assert_eq!(referral.source, crate::referrals::ConcernSource::Screening);
        assert!(referral.urgent);
        assert_eq!(referral.status, crate::referrals::ReferralStatus::Raised);
        assert_eq!(referral.raised_by, Role::FamilyMember);
        assert_eq!(referral.pregnancy, Some(PregnancyId(2)));
    }
}
