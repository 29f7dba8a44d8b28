//! Policy-facing lookups several capabilities make before they read or
//! change anything: what the policy knows of a family or an application
//! (read without anything personal), the policy's decision on it, and the
//! reads every capability shows of a family (its referrals, its contacts).

use crate::base::error::{permit, permit_municipality, AppError};
use crate::base::AppState;
use tsunagu_domain::audit::Requester;
use tsunagu_domain::policy::{Action, Allowed, FamilyAccess, Resource};
use tsunagu_domain::roles::Actor;
use tsunagu_domain::{FamilyId, VenueId};
use tsunagu_store::{ContactRow, ReferralFilter, StoredReferral};

/// Looks a family up for the caller, answering 404 both when it does not
/// exist and when it is in another municipality, and 403 when the policy
/// says no; else what the policy knew of it and the decision to act on.
pub(crate) async fn family_for(
    state: &AppState,
    actor: &Actor,
    id: FamilyId,
    action: Action,
) -> Result<(FamilyAccess, Allowed), AppError> {
    let access = state.store.family_access(actor.municipality_id, id).await?.ok_or(AppError::NotFound)?;
    let allowed = permit(actor, action, &Resource::Family(&access))?;
    Ok((access, allowed))
}

/// [`family_for`] on access facts already read with the caller's session
/// ([`crate::base::session::ApiFamilyCaller`]): 404 when there were none,
/// else the facts and the policy's decision.
pub(crate) fn decide_on_family<'a>(
    actor: &Actor,
    access: Option<&'a FamilyAccess>,
    action: Action,
) -> Result<(&'a FamilyAccess, Allowed), AppError> {
    let access = access.ok_or(AppError::NotFound)?;
    let allowed = permit(actor, action, &Resource::Family(access))?;
    Ok((access, allowed))
}

/// For a family member, the policy's `ViewHealth` on their own family (the
/// mother's health items: her partner only when she shares them); nothing
/// to decide for anyone else (staff reach health items through their own actions).
pub(crate) async fn own_health(state: &AppState, actor: &Actor) -> Result<(), AppError> {
    if let Some(own) = actor.family_id {
        family_for(state, actor, own, Action::ViewHealth).await?;
    }
    Ok(())
}

/// What the policy knows of an application (its family and its facility),
/// read without anything personal, and the policy's decision on `action`.
/// Nothing about the application is read, nor audited: what a handler then
/// reads or changes of it writes the one line.
pub(crate) async fn application_access(
    state: &AppState,
    actor: &Actor,
    id: tsunagu_domain::ApplicationId,
    action: Action,
) -> Result<(FamilyAccess, VenueId, Allowed), AppError> {
    let (family, facility) =
        state.store.application_owner(actor.municipality_id, id).await?.ok_or(AppError::NotFound)?;
    let access = state.store.family_access(actor.municipality_id, family).await?.ok_or(AppError::NotFound)?;
    let allowed = permit(actor, action, &Resource::Application { family: &access, facility })?;
    Ok((access, facility, allowed))
}

/// The referrals a caller may list: a nurse all (of a family, or open
/// ones); anyone else only those they raised, and then only the status.
pub async fn referrals_for(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    family: Option<FamilyId>,
    open_only: bool,
) -> Result<Vec<StoredReferral>, AppError> {
    let managing = permit_municipality(actor, Action::ManageReferrals);
    let manages = managing.is_ok();
    let filter =
        ReferralFilter { family_id: family, raised_by: (!manages).then_some(actor.account_id), open_only, limit: 200 };
    // Anyone who may raise a concern lists the ones they raised.
    let allowed = match managing {
        Ok(allowed) => allowed,
        Err(_) => permit_municipality(actor, Action::ListOwnConcerns)?,
    };
    let mut list = state.store.referrals(&requester.allowed(&allowed), &filter).await?;
    if !manages {
        // A raiser sees that it was taken up, not the nurse's work.
        for r in &mut list {
            r.mother_name.clear();
        }
    }
    Ok(list)
}

/// The contacts of a family the caller may see (hidden ones left out), on
/// its access facts as read with the caller's session ([`decide_on_family`]).
pub async fn family_contacts(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    access: Option<&FamilyAccess>,
) -> Result<Vec<ContactRow>, AppError> {
    let (access, allowed) = decide_on_family(actor, access, Action::ViewFamily)?;
    let mut rows = state.store.family_contacts(&requester.allowed(&allowed), access.family_id).await?;
    rows.retain(|r| !r.contact.is_hidden());
    for r in &mut rows {
        keep_note_for(actor, access, r);
    }
    Ok(rows)
}

/// Clears a contact's note when it was written for whom the caller is not
/// (an office note, read by the family).
pub fn keep_note_for(actor: &Actor, access: &FamilyAccess, row: &mut ContactRow) {
    if !tsunagu_domain::policy::sees_note(actor, access, row.outcome_note_audience) {
        row.outcome_note.clear();
    }
}
