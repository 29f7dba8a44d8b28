//! Identifiers. Each table gets its own newtype so that a family id can
//! never be passed where an account id is expected.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id_type!(
    /// A municipality (the tenant).
    MunicipalityId,
    /// A district or support-room area inside a municipality.
    AreaId,
    /// A children's hall, support room, hub, health centre or postpartum-care facility.
    VenueId,
    /// A family: the unit a record belongs to.
    FamilyId,
    /// A person in a family (mother, partner, child).
    PersonId,
    /// One pregnancy of a family.
    PregnancyId,
    /// One baby born of a pregnancy.
    BabyId,
    /// A sign-in account (staff or family member).
    AccountId,
    /// A peer-support chat room.
    RoomId,
    /// An application for postpartum care.
    ApplicationId,
    /// A booked online follow-up consultation.
    FollowupId,
    /// A session of the coordinator's online talk.
    TalkId,
    /// An incident report of a facility.
    IncidentId,
    /// One contact a family is owed, as stored (timeline).
    ContactId,
    /// A concern raised about a family (referrals).
    ReferralId,
    /// One set of answers to a screening questionnaire.
    ScreeningId,
    /// A monthly handbook meeting (母子手帳会議) of one area, as recorded.
    HandbookMeetingId,
    /// A confirmed 8th-month group session (妊娠8か月面談 集団).
    GroupSessionId,
);

id_type!(
    /// A programme a municipality runs (self-care class, maternity class, …).
    ProgrammeId,
    /// One session of a programme at a venue.
    ClassSessionId,
    /// A family's booking (or place on the waiting list) for a session.
    BookingId,
    /// An entry of an area's local information ([000] 地域おでかけ情報).
    LocalPlaceId,
);
