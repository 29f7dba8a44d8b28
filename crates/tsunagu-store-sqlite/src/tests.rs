//! Tests of the SQLite store's postpartum-care, referral, follow-up, online
//! talk and incident storage, each against a
//! fresh database FILE of its own (not `:memory:`, so that the reader pool
//! sees what the writer committed, and so that several stores can share one
//! database as several processes would). The rest of the store is tested
//! through the service in `crates/tsunagu/tests`.

use super::*;
use jiff::civil::{date, datetime};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use tsunagu_domain::audit::{ChainError, ChainVerifier};
use tsunagu_domain::policy::{authorize, Action, Resource};
use tsunagu_domain::postpartum::calendar::{CapacityPlan, CapacityPool, OpeningRules};
use tsunagu_domain::records::{NotificationInput, PersonInput};
use tsunagu_domain::referrals::{self, apply};
use tsunagu_domain::roles::Actor;

type Db = SqliteStore;

/// The keys every test store is opened with.
fn test_keys() -> StoreKeys {
    StoreKeys::derive(&tsunagu_domain::keys::MasterKey::from_bytes(&[7; 32]).unwrap())
}

// --- test databases ---------------------------------------------------------

/// A database file in the temporary directory, removed (with its WAL and
/// shared-memory files) when dropped.
struct TempDb {
    path: PathBuf,
}

impl TempDb {
    fn new() -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!("tsunagu-store-sqlite-{}-{}.sqlite3", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
        let db = Self { path: std::env::temp_dir().join(name) };
        db.remove_files();
        db
    }

    fn url(&self) -> String {
        format!("sqlite://{}", self.path.display())
    }

    fn remove_files(&self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = self.path.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        self.remove_files();
    }
}

/// A migrated store on a fresh database file.
async fn fresh() -> (SqliteStore, TempDb) {
    let db = TempDb::new();
    let store = SqliteStore::connect(&db.url(), test_keys()).await.unwrap();
    store.migrate().await.unwrap();
    (store, db)
}

/// Another store on the same file: its own writer connection, like another
/// process (node) of the service.
async fn another_node(db: &TempDb) -> SqliteStore {
    SqliteStore::connect(&db.url(), test_keys()).await.unwrap()
}

async fn close_node(s: SqliteStore) {
    s.writer.close().await;
    s.reader.close().await;
}

async fn finish(s: SqliteStore, db: TempDb) {
    close_node(s).await;
    drop(db);
}

// --- fixtures ---------------------------------------------------------------

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn today() -> Date {
    date(2026, 11, 22)
}

fn ctx(m: MunicipalityId, role: Role) -> AuditContext {
    AuditContext {
        municipality_id: m,
        actor: AccountId(7),
        role,
        remote_addr: "192.0.2.1".into(),
        reason: "test".into(),
        at: at("2026-11-22T01:02:03.123456Z"),
    }
}

fn code(s: &str) -> MunicipalityCode {
    MunicipalityCode::parse(s).unwrap()
}

/// A municipality with two areas.
async fn town(s: &SqliteStore, c: &str) -> (MunicipalityId, AreaId, AreaId) {
    let m = s.create_municipality(code(c), "町", "Town").await.unwrap();
    let a = s.create_area(m.id, "北", "North").await.unwrap();
    let b = s.create_area(m.id, "南", "South").await.unwrap();
    (m.id, a.id, b.id)
}

fn notification(area: AreaId, family_kana: &str, given_kana: &str) -> Notification {
    NotificationInput {
        area_id: area.0,
        fee_bracket: "taxed".into(),
        consent_coordinators: true,
        consent_hubs: false,
        notified_on: None,
        edd: "2027-05-20".into(),
        foetuses: 1,
        first_child: true,
        handbook_number: None,
        mother: PersonInput {
            family_name: "山田".into(),
            given_name: "花子".into(),
            family_name_kana: family_kana.into(),
            given_name_kana: given_kana.into(),
            birth_date: Some("1994-05-01".into()),
        },
        partner: None,
    }
    .check(today())
    .unwrap()
}

/// Walks the whole chain page by page, as an auditor would.
async fn verify_chain(s: &SqliteStore, m: MunicipalityId) -> Result<u64, ChainError> {
    let keys = test_keys();
    let mut v = ChainVerifier::new(&keys.chain);
    let mut after = 0;
    loop {
        let lines = s.audit_lines(m, after, 7).await.unwrap();
        if lines.is_empty() {
            break;
        }
        for l in &lines {
            v.push(l)?;
            after = l.seq;
        }
    }
    v.finish(s.audit_head(m).await.unwrap())
}

// --- migrations ---------------------------------------------------------------

#[tokio::test]
async fn migrations_apply_once_in_order() {
    let (s, db) = fresh().await;
    s.migrate().await.unwrap();
    let applied: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
            .fetch_all(&s.reader)
            .await
            .unwrap();
    let expected: Vec<_> = MIGRATIONS.iter().map(|m| (m.version, m.name.to_owned(), m.checksum())).collect();
    assert_eq!(applied, expected);
    assert_eq!(applied.iter().map(|a| a.0).collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6, 8]);
    finish(s, db).await;
}

// --- postpartum care ----------------------------------------------------------

fn day(m: i8, d: i8) -> Date {
    date(2027, m, d)
}

fn stay(first: Date, days: u32) -> DateRange {
    DateRange::starting(first, days).unwrap()
}

/// A registered family whose mother is 山田 花子 (kana as given, so that
/// families do not count as duplicates of each other).
async fn family(s: &Db, m: MunicipalityId, area: AreaId, given_kana: &str) -> FamilyId {
    s.register_notification(&ctx(m, Role::Nurse), &notification(area, "ヤマダ", given_kana)).await.unwrap()
}

/// A venue of kind `postpartum_facility` configured with `calendar`.
async fn facility(s: &Db, m: MunicipalityId, name: &str, calendar: &FacilityCalendar) -> VenueId {
    let v = s
        .create_venue(&NewVenue {
            municipality_id: m,
            area_id: None,
            kind: VenueKind::PostpartumFacility,
            name_ja: name.into(),
            name_en: name.into(),
        })
        .await
        .unwrap();
    s.set_postpartum_facility(m, v.id, "運営", "Operator", calendar).await.unwrap();
    v.id
}

/// Open every day with one pool of `places` for every service type.
fn every_day(places: u32) -> FacilityCalendar {
    FacilityCalendar::new(
        OpeningRules::every_day(),
        vec![CapacityPool {
            services: ServiceType::ALL.to_vec(),
            plan: CapacityPlan::fixed(places),
            from: None,
            accepts_siblings: false,
        }],
    )
    .unwrap()
}

fn application(f: FamilyId, venue: VenueId, service: ServiceType, days: DateRange) -> NewApplication {
    NewApplication {
        family_id: f,
        venue_id: venue,
        service,
        stay: days,
        babies: 1,
        siblings: 0,
        answers: ApplicationAnswers {
            has_worries_or_fatigue: true,
            lacks_help_from_relatives: true,
            ..Default::default()
        },
        quote_total_yen: 4500 * days.len_days(),
        transport_paid: false,
        refusals: vec![],
        override_reason: None,
    }
}

/// One place of pool `pool` on every day of `days`, each day with `places`.
fn booking(pool: u32, days: DateRange, places: u32) -> Booking {
    Booking { pool, places: days.days().map(|d| (d, places)).collect() }
}

async fn status(s: &Db, m: MunicipalityId, id: ApplicationId) -> ApplicationStatus {
    s.application(&ctx(m, Role::Nurse), id).await.unwrap().unwrap().status
}

fn all_of_2027() -> DateRange {
    DateRange::new(day(1, 1), day(12, 31)).unwrap()
}

#[tokio::test]
async fn facility_configuration_round_trips() {
    let (s, db) = fresh().await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, _, _) = town(&s, "082350").await;
    let centre = facility(&s, m, "産後ケアセンター", &FacilityCalendar::setagaya_centre()).await;
    let mamas = facility(&s, m, "ママズルーム", &FacilityCalendar::setagaya_mamas_room()).await;
    let got = s.postpartum_facilities(m).await.unwrap();
    assert_eq!(got.iter().map(|f| f.venue.id).collect::<Vec<_>>(), [centre, mamas]);
    assert_eq!(got[0].calendar, FacilityCalendar::setagaya_centre());
    assert_eq!(got[1].calendar, FacilityCalendar::setagaya_mamas_room());
    assert_eq!((got[0].operator_ja.as_str(), got[0].operator_en.as_str()), ("運営", "Operator"));
    assert_eq!((got[1].venue.kind, got[1].venue.name_ja.as_str()), (VenueKind::PostpartumFacility, "ママズルーム"));
    // The calendar answers as it did before it was stored.
    assert_eq!(got[1].calendar.capacity(ServiceType::DayCare, date(2022, 1, 21)), 2);
    assert!(!got[1].calendar.is_open(date(2025, 10, 13)));

    // Setting it again replaces it.
    s.set_postpartum_facility(m, mamas, "いなみ小児科", "Inami clinic", &FacilityCalendar::setagaya_shiseikai())
        .await
        .unwrap();
    let got = s.postpartum_facilities(m).await.unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].operator_ja, "いなみ小児科");
    assert_eq!(got[1].calendar, FacilityCalendar::setagaya_shiseikai());

    // Only venues of the right kind, in the municipality.
    let hall = s
        .create_venue(&NewVenue {
            municipality_id: m,
            area_id: Some(north),
            kind: VenueKind::ChildrensHall,
            name_ja: "児童館".into(),
            name_en: "Hall".into(),
        })
        .await
        .unwrap();
    let cal = every_day(1);
    assert!(matches!(
        s.set_postpartum_facility(m, hall.id, "x", "x", &cal).await,
        Err(StoreError::InvalidReference("venue_id"))
    ));
    assert!(matches!(
        s.set_postpartum_facility(other, centre, "x", "x", &cal).await,
        Err(StoreError::InvalidReference("venue_id"))
    ));
    assert!(matches!(
        s.set_postpartum_facility(m, VenueId(9999), "x", "x", &cal).await,
        Err(StoreError::InvalidReference("venue_id"))
    ));
    assert!(s.postpartum_facilities(other).await.unwrap().is_empty());
    // Configuration is not a read of anyone's record.
    assert_eq!(s.audit_head(m).await.unwrap(), None);
    finish(s, db).await;
}

#[tokio::test]
async fn applications_are_stored_listed_and_viewed_with_an_audit_line_each() {
    let (s, db) = fresh().await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, other_area, _) = town(&s, "082350").await;
    let centre = facility(&s, m, "センター", &FacilityCalendar::setagaya_centre()).await;
    let mamas = facility(&s, m, "ママズルーム", &FacilityCalendar::setagaya_mamas_room()).await;
    let f = family(&s, m, north, "ハナコ").await;
    let g = family(&s, m, north, "ミカ").await;
    let foreign = family(&s, other, other_area, "ハナコ").await;
    let mut nurse = ctx(m, Role::Nurse);

    let mut a = application(f, centre, ServiceType::ShortStay, stay(day(5, 10), 7));
    a.babies = 2;
    a.siblings = 1;
    a.answers.grandparents_nearby = true;
    a.transport_paid = true;
    a.quote_total_yen = 38_500;
    a.refusals = vec!["over_age_limit".into(), "needs_medical_treatment".into()];
    // Refusals without a nurse's reason are not stored.
    assert!(matches!(s.create_application(&nurse, &a).await, Err(StoreError::Conflict("override_reason_required"))));
    a.override_reason = Some("主治医と相談済み".into());
    let first = s.create_application(&nurse, &a).await.unwrap();
    nurse.at = at("2026-11-22T02:00:00Z");
    let second =
        s.create_application(&nurse, &application(f, mamas, ServiceType::DayCare, stay(day(6, 7), 1))).await.unwrap();
    nurse.at = at("2026-11-22T03:00:00Z");
    let third =
        s.create_application(&nurse, &application(g, centre, ServiceType::DayCare, stay(day(6, 8), 1))).await.unwrap();

    // Families and facilities of other municipalities are refused.
    assert!(matches!(
        s.create_application(&nurse, &application(foreign, centre, ServiceType::DayCare, stay(day(6, 8), 1))).await,
        Err(StoreError::InvalidReference("family_id"))
    ));
    let other_centre = facility(&s, other, "他市センター", &every_day(3)).await;
    assert!(matches!(
        s.create_application(&nurse, &application(f, other_centre, ServiceType::DayCare, stay(day(6, 8), 1))).await,
        Err(StoreError::InvalidReference("venue_id"))
    ));
    let plain = s
        .create_venue(&NewVenue {
            municipality_id: m,
            area_id: None,
            kind: VenueKind::PostpartumFacility,
            name_ja: "未設定".into(),
            name_en: "Not configured".into(),
        })
        .await
        .unwrap();
    assert!(matches!(
        s.create_application(&nurse, &application(f, plain.id, ServiceType::DayCare, stay(day(6, 8), 1))).await,
        Err(StoreError::InvalidReference("venue_id"))
    ));

    let lines = s.audit_lines(m, 0, 100).await.unwrap();
    let applies: Vec<_> = lines.iter().filter(|l| l.action == "postpartum.apply").collect();
    assert_eq!(applies.len(), 3);
    assert_eq!((applies[0].family_id, applies[0].detail.clone()), (Some(f), format!("application={first}")));

    // Viewing one is audited with its family.
    let seen = s.application(&nurse, first).await.unwrap().unwrap();
    let last = s.audit_lines(m, 0, 100).await.unwrap().pop().unwrap();
    assert_eq!(
        (last.action.as_str(), last.family_id, last.detail.as_str()),
        ("postpartum.view", Some(f), format!("application={first}").as_str())
    );
    assert_eq!(
        seen,
        Application {
            id: first,
            municipality_id: m,
            family_id: f,
            venue_id: centre,
            service: ServiceType::ShortStay,
            stay: stay(day(5, 10), 7),
            babies: 2,
            siblings: 1,
            answers: a.answers,
            quote_total_yen: 38_500,
            transport_paid: true,
            refusals: a.refusals.clone(),
            override_reason: Some("主治医と相談済み".into()),
            status: ApplicationStatus::Applied,
            applied_by: nurse.actor,
            applied_at: at("2026-11-22T01:02:03.123456Z"),
            reviewed_by: None,
            reviewed_at: None,
            review_note: None,
            mother_name: "山田 花子".into(),
        }
    );
    // Not from another municipality, and then nothing is written.
    let head = s.audit_head(other).await.unwrap();
    assert_eq!(s.application(&ctx(other, Role::Nurse), first).await.unwrap(), None);
    assert_eq!(s.audit_head(other).await.unwrap(), head);

    // Lists: newest first, filtered, audited with the count.
    let ids = |v: Vec<Application>| v.into_iter().map(|a| a.id).collect::<Vec<_>>();
    let list = |filter: ApplicationFilter| {
        let (s, nurse) = (&s, &nurse);
        async move { s.applications(nurse, &filter).await.unwrap() }
    };
    let all = ApplicationFilter { limit: 100, ..Default::default() };
    assert_eq!(ids(list(all.clone()).await), [third, second, first]);
    let last = s.audit_lines(m, 0, 100).await.unwrap().pop().unwrap();
    assert_eq!((last.action.as_str(), last.family_id, last.detail.as_str()), ("postpartum.list", None, "results=3"));
    assert_eq!(ids(list(ApplicationFilter { family_id: Some(f), ..all.clone() }).await), [second, first]);
    let last = s.audit_lines(m, 0, 100).await.unwrap().pop().unwrap();
    assert_eq!((last.action.as_str(), last.family_id, last.detail.as_str()), ("postpartum.list", Some(f), "results=2"));
    assert_eq!(ids(list(ApplicationFilter { venue_id: Some(centre), ..all.clone() }).await), [third, first]);
    assert_eq!(ids(list(ApplicationFilter { limit: 1, ..all.clone() }).await), [third]);
    let approved = ApplicationFilter { status: Some(ApplicationStatus::Approved), ..all.clone() };
    assert!(list(approved.clone()).await.is_empty());
    s.approve_application(&nurse, second, &booking(0, stay(day(6, 7), 1), 3), "").await.unwrap();
    assert_eq!(ids(list(approved).await), [second]);
    assert!(list(all.clone()).await.iter().all(|a| a.mother_name == "山田 花子"));
    assert!(s.applications(&ctx(other, Role::Nurse), &all).await.unwrap().is_empty());
    assert!(verify_chain(&s, m).await.is_ok());
    finish(s, db).await;
}

#[tokio::test]
async fn approving_takes_every_day_or_none_and_cancelling_gives_them_back() {
    let (s, db) = fresh().await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, _, _) = town(&s, "082350").await;
    let v = facility(&s, m, "病院", &every_day(1)).await;
    let f = family(&s, m, north, "ハナコ").await;
    let g = family(&s, m, north, "ミカ").await;
    let mut nurse = ctx(m, Role::Nurse);
    nurse.actor = AccountId(21);
    nurse.at = at("2026-12-01T09:00:00Z");
    let taken = |range: DateRange| {
        let s = &s;
        async move { s.places_taken(m, v, 0, range).await.unwrap() }
    };
    let june = DateRange::new(day(6, 1), day(6, 30)).unwrap();

    // A: 1–3 June.
    let a_stay = stay(day(6, 1), 3);
    let a = s.create_application(&nurse, &application(f, v, ServiceType::ShortStay, a_stay)).await.unwrap();
    // The booking must be the stay's days, each once.
    for wrong in [
        booking(0, stay(day(6, 1), 2), 1),
        booking(0, stay(day(6, 2), 3), 1),
        Booking { pool: 0, places: vec![(day(6, 1), 1), (day(6, 2), 1), (day(6, 2), 1), (day(6, 3), 1)] },
    ] {
        assert!(matches!(
            s.approve_application(&nurse, a, &wrong, "").await,
            Err(StoreError::Conflict("booking_mismatch"))
        ));
    }
    // A day without places refuses the whole stay.
    let closed = Booking { pool: 0, places: vec![(day(6, 1), 1), (day(6, 2), 0), (day(6, 3), 1)] };
    assert!(matches!(s.approve_application(&nurse, a, &closed, "").await, Err(StoreError::Conflict("no_capacity"))));
    assert!(taken(june).await.is_empty());
    // Not from another municipality.
    assert!(matches!(
        s.approve_application(&ctx(other, Role::Nurse), a, &booking(0, a_stay, 1), "").await,
        Err(StoreError::NotFound)
    ));
    // Days given in any order.
    let mut shuffled = booking(0, a_stay, 1);
    shuffled.places.reverse();
    s.approve_application(&nurse, a, &shuffled, "承認").await.unwrap();
    assert_eq!(taken(june).await, [(day(6, 1), 1), (day(6, 2), 1), (day(6, 3), 1)]);
    assert_eq!(taken(stay(day(6, 2), 1)).await, [(day(6, 2), 1)]);
    assert!(s.places_taken(m, v, 1, june).await.unwrap().is_empty());
    let got = s.application(&nurse, a).await.unwrap().unwrap();
    assert_eq!(
        (got.status, got.reviewed_by, got.reviewed_at, got.review_note.as_deref()),
        (ApplicationStatus::Approved, Some(AccountId(21)), Some(nurse.at), Some("承認"))
    );
    assert!(matches!(
        s.approve_application(&nurse, a, &booking(0, a_stay, 5), "").await,
        Err(StoreError::Conflict("not_applied"))
    ));
    assert!(matches!(s.reject_application(&nurse, a, "").await, Err(StoreError::Conflict("not_applied"))));

    // B: 3–5 June. The 3rd is full: nothing is taken, not even the 4th and 5th.
    let b_stay = stay(day(6, 3), 3);
    let b = s.create_application(&nurse, &application(g, v, ServiceType::ShortStay, b_stay)).await.unwrap();
    assert!(matches!(
        s.approve_application(&nurse, b, &booking(0, b_stay, 1), "").await,
        Err(StoreError::Conflict("no_capacity"))
    ));
    assert_eq!(taken(june).await, [(day(6, 1), 1), (day(6, 2), 1), (day(6, 3), 1)]);
    assert_eq!(status(&s, m, b).await, ApplicationStatus::Applied);
    // 30 May – 1 June: the 30th and 31st are taken first, then the 1st is
    // full, and the places of the 30th and 31st are given back.
    let early = stay(day(5, 30), 3);
    let e1 = s.create_application(&nurse, &application(g, v, ServiceType::ShortStay, early)).await.unwrap();
    assert!(matches!(
        s.approve_application(&nurse, e1, &booking(0, early, 1), "").await,
        Err(StoreError::Conflict("no_capacity"))
    ));
    assert!(taken(DateRange::new(day(5, 1), day(5, 31)).unwrap()).await.is_empty());
    assert_eq!(status(&s, m, e1).await, ApplicationStatus::Applied);
    // With two places on those days (a calendar change) it fits.
    s.approve_application(&nurse, b, &booking(0, b_stay, 2), "").await.unwrap();
    assert_eq!(taken(june).await, [(day(6, 1), 1), (day(6, 2), 1), (day(6, 3), 2), (day(6, 4), 1), (day(6, 5), 1)]);

    // Cancelling A gives its days back; B keeps its own.
    s.cancel_application(&nurse, a, "体調不良").await.unwrap();
    assert_eq!(taken(june).await, [(day(6, 3), 1), (day(6, 4), 1), (day(6, 5), 1)]);
    let got = s.application(&nurse, a).await.unwrap().unwrap();
    // The approval stays on record.
    assert_eq!((got.status, got.review_note.as_deref()), (ApplicationStatus::Cancelled, Some("承認")));
    assert!(matches!(s.cancel_application(&nurse, a, "").await, Err(StoreError::Conflict("not_cancellable"))));
    assert!(matches!(
        s.approve_application(&nurse, a, &booking(0, a_stay, 1), "").await,
        Err(StoreError::Conflict("not_applied"))
    ));
    // The freed days can be taken again.
    let c = s.create_application(&nurse, &application(g, v, ServiceType::DayCare, stay(day(6, 1), 2))).await.unwrap();
    s.approve_application(&nurse, c, &booking(0, stay(day(6, 1), 2), 1), "").await.unwrap();
    assert_eq!(taken(stay(day(6, 1), 2)).await, [(day(6, 1), 1), (day(6, 2), 1)]);

    // Rejecting, and cancelling one not yet decided.
    let d = s.create_application(&nurse, &application(f, v, ServiceType::DayCare, stay(day(7, 1), 1))).await.unwrap();
    s.reject_application(&nurse, d, "対象外").await.unwrap();
    let got = s.application(&nurse, d).await.unwrap().unwrap();
    assert_eq!(
        (got.status, got.reviewed_by, got.review_note.as_deref()),
        (ApplicationStatus::Rejected, Some(AccountId(21)), Some("対象外"))
    );
    assert!(matches!(s.reject_application(&nurse, d, "").await, Err(StoreError::Conflict("not_applied"))));
    assert!(matches!(
        s.approve_application(&nurse, d, &booking(0, stay(day(7, 1), 1), 1), "").await,
        Err(StoreError::Conflict("not_applied"))
    ));
    assert!(matches!(s.cancel_application(&nurse, d, "").await, Err(StoreError::Conflict("not_cancellable"))));
    let e = s.create_application(&nurse, &application(f, v, ServiceType::DayCare, stay(day(7, 2), 1))).await.unwrap();
    s.cancel_application(&nurse, e, "").await.unwrap();
    assert_eq!(status(&s, m, e).await, ApplicationStatus::Cancelled);
    assert!(matches!(s.reject_application(&nurse, e, "").await, Err(StoreError::Conflict("not_applied"))));
    assert!(matches!(s.reject_application(&nurse, ApplicationId(9999), "").await, Err(StoreError::NotFound)));
    assert!(taken(DateRange::new(day(7, 1), day(7, 31)).unwrap()).await.is_empty());

    // Every decision is on the family's line.
    let decisions: Vec<(String, Option<FamilyId>)> = s
        .audit_lines(m, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|l| matches!(l.action.as_str(), "postpartum.approve" | "postpartum.reject" | "postpartum.cancel"))
        .map(|l| (l.action, l.family_id))
        .collect();
    let line = |a: &str, f: FamilyId| (a.to_owned(), Some(f));
    assert_eq!(
        decisions,
        [
            line("postpartum.approve", f),
            line("postpartum.approve", g),
            line("postpartum.cancel", f),
            line("postpartum.approve", g),
            line("postpartum.reject", f),
            line("postpartum.cancel", f),
        ]
    );
    assert!(verify_chain(&s, m).await.is_ok());
    finish(s, db).await;
}

#[tokio::test]
async fn facilities_note_the_days_of_approved_stays() {
    let (s, db) = fresh().await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, _, _) = town(&s, "082350").await;
    let v = facility(&s, m, "センター", &every_day(3)).await;
    let f = family(&s, m, north, "ハナコ").await;
    let nurse = ctx(m, Role::Nurse);
    let mut staff = ctx(m, Role::FacilityStaff);
    staff.actor = AccountId(40);
    let days = stay(day(8, 10), 3);
    let a = s.create_application(&nurse, &application(f, v, ServiceType::ShortStay, days)).await.unwrap();
    assert!(matches!(s.record_stay_note(&staff, a, day(8, 10), "x").await, Err(StoreError::Conflict("not_approved"))));
    s.approve_application(&nurse, a, &booking(0, days, 3), "").await.unwrap();
    staff.at = at("2027-08-11T09:00:00Z");
    s.record_stay_note(&staff, a, day(8, 11), "授乳良好").await.unwrap();
    staff.at = at("2027-08-10T18:00:00.5Z");
    s.record_stay_note(&staff, a, day(8, 10), "入所。母は疲労あり").await.unwrap();
    staff.at = at("2027-08-11T20:00:00Z");
    s.record_stay_note(&staff, a, day(8, 11), "夜間よく眠る").await.unwrap();
    assert!(matches!(
        s.record_stay_note(&staff, a, day(8, 13), "x").await,
        Err(StoreError::Conflict("day_not_in_stay"))
    ));
    assert!(matches!(
        s.record_stay_note(&ctx(other, Role::FacilityStaff), a, day(8, 10), "x").await,
        Err(StoreError::NotFound)
    ));
    let notes = s.stay_notes(&staff, a).await.unwrap();
    assert_eq!(
        notes,
        [
            StayNote {
                day: day(8, 10),
                note: "入所。母は疲労あり".into(),
                by: AccountId(40),
                at: at("2027-08-10T18:00:00.5Z")
            },
            StayNote {
                day: day(8, 11), note: "授乳良好".into(), by: AccountId(40), at: at("2027-08-11T09:00:00Z")
            },
            StayNote {
                day: day(8, 11),
                note: "夜間よく眠る".into(),
                by: AccountId(40),
                at: at("2027-08-11T20:00:00Z")
            },
        ]
    );
    let lines = s.audit_lines(m, 0, 1000).await.unwrap();
    let notes_written = lines.iter().filter(|l| l.action == "postpartum.note" && l.family_id == Some(f)).count();
    assert_eq!(notes_written, 3);
    let last = lines.last().unwrap();
    assert_eq!((last.action.as_str(), last.family_id, last.actor), ("postpartum.view", Some(f), AccountId(40)));
    assert!(matches!(s.stay_notes(&ctx(other, Role::FacilityStaff), a).await, Err(StoreError::NotFound)));
    // Once cancelled, no more notes.
    s.cancel_application(&nurse, a, "").await.unwrap();
    assert!(matches!(s.record_stay_note(&staff, a, day(8, 12), "x").await, Err(StoreError::Conflict("not_approved"))));
    assert_eq!(s.stay_notes(&staff, a).await.unwrap().len(), 3);
    finish(s, db).await;
}

#[tokio::test]
async fn usage_counts_booked_days_and_each_family_once() {
    let (s, db) = fresh().await;
    let (m, north, south) = town(&s, "131121").await;
    let (other, other_area, _) = town(&s, "082350").await;
    let centre = facility(&s, m, "センター", &FacilityCalendar::setagaya_centre()).await;
    let hospital = facility(&s, m, "病院", &FacilityCalendar::setagaya_shiseikai()).await;
    let nurse = ctx(m, Role::Nurse);
    let f1 = family(&s, m, north, "ハナコ").await;
    let f2 = family(&s, m, south, "ミカ").await;
    let f3 = family(&s, m, north, "ユイ").await;
    let f4 = family(&s, m, south, "アイ").await;
    let f5 = family(&s, m, south, "メイ").await;
    let approve = |f: FamilyId, v: VenueId, service: ServiceType, days: DateRange, pool: u32| {
        let (s, nurse) = (&s, &nurse);
        async move {
            let id = s.create_application(nurse, &application(f, v, service, days)).await.unwrap();
            s.approve_application(nurse, id, &booking(pool, days, 15), "").await.unwrap();
            id
        }
    };
    // f1: 7 days' short stay at the centre, 29 April – 5 May, and 2 at the hospital.
    approve(f1, centre, ServiceType::ShortStay, stay(day(4, 29), 7), 0).await;
    approve(f1, hospital, ServiceType::ShortStay, stay(day(6, 1), 2), 0).await;
    // f2: two days of day care at the centre.
    approve(f2, centre, ServiceType::DayCare, stay(day(5, 10), 1), 0).await;
    approve(f2, centre, ServiceType::DayCare, stay(day(5, 17), 1), 0).await;
    // f3: an outreach visit (the centre's second pool).
    approve(f3, centre, ServiceType::Outreach, stay(day(5, 20), 1), 1).await;
    // f4: cancelled; f5: applied and rejected — neither counts.
    let cancelled = approve(f4, centre, ServiceType::ShortStay, stay(day(5, 1), 3), 0).await;
    s.cancel_application(&nurse, cancelled, "").await.unwrap();
    let rejected = s
        .create_application(&nurse, &application(f5, hospital, ServiceType::ShortStay, stay(day(5, 1), 3)))
        .await
        .unwrap();
    s.reject_application(&nurse, rejected, "").await.unwrap();
    s.create_application(&nurse, &application(f5, centre, ServiceType::ShortStay, stay(day(5, 1), 3))).await.unwrap();
    // Another municipality's use is never counted here.
    let theirs = facility(&s, other, "他市", &every_day(3)).await;
    let fo = family(&s, other, other_area, "ハナコ").await;
    let oc = ctx(other, Role::Nurse);
    let id =
        s.create_application(&oc, &application(fo, theirs, ServiceType::ShortStay, stay(day(5, 1), 3))).await.unwrap();
    s.approve_application(&oc, id, &booking(0, stay(day(5, 1), 3), 3), "").await.unwrap();

    let may = DateRange::new(day(5, 1), day(5, 31)).unwrap();
    assert_eq!(
        s.postpartum_usage(m, centre, may).await.unwrap(),
        UsageCounts { short_stay_days: 5, day_care_days: 2, outreach_visits: 1, families: 3 }
    );
    assert_eq!(
        s.postpartum_usage(m, centre, all_of_2027()).await.unwrap(),
        UsageCounts { short_stay_days: 7, day_care_days: 2, outreach_visits: 1, families: 3 }
    );
    assert_eq!(
        s.postpartum_usage(m, hospital, all_of_2027()).await.unwrap(),
        UsageCounts { short_stay_days: 2, day_care_days: 0, outreach_visits: 0, families: 1 }
    );
    assert_eq!(s.postpartum_usage(m, hospital, may).await.unwrap(), UsageCounts::default());
    assert_eq!(s.postpartum_usage(other, centre, all_of_2027()).await.unwrap(), UsageCounts::default());
    assert_eq!(s.postpartum_usage(m, theirs, all_of_2027()).await.unwrap(), UsageCounts::default());
    assert_eq!(
        s.postpartum_usage(other, theirs, all_of_2027()).await.unwrap(),
        UsageCounts { short_stay_days: 3, day_care_days: 0, outreach_visits: 0, families: 1 }
    );

    // By area: f1 (two facilities) and f3 in the north, f2 in the south.
    assert_eq!(s.postpartum_users_by_area(m, all_of_2027()).await.unwrap(), [(north, 2), (south, 1)]);
    // A stay counts in a range it overlaps: f1's 29 April – 5 May is in both months.
    assert_eq!(
        s.postpartum_users_by_area(m, DateRange::new(day(4, 1), day(4, 30)).unwrap()).await.unwrap(),
        [(north, 1)]
    );
    assert_eq!(s.postpartum_users_by_area(m, stay(day(6, 1), 30)).await.unwrap(), [(north, 1)]);
    assert!(s.postpartum_users_by_area(m, stay(day(9, 1), 30)).await.unwrap().is_empty());
    assert_eq!(s.postpartum_users_by_area(other, all_of_2027()).await.unwrap(), [(other_area, 1)]);
    finish(s, db).await;
}

#[tokio::test]
async fn facility_staff_may_open_families_with_an_application_at_their_facility() {
    let (s, db) = fresh().await;
    let (m, north, _) = town(&s, "131121").await;
    let centre = facility(&s, m, "センター", &every_day(3)).await;
    let mamas = facility(&s, m, "ママズルーム", &every_day(3)).await;
    let hospital = facility(&s, m, "病院", &every_day(3)).await;
    let f = family(&s, m, north, "ハナコ").await;
    let nurse = ctx(m, Role::Nurse);
    assert!(s.family_access(m, f).await.unwrap().unwrap().facilities.is_empty());

    let at_hospital = s
        .create_application(&nurse, &application(f, hospital, ServiceType::ShortStay, stay(day(5, 1), 2)))
        .await
        .unwrap();
    let at_mamas =
        s.create_application(&nurse, &application(f, mamas, ServiceType::DayCare, stay(day(5, 3), 1))).await.unwrap();
    let at_centre =
        s.create_application(&nurse, &application(f, centre, ServiceType::DayCare, stay(day(5, 4), 1))).await.unwrap();
    s.create_application(&nurse, &application(f, centre, ServiceType::DayCare, stay(day(5, 5), 1))).await.unwrap();
    s.approve_application(&nurse, at_mamas, &booking(0, stay(day(5, 3), 1), 3), "").await.unwrap();
    s.reject_application(&nurse, at_centre, "").await.unwrap();
    s.cancel_application(&nurse, at_hospital, "").await.unwrap();
    let access = s.family_access(m, f).await.unwrap().unwrap();
    assert_eq!(access.facilities, [centre, mamas]);

    let staff_of = |v: VenueId| Actor {
        account_id: AccountId(50),
        municipality_id: m,
        role: Role::FacilityStaff,
        family_id: None,
        areas: vec![],
        venues: vec![v],
        rooms: vec![],
    };
    let may_open = |v: VenueId| authorize(&staff_of(v), Action::ViewFamily, &Resource::Family(&access)).is_allowed();
    assert!(may_open(centre));
    assert!(may_open(mamas));
    assert!(!may_open(hospital));
    finish(s, db).await;
}

/// Three places on each of three days, and twenty applications for them
/// with overlapping stays, approved all at once from twenty tasks spread
/// over several stores on the same database (as several nodes would be).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_approvals_never_overfill_a_day() {
    const PLACES: u32 = 3;
    let (s, db) = fresh().await;
    let (m, north, _) = town(&s, "131121").await;
    let v = facility(&s, m, "センター", &every_day(PLACES)).await;
    let nurse = ctx(m, Role::Nurse);
    let days = stay(day(6, 1), 3);
    let (d1, d2, d3) = (day(6, 1), day(6, 2), day(6, 3));
    let shapes = [stay(d1, 3), stay(d1, 2), stay(d2, 2), stay(d3, 1), stay(d2, 1)];
    let kana = ["ア", "イ", "ウ", "エ", "オ", "カ", "キ", "ク", "ケ", "コ"];
    let mut apps = vec![];
    for i in 0..20 {
        let f = family(&s, m, north, &format!("{}{}", kana[i % 10], kana[i / 10])).await;
        let stay = shapes[i % shapes.len()];
        apps.push((
            s.create_application(&nurse, &application(f, v, ServiceType::ShortStay, stay)).await.unwrap(),
            stay,
        ));
    }
    // And one application that twenty tasks approve at once (on another facility).
    let w = facility(&s, m, "病院", &every_day(PLACES)).await;
    let f = family(&s, m, north, "サクラ").await;
    let twice = s.create_application(&nurse, &application(f, w, ServiceType::ShortStay, days)).await.unwrap();

    let mut nodes = vec![s.clone()];
    for _ in 1..4 {
        nodes.push(another_node(&db).await);
    }
    let start = Arc::new(tokio::sync::Barrier::new(40));
    let mut tasks = vec![];
    for (i, (id, stay)) in apps.iter().copied().enumerate() {
        let (node, start, nurse) = (nodes[i % nodes.len()].clone(), start.clone(), nurse.clone());
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            node.approve_application(&nurse, id, &booking(0, stay, PLACES), "").await
        }));
    }
    let mut same = vec![];
    for i in 0..20 {
        let (node, start, nurse) = (nodes[i % nodes.len()].clone(), start.clone(), nurse.clone());
        same.push(tokio::spawn(async move {
            start.wait().await;
            node.approve_application(&nurse, twice, &booking(0, days, PLACES), "").await
        }));
    }
    let mut approved = vec![];
    let mut refused = vec![];
    for (t, (id, stay)) in tasks.into_iter().zip(apps.iter().copied()) {
        match t.await.unwrap() {
            Ok(()) => approved.push((id, stay)),
            Err(StoreError::Conflict("no_capacity")) => refused.push((id, stay)),
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    let mut once = 0;
    for t in same {
        match t.await.unwrap() {
            Ok(()) => once += 1,
            Err(StoreError::Conflict("not_applied")) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(once, 1);
    assert_eq!(s.places_taken(m, w, 0, days).await.unwrap(), [(d1, 1), (d2, 1), (d3, 1)]);

    // No day holds more than its places, and the counters agree with the
    // stays that were approved.
    let taken = s.places_taken(m, v, 0, days).await.unwrap();
    let booked = |d: Date| approved.iter().filter(|(_, st)| st.contains(d)).count() as u32;
    for d in days.days() {
        let t = taken.iter().find(|(x, _)| *x == d).map_or(0, |(_, n)| *n);
        assert!(t <= PLACES, "{d}: {t} taken");
        assert_eq!(t, booked(d), "{d}");
    }
    // Nine places in all, and every stay takes at least one: most are refused,
    // and each refusal was for a day that is full.
    assert!(!approved.is_empty() && approved.len() <= 9, "{} approved", approved.len());
    assert_eq!(approved.len() + refused.len(), 20);
    for (id, st) in &refused {
        assert!(st.days().any(|d| booked(d) == PLACES), "{id} refused with room on every day of {st}");
        assert_eq!(status(&s, m, *id).await, ApplicationStatus::Applied);
    }
    for (id, _) in &approved {
        assert_eq!(status(&s, m, *id).await, ApplicationStatus::Approved);
    }
    let usage = s.postpartum_usage(m, v, days).await.unwrap();
    assert_eq!(usage.short_stay_days, u64::from(taken.iter().map(|(_, n)| n).sum::<u32>()));
    assert_eq!(usage.families, approved.len() as u64);
    // Every approval wrote its line, and the chain is whole.
    let approvals =
        s.audit_lines(m, 0, 10_000).await.unwrap().iter().filter(|l| l.action == "postpartum.approve").count();
    assert_eq!(approvals, approved.len() + 1);
    assert!(verify_chain(&s, m).await.is_ok());
    for n in nodes.into_iter().skip(1) {
        close_node(n).await;
    }
    finish(s, db).await;
}

// --- referrals, follow-ups, online talks, incidents ---------------------------------

/// The last audit line of the municipality: (action, family, detail).
async fn last_line(s: &Db, m: MunicipalityId) -> (String, Option<FamilyId>, String) {
    let l = s.audit_lines(m, 0, 10_000).await.unwrap().pop().unwrap();
    (l.action, l.family_id, l.detail)
}

fn line(action: &str, family: Option<FamilyId>, detail: impl Into<String>) -> (String, Option<FamilyId>, String) {
    (action.to_owned(), family, detail.into())
}

/// Every audit line of the municipality with this action: (family, detail).
async fn lines_of(s: &Db, m: MunicipalityId, action: &str) -> Vec<(Option<FamilyId>, String)> {
    s.audit_lines(m, 0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|l| l.action == action)
        .map(|l| (l.family_id, l.detail))
        .collect()
}

fn as_staff(m: MunicipalityId, role: Role, actor: i64, when: &str) -> AuditContext {
    AuditContext { actor: AccountId(actor), at: at(when), ..ctx(m, role) }
}

async fn a_hall(s: &Db, m: MunicipalityId) -> VenueId {
    s.create_venue(&NewVenue {
        municipality_id: m,
        area_id: None,
        kind: VenueKind::ChildrensHall,
        name_ja: "児童館".into(),
        name_en: "Hall".into(),
    })
    .await
    .unwrap()
    .id
}

#[tokio::test]
async fn referrals_move_from_raised_to_closed_and_escalation_opens_the_family() {
    let (s, db) = fresh().await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, other_area, _) = town(&s, "082350").await;
    let centre = facility(&s, m, "センター", &every_day(3)).await;
    let mamas = facility(&s, m, "ママズルーム", &every_day(3)).await;
    let f = family(&s, m, north, "ハナコ").await;
    let g = family(&s, m, north, "ミカ").await;
    let foreign = family(&s, other, other_area, "ハナコ").await;
    let pregnancy_of = |fam: FamilyId| {
        let s = &s;
        async move { s.open_family(&ctx(m, Role::Nurse), fam).await.unwrap().unwrap().pregnancies[0].id }
    };
    let (pf, pg) = (pregnancy_of(f).await, pregnancy_of(g).await);
    let nurse = |when: &str| as_staff(m, Role::Nurse, 21, when);
    let staff = as_staff(m, Role::FacilityStaff, 40, "2026-11-22T02:00:00Z");
    let coordinator = as_staff(m, Role::Coordinator, 30, "2026-11-22T01:00:00Z");
    let app = s
        .create_application(
            &nurse("2026-11-22T00:00:00Z"),
            &application(f, centre, ServiceType::ShortStay, stay(day(5, 10), 3)),
        )
        .await
        .unwrap();

    // A facility's alert about f (from a stay), a coordinator's urgent
    // concern about g, a nurse's screening referral about f's pregnancy.
    let observed = referrals::raise(Role::FacilityStaff, f, None, ConcernSource::Observation, false).unwrap();
    let alert = s.raise_referral(&staff, &observed, "母の表情が暗い", Some(centre), Some(app)).await.unwrap();
    assert_eq!(last_line(&s, m).await, line("referral.raise", Some(f), format!("referral={alert}")));
    let crying = referrals::raise(Role::Coordinator, g, None, ConcernSource::Observation, true).unwrap();
    let urgent = s.raise_referral(&coordinator, &crying, "泣き続けている", None, None).await.unwrap();
    let epds = referrals::raise(Role::Nurse, f, Some(pf), ConcernSource::Screening, false).unwrap();
    let screening = s.raise_referral(&nurse("2026-11-22T03:00:00Z"), &epds, "EPDS 12点", None, None).await.unwrap();

    // What is not this municipality's, or not this family's, is refused, and nothing is written.
    let head = s.audit_head(m).await.unwrap();
    let about = |fam: FamilyId, p: Option<PregnancyId>| {
        referrals::raise(Role::Nurse, fam, p, ConcernSource::Observation, false).unwrap()
    };
    let refused = [
        (s.raise_referral(&staff, &about(foreign, None), "x", None, None).await, "family_id"),
        (s.raise_referral(&staff, &about(f, Some(pg)), "x", None, None).await, "pregnancy_id"),
        (s.raise_referral(&staff, &about(f, None), "x", Some(a_hall(&s, m).await), None).await, "venue_id"),
        (
            s.raise_referral(&staff, &about(f, None), "x", Some(facility(&s, other, "他", &every_day(1)).await), None)
                .await,
            "venue_id",
        ),
        (s.raise_referral(&staff, &about(g, None), "x", None, Some(app)).await, "application_id"),
        (s.raise_referral(&staff, &about(f, None), "x", Some(mamas), Some(app)).await, "application_id"),
        (s.raise_referral(&ctx(other, Role::Nurse), &about(f, None), "x", None, None).await, "family_id"),
    ];
    for (got, code) in refused {
        assert!(matches!(got, Err(StoreError::InvalidReference(c)) if c == code), "{code}: {got:?}");
    }
    assert_eq!(s.audit_head(m).await.unwrap(), head);

    // One referral, as stored, audited as a read of its family.
    let stored = s.referral(&nurse("2026-11-22T04:00:00Z"), alert).await.unwrap().unwrap();
    assert_eq!(
        stored,
        StoredReferral {
            id: alert,
            municipality_id: m,
            referral: observed.clone(),
            note: "母の表情が暗い".into(),
            raised_by_account: AccountId(40),
            raised_at: at("2026-11-22T02:00:00Z"),
            venue_id: Some(centre),
            application_id: Some(app),
            updated_at: at("2026-11-22T02:00:00Z"),
            mother_name: "山田 花子".into(),
        }
    );
    assert_eq!(last_line(&s, m).await, line("referral.list", Some(f), format!("referral={alert}")));
    let other_head = s.audit_head(other).await.unwrap();
    assert_eq!(s.referral(&ctx(other, Role::Nurse), alert).await.unwrap(), None);
    assert_eq!(s.referral(&nurse("2026-11-22T04:00:00Z"), ReferralId(9999)).await.unwrap(), None);
    assert_eq!(s.audit_head(other).await.unwrap(), other_head);

    // Lists: urgent first, then newest; filtered; audited with the count.
    let list = |filter: ReferralFilter| {
        let s = &s;
        async move {
            s.referrals(&nurse("2026-11-22T04:00:00Z"), &filter)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.id)
                .collect::<Vec<_>>()
        }
    };
    let all = ReferralFilter { limit: 100, ..Default::default() };
    assert_eq!(list(all.clone()).await, [urgent, screening, alert]);
    assert_eq!(last_line(&s, m).await, line("referral.list", None, "results=3"));
    assert_eq!(list(ReferralFilter { family_id: Some(f), ..all.clone() }).await, [screening, alert]);
    assert_eq!(last_line(&s, m).await, line("referral.list", Some(f), "results=2"));
    assert_eq!(list(ReferralFilter { raised_by: Some(AccountId(40)), ..all.clone() }).await, [alert]);
    assert_eq!(list(ReferralFilter { raised_by: Some(AccountId(30)), family_id: Some(f), ..all.clone() }).await, []);
    assert_eq!(list(ReferralFilter { limit: 1, ..all.clone() }).await, [urgent]);
    assert!(s.referrals(&ctx(other, Role::Nurse), &all).await.unwrap().is_empty());
    let names = s.referrals(&nurse("2026-11-22T04:00:00Z"), &all).await.unwrap();
    assert!(names.iter().all(|r| r.mother_name == "山田 花子"));

    // raised → received → in progress → escalated → closed.
    let caseworker = Actor {
        account_id: AccountId(60),
        municipality_id: m,
        role: Role::Caseworker,
        family_id: None,
        areas: vec![],
        venues: vec![],
        rooms: vec![],
    };
    let caseworker_may_open =
        |access: &FamilyAccess| authorize(&caseworker, Action::ViewFamily, &Resource::Family(access)).is_allowed();
    assert!(!caseworker_may_open(&s.family_access(m, f).await.unwrap().unwrap()));
    let step = |r: &Referral, a: ReferralAction| apply(r, Role::Nurse, a).unwrap();
    let received = step(&observed, ReferralAction::Receive);
    s.update_referral(&nurse("2026-11-22T05:00:00Z"), alert, &observed, &received, ReferralAction::Receive, "受理")
        .await
        .unwrap();
    assert_eq!(last_line(&s, m).await, line("referral.update", Some(f), format!("referral={alert}")));
    // Somebody else's stale view of it is refused, and changes nothing.
    let head = s.audit_head(m).await.unwrap();
    assert!(matches!(
        s.update_referral(&nurse("2026-11-22T05:00:01Z"), alert, &observed, &received, ReferralAction::Receive, "")
            .await,
        Err(StoreError::Conflict("referral_changed"))
    ));
    assert_eq!(s.audit_head(m).await.unwrap(), head);
    let started = step(&received, ReferralAction::Start);
    s.update_referral(&nurse("2026-11-22T06:00:00Z"), alert, &received, &started, ReferralAction::Start, "")
        .await
        .unwrap();
    let escalated = step(&started, ReferralAction::Escalate);
    s.update_referral(
        &nurse("2026-11-22T07:00:00Z"),
        alert,
        &started,
        &escalated,
        ReferralAction::Escalate,
        "児童相談所へ",
    )
    .await
    .unwrap();
    let access = s.family_access(m, f).await.unwrap().unwrap();
    assert!(access.escalated && caseworker_may_open(&access));
    assert!(!s.family_access(m, g).await.unwrap().unwrap().escalated);
    let closed = step(&escalated, ReferralAction::Close(CloseReason::Resolved));
    s.update_referral(
        &nurse("2026-11-22T08:00:00Z"),
        alert,
        &escalated,
        &closed,
        ReferralAction::Close(CloseReason::Resolved),
        "支援につながった",
    )
    .await
    .unwrap();
    // Closing does not take the escalation back.
    assert!(s.family_access(m, f).await.unwrap().unwrap().escalated);
    let got = s.referral(&nurse("2026-11-22T09:00:00Z"), alert).await.unwrap().unwrap();
    assert_eq!(got.referral, closed);
    assert_eq!(
        (got.referral.status, got.referral.escalated, got.referral.close_reason),
        (ReferralStatus::Closed, true, Some(CloseReason::Resolved))
    );
    assert_eq!((got.raised_at, got.updated_at), (at("2026-11-22T02:00:00Z"), at("2026-11-22T08:00:00Z")));
    assert!(matches!(
        s.update_referral(&nurse("2026-11-22T09:00:00Z"), alert, &escalated, &closed, ReferralAction::Start, "").await,
        Err(StoreError::Conflict("referral_changed"))
    ));
    assert!(matches!(
        s.update_referral(
            &nurse("2026-11-22T09:00:00Z"),
            ReferralId(9999),
            &observed,
            &received,
            ReferralAction::Receive,
            ""
        )
        .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.update_referral(
            &ctx(other, Role::Nurse),
            urgent,
            &crying,
            &step(&crying, ReferralAction::Receive),
            ReferralAction::Receive,
            ""
        )
        .await,
        Err(StoreError::NotFound)
    ));
    // A step never moves a referral to another family.
    let moved = Referral { family: f, ..step(&crying, ReferralAction::Receive) };
    assert!(matches!(
        s.update_referral(&nurse("2026-11-22T09:00:00Z"), urgent, &crying, &moved, ReferralAction::Receive, "").await,
        Err(StoreError::InvalidReference("family_id"))
    ));

    // 特定妊婦 on the screening referral's pregnancy: status unchanged, flag stored.
    let r = step(&epds, ReferralAction::Receive);
    s.update_referral(&nurse("2026-11-22T10:00:00Z"), screening, &epds, &r, ReferralAction::Receive, "").await.unwrap();
    let marked = step(&r, ReferralAction::MarkSpecifiedExpectantMother);
    s.update_referral(
        &nurse("2026-11-22T10:30:00Z"),
        screening,
        &r,
        &marked,
        ReferralAction::MarkSpecifiedExpectantMother,
        "",
    )
    .await
    .unwrap();
    let got = s.referral(&nurse("2026-11-22T11:00:00Z"), screening).await.unwrap().unwrap();
    assert_eq!(got.referral, marked);
    assert!(got.referral.specified_expectant_mother && !got.referral.escalated);

    // Open ones only: the closed alert drops out.
    assert_eq!(list(ReferralFilter { open_only: true, ..all.clone() }).await, [urgent, screening]);
    assert_eq!(list(ReferralFilter { open_only: true, raised_by: Some(AccountId(40)), ..all.clone() }).await, []);
    assert_eq!(list(ReferralFilter { raised_by: Some(AccountId(40)), ..all.clone() }).await, [alert]);

    // The history, in the order the steps were taken, audited with the family.
    let event = |action: &str, by: i64, when: &str, note: &str| ReferralEvent {
        action: action.into(),
        by: AccountId(by),
        at: at(when),
        note: note.into(),
    };
    assert_eq!(
        s.referral_events(&nurse("2026-11-22T12:00:00Z"), alert).await.unwrap(),
        [
            event("raise", 40, "2026-11-22T02:00:00Z", "母の表情が暗い"),
            event("receive", 21, "2026-11-22T05:00:00Z", "受理"),
            event("start", 21, "2026-11-22T06:00:00Z", ""),
            event("escalate", 21, "2026-11-22T07:00:00Z", "児童相談所へ"),
            event("close", 21, "2026-11-22T08:00:00Z", "支援につながった"),
        ]
    );
    assert_eq!(last_line(&s, m).await, line("referral.list", Some(f), format!("referral={alert} events=5")));
    assert!(matches!(s.referral_events(&ctx(other, Role::Nurse), alert).await, Err(StoreError::NotFound)));
    assert!(matches!(
        s.referral_events(&nurse("2026-11-22T12:00:00Z"), ReferralId(9999)).await,
        Err(StoreError::NotFound)
    ));

    // Every raise and every step is on the family's line.
    let raised = lines_of(&s, m, "referral.raise").await;
    assert_eq!(raised.iter().map(|l| l.0).collect::<Vec<_>>(), [Some(f), Some(g), Some(f)]);
    let updates = lines_of(&s, m, "referral.update").await;
    assert_eq!(updates.len(), 6);
    assert!(updates.iter().all(|l| l.0 == Some(f)));
    assert!(verify_chain(&s, m).await.is_ok());
    finish(s, db).await;
}

#[tokio::test]
async fn follow_up_slots_hold_one_family_and_cancelling_frees_them() {
    let (s, db) = fresh().await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, other_area, _) = town(&s, "082350").await;
    let centre = facility(&s, m, "センター", &every_day(3)).await;
    let hospital = facility(&s, m, "病院", &every_day(3)).await;
    let f = family(&s, m, north, "ハナコ").await;
    let g = family(&s, m, north, "ミカ").await;
    let foreign = family(&s, other, other_area, "ハナコ").await;
    let nurse = as_staff(m, Role::Nurse, 21, "2026-11-22T01:00:00Z");
    let slot = |mo: i8, d: i8, h: i8, mi: i8| datetime(2027, mo, d, h, mi, 0, 0);

    let a = s.book_followup(&nurse, centre, f, slot(6, 1, 13, 0)).await.unwrap();
    assert_eq!(last_line(&s, m).await, line("followup.book", Some(f), format!("followup={a}")));
    assert!(matches!(
        s.book_followup(&nurse, centre, g, slot(6, 1, 13, 0)).await,
        Err(StoreError::Conflict("slot_taken"))
    ));
    assert!(matches!(
        s.book_followup(&nurse, centre, f, slot(6, 1, 13, 0)).await,
        Err(StoreError::Conflict("slot_taken"))
    ));
    let b = s.book_followup(&nurse, hospital, g, slot(6, 1, 13, 0)).await.unwrap();
    let c = s.book_followup(&nurse, centre, g, slot(6, 1, 13, 20)).await.unwrap();
    // Cancelling frees the slot; the cancelled booking stays on record.
    s.cancel_followup(&nurse, a).await.unwrap();
    assert_eq!(last_line(&s, m).await, line("followup.cancel", Some(f), format!("followup={a}")));
    assert!(matches!(s.cancel_followup(&nurse, a).await, Err(StoreError::Conflict("not_booked"))));
    let d = s.book_followup(&nurse, centre, g, slot(6, 1, 13, 0)).await.unwrap();
    let e = s.book_followup(&nurse, centre, f, slot(6, 30, 23, 40)).await.unwrap();
    // Just outside June, on both sides.
    s.book_followup(&nurse, centre, f, slot(7, 1, 0, 0)).await.unwrap();
    s.book_followup(&nurse, centre, f, slot(5, 31, 23, 40)).await.unwrap();

    // Refused: other municipalities' families and facilities, venues that are no facility.
    let head = s.audit_head(m).await.unwrap();
    assert!(matches!(
        s.book_followup(&nurse, centre, foreign, slot(6, 2, 13, 0)).await,
        Err(StoreError::InvalidReference("family_id"))
    ));
    let theirs = facility(&s, other, "他市", &every_day(3)).await;
    assert!(matches!(
        s.book_followup(&nurse, theirs, f, slot(6, 2, 13, 0)).await,
        Err(StoreError::InvalidReference("venue_id"))
    ));
    assert!(matches!(
        s.book_followup(&nurse, a_hall(&s, m).await, f, slot(6, 2, 13, 0)).await,
        Err(StoreError::InvalidReference("venue_id"))
    ));
    assert!(matches!(s.cancel_followup(&ctx(other, Role::Nurse), c).await, Err(StoreError::NotFound)));
    assert!(matches!(s.cancel_followup(&nurse, FollowupId(9999)).await, Err(StoreError::NotFound)));
    assert_eq!(s.audit_head(m).await.unwrap(), head);

    let june = DateRange::new(day(6, 1), day(6, 30)).unwrap();
    // The yearly count leaves out the cancelled booking (and other months).
    assert_eq!(s.followup_count(m, june).await.unwrap(), 4);
    assert_eq!(s.followup_count(m, all_of_2027()).await.unwrap(), 6);
    assert_eq!(s.followup_count(m, DateRange::single(day(6, 1))).await.unwrap(), 3);
    assert_eq!(s.followup_count(other, all_of_2027()).await.unwrap(), 0);

    // Listed by start (then booking), cancelled ones too.
    let ids = |v: Vec<Followup>| v.into_iter().map(|x| x.id).collect::<Vec<_>>();
    let got = s.followups(&nurse, None, None, june).await.unwrap();
    assert_eq!(last_line(&s, m).await, line("followup.list", None, "results=5"));
    assert_eq!(
        got[0],
        Followup {
            id: a,
            municipality_id: m,
            venue_id: centre,
            family_id: f,
            start: slot(6, 1, 13, 0),
            status: FollowupStatus::Cancelled,
            booked_by: AccountId(21),
            mother_name: "山田 花子".into(),
        }
    );
    assert_eq!(ids(got.clone()), [a, b, d, c, e]);
    assert!(got[1..].iter().all(|x| x.status == FollowupStatus::Booked));
    assert_eq!(ids(s.followups(&nurse, Some(centre), None, june).await.unwrap()), [a, d, c, e]);
    assert_eq!(ids(s.followups(&nurse, None, Some(g), june).await.unwrap()), [b, d, c]);
    assert_eq!(last_line(&s, m).await, line("followup.list", Some(g), "results=3"));
    assert_eq!(ids(s.followups(&nurse, Some(hospital), Some(f), june).await.unwrap()), []);
    assert!(s.followups(&ctx(other, Role::Nurse), None, None, all_of_2027()).await.unwrap().is_empty());

    // Every booking is on its family's line.
    let booked = lines_of(&s, m, "followup.book").await;
    assert_eq!(
        booked.iter().map(|l| l.0).collect::<Vec<_>>(),
        [Some(f), Some(g), Some(g), Some(g), Some(f), Some(f), Some(f)]
    );
    assert!(verify_chain(&s, m).await.is_ok());
    finish(s, db).await;
}

#[tokio::test]
async fn online_talks_count_their_attendees_and_a_family_joins_once() {
    let (s, db) = fresh().await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, other_area, _) = town(&s, "082350").await;
    let centre = facility(&s, m, "センター", &every_day(3)).await;
    let f = family(&s, m, north, "ハナコ").await;
    let g = family(&s, m, north, "ミカ").await;
    let foreign = family(&s, other, other_area, "ハナコ").await;
    let coordinator = as_staff(m, Role::Coordinator, 30, "2026-11-22T01:00:00Z");
    let head = s.audit_head(m).await.unwrap();
    let first = s
        .create_online_talk(&coordinator, centre, datetime(2027, 6, 10, 10, 0, 0, 0), 30, "オンライントーク")
        .await
        .unwrap();
    let second =
        s.create_online_talk(&coordinator, centre, datetime(2027, 6, 24, 10, 0, 0, 0), 30, "離乳食の話").await.unwrap();
    s.create_online_talk(&coordinator, centre, datetime(2027, 7, 8, 10, 0, 0, 0), 30, "七月").await.unwrap();
    // Scheduling touches nobody's record.
    assert_eq!(s.audit_head(m).await.unwrap(), head);
    assert!(matches!(
        s.create_online_talk(&coordinator, a_hall(&s, m).await, datetime(2027, 6, 1, 10, 0, 0, 0), 30, "x").await,
        Err(StoreError::InvalidReference("venue_id"))
    ));
    let theirs = facility(&s, other, "他市", &every_day(3)).await;
    assert!(matches!(
        s.create_online_talk(&coordinator, theirs, datetime(2027, 6, 1, 10, 0, 0, 0), 30, "x").await,
        Err(StoreError::InvalidReference("venue_id"))
    ));

    s.join_online_talk(&coordinator, first, f).await.unwrap();
    assert_eq!(last_line(&s, m).await, line("talk.join", Some(f), format!("talk={first}")));
    s.join_online_talk(&coordinator, first, g).await.unwrap();
    assert!(matches!(s.join_online_talk(&coordinator, first, f).await, Err(StoreError::Conflict("already_joined"))));
    assert!(matches!(
        s.join_online_talk(&coordinator, first, foreign).await,
        Err(StoreError::InvalidReference("family_id"))
    ));
    assert!(matches!(s.join_online_talk(&coordinator, TalkId(9999), f).await, Err(StoreError::NotFound)));
    assert!(matches!(
        s.join_online_talk(&ctx(other, Role::Coordinator), first, foreign).await,
        Err(StoreError::NotFound)
    ));
    s.join_online_talk(&coordinator, second, g).await.unwrap();

    let june = DateRange::new(day(6, 1), day(6, 30)).unwrap();
    assert_eq!(
        s.online_talks(m, june).await.unwrap(),
        [
            OnlineTalk {
                id: first,
                municipality_id: m,
                venue_id: centre,
                starts: datetime(2027, 6, 10, 10, 0, 0, 0),
                minutes: 30,
                title: "オンライントーク".into(),
                attendees: 2,
            },
            OnlineTalk {
                id: second,
                municipality_id: m,
                venue_id: centre,
                starts: datetime(2027, 6, 24, 10, 0, 0, 0),
                minutes: 30,
                title: "離乳食の話".into(),
                attendees: 1,
            },
        ]
    );
    assert_eq!(s.online_talks(m, all_of_2027()).await.unwrap().len(), 3);
    assert!(s.online_talks(other, all_of_2027()).await.unwrap().is_empty());
    let joined = lines_of(&s, m, "talk.join").await;
    assert_eq!(
        joined,
        [(Some(f), format!("talk={first}")), (Some(g), format!("talk={first}")), (Some(g), format!("talk={second}"))]
    );
    assert!(verify_chain(&s, m).await.is_ok());
    finish(s, db).await;
}

#[tokio::test]
async fn incidents_are_reported_under_the_manual_headings() {
    let (s, db) = fresh().await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, other_area, _) = town(&s, "082350").await;
    let centre = facility(&s, m, "センター", &every_day(3)).await;
    let mamas = facility(&s, m, "ママズルーム", &every_day(3)).await;
    let f = family(&s, m, north, "ハナコ").await;
    let foreign = family(&s, other, other_area, "ハナコ").await;
    let staff = as_staff(m, Role::FacilityStaff, 40, "2026-11-22T01:00:00Z");
    let report = |venue: VenueId, heading: IncidentHeading, d: i8, family: Option<FamilyId>| NewIncident {
        venue_id: venue,
        heading,
        occurred: datetime(2027, 6, d, 14, 30, 0, 0),
        summary: format!("{} {d}", heading.short_ja()),
        family_id: family,
    };
    let mut ids = vec![];
    for (i, h) in IncidentHeading::ALL.into_iter().enumerate() {
        let venue = if i % 2 == 0 { centre } else { mamas };
        let family = (h == IncidentHeading::Accident).then_some(f);
        let id = s.report_incident(&staff, &report(venue, h, 1 + i as i8, family)).await.unwrap();
        assert_eq!(last_line(&s, m).await, line("incident.report", family, format!("incident={id}")));
        ids.push(id);
    }
    let july = NewIncident {
        occurred: datetime(2027, 7, 1, 0, 0, 0, 0),
        ..report(centre, IncidentHeading::Infection, 1, None)
    };
    s.report_incident(&staff, &july).await.unwrap();

    // Refused: a family or facility of another municipality, a venue that is no facility.
    let head = s.audit_head(m).await.unwrap();
    assert!(matches!(
        s.report_incident(&staff, &report(centre, IncidentHeading::Accident, 2, Some(foreign))).await,
        Err(StoreError::InvalidReference("family_id"))
    ));
    let theirs = facility(&s, other, "他市", &every_day(3)).await;
    assert!(matches!(
        s.report_incident(&staff, &report(theirs, IncidentHeading::Accident, 2, None)).await,
        Err(StoreError::InvalidReference("venue_id"))
    ));
    assert!(matches!(
        s.report_incident(&staff, &report(a_hall(&s, m).await, IncidentHeading::Accident, 2, None)).await,
        Err(StoreError::InvalidReference("venue_id"))
    ));
    assert_eq!(s.audit_head(m).await.unwrap(), head);

    let june = DateRange::new(day(6, 1), day(6, 30)).unwrap();
    let got = s.incidents(&staff, None, june).await.unwrap();
    assert_eq!(last_line(&s, m).await, line("incident.list", None, "results=5"));
    // Newest first.
    assert_eq!(got.iter().map(|i| i.id).rev().collect::<Vec<_>>(), ids);
    assert_eq!(
        got[4],
        Incident {
            id: ids[0],
            municipality_id: m,
            venue_id: centre,
            heading: IncidentHeading::Accident,
            occurred: datetime(2027, 6, 1, 14, 30, 0, 0),
            summary: "事故 1".into(),
            family_id: Some(f),
            reported_by: AccountId(40),
            reported_at: at("2026-11-22T01:00:00Z"),
        }
    );
    assert_eq!(
        got.iter().rev().map(|i| (i.heading, i.family_id.is_some())).collect::<Vec<_>>(),
        [
            (IncidentHeading::Accident, true),
            (IncidentHeading::Infection, false),
            (IncidentHeading::FireAndDisaster, false),
            (IncidentHeading::PersonalInformation, false),
            (IncidentHeading::StaffManagement, false),
        ]
    );
    let at_mamas = s.incidents(&staff, Some(mamas), june).await.unwrap();
    assert_eq!(at_mamas.iter().map(|i| i.id).collect::<Vec<_>>(), [ids[3], ids[1]]);
    assert_eq!(s.incidents(&staff, None, all_of_2027()).await.unwrap().len(), 6);
    assert!(s.incidents(&ctx(other, Role::FacilityStaff), None, all_of_2027()).await.unwrap().is_empty());
    assert!(verify_chain(&s, m).await.is_ok());
    finish(s, db).await;
}

/// Ten nurses receive the same referral at once, and ten families book the
/// same slot at once, over several stores on the same database: one of each
/// wins; the rest are told it changed, or that the slot is taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_steps_and_bookings_have_one_winner() {
    let (s, db) = fresh().await;
    let (m, north, _) = town(&s, "131121").await;
    let centre = facility(&s, m, "センター", &every_day(3)).await;
    let kana = ["ア", "イ", "ウ", "エ", "オ", "カ", "キ", "ク", "ケ", "コ"];
    let mut families = vec![];
    for k in kana {
        families.push(family(&s, m, north, k).await);
    }
    let nurse = ctx(m, Role::Nurse);
    let r = referrals::raise(Role::Coordinator, families[0], None, ConcernSource::Observation, false).unwrap();
    let id = s.raise_referral(&nurse, &r, "", None, None).await.unwrap();
    let received = apply(&r, Role::Nurse, ReferralAction::Receive).unwrap();
    let slot = datetime(2027, 6, 1, 13, 0, 0, 0);

    let mut nodes = vec![s.clone()];
    for _ in 1..4 {
        nodes.push(another_node(&db).await);
    }
    let start = Arc::new(tokio::sync::Barrier::new(20));
    let mut steps = vec![];
    let mut bookings = vec![];
    for (i, f) in families.iter().copied().enumerate() {
        let (node, gate, who, received, raised) =
            (nodes[i % nodes.len()].clone(), start.clone(), nurse.clone(), received.clone(), r.clone());
        steps.push(tokio::spawn(async move {
            gate.wait().await;
            node.update_referral(&who, id, &raised, &received, ReferralAction::Receive, "").await
        }));
        let (node, gate, who) = (nodes[(i + 1) % nodes.len()].clone(), start.clone(), nurse.clone());
        bookings.push(tokio::spawn(async move {
            gate.wait().await;
            node.book_followup(&who, centre, f, slot).await
        }));
    }
    let mut won = 0;
    for t in steps {
        match t.await.unwrap() {
            Ok(()) => won += 1,
            Err(StoreError::Conflict("referral_changed")) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(won, 1);
    let mut booked = 0;
    for t in bookings {
        match t.await.unwrap() {
            Ok(_) => booked += 1,
            Err(StoreError::Conflict("slot_taken")) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(booked, 1);
    let events = s.referral_events(&nurse, id).await.unwrap();
    assert_eq!(events.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["raise", "receive"]);
    assert_eq!(s.followup_count(m, DateRange::single(day(6, 1))).await.unwrap(), 1);
    assert_eq!(lines_of(&s, m, "referral.update").await.len(), 1);
    assert_eq!(lines_of(&s, m, "followup.book").await.len(), 1);
    assert!(verify_chain(&s, m).await.is_ok());
    for n in nodes.into_iter().skip(1) {
        close_node(n).await;
    }
    finish(s, db).await;
}

#[test]
fn civil_date_times_are_stored_to_the_second_and_ranges_cover_whole_days() {
    assert_eq!(civil_text(datetime(2027, 6, 1, 9, 5, 7, 999_999_999)), "2027-06-01T09:05:07");
    assert_eq!(civil_bounds(stay(day(6, 30), 2)), ("2027-06-30T00:00:00".into(), "2027-07-01T23:59:59".into()));
}

// --- screening ------------------------------------------------------------------

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

#[tokio::test]
async fn screenings_are_stored_as_given_and_a_positive_one_raises_its_referral_in_the_same_transaction() {
    let (s, db) = fresh().await;
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
