//! The one authorization policy. Every page, API call and store query that
//! touches a person asks [`authorize`] first; [`family_filter`] is the same
//! rule expressed as a filter for listing queries, and a property test
//! keeps the two in agreement.

use crate::notes::NoteAudience;
use crate::roles::{Actor, FamilyRelation, Role};
use crate::timeline::ContactKind;
use crate::{AccountId, AreaId, FamilyId, MunicipalityId, RoomId, VenueId};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// List families by name (kana search).
    SearchFamilies,
    /// Open a family's record.
    ViewFamily,
    /// Register a pregnancy notification (opens a new record).
    RegisterNotification,
    /// Change a family's record (births, EDD, status).
    EditFamily,
    /// Create, disable and reset accounts.
    ManageAccounts,
    /// Search the audit log.
    ViewAudit,
    /// Read aggregate reports.
    ViewReports,
    /// Read and write in a peer-support chat room [003]: the parent whose
    /// room it is, and the active supporters of its team — nobody else
    /// (「応援団もアクセスできるトークルームを限定し、全ての利用者とのやりとりを閲覧できない」).
    ViewChatRoom,
    /// Apply for postpartum care for a family (the family itself, or a nurse for it).
    ApplyPostpartum,
    /// Review (approve, reject, cancel) postpartum-care applications.
    ReviewPostpartum,
    /// See a postpartum-care facility's applications and stays.
    ViewFacility,
    /// Record what happens at a facility: a day of a stay, an incident report.
    RecordAtFacility,
    /// Raise a concern about a family (a referral to its nurse): anyone who
    /// meets the family and may see it, never the family itself.
    RaiseConcern,
    /// Receive, work on, escalate and close referrals.
    ManageReferrals,
    /// Enter answers to a screening questionnaire for a family: the family
    /// itself on a phone, or staff who meet it from a paper form (which
    /// questionnaires a role may enter is the definition's `filled_by`).
    FileScreening,
    /// See a family's screening answers with their scores, results and
    /// reasons: the staff who follow the family up, never the family.
    ViewScreenings,
    /// Draw work lists (due, overdue, missed contacts; urgent follow-ups):
    /// the roles that own contacts.
    ViewWorkList,
    /// Record what happened on a contact a family is owed: the nurse any,
    /// otherwise the role that owns the contact or takes part in it, and
    /// only for a family that role may see.
    RecordContact,
    /// Record the monthly handbook meeting and run the 8th-month group
    /// sessions (confirm a session, record attendance).
    RunMeetings,
    /// See the month's handbook lists and the 8th-month group sessions.
    ViewMeetings,
    /// See one postpartum-care application: the nurse, the staff of its
    /// facility, the family that made it.
    ViewApplication,
    /// Cancel an application: the nurse (a review), or the family its own.
    CancelApplication,
    /// Use the services around a postpartum stay: the online follow-up
    /// consultations and the coordinator's online talks (the nurse and the
    /// facilities' staff run them, families book and join them).
    UseCareServices,
    /// List the concerns one raised, to see that they were taken up (never
    /// the nurse's work on them): every role that may raise one.
    ListOwnConcerns,
    /// See the mother's health items in the family's own view: her
    /// postpartum applications and stays, the questionnaires about her, the
    /// care notes. The mother; her partner when she shares them and the
    /// partner's view is on. Staff see them through their own actions.
    ViewHealth,
    /// See what the office keeps of a family: notes written for the office,
    /// and the staff's view of the record (with its buttons). Staff who may
    /// see the family; never the family.
    ViewOfficeNotes,
    /// Choose what the partner's account is shown of the mother's health
    /// items: the mother, for her own family.
    ShareWithPartner,
    /// Turn the partner's view of a family off (or on again) without the
    /// partner being told why — where there is domestic violence: the nurse.
    SetPartnerView,
    /// Edit a postpartum-care facility's days off (public holidays, dated
    /// closures) and the municipality's postpartum settings: the administrator.
    ConfigureFacilities,
    // --- classes and programmes (#12) ---
    /// Book a class session for a family, or cancel its booking: the family
    /// itself (mother or partner: a family's booking, not a health item),
    /// staff who may see the family (the nurse, the area's coordinator).
    BookClass,
    /// Book a family a rule refuses, where the rule allows staff to
    /// override it, with a reason that is audited: the nurse, the area's
    /// coordinator for a family she may see.
    OverrideClassRule,
    /// See a venue's sessions with their rosters: programme staff of that
    /// venue, the coordinator of its area, the nurse.
    ViewClassRoster,
    /// Record attendance (and weights) at a venue's session: its programme
    /// staff, the nurse.
    RecordClassAttendance,
    /// Configure programmes and generate or edit sessions: the
    /// administrator and the nurse.
    ManageClasses,
    /// Browse the sessions on offer (no personal data): every role that
    /// meets families or books for them.
    BrowseClasses,
    // --- peer-support chat [003] ---
    /// Run the chat as its operator: vet and activate supporters, see and
    /// set teams (with the suggested ones), see team health (never message
    /// text), set the municipality's help lines: the administrator.
    ManageChat,
    /// Read the messages of a room that was escalated (by a supporter or by
    /// words of self-harm): the municipality's nurse and the operator.
    ReadEscalatedRoom,
    /// Hand out a one-time invitation to the chat at handbook issue: the nurse.
    InviteToChat,
    /// Mark a message or a room as worrying, which becomes a referral to the
    /// municipality's nurse: an active supporter of the room's team.
    EscalateChat,
    /// Register one's own supporter profile (attributes, capacity) for the
    /// operator to vet: a peer supporter's account.
    RegisterAsSupporter,
    /// Open the chat's own pages: a parent's room, a supporter's rooms and
    /// the notices of new messages in them (each room still decided by
    /// `ViewChatRoom`): the chat parent and the peer supporter.
    UseChat,
    // Reports (#14)
    /// See a report's figures as counted, small cells included: the staff
    /// responsible for those families (the nurse), on the page only.
    /// Everyone else — the analyst, the administrator, any download, the
    /// API — is given them suppressed (`reports::suppression`).
    ViewUnsuppressedFigures,
    /// Set the municipality's report settings (suppression threshold and
    /// rounding, the days a follow-up counts within, the printed figures to
    /// reconcile with): the administrator.
    ConfigureReports,
    // --- local information (#12, [000] 地域おでかけ情報) ---
    /// Add, edit and retire the entries of an area's local-information
    /// directory (halls, hubs, support rooms, outing spots, services): the
    /// coordinators of that area, the administrator.
    KeepLocalInformation,
    /// Browse the local-information directory (no personal data): families
    /// and the municipality's staff.
    BrowseLocalInformation,
    // --- classes, last stage (#12) ---
    /// Set a programme's content, who runs it, who attends, its places and
    /// unit, and the rules that decide who may book it (e.g. once per
    /// pregnancy or per person): the municipality's administrator — the
    /// municipality's configuration, as facilities' and reports' settings.
    ConfigureProgrammes,
    // --- reminders (#10) ---
    /// See and set one's own reminders (an e-mail address, how many days
    /// ahead) of the family's bookings and stays: a family member whose
    /// view of the family is on (the mother, her partner).
    SetReminders,
    // --- reports, nation-wide (#14) ---
    /// Read the nation-wide report: every municipality's published (always
    /// suppressed) figures of a fiscal year and the nation's totals — the
    /// analyst, who reads aggregates only, never a person.
    ViewNationReport,
}

impl Action {
    pub const ALL: [Action; 48] = [
        Action::SearchFamilies,
        Action::ViewFamily,
        Action::RegisterNotification,
        Action::EditFamily,
        Action::ManageAccounts,
        Action::ViewAudit,
        Action::ViewReports,
        Action::ViewChatRoom,
        Action::ApplyPostpartum,
        Action::ReviewPostpartum,
        Action::ViewFacility,
        Action::RecordAtFacility,
        Action::RaiseConcern,
        Action::ManageReferrals,
        Action::FileScreening,
        Action::ViewScreenings,
        Action::ViewWorkList,
        Action::RecordContact,
        Action::RunMeetings,
        Action::ViewMeetings,
        Action::ViewApplication,
        Action::CancelApplication,
        Action::UseCareServices,
        Action::ListOwnConcerns,
        Action::ViewHealth,
        Action::ViewOfficeNotes,
        Action::ShareWithPartner,
        Action::SetPartnerView,
        Action::ConfigureFacilities,
        // classes and programmes (#12)
        Action::BookClass,
        Action::OverrideClassRule,
        Action::ViewClassRoster,
        Action::RecordClassAttendance,
        Action::ManageClasses,
        Action::BrowseClasses,
        // peer-support chat [003]
        Action::ManageChat,
        Action::ReadEscalatedRoom,
        Action::InviteToChat,
        Action::EscalateChat,
        Action::RegisterAsSupporter,
        Action::UseChat,
        // Reports (#14)
        Action::ViewUnsuppressedFigures,
        Action::ConfigureReports,
        // local information (#12)
        Action::KeepLocalInformation,
        Action::BrowseLocalInformation,
        // classes, last stage (#12)
        Action::ConfigureProgrammes,
        // reminders (#10)
        Action::SetReminders,
        // reports, nation-wide (#14)
        Action::ViewNationReport,
    ];
}

/// What the policy needs to know of a family: where it lives and what it
/// agreed to share — never names or health data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyAccess {
    pub municipality_id: MunicipalityId,
    pub family_id: FamilyId,
    pub area_id: AreaId,
    /// The family agreed to share its record with the area's coordinators.
    pub consent_coordinators: bool,
    /// The family agreed to share with childcare-support hubs.
    pub consent_hubs: bool,
    /// Escalated to the child-protection side.
    pub escalated: bool,
    /// Facilities where the family has an application or stay.
    pub facilities: Vec<VenueId>,
    /// Venues whose sessions the family is booked on.
    pub programme_venues: Vec<VenueId>,
    /// The mother shares her health items (postpartum applications and
    /// stays, questionnaires about her, care notes) with her partner's
    /// account. Off until she turns it on.
    pub partner_sees_health: bool,
    /// A nurse turned the partner's view of the family off: the partner's
    /// account is shown a neutral page and is not told why.
    pub partner_view_off: bool,
}

/// What the policy needs to know of a chat room [003]: the parent whose room
/// it is and the active supporters of its team — never what is said in it,
/// nor which family the parent belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomAccess {
    pub municipality_id: MunicipalityId,
    pub room_id: RoomId,
    /// The parent's chat account.
    pub parent: AccountId,
    /// The team's supporters who are active now.
    pub team: Vec<AccountId>,
    /// A supporter escalated the room, or a parent's words of self-harm flagged it.
    pub escalated: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource<'a> {
    /// Something that belongs to the municipality as a whole (accounts, audit, reports, search).
    Municipality(MunicipalityId),
    Family(&'a FamilyAccess),
    /// A peer-support chat room: whose it is and who its team is, never a
    /// family (the link to a family record is not the policy's to know).
    ChatRoom(&'a RoomAccess),
    /// A postpartum-care facility (a venue).
    Facility {
        municipality_id: MunicipalityId,
        venue_id: VenueId,
    },
    /// A contact a family is owed, of a kind (who owns it and takes part in it).
    Contact {
        family: &'a FamilyAccess,
        kind: ContactKind,
    },
    /// A postpartum-care application of a family at a facility.
    Application {
        family: &'a FamilyAccess,
        facility: VenueId,
    },
    /// A class session (#12): its venue (a hall, a room, a hub), the
    /// venue's area, and the accounts assigned to run it (its staff; empty
    /// when none were assigned) — facts read before the decision, no names.
    ClassSession {
        municipality_id: MunicipalityId,
        venue_id: VenueId,
        area_id: Option<AreaId>,
        staff: &'a [AccountId],
    },
    /// An area of a municipality: what is kept per area (its local information).
    Area {
        municipality_id: MunicipalityId,
        area_id: AreaId,
    },
    /// A municipality's report figures, as they leave by one channel.
    Figures {
        municipality_id: MunicipalityId,
        channel: FigureChannel,
    },
    /// Every municipality's published figures at once (the nation-wide
    /// report): the one resource of no single municipality.
    Nation,
}

/// How report figures leave the service: the page a person reads, a file
/// downloaded (it travels on), the JSON API (a program, anyone's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FigureChannel {
    Page,
    Download,
    Api,
}

impl Resource<'_> {
    /// The municipality the resource is of; none for [`Resource::Nation`].
    fn municipality_id(&self) -> Option<MunicipalityId> {
        Some(match self {
            Resource::Nation => return None,
            Resource::Municipality(m) => *m,
            Resource::Family(f) => f.municipality_id,
            Resource::ChatRoom(r) => r.municipality_id,
            Resource::Facility { municipality_id, .. } | Resource::ClassSession { municipality_id, .. } => {
                *municipality_id
            }
            Resource::Figures { municipality_id, .. } | Resource::Area { municipality_id, .. } => *municipality_id,
            Resource::Contact { family, .. } | Resource::Application { family, .. } => family.municipality_id,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DenyReason {
    OtherMunicipality,
    RoleNotAllowed,
    OutOfScope,
    NoConsent,
    WrongResource,
    /// A partner's account, on what the mother has not shared or since a
    /// nurse turned the partner's view off. Shown as a neutral page: the
    /// partner is never told which, nor why.
    NotShared,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny(DenyReason),
}

impl Decision {
    pub fn is_allowed(self) -> bool {
        matches!(self, Decision::Allow)
    }
}

fn allow_if(cond: bool, otherwise: DenyReason) -> Decision {
    if cond {
        Decision::Allow
    } else {
        Decision::Deny(otherwise)
    }
}

/// Decides whether `actor` may do `action` on `resource`.
pub fn authorize(actor: &Actor, action: Action, resource: &Resource<'_>) -> Decision {
    use Action as A;
    use DenyReason as D;
    use Role as R;

    // Nobody ever reaches another municipality (the nation-wide report is
    // of none: its figures are every municipality's published ones).
    if resource.municipality_id().is_some_and(|m| m != actor.municipality_id) {
        return Decision::Deny(D::OtherMunicipality);
    }

    match (action, resource) {
        (A::SearchFamilies, Resource::Municipality(_)) => {
            allow_if(matches!(actor.role, R::Nurse | R::Coordinator | R::Caseworker), D::RoleNotAllowed)
        }
        (A::RegisterNotification, Resource::Municipality(_)) => allow_if(actor.role == R::Nurse, D::RoleNotAllowed),
        (A::ManageAccounts | A::ViewAudit | A::ConfigureFacilities, Resource::Municipality(_)) => {
            allow_if(actor.role == R::Admin, D::RoleNotAllowed)
        }
        (A::ViewReports, Resource::Municipality(_)) => {
            allow_if(matches!(actor.role, R::Admin | R::Analyst | R::Nurse), D::RoleNotAllowed)
        }
        (A::ViewFamily, Resource::Family(f)) => view_family(actor, f),
        (A::EditFamily, Resource::Family(_)) => allow_if(actor.role == R::Nurse, D::RoleNotAllowed),
        (A::ApplyPostpartum, Resource::Family(f)) => match actor.role {
            R::Nurse => Decision::Allow,
            R::FamilyMember => family_member(actor, f, Item::Health),
            _ => Decision::Deny(D::RoleNotAllowed),
        },
        (A::ReviewPostpartum, Resource::Municipality(_)) => allow_if(actor.role == R::Nurse, D::RoleNotAllowed),
        (A::ViewFacility, Resource::Facility { venue_id, .. }) => match actor.role {
            R::Nurse => Decision::Allow,
            R::FacilityStaff => allow_if(actor.venues.contains(venue_id), D::OutOfScope),
            _ => Decision::Deny(D::RoleNotAllowed),
        },
        (A::RecordAtFacility, Resource::Facility { venue_id, .. }) => match actor.role {
            R::FacilityStaff => allow_if(actor.venues.contains(venue_id), D::OutOfScope),
            _ => Decision::Deny(D::RoleNotAllowed),
        },
        (A::RaiseConcern, Resource::Family(f)) => {
            if actor.role == R::FamilyMember {
                Decision::Deny(D::RoleNotAllowed)
            } else {
                view_family(actor, f)
            }
        }
        (A::ManageReferrals, Resource::Municipality(_)) => allow_if(actor.role == R::Nurse, D::RoleNotAllowed),
        // The questionnaires a family answers are about the mother: she
        // answers them, never her partner.
        (A::FileScreening, Resource::Family(f)) => match actor.role {
            R::Nurse | R::FacilityStaff => view_family(actor, f),
            R::FamilyMember => family_member(actor, f, Item::MotherOnly),
            _ => Decision::Deny(D::RoleNotAllowed),
        },
        // Results are health data for the follow-up: the nurse, the
        // caseworker of an escalated case, the facility the mother stays at.
        (A::ViewScreenings, Resource::Family(f)) => match actor.role {
            R::Nurse | R::Caseworker | R::FacilityStaff => view_family(actor, f),
            _ => Decision::Deny(D::RoleNotAllowed),
        },
        (A::ViewWorkList, Resource::Municipality(_)) => {
            allow_if(matches!(actor.role, R::Nurse | R::Coordinator), D::RoleNotAllowed)
        }
        (A::RecordContact, Resource::Contact { family, kind }) => {
            if crate::timeline::may_record(actor.role, *kind) {
                view_family(actor, family)
            } else {
                Decision::Deny(D::RoleNotAllowed)
            }
        }
        // [002] the centre extracts the month's handbook list and holds the
        // meeting; recording it settles the contact of every listed family,
        // those a coordinator may not see included: the nurse records it.
        (A::RunMeetings, Resource::Municipality(_)) => allow_if(actor.role == R::Nurse, D::RoleNotAllowed),
        (A::ViewMeetings, Resource::Municipality(_)) => {
            allow_if(matches!(actor.role, R::Nurse | R::Coordinator), D::RoleNotAllowed)
        }
        (A::ViewApplication, Resource::Application { family, facility }) => match actor.role {
            R::Nurse => Decision::Allow,
            R::FacilityStaff => allow_if(actor.venues.contains(facility), D::OutOfScope),
            R::FamilyMember => family_member(actor, family, Item::Health),
            _ => Decision::Deny(D::RoleNotAllowed),
        },
        (A::CancelApplication, Resource::Application { family, .. }) => match actor.role {
            R::Nurse => Decision::Allow,
            R::FamilyMember => family_member(actor, family, Item::Health),
            _ => Decision::Deny(D::RoleNotAllowed),
        },
        (A::UseCareServices, Resource::Municipality(_)) => {
            allow_if(matches!(actor.role, R::Nurse | R::FacilityStaff | R::FamilyMember), D::RoleNotAllowed)
        }
        (A::ListOwnConcerns, Resource::Municipality(_)) => {
            allow_if(crate::referrals::may_raise(actor.role), D::RoleNotAllowed)
        }
        (A::ViewHealth, Resource::Family(f)) => match actor.role {
            R::FamilyMember => family_member(actor, f, Item::Health),
            _ => Decision::Deny(D::RoleNotAllowed),
        },
        (A::ViewOfficeNotes, Resource::Family(f)) => match actor.role {
            R::FamilyMember => Decision::Deny(D::RoleNotAllowed),
            _ => view_family(actor, f),
        },
        (A::ShareWithPartner, Resource::Family(f)) => match actor.role {
            R::FamilyMember => family_member(actor, f, Item::MotherOnly),
            _ => Decision::Deny(D::RoleNotAllowed),
        },
        (A::SetPartnerView, Resource::Family(_)) => allow_if(actor.role == R::Nurse, D::RoleNotAllowed),
        // --- classes and programmes (#12) ---
        // A booking is the family's, not the mother's health item: both
        // parents book ([002] マタニティ教室 is for couples); staff book for
        // the families they may see.
        (A::BookClass, Resource::Family(f)) => match actor.role {
            R::FamilyMember | R::Nurse | R::Coordinator => view_family(actor, f),
            _ => Decision::Deny(D::RoleNotAllowed),
        },
        (A::OverrideClassRule, Resource::Family(f)) => match actor.role {
            R::Nurse | R::Coordinator => view_family(actor, f),
            _ => Decision::Deny(D::RoleNotAllowed),
        },
        // [000] the area's coordinator attends the self-care classes of her
        // area. A session's staff (#12, last stage): programme staff see the
        // rosters of the sessions they are assigned to — of a session nobody
        // was assigned to, those of its venue (sessions made before staff
        // were assigned keep working); a coordinator assigned to a session
        // outside her area sees its roster too.
        (A::ViewClassRoster, Resource::ClassSession { venue_id, area_id, staff, .. }) => match actor.role {
            R::Nurse => Decision::Allow,
            R::ProgrammeStaff => allow_if(runs_session(actor, *venue_id, staff), D::OutOfScope),
            R::Coordinator => allow_if(
                area_id.is_some_and(|a| actor.areas.contains(&a)) || staff.contains(&actor.account_id),
                D::OutOfScope,
            ),
            _ => Decision::Deny(D::RoleNotAllowed),
        },
        (A::RecordClassAttendance, Resource::ClassSession { venue_id, staff, .. }) => match actor.role {
            R::Nurse => Decision::Allow,
            R::ProgrammeStaff => allow_if(runs_session(actor, *venue_id, staff), D::OutOfScope),
            _ => Decision::Deny(D::RoleNotAllowed),
        },
        (A::ManageClasses, Resource::Municipality(_)) => {
            allow_if(matches!(actor.role, R::Admin | R::Nurse), D::RoleNotAllowed)
        }
        (A::BrowseClasses, Resource::Municipality(_)) => allow_if(
            matches!(actor.role, R::FamilyMember | R::Nurse | R::Coordinator | R::ProgrammeStaff | R::Admin),
            D::RoleNotAllowed,
        ),
        // --- peer-support chat [003] ---
        // Supporters serve the rooms of the municipality their account is
        // in (a volunteer for two cities has an account in each), so the
        // check above keeps every city's rooms apart. The team is the
        // room's, read before the decision, so a change of team or a
        // suspension takes effect at the next request or message.
        (A::ViewChatRoom, Resource::ChatRoom(room)) => match actor.role {
            R::ChatParent => allow_if(room.parent == actor.account_id, D::OutOfScope),
            R::PeerSupporter => allow_if(room.team.contains(&actor.account_id), D::OutOfScope),
            _ => Decision::Deny(D::RoleNotAllowed),
        },
        (A::EscalateChat, Resource::ChatRoom(room)) => match actor.role {
            R::PeerSupporter => allow_if(room.team.contains(&actor.account_id), D::OutOfScope),
            _ => Decision::Deny(D::RoleNotAllowed),
        },
        (A::ReadEscalatedRoom, Resource::ChatRoom(room)) => {
            if matches!(actor.role, R::Nurse | R::Admin) {
                allow_if(room.escalated, D::OutOfScope)
            } else {
                Decision::Deny(D::RoleNotAllowed)
            }
        }
        // The operator is the municipality's administrator: it makes the
        // supporters' accounts (ManageAccounts) and answers for the
        // personal data; an NPO that runs the chat for the city is given
        // an administrator's account of it.
        (A::ManageChat, Resource::Municipality(_)) => allow_if(actor.role == R::Admin, D::RoleNotAllowed),
        (A::InviteToChat, Resource::Municipality(_)) => allow_if(actor.role == R::Nurse, D::RoleNotAllowed),
        (A::RegisterAsSupporter, Resource::Municipality(_)) => {
            allow_if(actor.role == R::PeerSupporter, D::RoleNotAllowed)
        }
        (A::UseChat, Resource::Municipality(_)) => {
            allow_if(matches!(actor.role, R::ChatParent | R::PeerSupporter), D::RoleNotAllowed)
        }
        // Reports (#14): unsuppressed figures stay with the staff responsible
        // for the families, on the page; a download or the API is suppressed
        // for everyone, whoever asks.
        (A::ViewUnsuppressedFigures, Resource::Figures { channel, .. }) => {
            if actor.role != R::Nurse {
                Decision::Deny(D::RoleNotAllowed)
            } else {
                allow_if(*channel == FigureChannel::Page, D::OutOfScope)
            }
        }
        (A::ConfigureReports, Resource::Municipality(_)) => allow_if(actor.role == R::Admin, D::RoleNotAllowed),
        // --- local information (#12) ---
        // [000] the area's coordinators keep its 地域おでかけ情報 (they attend
        // the self-care classes and hand it out); the administrator any area.
        (A::KeepLocalInformation, Resource::Area { area_id, .. }) => match actor.role {
            R::Admin => Decision::Allow,
            R::Coordinator => allow_if(actor.areas.contains(area_id), D::OutOfScope),
            _ => Decision::Deny(D::RoleNotAllowed),
        },
        // Public information: families and the municipality's staff; not the
        // pseudonymous chat accounts nor the analyst.
        (A::BrowseLocalInformation, Resource::Municipality(_)) => allow_if(
            matches!(
                actor.role,
                R::FamilyMember
                    | R::Nurse
                    | R::Coordinator
                    | R::FacilityStaff
                    | R::ProgrammeStaff
                    | R::Caseworker
                    | R::Admin
            ),
            D::RoleNotAllowed,
        ),
        // --- classes, last stage (#12) ---
        // A programme's settings decide who may book: the municipality's
        // configuration, kept by its administrator.
        (A::ConfigureProgrammes, Resource::Municipality(_)) => allow_if(actor.role == R::Admin, D::RoleNotAllowed),
        // --- reminders (#10) ---
        // One's own choice of reminders of the family's items: a family
        // member who may see the family (a partner whose view is off may not).
        (A::SetReminders, Resource::Family(f)) => match actor.role {
            R::FamilyMember => view_family(actor, f),
            _ => Decision::Deny(D::RoleNotAllowed),
        },
        // --- reports, nation-wide (#14) ---
        // Published figures only (each municipality's through its own
        // suppression, the totals checked): the analyst, whose role is
        // aggregates. No one sees another municipality's counts unsuppressed.
        (A::ViewNationReport, Resource::Nation) => allow_if(actor.role == R::Analyst, D::RoleNotAllowed),
        _ => Decision::Deny(D::WrongResource),
    }
}

/// Programme staff run a session they are assigned to; a session with no
/// staff assigned, any at their venues (#12).
fn runs_session(actor: &Actor, venue_id: VenueId, staff: &[AccountId]) -> bool {
    if staff.is_empty() {
        actor.venues.contains(&venue_id)
    } else {
        staff.contains(&actor.account_id)
    }
}

/// Whether an account of `role` may be assigned to run a class session
/// (#12): the roles who run programmes — hall and NPO staff, midwives and
/// nutritionists (programme staff), the nurse — and the area's coordinator,
/// who attends the self-care classes [000]. Checked by the store when staff
/// are assigned, and by the edit page for its choices.
pub fn may_staff_class_sessions(role: Role) -> bool {
    matches!(role, Role::ProgrammeStaff | Role::Nurse | Role::Coordinator)
}

/// Proof that the policy allowed an action: [`permit`] is the only way to
/// make one, so code that holds an `Allowed` has asked [`authorize`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowed {
    action: Action,
    municipality_id: MunicipalityId,
    family_id: Option<FamilyId>,
}

impl Allowed {
    pub fn action(&self) -> Action {
        self.action
    }

    /// The municipality the decision was about (every query is bounded by it).
    pub fn municipality_id(&self) -> MunicipalityId {
        self.municipality_id
    }

    /// The family the decision was about, if it was about one.
    pub fn family_id(&self) -> Option<FamilyId> {
        self.family_id
    }
}

/// [`authorize`], answering with a proof of the decision or why not.
pub fn permit(actor: &Actor, action: Action, resource: &Resource<'_>) -> Result<Allowed, DenyReason> {
    match authorize(actor, action, resource) {
        Decision::Allow => Ok(Allowed {
            action,
            // The nation's report is audited in the reader's own municipality.
            municipality_id: resource.municipality_id().unwrap_or(actor.municipality_id),
            family_id: match resource {
                Resource::Family(f) | Resource::Contact { family: f, .. } | Resource::Application { family: f, .. } => {
                    Some(f.family_id)
                }
                Resource::ChatRoom(_)
                | Resource::Municipality(_)
                | Resource::Facility { .. }
                | Resource::ClassSession { .. }
                | Resource::Figures { .. }
                | Resource::Area { .. }
                | Resource::Nation => None,
            },
        }),
        Decision::Deny(reason) => Err(reason),
    }
}

/// What a family member asks for, inside the family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    /// The family's record and timeline: both parents.
    Record,
    /// The mother's health items: hers, and her partner's when she shares them.
    Health,
    /// What only the mother does: answer the questionnaires about her, choose what she shares.
    MotherOnly,
}

/// A family member on their own family: the mother sees and does all of it;
/// her partner what she shares, and nothing once a nurse turned the
/// partner's view off. A family member whose relation is not known is
/// treated as a partner.
fn family_member(actor: &Actor, f: &FamilyAccess, item: Item) -> Decision {
    use DenyReason as D;
    if actor.family_id != Some(f.family_id) {
        return Decision::Deny(D::OutOfScope);
    }
    if actor.relation == Some(FamilyRelation::Mother) {
        return Decision::Allow;
    }
    let shared = match item {
        Item::Record => true,
        Item::Health => f.partner_sees_health,
        Item::MotherOnly => false,
    };
    allow_if(shared && !f.partner_view_off, D::NotShared)
}

/// Whether `actor` may read a note written for `audience` about a family
/// (the note's item itself decided already): a family note whoever may see
/// the family, an office note only staff who may.
pub fn sees_note(actor: &Actor, family: &FamilyAccess, audience: NoteAudience) -> bool {
    let action = match audience {
        NoteAudience::Family => Action::ViewFamily,
        NoteAudience::Office => Action::ViewOfficeNotes,
    };
    authorize(actor, action, &Resource::Family(family)).is_allowed()
}

/// Whom a note `actor` writes about a family is for: what the writer chose
/// (the office unless chosen otherwise), but a writer who may not read
/// office notes (the family itself, cancelling its own application) writes
/// for the family — a note is never hidden from the one who wrote it.
pub fn written_for(actor: &Actor, family: &FamilyAccess, chosen: NoteAudience) -> NoteAudience {
    if authorize(actor, Action::ViewOfficeNotes, &Resource::Family(family)).is_allowed() {
        chosen
    } else {
        NoteAudience::Family
    }
}

fn view_family(actor: &Actor, f: &FamilyAccess) -> Decision {
    use DenyReason as D;
    match actor.role {
        Role::Nurse => Decision::Allow,
        Role::FamilyMember => family_member(actor, f, Item::Record),
        Role::Coordinator => {
            if !actor.areas.contains(&f.area_id) {
                Decision::Deny(D::OutOfScope)
            } else {
                allow_if(f.consent_coordinators, D::NoConsent)
            }
        }
        Role::Caseworker => allow_if(f.escalated, D::OutOfScope),
        Role::FacilityStaff => allow_if(f.facilities.iter().any(|v| actor.venues.contains(v)), D::OutOfScope),
        Role::ProgrammeStaff => allow_if(f.programme_venues.iter().any(|v| actor.venues.contains(v)), D::OutOfScope),
        Role::PeerSupporter | Role::Admin | Role::Analyst | Role::ChatParent => Decision::Deny(D::RoleNotAllowed),
    }
}

/// The rows a listing query may return for this actor, as a filter the
/// store turns into SQL. `None` means the actor may list no families.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FamilyFilter {
    /// Every family of the municipality.
    Municipality(MunicipalityId),
    /// Families of these areas that consented to sharing with coordinators.
    ConsentingInAreas(MunicipalityId, Vec<AreaId>),
    /// Families escalated to the child-protection side.
    Escalated(MunicipalityId),
}

impl FamilyFilter {
    /// Whether a family passes this filter (the store's SQL must agree).
    pub fn matches(&self, f: &FamilyAccess) -> bool {
        match self {
            FamilyFilter::Municipality(m) => f.municipality_id == *m,
            FamilyFilter::ConsentingInAreas(m, areas) => {
                f.municipality_id == *m && f.consent_coordinators && areas.contains(&f.area_id)
            }
            FamilyFilter::Escalated(m) => f.municipality_id == *m && f.escalated,
        }
    }
}

pub fn family_filter(actor: &Actor) -> Option<FamilyFilter> {
    if !authorize(actor, Action::SearchFamilies, &Resource::Municipality(actor.municipality_id)).is_allowed() {
        return None;
    }
    let m = actor.municipality_id;
    match actor.role {
        Role::Nurse => Some(FamilyFilter::Municipality(m)),
        Role::Coordinator => Some(FamilyFilter::ConsentingInAreas(m, actor.areas.clone())),
        Role::Caseworker => Some(FamilyFilter::Escalated(m)),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
