//! Municipalities, their areas and their venues: configuration, not
//! personal data. PRODUCT.md §1.1.

use crate::municipality::MunicipalityCode;
use crate::{AreaId, MunicipalityId, VenueId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Municipality {
    pub id: MunicipalityId,
    pub code: MunicipalityCode,
    pub name_ja: String,
    pub name_en: String,
}

/// A district (Setagaya's 世田谷・北沢・玉川・砧・烏山) or a support-room area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Area {
    pub id: AreaId,
    pub municipality_id: MunicipalityId,
    pub name_ja: String,
    pub name_en: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VenueKind {
    /// 児童館
    ChildrensHall,
    /// 子育て支援室 (user-support programme room)
    SupportRoom,
    /// 地域子育て支援拠点
    Hub,
    /// 保健センター / 健康づくり課
    HealthCentre,
    /// 産後ケア施設
    PostpartumFacility,
}

impl VenueKind {
    pub const ALL: [VenueKind; 5] = [
        VenueKind::ChildrensHall,
        VenueKind::SupportRoom,
        VenueKind::Hub,
        VenueKind::HealthCentre,
        VenueKind::PostpartumFacility,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VenueKind::ChildrensHall => "childrens_hall",
            VenueKind::SupportRoom => "support_room",
            VenueKind::Hub => "hub",
            VenueKind::HealthCentre => "health_centre",
            VenueKind::PostpartumFacility => "postpartum_facility",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Venue {
    pub id: VenueId,
    pub municipality_id: MunicipalityId,
    pub area_id: Option<AreaId>,
    pub kind: VenueKind,
    pub name_ja: String,
    pub name_en: String,
}
