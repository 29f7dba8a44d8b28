//! What every capability's JSON API shares: body and path extractors whose
//! rejections are our structured errors, and the JSON 404 for a path under
//! `/api/` that no route has. (The API's description is `openapi.rs`.)

use crate::base::error::{ApiError, AppError};
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::Json;
use serde::de::DeserializeOwned;

/// `Json<T>` whose rejections are our structured errors.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(AppError::BadRequest("unsupported_media_type").into()),
            Err(JsonRejection::BytesRejection(_)) => Err(AppError::TooLarge.into()),
            Err(e) => Err(AppError::BadJson(e.body_text()).into()),
        }
    }
}

/// `Path<T>` whose rejection is our structured error: a path parameter that
/// does not read as its type (`/families/abc`) names nothing there is, so
/// 404 as for an id that does not exist.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(ApiPath(v)),
            Err(PathRejection::MissingPathParams(_)) => {
                tracing::error!("route without the path parameters its handler reads");
                Err(AppError::Internal.into())
            }
            Err(_) => Err(AppError::NotFound.into()),
        }
    }
}

/// A path under `/api/` that no route has: the API's 404, never a page.
pub(crate) async fn not_found() -> ApiError {
    AppError::NotFound.into()
}
