//! Storage stories of web push subscriptions (#10), on SQLite and on
//! PostgreSQL (`on_both!`): a subscription is one account's in one
//! municipality — renewed in place, never taken over from another
//! municipality, removed only by its own account, dropped only within its
//! municipality; subscribing makes sure the account has reminder settings;
//! one line per change, never the endpoint.

use crate::store_support::*;
use crate::support::Backend;
use tsunagu_domain::push::SubscriptionInput;
use tsunagu_domain::roles::{FamilyRelation, Role};

fn family_account(
    m: tsunagu_domain::MunicipalityId,
    username: &str,
    f: tsunagu_domain::FamilyId,
    relation: FamilyRelation,
) -> tsunagu_store::NewAccount {
    tsunagu_store::NewAccount {
        family_id: Some(f),
        family_relation: Some(relation),
        ..new_account(m, username, Role::FamilyMember)
    }
}

fn as_account(m: tsunagu_domain::MunicipalityId, a: tsunagu_domain::AccountId) -> tsunagu_domain::audit::AuditContext {
    tsunagu_domain::audit::Requester { actor: a, ..requester(m, Role::FamilyMember) }.without_a_policy_decision()
}

fn subscription(endpoint: &str, auth: &str) -> tsunagu_domain::push::Subscription {
    SubscriptionInput {
        endpoint: endpoint.into(),
        p256dh: "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4".into(),
        auth: auth.into(),
    }
    .check()
    .unwrap()
}

async fn story_a_subscription_is_one_accounts_in_one_municipality(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, other_area, _) = town(&s, "082350").await;
    let f = family(&s, m, north, "ハナコ").await;
    let g = family(&s, other, other_area, "サクラ").await;
    let mother = s.create_account(None, &family_account(m, "mother", f, FamilyRelation::Mother)).await.unwrap();
    let partner = s.create_account(None, &family_account(m, "partner", f, FamilyRelation::Partner)).await.unwrap();
    let elsewhere = s.create_account(None, &family_account(other, "m2", g, FamilyRelation::Mother)).await.unwrap();
    let phone = "https://push.test/sub/phone";

    s.add_push_subscription(&as_account(m, mother.id), f, &subscription(phone, "BTBZMqHH6r4Tts7J_aSIgg"))
        .await
        .unwrap();
    // The browser renews its keys: the same subscription, the new key.
    s.add_push_subscription(&as_account(m, mother.id), f, &subscription(phone, "AAAAAAAAAAAAAAAAAAAAAA"))
        .await
        .unwrap();
    let mine = s.push_targets(m, mother.id).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].subscription.auth, vec![0u8; 16], "renewed in place");
    assert_eq!(format!("{mine:?}"), format!("[PushTarget({})]", mine[0].id), "the endpoint never prints");
    // She has reminder settings now (e-mail off, one day ahead): the job knows how far ahead.
    let settings = s.reminder_settings(&as_account(m, mother.id), f).await.unwrap();
    assert_eq!((settings.email_on, settings.days_before), (false, 1));

    // Another municipality's account with the same endpoint (one browser
    // signed in to two cities) gets a subscription of its own there and
    // takes nothing over: an endpoint is unique within a municipality (0031).
    s.add_push_subscription(&as_account(other, elsewhere.id), g, &subscription(phone, "BTBZMqHH6r4Tts7J_aSIgg"))
        .await
        .unwrap();
    assert_eq!(s.push_targets(other, elsewhere.id).await.unwrap().len(), 1);
    assert_eq!(s.push_targets(m, mother.id).await.unwrap().len(), 1);
    assert_eq!(s.push_targets(m, mother.id).await.unwrap()[0].id, mine[0].id, "hers stays as it was");
    // Nor does another municipality drop it, nor the partner remove it.
    s.drop_push_subscription(other, mine[0].id).await.unwrap();
    assert!(!s.remove_push_subscription(&as_account(m, partner.id), f, phone).await.unwrap());
    assert_eq!(s.push_targets(m, mother.id).await.unwrap().len(), 1);
    // She removes it; a gone one is dropped within its municipality.
    assert!(s.remove_push_subscription(&as_account(m, mother.id), f, phone).await.unwrap());
    assert!(s.push_targets(m, mother.id).await.unwrap().is_empty());
    s.add_push_subscription(&as_account(m, mother.id), f, &subscription(phone, "BTBZMqHH6r4Tts7J_aSIgg"))
        .await
        .unwrap();
    let id = s.push_targets(m, mother.id).await.unwrap()[0].id;
    s.drop_push_subscription(m, id).await.unwrap();
    assert!(s.push_targets(m, mother.id).await.unwrap().is_empty());

    let lines = s.audit_lines(m, 0, 10_000).await.unwrap();
    let count = |a: &str| lines.iter().filter(|l| l.action == a).count();
    assert_eq!((count("push.subscribe"), count("push.unsubscribe")), (3, 2), "one line per change");
    assert!(lines.iter().all(|l| !l.detail.contains("push.test")), "never the endpoint");
    finish(s, db).await;
}

on_both!(a_subscription_is_one_accounts_in_one_municipality => story_a_subscription_is_one_accounts_in_one_municipality);
