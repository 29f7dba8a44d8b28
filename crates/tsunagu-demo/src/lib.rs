//! Deterministic demo data for tsunagu.
//!
//! [`load`] creates two municipalities modelled on the seeds — a
//! Setagaya-like city (131121, five districts, 25 children's halls, the
//! three postpartum-care facilities of [001]) and a Tsukubamirai-like city
//! (082350, six support rooms of [002]) — one account per role in each
//! ([`demo_accounts`]), and families at every stage from early pregnancy to
//! babies about a year old. Every family goes through the same checks as
//! typed input (`NotificationInput::check`, `BirthInput::check`) and the
//! same store methods as the web service, written against [`Store`] only.
//!
//! Same seed and options, same data: the only randomness is a SplitMix64
//! stream per family, and time comes from [`DemoOptions`] only.
//!
//! Families are generated and stored one at a time, so memory stays flat
//! whatever `families_per_municipality` is.

mod names;
mod plan;
mod rng;
mod spec;

use jiff::civil::Date;
use jiff::Timestamp;
use std::fmt;
use tsunagu_domain::audit::AuditContext;
use tsunagu_domain::clock::japan_date;
use tsunagu_domain::municipality::MunicipalityCode;
use tsunagu_domain::records::PregnancyStatus;
use tsunagu_domain::roles::Role;
use tsunagu_domain::{AccountId, AreaId, FamilyId, MunicipalityId, VenueId};
use tsunagu_store::{NewAccount, NewVenue, Secret, Store, StoreError};

use plan::{family_plan, pick_area, Shape};
use rng::Rng;
use spec::{MunicipalitySpec, Scope};

/// How many families [`DemoOptions::at`] asks for in each municipality.
pub const DEFAULT_FAMILIES_PER_MUNICIPALITY: usize = 200;

/// How often (in families) progress is logged.
const PROGRESS_EVERY: usize = 10_000;

/// Attempts per family when a generated mother happens to match one
/// already on record (same kana, birth date and due month).
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
}

impl DemoOptions {
    /// The default size and seed, for the instant `now` (today is its date in Japan).
    pub fn at(now: Timestamp) -> Self {
        Self { families_per_municipality: DEFAULT_FAMILIES_PER_MUNICIPALITY, seed: 1, today: japan_date(now), now }
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
    let mut summary =
        DemoSummary { municipalities: 0, families: 0, babies: 0, accounts: demo_accounts(), already_loaded: false };
    if store.municipality_by_code(parse_code(spec::SETAGAYA.code)?).await?.is_some() {
        summary.already_loaded = true;
        return Ok(summary);
    }
    for m in spec::ALL {
        let code = parse_code(m.code)?;
        if store.municipality_by_code(code).await?.is_some() {
            tracing::info!(municipality = m.code, "demo municipality exists already; skipped");
            continue;
        }
        let (families, babies) = load_municipality(store, opts, hash_password, m, code).await?;
        summary.municipalities += 1;
        summary.families += families;
        summary.babies += babies;
    }
    summary.already_loaded = summary.municipalities == 0;
    Ok(summary)
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

async fn load_municipality(
    store: &dyn Store,
    opts: &DemoOptions,
    hash_password: &(dyn Fn(&str) -> Secret + Send + Sync),
    m: &MunicipalitySpec,
    code: MunicipalityCode,
) -> tsunagu_store::Result<(usize, usize)> {
    let municipality = store.create_municipality(code, m.name_ja, m.name_en).await?;
    let mid = municipality.id;
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
    let ctx = AuditContext {
        municipality_id: mid,
        actor: nurse,
        role: Role::Nurse,
        remote_addr: "demo-loader".to_owned(),
        reason: "demo data".to_owned(),
        at: opts.now,
    };

    let total = opts.families_per_municipality.max(1);
    let area_weights: Vec<(AreaId, u32)> = places.areas.iter().zip(m.areas).map(|(a, s)| (a.0, s.weight)).collect();
    let demo_area = places.areas.get(m.demo_family.area).map(|a| a.0).ok_or_else(|| demo_error("demo family area"))?;
    // At least one twin and one triplet family in every municipality of ten families or more.
    let (twins_at, triplets_at) = if total >= 10 {
        let mut r = Rng::derive(opts.seed, m.series, u64::MAX);
        let t = 1 + r.below(total as u64 - 1);
        let mut u = 1 + r.below(total as u64 - 2);
        if u >= t {
            u += 1;
        }
        (Some(t), Some(u))
    } else {
        (None, None)
    };

    let mut demo_family: Option<FamilyId> = None;
    let mut babies = 0usize;
    for index in 0..total as u64 {
        let shape = if index == 0 {
            Shape::Demo(&m.demo_family)
        } else if Some(index) == twins_at {
            Shape::Twins
        } else if Some(index) == triplets_at {
            Shape::Triplets
        } else {
            Shape::Random
        };
        let mut rng = Rng::derive(opts.seed, m.series, index);
        let area = if index == 0 { demo_area } else { pick_area(&mut rng, &area_weights, index) };
        let (family, born) = load_family(store, &ctx, opts.today, &mut rng, area, &shape, index + 1).await?;
        babies += born;
        if index == 0 {
            demo_family = Some(family);
        }
        let done = index as usize + 1;
        if done % PROGRESS_EVERY == 0 {
            tracing::info!(municipality = m.code, done, total, "demo families loaded");
        }
    }

    for a in m.accounts.iter().filter(|a| !a.role.is_staff()) {
        create_account(store, hash_password, mid, a, &places, demo_family, opts.now).await?;
    }
    tracing::info!(municipality = m.code, families = total, babies, "demo municipality loaded");
    Ok((total, babies))
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
    let (mut areas, mut venues, mut family_id) = (Vec::new(), Vec::new(), None);
    match a.scope {
        Scope::None => {}
        Scope::Area(name) => areas.push(places.area(name)?),
        Scope::Venue(name) => venues.push(places.venue(name)?),
        Scope::DemoFamily => family_id = Some(demo_family.ok_or_else(|| demo_error("no demo family"))?),
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
                areas,
                venues,
                rooms: Vec::new(),
                created_at,
            },
        )
        .await?;
    Ok(account.id)
}

/// Registers one family (and its birth, if the babies have come). Returns
/// the family and how many babies were recorded.
async fn load_family(
    store: &dyn Store,
    ctx: &AuditContext,
    today: Date,
    rng: &mut Rng,
    area: AreaId,
    shape: &Shape<'_>,
    serial: u64,
) -> tsunagu_store::Result<(FamilyId, usize)> {
    let mut attempt = 0;
    let (family, plan) = loop {
        let plan = family_plan(rng, today, area, shape, serial);
        let notification = plan
            .notification
            .check(plan.check_day)
            .map_err(|e| demo_error(format!("generated notification refused: {e}")))?;
        match store.register_notification(ctx, &notification).await {
            Ok(family) => break (family, plan),
            // A generated mother can match one already on record; draw another.
            Err(StoreError::Conflict("duplicate_notification")) if attempt < DUPLICATE_RETRIES => attempt += 1,
            Err(e) => return Err(e),
        }
    };
    let Some(birth) = plan.birth else {
        return Ok((family, 0));
    };
    let record = store.open_family(ctx, family).await?.ok_or(StoreError::NotFound)?;
    let pregnancy = record
        .pregnancies
        .iter()
        .filter(|p| p.status == PregnancyStatus::Ongoing)
        .max_by_key(|p| p.edd)
        .ok_or_else(|| demo_error("new family has no ongoing pregnancy"))?;
    let babies = birth.check(pregnancy, today).map_err(|e| demo_error(format!("generated birth refused: {e}")))?;
    let ids = store.record_birth(ctx, family, pregnancy.id, &babies).await?;
    Ok((family, ids.len()))
}

#[cfg(test)]
mod tests;
