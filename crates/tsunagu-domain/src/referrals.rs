//! Concerns and referrals (PRODUCT.md §1.2, DOMAIN.md §7): anyone who meets a
//! family can raise a concern; it becomes follow-up work for the owning
//! nurse, who moves it raised → received → in progress → closed, may mark the
//! pregnancy as a specified expectant mother (特定妊婦) and may escalate the
//! case to a child-protection caseworker. The one who raised it sees only
//! how far it has got, never the record.
//!
//! A plain state machine: [`apply`] takes the referral, the actor's role and
//! the action, and returns the new referral or says why not. Each accepted
//! step is one audit line in the store.

use crate::roles::Role;
use crate::{FamilyId, PregnancyId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReferralStatus {
    /// Raised, not yet seen by the nurse.
    Raised,
    /// The nurse has taken it up.
    Received,
    /// The nurse is following it up.
    InProgress,
    /// Settled. Final: a new worry is a new referral.
    Closed,
}

impl ReferralStatus {
    pub const ALL: [ReferralStatus; 4] =
        [ReferralStatus::Raised, ReferralStatus::Received, ReferralStatus::InProgress, ReferralStatus::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            ReferralStatus::Raised => "raised",
            ReferralStatus::Received => "received",
            ReferralStatus::InProgress => "in_progress",
            ReferralStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    fn is_open_to_work(self) -> bool {
        matches!(self, ReferralStatus::Received | ReferralStatus::InProgress)
    }
}

/// Where the concern came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConcernSource {
    /// Something a person saw (at a stay, a class, a visit).
    Observation,
    /// A positive or urgent screen ([`crate::screening::follow_up`]).
    Screening,
    /// A peer supporter escalated from a chat room [003].
    ChatEscalation,
}

impl ConcernSource {
    pub const ALL: [ConcernSource; 3] =
        [ConcernSource::Observation, ConcernSource::Screening, ConcernSource::ChatEscalation];

    /// The stored and sent form (its serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            ConcernSource::Observation => "observation",
            ConcernSource::Screening => "screening",
            ConcernSource::ChatEscalation => "chat_escalation",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// Followed up; the family has what it needs.
    Resolved,
    /// Looked into; no concern found.
    NoConcern,
    /// The same worry is already a referral.
    Duplicate,
    /// The family left the municipality (information passed on).
    MovedOut,
}

impl CloseReason {
    pub const ALL: [CloseReason; 4] =
        [CloseReason::Resolved, CloseReason::NoConcern, CloseReason::Duplicate, CloseReason::MovedOut];

    /// The stored and sent form (its serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::Resolved => "resolved",
            CloseReason::NoConcern => "no_concern",
            CloseReason::Duplicate => "duplicate",
            CloseReason::MovedOut => "moved_out",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "action", content = "reason", rename_all = "snake_case")]
pub enum ReferralAction {
    /// raised → received.
    Receive,
    /// received → in progress.
    Start,
    /// Hand the case to the child-protection side (received or in progress;
    /// once). Moves a received referral to in progress.
    Escalate,
    /// Mark the pregnancy as a specified expectant mother (特定妊婦).
    MarkSpecifiedExpectantMother,
    ClearSpecifiedExpectantMother,
    /// received / in progress → closed.
    Close(CloseReason),
}

impl ReferralAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ReferralAction::Receive => "receive",
            ReferralAction::Start => "start",
            ReferralAction::Escalate => "escalate",
            ReferralAction::MarkSpecifiedExpectantMother => "mark_specified_expectant_mother",
            ReferralAction::ClearSpecifiedExpectantMother => "clear_specified_expectant_mother",
            ReferralAction::Close(_) => "close",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    pub family: FamilyId,
    /// The pregnancy the concern is about, if any (needed to mark 特定妊婦).
    pub pregnancy: Option<PregnancyId>,
    pub raised_by: Role,
    pub source: ConcernSource,
    /// Shown at once on the nurse's and the area's lists.
    pub urgent: bool,
    pub status: ReferralStatus,
    /// Escalated to a caseworker (who may then see the family: policy.rs).
    pub escalated: bool,
    pub specified_expectant_mother: bool,
    pub close_reason: Option<CloseReason>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReferralError {
    #[error("{0:?} may not raise a concern")]
    MayNotRaise(Role),
    #[error("only the family's nurse moves a referral, not {0:?}")]
    NotOwner(Role),
    #[error("a {from} referral cannot {action}", from = .from.as_str(), action = .action.as_str())]
    WrongStatus { from: ReferralStatus, action: ReferralAction },
    #[error("already escalated")]
    AlreadyEscalated,
    #[error("a specified expectant mother is marked on a pregnancy; this concern names none")]
    NoPregnancy,
    #[error("already marked as a specified expectant mother")]
    AlreadyMarked,
    #[error("not marked as a specified expectant mother")]
    NotMarked,
}

/// Who may raise a concern: every role that meets families. Families use
/// the consultation and chat instead; administrators and analysts meet no one.
pub fn may_raise(role: Role) -> bool {
    matches!(
        role,
        Role::Nurse
            | Role::Coordinator
            | Role::FacilityStaff
            | Role::ProgrammeStaff
            | Role::PeerSupporter
            | Role::Caseworker
    )
}

/// A new concern, raised by `by`.
pub fn raise(
    by: Role,
    family: FamilyId,
    pregnancy: Option<PregnancyId>,
    source: ConcernSource,
    urgent: bool,
) -> Result<Referral, ReferralError> {
    if !may_raise(by) {
        return Err(ReferralError::MayNotRaise(by));
    }
    Ok(Referral {
        family,
        pregnancy,
        raised_by: by,
        source,
        urgent,
        status: ReferralStatus::Raised,
        escalated: false,
        specified_expectant_mother: false,
        close_reason: None,
    })
}

/// The concern a positive or urgent screen raises ([`crate::screening::follow_up`]):
/// work for the family's nurse, whoever entered the answers — the family
/// itself on a phone (who may not raise a concern by hand) or staff from a
/// paper form. `raised_by` is the role that entered them.
pub fn from_screening(
    entered_by: Role,
    family: FamilyId,
    pregnancy: Option<PregnancyId>,
    follow_up: &crate::screening::FollowUp,
) -> Referral {
    Referral {
        family,
        pregnancy,
        raised_by: entered_by,
        source: ConcernSource::Screening,
        urgent: follow_up.urgent,
        status: ReferralStatus::Raised,
        escalated: false,
        specified_expectant_mother: false,
        close_reason: None,
    }
}

/// One step of the state machine. Only a nurse moves a referral (the
/// municipality's nurse owns the follow-up; which nurse is the store's
/// assignment). A caseworker sees an escalated case but does not move it.
pub fn apply(r: &Referral, by: Role, action: ReferralAction) -> Result<Referral, ReferralError> {
    use ReferralAction as A;
    use ReferralStatus as S;
    if by != Role::Nurse {
        return Err(ReferralError::NotOwner(by));
    }
    let wrong = Err(ReferralError::WrongStatus { from: r.status, action });
    let mut next = r.clone();
    match action {
        A::Receive => {
            if r.status != S::Raised {
                return wrong;
            }
            next.status = S::Received;
        }
        A::Start => {
            if r.status != S::Received {
                return wrong;
            }
            next.status = S::InProgress;
        }
        A::Escalate => {
            if !r.status.is_open_to_work() {
                return wrong;
            }
            if r.escalated {
                return Err(ReferralError::AlreadyEscalated);
            }
            next.escalated = true;
            next.status = S::InProgress;
        }
        A::MarkSpecifiedExpectantMother => {
            if !r.status.is_open_to_work() {
                return wrong;
            }
            if r.pregnancy.is_none() {
                return Err(ReferralError::NoPregnancy);
            }
            if r.specified_expectant_mother {
                return Err(ReferralError::AlreadyMarked);
            }
            next.specified_expectant_mother = true;
        }
        A::ClearSpecifiedExpectantMother => {
            if !r.status.is_open_to_work() {
                return wrong;
            }
            if !r.specified_expectant_mother {
                return Err(ReferralError::NotMarked);
            }
            next.specified_expectant_mother = false;
        }
        A::Close(reason) => {
            if !r.status.is_open_to_work() {
                return wrong;
            }
            next.status = S::Closed;
            next.close_reason = Some(reason);
        }
    }
    Ok(next)
}

/// What the one who raised a concern sees: how far it has got, nothing else
/// (not the escalation, not 特定妊婦, not the reason it closed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RaiserView {
    pub status: ReferralStatus,
}

pub fn raiser_view(r: &Referral) -> RaiserView {
    RaiserView { status: r.status }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod stored_names {
    use super::*;

    #[test]
    fn stored_names_are_the_serde_names() {
        for x in ConcernSource::ALL {
            assert_eq!(format!("\"{}\"", x.as_str()), serde_json::to_string(&x).unwrap());
            assert_eq!(ConcernSource::parse(x.as_str()), Some(x));
        }
        for x in CloseReason::ALL {
            assert_eq!(format!("\"{}\"", x.as_str()), serde_json::to_string(&x).unwrap());
            assert_eq!(CloseReason::parse(x.as_str()), Some(x));
        }
    }
}
