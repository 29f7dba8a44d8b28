//! The one error type of the HTTP edge. Handlers return `AppError`; the API
//! answers with a structured JSON body, pages with a page in the reader's
//! language. Nothing personal goes into either, nor into the log.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tsunagu_domain::validation::FieldErrors;
use tsunagu_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("sign-in required")]
    Unauthenticated,
    #[error("forbidden")]
    Forbidden,
    /// The policy's `NotShared`: a partner's account on what the mother has
    /// not shared, or after a nurse turned the partner's view off. The API
    /// answers it as any refusal (`forbidden`); a page shows a neutral
    /// page that says neither which nor why.
    #[error("not shared")]
    NotShared,
    #[error("not found")]
    NotFound,
    #[error("invalid input")]
    Invalid(FieldErrors),
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// A JSON body that does not parse or has the wrong shape, with the
    /// parser's explanation (returned to the sender, never logged).
    #[error("invalid JSON body")]
    BadJson(String),
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("payload too large")]
    TooLarge,
    #[error("too many attempts")]
    TooManyAttempts,
    /// Sign-in refused for a while after too many failures (429 `too_many_attempts`, with `Retry-After`).
    #[error("signing in is locked for a while")]
    Locked { retry_after_secs: u64 },
    /// No turn to hash a password in time (503 `busy`, with `Retry-After`).
    #[error("busy")]
    Busy { retry_after_secs: u64 },
    #[error("unavailable")]
    Unavailable,
    #[error("internal error")]
    Internal,
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::OutsideTheDecision(e) => {
                tracing::error!(error = %e, "store reached outside the policy's decision");
                AppError::Forbidden
            }
            StoreError::Conflict(c) => AppError::Conflict(c),
            StoreError::Invalid(errors) => AppError::Invalid(errors),
            StoreError::InvalidReference(field) => {
                let mut errors = FieldErrors::default();
                errors.add(field, "unknown_reference");
                AppError::Invalid(errors)
            }
            StoreError::Unavailable(source) => {
                tracing::warn!(error = %source, "database unavailable");
                AppError::Unavailable
            }
            StoreError::Other(source) => {
                tracing::error!(error = %source, "database error");
                AppError::Internal
            }
        }
    }
}

impl From<crate::base::auth::AuthError> for AppError {
    fn from(e: crate::base::auth::AuthError) -> Self {
        if let crate::base::auth::AuthError::Busy { retry_after_secs } = e {
            tracing::warn!(outcome = "busy", "no turn to hash a password");
            return AppError::Busy { retry_after_secs };
        }
        tracing::error!(error = %e, "auth primitive failed");
        AppError::Internal
    }
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::NotShared => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::BadRequest(_) | AppError::BadJson(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyAttempts | AppError::Locked { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable | AppError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code in the API body (`error.code`) and the i18n key suffix in pages.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated => "unauthenticated",
            AppError::Forbidden | AppError::NotShared => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Invalid(_) => "invalid_input",
            AppError::BadRequest(c) | AppError::Conflict(c) => c,
            AppError::BadJson(_) => "invalid_json",
            AppError::TooLarge => "payload_too_large",
            AppError::TooManyAttempts | AppError::Locked { .. } => "too_many_attempts",
            AppError::Unavailable => "unavailable",
            AppError::Busy { .. } => "busy",
            AppError::Internal => "internal",
        }
    }

    /// Seconds to send in `Retry-After`, for the errors that have one.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            AppError::Locked { retry_after_secs } | AppError::Busy { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        }
    }
}

/// Adds `Retry-After` to an answer when the error has one.
pub fn add_retry_after(resp: &mut Response, e: &AppError) {
    if let Some(secs) = e.retry_after_secs() {
        resp.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    fields: Option<&'a FieldErrors>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
}

tokio::task_local! {
    /// The language the API caller asked for, for the duration of its request.
    static API_LANG: crate::i18n::Lang;
}

/// The language of an API error's `message`: the caller's `Accept-Language`
/// ([`api_language`]); English when it names neither language (the API's
/// own default, as before) or outside a request.
pub fn api_lang() -> crate::i18n::Lang {
    API_LANG.try_with(|l| *l).unwrap_or(crate::i18n::Lang::En)
}

/// The preferred of Japanese and English in an `Accept-Language` header:
/// the one with the higher weight (`q`), the earlier on a tie; `None` when
/// it names neither (`*` is not a choice).
pub fn accept_language(header: &str) -> Option<crate::i18n::Lang> {
    let mut best: Option<(crate::i18n::Lang, u16)> = None;
    for part in header.split(',').take(32) {
        let mut pieces = part.split(';');
        let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
        let primary = tag.split('-').next().unwrap_or("");
        let Some(lang) = crate::i18n::Lang::parse(primary) else { continue };
        // q in thousandths: "q=0.8" → 800; a malformed weight counts as 1.
        let q = pieces
            .filter_map(|p| p.trim().strip_prefix("q="))
            .next()
            .and_then(|w| w.trim().parse::<f32>().ok())
            .filter(|w| (0.0..=1.0).contains(w))
            .map_or(1000, |w| (w * 1000.0).round() as u16);
        if q > 0 && best.is_none_or(|(_, b)| q > b) {
            best = Some((lang, q));
        }
    }
    best.map(|(l, _)| l)
}

/// Under the layer, an API error's `message` is in the caller's language.
pub async fn api_language(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let lang = req
        .headers()
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(accept_language)
        .unwrap_or(crate::i18n::Lang::En);
    API_LANG.scope(lang, next.run(req)).await
}

/// An error answered as JSON (the API).
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        let message = crate::i18n::t(api_lang(), &format!("err.{}", e.code()));
        let fields = match &e {
            AppError::Invalid(f) => Some(f),
            _ => None,
        };
        let detail = match &e {
            AppError::BadJson(d) => Some(d.as_str()),
            _ => None,
        };
        let body = ErrorBody { error: ErrorDetail { code: e.code(), message, fields, detail } };
        let mut resp = (e.status(), axum::Json(body)).into_response();
        add_retry_after(&mut resp, &e);
        if matches!(e, AppError::Unauthenticated) {
            resp.headers_mut()
                .insert(axum::http::header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

/// The policy's decision as a result: a denial is `Forbidden`, or
/// `NotShared` when the policy said so.
pub fn require(decision: tsunagu_domain::policy::Decision) -> Result<(), AppError> {
    use tsunagu_domain::policy::{Decision, DenyReason};
    match decision {
        Decision::Allow => Ok(()),
        Decision::Deny(DenyReason::NotShared) => Err(AppError::NotShared),
        Decision::Deny(_) => Err(AppError::Forbidden),
    }
}

/// The code of an error whose status the framework chose (405 for a wrong
/// method, say); each has words in `i18n`.
pub fn framework_error_code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "unauthenticated",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        422 => "invalid_input",
        429 => "too_many_attempts",
        503 => "unavailable",
        s if s >= 500 => "internal",
        _ => "bad_request",
    }
}

/// The JSON error for a status the framework chose, in the API's format
/// (see `edge::api_errors_as_json`).
pub fn api_error_for_status(status: StatusCode) -> Response {
    let code = framework_error_code(status);
    let message = crate::i18n::t(api_lang(), &format!("err.{code}"));
    let body = ErrorBody { error: ErrorDetail { code, message, fields: None, detail: None } };
    (status, axum::Json(body)).into_response()
}

/// The policy's decision as a proof to act on (`Requester::allowed` takes
/// it): a denial is `Forbidden`.
pub fn permit(
    actor: &tsunagu_domain::roles::Actor,
    action: tsunagu_domain::policy::Action,
    resource: &tsunagu_domain::policy::Resource<'_>,
) -> Result<tsunagu_domain::policy::Allowed, AppError> {
    tsunagu_domain::policy::permit(actor, action, resource).map_err(|reason| match reason {
        tsunagu_domain::policy::DenyReason::NotShared => AppError::NotShared,
        _ => AppError::Forbidden,
    })
}

/// [`permit`] on the caller's own municipality as a whole (lists, meetings,
/// accounts, the audit log).
pub fn permit_municipality(
    actor: &tsunagu_domain::roles::Actor,
    action: tsunagu_domain::policy::Action,
) -> Result<tsunagu_domain::policy::Allowed, AppError> {
    permit(actor, action, &tsunagu_domain::policy::Resource::Municipality(actor.municipality_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    /// Every code the API can answer with — the fixed ones, every
    /// `BadRequest("…")` / `Conflict("…")` literal of the web and the stores,
    /// the fee quote's codes and the framework's — has words in Japanese and
    /// in English (not the key shown for a missing one, not "?").
    #[test]
    fn every_api_error_code_has_words_in_both_languages() {
        use tsunagu_domain::postpartum::fees::QuoteError;
        use tsunagu_domain::postpartum::ServiceType;
        let mut codes: Vec<String> = [
            AppError::Unauthenticated,
            AppError::Forbidden,
            AppError::NotFound,
            AppError::Invalid(FieldErrors::default()),
            AppError::BadJson(String::new()),
            AppError::TooLarge,
            AppError::TooManyAttempts,
            AppError::Busy { retry_after_secs: 1 },
            AppError::Unavailable,
            AppError::Internal,
        ]
        .iter()
        .map(|e| e.code().to_owned())
        .collect();
        for e in [
            QuoteError::DaysOutOfRange { days: 0, max: 1 },
            QuoteError::BabiesOutOfRange { babies: 0, max: 1 },
            QuoteError::TooManySiblings { siblings: 2, max: 1 },
            QuoteError::SiblingsNotOffered { service: ServiceType::Outreach },
            QuoteError::AmountTooLarge,
        ] {
            codes.push(e.code().to_owned());
        }
        for status in 400..600 {
            codes.push(framework_error_code(StatusCode::from_u16(status).unwrap()).to_owned());
        }
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let mut literals = 0;
        for dir in ["tsunagu-web/src", "tsunagu-store/src", "tsunagu-store-sqlite/src", "tsunagu-store-postgres/src"] {
            let mut stack = vec![std::path::PathBuf::from(root).join(dir)];
            while let Some(path) = stack.pop() {
                if path.is_dir() {
                    stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                    continue;
                }
                if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for opener in ["BadRequest(\"", "Conflict(\""] {
                    for (at, _) in text.match_indices(opener) {
                        let rest = &text[at + opener.len()..];
                        let code: String = rest.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
                        if rest[code.len()..].starts_with('"') && !code.is_empty() {
                            codes.push(code);
                            literals += 1;
                        }
                    }
                }
            }
        }
        assert!(literals > 40, "the sources were read ({literals} literals)");
        codes.sort();
        codes.dedup();
        for code in &codes {
            let key = format!("err.{code}");
            for lang in [crate::i18n::Lang::Ja, crate::i18n::Lang::En] {
                let words = crate::i18n::t(lang, &key);
                assert!(words != key && words != "?" && !words.is_empty(), "{code} has no {} words", lang.code());
            }
        }
    }

    #[test]
    fn the_callers_language_by_weight() {
        assert_eq!(accept_language("ja"), Some(Lang::Ja));
        assert_eq!(accept_language("ja-JP,ja;q=0.9,en;q=0.8"), Some(Lang::Ja));
        assert_eq!(accept_language("en-US,en;q=0.9,ja;q=0.8"), Some(Lang::En));
        assert_eq!(accept_language("en;q=0.5, ja;q=0.7"), Some(Lang::Ja));
        assert_eq!(accept_language("fr, *;q=0.5"), None);
        assert_eq!(accept_language("ja;q=0, en"), Some(Lang::En));
        assert_eq!(accept_language(""), None);
    }
}
