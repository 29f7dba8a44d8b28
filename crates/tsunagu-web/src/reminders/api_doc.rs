//! The reminders' API operations for the OpenAPI document: a browser's push
//! subscription kept and removed (#10). The e-mail settings are a page only.

#![allow(dead_code)] // Described, never built: the handlers answer the same shape.

use utoipa::ToSchema;

/// A subscription kept.
#[derive(ToSchema)]
pub struct PushSubscribed {
    /// Always true.
    subscribed: bool,
}

/// A subscription removed.
#[derive(ToSchema)]
pub struct PushRemoved {
    /// Whether the caller had a subscription with that endpoint.
    removed: bool,
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(super::api::subscribe, super::api::unsubscribe),
    components(schemas(PushSubscribed, PushRemoved, super::api::PushSubscriptionBody, super::api::PushKeys, super::api::PushEndpointBody)),
    tags((name = "reminders", description = "Reminders (#10): a family member's browser subscribed to web push"))
)]
pub struct ApiDoc;
