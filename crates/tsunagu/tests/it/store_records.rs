//! Storage stories about family records: a notification and the record it
//! opens, kana search, duplicates and births.
//! Each runs on SQLite and on PostgreSQL (`on_both!`).

use crate::store_support::*;
use crate::support::Backend;
use jiff::civil::date;
use tsunagu_domain::audit::AuditAction;
use tsunagu_domain::policy::FamilyFilter;
use tsunagu_domain::records::{BirthInput, FamilySummary, FeeBracket, PersonInput, PregnancyStatus, Relation, Sex};
use tsunagu_domain::roles::Role;
use tsunagu_domain::{AreaId, FamilyId};
use tsunagu_store::{AuditQuery, StoreError};

async fn story_a_notification_opens_a_record_and_opening_it_is_audited(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let nurse = ctx(m, Role::Nurse);
    let mut input = notification_input(north, mother("ヤマダ", "ハナコ", Some("1994-05-01")), "2027-05-20");
    input.handbook_number = Some("R8-0001".into());
    input.foetuses = 2;
    input.partner = Some(PersonInput {
        family_name: "山田".into(),
        given_name: "太郎".into(),
        family_name_kana: "やまだ".into(),
        given_name_kana: "たろう".into(),
        birth_date: None,
    });
    let n = input.check(today()).unwrap();
    let f = s.register_notification(&nurse, &n).await.unwrap();
    assert_eq!(actions(&s, m).await, ["family.create"]);

    let access = s.family_access(m, f).await.unwrap().unwrap();
    assert_eq!(
        (access.area_id, access.consent_coordinators, access.consent_hubs, access.escalated),
        (north, true, false, false)
    );
    let (other, _, _) = town(&s, "082350").await;
    assert_eq!(s.family_access(other, f).await.unwrap(), None);
    assert_eq!(s.open_family(&ctx(other, Role::Nurse), f).await.unwrap(), None);
    assert_eq!(s.audit_head(other).await.unwrap(), None);

    let rec = s.open_family(&nurse, f).await.unwrap().unwrap();
    // The line is there as soon as the record is returned.
    let lines = s.audit_lines(m, 0, 100).await.unwrap();
    let last = lines.last().unwrap();
    assert_eq!((last.action.as_str(), last.family_id, last.actor), ("family.view", Some(f), nurse.actor));
    assert_eq!(last.at, nurse.at);

    assert_eq!(rec.family.fee_bracket, FeeBracket::Taxed);
    assert_eq!(rec.family.area_id, north);
    let mom = rec.mother().unwrap();
    assert_eq!(mom.full_name(), "山田 花子");
    assert_eq!(mom.full_kana(), "ヤマダ ハナコ");
    assert_eq!(mom.birth_date, Some(date(1994, 5, 1)));
    assert_eq!(rec.people.len(), 2);
    assert_eq!(rec.people[1].relation, Relation::Partner);
    assert_eq!(rec.people[1].birth_date, None);
    assert_eq!(rec.pregnancies.len(), 1);
    let p = &rec.pregnancies[0];
    assert_eq!((p.notified_on, p.edd, p.foetuses, p.first_child), (today(), date(2027, 5, 20), 2, true));
    assert_eq!((p.status, p.handbook_number.as_deref()), (PregnancyStatus::Ongoing, Some("R8-0001")));
    assert!(rec.babies.is_empty());
    assert_eq!(verify_chain(&s, m).await, Ok(2));
    finish(s, db).await;
}

/// What a request on one family needs before its decision — the caller's
/// session and account, and the family's access facts in the session's
/// municipality — comes in one read (#16), the facts the same as
/// `family_access`'s; and a record opened under a decision about it is
/// answered with its line written, as one opened without.
async fn story_a_session_comes_with_the_access_facts_of_its_family(backend: Backend) {
    use tsunagu_domain::policy::{permit, Action, Resource};
    use tsunagu_store::token_hash;
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, other_area, _) = town(&s, "082350").await;
    let system = ctx(m, Role::Nurse);
    let f = s.register_notification(&system, &notification(north, "ヤマダ", "ハナコ")).await.unwrap();
    let theirs =
        s.register_notification(&ctx(other, Role::Nurse), &notification(other_area, "ヤマダ", "ハナコ")).await.unwrap();
    exec(&db, &format!("UPDATE families SET escalated = TRUE, consent_hubs = TRUE WHERE id = {}", f.0)).await.unwrap();
    let acc = s.create_account(None, &new_account(m, "nurse", Role::Nurse)).await.unwrap();
    s.create_session(&session("t1", m, acc.id, "2026-11-22T00:00:00Z")).await.unwrap();
    let hash = token_hash("t1");

    let (sess, account, access) = s.session_with_family_access(m, &hash, f).await.unwrap().unwrap();
    assert_eq!(sess, session("t1", m, acc.id, "2026-11-22T00:00:00Z"));
    assert_eq!(account, Some(acc.clone()));
    let access = access.unwrap();
    assert_eq!(Some(&access), s.family_access(m, f).await.unwrap().as_ref());
    assert_eq!((access.area_id, access.escalated, access.consent_hubs), (north, true, true));
    // Another municipality's family, or none: the session without facts.
    let (_, _, none) = s.session_with_family_access(m, &hash, theirs).await.unwrap().unwrap();
    assert_eq!(none, None);
    let (_, _, none) = s.session_with_family_access(m, &hash, FamilyId(987_654)).await.unwrap().unwrap();
    assert_eq!(none, None);
    // A token of no session, or named in another municipality: nothing.
    assert_eq!(s.session_with_family_access(m, &token_hash("t2"), f).await.unwrap(), None);
    assert_eq!(s.session_with_family_access(other, &hash, theirs).await.unwrap(), None);
    assert_eq!(actions(&s, m).await, ["family.create"], "reading what a decision needs writes no line");

    let nurse = staff_actor(m, acc.id, Role::Nurse);
    let decided = permit(&nurse, Action::ViewFamily, &Resource::Family(&access)).unwrap();
    let c = requester(m, Role::Nurse).allowed(&decided);
    let rec = s.open_family(&c, f).await.unwrap().unwrap();
    assert_eq!(rec.mother().unwrap().full_kana(), "ヤマダ ハナコ");
    // The line is there as soon as the record is returned, and only one.
    assert_eq!(actions(&s, m).await, ["family.create", "family.view"]);
    assert_eq!(verify_chain(&s, m).await, Ok(2));
    finish(s, db).await;
}

async fn story_kana_search_honours_the_filter_and_never_crosses_municipalities(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, south) = town(&s, "131121").await;
    let (other, other_area, _) = town(&s, "082350").await;
    let nurse = ctx(m, Role::Nurse);

    let hanako = s.register_notification(&nurse, &notification(north, "ヤマダ", "ハナコ")).await.unwrap();
    let mut n = notification(south, "やまもと", "はなえ");
    n.consent_coordinators = false;
    let hanae = s.register_notification(&nurse, &n).await.unwrap();
    let yoshiko = s.register_notification(&nurse, &notification(south, "ｽｽﾞｷ", "ﾖｼｺ")).await.unwrap();
    // "ばなな" is not "はな…": the voiced mark counts.
    let banako = s.register_notification(&nurse, &notification(north, "サトウ", "バナコ")).await.unwrap();
    // The same name in another municipality.
    let foreign =
        s.register_notification(&ctx(other, Role::Nurse), &notification(other_area, "ヤマダ", "ハナコ")).await.unwrap();
    exec(&db, &format!("UPDATE families SET escalated = TRUE WHERE id = {}", hanae.0)).await.unwrap();

    let ids = |v: Vec<FamilySummary>| v.into_iter().map(|f| f.family_id).collect::<Vec<_>>();
    let all = FamilyFilter::Municipality(m);
    assert_eq!(ids(s.search_families(&nurse, &all, "やま", 50).await.unwrap()), [hanako, hanae]);
    assert_eq!(ids(s.search_families(&nurse, &all, "やまだは", 50).await.unwrap()), [hanako]);
    // Given name alone, in kana order of the given name (はなえ before はなこ).
    assert_eq!(ids(s.search_families(&nurse, &all, "はな", 50).await.unwrap()), [hanae, hanako]);
    assert_eq!(ids(s.search_families(&nurse, &all, "ばな", 50).await.unwrap()), [banako]);
    assert_eq!(ids(s.search_families(&nurse, &all, "すずき", 50).await.unwrap()), [yoshiko]);
    assert_eq!(ids(s.search_families(&nurse, &all, "", 50).await.unwrap()), [banako, yoshiko, hanako, hanae]);
    assert_eq!(ids(s.search_families(&nurse, &all, "", 2).await.unwrap()), [banako, yoshiko]);
    assert!(s.search_families(&nurse, &all, "わ", 50).await.unwrap().is_empty());

    let summary = &s.search_families(&nurse, &all, "やまだ", 50).await.unwrap()[0];
    assert_eq!(summary.mother_name, "山田 花子");
    assert_eq!(summary.mother_kana, "ヤマダ ハナコ");
    assert_eq!(summary.mother_birth_date, Some(date(1994, 5, 1)));
    assert_eq!(summary.latest_edd, Some(date(2027, 5, 20)));
    assert_eq!(summary.area_id, north);

    let coord = ctx(m, Role::Coordinator);
    let consenting = |areas: Vec<AreaId>| FamilyFilter::ConsentingInAreas(m, areas);
    assert_eq!(ids(s.search_families(&coord, &consenting(vec![north]), "", 50).await.unwrap()), [banako, hanako]);
    // hanae did not consent; yoshiko did.
    assert_eq!(ids(s.search_families(&coord, &consenting(vec![south]), "", 50).await.unwrap()), [yoshiko]);
    assert_eq!(ids(s.search_families(&coord, &consenting(vec![north, south]), "やま", 50).await.unwrap()), [hanako]);
    assert!(s.search_families(&coord, &consenting(vec![]), "", 50).await.unwrap().is_empty());
    assert!(s.search_families(&coord, &consenting(vec![other_area]), "", 50).await.unwrap().is_empty());

    let cw = ctx(m, Role::Caseworker);
    assert_eq!(ids(s.search_families(&cw, &FamilyFilter::Escalated(m), "", 50).await.unwrap()), [hanae]);

    // The other municipality sees only its own family, and a filter for one
    // municipality cannot be used with a context of another.
    let theirs = ctx(other, Role::Nurse);
    assert_eq!(ids(s.search_families(&theirs, &FamilyFilter::Municipality(other), "", 50).await.unwrap()), [foreign]);
    assert!(matches!(
        s.search_families(&theirs, &all, "", 50).await,
        Err(StoreError::InvalidReference("municipality"))
    ));

    let searches = s
        .search_audit(m, &AuditQuery { action: Some(AuditAction::FamilySearch), limit: 100, ..Default::default() })
        .await
        .unwrap();
    // Every search left a line (the one with no areas too), newest first.
    assert_eq!(searches.len(), 15);
    assert_eq!(searches[0].detail, "results=1");
    assert_eq!(searches.last().unwrap().detail, "results=2");
    assert!(verify_chain(&s, m).await.is_ok());
    assert!(verify_chain(&s, other).await.is_ok());
    finish(s, db).await;
}

async fn story_duplicates_handbook_numbers_and_foreign_areas_are_refused(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let (_, foreign_area, _) = town(&s, "082350").await;
    let nurse = ctx(m, Role::Nurse);

    let mut first = notification(north, "ヤマダ", "ハナコ");
    first.handbook_number = Some("R8-0001".into());
    s.register_notification(&nurse, &first).await.unwrap();
    // Same mother, EDD two weeks later, written differently: the same pregnancy.
    let again =
        notification_input(north, mother("やまだ", "はなこ", Some("1994-05-01")), "2027-06-03").check(today()).unwrap();
    assert!(matches!(
        s.register_notification(&nurse, &again).await,
        Err(StoreError::Conflict("duplicate_notification"))
    ));
    // Another mother of the same name (other birth date) is not a duplicate,
    // but a handbook number is issued once.
    let mut namesake =
        notification_input(north, mother("ヤマダ", "ハナコ", Some("1990-01-01")), "2027-05-20").check(today()).unwrap();
    namesake.handbook_number = Some("R8-0001".into());
    assert!(matches!(
        s.register_notification(&nurse, &namesake).await,
        Err(StoreError::Conflict("handbook_number_taken"))
    ));
    namesake.handbook_number = Some("R8-0002".into());
    s.register_notification(&nurse, &namesake).await.unwrap();
    assert!(matches!(
        s.register_notification(&nurse, &notification(foreign_area, "スズキ", "ヨシコ")).await,
        Err(StoreError::InvalidReference("area_id"))
    ));

    // Racing registrations of one pregnancy: exactly one opens a record.
    let n = notification(north, "タナカ", "ミカ");
    let gate = hold_audit_head(&db, m).await;
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let (s, nurse, n) = (s.clone(), nurse.clone(), n.clone());
            tokio::spawn(async move { s.register_notification(&nurse, &n).await })
        })
        .collect();
    open_gate(gate, 8).await;
    let (mut ok, mut dup) = (0, 0);
    for r in racers {
        match r.await.unwrap() {
            Ok(_) => ok += 1,
            Err(StoreError::Conflict("duplicate_notification")) => dup += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!((ok, dup), (1, 7));
    let families: i64 = scalar(&db, "SELECT COUNT(*) FROM families").await;
    assert_eq!(families, 3);
    assert_eq!(verify_chain(&s, m).await, Ok(3));
    finish(s, db).await;
}

async fn story_births_record_twins_once(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, _, _) = town(&s, "082350").await;
    let nurse = ctx(m, Role::Nurse);
    let mut input = notification_input(north, mother("ヤマダ", "ハナコ", Some("1994-05-01")), "2026-12-01");
    input.foetuses = 2;
    let f = s.register_notification(&nurse, &input.check(today()).unwrap()).await.unwrap();
    let rec = s.open_family(&nurse, f).await.unwrap().unwrap();
    let pregnancy = rec.pregnancies[0].clone();

    let mut first = baby("2026-11-20", "female");
    first.given_name = Some("一花".into());
    first.given_name_kana = Some("イチカ".into());
    let mut second = baby("2026-11-20", "male");
    second.birth_weight_g = None;
    second.long_hospitalisation = true;
    let babies = BirthInput { babies: vec![first, second] }.check(&pregnancy, today()).unwrap();

    assert!(matches!(
        s.record_birth(&ctx(other, Role::Nurse), f, pregnancy.id, &babies).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.record_birth(&nurse, FamilyId(f.0 + 1000), pregnancy.id, &babies).await,
        Err(StoreError::NotFound)
    ));
    let ids = s.record_birth(&nurse, f, pregnancy.id, &babies).await.unwrap();
    assert_eq!(ids.len(), 2);
    assert!(matches!(
        s.record_birth(&nurse, f, pregnancy.id, &babies).await,
        Err(StoreError::Conflict("pregnancy_not_ongoing"))
    ));

    let rec = s.open_family(&nurse, f).await.unwrap().unwrap();
    assert_eq!(rec.pregnancies[0].status, PregnancyStatus::Delivered);
    assert_eq!(rec.babies.iter().map(|b| b.id).collect::<Vec<_>>(), ids);
    let (a, b) = (&rec.babies[0], &rec.babies[1]);
    assert_eq!(
        (a.birth_date, a.sex, a.gestational_weeks, a.gestational_days),
        (date(2026, 11, 20), Sex::Female, 37, 2)
    );
    assert_eq!((a.birth_weight_g, a.long_hospitalisation), (Some(2600), false));
    assert_eq!((b.sex, b.birth_weight_g, b.long_hospitalisation), (Sex::Male, None, true));
    let child = rec.person(a.person_id).unwrap();
    assert_eq!(
        (child.relation, child.full_name().as_str(), child.full_kana().as_str()),
        (Relation::Child, "山田 一花", "ヤマダ イチカ")
    );
    assert_eq!(child.birth_date, Some(date(2026, 11, 20)));
    // Children are not mothers: the search still finds one family.
    let found = s.search_families(&nurse, &FamilyFilter::Municipality(m), "やまだ", 10).await.unwrap();
    assert_eq!(found.len(), 1);

    // Racing births on one pregnancy: exactly one is recorded.
    let mut input = notification_input(north, mother("サトウ", "ミカ", None), "2026-12-01");
    input.foetuses = 1;
    let f3 = s.register_notification(&nurse, &input.check(today()).unwrap()).await.unwrap();
    let p3 = s.open_family(&nurse, f3).await.unwrap().unwrap().pregnancies[0].clone();
    let one = BirthInput { babies: vec![baby("2026-11-21", "undetermined")] }.check(&p3, today()).unwrap();
    let p3 = p3.id;
    let gate = hold_audit_head(&db, m).await;
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let (s, nurse, one) = (s.clone(), nurse.clone(), one.clone());
            tokio::spawn(async move { s.record_birth(&nurse, f3, p3, &one).await })
        })
        .collect();
    open_gate(gate, 8).await;
    let (mut ok, mut conflict) = (0, 0);
    for r in racers {
        match r.await.unwrap() {
            Ok(ids) => {
                assert_eq!(ids.len(), 1);
                ok += 1;
            }
            Err(StoreError::Conflict("pregnancy_not_ongoing")) => conflict += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!((ok, conflict), (1, 7));
    assert_eq!(s.open_family(&nurse, f3).await.unwrap().unwrap().babies.len(), 1);
    assert!(verify_chain(&s, m).await.is_ok());
    finish(s, db).await;
}

on_both!(
    a_notification_opens_a_record_and_opening_it_is_audited => story_a_notification_opens_a_record_and_opening_it_is_audited,
    a_session_comes_with_the_access_facts_of_its_family => story_a_session_comes_with_the_access_facts_of_its_family,
    kana_search_honours_the_filter_and_never_crosses_municipalities => story_kana_search_honours_the_filter_and_never_crosses_municipalities,
);

on_both!(multi_thread:
    duplicates_handbook_numbers_and_foreign_areas_are_refused => story_duplicates_handbook_numbers_and_foreign_areas_are_refused,
    births_record_twins_once => story_births_record_twins_once,
);
