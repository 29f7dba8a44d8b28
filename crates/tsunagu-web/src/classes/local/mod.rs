//! Local information [000] 地域おでかけ情報, shared by the pages and the API:
//! families (and staff) browse each area's halls, hubs, support rooms,
//! outing spots and services by area and by stage; the area's coordinators
//! (the administrator for every area) add, edit and retire its entries.
//!
//! An entry is public information about a place: browsing writes no audit
//! line. A family's default stage is the one thing read of a person — its
//! own record, when it has not chosen a stage — and that read is audited as
//! any other. Each keeper's change writes one line (the store's `local.keep`).

use crate::base::error::{permit, permit_municipality, AppError};
use crate::base::AppState;
use jiff::civil::Date;
use tsunagu_domain::audit::Requester;
use tsunagu_domain::classes::local::{stage_on, LifeStage, LocalPlaceInput, PlaceKind};
use tsunagu_domain::places::Area;
use tsunagu_domain::policy::{authorize, Action, Allowed, Resource};
use tsunagu_domain::roles::Actor;
use tsunagu_domain::validation::FieldErrors;
use tsunagu_domain::{AreaId, LocalPlaceId};
use tsunagu_store::{ClassSession, LocalPlaceEntry, LocalPlaceQuery, SessionQuery};

pub mod api;
pub mod pages;

/// At most this many entries on one list.
const LIMIT: u32 = 300;

/// A filter as asked: absent (the default), every value (`all`), or one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick<T> {
    Default,
    All,
    One(T),
}

impl<T: Copy> Pick<T> {
    /// Parses `all`, a value `parse` knows, or nothing (the default); any
    /// other text is the field's `invalid_choice`.
    fn read(
        raw: Option<&str>,
        field: &'static str,
        parse: impl Fn(&str) -> Option<T>,
        errors: &mut FieldErrors,
    ) -> Self {
        match raw.map(str::trim) {
            None | Some("") => Pick::Default,
            Some("all") => Pick::All,
            Some(v) => match parse(v) {
                Some(x) => Pick::One(x),
                None => {
                    errors.add(field, "invalid_choice");
                    Pick::Default
                }
            },
        }
    }
}

/// What a reader asks of the directory (the page's query and the API's are the same).
#[derive(Debug, Clone, Copy)]
pub struct Browse {
    pub area: Pick<AreaId>,
    pub stage: Pick<LifeStage>,
    pub kind: Option<PlaceKind>,
}

impl Browse {
    /// Reads the query's texts: `area` an id or `all`, `stage` a
    /// `LifeStage` code or `all`, `kind` a `PlaceKind` code (or nothing).
    pub fn parse(area: Option<&str>, stage: Option<&str>, kind: Option<&str>) -> Result<Browse, AppError> {
        let mut errors = FieldErrors::default();
        let area = Pick::read(area, "area", |v| v.parse::<i64>().ok().filter(|a| *a > 0).map(AreaId), &mut errors);
        let stage = Pick::read(stage, "stage", LifeStage::parse, &mut errors);
        let kind = match kind.map(str::trim).filter(|k| !k.is_empty() && *k != "all") {
            None => None,
            Some(k) => {
                let parsed = PlaceKind::parse(k);
                if parsed.is_none() {
                    errors.add("kind", "invalid_choice");
                }
                parsed
            }
        };
        errors.finish(|| Browse { area, stage, kind }).map_err(AppError::Invalid)
    }
}

/// The directory as one reader sees it, with the filters it was read with.
pub struct Directory {
    pub area: Option<AreaId>,
    pub stage: Option<LifeStage>,
    pub kind: Option<PlaceKind>,
    pub entries: Vec<LocalPlaceEntry>,
}

/// Browses the directory. A family's defaults are its own: its area (a fact
/// the policy already reads, not audited) and, when it has not chosen a
/// stage, the stage its record puts it at today (`stage_on`; that read of
/// its own record is audited). Everyone else's defaults are every area and
/// every stage. The entries themselves write no audit line.
pub async fn browse(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    ask: Browse,
    today: Date,
) -> Result<Directory, AppError> {
    permit_municipality(actor, Action::BrowseLocalInformation)?;
    let own = match actor.family_id {
        Some(f) => Some(crate::base::access::family_for(state, actor, f, Action::BookClass).await?),
        None => None,
    };
    let area = match ask.area {
        Pick::One(a) => Some(a),
        Pick::All => None,
        Pick::Default => own.as_ref().map(|(access, _)| access.area_id),
    };
    let stage = match (ask.stage, &own) {
        (Pick::One(s), _) => Some(s),
        (Pick::All, _) | (Pick::Default, None) => None,
        (Pick::Default, Some((access, allowed))) => {
            let record = state
                .store
                .open_family(&requester.allowed(allowed), access.family_id)
                .await?
                .ok_or(AppError::NotFound)?;
            stage_on(&record, today)
        }
    };
    let q = LocalPlaceQuery { area, stage, kind: ask.kind, limit: LIMIT, ..LocalPlaceQuery::default() };
    let entries = state.store.local_places(actor.municipality_id, &q).await?;
    Ok(Directory { area, stage, kind: ask.kind, entries })
}

/// One entry (retired ones to its keepers only) and the upcoming sessions
/// held at its venue, from `from` on.
pub async fn place(
    state: &AppState,
    actor: &Actor,
    id: LocalPlaceId,
    from: Date,
) -> Result<(LocalPlaceEntry, Vec<ClassSession>), AppError> {
    permit_municipality(actor, Action::BrowseLocalInformation)?;
    let entry = state.store.local_place(actor.municipality_id, id).await?.ok_or(AppError::NotFound)?;
    if entry.retired && !may_keep(actor, entry.place.area_id) {
        return Err(AppError::NotFound);
    }
    let sessions = match entry.place.venue_id {
        Some(v) => {
            let q = SessionQuery { from: Some(from), venues: Some(vec![v]), limit: 50, ..SessionQuery::default() };
            state.store.class_sessions(actor.municipality_id, &q).await?
        }
        None => vec![],
    };
    Ok((entry, sessions))
}

/// The entries linked to these sessions' venues, by venue (no audit line).
pub async fn places_of_venues(
    state: &AppState,
    actor: &Actor,
    venues: Vec<tsunagu_domain::VenueId>,
) -> Result<Vec<LocalPlaceEntry>, AppError> {
    if venues.is_empty() || permit_municipality(actor, Action::BrowseLocalInformation).is_err() {
        return Ok(vec![]);
    }
    let q = LocalPlaceQuery { venues: Some(venues), limit: LIMIT, ..LocalPlaceQuery::default() };
    Ok(state.store.local_places(actor.municipality_id, &q).await?)
}

fn area_resource(actor: &Actor, area_id: AreaId) -> Resource<'static> {
    Resource::Area { municipality_id: actor.municipality_id, area_id }
}

/// The policy lets the actor keep this area's entries.
pub fn may_keep(actor: &Actor, area: AreaId) -> bool {
    authorize(actor, Action::KeepLocalInformation, &area_resource(actor, area)).is_allowed()
}

fn permit_keep(actor: &Actor, area: AreaId) -> Result<Allowed, AppError> {
    permit(actor, Action::KeepLocalInformation, &area_resource(actor, area))
}

/// The areas whose entries the actor keeps (none: not a keeper).
pub async fn kept_areas(state: &AppState, actor: &Actor) -> Result<Vec<Area>, AppError> {
    let areas = state.store.areas(actor.municipality_id).await?;
    Ok(areas.into_iter().filter(|a| may_keep(actor, a.id)).collect())
}

/// The keeper's list: every entry of her areas, retired ones too.
pub async fn kept(state: &AppState, actor: &Actor) -> Result<(Vec<Area>, Vec<LocalPlaceEntry>), AppError> {
    let areas = kept_areas(state, actor).await?;
    if areas.is_empty() {
        return Err(AppError::Forbidden);
    }
    let q = LocalPlaceQuery { include_retired: true, limit: 1000, ..LocalPlaceQuery::default() };
    let entries = state.store.local_places(actor.municipality_id, &q).await?;
    Ok((areas, entries.into_iter().filter(|e| may_keep(actor, e.place.area_id)).collect()))
}

/// Adds an entry to an area the actor keeps; nothing is stored on bad input.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    input: &LocalPlaceInput,
) -> Result<LocalPlaceEntry, AppError> {
    let place = input.check().map_err(AppError::Invalid)?;
    let allowed = permit_keep(actor, place.area_id)?;
    Ok(state.store.create_local_place(&requester.allowed(&allowed), &place).await?)
}

/// Replaces an entry's fields: the actor keeps its area, and the area it
/// moves to.
pub async fn update(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    id: LocalPlaceId,
    input: &LocalPlaceInput,
) -> Result<LocalPlaceEntry, AppError> {
    let existing = state.store.local_place(actor.municipality_id, id).await?.ok_or(AppError::NotFound)?;
    permit_keep(actor, existing.place.area_id)?;
    let place = input.check().map_err(AppError::Invalid)?;
    let allowed = permit_keep(actor, place.area_id)?;
    state.store.update_local_place(&requester.allowed(&allowed), id, &place).await?;
    Ok(LocalPlaceEntry { place, ..existing })
}

/// Retires an entry (families no longer see it) or brings it back.
pub async fn retire(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    id: LocalPlaceId,
    retired: bool,
) -> Result<LocalPlaceEntry, AppError> {
    let existing = state.store.local_place(actor.municipality_id, id).await?.ok_or(AppError::NotFound)?;
    let allowed = permit_keep(actor, existing.place.area_id)?;
    state.store.retire_local_place(&requester.allowed(&allowed), id, retired).await?;
    Ok(LocalPlaceEntry { retired, ..existing })
}
