//! The bulk path of `RecordStore::import_families` (#16, #15), the part
//! both back ends share: which families of a batch are refused, and every
//! row the accepted ones need, computed in memory. A back end reads what is
//! on record (one lookup for the batch), reserves the ids, and writes each
//! table with a few multi-row statements.
//!
//! The rows are those the one-by-one path writes (`insert_notification`,
//! `insert_babies`, `timeline::sync_pregnancy`, `timeline::settle_through`)
//! for the same input: the contacts come from the same pure functions
//! (`TimelineFacts::from_records`, `reconcile`, `awaits_work`, `missed_on`),
//! and a story (`store_records::bulk_import_writes_the_rows_of_the_one_by_one_path`)
//! compares the two paths' rows on both databases. No I/O here.

use crate::ImportFamily;
use jiff::civil::Date;
use jiff::Timestamp;
use std::collections::{BTreeSet, HashMap, HashSet};
use tsunagu_domain::records::{is_duplicate_notification, Baby, Notification, Pregnancy, PregnancyStatus, Relation};
use tsunagu_domain::timeline::{
    awaits_work, missed_on, reconcile, ContactChange, ContactKind, KindSet, Nature, TimelineFacts,
};
use tsunagu_domain::{AccountId, AreaId, BabyId, FamilyId, PersonId, PregnancyId};

/// The tables whose secondary indexes (and, on PostgreSQL, foreign keys) a
/// large load sets aside and builds after it (`RecordStore::bulk_load_begin`,
/// #16): every table the import writes. Building an index once over sorted
/// rows costs a fraction of keeping it up to date row by row, and a foreign
/// key added back checks the whole table in one join instead of one lookup
/// (and, on PostgreSQL, one row lock on the parent) per row.
pub const SET_ASIDE_TABLES: &[&str] = &["families", "people", "pregnancies", "babies", "contacts"];

/// The indexes of [`SET_ASIDE_TABLES`] a large load keeps, besides unique
/// ones and keys: those the import itself reads while it runs — the
/// duplicate check's mothers by kana key and birth date, and a family's
/// pregnancies (`Batch::mother_lookups`).
pub const KEPT_DURING_LOAD: &[&str] = &["people_mother_birth", "pregnancies_family"];

/// A mother on record with an ongoing pregnancy, as the duplicate check reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MotherOnRecord {
    pub kana_key: String,
    pub birth_date: Option<Date>,
    pub edd: Date,
}

/// What the batch's duplicate checks need from the database: the mothers
/// with an ongoing pregnancy that can be one of the batch's mothers
/// ([`Batch::mother_lookups`]: the same kana key and birth date, or no birth
/// date on one side), and which of the batch's handbook numbers
/// ([`Batch::handbook_numbers`]) are taken, in the importing municipality.
#[derive(Debug, Clone, Default)]
pub struct OnRecord {
    pub mothers: Vec<MotherOnRecord>,
    pub handbook_numbers: HashSet<String>,
}

/// The duplicate lookup's three reads ([`Batch::mother_lookups`]), each
/// by the index `people_mother_birth` (migration 0035): mothers on record
/// with a (`born_keys[i]`, `born_dates[i]`) pair (ISO dates); with one of
/// `keys` and no birth date; with one of `any_birth` whatever their birth
/// date (the batch's mothers whose birth date is unknown). A mother may
/// come back twice (the check asks whether any matches): harmless.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MotherLookups {
    pub born_keys: Vec<String>,
    pub born_dates: Vec<String>,
    pub keys: Vec<String>,
    pub any_birth: Vec<String>,
}

/// How many ids of each table the accepted families need.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IdCounts {
    pub families: usize,
    pub people: usize,
    pub pregnancies: usize,
    pub babies: usize,
}

/// Ids reserved for the batch, in the order the rows take them.
#[derive(Debug, Clone, Default)]
pub struct ReservedIds {
    pub families: Vec<i64>,
    pub people: Vec<i64>,
    pub pregnancies: Vec<i64>,
    pub babies: Vec<i64>,
}

impl ReservedIds {
    /// `n` ids per table counted from one past each current largest id
    /// (SQLite: allocated inside the single writer's transaction).
    pub fn after(max: [i64; 4], counts: IdCounts) -> ReservedIds {
        let run = |from: i64, n: usize| (1..).map(|i| from + i).take(n).collect();
        ReservedIds {
            families: run(max[0], counts.families),
            people: run(max[1], counts.people),
            pregnancies: run(max[2], counts.pregnancies),
            babies: run(max[3], counts.babies),
        }
    }
}

/// A batch of families checked against what is on record.
#[derive(Debug)]
pub struct Batch<'a> {
    families: &'a [ImportFamily],
    /// Per family: accepted, or the conflict code the one-by-one path reports.
    decisions: Vec<Result<(), &'static str>>,
}

impl<'a> Batch<'a> {
    /// The mothers' kana keys (each once), for the one duplicate lookup.
    pub fn mother_keys(families: &[ImportFamily]) -> Vec<String> {
        let keys: BTreeSet<String> = families.iter().map(|f| f.notification.mother.search_key()).collect();
        keys.into_iter().collect()
    }

    /// What the duplicate lookup reads, narrowed to the mothers on record
    /// that can be one of the batch's (#16): the same kana key and the same
    /// birth date, or no birth date on either side
    /// (`records::is_duplicate_notification`). Read by key alone, the
    /// lookup grew with the municipality (every mother of a common name).
    pub fn mother_lookups(families: &[ImportFamily]) -> MotherLookups {
        let mut born: BTreeSet<(String, Date)> = BTreeSet::new();
        let mut any_birth: BTreeSet<String> = BTreeSet::new();
        for f in families {
            let mother = &f.notification.mother;
            match mother.birth_date {
                Some(b) => {
                    born.insert((mother.search_key(), b));
                }
                None => {
                    any_birth.insert(mother.search_key());
                }
            }
        }
        let (born_keys, born_dates) = born.into_iter().map(|(k, b)| (k, b.to_string())).unzip();
        MotherLookups {
            born_keys,
            born_dates,
            keys: Batch::mother_keys(families),
            any_birth: any_birth.into_iter().collect(),
        }
    }

    /// The handbook numbers the batch names (each once), for the one lookup.
    pub fn handbook_numbers(families: &[ImportFamily]) -> Vec<String> {
        let numbers: BTreeSet<String> =
            families.iter().filter_map(|f| f.notification.handbook_number.clone()).collect();
        numbers.into_iter().collect()
    }

    /// The areas the batch names (each once): all must be the municipality's.
    pub fn areas(families: &[ImportFamily]) -> Vec<AreaId> {
        let areas: BTreeSet<i64> = families.iter().map(|f| f.notification.area_id.0).collect();
        areas.into_iter().map(AreaId).collect()
    }

    /// Decides each family as the one-by-one path would, in order: refused
    /// as `duplicate_notification` when the same pregnancy is on record or
    /// was accepted earlier in the batch (and is still ongoing there, that
    /// is has no babies), else `handbook_number_taken` when its number is on
    /// record or taken earlier in the batch.
    pub fn check(families: &'a [ImportFamily], on_record: &OnRecord) -> Batch<'a> {
        let mut mothers: HashMap<String, Vec<(Option<Date>, Date)>> = HashMap::new();
        for m in &on_record.mothers {
            mothers.entry(m.kana_key.clone()).or_default().push((m.birth_date, m.edd));
        }
        let mut numbers: HashSet<String> = on_record.handbook_numbers.clone();
        let mut decisions = Vec::with_capacity(families.len());
        for f in families {
            let n = &f.notification;
            let key = n.mother.search_key();
            let duplicate = mothers
                .get(&key)
                .is_some_and(|seen| seen.iter().any(|(birth, edd)| is_duplicate_notification(&key, *birth, *edd, n)));
            if duplicate {
                decisions.push(Err("duplicate_notification"));
                continue;
            }
            if n.handbook_number.as_ref().is_some_and(|h| numbers.contains(h)) {
                decisions.push(Err("handbook_number_taken"));
                continue;
            }
            if let Some(h) = &n.handbook_number {
                numbers.insert(h.clone());
            }
            if f.babies.is_empty() {
                mothers.entry(key).or_default().push((n.mother.birth_date, n.edd));
            }
            decisions.push(Ok(()));
        }
        Batch { families, decisions }
    }

    /// The ids the accepted families need.
    pub fn id_counts(&self) -> IdCounts {
        let mut c = IdCounts::default();
        for f in self.accepted() {
            c.families += 1;
            c.pregnancies += 1;
            c.people += 1 + usize::from(f.notification.partner.is_some()) + f.babies.len();
            c.babies += f.babies.len();
        }
        c
    }

    fn accepted(&self) -> impl Iterator<Item = &'a ImportFamily> + '_ {
        self.families.iter().zip(&self.decisions).filter(|(_, d)| d.is_ok()).map(|(f, _)| f)
    }

    /// Every row of the accepted families, with `ids` (as many as
    /// [`Batch::id_counts`] says), the kinds of contact the municipality
    /// runs, the importing account and the moment of the import; and the
    /// answer for each family of the batch.
    pub fn rows(&self, ids: &ReservedIds, kinds: KindSet, actor: AccountId, at: Timestamp) -> Result<Rows, BulkError> {
        let counts = self.id_counts();
        if ids.families.len() != counts.families
            || ids.people.len() != counts.people
            || ids.pregnancies.len() != counts.pregnancies
            || ids.babies.len() != counts.babies
        {
            return Err(BulkError::IdsShort);
        }
        let today = tsunagu_domain::clock::japan_date(at);
        let (mut family_ids, mut person_ids, mut pregnancy_ids, mut baby_ids) =
            (ids.families.iter(), ids.people.iter(), ids.pregnancies.iter(), ids.babies.iter());
        let mut rows = Rows::default();
        for (f, decision) in self.families.iter().zip(&self.decisions) {
            if let Err(code) = decision {
                rows.answers.push(Err(*code));
                continue;
            }
            let (Some(&family), Some(&pregnancy)) = (family_ids.next(), pregnancy_ids.next()) else {
                return Err(BulkError::IdsShort);
            };
            let (family, pregnancy) = (FamilyId(family), PregnancyId(pregnancy));
            let n = &f.notification;
            rows.families.push(FamilyRow { id: family, notification: n.clone() });
            let mut person = || person_ids.next().copied().map(PersonId).ok_or(BulkError::IdsShort);
            rows.people.push(person_row(person()?, family, Relation::Mother, n, None));
            if n.partner.is_some() {
                rows.people.push(person_row(person()?, family, Relation::Partner, n, None));
            }
            let mut babies = Vec::with_capacity(f.babies.len());
            for b in &f.babies {
                let person_id = person()?;
                let id = baby_ids.next().copied().map(BabyId).ok_or(BulkError::IdsShort)?;
                rows.people.push(person_row(person_id, family, Relation::Child, n, Some(b)));
                babies.push(Baby {
                    id,
                    pregnancy_id: pregnancy,
                    person_id,
                    birth_date: b.birth_date,
                    sex: b.sex,
                    gestational_weeks: b.gestational_weeks,
                    gestational_days: b.gestational_days,
                    birth_weight_g: b.birth_weight_g,
                    long_hospitalisation: b.long_hospitalisation,
                });
            }
            let p = Pregnancy {
                id: pregnancy,
                family_id: family,
                notified_on: n.notified_on,
                edd: n.edd,
                foetuses: n.foetuses,
                first_child: n.first_child,
                status: if babies.is_empty() { PregnancyStatus::Ongoing } else { PregnancyStatus::Delivered },
                handbook_number: n.handbook_number.clone(),
                ended_on: None,
            };
            // `sync_pregnancy` over no stored contacts: every change is a creation.
            let facts = TimelineFacts::from_records(&p, &babies, kinds).map_err(|_| BulkError::Facts)?;
            for change in reconcile(&[], &facts) {
                let ContactChange::Create(o) = change else { continue };
                let awaits = awaits_work(o.kind, None, o.ending.as_ref());
                let staff_owed = o.kind.nature() == Nature::Contact;
                let mut c = ContactRow {
                    family_id: family,
                    area_id: n.area_id,
                    pregnancy_id: pregnancy,
                    kind: o.kind,
                    subject_kind: o.subject.kind_str(),
                    subject_id: o.subject.id(),
                    owner_role: o.owner.as_str(),
                    staff_owed,
                    opens: o.window.opens(),
                    due: o.window.due(),
                    closes: o.window.closes(),
                    ending: o.ending.map(|e| e.reason.as_str()),
                    hidden: o.ending.is_some_and(|e| e.hidden),
                    awaits,
                    missed_on: missed_on(awaits, o.window.closes(), today),
                    settled: None,
                };
                // `settle_through`: done, in the kind's first form, by the
                // importing account, when staff owed it by `through`.
                if let Some(through) = f.settled_through {
                    if c.awaits && c.staff_owed && c.due <= through {
                        if let Some(form) = o.kind.forms().first() {
                            c.settled = Some(Settled { form: form.as_str(), by: actor });
                            c.awaits = false;
                            c.missed_on = None;
                        }
                    }
                }
                rows.contacts.push(c);
            }
            rows.pregnancies.push(PregnancyRow { id: pregnancy, family_id: family, pregnancy: p });
            for b in babies {
                rows.babies.push(BabyRow { family_id: family, baby: b });
            }
            rows.answers.push(Ok(family));
        }
        Ok(rows)
    }
}

fn person_row(
    id: PersonId,
    family: FamilyId,
    relation: Relation,
    n: &Notification,
    baby: Option<&tsunagu_domain::records::NewBaby>,
) -> PersonRow {
    match (relation, baby) {
        (Relation::Child, Some(b)) => {
            // As `insert_babies`: the mother's family name, the baby's given name.
            let family_kana = n.mother.family_name_kana.as_str().to_owned();
            let given_kana = b.given_name_kana.as_ref().map(|k| k.as_str().to_owned()).unwrap_or_default();
            let given_key = tsunagu_domain::kana::search_key(&given_kana);
            PersonRow {
                id,
                family_id: family,
                relation,
                family_name: n.mother.family_name.clone(),
                given_name: b.given_name.clone(),
                kana_key: format!("{}{given_key}", tsunagu_domain::kana::search_key(&family_kana)),
                family_name_kana: family_kana,
                given_name_kana: given_kana,
                given_kana_key: given_key,
                birth_date: Some(b.birth_date),
            }
        }
        _ => {
            let p = match relation {
                Relation::Partner => n.partner.as_ref().unwrap_or(&n.mother),
                _ => &n.mother,
            };
            PersonRow {
                id,
                family_id: family,
                relation,
                family_name: p.family_name.clone(),
                given_name: p.given_name.clone(),
                family_name_kana: p.family_name_kana.as_str().to_owned(),
                given_name_kana: p.given_name_kana.as_str().to_owned(),
                kana_key: p.search_key(),
                given_kana_key: p.given_name_kana.search_key(),
                birth_date: p.birth_date,
            }
        }
    }
}

/// Why rows could not be built (a bug of the caller, or a stored fact
/// the timeline refuses): the whole batch is undone.
#[derive(Debug, thiserror::Error)]
pub enum BulkError {
    #[error("fewer ids reserved than the batch needs")]
    IdsShort,
    #[error("the timeline refuses the pregnancy's facts")]
    Facts,
}

/// Every row of a batch's accepted families, table by table, in the order
/// the one-by-one path would write them; `answers` has one slot per family.
#[derive(Debug, Default)]
pub struct Rows {
    pub families: Vec<FamilyRow>,
    pub people: Vec<PersonRow>,
    pub pregnancies: Vec<PregnancyRow>,
    pub babies: Vec<BabyRow>,
    pub contacts: Vec<ContactRow>,
    pub answers: Vec<Result<FamilyId, &'static str>>,
}

#[derive(Debug)]
pub struct FamilyRow {
    pub id: FamilyId,
    pub notification: Notification,
}

#[derive(Debug)]
pub struct PersonRow {
    pub id: PersonId,
    pub family_id: FamilyId,
    pub relation: Relation,
    pub family_name: String,
    pub given_name: String,
    pub family_name_kana: String,
    pub given_name_kana: String,
    pub kana_key: String,
    pub given_kana_key: String,
    pub birth_date: Option<Date>,
}

#[derive(Debug)]
pub struct PregnancyRow {
    pub id: PregnancyId,
    pub family_id: FamilyId,
    /// Its status is `delivered` when the family came with its babies.
    pub pregnancy: Pregnancy,
}

#[derive(Debug)]
pub struct BabyRow {
    pub family_id: FamilyId,
    pub baby: Baby,
}

/// A contact of the timeline as `sync_pregnancy` creates it (created and
/// updated at the import's moment), settled when the import's history says.
#[derive(Debug)]
pub struct ContactRow {
    pub family_id: FamilyId,
    pub area_id: AreaId,
    pub pregnancy_id: PregnancyId,
    pub kind: ContactKind,
    pub subject_kind: &'static str,
    pub subject_id: i64,
    pub owner_role: &'static str,
    pub staff_owed: bool,
    pub opens: Date,
    pub due: Date,
    pub closes: Date,
    pub ending: Option<&'static str>,
    pub hidden: bool,
    pub awaits: bool,
    pub missed_on: Option<Date>,
    /// Recorded done by the import (`outcome = 'done'`, note `import`).
    pub settled: Option<Settled>,
}

#[derive(Debug, Clone, Copy)]
pub struct Settled {
    pub form: &'static str,
    pub by: AccountId,
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use tsunagu_domain::records::{NewBaby, NotificationInput, PersonInput, Sex};

    fn family(given_kana: &str, edd: &str, handbook: Option<&str>, born: bool) -> ImportFamily {
        let input = NotificationInput {
            area_id: 1,
            fee_bracket: "taxed".into(),
            edd: edd.into(),
            foetuses: 1,
            handbook_number: handbook.map(Into::into),
            notified_on: born.then(|| "2026-06-01".to_owned()),
            mother: PersonInput {
                family_name: "山田".into(),
                given_name: "花子".into(),
                family_name_kana: "ヤマダ".into(),
                given_name_kana: given_kana.into(),
                birth_date: None,
            },
            ..NotificationInput::default()
        };
        let babies = if born {
            vec![NewBaby {
                birth_date: date(2026, 11, 20),
                sex: Sex::Female,
                given_name: String::new(),
                given_name_kana: None,
                gestational_weeks: 39,
                gestational_days: 0,
                birth_weight_g: None,
                long_hospitalisation: false,
            }]
        } else {
            vec![]
        };
        ImportFamily { notification: input.check(date(2026, 11, 22)).unwrap(), babies, settled_through: None }
    }

    #[test]
    fn the_duplicate_lookup_reads_by_kana_key_and_birth_date() {
        let mut known = family("ア", "2027-05-01", None, false);
        known.notification.mother.birth_date = Some(date(1990, 1, 1));
        let unknown = family("イ", "2027-05-01", None, false);
        let l = Batch::mother_lookups(&[known.clone(), unknown.clone(), known.clone()]);
        let (a, i) = (known.notification.mother.search_key(), unknown.notification.mother.search_key());
        assert_eq!((l.born_keys, l.born_dates), (vec![a.clone()], vec!["1990-01-01".to_owned()]), "each pair once");
        assert_eq!(l.keys, [a, i.clone()], "every key, for mothers on record with no birth date");
        assert_eq!(l.any_birth, [i], "a mother of unknown birth date can be any of her name");
    }

    #[test]
    fn a_batch_is_decided_as_the_one_by_one_path_decides() {
        let on_record = OnRecord {
            mothers: vec![MotherOnRecord {
                kana_key: family("ア", "2027-05-01", None, false).notification.mother.search_key(),
                birth_date: None,
                edd: date(2027, 5, 1),
            }],
            handbook_numbers: ["H-0".to_owned()].into_iter().collect(),
        };
        let families = [
            family("ア", "2027-05-20", None, false), // 19 days from one on record: the same pregnancy
            family("ア", "2027-06-01", None, false), // 31 days: another
            family("イ", "2027-05-01", Some("H-0"), false), // a number on record
            family("ウ", "2027-05-01", Some("H-1"), false),
            family("ウ", "2027-05-03", None, false), // the same as one earlier in the batch
            family("エ", "2027-05-01", Some("H-1"), false), // a number taken earlier in the batch
            family("オ", "2026-12-01", None, true),  // born: no longer ongoing …
            family("オ", "2026-12-02", None, false), // … so this one is not a duplicate of it
            family("イ", "2027-05-01", Some("H-0"), false), // refused twice: still refused
        ];
        let batch = Batch::check(&families, &on_record);
        assert_eq!(
            batch.decisions,
            [
                Err("duplicate_notification"),
                Ok(()),
                Err("handbook_number_taken"),
                Ok(()),
                Err("duplicate_notification"),
                Err("handbook_number_taken"),
                Ok(()),
                Ok(()),
                Err("handbook_number_taken"),
            ]
        );
        let counts = batch.id_counts();
        assert_eq!(counts, IdCounts { families: 4, people: 5, pregnancies: 4, babies: 1 });
        let ids = ReservedIds::after([10, 20, 30, 40], counts);
        assert_eq!((ids.families.clone(), ids.babies.clone()), (vec![11, 12, 13, 14], vec![41]));
        let rows = batch.rows(&ids, KindSet::ALL, AccountId(1), "2026-11-22T00:00:00Z".parse().unwrap()).unwrap();
        assert_eq!(rows.answers.iter().filter(|a| a.is_ok()).count(), 4);
        assert_eq!(rows.answers[1], Ok(FamilyId(11)));
        // The baby is a child of the family, named after its mother, the subject of its contacts.
        let baby = &rows.babies[0].baby;
        assert_eq!((baby.id, baby.person_id, rows.babies[0].family_id), (BabyId(41), PersonId(24), FamilyId(13)));
        assert!(rows.contacts.iter().any(|c| c.subject_kind == "baby" && c.subject_id == 41));
        assert!(rows.contacts.iter().all(|c| c.opens <= c.due && c.due <= c.closes));
        assert_eq!(rows.pregnancies[2].pregnancy.status, PregnancyStatus::Delivered);
        // Fewer ids than the batch needs: refused, nothing half-built.
        let short = ReservedIds::after([0; 4], IdCounts { babies: 0, ..counts });
        assert!(matches!(
            batch.rows(&short, KindSet::ALL, AccountId(1), "2026-11-22T00:00:00Z".parse().unwrap()),
            Err(BulkError::IdsShort)
        ));
    }
}
