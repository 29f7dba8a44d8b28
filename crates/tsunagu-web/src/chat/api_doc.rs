//! What the chat API answers, for the OpenAPI document, and its operations.

#![allow(dead_code)] // Described, never built: the handlers answer the same shape.

use crate::chat::{EscalationView, HealthView, MessageView, RoomView, SupporterView};
use tsunagu_domain::chat::helplines::HelpLine;
use tsunagu_domain::RoomId;
use utoipa::ToSchema;

/// The room a parent's new chat account has.
#[derive(ToSchema)]
pub struct Joined {
    room: RoomId,
}

#[derive(ToSchema)]
pub struct RoomList {
    rooms: Vec<RoomView>,
}

#[derive(ToSchema)]
pub struct MessageList {
    messages: Vec<MessageView>,
}

#[derive(ToSchema)]
pub struct EscalationList {
    escalations: Vec<EscalationView>,
}

#[derive(ToSchema)]
pub struct SupporterList {
    supporters: Vec<SupporterView>,
}

#[derive(ToSchema)]
pub struct HealthList {
    rooms: Vec<HealthView>,
}

#[derive(ToSchema)]
pub struct HelpLineList {
    help_lines: Vec<HelpLine>,
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        super::api::create_invitation,
        super::api::join,
        super::api::list_rooms,
        super::api::list_messages,
        super::api::create_message,
        super::api::mark_read,
        super::api::create_escalation,
        super::api::list_escalations,
        super::api::register_supporter,
        super::api::list_supporters,
        super::api::set_supporter_state,
        super::api::team_suggestions,
        super::api::set_team,
        super::api::health,
        super::api::list_help_lines,
        super::api::set_help_lines,
        super::line::set_line_channel
    ),
    tags((name = "chat", description = "Peer-support chat: rooms, messages, supporters, teams, escalation"))
)]
pub struct ApiDoc;
