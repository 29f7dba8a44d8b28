//! What the record's API answers, for the OpenAPI document: the answers
//! built in the handlers (the typed ones derive their schema where they are
//! defined), and the operations.

#![allow(dead_code)] // Described, never built: the handlers answer the same shape.

use tsunagu_domain::places::Area;
use tsunagu_domain::records::FamilySummary;
use tsunagu_domain::BabyId;
use utoipa::ToSchema;

/// The areas of the caller's municipality.
#[derive(ToSchema)]
pub struct AreaList {
    areas: Vec<Area>,
}

/// The families found.
#[derive(ToSchema)]
pub struct FamilyList {
    families: Vec<FamilySummary>,
}

/// The babies recorded, in the order given.
#[derive(ToSchema)]
pub struct BabiesRecorded {
    baby_ids: Vec<BabyId>,
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        super::api::list_areas,
        super::api::search_families,
        super::api::register_notification,
        super::api::open_family,
        super::api::record_birth,
        super::api::my_family
    ),
    tags((name = "records", description = "A family's record: areas, search, the pregnancy notification, the record, a birth, a family's own record"))
)]
pub struct ApiDoc;
