//! The full matrix: every role × every action × every scope, each asserted
//! as allowed or denied. The allowed cells are listed by hand below; every
//! cell not listed must be denied. A family member is the mother; her
//! partner's account has its own column (`partner_allowed`).

use super::*;
use crate::notes::NoteAudience;
use crate::roles::{Actor, FamilyRelation, Role};
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
/// The actor's own account (see `actor`).
const ME: AccountId = AccountId(1);
const OTHER_PARENT: AccountId = AccountId(50);
const OTHER_SUPPORTER: AccountId = AccountId(51);
/// Another account assigned to run a class session.
const OTHER_STAFF: AccountId = AccountId(52);

fn room(m: MunicipalityId, room_id: RoomId, parent: AccountId, team: Vec<AccountId>, escalated: bool) -> RoomAccess {
    RoomAccess { municipality_id: m, room_id, parent, team, escalated }
}

fn actor(role: Role) -> Actor {
    Actor {
        account_id: ME,
        municipality_id: HOME,
        role,
        family_id: (role == Role::FamilyMember).then_some(MY_FAMILY),
        relation: (role == Role::FamilyMember).then_some(FamilyRelation::Mother),
        areas: vec![MY_AREA],
        venues: vec![MY_VENUE],
        rooms: vec![MY_ROOM],
    }
}

/// The mother's partner: a family member of the same family.
fn partner() -> Actor {
    Actor { relation: Some(FamilyRelation::Partner), ..actor(Role::FamilyMember) }
}

/// The scopes a resource can be in, seen from the actor above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    OwnMunicipality,
    OtherMunicipality,
    /// The actor's own family (for family members); the mother shares nothing.
    OwnFamily,
    /// The actor's own family, the mother sharing her health items with the partner.
    OwnFamilySharing,
    /// The same, but a nurse turned the partner's view off.
    OwnFamilyPartnerOff,
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
    /// A chat room whose team the actor is on.
    AssignedRoom,
    /// Another team's room.
    UnassignedRoom,
    /// The actor's own chat room (the actor is its parent).
    OwnRoom,
    /// Another team's room, escalated.
    EscalatedRoom,
    /// The actor's own room, on its team too, escalated, in another municipality.
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
    /// The same, the mother sharing her health items with the partner.
    OwnApplicationSharing,
    /// The same, the partner's view turned off.
    OwnApplicationPartnerOff,
    /// Another family's application at the actor's facility.
    ApplicationAtMyFacility,
    /// Another family's application at another facility.
    ApplicationAtOtherFacility,
    /// An application of the actor's family at the actor's facility, in another municipality.
    ApplicationElsewhere,
    // classes and programmes (#12)
    /// A session nobody is assigned to, at the actor's venue, in the actor's area.
    MyClassVenue,
    /// A session nobody is assigned to, at another venue in the actor's area.
    ClassVenueInMyArea,
    /// A session nobody is assigned to, at another venue in another area.
    OtherClassVenue,
    /// A session at the actor's venue and area, in another municipality.
    ClassVenueElsewhere,
    // a session's staff (#12, last stage)
    /// A session at the actor's venue the actor is assigned to (with another).
    AssignedSessionAtMyVenue,
    /// A session at the actor's venue (and area) assigned to someone else only.
    OthersSessionAtMyVenue,
    /// A session at another venue in the actor's area, assigned to someone else.
    OthersSessionInMyArea,
    /// A session at another venue in another area the actor is assigned to.
    AssignedSessionOtherVenue,
    /// A session at the actor's venue and area assigned to the actor, in another municipality.
    AssignedSessionElsewhere,
    // Reports (#14): figures by the channel they leave by.
    FiguresOnPage,
    FiguresDownloaded,
    FiguresByApi,
    FiguresElsewhere,
    // local information (#12): an area of the directory.
    MyAreaDirectory,
    OtherAreaDirectory,
    AreaDirectoryElsewhere,
    // reports, nation-wide (#14): every municipality's published figures.
    Nation,
}

const SCOPES: [Scope; 52] = [
    Scope::OwnMunicipality,
    Scope::OtherMunicipality,
    Scope::OwnFamily,
    Scope::OwnFamilySharing,
    Scope::OwnFamilyPartnerOff,
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
    Scope::OwnRoom,
    Scope::EscalatedRoom,
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
    Scope::OwnApplicationSharing,
    Scope::OwnApplicationPartnerOff,
    Scope::ApplicationAtMyFacility,
    Scope::ApplicationAtOtherFacility,
    Scope::ApplicationElsewhere,
    Scope::MyClassVenue,
    Scope::ClassVenueInMyArea,
    Scope::OtherClassVenue,
    Scope::ClassVenueElsewhere,
    Scope::AssignedSessionAtMyVenue,
    Scope::OthersSessionAtMyVenue,
    Scope::OthersSessionInMyArea,
    Scope::AssignedSessionOtherVenue,
    Scope::AssignedSessionElsewhere,
    // Reports (#14)
    Scope::FiguresOnPage,
    Scope::FiguresDownloaded,
    Scope::FiguresByApi,
    Scope::FiguresElsewhere,
    // local information (#12)
    Scope::MyAreaDirectory,
    Scope::OtherAreaDirectory,
    Scope::AreaDirectoryElsewhere,
    // reports, nation-wide (#14)
    Scope::Nation,
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
        partner_sees_health: false,
        partner_view_off: false,
    }
}

enum Built {
    Muni(MunicipalityId),
    Family(FamilyAccess),
    Room(RoomAccess),
    Facility(MunicipalityId, VenueId),
    Contact(FamilyAccess, ContactKind),
    Application(FamilyAccess, VenueId),
    Session(MunicipalityId, VenueId, AreaId, Vec<AccountId>),
    Figures(MunicipalityId, FigureChannel),
    Area(MunicipalityId, AreaId),
    Nation,
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
        S::OwnFamilySharing => Built::Family(FamilyAccess { partner_sees_health: true, ..family(MY_FAMILY) }),
        S::OwnFamilyPartnerOff => {
            Built::Family(FamilyAccess { partner_sees_health: true, partner_view_off: true, ..family(MY_FAMILY) })
        }
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
        S::AssignedRoom => Built::Room(room(HOME, MY_ROOM, OTHER_PARENT, vec![ME, OTHER_SUPPORTER], false)),
        S::UnassignedRoom => Built::Room(room(HOME, OTHER_ROOM, OTHER_PARENT, vec![OTHER_SUPPORTER], false)),
        S::OwnRoom => Built::Room(room(HOME, OTHER_ROOM, ME, vec![OTHER_SUPPORTER], false)),
        S::EscalatedRoom => Built::Room(room(HOME, OTHER_ROOM, OTHER_PARENT, vec![OTHER_SUPPORTER], true)),
        S::RoomElsewhere => Built::Room(room(ELSEWHERE, MY_ROOM, ME, vec![ME], true)),
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
        S::OwnApplicationSharing => Built::Application(family_of(S::OwnFamilySharing), OTHER_VENUE),
        S::OwnApplicationPartnerOff => Built::Application(family_of(S::OwnFamilyPartnerOff), OTHER_VENUE),
        S::ApplicationAtMyFacility => Built::Application(family_of(S::AtMyFacility), MY_VENUE),
        S::ApplicationAtOtherFacility => Built::Application(family_of(S::AtOtherFacility), OTHER_VENUE),
        S::ApplicationElsewhere => Built::Application(family_of(S::FamilyElsewhere), MY_VENUE),
        S::MyClassVenue => Built::Session(HOME, MY_VENUE, MY_AREA, vec![]),
        S::ClassVenueInMyArea => Built::Session(HOME, OTHER_VENUE, MY_AREA, vec![]),
        S::OtherClassVenue => Built::Session(HOME, OTHER_VENUE, OTHER_AREA, vec![]),
        S::ClassVenueElsewhere => Built::Session(ELSEWHERE, MY_VENUE, MY_AREA, vec![]),
        S::AssignedSessionAtMyVenue => Built::Session(HOME, MY_VENUE, MY_AREA, vec![OTHER_STAFF, ME]),
        S::OthersSessionAtMyVenue => Built::Session(HOME, MY_VENUE, MY_AREA, vec![OTHER_STAFF]),
        S::OthersSessionInMyArea => Built::Session(HOME, OTHER_VENUE, MY_AREA, vec![OTHER_STAFF]),
        S::AssignedSessionOtherVenue => Built::Session(HOME, OTHER_VENUE, OTHER_AREA, vec![ME]),
        S::AssignedSessionElsewhere => Built::Session(ELSEWHERE, MY_VENUE, MY_AREA, vec![ME]),
        S::FiguresOnPage => Built::Figures(HOME, FigureChannel::Page),
        S::FiguresDownloaded => Built::Figures(HOME, FigureChannel::Download),
        S::FiguresByApi => Built::Figures(HOME, FigureChannel::Api),
        S::FiguresElsewhere => Built::Figures(ELSEWHERE, FigureChannel::Page),
        S::MyAreaDirectory => Built::Area(HOME, MY_AREA),
        S::OtherAreaDirectory => Built::Area(HOME, OTHER_AREA),
        S::AreaDirectoryElsewhere => Built::Area(ELSEWHERE, MY_AREA),
        S::Nation => Built::Nation,
    }
}

fn decide(role: Role, action: Action, scope: Scope) -> Decision {
    decide_as(&actor(role), action, scope)
}

fn decide_as(a: &Actor, action: Action, scope: Scope) -> Decision {
    match build(scope) {
        Built::Muni(m) => authorize(a, action, &Resource::Municipality(m)),
        Built::Family(f) => authorize(a, action, &Resource::Family(&f)),
        Built::Room(r) => authorize(a, action, &Resource::ChatRoom(&r)),
        Built::Facility(m, v) => authorize(a, action, &Resource::Facility { municipality_id: m, venue_id: v }),
        Built::Contact(f, kind) => authorize(a, action, &Resource::Contact { family: &f, kind }),
        Built::Application(f, facility) => authorize(a, action, &Resource::Application { family: &f, facility }),
        Built::Session(m, v, area, staff) => authorize(
            a,
            action,
            &Resource::ClassSession { municipality_id: m, venue_id: v, area_id: Some(area), staff: &staff },
        ),
        Built::Figures(m, channel) => authorize(a, action, &Resource::Figures { municipality_id: m, channel }),
        Built::Area(m, area_id) => authorize(a, action, &Resource::Area { municipality_id: m, area_id }),
        Built::Nation => authorize(a, action, &Resource::Nation),
    }
}

/// Every allowed cell of the matrix. Anything not here is denied.
fn allowed(role: Role, action: Action, scope: Scope) -> bool {
    use Action as A;
    use Role as R;
    use Scope as S;
    let own_family = matches!(scope, S::OwnFamily | S::OwnFamilySharing | S::OwnFamilyPartnerOff);
    let own_application = matches!(scope, S::OwnApplication | S::OwnApplicationSharing | S::OwnApplicationPartnerOff);
    let family_in_home = own_family
        || matches!(
            scope,
            S::AreaConsenting
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
        (R::FamilyMember, A::ViewFamily) => own_family,
        (R::Admin, A::ManageAccounts | A::ViewAudit | A::ViewReports | A::ConfigureFacilities) => {
            scope == S::OwnMunicipality
        }
        (R::Analyst, A::ViewReports) => scope == S::OwnMunicipality,
        (R::Nurse, A::ApplyPostpartum) => family_in_home,
        (R::FamilyMember, A::ApplyPostpartum) => own_family,
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
        (R::FamilyMember, A::FileScreening) => own_family,
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
            own_application || matches!(scope, S::ApplicationAtMyFacility | S::ApplicationAtOtherFacility)
        }
        (R::FacilityStaff, A::ViewApplication) => scope == S::ApplicationAtMyFacility,
        (R::FamilyMember, A::ViewApplication | A::CancelApplication) => own_application,
        (R::FamilyMember, A::ViewHealth | A::ShareWithPartner) => own_family,
        (R::Nurse, A::ViewOfficeNotes | A::SetPartnerView) => family_in_home,
        (R::Coordinator, A::ViewOfficeNotes) => scope == S::AreaConsenting,
        (R::Caseworker, A::ViewOfficeNotes) => scope == S::Escalated,
        (R::FacilityStaff, A::ViewOfficeNotes) => scope == S::AtMyFacility,
        (R::ProgrammeStaff, A::ViewOfficeNotes) => scope == S::AtMyProgrammeVenue,
        (
            R::Nurse | R::Coordinator | R::FacilityStaff | R::ProgrammeStaff | R::PeerSupporter | R::Caseworker,
            A::ListOwnConcerns,
        ) => scope == S::OwnMunicipality,
        // classes and programmes (#12)
        (R::FamilyMember, A::BookClass) => own_family,
        (R::Nurse, A::BookClass | A::OverrideClassRule) => family_in_home,
        (R::Coordinator, A::BookClass | A::OverrideClassRule) => scope == S::AreaConsenting,
        (R::Nurse, A::ViewClassRoster | A::RecordClassAttendance) => matches!(
            scope,
            S::MyClassVenue
                | S::ClassVenueInMyArea
                | S::OtherClassVenue
                | S::AssignedSessionAtMyVenue
                | S::OthersSessionAtMyVenue
                | S::OthersSessionInMyArea
                | S::AssignedSessionOtherVenue
        ),
        // A session's staff (#12, last stage): programme staff the sessions
        // they are assigned to, and a session nobody was assigned to at their
        // venue — never one at their venue assigned to others only.
        (R::ProgrammeStaff, A::ViewClassRoster | A::RecordClassAttendance) => {
            matches!(scope, S::MyClassVenue | S::AssignedSessionAtMyVenue | S::AssignedSessionOtherVenue)
        }
        // The coordinator: her area's sessions, whoever runs them, and any she is assigned to.
        (R::Coordinator, A::ViewClassRoster) => matches!(
            scope,
            S::MyClassVenue
                | S::ClassVenueInMyArea
                | S::AssignedSessionAtMyVenue
                | S::OthersSessionAtMyVenue
                | S::OthersSessionInMyArea
                | S::AssignedSessionOtherVenue
        ),
        (R::Admin | R::Nurse, A::ManageClasses) => scope == S::OwnMunicipality,
        (R::FamilyMember | R::Nurse | R::Coordinator | R::ProgrammeStaff | R::Admin, A::BrowseClasses) => {
            scope == S::OwnMunicipality
        }
        // peer-support chat [003]
        (R::ChatParent, A::ViewChatRoom) => scope == S::OwnRoom,
        (R::PeerSupporter, A::ViewChatRoom | A::EscalateChat) => scope == S::AssignedRoom,
        (R::Nurse | R::Admin, A::ReadEscalatedRoom) => scope == S::EscalatedRoom,
        (R::Admin, A::ManageChat) | (R::Nurse, A::InviteToChat) | (R::PeerSupporter, A::RegisterAsSupporter) => {
            scope == S::OwnMunicipality
        }
        (R::ChatParent | R::PeerSupporter, A::UseChat) => scope == S::OwnMunicipality,
        // Reports (#14): the nurse, on the page of her own municipality;
        // the analyst, the administrator, downloads and the API never.
        (R::Nurse, A::ViewUnsuppressedFigures) => scope == S::FiguresOnPage,
        (R::Admin, A::ConfigureReports) => scope == S::OwnMunicipality,
        // reports, nation-wide (#14): the analyst only, on the nation.
        (R::Analyst, A::ViewNationReport) => scope == S::Nation,
        // local information (#12): the area's coordinators and the
        // administrator keep it; families and staff browse it.
        (R::Coordinator, A::KeepLocalInformation) => scope == S::MyAreaDirectory,
        (R::Admin, A::KeepLocalInformation) => matches!(scope, S::MyAreaDirectory | S::OtherAreaDirectory),
        (
            R::FamilyMember
            | R::Nurse
            | R::Coordinator
            | R::FacilityStaff
            | R::ProgrammeStaff
            | R::Caseworker
            | R::Admin,
            A::BrowseLocalInformation,
        ) => scope == S::OwnMunicipality,
        // classes, last stage (#12): the administrator sets programmes.
        (R::Admin, A::ConfigureProgrammes) => scope == S::OwnMunicipality,
        // reminders (#10): a family member, of her own family.
        (R::FamilyMember, A::SetReminders) => own_family,
        _ => false,
    }
}

/// Every allowed cell of the partner's column: the record while the
/// nurse has not turned the view off, the mother's health items only
/// while she shares them, never her questionnaires or her settings.
fn partner_allowed(action: Action, scope: Scope) -> bool {
    use Action as A;
    use Scope as S;
    match action {
        A::ViewFamily => matches!(scope, S::OwnFamily | S::OwnFamilySharing),
        A::ApplyPostpartum | A::ViewHealth => scope == S::OwnFamilySharing,
        A::ViewApplication | A::CancelApplication => scope == S::OwnApplicationSharing,
        A::UseCareServices => scope == S::OwnMunicipality,
        A::BookClass => matches!(scope, S::OwnFamily | S::OwnFamilySharing),
        // Her own reminders, while her view is on (#10).
        A::SetReminders => matches!(scope, S::OwnFamily | S::OwnFamilySharing),
        A::BrowseClasses | A::BrowseLocalInformation => scope == S::OwnMunicipality,
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
    for action in Action::ALL {
        for scope in SCOPES {
            let got = decide_as(&partner(), action, scope);
            assert_eq!(got.is_allowed(), partner_allowed(action, scope), "partner {action:?} {scope:?}: got {got:?}");
            cells += 1;
        }
    }
    assert_eq!(cells, (Role::ALL.len() + 1) * Action::ALL.len() * SCOPES.len());
}

/// The LINE webhook [003], once its signature proves the municipality's
/// channel, acts as the linked parent (`chat::line::parent_actor`): across
/// every action and scope it may do exactly what that parent signed in may
/// — open the chat, write and read their own room — and nothing else.
#[test]
fn the_line_webhook_acts_only_as_its_linked_parent() {
    let line = crate::chat::line::parent_actor(HOME, ME);
    let mut allowed_cells = vec![];
    for action in Action::ALL {
        for scope in SCOPES {
            let got = decide_as(&line, action, scope);
            assert_eq!(
                got.is_allowed(),
                allowed(Role::ChatParent, action, scope),
                "LINE {action:?} {scope:?}: {got:?}"
            );
            if got.is_allowed() {
                allowed_cells.push((action, scope));
            }
        }
    }
    assert_eq!(allowed_cells, [(Action::ViewChatRoom, Scope::OwnRoom), (Action::UseChat, Scope::OwnMunicipality)]);
}

/// What the partner is refused inside the family is refused as "not
/// shared", whether the mother did not share it or a nurse turned the
/// view off: the page the partner sees is the same neutral one, so it
/// never tells which (nor why). A family member of unknown relation is a partner.
#[test]
fn partner_refusals_in_the_family_say_only_not_shared() {
    let unknown = Actor { relation: None, ..partner() };
    for who in [partner(), unknown] {
        for action in Action::ALL {
            for scope in SCOPES {
                let own = matches!(build(scope), Built::Family(f) | Built::Application(f, _) if f.family_id == MY_FAMILY && f.municipality_id == HOME);
                let got = decide_as(&who, action, scope);
                if own && who.relation.is_none() {
                    assert_eq!(got, decide_as(&partner(), action, scope), "{action:?} {scope:?}");
                }
                let family_action = matches!(
                    action,
                    Action::ViewFamily
                        | Action::ApplyPostpartum
                        | Action::ViewHealth
                        | Action::ViewApplication
                        | Action::CancelApplication
                        | Action::FileScreening
                        | Action::ShareWithPartner
                );
                if own && family_action && got != Decision::Allow && got != Decision::Deny(DenyReason::WrongResource) {
                    assert_eq!(got, Decision::Deny(DenyReason::NotShared), "{action:?} {scope:?}");
                }
            }
        }
    }
}

/// Family notes are read by whoever sees the family; office notes by the
/// staff who do, never by the family (mother or partner).
#[test]
fn office_notes_stay_in_the_office() {
    let own = family_of(Scope::OwnFamilySharing);
    let off = family_of(Scope::OwnFamilyPartnerOff);
    let at_facility = family_of(Scope::AtMyFacility);
    for who in [actor(Role::FamilyMember), partner()] {
        assert!(sees_note(&who, &own, NoteAudience::Family));
        assert!(!sees_note(&who, &own, NoteAudience::Office));
    }
    assert!(sees_note(&actor(Role::FamilyMember), &off, NoteAudience::Family));
    assert!(!sees_note(&partner(), &off, NoteAudience::Family));
    assert_eq!(written_for(&actor(Role::FamilyMember), &own, NoteAudience::Office), NoteAudience::Family);
    assert_eq!(written_for(&actor(Role::Nurse), &own, NoteAudience::Office), NoteAudience::Office);
    assert_eq!(written_for(&actor(Role::Nurse), &own, NoteAudience::Family), NoteAudience::Family);
    for audience in NoteAudience::ALL {
        assert!(sees_note(&actor(Role::Nurse), &own, audience));
        assert!(sees_note(&actor(Role::FacilityStaff), &at_facility, audience));
        assert!(!sees_note(&actor(Role::FacilityStaff), &own, audience));
        assert!(!sees_note(&actor(Role::Analyst), &own, audience));
    }
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
                Scope::ClassVenueElsewhere,
                Scope::AssignedSessionElsewhere,
                Scope::AreaDirectoryElsewhere,
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
            // The nation-wide report is aggregates too (published figures).
            if matches!(build(scope), Built::Muni(_) | Built::Nation) {
                continue;
            }
            assert!(!decide(Role::Analyst, action, scope).is_allowed(), "{action:?} {scope:?}");
        }
    }
    assert_eq!(family_filter(&actor(Role::Analyst)), None);
}

/// The nation's report: the analyst only; its proof names the reader's
/// own municipality (where its audit line goes) and no family.
#[test]
fn the_nation_report_is_the_analysts() {
    let proof = permit(&actor(Role::Analyst), Action::ViewNationReport, &Resource::Nation).unwrap();
    assert_eq!(proof.municipality_id(), HOME);
    assert_eq!(proof.family_id(), None);
    for role in Role::ALL {
        if role != Role::Analyst {
            assert_eq!(
                decide(role, Action::ViewNationReport, Scope::Nation),
                Decision::Deny(DenyReason::RoleNotAllowed)
            );
        }
    }
    assert_eq!(
        decide(Role::Analyst, Action::ViewNationReport, Scope::OwnMunicipality),
        Decision::Deny(DenyReason::WrongResource)
    );
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
            partner_sees_health: cc,
            partner_view_off: ch,
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

/// Who may be assigned to run a class session (#12): the roles that run
/// programmes and the coordinator who attends them, no one else.
#[test]
fn session_staff_are_the_roles_that_run_or_attend_classes() {
    let may: Vec<Role> = Role::ALL.into_iter().filter(|r| may_staff_class_sessions(*r)).collect();
    assert_eq!(may.len(), 3);
    for r in [Role::ProgrammeStaff, Role::Nurse, Role::Coordinator] {
        assert!(may.contains(&r), "{r:?}");
    }
}
