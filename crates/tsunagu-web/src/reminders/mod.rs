//! Reminders (#10): a family member's own choice of e-mail reminders of the
//! family's bookings and stays (an address, on or off, how many days ahead),
//! on a page reachable from わが家の記録. The rules are the domain's
//! `reminders`; the job that sends them is `tsunagu::reminders` (the SMTP
//! client `tsunagu::smtp`).
//!
//! Web push: the page's switch subscribes the browser (`pushManager` with the
//! service's VAPID public key, in `family.js`) and sends the subscription
//! here — the page's form and the JSON API (`api.rs`) parse into the same
//! checked `tsunagu_domain::push::SubscriptionInput` and call [`subscribe`]
//! / [`unsubscribe`]; the job pushes with `tsunagu::push`.

use crate::base::error::AppError;
use crate::base::session::audit_ctx;
use crate::base::AppState;
use axum::Router;
use jiff::Timestamp;
use tsunagu_domain::policy::Action;
use tsunagu_domain::push::SubscriptionInput;
use tsunagu_domain::roles::Actor;
use tsunagu_store::Account;

mod api;
mod api_doc;
pub mod pages;

/// What this capability's API operations are, for the API's OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    <api_doc::ApiDoc as utoipa::OpenApi>::openapi()
}

/// The reminders' page and the push subscriptions' API.
pub fn routes() -> Router<AppState> {
    Router::new().merge(pages::routes()).merge(api::routes())
}

/// Who changes a push subscription, from where and when.
pub(crate) struct Caller<'a> {
    pub account: &'a Account,
    pub actor: &'a Actor,
    pub remote_addr: &'a str,
    pub now: Timestamp,
}

/// Keeps the caller's browser subscription for its own family: refused
/// (`push_unavailable`) when this node sends no push, by the policy
/// (`SetReminders` on the family: one's own reminders), then checked; one
/// `push.subscribe` line.
pub(crate) async fn subscribe(state: &AppState, c: &Caller<'_>, input: &SubscriptionInput) -> Result<(), AppError> {
    if state.config.push_public_key.is_none() {
        return Err(AppError::Conflict("push_unavailable"));
    }
    let family = c.account.family_id.ok_or(AppError::Forbidden)?;
    let (_, allowed) = crate::base::access::family_for(state, c.actor, family, Action::SetReminders).await?;
    let sub = input.check().map_err(AppError::Invalid)?;
    let ctx = audit_ctx(c.account, c.remote_addr, "own push subscription", c.now).allowed(&allowed);
    state.store.add_push_subscription(&ctx, family, &sub).await?;
    Ok(())
}

/// Removes the caller's own subscription of `endpoint` (true when there was
/// one); one `push.unsubscribe` line.
pub(crate) async fn unsubscribe(state: &AppState, c: &Caller<'_>, endpoint: &str) -> Result<bool, AppError> {
    let family = c.account.family_id.ok_or(AppError::Forbidden)?;
    let (_, allowed) = crate::base::access::family_for(state, c.actor, family, Action::SetReminders).await?;
    let endpoint = endpoint.trim();
    if endpoint.is_empty() || endpoint.len() > tsunagu_domain::push::MAX_ENDPOINT_LEN {
        let mut errors = tsunagu_domain::validation::FieldErrors::default();
        errors.add("endpoint", if endpoint.is_empty() { "required" } else { "invalid_endpoint" });
        return Err(AppError::Invalid(errors));
    }
    let ctx = audit_ctx(c.account, c.remote_addr, "own push subscription", c.now).allowed(&allowed);
    Ok(state.store.remove_push_subscription(&ctx, family, endpoint).await?)
}
