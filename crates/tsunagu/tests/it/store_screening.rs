//! Storage stories about screening: responses stored as given, and the
//! referral a positive one raises in the same transaction.
//! Each runs on SQLite and on PostgreSQL (`on_both!`).

use crate::store_support::*;
use crate::support::Backend;
use tsunagu_domain::referrals::ConcernSource;
use tsunagu_domain::roles::Role;
use tsunagu_domain::AccountId;
use tsunagu_store::{NewScreening, ReferralFilter, StoreError};

/// EPDS answers where item n (1–10) scores `scores[n - 1]`.
fn epds_scoring(scores: [u8; 10]) -> tsunagu_domain::screening::Answers {
    let def = tsunagu_domain::screening::defs::epds();
    let mut answers = tsunagu_domain::screening::Answers::to(&def, &[]);
    for (i, score) in scores.iter().enumerate() {
        let item = &def.items[i];
        let code = item.options.iter().find(|o| o.score == *score).unwrap().code.clone();
        answers.answers.insert(item.id.clone(), code);
    }
    answers
}

async fn story_screenings_are_stored_as_given_and_a_positive_one_raises_its_referral_in_the_same_transaction(
    backend: Backend,
) {
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, other_area, _) = town(&s, "082350").await;
    let f = family(&s, m, north, "ハナコ").await;
    let g = family(&s, m, north, "ミカ").await;
    let foreign = family(&s, other, other_area, "ハナコ").await;
    let pf = s.open_family(&ctx(m, Role::Nurse), f).await.unwrap().unwrap().pregnancies[0].id;
    let pg = s.open_family(&ctx(m, Role::Nurse), g).await.unwrap().unwrap().pregnancies[0].id;
    let def = tsunagu_domain::screening::defs::epds();
    let new = |fam, p, scores| NewScreening::score(&def, fam, p, epds_scoring(scores)).unwrap();
    let mother = as_staff(m, Role::FamilyMember, 50, "2026-11-22T04:00:00Z");
    let nurse = as_staff(m, Role::Nurse, 21, "2026-11-22T03:00:00Z");

    // Negative: stored, no referral.
    let quiet = s.record_screening(&nurse, &new(f, Some(pf), [1, 1, 1, 1, 1, 1, 1, 1, 0, 0])).await.unwrap();
    assert_eq!(quiet.referral, None);
    assert_eq!(last_line(&s, m).await, line("screening.record", Some(f), format!("screening={}", quiet.id)));
    // Positive and urgent, entered by the mother herself: one referral, to the nurse.
    let loud = s.record_screening(&mother, &new(f, Some(pf), [3, 3, 3, 3, 3, 3, 3, 3, 3, 2])).await.unwrap();
    let rid = loud.referral.unwrap();
    assert_eq!(
        last_line(&s, m).await,
        line("screening.record", Some(f), format!("screening={} referral={rid}", loud.id))
    );
    assert_eq!(lines_of(&s, m, "referral.raise").await, vec![(Some(f), format!("referral={rid}"))]);
    let r = s.referral(&nurse, rid).await.unwrap().unwrap();
    assert_eq!(r.referral.source, ConcernSource::Screening);
    assert!(r.referral.urgent);
    assert_eq!(r.referral.raised_by, Role::FamilyMember);
    assert_eq!(r.referral.pregnancy, Some(pf));
    assert_eq!(r.note, "epds: epds_total_9_or_more, epds_item_10_self_harm");
    assert_eq!(r.raised_by_account, AccountId(50));

    // Read back as given, newest first, each read audited.
    let list = s.screenings(&nurse, f, 50).await.unwrap();
    assert_eq!(list.iter().map(|x| x.id).collect::<Vec<_>>(), vec![loud.id, quiet.id]);
    assert_eq!(last_line(&s, m).await, line("screening.list", Some(f), "results=2"));
    let one = s.screening(&nurse, loud.id).await.unwrap().unwrap();
    assert_eq!(last_line(&s, m).await, line("screening.view", Some(f), format!("screening={}", loud.id)));
    assert_eq!(one.as_answers(), epds_scoring([3, 3, 3, 3, 3, 3, 3, 3, 3, 2]));
    assert_eq!((one.total, one.positive, one.urgent), (29, true, true));
    assert_eq!(
        one.reasons.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(),
        ["epds_total_9_or_more", "epds_item_10_self_harm"]
    );
    assert_eq!((one.entered_by_account, one.entered_by_role), (AccountId(50), Role::FamilyMember));
    assert_eq!(one.entered_at, at("2026-11-22T04:00:00Z"));
    assert_eq!((one.family_id, one.pregnancy_id, one.referral_id), (f, Some(pf), Some(rid)));
    assert_eq!(s.screening_family(m, loud.id).await.unwrap(), Some(f));
    assert_eq!(s.screening_family(other, loud.id).await.unwrap(), None);
    assert_eq!(s.screening(&ctx(other, Role::Nurse), loud.id).await.unwrap(), None);
    assert!(s.screenings(&ctx(m, Role::Nurse), g, 50).await.unwrap().is_empty());

    // Another municipality's family, or another family's pregnancy: refused,
    // and neither the response nor its referral is written.
    let head = s.audit_head(m).await.unwrap();
    let positive = [3, 3, 3, 3, 0, 0, 0, 0, 0, 0];
    assert!(matches!(
        s.record_screening(&nurse, &new(foreign, None, positive)).await,
        Err(StoreError::InvalidReference("family_id"))
    ));
    assert!(matches!(
        s.record_screening(&nurse, &new(f, Some(pg), positive)).await,
        Err(StoreError::InvalidReference("pregnancy_id"))
    ));
    assert_eq!(s.audit_head(m).await.unwrap(), head);
    assert_eq!(
        s.referrals(&nurse, &ReferralFilter { limit: 100, ..ReferralFilter::default() }).await.unwrap().len(),
        1
    );
    assert_eq!(s.screenings(&nurse, f, 50).await.unwrap().len(), 2);
    assert_eq!(verify_chain(&s, m).await, Ok(s.audit_lines(m, 0, 10_000).await.unwrap().len() as u64));
    finish(s, db).await;
}

on_both!(
    screenings_are_stored_as_given_and_a_positive_one_raises_its_referral_in_the_same_transaction => story_screenings_are_stored_as_given_and_a_positive_one_raises_its_referral_in_the_same_transaction,
);
