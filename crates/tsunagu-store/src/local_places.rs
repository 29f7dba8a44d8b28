//! Local information in the store (#12) [000] 地域おでかけ情報: each area's
//! halls, hubs, support rooms, outing spots and services. Public
//! information about places, never about a person: browsing writes no
//! audit line; each change by a keeper (add, edit, retire) writes one, in
//! the change's own transaction. Every query is bounded by a municipality.

use crate::Result;
use async_trait::async_trait;
use tsunagu_domain::audit::AuditContext;
use tsunagu_domain::classes::local::{LifeStage, LocalPlace, PlaceKind};
use tsunagu_domain::{AreaId, LocalPlaceId, MunicipalityId, VenueId};

/// An entry as stored, with the venue's names when it is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPlaceEntry {
    pub id: LocalPlaceId,
    pub municipality_id: MunicipalityId,
    pub place: LocalPlace,
    pub retired: bool,
}

/// Which entries to list. `None` filters nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LocalPlaceQuery {
    pub area: Option<AreaId>,
    /// Entries that suit this stage.
    pub stage: Option<LifeStage>,
    pub kind: Option<PlaceKind>,
    /// Entries linked to one of these venues.
    pub venues: Option<Vec<VenueId>>,
    /// Retired entries too (the keeper's list).
    pub include_retired: bool,
    pub limit: u32,
}

#[async_trait]
pub trait LocalPlaceStore: Send + Sync {
    /// Entries of municipality `m`, by kind then name.
    async fn local_places(&self, m: MunicipalityId, q: &LocalPlaceQuery) -> Result<Vec<LocalPlaceEntry>>;
    async fn local_place(&self, m: MunicipalityId, id: LocalPlaceId) -> Result<Option<LocalPlaceEntry>>;
    /// Adds an entry in the context's municipality: its area and venue must be
    /// the municipality's (`InvalidReference("area_id" | "venue_id")`).
    async fn create_local_place(&self, ctx: &AuditContext, place: &LocalPlace) -> Result<LocalPlaceEntry>;
    /// Replaces an entry's fields (`NotFound` outside the municipality).
    async fn update_local_place(&self, ctx: &AuditContext, id: LocalPlaceId, place: &LocalPlace) -> Result<()>;
    /// Retires an entry (or brings it back): families no longer see it.
    async fn retire_local_place(&self, ctx: &AuditContext, id: LocalPlaceId, retired: bool) -> Result<()>;
}
