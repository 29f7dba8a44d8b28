//! The full matrix: every role × every action × every scope, each asserted
//! as allowed or denied. The allowed cells are listed by hand below; every
//! cell not listed must be denied.

use super::*;
use crate::roles::{Actor, Role};
use crate::timeline::ContactKind;
use crate::{AccountId, AreaId, FamilyId, MunicipalityId, RoomId, VenueId};
use proptest::prelude::*;

const HOME: MunicipalityId = MunicipalityId(1);
const ELSEWHERE: MunicipalityId = MunicipalityId(2);
const MY_AREA: AreaId = AreaId(10);
const OTHER_AREA: AreaId = AreaId(11);
const MY_VENUE: VenueId = VenueId(20);
const OTHER_VENUE: VenueId = VenueId(21);
const MY_ROOM: RoomId = RoomId(30);
const OTHER_ROOM: RoomId = RoomId(31);
const MY_FAMILY: FamilyId = FamilyId(40);
const OTHER_FAMILY: FamilyId = FamilyId(41);

fn actor(role: Role) -> Actor {
    Actor {
        account_id: AccountId(1),
        municipality_id: HOME,
        role,
        family_id: (role == Role::FamilyMember).then_some(MY_FAMILY),
        areas: vec![MY_AREA],
        venues: vec![MY_VENUE],
        rooms: vec![MY_ROOM],
    }
}

/// The scopes a resource can be in, seen from the actor above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    OwnMunicipality,
    OtherMunicipality,
    /// The actor's own family (for family members).
    OwnFamily,
    /// Another family, in the actor's area, consented to coordinators.
    AreaConsenting,
    /// Another family in the actor's area that did not consent.
    AreaNotConsenting,
    /// Another family in another area (consented).
    OtherArea,
    /// An escalated family, other area, no consent.
    Escalated,
    /// A family with a stay at the actor's facility.
    AtMyFacility,
    /// A family with a stay at another facility.
    AtOtherFacility,
    /// A family booked on a session at the actor's venue.
    AtMyProgrammeVenue,
    /// Everything true, but in another municipality.
    FamilyElsewhere,
    AssignedRoom,
    UnassignedRoom,
    OwnFamilyRoom,
    RoomElsewhere,
    MyFacility,
    OtherFacility,
    FacilityElsewhere,
    /// A nurse's contact (newborn visit) of a consenting family in the actor's area.
    NurseContactInArea,
    /// A coordinator's contact (happy baby) of a consenting family in the actor's area.
    CoordinatorContactInArea,
    /// The same, of a family in the actor's area that did not consent.
    CoordinatorContactNoConsent,
    /// A nurse's contact the coordinator takes part in (3–4-month check), consenting, in area.
    SharedContactInArea,
    /// A self-care class offer of a family booked at the actor's venue.
    ClassContactAtMyVenue,
    /// The postpartum-care window of a family staying at the actor's facility.
    CareContactAtMyFacility,
    /// A contact of the actor's own family.
    OwnFamilyContact,
    /// A coordinator's contact, everything in scope, in another municipality.
    ContactElsewhere,
    /// The actor's own family's application, at another facility.
    OwnApplication,
    /// Another family's application at the actor's facility.
    ApplicationAtMyFacility,
    /// Another family's application at another facility.
    ApplicationAtOtherFacility,
    /// An application of the actor's family at the actor's facility, in another municipality.
    ApplicationElsewhere,
}

const SCOPES: [Scope; 30] = [
    Scope::OwnMunicipality,
    Scope::OtherMunicipality,
    Scope::OwnFamily,
    Scope::AreaConsenting,
    Scope::AreaNotConsenting,
    Scope::OtherArea,
    Scope::Escalated,
    Scope::AtMyFacility,
    Scope::AtOtherFacility,
    Scope::AtMyProgrammeVenue,
    Scope::FamilyElsewhere,
    Scope::AssignedRoom,
    Scope::UnassignedRoom,
    Scope::OwnFamilyRoom,
    Scope::RoomElsewhere,
    Scope::MyFacility,
    Scope::OtherFacility,
    Scope::FacilityElsewhere,
    Scope::NurseContactInArea,
    Scope::CoordinatorContactInArea,
    Scope::CoordinatorContactNoConsent,
    Scope::SharedContactInArea,
    Scope::ClassContactAtMyVenue,
    Scope::CareContactAtMyFacility,
    Scope::OwnFamilyContact,
    Scope::ContactElsewhere,
    Scope::OwnApplication,
    Scope::ApplicationAtMyFacility,
    Scope::ApplicationAtOtherFacility,
    Scope::ApplicationElsewhere,
];

fn family(id: FamilyId) -> FamilyAccess {
    FamilyAccess {
        municipality_id: HOME,
        family_id: id,
        area_id: OTHER_AREA,
        consent_coordinators: false,
        consent_hubs: false,
        escalated: false,
        facilities: vec![],
        programme_venues: vec![],
    }
}

enum Built {
    Muni(MunicipalityId),
    Family(FamilyAccess),
    Room(MunicipalityId, RoomId, FamilyId),
    Facility(MunicipalityId, VenueId),
    Contact(FamilyAccess, ContactKind),
    Application(FamilyAccess, VenueId),
}

/// The family a family-shaped scope names.
fn family_of(scope: Scope) -> FamilyAccess {
    match build(scope) {
        Built::Family(f) => f,
        _ => unreachable!("{scope:?} is not a family scope"),
    }
}

fn build(scope: Scope) -> Built {
    use Scope as S;
    match scope {
        S::OwnMunicipality => Built::Muni(HOME),
        S::OtherMunicipality => Built::Muni(ELSEWHERE),
        S::OwnFamily => Built::Family(family(MY_FAMILY)),
        S::AreaConsenting => Built::Family(FamilyAccess {
            area_id: MY_AREA,
            consent_coordinators: true,
            consent_hubs: true,
            ..family(OTHER_FAMILY)
        }),
        S::AreaNotConsenting => Built::Family(FamilyAccess { area_id: MY_AREA, ..family(OTHER_FAMILY) }),
        S::OtherArea => {
            Built::Family(FamilyAccess { consent_coordinators: true, consent_hubs: true, ..family(OTHER_FAMILY) })
        }
        S::Escalated => Built::Family(FamilyAccess { escalated: true, ..family(OTHER_FAMILY) }),
        S::AtMyFacility => Built::Family(FamilyAccess { facilities: vec![MY_VENUE], ..family(OTHER_FAMILY) }),
        S::AtOtherFacility => Built::Family(FamilyAccess { facilities: vec![OTHER_VENUE], ..family(OTHER_FAMILY) }),
        S::AtMyProgrammeVenue => {
            Built::Family(FamilyAccess { programme_venues: vec![MY_VENUE], ..family(OTHER_FAMILY) })
        }
        S::FamilyElsewhere => Built::Family(FamilyAccess {
            municipality_id: ELSEWHERE,
            area_id: MY_AREA,
            consent_coordinators: true,
            consent_hubs: true,
            escalated: true,
            facilities: vec![MY_VENUE],
            programme_venues: vec![MY_VENUE],
            ..family(MY_FAMILY)
        }),
        S::AssignedRoom => Built::Room(HOME, MY_ROOM, OTHER_FAMILY),
        S::UnassignedRoom => Built::Room(HOME, OTHER_ROOM, OTHER_FAMILY),
        S::OwnFamilyRoom => Built::Room(HOME, OTHER_ROOM, MY_FAMILY),
        S::RoomElsewhere => Built::Room(ELSEWHERE, MY_ROOM, MY_FAMILY),
        S::MyFacility => Built::Facility(HOME, MY_VENUE),
        S::OtherFacility => Built::Facility(HOME, OTHER_VENUE),
        S::FacilityElsewhere => Built::Facility(ELSEWHERE, MY_VENUE),
        S::NurseContactInArea => Built::Contact(family_of(S::AreaConsenting), ContactKind::NewbornVisit),
        S::CoordinatorContactInArea => Built::Contact(family_of(S::AreaConsenting), ContactKind::HappyBaby),
        S::CoordinatorContactNoConsent => Built::Contact(family_of(S::AreaNotConsenting), ContactKind::HappyBaby),
        S::SharedContactInArea => Built::Contact(family_of(S::AreaConsenting), ContactKind::HealthCheck3To4Months),
        S::ClassContactAtMyVenue => {
            Built::Contact(family_of(S::AtMyProgrammeVenue), ContactKind::PrenatalSelfCareClass)
        }
        S::CareContactAtMyFacility => Built::Contact(family_of(S::AtMyFacility), ContactKind::PostpartumCare),
        S::OwnFamilyContact => Built::Contact(family_of(S::OwnFamily), ContactKind::NewbornVisit),
        S::ContactElsewhere => Built::Contact(family_of(S::FamilyElsewhere), ContactKind::HappyBaby),
        S::OwnApplication => Built::Application(family_of(S::OwnFamily), OTHER_VENUE),
        S::ApplicationAtMyFacility => Built::Application(family_of(S::AtMyFacility), MY_VENUE),
        S::ApplicationAtOtherFacility => Built::Application(family_of(S::AtOtherFacility), OTHER_VENUE),
        S::ApplicationElsewhere => Built::Application(family_of(S::FamilyElsewhere), MY_VENUE),
    }
}

fn decide(role: Role, action: Action, scope: Scope) -> Decision {
    let a = actor(role);
    match build(scope) {
        Built::Muni(m) => authorize(&a, action, &Resource::Municipality(m)),
        Built::Family(f) => authorize(&a, action, &Resource::Family(&f)),
        Built::Room(m, r, f) => {
            authorize(&a, action, &Resource::ChatRoom { municipality_id: m, room_id: r, family_id: f })
        }
        Built::Facility(m, v) => authorize(&a, action, &Resource::Facility { municipality_id: m, venue_id: v }),
        Built::Contact(f, kind) => authorize(&a, action, &Resource::Contact { family: &f, kind }),
        Built::Application(f, facility) => authorize(&a, action, &Resource::Application { family: &f, facility }),
    }
}

/// Every allowed cell of the matrix. Anything not here is denied.
fn allowed(role: Role, action: Action, scope: Scope) -> bool {
    use Action as A;
    use Role as R;
    use Scope as S;
    let family_in_home = matches!(
        scope,
        S::OwnFamily
            | S::AreaConsenting
            | S::AreaNotConsenting
            | S::OtherArea
            | S::Escalated
            | S::AtMyFacility
            | S::AtOtherFacility
            | S::AtMyProgrammeVenue
    );
    match (role, action) {
        (R::Nurse, A::SearchFamilies | A::RegisterNotification | A::ViewReports) => scope == S::OwnMunicipality,
        (R::Nurse, A::ViewFamily | A::EditFamily) => family_in_home,
        (R::Coordinator, A::SearchFamilies) => scope == S::OwnMunicipality,
        (R::Coordinator, A::ViewFamily) => scope == S::AreaConsenting,
        (R::Caseworker, A::SearchFamilies) => scope == S::OwnMunicipality,
        (R::Caseworker, A::ViewFamily) => scope == S::Escalated,
        (R::FacilityStaff, A::ViewFamily) => scope == S::AtMyFacility,
        (R::ProgrammeStaff, A::ViewFamily) => scope == S::AtMyProgrammeVenue,
        (R::FamilyMember, A::ViewFamily) => scope == S::OwnFamily,
        (R::FamilyMember, A::ViewChatRoom) => scope == S::OwnFamilyRoom,
        (R::PeerSupporter, A::ViewChatRoom) => scope == S::AssignedRoom,
        (R::Admin, A::ManageAccounts | A::ViewAudit | A::ViewReports | A::ConfigureFacilities) => {
            scope == S::OwnMunicipality
        }
        (R::Analyst, A::ViewReports) => scope == S::OwnMunicipality,
        (R::Nurse, A::ApplyPostpartum) => family_in_home,
        (R::FamilyMember, A::ApplyPostpartum) => scope == S::OwnFamily,
        (R::Nurse, A::ReviewPostpartum) => scope == S::OwnMunicipality,
        (R::Nurse, A::ViewFacility) => matches!(scope, S::MyFacility | S::OtherFacility),
        (R::FacilityStaff, A::ViewFacility | A::RecordAtFacility) => scope == S::MyFacility,
        (R::Nurse, A::RaiseConcern) => family_in_home,
        (R::Coordinator, A::RaiseConcern) => scope == S::AreaConsenting,
        (R::Caseworker, A::RaiseConcern) => scope == S::Escalated,
        (R::FacilityStaff, A::RaiseConcern) => scope == S::AtMyFacility,
        (R::ProgrammeStaff, A::RaiseConcern) => scope == S::AtMyProgrammeVenue,
        (R::Nurse, A::ManageReferrals) => scope == S::OwnMunicipality,
        (R::Nurse, A::FileScreening | A::ViewScreenings) => family_in_home,
        (R::FamilyMember, A::FileScreening) => scope == S::OwnFamily,
        (R::FacilityStaff, A::FileScreening | A::ViewScreenings) => scope == S::AtMyFacility,
        (R::Caseworker, A::ViewScreenings) => scope == S::Escalated,
        (R::Nurse | R::Coordinator, A::ViewWorkList | A::ViewMeetings) => scope == S::OwnMunicipality,
        (R::Nurse, A::RunMeetings | A::UseCareServices) => scope == S::OwnMunicipality,
        (R::FacilityStaff | R::FamilyMember, A::UseCareServices) => scope == S::OwnMunicipality,
        (R::Nurse, A::RecordContact) => matches!(
            scope,
            S::NurseContactInArea
                | S::CoordinatorContactInArea
                | S::CoordinatorContactNoConsent
                | S::SharedContactInArea
                | S::ClassContactAtMyVenue
                | S::CareContactAtMyFacility
                | S::OwnFamilyContact
        ),
        (R::Coordinator, A::RecordContact) => matches!(scope, S::CoordinatorContactInArea | S::SharedContactInArea),
        (R::ProgrammeStaff, A::RecordContact) => scope == S::ClassContactAtMyVenue,
        (R::FacilityStaff, A::RecordContact) => scope == S::CareContactAtMyFacility,
        (R::Nurse, A::ViewApplication | A::CancelApplication) => {
            matches!(scope, S::OwnApplication | S::ApplicationAtMyFacility | S::ApplicationAtOtherFacility)
        }
        (R::FacilityStaff, A::ViewApplication) => scope == S::ApplicationAtMyFacility,
        (R::FamilyMember, A::ViewApplication | A::CancelApplication) => scope == S::OwnApplication,
        _ => false,
    }
}

#[test]
fn full_matrix_of_role_action_scope() {
    let mut cells = 0;
    for role in Role::ALL {
        for action in Action::ALL {
            for scope in SCOPES {
                let got = decide(role, action, scope);
                let want = allowed(role, action, scope);
                assert_eq!(got.is_allowed(), want, "{role:?} {action:?} {scope:?}: got {got:?}");
                cells += 1;
            }
        }
    }
    assert_eq!(cells, 9 * 24 * 30);
}

#[test]
fn other_municipality_is_always_denied_as_such() {
    for role in Role::ALL {
        for action in Action::ALL {
            for scope in [
                Scope::OtherMunicipality,
                Scope::FamilyElsewhere,
                Scope::RoomElsewhere,
                Scope::FacilityElsewhere,
                Scope::ContactElsewhere,
                Scope::ApplicationElsewhere,
            ] {
                assert_eq!(
                    decide(role, action, scope),
                    Decision::Deny(DenyReason::OtherMunicipality),
                    "{role:?} {action:?} {scope:?}"
                );
            }
        }
    }
}

#[test]
fn analyst_never_reaches_a_person() {
    for action in Action::ALL {
        for scope in SCOPES {
            if matches!(build(scope), Built::Muni(_)) {
                continue;
            }
            assert!(!decide(Role::Analyst, action, scope).is_allowed(), "{action:?} {scope:?}");
        }
    }
    assert_eq!(family_filter(&actor(Role::Analyst)), None);
}

/// A proof of a decision carries what the decision was about.
#[test]
fn permit_gives_a_proof_only_when_allowed() {
    let f = family_of(Scope::AreaConsenting);
    let proof = permit(&actor(Role::Coordinator), Action::ViewFamily, &Resource::Family(&f)).unwrap();
    assert_eq!(proof.action(), Action::ViewFamily);
    assert_eq!(proof.municipality_id(), HOME);
    assert_eq!(proof.family_id(), Some(OTHER_FAMILY));
    let home = Resource::Municipality(HOME);
    assert_eq!(permit(&actor(Role::Analyst), Action::ViewFamily, &home), Err(DenyReason::WrongResource));
    assert_eq!(permit(&actor(Role::Coordinator), Action::RunMeetings, &home), Err(DenyReason::RoleNotAllowed));
}

/// Whoever may record on a contact may also open its family.
#[test]
fn recording_a_contact_implies_seeing_its_family() {
    for role in Role::ALL {
        for scope in SCOPES {
            if let Built::Contact(f, _) = build(scope) {
                if decide(role, Action::RecordContact, scope).is_allowed() {
                    assert!(authorize(&actor(role), Action::ViewFamily, &Resource::Family(&f)).is_allowed());
                }
            }
        }
    }
}

#[test]
fn coordinator_without_consent_is_told_why() {
    assert_eq!(
        decide(Role::Coordinator, Action::ViewFamily, Scope::AreaNotConsenting),
        Decision::Deny(DenyReason::NoConsent)
    );
}

fn any_family() -> impl Strategy<Value = FamilyAccess> {
    (1i64..3, 1i64..50, 10i64..13, any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(m, f, a, cc, ch, esc)| {
        FamilyAccess {
            municipality_id: MunicipalityId(m),
            family_id: FamilyId(f),
            area_id: AreaId(a),
            consent_coordinators: cc,
            consent_hubs: ch,
            escalated: esc,
            facilities: vec![],
            programme_venues: vec![],
        }
    })
}

fn any_role() -> impl Strategy<Value = Role> {
    proptest::sample::select(Role::ALL.to_vec())
}

proptest! {
    /// A listing never shows a family the actor could not open.
    #[test]
    fn family_filter_agrees_with_authorize(role in any_role(), f in any_family(), areas in proptest::collection::vec(10i64..13, 0..3)) {
        let a = Actor { areas: areas.into_iter().map(AreaId).collect(), ..actor(role) };
        if let Some(filter) = family_filter(&a) {
            prop_assert_eq!(
                filter.matches(&f),
                authorize(&a, Action::ViewFamily, &Resource::Family(&f)).is_allowed()
            );
        }
    }
}
