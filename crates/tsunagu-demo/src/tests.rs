//! `load` end to end against a small in-memory [`Store`] that keeps the
//! contract's rules that matter here (duplicates, handbook numbers, area
//! references, pregnancy status).

use super::*;
use async_trait::async_trait;
use std::collections::HashSet;
use std::sync::Mutex;
use tsunagu_domain::audit::{AuditAction, AuditLine};
use tsunagu_domain::kana::Kana;
use tsunagu_domain::password::check_new_password;
use tsunagu_domain::places::{Area, Municipality, Venue};
use tsunagu_domain::policy::{FamilyAccess, FamilyFilter};
use tsunagu_domain::records::{
    is_duplicate_notification, Baby, Family, FamilyRecord, FamilySummary, NewBaby, NewPerson, Notification, Person,
    Pregnancy, Relation,
};
use tsunagu_domain::{BabyId, PersonId, PregnancyId};
use tsunagu_store::{Account, AuditQuery, Session, SigninAttempt};

#[derive(Default)]
struct State {
    municipalities: Vec<Municipality>,
    areas: Vec<Area>,
    venues: Vec<Venue>,
    accounts: Vec<Account>,
    records: Vec<FamilyRecord>,
    /// (municipality, search key, birth date, edd) of every pregnancy.
    keys: Vec<(MunicipalityId, String, Option<Date>, Date)>,
    handbooks: HashSet<(MunicipalityId, String)>,
    audit_lines: usize,
    next_id: i64,
    /// Refuse every n-th registration as a duplicate (to exercise the retry).
    refuse_every: Option<usize>,
    registrations: usize,
    refused: usize,
}

impl State {
    fn id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }
}

#[derive(Default)]
struct MemStore(Mutex<State>);

impl MemStore {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap()
    }
}

fn unsupported<T>() -> tsunagu_store::Result<T> {
    Err(StoreError::Conflict("not_supported_by_test_store"))
}

fn person(family_id: FamilyId, id: i64, relation: Relation, p: &NewPerson) -> Person {
    Person {
        id: PersonId(id),
        family_id,
        relation,
        family_name: p.family_name.clone(),
        given_name: p.given_name.clone(),
        family_name_kana: p.family_name_kana.as_str().to_owned(),
        given_name_kana: p.given_name_kana.as_str().to_owned(),
        birth_date: p.birth_date,
    }
}

#[async_trait]
impl Store for MemStore {
    fn backend(&self) -> &'static str {
        "memory"
    }
    async fn migrate(&self) -> tsunagu_store::Result<()> {
        Ok(())
    }
    async fn ping(&self) -> tsunagu_store::Result<()> {
        Ok(())
    }
    async fn create_municipality(
        &self,
        code: MunicipalityCode,
        name_ja: &str,
        name_en: &str,
    ) -> tsunagu_store::Result<Municipality> {
        let mut s = self.state();
        if s.municipalities.iter().any(|m| m.code == code) {
            return Err(StoreError::Conflict("municipality_exists"));
        }
        let m = Municipality { id: MunicipalityId(s.id()), code, name_ja: name_ja.into(), name_en: name_en.into() };
        s.municipalities.push(m.clone());
        Ok(m)
    }
    async fn municipality(&self, id: MunicipalityId) -> tsunagu_store::Result<Option<Municipality>> {
        Ok(self.state().municipalities.iter().find(|m| m.id == id).cloned())
    }
    async fn municipality_by_code(&self, code: MunicipalityCode) -> tsunagu_store::Result<Option<Municipality>> {
        Ok(self.state().municipalities.iter().find(|m| m.code == code).cloned())
    }
    async fn municipalities(&self) -> tsunagu_store::Result<Vec<Municipality>> {
        Ok(self.state().municipalities.clone())
    }
    async fn create_area(&self, m: MunicipalityId, name_ja: &str, name_en: &str) -> tsunagu_store::Result<Area> {
        let mut s = self.state();
        let a = Area { id: AreaId(s.id()), municipality_id: m, name_ja: name_ja.into(), name_en: name_en.into() };
        s.areas.push(a.clone());
        Ok(a)
    }
    async fn areas(&self, m: MunicipalityId) -> tsunagu_store::Result<Vec<Area>> {
        Ok(self.state().areas.iter().filter(|a| a.municipality_id == m).cloned().collect())
    }
    async fn create_venue(&self, v: &NewVenue) -> tsunagu_store::Result<Venue> {
        let mut s = self.state();
        if let Some(a) = v.area_id {
            if !s.areas.iter().any(|x| x.id == a && x.municipality_id == v.municipality_id) {
                return Err(StoreError::InvalidReference("area_id"));
            }
        }
        let venue = Venue {
            id: VenueId(s.id()),
            municipality_id: v.municipality_id,
            area_id: v.area_id,
            kind: v.kind,
            name_ja: v.name_ja.clone(),
            name_en: v.name_en.clone(),
        };
        s.venues.push(venue.clone());
        Ok(venue)
    }
    async fn venues(&self, m: MunicipalityId) -> tsunagu_store::Result<Vec<Venue>> {
        Ok(self.state().venues.iter().filter(|v| v.municipality_id == m).cloned().collect())
    }
    async fn create_account(&self, _ctx: Option<&AuditContext>, a: &NewAccount) -> tsunagu_store::Result<Account> {
        let mut s = self.state();
        if s.accounts.iter().any(|x| x.municipality_id == a.municipality_id && x.username == a.username) {
            return Err(StoreError::Conflict("username_taken"));
        }
        let account = Account {
            id: AccountId(s.id()),
            municipality_id: a.municipality_id,
            username: a.username.clone(),
            display_name: a.display_name.clone(),
            role: a.role,
            password_hash: a.password_hash.clone(),
            totp_secret: a.totp_secret.clone(),
            totp_last_step: 0,
            disabled: false,
            family_id: a.family_id,
            areas: a.areas.clone(),
            venues: a.venues.clone(),
            rooms: a.rooms.clone(),
            created_at: Timestamp::UNIX_EPOCH,
        };
        s.accounts.push(account.clone());
        Ok(account)
    }
    async fn account(&self, id: AccountId) -> tsunagu_store::Result<Option<Account>> {
        Ok(self.state().accounts.iter().find(|a| a.id == id).cloned())
    }
    async fn account_by_username(&self, m: MunicipalityId, username: &str) -> tsunagu_store::Result<Option<Account>> {
        Ok(self.state().accounts.iter().find(|a| a.municipality_id == m && a.username == username).cloned())
    }
    async fn accounts(&self, m: MunicipalityId) -> tsunagu_store::Result<Vec<Account>> {
        Ok(self.state().accounts.iter().filter(|a| a.municipality_id == m).cloned().collect())
    }
    async fn set_password(&self, _: Option<&AuditContext>, _: AccountId, _: &Secret) -> tsunagu_store::Result<()> {
        unsupported()
    }
    async fn set_totp_secret(
        &self,
        _: Option<&AuditContext>,
        _: AccountId,
        _: Option<&Secret>,
    ) -> tsunagu_store::Result<()> {
        unsupported()
    }
    async fn use_totp_step(&self, _: AccountId, _: i64) -> tsunagu_store::Result<bool> {
        unsupported()
    }
    async fn set_disabled(&self, _: &AuditContext, _: AccountId, _: bool) -> tsunagu_store::Result<()> {
        unsupported()
    }
    async fn create_session(&self, _: &Session) -> tsunagu_store::Result<()> {
        unsupported()
    }
    async fn session(&self, _: &str) -> tsunagu_store::Result<Option<Session>> {
        unsupported()
    }
    async fn touch_session(&self, _: &str, _: Timestamp) -> tsunagu_store::Result<()> {
        unsupported()
    }
    async fn delete_session(&self, _: &str) -> tsunagu_store::Result<()> {
        unsupported()
    }
    async fn delete_sessions_of(&self, _: AccountId) -> tsunagu_store::Result<()> {
        unsupported()
    }
    async fn record_signin_attempt(&self, _: &SigninAttempt) -> tsunagu_store::Result<()> {
        unsupported()
    }
    async fn failed_signins_for_user(&self, _: &str, _: &str, _: Timestamp) -> tsunagu_store::Result<i64> {
        unsupported()
    }
    async fn failed_signins_from(&self, _: &str, _: Timestamp) -> tsunagu_store::Result<i64> {
        unsupported()
    }
    async fn register_notification(&self, ctx: &AuditContext, n: &Notification) -> tsunagu_store::Result<FamilyId> {
        let mut s = self.state();
        let m = ctx.municipality_id;
        if !s.areas.iter().any(|a| a.id == n.area_id && a.municipality_id == m) {
            return Err(StoreError::InvalidReference("area_id"));
        }
        let key = n.mother.search_key();
        s.registrations += 1;
        if s.refuse_every.is_some_and(|k| s.registrations % k == 0) {
            s.refused += 1;
            return Err(StoreError::Conflict("duplicate_notification"));
        }
        if s.keys.iter().any(|(km, k, b, e)| *km == m && is_duplicate_notification(k, *b, *e, n)) {
            return Err(StoreError::Conflict("duplicate_notification"));
        }
        if let Some(h) = &n.handbook_number {
            if !s.handbooks.insert((m, h.clone())) {
                return Err(StoreError::Conflict("handbook_number_taken"));
            }
        }
        s.keys.push((m, key, n.mother.birth_date, n.edd));
        let family_id = FamilyId(s.id());
        let mut people = vec![person(family_id, s.id(), Relation::Mother, &n.mother)];
        if let Some(p) = &n.partner {
            people.push(person(family_id, s.id(), Relation::Partner, p));
        }
        let pregnancy = Pregnancy {
            id: PregnancyId(s.id()),
            family_id,
            notified_on: n.notified_on,
            edd: n.edd,
            foetuses: n.foetuses,
            first_child: n.first_child,
            status: PregnancyStatus::Ongoing,
            handbook_number: n.handbook_number.clone(),
        };
        s.records.push(FamilyRecord {
            family: Family {
                id: family_id,
                municipality_id: m,
                area_id: n.area_id,
                fee_bracket: n.fee_bracket,
                consent_coordinators: n.consent_coordinators,
                consent_hubs: n.consent_hubs,
                escalated: false,
            },
            people,
            pregnancies: vec![pregnancy],
            babies: Vec::new(),
        });
        s.audit_lines += 1;
        Ok(family_id)
    }
    async fn family_access(&self, _: MunicipalityId, _: FamilyId) -> tsunagu_store::Result<Option<FamilyAccess>> {
        unsupported()
    }
    async fn open_family(&self, ctx: &AuditContext, id: FamilyId) -> tsunagu_store::Result<Option<FamilyRecord>> {
        let mut s = self.state();
        s.audit_lines += 1;
        Ok(s.records.iter().find(|r| r.family.id == id && r.family.municipality_id == ctx.municipality_id).cloned())
    }
    async fn search_families(
        &self,
        _: &AuditContext,
        _: &FamilyFilter,
        _: &str,
        _: u32,
    ) -> tsunagu_store::Result<Vec<FamilySummary>> {
        unsupported()
    }
    async fn record_birth(
        &self,
        ctx: &AuditContext,
        family: FamilyId,
        pregnancy: PregnancyId,
        babies: &[NewBaby],
    ) -> tsunagu_store::Result<Vec<BabyId>> {
        let mut s = self.state();
        let ids: Vec<(i64, i64)> = babies.iter().map(|_| (s.id(), s.id())).collect();
        let record = s
            .records
            .iter_mut()
            .find(|r| r.family.id == family && r.family.municipality_id == ctx.municipality_id)
            .ok_or(StoreError::NotFound)?;
        let family_name =
            record.people.first().map(|p| (p.family_name.clone(), p.family_name_kana.clone())).unwrap_or_default();
        let p = record.pregnancies.iter_mut().find(|p| p.id == pregnancy).ok_or(StoreError::NotFound)?;
        if p.status != PregnancyStatus::Ongoing {
            return Err(StoreError::Conflict("pregnancy_not_ongoing"));
        }
        p.status = PregnancyStatus::Delivered;
        let mut out = Vec::new();
        for (b, (person_id, baby_id)) in babies.iter().zip(ids) {
            record.people.push(Person {
                id: PersonId(person_id),
                family_id: family,
                relation: Relation::Child,
                family_name: family_name.0.clone(),
                given_name: b.given_name.clone(),
                family_name_kana: family_name.1.clone(),
                given_name_kana: b.given_name_kana.as_ref().map(|k| k.as_str().to_owned()).unwrap_or_default(),
                birth_date: Some(b.birth_date),
            });
            record.babies.push(Baby {
                id: BabyId(baby_id),
                pregnancy_id: pregnancy,
                person_id: PersonId(person_id),
                birth_date: b.birth_date,
                sex: b.sex,
                gestational_weeks: b.gestational_weeks,
                gestational_days: b.gestational_days,
                birth_weight_g: b.birth_weight_g,
                long_hospitalisation: b.long_hospitalisation,
            });
            out.push(BabyId(baby_id));
        }
        s.audit_lines += 1;
        Ok(out)
    }
    async fn write_audit(
        &self,
        _: &AuditContext,
        _: AuditAction,
        _: Option<FamilyId>,
        _: &str,
    ) -> tsunagu_store::Result<()> {
        unsupported()
    }
    async fn search_audit(&self, _: MunicipalityId, _: &AuditQuery) -> tsunagu_store::Result<Vec<AuditLine>> {
        unsupported()
    }
    async fn audit_lines(&self, _: MunicipalityId, _: i64, _: u32) -> tsunagu_store::Result<Vec<AuditLine>> {
        unsupported()
    }
    async fn audit_head(&self, _: MunicipalityId) -> tsunagu_store::Result<Option<(i64, String)>> {
        unsupported()
    }
}

fn opts(families: usize, seed: u64) -> DemoOptions {
    let now: Timestamp = "2026-11-22T01:00:00Z".parse().unwrap();
    DemoOptions { seed, families_per_municipality: families, ..DemoOptions::at(now) }
}

fn fake_hash(p: &str) -> Secret {
    Secret::new(format!("hashed:{p}"))
}

#[test]
fn demo_accounts_are_complete_and_valid() {
    let accounts = demo_accounts();
    assert_eq!(accounts.len(), 21);
    for code in ["131121", "082350"] {
        let here: Vec<&DemoAccount> = accounts.iter().filter(|a| a.municipality_code == code).collect();
        for role in Role::ALL {
            assert!(here.iter().any(|a| a.role == role), "{code} has no {role:?}");
        }
        for name in [
            "nurse",
            "coordinator",
            "facility",
            "programme",
            "supporter",
            "caseworker",
            "admin",
            "analyst",
            "mother",
            "partner",
        ] {
            assert!(here.iter().any(|a| a.username == name), "{code} has no {name}");
        }
    }
    assert!(accounts
        .iter()
        .any(|a| a.municipality_code == "131121" && a.username == "nurse2" && a.role == Role::Nurse));
    let mut secrets = HashSet::new();
    for a in &accounts {
        check_new_password(a.password).unwrap_or_else(|e| panic!("{}: {e}", a.username));
        assert_eq!(a.totp_secret.is_some(), a.role.is_staff(), "{}", a.username);
        if let Some(s) = a.totp_secret {
            assert_eq!(s.len(), 32);
            assert!(s.chars().all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c)), "{s}");
            secrets.insert((a.username.clone(), s));
        }
    }
    // Distinct per role (the same role shares its secret across the two cities).
    let distinct: HashSet<&str> = secrets.iter().map(|s| s.1).collect();
    assert_eq!(distinct.len(), secrets.iter().map(|s| &s.0).collect::<HashSet<_>>().len());
}

#[test]
fn place_and_demo_names_are_well_formed() {
    for m in spec::ALL {
        assert!(MunicipalityCode::parse(m.code).is_ok());
        for f in [m.demo_family.mother, m.demo_family.partner] {
            assert!(Kana::parse(f.0 .1).is_ok() && Kana::parse(f.1 .1).is_ok());
        }
    }
    assert_eq!(
        spec::SETAGAYA.venues.iter().filter(|v| v.kind == tsunagu_domain::places::VenueKind::ChildrensHall).count(),
        25
    );
    assert_eq!(
        spec::TSUKUBAMIRAI.venues.iter().filter(|v| v.kind == tsunagu_domain::places::VenueKind::SupportRoom).count(),
        6
    );
}

#[tokio::test]
async fn loads_both_cities_once() {
    let store = MemStore::default();
    let summary = load(&store, &opts(50, 7), &fake_hash).await.unwrap();
    assert_eq!(summary.municipalities, 2);
    assert_eq!(summary.families, 100);
    assert!(!summary.already_loaded);
    assert_eq!(summary.accounts, demo_accounts());
    {
        let s = store.state();
        assert_eq!(s.records.len(), 100);
        let babies: usize = s.records.iter().map(|r| r.babies.len()).sum();
        assert_eq!(babies, summary.babies);
        assert_eq!(s.accounts.len(), 21);
        assert_eq!(s.areas.len(), 11);
        for m in &s.municipalities {
            let recs: Vec<&FamilyRecord> = s.records.iter().filter(|r| r.family.municipality_id == m.id).collect();
            assert_eq!(recs.len(), 50);
            let born_with =
                |n: usize| recs.iter().any(|r| r.babies.len() == n && r.pregnancies[0].foetuses as usize == n);
            assert!(born_with(2) && born_with(3), "{} lacks twins or triplets", m.code);
            assert!(recs.iter().any(|r| r.babies.is_empty()), "nobody pregnant");
            // every area has families
            for a in s.areas.iter().filter(|a| a.municipality_id == m.id) {
                assert!(recs.iter().any(|r| r.family.area_id == a.id), "{} empty", a.name_en);
            }
            // family accounts point at the demo family, which has the fixed names
            let mother = s.accounts.iter().find(|a| a.municipality_id == m.id && a.username == "mother").unwrap();
            let family = mother.family_id.unwrap();
            let partner = s.accounts.iter().find(|a| a.municipality_id == m.id && a.username == "partner").unwrap();
            assert_eq!(partner.family_id, Some(family));
            let rec = recs.iter().find(|r| r.family.id == family).unwrap();
            assert_eq!(rec.mother().unwrap().full_name(), mother.display_name);
            // scopes
            for a in s.accounts.iter().filter(|a| a.municipality_id == m.id) {
                assert_eq!(
                    a.password_hash.expose(),
                    format!("hashed:{}", summary.accounts.iter().find(|d| d.username == a.username).unwrap().password)
                );
                match a.role {
                    Role::Coordinator => assert_eq!(a.areas.len(), 1),
                    Role::FacilityStaff | Role::ProgrammeStaff => assert_eq!(a.venues.len(), 1),
                    Role::FamilyMember => assert!(a.family_id.is_some() && a.totp_secret.is_none()),
                    _ => assert!(a.areas.is_empty() && a.venues.is_empty() && a.rooms.is_empty()),
                }
            }
        }
        let coordinator = s.accounts.iter().find(|a| a.username == "coordinator").unwrap();
        assert_eq!(s.areas.iter().find(|a| a.id == coordinator.areas[0]).unwrap().name_ja, "世田谷");
        let facility = s.accounts.iter().find(|a| a.username == "facility").unwrap();
        assert_eq!(s.venues.iter().find(|v| v.id == facility.venues[0]).unwrap().name_ja, "区立産後ケアセンター");
    }

    let again = load(&store, &opts(50, 7), &fake_hash).await.unwrap();
    assert!(again.already_loaded);
    assert_eq!((again.municipalities, again.families, again.babies), (0, 0, 0));
    assert_eq!(store.state().records.len(), 100);
    assert_eq!(store.state().accounts.len(), 21);
}

/// Everything but ids and hashes, in order.
fn fingerprint(store: &MemStore) -> String {
    let s = store.state();
    s.records
        .iter()
        .map(|r| {
            format!(
                "{:?}|{:?}|{:?}|{:?}",
                (r.family.fee_bracket, r.family.consent_coordinators, r.family.consent_hubs),
                r.people
                    .iter()
                    .map(|p| (&p.family_name, &p.given_name, &p.given_name_kana, p.birth_date))
                    .collect::<Vec<_>>(),
                r.pregnancies
                    .iter()
                    .map(|p| (p.notified_on, p.edd, p.foetuses, &p.handbook_number))
                    .collect::<Vec<_>>(),
                r.babies
                    .iter()
                    .map(|b| (b.birth_date, b.sex, b.gestational_weeks, b.birth_weight_g))
                    .collect::<Vec<_>>(),
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn same_seed_same_data() {
    let (a, b, c) = (MemStore::default(), MemStore::default(), MemStore::default());
    load(&a, &opts(30, 3), &fake_hash).await.unwrap();
    load(&b, &opts(30, 3), &fake_hash).await.unwrap();
    load(&c, &opts(30, 4), &fake_hash).await.unwrap();
    assert_eq!(fingerprint(&a), fingerprint(&b));
    assert_ne!(fingerprint(&a), fingerprint(&c));
}

#[tokio::test]
async fn tiny_and_empty_sizes_still_give_the_demo_family() {
    for n in [0, 1, 3, 10] {
        let store = MemStore::default();
        let summary = load(&store, &opts(n, 1), &fake_hash).await.unwrap();
        assert_eq!(summary.families, 2 * n.max(1));
        assert_eq!(store.state().accounts.len(), 21);
    }
}

#[tokio::test]
async fn duplicates_are_redrawn_and_other_conflicts_surface() {
    let store = MemStore::default();
    store.state().refuse_every = Some(7);
    let summary = load(&store, &opts(200, 11), &fake_hash).await.unwrap();
    assert_eq!(summary.families, 400);
    {
        let s = store.state();
        assert!(s.refused > 50);
        assert_eq!(s.records.len(), 400);
        let handbooks: Vec<_> = s
            .records
            .iter()
            .filter_map(|r| r.pregnancies[0].handbook_number.clone().map(|h| (r.family.municipality_id, h)))
            .collect();
        let unique: HashSet<_> = handbooks.iter().collect();
        assert_eq!(unique.len(), handbooks.len());
        assert!(handbooks.len() > 360);
    }

    // A store that refuses everything: the loader gives up instead of looping.
    let store = MemStore::default();
    store.state().refuse_every = Some(1);
    let err = load(&store, &opts(5, 1), &fake_hash).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict("duplicate_notification")), "{err:?}");
}
