//! The demo loaded into the real embedded back end.

use jiff::Timestamp;
use tsunagu_demo::{demo_accounts, load, DemoOptions};
use tsunagu_domain::audit::ChainVerifier;
use tsunagu_domain::municipality::MunicipalityCode;
use tsunagu_domain::policy::FamilyFilter;
use tsunagu_domain::roles::Role;
use tsunagu_store::prelude::*;
use tsunagu_store::Secret;
use tsunagu_store_sqlite::SqliteStore;

/// The keys the test stores are opened with.
#[allow(clippy::unwrap_used)]
fn test_keys() -> tsunagu_store::StoreKeys {
    tsunagu_store::StoreKeys::derive(&tsunagu_domain::keys::MasterKey::from_bytes(&[7; 32]).unwrap())
}

fn fake_hash(p: &str) -> Secret {
    Secret::new(format!("hashed:{p}"))
}

#[tokio::test]
async fn loads_fifty_families_per_city_once() {
    let store = SqliteStore::connect("sqlite::memory:", test_keys()).await.unwrap();
    store.migrate().await.unwrap();
    let now: Timestamp = "2026-11-22T01:00:00Z".parse().unwrap();
    let opts = DemoOptions { families_per_municipality: 50, seed: 42, ..DemoOptions::at(now) };

    let summary = load(&store, &opts, &fake_hash).await.unwrap();
    assert_eq!((summary.municipalities, summary.families), (2, 100));
    assert!(!summary.already_loaded);
    assert!(summary.babies > 30, "{}", summary.babies);
    assert_eq!(summary.accounts, demo_accounts());

    let mut babies_seen = 0;
    for (code, areas, venues) in [("131121", 5, 35), ("082350", 6, 8)] {
        let m = store.municipality_by_code(MunicipalityCode::parse(code).unwrap()).await.unwrap().unwrap();
        assert_eq!(store.areas(m.id).await.unwrap().len(), areas);
        assert_eq!(store.venues(m.id).await.unwrap().len(), venues);
        let accounts = store.accounts(m.id).await.unwrap();
        // The chat's demo accounts (chat.rs: parents who joined, more supporters) are not in the list.
        let listed = accounts.iter().filter(|a| !a.username.starts_with("chat_")).count();
        assert_eq!(listed, demo_accounts().iter().filter(|a| a.municipality_code == code).count());
        for role in Role::ALL {
            assert!(accounts.iter().any(|a| a.role == role), "{code}: no {role:?}");
        }
        let nurse = store.account_by_username(m.id, "nurse").await.unwrap().unwrap();
        let mother = store.account_by_username(m.id, "mother").await.unwrap().unwrap();
        let ctx = tsunagu_domain::audit::Requester {
            municipality_id: m.id,
            actor: nurse.id,
            role: Role::Nurse,
            remote_addr: "test".into(),
            reason: "test".into(),
            at: now,
        }
        .without_a_policy_decision();
        let families = store.search_families(&ctx, &FamilyFilter::Municipality(m.id), "", 1000).await.unwrap();
        assert_eq!(families.len(), 50);
        assert!(families.iter().any(|f| Some(f.family_id) == mother.family_id));
        let (mut twins, mut triplets) = (false, false);
        for f in &families {
            let record = store.open_family(&ctx, f.family_id).await.unwrap().unwrap();
            let foetuses = record.pregnancies[0].foetuses;
            babies_seen += record.babies.len();
            twins |= foetuses == 2 && record.babies.len() == 2;
            triplets |= foetuses == 3 && record.babies.len() == 3;
        }
        assert!(twins && triplets, "{code}: twins {twins}, triplets {triplets}");

        // The audit chain the loading wrote verifies.
        let keys = test_keys();
        let mut v = ChainVerifier::new(&keys.chain);
        let mut after = 0;
        loop {
            let lines = store.audit_lines(m.id, after, 500).await.unwrap();
            let Some(last) = lines.last() else { break };
            after = last.seq;
            for l in &lines {
                v.push(l).unwrap();
            }
        }
        assert!(v.finish(store.audit_head(m.id).await.unwrap()).unwrap() >= 50);
    }
    assert_eq!(babies_seen, summary.babies);

    // Twice: nothing more.
    let again = load(&store, &opts, &fake_hash).await.unwrap();
    assert!(again.already_loaded);
    assert_eq!((again.municipalities, again.families, again.babies), (0, 0, 0));
    assert_eq!(store.municipalities().await.unwrap().len(), 2);
}
