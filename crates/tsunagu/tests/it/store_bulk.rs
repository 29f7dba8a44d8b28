//! Stories of the bulk import (#16, #15): `RecordStore::import_families`
//! writes each table with a few multi-row statements; these check that it
//! stores exactly what the one-by-one path stores for the same input,
//! refuses the same families with the same codes, and keeps the audit
//! chain valid. Each runs on SQLite and on PostgreSQL (`on_both!`).

use crate::store_support::*;
use crate::support::Backend;
use jiff::civil::{date, Date};
use sqlx::Connection;
use tsunagu_domain::audit::AuditContext;
use tsunagu_domain::records::{NewBaby, Notification, PersonInput, Sex};
use tsunagu_domain::roles::Role;
use tsunagu_domain::{AreaId, MunicipalityId};
use tsunagu_store::ImportFamily;

/// Every row of a table as one text each, read behind the store's back.
async fn texts(db: &TestDb, sql: &str) -> Vec<String> {
    match db.backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
            let v = sqlx::query_scalar(sql).fetch_all(&mut c).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
            c.close().await.ok();
            v
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
            let v = sqlx::query_scalar(sql).fetch_all(&mut c).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
            c.close().await.ok();
            v
        }
    }
}

/// The columns of each table the import writes, joined into one text per row.
const DUMPS: &[(&str, &str, &str)] = &[
    (
        "families",
        "id, municipality_id, area_id, fee_bracket, consent_coordinators, consent_hubs, escalated, created_at, \
         partner_sees_health, partner_view_off",
        "id",
    ),
    (
        "people",
        "id, family_id, municipality_id, relation, family_name, given_name, family_name_kana, given_name_kana, \
         kana_key, given_kana_key, birth_date",
        "id",
    ),
    (
        "pregnancies",
        "id, family_id, municipality_id, notified_on, edd, foetuses, first_child, status, handbook_number, \
         ended_on, timeline_rules",
        "id",
    ),
    (
        "babies",
        "id, pregnancy_id, family_id, person_id, birth_date, sex, gestational_weeks, gestational_days, \
         birth_weight_g, long_hospitalisation",
        "id",
    ),
    (
        "contacts",
        "id, municipality_id, family_id, area_id, pregnancy_id, kind, subject_kind, subject_id, owner_role, \
         staff_owed, opens, due, closes, outcome, form, attempts, outcome_note, outcome_by, outcome_at, ending, \
         hidden, awaits, missed_on, created_at, updated_at, outcome_note_audience, contacted_on",
        "id",
    ),
    ("audit_log", "municipality_id, seq, at, actor, role, action, family_id, detail, reason, prev_hash, hash", "seq"),
];

async fn dump(db: &TestDb) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for (table, columns, order) in DUMPS {
        let text = columns
            .split(',')
            .map(|c| format!("COALESCE(CAST({} AS TEXT), '-')", c.trim()))
            .collect::<Vec<_>>()
            .join(" || '|' || ");
        let rows = texts(db, &format!("SELECT {text} FROM {table} ORDER BY {order}")).await;
        out.push(((*table).to_owned(), rows));
    }
    out
}

fn person(family_kana: &str, given_kana: &str, birth: Option<&str>) -> PersonInput {
    mother(family_kana, given_kana, birth)
}

fn checked(
    area: AreaId,
    m: PersonInput,
    edd: &str,
    notified: Option<&str>,
    foetuses: i64,
    handbook: Option<&str>,
) -> Notification {
    let mut input = notification_input(area, m, edd);
    input.notified_on = notified.map(Into::into);
    input.foetuses = foetuses;
    input.handbook_number = handbook.map(Into::into);
    input.check(today()).unwrap()
}

fn new_baby(d: Date, sex: Sex, name: Option<(&str, &str)>) -> NewBaby {
    NewBaby {
        birth_date: d,
        sex,
        given_name: name.map(|(n, _)| n.to_owned()).unwrap_or_default(),
        given_name_kana: name.map(|(_, k)| tsunagu_domain::kana::Kana::parse(k).unwrap()),
        gestational_weeks: 38,
        gestational_days: 1,
        birth_weight_g: Some(2900),
        long_hospitalisation: false,
    }
}

fn family(notification: Notification, babies: Vec<NewBaby>, settled: Option<Date>) -> ImportFamily {
    ImportFamily { notification, babies, settled_through: settled }
}

/// The batch: many ordinary families (enough to cross the SQLite chunks),
/// and every kind of case the one-by-one path tells apart.
fn batch(north: AreaId, south: AreaId) -> Vec<ImportFamily> {
    let mut out = Vec::new();
    let mut with_partner =
        checked(north, person("ヤマダ", "ハナコ", Some("1994-05-01")), "2027-05-20", None, 1, Some("H-1"));
    with_partner.partner = Some(with_partner.mother.clone());
    if let Some(p) = with_partner.partner.as_mut() {
        p.given_name = "太郎".into();
        p.given_name_kana = tsunagu_domain::kana::Kana::parse("タロウ").unwrap();
    }
    out.push(family(with_partner, vec![], None));
    // Twins born, the history settled through yesterday.
    out.push(family(
        checked(south, person("サトウ", "ミカ", None), "2026-12-01", Some("2026-05-01"), 2, None),
        vec![
            new_baby(date(2026, 11, 20), Sex::Female, Some(("一花", "イチカ"))),
            new_baby(date(2026, 11, 20), Sex::Male, None),
        ],
        Some(date(2026, 11, 21)),
    ));
    // The same pregnancy as the first, a few days apart: a duplicate in the batch.
    out.push(family(
        checked(north, person("ヤマダ", "ハナコ", Some("1994-05-01")), "2027-05-25", None, 1, None),
        vec![],
        None,
    ));
    // The first's handbook number.
    out.push(family(checked(north, person("スズキ", "アイ", None), "2027-04-01", None, 1, Some("H-1")), vec![], None));
    // The same as a family on record (registered before).
    out.push(family(checked(south, person("タナカ", "ユイ", None), "2027-03-03", None, 1, None), vec![], None));
    // A handbook number on record.
    out.push(family(checked(south, person("イトウ", "ナナ", None), "2027-02-02", None, 1, Some("H-0")), vec![], None));
    // The twins' mother again, a new pregnancy close by: not a duplicate, the other is delivered.
    out.push(family(checked(north, person("サトウ", "ミカ", None), "2026-12-05", None, 1, None), vec![], None));
    // An old pregnancy, born, nothing settled: missed contacts stamped.
    out.push(family(
        checked(north, person("キムラ", "サキ", None), "2026-06-01", Some("2025-12-01"), 1, None),
        vec![new_baby(date(2026, 5, 30), Sex::Undetermined, None)],
        None,
    ));
    // The same, settled through September.
    out.push(family(
        checked(south, person("キムラ", "ユキ", None), "2026-06-01", Some("2025-12-01"), 1, None),
        vec![new_baby(date(2026, 5, 30), Sex::Male, None)],
        Some(date(2026, 9, 1)),
    ));
    let kana = ["ア", "イ", "ウ", "エ", "オ", "カ", "キ", "ク", "ケ", "コ", "サ", "シ", "ス", "セ", "ソ"];
    for i in 0..150usize {
        let given = format!("{}{}", kana[i % kana.len()], kana[(i / kana.len()) % kana.len()]);
        let area = if i % 2 == 0 { north } else { south };
        let edd = date(2027, 1, 1).saturating_add(jiff::Span::new().days(i64::try_from(i).unwrap()));
        let babies = if i % 3 == 0 {
            vec![new_baby(
                date(2026, 11, 1).saturating_sub(jiff::Span::new().days(i64::try_from(i % 30).unwrap())),
                Sex::Female,
                None,
            )]
        } else {
            vec![]
        };
        let notified = if babies.is_empty() { None } else { Some("2026-04-01") };
        let edd = if babies.is_empty() { edd } else { date(2026, 11, 1) };
        out.push(family(
            checked(area, person("モリ", &given, None), &edd.to_string(), notified, 1, None),
            babies,
            (i % 5 == 0).then(|| date(2026, 10, 1)),
        ));
    }
    out
}

/// A fresh database with one town and the two families on record the batch collides with.
/// Also the importing account (the contacts the history settles name it).
async fn prepared(backend: Backend) -> (Db, TestDb, MunicipalityId, AreaId, AreaId, AuditContext) {
    let (s, db) = fresh(backend).await;
    let (m, north, south) = town(&s, "131121").await;
    let admin = s.create_account(None, &new_account(m, "import", Role::Admin)).await.unwrap();
    let importer = as_staff(m, Role::Admin, admin.id.0, "2026-11-22T01:02:03.123456Z");
    let nurse = ctx(m, Role::Nurse);
    s.register_notification(&nurse, &checked(south, person("タナカ", "ユイ", None), "2027-03-01", None, 1, None))
        .await
        .unwrap();
    s.register_notification(
        &nurse,
        &checked(north, person("ワタナベ", "リコ", None), "2027-04-04", None, 1, Some("H-0")),
    )
    .await
    .unwrap();
    (s, db, m, north, south, importer)
}

async fn story_bulk_import_writes_the_rows_of_the_one_by_one_path(backend: Backend) {
    let (bulk, bulk_db, m, north, south, importer) = prepared(backend).await;
    let (each, each_db, m2, north2, south2, _) = prepared(backend).await;
    assert_eq!((m, north, south), (m2, north2, south2), "two fresh databases, the same ids");
    let families = batch(north, south);
    let by_bulk = bulk.import_families(&importer, &families).await.unwrap();
    let by_each = each.import_families_one_by_one(&importer, &families).await.unwrap();
    assert_eq!(by_bulk, by_each, "the same answers, family by family");
    let refused: Vec<_> = by_bulk.iter().filter_map(|r| r.err()).collect();
    assert_eq!(
        refused,
        ["duplicate_notification", "handbook_number_taken", "duplicate_notification", "handbook_number_taken"]
    );
    let (a, b) = (dump(&bulk_db).await, dump(&each_db).await);
    for ((table, rows_a), (_, rows_b)) in a.iter().zip(&b) {
        assert!(!rows_a.is_empty(), "{table} has rows");
        assert_eq!(rows_a.len(), rows_b.len(), "{table}: as many rows");
        for (x, y) in rows_a.iter().zip(rows_b) {
            assert_eq!(x, y, "{table}: the same row");
        }
    }
    // Some contacts were settled by the history, some stamped missed.
    let contacts = &a.iter().find(|(t, _)| t == "contacts").unwrap().1;
    assert!(contacts.iter().any(|c| c.contains("|done|")));
    assert!(contacts.iter().any(|c| c.contains("|import|")));
    assert!(verify_chain(&bulk, m).await.is_ok());
    finish(bulk, bulk_db).await;
    finish(each, each_db).await;
}

async fn story_a_bulk_import_again_refuses_every_family_and_stores_nothing_twice(backend: Backend) {
    let (s, db, m, north, south, importer) = prepared(backend).await;
    // Notifications only, as a CSV of them brings (a delivered pregnancy is
    // no longer `ongoing`, so the duplicate rule does not look at it).
    let families: Vec<_> = batch(north, south).into_iter().filter(|f| f.babies.is_empty()).collect();
    let first = s.import_families(&importer, &families).await.unwrap();
    let stored = first.iter().filter(|r| r.is_ok()).count();
    let count = |t: &'static str| {
        let db = &db;
        async move { scalar::<i64>(db, &format!("SELECT COUNT(*) FROM {t}")).await }
    };
    let before = (count("families").await, count("people").await, count("contacts").await);
    let again = s.import_families(&importer, &families).await.unwrap();
    assert_eq!(again.len(), families.len());
    assert!(again.iter().all(|r| r.is_err()), "every family is on record now");
    assert_eq!(before, (count("families").await, count("people").await, count("contacts").await));
    assert_eq!(before.0, i64::try_from(stored).unwrap() + 2);
    // An area of another municipality undoes the whole batch.
    let (_, foreign, _) = town(&s, "082350").await;
    let mut bad = batch(north, south);
    bad.push(family(checked(foreign, person("ノダ", "アキ", None), "2027-05-05", None, 1, None), vec![], None));
    assert!(matches!(
        s.import_families(&importer, &bad).await,
        Err(tsunagu_store::StoreError::InvalidReference("area_id"))
    ));
    assert_eq!(before.0, count("families").await);
    // An empty batch changes nothing; the chain holds.
    assert!(s.import_families(&importer, &[]).await.unwrap().is_empty());
    assert_eq!(verify_chain(&s, m).await.unwrap(), 2 + u64::try_from(stored).unwrap());
    finish(s, db).await;
}

/// Mothers of one name told apart by their birth dates (#16: the bulk
/// lookup reads by key and date, not every mother of the name): the bulk
/// path refuses exactly the families the one-by-one path refuses.
async fn story_a_bulk_import_tells_mothers_of_one_name_apart_by_birth_date(backend: Backend) {
    let (bulk, bulk_db, m, north, south, importer) = prepared(backend).await;
    let (each, each_db, _, _, _, _) = prepared(backend).await;
    let nurse = ctx(m, Role::Nurse);
    for s in [&bulk, &each] {
        for (given, born) in [("ミホ", Some("1990-01-01")), ("サエ", None)] {
            s.register_notification(
                &nurse,
                &checked(south, person("オカダ", given, born), "2027-03-01", None, 1, None),
            )
            .await
            .unwrap();
        }
    }
    let families: Vec<ImportFamily> = [
        ("ミホ", Some("1990-01-01"), "2027-03-05"), // the same mother, the same pregnancy
        ("ミホ", Some("1991-02-02"), "2027-03-05"), // another mother of the same name
        ("ミホ", Some("1992-03-03"), "2027-03-08"), // and a third
        ("サエ", Some("1990-01-01"), "2027-03-05"), // no birth date on record: can be her
        ("サエ", Some("1990-01-01"), "2027-04-15"), // 45 days apart: another pregnancy
        ("ミホ", None, "2027-03-20"),               // no birth date here: can be any of them
        ("ナオ", Some("1990-01-01"), "2027-03-05"), // another name
    ]
    .into_iter()
    .map(|(given, born, edd)| family(checked(north, person("オカダ", given, born), edd, None, 1, None), vec![], None))
    .collect();
    let by_bulk = bulk.import_families(&importer, &families).await.unwrap();
    let by_each = each.import_families_one_by_one(&importer, &families).await.unwrap();
    assert_eq!(by_bulk, by_each, "the same answers, family by family");
    let refused: Vec<_> = by_bulk.iter().map(|r| r.err()).collect();
    let dup = Some("duplicate_notification");
    assert_eq!(refused, [dup, None, None, dup, None, dup, None]);
    assert_eq!(dump(&bulk_db).await, dump(&each_db).await);
    assert!(verify_chain(&bulk, m).await.is_ok());
    finish(bulk, bulk_db).await;
    finish(each, each_db).await;
}

/// The indexes of the tables a large load fills (and on PostgreSQL their
/// constraints) by name, read behind the store's back.
async fn load_indexes(db: &TestDb) -> Vec<String> {
    let tables = tsunagu_store::bulk::SET_ASIDE_TABLES.iter().map(|t| format!("'{t}'")).collect::<Vec<_>>().join(", ");
    let sql = match db.backend {
        Backend::Sqlite => {
            format!("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ({tables}) ORDER BY name")
        }
        Backend::Postgres => format!(
            "SELECT indexname::text FROM pg_indexes WHERE tablename IN ({tables}) UNION ALL \
             SELECT conname::text FROM pg_constraint WHERE conrelid::regclass::text IN ({tables}) ORDER BY 1"
        ),
    };
    texts(db, &sql).await
}

async fn story_a_large_load_builds_the_loaded_tables_indexes_after_it(backend: Backend) {
    let (bulk, bulk_db, m, north, south, importer) = prepared(backend).await;
    let (each, each_db, ..) = prepared(backend).await;
    let all = load_indexes(&bulk_db).await;
    assert!(all.len() >= 20, "{all:?}");
    bulk.bulk_load_begin().await.unwrap();
    let during = load_indexes(&bulk_db).await;
    assert!(during.len() < all.len() && during.iter().all(|i| all.contains(i)), "{during:?}");
    // Every table gives some up; what the import reads while it runs stays.
    for gone in ["contacts_due", "people_mother_kana", "people_family", "pregnancies_edd", "babies_family"] {
        assert!(all.iter().any(|i| i == gone) && !during.iter().any(|i| i == gone), "{gone}: {during:?}");
    }
    for kept in tsunagu_store::bulk::KEPT_DURING_LOAD {
        assert!(during.iter().any(|i| i == kept), "{kept} is read by the import: {during:?}");
    }
    // The lists stay right meanwhile, only slower.
    let scope = tsunagu_store::WorkScope {
        filter: tsunagu_domain::policy::FamilyFilter::Municipality(m),
        owner: None,
        areas: vec![],
        kind: None,
        today: today(),
    };
    let before = each.work_counts(&scope, None).await.unwrap();
    assert_eq!(bulk.work_counts(&scope, None).await.unwrap(), before);
    let families = batch(north, south);
    let by_bulk = bulk.import_families(&importer, &families).await.unwrap();
    assert_eq!(bulk.bulk_load_end().await.unwrap(), all.len() - during.len());
    assert_eq!(load_indexes(&bulk_db).await, all, "every index is back");
    assert_eq!(bulk.bulk_load_end().await.unwrap(), 0, "nothing left to build");
    // The same rows as the one-by-one path with its indexes in place.
    let by_each = each.import_families_one_by_one(&importer, &families).await.unwrap();
    assert_eq!(by_bulk, by_each);
    assert_eq!(dump(&bulk_db).await, dump(&each_db).await);
    assert_eq!(bulk.work_counts(&scope, None).await.unwrap(), each.work_counts(&scope, None).await.unwrap());
    assert!(verify_chain(&bulk, m).await.is_ok());
    // A load that stops before its end (a crash): the next start's migrate builds them.
    bulk.bulk_load_begin().await.unwrap();
    assert_eq!(load_indexes(&bulk_db).await, during);
    let next = another_node(&bulk_db).await;
    assert_eq!(load_indexes(&bulk_db).await, all, "rebuilt when the next node starts");
    assert_eq!(next.bulk_load_end().await.unwrap(), 0);
    close_node(next).await;
    finish(bulk, bulk_db).await;
    finish(each, each_db).await;
}

/// What a demo load stored, per municipality code and without ids: when
/// municipalities load side by side, their rows' ids interleave.
const DEMO_FACTS: &[&str] = &[
    "SELECT m.code || '|' || p.relation || '|' || p.family_name_kana || '|' || p.given_name_kana || '|' || \
     COALESCE(CAST(p.birth_date AS TEXT), '-') FROM people p JOIN municipalities m ON m.id = p.municipality_id \
     ORDER BY 1",
    "SELECT m.code || '|' || CAST(g.edd AS TEXT) || '|' || CAST(g.notified_on AS TEXT) || '|' || g.status || '|' || \
     COALESCE(g.handbook_number, '-') FROM pregnancies g JOIN municipalities m ON m.id = g.municipality_id \
     ORDER BY 1",
    "SELECT m.code || '|' || CAST(b.birth_date AS TEXT) || '|' || b.sex || '|' || \
     COALESCE(CAST(b.birth_weight_g AS TEXT), '-') FROM babies b JOIN municipalities m ON m.id = b.municipality_id \
     ORDER BY 1",
    "SELECT m.code || '|' || c.kind || '|' || CAST(c.due AS TEXT) || '|' || COALESCE(c.outcome, '-') || '|' || \
     CAST(c.awaits AS TEXT) || '|' || COALESCE(CAST(c.missed_on AS TEXT), '-') \
     FROM contacts c JOIN municipalities m ON m.id = c.municipality_id ORDER BY 1",
    "SELECT m.code || '|' || CAST(a.seq AS TEXT) || '|' || a.action FROM audit_log a \
     JOIN municipalities m ON m.id = a.municipality_id ORDER BY m.code, a.seq",
];

async fn demo_load(backend: Backend, bulk_from: usize) -> (Db, TestDb) {
    let (s, db) = fresh(backend).await;
    let now = at("2026-11-22T01:02:03Z");
    let opts = tsunagu_demo::DemoOptions { families_per_municipality: 30, seed: 5, today: today(), now, bulk_from };
    let hash = |p: &str| tsunagu_store::Secret::new(format!("hashed:{p}"));
    let started = std::time::Instant::now();
    let summary = tsunagu_demo::load(s.as_ref(), &opts, &hash).await.unwrap();
    assert_eq!(summary.families, 60, "{summary:?}");
    // The families' time is a part of the load's (the rate `demo-load`
    // prints): never the sum of municipalities loaded side by side.
    assert!(summary.families_time <= started.elapsed(), "{summary:?}");
    (s, db)
}

/// The demo's large path (#16: the loaded tables' indexes set aside, the
/// municipalities loaded side by side) stores what its small path stores,
/// with every index back and each municipality's chain valid.
async fn story_a_large_demo_load_stores_what_a_small_one_does(backend: Backend) {
    let (large, large_db) = demo_load(backend, 1).await;
    let (small, small_db) = demo_load(backend, usize::MAX).await;
    for sql in DEMO_FACTS {
        let (l, s) = (texts(&large_db, sql).await, texts(&small_db, sql).await);
        assert!(!l.is_empty(), "{sql}");
        let first = l.iter().zip(&s).position(|(a, b)| a != b);
        assert!(
            first.is_none() && l.len() == s.len(),
            "{sql}: large {} rows, small {}; first difference at {first:?}: {:?} / {:?}",
            l.len(),
            s.len(),
            first.and_then(|i| l.get(i.saturating_sub(1)..(i + 2).min(l.len()))),
            first.and_then(|i| s.get(i.saturating_sub(1)..(i + 2).min(s.len()))),
        );
    }
    assert_eq!(load_indexes(&large_db).await, load_indexes(&small_db).await, "every index is back");
    assert_eq!(texts(&large_db, "SELECT name FROM bulk_dropped_indexes").await, Vec::<String>::new());
    for c in ["131121", "082350"] {
        let m = large.municipality_by_code(code(c)).await.unwrap().expect("demo municipality").id;
        assert!(verify_chain(&large, m).await.unwrap() > 30, "{c}");
    }
    finish(large, large_db).await;
    finish(small, small_db).await;
}

on_both!(
    bulk_import_writes_the_rows_of_the_one_by_one_path => story_bulk_import_writes_the_rows_of_the_one_by_one_path,
    a_bulk_import_again_refuses_every_family_and_stores_nothing_twice => story_a_bulk_import_again_refuses_every_family_and_stores_nothing_twice,
    a_large_load_builds_the_loaded_tables_indexes_after_it => story_a_large_load_builds_the_loaded_tables_indexes_after_it,
    a_bulk_import_tells_mothers_of_one_name_apart_by_birth_date => story_a_bulk_import_tells_mothers_of_one_name_apart_by_birth_date,
    a_large_demo_load_stores_what_a_small_one_does => story_a_large_demo_load_stores_what_a_small_one_does,
);
