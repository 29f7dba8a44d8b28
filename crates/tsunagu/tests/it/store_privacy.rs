//! Storage stories about who sees what inside a family (#10): the mother's
//! and the partner's accounts, the mother's sharing and the nurse's switch
//! of the partner's view, and whom each note is written for.
//! Each runs on SQLite and on PostgreSQL (`on_both!`).

use crate::store_support::*;
use crate::support::Backend;
use tsunagu_domain::notes::NoteAudience;
use tsunagu_domain::postpartum::ServiceType;
use tsunagu_domain::records::BirthInput;
use tsunagu_domain::roles::{FamilyRelation, Role};
use tsunagu_domain::timeline::{self as tl, ContactKind};
use tsunagu_store::StoreError;

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

async fn story_family_accounts_know_whether_they_are_the_mother_or_the_partner(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let f = family(&s, m, north, "ハナコ").await;
    let g = family(&s, m, north, "サクラ").await;
    let mother = s.create_account(None, &family_account(m, "mother", f, FamilyRelation::Mother)).await.unwrap();
    let partner = s.create_account(None, &family_account(m, "partner", f, FamilyRelation::Partner)).await.unwrap();
    assert_eq!(mother.family_relation, Some(FamilyRelation::Mother));
    assert_eq!(s.account(m, partner.id).await.unwrap().unwrap().family_relation, Some(FamilyRelation::Partner));
    // One mother's account a family; another family has its own.
    assert!(matches!(
        s.create_account(None, &family_account(m, "mother2", f, FamilyRelation::Mother)).await,
        Err(StoreError::Conflict("mother_account_exists"))
    ));
    s.create_account(None, &family_account(m, "mother-g", g, FamilyRelation::Mother)).await.unwrap();
    s.create_account(None, &family_account(m, "partner2", f, FamilyRelation::Partner)).await.unwrap();
    // Staff have none, whatever is sent.
    let nurse = s
        .create_account(
            None,
            &tsunagu_store::NewAccount {
                family_relation: Some(FamilyRelation::Mother),
                ..new_account(m, "nurse", Role::Nurse)
            },
        )
        .await
        .unwrap();
    assert_eq!(nurse.family_relation, None);
    finish(s, db).await;
}

async fn story_the_mothers_sharing_and_the_nurses_switch_are_stored_and_audited(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, _, _) = town(&s, "082350").await;
    let f = family(&s, m, north, "ハナコ").await;
    let g = family(&s, m, north, "サクラ").await;
    let access = s.family_access(m, f).await.unwrap().unwrap();
    // Off until the mother turns it on; the partner's view on until a nurse turns it off.
    assert!(!access.partner_sees_health && !access.partner_view_off);

    let mother = as_staff(m, Role::FamilyMember, 31, "2026-11-22T02:00:00Z");
    s.set_partner_sees_health(&mother, f, true).await.unwrap();
    let nurse = as_staff(m, Role::Nurse, 7, "2026-11-22T03:00:00Z");
    s.set_partner_view_off(&nurse, f, true).await.unwrap();
    let access = s.family_access(m, f).await.unwrap().unwrap();
    assert!(access.partner_sees_health && access.partner_view_off);
    let untouched = s.family_access(m, g).await.unwrap().unwrap();
    assert!(!untouched.partner_sees_health && !untouched.partner_view_off);

    s.set_partner_view_off(&nurse, f, false).await.unwrap();
    s.set_partner_sees_health(&mother, f, false).await.unwrap();
    let access = s.family_access(m, f).await.unwrap().unwrap();
    assert!(!access.partner_sees_health && !access.partner_view_off);

    // Not across municipalities, and then nothing is written there.
    let head = s.audit_head(other).await.unwrap();
    assert!(matches!(s.set_partner_view_off(&ctx(other, Role::Nurse), f, true).await, Err(StoreError::NotFound)));
    assert_eq!(s.audit_head(other).await.unwrap(), head);
    assert!(!s.family_access(m, f).await.unwrap().unwrap().partner_view_off);

    assert_eq!(
        lines_of(&s, m, "family.sharing").await,
        [
            (Some(f), "partner_health=shared".to_owned()),
            (Some(f), "partner_view=off".to_owned()),
            (Some(f), "partner_view=on".to_owned()),
            (Some(f), "partner_health=not_shared".to_owned()),
        ]
    );
    assert!(verify_chain(&s, m).await.is_ok());
    finish(s, db).await;
}

async fn story_every_note_keeps_whom_it_was_written_for(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let v = facility(&s, m, "センター", &every_day(3)).await;
    let f = family(&s, m, north, "ハナコ").await;
    let nurse = ctx(m, Role::Nurse);
    let staff = ctx(m, Role::FacilityStaff);

    // A review note for the family; one for the office (the old call's default).
    let days = stay(day(8, 10), 3);
    let a = s.create_application(&nurse, &application(f, v, ServiceType::ShortStay, days)).await.unwrap();
    s.approve_application_noted(
        &nurse,
        a,
        &booking(0, days, 3),
        "8月10日10時にお越しください",
        NoteAudience::Family,
        None,
    )
    .await
    .unwrap();
    let got = s.application(&nurse, a).await.unwrap().unwrap();
    assert_eq!(got.review_note.as_deref(), Some("8月10日10時にお越しください"));
    assert_eq!(got.review_note_audience, NoteAudience::Family);
    let b_days = stay(day(9, 1), 2);
    let b = s.create_application(&nurse, &application(f, v, ServiceType::ShortStay, b_days)).await.unwrap();
    s.approve_application(&nurse, b, &booking(0, b_days, 3), "電話で本人確認済み", None).await.unwrap();
    let got = s.application(&nurse, b).await.unwrap().unwrap();
    assert_eq!(got.review_note_audience, NoteAudience::Office);
    assert_eq!((got.cancel_note, got.cancel_note_audience), (None, NoteAudience::Office));
    s.cancel_application_noted(&nurse, b, "ご家族の希望により", NoteAudience::Family).await.unwrap();
    let got = s.application(&nurse, b).await.unwrap().unwrap();
    assert_eq!(got.cancel_note.as_deref(), Some("ご家族の希望により"));
    assert_eq!(got.cancel_note_audience, NoteAudience::Family);
    // The approval's note stays the office's after the cancellation.
    assert_eq!(got.review_note_audience, NoteAudience::Office);
    let c =
        s.create_application(&nurse, &application(f, v, ServiceType::ShortStay, stay(day(10, 1), 1))).await.unwrap();
    s.reject_application_noted(&nurse, c, "期間外です", NoteAudience::Family).await.unwrap();
    assert_eq!(s.application(&nurse, c).await.unwrap().unwrap().review_note_audience, NoteAudience::Family);

    // A facility's day notes, each with its own.
    s.record_stay_note_for(&staff, a, day(8, 10), "授乳良好", NoteAudience::Family).await.unwrap();
    s.record_stay_note(&staff, a, day(8, 11), "母は疲労あり").await.unwrap();
    let notes = s.stay_notes(&staff, a).await.unwrap();
    let got: Vec<_> = notes.iter().map(|n| (n.note.as_str(), n.audience)).collect();
    assert_eq!(got, [("授乳良好", NoteAudience::Family), ("母は疲労あり", NoteAudience::Office)]);

    // A contact's note: the family's while every part of it is; one office
    // line makes the whole note the office's.
    let recorder = s.create_account(None, &new_account(m, "nurse", Role::Nurse)).await.unwrap();
    let mut nurse = nurse;
    nurse.actor = recorder.id;
    let input = notification_input(north, mother("ヤマダ", "ミカ", Some("1990-01-01")), "2026-12-01");
    let h = s.register_notification(&nurse, &input.check(today()).unwrap()).await.unwrap();
    let p = s.open_family(&nurse, h).await.unwrap().unwrap().pregnancies[0].clone();
    let born = BirthInput { babies: vec![baby("2026-11-20", "female")] }.check(&p, today()).unwrap();
    s.record_birth(&nurse, h, p.id, &born).await.unwrap();
    let rows = s.family_contacts(&nurse, h).await.unwrap();
    let interview = rows.iter().find(|r| r.contact.kind == ContactKind::NewbornVisit).unwrap().contact.id;
    assert_eq!(s.contact(&nurse, interview).await.unwrap().unwrap().outcome_note_audience, NoteAudience::Office);
    let tried = tl::Outcome::NotReached { attempts: 1 };
    s.record_contact_outcome_noted(&nurse, interview, &tried, "お電話しました", NoteAudience::Family).await.unwrap();
    let got = s.contact(&nurse, interview).await.unwrap().unwrap();
    assert_eq!((got.outcome_note.as_str(), got.outcome_note_audience), ("お電話しました", NoteAudience::Family));
    s.record_contact_outcome(&nurse, interview, &tried, "パートナーに注意").await.unwrap();
    let got = s.contact(&nurse, interview).await.unwrap().unwrap();
    assert_eq!(got.outcome_note_audience, NoteAudience::Office);
    assert!(verify_chain(&s, m).await.is_ok());
    finish(s, db).await;
}

on_both! {
    family_accounts_know_whether_they_are_the_mother_or_the_partner =>
        story_family_accounts_know_whether_they_are_the_mother_or_the_partner,
    the_mothers_sharing_and_the_nurses_switch_are_stored_and_audited =>
        story_the_mothers_sharing_and_the_nurses_switch_are_stored_and_audited,
    every_note_keeps_whom_it_was_written_for => story_every_note_keeps_whom_it_was_written_for,
}
