//! `load` end to end against the real embedded back end (an in-memory
//! SQLite database per test), observed through the store's own answers.

use super::*;
use std::collections::HashSet;
use tsunagu_domain::audit::AuditAction;
use tsunagu_domain::kana::Kana;
use tsunagu_domain::password::check_new_password;
use tsunagu_domain::policy::FamilyFilter;
use tsunagu_domain::records::FamilyRecord;
use tsunagu_store::prelude::*;
use tsunagu_store_sqlite::SqliteStore;

/// The keys the test stores are opened with.
fn test_keys() -> tsunagu_store::StoreKeys {
    tsunagu_store::StoreKeys::derive(&tsunagu_domain::keys::MasterKey::from_bytes(&[7; 32]).unwrap())
}

async fn sqlite() -> SqliteStore {
    let store = SqliteStore::connect("sqlite::memory:", test_keys()).await.unwrap();
    store.migrate().await.unwrap();
    store
}

fn opts(families: usize, seed: u64) -> DemoOptions {
    let now: Timestamp = "2026-11-22T01:00:00Z".parse().unwrap();
    DemoOptions { seed, families_per_municipality: families, ..DemoOptions::at(now) }
}

fn fake_hash(p: &str) -> Secret {
    Secret::new(format!("hashed:{p}"))
}

/// The demo nurse's context in municipality `m`, for reading it back.
async fn nurse_ctx(store: &dyn Store, m: MunicipalityId) -> AuditContext {
    let nurse = store.account_by_username(m, "nurse").await.unwrap().unwrap();
    tsunagu_domain::audit::Requester {
        municipality_id: m,
        actor: nurse.id,
        role: Role::Nurse,
        remote_addr: "test".into(),
        reason: "test".into(),
        at: opts(1, 1).now,
    }
    .without_a_policy_decision()
}

/// Every family of the municipality, in the store's search order.
async fn records(store: &dyn Store, ctx: &AuditContext) -> Vec<FamilyRecord> {
    let found =
        store.search_families(ctx, &FamilyFilter::Municipality(ctx.municipality_id), "", 100_000).await.unwrap();
    let mut out = Vec::with_capacity(found.len());
    for f in found {
        out.push(store.open_family(ctx, f.family_id).await.unwrap().unwrap());
    }
    out
}

/// (action, family, actor) of every audit line of the municipality, in chain order.
async fn audit_actions(store: &dyn Store, m: MunicipalityId) -> Vec<(String, Option<FamilyId>, AccountId)> {
    let (mut out, mut after) = (Vec::new(), 0);
    loop {
        let lines = store.audit_lines(m, after, 500).await.unwrap();
        let Some(last) = lines.last() else { break };
        after = last.seq;
        out.extend(lines.into_iter().map(|l| (l.action, l.family_id, l.actor)));
    }
    out
}

fn handbooks(records: &[FamilyRecord]) -> Vec<String> {
    records.iter().flat_map(|r| r.pregnancies.iter().filter_map(|p| p.handbook_number.clone())).collect()
}

#[test]
fn demo_accounts_are_complete_and_valid() {
    let accounts = demo_accounts();
    assert_eq!(accounts.len(), 21);
    for code in ["131121", "082350"] {
        let here: Vec<&DemoAccount> = accounts.iter().filter(|a| a.municipality_code == code).collect();
        // Chat parents join with a nurse's invitation (chat.rs), not from this list.
        for role in Role::ALL.into_iter().filter(|r| *r != Role::ChatParent) {
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
    let store = sqlite().await;
    let summary = load(&store, &opts(50, 7), &fake_hash).await.unwrap();
    assert_eq!(summary.municipalities, 2);
    assert_eq!(summary.families, 100);
    assert!(!summary.already_loaded);
    assert_eq!(summary.accounts, demo_accounts());

    let municipalities = store.municipalities().await.unwrap();
    assert_eq!(municipalities.len(), 2);
    let (mut families, mut babies, mut accounts, mut areas) = (0, 0, 0, 0);
    for m in &municipalities {
        // One audit line per family imported, in the nurse's name, before anyone read them.
        let nurse = store.account_by_username(m.id, "nurse").await.unwrap().unwrap();
        let created = audit_actions(&store, m.id).await;
        let created: Vec<_> = created.iter().filter(|(a, ..)| a == AuditAction::FamilyCreate.as_str()).collect();
        assert_eq!(created.len(), 50, "{}", m.code);
        assert!(created.iter().all(|(_, f, actor)| f.is_some() && *actor == nurse.id));

        let ctx = nurse_ctx(&store, m.id).await;
        let recs = records(&store, &ctx).await;
        assert_eq!(recs.len(), 50, "{}", m.code);
        families += recs.len();
        babies += recs.iter().map(|r| r.babies.len()).sum::<usize>();
        let born_with = |n: usize| recs.iter().any(|r| r.babies.len() == n && r.pregnancies[0].foetuses as usize == n);
        assert!(born_with(2) && born_with(3), "{} lacks twins or triplets", m.code);
        assert!(recs.iter().any(|r| r.babies.is_empty()), "nobody pregnant");
        let handbooks = handbooks(&recs);
        assert_eq!(handbooks.iter().collect::<HashSet<_>>().len(), handbooks.len());

        // every area has families
        let here_areas = store.areas(m.id).await.unwrap();
        areas += here_areas.len();
        for a in &here_areas {
            assert!(recs.iter().any(|r| r.family.area_id == a.id), "{} empty", a.name_en);
        }
        let venues = store.venues(m.id).await.unwrap();

        // family accounts point at the demo family, which has the fixed names
        let here_accounts = store.accounts(m.id).await.unwrap();
        accounts += here_accounts.iter().filter(|a| !a.username.starts_with("chat_")).count();
        let mother = here_accounts.iter().find(|a| a.username == "mother").unwrap();
        let family = mother.family_id.unwrap();
        let partner = here_accounts.iter().find(|a| a.username == "partner").unwrap();
        assert_eq!(partner.family_id, Some(family));
        // the demo's partner is a partner: she sees what the mother shares
        assert_eq!(mother.family_relation, Some(tsunagu_domain::roles::FamilyRelation::Mother));
        assert_eq!(partner.family_relation, Some(tsunagu_domain::roles::FamilyRelation::Partner));
        let rec = recs.iter().find(|r| r.family.id == family).unwrap();
        assert_eq!(rec.mother().unwrap().full_name(), mother.display_name);

        // scopes
        // The chat's demo accounts (chat.rs) are not in the list.
        for a in here_accounts.iter().filter(|a| !a.username.starts_with("chat_")) {
            let demo =
                summary.accounts.iter().find(|d| d.municipality_code == m.code.to_string() && d.username == a.username);
            assert_eq!(a.password_hash.expose(), format!("hashed:{}", demo.unwrap().password));
            match a.role {
                Role::Coordinator => assert_eq!(a.areas.len(), 1),
                Role::FacilityStaff | Role::ProgrammeStaff => assert_eq!(a.venues.len(), 1),
                Role::FamilyMember => assert!(a.family_id.is_some() && a.totp_secret.is_none()),
                _ => assert!(a.areas.is_empty() && a.venues.is_empty() && a.rooms.is_empty()),
            }
            assert!(a.areas.iter().all(|id| here_areas.iter().any(|x| x.id == *id)));
            assert!(a.venues.iter().all(|id| venues.iter().any(|x| x.id == *id)));
        }
        if m.code.to_string() == "131121" {
            let coordinator = here_accounts.iter().find(|a| a.username == "coordinator").unwrap();
            assert_eq!(here_areas.iter().find(|a| a.id == coordinator.areas[0]).unwrap().name_ja, "世田谷");
            let facility = here_accounts.iter().find(|a| a.username == "facility").unwrap();
            assert_eq!(venues.iter().find(|v| v.id == facility.venues[0]).unwrap().name_ja, "区立産後ケアセンター");
        }
    }
    assert_eq!((families, babies, accounts, areas), (100, summary.babies, 21, 11));

    let again = load(&store, &opts(50, 7), &fake_hash).await.unwrap();
    assert!(again.already_loaded);
    assert_eq!((again.municipalities, again.families, again.babies), (0, 0, 0));
    assert_eq!(store.municipalities().await.unwrap().len(), 2);
    for m in &municipalities {
        let ctx = nurse_ctx(&store, m.id).await;
        let found = store.search_families(&ctx, &FamilyFilter::Municipality(m.id), "", 1000).await.unwrap();
        assert_eq!(found.len(), 50);
        let created = audit_actions(&store, m.id).await;
        assert_eq!(created.iter().filter(|(a, ..)| a == AuditAction::FamilyCreate.as_str()).count(), 50);
    }
    let mut accounts = 0;
    for m in &municipalities {
        accounts += store.accounts(m.id).await.unwrap().iter().filter(|a| !a.username.starts_with("chat_")).count();
    }
    assert_eq!(accounts, 21);
}

/// Everything but ids and hashes, in the store's order.
async fn fingerprint(store: &dyn Store) -> String {
    let mut out = Vec::new();
    for m in store.municipalities().await.unwrap() {
        let areas = store.areas(m.id).await.unwrap();
        let ctx = nurse_ctx(store, m.id).await;
        for r in records(store, &ctx).await {
            let area = areas.iter().find(|a| a.id == r.family.area_id).map(|a| a.name_en.clone());
            out.push(format!(
                "{}|{:?}|{:?}|{:?}|{:?}|{:?}",
                m.code,
                area,
                (r.family.fee_bracket, r.family.consent_coordinators, r.family.consent_hubs),
                r.people
                    .iter()
                    .map(|p| (p.relation, &p.family_name, &p.given_name, &p.given_name_kana, p.birth_date))
                    .collect::<Vec<_>>(),
                r.pregnancies
                    .iter()
                    .map(|p| (p.notified_on, p.edd, p.foetuses, p.status, &p.handbook_number))
                    .collect::<Vec<_>>(),
                r.babies
                    .iter()
                    .map(|b| (b.birth_date, b.sex, b.gestational_weeks, b.gestational_days, b.birth_weight_g))
                    .collect::<Vec<_>>(),
            ));
        }
    }
    out.join("\n")
}

#[tokio::test]
async fn same_seed_same_data() {
    let (a, b, c) = (sqlite().await, sqlite().await, sqlite().await);
    load(&a, &opts(30, 3), &fake_hash).await.unwrap();
    load(&b, &opts(30, 3), &fake_hash).await.unwrap();
    load(&c, &opts(30, 4), &fake_hash).await.unwrap();
    let (fa, fb, fc) = (fingerprint(&a).await, fingerprint(&b).await, fingerprint(&c).await);
    assert_eq!(fa.lines().count(), 60);
    assert_eq!(fa, fb);
    assert_ne!(fa, fc);
}

#[tokio::test]
async fn the_batch_size_does_not_change_the_data() {
    let o = opts(30, 8);
    let mut prints = Vec::new();
    for batch in [1, 4, BATCH] {
        let store = sqlite().await;
        let m = &spec::SETAGAYA;
        let (ctx, places) = set_up_municipality(&store, &o, &fake_hash, m, parse_code(m.code).unwrap()).await.unwrap();
        let loaded = load_families(&store, &ctx, &o, m, &places, batch, &progress::Board::new()).await.unwrap();
        assert_eq!(loaded.families, 30);
        prints.push(fingerprint(&store).await);
    }
    assert_eq!(prints[0], prints[1]);
    assert_eq!(prints[0], prints[2]);
}

#[tokio::test]
async fn tiny_and_empty_sizes_still_give_the_demo_family() {
    for n in [0, 1, 3, 10] {
        let store = sqlite().await;
        let summary = load(&store, &opts(n, 1), &fake_hash).await.unwrap();
        assert_eq!(summary.families, 2 * n.max(1));
        let mut accounts = 0;
        for m in store.municipalities().await.unwrap() {
            let here = store.accounts(m.id).await.unwrap();
            accounts += here.iter().filter(|a| !a.username.starts_with("chat_")).count();
            let ctx = nurse_ctx(&store, m.id).await;
            let found = store.search_families(&ctx, &FamilyFilter::Municipality(m.id), "", 1000).await.unwrap();
            assert_eq!(found.len(), n.max(1), "{n} in {}", m.code);
            let mother = here.iter().find(|a| a.username == "mother").unwrap();
            assert!(found.iter().any(|f| Some(f.family_id) == mother.family_id));
        }
        assert_eq!(accounts, 21);
    }
}

/// The notification the loader plans for the `index`-th family of `m` at
/// its `attempt`-th draw, computed the way `load_families` does.
fn planned(o: &DemoOptions, m: &MunicipalitySpec, places: &Places, index: u64, attempt: u32) -> Notification {
    let total = o.families_per_municipality.max(1) as u64;
    let shape = shape_at(index, multiples_at(o.seed, m.series, total), m);
    let mut rng = Rng::derive(o.seed, m.series, index);
    let area = match shape {
        Shape::Demo(d) => places.areas[d.area].0,
        _ => pick_area(&mut rng, &area_weights(places, m), index),
    };
    let mut plan = None;
    for a in 0..=attempt {
        plan = Some(family_plan(&mut rng, o.today, area, &shape, handbook_serial(index, a, total)));
    }
    let plan = plan.unwrap();
    plan.notification.check(plan.check_day).unwrap()
}

#[tokio::test]
async fn duplicates_are_redrawn() {
    let store = sqlite().await;
    let o = opts(40, 11);
    let m = &spec::SETAGAYA;
    let (ctx, places) = set_up_municipality(&store, &o, &fake_hash, m, parse_code(m.code).unwrap()).await.unwrap();
    // The demo family, one in the first batch of 7 and one in a later batch
    // are on record already, exactly as the loader will draw them.
    let mut taken = Vec::new();
    for index in [0, 3, 25] {
        let n = planned(&o, m, &places, index, 0);
        let family = store.register_notification(&ctx, &n).await.unwrap();
        taken.push((family, n));
    }

    let loaded = load_families(&store, &ctx, &o, m, &places, 7, &progress::Board::new()).await.unwrap();
    assert_eq!(loaded.families, 40);
    assert!(taken.iter().all(|(f, _)| *f != loaded.demo_family));

    let recs = records(&store, &ctx).await;
    assert_eq!(recs.len(), 40 + taken.len());
    assert_eq!(recs.iter().map(|r| r.babies.len()).sum::<usize>(), loaded.babies);
    for (family, n) in &taken {
        assert_eq!(recs.iter().filter(|r| r.family.id == *family).count(), 1);
        let same_mother = recs
            .iter()
            .filter(|r| {
                r.mother().is_some_and(|p| {
                    p.family_name_kana == n.mother.family_name_kana.as_str()
                        && p.given_name_kana == n.mother.given_name_kana.as_str()
                        && p.birth_date == n.mother.birth_date
                })
            })
            .count();
        assert_eq!(same_mother, 1);
    }
    // Each slot's next draw is what took its place.
    for index in [0, 3, 25] {
        let n = planned(&o, m, &places, index, 1);
        let redrawn = recs.iter().filter(|r| {
            r.pregnancies[0].handbook_number == n.handbook_number
                && r.pregnancies[0].edd == n.edd
                && r.mother().is_some_and(|p| p.given_name_kana == n.mother.given_name_kana.as_str())
        });
        assert_eq!(redrawn.count(), 1, "family {index}");
    }
    // The redrawn families got handbook numbers of their own.
    let handbooks = handbooks(&recs);
    assert_eq!(handbooks.iter().collect::<HashSet<_>>().len(), handbooks.len());
    assert!(handbooks.len() > 36);
    // The demo family was redrawn too, and the accounts can still be linked to it.
    let demo = recs.iter().find(|r| r.family.id == loaded.demo_family).unwrap();
    assert_eq!(demo.mother().unwrap().family_name, m.demo_family.mother.0 .0);
}

#[tokio::test]
async fn a_family_that_stays_a_duplicate_surfaces_as_a_conflict() {
    let store = sqlite().await;
    let o = opts(20, 5);
    let m = &spec::TSUKUBAMIRAI;
    let (ctx, places) = set_up_municipality(&store, &o, &fake_hash, m, parse_code(m.code).unwrap()).await.unwrap();
    // Every draw the loader may make for family 12 is on record already.
    for attempt in 0..=DUPLICATE_RETRIES {
        store.register_notification(&ctx, &planned(&o, m, &places, 12, attempt)).await.unwrap();
    }
    let err = load_families(&store, &ctx, &o, m, &places, 5, &progress::Board::new()).await.err().unwrap();
    assert!(matches!(err, StoreError::Conflict("duplicate_notification")), "{err:?}");
}

/// (municipality, family, total, positive, urgent, referral) of every demo screening.
async fn screenings(store: &dyn Store) -> Vec<(String, FamilyId, u32, bool, bool, bool)> {
    let mut out = Vec::new();
    for m in store.municipalities().await.unwrap() {
        let ctx = nurse_ctx(store, m.id).await;
        for r in records(store, &ctx).await {
            for s in store.screenings(&ctx, r.family.id, 100).await.unwrap() {
                assert_eq!((s.questionnaire.as_str(), s.entered_by_role), ("epds", Role::Nurse));
                out.push((m.code.to_string(), s.family_id, s.total, s.positive, s.urgent, s.referral_id.is_some()));
            }
        }
    }
    out
}

#[tokio::test]
async fn some_families_have_epds_answers_and_the_positive_ones_are_referred() {
    let (a, b) = (sqlite().await, sqlite().await);
    load(&a, &opts(60, 7), &fake_hash).await.unwrap();
    load(&b, &opts(60, 7), &fake_hash).await.unwrap();
    let found = screenings(&a).await;
    assert_eq!(found, screenings(&b).await, "same seed, same screenings");
    for code in ["131121", "082350"] {
        let here: Vec<_> = found.iter().filter(|s| s.0 == code).collect();
        assert!(here.iter().any(|s| !s.3 && !s.4), "{code}: no negative screen in {here:?}");
        assert!(here.iter().any(|s| s.3), "{code}: no positive screen in {here:?}");
        assert!(here.iter().all(|s| s.5 == (s.3 || s.4)), "{code}: a follow-up is missing");
    }
    assert!(found.iter().any(|s| s.4), "no urgent screen: {found:?}");
    // The nurse's list of referrals shows them, and the demo family is left to answer itself.
    for m in a.municipalities().await.unwrap() {
        let ctx = nurse_ctx(&a, m.id).await;
        let filter = tsunagu_store::ReferralFilter { open_only: true, limit: 100, ..Default::default() };
        let referrals = a.referrals(&ctx, &filter).await.unwrap();
        assert!(referrals.iter().any(|r| r.referral.source == tsunagu_domain::referrals::ConcernSource::Screening));
        let mother = a.account_by_username(m.id, "mother").await.unwrap().unwrap();
        assert!(found.iter().all(|s| Some(s.1) != mother.family_id));
    }
}

/// The report page has last fiscal year's figures (#14): stays at the
/// centre by families whose baby was born that year, some cells small enough
/// to be held back, and Setagaya's printed figures to reconcile with.
#[tokio::test]
async fn the_report_has_last_years_figures() {
    use tsunagu_domain::fiscal::FiscalYear;
    use tsunagu_domain::reports::build::year_tables;
    use tsunagu_domain::reports::suppression::suppress;
    use tsunagu_domain::reports::{Period, ReportSettings};
    let store = sqlite().await;
    load(&store, &opts(400, 7), &fake_hash).await.unwrap();
    let m = store.municipality_by_code(crate::parse_code("131121").unwrap()).await.unwrap().unwrap().id;
    let ctx = nurse_ctx(&store, m).await;
    let settings = store.report_settings(m).await.unwrap();
    assert_eq!(settings.printed.len(), 5, "[001] FY2018–FY2022 at the centre");
    let last = Period::year(FiscalYear::new(2025).unwrap());
    let years = store.report(&ctx, &last, settings.follow_up_days).await.unwrap();
    let y = &years[0];
    let days: u64 = y.facilities.iter().map(|f| f.short_stay_days).sum();
    let families: u64 = y.facilities.iter().map(|f| f.families).sum();
    assert!(days >= 10 && families >= 5, "{days} days, {families} families");
    assert!(y.areas.iter().filter(|a| a.families > 0).count() >= 2);
    let held = year_tables(y)
        .unwrap()
        .iter()
        .map(|t| suppress(t, &ReportSettings::default().suppression))
        .filter(|p| p.any_suppressed())
        .count();
    assert!(held > 0, "some small cells are held back");
}

/// A fiscal year of sessions [000][002][004], partly booked, each venue's
/// programme-staff account running its venue's sessions (#12): Setagaya's
/// 75 self-care classes over its 25 halls, the hall's demo account on every
/// session of its hall.
#[tokio::test]
async fn a_year_of_sessions_partly_booked_and_run_by_the_halls_staff() {
    use tsunagu_domain::classes::ProgrammeKind;
    use tsunagu_store::SessionQuery;
    let store = sqlite().await;
    load(&store, &opts(50, 7), &fake_hash).await.unwrap();
    let m = store.municipality_by_code(crate::parse_code("131121").unwrap()).await.unwrap().unwrap().id;
    let all = store.class_sessions(m, &SessionQuery { limit: 1000, ..SessionQuery::default() }).await.unwrap();
    let self_care = all.iter().filter(|s| s.programme.kind == ProgrammeKind::SelfCare).count();
    assert_eq!(self_care, 75, "[000] 年間合計75回");
    assert!(all.iter().any(|s| s.taken > 0), "partly booked");
    let hall = store.account_by_username(m, "programme").await.unwrap().unwrap();
    let theirs: Vec<_> = all.iter().filter(|s| hall.venues.contains(&s.venue_id)).collect();
    assert!(!theirs.is_empty());
    assert!(theirs.iter().all(|s| s.staff_ids() == [hall.id]), "the hall's sessions are its staff's");
    assert!(all.iter().filter(|s| !hall.venues.contains(&s.venue_id)).all(|s| !s.staff_ids().contains(&hall.id)));
}
