//! The API's OpenAPI document, generated from the handlers: each capability
//! describes its operations with `#[utoipa::path]` on its handlers and
//! collects them in its own `api_doc.rs`; `lib.rs` hands them all to
//! [`document`], as it merges the routers. What every operation shares is
//! added here, from the operation's shape, so that no handler repeats it:
//!
//! - the caller's bearer token (global; an operation with `security(())`
//!   needs none), so 401 wherever one is needed;
//! - 400 for a body that is no JSON of the shape (`invalid_json`), sent as
//!   another type (`unsupported_media_type`) or a query that does not read
//!   (`bad_query`); 413 for a body over the limit;
//! - 404 for a path parameter that names nothing (or does not read as its type);
//! - 500 and 503 (`#/components/responses/Unavailable`) everywhere;
//! - every error answer the handler lists without a body gets the shared
//!   `Error` schema; 429 is `#/components/responses/TooManyRequests`, and a
//!   listed 503 (`busy`) carries `Retry-After`.
//!
//! The document is built once, at the first request for it.

use crate::base::AppState;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value};
use std::sync::{Arc, OnceLock};
use utoipa::ToSchema;

/// The body of every failure under `/api/`, the framework's own rejections included.
#[derive(ToSchema)]
#[schema(as = Error)]
#[allow(dead_code)]
pub struct ErrorDoc {
    error: ErrorDetailDoc,
}

/// What went wrong.
#[derive(ToSchema)]
#[schema(as = ErrorDetail)]
#[allow(dead_code)]
struct ErrorDetailDoc {
    /// A stable code (`not_found`, `invalid_input`, `bad_query`, `busy`, …).
    code: String,
    /// The same in English, for people.
    message: String,
    /// For `invalid_input`: each field that did not pass and why.
    fields: Option<Vec<FieldErrorDoc>>,
    /// For `invalid_json`: what did not fit.
    detail: Option<String>,
}

/// One field that did not pass.
#[derive(ToSchema)]
#[schema(as = FieldError)]
#[allow(dead_code)]
struct FieldErrorDoc {
    field: String,
    code: String,
}

/// Something made: its id.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Created {
    id: i64,
}

/// A referral as a nurse sees it (`ManageReferrals`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ReferralFull {
    id: tsunagu_domain::ReferralId,
    family_id: tsunagu_domain::FamilyId,
    pregnancy_id: Option<tsunagu_domain::PregnancyId>,
    status: tsunagu_domain::referrals::ReferralStatus,
    urgent: bool,
    source: tsunagu_domain::referrals::ConcernSource,
    raised_by_role: tsunagu_domain::roles::Role,
    escalated: bool,
    specified_expectant_mother: bool,
    close_reason: Option<tsunagu_domain::referrals::CloseReason>,
    note: String,
    raised_at: jiff::Timestamp,
    venue_id: Option<tsunagu_domain::VenueId>,
    application_id: Option<tsunagu_domain::ApplicationId>,
    mother_name: String,
}

/// A referral as the one who raised it sees it: where it stands, no more.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ReferralStatusOnly {
    id: tsunagu_domain::ReferralId,
    status: tsunagu_domain::referrals::ReferralStatus,
    raised_at: jiff::Timestamp,
    application_id: Option<tsunagu_domain::ApplicationId>,
}

/// A referral in a list: in full for a nurse, its status for anyone else.
#[derive(ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum ReferralItem {
    Full(ReferralFull),
    StatusOnly(ReferralStatusOnly),
}

/// What every capability's part refers to without naming it.
#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(ErrorDoc)))]
struct Shared;

const DESCRIPTION: &str = "The JSON API of tsunagu (つなぐ). Every call but token issue and the public \
quote needs `Authorization: Bearer <token>`; the same authorization policy and audit as the pages apply. \
Errors are `{\"error\": {\"code\", \"message\", \"fields\"?, \"detail\"?}}` — every error under `/api/`, \
the framework's own rejections included. Any operation may answer 503 \
(`#/components/responses/Unavailable`); sign-in may answer 429 (`#/components/responses/TooManyRequests`).";

/// The whole document: every capability's operations, the shared
/// components, and the answers every operation shares added to each.
pub fn document(parts: impl IntoIterator<Item = utoipa::openapi::OpenApi>) -> Value {
    let mut api = utoipa::openapi::OpenApiBuilder::new()
        .info(utoipa::openapi::InfoBuilder::new().title("tsunagu API").version("1").description(Some(DESCRIPTION)))
        .build();
    api.merge(<Shared as utoipa::OpenApi>::openapi());
    for part in parts {
        api.merge(part);
    }
    let mut doc = serde_json::to_value(&api).unwrap_or(Value::Null);
    let Some(root) = doc.as_object_mut() else {
        return doc;
    };
    root.insert("security".into(), json!([{ "bearer": [] }]));
    let components = root.entry("components").or_insert_with(|| json!({}));
    if let Some(c) = components.as_object_mut() {
        shared_components(c);
    }
    if let Some(paths) = root.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else { continue };
            for (_, op) in item.iter_mut() {
                if let Some(op) = op.as_object_mut() {
                    shared_answers(path, op);
                }
            }
        }
    }
    doc
}

fn retry_after() -> Value {
    json!({
        "description": "Seconds to wait before trying again",
        "schema": { "type": "integer", "minimum": 1 }
    })
}

fn error_content() -> Value {
    json!({ "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } })
}

fn shared_components(c: &mut Map<String, Value>) {
    let schemes = c.entry("securitySchemes").or_insert_with(|| json!({}));
    if let Some(s) = schemes.as_object_mut() {
        s.insert("bearer".into(), json!({ "type": "http", "scheme": "bearer" }));
    }
    let responses = c.entry("responses").or_insert_with(|| json!({}));
    if let Some(r) = responses.as_object_mut() {
        r.insert(
            "TooManyRequests".into(),
            json!({
                "description": "Too many failed sign-ins for the account or from the address within the window \
                    (`error.code` is `too_many_attempts`); try again after `Retry-After` seconds.",
                "headers": { "Retry-After": retry_after() },
                "content": error_content(),
            }),
        );
        r.insert(
            "Unavailable".into(),
            json!({
                "description": "The database cannot be reached (`error.code` is `unavailable`): the request \
                    changed nothing and may be retried.",
                "content": error_content(),
            }),
        );
    }
}

/// Adds to one operation what its shape says it may answer.
fn shared_answers(path: &str, op: &mut Map<String, Value>) {
    let anonymous = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().all(|r| r.as_object().is_some_and(Map::is_empty)));
    let has_body = op.contains_key("requestBody");
    let params = op.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
    let has_query = params.iter().any(|p| p["in"] == "query");
    let has_path = path.contains('{');
    let responses = op.entry("responses").or_insert_with(|| json!({}));
    let Some(responses) = responses.as_object_mut() else { return };
    let mut add = |status: &str, description: &str| {
        responses.entry(status).or_insert_with(|| json!({ "description": description }));
    };
    if has_body || has_query {
        add("400", "The body is no JSON of this shape (`invalid_json`, `unsupported_media_type`) or the query does not read (`bad_query`)");
    }
    if has_body {
        add("413", "The body is over the size limit (`payload_too_large`)");
    }
    if !anonymous {
        add("401", "No valid bearer token (`unauthenticated`)");
    }
    if has_path {
        add("404", "Nothing of that id, or none the caller may see (`not_found`)");
    }
    add("500", "An error of the service's own (`internal`)");
    for (status, answer) in responses.iter_mut() {
        let Some(answer) = answer.as_object_mut() else { continue };
        if !status.starts_with('4') && !status.starts_with('5') {
            continue;
        }
        if status == "429" {
            *answer =
                json!({ "$ref": "#/components/responses/TooManyRequests" }).as_object().cloned().unwrap_or_default();
            continue;
        }
        if status == "503" {
            answer.insert("headers".into(), json!({ "Retry-After": retry_after() }));
        }
        if !answer.contains_key("$ref") {
            answer.entry("content").or_insert_with(error_content);
        }
    }
    responses.entry("503").or_insert_with(|| json!({ "$ref": "#/components/responses/Unavailable" }));
}

/// `GET /api/openapi.json`: the document `build` makes, made at the first request.
pub fn routes(build: fn() -> Value) -> Router<AppState> {
    let cell: Arc<OnceLock<String>> = Arc::new(OnceLock::new());
    Router::new().route(
        "/api/openapi.json",
        get(move || {
            let cell = cell.clone();
            async move {
                let text = cell.get_or_init(|| build().to_string());
                ([(axum::http::header::CONTENT_TYPE, "application/json")], text.clone()).into_response()
            }
        }),
    )
}
