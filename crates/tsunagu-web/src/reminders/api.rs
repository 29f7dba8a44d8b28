//! Web push subscriptions in the JSON API (#10): a family member's browser
//! subscribes (`PushSubscription.toJSON()` as sent by the browser) and
//! unsubscribes. The same checked input and the same functions as the page.

use crate::base::api::ApiJson;
use crate::base::error::ApiError;
use crate::base::session::ApiCaller;
use crate::base::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use tsunagu_domain::push::SubscriptionInput;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me/push-subscriptions", post(subscribe))
        .route("/api/v1/me/push-subscriptions/remove", post(unsubscribe))
}

/// The browser's keys of a subscription (base64url).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PushKeys {
    /// The browser's P-256 public key (65 bytes, uncompressed), base64url.
    pub p256dh: String,
    /// The browser's auth secret (16 bytes), base64url.
    pub auth: String,
}

/// A browser's push subscription, as `PushSubscription.toJSON()` gives it.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PushSubscriptionBody {
    /// The push service's URL for this browser (https).
    pub endpoint: String,
    /// When the browser lets the subscription lapse (ignored).
    #[serde(default, rename = "expirationTime")]
    #[allow(dead_code)]
    pub expiration_time: Option<f64>,
    pub keys: PushKeys,
}

/// Which subscription to remove.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PushEndpointBody {
    /// The subscription's endpoint.
    pub endpoint: String,
}

fn caller_of(c: &ApiCaller) -> super::Caller<'_> {
    super::Caller { account: &c.account, actor: &c.actor, remote_addr: &c.remote_addr, now: c.now }
}

/// Subscribe this browser to push reminders of the family's bookings, stays and set contacts
#[utoipa::path(post, path = "/api/v1/me/push-subscriptions", tag = "reminders",
    request_body = PushSubscriptionBody,
    responses(
        (status = 201, description = "Kept", body = super::api_doc::PushSubscribed),
        (status = 403, description = "Not a family member (`forbidden`)"),
        (status = 409, description = "This service sends no push (`push_unavailable`)"),
        (status = 422, description = "Fields that did not pass: `endpoint` (`required`, `invalid_endpoint`), `p256dh`, `auth` (`invalid_key`)")))]
async fn subscribe(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(body): ApiJson<PushSubscriptionBody>,
) -> Result<Response, ApiError> {
    let input = SubscriptionInput { endpoint: body.endpoint, p256dh: body.keys.p256dh, auth: body.keys.auth };
    super::subscribe(&state, &caller_of(&caller), &input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "subscribed": true }))).into_response())
}

/// Unsubscribe a browser
#[utoipa::path(post, path = "/api/v1/me/push-subscriptions/remove", tag = "reminders",
    request_body = PushEndpointBody,
    responses(
        (status = 200, description = "Removed (`removed`: whether there was one)", body = super::api_doc::PushRemoved),
        (status = 403, description = "Not a family member (`forbidden`)"),
        (status = 422, description = "`endpoint` missing or too long (`invalid_input`)")))]
async fn unsubscribe(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(body): ApiJson<PushEndpointBody>,
) -> Result<Response, ApiError> {
    let removed = super::unsubscribe(&state, &caller_of(&caller), &body.endpoint).await?;
    Ok(Json(json!({ "removed": removed })).into_response())
}
