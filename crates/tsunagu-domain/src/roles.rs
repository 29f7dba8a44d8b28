//! Who is acting. DOMAIN.md §2: each role is scoped to one municipality
//! and, where the role says so, to areas, venues/facilities or chat rooms.

use crate::{AccountId, AreaId, FamilyId, MunicipalityId, RoomId, VenueId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Pregnant woman, mother, partner: their own family only.
    FamilyMember,
    /// Public-health nurse (保健師): families of the municipality.
    Nurse,
    /// Coordinator of a support room or hub: families of their areas who consented.
    Coordinator,
    /// Midwife or nurse of a postpartum-care facility: their facility's users.
    FacilityStaff,
    /// Staff running classes at a hall or hub: rosters of their own sessions.
    ProgrammeStaff,
    /// Volunteer peer supporter (応援団): assigned chat rooms only, pseudonymous.
    PeerSupporter,
    /// Child-protection caseworker: escalated cases.
    Caseworker,
    /// Municipal administrator: configuration, accounts, audit, reports.
    Admin,
    /// Reads aggregate reports only, never a person.
    Analyst,
    /// A parent (mother or partner) in the peer-support chat [003]: known by
    /// a display name only, joined with a nurse's one-time invitation; sees
    /// their own chat room and nothing else. No family record is linked to
    /// the account (the nurse-side link is the chat store's, revealed only
    /// on an escalation).
    ChatParent,
}

impl Role {
    pub const ALL: [Role; 10] = [
        Role::FamilyMember,
        Role::Nurse,
        Role::Coordinator,
        Role::FacilityStaff,
        Role::ProgrammeStaff,
        Role::PeerSupporter,
        Role::Caseworker,
        Role::Admin,
        Role::Analyst,
        Role::ChatParent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::FamilyMember => "family_member",
            Role::Nurse => "nurse",
            Role::Coordinator => "coordinator",
            Role::FacilityStaff => "facility_staff",
            Role::ProgrammeStaff => "programme_staff",
            Role::PeerSupporter => "peer_supporter",
            Role::Caseworker => "caseworker",
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::ChatParent => "chat_parent",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Staff accounts must use a second factor (TOTP); family members may.
    pub fn is_staff(self) -> bool {
        !matches!(self, Role::FamilyMember | Role::ChatParent)
    }

    /// Which kind of scope an account of this role is given.
    pub fn scope_kind(self) -> Option<ScopeKind> {
        match self {
            Role::Coordinator => Some(ScopeKind::Area),
            Role::FacilityStaff | Role::ProgrammeStaff => Some(ScopeKind::Venue),
            Role::PeerSupporter => Some(ScopeKind::Room),
            _ => None,
        }
    }
}

/// Who a family member's account is in the family: the mother, whose
/// health items are hers to share, or her partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FamilyRelation {
    Mother,
    Partner,
}

impl FamilyRelation {
    pub const ALL: [FamilyRelation; 2] = [FamilyRelation::Mother, FamilyRelation::Partner];

    pub fn as_str(self) -> &'static str {
        match self {
            FamilyRelation::Mother => "mother",
            FamilyRelation::Partner => "partner",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeKind {
    Area,
    Venue,
    Room,
}

/// An authenticated actor: an account, its role and its scope. Built by the
/// web layer from a session or token; the policy decides on nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub account_id: AccountId,
    pub municipality_id: MunicipalityId,
    pub role: Role,
    /// Set for family members: the family they belong to.
    pub family_id: Option<FamilyId>,
    /// Set for family members: whether they are the mother or the partner
    /// (the partner sees what the mother shares). `None` for staff; a family
    /// member without one is treated as a partner (the least it may be).
    pub relation: Option<FamilyRelation>,
    pub areas: Vec<AreaId>,
    pub venues: Vec<VenueId>,
    pub rooms: Vec<RoomId>,
}
