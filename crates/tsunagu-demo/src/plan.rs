//! One demo family, planned as the inputs a nurse would type: a pregnancy
//! notification and, once the baby has come, the birth. Pure: no store, no
//! clock; everything comes from the random stream and `today`.

use crate::names::{self, Name};
use crate::rng::Rng;
use crate::spec::DemoFamilySpec;
use jiff::civil::Date;
use jiff::ToSpan;
use tsunagu_domain::records::{BabyInput, BirthInput, NotificationInput, PersonInput, EDD_MAX_DAYS_AFTER_NOTIFICATION};
use tsunagu_domain::AreaId;

/// Latest EDD of a demo pregnancy, in days after today: the earliest stage
/// shown is a notification at about 5 weeks.
pub const EDD_LATEST: i64 = 250;
/// Earliest EDD of an ordinary demo family, in days before today: its baby
/// is then about a year old.
pub const EDD_EARLIEST: i64 = 340;
/// No demo baby is older than this many days.
pub const BABY_MAX_AGE_DAYS: i64 = 365;

/// What kind of family to plan.
pub enum Shape<'a> {
    /// Drawn at random (about 2 % twins and 0.2 % triplets).
    Random,
    /// Twins, already born.
    Twins,
    /// Triplets, already born.
    Triplets,
    /// The fixed family the demo `mother` and `partner` accounts belong to.
    Demo(&'a DemoFamilySpec),
}

#[derive(Debug, Clone)]
pub struct FamilyPlan {
    pub notification: NotificationInput,
    /// The day the notification is checked against: `today`, unless it was
    /// received more than a year ago (then `check` would refuse it as too
    /// early), in which case the day it was received, as it was checked then.
    pub check_day: Date,
    /// The birth to record, when the babies have come by `today`.
    pub birth: Option<BirthInput>,
}

/// Kana as a nurse typed it: mostly katakana, sometimes hiragana (the
/// store's search folds both).
#[derive(Clone, Copy)]
enum Script {
    Katakana,
    Hiragana,
}

impl Script {
    fn write(self, katakana: &str) -> String {
        match self {
            Script::Katakana => katakana.to_owned(),
            Script::Hiragana => names::to_hiragana(katakana),
        }
    }
}

fn pick(rng: &mut Rng, table: &'static [Name]) -> Name {
    table.get(rng.index(table.len())).copied().unwrap_or(("山田", "ヤマダ"))
}

fn person(script: Script, family: Name, given: Name, birth_date: Option<Date>) -> PersonInput {
    PersonInput {
        family_name: family.0.to_owned(),
        given_name: given.0.to_owned(),
        family_name_kana: script.write(family.1),
        given_name_kana: script.write(given.1),
        birth_date: birth_date.map(|d| d.to_string()),
    }
}

fn days(d: Date, n: i64) -> Date {
    d.saturating_add(n.days())
}

/// A birth date for someone `age` (whole years) old on `on`.
fn born_aged(rng: &mut Rng, on: Date, age: i64) -> Date {
    days(on.saturating_sub(age.years()), -rng.range(0, 364))
}

/// The handbook number as printed: the era year of issue and a serial,
/// e.g. `R8-000123`. Unique per municipality because the serial is.
pub fn handbook_number(issued: Date, serial: u64) -> String {
    let year = i64::from(issued.year());
    // Reiwa began on 1 May 2019 (平成31年4月30日 was the last day of Heisei).
    let era =
        if issued >= jiff::civil::date(2019, 5, 1) { format!("R{}", year - 2018) } else { format!("H{}", year - 1988) };
    format!("{era}-{serial:06}")
}

/// Median birth weight (g) by completed gestational week, roughly the
/// Japanese reference curve.
fn median_weight(weeks: i64) -> i64 {
    const TABLE: [(i64, i64); 12] = [
        (22, 500),
        (24, 650),
        (26, 850),
        (28, 1100),
        (30, 1400),
        (32, 1750),
        (34, 2200),
        (36, 2600),
        (37, 2800),
        (38, 2950),
        (40, 3150),
        (42, 3300),
    ];
    let mut prev = TABLE[0];
    for &(w, g) in &TABLE {
        if weeks <= w {
            if w == prev.0 {
                return g;
            }
            return prev.1 + (g - prev.1) * (weeks - prev.0) / (w - prev.0);
        }
        prev = (w, g);
    }
    prev.1
}

/// Days from the EDD to the birth (negative: before the EDD).
fn birth_offset(rng: &mut Rng, foetuses: u8) -> i64 {
    let total = match foetuses {
        1 if rng.per_mille(45) => rng.range(30 * 7, 35 * 7 + 6),
        1 => return rng.range(-21, 7),
        2 if rng.per_mille(400) => rng.range(30 * 7, 35 * 7 + 6),
        2 => rng.range(36 * 7, 38 * 7 + 6),
        _ => rng.range(30 * 7, 35 * 7 + 6),
    };
    total - 280
}

struct BabyDraw {
    sex: &'static str,
    name: Option<Name>,
}

fn draw_baby(rng: &mut Rng, named: bool, taken: &[&'static str]) -> BabyDraw {
    let male = rng.below(1000) < 512;
    let table = if male { names::BABY_BOY } else { names::BABY_GIRL };
    let sex = if male { "male" } else { "female" };
    if !named {
        return BabyDraw { sex, name: None };
    }
    let mut name = pick(rng, table);
    // Siblings of one birth get different names.
    for _ in 0..8 {
        if !taken.contains(&name.0) {
            break;
        }
        name = pick(rng, table);
    }
    BabyDraw { sex, name: Some(name) }
}

#[allow(clippy::too_many_arguments)]
fn baby_input(
    rng: &mut Rng,
    script: Script,
    draw: &BabyDraw,
    birth: Date,
    offset: i64,
    foetuses: u8,
    weigh: bool,
) -> BabyInput {
    let total = (280 + offset).clamp(22 * 7, 44 * 7 + 6);
    let weeks = total / 7;
    let weight = weigh.then(|| {
        let median = median_weight(weeks)
            * match foetuses {
                1 => 100,
                2 => 92,
                _ => 88,
            }
            / 100;
        (median + median * rng.range(-130, 130) / 1000).clamp(300, 5500)
    });
    BabyInput {
        birth_date: birth.to_string(),
        sex: draw.sex.to_owned(),
        given_name: draw.name.map(|n| n.0.to_owned()),
        given_name_kana: draw.name.map(|n| script.write(n.1)),
        gestational_weeks: weeks,
        gestational_days: total % 7,
        birth_weight_g: weight,
        long_hospitalisation: weeks <= 35,
    }
}

/// The area of the `index`-th family: the first families go round every
/// area once, the rest are drawn by weight.
pub fn pick_area(rng: &mut Rng, areas: &[(AreaId, u32)], index: u64) -> AreaId {
    let round = usize::try_from(index).ok().and_then(|i| i.checked_sub(1)).filter(|i| *i < areas.len());
    let i = match round {
        Some(i) => i,
        None => rng.weighted(areas.iter().map(|a| a.1)),
    };
    areas.get(i).map(|a| a.0).unwrap_or(AreaId(0))
}

/// Plans one family. `serial` numbers its handbook.
pub fn family_plan(rng: &mut Rng, today: Date, area: AreaId, shape: &Shape<'_>, serial: u64) -> FamilyPlan {
    let demo = match shape {
        Shape::Demo(d) => Some(*d),
        _ => None,
    };
    let foetuses: u8 = match shape {
        Shape::Twins => 2,
        Shape::Triplets => 3,
        Shape::Demo(_) => 1,
        Shape::Random => match rng.below(10_000) {
            0..20 => 3,
            20..220 => 2,
            _ => 1,
        },
    };
    // Stage: the EDD, relative to today.
    let edd_offset = match shape {
        Shape::Random => rng.range(-EDD_EARLIEST, EDD_LATEST),
        Shape::Twins | Shape::Triplets => rng.range(-300, -40),
        Shape::Demo(d) => d.edd_offset,
    };
    let edd = days(today, edd_offset);
    // When the babies come, relative to the EDD.
    let (offset, born) = match demo {
        Some(d) => (d.born_offset.unwrap_or(0), d.born_offset.is_some()),
        None => {
            let mut offset = birth_offset(rng, foetuses);
            if edd_offset + offset < -BABY_MAX_AGE_DAYS {
                offset = rng.range(-21, 7);
            }
            (offset, days(edd, offset) <= today)
        }
    };
    let birth = days(edd, offset);

    // Notification at 5–11 weeks (EDD − 245..200 days); a few late ones at
    // up to 25 weeks. Never after today, never beyond the EDD window.
    let max_lead = i64::from(EDD_MAX_DAYS_AFTER_NOTIFICATION);
    let lead = if demo.is_none() && edd_offset < 100 && rng.per_mille(30) {
        rng.range(edd_offset.max(100), 199)
    } else {
        rng.range(edd_offset.max(200), edd_offset.max(245)).min(max_lead)
    };
    let notified_on = days(edd, -lead);
    let check_day = if notified_on < today.saturating_sub(1.year()) { notified_on } else { today };

    let script = if demo.is_none() && rng.per_mille(100) { Script::Hiragana } else { Script::Katakana };

    // The mother, 20–42 at the EDD (most around 31).
    let mother_age = 20 + rng.range(0, 11) + rng.range(0, 11);
    let mother_birth = born_aged(rng, edd, mother_age);
    let (family, mother_given) = match demo {
        Some(d) => (d.mother.0, d.mother.1),
        None => (pick(rng, names::FAMILY), pick(rng, names::MOTHER)),
    };
    let mother = person(script, family, mother_given, Some(mother_birth));

    let partner = if demo.is_some() || rng.per_mille(850) {
        let partner_age = (mother_age + rng.range(-3, 8)).max(20);
        let birth_date = (demo.is_some() || rng.per_mille(950)).then(|| born_aged(rng, edd, partner_age));
        let (family, given) = match demo {
            Some(d) => (d.partner.0, d.partner.1),
            None => {
                // Married couples share a name; some couples do not.
                let family = if rng.per_mille(960) { family } else { pick(rng, names::FAMILY) };
                (family, pick(rng, names::PARTNER))
            }
        };
        Some(person(script, family, given, birth_date))
    } else {
        None
    };

    let (first_child, consent_coordinators, consent_hubs, fee_bracket, handbook) = if demo.is_some() {
        (true, true, true, "taxed", true)
    } else {
        let fee = match rng.below(1000) {
            0..850 => "taxed",
            850..970 => "non_taxed",
            _ => "public_assistance",
        };
        (rng.per_mille(450), rng.per_mille(850), rng.per_mille(700), fee, rng.per_mille(950))
    };

    let notification = NotificationInput {
        area_id: area.0,
        fee_bracket: fee_bracket.to_owned(),
        consent_coordinators,
        consent_hubs,
        notified_on: Some(notified_on.to_string()),
        edd: edd.to_string(),
        foetuses: i64::from(foetuses),
        first_child,
        handbook_number: handbook.then(|| handbook_number(notified_on, serial)),
        mother,
        partner,
    };

    let birth = born.then(|| {
        // Babies are named within two weeks; the newest may not be yet.
        let name_chance = if (today - birth).get_days() < 7 { 500 } else { 950 };
        let mut babies = Vec::with_capacity(usize::from(foetuses));
        let mut taken: Vec<&'static str> = Vec::new();
        for _ in 0..foetuses {
            let draw = match demo.and_then(|d| d.baby) {
                Some(name) => BabyDraw { sex: "female", name: Some(name) },
                None => {
                    let named = rng.per_mille(name_chance);
                    draw_baby(rng, named, &taken)
                }
            };
            if let Some(n) = draw.name {
                taken.push(n.0);
            }
            let weigh = demo.is_some() || rng.per_mille(970);
            babies.push(baby_input(rng, script, &draw, birth, offset, foetuses, weigh));
        }
        BirthInput { babies }
    });

    FamilyPlan { notification, check_day, birth }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec;
    use jiff::civil::date;
    use tsunagu_domain::records::{Pregnancy, PregnancyStatus};
    use tsunagu_domain::{FamilyId, PregnancyId};

    fn areas() -> Vec<(AreaId, u32)> {
        vec![(AreaId(1), 353), (AreaId(2), 140), (AreaId(3), 256), (AreaId(4), 145), (AreaId(5), 95)]
    }

    fn pregnancy_of(n: &tsunagu_domain::records::Notification) -> Pregnancy {
        Pregnancy {
            id: PregnancyId(1),
            family_id: FamilyId(1),
            notified_on: n.notified_on,
            edd: n.edd,
            foetuses: n.foetuses,
            first_child: n.first_child,
            status: PregnancyStatus::Ongoing,
            handbook_number: n.handbook_number.clone(),
            ended_on: None,
        }
    }

    /// Checks a plan the way the loader does, and returns (foetuses, babies).
    fn check_plan(plan: &FamilyPlan, today: Date) -> (u8, usize) {
        let n =
            plan.notification.check(plan.check_day).unwrap_or_else(|e| panic!("notification refused: {e}\n{plan:?}"));
        assert!(n.notified_on <= today);
        assert!(n.edd <= days(today, EDD_LATEST));
        // Checked against today whenever the rules allow it.
        if n.notified_on >= today.saturating_sub(1.year()) {
            assert_eq!(plan.check_day, today);
            assert!(plan.notification.check(today).is_ok());
        }
        let Some(birth) = &plan.birth else {
            assert!(n.edd >= days(today, -7), "an EDD long past without a birth");
            return (n.foetuses, 0);
        };
        let babies = birth.check(&pregnancy_of(&n), today).unwrap_or_else(|e| panic!("birth refused: {e}\n{plan:?}"));
        assert_eq!(babies.len(), usize::from(n.foetuses));
        for b in &babies {
            assert!(b.birth_date <= today);
            assert!((today - b.birth_date).get_days() <= BABY_MAX_AGE_DAYS as i32);
            // Gestational age agrees with the distance to the EDD.
            let total = i32::from(b.gestational_weeks) * 7 + i32::from(b.gestational_days);
            assert_eq!(total, 280 + (b.birth_date - n.edd).get_days());
            assert_eq!(b.long_hospitalisation, b.gestational_weeks <= 35);
        }
        (n.foetuses, babies.len())
    }

    #[test]
    fn every_plan_passes_the_domain_checks() {
        for today in [date(2026, 11, 22), date(2027, 3, 1), date(2028, 2, 29), date(2019, 4, 30)] {
            for seed in 0..200u64 {
                for i in 1..60u64 {
                    let mut rng = Rng::derive(seed, 1, i);
                    let area = pick_area(&mut rng, &areas(), i);
                    check_plan(&family_plan(&mut rng, today, area, &Shape::Random, i), today);
                }
                for shape in [Shape::Twins, Shape::Triplets] {
                    let mut rng = Rng::derive(seed, 2, 0);
                    let (f, b) = check_plan(&family_plan(&mut rng, today, AreaId(1), &shape, 99), today);
                    assert_eq!(f as usize, b, "forced multiples are born");
                    assert!(f >= 2);
                }
            }
        }
    }

    #[test]
    fn demo_families_pass_and_are_fixed() {
        let today = date(2026, 11, 22);
        for spec in spec::ALL {
            let mut rng = Rng::derive(1, spec.series, 0);
            let plan = family_plan(&mut rng, today, AreaId(1), &Shape::Demo(&spec.demo_family), 1);
            let (_, babies) = check_plan(&plan, today);
            assert_eq!(babies, usize::from(spec.demo_family.born_offset.is_some()));
            assert_eq!(plan.notification.mother.family_name, spec.demo_family.mother.0 .0);
            assert!(plan.notification.partner.is_some());
            assert!(plan.notification.consent_coordinators);
        }
    }

    #[test]
    fn plans_are_deterministic() {
        let today = date(2026, 11, 22);
        let plan = |seed| {
            let mut rng = Rng::derive(seed, 1, 17);
            format!("{:?}", family_plan(&mut rng, today, AreaId(3), &Shape::Random, 17))
        };
        assert_eq!(plan(5), plan(5));
        assert_ne!(plan(5), plan(6));
    }

    #[test]
    fn the_mix_looks_like_a_city() {
        let today = date(2026, 11, 22);
        let n = 20_000u64;
        let (mut twins, mut triplets, mut born, mut partner, mut first, mut coord, mut taxed, mut hira, mut preterm) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0);
        let mut area_seen = [0u32; 5];
        let mut stages = [0u32; 6];
        for i in 1..=n {
            let mut rng = Rng::derive(9, 1, i);
            let area = pick_area(&mut rng, &areas(), i);
            area_seen[(area.0 - 1) as usize] += 1;
            let p = family_plan(&mut rng, today, area, &Shape::Random, i);
            match p.notification.foetuses {
                2 => twins += 1,
                3 => triplets += 1,
                _ => {}
            }
            partner += u32::from(p.notification.partner.is_some());
            first += u32::from(p.notification.first_child);
            coord += u32::from(p.notification.consent_coordinators);
            taxed += u32::from(p.notification.fee_bracket == "taxed");
            hira += u32::from(p.notification.mother.family_name_kana.chars().all(|c| matches!(c, 'ぁ'..='ゖ' | 'ー')));
            let edd: Date = p.notification.edd.parse().unwrap_or(today);
            let offset = (edd - today).get_days();
            stages[((offset + 400) / 120).clamp(0, 5) as usize] += 1;
            if let Some(b) = &p.birth {
                born += 1;
                preterm += u32::from(b.babies.iter().any(|b| b.long_hospitalisation));
            }
        }
        let pm = |x: u32| u64::from(x) * 1000 / n;
        assert!((15..=26).contains(&pm(twins)), "twins {}", pm(twins));
        assert!(pm(triplets) <= 5);
        assert!(triplets > 0);
        assert!((820..=880).contains(&pm(partner)));
        assert!((420..=480).contains(&pm(first)));
        assert!((820..=880).contains(&pm(coord)));
        assert!((820..=880).contains(&pm(taxed)));
        assert!((70..=130).contains(&pm(hira)));
        assert!((450..=650).contains(&pm(born)), "born {}", pm(born));
        assert!(preterm > 0);
        assert!(area_seen.iter().all(|a| *a > 0));
        assert!(stages.iter().all(|s| *s > 0), "{stages:?}");
    }

    #[test]
    fn handbook_numbers_by_era() {
        assert_eq!(handbook_number(date(2026, 5, 1), 123), "R8-000123");
        assert_eq!(handbook_number(date(2019, 4, 30), 1), "H31-000001");
        assert_eq!(handbook_number(date(2019, 5, 1), 1), "R1-000001");
        assert_eq!(handbook_number(date(2026, 5, 1), 1_234_567), "R8-1234567");
    }

    #[test]
    fn weights_follow_the_curve() {
        assert_eq!(median_weight(40), 3150);
        assert_eq!(median_weight(39), 3050);
        assert_eq!(median_weight(22), 500);
        assert_eq!(median_weight(44), 3300);
        assert!(median_weight(31) > median_weight(30));
    }
}
