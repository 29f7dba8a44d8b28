//! Who is asking: the session (cookie, for pages) or bearer token (API),
//! resolved into an [`Actor`] before any handler runs.
//!
//! Tokens are 256 random bits; only their SHA-256 is stored. A session
//! ends after `idle_timeout` without use or `absolute_timeout` after
//! sign-in, when its account is disabled, or when its password or second
//! factor is reset. Every form carries the session's CSRF token.

use crate::base::error::AppError;
use crate::base::AppState;
use crate::i18n::Lang;
use axum::extract::{ConnectInfo, FromRequestParts, RawPathParams};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use jiff::{SignedDuration, Timestamp};
use std::net::SocketAddr;
use subtle::ConstantTimeEq;
use tsunagu_domain::audit::Requester;
use tsunagu_domain::policy::FamilyAccess;
use tsunagu_domain::roles::{Actor, Role};
use tsunagu_domain::FamilyId;
use tsunagu_store::{parse_session_token, Account, Session, SessionStage};

pub const SESSION_COOKIE: &str = "tsunagu_session";
pub const LANG_COOKIE: &str = "tsunagu_lang";
/// Double-submit token for forms shown before sign-in.
pub const PRE_CSRF_COOKIE: &str = "tsunagu_csrf";
/// The municipality last signed in to, preselected on the sign-in page (a public code, not personal data).
pub const MUNICIPALITY_COOKIE: &str = "tsunagu_municipality";

/// Touch `last_seen_at` at most this often, to spare the database a write per request.
const TOUCH_EVERY: SignedDuration = SignedDuration::from_secs(60);

pub fn cookie_value<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value with the attributes every cookie of ours carries.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age_secs: Option<i64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age_secs {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if state.config.secure_cookies {
        c.push_str("; Secure");
    }
    c
}

pub fn clear_cookie(state: &AppState, name: &str) -> String {
    set_cookie(state, name, "", Some(0))
}

/// Everything about the request that is not its body: language, client
/// address, and the signed-in account if any.
pub struct RequestCtx {
    pub lang: Lang,
    pub remote_addr: String,
    pub session: Option<(Session, Account)>,
    /// Pre-sign-in CSRF token from the cookie, if any.
    pub pre_csrf: Option<String>,
    /// The municipality code last signed in to on this browser.
    pub last_municipality: Option<String>,
    pub now: Timestamp,
}

impl RequestCtx {
    /// The fully signed-in account, or `Unauthenticated`.
    pub fn signed_in(&self) -> Result<(&Session, &Account), AppError> {
        match &self.session {
            Some((s, a)) if s.stage == SessionStage::Full => Ok((s, a)),
            _ => Err(AppError::Unauthenticated),
        }
    }

    pub fn csrf_token(&self) -> String {
        match &self.session {
            Some((s, _)) => s.csrf_token.expose().to_owned(),
            None => self.pre_csrf.clone().unwrap_or_default(),
        }
    }

    /// Checks a form's CSRF token against the session's (or the pre-sign-in cookie's).
    pub fn check_csrf(&self, sent: &str) -> Result<(), AppError> {
        let want = self.csrf_token();
        if !want.is_empty() && bool::from(want.as_bytes().ct_eq(sent.as_bytes())) {
            Ok(())
        } else {
            Err(AppError::BadRequest("csrf"))
        }
    }
}

/// The client's address: the connection's, or behind trusted proxies the
/// entry of `X-Forwarded-For` the outermost of them added (never what the
/// client itself wrote there).
fn remote_addr(parts: &Parts, state: &AppState) -> String {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let forwarded = parts.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
    crate::base::forwarded::client_addr(forwarded, peer, state.config.forwarded_hops())
        .map(|ip| ip.to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Japanese first: English only when the reader chose it (the switch sets a cookie).
fn lang_of(parts: &Parts) -> Lang {
    cookie_value(parts, LANG_COOKIE).and_then(Lang::parse).unwrap_or_default()
}

/// Resolves a token to a live session and an enabled account, ending the
/// session if it has timed out.
pub async fn resolve_token(
    state: &AppState,
    token: &str,
    now: Timestamp,
) -> Result<Option<(Session, Account)>, AppError> {
    Ok(resolve(state, token, now, None).await?.map(|(session, account, _)| (session, account)))
}

/// [`resolve_token`], and with `family` what the policy needs to decide on
/// that family in the caller's municipality, read in the same round trip
/// (#16) and only handed on with a live session.
async fn resolve(
    state: &AppState,
    token: &str,
    now: Timestamp,
    family: Option<FamilyId>,
) -> Result<Option<(Session, Account, Option<FamilyAccess>)>, AppError> {
    let Some((m, hash)) = parse_session_token(token) else {
        return Ok(None);
    };
    // The session and its account in one read (#16); the account is only
    // looked at once the session is known to be live, as before.
    let found = match family {
        None => state.store.session_with_account(m, &hash).await?.map(|(s, a)| (s, a, None)),
        Some(family) => state.store.session_with_family_access(m, &hash, family).await?,
    };
    let Some((session, account, access)) = found else {
        return Ok(None);
    };
    let idle = SignedDuration::try_from(state.config.idle_timeout).unwrap_or(SignedDuration::ZERO);
    let absolute = SignedDuration::try_from(state.config.absolute_timeout).unwrap_or(SignedDuration::ZERO);
    let expired = now.duration_since(session.last_seen_at) > idle || now.duration_since(session.created_at) > absolute;
    if expired {
        state.store.delete_session(m, &hash).await?;
        return Ok(None);
    }
    let Some(account) = account else {
        return Ok(None);
    };
    if account.disabled {
        state.store.delete_session(m, &hash).await?;
        return Ok(None);
    }
    if now.duration_since(session.last_seen_at) > TOUCH_EVERY {
        state.store.touch_session(m, &hash, now).await?;
    }
    Ok(Some((session, account, access)))
}

impl FromRequestParts<AppState> for RequestCtx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let now = state.clock.now();
        let token = cookie_value(parts, SESSION_COOKIE).map(str::to_owned);
        let session = match token {
            Some(t) => resolve_token(state, &t, now).await?,
            None => None,
        };
        Ok(RequestCtx {
            lang: lang_of(parts),
            remote_addr: remote_addr(parts, state),
            session,
            pre_csrf: cookie_value(parts, PRE_CSRF_COOKIE).map(str::to_owned),
            last_municipality: cookie_value(parts, MUNICIPALITY_COOKIE).map(str::to_owned),
            now,
        })
    }
}

pub fn actor_of(account: &Account) -> Actor {
    Actor {
        account_id: account.id,
        municipality_id: account.municipality_id,
        role: account.role,
        family_id: account.family_id,
        relation: account.family_relation,
        areas: account.areas.clone(),
        venues: account.venues.clone(),
        rooms: account.rooms.clone(),
    }
}

pub fn audit_ctx(account: &Account, remote_addr: &str, reason: &str, at: Timestamp) -> Requester {
    Requester {
        municipality_id: account.municipality_id,
        actor: account.id,
        role: account.role,
        remote_addr: remote_addr.to_owned(),
        reason: reason.to_owned(),
        at,
    }
}

/// A signed-in caller of the JSON API (bearer token from `POST /api/v1/auth/token`).
pub struct ApiCaller {
    pub account: Account,
    pub actor: Actor,
    pub remote_addr: String,
    pub token_hash: String,
    pub now: Timestamp,
}

impl ApiCaller {
    pub fn audit(&self, reason: &str) -> Requester {
        audit_ctx(&self.account, &self.remote_addr, reason, self.now)
    }

    pub fn role(&self) -> Role {
        self.account.role
    }

    /// The caller a live, fully signed-in session makes.
    fn of(
        parts: &Parts,
        state: &AppState,
        session: Session,
        account: Account,
        now: Timestamp,
    ) -> Result<Self, AppError> {
        if session.stage != SessionStage::Full {
            return Err(AppError::Unauthenticated);
        }
        Ok(ApiCaller {
            actor: actor_of(&account),
            remote_addr: remote_addr(parts, state),
            token_hash: session.token_hash,
            account,
            now,
        })
    }
}

/// The bearer token of an API request, or `Unauthenticated`.
fn bearer(parts: &Parts) -> Result<&str, AppError> {
    parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or(AppError::Unauthenticated)
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = crate::base::error::ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let now = state.clock.now();
        let (session, account) = resolve_token(state, bearer(parts)?, now).await?.ok_or(AppError::Unauthenticated)?;
        Ok(ApiCaller::of(parts, state, session, account, now)?)
    }
}

/// An API caller on the one family its path names (`/…/{id}`), with what
/// the policy needs to decide on that family: both read in one round trip
/// (#16). `access` is `None` when the family is not in the caller's
/// municipality; the handler asks the policy ([`crate::base::access::decide_on_family`])
/// before it reads anything of the family. A path whose `{id}` is no family
/// id is answered as `ApiPath` answers it (404), after the caller is known.
pub struct ApiFamilyCaller {
    pub caller: ApiCaller,
    pub family: FamilyId,
    pub access: Option<FamilyAccess>,
}

impl FromRequestParts<AppState> for ApiFamilyCaller {
    type Rejection = crate::base::error::ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // The path's `{id}`, whatever else the route's path holds.
        let id = match RawPathParams::from_request_parts(parts, state).await {
            Ok(params) => params.iter().find(|(name, _)| *name == "id").map(|(_, v)| v.parse::<i64>().ok()),
            Err(_) => Some(None),
        };
        let family = match id {
            Some(Some(id)) => FamilyId(id),
            Some(None) => {
                // Who asks comes first, as for a handler taking `ApiCaller`, then `ApiPath`.
                ApiCaller::from_request_parts(parts, state).await?;
                return Err(AppError::NotFound.into());
            }
            None => {
                tracing::error!("route without the {{id}} its handler's ApiFamilyCaller reads");
                return Err(AppError::Internal.into());
            }
        };
        let now = state.clock.now();
        let (session, account, access) =
            resolve(state, bearer(parts)?, now, Some(family)).await?.ok_or(AppError::Unauthenticated)?;
        Ok(ApiFamilyCaller { caller: ApiCaller::of(parts, state, session, account, now)?, family, access })
    }
}
