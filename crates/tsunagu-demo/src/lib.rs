//! Deterministic demo data for tsunagu.
//!
//! [`load`] creates two municipalities modelled on the seeds — a
//! Setagaya-like city (131121, five districts, 25 children's halls, the
//! three postpartum-care facilities of [001]) and a Tsukubamirai-like city
//! (082350, six support rooms of [002]) — one account per role in each
//! ([`demo_accounts`]), and families at every stage from early pregnancy to
//! babies about a year old. Every family goes through the same checks as
//! typed input (`NotificationInput::check`, `BirthInput::check`) and is
//! stored as the web service's `register_notification` and `record_birth`
//! would store it (`RecordStore::import_families`), written against [`Store`] only.
//!
//! Same seed and options, same data: the only randomness is a SplitMix64
//! stream per family, and time comes from [`DemoOptions`] only.
//!
//! Families are generated and imported a batch at a time
//! (`RecordStore::import_families`, one transaction per batch), so memory stays
//! flat whatever `families_per_municipality` is.

pub mod chat;
mod classes;
mod local;
mod names;
mod plan;
mod progress;
mod reports;
mod rng;
mod spec;

use jiff::civil::Date;
use jiff::Timestamp;
use std::fmt;
use tsunagu_domain::audit::AuditContext;
use tsunagu_domain::clock::japan_date;
use tsunagu_domain::municipality::MunicipalityCode;
use tsunagu_domain::postpartum::calendar::FacilityCalendar;
use tsunagu_domain::records::{Notification, Pregnancy, PregnancyStatus};
use tsunagu_domain::roles::Role;
use tsunagu_domain::{AccountId, AreaId, FamilyId, MunicipalityId, PregnancyId, VenueId};
use tsunagu_store::{ImportFamily, NewAccount, NewVenue, Secret, Store, StoreError};

use plan::{family_plan, pick_area, Shape};
use rng::Rng;
use spec::{MunicipalitySpec, Scope};

/// How many families [`DemoOptions::at`] asks for in each municipality.
pub const DEFAULT_FAMILIES_PER_MUNICIPALITY: usize = 200;

/// How often (in families) progress is logged.
const PROGRESS_EVERY: usize = 10_000;

/// Families per `RecordStore::import_families` call (one transaction each).
const BATCH: usize = 1_000;

/// From how many families a municipality's load drops the loaded tables'
/// secondary indexes and builds them after, and loads the municipalities
/// side by side (#16): below it, keeping them is cheaper than building them
/// again over every row of the database. [`DemoOptions::bulk_from`]'s default.
pub const BULK_LOAD_FROM: usize = 20_000;

/// Redraws per family when a generated mother happens to match one
/// already on record (same kana, birth date and due month) or one earlier
/// in her batch; the next refusal surfaces as the store's conflict.
const DUPLICATE_RETRIES: u32 = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoOptions {
    /// Families in each municipality, the demo family included (at least one
    /// is always created: the `mother` and `partner` accounts need it).
    pub families_per_municipality: usize,
    pub seed: u64,
    /// The day in Japan the data is made for: stages are counted from it.
    pub today: Date,
    /// Stamped on the audit lines the loading writes.
    pub now: Timestamp,
    /// From how many families a municipality the load is a large one
    /// ([`BULK_LOAD_FROM`]; tests take the large path with a few).
    pub bulk_from: usize,
}

impl DemoOptions {
    /// The default size and seed, for the instant `now` (today is its date in Japan).
    pub fn at(now: Timestamp) -> Self {
        Self {
            families_per_municipality: DEFAULT_FAMILIES_PER_MUNICIPALITY,
            seed: 1,
            today: japan_date(now),
            now,
            bulk_from: BULK_LOAD_FROM,
        }
    }
}

/// A demo sign-in, as printed in the README and the start-up banner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoAccount {
    pub municipality_code: String,
    pub username: String,
    pub password: &'static str,
    pub role: Role,
    /// Base32 TOTP secret (staff only), already enrolled.
    pub totp_secret: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    /// Municipalities created by this call.
    pub municipalities: usize,
    /// Families created by this call.
    pub families: usize,
    /// Babies recorded by this call.
    pub babies: usize,
    /// Every demo sign-in (whether created now or by an earlier load).
    pub accounts: Vec<DemoAccount>,
    /// True when the demo data was there already and nothing was created.
    pub already_loaded: bool,
    /// Time spent storing the families (`import_families`, the bulk path),
    /// for the rate `demo-load` prints (#16): by the wall clock — a large
    /// load's municipalities side by side count once, and the indexes built
    /// after them are included.
    pub families_time: std::time::Duration,
}

/// The fixed list of demo accounts of both municipalities.
pub fn demo_accounts() -> Vec<DemoAccount> {
    spec::ALL
        .iter()
        .flat_map(|m| {
            m.accounts.iter().map(|a| DemoAccount {
                municipality_code: m.code.to_owned(),
                username: a.username.to_owned(),
                password: a.password,
                role: a.role,
                totp_secret: a.totp_secret,
            })
        })
        .collect()
}

/// Something about the demo data itself went wrong (a generated record
/// failed the domain checks, or the fixed configuration does not add up).
/// Never carries personal data: only field names and codes.
#[derive(Debug)]
pub struct DemoDataError(String);

impl fmt::Display for DemoDataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "demo data: {}", self.0)
    }
}

impl std::error::Error for DemoDataError {}

fn demo_error(msg: impl Into<String>) -> StoreError {
    StoreError::Other(Box::new(DemoDataError(msg.into())))
}

fn parse_code(code: &str) -> tsunagu_store::Result<MunicipalityCode> {
    MunicipalityCode::parse(code).map_err(|e| demo_error(format!("municipality code {code}: {e}")))
}

/// Loads the demo data, unless it is there already (municipality 131121
/// exists): then nothing is created and the summary says so.
/// `hash_password` turns a password into its stored hash (argon2 lives in
/// the web crate).
pub async fn load(
    store: &dyn Store,
    opts: &DemoOptions,
    hash_password: &(dyn Fn(&str) -> Secret + Send + Sync),
) -> tsunagu_store::Result<DemoSummary> {
    let mut summary = DemoSummary {
        municipalities: 0,
        families: 0,
        babies: 0,
        accounts: demo_accounts(),
        already_loaded: false,
        families_time: std::time::Duration::ZERO,
    };
    if store.municipality_by_code(parse_code(spec::SETAGAYA.code)?).await?.is_some() {
        summary.already_loaded = true;
        return Ok(summary);
    }
    let mut todo = Vec::new();
    for m in spec::ALL {
        let code = parse_code(m.code)?;
        if store.municipality_by_code(code).await?.is_some() {
            tracing::info!(municipality = m.code, "demo municipality exists already; skipped");
            continue;
        }
        todo.push((m, code));
    }
    let mut done = Vec::new();
    let large = opts.families_per_municipality >= opts.bulk_from;
    if large {
        // A large load (#16): every municipality set up, one after the other
        // (their ids follow the list), then every municipality's families,
        // with the loaded tables' secondary indexes set aside, then the
        // indexes built once over all of them — whether the families loaded
        // or not — before anything else of the demo reads them. The
        // families' time includes the build.
        let mut set_up = Vec::with_capacity(todo.len());
        for (m, code) in &todo {
            let (ctx, places) = set_up_municipality(store, opts, hash_password, m, *code).await?;
            set_up.push((*m, ctx, places));
        }
        let loading = std::time::Instant::now();
        store.bulk_load_begin().await?;
        // The municipalities' families side by side: on PostgreSQL each load
        // has a connection of its own and both cores work (one load kept one
        // busy); SQLite's single writer takes their batches in turn, one load
        // computing its next batch while the other's is written. Their rows
        // never meet (each checks duplicates within its municipality), so
        // only the ids interleave. Each runs to its end or its error.
        let board = progress::Board::new();
        let staged =
            futures_util::future::join_all(set_up.into_iter().map(|s| stage_families(store, opts, s, &board))).await;
        board.finish();
        let mut failed = None;
        for s in staged {
            match s {
                Ok(staged) => done.push(staged),
                Err(e) => {
                    failed.get_or_insert(e);
                }
            }
        }
        let started = std::time::Instant::now();
        let rebuilt = store.bulk_load_end().await;
        if let Some(e) = failed {
            return Err(e);
        }
        tracing::info!(indexes = rebuilt?, took_ms = started.elapsed().as_millis(), "indexes built after the load");
        // The loads ran side by side: their time is the wall clock's, not
        // the sum of each municipality's.
        summary.families_time = loading.elapsed();
        for staged in &done {
            the_rest(store, opts, hash_password, staged).await?;
        }
    } else {
        for (m, code) in &todo {
            let (ctx, places) = set_up_municipality(store, opts, hash_password, m, *code).await?;
            let board = progress::Board::new();
            let staged = stage_families(store, opts, (m, ctx, places), &board).await;
            board.finish();
            let staged = staged?;
            the_rest(store, opts, hash_password, &staged).await?;
            done.push(staged);
        }
    }
    for staged in &done {
        if !large {
            summary.families_time += staged.took;
        }
        summary.municipalities += 1;
        summary.families += staged.loaded.families;
        summary.babies += staged.loaded.babies;
    }
    summary.already_loaded = summary.municipalities == 0;
    Ok(summary)
}

/// A municipality set up and its families stored.
struct Staged {
    m: &'static MunicipalitySpec,
    ctx: AuditContext,
    places: Places,
    loaded: Loaded,
    took: std::time::Duration,
}

struct Places {
    areas: Vec<(AreaId, &'static str)>,
    venues: Vec<(VenueId, &'static str)>,
}

impl Places {
    fn area(&self, name: &str) -> tsunagu_store::Result<AreaId> {
        self.areas.iter().find(|a| a.1 == name).map(|a| a.0).ok_or_else(|| demo_error(format!("no area {name}")))
    }

    fn venue(&self, name: &str) -> tsunagu_store::Result<VenueId> {
        self.venues.iter().find(|v| v.1 == name).map(|v| v.0).ok_or_else(|| demo_error(format!("no venue {name}")))
    }
}

async fn stage_families(
    store: &dyn Store,
    opts: &DemoOptions,
    (m, ctx, places): (&'static MunicipalitySpec, AuditContext, Places),
    board: &progress::Board,
) -> tsunagu_store::Result<Staged> {
    let started = std::time::Instant::now();
    let loaded = load_families(store, &ctx, opts, m, &places, BATCH, board).await?;
    Ok(Staged { m, ctx, places, loaded, took: started.elapsed() })
}

/// Everything of a municipality's demo after its families.
async fn the_rest(
    store: &dyn Store,
    opts: &DemoOptions,
    hash_password: &(dyn Fn(&str) -> Secret + Send + Sync),
    staged: &Staged,
) -> tsunagu_store::Result<()> {
    let Staged { m, ctx, places, loaded, .. } = staged;
    postpartum_use(store, ctx, opts).await?;
    reports::load(store, ctx, opts.today).await?;
    screening_use(store, ctx, opts, loaded.demo_family).await?;
    classes::load(store, ctx, opts.today, loaded.demo_family).await?;
    local::load(store, ctx).await?;
    for a in m.accounts.iter().filter(|a| !a.role.is_staff()) {
        create_account(store, hash_password, ctx.municipality_id, a, places, Some(loaded.demo_family), opts.now)
            .await?;
    }
    chat::load(store, ctx, hash_password, loaded.demo_family).await?;
    tracing::info!(
        municipality = m.code,
        families = loaded.families,
        babies = loaded.babies,
        "demo municipality loaded"
    );
    Ok(())
}

/// Stays at the first facility of the municipality that offers short stays,
/// for some families whose baby is 3–15 weeks old: a few days from two weeks
/// after the birth, approved, so the facility's list, the family's page and
/// the yearly figures show care in use. At most 40, in Setagaya.
async fn postpartum_use(store: &dyn Store, ctx: &AuditContext, opts: &DemoOptions) -> tsunagu_store::Result<()> {
    use tsunagu_domain::dates::DateRange;
    use tsunagu_domain::policy::FamilyFilter;
    use tsunagu_domain::postpartum::application::{latest_babies, ApplicationAnswers, NewApplication};
    use tsunagu_domain::postpartum::fees::{city_pays_transport, quote, FeeTable, QuoteRequest};
    use tsunagu_domain::postpartum::ServiceType;
    let m = ctx.municipality_id;
    // Only Setagaya's fee table is published [001]; other cities get no stays.
    if store.municipality(m).await?.map(|x| x.code.to_string()).as_deref() != Some("131121") {
        return Ok(());
    }
    let facilities = store.postpartum_facilities(m).await?;
    let Some(facility) = facilities.iter().find(|f| f.calendar.offers(ServiceType::ShortStay)) else { return Ok(()) };
    let Some(pool) = facility.calendar.pools().iter().position(|p| p.services.contains(&ServiceType::ShortStay)) else {
        return Ok(());
    };
    let families = store.search_families(ctx, &FamilyFilter::Municipality(m), "", 400).await?;
    let mut made = 0;
    // What differs between families is drawn from their place in the list,
    // not their ids: the ids of municipalities loaded side by side interleave.
    for (i, summary) in (0u32..).zip(families) {
        if made >= 40 {
            break;
        }
        let Some(record) = store.open_family(ctx, summary.family_id).await? else { continue };
        let babies = latest_babies(&record);
        let Some(baby) = babies.first() else { continue };
        let age = (opts.today - baby.birth_date).get_days();
        if !(21..=105).contains(&age) {
            continue;
        }
        let days = 2 + i % 5;
        let Some(stay) = DateRange::starting(baby.birth_date.saturating_add(jiff::Span::new().days(14)), days) else {
            continue;
        };
        let places: Vec<_> = stay.days().map(|d| (d, facility.calendar.capacity(ServiceType::ShortStay, d))).collect();
        let request = QuoteRequest {
            bracket: record.family.fee_bracket,
            service: ServiceType::ShortStay,
            days,
            babies: babies.len() as u32,
            siblings: 0,
        };
        let Ok(q) = quote(&FeeTable::setagaya(), request) else { continue };
        let id = store
            .create_application(
                ctx,
                &NewApplication {
                    family_id: record.family.id,
                    venue_id: facility.venue.id,
                    service: ServiceType::ShortStay,
                    stay,
                    babies: babies.len() as u8,
                    siblings: 0,
                    answers: ApplicationAnswers {
                        has_worries_or_fatigue: true,
                        lacks_help_from_relatives: true,
                        ..ApplicationAnswers::default()
                    },
                    quote_total_yen: q.total_yen,
                    fee_to_be_confirmed: q.amount_to_be_confirmed,
                    transport_paid: city_pays_transport(record.family.fee_bracket),
                    refusals: vec![],
                    override_reason: None,
                },
            )
            .await?;
        let booking = tsunagu_store::Booking { pool: pool as u32, places };
        // A full day just leaves this one waiting for review, as in life.
        match store.approve_application(ctx, id, &booking, "デモデータ", None).await {
            Ok(()) => {
                // The facility's daily record of the days gone by; every
                // seventh family left a day early, so the figures show
                // booked and used apart.
                let early = i % 7 == 0;
                for d in stay.days().filter(|d| *d < opts.today && !(early && *d == stay.last())) {
                    store.record_day_use(ctx, id, d, true).await?;
                }
                made += 1;
            }
            Err(StoreError::Conflict(_)) => made += 1,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// EPDS answers the demo nurse enters from paper forms, as the score of each
/// item 1–10, in turn: mostly negative, some positive (total 9 or more),
/// one urgent (item 10 above 0) — so the nurse's referrals and each
/// family's screenings are not empty.
const DEMO_EPDS: [[u8; 10]; 6] = [
    [1, 1, 0, 1, 1, 0, 1, 0, 0, 0],
    [2, 2, 1, 2, 1, 1, 1, 1, 1, 0],
    [0, 1, 1, 0, 1, 1, 0, 0, 0, 0],
    [1, 1, 1, 1, 1, 1, 1, 0, 1, 1],
    [1, 0, 1, 1, 0, 1, 1, 1, 1, 0],
    [2, 2, 2, 2, 1, 1, 1, 1, 1, 0],
];

/// At most this many demo EPDS responses per municipality.
const DEMO_EPDS_MAX: usize = 18;

/// EPDS responses for families whose baby is 2–16 weeks old (the newborn
/// visit and the one-month check-up), entered by the demo nurse from paper
/// and stored as the pages store them — a positive or urgent one with its
/// referral. The demo family is left for the `mother` account to answer.
async fn screening_use(
    store: &dyn Store,
    ctx: &AuditContext,
    opts: &DemoOptions,
    demo_family: FamilyId,
) -> tsunagu_store::Result<()> {
    use tsunagu_domain::policy::FamilyFilter;
    use tsunagu_domain::screening::{defs, offered, Answers};
    let def = defs::epds();
    let families = store.search_families(ctx, &FamilyFilter::Municipality(ctx.municipality_id), "", 400).await?;
    let mut made = 0;
    for summary in families {
        if made >= DEMO_EPDS_MAX {
            break;
        }
        if summary.family_id == demo_family {
            continue;
        }
        let Some(record) = store.open_family(ctx, summary.family_id).await? else { continue };
        let Some(latest) = record.babies.iter().map(|b| b.birth_date).max() else { continue };
        if !(14..=112).contains(&(opts.today - latest).get_days()) {
            continue;
        }
        let Some(pregnancy) = offered(&def, &record, opts.today) else { continue };
        let scores = DEMO_EPDS.get(made % DEMO_EPDS.len()).copied().unwrap_or_default();
        let mut answers = Answers::to(&def, &[]);
        for (item, score) in def.items.iter().zip(scores) {
            let Some(option) = item.options.iter().find(|o| o.score == score) else { continue };
            answers.answers.insert(item.id.clone(), option.code.clone());
        }
        let new = tsunagu_store::NewScreening::score(&def, record.family.id, Some(pregnancy), answers)
            .map_err(|e| demo_error(format!("demo EPDS refused: {e}")))?;
        store.record_screening(ctx, &new).await?;
        made += 1;
    }
    Ok(())
}

/// Creates the municipality, its areas, venues and staff accounts. Returns
/// the context the families are loaded in (the demo nurse's) and the places.
async fn set_up_municipality(
    store: &dyn Store,
    opts: &DemoOptions,
    hash_password: &(dyn Fn(&str) -> Secret + Send + Sync),
    m: &MunicipalitySpec,
    code: MunicipalityCode,
) -> tsunagu_store::Result<(AuditContext, Places)> {
    let municipality = store.create_municipality(code, m.name_ja, m.name_en).await?;
    let mid = municipality.id;
    let kinds = m.not_run.iter().fold(tsunagu_domain::timeline::KindSet::ALL, |k, x| k.without(*x));
    store.set_contact_kinds(mid, kinds).await?;
    let mut places = Places { areas: Vec::new(), venues: Vec::new() };
    for a in m.areas {
        let area = store.create_area(mid, a.name_ja, a.name_en).await?;
        places.areas.push((area.id, a.name_ja));
    }
    for v in m.venues {
        let area_id = match v.area {
            Some(i) => Some(
                places
                    .areas
                    .get(i)
                    .map(|a| a.0)
                    .ok_or_else(|| demo_error(format!("venue {}: no area {i}", v.name_en)))?,
            ),
            None => None,
        };
        let venue = store
            .create_venue(&NewVenue {
                municipality_id: mid,
                area_id,
                kind: v.kind,
                name_ja: v.name_ja.to_owned(),
                name_en: v.name_en.to_owned(),
            })
            .await?;
        if let Some((operator_ja, operator_en, calendar)) = postpartum_config(v.name_ja) {
            store.set_postpartum_facility(mid, venue.id, operator_ja, operator_en, &calendar).await?;
        }
        places.venues.push((venue.id, v.name_ja));
    }

    // Staff first: the loading is done in the demo nurse's name.
    let mut nurse: Option<AccountId> = None;
    for a in m.accounts.iter().filter(|a| a.role.is_staff()) {
        let account = create_account(store, hash_password, mid, a, &places, None, opts.now).await?;
        if a.username == "nurse" {
            nurse = Some(account);
        }
    }
    let nurse = nurse.ok_or_else(|| demo_error(format!("{} has no nurse account", m.code)))?;
    let ctx = tsunagu_domain::audit::Requester {
        municipality_id: mid,
        actor: nurse,
        role: Role::Nurse,
        remote_addr: "demo-loader".to_owned(),
        reason: "demo data".to_owned(),
        at: opts.now,
    }
    .without_a_policy_decision();
    Ok((ctx, places))
}

/// The areas families are drawn from, with their weights, in spec order.
fn area_weights(places: &Places, m: &MunicipalitySpec) -> Vec<(AreaId, u32)> {
    places.areas.iter().zip(m.areas).map(|(a, s)| (a.0, s.weight)).collect()
}

/// The indexes of the forced twin and triplet families: at least one of
/// each in every municipality of ten families or more.
fn multiples_at(seed: u64, series: u64, total: u64) -> (Option<u64>, Option<u64>) {
    if total < 10 {
        return (None, None);
    }
    let mut r = Rng::derive(seed, series, u64::MAX);
    let t = 1 + r.below(total - 1);
    let mut u = 1 + r.below(total - 2);
    if u >= t {
        u += 1;
    }
    (Some(t), Some(u))
}

/// What kind of family the `index`-th one is.
fn shape_at<'a>(index: u64, multiples: (Option<u64>, Option<u64>), m: &'a MunicipalitySpec) -> Shape<'a> {
    if index == 0 {
        Shape::Demo(&m.demo_family)
    } else if Some(index) == multiples.0 {
        Shape::Twins
    } else if Some(index) == multiples.1 {
        Shape::Triplets
    } else {
        Shape::Random
    }
}

/// The serial of the handbook of the `index`-th family (of `total`) at its
/// `attempt`-th draw: `index + 1` at the first, and beyond `total` for a
/// redraw, so that a redrawn family never reuses the number of the one
/// that made it redraw, and no two families share one.
fn handbook_serial(index: u64, attempt: u32, total: u64) -> u64 {
    index + 1 + u64::from(attempt) * total
}

/// The pregnancy a checked notification opens, as a birth is checked
/// against it (ids are not known before the import and not looked at).
fn pregnancy_of(n: &Notification) -> Pregnancy {
    Pregnancy {
        id: PregnancyId(0),
        family_id: FamilyId(0),
        notified_on: n.notified_on,
        edd: n.edd,
        foetuses: n.foetuses,
        first_child: n.first_child,
        status: PregnancyStatus::Ongoing,
        handbook_number: n.handbook_number.clone(),
        ended_on: None,
    }
}

/// One family still to be stored: its random stream carries on from draw
/// to draw.
struct Slot {
    index: u64,
    rng: Rng,
    area: AreaId,
    attempt: u32,
}

struct Loaded {
    families: usize,
    babies: usize,
    demo_family: FamilyId,
}

/// Loads the municipality's families, `batch` per `import_families` call.
/// A family the store turns down as a duplicate (a generated mother can
/// match one already on record) is drawn again in the next batch, so that
/// exactly `families_per_municipality` are stored.
async fn load_families(
    store: &dyn Store,
    ctx: &AuditContext,
    opts: &DemoOptions,
    m: &MunicipalitySpec,
    places: &Places,
    batch: usize,
    board: &progress::Board,
) -> tsunagu_store::Result<Loaded> {
    let total = opts.families_per_municipality.max(1) as u64;
    let batch = batch.max(1);
    let area_weights = area_weights(places, m);
    let demo_area = places.areas.get(m.demo_family.area).map(|a| a.0).ok_or_else(|| demo_error("demo family area"))?;
    let multiples = multiples_at(opts.seed, m.series, total);

    let mut next = 0u64;
    let mut redraw: Vec<Slot> = Vec::new();
    let mut slots: Vec<Slot> = Vec::with_capacity(batch);
    let mut families: Vec<ImportFamily> = Vec::with_capacity(batch);
    let (mut done, mut babies, mut demo_family) = (0usize, 0usize, None);
    let mut progress = board.start(m.code, total);
    while next < total || !redraw.is_empty() {
        // Redraws first (never more than a batch), then new families in order.
        slots.append(&mut redraw);
        while slots.len() < batch && next < total {
            let index = next;
            next += 1;
            let mut rng = Rng::derive(opts.seed, m.series, index);
            let area = if index == 0 { demo_area } else { pick_area(&mut rng, &area_weights, index) };
            slots.push(Slot { index, rng, area, attempt: 0 });
        }
        families.clear();
        for slot in &mut slots {
            let shape = shape_at(slot.index, multiples, m);
            let serial = handbook_serial(slot.index, slot.attempt, total);
            let mut family = family_input(&mut slot.rng, opts.today, slot.area, &shape, serial)?;
            family.settled_through = settled_through(slot.index, opts.today);
            families.push(family);
        }

        let results = store.import_families(ctx, &families).await?;
        if results.len() != families.len() {
            return Err(demo_error(format!("import answered {} of {} families", results.len(), families.len())));
        }
        let before = done;
        for ((mut slot, family), result) in slots.drain(..).zip(&families).zip(results) {
            match result {
                Ok(id) => {
                    done += 1;
                    babies += family.babies.len();
                    if slot.index == 0 {
                        demo_family = Some(id);
                    }
                }
                Err(_) if slot.attempt < DUPLICATE_RETRIES => {
                    slot.attempt += 1;
                    redraw.push(slot);
                }
                Err(code) => return Err(StoreError::Conflict(code)),
            }
        }
        if done / PROGRESS_EVERY > before / PROGRESS_EVERY {
            let per_s = progress.window_rate(done as u64);
            tracing::info!(municipality = m.code, done, total, per_s, "demo families loaded");
        }
        progress.update(done as u64);
    }
    let demo_family = demo_family.ok_or_else(|| demo_error("the demo family was not stored"))?;
    Ok(Loaded { families: done, babies, demo_family })
}

/// How far the demo's history of contacts goes for the family at `index`:
/// most families had every contact up to three days ago done (so what fell
/// due since is overdue); one in 40 had nothing recorded, so the work lists
/// show overdue and missed contacts and 3–4-month check non-attendees.
/// Drawn from the index, not the family's random stream, so the families
/// themselves do not change.
fn settled_through(index: u64, today: Date) -> Option<Date> {
    (index % 40 != 17).then(|| today.saturating_sub(jiff::Span::new().days(3 + (index % 5) as i64)))
}

/// Plans one family and checks it as the pages would: the notification,
/// then the birth (if the babies have come) against the pregnancy the
/// notification opens.
fn family_input(
    rng: &mut Rng,
    today: Date,
    area: AreaId,
    shape: &Shape<'_>,
    serial: u64,
) -> tsunagu_store::Result<ImportFamily> {
    let plan = family_plan(rng, today, area, shape, serial);
    let notification = plan
        .notification
        .check(plan.check_day)
        .map_err(|e| demo_error(format!("generated notification refused: {e}")))?;
    let babies = match &plan.birth {
        Some(birth) => birth
            .check(&pregnancy_of(&notification), today)
            .map_err(|e| demo_error(format!("generated birth refused: {e}")))?,
        None => Vec::new(),
    };
    Ok(ImportFamily { notification, babies, settled_through: None })
}

/// The operator and calendar of each demo postpartum-care facility: the
/// three of [001] with their operators as published (全体像 運営: 公益財団法人日本助産師会,
/// いなみ小児科, 一般社団法人至誠会第二病院), and the invented Tsukubamirai clinic with
/// the rules of a small hospital ward (every day, about two pairs).
fn postpartum_config(name_ja: &str) -> Option<(&'static str, &'static str, FacilityCalendar)> {
    match name_ja {
        spec::SETAGAYA_CENTRE => {
            Some(("公益財団法人日本助産師会", "Japanese Midwives Association", FacilityCalendar::setagaya_centre()))
        }
        "ママズルーム" => {
            Some(("いなみ小児科", "Inami Paediatric Clinic", FacilityCalendar::setagaya_mamas_room()))
        }
        "至誠会第二病院" => {
            Some(("一般社団法人至誠会第二病院", "Shiseikai Daini Hospital", FacilityCalendar::setagaya_shiseikai()))
        }
        spec::TSUKUBAMIRAI_FACILITY => {
            Some(("みらい助産院", "Mirai Midwifery Home", FacilityCalendar::setagaya_shiseikai()))
        }
        _ => None,
    }
}

async fn create_account(
    store: &dyn Store,
    hash_password: &(dyn Fn(&str) -> Secret + Send + Sync),
    municipality_id: MunicipalityId,
    a: &spec::AccountSpec,
    places: &Places,
    demo_family: Option<FamilyId>,
    created_at: jiff::Timestamp,
) -> tsunagu_store::Result<AccountId> {
    let (mut areas, mut venues, mut family_id, mut family_relation) = (Vec::new(), Vec::new(), None, None);
    match a.scope {
        Scope::None => {}
        Scope::Area(name) => areas.push(places.area(name)?),
        Scope::Venue(name) => venues.push(places.venue(name)?),
        Scope::DemoFamily(relation) => {
            family_id = Some(demo_family.ok_or_else(|| demo_error("no demo family"))?);
            family_relation = Some(relation);
        }
    }
    let account = store
        .create_account(
            None,
            &NewAccount {
                municipality_id,
                username: a.username.to_owned(),
                display_name: a.display_name.to_owned(),
                role: a.role,
                password_hash: hash_password(a.password),
                totp_secret: a.totp_secret.map(Secret::new),
                family_id,
                family_relation,
                areas,
                venues,
                rooms: Vec::new(),
                created_at,
            },
        )
        .await?;
    Ok(account.id)
}

#[cfg(test)]
mod tests;
