//! What the accounts' API answers, for the OpenAPI document, and its operations.

#![allow(dead_code)] // Described, never built: the handlers answer the same shape.

use utoipa::ToSchema;

/// The municipality's accounts.
#[derive(ToSchema)]
pub struct AccountList {
    accounts: Vec<crate::accounts::AccountView>,
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        super::api::list_accounts,
        super::api::create_account,
        super::api::disable_account,
        super::api::enable_account,
        super::api::reset_password,
        super::api::reset_totp,
        super::api::search_audit
    ),
    tags((name = "accounts", description = "Accounts and the audit log, for the administrator"))
)]
pub struct ApiDoc;
