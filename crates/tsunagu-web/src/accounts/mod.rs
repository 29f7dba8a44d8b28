//! Account administration, shared by the pages and the API. The caller has
//! already passed `Action::ManageAccounts`; every change is audited by the
//! store in the same transaction.

use crate::base::auth;
use crate::base::error::{permit_municipality, AppError};
use crate::base::session::actor_of;
use crate::base::AppState;
use axum::Router;
use serde::{Deserialize, Serialize};
use tsunagu_domain::audit::{AuditContext, Requester};
use tsunagu_domain::password::check_new_password;
use tsunagu_domain::policy::Action;
use tsunagu_domain::roles::{FamilyRelation, Role, ScopeKind};
use tsunagu_domain::validation::FieldErrors;
use tsunagu_domain::{AccountId, AreaId, FamilyId, VenueId};
use tsunagu_store::{Account, NewAccount};

pub mod api;
mod api_doc;
pub mod pages;

/// What this capability's API operations are, for the API's OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    <api_doc::ApiDoc as utoipa::OpenApi>::openapi()
}

/// The administrator's pages and API.
pub fn routes() -> Router<AppState> {
    Router::new().merge(api::routes()).merge(pages::routes())
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountInput {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub password: String,
    #[serde(default)]
    pub areas: Vec<i64>,
    #[serde(default)]
    pub venues: Vec<i64>,
    #[serde(default)]
    pub family_id: Option<i64>,
    /// For a family member: `mother` or `partner` (the partner sees what the mother shares).
    #[serde(default)]
    pub family_relation: Option<String>,
}

/// An account as shown to administrators: never the hash or the secret.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccountView {
    pub id: AccountId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    pub totp_enrolled: bool,
    pub family_id: Option<FamilyId>,
    pub family_relation: Option<FamilyRelation>,
    pub areas: Vec<AreaId>,
    pub venues: Vec<VenueId>,
}

impl From<&Account> for AccountView {
    fn from(a: &Account) -> Self {
        Self {
            id: a.id,
            username: a.username.clone(),
            display_name: a.display_name.clone(),
            role: a.role,
            disabled: a.disabled,
            totp_enrolled: a.totp_secret.is_some(),
            family_id: a.family_id,
            family_relation: a.family_relation,
            areas: a.areas.clone(),
            venues: a.venues.clone(),
        }
    }
}

fn check_username(errors: &mut FieldErrors, u: &str) {
    let ok_chars = u.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if u.is_empty() {
        errors.add("username", "required");
    } else if u.len() > 40 {
        errors.add("username", "too_long");
    } else if !ok_chars {
        errors.add("username", "invalid");
    }
}

pub async fn create(
    state: &AppState,
    admin: &Account,
    requester: &Requester,
    input: AccountInput,
) -> Result<Account, AppError> {
    let ctx = &managing(admin, requester)?;
    let mut errors = FieldErrors::default();
    let username = input.username.trim().to_owned();
    check_username(&mut errors, &username);
    let display_name = input.display_name.trim().to_owned();
    if display_name.is_empty() {
        errors.add("display_name", "required");
    } else if display_name.chars().count() > 50 {
        errors.add("display_name", "too_long");
    }
    // Role: the role of the account being made, checked as input (which scope
    // and family it needs); what it may then do is the policy's.
    let role = Role::parse(input.role.trim());
    if role.is_none() {
        errors.add("role", "invalid_choice");
    }
    if let Err(e) = check_new_password(&input.password) {
        errors.add("password", e.code());
    }
    match role.and_then(Role::scope_kind) {
        Some(ScopeKind::Area) if input.areas.is_empty() => errors.add("areas", "scope_required"),
        Some(ScopeKind::Venue) if input.venues.is_empty() => errors.add("venues", "scope_required"),
        _ => {}
    }
    if role == Some(Role::FamilyMember) && input.family_id.is_none() {
        errors.add("family_id", "family_required");
    }
    if role.is_some() && role != Some(Role::FamilyMember) && input.family_id.is_some() {
        errors.add("family_id", "invalid");
    }
    let relation = input.family_relation.as_deref().map(str::trim).filter(|r| !r.is_empty());
    let family_relation = match (role, relation) {
        (Some(Role::FamilyMember), None) => {
            errors.add("family_relation", "required");
            None
        }
        (Some(Role::FamilyMember), Some(r)) => {
            let parsed = FamilyRelation::parse(r);
            if parsed.is_none() {
                errors.add("family_relation", "invalid_choice");
            }
            parsed
        }
        (_, Some(_)) => {
            errors.add("family_relation", "invalid");
            None
        }
        (_, None) => None,
    };
    let Some(role) = role.filter(|_| errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let password_hash = auth::hash_password_blocking(&state.hashing, input.password).await?;
    let scope = role.scope_kind();
    let new = NewAccount {
        municipality_id: admin.municipality_id,
        username,
        display_name,
        role,
        password_hash,
        totp_secret: None,
        family_id: input.family_id.map(FamilyId),
        family_relation,
        areas: if scope == Some(ScopeKind::Area) { input.areas.into_iter().map(AreaId).collect() } else { vec![] },
        venues: if scope == Some(ScopeKind::Venue) { input.venues.into_iter().map(VenueId).collect() } else { vec![] },
        rooms: vec![],
        created_at: ctx.at,
    };
    Ok(state.store.create_account(Some(ctx), &new).await?)
}

/// The administrator's decision (the policy's `ManageAccounts`) as the
/// context of a change.
fn managing(admin: &Account, requester: &Requester) -> Result<AuditContext, AppError> {
    Ok(requester.allowed(&permit_municipality(&actor_of(admin), Action::ManageAccounts)?))
}

/// The account, if it belongs to the administrator's municipality.
async fn own_account(state: &AppState, admin: &Account, id: AccountId) -> Result<Account, AppError> {
    match state.store.account(admin.municipality_id, id).await? {
        Some(a) if a.municipality_id == admin.municipality_id => Ok(a),
        _ => Err(AppError::NotFound),
    }
}

pub async fn set_disabled(
    state: &AppState,
    admin: &Account,
    requester: &Requester,
    id: AccountId,
    disabled: bool,
) -> Result<(), AppError> {
    let ctx = &managing(admin, requester)?;
    let target = own_account(state, admin, id).await?;
    // The store refuses the municipality's last active administrator,
    // the caller's own account included (`admins::keeps_an_administrator`,
    // decided in the change's transaction): `Conflict("last_administrator")`.
    // Another administrator remaining, one may disable one's own account.
    state.store.set_disabled(ctx, target.id, disabled).await?;
    // Whoever keeps a decision about the account (a live socket) decides again.
    state.events.publish_change(crate::base::events::ACCOUNT_EVENT, target.municipality_id.0, target.id.0);
    Ok(())
}

pub async fn reset_password(
    state: &AppState,
    admin: &Account,
    requester: &Requester,
    id: AccountId,
    password: &str,
) -> Result<(), AppError> {
    let ctx = &managing(admin, requester)?;
    let target = own_account(state, admin, id).await?;
    if let Err(e) = check_new_password(password) {
        let mut errors = FieldErrors::default();
        errors.add("password", e.code());
        return Err(AppError::Invalid(errors));
    }
    let hash = auth::hash_password_blocking(&state.hashing, password.to_owned()).await?;
    state.store.set_password(Some(ctx), target.id, &hash).await?;
    // The account's sessions ended with it: their sockets close (on every node).
    state.events.publish_change(crate::base::events::SESSION_EVENT, target.municipality_id.0, target.id.0);
    Ok(())
}

pub async fn reset_totp(
    state: &AppState,
    admin: &Account,
    requester: &Requester,
    id: AccountId,
) -> Result<(), AppError> {
    let ctx = &managing(admin, requester)?;
    let target = own_account(state, admin, id).await?;
    state.store.set_totp_secret(Some(ctx), target.id, None).await?;
    // The account's sessions ended with it: their sockets close (on every node).
    state.events.publish_change(crate::base::events::SESSION_EVENT, target.municipality_id.0, target.id.0);
    Ok(())
}

/// An audit search as asked for (the API's query string and the page's form).
#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditParams {
    #[serde(default)]
    pub actor: Option<i64>,
    #[serde(default)]
    pub family: Option<i64>,
    #[serde(default)]
    pub action: Option<String>,
    /// The sequence number to page from.
    #[serde(default)]
    pub before: Option<i64>,
    #[serde(default)]
    pub limit: Option<u32>,
}

impl AuditParams {
    pub(crate) fn query(&self) -> Result<tsunagu_store::AuditQuery, AppError> {
        let action = match self.action.as_deref().filter(|a| !a.is_empty()) {
            None => None,
            Some(a) => Some(tsunagu_domain::audit::AuditAction::parse(a).ok_or(AppError::BadRequest("bad_query"))?),
        };
        Ok(tsunagu_store::AuditQuery {
            actor: self.actor.map(AccountId),
            family_id: self.family.map(tsunagu_domain::FamilyId),
            action,
            from: None,
            to: None,
            before_seq: self.before,
            limit: self.limit.unwrap_or(100).clamp(1, 500),
        })
    }
}
